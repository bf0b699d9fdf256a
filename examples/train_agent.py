"""Train a baseline PPO agent on cellscape's NetworkEnv and compare it with always-on and the
threshold heuristic on held-out days (docs/ai_env.md).

Needs the optional extra ``rl`` (stable-baselines3 and PyTorch): ``pip install 'cellscape[rl]'``.

Network: by default the 57-sector TR 38.901 hexagonal layout (19 sites x 3 sectors, ISD 500 m,
:func:`cellscape.ai.env.hexagonal_scenario`) with 1,000 users; ``--sim examples/helsinki-sim.yaml``
uses a simulation file instead (its maps are computed once, at ``--resolution`` m).

Training episodes draw their days from the environment's generator seeded with ``--seed``;
evaluation uses ``--eval-episodes`` other seeds (10000, 10001, ...), the same days for every policy.
Reported per policy: mean reward per day, energy [kWh/day], energy saving against always-on,
served / offered traffic and the mean SLA-violation share; ``ppo-untrained`` is the same network
before training (deterministic), to show what training added.

Usage:
    python examples/train_agent.py [--timesteps 50000] [--mode discrete] [--step-s 3600]
    python examples/train_agent.py --sim examples/helsinki-sim.yaml --resolution 20
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys
import time

import numpy as np


def build_env(args, **kw):
    from cellscape.ai.env import NetworkEnv, hexagonal_scenario

    common = dict(action_mode=args.mode, step_s=args.step_s, **kw)
    if args.sim is None:
        return NetworkEnv.from_scenario(hexagonal_scenario(), users=float(args.points), n_points=args.points,
                                        seed=args.seed, **common)
    from cellscape.io.scenario_yaml import load_simulation

    sim = load_simulation(Path(args.sim))
    return NetworkEnv.from_simulation(sim, n_points=args.points, seed=args.seed, resolution_m=args.resolution,
                                      **common)


def evaluate_policies(env, policies: dict, seeds) -> dict:
    from cellscape.ai.env import run_episode

    out = {}
    for name, pol in policies.items():
        runs = [run_episode(env, pol, seed=s) for s in seeds]
        out[name] = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
    on = out["always-on"]["energy_kwh"]
    for row in out.values():
        row["energy_saving"] = 1.0 - row["energy_kwh"] / on
        row["served_share"] = row["served_gbit"] / row["offered_gbit"]
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sim", default=None, help="a simulation file (default: the 57-sector hexagonal layout)")
    p.add_argument("--resolution", type=float, default=None, help="--sim: pixel size of the maps [m]")
    p.add_argument("--points", type=int, default=1000, help="demand points (users of the hexagonal layout)")
    p.add_argument("--mode", default="discrete", choices=["discrete", "continuous"])
    p.add_argument("--step-s", type=float, default=3600.0, help="interval of the environment [s]")
    p.add_argument("--timesteps", type=int, default=50_000, help="PPO training steps")
    p.add_argument("--eval-episodes", type=int, default=10)
    p.add_argument("--ent-coef", type=float, default=0.0,
                   help="PPO entropy bonus (the entropy of 57 x 7 choices dwarfs a reward of ~0.05 per step)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", type=Path, default=None, help="save the trained model here (.zip)")
    p.add_argument("--json", type=Path, default=None, help="write the comparison here")
    args = p.parse_args()

    try:
        import torch
        from stable_baselines3 import PPO
    except ImportError:
        print("train_agent.py needs stable-baselines3 and PyTorch: pip install 'cellscape[rl]'", file=sys.stderr)
        return 1
    from cellscape.ai.env import always_on_policy, threshold_policy

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    env = build_env(args)
    print(f"network: {env.net.n_sectors} sectors, {env.net.n_points} demand points, {env.n_steps} intervals a day; "
          f"built in {time.perf_counter() - t0:.1f} s", flush=True)
    eval_env = build_env(args, user_rate_bps=env.user_rate_bps) if args.sim is None else env

    model = PPO("MlpPolicy", env, n_steps=8 * env.n_steps, batch_size=env.n_steps * 2, n_epochs=5,
                learning_rate=3e-4, ent_coef=args.ent_coef, gamma=0.95, seed=args.seed, verbose=0,
                policy_kwargs={"net_arch": [128, 128]})
    seeds = [10_000 + k for k in range(args.eval_episodes)]
    untrained = evaluate_policies(eval_env, {"always-on": lambda e, o: always_on_policy(e),
                                             "ppo-untrained": lambda e, o: model.predict(o, deterministic=True)[0]},
                                  seeds)["ppo-untrained"]
    t0 = time.perf_counter()
    model.learn(total_timesteps=args.timesteps)
    train_s = time.perf_counter() - t0
    print(f"trained PPO for {args.timesteps} steps in {train_s:.0f} s", flush=True)
    if args.save is not None:
        model.save(args.save)

    def ppo_policy(e, obs):
        return model.predict(obs, deterministic=True)[0]

    res = evaluate_policies(eval_env, {"always-on": lambda e, o: always_on_policy(e),
                                       "threshold": lambda e, o: threshold_policy(e), "ppo": ppo_policy}, seeds)
    res["ppo-untrained"] = untrained
    print(f"held-out days: {len(seeds)} (seeds {seeds[0]}..{seeds[-1]})")
    print(f"{'policy':13s} {'reward/day':>11s} {'kWh/day':>9s} {'saving':>7s} {'served':>7s} {'SLA viol.':>9s}")
    for name, r in res.items():
        print(f"{name:13s} {r['reward']:11.3f} {r['energy_kwh']:9.1f} {100 * r['energy_saving']:6.1f}% "
              f"{100 * r['served_share']:6.2f}% {100 * r['sla_violation_share']:8.2f}%")
    if args.json is not None:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "train_s": train_s,
                                         "results": res}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
