"""The coverage job (``cellscape run``, ``validate``, ``candidates``): scenario -> geometry (grid,
sites, buildings in a local metric CRS) -> coverage engine (propagation, antenna, link budget per
tile) -> KPIs. No file is written here: ``cellscape.io`` writes results.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from cellscape.coverage.engine import Backend, Progress, compute_coverage
from cellscape.coverage.result import CoverageResult
from cellscape.coverage.uplink import UplinkResult, uplink_coverage
from cellscape.coverage.tables import distance_tables
from cellscape.errors import GeometryError, ScenarioError
from cellscape.geo.grid import RasterGrid, grid_for_bounds, transform_xy
from cellscape.geo.surface import Terrain
from cellscape.kpi import coverage_kpis, uplink_kpis
from cellscape.radio.nr import device_n_prb, frequency_range, resolve_n_prb
from cellscape.radio.throughput import downlink_throughput_bps
from cellscape.scenario.devices import DeviceProfile
from cellscape.scenario.records import Scenario


@dataclass(frozen=True)
class CoverageRun:
    """A finished coverage job: the maps, their KPIs and the geometry they were computed on."""

    scenario: Scenario
    result: CoverageResult
    kpis: dict
    footprints: object | None      # building polygons in the grid CRS (for plots), or None
    uplink: UplinkResult | None = None
    device: str | None = None      # the device profile the maps were computed for (None: the receiver)


def localize(scenario: Scenario) -> tuple[RasterGrid, np.ndarray]:
    """The map grid in its local metric CRS and the site positions in it, shape (n_sites, 2) [m]."""
    area = scenario.area
    grid = grid_for_bounds(area.bounds, crs=area.crs, resolution_m=area.resolution_m)
    return grid, site_positions_m([s.x for s in scenario.sites], [s.y for s in scenario.sites], scenario, grid)


def site_positions_m(x, y, scenario: Scenario, grid: RasterGrid) -> np.ndarray:
    """Site positions ``x``, ``y`` in the scenario's ``area.crs`` -> the grid CRS, shape (n_sites, 2) [m]."""
    xm, ym = transform_xy(np.asarray(x, dtype=float), np.asarray(y, dtype=float), src_crs=scenario.area.crs,
                          dst_crs=grid.crs)
    return np.column_stack([xm, ym])


def load_footprints(scenario: Scenario, grid: RasterGrid):
    """Buildings of the scenario in the grid CRS (GeoDataFrame: ``geometry``, ``height_m``), or
    None when it names none."""
    if scenario.buildings is None:
        return None
    from cellscape.geo.buildings import load_buildings

    return load_buildings(scenario.buildings, crs=grid.crs)


def check_scenario(scenario: Scenario) -> dict:
    """Checks that need more than the file itself (the carrier's PRB count from TS 38.101, the
    projection of the area, antenna and UT heights and fc against the TR 38.901 validity ranges of
    each site's environment); returns a short summary for the CLI's ``validate``."""
    grid, _ = localize(scenario)
    # the model tables of every site environment: raises on heights or fc outside TR 38.901's ranges
    distance_tables([s.environment or scenario.environment for s in scenario.sites],
                    [s.height_m for s in scenario.sites], h_ut_m=scenario.receiver.height_m,
                    fc_ghz=scenario.carrier.fc_ghz, max_d2d_m=100.0)
    return {"name": scenario.name, "sites": len(scenario.sites), "sectors": scenario.n_sectors,
            "crs": grid.crs, "pixels": f"{grid.n_rows} x {grid.n_cols}", "n_prb": resolve_n_prb(scenario.carrier)}


def for_device(scenario: Scenario, device: DeviceProfile) -> Scenario:
    """The scenario with its receiver replaced by a device profile's height, noise figure, antenna
    gain and maximum power (the O2I model and indoor share stay the scenario's).

    Raises
    ------
    ScenarioError
        For NB-IoT and LTE-M devices: their narrow-band carrier is not the scenario's NR carrier.
    """
    if device.category != "nr":
        raise ScenarioError(f"--device {device.name}: a {device.category} device is served on its own narrow-band "
                            f"carrier, not on the scenario's NR carrier; choose an NR device "
                            f"(smartphone, redcap, cpe, vehicle)")
    rx = replace(scenario.receiver, height_m=device.height_m, noise_figure_db=device.noise_figure_db,
                 antenna_gain_dbi=device.antenna_gain_dbi, max_tx_power_dbm=device.max_tx_power_dbm)
    return replace(scenario, receiver=rx)


