"""Site selection against brute force on hundreds of random small instances (issue 10).

Each instance has 6 to 10 candidates, so every subset (at most 1,024) is evaluated exactly, all at
once, from bit masks: candidate c covers class k when bit c of the class's pattern is set. Both
objectives, with and without fixed (existing) sites, and the capacity model with closest assignment
that ``cellscape plan``'s capacity rounds solve (every covered class served by its most preferred
built candidate, each candidate within its capacity). Two instance families: candidates covering
random disks of a unit square (nested and overlapping patterns, as real cells give) and random
patterns; weights and costs uniform, exponential or integral (ties: equal-cost candidates).

What must hold: the plan is feasible, its reported value is its own re-computed value, it equals
the brute-force optimum, and "optimal" comes with a bound that closes the gap. The instances where
HiGHS, handed the greedy start, contradicted itself (issue 10: presolve maps the start into the
reduced model with a wrong objective and HiGHS reports "Optimal" at it) are pinned as examples;
hypothesis draws further seeds on a developer's machine and a fixed sequence under CI.

Tolerance: values are sums of a few hundred weights of order 1, summed in different orders by numpy
and HiGHS, hence rel=1e-9 against the brute force.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cellscape.planning import _highs
from cellscape.planning import selection
from cellscape.planning.selection import demand_classes, select_sites

N_EXAMPLES = 150
"""Random instances per objective in the fast set, without capacity (plus the pinned ones)."""
N_EXAMPLES_CAPACITY = 40
"""Random instances per objective in the fast set, with capacity (a MILP ten times the size)."""
N_SLOW = 1000
"""Consecutive seeds per objective and model of the slow run (``make test-all``)."""

seeds = st.integers(0, 2**32 - 1)
fast = settings(max_examples=N_EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
fast_capacity = settings(max_examples=N_EXAMPLES_CAPACITY, suppress_health_check=[HealthCheck.too_slow])


def instance(seed: int) -> dict:
    """A random instance: cover (n_points, n_cand) bool, weights, costs, fixed sites, and (for the
    capacity model) needs, a preference rank and capacities."""
    rng = np.random.default_rng(seed)
    n_cand = int(rng.integers(6, 11))
    n_points = int(rng.integers(100, 400))
    if rng.random() < 0.5:                     # cells: disks of random radius in the unit square
        pts, centre = rng.random((n_points, 2)), rng.random((n_cand, 2))
        dist = np.linalg.norm(pts[:, None] - centre[None], axis=2)        # (n_points, n_cand)
        cover = dist < rng.uniform(0.15, 0.45, n_cand)
    else:
        dist = rng.random((n_points, n_cand))
        cover = dist < rng.uniform(0.1, 0.45)
    weight = (rng.uniform(0.5, 2.0, n_points), rng.exponential(1.0, n_points),
              rng.integers(1, 10, n_points).astype(float))[int(rng.integers(3))]
    cost = (rng.uniform(1.0, 5.0, n_cand), np.ones(n_cand),
            rng.integers(1, 4, n_cand).astype(float))[int(rng.integers(3))]
    fixed = np.zeros(n_cand, bool)
    if rng.random() < 0.4:
        fixed[rng.choice(n_cand, size=int(rng.integers(1, 3)), replace=False)] = True
    # capacity model: rank by distance (1 = nearest), need = load of the point on that candidate
    order = np.argsort(np.where(cover, dist, np.inf), axis=1, kind="stable")
    rank = np.zeros(cover.shape, np.int64)
    np.put_along_axis(rank, order, np.arange(1, n_cand + 1)[None, :].repeat(n_points, 0), axis=1)
    need = np.where(cover, rng.uniform(0.01, 0.05, cover.shape) * weight[:, None], 0.0)
    capacity = rng.uniform(0.5, 2.5, n_cand)
    return dict(rng=rng, cover=cover, weight=weight, cost=cost, fixed=fixed, rank=np.where(cover, rank, 0),
                need=need, capacity=capacity)


def every_subset(n_cand: int) -> np.ndarray:
    """(2**n_cand, n_cand) bool: row s is the subset with bit mask s."""
    return (np.arange(2 ** n_cand)[:, None] >> np.arange(n_cand)[None, :]) & 1 == 1


def brute_force(inst: dict, *, capacity: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every subset: (covered weight, cost, feasible) with the fixed sites built. With
    ``capacity``: every covered point goes to its nearest built candidate (closest assignment) and
    a subset is feasible when no candidate's load exceeds its capacity."""
    cover, w, cost = inst["cover"], inst["weight"], inst["cost"]
    sets = every_subset(cost.size)                                         # (n_sets, n_cand)
    hit = (sets.astype(np.int32) @ cover.T.astype(np.int32)) > 0           # (n_sets, n_points)
    covered = hit.astype(float) @ w
    spent = sets.astype(float) @ cost
    ok = np.all(sets[:, inst["fixed"]], axis=1)
    if capacity:
        big = cost.size + 1
        rank_if_built = np.where(cover[None] & sets[:, None, :], inst["rank"][None], big)  # (n_sets, n_pts, n_cand)
        serving = np.argmin(rank_if_built, axis=2)                                          # (n_sets, n_points)
        load = np.zeros(sets.shape)
        served_need = np.where(hit, inst["need"][np.arange(cover.shape[0])[None, :], serving], 0.0)
        for c in range(cost.size):
            load[:, c] = np.sum(np.where(serving == c, served_need, 0.0), axis=1)
        ok &= np.all(load <= inst["capacity"][None, :] * (1 + 1e-9) + 1e-12, axis=1)
    return covered, spent, ok


