"""Lagrangian relaxation of the coverage-linking rows of the site-selection model (private helper).

The model of :mod:`cellscape.planning.selection` (binary x_c, continuous y_k in [0, 1],
y_k <= sum_c a_kc x_c) keeps one hard row when the linking rows are relaxed with multipliers
u_k >= 0 (Fisher 1981; for covering problems Beasley 1990):

- minimum cost, ``w . y >= T``:
  L(u) = sum_c min(0, c_c - (A^T u)_c)  +  min { u . y : w . y >= T, 0 <= y <= 1 },
  a lower bound on the cost of every plan that reaches the target;
- maximum coverage, ``c . x <= B``:
  L(u) = sum_k max(0, w_k - u_k)  +  max { (A^T u) . x : c . x <= B, 0 <= x <= 1 },
  an upper bound on the demand any plan within the budget covers.

Both inner problems are continuous knapsacks, solved exactly by sorting (Dantzig 1957), so L(u) is
a valid bound for *any* u >= 0, whatever produced u (an LP solver's duals, however loosely
converged, or the subgradient steps below): that is what lets the caller report a bound it has
computed itself. The best L(u) equals the LP-relaxation bound (the inner problems have the
integrality property only in x; the knapsack in y is the LP's own), so this is a fast route to the LP
bound, not a stronger one. Fixed (existing) candidates have x_c = 1 in the inner problem.
Units: costs in the caller's cost unit, demand weights in the caller's demand unit; u is in cost
per class (minimum cost) or demand per class (maximum coverage).

References
----------
.. [1] M. L. Fisher, "The Lagrangian relaxation method for solving integer programming problems,"
   Management Science 27(1), 1981.
.. [2] J. E. Beasley, "A Lagrangian heuristic for set-covering problems," Naval Research Logistics
   37(1), 1990 (subgradient step rule: Polyak step towards the incumbent, halved on stalls).
.. [3] M. Held, P. Wolfe, H. P. Crowder, "Validation of subgradient optimization," Mathematical
   Programming 6, 1974.
"""

from __future__ import annotations

from dataclasses import dataclass
import time

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class Relaxed:
    """One evaluation of L(u): ``value`` (the bound), the inner solution ``x`` (n_candidates,) and
    ``y`` (n_classes,), both in [0, 1], and ``reduced_cost`` (n_candidates,): the change of L(u) per
    unit of x_c in the minimised sense (< 0: the relaxation wants c built)."""

    value: float
    x: np.ndarray
    y: np.ndarray
    reduced_cost: np.ndarray


