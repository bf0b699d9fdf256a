"""``NetworkEnv``: a Gymnasium environment over the flow-level network model (docs/ai_env.md).

One episode is one day of ``n_steps = 86400 / step_s`` intervals (15 min by default). In each
interval every demand point of a :class:`~cellscape.ai.flow.FlowNetwork` offers traffic that follows
the daily profile of its *home* sector (the sector serving it with every sector on), drawn for the
episode by :func:`cellscape.ai.loadgen.generate_load_history` (cell-type profiles, a random day of
the week, day level and AR(1) noise). The agent sets, per sector, sleep, electrical tilt and
transmit-power offset; :func:`cellscape.ai.flow.evaluate` gives the association, SINR, PRB loads and
rates; the TR 38.864 power model (:mod:`cellscape.ai.power_model`) gives the energy.

Observation: ``Box(0, 1, shape=(n_sectors, 8), float32)``, one row per sector (:data:`OBS_COLUMNS`):

====  ===================  ====================================================================
col   name                 value
====  ===================  ====================================================================
0     ``load``             PRB utilisation in the last interval, in [0, 1]
1     ``users``            demand weight served / the most any sector serves with all sectors on
                           (clipped to 1)
2     ``throughput``       served traffic / the carrier's peak rate (TS 38.306, top CQI)
3     ``awake``            power state: 1 active, 0 asleep
4     ``power_reduction``  -power_offset_db / max_power_reduction_db, in [0, 1]
5     ``tilt``             (tilt - lowest) / (highest - lowest) of the allowed electrical tilts
6     ``home_demand``      traffic offered by the sector's home points / twice its busy-hour value
7     ``time_of_day``      start of the next interval / 24 h
====  ===================  ====================================================================

Actions, ``action_mode="discrete"``: ``MultiDiscrete([7] * n_sectors)``, per sector one of
:data:`DISCRETE_ACTIONS`: 0 keep, 1 sleep, 2 wake, 3 tilt down (+``tilt_step_deg``), 4 tilt up,
5 power down (-``power_step_db``), 6 power up; moves are clipped to the allowed ranges.
``action_mode="continuous"``: ``Box(-1, 1, shape=(n_sectors, 3), float32)``, per sector absolute
settings: column 0 < 0 sleeps the sector; column 1 maps linearly to the allowed tilts (0 = the
default tilt, the range being symmetric); column 2 below 0 reduces the power linearly to
``-max_power_reduction_db`` at -1 (>= 0: full power). The zero action is the default configuration.

Reward of an interval (a weighted sum, weights ``reward_weights``)::

    r = w_throughput * served_gbit / busy_gbit - w_energy * energy_kwh / full_kwh - w_sla * sla_share

``served_gbit``: traffic served in the interval; ``busy_gbit``: traffic offered in an interval at the
week's busiest point (profile 1, no noise); ``energy_kwh``: radio energy of all sectors (state power
at their load, plus state-transition energies); ``full_kwh``: all sectors active at full load for an
interval; ``sla_share``: the share of the offered traffic at points that are not covered or whose
flow-level user rate (``FlowResult.user_rate_bps``) is below ``sla_rate_bps``.

Choices of this module (documented, not from a standard): the power of a sector at a power offset
is the power model's at the load times the linear offset (the dynamic PA power scales with output
power); the wake-up time of a sleep state (25 ms from deep sleep) is neglected against an interval;
the load iteration of an interval starts from the previous interval's loads (a network's loads move
slowly), with ``n_iter`` iterations at most.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from cellscape._validate import check_choice
from cellscape.ai import power_model as pm
from cellscape.ai.flow import (FlowNetwork, FlowResult, FlowState, cqi_lookup, evaluate, flow_network_from_maps,
                               received_power_dbm)
from cellscape.ai.loadgen import CELL_TYPES, generate_load_history
from cellscape.errors import OutOfValidityRangeError

OBS_COLUMNS = ("load", "users", "throughput", "awake", "power_reduction", "tilt", "home_demand", "time_of_day")
"""Names of the observation's columns, in order."""

