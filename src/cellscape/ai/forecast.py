"""Per-cell load forecasting, the seasonal-naive baseline, and accuracy on held-out data.

Arrays in, arrays out: a history is ``(n_cells, n_steps)`` PRB utilisation (0 to 1) on a regular
grid of ``step_s`` seconds; a forecast is ``(n_cells, horizon_steps)``, clipped to [0, 1].

Models (:data:`MODELS`)
-----------------------
- ``"seasonal_naive"``: the value one week earlier (:func:`seasonal_naive`), the baseline;
- ``"profile"``: this module's own model (:func:`profile_forecast`): the median of the same weekly
  slot over the last ``min(4, weeks in the history)`` weeks, scaled by the cell's recent level
  (the last two days' load over the profile's load on the same slots); the median ignores one odd
  week (a holiday), the level follows a sudden demand shift two days after it starts;
- ``"window_average"``: the mean of the same slot over the last ``min(4, weeks in the history)``
  weeks (statsforecast ``SeasonalWindowAverage``);
- ``"seasonal_es"``: exponential smoothing of each weekly slot, smoothing factor fitted to the
  history (statsforecast ``SeasonalExponentialSmoothingOptimized``); adapts only slowly to a
  demand shift (each slot sees one sample a week);
- ``"mstl"``: multiple seasonal-trend decomposition by LOESS with a daily and a weekly season
  (only daily under two weeks of history), the trend forecast by ETS without seasonality
  (statsforecast ``MSTL`` with ``AutoETS(model="ZZN")``); slow: about 6 s per cell for four weeks of 15-min
  samples;
- ``"auto"``: the model chosen by measured accuracy, :data:`AUTO_MODEL` (see docs/forecast.md for
  the measurement: 57 generated cells, 35 days of 15-min samples, the last 7 days held out).

Accuracy (:func:`forecast_errors`)
----------------------------------
MAE is the mean absolute error in PRB-utilisation units. MAPE is ``100 * mean(|a - p| / a)`` over
the samples whose actual load is at least :data:`MAPE_MIN_LOAD` (0.05): near-zero night loads are
excluded rather than floored, since a relative error of a nearly idle cell says nothing about its
forecast; MAE covers every sample.
"""

from __future__ import annotations

from dataclasses import dataclass
import time

import numpy as np

from cellscape._validate import check_choice
from cellscape.errors import OutOfValidityRangeError

SECONDS_PER_DAY = 86400
SECONDS_PER_WEEK = 7 * SECONDS_PER_DAY

MAPE_MIN_LOAD = 0.05
"""Samples with an actual load below this are left out of MAPE (not out of MAE)."""

WINDOW_WEEKS = 4
"""Number of past weeks the ``"window_average"`` model averages (fewer if the history is shorter)."""

LEVEL_DAYS = 2
"""Number of final days of the history whose load sets the ``"profile"`` model's level."""

MODELS: tuple[str, ...] = ("auto", "seasonal_naive", "profile", "window_average", "seasonal_es", "mstl")
"""The ``model`` choices of :func:`forecast_load`."""

AUTO_MODEL = "profile"
"""The model behind ``"auto"``: the lowest MAE of every model in each variant of the measurement of
docs/forecast.md (no shift, a shift one week or two days before the holdout), and no compile time."""


def _as_history(history, what: str = "history") -> np.ndarray:
    h = np.asarray(history, dtype=np.float64)
    if h.ndim == 1:
        h = h[None, :]
    if h.ndim != 2 or h.shape[0] == 0 or h.shape[1] == 0:
        raise OutOfValidityRangeError(f"{what} must be a non-empty (n_cells, n_steps) array, got shape {h.shape}")
    if not np.isfinite(h).all():
        raise OutOfValidityRangeError(f"{what} holds NaN or infinite values")
    return h


def _check_horizon(horizon_steps) -> int:
    if int(horizon_steps) != horizon_steps or horizon_steps < 1:
        raise OutOfValidityRangeError(f"horizon_steps={horizon_steps!r} must be an integer >= 1")
    return int(horizon_steps)


