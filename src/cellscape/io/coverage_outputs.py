"""Write a coverage run to a folder: GeoTIFF maps, PNG heat maps, CDF plots and kpis.json.

Every file is written atomically (io/atomic.py): an interrupted run leaves whole files or none.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cellscape.io.atomic import write_text_atomic
from cellscape.io.geotiff import write_geotiff
from cellscape.io.kpi_report import write_kpis
from cellscape.io.plots import plot_cdf_png, plot_los_probability_png, plot_map_png
from cellscape.kpi import los_probability_table
from cellscape.scenario.records import SIONNA_PREFIX

OSM_ATTRIBUTION = "Buildings © OpenStreetMap contributors (ODbL)"
SIONNA_ATTRIBUTION = "Buildings: Sionna RT scene (NVIDIA, Apache-2.0), from © OpenStreetMap contributors"


def building_attribution(footprints) -> str | None:
    """The credit line a map drawn from ``footprints`` carries (None without buildings)."""
    if footprints is None:
        return None
    source = str(getattr(footprints, "attrs", {}).get("source", ""))
    return SIONNA_ATTRIBUTION if source.startswith(SIONNA_PREFIX) else OSM_ATTRIBUTION

# fixed, documented colour ranges so that maps of different runs compare by eye
MAP_STYLES = {
    "rsrp_dbm": dict(title="Best-server RSRP", units_label="RSRP [dBm]", cmap="viridis", vmin=-130.0, vmax=-60.0),
    "sinr_db": dict(title="Downlink SINR", units_label="SINR [dB]", cmap="RdYlGn", vmin=-10.0, vmax=30.0),
    "throughput_mbps": dict(title="Downlink throughput (full allocation)", units_label="throughput [Mbit/s]",
                            cmap="magma", vmin=0.0, vmax=None),
    "best_sector": dict(title="Serving sector", units_label="sector index", cmap="tab20", vmin=None, vmax=None),
}


def write_coverage_outputs(run, out_dir: str | Path, *, png: bool = True) -> list[Path]:
    """Write ``run`` (a :class:`cellscape.pipeline.CoverageRun`) into ``out_dir``; return the paths.

    Files: ``coverage.tif`` (float32 bands rsrp_dbm, sinr_db, throughput_mbps), ``best_sector.tif``
    (int32, -1 = none), ``kpis.json``, and with ``png`` a heat map per quantity plus the RSRP and
    SINR CDFs. A geometric run adds ``los_probability.csv`` (columns environment, d2d_m, n_links,
    empirical, tr38901; empirical empty below the bin's link minimum) and, with ``png``,
    ``los_probability.png``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = run.result
    grid = res.grid
    thr_mbps = (res.throughput_bps / 1e6).astype(np.float32)
    written = []
    path = out / "coverage.tif"
    write_geotiff(path, {"rsrp_dbm": res.rsrp_dbm, "sinr_db": res.sinr_db, "throughput_mbps": thr_mbps}, grid)
    written.append(path)
    path = out / "best_sector.tif"
    write_geotiff(path, {"best_sector": res.best_sector.astype(np.int32)}, grid, nodata=-1)
    written.append(path)
    path = out / "kpis.json"
    write_kpis(path, run.kpis)
    written.append(path)
    los_table = los_probability_table(res.los_statistics) if res.los_statistics else None
    if los_table is not None:
        lines = ["environment,d2d_m,n_links,empirical,tr38901"]
        for env, tab in los_table.items():
            for d, n, e, m in zip(tab["d2d_m"], tab["n_links"], tab["empirical"], tab["tr38901"]):
                lines.append(f"{env},{d:g},{n},{'' if np.isnan(e) else f'{e:.6f}'},{m:.6f}")
        written.append(write_text_atomic(out / "los_probability.csv", "\n".join(lines) + "\n"))
    if png:
        sites_xy = np.column_stack([res.sectors.x_m, res.sectors.y_m])
        attribution = building_attribution(run.footprints)
        arrays = {"rsrp_dbm": res.rsrp_dbm, "sinr_db": res.sinr_db, "throughput_mbps": thr_mbps,
                  "best_sector": res.best_sector}
        for name, arr in arrays.items():
            style = dict(MAP_STYLES[name])
            if name == "throughput_mbps":
                style["vmax"] = float(np.nanmax(arr)) if np.isfinite(arr).any() else 1.0
            if name == "best_sector":
                style["vmin"], style["vmax"] = -0.5, max(res.sectors.x_m.size - 0.5, 0.5)
            path = out / f"{name}.png"
            plot_map_png(path, arr, grid, sites_xy_m=sites_xy, sector_azimuth_deg=res.sectors.azimuth_deg,
                         categorical=name == "best_sector", footprints=run.footprints, attribution=attribution,
                         **style)
            written.append(path)
        path = out / "sinr_cdf.png"
        plot_cdf_png(path, {"all pixels": res.sinr_db.ravel(),
                            "outdoor": res.sinr_db[~res.indoor], "indoor": res.sinr_db[res.indoor]},
                     xlabel="SINR [dB]", title="Downlink SINR, CDF over map area")
        written.append(path)
        path = out / "rsrp_cdf.png"
        plot_cdf_png(path, {"all pixels": res.rsrp_dbm.ravel(),
                            "outdoor": res.rsrp_dbm[~res.indoor], "indoor": res.rsrp_dbm[res.indoor]},
                     xlabel="RSRP [dBm]", title="Best-server RSRP, CDF over map area")
        written.append(path)
        if los_table is not None:
            written.append(plot_los_probability_png(out / "los_probability.png", los_table))
    return written