DISCRETE_ACTIONS = ("keep", "sleep", "wake", "tilt_down", "tilt_up", "power_down", "power_up")
"""Per-sector choices of the discrete action space, in order."""

KEEP, SLEEP, WAKE, TILT_DOWN, TILT_UP, POWER_DOWN, POWER_UP = range(7)

ACTION_MODES = ("discrete", "continuous")

SECONDS_PER_DAY = 86400
J_PER_KWH = 3.6e6
_HISTORY_PEAK = 0.5      # peak load handed to loadgen, so its clip at 1 never bites (2x headroom)
_WEEK_START = np.datetime64("2026-01-05", "D")   # a Monday


@dataclass(frozen=True)
class RewardWeights:
    """Weights of the reward's terms (module docstring)."""

    throughput: float = 1.0
    energy: float = 1.0
    sla: float = 1.0


PowerFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""power_fn(state_codes (S,), dl_load (S,)) -> power [W] (S,); state codes of cellscape.ai.power_model."""
TransitionFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""transition_fn(from_codes, to_codes) -> additional energy [J] (S,)."""


def default_cell_types(net: FlowNetwork) -> np.ndarray:
    """One cell type per sector: ``CELL_TYPES[site % 3]`` (business, residential, transport by site),
    a fixed mix for networks that name none."""
    return np.array([CELL_TYPES[int(s) % len(CELL_TYPES)] for s in net.sector_site])


def takeover_matrix(net: FlowNetwork) -> np.ndarray:
    """(S, S): row s = the share of sector s's points (weights, all sectors on) that its
    second-best sector would serve if s slept."""
    rsrp = received_power_dbm(net, FlowState.default(net))
    order = np.argsort(-rsrp, axis=0, kind="stable")
    first, second = order[0], order[1] if net.n_sectors > 1 else order[0]
    m = np.zeros((net.n_sectors, net.n_sectors))
    np.add.at(m, (first, second), net.point_weight)
    tot = m.sum(axis=1, keepdims=True)
    return np.divide(m, tot, out=np.zeros_like(m), where=tot > 0)


