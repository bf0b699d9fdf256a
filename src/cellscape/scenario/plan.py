"""A network plan: what ``cellscape plan`` reads (docs/planning.md), validated into frozen records.

A plan file names a radio scenario (area, carrier, buildings, and the sites already standing) and
adds what planning needs: candidate sites, a demand layer, costs, targets, an optional budget, and
the fibre, tuning and solver options. :func:`parse_plan` checks every field once, with its path
(``plan.targets.coverage[1].fraction: ...``), like :func:`~cellscape.scenario.model.parse_scenario`.

Costs are in one currency unit the user chooses (``costs.unit``, reported as written); demand in
users, traffic in Mbit/s per user at the busy hour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field, ValidationError

from cellscape.errors import ScenarioError
from cellscape.scenario.model import (
    AntennaModelSpec,
    Bool,
    Float,
    Int,
    _Spec,
    _validation_message,
    estimate_pixels,
    is_geographic,
)
from cellscape.scenario.records import AntennaSpec, Scenario, Site

CoverageOf = Literal["area", "outdoor_area", "indoor_area", "demand", "outdoor_demand", "indoor_demand"]
"""What a coverage target counts: map area [m^2] or demand [users], all of it, outdoors or indoors."""

ExistingPolicy = Literal["keep", "upgrade", "ignore"]
"""The scenario's sites: ``keep`` (standing, no cost), ``upgrade`` (standing, each costs
``costs.upgrade``), ``ignore`` (greenfield: plan without them)."""

TuningKpi = Literal["sinr_p5", "covered_demand"]
"""What sector tuning raises: the 5th-percentile SINR over the demand-weighted pixels [dB], or
the demand with RSRP and SINR at their targets [users]."""


# ---------------------------------------------------------------------------------------------
# records


@dataclass(frozen=True)
class SectorTemplate:
    """The sectors a new (rooftop or grid) candidate gets: one per azimuth."""

    azimuths_deg: tuple[float, ...] = (0.0, 120.0, 240.0)
    tx_power_dbm: float = 46.0
    elec_tilt_deg: float = 6.0
    mech_tilt_deg: float = 0.0
    antenna: AntennaSpec = field(default_factory=lambda: AntennaSpec(n_rows=8))


@dataclass(frozen=True)
class RooftopOptions:
    """Roofs that take a mast (cellscape.geo.candidates.rooftop_candidates)."""

    min_roof_m: float = 15.0
    max_roof_m: float = 60.0
    min_area_m2: float = 200.0
    mast_m: float = 3.0
    min_spacing_m: float = 50.0


@dataclass(frozen=True)
class CandidateSources:
    """Where candidate sites come from; any combination. ``file``: a site file (CSV/GeoJSON, one row
    per sector, as ``sites_file``); ``rooftops``; ``grid_spacing_m``: a square grid over the area,
    masts ``grid_height_m`` above ground (skipping points inside buildings)."""

    file: str | None = None
    file_sites: tuple[Site, ...] = ()
    rooftops: RooftopOptions | None = None
    grid_spacing_m: float | None = None
    grid_height_m: float = 25.0
    sectors: SectorTemplate = field(default_factory=SectorTemplate)


@dataclass(frozen=True)
class Hotspot:
    """``users`` spread uniformly over a disk of ``radius_m`` around (x, y) in area.crs."""

    x: float
    y: float
    radius_m: float
    users: float


@dataclass(frozen=True)
class DemandLayer:
    """Users per pixel. ``outdoor_users_per_km2`` everywhere outdoors; indoors
    ``indoor_users_per_km2`` per floor (floors = building height / storey height, at least 1) when
    buildings are known; plus ``hotspots``; or a ``raster`` of users per pixel (GeoTIFF, resampled,
    counts preserved). ``rate_mbps``: busy-hour downlink traffic per user [Mbit/s]."""

    outdoor_users_per_km2: float = 1000.0
    indoor_users_per_km2: float = 2000.0
    hotspots: tuple[Hotspot, ...] = ()
    raster: str | None = None
    rate_mbps: float = 1.0


@dataclass(frozen=True)
class Costs:
    new_site: float = 100.0
    upgrade: float = 30.0
    fiber_per_km: float = 50.0
    unit: str = "kEUR"


@dataclass(frozen=True)
class CoverageTarget:
    of: CoverageOf
    fraction: float


@dataclass(frozen=True)
class Targets:
    """RSRP >= ``rsrp_dbm`` on the stated shares; SINR >= ``sinr_db`` on ``sinr_fraction`` of the
    demand; no sector over ``max_sector_load`` (share of its resources) at the busy hour."""

    rsrp_dbm: float = -105.0
    coverage: tuple[CoverageTarget, ...] = (CoverageTarget("outdoor_area", 0.95),)
    sinr_db: float | None = None
    sinr_fraction: float | None = None
    max_sector_load: float | None = None


@dataclass(frozen=True)
class FiberOptions:
    """Backhaul: ``data_centers`` fixed points (area.crs), or choose ``data_center_count`` among the
    chosen sites by ``data_center_objective``; ``ring``: 2-edge-connected; ``streets``: route along
    the scenario's OSM streets when it has them ("auto"), or straight lines x ``detour_factor``."""

    data_centers: tuple[tuple[float, float], ...] = ()
    data_center_count: int = 1
    data_center_objective: Literal["p_median", "p_center"] = "p_median"
    ring: bool = False
    streets: Literal["auto", "none"] = "auto"
    detour_factor: float = 1.3


