"""System-level simulator speed: UE-slots per second, side by side in one run (issue 11).

Work: the 19-site, 57-sector hexagonal layout of TR 38.901 Table 7.8-1 (ISD 500 m, UMa, 25 m, 46 dBm,
3.5 GHz, 100 MHz at 30 kHz: 273 PRBs in 18 RBGs of 16), 1140 full-buffer users (20 per sector on
average) dropped uniformly, proportional fair per RBG on per-PRB TDL-C/TDL-D fast fading with 2 Rx
MRC, downlink every slot (FDD), 10,000 slots.

Contenders, on the same users, SINRs and fading bank:

* ``cellscape``: :func:`cellscape.simulation.engine.run_simulation` (slot loop in numba, OLLA link
  adaptation with MCS/TBS/BLER, HARQ, measurement steps with handover every 10 ms); the slot-loop
  time and the end-to-end time are both reported;
* ``plain loop``: a per-sector, per-user Python loop with numpy per user (PF metric per RBG,
  argmax, Shannon rate on the PRBs won, average update): what a first simulator looks like; run for
  ``--naive-slots`` slots and reported as a rate;
* ``Sionna SYS``: ``sionna.sys.PFSchedulerSUMIMO`` (sionna-no-rt, PyTorch on CPU, in its own venv:
  ``bash benchmarks/peers/setup_peers.sh sionna``) scheduling the same 57 x 18 RBGs x 20 users per
  slot from achievable rates computed in torch from the same bank; it does less work per slot
  than cellscape (no link adaptation, HARQ, TBS or handover), so the comparison favours it.

Memory: peak RSS of the cellscape run at 2,000 and 10,000 slots, each in a fresh process.

    python benchmarks/simulate_bench.py [--slots 10000] [--naive-slots 100] [--sionna-slots 500]
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
OUT = HERE / "out"
X0, Y0 = 385_000.0, 6_671_000.0
SIONNA_PY = HERE / ".peer-venvs" / "sionna" / "bin" / "python"


def hex_scenario():
    from cellscape.scenario.layouts import hexagonal_site_positions_m
    from cellscape.scenario.model import parse_scenario

    x, y = hexagonal_site_positions_m(500.0)
    sites = [{"site_id": f"S{i:02d}", "x": X0 + 1250 + a, "y": Y0 + 1250 + b, "height_m": 25,
              "sectors": [{"azimuth_deg": az, "tx_power_dbm": 46} for az in (30, 150, 270)]}
             for i, (a, b) in enumerate(zip(x, y))]
    return parse_scenario({"name": "hex57", "seed": 1, "environment": "UMa",
                           "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 2500, Y0 + 2500], "resolution_m": 10},
                           "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30}, "sites": sites})


def simulation(sc, n_slots):
    from cellscape.scenario.simulation import parse_simulation

    return parse_simulation({"simulation": {
        "duration_s": n_slots * 5e-4, "warmup_s": 0.0, "seed": 7,
        "users": [{"name": "u", "count": 1140, "traffic": {"model": "full_buffer"}}],
        "duplex": {"mode": "fdd"}, "uplink": {"enabled": False},
        "scheduler": {"kind": "pf", "link_adaptation": "olla"}, "fading": {"enabled": True}}}, sc)


def run_cellscape(n_slots):
    from cellscape.coverage.engine import sector_maps
    from cellscape.pipeline import localize
    from cellscape.simulation.engine import run_simulation

    sc = hex_scenario()
    grid, xy = localize(sc)
    maps = {1.5: sector_maps(sc, grid, xy)}
    run_simulation(simulation(sc, 40), maps)                       # compile / load the cache
    t = time.perf_counter()
    res = run_simulation(simulation(sc, n_slots), maps)
    total = time.perf_counter() - t
    return res, total


def plain_loop(sinr_lin, serving, bank_rbg, bank_prb, los, n_slots, rbg_size, n_prb, rng):
    """The reference: Python over sectors and users, numpy over RBGs and PRBs."""
    n_u = sinr_lin.size
    n_rbg = bank_rbg.shape[2]
    avg = np.full(n_u, 1.0)
    toff = rng.integers(0, bank_prb.shape[1], (n_u, 2))
    bits = np.zeros(n_u)
    sectors = [np.flatnonzero(serving == s) for s in range(serving.max() + 1)]
    t0 = time.perf_counter()
    for t in range(n_slots):
        for ues in sectors:
            if ues.size == 0:
                continue
            metric = np.empty((ues.size, n_rbg))
            for k, u in enumerate(ues):
                row = (t + toff[u]) % bank_rbg.shape[1]
                g = bank_rbg[los[u], row[0]] + bank_rbg[los[u], row[1]]
                metric[k] = np.log2(1.0 + sinr_lin[u] * g) / avg[u]
            owner = np.argmax(metric, axis=0)
            served = np.zeros(ues.size)
            for k, u in enumerate(ues):
                rbgs = np.flatnonzero(owner == k)
                if rbgs.size == 0:
                    continue
                prbs = (rbgs[:, None] * rbg_size + np.arange(rbg_size)).ravel()
                prbs = prbs[prbs < n_prb]
                row = (t + toff[u]) % bank_prb.shape[1]
                g = bank_prb[los[u], row[0], prbs] + bank_prb[los[u], row[1], prbs]
                served[k] = np.log2(1.0 + sinr_lin[u] * g).sum() * 144.48
            avg[ues] = 0.99 * avg[ues] + 0.01 * served
            bits[ues] += served
    return time.perf_counter() - t0, bits


def memory_probe(n_slots) -> dict:
    """Peak RSS of a fresh process running the cellscape simulation of ``n_slots``."""
    code = (f"import sys, resource; sys.path.insert(0, {str(HERE)!r}); import simulate_bench as b; "
            f"res, t = b.run_cellscape({n_slots}); "
            f"print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return {"slots": n_slots, "peak_rss_mb": float(out[0]), "seconds": float(out[1])}


SIONNA_DRIVER = r'''
import json, sys, time
import numpy as np, torch
from sionna.sys import PFSchedulerSUMIMO
torch.set_num_threads(int(sys.argv[3]))
d = np.load(sys.argv[1])
sinr = torch.tensor(d["sinr_lin"], dtype=torch.float32)          # (n_sec, n_ut)
los = torch.tensor(d["los"], dtype=torch.long)
bank = torch.tensor(d["bank_rbg"], dtype=torch.float32)          # (2, n_samples, n_rbg)
toff = torch.tensor(d["toff"], dtype=torch.long)                 # (n_sec, n_ut, 2)
n_slots = int(d["n_slots"]); n_sec, n_ut = sinr.shape; n_rbg = bank.shape[2]
sched = PFSchedulerSUMIMO(n_ut, n_rbg, 1, batch_size=n_sec, beta=0.99, precision="single", device="cpu")
rate_last = torch.zeros(n_sec, n_ut)
t0 = time.perf_counter()
for t in range(n_slots):
    rows = (t + toff) % bank.shape[1]
    g = bank[los[..., None], rows, :].sum(dim=2)                  # (n_sec, n_ut, n_rbg)
    r_ach = torch.log2(1.0 + sinr[..., None] * g) * 144.48 * 16   # bits per RBG
    r_ach = r_ach.permute(0, 2, 1)[:, None]                       # (n_sec, 1, n_rbg, n_ut)
    is_s = sched(rate_last, r_ach)[..., 0]
    rate_last = (r_ach * is_s).sum(dim=(1, 2))
seconds = time.perf_counter() - t0
import importlib.metadata as m
json.dump({"seconds": seconds, "slots": n_slots, "ue_slots": n_slots * n_sec * n_ut,
           "version": f"sionna-no-rt {m.version('sionna-no-rt')}, torch {torch.__version__}"}, open(sys.argv[2], "w"))
'''


def run_sionna(res, bank, n_slots) -> dict | None:
    if not SIONNA_PY.exists():
        return {"status": "NOT AVAILABLE (run bash benchmarks/peers/setup_peers.sh sionna)"}
    serving = res.ue["serving_sector"]
    n_sec = int(res.cells["sector"].size)
    sinr = 10 ** (res.ue["mean_sinr_db"] / 10)
    # Sionna schedules a fixed number of users per sector: 20, the users of each sector padded by
    # repetition (or cut) to 20 so that the work is the same 57 x 20 user-slots
    rng = np.random.default_rng(0)
    s_mat = np.zeros((n_sec, 20))
    for s in range(n_sec):
        u = np.flatnonzero(serving == s)
        u = np.resize(u, 20) if u.size else np.zeros(20, dtype=int)
        s_mat[s] = sinr[u]
    np.savez(OUT / "sionna_pf_in.npz", sinr_lin=s_mat, los=np.zeros((n_sec, 20), dtype=np.int64),
             bank_rbg=bank.rbg, toff=rng.integers(0, bank.rbg.shape[1], (n_sec, 20, 2)), n_slots=n_slots)
    out = OUT / "sionna_pf_out.json"
    script = OUT / "sionna_pf_driver.py"
    script.write_text(SIONNA_DRIVER)
    p = subprocess.run([str(SIONNA_PY), str(script), str(OUT / "sionna_pf_in.npz"), str(out), str(os.cpu_count())],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return {"status": f"FAILED: {p.stderr.strip().splitlines()[-1] if p.stderr else p.returncode}"}
    return json.loads(out.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slots", type=int, default=10_000)
    ap.add_argument("--naive-slots", type=int, default=100)
    ap.add_argument("--sionna-slots", type=int, default=500)
    ap.add_argument("--no-memory", action="store_true")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    import numba

    from cellscape.propagation.fast_fading import build_fading_bank

    res, total = run_cellscape(args.slots)
    n_u, n_slots = res.meta["n_users"], res.meta["n_slots"]
    ours = {"ue_slots": n_u * n_slots, "slot_loop_s": res.meta["slot_loop_s"], "end_to_end_s": total,
            "ue_slots_per_s_loop": n_u * n_slots / res.meta["slot_loop_s"], "ue_slots_per_s_end_to_end": n_u * n_slots / total,
            "cell_spectral_efficiency_bps_hz": res.summary["cell_spectral_efficiency_bps_hz"],
            "user_throughput_mbps": res.summary["user_throughput_mbps"], "dl_bler": res.summary["dl_bler_mean"]}
    print(f"cellscape: {n_u} users x {n_slots} slots: slot loop {ours['slot_loop_s']:.2f} s "
          f"({ours['ue_slots_per_s_loop'] / 1e6:.2f} M UE-slots/s), end to end {total:.2f} s "
          f"({ours['ue_slots_per_s_end_to_end'] / 1e6:.2f} M UE-slots/s)")
    bank = build_fading_bank(scs_khz=30.0, n_cols=288, rbg_size=16, delay_spread_ns=300.0, n_samples=4096,
                             rng=np.random.default_rng(1))
    sinr = 10 ** (res.ue["mean_sinr_db"] / 10)
    los = np.zeros(n_u, dtype=np.int64)
    naive_s, _ = plain_loop(sinr, res.ue["serving_sector"], bank.rbg, bank.prb, los, args.naive_slots, 16, 273,
                            np.random.default_rng(2))
    naive = {"slots": args.naive_slots, "seconds": naive_s, "ue_slots_per_s": n_u * args.naive_slots / naive_s}
    print(f"plain loop: {args.naive_slots} slots in {naive_s:.2f} s ({naive['ue_slots_per_s'] / 1e6:.3f} M UE-slots/s)"
          f" -> cellscape slot loop {ours['ue_slots_per_s_loop'] / naive['ue_slots_per_s']:.0f}x")
    sionna = run_sionna(res, bank, args.sionna_slots)
    if sionna and "seconds" in sionna:
        sionna["ue_slots_per_s"] = sionna["ue_slots"] / sionna["seconds"]
        print(f"Sionna SYS PF ({sionna['version']}): {sionna['slots']} slots in {sionna['seconds']:.2f} s "
              f"({sionna['ue_slots_per_s'] / 1e6:.3f} M UE-slots/s) -> cellscape slot loop "
              f"{ours['ue_slots_per_s_loop'] / sionna['ue_slots_per_s']:.1f}x")
    else:
        print(f"Sionna SYS: {sionna}")
    memory = [] if args.no_memory else [memory_probe(n) for n in (2_000, args.slots)]
    for m in memory:
        print(f"memory: {m['slots']} slots: peak RSS {m['peak_rss_mb']:.0f} MB ({m['seconds']:.1f} s)")
    record = {"machine": {"python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
                          "cpus": os.cpu_count(), "platform": platform.platform()},
              "cellscape": ours, "plain_loop": naive, "sionna_sys": sionna, "memory": memory,
              "peak_rss_mb_this_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    (OUT / "simulate_bench.json").write_text(json.dumps(record, indent=2, default=float))
    print(f"wrote {OUT / 'simulate_bench.json'}")


if __name__ == "__main__":
    main()
