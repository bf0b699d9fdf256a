"""XYZ web-mercator map tiles (256 x 256 PNG) of a run's GeoTIFF bands, read with rio-tiler.

rio-tiler cuts and reprojects the band (nearest neighbour: a pixel keeps its value, a serving
sector stays a sector); the colours are the layer's fixed lookup table (run_folder.RasterLayer:
the documented ranges of MAP_STYLES), pixels without data are transparent.
"""

from __future__ import annotations

import numpy as np
from rio_tiler.errors import TileOutsideBounds
from rio_tiler.io import Reader
from rio_tiler.utils import render

from cellscape.web.run_folder import RasterLayer

TILE_SIZE = 256
MIN_ZOOM = 0
MAX_ZOOM = 22
"""Zoom levels the tile endpoint accepts (22: ~4 cm pixels at the equator, far below any run's)."""

MAX_DECIMATION = 64
"""Largest ratio of a tile pixel's size to the raster's (per overview level it has, times 2): coarser
tiles are served empty. A zoom-0 tile of a 2 m city map without overviews otherwise made GDAL
resample the whole world for ~100 s, and zoom 8 (150 raster pixels a tile pixel) 6 s (measured on the
Helsinki example, 2 m, no overviews), one request tying up the
server; the map is then a few tile pixels across anyway."""

EQUATOR_M = 2.0 * 6378137.0 * 3.141592653589793
"""Length of the web-mercator equator [m]."""

EMPTY_PNG = render(np.zeros((3, TILE_SIZE, TILE_SIZE), dtype=np.uint8),
                   mask=np.zeros((TILE_SIZE, TILE_SIZE), dtype=np.uint8), img_format="PNG")
"""A fully transparent tile, for tiles outside the map."""


def tile_in_range(z: int, x: int, y: int) -> str | None:
    """Why (z, x, y) is not a tile the endpoint serves, or None when it is.

    >>> tile_in_range(3, 7, 0) is None, tile_in_range(23, 0, 0), tile_in_range(2, 4, 0)
    (True, 'zoom z=23 outside 0..22', 'tile x=4, y=0 outside 0..3 at zoom 2')
    """
    if not MIN_ZOOM <= z <= MAX_ZOOM:
        return f"zoom z={z} outside {MIN_ZOOM}..{MAX_ZOOM}"
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        return f"tile x={x}, y={y} outside 0..{n - 1} at zoom {z}"
    return None


def tile_pixel_m(z: int) -> float:
    """Size of a tile pixel at the equator at zoom ``z`` [m] (web mercator, 256 px tiles).

    >>> round(tile_pixel_m(0)), round(tile_pixel_m(18), 3)
    (156543, 0.597)
    """
    return EQUATOR_M / (TILE_SIZE * (1 << z))


def _raster_pixel_m(dataset) -> float:
    """The raster's pixel size [m] (degrees taken at 111.32 km for a geographic CRS)."""
    res = float(max(abs(dataset.res[0]), abs(dataset.res[1])))
    return res * 111_320.0 if dataset.crs is not None and dataset.crs.is_geographic else res


def render_tile(layer: RasterLayer, z: int, x: int, y: int) -> bytes:
    """The PNG of tile (z, x, y) of ``layer`` (transparent outside the map, and at zooms where a
    tile pixel spans more than :data:`MAX_DECIMATION` raster pixels per overview level)."""
    with Reader(str(layer.path)) as src:
        levels = len(src.dataset.overviews(layer.band))
        if tile_pixel_m(z) > MAX_DECIMATION * (2 ** levels) * _raster_pixel_m(src.dataset):
            return EMPTY_PNG
        try:
            img = src.tile(x, y, z, tilesize=TILE_SIZE, indexes=layer.band, reproject_method="nearest")
        except TileOutsideBounds:
            return EMPTY_PNG
    band = img.array[0]                                                  # masked (h, w)
    values = np.ma.filled(band.astype(np.float64), np.nan)
    rgb, alpha = layer.colour(values)
    if not alpha.any():
        return EMPTY_PNG
    return render(rgb, mask=alpha, img_format="PNG")
