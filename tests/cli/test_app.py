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

    import cellscape.pipeline.coverage as pipeline

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


def test_candidates_writes_a_site_file_the_scenario_reads(tmp_path):
    import geopandas as gpd
    import shapely

    b = gpd.GeoDataFrame({"height": ["21", "9", "30"]}, crs="EPSG:32635", geometry=[
        shapely.box(X0 + 50, Y0 + 50, X0 + 90, Y0 + 90), shapely.box(X0 + 200, Y0 + 50, X0 + 240, Y0 + 90),
        shapely.box(X0 + 400, Y0 + 200, X0 + 430, Y0 + 230)])
    b.to_file(tmp_path / "b.geojson")
    scen = write(tmp_path, scenario_dict(buildings={"source": "b.geojson"}))
    out = tmp_path / "cand" / "c.csv"
    r = runner.invoke(app, ["candidates", str(scen), "-o", str(out), "--mast-m", "4"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("2 rooftop candidates")
    feats = json.loads(out.with_suffix(".geojson").read_text())["features"]
    assert sorted(f["properties"]["roof_height_m"] for f in feats) == [21.0, 30.0]
    # the CSV is a site file: a scenario can use it as it is
    used = scenario_dict(buildings={"source": "b.geojson"}, sites_file="cand/c.csv")
    del used["sites"]
    r = runner.invoke(app, ["validate", str(write(tmp_path, used, "u.yaml"))])
    assert r.exit_code == 0, r.output
    assert "sites=2" in r.stdout and "sectors=6" in r.stdout


def test_candidates_errors_are_one_line(tmp_path):
    r = runner.invoke(app, ["candidates", str(write(tmp_path, scenario_dict())), "-o", str(tmp_path / "c.csv")])
    assert r.exit_code == 1 and "has no buildings" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = runner.invoke(app, ["candidates", str(write(tmp_path, scenario_dict())), "-o", str(tmp_path / "c.txt")])
    assert r.exit_code == 1 and "written as a .csv site file" in r.stderr


def test_run_geometric_writes_los_probability(tmp_path):
    import geopandas as gpd
    import shapely

    b = gpd.GeoDataFrame({"height_m": [30.0, 20.0]}, crs="EPSG:32635", geometry=[
        shapely.box(X0 + 250, Y0 + 100, X0 + 350, Y0 + 300), shapely.box(X0 + 20, Y0 + 20, X0 + 80, Y0 + 80)])
    b.to_file(tmp_path / "b.gpkg")
    scen = write(tmp_path, scenario_dict(los_mode="geometric", buildings={"source": "b.gpkg"},
                                         geometry={"diffraction": "bullington"}))
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(scen), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "los_probability.csv").read_text().startswith("environment,d2d_m,n_links,empirical,tr38901\nUMa,5,")
    assert (out / "los_probability.png").stat().st_size > 1000
    k = json.loads((out / "kpis.json").read_text())
    assert k["meta"]["los_mode"] == "geometric" and k["meta"]["diffraction"].startswith("ITU-R P.526-15")
    assert 0 < k["line_of_sight"]["UMa"]["los_fraction"] < 1


def test_run_with_terrain_and_a_terrain_error(tmp_path):
    import numpy as np
    import rasterio
    from rasterio.transform import Affine

    # a 60 m ridge running north-south at x = X0 + 300 across the 600 m x 400 m map, 10 m DEM
    x = X0 - 100 + (np.arange(80) + 0.5) * 10.0
    elev = (100.0 + np.clip(60.0 - 0.6 * np.abs(x - (X0 + 300)), 0.0, None)).astype(np.float32)
    with rasterio.open(tmp_path / "dem.tif", "w", driver="GTiff", width=80, height=60, count=1, dtype="float32",
                       crs="EPSG:32635", transform=Affine(10.0, 0.0, X0 - 100, 0.0, -10.0, Y0 + 500)) as dst:
        dst.write(np.tile(elev, (60, 1)), 1)
    scen = write(tmp_path, scenario_dict(los_mode="geometric", terrain={"source": "dem.tif"}))
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(scen), "-o", str(out), "--no-png"])
    assert r.exit_code == 0, r.output
    k = json.loads((out / "kpis.json").read_text())
    assert k["meta"]["los_geometry"] == "terrain" and 0 < k["line_of_sight"]["UMa"]["los_fraction"] < 1
    # a DEM that misses the map is one clear line
    with rasterio.open(tmp_path / "far.tif", "w", driver="GTiff", width=5, height=5, count=1, dtype="float32",
                       crs="EPSG:32635", transform=Affine(10.0, 0.0, X0 + 5000, 0.0, -10.0, Y0)) as dst:
        dst.write(np.zeros((5, 5), np.float32), 1)
    r = runner.invoke(app, ["run", str(write(tmp_path, scenario_dict(los_mode="geometric", terrain={"source": "far.tif"}),
                                             "far.yaml")), "-o", str(tmp_path / "o2")])
    assert r.exit_code == 1 and "does not cover the map area" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
