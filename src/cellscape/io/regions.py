"""Regional KPIs of a coverage GeoTIFF (``cellscape kpi FOLDER --regions FILE | --grid-km KM``).

The raster is read in row blocks (rasterio windows), never whole: each block's pixels are given the
index of the region they fall in (polygons rasterised onto the block, or square grid cells by index
arithmetic), then counted into :class:`cellscape.kpi.RegionalHistograms`, whose counts add up
exactly whatever the blocks. Peak memory is one block of bands plus the histograms
(regions x ~3,300 bins x 8 bytes), independent of the map's size.

A pixel belongs to the region whose polygon covers its centre (rasterio's rule); where polygons
overlap, the later one in the file wins; pixels of no region are left out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cellscape.errors import DataFileError, ScenarioError
from cellscape.io.atomic import write_atomic
from cellscape.kpi import RegionalHistograms, regional_kpi_table

BANDS = ("rsrp_dbm", "sinr_db", "throughput_mbps")
"""Bands of a coverage GeoTIFF that regional KPIs read (those the file has)."""

BLOCK_PIXELS = 4_000_000
"""Pixels read per block (about 50 MB of float32 bands and region indices)."""


@dataclass(frozen=True)
class Regions:
    """Regions in the raster's CRS: ``names`` (n,), ``geometries`` (n,) shapely polygons, and for
    a square grid ``cell_px`` (cells of cell_px x cell_px pixels from the raster's top-left corner)."""

    names: np.ndarray
    geometries: np.ndarray
    cell_px: int | None = None


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
    """Region index of every pixel of a row block (-1: none), shape (rows, n_cols)."""
    rows = int(window.height)
    if regions.cell_px is not None:
        nx = -(-n_cols // regions.cell_px)
        r = (np.arange(window.row_off, window.row_off + rows) // regions.cell_px)[:, None]     # (rows, 1)
        c = (np.arange(n_cols) // regions.cell_px)[None, :]                                     # (1, n_cols)
        return (r * nx + c).astype(np.int64)
    import rasterio.features
    import rasterio.windows
    import shapely

    wt = rasterio.windows.transform(window, transform)
    bounds = rasterio.windows.bounds(window, transform)
    box = shapely.box(*bounds)
    hit = np.flatnonzero(shapely.intersects(regions.geometries, box))
    if hit.size == 0:
        return np.full((rows, n_cols), -1, dtype=np.int64)
    out = rasterio.features.rasterize(((regions.geometries[i], int(i)) for i in hit), out_shape=(rows, n_cols),
                                      transform=wt, fill=-1, dtype="int32")
    return out.astype(np.int64)


def regional_kpis(raster: str | os.PathLike, *, regions: Regions | None = None, regions_file=None,
                  id_field: str | None = None, grid_km: float | None = None, rsrp_thresholds_dbm=(-100.0,),
                  block_pixels: int = BLOCK_PIXELS) -> tuple[dict, Regions, dict]:
    """KPIs per region of a coverage GeoTIFF, read block by block.

    Give ``regions``, or ``regions_file`` (with ``id_field``), or ``grid_km``. Returns (columns,
    regions, meta): the columns of :func:`cellscape.kpi.regional_kpi_table` plus ``name``.
    """
    import rasterio
    import rasterio.windows

    p = Path(raster)
    if not p.is_file():
        raise DataFileError(f"coverage raster {p} does not exist (run `cellscape run` first)")
    with rasterio.open(p) as src:
        if src.crs is None:
            raise DataFileError(f"{p} has no CRS")
        names = list(src.descriptions)
        have = {b: names.index(b) + 1 for b in BANDS if b in names}
        if "rsrp_dbm" not in have:
            raise DataFileError(f"{p} has no rsrp_dbm band (bands: {', '.join(str(n) for n in names)})")
        res = float(src.transform.a)
        if regions is None:
            if grid_km is not None:
                regions = grid_regions(src.transform, src.height, src.width, res, grid_km)
            elif regions_file is not None:
                regions = read_regions(regions_file, crs=src.crs, id_field=id_field)
            else:
                raise ScenarioError("give --regions FILE or --grid-km KM")
        hist = RegionalHistograms(len(regions.names), rsrp_thresholds_dbm=rsrp_thresholds_dbm)
        rows_per_block = max(1, block_pixels // max(src.width, 1))
        n_blocks = 0
        for r0 in range(0, src.height, rows_per_block):
            win = rasterio.windows.Window(0, r0, src.width, min(rows_per_block, src.height - r0))
            bands = {b: src.read(i, window=win).astype(np.float32) for b, i in have.items()}
            nodata = src.nodata
            if nodata is not None:
                for b in bands:
                    bands[b][bands[b] == nodata] = np.nan
            hist.add(_block_regions(regions, win, src.transform, src.width), bands)
            n_blocks += 1
        crs = src.crs.to_string()
    cols = regional_kpi_table(hist, pixel_area_m2=res * res)
    cols["name"] = regions.names
    return cols, regions, {"raster": str(p), "crs": crs, "blocks": n_blocks, "rows_per_block": rows_per_block,
                           "regions": len(regions.names), "resolution_m": res}


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


__all__ = ["BANDS", "Regions", "grid_regions", "read_regions", "regional_kpis", "write_regional_kpis"]
