"""TS 38.213 7.1.1 open-loop PUSCH power, worked by hand."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellscape.radio.uplink import pusch_power_dbm, uplink_sinr_db


def test_pusch_power_worked():
    # P0 -90 dBm, 10 PRB at 30 kHz (2^1 x 10 = 20 RBs of 180 kHz at 15 kHz: +13.01 dB), alpha 0.8, PL 120 dB
    assert pusch_power_dbm(23.0, -90.0, 0.8, 120.0, 10, 1) == pytest.approx(-90 + 10 * math.log10(20) + 96)
    assert pusch_power_dbm(23.0, -90.0, 0.8, 150.0, 10, 1) == 23.0              # power-limited


@given(st.floats(60, 180), st.floats(60, 180), st.integers(1, 273))
def test_pusch_power_monotone_in_path_loss_and_capped(pl1, pl2, n_prb):
    a, b = sorted((pl1, pl2))
    assert pusch_power_dbm(23.0, -90.0, 0.8, a, n_prb, 1) <= pusch_power_dbm(23.0, -90.0, 0.8, b, n_prb, 1) <= 23.0


def test_uplink_sinr_noise_limited():
    # 23 dBm over 10 PRB, 130 dB coupling loss: -97 dBm per PRB over a -112.4 dBm noise per PRB
    assert float(uplink_sinr_db(23.0, 10, 130.0, -112.4)) == pytest.approx(23 - 10 - 130 + 112.4)
