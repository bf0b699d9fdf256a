"""The simulation job (``cellscape simulate``): simulation file -> geometry (grid, sites, buildings,
streets) -> per-sector maps from the coverage engine (one per device height) -> the system-level
simulator (cellscape.simulation.engine). No file is written here: ``cellscape.io`` writes results.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from cellscape.coverage.engine import Backend, SectorMaps, sector_maps
from cellscape.geo.grid import RasterGrid, grid_for_bounds, transform_xy
from cellscape.geo.surface import Terrain
from cellscape.pipeline.coverage import load_footprints, localize
from cellscape.scenario.simulation import Simulation
from cellscape.simulation.engine import SimulationResult, run_simulation
from cellscape.simulation.iot import IotEvaluation, evaluate_iot

Stage = Callable[[str, int, int], None]
"""progress(stage, done, total): 'maps' (tiles of each height) then 'slots' (measurement steps)."""


@dataclass(frozen=True)
class SimulationRun:
    """A finished simulation job: the result, the maps it ran on, the buildings (for plots) and the
    massive-IoT evaluation (None unless ``simulation.iot.enabled``)."""

    simulation: Simulation
    result: SimulationResult
    maps: dict[float, SectorMaps]
    footprints: object | None
    iot: IotEvaluation | None = None


def simulation_grid(sim: Simulation) -> tuple[RasterGrid, np.ndarray]:
    """The grid the simulation's maps are computed on (the scenario's, or ``resolution_m``) and the
    site positions in it [m]."""
    grid, site_xy_m = localize(sim.scenario)
    if sim.resolution_m is not None:
        a = sim.scenario.area
        grid = grid_for_bounds(a.bounds, crs=a.crs, resolution_m=sim.resolution_m)
    return grid, site_xy_m


def device_heights(sim: Simulation) -> list[float]:
    """The distinct heights of the devices of the user groups [m]."""
    return sorted({float(sim.devices[g.device].height_m) for g in sim.users})


def _street_graph(sim: Simulation, grid: RasterGrid):
    if not any(g.mobility.model == "streets" for g in sim.users):
        return None
    b = sim.scenario.buildings
    if b is None or b.kind != "osm_pbf":
        return None                                      # random waypoint, as documented
    from cellscape.geo.streets import load_streets, street_graph

    walking = any(g.mobility.model == "streets" and sim.devices[g.device].name != "vehicle" for g in sim.users)
    lines = load_streets(b.path, crs=grid.crs, bounds_m=grid.bounds_m, network_type="walking" if walking else "driving")
    return street_graph(lines)


def run_simulate(sim: Simulation, *, terrain: Terrain | None = None, demand: dict[str, np.ndarray] | None = None,
                 backend: Backend = "numba", progress: Stage | None = None) -> SimulationRun:
    """Run a simulation: maps of every sector at each device height, then the simulator.

    ``demand``: users per pixel of :func:`simulation_grid` per group name (raster drops), read at
    the edge (``cellscape.io.demand.read_demand_raster``).
    """
    sc = sim.scenario
    grid, site_xy_m = simulation_grid(sim)
    footprints = load_footprints(sc, grid)

    def maps_at(h: float, fc_ghz: float, label: str) -> SectorMaps:
        scen = sc
        if h != sc.receiver.height_m:
            scen = replace(scen, receiver=replace(scen.receiver, height_m=h))
        if fc_ghz != sc.carrier.fc_ghz:
            scen = replace(scen, carrier=replace(scen.carrier, fc_ghz=fc_ghz))
        return sector_maps(scen, grid, site_xy_m, footprints=footprints, terrain=terrain, backend=backend,
                           progress=None if progress is None else (lambda d, t: progress(label, d, t)))

    maps = {h: maps_at(h, sc.carrier.fc_ghz, f"maps {h:g} m") for h in device_heights(sim)}
    hotspots = {}
    for g in sim.users:
        if g.drop.hotspots:
            hx, hy = transform_xy(np.array([p.x for p in g.drop.hotspots]), np.array([p.y for p in g.drop.hotspots]),
                                  src_crs=sc.area.crs, dst_crs=grid.crs)
            hotspots[g.name] = [(float(a), float(b), p.radius_m, p.weight) for a, b, p in zip(hx, hy, g.drop.hotspots)]
    graph = _street_graph(sim, grid)
    result = run_simulation(sim, maps, street_graph=graph, demand=demand, hotspots_m=hotspots,
                            progress=None if progress is None else (lambda d, t: progress("slots", d, t)))
    iot = None
    if sim.iot.enabled:
        dev = sim.devices[sim.iot.device]
        fc = sim.iot.fc_ghz if sim.iot.fc_ghz is not None else sc.carrier.fc_ghz
        h = float(dev.height_m)
        m = maps[h] if (fc == sc.carrier.fc_ghz and h in maps) else maps_at(h, fc, f"IoT maps {fc:g} GHz")
        iot = evaluate_iot(sim.iot, m.rsrp_dbm, m.tx_power_per_re_dbm, m.indoor, pixel_area_m2=grid.resolution_m ** 2,
                           device=dev, receiver_gain_dbi=sc.receiver.antenna_gain_dbi,
                           gnb_noise_figure_db=sim.uplink.gnb_noise_figure_db,
                           gnb_rx_branches=sim.uplink.gnb_rx_branches, fc_ghz=fc, seed=sim.seed)
        result = replace(result, summary={**result.summary, **iot_summary_fields(iot)})
    return SimulationRun(simulation=sim, result=result, maps=maps, footprints=footprints, iot=iot)


def iot_summary_fields(iot: IotEvaluation) -> dict:
    """What the IoT evaluation adds to ``summary.json``: the access success rate at the configured
    density (share of reports whose random access succeeded, devices beyond the MCL counted as
    failures) and the whole evaluation under ``iot``."""
    return {"iot_access_success_rate": iot.run.access_success_rate, "iot": iot.summary()}


__all__ = ["SimulationRun", "device_heights", "run_simulate", "simulation_grid"]
