"""The energy job (``cellscape energy``, docs/energy.md): simulation file -> per-sector maps of the
engine at the receiver height -> demand points (:func:`cellscape.ai.flow.flow_network_from_maps`)
-> busy-hour load of each sector -> a load history of ``history_days + days`` days
(:func:`cellscape.ai.loadgen.generate_load_history`) -> the last ``days`` simulated under each
policy of :mod:`cellscape.ai.energy`, the forecast policy forecasting each day from the days
before it. No file is written here: ``cellscape.io.energy_outputs`` writes results.

Choices of this job (the scenario schema has no energy block; see docs/energy.md):

- **Users per pixel**: the expectation of the simulator's drop of each user group
  (:func:`cellscape.simulation.users.expected_users_by_group`: drop weights, hotspots, indoor share; raster
  drops are refused).
- **Busy-hour load.** Every user offers the same traffic at the busy hour, sized so that the
  busiest sector (all awake, full-load interference) reaches ``peak_load`` PRB utilisation; each
  sector's busy-hour load is then set by how many users it serves and at what rate.
- **Cell types** (the daily shape of :mod:`cellscape.ai.loadgen`): the rule of ``cellscape forecast``
  (:func:`cellscape.pipeline.forecast.cell_demand_of_simulation`: from the user groups' names where
  they say, else by the building share of the pixels each sector serves).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import time

import numpy as np

from cellscape.ai.energy import POLICIES, EnergyOptions, EnergyResult, simulate_energy
from cellscape.ai.flow import FlowNetwork, FlowState, evaluate, flow_network_from_maps
from cellscape.ai.forecast import MODELS, forecast_load
from cellscape.ai.loadgen import LoadHistory, generate_load_history
from cellscape.ai.power_model import DEFAULT, BsPowerModel
from cellscape._validate import check_choice, check_range
from cellscape.coverage.engine import Backend, SectorMaps, sector_maps
from cellscape.errors import OutOfValidityRangeError
from cellscape.geo.surface import Terrain
from cellscape.pipeline.coverage import load_footprints
from cellscape.pipeline.forecast import cell_demand_of_simulation
from cellscape.pipeline.simulate import simulation_grid
from cellscape.scenario.simulation import Simulation
from cellscape.simulation.users import expected_users_by_group

Stage = Callable[[str, int, int], None]
"""progress(stage, done, total): 'maps' (tiles), then the energy stages ('traffic', each policy)."""

HISTORY_START = "2026-01-05"
"""First day of the generated history (a Monday): 28 days of past put the simulated day on a Monday."""


@dataclass(frozen=True)
class EnergyRun:
    """A finished energy job: the result, the network it ran on and the history it drew.

    ``timestamps``: (T,) ``datetime64[s]`` start of each simulated step; ``sector_id``: (S,) str;
    ``cell_type``: (S,) str; ``peak_load``: (S,) busy-hour load of each sector; ``meta``: settings
    and timings for energy.json.
    """

    simulation: Simulation
    network: FlowNetwork
    history: LoadHistory
    result: EnergyResult
    timestamps: np.ndarray
    sector_id: np.ndarray
    cell_type: np.ndarray
    peak_load: np.ndarray
    meta: dict


def demand_weights(sim: Simulation, maps: SectorMaps) -> np.ndarray:
    """(n_rows, n_cols) expected users per pixel of the maps' grid, all user groups together
    (:func:`cellscape.simulation.users.expected_users_by_group`: the expectation of the simulator's drop)."""
    per_group = expected_users_by_group(sim, maps.grid, np.asarray(maps.indoor, dtype=bool))
    return np.sum(list(per_group.values()), axis=0) if per_group else np.zeros(maps.grid.shape)


def busy_hour_loads(net: FlowNetwork, peak_load: float) -> np.ndarray:
    """(S,) busy-hour PRB load of each sector at equal traffic per user, the busiest at ``peak_load``."""
    peak = float(check_range("peak_load", peak_load, 0.0, 1.0, source="busy_hour_loads"))
    r = evaluate(net, FlowState.default(net), np.zeros(net.n_points), n_iter=1)         # full-load interference
    inv = np.divide(net.point_weight, r.rate_full_bps, out=np.zeros(net.n_points), where=r.rate_full_bps > 0)
    need = np.bincount(r.serving, weights=inv, minlength=net.n_sectors)                 # (S,) [s/bit per user]
    if not need.max() > 0:
        raise OutOfValidityRangeError("no demand point is covered: the network serves nobody")
    return np.clip(peak * need / need.max(), 0.0, 1.0)


def run_energy(sim: Simulation, *, days: int = 1, step_min: float = 15.0, threshold: float = 0.1,
               history_days: int = 28, policies: Sequence[str] = POLICIES, n_points: int = 2000,
               peak_load: float = 0.8, forecast_model: str = "auto", neighbour_limit: float = 0.7,
               model: BsPowerModel = DEFAULT, backend: Backend = "numba", terrain: Terrain | None = None,
               maps: SectorMaps | None = None, progress: Stage | None = None) -> EnergyRun:
    """Simulate ``days`` days of the network of ``sim`` under each policy (module docstring).

    ``maps``: per-sector maps already computed on :func:`~cellscape.pipeline.simulate.simulation_grid`
    at the receiver height (computed here otherwise). ``history_days``: days of generated past
    before the simulated days, at least 7 for the forecast.
    """
    for p in policies:
        check_choice("policy", p, POLICIES)
    check_choice("forecast_model", forecast_model, MODELS)
    if isinstance(days, bool) or int(days) != days or days < 1:
        raise OutOfValidityRangeError(f"days={days!r} must be an integer >= 1")
    if isinstance(history_days, bool) or int(history_days) != history_days or history_days < 7:
        raise OutOfValidityRangeError(f"history_days={history_days!r} must be an integer >= 7 (the forecast "
                                      "needs at least a week of past)")
    step_s = float(check_range("step_min", step_min, 1.0 / 60.0, 1440.0, source="cellscape energy")) * 60.0
    options = EnergyOptions(step_s=step_s, threshold=threshold, neighbour_limit=neighbour_limit)
    report = progress or (lambda stage, done, total: None)
    timing = {}
    t0 = time.perf_counter()
    sc = sim.scenario
    grid, site_xy_m = simulation_grid(sim)
    if maps is None:
        footprints = load_footprints(sc, grid)
        maps = sector_maps(sc, grid, site_xy_m, footprints=footprints, terrain=terrain, backend=backend,
                           progress=lambda d, t: report("maps", d, t))
    timing["maps_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    rng = np.random.default_rng(np.random.SeedSequence([int(sim.seed), 1864]))
    net = flow_network_from_maps(maps, site_xy_m, demand_weights(sim, maps), n_points=n_points, rng=rng, scenario=sc)
    peak = busy_hour_loads(net, peak_load)
    types = cell_demand_of_simulation(sim, maps=maps).cell_type     # the forecast's rule (docs/forecast.md)
    sector_id = np.array([sec.sector_id for site in sc.sites for sec in site.sectors], dtype=str)
    history = generate_load_history(peak, types, n_days=int(history_days) + int(days), step_s=step_s,
                                    start=HISTORY_START, seed=int(sim.seed), cell_id=sector_id)
    timing["network_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()

    def forecast(past: np.ndarray, horizon: int) -> np.ndarray:
        return forecast_load(past, step_s=step_s, horizon_steps=horizon, model=forecast_model)

    result = simulate_energy(net, history.load, n_days=int(days), options=options, model=model, policies=policies,
                             forecast=forecast, history_days=int(history_days), progress=report)
    timing["simulate_s"] = time.perf_counter() - t2
    ts = history.timestamps()[-result.load.shape[0]:]
    meta = {"simulation": sim.name, "scenario": sc.name, "n_sectors": int(net.n_sectors), "n_points": int(net.n_points),
            "users": float(net.point_weight.sum()), "days": int(days), "step_min": step_s / 60.0,
            "history_days": int(history_days), "first_day": str(ts[0].astype("datetime64[D]")),
            "threshold": float(threshold), "neighbour_limit": float(neighbour_limit), "peak_load": float(peak_load),
            "forecast_model": forecast_model, "policies": list(result.runs), "pixel_m": float(grid.resolution_m),
            "timing_s": {k: round(v, 3) for k, v in timing.items()}}
    return EnergyRun(simulation=sim, network=net, history=history, result=result, timestamps=ts, sector_id=sector_id,
                     cell_type=types, peak_load=peak, meta=meta)


__all__ = ["EnergyRun", "busy_hour_loads", "demand_weights", "run_energy"]
