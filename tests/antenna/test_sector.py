"""Sector antenna: TR 38.901 7.1 rotation (eqs 7.1-7/7.1-8), 7.3 vertical array, sector gain."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from cellscape.antenna.sector import (
    bearing_from_azimuth_deg,
    gcs_to_lcs_deg,
    sector_gain_dbi,
    vertical_array_factor_db,
)
from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError
from cellscape.scenario.records import AntennaSpec

# ---------------------------------------------------------------------------------------------- bearing


@pytest.mark.parametrize(("azimuth_deg", "bearing_deg"), [
    (0.0, 90.0), (90.0, 0.0), (180.0, -90.0), (270.0, 180.0), (30.0, 60.0), (120.0, -30.0),
    (240.0, -150.0), (359.0, 91.0), (-90.0, 180.0), (450.0, 0.0),
])
def test_bearing_is_90_minus_azimuth_wrapped(azimuth_deg, bearing_deg):
    assert float(bearing_from_azimuth_deg(azimuth_deg)) == pytest.approx(bearing_deg, abs=1e-12)


@given(st.floats(-720.0, 720.0))
def test_bearing_lies_in_half_open_interval(az):
    b = float(bearing_from_azimuth_deg(az))
    assert -180.0 < b <= 180.0
    assert np.cos(np.radians(b)) == pytest.approx(np.sin(np.radians(az)), abs=1e-9)   # east component

# ----------------------------------------------------------------------------------- GCS -> LCS rotation


def _rotation(alpha_deg, beta_deg, gamma_deg):
    """R = R_Z(alpha) R_Y(beta) R_X(gamma), TR 38.901 eqs 7.1-1 to 7.1-4 (independent oracle)."""
    a, b, g = np.radians([alpha_deg, beta_deg, gamma_deg])
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rx = np.array([[1, 0, 0], [0, np.cos(g), -np.sin(g)], [0, np.sin(g), np.cos(g)]])
    return rz @ ry @ rx


def _lcs_by_matrix(theta_deg, phi_deg, alpha_deg, beta_deg, gamma_deg):
    t, p = np.radians(theta_deg), np.radians(phi_deg)
    rho = np.array([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)])
    x, y, z = _rotation(alpha_deg, beta_deg, gamma_deg).T @ rho          # rho' = R^-1 rho (eq. 7.1-6)
    return np.degrees(np.arccos(np.clip(z, -1, 1))), np.degrees(np.arctan2(y, x))


@pytest.mark.parametrize(("theta", "phi", "kw", "expected"), [
    # no rotation but the bearing: theta unchanged, phi shifted
    (70.0, 50.0, dict(bearing_deg=30.0, downtilt_deg=0.0), (70.0, 20.0)),
    # the tilted boresight maps to (90, 0)
    (100.0, 30.0, dict(bearing_deg=30.0, downtilt_deg=10.0), (90.0, 0.0)),
    # nadir with 10 deg downtilt: cos theta' = -cos 10 -> 170; phi' = arg(sin 10) = 0
    (180.0, 0.0, dict(bearing_deg=0.0, downtilt_deg=10.0), (170.0, 0.0)),
    # zenith with 10 deg downtilt: theta' = 10, phi' = arg(-sin 10) = 180 (behind)
    (0.0, 0.0, dict(bearing_deg=0.0, downtilt_deg=10.0), (10.0, 180.0)),
    # 90 deg slant turns the LCS y' axis onto the GCS z axis: the GCS +y direction is LCS -z'
    (90.0, 90.0, dict(bearing_deg=0.0, downtilt_deg=0.0, slant_deg=90.0), (180.0, None)),
    # straight behind: phi' = 180, not -180
    (90.0, -150.0, dict(bearing_deg=30.0, downtilt_deg=0.0), (90.0, 180.0)),
])
def test_gcs_to_lcs_hand_cases(theta, phi, kw, expected):
    t_l, p_l = gcs_to_lcs_deg(theta, phi, **kw)
    assert float(t_l) == pytest.approx(expected[0], abs=1e-9)
    if expected[1] is not None:
        assert float(p_l) == pytest.approx(expected[1], abs=1e-9)


@given(theta=st.floats(1.0, 179.0), phi=st.floats(-180.0, 180.0), alpha=st.floats(-180.0, 180.0),
       beta=st.floats(-45.0, 45.0), gamma=st.floats(-45.0, 45.0))
def test_gcs_to_lcs_equals_rotation_matrix_oracle(theta, phi, alpha, beta, gamma):
    t_l, p_l = gcs_to_lcs_deg(theta, phi, bearing_deg=alpha, downtilt_deg=beta, slant_deg=gamma)
    t_ref, p_ref = _lcs_by_matrix(theta, phi, alpha, beta, gamma)
    assert float(t_l) == pytest.approx(t_ref, abs=1e-6)
    if 1e-3 < t_ref < 180 - 1e-3:                      # phi' is undefined on the LCS z axis
        diff = (float(p_l) - p_ref + 180.0) % 360.0 - 180.0
        assert abs(diff) < 1e-5
    assert -180.0 < float(p_l) <= 180.0


def test_gcs_to_lcs_broadcasts():
    t, p = gcs_to_lcs_deg(np.linspace(0, 180, 5)[:, None], np.linspace(-180, 180, 7)[None, :],
                          bearing_deg=10.0, downtilt_deg=5.0)
    assert t.shape == p.shape == (5, 7)

# --------------------------------------------------------------------------------- vertical array factor


def _array_factor_by_sum_db(theta_deg, m, d, elec_tilt_deg):
    """10 log10 |sum_m w_m v_m|^2 summed element by element (independent of the closed form)."""
    k = np.arange(m)
    v = np.exp(1j * 2 * np.pi * k * d * np.cos(np.radians(theta_deg)))
    w = np.exp(-1j * 2 * np.pi * k * d * np.cos(np.radians(90.0 + elec_tilt_deg))) / np.sqrt(m)
    return 10 * np.log10(max(abs(np.sum(w * v)) ** 2, 1e-30))


@pytest.mark.parametrize(("theta", "m", "d", "tilt", "expected_db"), [
    # 7.8 calibration array: M = 10, d_V = 0.8 lambda, theta_etilt = 102 deg: peak 10 log10(10)
    (102.0, 10, 0.8, 12.0, 10.0),
    # M = 2, d = 0.5: |1 + e^{j psi}|^2 / 2 = 1 + cos psi with psi = pi cos theta
    (90.0, 2, 0.5, 0.0, 10 * np.log10(2.0)),        # psi = 0 -> 2 -> 3.0103 dB
    (60.0, 2, 0.5, 0.0, 0.0),                       # psi = pi/2 -> 1 -> 0 dB
    (120.0, 2, 0.5, 0.0, 0.0),                      # psi = -pi/2 -> 1 -> 0 dB
    # M = 3, d = 0.5, theta = 60: sin^2(3 pi/4) / (3 sin^2(pi/4)) = 0.5 / 1.5 = 1/3 -> -4.7712 dB
    (60.0, 3, 0.5, 0.0, 10 * np.log10(1.0 / 3.0)),
    # M = 1: 0 dB everywhere
    (17.0, 1, 0.5, 12.0, 0.0),
])
def test_array_factor_hand_cases(theta, m, d, tilt, expected_db):
    got = float(vertical_array_factor_db(theta, n_rows=m, row_spacing_wavelengths=d, elec_tilt_deg=tilt))
    assert got == pytest.approx(expected_db, abs=1e-9)


def test_array_factor_exact_null_is_floored_not_minus_inf():
    # M = 2, d = 0.5, theta = 0: psi = pi -> 1 + cos pi = 0
    got = float(vertical_array_factor_db(0.0, n_rows=2, row_spacing_wavelengths=0.5, elec_tilt_deg=0.0))
    assert got == pytest.approx(-300.0)


@given(theta=st.floats(0.0, 180.0), m=st.integers(1, 16), d=st.floats(0.3, 1.0), tilt=st.floats(-20.0, 30.0))
def test_array_factor_equals_elementwise_sum_and_never_exceeds_10_log_m(theta, m, d, tilt):
    got = float(vertical_array_factor_db(theta, n_rows=m, row_spacing_wavelengths=d, elec_tilt_deg=tilt))
    assert got <= 10 * np.log10(m) + 1e-6                 # 1e-6 dB: rounding near psi = 2 pi k (grating lobes)
    ref = _array_factor_by_sum_db(theta, m, d, tilt)
    if ref > -60.0:                                    # near a null both sides lose digits
        assert got == pytest.approx(ref, abs=1e-6)


@given(m=st.integers(1, 16), d=st.floats(0.3, 1.0), tilt=st.floats(-20.0, 30.0))
def test_array_factor_peaks_at_theta_etilt(m, d, tilt):
    got = float(vertical_array_factor_db(90.0 + tilt, n_rows=m, row_spacing_wavelengths=d, elec_tilt_deg=tilt))
    assert got == pytest.approx(10 * np.log10(m), abs=1e-9)


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(n_rows=0, row_spacing_wavelengths=0.5, elec_tilt_deg=0.0), r"n_rows=0 must be an integer >= 1"),
    (dict(n_rows=2.5, row_spacing_wavelengths=0.5, elec_tilt_deg=0.0), r"n_rows=2\.5 must be an integer"),
    (dict(n_rows=4, row_spacing_wavelengths=0.0, elec_tilt_deg=0.0), r"row_spacing_wavelengths=0 must be > 0"),
    (dict(n_rows=4, row_spacing_wavelengths=0.5, elec_tilt_deg=95.0),
     r"elec_tilt_deg=95 is outside \[-90, 90\]"),
])
def test_array_options_out_of_range_raise(kwargs, match):
    with pytest.raises(OutOfValidityRangeError, match=match):
        vertical_array_factor_db(90.0, **kwargs)

# ------------------------------------------------------------------------------------------ sector gain


def test_single_element_sector_hand_values():
    # azimuth 0 (north) = bearing 90: GCS phi = 90 deg is the boresight
    g = sector_gain_dbi(90.0, np.array([90.0, 57.5, 122.5, -90.0]), azimuth_deg=0.0)
    assert_allclose(g, [8.0, 5.0, 5.0, -22.0], atol=1e-9)


def test_mechanical_tilt_moves_the_vertical_peak():
    # 10 deg mechanical downtilt: peak 8 dBi at theta = 100; at the horizon theta' = 80:
    # 8 - 12 (10/65)^2 = 8 - 0.28402 = 7.71598 dBi
    g = sector_gain_dbi(np.array([100.0, 90.0]), 0.0, azimuth_deg=90.0, mech_tilt_deg=10.0)
    assert_allclose(g, [8.0, 7.71598], atol=1e-5)


def test_calibration_antenna_gain_at_its_electrical_boresight():
    # TR 38.901 Table 7.8-1 UMa: M = 10, d_V = 0.8 lambda, theta_etilt = 102 deg, G_E,max = 8 dBi:
    # 8 + 10 log10(10) - 12 (12/65)^2 = 18 - 0.40899 = 17.59101 dBi (the element is not tilted)
    ant = AntennaSpec(n_rows=10, row_spacing_wavelengths=0.8)
    g = sector_gain_dbi(102.0, -30.0, azimuth_deg=120.0, elec_tilt_deg=12.0, antenna=ant)
    assert float(g) == pytest.approx(17.59101, abs=1e-5)


def test_isotropic_antenna_is_flat_and_keeps_the_broadcast_shape():
    ant = AntennaSpec(model="isotropic", max_gain_dbi=3.0)
    g = sector_gain_dbi(np.zeros((4, 1)), np.zeros((1, 6)), azimuth_deg=33.0, antenna=ant)
    assert g.shape == (4, 6)
    assert np.all(g == 3.0)


def test_gain_table_shape_as_the_map_engine_builds_it():
    theta = np.arange(0.0, 180.01, 1.0)
    phi = np.arange(-180.0, 180.01, 2.0)
    g = sector_gain_dbi(theta[:, None], phi[None, :], azimuth_deg=90.0, mech_tilt_deg=2.0, elec_tilt_deg=6.0,
                        antenna=AntennaSpec(n_rows=8))
    assert g.shape == (theta.size, phi.size)
    assert np.all(np.isfinite(g))
    assert g.max() <= 8.0 + 10 * np.log10(8) + 1e-9


@given(theta=st.floats(0.0, 180.0), delta=st.floats(0.0, 180.0), az=st.floats(0.0, 360.0),
       mech=st.floats(-10.0, 20.0), elec=st.floats(-10.0, 20.0), m=st.integers(1, 12))
def test_sector_gain_symmetric_about_boresight_and_bounded(theta, delta, az, mech, elec, m):
    ant = AntennaSpec(n_rows=m, row_spacing_wavelengths=0.5)
    alpha = float(bearing_from_azimuth_deg(az))
    kw = dict(azimuth_deg=az, mech_tilt_deg=mech, elec_tilt_deg=elec, antenna=ant)
    left = float(sector_gain_dbi(theta, alpha + delta, **kw))
    right = float(sector_gain_dbi(theta, alpha - delta, **kw))
    if max(left, right) > -100.0:                      # away from array nulls
        assert left == pytest.approx(right, abs=1e-6)
    assert max(left, right) <= 8.0 + 10 * np.log10(m) + 1e-9


@given(theta=st.floats(0.0, 180.0), phi=st.floats(-180.0, 180.0), az=st.floats(0.0, 360.0),
       mech=st.floats(-10.0, 20.0))
def test_single_element_maximum_is_the_tilted_boresight(theta, phi, az, mech):
    kw = dict(azimuth_deg=az, mech_tilt_deg=mech)
    peak = float(sector_gain_dbi(90.0 + mech, float(bearing_from_azimuth_deg(az)), **kw))
    assert peak == pytest.approx(8.0, abs=1e-9)
    assert float(sector_gain_dbi(theta, phi, **kw)) <= peak + 1e-9


def test_unknown_antenna_model_lists_the_choices():
    with pytest.raises(InvalidChoiceError, match=r"antenna\.model='dipole' is not one of 'tr38901', 'isotropic'"):
        sector_gain_dbi(90.0, 0.0, azimuth_deg=0.0, antenna=AntennaSpec(model="dipole"))