@dataclass(frozen=True)
class TuningOptions:
    enabled: bool = False
    kpi: TuningKpi = "sinr_p5"
    max_evaluations: int = 60
    azimuth_step_deg: float = 20.0
    tilt_step_deg: float = 2.0
    power_step_db: float = 2.0


@dataclass(frozen=True)
class Plan:
    """Everything ``cellscape plan`` needs. ``scenario.sites`` are the sites already standing, or
    only those named in ``existing_sites`` (the others are then candidates at the new-site cost)."""

    name: str
    scenario: Scenario
    candidates: CandidateSources
    demand: DemandLayer = field(default_factory=DemandLayer)
    costs: Costs = field(default_factory=Costs)
    targets: Targets = field(default_factory=Targets)
    existing: ExistingPolicy = "keep"
    existing_sites: tuple[str, ...] | None = None
    budget: float | None = None
    phase_budget: float | None = None
    serving_candidates: int = 5
    capacity_rounds: int = 3
    fiber: FiberOptions = field(default_factory=FiberOptions)
    tuning: TuningOptions = field(default_factory=TuningOptions)
    time_limit_s: float = 120.0
    resolution_m: float | None = None


# ---------------------------------------------------------------------------------------------
# specs


class SectorTemplateSpec(_Spec):
    azimuths_deg: list[Float] = Field([0.0, 120.0, 240.0], min_length=1, max_length=12)
    tx_power_dbm: Float = Field(46.0, le=80.0)
    elec_tilt_deg: Float = Field(6.0, ge=-90.0, le=90.0)
    mech_tilt_deg: Float = Field(0.0, ge=-90.0, le=90.0)
    antenna: AntennaModelSpec | None = None


class RooftopSpec(_Spec):
    min_roof_m: Float = Field(15.0, ge=0.0)
    max_roof_m: Float = Field(60.0, gt=0.0)
    min_area_m2: Float = Field(200.0, ge=0.0)
    mast_m: Float = Field(3.0, ge=0.0, le=50.0)
    min_spacing_m: Float = Field(50.0, ge=0.0)


class GridSpec(_Spec):
    spacing_m: Float = Field(gt=0.0)
    height_m: Float = Field(25.0, gt=0.0, le=300.0)


class CandidatesSpec(_Spec):
    file: str | None = Field(None, min_length=1)
    rooftops: RooftopSpec | None = None
    grid: GridSpec | None = None
    sectors: SectorTemplateSpec | None = None


class HotspotSpec(_Spec):
    x: Float
    y: Float
    radius_m: Float = Field(gt=0.0)
    users: Float = Field(ge=0.0)


class DemandSpec(_Spec):
    outdoor_users_per_km2: Float = Field(1000.0, ge=0.0)
    indoor_users_per_km2: Float = Field(2000.0, ge=0.0)
    hotspots: list[HotspotSpec] = Field(default_factory=list)
    raster: str | None = Field(None, min_length=1)
    rate_mbps: Float = Field(1.0, ge=0.0, le=10_000.0)


class CostsSpec(_Spec):
    new_site: Float = Field(100.0, ge=0.0)
    upgrade: Float = Field(30.0, ge=0.0)
    fiber_per_km: Float = Field(50.0, ge=0.0)
    unit: str = Field("kEUR", min_length=1)


class CoverageTargetSpec(_Spec):
    of: CoverageOf
    fraction: Float = Field(ge=0.0, le=1.0)


class TargetsSpec(_Spec):
    rsrp_dbm: Float = Field(-105.0, ge=-160.0, le=0.0)
    coverage: list[CoverageTargetSpec] = Field(default_factory=lambda: [CoverageTargetSpec(of="outdoor_area",
                                                                                           fraction=0.95)])
    sinr_db: Float | None = Field(None, ge=-20.0, le=40.0)
    sinr_fraction: Float | None = Field(None, ge=0.0, le=1.0)
    max_sector_load: Float | None = Field(None, gt=0.0, le=1.0)


