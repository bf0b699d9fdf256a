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

**Capacity** (optional, ``capacity=``): each candidate c can carry ``capacity[c]`` units of load
(e.g. sectors x the highest admissible load share) and point p would take ``need[p, c]`` of them if c
served it (traffic / rate). The model becomes an assignment model (the capacitated maximal covering
problem, Current & Storbeck 1988): continuous z_kc in [0, 1] for each (class, covering candidate),
sum_c z_kc = y_k (the served share of class k), z_kc <= x_c, sum_k need_kc z_kc <= capacity_c x_c.
A class is split across candidates as a whole (the same share of each of its points), so when the
points of one class have needs that are not proportional to their weights the model is a
restriction of the per-point one: the demand it serves is always servable, it may miss a little
that a per-point split would serve. Served shares are fluid (a point may be partly served).

**Closest assignment** (optional, ``demand_classes(..., rank=)``): with each point's preference
among its candidates (1 = strongest), classes are grouped by pattern and order, and one row per
(class, candidate) entry e, sum over the entries ranked at or above e of z - x_c(e) >= 0 (Wagner &
Falkson 1975; Church & Cohon 1976), makes every covered class fully served by its most preferred
built candidate, as a UE attaches to its strongest cell: no load is moved to a weaker cell to spare
a full one. The greedy start ignores it and is dropped when it breaks it. Checked against brute
force over all subsets (tests/planning/test_selection_capacity.py).

Demand points that the same set of candidates covers are one *class* (:func:`demand_classes`): the
model has one y per class, not per pixel, which turns a million pixels into the tens of thousands of
distinct coverage patterns a city has. Points covered by no candidate are kept as a class with no
candidate (never covered), so fractions are always of the total demand.

Solving. Small models (at most ``_FULL_MILP_MAX_CANDIDATES`` candidates, or any capacitated
model) are solved whole by HiGHS from the greedy plan, after the LP relaxation, so that a proof of
optimality is possible. Large uncapacitated models use a kernel search (Angelelli, Mansini &
Speranza 2010): for ``min_cost``, the greedy plan first improved by an add-drop local search
(build one site, drop those no longer needed); the LP relaxation by HiGHS's first-order solver
(PDLP), whose duals give a Lagrangian bound on the full model that this module computes and
checks itself (Fisher 1981, see :mod:`cellscape.planning._lagrange`); then the MILP restricted to
the *kernel* (the candidates the LP uses, the start plan and the fixed sites), solved by HiGHS from
the start plan; then a clean-up (add-drop again, drop redundant sites, spend what the budget
leaves). On coverage sets with a deep overlap (the engine-derived benchmark: 3-sector sites, a
median of 13 candidates per class) the LP bound itself is some 8-9 % below the best plans found
and HiGHS's root cuts hardly move it, so the reported gap is then mostly the bound's. The bound
reported is always valid for the whole model: HiGHS's MIP bound only when the MILP was the whole
model, else the LP or Lagrangian one. :func:`greedy` is the marginal-gain-per-cost baseline to
compare with.

References
----------
.. [1] R. Church, C. ReVelle, "The maximal covering location problem," Papers of the Regional
   Science Association 32, 1974.
.. [2] C. Toregas, R. Swain, C. ReVelle, L. Bergman, "The location of emergency service
   facilities," Operations Research 19(6), 1971.
.. [3] J. R. Current, J. E. Storbeck, "Capacitated covering models," Environment and Planning B 15, 1988.
.. [4] M. L. Fisher, "The Lagrangian relaxation method for solving integer programming problems,"
   Management Science 27(1), 1981.
.. [5] J. E. Beasley, "A Lagrangian heuristic for set-covering problems," Naval Research Logistics
   37(1), 1990.
.. [6] E. Angelelli, R. Mansini, M. G. Speranza, "Kernel search: a general heuristic for the
   multi-dimensional knapsack problem," Computers & Operations Research 37(11), 2010.
.. [7] D. Applegate et al., "Practical large-scale linear programming using primal-dual hybrid
   gradient," NeurIPS 2021 (PDLP, the first-order LP method HiGHS implements).
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
from cellscape.planning._lagrange import LinkingRelaxation

Objective = Literal["max_coverage", "min_cost"]

_FULL_MILP_MAX_CANDIDATES = 400
"""Above this many candidates an uncapacitated model goes through the kernel search; the HiGHS MILP of
the whole model stalls in its root cut loop on the city-scale benchmark (2,000 candidates, 70 k
classes), while a kernel of about 400 candidates is solved to optimality in about a minute."""
_KERNEL_MAX_CANDIDATES = 400
"""Largest kernel: the fixed and greedy sites, then the LP's candidates by decreasing LP value."""
_LP_TIME_SHARE = 0.4
"""Share of the remaining time the LP relaxation of a large model may take."""
_SUBGRADIENT_TIME_SHARE = 0.1
"""Share of the time limit the subgradient steps may take when the LP duals are not tight."""
_LOCAL_TIME_SHARE = 0.05
"""Share of the time left that the local search on the greedy start may take (:func:`_add_drop`)."""
MIP_REL_GAP = 1e-6
"""Relative gap at which HiGHS stops, and within which this module calls a plan "optimal": its
re-computed value and the best valid bound known may differ by this share (or by
:data:`MIP_ABS_GAP`), HiGHS's own tolerance (its ``mip_abs_gap`` default is 1e-6)."""
MIP_ABS_GAP = 1e-6
"""Absolute gap within which a plan is "optimal" [objective units] (HiGHS's ``mip_abs_gap``)."""


class InfeasibleTargetError(CellscapeError, ValueError):
    """A coverage target no choice of candidates can reach; the message gives the best achievable value.

    ``target_index``: which target (position in ``target_fraction``; None for a budget) and
    ``achievable_fraction``: the best share of that target's weight reachable, for callers that
    name the targets in their own words."""

    target_index: int | None = None
    achievable_fraction: float | None = None


def _infeasible(message: str, target_index: int | None = None, achievable: float | None = None):
    err = InfeasibleTargetError(message)
    err.target_index, err.achievable_fraction = target_index, achievable
    return err


@dataclass(frozen=True)
class DemandClasses:
    """Demand points grouped by the set of candidates that covers them.

    ``cover``: (n_classes, n_candidates) CSR bool; ``weight``: (n_classes,) summed demand;
    ``point_class``: (n_points,) the class of each point; ``group_weight``: None, or (n_classes,
    n_groups) when the points carry several weights (area, users, ...), ``weight`` being its first
    column; ``need``: None, or (n_classes,
    n_candidates) CSR float with the same indices as ``cover`` (row by row, explicit zeros kept): the
    summed need of the class's points on each covering candidate (capacity units, see
    :func:`demand_classes`).
    """

    cover: sp.csr_matrix
    weight: np.ndarray
    point_class: np.ndarray
    need: sp.csr_matrix | None = None
    group_weight: np.ndarray | None = None
    rank: sp.csr_matrix | None = None

    @property
    def n_classes(self) -> int:
        return int(self.weight.size)


