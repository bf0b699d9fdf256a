"""Write a TR 38.901 7.8.1 calibration run: a percentile table (CSV) and CDF plots (PNG).

``calibration.csv`` has the columns ``metric,percentile,value`` (metric one of
:data:`cellscape.simulation.calibration.METRICS`, percentile 5 to 95 in steps of 5, value in dB).
Each metric gets a CDF figure, ``<metric>.png``, with published percentiles overlaid as points when
given (e.g. read with :func:`read_published_calibration` from a CSV shaped like
``PUBLISHED_CSV``, shipped with the package). Every file is written atomically.
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
from cellscape.simulation.calibration import METRICS, CalibrationResult, PercentileRow

__all__ = ["CSV_NAME", "PUBLISHED_CSV", "write_calibration", "read_published_calibration"]

PUBLISHED_CSV = Path(__file__).resolve().parent / "data" / "tr38901_calibration_published.csv"
"""The published 3GPP calibration medians (R1-165974, via QuaDRiGa's copy), shipped as package data."""

CSV_NAME = "calibration.csv"
_LABELS = {"coupling_loss_db": "Coupling loss to the serving sector [dB]",
           "geometry_sinr_db": "Geometry SINR (with noise) [dB]",
           "geometry_sir_db": "Geometry SIR (no noise) [dB]"}
_DPI = 150
_MAX_CDF_POINTS = 2000


def read_published_calibration(path: str | os.PathLike, *, scenario: str, fc_ghz: float) -> list[PercentileRow]:
    """Published percentiles of one scenario and frequency from a reference CSV.

    The file has the columns ``scenario,fc_ghz,metric,percentile,value,source``.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.
    scenario : str
        Scenario name as in the file (e.g. ``"UMa"``).
    fc_ghz : float
        Carrier frequency. [GHz]

    Returns
    -------
    list of PercentileRow
        Possibly empty when the file has no row for the pair.

    Raises
    ------
    DataFileError
        If the file cannot be read or lacks a column.
    """
    reader = published_csv_rows(path, {"scenario", "fc_ghz", "metric", "percentile", "value"}, "published calibration")
    return [PercentileRow(r["metric"], int(r["percentile"]), float(r["value"])) for r in reader
            if r["scenario"] == scenario and float(r["fc_ghz"]) == float(fc_ghz)]


def published_csv_rows(path, need: set[str], what: str) -> csv.DictReader:
    """The rows of a CSV of published figures that holds the columns ``need`` (a reader of dicts);
    :class:`DataFileError` naming ``what`` if it cannot be read or lacks a column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = need - set(reader.fieldnames or ())
    if missing:
        raise DataFileError(f"{path} lacks the column(s) {', '.join(sorted(missing))}")
    return reader


def _csv_text(rows: Iterable[PercentileRow]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["metric", "percentile", "value"])
    for row in rows:
        writer.writerow([row.metric, row.percentile, f"{row.value:.3f}"])
    return buf.getvalue()


def _cdf_png(path: Path, values: np.ndarray, published: list[PercentileRow], *, xlabel: str, title: str) -> Path:
    x = np.sort(np.asarray(values, dtype=float).ravel())
    x = x[np.isfinite(x)]                                                     # (n,)
    n = x.size
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.add_subplot()
    if n:
        idx = np.unique(np.linspace(0, n - 1, min(n, _MAX_CDF_POINTS)).round().astype(int))
        ax.step(x[idx], 100.0 * (idx + 1) / n, where="post", label=f"cellscape (n={n:,})")
    if published:
        ax.plot([r.value for r in published], [r.percentile for r in published], "k+--", lw=0.8,
                label="3GPP published (median of companies)")
    ax.set_ylim(0.0, 100.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("CDF [%]")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    FigureCanvasAgg(fig)
    return write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=_DPI))


def write_calibration(result: CalibrationResult, out_dir: str | os.PathLike, *,
                      published: Iterable[PercentileRow] = ()) -> dict[str, Path]:
    """
    Write ``calibration.csv`` and one CDF PNG per metric into ``out_dir``.

    Parameters
    ----------
    result : CalibrationResult
        A run of :func:`cellscape.simulation.calibration.run_calibration`.
    out_dir : str or os.PathLike
        Output folder; created if missing.
    published : iterable of PercentileRow, default ()
        Published percentiles of the same scenario and frequency, overlaid on the plot of their
        metric (rows of other metrics are ignored).

    Returns
    -------
    dict of str to Path
        ``"csv"`` and each metric name -> the file written.

    Examples
    --------
    >>> import tempfile
    >>> from cellscape.simulation.calibration import run_calibration
    >>> r = run_calibration("UMi", 30.0, n_drops=100, rng=np.random.default_rng(0))
    >>> paths = write_calibration(r, tempfile.mkdtemp())
    >>> sorted(paths), paths["csv"].read_text().splitlines()[0]
    (['coupling_loss_db', 'csv', 'geometry_sinr_db', 'geometry_sir_db'], 'metric,percentile,value')
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    published = list(published)
    paths: dict[str, Path] = {"csv": write_text_atomic(out / CSV_NAME, _csv_text(result.percentiles()))}
    title = f"TR 38.901 7.8.1 calibration: {result.environment}, {result.fc_ghz:g} GHz"
    for metric in METRICS:
        pub = sorted((r for r in published if r.metric == metric), key=lambda r: r.percentile)
        paths[metric] = _cdf_png(out / f"{metric}.png", getattr(result, metric), pub,
                                 xlabel=_LABELS[metric], title=title)
    return paths
