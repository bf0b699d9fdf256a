"""The flow-level network model (cellscape.ai.flow): a hand-worked two-sector case, sleep, tilt,
power, the load fixed point, and points sampled from the engine's per-sector maps."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from cellscape.ai.flow import (FlowState, build_flow_network, cqi_lookup, evaluate, flow_network_from_maps,
                               gain_at_tilt_dbi, received_power_dbm)
from cellscape.antenna.sector import sector_gain_dbi
from cellscape.errors import GeometryError, OutOfValidityRangeError
from cellscape.radio.throughput import spectral_efficiency_bps_hz
from cellscape.scenario.records import AntennaSpec

ISO = AntennaSpec(model="isotropic", max_gain_dbi=0.0)
NOISE_DBM = -125.0
# TS 38.306 4.1.2 by hand: 12 subcarriers x 273 PRB x 14 symbols x 2 slots/ms (30 kHz) x (1 - 0.14) per bit/s/Hz
RATE_PER_EFF_BPS = 12 * 273 * 14 * 2000 * 0.86
CQI15_EFF = 5.5547            # TS 38.214 Table 5.2.2.1-2, CQI 15


def two_sectors(**kw):
    """Sectors 0 (x = 0) and 1 (x = 1000 m), isotropic 0 dBi; points A (near 0), B (near 1), C (out)."""
    rsrp = np.array([[-80.0, -100.0, -130.0],
                     [-100.0, -85.0, -135.0]])
    args = dict(sector_xy_m=[[0.0, 0.0], [1000.0, 0.0]], sector_height_m=25.0, azimuth_deg=[90.0, 270.0],
                point_xy_m=[[100.0, 0.0], [900.0, 0.0], [500.0, 3000.0]], point_weight=[1.0, 2.0, 3.0],
                rsrp_dbm=rsrp, tx_power_dbm=46.0, noise_per_re_dbm=NOISE_DBM, n_prb=273, scs_khz=30.0,
                antennas=[ISO, ISO], rsrp_threshold_dbm=-120.0)
    args.update(kw)
    return build_flow_network(**args)


def hex_network(n_points=300, seed=1, n_rows=8):
    """7 sites x 3 sectors (ISD 500 m), TR 38.901 antennas tilted 6 deg, UMa-like path loss."""
    rng = np.random.default_rng(seed)
    ang = np.arange(6) * np.pi / 3
    sites = np.vstack([[0.0, 0.0], np.column_stack([500 * np.cos(ang), 500 * np.sin(ang)])])
    sec_xy = np.repeat(sites, 3, axis=0)
    az = np.tile([30.0, 150.0, 270.0], 7)
    pts = rng.uniform(-600, 600, (n_points, 2))
    d = np.hypot(pts[None, :, 0] - sec_xy[:, None, 0], pts[None, :, 1] - sec_xy[:, None, 1])
    pl = 28.0 + 22.0 * np.log10(np.maximum(d, 10.0)) + 20.0 * np.log10(3.5) + 10.0
    net0 = build_flow_network(sector_xy_m=sec_xy, sector_height_m=25.0, azimuth_deg=az, point_xy_m=pts,
                              point_weight=np.ones(n_points), rsrp_dbm=np.zeros((21, n_points)), tx_power_dbm=46.0,
                              noise_per_re_dbm=-174 + 10 * np.log10(30e3) + 9, n_prb=273, scs_khz=30.0,
                              antennas=[AntennaSpec(n_rows=n_rows)] * 21, elec_tilt_deg=6.0,
                              sector_site=np.repeat(np.arange(7), 3))
    # RSRP = P_RE + antenna gain - path loss (the default gains the network itself computed)
    return dataclasses.replace(net0, base_rsrp_dbm=10.85 - pl)


def test_rate_per_efficiency_is_ts38306():
    assert two_sectors().rate_per_efficiency_bps == pytest.approx(RATE_PER_EFF_BPS, rel=1e-12)


def test_two_sectors_hand_worked():
    """Sector 1 idle (no offered traffic at B): A sees no interference, SINR = -80 - (-125) = 45 dB,
    CQI 15; offering half of A's rate loads sector 0 to 0.5, so B sees
    I = 0.5 * 1e-10 mW + 10^-12.5 mW -> SINR_B = -85 - 10 log10(5.0316e-11) = 17.983 dB."""
    net = two_sectors()
    rate_a = CQI15_EFF * RATE_PER_EFF_BPS
    r = evaluate(net, FlowState.default(net), [rate_a / 2, 0.0, 1e6])
    assert r.serving.tolist() == [0, 1, 0]
    np.testing.assert_allclose(r.rsrp_dbm, [-80.0, -85.0, -130.0])
    assert r.sinr_db[0] == pytest.approx(45.0, abs=1e-9)
    sinr_b = -85.0 - 10 * np.log10(0.5 * 1e-10 + 10 ** (NOISE_DBM / 10))
    assert sinr_b == pytest.approx(17.983, abs=1e-3)
    assert r.sinr_db[1] == pytest.approx(sinr_b, abs=1e-9)
    np.testing.assert_allclose(r.sector_load, [0.5, 0.0], atol=1e-12)
    assert r.rate_full_bps[0] == pytest.approx(rate_a)
    # C: best RSRP -130 dBm < -120 dBm: not covered, served nothing, no load
    assert r.covered.tolist() == [True, True, False]
    assert r.rate_bps.tolist() == [pytest.approx(rate_a / 2), 0.0, 0.0]
    assert r.sector_users.tolist() == [1.0, 2.0]
    # processor sharing: one user at A gets the full rate times the idle share
    assert r.user_rate_bps[0] == pytest.approx(rate_a * 0.5)


def test_two_sectors_fixed_point_is_consistent():
    """With both sectors loaded the returned loads reproduce themselves: rho_s = sum offered / rate."""
    net = two_sectors()
    offered = np.array([60e6, 40e6, 0.0])
    r = evaluate(net, FlowState.default(net), offered, tol=1e-12, n_iter=200)
    rate = spectral_efficiency_bps_hz(r.sinr_db[:2]) * RATE_PER_EFF_BPS
    np.testing.assert_allclose(r.sector_load, offered[:2] / rate, rtol=1e-9)
    interf = np.array([r.sector_load[1] * 1e-10, r.sector_load[0] * 1e-10]) + 10 ** (NOISE_DBM / 10)
    np.testing.assert_allclose(r.sinr_db[:2], np.array([-80.0, -85.0]) - 10 * np.log10(interf), atol=1e-9)


def test_overload_shares_prbs_in_proportion():
    net = two_sectors()
    rate_a = CQI15_EFF * RATE_PER_EFF_BPS
    r = evaluate(net, FlowState.default(net), [2 * rate_a, 0.0, 0.0])
    assert r.sector_load[0] == 1.0 and r.demand_load[0] == pytest.approx(2.0)
    assert r.rate_bps[0] == pytest.approx(rate_a)          # half of what it offered
    assert r.user_rate_bps[0] == 0.0


def test_sleeping_moves_points_to_the_neighbour():
    net = two_sectors()
    st0 = FlowState.default(net)
    asleep = dataclasses.replace(st0, awake=np.array([False, True]))
    r = evaluate(net, asleep, [1e6, 1e6, 0.0])
    assert r.serving.tolist() == [1, 1, 1]
    # A now hears sector 1 at -100 dBm and nothing else: SINR = 25 dB, still covered
    assert r.sinr_db[0] == pytest.approx(25.0, abs=1e-9) and r.covered[0]
    assert r.sector_load[0] == 0.0 and r.sector_users.tolist() == [0.0, 3.0]
    none = evaluate(net, dataclasses.replace(st0, awake=np.zeros(2, bool)), [1e6, 1e6, 0.0])
    assert none.serving.tolist() == [-1, -1, -1] and not none.covered.any() and not none.rate_bps.any()


def test_sleeping_in_a_hex_network_hands_points_over():
    net = hex_network()
    st0 = FlowState.default(net)
    offered = np.full(net.n_points, 0.2e6)
    r0 = evaluate(net, st0, offered)
    s = int(np.bincount(r0.serving, minlength=21).argmax())
    awake = np.ones(21, bool)
    awake[s] = False
    r1 = evaluate(net, dataclasses.replace(st0, awake=awake), offered)
    moved = r0.serving == s
    assert moved.any() and not np.any(r1.serving == s)
    # every moved point goes to its second-best sector
    rsrp = received_power_dbm(net, st0)
    rsrp[s] = -np.inf
    np.testing.assert_array_equal(r1.serving[moved], rsrp[:, moved].argmax(axis=0))
    np.testing.assert_array_equal(r1.serving[~moved], r0.serving[~moved])
    assert r1.sector_users.sum() <= r0.sector_users.sum() + 1e-9


def test_power_offset_shifts_rsrp():
    net = hex_network(n_points=50)
    st0 = FlowState.default(net)
    off = np.zeros(21)
    off[4] = -3.0
    a = received_power_dbm(net, st0)
    b = received_power_dbm(net, dataclasses.replace(st0, power_offset_db=off))
    np.testing.assert_allclose(b - a, off[:, None] * np.ones((1, 50)), atol=1e-12)
    with pytest.raises(OutOfValidityRangeError, match="power_offset_db"):
        received_power_dbm(net, dataclasses.replace(st0, power_offset_db=np.full(21, 1.0)))


def test_tilt_changes_gain_as_sector_gain_dbi_says():
    net = hex_network(n_points=40)
    st0 = FlowState.default(net)
    tilt = st0.tilt_deg.copy()
    tilt[2] += 3.0
    tilt[5] -= 2.0
    g = gain_at_tilt_dbi(net, tilt)
    for s in (2, 5):
        want = sector_gain_dbi(net.theta_gcs_deg[s], net.phi_gcs_deg[s], azimuth_deg=[30.0, 150.0, 270.0][s % 3],
                               elec_tilt_deg=tilt[s], antenna=AntennaSpec(n_rows=8))
        np.testing.assert_allclose(g[s], want, atol=1e-9)
    # the RSRP moves by the gain change and nothing else
    shift = received_power_dbm(net, dataclasses.replace(st0, tilt_deg=tilt)) - received_power_dbm(net, st0)
    np.testing.assert_allclose(shift, g - net.default_gain_dbi, atol=1e-9)
    assert np.all(shift[[0, 1, 3, 4]] == 0)
    # between table entries the linear gain is interpolated: within the two entries' range
    half = st0.tilt_deg.copy()
    half[2] += 0.5
    g_half = gain_at_tilt_dbi(net, half)[2]
    lo, hi = np.minimum(net.gain_table_dbi[2, 6], net.gain_table_dbi[2, 7]), np.maximum(net.gain_table_dbi[2, 6],
                                                                                        net.gain_table_dbi[2, 7])
    assert np.all((g_half >= lo - 1e-9) & (g_half <= hi + 1e-9))
    with pytest.raises(OutOfValidityRangeError, match=r"tilt_deg\[0\]=20 is outside"):
        gain_at_tilt_dbi(net, np.full(21, 20.0))


def test_downtilt_moves_gain_towards_near_points():
    """More downtilt: more gain at the points below the beam's default direction, less beyond."""
    net = hex_network(n_points=400)
    st0 = FlowState.default(net)
    tilt = st0.tilt_deg + 6.0
    delta = gain_at_tilt_dbi(net, tilt)[0] - net.default_gain_dbi[0]
    theta = net.theta_gcs_deg[0]
    assert delta[theta > 100].mean() > 0 > delta[theta < 93].mean()