@dataclass(frozen=True)
class Selection:
    """A chosen set of candidates and how good it is.

    ``chosen``: (n_candidates,) bool; ``cost``; ``covered_weight`` and ``covered_fraction`` (of the
    total demand; with capacity, the demand the chosen sites can serve, :func:`served_demand`);
    ``objective`` (covered weight or cost, as the problem says); ``bound``: the best bound known on
    the objective of the whole model, valid whatever the status; ``gap``: |objective - bound| /
    |objective| (0 = proven optimal); ``status``: "optimal" (proven: the plan's re-computed value
    meets ``bound`` within :data:`MIP_REL_GAP`, HiGHS's tolerance), "time_limit" (stopped by the
    time limit), "feasible" (finished before the limit without a proof: the kernel MILP was solved
    but not the whole model, or HiGHS's answers contradicted themselves and were discarded) or
    "greedy"; ``seconds``;
    ``method``; ``bound_kind``: where the bound comes from: "milp" (HiGHS's MIP dual bound on the
    whole model), "lp" (HiGHS's LP relaxation of the whole model), "lagrangian" (L(u) of
    :mod:`cellscape.planning._lagrange`, evaluated here from LP duals or subgradient steps) or
    "none" (no bound computed: +-inf, or the objective itself for greedy).
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
    bound_kind: str = "none"


@dataclass(frozen=True)
class Service:
    """What a set of built candidates serves under capacity (:func:`served_demand`).

    ``served_weight`` and ``served_fraction`` (of the total demand); ``class_share``: (n_classes,)
    the served share of each class in [0, 1]; ``load``: (n_candidates,) capacity used on each
    candidate (0 where not built) [capacity units].
    """

    served_weight: float
    served_fraction: float
    class_share: np.ndarray
    load: np.ndarray


def demand_classes(cover, weight, need=None, rank=None) -> DemandClasses:
    """Group demand points with identical coverage sets.

    Parameters
    ----------
    cover : sparse matrix or array_like of bool, shape (n_points, n_candidates)
        ``cover[p, c]``: candidate c serves point p.
    weight : array_like, shape (n_points,) or (n_points, n_groups)
        Demand of each point, >= 0; several columns when targets count different things (the
        first column is the ``weight`` that maximum coverage maximises).
    need : sparse matrix or array_like of float, shape (n_points, n_candidates), optional
        Share of candidate c's capacity that point p takes if c serves it (e.g. traffic_p /
        rate_{p,c}) [capacity units], >= 0, nonzero only where ``cover`` is True (missing entries
        are 0). Summed per class, aligned with the class's ``cover`` row. The grouping itself is by
        coverage pattern only.
    rank : sparse matrix of int, shape (n_points, n_candidates), optional
        Preference of each point among its covering candidates, 1 = strongest (same pattern as
        ``cover``). Points are then grouped by coverage pattern *and* order, and the capacity model
        serves every covered class by its most preferred built candidate (closest assignment,
        :func:`select_sites`).

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
    >>> d = demand_classes(np.array([[1, 1], [1, 1]], bool), [1.0, 1.0], need=np.array([[0.5, 0.2], [0.1, 0.0]]))
    >>> d.need.toarray().tolist()
    [[0.6, 0.2]]
    """
    c = sp.csr_matrix(cover, dtype=bool)
    c.sum_duplicates()
    c.eliminate_zeros()
    c.sort_indices()
    w = np.asarray(weight, dtype=float)
    w = w.reshape(-1, 1) if w.ndim <= 1 else w                          # (n_points, n_groups)
    if w.ndim != 2 or w.shape[0] != c.shape[0] or w.shape[1] == 0:
        raise ValueError(f"weight has {w.shape[0] if w.ndim else 1} values for {c.shape[0]} demand points")
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise ValueError("demand weights must be finite and >= 0")
    if rank is not None:
        return _ranked_classes(c, w, need, rank)
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
    classes = sp.csr_matrix(c[first])
    classes.sort_indices()
    # collision check: every point's row must equal its class's row
    if (c != classes[inverse]).nnz:
        raise RuntimeError("hash collision while grouping demand points (please report)")
    class_need = None if need is None else _class_need(c, classes, inverse, need)
    group = np.column_stack([np.bincount(inverse, weights=w[:, g], minlength=first.size) for g in range(w.shape[1])])
    return DemandClasses(cover=classes, weight=group[:, 0].copy(), point_class=inverse, need=class_need,
                         group_weight=group if w.shape[1] > 1 else None)


def _ranked_classes(c: sp.csr_matrix, w: np.ndarray, need, rank) -> DemandClasses:
    """Classes by coverage pattern and preference order: the (candidate, rank) pairs of a point are
    the columns of an expanded pattern grouped as usual, then mapped back."""
    r = sp.csr_matrix(rank)
    r.sum_duplicates()
    r.sort_indices()
    if r.shape != c.shape or r.nnz != c.nnz or np.any(r.indices != c.indices) or np.any(r.indptr != c.indptr):
        raise ValueError("rank must have an entry (1 = strongest) exactly where cover is True")
    k_max = int(r.data.max(initial=1))
    if np.any(r.data < 1):
        raise ValueError("rank values start at 1 (the strongest candidate)")
    rows = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))
    wide = sp.csr_matrix((np.ones(c.nnz, bool), (rows, c.indices.astype(np.int64) * k_max + r.data.astype(np.int64) - 1)),
                         shape=(c.shape[0], c.shape[1] * k_max))
    g = demand_classes(wide, w)
    cw = g.cover.tocoo()
    order = np.lexsort((cw.col // k_max, cw.row))
    cand, rk, crow = (cw.col // k_max)[order], (cw.col % k_max + 1)[order], cw.row[order]
    cover = sp.csr_matrix((np.ones(cand.size, bool), (crow, cand)), shape=(g.n_classes, c.shape[1]))
    cover.sort_indices()
    class_rank = sp.csr_matrix((rk.astype(np.int64), (crow, cand)), shape=cover.shape)
    class_rank.sort_indices()
    class_need = None if need is None else _class_need(c, cover, g.point_class, need)
    return DemandClasses(cover=cover, weight=g.weight, point_class=g.point_class, need=class_need,
                         group_weight=g.group_weight, rank=class_rank)


def _class_need(c: sp.csr_matrix, classes: sp.csr_matrix, inverse: np.ndarray, need) -> sp.csr_matrix:
    """Sum the points' ``need`` per class, aligned entry by entry with ``classes`` (explicit zeros kept)."""
    n = sp.csr_matrix(need, dtype=float)
    if n.shape != c.shape:
        raise ValueError(f"need has shape {n.shape}, cover has {c.shape}")
    n.sum_duplicates()
    n.eliminate_zeros()
    n.sort_indices()
    if np.any(~np.isfinite(n.data)) or np.any(n.data < 0):
        raise ValueError("need must be finite and >= 0")
    # linear keys (row * n_c + col) of the cover's and the need's entries, both sorted (CSR, sorted indices)
    n_c = np.int64(c.shape[1])
    c_keys = np.repeat(np.arange(c.shape[0], dtype=np.int64), np.diff(c.indptr)) * n_c + c.indices
    n_keys = np.repeat(np.arange(n.shape[0], dtype=np.int64), np.diff(n.indptr)) * n_c + n.indices
    pos = np.searchsorted(c_keys, n_keys)
    if n_keys.size and (np.any(pos >= c_keys.size) or np.any(c_keys[np.minimum(pos, c_keys.size - 1)] != n_keys)):
        raise ValueError("need has entries where cover is False: a candidate that does not cover a point "
                         "cannot serve it")
    point_data = np.zeros(c_keys.size)
    point_data[pos] = n.data                                          # (cover nnz,) aligned with c
    # entry j of point p's row is entry j of its class's row (same sorted indices)
    rows = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))
    within = np.arange(c_keys.size) - c.indptr[rows]
    target = classes.indptr[inverse[rows]] + within
    data = np.bincount(target, weights=point_data, minlength=classes.nnz)
    return sp.csr_matrix((data, classes.indices.copy(), classes.indptr.copy()), shape=classes.shape)


