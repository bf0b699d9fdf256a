"""Site selection with capacity against brute force, with an independent LP oracle (scipy linprog).

The oracle serves each *point* separately (max sum w_p z_pc, sum_c z_pc <= 1, sum_p need_pc z_pc <=
capacity_c over the built candidates). The instances give every point its own coverage pattern, so the
class model of ``selection`` must equal it exactly; where points share a pattern with needs not
proportional to their weights, the class model is a restriction and may serve less (tested too).
Tolerance: both LPs are solved to HiGHS's default 1e-7 feasibility, hence rel=1e-6 on served demand.
"""

import itertools

import numpy as np
import scipy.sparse as sp
import pytest
from scipy.optimize import linprog

from cellscape.planning.selection import (
    InfeasibleTargetError,
    demand_classes,
    greedy,
    select_sites,
    served_demand,
)


def instance(seed, n_cand=7, n_points=30):
    """Points with distinct nonempty coverage patterns (plus two nobody covers), random needs."""
    rng = np.random.default_rng(seed)
    patterns = rng.choice(np.arange(1, 2 ** n_cand), size=n_points, replace=False)
    cover = (patterns[:, None] >> np.arange(n_cand)[None, :]) & 1 == 1
    cover = np.vstack([cover, np.zeros((2, n_cand), bool)])
    w = rng.uniform(0.5, 2.0, cover.shape[0])
    need = np.where(cover, rng.uniform(0.05, 0.4, cover.shape), 0.0)
    capacity = rng.uniform(0.4, 1.2, n_cand)
    cost = rng.uniform(1.0, 5.0, n_cand)
    return cover, w, need, capacity, cost


def oracle_served(cover, w, need, capacity, chosen):
    """Per-point served demand of a built set: an LP, solved by scipy's linprog."""
    pts, cands = np.nonzero(cover[:, chosen])
    cands = np.flatnonzero(chosen)[cands]
    if pts.size == 0:
        return 0.0
    a = np.zeros((cover.shape[0] + cover.shape[1], pts.size))
    a[pts, np.arange(pts.size)] = 1.0
    a[cover.shape[0] + cands, np.arange(pts.size)] = need[pts, cands]
    res = linprog(-w[pts], A_ub=a, b_ub=np.concatenate([np.ones(cover.shape[0]), capacity]), bounds=(0, 1),
                  method="highs")
    assert res.status == 0
    return -res.fun


def subsets(n):
    for k in range(n + 1):
        for s in itertools.combinations(range(n), k):
            mask = np.zeros(n, bool)
            mask[list(s)] = True
            yield mask


@pytest.mark.parametrize("seed", range(3))
def test_served_demand_matches_the_per_point_oracle(seed):
    cover, w, need, capacity, _ = instance(seed)
    d = demand_classes(cover, w, need=need)
    rng = np.random.default_rng(seed)
    for _ in range(10):
        chosen = rng.random(cover.shape[1]) < 0.5
        s = served_demand(d, chosen, capacity)
        assert s.served_weight == pytest.approx(oracle_served(cover, w, need, capacity, chosen), rel=1e-6)
        assert np.all(s.load <= capacity + 1e-7) and np.all(s.load[~chosen] == 0)
        assert np.all((s.class_share >= -1e-9) & (s.class_share <= 1 + 1e-9))


@pytest.mark.parametrize("seed", range(3))
def test_max_coverage_with_capacity_equals_brute_force(seed):
    cover, w, need, capacity, cost = instance(seed + 10)
    budget = float(cost.sum() / 2.5)
    best = max(oracle_served(cover, w, need, capacity, s) for s in subsets(cost.size) if cost[s].sum() <= budget)
    d = demand_classes(cover, w, need=need)
    sel = select_sites(d, cost, objective="max_coverage", budget=budget, capacity=capacity)
    assert sel.status == "optimal" and sel.objective == pytest.approx(best, rel=1e-6)
    assert sel.cost <= budget + 1e-9
    assert sel.bound >= sel.objective - 1e-6 and sel.gap < 1e-5
    assert sel.covered_weight == pytest.approx(oracle_served(cover, w, need, capacity, sel.chosen), rel=1e-6)
    g = greedy(d, cost, objective="max_coverage", budget=budget, capacity=capacity)
    assert g.objective <= sel.objective * (1 + 1e-6) and g.cost <= budget + 1e-9


@pytest.mark.parametrize("seed", range(3))
def test_min_cost_with_capacity_equals_brute_force(seed):
    cover, w, need, capacity, cost = instance(seed + 20)
    every = oracle_served(cover, w, need, capacity, np.ones(cost.size, bool))
    target = 0.85 * every / w.sum()
    best = min(cost[s].sum() for s in subsets(cost.size)
               if oracle_served(cover, w, need, capacity, s) >= target * w.sum())
    d = demand_classes(cover, w, need=need)
    sel = select_sites(d, cost, objective="min_cost", target_fraction=target, capacity=capacity)
    assert sel.status == "optimal" and sel.objective == pytest.approx(best, rel=1e-9)
    assert sel.covered_fraction >= target * (1 - 1e-6) and sel.bound <= sel.objective + 1e-6
    g = greedy(d, cost, objective="min_cost", target_fraction=target, capacity=capacity)
    assert g.objective >= sel.objective - 1e-9 and g.covered_fraction >= target * (1 - 1e-6)


