"""A real run folder for the web tests: the built-in Helsinki example at 10 m (`cellscape run`, ~5 s),
and a live server on it (`cellscape serve --port 0` in a subprocess)."""

from __future__ import annotations

import os
from pathlib import Path
import subprocess
import sys
import tempfile
import time

import pytest
import yaml
from typer.testing import CliRunner

from cellscape.cli.app import app

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


def start_server(run_dir: Path, *extra: str, timeout_s: float = 60.0):
    """`cellscape serve RUN_DIR --port 0` in a subprocess; returns (process, base URL)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
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


@pytest.fixture(scope="session")
def live_server(run_dir):
    proc, url = start_server(run_dir)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
