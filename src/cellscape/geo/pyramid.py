"""Overview pyramids of a raster, built from independent square blocks.

A streamed national map is written tile by tile and copied to a Cloud-Optimized GeoTIFF at the
end (cellscape.io.stream_writer), with the overviews GDAL's COG driver would make with
``OVERVIEWS=AUTO``: 2, 4, ... until a level fits in one tile (:func:`overview_factors`). Each level
halves the one before (:func:`halve`: 2 x 2 means for the float maps, a NaN spreading to its cell as
in GDAL's ``AVERAGE``; the pixel GDAL's ``NEAREST`` keeps for the sector index).

Because a halving only looks at its own 2 x 2 cell, the levels of a square block of ``block_px``
pixels (a power of two) whose corner sits on a multiple of ``block_px`` are pieces of the whole
map's levels, for every factor up to ``block_px``: the block's cells never straddle another block,
and a block cut by the map's edge is cut where the map's last cell is (:func:`block_levels`). So a
Dask worker that has computed a whole block makes its pyramid there, and the driver only writes the
pieces (cellscape.pipeline.stream); blocks no worker made are made at the end from the written map,
by the same function, with the same bits. The sum of a cell is formed in one fixed order in
float64, so a level's values do not depend on how the map was cut to compute it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RESAMPLINGS = ("average", "nearest")


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
    them is (as GDAL's ``AVERAGE``), summed in float64 in one fixed order, (top-left + top-right) +
    (bottom-left + bottom-right), and returned in ``a``'s dtype; ``nearest``: the cell's first pixel
    (2 i, 2 j), the one GDAL's ``NEAREST`` keeps.

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
    p = np.zeros((k, 2 * oh, 2 * ow), dtype=np.float64)
    p[:, :h, :w] = a
    total = (p[:, 0::2, 0::2] + p[:, 0::2, 1::2]) + (p[:, 1::2, 0::2] + p[:, 1::2, 1::2])
    count = (np.minimum(2, h - 2 * np.arange(oh))[:, None] * np.minimum(2, w - 2 * np.arange(ow))[None, :])
    return (total / count).astype(a.dtype)


def levels_of(a: np.ndarray, resampling: str, factors) -> list[np.ndarray]:
    """The levels of ``a`` (bands, rows, cols) for ``factors`` (2, 4, 8, ...: each twice the one
    before), each halved from the one before (:func:`halve`)."""
    out, level, f = [], a, 1
    for factor in factors:
        if factor != 2 * f:
            raise ValueError(f"factors must be 2, 4, 8, ... in order, got {list(factors)}")
        level = halve(level, resampling)
        out.append(level)
        f = factor
    return out


@dataclass(frozen=True)
class PyramidSpec:
    """The overview levels of an ``n_rows`` x ``n_cols`` map that are made block by block: those of
    ``factors`` up to ``block_px`` (a power of two), for each layer of ``layers`` ((name,
    resampling) pairs; the names are the writer's, cellscape.pipeline.stream.cog_layers)."""

    n_rows: int
    n_cols: int
    factors: tuple[int, ...]
    block_px: int
    layers: tuple[tuple[str, str], ...]

    def __post_init__(self):
        b = int(self.block_px)
        if b < 2 or b & (b - 1):
            raise ValueError(f"block_px must be a power of two >= 2, got {self.block_px}")
        if any(f > b for f in self.factors):
            raise ValueError(f"factors {self.factors} go beyond block_px={b}")

    def blocks(self) -> list[tuple[int, int, int, int]]:
        """Every block (row_start, row_stop, col_start, col_stop), row by row from the north-west."""
        b = self.block_px
        return [(r, min(r + b, self.n_rows), c, min(c + b, self.n_cols))
                for r in range(0, self.n_rows, b) for c in range(0, self.n_cols, b)]

    def blocks_within(self, row_start: int, row_stop: int, col_start: int, col_stop: int) -> list[tuple[int, int, int, int]]:
        """The blocks lying wholly within the given rows and columns."""
        b = self.block_px
        r0, c0 = -(-row_start // b) * b, -(-col_start // b) * b
        return [(r, min(r + b, self.n_rows), c, min(c + b, self.n_cols))
                for r in range(r0, row_stop, b) for c in range(c0, col_stop, b)
                if min(r + b, self.n_rows) <= row_stop and min(c + b, self.n_cols) <= col_stop]


@dataclass(frozen=True)
class BlockPyramid:
    """The pieces of every made level of one block: ``levels[name][i]`` is layer ``name`` at
    ``factors[i]`` (bands, rows, cols), to be written at (row_start // f, col_start // f)."""

    block: tuple[int, int, int, int]
    factors: tuple[int, ...]
    levels: dict[str, list[np.ndarray]]


def block_levels(spec: PyramidSpec, block: tuple[int, int, int, int], layers: dict[str, np.ndarray]) -> BlockPyramid:
    """The :class:`BlockPyramid` of ``block`` (one of ``spec.blocks()``) from its layers (name ->
    (bands, rows, cols) of the block)."""
    r0, r1, c0, c1 = block
    b = spec.block_px
    if r0 % b or c0 % b or r1 != min(r0 + b, spec.n_rows) or c1 != min(c0 + b, spec.n_cols):
        raise ValueError(f"{block} is not one of the {b}-pixel blocks of a {spec.n_rows} x {spec.n_cols} map")
    levels = {}
    for name, resampling in spec.layers:
        a = layers[name]
        if a.shape[1:] != (r1 - r0, c1 - c0):
            raise ValueError(f"layer {name!r} is {a.shape[1:]}, the block {(r1 - r0, c1 - c0)}")
        levels[name] = levels_of(a, resampling, spec.factors)
    return BlockPyramid(block=tuple(block), factors=tuple(spec.factors), levels=levels)
