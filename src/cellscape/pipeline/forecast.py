"""The forecasting job (``cellscape forecast``): a per-cell load history -> a model and the weekly
seasonal-naive baseline trained on all but the last days -> their accuracy on those held-out days.

A history comes from a file (read in :mod:`cellscape.io.forecast_outputs`) or is synthesised from a
simulation file: :func:`cell_demand_of_simulation` derives each sector's busy-hour load and cell type
from the coverage engine's per-sector maps and the user groups' drops (no slot simulation), and
:func:`synthesize_history` feeds them to :func:`cellscape.ai.loadgen.generate_load_history`.

Busy-hour load of a sector (documented mapping)
-----------------------------------------------
Each user group's expected users per pixel follow the simulator's drop (:func:`drop_weights`, with
the same indoor split as :func:`cellscape.simulation.engine.run_simulation`: ``indoor_fraction`` of
the users on building pixels, 0.8 for ``buildings`` drops without one, moving users outdoors;
users of ``streets`` mobility are spread over outdoor pixels, not along the street graph). A pixel's
users belong to its best server (highest RSRP of the per-sector maps at the scenario's receiver
height). Every user is taken to offer the same busy-hour demand, so a sector's busy-hour PRB
utilisation is ``mean_busy_load * users / (mean users per sector)``, i.e. users x per-user demand /
sector capacity with the ratio fixed so the average sector sits at ``mean_busy_load`` (0.5 by
default), floored at ``min_busy_load`` (0.02: signalling always occupies some resources) and capped
at 1.

Cell type of a sector (documented rule)
---------------------------------------
If the simulation has user groups whose names say a type (``business``/``office``,
``residential``/``home``, ``transport``/``commut``), and those typed groups supply at least half a
sector's users, the sector takes the type that supplies most of them. Otherwise the type follows the
building density of the sector's served area (the share of its best-server pixels under a building
footprint), ranked across the network: the densest third ``business`` (city-centre blocks), the
middle third ``residential``, the sparsest third ``transport`` (roads, rail, open squares). The
ranking is relative to the network, so every network gets a mix; it is a heuristic, not a land-use
map.
"""

from __future__ import annotations

from dataclasses import dataclass
import time

import numpy as np

from cellscape.ai.forecast import MODELS, SECONDS_PER_DAY, HoldoutEvaluation, evaluate_holdout
from cellscape.ai.loadgen import CELL_TYPES, LoadHistory, LoadShift, generate_load_history
from cellscape.coverage.engine import Backend, SectorMaps, sector_maps
from cellscape.errors import OutOfValidityRangeError
from cellscape.geo.grid import grid_for_bounds
from cellscape.geo.surface import Terrain
from cellscape.pipeline.coverage import load_footprints, localize
from cellscape.scenario.simulation import Simulation
from cellscape.simulation.users import expected_users_by_group

TYPE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "business": ("business", "office"),
    "residential": ("residential", "home"),
    "transport": ("transport", "commut"),
}
"""Words in a user group's name that give its users' cell type."""


@dataclass(frozen=True)
class CellDemand:
    """Each sector's busy-hour load and type derived from a simulation (module docstring).

    Arrays of shape (n_sectors,): ``cell_id`` (sector ids), ``cell_type``, ``peak_load`` (busy-hour
    PRB utilisation, 0 to 1), ``users`` (expected users served), ``building_share`` (share of the
    served pixels under buildings); ``type_rule``: per sector, ``"groups"`` or ``"building_density"``.
    """

    cell_id: np.ndarray
    cell_type: np.ndarray
    peak_load: np.ndarray
    users: np.ndarray
    building_share: np.ndarray
    type_rule: np.ndarray


def _group_type(name: str) -> str | None:
    low = name.lower()
    for t, words in TYPE_KEYWORDS.items():
        if any(w in low for w in words):
            return t
    return None


