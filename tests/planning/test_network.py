"""Demand layer, planning weights and the re-measurement of a plan (planning.network)."""

import numpy as np
import pytest

from cellscape.planning import network as net
from cellscape.scenario.plan import CoverageTarget, DemandLayer, Hotspot, Targets


def test_demand_users_counts_floors_and_hotspots_exactly():
    indoor = np.array([[False, True], [True, False]])
    floors = np.array([[1.0, 3.0], [0.0, 1.0]])            # 0 floors counts as 1
    layer = DemandLayer(outdoor_users_per_km2=1e6, indoor_users_per_km2=2e6,
                        hotspots=(Hotspot(x=0.0, y=0.0, radius_m=1.0, users=50.0),))
    x = np.array([0.5, 1.5])
    y = np.array([1.5, 0.5])
    u = net.demand_users(layer, indoor=indoor, floors=floors, pixel_area_m2=1.0, hotspot_xy_m=[[0.5, 0.5]],
                         x_m=x, y_m=y)
    # 1e6 /km^2 = 1 per m^2; indoor 2 per m^2 per floor; hotspot (radius 1 m at (0.5, 0.5)) covers 3 pixel centres
    expect = np.array([[1.0, 6.0], [2.0, 1.0]]) + np.array([[1, 0], [1, 1]]) * 50.0 / 3
    np.testing.assert_allclose(u, expect)
    assert u.sum() == pytest.approx(10.0 + 50.0)


def test_raster_users_add_and_shapes_are_checked():
    layer = DemandLayer(outdoor_users_per_km2=0.0, indoor_users_per_km2=0.0)
    ind = np.zeros((2, 2), bool)
    u = net.demand_users(layer, indoor=ind, floors=np.ones((2, 2)), pixel_area_m2=4.0,
                         raster_users=np.array([[1.0, np.nan], [-3.0, 2.0]]))
    np.testing.assert_allclose(u, [[1.0, 0.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match="raster_users"):
        net.demand_users(layer, indoor=ind, floors=np.ones((2, 2)), pixel_area_m2=4.0, raster_users=np.ones(3))


def test_group_weights_split_area_and_demand():
    w = net.group_weights(np.array([1.0, 2.0, 3.0]), np.array([True, False, True]), 25.0,
                          ("outdoor_area", "indoor_demand", "area"))
    np.testing.assert_allclose(w, [[0, 1, 25], [25, 0, 25], [0, 3, 25]])
    with pytest.raises(ValueError, match="unknown coverage group"):
        net.group_weights(np.ones(1), np.zeros(1, bool), 1.0, ("roads",))


def test_sector_loads_are_traffic_over_rate_of_served_pixels():
    best = np.array([0, 0, 1, -1, 1])
    served = np.array([True, True, True, True, False])
    traffic = np.array([10.0, 20.0, 5.0, 7.0, 100.0])           # Mbit/s
    rate = np.array([100e6, 50e6, 10e6, 10e6, 10e6])             # bit/s
    np.testing.assert_allclose(net.sector_loads(best, served, traffic, rate, 3), [0.1 + 0.4, 0.5, 0.0])


def test_weighted_percentile_matches_repeated_samples():
    rng = np.random.default_rng(1)
    v = rng.normal(size=50)
    w = rng.integers(1, 5, size=50)
    rep = np.repeat(v, w)
    for q in (5, 50, 95):
        assert net.weighted_percentile(v, w.astype(float), q) == pytest.approx(np.percentile(rep, q, method="inverted_cdf"))
    assert np.isnan(net.weighted_percentile(v, np.zeros(50), 5))


def test_measure_and_target_report():
    rsrp = np.array([-90.0, -110.0, -95.0, -80.0])
    sinr = np.array([5.0, -3.0, -1.0, 12.0])
    best = np.array([0, 0, 1, 1])
    rate = np.array([100e6, 10e6, 20e6, 200e6])
    users = np.array([10.0, 10.0, 20.0, 0.0])
    indoor = np.array([False, False, True, True])
    m = net.measure(rsrp, sinr, best, rate, users=users, indoor=indoor, pixel_area_m2=1.0, rsrp_min_dbm=-100,
                    rate_mbps=1.0, n_sectors=2, sinr_min_db=0.0)
    assert m["coverage"]["outdoor_area"] == pytest.approx(0.5)
    assert m["coverage"]["indoor_demand"] == pytest.approx(1.0)
    assert m["coverage"]["demand"] == pytest.approx(30 / 40)
    assert m["sinr_share"] == pytest.approx(10 / 40)
    np.testing.assert_allclose(m["loads"], [10 / 100, 20 / 20])
    t = Targets(rsrp_dbm=-100.0, coverage=(CoverageTarget("outdoor_area", 0.5), CoverageTarget("demand", 0.8)),
                sinr_db=0.0, sinr_fraction=0.2, max_sector_load=0.8)
    rows = net.target_report(m, t)
    assert [r["met"] for r in rows] == [True, False, True, False]
