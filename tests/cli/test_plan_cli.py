"""`cellscape plan` end to end on a tiny synthetic city: files written, figures consistent,
one-line errors (a candidate outside the area, an unreachable target)."""

import json

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from cellscape.cli.app import app

from .test_app import X0, Y0, scenario_dict, write

runner = CliRunner()


def plan_files(tmp_path, **plan_over):
    sc = scenario_dict(area={"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 1200, Y0 + 900], "resolution_m": 20},
                       los_mode="nlos", shadow_fading=False)
    write(tmp_path, sc)
    plan = {"existing_sites": ["A"], "candidates": {"grid": {"spacing_m": 300, "height_m": 25}},
            "demand": {"outdoor_users_per_km2": 500, "rate_mbps": 0.2,
                       "hotspots": [{"x": X0 + 900, "y": Y0 + 600, "radius_m": 80, "users": 100}]},
            "costs": {"new_site": 100, "fiber_per_km": 10},
            "targets": {"rsrp_dbm": -95, "coverage": [{"of": "outdoor_area", "fraction": 0.9},
                                                      {"of": "demand", "fraction": 0.9}],
                        "sinr_db": -5, "sinr_fraction": 0.5, "max_sector_load": 0.8},
            "tuning": {"enabled": True, "max_evaluations": 6}, "time_limit_s": 20}
    plan.update(plan_over)
    return write(tmp_path, {"name": "tiny-plan", "scenario": "s.yaml", "plan": plan}, name="p.yaml")


def test_plan_writes_every_file_and_remeasures(tmp_path):
    p = plan_files(tmp_path)
    out = tmp_path / "out"
    r = runner.invoke(app, ["plan", str(p), "-o", str(out)])
    assert r.exit_code == 0, r.output
    names = {f.name for f in out.iterdir()}
    assert {"plan.geojson", "rollout.csv", "rollout.png", "plan.json", "plan.md", "plan.html", "rsrp_before.png",
            "rsrp_after.png", "coverage_after.tif"} <= names
    assert not [n for n in names if n.endswith(".partial")]
    s = json.loads((out / "plan.json").read_text())
    m, g = s["milp"], s["greedy"]
    assert m["bound"] <= m["cost"] + 1e-9 and m["cost"] <= g["cost"] + 1e-9        # MILP no dearer than greedy
    # the optimiser's RSRP sets and the engine's own map agree: same tables, same fields (site_keys)
    after = s["after"]["coverage"]
    assert after["outdoor_area"] >= 0.9 - 1e-9 and after["demand"] >= 0.9 - 1e-9
    assert [t["met"] for t in s["targets_after"]][:2] == [True, True]
    gj = json.loads((out / "plan.geojson").read_text())
    layers = {f["properties"]["layer"] for f in gj["features"]}
    assert {"site", "sector", "data_center"} <= layers
    sites = [f for f in gj["features"] if f["properties"]["layer"] == "site"]
    assert len(sites) == m["sites"] and any(f["properties"]["status"] == "existing" for f in sites)
    rows = (out / "rollout.csv").read_text().splitlines()
    assert rows[0].startswith("phase,sites,cost,cumulative_cost") and len(rows) >= 2
    cum = [float(r.split(",")[3]) for r in rows[1:]]
    assert cum == sorted(cum) and cum[-1] == pytest.approx(m["cost"])
    assert s["tuning"]["after"] >= s["tuning"]["before"]
    assert "Fibre backhaul" in (out / "plan.md").read_text()
    assert "MILP" in r.output and "re-measured" in r.output


def test_candidate_outside_the_area_is_one_line(tmp_path):
    (tmp_path / "c.csv").write_text(f"site_id,x,y,height_m,azimuth_deg\nFAR,{X0 + 5000},{Y0 + 100},30,0\n")
    p = plan_files(tmp_path, candidates={"file": "c.csv"})
    r = runner.invoke(app, ["plan", str(p), "-o", str(tmp_path / "o")])
    assert r.exit_code != 0
    assert r.output.strip().count("\n") == 0 and "'FAR'" in r.output and "outside the map area" in r.output
    assert not (tmp_path / "o").exists()


def test_unreachable_target_names_the_binding_target(tmp_path):
    p = plan_files(tmp_path, targets={"rsrp_dbm": -60, "coverage": [{"of": "outdoor_area", "fraction": 0.99}]})
    r = runner.invoke(app, ["plan", str(p), "-o", str(tmp_path / "o")])
    assert r.exit_code != 0 and r.output.strip().count("\n") == 0
    assert "outdoor_area" in r.output and "99" in r.output and "cannot be reached" in r.output


def test_capacity_rounds_run_when_the_busiest_sector_is_over_the_target(tmp_path):
    # heavy traffic: the coverage-only plan overloads a sector, capacity rounds follow and are reported
    p = plan_files(tmp_path, demand={"outdoor_users_per_km2": 5000, "rate_mbps": 5.0},
                   targets={"rsrp_dbm": -95, "coverage": [{"of": "outdoor_area", "fraction": 0.8}],
                            "max_sector_load": 0.5},
                   tuning={"enabled": False}, capacity_rounds=2, serving_candidates=3)
    out = tmp_path / "out"
    r = runner.invoke(app, ["plan", str(p), "-o", str(out)])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "plan.json").read_text())
    rounds = s["capacity_rounds"]
    assert rounds[0]["model"] == "coverage" and rounds[0]["max_sector_load"] > 0.5
    assert len(rounds) >= 2 and rounds[1].get("model", "coverage + capacity") == "coverage + capacity" or \
        rounds[1]["status"].startswith("infeasible")
    load_row = [t for t in s["targets_after"] if t["target"] == "busiest sector load"][0]
    assert load_row["met"] == (load_row["measured"] <= 0.5 + 1e-9)
    assert "Capacity rounds" in (out / "plan.md").read_text()