@settings(max_examples=15)
@given(scale=st.floats(1.0, 40.0), seed=st.integers(0, 50))
def test_load_iteration_is_monotone(scale, seed):
    """From rho = 1 the loads never increase, from rho = 0 never decrease (the load map is monotone)."""
    net = hex_network(n_points=120, seed=seed % 3)
    offered = np.random.default_rng(seed).exponential(scale * 1e6, net.n_points)
    st0 = FlowState.default(net)
    down = evaluate(net, st0, offered, n_iter=30, tol=0.0)
    assert np.all(np.diff(down.load_history, axis=0) <= 1e-12)
    up = evaluate(net, st0, offered, n_iter=30, tol=0.0, initial_load=np.zeros(21))
    assert np.all(np.diff(up.load_history, axis=0) >= -1e-12)
    assert np.all(up.sector_load <= down.sector_load + 1e-12)
    assert np.all((down.sector_load >= 0) & (down.sector_load <= 1)) and down.load_history[1].max() > 0.05


def test_cqi_lookup_is_the_project_mapping():
    thr, eff = cqi_lookup(1)
    sinr = np.concatenate([np.random.default_rng(0).uniform(-15, 35, 2000), thr])
    cqi = np.searchsorted(thr, sinr, side="right")
    np.testing.assert_array_equal(eff[cqi], spectral_efficiency_bps_hz(sinr))