class FiberSpec(_Spec):
    data_centers: list[list[Float]] = Field(default_factory=list)
    data_center_count: Int = Field(1, ge=1, le=100)
    data_center_objective: Literal["p_median", "p_center"] = "p_median"
    ring: Bool = False
    streets: Literal["auto", "none"] = "auto"
    detour_factor: Float = Field(1.3, ge=1.0, le=5.0)


class TuningSpec(_Spec):
    enabled: Bool = True
    kpi: TuningKpi = "sinr_p5"
    max_evaluations: Int = Field(60, ge=1, le=10_000)
    azimuth_step_deg: Float = Field(20.0, gt=0.0, le=180.0)
    tilt_step_deg: Float = Field(2.0, gt=0.0, le=30.0)
    power_step_db: Float = Field(2.0, gt=0.0, le=20.0)


class PlanSpec(_Spec):
    """The ``plan:`` block of a plan file (docs/planning.md)."""

    existing: Literal["keep", "upgrade", "ignore"] = "keep"
    existing_sites: list[str] | None = None
    candidates: CandidatesSpec
    demand: DemandSpec | None = None
    costs: CostsSpec | None = None
    targets: TargetsSpec | None = None
    budget: Float | None = Field(None, ge=0.0)
    phase_budget: Float | None = Field(None, gt=0.0)
    serving_candidates: Int = Field(5, ge=1, le=50)
    capacity_rounds: Int = Field(3, ge=1, le=20)
    fiber: FiberSpec | None = None
    tuning: TuningSpec | None = None
    time_limit_s: Float = Field(120.0, gt=0.0, le=86_400.0)
    resolution_m: Float | None = Field(None, gt=0.0, description="Planning grid pixel [m]; default the scenario's.")


class _PlanRoot(_Spec):
    plan: PlanSpec


def parse_plan(data: Mapping[str, Any], scenario: Scenario, *, file_sites: tuple[Site, ...] = ()) -> Plan:
    """Validate the ``plan:`` block of a plan file against its radio ``scenario``.

    ``data``: the whole file as a mapping (only ``plan`` is read here; the scenario keys were parsed
    by :func:`~cellscape.scenario.model.parse_scenario`). Paths (candidate file, demand raster) are
    taken as given: :func:`cellscape.io.scenario_yaml.load_plan` resolves them against the file and
    reads the candidate file into ``file_sites`` (validated site records).

    Raises
    ------
    ScenarioError
        With the field path, e.g. ``plan.targets.coverage[0].fraction: Input should be less than or
        equal to 1, got 1.5``.
    """
    if not isinstance(data, Mapping) or "plan" not in data:
        raise ScenarioError("plan: a plan file needs a plan: block (candidates, demand, costs, targets)")
    try:
        spec = _PlanRoot.model_validate({"plan": data["plan"]}).plan
    except ValidationError as exc:
        raise ScenarioError(_validation_message(exc, _PlanRoot)) from None
    c = spec.candidates
    if c.file is None and c.rooftops is None and c.grid is None and spec.existing_sites is None:
        raise ScenarioError("plan.candidates: give at least one of file, rooftops, grid")
    if spec.existing_sites is not None:
        ids = {s.site_id for s in scenario.sites}
        for i, sid in enumerate(spec.existing_sites):
            if sid not in ids:
                raise ScenarioError(f"plan.existing_sites[{i}]: no site {sid!r} in the scenario")
    if c.rooftops is not None and scenario.buildings is None:
        raise ScenarioError("plan.candidates.rooftops: rooftop candidates need the scenario's buildings: block")
    if c.rooftops is not None and c.rooftops.max_roof_m <= c.rooftops.min_roof_m:
        raise ScenarioError(f"plan.candidates.rooftops.max_roof_m: must exceed min_roof_m "
                            f"({c.rooftops.min_roof_m:g}), got {c.rooftops.max_roof_m:g}")
    if c.grid is not None:
        n = estimate_pixels(scenario.area.bounds, c.grid.spacing_m, crs=scenario.area.crs)
        if n > 100_000:
            raise ScenarioError(f"plan.candidates.grid.spacing_m: about {n:.3g} grid candidates (limit 100000); "
                                f"use a larger spacing, got {c.grid.spacing_m:g}")
    t = spec.targets or TargetsSpec()
    if (t.sinr_db is None) != (t.sinr_fraction is None):
        raise ScenarioError("plan.targets.sinr_fraction: give sinr_db and sinr_fraction together")
    seen = set()
    for i, ct in enumerate(t.coverage):
        if ct.of in seen:
            raise ScenarioError(f"plan.targets.coverage[{i}].of: duplicate target for {ct.of!r}")
        seen.add(ct.of)
    fb = spec.fiber or FiberSpec()
    for i, p in enumerate(fb.data_centers):
        if len(p) != 2:
            raise ScenarioError(f"plan.fiber.data_centers[{i}]: expected [x, y] in area.crs, got {p}")
        _check_inside(scenario, p[0], p[1], f"plan.fiber.data_centers[{i}]")
    d = spec.demand or DemandSpec()
    for i, h in enumerate(d.hotspots):
        _check_inside(scenario, h.x, h.y, f"plan.demand.hotspots[{i}]")
    return _to_plan(data.get("name", scenario.name), scenario, spec, file_sites)


