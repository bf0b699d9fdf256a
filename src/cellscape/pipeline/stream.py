"""The streamed coverage job (``cellscape run --stream``): the maps of a scenario tile by tile, never
held whole, handed to a sink (``cellscape.io.stream_writer`` writes them into a GeoTIFF and keeps a
journal of finished tiles, so an interrupted run resumes), KPIs from per-tile histograms merged
exactly (:class:`cellscape.kpi.RegionalHistograms`).

Before anything is allocated, :func:`estimate_run` states pixels, site-pixel links, output size,
peak memory and time, and :func:`check_budget` refuses a run over limits the caller can raise.
With a ``dask.distributed`` client the tiles and their KPI counts are computed on its workers
(:func:`stream_coverage`'s ``client``), with the overview pieces of every block a worker computed
whole; the driver adds the counts and writes and journals the tiles one at a time. No file is
written here.
"""

from __future__ import annotations

from collections import OrderedDict, deque
import contextlib
from dataclasses import dataclass, replace
import hashlib
import math
import threading
import time
from typing import Any, Protocol
import uuid

import numpy as np

from cellscape._json import json_ready
from cellscape.coverage.engine import Backend, CoverageTile, CoverageTiles, Progress
from cellscape.errors import GeometryError, ScenarioError
from cellscape.geo.grid import RasterGrid, Window
from cellscape.geo.pyramid import BlockPyramid, PyramidSpec, block_levels
from cellscape.geo.surface import Terrain
from cellscape.kpi import KPI_PERCENTILES, RegionalHistograms
from cellscape.pipeline.coverage import load_footprints, localize
from cellscape.propagation.shadowing import one_blas_thread
from cellscape.scenario.records import Scenario

LINKS_PER_S = {"numba": 1.0e7, "numpy": 2.0e6}
"""Rate of the tile loop [site-pixel links per second]: measured 1.2e7 (numba) and 2.2e6 (numpy)
for 20 sites on 1000 x 1000 pixels, statistical LOS with shadow fading, no buildings, on the
development machine (docs/national.md, "Streamed runs"), rounded down. The time estimate divides
the links by it; buildings and geometric LOS are slower, the interference cutoff faster."""

OUTPUT_BYTES_PER_PIXEL = (3 * 4 + 4) * 4.0 / 3.0
"""Uncompressed bytes per pixel of the outputs (three float32 bands of coverage.tif, the int32
best_sector.tif), overviews included (+1/3). Deflate usually shrinks it severalfold; the limit is
checked on this upper bound [bytes]."""

DEFAULT_MAX_OUTPUT_GB = 50.0
DEFAULT_MAX_HOURS = 24.0

KPI_REGIONS = ("outdoor", "indoor")
"""The histogram regions of a streamed run: region 0 outdoor pixels, region 1 indoor pixels."""