def device_prbs(device: DeviceProfile | None, scenario: Scenario) -> int:
    """PRBs a device can use on the scenario's carrier: the carrier's, or fewer for a narrower
    device (RedCap: 20 MHz; TS 38.101-1 Table 5.3.2-1 at the carrier's SCS)."""
    n_prb = resolve_n_prb(scenario.carrier)
    if device is None or device.max_bandwidth_mhz is None or device.max_bandwidth_mhz >= scenario.carrier.bandwidth_mhz:
        return n_prb
    return device_n_prb(device.max_bandwidth_mhz, n_prb, scenario.carrier.scs_khz,
                        frequency_range=frequency_range(scenario.carrier.fc_ghz))


def run_coverage(scenario: Scenario, *, terrain: Terrain | None = None, backend: Backend = "numba",
                 progress: Progress | None = None, device: DeviceProfile | None = None) -> CoverageRun:
    """Maps and KPIs of a scenario, downlink and uplink.

    ``terrain``: the DEM the scenario's ``terrain`` block names, read at the edge
    (``cellscape.io.terrain.read_terrain``); required when the scenario has one. ``device``: compute
    the maps for this device profile (:func:`for_device`); a device narrower than the carrier
    (RedCap) gets the throughput of its own PRBs.
    """
    if scenario.terrain is not None and terrain is None:
        raise GeometryError(f"the scenario names terrain {scenario.terrain.path}; read it with "
                            f"cellscape.io.terrain.read_terrain and pass terrain=")
    if device is not None:
        scenario = for_device(scenario, device)
    grid, site_xy_m = localize(scenario)
    footprints = load_footprints(scenario, grid)
    result = compute_coverage(scenario, grid, site_xy_m, footprints=footprints, terrain=terrain, backend=backend,
                              progress=progress)
    n_dev = device_prbs(device, scenario)
    if n_dev < result.meta["n_prb"]:
        fr = frequency_range(scenario.carrier.fc_ghz)
        result = replace(result, throughput_bps=downlink_throughput_bps(result.sinr_db, n_dev, scenario.carrier.scs_khz,
                                                                        frequency_range=fr),
                         meta={**result.meta, "device": device.name, "device_n_prb": n_dev})
    elif device is not None:
        result = replace(result, meta={**result.meta, "device": device.name})
    ul_scenario = scenario
    if n_dev < result.meta["n_prb"] and scenario.uplink.n_prb is None:
        ul_scenario = replace(scenario, uplink=replace(scenario.uplink, n_prb=n_dev))
    uplink = uplink_coverage(ul_scenario, result)
    kpis = coverage_kpis(result, rsrp_thresholds_dbm=scenario.rsrp_thresholds_dbm)
    kpis["uplink"] = uplink_kpis(uplink, result)
    return CoverageRun(scenario=scenario, result=result, kpis=kpis, footprints=footprints, uplink=uplink,
                       device=None if device is None else device.name)


def rooftop_candidates(scenario: Scenario, *, min_roof_m: float = 15.0, max_roof_m: float = 60.0,
                       min_area_m2: float = 200.0, mast_m: float = 3.0, min_spacing_m: float = 0.0,
                       footprints=None):
    """Rooftop candidate sites on the scenario's buildings inside its map area.

    Returns the candidates (:func:`cellscape.geo.candidates.rooftop_candidates`, in the grid CRS)
    with ``x`` and ``y`` columns added in the scenario's ``area.crs`` (ready for a site file).
    ``footprints``: the scenario's buildings already loaded in the grid CRS (else loaded here).
    """
    from cellscape.geo.candidates import rooftop_candidates as candidates_on

    if scenario.buildings is None:
        raise GeometryError("the scenario has no buildings: block; rooftop candidates come from buildings")
    grid, _ = localize(scenario)
    if footprints is None:
        footprints = load_footprints(scenario, grid)
    found = candidates_on(footprints, min_roof_m=min_roof_m, max_roof_m=max_roof_m,
                          min_area_m2=min_area_m2, mast_m=mast_m, min_spacing_m=min_spacing_m,
                          bounds_m=grid.bounds_m)
    x, y = transform_xy(found.geometry.x.to_numpy(), found.geometry.y.to_numpy(), src_crs=grid.crs,
                        dst_crs=scenario.area.crs)
    return found.assign(x=x, y=y)
