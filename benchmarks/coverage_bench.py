"""Coverage engine benchmark: link evaluations per second and peak memory, side by side in one run.

Links = pixels x sectors, each with TR 38.901 path loss, sector antenna gain, RSRP, and the per-pixel
best server and SINR. Compared in the same run, as ratios (the machine is shared and noisy):

- engine (numba): cellscape.coverage.engine.compute_coverage with the numba backend;
- engine (numpy): the same tables with the numpy backend;
- naive numpy: the same maths written as a user would, calling the model functions directly per
  sector on every pixel (no lookup tables), on a block of rows (rate extrapolated per link);
- floor: only the 3-D distance of every pixel-sector pair and its per-pixel minimum, compiled the same
  way as the engine (numba, parallel, fastmath);
- peers (optional, --peers): CRRM and Sionna via benchmarks/peers/ in their own virtualenvs.

Each contender runs in a child process so that its peak RSS is its own.
Usage: python benchmarks/coverage_bench.py [--side 2048] [--sites 100] [--naive-rows 64] [--peers]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
X0, Y0 = 380_000.0, 6_660_000.0          # a UTM 35N origin (Helsinki region); any metric CRS works


def make_scenario(side: int, n_sites: int, resolution_m: float, *, los_mode: str, shadow: bool, seed: int = 1):
    """A city-sized synthetic UMa network: n_sites 3-sector macro sites on a jittered square lattice."""
    from cellscape.scenario.records import AntennaSpec, Area, Carrier, Receiver, Scenario, Sector, Site

    extent = side * resolution_m
    rng = np.random.default_rng(seed)
    per_side = int(np.ceil(np.sqrt(n_sites)))
    pitch = extent / per_side
    sites = []
    ant = AntennaSpec(n_rows=8, row_spacing_wavelengths=0.5)
    for i in range(n_sites):
        cx = X0 + (i % per_side + 0.5) * pitch + rng.uniform(-0.2, 0.2) * pitch
        cy = Y0 + (i // per_side + 0.5) * pitch + rng.uniform(-0.2, 0.2) * pitch
        sectors = tuple(Sector(azimuth_deg=az, tx_power_dbm=46.0, elec_tilt_deg=6.0, antenna=ant)
                        for az in (0.0, 120.0, 240.0))
        sites.append(Site(site_id=f"S{i:03d}", x=cx, y=cy, height_m=25.0, sectors=sectors))
    return Scenario(name="bench", area=Area(bounds=(X0, Y0, X0 + extent, Y0 + extent), resolution_m=resolution_m,
                                            crs="EPSG:32635"),
                    carrier=Carrier(fc_ghz=3.5, bandwidth_mhz=100.0, scs_khz=30.0, dl_load_factor=1.0),
                    sites=tuple(sites), environment="UMa", receiver=Receiver(height_m=1.5),
                    los_mode=los_mode, shadow_fading=shadow, seed=seed)


def peak_rss_mb() -> float:
    """This process's peak resident memory [MB]: VmHWM of /proc/self/status (Linux; getrusage's
    ru_maxrss would carry the parent's peak across fork and exec: a child of the process that
    built the China network reported its 2.3 GB until 2026-12-07), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_engine(args) -> dict:
    from cellscape.coverage.engine import compute_coverage
    from cellscape.pipeline import localize

    sc = make_scenario(args.side, args.sites, args.res, los_mode=args.los, shadow=args.shadow)
    grid, xy = localize(sc)
    small = make_scenario(64, 4, args.res, los_mode=args.los, shadow=args.shadow)   # compile / warm up
    g2, xy2 = localize(small)
    compute_coverage(small, g2, xy2, backend=args.backend)
    t = time.perf_counter()
    res = compute_coverage(sc, grid, xy, backend=args.backend)
    dt = time.perf_counter() - t
    out = {"seconds": dt, "links": grid.n_pixels * sc.n_sectors, "pixels": grid.n_pixels, "sectors": sc.n_sectors,
           "maxrss_mb": _maxrss_mb(), "tiles": res.meta["n_tiles"]}
    if args.dump:
        np.savez(args.dump, rsrp=res.rsrp_dbm[: args.naive_rows], sinr=res.sinr_db[: args.naive_rows],
                 best=res.best_sector[: args.naive_rows])
        np.savez(Path(args.dump).with_name("eng_full.npz"), sinr=res.sinr_db, best=res.best_sector)
    return out