def _covered(classes: DemandClasses, chosen: np.ndarray) -> float:
    hit = classes.cover @ chosen.astype(np.int8) > 0
    return float(classes.weight[np.asarray(hit).ravel()].sum())


def served_demand(classes: DemandClasses, chosen, capacity=None) -> Service:
    """The demand a set of built candidates serves, each within its capacity.

    Without ``capacity``: every covered class is served in full. With it: the largest served demand
    over all splits of the classes across the built candidates covering them, max sum_k w_k y_k with
    y_k = sum_c z_kc <= 1, sum_k need_kc z_kc <= capacity_c (a linear program, solved by HiGHS).

    Parameters
    ----------
    classes : DemandClasses
        With ``need`` when ``capacity`` is given.
    chosen : array_like of bool, shape (n_candidates,)
        The built candidates.
    capacity : array_like, shape (n_candidates,), optional
        Capacity of each candidate [capacity units, those of ``need``], >= 0.

    Returns
    -------
    Service

    Examples
    --------
    >>> d = demand_classes(np.array([[1], [1]], bool), [1.0, 1.0], need=np.array([[0.6], [0.6]]))
    >>> served_demand(d, [True], [1.0]).served_weight  # room for one point and two thirds of the other
    1.6666666666666667
    """
    chosen = np.asarray(chosen, dtype=bool).ravel()
    n_c = classes.cover.shape[1]
    if chosen.size != n_c:
        raise ValueError(f"chosen has {chosen.size} values for {n_c} candidates")
    total = float(classes.weight.sum())
    if capacity is None:
        hit = np.asarray(classes.cover @ chosen.astype(np.int8) > 0).ravel()
        served = float(classes.weight[hit].sum())
        return Service(served, served / total if total else math.nan, hit.astype(float), np.zeros(n_c))
    cap = _check_capacity(classes, capacity)
    share, load, _ = _serve(classes, chosen, cap, classes.weight)
    served = float(classes.weight @ share)
    return Service(served, served / total if total else math.nan, share, load)


def _serve(classes: DemandClasses, chosen: np.ndarray, cap: np.ndarray, value: np.ndarray,
           tw: np.ndarray | None = None, targets: np.ndarray | None = None):
    """The serving LP of a built set: max value . y, y_k = sum_c z_kc <= 1, capacity rows, and
    optionally target rows tw^T y >= targets. Returns (share (n_k,), load (n_c,), z per cover
    entry), or None when the target rows cannot hold."""
    cover, need = classes.cover, classes.need
    n_k, n_c = cover.shape
    rows = np.repeat(np.arange(n_k), np.diff(cover.indptr))                      # (nnz,) class of each entry
    keep = np.flatnonzero(chosen[cover.indices])                                 # entries on built candidates
    z = np.zeros(cover.nnz)
    if keep.size == 0:
        if targets is not None and np.any(targets > 0):
            return None
        return np.zeros(n_k), np.zeros(n_c), z
    k, c, nd = rows[keep], cover.indices[keep], need.data[keep]
    e = np.arange(keep.size)
    blocks = [sp.csr_matrix((np.ones(keep.size), (k, e)), shape=(n_k, keep.size)),
              sp.csr_matrix((nd, (c, e)), shape=(n_c, keep.size))]
    lo, hi = [np.full(n_k + n_c, -np.inf)], [np.concatenate([np.ones(n_k), cap])]
    if targets is not None:
        blocks.append(sp.csr_matrix(tw[k].T))                                    # (n_t, n_z)
        lo.append(np.asarray(targets, dtype=float))
        hi.append(np.full(len(targets), np.inf))
    res = highs.solve(-value[k], np.zeros(keep.size), np.ones(keep.size), sp.vstack(blocks, format="csc"),
                      np.concatenate(lo), np.concatenate(hi), time_limit_s=math.inf)
    if targets is not None and res.status != "optimal":
        return None
    if res.x is None or res.status != "optimal":
        raise RuntimeError(f"HiGHS could not solve the served-demand LP: {res.status}")
    z[keep] = np.clip(res.x, 0.0, 1.0)
    share = np.minimum(np.bincount(k, weights=z[keep], minlength=n_k), 1.0)
    load = np.bincount(c, weights=nd * z[keep], minlength=n_c)
    return share, load, z


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


def _check_capacity(classes: DemandClasses, capacity) -> np.ndarray:
    n = classes.cover.shape[1]
    if classes.need is None:
        raise ValueError("capacity needs demand classes with a need: demand_classes(cover, weight, need=...)")
    cap = np.asarray(capacity, dtype=float).ravel()
    if cap.size != n:
        raise ValueError(f"capacity has {cap.size} values for {n} candidates")
    if np.any(~np.isfinite(cap)) or np.any(cap < 0):
        raise ValueError("capacities must be finite and >= 0")
    return cap


