"""One way into HiGHS (highspy) for the planning models: a sparse MILP/LP in, a checked solution out.

Quiet, single-threaded (reproducible), with a time limit. Extra HiGHS options (e.g. ``{"solver":
"pdlp"}`` for a first-order LP solve) pass through ``options``; the LP duals come back when HiGHS
has them.

Every answer is checked against the model before it is returned (:func:`contradiction`): the
objective is recomputed from the returned columns, the columns are checked against their bounds,
the rows and integrality, and the reported objective against the dual bound and against a bound the
caller already knows (the LP relaxation's). HiGHS 1.16 can contradict itself when it is handed a
starting solution: its presolve maps the start into the reduced model with a wrong objective
(``MIP start solution is feasible: objective value is 4`` then ``... feasible in the reduced space:
objective value is 3``, seen with the aggregator and probing reductions on), takes that value as its
incumbent, prunes every node against it and reports "Optimal" at an objective no plan has, below
the LP bound of a minimisation (cellscape issue 10). So a start is only ever a hint: when the run
that used it contradicts itself, the same model is solved again without it, and the first run is
discarded, bound included (its pruning used the wrong incumbent).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import math
import time

import numpy as np
import scipy.sparse as sp

FEASIBILITY_TOL = 1e-6
"""Largest row, bound or integrality violation accepted in a returned solution, relative to
max(1, |bound|): HiGHS's own mip_feasibility_tolerance (1e-6)."""

OBJECTIVE_TOL = 1e-6
"""Largest mismatch between HiGHS's reported objective and the one recomputed from its columns,
and the slack allowed against a known bound, relative to max(1, |objective|)."""


@dataclass(frozen=True)
class HighsResult:
    """``x``: column values (None when HiGHS has no feasible point); ``status``: "optimal",
    "time_limit" or HiGHS's own words; ``objective`` (recomputed from ``x`` when there is one) and
    ``mip_bound`` (the dual bound, = objective for an LP) in the sense of the minimised objective;
    ``seconds`` (all runs together); ``row_dual`` and ``col_dual`` (HiGHS's sign convention for a
    minimisation: a binding ``<=`` row has a dual <= 0), None for a MIP or when HiGHS has no dual
    values; ``start_used``: whether the answer comes from a run handed the start; ``discarded``:
    why a run with the start was thrown away (see :func:`contradiction`), else None."""

    x: np.ndarray | None
    status: str
    objective: float
    mip_bound: float
    seconds: float
    row_dual: np.ndarray | None = None
    col_dual: np.ndarray | None = None
    start_used: bool = False
    discarded: str | None = None


def _new_highs(highspy):
    """A Highs instance, without the licence banner HiGHS prints on stdout when the first one is
    made (it would land in the middle of a CLI's or a benchmark's output): stdout's file
    descriptor is pointed at /dev/null for the construction only."""
    import os
    import sys

    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):           # no real stdout (embedded interpreter): let it print
        return highspy.Highs()
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


@dataclass(frozen=True)
class _Model:
    """The model of one :func:`solve` call, kept for checking HiGHS's answers."""

    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    matrix: sp.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    integer: np.ndarray | None       # (n_col,) bool, None for an LP


def _violation(lo: np.ndarray, value: np.ndarray, hi: np.ndarray) -> float:
    """Largest violation of lo <= value <= hi, each relative to max(1, |bound|)."""
    with np.errstate(invalid="ignore"):
        below = np.where(np.isfinite(lo), (lo - value) / np.maximum(1.0, np.abs(lo)), 0.0)
        above = np.where(np.isfinite(hi), (value - hi) / np.maximum(1.0, np.abs(hi)), 0.0)
    return float(max(np.max(below, initial=0.0), np.max(above, initial=0.0)))


def contradiction(model: _Model, res: HighsResult, reported_objective: float, *,
                  known_bound: float | None = None) -> str | None:
    """Why an answer of HiGHS cannot be right, or None when it is consistent.

    Checked: an "optimal" answer has a solution; the solution keeps its column bounds, its rows and
    integrality to :data:`FEASIBILITY_TOL`; the objective HiGHS reports equals ``col_cost . x`` to
    :data:`OBJECTIVE_TOL`; the objective is not below HiGHS's own dual bound, nor below
    ``known_bound`` (a valid lower bound of this minimisation, e.g. its LP relaxation), beyond that
    tolerance. Whether a gap is closed is the caller's to judge, from the objective and the bounds
    it trusts.
    """
    if res.x is None:
        return "HiGHS says optimal but returns no solution" if res.status == "optimal" else None
    x = res.x
    tol = OBJECTIVE_TOL * max(1.0, abs(res.objective))
    bad = max(_violation(model.col_lower, x, model.col_upper),
              _violation(model.row_lower, model.matrix @ x, model.row_upper))
    if model.integer is not None and model.integer.any():
        xi = x[model.integer]
        bad = max(bad, float(np.max(np.abs(xi - np.round(xi)), initial=0.0)))
    if bad > FEASIBILITY_TOL:
        return f"the returned solution violates the model by {bad:.3g}"
    if math.isfinite(reported_objective) and abs(reported_objective - res.objective) > tol:
        return (f"HiGHS reports objective {reported_objective:.10g}, its solution has {res.objective:.10g}")
    if math.isfinite(res.mip_bound) and res.mip_bound > res.objective + tol:
        return f"the dual bound {res.mip_bound:.10g} lies above the objective {res.objective:.10g}"
    if known_bound is not None and math.isfinite(known_bound) and res.objective < known_bound - tol:
        return f"objective {res.objective:.10g} lies below the known bound {known_bound:.10g}"
    return None