def test_budget_binds_max_coverage(tmp_path):
    # a budget for one new site: the plan spends at most that and covers no less than greedy
    p = plan_files(tmp_path, budget=100, tuning={"enabled": False},
                   targets={"rsrp_dbm": -95, "coverage": [{"of": "outdoor_area", "fraction": 0.9}]})
    out = tmp_path / "out"
    r = runner.invoke(app, ["plan", str(p), "-o", str(out)])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "plan.json").read_text())
    assert s["milp"]["cost"] <= 100 + 1e-9 and s["milp"]["new_sites"] <= 1
    assert s["milp"]["covered_fraction"] >= s["greedy"]["covered_fraction"] - 1e-9
    assert s["milp"]["bound"] >= s["milp"]["objective"] - 1e-9          # an upper bound on covered weight


def test_plan_with_a_demand_raster(tmp_path):
    import rasterio
    from rasterio.transform import Affine

    with rasterio.open(tmp_path / "users.tif", "w", driver="GTiff", width=12, height=9, count=1, dtype="float32",
                       crs="EPSG:32635", transform=Affine(100.0, 0, X0, 0, -100.0, Y0 + 900)) as dst:
        dst.write(np.full((9, 12), 3.0, np.float32), 1)
    p = plan_files(tmp_path, demand={"outdoor_users_per_km2": 0, "indoor_users_per_km2": 0, "raster": "users.tif",
                                     "rate_mbps": 0.1}, tuning={"enabled": False})
    out = tmp_path / "out"
    r = runner.invoke(app, ["plan", str(p), "-o", str(out)])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "plan.json").read_text())
    assert s["users"] == pytest.approx(9 * 12 * 3.0, rel=1e-6)


@pytest.mark.slow
def test_helsinki_plan_example_meets_its_targets(tmp_path):
    # the built-in example end to end (~1 min): real buildings, streets, geometric LOS, tuning
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "helsinki-plan.yaml"
    out = tmp_path / "plan"
    r = runner.invoke(app, ["plan", str(example), "-o", str(out)])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "plan.json").read_text())
    assert all(t["met"] for t in s["targets_after"])
    assert s["milp"]["cost"] <= s["greedy"]["cost"] + 1e-9
    assert s["fiber"]["routing"].startswith("OSM streets") and s["fiber"]["length_km"] > 1.0
    assert s["tuning"]["after"] >= s["tuning"]["before"]


def test_plan_folder_scenario_gives_the_link_budget_of_its_map(tmp_path):
    # scenario.json of a plan holds the planned network with its site keys: a clicked point's link
    # budget equals the plan's own coverage_after.tif there (same fields, same tables)
    from cellscape.coverage.point import link_budget_at
    from cellscape.io.coverage_outputs import read_scenario_json
    from cellscape.io.geotiff import read_geotiff
    from cellscape.pipeline import localize

    p = plan_files(tmp_path, tuning={"enabled": False})
    sc = yaml.safe_load(p.read_text())
    base = yaml.safe_load((tmp_path / "s.yaml").read_text())
    base["shadow_fading"] = True                        # shadowing on: the keys matter
    base["los_mode"] = "statistical"
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(base))
    out = tmp_path / "out"
    r = runner.invoke(app, ["plan", str(p), "-o", str(out)])
    assert r.exit_code == 0, r.output
    net = read_scenario_json(out / "scenario.json")
    assert net.site_keys is not None and len(net.site_keys) == len(net.sites)
    bands, grid = read_geotiff(out / "coverage_after.tif")
    g, xy = localize(net)
    rng = np.random.default_rng(0)
    for _ in range(5):
        row, col = int(rng.integers(grid.n_rows)), int(rng.integers(grid.n_cols))
        lb = link_budget_at(net, g, xy, float(grid.x_centers_m()[col]), float(grid.y_centers_m()[row]))
        assert lb["rsrp_dbm"] == pytest.approx(float(bands["rsrp_dbm"][row, col]), abs=0.05)
        assert lb["sinr_db"] == pytest.approx(float(bands["sinr_db"][row, col]), abs=0.05)
    assert sc["name"] == "tiny-plan"
