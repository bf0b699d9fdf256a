"""Write a plan (:class:`cellscape.pipeline.PlanRun`) to a folder: ``plan.geojson``, the phased
rollout table and curve, maps before/after, ``plan.json`` and a Markdown + HTML report.

Every file is written atomically (io/atomic.py). GeoJSON is in WGS 84 longitude/latitude (RFC 7946).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from cellscape._json import json_ready
from cellscape.geo.grid import transform_xy
from cellscape.io.atomic import write_atomic, write_json_atomic, write_text_atomic
from cellscape.io.coverage_outputs import (
    MAP_STYLES,
    building_attribution,
    buildings_geojson,
    sector_wedge_xy_m,
    sites_features,
    streets_geojson,
    write_scenario_json,
)
from cellscape.io.geotiff import write_geotiff
from cellscape.io.plots import plot_map_png
from cellscape.io.report_html import num_text, pct_text, write_report_html

def _lonlat(grid, x_m, y_m):
    return transform_xy(np.atleast_1d(np.asarray(x_m, float)), np.atleast_1d(np.asarray(y_m, float)),
                        src_crs=grid.crs, dst_crs="EPSG:4326")


def plan_features(run) -> dict:
    """The plan as a GeoJSON FeatureCollection (WGS 84): chosen sites, sector wedges, fibre routes,
    data centres."""
    grid, c, plan = run.grid, run.candidates, run.plan
    chosen = np.flatnonzero(run.selection.chosen)
    phase_of = {int(i): int(p) for i, p in zip(run.rollout.order, run.rollout.phase)}
    feats = []
    sites = {s.site_id: s for s in run.network.sites}
    for i in chosen:
        s = sites[c.sites[i].site_id]
        lon, lat = _lonlat(grid, c.xy_m[i, 0], c.xy_m[i, 1])
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon[0]), float(lat[0])]},
                      "properties": {"layer": "site", "site_id": s.site_id, "kind": c.kind[i],
                                     "status": "existing" if c.fixed[i] else "new", "phase": phase_of.get(int(i)),
                                     "cost": float(c.cost[i]), "height_m": s.height_m, "sectors": len(s.sectors)}})
        for sec in s.sectors:
            wedge = sector_wedge_xy_m(float(c.xy_m[i, 0]), float(c.xy_m[i, 1]), sec.azimuth_deg)
            lo, la = _lonlat(grid, wedge[:, 0], wedge[:, 1])
            feats.append({"type": "Feature",
                          "geometry": {"type": "Polygon", "coordinates": [np.column_stack([lo, la]).tolist()]},
                          "properties": {"layer": "sector", "sector_id": sec.sector_id, "site_id": s.site_id,
                                         "azimuth_deg": sec.azimuth_deg, "elec_tilt_deg": sec.elec_tilt_deg,
                                         "tx_power_dbm": sec.tx_power_dbm}})
    f = run.fiber
    for edges, ring in ((f["edges_xy_m"], False), (f["ring_edges_xy_m"], True)):
        for a, b, length in edges:
            lo, la = _lonlat(grid, [a[0], b[0]], [a[1], b[1]])
            feats.append({"type": "Feature",
                          "geometry": {"type": "LineString", "coordinates": np.column_stack([lo, la]).tolist()},
                          "properties": {"layer": "fiber", "length_m": float(length), "ring_extra": ring}})
    for name, xy in f["data_center_xy_m"].items():
        lo, la = _lonlat(grid, xy[0], xy[1])
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lo[0]), float(la[0])]},
                      "properties": {"layer": "data_center", "name": name}})
    return {"type": "FeatureCollection", "name": plan.name, "features": feats}


def summary(run) -> dict:
    """Plain numbers of the plan for ``plan.json`` and the report."""
    sel, g, c = run.selection, run.greedy, run.candidates
    unit = run.plan.costs.unit

    def sel_row(s):
        return {"method": s.method, "status": s.status, "sites": int(s.chosen.sum()),
                "new_sites": int((s.chosen & ~c.fixed).sum()), "cost": s.cost, "objective": s.objective,
                "bound": s.bound, "gap": s.gap, "covered_fraction": s.covered_fraction, "seconds": s.seconds}

    out = {"name": run.plan.name, "cost_unit": unit, "candidates": len(c.sites),
           "candidate_kinds": {k: c.kind.count(k) for k in sorted(set(c.kind))}, "demand_classes": run.n_classes,
           "users": float(run.users.sum()), "milp": sel_row(sel), "greedy": sel_row(g),
           "targets_before": run.targets_before, "targets_after": run.targets_after,
           "before": _strip(run.before), "after": _strip(run.after), "after_untuned": _strip(run.after_untuned),
           "phases": run.phases, "capacity_rounds": run.capacity_rounds, "fiber": {k: v for k, v in run.fiber.items() if not k.endswith("xy_m")},
           "seconds": run.seconds}
    if run.tuning is not None:
        t = run.tuning
        ids = [sec.sector_id for site in run.network.sites for sec in site.sectors]
        out["tuning"] = {"kpi": run.plan.tuning.kpi, "before": t.kpi_before, "after": t.kpi_after,
                         "evaluations": t.evaluations, "stopped": t.stopped,
                         "changes": [{**row, "sector": ids[int(row["sector"])]} for row in t.changes()]}
    return out


def _strip(m):
    if m is None:
        return None
    return {k: v for k, v in m.items() if k != "loads"}


def report_markdown(run, s: dict) -> str:
    unit = s["cost_unit"]
    m, g = s["milp"], s["greedy"]
    lines = [f"# Network plan: {s['name']}", "",
             f"{s['candidates']} candidate sites ({', '.join(f'{v} {k}' for k, v in s['candidate_kinds'].items())}), "
             f"{s['users']:.0f} users, {s['demand_classes']} demand classes. Costs in {unit}.", "",
             "## Site selection: MILP (HiGHS) against the greedy baseline", "",
             "| method | status | sites (new) | cost | covered (optimiser) | bound | gap | time [s] |",
             "|---|---|---|---|---|---|---|---|"]
    for r in (m, g):
        lines.append(f"| {r['method']} | {r['status']} | {r['sites']} ({r['new_sites']}) | {r['cost']:.1f} | "
                     f"{pct_text(r['covered_fraction'])} | {num_text(r['bound'])} | {pct_text(r['gap'])} | {r['seconds']:.2f} |")
    lines += ["", "The bound is the LP relaxation (or HiGHS's MIP bound); the gap is |plan - bound| / plan. "
              "Coverage below is re-measured by the coverage engine on the chosen network.", "",
              "## Targets, re-measured", "", "| target | required | before | after |", "|---|---|---|---|"]
    before = {r["target"]: r for r in (s["targets_before"] or [])}
    for r in s["targets_after"]:
        b = before.get(r["target"])
        fmt = num_text if r.get("sense") == "max" else pct_text
        lines.append(f"| {r['target']} | {fmt(r['required'], '{:.2f}') if fmt is num_text else fmt(r['required'])} | "
                     f"{(fmt(b['measured'], '{:.2f}') if fmt is num_text else fmt(b['measured'])) if b else '-'} | "
                     f"{fmt(r['measured'], '{:.2f}') if fmt is num_text else fmt(r['measured'])} "
                     f"{'met' if r['met'] else '**not met**'} |")
    if s["capacity_rounds"]:
        lines += ["", "## Capacity rounds", "",
                  "Round 1 chooses for coverage only; while the busiest sector measures over the load target, a "
                  "capacity round re-solves with each user served by one of its k strongest candidates at the rate "
                  "the previous round's measured interference allows, overloaded sites offering proportionally less.",
                  "", "| round | model | sites | cost | busiest sector load (re-measured) | solver |",
                  "|---|---|---|---|---|---|"]
        for r in s["capacity_rounds"]:
            lines.append(f"| {r['round'] if r['round'] is not None else '-'} | {r.get('model', '-')} | {r['sites'] if r['sites'] is not None else '-'} | "
                         f"{num_text(r['cost'])} | "
                         f"{num_text(r['max_sector_load'], '{:.2f}')} | {r['status']} |")
    lines += ["", "## Phased rollout (each phase re-measured)", "",
              "| phase | sites | cost | cumulative cost | covered (optimiser) | re-measured coverage | SINR share | "
              "busiest sector load |", "|---|---|---|---|---|---|---|---|"]
    for p in s["phases"]:
        cov = ", ".join(f"{k.replace('_', ' ')} {pct_text(v)}" for k, v in p["measured_coverage"].items()
                        if v is not None and k in {t.of for t in run.plan.targets.coverage})
        lines.append(f"| {p['phase']} | {p['sites']} | {p['cost']:.1f} | {p['cumulative_cost']:.1f} | "
                     f"{pct_text(p['covered_fraction'])} | {cov} | {pct_text(p['sinr_share'])} | "
                     f"{num_text(p['max_sector_load'], '{:.2f}')} |")
    if "tuning" in s:
        t = s["tuning"]
        lines += ["", "## Sector tuning", "",
                  f"Compass search over azimuth, electrical tilt and power ({t['evaluations']} engine runs, "
                  f"{t['stopped']}): {t['kpi']} {t['before']:.2f} -> {t['after']:.2f}.", ""]
        if t["changes"]:
            keys = list(t["changes"][0])
            lines += ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
            for row in t["changes"]:
                lines.append("| " + " | ".join(num_text(v, "{:.1f}") if isinstance(v, float) else str(v)
                                               for v in row.values()) + " |")
    f = s["fiber"]
    lines += ["", "## Fibre backhaul", "",
              f"Routing: {f['routing']}. Trench {f['length_km']:.2f} km, cost {f['cost']:.1f} {unit}"
              f"{', ring (2-edge-connected: ' + str(f['two_edge_connected']) + ')' if f['ring'] else ''}. "
              f"Data centres: {', '.join(map(str, f['data_centers']))} ({f['placement_objective']}); "
              f"fibre latency to the nearest, mean {f['mean_latency_us']:.1f} us, worst {f['max_latency_us']:.1f} us.",
              "", f"**Total: sites {m['cost']:.1f} + fibre {f['cost']:.1f} = {m['cost'] + f['cost']:.1f} {unit}** "
              "(sites are chosen first, the trench after: fibre cost is not in the selection objective).",
              "", "## Maps", "", "![RSRP before](rsrp_before.png) ![RSRP after](rsrp_after.png)", "",
              "![SINR before](sinr_before.png) ![SINR after](sinr_after.png)", "",
              "![rollout](rollout.png)", ""]
    return "\n".join(lines)


def _rollout_png(path: Path, run) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = run.rollout
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.step(r.cumulative_cost, 100 * r.cumulative_covered_fraction, where="post",
            label="optimiser's count (RSRP sets)")
    xs = [p["cumulative_cost"] for p in run.phases]
    first = run.plan.targets.coverage[0].of if run.plan.targets.coverage else "outdoor_area"
    ys = [100 * (p["measured_coverage"].get(first) or 0.0) for p in run.phases]
    ax.plot(xs, ys, "o-", label=f"re-measured, {first.replace('_', ' ')}")
    for t in run.plan.targets.coverage:
        ax.axhline(100 * t.fraction, ls=":", c="grey")
    ax.set_xlabel(f"cumulative cost [{run.plan.costs.unit}]")
    ax.set_ylabel("covered [%]")
    ax.set_title("Phased rollout: coverage against money spent")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")

    def save(tmp: Path) -> None:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")

    try:
        return write_atomic(path, save)
    finally:
        plt.close(fig)


def write_plan_outputs(run, out_dir: str | Path, *, png: bool = True) -> list[Path]:
    """Write the plan files into ``out_dir``; return their paths.

    ``plan.geojson``, ``rollout.csv`` (one row per phase: sites, cost, cumulative cost, the
    optimiser's covered share and the re-measured shares, SINR share, busiest sector load),
    ``plan.json`` (all figures), ``coverage_after.tif`` (rsrp_dbm, sinr_db of the planned network),
    ``scenario.json``, ``sites.geojson``, ``buildings.geojson`` and ``streets.geojson`` (for
    ``cellscape serve``), ``plan.md`` and ``plan.html`` (the self-contained report of the folder,
    :func:`cellscape.io.report_html.write_report_html`, written last); with ``png`` also
    ``rollout.png`` and the RSRP and SINR maps before and after the plan (``rsrp_before.png``,
    ``rsrp_after.png``, ``sinr_before.png``, ``sinr_after.png``; no "before" without standing sites).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    written.append(write_text_atomic(out / "plan.geojson", json.dumps(plan_features(run))))
    groups = [t.of for t in run.plan.targets.coverage]
    head = ["phase", "sites", "cost", "cumulative_cost", "optimiser_covered_fraction"] + \
           [f"measured_{g}" for g in groups] + ["sinr_share", "max_sector_load"]
    rows = [",".join(head)]
    for p in run.phases:
        vals = [p["phase"], p["sites"], f"{p['cost']:.6g}", f"{p['cumulative_cost']:.6g}",
                f"{p['covered_fraction']:.6f}"] + [f"{p['measured_coverage'][g]:.6f}" for g in groups] + \
               ["" if p["sinr_share"] is None else f"{p['sinr_share']:.6f}", f"{p['max_sector_load']:.4f}"]
        rows.append(",".join(map(str, vals)))
    written.append(write_text_atomic(out / "rollout.csv", "\n".join(rows) + "\n"))
    s = summary(run)
    written.append(write_json_atomic(out / "plan.json", json_ready(s)))
    res = run.result_after
    # what `cellscape serve` and `cellscape report` read: the planned network as a scenario (on the
    # planning grid: the link budget of a clicked point matches coverage_after.tif), its sites, the buildings
    written.append(write_scenario_json(out / "scenario.json", dataclasses.replace(run.network, name=run.plan.name)))
    written.append(write_text_atomic(out / "sites.geojson", json.dumps(sites_features(run.network, res))))
    if run.footprints is not None:
        written.append(write_text_atomic(out / "buildings.geojson", buildings_geojson(run.footprints)))
    streets = streets_geojson(run.network, res.grid)
    if streets is not None:
        written.append(write_text_atomic(out / "streets.geojson", streets))
    path = out / "coverage_after.tif"
    write_geotiff(path, {"rsrp_dbm": res.rsrp_dbm, "sinr_db": res.sinr_db}, res.grid)
    written.append(path)
    if png:
        written.append(_rollout_png(out / "rollout.png", run))
        attribution = building_attribution(run.footprints)
        for name, r in (("before", run.result_before), ("after", res)):
            if r is None:
                continue
            for band, label in (("rsrp_dbm", "rsrp"), ("sinr_db", "sinr")):
                style = dict(MAP_STYLES[band])
                style["title"] = f"{style['title']}, {name} the plan"
                written.append(plot_map_png(out / f"{label}_{name}.png", getattr(r, band), r.grid,
                                            sites_xy_m=np.column_stack([r.sectors.x_m, r.sectors.y_m]),
                                            sector_azimuth_deg=r.sectors.azimuth_deg, footprints=run.footprints,
                                            attribution=attribution, **style))
    written.append(write_text_atomic(out / "plan.md", report_markdown(run, s)))
    # the HTML report is `cellscape report` of this folder: self-contained, figures embedded
    written.append(write_report_html(out, out / "plan.html"))
    return written
