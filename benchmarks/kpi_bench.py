"""Regional KPIs out of core (cellscape.io.regions.regional_kpis, ``cellscape kpi``): one after
another vs dask's threaded scheduler vs a local Dask cluster, over a COG and over a Zarr store.

A synthetic SIDE x SIDE coverage map (float32 rsrp_dbm, sinr_db, throughput_mbps: RSRP falling away
from a few sites plus noise, 25 m pixels, EPSG:32635) is written strip by strip, never whole, as
``coverage.tif`` (GDAL's COG driver: 512 x 512 tiles, deflate, overviews) and ``coverage.zarr``
(cellscape.io.zarr_sink, chunks of 256 rows x the full width, as a streamed run with 256-row tiles
writes it). Then each (format, mode) is measured in its own process (its peak RSS is its own):
square cells of ``--grid-km``, ``--repeat`` times, the best time kept. The KPI columns of every
run are hashed: all must be the same bits.

Before and after, the parallel capacity of the machine is measured (CPU-bound processes, one
vs N together): on a shared machine the speed-up cannot exceed it.

Usage: python benchmarks/kpi_bench.py [--side 4000] [--grid-km 5] [--workers 2] [--repeat 3]
       [--block-pixels 1048576] [--modes sequential,threads,workers] [--rasters coverage.tif,coverage.zarr]
       [--dir benchmarks/out/kpi_bench]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
import subprocess
import sys
import time

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from coverage_bench import machine, peak_rss_mb  # noqa: E402  (benchmarks/ is not a package)

RES_M = 25.0
X0, Y0 = 300_000.0, 6_800_000.0
STRIP_ROWS = 256
MODES = ("sequential", "threads", "workers")


def strip(side: int, r0: int, r1: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Rows r0..r1 of the synthetic map (each strip from its own seeded generator)."""
    rng = np.random.default_rng([seed, r0])
    sites = np.random.default_rng(seed).uniform(0, side, (12, 2))
    yy, xx = np.mgrid[r0:r1, 0:side].astype(np.float64)
    d = np.min([np.hypot(yy - sy, xx - sx) for sy, sx in sites], axis=0)
    rsrp = -55.0 - 0.08 * d + rng.normal(0.0, 6.0, d.shape)
    sinr = 0.4 * (rsrp + 105.0) + rng.normal(0.0, 3.0, d.shape)
    thr = 10.0 ** np.clip(sinr / 15.0 + 1.5, -2.0, 4.0)
    rsrp[rng.uniform(size=d.shape) < 0.002] = -np.inf
    return {"rsrp_dbm": rsrp.astype(np.float32), "sinr_db": sinr.astype(np.float32),
            "throughput_mbps": thr.astype(np.float32)}


