"""Regional KPIs of a coverage raster (``cellscape kpi FOLDER --regions FILE | --grid-km KM``):
the GeoTIFF of a run (``coverage.tif``) or the Zarr store of a streamed run (``coverage.zarr``,
cellscape.io.zarr_sink).

The raster is read in blocks aligned to its storage tiles or chunks (about ``block_pixels``
pixels: full-width row bands, or tiles of a band when a row of blocks would be too large), never
whole: each block's pixels are given the index of the region they fall in (polygons rasterised
onto the block, or square grid cells by index arithmetic), then counted into
:class:`cellscape.kpi.RegionalHistograms` over the regions the block touches only
(:class:`BlockCounts`), which are added into the run's histograms. Counts are integers and add
up exactly, so the result is the same bits whatever the block size, the order or the machine that
counted a block: the blocks are counted one after another here (default), on dask's threaded
scheduler (``threads=N``) or on a ``dask.distributed`` cluster (``client=``), each task opening
the file and reading its own block. Peak memory is, per block in flight, one block of bands and
region indices plus its regions' histograms, and once the run's histograms (regions x ~3,300 bins
x 8 bytes), independent of the map's size.

A pixel belongs to the region whose polygon covers its centre (rasterio's rule); where polygons
overlap, the later one in the file wins; pixels of no region are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import os
from pathlib import Path

import numpy as np

from cellscape.errors import DataFileError, ScenarioError
from cellscape.io.atomic import write_atomic
from cellscape.kpi import RegionalHistograms, regional_kpi_table

BANDS = ("rsrp_dbm", "sinr_db", "throughput_mbps")
"""Bands of a coverage raster that regional KPIs read (those the raster has)."""

BLOCK_PIXELS = 1_048_576
"""Pixels read per block (about 30 MB of float32 bands, region indices and temporaries); rounded
to whole storage blocks."""

COUNT_PIXELS = 262_144
"""Pixels counted at a time within a block: the counting's float64 and int64 temporaries (about
100 bytes a pixel) stay at ~25 MB whatever the block (a Zarr chunk may be larger than a block)."""

GDAL_CACHE_MB = 64
"""GDAL's block cache while blocks are read [MB]: each storage block is read once, so a cache of
GDAL's default size (5 % of the machine's memory) would only hold memory."""

RASTER_NAMES = ("coverage.tif", "coverage.zarr")
"""What :func:`find_raster` looks for in a run folder, in this order."""


@dataclass(frozen=True)
class Regions:
    """Regions in the raster's CRS: ``names`` (n,), ``geometries`` (n,) shapely polygons, and for
    a square grid ``cell_px`` (cells of cell_px x cell_px pixels from the raster's top-left corner)."""

    names: np.ndarray
    geometries: np.ndarray
    cell_px: int | None = None


@dataclass(frozen=True)
class CoverageRaster:
    """What a block task needs to know of a coverage raster (plain values: it travels to Dask
    workers). ``kind``: "cog" (any GeoTIFF rasterio opens) or "zarr"; ``bands``: name -> band
    index (GeoTIFF, 1-based) or array name (Zarr); ``nodata``: name -> value or None;
    ``transform``: affine (a, b, c, d, e, f); ``block_shape``: (rows, cols) of a storage block."""

    path: str
    kind: str
    crs: str
    width: int
    height: int
    transform: tuple[float, float, float, float, float, float]
    bands: dict = field(default_factory=dict)
    nodata: dict = field(default_factory=dict)
    block_shape: tuple[int, int] = (1, 1)

    @property
    def resolution_m(self) -> float:
        return float(self.transform[0])

    def affine(self):
        from rasterio.transform import Affine

        return Affine(*self.transform)


def find_raster(folder: str | os.PathLike, raster: str | os.PathLike | None = None) -> Path:
    """The coverage raster of a run folder: ``raster`` (relative to ``folder``, or absolute) when
    given, else the first of :data:`RASTER_NAMES` there."""
    folder = Path(folder)
    if raster is not None:
        return folder / raster
    for name in RASTER_NAMES:
        if (folder / name).exists():
            return folder / name
    raise DataFileError(f"coverage raster {folder / RASTER_NAMES[0]} (or {RASTER_NAMES[1]}) does not exist "
                        f"(run `cellscape run` first)")


def open_coverage(path: str | os.PathLike) -> CoverageRaster:
    """Describe a coverage raster: a GeoTIFF (band descriptions name the bands) or a Zarr store
    of cellscape.io.zarr_sink (one 2-D array per band, CRS and transform in ``spatial_ref``)."""
    p = Path(path)
    if not p.exists():
        raise DataFileError(f"coverage raster {p} does not exist (run `cellscape run` first)")
    if p.is_dir():
        return _open_zarr(p)
    import rasterio

    try:
        src = rasterio.open(p)
    except rasterio.errors.RasterioIOError as exc:
        raise DataFileError(f"cannot read coverage raster {p}: {exc}") from None
    with src:
        if src.crs is None:
            raise DataFileError(f"{p} has no CRS")
        names = list(src.descriptions)
        bands = {b: names.index(b) + 1 for b in BANDS if b in names}
        if "rsrp_dbm" not in bands:
            raise DataFileError(f"{p} has no rsrp_dbm band (bands: {', '.join(str(n) for n in names)})")
        bh, bw = src.block_shapes[0]
        return CoverageRaster(path=str(p), kind="cog", crs=src.crs.to_string(), width=src.width, height=src.height,
                              transform=tuple(src.transform)[:6], bands=bands, nodata={b: src.nodata for b in bands},
                              block_shape=(int(bh), int(bw)))


def _open_zarr(p: Path) -> CoverageRaster:
    import xarray as xr

    try:
        ds = xr.open_zarr(p, mask_and_scale=False)
    except Exception as exc:                                    # zarr/xarray raise many kinds
        raise DataFileError(f"cannot read Zarr store {p}: {exc}") from None
    if "rsrp_dbm" not in ds.data_vars:
        raise DataFileError(f"{p} has no rsrp_dbm array (arrays: {', '.join(map(str, ds.data_vars))})")
    if "spatial_ref" not in ds.variables or "crs_wkt" not in ds["spatial_ref"].attrs:
        raise DataFileError(f"{p} has no CRS (a spatial_ref variable with crs_wkt)")
    ref = ds["spatial_ref"].attrs
    rsrp = ds["rsrp_dbm"]
    if rsrp.dims != ("y", "x"):
        raise DataFileError(f"{p}: rsrp_dbm has dimensions {rsrp.dims}, expected ('y', 'x')")
    height, width = (int(n) for n in rsrp.shape)
    if "GeoTransform" in ref:
        c, a, b, f, d, e = (float(v) for v in str(ref["GeoTransform"]).split())
    else:                                                        # from the pixel-centre coordinates
        x, y = ds["x"].values, ds["y"].values
        a, e = float(x[1] - x[0]), float(y[1] - y[0])
        b = d = 0.0
        c, f = float(x[0]) - a / 2, float(y[0]) - e / 2
    bands = {b_: b_ for b_ in BANDS if b_ in ds.data_vars}
    nodata = {}
    for b_ in bands:
        fill = ds[b_].attrs.get("_FillValue")
        nodata[b_] = float(fill) if isinstance(fill, int | float) else None
    chunks = rsrp.encoding.get("chunks") or (height, width)
    epsg = ref.get("epsg")
    crs = f"EPSG:{int(epsg)}" if epsg else str(ref["crs_wkt"])
    return CoverageRaster(path=str(p), kind="zarr", crs=crs, width=width, height=height,
                          transform=(a, b, c, d, e, f), bands=bands, nodata=nodata,
                          block_shape=(int(chunks[0]), int(chunks[1])))


def read_block(raster: CoverageRaster, window) -> dict[str, np.ndarray]:
    """The bands of one block (a :class:`cellscape.geo.grid.Window`) as float32, nodata as NaN."""
    if not os.path.exists(raster.path):
        raise DataFileError(f"coverage raster {raster.path} does not exist here (the workers of a Dask cluster "
                            f"must see the raster at the same path)")
    if raster.kind == "zarr":
        import zarr

        group = zarr.open_group(raster.path, mode="r")
        bands = {b: np.asarray(group[name][window.rows, window.cols], dtype=np.float32)
                 for b, name in raster.bands.items()}
    else:
        import rasterio
        from rasterio.windows import Window as RioWindow

        win = RioWindow(window.col_start, window.row_start, window.col_stop - window.col_start,
                        window.row_stop - window.row_start)
        names = list(raster.bands)
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB), rasterio.open(raster.path) as src:
            stack = src.read([raster.bands[b] for b in names], window=win, out_dtype=np.float32)
        bands = {b: stack[k] for k, b in enumerate(names)}
    for b, v in bands.items():
        nodata = raster.nodata.get(b)
        if nodata is not None and not np.isnan(nodata):
            v[v == nodata] = np.nan
    return bands


