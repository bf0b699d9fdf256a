"""Site selection: which candidate sites to build, as a mixed-integer program solved with HiGHS.

The input is a coverage relation: ``cover[p, c]`` is True when candidate site ``c`` would serve
demand point ``p`` (a pixel or a user location) to the target level, as the coverage engine measures
it; each point has a demand weight (area, users, traffic) and each candidate a cost. Two classic
problems (Church & ReVelle 1974, maximal covering location; Toregas et al. 1971, set covering):

- **maximum coverage under a budget**: maximise the covered demand, sum cost x <= budget;
- **minimum cost for a coverage target**: minimise the cost, covered demand >= target x total demand.

Formulation (both): binary x_c (build c), continuous y_k in [0, 1] (class k covered), and
y_k <= sum over the candidates covering k of x_c. With positive weights an optimal y is 0 or 1, so
only x needs to be integer. Existing sites are fixed at x_c = 1 (cost counted, as for an upgrade).

Demand points that the same set of candidates covers are one *class* (:func:`demand_classes`): the
model has one y per class, not per pixel, which turns a million pixels into the tens of thousands of
distinct coverage patterns a city has. Points covered by no candidate are kept as a class with no
candidate (never covered), so fractions are always of the total demand.

Every solve reports the LP-relaxation bound and the optimality gap (HiGHS's own MIP bound when it
stops on its time limit). :func:`greedy` is the marginal-gain-per-cost baseline to compare with.
"""

from __future__ import annotations

from dataclasses import dataclass
import heapq
import math
import time
from typing import Literal

import numpy as np
import scipy.sparse as sp

from cellscape.errors import CellscapeError
from cellscape.planning import _highs as highs

Objective = Literal["max_coverage", "min_cost"]


class InfeasibleTargetError(CellscapeError, ValueError):
    """A coverage target no choice of candidates can reach; the message gives the best achievable value."""


@dataclass(frozen=True)
class DemandClasses:
    """Demand points grouped by the set of candidates that covers them.

    ``cover``: (n_classes, n_candidates) CSR bool; ``weight``: (n_classes,) summed demand;
    ``point_class``: (n_points,) the class of each point.
    """

    cover: sp.csr_matrix
    weight: np.ndarray
    point_class: np.ndarray

    @property
    def n_classes(self) -> int:
        return int(self.weight.size)


@dataclass(frozen=True)
class Selection:
    """A chosen set of candidates and how good it is.

    ``chosen``: (n_candidates,) bool; ``cost``; ``covered_weight`` and ``covered_fraction`` (of the
    total demand); ``objective`` (covered weight or cost, as the problem says); ``bound``: the best
    bound known on the objective (LP relaxation, or HiGHS's MIP bound when better); ``gap``:
    |objective - bound| / |objective| (0 = proven optimal); ``status`` ("optimal", "time_limit",
    "greedy"); ``seconds``; ``method``.
    """

    chosen: np.ndarray
    cost: float
    covered_weight: float
    covered_fraction: float
    objective: float
    bound: float
    gap: float
    status: str
    seconds: float
    method: str


