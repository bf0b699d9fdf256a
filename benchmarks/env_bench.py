"""NetworkEnv benchmark: environment steps per second, 57 sectors and 1,000 users (issue 14).

Network: the 57-sector TR 38.901 hexagonal layout of :func:`cellscape.ai.env.hexagonal_scenario`
(19 sites x 3 sectors, ISD 500 m, UMa, 3.5 GHz, 100 MHz / 30 kHz, 10-row array at 12 deg electrical
tilt, statistical LOS and shadow fading), per-sector maps at 25 m from the coverage engine (once,
not timed), 1,000 demand points standing for 1,000 users.

Timed: ``env.step`` (load-coupled SINR of 1,000 points x 57 sectors, rates, TR 38.864 energy,
reward, observation), with ``reset`` at the end of each day included, for each action mode and two
action streams: ``random`` (actions drawn from the action space up front: sleep, tilt and power
change every step, the worst case for the load iteration) and ``heuristic`` (the threshold policy,
its own time included). Each measurement runs ``--episodes`` days; the best of ``--repeats`` is
reported with the median (the machine is shared: the best is the least disturbed), in one process
(one core), both per wall-clock second and per CPU second of the process (what an otherwise idle
core would give, less cache effects of the neighbours). The load average is printed too.

Usage: python benchmarks/env_bench.py [--episodes 5] [--repeats 5] [--points 1000]
Target (issue 14): >= 1,000 env steps/s on 2 cores.
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

from cellscape.ai.env import NetworkEnv, hexagonal_scenario, threshold_policy  # noqa: E402


def time_steps(env: NetworkEnv, actions, episodes: int, *, policy=None) -> tuple[float, float, int]:
    """Steps per wall-clock second and per CPU second of this process over ``episodes`` days
    (resets included), and the steps taken."""
    n = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for e in range(episodes):
        env.reset(seed=1000 + e)
        done = False
        k = 0
        while not done:
            a = policy(env) if policy is not None else actions[k % len(actions)]
            _, _, done, _, _ = env.step(a)
            k += 1
            n += 1
    return n / (time.perf_counter() - t0), n / max(time.process_time() - c0, 1e-9), n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--episodes", type=int, default=5)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--points", type=int, default=1000, help="demand points (= users here)")
    p.add_argument("--res", type=float, default=25.0, help="pixel size of the maps [m]")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args()

    print(f"machine: {machine()}; load average before: {os.getloadavg()[0]:.2f}")
    t0 = time.perf_counter()
    sc = hexagonal_scenario(resolution_m=args.res)
    base = NetworkEnv.from_scenario(sc, users=float(args.points), n_points=args.points, seed=1)
    print(f"network: {base.net.n_sectors} sectors, {base.net.n_points} points; maps + calibration "
          f"{time.perf_counter() - t0:.1f} s (not timed below)")
    rows = []
    for mode in ("discrete", "continuous"):
        env = NetworkEnv(base.net, action_mode=mode, user_rate_bps=base.user_rate_bps)
        env.action_space.seed(7)
        actions = [env.action_space.sample() for _ in range(env.n_steps)]
        for stream, pol in (("random", None), ("heuristic", threshold_policy)):
            time_steps(env, actions, 1, policy=pol)                       # warm-up (numba, caches)
            runs = [time_steps(env, actions, args.episodes, policy=pol) for _ in range(args.repeats)]
            wall = [r[0] for r in runs]
            cpu = [r[1] for r in runs]
            row = {"mode": mode, "actions": stream, "best_steps_s": max(wall), "median_steps_s": float(np.median(wall)),
                   "best_steps_per_cpu_s": max(cpu), "steps": args.episodes * env.n_steps}
            rows.append(row)
            print(f"{mode:10s} {stream:9s}: wall best {row['best_steps_s']:6.0f} steps/s, median "
                  f"{row['median_steps_s']:6.0f}; per CPU second best {row['best_steps_per_cpu_s']:6.0f} "
                  f"({args.repeats} x {row['steps']} steps)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json is not None:
        args.json.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
