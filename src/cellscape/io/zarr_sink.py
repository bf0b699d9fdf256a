"""The streamed coverage run as a Zarr v3 store (``cellscape run --stream --format zarr|both``).

:class:`ZarrStreamSink` is a :class:`cellscape.pipeline.stream.TileSink` like the COG writer
(:class:`cellscape.io.stream_writer.CoverageStreamWriter`): the same layers, the same journal, the
same resume, another container. ``OUT/coverage.zarr`` is one Zarr group holding

* ``rsrp_dbm``, ``sinr_db``, ``throughput_mbps`` (float32, the bands of coverage.tif, fill NaN:
  coverage.tif has no nodata) and ``best_sector`` (int32, nodata -1, the layer of best_sector.tif),
  2-D ``(y, x)`` arrays chunked by the run's tile (the first tile's window: each tile then writes
  whole chunks), zstd-compressed;
* ``x``, ``y``: pixel-centre coordinates [m in the CRS] (float64, one chunk each);
* ``spatial_ref``: a 0-d int32 variable whose attributes carry the CRS (``crs_wkt``,
  ``spatial_ref``, ``epsg``) and the affine transform (``GeoTransform``, GDAL order
  "c a b f d e"), the CF grid-mapping convention rioxarray and GDAL read; every layer names it
  (``grid_mapping``) and lists it as a coordinate, so ``xarray.open_zarr`` gives a georeferenced
  Dataset (``ds.rsrp_dbm.rio.crs`` with rioxarray).

Zarr v3 has no ``_ARRAY_DIMENSIONS``: the dimension names are the arrays' ``dimension_names``.
Metadata is consolidated at the end (``zarr.consolidate_metadata``) so readers open the store with
one request.

While the run goes everything lives in ``OUT/.coverage.zarr.partial/``: the store being built
(``coverage.zarr``) and ``journal.npz`` (the fingerprint, the finished windows and the KPI counts,
replaced atomically after each tile, written after the tile's chunks). At the end the store is
renamed to ``OUT/coverage.zarr`` (an older one is first moved aside and removed after): a killed
run leaves the hidden folder and no ``coverage.zarr``. ``--resume`` skips the recorded tiles; a
tile written but not recorded is written again with the same bits, so a resumed run's chunks
are byte-identical to an uninterrupted one's.

:class:`TeeSink` hands each tile to several sinks (COG and Zarr) and :func:`streamed_sink` builds
the sink of a ``--format``; :func:`run_coverage_streamed` is
:func:`cellscape.io.stream_writer.run_coverage_streamed` with an ``output_format``.
"""

from __future__ import annotations

import os
from pathlib import Path
import shutil
import warnings

import numpy as np

from cellscape.coverage.engine import CoverageTile
from cellscape.errors import ScenarioError
from cellscape.geo.grid import RasterGrid, crs_of
from cellscape.io.stream_writer import CoverageStreamWriter, Journal, load_journal
from cellscape.io.coverage_outputs import write_scenario_json
from cellscape.io.kpi_report import write_kpis
from cellscape.pipeline.stream import StreamedRun, throughput_mbps
from cellscape.units import unit_of

STORE_NAME = "coverage.zarr"
PARTIAL_DIR = ".coverage.zarr.partial"
FORMATS = ("cog", "zarr", "both")
"""Values of ``cellscape run --stream --format``."""
ZSTD_LEVEL = 3
LAYERS: dict[str, tuple[str, float | int]] = {
    "rsrp_dbm": ("float32", float("nan")),
    "sinr_db": ("float32", float("nan")),
    "throughput_mbps": ("float32", float("nan")),
    "best_sector": ("int32", -1),
}
"""Layer name -> (dtype, fill value): the bands of coverage.tif (no nodata: NaN fill) and
best_sector.tif (nodata -1)."""


def _layers_of(tile: CoverageTile) -> dict[str, np.ndarray]:
    """The tile's layers as written to coverage.tif / best_sector.tif (dtypes included)."""
    return {"rsrp_dbm": np.asarray(tile.rsrp_dbm, dtype=np.float32),
            "sinr_db": np.asarray(tile.sinr_db, dtype=np.float32),
            "throughput_mbps": throughput_mbps(tile),
            "best_sector": np.asarray(tile.best_sector, dtype=np.int32)}


