"""Read a digital elevation model (any raster GDAL reads, normally a GeoTIFF) into a
:class:`~cellscape.geo.surface.Terrain` record.

The edge of the terrain model: rasterio opens the file here and nowhere else; the core samples the
record (pyproj + scipy). The first band is read as heights in metres; the no-data value and
non-finite values become NaN (the engine fills them from the nearest valid pixel).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError

from cellscape.errors import DataFileError, GeometryError
from cellscape.geo.surface import Terrain
from cellscape.scenario.records import SIONNA_PREFIX

MAX_ELEVATION_M = 9000.0
"""Highest plausible ground [m] (Everest 8 849 m); higher values mean another unit."""

MIN_ELEVATION_M = -500.0
"""Lowest plausible ground [m] (Dead Sea shore -430 m)."""


def read_terrain(path: str | os.PathLike) -> Terrain:
    """The first band of a raster file as a :class:`Terrain` (heights in metres); ``"sionna:<scene>"``
    reads the ground mesh of a sionna-rt city scene instead (:func:`cellscape.geo.scenes.load_sionna_terrain`).

    Raises
    ------
    DataFileError
        If the file does not exist or GDAL cannot read it.
    GeometryError
        If it has no CRS, no valid pixel, or heights outside [-500, 9000] m (a unit mistake).
    """
    if str(path).startswith(SIONNA_PREFIX):
        from cellscape.geo.scenes import load_sionna_terrain   # the ground mesh of a sionna-rt scene

        return load_sionna_terrain(str(path)[len(SIONNA_PREFIX):])
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"terrain file {path} does not exist")
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise GeometryError(f"terrain {path} has no CRS; georeference it (e.g. gdal_edit.py -a_srs)")
            band = src.read(1, masked=True)
            transform = tuple(src.transform)[:6]
            crs = src.crs.to_string()
    except RasterioIOError as exc:
        raise DataFileError(f"cannot read terrain {path}: {exc}") from None
    values = np.ma.filled(band.astype(np.float32), np.nan)
    values[~np.isfinite(values)] = np.nan
    valid = values[np.isfinite(values)]
    if valid.size and (valid.max() > MAX_ELEVATION_M or valid.min() < MIN_ELEVATION_M):
        raise GeometryError(f"terrain {path} has heights {valid.min():.6g}..{valid.max():.6g}, outside "
                            f"[{MIN_ELEVATION_M:g}, {MAX_ELEVATION_M:g}] m: is it in metres?")
    return Terrain(values, transform, crs, source=str(path))