def test_capacity_binding_changes_the_optimum():
    # both candidates cover both points; the cheap one has room for only one of them
    cover = np.ones((2, 2), bool)
    need = np.array([[0.8, 0.8], [0.8, 0.8]])
    d = demand_classes(cover, [1.0, 1.0], need=need)
    cost = [1.0, 1.5]
    free = select_sites(d, cost, objective="min_cost", target_fraction=1.0)
    assert free.chosen.tolist() == [True, False]
    tight = select_sites(d, cost, objective="min_cost", target_fraction=1.0, capacity=[1.0, 2.0])
    assert tight.chosen.tolist() == [False, True] and tight.cost == pytest.approx(1.5)
    assert served_demand(d, [True, False], [1.0, 2.0]).served_fraction == pytest.approx(1.0 / 1.6)
    assert greedy(d, cost, objective="min_cost", target_fraction=1.0, capacity=[1.0, 2.0]).covered_fraction >= 1 - 1e-9


def test_infeasible_target_says_that_capacity_binds():
    cover = np.array([[1], [1]], bool)
    d = demand_classes(cover, [1.0, 1.0], need=np.array([[1.0], [1.0]]))
    with pytest.raises(InfeasibleTargetError, match=r"coverage target 90 % of demand cannot be reached: building "
                                                   r"every candidate covers 100 % but serves only 50 % within "
                                                   r"capacity \(capacity binds\)"):
        select_sites(d, [1.0], objective="min_cost", target_fraction=0.9, capacity=[1.0])
    with pytest.raises(InfeasibleTargetError, match="capacity binds"):
        greedy(d, [1.0], objective="min_cost", target_fraction=0.9, capacity=[1.0])


@pytest.mark.parametrize("seed", range(2))
def test_without_capacity_the_need_changes_nothing(seed):
    cover, w, need, _, cost = instance(seed + 30)
    plain = demand_classes(cover, w)
    with_need = demand_classes(cover, w, need=need)
    assert np.array_equal(plain.point_class, with_need.point_class)
    for kw in (dict(objective="max_coverage", budget=float(cost.sum() / 3)),
               dict(objective="min_cost", target_fraction=0.7)):
        a = select_sites(plain, cost, **kw)
        b = select_sites(with_need, cost, **kw)
        assert a.chosen.tolist() == b.chosen.tolist() and a.objective == pytest.approx(b.objective)
    # huge capacity: the capacitated model gives the uncapacitated optimum
    big = select_sites(with_need, cost, objective="max_coverage", budget=float(cost.sum() / 3),
                       capacity=np.full(cost.size, 1e6))
    assert big.objective == pytest.approx(select_sites(plain, cost, objective="max_coverage",
                                                       budget=float(cost.sum() / 3)).objective, rel=1e-7)


def test_shared_patterns_make_the_class_model_conservative():
    # two points, same pattern, needs not proportional to weights: the class splits as a whole
    cover = np.ones((2, 2), bool)
    w = np.array([1.0, 1.0])
    need = np.array([[0.2, 1.0], [1.0, 0.2]])
    capacity = np.array([0.5, 0.5])
    d = demand_classes(cover, w, need=need)
    assert d.n_classes == 1 and d.need.toarray().tolist() == [[1.2, 1.2]]
    per_point = oracle_served(cover, w, need, capacity, np.array([True, True]))
    per_class = served_demand(d, [True, True], capacity).served_weight
    assert per_class <= per_point + 1e-9
    assert per_class == pytest.approx(2.0 * (2 * 0.5 / 1.2))  # weight 2 x share: each candidate serves 0.5 / 1.2 of it
    assert per_point == pytest.approx(2.0)              # each point on the candidate where it needs 0.2


def test_need_aggregates_per_class_aligned_with_cover():
    cover = np.array([[1, 0, 1], [1, 0, 1], [0, 1, 0]], bool)
    need = np.array([[0.5, 0.0, 0.0], [0.25, 0.0, 1.0], [0.0, 2.0, 0.0]])
    d = demand_classes(cover, [1.0, 1.0, 1.0], need=need)
    assert np.array_equal(d.need.indptr, d.cover.indptr) and np.array_equal(d.need.indices, d.cover.indices)
    k = d.point_class[0]
    assert d.need[k].toarray().ravel().tolist() == [0.75, 0.0, 1.0]


