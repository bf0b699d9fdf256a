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
from rasterio._err import CPLE_BaseError         # GDAL's own errors, not RasterioError subclasses
from rasterio.errors import CRSError, RasterioError

from cellscape.errors import DataFileError, GeometryError
from cellscape.io import limits
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
    if not path.exists():
        raise DataFileError(f"terrain file {path} does not exist")
    limits.check_regular_file(path, what="terrain file", name="max_raster_file_bytes")
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise GeometryError(f"terrain {path} has no CRS; georeference it (e.g. gdal_edit.py -a_srs)")
            limits.check_count("max_raster_pixels", float(src.width) * float(src.height),
                               f"pixels in terrain {path} ({src.height:,} x {src.width:,})",
                               cost=f"~{src.width * src.height * 8 / 1e9:.3g} GB to read as heights")
            kind = np.dtype(src.dtypes[0])
            if kind.kind not in "iuf":
                raise GeometryError(f"terrain {path} holds {kind.name} values; heights are real numbers in metres")
            band = src.read(1, masked=True)
            transform = tuple(src.transform)[:6]
            crs = src.crs.to_string()
    except (RasterioError, CRSError, CPLE_BaseError) as exc:
        raise DataFileError(f"cannot read terrain {path}: {' '.join(str(exc).split())[:300]}") from None
    if not all(np.isfinite(transform)):
        raise GeometryError(f"terrain {path} has a transform that is not finite: {transform}")
    if not crs:
        raise GeometryError(f"terrain {path} has a CRS without a name pyproj can use; georeference it with an EPSG code")
    values = np.ma.filled(band.astype(np.float32), np.nan)
    values[~np.isfinite(values)] = np.nan
    valid = values[np.isfinite(values)]
    if valid.size and (valid.max() > MAX_ELEVATION_M or valid.min() < MIN_ELEVATION_M):
        raise GeometryError(f"terrain {path} has heights {valid.min():.6g}..{valid.max():.6g}, outside "
                            f"[{MIN_ELEVATION_M:g}, {MAX_ELEVATION_M:g}] m: is it in metres?")
    return Terrain(values, transform, crs, source=str(path))
