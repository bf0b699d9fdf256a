"""The TR 38.864 base-station power model: table values, idle power, load scaling, transitions."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from cellscape.ai.power_model import (ACTIVE, DEEP_SLEEP, DEFAULT, LIGHT_SLEEP, MICRO_SLEEP, BsPowerModel, bs_power_w,
                                      scaled_model, transition_energy_j, transition_time_s, wake_up_time_s)
from cellscape.errors import OutOfValidityRangeError

W = DEFAULT.w_per_unit
STATES = (ACTIVE, MICRO_SLEEP, LIGHT_SLEEP, DEEP_SLEEP)


def test_relative_powers_are_the_table_values():
    # TR 38.864 Table 5.1-1 (FR1): deep 1, light 20, micro 45, active DL 280, active UL 90 [units]
    rel = bs_power_w([DEEP_SLEEP, LIGHT_SLEEP, MICRO_SLEEP, ACTIVE], [0.0, 0.0, 0.0, 1.0]) / W
    np.testing.assert_allclose(rel, [1.0, 20.0, 45.0, 280.0], rtol=1e-12)
    assert bs_power_w(ACTIVE, 0.0, ul_load=1.0) / W == pytest.approx(90.0, rel=1e-12)


def test_absolute_scale_is_1_kw_at_full_load():
    assert float(bs_power_w(ACTIVE, 1.0)) == pytest.approx(1000.0, rel=1e-12)
    assert DEFAULT.full_load_power_w == pytest.approx(1000.0, rel=1e-12)


def test_idle_power_is_active_at_zero_load_and_equals_micro_sleep():
    idle = float(bs_power_w(ACTIVE, 0.0))
    assert idle == DEFAULT.idle_power_w
    assert idle == float(bs_power_w(MICRO_SLEEP, 0.0))
    assert idle == pytest.approx(45.0 * 1000.0 / 280.0, rel=1e-12)     # 160.71 W


def test_hand_worked_half_load():
    # 45 + 0.5 (280 - 45) = 162.5 units; 162.5 * 1000 / 280 = 580.357 W
    assert float(bs_power_w(ACTIVE, 0.5)) == pytest.approx(580.357142857, rel=1e-9)
    # DL 0.3 and UL 0.2: 45 + 0.3 * 235 + 0.2 * 45 = 124.5 units
    assert float(bs_power_w(ACTIVE, 0.3, ul_load=0.2)) / W == pytest.approx(124.5, rel=1e-12)


def test_sleeping_states_ignore_the_load():
    np.testing.assert_array_equal(bs_power_w(DEEP_SLEEP, [0.0, 0.5, 1.0]), np.full(3, W))


def test_broadcasting():
    p = bs_power_w(np.array([[ACTIVE], [DEEP_SLEEP]]), np.array([0.0, 1.0]))
    assert p.shape == (2, 2)
    np.testing.assert_allclose(p, [[45 * W, 280 * W], [W, W]])


@given(a=st.floats(0.0, 1.0), b=st.floats(0.0, 1.0))
def test_power_never_decreases_with_load(a, b):
    lo, hi = sorted((a, b))
    assert bs_power_w(ACTIVE, hi) >= bs_power_w(ACTIVE, lo)


@given(load=st.floats(0.0, 1.0))
def test_deeper_sleep_draws_less(load):
    p = bs_power_w(list(STATES), load)
    assert np.all(np.diff(p) <= 0)
    assert p[-1] > 0


def test_round_trip_costs_the_table_energy_and_time():
    # TR 38.864 Table 5.1-2: deep 50 ms / 1000 units x ms, light 6 ms / 100 units x ms, micro 0 / 0
    for state, t_s, e_rel_ms in ((DEEP_SLEEP, 50e-3, 1000.0), (LIGHT_SLEEP, 6e-3, 100.0), (MICRO_SLEEP, 0.0, 0.0)):
        e = transition_energy_j(ACTIVE, state) + transition_energy_j(state, ACTIVE)
        t = transition_time_s(ACTIVE, state) + transition_time_s(state, ACTIVE)
        assert float(e) == pytest.approx(e_rel_ms * 1e-3 * W, rel=1e-12, abs=0)
        assert float(t) == pytest.approx(t_s, rel=1e-12, abs=0)


def test_wake_up_from_deep_sleep_takes_half_the_round_trip_by_default():
    assert float(wake_up_time_s(DEEP_SLEEP)) == pytest.approx(0.025)
    assert float(wake_up_time_s(ACTIVE)) == 0.0


@given(share=st.floats(0.0, 1.0), s=st.sampled_from([MICRO_SLEEP, LIGHT_SLEEP, DEEP_SLEEP]))
def test_any_split_keeps_the_round_trip_total(share, s):
    m = BsPowerModel(ramp_up_share=share)
    total = transition_energy_j(ACTIVE, s, model=m) + transition_energy_j(s, ACTIVE, model=m)
    assert float(total) == pytest.approx(float(m.round_trip_energy_j[s]), rel=1e-12, abs=1e-15)
    assert float(transition_time_s(s, ACTIVE, model=m)) == pytest.approx(share * float(m.round_trip_time_s[s]))


def test_between_sleep_states_and_to_itself():
    # deep -> light: ramp-up of deep (25 ms) + ramp-down of light (3 ms)
    assert float(transition_time_s(DEEP_SLEEP, LIGHT_SLEEP)) == pytest.approx(0.028)
    for s in STATES:
        assert float(transition_energy_j(s, s)) == 0.0 and float(transition_time_s(s, s)) == 0.0


def test_scaled_model_scales_only_the_dynamic_part():
    m = scaled_model(tx_chain_ratio=0.5, bandwidth_ratio=0.5)
    assert m.p_active_dl_rel == pytest.approx(45 + 0.25 * 235)
    assert m.idle_power_w == DEFAULT.idle_power_w


def test_unknown_state_and_bad_loads_raise():
    with pytest.raises(OutOfValidityRangeError, match=r"state=4 is not a state code; valid: 0 active"):
        bs_power_w(4, 0.0)
    with pytest.raises(OutOfValidityRangeError, match=r"dl_load=1.5 is outside \[0, 1\]"):
        bs_power_w(ACTIVE, 1.5)
    with pytest.raises(OutOfValidityRangeError, match=r"dl_load \+ ul_load=1.2"):
        bs_power_w(ACTIVE, 0.6, ul_load=0.6)
    with pytest.raises(OutOfValidityRangeError, match="integer state codes"):
        bs_power_w(0.5, 0.0)


def test_inconsistent_model_raises():
    with pytest.raises(OutOfValidityRangeError, match="0 < deep <= light <= micro"):
        BsPowerModel(p_deep_sleep_rel=30.0)
    with pytest.raises(OutOfValidityRangeError, match="p_active_dl_rel=40 is below the micro-sleep power"):
        BsPowerModel(p_active_dl_rel=40.0)
    with pytest.raises(ValueError, match="ramp_up_share=2"):
        BsPowerModel(ramp_up_share=2.0)
