"""``cellscape assess`` end to end through a throwaway Typer app: files, the outage table against
the library's N-1, a plan folder's fibre and data centre, and one-line errors."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import typer
import yaml
from typer.testing import CliRunner

from cellscape.cli.assess_cmd import assess
from cellscape.coverage.engine import sector_maps
from cellscape.geo.grid import transform_xy
from cellscape.io.assess_outputs import JAMMING_BANDS, OUTAGE_COLUMNS, ROGUE_BANDS
from cellscape.io.coverage_outputs import write_scenario_json
from cellscape.io.geotiff import read_geotiff
from cellscape.pipeline.coverage import localize
from cellscape.resilience.outage import CoverageCriterion, NetworkMaps, n_minus_1
from cellscape.scenario.model import parse_scenario

X0, Y0 = 385_000.0, 6_671_000.0
app = typer.Typer()
app.command()(assess)
runner = CliRunner()


def scenario_dict():
    pos = {"A": (150, 150), "B": (450, 150), "C": (150, 350), "D": (450, 350)}
    return {"name": "four", "seed": 2, "environment": "UMa",
            "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 600, Y0 + 500], "resolution_m": 20},
            "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 20, "scs_khz": 30},
            "sites": [{"site_id": s, "x": X0 + x, "y": Y0 + y, "height_m": 25,
                       "sectors": [{"azimuth_deg": a, "tx_power_dbm": 40 + i} for a in (0, 120, 240)]}
                      for i, (s, (x, y)) in enumerate(pos.items())]}


ASSESS = {"assess": {"coverage": {"rsrp_min_dbm": -90}, "k": 3, "self_heal_cases": 1, "max_evaluations": 15,
                     "users_per_km2": 2000,
                     "jammers": [{"x": X0 + 300, "y": Y0 + 250, "tx_power_dbm": 30, "bandwidth_mhz": 10, "height_m": 15}],
                     "rogue_cells": [{"x": X0 + 300, "y": Y0 + 50, "tx_power_dbm": 30, "height_m": 12, "name": "van"}]}}


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data))
    return p


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("assess")
    s, a, out = write(tmp, "s.yaml", scenario_dict()), write(tmp, "a.yaml", ASSESS), tmp / "out"
    r = runner.invoke(app, [str(s), "--assess", str(a), "-o", str(out), "--backend", "numpy"])
    assert r.exit_code == 0, r.output
    return out, r


def test_assess_writes_all_files(folder):
    out, r = folder
    names = {p.name for p in out.iterdir()}
    assert {"outages.parquet", "outages_worst.tif", "jamming.tif", "rogue.tif", "assess.json", "assess.md",
            "scenario.json", "jamming_dl_denied.png", "jamming_ul_sinr_degradation.png", "rogue_camped.png"} <= names
    assert any(n.startswith("outage_") and n.endswith(".png") for n in names)
    bands, grid = read_geotiff(out / "jamming.tif")
    assert tuple(bands) == JAMMING_BANDS and grid.shape == (25, 30)
    assert np.nanmin(bands["dl_sinr_degradation_db"]) >= -1e-3 and np.nanmax(bands["dl_sinr_degradation_db"]) > 1
    assert tuple(read_geotiff(out / "rogue.tif")[0]) == ROGUE_BANDS
    k = json.loads((out / "assess.json").read_text())
    assert k["sites"] == 4 and k["rogue"]["per_cell"]["van"]["camped_area_km2"] > 0
    assert "N-1 worst:" in r.stdout and "rogue cells:" in r.stdout
    md = (out / "assess.md").read_text()
    assert md.startswith("# Resilience and security: four") and "## Jamming" in md and "## N-k" in md


def test_outage_table_is_the_library_n1(folder):
    out, _ = folder
    t = pq.read_table(out / "outages.parquet").to_pydict()
    assert tuple(t) == OUTAGE_COLUMNS
    sc = parse_scenario(scenario_dict())
    grid, xy = localize(sc)
    net = NetworkMaps.from_sector_maps(sector_maps(sc, grid, xy, backend="numpy"), load_factor=1.0)
    demand = np.full(net.n_pixels, 2000 * 4e-4)
    table = n_minus_1(net, CoverageCriterion(rsrp_min_dbm=-90.0), demand)
    sites = [i for i, kind in enumerate(t["kind"]) if kind == "site"]
    assert [t["name"][i] for i in sites] == [net.site_ids[i] for i in table.ranking()]
    assert [t["users_lost"][i] for i in sites] == pytest.approx(table.demand_lost[table.ranking()].tolist())
    assert [t["name"][i] for i, kind in enumerate(t["kind"]) if kind == "n-k"] == ["N-2", "N-3"]
    assert t["healed_neighbours"][sites[0]] != ""                    # the worst one was healed


def test_plan_folder_fibre_and_data_centre(tmp_path):
    sc = parse_scenario(scenario_dict())
    plan = tmp_path / "plan"
    plan.mkdir()
    write_scenario_json(plan / "scenario.json", sc)
    lon, lat = transform_xy(np.array([s.x for s in sc.sites]), np.array([s.y for s in sc.sites]),
                            src_crs="EPSG:32635", dst_crs="EPSG:4326")
    ll = {s.site_id: [float(lon[i]), float(lat[i])] for i, s in enumerate(sc.sites)}
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": ll[s]},
              "properties": {"layer": "site", "site_id": s}} for s in ll]
    feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": ll["A"]},
                  "properties": {"layer": "data_center", "name": "A"}})
    for a, b in (("A", "B"), ("A", "C"), ("C", "D")):
        feats.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [ll[a], ll[b]]},
                      "properties": {"layer": "fiber", "length_m": 300.0, "ring_extra": False}})
    (plan / "plan.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    out = tmp_path / "out"
    r = runner.invoke(app, [str(write(tmp_path, "s.yaml", scenario_dict())), "--plan", str(plan), "-o", str(out),
                            "--backend", "numpy", "--no-png"])
    assert r.exit_code == 0, r.output
    t = pq.read_table(out / "outages.parquet").to_pydict()
    down = {t["name"][i]: set(t["sites"][i].split(",")) - {""} for i, k in enumerate(t["kind"])
            if k in ("fiber", "data_center")}
    assert down == {"fiber-1": {"B"}, "fiber-2": {"C", "D"}, "fiber-3": {"D"}, "A": {"A", "B", "C", "D"}}
    k = json.loads((out / "assess.json").read_text())
    dc = [row for row in k["backhaul"] if row["kind"] == "data_center"][0]
    assert dc["demand_lost"] == pytest.approx(k["coverage"]["covered_users"])     # every site down: all lost
    assert "the plan's network" in r.stdout and "backhaul: 4 cases, 4 take sites down" in r.stdout


def test_errors_are_one_line(tmp_path):
    s = write(tmp_path, "s.yaml", scenario_dict())
    bad = write(tmp_path, "a.yaml", {"assess": {"jammers": [{"x": 0, "y": 0, "tx_power_dbm": 30, "bandwidth_mhz": -1,
                                                             "height_m": 15}]}})
    r = runner.invoke(app, [str(s), "--assess", str(bad), "-o", str(tmp_path / "o")])
    assert r.exit_code == 1
    assert r.stderr.startswith("error: assess.jammers[0].bandwidth_mhz: Input should be greater than 0")
    assert len(r.stderr.strip().splitlines()) == 1
    extra = write(tmp_path, "b.yaml", {"assess": {}, "sites": []})
    r = runner.invoke(app, [str(s), "--assess", str(extra), "-o", str(tmp_path / "o")])
    assert r.exit_code == 1 and "sites: unknown key in an assess file" in r.stderr
    r = runner.invoke(app, [str(s), "--plan", str(tmp_path / "nowhere"), "-o", str(tmp_path / "o")])
    assert r.exit_code == 1 and "--plan takes a folder written by `cellscape plan`" in r.stderr


def test_the_helsinki_example_block_is_valid():
    from pathlib import Path

    from cellscape.io.assess_inputs import read_assess_file

    a = read_assess_file(Path(__file__).parents[2] / "examples" / "helsinki-assess.yaml")
    assert a.k == 3 and a.jammers[0].name == "rooftop-jammer" and a.rogue_cells[0].environment == "UMi"
