"""Link budget: power per RE, RSRP (TS 38.215 5.1.1), thermal noise, best-server SINR, coupling loss."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

from cellscape.errors import OutOfValidityRangeError
from cellscape.radio.link_budget import (
    best_server_sinr_db,
    coupling_loss_db,
    noise_per_re_dbm,
    rsrp_dbm,
    thermal_noise_dbm,
    tx_power_per_re_dbm,
)

# Hand-worked values; tolerance 1e-4 dB = the rounding of the hand values to 5 significant digits.
HAND_ATOL_DB = 1e-4


def test_power_per_re_spreads_over_12_n_prb_subcarriers():
    # 46 dBm over 273 PRBs = 3276 subcarriers: 46 - 10 log10(3276) = 46 - 35.15344 = 10.84656 dBm
    assert float(tx_power_per_re_dbm(46.0, 273)) == pytest.approx(10.84656, abs=HAND_ATOL_DB)
    # one PRB: 12 subcarriers -> -10.79181 dB
    assert float(tx_power_per_re_dbm(0.0, 1)) == pytest.approx(-10.79181, abs=HAND_ATOL_DB)


def test_power_per_re_broadcasts_over_sectors():
    assert tx_power_per_re_dbm(np.array([46.0, 43.0]), 273).shape == (2,)


def test_rsrp_adds_gains_and_subtracts_losses():
    # 10 + 15 + 2 - 120 - 4 - 3 = -100 dBm
    assert float(rsrp_dbm(10.0, 15.0, 120.0, shadow_fading_db=4.0, other_loss_db=3.0, rx_gain_dbi=2.0)) == -100.0


def test_rsrp_broadcasts_sector_axis_against_pixels():
    r = rsrp_dbm(np.array([10.0, 7.0])[:, None], np.zeros((2, 5)), np.full(5, 100.0))
    assert r.shape == (2, 5)
    assert_allclose(r[:, 0], [-90.0, -93.0])


def test_thermal_noise():
    # -174 + 10 log10(1e8) + 9 = -174 + 80 + 9 = -85 dBm
    assert float(thermal_noise_dbm(100e6, 9.0)) == pytest.approx(-85.0, abs=1e-12)
    # one 30 kHz RE: 10 log10(3e4) = 44.77121 -> -120.22879 dBm
    assert float(noise_per_re_dbm(30.0, 9.0)) == pytest.approx(-120.22879, abs=HAND_ATOL_DB)
    # one 15 kHz RE, NF 7: 10 log10(1.5e4) = 41.76091 -> -125.23909 dBm
    assert float(noise_per_re_dbm(15.0, 7.0)) == pytest.approx(-125.23909, abs=HAND_ATOL_DB)


def test_noise_per_re_times_subcarriers_is_the_carrier_noise():
    # 3276 REs of 30 kHz = 98.28 MHz
    total = float(noise_per_re_dbm(30.0, 9.0)) + 10 * np.log10(3276)
    assert total == pytest.approx(float(thermal_noise_dbm(3276 * 30e3, 9.0)), abs=1e-9)


def test_best_server_three_sectors_by_hand():
    # S = -80 dBm = 1e-8 mW; I = 10^-8.3 + 10^-9 = 6.01187e-9 mW; N = -95 dBm = 3.16228e-10 mW
    # full load: 1e-8 / 6.33410e-9 = 1.57876 -> 1.98727 dB
    # half load: 1e-8 / (3.00594e-9 + 3.16228e-10) = 3.01009 -> 4.78579 dB
    rsrp = np.array([[-83.0], [-80.0], [-90.0]])
    best, sinr = best_server_sinr_db(rsrp, -95.0)
    assert best.tolist() == [1]
    assert float(sinr[0]) == pytest.approx(1.98727, abs=HAND_ATOL_DB)
    _, sinr_half = best_server_sinr_db(rsrp, -95.0, load_factor=0.5)
    assert float(sinr_half[0]) == pytest.approx(4.78579, abs=HAND_ATOL_DB)


def test_single_sector_has_no_interference():
    best, sinr = best_server_sinr_db([[-100.0, -110.0]], np.array([-120.0, -115.0]))
    assert best.tolist() == [0, 0]
    assert_allclose(sinr, [20.0, 5.0], atol=1e-9)


def test_equal_sectors_without_noise_give_0_db_and_empty_network_gives_snr():
    _, sinr = best_server_sinr_db([[-80.0], [-80.0]], -300.0)
    assert float(sinr[0]) == pytest.approx(0.0, abs=1e-9)
    _, snr = best_server_sinr_db([[-80.0], [-80.0]], -90.0, load_factor=0.0)
    assert float(snr[0]) == pytest.approx(10.0, abs=1e-9)


def test_best_server_keeps_tile_shape():
    rng = np.random.default_rng(3)
    rsrp = rng.uniform(-130, -60, size=(4, 6, 7))              # (n_sectors, rows, cols)
    best, sinr = best_server_sinr_db(rsrp, np.full((6, 7), -120.0))
    assert best.shape == sinr.shape == (6, 7)
    assert np.array_equal(best, rsrp.argmax(axis=0))


def test_nan_rsrp_gives_nan_sinr():
    _, sinr = best_server_sinr_db([[np.nan, -80.0], [-90.0, -90.0]], -100.0)
    assert np.isnan(sinr[0]) and np.isfinite(sinr[1])


@given(arrays(float, (3, 4), elements=st.floats(-150.0, -40.0)), st.floats(-130.0, -90.0), st.floats(0.0, 1.0))
def test_sinr_never_exceeds_snr_nor_full_load_sinr_exceeds_partial(rsrp, noise_dbm, load):
    best, sinr = best_server_sinr_db(rsrp, noise_dbm, load_factor=load)
    signal = rsrp.max(axis=0)
    assert np.all(sinr <= signal - noise_dbm + 1e-9)
    _, sinr_full = best_server_sinr_db(rsrp, noise_dbm, load_factor=1.0)
    assert np.all(sinr_full <= sinr + 1e-9)
    assert np.all(rsrp[best, np.arange(4)] == signal)


def test_coupling_loss():
    # 120 + 4 + 10 - 17 - 0 = 117 dB
    assert float(coupling_loss_db(120.0, 4.0, 10.0, 17.0)) == 117.0
    # RSRP = P_RE + G_rx - coupling loss
    cl = coupling_loss_db(110.0, 3.0, 0.0, 15.0, 1.0)
    assert float(rsrp_dbm(10.0, 15.0, 110.0, 3.0, rx_gain_dbi=1.0)) == pytest.approx(10.0 - float(cl))

# ------------------------------------------------------------------------------------------ messages


def test_bad_inputs_raise_with_names():
    with pytest.raises(OutOfValidityRangeError, match=r"load_factor=1\.5 is outside \[0, 1\]"):
        best_server_sinr_db([[-80.0]], -100.0, load_factor=1.5)
    with pytest.raises(OutOfValidityRangeError, match=r"n_prb=0 is outside \[1, inf\]"):
        tx_power_per_re_dbm(46.0, 0)
    with pytest.raises(OutOfValidityRangeError, match=r"bandwidth_hz=0 is outside"):
        thermal_noise_dbm(0.0, 9.0)
    with pytest.raises(ValueError, match=r"leading sector axis"):
        best_server_sinr_db(-80.0, -100.0)
