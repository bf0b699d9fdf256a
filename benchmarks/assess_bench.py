"""N-1 benchmark: `cellscape assess`'s N-1 from the cached per-sector maps against rerunning the map
engine once per removed site, in one run, as a ratio.

City-like network: ``--sites`` three-sector UMa sites (default 100: 300 sectors) on a jittered
hexagonal grid of ISD ``--isd`` m, 25 m high, 46 dBm, 6 deg electrical tilt, statistical LOS and
correlated shadow fading, over a map of ``--res`` m pixels covering the grid with a half-ISD margin.

- ``cached``: :func:`cellscape.coverage.engine.sector_maps` once (every sector's RSRP at every
  pixel: the per-site tiles kept), then :func:`cellscape.resilience.outage.n_minus_1` (every site
  removed, best server and SINR re-reduced, no propagation). Timed with and without the maps.
- ``rerun``: for each site, the engine (:class:`cellscape.coverage.engine.CoverageTiles`, numba,
  full sum) on the network without it; every kept site keeps its random stream and the full
  network's tables (``site_keys``, ``network_context``) so that the maps are those of the full
  network minus one site; pixels lost counted against the intact map. ``--sample`` reruns are
  timed and the total extrapolated to all sites (said in the output).

"Same results": pixels lost and demand lost per site must be equal for every rerun site, and the
SINR maps equal within 1e-3 dB (the cached maps are float32).

Usage: python benchmarks/assess_bench.py [--sites 100] [--res 20] [--sample 20]
Results: benchmarks/RESULTS.md, "Resilience: N-1".
"""

from __future__ import annotations

import argparse
from dataclasses import replace
import math
from pathlib import Path
import sys
import time

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from coverage_bench import machine  # noqa: E402  (benchmarks/ is not a package)

from cellscape.coverage.engine import CoverageTiles, network_context, sector_maps  # noqa: E402
from cellscape.pipeline.coverage import localize  # noqa: E402
from cellscape.resilience.outage import CoverageCriterion, NetworkMaps, n_minus_1, n_minus_1_maps, serving  # noqa: E402
from cellscape.scenario.model import parse_scenario  # noqa: E402

X0, Y0 = 385_000.0, 6_671_000.0


def city(n_sites: int, isd_m: float, res_m: float, seed: int = 7):
    rng = np.random.default_rng(seed)
    cols = int(math.ceil(math.sqrt(n_sites)))
    pts = []
    for k in range(n_sites):
        r, c = divmod(k, cols)
        x = (c + 0.5 * (r % 2)) * isd_m + rng.uniform(-0.15, 0.15) * isd_m
        y = r * isd_m * math.sqrt(3) / 2 + rng.uniform(-0.15, 0.15) * isd_m
        pts.append((x, y))
    pts = np.array(pts)
    margin = isd_m / 2
    w, h = pts[:, 0].max() + 2 * margin, pts[:, 1].max() + 2 * margin
    sites = [{"site_id": f"S{k:03d}", "x": X0 + margin + x, "y": Y0 + margin + y, "height_m": 25,
              "sectors": [{"azimuth_deg": float((a + 37 * k) % 360), "tx_power_dbm": 46, "elec_tilt_deg": 6}
                          for a in (0, 120, 240)]} for k, (x, y) in enumerate(pts)]
    return parse_scenario({
        "name": "bench-city", "seed": seed, "environment": "UMa",
        "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + w, Y0 + h], "resolution_m": res_m},
        "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30},
        "compute": {"interference_cutoff_db": None}, "sites": sites})


def rerun_without(sc, grid, xy, ctx, removed: int):
    keep = [i for i in range(len(sc.sites)) if i != removed]
    tiles = CoverageTiles(replace(sc, sites=tuple(sc.sites[i] for i in keep)), grid, xy[keep], site_keys=keep,
                          network=ctx, backend="numba")
    rsrp = np.empty(grid.shape, np.float32)
    sinr = np.empty(grid.shape, np.float32)
    for t in tiles:
        rsrp[t.window.rows, t.window.cols] = t.rsrp_dbm
        sinr[t.window.rows, t.window.cols] = t.sinr_db
    return rsrp.ravel(), sinr.ravel()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sites", type=int, default=100)
    p.add_argument("--isd", type=float, default=400.0, help="inter-site distance [m]")
    p.add_argument("--res", type=float, default=20.0, help="pixel size [m]")
    p.add_argument("--sample", type=int, default=20, help="reruns timed (0: all sites)")
    a = p.parse_args()
    sc = city(a.sites, a.isd, a.res)
    grid, xy = localize(sc)
    crit = CoverageCriterion(rsrp_min_dbm=-110.0)
    print(f"machine: {machine()}")
    print(f"network: {len(sc.sites)} sites, {sc.n_sectors} sectors; map {grid.n_rows} x {grid.n_cols} = "
          f"{grid.n_pixels} pixels of {a.res:g} m")

    # warm the numba kernels (compile time is not the method's)
    sector_maps(replace(sc, sites=sc.sites[:2]), grid, xy[:2])

    t0 = time.perf_counter()
    maps = sector_maps(sc, grid, xy)
    t_maps = time.perf_counter() - t0
    net = NetworkMaps.from_sector_maps(maps, load_factor=sc.carrier.dl_load_factor)
    demand = np.ones(net.n_pixels)
    t0 = time.perf_counter()
    base = serving(net)
    table = n_minus_1(net, crit, demand, base=base)
    t_n1 = time.perf_counter() - t0
    cached = t_maps + t_n1
    print(f"cached: sector_maps {t_maps:.2f} s + N-1 of {net.n_sites} sites {t_n1:.2f} s = {cached:.2f} s")

    base_cov = crit.covered(base.rsrp_dbm, base.sinr_db)
    ctx = network_context(sc, grid, xy, [s.environment or sc.environment for s in sc.sites])
    rerun_without(sc, grid, xy, ctx, 0)             # warm
    n = net.n_sites if a.sample <= 0 else min(a.sample, net.n_sites)
    pick = np.linspace(0, net.n_sites - 1, n).round().astype(int)
    _, fast_sinr = n_minus_1_maps(net)                 # (n_sites, n_pixels), for the comparison only
    fast_sinr_err = 0.0
    mismatches = 0
    t_rerun = 0.0
    for s in pick:
        t0 = time.perf_counter()
        rsrp, sinr = rerun_without(sc, grid, xy, ctx, int(s))
        lost = int((base_cov & ~crit.covered(rsrp, sinr)).sum())
        t_rerun += time.perf_counter() - t0
        fast_sinr_err = max(fast_sinr_err, float(np.max(np.abs(fast_sinr[s] - sinr))))
        mismatches += int(lost != table.pixels_lost[s])
    per = t_rerun / n
    total = per * net.n_sites
    extrap = "" if n == net.n_sites else f" (timed {n} of {net.n_sites} reruns, extrapolated)"
    print(f"rerun: {per:.3f} s per site x {net.n_sites} sites = {total:.1f} s{extrap}")
    print(f"same results: pixels lost differ for {mismatches} of {n} compared sites; largest SINR difference "
          f"{fast_sinr_err:.2e} dB")
    print(f"speed-up: {total / cached:.1f}x including the maps, {total / t_n1:.0f}x from cached maps "
          f"(target >= 10x)")


if __name__ == "__main__":
    main()