class LinkingRelaxation:
    """L(u) for one instance; ``objective`` "min_cost" (rhs = target weight) or "max_coverage"
    (rhs = budget). ``a``: (n_classes, n_candidates) sparse 0/1 cover; ``weight`` (n_classes,);
    ``cost`` (n_candidates,); ``fixed`` (n_candidates,) bool."""

    def __init__(self, a, weight, cost, fixed, objective: str, rhs: float):
        self.a = sp.csr_matrix(a, dtype=float)                      # (n_k, n_c)
        self.a_t = self.a.T.tocsr()                                  # (n_c, n_k)
        self.w = np.asarray(weight, dtype=float)
        self.cost = np.asarray(cost, dtype=float)
        self.fixed = np.asarray(fixed, dtype=bool)
        self.objective = objective
        self.rhs = float(rhs)
        # y_k <= 0 for a class no candidate covers: kept as a hard bound, not relaxed
        self.free_k = np.flatnonzero((np.diff(self.a.indptr) > 0) & (self.w > 0))

    def evaluate(self, u: np.ndarray) -> Relaxed:
        """L(u) and its inner solution; ``u`` (n_classes,) >= 0."""
        p = self.a_t @ u                                             # (n_c,) sum_k u_k a_kc
        if self.objective == "min_cost":
            r = self.cost - p
            take = self.fixed | (r < 0)
            x = take.astype(float)
            value = float(r[take].sum())
            y, y_value, _ = _knapsack_min(u[self.free_k], self.w[self.free_k], self.rhs)
            y_full = np.zeros(self.w.size)
            y_full[self.free_k] = y
            return Relaxed(value + y_value, x, y_full, r)
        gain = self.w - u                                            # maximum coverage
        y_full = np.zeros(self.w.size)
        y_full[self.free_k] = (gain[self.free_k] > 0).astype(float)
        value = float(np.maximum(gain[self.free_k], 0.0).sum())
        x, x_value, price = _knapsack_max(p, self.cost, self.fixed, self.rhs)
        return Relaxed(value + x_value, x, y_full, price * self.cost - p)

    def ascend(self, u0: np.ndarray, incumbent: float, *, deadline: float, max_iter: int = 5000,
               step: float = 2.0, stall: int = 20, min_step: float = 1e-4) -> tuple[np.ndarray, Relaxed]:
        """Subgradient steps u <- max(0, u + t (y - A x)) with the Polyak length
        t = step |incumbent - L(u)| / ||g||^2 (Held, Wolfe & Crowder 1974); ``step`` halves after
        ``stall`` steps without improving the bound (Beasley 1990). Stops at ``deadline``
        (time.perf_counter() value), after ``max_iter`` steps or below ``min_step``. Returns the best
        u seen and its evaluation. Deterministic for a given number of steps."""
        u = np.maximum(np.asarray(u0, dtype=float), 0.0)
        best = self.evaluate(u)
        best_u = u.copy()
        cur = best
        since = 0
        for _ in range(max_iter):
            if time.perf_counter() >= deadline or step < min_step:
                break
            g = cur.y - self.a @ cur.x                 # (n_k,) subgradient of L at u
            g[(u <= 0) & (g < 0)] = 0.0                              # directions the projection removes
            norm2 = float(g @ g)
            if norm2 <= 0:
                break                                                # u is optimal for the relaxation
            sense = 1.0 if self.objective == "min_cost" else -1.0    # ascend a lower, descend an upper bound
            u = np.maximum(u + step * max(abs(incumbent - cur.value), 1e-9 * abs(incumbent)) / norm2 * g, 0.0)
            cur = self.evaluate(u)
            if sense * (cur.value - best.value) > 1e-9 * max(1.0, abs(best.value)):
                best, best_u, since = cur, u.copy(), 0
            else:
                since += 1
                if since >= stall:
                    step, since = step / 2, 0
        return best_u, best


def _knapsack_min(u: np.ndarray, w: np.ndarray, need: float) -> tuple[np.ndarray, float, float]:
    """min u.y s.t. w.y >= need, 0 <= y <= 1 (w > 0): take y by increasing u/w, the last one
    fractional. Returns y, the value and the price u/w of the last item taken."""
    y = np.zeros(w.size)
    if need <= 0 or w.size == 0:
        return y, 0.0, 0.0
    order = np.argsort(u / w, kind="stable")
    cum = np.cumsum(w[order])
    j = int(np.searchsorted(cum, need))                              # first prefix reaching the need
    j = min(j, w.size - 1)                                           # need > total: caller checked
    y[order[:j]] = 1.0
    last = order[j]
    y[last] = min(1.0, (need - (cum[j - 1] if j else 0.0)) / w[last])
    return y, float(u[order[:j]].sum() + u[last] * y[last]), float(u[last] / w[last])


def _knapsack_max(p: np.ndarray, cost: np.ndarray, fixed: np.ndarray, budget: float
                  ) -> tuple[np.ndarray, float, float]:
    """max p.x s.t. cost.x <= budget, 0 <= x <= 1, x = 1 on ``fixed``: fixed first, then the free
    candidates by decreasing p/cost (free ones with cost 0 and p > 0 always), the last fractional.
    Returns x, the value and the price p/cost of the last candidate taken (0 if the budget is
    not exhausted)."""
    x = fixed.astype(float)
    left = budget - float(cost[fixed].sum())
    free = np.flatnonzero(~fixed & (p > 0))
    zero = free[cost[free] <= 0]
    x[zero] = 1.0
    paid = free[cost[free] > 0]
    order = paid[np.argsort(-p[paid] / cost[paid], kind="stable")]
    cum = np.cumsum(cost[order])
    j = int(np.searchsorted(cum, left, side="right"))                # items fitting whole
    x[order[:j]] = 1.0
    price = 0.0
    if j < order.size:
        last = order[j]
        x[last] = max(0.0, left - (cum[j - 1] if j else 0.0)) / cost[last]
        price = float(p[last] / cost[last])
    return x, float(p @ x), price
