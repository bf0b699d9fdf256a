"""``cellscape sense`` end to end on the tiny scenario of test_app.py."""

import csv
import json

import numpy as np
import yaml
from typer.testing import CliRunner

from cellscape.cli.app import app
from cellscape.io.coverage_outputs import read_scenario_json
from cellscape.io.geotiff import read_geotiff
from cellscape.io.sensing_outputs import BISTATIC_BANDS, SENSING_BANDS, TRADEOFF_COLUMNS

from ..sensing.test_sense_pipeline import scenario_dict as pipeline_scenario_dict

runner = CliRunner()


def scenario_dict(mode=None, **over):
    """The sensing tests' tiny scenario (tests/sensing/test_sense_pipeline.py) with a short share sweep."""
    sensing = {"target": "human", "share_sweep": [0, 0.1, 0.5]}
    if mode is not None:
        sensing["mode"] = mode
    return pipeline_scenario_dict(sensing=sensing, **over)


def write(tmp_path, data):
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_sense_writes_all_files(tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["sense", str(write(tmp_path, scenario_dict())), "-o", str(out), "--backend", "numpy"])
    assert r.exit_code == 0, r.output
    names = {p.name for p in out.iterdir()}
    assert names == {"sensing.tif", "sensing_kpis.json", "sensing_tradeoff.csv", "scenario.json",
                     "sensing_snr.png", "detection_probability.png"}
    bands, grid = read_geotiff(out / "sensing.tif")
    assert tuple(bands) == SENSING_BANDS and grid.crs == "EPSG:32635" and grid.shape == (40, 60)
    pd = bands["detection_probability"]
    assert np.nanmin(pd) >= 0 and np.nanmax(pd) <= 1
    k = json.loads((out / "sensing_kpis.json").read_text())
    assert k["target"] == "human" and k["mode"] == "monostatic" and 0 < k["monostatic"]["sensed_area_fraction"] < 1
    rows = list(csv.DictReader((out / "sensing_tradeoff.csv").open()))
    assert tuple(rows[0]) == TRADEOFF_COLUMNS and len(rows) == 3
    assert float(rows[0]["sensed_area_km2"]) == 0.0 and rows[0]["processing_gain_db"] == "-inf"
    assert float(rows[2]["sensed_area_km2"]) >= float(rows[1]["sensed_area_km2"]) > 0
    assert read_scenario_json(out / "scenario.json").name == "tiny"
    assert json.loads((out / "scenario.json").read_text())["sensing"]["target"] == "human"
    assert "monostatic: Pd >= 0.9:" in r.stdout and "trade-off" in r.stdout


def test_sense_both_modes_writes_both_sets(tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["sense", str(write(tmp_path, scenario_dict(mode="both"))), "-o", str(out),
                            "--backend", "numpy", "--no-png"])
    assert r.exit_code == 0, r.output
    names = {p.name for p in out.iterdir()}
    assert names == {"sensing.tif", "sensing_bistatic.tif", "sensing_kpis.json", "sensing_tradeoff.csv",
                     "sensing_tradeoff_bistatic.csv", "scenario.json"}
    bands, _ = read_geotiff(out / "sensing_bistatic.tif")
    assert tuple(bands) == BISTATIC_BANDS
    n = bands["n_pairs_detecting"]
    assert np.nanmax(n) <= 2 and np.nanmin(n) >= 0                       # 2 sites: 2 ordered pairs
    rres = bands["range_resolution_m"]
    assert np.nanmin(rres) >= 299_792_458.0 / (2 * 3276 * 30e3) - 1e-6   # never finer than monostatic
    k = json.loads((out / "sensing_kpis.json").read_text())
    assert k["mode"] == "both" and k["bistatic"]["n_pairs"] == 2 and "monostatic" in k
    doc = json.loads((out / "scenario.json").read_text())["sensing"]
    assert doc["mode"] == "both" and doc["max_baseline_m"] == 1000.0
    assert "bistatic: Pd >= 0.9:" in r.stdout and "2 TRP pairs within 1000 m" in r.stdout


def test_sense_without_sensing_block_one_line(tmp_path):
    d = scenario_dict()
    del d["sensing"]
    out = tmp_path / "out"
    r = runner.invoke(app, ["sense", str(write(tmp_path, d)), "-o", str(out)])
    assert r.exit_code == 1
    assert r.stderr.startswith("error: sensing: the scenario has no sensing: block; add one, e.g.")
    assert len(r.stderr.strip().splitlines()) == 1 and not out.exists()


def test_run_accepts_a_scenario_with_sensing_block(tmp_path):
    r = runner.invoke(app, ["validate", str(write(tmp_path, scenario_dict()))])
    assert r.exit_code == 0, r.output
