"""Cell-sleep energy saving over a day (or a week): policies and the accounting (docs/energy.md).

A network is the flow-level model of :mod:`cellscape.ai.flow` (demand points, association, load
coupling) and every sector draws the power of :mod:`cellscape.ai.power_model` (3GPP TR 38.864).
Time runs in steps of ``step_s`` (15 min by default). All policies face the same realised load.

Traffic
-------
Each sector has a load history: the PRB utilisation it would carry with every sector awake
(:func:`cellscape.ai.loadgen.generate_load_history`). :func:`offered_traffic_bps` turns one step
of it into the traffic each demand point offers: the points a sector serves when all are awake
share the sector's load in proportion to their users, so that with all sectors awake
:func:`cellscape.ai.flow.evaluate` gives back the history's loads exactly (the SINR is computed
with the interference of those loads). A sleeping sector's points keep offering the same traffic
and move to their best awake server.

Policies (:data:`POLICIES`)
---------------------------
- ``always_on``: every sector active all day, the reference of the savings.
- ``threshold``: a sector sleeps during a step when its *measured* load, the load of its area in
  the previous step, is below ``threshold`` (strictly: a threshold of 0 never sleeps a sector).
  It does not look at its neighbours.
- ``forecast``: day-ahead. The load of the simulated day is forecast from the days before it only
  (:func:`cellscape.ai.forecast.forecast_load`; the day itself is never seen). For each step the
  forecast load over the step and the next ``lookahead_steps`` (so a sector is awake *before* a
  forecast rise) is converted to traffic, and sectors are put to sleep greedily, least loaded
  first, when their neighbours can absorb them: every sector that takes over points stays at or
  under ``neighbour_limit`` of PRB load and at most ``max_coverage_loss`` of the sleeping sector's
  users lose coverage. The set is then checked with a full :func:`~cellscape.ai.flow.evaluate`
  (which also captures the added interference) and sleepers are woken, last added first, until it
  passes.

Both sleeping policies use one sleep state (``sleep_state``, deep sleep by default: at a step of
minutes its 50 ms round trip is negligible and it draws the least).

What it costs (measured on the realised load, per policy)
----------------------------------------------------------
- **Wake-up latency violations.** Once a step's realised traffic is served, a sleeping sector whose
  users went to a neighbour that is now overloaded (PRB demand above 1) has to be woken on demand:
  each such wake is a violation, the users waiting the sector's wake-up time
  (:func:`~cellscape.ai.power_model.wake_up_time_s`); the sector then stays awake for
  ``hold_steps`` steps. The step is served with it awake.
- **Coverage lost**: the share of the offered traffic (summed over steps) at points covered with
  every sector awake but not covered under the policy. The network cannot see a user it does not
  cover, so this is not repaired by a wake.
- **Users' throughput**: percentiles of the flow-level rate of a user (processor sharing,
  :class:`~cellscape.ai.flow.FlowResult` ``user_rate_bps``; 0 when not covered), over points and
  steps, each weighted by its offered traffic (users active in proportion to their traffic).
- **Energy**: :func:`account_energy`: state power over the whole step plus the transition energy
  of each state change (TR 38.864 Table 5.1-2); the totals are the sums of the time series.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from cellscape._validate import check_choice, check_range
from cellscape.ai.flow import FlowNetwork, FlowState, evaluate, received_power_dbm
from cellscape.ai.power_model import (ACTIVE, DEEP_SLEEP, DEFAULT, LIGHT_SLEEP, MICRO_SLEEP, BsPowerModel,
                                      bs_power_w, transition_energy_j, transition_time_s, wake_up_time_s)
from cellscape.errors import OutOfValidityRangeError
from cellscape.radio.throughput import cqi_sinr_thresholds_db, spectral_efficiency_bps_hz

POLICIES: tuple[str, ...] = ("always_on", "threshold", "forecast")
"""The policies :func:`simulate_energy` compares; ``always_on`` is the reference."""

SECONDS_PER_DAY = 86400
J_PER_KWH = 3.6e6


@dataclass(frozen=True)
class EnergyOptions:
    """Settings of the policies and of the step.

    Parameters
    ----------
    step_s : float
        Length of a step; must divide a day. [s]
    threshold : float
        Load under which the ``threshold`` policy sleeps a sector, in [0, 1].
    neighbour_limit : float
        Highest PRB load the ``forecast`` policy lets a sector reach when it absorbs a sleeping
        neighbour's users, in (0, 1].
    max_candidate_load : float
        The ``forecast`` policy only tries to sleep sectors whose forecast load is below this
        (a pre-filter that saves time; the absorption check decides), in [0, 1].
    lookahead_steps : int
        Steps ahead whose forecast load a sleeping sector must also be absorbable at (wake before
        a forecast rise), >= 0.
    max_coverage_loss : float
        Share of a sleeping sector's covered users allowed to lose coverage, in [0, 1].
    hold_steps : int
        Steps a sector woken on demand stays awake, >= 0.
    sleep_state : int
        State code of a sleeping sector (:data:`~cellscape.ai.power_model.DEEP_SLEEP` by default).
    n_iter : int
        Load-coupling iterations of :func:`~cellscape.ai.flow.evaluate`, >= 1.
    """

    step_s: float = 900.0
    threshold: float = 0.1
    neighbour_limit: float = 0.7
    max_candidate_load: float = 0.35
    lookahead_steps: int = 1
    max_coverage_loss: float = 0.01
    hold_steps: int = 4
    sleep_state: int = DEEP_SLEEP
    n_iter: int = 20

    def __post_init__(self) -> None:
        src = "EnergyOptions"
        if not (np.isfinite(self.step_s) and self.step_s >= 1 and float(self.step_s).is_integer()
                and SECONDS_PER_DAY % int(self.step_s) == 0):
            raise OutOfValidityRangeError(f"step_s={self.step_s:g} must be a whole number of seconds dividing a day")
        check_range("threshold", self.threshold, 0.0, 1.0, source=src)
        check_range("neighbour_limit", self.neighbour_limit, 1e-9, 1.0, source=src)
        check_range("max_candidate_load", self.max_candidate_load, 0.0, 1.0, source=src)
        check_range("max_coverage_loss", self.max_coverage_loss, 0.0, 1.0, source=src)
        for name, low in (("lookahead_steps", 0), ("hold_steps", 0), ("n_iter", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or v < low:
                raise OutOfValidityRangeError(f"{name}={v!r} must be an integer >= {low}")
        if self.sleep_state not in (MICRO_SLEEP, LIGHT_SLEEP, DEEP_SLEEP):
            raise OutOfValidityRangeError(f"sleep_state={self.sleep_state!r} must be 1 (micro), 2 (light) or 3 (deep)")

    @property
    def steps_per_day(self) -> int:
        """Steps in a day."""
        return SECONDS_PER_DAY // int(self.step_s)


# --------------------------------------------------------------------------------------------------
# Accounting
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EnergyAccount:
    """Energy of a state/load time series.

    ``power_w``: (T, S) mean power of each step, transition energy included [W];
    ``energy_j``: (T, S) energy of each step, ``power_w * step_s`` [J]; ``transition_energy_j``:
    (T, S) the part spent on state changes [J]; ``transition_time_s``: (T, S) time spent changing
    state at the start of each step [s]; ``n_transitions``: number of state changes.
    """

    power_w: np.ndarray
    energy_j: np.ndarray
    transition_energy_j: np.ndarray
    transition_time_s: np.ndarray
    n_transitions: int

    @property
    def total_kwh(self) -> float:
        """Sum of the energy time series. [kWh]"""
        return float(self.energy_j.sum() / J_PER_KWH)


def account_energy(states, load, *, step_s: float, model: BsPowerModel = DEFAULT,
                   initial_state=ACTIVE) -> EnergyAccount:
    """Energy of each sector and step from its state and PRB load.

    Parameters
    ----------
    states : array_like of int, shape (T, S)
        State code of each sector during each step (:mod:`cellscape.ai.power_model`).
    load : array_like, shape (T, S)
        DL PRB load of each sector in each step, in [0, 1]; ignored while asleep.
    step_s : float
        Step length, > 0. [s]
    model : BsPowerModel
        The power model.
    initial_state : int or array_like, shape (S,)
        State before the first step (active by default: the first step of a day pays the
        ramp-down of a sector that starts it asleep).

    Returns
    -------
    EnergyAccount

    Notes
    -----
    ``energy_j[t, s] = bs_power_w(states[t, s], load[t, s]) * step_s + transition_energy_j(states[t-1, s],
    states[t, s])``. The transition happens at the start of the step; its time is recorded but
    not taken off the step (milliseconds against minutes). Raises if a transition takes longer
    than a step.

    Examples
    --------
    >>> acc = account_energy([[ACTIVE], [DEEP_SLEEP], [ACTIVE]], [[0.0], [0.0], [0.0]], step_s=900.0)
    >>> acc.n_transitions, round(float(acc.transition_energy_j.sum()), 4), round(float(acc.transition_time_s.sum()), 3)
    (2, 3.5714, 0.05)
    """
    s = np.asarray(states)
    if s.ndim != 2:
        raise OutOfValidityRangeError(f"states must be a (n_steps, n_sectors) array, got shape {s.shape}")
    ld = np.broadcast_to(np.asarray(load, dtype=float), s.shape)
    step = float(check_range("step_s", step_s, 1e-9, np.inf, source="account_energy"))
    first = np.broadcast_to(np.asarray(initial_state), (1, s.shape[1]))
    prev = np.concatenate([first, s[:-1]], axis=0)                          # (T, S)
    base_w = bs_power_w(s, np.where(s == ACTIVE, ld, 0.0), model=model)     # (T, S)
    e_tr = transition_energy_j(prev, s, model=model)                        # (T, S)
    t_tr = transition_time_s(prev, s, model=model)                          # (T, S)
    if np.any(t_tr > step):
        raise OutOfValidityRangeError(f"a state change takes {t_tr.max():g} s, longer than a step of {step:g} s")
    energy = base_w * step + e_tr
    return EnergyAccount(power_w=energy / step, energy_j=energy, transition_energy_j=e_tr, transition_time_s=t_tr,
                         n_transitions=int(np.count_nonzero(prev != s)))


def weighted_percentiles(values, weights, q) -> np.ndarray:
    """Percentiles ``q`` (0 to 100) of ``values`` weighted by ``weights`` (inverse of the weighted CDF).

    >>> weighted_percentiles([1.0, 2.0, 3.0], [1.0, 1.0, 2.0], [25, 50, 100]).tolist()
    [1.0, 2.0, 3.0]
    """
    v = np.asarray(values, dtype=float).ravel()
    w = np.asarray(weights, dtype=float).ravel()
    keep = w > 0
    v, w = v[keep], w[keep]
    qs = np.asarray(q, dtype=float)
    if v.size == 0:
        return np.full(qs.shape, np.nan)
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    idx = np.searchsorted(cum, qs / 100.0 * cum[-1] * (1 - 1e-12), side="left")
    return v[order][np.clip(idx, 0, v.size - 1)]


# --------------------------------------------------------------------------------------------------
# Traffic
# --------------------------------------------------------------------------------------------------
def _all_awake(net: FlowNetwork) -> FlowState:
    return FlowState.default(net)


def _with_awake(net: FlowNetwork, awake) -> FlowState:
    d = FlowState.default(net)
    return FlowState(awake=np.asarray(awake, dtype=bool), power_offset_db=d.power_offset_db, tilt_deg=d.tilt_deg)


def offered_traffic_bps(net: FlowNetwork, sector_load) -> np.ndarray:
    """Traffic each point offers so that, all sectors awake, each sector's PRB load is ``sector_load``.

    Parameters
    ----------
    net : FlowNetwork
    sector_load : array_like, shape (S,) or (T, S)
        PRB utilisation of each sector with every sector awake, in [0, 1].

    Returns
    -------
    offered_bps : ndarray, shape (P,) or (T, P)
        ``w_p * d_s``: the point's users times its sector's traffic per user, ``d_s = load_s /
        sum_{q in s} (w_q / rate_q)`` over the covered points ``q`` of ``s``, with each point's
        full-PRB rate computed with the interference of the loads ``sector_load`` (module
        docstring). Points of a sector with no covered point offer nothing. [bit/s]
    """
    ld = check_range("sector_load", sector_load, 0.0, 1.0, source="offered_traffic_bps")
    one = ld.ndim == 1
    ld2 = np.atleast_2d(ld)
    if ld2.shape[1] != net.n_sectors:
        raise OutOfValidityRangeError(f"sector_load has {ld2.shape[1]} sectors, the network {net.n_sectors}")
    state = _all_awake(net)
    zero = np.zeros(net.n_points)
    out = np.empty((ld2.shape[0], net.n_points))
    for t, row in enumerate(ld2):
        # one iteration from the given loads: the full-PRB rates under exactly that interference
        r = evaluate(net, state, zero, n_iter=1, initial_load=row)
        inv = np.divide(net.point_weight, r.rate_full_bps, out=np.zeros(net.n_points), where=r.rate_full_bps > 0)
        per_user_need = np.bincount(r.serving, weights=inv, minlength=net.n_sectors)       # (S,) [s/bit]
        d = np.divide(row, per_user_need, out=np.zeros(net.n_sectors), where=per_user_need > 0)
        out[t] = net.point_weight * d[r.serving]
    return out[0] if one else out


# --------------------------------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------------------------------
def threshold_sleep_plan(measured_load, threshold: float) -> np.ndarray:
    """(T, S) bool: sleep where the measured load is strictly below ``threshold``.

    ``measured_load[t]`` is what the network knows when it decides step ``t``: the load of the
    previous step.

    >>> threshold_sleep_plan([[0.05, 0.2]], 0.1).tolist()
    [[True, False]]
    >>> bool(threshold_sleep_plan([[0.0, 0.0]], 0.0).any())
    False
    """
    thr = float(check_range("threshold", threshold, 0.0, 1.0, source="threshold policy"))
    return np.asarray(measured_load, dtype=float) < thr


def _window_max(load: np.ndarray, ahead: int) -> np.ndarray:
    """(T, S) max of ``load[t : t + 1 + ahead]`` (the window stops at the end)."""
    out = load.copy()
    for k in range(1, ahead + 1):
        out[:-k] = np.maximum(out[:-k], load[k:])
    return out


@dataclass(frozen=True, eq=False)
class _Links:
    """Per-link quantities of the default state, shared by the planning steps."""

    rx_mw: np.ndarray        # (S, P)
    rsrp_dbm: np.ndarray     # (S, P)
    noise_mw: float
    lowest_sinr_db: float
    rate_per_eff: float

    @classmethod
    def of(cls, net: FlowNetwork) -> "_Links":
        rsrp = received_power_dbm(net, _all_awake(net))
        return cls(rx_mw=10.0 ** (rsrp / 10.0), rsrp_dbm=rsrp, noise_mw=10.0 ** (net.noise_per_re_dbm / 10.0),
                   lowest_sinr_db=float(cqi_sinr_thresholds_db(table=net.cqi_table)[0]),
                   rate_per_eff=net.rate_per_efficiency_bps)


def _absorb(net: FlowNetwork, links: _Links, s: int, pts: np.ndarray, awake: np.ndarray, load: np.ndarray,
            offered: np.ndarray):
    """New servers, coverage and PRB need of the points ``pts`` of sector ``s`` if it slept."""
    alt = awake.copy()
    alt[s] = False
    rx = links.rx_mw[:, pts]                                                 # (S, n)
    n = np.argmax(np.where(alt[:, None], rx, -np.inf), axis=0)               # (n,)
    sig = rx[n, np.arange(pts.size)]
    lo = load * alt
    interf = np.maximum(lo @ rx - lo[n] * sig, 0.0)
    sinr_db = 10.0 * np.log10(sig / (interf + links.noise_mw))
    rsrp_ok = links.rsrp_dbm[n, pts] >= net.rsrp_threshold_dbm
    rate = np.where(rsrp_ok, spectral_efficiency_bps_hz(sinr_db, table=net.cqi_table) * links.rate_per_eff, 0.0)
    covered = rsrp_ok & (sinr_db >= links.lowest_sinr_db)
    need = np.divide(offered[pts], rate, out=np.zeros(pts.size), where=rate > 0)
    return n, covered, need


def forecast_sleep_plan(net: FlowNetwork, forecast_load, *, options: EnergyOptions = EnergyOptions(),
                        links: _Links | None = None) -> np.ndarray:
    """(T, S) bool: the ``forecast`` policy's sleeping sectors for forecast loads (module docstring).

    ``forecast_load``: (T, S) forecast PRB load of each sector with all awake, in [0, 1].
    """
    fc = check_range("forecast_load", forecast_load, 0.0, 1.0, source="forecast policy")
    if fc.ndim != 2 or fc.shape[1] != net.n_sectors:
        raise OutOfValidityRangeError(f"forecast_load must have shape (n_steps, {net.n_sectors}), got {fc.shape}")
    links = _Links.of(net) if links is None else links
    plan_load = _window_max(fc, int(options.lookahead_steps))
    offered = offered_traffic_bps(net, plan_load)                            # (T, P)
    w = net.point_weight
    sleep = np.zeros(fc.shape, dtype=bool)
    limit = options.neighbour_limit
    for t in range(fc.shape[0]):
        cand = np.flatnonzero(plan_load[t] < options.max_candidate_load)
        if cand.size == 0:
            continue
        # previous sleepers first (fewer transitions), then the least loaded
        was_asleep = sleep[t - 1, cand] if t > 0 else np.zeros(cand.size, dtype=bool)
        cand = cand[np.lexsort((plan_load[t, cand], ~was_asleep))]
        r0 = evaluate(net, _all_awake(net), offered[t], n_iter=options.n_iter, initial_load=plan_load[t])
        awake = np.ones(net.n_sectors, dtype=bool)
        demand = r0.demand_load.copy()
        serving = r0.serving.copy()
        covered = r0.covered.copy()
        added_order: list[int] = []
        for s in cand:
            pts = np.flatnonzero(serving == s)
            if awake.sum() <= 1:
                break
            if pts.size:
                n, cov, need = _absorb(net, links, int(s), pts, awake, np.minimum(demand, 1.0) * awake, offered[t])
                base_w = float(w[pts][covered[pts]].sum())
                lost_w = float(w[pts][covered[pts] & ~cov].sum())
                if base_w > 0 and lost_w > options.max_coverage_loss * base_w:
                    continue
                added = np.bincount(n, weights=need, minlength=net.n_sectors)
                takers = np.flatnonzero(np.bincount(n, minlength=net.n_sectors) > 0)
                if np.any(demand[takers] + added[takers] > limit):
                    continue
                demand = demand + added
                serving[pts] = n
                covered[pts] = cov
            awake[s] = False
            demand[s] = 0.0
            added_order.append(int(s))
        # verify with the full model (added interference included); undo the last sleepers until it holds
        while added_order:
            r = evaluate(net, _with_awake(net, awake), offered[t], n_iter=options.n_iter,
                         initial_load=np.minimum(demand, 1.0) * awake)
            lost = (r0.covered & ~r.covered)
            lost_share = float(offered[t][lost].sum() / max(offered[t][r0.covered].sum(), 1e-300))
            if np.all(r.demand_load[awake] <= limit + 1e-6) and lost_share <= options.max_coverage_loss:
                break
            awake[added_order.pop()] = True
        sleep[t] = ~awake
    return sleep


# --------------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PolicyRun:
    """One policy over the simulated period (T steps, S sectors, P points).

    ``states``: (T, S) int8 state codes; ``load``: (T, S) realised PRB load (0 asleep);
    ``account``: :class:`EnergyAccount`; ``user_rate_bps``: (T, P) float32 flow-level user rate;
    ``covered``: (T, P) bool; ``served_bps``: (T,) traffic served [bit/s]; ``woken``: (T, S) bool,
    sectors woken on demand (wake-up latency violations); ``planned_sleep``: (T, S) bool.
    """

    name: str
    states: np.ndarray
    load: np.ndarray
    account: EnergyAccount
    user_rate_bps: np.ndarray
    covered: np.ndarray
    served_bps: np.ndarray
    woken: np.ndarray
    planned_sleep: np.ndarray


def run_policy(net: FlowNetwork, name: str, sleep_plan, offered_bps, *, options: EnergyOptions = EnergyOptions(),
               model: BsPowerModel = DEFAULT, warm_load=None) -> PolicyRun:
    """Serve the realised traffic step by step with the sectors of ``sleep_plan`` asleep.

    ``sleep_plan``: (T, S) bool; ``offered_bps``: (T, P) [bit/s]; ``warm_load``: (T, S) start of
    each step's load iteration (the always-on loads: faster, same fixed point in practice).
    A sleeping sector whose users went to an overloaded sector is woken on demand (module docstring).
    """
    plan = np.asarray(sleep_plan, dtype=bool)
    offered = np.asarray(offered_bps, dtype=float)
    n_t, n_s = plan.shape
    if offered.shape != (n_t, net.n_points):
        raise OutOfValidityRangeError(f"offered_bps has shape {offered.shape}, expected {(n_t, net.n_points)}")
    home = evaluate(net, _all_awake(net), np.zeros(net.n_points), n_iter=1).serving       # (P,) all-awake server
    states = np.full((n_t, n_s), ACTIVE, dtype=np.int8)
    load = np.zeros((n_t, n_s))
    rate = np.zeros((n_t, net.n_points), dtype=np.float32)
    covered = np.zeros((n_t, net.n_points), dtype=bool)
    served = np.zeros(n_t)
    woken = np.zeros((n_t, n_s), dtype=bool)
    hold = np.zeros(n_s, dtype=np.int64)
    for t in range(n_t):
        awake = ~plan[t] | (hold > 0)
        init = None if warm_load is None else np.asarray(warm_load[t]) * awake
        r = evaluate(net, _with_awake(net, awake), offered[t], n_iter=options.n_iter, initial_load=init)
        for _ in range(n_s):
            over = awake & (r.demand_load > 1.0)
            moved = (~awake[home]) & over[np.maximum(r.serving, 0)] & (r.serving >= 0) & (offered[t] > 0)
            wake = np.unique(home[moved])
            if wake.size == 0:
                break
            awake[wake] = True
            woken[t, wake] = True
            hold[wake] = options.hold_steps + 1
            r = evaluate(net, _with_awake(net, awake), offered[t], n_iter=options.n_iter,
                         initial_load=np.minimum(r.demand_load, 1.0) * awake)
        hold = np.maximum(hold - 1, 0)
        states[t] = np.where(awake, ACTIVE, options.sleep_state)
        load[t] = np.where(awake, r.sector_load, 0.0)
        rate[t] = r.user_rate_bps
        covered[t] = r.covered
        served[t] = r.rate_bps.sum()
    acc = account_energy(states, load, step_s=options.step_s, model=model)
    return PolicyRun(name=name, states=states, load=load, account=acc, user_rate_bps=rate, covered=covered,
                     served_bps=served, woken=woken, planned_sleep=plan)


ForecastFn = Callable[[np.ndarray, int], np.ndarray]
"""forecast(history (S, n_past), horizon_steps) -> (S, horizon_steps) load in [0, 1]."""


@dataclass(frozen=True, eq=False)
class EnergyResult:
    """All policies over the simulated period, with the traffic they faced.

    ``runs``: policy name -> :class:`PolicyRun` (``always_on`` always present); ``load``: (T, S)
    the realised always-on load (the history of the simulated days); ``forecast``: (T, S) or None;
    ``offered_bps``: (T, P); ``summary``: :func:`summarize` of the runs.
    """

    runs: dict
    load: np.ndarray
    forecast: np.ndarray | None
    offered_bps: np.ndarray
    options: EnergyOptions
    model: BsPowerModel
    summary: dict = field(default_factory=dict)


def summarize(runs: dict, offered_bps, *, options: EnergyOptions, model: BsPowerModel = DEFAULT) -> dict:
    """Per policy: energy [kWh], % saved against ``always_on``, users' throughput percentiles,
    coverage lost, wake-up violations, transitions (the numbers of energy.json)."""
    offered = np.asarray(offered_bps, dtype=float)
    ref = runs["always_on"]
    e_ref = ref.account.total_kwh
    total_offered = float(offered.sum())
    ref_cov_traffic = float(offered[ref.covered].sum())
    out = {}
    for name, run in runs.items():
        e = run.account.total_kwh
        p5, p50, p95 = weighted_percentiles(run.user_rate_bps, offered, [5, 50, 95])
        lost = ref.covered & ~run.covered
        n_woken = int(run.woken.sum())
        wake_delay = n_woken * float(wake_up_time_s(options.sleep_state, model=model))
        asleep = run.states != ACTIVE
        out[name] = {
            "energy_kwh": e,
            "saved_pct": 100.0 * (1.0 - e / e_ref) if e_ref > 0 else 0.0,
            "mean_power_kw": float(run.account.power_w.sum(axis=1).mean() / 1e3),
            "user_throughput_mbps": {"p5": float(p5) / 1e6, "p50": float(p50) / 1e6, "p95": float(p95) / 1e6},
            "coverage_lost_pct": 100.0 * float(offered[lost].sum()) / ref_cov_traffic if ref_cov_traffic > 0 else 0.0,
            "traffic_served_pct": 100.0 * float(run.served_bps.sum()) / total_offered if total_offered > 0 else 100.0,
            "wake_up_violations": n_woken,
            "wake_up_delay_s": wake_delay,
            "n_transitions": run.account.n_transitions,
            "transition_energy_j": float(run.account.transition_energy_j.sum()),
            "transition_time_s": float(run.account.transition_time_s.sum()),
            "sleep_sector_hours": float(asleep.sum() * options.step_s / 3600.0),
            "mean_sectors_asleep": float(asleep.sum(axis=1).mean()),
        }
    return out


def simulate_energy(net: FlowNetwork, history_load, *, n_days: int, options: EnergyOptions = EnergyOptions(),
                    model: BsPowerModel = DEFAULT, policies: Sequence[str] = POLICIES,
                    forecast: ForecastFn | None = None, history_days: int | None = None,
                    progress: Callable[[str, int, int], None] | None = None) -> EnergyResult:
    """Simulate the last ``n_days`` days of ``history_load`` under each policy.

    Parameters
    ----------
    net : FlowNetwork
        The demand points and links (:func:`cellscape.ai.flow.flow_network_from_maps`).
    history_load : array_like, shape (S, N)
        Each sector's all-awake PRB load on steps of ``options.step_s``; the last ``n_days`` days
        are simulated, the days before are the past the forecast learns from.
    n_days : int
        Days simulated, >= 1.
    options, model
        Policy settings and the power model.
    policies : sequence of str
        Any of :data:`POLICIES`; ``always_on`` is always run (it is the reference).
    forecast : callable, optional
        ``forecast(past (S, n), horizon)`` for the ``forecast`` policy; it sees, for each simulated
        day, only the steps before that day (at most ``history_days`` days of them).
    history_days : int, optional
        Days of past the forecast sees (default: all).
    progress : callable, optional
        ``progress(stage, done, total)``.

    Returns
    -------
    EnergyResult
    """
    for p in policies:
        check_choice("policy", p, POLICIES)
    hist = check_range("history_load", history_load, 0.0, 1.0, source="simulate_energy")
    if hist.ndim != 2 or hist.shape[0] != net.n_sectors:
        raise OutOfValidityRangeError(f"history_load must have shape ({net.n_sectors}, n_steps), got {hist.shape}")
    if isinstance(n_days, bool) or int(n_days) != n_days or n_days < 1:
        raise OutOfValidityRangeError(f"n_days={n_days!r} must be an integer >= 1")
    spd = options.steps_per_day
    n_sim = int(n_days) * spd
    if hist.shape[1] < n_sim + 1:
        raise OutOfValidityRangeError(f"history_load holds {hist.shape[1]} steps; {n_days} simulated day(s) of "
                                      f"{spd} steps need at least {n_sim + 1} (one step of past for the measured load)")
    start = hist.shape[1] - n_sim
    load = hist[:, start:].T.copy()                                            # (T, S)
    report = progress or (lambda stage, done, total: None)
    report("traffic", 0, 1)
    offered = offered_traffic_bps(net, load)                                    # (T, P)
    report("traffic", 1, 1)
    wanted = ["always_on"] + [p for p in POLICIES if p in policies and p != "always_on"]
    runs: dict[str, PolicyRun] = {}
    fc_all = None
    for i, name in enumerate(wanted):
        report(name, i, len(wanted))
        if name == "always_on":
            plan = np.zeros_like(load, dtype=bool)
        elif name == "threshold":
            measured = hist[:, start - 1:-1].T                                   # previous step's load
            plan = threshold_sleep_plan(measured, options.threshold)
        else:
            if forecast is None:
                raise OutOfValidityRangeError("the forecast policy needs a forecast function")
            days = []
            for d in range(int(n_days)):
                day0 = start + d * spd
                first = 0 if history_days is None else max(0, day0 - int(history_days) * spd)
                days.append(np.clip(np.asarray(forecast(hist[:, first:day0], spd), dtype=float), 0.0, 1.0))
            fc_all = np.concatenate(days, axis=1).T                              # (T, S)
            plan = forecast_sleep_plan(net, fc_all, options=options)
        runs[name] = run_policy(net, name, plan, offered, options=options, model=model, warm_load=load)
    report("done", len(wanted), len(wanted))
    res = EnergyResult(runs=runs, load=load, forecast=fc_all, offered_bps=offered, options=options, model=model)
    return EnergyResult(runs=runs, load=load, forecast=fc_all, offered_bps=offered, options=options, model=model,
                        summary=summarize(res.runs, offered, options=options, model=model))
