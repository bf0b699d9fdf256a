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
With Dask each block is one task that carries its own sites: no task ships the whole site table;
where the blocks are too few to keep every worker busy to the end, the costliest are cut into
tasks of fewer windows (:meth:`NationalTiles.tasks`).

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
import heapq
import math

import numpy as np
from scipy.spatial import cKDTree

from cellscape.coverage import background, cutoff, engine
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

BACKGROUND_CANDIDATES = 400
"""Mode "background": where the network is sparse a window grows (from r0 up to the block, within
``mem_limit_mb``) until its candidates, the sites within 2 r0 + its half diagonal, are about this
many: fewer, larger tiles where a tile's fixed work would dominate."""

BACKGROUND_CERTIFY_BELOW_DB = (40.0, 30.0, cutoff.CERTIFY_BELOW_BUDGET_DB)
"""Mode "background": a part holds the sites that could be the best server at pixels down to the
first of these [dB] under the cutoff's budget whose radius is finite and holds at most COMFORT_SITES
(a tile certifies its best servers that deep, cutoff.widen: a part holding fewer sites computes the
window twice). On the Henan window of the national benchmark: no window computed twice."""

MIN_TASKS_PER_THREAD = 8
""":meth:`NationalTiles.tasks`: where the blocks are fewer than this many per worker thread, the
costliest are cut into parts of fewer windows until there are (or each is one window). Blocks are
unequal (a town costs ~20 times the farmland beside it), so a run of a few blocks waited on its
costliest one; a cut costs each extra task its set-up, 0.1-0.25 s on the Henan window of
benchmarks/national_bench.py against 0.3-10 s a window."""

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
    del env
    pattern_of, p_of = _sector_tables(columns, idx, run, code)
    sums = _site_gain_sums(run, columns, code, pattern_of, p_of)
    del code
    bounds = cutoff.kind_bounds_mw(kinds, cutoff.group_max(kind, sums))
    far = cutoff.far_field(xy_m[:, 0], xy_m[:, 1], kind, bounds, run.static.u_step)
    if kinds.certify is None:
        return replace(network, far=far), run, replace(kinds, far=far)
    # mode background: the far field the best servers are certified with (cutoff.certify_index)
    cert_bounds = cutoff.kind_bounds_mw(kinds.certify, cutoff.group_max(kind, sums))
    far_c = cutoff.far_field(xy_m[:, 0], xy_m[:, 1], kind, cert_bounds, run.static.u_step)
    return (replace(network, far=far, far_certify=far_c), run,
            replace(kinds, far=far, certify=replace(kinds.certify, far=far_c)))


def _sector_keys(columns: SiteColumns) -> np.ndarray:
    """(n_sectors,) a code per kind of sector (environment, height, antenna, power, tilts).

    Sectors share a code when every one of those values is equal (``==``, as
    ``np.unique(axis=0)`` of their rows), numbered in sorted order of the values. Built one column
    at a time on integer codes (site columns on sites, then sectors), in place and in blocks, never
    a (n_sectors, 6) table: 13.2 M sectors need ~0.3 GB of transient memory instead of ~2.5 GB.
    """
    _, env_code = np.unique(np.asarray(columns.environment, dtype=str), return_inverse=True)
    site_code = _combine(env_code.ravel().astype(np.int64), _factor(columns.height_m))        # (n_sites,)
    code = np.repeat(site_code, np.diff(np.asarray(columns.sector_ptr, dtype=np.int64)))       # (n_sectors,)
    del site_code
    antenna = None if columns.sector_antenna is None else columns.sector_antenna
    for values in (antenna, columns.tx_power_dbm, columns.mech_tilt_deg, columns.elec_tilt_deg):
        if values is not None:
            code = _combine(code, _factor(values))
    return code