def cell_demand_of_simulation(sim: Simulation, *, terrain: Terrain | None = None, backend: Backend = "numba",
                              resolution_m: float | None = None, mean_busy_load: float = 0.5,
                              min_busy_load: float = 0.02, maps: SectorMaps | None = None) -> CellDemand:
    """Busy-hour PRB utilisation and cell type of every sector of a simulation (module docstring).

    Parameters
    ----------
    sim : Simulation
        A simulation (``cellscape.io.scenario_yaml.load_simulation``).
    terrain : Terrain, optional
        The scenario's DEM, read at the edge.
    backend : {'numba', 'numpy'}, default 'numba'
        Map engine backend.
    resolution_m : float, optional
        Pixel size of the maps; the simulation's ``resolution_m`` (or the scenario's grid) by default. [m]
    mean_busy_load : float, default 0.5
        Busy-hour PRB utilisation of a sector serving the mean number of users, 0 to 1.
    min_busy_load : float, default 0.02
        Floor of a sector's busy-hour PRB utilisation, 0 to ``mean_busy_load``.
    maps : SectorMaps, optional
        The simulation's per-sector maps when the caller has them (``cellscape energy``,
        ``cellscape anomalies``): then ``terrain``, ``backend`` and ``resolution_m`` are not used.

    Returns
    -------
    CellDemand
    """
    if not 0.0 < mean_busy_load <= 1.0 or not 0.0 <= min_busy_load <= mean_busy_load:
        raise OutOfValidityRangeError(
            f"need 0 < mean_busy_load <= 1 and 0 <= min_busy_load <= mean_busy_load, got {mean_busy_load:g}, "
            f"{min_busy_load:g}")
    sc = sim.scenario
    if maps is None:
        grid, site_xy_m = localize(sc)
        res = resolution_m if resolution_m is not None else sim.resolution_m
        if res is not None:
            grid = grid_for_bounds(sc.area.bounds, crs=sc.area.crs, resolution_m=res)
        footprints = load_footprints(sc, grid)
        maps = sector_maps(sc, grid, site_xy_m, footprints=footprints, terrain=terrain, backend=backend)
    grid = maps.grid
    best = np.argmax(maps.rsrp_dbm, axis=0)
    usable = np.isfinite(maps.rsrp_dbm).any(axis=0)
    n_sec = maps.n_sectors
    per_group = expected_users_by_group(sim, grid, np.asarray(maps.indoor, dtype=bool))

    def per_sector(values: np.ndarray) -> np.ndarray:
        return np.bincount(best[usable], weights=values[usable], minlength=n_sec)

    users_by_group = {name: per_sector(d) for name, d in per_group.items()}
    users = np.sum(list(users_by_group.values()), axis=0) if users_by_group else np.zeros(n_sec)
    pixels = per_sector(np.ones(grid.shape))
    building_share = per_sector(maps.indoor.astype(float)) / np.maximum(pixels, 1.0)

    mean_users = users.mean() if users.size else 0.0
    ratio = users / mean_users if mean_users > 0 else np.zeros(n_sec)
    peak = np.clip(mean_busy_load * ratio, min_busy_load, 1.0)

    # cell type: typed groups first, else building-density terciles across the network
    rank = np.argsort(np.argsort(building_share, kind="stable"), kind="stable") / max(n_sec, 1)
    types = np.where(rank >= 2.0 / 3.0, "business", np.where(rank >= 1.0 / 3.0, "residential", "transport"))
    types = types.astype(f"<U{max(len(t) for t in CELL_TYPES)}")
    rule = np.full(n_sec, "building_density", dtype="<U16")
    typed = np.zeros((len(CELL_TYPES), n_sec))
    for name, u in users_by_group.items():
        t = _group_type(name)
        if t is not None:
            typed[CELL_TYPES.index(t)] += u
    from_groups = (typed.sum(axis=0) > 0) & (typed.sum(axis=0) >= 0.5 * users)
    types[from_groups] = np.array(CELL_TYPES)[np.argmax(typed[:, from_groups], axis=0)]
    rule[from_groups] = "groups"
    return CellDemand(cell_id=np.asarray(maps.sectors.sector_id, dtype=str), cell_type=types, peak_load=peak,
                      users=users, building_share=building_share, type_rule=rule)


DEFAULT_SHIFT_FACTORS = {"business": 0.35, "residential": 1.3, "transport": 0.4}
"""The lockdown of ``--shift-day``: offices empty, homes busier, commuting falls (chosen, not fitted)."""


def synthesize_history(demand: CellDemand, *, n_days: int, step_s: float = 900.0, start="2026-01-05",
                       holidays=(), shift: LoadShift | None = None, seed: int = 0, **generator_kwargs) -> LoadHistory:
    """A load history of the simulation's sectors: :func:`generate_load_history` driven by ``demand``.

    >>> d = CellDemand(np.array(["A", "B"]), np.array(["business", "transport"]), np.array([0.6, 0.4]),
    ...                np.array([10.0, 5.0]), np.array([0.4, 0.1]), np.array(["building_density"] * 2))
    >>> synthesize_history(d, n_days=2, seed=1).load.shape
    (2, 192)
    """
    return generate_load_history(demand.peak_load, demand.cell_type, n_days=n_days, step_s=step_s, start=start,
                                 holidays=holidays, shift=shift, seed=seed, cell_id=demand.cell_id,
                                 **generator_kwargs)


