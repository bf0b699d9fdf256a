"""Phased rollout: greedy order, cumulative curve, phases under a budget."""


import numpy as np
import pytest

from cellscape.planning.rollout import rollout_order
from cellscape.planning.selection import demand_classes, select_sites


def instance(seed):
    rng = np.random.default_rng(seed)
    cover = rng.random((300, 10)) < 0.2
    return cover, rng.uniform(0.5, 2.0, 300), rng.uniform(1.0, 5.0, 10)


@pytest.mark.parametrize("seed", range(3))
def test_order_is_greedy_and_the_curve_ends_at_the_plan(seed):
    cover, w, cost = instance(seed)
    d = demand_classes(cover, w)
    plan = select_sites(d, cost, objective="min_cost", target_fraction=0.8)
    r = rollout_order(d, cost, plan.chosen)
    assert sorted(r.order.tolist()) == np.flatnonzero(plan.chosen).tolist()
    assert np.all(np.diff(r.cumulative_covered_fraction) >= -1e-12)
    assert r.cumulative_covered_fraction[-1] == pytest.approx(plan.covered_fraction)
    assert r.cumulative_cost[-1] == pytest.approx(plan.cost)
    # each step takes the best remaining ratio: no later site would have been better at that step
    built = []
    for c in r.order:
        def ratio(k):
            now = cover[:, built + [k]].any(axis=1) if built else cover[:, [k]].any(axis=1)
            before = cover[:, built].any(axis=1) if built else np.zeros(len(w), bool)
            return w[now & ~before].sum() / cost[k]
        rest = [k for k in r.order if k not in built]
        assert ratio(c) >= max(ratio(k) for k in rest) - 1e-9
        built.append(int(c))


def test_fixed_sites_come_first_at_no_cost_and_phases_respect_the_budget():
    cover, w, cost = instance(4)
    d = demand_classes(cover, w)
    chosen = np.ones(10, bool)
    fixed = np.zeros(10, bool)
    fixed[[2, 7]] = True
    r = rollout_order(d, cost, chosen, fixed=fixed, phase_budget=6.0)
    assert r.order[:2].tolist() == [2, 7] and r.phase[:2].tolist() == [0, 0]
    assert r.cumulative_cost[1] == 0.0
    for row in r.phase_table()[1:]:
        assert row["cost"] <= 6.0 + 1e-9 or row["sites"] == 1
    assert r.phase_table()[-1]["covered_fraction"] == pytest.approx(r.cumulative_covered_fraction[-1])
    assert sum(row["sites"] for row in r.phase_table()) == 10


def test_bad_arguments():
    d = demand_classes(np.eye(3, dtype=bool), [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="one value per candidate"):
        rollout_order(d, [1.0, 1.0], [True, True])
    with pytest.raises(ValueError, match="phase_budget must be > 0"):
        rollout_order(d, [1.0, 1.0, 1.0], [True] * 3, phase_budget=0.0)
