"""Uplink map: coupling loss from the downlink map, TS 38.213 open-loop power, SINR and rate by hand;
device profiles on the map commands."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellscape.errors import ScenarioError
from cellscape.pipeline import run_coverage
from cellscape.radio.link_budget import thermal_noise_dbm, tx_power_per_re_dbm
from cellscape.radio.throughput import data_rate_bps, downlink_throughput_bps, spectral_efficiency_bps_hz
from cellscape.radio.uplink import uplink_map
from cellscape.scenario.devices import device_profile
from cellscape.scenario.model import parse_scenario

X0, Y0 = 385_000.0, 6_671_000.0


def scenario(**over):
    d = {"name": "u", "seed": 2, "environment": "UMa",
         "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 1500, Y0 + 600], "resolution_m": 20},
         "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30},
         "sites": [{"site_id": "A", "x": X0 + 200, "y": Y0 + 300, "height_m": 25,
                    "sectors": [{"azimuth_deg": 90, "tx_power_dbm": 46}]}]}
    d.update(over)
    return parse_scenario(d)


@pytest.fixture(scope="module")
def run():
    return run_coverage(scenario(uplink={"p0_dbm": -95, "alpha": 0.7, "gnb_noise_figure_db": 4,
                                         "interference_margin_db": 2}))


def test_uplink_by_hand_at_a_pixel(run):
    res, ul = run.result, run.uplink
    r, c = 15, 40
    p_re = float(tx_power_per_re_dbm(46.0, 273))                       # receiver gain 0 dBi
    cl = p_re - float(res.rsrp_dbm[r, c])
    assert ul.coupling_loss_db[r, c] == pytest.approx(cl, abs=1e-3)
    p = min(23.0, -95.0 + 10 * math.log10(2 * 273) + 0.7 * cl)
    assert ul.tx_power_dbm[r, c] == pytest.approx(p, abs=1e-3)
    sinr = p - 10 * math.log10(273) - cl - float(thermal_noise_dbm(360e3, 4.0)) - 2.0
    assert ul.sinr_db[r, c] == pytest.approx(sinr, abs=1e-3)
    rate = float(data_rate_bps(spectral_efficiency_bps_hz(np.float32(sinr)), 273, 30.0, direction="UL"))
    assert ul.throughput_bps[r, c] == pytest.approx(rate, rel=1e-5)
    assert run.kpis["uplink"]["n_prb"] == 273


def test_uplink_weaker_far_away(run):
    """Beyond the full-power point the uplink SINR falls 1 dB per dB of coupling loss."""
    ul = run.uplink
    cl, s = ul.coupling_loss_db.ravel(), ul.sinr_db.ravel()
    full = ul.tx_power_dbm.ravel() >= 23.0 - 1e-6
    assert full.any() and (~full).any()
    np.testing.assert_allclose(s[full] + cl[full], (s[full] + cl[full])[0], atol=1e-3)
    k = run.kpis["uplink"]
    assert k["area_fraction_both_covered"] <= min(k["area_fraction_dl_covered"], k["area_fraction_ul_covered"])


@given(st.floats(60, 170), st.floats(60, 170))
def test_uplink_sinr_monotone_in_coupling_loss(a, b):
    lo, hi = sorted((a, b))
    _, s = uplink_map([lo, hi], p_cmax_dbm=23.0, p0_dbm=-90.0, alpha=0.8, n_prb=50, scs_khz=30.0,
                      gnb_noise_figure_db=5.0)
    assert s[0] >= s[1] - 1e-4


def test_redcap_map_uses_its_own_prbs():
    sc = scenario()
    red = run_coverage(sc, device=device_profile("redcap"))
    assert red.scenario.receiver.antenna_gain_dbi == -3.0 and red.device == "redcap"
    np.testing.assert_allclose(red.result.throughput_bps, downlink_throughput_bps(red.result.sinr_db, 51, 30.0),
                               rtol=1e-6)
    assert red.uplink.n_prb == 51 and red.result.meta["device_n_prb"] == 51
    phone = run_coverage(sc)
    assert np.nanmax(red.result.throughput_bps) < np.nanmax(phone.result.throughput_bps)
    # the 3 dB antenna loss: RSRP 3 dB lower everywhere
    np.testing.assert_allclose(red.result.rsrp_dbm, phone.result.rsrp_dbm - 3.0, atol=1e-4)


def test_cpe_height_changes_the_map():
    sc = scenario()
    cpe = run_coverage(sc, device=device_profile("cpe"))
    assert cpe.scenario.receiver.height_m == 5.0 and cpe.scenario.receiver.max_tx_power_dbm == 26.0


def test_narrow_band_devices_and_too_many_prbs_refused():
    with pytest.raises(ScenarioError, match="nbiot device is served on its own narrow-band carrier"):
        run_coverage(scenario(), device=device_profile("nbiot"))
    with pytest.raises(ScenarioError, match="uplink.n_prb: at most the carrier's 273 PRBs"):
        run_coverage(scenario(uplink={"n_prb": 275}))