_BLOCK = 1 << 20


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values of ``values``, sorted (np.unique), found block by block (a few distinct
    values among millions: no sorted copy of the whole array)."""
    parts = [np.unique(values[start:start + _BLOCK]) for start in range(0, len(values), _BLOCK)]
    return np.unique(np.concatenate(parts)) if parts else np.unique(values)


def _factor(values) -> np.ndarray:
    """(n,) int64 codes of ``values``: the rank of each value among the distinct ones (np.unique's
    inverse; equal values, equal codes); a broadcast constant (stride 0: a column no sector gives)
    codes to zeros without a look."""
    a = np.asarray(values, dtype=float)
    if a.ndim == 1 and a.size and a.strides[0] == 0:
        return np.zeros(a.size, dtype=np.int64)
    distinct = _distinct(a)
    out = np.empty(a.size, dtype=np.int64)
    for start in range(0, a.size, _BLOCK):
        out[start:start + _BLOCK] = np.searchsorted(distinct, a[start:start + _BLOCK])
    return out


def _combine(code: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Codes of the pairs (``code``, ``other``), in lexicographic order of the pairs, from 0
    (overwrites ``code``, an int64 array of codes from 0, and returns it)."""
    if not other.size or not other.any():
        return code
    code *= int(other.max()) + 1                              # < n_sectors**2: no int64 overflow
    code += other
    distinct = _distinct(code)
    for start in range(0, code.size, _BLOCK):
        code[start:start + _BLOCK] = np.searchsorted(distinct, code[start:start + _BLOCK])
    return code


def _sector_patterns(columns: SiteColumns, idx: np.ndarray, run: engine.PreparedRun,
                     code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each network sector's antenna table and power per RE in ``run`` (prepared from the sites
    ``idx``, which hold every kind of sector; ``code``: :func:`_sector_keys`): (n_sectors,) pattern
    index and p_RE [mW]."""
    pattern_of, p_of = _sector_tables(columns, idx, run, code)
    return pattern_of[code], p_of[code]


def _sector_tables(columns: SiteColumns, idx: np.ndarray, run: engine.PreparedRun,
                   code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_sector_patterns` per kind of sector: (n_codes,) pattern index and p_RE [mW] of each
    code of :func:`_sector_keys` (a sector's are ``table[code[sector]]``)."""
    ptr = np.asarray(columns.sector_ptr, dtype=np.int64)
    in_run = np.concatenate([np.arange(ptr[i], ptr[i + 1]) for i in np.asarray(idx, dtype=np.int64)])
    # the run numbers its sectors site by site in idx's order, each site's in column order: in_run's order
    st = run.static
    pattern_of = np.full(int(code.max()) + 1, -1, dtype=np.int64)
    p_of = np.zeros(int(code.max()) + 1)
    pattern_of[code[in_run]] = st.sector_pattern
    p_of[code[in_run]] = st.sector_p_re_mw
    return pattern_of, p_of


SITE_GAIN_BLOCK_SITES = 1 << 19
"""Sites per call of :func:`cellscape.coverage.cutoff.site_gain_sum_mw` on the driver (its working
set is ~100 bytes per sector: the 13.2 M sectors of China at once would need ~1.3 GB)."""


def _site_gain_sums(run: engine.PreparedRun, columns: SiteColumns, code: np.ndarray, pattern_of: np.ndarray,
                    p_of: np.ndarray, *, block_sites: int = SITE_GAIN_BLOCK_SITES) -> np.ndarray:
    """(n_sites,) :func:`cellscape.coverage.cutoff.site_gain_sum_mw` of the whole network, computed
    block of sites by block of sites, the same bits.

    A site's value depends on its own sectors only (its arrangement's bound and its sectors' peaks,
    summed in sector order), except that beyond ``MAX_SITE_SIGNATURES`` distinct arrangements in the
    network every site takes its sectors' peak sum: the distinct arrangements are therefore counted
    over the whole network first (block by block, as the function codes them), and where they are
    too many the function runs once on the whole network."""
    st = run.static
    ptr = np.asarray(columns.sector_ptr, dtype=np.int64)
    n = columns.n_sites
    az = columns.azimuth_deg

    def block(a: int, b: int):
        lo, hi = int(ptr[a]), int(ptr[b])
        site = np.repeat(np.arange(b - a, dtype=np.int64), np.diff(ptr[a:b + 1]))
        c = code[lo:hi]
        return site, pattern_of[c], p_of[c], 90.0 - np.asarray(az[lo:hi], dtype=float)

    starts = range(0, n, max(1, int(block_sites)))
    if n <= block_sites or _signature_count(st.phi_step_deg, p_of, starts, n, block) > cutoff.MAX_SITE_SIGNATURES:
        site, pattern, p_re, bearing = block(0, n)
        return cutoff.site_gain_sum_mw(st.gain_lin, st.phi_step_deg, site, pattern, p_re, bearing, n)
    out = np.empty(n)
    for a in starts:
        b = min(a + block_sites, n)
        site, pattern, p_re, bearing = block(a, b)
        out[a:b] = cutoff.site_gain_sum_mw(st.gain_lin, st.phi_step_deg, site, pattern, p_re, bearing, b - a)
    return out


