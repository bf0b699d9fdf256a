"""Overviews of a large GeoTIFF built block by block in numpy, for the COG copy of a streamed run.

GDAL's COG driver builds the overviews of ``OVERVIEWS=AUTO`` itself, and on this project's 2-core
test machine that was most of the copy: 4000 x 4000 x 3 float32 took 8.0 s with the overviews
(GDAL_NUM_THREADS on every core) and 1.4 s without. Here each level halves the one before
(:func:`write_halved`: 2 x 2 means for the float maps, a NaN spreading to its cell as in GDAL's
``AVERAGE``; the pixel GDAL's ``NEAREST`` keeps for the sector index) in blocks of ``block_px``, so memory stays bounded whatever
the map's size, and a VRT (:func:`overview_vrt`) names the levels as the base file's overviews; the
COG driver then copies them as they are (``OVERVIEWS=AUTO`` uses a source's overviews). Same
full-resolution bytes. Where a level's sides are even, its values are within float32 rounding of
GDAL's ``AVERAGE`` (sums formed in another order) and equal to its ``NEAREST``
(tests/io/test_overviews.py). Where a side is odd, each overview pixel here is still the mean of
a 2 x 2 cell (its last one cut by the edge), while GDAL stretches the cells to keep the extent
(ceil(n / 2) cells over n pixels): the two drift apart by up to half a base pixel at the far
edge. Both are display pyramids; the full-resolution maps are what the numbers come from.

The levels are those GDAL's ``AUTO`` makes (:func:`overview_factors`): 2, 4, ... until the level
fits in one tile.
"""

from __future__ import annotations

import os
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import rasterio
from rasterio.transform import Affine
from rasterio.windows import Window

RESAMPLINGS = ("average", "nearest")
_GDAL_TYPES = {"float32": "Float32", "float64": "Float64", "int32": "Int32", "int16": "Int16", "uint8": "Byte",
               "uint16": "UInt16", "uint32": "UInt32"}
"""numpy dtype name -> the VRT's dataType."""


