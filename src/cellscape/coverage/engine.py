"""The map engine: the single tile loop from a scenario to best-server maps.

For every pixel of a :class:`~cellscape.geo.grid.RasterGrid` and every sector: TR 38.901 path loss
(LOS or NLOS per the scenario's LOS mode), shadow fading, building entry loss, sector antenna gain,
RSRP per resource element, then best server and SINR with load-weighted interference, and the
downlink throughput of the best server.

Memory stays bounded: the map is cut into row tiles whose per-site working arrays fit in
``scenario.mem_limit_mb``; only the (n_rows, n_cols) output maps span the whole grid. Each tile is
a pure function of the scenario, the tile window and the seed: random fields are drawn once, on
global coordinates (propagation/shadowing.py), so tiles can run in any order or place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
import copy
import math
from typing import Literal

import numpy as np

from cellscape._validate import check_choice
from cellscape.coverage import background, cutoff, tables
from cellscape.coverage.backends._inputs import KernelStatic, KernelTile
from cellscape.coverage.result import CoverageResult, SectorTable
from cellscape.errors import GeometryError
from cellscape.geo.grid import RasterGrid, Window, square_blocks
from cellscape.geo.surface import Surface, Terrain, aligned_grid, check_terrain_covers, link_extent_m, surface_on
from cellscape.propagation import tr38901
from cellscape.propagation.o2i import o2i_building_loss_db
from cellscape.propagation.shadowing import SiteFields, site_fields
from cellscape.radio.link_budget import noise_per_re_dbm, tx_power_per_re_dbm
from cellscape.radio.nr import frequency_range, resolve_n_prb
from cellscape.radio.throughput import downlink_throughput_bps
from cellscape.scenario.records import Scenario
from cellscape.units import db_to_lin, dbm_to_mw

Backend = Literal["numpy", "numba"]
BACKENDS: tuple[str, ...] = ("numpy", "numba")
LOS_MODE_CODES = {"statistical": 0, "los": 1, "nlos": 2, "geometric": 3}

NU_INF = 1e30
"""Finite stand-in for an infinite Bullington parameter in the kernels' input (fastmath)."""

LOS_STATS_BIN_M = 10.0
"""Width of the 2-D distance bins of the empirical LOS probability of geometric runs [m]."""

Progress = Callable[[int, int], None]
"""progress(tiles_done, tiles_total), called after each tile."""

# working bytes per pixel per site a backend holds for one tile (fields + temporaries)
_BYTES_PER_PIXEL_SITE = {"numba": 8.0, "numpy": 160.0}
_BYTES_PER_PIXEL_SITE_GEOMETRIC = 12.0   # + nu (float32) and the link distances of the LOS statistics (float32)

CUTOFF_BLOCK_SIDE_M = 5000.0
"""With the interference cutoff on, a map wider or taller than this is cut into square blocks of at
most this side (and at least CUTOFF_BLOCK_MIN_PX pixels; within the memory budget), not full-width
rows: a compact tile keeps only the sites near it (cellscape.coverage.cutoff). Smaller maps keep the
tiling of the full sum, so a city map's tiles do not change [m]."""
CUTOFF_BLOCK_MIN_PX = 32
"""Smallest side of a cutoff block [pixels]: below it the per-tile work (index query, bounds, field
set-up) outweighs what a tighter selection saves."""
CUTOFF_BLOCKS_MIN_SAVING = 0.25
"""Blocks replace the full sum's tiling only if they should leave out at least this fraction of the
site-pixels (cellscape.coverage.cutoff.kept_fraction_estimate)."""


def _kernel(backend: str):
    check_choice("backend", backend, BACKENDS)
    if backend == "numba":
        from cellscape.coverage.backends import numba_kernel   # imports numba only here
        return numba_kernel.tile_kernel
    from cellscape.coverage.backends import numpy_kernel
    return numpy_kernel.tile_kernel