def demand_classes(cover, weight) -> DemandClasses:
    """Group demand points with identical coverage sets.

    Parameters
    ----------
    cover : sparse matrix or array_like of bool, shape (n_points, n_candidates)
        ``cover[p, c]``: candidate c serves point p.
    weight : array_like, shape (n_points,)
        Demand of each point, >= 0.

    Returns
    -------
    DemandClasses

    Notes
    -----
    Rows are grouped by two independent 64-bit hashes of their sorted column indices (random odd
    multipliers, wrapping arithmetic), then checked: a hash collision merging two different rows
    would raise, not pass silently.

    Examples
    --------
    >>> d = demand_classes(np.array([[1, 0], [1, 0], [0, 1], [0, 0]], bool), [1.0, 2.0, 3.0, 4.0])
    >>> d.n_classes, d.weight.tolist(), d.point_class.tolist()
    (3, [4.0, 3.0, 3.0], [1, 1, 2, 0])
    """
    c = sp.csr_matrix(cover, dtype=bool)
    c.sum_duplicates()
    c.sort_indices()
    w = np.asarray(weight, dtype=float).ravel()
    if w.size != c.shape[0]:
        raise ValueError(f"weight has {w.size} values for {c.shape[0]} demand points")
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise ValueError("demand weights must be finite and >= 0")
    rng = np.random.default_rng(12345)
    m1, m2 = (rng.integers(1, 2**62, size=c.shape[1], dtype=np.int64) * 2 + 1 for _ in range(2))
    with np.errstate(over="ignore"):
        rows = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))
        h1 = np.zeros(c.shape[0], dtype=np.int64)
        h2 = np.zeros(c.shape[0], dtype=np.int64)
        np.add.at(h1, rows, m1[c.indices])
        np.add.at(h2, rows, m2[c.indices] * (c.indices.astype(np.int64) + 7))
    nnz = np.diff(c.indptr).astype(np.int64)
    keys = np.column_stack([nnz, h1, h2])
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    classes = c[first]
    # collision check: every point's row must equal its class's row
    if (c != classes[inverse]).nnz:
        raise RuntimeError("hash collision while grouping demand points (please report)")
    return DemandClasses(cover=sp.csr_matrix(classes), weight=np.bincount(inverse, weights=w, minlength=first.size),
                         point_class=inverse)


def _covered(classes: DemandClasses, chosen: np.ndarray) -> float:
    hit = classes.cover @ chosen.astype(np.int8) > 0
    return float(classes.weight[np.asarray(hit).ravel()].sum())


def _check(classes: DemandClasses, cost, fixed) -> tuple[np.ndarray, np.ndarray]:
    n = classes.cover.shape[1]
    cost = np.asarray(cost, dtype=float).ravel()
    if cost.size != n:
        raise ValueError(f"cost has {cost.size} values for {n} candidates")
    if np.any(~np.isfinite(cost)) or np.any(cost < 0):
        raise ValueError("candidate costs must be finite and >= 0")
    fixed = np.zeros(n, bool) if fixed is None else np.asarray(fixed, dtype=bool).ravel()
    if fixed.size != n:
        raise ValueError(f"fixed has {fixed.size} values for {n} candidates")
    return cost, fixed


def _solve(classes: DemandClasses, cost: np.ndarray, fixed: np.ndarray, objective: Objective, *,
           budget: float | None, target_weight: float | None, integer: bool, time_limit_s: float,
           start: np.ndarray | None = None):
    """Build and solve the model; returns (x, status, objective value, MIP bound, seconds), the
    values in the problem's own sense (covered weight or cost). ``start``: a feasible choice of
    candidates handed to HiGHS as its first incumbent."""
    n_c = cost.size
    a = classes.cover.tocsc().astype(float)                    # (n_k, n_c)
    n_k = a.shape[0]
    w = classes.weight
    # columns: x (n_c) then y (n_k); rows: y_k - sum x_c <= 0 (n_k), then the budget or target row
    link = sp.hstack([-a, sp.identity(n_k, format="csc")], format="csc")
    if objective == "max_coverage":
        extra = np.concatenate([cost, np.zeros(n_k)])
        row_lo, row_hi = -np.inf, float(budget)
        col_cost = np.concatenate([np.zeros(n_c), -w])               # maximise w . y
    else:
        extra = np.concatenate([np.zeros(n_c), w])
        row_lo, row_hi = float(target_weight), np.inf
        col_cost = np.concatenate([cost, np.zeros(n_k)])
    x0 = None
    if start is not None:
        x0 = np.concatenate([start.astype(float), np.asarray(classes.cover @ start.astype(np.int8) > 0).ravel()])
    res = highs.solve(col_cost, np.concatenate([fixed.astype(float), np.zeros(n_k)]), np.ones(n_c + n_k),
                      sp.vstack([link, sp.csr_matrix(extra[None, :])], format="csc"),
                      np.concatenate([np.full(n_k, -np.inf), [row_lo]]), np.concatenate([np.zeros(n_k), [row_hi]]),
                      integer=np.arange(n_c + n_k) < n_c if integer else None, time_limit_s=time_limit_s, start=x0)
    sign = -1.0 if objective == "max_coverage" else 1.0
    x = res.x[:n_c] if res.x is not None else None
    return x, res.status, sign * res.objective, sign * res.mip_bound, res.seconds