def overview_factors(width: int, height: int, tile_px: int = 512) -> list[int]:
    """The factors GDAL's COG driver picks with ``OVERVIEWS=AUTO``: 2, 4, ... while the previous
    level is larger than one tile (``tile_px``) in either dimension.

    >>> overview_factors(600, 80), overview_factors(512, 512), overview_factors(4000, 3000)
    ([2], [], [2, 4, 8])
    """
    factors, f = [], 1
    while -(-max(int(width), int(height)) // f) > tile_px:
        f *= 2
        factors.append(f)
    return factors


def halve(a: np.ndarray, resampling: str) -> np.ndarray:
    """One overview step of ``a`` (bands, rows, cols): (bands, ceil(rows / 2), ceil(cols / 2)).

    ``average``: the mean of each 2 x 2 cell (of the pixels it has at an odd edge), NaN if one of
    them is (as GDAL's ``AVERAGE``), summed in float64 and returned in ``a``'s dtype; ``nearest``:
    the cell's first pixel (2 i, 2 j), the one GDAL's ``NEAREST`` keeps.

    >>> halve(np.array([[[1.0, 3.0, 5.0], [np.nan, 5.0, 7.0]]], dtype=np.float32), "average")
    array([[[nan,  6.]]], dtype=float32)
    >>> halve(np.arange(9).reshape(1, 3, 3), "nearest")
    array([[[0, 2],
            [6, 8]]])
    """
    k, h, w = a.shape
    oh, ow = -(-h // 2), -(-w // 2)
    if resampling == "nearest":
        return a[:, ::2, ::2]
    if resampling != "average":
        raise ValueError(f"resampling must be one of {RESAMPLINGS}, got {resampling!r}")
    padded = np.zeros((k, 2 * oh, 2 * ow), dtype=np.float64)
    padded[:, :h, :w] = a
    total = padded.reshape(k, oh, 2, ow, 2).sum(axis=(2, 4))
    count = (np.minimum(2, h - 2 * np.arange(oh))[:, None] * np.minimum(2, w - 2 * np.arange(ow))[None, :])
    return (total / count).astype(a.dtype)


def write_halved(src_path: str | os.PathLike, dst_path: str | os.PathLike, resampling: str, *,
                 block_px: int = 1024, zlevel: int = 1) -> None:
    """Write the overview step of the GeoTIFF ``src_path`` (every band, :func:`halve`) to ``dst_path``,
    tiled 512 x 512, deflate ``zlevel``, reading ``block_px`` x ``block_px`` (even) at a time."""
    if block_px < 2 or block_px % 2:
        raise ValueError(f"block_px must be even and >= 2, got {block_px}")
    with rasterio.open(src_path) as src:
        h, w, dtype = src.height, src.width, src.dtypes[0]
        oh, ow = -(-h // 2), -(-w // 2)
        profile = dict(driver="GTiff", width=ow, height=oh, count=src.count, dtype=dtype, crs=src.crs,
                       transform=_scaled(src.transform, w / ow, h / oh),
                       tiled=True, blockxsize=512, blockysize=512, compress="deflate", zlevel=zlevel,
                       predictor=3 if np.dtype(dtype).kind == "f" else 2, BIGTIFF="IF_SAFER")
        with rasterio.open(dst_path, "w", **profile) as dst:
            for r in range(0, h, block_px):
                for c in range(0, w, block_px):
                    out = halve(src.read(window=Window(c, r, min(block_px, w - c), min(block_px, h - r))), resampling)
                    dst.write(out, window=Window(c // 2, r // 2, out.shape[2], out.shape[1]))


def build_levels(base: str | os.PathLike, folder: str | os.PathLike, resampling: str, *,
                 tile_px: int = 512) -> list[Path]:
    """The overview levels of ``base`` (:func:`overview_factors`), each halved from the one before,
    as GeoTIFFs ``<folder>/<base name>.ovr<factor>.tif``; returns their paths in factor order."""
    base = Path(base)
    with rasterio.open(base) as src:
        factors = overview_factors(src.width, src.height, tile_px)
    levels, previous = [], base
    for f in factors:
        path = Path(folder) / f"{base.stem}.ovr{f}.tif"
        write_halved(previous, path, resampling)
        levels.append(path)
        previous = path
    return levels


def overview_vrt(base: str | os.PathLike, levels: list[Path], vrt_path: str | os.PathLike) -> Path:
    """A VRT of ``base`` (same size, georeferencing, band descriptions, units, nodata and dataset
    tags) whose bands name ``levels`` as their overviews, for GDAL's COG driver to copy."""
    with rasterio.open(base) as src:
        gt = ", ".join(repr(float(v)) for v in src.transform.to_gdal())
        srs = f"<SRS>{escape(src.crs.to_wkt())}</SRS>" if src.crs is not None else ""
        tags = "".join(f'<MDI key="{escape(str(k))}">{escape(str(v))}</MDI>' for k, v in src.tags().items())
        bands = []
        for b in range(1, src.count + 1):
            gdal_type = _GDAL_TYPES[src.dtypes[b - 1]]
            parts = [f'<VRTRasterBand dataType="{gdal_type}" band="{b}">']
            if src.descriptions[b - 1]:
                parts.append(f"<Description>{escape(src.descriptions[b - 1])}</Description>")
            if src.units[b - 1]:
                parts.append(f"<UnitType>{escape(src.units[b - 1])}</UnitType>")
            if src.nodata is not None:
                parts.append(f"<NoDataValue>{src.nodata!r}</NoDataValue>")
            parts.append(_source("SimpleSource", base, b))
            parts.extend(_source("Overview", p, b) for p in levels)
            parts.append("</VRTRasterBand>")
            bands.append("".join(parts))
        xml = (f'<VRTDataset rasterXSize="{src.width}" rasterYSize="{src.height}">{srs}'
               f"<GeoTransform>{gt}</GeoTransform>"
               + (f"<Metadata>{tags}</Metadata>" if tags else "") + "".join(bands) + "</VRTDataset>")
    Path(vrt_path).write_text(xml)
    return Path(vrt_path)


def _scaled(t: Affine, sx: float, sy: float) -> Affine:
    """``t`` with its pixel (column, row) steps times ``sx``, ``sy``: an overview level's transform."""
    return Affine(t.a * sx, t.b * sy, t.c, t.d * sx, t.e * sy, t.f)


def _source(tag: str, path: Path, band: int) -> str:
    return (f'<{tag}><SourceFilename relativeToVRT="0">{escape(str(Path(path).resolve()))}</SourceFilename>'
            f"<SourceBand>{band}</SourceBand></{tag}>")