@dataclass(frozen=True)
class RunEstimate:
    """What a coverage run will cost, stated before it starts."""

    n_pixels: int
    n_sites: int
    n_sectors: int
    links: int                  # site-pixel links the kernel evaluates (upper bound with the cutoff)
    output_bytes: float         # uncompressed outputs, overviews included [bytes]
    peak_memory_bytes: float    # the streamed run: one tile's working set + one tile's maps + counts [bytes]
    seconds: float              # links / LINKS_PER_S[backend] [s]

    def line(self) -> str:
        """The estimate in one line."""
        return (f"{self.n_pixels:,} pixels x {self.n_sites:,} sites = {self.links:.3g} links, output up to "
                f"{self.output_bytes / 1e9:.3g} GB, peak memory ~{self.peak_memory_bytes / 1e6:.0f} MB, "
                f"~{_duration(self.seconds)}")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def estimate_run(scenario: Scenario, grid: RasterGrid | None = None, *, backend: Backend = "numba",
                 n_sites: int | None = None, n_sectors: int | None = None, links: int | None = None) -> RunEstimate:
    """Pixels, links, output bytes, peak memory and time of a streamed coverage run of ``scenario``
    on ``grid`` (default: the scenario's map grid). Pure arithmetic: nothing is allocated.
    ``n_sites``, ``n_sectors``, ``links``: a network given column-wise (cellscape.pipeline.national:
    its sites and the sum over blocks of pixels x sites within reach); default the scenario's sites
    at every pixel."""
    if grid is None:
        grid, _ = localize(scenario)
    n_sites = len(scenario.sites) if n_sites is None else int(n_sites)
    n_sectors = scenario.n_sectors if n_sectors is None else int(n_sectors)
    links = int(grid.n_pixels) * n_sites if links is None else int(links)
    tile_rows = min(grid.n_rows, max(1, int(scenario.mem_limit_mb * 1e6 // max(1.0, 160.0 * grid.n_cols * n_sites))))
    tile_maps = tile_rows * grid.n_cols * (4 * 4 + 1)
    counts = sum(q.n_bins for q in RegionalHistograms(1).quantities.values()) * 8 * len(KPI_REGIONS)
    peak = scenario.mem_limit_mb * 1e6 + tile_maps + counts
    return RunEstimate(n_pixels=int(grid.n_pixels), n_sites=n_sites, n_sectors=n_sectors, links=links,
                       output_bytes=grid.n_pixels * OUTPUT_BYTES_PER_PIXEL, peak_memory_bytes=float(peak),
                       seconds=links / LINKS_PER_S.get(backend, LINKS_PER_S["numpy"]))


def machine_memory_bytes() -> float | None:
    """Physical memory of this machine [bytes] (POSIX sysconf), or None where it cannot be known."""
    import os

    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return None


def check_budget(estimate: RunEstimate, *, max_output_gb: float = DEFAULT_MAX_OUTPUT_GB,
                 max_hours: float = DEFAULT_MAX_HOURS) -> None:
    """Refuse (ScenarioError, one line with the estimate) a run whose output or time exceeds the limits."""
    over = []
    memory = machine_memory_bytes()
    if memory is not None and estimate.peak_memory_bytes > memory:
        over.append(f"peak memory over this machine's {memory / 1e9:.3g} GB (lower compute.mem_limit_mb)")
    if estimate.output_bytes > max_output_gb * 1e9:
        over.append(f"output over {max_output_gb:g} GB (raise --max-output-gb)")
    if estimate.seconds > max_hours * 3600.0:
        over.append(f"time over {max_hours:g} h (raise --max-hours)")
    if over:
        raise ScenarioError(f"refusing the run: {estimate.line()}; " + "; ".join(over)
                            + "; or use coarser pixels or a smaller area")


@dataclass(frozen=True)
class TileCounts:
    """The KPI counts of one tile, what :meth:`StreamCounts.add` adds: histograms of its outdoor and
    indoor pixels, and the pixels it serves per sector (``sectors``: index + 1, 0 = none; ``served``).
    A Dask worker computes them beside its tile (:func:`tile_counts`), so the driver only adds arrays."""

    hist: RegionalHistograms
    sectors: np.ndarray
    served: np.ndarray


def tile_counts(scenario: Scenario, tile: CoverageTile) -> TileCounts:
    """The :class:`TileCounts` of ``tile`` (the scenario gives the RSRP thresholds)."""
    hist = RegionalHistograms(len(KPI_REGIONS), rsrp_thresholds_dbm=scenario.rsrp_thresholds_dbm)
    hist.add(tile.indoor.astype(np.int64), {"rsrp_dbm": tile.rsrp_dbm, "sinr_db": tile.sinr_db,
                                            "throughput_mbps": throughput_mbps(tile)})
    # the sectors this tile serves only (not a bincount over every sector of a national network)
    sector, n = np.unique(tile.best_sector.ravel().astype(np.int64) + 1, return_counts=True)
    return TileCounts(hist, sector, n)


class StreamCounts:
    """The KPI counts of a streamed run: :class:`~cellscape.kpi.RegionalHistograms` of outdoor
    (region 0) and indoor (region 1) pixels, and the pixels each sector serves (index 0: none).
    Counts add up, so they are exact whatever the tiling or where a tile's counts were made, and
    survive a resume as arrays."""

    def __init__(self, scenario: Scenario, n_sectors: int | None = None):
        self.scenario = scenario
        self.hist = RegionalHistograms(len(KPI_REGIONS), rsrp_thresholds_dbm=scenario.rsrp_thresholds_dbm)
        n_sectors = scenario.n_sectors if n_sectors is None else int(n_sectors)
        self.served = np.zeros(n_sectors + 1, dtype=np.int64)

    def add(self, tile: CoverageTile) -> None:
        """Count ``tile``'s pixels."""
        self.merge(tile_counts(self.scenario, tile))

    def merge(self, part: TileCounts) -> None:
        """Add one tile's counts made elsewhere (:func:`tile_counts`)."""
        self.hist.merge(part.hist)
        self.served[part.sectors] += part.served

    def arrays(self) -> dict[str, np.ndarray]:
        """The counts as named arrays (what a journal stores)."""
        out = {f"counts_{k}": v for k, v in self.hist.counts.items()}
        return {**out, "pixels": self.hist.pixels, "covered": self.hist.covered, "served": self.served}

    def load(self, arrays) -> None:
        """Restore counts saved by :meth:`arrays` (shapes checked)."""
        for name in self.hist.counts:
            self.hist.counts[name] = _same_shape(arrays[f"counts_{name}"], self.hist.counts[name])
        self.hist.pixels = _same_shape(arrays["pixels"], self.hist.pixels)
        self.hist.covered = _same_shape(arrays["covered"], self.hist.covered)
        self.served = _same_shape(arrays["served"], self.served)


def _same_shape(got, like: np.ndarray) -> np.ndarray:
    got = np.asarray(got, dtype=np.int64)
    if got.shape != like.shape:
        raise ScenarioError(f"the journal's counts have shape {got.shape}, expected {like.shape}")
    return got.copy()


def throughput_mbps(tile: CoverageTile) -> np.ndarray:
    """The throughput band as written to coverage.tif: float32 Mbit/s."""
    return (tile.throughput_bps / 1e6).astype(np.float32)


COG_LAYERS = (("coverage", "average"), ("best_sector", "nearest"))
"""The streamed run's raster layers (:func:`cog_layers`) and how their overviews resample."""


def cog_layers(tile: CoverageTile) -> dict[str, np.ndarray]:
    """``tile``'s layers as written (bands, rows, cols): ``coverage`` (RSRP, SINR, throughput,
    float32) and ``best_sector`` (int32, -1 where none)."""
    return {"coverage": np.stack([tile.rsrp_dbm, tile.sinr_db, throughput_mbps(tile)]).astype(np.float32),
            "best_sector": tile.best_sector.astype(np.int32)[None]}


def part_pyramids(spec: PyramidSpec, tiles: list[CoverageTile]) -> list[BlockPyramid]:
    """The overview pieces (cellscape.geo.pyramid) of every block of ``spec`` lying wholly within
    ``tiles``, whose windows must be disjoint; none where they do not fill their bounding box."""
    if not tiles:
        return []
    wins = [t.window for t in tiles]
    r0, r1 = min(w.row_start for w in wins), max(w.row_stop for w in wins)
    c0, c1 = min(w.col_start for w in wins), max(w.col_stop for w in wins)
    if sum(w.shape[0] * w.shape[1] for w in wins) != (r1 - r0) * (c1 - c0):
        return []
    blocks = spec.blocks_within(r0, r1, c0, c1)
    if not blocks:
        return []
    canvas: dict[str, np.ndarray] = {}
    for t in tiles:
        w = t.window
        for name, a in cog_layers(t).items():
            if name not in canvas:
                canvas[name] = np.empty((a.shape[0], r1 - r0, c1 - c0), dtype=a.dtype)
            canvas[name][:, w.row_start - r0:w.row_stop - r0, w.col_start - c0:w.col_stop - c0] = a
    return [block_levels(spec, b, {name: a[:, b[0] - r0:b[1] - r0, b[2] - c0:b[3] - c0] for name, a in canvas.items()})
            for b in blocks]


MAX_SECTORS_LISTED = 100_000
"""kpis.json lists the pixels each sector serves up to this many sectors (a national network's
13 M would make a JSON file of gigabytes); above it the list is left out and said so."""


def streamed_kpis(counts: StreamCounts, grid: RasterGrid, sectors, meta: dict) -> dict:
    """The KPI set of :func:`cellscape.kpi.coverage_kpis`, from the merged counts: coverage
    fractions exact, percentiles the nearest-rank value of 0.1 dB bins (throughput: 100 bins per
    decade; REGION_QUANTITIES), i.e. within about one bin of the in-memory run's. ``sectors``:
    ``sector_id`` and ``site_id`` of each sector (a SectorTable or SiteColumns-derived table)."""
    h = counts.hist
    merged = RegionalHistograms(3, rsrp_thresholds_dbm=h.thresholds_dbm)      # all, outdoor, indoor
    for name, c in h.counts.items():
        merged.counts[name] = np.vstack([c.sum(axis=0), c])
    merged.pixels = np.concatenate([[h.pixels.sum()], h.pixels])
    merged.covered = np.vstack([h.covered.sum(axis=0), h.covered])
    frac = merged.coverage_fraction()
    n_pixels = int(grid.n_pixels)
    pixel_area_m2 = float(grid.resolution_m) ** 2
    labels = ("all",) + KPI_REGIONS

    def number(x):
        return float(x) if math.isfinite(float(x)) else None

    def pct(name: str, k: int) -> dict:
        p = merged.percentiles(name, KPI_PERCENTILES)[k]
        return {str(q): number(v) for q, v in zip(KPI_PERCENTILES, p)}

    coverage = {}
    for j, t in enumerate(h.thresholds_dbm):
        entry: dict = {"threshold_dbm": float(t)}
        entry.update({label: number(frac[k, j]) for k, label in enumerate(labels)})
        entry["area_km2"] = int(merged.covered[0, j]) * pixel_area_m2 / 1e6
        coverage[f"rsrp_dbm >= {float(t):g}"] = entry
    served = counts.served[1:]
    if served.size <= MAX_SECTORS_LISTED:
        per_sector = {"sectors": [{"sector_id": str(sectors.sector_id[i]), "site_id": str(sectors.site_id[i]),
                                   "served_pixels": int(served[i]), "served_area_m2": float(served[i]) * pixel_area_m2,
                                   "served_fraction": float(served[i]) / n_pixels} for i in range(served.size)]}
    else:
        per_sector = {"sectors_left_out": f"{served.size:,} sectors: over MAX_SECTORS_LISTED ({MAX_SECTORS_LISTED:,})",
                      "sectors_serving": int(np.count_nonzero(served))}
    return {
        "n_pixels": n_pixels,
        "n_pixels_outdoor": int(h.pixels[0]),
        "n_pixels_indoor": int(h.pixels[1]),
        "n_pixels_unserved": int(counts.served[0]),
        "pixel_area_m2": pixel_area_m2,
        "map_area_km2": n_pixels * pixel_area_m2 / 1e6,
        "grid": {"crs": grid.crs, "resolution_m": float(grid.resolution_m), "n_rows": int(grid.n_rows),
                 "n_cols": int(grid.n_cols), "bounds_m": [float(v) for v in grid.bounds_m]},
        "coverage": coverage,
        "sinr_db_percentiles": pct("sinr_db", 0),
        "throughput_mbps_percentiles": pct("throughput_mbps", 0),
        "rsrp_dbm_percentiles": pct("rsrp_dbm", 0),
        "percentiles_by_location": {label: {"sinr_db": pct("sinr_db", k), "throughput_mbps": pct("throughput_mbps", k),
                                            "rsrp_dbm": pct("rsrp_dbm", k)}
                                    for k, label in enumerate(labels) if k > 0},
        "percentile_method": "nearest rank of merged per-tile histograms (cellscape.kpi.REGION_QUANTITIES bins)",
        **per_sector,
        "meta": json_ready(dict(meta)),
    }


class TileSink(Protocol):
    """Where a streamed run puts its tiles (``cellscape.io.stream_writer.CoverageStreamWriter``)."""

    def start(self, grid: RasterGrid, *, fingerprint: str) -> tuple[set[tuple[int, int, int, int]], dict | None]:
        """Prepare for ``grid``; return the finished windows (row_start, row_stop, col_start,
        col_stop) and the counts saved with them (None when starting afresh)."""

    def write_tile(self, tile: CoverageTile, counts: dict[str, np.ndarray]) -> None:
        """Store one finished tile's maps, then record it finished with the counts so far (its
        journal may be saved later: a tile not yet in it is computed again on resume)."""

    def checkpoint(self, counts: dict[str, np.ndarray]) -> None:
        """Save the journal now: the run stops (an error, an interrupt) after a whole tile.
        Optional: a sink without it resumes from its last saved journal."""

    def pyramid_spec(self, grid: RasterGrid) -> PyramidSpec | None:
        """The overview levels the sink would have made block by block on the workers (None: none).
        Optional, with :meth:`write_pyramid`."""

    def write_pyramid(self, pyramid: BlockPyramid) -> None:
        """Store one block's overview pieces (its tiles already handed over). Optional."""


@dataclass(frozen=True)
class StreamedRun:
    """A finished streamed run: its grid, KPIs and the sectors its best_sector indices name."""

    scenario: Scenario
    grid: RasterGrid
    kpis: dict
    estimate: RunEstimate
    tiles_total: int
    tiles_computed: int          # this call (the rest came from the journal)


PROBE_SECONDS = 30.0
"""After this long, a streamed run checks its measured rate against ``max_hours`` (:class:`_MeasuredRate`)."""


class _MeasuredRate:
    """The time check of a streamed run from its own rate: the up-front estimate divides links by a
    rate measured on another map (``LINKS_PER_S``), which random fields and buildings can make
    several times optimistic. Once PROBE_SECONDS have passed, the pixels left at the rate measured
    so far must fit within ``max_hours`` of the start; else the run stops with both figures in one
    line (the journal keeps the finished tiles: ``--resume`` with a larger ``--max-hours`` goes on)."""

    def __init__(self, max_hours: float, estimate: RunEstimate):
        self.max_s = max_hours * 3600.0
        self.estimate = estimate
        self.start = time.monotonic()
        self.checked = False

    def check(self, pixels_left: int, pixels_done: int) -> None:
        """After each tile: ``pixels_left`` to compute, ``pixels_done`` computed in this call."""
        elapsed = time.monotonic() - self.start
        if self.checked or elapsed < PROBE_SECONDS:
            return
        self.checked = True
        done = max(1, pixels_done)
        projected = elapsed + elapsed / done * pixels_left
        if projected > self.max_s:
            raise ScenarioError(
                f"stopping the run: at the rate measured so far ({elapsed / done * 1e6:.3g} s per million "
                f"pixels) it would take ~{_duration(projected)} (estimated up front: "
                f"~{_duration(self.estimate.seconds)}), over {self.max_s / 3600:g} h; the finished tiles are "
                f"kept: rerun with --resume and a larger --max-hours")


def _key(w: Window) -> tuple[int, int, int, int]:
    return (w.row_start, w.row_stop, w.col_start, w.col_stop)


TASK_RETRIES = 1
"""Times Dask retries a tile task that raised (a worker that dies is handled by the scheduler
itself: its tasks are rescheduled up to ``distributed.scheduler.allowed-failures`` times)."""


@dataclass(frozen=True)
class _WorkerJob:
    """What a worker needs to compute any tile of a run: scattered once per worker (broadcast),
    not shipped with every task. ``key`` names the run (one per :func:`stream_coverage` call)."""

    key: str
    scenario: Scenario
    grid: RasterGrid
    site_xy_m: np.ndarray
    footprints: Any
    terrain: Terrain | None
    backend: str


_WORKER_TILES: OrderedDict[str, CoverageTiles] = OrderedDict()
_WORKER_TILES_MAX = 2           # runs whose prepared state a worker process keeps
_WORKER_LOCK = threading.Lock()


def _worker_tiles(job: _WorkerJob) -> CoverageTiles:
    """The prepared tiles of ``job``'s run in this (worker) process, built on its first tile."""
    with _WORKER_LOCK:
        tiles = _WORKER_TILES.get(job.key)
        if tiles is None:
            tiles = CoverageTiles(job.scenario, job.grid, job.site_xy_m, footprints=job.footprints,
                                  terrain=job.terrain, backend=job.backend)
            _WORKER_TILES[job.key] = tiles
            while len(_WORKER_TILES) > _WORKER_TILES_MAX:
                _WORKER_TILES.popitem(last=False)
        return tiles


def _compute_tile(job: _WorkerJob, window: Window):
    """One tile of ``job``'s run and the interference-cutoff statistics of that tile alone."""
    return _worker_tiles(job).tile_alone(window)


def _tile_task(job: _WorkerJob, window: Window):
    """The Dask task of one tile (looks :func:`_compute_tile` up at run time): (tile, cutoff
    statistics, the tile's KPI counts), the counts made on the worker."""
    tile, stats = _compute_tile(job, window)
    return tile, stats, tile_counts(job.scenario, tile)


def _part_task(job, part, sites, spec: PyramidSpec | None = None):
    """The Dask task of one part (a block, or some of its windows: NationalTiles.tasks) of a network
    given column-wise (cellscape.pipeline.national; ``sites``: the part's sites as a SiteColumns,
    whose Site records are built here):
    :func:`~cellscape.pipeline.national.compute_part`'s (window, tile, extra) with each tile's KPI
    counts made on the worker (None where the part held too few sites), and the overview pieces
    of ``spec``'s blocks the part computed whole (:func:`part_pyramids`; none with a tile missing)."""
    from cellscape.pipeline.national import compute_part

    results = compute_part(job, part, sites.records(np.arange(sites.n_sites)))
    tiles = [tile for _, tile, _ in results]
    pyramids = [] if spec is None or any(t is None for t in tiles) else part_pyramids(spec, tiles)
    return ([(window, tile, extra, None if tile is None else tile_counts(job.scenario, tile))
             for window, tile, extra in results], pyramids)


def _tiles_on_workers(client, job, windows, max_in_flight: int | None, task=None, args=None):
    """Yield the results of ``task(job, item, *args(item))`` (default: (tile, cutoff statistics) of
    each window of ``windows``) computed on ``client``'s workers, in the order they finish, with at
    most ``max_in_flight`` tasks submitted and not yet handed over (default: twice the workers'
    threads). ``windows`` may be a :class:`collections.deque` the caller adds to while iterating
    (taken from its left). ``job`` is scattered once to every worker. Closing the generator cancels
    the tasks still pending."""
    from dask.distributed import as_completed

    if max_in_flight is None:
        max_in_flight = 2 * max(1, sum(client.nthreads().values()))
    if max_in_flight < 1:
        raise ValueError(f"max_in_flight={max_in_flight} must be at least 1")
    todo = windows if isinstance(windows, deque) else deque(windows)
    if not todo:
        return
    job_future = client.scatter(job, broadcast=True, hash=False)
    task = _tile_task if task is None else task
    pending: set = set()
    finished = as_completed([], loop=client.loop)

    def top_up():
        while todo and len(pending) < max_in_flight:
            item = todo.popleft()
            extra = () if args is None else args(item)
            new = client.submit(task, job_future, item, *extra, pure=False, retries=TASK_RETRIES)
            pending.add(new)
            finished.add(new)

    top_up()
    try:
        for future in finished:
            pending.discard(future)
            result = future.result()
            future.release()
            top_up()
            yield result
            top_up()            # what the caller added meanwhile
    finally:
        if pending:
            client.cancel(list(pending))
        client.cancel([job_future])


def _on_workers(client, job: _WorkerJob, windows: list[Window], max_in_flight: int | None, tiles: CoverageTiles):
    """The tiles of ``windows`` from the workers; their cutoff statistics merged into ``tiles``'
    (the driver's), so ``tiles.meta()`` describes the run as in a single process."""
    results = _tiles_on_workers(client, job, windows, max_in_flight)
    try:
        for tile, stats, counts in results:
            tiles.cutoff_stats.merge(stats)
            yield tile, counts, ()
    finally:
        results.close()


def _parts_on_workers(client, tiles, windows: list[Window], max_in_flight: int | None,
                      spec: PyramidSpec | None = None):
    """(tile, counts, pyramids) of ``windows`` of a network given column-wise (a NationalTiles), one
    task per block carrying that block's sites only, the costliest first (the last tasks are then
    short, and the workers finish together), blocks cut into several tasks where they are few for
    the workers' threads (NationalTiles.tasks); cutoff statistics merged into ``tiles``'. A window
    whose part held too few sites goes round again with more, submitted next. A part's overview
    pieces (``spec``, :func:`part_pyramids`; none from a block cut in several) come with its last tile."""
    queue = deque(tiles.tasks(windows, n_threads=sum(client.nthreads().values())))
    results = _tiles_on_workers(client, tiles.job, queue, max_in_flight, task=_part_task,
                                args=lambda part: (tiles.columns.take(part.sites), spec))
    try:
        for part_results, pyramids in results:
            kept = []
            for window, tile, extra, counts in part_results:
                if tile is None:
                    queue.appendleft(tiles.retry_part(window, extra))
                    continue
                tiles.cutoff_stats.merge(extra)
                kept.append((tile, counts))
            for i, (tile, counts) in enumerate(kept):
                yield tile, counts, (pyramids if i == len(kept) - 1 else ())
    finally:
        results.close()


def stream_coverage(scenario: Scenario, sink: TileSink, *, terrain: Terrain | None = None,
                    backend: Backend = "numba", tile_rows: int | None = None, progress: Progress | None = None,
                    max_output_gb: float = DEFAULT_MAX_OUTPUT_GB, max_hours: float = DEFAULT_MAX_HOURS,
                    client=None, max_in_flight: int | None = None, site_columns=None) -> StreamedRun:
    """Compute the coverage maps of ``scenario`` tile by tile into ``sink``; return the KPIs.

    ``tile_rows``: full-width tiles of this many rows (default: the engine's tiling within
    ``scenario.mem_limit_mb``, which gives the bits of :func:`~cellscape.coverage.engine.compute_coverage`;
    with the interference cutoff another tiling may change SINR within the cutoff's bound).
    Tiles the sink reports finished (a resumed run) are skipped. ``progress(done, total)`` after
    each tile, counting the skipped ones as done. Refuses a run over ``max_output_gb`` or
    ``max_hours`` (:func:`check_budget`) before anything is computed.

    ``client``: a ``dask.distributed.Client``; the tiles are then computed on its workers (the
    run's inputs scattered once to each worker, which prepares the run on its first tile and keeps
    it for the rest), at most ``max_in_flight`` at a time (default twice the workers' threads), and
    handed to the sink in the order they finish; each tile's KPI counts are made on its worker.
    The maps, the journal's counts and the KPIs are those of the single-process run of the same
    tiling, bit for bit: each tile is a pure function of the scenario, its window and the seed,
    and counts add. A task that raises is retried ``TASK_RETRIES`` times.

    ``site_columns``: the network column-wise (:class:`~cellscape.scenario.columns.SiteColumns`;
    ``scenario.sites`` is then ignored): each block of the map is computed from the sites within
    the interference cutoff's reach only (cellscape.pipeline.national), one Dask task per block
    carrying its sites, the costliest first; a worker that computes a block whole also makes its
    overview pieces for a sink that asks for them (``sink.pyramid_spec``, ``sink.write_pyramid``:
    cellscape.geo.pyramid); ``tile_rows`` does not apply (blocks and strips within the memory budget).

    With a client the fields' one-BLAS-thread limit is held from this thread for the whole run
    (cellscape.propagation.shadowing.one_blas_thread: workers that are threads of this process).
    """
    if scenario.terrain is not None and terrain is None:
        raise GeometryError(f"the scenario names terrain {scenario.terrain.path}; read it with "
                            f"cellscape.io.terrain.read_terrain and pass terrain=")
    if site_columns is not None:
        from cellscape.pipeline.national import NationalTiles, network_key

        grid, _ = localize(replace(scenario, sites=()))
        footprints = load_footprints(scenario, grid)
        tiles = NationalTiles(scenario, grid, site_columns, footprints=footprints, terrain=terrain, backend=backend)
        estimate = estimate_run(scenario, grid, backend=backend, n_sites=site_columns.n_sites,
                                n_sectors=site_columns.n_sectors, links=tiles.links_upper_bound())
        windows = tiles.windows
        sectors = tiles.sector_table()
        identity = (replace(scenario, sites=()), network_key(site_columns), backend, [_key(w) for w in windows])
    else:
        grid, site_xy_m = localize(scenario)
        estimate = estimate_run(scenario, grid, backend=backend)
        footprints = load_footprints(scenario, grid)
        tiles = CoverageTiles(scenario, grid, site_xy_m, footprints=footprints, terrain=terrain, backend=backend)
        windows = tiles.windows if tile_rows is None else list(grid.tiles(rows_per_tile=tile_rows))
        sectors = tiles.run.sectors
        identity = (scenario, backend, [_key(w) for w in windows])
    check_budget(estimate, max_output_gb=max_output_gb, max_hours=max_hours)
    fingerprint = hashlib.sha256(repr(identity).encode()).hexdigest()
    finished, saved = sink.start(grid, fingerprint=fingerprint)
    counts = StreamCounts(scenario, n_sectors=estimate.n_sectors)
    if saved is not None:
        counts.load(saved)
    todo = [w for w in windows if _key(w) not in finished]
    done = len(windows) - len(todo)
    if progress is not None:
        progress(done, len(windows))
    if client is None:
        computed = ((tile, None, ()) for tile in tiles.tiles(todo))
    elif site_columns is not None:
        spec = sink.pyramid_spec(grid) if hasattr(sink, "pyramid_spec") else None
        computed = _parts_on_workers(client, tiles, todo, max_in_flight, spec)
    else:
        job = _WorkerJob(key=uuid.uuid4().hex, scenario=scenario, grid=grid, site_xy_m=np.asarray(site_xy_m),
                         footprints=footprints, terrain=terrain, backend=backend)
        computed = _on_workers(client, job, todo, max_in_flight, tiles)
    todo_pixels = pixels_left = sum(w.shape[0] * w.shape[1] for w in todo)
    clock = _MeasuredRate(max_hours, estimate)
    whole = True                # every tile handed to the sink is counted and written
    blas = contextlib.ExitStack()
    if client is not None:      # workers that are threads of this process (shadowing.one_blas_thread)
        blas.enter_context(one_blas_thread())
    try:
        for tile, tile_kpis, pyramids in computed:   # tile_kpis: counted on a worker, or None (count here)
            whole = False
            if tile_kpis is None:
                counts.add(tile)
            else:
                counts.merge(tile_kpis)
            sink.write_tile(tile, counts.arrays())
            whole = True
            for pyramid in pyramids:        # a block's overview pieces, after its last tile
                sink.write_pyramid(pyramid)
            done += 1
            pixels_left -= tile.window.shape[0] * tile.window.shape[1]
            del tile
            if progress is not None:
                progress(done, len(windows))
            clock.check(pixels_left, todo_pixels - pixels_left)
    except BaseException:
        checkpoint = getattr(sink, "checkpoint", None)      # optional for a sink of one's own
        if whole and checkpoint is not None:    # a run that stops keeps every finished tile for --resume
            try:
                checkpoint(counts.arrays())
            except Exception:   # the run's own error is the one to report; the journal stays as last saved
                pass
        raise
    finally:
        computed.close()        # an interrupted run cancels the tiles still on the workers
        blas.close()
    meta = {**tiles.meta(), "n_tiles": len(windows), "streamed": True}
    if tile_rows is not None and site_columns is None:
        meta["rows_per_tile"] = tile_rows
    if finished:      # the cutoff statistics count this call's tiles only, not the run's
        meta.pop("interference_cutoff", None)
    return StreamedRun(scenario=scenario, grid=grid, kpis=streamed_kpis(counts, grid, sectors, meta),
                       estimate=estimate, tiles_total=len(windows), tiles_computed=len(todo))
