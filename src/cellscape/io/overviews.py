"""Overviews of a large GeoTIFF built block by block in numpy, for the COG copy of a streamed run.

GDAL's COG driver builds the overviews of ``OVERVIEWS=AUTO`` itself, and on this project's 2-core
test machine that was most of the copy: 4000 x 4000 x 3 float32 took 8.0 s with the overviews
(GDAL_NUM_THREADS on every core) and 1.4 s without. Here the levels are made by
cellscape.geo.pyramid (each halving the one before: 2 x 2 means for the float maps, a NaN
spreading to its cell as in GDAL's ``AVERAGE``; the pixel GDAL's ``NEAREST`` keeps for the sector
index), block by block (:func:`build_levels`; blocks a Dask worker already made are skipped), so
memory stays bounded whatever the map's size, and a VRT (:func:`overview_vrt`) names the levels as
the base file's overviews; the COG driver then copies them as they are (``OVERVIEWS=AUTO`` uses a
source's overviews). Same full-resolution bytes. Where a level's sides are even, its values are
within float32 rounding of GDAL's ``AVERAGE`` (sums formed in another order) and equal to its
``NEAREST`` (tests/io/test_overviews.py). Where a side is odd, each overview pixel here is still
the mean of a 2 x 2 cell (its last one cut by the edge), while GDAL stretches the cells to keep the
extent (ceil(n / 2) cells over n pixels): the two drift apart by up to half a base pixel at the
far edge. Both are display pyramids; the full-resolution maps are what the numbers come from.

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

from cellscape.geo.pyramid import (  # noqa: F401 (RESAMPLINGS, halve: their home is geo.pyramid; re-exported)
    RESAMPLINGS, BlockPyramid, PyramidSpec, block_levels, halve, overview_factors)

_GDAL_TYPES = {"float32": "Float32", "float64": "Float64", "int32": "Int32", "int16": "Int16", "uint8": "Byte",
               "uint16": "UInt16", "uint32": "UInt32"}
"""numpy dtype name -> the VRT's dataType."""


def _level_profile(src, factor: int, zlevel: int | None) -> dict:
    """The GeoTIFF profile of ``src``'s level ``factor`` (ceil(side / factor) pixels a side), tiled
    512 x 512, deflate ``zlevel`` (None: uncompressed), unwritten blocks left sparse."""
    h, w, dtype = src.height, src.width, src.dtypes[0]
    oh, ow = -(-h // factor), -(-w // factor)
    packing = (dict(compress="none") if zlevel is None else
               dict(compress="deflate", zlevel=zlevel, predictor=3 if np.dtype(dtype).kind == "f" else 2))
    return dict(driver="GTiff", width=ow, height=oh, count=src.count, dtype=dtype, crs=src.crs,
                transform=_scaled(src.transform, w / ow, h / oh),
                tiled=True, blockxsize=512, blockysize=512, BIGTIFF="IF_SAFER", sparse_ok=True, **packing)


def write_halved(src_path: str | os.PathLike, dst_path: str | os.PathLike, resampling: str, *,
                 block_px: int = 1024, zlevel: int | None = 1) -> None:
    """Write the overview step of the GeoTIFF ``src_path`` (every band, :func:`halve`) to ``dst_path``,
    tiled 512 x 512, deflate ``zlevel`` (None: uncompressed), reading ``block_px`` x ``block_px``
    (even) at a time."""
    if block_px < 2 or block_px % 2:
        raise ValueError(f"block_px must be even and >= 2, got {block_px}")
    with rasterio.open(src_path) as src:
        h, w = src.height, src.width
        with rasterio.open(dst_path, "w", **_level_profile(src, 2, zlevel)) as dst:
            for r in range(0, h, block_px):
                for c in range(0, w, block_px):
                    out = halve(src.read(window=Window(c, r, min(block_px, w - c), min(block_px, h - r))), resampling)
                    dst.write(out, window=Window(c // 2, r // 2, out.shape[2], out.shape[1]))


def level_path(folder: str | os.PathLike, base: str | os.PathLike, factor: int) -> Path:
    """Where the level ``factor`` of ``base`` is kept: ``<folder>/<base name>.ovr<factor>.tif``."""
    return Path(folder) / f"{Path(base).stem}.ovr{factor}.tif"


def create_levels(base: str | os.PathLike, folder: str | os.PathLike, factors, *,
                  zlevel: int | None = 1) -> list[Path]:
    """Empty (sparse) GeoTIFFs for the levels ``factors`` of ``base``, deflate ``zlevel`` (None:
    uncompressed), to be written piece by piece (:func:`write_pieces`); their paths in factor order."""
    paths = []
    with rasterio.open(base) as src:
        for f in factors:
            path = level_path(folder, base, f)
            with rasterio.open(path, "w", **_level_profile(src, f, zlevel)):
                pass
            paths.append(path)
    return paths


def write_pieces(levels: list, pyramid: BlockPyramid, name: str) -> None:
    """Write layer ``name`` of ``pyramid`` (one block's levels) into the open level datasets
    ``levels`` (one per factor, in order)."""
    r0, _, c0, _ = pyramid.block
    for dst, f, piece in zip(levels, pyramid.factors, pyramid.levels[name], strict=True):
        dst.write(piece, window=Window(c0 // f, r0 // f, piece.shape[2], piece.shape[1]))


def build_levels(base: str | os.PathLike, folder: str | os.PathLike, resampling: str, *,
                 tile_px: int = 512, block_px: int = 1024, blocks_done=frozenset(),
                 zlevel: int | None = 1) -> list[Path]:
    """The overview levels of ``base`` (:func:`overview_factors`) as GeoTIFFs :func:`level_path`;
    returns their paths in factor order.

    The levels up to ``block_px`` are made block by block (cellscape.geo.pyramid.block_levels),
    into the files :func:`create_levels` made (created here if missing), skipping ``blocks_done``
    ((row_start, row_stop, col_start, col_stop) of blocks whose pieces are already written: a Dask
    worker made them); each further level halves the one before (:func:`write_halved`). New level
    files are deflated at ``zlevel`` (None: uncompressed)."""
    base = Path(base)
    with rasterio.open(base) as src:
        h, w = src.height, src.width
        factors = overview_factors(w, h, tile_px)
    near = [f for f in factors if f <= block_px]
    paths = [level_path(folder, base, f) for f in near]
    if near:
        if not all(p.is_file() for p in paths):
            create_levels(base, folder, near, zlevel=zlevel)
        spec = PyramidSpec(h, w, tuple(near), block_px, ((base.stem, resampling),))
        with rasterio.open(base) as src:
            dsts = [rasterio.open(p, "r+") for p in paths]
            try:
                for r0, r1, c0, c1 in spec.blocks():
                    if (r0, r1, c0, c1) in blocks_done:
                        continue
                    block = src.read(window=Window(c0, r0, c1 - c0, r1 - r0))
                    write_pieces(dsts, block_levels(spec, (r0, r1, c0, c1), {base.stem: block}), base.stem)
            finally:
                for d in dsts:
                    d.close()
    previous = paths[-1] if paths else base
    for f in factors[len(near):]:
        path = level_path(folder, base, f)
        write_halved(previous, path, resampling, zlevel=zlevel)
        paths.append(path)
        previous = path
    return paths


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
