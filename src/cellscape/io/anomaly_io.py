"""Files of ``cellscape anomalies`` (docs/anomaly.md): the KPI table read, the results written atomically.

Input, Parquet or CSV, one row per cell and time step (long format)::

    cell_id, timestamp, prb_utilisation, throughput_mbps, sinr_db, rsrp_dbm, connected_users

``cell_id`` and ``timestamp`` are required, with at least one numeric KPI column; any other numeric
column is a KPI too (``load`` is read as ``prb_utilisation``). Timestamps are local wall-clock times
on a regular step that divides a day; a missing row is a NaN (not reported). An optional neighbour
file (CSV or Parquet, columns ``cell_id`` and ``neighbour_id``) groups concurrent events of
neighbouring cells into incidents.

Output: ``anomalies.parquet`` (one row per detected event), ``anomaly_metrics.json`` (the windows,
the settings, the counts and, for a synthetic run, precision / recall / F1 and the confusion
matrix), ``anomalies.png`` (the cells with the strongest events: KPI vs baseline, detections
shaded, injected truth underlined); a synthetic run also writes ``kpis.parquet`` (the series in the
input format, so that it can be run again) and ``injected_events.parquet`` (the truth).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cellscape.errors import DataFileError
from cellscape.io.atomic import write_atomic, write_json_atomic
from cellscape.resilience.anomaly import KINDS, AnomalyInputError, KpiSeries

KPI_ALIASES = {"load": "prb_utilisation", "prb_utilization": "prb_utilisation", "users": "connected_users",
               "sinr": "sinr_db", "rsrp": "rsrp_dbm", "throughput": "throughput_mbps"}
"""Foreign KPI column names -> glossary names (the only place they are translated)."""

ANOMALY_COLUMNS = ("cell_id", "start", "end", "n_steps", "kind", "peak_score")
"""Leading columns of ``anomalies.parquet``; one ``z_<kpi>`` column (median z over the event) follows per KPI."""


def _read_frame(path: Path):
    import pandas as pd

    if not path.is_file():
        raise DataFileError(f"KPI file {path} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix == ".csv":
            return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise DataFileError(f"cannot read {path}: {' '.join(str(exc).split())}") from None
    raise DataFileError(f"{path}: a KPI table must be .parquet or .csv, got {suffix or 'no extension'!r}")


def read_kpi_table(path) -> KpiSeries:
    """Read a long KPI table (module docstring) into a :class:`KpiSeries`.

    Raises
    ------
    DataFileError
        The file is missing, unreadable or of an unknown format.
    AnomalyInputError
        A required column is missing, a KPI column is not numeric, a (cell, time) pair repeats,
        timestamps do not parse or are not on one regular step.
    """
    import pandas as pd

    path = Path(path)
    df = _read_frame(path)
    df = df.rename(columns={c: KPI_ALIASES.get(str(c).lower(), c) for c in df.columns})
    missing = [c for c in ("cell_id", "timestamp") if c not in df.columns]
    if missing:
        raise AnomalyInputError(f"{path}: missing column(s) {', '.join(missing)} (found {', '.join(map(str, df.columns))})")
    if df.empty:
        raise AnomalyInputError(f"{path}: the KPI table has no rows")
    kpis = [c for c in df.columns if c not in ("cell_id", "timestamp")]
    bad = [c for c in kpis if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])]
    if bad:
        raise AnomalyInputError(f"{path}: KPI column(s) {', '.join(map(str, bad))} are not numeric")
    if not kpis:
        raise AnomalyInputError(f"{path}: no KPI column besides cell_id and timestamp")
    try:
        ts = pd.to_datetime(df["timestamp"])
    except (ValueError, TypeError) as exc:
        raise AnomalyInputError(f"{path}: timestamp does not parse: {' '.join(str(exc).split())}") from None
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_localize(None)                # wall-clock time of the zone the file gives
    if ts.isna().any():
        raise AnomalyInputError(f"{path}: {int(ts.isna().sum())} empty timestamp(s)")
    cell = df["cell_id"].astype(str)
    dup = pd.DataFrame({"c": cell, "t": ts}).duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise AnomalyInputError(f"{path}: cell {cell.iloc[i]} has two rows at {ts.iloc[i]}")
    t_s = ts.to_numpy().astype("datetime64[s]").astype(np.int64)
    times = np.unique(t_s)
    if times.size < 2:
        raise AnomalyInputError(f"{path}: one timestamp only; a time series needs a regular step")
    cell_ids, cell_idx = np.unique(cell.to_numpy(), return_inverse=True)
    order = np.lexsort((t_s, cell_idx))
    gaps = np.diff(t_s[order])[np.diff(cell_idx[order]) == 0]            # consecutive steps of each cell
    if gaps.size == 0:
        raise AnomalyInputError(f"{path}: one timestamp per cell only; a time series needs a regular step")
    values_, counts = np.unique(gaps, return_counts=True)
    step = int(values_[np.argmax(counts)])                               # the most common step
    off_grid = (times - times[0]) % step != 0
    if off_grid.any():
        bad = np.datetime64(int(times[np.argmax(off_grid)]), "s")
        raise AnomalyInputError(f"{path}: timestamps are not on one regular step of {step} s (e.g. {bad})")
    t_idx = (t_s - times[0]) // step
    n_steps = int(t_idx.max()) + 1
    values = {}
    for k in kpis:
        a = np.full((cell_ids.size, n_steps), np.nan)
        a[cell_idx, t_idx] = df[k].to_numpy(dtype=float)
        values[str(k)] = a
    try:
        return KpiSeries(tuple(str(c) for c in cell_ids), np.datetime64(int(times[0]), "s"), step, values)
    except AnomalyInputError as exc:
        raise AnomalyInputError(f"{path}: {exc}") from None


def kpi_frame(series: KpiSeries):
    """``series`` as a long table (the input format of :func:`read_kpi_table`)."""
    import pandas as pd

    n_cells, n_steps = series.n_cells, series.n_steps
    data = {"cell_id": np.repeat(np.asarray(series.cell_id, dtype=object), n_steps),
            "timestamp": np.tile(series.times(), n_cells)}
    for k, v in series.values.items():
        data[k] = v.reshape(-1)                                           # cell-major, like the repeat above
    return pd.DataFrame(data)


def _write_frame(path: Path, df) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    return write_atomic(path, lambda tmp: pq.write_table(table, tmp))


def write_kpi_table(path, series: KpiSeries) -> Path:
    """Write ``series`` as a Parquet KPI table, atomically."""
    return _write_frame(Path(path), kpi_frame(series))


def read_neighbours(path, cell_ids) -> np.ndarray:
    """Adjacency (n_cells, n_cells) bool from a neighbour list (``cell_id``, ``neighbour_id``), made
    symmetric; cells in the list but not in the KPI table are an error."""
    path = Path(path)
    df = _read_frame(path)
    missing = [c for c in ("cell_id", "neighbour_id") if c not in df.columns]
    if missing:
        raise AnomalyInputError(f"{path}: missing column(s) {', '.join(missing)}")
    index = {c: i for i, c in enumerate(cell_ids)}
    a = np.zeros((len(cell_ids), len(cell_ids)), dtype=bool)
    for c, n in zip(df["cell_id"].astype(str), df["neighbour_id"].astype(str)):
        if c not in index or n not in index:
            raise AnomalyInputError(f"{path}: cell {c if c not in index else n} is not in the KPI table")
        a[index[c], index[n]] = a[index[n], index[c]] = True
    np.fill_diagonal(a, False)
    return a


def anomalies_frame(run):
    """One row per detected event of ``run`` (a :class:`cellscape.pipeline.anomaly.AnomalyRun`)."""
    import pandas as pd

    ev = run.evaluation
    times = ev.times()
    step = np.timedelta64(ev.step_s, "s")
    rows = {c: [] for c in ANOMALY_COLUMNS}
    z_cols = {k: [] for k in run.baseline.kpis}
    for e in run.detection.events:
        rows["cell_id"].append(ev.cell_id[e.cell])
        rows["start"].append(times[e.start_step])
        rows["end"].append(times[e.stop_step - 1] + step)
        rows["n_steps"].append(e.stop_step - e.start_step)
        rows["kind"].append(e.kind)
        rows["peak_score"].append(e.peak_score)
        for k in z_cols:
            z_cols[k].append(e.median_z.get(k, np.nan))
    df = pd.DataFrame(rows)
    df["start"] = pd.to_datetime(np.asarray(rows["start"], dtype="datetime64[s]"))
    df["end"] = pd.to_datetime(np.asarray(rows["end"], dtype="datetime64[s]"))
    df["n_steps"] = df["n_steps"].astype("int64")
    df["peak_score"] = df["peak_score"].astype(float)
    for k, v in z_cols.items():
        df[f"z_{k}"] = np.asarray(v, dtype=float)
    return df


def events_frame(events, series: KpiSeries, *, offset_step: int = 0):
    """The injected events as a table: kind, cells, disturbed cells, start, end, magnitude."""
    import pandas as pd

    times = series.times()
    step = np.timedelta64(series.step_s, "s")
    return pd.DataFrame({
        "kind": [e.kind for e in events],
        "cell_ids": [" ".join(series.cell_id[c] for c in e.cells) for e in events],
        "disturbed_cell_ids": [" ".join(series.cell_id[c] for c in e.disturbed_cells) for e in events],
        "start": pd.to_datetime(np.asarray([times[e.start_step + offset_step] for e in events], dtype="datetime64[s]")),
        "end": pd.to_datetime(np.asarray([times[e.stop_step + offset_step - 1] + step for e in events],
                                         dtype="datetime64[s]")),
        "magnitude": np.asarray([e.magnitude for e in events], dtype=float),
    })


def run_summary(run) -> dict:
    """The windows, settings and counts of a detection (the body of ``anomaly_metrics.json``)."""
    det = run.detection
    ev = run.evaluation
    cfg = run.config
    n_cell_days = ev.n_cells * ev.n_steps * ev.step_s / 86400.0
    kinds = {k: sum(1 for e in det.events if e.kind == k) for k in KINDS[1:]}
    return {
        "cells": ev.n_cells, "kpis": list(run.baseline.kpis), "step_s": ev.step_s,
        "train_window": [str(run.train.start), str(run.baseline.train_stop)],
        "eval_window": [str(ev.start), str(ev.start + np.timedelta64(ev.n_steps * ev.step_s, "s"))],
        "detector": {"z_threshold": cfg.z_threshold, "min_kpis": cfg.min_kpis,
                     "min_duration_steps": cfg.min_duration_steps, "merge_gap_steps": cfg.merge_gap_steps,
                     "smooth_slots": cfg.smooth_slots, "scale_floors": dict(cfg.scale_floors),
                     "outage_fraction": cfg.outage_fraction, "neighbours": run.adjacency is not None},
        "detected_events": len(det.events), "detected_by_kind": kinds,
        "flagged_cell_steps": int(det.flagged.sum()),
        "events_per_cell_day": len(det.events) / n_cell_days if n_cell_days else None,
    }


def _plot(path: Path, run, *, truth_kind=None, n_cells: int = 4) -> Path:
    from matplotlib.figure import Figure

    from cellscape.io.plots import _save_png

    det = run.detection
    ev = run.evaluation
    kpi = "prb_utilisation" if "prb_utilisation" in run.baseline.kpis else run.baseline.kpis[0]
    cells: list[int] = []
    for kind in KINDS[1:]:                                             # the strongest event of each kind first
        of_kind = [e for e in det.events if e.kind == kind and e.cell not in cells]
        if of_kind and len(cells) < n_cells:
            cells.append(max(of_kind, key=lambda e: e.peak_score).cell)
    peak = np.where(det.flagged, det.score, 0.0).max(axis=1)           # then the highest scores
    cells += [int(c) for c in np.argsort(-peak, kind="stable") if int(c) not in cells][:n_cells - len(cells)]
    t_d = np.arange(ev.n_steps) * ev.step_s / 86400.0
    fig = Figure(figsize=(8.0, 1.8 * len(cells) + 0.6))
    colours = {"outage": "tab:red", "jamming": "tab:purple", "surge": "tab:orange", "other": "tab:gray"}
    axes = [fig.add_subplot(len(cells), 1, i + 1) for i in range(len(cells))]
    for ax, c in zip(axes, cells):
        ax.plot(t_d, ev.values[kpi][c], lw=0.8, color="black", label="observed")
        ax.plot(t_d, det.expected[kpi][c], lw=0.8, color="tab:blue", alpha=0.8, label="baseline")
        for e in det.events:
            if e.cell == c:
                ax.axvspan(t_d[e.start_step], t_d[e.stop_step - 1] + ev.step_s / 86400.0, color=colours[e.kind],
                           alpha=0.25, lw=0)
        if truth_kind is not None:
            for code, kind in enumerate(KINDS):
                if code == 0:
                    continue
                mask = truth_kind[c] == code
                if mask.any():
                    ax.plot(t_d[mask], np.full(mask.sum(), -0.05 * np.nanmax(ev.values[kpi][c])), "|",
                            color=colours[kind], ms=6)
        ax.set_ylabel(f"{ev.cell_id[c]}", fontsize=8)
        ax.grid(True, alpha=0.3)
    axes[0].set_title(f"{kpi}: observed vs baseline; detected events shaded "
                      f"(red outage, purple jamming, orange surge){'; injected truth ticks' if truth_kind is not None else ''}",
                      fontsize=8)
    axes[0].legend(loc="upper right", fontsize=7)
    axes[-1].set_xlabel(f"days since {ev.start}")
    fig.tight_layout()
    return _save_png(fig, path)


def write_anomaly_outputs(run, out_dir, *, metrics: dict | None = None, synthetic=None, png: bool = True) -> list[Path]:
    """Write ``anomalies.parquet``, ``anomaly_metrics.json`` and (``png``) ``anomalies.png`` for ``run``
    (an :class:`cellscape.pipeline.anomaly.AnomalyRun`); ``metrics`` is added to the JSON. With
    ``synthetic`` (a :class:`cellscape.pipeline.anomaly.SyntheticRun`, the first seed of an
    evaluation), also ``kpis.parquet`` and ``injected_events.parquet``, and the truth in the figure."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [_write_frame(out / "anomalies.parquet", anomalies_frame(run))]
    doc = run_summary(run)
    if metrics is not None:
        doc.update(metrics)
    written.append(write_json_atomic(out / "anomaly_metrics.json", doc))
    truth = None
    if synthetic is not None:
        written.append(write_kpi_table(out / "kpis.parquet", run.series))
        written.append(_write_frame(out / "injected_events.parquet",
                                    events_frame(synthetic.events, run.series, offset_step=run.eval_start_step)))
        truth = synthetic.injection.truth_kind[:, run.eval_start_step:]
    if png:
        written.append(_plot(out / "anomalies.png", run, truth_kind=truth))
    return written


__all__ = ["ANOMALY_COLUMNS", "KPI_ALIASES", "anomalies_frame", "events_frame", "kpi_frame", "read_kpi_table",
           "read_neighbours", "run_summary", "write_anomaly_outputs", "write_kpi_table"]

