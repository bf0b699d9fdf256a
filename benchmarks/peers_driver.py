"""Run the peers (benchmarks/peers) on exactly the links of coverage_bench.py and compare.

The pixels of the benchmark map become the peers' UEs and its sectors their cells; all links NLOS,
no shadow fading (the deterministic case). Peers that are not installed are reported as such.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
VENVS = HERE / ".peer-venvs"


def bench_links(args):
    """The benchmark's scenario, its grid, site positions and every pixel centre as a UE (flat)."""
    from coverage_bench import make_scenario

    from cellscape.pipeline import localize

    sc = make_scenario(args.side, args.sites, args.res, los_mode="nlos", shadow=False)
    grid, xy = localize(sc)
    xx, yy = np.meshgrid(grid.x_centers_m(), grid.y_centers_m())
    return sc, xy, xx.ravel(), yy.ravel()


def export_links(links, path: Path) -> None:
    sc, xy, ue_x, ue_y = links
    secs = [(i, s) for i, site in enumerate(sc.sites) for s in site.sectors]
    np.savez(path, ue_x_m=ue_x, ue_y_m=ue_y, ue_h_m=sc.receiver.height_m,
             cell_x_m=np.array([xy[i, 0] for i, _ in secs]), cell_y_m=np.array([xy[i, 1] for i, _ in secs]),
             cell_h_m=np.array([sc.sites[i].height_m for i, _ in secs]),
             cell_azimuth_deg=np.array([s.azimuth_deg for _, s in secs]),
             cell_mech_tilt_deg=np.array([s.mech_tilt_deg for _, s in secs]),
             cell_elec_tilt_deg=np.array([s.elec_tilt_deg for _, s in secs]),
             cell_tx_power_dbm=np.array([s.tx_power_dbm for _, s in secs]),
             fc_ghz=sc.carrier.fc_ghz, bandwidth_hz=sc.carrier.bandwidth_mhz * 1e6,
             noise_figure_db=sc.receiver.noise_figure_db, scenario=sc.environment, los="nlos")


def our_path_loss(links, n_sub: int) -> np.ndarray:
    """Our NLOS path loss (the model function, not the engine's tables) for the first n_sub UEs,
    one row per sector, shape (n_sectors, n_sub)."""
    from cellscape.propagation import tr38901

    sc, xy, ue_x, ue_y = links
    rows = []
    for i, site in enumerate(sc.sites):
        d = np.hypot(ue_x[:n_sub] - xy[i, 0], ue_y[:n_sub] - xy[i, 1])
        pl = tr38901.path_loss_db("UMa", d, site.height_m, sc.receiver.height_m, sc.carrier.fc_ghz, False,
                                  out_of_range="extrapolate")
        rows.extend([pl] * len(site.sectors))
    return np.stack(rows)


def run_peers(args, res: dict) -> dict:
    out_dir = HERE / "out"
    inp = out_dir / "peers_in.npz"
    links = bench_links(args)
    export_links(links, inp)
    subprocess.run(["bash", str(HERE / "peers" / "setup_peers.sh")], capture_output=True, text=True)
    report = {}
    eng = np.load(out_dir / "eng_full.npz") if (out_dir / "eng_full.npz").exists() else None
    for peer in ("crrm", "sionna"):
        status = (VENVS / f"{peer}.status").read_text().strip() if (VENVS / f"{peer}.status").exists() else "fail"
        if not status.startswith("ok"):
            report[peer] = {"available": False, "why": status}
            continue
        out = out_dir / f"peers_out_{peer}.npz"
        env = {**os.environ, "PEER_MAX_SECONDS": str(args.peer_max_seconds)}
        proc = subprocess.run([str(VENVS / peer / "bin" / "python"), str(HERE / "peers" / f"run_{peer}.py"),
                               str(inp), str(out)], capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            report[peer] = {"available": True, "error": proc.stderr[-1500:]}
            continue
        d = np.load(out)
        timing = json.loads(str(d["timing"]))
        ours = our_path_loss(links, d["path_loss_db"].shape[1])
        entry = {"timing": timing,
                 "path_loss_max_abs_diff_db": float(np.max(np.abs(d["path_loss_db"] - ours)))}
        if eng is not None and timing.get("complete", True):
            n = min(d["sinr_db"].size, eng["sinr"].size)
            entry["best_server_equal_fraction_vs_engine"] = float(np.mean(d["best_cell"][:n] == eng["best"].ravel()[:n]))
            entry["sinr_abs_diff_db_p50_p99_vs_engine"] = [
                float(v) for v in np.percentile(np.abs(d["sinr_db"][:n] - eng["sinr"].ravel()[:n]), [50, 99])]
        report[peer] = entry
    return report