def child_floor(args) -> dict:
    import numba

    from cellscape.pipeline import localize

    @numba.njit(parallel=True, fastmath=True, cache=True)
    def min_d3d(xc, yc, sx, sy, sdz, out):
        for r in numba.prange(yc.size):
            for c in range(xc.size):
                best = 1e300
                for s in range(sx.size):
                    dx = xc[c] - sx[s]
                    dy = yc[r] - sy[s]
                    d = np.sqrt(dx * dx + dy * dy + sdz[s] * sdz[s])
                    if d < best:
                        best = d
                out[r, c] = best

    sc = make_scenario(args.side, args.sites, args.res, los_mode="nlos", shadow=False)
    grid, xy = localize(sc)
    # one entry per sector, as the engine visits sectors (sites repeat 3x)
    sx = np.repeat(xy[:, 0], 3)
    sy = np.repeat(xy[:, 1], 3)
    sdz = np.full(sx.size, 25.0 - 1.5)
    xc, yc = grid.x_centers_m(), grid.y_centers_m()
    out = np.empty(grid.shape, dtype=np.float32)
    min_d3d(xc[:8], yc[:8], sx, sy, sdz, out[:8, :8])
    t = time.perf_counter()
    min_d3d(xc, yc, sx, sy, sdz, out)
    dt = time.perf_counter() - t
    return {"seconds": dt, "links": grid.n_pixels * sx.size, "maxrss_mb": _maxrss_mb()}


def naive_numpy(sc, grid, xy, rows: slice):
    """The same maths as a user would write it: per sector, the model functions on every pixel."""
    from cellscape.antenna.sector import sector_gain_dbi
    from cellscape.propagation import tr38901
    from cellscape.radio.link_budget import noise_per_re_dbm, tx_power_per_re_dbm
    from cellscape.radio.nr import resolve_n_prb

    x = grid.x_centers_m()[None, :]
    y = grid.y_centers_m(rows)[:, None]
    n_prb = resolve_n_prb(sc.carrier)
    rx = sc.receiver
    rsrp_all = []
    for i, site in enumerate(sc.sites):
        dx = x - xy[i, 0]
        dy = y - xy[i, 1]
        d2d = np.sqrt(dx ** 2 + dy ** 2)
        los = sc.los_mode == "los"
        pl = tr38901.path_loss_db(sc.environment, np.maximum(d2d, 10.0), site.height_m, rx.height_m,
                                  sc.carrier.fc_ghz, los, out_of_range="extrapolate")
        theta = np.degrees(np.arctan2(d2d, rx.height_m - site.height_m))
        phi = np.degrees(np.arctan2(dy, dx))
        for sec in site.sectors:
            g = sector_gain_dbi(theta, phi, azimuth_deg=sec.azimuth_deg, mech_tilt_deg=sec.mech_tilt_deg,
                                elec_tilt_deg=sec.elec_tilt_deg, antenna=sec.antenna)
            rsrp_all.append(tx_power_per_re_dbm(sec.tx_power_dbm, n_prb) + g - pl)
    rsrp = np.stack(rsrp_all)                                     # (n_sectors, rows, cols)
    mw = 10.0 ** (rsrp / 10.0)
    best = np.argmax(rsrp, axis=0)
    s = np.take_along_axis(mw, best[None], axis=0)[0]
    noise_mw = 10.0 ** (noise_per_re_dbm(sc.carrier.scs_khz, rx.noise_figure_db) / 10.0)
    sinr = 10.0 * np.log10(s / (sc.carrier.dl_load_factor * (mw.sum(axis=0) - s) + noise_mw))
    return rsrp.max(axis=0), sinr, best


