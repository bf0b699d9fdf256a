"""Files of the massive-IoT evaluation of ``cellscape simulate`` (docs/simulation.md, *Massive IoT*),
each written atomically:

* ``iot_coverage.tif``: bands ``coupling_loss_db`` (to the best sector on the IoT carrier, device
  gain included) and ``ce_level`` (0, 1, 2; 3 = beyond the maximum coupling loss), the grid's CRS;
* ``iot_density.csv``: one row per density evaluated (the configured one and the connection-density
  search): packets, packet outage rate, access success rate, latency percentiles;
* ``iot.json``: the evaluation's summary (also under ``iot`` in summary.json);
* with ``png``: ``iot_ce_level.png`` (the coverage-class map), ``iot_coupling_loss.png`` and
  ``iot_outage.png`` (packet outage against device density, the 1 % target and the IMT-2020
  requirement of 1,000,000 devices/km2).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from cellscape.io.atomic import write_atomic, write_json_atomic
from cellscape.simulation.iot import IMT2020_CONNECTION_DENSITY_PER_KM2, OUTAGE_TARGET, IotEvaluation

DENSITY_COLUMNS = ("density_per_km2", "packets", "packet_outage_rate", "access_success_rate", "latency_p50_s",
                   "latency_p99_s", "configured")


def density_rows(iot: IotEvaluation) -> list[dict]:
    """One row per evaluated density, sorted by density (the configured run flagged)."""
    rows = []
    runs = {id(r): r for r in (iot.run, *iot.density_runs)}
    for r in sorted(runs.values(), key=lambda r: (r.density_per_km2, r is not iot.run)):
        s = r.summary()
        rows.append({"density_per_km2": r.density_per_km2, "packets": r.packets,
                     "packet_outage_rate": r.outage_rate, "access_success_rate": r.access_success_rate,
                     "latency_p50_s": s["latency_s"]["p50"], "latency_p99_s": s["latency_s"]["p99"],
                     "configured": r is iot.run})
    return rows


def _write_csv(path: Path, rows: list[dict], columns=DENSITY_COLUMNS) -> Path:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: ("" if v is None else v) for k, v in row.items()})
    text = buf.getvalue()
    return write_atomic(path, lambda tmp: Path(tmp).write_text(text))


def write_iot_outputs(iot: IotEvaluation, grid, out_dir: str | Path, *, png: bool = True, name: str = "",
                      sites_xy_m: np.ndarray | None = None, footprints=None) -> list[Path]:
    """Write the IoT evaluation ``iot`` (on ``grid``) into ``out_dir``; return the paths."""
    from cellscape.io.geotiff import write_geotiff

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cov = iot.coverage
    written = [write_geotiff(out / "iot_coverage.tif", {"coupling_loss_db": cov.coupling_loss_db.astype(np.float32),
                                                         "ce_level": cov.ce_level.astype(np.float32)}, grid),
               _write_csv(out / "iot_density.csv", density_rows(iot)),
               write_json_atomic(out / "iot.json", iot.summary())]
    if png:
        from cellscape.io.plots import plot_map_png, plot_timeseries_png

        t0, t1 = (f"{v:g}" for v in (cov.coupling_loss_db.min(), cov.coupling_loss_db.max()))
        written.append(plot_map_png(out / "iot_ce_level.png", cov.ce_level.astype(float), grid,
                                    title=f"{name}: NB-IoT coverage class at {iot.fc_ghz:g} GHz (3 = beyond MCL)",
                                    units_label="CE level", cmap="viridis", vmin=0, vmax=3, categorical=True,
                                    sites_xy_m=sites_xy_m, footprints=footprints))
        written.append(plot_map_png(out / "iot_coupling_loss.png", cov.coupling_loss_db, grid,
                                    title=f"{name}: coupling loss to the best sector ({t0}..{t1} dB)",
                                    units_label="coupling loss [dB]", cmap="viridis_r", vmin=None, vmax=None,
                                    sites_xy_m=sites_xy_m, footprints=footprints))
        rows = density_rows(iot)
        if len(rows) > 1:
            d = np.array([r["density_per_km2"] for r in rows])
            o = np.array([r["packet_outage_rate"] for r in rows])
            written.append(plot_timeseries_png(
                out / "iot_outage.png", d, {"packet outage rate": o,
                                            f"{100 * OUTAGE_TARGET:g} % target": np.full(d.size, OUTAGE_TARGET)},
                ylabel=f"packet outage rate (> {iot.run.latency_limit_s:g} s or lost)",
                title=f"{name}: outage vs device density (IMT-2020: {IMT2020_CONNECTION_DENSITY_PER_KM2:.0e}/km2)",
                xlabel="devices per km2", log_x=True))
    return written


def write_m2412_outputs(results: dict, out_dir: str | Path) -> list[Path]:
    """The ITU-R M.2412 Urban Macro-mMTC evaluation (``cellscape calibrate --iot``): ``results`` maps
    a configuration ('A', 'B') to its :class:`IotEvaluation`; writes ``iot_m2412.json`` (each
    configuration's summary) and ``iot_m2412_density.csv`` (the densities evaluated, per
    configuration)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = [{"config": c, **row} for c, ev in results.items() for row in density_rows(ev)]
    return [write_json_atomic(out / "iot_m2412.json", {c: ev.summary() for c, ev in results.items()}),
            _write_csv(out / "iot_m2412_density.csv", rows, ("config", *DENSITY_COLUMNS))]


__all__ = ["DENSITY_COLUMNS", "density_rows", "write_iot_outputs", "write_m2412_outputs"]
