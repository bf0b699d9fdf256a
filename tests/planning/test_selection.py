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


# --- the large-model path: Lagrangian bound and kernel search (forced on small instances) ---------

def lp_relaxation(cover, w, cost, objective, rhs):
    """LP relaxation per point, solved by scipy's linprog: an oracle independent of the class model."""
    from scipy.optimize import linprog

    n_p, n_c = cover.shape
    link = np.hstack([-cover.astype(float), np.eye(n_p)])               # y_p - sum_c a_pc x_c <= 0
    if objective == "min_cost":
        res = linprog(np.concatenate([cost, np.zeros(n_p)]), A_ub=np.vstack([link, np.concatenate([np.zeros(n_c), -w])]),
                      b_ub=np.concatenate([np.zeros(n_p), [-rhs]]), bounds=(0, 1), method="highs")
        return res.fun
    res = linprog(np.concatenate([np.zeros(n_c), -w]), A_ub=np.vstack([link, np.concatenate([cost, np.zeros(n_p)])]),
                  b_ub=np.concatenate([np.zeros(n_p), [rhs]]), bounds=(0, 1), method="highs")
    return -res.fun


@pytest.mark.parametrize("objective", ["min_cost", "max_coverage"])
@pytest.mark.parametrize("seed", range(3))
def test_lagrangian_bound_is_valid_for_any_multipliers_and_reaches_the_lp_bound(seed, objective):
    from cellscape.planning._lagrange import LinkingRelaxation

    cover, w, cost = instance(seed + 40)
    d = demand_classes(cover, w)
    rhs = 0.8 * w[cover.any(axis=1)].sum() if objective == "min_cost" else float(cost.sum() / 3)
    lp = lp_relaxation(cover, w, cost, objective, rhs)
    relax = LinkingRelaxation(d.cover, d.weight, cost, np.zeros(cost.size, bool), objective, rhs)
    sense = 1.0 if objective == "min_cost" else -1.0                    # a lower / an upper bound
    rng = np.random.default_rng(seed)
    for _ in range(20):                                                 # weak duality, any u >= 0
        assert sense * relax.evaluate(rng.uniform(0, 2, d.n_classes) * d.weight).value <= sense * lp + 1e-9
    _, best = relax.ascend(0.5 * d.weight, lp * (1.05 if objective == "min_cost" else 0.95),
                           deadline=math.inf, max_iter=3000)
    # subgradient steps converge to the LP bound; 1 % after 3000 steps on these instances
    assert sense * best.value <= sense * lp + 1e-9
    assert best.value == pytest.approx(lp, rel=1e-2)


@pytest.mark.parametrize("seed", range(3))
def test_kernel_search_gives_a_feasible_plan_and_a_bound_valid_for_the_whole_model(seed, monkeypatch):
    from cellscape.planning import selection

    monkeypatch.setattr(selection, "_FULL_MILP_MAX_CANDIDATES", 0)     # force the large-model path
    monkeypatch.setattr(selection, "_KERNEL_MAX_CANDIDATES", 6)        # a kernel smaller than the model
    cover, w, cost = instance(seed + 50, n_cand=11)
    d = demand_classes(cover, w)
    target = 0.9 * w[cover.any(axis=1)].sum() / w.sum()
    opt = min(cost[s].sum() for s in subsets(cost.size) if covered(cover, w, s) >= target * w.sum())
    sel = select_sites(d, cost, objective="min_cost", target_fraction=target)
    g = greedy(d, cost, objective="min_cost", target_fraction=target)
    assert sel.method == "kernel-milp-highs" and sel.bound_kind == "lagrangian"
    assert sel.covered_fraction >= target - 1e-12 and sel.objective <= g.objective + 1e-9
    assert sel.bound <= opt + 1e-9                                      # valid for the whole model
    assert sel.bound == pytest.approx(lp_relaxation(cover, w, cost, "min_cost", target * w.sum()), rel=1e-4)
    assert sel.status in ("optimal", "feasible") and (sel.status != "optimal" or sel.objective == pytest.approx(opt))

    budget = float(cost.sum() / 3)
    best = max(covered(cover, w, s) for s in subsets(cost.size) if cost[s].sum() <= budget)
    sel = select_sites(d, cost, objective="max_coverage", budget=budget)
    g = greedy(d, cost, objective="max_coverage", budget=budget)
    assert sel.cost <= budget + 1e-9 and sel.objective >= g.objective - 1e-9
    assert sel.bound >= best - 1e-9 and sel.bound_kind == "lagrangian"