def geo_attributes(grid: RasterGrid) -> dict:
    """The ``spatial_ref`` attributes of ``grid``: CF grid mapping (pyproj's ``to_cf``) plus
    ``crs_wkt``/``spatial_ref`` (WKT2), ``epsg`` (None without a code) and ``GeoTransform``
    (GDAL order: x of the left edge, pixel width, row rotation, y of the top edge, column
    rotation, pixel height (negative)).

    >>> from cellscape.geo.grid import RasterGrid
    >>> g = RasterGrid(crs="EPSG:32635", x_min_m=0.0, y_max_m=100.0, resolution_m=10.0, n_rows=10, n_cols=5)
    >>> a = geo_attributes(g)
    >>> a["epsg"], a["GeoTransform"], a["grid_mapping_name"]
    (32635, '0.0 10.0 0.0 100.0 0.0 -10.0', 'transverse_mercator')
    """
    crs = crs_of(grid.crs)
    a, b, c, d, e, f = grid.transform
    try:
        cf = {k: v for k, v in crs.to_cf().items() if k != "crs_wkt"}
    except Exception:                                    # pyproj cannot express some CRSs in CF
        cf = {}
    wkt = crs.to_wkt()
    return {**cf, "crs_wkt": wkt, "spatial_ref": wkt, "epsg": crs.to_epsg(),
            "GeoTransform": " ".join(repr(float(v)) for v in (c, a, b, f, d, e))}


class ZarrStreamSink:
    """A :class:`cellscape.pipeline.stream.TileSink` building ``OUT/coverage.zarr`` (see the module).

    ``chunk_shape``: (rows, cols) of the layers' chunks; default the first tile's window.
    ``write_run_files``: :meth:`finish` also writes ``kpis.json`` and ``scenario.json`` (off when
    another sink of a :class:`TeeSink` writes them).
    """

    def __init__(self, out_dir: str | os.PathLike, *, resume: bool = False,
                 chunk_shape: tuple[int, int] | None = None, write_run_files: bool = True):
        self.out = Path(out_dir)
        self.resume = resume
        self.work = self.out / PARTIAL_DIR
        self.store = self.work / STORE_NAME
        self.journal = self.work / "journal.npz"
        self._journal = Journal(self.journal)
        self.chunk_shape = None if chunk_shape is None else (int(chunk_shape[0]), int(chunk_shape[1]))
        self.write_run_files = write_run_files
        self._done: list[tuple[int, int, int, int]] = []
        self._fingerprint = ""
        self._grid: RasterGrid | None = None
        self._group = None
        self._arrays: dict = {}                 # layer name -> zarr array (opened once)

    # -- TileSink ---------------------------------------------------------------------------
    def start(self, grid: RasterGrid, *, fingerprint: str):
        import zarr

        self.out.mkdir(parents=True, exist_ok=True)
        self._fingerprint = fingerprint
        self._grid = grid
        # a journal without its store: killed at the end, after the store was renamed into place
        if self.resume and self.journal.is_file() and (self.store / "zarr.json").is_file():
            self._done, counts = load_journal(self.journal, fingerprint, self.work)
            self._group = zarr.open_group(self.store, mode="r+")
            self._arrays = {name: self._group[name] for name in LAYERS}
            return set(self._done), counts
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir()
        self._group = self._create_group(grid)
        self._arrays = {}
        self._done = []
        return set(), None

    def write_tile(self, tile: CoverageTile, counts: dict[str, np.ndarray]) -> None:
        w = tile.window
        layers = _layers_of(tile)
        if not self._arrays:                                        # the first tile of a fresh run
            self._create_layers(self.chunk_shape or w.shape)
        for name, values in layers.items():
            self._arrays[name][w.rows, w.cols] = values
        self._done.append((w.row_start, w.row_stop, w.col_start, w.col_stop))
        self._journal.record(self._fingerprint, self._done, counts)

    def checkpoint(self, counts: dict[str, np.ndarray]) -> None:
        """Save the journal now (the run stops: every finished tile kept for ``--resume``)."""
        self._journal.record(self._fingerprint, self._done, counts, force=True)

    # -- the end ------------------------------------------------------------------------------
    def finish(self, run: StreamedRun) -> list[Path]:
        """Consolidate the metadata, rename the store onto ``OUT/coverage.zarr`` (an older one is
        moved aside first, then removed), write kpis.json and scenario.json (``write_run_files``),
        remove the work folder; return the paths."""
        import zarr

        if not self._arrays:
            raise ScenarioError(f"{self.store}: no tile was written; the store is incomplete")
        with warnings.catch_warnings():                 # "consolidated metadata is not in the v3 spec yet"
            warnings.simplefilter("ignore")
            zarr.consolidate_metadata(self.store)
        self._group, self._arrays = None, {}
        target = self.out / STORE_NAME
        old = self.out / f".{STORE_NAME}.{os.getpid()}.old"
        if target.exists():
            os.replace(target, old)
        os.replace(self.store, target)
        if old.exists():
            shutil.rmtree(old)
        written = [target]
        if self.write_run_files:
            written.append(write_kpis(self.out / "kpis.json", run.kpis))
            written.append(write_scenario_json(self.out / "scenario.json", run.scenario))
        shutil.rmtree(self.work)
        return written

    # -- the store ----------------------------------------------------------------------------
    def _create_group(self, grid: RasterGrid):
        import zarr

        group = zarr.open_group(self.store, mode="w", zarr_format=3,
                                attributes={"software": "cellscape", "title": "cellscape streamed coverage",
                                            "Conventions": "CF-1.8"})
        crs = crs_of(grid.crs)
        unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
        unit = "m" if unit in ("metre", "meter") else unit
        for dim, values, std in (("x", grid.x_centers_m(), "projection_x_coordinate"),
                                 ("y", grid.y_centers_m(), "projection_y_coordinate")):
            arr = group.create_array(dim, shape=values.shape, chunks=values.shape, dtype="float64",
                                     fill_value=float("nan"), dimension_names=(dim,),
                                     attributes={"standard_name": std, "units": unit, "axis": dim.upper(),
                                                 "long_name": f"{dim} of the pixel centre"})
            arr[:] = values
        ref = group.create_array("spatial_ref", shape=(), dtype="int32", fill_value=0, dimension_names=(),
                                 attributes=geo_attributes(grid))
        ref[()] = 0
        return group

    def _create_layers(self, chunk_shape: tuple[int, int]) -> None:
        from zarr.codecs import ZstdCodec

        grid = self._grid
        chunks = (max(1, min(int(chunk_shape[0]), grid.n_rows)), max(1, min(int(chunk_shape[1]), grid.n_cols)))
        for name, (dtype, fill) in LAYERS.items():
            attrs = {"grid_mapping": "spatial_ref", "coordinates": "spatial_ref", "units": unit_of(name),
                     "long_name": name}
            if name == "best_sector":            # nodata, as xarray's CF decoding reads it (masked on open)
                attrs["_FillValue"] = fill
                attrs["description"] = "index of the serving sector, -1: none"
            self._arrays[name] = self._group.create_array(
                name, shape=(grid.n_rows, grid.n_cols), chunks=chunks, dtype=dtype, fill_value=fill,
                dimension_names=("y", "x"), compressors=ZstdCodec(level=ZSTD_LEVEL), attributes=attrs)