def classes_of(inst: dict, *, capacity: bool):
    cover = sp.csr_matrix(inst["cover"])
    if not capacity:
        return demand_classes(cover, inst["weight"])
    return demand_classes(cover, inst["weight"], need=sp.csr_matrix(inst["need"]), rank=sp.csr_matrix(inst["rank"]))


def check_max_coverage(seed: int, *, capacity: bool) -> None:
    inst = instance(seed)
    covered, spent, ok = brute_force(inst, capacity=capacity)
    cost, fixed = inst["cost"], inst["fixed"]
    budget = float(cost[fixed].sum() + inst["rng"].uniform(0.15, 0.5) * cost.sum())
    feasible = ok & (spent <= budget + 1e-9)
    if not feasible.any():                 # with capacity, the fixed sites alone may overload
        return
    best = covered[feasible].max()
    sel = select_sites(classes_of(inst, capacity=capacity), cost, objective="max_coverage", budget=budget,
                       fixed=fixed, capacity=inst["capacity"] if capacity else None)
    chosen_mask = int(np.sum(sel.chosen.astype(np.int64) << np.arange(cost.size)))
    assert feasible[chosen_mask], "the plan breaks the budget, the fixed sites or a capacity"
    assert sel.objective == pytest.approx(covered[chosen_mask], rel=1e-9), "reported value is not the plan's own"
    assert sel.objective == pytest.approx(best, rel=1e-9), f"plan covers {sel.objective}, the best subset {best}"
    assert sel.status == "optimal" and sel.gap <= selection.MIP_REL_GAP and sel.bound >= sel.objective - 1e-9


def check_min_cost(seed: int, *, capacity: bool) -> None:
    inst = instance(seed)
    covered, spent, ok = brute_force(inst, capacity=capacity)
    total = inst["weight"].sum()
    reach = covered[ok].max() / total if ok.any() else 0.0
    target = float(inst["rng"].uniform(0.5, 0.97) * reach)
    feasible = ok & (covered >= target * total * (1 - 1e-12))
    if not feasible.any():
        return
    best = spent[feasible].min()
    sel = select_sites(classes_of(inst, capacity=capacity), inst["cost"], objective="min_cost",
                       target_fraction=target, fixed=inst["fixed"],
                       capacity=inst["capacity"] if capacity else None)
    chosen_mask = int(np.sum(sel.chosen.astype(np.int64) << np.arange(inst["cost"].size)))
    assert ok[chosen_mask] and covered[chosen_mask] >= target * total * (1 - 1e-9), "the plan misses its target"
    assert sel.objective == pytest.approx(spent[chosen_mask], rel=1e-9), "reported cost is not the plan's own"
    assert sel.objective == pytest.approx(best, rel=1e-9), f"plan costs {sel.objective}, the cheapest subset {best}"
    assert sel.status == "optimal" and sel.gap <= selection.MIP_REL_GAP and sel.bound <= sel.objective + 1e-9


# seeds of this generator where HiGHS 1.16, handed the greedy start, reported "Optimal" at an
# objective its own solution does not have (a sweep over seeds 0..2999 of each test; for seed 631
# HiGHS said 2.10 for a plan costing 5.35). The max-coverage sweep found none with this generator:
# that case is pinned below with the instance a wider sweep found.
CONTRADICTED_MIN_COST: tuple[int, ...] = (396, 631, 1042, 1541, 1561, 2401)
CONTRADICTED_MIN_COST_CAPACITY: tuple[int, ...] = (149,)      # (sweep over seeds 0..599)


def _pinned(seeds_):
    def wrap(f):
        for s in seeds_:
            f = example(seed=s)(f)
        return f
    return wrap


@fast
@given(seed=seeds)
def test_max_coverage_equals_brute_force(seed):
    check_max_coverage(seed, capacity=False)


@fast
@_pinned(CONTRADICTED_MIN_COST)
@given(seed=seeds)
def test_min_cost_equals_brute_force(seed):
    check_min_cost(seed, capacity=False)


@fast_capacity
@given(seed=seeds)
def test_max_coverage_with_closest_assignment_capacity_equals_brute_force(seed):
    check_max_coverage(seed, capacity=True)