class NetworkEnv(gym.Env):
    """Gymnasium environment: per-sector sleep / tilt / power control over one day (module docstring).

    Parameters
    ----------
    net : FlowNetwork
        The demand points and links (:func:`cellscape.ai.flow.flow_network_from_maps` or
        :func:`cellscape.ai.flow.build_flow_network`).
    action_mode : {'discrete', 'continuous'}
    step_s : float, default 900
        Interval length; divides a day. [s]
    cell_type : sequence of str, optional
        Per sector, one of :data:`cellscape.ai.loadgen.CELL_TYPES` (default :func:`default_cell_types`).
    busy_hour_load : float, default 0.5
        Mean PRB load of the sectors at the busiest point of the week with every sector on; sets the
        per-user offered rate (calibrated once). Ignored if ``user_rate_bps`` is given.
    user_rate_bps : float, optional
        Offered traffic per user at the busiest point of the week. [bit/s]
    sla_rate_bps : float, default 2e6
        Flow-level user rate below which a point violates the SLA. [bit/s]
    reward_weights : RewardWeights
    power_fn, transition_fn : callables, optional
        The sector power [W] and transition energy [J] (defaults: ``cellscape.ai.power_model``'s
        ``bs_power_w`` and ``transition_energy_j`` with ``power_model``).
    power_model : BsPowerModel, default cellscape.ai.power_model.DEFAULT
    sleep_state : int, default DEEP_SLEEP
        State code a sleeping sector is in.
    tilt_range_deg : float, default 4
        Allowed electrical tilts: default +- this (within the network's tilt table). [deg]
    max_power_reduction_db : float, default 6
    tilt_step_deg, power_step_db : float, default 1, 3
        Moves of the discrete actions. [deg], [dB]
    noise_std, day_level_std : float
        Passed to :func:`~cellscape.ai.loadgen.generate_load_history`.
    n_iter : int, default 8
        Load-coupling iterations per interval at most (warm-started).
    day_kind : {'any', 'weekday', 'weekend'}, default 'any'
        Which days of the week episodes draw from.
    """

    metadata = {"render_modes": []}

    def __init__(self, net: FlowNetwork, *, action_mode: str = "discrete", step_s: float = 900.0,
                 cell_type: Sequence[str] | None = None, busy_hour_load: float = 0.5,
                 user_rate_bps: float | None = None, sla_rate_bps: float = 2e6,
                 reward_weights: RewardWeights = RewardWeights(), power_fn: PowerFn | None = None,
                 transition_fn: TransitionFn | None = None, power_model: pm.BsPowerModel = pm.DEFAULT,
                 sleep_state: int = pm.DEEP_SLEEP, tilt_range_deg: float = 4.0, max_power_reduction_db: float = 6.0,
                 tilt_step_deg: float = 1.0, power_step_db: float = 3.0, noise_std: float = 0.08,
                 day_level_std: float = 0.05, n_iter: int = 8, day_kind: str = "any"):
        super().__init__()
        check_choice("action_mode", action_mode, ACTION_MODES)
        check_choice("day_kind", day_kind, ("any", "weekday", "weekend"))
        if not (float(step_s).is_integer() and step_s >= 60 and SECONDS_PER_DAY % int(step_s) == 0):
            raise OutOfValidityRangeError(f"step_s={step_s!r} must be a whole number of seconds >= 60 dividing a day")
        if sleep_state not in (pm.MICRO_SLEEP, pm.LIGHT_SLEEP, pm.DEEP_SLEEP):
            raise OutOfValidityRangeError(f"sleep_state={sleep_state!r} must be a sleep state code (1, 2 or 3)")
        if not 0.0 < busy_hour_load <= 1.0:
            raise OutOfValidityRangeError(f"busy_hour_load={busy_hour_load!r} must lie in (0, 1]")
        if not 0.0 <= max_power_reduction_db <= 30.0:
            raise OutOfValidityRangeError(f"max_power_reduction_db={max_power_reduction_db!r} must lie in [0, 30] dB")
        self.net = net
        self.action_mode = action_mode
        self.step_s = float(step_s)
        self.n_steps = SECONDS_PER_DAY // int(step_s)
        self.cell_type = default_cell_types(net) if cell_type is None else np.asarray(cell_type, dtype=str)
        if self.cell_type.shape != (net.n_sectors,):
            raise OutOfValidityRangeError(f"cell_type has {self.cell_type.size} entries for {net.n_sectors} sectors")
        for t in np.unique(self.cell_type):
            check_choice("cell_type", str(t), CELL_TYPES)
        self.sla_rate_bps = float(sla_rate_bps)
        self.weights = reward_weights
        self.power_fn = power_fn if power_fn is not None else partial(pm.bs_power_w, model=power_model)
        self.transition_fn = (transition_fn if transition_fn is not None
                              else partial(pm.transition_energy_j, model=power_model))
        self.sleep_state = int(sleep_state)
        self.max_power_reduction_db = float(max_power_reduction_db)
        self.tilt_step_deg = float(tilt_step_deg)
        self.power_step_db = float(power_step_db)
        self.noise_std, self.day_level_std = float(noise_std), float(day_level_std)
        self.n_iter = int(n_iter)
        self.day_kind = day_kind
        d = net.default_elec_tilt_deg
        self.tilt_lo_deg = np.maximum(d - tilt_range_deg, net.tilt_min_deg)
        self.tilt_hi_deg = np.minimum(d + tilt_range_deg, net.tilt_max_deg)
        self.tilt_mid_deg = d.copy()

        s = net.n_sectors
        self.observation_space = spaces.Box(0.0, 1.0, shape=(s, len(OBS_COLUMNS)), dtype=np.float32)
        if action_mode == "discrete":
            self.action_space = spaces.MultiDiscrete(np.full(s, len(DISCRETE_ACTIONS), dtype=np.int64))
        else:
            self.action_space = spaces.Box(-1.0, 1.0, shape=(s, 3), dtype=np.float32)

        # home sector of each point, and the references of the normalisations
        default = FlowState.default(net)
        zero = evaluate(net, default, np.zeros(net.n_points))
        self.home = np.where(zero.serving >= 0, zero.serving, 0)
        self.takeover = takeover_matrix(net)
        self._takers: dict[float, list[np.ndarray]] = {}
        self.user_rate_bps = (float(user_rate_bps) if user_rate_bps is not None
                              else self._calibrate_user_rate(busy_hour_load))
        busy = self.user_rate_bps * net.point_weight
        self.busy_offered_bps = busy
        self.busy_home_bps = np.bincount(self.home, weights=busy, minlength=s)
        res = evaluate(net, default, busy)
        self.users_ref = max(float(res.sector_users.max()), 1e-12)
        self.busy_gbit = float(busy.sum()) * self.step_s / 1e9
        self.peak_rate_bps = net.rate_per_efficiency_bps * float(cqi_lookup(net.cqi_table)[1][-1])
        full_w = self.power_fn(np.full(s, pm.ACTIVE), np.ones(s))
        self.full_kwh = float(np.sum(full_w)) * self.step_s / J_PER_KWH
        self._tabulate_power()
        self._rel: np.ndarray | None = None
        self._t = 0
        self._result: FlowResult | None = None
        self._awake = np.ones(s, dtype=bool)
        self._p_off = np.zeros(s)
        self._tilt = d.copy()
        self._codes = np.full(s, pm.ACTIVE)

    # --- construction helpers ------------------------------------------------------------------

    def _tabulate_power(self) -> None:
        """Tabulate the power and transition functions once, for speed: the transition energy for
        every pair of state codes (exact), and the power per state at loads 0 and 1 when the
        function is affine in the load (checked at loads 0.25, 0.5 and 0.8; TR 38.864's scaling is);
        otherwise ``power_fn`` is called every interval."""
        codes = np.arange(pm.N_STATES)
        a, b = np.meshgrid(codes, codes, indexing="ij")
        self._transition_j = np.asarray(self.transition_fn(a.ravel(), b.ravel()), dtype=float).reshape(a.shape)
        p0 = np.asarray(self.power_fn(codes, np.zeros(codes.size)), dtype=float)
        p1 = np.asarray(self.power_fn(codes, np.ones(codes.size)), dtype=float)
        affine = all(np.allclose(self.power_fn(codes, np.full(codes.size, x)), p0 + x * (p1 - p0), rtol=1e-9, atol=1e-9)
                     for x in (0.25, 0.5, 0.8))
        self._power_w0, self._power_slope_w = (p0, p1 - p0) if affine else (None, None)

    def sector_power_w(self, codes, dl_load) -> np.ndarray:
        """(S,) power of each sector [W] in state ``codes`` at PRB load ``dl_load``."""
        if self._power_w0 is None:
            return np.asarray(self.power_fn(codes, dl_load), dtype=float)
        return self._power_w0[codes] + self._power_slope_w[codes] * dl_load

    def _calibrate_user_rate(self, target: float) -> float:
        """Per-user offered rate [bit/s] at which the mean PRB load, all sectors on, is ``target``
        (bisection on a log scale; the load is monotone in the offered traffic)."""
        net, st = self.net, FlowState.default(self.net)

        def mean_load(rate):
            return float(evaluate(net, st, rate * net.point_weight, n_iter=30, tol=1e-6).sector_load.mean())

        lo, hi = 1e3, 1e6
        while mean_load(hi) < target and hi < 1e12:
            hi *= 10.0
        for _ in range(40):
            mid = np.sqrt(lo * hi)
            if mean_load(mid) < target:
                lo = mid
            else:
                hi = mid
            if hi / lo < 1.001:
                break
        return float(np.sqrt(lo * hi))

    @classmethod
    def from_scenario(cls, scenario, *, weights=None, users: float = 1000.0, n_points: int = 1000,
                      seed: int | None = None, resolution_m: float | None = None, backend: str = "numba",
                      footprints=None, **env_kwargs):
        """Compute the scenario's per-sector maps once (:func:`cellscape.coverage.engine.sector_maps`)
        and build the environment on ``n_points`` demand points drawn from them.

        ``weights``: (n_rows, n_cols) users per pixel of the maps' grid; default ``users`` spread
        evenly over the grid. ``seed``: the points' generator (default ``scenario.seed``).
        ``footprints``: buildings in the grid CRS (default: loaded when the scenario names some).
        """
        net, _ = _network_from_scenario(scenario, weights=weights, users=users, n_points=n_points, seed=seed,
                                        resolution_m=resolution_m, backend=backend, footprints=footprints)
        return cls(net, **env_kwargs)

    @classmethod
    def from_simulation(cls, sim, *, n_points: int = 1000, seed: int | None = None, resolution_m: float | None = None,
                        backend: str = "numba", **env_kwargs):
        """The environment of a :class:`~cellscape.scenario.simulation.Simulation` (the file of
        ``cellscape simulate``): maps of the scenario at its receiver height, on the simulation's
        grid (``resolution_m`` overrides it), demand points drawn from ``sim.n_users`` users where the
        simulator would drop them (:func:`cellscape.simulation.users.expected_users_by_group`;
        raster drops are refused)."""
        sc = sim.scenario
        res = resolution_m if resolution_m is not None else sim.resolution_m

        def weights_of(maps):
            from cellscape.simulation.users import expected_users_by_group

            per_group = expected_users_by_group(sim, maps.grid, np.asarray(maps.indoor, dtype=bool))
            return np.sum(list(per_group.values()), axis=0) if per_group else np.zeros(maps.grid.shape)

        net, _ = _network_from_scenario(sc, weights=weights_of, users=float(sim.n_users), n_points=n_points,
                                        seed=sim.seed if seed is None else seed, resolution_m=res, backend=backend,
                                        footprints=None)
        return cls(net, **env_kwargs)

    # --- gymnasium API -------------------------------------------------------------------------

    @property
    def state(self) -> FlowState:
        """The current per-sector configuration."""
        return FlowState(awake=self._awake.copy(), power_offset_db=self._p_off.copy(), tilt_deg=self._tilt.copy())

    @property
    def last_result(self) -> FlowResult | None:
        """The flow model's answer for the last interval."""
        return self._result

    def takers(self, takeover_min: float = 0.1) -> list[np.ndarray]:
        """Per sector, the other sectors that take at least ``takeover_min`` of its points when it
        sleeps (:func:`takeover_matrix`); cached per threshold."""
        key = float(takeover_min)
        if key not in self._takers:
            self._takers[key] = [np.flatnonzero((row >= key) & (np.arange(row.size) != s))
                                 for s, row in enumerate(self.takeover)]
        return self._takers[key]

    @property
    def step_index(self) -> int:
        """Index of the next interval of the day."""
        return self._t

    def offered_bps(self, t: int | None = None) -> np.ndarray:
        """(P,) traffic each point offers in interval ``t`` (default the next) of this episode [bit/s]."""
        t = self._t if t is None else t
        return self.busy_offered_bps * self._rel[self.home, min(t, self.n_steps - 1)]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        rng = self.np_random
        days = {"any": np.arange(7), "weekday": np.arange(5), "weekend": np.arange(5, 7)}[self.day_kind]
        day = int(rng.choice(days))
        hist = generate_load_history(np.full(self.net.n_sectors, _HISTORY_PEAK), self.cell_type, n_days=1,
                                     step_s=self.step_s, start=_WEEK_START + np.timedelta64(day, "D"),
                                     noise_std=self.noise_std, day_level_std=self.day_level_std,
                                     seed=int(rng.integers(2**31 - 1)))
        self._rel = hist.load / _HISTORY_PEAK
        self._day = day
        self._t = 0
        s = self.net.n_sectors
        self._awake = np.ones(s, dtype=bool)
        self._p_off = np.zeros(s)
        self._tilt = self.tilt_mid_deg.copy()
        self._codes = np.full(s, pm.ACTIVE)
        # the observation before the first action: the default configuration on the first interval's demand
        self._result = evaluate(self.net, self.state, self.offered_bps(0), n_iter=30)
        return self._observation(self.offered_bps(0)), {"day_of_week": day}

    def _apply(self, action) -> None:
        if self.action_mode == "discrete":
            a = np.asarray(action, dtype=np.int64).reshape(self.net.n_sectors)
            if np.any((a < 0) | (a >= len(DISCRETE_ACTIONS))):
                raise OutOfValidityRangeError(f"discrete actions must lie in 0..{len(DISCRETE_ACTIONS) - 1}")
            self._awake = np.where(a == SLEEP, False, np.where(a == WAKE, True, self._awake))
            self._tilt = np.clip(self._tilt + self.tilt_step_deg * ((a == TILT_DOWN).astype(float) - (a == TILT_UP)),
                                 self.tilt_lo_deg, self.tilt_hi_deg)
            step_db = self.power_step_db * ((a == POWER_UP).astype(float) - (a == POWER_DOWN))
            self._p_off = np.clip(self._p_off + step_db, -self.max_power_reduction_db, 0.0)
        else:
            a = np.clip(np.asarray(action, dtype=float).reshape(self.net.n_sectors, 3), -1.0, 1.0)
            self._awake = a[:, 0] >= 0.0
            half = 0.5 * (self.tilt_hi_deg - self.tilt_lo_deg)
            self._tilt = np.clip(self.tilt_mid_deg + a[:, 1] * half, self.tilt_lo_deg, self.tilt_hi_deg)
            self._p_off = np.minimum(a[:, 2], 0.0) * self.max_power_reduction_db

    def step(self, action):
        if self._rel is None:
            raise OutOfValidityRangeError("call reset() before step()")
        self._apply(action)
        offered = self.offered_bps(self._t)
        prev_load = self._result.sector_load if self._result is not None else None
        res = evaluate(self.net, FlowState(self._awake, self._p_off, self._tilt), offered, n_iter=self.n_iter,
                       tol=1e-3, initial_load=prev_load)
        self._result = res
        codes = np.where(self._awake, pm.ACTIVE, self.sleep_state)
        power_w = self.sector_power_w(codes, res.sector_load * 10.0 ** (self._p_off / 10.0))
        energy_j = float(np.sum(power_w)) * self.step_s + float(np.sum(self._transition_j[self._codes, codes]))
        self._codes = codes
        energy_kwh = energy_j / J_PER_KWH
        offered_tot = float(offered.sum())
        served_gbit = float(res.rate_bps.sum()) * self.step_s / 1e9
        viol = ~res.covered | (res.user_rate_bps < self.sla_rate_bps)
        sla_share = float(offered[viol].sum()) / offered_tot if offered_tot > 0 else 0.0
        w = self.weights
        reward = (w.throughput * served_gbit / self.busy_gbit - w.energy * energy_kwh / self.full_kwh
                  - w.sla * sla_share)
        self._t += 1
        terminated = self._t >= self.n_steps
        obs = self._observation(offered)
        info = {"energy_kwh": energy_kwh, "served_gbit": served_gbit, "offered_gbit": offered_tot * self.step_s / 1e9,
                "sla_violation_share": sla_share, "n_asleep": int(np.count_nonzero(~self._awake)),
                "coverage_share": float(np.sum(self.net.point_weight[res.covered]) / self.net.point_weight.sum()),
                "interval": self._t - 1}
        return obs, float(reward), terminated, False, info

    def _observation(self, offered) -> np.ndarray:
        r = self._result
        o = np.empty((self.net.n_sectors, len(OBS_COLUMNS)), dtype=np.float64)
        o[:, 0] = r.sector_load
        o[:, 1] = r.sector_users / self.users_ref
        o[:, 2] = r.sector_throughput_bps / self.peak_rate_bps
        o[:, 3] = self._awake
        o[:, 4] = -self._p_off / self.max_power_reduction_db if self.max_power_reduction_db > 0 else 0.0
        span = self.tilt_hi_deg - self.tilt_lo_deg
        o[:, 5] = np.divide(self._tilt - self.tilt_lo_deg, span, out=np.full(span.shape, 0.5), where=span > 0)
        home = np.bincount(self.home, weights=offered, minlength=self.net.n_sectors)
        o[:, 6] = np.divide(home, 2.0 * self.busy_home_bps, out=np.zeros_like(home), where=self.busy_home_bps > 0)
        o[:, 7] = (self._t % self.n_steps) / self.n_steps
        np.clip(o, 0.0, 1.0, out=o)
        return o.astype(np.float32)


