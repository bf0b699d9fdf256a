"""The link budget at a point agrees with the map engine at that pixel, for every LOS mode."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cellscape.coverage.engine import compute_coverage, prepare
from cellscape.coverage.point import link_budget_at, link_budget_on, pixel_of
from cellscape.errors import GeometryError
from cellscape.geo.grid import grid_for_bounds
from cellscape.scenario.records import GeometryOptions

from .conftest import X0, Y0, small_scenario

AGREE_DB = 0.05   # float32 maps (numba, fastmath) vs the float64 numpy kernel on one pixel: ~1e-4 dB apart


def _geometry(scenario):
    grid = grid_for_bounds(scenario.area.bounds, crs=scenario.area.crs, resolution_m=scenario.area.resolution_m)
    xy = np.array([[s.x, s.y] for s in scenario.sites])
    return grid, xy


def _buildings(side_m=1200.0, n=40, seed=1):
    rng = np.random.default_rng(seed)
    x = X0 + rng.uniform(50, side_m - 90, n)
    y = Y0 + rng.uniform(50, side_m - 90, n)
    w = rng.uniform(20, 60, n)
    geoms = [shapely.box(a, b, a + c, b + c) for a, b, c in zip(x, y, w)]
    return gpd.GeoDataFrame({"height_m": rng.uniform(8, 40, n)}, geometry=geoms, crs="EPSG:32635")


CASES = {
    "statistical": dict(los_mode="statistical", shadow=True, resolution_m=20.0),
    "nlos": dict(los_mode="nlos", shadow=True, resolution_m=20.0),
    "geometric": dict(los_mode="geometric", shadow=True, resolution_m=20.0),
    "geometric-bullington": dict(los_mode="geometric", shadow=True, resolution_m=20.0,
                                 geometry=GeometryOptions(diffraction="bullington")),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_point_equals_the_map_at_random_pixels(case, backend):
    sc = small_scenario(**CASES[case])
    grid, xy = _geometry(sc)
    fp = _buildings()
    res = compute_coverage(sc, grid, xy, footprints=fp, backend=backend)
    run = prepare(sc, grid, xy, footprints=fp)
    rng = np.random.default_rng(7)
    in_r, in_c = np.nonzero(res.indoor)
    pick = rng.choice(in_r.size, 8, replace=False)                # indoor pixels (O2I) and any pixels
    rows = np.concatenate([in_r[pick], rng.integers(0, grid.n_rows, 17)])
    cols = np.concatenate([in_c[pick], rng.integers(0, grid.n_cols, 17)])
    n_indoor = 0
    for r, c in zip(rows, cols):
        # anywhere inside the pixel: evaluated at its centre
        x = grid.x_min_m + (c + rng.uniform(0.05, 0.95)) * grid.resolution_m
        y = grid.y_max_m - (r + rng.uniform(0.05, 0.95)) * grid.resolution_m
        lb = link_budget_on(run, x, y, top=3)
        assert (lb["pixel"]["row"], lb["pixel"]["col"]) == (r, c)
        assert lb["rsrp_dbm"] == pytest.approx(float(res.rsrp_dbm[r, c]), abs=AGREE_DB)
        assert lb["sinr_db"] == pytest.approx(float(res.sinr_db[r, c]), abs=AGREE_DB)
        assert lb["sectors"][0]["rsrp_dbm"] == pytest.approx(lb["rsrp_dbm"], abs=1e-3)
        assert lb["serving_sector"] == res.sectors.sector_id[res.best_sector[r, c]]
        assert lb["indoor"] == bool(res.indoor[r, c])
        n_indoor += lb["indoor"]
        thr = float(res.throughput_bps[r, c]) / 1e6
        assert lb["throughput_mbps"] == pytest.approx(thr, rel=1e-4)
    assert 8 <= n_indoor < 25   # both kinds of pixel were checked


def test_terms_add_up_to_the_rsrp_and_follow_the_mode():
    sc = small_scenario(los_mode="geometric", shadow=True, resolution_m=20.0)
    grid, xy = _geometry(sc)
    fp = _buildings()
    lb = link_budget_at(sc, grid, xy, X0 + 600, Y0 + 600, footprints=fp, top=9)
    assert len(lb["sectors"]) == 9
    rsrp = [row["rsrp_dbm"] for row in lb["sectors"]]
    assert rsrp == sorted(rsrp, reverse=True)
    for row in lb["sectors"]:
        total = (row["tx_power_per_re_dbm"] + row["antenna_gain_dbi"] - row["path_loss_db"]
                 - row["shadow_fading_db"] - row["o2i_loss_db"])
        assert total == pytest.approx(row["rsrp_dbm"], abs=1e-6)
        assert 10.0 < row["path_loss_db"] < 200.0 and row["distance_2d_m"] > 0
    forced = small_scenario(los_mode="los", shadow=False, resolution_m=20.0)
    lb = link_budget_at(forced, grid, xy, X0 + 600, Y0 + 600, top=9)
    assert all(row["los"] and row["shadow_fading_db"] == 0.0 for row in lb["sectors"])


def test_a_point_outside_the_map_is_refused():
    sc = small_scenario(los_mode="nlos", resolution_m=20.0)
    grid, xy = _geometry(sc)
    with pytest.raises(GeometryError, match="outside the map area"):
        link_budget_at(sc, grid, xy, X0 - 10.0, Y0 + 100.0)
    with pytest.raises(GeometryError, match="outside the map area"):
        pixel_of(grid, float("nan"), Y0)
