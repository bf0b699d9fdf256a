"""Files of ``cellscape assess`` (docs/resilience.md), each written atomically.

- ``outages.parquet``: one row per outage (single sites ranked worst first, then N-k, then fibre
  routes and data centres of a plan), with the self-healing result of the healed ones;
- ``outages_worst.tif``: one band per worst case, 1 = covered before and lost, 0 = still covered,
  NaN = not covered before; ``outage_<name>.png`` each;
- ``jamming.tif`` (with jammers): ``jammer_dbm``, ``dl_sinr_db``, ``dl_sinr_jammed_db``,
  ``dl_sinr_degradation_db``, ``dl_denied``, and the same five ``ul_`` bands (uplink, per PRB);
  PNGs of the degradation and the denied area, downlink and uplink;
- ``rogue.tif`` (with rogue cells): ``rogue_rsrp_dbm``, ``rogue_margin_db``, ``camped``; PNGs;
- ``assess.json`` (every figure), ``assess.md`` (the report section), ``scenario.json``.
"""

from __future__ import annotations

import math
from pathlib import Path
import re

import numpy as np

from cellscape._json import json_ready
from cellscape.io.atomic import write_atomic, write_json_atomic, write_text_atomic
from cellscape.io.coverage_outputs import building_attribution, write_scenario_json
from cellscape.io.geotiff import write_geotiff
from cellscape.io.plots import plot_map_png

OUTAGE_COLUMNS = ("rank", "kind", "name", "sites", "n_sites", "area_lost_km2", "area_gained_km2", "demand_lost",
                  "users_lost", "demand_lost_fraction", "covered_fraction_after", "healed_neighbours",
                  "healed_recovered_share", "healed_recovered_area_share", "detail")
"""Columns of ``outages.parquet`` (users = demand: users per pixel are the demand)."""

JAMMING_BANDS = ("jammer_dbm", "dl_sinr_db", "dl_sinr_jammed_db", "dl_sinr_degradation_db", "dl_denied",
                 "ul_sinr_db", "ul_sinr_jammed_db", "ul_sinr_degradation_db", "ul_denied")
ROGUE_BANDS = ("rogue_rsrp_dbm", "rogue_margin_db", "camped")


def outage_columns(run) -> dict[str, np.ndarray]:
    """The columns of ``outages.parquet``: ``rank`` counts within each kind (1 = worst)."""
    cols: dict[str, list] = {c: [] for c in OUTAGE_COLUMNS}
    rank: dict[str, int] = {}
    for r in run.outages:
        rank[r.kind] = rank.get(r.kind, 0) + 1
        h = run.heal.get(r.name) if r.kind == "site" else None
        values = {"rank": rank[r.kind], "kind": r.kind, "name": r.name, "sites": ",".join(r.sites),
                  "n_sites": len(r.sites), "area_lost_km2": r.area_lost_km2, "area_gained_km2": r.area_gained_km2,
                  "demand_lost": r.demand_lost, "users_lost": r.demand_lost,
                  "demand_lost_fraction": r.demand_lost_fraction, "covered_fraction_after": r.covered_fraction_after,
                  "healed_neighbours": ",".join(h.neighbours) if h is not None else "",
                  "healed_recovered_share": h.recovered_share if h is not None else math.nan,
                  "healed_recovered_area_share": h.recovered_area_share if h is not None else math.nan,
                  "detail": r.detail}
        for c in OUTAGE_COLUMNS:
            cols[c].append(values[c])
    out = {}
    for c, v in cols.items():
        if c in ("kind", "name", "sites", "healed_neighbours", "detail"):
            out[c] = np.array(v, dtype=object).astype(str) if v else np.array([], dtype=str)
        elif c in ("rank", "n_sites"):
            out[c] = np.array(v, dtype=np.int64)
        else:
            out[c] = np.array(v, dtype=np.float64)
    return out


def _write_parquet(path: Path, columns: dict) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({k: pa.array(v.tolist() if v.dtype.kind == "U" else v) for k, v in columns.items()})
    return write_atomic(path, lambda tmp: pq.write_table(table, tmp))


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _pct(v) -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{100 * v:.1f} %"