def _network_from_scenario(scenario, *, weights, users, n_points, seed, resolution_m, backend, footprints):
    """Maps of ``scenario`` (once) -> FlowNetwork; ``weights`` an array, a callable of the maps, or None."""
    from cellscape.coverage.engine import sector_maps
    from cellscape.geo.grid import grid_for_bounds, transform_xy

    a = scenario.area
    res = resolution_m if resolution_m is not None else a.resolution_m
    grid = grid_for_bounds(a.bounds, crs=a.crs, resolution_m=res)
    sx, sy = transform_xy(np.array([s.x for s in scenario.sites], dtype=float),
                          np.array([s.y for s in scenario.sites], dtype=float), src_crs=a.crs, dst_crs=grid.crs)
    site_xy = np.column_stack([sx, sy])
    if footprints is None and scenario.buildings is not None:
        from cellscape.geo.buildings import load_buildings
        footprints = load_buildings(scenario.buildings, crs=grid.crs)
    maps = sector_maps(scenario, grid, site_xy, footprints=footprints, backend=backend)
    if weights is None:
        w = np.full(grid.shape, float(users) / grid.n_pixels)
    elif callable(weights):
        w = weights(maps)
    else:
        w = np.asarray(weights, dtype=float)
    rng = np.random.default_rng(scenario.seed if seed is None else seed)
    return flow_network_from_maps(maps, site_xy, w, n_points=n_points, rng=rng, scenario=scenario), maps