def child_naive(args) -> dict:
    from cellscape.pipeline import localize

    sc = make_scenario(args.side, args.sites, args.res, los_mode=args.los, shadow=False)
    grid, xy = localize(sc)
    t = time.perf_counter()
    rsrp, sinr, best = naive_numpy(sc, grid, xy, slice(0, args.naive_rows))
    dt = time.perf_counter() - t
    out = {"seconds": dt, "links": args.naive_rows * grid.n_cols * sc.n_sectors, "maxrss_mb": _maxrss_mb(),
           "rows": args.naive_rows}
    if args.dump:
        np.savez(args.dump, rsrp=rsrp, sinr=sinr, best=best)
    return out


def _child(kind: str, args, extra: list[str]) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--side", str(args.side), "--sites", str(args.sites),
           "--res", str(args.res), "--naive-rows", str(args.naive_rows), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--side", type=int, default=2048, help="map side in pixels (default 2048: 4.2 M pixels)")
    p.add_argument("--sites", type=int, default=100, help="3-sector sites (default 100: 300 sectors)")
    p.add_argument("--res", type=float, default=5.0, help="pixel size [m]")
    p.add_argument("--naive-rows", type=int, default=32, help="rows computed by the naive version")
    p.add_argument("--los", default="nlos", choices=["nlos", "los", "statistical"])
    p.add_argument("--shadow", action="store_true")
    p.add_argument("--backend", default="numba")
    p.add_argument("--peers", action="store_true", help="also run CRRM / Sionna (benchmarks/peers)")
    p.add_argument("--peer-max-seconds", type=float, default=300.0, help="cap per peer run (extrapolated beyond)")
    p.add_argument("--child", default=None)
    p.add_argument("--dump", default=None)
    p.add_argument("--json", default=str(HERE / "out" / "coverage_bench.json"))
    args = p.parse_args()
    if args.child:
        fn = {"engine": child_engine, "floor": child_floor, "naive": child_naive}[args.child]
        print(json.dumps(fn(args)))
        return

    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    res = {"machine": machine(), "side": args.side, "sites": args.sites, "res_m": args.res}
    common = ["--los", args.los] + (["--shadow"] if args.shadow else [])
    res["engine_numba"] = _child("engine", args, common + ["--backend", "numba", "--dump", str(out_dir / "eng.npz")])
    res["floor"] = _child("floor", args, [])
    res["naive_numpy"] = _child("naive", args, common + ["--dump", str(out_dir / "naive.npz")])
    res["engine_numpy"] = _child("engine", args, common + ["--backend", "numpy"])
    if args.los != "statistical" and not args.shadow:
        a, b = np.load(out_dir / "eng.npz"), np.load(out_dir / "naive.npz")
        res["agreement_vs_naive"] = {
            "rsrp_max_abs_db": float(np.max(np.abs(a["rsrp"] - b["rsrp"]))),
            "sinr_p99_abs_db": float(np.percentile(np.abs(a["sinr"] - b["sinr"]), 99)),
            "best_server_equal_fraction": float(np.mean(a["best"] == b["best"])),
        }
    rate = {k: v["links"] / v["seconds"] for k, v in res.items() if isinstance(v, dict) and "seconds" in v}
    res["links_per_s"] = rate
    res["ratios"] = {
        "engine_numba_vs_naive_numpy": rate["engine_numba"] / rate["naive_numpy"],
        "engine_numba_vs_engine_numpy": rate["engine_numba"] / rate["engine_numpy"],
        "floor_vs_engine_numba": rate["floor"] / rate["engine_numba"],
    }
    if args.peers:
        sys.path.insert(0, str(HERE))
        from peers_driver import run_peers   # benchmarks/peers_driver.py
        res["peers"] = run_peers(args, res)
    Path(args.json).write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
