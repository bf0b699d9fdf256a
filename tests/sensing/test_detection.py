"""Detection probability (cellscape.sensing.detection).

Reference values: Richards, *Fundamentals of Radar Signal Processing*, 2nd ed. (2014), ch. 6 quotes
about 13.2 dB for Pd = 0.9, Pfa = 1e-6 with a non-fluctuating target and one sample, and the Swerling 1
closed form Pd = Pfa^(1/(1+SNR)), whose inverse at the same point is ln(1e-6)/ln(0.9) - 1 = 130.1
(21.14 dB). A Monte-Carlo run of the detector is the independent oracle for Marcum's Q.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError
from cellscape.sensing.detection import (
    albersheim_snr_db,
    detection_probability,
    required_snr_db,
    swerling0_detection_probability,
    swerling1_detection_probability,
)


def test_textbook_points():
    # Richards 2014 ch. 6: ~13.2 dB (Swerling 0); closed form 21.14 dB (Swerling 1)
    assert float(required_snr_db(0.9, 1e-6, model="swerling0")) == pytest.approx(13.2, abs=0.05)
    s1 = 10 * math.log10(math.log(1e-6) / math.log(0.9) - 1)
    assert s1 == pytest.approx(21.14, abs=0.01)
    assert float(required_snr_db(0.9, 1e-6, model="swerling1")) == pytest.approx(s1, abs=1e-9)


def test_swerling0_against_monte_carlo_detector():
    # |sqrt(SNR) + n|^2 > T, n complex Gaussian of unit power, T = -ln Pfa; 400k draws give a
    # standard error of 5e-4 on Pd = 0.9 and 4.7e-4 on Pd = 0.1, hence atol = 2.5e-3 (5 sigma).
    rng = np.random.default_rng(20240613)
    n = rng.standard_normal((2, 400_000))
    noise = (n[0] + 1j * n[1]) / math.sqrt(2.0)
    for snr_db, pfa in [(13.18, 1e-6), (4.08, 1e-3), (10.0, 1e-4)]:
        snr = 10 ** (snr_db / 10)
        pd_mc = np.mean(np.abs(math.sqrt(snr) + noise) ** 2 > -math.log(pfa))
        assert float(swerling0_detection_probability(snr_db, pfa)) == pytest.approx(pd_mc, abs=2.5e-3)


@pytest.mark.parametrize("pd", [0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
@pytest.mark.parametrize("pfa", [1e-7, 1e-6, 1e-5, 1e-4, 1e-3])
def test_albersheim_within_0_2_db_where_it_holds_at_n_1(pd, pfa):
    # Albersheim (1981) claims 0.2 dB over 0.1 <= Pd <= 0.9; at N = 1 that holds for Pd >= 0.4
    # (see test_albersheim_is_poor_at_low_pd_single_pulse).
    assert float(required_snr_db(pd, pfa, model="swerling0")) == pytest.approx(
        float(albersheim_snr_db(pd, pfa)), abs=0.2)


def test_albersheim_is_poor_at_low_pd_single_pulse():
    # documented limitation: at Pd = 0.1, Pfa = 1e-3, A + 0.12AB + 1.7B = 1.0, so 0 dB vs 4.08 exact
    assert float(albersheim_snr_db(0.1, 1e-3)) == pytest.approx(0.0, abs=0.01)
    assert float(required_snr_db(0.1, 1e-3, model="swerling0")) == pytest.approx(4.08, abs=0.01)


def test_albersheim_formula_by_hand():
    a, b = math.log(0.62 / 1e-6), math.log(0.9 / 0.1)
    n = 10
    expected = -5 * math.log10(n) + (6.2 + 4.54 / math.sqrt(n + 0.44)) * math.log10(a + 0.12 * a * b + 1.7 * b)
    assert float(albersheim_snr_db(0.9, 1e-6, n_pulses=n)) == pytest.approx(expected)


@pytest.mark.parametrize("model", ["swerling0", "swerling1"])
def test_pd_tends_to_pfa_at_zero_snr(model):
    assert float(detection_probability(-80.0, 1e-4, model=model)) == pytest.approx(1e-4, rel=1e-6)


@pytest.mark.parametrize("model", ["swerling0", "swerling1"])
@given(snr_db=st.floats(-20.0, 30.0), delta_db=st.floats(0.01, 10.0), pfa=st.floats(1e-9, 1e-2))
def test_pd_monotone_in_snr(model, snr_db, delta_db, pfa):
    low = float(detection_probability(snr_db, pfa, model=model))
    high = float(detection_probability(snr_db + delta_db, pfa, model=model))
    assert high >= low
    assert pfa * (1 - 1e-9) <= low <= 1.0


@pytest.mark.parametrize("model", ["swerling0", "swerling1"])
@given(pd=st.floats(0.05, 0.999), pfa=st.floats(1e-9, 1e-2))
def test_round_trip_pd_snr_pd(model, pd, pfa):
    snr_db = required_snr_db(pd, pfa, model=model)
    assert float(detection_probability(snr_db, pfa, model=model)) == pytest.approx(pd, abs=1e-7)


def test_swerling1_needs_more_snr_than_swerling0_at_high_pd():
    assert float(required_snr_db(0.9, 1e-6, model="swerling1")) > float(required_snr_db(0.9, 1e-6, model="swerling0"))


def test_arrays_broadcast():
    pd = np.array([[0.5], [0.9]])
    pfa = np.array([1e-6, 1e-4, 1e-2])
    out = required_snr_db(pd, pfa, model="swerling0")
    assert out.shape == (2, 3)
    assert_allclose(swerling0_detection_probability(out, pfa), np.broadcast_to(pd, (2, 3)), atol=1e-9)
    assert swerling1_detection_probability(np.zeros((4, 1)), pfa).shape == (4, 3)


def test_errors_name_parameter_and_range():
    with pytest.raises(OutOfValidityRangeError, match=r"pfa=0 is outside"):
        swerling0_detection_probability(10.0, 0.0)
    with pytest.raises(OutOfValidityRangeError, match=r"pd=0.001 is not above pfa=0.01"):
        required_snr_db(1e-3, 1e-2)
    with pytest.raises(InvalidChoiceError, match=r"model='swerling3' is not one of 'swerling0', 'swerling1'"):
        detection_probability(10.0, 1e-6, model="swerling3")
