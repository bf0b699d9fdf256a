"""Overviews built block by block for the COG copy (cellscape.io.overviews): the levels GDAL's
COG driver makes with OVERVIEWS=AUTO, values within float32 rounding of its AVERAGE and equal to its
NEAREST, and a COG copied through the VRT that carries the base file's pixels, georeferencing and
metadata."""

from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.shutil
from rasterio.transform import Affine

from cellscape.io.overviews import build_levels, halve, overview_factors, overview_vrt, write_halved


def _tif(path: Path, data: np.ndarray, *, nodata=None) -> Path:
    k, h, w = data.shape
    profile = dict(driver="GTiff", width=w, height=h, count=k, dtype=str(data.dtype), crs="EPSG:32635",
                   transform=Affine(30.0, 0.0, 385_000.0, 0.0, -30.0, 6_671_000.0), tiled=True, blockxsize=256,
                   blockysize=256, compress="deflate", nodata=nodata)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        for b in range(1, k + 1):
            dst.set_band_description(b, f"layer{b}")
            dst.set_band_unit(b, "dB")
        dst.update_tags(software="cellscape")
    return path


def _gdal_cog(src: Path, dst: Path, resampling: str) -> Path:
    rasterio.shutil.copy(src, dst, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE="256", RESAMPLING=resampling,
                         OVERVIEWS="AUTO")
    return dst


def _levels_of(path: Path) -> list[np.ndarray]:
    with rasterio.open(path) as src:
        out = []
        for f in src.overviews(1):
            shape = (src.count, -(-src.height // f), -(-src.width // f))
            out.append(src.read(out_shape=shape))
        return out


@pytest.mark.parametrize("width, height", [(600, 80), (1100, 700), (257, 3), (256, 256), (1025, 1030)])
def test_factors_are_those_of_gdal_auto(tmp_path, width, height):
    src = _tif(tmp_path / "a.tif", np.zeros((1, height, width), np.float32))
    with rasterio.open(_gdal_cog(src, tmp_path / "c.tif", "AVERAGE")) as cog:
        assert overview_factors(width, height, tile_px=256) == cog.overviews(1)


def test_average_levels_match_gdal_within_float32_rounding(tmp_path):
    """Even sides at every level (GDAL's cells are then exactly 2 x 2), with NaN holes (a cell with
    a NaN is NaN in both)."""
    rng = np.random.default_rng(3)
    data = (rng.normal(-90.0, 12.0, (2, 1024, 768))).astype(np.float32)
    data[0, 5:9, 10:13] = np.nan
    src = _tif(tmp_path / "a.tif", data)
    ours = [rasterio.open(p).read() for p in build_levels(src, tmp_path, "average", tile_px=256)]
    gdal = _levels_of(_gdal_cog(src, tmp_path / "c.tif", "AVERAGE"))
    assert len(ours) == len(gdal) == 2
    for a, b in zip(ours, gdal):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=0.0, equal_nan=True)


def test_nearest_levels_equal_gdal(tmp_path):
    rng = np.random.default_rng(4)
    data = rng.integers(-1, 5000, (1, 1024, 1280)).astype(np.int32)
    src = _tif(tmp_path / "b.tif", data, nodata=-1)
    ours = [rasterio.open(p).read() for p in build_levels(src, tmp_path, "nearest", tile_px=256)]
    gdal = _levels_of(_gdal_cog(src, tmp_path / "c.tif", "NEAREST"))
    assert len(ours) == len(gdal) == 3
    for a, b in zip(ours, gdal):
        np.testing.assert_array_equal(a, b)


def test_odd_sides_keep_whole_two_by_two_cells(tmp_path):
    """An odd side: every overview pixel is the mean of its 2 x 2 cell of base pixels (the last cut
    by the edge), not GDAL's stretched cells."""
    data = np.random.default_rng(8).normal(size=(1, 301, 517)).astype(np.float32)
    src = _tif(tmp_path / "a.tif", data)
    (level,) = build_levels(src, tmp_path, "average", tile_px=300)
    with rasterio.open(level) as lv:
        got = lv.read()
        assert got.shape == (1, 151, 259)
    np.testing.assert_allclose(got[0, 10, 20], data[0, 20:22, 40:42].mean(), rtol=1e-6)
    np.testing.assert_allclose(got[0, 150, 258], data[0, 300, 516], rtol=1e-6)
    np.testing.assert_allclose(got[0, 150, 3], data[0, 300, 6:8].mean(), rtol=1e-6)


def test_halve_is_the_mean_of_each_cell_and_nan_spreads_as_in_gdal():
    a = np.array([[[1.0, 3.0, 8.0], [5.0, 7.0, 2.0], [np.nan, 6.0, 4.0]]], dtype=np.float32)
    np.testing.assert_array_equal(halve(a, "average"), np.array([[[4.0, 5.0], [np.nan, 4.0]]], np.float32))
    big = np.random.default_rng(0).normal(size=(1, 64, 64)).astype(np.float32)
    twice = halve(halve(big, "average"), "average")       # full cells: the mean of 4 x 4
    np.testing.assert_allclose(twice[0], big[0].reshape(16, 4, 16, 4).mean(axis=(1, 3)), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="resampling"):
        halve(a, "bilinear")


def test_blocks_do_not_change_the_level(tmp_path):
    data = np.random.default_rng(5).normal(size=(1, 301, 299)).astype(np.float32)
    src = _tif(tmp_path / "a.tif", data)
    write_halved(src, tmp_path / "x.tif", "average", block_px=8)
    write_halved(src, tmp_path / "y.tif", "average", block_px=1024)
    with rasterio.open(tmp_path / "x.tif") as x, rasterio.open(tmp_path / "y.tif") as y:
        np.testing.assert_array_equal(x.read(), y.read())
        assert x.transform.a == pytest.approx(60.0 * 299 / 298, rel=0.01) and x.crs == y.crs
    with pytest.raises(ValueError, match="even"):
        write_halved(src, tmp_path / "z.tif", "average", block_px=7)


def test_cog_through_the_vrt_keeps_pixels_georeferencing_and_metadata(tmp_path):
    data = np.random.default_rng(6).normal(-80.0, 9.0, (3, 700, 900)).astype(np.float32)
    src = _tif(tmp_path / "a.tif", data)
    vrt = overview_vrt(src, build_levels(src, tmp_path, "average", tile_px=256), tmp_path / "a.vrt")
    ours = tmp_path / "ours.tif"
    rasterio.shutil.copy(vrt, ours, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE="256", RESAMPLING="AVERAGE",
                         OVERVIEWS="AUTO")
    ref = _gdal_cog(src, tmp_path / "ref.tif", "AVERAGE")
    with rasterio.open(ours) as a, rasterio.open(ref) as b:
        np.testing.assert_array_equal(a.read(), b.read())
        assert a.overviews(1) == b.overviews(1) == [2, 4]
        assert a.crs == b.crs and a.transform == b.transform
        assert a.descriptions == b.descriptions and a.units == b.units and a.nodata == b.nodata
        assert a.tags()["software"] == "cellscape"
        assert a.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
