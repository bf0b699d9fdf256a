"""User drops and trajectories."""

import networkx as nx
import numpy as np
import pytest

from cellscape.errors import ScenarioError
from cellscape.geo.grid import RasterGrid
from cellscape.simulation.users import Trajectories, drop_users, drop_weights, random_waypoint, street_walks

GRID = RasterGrid(crs="EPSG:32635", x_min_m=0.0, y_max_m=1000.0, resolution_m=10.0, n_rows=100, n_cols=100)
INDOOR = np.zeros(GRID.shape, dtype=bool)
INDOOR[20:40, 20:40] = True                       # one 200 x 200 m building


def test_indoor_fraction_and_positions_inside_pixels():
    rng = np.random.default_rng(0)
    x, y, ind = drop_users(5000, drop_weights("uniform", GRID), INDOOR, GRID, rng, indoor_fraction=0.3)
    assert ind.mean() == pytest.approx(0.3, abs=0.02)
    inside = (x >= 200) & (x < 400) & (y > 600) & (y <= 800)
    np.testing.assert_array_equal(inside, ind)
    _, _, ind2 = drop_users(5000, drop_weights("uniform", GRID), INDOOR, GRID, rng, indoor_fraction=None)
    assert ind2.mean() == pytest.approx(0.04, abs=0.01)           # the building's share of the area


def test_hotspot_drop_stays_in_the_disks_by_weight():
    w = drop_weights("hotspot", GRID, hotspots_m=[(500, 500, 50, 3.0), (100, 900, 30, 1.0)])
    x, y, _ = drop_users(4000, w, INDOOR, GRID, np.random.default_rng(1), indoor_fraction=None)
    d1 = np.hypot(x - 500, y - 500) < 50 + 10
    d2 = np.hypot(x - 100, y - 900) < 30 + 10
    assert np.all(d1 | d2)
    assert d1.mean() == pytest.approx(0.75, abs=0.03)


def test_no_pixel_of_the_asked_kind():
    with pytest.raises(ScenarioError, match="users\\[2\\].drop: no indoor pixel"):
        drop_users(10, np.ones(GRID.shape), np.zeros(GRID.shape, bool), GRID, np.random.default_rng(0),
                   indoor_fraction=0.5, where="simulation.users[2].drop")


def test_random_waypoint_speed_and_outdoors():
    rng = np.random.default_rng(2)
    knots = random_waypoint([50.0, 950.0], [50.0, 950.0], (1.0, 1.0), (0.0, 0.0), 600.0, ~INDOOR, GRID, rng)
    tr = Trajectories.from_lists(knots)
    prev = tr.positions(0.0)
    for t in np.arange(1.0, 600.0, 1.0):
        cur = tr.positions(t)
        step = np.hypot(cur[0] - prev[0], cur[1] - prev[1])
        assert np.all(step <= 1.0 + 1e-6)                          # never faster than 1 m/s
        prev = cur
    for k in knots:
        for _, x, y in k[1:]:                                        # waypoints are outdoor pixels
            assert not INDOOR[int((1000 - y) // 10), int(x // 10)]


def test_street_walk_follows_the_edges():
    g = nx.grid_2d_graph(5, 5)
    g = nx.relabel_nodes(g, {n: (100.0 * n[0], 100.0 * n[1]) for n in g})
    nx.set_edge_attributes(g, 100.0, "length_m")
    knots = street_walks(g, np.full(20, 10.0), 120.0, np.random.default_rng(3))
    for k in knots:
        t = np.array([p[0] for p in k])
        xy = np.array([(p[1], p[2]) for p in k])
        assert t[-1] >= 120.0
        seg = np.hypot(*np.diff(xy, axis=0).T)
        np.testing.assert_allclose(seg, 10.0 * np.diff(t), rtol=1e-9, atol=1e-9)
        assert np.all(np.isin(xy[1:], np.arange(0, 500, 100)).all(axis=1))   # every later knot is a junction