def build(side: int, folder: Path) -> None:
    """coverage.tif and coverage.zarr of the synthetic map in ``folder`` (skipped if there)."""
    import rasterio
    from rasterio.crs import CRS
    from rasterio.transform import Affine
    from rasterio.windows import Window as RioWindow
    import rasterio.shutil

    from cellscape.coverage.engine import CoverageTile
    from cellscape.geo.grid import RasterGrid, Window
    from cellscape.io.zarr_sink import ZarrStreamSink

    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "coverage.tif").exists() and (folder / "coverage.zarr").exists():
        return
    t0 = time.perf_counter()
    tmp = folder / "plain.tif"
    profile = dict(driver="GTiff", width=side, height=side, count=3, dtype="float32", crs=CRS.from_epsg(32635),
                   transform=Affine(RES_M, 0.0, X0, 0.0, -RES_M, Y0), tiled=True, blockxsize=512, blockysize=512,
                   compress="deflate", zlevel=1, BIGTIFF="IF_SAFER")
    grid = RasterGrid(crs="EPSG:32635", x_min_m=X0, y_max_m=Y0, resolution_m=RES_M, n_rows=side, n_cols=side)
    sink = ZarrStreamSink(folder, write_run_files=False)
    sink.start(grid, fingerprint="kpi_bench")
    with rasterio.open(tmp, "w", **profile) as dst:
        for i, b in enumerate(("rsrp_dbm", "sinr_db", "throughput_mbps"), start=1):
            dst.set_band_description(i, b)
        for r0 in range(0, side, STRIP_ROWS):
            r1 = min(r0 + STRIP_ROWS, side)
            m = strip(side, r0, r1)
            dst.write(np.stack([m["rsrp_dbm"], m["sinr_db"], m["throughput_mbps"]]),
                      window=RioWindow(0, r0, side, r1 - r0))
            w = Window(r0, r1, 0, side)
            sink.write_tile(CoverageTile(window=w, rsrp_dbm=m["rsrp_dbm"], sinr_db=m["sinr_db"],
                                         best_sector=np.zeros(w.shape, np.int32), indoor=np.zeros(w.shape, bool),
                                         throughput_bps=m["throughput_mbps"] * np.float32(1e6)), {})
    sink.finish(None)
    rasterio.shutil.copy(tmp, folder / "coverage.tif", driver="COG", COMPRESS="DEFLATE", PREDICTOR="3",
                         BLOCKSIZE="512", BIGTIFF="IF_SAFER", NUM_THREADS="ALL_CPUS")
    tmp.unlink()
    print(f"built {side} x {side} synthetic map in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


_SPIN = "import time\nt=time.process_time()\nx=0\nwhile time.process_time()-t<2.0: x+=1\nprint(x)"


def parallel_capacity(n: int) -> float:
    """How many cores this machine gives us now: work done by ``n`` CPU-bound processes spinning
    2 s of CPU together, over one alone, as the ratio of their rates (n on an idle n-core machine;
    less when others load it)."""
    def run(k: int) -> float:
        t0 = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", _SPIN], stdout=subprocess.DEVNULL) for _ in range(k)]
        for pr in procs:
            pr.wait()
        return time.perf_counter() - t0

    one = run(1)
    return n * one / run(n)


def measure(folder: Path, raster: str, mode: str, grid_km: float, workers: int, repeat: int,
            block_pixels: int) -> dict:
    """Time regional_kpis in this process (the best of ``repeat``); the peak RSS; a hash of the columns."""
    from contextlib import ExitStack

    from cellscape.io.regions import regional_kpis

    rss_before_mb = peak_rss_mb()                                  # the imports: cellscape, GDAL, dask, xarray
    with ExitStack() as stack:
        client, start_s = None, 0.0
        if mode == "workers":
            from dask.distributed import Client, LocalCluster

            t0 = time.perf_counter()
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                       dashboard_address=":0"))
            client = stack.enter_context(Client(cluster))
            start_s = time.perf_counter() - t0
        times, cpu, digest = [], [], None
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            cols, regions, meta = regional_kpis(folder / raster, grid_km=grid_km, block_pixels=block_pixels,
                                                threads=workers if mode == "threads" else None, client=client)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            h = hashlib.sha256()
            for name in sorted(c for c in cols if c != "name"):
                h.update(name.encode() + np.ascontiguousarray(cols[name]).tobytes())
            digest = h.hexdigest()
    best = int(np.argmin(times))
    return {"raster": raster, "mode": mode, "seconds": times[best], "all_seconds": times, "cpu_s": cpu[best],
            "cluster_start_s": start_s, "rss_after_imports_mb": rss_before_mb, "peak_rss_mb": peak_rss_mb(),
            "blocks": meta["blocks"], "block_shape": list(meta["block_shape"]), "regions": meta["regions"],
            "digest": digest}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--side", type=int, default=4000, help="map side in pixels (default 4000: 16 M pixels)")
    p.add_argument("--grid-km", type=float, default=5.0, help="square cells [km] (default 5: 400 cells)")
    p.add_argument("--workers", type=int, default=2, help="threads / worker processes of the parallel modes")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--block-pixels", type=int, default=None, help="default cellscape.io.regions.BLOCK_PIXELS")
    p.add_argument("--modes", default=",".join(MODES), help="comma-separated, of " + ", ".join(MODES))
    p.add_argument("--rasters", default="coverage.tif,coverage.zarr")
    p.add_argument("--dir", type=Path, default=HERE / "out" / "kpi_bench")
    p.add_argument("--measure", nargs=2, metavar=("RASTER", "MODE"), help=argparse.SUPPRESS)
    a = p.parse_args()
    from cellscape.io.regions import BLOCK_PIXELS

    block_pixels = a.block_pixels or BLOCK_PIXELS
    folder = a.dir / f"side{a.side}"
    if a.measure:
        print(json.dumps(measure(folder, a.measure[0], a.measure[1], a.grid_km, a.workers, a.repeat, block_pixels)))
        return
    build(a.side, folder)
    print(f"# {machine()}; {a.side} x {a.side} pixels, {a.grid_km:g} km cells, block_pixels {block_pixels}, "
          f"{a.workers} threads/workers, best of {a.repeat}")
    print(f"parallel capacity now: {parallel_capacity(a.workers):.2f} of {a.workers} cores "
          f"({a.workers} CPU-bound processes together vs one alone)", flush=True)
    rows = []
    modes = [m for m in a.modes.split(",") if m]
    rasters = [r for r in a.rasters.split(",") if r]
    for raster in rasters:
        for mode in modes:
            cmd = [sys.executable, __file__, "--side", str(a.side), "--grid-km", str(a.grid_km), "--workers",
                   str(a.workers), "--repeat", str(a.repeat), "--block-pixels", str(block_pixels), "--dir",
                   str(a.dir), "--measure", raster, mode]
            r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
            rows.append(r)
            runs = ", ".join(f"{s:.2f}" for s in r["all_seconds"])
            print(f"{raster:14s} {mode:10s} {r['seconds']:7.2f} s (runs {runs}; CPU of this process "
                  f"{r['cpu_s']:.2f} s; cluster start {r['cluster_start_s']:.1f} s) peak RSS {r['peak_rss_mb']:.0f} MB "
                  f"({r['rss_after_imports_mb']:.0f} MB before the first run), "
                  f"{r['blocks']} blocks of {r['block_shape'][0]} x {r['block_shape'][1]}, {r['regions']} regions",
                  flush=True)
    print(f"parallel capacity now: {parallel_capacity(a.workers):.2f} of {a.workers} cores", flush=True)
    same = len({r["digest"] for r in rows}) == 1
    print(f"same bits in every run: {same}")
    for raster in rasters if "sequential" in modes else []:
        seq = next(r["seconds"] for r in rows if r["raster"] == raster and r["mode"] == "sequential")
        for mode in [m for m in modes if m != "sequential"]:
            s = next(r["seconds"] for r in rows if r["raster"] == raster and r["mode"] == mode)
            print(f"{raster}: {mode} speed-up over sequential {seq / s:.2f}x")
    if not same:
        sys.exit("the runs differ")


if __name__ == "__main__":
    main()
