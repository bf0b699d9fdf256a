"""GeoTIFF round trip: CRS, transform, band names, values, dtype, nodata, tiling, compression."""

import numpy as np
from numpy.testing import assert_array_equal
import pytest
import rasterio

from cellscape.errors import DataFileError, GeometryError
from cellscape.geo.grid import RasterGrid
from cellscape.io.geotiff import read_geotiff, write_geotiff

GRID = RasterGrid(crs="EPSG:32635", x_min_m=385_420.0, y_max_m=6_673_130.0, resolution_m=5.0, n_rows=30, n_cols=20)


def test_round_trip_keeps_crs_transform_names_and_values(tmp_path):
    rng = np.random.default_rng(3)
    bands = {"rsrp_dbm": rng.uniform(-130, -60, GRID.shape).astype(np.float32),
             "sinr_db": rng.uniform(-10, 30, GRID.shape).astype(np.float32)}
    bands["rsrp_dbm"][0, 0] = np.nan
    path = write_geotiff(tmp_path / "coverage.tif", bands, GRID)
    read, grid = read_geotiff(path)
    assert grid == GRID
    assert list(read) == ["rsrp_dbm", "sinr_db"]
    for name in bands:
        assert read[name].dtype == np.float32
        assert_array_equal(read[name], bands[name])       # lossless (deflate), NaN in place
    assert [p.name for p in tmp_path.iterdir()] == ["coverage.tif"]   # no .partial, no sidecar


def test_file_is_tiled_deflated_with_units_and_nodata(tmp_path):
    best = np.arange(GRID.n_pixels, dtype=np.int32).reshape(GRID.shape) % 7 - 1
    path = write_geotiff(tmp_path / "best_sector.tif", {"best_sector": best}, GRID, nodata=-1)
    with rasterio.open(path) as src:
        assert src.profile["tiled"] is True
        assert src.compression.name.lower() == "deflate"
        assert src.nodata == -1
        assert src.crs.to_epsg() == 32635
        assert tuple(src.transform)[:6] == GRID.transform
        assert src.dtypes == ("int32",)
    path = write_geotiff(tmp_path / "c.tif", {"rsrp_dbm": np.zeros(GRID.shape, np.float32),
                                              "sinr_db": np.zeros(GRID.shape, np.float32)}, GRID)
    with rasterio.open(path) as src:
        assert src.units == ("dBm", "dB")
    read, _ = read_geotiff(tmp_path / "best_sector.tif")
    assert_array_equal(read["best_sector"], best)


def test_bool_band_is_written_as_uint8(tmp_path):
    indoor = np.zeros(GRID.shape, dtype=bool)
    indoor[3:5, 2:9] = True
    read, _ = read_geotiff(write_geotiff(tmp_path / "indoor.tif", {"indoor": indoor}, GRID))
    assert read["indoor"].dtype == np.uint8
    assert int(read["indoor"].sum()) == 14


def test_shape_mismatch_names_band_and_grid(tmp_path):
    with pytest.raises(GeometryError, match=r"band 'sinr_db' has shape \(20, 30\), but the grid is \(30, 20\)"):
        write_geotiff(tmp_path / "x.tif", {"sinr_db": np.zeros((20, 30), np.float32)}, GRID)
    assert list(tmp_path.iterdir()) == []


def test_mixed_dtypes_are_refused(tmp_path):
    with pytest.raises(TypeError, match="one dtype"):
        write_geotiff(tmp_path / "x.tif", {"a_db": np.zeros(GRID.shape, np.float32),
                                           "b": np.zeros(GRID.shape, np.int32)}, GRID)


def test_no_band_is_refused(tmp_path):
    with pytest.raises(GeometryError, match="no bands"):
        write_geotiff(tmp_path / "x.tif", {}, GRID)


def test_missing_file_is_data_file_error(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        read_geotiff(tmp_path / "absent.tif")


def test_not_a_raster_is_data_file_error(tmp_path):
    bad = tmp_path / "bad.tif"
    bad.write_text("not a tiff")
    with pytest.raises(DataFileError, match="cannot read GeoTIFF"):
        read_geotiff(bad)


def test_large_rasters_get_internal_overviews_and_keep_full_resolution(tmp_path):
    import rasterio

    from cellscape.geo.grid import RasterGrid
    from cellscape.io.geotiff import read_geotiff, write_geotiff

    grid = RasterGrid("EPSG:32635", x_min_m=0.0, y_max_m=2000.0, resolution_m=1.0, n_rows=1100, n_cols=600)
    values = np.random.default_rng(0).normal(-90, 10, grid.shape).astype(np.float32)
    sector = np.random.default_rng(1).integers(-1, 9, grid.shape).astype(np.int32)
    write_geotiff(tmp_path / "c.tif", {"rsrp_dbm": values}, grid)
    write_geotiff(tmp_path / "b.tif", {"best_sector": sector}, grid, nodata=-1)
    with rasterio.open(tmp_path / "c.tif") as src:
        assert src.overviews(1) == [2, 4]
        half = src.read(1, out_shape=(550, 300))           # served from the first overview
        np.testing.assert_allclose(half, values.reshape(550, 2, 300, 2).mean(axis=(1, 3)), atol=1e-3)
    with rasterio.open(tmp_path / "b.tif") as src:
        assert src.overviews(1) == [2, 4]
        assert set(np.unique(src.read(1, out_shape=(275, 150)))) <= set(range(-1, 9))   # categories kept
    bands, _ = read_geotiff(tmp_path / "c.tif")
    np.testing.assert_array_equal(bands["rsrp_dbm"], values)
    small = RasterGrid("EPSG:32635", x_min_m=0.0, y_max_m=100.0, resolution_m=1.0, n_rows=100, n_cols=100)
    write_geotiff(tmp_path / "s.tif", {"rsrp_dbm": values[:100, :100]}, small)
    with rasterio.open(tmp_path / "s.tif") as src:
        assert src.overviews(1) == []