def _result(classes, cost, chosen, objective: Objective, bound: float, status: str, seconds: float,
            method: str) -> Selection:
    covered = _covered(classes, chosen)
    total = float(classes.weight.sum())
    value = covered if objective == "max_coverage" else float(cost[chosen].sum())
    gap = abs(value - bound) / abs(value) if value else (0.0 if bound == value else math.inf)
    return Selection(chosen=chosen, cost=float(cost[chosen].sum()), covered_weight=covered,
                     covered_fraction=covered / total if total else math.nan, objective=value, bound=bound,
                     gap=float(gap), status=status, seconds=seconds, method=method)


def select_sites(classes: DemandClasses, cost, *, objective: Objective, budget: float | None = None,
                 target_fraction: float | None = None, fixed=None, time_limit_s: float = 60.0) -> Selection:
    """Choose candidates by mixed-integer programming (HiGHS), with the LP bound and the gap.

    Parameters
    ----------
    classes : DemandClasses
        From :func:`demand_classes`.
    cost : array_like, shape (n_candidates,)
        Cost of building (or upgrading) each candidate, >= 0.
    objective : {"max_coverage", "min_cost"}
        Maximise covered demand within ``budget``, or minimise cost to reach ``target_fraction``.
    budget : float, optional
        Required for ``max_coverage``.
    target_fraction : float, optional
        Share of the total demand to cover, in [0, 1]; required for ``min_cost``.
    fixed : array_like of bool, optional
        Candidates that must be built (existing sites).
    time_limit_s : float, default 60
        Time limit of the whole solve (greedy start, LP relaxation, MILP); on reaching it the best
        plan found (at worst the greedy one, which HiGHS starts from) is returned with status
        "time_limit" and the best bound known.

    Returns
    -------
    Selection

    Raises
    ------
    InfeasibleTargetError
        ``min_cost``: the target exceeds what all candidates together cover (the message names the
        target and the best achievable share); ``max_coverage``: the fixed sites alone exceed the budget.
    """
    cost, fixed = _check(classes, cost, fixed)
    total = float(classes.weight.sum())
    if objective == "max_coverage":
        if budget is None or not budget >= 0:
            raise ValueError(f"max_coverage needs budget >= 0, got {budget}")
        if cost[fixed].sum() > budget + 1e-9:
            raise InfeasibleTargetError(f"budget {budget:g} is below the cost of the fixed (existing) sites, "
                                        f"{cost[fixed].sum():g}")
        target_weight = None
    elif objective == "min_cost":
        if target_fraction is None or not 0.0 <= target_fraction <= 1.0:
            raise ValueError(f"min_cost needs target_fraction in [0, 1], got {target_fraction}")
        best = _covered(classes, np.ones(cost.size, bool))
        target_weight = target_fraction * total
        if best < target_weight * (1 - 1e-12):
            raise InfeasibleTargetError(
                f"coverage target {100 * target_fraction:.4g} % of demand cannot be reached: building every "
                f"candidate covers {100 * best / total:.4g} %")
    else:
        raise ValueError(f"objective must be 'max_coverage' or 'min_cost', got {objective!r}")
    t0 = time.perf_counter()
    start = greedy(classes, cost, objective=objective, budget=budget, target_fraction=target_fraction,
                   fixed=fixed).chosen                                # a feasible incumbent from the outset
    _, lp_status, lp_value, _, _ = _solve(classes, cost, fixed, objective, budget=budget,
                                          target_weight=target_weight, integer=False, time_limit_s=time_limit_s)
    if lp_status != "optimal":                 # no proven LP value: no bound from it
        lp_value = math.inf if objective == "max_coverage" else -math.inf
    remaining = max(1.0, time_limit_s - (time.perf_counter() - t0))
    x, status, _, mip_bound, seconds = _solve(classes, cost, fixed, objective, budget=budget,
                                              target_weight=target_weight, integer=True, time_limit_s=remaining,
                                              start=start)
    seconds = time.perf_counter() - t0
    chosen = x > 0.5 if x is not None else start
    if x is not None and objective == "max_coverage" and _covered(classes, start) > _covered(classes, chosen):
        chosen = start
    if x is not None and objective == "min_cost" and cost[start].sum() < cost[chosen].sum():
        chosen = start
    if objective == "max_coverage":            # an upper bound on the covered demand
        bound = min(lp_value, mip_bound) if math.isfinite(mip_bound) else lp_value
        bound = max(bound, _covered(classes, chosen))
    else:                                      # a lower bound on the cost
        bound = max(lp_value, mip_bound) if math.isfinite(mip_bound) else lp_value
        bound = min(bound, float(cost[chosen].sum()))
    return _result(classes, cost, chosen, objective, bound, status, seconds, "milp-highs")