def steps_per_period(step_s: float, period_s: float, *, name: str = "step_s") -> int:
    """Number of samples of ``step_s`` seconds in a period (a day, a week); the step must divide it.

    >>> steps_per_period(900.0, 7 * 86400)
    672
    """
    if not (np.isfinite(step_s) and step_s > 0):
        raise OutOfValidityRangeError(f"{name}={step_s!r} must be a positive number of seconds")
    n = period_s / step_s
    if abs(n - round(n)) > 1e-9 or round(n) < 1:
        raise OutOfValidityRangeError(f"{name}={step_s:g} s does not divide a period of {period_s:g} s")
    return int(round(n))


def seasonal_naive(history, *, season_steps: int, horizon_steps: int) -> np.ndarray:
    """Seasonal-naive forecast: each future step repeats the last observed season.

    ``forecast[:, h] = history[:, n - season + (h mod season)]`` for ``h = 0 .. horizon - 1``
    (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., section 5.2).

    Parameters
    ----------
    history : array_like, shape (n_cells, n_steps) or (n_steps,)
        Past loads.
    season_steps : int
        Season length, 1 to n_steps. [samples]
    horizon_steps : int
        Number of future steps, >= 1.

    Returns
    -------
    forecast : ndarray, shape (n_cells, horizon_steps)

    Examples
    --------
    >>> seasonal_naive([[1.0, 2.0, 3.0, 4.0, 5.0]], season_steps=2, horizon_steps=3).tolist()
    [[4.0, 5.0, 4.0]]
    """
    h = _as_history(history)
    horizon = _check_horizon(horizon_steps)
    if int(season_steps) != season_steps or not 1 <= season_steps <= h.shape[1]:
        raise OutOfValidityRangeError(
            f"season_steps={season_steps!r} must be an integer from 1 to the history length ({h.shape[1]})")
    season = int(season_steps)
    last = h[:, h.shape[1] - season:]
    return last[:, np.arange(horizon) % season].copy()


