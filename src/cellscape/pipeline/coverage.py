"""The coverage job (``cellscape run``, ``validate``, ``candidates``): scenario -> geometry (grid,
sites, buildings in a local metric CRS) -> coverage engine (propagation, antenna, link budget per
tile) -> KPIs. No file is written here: ``cellscape.io`` writes results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cellscape.coverage.engine import Backend, Progress, compute_coverage
from cellscape.coverage.result import CoverageResult
from cellscape.coverage.tables import distance_tables
from cellscape.errors import GeometryError
from cellscape.geo.grid import RasterGrid, grid_for_bounds, transform_xy
from cellscape.geo.surface import Terrain
from cellscape.kpi import coverage_kpis
from cellscape.radio.nr import resolve_n_prb
from cellscape.scenario.records import Scenario


@dataclass(frozen=True)
class CoverageRun:
    """A finished coverage job: the maps, their KPIs and the geometry they were computed on."""

    scenario: Scenario
    result: CoverageResult
    kpis: dict
    footprints: object | None      # building polygons in the grid CRS (for plots), or None


def localize(scenario: Scenario) -> tuple[RasterGrid, np.ndarray]:
    """The map grid in its local metric CRS and the site positions in it, shape (n_sites, 2) [m]."""
    area = scenario.area
    grid = grid_for_bounds(area.bounds, crs=area.crs, resolution_m=area.resolution_m)
    x = np.array([s.x for s in scenario.sites], dtype=float)
    y = np.array([s.y for s in scenario.sites], dtype=float)
    xm, ym = transform_xy(x, y, src_crs=area.crs, dst_crs=grid.crs)
    return grid, np.column_stack([xm, ym])


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


def run_coverage(scenario: Scenario, *, terrain: Terrain | None = None, backend: Backend = "numba",
                 progress: Progress | None = None) -> CoverageRun:
    """Maps and KPIs of a scenario.

    ``terrain``: the DEM the scenario's ``terrain`` block names, read at the edge
    (``cellscape.io.terrain.read_terrain``); required when the scenario has one.
    """
    if scenario.terrain is not None and terrain is None:
        raise GeometryError(f"the scenario names terrain {scenario.terrain.path}; read it with "
                            f"cellscape.io.terrain.read_terrain and pass terrain=")
    grid, site_xy_m = localize(scenario)
    footprints = load_footprints(scenario, grid)
    result = compute_coverage(scenario, grid, site_xy_m, footprints=footprints, terrain=terrain, backend=backend,
                              progress=progress)
    kpis = coverage_kpis(result, rsrp_thresholds_dbm=scenario.rsrp_thresholds_dbm)
    return CoverageRun(scenario=scenario, result=result, kpis=kpis, footprints=footprints)


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