@dataclass
class GeometricLinks:
    """What ``los_mode: geometric`` needs per tile: the buildings and terrain, the antennas'
    absolute heights, the march options, and the height surface (one for the whole run when it
    fits a quarter of the memory budget, else one per tile)."""

    buildings: object | None
    terrain: Terrain | None
    site_xyz_m: np.ndarray          # (n_sites, 3): x, y, ground + antenna height
    range_m: float
    need_nu: bool
    fc_ghz: float
    h_ut_m: float
    surface_budget_mb: float
    _surface: Surface | None = field(default=None, repr=False)

    def surface_for(self, grid: RasterGrid, window: Window) -> Surface:
        """A surface holding every link of ``window``.

        One surface for the whole run when it fits a quarter of the memory budget (8 bytes a
        pixel). Otherwise the window grown by the LOS range (every link a block marches lies in
        it), cut to the run's extent and stretched eastwards, the direction blocks are visited in,
        as far as that budget allows; it is kept while the next blocks fit inside it.
        """
        sites = self.site_xyz_m[:, :2]
        max_pixels = self.surface_budget_mb * 1e6 / 8.0
        full = aligned_grid(grid, link_extent_m(grid, grid.full_window, sites, self.range_m))
        if full.n_pixels <= max_pixels:
            need = full
        else:
            res = grid.resolution_m
            fx0, fy0, fx1, fy1 = full.bounds_m
            x0 = grid.x_min_m + window.col_start * res - self.range_m
            x1 = grid.x_min_m + window.col_stop * res + self.range_m
            y1 = grid.y_max_m - window.row_start * res + self.range_m
            y0 = grid.y_max_m - window.row_stop * res - self.range_m
            need = aligned_grid(grid, (max(x0, fx0), max(y0, fy0), min(x1, fx1), min(y1, fy1)))
        if self._surface is not None and _contains(self._surface.grid, need):
            return self._surface
        target = need
        if need is not full:
            east_cols = int(round((full.bounds_m[2] - need.x_min_m) / need.resolution_m))
            cols = max(need.n_cols, min(int(max_pixels // need.n_rows), east_cols))
            target = RasterGrid(need.crs, x_min_m=need.x_min_m, y_max_m=need.y_max_m, resolution_m=need.resolution_m,
                                n_rows=need.n_rows, n_cols=cols)
        self._surface = surface_on(target, buildings=self.buildings, terrain=self.terrain)
        return self._surface


def _contains(outer: RasterGrid, inner: RasterGrid) -> bool:
    """Whether the aligned grid ``inner`` lies within ``outer``."""
    ox0, oy0, ox1, oy1 = outer.bounds_m
    ix0, iy0, ix1, iy1 = inner.bounds_m
    eps = 1e-6 * outer.resolution_m
    return ix0 >= ox0 - eps and iy0 >= oy0 - eps and ix1 <= ox1 + eps and iy1 <= oy1 + eps


def _geometric_links(scenario: Scenario, grid: RasterGrid, site_xy_m: np.ndarray, footprints,
                     terrain: Terrain | None, h_bs_m: np.ndarray, budget_mb: float) -> GeometricLinks:
    if footprints is not None and "height_m" not in getattr(footprints, "columns", ()):
        raise GeometryError("los_mode geometric needs building heights: pass the GeoDataFrame of load_buildings "
                            "(with its height_m column), not bare footprints")
    if footprints is None and terrain is None:
        raise GeometryError("los_mode geometric needs buildings or terrain; the scenario has neither")
    ground = np.zeros(len(h_bs_m))
    if terrain is not None:
        check_terrain_covers(terrain, grid)
        terrain = terrain.filled()
        ground = terrain.sample_m(site_xy_m[:, 0], site_xy_m[:, 1], crs=grid.crs)
    site_xyz = np.column_stack([site_xy_m, ground + h_bs_m])
    opts = scenario.geometry
    return GeometricLinks(buildings=footprints, terrain=terrain, site_xyz_m=site_xyz, range_m=opts.los_range_m,
                          need_nu=opts.diffraction != "none", fc_ghz=scenario.carrier.fc_ghz,
                          h_ut_m=scenario.receiver.height_m, surface_budget_mb=budget_mb / 4.0)


@dataclass(frozen=True)
class PreparedRun:
    """Everything a tile needs besides its window: the static kernel inputs, the random fields,
    the building footprints (grid CRS) and facts for the result."""

    scenario: Scenario
    grid: RasterGrid
    static: KernelStatic
    fields: SiteFields
    footprints: object | None
    n_prb: int
    sectors: SectorTable
    meta: dict
    geometric: GeometricLinks | None = None
    network: "NetworkContext | None" = None      # the whole network, when these sites are part of one


def _max_link_distance_m(grid: RasterGrid, site_x: np.ndarray, site_y: np.ndarray) -> float:
    xmin, ymin, xmax, ymax = grid.bounds_m
    far_x = np.maximum(np.abs(site_x - xmin), np.abs(site_x - xmax))
    far_y = np.maximum(np.abs(site_y - ymin), np.abs(site_y - ymax))
    return float(np.max(np.hypot(far_x, far_y))) + grid.resolution_m


def site_kinds(environments, heights_m) -> np.ndarray:
    """Each site's kind: the rank of its (environment, height) among the distinct pairs, sorted (the
    same numbering for a network and any part holding every pair). Sites of a kind share a row of
    the distance tables (:func:`prepare`) and the interference cutoff's far-field bound."""
    env = np.asarray(environments, dtype=str)
    h = np.asarray(heights_m, dtype=float)
    _, env_code = np.unique(env, return_inverse=True)
    _, kind = np.unique(np.column_stack([env_code.astype(float), h]), axis=0, return_inverse=True)
    return kind.reshape(-1).astype(np.int64)


@dataclass(frozen=True)
class NetworkContext:
    """What a run over a subset of a larger network shares with the whole network, so that every
    site of the subset gets the values it has in the whole network's run: the distance tables'
    extent ``max_d2d_m`` (the tables' nodes), the common shadowing field's decorrelation distance
    (the largest of all the network's sites; None without shadow fading) and the network's far
    field (the interference cutoff's, :class:`cellscape.coverage.cutoff.FarField`; None: no cutoff).
    With it, a tile computed from the sites within its far radius is the tile of the whole network
    (cellscape.pipeline.national)."""

    max_d2d_m: float
    sf_common_decorrelation_m: float | None
    far: cutoff.FarField | None = None
    background: background.BackgroundRaster | None = None   # mode "background": the raster of the part's area
    far_certify: cutoff.FarField | None = None   # mode "background": the far field of cutoff.certify_index


def network_context(scenario: Scenario, grid: RasterGrid, site_xy_m: np.ndarray, environments) -> NetworkContext:
    """The :class:`NetworkContext` of a whole network, less its far field: ``site_xy_m`` (n_sites, 2)
    in ``grid.crs`` [m], ``environments`` the environment of each site ("" or None: the scenario's;
    the distinct ones are enough: only the largest SF decorrelation distance matters)."""
    xy = np.asarray(site_xy_m, dtype=float).reshape(-1, 2)
    sf_d = None
    if scenario.shadow_fading:
        sf_d = max(tr38901.sf_decorrelation_distance_m(e or scenario.environment, False) for e in set(environments))
    return NetworkContext(max_d2d_m=_max_link_distance_m(grid, xy[:, 0], xy[:, 1]), sf_common_decorrelation_m=sf_d)


def prepare(scenario: Scenario, grid: RasterGrid, site_xy_m: np.ndarray, *, footprints=None,
            terrain: Terrain | None = None, mem_limit_mb: float | None = None, site_keys=None,
            network: NetworkContext | None = None) -> PreparedRun:
    """Build the lookup tables, sector arrays and random fields of a run (once, before the tiles).

    ``site_xy_m``: (n_sites, 2) site positions in ``grid.crs`` [m]. ``footprints``: buildings in
    ``grid.crs`` (the GeoDataFrame of :func:`~cellscape.geo.buildings.load_buildings`; bare
    polygons are enough unless the LOS mode is geometric) or None. ``terrain``: a DEM for geometric LOS.
    ``site_keys``: the random stream of each site's fields (default ``scenario.site_keys``, else
    the site's index; planning keys sites by candidate so a site draws the same shadowing in every
    run it takes part in). ``network``: the scenario's sites are part of a larger network
    (:class:`NetworkContext`; pass their site keys in the whole network too).

    Sites of equal environment and height share one row of the distance tables
    (``KernelStatic.table_rows``): a network of millions of sites of a few kinds has a few rows.
    """
    sites = scenario.sites
    site_xy_m = np.asarray(site_xy_m, dtype=float).reshape(len(sites), 2)
    if site_keys is None:
        site_keys = scenario.site_keys
    carrier, rx = scenario.carrier, scenario.receiver
    envs = [s.environment or scenario.environment for s in sites]
    h_bs = np.array([s.height_m for s in sites], dtype=float)
    table_rows = site_kinds(envs, h_bs)                       # one distance-table row per kind of site
    _, first = np.unique(table_rows, return_index=True)
    kind_env = [envs[i] for i in first]
    kind_h = h_bs[first]
    max_d2d_m = (network.max_d2d_m if network is not None
                 else _max_link_distance_m(grid, site_xy_m[:, 0], site_xy_m[:, 1]))
    dist = tables.distance_tables(kind_env, kind_h, h_ut_m=rx.height_m, fc_ghz=carrier.fc_ghz, max_d2d_m=max_d2d_m)
    n_prb = resolve_n_prb(carrier)

    keys: dict[tuple, int] = {}
    gains: list[np.ndarray] = []
    sec_site, sec_bearing, sec_pattern, sec_p_re = [], [], [], []
    sec_ids, site_ids, sec_az = [], [], []
    p_re_of: dict[float, float] = {}
    for i, site in enumerate(sites):
        for k, sec in enumerate(site.sectors):
            key = tables.antenna_key(sec.antenna, sec.mech_tilt_deg, sec.elec_tilt_deg)
            if key not in keys:
                keys[key] = len(gains)
                gains.append(tables.gain_table_dbi(sec.antenna, sec.mech_tilt_deg, sec.elec_tilt_deg))
            sec_site.append(i)
            sec_bearing.append(90.0 - sec.azimuth_deg)           # TR 38.901 alpha, ccw from east
            sec_pattern.append(keys[key])
            p_re = p_re_of.get(sec.tx_power_dbm)       # a national block has ~1e5 sectors of a few powers
            if p_re is None:
                p_re = p_re_of[sec.tx_power_dbm] = float(tx_power_per_re_dbm(sec.tx_power_dbm, n_prb))
            sec_p_re.append(p_re + rx.antenna_gain_dbi)
            sec_ids.append(sec.sector_id or f"{site.site_id}-{k + 1}")
            site_ids.append(site.site_id)
            sec_az.append(sec.azimuth_deg)
    noise_dbm = float(noise_per_re_dbm(carrier.scs_khz, rx.noise_figure_db))
    geometric = None
    diff = {}
    if scenario.los_mode == "geometric":
        budget = scenario.mem_limit_mb if mem_limit_mb is None else mem_limit_mb
        geometric = _geometric_links(scenario, grid, site_xy_m, footprints, terrain, h_bs, budget)
        if geometric.need_nu:
            d_ref = 0.5 * min(geometric.range_m, _max_link_distance_m(grid, site_xy_m[:, 0], site_xy_m[:, 1]))
            table = tables.diffraction_table(d_ref)
            diff = dict(use_diffraction=True, diff_nu_min=table.nu_min, diff_nu_step=table.nu_step,
                        diff_gain_lin=table.gain_lin)
    elif terrain is not None:
        raise GeometryError(f"terrain is used by los_mode geometric only, got los_mode {scenario.los_mode!r}")
    static = KernelStatic(
        site_x_m=site_xy_m[:, 0].copy(), site_y_m=site_xy_m[:, 1].copy(), u_step=dist.u_step,
        gain_los_lin=db_to_lin(-dist.pl_los_db),
        gain_nlos_lin=db_to_lin(-dist.pl_nlos_db),
        sf_std_los_db=dist.sf_std_los_db, sf_std_nlos_db=dist.sf_std_nlos_db, p_los=dist.p_los,
        theta_deg=tables.zenith_angle_table_deg(dist, kind_h, h_ut_m=rx.height_m), table_rows=table_rows,
        sector_site=np.array(sec_site, dtype=np.int64), sector_bearing_deg=np.array(sec_bearing, dtype=np.float64),
        sector_pattern=np.array(sec_pattern, dtype=np.int64),
        sector_p_re_mw=dbm_to_mw(sec_p_re),
        gain_lin=db_to_lin(np.stack(gains)).astype(np.float32), theta_step_deg=tables.THETA_STEP_DEG, phi_step_deg=tables.PHI_STEP_DEG,
        noise_mw=float(dbm_to_mw(noise_dbm)), load_factor=float(carrier.dl_load_factor),
        los_mode=LOS_MODE_CODES[scenario.los_mode], **diff)
    fields = site_fields(
        scenario.seed,
        [tr38901.sf_decorrelation_distance_m(e, False) for e in envs],
        [tr38901.los_decorrelation_distance_m(e) for e in envs],
        shadow_fading=scenario.shadow_fading, statistical_los=scenario.los_mode == "statistical",
        inter_site_correlation=scenario.inter_site_sf_correlation, site_keys=site_keys,
        common_sf_decorrelation_m=None if network is None else network.sf_common_decorrelation_m)
    sectors = SectorTable(sector_id=tuple(sec_ids), site_id=tuple(site_ids),
                          x_m=static.site_x_m[static.sector_site], y_m=static.site_y_m[static.sector_site],
                          azimuth_deg=np.array(sec_az), height_m=h_bs[static.sector_site],
                          tx_power_per_re_dbm=np.array(sec_p_re, dtype=float))
    meta = {
        "spec": tr38901.SPEC,
        "los_mode": scenario.los_mode,
        "shadow_fading": scenario.shadow_fading,
        "inter_site_sf_correlation": scenario.inter_site_sf_correlation,
        "environments": sorted(set(envs)),
        "n_prb": n_prb,
        "noise_per_re_dbm": round(noise_dbm, 3),
        "dl_load_factor": carrier.dl_load_factor,
        "near_distance_policy": f"clip below the model minimum ({sorted(set(dist.d2d_min_m.tolist()))} m)",
        "far_distance_policy": f"extrapolate beyond the model maximum ({sorted(set(dist.d2d_max_m.tolist()))} m)",
        "o2i_model": scenario.receiver.o2i_model if footprints is not None else "none (no buildings)",
    }
    if tables.aerial_receiver(kind_env, rx.height_m):     # TR 36.777 Annex B: an outdoor UAV (tables docstring)
        meta.update(aerial_receiver=True, o2i_model="none (aerial receiver: every pixel outdoor)")
    if geometric is not None:
        meta.update({
            "los_geometry": " + ".join(name for name, given in (("buildings", footprints), ("terrain", terrain))
                                       if given is not None),
            "los_range_m": geometric.range_m,
            "diffraction": "none",
        })
        if geometric.need_nu:
            meta["diffraction"] = (f"ITU-R P.526-15 4.5.1 Bullington over the marched profile: LOS links "
                                   f"PL_LOS + L_b(nu), NLOS links min(PL_NLOS, PL_LOS + L_b(nu)); L_b path-length "
                                   f"term at {d_ref:.0f} m")
            meta["diffraction_d_ref_m"] = d_ref
    return PreparedRun(scenario, grid, static, fields, footprints, n_prb, sectors, meta, geometric, network)


def _fields_of(fields: SiteFields, sites) -> SiteFields:
    """The random fields of ``sites`` only (the common shadowing field is shared by all sites)."""
    if sites is None:
        return fields
    pick = (lambda fs: None if fs is None else tuple(fs[i] for i in sites))
    return SiteFields(fields.inter_site_correlation, fields.sf_common, pick(fields.sf_own), pick(fields.los))


def tile_inputs(run: PreparedRun, window: Window, sites=None) -> KernelTile:
    """The per-tile inputs of ``window``: pixel centres, random fields, building entry loss.

    ``sites``: the fields (and Bullington parameters) of these sites only, in this order (the
    interference cutoff's kept sites); each site's values are those of the full tile.
    """
    x = run.grid.x_centers_m(window.cols)
    y = run.grid.y_centers_m(window.rows)
    o2i = np.zeros(window.shape, dtype=np.float32)
    if run.footprints is not None and not run.meta.get("aerial_receiver", False):
        from cellscape.geo.buildings import indoor_distance_m, indoor_mask

        inside = indoor_mask(run.footprints, run.grid, window)
        if inside.any():
            d_in = indoor_distance_m(run.footprints, run.grid, window)
            loss = o2i_building_loss_db(run.scenario.carrier.fc_ghz, d_in[inside],
                                        model=run.scenario.receiver.o2i_model)
            o2i[inside] = loss
    nu = None
    if run.geometric is not None:
        nu = tile_diffraction_parameter(run, window, sites)
        np.nan_to_num(nu, copy=False, posinf=NU_INF, neginf=-NU_INF)
    fields = _fields_of(run.fields, sites)
    p_max = None if fields.los is None else los_probability_bound(run.static, sites, x, y)
    return KernelTile(x_m=x, y_m=y, los_uniform=fields.los_uniform_on_grid(x, y, p_max),
                      sf_unit=fields.shadow_unit_on_grid(x, y), o2i_db=o2i, nu=nu)


def los_probability_bound(st: KernelStatic, sites, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
    """An upper bound of the LOS probability the kernels compare each site's uniform with over the
    pixel centres x_m x y_m, (n,) float64 for ``sites`` (None: every site), inf where none is
    given (the tile reaches the end of the distance tables, where the kernels extrapolate).

    A kernel reads the nodes k = floor(sqrt(d) / u_step) and k + 1 of the site's p_LOS row and
    interpolates linearly between them (TR 38.901 Table 7.4.2-1 tabulated by
    cellscape.coverage.tables), so the largest node value from one node below the tile's nearest
    distance to one node above its farthest bounds it (one node of margin each side for the
    kernels' rounding of u)."""
    idx = np.arange(st.n_sites) if sites is None else np.asarray(sites, dtype=np.int64)
    sx, sy = st.site_x_m[idx], st.site_y_m[idx]
    x0, x1, y0, y1 = float(np.min(x_m)), float(np.max(x_m)), float(np.min(y_m)), float(np.max(y_m))
    near = np.hypot(np.maximum(np.maximum(x0 - sx, sx - x1), 0.0), np.maximum(np.maximum(y0 - sy, sy - y1), 0.0))
    far = np.hypot(np.maximum(np.abs(sx - x0), np.abs(sx - x1)), np.maximum(np.abs(sy - y0), np.abs(sy - y1)))
    n_u = st.p_los.shape[1]
    lo = np.maximum(np.floor(np.sqrt(near) / st.u_step).astype(np.int64) - 1, 0)
    hi = np.floor(np.sqrt(far) / st.u_step).astype(np.int64) + 2
    rows = st.site_rows()[idx]
    out = np.full(idx.size, np.inf)
    for i in np.nonzero(hi < n_u - 1)[0]:       # the kernels clamp k at n_u - 2 and extrapolate beyond
        out[i] = float(np.max(st.p_los[rows[i], lo[i]:hi[i] + 1]))
    return out


def tile_diffraction_parameter(run: PreparedRun, window: Window, sites=None) -> np.ndarray:
    """Bullington parameter of every site-pixel link of ``window`` (cellscape.propagation.geometric_los), shape
    (n_sites, n_rows, n_cols), float32: < 0 LOS. Receivers stand ``h_ut_m`` above the ground of
    their pixel; receivers under a roof are indoor and judged at their facade. ``sites``: these
    sites only (n_sites = len(sites))."""
    from cellscape.propagation.geometric_los import diffraction_parameter   # numba: compiled on first use

    geo = run.geometric
    surface = geo.surface_for(run.grid, window)
    res = run.grid.resolution_m
    r0 = int(round((surface.grid.y_max_m - run.grid.y_max_m) / res)) + window.row_start
    c0 = int(round((run.grid.x_min_m - surface.grid.x_min_m) / res)) + window.col_start
    rows = slice(r0, r0 + window.shape[0])
    cols = slice(c0, c0 + window.shape[1])
    site_xyz = geo.site_xyz_m if sites is None else geo.site_xyz_m[np.asarray(sites, dtype=np.int64)]
    rx_indoor = surface.inside[rows, cols] & (not run.meta.get("aerial_receiver", False))   # a UAV is outdoor
    return diffraction_parameter(surface, site_xyz, run.grid.x_centers_m(window.cols),
                                 run.grid.y_centers_m(window.rows), surface.ground_m[rows, cols] + geo.h_ut_m,
                                 rx_indoor, fc_ghz=geo.fc_ghz, range_m=geo.range_m,
                                 need_nu=geo.need_nu)


class LosHistogram:
    """Empirical LOS probability of a geometric run: links counted by 2-D distance bin and by the
    TR 38.901 environment of their site, outdoor receivers only (Table 7.4.2-1 is for outdoor UTs)."""

    def __init__(self, environments: list[str], max_d2d_m: float, *, h_bs_m, h_ut_m: float,
                 bin_m: float = LOS_STATS_BIN_M):
        self.bin_m = bin_m
        self.h_ut_m = float(h_ut_m)
        self.n_bins = max(1, int(math.ceil(max_d2d_m / bin_m)))
        self.environments = sorted(set(environments))
        self._env_of_site = np.array([self.environments.index(e) for e in environments])
        self.los = np.zeros((len(self.environments), self.n_bins), dtype=np.int64)
        self.total = np.zeros((len(self.environments), self.n_bins), dtype=np.int64)
        h_bs_m = np.asarray(h_bs_m, dtype=float)
        self.h_bs_m = [float(np.median(h_bs_m[self._env_of_site == k])) for k in range(len(self.environments))]

    def add(self, site_xy_m: np.ndarray, x_m: np.ndarray, y_m: np.ndarray, nu: np.ndarray, outdoor: np.ndarray):
        """Count the links of one tile: ``nu`` (n_sites, n_rows, n_cols), ``outdoor`` (n_rows, n_cols)."""
        for i, (sx, sy) in enumerate(site_xy_m):
            d = np.hypot(x_m[None, :] - sx, y_m[:, None] - sy)[outdoor]
            b = np.minimum((d / self.bin_m).astype(np.int64), self.n_bins - 1)
            ok = d < self.n_bins * self.bin_m
            e = self._env_of_site[i]
            self.total[e] += np.bincount(b[ok], minlength=self.n_bins)
            self.los[e] += np.bincount(b[ok & (nu[i][outdoor] < 0)], minlength=self.n_bins)

    def as_dict(self) -> dict:
        """``{"d2d_edges_m": [...], "h_ut_m": h, "environments": {"<env>": {"los": [...], "total": [...],
        "h_bs_m": median antenna height}}}``."""
        envs = {env: {"los": self.los[k].tolist(), "total": self.total[k].tolist(), "h_bs_m": self.h_bs_m[k]}
                for k, env in enumerate(self.environments)}
        return {"d2d_edges_m": (np.arange(self.n_bins + 1) * self.bin_m).tolist(), "h_ut_m": self.h_ut_m,
                "environments": envs}


def _tiling(scenario: Scenario, grid: RasterGrid, site_xy_m, *, footprints, terrain, backend: str,
            mem_limit_mb: float | None, extra_bytes_per_pixel_site: float = 0.0, los_statistics: bool = True,
            site_keys=None, cutoff_db: float | None = None, network: NetworkContext | None = None):
    """Prepare a run and cut its grid into tiles that fit the memory budget: (run, windows,
    rows_per_tile, LOS histogram or None, cutoff index or None). Geometric runs use square blocks:
    the surface a block needs (block + LOS range) is independent of the map's width. With
    ``cutoff_db`` (the interference cutoff) a map larger than CUTOFF_BLOCK_SIDE_M is cut into square
    blocks of that side when the sites' far radii suggest that blocks would leave out at least
    CUTOFF_BLOCKS_MIN_SAVING of the site-pixels; otherwise the full sum's tiling is kept (smaller
    tiles cost more per pixel: the random fields' set-up grows with a tile's perimeter)."""
    budget = scenario.mem_limit_mb if mem_limit_mb is None else mem_limit_mb
    run = prepare(scenario, grid, site_xy_m, footprints=footprints, terrain=terrain, mem_limit_mb=budget,
                  site_keys=site_keys, network=network)
    per_site = (_BYTES_PER_PIXEL_SITE[backend] + (_BYTES_PER_PIXEL_SITE_GEOMETRIC if run.geometric else 0.0)
                + extra_bytes_per_pixel_site)
    rows = grid.rows_per_tile(bytes_per_row_per_unit=per_site, units=run.static.n_sites,
                              mem_limit_mb=budget * (0.75 if run.geometric else 1.0))
    hist = None
    if run.geometric is not None and los_statistics:
        site_xy = run.geometric.site_xyz_m[:, :2]
        hist = LosHistogram([s.environment or scenario.environment for s in scenario.sites],
                            min(run.geometric.range_m, _max_link_distance_m(grid, site_xy[:, 0], site_xy[:, 1])),
                            h_bs_m=[s.height_m for s in scenario.sites], h_ut_m=scenario.receiver.height_m)
    index = cutoff_index(run, cutoff_db) if cutoff_db is not None else None
    side_m = CUTOFF_BLOCK_SIDE_M
    if index is not None and index.background is not None:      # blocks of about r0: the candidates stay local
        side_m = min(side_m, index.background.r0_m)
    side = max(CUTOFF_BLOCK_MIN_PX, int(side_m / grid.resolution_m))
    blocks = False
    if index is not None and index.background is not None:
        blocks = max(grid.n_rows, grid.n_cols) > side
    elif index is not None and max(grid.n_rows, grid.n_cols) > side:
        half_m = side * grid.resolution_m / math.sqrt(2.0)
        blocks = cutoff.kept_fraction_estimate(index, grid.bounds_m, half_m) <= 1.0 - CUTOFF_BLOCKS_MIN_SAVING
    if run.geometric is not None or blocks:
        max_pixels = rows * grid.n_cols
        if blocks:
            max_pixels = min(max_pixels, side * side)
        windows = list(square_blocks(grid, max_pixels=max_pixels))
    else:
        windows = list(grid.tiles(rows_per_tile=rows))
    return run, windows, rows, hist, index


class TileCache:
    """Per-tile inputs kept between runs of the same sites on the same grid (sector tuning).

    The tile inputs (random fields, building entry loss, the marched Bullington parameter) depend
    on the sites' positions and heights, the grid, the buildings and the seed, never on a sector's
    azimuth, tilt or power: runs that change only those reuse them and skip the LOS march. The
    cache checks the site geometry it was filled for and refuses other sites. ``max_mb``: inputs
    beyond this are not kept (those tiles are recomputed each run).
    """

    def __init__(self, max_mb: float = 512.0):
        self.max_mb = float(max_mb)
        self._key = None
        self._tiles: dict = {}
        self._bytes = 0

    def get(self, run: PreparedRun, window: Window) -> KernelTile:
        key = (run.grid, tuple(map(float, run.static.site_x_m)), tuple(map(float, run.static.site_y_m)),
               tuple(s.height_m for s in run.scenario.sites), run.scenario.seed, id(run.footprints))
        if self._key is None:
            self._key = key
        elif key != self._key:
            raise ValueError("TileCache: filled for other sites or another grid; use a new cache")
        w = (window.row_start, window.row_stop, window.col_start, window.col_stop)
        tile = self._tiles.get(w)
        if tile is None:
            tile = tile_inputs(run, window)
            size = sum(a.nbytes for a in (tile.los_uniform, tile.sf_unit, tile.o2i_db, tile.nu) if a is not None)
            if self._bytes + size <= self.max_mb * 1e6:
                self._tiles[w] = tile
                self._bytes += size
        return tile


def compute_coverage(scenario: Scenario, grid: RasterGrid, site_xy_m: np.ndarray, *, footprints=None,
                     terrain: Terrain | None = None, backend: Backend = "numba", progress: Progress | None = None,
                     mem_limit_mb: float | None = None, site_keys=None,
                     tile_cache: TileCache | None = None) -> CoverageResult:
    """Best-server RSRP, SINR, serving sector and throughput for every pixel of ``grid``.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario (records).
    grid : RasterGrid
        The map grid, in a metric CRS.
    site_xy_m : array_like, shape (n_sites, 2)
        Site positions in ``grid.crs``. [m]
    footprints : GeoDataFrame, GeoSeries or array of shapely polygons, optional
        Buildings in ``grid.crs``: pixels inside get the TR 38.901 7.4.3 O2I loss. Geometric LOS
        needs their heights (the GeoDataFrame of :func:`~cellscape.geo.buildings.load_buildings`).
    terrain : Terrain, optional
        A DEM covering the map (geometric LOS only): raises ground, buildings, antennas and users.
    backend : {'numba', 'numpy'}, default 'numba'
        Compute backend for the tile kernel; both read the same tables.
    progress : callable, optional
        ``progress(done, total)`` after each tile.
    mem_limit_mb : float, optional
        Working-memory budget per tile (default: ``scenario.mem_limit_mb``). [MB]
    site_keys : sequence of int, optional
        The random stream of each site's shadowing/LOS fields (default: the site's index).
    tile_cache : TileCache, optional
        Keep the tile inputs for later runs of the same sites with other sector settings.

    Returns
    -------
    CoverageResult

    Notes
    -----
    ``scenario.interference_cutoff_db`` (scenario file: ``compute.interference_cutoff_db``, default
    0.1 dB) lets each tile leave out the sites whose sectors together cannot change any pixel's
    SINR by more than that (:mod:`cellscape.coverage.cutoff`): best server and its RSRP stay those
    of the full sum at every pixel, the SINR is at most that many dB higher. None: every sector
    at every pixel (the full sum). ``meta["interference_cutoff"]`` reports what was left out:
    ``kept_site_fraction`` (site-pixels computed / all), ``sinr_error_bound_db`` (the largest bound
    a tile used), ``tiles_widened``. A geometric run's ``los_statistics`` count the links the
    kernels computed (a left-out site within ``los_range_m`` would be missing from them; in practice
    such a site is never left out).
    """
    tiles = CoverageTiles(scenario, grid, site_xy_m, footprints=footprints, terrain=terrain, backend=backend,
                          mem_limit_mb=mem_limit_mb, site_keys=site_keys, tile_cache=tile_cache)
    shape = grid.shape
    rsrp = np.empty(shape, dtype=np.float32)
    sinr = np.empty(shape, dtype=np.float32)
    best = np.empty(shape, dtype=np.int32)
    indoor = np.zeros(shape, dtype=bool)
    throughput = np.empty(shape, dtype=np.float32)
    for done, t in enumerate(tiles, start=1):
        w = t.window
        rsrp[w.rows, w.cols] = t.rsrp_dbm
        sinr[w.rows, w.cols] = t.sinr_db
        best[w.rows, w.cols] = t.best_sector
        indoor[w.rows, w.cols] = t.indoor
        throughput[w.rows, w.cols] = t.throughput_bps
        del t
        if progress is not None:
            progress(done, len(tiles.windows))
    return CoverageResult(grid=grid, rsrp_dbm=rsrp, sinr_db=sinr, best_sector=best, throughput_bps=throughput,
                          indoor=indoor, sectors=tiles.run.sectors, meta=tiles.meta(),
                          los_statistics=tiles.hist.as_dict() if tiles.hist is not None else None)


@dataclass(frozen=True)
class CoverageTile:
    """The maps of one tile: ``window`` of the grid and its (rows, cols) arrays."""

    window: Window
    rsrp_dbm: np.ndarray        # float32
    sinr_db: np.ndarray         # float32
    best_sector: np.ndarray     # int32, -1 = none
    indoor: np.ndarray          # bool
    throughput_bps: np.ndarray  # float32


class CoverageTiles:
    """The tiles of a coverage run, computed one at a time (the tile loop of :func:`compute_coverage`).

    Same inputs as :func:`compute_coverage`. ``windows``: the engine's tiling (within the memory
    budget; see ``_tiling``). Iterating yields a :class:`CoverageTile` per window of ``windows``
    (or of :meth:`tiles`' ``windows``). Each tile is a pure function of the scenario, its window
    and the seed, so tiles can be computed in any order, skipped and recomputed. With the
    interference cutoff the kept sites of a tile depend on its window, so the SINR of a pixel may
    differ, within the cutoff's bound, between two tilings; the engine's tiling gives the bits of
    :func:`compute_coverage`. ``meta()`` and ``hist`` (geometric LOS statistics) describe the
    tiles computed so far.
    """

    def __init__(self, scenario: Scenario, grid: RasterGrid, site_xy_m: np.ndarray, *, footprints=None,
                 terrain: Terrain | None = None, backend: Backend = "numba", mem_limit_mb: float | None = None,
                 site_keys=None, tile_cache: TileCache | None = None, network: NetworkContext | None = None):
        self.scenario = scenario
        self.backend = backend
        self._kernel = _kernel(backend)
        self._tile_cache = tile_cache
        self.run, self.windows, self.rows, self.hist, self.index = _tiling(
            scenario, grid, site_xy_m, footprints=footprints, terrain=terrain, backend=backend,
            mem_limit_mb=mem_limit_mb, site_keys=site_keys, cutoff_db=scenario.interference_cutoff_db,
            network=network)
        self._site_xy = np.column_stack([self.run.static.site_x_m, self.run.static.site_y_m])
        self.cutoff_stats = _CutoffStats()
        self._fr = frequency_range(scenario.carrier.fc_ghz)

    def __iter__(self):
        return self.tiles()

    def tile_alone(self, window: Window, *, covered_m: float | None = None) -> tuple["CoverageTile", _CutoffStats]:
        """One tile with its own interference-cutoff statistics and no LOS statistics: for a task
        that shares this prepared run (read only) with others but not the counters. ``covered_m``:
        the run holds only the sites within this distance of the tile's centre (raises
        :class:`NeedsMoreSites` if the cutoff needs more)."""
        other = copy.copy(self)
        other.cutoff_stats = _CutoffStats()
        other.hist = None
        return next(other.tiles([window], covered_m=covered_m)), other.cutoff_stats

    def tiles(self, windows=None, *, covered_m: float | None = None):
        """Yield the :class:`CoverageTile` of each window (default: the engine's ``windows``)."""
        run, cache = self.run, self._tile_cache
        for window in (self.windows if windows is None else windows):
            if self.index is None:
                tile = cache.get(run, window) if cache is not None else tile_inputs(run, window)
                out = self._kernel(run.static, tile)
                best_sector = out.best_sector
                kept_xy = self._site_xy
            else:
                tile, out, best_sector, sel = _cutoff_tile(run, self.index, window, self._kernel, cache,
                                                           self.cutoff_stats, covered_m)
                kept_xy = self._site_xy[sel.sites]
            if self.hist is not None:
                self.hist.add(kept_xy, tile.x_m, tile.y_m, tile.nu, tile.o2i_db <= 0)
            result = CoverageTile(
                window=window, rsrp_dbm=out.rsrp_dbm, sinr_db=out.sinr_db, best_sector=best_sector,
                indoor=tile.o2i_db > 0,
                throughput_bps=np.asarray(downlink_throughput_bps(out.sinr_db, run.n_prb, self.scenario.carrier.scs_khz,
                                                                  frequency_range=self._fr), dtype=np.float32))
            del tile, out       # release this tile's fields before the next tile allocates its own
            yield result

    def meta(self) -> dict:
        """The run's ``meta`` (as :attr:`CoverageResult.meta`)."""
        return {**self.run.meta, "backend": self.backend, "n_tiles": len(self.windows), "rows_per_tile": self.rows,
                "interference_cutoff": self.cutoff_stats.as_dict(self.run, self.index, self.run.grid.n_pixels)}


def cutoff_index(run: PreparedRun, cutoff_db: float) -> cutoff.CutoffIndex:
    """The run's spatial index and bound tables (cellscape.coverage.cutoff), in the scenario's
    ``interference_cutoff_mode`` ("bound": per pixel; "expected": in expectation)."""
    sc = run.scenario
    group = run.static.site_rows()          # the site kinds (prepare: one table row per kind)
    los_range = run.geometric.range_m if run.geometric is not None else math.inf
    network = getattr(run, "network", None)        # a subset of a larger network: its far field
    index = cutoff.build_index(run.static, cutoff_db=cutoff_db, site_group=group,
                               shadow_fading=run.fields.sf_own is not None, los_mode=sc.los_mode,
                               los_range_m=los_range, mode=sc.interference_cutoff_mode,
                               far=None if network is None else network.far)
    if sc.interference_cutoff_mode != "background":
        return index
    r0_m = sc.background_radius_m
    if sc.background_radius_isd is not None:         # r0 from the run's density (national parts: set per block)
        r0_m = background.adaptive_r0_m(background.network_isd_m(run.static.site_x_m, run.static.site_y_m),
                                        sc.background_radius_isd, sc.background_radius_m)
    model = background.background_model(run.static, r0_m=r0_m,
                                        shadow_fading=run.fields.sf_own is not None, los_mode=sc.los_mode)
    raster = None if network is None else network.background
    if raster is None:      # the whole network is in the run: its raster over the map
        st = run.static
        kind, rep = background.sector_kinds(st)
        raster = background.build_raster(model, st, rep, st.site_x_m[st.sector_site], st.site_y_m[st.sector_site],
                                         kind, run.grid.bounds_m)
    index = replace(index, background=replace(model, raster=raster))
    if sc.background_certify_exceedance is None:
        return index
    cert = cutoff.certify_index(index, shadow_fading=run.fields.sf_own is not None, los_mode=sc.los_mode,
                                eps=sc.background_certify_exceedance,
                                far=None if network is None else network.far_certify)
    return replace(index, certify=cert)


def with_background(index: cutoff.CutoffIndex, run: PreparedRun, sel: cutoff.TileSelection, out, x: np.ndarray,
                    y: np.ndarray, o2i_db: np.ndarray):
    """Mode "background": the kernel output ``out`` of the kept sites ``sel`` with the expected
    interference of every other site added to its SINR (cellscape.coverage.background)."""
    dropped = np.setdiff1d(sel.candidates, sel.sites, assume_unique=True)
    bg = background.tile_background_mw(index.background, run.static, sel.sectors,
                                       cutoff._sectors_of(index, dropped), x, y)
    return replace(out, sinr_db=background.add_background_sinr_db(out.rsrp_dbm, out.sinr_db, bg, o2i_db,
                                                                  run.static.load_factor))


def _kept_static(st: KernelStatic, sel: cutoff.TileSelection) -> KernelStatic:
    """The kernel inputs of the kept sites and sectors only (same values, renumbered; the distance
    tables are shared, each kept site reads its own row through ``table_rows``)."""
    sites, sectors = sel.sites, sel.sectors
    renumber = np.full(st.n_sites, -1, dtype=np.int64)
    renumber[sites] = np.arange(sites.size)
    return replace(st, site_x_m=st.site_x_m[sites], site_y_m=st.site_y_m[sites], table_rows=st.site_rows()[sites],
                   sector_site=renumber[st.sector_site[sectors]], sector_bearing_deg=st.sector_bearing_deg[sectors],
                   sector_pattern=st.sector_pattern[sectors], sector_p_re_mw=st.sector_p_re_mw[sectors])


def _kept_tile(tile: KernelTile, sites: np.ndarray) -> KernelTile:
    """A full tile's inputs restricted to ``sites`` (the per-site fields, the same values)."""
    pick = (lambda a: None if a is None else a[sites])
    return replace(tile, los_uniform=pick(tile.los_uniform), sf_unit=pick(tile.sf_unit), nu=pick(tile.nu))


@dataclass
class _CutoffStats:
    """What the interference cutoff left out of a run (meta["interference_cutoff"])."""

    site_pixels_kept: int = 0
    max_dropped_sum_mw: float = 0.0
    tiles_widened: int = 0
    pixels_widened: int = 0

    def merge(self, other: "_CutoffStats") -> None:
        """Add another part of the run's statistics (tiles computed elsewhere) to these."""
        self.site_pixels_kept += other.site_pixels_kept
        self.tiles_widened += other.tiles_widened
        self.pixels_widened += other.pixels_widened
        self.max_dropped_sum_mw = max(self.max_dropped_sum_mw, other.max_dropped_sum_mw)

    def as_dict(self, run: PreparedRun, index: cutoff.CutoffIndex | None, n_pixels: int) -> dict:
        if index is None:
            return {"cutoff_db": None}
        st = run.static
        return {
            "cutoff_db": index.cutoff_db,
            "mode": index.mode,         # "expected": the error bound below holds in expectation only
            "sinr_error_bound_db": round(float(cutoff.sinr_error_bound_db(self.max_dropped_sum_mw, st.noise_mw,
                                                                           st.load_factor)), 6),
            "kept_site_fraction": round(self.site_pixels_kept / max(1, n_pixels * st.n_sites), 6),
            "sf_bound_sigma": cutoff.SF_BOUND_SIGMA if index.mode == "bound" else None,
            "far_field_cell_m": round(index.far.cell_m, 1),
            "tiles_widened": self.tiles_widened,
            "pixels_widened": self.pixels_widened,
            **({"background_radius_m": index.background.r0_m} if index.background is not None else {}),
        }


class NeedsMoreSites(Exception):
    """A tile of a part of a network (``covered_m``) needs the sites within ``radius_m`` of its centre
    (cellscape.pipeline.national computes it again with them)."""

    def __init__(self, radius_m: float):
        super().__init__(f"the tile needs the sites within {radius_m:.0f} m")
        self.radius_m = radius_m


GAIN_SAMPLE_PX = 16
"""The first gain of a tile comes from the kernel at up to this many x this many of its pixels."""

GAIN_SAFETY = 0.5
"""The first gain is this share of the sampled pixels' smallest (a sample may miss the tile's weakest pixel)."""


def _first_gain(run: PreparedRun, index: cutoff.CutoffIndex, x: np.ndarray, y: np.ndarray, kernel, needs) -> float:
    """The budget multiplier a tile tries first (cellscape.coverage.cutoff, "Relative to the
    interference"): the sites kept at RELATIVE_GAIN_DB, run at a coarse sample of the tile's pixels
    (outdoor: the gain is read before building entry loss anyway), GAIN_SAFETY x their smallest
    interference gain, within [1, 10^(RELATIVE_GAIN_DB/10)]. Geometric runs start at 1 (their links
    are marched per tile). A pure function of the tile: the same in any tiling order or process."""
    top = 10.0 ** ((cutoff.RELATIVE_GAIN_DB if index.background is None else cutoff.BACKGROUND_RELATIVE_GAIN_DB) / 10.0)
    if run.geometric is not None:
        return 1.0
    sel = cutoff.select(index, x, y, gain=top)
    needs(sel.radius_m)
    xs = x[::max(1, -(-x.size // GAIN_SAMPLE_PX))]
    ys = y[::max(1, -(-y.size // GAIN_SAMPLE_PX))]
    fields = _fields_of(run.fields, sel.sites)
    p_max = None if fields.los is None else los_probability_bound(run.static, sel.sites, xs, ys)
    sample = KernelTile(x_m=xs, y_m=ys, los_uniform=fields.los_uniform_on_grid(xs, ys, p_max),
                        sf_unit=fields.shadow_unit_on_grid(xs, ys), o2i_db=np.zeros((ys.size, xs.size), np.float32))
    out = kernel(_kept_static(run.static, sel), sample)
    q = cutoff.interference_gain(out.rsrp_dbm, out.sinr_db, sample.o2i_db, run.static.noise_mw)
    return float(min(top, max(1.0, GAIN_SAFETY * q)))


def _cutoff_tile(run: PreparedRun, index: cutoff.CutoffIndex, window: Window, kernel, tile_cache, stats,
                 covered_m: float | None = None):
    """One tile with the interference cutoff (cellscape.coverage.cutoff): select the kept sites within
    a budget RELATIVE_GAIN_DB above the noise's and run the kernel; keep it if the kept interference
    allows that budget at every pixel (:func:`cutoff.interference_gain`), else select again within the
    budget it allows, and at last within the noise's. Then, if a pixel's best server is not certain,
    widen the selection (which certifies every pixel) and run the kernel once more.
    ``covered_m``: the index holds only the sites within this distance of the tile's centre (a part of
    a network); a selection that needs more raises :class:`NeedsMoreSites`.
    Returns (tile inputs of the kept sites, kernel output, best sector in run numbering, selection)."""
    x = run.grid.x_centers_m(window.cols)
    y = run.grid.y_centers_m(window.rows)
    full = None

    def needs(radius_m: float) -> None:
        if covered_m is not None and radius_m > covered_m:
            raise NeedsMoreSites(radius_m)

    def compute(sel):
        nonlocal full
        if sel.keeps_all:
            tile = tile_cache.get(run, window) if tile_cache is not None else tile_inputs(run, window)
            out = kernel(run.static, tile)
            if index.background is not None:
                out = with_background(index, run, sel, out, x, y, tile.o2i_db)
            return tile, out, out.best_sector
        if tile_cache is not None:
            full = full if full is not None else tile_cache.get(run, window)
            tile = _kept_tile(full, sel.sites)
        else:
            tile = tile_inputs(run, window, sel.sites)
        out = kernel(_kept_static(run.static, sel), tile)
        if index.background is not None:
            out = with_background(index, run, sel, out, x, y, tile.o2i_db)
        best = np.where(out.best_sector >= 0, sel.sectors[np.maximum(out.best_sector, 0)], -1).astype(np.int32)
        return tile, out, best

    gain = _first_gain(run, index, x, y, kernel, needs)
    tried = 0
    while True:
        sel = cutoff.select(index, x, y, gain=gain)
        needs(sel.radius_m)
        tile, out, best = compute(sel)
        if gain <= 1.0:
            allowed = 1.0
            break
        q = cutoff.interference_gain(out.rsrp_dbm, out.sinr_db, tile.o2i_db, run.static.noise_mw)
        if sel.dropped_bound_mw <= index.budget_mw * q:
            allowed = q
            break
        tried += 1
        gain = q if (tried == 1 and 1.0 < q < gain) else 1.0
        del tile, out
    unsure = cutoff.uncertain_pixels(out.rsrp_dbm, sel)
    if unsure.any():
        cert = index.certify or index          # mode background: the left-out sites' draws, not their means
        needs(cutoff.widen_radius_m(cert, sel, x, y, out.rsrp_dbm, unsure))
        wider = cutoff.widen(cert, sel, x, y, out.rsrp_dbm, unsure)
        if wider.sites.size > sel.sites.size:     # else nothing could be stronger there: certified as it is
            stats.tiles_widened += 1
            stats.pixels_widened += int(unsure.sum())
            del tile, out
            tile, out, best = compute(wider)
        sel = wider
    stats.site_pixels_kept += sel.sites.size * window.shape[0] * window.shape[1]
    stats.max_dropped_sum_mw = max(stats.max_dropped_sum_mw, sel.dropped_bound_mw / allowed)
    return tile, out, best, sel


@dataclass(frozen=True)
class SiteCoverage:
    """What each site alone would give every pixel, for site selection (cellscape.planning).

    ``rsrp_dbm``: CSR (n_pixels, n_sites) float32, pixels in row-major grid order; entry (p, i) is
    the RSRP of site i's strongest sector at pixel p, stored only where it is >= ``threshold_dbm``
    (so the sparsity pattern is the coverage relation). ``indoor``: (n_pixels,) bool. The same
    tables, fields and seed as :func:`compute_coverage`: a site's entry equals the RSRP a map of
    that site alone would show.
    """

    grid: RasterGrid
    rsrp_dbm: "sp.csr_matrix"
    indoor: np.ndarray
    threshold_dbm: float
    meta: dict

    def cover(self):
        """The coverage relation, CSR bool (n_pixels, n_sites)."""
        c = self.rsrp_dbm.copy()
        c.data = np.ones(c.data.size, dtype=bool)
        return c.astype(bool)


def site_coverage(scenario: Scenario, grid: RasterGrid, site_xy_m: np.ndarray, *, threshold_dbm: float,
                  footprints=None, terrain: Terrain | None = None, backend: Backend = "numba",
                  progress: Progress | None = None, mem_limit_mb: float | None = None,
                  site_keys=None) -> SiteCoverage:
    """Per-site RSRP above ``threshold_dbm`` for every pixel of ``grid`` (sparse).

    Same inputs as :func:`compute_coverage`; the scenario's sites are the candidates. Memory: the
    tile working set grows by 4 bytes per pixel and site (the per-site RSRP of the tile); the result
    holds one float32 and one int32 per covered (pixel, site) pair. Every site at every pixel (the
    interference cutoff does not apply).
    """
    import scipy.sparse as sp

    if not np.isfinite(threshold_dbm):
        raise ValueError(f"threshold_dbm must be finite, got {threshold_dbm}")
    kernel = _kernel(backend)
    run, windows, _, _, _ = _tiling(scenario, grid, site_xy_m, footprints=footprints, terrain=terrain,
                                    backend=backend, mem_limit_mb=mem_limit_mb, extra_bytes_per_pixel_site=4.0,
                                    los_statistics=False, site_keys=site_keys)
    n_sites = run.static.n_sites
    indoor = np.zeros(grid.shape, dtype=bool)
    pix, site, value = [], [], []
    for done, window in enumerate(windows, start=1):
        tile = tile_inputs(run, window)
        out = kernel(run.static, tile, per_site=True)
        indoor[window.rows, window.cols] = tile.o2i_db > 0
        i, r, c = np.nonzero(out.site_rsrp_dbm >= threshold_dbm)
        pix.append((r + window.row_start).astype(np.int64) * grid.n_cols + (c + window.col_start))
        site.append(i.astype(np.int32))
        value.append(out.site_rsrp_dbm[i, r, c])
        del tile, out
        if progress is not None:
            progress(done, len(windows))
    rsrp = sp.csr_matrix((np.concatenate(value) if value else np.zeros(0, np.float32),
                          (np.concatenate(pix) if pix else np.zeros(0, np.int64),
                           np.concatenate(site) if site else np.zeros(0, np.int32))),
                         shape=(grid.n_pixels, n_sites), dtype=np.float32)
    return SiteCoverage(grid=grid, rsrp_dbm=rsrp, indoor=indoor.ravel(), threshold_dbm=float(threshold_dbm),
                        meta={**run.meta, "backend": backend, "n_tiles": len(windows)})


@dataclass(frozen=True)
class SectorMaps:
    """Every sector's RSRP at every pixel, for the system-level simulator (cellscape.simulation).

    ``rsrp_dbm``: (n_sectors, n_rows, n_cols) float32, the RSRP per resource element of each
    sector (the same link budget as :func:`compute_coverage`'s best server: same tables, fields,
    O2I and LOS, receiver of ``scenario.receiver``); ``los``: (n_sites, n_rows, n_cols) bool, the
    LOS state of each site-pixel link; ``indoor``: (n_rows, n_cols) bool; ``tx_power_per_re_dbm``:
    (n_sectors,) the sectors' power per RE plus the receiver antenna gain of the maps (so the
    coupling loss of a link, BS antenna gain included, is ``tx_power_per_re_dbm - rsrp_dbm``);
    ``sectors``: the sector table; ``sector_site``: (n_sectors,) the site index of each sector.
    """

    grid: RasterGrid
    rsrp_dbm: np.ndarray
    los: np.ndarray
    indoor: np.ndarray
    tx_power_per_re_dbm: np.ndarray
    sectors: SectorTable
    sector_site: np.ndarray
    n_prb: int
    noise_per_re_dbm: float
    meta: dict

    @property
    def n_sectors(self) -> int:
        return int(self.rsrp_dbm.shape[0])

    def pixel_index(self, x_m, y_m) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) of the pixels holding the points (``grid.crs``, [m]), clipped to the grid."""
        g = self.grid
        col = np.clip(((np.asarray(x_m, dtype=float) - g.x_min_m) // g.resolution_m).astype(np.int64), 0, g.n_cols - 1)
        row = np.clip(((g.y_max_m - np.asarray(y_m, dtype=float)) // g.resolution_m).astype(np.int64), 0, g.n_rows - 1)
        return row, col


def sector_maps(scenario: Scenario, grid: RasterGrid, site_xy_m: np.ndarray, *, footprints=None,
                terrain: Terrain | None = None, backend: Backend = "numba", progress: Progress | None = None,
                mem_limit_mb: float | None = None, max_output_mb: float = 4096.0) -> SectorMaps:
    """Every sector's RSRP (and every site's LOS state) at every pixel of ``grid``.

    Same inputs, tile loop, tables and random fields as :func:`compute_coverage`, so a sector's
    map is the RSRP that sector contributes to the coverage map (tested equal). The output holds
    4 bytes per pixel and sector plus 1 per pixel and site; ``max_output_mb`` refuses maps larger
    than that (coarser pixels or a smaller area are the remedy) [MB].

    Always the full sum: ``scenario.interference_cutoff_db`` does not apply. The output holds every
    sector at every pixel anyway (the cutoff could only save the computing, not the memory), and
    the simulator sums these maps with its own loads and noise, so a left-out sector filled with a
    floor value would carry the coverage map's error bound into results that do not state it.
    """
    n_sec, n_sites = scenario.n_sectors, len(scenario.sites)
    need_mb = grid.n_pixels * (4.0 * n_sec + n_sites + 1) / 1e6
    if need_mb > max_output_mb:
        raise GeometryError(f"per-sector maps of {n_sec} sectors on {grid.n_rows} x {grid.n_cols} pixels need "
                            f"{need_mb:.0f} MB (limit {max_output_mb:.0f} MB): use coarser pixels or a smaller area")
    tiles = SectorTiles(scenario, grid, site_xy_m, footprints=footprints, terrain=terrain, backend=backend,
                        mem_limit_mb=mem_limit_mb)
    rsrp = np.empty((n_sec,) + grid.shape, dtype=np.float32)
    los = np.empty((n_sites,) + grid.shape, dtype=bool)
    indoor = np.zeros(grid.shape, dtype=bool)
    for done, t in enumerate(tiles, start=1):
        rsrp[:, t.window.rows, t.window.cols] = t.rsrp_dbm
        los[:, t.window.rows, t.window.cols] = t.los
        indoor[t.window.rows, t.window.cols] = t.indoor
        if progress is not None:
            progress(done, len(tiles.windows))
    run = tiles.run
    return SectorMaps(grid=grid, rsrp_dbm=rsrp, los=los, indoor=indoor, tx_power_per_re_dbm=tiles.tx_power_per_re_dbm,
                      sectors=run.sectors, sector_site=run.static.sector_site.copy(), n_prb=run.n_prb,
                      noise_per_re_dbm=tiles.noise_per_re_dbm, meta=tiles.meta())


@dataclass(frozen=True)
class SectorTile:
    """Every sector's RSRP on one tile: ``window``; ``rsrp_dbm`` (n_sectors, rows, cols) float32;
    ``los`` (n_sites, rows, cols) bool; ``indoor`` (rows, cols) bool (as :class:`SectorMaps`)."""

    window: Window
    rsrp_dbm: np.ndarray
    los: np.ndarray
    indoor: np.ndarray


class SectorTiles:
    """The per-sector RSRP of a run one tile at a time (what :func:`sector_maps` assembles), for
    jobs that reduce over sectors tile by tile with memory flat in the map's size (cellscape.pipeline.sense).
    Same inputs, tiling, tables and random fields as :func:`compute_coverage`; the full sum.
    ``tx_power_per_re_dbm`` and ``noise_per_re_dbm`` as in :class:`SectorMaps`."""

    def __init__(self, scenario: Scenario, grid: RasterGrid, site_xy_m: np.ndarray, *, footprints=None,
                 terrain: Terrain | None = None, backend: Backend = "numba", mem_limit_mb: float | None = None):
        self.backend = backend
        self._kernel = _kernel(backend)
        self.run, self.windows, _, _, _ = _tiling(scenario, grid, site_xy_m, footprints=footprints, terrain=terrain,
                                                  backend=backend, mem_limit_mb=mem_limit_mb, los_statistics=False)
        self.tx_power_per_re_dbm = self.run.sectors.tx_power_per_re_dbm
        self.noise_per_re_dbm = float(10.0 * np.log10(self.run.static.noise_mw))

    def __iter__(self):
        for window in self.windows:
            tile = tile_inputs(self.run, window)
            out = self._kernel(self.run.static, tile, per_sector_rsrp=True)
            result = SectorTile(window, out.sector_rsrp_dbm, out.site_los, tile.o2i_db > 0)
            del tile, out
            yield result

    def site_rsrp(self, window: Window, sites=None) -> tuple[np.ndarray, np.ndarray]:
        """RSRP of each site's strongest sector on ``window`` (any block of the grid), for ``sites``
        (strictly ascending site indices; None: every site): (n_sites or len(sites), rows, cols)
        float32, and the window's indoor mask (rows, cols) bool. A site's values do not depend on
        the other sites computed with it (cellscape.pipeline.sense prunes sites per block with the
        cutoff bounds and relies on this)."""
        run = self.run
        if sites is None:
            tile, st = tile_inputs(run, window), run.static
        else:
            sites = np.asarray(sites, dtype=np.int64)
            tile, st = tile_inputs(run, window, sites), cutoff.subset_static(run.static, sites)
        out = self._kernel(st, tile, per_site=True)
        return out.site_rsrp_dbm, tile.o2i_db > 0

    def meta(self) -> dict:
        return {**self.run.meta, "backend": self.backend, "n_tiles": len(self.windows)}
