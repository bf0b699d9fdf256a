"""TR 38.901 Section 7.4 models: hand-worked reference values, physical properties, validity errors.

Hand working of tests/reference/tr38901_pathloss_handworked.csv (fc = 3.5 GHz: 20 log10 fc = 10.8814):
- UMa LOS 100 m: d3D = sqrt(100^2 + 23.5^2) = 102.72, 28 + 22*2.01166 + 10.8814 = 83.14 dB.
- UMa NLOS 100 m: 13.54 + 39.08*2.01166 + 10.8814 = 103.04 dB (> LOS, so the max is PL').
- UMa LOS 1000 m: d'_BP = 4*24*0.5*3.5e9/c = 560.38 m, beyond it: 28 + 40*3.00012 + 10.8814
  - 9 log10(560.38^2 + 23.5^2 = 314 578) = 28 + 120.005 + 10.881 - 49.480 = 109.41 dB.
- UMi LOS 500 m: d'_BP = 4*9*0.5*3.5e9/c = 210.14 m; 32.4 + 40*2.69903 + 10.8814
  - 9.5 log10(210.14^2 + 8.5^2 = 44 231) = 32.4 + 107.961 + 10.881 - 44.134 = 107.11 dB.
- UMi NLOS 500 m: 35.3*2.69903 + 22.4 + 21.3*0.544068 = 95.276 + 22.4 + 11.589 = 129.26 dB.
- RMa LOS 1000 m (h = 5 m, h_BS 35 m): d_BP = 2 pi 35*1.5*3.5e9/c = 3851.1 m, so PL1:
  20 log10(40 pi 1000.56 * 3.5/3) = 103.328, + min(0.03*5^1.72, 10) log10(1000.56) = 0.478*3.0002 = 1.434,
  - min(0.044*5^1.72, 14.77) = 0.701, + 0.002 log10(5) 1000.56 = 1.399: 105.46 dB.
- UMi P_LOS(100 m) = 0.18 + exp(-100/36)*0.82 = 0.2310; UMa P_LOS(100 m, 1.5 m) = 0.18 + exp(-100/63)*0.82 = 0.3477.
"""

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError
from cellscape.propagation import tr38901
from cellscape.propagation.o2i import o2i_building_loss_db, o2i_wall_loss_db

REF = Path(__file__).resolve().parents[1] / "reference" / "tr38901_pathloss_handworked.csv"


def _rows():
    with REF.open() as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


@pytest.mark.parametrize("row", _rows(), ids=lambda r: f"{r['function']}-{r['scenario']}-{r['los']}-{r['d2d_m']}")
def test_hand_worked_values(row):
    if row["function"] == "path_loss_db":
        got = tr38901.path_loss_db(row["scenario"], float(row["d2d_m"]), float(row["h_bs_m"]), float(row["h_ut_m"]),
                                   float(row["fc_ghz"]), row["los"] == "1")
    else:
        got = tr38901.los_probability(row["scenario"], float(row["d2d_m"]), float(row["h_ut_m"]))
    assert float(got) == pytest.approx(float(row["expected"]), abs=float(row["tolerance"]))


def test_o2i_low_and_high_loss_hand_worked():
    # low: L_glass = 2 + 0.2*3.5 = 2.7, L_concrete = 5 + 4*3.5 = 19:
    # 5 - 10 log10(0.3*10^-0.27 + 0.7*10^-1.9) = 5 - 10 log10(0.16113 + 0.00881) = 12.70 dB
    assert float(o2i_wall_loss_db(3.5, model="low")) == pytest.approx(12.70, abs=0.01)
    # high: L_IRR = 23 + 0.3*3.5 = 24.05: 5 - 10 log10(0.7*10^-2.405 + 0.3*10^-1.9) = 5 - 10 log10(0.002759 + 0.003777) = 26.85 dB
    assert float(o2i_wall_loss_db(3.5, model="high")) == pytest.approx(26.85, abs=0.01)
    assert float(o2i_building_loss_db(3.5, 10.0, model="low")) == pytest.approx(12.70 + 5.0, abs=0.01)


