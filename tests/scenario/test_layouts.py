"""Layouts of TR 38.901 Tables 7.2-1 (hexagonal, wrap-around) and 7.2-2 (indoor office)."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose
import pytest

from cellscape.errors import OutOfValidityRangeError
from cellscape.scenario.layouts import (
    hexagonal_layout,
    hexagonal_site_positions_m,
    hexagonal_wrap_shifts_m,
    indoor_office_layout,
    uniform_points_in_cells_m,
    wrapped_offsets_m,
)


@pytest.mark.parametrize("isd_m", [200.0, 500.0])
def test_hexagonal_grid_has_19_sites_57_sectors_and_nearest_neighbours_at_isd(isd_m):
    lay = hexagonal_layout(isd_m)
    assert (lay.n_sites, lay.n_sectors) == (19, 57)
    xy = np.c_[lay.site_x_m, lay.site_y_m]
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert_allclose(d.min(axis=1), isd_m, rtol=1e-12)          # every site has a neighbour at ISD
    assert_allclose(np.sort(d[0])[:6], isd_m)                  # the centre site has six
    assert np.count_nonzero(np.isclose(d[0], isd_m)) == 6
    assert_allclose(np.sort(np.hypot(*xy.T))[-1], 2 * isd_m)   # two rings


def test_sectors_follow_the_standard_orientation_and_sites_sit_at_bearings_30_plus_60k():
    lay = hexagonal_layout(500.0)
    assert lay.sector_azimuth_deg[:3].tolist() == [60.0, 300.0, 180.0]   # bearings 30, 150, 270
    assert lay.sector_site[:6].tolist() == [0, 0, 0, 1, 1, 1]
    bearings = np.degrees(np.arctan2(lay.site_y_m[1:7], lay.site_x_m[1:7])) % 360
    assert_allclose(np.sort(bearings), [30, 90, 150, 210, 270, 330], atol=1e-9)


def test_wrap_around_copies_tile_the_lattice_exactly_once():
    """7 copies of the 19-site cluster cover every lattice point within 3 rings of the centre exactly once."""
    isd = 1.0
    x, y = hexagonal_site_positions_m(isd, n_rings=2)
    shifts = hexagonal_wrap_shifts_m(isd)
    assert_allclose(np.hypot(*shifts[1:].T), np.sqrt(19.0))
    copies = np.vstack([np.c_[x, y] + s for s in shifts])                  # (133, 2)
    keys = {tuple(v) for v in np.round(copies, 9)}
    assert len(keys) == 133                                               # no overlap
    lx, ly = hexagonal_site_positions_m(isd, n_rings=3)                   # 37 lattice points
    for p in np.round(np.c_[lx, ly], 9):
        assert tuple(p) in keys                                           # no gap


def test_wrap_around_distance_is_symmetric_between_sites():
    """Seen through the wrap-around, site i is as far from site j as j from i, and never beyond 2 ISD."""
    lay = hexagonal_layout(500.0)
    dx, dy = wrapped_offsets_m(lay.site_x_m, lay.site_y_m, lay)            # (site, ue=site)
    d = np.hypot(dx, dy)
    assert_allclose(d, d.T, atol=1e-9)
    assert_allclose(np.diag(d), 0.0, atol=1e-9)
    assert d.max() <= 2 * 500.0 * (1 + 1e-12) + 1e-9
    # every site sees 6 neighbours at ISD through the wrap-around (the cluster has no edge)
    assert np.all(np.sum(np.isclose(d, 500.0), axis=1) == 6)


def test_seven_copies_give_the_nearest_image_of_the_periodic_network():
    """For UEs in the cluster, the minimum over 7 copies equals the minimum over 49 (two layers of
    cluster shifts): the 7 copies are enough, wrap-around equals an infinite periodic network."""
    lay = hexagonal_layout(200.0)
    x, y, _ = uniform_points_in_cells_m(lay, 500, rng=np.random.default_rng(3))
    s = lay.wrap_shifts_m
    big = (s[:, None, :] + s[None, :, :]).reshape(-1, 2)                  # (49, 2)
    sx = lay.site_x_m[None, :, None] + big[:, 0, None, None]
    sy = lay.site_y_m[None, :, None] + big[:, 1, None, None]
    brute = np.hypot(x[None, None] - sx, y[None, None] - sy).min(axis=0)   # (19, 500)
    assert_allclose(np.hypot(*wrapped_offsets_m(x, y, lay)), brute, atol=1e-9)


def test_uniform_points_fill_every_cell_and_stay_within_it():
    lay = hexagonal_layout(300.0)
    x, y, cell = uniform_points_in_cells_m(lay, 57_000, rng=np.random.default_rng(5))
    counts = np.bincount(cell, minlength=57)
    assert counts.min() > 800                                             # expected 1000 each
    cx, cy = lay.cell_centres_m()
    r = np.hypot(x - cx[cell], y - cy[cell])
    assert r.max() <= 100.0 + 1e-9                                        # circumradius ISD/3
    # uniform over a regular hexagon: mean squared distance to the centre is 5 R^2 / 12
    assert_allclose(np.mean(r**2), 5 * 100.0**2 / 12, rtol=0.02)
    # each point lies in its own cell: no other cell centre of the same site is closer
    own = np.hypot(x - cx[cell], y - cy[cell])
    dx, dy = wrapped_offsets_m(x, y, lay)
    assert np.all(own <= np.hypot(x[None] - cx[:, None], y[None] - cy[:, None]).min(axis=0) + 1e-6)
    assert dx.shape == (19, 57_000)


def test_indoor_office_grid_matches_table_7_2_2():
    lay = indoor_office_layout()
    assert lay.n_sites == 12 and lay.wrap_shifts_m.shape == (1, 2)
    assert sorted(set(lay.site_x_m.tolist())) == [-50.0, -30.0, -10.0, 10.0, 30.0, 50.0]
    assert sorted(set(lay.site_y_m.tolist())) == [-10.0, 10.0]
    assert lay.n_sectors == 36
    assert indoor_office_layout(sector_azimuths_deg=(90.0,)).n_sectors == 12


def test_indoor_grid_that_does_not_fit_the_hall_raises():
    with pytest.raises(OutOfValidityRangeError, match=r"BS grid x extent=70 is outside \[0, 60\].*Table 7\.2-2"):
        indoor_office_layout(isd_m=28.0)


def test_nonpositive_isd_raises():
    with pytest.raises(OutOfValidityRangeError, match=r"isd_m=0 is outside"):
        hexagonal_layout(0.0)
