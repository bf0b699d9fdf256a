"""UAV targets in ``cellscape sense`` (issue 13): above the TR 38.901 UT range the map engine takes the
TR 36.777 Annex B aerial models (cellscape.coverage.tables), so a UAV at 50/100/300 m is mapped; the
target is outdoor (a UAV above the roofs), and heights without a model are refused with the field path."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

import cellscape.pipeline.sense as sense
from cellscape.coverage.engine import sector_maps
from cellscape.errors import ScenarioError
from cellscape.pipeline.coverage import localize
from cellscape.pipeline.sense import run_sense, sensing_scenario
from cellscape.scenario.model import parse_scenario
from cellscape.scenario.sensing import parse_sensing

X0, Y0 = 385_000.0, 6_671_000.0


def scenario_dict(target_height_m, **over):
    d = {
        "name": "uav", "seed": 7, "environment": "UMa", "shadow_fading": False,
        "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 600, Y0 + 400], "resolution_m": 10},
        "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30},
        "sites": [
            {"site_id": "A", "x": X0 + 150, "y": Y0 + 200, "height_m": 25,
             "sectors": [{"azimuth_deg": a, "tx_power_dbm": 46} for a in (0, 120, 240)]},
            {"site_id": "B", "x": X0 + 450, "y": Y0 + 200, "height_m": 25,
             "sectors": [{"azimuth_deg": 60, "tx_power_dbm": 46}]},
        ],
        "sensing": {"target": "uav_small", "target_height_m": target_height_m},
    }
    d.update(over)
    return d


def sensing_of(d):
    return parse_sensing(d, parse_scenario(d))


def los_share(s):
    """Share of the site-pixel links that the engine draws LOS (statistical LOS, TR 38.901 / Annex B)."""
    scen = sensing_scenario(s)
    grid, xy = localize(scen)
    return float(sector_maps(scen, grid, xy, backend="numpy").los.mean())


def test_uav_at_100_m_has_finite_snr_and_more_los_than_at_1_5_m():
    ground = sensing_of(scenario_dict(1.5))
    uav = sensing_of(scenario_dict(100.0))
    run = run_sense(uav, backend="numpy")
    snr = run.maps["monostatic"].sensing_snr_db
    assert np.all(np.isfinite(snr)) and np.all(np.isfinite(run.maps["monostatic"].detection_probability))
    assert run.kpis["target_height_m"] == 100.0
    low, high = los_share(ground), los_share(uav)
    # UMa at 1.5 m: P_LOS = 18/d + exp(-d/63)(1 - 18/d), ~0.1 at 200 m; UMa-AV at 100 m: d1 = 220 m,
    # p1 = 4800 m, ~0.97 at 400 m
    assert high > 0.9 and low < 0.5 and high > low + 0.4


@pytest.mark.parametrize("h", [50.0, 300.0])
def test_uav_heights_up_to_300_m_are_mapped(h):
    run = run_sense(sensing_of(scenario_dict(h)), backend="numpy")
    assert np.all(np.isfinite(run.maps["monostatic"].sensing_snr_db))


def test_uav_over_buildings_is_a_target_everywhere(monkeypatch):
    # targets under a roof are no target positions at 1.5 m (NaN); a UAV at 100 m flies above the
    # 30 m block: every pixel is a target, with no O2I loss (cellscape.coverage.tables docstring)
    def block(scenario, grid):
        return gpd.GeoDataFrame({"height_m": [30.0]}, geometry=[shapely.box(X0 + 250, Y0 + 100, X0 + 350, Y0 + 300)],
                                crs=grid.crs)

    monkeypatch.setattr(sense, "load_footprints", block)
    over = dict(los_mode="geometric", geometry={"los_range_m": 2000.0}, buildings={"source": "block.gpkg"})
    ground = run_sense(sensing_of(scenario_dict(1.5, **over)), backend="numpy")
    uav = run_sense(sensing_of(scenario_dict(100.0, **over)), backend="numpy")
    assert np.isnan(ground.maps["monostatic"].sensing_snr_db).sum() == 200     # 10 x 20 pixels under the roof
    assert ground.kpis["outdoor_area_km2"] == pytest.approx(0.22)
    assert np.all(np.isfinite(uav.maps["monostatic"].sensing_snr_db))
    assert uav.kpis["outdoor_area_km2"] == pytest.approx(0.24)


def test_heights_without_a_model_name_the_field_and_range():
    with pytest.raises(ScenarioError, match=r"^sensing\.target_height_m: Input should be less than or equal to 300"):
        sensing_of(scenario_dict(301.0))
    inh = scenario_dict(50.0, environment="InH-office-mixed")
    for site in inh["sites"]:
        site["height_m"] = 3
    with pytest.raises(ScenarioError, match=r"^sensing\.target_height_m: h_ut_m=50 is outside .*RMa, UMa and UMi"):
        run_sense(sensing_of(inh), backend="numpy")


def test_pruning_is_exact_for_a_uav():
    # the per-block pruning bounds (interference cutoff) read the same aerial tables as the maps
    s = sensing_of(scenario_dict(100.0, sensing={"target": "uav_small", "target_height_m": 100.0, "mode": "both"}))
    pruned = run_sense(s, backend="numpy")
    full = run_sense(s, backend="numpy", prune=False)
    for mode in ("monostatic", "bistatic"):
        np.testing.assert_array_equal(pruned.maps[mode].sensing_snr_db, full.maps[mode].sensing_snr_db)