def threshold_policy(env: NetworkEnv, *, sleep_below: float = 0.1, absorb_below: float = 0.6,
                     wake_above: float = 0.75, takeover_min: float = 0.1, margin: float = 1.5) -> np.ndarray:
    """The threshold heuristic: an action for ``env``'s action space from its last interval.

    A sector sleeps when its PRB load was below ``sleep_below`` and every sector that takes at least
    ``takeover_min`` of its points (:func:`takeover_matrix`) is awake and would stay below
    ``absorb_below`` after absorbing ``margin`` x its share of the load; sectors are considered in
    increasing load, and a sector that will absorb load this step does not sleep. A sleeping sector
    wakes when one of its takers is asleep or loaded above ``wake_above``. Tilt and power stay at the
    defaults.
    """
    r = env.last_result
    n = env.net.n_sectors
    load = r.sector_load.copy()
    awake = env._awake
    new_awake = awake.copy()
    takers = env.takers(takeover_min)
    share = env.takeover
    absorbing = np.zeros(n, dtype=bool)
    candidates = np.flatnonzero(awake & (load < sleep_below))
    for s in candidates[np.argsort(load[candidates], kind="stable")]:
        t = takers[s]
        if absorbing[s] or t.size == 0 or not new_awake[t].all():
            continue
        add = margin * load[s] * share[s, t]
        if np.all(load[t] + add < absorb_below):
            new_awake[s] = False
            load[t] += add
            absorbing[t] = True
    for s in np.flatnonzero(~awake):
        t = takers[s]
        if t.size and (not new_awake[t].all() or np.any(r.sector_load[t] > wake_above)):
            new_awake[s] = True
    if env.action_mode == "discrete":
        a = np.full(n, KEEP, dtype=np.int64)
        a[awake & ~new_awake] = SLEEP
        a[~awake & new_awake] = WAKE
        return a
    a = np.zeros((n, 3), dtype=np.float32)
    a[:, 0] = np.where(new_awake, 1.0, -1.0)
    return a


