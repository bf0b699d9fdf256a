"""Radar equation, processing gain, sensing SNR and NR resolution figures (cellscape.sensing.radar).

Oracles are written out here from the textbook formulas (Richards 2014 ch. 2; Skolnik 2008 ch. 23),
not from the module, so a sign or a 4 pi slip in the module shows up.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError
from cellscape.propagation.free_space import free_space_path_loss_db
from cellscape.sensing.radar import (
    bistatic_angle_deg,
    bistatic_echo_power_dbm,
    coherent_processing_interval_s,
    echo_power_dbm,
    max_unambiguous_range_m,
    max_unambiguous_velocity_m_s,
    monostatic_echo_power_dbm,
    ofdm_processing_gain_db,
    ofdm_symbol_duration_s,
    range_resolution_m,
    sensing_snr_db,
    target_coupling_loss_db,
    velocity_resolution_m_s,
)

C = 299_792_458.0


def test_monostatic_worked_example_by_hand():
    # 3.5 GHz, 46 dBm (39.81 W), 8 dBi each way, sigma = 1 m^2, R = 200 m, linear units throughout.
    p_t_w = 10 ** (46 / 10) / 1e3
    g = 10 ** (8 / 10)
    lam = C / 3.5e9
    p_r_w = p_t_w * g * g * lam ** 2 * 1.0 / ((4 * math.pi) ** 3 * 200.0 ** 4)
    expected_dbm = 10 * math.log10(p_r_w * 1e3)
    assert expected_dbm == pytest.approx(-84.362, abs=1e-3)   # the number, written down once
    assert float(monostatic_echo_power_dbm(46.0, 8.0, 8.0, 0.0, 200.0, 3.5)) == pytest.approx(expected_dbm, abs=1e-9)


def test_bistatic_by_hand():
    p_t_w, lam, sigma = 10.0, C / 6e9, 0.05
    r_t, r_r = 350.0, 120.0
    p_r_w = p_t_w * lam ** 2 * sigma / ((4 * math.pi) ** 3 * r_t ** 2 * r_r ** 2)
    got = bistatic_echo_power_dbm(40.0, 0.0, 0.0, 10 * math.log10(sigma), r_t, r_r, 6.0)
    assert float(got) == pytest.approx(10 * math.log10(p_r_w * 1e3), abs=1e-9)


def test_tr38901_coupling_loss_matches_table_7_9_6_1_1_form():
    # L = PL(d1) + PL(d2) + 10 lg(c^2 / (4 pi f^2)) - 10 lg(sigma) + SF1 + SF2 (Table 7.9.6.1-1)
    f_hz = 30e9
    expected = 100.0 + 110.0 + 10 * math.log10(C ** 2 / (4 * math.pi * f_hz ** 2)) - (-12.81) + 3.0 - 1.0
    got = target_coupling_loss_db(100.0, 110.0, -12.81, 30.0, shadow_fading_tx_db=3.0, shadow_fading_rx_db=-1.0)
    assert float(got) == pytest.approx(expected, abs=1e-9)


def test_coupling_loss_with_free_space_segments_is_the_radar_equation():
    d1, d2, fc = np.array([50.0, 400.0]), np.array([80.0, 900.0]), 3.5
    loss = target_coupling_loss_db(free_space_path_loss_db(d1, fc), free_space_path_loss_db(d2, fc), 0.0, fc)
    assert_allclose(echo_power_dbm(30.0, 0.0, 0.0, loss), bistatic_echo_power_dbm(30.0, 0.0, 0.0, 0.0, d1, d2, fc))


@given(st.floats(1.0, 5e3), st.floats(1.0, 5e3), st.floats(0.5, 100.0), st.floats(-30.0, 30.0))
def test_bistatic_symmetric_in_the_two_legs(r1, r2, fc, rcs):
    a = bistatic_echo_power_dbm(40.0, 5.0, 5.0, rcs, r1, r2, fc)
    b = bistatic_echo_power_dbm(40.0, 5.0, 5.0, rcs, r2, r1, fc)
    assert float(a) == pytest.approx(float(b), abs=1e-9)


@given(st.floats(1.0, 1e4), st.floats(1.0001, 10.0), st.floats(0.5, 100.0))
def test_echo_falls_40_db_per_decade_and_monotone_in_range(r, factor, fc):
    near = float(monostatic_echo_power_dbm(46.0, 8.0, 8.0, 0.0, r, fc))
    far = float(monostatic_echo_power_dbm(46.0, 8.0, 8.0, 0.0, r * factor, fc))
    assert far < near
    assert near - far == pytest.approx(40.0 * math.log10(factor), abs=1e-8)


def test_nonpositive_range_raises_with_name():
    with pytest.raises(OutOfValidityRangeError, match=r"d3d_m=0 is outside"):
        monostatic_echo_power_dbm(46.0, 8.0, 8.0, 0.0, 0.0, 3.5)


def test_processing_gain_and_sensing_snr():
    assert float(ofdm_processing_gain_db(3276, 14)) == pytest.approx(10 * math.log10(3276 * 14))
    assert float(ofdm_processing_gain_db(12)) == pytest.approx(10 * math.log10(12))
    # noise per RE: -174 + 10 lg(30e3) + 7 dB
    noise = -174.0 + 10 * math.log10(30e3) + 7.0
    assert float(sensing_snr_db(-130.0, 40.0, 30.0, 7.0)) == pytest.approx(-130.0 + 40.0 - noise)
    with pytest.raises(OutOfValidityRangeError, match=r"n_symbols=0 is outside \[1, inf\]"):
        ofdm_processing_gain_db(12, 0)


@pytest.mark.parametrize(("bandwidth_hz", "expected_m"), [
    (100e6, 1.5),       # 100 MHz FR1 carrier
    (400e6, 0.375),     # 400 MHz FR2 carrier at 120 kHz
    (20e6, 7.5),
])
def test_range_resolution_of_nr_bandwidths(bandwidth_hz, expected_m):
    # c rounded to 3e8 gives the round figures; exact c is 0.07 % lower
    assert float(range_resolution_m(bandwidth_hz)) == pytest.approx(expected_m, rel=1e-3)


def test_bistatic_range_resolution():
    mono = float(range_resolution_m(100e6))
    assert float(range_resolution_m(100e6, bistatic_angle_deg=120.0)) == pytest.approx(mono / math.cos(math.radians(60)))
    with pytest.raises(OutOfValidityRangeError, match=r"bistatic_angle_deg=180 is outside"):
        range_resolution_m(100e6, bistatic_angle_deg=180.0)


@pytest.mark.parametrize(("scs_khz", "expected_m"), [(15, 10_000.0), (30, 5_000.0), (120, 1_250.0)])
def test_max_unambiguous_range(scs_khz, expected_m):
    assert float(max_unambiguous_range_m(scs_khz)) == pytest.approx(expected_m, rel=1e-3)


def test_symbol_timing_ts38211():
    # TS 38.211 5.3.1: T_c = 1/(480e3 * 4096), kappa = 64; mu = 1: N_u = 2048 k 2^-1, N_CP = 144 k 2^-1,
    # plus 16 k once per 0.5 ms (14 symbols at mu = 1).
    t_c, kappa, mu = 1.0 / (480e3 * 4096), 64, 1
    half_ms = 14 * (2048 + 144) * kappa * 2 ** -mu * t_c + 16 * kappa * t_c
    assert half_ms == pytest.approx(0.5e-3, rel=1e-12)
    assert ofdm_symbol_duration_s(30) == pytest.approx(half_ms / 14, rel=1e-12)
    assert float(coherent_processing_interval_s(28, 30)) == pytest.approx(1e-3)
    with pytest.raises(InvalidChoiceError, match="scs_khz=45"):
        ofdm_symbol_duration_s(45)


def test_velocity_figures():
    lam = C / 3.5e9
    assert float(velocity_resolution_m_s(3.5, 0.01)) == pytest.approx(lam / 0.02)
    t_sym = 1e-3 / 28
    assert float(max_unambiguous_velocity_m_s(3.5, 30)) == pytest.approx(lam / (4 * t_sym))
    # FR2: 28 GHz at 120 kHz
    assert float(max_unambiguous_velocity_m_s(28.0, 120)) == pytest.approx((C / 28e9) / (4 * 1e-3 / 112))


def test_bistatic_angle_triangle():
    assert_allclose(bistatic_angle_deg([100.0, 100.0, 3.0], [100.0, 100.0, 4.0], [0.0, 200.0, 5.0]),
                    [0.0, 180.0, 90.0], atol=1e-9)
