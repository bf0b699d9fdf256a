"""The streamed coverage run's files: tiles written into GeoTIFFs as they finish, a journal of
finished tiles so an interrupted run resumes, and at the end Cloud-Optimized GeoTIFFs that appear
whole or not at all.

While the run goes, everything lives in the hidden folder ``OUT/.coverage.partial/``:
``coverage.tif`` and ``best_sector.tif`` (tiled 512 x 512, deflate level 1, ``BIGTIFF=IF_SAFER``), each
tile written into its window and the files closed (flushed) before the tile is recorded, and
``journal.npz`` (replaced atomically after each tile: the scenario's fingerprint, the finished
windows and the KPI counts so far). A tile written but not yet recorded is computed and written
again on resume (the same bits). At the end each file is copied by GDAL's COG driver (internal
overviews, 512 x 512 tiles) to a temporary name and renamed onto ``OUT/coverage.tif`` /
``OUT/best_sector.tif`` (:mod:`cellscape.io.atomic`), then ``kpis.json`` and ``scenario.json`` are
written and the folder is removed. A killed run leaves the hidden folder and no ``coverage.tif``.
"""

from __future__ import annotations

import os
from pathlib import Path
import shutil

import numpy as np
import rasterio
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
from cellscape.pipeline.stream import (
    DEFAULT_MAX_HOURS,
    DEFAULT_MAX_OUTPUT_GB,
    StreamedRun,
    stream_coverage,
    throughput_mbps,
)
from cellscape.units import unit_of

PARTIAL_DIR = ".coverage.partial"
BLOCK_PX = 512
GDAL_CACHE_MB = 512
"""GDAL's block cache while tiles are written and the COGs copied [MB]. Its default (5 % of the
machine's memory) lets the COG copy of a large map hold over a GB of blocks: peak memory grew with
the map (377 MB at 4 M pixels, 1.3 GB at 64 M, benchmarks/national_bench.py) until it was capped."""
GDAL_THREADS = "ALL_CPUS"
"""Threads GDAL compresses blocks with (the files are byte-identical whatever the count). On 2 cores
the COG copy of a 4 M-pixel map took 12.5 s with one thread, 5.7 s with both (measured here)."""
PARTIAL_DEFLATE_LEVEL = 1
"""Deflate level of the work files (read once, by the COG copy): level 1 rather than GDAL's 6 costs
~3 % in size and writes each tile faster; the final COGs keep level 6."""
_COVERAGE_BANDS = ("rsrp_dbm", "sinr_db", "throughput_mbps")


class CoverageStreamWriter:
    """A :class:`cellscape.pipeline.stream.TileSink` writing into ``out_dir`` (see the module)."""

    def __init__(self, out_dir: str | os.PathLike, *, resume: bool = False):
        self.out = Path(out_dir)
        self.resume = resume
        self.work = self.out / PARTIAL_DIR
        self.journal = self.work / "journal.npz"
        self._done: list[tuple[int, int, int, int]] = []
        self._fingerprint = ""

    # -- TileSink ---------------------------------------------------------------------------
    def start(self, grid: RasterGrid, *, fingerprint: str):
        self.out.mkdir(parents=True, exist_ok=True)
        self._fingerprint = fingerprint
        if self.resume and self.journal.is_file():
            self._done, counts = load_journal(self.journal, fingerprint, self.work)
            return set(self._done), counts
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir()
        self._create(self.work / "coverage.tif", grid, len(_COVERAGE_BANDS), "float32", None, _COVERAGE_BANDS)
        self._create(self.work / "best_sector.tif", grid, 1, "int32", -1, ("best_sector",))
        self._done = []
        return set(), None

    def write_tile(self, tile: CoverageTile, counts: dict[str, np.ndarray]) -> None:
        w = tile.window
        win = RioWindow(w.col_start, w.row_start, w.col_stop - w.col_start, w.row_stop - w.row_start)
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
            with rasterio.open(self.work / "coverage.tif", "r+", NUM_THREADS=GDAL_THREADS) as dst:
                dst.write(np.stack([tile.rsrp_dbm, tile.sinr_db, throughput_mbps(tile)]).astype(np.float32),
                          window=win)
            with rasterio.open(self.work / "best_sector.tif", "r+", NUM_THREADS=GDAL_THREADS) as dst:
                dst.write(tile.best_sector.astype(np.int32), 1, window=win)
        self._done.append((w.row_start, w.row_stop, w.col_start, w.col_stop))
        save_journal(self.journal, self._fingerprint, self._done, counts)

    # -- the end ------------------------------------------------------------------------------
    def finish(self, run: StreamedRun) -> list[Path]:
        """Copy the finished rasters to COGs in ``out_dir`` (atomically), write kpis.json and
        scenario.json, remove the work folder; return the paths."""
        written = [self._to_cog("best_sector.tif", "NEAREST", 2), self._to_cog("coverage.tif", "AVERAGE", 3)]
        written.append(write_kpis(self.out / "kpis.json", run.kpis))
        written.append(write_scenario_json(self.out / "scenario.json", run.scenario))
        shutil.rmtree(self.work)
        return written

    def _to_cog(self, name: str, resampling: str, predictor: int) -> Path:
        src = self.work / name

        def copy(tmp: Path) -> None:
            with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
                rasterio.shutil.copy(src, tmp, driver="COG", COMPRESS="DEFLATE", PREDICTOR=str(predictor),
                                     BLOCKSIZE=str(BLOCK_PX), BIGTIFF="IF_SAFER", RESAMPLING=resampling,
                                     OVERVIEWS="AUTO", NUM_THREADS=GDAL_THREADS)

        return write_atomic(self.out / name, copy)

    @staticmethod
    def _create(path: Path, grid: RasterGrid, count: int, dtype: str, nodata, names) -> None:
        profile = dict(driver="GTiff", width=grid.n_cols, height=grid.n_rows, count=count, dtype=dtype,
                       crs=CRS.from_user_input(grid.crs), transform=Affine(*grid.transform), nodata=nodata,
                       tiled=True, blockxsize=BLOCK_PX, blockysize=BLOCK_PX, compress="deflate",
                       predictor=3 if dtype == "float32" else 2, zlevel=PARTIAL_DEFLATE_LEVEL, BIGTIFF="IF_SAFER",
                       sparse_ok=True)
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

