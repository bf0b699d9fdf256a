"""Rooftop candidates: filters, spacing, map bounds, errors."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cellscape.errors import GeometryError
from cellscape.geo.candidates import rooftop_candidates

UTM = "EPSG:32635"


def roofs(specs):
    """specs: (x, y, side_m, height_m) squares."""
    return gpd.GeoDataFrame({"height_m": [h for *_, h in specs]}, crs=UTM,
                            geometry=[shapely.box(x, y, x + s, y + s) for x, y, s, _ in specs])


def test_filters_by_roof_height_and_area_and_puts_the_antenna_on_the_roof():
    b = roofs([(0, 0, 20, 21.0), (100, 0, 20, 12.0), (200, 0, 20, 70.0), (300, 0, 10, 25.0), (400, 0, 30, 15.0)])
    c = rooftop_candidates(b, min_roof_m=15, max_roof_m=60, min_area_m2=200, mast_m=4)
    assert c["building_index"].tolist() == [4, 0]                  # 900 m^2 before 400 m^2
    assert c["antenna_height_m"].tolist() == [19.0, 25.0]
    assert all(shapely.contains(b.geometry.iloc[i], p) for i, p in zip(c["building_index"], c.geometry))
    assert c.crs.to_string() == UTM


def test_concave_roof_gets_a_point_on_the_roof():
    u = shapely.Polygon([(0, 0), (60, 0), (60, 60), (40, 60), (40, 20), (20, 20), (20, 60), (0, 60)])
    b = gpd.GeoDataFrame({"height_m": [20.0]}, geometry=[u], crs=UTM)
    c = rooftop_candidates(b)
    assert shapely.contains(u, c.geometry.iloc[0])                 # a centroid would fall in the courtyard


def test_spacing_keeps_larger_roofs_first():
    b = roofs([(0, 0, 20, 20.0), (30, 0, 25, 20.0), (200, 0, 20, 20.0)])
    c = rooftop_candidates(b, min_spacing_m=100)
    assert c["building_index"].tolist() == [1, 2]
    xy = np.column_stack([c.geometry.x, c.geometry.y])
    assert np.hypot(*(xy[0] - xy[1])) >= 100


def test_bounds_and_errors():
    b = roofs([(0, 0, 20, 20.0), (500, 0, 20, 20.0)])
    assert len(rooftop_candidates(b, bounds_m=(-10, -10, 100, 100))) == 1
    with pytest.raises(GeometryError, match="height_m column"):
        rooftop_candidates(b[["geometry"]])
    with pytest.raises(GeometryError, match="projected, metric CRS"):
        rooftop_candidates(b.to_crs("EPSG:4326"))
    with pytest.raises(GeometryError, match="min_roof_m <= max_roof_m"):
        rooftop_candidates(b, min_roof_m=30, max_roof_m=20)
    with pytest.raises(GeometryError, match="no buildings"):
        rooftop_candidates(b.iloc[:0])