def always_on_policy(env: NetworkEnv) -> np.ndarray:
    """The reference: every sector awake at the default tilt and power."""
    if env.action_mode == "discrete":
        return np.where(env.state.awake, KEEP, WAKE).astype(np.int64)
    return np.zeros((env.net.n_sectors, 3), dtype=np.float32)


def run_episode(env: NetworkEnv, policy: Callable[[NetworkEnv, np.ndarray], object], *, seed: int) -> dict:
    """Run one day with ``policy(env, obs) -> action``; totals: reward, energy [kWh], served and
    offered [Gbit], mean SLA violation share, sector-intervals asleep."""
    obs, _ = env.reset(seed=seed)
    tot = {"reward": 0.0, "energy_kwh": 0.0, "served_gbit": 0.0, "offered_gbit": 0.0, "sla_violation_share": 0.0,
           "asleep_sector_intervals": 0}
    done = False
    n = 0
    while not done:
        obs, rew, done, trunc, info = env.step(policy(env, obs))
        done = done or trunc
        n += 1
        tot["reward"] += rew
        tot["energy_kwh"] += info["energy_kwh"]
        tot["served_gbit"] += info["served_gbit"]
        tot["offered_gbit"] += info["offered_gbit"]
        tot["sla_violation_share"] += info["sla_violation_share"]
        tot["asleep_sector_intervals"] += info["n_asleep"]
    tot["sla_violation_share"] /= max(n, 1)
    return tot


