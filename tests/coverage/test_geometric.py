"""The engine with los_mode geometric: LOS from the buildings, diffraction, tiles, statistics."""

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cellscape.coverage import tables
from cellscape.coverage.engine import compute_coverage, prepare, tile_diffraction_parameter
from cellscape.errors import GeometryError
from cellscape.geo.surface import Terrain
from cellscape.pipeline import localize
from cellscape.propagation import tr38901
from cellscape.propagation.diffraction import bullington_correction_db, knife_edge_loss_db
from cellscape.scenario.records import AntennaSpec, GeometryOptions

from .conftest import X0, Y0


def city(grid, n=25, seed=3):
    """Random blocks over the grid, heights 8..45 m, in the grid's CRS."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = grid.bounds_m
    boxes, heights = [], []
    for _ in range(n):
        x, y = rng.uniform(x0, x1 - 60), rng.uniform(y0, y1 - 60)
        w, h = rng.uniform(20, 60, 2)
        boxes.append(shapely.box(x, y, x + w, y + h))
        heights.append(rng.uniform(8, 45))
    return gpd.GeoDataFrame({"height_m": heights}, geometry=boxes, crs=grid.crs)


@pytest.fixture
def geometric(make_scenario):
    def make(diffraction="none", **kw):
        return make_scenario(los_mode="geometric", geometry=GeometryOptions(los_range_m=5000.0, diffraction=diffraction),
                             **kw)
    return make


def test_los_and_nlos_pixels_take_the_matching_model(geometric):
    sc = geometric(n_sites=1, antenna=AntennaSpec(model="isotropic", max_gain_dbi=0.0), resolution_m=20.0)
    grid, xy = localize(sc)
    b = city(grid)
    res = compute_coverage(sc, grid, xy, footprints=b, backend="numpy")
    run = prepare(sc, grid, xy, footprints=b)
    nu = tile_diffraction_parameter(run, grid.full_window)[0]
    x, y = grid.x_centers_m()[None, :], grid.y_centers_m()[:, None]
    d = np.maximum(np.hypot(x - xy[0, 0], y - xy[0, 1]), 10.0)
    pl_los = tr38901.path_loss_db("UMa", d, 25.0, 1.5, 3.5, True, out_of_range="extrapolate")
    pl_nlos = tr38901.path_loss_db("UMa", d, 25.0, 1.5, 3.5, False, out_of_range="extrapolate")
    p_re = 46.0 - 10 * np.log10(12 * 273)
    outdoor = ~res.indoor
    los = (nu < 0) & outdoor
    nlos = (nu >= 0) & outdoor
    assert los.sum() > 50 and nlos.sum() > 50
    np.testing.assert_allclose(res.rsrp_dbm[los], (p_re - pl_los)[los], atol=0.01)
    np.testing.assert_allclose(res.rsrp_dbm[nlos], (p_re - pl_nlos)[nlos], atol=0.01)
    assert res.meta["los_mode"] == "geometric" and res.meta["los_geometry"] == "buildings"


def test_diffraction_takes_the_smaller_loss(geometric):
    sc = geometric(diffraction="bullington", n_sites=1, antenna=AntennaSpec(model="isotropic", max_gain_dbi=0.0),
                   resolution_m=20.0)
    grid, xy = localize(sc)
    b = city(grid)
    res = compute_coverage(sc, grid, xy, footprints=b, backend="numpy")
    run = prepare(sc, grid, xy, footprints=b)
    nu = tile_diffraction_parameter(run, grid.full_window)[0].astype(float)
    x, y = grid.x_centers_m()[None, :], grid.y_centers_m()[:, None]
    d = np.maximum(np.hypot(x - xy[0, 0], y - xy[0, 1]), 10.0)
    pl_los = tr38901.path_loss_db("UMa", d, 25.0, 1.5, 3.5, True, out_of_range="extrapolate")
    pl_nlos = tr38901.path_loss_db("UMa", d, 25.0, 1.5, 3.5, False, out_of_range="extrapolate")
    d_ref = run.meta["diffraction_d_ref_m"]
    l_b = bullington_correction_db(knife_edge_loss_db(np.clip(nu, -1.0, 100.0)), d_ref)
    expected_pl = np.where(nu < 0, pl_los + l_b, np.minimum(pl_nlos, pl_los + l_b))
    p_re = 46.0 - 10 * np.log10(12 * 273)
    outdoor = ~res.indoor
    np.testing.assert_allclose(res.rsrp_dbm[outdoor], (p_re - expected_pl)[outdoor], atol=0.02)
    # some NLOS pixels are helped by the rooftop path, and none is hurt beyond the NLOS formula
    plain = compute_coverage(geometric(n_sites=1, antenna=AntennaSpec(model="isotropic", max_gain_dbi=0.0),
                                       resolution_m=20.0), grid, xy, footprints=b, backend="numpy")
    gain = res.rsrp_dbm - plain.rsrp_dbm
    assert np.any(gain[(nu >= 0) & outdoor] > 1.0)
    assert np.all(gain[(nu >= 0) & outdoor] >= -1e-3)


@pytest.mark.parametrize("diffraction", ["none", "bullington"])
def test_backends_agree(geometric, diffraction):
    sc = geometric(diffraction=diffraction, shadow=True, resolution_m=20.0)
    grid, xy = localize(sc)
    b = city(grid)
    a = compute_coverage(sc, grid, xy, footprints=b, backend="numpy")
    n = compute_coverage(sc, grid, xy, footprints=b, backend="numba")
    np.testing.assert_allclose(a.rsrp_dbm, n.rsrp_dbm, atol=2e-3)
    np.testing.assert_allclose(a.sinr_db, n.sinr_db, atol=2e-3)


def test_tiles_give_the_same_map_and_statistics(geometric):
    sc = geometric(diffraction="bullington", resolution_m=20.0)
    grid, xy = localize(sc)
    b = city(grid)
    one = compute_coverage(sc, grid, xy, footprints=b, mem_limit_mb=1e4)
    many = compute_coverage(sc, grid, xy, footprints=b, mem_limit_mb=0.05)
    assert one.meta["n_tiles"] == 1 and many.meta["n_tiles"] > 5
    np.testing.assert_allclose(one.rsrp_dbm, many.rsrp_dbm, atol=1e-4)
    assert one.los_statistics == many.los_statistics


def test_los_statistics_count_every_outdoor_link(geometric):
    sc = geometric(resolution_m=20.0)
    grid, xy = localize(sc)
    res = compute_coverage(sc, grid, xy, footprints=city(grid))
    st = res.los_statistics
    uma = st["environments"]["UMa"]
    total = np.sum(uma["total"])
    assert total == (~res.indoor).sum() * len(sc.sites)
    assert 0 < np.sum(uma["los"]) < total
    assert len(st["d2d_edges_m"]) == len(uma["total"]) + 1
    assert uma["h_bs_m"] == 25.0 and st["h_ut_m"] == 1.5


def test_terrain_ridge_shadows_the_far_side(geometric):
    sc = geometric(n_sites=1, antenna=AntennaSpec(model="isotropic", max_gain_dbi=0.0), resolution_m=20.0)
    grid, xy = localize(sc)
    # a north-south ridge 80 m high just east of the site, on a 10 m DEM covering the map
    cols = np.arange(200)
    x = X0 - 400 + (cols + 0.5) * 10.0
    ridge_x = xy[0, 0] + 100.0
    elev = 50.0 + np.clip(80.0 - 1.0 * np.abs(x - ridge_x), 0.0, None)
    dem = Terrain(np.tile(elev, (200, 1)).astype(np.float32), (10.0, 0.0, X0 - 400, 0.0, -10.0, Y0 + 1600), sc.area.crs)
    res = compute_coverage(sc, grid, xy, footprints=None, terrain=dem, backend="numba")
    row = int((grid.y_max_m - xy[0, 1]) // grid.resolution_m)
    xs = grid.x_centers_m()
    west = res.rsrp_dbm[row, (xs < xy[0, 0] - 150) & (xs > xy[0, 0] - 300)]
    east = res.rsrp_dbm[row, (xs > ridge_x + 50) & (xs < ridge_x + 200)]
    assert west.mean() - east.mean() > 15          # NLOS behind the ridge
    assert res.meta["los_geometry"] == "terrain"


def test_errors_name_the_problem(geometric, make_scenario):
    sc = geometric()
    grid, xy = localize(sc)
    with pytest.raises(GeometryError, match="needs building heights"):
        compute_coverage(sc, grid, xy, footprints=city(grid).geometry)
    with pytest.raises(GeometryError, match="needs buildings or terrain"):
        compute_coverage(sc, grid, xy)
    small = Terrain(np.zeros((5, 5), np.float32), (10.0, 0.0, X0, 0.0, -10.0, Y0 + 50), sc.area.crs, "small.tif")
    with pytest.raises(GeometryError, match="terrain small.tif does not cover the map area"):
        compute_coverage(sc, grid, xy, terrain=small)
    with pytest.raises(GeometryError, match="los_mode geometric only"):
        compute_coverage(make_scenario(los_mode="nlos"), grid, xy, terrain=small)


def test_geometric_is_independent_of_bullington_table_reference_within_0_05_db():
    # the table holds L_b at one path length; 0.02 dB/km means < 0.05 dB over 0..5 km
    a = tables.diffraction_table(100.0).gain_lin
    b = tables.diffraction_table(2600.0).gain_lin
    assert np.max(np.abs(10 * np.log10(a / b))) < 0.05
    assert math.isclose(a[0], 1.0, abs_tol=2e-3)