@dataclass(frozen=True)
class _Problem:
    """One instance in the minimised sense: what is fixed, the objective and its right-hand side."""

    classes: DemandClasses
    cost: np.ndarray
    fixed: np.ndarray
    objective: Objective
    budget: float | None
    targets: np.ndarray | None
    tw: np.ndarray | None
    capacity: np.ndarray | None
    """``targets``: (n_targets,) weights to reach (min_cost), one per column of ``tw`` (n_classes,
    n_targets), the weights each target counts."""

    @property
    def target_weight(self) -> float:
        return float(self.targets[0])

    def value(self, chosen: np.ndarray) -> float:
        """Objective of a plan in the problem's own sense (covered/served weight or cost)."""
        if self.objective == "min_cost":
            return float(self.cost[chosen].sum())
        return self.served(chosen)

    def served(self, chosen: np.ndarray) -> float:
        """Covered (with capacity: best served) weight of the first group; with several targets,
        served subject to all of them when they can hold."""
        if self.capacity is None:
            return _covered(self.classes, chosen)
        if self.targets is not None and self.targets.size > 1:
            got = _serve(self.classes, chosen, self.capacity, self.classes.weight, self.tw, self.targets * (1 - 1e-9))
            if got is not None:
                return float(self.classes.weight @ got[0])
        return served_demand(self.classes, chosen, self.capacity).served_weight

    def better(self, a: float, b: float) -> bool:
        """Is objective value a strictly better than b."""
        return a < b - 1e-9 * max(1.0, abs(b)) if self.objective == "min_cost" else a > b + 1e-9 * max(1.0, abs(b))

    def closest_loads(self, chosen: np.ndarray) -> np.ndarray:
        """Load of each candidate when every covered class goes to its most preferred built
        candidate (closest assignment; needs ``classes.rank``)."""
        c = self.classes
        a = c.cover.tocsr()
        built = np.asarray(chosen, dtype=bool)[a.indices]
        rk = np.where(built, c.rank.data, np.iinfo(np.int64).max)
        load = np.zeros(self.cost.size)
        for k in range(a.shape[0]):
            lo, hi = a.indptr[k], a.indptr[k + 1]
            if hi > lo and built[lo:hi].any():
                e = lo + int(np.argmin(rk[lo:hi]))
                load[a.indices[e]] += c.need.data[e]
        return load

    def feasible(self, chosen: np.ndarray) -> bool:
        if self.classes.rank is not None and self.capacity is not None:
            if np.any(self.closest_loads(chosen) > self.capacity * (1 + 1e-9) + 1e-12):
                return False
            if self.objective == "min_cost":
                hit = np.asarray(self.classes.cover @ chosen.astype(np.int8) > 0).ravel()
                tw = self.tw if self.tw is not None else self.classes.weight[:, None]
                return bool(np.all(tw[hit].sum(axis=0) >= self.targets * (1 - 1e-9)))
            return float(self.cost[chosen].sum()) <= self.budget + 1e-9
        if self.objective == "min_cost":
            if self.capacity is None:
                hit = np.asarray(self.classes.cover @ chosen.astype(np.int8) > 0).ravel()
                return bool(np.all(self.tw[hit].sum(axis=0) >= self.targets * (1 - 1e-12)))
            if self.targets.size == 1:
                return self.served(chosen) >= self.target_weight * (1 - 1e-9)
            return _serve(self.classes, chosen, self.capacity, self.classes.weight, self.tw,
                          self.targets * (1 - 1e-9)) is not None
        return float(self.cost[chosen].sum()) <= self.budget + 1e-9

    def restricted(self, keep: np.ndarray) -> _Problem:
        """The same problem over the candidates ``keep`` only (classes regrouped on them)."""
        c = self.classes
        sub = demand_classes(c.cover[:, keep], c.weight if self.tw is None else np.column_stack([c.weight, self.tw]),
                             need=None if c.need is None else c.need[:, keep])
        tw = None if self.tw is None else sub.group_weight[:, 1:]
        sub = DemandClasses(sub.cover, sub.weight, sub.point_class, sub.need, None)
        return _Problem(sub, self.cost[keep], self.fixed[keep], self.objective, self.budget, self.targets, tw,
                        None if self.capacity is None else self.capacity[keep])


def _model(pb: _Problem, start: np.ndarray | None):
    """The MILP of :mod:`this module <cellscape.planning.selection>` as HiGHS arrays (minimised).

    Columns: x (n_c), y (n_k) and, with capacity, z (one per cover entry); rows: the linking rows,
    with capacity the assignment rows, then the budget or target row. Returns the arguments of
    :func:`cellscape.planning._highs.solve`, the integer mask and the start vector (or None)."""
    n_c = pb.cost.size
    a = pb.classes.cover.astype(float)                                # (n_k, n_c) CSR
    n_k = a.shape[0]
    w = pb.classes.weight
    if pb.capacity is None:
        n_z = 0
        # y_k - sum_c a_kc x_c <= 0
        body = sp.hstack([-a.tocsc(), sp.identity(n_k, format="csc")], format="csc")
        body_lo, body_hi = np.full(n_k, -np.inf), np.zeros(n_k)
    else:
        n_z = a.nnz
        e = np.arange(n_z)
        k_of = np.repeat(np.arange(n_k), np.diff(a.indptr))          # (n_z,) class of each z
        c_of = a.indices                                             # (n_z,) candidate of each z
        need = pb.classes.need.data
        # sum_c z_kc - y_k = 0 (n_k) ; z_kc - x_c <= 0 (n_z) ; sum_k need_kc z_kc - cap_c x_c <= 0 (n_c)
        assign = sp.hstack([sp.csr_matrix((n_k, n_c)), -sp.identity(n_k), sp.csr_matrix((np.ones(n_z), (k_of, e)), shape=(n_k, n_z))])
        upper = sp.hstack([sp.csr_matrix((-np.ones(n_z), (e, c_of)), shape=(n_z, n_c)), sp.csr_matrix((n_z, n_k)), sp.identity(n_z)])
        cap_rows = sp.hstack([sp.diags(-pb.capacity), sp.csr_matrix((n_c, n_k)), sp.csr_matrix((need, (c_of, e)), shape=(n_c, n_z))])
        body = sp.vstack([assign, upper, cap_rows], format="csc")
        body_lo = np.concatenate([np.zeros(n_k), np.full(n_z + n_c, -np.inf)])
        body_hi = np.zeros(n_k + n_z + n_c)
        if pb.classes.rank is not None:
            # closest assignment (Wagner & Falkson 1975; Church & Cohon 1976): a class covered by a
            # built candidate is served, by its most preferred built one:
            # sum over entries ranked at or above e of z - x_c(e) >= 0, one row per entry e
            rk = pb.classes.rank.data
            rr, cc = [], []
            for k in range(n_k):
                lo, hi = a.indptr[k], a.indptr[k + 1]
                for entry in range(lo, hi):
                    better = np.arange(lo, hi)[rk[lo:hi] <= rk[entry]]
                    rr.extend([entry] * better.size)
                    cc.extend(better.tolist())
            closest = sp.hstack([sp.csr_matrix((-np.ones(n_z), (e, c_of)), shape=(n_z, n_c)), sp.csr_matrix((n_z, n_k)),
                                 sp.csr_matrix((np.ones(len(rr)), (rr, cc)), shape=(n_z, n_z))])
            body = sp.vstack([body, closest], format="csc")
            body_lo = np.concatenate([body_lo, np.zeros(n_z)])
            body_hi = np.concatenate([body_hi, np.full(n_z, np.inf)])
    n = n_c + n_k + n_z
    if pb.objective == "max_coverage":
        extra = np.concatenate([pb.cost, np.zeros(n_k + n_z)])[None, :]
        row_lo, row_hi = np.array([-np.inf]), np.array([float(pb.budget)])
        col_cost = np.concatenate([np.zeros(n_c), -w, np.zeros(n_z)])  # maximise w . y
    else:                                                              # one row per target: tw_g . y >= T_g
        extra = np.hstack([np.zeros((pb.targets.size, n_c)), pb.tw.T, np.zeros((pb.targets.size, n_z))])
        row_lo, row_hi = pb.targets.astype(float), np.full(pb.targets.size, np.inf)
        col_cost = np.concatenate([pb.cost, np.zeros(n_k + n_z)])
    matrix = sp.vstack([body, sp.csr_matrix(extra)], format="csc")
    x0 = None
    if start is not None:
        if pb.capacity is None:
            x0 = np.concatenate([start.astype(float), np.asarray(a @ start.astype(float) > 0).ravel()])
        else:
            x0 = np.concatenate([start.astype(float), _start_assignment(pb, start)])
    lower = np.concatenate([pb.fixed.astype(float), np.zeros(n_k + n_z)])
    args = (col_cost, lower, np.ones(n), matrix, np.concatenate([body_lo, row_lo]), np.concatenate([body_hi, row_hi]))
    return args, np.arange(n) < n_c, x0


