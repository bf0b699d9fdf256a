"""ITU-R P.526-15 knife edge and Bullington: values worked from the Recommendation's equations,
and properties (monotone, continuous, symmetric)."""

import math

import numpy as np
import pytest

from cellscape.coverage.tables import diffraction_table
from cellscape.errors import OutOfValidityRangeError
from cellscape.propagation.diffraction import (
    EFFECTIVE_EARTH_RADIUS_M,
    bullington_correction_db,
    bullington_loss_db,
    bullington_parameter,
    knife_edge_loss_db,
)

FLAT = math.inf
FC = 2.99792458        # lambda = 0.1 m


@pytest.mark.parametrize("nu, expected_db", [
    # J(nu) = 6.9 + 20 log10(sqrt((nu-0.1)^2+1) + nu - 0.1), P.526-15 eq. (31), worked by hand
    (0.0, 6.9 + 20 * math.log10(math.sqrt(1.01) - 0.1)),         # 6.0329
    (1.0, 6.9 + 20 * math.log10(math.sqrt(1.81) + 0.9)),         # 13.926
    (2.4, 6.9 + 20 * math.log10(math.sqrt(6.29) + 2.3)),         # 20.66
    (-0.5, 6.9 + 20 * math.log10(math.sqrt(1.36) - 0.6)),        # 1.2 dB
    (-0.78, 0.0),                                                # the limit itself: 0
    (-3.0, 0.0),
])
def test_knife_edge_worked_values(nu, expected_db):
    assert float(knife_edge_loss_db(nu)) == pytest.approx(expected_db, abs=1e-9)


def test_knife_edge_is_about_6_db_at_grazing_and_20log_at_large_nu():
    assert float(knife_edge_loss_db(0.0)) == pytest.approx(6.02, abs=0.02)
    # asymptote of the Fresnel-integral loss: 20 log10(pi nu / sqrt(2))... J approaches 13 + 20 log10(nu)
    assert float(knife_edge_loss_db(50.0)) == pytest.approx(13.0 + 20 * math.log10(50.0), abs=0.1)


def test_knife_edge_monotone_and_continuous_at_the_limit():
    nu = np.linspace(-0.78, 30, 30001)
    j = knife_edge_loss_db(nu)
    assert np.all(np.diff(j) > 0)
    assert float(knife_edge_loss_db(-0.78 + 1e-9)) == pytest.approx(0.0, abs=0.01)  # J(-0.78) ~ 0.006 dB
    assert np.isnan(knife_edge_loss_db(np.nan))


def test_bullington_correction_worked_value():
    j = 13.926
    assert float(bullington_correction_db(j, 2000.0)) == pytest.approx(j + (1 - math.exp(-j / 6)) * 10.04, abs=1e-9)
    assert float(bullington_correction_db(0.0, 5000.0)) == 0.0


def test_single_edge_nlos_reduces_to_the_knife_edge_formula():
    # one edge h above the line at d1, d2: the Bullington point is the edge itself
    d1, d2, h = 300.0, 700.0, 12.0
    nu, los = bullington_parameter([d1], [20.0 + h], h_tx_m=20.0, h_rx_m=20.0, d_total_m=d1 + d2, fc_ghz=FC,
                                   earth_radius_m=FLAT)
    assert not los
    assert nu == pytest.approx(h * math.sqrt(2 * (d1 + d2) / (0.1 * d1 * d2)), rel=1e-12)


def test_two_edges_worked_by_hand():
    # tx 10 m, rx 2 m, 1 km; edges 30 m at 200 m and 25 m at 700 m (flat earth, lambda 0.1 m)
    d = 1000.0
    s_tim = max((30 - 10) / 200, (25 - 10) / 700)          # 0.1
    s_rim = max((30 - 2) / 800, (25 - 2) / 300)            # 0.0767
    d_b = (2 - 10 + s_rim * d) / (s_tim + s_rim)
    nu_b = (10 + s_tim * d_b - (10 * (d - d_b) + 2 * d_b) / d) * math.sqrt(2 * d / (0.1 * d_b * (d - d_b)))
    nu, los = bullington_parameter([200.0, 700.0], [30.0, 25.0], h_tx_m=10.0, h_rx_m=2.0, d_total_m=d, fc_ghz=FC,
                                   earth_radius_m=FLAT)
    assert not los and nu == pytest.approx(nu_b, rel=1e-12)
    loss = bullington_loss_db([200.0, 700.0], [30.0, 25.0], h_tx_m=10.0, h_rx_m=2.0, d_total_m=d, fc_ghz=FC,
                              earth_radius_m=FLAT)
    j = float(knife_edge_loss_db(nu_b))
    assert loss == pytest.approx(j + (1 - math.exp(-j / 6)) * (10 + 0.02), rel=1e-12)


