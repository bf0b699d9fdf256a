"""Phased rollout: in which order to build the chosen sites, and what each phase buys.

The construction-speed question: with sites chosen (by :func:`cellscape.planning.selection.select_sites`
or by hand), build first the ones that add the most covered demand per unit cost, so that coverage
grows fastest per money spent. The order is greedy in marginal covered demand per cost (Nemhauser,
Wolsey & Fisher 1978: for this submodular objective the greedy prefix of any length covers at least
(1 - 1/e) of the best set of that cost, up to the last item's knapsack slack); sites already standing
(``fixed``) come first, at no new cost. Phases then cut the order by a budget per phase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cellscape.planning.selection import DemandClasses, MarginalGain


@dataclass(frozen=True)
class Rollout:
    """``order``: candidate indices in build order (fixed sites first); ``cumulative_cost`` and
    ``cumulative_covered_fraction`` after each site (same length); ``phase``: the phase of each site
    in ``order`` (0 = the sites already standing, then 1, 2, ...)."""

    order: np.ndarray
    cumulative_cost: np.ndarray
    cumulative_covered_fraction: np.ndarray
    phase: np.ndarray

    def phase_table(self) -> list[dict]:
        """One row per phase: ``phase``, ``sites`` (count), ``cost`` (of the phase), ``cumulative_cost``,
        ``covered_fraction`` (after the phase)."""
        rows = []
        for p in np.unique(self.phase):
            idx = np.flatnonzero(self.phase == p)
            last = idx[-1]
            first_cost = self.cumulative_cost[idx[0] - 1] if idx[0] > 0 else 0.0
            rows.append({"phase": int(p), "sites": int(idx.size),
                         "cost": float(self.cumulative_cost[last] - first_cost),
                         "cumulative_cost": float(self.cumulative_cost[last]),
                         "covered_fraction": float(self.cumulative_covered_fraction[last])})
        return rows


def rollout_order(classes: DemandClasses, cost, chosen, *, fixed=None, phase_budget: float | None = None) -> Rollout:
    """Order the ``chosen`` candidates for construction and cut the order into phases.

    Parameters
    ----------
    classes : DemandClasses
        Coverage classes (:func:`~cellscape.planning.selection.demand_classes`).
    cost : array_like, shape (n_candidates,)
        Cost of each candidate (fixed sites are counted at no new cost).
    chosen : array_like of bool, shape (n_candidates,)
        The sites to build.
    fixed : array_like of bool, optional
        Sites already standing: phase 0, first in the order.
    phase_budget : float, optional
        Spend per phase; a site whose cost alone exceeds it gets a phase of its own. None: one site
        per phase.

    Returns
    -------
    Rollout

    Examples
    --------
    >>> from cellscape.planning.selection import demand_classes
    >>> d = demand_classes(np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], bool), [1.0, 1.0, 1.0, 1.0])
    >>> r = rollout_order(d, [1.0, 1.0, 4.0], [True, True, True])
    >>> r.order.tolist(), r.cumulative_covered_fraction.tolist()
    ([0, 1, 2], [0.5, 0.75, 1.0])
    """
    cost = np.asarray(cost, dtype=float).ravel()
    chosen = np.asarray(chosen, dtype=bool).ravel()
    n = cost.size
    fixed = np.zeros(n, bool) if fixed is None else np.asarray(fixed, dtype=bool).ravel()
    if chosen.size != n or fixed.size != n or classes.cover.shape[1] != n:
        raise ValueError(f"cost, chosen and fixed need one value per candidate ({classes.cover.shape[1]})")
    if phase_budget is not None and not phase_budget > 0:
        raise ValueError(f"phase_budget must be > 0, got {phase_budget}")
    w = classes.weight
    total = float(w.sum())
    queue = MarginalGain(classes, cost, np.flatnonzero(chosen & ~fixed))
    order, cum_cost, cum_cov, phase = [], [], [], []
    spent = 0.0

    def build(c: int, p: int) -> None:
        queue.take(c)
        order.append(int(c))
        cum_cost.append(spent)
        cum_cov.append(queue.covered_weight / total if total else np.nan)
        phase.append(p)

    for c in np.flatnonzero(fixed):          # standing sites: phase 0, no new cost
        build(c, 0)
    current, phase_spent = 0, np.inf
    while (c := queue.pop()) is not None:    # then the new sites, best ratio first
        if phase_budget is None or phase_spent + cost[c] > phase_budget + 1e-9:
            current += 1
            phase_spent = 0.0
        phase_spent += cost[c]
        spent += float(cost[c])
        build(c, current)
    return Rollout(order=np.array(order, dtype=np.int64), cumulative_cost=np.array(cum_cost),
                   cumulative_covered_fraction=np.array(cum_cov), phase=np.array(phase, dtype=np.int64))