def report_markdown(run) -> str:
    """``assess.md``: the resilience and security section of a report."""
    k = run.kpis
    cov = k["coverage"]
    lines = [f"# Resilience and security: {k['name']}", "",
             f"{k['sites']} sites, {k['sectors']} sectors; covered (RSRP >= {cov['rsrp_min_dbm']:g} dBm and SINR >= "
             f"{cov['sinr_min_db']:.2f} dB): {cov['covered_area_km2']:.3f} km2 ({_pct(cov['covered_fraction'])}), "
             f"{cov['covered_users']:.0f} of {cov['users']:.0f} users ({cov['demand']}).", "",
             "## N-1: each site removed in turn (worst first)", "",
             "| rank | site | area lost [km2] | users lost | share of covered users | healed by | recovered |",
             "|---|---|---|---|---|---|---|"]
    sites = [r for r in run.outages if r.kind == "site"]
    for i, r in enumerate(sites[:15], start=1):
        h = run.heal.get(r.name)
        lines.append(f"| {i} | {r.name} | {r.area_lost_km2:.4f} | {r.demand_lost:.1f} | {_pct(r.demand_lost_fraction)} | "
                     f"{', '.join(h.neighbours) if h else '-'} | {_pct(h.recovered_share) if h else '-'} |")
    lines += ["", f"{k['n_minus_1']['sites_losing_nothing']} of {k['sites']} sites lose no covered pixel when they "
              "fail alone (their neighbours cover for them). Self-healing re-tunes the electrical tilt and power of "
              "the sectors of the sites that take over the failed site's pixels (planning tuner, compass search); "
              "'recovered' is the share of the lost users covered again.", ""]
    nk = [r for r in run.outages if r.kind == "n-k"]
    if nk:
        lines += ["## N-k: the worst single-site outages together", "", "| case | sites | area lost [km2] | users lost |",
                  "|---|---|---|---|"]
        lines += [f"| {r.name} | {', '.join(r.sites)} | {r.area_lost_km2:.4f} | {r.demand_lost:.1f} |" for r in nk]
        lines.append("")
    bh = [r for r in run.outages if r.kind in ("fiber", "data_center")]
    if k.get("backhaul") is not None:
        lines += ["## Backhaul of the plan: each fibre trench edge and data centre lost in turn", ""]
        hit = [r for r in bh if r.sites]
        lines.append(f"{len(bh)} cases; {len(hit)} take sites down." if bh else "The plan has no fibre.")
        if hit:
            lines += ["", "| case | detail | sites down | area lost [km2] | users lost |", "|---|---|---|---|---|"]
            lines += [f"| {r.name} | {r.detail} | {len(r.sites)} | {r.area_lost_km2:.4f} | {r.demand_lost:.1f} |"
                      for r in hit[:15]]
        lines.append("")
    j = k.get("jamming")
    if j is not None:
        lines += ["## Jamming", "", f"Jammers: {', '.join(j['jammers'])}. Denied: SINR below the lowest CQI's "
                  f"({j['sinr_floor_db']:.2f} dB).", "", "| link | denied area [km2] | newly denied [km2] | "
                  "covered users newly denied | median SINR drop [dB] | max SINR drop [dB] |", "|---|---|---|---|---|---|"]
        for link in ("downlink", "uplink"):
            x = j[link]
            med = "-" if x["sinr_drop_median_db"] is None else f"{x['sinr_drop_median_db']:.2f}"
            mx = "-" if x["sinr_drop_max_db"] is None else f"{x['sinr_drop_max_db']:.1f}"
            lines.append(f"| {link} | {x['denied_area_km2']:.4f} | {x['newly_denied_area_km2']:.4f} | "
                         f"{x['newly_denied_covered_users']:.1f} | {med} | {mx} |")
        lines.append("")
    rg = k.get("rogue")
    if rg is not None:
        lines += ["## Rogue base stations", "",
                  f"Devices camp on a fake cell where its RSRP exceeds the best real cell's by more than "
                  f"{rg['reselection_offset_db']:g} dB (TS 38.304 5.2.4.6): {rg['camped_area_km2']:.4f} km2, "
                  f"{rg['users_exposed']:.1f} users exposed ({_pct(rg['demand_exposed_fraction'])}).", "",
                  "| rogue cell | camped area [km2] | users exposed |", "|---|---|---|"]
        lines += [f"| {n} | {v['camped_area_km2']:.4f} | {v['users_exposed']:.1f} |" for n, v in rg["per_cell"].items()]
        lines.append("")
    for note in k.get("notes", []):
        lines.append(f"Note: {note}")
    return "\n".join(lines) + "\n"