class TeeSink:
    """A :class:`cellscape.pipeline.stream.TileSink` handing each tile to several sinks, in order.

    On resume the finished tiles are those every sink recorded (a run killed between two sinks'
    writes has the later sink one tile behind), with the counts of a sink that recorded exactly
    those; if none did (the sinks' journals come from different runs), every tile is computed
    again from zero counts.
    """

    def __init__(self, *sinks):
        if not sinks:
            raise ValueError("TeeSink needs at least one sink")
        self.sinks = sinks

    def start(self, grid: RasterGrid, *, fingerprint: str):
        started = [s.start(grid, fingerprint=fingerprint) for s in self.sinks]
        common = set.intersection(*(set(done) for done, _ in started))
        for done, counts in started:
            if set(done) == common:
                return common, counts
        return set(), None

    def write_tile(self, tile: CoverageTile, counts: dict[str, np.ndarray]) -> None:
        for s in self.sinks:
            s.write_tile(tile, counts)

    def checkpoint(self, counts: dict[str, np.ndarray]) -> None:
        for s in self.sinks:
            s.checkpoint(counts)

    def pyramid_spec(self, grid: RasterGrid):
        """The overview blocks of the sink that makes overviews (the COG writer's), or None."""
        specs = [s.pyramid_spec(grid) for s in self.sinks if hasattr(s, "pyramid_spec")]
        return next((spec for spec in specs if spec is not None), None)

    def write_pyramid(self, pyramid) -> None:
        for s in self.sinks:
            if hasattr(s, "write_pyramid"):
                s.write_pyramid(pyramid)

    def finish(self, run: StreamedRun) -> list[Path]:
        written: list[Path] = []
        for s in self.sinks:
            written += [p for p in s.finish(run) if p not in written]
        return written


def streamed_sink(out_dir: str | os.PathLike, output_format: str = "cog", *, resume: bool = False,
                  chunk_shape: tuple[int, int] | None = None):
    """The sink of ``cellscape run --stream --format``: ``"cog"`` the COG writer
    (coverage.tif, best_sector.tif), ``"zarr"`` a :class:`ZarrStreamSink` (coverage.zarr),
    ``"both"`` a :class:`TeeSink` of the two (kpis.json and scenario.json written once).
    Each has ``start``/``write_tile`` and ``finish(run) -> paths``."""
    fmt = str(output_format).lower()
    if fmt not in FORMATS:
        raise ScenarioError(f"--format {output_format!r} is not one of {', '.join(FORMATS)}")
    if fmt == "cog":
        return CoverageStreamWriter(out_dir, resume=resume)
    if fmt == "zarr":
        return ZarrStreamSink(out_dir, resume=resume, chunk_shape=chunk_shape)
    return TeeSink(CoverageStreamWriter(out_dir, resume=resume),
                   ZarrStreamSink(out_dir, resume=resume, chunk_shape=chunk_shape, write_run_files=False))


__all__ = ["FORMATS", "LAYERS", "STORE_NAME", "TeeSink", "ZarrStreamSink", "geo_attributes",
           "streamed_sink"]
