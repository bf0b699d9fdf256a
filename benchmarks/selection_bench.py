"""Site-selection scale test (issue 4, preliminary): a synthetic city, candidates x demand pixels.

A 10 km x 10 km city at 10 m pixels (1 M demand points, weight 1 each) and 2,000 candidate sites
at uniform random positions, each covering a disk of 300-600 m (uniform): a stand-in for the
per-candidate coverage sets the coverage engine will supply. Costs uniform 1-3. Reports the demand
classes, the greedy baseline and ``select_sites`` (LP bound, MILP from the greedy start, time limit)
side by side. Usage:

    python benchmarks/selection_bench.py [--candidates 2000] [--side-px 1000] [--target 0.95] [--time-limit 300]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from cellscape.planning.selection import demand_classes, greedy, select_sites


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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--candidates", type=int, default=2000)
    p.add_argument("--side-px", type=int, default=1000)
    p.add_argument("--target", type=float, default=0.95)
    p.add_argument("--time-limit", type=float, default=300.0)
    args = p.parse_args()
    t = time.perf_counter()
    cover, cost = synthetic_cover(args.candidates, args.side_px)
    out = {"candidates": args.candidates, "demand_points": cover.shape[0], "cover_nnz": int(cover.nnz),
           "build_s": time.perf_counter() - t}
    t = time.perf_counter()
    classes = demand_classes(cover, np.ones(cover.shape[0]))
    out.update(classes=classes.n_classes, classes_s=time.perf_counter() - t)
    g = greedy(classes, cost, objective="min_cost", target_fraction=args.target)
    out["greedy"] = {"cost": g.cost, "sites": int(g.chosen.sum()), "seconds": g.seconds}
    s = select_sites(classes, cost, objective="min_cost", target_fraction=args.target, time_limit_s=args.time_limit)
    out["milp"] = {"cost": s.cost, "sites": int(s.chosen.sum()), "bound": s.bound, "gap": s.gap, "status": s.status,
                   "seconds": s.seconds, "greedy_gap_to_bound": (g.cost - s.bound) / g.cost}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
