"""Sector tuning: azimuth, electrical tilt and power per sector, by coordinate pattern search.

The question: with the sites standing, which azimuth, electrical tilt and transmit power of each
sector raise a chosen network KPI (the 5th-percentile SINR, the covered demand, ...)? The KPI is a
black box here: :func:`tune_sectors` takes ``evaluate(settings) -> float`` (the caller builds it
from the coverage engine and one of the KPI helpers below) and **maximises** it. Nothing in this
module knows about maps, files or the engine.

Method: compass (coordinate) pattern search, a generating-set search with the directions
+-e_i (Torczon 1997; Kolda, Lewis & Torczon 2003, Sections 3 and 4 of [2]):

1. Poll the coordinates in a fixed order: for each tunable sector (``sector_order``) and each
   parameter (``parameters``), try the current value + step, then - step. A trial is *accepted*
   when it improves the incumbent KPI by more than ``abs_tol + rel_tol * |kpi|`` (strict
   improvement, "sufficient decrease" in the sense of [2], Section 3.7); the first improving trial
   of a coordinate is taken (opportunistic polling) and the sweep goes on to the next coordinate
   from the new point (Gauss-Seidel order). Steps do not expand on success.
2. A sweep in which no trial is accepted means no +-step move along any coordinate improves the
   incumbent: every step is halved, but not below its minimum (``TuningBounds.*_min_step_*``).
3. A failed sweep with every step already at its minimum stops the search (``"converged"``): the
   result is then certified locally optimal to the minimum steps (no single-coordinate move of
   the minimum step improves it by more than the tolerance). The search also stops after
   ``max_evaluations`` calls of ``evaluate`` or after ``time_limit_s`` seconds.

Constraints are handled by projection, coordinate by coordinate: a tilt or a power trial beyond
its range is clipped to the range limit (so a bound is reached exactly), an azimuth trial is taken
mod 360 and its change from the *initial* azimuth is clipped to +-``max_azimuth_change_deg``
(the search tracks the change, so 10 deg - 20 deg is 350 deg, never -10 deg). A trial that clips to
the current value is skipped. Every setting is evaluated once: results are memoised on the
settings rounded to 1e-6 (deg, dB, dBm), so a return to an earlier point costs nothing. The search
is deterministic (no random numbers; only ``time_limit_s`` depends on the clock) and never returns
a setting worse than the initial one: the incumbent only changes on a strict improvement.

Pattern search assumes nothing about the KPI (no gradient, no smoothness, no convexity); it finds
a local optimum, to the minimum steps, of the coordinate-wise neighbourhood. Covered demand is a
step function of the settings: a coarse first step (20 deg, 2 deg, 2 dB by default) lets the
search see past its flat stretches.

KPI helpers (pure numpy): :func:`sinr_percentile_kpi` and :func:`covered_demand_kpi`.

References
----------
.. [1] V. Torczon, "On the convergence of pattern search algorithms," SIAM J. Optim. 7(1),
   pp. 1-25, 1997.
.. [2] T. G. Kolda, R. M. Lewis and V. Torczon, "Optimization by direct search: new perspectives
   on some classical and modern methods," SIAM Review 45(3), pp. 385-482, 2003.

Examples
--------
One sector whose KPI peaks at azimuth 100 deg, tilt 6.3 deg and power 44 dBm:

>>> def kpi(s):
...     return -float((s.azimuth_deg[0] - 100) ** 2 + (s.elec_tilt_deg[0] - 6.3) ** 2
...                   + (s.tx_power_dbm[0] - 44) ** 2)
>>> start = SectorSettings(azimuth_deg=[60.0], elec_tilt_deg=[2.0], tx_power_dbm=[46.0])
>>> r = tune_sectors(kpi, start)
>>> r.stopped, r.settings.azimuth_deg.tolist(), r.settings.elec_tilt_deg.tolist(), r.settings.tx_power_dbm.tolist()
('converged', [100.0], [6.5], [44.0])
>>> round(r.kpi_before, 2), round(r.kpi_after, 2), r.evaluations
(-1622.49, -0.04, 27)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
import math
import time
from typing import Literal

import numpy as np

from cellscape._validate import check_choice, check_range
from cellscape.errors import CellscapeError
from cellscape.kpi import percentiles

Parameter = Literal["azimuth_deg", "elec_tilt_deg", "tx_power_dbm"]
PARAMETERS: tuple[str, ...] = ("azimuth_deg", "elec_tilt_deg", "tx_power_dbm")
"""The tunable parameters, in the default polling order; the names of :class:`SectorSettings`."""

Stopped = Literal["converged", "max_evaluations", "time_limit"]

NanPolicy = Literal["worst", "omit"]

_KEY_DECIMALS = 6
"""Settings equal after rounding to 1e-6 (deg, dB, dBm) are the same setting for the memo."""


class TuningError(CellscapeError, ValueError):
    """Sector tuning inputs are inconsistent (shapes, ranges, options); the message names the parameter."""


# --------------------------------------------------------------------------------------------------
# Records


def _read_only(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class SectorSettings:
    """The tunable settings of every sector; arrays of shape (n_sectors,), read-only.

    ``azimuth_deg``: boresight, clockwise from north [deg]; ``elec_tilt_deg``: electrical downtilt,
    positive = down [deg]; ``tx_power_dbm``: transmit power at the antenna port [dBm].
    Inputs are copied to float arrays; all three must be 1-D, of one length >= 1, and finite.
    Two records are equal when their arrays are equal element by element.

    >>> SectorSettings(azimuth_deg=[0, 120], elec_tilt_deg=[4, 4], tx_power_dbm=[46, 46]).n_sectors
    2
    """

    azimuth_deg: np.ndarray
    elec_tilt_deg: np.ndarray
    tx_power_dbm: np.ndarray

    def __post_init__(self):
        shape = None
        for name in PARAMETERS:
            arr = np.array(getattr(self, name), dtype=float)   # a copy: the record owns its arrays
            if arr.ndim != 1 or arr.size == 0:
                raise TuningError(f"{name} must be a non-empty 1-D array of shape (n_sectors,), got shape {arr.shape}")
            if shape is None:
                shape = arr.shape
            elif arr.shape != shape:
                raise TuningError(f"{name} has shape {arr.shape}, but azimuth_deg has shape {shape}: "
                                  "one value per sector in each")
            if not np.all(np.isfinite(arr)):
                bad = np.flatnonzero(~np.isfinite(arr))
                raise TuningError(f"{name} must be finite, got {arr[bad[0]]} at sector {bad[0]}")
            object.__setattr__(self, name, _read_only(arr))

    @property
    def n_sectors(self) -> int:
        return int(self.azimuth_deg.size)

    def __eq__(self, other):
        if not isinstance(other, SectorSettings):
            return NotImplemented
        return all(np.array_equal(getattr(self, p), getattr(other, p)) for p in PARAMETERS)

    __hash__ = None  # arrays: not hashable; the search uses _settings_key

    def with_value(self, parameter: str, sector: int, value: float) -> SectorSettings:
        """A copy with ``parameter`` of one ``sector`` set to ``value``; every other entry unchanged."""
        check_choice("parameter", parameter, PARAMETERS)
        arrays = {p: getattr(self, p) for p in PARAMETERS}
        changed = arrays[parameter].copy()
        changed[sector] = value
        arrays[parameter] = changed
        return SectorSettings(**arrays)


@dataclass(frozen=True)
class TuningBounds:
    """Ranges and steps of the search. Every value is a scalar or an array of shape (n_sectors,).

    Attributes
    ----------
    azimuth_step_deg, azimuth_min_step_deg : float or array_like
        First and smallest azimuth step. [deg]
    max_azimuth_change_deg : float or array_like
        Largest change from the *initial* azimuth either way, in [0, 180]; 180 leaves the
        azimuth free (it wraps). [deg]
    tilt_range_deg : (low, high)
        Allowed electrical tilt (each limit a scalar or per-sector array). The initial tilt must
        lie inside. [deg]
    tilt_step_deg, tilt_min_step_deg : float or array_like
        First and smallest tilt step. [deg]
    power_range_dbm : (low, high)
        Allowed transmit power; the initial power must lie inside. [dBm]
    max_power_change_db : float or array_like, optional
        Largest change from the initial power either way, on top of ``power_range_dbm``. [dB]
    power_step_db, power_min_step_db : float or array_like
        First and smallest power step. [dB]

    Steps halve after a sweep without improvement and stop at their minimum; with the defaults the
    azimuth step goes 20, 10, 5, 2.5 deg, the tilt and power steps 2, 1, 0.5.
    """

    azimuth_step_deg: float | np.ndarray = 20.0
    azimuth_min_step_deg: float | np.ndarray = 2.5
    max_azimuth_change_deg: float | np.ndarray = 60.0
    tilt_range_deg: tuple = (0.0, 15.0)
    tilt_step_deg: float | np.ndarray = 2.0
    tilt_min_step_deg: float | np.ndarray = 0.5
    power_range_dbm: tuple = (40.0, 49.0)
    max_power_change_db: float | np.ndarray | None = None
    power_step_db: float | np.ndarray = 2.0
    power_min_step_db: float | np.ndarray = 0.5

    def __post_init__(self):
        for name in ("azimuth_step_deg", "azimuth_min_step_deg", "tilt_step_deg", "tilt_min_step_deg",
                     "power_step_db", "power_min_step_db"):
            arr = np.asarray(getattr(self, name), dtype=float)
            if not np.all(np.isfinite(arr) & (arr > 0)):
                raise TuningError(f"{name} must be finite and > 0, got {getattr(self, name)!r}")
        for step, min_step in (("azimuth_step_deg", "azimuth_min_step_deg"), ("tilt_step_deg", "tilt_min_step_deg"),
                               ("power_step_db", "power_min_step_db")):
            if np.any(np.asarray(getattr(self, min_step), float) > np.asarray(getattr(self, step), float)):
                raise TuningError(f"{min_step}={getattr(self, min_step)!r} exceeds {step}={getattr(self, step)!r}")
        change = np.asarray(self.max_azimuth_change_deg, dtype=float)
        if not np.all((change >= 0) & (change <= 180)):
            raise TuningError(f"max_azimuth_change_deg must lie in [0, 180], got {self.max_azimuth_change_deg!r}")
        if self.max_power_change_db is not None:
            dp = np.asarray(self.max_power_change_db, dtype=float)
            if not np.all(np.isfinite(dp) & (dp >= 0)):
                raise TuningError(f"max_power_change_db must be finite and >= 0, got {self.max_power_change_db!r}")
        for name in ("tilt_range_deg", "power_range_dbm"):
            rng = getattr(self, name)
            if not isinstance(rng, (tuple, list)) or len(rng) != 2:
                raise TuningError(f"{name} must be a (low, high) pair, got {rng!r}")
            low, high = (np.asarray(v, dtype=float) for v in rng)
            if not np.all(np.isfinite(low) & np.isfinite(high)):
                raise TuningError(f"{name} limits must be finite, got {rng!r}")
            if np.any(low > high):
                raise TuningError(f"{name} has low > high: {rng!r}")


@dataclass(frozen=True)
class TuningResult:
    """What :func:`tune_sectors` found.

    ``settings``: the best settings found; ``initial``: the starting ones; ``kpi_before`` /
    ``kpi_after``: the KPI of each (``kpi_after >= kpi_before``); ``evaluations``: calls of
    ``evaluate``, the initial one included (memo hits not counted); ``history``: one row per
    accepted move, in order, with keys ``sector``, ``parameter``, ``old``, ``new``, ``step``
    (the step in force), ``kpi`` (after the move) and ``evaluation`` (its evaluation number);
    ``stopped``: ``"converged"``, ``"max_evaluations"`` or ``"time_limit"``; ``sweeps``: polling
    sweeps started.
    """

    settings: SectorSettings
    initial: SectorSettings
    kpi_before: float
    kpi_after: float
    evaluations: int
    history: list[dict] = field(default_factory=list)
    stopped: Stopped = "converged"
    sweeps: int = 0

    @property
    def kpi_gain(self) -> float:
        """``kpi_after - kpi_before`` (>= 0)."""
        return self.kpi_after - self.kpi_before

    def changes(self) -> list[dict]:
        """Before/after of every sector that changed: one row per sector with ``sector`` and, per
        parameter, ``<name>_before`` and ``<name>_after``."""
        rows = []
        for k in range(self.initial.n_sectors):
            before = {p: float(getattr(self.initial, p)[k]) for p in PARAMETERS}
            after = {p: float(getattr(self.settings, p)[k]) for p in PARAMETERS}
            if before != after:
                row: dict = {"sector": k}
                for p in PARAMETERS:
                    row[f"{p}_before"] = before[p]
                    row[f"{p}_after"] = after[p]
                rows.append(row)
        return rows


# --------------------------------------------------------------------------------------------------
# The search


def _per_sector(name: str, value, n: int) -> np.ndarray:
    """``value`` (scalar or (n,)) as a float array of shape (n,)."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise TuningError(f"{name} must be a scalar or have shape ({n},) (one value per sector), got shape {arr.shape}")
    return arr.copy()


