"""The CLI through typer's runner: exit codes, one-line errors, files written or not."""

import json

import pytest
import yaml
from typer.testing import CliRunner

from cellscape.cli.app import app

runner = CliRunner()

X0, Y0 = 385_000.0, 6_671_000.0


def scenario_dict(**over):
    d = {
        "name": "tiny",
        "seed": 3,
        "environment": "UMa",
        "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 600, Y0 + 400], "resolution_m": 10},
        "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30, "dl_load_factor": 0.5},
        "sites": [
            {"site_id": "A", "x": X0 + 150, "y": Y0 + 200, "height_m": 25,
             "sectors": [{"azimuth_deg": 0, "tx_power_dbm": 46}, {"azimuth_deg": 120, "tx_power_dbm": 46},
                         {"azimuth_deg": 240, "tx_power_dbm": 46}]},
            {"site_id": "B", "x": X0 + 450, "y": Y0 + 200, "height_m": 25,
             "sectors": [{"azimuth_deg": 60, "tx_power_dbm": 46}]},
        ],
    }
    d.update(over)
    return d


def write(tmp_path, data, name="s.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data))
    return p


def test_validate_good_file(tmp_path):
    r = runner.invoke(app, ["validate", str(write(tmp_path, scenario_dict()))])
    assert r.exit_code == 0, r.output
    assert "ok:" in r.stdout and "n_prb=273" in r.stdout and "EPSG:32635" in r.stdout


def test_validate_bad_file_one_line_with_field_path(tmp_path):
    bad = scenario_dict()
    bad["sites"][0]["sectors"][1]["azimuth_deg"] = 400
    r = runner.invoke(app, ["validate", str(write(tmp_path, bad))])
    assert r.exit_code == 1
    assert r.stderr.startswith("error: sites[0].sectors[1].azimuth_deg")
    assert len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.output


def test_validate_bad_bandwidth_names_table(tmp_path):
    bad = scenario_dict(carrier={"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 15})
    r = runner.invoke(app, ["validate", str(write(tmp_path, bad))])
    assert r.exit_code == 1
    assert "38.101" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_run_writes_maps_and_kpis(tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(write(tmp_path, scenario_dict())), "-o", str(out)])
    assert r.exit_code == 0, r.output
    names = {p.name for p in out.iterdir()}
    assert {"coverage.tif", "best_sector.tif", "kpis.json", "rsrp_dbm.png", "sinr_db.png"} <= names
    assert not any(n.endswith(".partial") for n in names)
    k = json.loads((out / "kpis.json").read_text())
    assert k["meta"]["los_mode"] == "statistical"
    assert "SINR percentiles" in r.stdout


def test_run_bad_file_leaves_no_output(tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(write(tmp_path, scenario_dict(colour="red"))), "-o", str(out)])
    assert r.exit_code == 1
    assert r.stderr.startswith("error: colour") and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_missing_file_one_line(tmp_path):
    r = runner.invoke(app, ["run", str(tmp_path / "nope.yaml")])
    assert r.exit_code == 1
    assert r.stderr.startswith("error:") and "nope.yaml" in r.stderr


def test_pathloss_prints_both_states():
    r = runner.invoke(app, ["pathloss", "250", "--scenario", "UMa", "--fc-ghz", "3.5"])
    assert r.exit_code == 0, r.output
    assert "LOS" in r.stdout and "NLOS" in r.stdout


def test_pathloss_out_of_range_one_line():
    r = runner.invoke(app, ["pathloss", "250", "--fc-ghz", "200"])
    assert r.exit_code == 1
    assert r.stderr.startswith("error: fc_ghz=200 is outside")


def test_warnings_are_one_line(tmp_path, monkeypatch):
    import warnings

    import cellscape.pipeline as pipeline

    def noisy(scenario, grid):
        warnings.warn("repaired 2 invalid building footprint(s)", UserWarning, stacklevel=2)
        return None

    monkeypatch.setattr(pipeline, "load_footprints", noisy)
    r = runner.invoke(app, ["run", str(write(tmp_path, scenario_dict())), "-o", str(tmp_path / "o"), "--no-png"])
    assert r.exit_code == 0, r.output
    assert "warning: repaired 2 invalid building footprint(s)" in r.stderr
    assert "warnings.warn" not in r.stderr


def test_calibrate_writes_csv_and_compares(tmp_path):
    out = tmp_path / "calib"
    r = runner.invoke(app, ["calibrate", "--scenario", "UMa", "--fc-ghz", "6", "-o", str(out), "--n-drops", "3000"])
    assert r.exit_code == 0, r.output
    lines = (out / "calibration.csv").read_text().splitlines()
    assert lines[0] == "metric,percentile,value"
    assert any(line.startswith("coupling_loss_db,50,") for line in lines)
    assert "largest gap to the published median" in r.stdout


def test_validate_catches_heights_outside_the_model_range(tmp_path):
    bad = scenario_dict(receiver={"height_m": 1.0})
    r = runner.invoke(app, ["validate", str(write(tmp_path, bad))])
    assert r.exit_code == 1
    assert r.stderr.startswith("error: h_ut_m=1 is outside [1.5, 22.5]") and "Table 7.4.1-1" in r.stderr