@fast_capacity
@_pinned(CONTRADICTED_MIN_COST_CAPACITY)
@given(seed=seeds)
def test_min_cost_with_closest_assignment_capacity_equals_brute_force(seed):
    check_min_cost(seed, capacity=True)


@pytest.mark.slow
@pytest.mark.parametrize("capacity", [False, True], ids=["uncapacitated", "capacity"])
@pytest.mark.parametrize("check", [check_max_coverage, check_min_cost], ids=["max_coverage", "min_cost"])
def test_many_consecutive_seeds_equal_brute_force(check, capacity):
    for seed in range(N_SLOW):
        check(seed, capacity=capacity)


def test_max_coverage_instance_where_highs_kept_the_worse_start():
    """Issue 10's symptom, on the instance a sweep found: HiGHS, handed the greedy plan (237.25),
    reported "Optimal" at 238.01 and handed the greedy plan back; the best subset covers 238.01."""
    rng = np.random.default_rng(2671)
    n_cand, n_points = int(rng.integers(6, 13)), int(rng.integers(100, 600))
    rng.integers(4)
    pts, centre, radius = rng.random((n_points, 2)), rng.random((n_cand, 2)), rng.uniform(0.2, 0.6, n_cand)
    cover = np.linalg.norm(pts[:, None] - centre[None], axis=2) < radius
    rng.integers(3)
    weight = [rng.uniform(0.5, 2.0, n_points), rng.exponential(1.0, n_points),
              rng.integers(1, 5, n_points).astype(float)][0]
    rng.integers(3)
    cost = [rng.uniform(1, 5, n_cand), np.ones(n_cand), rng.integers(1, 4, n_cand).astype(float)][2]
    fixed = np.zeros(n_cand, bool)
    if rng.random() < 0.3:
        fixed[rng.integers(n_cand)] = True
    budget = float(cost[fixed].sum() + cost.sum() * rng.uniform(0.1, 0.5))
    covered, spent, ok = brute_force(dict(cover=cover, weight=weight, cost=cost, fixed=fixed), capacity=False)
    best = covered[ok & (spent <= budget + 1e-9)].max()
    sel = select_sites(demand_classes(cover, weight), cost, objective="max_coverage", budget=budget, fixed=fixed)
    assert best == pytest.approx(238.0102595800472, rel=1e-12)
    assert sel.objective == pytest.approx(best, rel=1e-9) and sel.status == "optimal"


def test_a_start_that_highs_contradicts_is_discarded_and_the_model_solved_again(monkeypatch):
    """The mechanism itself: a HiGHS answer whose objective its own solution does not have is thrown
    away and the model solved without the start; the selection's status is decided from the plan's
    re-computed value and the bounds, never from HiGHS's word."""
    cover = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]], bool)
    d = demand_classes(cover, [1.0, 1.0, 1.0, 1.0])
    real = _highs._run_once
    calls = []

    def lying_once(model, *, start, **kw):       # the run with the start reports an objective 1 better
        res, reported = real(model, start=start, **kw)
        calls.append(start is not None)
        return res, (reported - 1.0 if start is not None else reported)

    monkeypatch.setattr(_highs, "_run_once", lying_once)
    sel = select_sites(d, [1.0, 1.0, 1.0], objective="max_coverage", budget=2.0)
    assert calls == [False, True, False]          # LP, MILP with the start, MILP again without it
    assert sel.objective == pytest.approx(3.0) and sel.status == "optimal" and sel.gap == pytest.approx(0.0)


def test_contradiction_names_what_is_wrong():
    m = _highs._Model(np.array([1.0, 1.0]), np.zeros(2), np.ones(2), sp.csc_matrix(np.array([[1.0, 1.0]])),
                      np.array([1.0]), np.array([np.inf]), np.array([True, True]))
    ok = _highs.HighsResult(x=np.array([1.0, 0.0]), status="optimal", objective=1.0, mip_bound=1.0, seconds=0.0)
    assert _highs.contradiction(m, ok, 1.0) is None
    assert "reports objective 0" in _highs.contradiction(m, ok, 0.0)
    assert "below the known bound" in _highs.contradiction(m, ok, 1.0, known_bound=1.5)
    half = _highs.HighsResult(x=np.array([0.5, 0.5]), status="optimal", objective=1.0, mip_bound=1.0, seconds=0.0)
    assert "violates the model by 0.5" in _highs.contradiction(m, half, 1.0)
    short = _highs.HighsResult(x=np.array([0.0, 0.0]), status="optimal", objective=0.0, mip_bound=0.0, seconds=0.0)
    assert "violates" in _highs.contradiction(m, short, 0.0)
    crossed = _highs.HighsResult(x=np.array([1.0, 0.0]), status="optimal", objective=1.0, mip_bound=2.0, seconds=0.0)
    assert "dual bound 2 lies above" in _highs.contradiction(m, crossed, 1.0)
