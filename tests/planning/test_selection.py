"""Site selection against brute force on small instances, and its error messages."""

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp

from cellscape.planning.selection import InfeasibleTargetError, demand_classes, greedy, select_sites


def instance(seed, n_points=150, n_cand=9, density=0.25):
    rng = np.random.default_rng(seed)
    cover = rng.random((n_points, n_cand)) < density
    return cover, rng.uniform(0.5, 2.0, n_points), rng.uniform(1.0, 5.0, n_cand)


def subsets(n):
    for k in range(n + 1):
        yield from (list(s) for s in itertools.combinations(range(n), k))


def covered(cover, w, chosen):
    return float(w[cover[:, chosen].any(axis=1)].sum()) if chosen else 0.0


@pytest.mark.parametrize("seed", range(4))
def test_max_coverage_equals_brute_force_and_beats_or_ties_greedy(seed):
    cover, w, cost = instance(seed)
    budget = float(cost.sum() / 3)
    fixed = np.zeros(cost.size, bool)
    fixed[seed % cost.size] = True
    best = max(covered(cover, w, s) for s in subsets(cost.size)
               if cost[s].sum() <= budget and set(np.flatnonzero(fixed)) <= set(s))
    d = demand_classes(cover, w)
    sel = select_sites(d, cost, objective="max_coverage", budget=budget, fixed=fixed)
    assert sel.status == "optimal" and sel.objective == pytest.approx(best, rel=1e-9)
    assert sel.cost <= budget + 1e-9 and sel.chosen[fixed].all()
    assert sel.bound >= sel.objective - 1e-6 and sel.gap < 1e-6
    assert sel.covered_weight == pytest.approx(covered(cover, w, list(np.flatnonzero(sel.chosen))))
    g = greedy(d, cost, objective="max_coverage", budget=budget, fixed=fixed)
    assert g.objective <= sel.objective + 1e-9 and g.cost <= budget + 1e-9 and g.chosen[fixed].all()


@pytest.mark.parametrize("seed", range(4))
def test_min_cost_equals_brute_force(seed):
    cover, w, cost = instance(seed + 10)
    reach = covered(cover, w, list(range(cost.size))) / w.sum()
    target = 0.9 * reach
    best = min(cost[s].sum() for s in subsets(cost.size) if covered(cover, w, s) >= target * w.sum())
    d = demand_classes(cover, w)
    sel = select_sites(d, cost, objective="min_cost", target_fraction=target)
    assert sel.objective == pytest.approx(best, rel=1e-9) and sel.covered_fraction >= target - 1e-12
    assert sel.bound <= sel.objective + 1e-6
    g = greedy(d, cost, objective="min_cost", target_fraction=target)
    assert g.objective >= sel.objective - 1e-9 and g.covered_fraction >= target - 1e-12


def test_lp_bound_is_reported_when_the_relaxation_is_fractional():
    # three candidates each covering two of three points in a cycle, budget for one and a half
    cover = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]], bool)
    d = demand_classes(cover, [1.0, 1.0, 1.0])
    sel = select_sites(d, [1.0, 1.0, 1.0], objective="max_coverage", budget=1.5)
    assert sel.objective == pytest.approx(2.0)           # one candidate covers two points
    assert sel.bound == pytest.approx(2.0)               # HiGHS proves it; the LP alone would say 2.25
    assert sel.gap == pytest.approx(0.0, abs=1e-9)


def test_classes_keep_the_total_and_uncoverable_demand():
    cover, w, cost = instance(3, n_points=2000, n_cand=6, density=0.2)
    d = demand_classes(sp.csr_matrix(cover), w)
    assert d.weight.sum() == pytest.approx(w.sum())
    assert d.n_classes <= 2 ** 6
    assert np.array_equal(d.cover[d.point_class].toarray(), cover)
    sel = select_sites(d, cost, objective="max_coverage", budget=float(cost.sum()))
    assert sel.covered_fraction == pytest.approx(w[cover.any(axis=1)].sum() / w.sum())


def test_infeasible_target_names_it_and_the_best_achievable():
    cover = np.array([[1, 0], [0, 1], [0, 0], [0, 0]], bool)      # half the demand has no candidate
    d = demand_classes(cover, [1.0, 1.0, 1.0, 1.0])
    with pytest.raises(InfeasibleTargetError, match=r"coverage target 90 % of demand cannot be reached: "
                                                   r"building every candidate covers 50 %"):
        select_sites(d, [1.0, 1.0], objective="min_cost", target_fraction=0.9)
    with pytest.raises(InfeasibleTargetError, match="below the cost of the fixed"):
        select_sites(d, [3.0, 1.0], objective="max_coverage", budget=2.0, fixed=[True, False])


def test_budget_binds_and_zero_budget_builds_nothing():
    cover, w, cost = instance(7)
    d = demand_classes(cover, w)
    wide = select_sites(d, cost, objective="max_coverage", budget=float(cost.sum()))
    tight = select_sites(d, cost, objective="max_coverage", budget=float(cost.min()))
    assert tight.chosen.sum() == 1 and tight.objective < wide.objective
    none = select_sites(d, cost, objective="max_coverage", budget=0.0)
    assert not none.chosen.any() and none.objective == 0.0


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(objective="max_coverage"), "needs budget"),
    (dict(objective="min_cost", target_fraction=1.5), r"target_fraction in \[0, 1\]"),
    (dict(objective="cheapest", budget=1.0), "objective must be"),
])
def test_bad_arguments(kwargs, match):
    d = demand_classes(np.eye(2, dtype=bool), [1.0, 1.0])
    with pytest.raises(ValueError, match=match):
        select_sites(d, [1.0, 1.0], **kwargs)
    with pytest.raises(ValueError, match="cost has 3 values for 2 candidates"):
        select_sites(d, [1.0, 1.0, 1.0], objective="max_coverage", budget=1.0)
    with pytest.raises(ValueError, match="weight has 1 values for 2 demand points"):
        demand_classes(np.eye(2, dtype=bool), [1.0])
    assert math.isnan(greedy(d, [1.0, 1.0], objective="max_coverage", budget=1.0).gap)


def test_time_limit_returns_the_best_plan_found_and_says_so():
    rng = np.random.default_rng(5)
    cover = rng.random((3000, 120)) < 0.04
    d = demand_classes(cover, rng.uniform(0.5, 2.0, 3000))
    cost = rng.uniform(1.0, 3.0, 120)
    sel = select_sites(d, cost, objective="min_cost", target_fraction=0.9, time_limit_s=0.01)
    assert sel.status in ("time_limit", "optimal")
    assert sel.covered_fraction >= 0.9 - 1e-12                  # feasible: at worst the greedy plan
    if sel.status == "time_limit":
        assert sel.gap > 0 and sel.bound <= sel.objective