def _start_assignment(pb: _Problem, chosen: np.ndarray) -> np.ndarray:
    """y and z of the best service of a built set (the serving LP), for a MILP start."""
    c = pb.classes
    got = None
    if pb.objective == "min_cost":
        got = _serve(c, chosen, pb.capacity, c.weight, pb.tw, pb.targets)
    if got is None:
        got = _serve(c, chosen, pb.capacity, c.weight)
    share, _, z = got
    return np.concatenate([share, z])


def _run(pb: _Problem, *, integer: bool, time_limit_s: float, start: np.ndarray | None = None,
         mip_rel_gap: float = MIP_REL_GAP, options: dict | None = None, known_bound: float | None = None):
    """Solve the model (or its LP relaxation); returns the HiGHS result with ``objective`` and
    ``mip_bound`` turned to the problem's own sense (covered weight or cost). ``known_bound``: a
    valid bound on the optimum in that sense (the LP relaxation's), against which HiGHS's answer is
    checked (:func:`cellscape.planning._highs.contradiction`)."""
    args, mask, x0 = _model(pb, start if integer else None)
    sign = -1.0 if pb.objective == "max_coverage" else 1.0
    res = highs.solve(*args, integer=mask if integer else None, time_limit_s=time_limit_s, start=x0,
                      mip_rel_gap=mip_rel_gap, options=options,
                      known_bound=None if known_bound is None else sign * known_bound)
    return res, sign * res.objective, sign * res.mip_bound


def _result(pb: _Problem, chosen, bound: float, status: str, seconds: float, method: str,
            bound_kind: str) -> Selection:
    served = pb.served(chosen)
    total = float(pb.classes.weight.sum())
    value = served if pb.objective == "max_coverage" else float(pb.cost[chosen].sum())
    gap = abs(value - bound) / abs(value) if value else (0.0 if bound == value else math.inf)
    return Selection(chosen=chosen, cost=float(pb.cost[chosen].sum()), covered_weight=served,
                     covered_fraction=served / total if total else math.nan, objective=value, bound=bound,
                     gap=float(gap), status=status, seconds=seconds, method=method, bound_kind=bound_kind)


def _problem(classes, cost, objective, budget, target_fraction, fixed, capacity) -> _Problem:
    """Validate the arguments of :func:`select_sites` / :func:`greedy`; raise on an infeasible target."""
    cost, fixed = _check(classes, cost, fixed)
    cap = None if capacity is None else _check_capacity(classes, capacity)
    targets = tw = None
    if objective == "max_coverage":
        if budget is None or not budget >= 0:
            raise ValueError(f"max_coverage needs budget >= 0, got {budget}")
        if cost[fixed].sum() > budget + 1e-9:
            raise InfeasibleTargetError(f"budget {budget:g} is below the cost of the fixed (existing) sites, "
                                        f"{cost[fixed].sum():g}")
    elif objective == "min_cost":
        fractions = np.atleast_1d(np.asarray(target_fraction if target_fraction is not None else np.nan, dtype=float))
        if fractions.ndim != 1 or np.any(~(fractions >= 0.0)) or np.any(fractions > 1.0):
            raise ValueError(f"min_cost needs target_fraction in [0, 1], got {target_fraction}")
        group = classes.weight[:, None] if classes.group_weight is None else classes.group_weight
        if fractions.size not in (1, group.shape[1]):
            raise ValueError(f"target_fraction has {fractions.size} values for {group.shape[1]} weight groups")
        tw = group[:, :fractions.size]                                    # (n_k, n_targets)
        totals = tw.sum(axis=0)
        targets = fractions * totals
        every = np.ones(cost.size, bool)
        hit = np.asarray(classes.cover @ every.astype(np.int8) > 0).ravel()
        covers = tw[hit].sum(axis=0)
        for g in range(targets.size):
            label = "" if targets.size == 1 else f" (target {g + 1} of {targets.size}, weight group {g + 1})"
            head = f"coverage target {100 * fractions[g]:.4g} % of demand{label} cannot be reached: "
            if covers[g] < targets[g] * (1 - 1e-12):
                raise _infeasible(head + f"building every candidate covers {100 * covers[g] / totals[g]:.4g} %",
                                  g, covers[g] / totals[g])
            if cap is not None:
                share, _, _ = _serve(classes, every, cap, tw[:, g])
                serves = float(tw[:, g] @ share)
                if serves < targets[g] * (1 - 1e-9):
                    raise _infeasible(
                        head + f"building every candidate covers {100 * covers[g] / totals[g]:.4g} % but serves only "
                        f"{100 * serves / totals[g]:.4g} % within capacity (capacity binds)", g, serves / totals[g])
        if cap is not None and targets.size > 1 and _serve(classes, every, cap, classes.weight, tw,
                                                           targets * (1 - 1e-9)) is None:
            raise InfeasibleTargetError(
                f"coverage targets {', '.join(f'{100 * f:.4g} %' for f in fractions)} cannot be reached together: "
                f"building every candidate serves each alone but not all at once within capacity (capacity binds)")
    else:
        raise ValueError(f"objective must be 'max_coverage' or 'min_cost', got {objective!r}")
    return _Problem(classes, cost, fixed, objective, budget, targets, tw, cap)


def select_sites(classes: DemandClasses, cost, *, objective: Objective, budget: float | None = None,
                 target_fraction: float | None = None, fixed=None, time_limit_s: float = 60.0,
                 capacity=None) -> Selection:
    """Choose candidates by mixed-integer programming (HiGHS), with a valid bound and the gap.

    Parameters
    ----------
    classes : DemandClasses
        From :func:`demand_classes` (with ``need`` when ``capacity`` is given).
    cost : array_like, shape (n_candidates,)
        Cost of building (or upgrading) each candidate, >= 0.
    objective : {"max_coverage", "min_cost"}
        Maximise covered demand within ``budget``, or minimise cost to reach ``target_fraction``.
    budget : float, optional
        Required for ``max_coverage`` [cost units].
    target_fraction : float or sequence of float, optional
        Share of the total demand to cover (with capacity: to serve), in [0, 1]; required for
        ``min_cost``. With grouped weights (``classes.group_weight``), one share per group, each a
        row of the model (a single value constrains the first group only).
    fixed : array_like of bool, optional
        Candidates that must be built (existing sites).
    time_limit_s : float, default 60
        Time limit of the whole call [s] (greedy start, LP relaxation and bound, MILP, clean-up); on
        reaching it the best plan found (at worst the greedy one) is returned with status
        "time_limit" and the best valid bound known.
    capacity : array_like, shape (n_candidates,), optional
        Capacity of each candidate [units of ``classes.need``], >= 0: the model becomes the
        assignment model of the module docstring. Always solved as one MILP.

    Returns
    -------
    Selection

    Raises
    ------
    InfeasibleTargetError
        ``min_cost``: the target exceeds what all candidates together cover, or serve within
        capacity (the message names the target, the best achievable share and says when capacity
        is what binds); ``max_coverage``: the fixed sites alone exceed the budget.

    Notes
    -----
    Deterministic when every stage finishes before the time limit (HiGHS single-threaded); a run
    cut by the time limit depends on the machine's speed.
    """
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit_s)
    pb = _problem(classes, cost, objective, budget, target_fraction, fixed, capacity)
    start = greedy(classes, pb.cost, objective=objective, budget=budget, target_fraction=target_fraction,
                   fixed=pb.fixed, capacity=capacity).chosen          # a feasible incumbent from the outset
    if pb.capacity is None:
        start = _tidy(pb, start)
    if pb.classes.rank is not None and pb.capacity is not None and not pb.feasible(start):
        start = None             # the greedy ignores closest assignment: no incumbent from it
    single = pb.targets is None or pb.targets.size == 1
    if pb.capacity is None and single and pb.cost.size > _FULL_MILP_MAX_CANDIDATES:
        return _kernel_search(pb, start, t0, deadline)
    return _whole(pb, start, t0, deadline)


