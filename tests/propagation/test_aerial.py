"""Aerial-UE path loss, LOS probability and shadow fading (TR 36.777 V15.0.0 Annex B, Tables B-1 to
B-3): hand-worked values, continuity and monotonicity properties, validity ranges."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError
from cellscape.propagation import aerial
from cellscape.propagation.free_space import free_space_path_loss_db


def fs_1m_db(fc_ghz):
    return 20 * math.log10(40 * math.pi * fc_ghz / 3)        # 20 lg(40 pi fc/3), the TR's free space at 1 m


def test_uma_av_los_hand_worked():
    # h_BS 25 m, h_UT 100 m, d_2D 500 m, 3.5 GHz: d_3D = sqrt(500^2 + 75^2) = 505.594 m
    # 28 + 22 x 2.703801 + 20 x 0.544068 = 28 + 59.4836 + 10.8814 = 98.365 dB
    assert float(aerial.uma_av_los_path_loss_db(500.0, 25.0, 100.0, 3.5)) == pytest.approx(98.365, abs=1e-3)


def test_uma_av_nlos_hand_worked():
    # h_UT 50 m: 46 - 7 lg 50 = 34.10721; d_3D = sqrt(500^2 + 25^2) = 500.625, lg = 2.699513
    # 20 lg(40 pi 3.5 / 3) = 43.3226; -17.5 + 34.10721 x 2.699513 + 43.3226 = 117.896 dB
    assert float(aerial.uma_av_nlos_path_loss_db(500.0, 25.0, 50.0, 3.5)) == pytest.approx(117.896, abs=1e-3)


def test_rma_av_hand_worked():
    # h_UT 100 m: 23.9 - 1.8 x 2 = 20.3 (> 20); d_3D = sqrt(1000^2 + 65^2) = 1002.110, lg = 3.000916
    # LOS: 20.3 x 3.000916 + 20 lg(40 pi 2 / 3) (= 38.4640) = 60.9186 + 38.4640 = 99.381 dB
    # NLOS: -12 + (35 - 10.6) x 3.000916 + 38.4640 = 99.685 dB (> LOS)
    assert float(aerial.rma_av_los_path_loss_db(1000.0, 35.0, 100.0, 2.0)) == pytest.approx(99.381, abs=1e-3)
    assert float(aerial.rma_av_nlos_path_loss_db(1000.0, 35.0, 100.0, 2.0)) == pytest.approx(99.685, abs=1e-3)
    # at 300 m the slope is floored at 20: 23.9 - 1.8 lg 300 = 19.44 -> 20, i.e. free space
    d3d = math.hypot(2000.0, 265.0)
    assert float(aerial.rma_av_los_path_loss_db(2000.0, 35.0, 300.0, 2.0)) == pytest.approx(
        20 * math.log10(d3d) + fs_1m_db(2.0), abs=1e-9)


def test_umi_av_hand_worked():
    # h_BS 10 m, h_UT 60 m, d_2D 300 m, 3.5 GHz: d_3D = sqrt(300^2 + 50^2) = 304.138, lg = 2.483071
    # free space 20 x 2.483071 + 43.3226 = 92.984; 30.9 + (22.25 - 0.5 x 1.778151) x 2.483071
    # + 10.8814 = 94.822 -> LOS 94.822; NLOS 32.4 + (43.2 - 13.51395) x 2.483071 + 10.8814 = 116.994
    assert float(aerial.umi_av_los_path_loss_db(300.0, 10.0, 60.0, 3.5)) == pytest.approx(94.822, abs=1e-3)
    assert float(aerial.umi_av_nlos_path_loss_db(300.0, 10.0, 60.0, 3.5)) == pytest.approx(116.994, abs=1e-3)


def test_umi_av_los_floored_at_free_space():
    """Note 3: PL' is the free-space loss (TR form, c = 3e8: within 0.0001 dB of Friis with the exact c)."""
    d2d = np.array([10.0, 50.0, 200.0, 1000.0, 4000.0])
    pl = aerial.umi_av_los_path_loss_db(d2d, 10.0, 150.0, 28.0)
    fs = free_space_path_loss_db(np.hypot(d2d, 140.0), 28.0)
    assert np.all(pl >= fs - 1e-3)


def test_los_probability_hand_worked():
    # UMa-AV, h 50 m: p1 = 4300 x 1.69897 - 3800 = 3505.57, d1 = 460 x 1.69897 - 700 = 81.526;
    # at 500 m: 0.163052 + exp(-0.142631) x 0.836948 = 0.163052 + 0.867073 x 0.836948 = 0.88875
    assert float(aerial.uma_av_los_probability(500.0, 50.0)) == pytest.approx(0.88875, abs=1e-5)
    # RMa-AV, h 30 m: p1 = 15021 x 1.477121 - 16053 = 6134.84, d1 = 1350.8 x 1.477121 - 1602 = 393.295;
    # at 2 km: 0.196648 + exp(-0.326006) x 0.803352 = 0.776508
    assert float(aerial.rma_av_los_probability(2000.0, 30.0)) == pytest.approx(0.776508, abs=1e-5)
    # UMi-AV, h 100 m: p1 = 467.01, d1 = 588.1 - 432.94 = 155.16; at 500 m: 0.31032 + exp(-1.070641) x 0.68968
    assert float(aerial.umi_av_los_probability(500.0, 100.0)) == pytest.approx(0.546735, abs=1e-5)
    # inside d1, and the 100 % rows
    assert float(aerial.uma_av_los_probability(50.0, 50.0)) == 1.0
    assert float(aerial.rma_av_los_probability(9000.0, 40.0 + 1e-9)) == 1.0
    assert float(aerial.uma_av_los_probability(4000.0, 120.0)) == 1.0
    # d1 floored at 18 m just above the threshold (460 lg 23 - 700 < 18)
    assert float(aerial.uma_av_los_probability(18.0, 23.0)) == 1.0 > float(aerial.uma_av_los_probability(18.5, 23.0))


