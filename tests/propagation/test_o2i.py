"""O2I penetration loss (cellscape.propagation.o2i), TR 38.901 Section 7.4.3.

Reference values: tests/reference/tr38901_o2i.csv (worked from Tables 7.4.3-1/-2, tolerance in its header).
"""

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats

from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError
from cellscape.propagation import o2i

REF = Path(__file__).resolve().parents[1] / "reference" / "tr38901_o2i.csv"


def _rows():
    with REF.open() as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


@pytest.mark.parametrize("row", _rows(), ids=lambda r: f"{r['function']}-{r['argument']}-{r['fc_ghz']}")
def test_matches_worked_values(row):
    fc = float(row["fc_ghz"])
    if row["function"] == "material_penetration_loss_db":
        got = o2i.material_penetration_loss_db(fc, row["argument"])
    else:
        got = o2i.o2i_wall_loss_db(fc, model=row["argument"])
    assert float(got) == pytest.approx(float(row["expected"]), abs=float(row["tolerance"]))


def test_building_loss_is_wall_plus_half_db_per_metre():
    # 3.5 GHz low loss: PL_tw = 12.6975 dB (CSV), PL_in = 0.5 * 10 m = 5 dB
    assert float(o2i.o2i_building_loss_db(3.5, 10.0, model="low")) == pytest.approx(17.6975, abs=1e-3)
    got = o2i.o2i_building_loss_db(np.array([[3.5], [28.0]]), np.array([0.0, 25.0]), model="high")
    assert got.shape == (2, 2)
    assert_allclose(got[:, 1] - got[:, 0], 12.5)


@settings(max_examples=50, deadline=None)
@given(f_a=st.floats(0.5, 100.0), f_b=st.floats(0.5, 100.0))
def test_high_loss_exceeds_low_loss_and_both_grow_with_frequency(f_a, f_b):
    lo_f, hi_f = sorted((f_a, f_b))
    for model in ("low", "high"):
        assert o2i.o2i_wall_loss_db(hi_f, model=model) >= o2i.o2i_wall_loss_db(lo_f, model=model) - 1e-12
    assert o2i.o2i_wall_loss_db(f_a, model="high") > o2i.o2i_wall_loss_db(f_a, model="low")


def test_random_part_has_sigma_p():
    # Table 7.4.3-2: sigma_P = 4.4 dB (low), 6.5 dB (high). n = 40 000: the sample std of a Gaussian
    # has relative standard error 1/sqrt(2n) = 0.35 %; 2 % is > 5 of those.
    for model, sigma in (("low", 4.4), ("high", 6.5)):
        assert o2i.o2i_std_db(model) == sigma
        x = o2i.o2i_building_loss_db(3.5, np.full(40_000, 5.0), model=model, rng=np.random.default_rng(2))
        mean = float(o2i.o2i_building_loss_db(3.5, 5.0, model=model))
        assert np.mean(x) == pytest.approx(mean, abs=5 * sigma / np.sqrt(x.size))
        assert np.std(x) == pytest.approx(sigma, rel=0.02)


def test_indoor_distance_is_min_of_two_uniforms():
    # min of two U(0, a): CDF 1 - (1 - x/a)^2; Kolmogorov-Smirnov at 1e-3 (a fixed seed keeps it stable)
    for scenario, a in (("UMa", 25.0), ("UMi", 25.0), ("RMa", 10.0)):
        d = o2i.draw_indoor_distance_m(20_000, scenario=scenario, rng=np.random.default_rng(5))
        assert d.min() >= 0.0 and d.max() <= a
        assert stats.kstest(d, lambda x, a=a: 1.0 - (1.0 - np.clip(x / a, 0, 1)) ** 2).pvalue > 1e-3
        assert np.mean(d) == pytest.approx(a / 3.0, rel=0.02)


def test_car_penetration_loss():
    assert o2i.car_penetration_loss_db() == 9.0
    assert o2i.car_penetration_loss_db(metallized_windows=True) == 20.0
    x = o2i.car_penetration_loss_db(40_000, rng=np.random.default_rng(0))
    assert np.mean(x) == pytest.approx(9.0, abs=0.1) and np.std(x) == pytest.approx(5.0, rel=0.02)


def test_errors_name_parameter_and_choices():
    with pytest.raises(InvalidChoiceError, match=r"model='medium' is not one of 'low', 'high'"):
        o2i.o2i_wall_loss_db(3.5, model="medium")
    with pytest.raises(InvalidChoiceError, match=r"material='brick' is not one of 'standard_glass', 'irr_glass'"):
        o2i.material_penetration_loss_db(3.5, "brick")
    with pytest.raises(InvalidChoiceError, match=r"scenario='InH-office-open' is not one of 'UMa', 'UMi', 'RMa'"):
        o2i.draw_indoor_distance_m(3, scenario="InH-office-open", rng=np.random.default_rng(0))
    with pytest.raises(OutOfValidityRangeError, match=r"fc_ghz=120 is outside \[0\.5, 100\].*Table 7\.4\.3-1"):
        o2i.o2i_building_loss_db(120.0, 5.0, model="low")
    with pytest.raises(OutOfValidityRangeError, match=r"d2d_in_m=-1 is outside \[0, inf\].*Table 7\.4\.3-2"):
        o2i.o2i_indoor_loss_db(-1.0)
