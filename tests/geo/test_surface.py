"""The height surface: building raster, terrain sampling across CRSs, extents."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cellscape.errors import GeometryError
from cellscape.geo.buildings import indoor_mask
from cellscape.geo.grid import RasterGrid, Window
from cellscape.geo.surface import Terrain, aligned_grid, building_height_raster_m, check_terrain_covers, link_extent_m, surface_on

UTM = "EPSG:32635"


def grid(n=20, res=5.0):
    return RasterGrid(UTM, x_min_m=385_000.0, y_max_m=6_672_000.0, resolution_m=res, n_rows=n, n_cols=n)


def test_building_raster_agrees_with_the_indoor_mask_and_takes_the_taller():
    g = grid()
    b = gpd.GeoDataFrame({"height_m": [12.0, 30.0]}, crs=UTM, geometry=[
        shapely.box(385_012.0, 6_671_930.0, 385_047.0, 6_671_970.0),
        shapely.box(385_040.0, 6_671_940.0, 385_060.0, 6_671_960.0)])
    h = building_height_raster_m(b, g)
    assert np.array_equal(h > 0, indoor_mask(b, g))
    assert h.max() == 30.0 and set(np.unique(h)) == {0.0, 12.0, 30.0}
    with pytest.raises(GeometryError, match="height_m column"):
        building_height_raster_m(b[["geometry"]], g)
    with pytest.raises(GeometryError, match="reproject them"):
        building_height_raster_m(b.to_crs("EPSG:3067"), g)


def test_terrain_sampled_through_another_crs():
    # a DEM in EPSG:3067 (TM35FIN) with a plane z = 0.01 x + 100 (x in EPSG:3067 metres)
    from pyproj import Transformer

    to3067 = Transformer.from_crs(UTM, "EPSG:3067", always_xy=True)
    x0, y1 = to3067.transform(384_900.0, 6_672_100.0)
    cols = np.arange(40)
    xs = x0 + (cols + 0.5) * 10.0
    elev = np.tile(0.01 * (xs - x0) + 100.0, (40, 1)).astype(np.float32)
    dem = Terrain(elev, (10.0, 0.0, x0, 0.0, -10.0, y1), "EPSG:3067", "plane")
    g = grid()
    check_terrain_covers(dem, g)
    s = surface_on(g, terrain=dem)
    xx, yy = np.meshgrid(g.x_centers_m(), g.y_centers_m())
    tx, _ = to3067.transform(xx, yy)
    np.testing.assert_allclose(s.ground_m, 0.01 * (tx - x0) + 100.0, atol=1e-3)   # bilinear is exact on a plane
    far = RasterGrid(UTM, x_min_m=386_000.0, y_max_m=6_672_000.0, resolution_m=5.0, n_rows=4, n_cols=4)
    with pytest.raises(GeometryError, match="does not cover the map area"):
        check_terrain_covers(dem, far)


def test_terrain_record_checks():
    with pytest.raises(GeometryError, match="at least 2 x 2"):
        Terrain(np.zeros((1, 5), np.float32), (1.0, 0.0, 0.0, 0.0, -1.0, 0.0), UTM)
    with pytest.raises(GeometryError, match="no valid elevation"):
        Terrain(np.full((3, 3), np.nan, np.float32), (1.0, 0.0, 0.0, 0.0, -1.0, 0.0), UTM)
    t = Terrain(np.array([[1.0, np.nan], [np.nan, np.nan]], np.float32), (1.0, 0.0, 0.0, 0.0, -1.0, 0.0), UTM)
    assert np.all(t.filled().elevation_m == 1.0)


def test_link_extent_holds_the_window_and_the_sites_in_range():
    g = grid(n=100, res=2.0)
    w = Window(10, 20, 0, 100)
    sites = np.array([[385_100.0, 6_672_500.0], [390_000.0, 6_671_900.0]])     # 0.3 km north, 4.8 km east
    ext = link_extent_m(g, w, sites, range_m=1000.0)
    assert ext[3] >= 6_672_500.0 and ext[2] < 386_000.0                       # the far site is out of range
    e = aligned_grid(g, ext)
    assert (e.x_min_m - g.x_min_m) % 2.0 == 0 and (g.y_max_m - e.y_max_m) % 2.0 == 0
