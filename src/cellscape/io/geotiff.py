"""GeoTIFF maps: the only home of rasterio (ARCHITECTURE.md, STYLE.md P13).

One band per named array; band descriptions are the glossary names with their unit suffix
(``rsrp_dbm``, ``sinr_db``, ...), so a GIS shows "rsrp_dbm" rather than "Band 1". Files are
tiled (256 x 256), deflate-compressed and written atomically (:mod:`cellscape.io.atomic`).
"""

from __future__ import annotations

from collections.abc import Mapping
import os
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.transform import Affine

from cellscape.errors import DataFileError, GeometryError
from cellscape.geo.grid import RasterGrid
from cellscape.io.atomic import write_atomic
from cellscape.units import unit_of

_BLOCK_PX = 256   # GeoTIFF tile edge (a multiple of 16, as the format requires)


OVERVIEW_MIN_PX = 512
"""Internal overviews are built down to this size (the coarsest is the first under it); rasters
no larger than this in both dimensions get none."""


def overview_factors(n_rows: int, n_cols: int) -> list[int]:
    """Decimation factors 2, 4, 8, ... of the internal overviews of an (n_rows, n_cols) raster.

    >>> overview_factors(849, 532), overview_factors(300, 300), overview_factors(4096, 1000)
    ([2], [], [2, 4, 8])
    """
    factors, f = [], 2
    while max(n_rows, n_cols) // (f // 2) > OVERVIEW_MIN_PX:
        factors.append(f)
        f *= 2
    return factors


def write_geotiff(path: str | os.PathLike, bands: Mapping[str, np.ndarray], grid: RasterGrid, *,
                  nodata: float | None = None) -> Path:
    """Write ``bands`` as one GeoTIFF with one band per array, georeferenced by ``grid``.

    Parameters
    ----------
    path : str or os.PathLike
        Output file; replaced atomically.
    bands : mapping of str to ndarray, each shape (n_rows, n_cols)
        Band name (glossary name with unit suffix, e.g. ``"rsrp_dbm"``) -> values, north-up
        (row 0 is the northern edge). All arrays share one dtype; bool arrays are written as uint8.
    grid : RasterGrid
        CRS and pixel geometry of the arrays.
    nodata : float, optional
        Value marked as "no data" in every band (e.g. -1 for a serving-sector index).

    Returns
    -------
    path : Path

    Raises
    ------
    GeometryError
        If there is no band, or an array is not 2-D with the grid's shape.
    TypeError
        If the arrays do not share one dtype (a GeoTIFF holds one data type).
    """
    if not bands:
        raise GeometryError(f"cannot write {path}: no bands given")
    arrays = {}
    for name, values in bands.items():
        if not isinstance(name, str) or not name:
            raise GeometryError(f"band names must be non-empty strings, got {name!r}")
        arr = np.asarray(values)
        if arr.shape != grid.shape:
            raise GeometryError(f"band {name!r} has shape {arr.shape}, but the grid is {grid.shape} (rows, cols)")
        arrays[name] = arr.astype(np.uint8) if arr.dtype == bool else arr
    dtypes = {str(a.dtype) for a in arrays.values()}
    if len(dtypes) > 1:
        listed = ", ".join(f"{n}: {a.dtype}" for n, a in arrays.items())
        raise TypeError(f"all bands of one GeoTIFF need one dtype, got {listed}; write them to separate files")
    dtype = np.dtype(dtypes.pop())
    profile = {
        "driver": "GTiff",
        "width": grid.n_cols,
        "height": grid.n_rows,
        "count": len(arrays),
        "dtype": dtype.name,
        "crs": CRS.from_user_input(grid.crs),
        "transform": Affine(*grid.transform),
        "nodata": nodata,
        "tiled": True,
        "blockxsize": _BLOCK_PX,
        "blockysize": _BLOCK_PX,
        "compress": "deflate",
        # deflate predictor: horizontal differencing for integers (2), floating point (3)
        "predictor": 3 if np.issubdtype(dtype, np.floating) else 2,
    }

    factors = overview_factors(grid.n_rows, grid.n_cols)

    def write(tmp: Path) -> None:
        with rasterio.open(tmp, "w", **profile) as dst:
            for index, (name, arr) in enumerate(arrays.items(), start=1):
                dst.write(arr, index)
                dst.set_band_description(index, name)
                dst.set_band_unit(index, unit_of(name))
            dst.update_tags(software="cellscape")
            if factors:   # zoomed-out reads (map tiles, previews) read these, not the full raster
                floating = np.issubdtype(dtype, np.floating)
                dst.build_overviews(factors, Resampling.average if floating else Resampling.nearest)
                dst.update_tags(ns="rio_overview", resampling="average" if floating else "nearest")

    return write_atomic(path, write)


def read_geotiff(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], RasterGrid]:
    """Read a north-up GeoTIFF written by :func:`write_geotiff`.

    Parameters
    ----------
    path : str or os.PathLike
        The GeoTIFF file.

    Returns
    -------
    bands : dict of str to ndarray, each shape (n_rows, n_cols)
        Band description (``band_<i>`` when a band has none) -> values.
    grid : RasterGrid
        The grid the file is georeferenced on.

    Raises
    ------
    DataFileError
        If the file does not exist or is not a raster GDAL reads.
    GeometryError
        If the file has no CRS, is rotated, or has non-square pixels.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"GeoTIFF {path} does not exist")
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise GeometryError(f"GeoTIFF {path} has no CRS")
            a, b, c, d, e, f = tuple(src.transform)[:6]
            if b != 0.0 or d != 0.0 or a <= 0.0 or e >= 0.0 or not np.isclose(a, -e, rtol=1e-9, atol=0.0):
                raise GeometryError(
                    f"GeoTIFF {path} is not north-up with square pixels (transform {a, b, c, d, e, f})")
            grid = RasterGrid(crs=src.crs.to_string(), x_min_m=c, y_max_m=f, resolution_m=a,
                              n_rows=src.height, n_cols=src.width)
            names = [desc or f"band_{i}" for i, desc in enumerate(src.descriptions, start=1)]
            bands = {name: src.read(i) for i, name in enumerate(names, start=1)}
    except RasterioIOError as exc:
        raise DataFileError(f"cannot read GeoTIFF {path}: {exc}") from None
    return bands, grid
