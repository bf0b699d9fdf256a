"""Sensing-map benchmark: `cellscape sense`'s computation against a naive numpy version, in one run, as a ratio.

Both compute the monostatic sensing SNR and detection probability of a human target (RCS model 1,
TR 38.901 V19 7.9.2.1) at every pixel of the same map for every sector of the same network, every
link NLOS and no shadow fading so that both compute the same deterministic quantity:

- ``engine``: :func:`cellscape.pipeline.sense.run_sense` (the map engine's per-site RSRP tile by
  tile from its distance and antenna tables, numba kernel; echo, per-site maxima and detection counts
  in a second numba pass per tile, cellscape.sensing._reduce);
- ``naive``: per sector, numpy over the whole map: the TR 38.901 path loss
  (:func:`cellscape.propagation.tr38901.path_loss_db`) and the sector antenna gain
  (:func:`cellscape.antenna.sector.sector_gain_dbi`) evaluated at every pixel, the echo of
  :func:`cellscape.sensing.radar.target_coupling_loss_db`, then the best sector and Pd.

Reported: sensing links (pixels x sectors) per second of each, their ratio (target >= 20x), the
largest SNR difference (table interpolation: ~0.01 dB), and the peak RSS of the engine run at two
map sizes in fresh processes (memory flat in the map's size). Also (no naive counterpart) the time of
the same run with ``sensing.mode: bistatic`` (TRP-TRP pairs within ``max_baseline_m``), in bistatic
links (pixels x ordered site pairs) per second.

Usage: python benchmarks/sense_bench.py [--side 600] [--sites 60] [--repeat 1]
Results: benchmarks/RESULTS.md, "Sensing maps".
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
import resource
import subprocess
import sys
import time

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from coverage_bench import machine  # noqa: E402  (benchmarks/ is not a package)

X0, Y0 = 385_000.0, 6_671_000.0


def make_sensing(side_px: int, n_sites: int, resolution_m: float = 10.0, mode: str = "monostatic"):
    from cellscape.scenario.model import parse_scenario
    from cellscape.scenario.sensing import parse_sensing

    rng = np.random.default_rng(1)
    extent = side_px * resolution_m
    sites = [{"site_id": f"S{i}", "x": X0 + float(rng.uniform(0, extent)), "y": Y0 + float(rng.uniform(0, extent)),
              "height_m": 25.0, "sectors": [{"azimuth_deg": float(a), "tx_power_dbm": 46.0, "elec_tilt_deg": 6.0}
                                            for a in (0.0, 120.0, 240.0)]} for i in range(n_sites)]
    data = {"name": "sense-bench", "seed": 1, "environment": "UMa", "los_mode": "nlos", "shadow_fading": False,
            "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + extent, Y0 + extent], "resolution_m": resolution_m},
            "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30}, "sites": sites,
            "sensing": {"target": "human", "target_height_m": 1.5, "mode": mode}, "compute": {"mem_limit_mb": 64}}
    return parse_sensing(data, parse_scenario(data))


def naive(sensing):
    """The same maps, per sector with numpy model calls at every pixel (no tables, no kernel)."""
    from cellscape.antenna.sector import sector_gain_dbi
    from cellscape.pipeline import localize
    from cellscape.pipeline.sense import processing_gain_db, sensing_scenario, sensing_symbols
    from cellscape.propagation import tr38901
    from cellscape.radio.link_budget import noise_per_re_dbm, tx_power_per_re_dbm
    from cellscape.radio.nr import resolve_n_prb
    from cellscape.sensing.detection import detection_probability
    from cellscape.sensing.radar import echo_power_dbm, target_coupling_loss_db
    from cellscape.sensing.rcs import RCS_MODEL_1

    scen = sensing_scenario(sensing)
    grid, xy = localize(scen)
    x = grid.x_centers_m()[None, :]
    y = grid.y_centers_m()[:, None]
    h_ut = scen.receiver.height_m
    n_prb = resolve_n_prb(scen.carrier)
    rcs = RCS_MODEL_1[sensing.target].rcs_mean_dbsm
    best = np.full(grid.shape, -np.inf)
    for (sx, sy), site in zip(xy, scen.sites):
        dx, dy = x - sx, y - sy
        d2d = np.hypot(dx, dy)
        pl = tr38901.path_loss_db("UMa", np.maximum(d2d, 35.0), site.height_m, h_ut, scen.carrier.fc_ghz, False,
                                  out_of_range="clip")
        theta = np.degrees(np.arctan2(d2d, h_ut - site.height_m))
        phi = np.degrees(np.arctan2(dy, dx))
        for sec in site.sectors:
            g = sector_gain_dbi(theta, phi, azimuth_deg=sec.azimuth_deg, mech_tilt_deg=sec.mech_tilt_deg,
                                elec_tilt_deg=sec.elec_tilt_deg, antenna=sec.antenna)
            one_way = pl - g                                   # coupling loss incl. the sector gain, 0 dBi receiver
            p_re = float(tx_power_per_re_dbm(sec.tx_power_dbm, n_prb))
            echo = echo_power_dbm(p_re, 0.0, 0.0, target_coupling_loss_db(one_way, one_way, rcs, scen.carrier.fc_ghz))
            np.maximum(best, echo, out=best)
    scs = scen.carrier.scs_khz
    gain = processing_gain_db(12 * n_prb, sensing_symbols(sensing.sensing_share, sensing.cpi_s, scs))
    snr = best + gain - float(noise_per_re_dbm(scs, sensing.scenario.uplink.gnb_noise_figure_db))
    return snr, detection_probability(snr, sensing.pfa, model=sensing.detector)


def rss_child(side: int, sites: int) -> float:
    code = ("import sys; sys.path.insert(0, %r); import sense_bench as b, resource; "
            "from cellscape.pipeline.sense import run_sense; run_sense(b.make_sensing(%d, %d)); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)") % (str(HERE), side, sites)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=600)
    ap.add_argument("--sites", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=1,
                    help="run both this many times, interleaved, and keep the fastest of each (a shared machine)")
    args = ap.parse_args()
    from cellscape.pipeline.sense import run_sense

    sensing = make_sensing(args.side, args.sites)
    run_sense(make_sensing(64, 4))                              # compile / warm up
    run_sense(make_sensing(64, 4, mode="bistatic"))
    links = args.side * args.side * 3 * args.sites
    from cellscape.coverage import tables

    t_engine = t_naive = t_warm = math.inf
    for _ in range(args.repeat):                                # interleaved, the fastest of each
        tables._gain_table_dbi.cache_clear()                    # a map's first run: its antenna tables built
        t = time.perf_counter()
        run = run_sense(sensing)
        t_engine = min(t_engine, time.perf_counter() - t)
        t = time.perf_counter()
        run_sense(sensing)                                      # the process already holds them
        t_warm = min(t_warm, time.perf_counter() - t)
        t = time.perf_counter()
        snr_naive, pd_naive = naive(sensing)
        t_naive = min(t_naive, time.perf_counter() - t)
    bi = make_sensing(args.side, args.sites, mode="bistatic")
    t = time.perf_counter()
    run_bi = run_sense(bi)
    t_bi = time.perf_counter() - t
    n_pairs = run_bi.kpis["bistatic"]["n_pairs"]
    from cellscape.pipeline import localize
    from cellscape.pipeline.sense import sensing_scenario

    grid, xy = localize(sensing_scenario(sensing))
    gx, gy = np.meshgrid(grid.x_centers_m(), grid.y_centers_m())
    near = np.zeros(grid.shape, dtype=bool)
    for sx, sy in xy:
        near |= np.hypot(gx - sx, gy - sy) < 35.0          # UMa's minimum 2-D distance: both clamp, differently
    mono = run.maps["monostatic"]
    ok = np.isfinite(mono.sensing_snr_db) & ~near
    diff = np.abs(mono.sensing_snr_db[ok].astype(float) - snr_naive[ok])
    res = {
        "machine": machine(),
        "map": f"{args.side} x {args.side} px of 10 m, {args.sites} sites x 3 sectors, NLOS, no shadow fading",
        "links": links, "repeat": args.repeat,
        "engine_meta": {k: run.kpis["meta"][k] for k in ("rsrp_units", "pruned", "kept_site_fraction")},
        "engine_s": round(t_engine, 3), "naive_s": round(t_naive, 3),
        "engine_links_per_s": round(links / t_engine), "naive_links_per_s": round(links / t_naive),
        "speedup": round(t_naive / t_engine, 1),
        "engine_s_gain_tables_held": round(t_warm, 3), "speedup_gain_tables_held": round(t_naive / t_warm, 1),
        "bistatic_s": round(t_bi, 3), "bistatic_pairs (max_baseline_m 1000)": n_pairs,
        "bistatic_links_per_s (pixels x site pairs)": round(args.side * args.side * n_pairs / t_bi),
        "compared": "pixels 35 m or more from every site (UMa's minimum distance)",
        "snr_max_abs_diff_db": round(float(diff.max()), 4), "snr_p99_abs_diff_db": round(float(np.percentile(diff, 99)), 4),
        "snr_median_abs_diff_db": round(float(np.median(diff)), 5),
        "pd_max_abs_diff": round(float(np.max(np.abs(mono.detection_probability[ok] - pd_naive[ok]))), 4),
        "peak_rss_mb_engine (mem_limit_mb 64)": {f"{s}x{s}": round(rss_child(s, args.sites))
                                                 for s in (args.side, args.side * 2)},
    }
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
