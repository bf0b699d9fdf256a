"""Energy benchmark: simulated network-days per minute of ``cellscape energy``'s computation.

The network is NetworkEnv's (:func:`cellscape.ai.env.hexagonal_scenario`): 19 sites x 3 sectors
(57 sectors), ISD 500 m, UMa at 3.5 GHz, 25 m masts, 46 dBm per sector, the 7.8 calibration antenna
(10 rows, 12 deg electrical tilt), over a 2.2 km square (no buildings, statistical LOS, shadow
fading on). It runs :func:`cellscape.pipeline.energy.run_energy` as the CLI does
(2000 demand points, 28 days of history, 15-min steps, the three policies, forecast model
``auto``), and reports the time of each part:

- ``maps``: the per-sector maps of the engine (once per network, not per simulated day);
- ``network``: demand points, busy-hour loads, the generated history;
- ``simulate``: the forecast of each simulated day and the three policies over the day(s).

Seconds per network-day = (network + simulate) / days, and with the maps included; target: a
simulated day of the 57-sector network in under a minute on 2 cores.

Usage: python benchmarks/energy_bench.py [--days 1] [--points 2000] [--res 10] [--forecast-model auto]
Results: benchmarks/RESULTS.md, "Energy".
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import sys
import time

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from coverage_bench import machine  # noqa: E402  (benchmarks/ is not a package)

def make_simulation(resolution_m: float = 10.0, users: int = 2000):
    """The 57-sector network of NetworkEnv's benchmark (:func:`cellscape.ai.env.hexagonal_scenario`)
    with ``users`` phones dropped uniformly, as a :class:`~cellscape.scenario.simulation.Simulation`."""
    from cellscape.ai.env import hexagonal_scenario
    from cellscape.scenario.simulation import parse_simulation

    sc = hexagonal_scenario(resolution_m=resolution_m, seed=7)
    return parse_simulation({"name": "hex57", "simulation": {"users": [{"name": "phones", "count": users}]}}, sc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=1)
    ap.add_argument("--points", type=int, default=2000)
    ap.add_argument("--res", type=float, default=10.0, help="map pixel [m]")
    ap.add_argument("--forecast-model", default="auto")
    args = ap.parse_args()

    from cellscape.pipeline.energy import run_energy

    sim = make_simulation(args.res)
    t0 = time.perf_counter()
    run = run_energy(sim, days=args.days, n_points=args.points, forecast_model=args.forecast_model)
    wall = time.perf_counter() - t0
    t = run.meta["timing_s"]
    per_day = (t["network_s"] + t["simulate_s"]) / args.days
    per_day_maps = (t["maps_s"] + t["network_s"] + t["simulate_s"]) / args.days
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    res = {"machine": machine(), "cores_usable": cores, "numba_threads": os.environ.get("NUMBA_NUM_THREADS", "default"),
           "n_sectors": run.meta["n_sectors"], "n_points": run.meta["n_points"], "days": args.days,
           "step_min": run.meta["step_min"], "forecast_model": args.forecast_model, "timing_s": t,
           "wall_s": round(wall, 2), "s_per_network_day": round(per_day, 2),
           "network_days_per_min": round(60.0 / per_day, 2),
           "s_per_network_day_with_maps": round(per_day_maps, 2),
           "saved_pct": {k: round(v["saved_pct"], 2) for k, v in run.result.summary.items()},
           "target_met": bool(per_day_maps < 60.0)}
    print(json.dumps(res, indent=1))
    print(f"energy: {res['n_sectors']} sectors, {res['n_points']} points, {args.days} day(s) of "
          f"{res['step_min']:g}-min steps, forecast {args.forecast_model}: {per_day:.1f} s per network-day "
          f"({60.0 / per_day:.2f} network-days/min); with the maps {per_day_maps:.1f} s "
          f"(target < 60 s on 2 cores: {'met' if res['target_met'] else 'NOT met'}) on {res['machine']}, "
          f"{cores} usable cores")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