def _signature_count(phi_step_deg: float, p_of: np.ndarray, starts, n: int, block) -> int:
    """Distinct sector arrangements of the network's sites as :func:`cellscape.coverage.cutoff.site_gain_sum_mw`
    codes them (pattern, power and bearing node relative to the site's first sector, per sector in
    order), counted block by block; stops counting past ``MAX_SITE_SIGNATURES``."""
    n_nodes = int(round(360.0 / phi_step_deg))
    p_values = np.unique(p_of)
    step = starts.step
    seen: set[bytes] = set()
    for a in starts:
        b = min(a + step, n)
        site, pattern, p_re, bearing = block(a, b)
        node = np.floor(np.mod(bearing, 360.0) / phi_step_deg).astype(np.int64)
        first = np.searchsorted(site, np.arange(b - a))
        rank = np.arange(site.size) - first[site]
        rel = np.mod(node - node[first[site]], n_nodes)
        p_code = np.searchsorted(p_values, p_re)
        sig = np.zeros((b - a, int(rank.max()) + 1), dtype=np.int64)
        sig[site, rank] = (pattern * p_values.size + p_code) * n_nodes + rel + 1
        for row in np.unique(sig, axis=0):
            seen.add(np.trim_zeros(row, "b").tobytes())
        if len(seen) > cutoff.MAX_SITE_SIGNATURES:
            break
    return len(seen)


def _kinds(columns: SiteColumns, code: np.ndarray | None = None) -> np.ndarray:
    """One site of each kind of sector the network holds (environment, height, power, tilts): the
    sites whose far radii are the largest of the network's (cellscape.coverage.cutoff). ``code``:
    :func:`_sector_keys`, if already computed."""
    code = _sector_keys(columns) if code is None else code
    first = np.full(int(code.max()) + 1, code.size, dtype=np.int64)     # each code's first sector
    for start in range(0, code.size, _BLOCK):
        values, at = np.unique(code[start:start + _BLOCK], return_index=True)
        first[values] = np.minimum(first[values], at + start)
    first = first[first < code.size]
    sector_site = np.searchsorted(np.asarray(columns.sector_ptr, dtype=np.int64), first, side="right") - 1
    return np.unique(sector_site)


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
    background: background.BackgroundRaster | None = None   # mode "background": the raster over its windows
    r0_m: float | None = None         # mode "background": the block's r0 (compute.background_radius_isd)


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
    if part.r0_m is not None:             # the block's own r0, not the part's density
        sub = replace(sub, background_radius_m=part.r0_m, background_radius_isd=None)
    network = job.network if part.background is None else replace(job.network, background=part.background)
    tiles = CoverageTiles(sub, job.grid, part.xy_m, footprints=job.footprints, terrain=job.terrain,
                          backend=job.backend, network=network)
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


def _candidate_radius_m(r0_m: float, x_m: np.ndarray, y_m: np.ndarray) -> float:
    """Mode "background": 2 r0 + the half diagonal of the window of pixel centres x_m x y_m [m] (its
    tile's candidates lie within it of the centre: cutoff.background_radius_m)."""
    return 2.0 * r0_m + math.hypot(x_m[-1] - x_m[0], y_m[-1] - y_m[0]) / 2.0