@dataclass(frozen=True)
class ForecastRun:
    """A finished forecasting job: the history, the holdout evaluation, and the held-out period.

    ``train_period`` and ``holdout_period``: (first sample start, last sample start) as ``datetime64[s]``.
    """

    history: LoadHistory
    evaluation: HoldoutEvaluation
    holdout_days: float
    train_period: tuple[np.datetime64, np.datetime64]
    holdout_period: tuple[np.datetime64, np.datetime64]
    demand: CellDemand | None = None

    def holdout_timestamps(self) -> np.ndarray:
        """Start of each held-out sample, ``datetime64[s]``."""
        return self.history.timestamps()[self.evaluation.train_steps:]


def holdout_steps_of(holdout_days: float, step_s: float) -> int:
    """Number of samples in ``holdout_days`` days of ``step_s`` seconds (a whole number, >= 1).

    >>> holdout_steps_of(7, 900.0)
    672
    """
    n = holdout_days * SECONDS_PER_DAY / step_s
    if not np.isfinite(n) or n < 1 or abs(n - round(n)) > 1e-9:
        raise OutOfValidityRangeError(
            f"--holdout-days {holdout_days:g} is not a whole, positive number of {step_s:g} s steps")
    return int(round(n))


def run_forecast(history: LoadHistory, *, holdout_days: float = 7.0, model: str = "auto",
                 demand: CellDemand | None = None) -> ForecastRun:
    """Hold out the last ``holdout_days`` of ``history``, train the model and the weekly
    seasonal-naive baseline on the rest, score both on the held-out days.

    Raises
    ------
    OutOfValidityRangeError
        If the history is shorter than the holdout plus one week, or the step does not divide a day.
    """
    n_hold = holdout_steps_of(holdout_days, history.step_s)
    ev = evaluate_holdout(history.load, step_s=history.step_s, holdout_steps=n_hold, model=model)
    ts = history.timestamps()
    return ForecastRun(history=history, evaluation=ev, holdout_days=float(holdout_days),
                       train_period=(ts[0], ts[ev.train_steps - 1]), holdout_period=(ts[ev.train_steps], ts[-1]),
                       demand=demand)


def compare_models(history: LoadHistory, *, holdout_days: float = 7.0, models=None, repeats: int = 2) -> list[dict]:
    """Accuracy and fit+predict time of each model on the same holdout (docs/forecast.md's table).

    Each model runs ``repeats`` times; ``first_s`` is the first run's time (numba compiles
    statsforecast's code then), ``warm_s`` the fastest later run. Rows: model, mae, mape_pct,
    baseline_mae, baseline_mape_pct, first_s, warm_s.
    """
    names = [m for m in MODELS if m != "auto"] if models is None else list(models)
    n_hold = holdout_steps_of(holdout_days, history.step_s)
    rows = []
    for name in names:
        times = []
        ev = None
        for _ in range(max(1, repeats)):
            t0 = time.perf_counter()
            ev = evaluate_holdout(history.load, step_s=history.step_s, holdout_steps=n_hold, model=name)
            times.append(time.perf_counter() - t0)
        rows.append({"model": name, "mae": ev.errors["mae"], "mape_pct": ev.errors["mape_pct"],
                     "baseline_mae": ev.baseline_errors["mae"], "baseline_mape_pct": ev.baseline_errors["mape_pct"],
                     "first_s": times[0], "warm_s": min(times[1:]) if len(times) > 1 else times[0]})
    return rows


def measurement_history(*, n_cells: int = 57, n_days: int = 35, step_s: float = 900.0,
                        shift_day: int | None = None, seed: int = 1) -> LoadHistory:
    """The history of docs/forecast.md's model comparison: ``n_cells`` cells, types in turn, busy-hour
    loads uniform in [0.1, 0.9] (seed 0), the holiday 2026-01-06 in the training weeks, an optional
    lockdown (:func:`default_shift`) from ``shift_day``, default noise, generator seed ``seed``.

    >>> measurement_history(n_cells=3, n_days=8).load.shape
    (3, 768)
    """
    peak = np.random.default_rng(0).uniform(0.1, 0.9, n_cells)
    types = np.array(CELL_TYPES)[np.arange(n_cells) % len(CELL_TYPES)]
    return generate_load_history(peak, types, n_days=n_days, step_s=step_s, holidays=["2026-01-06"],
                                 shift=None if shift_day is None else default_shift(shift_day), seed=seed)


def default_shift(start_day: int) -> LoadShift:
    """The lockdown of :data:`DEFAULT_SHIFT_FACTORS` from day ``start_day`` on."""
    return LoadShift(int(start_day), dict(DEFAULT_SHIFT_FACTORS))


__all__ = ["CellDemand", "ForecastRun", "cell_demand_of_simulation", "compare_models", "default_shift",
           "holdout_steps_of", "measurement_history", "run_forecast", "synthesize_history"]