def test_los_profile_takes_the_largest_nu_and_symmetry():
    d_i, h_i = np.array([100.0, 400.0, 800.0]), np.array([5.0, 18.0, 3.0])
    kw = dict(d_total_m=1000.0, fc_ghz=FC, earth_radius_m=FLAT)
    nu, los = bullington_parameter(d_i, h_i, h_tx_m=20.0, h_rx_m=20.0, **kw)
    assert los and nu == pytest.approx(-2.0 * math.sqrt(2 * 1000 / (0.1 * 400 * 600)), rel=1e-12)
    # reciprocity: swapping the ends (and mirroring the profile) gives the same nu
    nu_back, los_back = bullington_parameter(1000.0 - d_i, h_i, h_tx_m=20.0, h_rx_m=20.0, **kw)
    assert los_back and nu_back == pytest.approx(nu, rel=1e-12)
    nu1, _ = bullington_parameter([200.0, 700.0], [30.0, 25.0], h_tx_m=10.0, h_rx_m=2.0, **kw)
    nu2, _ = bullington_parameter([300.0, 800.0], [25.0, 30.0], h_tx_m=2.0, h_rx_m=10.0, **kw)
    assert nu2 == pytest.approx(nu1, rel=1e-12)


def test_earth_bulge_adds_d1_d2_over_2ae():
    nu_flat, _ = bullington_parameter([5000.0], [50.0], h_tx_m=40.0, h_rx_m=40.0, d_total_m=10_000.0, fc_ghz=FC,
                                      earth_radius_m=FLAT)
    nu_round, _ = bullington_parameter([5000.0], [50.0], h_tx_m=40.0, h_rx_m=40.0, d_total_m=10_000.0, fc_ghz=FC)
    bulge = 5000.0 * 5000.0 / (2 * EFFECTIVE_EARTH_RADIUS_M)          # 1.47 m
    scale = math.sqrt(2 * 10_000 / (0.1 * 5000 * 5000))
    assert nu_round - nu_flat == pytest.approx(bulge * scale, rel=1e-9)


def test_loss_grows_with_obstacle_height_and_is_continuous_through_grazing():
    kw = dict(h_tx_m=10.0, h_rx_m=10.0, d_total_m=500.0, fc_ghz=FC, earth_radius_m=FLAT)
    heights = np.linspace(5.0, 30.0, 501)
    losses = [bullington_loss_db([250.0], [h], **kw) for h in heights]
    assert np.all(np.diff(losses) >= -1e-12)
    below = bullington_loss_db([250.0], [10.0 - 1e-7], **kw)
    above = bullington_loss_db([250.0], [10.0 + 1e-7], **kw)
    assert above - below == pytest.approx(0.0, abs=1e-4)


def test_empty_profile_and_bad_inputs():
    assert bullington_parameter([], [], h_tx_m=1.0, h_rx_m=1.0, d_total_m=10.0, fc_ghz=1.0) == (-math.inf, True)
    with pytest.raises(OutOfValidityRangeError, match=r"profile distances must lie in \(0, 10\) m"):
        bullington_parameter([10.0], [5.0], h_tx_m=1.0, h_rx_m=1.0, d_total_m=10.0, fc_ghz=1.0)
    with pytest.raises(OutOfValidityRangeError, match="must be > 0"):
        bullington_parameter([1.0], [5.0], h_tx_m=1.0, h_rx_m=1.0, d_total_m=10.0, fc_ghz=0.0)


def test_engine_table_reproduces_the_model_within_0_01_db():
    table = diffraction_table(1500.0)
    nu = np.random.default_rng(3).uniform(-0.78, 99.0, 20000)
    x = (nu - table.nu_min) / table.nu_step
    k = x.astype(int)
    g = table.gain_lin[k] + (table.gain_lin[k + 1] - table.gain_lin[k]) * (x - k)
    exact = bullington_correction_db(knife_edge_loss_db(nu), 1500.0)
    assert np.max(np.abs(-10 * np.log10(g) - exact)) < 0.01
