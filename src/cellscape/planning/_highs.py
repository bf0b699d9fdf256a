"""One way into HiGHS (highspy) for the planning models: a sparse MILP/LP in, a solution out.

Quiet, single-threaded (reproducible), with a time limit; an optional starting solution is handed
to HiGHS as its first incumbent. Extra HiGHS options (e.g. ``{"solver": "pdlp"}`` for a first-order LP
solve) pass through ``options``; the LP duals come back when HiGHS has them.
"""

from __future__ import annotations

from dataclasses import dataclass
import time

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class HighsResult:
    """``x``: column values (None when HiGHS has no feasible point); ``status``: "optimal",
    "time_limit" or HiGHS's own words; ``objective`` and ``mip_bound`` (the dual bound, = objective
    for an LP) in the sense of the minimised objective; ``seconds``; ``row_dual`` and ``col_dual``
    (HiGHS's sign convention for a minimisation: a binding ``<=`` row has a dual <= 0), None for a MIP
    or when HiGHS has no dual values."""

    x: np.ndarray | None
    status: str
    objective: float
    mip_bound: float
    seconds: float
    row_dual: np.ndarray | None = None
    col_dual: np.ndarray | None = None


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


def solve(col_cost, col_lower, col_upper, matrix, row_lower, row_upper, *, integer=None,
          time_limit_s: float = 60.0, mip_rel_gap: float = 1e-6, start=None,
          options: dict | None = None) -> HighsResult:
    """Minimise ``col_cost . x`` subject to ``row_lower <= matrix x <= row_upper`` and the column
    bounds; columns where ``integer`` is True are integer. Infinite bounds are ``numpy.inf``.
    ``time_limit_s`` [s] counts HiGHS's own run; ``options``: further HiGHS options by name."""
    import highspy

    m = sp.csc_matrix(matrix, dtype=float)
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m.shape[1], m.shape[0]
    lp.col_cost_ = np.asarray(col_cost, dtype=float)
    lp.col_lower_ = np.nan_to_num(np.asarray(col_lower, dtype=float), neginf=-inf, posinf=inf)
    lp.col_upper_ = np.nan_to_num(np.asarray(col_upper, dtype=float), neginf=-inf, posinf=inf)
    lp.row_lower_ = np.nan_to_num(np.asarray(row_lower, dtype=float), neginf=-inf, posinf=inf)
    lp.row_upper_ = np.nan_to_num(np.asarray(row_upper, dtype=float), neginf=-inf, posinf=inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = m.indptr.astype(np.int32)
    lp.a_matrix_.index_ = m.indices.astype(np.int32)
    lp.a_matrix_.value_ = m.data
    mip = integer is not None and bool(np.any(integer))
    if mip:
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in np.asarray(integer, dtype=bool)]
    h = _new_highs(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
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
    objective = float(info.objective_function_value)
    row_dual = col_dual = None
    if not mip and solution.dual_valid:
        row_dual = np.asarray(solution.row_dual, dtype=float)
        col_dual = np.asarray(solution.col_dual, dtype=float)
    return HighsResult(x=x, status=status, objective=objective,
                       mip_bound=float(info.mip_dual_bound) if mip else objective, seconds=seconds,
                       row_dual=row_dual, col_dual=col_dual)
