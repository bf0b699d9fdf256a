"""Peak memory of a national streamed run's driver: the whole network read as columns, everything
:class:`cellscape.pipeline.national.NationalTiles` builds before its first tile, and a few tiles.

Each stage runs in its own fresh process (``python benchmarks/national_memory.py --child ...``)
and reports ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (the process's peak resident set, what
the issue's "< 2 GiB" target is about) and its wall time:

- ``read``: ``cellscape.io.scenario_yaml.load_scenario_columns`` of a scenario whose ``sites_file``
  is the site file (what ``cellscape run national.yaml --stream`` does first);
- ``build``: ``read``, then ``NationalTiles`` over a small window, ``network_key`` (the journal's
  fingerprint) and ``sector_table``, i.e. everything the driver holds before its first tile;
- ``run``: ``read``, then the whole streamed run of the window
  (``cellscape.io.stream_writer.run_coverage_streamed``, COGs and KPIs written), as the CLI runs it.

The site file: ``--sites-file PATH`` (Parquet or CSV), or by default the synthetic network of China
at the MIIT count, generated once into ``--work`` (default /tmp/cellscape_national_memory) with
``cellscape synth-network -c CN --sites 4400000`` (4.4 M sites, 13.2 M sectors, ~100 MB).

Usage: python benchmarks/national_memory.py [--stages read,build,run] [--sites-file F] [--work DIR]
       [--window-km 3] [--lon 114.60 --lat 33.40] [--cutoff-db 0.1] [--mode expected|background]
Prints one JSON line per stage, then a summary; exits 1 if a stage's peak is over ``--limit-gib``
(default 2).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import resource
import subprocess
import sys
import tempfile
import time

GIB = 2**30


def _rss_mb() -> float:
    """Current resident set [MB] (Linux /proc; -1 elsewhere)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return -1.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0      # Linux: kB


def write_scenario(folder: Path, sites_file: Path, *, lon: float, lat: float, side_km: float,
                   cutoff_db: float, mode: str = "expected") -> Path:
    """A national scenario YAML over a ``side_km`` square around (lon, lat), 30 m pixels, statistical
    LOS with shadow fading, interference cutoff ``cutoff_db`` in expectation (a city core such as
    Shanghai needs more than MAX_SITES_PER_BLOCK sites per block even at 1 dB: the default window
    is rural)."""
    import math

    dlat = side_km / 111.32
    dlon = dlat / math.cos(math.radians(lat))
    bounds = [lon - dlon / 2, lat - dlat / 2, lon + dlon / 2, lat + dlat / 2]
    text = f"""name: national-memory
seed: 1
environment: UMa
los_mode: statistical
shadow_fading: true
area:
  crs: EPSG:4326
  bounds: [{bounds[0]!r}, {bounds[1]!r}, {bounds[2]!r}, {bounds[3]!r}]
  resolution_m: 30.0
  site_margin_m: 6000000.0      # the whole country's sites, around a small map
carrier: {{fc_ghz: 3.5, bandwidth_mhz: 100, scs_khz: 30, dl_load_factor: 0.5}}
receiver: {{height_m: 1.5}}
compute: {{mem_limit_mb: 8, interference_cutoff_db: {cutoff_db!r}, interference_cutoff_mode: {mode}}}
sites_file: {sites_file.resolve()}
"""
    path = folder / "national.yaml"
    path.write_text(text)
    return path


