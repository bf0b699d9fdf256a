"""Files of ``cellscape forecast``: the load-history reader and writer, forecasts, accuracy, a plot.

Input (:func:`read_load_history`): Parquet (``.parquet``/``.pq``) or CSV, one row per cell and
sample, columns ``cell_id``, ``timestamp`` and ``load`` (or ``prb_utilisation``), the PRB
utilisation as a fraction 0 to 1; an optional ``cell_type`` column is kept. Every cell must have a
sample at every step of one regular time grid (local time; a time zone in the file is dropped
after conversion to the first timestamp's offset).

Outputs (:func:`write_forecast_outputs`), each written atomically:

- ``forecast.parquet``: cell_id, timestamp, actual, forecast, baseline over the held-out days;
- ``accuracy.json``: model, baseline, periods, overall and per-cell MAE/MAPE of both;
- ``accuracy.csv``: one row per cell (cell_id, cell_type, mae, mape_pct, baseline_mae, baseline_mape_pct);
- ``forecast.png``: held-out days of a few cells (actual, forecast, baseline).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from cellscape.ai.loadgen import LoadHistory
from cellscape.errors import DataFileError
from cellscape.io.atomic import write_atomic, write_json_atomic, write_text_atomic

LOAD_COLUMNS = ("load", "prb_utilisation")
"""Accepted names of the load column, first match wins."""

PLOT_CELLS = 4
"""Number of cells drawn in forecast.png."""


def _read_table(path: Path):
    import pandas as pd

    if not path.is_file():
        raise DataFileError(f"load history {path} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".csv", ".txt"):
            return pd.read_csv(path)
    except Exception as exc:  # pandas/pyarrow raise many types for a corrupt file
        raise DataFileError(f"cannot read load history {path}: {' '.join(str(exc).split())[:200]}") from None
    raise DataFileError(f"load history {path}: unknown format {suffix!r} (use .parquet or .csv)")


def read_load_history(path: str | os.PathLike, *, step_s: float | None = None) -> LoadHistory:
    """Read a per-cell load history (module docstring) into a :class:`LoadHistory`.

    Parameters
    ----------
    path : str or os.PathLike
        Parquet or CSV file.
    step_s : float, optional
        Expected sampling step; inferred from the timestamps when omitted. [s]

    Returns
    -------
    LoadHistory
        Cells sorted by id; ``cell_type`` from the file's column or ``"unknown"``.

    Raises
    ------
    DataFileError
        A missing column, unparsable timestamps, an irregular or unexpected step, missing or
        duplicate samples, or loads outside [0, 1]; the message names the problem.
    """
    import pandas as pd

    path = Path(path)
    df = _read_table(path)
    where = f"load history {path}"
    load_col = next((c for c in LOAD_COLUMNS if c in df.columns), None)
    missing = [c for c in ("cell_id", "timestamp") if c not in df.columns]
    if load_col is None:
        missing.append("load (or prb_utilisation)")
    if missing:
        raise DataFileError(f"{where}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}")
    if len(df) == 0:
        raise DataFileError(f"{where}: no rows")
    try:
        ts = pd.to_datetime(df["timestamp"])
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataFileError(f"{where}: unparsable timestamps ({' '.join(str(exc).split())[:160]})") from None
    if ts.isna().any():
        raise DataFileError(f"{where}: unparsable timestamps ({int(ts.isna().sum())} empty or invalid)")
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_localize(None)
    t64 = ts.to_numpy().astype("datetime64[s]")
    load = pd.to_numeric(df[load_col], errors="coerce").to_numpy(dtype=np.float64)
    if not np.isfinite(load).all():
        raise DataFileError(f"{where}: column {load_col} holds {int((~np.isfinite(load)).sum())} empty or non-numeric values")
    if load.min() < 0.0 or load.max() > 1.0:
        bad = load[(load < 0.0) | (load > 1.0)][0]
        hint = " (percentages? divide by 100)" if load.max() <= 100.0 and load.min() >= 0.0 else ""
        raise DataFileError(f"{where}: column {load_col} must be a fraction 0 to 1, found {bad:g}{hint}")
    cells = df["cell_id"].astype(str).to_numpy()
    ids = np.unique(cells)
    grid = np.unique(t64)
    if grid.size < 2:
        raise DataFileError(f"{where}: fewer than two distinct timestamps")
    diffs = np.diff(grid).astype(np.int64)
    step = int(diffs.min()) if step_s is None else int(round(step_s))
    if step_s is not None and (step_s <= 0 or step != step_s):
        raise DataFileError(f"{where}: --step-s {step_s:g} must be a whole, positive number of seconds")
    if step_s is not None and int(diffs.min()) != step:
        raise DataFileError(f"{where}: samples are {int(diffs.min())} s apart, not --step-s {step}")
    irregular = np.flatnonzero(diffs != step)
    if irregular.size:
        i = int(irregular[0])
        raise DataFileError(f"{where}: irregular step: {diffs[i]} s between {grid[i]} and {grid[i + 1]}, expected "
                            f"{step} s ({irregular.size} irregular gaps)")
    cell_index = {c: i for i, c in enumerate(ids)}
    ci = np.fromiter((cell_index[c] for c in cells), dtype=np.int64, count=cells.size)
    ti = ((t64 - grid[0]).astype(np.int64) // step).astype(np.int64)
    counts = np.zeros((ids.size, grid.size), dtype=np.int64)
    np.add.at(counts, (ci, ti), 1)
    if (counts > 1).any():
        c, t = np.argwhere(counts > 1)[0]
        raise DataFileError(f"{where}: duplicate samples, e.g. cell {ids[c]} at {grid[t]}")
    if (counts == 0).any():
        c, t = np.argwhere(counts == 0)[0]
        raise DataFileError(f"{where}: missing samples, e.g. cell {ids[c]} at {grid[t]} "
                            f"({int((counts == 0).sum())} missing in all)")
    matrix = np.empty((ids.size, grid.size))
    matrix[ci, ti] = load
    if "cell_type" in df.columns:
        types = np.empty(ids.size, dtype=object)
        types[ci] = df["cell_type"].astype(str).to_numpy()
        types = types.astype(str)
    else:
        types = np.full(ids.size, "unknown")
    return LoadHistory(cell_id=ids.astype(str), cell_type=types, start=grid[0], step_s=float(step), load=matrix)


def _write_parquet(path: Path, columns: dict) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({k: np.asarray(v) for k, v in columns.items()})
    return write_atomic(path, lambda tmp: pq.write_table(table, tmp))


def write_load_history(path: str | os.PathLike, history: LoadHistory) -> Path:
    """Write a history as Parquet: cell_id, cell_type, timestamp, load (one row per cell and sample)."""
    n_c, n_t = history.load.shape
    return _write_parquet(Path(path), {
        "cell_id": np.repeat(history.cell_id.astype(str), n_t),
        "cell_type": np.repeat(history.cell_type.astype(str), n_t),
        "timestamp": np.tile(history.timestamps(), n_c),
        "load": history.load.ravel(),
    })


def _period(first, last, n_steps: int, step_s: float) -> dict:
    return {"start": str(first), "last_sample": str(last), "n_steps": int(n_steps),
            "days": n_steps * step_s / 86400.0}


def accuracy_summary(run) -> dict:
    """The content of accuracy.json for a :class:`cellscape.pipeline.forecast.ForecastRun`."""
    ev = run.evaluation
    h = run.history
    week = int(round(7 * 86400 / h.step_s))

    def overall(e):
        return {"mae": e["mae"], "mape_pct": e["mape_pct"], "mape_fraction_used": e["mape_fraction_used"]}

    per_cell = [
        {"cell_id": str(h.cell_id[i]), "cell_type": str(h.cell_type[i]),
         "mae": ev.errors["per_cell"]["mae"][i], "mape_pct": ev.errors["per_cell"]["mape_pct"][i],
         "baseline_mae": ev.baseline_errors["per_cell"]["mae"][i],
         "baseline_mape_pct": ev.baseline_errors["per_cell"]["mape_pct"][i]}
        for i in range(h.n_cells)
    ]
    base_mae = ev.baseline_errors["mae"]
    out = {
        "model": ev.model,
        "baseline": f"seasonal_naive (weekly season, {week} steps)",
        "step_s": h.step_s,
        "n_cells": h.n_cells,
        "train": _period(*run.train_period, ev.train_steps, h.step_s),
        "holdout": _period(*run.holdout_period, ev.holdout_steps, h.step_s),
        "mape_min_load": ev.errors["mape_min_load"],
        "mape_note": "MAPE over held-out samples with actual load >= mape_min_load; MAE over all",
        "overall": {"model": overall(ev.errors), "baseline": overall(ev.baseline_errors),
                    "mae_skill": (1.0 - ev.errors["mae"] / base_mae) if base_mae > 0 else None},
        "fit_predict_s": ev.fit_predict_s,
        "per_cell": per_cell,
    }
    if run.demand is not None:
        d = run.demand
        out["cells_from_simulation"] = [
            {"cell_id": str(d.cell_id[i]), "cell_type": str(d.cell_type[i]), "type_rule": str(d.type_rule[i]),
             "busy_hour_load": d.peak_load[i], "users": d.users[i], "building_share": d.building_share[i]}
            for i in range(d.cell_id.size)
        ]
    return out


def _accuracy_csv(summary: dict) -> str:
    buf = io.StringIO()
    cols = ["cell_id", "cell_type", "mae", "mape_pct", "baseline_mae", "baseline_mape_pct"]
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for row in summary["per_cell"]:
        w.writerow([row[c] if isinstance(row[c], str) else ("" if not np.isfinite(row[c]) else f"{row[c]:.6g}")
                    for c in cols])
    return buf.getvalue()


def plot_cells(run, n_cells: int = PLOT_CELLS) -> list[int]:
    """Indices of the cells drawn: the busiest cell of each type, then the busiest others."""
    h = run.history
    mean = h.load.mean(axis=1)
    chosen = []
    for t in dict.fromkeys(h.cell_type.tolist()):
        idx = np.flatnonzero(h.cell_type == t)
        chosen.append(int(idx[np.argmax(mean[idx])]))
    for i in np.argsort(-mean, kind="stable"):
        if len(chosen) >= n_cells:
            break
        if int(i) not in chosen:
            chosen.append(int(i))
    return chosen[:n_cells]


def plot_forecast_png(path: str | os.PathLike, run, *, n_cells: int = PLOT_CELLS) -> Path:
    """Held-out days of a few cells: actual, forecast and seasonal-naive baseline."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ev = run.evaluation
    h = run.history
    ts = run.holdout_timestamps()
    cells = plot_cells(run, n_cells)
    fig = Figure(figsize=(10, 2.2 * len(cells) + 0.6))
    axes = fig.subplots(len(cells), 1, sharex=True, squeeze=False)[:, 0]
    for ax, c in zip(axes, cells):
        ax.plot(ts, ev.actual[c], color="black", lw=0.8, label="actual")
        ax.plot(ts, ev.baseline[c], color="tab:orange", lw=0.8, alpha=0.8, label="seasonal naive")
        ax.plot(ts, ev.forecast[c], color="tab:blue", lw=1.0, label=ev.model)
        ax.set_ylabel("PRB utilisation")
        ax.set_ylim(0.0, 1.0)
        ax.set_title(f"{h.cell_id[c]} ({h.cell_type[c]}): MAE {ev.errors['per_cell']['mae'][c]:.3f}, "
                     f"baseline {ev.baseline_errors['per_cell']['mae'][c]:.3f}", fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper right", fontsize=8, ncol=3)
    fig.autofmt_xdate()
    fig.tight_layout()
    FigureCanvasAgg(fig)
    return write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))


def write_forecast_outputs(run, out_dir: str | os.PathLike, *, png: bool = True) -> list[Path]:
    """Write forecast.parquet, accuracy.json, accuracy.csv (and forecast.png) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ev = run.evaluation
    h = run.history
    ts = run.holdout_timestamps()
    n_c, n_t = ev.actual.shape
    summary = accuracy_summary(run)
    written = [
        _write_parquet(out / "forecast.parquet", {
            "cell_id": np.repeat(h.cell_id.astype(str), n_t),
            "timestamp": np.tile(ts, n_c),
            "actual": ev.actual.ravel(),
            "forecast": ev.forecast.ravel(),
            "baseline": ev.baseline.ravel(),
        }),
        write_json_atomic(out / "accuracy.json", summary),
        write_text_atomic(out / "accuracy.csv", _accuracy_csv(summary)),
    ]
    if png:
        written.append(plot_forecast_png(out / "forecast.png", run))
    return written
