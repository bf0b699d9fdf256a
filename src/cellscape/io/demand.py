"""Read a demand raster (users per pixel, GeoTIFF) onto a planning grid, counts preserved."""

from __future__ import annotations

import math
import os

import numpy as np

from cellscape.errors import DataFileError
from cellscape.io import limits
from cellscape.geo.grid import RasterGrid


def read_demand_raster(path: str | os.PathLike, grid: RasterGrid) -> np.ndarray:
    """Users per pixel of ``grid`` from a GeoTIFF of users per pixel (band 1, any CRS).

    Resampled by averaging the density (users / m^2) onto the grid (rasterio ``average``
    resampling), then multiplied by the grid's pixel area: totals are preserved up to the edges of
    the two grids. Nodata and negative values count as 0.
    """
    import rasterio
    from rasterio._err import CPLE_BaseError     # GDAL's own errors (e.g. "Cannot invert geotransform")
    from rasterio.errors import CRSError, RasterioError
    from rasterio.warp import Resampling, reproject

    if not os.path.exists(path):
        raise DataFileError(f"{path}: cannot read demand raster (no such file)")
    limits.check_regular_file(path, what="demand raster", name="max_raster_file_bytes")
    try:
        src = rasterio.open(path)
    except (RasterioError, OSError) as exc:
        raise DataFileError(f"{path}: cannot read demand raster ({_one_line(exc)})") from None
    try:
        with src:
            if src.crs is None:
                raise DataFileError(f"{path}: the demand raster has no CRS")
            if src.crs.is_geographic:
                raise DataFileError(f"{path}: use a projected CRS (metres) for a demand raster, got {src.crs}")
            limits.check_count("max_raster_pixels", float(src.width) * float(src.height),
                               f"pixels in demand raster {path} ({src.height:,} x {src.width:,})",
                               cost=f"~{src.width * src.height * 8 / 1e9:.3g} GB to read as users")
            kind = np.dtype(src.dtypes[0])
            if kind.kind not in "iuf":
                raise DataFileError(f"{path}: the demand raster holds {kind.name} values; users per pixel are real numbers")
            a = src.transform
            src_area_m2 = abs(a.a * a.e - a.b * a.d)
            if not (math.isfinite(src_area_m2) and src_area_m2 > 0.0 and all(math.isfinite(v) for v in tuple(a)[:6])):
                raise DataFileError(f"{path}: the demand raster's pixels have no area (transform {tuple(a)[:6]})")
            corners = [(a.a * c + a.b * r + a.c, a.d * c + a.e * r + a.f) for c in (0, src.width) for r in (0, src.height)]
            if not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE_M for xy in corners for v in xy):
                raise DataFileError(f"{path}: the demand raster's corners {corners[0]}..{corners[-1]} lie outside "
                                    f"any projected extent (|x|, |y| <= {MAX_COORDINATE_M:g} m)")
            if not _overlaps(src.crs.to_wkt(), src.bounds, grid):
                return np.zeros(grid.shape, dtype=np.float64)          # no user of the raster on the grid
            data = src.read(1, masked=True).astype(np.float64).filled(0.0)
            data = np.where(np.isfinite(data) & (data > 0), data, 0.0)
            density = data / src_area_m2
            out = np.zeros(grid.shape, dtype=np.float64)
            dst_transform = rasterio.Affine(grid.resolution_m, 0.0, grid.x_min_m, 0.0, -grid.resolution_m,
                                            grid.y_max_m)
            reproject(density, out, src_transform=src.transform, src_crs=src.crs, dst_transform=dst_transform,
                      dst_crs=grid.crs, resampling=Resampling.average, src_nodata=None, dst_nodata=0.0)
    except (RasterioError, CRSError, CPLE_BaseError) as exc:
        raise DataFileError(f"{path}: cannot read demand raster ({_one_line(exc)})") from None
    out = np.where(np.isfinite(out) & (out > 0), out, 0.0)
    return out * grid.resolution_m ** 2


MAX_COORDINATE_M = 1e8
"""Largest projected coordinate of a demand raster's corner [m] (the equator is 4.0e7 m long):
GDAL's warper does not return for rasters far outside their CRS's area of use."""


def _overlaps(src_crs: str, bounds, grid: RasterGrid) -> bool:
    """Whether the raster's bounds, projected into the grid's CRS, meet the grid (False when they
    cannot be projected there)."""
    from pyproj import Transformer
    from pyproj.exceptions import CRSError as ProjCRSError, ProjError

    try:
        t = Transformer.from_crs(src_crs, grid.crs, always_xy=True)
        x0, y0, x1, y1 = t.transform_bounds(*bounds, densify_pts=21)
    except (ProjCRSError, ProjError) as exc:
        raise DataFileError(f"cannot place the demand raster on the grid ({_one_line(exc)})") from None
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        return False
    gx0, gy0, gx1, gy1 = grid.bounds_m
    return x0 < gx1 and gx0 < x1 and y0 < gy1 and gy0 < y1


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__
