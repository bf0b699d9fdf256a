"""A users-per-pixel GeoTIFF onto a planning grid: counts preserved, nodata and bad files."""

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine

from cellscape.errors import DataFileError
from cellscape.geo.grid import RasterGrid
from cellscape.io.demand import read_demand_raster


def write(path, values, *, crs="EPSG:32635", res=100.0, nodata=None):
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                       dtype="float32", crs=crs, transform=Affine(res, 0, 385_000.0, 0, -res, 6_672_000.0),
                       nodata=nodata) as dst:
        dst.write(values.astype(np.float32), 1)
    return path


def test_finer_grid_splits_each_cell_evenly_and_keeps_the_total(tmp_path):
    users = np.array([[100.0, 0.0], [40.0, 8.0]])
    grid = RasterGrid("EPSG:32635", x_min_m=385_000.0, y_max_m=6_672_000.0, resolution_m=25.0, n_rows=8, n_cols=8)
    u = read_demand_raster(write(tmp_path / "u.tif", users), grid)
    assert u.sum() == pytest.approx(users.sum())
    np.testing.assert_allclose(u[:4, :4], 100.0 / 16)
    np.testing.assert_allclose(u[4:, 4:], 8.0 / 16)


def test_coarser_grid_sums_and_nodata_counts_zero(tmp_path):
    users = np.full((4, 4), 5.0)
    users[0, 0] = -9999.0
    grid = RasterGrid("EPSG:32635", x_min_m=385_000.0, y_max_m=6_672_000.0, resolution_m=200.0, n_rows=2, n_cols=2)
    u = read_demand_raster(write(tmp_path / "u.tif", users, nodata=-9999.0), grid)
    assert u.sum() == pytest.approx(15 * 5.0)
    # the nodata cell averages as 0 in its 2x2 block
    assert u[0, 0] == pytest.approx(15.0) and u[1, 1] == pytest.approx(20.0)


def test_bad_demand_rasters_say_why(tmp_path):
    grid = RasterGrid("EPSG:32635", x_min_m=385_000.0, y_max_m=6_672_000.0, resolution_m=50.0, n_rows=2, n_cols=2)
    with pytest.raises(DataFileError, match="cannot read demand raster"):
        read_demand_raster(tmp_path / "missing.tif", grid)
    with pytest.raises(DataFileError, match="projected CRS"):
        read_demand_raster(write(tmp_path / "g.tif", np.ones((2, 2)), crs="EPSG:4326", res=0.01), grid)