def child(stage: str, scenario: Path, out: Path) -> dict:
    """One stage in this (fresh) process; its figures."""
    from cellscape.io.limits import allow_large
    from cellscape.io.scenario_yaml import load_scenario_columns

    allow_large()                              # 4.4 M sites is near the default max_sites
    marks = {"start_rss_mb": round(_rss_mb())}
    t0 = time.perf_counter()
    sc, columns = load_scenario_columns(scenario)
    t_read = time.perf_counter() - t0
    marks.update(read_s=round(t_read, 2), after_read_rss_mb=round(_rss_mb()), after_read_peak_mb=round(_peak_mb()),
                 n_sites=columns.n_sites, n_sectors=columns.n_sectors)
    if stage == "build":
        from cellscape.pipeline.coverage import localize
        from cellscape.pipeline.national import NationalTiles, network_key

        t1 = time.perf_counter()
        grid, _ = localize(sc)
        tiles = NationalTiles(sc, grid, columns)
        t_tiles = time.perf_counter() - t1
        key = network_key(columns)
        names = tiles.sector_table()
        _ = (names.sector_id[0], names.site_id[columns.n_sectors - 1])
        marks.update(build_s=round(t_tiles, 2), network_key_s=round(time.perf_counter() - t1 - t_tiles, 2),
                     network_key=key[:16], windows=len(tiles.windows), after_build_rss_mb=round(_rss_mb()))
    elif stage == "run":
        from cellscape.io.stream_writer import run_coverage_streamed

        t1 = time.perf_counter()
        run, _ = run_coverage_streamed(sc, out, site_columns=columns, max_hours=1e3, max_output_gb=1e3)
        meta = run.kpis["meta"]
        marks.update(run_s=round(time.perf_counter() - t1, 2), tiles=run.tiles_total, pixels=run.grid.n_pixels,
                     sites_per_block_max=meta["site_subsets"]["sites_per_block_max"], outputs_sha256=_digests(out))
    elif stage != "read":
        raise ValueError(stage)
    return {"stage": stage, **marks, "peak_rss_mb": round(_peak_mb()), "total_s": round(time.perf_counter() - t0, 2)}


def _digests(out: Path) -> dict:
    """SHA-256 (first 16 hex digits) of the run's files: the same bits before and after a change."""
    import hashlib

    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest()[:16]
            for name in ("coverage.tif", "best_sector.tif", "kpis.json")}


def ensure_sites(work: Path) -> Path:
    path = work / "cn_4400000.parquet"
    if not path.exists():
        exe = Path(sys.executable).with_name("cellscape")
        cmd = [str(exe) if exe.exists() else "cellscape", "synth-network", "-c", "CN", "--sites", "4400000",
               "-o", str(path)]
        subprocess.run(cmd, check=True)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stages", default="read,build,run")
    ap.add_argument("--sites-file", type=Path, default=None)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "cellscape_national_memory")
    ap.add_argument("--lon", type=float, default=114.60, help="window centre (default: the Henan plain, rural)")
    ap.add_argument("--lat", type=float, default=33.40)
    ap.add_argument("--window-km", type=float, default=3.0)
    ap.add_argument("--cutoff-db", type=float, default=0.1, help="interference cutoff [dB]")
    ap.add_argument("--mode", default="expected", choices=("expected", "background"),
                    help="compute.interference_cutoff_mode of the window's run")
    ap.add_argument("--limit-gib", type=float, default=2.0)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--scenario", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.scenario, args.out)), flush=True)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    sites = args.sites_file if args.sites_file is not None else ensure_sites(args.work)
    scenario = write_scenario(args.work, sites, lon=args.lon, lat=args.lat, side_km=args.window_km,
                              cutoff_db=args.cutoff_db, mode=args.mode)
    results, over = [], False
    for stage in [s.strip() for s in args.stages.split(",") if s.strip()]:
        with tempfile.TemporaryDirectory(dir=args.work) as tmp:
            cmd = [sys.executable, __file__, "--child", stage, "--scenario", str(scenario), "--out", str(Path(tmp) / "out")]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=dict(os.environ))
        if done.returncode != 0:
            raise SystemExit(f"stage {stage} failed:\n{done.stderr[-4000:]}")
        r = json.loads(done.stdout.strip().splitlines()[-1])
        r["peak_rss_gib"] = round(r["peak_rss_mb"] / 1024.0, 3)
        over |= r["peak_rss_mb"] * 2**20 >= args.limit_gib * GIB
        results.append(r)
        print(json.dumps(r), flush=True)
    print(json.dumps({"sites_file": str(sites), "limit_gib": args.limit_gib,
                      "peak_rss_gib": {r["stage"]: r["peak_rss_gib"] for r in results}, "under_limit": not over}))
    if over:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