URBAN = [("UMa", 25.0), ("UMi", 10.0), ("RMa", 35.0)]
INDOOR = [("InH-office-mixed", 3.0), ("InF-SL", 8.0), ("InF-DL", 8.0), ("InF-SH", 8.0), ("InF-DH", 8.0)]


@settings(max_examples=60, deadline=None)
@given(d_a=st.floats(10.0, 5000.0), d_b=st.floats(10.0, 5000.0), fc=st.floats(0.5, 30.0),
       h_ut=st.floats(1.5, 10.0))
def test_path_loss_never_decreases_with_distance(d_a, d_b, fc, h_ut):
    near, far = sorted((d_a, d_b))
    for scenario, h_bs in URBAN:
        for los in (True, False):
            pl_near = tr38901.path_loss_db(scenario, near, h_bs, h_ut, fc, los)
            pl_far = tr38901.path_loss_db(scenario, far, h_bs, h_ut, fc, los)
            assert pl_far >= pl_near - 1e-9


@settings(max_examples=60, deadline=None)
@given(d=st.floats(1.0, 80.0), fc=st.floats(0.5, 100.0))
def test_indoor_nlos_never_beats_los(d, fc):
    for scenario, h_bs in INDOOR:
        assert tr38901.path_loss_db(scenario, d, h_bs, 1.5, fc, False) >= tr38901.path_loss_db(
            scenario, d, h_bs, 1.5, fc, True) - 1e-9


@settings(max_examples=60, deadline=None)
@given(d=st.floats(10.0, 5000.0), fc=st.floats(0.5, 30.0), h_ut=st.floats(1.5, 10.0))
def test_urban_nlos_never_beats_los(d, fc, h_ut):
    for scenario, h_bs in URBAN:
        assert tr38901.path_loss_db(scenario, d, h_bs, h_ut, fc, False) >= tr38901.path_loss_db(
            scenario, d, h_bs, h_ut, fc, True) - 1e-9


@settings(max_examples=60, deadline=None)
@given(fc=st.floats(0.5, 6.0), h_ut=st.floats(1.5, 3.0))
def test_los_path_loss_is_continuous_at_the_breakpoint(fc, h_ut):
    # UMa/UMi: at d2D = d'_BP, 40 log d3D - 9 log(d3D^2) = 22 log d3D exactly (9.5 -> 21 for UMi)
    for scenario, h_bs in (("UMa", 25.0), ("UMi", 10.0)):
        d_bp = float(tr38901.breakpoint_distance_m(h_bs, h_ut, fc))
        if not 10.0 < d_bp < 5000.0:
            continue
        below = tr38901.path_loss_db(scenario, d_bp * (1 - 1e-9), h_bs, h_ut, fc, True)
        above = tr38901.path_loss_db(scenario, d_bp * (1 + 1e-9), h_bs, h_ut, fc, True)
        assert abs(above - below) < 1e-5
    # RMa: PL2 = PL1(d_BP) + 40 log10(d3D/d_BP) evaluates PL1 at d3D = d_BP, so at d2D = d_BP the
    # formula itself steps by about (slope_PL1 - 40) log10(d3D/d_BP), d3D/d_BP = sqrt(1 + (dh/d_BP)^2):
    # at fc = 0.5 GHz (d_BP = 550 m, dh = 33.5 m) that is -19.5 * 0.0008 = -0.016 dB; bound 0.05 dB
    d_bp = float(tr38901.rma_breakpoint_distance_m(35.0, h_ut, fc))
    if 10.0 < d_bp < 10_000.0:
        below = tr38901.path_loss_db("RMa", d_bp * (1 - 1e-9), 35.0, h_ut, fc, True)
        above = tr38901.path_loss_db("RMa", d_bp * (1 + 1e-9), 35.0, h_ut, fc, True)
        assert abs(above - below) < 0.05


