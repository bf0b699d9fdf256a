"""Write a system-level calibration run: ours vs published (CSV) and the user spectral-efficiency CDFs (PNG).

``system_calibration.csv`` has one row per direction and figure of merit
(:data:`cellscape.simulation.system_calibration.FIGURES`), with the published value, the gap and
its source when a published row matches: ``direction,metric,ours,published,gap,gap_percent,
reference,antenna,source``. ``user_spectral_efficiency.csv`` holds the percentiles 1..99 of the
per-user spectral efficiency of each direction simulated, and ``user_spectral_efficiency_cdf.png``
draws those CDFs with the published 5th percentiles marked. The published figures ship with the
package (:data:`PUBLISHED_CSV`, read with :func:`read_published_system_calibration`). Every file is
written atomically.
"""

from __future__ import annotations

from collections.abc import Iterable
import csv
import io
import os
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
import numpy as np

from cellscape.errors import DataFileError
from cellscape.io.atomic import write_atomic, write_text_atomic
from cellscape.simulation.system_calibration import (
    DIRECTIONS,
    FIGURES,
    PublishedFigure,
    SystemCalibrationResult,
    figure_gaps,
)

__all__ = ["CSV_NAME", "PERCENTILES_CSV_NAME", "CDF_PNG_NAME", "PUBLISHED_CSV", "read_published_system_calibration",
           "write_system_calibration"]

PUBLISHED_CSV = Path(__file__).resolve().parent / "data" / "system_calibration_published.csv"
"""Published full-buffer figures (LTE Rel-8 in 3GPP Case 1, R1-072444 / R1-072261), shipped as package data."""

CSV_NAME = "system_calibration.csv"
PERCENTILES_CSV_NAME = "user_spectral_efficiency.csv"
CDF_PNG_NAME = "user_spectral_efficiency_cdf.png"
_COLUMNS = ("reference", "direction", "metric", "value", "antenna", "scheme", "source", "conditions")
_DPI = 150
_MAX_CDF_POINTS = 2000
_LABELS = {"dl": "downlink", "ul": "uplink"}


def read_published_system_calibration(path: str | os.PathLike = PUBLISHED_CSV, *,
                                      reference: str | None = None) -> list[PublishedFigure]:
    """
    Published figures of merit from a reference CSV.

    Parameters
    ----------
    path : str or os.PathLike, default :data:`PUBLISHED_CSV`
        The CSV, columns ``reference,direction,metric,value,antenna,scheme,source,conditions``.
    reference : str, optional
        Keep the rows of this configuration only (e.g. ``"lte-rel8-case1"``).

    Returns
    -------
    list of PublishedFigure

    Raises
    ------
    DataFileError
        If the file cannot be read, lacks a column or holds a value that is not a number.

    Examples
    --------
    >>> rows = read_published_system_calibration()
    >>> sorted({(r.direction, r.metric) for r in rows})[0]
    ('dl', 'cell_spectral_efficiency_bps_hz')
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(f"cannot read published system calibration {path}: {exc.strerror or exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = set(_COLUMNS) - set(reader.fieldnames or ())
    if missing:
        raise DataFileError(f"{path} lacks the column(s) {', '.join(sorted(missing))}")
    rows = []
    for line, r in enumerate(reader, start=2):
        if reference is not None and r["reference"] != reference:
            continue
        try:
            value = float(r["value"])
        except ValueError:
            raise DataFileError(f"{path}:{line}: value {r['value']!r} is not a number") from None
        rows.append(PublishedFigure(reference=r["reference"], direction=r["direction"], metric=r["metric"],
                                    value=value, antenna=r["antenna"], scheme=r["scheme"], source=r["source"],
                                    conditions=r["conditions"]))
    return rows


def _directions(result: SystemCalibrationResult) -> tuple[str, ...]:
    return DIRECTIONS if result.config.uplink else ("dl",)


def _summary_csv(result: SystemCalibrationResult, published: list[PublishedFigure]) -> str:
    gaps = {(g.direction, g.metric): g for g in figure_gaps(result, published)}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["direction", "metric", "ours", "published", "gap", "gap_percent", "reference", "antenna", "source"])
    for (direction, metric), ours in result.figures().items():
        g = gaps.get((direction, metric))
        if g is None:
            w.writerow([direction, metric, f"{ours:.4f}", "", "", "", "", "", ""])
        else:
            w.writerow([direction, metric, f"{ours:.4f}", f"{g.published:g}", f"{g.gap:+.4f}",
                        f"{100.0 * g.gap_relative:+.1f}", g.reference, g.antenna, g.source])
    return buf.getvalue()


def _percentiles_csv(result: SystemCalibrationResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    dirs = _directions(result)
    w.writerow(["percentile"] + [f"{d}_user_spectral_efficiency_bps_hz" for d in dirs])
    for p in range(1, 100):
        w.writerow([p] + [f"{result.user_spectral_efficiency_bps_hz(d, p):.5f}" for d in dirs])
    return buf.getvalue()


def _cdf_png(path: Path, result: SystemCalibrationResult, published: list[PublishedFigure]) -> Path:
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.add_subplot()
    for d in _directions(result):
        x = np.sort(result.user_se_bps_hz(d))
        x = x[np.isfinite(x)]                                                  # (n,)
        if x.size == 0:
            continue
        idx = np.unique(np.linspace(0, x.size - 1, min(x.size, _MAX_CDF_POINTS)).round().astype(int))
        line, = ax.step(x[idx], 100.0 * (idx + 1) / x.size, where="post",
                        label=f"cellscape {_LABELS[d]} (n={x.size:,})")
        for p in published:
            if p.direction == d and p.metric == FIGURES[1]:
                ax.plot([p.value], [5.0], marker="o", ls="none", color=line.get_color(), mfc="none",
                        label=f"{p.reference} {_LABELS[d]} 5 % ({p.antenna})")
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_ylim(0.0, 100.0)
    ax.set_xlabel("User spectral efficiency [bit/s/Hz]")
    ax.set_ylabel("CDF [%]")
    c = result.config
    ax.set_title(f"Full buffer, {c.environment} {c.fc_ghz:g} GHz, {c.ues_per_cell} UEs/cell, {c.n_drops} drops, "
                 f"{c.scheduler.upper()}")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    FigureCanvasAgg(fig)
    return write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=_DPI))


def write_system_calibration(result: SystemCalibrationResult, out_dir: str | os.PathLike, *,
                             published: Iterable[PublishedFigure] = ()) -> dict[str, Path]:
    """
    Write ``system_calibration.csv``, ``user_spectral_efficiency.csv`` and the CDF PNG into ``out_dir``.

    Parameters
    ----------
    result : SystemCalibrationResult
        A run of :func:`cellscape.simulation.system_calibration.run_system_calibration`.
    out_dir : str or os.PathLike
        Output folder; created if missing.
    published : iterable of PublishedFigure, default ()
        Published figures to compare with (rows of a direction or metric not simulated are ignored).

    Returns
    -------
    dict of str to Path
        ``"csv"``, ``"percentiles"`` and ``"cdf"`` -> the file written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    published = list(published)
    return {"csv": write_text_atomic(out / CSV_NAME, _summary_csv(result, published)),
            "percentiles": write_text_atomic(out / PERCENTILES_CSV_NAME, _percentiles_csv(result)),
            "cdf": _cdf_png(out / CDF_PNG_NAME, result, published)}