def blocks(raster: CoverageRaster, block_pixels: int = BLOCK_PIXELS) -> list:
    """Windows of about ``block_pixels`` pixels, in whole storage blocks, row band by row band:
    full-width bands when a row of storage blocks fits, else tiles of one storage row."""
    from cellscape.geo.grid import Window

    bh, bw = raster.block_shape
    bh, bw = max(1, min(bh, raster.height)), max(1, min(bw, raster.width))
    if raster.width * bh <= block_pixels:
        rows, cols = max(1, block_pixels // (raster.width * bh)) * bh, raster.width
    else:
        rows, cols = bh, max(1, block_pixels // (bh * bw)) * bw
    return [Window(r0, min(r0 + rows, raster.height), c0, min(c0 + cols, raster.width))
            for r0 in range(0, raster.height, rows) for c0 in range(0, raster.width, cols)]


def read_regions(path: str | os.PathLike, *, crs, id_field: str | None = None) -> Regions:
    """Polygons of a vector file (GeoPackage, GeoJSON, Shapefile, GeoParquet), reprojected to
    ``crs``; names from ``id_field`` (default: the first text column, else the row number)."""
    import geopandas as gpd

    p = Path(path)
    if not p.is_file():
        raise DataFileError(f"regions file {p} does not exist")
    try:
        gdf = gpd.read_parquet(p) if p.suffix.lower() == ".parquet" else gpd.read_file(p)
    except Exception as exc:                                       # pyogrio/arrow raise many kinds
        raise DataFileError(f"cannot read regions file {p}: {exc}") from None
    if gdf.crs is None:
        raise DataFileError(f"regions file {p} has no CRS")
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].to_crs(crs)
    if len(gdf) == 0:
        raise DataFileError(f"regions file {p} has no polygon")
    if id_field is not None and id_field not in gdf.columns:
        raise ScenarioError(f"--id-field: {p} has no column {id_field!r} (columns: "
                            f"{', '.join(c for c in gdf.columns if c != gdf.geometry.name)})")
    if id_field is None:
        text = [c for c in gdf.columns if c != gdf.geometry.name and gdf[c].dtype == object]
        names = gdf[text[0]].astype(str).to_numpy() if text else np.arange(len(gdf)).astype(str)
    else:
        names = gdf[id_field].astype(str).to_numpy()
    return Regions(names=np.asarray(names, dtype=object), geometries=np.asarray(gdf.geometry.to_numpy()))


def grid_regions(transform, n_rows: int, n_cols: int, resolution_m: float, cell_km: float) -> Regions:
    """Square cells of ``cell_km`` (a whole number of pixels) from the raster's top-left corner."""
    import shapely

    cell_px = max(1, int(round(cell_km * 1000.0 / resolution_m)))
    ny, nx = -(-n_rows // cell_px), -(-n_cols // cell_px)
    x0, y0 = transform.c, transform.f
    step = cell_px * resolution_m
    jj, ii = np.meshgrid(np.arange(nx), np.arange(ny))
    boxes = shapely.box(x0 + jj * step, y0 - (ii + 1) * step, x0 + (jj + 1) * step, y0 - ii * step).ravel()
    names = np.array([f"r{i}c{j}" for i, j in zip(ii.ravel(), jj.ravel())], dtype=object)
    return Regions(names=names, geometries=boxes, cell_px=cell_px)


def _block_regions(regions: Regions, window, transform, n_cols: int) -> np.ndarray:
    """Region index of every pixel of a block (a :class:`cellscape.geo.grid.Window` of a raster
    ``n_cols`` wide), -1 for none; shape ``window.shape``."""
    rows, cols = window.shape
    if regions.cell_px is not None:
        nx = -(-n_cols // regions.cell_px)
        r = (np.arange(window.row_start, window.row_stop) // regions.cell_px)[:, None]     # (rows, 1)
        c = (np.arange(window.col_start, window.col_stop) // regions.cell_px)[None, :]     # (1, cols)
        return (r * nx + c).astype(np.int64)
    import rasterio.features
    import rasterio.windows
    import shapely

    win = rasterio.windows.Window(window.col_start, window.row_start, cols, rows)
    wt = rasterio.windows.transform(win, transform)
    box = shapely.box(*rasterio.windows.bounds(win, transform))
    hit = np.flatnonzero(shapely.intersects(regions.geometries, box))
    if hit.size == 0:
        return np.full((rows, cols), -1, dtype=np.int64)
    out = rasterio.features.rasterize(((regions.geometries[i], int(i)) for i in hit), out_shape=(rows, cols),
                                      transform=wt, fill=-1, dtype="int32")
    return out.astype(np.int64)


@dataclass
class BlockCounts:
    """One block's counts over the regions it touches: ``ids`` (k,) the regions (sorted, unique)
    and ``hist`` their :class:`~cellscape.kpi.RegionalHistograms` (region j of ``hist`` is
    region ``ids[j]``). Small where a block touches few of many regions."""

    ids: np.ndarray
    hist: RegionalHistograms

    def add_to(self, total: RegionalHistograms) -> None:
        """Add these counts into the histograms of all regions (exact: integers)."""
        h = self.hist
        for name in total.counts:
            total.counts[name][self.ids] += h.counts[name]
        total.pixels[self.ids] += h.pixels
        total.covered[self.ids] += h.covered


def block_counts(raster: CoverageRaster, regions: Regions, window, rsrp_thresholds_dbm) -> BlockCounts:
    """Read one block of ``raster`` and count its pixels per region (a task of :func:`regional_kpis`)."""
    region = _block_regions(regions, window, raster.affine(), raster.width)
    n = len(regions.names)
    ids = np.flatnonzero(np.bincount(region[region >= 0], minlength=n))     # the regions present, sorted
    lookup = np.full(n + 1, -1, dtype=np.int64)                             # region -> its index in ids; -1 -> -1
    lookup[ids] = np.arange(ids.size)
    local = lookup[region]
    hist = RegionalHistograms(ids.size, rsrp_thresholds_dbm=rsrp_thresholds_dbm)
    if ids.size:
        bands = read_block(raster, window)
        step = max(1, COUNT_PIXELS // max(1, local.shape[1]))           # rows counted at a time
        for r0 in range(0, local.shape[0], step):
            hist.add(local[r0:r0 + step], {b: v[r0:r0 + step] for b, v in bands.items()})
    return BlockCounts(ids=ids.astype(np.int64), hist=hist)


def _count_blocks(raster, regions, windows, thresholds, total: RegionalHistograms, *, threads, client) -> None:
    """Count ``windows`` into ``total``: one after another, on dask's threaded scheduler, or on
    a distributed cluster (at most twice its threads in flight); the sum is the same bits."""
    if client is None and threads is None:
        for w in windows:
            block_counts(raster, regions, w, thresholds).add_to(total)
        return
    if client is None:
        import dask

        task = dask.delayed(block_counts)
        # the raster and regions enter the graph once each, as they are (not unpacked as dataclasses)
        raster_d, regions_d = dask.delayed(raster, traverse=False), dask.delayed(regions, traverse=False)
        batch = 4 * threads                                        # bounded: a batch of blocks at a time
        for i in range(0, len(windows), batch):
            parts = dask.compute(*[task(raster_d, regions_d, w, thresholds) for w in windows[i:i + batch]],
                                 scheduler="threads", num_workers=threads)
            for part in parts:
                part.add_to(total)
        return
    from dask.distributed import as_completed

    n_threads = max(1, sum(client.nthreads().values()))
    in_flight = 2 * n_threads
    shared = client.scatter(regions, broadcast=True)
    todo = list(windows)
    futures = [client.submit(block_counts, raster, shared, w, thresholds, pure=False) for w in todo[:in_flight]]
    todo = todo[in_flight:]
    queue = as_completed(futures, loop=client.loop)
    for fut in queue:
        fut.result().add_to(total)
        fut.release()
        if todo:
            queue.add(client.submit(block_counts, raster, shared, todo.pop(0), thresholds, pure=False))


def regional_kpis(raster: str | os.PathLike, *, regions: Regions | None = None, regions_file=None,
                  id_field: str | None = None, grid_km: float | None = None, rsrp_thresholds_dbm=(-100.0,),
                  block_pixels: int = BLOCK_PIXELS, threads: int | None = None,
                  client=None) -> tuple[dict, Regions, dict]:
    """KPIs per region of a coverage raster (GeoTIFF or Zarr store, :func:`open_coverage`), read
    block by block.

    Give ``regions``, or ``regions_file`` (with ``id_field``), or ``grid_km``. The blocks are
    counted in this process one after another (default), on dask's threaded scheduler with
    ``threads`` threads, or on the workers of ``client`` (a ``dask.distributed.Client``); the
    result is the same bits. Returns (columns, regions, meta): the columns of
    :func:`cellscape.kpi.regional_kpi_table` plus ``name``.
    """
    if threads is not None and client is not None:
        raise ScenarioError("give threads (dask's threaded scheduler) or client (a Dask cluster), not both")
    if threads is not None and threads < 1:
        raise ScenarioError(f"threads={threads} must be at least 1")
    if block_pixels < 1:
        raise ScenarioError(f"block_pixels={block_pixels} must be at least 1")
    src = open_coverage(raster)
    if regions is None:
        if grid_km is not None:
            regions = grid_regions(src.affine(), src.height, src.width, src.resolution_m, grid_km)
        elif regions_file is not None:
            regions = read_regions(regions_file, crs=src.crs, id_field=id_field)
        else:
            raise ScenarioError("give --regions FILE or --grid-km KM")
    thresholds = tuple(float(t) for t in rsrp_thresholds_dbm)
    hist = RegionalHistograms(len(regions.names), rsrp_thresholds_dbm=thresholds)
    windows = blocks(src, block_pixels)
    _count_blocks(src, regions, windows, thresholds, hist, threads=threads, client=client)
    res = src.resolution_m
    cols = regional_kpi_table(hist, pixel_area_m2=res * res)
    cols["name"] = regions.names
    where = "sequential" if threads is None and client is None else (
        f"dask threads ({threads})" if client is None else f"dask cluster ({len(client.nthreads())} workers)")
    return cols, regions, {"raster": src.path, "format": src.kind, "crs": src.crs, "blocks": len(windows),
                           "block_shape": windows[0].shape, "regions": len(regions.names), "resolution_m": res,
                           "scheduler": where}


def write_regional_kpis(cols: dict, regions: Regions, crs: str, out_dir: str | os.PathLike, *,
                        png: bool = True, title: str = "") -> list[Path]:
    """``regions_kpis.parquet`` and ``.csv`` (one row per region), ``regions_kpis.gpkg`` (the
    polygons with their KPIs) and, with ``png``, a choropleth of the first coverage fraction."""
    import geopandas as gpd
    import pandas as pd

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    order = ["region", "name"] + [c for c in cols if c not in ("region", "name")]
    df = pd.DataFrame({c: cols[c] for c in order})
    written = [write_atomic(out / "regions_kpis.parquet", lambda tmp: df.to_parquet(tmp, index=False)),
               write_atomic(out / "regions_kpis.csv", lambda tmp: df.to_csv(tmp, index=False))]
    gdf = gpd.GeoDataFrame(df, geometry=list(regions.geometries), crs=crs)
    def gpkg(tmp):                        # GDAL wants the .gpkg extension: write beside, then move
        side = Path(f"{tmp}.gpkg")
        try:
            gdf.to_file(side, driver="GPKG", layer="regions")
            os.replace(side, tmp)
        finally:
            side.unlink(missing_ok=True)

    written.append(write_atomic(out / "regions_kpis.gpkg", gpkg))
    cov = [c for c in cols if c.startswith("coverage_rsrp_ge_")]
    if png and cov:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7.0, 6.0))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        gdf.plot(column=cov[0], ax=ax, cmap="viridis", vmin=0.0, vmax=1.0, legend=True, edgecolor="0.3",
                 linewidth=0.3, missing_kwds={"color": "0.85"},
                 legend_kwds={"label": f"share of pixels with {cov[0][len('coverage_'):].replace('_', ' ')}",
                              "shrink": 0.7})
        ax.set_title(title or "coverage per region")
        ax.set_axis_off()
        fig.tight_layout()
        written.append(write_atomic(out / "regions_coverage.png", lambda tmp: fig.savefig(tmp, format="png", dpi=120)))
    return written


__all__ = ["BANDS", "BLOCK_PIXELS", "RASTER_NAMES", "BlockCounts", "CoverageRaster", "Regions", "block_counts",
           "blocks", "find_raster", "grid_regions", "open_coverage", "read_block", "read_regions", "regional_kpis",
           "write_regional_kpis"]