@pytest.mark.parametrize("seed", range(3))
def test_several_weight_groups_each_target_one_row(seed):
    cover, w, cost = instance(seed + 60)
    rng = np.random.default_rng(seed)
    w2 = np.where(rng.random(w.size) < 0.3, rng.uniform(0.0, 5.0, w.size), 0.0)   # e.g. users on some pixels
    w2[np.flatnonzero(~cover.any(axis=1))[0]] = 1.0                                # some users nobody covers
    groups = np.column_stack([w, w2])
    fr = [0.8 * w[cover.any(axis=1)].sum() / w.sum(), 0.9 * w2[cover.any(axis=1)].sum() / w2.sum()]
    best = min(cost[s].sum() for s in subsets(cost.size)
               if covered(cover, w, s) >= fr[0] * w.sum() and covered(cover, w2, s) >= fr[1] * w2.sum())
    d = demand_classes(cover, groups)
    assert d.group_weight.shape == (d.n_classes, 2) and np.array_equal(d.weight, d.group_weight[:, 0])
    sel = select_sites(d, cost, objective="min_cost", target_fraction=fr)
    assert sel.status == "optimal" and sel.objective == pytest.approx(best, rel=1e-9)
    chosen = list(np.flatnonzero(sel.chosen))
    assert covered(cover, w2, chosen) >= fr[1] * w2.sum() * (1 - 1e-12)
    g = greedy(d, cost, objective="min_cost", target_fraction=fr)
    gc = list(np.flatnonzero(g.chosen))
    assert covered(cover, w, gc) >= fr[0] * w.sum() * (1 - 1e-12) and covered(cover, w2, gc) >= fr[1] * w2.sum() * (1 - 1e-12)
    assert g.objective >= sel.objective - 1e-9
    with pytest.raises(InfeasibleTargetError, match=r"target 2 of 2") as err:
        select_sites(d, cost, objective="min_cost", target_fraction=[0.1, 1.0])
    assert err.value.target_index == 1
    assert err.value.achievable_fraction == pytest.approx(w2[cover.any(axis=1)].sum() / w2.sum())
    with pytest.raises(ValueError, match="target_fraction has 3 values for 2 weight groups"):
        select_sites(d, cost, objective="min_cost", target_fraction=[0.1, 0.1, 0.1])


@pytest.mark.parametrize("seed", range(3))
def test_add_drop_keeps_the_target_and_never_costs_more(seed):
    from cellscape.planning import selection

    cover, w, cost = instance(seed + 70, n_points=400, n_cand=14, density=0.3)
    d = demand_classes(cover, w)
    target = 0.9 * w[cover.any(axis=1)].sum() / w.sum()
    pb = selection._problem(d, cost, "min_cost", None, target, None, None)
    start = greedy(d, cost, objective="min_cost", target_fraction=target).chosen
    better = selection._add_drop(pb, start, math.inf)
    assert pb.feasible(better) and cost[better].sum() <= cost[start].sum() + 1e-12
    assert selection._add_drop(pb, better, math.inf).tolist() == better.tolist()   # a local optimum, deterministic
    opt = min(cost[s].sum() for s in subsets(cost.size) if covered(cover, w, s) >= target * w.sum())
    assert cost[better].sum() >= opt - 1e-9
