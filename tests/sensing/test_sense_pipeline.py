"""Monostatic sensing maps (cellscape.pipeline.sense): the echo identity, a hand-worked pixel,
Pd and TRP-count bands, the share trade-off, and the sensing: block's validation. Bistatic maps:
test_bistatic.py."""

import math

import numpy as np
import pytest

from cellscape.coverage.engine import sector_maps
from cellscape.errors import ScenarioError
from cellscape.pipeline.coverage import localize
from cellscape.pipeline.sense import monostatic_echo_per_re_dbm, run_sense, sensing_scenario, sensing_symbols
from cellscape.radio.link_budget import noise_per_re_dbm
from cellscape.scenario.model import parse_scenario
from cellscape.scenario.sensing import DEFAULT_SHARE_SWEEP, parse_sensing
from cellscape.sensing.detection import detection_probability
from cellscape.sensing.radar import echo_power_dbm, target_coupling_loss_db
from cellscape.sensing.rcs import RCS_MODEL_1

X0, Y0 = 385_000.0, 6_671_000.0


def scenario_dict(sensing=None, **over):
    d = {
        "name": "tiny", "seed": 3, "environment": "UMa",
        "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 600, Y0 + 400], "resolution_m": 10},
        "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30},
        "sites": [
            {"site_id": "A", "x": X0 + 150, "y": Y0 + 200, "height_m": 25,
             "sectors": [{"azimuth_deg": a, "tx_power_dbm": 46} for a in (0, 120, 240)]},
            {"site_id": "B", "x": X0 + 450, "y": Y0 + 200, "height_m": 25,
             "sectors": [{"azimuth_deg": 60, "tx_power_dbm": 46}]},
        ],
        "sensing": {"target": "human"} if sensing is None else sensing,
    }
    d.update(over)
    return d


def sensing_of(d):
    return parse_sensing(d, parse_scenario(d))


@pytest.fixture(scope="module")
def run():
    return run_sense(sensing_of(scenario_dict()), backend="numpy")


def maps_of(run, backend="numba"):
    """The engine's per-sector maps of a sensing run's scenario (the RSRP the run reduced tile by tile)."""
    scen = sensing_scenario(run.sensing)
    grid, xy = localize(scen)
    return sector_maps(scen, grid, xy, backend=backend)


def test_echo_identity_against_target_coupling_loss(run):
    """2 RSRP - P_RE + 10 lg(4 pi/lambda^2) + RCS == P_RE + 0 + 0 - L(L1, L1), L1 = P_RE - RSRP."""
    m = maps_of(run)
    rcs = RCS_MODEL_1["human"].rcs_mean_dbsm
    for k in range(m.n_sectors):
        rsrp = m.rsrp_dbm[k].astype(float)
        p_re = float(m.tx_power_per_re_dbm[k])
        one_way = p_re - rsrp                      # coupling loss incl. the sector gain (0 dBi receiver)
        ref = echo_power_dbm(p_re, 0.0, 0.0, target_coupling_loss_db(one_way, one_way, rcs, 3.5))
        np.testing.assert_allclose(monostatic_echo_per_re_dbm(rsrp, p_re, 3.5, rcs), ref, atol=1e-9)


def test_receiver_at_target_height_with_0_dbi():
    s = sensing_of(scenario_dict(sensing={"target": "uav_small", "target_height_m": 20.0},
                                 receiver={"antenna_gain_dbi": 3.0}))
    rx = sensing_scenario(s).receiver
    assert rx.height_m == 20.0 and rx.antenna_gain_dbi == 0.0


def mono(run):
    return run.maps["monostatic"]


def test_hand_worked_single_site_pixel():
    d = scenario_dict(sites=[{"site_id": "A", "x": X0 + 300, "y": Y0 + 200, "height_m": 25,
                              "sectors": [{"azimuth_deg": 0, "tx_power_dbm": 46,
                                           "antenna": {"model": "isotropic", "max_gain_dbi": 0.0}}]}],
                      sensing={"target": "human", "sensing_share": 0.2, "cpi_s": 0.005, "detector": "swerling0"})
    run = run_sense(sensing_of(d), backend="numpy")
    r = mono(run)
    m = maps_of(run, backend="numpy")
    row, col = 10, 45
    rsrp = float(m.rsrp_dbm[0, row, col])
    p_re = 46.0 - 10 * math.log10(273 * 12)                   # 46 dBm over 3276 subcarriers
    assert float(m.tx_power_per_re_dbm[0]) == pytest.approx(p_re, abs=1e-4)
    lam = 299_792_458.0 / 3.5e9
    echo = 2 * rsrp - p_re + 10 * math.log10(4 * math.pi / lam ** 2) - 1.37
    n_sym = math.floor(0.2 * 0.005 * 28_000)                   # 28 symbols of 30 kHz per 1 ms
    gain = 10 * math.log10(3276 * n_sym)
    noise = -174 + 10 * math.log10(30e3) + 5.0                 # gNB noise figure 5 dB (uplink default)
    snr = echo + gain - noise
    assert n_sym == 28 and float(noise_per_re_dbm(30.0, 5.0)) == pytest.approx(noise)
    assert float(r.sensing_snr_db[row, col]) == pytest.approx(snr, abs=1e-3)
    assert float(r.detection_probability[row, col]) == pytest.approx(
        float(detection_probability(snr, 1e-6, model="swerling0")), abs=1e-5)
    assert float(r.n_detecting[row, col]) == float(r.detection_probability[row, col] >= 0.9)
    assert float(r.range_resolution_m[row, col]) == pytest.approx(299_792_458.0 / (2 * 3276 * 30e3))


