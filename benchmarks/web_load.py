"""Load run of `cellscape serve`: many concurrent map-tile requests against a real run folder.

Starts `cellscape serve RUN --port 0` (uvicorn, one process) in a subprocess on loopback, then an
asyncio client (httpx.AsyncClient) keeps ``--concurrency`` connections busy with GET requests of
the XYZ tile endpoint, over the tiles of the map at zooms 14..18 and the four raster layers in a
seeded random order (8,500 distinct tiles for the 2 m Helsinki example: every request renders), until ``--requests`` requests are done or ``--time-limit-s`` passes. Reports errors (any
non-200 answer or exception: must be 0), p50/p99 latency and requests/s.

    .venv/bin/python benchmarks/web_load.py                     # Helsinki example (2 m), 50 x 2000
    .venv/bin/python benchmarks/web_load.py --run-dir out/helsinki --json benchmarks/out/web_load.json

Without ``--run-dir`` the built-in Helsinki example is computed first (`cellscape run`, ~10 s)
into benchmarks/out/web-helsinki/ (reused when present).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
from pathlib import Path
import platform
import subprocess
import sys
import tempfile
import time

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RUN = ROOT / "benchmarks" / "out" / "web-helsinki"
LAYERS = ("rsrp_dbm", "sinr_db", "throughput_mbps", "best_sector")

SERVE = """
import sys, typer
from cellscape.cli.serve_cmd import serve
cli = typer.Typer(add_completion=False)
cli.command()(serve)
cli(sys.argv[1:], prog_name="cellscape-serve")
"""


def ensure_run(run_dir: Path | None, resolution_m: float) -> Path:
    if run_dir is not None:
        return run_dir
    if (DEFAULT_RUN / "coverage.tif").is_file() and (DEFAULT_RUN / "scenario.json").is_file():
        return DEFAULT_RUN
    import yaml

    example = ROOT / "examples" / "helsinki.yaml"
    data = yaml.safe_load(example.read_text())
    data["area"]["resolution_m"] = resolution_m
    data["sites_file"] = str(example.parent / data["sites_file"])
    DEFAULT_RUN.parent.mkdir(parents=True, exist_ok=True)
    scenario = DEFAULT_RUN.parent / "web-helsinki.yaml"
    scenario.write_text(yaml.safe_dump(data))
    subprocess.run([str(Path(sys.executable).parent / "cellscape"), "run", str(scenario), "-o", str(DEFAULT_RUN),
                    "--no-png"], check=True)
    return DEFAULT_RUN


def start_server(run_dir: Path) -> tuple[subprocess.Popen, str]:
    log = tempfile.TemporaryFile(mode="w+")        # not a pipe: the server must never block on its stderr
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(run_dir), "--port", "0"], stdout=subprocess.PIPE,
                            stderr=log, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = proc.stdout.readline()
    if not line.startswith("serving "):
        proc.kill()
        log.seek(0)
        raise SystemExit(f"cellscape serve did not start: {line!r} {log.read()}")
    return proc, line.split(" at ", 1)[1].split()[0].rstrip("/")


def tile_urls(bounds: list[float], zooms=range(14, 19), *, seed: int = 1) -> list[str]:
    """Every tile over ``bounds`` (lon/lat) at ``zooms``, for each raster layer, in a seeded random
    order (so that a run of fewer requests than tiles asks for each tile once: all renders are cold)."""
    w, s, e, n = bounds

    def xy(lon, lat, z):
        k = 2 ** z
        x = int((lon + 180.0) / 360.0 * k)
        y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * k)
        return x, y

    tiles = []
    for z in zooms:
        x0, y0 = xy(w, n, z)
        x1, y1 = xy(e, s, z)
        tiles += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    urls = [f"/api/tiles/{layer}/{z}/{x}/{y}.png" for (z, x, y) in tiles for layer in LAYERS]
    order = np.random.default_rng(seed).permutation(len(urls))
    return [urls[i] for i in order]


async def load(base: str, urls: list[str], *, n_requests: int, concurrency: int, time_limit_s: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    next_index = 0
    deadline = time.perf_counter() + time_limit_s
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:
        async def worker():
            nonlocal next_index
            while next_index < n_requests and time.perf_counter() < deadline:
                url = urls[next_index % len(urls)]
                next_index += 1
                t0 = time.perf_counter()
                try:
                    r = await client.get(url)
                    if r.status_code != 200 or r.headers.get("content-type") != "image/png":
                        errors.append(f"{url}: HTTP {r.status_code}")
                except httpx.HTTPError as exc:
                    errors.append(f"{url}: {type(exc).__name__} {exc}")
                latencies.append(time.perf_counter() - t0)

        t_start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t_start
    lat_ms = np.array(latencies) * 1000.0
    return {"requests": len(latencies), "errors": len(errors), "first_errors": errors[:5],
            "concurrency": concurrency, "wall_s": round(wall, 2),
            "requests_per_s": round(len(latencies) / wall, 1) if wall > 0 else None,
            "p50_ms": round(float(np.percentile(lat_ms, 50)), 1) if lat_ms.size else None,
            "p99_ms": round(float(np.percentile(lat_ms, 99)), 1) if lat_ms.size else None,
            "max_ms": round(float(lat_ms.max()), 1) if lat_ms.size else None,
            "distinct_urls": min(len(urls), len(latencies)),
            "timed_out": len(latencies) < n_requests}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run-dir", type=Path, help="a run folder (default: the Helsinki example, computed once)")
    ap.add_argument("--resolution-m", type=float, default=2.0, help="resolution of the computed example [m]")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--time-limit-s", type=float, default=120.0)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)

    run_dir = ensure_run(args.run_dir, args.resolution_m)
    proc, base = start_server(run_dir)
    try:
        meta = httpx.get(base + "/api/run", timeout=30).json()
        urls = tile_urls(meta["bounds"])
        httpx.get(base + urls[0], timeout=30)                      # warm-up (imports, first GDAL open)
        result = asyncio.run(load(base, urls, n_requests=args.requests, concurrency=args.concurrency,
                                  time_limit_s=args.time_limit_s))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    result.update(run=meta["name"], run_dir=str(run_dir), tiles_in_cycle=len(urls), machine=platform.machine(),
                  cpus=os.cpu_count(), python=platform.python_version())
    print(f"{result['requests']} tile requests, {args.concurrency} connections on loopback ({meta['name']}, "
          f"{len(urls)} distinct tiles x layers): errors {result['errors']}, p50 {result['p50_ms']} ms, "
          f"p99 {result['p99_ms']} ms, {result['requests_per_s']} requests/s in {result['wall_s']} s "
          f"({result['cpus']} CPUs)")
    if result["first_errors"]:
        print("first errors: " + "; ".join(result["first_errors"]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 1 if result["errors"] or result["timed_out"] else 0


if __name__ == "__main__":
    sys.exit(main())