def _settings_key(s: SectorSettings) -> bytes:
    """Memo key: the settings rounded to 1e-6, azimuth taken mod 360."""
    az = np.round(np.mod(s.azimuth_deg, 360.0), _KEY_DECIMALS)
    az[az >= 360.0] -= 360.0
    parts = (az, np.round(s.elec_tilt_deg, _KEY_DECIMALS), np.round(s.tx_power_dbm, _KEY_DECIMALS))
    return b"".join((p + 0.0).tobytes() for p in parts)   # + 0.0 turns -0.0 into 0.0


def _improves(new: float, best: float, abs_tol: float, rel_tol: float) -> bool:
    """Strict improvement by more than abs_tol + rel_tol * |best|; NaN never improves."""
    if math.isnan(new):
        return False
    tol = abs_tol + (rel_tol * abs(best) if math.isfinite(best) else 0.0)
    return new > best + tol if math.isfinite(best) else new > best


class _StopSearch(Exception):
    def __init__(self, reason: str):
        self.reason = reason


def tune_sectors(
    evaluate: Callable[[SectorSettings], float],
    initial: SectorSettings,
    *,
    bounds: TuningBounds = TuningBounds(),
    max_evaluations: int = 200,
    time_limit_s: float | None = None,
    tunable: np.ndarray | None = None,
    sector_order: Sequence[int] | None = None,
    parameters: Sequence[Parameter] = PARAMETERS,
    abs_tol: float = 1e-9,
    rel_tol: float = 1e-9,
) -> TuningResult:
    """Raise a KPI by tuning azimuth, electrical tilt and power per sector (compass search).

    The method, its stopping rules and its constraint handling are described in the module
    docstring (:mod:`cellscape.planning.tuning`).

    Parameters
    ----------
    evaluate : callable
        ``evaluate(settings) -> float``: the KPI to **maximise** (e.g. built from
        :func:`sinr_percentile_kpi` over the coverage maps of ``settings``). Called once per
        distinct setting, the initial one first. NaN never counts as an improvement; -inf and
        +inf are ordinary values.
    initial : SectorSettings
        The starting settings; each tilt and power must lie inside ``bounds``.
    bounds : TuningBounds
        Ranges and steps.
    max_evaluations : int, default 200
        Most calls of ``evaluate``, the initial one included; >= 1.
    time_limit_s : float, optional
        Stop before a new evaluation once this much wall-clock time has passed. [s]
    tunable : array_like of bool, shape (n_sectors,), optional
        Sectors the search may change (default all); the others keep their initial settings exactly.
    sector_order : sequence of int, optional
        The order in which sectors are polled: a permutation of ``range(n_sectors)``
        (default 0, 1, ...). Non-tunable sectors in it are skipped.
    parameters : sequence of {'azimuth_deg', 'elec_tilt_deg', 'tx_power_dbm'}
        The parameters to tune, in their polling order within a sector.
    abs_tol, rel_tol : float, default 1e-9
        A trial is accepted when its KPI exceeds the incumbent's by more than
        ``abs_tol + rel_tol * |kpi|``; raise them for a noisy KPI.

    Returns
    -------
    TuningResult

    Raises
    ------
    TuningError
        On inconsistent inputs (shapes, initial values outside their ranges, bad options), or when
        ``evaluate`` returns no number or NaN for the initial settings.
    """
    if not isinstance(initial, SectorSettings):
        raise TuningError(f"initial must be a SectorSettings, got {type(initial).__name__}")
    if not callable(evaluate):
        raise TuningError("evaluate must be callable: evaluate(settings) -> float")
    n = initial.n_sectors
    if isinstance(max_evaluations, bool) or not isinstance(max_evaluations, (int, np.integer)) or max_evaluations < 1:
        raise TuningError(f"max_evaluations must be an integer >= 1, got {max_evaluations!r}")
    if time_limit_s is not None and not (time_limit_s >= 0):
        raise TuningError(f"time_limit_s must be >= 0 or None, got {time_limit_s!r}")
    if not (abs_tol >= 0 and rel_tol >= 0):
        raise TuningError(f"abs_tol and rel_tol must be >= 0, got {abs_tol!r} and {rel_tol!r}")
    params = tuple(parameters)
    for p in params:
        check_choice("parameters", p, PARAMETERS)
    if len(set(params)) != len(params):
        raise TuningError(f"parameters lists a parameter twice: {params!r}")

    if tunable is None:
        tunable_mask = np.ones(n, bool)
    else:
        tunable_mask = np.asarray(tunable)
        if tunable_mask.dtype != bool or tunable_mask.shape != (n,):
            raise TuningError(f"tunable must be a bool array of shape ({n},), got dtype {tunable_mask.dtype} "
                              f"and shape {tunable_mask.shape}")
    if sector_order is None:
        order = list(range(n))
    else:
        order = [int(k) for k in sector_order]
        if sorted(order) != list(range(n)):
            raise TuningError(f"sector_order must be a permutation of range({n}), got {list(sector_order)!r}")

    # per-sector limits, shape (n,) each
    az_change_max = _per_sector("max_azimuth_change_deg", bounds.max_azimuth_change_deg, n)
    tilt_low = _per_sector("tilt_range_deg[0]", bounds.tilt_range_deg[0], n)
    tilt_high = _per_sector("tilt_range_deg[1]", bounds.tilt_range_deg[1], n)
    power_low = _per_sector("power_range_dbm[0]", bounds.power_range_dbm[0], n)
    power_high = _per_sector("power_range_dbm[1]", bounds.power_range_dbm[1], n)
    for name, values, low, high in (("elec_tilt_deg", initial.elec_tilt_deg, tilt_low, tilt_high),
                                    ("tx_power_dbm", initial.tx_power_dbm, power_low, power_high)):
        bad = np.flatnonzero((values < low) | (values > high))
        if bad.size:
            k = bad[0]
            range_name = "tilt_range_deg" if name == "elec_tilt_deg" else "power_range_dbm"
            raise TuningError(f"initial {name}={values[k]:g} of sector {k} is outside [{low[k]:g}, {high[k]:g}] "
                              f"(bounds.{range_name}; {bad.size} of {n} sectors)")
    if bounds.max_power_change_db is not None:
        dp = _per_sector("max_power_change_db", bounds.max_power_change_db, n)
        power_low = np.maximum(power_low, initial.tx_power_dbm - dp)
        power_high = np.minimum(power_high, initial.tx_power_dbm + dp)
    step = {"azimuth_deg": _per_sector("azimuth_step_deg", bounds.azimuth_step_deg, n),
            "elec_tilt_deg": _per_sector("tilt_step_deg", bounds.tilt_step_deg, n),
            "tx_power_dbm": _per_sector("power_step_db", bounds.power_step_db, n)}
    min_step = {"azimuth_deg": _per_sector("azimuth_min_step_deg", bounds.azimuth_min_step_deg, n),
                "elec_tilt_deg": _per_sector("tilt_min_step_deg", bounds.tilt_min_step_deg, n),
                "tx_power_dbm": _per_sector("power_min_step_db", bounds.power_min_step_db, n)}

    start_time = time.monotonic()
    memo: dict[bytes, float] = {}
    evaluations = 0

    def kpi_of(s: SectorSettings) -> float:
        nonlocal evaluations
        key = _settings_key(s)
        if key in memo:
            return memo[key]
        if evaluations >= max_evaluations:
            raise _StopSearch("max_evaluations")
        if time_limit_s is not None and evaluations > 0 and time.monotonic() - start_time >= time_limit_s:
            raise _StopSearch("time_limit")
        raw = evaluate(s)
        try:
            if np.ndim(raw) != 0:
                raise TypeError
            value = float(raw)
        except (TypeError, ValueError):
            raise TuningError(f"evaluate must return a float, got {type(raw).__name__}") from None
        evaluations += 1
        memo[key] = value
        return value

    kpi_before = kpi_of(initial)
    if math.isnan(kpi_before):
        raise TuningError("evaluate returned NaN for the initial settings: there is nothing to improve on")

    az_change = np.zeros(n)   # (n,) change of azimuth from the initial one, within +-az_change_max [deg]

    def trials(p: str, k: int, current: float) -> list[tuple[float, float]]:
        """The (new value, new azimuth change) of the +step and -step trials, projected; no-ops dropped."""
        out = []
        for sign in (1.0, -1.0):
            if p == "azimuth_deg":
                change = az_change[k] + sign * step[p][k]
                if az_change_max[k] >= 180.0:
                    change = (change + 180.0) % 360.0 - 180.0         # free azimuth: wrap the change
                else:
                    change = min(max(change, -az_change_max[k]), az_change_max[k])
                if math.isclose(change, az_change[k], abs_tol=1e-9):
                    continue
                out.append((float((initial.azimuth_deg[k] + change) % 360.0), change))
            else:
                low, high = (tilt_low[k], tilt_high[k]) if p == "elec_tilt_deg" else (power_low[k], power_high[k])
                value = min(max(current + sign * step[p][k], low), high)
                if math.isclose(value, current, abs_tol=1e-9):
                    continue
                out.append((float(value), 0.0))
        return out

    best, best_kpi = initial, kpi_before
    history: list[dict] = []
    sweeps = 0
    polled = [(k, p) for k in order if tunable_mask[k] for p in params]
    stopped: str = "converged"
    try:
        while polled:
            sweeps += 1
            improved = False
            for k, p in polled:
                current = float(getattr(best, p)[k])
                for value, change in trials(p, k, current):
                    candidate = best.with_value(p, k, value)
                    kpi = kpi_of(candidate)
                    if _improves(kpi, best_kpi, abs_tol, rel_tol):
                        history.append({"sector": k, "parameter": p, "old": current, "new": value,
                                        "step": float(step[p][k]), "kpi": kpi, "evaluation": evaluations})
                        best, best_kpi = candidate, kpi
                        if p == "azimuth_deg":
                            az_change[k] = change
                        improved = True
                        break
            if improved:
                continue
            at_min = all(np.all(step[p][k] <= min_step[p][k]) for k, p in polled)
            if at_min:
                break
            for p in params:
                step[p] = np.maximum(step[p] / 2.0, min_step[p])
    except _StopSearch as stop:
        stopped = stop.reason

    return TuningResult(settings=best, initial=initial, kpi_before=kpi_before, kpi_after=best_kpi,
                        evaluations=evaluations, history=history, stopped=stopped, sweeps=sweeps)


