"""Site-selection scale test (issue 4): a synthetic city, candidates x demand pixels.

A 10 km x 10 km city at 10 m pixels (1 M demand points, weight 1 each) and 2,000 candidate sites
at uniform random positions, each covering a disk of 300-600 m (uniform): a stand-in for the
per-candidate coverage sets the coverage engine will supply. Costs uniform 1-3 (cost units).

``--objective min_cost`` (default): the cheapest plan covering ``--target`` of the demand.
``--objective max_coverage``: the most demand within a budget of ``--budget-share`` x the cost of
greedy's min-cost plan for ``--target`` (default 0.8).

Prints one JSON object: the demand classes; greedy (cost, covered share, seconds);
``select_sites`` (cost, covered share, status, seconds, method); its bound and the bound's kind
(never from a restricted model); the gap of both plans to that bound; and the issue's targets: gap
<= 2 %, under 300 s, MILP plan better than greedy. HiGHS runs single-threaded; the script reports
the cores the machine has. Usage:

    python benchmarks/selection_bench.py [--objective min_cost|max_coverage] [--candidates 2000]
        [--side-px 1000] [--target 0.95] [--budget-share 0.8] [--time-limit 300]
        [--source synthetic|engine] [--rsrp-dbm -105] [--cache PATH.npz]

``--cache PATH.npz``: load the cover matrix and the costs from PATH (scipy.sparse.save_npz) and
PATH's ``.cost.npz`` sibling (numpy.savez) when both exist, else build them and save them there, so
that the engine's coverage step runs once while tuning the solver; ``coverage_s``/``build_s`` is
reported only when the sets were computed, ``cache`` names the file when they were loaded. The cache
is not keyed on the other options: use one file per source / size / threshold.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from cellscape.planning.selection import demand_classes, greedy, select_sites

GAP_TARGET = 0.02
TIME_TARGET_S = 300.0


def synthetic_cover(n_candidates: int, side_px: int, *, side_m: float = 10_000.0, seed: int = 1):
    rng = np.random.default_rng(seed)
    xs = (np.arange(side_px) + 0.5) * side_m / side_px
    px, py = np.meshgrid(xs, xs)
    tree = cKDTree(np.column_stack([px.ravel(), py.ravel()]))
    cand = rng.uniform(0, side_m, (n_candidates, 2))
    radius = rng.uniform(300.0, 600.0, n_candidates)
    hits = [np.asarray(tree.query_ball_point(cand[c], radius[c]), dtype=np.int64) for c in range(n_candidates)]
    rows = np.concatenate(hits)
    cols = np.repeat(np.arange(n_candidates), [h.size for h in hits])
    cover = sp.csr_matrix((np.ones(rows.size, bool), (rows, cols)), shape=(side_px * side_px, n_candidates))
    return cover, rng.uniform(1.0, 3.0, n_candidates)


def engine_cover(n_candidates: int, side_px: int, *, rsrp_dbm: float, side_m: float = 10_000.0, seed: int = 1):
    """Coverage sets of random 3-sector masts from the map engine (UMa NLOS, no shadowing)."""
    from cellscape.coverage.engine import site_coverage
    from cellscape.pipeline import localize
    from cellscape.scenario.records import AntennaSpec, Area, Carrier, Scenario, Sector, Site

    rng = np.random.default_rng(seed)
    x0, y0 = 385_000.0, 6_671_000.0
    xy = rng.uniform(0, side_m, (n_candidates, 2)) + (x0, y0)
    ant = AntennaSpec(n_rows=8)
    sites = tuple(Site(site_id=f"C{i}", x=float(x), y=float(y), height_m=25.0,
                       sectors=tuple(Sector(azimuth_deg=float((a + rng.uniform(0, 120)) % 360), tx_power_dbm=46.0,
                                            elec_tilt_deg=6.0, antenna=ant) for a in (0, 120, 240)))
                  for i, (x, y) in enumerate(xy))
    sc = Scenario(name="bench", area=Area(bounds=(x0, y0, x0 + side_m, y0 + side_m), resolution_m=side_m / side_px,
                                          crs="EPSG:32635"),
                  carrier=Carrier(fc_ghz=3.5, bandwidth_mhz=100.0, scs_khz=30.0), sites=sites, los_mode="nlos",
                  shadow_fading=False)
    grid, site_xy = localize(sc)
    cov = site_coverage(sc, grid, site_xy, threshold_dbm=rsrp_dbm)
    return cov.cover(), rng.uniform(1.0, 3.0, n_candidates)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--objective", choices=("min_cost", "max_coverage"), default="min_cost")
    p.add_argument("--candidates", type=int, default=2000)
    p.add_argument("--side-px", type=int, default=1000)
    p.add_argument("--target", type=float, default=0.95)
    p.add_argument("--budget-share", type=float, default=0.8)
    p.add_argument("--time-limit", type=float, default=300.0)
    p.add_argument("--source", choices=("synthetic", "engine"), default="synthetic")
    p.add_argument("--rsrp-dbm", type=float, default=-105.0)
    p.add_argument("--cache", default=None, help="PATH.npz: load the cover and costs from it, or save them there")
    args = p.parse_args()
    t = time.perf_counter()
    cost_path = None if args.cache is None else os.path.splitext(args.cache)[0] + ".cost.npz"
    loaded = cost_path is not None and os.path.exists(args.cache) and os.path.exists(cost_path)
    if loaded:
        cover = sp.load_npz(args.cache).tocsr()
        with np.load(cost_path) as f:
            cost = f["cost"]
    elif args.source == "engine":
        cover, cost = engine_cover(args.candidates, args.side_px, rsrp_dbm=args.rsrp_dbm)
    else:
        cover, cost = synthetic_cover(args.candidates, args.side_px)
    build_s = round(time.perf_counter() - t, 2)
    if args.cache is not None and not loaded:
        sp.save_npz(args.cache, sp.csr_matrix(cover))
        np.savez(cost_path, cost=cost)
    out = {"machine": {"cores": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
                       "python": platform.python_version(), "highs_threads": 1},
           "objective": args.objective, "source": args.source, "candidates": int(cover.shape[1]),
           "demand_points": cover.shape[0], "cover_nnz": int(cover.nnz)}
    if loaded:
        out["cache"] = args.cache
    else:
        out["coverage_s" if args.source == "engine" else "build_s"] = build_s
    t = time.perf_counter()
    classes = demand_classes(cover, np.ones(cover.shape[0]))
    out.update(classes=classes.n_classes, classes_s=round(time.perf_counter() - t, 2))
    if args.objective == "min_cost":
        kw = dict(objective="min_cost", target_fraction=args.target)
    else:
        plan = greedy(classes, cost, objective="min_cost", target_fraction=args.target)
        kw = dict(objective="max_coverage", budget=args.budget_share * plan.cost)
        out["budget"] = kw["budget"]
    g = greedy(classes, cost, **kw)
    s = select_sites(classes, cost, time_limit_s=args.time_limit, **kw)

    def gap(value):
        return abs(value - s.bound) / abs(value) if value else float("nan")

    out["greedy"] = {"cost": g.cost, "covered_fraction": g.covered_fraction, "sites": int(g.chosen.sum()),
                     "seconds": round(g.seconds, 3), "gap_to_bound": gap(g.objective)}
    out["milp"] = {"cost": s.cost, "covered_fraction": s.covered_fraction, "sites": int(s.chosen.sum()),
                   "status": s.status, "seconds": round(s.seconds, 2), "method": s.method,
                   "bound": s.bound, "bound_kind": s.bound_kind, "gap": s.gap}
    better = s.objective < g.objective - 1e-9 if args.objective == "min_cost" else s.objective > g.objective + 1e-9
    out["targets"] = {"gap_le_2pct": bool(s.gap <= GAP_TARGET), "under_300_s": bool(s.seconds < TIME_TARGET_S),
                      "better_than_greedy": bool(better)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
