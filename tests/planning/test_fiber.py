"""Fibre trench plans: Steiner tree within its approximation bound of brute force, rings 2-edge-connected."""

import itertools

import networkx as nx
import numpy as np
import pytest

from cellscape.planning.fiber import FiberError, plan_fiber, straight_line_graph


def grid_streets(n=5, block_m=100.0, seed=0):
    rng = np.random.default_rng(seed)
    g = nx.grid_2d_graph(n, n)
    for u, v in g.edges():
        g[u][v]["length_m"] = block_m * float(rng.uniform(0.8, 1.2))
    return g


def optimal_steiner_length(g, terminals):
    """Brute force: the MST of the metric closure over terminals + every subset of the other nodes."""
    others = [v for v in g if v not in terminals]
    closure = dict(nx.all_pairs_dijkstra_path_length(g, weight="length_m"))
    best = np.inf
    for k in range(len(others) + 1):
        for extra in itertools.combinations(others, k):
            nodes = list(terminals) + list(extra)
            h = nx.Graph()
            h.add_weighted_edges_from((a, b, closure[a][b]) for a, b in itertools.combinations(nodes, 2))
            best = min(best, nx.minimum_spanning_tree(h).size(weight="weight"))
    return best


@pytest.mark.parametrize("seed", range(3))
def test_tree_connects_terminals_within_the_approximation_bound(seed):
    g = grid_streets(n=4, seed=seed)
    rng = np.random.default_rng(seed)
    nodes = list(g)
    terminals = [nodes[i] for i in rng.choice(len(nodes), 4, replace=False)]
    plan = plan_fiber(g, terminals)
    t = nx.Graph()
    t.add_weighted_edges_from(plan.edges)
    assert all(x in t for x in terminals) and nx.is_tree(t)
    opt = optimal_steiner_length(g, terminals)
    assert opt - 1e-6 <= plan.length_m <= 2 * (1 - 1 / len(terminals)) * opt + 1e-6
    assert plan.length_m == pytest.approx(sum(w for *_, w in plan.edges))


def test_ring_makes_every_site_survive_one_cut():
    g = grid_streets(n=5)
    terminals = [(0, 0), (4, 4), (0, 4), (4, 0)]
    tree = plan_fiber(g, terminals)
    ring = plan_fiber(g, terminals, ring=True)
    assert ring.two_edge_connected and ring.ring_edges and ring.length_m > tree.length_m
    h = nx.Graph()
    h.add_weighted_edges_from(ring.edges + ring.ring_edges)
    for u, v in list(h.edges()):                      # cut any one fibre: all terminals still connected
        h2 = h.copy()
        h2.remove_edge(u, v)
        assert all(nx.has_path(h2, terminals[0], t) for t in terminals[1:])


def test_straight_line_graph_and_errors():
    pts = {"dc": (0.0, 0.0), "s1": (1000.0, 0.0), "s2": (0.0, 1000.0)}
    g = straight_line_graph(pts, detour_factor=1.3)
    plan = plan_fiber(g, pts)
    assert plan.length_m == pytest.approx(2 * 1300.0)
    with pytest.raises(FiberError, match="not on the graph"):
        plan_fiber(g, ["dc", "nowhere"])
    g.add_node("island")
    with pytest.raises(FiberError, match="cannot be reached"):
        plan_fiber(g, ["dc", "island"])
    with pytest.raises(FiberError, match="detour_factor must be >= 1"):
        straight_line_graph(pts, detour_factor=0.9)
    path = nx.path_graph(3)
    nx.set_edge_attributes(path, 1.0, "length_m")
    with pytest.raises(FiberError, match="no ring exists: some part of the tree hangs on a street"):
        plan_fiber(path, [0, 2], ring=True)