def _left(deadline: float) -> float:
    return deadline - time.perf_counter()


def _worst_bound(pb: _Problem) -> float:
    return math.inf if pb.objective == "max_coverage" else -math.inf


def _tighter(pb: _Problem, a: float, b: float) -> float:
    return min(a, b) if pb.objective == "max_coverage" else max(a, b)


def _closed(pb: _Problem, value: float, bound: float, rel_gap: float = MIP_REL_GAP) -> bool:
    """Does the bound prove the plan's value optimal, within HiGHS's tolerance."""
    return math.isfinite(bound) and abs(value - bound) <= max(rel_gap * abs(value), MIP_ABS_GAP)


def _clip_bound(pb: _Problem, bound: float, value: float) -> float | None:
    """A bound never better than a plan that exists: a crossing within the solvers' tolerance is
    rounding noise and is clipped to the plan's value; a larger one means the bound is not valid
    (None)."""
    crossed = bound < value if pb.objective == "max_coverage" else bound > value
    if not crossed:
        return bound
    return value if _closed(pb, value, bound) else None


def _whole(pb: _Problem, start: np.ndarray, t0: float, deadline: float) -> Selection:
    """LP relaxation, then the MILP of the whole model from ``start``.

    The plan's value is always re-computed from the chosen sites (:meth:`_Problem.value`), and
    "optimal" is claimed only when it meets the best valid bound known (the LP's, or HiGHS's MIP
    bound from an answer that passed :func:`cellscape.planning._highs.contradiction`) within
    :data:`MIP_REL_GAP`; HiGHS's own status word is not taken for it.
    """
    bounds: list[tuple[float, str]] = []                               # valid bounds, (value, kind)
    lp_bound = None
    mip_status = "time_limit"
    chosen = start if start is not None else pb.fixed.copy()
    if _left(deadline) > 0:
        lp, lp_value, _ = _run(pb, integer=False, time_limit_s=_left(deadline))
        if lp.status == "optimal":
            lp_bound = lp_value
            bounds.append((lp_value, "lp"))
    if _left(deadline) > 0:
        res, _, mip_bound = _run(pb, integer=True, time_limit_s=_left(deadline), start=start, known_bound=lp_bound)
        mip_status = res.status
        if pb.classes.rank is not None and pb.capacity is not None and mip_status.lower().startswith("infeasible"):
            raise _infeasible("no choice of candidates meets the targets when every covered class is served by "
                              "its most preferred built candidate within capacity (closest assignment binds)")
        trusted = not mip_status.startswith("inconsistent")
        if trusted and res.x is not None:
            x = res.x[:pb.cost.size] > 0.5
            if pb.feasible(x) and (start is None or not pb.better(pb.value(start), pb.value(x))):
                chosen = x
        if trusted and math.isfinite(mip_bound):
            bounds.append((mip_bound, "milp"))
    if pb.capacity is None:
        chosen = _tidy(pb, chosen)
    value = pb.value(chosen)
    bound, kind = _worst_bound(pb), "none"
    for b, k in bounds:
        b = _clip_bound(pb, b, value)
        if b is not None and (kind == "none" or _tighter(pb, bound, b) == b):
            bound, kind = b, k
    if _closed(pb, value, bound):
        status = "optimal"
    elif mip_status == "time_limit" or _left(deadline) <= 0:
        status = "time_limit"
    else:
        status = "feasible"           # finished, without a proof: HiGHS's answer contradicted itself
    return _result(pb, chosen, bound, status, time.perf_counter() - t0, "milp-highs", kind)


def _kernel_search(pb: _Problem, start: np.ndarray, t0: float, deadline: float) -> Selection:
    """Large uncapacitated models: LP (PDLP) -> Lagrangian bound -> MILP on the kernel -> clean-up."""
    time_limit_s = deadline - t0
    n_c, n_k = pb.cost.size, pb.classes.n_classes
    rhs = pb.budget if pb.objective == "max_coverage" else pb.target_weight
    relax = LinkingRelaxation(pb.classes.cover, pb.classes.weight, pb.cost, pb.fixed, pb.objective, rhs)
    if pb.objective == "min_cost":
        start = _add_drop(pb, start, time.perf_counter() + _LOCAL_TIME_SHARE * _left(deadline))
    incumbent = pb.value(start)
    x_lp = None
    u = None
    lp_value = math.nan
    if _left(deadline) > 0:
        lp, lp_value, _ = _run(pb, integer=False, time_limit_s=_LP_TIME_SHARE * _left(deadline),
                               options={"solver": "pdlp"})
        if lp.x is not None:
            x_lp = lp.x[:n_c]
        if lp.row_dual is not None:
            u = np.maximum(-lp.row_dual[:n_k], 0.0)                    # multipliers of y_k - A_k x <= 0
    if u is None:                                                      # no duals: price demand at the incumbent's rate
        rate = incumbent / max(rhs, 1e-300) if pb.objective == "min_cost" else 0.5
        u = pb.classes.weight * rate
    best = relax.evaluate(u)
    tight = math.isfinite(lp_value) and not pb.better(lp_value, best.value) and \
        abs(lp_value - best.value) <= 1e-6 * max(1.0, abs(lp_value))
    if not tight and _left(deadline) > 0:                              # polish, or build, the multipliers
        u, best = relax.ascend(u, incumbent, deadline=time.perf_counter() + min(
            _SUBGRADIENT_TIME_SHARE * time_limit_s, 0.5 * _left(deadline)))
    bound, kind = best.value, "lagrangian"
    # the kernel: fixed and greedy sites, then the LP's candidates by decreasing LP value (then reduced cost)
    keep = pb.fixed | start
    score = x_lp if x_lp is not None else best.x
    order = np.lexsort((best.reduced_cost, -score))
    room = max(0, _KERNEL_MAX_CANDIDATES - int(keep.sum()))
    extra = [c for c in order if score[c] > 1e-6 and not keep[c]][:room]
    keep[extra] = True
    kernel = np.flatnonzero(keep)
    chosen = start
    status = "time_limit"
    if _left(deadline) > 0:
        sub = pb.restricted(kernel)
        res, _, sub_bound = _run(sub, integer=True, time_limit_s=max(0.0, _left(deadline) - 0.04 * time_limit_s),
                                 start=start[kernel], mip_rel_gap=1e-4, known_bound=bound)
        trusted = not res.status.startswith("inconsistent")
        if trusted and res.x is not None:
            x = np.zeros(n_c, bool)
            x[kernel] = res.x[:kernel.size] > 0.5
            if pb.feasible(x) and pb.better(pb.value(x), pb.value(chosen)):
                chosen = x
        status = "feasible" if res.status == "optimal" or not trusted else res.status
        if trusted and kernel.size == n_c and math.isfinite(sub_bound) and _tighter(pb, bound, sub_bound) == sub_bound:
            bound, kind = sub_bound, "milp"                            # the kernel was the whole model
    chosen = _tidy(pb, chosen)
    if pb.objective == "min_cost" and _left(deadline) > 0:
        chosen = _tidy(pb, _add_drop(pb, chosen, deadline))
    value = pb.value(chosen)
    clipped = _clip_bound(pb, bound, value)
    if clipped is None:                      # cannot happen with a valid L(u); never claim a proof from it
        bound, kind = _worst_bound(pb), "none"
    else:
        bound = clipped
    if _closed(pb, value, bound):
        status = "optimal"
    elif status not in ("feasible", "time_limit"):
        status = "time_limit" if _left(deadline) <= 0 else "feasible"
    return _result(pb, chosen, bound, status, time.perf_counter() - t0, "kernel-milp-highs", kind)