def _check_inside(scenario: Scenario, x: float, y: float, path: str) -> None:
    xmin, ymin, xmax, ymax = scenario.area.bounds
    if not (xmin <= x <= xmax and ymin <= y <= ymax):
        kind = "lon/lat" if is_geographic(scenario.area.crs) else scenario.area.crs
        raise ScenarioError(f"{path}: ({x:g}, {y:g}) lies outside area.bounds {list(scenario.area.bounds)} ({kind})")


def _to_plan(name: str, scenario: Scenario, spec: PlanSpec, file_sites: tuple[Site, ...]) -> Plan:
    c = spec.candidates
    tpl = c.sectors or SectorTemplateSpec()
    # the scenario's antenna keys; a template's panel defaults to 8 rows (a macro panel), not 1
    given = {} if tpl.antenna is None else {k: getattr(tpl.antenna, k) for k in tpl.antenna.model_fields_set}
    template = SectorTemplate(
        azimuths_deg=tuple(float(a) % 360.0 for a in tpl.azimuths_deg), tx_power_dbm=float(tpl.tx_power_dbm),
        elec_tilt_deg=float(tpl.elec_tilt_deg), mech_tilt_deg=float(tpl.mech_tilt_deg),
        antenna=AntennaSpec(**{"n_rows": SectorTemplate().antenna.n_rows, **given}))
    roof = None
    if c.rooftops is not None:
        roof = RooftopOptions(**{k: float(getattr(c.rooftops, k)) for k in type(c.rooftops).model_fields})
    cands = CandidateSources(file=c.file, file_sites=tuple(file_sites), rooftops=roof,
                             grid_spacing_m=float(c.grid.spacing_m) if c.grid else None,
                             grid_height_m=float(c.grid.height_m) if c.grid else 25.0, sectors=template)
    d = spec.demand or DemandSpec()
    demand = DemandLayer(outdoor_users_per_km2=float(d.outdoor_users_per_km2),
                         indoor_users_per_km2=float(d.indoor_users_per_km2),
                         hotspots=tuple(Hotspot(float(h.x), float(h.y), float(h.radius_m), float(h.users))
                                        for h in d.hotspots),
                         raster=d.raster, rate_mbps=float(d.rate_mbps))
    k = spec.costs or CostsSpec()
    t = spec.targets or TargetsSpec()
    targets = Targets(rsrp_dbm=float(t.rsrp_dbm),
                      coverage=tuple(CoverageTarget(ct.of, float(ct.fraction)) for ct in t.coverage),
                      sinr_db=None if t.sinr_db is None else float(t.sinr_db),
                      sinr_fraction=None if t.sinr_fraction is None else float(t.sinr_fraction),
                      max_sector_load=None if t.max_sector_load is None else float(t.max_sector_load))
    fb = spec.fiber or FiberSpec()
    fiber = FiberOptions(data_centers=tuple((float(p[0]), float(p[1])) for p in fb.data_centers),
                         data_center_count=int(fb.data_center_count), data_center_objective=fb.data_center_objective,
                         ring=bool(fb.ring), streets=fb.streets, detour_factor=float(fb.detour_factor))
    tu = spec.tuning
    tuning = TuningOptions() if tu is None else TuningOptions(
        enabled=bool(tu.enabled), kpi=tu.kpi, max_evaluations=int(tu.max_evaluations),
        azimuth_step_deg=float(tu.azimuth_step_deg), tilt_step_deg=float(tu.tilt_step_deg),
        power_step_db=float(tu.power_step_db))
    return Plan(name=str(name), scenario=scenario, candidates=cands, demand=demand,
                costs=Costs(float(k.new_site), float(k.upgrade), float(k.fiber_per_km), k.unit), targets=targets,
                existing=spec.existing,
                existing_sites=None if spec.existing_sites is None else tuple(spec.existing_sites), budget=None if spec.budget is None else float(spec.budget),
                phase_budget=None if spec.phase_budget is None else float(spec.phase_budget),
                serving_candidates=int(spec.serving_candidates), capacity_rounds=int(spec.capacity_rounds), fiber=fiber, tuning=tuning,
                time_limit_s=float(spec.time_limit_s),
                resolution_m=None if spec.resolution_m is None else float(spec.resolution_m))
