"""The streamed coverage run's files: tiles written into GeoTIFFs as they finish, a journal of
finished tiles so an interrupted run resumes, and at the end Cloud-Optimized GeoTIFFs that appear
whole or not at all.

While the run goes, everything lives in the hidden folder ``OUT/.coverage.partial/``:
``coverage.tif`` and ``best_sector.tif`` (tiled 512 x 512, uncompressed where the disk has room
for them, else deflate level 1: :data:`WORK_RAW_SHARE`; ``BIGTIFF=IF_SAFER``), kept open while
tiles are written into their windows, their overview levels ``<name>.ovr<factor>.tif`` (written
block by block as Dask workers send the pieces of the blocks they computed whole,
cellscape.geo.pyramid), and ``journal.npz`` (replaced atomically: the scenario's fingerprint, the
finished windows, the blocks whose overview pieces are written and the KPI counts so far), saved
after a tile whenever that costs at most JOURNAL_SHARE of the run (:class:`Journal`) and always
when the run stops on an error or an interrupt; the files are closed (flushed) before each save,
so every tile and block the journal records is on disk. A tile written but not yet recorded is
computed and written again on resume (the same bits); a block's pieces not recorded are made at
the end. At the end the levels of the remaining blocks are made from the work files
(cellscape.io.overviews), each file is copied by GDAL's COG driver (the levels as its
overviews, 512 x 512 tiles, deflate level 6) to a temporary name and renamed onto
``OUT/coverage.tif`` / ``OUT/best_sector.tif`` (:mod:`cellscape.io.atomic`), then ``kpis.json``
and ``scenario.json`` are written and the folder is removed. A killed run leaves the hidden folder
and no ``coverage.tif``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
import shutil
import time

import numpy as np
import rasterio
import rasterio.io
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.windows import Window as RioWindow
import rasterio.shutil

from cellscape.coverage.engine import CoverageTile
from cellscape.errors import ScenarioError
from cellscape.geo.grid import RasterGrid
from cellscape.io.atomic import write_atomic
from cellscape.io.coverage_outputs import write_scenario_json
from cellscape.io.kpi_report import write_kpis
from cellscape.geo.pyramid import BlockPyramid, PyramidSpec, overview_factors
from cellscape.io.overviews import build_levels, create_levels, level_path, overview_vrt, write_pieces
from cellscape.pipeline.stream import (
    COG_LAYERS,
    DEFAULT_MAX_HOURS,
    DEFAULT_MAX_OUTPUT_GB,
    StreamedRun,
    cog_layers,
    stream_coverage,
)
from cellscape.units import unit_of

PARTIAL_DIR = ".coverage.partial"
BLOCK_PX = 512
PYRAMID_BLOCK_PX = 1024
"""Side of the blocks whose overview levels (up to this factor) are made apart, by the Dask worker
that computed the block where it did (cellscape.geo.pyramid; the national blocks are 1024 pixels:
cellscape.pipeline.national.BLOCK_SIDE_PX), else at the end from the work file."""
GDAL_CACHE_MB = 256
"""GDAL's block cache while tiles are written and the COGs copied [MB]. Its default (5 % of the
machine's memory) lets the COG copy of a large map hold over a GB of blocks: peak memory grew with
the map (377 MB at 4 M pixels, 1.3 GB at 64 M, benchmarks/national_bench.py) until it was capped
(128 and 512 MB: the same time there). The work files stay open between journal saves, so their
unwritten blocks live in this cache: 256 MB keeps a national driver (~1.5 GiB) under 2 GiB."""
GDAL_THREADS = "ALL_CPUS"
"""Threads GDAL compresses blocks with (the files are byte-identical whatever the count). On 2 cores
the COG copy of a 4 M-pixel map took 12.5 s with one thread, 5.7 s with both (measured here)."""
PARTIAL_DEFLATE_LEVEL = 1
"""Deflate level of the work files where they are compressed (:data:`WORK_RAW_SHARE`; they are
read once, by the COG copy): level 1 rather than GDAL's 6 costs ~3 % in size and writes each tile
faster; the final COGs keep level 6."""
WORK_RAW_SHARE = 0.25
"""The work files (and their overview levels) are written uncompressed when their raw size (16
bytes a pixel, 21.3 with the levels) is at most this share of the free space on the output's disk
when the run starts, else deflated at :data:`PARTIAL_DEFLATE_LEVEL`. Compressing them was most of
the driver's tile writes: 16 M pixels of the scaling network (benchmarks/national_bench.py, 2
workers) 4.4 s of writes and 14.5-14.8 s of the driver's CPU deflated, 1.0 s and 8.6-9.5 s raw.
The final COGs are the same bytes either way (tests/test_stream.py)."""
_COVERAGE_BANDS = ("rsrp_dbm", "sinr_db", "throughput_mbps")
_PYRAMID_KEY = "pyramid_blocks"
"""The journal's array of the blocks whose overview pieces are written (rows of row_start, row_stop,
col_start, col_stop)."""
JOURNAL_SHARE = 0.01
"""A streamed run saves its journal after a tile when the time since the last save is at least
1 / JOURNAL_SHARE times what that save took: the journal then costs at most ~1 % of the run. A
city's counts save in about a millisecond (every tile, as before); a national network's carry the
pixels each of its sectors serves (13.2 M sectors of the China network: 105 MB, ~230 ms a save
here), which saved after every tile of ~16,000 pixels cost more than computing the tile."""


class Journal:
    """The journal of a streamed run at ``path`` (:func:`save_journal`), saved when due
    (:data:`JOURNAL_SHARE`) or when asked (``force``: a run that stops keeps every finished tile)."""

    def __init__(self, path: Path):
        self.path = path
        self._next = -math.inf                # monotonic time of the next due save
        self._saved = (-1, 0)                 # finished tiles and extra records in the last save

    def record(self, fingerprint: str, done: list, counts: dict[str, np.ndarray], *, force: bool = False,
               before=None, extra=None, n_extra: int = 0) -> None:
        """Save ``done`` and ``counts`` (consistent: every tile of ``done`` counted) if due or ``force``,
        calling ``before()`` first (the sink flushes the tiles to disk; its time counts as the save's);
        ``extra()``: more named arrays to save (of what is written by the time ``before()`` returns),
        made only for a save; ``n_extra``: how many records they hold. Nothing is saved when neither
        ``done`` nor ``n_extra`` changed since the last save."""
        state = (len(done), int(n_extra))
        if state == self._saved:
            return
        start = time.monotonic()
        if not force and start < self._next:
            return
        if before is not None:
            before()
        save_journal(self.path, fingerprint, done, {**counts, **(extra() if extra is not None else {})})
        end = time.monotonic()
        self._next = end + (end - start) / JOURNAL_SHARE
        self._saved = state


class CoverageStreamWriter:
    """A :class:`cellscape.pipeline.stream.TileSink` writing into ``out_dir`` (see the module)."""

    def __init__(self, out_dir: str | os.PathLike, *, resume: bool = False):
        self.out = Path(out_dir)
        self.resume = resume
        self.work = self.out / PARTIAL_DIR
        self.journal = self.work / "journal.npz"
        self._journal = Journal(self.journal)
        self._done: list[tuple[int, int, int, int]] = []
        self._fingerprint = ""
        self._open: dict[str, rasterio.io.DatasetWriter] = {}       # work file name -> open dataset
        self._spec: PyramidSpec | None = None
        self._zlevel: int | None = PARTIAL_DEFLATE_LEVEL      # of the work files; None: uncompressed
        self._pyramids: list[tuple[int, int, int, int]] = []       # blocks whose overview pieces are written

    # -- TileSink ---------------------------------------------------------------------------
    def start(self, grid: RasterGrid, *, fingerprint: str):
        self._close()
        self.out.mkdir(parents=True, exist_ok=True)
        self._fingerprint = fingerprint
        self._spec = self.pyramid_spec(grid)
        if self.resume and self.journal.is_file():
            self._done, counts = load_journal(self.journal, fingerprint, self.work)
            blocks = counts.pop(_PYRAMID_KEY, np.zeros((0, 4), dtype=np.int64))
            self._pyramids = [tuple(int(v) for v in row) for row in blocks]
            with rasterio.open(self.work / "coverage.tif") as src:
                self._zlevel = None if src.compression is None else PARTIAL_DEFLATE_LEVEL
            if self._spec is not None:          # a run left by a version that made every level at the end
                for name, _ in self._spec.layers:
                    if not all(level_path(self.work, f"{name}.tif", f).is_file() for f in self._spec.factors):
                        create_levels(self.work / f"{name}.tif", self.work, self._spec.factors,
                                      zlevel=self._zlevel)
                        self._pyramids = []
            return set(self._done), counts
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir()
        raw_bytes = grid.n_pixels * (3 * 4 + 4) * 4.0 / 3.0
        self._zlevel = None if raw_bytes <= WORK_RAW_SHARE * shutil.disk_usage(self.work).free else PARTIAL_DEFLATE_LEVEL
        self._create(self.work / "coverage.tif", grid, len(_COVERAGE_BANDS), "float32", None, _COVERAGE_BANDS,
                     self._zlevel)
        self._create(self.work / "best_sector.tif", grid, 1, "int32", -1, ("best_sector",), self._zlevel)
        if self._spec is not None:
            for name, _ in self._spec.layers:
                create_levels(self.work / f"{name}.tif", self.work, self._spec.factors, zlevel=self._zlevel)
        self._done, self._pyramids = [], []
        return set(), None

    def pyramid_spec(self, grid: RasterGrid) -> PyramidSpec | None:
        """The overview levels made block by block (those up to :data:`PYRAMID_BLOCK_PX`) of the
        COGs of ``grid``; None where the maps get no overview."""
        factors = tuple(f for f in overview_factors(grid.n_cols, grid.n_rows, BLOCK_PX) if f <= PYRAMID_BLOCK_PX)
        if not factors:
            return None
        return PyramidSpec(grid.n_rows, grid.n_cols, factors, PYRAMID_BLOCK_PX, COG_LAYERS)

    def write_pyramid(self, pyramid: BlockPyramid) -> None:
        """Write one block's overview pieces (a Dask worker made them) into the level files; the
        journal records the block with its next save, and the end skips it."""
        if self._spec is None or pyramid.factors != self._spec.factors:
            raise ValueError(f"overview pieces of factors {pyramid.factors}, the run's are "
                             f"{None if self._spec is None else self._spec.factors}")
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
            for name, _ in self._spec.layers:
                levels = [self._dataset(level_path(self.work, f"{name}.tif", f).name) for f in pyramid.factors]
                write_pieces(levels, pyramid, name)
        self._pyramids.append(tuple(pyramid.block))

    def _journal_extra(self) -> dict[str, np.ndarray]:
        return {_PYRAMID_KEY: np.array(self._pyramids, dtype=np.int64).reshape(-1, 4)}

    def write_tile(self, tile: CoverageTile, counts: dict[str, np.ndarray]) -> None:
        w = tile.window
        win = RioWindow(w.col_start, w.row_start, w.col_stop - w.col_start, w.row_stop - w.row_start)
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
            for name, a in cog_layers(tile).items():
                self._dataset(f"{name}.tif").write(a, window=win)
        self._done.append((w.row_start, w.row_stop, w.col_start, w.col_stop))
        self._journal.record(self._fingerprint, self._done, counts, before=self._close, extra=self._journal_extra,
                             n_extra=len(self._pyramids))

    def checkpoint(self, counts: dict[str, np.ndarray]) -> None:
        """Save the journal now (the run stops: every finished tile kept for ``--resume``)."""
        self._journal.record(self._fingerprint, self._done, counts, force=True, before=self._close,
                             extra=self._journal_extra, n_extra=len(self._pyramids))

    def _dataset(self, name: str):
        """The work file ``name`` open for writing (opened on the first tile after a save)."""
        dst = self._open.get(name)
        if dst is None:
            dst = self._open[name] = rasterio.open(self.work / name, "r+", NUM_THREADS=GDAL_THREADS)
        return dst

    def _close(self) -> None:
        """Close the open work files: their tiles are then on disk."""
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
            while self._open:
                self._open.popitem()[1].close()

    # -- the end ------------------------------------------------------------------------------
    def finish(self, run: StreamedRun) -> list[Path]:
        """Copy the finished rasters to COGs in ``out_dir`` (atomically), write kpis.json and
        scenario.json, remove the work folder; return the paths."""
        self._close()
        resampling = dict(COG_LAYERS)
        written = [self._to_cog("best_sector.tif", resampling["best_sector"], 2),
                   self._to_cog("coverage.tif", resampling["coverage"], 3)]
        written.append(write_kpis(self.out / "kpis.json", run.kpis))
        written.append(write_scenario_json(self.out / "scenario.json", run.scenario))
        shutil.rmtree(self.work)
        return written

    def _to_cog(self, name: str, resampling: str, predictor: int) -> Path:
        """Copy the work file ``name`` to a COG in ``out_dir`` with the overviews GDAL's ``AUTO``
        would make (``resampling``: average or nearest), built block by block (cellscape.io.overviews:
        4000 x 4000 x 3 float32 in 4.4 s instead of GDAL's 8.0 s; the blocks the workers made are
        skipped) and handed to the COG driver through a VRT."""
        src = self.work / name
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
            levels = build_levels(src, self.work, resampling, tile_px=BLOCK_PX, block_px=PYRAMID_BLOCK_PX,
                                  blocks_done=frozenset(self._pyramids), zlevel=self._zlevel)
        source = overview_vrt(src, levels, self.work / f"{src.stem}.vrt") if levels else src

        def copy(tmp: Path) -> None:
            # GDAL_NUM_THREADS: anything GDAL still resamples runs on every core too
            with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB, GDAL_NUM_THREADS=GDAL_THREADS):
                rasterio.shutil.copy(source, tmp, driver="COG", COMPRESS="DEFLATE", PREDICTOR=str(predictor),
                                     BLOCKSIZE=str(BLOCK_PX), BIGTIFF="IF_SAFER", RESAMPLING=resampling.upper(),
                                     OVERVIEWS="AUTO", NUM_THREADS=GDAL_THREADS)

        return write_atomic(self.out / name, copy)

    @staticmethod
    def _create(path: Path, grid: RasterGrid, count: int, dtype: str, nodata, names, zlevel: int | None) -> None:
        packing = (dict(compress="none") if zlevel is None else
                   dict(compress="deflate", zlevel=zlevel, predictor=3 if dtype == "float32" else 2))
        profile = dict(driver="GTiff", width=grid.n_cols, height=grid.n_rows, count=count, dtype=dtype,
                       crs=CRS.from_user_input(grid.crs), transform=Affine(*grid.transform), nodata=nodata,
                       tiled=True, blockxsize=BLOCK_PX, blockysize=BLOCK_PX, BIGTIFF="IF_SAFER", sparse_ok=True,
                       **packing)
        with rasterio.open(path, "w", **profile) as dst:
            for i, name in enumerate(names, start=1):
                dst.set_band_description(i, name)
                dst.set_band_unit(i, unit_of(name))
            dst.update_tags(software="cellscape")


def save_journal(path: Path, fingerprint: str, done, counts: dict[str, np.ndarray]) -> None:
    """A streamed run's journal, atomically: its fingerprint, the finished windows ``done`` (rows of
    row_start, row_stop, col_start, col_stop) and the KPI counts so far (an .npz)."""
    rows = np.array(done, dtype=np.int64).reshape(-1, 4)

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, fingerprint=np.array(fingerprint), done=rows, **counts)

    write_atomic(path, save)


def load_journal(path: Path, fingerprint: str, work: Path) -> tuple[list[tuple[int, int, int, int]], dict]:
    """The finished windows and KPI counts of the journal :func:`save_journal` wrote at ``path``;
    a clear error when it is another run's (``fingerprint`` differs; ``work``: its folder)."""
    with np.load(path) as saved:
        if str(saved["fingerprint"]) != fingerprint:
            raise ScenarioError(f"{work}: the unfinished run there is of another scenario or tiling; "
                                f"run without --resume to start afresh")
        done = [tuple(int(v) for v in row) for row in saved["done"]]
        counts = {k: saved[k].copy() for k in saved.files if k not in ("fingerprint", "done")}
    return done, counts


