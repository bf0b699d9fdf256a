"""Files of ``cellscape sense`` (docs/sensing.md), each written atomically.

Per mode (``sensing.mode``): monostatic ``sensing.tif`` (float32 bands ``sensing_snr_db``,
``detection_probability``, ``n_trp_detecting``, ``range_resolution_m``; NaN = no target position,
i.e. under a building roof), ``sensing_tradeoff.csv`` (sensed area vs downlink throughput given up,
per sensing share) and, with ``png``, ``sensing_snr.png`` and ``detection_probability.png``;
bistatic the same with the suffix ``_bistatic`` (``sensing_bistatic.tif`` with ``n_pairs_detecting``
as third band, ``sensing_tradeoff_bistatic.csv``, ``sensing_snr_bistatic.png``,
``detection_probability_bistatic.png``); TRP-UE (``trp_ue``) likewise with the suffix
``_trp_ue`` (``sensing_trp_ue.tif``, third band ``n_pairs_detecting``: TRP-UE pairs detecting).
Once: ``sensing_kpis.json`` (shared figures at the top, each mode's under its name) and
``scenario.json`` (the radio scenario, :func:`cellscape.io.coverage_outputs.write_scenario_json`, the
sensing block beside it as ``sensing``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cellscape.io.atomic import write_json_atomic, write_text_atomic
from cellscape.io.coverage_outputs import building_attribution, scenario_dict
from cellscape.io.geotiff import write_geotiff
from cellscape.io.plots import plot_map_png

SENSING_BANDS = ("sensing_snr_db", "detection_probability", "n_trp_detecting", "range_resolution_m")
"""Band names of ``sensing.tif`` (monostatic), in order (docs/glossary.md names)."""

BISTATIC_BANDS = ("sensing_snr_db", "detection_probability", "n_pairs_detecting", "range_resolution_m")
"""Band names of ``sensing_bistatic.tif``, in order."""

TRP_UE_BANDS = ("sensing_snr_db", "detection_probability", "n_pairs_detecting", "range_resolution_m")
"""Band names of ``sensing_trp_ue.tif`` (TX at a TRP, RX at a sensing UE), in order."""

SUFFIX = {"monostatic": "", "bistatic": "_bistatic", "trp_ue": "_trp_ue"}
"""File-name suffix of each mode's files."""

TRADEOFF_COLUMNS = ("sensing_share", "n_symbols", "processing_gain_db", "sensed_area_km2", "sensed_area_fraction",
                    "dl_throughput_lost_fraction")
"""Columns of ``sensing_tradeoff.csv``."""

MAP_STYLES = {
    "sensing_snr_db": dict(title="Best sensing SNR", units_label="sensing SNR [dB]", cmap="RdYlGn",
                           vmin=-10.0, vmax=40.0),
    "detection_probability": dict(title="Detection probability", units_label="Pd", cmap="viridis", vmin=0.0,
                                  vmax=1.0),
}


def _number(v) -> str:
    v = float(v)
    if np.isneginf(v):
        return "-inf"
    return f"{v:.6g}"


def tradeoff_csv(tradeoff: dict) -> str:
    """``sensing_tradeoff.csv`` as text: one row per share of the sweep."""
    lines = [",".join(TRADEOFF_COLUMNS)]
    for i in range(len(tradeoff["sensing_share"])):
        lines.append(",".join(str(int(tradeoff[c][i])) if c == "n_symbols" else _number(tradeoff[c][i])
                              for c in TRADEOFF_COLUMNS))
    return "\n".join(lines) + "\n"


def _json_ready(obj):
    if isinstance(obj, dict):
        return {k: _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if np.isfinite(v) else None      # JSON has no inf: -inf gain (no sensing) -> null
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def write_sensing_outputs(run, out_dir: str | Path, *, png: bool = True) -> list[Path]:
    """Write ``run`` (a :class:`cellscape.pipeline.sense.SenseRun`) into ``out_dir``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    grid = run.grid
    s = run.sensing
    written = []
    for mode, maps in run.maps.items():
        sfx = SUFFIX[mode]
        bands = {k: np.asarray(v, dtype=np.float32) for k, v in maps.bands().items()}
        written.append(write_geotiff(out / f"sensing{sfx}.tif", bands, grid, nodata=float("nan")))
        written.append(write_text_atomic(out / f"sensing_tradeoff{sfx}.csv", tradeoff_csv(maps.tradeoff)))
    written.append(write_json_atomic(out / "sensing_kpis.json", _json_ready(run.kpis)))
    doc = scenario_dict(s.scenario)
    doc["sensing"] = {"target": s.target, "target_height_m": s.target_height_m, "pfa": s.pfa,
                      "pd_required": s.pd_required, "detector": s.detector, "sensing_share": s.sensing_share,
                      "cpi_s": s.cpi_s, "share_sweep": list(s.share_sweep), "mode": s.mode,
                      "max_baseline_m": s.max_baseline_m, "rcs_random": s.rcs_random,
                      "target_heading_deg": s.target_heading_deg, "background": s.background,
                      "background_suppression_db": s.background_suppression_db,
                      "ues": [{"ue_id": u.ue_id, "x": u.x, "y": u.y, "height_m": u.height_m,
                               "antenna_gain_dbi": u.antenna_gain_dbi} for u in s.ues]}
    written.append(write_json_atomic(out / "scenario.json", doc))
    if png:
        sec = run.sectors
        sites_xy = np.column_stack([sec.x_m, sec.y_m])
        attribution = building_attribution(run.footprints)
        target = f"{s.target} at {s.target_height_m:g} m, share {s.sensing_share:g}"
        for mode, maps in run.maps.items():
            sfx = SUFFIX[mode]
            bands = maps.bands()
            for name, file in (("sensing_snr_db", f"sensing_snr{sfx}.png"),
                               ("detection_probability", f"detection_probability{sfx}.png")):
                style = dict(MAP_STYLES[name])
                style["title"] = f"{style['title']}, {mode} ({target})"
                written.append(plot_map_png(out / file, bands[name], grid, sites_xy_m=sites_xy,
                                            sector_azimuth_deg=sec.azimuth_deg, footprints=run.footprints,
                                            attribution=attribution, **style))
    return written


__all__ = ["BISTATIC_BANDS", "MAP_STYLES", "SENSING_BANDS", "SUFFIX", "TRADEOFF_COLUMNS", "TRP_UE_BANDS",
           "tradeoff_csv",
           "write_sensing_outputs"]
