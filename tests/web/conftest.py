"""Real folders for the web tests: the built-in Helsinki example at 10 m (`cellscape run`, ~5 s), a
tiny `cellscape simulate` folder (4 sectors, 3 buildings, 20 users, ~2 s), and live servers on them
(`cellscape serve --port 0` in a subprocess)."""

from __future__ import annotations

import json
import os
from pathlib import Path
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from cellscape.cli.app import app
from cellscape.geo.grid import transform_xy

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "helsinki.yaml"
COARSE_M = 10.0

SERVE_SCRIPT = """
import sys, typer
from cellscape.cli.serve_cmd import serve
cli = typer.Typer(add_completion=False)
cli.command()(serve)
cli(sys.argv[1:], prog_name="cellscape-serve")
"""


def coarse_helsinki(folder: Path, resolution_m: float = COARSE_M) -> Path:
    """examples/helsinki.yaml at a coarser resolution, written to ``folder`` (sites file made absolute)."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data["area"]["resolution_m"] = resolution_m
    data["sites_file"] = str(EXAMPLE.parent / data["sites_file"])
    path = folder / "helsinki-coarse.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("web-run")
    scenario = coarse_helsinki(folder)
    out = folder / "out"
    r = CliRunner().invoke(app, ["run", str(scenario), "-o", str(out), "--no-png", "--backend", "numba"])
    assert r.exit_code == 0, r.output
    return out


SIM_X0, SIM_Y0, SIM_CRS = 385_000.0, 6_671_000.0, "EPSG:32635"


def tiny_simulation(folder: Path) -> Path:
    """A simulation file (and its radio scenario and buildings) small enough for every test run: two
    sites, 4 sectors, three buildings, 12 static phones and 8 fast cars for 0.5 s on a 20 m grid.
    Handover (a neighbour 1 dB weaker triggers at once) and radio-link monitoring (out of sync below
    3 dB for 50 ms) are deliberately twitchy, so that handovers, ping-pongs and RLFs all occur."""
    feats = []
    blocks = [(SIM_X0 + 60, SIM_Y0 + 60, 12.0), (SIM_X0 + 260, SIM_Y0 + 300, 20.0), (SIM_X0 + 500, SIM_Y0 + 80, 9.0)]
    for x, y, h in blocks:
        lon, lat = transform_xy(np.array([x, x + 60, x + 60, x, x]), np.array([y, y, y + 40, y + 40, y]),
                                src_crs=SIM_CRS, dst_crs="EPSG:4326")
        feats.append({"type": "Feature", "properties": {"height_m": h},
                      "geometry": {"type": "Polygon", "coordinates": [np.column_stack([lon, lat]).tolist()]}})
    (folder / "blocks.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    radio = {"name": "tiny", "seed": 3, "environment": "UMa",
             "area": {"crs": SIM_CRS, "bounds": [SIM_X0, SIM_Y0, SIM_X0 + 600, SIM_Y0 + 400], "resolution_m": 10},
             "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30, "dl_load_factor": 0.5},
             "buildings": {"source": "blocks.geojson"},
             "sites": [{"site_id": "A", "x": SIM_X0 + 150, "y": SIM_Y0 + 200, "height_m": 25,
                        "sectors": [{"azimuth_deg": a, "tx_power_dbm": 46} for a in (0, 120, 240)]},
                       {"site_id": "B", "x": SIM_X0 + 450, "y": SIM_Y0 + 200, "height_m": 25,
                        "sectors": [{"azimuth_deg": 60, "tx_power_dbm": 46}]}]}
    (folder / "radio.yaml").write_text(yaml.safe_dump(radio))
    block = {"duration_s": 0.5, "warmup_s": 0.02, "resolution_m": 20,
             "handover": {"a3_offset_db": -1, "hysteresis_db": 0, "time_to_trigger_ms": 0, "l3_filter_k": 0},
             "rlf": {"qout_db": 3, "qin_db": 5, "t310_ms": 50, "reestablishment_ms": 20},
             "users": [{"name": "phones", "count": 12, "traffic": {"model": "full_buffer"}},
                       {"name": "cars", "count": 8, "mobility": {"model": "random_waypoint", "speed_kmh": [100, 150]},
                        "traffic": {"model": "ftp3", "arrival_rate_per_s": 1}}]}
    path = folder / "sim.yaml"
    path.write_text(yaml.safe_dump({"scenario": "radio.yaml", "name": "tiny-sim", "simulation": block}))
    return path


@pytest.fixture(scope="session")
def sim_dir(tmp_path_factory) -> Path:
    """The output folder of `cellscape simulate` on :func:`tiny_simulation`."""
    folder = tmp_path_factory.mktemp("web-sim")
    out = folder / "out"
    r = CliRunner().invoke(app, ["simulate", str(tiny_simulation(folder)), "-o", str(out), "--no-png"])
    assert r.exit_code == 0, r.output
    return out


def start_server(run_dir: Path, *extra: str, timeout_s: float = 60.0):
    """`cellscape serve RUN_DIR --port 0` in a subprocess; returns (process, base URL)."""
    env = {k: v for k, v in os.environ.items() if k != "CELLSCAPE_SERVE_TOKEN"}   # a developer's own token
    env["PYTHONUNBUFFERED"] = "1"
    log = tempfile.TemporaryFile(mode="w+")       # not a pipe: a chatty server must never block on it
    proc = subprocess.Popen([sys.executable, "-c", SERVE_SCRIPT, str(run_dir), "--port", "0", *extra],
                            stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    deadline = time.monotonic() + timeout_s
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("serving "):
            url = line.split(" at ", 1)[1].split()[0]
            return proc, url.rstrip("/")
        if proc.poll() is not None:
            break
    proc.kill()
    log.seek(0)
    raise RuntimeError(f"cellscape serve did not start: {line!r} {log.read()}")


def _served(folder):
    """Yield the URL of `cellscape serve FOLDER`, then stop the server."""
    proc, url = start_server(folder)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def live_server(run_dir):
    yield from _served(run_dir)


@pytest.fixture(scope="session")
def sim_server(sim_dir):
    yield from _served(sim_dir)