def test_input_checks():
    with pytest.raises(GeometryError, match="rsrp_dbm has shape"):
        two_sectors(rsrp_dbm=np.zeros((3, 3)))
    net = two_sectors()
    with pytest.raises(OutOfValidityRangeError, match="offered_bps"):
        evaluate(net, FlowState.default(net), [-1.0, 0.0, 0.0])


def test_points_from_sector_maps():
    """Points drawn from the engine's maps keep each sector's RSRP at their pixel; the default state
    gives the map's best server; a tiny 1-site scenario on the numpy backend."""
    from cellscape.coverage.engine import sector_maps
    from cellscape.pipeline import localize
    from cellscape.scenario.model import parse_scenario

    x0, y0 = 385_000.0, 6_671_000.0
    sc = parse_scenario({"name": "t", "seed": 4, "environment": "UMa", "shadow_fading": True,
                         "area": {"crs": "EPSG:32635", "bounds": [x0, y0, x0 + 400, y0 + 300], "resolution_m": 20},
                         "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30},
                         "sites": [{"site_id": "A", "x": x0 + 200, "y": y0 + 150, "height_m": 25,
                                    "sectors": [{"azimuth_deg": a, "tx_power_dbm": 46, "elec_tilt_deg": 4}
                                                for a in (0, 120, 240)]}]})
    grid, xy = localize(sc)
    maps = sector_maps(sc, grid, xy, backend="numpy")
    weights = np.zeros(grid.shape)
    weights[2:8, 3:12] = 2.0
    net = flow_network_from_maps(maps, xy, weights, n_points=64, rng=np.random.default_rng(3), scenario=sc)
    assert net.n_sectors == 3 and net.n_points == 64
    assert net.point_weight.sum() == pytest.approx(weights.sum())
    r, c = maps.pixel_index(net.point_xy_m[:, 0], net.point_xy_m[:, 1])
    assert np.all((r >= 2) & (r < 8) & (c >= 3) & (c < 12))
    np.testing.assert_allclose(received_power_dbm(net, FlowState.default(net)), maps.rsrp_dbm[:, r, c], atol=1e-4)
    res = evaluate(net, FlowState.default(net), np.full(64, 1e5))
    np.testing.assert_array_equal(res.serving, maps.rsrp_dbm[:, r, c].argmax(axis=0))
    np.testing.assert_array_equal(net.default_elec_tilt_deg, [4.0, 4.0, 4.0])
    # the same generator seed draws the same points
    again = flow_network_from_maps(maps, xy, weights, n_points=64, rng=np.random.default_rng(3), scenario=sc)
    np.testing.assert_array_equal(again.point_xy_m, net.point_xy_m)
