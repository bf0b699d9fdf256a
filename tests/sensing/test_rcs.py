"""TR 38.901 V19.4.0 7.9.2.1 RCS model (cellscape.sensing.rcs).

Table values are checked against TR 38.901 V19.4.0 Tables 7.9.2.1-1 to -7 as transcribed by
MehdiZD97/3gpp-tr-library (TR-38.901/v19.4.0/07-channel-models/7.9-isac-channel-model.md). Pattern
values are worked from eqs. 7.9.2-2 and 7.9.2-3 by hand below.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError
from cellscape.sensing.rcs import (
    RCS_MODEL_1,
    RCS_MODEL_2,
    RCS_TARGETS,
    bistatic_geometry,
    draw_sigma_s_db,
    rcs_model_1_db,
    rcs_model_2_db,
    rcs_pattern_db,
    sigma_s_mean_db,
)


def test_table_7_9_2_1_1_values():
    assert (RCS_MODEL_1["uav_small"].rcs_mean_dbsm, RCS_MODEL_1["uav_small"].sigma_s_std_db) == (-12.81, 3.74)
    assert (RCS_MODEL_1["human"].rcs_mean_dbsm, RCS_MODEL_1["human"].sigma_s_std_db) == (-1.37, 3.94)


@pytest.mark.parametrize(("target", "k1", "k2", "mean", "std", "n"), [
    ("uav_large", 6.05, 1.33, -5.85, 2.50, 6),
    ("human_model2", 0.5714, 0.1, -1.37, 3.94, 2),
    ("vehicle_single", 6.0, 1.65, 11.25, 3.41, 5),
    ("vehicle_multiple", 6.0, 1.65, 11.25, 3.41, 5),
    ("agv_single", 12.0, 1.45, -4.25, 2.51, 5),
    ("agv_multiple", 12.0, 1.45, -4.25, 2.51, 5),
])
def test_model_2_table_headers(target, k1, k2, mean, std, n):
    spec = RCS_MODEL_2[target]
    assert (spec.k1, spec.k2, spec.rcs_mean_dbsm, spec.sigma_s_std_db, len(spec.points)) == (k1, k2, mean, std, n)


def test_sigma_s_mean_makes_linear_mean_one():
    s = 3.74
    mu = float(sigma_s_mean_db(s))
    assert mu == pytest.approx(-math.log(10) / 20 * s ** 2)
    # E[10^(X/10)] for X ~ N(mu, s^2) is exp(mu k + (k s)^2 / 2), k = ln(10)/10
    k = math.log(10) / 10
    assert math.exp(mu * k + (k * s) ** 2 / 2) == pytest.approx(1.0)


def test_sigma_s_draw_distribution_and_clip():
    # 200k draws: the sample mean of a N(mu, 3.94^2) has standard error 0.009 dB -> atol 0.05 dB;
    # the clip at mu + 3 s removes 0.13 % of the mass.
    rng = np.random.default_rng(7)
    x = draw_sigma_s_db(3.94, 200_000, rng)
    mu = float(sigma_s_mean_db(3.94))
    assert float(x.max()) == pytest.approx(mu + 3 * 3.94)
    assert float(x.mean()) == pytest.approx(mu, abs=0.05)
    assert float(np.mean(x >= mu + 3 * 3.94 - 1e-12)) == pytest.approx(0.00135, abs=0.0005)


def test_model_1_by_hand():
    assert float(rcs_model_1_db(-12.81, 0.0)) == -12.81
    assert float(rcs_model_1_db(-12.81, 90.0)) == pytest.approx(-12.81 - 3 * math.sin(math.radians(45)))
    with pytest.raises(OutOfValidityRangeError, match=r"bistatic_angle_deg=190 is outside \[0, 180\].*7\.9\.2-2"):
        rcs_model_1_db(-12.81, 190.0)


def test_model_2_vehicle_by_hand():
    # vehicle, single point, Front row: phi_c 0, phi_3dB 40.54, theta_c 71.75, theta_3dB 29.13,
    # G_max 15.52, sigma_max 8.45; k1 = 6, k2 = 1.65. Bisector (80, 10) deg, beta = 40 deg.
    sv = -min(12 * ((80 - 71.75) / 29.13) ** 2, 8.45)
    sh = -min(12 * (10 / 40.54) ** 2, 8.45)
    beta = math.radians(40)
    lobe = 15.52 - min(-(sv + sh), 8.45) - 6 * math.sin(1.65 * beta / 2) + 5 * math.log10(math.cos(beta / 2))
    expected = max(lobe, 15.52 - 8.45)
    assert float(rcs_pattern_db("vehicle_single", 80.0, 10.0, 40.0)[0]) == pytest.approx(expected, abs=1e-12)


def test_model_2_floor_and_forward_scatter():
    # far off every lobe, and at beta = 180 (5 lg cos 90 = -inf), the floor G_max - sigma_max wins
    assert float(rcs_pattern_db("vehicle_single", 90.0, 0.0, 180.0)[0]) == pytest.approx(15.52 - 8.45)
    assert float(rcs_model_2_db(0.0, 0.0, 180.0, g_max_db=13.0, sigma_max_db=30.26, theta_center_deg=90.0,
                                theta_3db_deg=13.68, phi_center_deg=0.0, phi_3db_deg=13.68, k1=12.0, k2=1.45)
                 ) == pytest.approx(13.0 - 30.26)


def test_single_point_row_selection_uses_the_ranges():
    # roof row for theta < 30 deg (vehicle): G_max 21.26 at theta = 0, monostatic
    assert float(rcs_pattern_db("vehicle_single", 0.0, 123.0, 0.0)[0]) == pytest.approx(21.26)
    # left side at its centre, the azimuth wrapped (90 + 360)
    assert float(rcs_pattern_db("vehicle_single", 79.7, 450.0, 0.0)[0]) == pytest.approx(20.75)
    # front row holds phi in [-45, 45): 350 deg is front, 45 deg is already left
    front = rcs_model_2_db(79.7, 350.0, 0.0, g_max_db=15.52, sigma_max_db=8.45, theta_center_deg=71.75,
                           theta_3db_deg=29.13, phi_center_deg=0.0, phi_3db_deg=40.54, k1=6.0, k2=1.65)
    assert float(rcs_pattern_db("vehicle_single", 79.7, 350.0, 0.0)[0]) == pytest.approx(float(front))


def test_multiple_points_return_one_row_each():
    out = rcs_pattern_db("agv_multiple", np.array([90.0, 0.0]), np.array([0.0, 0.0]), 0.0)
    assert out.shape == (5, 2)
    assert float(out[0, 0]) == pytest.approx(13.00)      # front point, seen head-on
    assert float(out[4, 1]) == pytest.approx(11.77)      # roof point, seen from above


@pytest.mark.parametrize("target", RCS_TARGETS)
@given(theta=st.floats(0.0, 180.0), phi=st.floats(-720.0, 720.0), beta=st.floats(0.0, 180.0))
def test_pattern_defined_everywhere_and_bounded(target, theta, phi, beta):
    out = rcs_pattern_db(target, theta, phi, beta)
    assert np.all(np.isfinite(out))
    if target in RCS_MODEL_2:
        spec = RCS_MODEL_2[target]
        g_max = max(p.g_max_db for p in spec.points)
        floor = min(p.g_max_db - p.sigma_max_db for p in spec.points)
        assert np.all(out <= g_max + 1e-9) and np.all(out >= floor - 1e-9)


@given(theta=st.floats(0.0, 180.0), phi=st.floats(0.0, 360.0))
def test_monostatic_geometry_is_beta_zero_and_bisector_is_the_ray(theta, phi):
    beta, th, ph = bistatic_geometry(theta, phi, theta, phi)
    assert float(beta) == pytest.approx(0.0, abs=1e-5)
    assert float(th) == pytest.approx(theta, abs=1e-5)
    if 1e-3 < theta < 180 - 1e-3:
        assert abs(((float(ph) - phi) + 180) % 360 - 180) < 1e-4


def test_bistatic_geometry_forward_scatter():
    beta, th, ph = bistatic_geometry(90.0, 0.0, 90.0, 180.0)
    assert_allclose([float(beta), float(th), float(ph)], [180.0, 90.0, 0.0], atol=1e-9)


def test_unknown_target_lists_choices():
    with pytest.raises(InvalidChoiceError, match=r"target='drone' is not one of 'uav_small', 'human'"):
        rcs_pattern_db("drone", 90.0, 0.0, 0.0)
