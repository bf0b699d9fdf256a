"""Write a TR 38.901 7.9.6.1 ISAC (UAV) calibration run: a percentile table (CSV) and CDF plots (PNG).

``isac_calibration.csv`` has the columns ``link,metric,percentile,value`` (link one of
:data:`cellscape.sensing.calibration.LINKS`, metric one of
:data:`cellscape.sensing.calibration.METRICS`, percentile 0 to 100 in steps of 5, value the
coupling loss in dB). Each link gets a CDF figure, ``isac_<link>.png``, with its target and
background curves and, when given, published percentiles overlaid as points. Published per-company
Rel-19 results (R1-2509126) were not available where this module was written, so no reference
data ship with the package: the figure title says so when none are passed. Every file is written
atomically.
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
from cellscape.io.calibration_report import published_csv_rows
from cellscape.sensing.calibration import LINKS, METRICS, IsacCalibrationResult, IsacPercentileRow

__all__ = ["CSV_NAME", "NO_PUBLISHED_NOTE", "write_isac_calibration", "read_published_isac_calibration",
           "percentile_gaps"]

CSV_NAME = "isac_calibration.csv"
NO_PUBLISHED_NOTE = "no published numbers available in this workplace"
_TITLES = {"trp_monostatic": "TRP monostatic", "trp_trp_bistatic": "TRP-TRP bistatic",
           "trp_ue_bistatic": "TRP-UE bistatic", "ue_ue_bistatic": "UE-UE bistatic"}
_CURVES = {"target_coupling_loss_db": "target channel", "background_coupling_loss_db": "background channel"}
_DPI = 150
_MAX_CDF_POINTS = 2000


def read_published_isac_calibration(path: str | os.PathLike, *, fc_ghz: float) -> list[IsacPercentileRow]:
    """
    Published percentiles at one frequency from a reference CSV.

    The file has the columns ``link,metric,percentile,value,source`` and, optionally, ``fc_ghz``
    (rows whose ``fc_ghz`` differs from ``fc_ghz`` are skipped; without the column every row is
    taken to be at ``fc_ghz``).

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.
    fc_ghz : float
        Carrier frequency. [GHz]

    Returns
    -------
    list of IsacPercentileRow
        Possibly empty.

    Raises
    ------
    DataFileError
        If the file cannot be read, lacks a column or holds an unknown link or metric.
    """
    reader = published_csv_rows(path, {"link", "metric", "percentile", "value", "source"}, "published ISAC calibration")
    rows = []
    for r in reader:
        if "fc_ghz" in r and r["fc_ghz"] not in (None, "") and float(r["fc_ghz"]) != float(fc_ghz):
            continue
        if r["link"] not in LINKS or r["metric"] not in METRICS:
            raise DataFileError(f"{path}: unknown link/metric {r['link']!r}/{r['metric']!r}; links: "
                                f"{', '.join(LINKS)}; metrics: {', '.join(METRICS)}")
        rows.append(IsacPercentileRow(r["link"], r["metric"], int(r["percentile"]), float(r["value"])))
    return rows


def percentile_gaps(ours: Iterable[IsacPercentileRow],
                    published: Iterable[IsacPercentileRow]) -> list[tuple[str, str, int, float, float, float]]:
    """
    (link, metric, percentile, ours, published, ours - published) for every published row we also have.

    Examples
    --------
    >>> a = [IsacPercentileRow("trp_monostatic", "target_coupling_loss_db", 50, 170.0)]
    >>> b = [IsacPercentileRow("trp_monostatic", "target_coupling_loss_db", 50, 171.5)]
    >>> percentile_gaps(a, b)
    [('trp_monostatic', 'target_coupling_loss_db', 50, 170.0, 171.5, -1.5)]
    """
    mine = {(r.link, r.metric, r.percentile): r.value for r in ours}
    return [(r.link, r.metric, r.percentile, mine[key], r.value, mine[key] - r.value)
            for r in published if (key := (r.link, r.metric, r.percentile)) in mine]


def _csv_text(rows: Iterable[IsacPercentileRow]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["link", "metric", "percentile", "value"])
    for row in rows:
        writer.writerow([row.link, row.metric, row.percentile, f"{row.value:.3f}"])
    return buf.getvalue()


def _cdf_png(path: Path, curves: dict[str, np.ndarray], published: list[IsacPercentileRow], *, title: str) -> Path:
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.add_subplot()
    for metric, values in curves.items():
        x = np.sort(np.asarray(values, dtype=float).ravel())
        x = x[np.isfinite(x)]
        n = x.size
        if n:
            idx = np.unique(np.linspace(0, n - 1, min(n, _MAX_CDF_POINTS)).round().astype(int))
            ax.step(x[idx], 100.0 * (idx + 1) / n, where="post", label=f"cellscape, {_CURVES[metric]} (n={n:,})")
        pub = sorted((r for r in published if r.metric == metric), key=lambda r: r.percentile)
        if pub:
            ax.plot([r.value for r in pub], [r.percentile for r in pub], "k+--", lw=0.8,
                    label=f"published, {_CURVES[metric]}")
    ax.set_ylim(0.0, 100.0)
    ax.set_xlabel("Coupling loss [dB]")
    ax.set_ylabel("CDF [%]")
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    FigureCanvasAgg(fig)
    return write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=_DPI))


def write_isac_calibration(result: IsacCalibrationResult, out_dir: str | os.PathLike, *,
                           published: Iterable[IsacPercentileRow] = ()) -> dict[str, Path]:
    """
    Write ``isac_calibration.csv`` and one CDF PNG per sensing mode into ``out_dir``.

    Parameters
    ----------
    result : IsacCalibrationResult
        A run of :func:`cellscape.sensing.calibration.run_isac_calibration`.
    out_dir : str or os.PathLike
        Output folder; created if missing.
    published : iterable of IsacPercentileRow, default ()
        Published percentiles at the same frequency, overlaid on the plot of their link. When
        empty, every title says :data:`NO_PUBLISHED_NOTE`.

    Returns
    -------
    dict of str to Path
        ``"csv"`` and each link name -> the file written.

    Examples
    --------
    >>> import tempfile
    >>> from cellscape.sensing.calibration import run_isac_calibration
    >>> paths = write_isac_calibration(run_isac_calibration(6.0, 20, 0), tempfile.mkdtemp())
    >>> sorted(paths)[:2], paths["csv"].read_text().splitlines()[0]
    (['csv', 'trp_monostatic'], 'link,metric,percentile,value')
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    published = list(published)
    paths: dict[str, Path] = {"csv": write_text_atomic(out / CSV_NAME, _csv_text(result.percentiles()))}
    for link in LINKS:
        curves = {m: result.samples[(link, m)] for m in METRICS if (link, m) in result.samples}
        pub = [r for r in published if r.link == link]
        title = (f"TR 38.901 Table 7.9.6.1-1 (UAV, UMa-AV), {result.fc_ghz:g} GHz: {_TITLES[link]}"
                 + ("" if pub else f"\n{NO_PUBLISHED_NOTE}"))
        paths[link] = _cdf_png(out / f"isac_{link}.png", curves, pub, title=title)
    return paths
