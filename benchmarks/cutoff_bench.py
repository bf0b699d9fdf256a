"""Interference cutoff benchmark: the full sum against the cutoff on the same map, in one run, as a ratio.

For each case, the coverage engine (numba backend) computes the map twice on the same scenario and
grid: with ``interference_cutoff_db: null`` (every sector at every pixel) and with the cutoff
(default 0.1 dB, cellscape.coverage.cutoff). Reported per case: both times (the run's set-up,
tables and gain patterns included, as a user sees it), their ratio, the share of site-pixels the
cutoff kept, the tiles it widened, the set-up time both runs share (``prepare``) and the ratio
without it, and the agreement of the two maps (best server equal share,
largest best-server RSRP difference, largest SINR difference and the bound the run reports).

Cases (synthetic UMa macro networks of benchmarks/coverage_bench.py: 3 sectors, 25 m, 46 dBm,
8-row array at 6 deg electrical tilt, 3.5 GHz, 100 MHz / 30 kHz, jittered lattice):

- ``city-statistical``: 20 km x 20 km at 50 m, 324 sites, statistical LOS + correlated shadow fading;
- ``city-nlos``: the same network, every link NLOS, no shadow fading;
- ``wide-nlos``: 100 km x 100 km at 100 m, 1024 sites, every link NLOS, no shadow fading;
- ``wide-los``: the same, every link LOS;
- ``city-statistical-expected``: the network of ``city-statistical`` with
  ``interference_cutoff_mode: expected`` (the bound in expectation, cellscape.coverage.cutoff);
- ``wide-statistical-expected``: 80 km x 80 km at 200 m, 1024 sites, statistical LOS + correlated
  shadow fading, mode ``expected`` (what mode ``bound`` cannot cut: it keeps every site).
- ``dense-statistical-expected`` / ``dense-statistical-background``: a dense city, 10 km x 10 km at
  30 m, 1024 sites (ISD ~330 m), statistical LOS + correlated shadow fading, mode ``expected`` or
  ``background`` (r0 = BACKGROUND_RADIUS_M, cellscape.coverage.background): the far sites' expected
  interference instead of the sites themselves.

- ``mixed-background``: a city core and its outskirts, 12 km x 12 km at 40 m: 400 sites in the
  central 4 km x 4 km (ISD ~215 m) and 100 around it (ISD ~1.2 km), statistical LOS + shadow fading,
  mode ``background`` through the national path (cellscape.pipeline.national, blocks of 64 px =
  2.56 km): r0 = 2 km and 4 km everywhere, and ``background_radius_isd`` 3 (r0 = 3 local ISDs per
  block, at most 4 km), with and without ``background_certify_exceedance`` 0.01. The error is
  reported in the core and outside it.

Also reported: the SINR error where the best server agrees (mean, 99th percentile, largest) and the
share of pixels whose best server differs (mode ``expected`` certifies neither).

Usage: python benchmarks/cutoff_bench.py [--cases city-nlos,wide-nlos] [--cutoff-db 0.1]
(``--cases city-statistical-expected,wide-statistical-expected``: about 2 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
import sys
import time

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from coverage_bench import machine, make_scenario  # noqa: E402  (benchmarks/ is not a package)

CASES = {
    # name: (side [px], sites, resolution [m], los_mode, shadow fading, interference_cutoff_mode)
    "city-statistical": (400, 324, 50.0, "statistical", True, "bound"),
    "city-nlos": (400, 324, 50.0, "nlos", False, "bound"),
    "wide-nlos": (1000, 1024, 100.0, "nlos", False, "bound"),
    "wide-los": (1000, 1024, 100.0, "los", False, "bound"),
    "city-statistical-expected": (400, 324, 50.0, "statistical", True, "expected"),
    "wide-statistical-expected": (400, 1024, 200.0, "statistical", True, "expected"),
    "dense-statistical-expected": (334, 1024, 30.0, "statistical", True, "expected"),
    "dense-statistical-background": (334, 1024, 30.0, "statistical", True, "background"),
}
BACKGROUND_RADIUS_M = 1000.0
"""r0 of the background cases (about 3 ISDs of the dense network: 1024 sites on 10 km x 10 km)."""


MIXED_ISD = 3.0
"""background_radius_isd of the ``mixed-background`` case."""


def mixed_scenario(seed: int = 2):
    """The ``mixed-background`` network: 400 sites in the central 4 km square of a 12 km map, 100 outside."""
    from coverage_bench import X0, Y0

    base = make_scenario(300, 500, 40.0, los_mode="statistical", shadow=True, seed=seed)
    rng = np.random.default_rng(seed)
    core = rng.uniform(4000.0, 8000.0, (400, 2))
    outer = rng.uniform(0.0, 12000.0, (400, 2))
    outer = outer[(np.abs(outer - 6000.0) > 2000.0).any(axis=1)][:100]
    xy = np.vstack([core, outer])
    sites = tuple(dataclasses.replace(site, x=X0 + float(x), y=Y0 + float(y)) for site, (x, y) in zip(base.sites, xy))
    return dataclasses.replace(base, sites=sites)


def run_mixed(cutoff_db: float) -> dict:
    """Case ``mixed-background``: the full sum against mode background through the national path,
    r0 fixed and r0 from the local ISD."""
    from cellscape.coverage.engine import compute_coverage
    from cellscape.pipeline import localize
    from cellscape.pipeline.national import NationalTiles
    from cellscape.scenario.columns import SiteColumns

    sc = mixed_scenario()
    grid, xy = localize(sc)
    cols = SiteColumns.from_records(sc.sites)
    small = make_scenario(64, 4, 40.0, los_mode="statistical", shadow=True)      # compile / warm up
    g2, xy2 = localize(small)
    compute_coverage(small, g2, xy2, backend="numba")
    t = time.perf_counter()
    full = compute_coverage(dataclasses.replace(sc, interference_cutoff_db=None), grid, xy, backend="numba")
    t_full = time.perf_counter() - t
    x = grid.x_centers_m(slice(0, grid.n_cols)) - sc.area.bounds[0]
    y = grid.y_centers_m(slice(0, grid.n_rows)) - sc.area.bounds[1]
    core = (np.abs(y[:, None] - 6000.0) < 2000.0) & (np.abs(x[None, :] - 6000.0) < 2000.0)   # (rows, cols)
    out = {"map": "300 x 300 px of 40 m (12 km square), 400 sites in the central 4 km square, 100 outside, "
                  "statistical LOS + shadow fading; national path, blocks of 64 px",
           "full_s": round(t_full, 3)}
    for label, r0_max, isd, cert in (("r0 2 km", 2000.0, None, None), ("r0 2 km, certify 1 %", 2000.0, None, 0.01),
                                     ("r0 4 km", 4000.0, None, None),
                                     (f"r0 {MIXED_ISD:g} ISD (<= 4 km)", 4000.0, MIXED_ISD, None),
                                     (f"r0 {MIXED_ISD:g} ISD (<= 4 km), certify 1 %", 4000.0, MIXED_ISD, 0.01)):
        run = dataclasses.replace(sc, interference_cutoff_db=cutoff_db, interference_cutoff_mode="background",
                                  background_radius_m=r0_max, background_radius_isd=isd,
                                  background_certify_exceedance=cert)
        t = time.perf_counter()
        tiles = NationalTiles(run, grid, cols, backend="numba", block_px=64)
        sinr = np.full(grid.shape, np.nan, dtype=np.float32)
        best = np.full(grid.shape, -2, dtype=np.int32)
        for tile in tiles.tiles():
            w = tile.window
            sinr[w.rows, w.cols], best[w.rows, w.cols] = tile.sinr_db, tile.best_sector
        dt = time.perf_counter() - t
        info = tiles.meta()["interference_cutoff"]
        same = best == full.best_sector
        err = sinr.astype(float) - full.sinr_db.astype(float)
        zones = {}
        for zone, mask in (("core", core & same), ("outside", ~core & same)):
            e = err[mask]
            zones[zone] = {"mean": round(float(e.mean()), 4), "mean_abs": round(float(np.abs(e).mean()), 4),
                           "p1": round(float(np.percentile(e, 1)), 3), "p99": round(float(np.percentile(e, 99)), 3)}
        out[label] = {"seconds": round(dt, 3), "speedup_vs_full": round(t_full / dt, 2),
                      "kept_site_fraction": info["kept_site_fraction"],
                      "r0_m_min_median_max": info.get("background_r0_m_min_median_max"),
                      "best_server_differs_fraction": float(np.mean(~same)), "sinr_error_db": zones}
    return out


def run_case(name: str, cutoff_db: float) -> dict:
    from cellscape.coverage.engine import compute_coverage, prepare
    from cellscape.pipeline import localize

    side, n_sites, res, los, shadow, mode = CASES[name]
    sc = make_scenario(side, n_sites, res, los_mode=los, shadow=shadow)
    grid, xy = localize(sc)
    small = make_scenario(64, 4, res, los_mode=los, shadow=shadow)      # compile / warm up
    g2, xy2 = localize(small)
    compute_coverage(small, g2, xy2, backend="numba")
    t = time.perf_counter()
    prepare(sc, grid, xy)                 # the set-up both runs pay (tables, gain patterns, fields)
    t_prepare = time.perf_counter() - t
    t = time.perf_counter()
    full = compute_coverage(dataclasses.replace(sc, interference_cutoff_db=None), grid, xy, backend="numba")
    t_full = time.perf_counter() - t
    t = time.perf_counter()
    cut = compute_coverage(dataclasses.replace(sc, interference_cutoff_db=cutoff_db, interference_cutoff_mode=mode,
                                               background_radius_m=BACKGROUND_RADIUS_M), grid, xy, backend="numba")
    t_cut = time.perf_counter() - t
    info = cut.meta["interference_cutoff"]
    dsinr = cut.sinr_db.astype(float) - full.sinr_db.astype(float)
    same = cut.best_sector == full.best_sector
    err = dsinr[same]
    return {
        "map": f"{side} x {side} px of {res:g} m ({side * res / 1000:g} km square), {n_sites} sites, "
               f"{sc.n_sectors} sectors, los_mode {los}, shadow fading {'on' if shadow else 'off'}, mode {mode}",
        "links": grid.n_pixels * sc.n_sectors,
        "full_s": round(t_full, 3), "cutoff_s": round(t_cut, 3), "speedup": round(t_full / t_cut, 2),
        "prepare_s": round(t_prepare, 3),
        "speedup_after_prepare": round((t_full - t_prepare) / max(t_cut - t_prepare, 1e-9), 2),
        "tiles_full": full.meta["n_tiles"], "tiles_cutoff": cut.meta["n_tiles"],
        "kept_site_fraction": info["kept_site_fraction"], "tiles_widened": info["tiles_widened"],
        "far_field_cell_m": info["far_field_cell_m"],
        "best_server_equal_fraction": float(np.mean(same)),
        "best_server_differs_fraction": float(np.mean(~same)),
        "rsrp_max_abs_diff_db": float(np.max(np.abs(cut.rsrp_dbm.astype(float) - full.rsrp_dbm.astype(float)))),
        "rsrp_max_abs_diff_where_best_agrees_db": float(np.max(np.abs(cut.rsrp_dbm[same].astype(float)
                                                                      - full.rsrp_dbm[same].astype(float)))),
        "sinr_error_where_best_agrees_db": {"mean": round(float(err.mean()), 5),
                                            "mean_abs": round(float(np.abs(err).mean()), 5),
                                            "p1": round(float(np.percentile(err, 1)), 5),
                                            "p99": round(float(np.percentile(err, 99)), 5),
                                            "p999": round(float(np.percentile(err, 99.9)), 5),
                                            "max": round(float(err.max()), 5)},
        "sinr_diff_db_min_max": [float(dsinr.min()), float(dsinr.max())],
        "sinr_error_bound_db": info["sinr_error_bound_db"], "mode": info.get("mode", "bound"),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", default=",".join([*CASES, "mixed-background"]),
                   help=f"comma-separated, of {', '.join(CASES)}, mixed-background")
    p.add_argument("--cutoff-db", type=float, default=0.1)
    p.add_argument("--json", default=str(HERE / "out" / "cutoff_bench.json"))
    args = p.parse_args()
    res = {"machine": machine(), "cutoff_db": args.cutoff_db, "cases": {}}
    for name in args.cases.split(","):
        name = name.strip()
        res["cases"][name] = run_mixed(args.cutoff_db) if name == "mixed-background" else run_case(name, args.cutoff_db)
        print(name, json.dumps(res["cases"][name]), flush=True)
    Path(args.json).parent.mkdir(exist_ok=True)
    Path(args.json).write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
