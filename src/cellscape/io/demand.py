"""Read a demand raster (users per pixel, GeoTIFF) onto a planning grid, counts preserved."""

from __future__ import annotations

import os

import numpy as np

from cellscape.errors import DataFileError
from cellscape.geo.grid import RasterGrid


def read_demand_raster(path: str | os.PathLike, grid: RasterGrid) -> np.ndarray:
    """Users per pixel of ``grid`` from a GeoTIFF of users per pixel (band 1, any CRS).

    Resampled by averaging the density (users / m^2) onto the grid (rasterio ``average``
    resampling), then multiplied by the grid's pixel area: totals are preserved up to the edges of
    the two grids. Nodata and negative values count as 0.
    """
    import rasterio
    from rasterio.warp import Resampling, reproject

    try:
        src = rasterio.open(path)
    except (rasterio.errors.RasterioIOError, OSError) as exc:
        raise DataFileError(f"{path}: cannot read demand raster ({exc})") from None
    with src:
        if src.crs is None:
            raise DataFileError(f"{path}: the demand raster has no CRS")
        data = src.read(1, masked=True).astype(np.float64).filled(0.0)
        data = np.where(np.isfinite(data) & (data > 0), data, 0.0)
        a = src.transform
        src_area_m2 = abs(a.a * a.e - a.b * a.d)
        if src.crs.is_geographic:
            raise DataFileError(f"{path}: use a projected CRS (metres) for a demand raster, got {src.crs}")
        density = data / src_area_m2
        out = np.zeros(grid.shape, dtype=np.float64)
        dst_transform = rasterio.Affine(grid.resolution_m, 0.0, grid.x_min_m, 0.0, -grid.resolution_m, grid.y_max_m)
        reproject(density, out, src_transform=src.transform, src_crs=src.crs, dst_transform=dst_transform,
                  dst_crs=grid.crs, resampling=Resampling.average, src_nodata=None, dst_nodata=0.0)
    return out * grid.resolution_m ** 2