def profile_forecast(history, *, step_s: float, horizon_steps: int, weeks: int = WINDOW_WEEKS,
                     level_days: int = LEVEL_DAYS) -> np.ndarray:
    """Weekly-profile forecast: slot median over the last weeks, times the cell's recent level.

    ``profile[s]`` is the median of the history at weekly slot ``s`` over the last
    ``k = min(weeks, n_steps // week)`` whole weeks; ``level = sum(history[-L:]) / sum(profile[-L:])``
    over the last ``L = level_days`` days; the forecast repeats ``level * profile`` week after
    week. The median is robust to one odd week in three or more (a holiday), the level follows a
    demand shift that has lasted ``level_days``; a holiday among the last ``level_days`` lowers the
    level (a known weakness).

    Parameters
    ----------
    history : array_like, shape (n_cells, n_steps) or (n_steps,)
        Past loads, at least one week.
    step_s : float
        Sampling step; it must divide a day. [s]
    horizon_steps : int
        Number of future steps, >= 1.
    weeks : int, default 4
        Most weeks the profile median takes, >= 1.
    level_days : int, default 2
        Final days that set the level, 1 to 7.

    Returns
    -------
    forecast : ndarray, shape (n_cells, horizon_steps)
        Not clipped (:func:`forecast_load` clips).

    Examples
    --------
    >>> week = np.tile(np.r_[np.full(6, 0.2), np.full(6, 0.6)], 7)  # 2 h step
    >>> hist = np.r_[week, week, 0.5 * week]  # demand halves in the third week
    >>> profile_forecast(hist, step_s=7200, horizon_steps=12, level_days=2)[0, [0, 6]].round(3).tolist()
    [0.1, 0.3]
    """
    h = _as_history(history)
    horizon = _check_horizon(horizon_steps)
    day = steps_per_period(step_s, SECONDS_PER_DAY)
    week = 7 * day
    if int(weeks) != weeks or weeks < 1:
        raise OutOfValidityRangeError(f"weeks={weeks!r} must be an integer >= 1")
    if int(level_days) != level_days or not 1 <= level_days <= 7:
        raise OutOfValidityRangeError(f"level_days={level_days!r} must be an integer from 1 to 7")
    k = min(int(weeks), h.shape[1] // week)
    if k < 1:
        raise OutOfValidityRangeError(f"the history holds {h.shape[1]} samples; the profile needs one week ({week})")
    profile = np.median(h[:, h.shape[1] - k * week:].reshape(h.shape[0], k, week), axis=1)
    n_level = int(level_days) * day
    recent = h[:, -n_level:].sum(axis=1)
    expected = profile[:, -n_level:].sum(axis=1)
    level = np.where(expected > 0.0, recent / np.where(expected > 0.0, expected, 1.0), 1.0)
    return (level[:, None] * profile)[:, np.arange(horizon) % week]


def _statsforecast_model(model: str, n_steps: int, day: int, week: int):
    # statsforecast's models import numba-compiled code (slow the first time): import on use
    from statsforecast.models import MSTL, AutoETS, SeasonalExponentialSmoothingOptimized, SeasonalWindowAverage

    if model == "window_average":
        return SeasonalWindowAverage(season_length=week, window_size=max(1, min(WINDOW_WEEKS, n_steps // week)))
    if model == "seasonal_es":
        return SeasonalExponentialSmoothingOptimized(season_length=week)
    seasons = [day, week] if n_steps >= 2 * week else [day]
    return MSTL(season_length=seasons, trend_forecaster=AutoETS(model="ZZN"))


def forecast_load(history, *, step_s: float, horizon_steps: int, model: str = "auto") -> np.ndarray:
    """Forecast each cell's load ``horizon_steps`` samples ahead from its history alone.

    Parameters
    ----------
    history : array_like, shape (n_cells, n_steps) or (n_steps,)
        Past PRB utilisation, 0 to 1, regular samples, at least one week of them.
    step_s : float
        Sampling step; it must divide a day. [s]
    horizon_steps : int
        Number of future steps, >= 1.
    model : str, default 'auto'
        One of :data:`MODELS` (module docstring); ``'auto'`` is :data:`AUTO_MODEL`.

    Returns
    -------
    forecast : ndarray, shape (n_cells, horizon_steps)
        Forecast PRB utilisation, clipped to [0, 1].

    Raises
    ------
    OutOfValidityRangeError
        If the history is shorter than a week, holds NaN, or the step does not divide a day.
    InvalidChoiceError
        On an unknown model.

    Examples
    --------
    >>> hist = np.tile(np.r_[np.zeros(6), np.ones(6)], 14)  # 2 h step: a day of 12 steps, 2 weeks
    >>> forecast_load(hist, step_s=7200, horizon_steps=3, model="seasonal_naive").tolist()
    [[0.0, 0.0, 0.0]]
    """
    check_choice("model", model, MODELS)
    h = _as_history(history)
    horizon = _check_horizon(horizon_steps)
    day = steps_per_period(step_s, SECONDS_PER_DAY)
    week = day * 7
    if h.shape[1] < week:
        raise OutOfValidityRangeError(
            f"the history holds {h.shape[1]} samples of {step_s:g} s; forecasting needs at least one week ({week})")
    name = AUTO_MODEL if model == "auto" else model
    if name == "seasonal_naive":
        out = seasonal_naive(h, season_steps=week, horizon_steps=horizon)
    elif name == "profile":
        out = profile_forecast(h, step_s=step_s, horizon_steps=horizon)
    else:
        sf_model = _statsforecast_model(name, h.shape[1], day, week)
        out = np.empty((h.shape[0], horizon))
        for c in range(h.shape[0]):
            if np.ptp(h[c]) == 0.0:  # a constant series (e.g. an idle cell): its own forecast
                out[c] = h[c, -1]
            else:
                out[c] = np.asarray(sf_model.forecast(y=h[c], h=horizon)["mean"], dtype=np.float64)
    return np.clip(out, 0.0, 1.0)


def forecast_errors(actual, predicted, *, mape_min_load: float = MAPE_MIN_LOAD) -> dict:
    """MAE and MAPE of a forecast, overall and per cell (module docstring).

    Parameters
    ----------
    actual, predicted : array_like, shape (n_cells, n_steps) or (n_steps,)
        Observed and forecast loads, same shape, finite.
    mape_min_load : float, default 0.05
        Samples with ``actual < mape_min_load`` are left out of MAPE.

    Returns
    -------
    errors : dict
        ``{"mae": float, "mape_pct": float, "per_cell": {"mae": ndarray, "mape_pct": ndarray},
        "mape_min_load": float, "mape_fraction_used": float}``; a MAPE with no sample at or above
        the threshold is NaN.

    Examples
    --------
    >>> e = forecast_errors([[0.5, 0.2, 0.01]], [[0.4, 0.3, 0.02]])
    >>> round(e["mae"], 4), round(e["mape_pct"], 1)
    (0.07, 35.0)
    """
    a = _as_history(actual, "actual")
    p = _as_history(predicted, "predicted")
    if a.shape != p.shape:
        raise OutOfValidityRangeError(f"actual {a.shape} and predicted {p.shape} differ in shape")
    err = np.abs(a - p)
    used = a >= mape_min_load
    ape = np.where(used, err / np.where(used, a, 1.0), 0.0)
    n_used = used.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mape_cell = np.where(n_used > 0, 100.0 * ape.sum(axis=1) / n_used, np.nan)
    total_used = int(used.sum())
    return {
        "mae": float(err.mean()),
        "mape_pct": float(100.0 * ape.sum() / total_used) if total_used else float("nan"),
        "per_cell": {"mae": err.mean(axis=1), "mape_pct": mape_cell},
        "mape_min_load": float(mape_min_load),
        "mape_fraction_used": total_used / a.size,
    }


@dataclass(frozen=True)
class HoldoutEvaluation:
    """A model and the seasonal-naive baseline, both fitted on the training part, scored on the holdout.

    Attributes
    ----------
    model : str
        The model used (``"auto"`` resolved to :data:`AUTO_MODEL`).
    train_steps, holdout_steps : int
        The first ``train_steps`` samples trained both forecasts; the last ``holdout_steps`` scored them.
    actual, forecast, baseline : ndarray, shape (n_cells, holdout_steps)
    errors, baseline_errors : dict
        :func:`forecast_errors` of the model and of the baseline on the holdout.
    fit_predict_s : float
        Wall time of the model's fit and forecast. [s]
    """

    model: str
    train_steps: int
    holdout_steps: int
    actual: np.ndarray
    forecast: np.ndarray
    baseline: np.ndarray
    errors: dict
    baseline_errors: dict
    fit_predict_s: float


def evaluate_holdout(load, *, step_s: float, holdout_steps: int, model: str = "auto") -> HoldoutEvaluation:
    """Train on all but the last ``holdout_steps`` samples, forecast them, score model and baseline.

    The holdout is cut off before any model sees the data: the forecasts depend on the training
    samples only. The baseline is the weekly seasonal-naive forecast from the same training samples.

    Parameters
    ----------
    load : array_like, shape (n_cells, n_steps)
        PRB utilisation history, 0 to 1.
    step_s : float
        Sampling step; it must divide a day. [s]
    holdout_steps : int
        Number of final samples held out, >= 1; at least one week must remain for training.
    model : str, default 'auto'
        One of :data:`MODELS`.

    Returns
    -------
    HoldoutEvaluation

    Examples
    --------
    >>> day = np.r_[np.full(6, 0.2), np.full(6, 0.6)]
    >>> ev = evaluate_holdout(np.tile(day, 9)[None, :], step_s=7200, holdout_steps=24, model="seasonal_naive")
    >>> ev.train_steps, ev.errors["mae"], ev.baseline_errors["mae"]
    (84, 0.0, 0.0)
    """
    check_choice("model", model, MODELS)
    h = _as_history(load, "load")
    holdout = _check_horizon(holdout_steps)
    week = steps_per_period(step_s, SECONDS_PER_WEEK)
    train_steps = h.shape[1] - holdout
    if train_steps < week:
        raise OutOfValidityRangeError(
            f"the history holds {h.shape[1]} samples of {step_s:g} s: too short for a holdout of {holdout} "
            f"samples plus one week ({week}) of training")
    train = h[:, :train_steps].copy()  # the holdout never reaches a model
    actual = h[:, train_steps:].copy()
    name = AUTO_MODEL if model == "auto" else model
    t0 = time.perf_counter()
    fc = forecast_load(train, step_s=step_s, horizon_steps=holdout, model=name)
    fit_s = time.perf_counter() - t0
    base = seasonal_naive(train, season_steps=week, horizon_steps=holdout)
    return HoldoutEvaluation(model=name, train_steps=train_steps, holdout_steps=holdout, actual=actual,
                             forecast=fc, baseline=base, errors=forecast_errors(actual, fc),
                             baseline_errors=forecast_errors(actual, base), fit_predict_s=fit_s)
