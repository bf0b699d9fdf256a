"""TR 38.901 Table 7.3-1 element pattern: reference values worked by hand, properties, errors."""

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from cellscape.antenna.element import (
    element_gain_dbi,
    element_horizontal_pattern_db,
    element_pattern_db,
    element_vertical_pattern_db,
)
from cellscape.errors import CellscapeError, OutOfValidityRangeError

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"


def load_reference(name):
    with open(REFERENCE_DIR / name, newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


ELEMENT_ROWS = load_reference("antenna_element_pattern.csv")
HAND_ATOL_DB = 1e-4  # the CSV rounds the hand values to four decimals


@pytest.mark.parametrize("row", ELEMENT_ROWS, ids=lambda r: f"{r['theta_deg']}-{r['phi_deg']}")
def test_element_matches_hand_worked_table_7_3_1(row):
    theta, phi = float(row["theta_deg"]), float(row["phi_deg"])
    assert_allclose(element_vertical_pattern_db(theta), float(row["a_v_db"]), atol=HAND_ATOL_DB)
    assert_allclose(element_horizontal_pattern_db(phi), float(row["a_h_db"]), atol=HAND_ATOL_DB)
    assert_allclose(element_pattern_db(theta, phi), float(row["a_db"]), atol=HAND_ATOL_DB)
    assert_allclose(element_gain_dbi(theta, phi), float(row["gain_dbi"]), atol=HAND_ATOL_DB)


def test_reference_rows_evaluated_as_one_array_equal_scalar_calls():
    theta = np.array([float(r["theta_deg"]) for r in ELEMENT_ROWS])
    phi = np.array([float(r["phi_deg"]) for r in ELEMENT_ROWS])
    expected = np.array([float(r["gain_dbi"]) for r in ELEMENT_ROWS])
    assert_allclose(element_gain_dbi(theta, phi), expected, atol=HAND_ATOL_DB)


def test_three_db_down_at_half_the_beamwidth_in_both_cuts():
    assert_allclose(element_horizontal_pattern_db([-32.5, 32.5]), [-3.0, -3.0], atol=1e-12)
    assert_allclose(element_vertical_pattern_db([57.5, 122.5]), [-3.0, -3.0], atol=1e-12)


def test_floors_are_the_options():
    # SLA_V is only reached off the [0, 180] range with 65 deg; a 10 deg beam reaches it:
    # 12 (30/10)^2 = 108 > 25 -> -25
    assert float(element_vertical_pattern_db(120.0, hpbw_deg=10.0, sla_v_db=25.0)) == -25.0
    # 12 (90/65)^2 = 23.0 < 30 but > 20 -> -20
    assert float(element_horizontal_pattern_db(90.0, a_max_db=20.0)) == -20.0
    # combined floor A_max: -(23.0 + 12) -> -30
    assert float(element_pattern_db(0.0, 65.0)) == -30.0


def test_options_change_the_gain_as_the_table_says():
    # G_E,max = 5 dBi, 90 deg beam: 12 (45/90)^2 = 3 dB down at 45 deg
    assert_allclose(element_gain_dbi(90.0, 45.0, max_gain_dbi=5.0, hpbw_deg=90.0), 2.0, atol=1e-12)


def test_horizontal_cut_wraps_phi():
    assert_allclose(element_horizontal_pattern_db([32.5 + 360.0, -32.5 - 720.0, 180.0, -180.0]),
                    [-3.0, -3.0, -30.0, -30.0], atol=1e-9)


def test_broadcasts_column_against_row():
    g = element_gain_dbi(np.linspace(0, 180, 7)[:, None], np.linspace(-180, 180, 9)[None, :])
    assert g.shape == (7, 9)


def test_nan_passes_through():
    assert np.isnan(element_gain_dbi(np.nan, 0.0))
    assert np.isnan(element_gain_dbi(90.0, np.nan))


angles_theta = st.floats(0.0, 180.0)
angles_phi = st.floats(-180.0, 180.0)


@given(theta=angles_theta, phi=angles_phi)
def test_gain_is_symmetric_in_phi_and_bounded(theta, phi):
    g = float(element_gain_dbi(theta, phi))
    assert g == pytest.approx(float(element_gain_dbi(theta, -phi)), abs=1e-12)
    assert 8.0 - 30.0 - 1e-12 <= g <= 8.0 + 1e-12


@given(theta=angles_theta, phi=angles_phi)
def test_boresight_is_the_maximum(theta, phi):
    assert float(element_pattern_db(theta, phi)) <= float(element_pattern_db(90.0, 0.0)) == 0.0


@given(a=st.floats(0.0, 180.0), b=st.floats(0.0, 180.0))
def test_horizontal_cut_never_increases_away_from_boresight(a, b):
    near, far = sorted((a, b))
    assert float(element_horizontal_pattern_db(far)) <= float(element_horizontal_pattern_db(near)) + 1e-12


@given(theta=angles_theta)
def test_vertical_cut_is_symmetric_about_the_horizon(theta):
    assert float(element_vertical_pattern_db(theta)) == pytest.approx(
        float(element_vertical_pattern_db(180.0 - theta)), abs=1e-9)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"hpbw_deg": 0.0}, r"hpbw_deg=0 is outside \(0, 360\].*Table 7\.3-1"),
    ({"hpbw_deg": -65.0}, r"hpbw_deg=-65 is outside \(0, 360\]"),
    ({"sla_v_db": -1.0}, r"sla_v_db=-1 must be a finite attenuation >= 0 dB.*Table 7\.3-1"),
    ({"a_max_db": -3.0}, r"a_max_db=-3 must be a finite attenuation >= 0 dB"),
])
def test_bad_options_raise_with_name_value_and_source(kwargs, match):
    with pytest.raises(OutOfValidityRangeError, match=match) as info:
        element_gain_dbi(90.0, 0.0, **kwargs)
    assert isinstance(info.value, (CellscapeError, ValueError))