# --------------------------------------------------------------------------------------------------
# KPIs to maximise, from maps (pure numpy)


def sinr_percentile_kpi(sinr_db, q: float = 5.0, *, mask=None, nan_policy: NanPolicy = "worst") -> float:
    """The ``q``-th percentile of a SINR map, e.g. the 5th-percentile ("cell-edge") SINR.

    Parameters
    ----------
    sinr_db : array_like
        SINR per pixel (or per UE), any shape. [dB]
    q : float, default 5
        Percentile in [0, 100] (linear interpolation, as :func:`cellscape.kpi.percentiles`). [%]
    mask : array_like of bool, optional
        Same shape as ``sinr_db``: only these pixels count (e.g. outdoor pixels, a service area).
    nan_policy : {'worst', 'omit'}, default 'worst'
        ``'worst'``: a NaN pixel (no usable server) counts as -inf, so that a setting cannot raise
        the KPI by leaving pixels unserved; ``'omit'``: NaN pixels are left out.

    Returns
    -------
    kpi : float
        The percentile [dB]; -inf when more than about q % of the pixels are NaN or -inf under
        ``'worst'``; NaN when no pixel is left.

    Examples
    --------
    >>> sinr_percentile_kpi([-3.0, 0.0, 5.0, 10.0, 20.0], q=50)
    5.0
    >>> sinr_percentile_kpi([float("nan"), 0.0, 5.0], q=0), sinr_percentile_kpi([float("nan"), 0.0, 5.0], q=0, nan_policy="omit")
    (-inf, 0.0)
    """
    check_choice("nan_policy", nan_policy, ("worst", "omit"))
    q_arr = np.asarray(q, dtype=float)
    if q_arr.ndim != 0:
        raise TuningError(f"q must be a scalar percentile in [0, 100], got shape {q_arr.shape}")
    check_range("q", q_arr, 0.0, 100.0, source="sinr_percentile_kpi")
    sinr = np.asarray(sinr_db, dtype=float)
    if sinr.size == 0:
        raise TuningError("sinr_db is empty")
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype != bool or m.shape != sinr.shape:
            raise TuningError(f"mask must be a bool array of shape {sinr.shape}, got dtype {m.dtype} and shape {m.shape}")
    if nan_policy == "worst":
        sinr = np.where(np.isnan(sinr), -np.inf, sinr)
    return float(percentiles(sinr, [float(q_arr)], mask=mask)[0])