def test_shadow_fading_table_b3():
    assert float(aerial.shadow_fading_std_db("RMa-AV", True, 100.0)) == pytest.approx(4.2 * math.exp(-0.46))
    assert float(aerial.shadow_fading_std_db("UMa-AV", True, 100.0)) == pytest.approx(2.398190, abs=1e-6)
    assert float(aerial.shadow_fading_std_db("UMi-AV", True, 200.0)) == 2.0           # 5 e^-2 = 0.68 -> 2
    assert float(aerial.shadow_fading_std_db("UMi-AV", True, 30.0)) == pytest.approx(5 * math.exp(-0.3))
    assert [float(aerial.shadow_fading_std_db(s, False, 30.0)) for s in aerial.AERIAL_SCENARIOS] == [6.0, 6.0, 8.0]
    with pytest.raises(OutOfValidityRangeError, match=r"h_ut_m=50 is outside \[10, 40\]"):
        aerial.shadow_fading_std_db("RMa-AV", False, 50.0)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(aerial.AERIAL_SCENARIOS), st.floats(23.0, 300.0), st.floats(1.0, 3900.0),
       st.floats(1.0, 3900.0))
def test_nlos_at_least_los_and_los_probability_monotone(scenario, h_ut, d_a, d_b):
    """NLOS >= LOS where the table floors it (RMa-AV, UMi-AV); path loss grows with distance; the LOS
    probability is in [0, 1] and does not grow with distance."""
    lo, hi = sorted((d_a, d_b))
    h_bs = {"RMa-AV": 35.0, "UMa-AV": 25.0, "UMi-AV": 10.0}[scenario]
    los = aerial.path_loss_db(scenario, np.array([lo, hi]), h_bs, h_ut, 2.0, True)
    assert los[1] >= los[0] - 1e-9
    if scenario != "UMa-AV":
        nlos = aerial.path_loss_db(scenario, np.array([lo, hi]), h_bs, h_ut, 2.0, False)
        assert np.all(nlos >= los - 1e-9)
    p = aerial.los_probability(scenario, np.array([lo, hi]), h_ut)
    assert np.all((p >= 0) & (p <= 1)) and p[1] <= p[0] + 1e-12


def test_los_law_continuous_at_d1():
    h = 60.0
    d1 = 460 * math.log10(h) - 700
    below = float(aerial.uma_av_los_probability(d1, h))
    above = float(aerial.uma_av_los_probability(d1 * (1 + 1e-9), h))
    assert below == 1.0 and above == pytest.approx(1.0, abs=1e-6)


def test_validity_ranges_and_choices():
    with pytest.raises(OutOfValidityRangeError, match=r"^h_ut_m=22.5 is outside .*Table B-2.*cellscape.propagation"
                                                      r".tr38901.uma_\*"):
        aerial.uma_av_los_path_loss_db(100.0, 25.0, 22.5, 3.5)         # the threshold itself is TR 38.901's
    with pytest.raises(OutOfValidityRangeError, match=r"h_ut_m=150 is outside \[10, 100\]"):
        aerial.uma_av_nlos_path_loss_db(100.0, 25.0, 150.0, 3.5)
    with pytest.raises(OutOfValidityRangeError, match=r"h_ut_m=301 is outside"):
        aerial.umi_av_los_path_loss_db(100.0, 10.0, 301.0, 3.5)
    with pytest.raises(OutOfValidityRangeError, match=r"d2d_m=5000 is outside \[0, 4000\]"):
        aerial.uma_av_los_path_loss_db(5000.0, 25.0, 100.0, 3.5)
    assert np.isnan(aerial.uma_av_los_path_loss_db(5000.0, 25.0, 100.0, 3.5, out_of_range="nan"))
    assert float(aerial.rma_av_los_path_loss_db(12_000.0, 35.0, 100.0, 2.0, out_of_range="clip")) == pytest.approx(
        float(aerial.rma_av_los_path_loss_db(10_000.0, 35.0, 100.0, 2.0)))
    with pytest.raises(OutOfValidityRangeError, match=r"fc_ghz=0 is outside"):
        aerial.rma_av_los_path_loss_db(100.0, 35.0, 100.0, 0.0)
    with pytest.raises(InvalidChoiceError, match=r"scenario='UMa'"):
        aerial.path_loss_db("UMa", 100.0, 25.0, 100.0, 3.5, True)
