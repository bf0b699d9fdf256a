"""Mobility management of the system-level simulator: L3 filtering, A3 handover with time to
trigger, ping-pong counting and radio-link failure, vectorised over users.

Per measurement step (every ``measurement_period_ms``) and user:

1. **L3 filter** (TS 38.331 5.5.3.2): F_n = (1 - a) F_{n-1} + a M_n in dB, a = 1 / 2^(k/4),
   ``l3_filter_k`` = k (0: no filtering); the first measurement initialises F. TS 38.331 defines
   a for a 200 ms sample period; here it applies per measurement step as given.
2. **A3** (TS 38.331 5.5.4.4, offsets per cell 0): the best neighbour n enters when
   F_n - Hys > F_p + Off and leaves when F_n + Hys < F_p + Off. When the entering condition has
   held for ``time_to_trigger_ms`` (timer restarted when the best neighbour changes), the user is
   handed over to n (no preparation delay; ``interruption_ms`` without data follows, handled by
   the caller).
3. **Ping-pong**: a handover back to the cell the user left within ``ping_pong_s`` of the previous
   handover (the usual KPI definition, e.g. 3GPP TR 36.839 Table 5.2.1-1 context).
4. **Radio-link monitoring** (TS 38.133 8.1, TS 38.331 5.3.10.3): the serving wideband SINR below
   ``qout_db`` starts T310, above ``qin_db`` stops it; at expiry a radio-link failure is declared
   and the user re-establishes on its strongest filtered cell after ``reestablishment_ms``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cellscape.scenario.simulation import HandoverOptions, RlfOptions

EVENT_HANDOVER, EVENT_PING_PONG, EVENT_RLF = 1, 2, 3
EVENT_NAMES = {EVENT_HANDOVER: "handover", EVENT_PING_PONG: "ping_pong", EVENT_RLF: "rlf"}


def l3_filter_coefficient(k: int) -> float:
    """a = 1 / 2^(k/4) of TS 38.331 5.5.3.2.

    >>> l3_filter_coefficient(0), l3_filter_coefficient(4)
    (1.0, 0.5)
    """
    return 1.0 / 2.0 ** (k / 4.0)


@dataclass
class MobilityState:
    """Per-user mobility-management state (arrays of n_users)."""

    serving: np.ndarray
    filtered_dbm: np.ndarray                       # (n_users, n_sectors)
    ttt_target: np.ndarray
    ttt_s: np.ndarray
    previous: np.ndarray
    last_handover_s: np.ndarray
    t310_s: np.ndarray                             # time out of sync so far; < 0: T310 not running
    blocked_until_s: np.ndarray                    # no data before (re-establishment, interruption)
    handovers: np.ndarray
    ping_pongs: np.ndarray
    rlfs: np.ndarray
    events: list = field(default_factory=list)     # (t_s, user, kind, from, to)

    @classmethod
    def attach(cls, rsrp_dbm: np.ndarray) -> "MobilityState":
        """Initial attachment to the strongest sector."""
        n = rsrp_dbm.shape[0]
        serving = np.argmax(rsrp_dbm, axis=1)
        return cls(serving=serving, filtered_dbm=rsrp_dbm.astype(np.float64).copy(),
                   ttt_target=np.full(n, -1), ttt_s=np.zeros(n), previous=np.full(n, -1),
                   last_handover_s=np.full(n, -np.inf), t310_s=np.full(n, -1.0), blocked_until_s=np.zeros(n),
                   handovers=np.zeros(n, dtype=np.int64), ping_pongs=np.zeros(n, dtype=np.int64),
                   rlfs=np.zeros(n, dtype=np.int64))


def mobility_step(state: MobilityState, rsrp_dbm: np.ndarray, serving_sinr_db: np.ndarray, t_s: float, dt_s: float,
                  ho: HandoverOptions, rlf: RlfOptions, *, record_from_s: float = 0.0) -> np.ndarray:
    """Advance ``state`` by one measurement step at time ``t_s`` (the end of the step of length
    ``dt_s``) with this step's RSRP (n_users, n_sectors) [dBm] and serving SINR (n_users,) [dB].
    Counts and events after ``record_from_s`` only (the warm-up is not counted). Returns the users
    handed over or re-established in this step (bool, n_users)."""
    n = rsrp_dbm.shape[0]
    a = l3_filter_coefficient(ho.l3_filter_k)
    state.filtered_dbm *= 1.0 - a
    state.filtered_dbm += a * rsrp_dbm
    f = state.filtered_dbm
    rows = np.arange(n)
    f_serv = f[rows, state.serving]
    f_n = f.copy()
    f_n[rows, state.serving] = -np.inf
    best = np.argmax(f_n, axis=1)
    f_best = f_n[rows, best]
    entering = f_best - ho.hysteresis_db > f_serv + ho.a3_offset_db
    restart = entering & (best != state.ttt_target)
    state.ttt_target = np.where(entering, best, -1)
    state.ttt_s = np.where(entering, np.where(restart, dt_s, state.ttt_s + dt_s), 0.0)
    counting = t_s >= record_from_s
    # TTT reached: the entering condition held for at least time_to_trigger (steps counted whole)
    fire = entering & (state.ttt_s >= ho.time_to_trigger_ms * 1e-3 - 1e-9)
    moved = np.zeros(n, dtype=bool)
    for u in np.flatnonzero(fire):
        old, new = int(state.serving[u]), int(best[u])
        pp = new == state.previous[u] and t_s - state.last_handover_s[u] <= ho.ping_pong_s + 1e-12
        if counting:
            state.handovers[u] += 1
            state.ping_pongs[u] += int(pp)
            state.events.append((t_s, int(u), EVENT_PING_PONG if pp else EVENT_HANDOVER, old, new))
        state.previous[u] = old
        state.serving[u] = new
        state.last_handover_s[u] = t_s
        state.blocked_until_s[u] = max(state.blocked_until_s[u], t_s + ho.interruption_ms * 1e-3)
        moved[u] = True
    state.ttt_target[fire] = -1
    state.ttt_s[fire] = 0.0
    # radio-link monitoring on the serving SINR (users just handed over start afresh)
    sinr = np.where(moved, np.inf, serving_sinr_db)
    running = state.t310_s >= 0.0
    start = ~running & (sinr < rlf.qout_db)
    stop = running & (sinr > rlf.qin_db)
    state.t310_s = np.where(start, 0.0, np.where(stop, -1.0, np.where(running, state.t310_s + dt_s, -1.0)))
    failed = state.t310_s >= rlf.t310_ms * 1e-3 - 1e-9
    for u in np.flatnonzero(failed):
        old = int(state.serving[u])
        new = int(np.argmax(f[u]))
        if counting:
            state.rlfs[u] += 1
            state.events.append((t_s, int(u), EVENT_RLF, old, new))
        state.previous[u] = -1
        state.serving[u] = new
        state.blocked_until_s[u] = t_s + rlf.reestablishment_ms * 1e-3
        state.t310_s[u] = -1.0
        state.ttt_target[u] = -1
        state.ttt_s[u] = 0.0
        moved[u] = True
    return moved


__all__ = ["EVENT_HANDOVER", "EVENT_NAMES", "EVENT_PING_PONG", "EVENT_RLF", "MobilityState", "l3_filter_coefficient",
           "mobility_step"]
