"""Tiles of a national network: each block of the map computed from the sites within reach only.

A network of millions of sites (``cellscape synth-network``; a site file read column-wise into
:class:`~cellscape.scenario.columns.SiteColumns`) is never prepared as a whole: no per-site record,
random field or table row exists for all of it at once. The map is cut into square blocks; for
each window of a block the interference cutoff's far radius (:func:`cellscape.coverage.cutoff.far_radius`,
from the far field of the whole network: site counts on a coarse grid) says which sites it may look
at; a ball query of a k-d tree of the sites (:class:`scipy.spatial.cKDTree`) gives the block the
sites within those radii, and the block is computed from those alone (:func:`compute_part`): their
records, their random streams keyed by their index in the whole network, the whole network's
distance-table extent, common shadowing field and far field
(:class:`~cellscape.coverage.engine.NetworkContext`).
With Dask each block is one task that carries its own sites: no task ships the whole site table.

Same bits as the whole network: a tile's kept sites are those the cutoff of the whole network
would keep (every site it could keep lies within its far radius), and each kept site's
tables, fields and sector values are those of the whole-network run, so each pixel is computed
from the same kept sites with the same numbers (tests/test_national.py). A block carries, per
window, the sites within the far radius of the cutoff's first try (or of the noise's budget where
those are few, :data:`COMFORT_SITES`); a window whose tile needs more (a second try within a smaller
budget, or a best server to certify farther out: :class:`~cellscape.coverage.engine.NeedsMoreSites`)
is computed again with the sites it asked for (:meth:`NationalTiles.finish`, or another round of
Dask tasks). Without a cutoff
(``compute.interference_cutoff_db: null``) the reach is unbounded and every block carries every
site: fine for a city, refused above :data:`MAX_SITES_PER_BLOCK`.

The best-sector indices of the tiles are those of the whole network (site order of the site
file, sectors in row order).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
import math

import numpy as np
from scipy.spatial import cKDTree

from cellscape.coverage import cutoff, engine
from cellscape.coverage.engine import Backend, CoverageTile, CoverageTiles, NetworkContext
from cellscape.errors import ScenarioError
from cellscape.geo.grid import RasterGrid, Window, square_blocks
from cellscape.geo.surface import Terrain
from cellscape.pipeline.coverage import site_positions_m
from cellscape.scenario.columns import SiteColumns
from cellscape.scenario.records import Scenario

BLOCK_SIDE_PX = 1024
"""Side of the square blocks that share one site subset [pixels] (a block of 1 M pixels; at least
one block's strip is computed at a time within ``compute.mem_limit_mb``)."""

COMFORT_SITES = 5_000
"""A window whose far radius at the noise's budget holds at most this many sites gets them (and
those within the default certification radius) up front, so that its tile seldom needs more; a
denser one starts from the relative budget's first try."""

MAX_SITES_PER_BLOCK = 50_000
"""Most sites one block may carry: more means the cutoff leaves nothing out at that scale
(``interference_cutoff_mode: bound`` with statistical LOS or shadow fading reaches ~150 km)."""


def _with_sites(scenario: Scenario, columns: SiteColumns, idx: np.ndarray) -> Scenario:
    """``scenario`` holding the sites ``idx`` of ``columns``, keyed by their index in the network."""
    idx = np.asarray(idx, dtype=np.int64)
    return replace(scenario, sites=columns.records(idx), site_keys=tuple(int(i) for i in idx))


def network_of(scenario: Scenario, grid: RasterGrid, columns: SiteColumns,
               xy_m: np.ndarray) -> tuple[NetworkContext, engine.PreparedRun, cutoff.CutoffIndex | None]:
    """The :class:`NetworkContext` of the whole network of ``columns`` (with its far field when the
    scenario has an interference cutoff), the prepared run of one site of each kind (the model facts
    of the run's meta) and its index with that far field (to compute far radii on the driver; None
    without a cutoff)."""
    network = engine.network_context(scenario, grid, xy_m, np.unique(np.asarray(columns.environment, dtype=str)))
    code = _sector_keys(columns)
    idx = _kinds(columns, code)
    run = engine.prepare(_with_sites(scenario, columns, idx), grid, xy_m[idx], network=network)
    if scenario.interference_cutoff_db is None:
        return network, run, None
    kinds = engine.cutoff_index(run, scenario.interference_cutoff_db)
    env = np.asarray(columns.environment, dtype=str)
    kind = engine.site_kinds(np.where(env == "", scenario.environment, env), columns.height_m)
    pattern, p_re = _sector_patterns(columns, idx, run, code)
    sums = cutoff.site_gain_sum_mw(run.static.gain_lin, run.static.phi_step_deg, columns.sector_site, pattern, p_re,
                                   90.0 - np.asarray(columns.azimuth_deg, dtype=float), columns.n_sites)
    bounds = cutoff.kind_bounds_mw(kinds, cutoff.group_max(kind, sums))
    far = cutoff.far_field(xy_m[:, 0], xy_m[:, 1], kind, bounds, run.static.u_step)
    return replace(network, far=far), run, replace(kinds, far=far)


def _sector_keys(columns: SiteColumns) -> np.ndarray:
    """(n_sectors,) a code per kind of sector (environment, height, antenna, power, tilts)."""
    sec_site = np.asarray(columns.sector_site, dtype=np.int64)
    _, env_code = np.unique(np.asarray(columns.environment, dtype=str), return_inverse=True)
    antenna = np.zeros(columns.n_sectors) if columns.sector_antenna is None else columns.sector_antenna
    key = np.column_stack([env_code[sec_site].astype(float), np.asarray(columns.height_m, dtype=float)[sec_site],
                           np.asarray(antenna, dtype=float),
                           np.asarray(columns.tx_power_dbm, dtype=float), np.asarray(columns.mech_tilt_deg, dtype=float),
                           np.asarray(columns.elec_tilt_deg, dtype=float)])
    return np.unique(key, axis=0, return_inverse=True)[1].ravel()


def _sector_patterns(columns: SiteColumns, idx: np.ndarray, run: engine.PreparedRun,
                     code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each network sector's antenna table and power per RE in ``run`` (prepared from the sites
    ``idx``, which hold every kind of sector; ``code``: :func:`_sector_keys`): (n_sectors,) pattern
    index and p_RE [mW]."""
    ptr = np.asarray(columns.sector_ptr, dtype=np.int64)
    in_run = np.concatenate([np.arange(ptr[i], ptr[i + 1]) for i in np.asarray(idx, dtype=np.int64)])
    # the run numbers its sectors site by site in idx's order, each site's in column order: in_run's order
    st = run.static
    pattern_of = np.full(int(code.max()) + 1, -1, dtype=np.int64)
    p_of = np.zeros(int(code.max()) + 1)
    pattern_of[code[in_run]] = st.sector_pattern
    p_of[code[in_run]] = st.sector_p_re_mw
    return pattern_of[code], p_of[code]


def _kinds(columns: SiteColumns, code: np.ndarray | None = None) -> np.ndarray:
    """One site of each kind of sector the network holds (environment, height, power, tilts): the
    sites whose far radii are the largest of the network's (cellscape.coverage.cutoff). ``code``:
    :func:`_sector_keys`, if already computed."""
    code = _sector_keys(columns) if code is None else code
    _, first = np.unique(code, return_index=True)
    return np.unique(np.asarray(columns.sector_site, dtype=np.int64)[first])


@dataclass(frozen=True)
class Part:
    """One block's work: its windows (strips within the memory budget), the sites within reach
    (indices into the network, ascending), their positions [m] and the network index of each of
    their sectors in the order the engine numbers them."""

    windows: tuple[Window, ...]
    sites: np.ndarray
    xy_m: np.ndarray
    sector_index: np.ndarray
    covered_m: tuple[float, ...]      # per window: the part holds every site within it of the window's centre


@dataclass(frozen=True)
class PartJob:
    """What every part of a run shares (scattered once per Dask worker)."""

    scenario: Scenario          # sites=(): a part brings its own
    grid: RasterGrid
    network: NetworkContext
    footprints: object
    terrain: Terrain | None
    backend: str


def compute_part(job: PartJob, part: Part, records) -> list[tuple[Window, CoverageTile | None, object]]:
    """The tiles of ``part`` (``records``: the Site records of ``part.sites``): per window (window,
    tile, cutoff statistics), best sectors numbered as in the whole network, or (window, None,
    radius) where the cutoff needs the sites within ``radius`` [m] of the window's centre, more than
    the part holds (:class:`~cellscape.coverage.engine.NeedsMoreSites`)."""
    sub = replace(job.scenario, sites=tuple(records), site_keys=tuple(int(i) for i in part.sites))
    tiles = CoverageTiles(sub, job.grid, part.xy_m, footprints=job.footprints, terrain=job.terrain,
                          backend=job.backend, network=job.network)
    out = []
    for window, covered in zip(part.windows, part.covered_m):
        try:
            tile, stats = tiles.tile_alone(window, covered_m=None if math.isinf(covered) else covered)
        except engine.NeedsMoreSites as more:
            out.append((window, None, more.radius_m))
            continue
        best = tile.best_sector
        best = np.where(best >= 0, part.sector_index[np.maximum(best, 0)], -1).astype(np.int32)
        out.append((window, replace(tile, best_sector=best), stats))
    return out


class NationalTiles:
    """The tiles of a network given column-wise, block by block from the sites within reach.

    The same interface as :class:`~cellscape.coverage.engine.CoverageTiles` for
    cellscape.pipeline.stream: ``windows``, :meth:`tiles`, ``cutoff_stats``, :meth:`meta`, plus
    :meth:`parts` (the work per block, for Dask).
    """

    def __init__(self, scenario: Scenario, grid: RasterGrid, columns: SiteColumns, *, footprints=None,
                 terrain: Terrain | None = None, backend: Backend = "numba", block_px: int = BLOCK_SIDE_PX):
        self.scenario = replace(scenario, sites=(), site_keys=None)
        self.grid = grid
        self.columns = columns
        self.backend = backend
        self.xy_m = site_positions_m(columns.x, columns.y, scenario, grid)
        self.network, self._kinds_run, self._kinds_index = network_of(scenario, grid, columns, self.xy_m)
        self.job = PartJob(self.scenario, grid, self.network, footprints, terrain, backend)
        self.tree = cKDTree(self.xy_m, leafsize=32)
        self.cutoff_stats = engine._CutoffStats()
        self.far_radii_m: list[float] = []
        self.windows_recomputed = 0         # windows whose part held too few sites (finish)
        self._blocks = list(square_blocks(grid, max_pixels=int(block_px) ** 2))
        self._windows, self._sites, self._covered = [], [], []
        for block in self._blocks:
            strips = self._strips(block, self._ball(block)[1].size)
            self._windows.append(strips)
            sites, covered = self._sites_of(strips)
            self._sites.append(sites)
            self._covered.append(covered)
        self.windows = [w for ws in self._windows for w in ws]

    def _ball(self, window: Window, radius_m: float | None = None) -> tuple[float, np.ndarray]:
        """A radius [m] (default: the far radius of ``window`` as one tile at the cutoff's first try)
        and the sites within it of the window's centre."""
        if self._kinds_index is None:
            return math.inf, np.arange(self.columns.n_sites, dtype=np.int64)
        x = self.grid.x_centers_m(window.cols)
        y = self.grid.y_centers_m(window.rows)
        centre = (0.5 * (x[0] + x[-1]), 0.5 * (y[0] + y[-1]))
        if radius_m is None:
            # the noise's budget where its sites are few (no second try can need more), else the
            # cutoff's first try (RELATIVE_GAIN_DB) and more on demand
            radius_m = max(cutoff.far_radius(self._kinds_index, x, y)[0], cutoff.certify_radius(self._kinds_index, x, y))
            if not (math.isfinite(radius_m)
                    and self.tree.query_ball_point(centre, radius_m, return_length=True) <= COMFORT_SITES):
                radius_m = cutoff.far_radius(self._kinds_index, x, y,
                                             gain=10.0 ** (cutoff.RELATIVE_GAIN_DB / 10.0))[0]
        r = radius_m
        if not math.isfinite(r):
            return r, np.arange(self.columns.n_sites, dtype=np.int64)
        return r, np.asarray(self.tree.query_ball_point(centre, r * (1.0 + 1e-9) + 1e-6), dtype=np.int64)

    def _sites_of(self, strips: list[Window], radius_m: float | None = None) -> tuple[np.ndarray, list[float]]:
        """Every site within the radius (default: each strip's far radius) of one of ``strips``
        (the tiles), ascending, and the radius each strip is covered to."""
        found, covered = [], []
        for w in strips:
            r, near = self._ball(w, radius_m)
            self.far_radii_m.append(r)
            covered.append(r)
            found.append(near)
        sites = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
        if sites.size > MAX_SITES_PER_BLOCK:
            sc = self.scenario
            if sc.interference_cutoff_db is None:
                remedy = "set compute.interference_cutoff_db (e.g. 0.1) and compute.interference_cutoff_mode: expected"
            elif sc.interference_cutoff_mode != "expected":
                remedy = "set compute.interference_cutoff_mode: expected"
            else:
                remedy = ("raise compute.interference_cutoff_db (now "
                          f"{sc.interference_cutoff_db:g} dB) or map a region with a regional site file")
            raise ScenarioError(f"a block of the map needs {sites.size:,} sites (largest far radius "
                                f"{max(covered) / 1e3:.0f} km); at most {MAX_SITES_PER_BLOCK:,}: {remedy}")
        return sites, covered

    def _strips(self, block: Window, n_sites: int) -> list[Window]:
        """``block`` cut into full-width strips whose working set fits ``mem_limit_mb`` with ``n_sites``."""
        per_site = engine._BYTES_PER_PIXEL_SITE[self.backend]
        cols = block.col_stop - block.col_start
        rows = max(1, int(self.scenario.mem_limit_mb * 1e6 // max(1.0, per_site * cols * max(1, n_sites))))
        return [Window(r, min(r + rows, block.row_stop), block.col_start, block.col_stop)
                for r in range(block.row_start, block.row_stop, rows)]

    def parts(self, windows=None) -> Iterator[Part]:
        """The :class:`Part` of every block holding one of ``windows`` (default all), in block order,
        each with the windows of ``windows`` it holds."""
        wanted = None if windows is None else set(windows)
        for ws, sites, covered in zip(self._windows, self._sites, self._covered):
            pick = [k for k, w in enumerate(ws) if wanted is None or w in wanted]
            if pick:
                yield self._part(tuple(ws[k] for k in pick), sites, tuple(covered[k] for k in pick))

    def _part(self, windows, sites: np.ndarray, covered) -> Part:
        return Part(tuple(windows), sites, self.xy_m[sites], self.columns.sectors_of(sites), tuple(covered))

    def retry_part(self, window: Window, radius_m: float) -> Part:
        """A part of one window holding the sites within ``radius_m`` of its centre (its part held
        too few: :func:`compute_part` asked for them)."""
        self.windows_recomputed += 1
        sites, covered = self._sites_of([window], radius_m=radius_m)
        return self._part([window], sites, covered)

    def finish(self, results) -> Iterator[tuple[CoverageTile, object]]:
        """(tile, stats) of :func:`compute_part`'s results, computing here again, with the sites
        within the radius it asked for, every window whose part held too few."""
        for window, tile, extra in results:
            while tile is None:
                part = self.retry_part(window, extra)
                ((_, tile, extra),) = compute_part(self.job, part, self.records(part))
            yield tile, extra

    def links_upper_bound(self) -> int:
        """Sum over blocks of pixels x sites within reach: the links before the cutoff's per-tile choice."""
        return int(sum(b.shape[0] * b.shape[1] * s.size for b, s in zip(self._blocks, self._sites)))

    def sector_table(self) -> "SectorNames":
        """``sector_id`` / ``site_id`` of every sector of the network (for the KPIs)."""
        return SectorNames(self.columns)

    def records(self, part: Part):
        """The Site records of a part's sites."""
        return self.columns.records(part.sites)

    def tiles(self, windows=None) -> Iterator[CoverageTile]:
        """Yield the tile of each window (default: all), block by block."""
        for part in self.parts(windows):
            for tile, stats in self.finish(compute_part(self.job, part, self.records(part))):
                self.cutoff_stats.merge(stats)
                yield tile

    def meta(self) -> dict:
        """What the run used: the model facts of the network's kinds of site, the cutoff and the blocks."""
        run = self._kinds_run
        n_sites = np.array([s.size for s in self._sites])
        cut = {"cutoff_db": self.scenario.interference_cutoff_db}
        if self.scenario.interference_cutoff_db is not None:
            st = run.static
            cut.update({
                "sinr_error_bound_db": round(float(engine.cutoff.sinr_error_bound_db(
                    self.cutoff_stats.max_dropped_sum_mw, st.noise_mw, st.load_factor)), 6),
                "kept_site_fraction": round(self.cutoff_stats.site_pixels_kept
                                            / max(1, self.grid.n_pixels * self.columns.n_sites), 9),
                "windows_recomputed_with_more_sites": self.windows_recomputed,
                "far_radius_m_max": round(max(self.far_radii_m), 1) if self.far_radii_m else None,
                "far_radius_m_median": round(float(np.median(self.far_radii_m)), 1) if self.far_radii_m else None,
                "tiles_widened": self.cutoff_stats.tiles_widened,
                "pixels_widened": self.cutoff_stats.pixels_widened,
            })
        return {**run.meta, "backend": self.backend,
                "n_tiles": len(self.windows), "interference_cutoff": cut,
                "site_subsets": {"n_sites": int(self.columns.n_sites), "n_sectors": int(self.columns.n_sectors),
                                 "blocks": len(self._blocks), "sites_per_block_mean": float(n_sites.mean()),
                                 "sites_per_block_max": int(n_sites.max())}}


@dataclass(frozen=True)
class SectorNames:
    """Sector and site names of a network's sectors by network sector index (looked up on demand)."""

    columns: SiteColumns

    @property
    def sector_id(self):
        return self.columns.sector_id

    @property
    def site_id(self):
        return _SiteOfSector(self.columns)


@dataclass(frozen=True)
class _SiteOfSector:
    columns: SiteColumns

    def __getitem__(self, i: int):
        return self.columns.site_id[int(self.columns.sector_site[i])]


def network_key(columns: SiteColumns) -> str:
    """A digest of everything a network's columns hold (a streamed run's journal is tied to it)."""
    import hashlib

    h = hashlib.sha256()
    for name in ("x", "y", "height_m", "sector_ptr", "azimuth_deg", "tx_power_dbm", "mech_tilt_deg", "elec_tilt_deg"):
        h.update(np.ascontiguousarray(getattr(columns, name)).tobytes())
    for name in ("site_id", "environment", "sector_id"):
        h.update("\x1f".join(map(str, getattr(columns, name))).encode())
    return h.hexdigest()