def _add_drop(pb: _Problem, chosen: np.ndarray, deadline: float) -> np.ndarray:
    """Local search for an uncapacitated single-target ``min_cost`` plan that never makes it worse:
    build one candidate, then drop the built (non-fixed) sites that the target no longer needs,
    dearest first; keep the move when the sites dropped cost more than the one built. This covers
    1-for-1 swaps and k-for-1 replacements. Each pass tries every candidate not built (incremental
    coverage counts on the class-candidate matrix) and makes the move saving the most (ties: the
    lower index); stops when no move saves, or at ``deadline`` (deterministic when it stops first)."""
    chosen = chosen.copy()
    csc, csr = pb.classes.cover.tocsc(), pb.classes.cover.tocsr()
    w, cost, target = pb.tw[:, 0], pb.cost, pb.target_weight * (1 - 1e-12)
    count = np.asarray(csr @ chosen.astype(np.int32)).ravel()            # (n_k,) built sites covering each class
    covered = float(w[count > 0].sum())
    ones = sp.csc_matrix((np.ones(csc.nnz, np.int32), csc.indices, csc.indptr), shape=csc.shape)
    adj = (ones.T @ ones).tocsr()                                        # (n_c, n_c) candidates sharing a class
    adj.sort_indices()

    def rows_of(c):
        return csc.indices[csc.indptr[c]:csc.indptr[c + 1]]

    def drops(add: int) -> tuple[float, list[int]]:
        """Sites dropped after building ``add`` (dearest first while the target holds), their cost."""
        rows = rows_of(add)
        cnt = count.copy()
        cnt[rows] += 1
        cov = covered + float(w[rows[count[rows] == 0]].sum())
        near = adj.indices[adj.indptr[add]:adj.indptr[add + 1]]         # sites sharing a class with add
        out, saved = [], 0.0
        near = near[chosen[near] & ~pb.fixed[near] & (near != add)]
        for c in near[np.lexsort((near, -cost[near]))]:
            r = rows_of(c)
            loss = float(w[r[cnt[r] == 1]].sum())
            if cov - loss >= target:
                cnt[r] -= 1
                cov -= loss
                out.append(int(c))
                saved += float(cost[c])
        return saved, out

    while time.perf_counter() < deadline:
        best = (1e-9 * max(1.0, float(cost[chosen].sum())), -1, [])
        for c in np.flatnonzero(~chosen):
            if cost[c] + best[0] >= float(cost[chosen & ~pb.fixed].sum()) or time.perf_counter() >= deadline:
                continue
            saved, out = drops(int(c))
            if saved - cost[c] > best[0]:
                best = (saved - cost[c], int(c), out)
        if best[1] < 0:
            break
        _, add, out = best
        chosen[add] = True
        count[rows_of(add)] += 1
        for c in out:
            chosen[c] = False
            count[rows_of(c)] -= 1
        covered = float(w[count > 0].sum())
    return chosen


def _tidy(pb: _Problem, chosen: np.ndarray) -> np.ndarray:
    """Local clean-up of an uncapacitated plan that never makes it worse: ``min_cost`` drops built
    (non-fixed) sites whose loss keeps the target, dearest first; ``max_coverage`` spends the budget
    left on the best remaining covered demand per cost (:class:`MarginalGain`)."""
    chosen = chosen.copy()
    a = pb.classes.cover
    if pb.objective == "min_cost":
        count = np.asarray(a @ chosen.astype(np.int32)).ravel()      # (n_k,) built sites covering each class
        covered = pb.tw[count > 0].sum(axis=0)                        # (n_targets,)
        csc = a.tocsc()
        for c in sorted(np.flatnonzero(chosen & ~pb.fixed), key=lambda c: (-pb.cost[c], c)):
            rows = csc.indices[csc.indptr[c]:csc.indptr[c + 1]]
            loss = pb.tw[rows[count[rows] == 1]].sum(axis=0)
            if pb.cost[c] > 0 and np.all(covered - loss >= pb.targets * (1 - 1e-12)):
                chosen[c] = False
                count[rows] -= 1
                covered -= loss
        return chosen
    spent = float(pb.cost[chosen].sum())
    queue = MarginalGain(pb.classes, pb.cost, np.flatnonzero(~chosen))
    for c in np.flatnonzero(chosen):
        queue.take(c)
    while (c := queue.pop()) is not None:
        if queue.gain(c) <= 0:
            break
        if spent + pb.cost[c] > pb.budget + 1e-9:
            continue
        chosen[c] = True
        spent += float(pb.cost[c])
        queue.take(c)
    return chosen


class MarginalGain:
    """Demand covered so far, and the candidates in order of newly covered demand per unit cost.

    The queue is lazy (Minoux 1978): a candidate's gain can only shrink as others are built, so a
    popped candidate whose recomputed ratio still beats the next stored one is the true best. Ties
    go to the cheaper candidate, then the lower index. Shared by :func:`greedy` and
    :func:`cellscape.planning.rollout.rollout_order`.

    ``targets``: None, or ``(tw, target_weight)`` with tw (n_classes, n_targets) and target_weight
    (n_targets,): then the gain of a candidate is sum_g min(new_g, shortfall_g) / target_g, the
    share of each target's remaining shortfall it closes (still non-increasing, so still lazy).
    """

    def __init__(self, classes: DemandClasses, cost: np.ndarray, candidates: np.ndarray, *, targets=None):
        self._csc = classes.cover.tocsc()
        self._w = classes.weight
        self._cost = cost
        self._groups(targets)
        self.covered = np.zeros(classes.n_classes, bool)
        self._queue(candidates)

    def _groups(self, targets) -> None:
        self._tw = self._t = None
        if targets is not None:
            self._tw = np.asarray(targets[0], dtype=float)                 # (n_k, n_t)
            self._t = np.asarray(targets[1], dtype=float)                  # (n_t,)
            self.group_weight = np.zeros(self._t.size)                     # covered weight per target

    def _queue(self, candidates: np.ndarray) -> None:
        self._heap = [(-self.gain(c) / max(self._cost[c], 1e-12), float(self._cost[c]), int(c)) for c in candidates]
        heapq.heapify(self._heap)

    def _value(self, rows: np.ndarray, share: np.ndarray | None = None) -> float:
        """Gain of serving ``share`` (default: all) of the classes ``rows``."""
        if self._t is None:
            return float(self._w[rows].sum() if share is None else self._w[rows] @ share)
        new = self._tw[rows].sum(axis=0) if share is None else share @ self._tw[rows]
        short = np.maximum(self._t - self.group_weight, 0.0)
        return float(np.sum(np.minimum(new, short) / np.where(self._t > 0, self._t, 1.0)))

    def met(self, tol: float = 1e-12) -> bool:
        """All targets reached (only with ``targets``)."""
        return bool(np.all(self.group_weight >= self._t * (1 - tol)))

    def _rows(self, c: int) -> np.ndarray:
        return self._csc.indices[self._csc.indptr[c]:self._csc.indptr[c + 1]]

    def gain(self, c: int) -> float:
        """Demand ``c`` would newly cover (with ``targets``: the shortfall share it would close)."""
        rows = self._rows(c)
        return self._value(rows[~self.covered[rows]])

    def take(self, c: int) -> None:
        """Count ``c`` as built."""
        rows = self._rows(c)
        if self._t is not None:
            self.group_weight += self._tw[rows[~self.covered[rows]]].sum(axis=0)
        self.covered[rows] = True

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


