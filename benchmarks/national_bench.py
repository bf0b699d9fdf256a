"""National-scale benchmark: streamed runs of networks given column-wise (cellscape.pipeline.national).

Three parts, each a whole streamed run as ``cellscape run --stream`` does it (tiles, COG copies with
overviews, KPIs), every run in its own process so that its peak RSS is its own:

- ``scaling``: one fixed network (RMa macro sites on a jittered 10 km lattice over 160 km x 160 km,
  statistical LOS, shadow fading, interference cutoff 0.1 dB in mode ``expected``) at the pixel
  counts of ``--scaling-px`` (default 4 M, 64 M and 256 M pixels: 80 m, 20 m and 10 m). Reported:
  time, site-pixel links the kernel evaluated (kept sites x pixels), links/s, peak RSS.
- ``china``: the synthetic network of China at the MIIT count (``cellscape synth-network``: 4.4 M
  sites, 13.2 M sectors, read as columns), mapped at 30 m on sample windows of each density
  (a city core, a suburban ring, rural and remote land); the time per million pixels of each,
  weighted by the area each tier of the synthetic network covers, projects the whole populated
  area on this machine and on a 64-worker cluster (linear scaling assumed, stated).
- ``china-sample``: the same projection from ``--china-samples`` windows drawn uniformly over the
  populated area (a site of the urban, suburban or rural tier with probability proportional to
  its hexagon cell, the window centred on it), each at its side and twice it (marginal time per
  pixel); the mean, a bootstrap 90 % interval of the mean, and the projected hours.
- ``dask``: one network mapped by 1 and 2 local Dask workers (one thread each), same bits; the
  speed-up (target >= 1.8x). Default the scaling network (no random fields: I/O-bound); with
  ``--dask-window Henan --dask-side-km 60`` a window of the China network in the ``--china-*``
  settings (blocks of 1024 px are the tasks, cut in several where they are few for the workers: a
  60 km window is 4 blocks and two 1-px edge slivers, 16 tasks on 2 workers).

Usage: python benchmarks/national_bench.py [--parts scaling,china,dask] [--scaling-px 4e6,64e6,256e6]
       [--china-window Shanghai] [--china-cutoff-db 0.1] [--china-mode expected|background] [--china-r0 2000] [--china-isd 3] [--china-certify 0.01]
       [--china-marginal] [--china-no-fields] [--china-samples 12 --china-sample-seed 1 --china-sample-km 6 [--china-sample-whole]]
       [--dask-px 16e6 | --dask-window Henan --dask-side-km 60]
Results: benchmarks/RESULTS.md, "National scale".
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from dataclasses import replace
import functools
import json
import math
from pathlib import Path
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from coverage_bench import machine, peak_rss_mb  # noqa: E402  (benchmarks/ is not a package)

X0, Y0 = 300_000.0, 3_300_000.0       # UTM 50N (EPSG:32650), eastern China
SCALING_SIDE_M = 160_000.0
CN_WINDOWS = {
    # name: (lon, lat, side [km]) -- sample windows of each density of the synthetic network
    "urban-core (Shanghai)": (121.47, 31.23, 3.0),
    "suburban (Hefei ring)": (117.10, 31.95, 4.0),
    "rural (Henan plain)": (114.60, 33.40, 6.0),
    "remote (Qinghai)": (97.00, 35.50, 9.0),
}


def base_scenario(bounds, crs: str, resolution_m: float, *, mem_limit_mb: float = 256.0, realistic: bool = True):
    """``realistic``: statistical LOS with shadow fading, cutoff in expectation; else every link
    NLOS, no shadow fading, the per-pixel bound (no random fields: the kernel and the I/O alone)."""
    from cellscape.scenario.records import Area, Carrier, Receiver, Scenario

    return Scenario(name="national", area=Area(bounds=tuple(bounds), resolution_m=resolution_m, crs=crs),
                    carrier=Carrier(fc_ghz=3.5, bandwidth_mhz=100.0, scs_khz=30.0, dl_load_factor=0.5),
                    sites=(), environment="UMa", receiver=Receiver(height_m=1.5),
                    los_mode="statistical" if realistic else "nlos", shadow_fading=realistic, seed=1,
                    mem_limit_mb=mem_limit_mb, interference_cutoff_db=0.1,
                    interference_cutoff_mode="expected" if realistic else "bound")


def columns_of(site_id, x, y, height_m, environment, azimuth_deg, tx_power_dbm, elec_tilt_deg=6.0):
    """SiteColumns of 3-sector sites (azimuth_deg (n, 3))."""
    from cellscape.scenario.columns import SiteColumns

    n = len(x)
    az = np.asarray(azimuth_deg, dtype=float).reshape(n, 3)
    ptr = np.arange(0, 3 * n + 1, 3, dtype=np.int64)
    sid = np.asarray(site_id, dtype=str)
    return SiteColumns(site_id=sid, x=np.asarray(x, float), y=np.asarray(y, float),
                       height_m=np.asarray(height_m, float), environment=np.asarray(environment, dtype=str),
                       sector_ptr=ptr, azimuth_deg=az.ravel(), tx_power_dbm=np.repeat(np.asarray(tx_power_dbm, float), 3),
                       mech_tilt_deg=np.zeros(3 * n), elec_tilt_deg=np.full(3 * n, float(elec_tilt_deg)),
                       sector_id=np.char.add(np.repeat(sid, 3), np.tile(np.array(["-1", "-2", "-3"]), n)))


def scaling_network(seed: int = 1):
    rng = np.random.default_rng(seed)
    pitch = 10_000.0
    k = int(SCALING_SIDE_M // pitch)
    i, j = np.meshgrid(np.arange(k), np.arange(k))
    x = X0 + (i.ravel() + 0.5 + rng.uniform(-0.2, 0.2, i.size)) * pitch
    y = Y0 + (j.ravel() + 0.5 + rng.uniform(-0.2, 0.2, i.size)) * pitch
    az = (np.array([60.0, 180.0, 300.0])[None, :] + rng.uniform(-15, 15, (x.size, 1))) % 360.0
    return columns_of([f"R{n}" for n in range(x.size)], x, y, np.full(x.size, 35.0), np.full(x.size, "RMa"),
                      az, np.full(x.size, 46.0))


def _run(scenario, columns, out: Path, *, workers: int | None = None) -> dict:
    """One streamed run in this process; returns its figures."""
    from cellscape.cli._dask import local_cluster
    from cellscape.io.stream_writer import run_coverage_streamed

    with ExitStack() as stack:
        # the cluster `cellscape run --workers N` starts (its start is not timed)
        client = local_cluster(stack, workers, {"NUMBA_NUM_THREADS": "1"}) if workers else None
        t = time.perf_counter()
        run, _ = run_coverage_streamed(scenario, out, site_columns=columns, max_hours=1e3, max_output_gb=1e3,
                                       client=client)
        seconds = time.perf_counter() - t
    cut = run.kpis["meta"]["interference_cutoff"]
    subsets = run.kpis["meta"]["site_subsets"]
    links = cut.get("kept_site_fraction", 1.0) * run.grid.n_pixels * columns.n_sites
    size = sum(p.stat().st_size for p in out.glob("*.tif"))
    return {"pixels": run.grid.n_pixels, "seconds": round(seconds, 2), "site_pixel_links": float(links),
            "links_per_s": round(links / seconds), "us_per_pixel": round(1e6 * seconds / run.grid.n_pixels, 3),
            "kept_sites_per_pixel": round(links / run.grid.n_pixels, 2),
            "far_radius_m_median": cut.get("far_radius_m_median"),
            "windows_recomputed": cut.get("windows_recomputed_with_more_sites"),
            "background_r0_m_min_median_max": cut.get("background_r0_m_min_median_max"),
            "sites_per_block_mean": subsets["sites_per_block_mean"], "sites_per_block_max": subsets["sites_per_block_max"],
            "output_mb": round(size / 1e6, 1), "peak_rss_mb": round(peak_rss_mb()),
            "sinr_p50_db": run.kpis["sinr_db_percentiles"].get("50")}


def child(args) -> dict:
    spec = json.loads(args.child)
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        if spec["part"] == "scaling":
            res = SCALING_SIDE_M / math.sqrt(spec["pixels"])
            sc = base_scenario((X0, Y0, X0 + SCALING_SIDE_M, Y0 + SCALING_SIDE_M), "EPSG:32650", res,
                               realistic=spec.get("realistic", False))
            return {"resolution_m": round(res, 2), **_run(sc, scaling_network(), Path(tmp))}
        if spec["part"] == "china":
            cols = _pickled(spec["columns"]) if spec.get("columns") else china_columns(args.tmp)
            lon, lat, side_km = spec["window"]
            if spec.get("marginal"):
                # the same window and twice its side: (t2 - t1) / (px2 - px1) leaves out what a run
                # costs whatever its size (set-up, the background raster, KPIs, COG overviews). A
                # third of the window first, untimed: the process's one-time costs (numba caches,
                # gain tables) would otherwise fall on t1 and bias the difference low (they did
                # until 2026-12-07 15:30: Henan 11.3 us/px with them, 15 us/px without)
                _china_window(spec, cols, lon, lat, side_km / 3.0, Path(tmp) / "warm")
                one = _china_window(spec, cols, lon, lat, side_km, Path(tmp) / "a")
                two = _china_window(spec, cols, lon, lat, 2.0 * side_km, Path(tmp) / "b")
                if "refused" in one or "refused" in two:
                    return one if "refused" in one else two
                one["double_side"] = two
                one["marginal_us_per_pixel"] = round(1e6 * (two["seconds"] - one["seconds"])
                                                     / (two["pixels"] - one["pixels"]), 3)
                return one
            if spec.get("whole"):       # a national block's size: the whole run after a small warm-up
                _china_window(spec, cols, lon, lat, 3.0, Path(tmp) / "warm")
                return _china_window(spec, cols, lon, lat, side_km, Path(tmp) / "a")
            return _china_window(spec, cols, lon, lat, side_km, Path(tmp))
        if spec["part"] == "dask":
            if spec.get("window"):          # a window of the China network in the projection's settings
                lon, lat, _ = spec["window"]
                sc, local = _china_scenario(spec, china_columns(args.tmp), lon, lat, spec["side_km"])
                out = _run(sc, local, Path(tmp), workers=spec["workers"] or None)
            else:
                res = SCALING_SIDE_M / math.sqrt(spec["pixels"])
                sc = base_scenario((X0, Y0, X0 + SCALING_SIDE_M, Y0 + SCALING_SIDE_M), "EPSG:32650", res,
                                   realistic=False)
                out = _run(sc, scaling_network(), Path(tmp), workers=spec["workers"] or None)
            import hashlib

            digest = hashlib.sha256()
            for name in ("coverage.tif", "best_sector.tif"):
                import rasterio

                with rasterio.open(Path(tmp) / name) as src:
                    digest.update(src.read().tobytes())
            out["maps_sha256"] = digest.hexdigest()[:16]
            return out
    raise ValueError(spec)


def _china_window(spec: dict, cols, lon: float, lat: float, side_km: float, out: Path) -> dict:
    """One window of the synthetic China network (the sites within 1 degree of it) mapped at 30 m."""
    from cellscape.errors import ScenarioError

    out.mkdir(parents=True, exist_ok=True)
    sc, local = _china_scenario(spec, cols, lon, lat, side_km)
    try:
        res = _run(sc, local, out)
    except ScenarioError as e:          # a block needs more sites than MAX_SITES_PER_BLOCK
        return {"refused": str(e), "cutoff_db": sc.interference_cutoff_db}
    res["cutoff_db"] = sc.interference_cutoff_db
    res["mode"] = sc.interference_cutoff_mode
    if sc.interference_cutoff_mode == "background":
        res["background_radius_m"] = sc.background_radius_m
    x0, y0, x1, y1 = sc.area.bounds
    res["sites_in_window"] = int(np.count_nonzero((local.x > x0) & (local.x < x1) & (local.y > y0) & (local.y < y1)))
    return res


def _china_scenario(spec: dict, cols, lon: float, lat: float, side_km: float):
    """The scenario of a square window of the China network at 30 m and its sites (those within
    1 degree of it)."""
    dlat = side_km / 111.32
    dlon = dlat / math.cos(math.radians(lat))
    bounds = (lon - dlon / 2, lat - dlat / 2, lon + dlon / 2, lat + dlat / 2)
    sc = replace(base_scenario(bounds, "EPSG:4326", 30.0), interference_cutoff_db=spec.get("cutoff_db", 0.1),
                 interference_cutoff_mode=spec.get("mode", "expected"), background_radius_m=spec.get("r0_m", 2000.0),
                 background_radius_isd=spec.get("r0_isd"),
                 background_certify_exceedance=spec.get("certify"))
    if spec.get("no_fields"):       # what the random fields cost: every link NLOS, no shadow fading
        sc = replace(sc, los_mode="nlos", shadow_fading=False)
    near = np.nonzero((np.abs(cols.x - lon) < dlon / 2 + 1.0) & (np.abs(cols.y - lat) < dlat / 2 + 1.0))[0]
    return sc, cols.take(near)


_CHINA = None


@functools.lru_cache(maxsize=1)
def china_network():
    from cellscape.geo.synth_network import SynthParameters, country_inputs, synth_network

    ci = country_inputs("CN")
    return synth_network(ci.city_lon_deg, ci.city_lat_deg, ci.city_population,
                         urban_density_per_km2=ci.urban_density_per_km2, outline_lonlat=ci.outline_lonlat,
                         outline_source=ci.outline_source, n_sites=4_400_000, parameters=SynthParameters(),
                         rng=np.random.default_rng(1))


def china_columns(tmp):
    global _CHINA
    if _CHINA is None:
        net = china_network()
        _CHINA = columns_of([f"CN{i}" for i in range(net.n_sites)], net.lon_deg, net.lat_deg, net.height_m,
                            net.environment, net.azimuth_deg, net.tx_power_dbm)
    return _CHINA


def in_child(spec: dict, tmp: str) -> dict:
    cmd = [sys.executable, __file__, "--child", json.dumps(spec), "--tmp", tmp]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _pickled(path: str):
    import pickle

    with open(path, "rb") as f:
        return pickle.load(f)


POPULATED_TIERS = ("urban", "suburban", "rural")


def sample_windows(n: int, seed: int, side_km: float, tmp: str) -> list[dict]:
    """``n`` windows of the populated area of the synthetic China network, drawn uniformly over its
    area: a site of the urban, suburban or rural tier with probability proportional to its tier's
    hexagon cell (ISD squared), the window centred on it. Each window's sites (within 1 degree of
    its doubled side) are pickled into ``tmp`` so that its child process need not build the network."""
    import pickle

    from cellscape.geo.synth_network import TIER_NAMES

    net = china_network()
    isd = net.isd_used_m()
    weight = np.array([isd[name] ** 2 if name in POPULATED_TIERS else 0.0 for name in TIER_NAMES])[net.tier]
    rng = np.random.default_rng(seed)
    picks = rng.choice(net.n_sites, size=n, replace=False, p=weight / weight.sum())
    cols = china_columns(tmp)
    out = []
    for k, i in enumerate(picks):
        lon, lat = float(net.lon_deg[i]), float(net.lat_deg[i])
        dlat = 2.0 * side_km / 111.32
        dlon = dlat / math.cos(math.radians(lat))
        near = np.nonzero((np.abs(cols.x - lon) < dlon / 2 + 1.0) & (np.abs(cols.y - lat) < dlat / 2 + 1.0))[0]
        path = Path(tmp) / f"sample{k}.pkl"
        with open(path, "wb") as f:
            pickle.dump(cols.take(near), f)
        out.append({"window": (lon, lat, side_km), "tier": TIER_NAMES[net.tier[i]], "columns": str(path)})
    return out


def tier_areas_km2() -> dict:
    """Area each gridded tier of the synthetic China network covers: sites x hexagon cell area."""
    net = china_network()
    isd = net.isd_used_m()
    counts = net.counts()
    return {name: counts[name] * (math.sqrt(3.0) / 2.0) * isd[name] ** 2 / 1e6 for name in isd if name in counts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="scaling,dask")
    ap.add_argument("--scaling-px", default="4e6,64e6,256e6")
    ap.add_argument("--dask-px", type=float, default=4e6)
    ap.add_argument("--china-window", default="", help="china: only the windows whose name contains this")
    ap.add_argument("--china-cutoff-db", type=float, default=0.1, help="china: the cutoff tried first [dB]")
    ap.add_argument("--china-mode", default="expected", choices=("expected", "background"),
                    help="china: compute.interference_cutoff_mode")
    ap.add_argument("--china-r0", type=float, default=2000.0, help="china, mode background: background_radius_m")
    ap.add_argument("--china-isd", type=float, default=None,
                    help="china, mode background: background_radius_isd (r0 = this x the local ISD, at most --china-r0)")
    ap.add_argument("--china-certify", type=float, default=None,
                    help="china, mode background: background_certify_exceedance (e.g. 0.01)")
    ap.add_argument("--china-no-fields", action="store_true",
                    help="china: every link NLOS and no shadow fading, so no random field is drawn: what a "
                         "deterministic model would cost (a measurement, not a model to map with)")
    ap.add_argument("--china-marginal", action="store_true",
                    help="china: also map each window at twice its side and project with the marginal time per pixel")
    ap.add_argument("--china-samples", type=int, default=12,
                    help="china-sample: windows drawn uniformly over the populated area")
    ap.add_argument("--china-sample-seed", type=int, default=1)
    ap.add_argument("--china-sample-whole", action="store_true",
                    help="china-sample: time each window's whole run (after a 3 km warm-up) instead of the "
                         "marginal time; with --china-sample-km 30 each window is about one national block")
    ap.add_argument("--china-sample-km", type=float, default=6.0, help="china-sample: the windows' side [km]")
    ap.add_argument("--dask-window", default="",
                    help="dask: a China window (e.g. Henan) in the --china-* settings instead of the scaling network")
    ap.add_argument("--dask-side-km", type=float, default=60.0,
                    help="dask, --dask-window: the window's side [km] (30 m pixels; blocks of 1024 px, cut where few)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--tmp", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    tmp = tempfile.mkdtemp(prefix="national_bench_")
    args.tmp = tmp
    report: dict = {"machine": machine()}
    parts = args.parts.split(",")
    in_child({"part": "scaling", "pixels": 2.5e5}, tmp)          # compile numba caches once
    if "scaling" in parts:
        rows = []
        for px in [float(v) for v in args.scaling_px.split(",")]:
            r = in_child({"part": "scaling", "pixels": px}, tmp)
            rows.append(r)
            print(json.dumps(r), flush=True)
        report["scaling"] = rows
    if "china" in parts:
        rows = {}
        for name, window in CN_WINDOWS.items():
            if args.china_window not in name:
                continue
            spec = {"part": "china", "window": window, "mode": args.china_mode, "r0_m": args.china_r0,
                    "r0_isd": args.china_isd, "certify": args.china_certify,
                    "marginal": args.china_marginal, "no_fields": args.china_no_fields}
            r = in_child({**spec, "cutoff_db": args.china_cutoff_db}, tmp)
            if "refused" in r:              # dense windows: the 0.1 dB cutoff needs too many sites; 1 dB runs
                print(name, json.dumps(r), flush=True)
                r = {**in_child({**spec, "cutoff_db": 1.0}, tmp), "refused_at_0.1_db": r["refused"]}
            rows[name] = r
            print(name, json.dumps(r), flush=True)
        if set(rows) != set(CN_WINDOWS):
            print(json.dumps(rows, indent=1))
            return
        areas = tier_areas_km2()
        tier_of = {"urban": "urban-core (Shanghai)", "suburban": "suburban (Hefei ring)",
                   "rural": "rural (Henan plain)", "remote": "remote (Qinghai)"}
        px_30m = {t: a * 1e6 / 900.0 for t, a in areas.items()}
        rate = "marginal_us_per_pixel" if args.china_marginal else "us_per_pixel"
        seconds = {t: px_30m[t] * max(rows[tier_of[t]][rate], 0.0) / 1e6 for t in px_30m if t in tier_of}
        populated = [t for t in ("urban", "suburban", "rural") if t in seconds]
        report["china"] = {
            "windows": rows, "tier_area_km2": {t: round(a) for t, a in areas.items()},
            "pixels_30m": {t: float(f"{v:.3g}") for t, v in px_30m.items()},
            "projected_hours_one_machine": {t: round(s / 3600, 2) for t, s in seconds.items()},
            "populated_pixels": float(f"{sum(px_30m[t] for t in populated):.3g}"),
            "populated_hours_one_machine": round(sum(seconds[t] for t in populated) / 3600, 2),
            "populated_hours_64_workers": round(sum(seconds[t] for t in populated) / 3600 / 64 * 2, 3),
            "rate": rate,
            "note": "64 workers of one core each: one 2-core machine's time x 2 / 64, linear scaling assumed; "
                    "each window at the cutoff_db it ran with (1 dB where 0.1 dB was refused)",
        }
        print(json.dumps(report["china"]), flush=True)
    if "china-sample" in parts:
        # the projection from an area-uniform random sample of windows instead of one per tier
        samples = sample_windows(args.china_samples, args.china_sample_seed, args.china_sample_km, tmp)
        rows = []
        for smp in samples:
            spec = {"part": "china", "window": smp["window"], "columns": smp["columns"], "mode": args.china_mode,
                    "r0_m": args.china_r0, "r0_isd": args.china_isd, "certify": args.china_certify,
                    "marginal": not args.china_sample_whole, "whole": args.china_sample_whole,
                    "cutoff_db": args.china_cutoff_db}
            r = in_child(spec, tmp)
            row = {"lon_lat": [round(v, 4) for v in smp["window"][:2]], "tier": smp["tier"],
                   "us_per_pixel": r.get("us_per_pixel" if args.china_sample_whole else "marginal_us_per_pixel"),
                   "timing": "whole run" if args.china_sample_whole else "marginal",
                   "kept_sites_per_pixel": r.get("kept_sites_per_pixel"), "refused": r.get("refused")}
            rows.append(row)
            print(json.dumps(row), flush=True)
        rates = np.array([max(r["us_per_pixel"], 0.0) for r in rows if r["us_per_pixel"] is not None])
        boot = np.random.default_rng(0).choice(rates, size=(2000, rates.size)).mean(axis=1)
        pixels = sum(a * 1e6 / 900.0 for t, a in tier_areas_km2().items() if t in POPULATED_TIERS)
        hours = lambda us: round(us * pixels / 1e6 / 3600.0, 2)        # noqa: E731
        report["china_sample"] = {
            "windows": rows, "n": int(rates.size), "seed": args.china_sample_seed, "side_km": args.china_sample_km,
            "mean_us_per_pixel": round(float(rates.mean()), 2), "median_us_per_pixel": round(float(np.median(rates)), 2),
            "bootstrap_90pct_of_mean": [round(float(v), 2) for v in np.percentile(boot, [5, 95])],
            "populated_pixels": float(f"{pixels:.3g}"),
            "populated_hours_one_machine": hours(rates.mean()),
            "populated_hours_one_machine_90pct": [hours(v) for v in np.percentile(boot, [5, 95])],
            "populated_minutes_64_workers": round(hours(rates.mean()) * 60.0 * 2.0 / 64.0, 1),
            "note": "windows centred on sites drawn with probability proportional to their tier's hexagon "
                    "cell (area-uniform over the populated tiers); us/pixel of each: marginal (its side and "
                    "twice its side) or, with --china-sample-whole, its whole run; 64 workers: one 2-core "
                    "machine's time x 2 / 64",
        }
        print(json.dumps(report["china_sample"]), flush=True)
    if "dask" in parts:
        rows = {}
        spec = {"part": "dask", "pixels": args.dask_px}
        if args.dask_window:            # a China window in the --china-* settings instead of the scaling network
            name = next(n for n in CN_WINDOWS if args.dask_window in n)
            spec = {"part": "dask", "window": CN_WINDOWS[name], "side_km": args.dask_side_km,
                    "cutoff_db": args.china_cutoff_db, "mode": args.china_mode, "r0_m": args.china_r0,
                    "r0_isd": args.china_isd, "certify": args.china_certify}
            report["dask_window"] = {"name": name, "side_km": args.dask_side_km}
        for workers in (0, 1, 2):
            rows[str(workers)] = in_child({**spec, "workers": workers}, tmp)
            print(workers, json.dumps(rows[str(workers)]), flush=True)
        report["dask"] = {"runs": rows, "speedup_1_to_2": round(rows["1"]["seconds"] / rows["2"]["seconds"], 2),
                          "same_bits": len({r["maps_sha256"] for r in rows.values()}) == 1}
        print(json.dumps(report["dask"]), flush=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
