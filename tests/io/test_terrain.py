"""Reading a DEM: values, georeference, no-data, and clear errors for bad files."""

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine

from cellscape.errors import DataFileError, GeometryError
from cellscape.io.terrain import read_terrain


def write_dem(path, values, *, crs="EPSG:32635", nodata=None):
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                       dtype=values.dtype.name, crs=crs, transform=Affine(30.0, 0.0, 385_000.0, 0.0, -30.0, 6_672_000.0),
                       nodata=nodata) as dst:
        dst.write(values, 1)
    return path


def test_reads_heights_transform_crs_and_nodata(tmp_path):
    values = np.arange(12, dtype=np.float32).reshape(3, 4) + 100.0
    values[1, 2] = -9999.0
    t = read_terrain(write_dem(tmp_path / "dem.tif", values, nodata=-9999.0))
    assert t.elevation_m.shape == (3, 4) and np.isnan(t.elevation_m[1, 2])
    assert t.transform == (30.0, 0.0, 385_000.0, 0.0, -30.0, 6_672_000.0)
    assert t.crs == "EPSG:32635"
    # the centre of pixel (0, 0) reads its value; halfway to (0, 1) the mean
    assert t.sample_m(385_015.0, 6_671_985.0, crs="EPSG:32635") == pytest.approx(100.0)
    assert t.sample_m(385_030.0, 6_671_985.0, crs="EPSG:32635") == pytest.approx(100.5)
    assert np.isfinite(t.filled().elevation_m).all()


def test_missing_file_no_crs_and_wrong_unit(tmp_path):
    with pytest.raises(DataFileError, match="terrain file .*nope.tif does not exist"):
        read_terrain(tmp_path / "nope.tif")
    with pytest.raises(GeometryError, match="has no CRS"):
        read_terrain(write_dem(tmp_path / "nocrs.tif", np.zeros((3, 3), np.float32), crs=None))
    with pytest.raises(GeometryError, match=r"heights 0\.\.12000, outside \[-500, 9000\] m: is it in metres\?"):
        read_terrain(write_dem(tmp_path / "cm.tif", np.array([[0, 12000], [5, 6]], np.float32)))
    (tmp_path / "text.tif").write_text("not a raster")
    with pytest.raises(DataFileError, match="cannot read terrain"):
        read_terrain(tmp_path / "text.tif")