def _run_once(model: _Model, *, time_limit_s: float, mip_rel_gap: float, start, options: dict | None):
    """One HiGHS run; returns (result with the objective recomputed from x, HiGHS's own objective)."""
    import highspy

    m = model.matrix
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m.shape[1], m.shape[0]
    lp.col_cost_ = model.col_cost
    lp.col_lower_ = np.nan_to_num(model.col_lower, neginf=-inf, posinf=inf)
    lp.col_upper_ = np.nan_to_num(model.col_upper, neginf=-inf, posinf=inf)
    lp.row_lower_ = np.nan_to_num(model.row_lower, neginf=-inf, posinf=inf)
    lp.row_upper_ = np.nan_to_num(model.row_upper, neginf=-inf, posinf=inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = m.indptr.astype(np.int32)
    lp.a_matrix_.index_ = m.indices.astype(np.int32)
    lp.a_matrix_.value_ = m.data
    mip = model.integer is not None
    if mip:
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in model.integer]
    h = _new_highs(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(max(time_limit_s, 0.0)))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.setOptionValue("threads", 1)
    for name, value in (options or {}).items():
        h.setOptionValue(name, value)
    t = time.perf_counter()
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(np.asarray(start, dtype=float))
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    seconds = time.perf_counter() - t
    words = h.modelStatusToString(h.getModelStatus())
    status = "optimal" if words == "Optimal" else "time_limit" if "Time limit" in words else words
    solution = h.getSolution()
    x = np.asarray(solution.col_value, dtype=float) if solution.value_valid else None
    info = h.getInfo()
    reported = float(info.objective_function_value)
    objective = float(model.col_cost @ x) if x is not None else reported
    row_dual = col_dual = None
    if not mip and solution.dual_valid:
        row_dual = np.asarray(solution.row_dual, dtype=float)
        col_dual = np.asarray(solution.col_dual, dtype=float)
    bound = float(info.mip_dual_bound) if mip else objective
    return HighsResult(x=x, status=status, objective=objective, mip_bound=bound, seconds=seconds,
                       row_dual=row_dual, col_dual=col_dual, start_used=start is not None), reported


def solve(col_cost, col_lower, col_upper, matrix, row_lower, row_upper, *, integer=None,
          time_limit_s: float = 60.0, mip_rel_gap: float = 1e-6, start=None,
          options: dict | None = None, known_bound: float | None = None) -> HighsResult:
    """Minimise ``col_cost . x`` subject to ``row_lower <= matrix x <= row_upper`` and the column
    bounds; columns where ``integer`` is True are integer. Infinite bounds are ``numpy.inf``.

    ``time_limit_s`` [s] counts HiGHS's own runs; ``options``: further HiGHS options by name;
    ``start``: a starting solution (all columns) handed to HiGHS as a hint; ``known_bound``: a valid
    lower bound of the objective the caller already has (the LP relaxation's), against which the
    answer is checked. A MIP answer that :func:`contradiction` rejects is discarded when it came
    from a run with the start, and the model solved again without it in the time left
    (``discarded`` says why); an answer still rejected has the status "inconsistent (<why>)". The
    returned objective is always ``col_cost . x`` when there is an ``x``.
    """
    m = sp.csc_matrix(matrix, dtype=float)
    mask = None
    if integer is not None and bool(np.any(integer)):
        mask = np.asarray(integer, dtype=bool)
    model = _Model(np.asarray(col_cost, dtype=float), np.asarray(col_lower, dtype=float),
                   np.asarray(col_upper, dtype=float), m, np.asarray(row_lower, dtype=float),
                   np.asarray(row_upper, dtype=float), mask)
    deadline = time.perf_counter() + float(time_limit_s)
    res, reported = _run_once(model, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap, start=start,
                              options=options)
    if mask is None:                 # an LP (simplex, IPM or PDLP, each with its own tolerances)
        return res
    why = contradiction(model, res, reported, known_bound=known_bound)
    if why is None or start is None:
        return res if why is None else replace(res, status=f"inconsistent ({why})")
    first = res.seconds
    res, reported = _run_once(model, time_limit_s=max(deadline - time.perf_counter(), 0.0), mip_rel_gap=mip_rel_gap,
                              start=None, options=options)
    again = contradiction(model, res, reported, known_bound=known_bound)
    status = res.status if again is None else f"inconsistent ({again})"
    return replace(res, status=status, seconds=first + res.seconds, discarded=why)
