"""Energy accounting, traffic calibration and the sleep policies on small hand-built networks."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from cellscape.ai.energy import (EnergyOptions, account_energy, forecast_sleep_plan, offered_traffic_bps, run_policy,
                                 simulate_energy, summarize, threshold_sleep_plan, weighted_percentiles)
from cellscape.ai.flow import FlowState, build_flow_network, evaluate
from cellscape.ai.power_model import ACTIVE, DEEP_SLEEP, DEFAULT, LIGHT_SLEEP, bs_power_w
from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError
from cellscape.radio.link_budget import tx_power_per_re_dbm

STEP_S = 3600.0
OPTS = EnergyOptions(step_s=STEP_S)
SPD = 24


def line_network(n_sites=4, n_points=160, isd_m=400.0, seed=0):
    """Sites on a line, one sector each; points along the line. RSRP: 46 dBm over 273 PRBs minus
    128.1 + 37.6 lg(d/km) (a hand link budget: the antenna gain is folded into it)."""
    rng = np.random.default_rng(seed)
    sx = np.column_stack([np.arange(n_sites) * isd_m, np.zeros(n_sites)])
    px = np.column_stack([rng.uniform(-150.0, (n_sites - 1) * isd_m + 150.0, n_points), rng.uniform(-50, 50, n_points)])
    d_km = np.maximum(np.hypot(px[None, :, 0] - sx[:, None, 0], px[None, :, 1] - sx[:, None, 1]), 20.0) / 1e3
    rsrp = float(tx_power_per_re_dbm(46.0, 273)) - (128.1 + 37.6 * np.log10(d_km))
    return build_flow_network(sector_xy_m=sx, sector_height_m=25.0, azimuth_deg=90.0, point_xy_m=px,
                              point_weight=np.full(n_points, 2.0), rsrp_dbm=rsrp, tx_power_dbm=46.0,
                              noise_per_re_dbm=-174.0 + 10 * np.log10(30e3) + 7.0, n_prb=273, scs_khz=30.0)


NET = line_network()


def daily_history(n_days, n_sectors, *, night=0.03, peak=0.6):
    """(S, n_days * 24) hourly load: night level from 0 to 6 h, peak from 8 to 20 h."""
    hour = np.arange(24)
    day = np.where((hour < 6) | (hour >= 22), night, np.where((hour >= 8) & (hour < 20), peak, (night + peak) / 2))
    return np.tile(day, (n_sectors, n_days))


# ---------------------------------------------------------------------------------------- accounting
def test_always_on_at_zero_load_draws_exactly_the_idle_power():
    acc = account_energy(np.full((96, 5), ACTIVE), np.zeros((96, 5)), step_s=900.0)
    assert np.all(acc.power_w == DEFAULT.idle_power_w)
    assert acc.n_transitions == 0 and not acc.transition_energy_j.any()
    assert acc.total_kwh == pytest.approx(5 * 24 * DEFAULT.idle_power_w / 1e3, rel=1e-12)


def test_one_sleep_wake_cycle_costs_the_transition_energy_and_time():
    states = np.array([[ACTIVE], [DEEP_SLEEP], [DEEP_SLEEP], [ACTIVE]])
    acc = account_energy(states, np.zeros((4, 1)), step_s=900.0)
    idle, deep = DEFAULT.idle_power_w, DEFAULT.p_deep_sleep_rel * DEFAULT.w_per_unit
    round_trip_j = 1000.0 * 1e-3 * DEFAULT.w_per_unit          # Table 5.1-2: 1000 units x ms
    assert acc.energy_j.sum() == pytest.approx(2 * 900 * idle + 2 * 900 * deep + round_trip_j, rel=1e-12)
    assert acc.transition_energy_j.sum() == pytest.approx(round_trip_j, rel=1e-12)
    assert acc.transition_time_s.sum() == pytest.approx(0.050, rel=1e-12)
    assert acc.n_transitions == 2


@settings(max_examples=40, deadline=None)
@given(seq=st.lists(st.sampled_from([ACTIVE, LIGHT_SLEEP, DEEP_SLEEP]), min_size=1, max_size=40),
       load=st.floats(0.0, 1.0))
def test_total_is_the_sum_of_the_time_series_and_the_parts(seq, load):
    states = np.array(seq + [ACTIVE])[:, None]
    ld = np.full(states.shape, load)
    acc = account_energy(states, ld, step_s=900.0)
    assert acc.total_kwh == pytest.approx((acc.power_w * 900.0).sum() / 3.6e6, rel=1e-12)
    base = bs_power_w(states, np.where(states == ACTIVE, ld, 0.0)).sum() * 900.0
    assert acc.energy_j.sum() == pytest.approx(base + acc.transition_energy_j.sum(), rel=1e-12)
    # start and end active: every sleep episode paid exactly one round trip of its state(s)
    if all(s != LIGHT_SLEEP for s in seq):
        episodes = sum(1 for a, b in zip([ACTIVE] + seq, seq) if a == ACTIVE and b == DEEP_SLEEP)
        assert acc.transition_energy_j.sum() == pytest.approx(episodes * DEFAULT.round_trip_energy_j[DEEP_SLEEP])


def test_transition_longer_than_a_step_raises():
    with pytest.raises(OutOfValidityRangeError, match="longer than a step of 0.01 s"):
        account_energy([[ACTIVE], [DEEP_SLEEP]], 0.0, step_s=0.01)


def test_weighted_percentiles_hand_values():
    np.testing.assert_array_equal(weighted_percentiles([5.0, 1.0, 3.0], [0.0, 1.0, 3.0], [5, 50, 95]), [1.0, 3.0, 3.0])


# ------------------------------------------------------------------------------------------ traffic
def test_offered_traffic_gives_back_the_loads_with_all_awake():
    loads = np.array([[0.1, 0.4, 0.7, 0.25], [0.0, 0.05, 0.9, 1.0]])
    offered = offered_traffic_bps(NET, loads)
    for row, off in zip(loads, offered):
        r = evaluate(NET, FlowState.default(NET), off, initial_load=row)
        np.testing.assert_allclose(r.demand_load, row, atol=1e-9)


# ----------------------------------------------------------------------------------------- policies
def test_threshold_zero_never_sleeps_and_costs_what_always_on_costs():
    hist = daily_history(2, NET.n_sectors, night=0.0)
    res = simulate_energy(NET, hist, n_days=1, options=EnergyOptions(step_s=STEP_S, threshold=0.0),
                          policies=("always_on", "threshold"))
    assert np.all(res.runs["threshold"].states == ACTIVE)
    assert res.summary["threshold"]["energy_kwh"] == res.summary["always_on"]["energy_kwh"]
    assert res.summary["threshold"]["saved_pct"] == 0.0


def test_threshold_policy_uses_the_previous_steps_load():
    hist = daily_history(2, NET.n_sectors)
    res = simulate_energy(NET, hist, n_days=1, options=EnergyOptions(step_s=STEP_S, threshold=0.1),
                          policies=("threshold",))
    planned = res.runs["threshold"].planned_sleep
    expected = hist[:, SPD - 1:-1].T < 0.1
    np.testing.assert_array_equal(planned, expected)
    assert planned[0].all() and planned[6].all() and not planned[7].any()   # at 6 h it measured 5 h (night)


def test_forecast_policy_never_sees_the_simulated_day_and_saves_energy():
    hist = daily_history(9, NET.n_sectors)
    hist[:, -SPD:] = 0.5 * hist[:, -SPD:] + 0.001   # the simulated day holds values no earlier day holds
    seen = []

    def forecast(past, horizon):
        seen.append(past.shape[1])
        np.testing.assert_allclose(np.unique(past), [0.03, 0.315, 0.6])   # nothing of the simulated day
        return past[:, -7 * SPD:][:, :horizon]    # seasonal naive

    res = simulate_energy(NET, hist, n_days=1, options=OPTS, forecast=forecast, history_days=8)
    assert seen == [8 * SPD]
    s = res.summary
    assert 0 < s["forecast"]["saved_pct"] < 100
    assert s["forecast"]["energy_kwh"] < s["always_on"]["energy_kwh"]
    assert res.runs["forecast"].states[12].tolist() == [ACTIVE] * NET.n_sectors    # noon: all awake


def test_forecast_plan_keeps_the_absorbing_neighbours_under_the_limit():
    fc = np.array([[0.02, 0.05, 0.3, 0.02], [0.5, 0.5, 0.5, 0.5], [0.01, 0.01, 0.01, 0.01]])
    opts = EnergyOptions(step_s=STEP_S, neighbour_limit=0.4, lookahead_steps=0)
    plan = forecast_sleep_plan(NET, fc, options=opts)
    assert plan[0].any() and plan[2].any()
    assert not plan[1].any()                   # nobody sleeps at load 0.5 (above max_candidate_load)
    offered = offered_traffic_bps(NET, fc)
    for t in (0, 2):
        awake = ~plan[t]
        st_ = FlowState(awake=awake, power_offset_db=np.zeros(4), tilt_deg=NET.default_elec_tilt_deg)
        r = evaluate(NET, st_, offered[t])
        assert np.all(r.demand_load[awake] <= 0.4 + 1e-6)


def test_lookahead_wakes_a_sector_before_the_forecast_rise():
    fc = np.full((4, NET.n_sectors), 0.02)
    fc[2] = 0.6
    plan = forecast_sleep_plan(NET, fc, options=EnergyOptions(step_s=STEP_S, lookahead_steps=1))
    assert plan[0].any() and not plan[1].any() and not plan[2].any()


def test_overloaded_neighbours_wake_a_sleeper_and_count_a_violation():
    load = np.array([[0.95, 0.95, 0.95, 0.95]])
    offered = offered_traffic_bps(NET, load)
    plan = np.array([[False, True, False, False]])
    run = run_policy(NET, "test", plan, offered, options=OPTS)
    assert run.woken[0, 1] and run.states[0, 1] == ACTIVE
    assert run.account.n_transitions == 0      # it ends the step awake: no sleep was paid
    ref = run_policy(NET, "always_on", np.zeros_like(plan), offered, options=OPTS)
    s = summarize({"always_on": ref, "test": run}, offered, options=OPTS)
    assert s["test"]["wake_up_violations"] == 1
    assert s["test"]["wake_up_delay_s"] == pytest.approx(0.025)


def test_a_sleeping_cell_at_the_edge_loses_coverage_that_is_counted():
    load = np.full((1, 4), 0.05)
    offered = offered_traffic_bps(NET, load)
    plan = np.array([[True, True, True, False]])        # only the last site on: the far end is out of reach
    run = run_policy(NET, "sparse", plan, offered, options=OPTS)
    ref = run_policy(NET, "always_on", np.zeros_like(plan), offered, options=OPTS)
    s = summarize({"always_on": ref, "sparse": run}, offered, options=OPTS)
    assert s["sparse"]["coverage_lost_pct"] > 0
    assert s["sparse"]["user_throughput_mbps"]["p5"] == 0.0


def test_bad_inputs_raise_with_clear_messages():
    with pytest.raises(InvalidChoiceError, match="policy='greedy' is not one of"):
        simulate_energy(NET, daily_history(2, 4), n_days=1, options=OPTS, policies=("greedy",))
    with pytest.raises(OutOfValidityRangeError, match="step_s=1000 must be a whole number of seconds dividing a day"):
        EnergyOptions(step_s=1000.0)
    with pytest.raises(OutOfValidityRangeError, match=r"need at least 25"):
        simulate_energy(NET, daily_history(1, 4), n_days=1, options=OPTS, policies=("always_on",))
    with pytest.raises(OutOfValidityRangeError, match="needs a forecast function"):
        simulate_energy(NET, daily_history(2, 4), n_days=1, options=OPTS, policies=("forecast",))
    assert not threshold_sleep_plan(np.zeros((3, 2)), 0.0).any()


def test_each_simulated_day_is_forecast_from_the_steps_before_it():
    hist = daily_history(10, NET.n_sectors) * np.linspace(0.5, 1.0, 10 * SPD)     # every step different
    ends = []

    def forecast(past, horizon):
        ends.append((past.shape[1], past[0, -1]))
        return past[:, -7 * SPD:][:, :horizon]

    res = simulate_energy(NET, hist, n_days=2, options=OPTS, forecast=forecast, history_days=7)
    assert [n for n, _ in ends] == [7 * SPD, 7 * SPD]
    assert [v for _, v in ends] == [hist[0, 8 * SPD - 1], hist[0, 9 * SPD - 1]]   # the step before each day
    assert res.runs["forecast"].states.shape == (2 * SPD, NET.n_sectors)
    assert res.forecast.shape == (2 * SPD, NET.n_sectors)