@settings(max_examples=60, deadline=None)
@given(d_a=st.floats(0.0, 20_000.0), d_b=st.floats(0.0, 20_000.0), h_ut=st.floats(1.5, 13.0))
def test_los_probability_is_a_non_increasing_probability(d_a, d_b, h_ut):
    near, far = sorted((d_a, d_b))
    for scenario in ("RMa", "UMa", "UMi", "InH-office-mixed", "InH-office-open", "InF-SL", "InF-DH", "InF-HH"):
        p_near = float(tr38901.los_probability(scenario, near, h_ut, h_bs_m=8.0))
        p_far = float(tr38901.los_probability(scenario, far, h_ut, h_bs_m=8.0))
        assert 0.0 <= p_far <= p_near + 1e-12 <= 1.0 + 1e-12


def test_vectorised_equals_scalar_calls():
    d = np.array([12.0, 80.0, 400.0, 1200.0, 4900.0])
    los = np.array([True, False, True, False, True])
    vec = tr38901.path_loss_db("UMa", d, 25.0, 1.5, 28.0, los)
    one = [float(tr38901.path_loss_db("UMa", di, 25.0, 1.5, 28.0, bool(li))) for di, li in zip(d, los)]
    np.testing.assert_allclose(vec, one, rtol=0, atol=1e-12)


def test_out_of_range_distance_names_parameter_range_and_table():
    with pytest.raises(OutOfValidityRangeError, match=r"d2d_m=6 is outside \[10, 5000\].*Table 7\.4\.1-1"):
        tr38901.uma_los_path_loss_db(6.0, 25.0, 1.5, 3.5)


def test_distance_policies():
    assert np.isnan(tr38901.uma_nlos_path_loss_db(6.0, 25.0, 1.5, 3.5, out_of_range="nan"))
    clipped = tr38901.uma_nlos_path_loss_db(6.0, 25.0, 1.5, 3.5, out_of_range="clip")
    assert clipped == pytest.approx(tr38901.uma_nlos_path_loss_db(10.0, 25.0, 1.5, 3.5))
    far = tr38901.uma_nlos_path_loss_db(8000.0, 25.0, 1.5, 3.5, out_of_range="extrapolate")
    assert far > tr38901.uma_nlos_path_loss_db(5000.0, 25.0, 1.5, 3.5)


def test_frequency_and_height_always_raise():
    with pytest.raises(OutOfValidityRangeError, match=r"fc_ghz=120 is outside \[0\.5, 100\]"):
        tr38901.path_loss_db("UMa", 100.0, 25.0, 1.5, 120.0, True, out_of_range="clip")
    with pytest.raises(OutOfValidityRangeError, match=r"fc_ghz=40 is outside \[0\.5, 30\]"):
        tr38901.path_loss_db("RMa", 100.0, 35.0, 1.5, 40.0, True)
    with pytest.raises(OutOfValidityRangeError, match=r"h_ut_m=30 is outside \[1\.5, 22\.5\]"):
        tr38901.path_loss_db("UMi", 100.0, 10.0, 30.0, 3.5, False)


def test_unknown_scenario_lists_choices():
    with pytest.raises(InvalidChoiceError, match=r"scenario='UMA' is not one of 'RMa', 'UMa', 'UMi'"):
        tr38901.path_loss_db("UMA", 100.0, 25.0, 1.5, 3.5, True)


def test_random_helpers_are_seeded_and_in_range():
    rng = np.random.default_rng(3)
    h = tr38901.indoor_ut_height_m(10_000, rng=rng)
    assert set(np.unique(h)) <= {1.5, 4.5, 7.5, 10.5, 13.5, 16.5, 19.5, 22.5}
    # E[n_fl] = E[(N_fl + 1)/2] with N_fl ~ U{4..8}: 3.5 -> mean h = 3*2.5 + 1.5 = 9.0 m
    assert h.mean() == pytest.approx(9.0, abs=0.15)
    he = tr38901.uma_effective_environment_height_m(np.full(5000, 100.0), 1.5, rng=rng)
    assert np.all(he == 1.0)          # C = 0 for h_UT < 13 m
    he = tr38901.uma_effective_environment_height_m(np.full(5000, 100.0), 22.5, rng=rng)
    assert np.all(np.isin(he, [1.0, 12.0, 15.0, 18.0, 21.0])) and (he > 1.0).any()