class MarginalGain:
    """Demand covered so far, and the candidates in order of newly covered demand per unit cost.

    The queue is lazy (Minoux 1978): a candidate's gain can only shrink as others are built, so a
    popped candidate whose recomputed ratio still beats the next stored one is the true best. Ties
    go to the cheaper candidate, then the lower index. Shared by :func:`greedy` and
    :func:`cellscape.planning.rollout.rollout_order`.
    """

    def __init__(self, classes: DemandClasses, cost: np.ndarray, candidates: np.ndarray):
        self._csc = classes.cover.tocsc()
        self._w = classes.weight
        self._cost = cost
        self.covered = np.zeros(classes.n_classes, bool)
        self._heap = [(-self.gain(c) / max(cost[c], 1e-12), float(cost[c]), int(c)) for c in candidates]
        heapq.heapify(self._heap)

    def _rows(self, c: int) -> np.ndarray:
        return self._csc.indices[self._csc.indptr[c]:self._csc.indptr[c + 1]]

    def gain(self, c: int) -> float:
        """Demand ``c`` would newly cover."""
        rows = self._rows(c)
        return float(self._w[rows[~self.covered[rows]]].sum())

    def take(self, c: int) -> None:
        """Count ``c`` as built."""
        self.covered[self._rows(c)] = True

    @property
    def covered_weight(self) -> float:
        return float(self._w[self.covered].sum())

    def pop(self) -> int | None:
        """Remove and return the queued candidate with the best current ratio (None when empty)."""
        while self._heap:
            _, cost_c, c = heapq.heappop(self._heap)
            key = (-self.gain(c) / max(cost_c, 1e-12), cost_c, c)
            if self._heap and key > self._heap[0]:
                heapq.heappush(self._heap, key)                      # stale: re-queue with its real gain
                continue
            return c
        return None


def greedy(classes: DemandClasses, cost, *, objective: Objective, budget: float | None = None,
           target_fraction: float | None = None, fixed=None) -> Selection:
    """The greedy baseline: repeatedly build the candidate with the largest newly covered demand
    per unit cost (:class:`MarginalGain`), until the budget is spent (``max_coverage``: candidates
    that no longer fit are skipped) or the target is reached (``min_cost``).

    The bound reported is the LP-free trivial one (the objective itself) and the gap 0 is *not* a
    proof: compare with :func:`select_sites`.
    """
    cost, fixed = _check(classes, cost, fixed)
    t = time.perf_counter()
    chosen = fixed.copy()
    queue = MarginalGain(classes, cost, np.flatnonzero(~fixed))
    for c in np.flatnonzero(fixed):
        queue.take(c)
    total = float(classes.weight.sum())
    spent = float(cost[chosen].sum())
    target = None if target_fraction is None else target_fraction * total
    while objective != "min_cost" or queue.covered_weight < target * (1 - 1e-12):
        c = queue.pop()
        if c is None or queue.gain(c) <= 0:
            break
        if objective == "max_coverage" and spent + cost[c] > budget + 1e-9:
            continue                                                 # does not fit; try cheaper ones
        chosen[c] = True
        spent += float(cost[c])
        queue.take(c)
    got = queue.covered_weight
    if objective == "min_cost" and got < target * (1 - 1e-12):
        raise InfeasibleTargetError(f"coverage target {100 * target_fraction:.4g} % of demand cannot be reached: "
                                    f"building every candidate covers {100 * got / total:.4g} %")
    sel = _result(classes, cost, chosen, objective, math.nan, "greedy", time.perf_counter() - t, "greedy")
    return Selection(**{**sel.__dict__, "bound": sel.objective, "gap": math.nan})
