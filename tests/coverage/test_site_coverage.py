"""Per-site coverage sets (planning input) against single-site maps of the same engine."""

import dataclasses

import numpy as np
import pytest

from cellscape.coverage.engine import compute_coverage, site_coverage
from cellscape.pipeline import localize
from cellscape.scenario.records import GeometryOptions

from .test_geometric import city


@pytest.mark.parametrize("los_mode", ["nlos", "statistical", "geometric"])
def test_each_site_entry_equals_the_map_of_that_site_alone(backend, los_mode, make_scenario):
    kw = {"geometry": GeometryOptions(los_range_m=3000.0)} if los_mode == "geometric" else {}
    sc = make_scenario(los_mode=los_mode, shadow=True, n_sites=3, resolution_m=20.0, **kw)
    grid, xy = localize(sc)
    b = city(grid) if los_mode == "geometric" else None
    thr = -95.0
    cov = site_coverage(sc, grid, xy, threshold_dbm=thr, footprints=b, backend=backend, mem_limit_mb=0.05)
    assert cov.meta["n_tiles"] > 1 and cov.rsrp_dbm.shape == (grid.n_pixels, 3)
    dense = np.where(cov.cover().toarray(), cov.rsrp_dbm.toarray(), -np.inf)
    full = compute_coverage(sc, grid, xy, footprints=b, backend=backend)
    site_of_sector = np.repeat(np.arange(3), 3)
    best_site = site_of_sector[full.best_sector.ravel()]
    rsrp = full.rsrp_dbm.ravel()
    served = rsrp >= thr
    # where the best server clears the threshold, its site's entry is that RSRP
    got = dense[np.flatnonzero(served), best_site[served]]
    np.testing.assert_allclose(got, rsrp[served], atol=1e-4)
    # no site exceeds the best server anywhere, and pixels below the threshold have no entry
    assert np.all(dense.max(axis=1)[served] <= rsrp[served] + 1e-4)
    assert cov.rsrp_dbm[np.flatnonzero(~served)].nnz == 0
    assert np.all(cov.rsrp_dbm.data >= thr)
    np.testing.assert_array_equal(cov.indoor, full.indoor.ravel())
    assert cov.cover().dtype == bool and cov.cover().nnz == cov.rsrp_dbm.nnz


def test_a_site_alone_gives_its_own_map_with_its_keyed_fields(backend, make_scenario):
    # site_keys give a site the same shadowing and LOS fields in any run it takes part in
    sc = make_scenario(los_mode="statistical", shadow=True, n_sites=3, resolution_m=20.0)
    grid, xy = localize(sc)
    keys = [11, 4, 7]
    cov = site_coverage(sc, grid, xy, threshold_dbm=-200.0, backend=backend, site_keys=keys)
    for i in range(3):
        alone = dataclasses.replace(sc, sites=(sc.sites[i],))
        m = compute_coverage(alone, grid, xy[i:i + 1], backend=backend, site_keys=[keys[i]])
        np.testing.assert_allclose(cov.rsrp_dbm[:, i].toarray().ravel(), m.rsrp_dbm.ravel(), atol=1e-4)
    other = compute_coverage(dataclasses.replace(sc, sites=(sc.sites[1],)), grid, xy[1:2], backend=backend)
    assert np.abs(other.rsrp_dbm.ravel() - cov.rsrp_dbm[:, 1].toarray().ravel()).max() > 0.5   # key 0: other draw


def test_threshold_must_be_finite(make_scenario):
    sc = make_scenario()
    grid, xy = localize(sc)
    with pytest.raises(ValueError, match="threshold_dbm"):
        site_coverage(sc, grid, xy, threshold_dbm=float("nan"))


def test_tile_cache_reuses_inputs_for_new_sector_settings(make_scenario):
    from cellscape.coverage.engine import TileCache

    sc = make_scenario(los_mode="geometric", geometry=GeometryOptions(los_range_m=3000.0), shadow=True,
                       resolution_m=20.0)
    grid, xy = localize(sc)
    b = city(grid)
    cache = TileCache()
    first = compute_coverage(sc, grid, xy, footprints=b, tile_cache=cache, mem_limit_mb=0.05)
    assert first.meta["n_tiles"] > 1 and len(cache._tiles) == first.meta["n_tiles"]
    turned = dataclasses.replace(sc, sites=tuple(
        dataclasses.replace(s, sectors=tuple(dataclasses.replace(x, azimuth_deg=(x.azimuth_deg + 35) % 360,
                                                                 elec_tilt_deg=3.0) for x in s.sectors))
        for s in sc.sites))
    cached = compute_coverage(turned, grid, xy, footprints=b, tile_cache=cache, mem_limit_mb=0.05)
    fresh = compute_coverage(turned, grid, xy, footprints=b, mem_limit_mb=0.05)
    np.testing.assert_array_equal(cached.rsrp_dbm, fresh.rsrp_dbm)
    np.testing.assert_array_equal(cached.sinr_db, fresh.sinr_db)
    moved = dataclasses.replace(sc, sites=(dataclasses.replace(sc.sites[0], height_m=30.0),) + sc.sites[1:])
    with pytest.raises(ValueError, match="other sites"):
        compute_coverage(moved, grid, xy, footprints=b, tile_cache=cache, mem_limit_mb=0.05)
