"""Data-centre / edge placement: choose k locations for the sites' traffic to be served from.

Given a distance (or fibre latency) matrix between sites and candidate locations, two classic
location problems (Hakimi 1964), both as mixed-integer programs solved with HiGHS:

- **p-median**: minimise the (demand-weighted) mean distance from each site to its nearest chosen
  location;
- **p-center**: minimise the largest such distance (the worst-served site).

Formulation: binary open_j (location j chosen, sum = k), assignment a_ij in [0, 1] with sum_j a_ij = 1
and a_ij <= open_j. p-median minimises sum_i w_i sum_j d_ij a_ij (an optimal a is 0/1 once the
open_j are integer); p-center minimises z with z >= sum_j d_ij a_ij for every site, with a_ij binary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from cellscape.errors import CellscapeError
from cellscape.planning import _highs as highs


class PlacementError(CellscapeError, ValueError):
    """A placement problem that cannot be solved as posed."""


@dataclass(frozen=True)
class Placement:
    """``chosen``: indices of the k locations; ``assignment``: (n_sites,) the location serving each
    site; ``distance``: (n_sites,) the distance to it; ``mean_distance`` (demand-weighted) and
    ``max_distance``; ``status``; ``seconds``."""

    chosen: np.ndarray
    assignment: np.ndarray
    distance: np.ndarray
    mean_distance: float
    max_distance: float
    status: str
    seconds: float


def place_facilities(distance, k: int, *, objective: Literal["p_median", "p_center"] = "p_median",
                     weight=None, time_limit_s: float = 60.0) -> Placement:
    """Choose ``k`` of the candidate locations (the columns of ``distance``).

    Parameters
    ----------
    distance : array_like, shape (n_sites, n_locations)
        Distance or latency from each site to each candidate location (any unit, >= 0; ``inf``
        where a site cannot be served from a location).
    k : int
        Locations to open, 1 <= k <= n_locations.
    objective : {"p_median", "p_center"}
        Mean (weighted) or worst distance.
    weight : array_like, shape (n_sites,), optional
        Demand per site for p-median (default 1 each).
    time_limit_s : float, default 60
        HiGHS time limit.

    Returns
    -------
    Placement

    Raises
    ------
    PlacementError
        If k is out of range or some site can be served from no location.

    Examples
    --------
    >>> d = np.array([[0.0, 5.0, 9.0], [1.0, 4.0, 8.0], [9.0, 5.0, 0.0]])
    >>> p = place_facilities(d, 2)
    >>> p.chosen.tolist(), p.assignment.tolist()
    ([0, 2], [0, 0, 2])
    """
    d = np.asarray(distance, dtype=float)
    if d.ndim != 2 or d.size == 0:
        raise PlacementError(f"distance must be a non-empty (n_sites, n_locations) matrix, got shape {d.shape}")
    n, m = d.shape
    if not 1 <= k <= m:
        raise PlacementError(f"k must be between 1 and the {m} candidate locations, got {k}")
    if np.any(d < 0) or np.any(np.isnan(d)):
        raise PlacementError("distances must be >= 0 (inf where a site cannot be served)")
    unreachable = ~np.isfinite(d).any(axis=1)
    if unreachable.any():
        raise PlacementError(f"{int(unreachable.sum())} site(s) cannot be served from any location "
                             f"(first: row {int(np.flatnonzero(unreachable)[0])})")
    w = np.ones(n) if weight is None else np.asarray(weight, dtype=float).ravel()
    if w.size != n or np.any(w < 0):
        raise PlacementError(f"weight needs {n} values >= 0")
    ok = np.isfinite(d)                                           # assignment variables only where servable
    ii, jj = np.nonzero(ok)
    n_a = ii.size
    big = float(d[ok].max())
    # columns: open (m), a (n_a), [z]; rows: assign (n), link a <= open (n_a), count (1), [z rows (n)]
    center = objective == "p_center"
    if objective not in ("p_median", "p_center"):
        raise PlacementError(f"objective must be 'p_median' or 'p_center', got {objective!r}")
    n_col = m + n_a + (1 if center else 0)
    a_cols = m + np.arange(n_a)
    rows = [np.full(n_a, 0) + ii]                                 # assign rows 0..n-1
    cols = [a_cols]
    vals = [np.ones(n_a)]
    r0 = n
    rows += [r0 + np.arange(n_a), r0 + np.arange(n_a)]           # a_ij - open_j <= 0
    cols += [a_cols, jj]
    vals += [np.ones(n_a), -np.ones(n_a)]
    r1 = r0 + n_a
    rows.append(np.full(m, r1))                                   # sum open = k
    cols.append(np.arange(m))
    vals.append(np.ones(m))
    n_row = r1 + 1
    if center:
        z = m + n_a
        rows += [n_row + ii, n_row + np.arange(n)]                # sum_j d_ij a_ij - z <= 0
        cols += [a_cols, np.full(n, z)]
        vals += [d[ii, jj], -np.ones(n)]
        n_row += n
    mat = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_row, n_col))
    lo = np.concatenate([np.ones(n), np.full(n_a, -np.inf), [k]] + ([np.full(n, -np.inf)] if center else []))
    hi = np.concatenate([np.ones(n), np.zeros(n_a), [k]] + ([np.zeros(n)] if center else []))
    col_cost = np.zeros(n_col)
    if center:
        col_cost[-1] = 1.0
    else:
        col_cost[a_cols] = w[ii] * d[ii, jj]
    integer = np.zeros(n_col, bool)
    integer[:m] = True
    if center:
        integer[a_cols] = True
    res = highs.solve(col_cost, np.zeros(n_col), np.concatenate([np.ones(m + n_a)] + ([[big]] if center else [])),
                      mat, lo, hi, integer=integer, time_limit_s=time_limit_s)
    if res.x is None:
        raise PlacementError(f"HiGHS found no placement ({res.status})")
    x = res.x
    chosen = np.flatnonzero(x[:m] > 0.5)
    # serve each site from its nearest chosen location (what the optimum does; exact on ties)
    sub = d[:, chosen]
    assignment = chosen[np.argmin(sub, axis=1)]
    dist = d[np.arange(n), assignment]
    return Placement(chosen=chosen, assignment=assignment, distance=dist,
                     mean_distance=float(np.sum(w * dist) / np.sum(w)) if w.sum() else float("nan"),
                     max_distance=float(dist.max()), status=res.status, seconds=res.seconds)