def write_assess_outputs(run, out_dir: str | Path, *, png: bool = True) -> list[Path]:
    """Write ``run`` (a :class:`cellscape.pipeline.assess.AssessRun`) into ``out_dir``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    grid = run.grid
    written = [_write_parquet(out / "outages.parquet", outage_columns(run))]
    covered = run.criterion.covered(run.rsrp_dbm, run.sinr_db)
    worst = {}
    for name, lost in run.worst_lost.items():
        worst[f"lost_{_slug(name)}"] = np.where(covered, lost.astype(np.float32), np.float32(np.nan))
    if worst:
        written.append(write_geotiff(out / "outages_worst.tif", worst, grid, nodata=float("nan")))
    jam, rog = run.jamming, run.rogue
    if jam is not None:
        bands = {"jammer_dbm": jam.jammer_dbm, "dl_sinr_db": jam.dl_sinr_db, "dl_sinr_jammed_db": jam.dl_sinr_jammed_db,
                 "dl_sinr_degradation_db": jam.dl_sinr_db - jam.dl_sinr_jammed_db, "dl_denied": jam.dl_denied,
                 "ul_sinr_db": jam.ul_sinr_db, "ul_sinr_jammed_db": jam.ul_sinr_jammed_db,
                 "ul_sinr_degradation_db": jam.ul_sinr_db - jam.ul_sinr_jammed_db, "ul_denied": jam.ul_denied}
        written.append(write_geotiff(out / "jamming.tif", {b: np.asarray(bands[b], dtype=np.float32) for b in JAMMING_BANDS},
                                     grid, nodata=float("nan")))
    if rog is not None:
        bands_r = {"rogue_rsrp_dbm": rog.rogue_rsrp_dbm, "rogue_margin_db": rog.margin_db, "camped": rog.camped}
        written.append(write_geotiff(out / "rogue.tif", {b: np.asarray(bands_r[b], dtype=np.float32) for b in ROGUE_BANDS},
                                     grid, nodata=float("nan")))
    written.append(write_json_atomic(out / "assess.json", json_ready(run.kpis)))
    written.append(write_text_atomic(out / "assess.md", report_markdown(run)))
    written.append(write_scenario_json(out / "scenario.json", run.scenario))
    if png:
        sec = run.sectors
        common = dict(sites_xy_m=np.column_stack([sec.x_m, sec.y_m]), sector_azimuth_deg=sec.azimuth_deg,
                      footprints=run.footprints, attribution=building_attribution(run.footprints))
        for band, arr in worst.items():
            name = band[len("lost_"):]
            written.append(plot_map_png(out / f"outage_{name}.png", arr, grid, title=f"Coverage lost without {name} "
                                        "(1 lost, 0 kept, grey: not covered before)", units_label="lost",
                                        cmap="coolwarm", vmin=0.0, vmax=1.0, **common))
        if jam is not None:
            for link, intact, jammed, denied in (("dl", jam.dl_sinr_db, jam.dl_sinr_jammed_db, jam.dl_denied),
                                                 ("ul", jam.ul_sinr_db, jam.ul_sinr_jammed_db, jam.ul_denied)):
                word = "Downlink" if link == "dl" else "Uplink"
                written.append(plot_map_png(out / f"jamming_{link}_sinr_degradation.png", intact - jammed, grid,
                                            title=f"{word} SINR degradation by the jammers", units_label="SINR drop [dB]",
                                            cmap="magma_r", vmin=0.0, vmax=30.0, **common))
                written.append(plot_map_png(out / f"jamming_{link}_denied.png", denied.astype(np.float32), grid,
                                            title=f"{word} denied (SINR below the lowest CQI)", units_label="denied",
                                            cmap="Reds", vmin=0.0, vmax=1.0, **common))
        if rog is not None:
            written.append(plot_map_png(out / "rogue_camped.png", rog.camped.astype(np.float32), grid,
                                        title="Devices camping on a rogue cell", units_label="camped", cmap="Reds",
                                        vmin=0.0, vmax=1.0, **common))
            written.append(plot_map_png(out / "rogue_margin.png", rog.margin_db, grid,
                                        title="Rogue RSRP over the best real cell", units_label="margin [dB]",
                                        cmap="RdBu_r", vmin=-30.0, vmax=30.0, **common))
    return written


__all__ = ["JAMMING_BANDS", "OUTAGE_COLUMNS", "ROGUE_BANDS", "outage_columns", "report_markdown", "write_assess_outputs"]