def run_coverage_streamed(scenario, out_dir: str | os.PathLike, *, output_format: str = "cog", resume: bool = False,
                          tile_rows: int | None = None,
                          progress=None, terrain=None, backend: str = "numba",
                          max_output_gb: float = DEFAULT_MAX_OUTPUT_GB,
                          max_hours: float = DEFAULT_MAX_HOURS, client=None,
                          max_in_flight: int | None = None, site_columns=None) -> tuple[StreamedRun, list[Path]]:
    """A streamed coverage run of ``scenario`` into ``out_dir`` (:func:`cellscape.pipeline.stream.stream_coverage`
    with a :class:`CoverageStreamWriter`); return the run and the files written. ``resume``: go on
    from the finished tiles of an interrupted run in ``out_dir`` (same scenario and tiling).
    ``client``: a ``dask.distributed.Client`` whose workers compute the tiles (the same bits).
    ``site_columns``: the network column-wise (a national network: cellscape.pipeline.national).
    ``output_format``: "cog" (coverage.tif, best_sector.tif), "zarr" (coverage.zarr) or "both"
    (:func:`cellscape.io.zarr_sink.streamed_sink`)."""
    from cellscape.io.zarr_sink import streamed_sink

    writer = streamed_sink(out_dir, output_format, resume=resume)
    run = stream_coverage(scenario, writer, terrain=terrain, backend=backend, tile_rows=tile_rows, progress=progress,
                          max_output_gb=max_output_gb, max_hours=max_hours, client=client,
                          max_in_flight=max_in_flight, site_columns=site_columns)
    return run, writer.finish(run)