def hexagonal_scenario(*, isd_m: float = 500.0, fc_ghz: float = 3.5, resolution_m: float = 25.0, seed: int = 1):
    """The TR 38.901 Table 7.8-1 style 57-sector network (19 sites x 3 sectors, ISD 500 m, UMa,
    3.5 GHz, 100 MHz at 30 kHz, 46 dBm, the 7.8 calibration antenna: 10 rows, 12 deg electrical
    tilt) in UTM 35N near Helsinki, without wrap-around: the benchmark network of NetworkEnv."""
    from cellscape.scenario.layouts import hexagonal_layout
    from cellscape.scenario.model import parse_scenario

    lay = hexagonal_layout(isd_m, wrap_around=False)
    x0, y0 = 385_000.0, 6_671_000.0
    half = 2.2 * isd_m
    sites = [{"site_id": f"S{i:02d}", "x": x0 + float(lay.site_x_m[i]), "y": y0 + float(lay.site_y_m[i]),
              "height_m": 25,
              "sectors": [{"azimuth_deg": float(az), "tx_power_dbm": 46, "elec_tilt_deg": 12,
                           "antenna": {"n_rows": 10, "row_spacing_wavelengths": 0.8}}
                          for az in lay.sector_azimuth_deg[lay.sector_site == i]]}
             for i in range(lay.n_sites)]
    return parse_scenario({"name": "hex57", "seed": seed, "environment": "UMa", "shadow_fading": True,
                           "area": {"crs": "EPSG:32635", "bounds": [x0 - half, y0 - half, x0 + half, y0 + half],
                                    "resolution_m": resolution_m},
                           "carrier": {"fc_ghz": fc_ghz, "bandwidth_mhz": 100, "scs_khz": 30}, "sites": sites})


__all__ = ["ACTION_MODES", "DISCRETE_ACTIONS", "NetworkEnv", "OBS_COLUMNS", "RewardWeights", "always_on_policy",
           "default_cell_types", "hexagonal_scenario", "run_episode", "takeover_matrix", "threshold_policy"]
