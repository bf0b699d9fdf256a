"""Fibre backhaul: connect the sites to the data centres with the least trench, optionally as rings.

- **Tree** (least trench): a Steiner tree over a street graph with the sites and data centres as
  terminals (networkx's approximation, Mehlhorn 1988: at most 2 (1 - 1/l) times the optimum for l
  leaves). Trench already dug is shared by every cable in it.
- **Ring / dual-homed** (resilience): the tree augmented with the cheapest extra street edges that
  make it 2-edge-connected (no single cut isolates a site; networkx ``k_edge_augmentation``), so
  every site keeps a path to a data centre after any one fibre cut.

Without a street graph, :func:`straight_line_graph` builds the complete graph of the terminals with
straight-line lengths times a documented detour factor (1.3 by default: a common planning
allowance for the ratio of route to crow-fly length in cities; set it for your area).
"""

from __future__ import annotations

from dataclasses import dataclass
import itertools
import math

import numpy as np

from cellscape.errors import CellscapeError

DETOUR_FACTOR = 1.3
"""Route length / straight-line length assumed without a street graph (planning allowance)."""


class FiberError(CellscapeError, ValueError):
    """A backhaul problem that cannot be solved as posed (e.g. a terminal not on the graph)."""


@dataclass(frozen=True)
class FiberPlan:
    """``edges``: the trench edges (u, v, length_m); ``length_m``: total trench; ``ring_edges``:
    the edges added for 2-edge-connectivity (empty for a tree); ``two_edge_connected``."""

    edges: list[tuple]
    length_m: float
    ring_edges: list[tuple]
    two_edge_connected: bool


def straight_line_graph(points_xy_m: dict, *, detour_factor: float = DETOUR_FACTOR):
    """The complete graph of named points with edge ``length_m`` = straight-line distance x ``detour_factor``.

    >>> g = straight_line_graph({"a": (0.0, 0.0), "b": (300.0, 400.0)})
    >>> g["a"]["b"]["length_m"]
    650.0
    """
    import networkx as nx

    if not detour_factor >= 1.0:
        raise FiberError(f"detour_factor must be >= 1, got {detour_factor}")
    g = nx.Graph()
    for (a, pa), (b, pb) in itertools.combinations(points_xy_m.items(), 2):
        g.add_edge(a, b, length_m=float(math.hypot(pa[0] - pb[0], pa[1] - pb[1]) * detour_factor))
    g.add_nodes_from(points_xy_m)
    return g


def _ring_edges(graph, tree) -> list[tuple]:
    """Street edges that make ``tree`` 2-edge-connected: candidate links are the shortest routes
    between tree nodes over the streets the tree does not use (edge-disjoint from it); networkx's
    ``k_edge_augmentation`` picks a cheap set of them (a heuristic: routes may share streets)."""
    import networkx as nx

    spare = graph.copy()
    spare.remove_edges_from(tree.edges())
    nodes = list(tree.nodes())
    routes, avail = {}, []
    for a in nodes:
        if a not in spare:
            continue
        lengths, paths = nx.single_source_dijkstra(spare, a, weight="length_m")
        for b in nodes:
            if b != a and b in lengths and not tree.has_edge(a, b) and (b, a) not in routes:
                routes[(a, b)] = paths[b]
                avail.append((a, b, float(lengths[b])))
    try:
        added = list(nx.k_edge_augmentation(tree, 2, avail=avail, weight="weight"))
    except nx.NetworkXUnfeasible:
        raise FiberError("no ring exists: some part of the tree hangs on a street every other route must "
                         "also cross (a bridge of the street graph)") from None
    out: dict = {}
    for a, b in added:
        path = routes.get((a, b)) or routes.get((b, a))
        for u, v in zip(path[:-1], path[1:]):
            out[frozenset((u, v))] = (u, v, float(graph[u][v]["length_m"]))
    return list(out.values())


def plan_fiber(graph, terminals, *, ring: bool = False) -> FiberPlan:
    """Trench plan connecting ``terminals`` (sites and data centres) over ``graph``.

    Parameters
    ----------
    graph : networkx.Graph
        Undirected, edge attribute ``length_m`` (a street graph, or :func:`straight_line_graph`).
    terminals : iterable of nodes
        Nodes to connect; all must be on ``graph`` in one connected component.
    ring : bool, default False
        Also add the cheapest graph edges that make the plan 2-edge-connected.

    Returns
    -------
    FiberPlan

    Raises
    ------
    FiberError
        A terminal is not a node of the graph, the terminals are not connected, or no ring exists
        (a bridge of the street graph every route must cross).
    """
    import networkx as nx
    from networkx.algorithms.approximation import steiner_tree

    terminals = list(dict.fromkeys(terminals))
    missing = [t for t in terminals if t not in graph]
    if missing:
        raise FiberError(f"{len(missing)} terminal(s) are not on the graph (first: {missing[0]!r})")
    if len(terminals) < 2:
        return FiberPlan(edges=[], length_m=0.0, ring_edges=[], two_edge_connected=False)
    comp = nx.node_connected_component(graph, terminals[0])
    cut = [t for t in terminals if t not in comp]
    if cut:
        raise FiberError(f"{len(cut)} terminal(s) cannot be reached over the graph from {terminals[0]!r} "
                         f"(first: {cut[0]!r})")
    tree = steiner_tree(graph, terminals, weight="length_m")
    edges = [(u, v, float(graph[u][v]["length_m"])) for u, v in tree.edges()]
    ring_edges: list[tuple] = []
    if ring:
        ring_edges = _ring_edges(graph, tree)
    total = sum(w for _, _, w in edges) + sum(w for _, _, w in ring_edges)
    two = False
    if ring:
        g2 = nx.Graph()
        g2.add_weighted_edges_from(edges + ring_edges)
        two = nx.is_k_edge_connected(g2.subgraph(nx.node_connected_component(g2, terminals[0])), 2)
    return FiberPlan(edges=edges, length_m=float(total), ring_edges=ring_edges, two_edge_connected=two)
