"""Site-specific LOS benchmark: LOS evaluations per second, whole-map time and peak memory.

Side by side in one run, as ratios (the machine is shared and noisy):

- kernel: cellscape.propagation.geometric_los.diffraction_parameter over every site-pixel link of
  the map, LOS decision only (the march stops at the first obstacle) and with the full Bullington
  profile (what ``diffraction: bullington`` needs);
- naive: the same links, one at a time, by the plain per-pair Python/numpy implementation
  (``reference_link_nu``: numpy finds the segment's grid crossings and evaluates the profile with
  ``propagation.diffraction.bullington_parameter``) on a random sample of links (rate extrapolated);
- whole map: ``compute_coverage`` with ``los_mode: geometric`` (LOS, path loss, antennas, SINR);
- diffraction: the per-pixel effect of ``diffraction: bullington`` on each city's map;
- memory: the engine's tile loop on synthetic cities of growing size with the same site density and
  LOS range, each in its own process (peak RSS), with and without keeping the output maps.

Cities: the built-in example (central Helsinki, OSM buildings), central Munich (examples/munich.yaml:
the sionna-rt scene, 1,206 buildings, 10 rooftop macros) and a synthetic "Manhattan" grid
(blocks of 60-110 m, streets 12-30 m, heights 9-45 m, uniformly random; documented below) that can be
made any size. Usage:

    python benchmarks/los_bench.py [--naive-links 400] [--side-km 1.0] [--sizes-km 1,2,3]
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
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
X0, Y0 = 380_000.0, 6_660_000.0


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def manhattan(side_m: float, *, seed: int = 1):
    """Synthetic city: a street grid of blocks 60-110 m long separated by 12-30 m streets, each block
    split into 1-3 x 1-3 buildings of 6-27 m (uniform; the sites' antennas are at 30 m), in UTM 35N starting at (X0, Y0)."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    boxes, heights = [], []
    y = Y0 + rng.uniform(5, 20)
    while y < Y0 + side_m:
        bh = rng.uniform(60, 110)
        x = X0 + rng.uniform(5, 20)
        while x < X0 + side_m:
            bw = rng.uniform(60, 110)
            nx, ny = rng.integers(1, 4, 2)
            for i in range(nx):
                for j in range(ny):
                    boxes.append(shapely.box(x + i * bw / nx, y + j * bh / ny, x + (i + 1) * bw / nx,
                                             y + (j + 1) * bh / ny))
                    heights.append(rng.uniform(6, 27))
            x += bw + rng.uniform(12, 30)
        y += bh + rng.uniform(12, 30)
    return gpd.GeoDataFrame({"height_m": heights}, geometry=boxes, crs="EPSG:32635")


def synthetic_scenario(side_m: float, n_sites: int, *, los_range_m: float = 3000.0, diffraction: str = "none",
                       resolution_m: float = 2.0, mem_limit_mb: float = 512.0, seed: int = 1):
    """n_sites three-sector macros (antennas at 30 m, above every roof) on a jittered lattice."""
    from cellscape.scenario.records import (AntennaSpec, Area, Carrier, GeometryOptions, Receiver, Scenario,
                                            Sector, Site)

    rng = np.random.default_rng(seed)
    per_side = int(np.ceil(np.sqrt(n_sites)))
    pitch = side_m / per_side
    ant = AntennaSpec(n_rows=8, row_spacing_wavelengths=0.5)
    sites = []
    for i in range(n_sites):
        cx = X0 + (i % per_side + 0.5) * pitch + rng.uniform(-0.2, 0.2) * pitch
        cy = Y0 + (i // per_side + 0.5) * pitch + rng.uniform(-0.2, 0.2) * pitch
        sites.append(Site(site_id=f"S{i:03d}", x=cx, y=cy, height_m=30.0, sectors=tuple(
            Sector(azimuth_deg=az, tx_power_dbm=46.0, elec_tilt_deg=6.0, antenna=ant) for az in (0.0, 120.0, 240.0))))
    return Scenario(name="los-bench", area=Area(bounds=(X0, Y0, X0 + side_m, Y0 + side_m), resolution_m=resolution_m,
                                                crs="EPSG:32635"),
                    carrier=Carrier(fc_ghz=3.5, bandwidth_mhz=100.0, scs_khz=30.0, dl_load_factor=0.7),
                    sites=tuple(sites), environment="UMa", receiver=Receiver(height_m=1.5), los_mode="geometric",
                    shadow_fading=False, geometry=GeometryOptions(los_range_m=los_range_m, diffraction=diffraction),
                    seed=seed, mem_limit_mb=mem_limit_mb)


def load_city(name: str, side_km: float, diffraction: str = "none"):
    """(scenario, grid, site_xy, buildings) of the named city."""
    from cellscape.pipeline import load_footprints, localize

    if name in ("helsinki", "munich"):
        import dataclasses

        from cellscape.io.scenario_yaml import load_scenario
        from cellscape.scenario.records import GeometryOptions

        sc = load_scenario(ROOT / "examples" / f"{name}.yaml")
        sc = dataclasses.replace(sc, geometry=GeometryOptions(los_range_m=sc.geometry.los_range_m,
                                                              diffraction=diffraction))
        grid, xy = localize(sc)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sc, grid, xy, load_footprints(sc, grid)
    side_m = side_km * 1000.0
    sc = synthetic_scenario(side_m, 10, diffraction=diffraction)
    grid, xy = localize(sc)
    return sc, grid, xy, manhattan(side_m)


def child_kernel(args) -> dict:
    """All site-pixel links of the map through the kernel, LOS only and with the Bullington profile."""
    from cellscape.coverage.engine import prepare, tile_diffraction_parameter

    sc, grid, xy, b = load_city(args.city, args.side_km, diffraction="bullington")
    run = prepare(sc, grid, xy, footprints=b)
    window = grid.full_window
    out = {"pixels": grid.n_pixels, "sites": len(sc.sites), "links": grid.n_pixels * len(sc.sites)}
    for label, need_nu in (("los_only", False), ("bullington", True)):
        run.geometric.need_nu = need_nu
        tile_diffraction_parameter(run, grid.full_window.__class__(0, 8, 0, 8))       # compile / warm up
        t = time.perf_counter()
        nu = tile_diffraction_parameter(run, window)
        out[f"{label}_seconds"] = time.perf_counter() - t
        out[f"{label}_links_per_s"] = out["links"] / out[f"{label}_seconds"]
        out["los_fraction"] = float(np.mean(nu < 0))
    out["maxrss_mb"] = _maxrss_mb()
    if args.dump:
        np.save(args.dump, nu)
    return out


def child_naive(args) -> dict:
    """A random sample of links by the per-pair reference; checks they equal the kernel's values."""
    from cellscape.coverage.engine import prepare
    from cellscape.propagation.geometric_los import reference_link_nu

    sc, grid, xy, b = load_city(args.city, args.side_km, diffraction="bullington")
    run = prepare(sc, grid, xy, footprints=b)
    geo = run.geometric
    surface = geo.surface_for(grid, grid.full_window)
    rng = np.random.default_rng(0)
    n = args.naive_links
    i = rng.integers(len(sc.sites), size=n)
    r = rng.integers(grid.n_rows, size=n)
    c = rng.integers(grid.n_cols, size=n)
    xs, ys = grid.x_centers_m(), grid.y_centers_m()
    r0 = int(round((surface.grid.y_max_m - grid.y_max_m) / grid.resolution_m))
    c0 = int(round((grid.x_min_m - surface.grid.x_min_m) / grid.resolution_m))
    inside = surface.inside[r + r0, c + c0]
    ground = surface.ground_m[r + r0, c + c0]
    t = time.perf_counter()
    vals = [reference_link_nu(surface, geo.site_xyz_m[i[k]], (xs[c[k]], ys[r[k]], ground[k] + geo.h_ut_m),
                              rx_indoor=bool(inside[k]), fc_ghz=geo.fc_ghz) for k in range(n)]
    dt = time.perf_counter() - t
    out = {"links": n, "seconds": dt, "links_per_s": n / dt, "maxrss_mb": _maxrss_mb()}
    if args.dump and Path(args.dump).exists():
        nu = np.load(args.dump)
        kern = nu[i, r, c].astype(float)
        ref = np.array(vals)
        same_state = np.mean((kern < 0) == (ref < 0))
        fin = np.isfinite(ref) & np.isfinite(kern)
        out["same_los_state"] = float(same_state)
        out["max_abs_nu_diff"] = float(np.max(np.abs(kern[fin] - ref[fin]))) if fin.any() else 0.0
    return out


def child_engine(args) -> dict:
    """The whole coverage map with geometric LOS (and optionally diffraction)."""
    from cellscape.coverage.engine import compute_coverage
    from cellscape.kpi import coverage_kpis

    sc, grid, xy, b = load_city(args.city, args.side_km, diffraction=args.diffraction)
    small = synthetic_scenario(200.0, 2, diffraction=args.diffraction)             # compile / warm up
    from cellscape.pipeline import localize
    g2, xy2 = localize(small)
    compute_coverage(small, g2, xy2, footprints=manhattan(200.0))
    t = time.perf_counter()
    res = compute_coverage(sc, grid, xy, footprints=b)
    dt = time.perf_counter() - t
    k = coverage_kpis(res, rsrp_thresholds_dbm=(-110.0, -100.0))
    return {"seconds": dt, "pixels": grid.n_pixels, "sectors": sc.n_sectors, "tiles": res.meta["n_tiles"],
            "maxrss_mb": _maxrss_mb(), "coverage_-100": k["coverage"]["rsrp_dbm >= -100"]["all"],
            "coverage_-110": k["coverage"]["rsrp_dbm >= -110"]["all"],
            "sinr_db": k["sinr_db_percentiles"], "rsrp_dbm": k["rsrp_dbm_percentiles"],
            "line_of_sight": k.get("line_of_sight")}


def child_diffraction(args) -> dict:
    """Per-pixel effect of ``diffraction: bullington`` against ``none`` on one city: RSRP change of
    outdoor pixels split by the state of the serving link, and the nu of obstructed serving links."""
    from cellscape.coverage.engine import compute_coverage, prepare, tile_diffraction_parameter

    sc0, grid, xy, b = load_city(args.city, args.side_km, diffraction="none")
    sc1, *_ = load_city(args.city, args.side_km, diffraction="bullington")
    plain = compute_coverage(sc0, grid, xy, footprints=b)
    diff = compute_coverage(sc1, grid, xy, footprints=b)
    nu = tile_diffraction_parameter(prepare(sc1, grid, xy, footprints=b), grid.full_window)
    site_index = {s: i for i, s in enumerate(dict.fromkeys(plain.sectors.site_id))}
    serving_site = np.array([site_index[s] for s in plain.sectors.site_id])[plain.best_sector]
    nu_serving = np.take_along_axis(nu, serving_site[None], 0)[0]
    outdoor = ~plain.indoor
    change = diff.rsrp_dbm - plain.rsrp_dbm
    out = {"outdoor_pixels": int(outdoor.sum()), "los_links_in_fresnel_zone": float(((nu < 0) & (nu > -0.78)).sum()
                                                                                     / max(1, (nu < 0).sum()))}
    for label, m in (("served_los", outdoor & (nu_serving < 0)), ("served_nlos", outdoor & (nu_serving >= 0))):
        x = change[m]
        out[label] = {"pixels": int(m.sum()), "gain_over_1db": float((x > 1).mean()), "loss_over_1db": float((x < -1).mean()),
                      "p5_db": float(np.percentile(x, 5)), "p95_db": float(np.percentile(x, 95))}
    out["nlos_serving_nu_median"] = float(np.median(nu_serving[outdoor & (nu_serving >= 0)]))
    for name, a, c in (("rsrp_dbm", plain.rsrp_dbm, diff.rsrp_dbm), ("sinr_db", plain.sinr_db, diff.sinr_db)):
        out[name + "_p5_none_bullington"] = [float(np.percentile(a, 5)), float(np.percentile(c, 5))]
    return out


def _rss_mb(field: str) -> float:
    """VmRSS (current) or VmHWM (peak since the last reset) of this process [MB]."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def child_memory(args) -> dict:
    """The geometric tile loop of the engine (surface, march, kernel) on a synthetic city of
    ``side_km``, 4 sites per km^2, LOS range 1 km. Peak RSS of the loop alone (VmHWM reset after
    set-up); the output maps are dropped after each block unless ``--keep-maps`` (as compute_coverage
    keeps its five maps: 17 bytes per pixel)."""
    from cellscape.coverage.engine import _BYTES_PER_PIXEL_SITE, _BYTES_PER_PIXEL_SITE_GEOMETRIC, _kernel, prepare, tile_inputs
    from cellscape.geo.grid import square_blocks
    from cellscape.pipeline import localize

    side_m = args.side_km * 1000.0
    n_sites = args.sites or max(1, int(round(4 * args.side_km ** 2)))
    sc = synthetic_scenario(side_m, n_sites, los_range_m=1000.0, mem_limit_mb=args.mem_mb)
    grid, xy = localize(sc)
    b = manhattan(side_m)
    kernel = _kernel("numba")
    run = prepare(sc, grid, xy, footprints=b, mem_limit_mb=args.mem_mb)
    w0 = grid.full_window.__class__(0, 4, 0, 4)
    kernel(run.static, tile_inputs(run, w0))                                         # compile / warm up
    run.geometric._surface = None
    per_site = _BYTES_PER_PIXEL_SITE["numba"] + _BYTES_PER_PIXEL_SITE_GEOMETRIC
    rows = grid.rows_per_tile(bytes_per_row_per_unit=per_site, units=len(sc.sites), mem_limit_mb=0.75 * args.mem_mb)
    maps = np.empty((5,) + grid.shape, np.float32) if args.keep_maps else None      # ~ the engine's 17 B/pixel
    if maps is not None:
        maps.fill(0.0)
    Path("/proc/self/clear_refs").write_text("5")                                    # reset VmHWM
    start = _rss_mb("VmRSS")
    t = time.perf_counter()
    n_tiles = 0
    surfaces = set()
    for w in square_blocks(grid, max_pixels=rows * grid.n_cols):
        tile = tile_inputs(run, w)
        out = kernel(run.static, tile)
        if maps is not None:
            maps[0, w.rows, w.cols] = out.rsrp_dbm
        surfaces.add(run.geometric._surface.grid.n_pixels)
        n_tiles += 1
        del tile, out
    return {"side_km": args.side_km, "pixels": grid.n_pixels, "sites": n_sites, "tiles": n_tiles,
            "seconds": time.perf_counter() - t, "loop_peak_rss_mb": _rss_mb("VmHWM"), "rss_at_start_mb": start,
            "loop_peak_above_start_mb": _rss_mb("VmHWM") - start, "largest_surface_pixels": max(surfaces),
            "mem_limit_mb": args.mem_mb}


def run_child(mode: str, **kw) -> dict:
    cmd = [sys.executable, __file__, "--child", mode]
    for k, v in kw.items():
        if isinstance(v, bool):
            if v:
                cmd.append(f"--{k.replace('_', '-')}")
        else:
            cmd += [f"--{k.replace('_', '-')}", str(v)]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if res.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--child", default=None)
    p.add_argument("--city", default="helsinki")
    p.add_argument("--side-km", type=float, default=1.0)
    p.add_argument("--naive-links", type=int, default=400)
    p.add_argument("--diffraction", default="none")
    p.add_argument("--dump", default="")
    p.add_argument("--mem-mb", type=float, default=64.0)
    p.add_argument("--keep-maps", action="store_true")
    p.add_argument("--sites", type=int, default=0, help="memory runs: this many sites (0: 4 per km^2)")
    p.add_argument("--sizes-km", default="1,2,3")
    p.add_argument("--cities", default="helsinki,munich,manhattan")
    p.add_argument("--out", default=str(HERE / "out" / "los_bench.json"))
    args = p.parse_args()
    if args.child:
        fn = {"kernel": child_kernel, "naive": child_naive, "engine": child_engine, "memory": child_memory,
              "diffraction": child_diffraction}[args.child]
        print(json.dumps(fn(args)))
        return
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    report: dict = {"machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
                                "cores": os.cpu_count()}, "date": time.strftime("%Y-%m-%d %H:%M")}
    for city in args.cities.split(","):
        dump = str(HERE / "out" / f"nu_{city}.npy")
        kern = run_child("kernel", city=city, side_km=args.side_km, dump=dump)
        naive = run_child("naive", city=city, side_km=args.side_km, naive_links=args.naive_links, dump=dump)
        engines = {d: run_child("engine", city=city, side_km=args.side_km, diffraction=d) for d in ("none", "bullington")}
        effect = run_child("diffraction", city=city, side_km=args.side_km)
        report[city] = {"kernel": kern, "naive": naive, "engine": engines, "diffraction_effect": effect,
                        "kernel_vs_naive_los_only": kern["los_only_links_per_s"] / naive["links_per_s"],
                        "kernel_vs_naive_bullington": kern["bullington_links_per_s"] / naive["links_per_s"],
                        "naive_whole_map_estimate_s": kern["links"] / naive["links_per_s"]}
        print(json.dumps({city: report[city]}, indent=1), flush=True)
    report["memory"] = []
    for sites in (0, 16):          # 4 sites per km^2, and a fixed 16 sites
        for s in (float(v) for v in args.sizes_km.split(",")):
            m = run_child("memory", side_km=s, mem_mb=args.mem_mb, sites=sites)
            report["memory"].append(m)
            print(json.dumps(m), flush=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