def test_pd_band_and_monotone_in_snr(run):
    snr, pd = mono(run).sensing_snr_db.ravel(), mono(run).detection_probability.ravel()
    ok = np.isfinite(pd)
    assert ok.all()                                # no buildings: every pixel is a target position
    assert (pd >= 0).all() and (pd <= 1).all()
    order = np.argsort(snr)
    assert (np.diff(pd[order]) >= -1e-6).all()
    assert pd.min() < 0.9 < pd.max()               # the tiny map has both sensed and unsensed pixels


def test_n_trp_bounds_and_consistency(run):
    m = mono(run)
    n = m.n_detecting
    assert n.min() >= 0 and n.max() <= 2 and np.array_equal(n, np.round(n))
    snr_req = run.kpis["required_snr_db"]
    assert snr_req == pytest.approx(21.14, abs=0.01)                 # Swerling 1, Pd 0.9, Pfa 1e-6
    clear = np.abs(m.sensing_snr_db - snr_req) > 1e-3                # away from the threshold's float rounding
    sensed = m.detection_probability >= 0.9
    assert (n[sensed & clear] >= 1).all() and (n[~sensed & clear] == 0).all()
    assert np.count_nonzero(n >= 1) * 1e-4 == pytest.approx(m.kpis["sensed_area_km2"])


def test_tradeoff_zero_share_and_growth(run):
    t = mono(run).tradeoff
    assert tuple(t["sensing_share"]) == DEFAULT_SHARE_SWEEP
    assert t["sensed_area_km2"][0] == 0.0 and t["n_symbols"][0] == 0
    assert (np.diff(t["sensed_area_km2"]) >= 0).all() and t["sensed_area_km2"][-1] > t["sensed_area_km2"][1]
    np.testing.assert_array_equal(t["dl_throughput_lost_fraction"], t["sensing_share"])
    i = list(t["sensing_share"]).index(0.1)
    assert t["sensed_area_km2"][i] == pytest.approx(run.kpis["monostatic"]["sensed_area_km2"])


def test_kpis_per_target(run):
    k = run.kpis
    assert k["n_subcarriers"] == 3276 and k["n_symbols"] == sensing_symbols(0.1, 0.01, 30.0) == 28
    assert k["mode"] == "monostatic" and set(run.maps) == {"monostatic"} and "bistatic" not in k
    km = k["monostatic"]
    assert km["per_target"]["human"]["sensed_area_km2"] == pytest.approx(km["sensed_area_km2"])
    assert km["per_target"]["uav_small"]["sensed_area_km2"] <= km["per_target"]["human"]["sensed_area_km2"]
    assert k["outdoor_area_km2"] == pytest.approx(0.24)


def test_sectors_with_different_powers_per_site(run):
    """Sectors of one site with different powers: the per-sector path (not the per-site maximum) gives
    the best of 2 RSRP - P_RE + const over the sectors, checked against the engine's sector maps."""
    d = scenario_dict()
    d["sites"][0]["sectors"][1]["tx_power_dbm"] = 40
    r = run_sense(sensing_of(d), backend="numba")
    assert r.kpis["meta"]["rsrp_units"] == "sectors" and run.kpis["meta"]["rsrp_units"].startswith("sites")
    m = maps_of(r)
    rcs = RCS_MODEL_1["human"].rcs_mean_dbsm
    echo = np.max([monostatic_echo_per_re_dbm(m.rsrp_dbm[k].astype(float), float(m.tx_power_per_re_dbm[k]), 3.5, rcs)
                   for k in range(m.n_sectors)], axis=0)
    snr = echo + 10 * math.log10(3276 * 28) - float(noise_per_re_dbm(30.0, 5.0))
    np.testing.assert_allclose(mono(r).sensing_snr_db, snr, atol=2e-4)


def test_defaults_and_errors():
    s = sensing_of(scenario_dict())
    assert (s.target_height_m, s.pfa, s.pd_required, s.detector, s.sensing_share, s.cpi_s) == (
        1.5, 1e-6, 0.9, "swerling1", 0.1, 0.01)
    d = scenario_dict()
    del d["sensing"]
    with pytest.raises(ScenarioError, match=r"^sensing: the scenario has no sensing: block; add one"):
        sensing_of(d)
    with pytest.raises(ScenarioError, match=r"^sensing.sensing_share: Input should be greater than 0"):
        sensing_of(scenario_dict(sensing={"target": "human", "sensing_share": 0}))
    with pytest.raises(ScenarioError, match=r"^sensing.share_sweep\[1\]: Input should be less than or equal to 1"):
        sensing_of(scenario_dict(sensing={"target": "human", "share_sweep": [0, 2]}))
    with pytest.raises(ScenarioError, match=r"^sensing.colour: unknown key \(allowed: target, target_height_m"):
        parse_scenario(scenario_dict(sensing={"target": "human", "colour": 1}))   # strict in every command
    with pytest.raises(ScenarioError, match=r"^sensing.pd_required: must exceed pfa"):
        sensing_of(scenario_dict(sensing={"target": "human", "pfa": 0.5, "pd_required": 0.4}))


def test_target_height_above_the_aerial_range_is_refused():
    with pytest.raises(ScenarioError, match=r"^sensing\.target_height_m: Input should be less than or equal to 300"):
        sensing_of(scenario_dict(sensing={"target": "uav_small", "target_height_m": 301.0}))
