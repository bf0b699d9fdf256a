"""A3 handover, TTT, ping-pong and radio-link failure on synthetic two-cell corridors."""

import numpy as np
import pytest

from cellscape.scenario.simulation import HandoverOptions, RlfOptions
from cellscape.simulation.handover import MobilityState, l3_filter_coefficient, mobility_step


def corridor_rsrp(x_m):
    """Two cells 1 km apart; RSRP falls 0.05 dB/m from each: equal at x = 500 m."""
    x = np.atleast_1d(np.asarray(x_m, float))
    return np.stack([-70 - 0.05 * x, -70 - 0.05 * (1000 - x)], axis=1)


def run_corridor(speed_m_s, ho, x0=300.0, t_end_s=300.0, dt_s=0.01):
    state = MobilityState.attach(corridor_rsrp(x0))
    n = int(round(t_end_s / dt_s))
    for i in range(1, n + 1):
        t = i * dt_s
        moved = mobility_step(state, corridor_rsrp(x0 + speed_m_s * t), np.array([10.0]), t, dt_s, ho, RlfOptions())
        if moved[0]:
            return t, x0 + speed_m_s * t, state
    return None, None, state


@pytest.mark.parametrize("speed_m_s", [1.0, 10.0, 30.0])
@pytest.mark.parametrize("ttt_ms", [0.0, 160.0, 640.0])
def test_handover_where_a3_predicts_delayed_by_ttt(speed_m_s, ttt_ms):
    ho = HandoverOptions(a3_offset_db=3.0, hysteresis_db=1.0, time_to_trigger_ms=ttt_ms, l3_filter_k=0,
                         measurement_period_ms=10.0)
    t, x, state = run_corridor(speed_m_s, ho)
    # entering: RSRP_B - Hys > RSRP_A + Off  <=>  0.1 x - 50 > 4  <=>  x > 540 m
    x_a3 = 540.0
    t_expected = (x_a3 - 300.0) / speed_m_s + ttt_ms * 1e-3
    assert t == pytest.approx(t_expected, abs=0.01 + 1e-9)           # one measurement step
    assert x == pytest.approx(x_a3 + speed_m_s * ttt_ms * 1e-3, abs=speed_m_s * 0.01 + 1e-9)
    assert state.serving[0] == 1 and state.handovers[0] == 1 and state.ping_pongs[0] == 0


def test_l3_filter_delays_the_handover():
    base = dict(a3_offset_db=3.0, hysteresis_db=1.0, time_to_trigger_ms=40.0, measurement_period_ms=10.0)
    t0, _, _ = run_corridor(10.0, HandoverOptions(l3_filter_k=0, **base))
    t4, _, _ = run_corridor(10.0, HandoverOptions(l3_filter_k=8, **base))
    assert t4 > t0
    assert l3_filter_coefficient(8) == 0.25


def test_ping_pong_counted_when_back_within_the_window():
    ho = HandoverOptions(a3_offset_db=0.0, hysteresis_db=0.5, time_to_trigger_ms=0.0, l3_filter_k=0, ping_pong_s=1.0)
    a_strong = np.array([[-70.0, -80.0]])
    b_strong = np.array([[-80.0, -70.0]])
    state = MobilityState.attach(a_strong)
    seq = [b_strong, b_strong, a_strong, a_strong] + [a_strong] * 200 + [b_strong]
    for i, r in enumerate(seq, start=1):
        mobility_step(state, r, np.array([10.0]), i * 0.01, 0.01, ho, RlfOptions())
    assert state.handovers[0] == 3
    assert state.ping_pongs[0] == 1                  # back to A 20 ms after leaving it; B again after 2 s: not
    kinds = [e[2] for e in state.events]
    assert kinds == [1, 2, 1]


def test_radio_link_failure_after_t310_and_recovery_in_time():
    rlf = RlfOptions(qout_db=-8.0, qin_db=-6.0, t310_ms=200.0, reestablishment_ms=100.0)
    ho = HandoverOptions(l3_filter_k=0)
    rsrp = np.array([[-90.0, -95.0], [-90.0, -95.0]])
    state = MobilityState.attach(rsrp)
    failed_at = None
    for i in range(1, 36):                                          # until 350 ms
        t = i * 0.01
        sinr = np.array([-10.0, -10.0 if i < 10 else -5.0])        # user 1 recovers after 90 ms
        mobility_step(state, rsrp, sinr, t, 0.01, ho, rlf)
        if state.rlfs[0] and failed_at is None:
            failed_at = t
    assert state.rlfs.tolist() == [1, 0]
    assert failed_at == pytest.approx(0.01 + 0.2, abs=1e-9)         # out of sync at 10 ms, T310 200 ms
    assert state.blocked_until_s[0] == pytest.approx(failed_at + 0.1)
    assert state.events[0][2] == 3


def test_warm_up_events_not_counted():
    ho = HandoverOptions(a3_offset_db=0.0, hysteresis_db=0.5, time_to_trigger_ms=0.0, l3_filter_k=0)
    state = MobilityState.attach(np.array([[-70.0, -80.0]]))
    mobility_step(state, np.array([[-80.0, -70.0]]), np.array([10.0]), 0.01, 0.01, ho, RlfOptions(), record_from_s=0.1)
    assert state.serving[0] == 1 and state.handovers[0] == 0 and not state.events
