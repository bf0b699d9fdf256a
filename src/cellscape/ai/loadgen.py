"""Synthetic per-cell load histories: daily and weekly profiles by cell type, holidays, noise, demand shifts.

No public per-cell telemetry ships in a package, so forecasting (:mod:`cellscape.ai.forecast`) is
developed and tested on histories drawn here. A history is the PRB utilisation (fraction of the
physical resource blocks in use, 0 to 1) of each cell, sampled every ``step_s`` seconds::

    load[c, t] = clip(peak_load[c] * profile(type[c], day_kind(t), hour(t)) * day_level[c, day(t)]
                      * shift[c, day(t)] * (1 + noise[c, t]), 0, 1)

Profiles
--------
Three cell types, each with one daily shape per day kind (weekday, Saturday, Sunday; a holiday is a
Sunday). A shape is a base level plus Gaussian bumps on the 24 h circle (:data:`PROFILES`: level,
centre [h], width [h]), scaled so that the highest point of a normal week is 1:

- ``business``: a plateau from about 9 h to 17 h on weekdays (bumps at 10.5 h and 14.5 h), falling
  to about a third of that on Saturday and under a quarter on Sunday;
- ``residential``: a small morning bump at 7.5 h, a daytime level and the daily peak at about
  21 h; higher at weekends (more daytime use, the week's peak on Sunday evening);
- ``transport``: the two commute peaks at 8 h and 17.75 h on weekdays; a low, flat afternoon
  hump at weekends.

The nights (2 h to 5 h) fall to the base level, about 5 to 12 % of the peak. The shapes are chosen to
match the qualitative patterns reported for city-scale operator data, not fitted to any data set:
Wang et al. [1]_ find five basic time-domain patterns over 9,600 towers of a metropolis, which map to
residential, business (office), transport, entertainment and mixed areas (office towers peak in the
weekday working hours and empty at weekends, residential ones peak in the evening and stay high at
weekends, transport towers show the morning and evening commute peaks); Furno et al. [2]_ find the
same split of weekday/weekend signatures in the Telecom Italia Milan data [3]_. The levels (for
instance business Sunday / weekday about 0.2) are this module's choice.

Noise and day-to-day variation
------------------------------
Each cell-day is scaled by a log-normal day level (median 1, log std ``day_level_std``), and each
sample by ``1 + noise`` where ``noise`` is a Gaussian AR(1) process with standard deviation
``noise_std`` and a correlation time of ``noise_correlation_s`` (30 min by default): relative noise,
so a quiet cell stays quiet. Loads that would exceed 1 are clipped (a saturated cell).

Demand shift
------------
A :class:`LoadShift` multiplies, from its ``start_day`` (index of the day in the history, 0 = first
day) to the end, the load of every cell of a type by that type's factor (types not named keep 1):
a lockdown that moves demand from offices to homes is
``LoadShift(28, {"business": 0.35, "residential": 1.3, "transport": 0.4})``.

References
----------
.. [1] H. Wang, F. Xu, Y. Li, P. Zhang, D. Jin, "Understanding mobile traffic patterns of large
   scale cellular towers in urban environment," ACM IMC 2015 (arXiv:1510.04026).
.. [2] A. Furno, M. Fiore, R. Stanica, "Joint spatial and temporal classification of mobile traffic
   demands," IEEE INFOCOM 2017 (hal-01514402).
.. [3] G. Barlacchi et al., "A multi-source dataset of urban life in the city of Milan and the
   Province of Trentino," Scientific Data 2, 150055 (2015).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy.signal import lfilter

from cellscape._validate import check_choice, check_range
from cellscape.errors import OutOfValidityRangeError

CELL_TYPES: tuple[str, ...] = ("business", "residential", "transport")
"""The cell types of :func:`generate_load_history`."""

DAY_KINDS: tuple[str, ...] = ("weekday", "saturday", "sunday")
"""The day kinds of a profile; a holiday is a ``"sunday"``."""

SECONDS_PER_DAY = 86400

_SOURCE = "cellscape.ai.loadgen"

# (base level, ((level, centre_h, width_h), ...)) per cell type and day kind; unnormalised, see
# the module docstring. Shapes chosen to match Wang et al. (IMC 2015) and Furno et al. (INFOCOM
# 2017) qualitatively, not fitted.
PROFILES: dict[str, dict[str, tuple[float, tuple[tuple[float, float, float], ...]]]] = {
    "business": {
        "weekday": (0.06, ((0.80, 10.5, 1.7), (0.78, 14.5, 1.9), (0.12, 19.0, 2.0))),
        "saturday": (0.06, ((0.26, 13.0, 3.0),)),
        "sunday": (0.05, ((0.15, 14.0, 3.0),)),
    },
    "residential": {
        "weekday": (0.10, ((0.22, 7.5, 1.0), (0.30, 13.0, 3.0), (0.80, 21.0, 1.8))),
        "saturday": (0.12, ((0.50, 13.0, 3.5), (0.85, 21.0, 2.0))),
        "sunday": (0.12, ((0.55, 14.0, 3.5), (0.88, 20.5, 2.0))),
    },
    "transport": {
        "weekday": (0.06, ((0.90, 8.0, 0.9), (0.85, 17.75, 1.1), (0.28, 13.0, 3.0))),
        "saturday": (0.06, ((0.42, 14.0, 3.5),)),
        "sunday": (0.05, ((0.32, 15.0, 3.5),)),
    },
}


def _raw_profile(cell_type: str, day_kind: str, hour) -> np.ndarray:
    base, bumps = PROFILES[cell_type][day_kind]
    hour = np.asarray(hour, dtype=float)
    out = np.full(hour.shape, base)
    for level, centre_h, width_h in bumps:
        d = np.abs(hour - centre_h) % 24.0
        d = np.minimum(d, 24.0 - d)  # distance on the 24 h circle
        out = out + level * np.exp(-0.5 * (d / width_h) ** 2)
    return out


def _weekly_max(cell_type: str) -> float:
    hours = np.linspace(0.0, 24.0, 24 * 60, endpoint=False)
    return max(float(_raw_profile(cell_type, k, hours).max()) for k in DAY_KINDS)


_WEEKLY_MAX = {t: _weekly_max(t) for t in CELL_TYPES}


def daily_profile(cell_type: str, day_kind: str, hour_of_day) -> np.ndarray:
    """Relative load of a cell type at an hour of a day kind; 1 at the highest point of a normal week.

    Parameters
    ----------
    cell_type : {'business', 'residential', 'transport'}
        The cell type.
    day_kind : {'weekday', 'saturday', 'sunday'}
        The kind of day; a holiday is a ``'sunday'``.
    hour_of_day : array_like
        Local time of day, 0 to 24. [h]

    Returns
    -------
    profile : ndarray
        Relative load in (0, 1], shape of ``hour_of_day``.

    Examples
    --------
    >>> round(float(daily_profile("transport", "weekday", 8.0)), 2)
    1.0
    >>> bool(daily_profile("business", "sunday", 12.0) < 0.3 * daily_profile("business", "weekday", 12.0))
    True
    """
    check_choice("cell_type", cell_type, CELL_TYPES)
    check_choice("day_kind", day_kind, DAY_KINDS)
    return _raw_profile(cell_type, day_kind, hour_of_day) / _WEEKLY_MAX[cell_type]


@dataclass(frozen=True)
class LoadShift:
    """A sudden demand shift: from day ``start_day`` on, each cell type's load times its factor.

    Parameters
    ----------
    start_day : int
        Index of the first shifted day in the history (0 = its first day).
    factor_by_type : dict of str to float
        Load multiplier per cell type (types not named keep 1), each >= 0.

    Examples
    --------
    >>> LoadShift(28, {"business": 0.35, "residential": 1.3}).factor("transport")
    1.0
    """

    start_day: int
    factor_by_type: dict[str, float] = field(default_factory=dict)

    def __post_init__(self):
        if int(self.start_day) != self.start_day or self.start_day < 0:
            raise OutOfValidityRangeError(f"LoadShift.start_day={self.start_day!r} must be an integer >= 0")
        for name, factor in self.factor_by_type.items():
            check_choice("LoadShift cell type", name, CELL_TYPES)
            if not np.isfinite(factor) or factor < 0:
                raise OutOfValidityRangeError(f"LoadShift factor of {name}={factor!r} must be finite and >= 0")

    def factor(self, cell_type: str) -> float:
        """The load multiplier of ``cell_type`` once the shift has started."""
        return float(self.factor_by_type.get(cell_type, 1.0))


@dataclass(frozen=True)
class LoadHistory:
    """Per-cell load history on a regular time grid.

    Attributes
    ----------
    cell_id : ndarray of str, shape (n_cells,)
    cell_type : ndarray of str, shape (n_cells,)
        One of :data:`CELL_TYPES` each (``"unknown"`` for a history read from a file without types).
    start : numpy.datetime64
        Time of the first sample, ``datetime64[s]``, local time of the network.
    step_s : float
        Sampling step. [s]
    load : ndarray of float64, shape (n_cells, n_steps)
        PRB utilisation, 0 to 1; sample ``t`` covers ``[start + t step_s, start + (t + 1) step_s)``.
    """

    cell_id: np.ndarray
    cell_type: np.ndarray
    start: np.datetime64
    step_s: float
    load: np.ndarray

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return int(self.load.shape[0])

    @property
    def n_steps(self) -> int:
        """Number of samples per cell."""
        return int(self.load.shape[1])

    def timestamps(self) -> np.ndarray:
        """Start time of each sample, ``datetime64[s]``, shape (n_steps,)."""
        return _timestamps(self.start, self.step_s, self.n_steps)


def _timestamps(start: np.datetime64, step_s: float, n_steps: int) -> np.ndarray:
    return np.datetime64(start, "s") + (np.arange(n_steps, dtype=np.int64) * int(step_s)).astype("timedelta64[s]")


def weekday_of(timestamps) -> np.ndarray:
    """Day of the week, Monday = 0 ... Sunday = 6, of ``datetime64`` values.

    >>> weekday_of(np.array(["2026-01-05", "2026-01-11"], dtype="datetime64[s]")).tolist()
    [0, 6]
    """
    days = np.asarray(timestamps).astype("datetime64[D]").astype(np.int64)
    return (days + 3) % 7  # 1970-01-01 was a Thursday


def day_kinds(timestamps, holidays: Iterable = ()) -> np.ndarray:
    """The :data:`DAY_KINDS` index (0 weekday, 1 Saturday, 2 Sunday or holiday) of each timestamp.

    >>> ts = np.array(["2026-01-05T09:00", "2026-01-06T09:00", "2026-01-10T09:00"], dtype="datetime64[s]")
    >>> day_kinds(ts, holidays=["2026-01-06"]).tolist()
    [0, 2, 1]
    """
    ts = np.asarray(timestamps, dtype="datetime64[s]")
    wd = weekday_of(ts)
    kind = np.where(wd < 5, 0, np.where(wd == 5, 1, 2))
    hol = _holiday_days(holidays)
    if hol.size:
        kind = np.where(np.isin(ts.astype("datetime64[D]"), hol), 2, kind)
    return kind


def _holiday_days(holidays: Iterable) -> np.ndarray:
    try:
        return np.array([np.datetime64(h, "D") for h in holidays], dtype="datetime64[D]")
    except (ValueError, TypeError) as exc:
        raise OutOfValidityRangeError(f"holidays must be dates (e.g. '2026-01-06'): {exc}") from None


def generate_load_history(
    peak_load,
    cell_type,
    *,
    n_days: int,
    step_s: float = 900.0,
    start="2026-01-05",
    holidays: Iterable = (),
    shift: LoadShift | None = None,
    noise_std: float = 0.08,
    day_level_std: float = 0.05,
    noise_correlation_s: float = 1800.0,
    seed: int,
    cell_id=None,
) -> LoadHistory:
    """Draw a per-cell PRB-utilisation history from the type profiles (module docstring).

    Parameters
    ----------
    peak_load : array_like, shape (n_cells,)
        Busy-hour PRB utilisation of each cell, 0 to 1: the noise-free load at the highest point of a
        normal week (e.g. from the simulator's per-cell demand,
        :func:`cellscape.pipeline.forecast.cell_demand_of_simulation`).
    cell_type : array_like of str, shape (n_cells,)
        One of :data:`CELL_TYPES` per cell.
    n_days : int
        Length of the history, >= 1. [day]
    step_s : float, default 900
        Sampling step; a whole number of seconds that divides a day. [s]
    start : str or numpy.datetime64, default '2026-01-05'
        Time of the first sample (a Monday by default), local time.
    holidays : iterable of date-like, default ()
        Dates that follow the Sunday profile.
    shift : LoadShift, optional
        A sudden demand shift (e.g. a lockdown).
    noise_std : float, default 0.08
        Standard deviation of the relative (multiplicative) AR(1) noise, 0 to 1.
    day_level_std : float, default 0.05
        Log standard deviation of the per cell-day level, 0 to 1.
    noise_correlation_s : float, default 1800
        Correlation time of the AR(1) noise, > 0. [s]
    seed : int
        Seed of the ``numpy.random.Generator``: the same inputs and seed give the same history.
    cell_id : array_like of str, optional
        Cell names; ``cell000``, ``cell001``, ... by default.

    Returns
    -------
    LoadHistory

    Raises
    ------
    OutOfValidityRangeError
        On a load outside [0, 1], a bad step, an empty history, or mismatched lengths.
    InvalidChoiceError
        On an unknown cell type.

    Examples
    --------
    >>> h = generate_load_history([0.8, 0.5], ["business", "residential"], n_days=7, seed=1)
    >>> h.load.shape, str(h.timestamps()[1])
    ((2, 672), '2026-01-05T00:15:00')
    >>> bool(h.load.min() >= 0.0 and h.load.max() <= 1.0)
    True
    """
    peak = np.atleast_1d(check_range("peak_load", peak_load, 0.0, 1.0, source=_SOURCE)).astype(np.float64)
    if peak.ndim != 1 or np.isnan(peak).any():
        raise OutOfValidityRangeError("peak_load must be a 1-D array of numbers in [0, 1]")
    types = np.atleast_1d(np.asarray(cell_type, dtype=str))
    if types.shape != peak.shape:
        raise OutOfValidityRangeError(f"cell_type has {types.size} entries for {peak.size} cells")
    for t in np.unique(types):
        check_choice("cell_type", str(t), CELL_TYPES)
    if int(n_days) != n_days or n_days < 1:
        raise OutOfValidityRangeError(f"n_days={n_days!r} must be an integer >= 1")
    if not (np.isfinite(step_s) and step_s >= 1 and float(step_s).is_integer() and SECONDS_PER_DAY % int(step_s) == 0):
        raise OutOfValidityRangeError(f"step_s={step_s!r} must be a whole number of seconds that divides a day (86400 s)")
    check_range("noise_std", noise_std, 0.0, 1.0, source=_SOURCE)
    check_range("day_level_std", day_level_std, 0.0, 1.0, source=_SOURCE)
    if not noise_correlation_s > 0:
        raise OutOfValidityRangeError(f"noise_correlation_s={noise_correlation_s!r} must be > 0")
    if cell_id is None:
        width = max(3, len(str(peak.size - 1)))
        ids = np.array([f"cell{i:0{width}d}" for i in range(peak.size)])
    else:
        ids = np.atleast_1d(np.asarray(cell_id, dtype=str))
        if ids.shape != peak.shape:
            raise OutOfValidityRangeError(f"cell_id has {ids.size} entries for {peak.size} cells")
    try:
        start64 = np.datetime64(start, "s")
    except (ValueError, TypeError) as exc:
        raise OutOfValidityRangeError(f"start={start!r} is not a date/time: {exc}") from None

    step_s = float(step_s)
    n_steps = int(n_days) * (SECONDS_PER_DAY // int(step_s))
    ts = _timestamps(start64, step_s, n_steps)
    days = ts.astype("datetime64[D]")
    day_index = (days - start64.astype("datetime64[D]")).astype(np.int64)  # 0 = the first day
    hour = (ts - days).astype(np.int64) / 3600.0 + step_s / 7200.0  # middle of each sample [h]
    kind = day_kinds(ts, holidays)

    profile = np.empty((len(CELL_TYPES), n_steps))
    for i, t in enumerate(CELL_TYPES):
        for k, name in enumerate(DAY_KINDS):
            sel = kind == k
            if sel.any():
                profile[i, sel] = daily_profile(t, name, hour[sel])
    type_index = np.array([CELL_TYPES.index(str(t)) for t in types], dtype=np.int64)
    clean = peak[:, None] * profile[type_index]

    if shift is not None:
        factors = np.array([shift.factor(str(t)) for t in types])
        shifted = day_index >= shift.start_day
        clean = np.where(shifted[None, :], clean * factors[:, None], clean)

    rng = np.random.default_rng(seed)
    n_day_levels = int(day_index[-1]) + 1
    day_level = np.exp(day_level_std * rng.standard_normal((peak.size, n_day_levels)))
    rho = float(np.exp(-step_s / noise_correlation_s))
    innovations = rng.standard_normal((peak.size, n_steps))
    innovations[:, 1:] *= np.sqrt(1.0 - rho**2)  # stationary AR(1) with unit variance
    noise = noise_std * lfilter([1.0], [1.0, -rho], innovations, axis=1)
    load = np.clip(clean * day_level[:, day_index] * (1.0 + noise), 0.0, 1.0)
    return LoadHistory(cell_id=ids, cell_type=types.astype(str), start=start64, step_s=step_s, load=load)
