"""Overview pyramids from independent blocks (cellscape.geo.pyramid): the pieces of aligned blocks
are the whole map's levels bit for bit (odd edges and NaN included), whatever the block size, and
misuse is a clear error."""

import numpy as np
import pytest

from cellscape.geo.pyramid import PyramidSpec, block_levels, halve, levels_of, overview_factors


def _map(rows: int, cols: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    cov = rng.normal(-90.0, 15.0, (3, rows, cols)).astype(np.float32)
    cov[1, rng.integers(0, rows, 20), rng.integers(0, cols, 20)] = np.nan
    best = rng.integers(-1, 5000, (1, rows, cols)).astype(np.int32)
    return {"coverage": cov, "best_sector": best}


LAYERS = (("coverage", "average"), ("best_sector", "nearest"))


@pytest.mark.parametrize("rows, cols, block_px", [(300, 203, 64), (64, 64, 64), (129, 1000, 128), (37, 51, 8)])
def test_block_pieces_are_the_whole_maps_levels(rows, cols, block_px):
    layers = _map(rows, cols)
    factors = tuple(f for f in overview_factors(cols, rows, tile_px=4) if f <= block_px)
    spec = PyramidSpec(rows, cols, factors, block_px, LAYERS)
    whole = {name: levels_of(layers[name], resampling, factors) for name, resampling in LAYERS}
    got = {name: [np.full_like(lv, -7) for lv in whole[name]] for name in whole}
    blocks = spec.blocks()
    assert sum((r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in blocks) == rows * cols
    for r0, r1, c0, c1 in blocks:
        pyr = block_levels(spec, (r0, r1, c0, c1), {n: a[:, r0:r1, c0:c1] for n, a in layers.items()})
        for name in got:
            for f, piece, level in zip(factors, pyr.levels[name], got[name]):
                level[:, r0 // f:r0 // f + piece.shape[1], c0 // f:c0 // f + piece.shape[2]] = piece
    for name in whole:
        for a, b in zip(got[name], whole[name]):
            np.testing.assert_array_equal(a, b)         # bit for bit, NaN where NaN


def test_the_sum_order_is_fixed():
    """A cell's mean is (top-left + top-right) + (bottom-left + bottom-right) in float64, whatever
    the array it sits in."""
    a = np.array([[[1e8, 3.0], [-1e8, 1.0 / 3.0]]], dtype=np.float32)
    expect = np.float32(((np.float64(a[0, 0, 0]) + a[0, 0, 1]) + (np.float64(a[0, 1, 0]) + a[0, 1, 1])) / 4.0)
    assert halve(a, "average")[0, 0, 0] == expect
    big = np.tile(a, (1, 8, 8))
    assert np.all(halve(big, "average") == expect)


def test_blocks_within_a_window():
    spec = PyramidSpec(100, 70, (2, 4), 32, LAYERS)
    assert spec.blocks_within(0, 64, 0, 70) == [(0, 32, 0, 32), (0, 32, 32, 64), (0, 32, 64, 70),
                                                 (32, 64, 0, 32), (32, 64, 32, 64), (32, 64, 64, 70)]
    assert spec.blocks_within(10, 64, 0, 64) == [(32, 64, 0, 32), (32, 64, 32, 64)]
    assert spec.blocks_within(96, 100, 64, 70) == [(96, 100, 64, 70)]
    assert spec.blocks_within(0, 31, 0, 70) == []


def test_misuse_is_a_clear_error():
    with pytest.raises(ValueError, match="power of two"):
        PyramidSpec(10, 10, (2,), 24, LAYERS)
    with pytest.raises(ValueError, match="beyond block_px"):
        PyramidSpec(100, 100, (2, 4, 8), 4, LAYERS)
    spec = PyramidSpec(100, 70, (2, 4), 32, LAYERS)
    layers = _map(32, 32)
    with pytest.raises(ValueError, match="not one of the 32-pixel blocks"):
        block_levels(spec, (16, 48, 0, 32), layers)
    with pytest.raises(ValueError, match="layer 'coverage'"):
        block_levels(spec, (96, 100, 0, 32), layers)
    with pytest.raises(ValueError, match="2, 4, 8"):
        levels_of(layers["coverage"], "average", (2, 8))