def covered_demand_kpi(rsrp_dbm, demand, threshold_dbm: float, *, sinr_db=None, sinr_min_db: float | None = None,
                       mask=None, normalize: bool = False) -> float:
    """Demand on the pixels that are covered: RSRP >= threshold (and SINR >= its minimum, if given).

    Parameters
    ----------
    rsrp_dbm : array_like
        Best-server RSRP per pixel, any shape; NaN and -inf count as not covered. [dBm]
    demand : array_like
        Demand per pixel (users, traffic, area), same shape; finite and >= 0.
    threshold_dbm : float
        RSRP threshold. [dBm]
    sinr_db : array_like, optional
        SINR per pixel, same shape; NaN counts as not covered. Give it with ``sinr_min_db``. [dB]
    sinr_min_db : float, optional
        SINR threshold. [dB]
    mask : array_like of bool, optional
        Same shape: only these pixels count, in the covered and in the total demand.
    normalize : bool, default False
        Return the covered fraction of the total demand instead of the covered demand
        (NaN when the total demand is 0).

    Returns
    -------
    kpi : float
        Covered demand (in the unit of ``demand``), or the covered fraction in [0, 1].

    Examples
    --------
    >>> rsrp = [-80.0, -100.0, -120.0, float("nan")]
    >>> covered_demand_kpi(rsrp, [1.0, 2.0, 4.0, 8.0], -110.0)
    3.0
    >>> covered_demand_kpi(rsrp, [1.0, 2.0, 4.0, 8.0], -110.0, sinr_db=[-8.0, 3.0, 9.0, 9.0], sinr_min_db=-5.0, normalize=True)
    0.13333333333333333
    """
    rsrp = np.asarray(rsrp_dbm, dtype=float)
    w = np.asarray(demand, dtype=float)
    if w.shape != rsrp.shape:
        raise TuningError(f"demand has shape {w.shape}, but rsrp_dbm has shape {rsrp.shape}")
    if not np.all(np.isfinite(w) & (w >= 0)):
        bad = np.count_nonzero(~(np.isfinite(w) & (w >= 0)))
        raise TuningError(f"demand must be finite and >= 0 ({bad} of {w.size} values are not)")
    threshold = np.asarray(threshold_dbm, dtype=float)
    if threshold.ndim != 0 or np.isnan(threshold):
        raise TuningError(f"threshold_dbm must be a scalar number, got {threshold_dbm!r}")
    with np.errstate(invalid="ignore"):
        covered = rsrp >= threshold                                            # NaN -> False
    if (sinr_db is None) != (sinr_min_db is None):
        raise TuningError("give sinr_db and sinr_min_db together (or neither)")
    if sinr_db is not None:
        sinr = np.asarray(sinr_db, dtype=float)
        if sinr.shape != rsrp.shape:
            raise TuningError(f"sinr_db has shape {sinr.shape}, but rsrp_dbm has shape {rsrp.shape}")
        sinr_min = np.asarray(sinr_min_db, dtype=float)
        if sinr_min.ndim != 0 or np.isnan(sinr_min):
            raise TuningError(f"sinr_min_db must be a scalar number, got {sinr_min_db!r}")
        with np.errstate(invalid="ignore"):
            covered &= sinr >= sinr_min
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype != bool or m.shape != rsrp.shape:
            raise TuningError(f"mask must be a bool array of shape {rsrp.shape}, got dtype {m.dtype} and shape {m.shape}")
        covered &= m
        w = np.where(m, w, 0.0)
    covered_demand = float(w[covered].sum())
    if not normalize:
        return covered_demand
    total = float(w.sum())
    return covered_demand / total if total > 0 else math.nan