def _links(part: Part) -> int:
    """A part's work in site-pixel links before the cutoff: what orders the parts on the workers."""
    return sum(w.shape[0] * w.shape[1] for w in part.windows) * max(1, part.sites.size)


def _even_cuts(start: int, stop: int, side: int) -> list[tuple[int, int]]:
    """[start, stop) cut into the fewest pieces of at most ``side`` (>= 1), as equal as integers allow
    (lengths differ by at most one, longer first): no sliver a pixel or two wide at the end, whose
    tiles would cost each kept site's field set-up for a few pixels."""
    n = max(1, -(-(stop - start) // side))
    q, r = divmod(stop - start, n)
    cuts, a = [], start
    for k in range(n):
        b = a + q + (1 if k < r else 0)
        cuts.append((a, b))
        a = b
    return cuts


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
        self._background = self._background_setup()
        self._blocks = list(square_blocks(grid, max_pixels=int(block_px) ** 2))
        self._windows, self._sites, self._covered, self._r0 = [], [], [], []
        self._window_r0: dict[Window, float] = {}
        for block in self._blocks:
            r0 = self._block_r0(block)
            # mode background cuts the block by r0 and its own count of candidates: no ball of the block
            n_sites = 0 if self._background is not None else self._ball(block)[1].size
            strips = self._strips(block, n_sites, r0_m=r0)
            self._windows.append(strips)
            sites, covered = self._sites_of(strips, r0_m=r0)
            self._sites.append(sites)
            self._covered.append(covered)
            self._r0.append(r0)
            self._window_r0.update(dict.fromkeys(strips, r0))
        self.windows = [w for ws in self._windows for w in ws]

    def _block_r0(self, block: Window) -> float | None:
        """Mode "background": r0 of ``block`` [m]: ``background_radius_m``, or with
        ``background_radius_isd`` that many local inter-site distances at the block's centre, at most
        ``background_radius_m`` (cellscape.coverage.background.adaptive_r0_m); None in other modes."""
        sc = self.scenario
        if self._background is None:
            return None
        if sc.background_radius_isd is None:
            return sc.background_radius_m
        x = self.grid.x_centers_m(block.cols)
        y = self.grid.y_centers_m(block.rows)
        isd = background.local_isd_m(self.tree, 0.5 * (x[0] + x[-1]), 0.5 * (y[0] + y[-1]))
        return background.adaptive_r0_m(isd, sc.background_radius_isd, sc.background_radius_m)

    def _background_setup(self):
        """Mode "background" (cellscape.coverage.background): the expected-power model of the kinds run,
        each network sector's kind and each kind's representative sector in that run; None otherwise."""
        sc = self.scenario
        if sc.interference_cutoff_db is None or sc.interference_cutoff_mode != "background":
            return None
        st = self._kinds_run.static
        model = background.background_model(st, r0_m=sc.background_radius_m, shadow_fading=sc.shadow_fading,
                                            los_mode=sc.los_mode)
        code = _sector_keys(self.columns)
        ptr = np.asarray(self.columns.sector_ptr, dtype=np.int64)
        in_run = np.concatenate([np.arange(ptr[i], ptr[i + 1]) for i in _kinds(self.columns, code)])
        rep = np.zeros(int(code.max()) + 1, dtype=np.int64)
        rep[code[in_run]] = np.arange(in_run.size)      # the kinds run numbers its sectors in in_run's order
        return model, code, rep

    def _background_raster(self, windows, r0_m: float | None) -> background.BackgroundRaster | None:
        """The background raster (for r0 ``r0_m``) over ``windows`` from every network sector within reach of them."""
        if self._background is None:
            return None
        model, code, rep = self._background
        model = replace(model, r0_m=float(r0_m))
        x0, y0, x1, y1 = math.inf, math.inf, -math.inf, -math.inf
        for w in windows:
            x = self.grid.x_centers_m(w.cols)
            y = self.grid.y_centers_m(w.rows)
            x0, x1 = min(x0, float(x.min())), max(x1, float(x.max()))
            y0, y1 = min(y0, float(y.min())), max(y1, float(y.max()))
        centre = (0.5 * (x0 + x1), 0.5 * (y0 + y1))
        reach = background.REACH_R0 * model.r0_m + math.hypot(x1 - x0, y1 - y0) / 2.0
        sites = np.asarray(self.tree.query_ball_point(centre, reach), dtype=np.int64)
        sectors = self.columns.sectors_of(np.sort(sites)) if sites.size else np.zeros(0, dtype=np.int64)
        sec_site = np.asarray(self.columns.sector_site, dtype=np.int64)[sectors]
        return background.build_raster(model, self._kinds_run.static, rep, self.xy_m[sec_site, 0],
                                       self.xy_m[sec_site, 1], code[sectors], (x0, y0, x1, y1))

    def _ball(self, window: Window, radius_m: float | None = None, *, r0_m: float | None = None) -> tuple[float, np.ndarray]:
        """A radius [m] (default: the far radius of ``window`` as one tile at the cutoff's first try;
        mode "background": from r0 ``r0_m``) and the sites within it of the window's centre."""
        if self._kinds_index is None:
            return math.inf, np.arange(self.columns.n_sites, dtype=np.int64)
        x = self.grid.x_centers_m(window.cols)
        y = self.grid.y_centers_m(window.rows)
        centre = (0.5 * (x[0] + x[-1]), 0.5 * (y[0] + y[-1]))
        if radius_m is None and self._background is not None:
            # mode "background": every site within 2 r0 + the half diagonal (cutoff.background_radius_m),
            # and where they are few those that could be a pixel's best server (certify_radius): the
            # tile's best-server certification (cutoff.widen) looks that far, and a part holding fewer
            # computes the window twice (finish). The sites held do not change the tile's bits.
            radius_m = _candidate_radius_m(r0_m, x, y)
            for below_db in BACKGROUND_CERTIFY_BELOW_DB:          # the deepest floor whose sites are few
                cert = self._kinds_index.certify or self._kinds_index
                certify = cutoff.certify_radius(cert, x, y, cert.budget_mw * 10.0 ** (-below_db / 10.0))
                if (math.isfinite(certify)
                        and self.tree.query_ball_point(centre, certify, return_length=True) <= COMFORT_SITES):
                    radius_m = max(radius_m, certify)
                    break
            else:       # dense: the nearest COMFORT_SITES (a city core's best servers are near)
                d, _ = self.tree.query(centre, k=min(COMFORT_SITES, self.columns.n_sites))
                radius_m = max(radius_m, float(np.atleast_1d(d)[-1]))
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

    def _sites_of(self, strips: list[Window], radius_m: float | None = None, *,
                  r0_m: float | None = None) -> tuple[np.ndarray, list[float]]:
        """Every site within the radius (default: each strip's far radius) of one of ``strips``
        (the tiles), ascending, and the radius each strip is covered to."""
        found, covered = [], []
        for w in strips:
            r, near = self._ball(w, radius_m, r0_m=r0_m)
            self.far_radii_m.append(r)
            covered.append(r)
            found.append(near)
        sites = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
        if sites.size > MAX_SITES_PER_BLOCK:
            sc = self.scenario
            if sc.interference_cutoff_db is None:
                remedy = "set compute.interference_cutoff_db (e.g. 0.1) and compute.interference_cutoff_mode: expected"
            elif sc.interference_cutoff_mode == "bound":
                remedy = "set compute.interference_cutoff_mode: background (or expected)"
            elif sc.interference_cutoff_mode == "background":
                remedy = (f"lower compute.background_radius_m (now {sc.background_radius_m:g} m), set "
                          "compute.background_radius_isd (e.g. 3) or map a region with a regional site file")
            else:
                remedy = ("raise compute.interference_cutoff_db (now "
                          f"{sc.interference_cutoff_db:g} dB) or map a region with a regional site file")
            raise ScenarioError(f"a block of the map needs {sites.size:,} sites (largest far radius "
                                f"{max(covered) / 1e3:.0f} km); at most {MAX_SITES_PER_BLOCK:,}: {remedy}")
        return sites, covered

    def _strips(self, block: Window, n_sites: int, *, r0_m: float | None = None) -> list[Window]:
        """``block`` cut into full-width strips whose working set fits ``mem_limit_mb`` with ``n_sites``
        (mode "background": squares of about r0 ``r0_m``, ``n_sites`` unused)."""
        if self._background is not None:      # windows of about r0: the candidates stay local (engine._tiling)
            side = self._background_side_px(block, r0_m)
            return [Window(r0, r1, c0, c1) for r0, r1 in _even_cuts(block.row_start, block.row_stop, side)
                    for c0, c1 in _even_cuts(block.col_start, block.col_stop, side)]
        per_site = engine._BYTES_PER_PIXEL_SITE[self.backend]
        cols = block.col_stop - block.col_start
        rows = max(1, int(self.scenario.mem_limit_mb * 1e6 // max(1.0, per_site * cols * max(1, n_sites))))
        return [Window(r, min(r + rows, block.row_stop), block.col_start, block.col_stop)
                for r in range(block.row_start, block.row_stop, rows)]

    def _background_side_px(self, block: Window, r0: float) -> int:
        """Mode "background": the window side [px] of ``block``: r0 [m], or more where the sites within
        2 r0 + its half diagonal are sparse (:data:`BACKGROUND_CANDIDATES`)."""
        res = self.grid.resolution_m
        side = max(engine.CUTOFF_BLOCK_MIN_PX, int(r0 / res))
        radius = 2.0 * r0 + math.hypot(*block.shape) * res / 2.0
        x = self.grid.x_centers_m(block.cols)
        y = self.grid.y_centers_m(block.rows)
        n_sites = self.tree.query_ball_point((0.5 * (x[0] + x[-1]), 0.5 * (y[0] + y[-1])), radius, return_length=True)
        density = max(n_sites, 1) / (math.pi * radius * radius)                 # sites per m^2 around the block
        half_diag = math.sqrt(BACKGROUND_CANDIDATES / (math.pi * density)) - 2.0 * r0
        per_site = engine._BYTES_PER_PIXEL_SITE[self.backend]
        mem_px = math.sqrt(self.scenario.mem_limit_mb * 1e6 / (per_site * BACKGROUND_CANDIDATES))
        grown = min(half_diag * math.sqrt(2.0) / res, mem_px, max(block.shape))
        return max(side, int(grown))

    def parts(self, windows=None) -> Iterator[Part]:
        """The :class:`Part` of every block holding one of ``windows`` (default all), in block order,
        each with the windows of ``windows`` it holds."""
        wanted = None if windows is None else set(windows)
        for ws, sites, covered, r0 in zip(self._windows, self._sites, self._covered, self._r0):
            pick = [k for k, w in enumerate(ws) if wanted is None or w in wanted]
            if pick:
                yield self._part(tuple(ws[k] for k in pick), sites, tuple(covered[k] for k in pick), r0)

    def _part(self, windows, sites: np.ndarray, covered, r0_m: float | None) -> Part:
        return Part(tuple(windows), sites, self.xy_m[sites], self.columns.sectors_of(sites), tuple(covered),
                    background=self._background_raster(windows, r0_m), r0_m=r0_m)

    def window_costs(self, part: Part) -> np.ndarray:
        """The estimated work of each window of ``part``: its pixels x the sites within its candidate
        radius (mode "background": 2 r0 + its half diagonal, the sites a tile chooses its kept ones
        from; other modes: the part's sites). On the Henan window the estimate follows a window's
        time with correlation 0.83-0.98 in the blocks with towns, none in the empty one."""
        px = np.array([w.shape[0] * w.shape[1] for w in part.windows], dtype=float)
        if self._background is None or part.r0_m is None:
            return px * max(1, part.sites.size)
        n = np.empty(px.size)
        for k, w in enumerate(part.windows):
            x = self.grid.x_centers_m(w.cols)
            y = self.grid.y_centers_m(w.rows)
            n[k] = self.tree.query_ball_point((0.5 * (x[0] + x[-1]), 0.5 * (y[0] + y[-1])),
                                              _candidate_radius_m(part.r0_m, x, y), return_length=True)
        return px * np.maximum(n, 1.0)

    def tasks(self, windows=None, *, n_threads: int = 1, min_per_thread: int = MIN_TASKS_PER_THREAD) -> list[Part]:
        """The parts of ``windows`` (default all; :meth:`parts`) as Dask tasks, the costliest first
        (pixels x sites within reach). Where they are fewer than ``min_per_thread`` x ``n_threads``,
        the costliest by :meth:`window_costs` is cut in two (its windows in order, halves of equal
        estimated work) until they are not, or each is one window: a few unequal blocks then no
        longer leave one worker computing alone at the end. A cut part keeps the block's sites and
        background raster, so every tile has the bits of the uncut part's."""
        parts = list(self.parts(windows))
        target = max(1, int(n_threads)) * max(1, int(min_per_thread))
        if len(parts) >= target:
            return sorted(parts, key=_links, reverse=True)
        heap = []           # (-estimated work, order, part, its windows' estimates)
        for k, part in enumerate(parts):
            w = self.window_costs(part)
            heap.append((-float(w.sum()), k, part, w))
        heapq.heapify(heap)
        order, whole = len(heap), []        # whole: parts of one window
        while heap and len(heap) + len(whole) < target:
            cost, k, part, w = heapq.heappop(heap)
            if len(part.windows) < 2:
                whole.append((cost, k, part, w))
                continue
            cum = np.cumsum(w)
            cut = int(np.clip(np.searchsorted(cum, cum[-1] / 2.0) + 1, 1, len(part.windows) - 1))
            for a, b in ((0, cut), (cut, len(part.windows))):
                sub = replace(part, windows=part.windows[a:b], covered_m=part.covered_m[a:b])
                heapq.heappush(heap, (-float(w[a:b].sum()), order, sub, w[a:b]))
                order += 1
        return [part for _, _, part, _ in sorted(heap + whole, key=lambda item: (item[0], item[1]))]

    def retry_part(self, window: Window, radius_m: float) -> Part:
        """A part of one window holding the sites within ``radius_m`` of its centre (its part held
        too few: :func:`compute_part` asked for them)."""
        self.windows_recomputed += 1
        r0 = self._window_r0.get(window)
        sites, covered = self._sites_of([window], radius_m=radius_m, r0_m=r0)
        return self._part([window], sites, covered, r0)

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
                **({"background_r0_m_min_median_max": [round(float(v), 1) for v in
                                                         np.percentile(np.array(self._r0, dtype=float), [0, 50, 100])]}
                   if self._background is not None else {}),
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
        # the site whose sector range holds i (no (n_sectors,) sector_site array per lookup)
        i = int(i)
        if not 0 <= i < self.columns.n_sectors:
            i = range(self.columns.n_sectors)[i]             # negative from the end; IndexError beyond
        site = int(np.searchsorted(self.columns.sector_ptr, i, side="right")) - 1
        return self.columns.site_id[site]


def network_key(columns: SiteColumns, *, block: int = 1 << 20) -> str:
    """A digest of everything a network's columns hold (a streamed run's journal is tied to it).

    SHA-256 of the float columns' bytes, then of each text column's values joined by ``"\\x1f"``
    (UTF-8), fed in blocks of ``block`` values: the digest of the whole byte string (a journal
    written before keeps its key) without building it (13.2 M sector ids: ~1 GB as one string)."""
    import hashlib

    h = hashlib.sha256()
    for name in ("x", "y", "height_m", "sector_ptr", "azimuth_deg", "tx_power_dbm", "mech_tilt_deg", "elec_tilt_deg"):
        values = getattr(columns, name)
        for start in range(0, len(values), block):
            h.update(np.ascontiguousarray(values[start:start + block]).data)
    for name in ("site_id", "environment", "sector_id"):
        values = getattr(columns, name)
        for start in range(0, len(values), block):
            text = "\x1f".join(map(str, values[start:start + block].tolist()))
            h.update((text if start == 0 else "\x1f" + text).encode())
    return h.hexdigest()