@pytest.mark.parametrize(("make", "match"), [
    (lambda d: select_sites(d, [1.0, 1.0], objective="max_coverage", budget=1.0, capacity=[1.0]),
     "capacity has 1 values for 2 candidates"),
    (lambda d: select_sites(d, [1.0, 1.0], objective="max_coverage", budget=1.0, capacity=[1.0, -1.0]),
     "capacities must be finite and >= 0"),
    (lambda d: select_sites(demand_classes(np.eye(2, dtype=bool), [1.0, 1.0]), [1.0, 1.0],
                            objective="max_coverage", budget=1.0, capacity=[1.0, 1.0]),
     r"capacity needs demand classes with a need"),
    (lambda d: demand_classes(np.eye(2, dtype=bool), [1.0, 1.0], need=np.ones((2, 2))),
     "need has entries where cover is False"),
    (lambda d: demand_classes(np.eye(2, dtype=bool), [1.0, 1.0], need=np.ones((3, 2))),
     r"need has shape \(3, 2\), cover has \(2, 2\)"),
])
def test_bad_capacity_arguments(make, match):
    d = demand_classes(np.eye(2, dtype=bool), [1.0, 1.0], need=np.eye(2))
    with pytest.raises(ValueError, match=match):
        make(d)


def _closest_brute_force(rsrp, weight, need_pc, cost, capacity, target):
    """Cheapest subset where every covered point is served by its strongest built candidate and no
    candidate's load exceeds its capacity; covered weight >= target x total."""
    import itertools

    n_p, n_c = rsrp.shape
    best = (np.inf, None)
    for r in range(n_c + 1):
        for sub in itertools.combinations(range(n_c), r):
            built = np.zeros(n_c, bool)
            built[list(sub)] = True
            load = np.zeros(n_c)
            covered = 0.0
            for p in range(n_p):
                cands = [c for c in range(n_c) if built[c] and np.isfinite(rsrp[p, c])]
                if not cands:
                    continue
                c = max(cands, key=lambda c: (rsrp[p, c], -c))
                load[c] += need_pc[p, c]
                covered += weight[p]
            if np.all(load <= capacity + 1e-9) and covered >= target * weight.sum() - 1e-9:
                best = min(best, (cost[built].sum(), tuple(np.flatnonzero(built))), key=lambda t: t[0])
    return best


@pytest.mark.parametrize("seed", range(8))
def test_closest_assignment_matches_brute_force(seed):
    # capacity 1.6: seeds 1 and 5 have no plan under closest assignment, the others cost more than
    # the free assignment's optimum (users cannot be moved to a weaker cell to spare a loaded one)
    rng = np.random.default_rng(seed)
    n_p, n_c = 12, 5
    rsrp = np.where(rng.random((n_p, n_c)) < 0.55, rng.uniform(-100, -60, (n_p, n_c)), np.inf * -1)
    rsrp[np.arange(n_p), rng.integers(0, n_c, n_p)] = rng.uniform(-100, -60, n_p)   # each point covered once
    covered = np.isfinite(rsrp)
    weight = rng.uniform(1, 3, n_p)
    need_pc = np.where(covered, rng.uniform(0.1, 0.6, (n_p, n_c)), 0.0)
    cost = rng.uniform(1, 2, n_c)
    capacity = np.full(n_c, 1.6)
    order = np.argsort(np.argsort(-np.where(covered, rsrp, -np.inf) + 1e-9 * np.arange(n_c), axis=1), axis=1) + 1
    rank = sp.csr_matrix(np.where(covered, order, 0))
    classes = demand_classes(sp.csr_matrix(covered), weight, need=sp.csr_matrix(need_pc), rank=rank)
    ref_cost, ref_set = _closest_brute_force(np.where(covered, rsrp, np.nan), weight, need_pc, cost, capacity, 0.8)
    if not np.isfinite(ref_cost):
        with pytest.raises(InfeasibleTargetError):
            select_sites(classes, cost, objective="min_cost", target_fraction=0.8, capacity=capacity)
        return
    try:
        sel = select_sites(classes, cost, objective="min_cost", target_fraction=0.8, capacity=capacity)
    except InfeasibleTargetError:
        pytest.fail(f"brute force found a plan of cost {ref_cost} ({ref_set})")
    assert sel.cost == pytest.approx(ref_cost, abs=1e-6)
    free = select_sites(demand_classes(sp.csr_matrix(covered), weight, need=sp.csr_matrix(need_pc)), cost,
                        objective="min_cost", target_fraction=0.8, capacity=capacity)
    assert free.cost <= sel.cost + 1e-9


def test_ranked_classes_split_by_order_and_check_their_input():
    cover = sp.csr_matrix(np.array([[1, 1], [1, 1], [1, 0]], bool))
    rank = sp.csr_matrix(np.array([[1, 2], [2, 1], [1, 0]]))
    d = demand_classes(cover, [1.0, 1.0, 1.0], rank=rank)
    assert d.n_classes == 3 and d.rank is not None
    assert sorted(map(tuple, d.rank.toarray().tolist())) == [(1, 0), (1, 2), (2, 1)]
    with pytest.raises(ValueError, match="rank must have an entry"):
        demand_classes(cover, [1.0, 1.0, 1.0], rank=sp.csr_matrix(np.array([[1, 0], [2, 1], [1, 0]])))