class CapacitatedGain(MarginalGain):
    """:class:`MarginalGain` under capacity: the demand a candidate can newly serve within its own
    capacity, per unit cost.

    A built candidate serves, for good, the unserved shares of the classes it covers, those with the
    most demand (with ``targets``: the most target-normalised weight) per unit of its capacity first,
    until its capacity is used (a continuous knapsack, Dantzig 1957); classes it cannot take wait
    for another candidate. A candidate's gain only shrinks as others are built (the unserved shares
    only shrink), so the lazy queue stays exact. Nothing is reassigned: the demand a built set can
    serve (:func:`served_demand`) may be larger.
    """

    def __init__(self, classes: DemandClasses, cost: np.ndarray, candidates: np.ndarray, capacity: np.ndarray, *,
                 targets=None):
        self._csc = classes.cover.tocsc()
        # need aligned with the CSC entries: carry each CSR entry's position through the conversion
        pos = sp.csr_matrix((np.arange(1, classes.cover.nnz + 1, dtype=float), classes.cover.indices,
                             classes.cover.indptr), shape=classes.cover.shape).tocsc()
        self._need = classes.need.data[pos.data.astype(np.int64) - 1]
        self._w = classes.weight
        self._cost = cost
        self._cap = np.asarray(capacity, dtype=float)
        self._groups(targets)
        # value density of a class for the knapsack order
        self._density = self._w if self._t is None else self._tw @ (1.0 / np.where(self._t > 0, self._t, np.inf))
        self.unserved = np.ones(classes.n_classes)
        self._queue(candidates)

    def _plan(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self._csc.indptr[c], self._csc.indptr[c + 1]
        rows, need = self._csc.indices[lo:hi], self._need[lo:hi]
        left = self.unserved[rows]
        open_ = (left > 0) & (self._density[rows] > 0)
        rows, need, left = rows[open_], need[open_], left[open_]
        order = np.lexsort((rows, need / self._density[rows]))       # most value per capacity first
        rows, need, left = rows[order], need[order], left[order]
        use = need * left                                             # capacity to serve the whole remainder
        before = np.concatenate([[0.0], np.cumsum(use)[:-1]])
        room = np.maximum(self._cap[c] - before, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(use <= room, left, np.where(need > 0, room / need, left))
        return rows, np.minimum(share, left)

    def gain(self, c: int) -> float:
        """Demand ``c`` would newly serve within its capacity."""
        rows, share = self._plan(c)
        return self._value(rows, share)

    def take(self, c: int) -> None:
        """Count ``c`` as built, serving what :meth:`gain` counted."""
        rows, share = self._plan(c)
        if self._t is not None:
            self.group_weight += share @ self._tw[rows]
        self.unserved[rows] = np.maximum(self.unserved[rows] - share, 0.0)

    @property
    def covered_weight(self) -> float:
        return float(self._w @ (1.0 - self.unserved))


def greedy(classes: DemandClasses, cost, *, objective: Objective, budget: float | None = None,
           target_fraction=None, fixed=None, capacity=None) -> Selection:
    """The greedy baseline: repeatedly build the candidate with the largest newly covered demand
    per unit cost (:class:`MarginalGain`; with ``capacity``, newly *served* demand within the
    candidate's own capacity, :class:`CapacitatedGain`), until the budget is spent
    (``max_coverage``: candidates that no longer fit are skipped) or the target is reached
    (``min_cost``; with several targets the gain is the share of each target's shortfall closed).

    With capacity, the plan's covered weight is what the built set serves at best
    (:func:`served_demand`), at least what the greedy assignment counted. The bound reported is the
    objective itself and the gap NaN: *not* a proof; compare with :func:`select_sites`.
    """
    pb = _problem(classes, cost, objective, budget, target_fraction, fixed, capacity)
    cost, fixed = pb.cost, pb.fixed
    t = time.perf_counter()
    chosen = fixed.copy()
    several = pb.targets is not None and pb.targets.size > 1
    groups = (pb.tw, pb.targets) if several else None
    if pb.capacity is None:
        queue = MarginalGain(classes, cost, np.flatnonzero(~fixed), targets=groups)
    else:
        queue = CapacitatedGain(classes, cost, np.flatnonzero(~fixed), pb.capacity, targets=groups)
    for c in np.flatnonzero(fixed):
        queue.take(c)
    spent = float(cost[chosen].sum())
    tol = 1e-12 if pb.capacity is None else 1e-9

    def short() -> bool:
        if objective != "min_cost":
            return True
        return not queue.met(tol) if several else queue.covered_weight < pb.target_weight * (1 - tol)

    while short():
        c = queue.pop()
        if c is None or queue.gain(c) <= 0:
            break
        if objective == "max_coverage" and spent + cost[c] > budget + 1e-9:
            continue                                                 # does not fit; try cheaper ones
        chosen[c] = True
        spent += float(cost[c])
        queue.take(c)
    if objective == "min_cost" and not pb.feasible(chosen):
        # only under capacity (the greedy assignment can strand demand that reassignment would
        # serve); without it, _problem has checked that every candidate together reaches the targets
        chosen = _fill_capacity(pb, chosen)
    sel = _result(pb, chosen, math.nan, "greedy", time.perf_counter() - t, "greedy", "none")
    return Selection(**{**sel.__dict__, "bound": sel.objective, "gap": math.nan})


def _fill_capacity(pb: _Problem, chosen: np.ndarray) -> np.ndarray:
    """Greedy's fallback under capacity when its own assignment strands demand: build the remaining
    candidates, cheapest first, until the served-demand LP reaches the target (it does with all,
    which :func:`_problem` checked)."""
    chosen = chosen.copy()
    for c in sorted(np.flatnonzero(~chosen), key=lambda c: (pb.cost[c], c)):
        if pb.feasible(chosen):
            break
        chosen[c] = True
    return chosen
