#!/usr/bin/env python3
"""CRRM peer: per UE x cell path loss / antenna gain / RSRP, best server and SINR with CRRM's own simulator.

    benchmarks/.peer-venvs/crrm/bin/python benchmarks/peers/run_crrm.py IN.npz OUT.npz

How CRRM is driven (crrm 2.0.2, package `CRRM`):
  * one `CRRM.Simulator(CRRM.Parameters(...))` per chunk of UEs (CRRM keeps dense n_ue x n_cell matrices
    for distances, gains and RSRP, so the 4e6 x 300 case must be chunked over UEs); `sim.sinr.update()`
    pulls the whole chain Distance_matrix -> Gain_matrix (path gain x antenna gain) -> RSRP ->
    Attachment_vector (argmax RSRP) -> SINR (wanted / (noise + sum of all other cells)), i.e. full load.
  * every cell is its own CRRM "cell location" (n_sectors=1) so per-cell positions/powers are kept; the
    omni 8 dBi gain that n_sectors=1 implies is then replaced by CRRM's public `CRRM.Antenna_gain`
    (TR 38.901 Table 7.3-1 horizontal cut, 65 deg HPBW, 30 dB, 8 dBi) whose `sector_angles` are set to the
    input azimuths (converted from clockwise-from-north to CRRM's counter-clockwise-from-x angle). CRRM has
    no vertical pattern, so tilts are ignored.
  * noise: CRRM's noise_power = sigma2 [W/Hz] * bw; sigma2 is set to -174 dBm/Hz + NF.
  * path loss for the first n_sub UEs: `sim.params.pathloss_model.get_pathloss_dB(d2D, d3D, U, C)` (the
    same call CRRM's Gain_matrix makes), evaluated on the simulator's own distance matrices.
Env: PEER_CHUNK_UE (UEs per chunk), PEER_MEM_GIB (working-set budget, default 3), PEER_MAX_SECONDS (stop
after this much compute and report the partial size + a labelled extrapolation).
"""
from __future__ import annotations

import importlib.metadata
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _peer_io as io  # noqa: E402

import CRRM  # noqa: E402

NOTES = [
    "UMa NLOS = max(PL_UMa-LOS, PL'_UMa-NLOS) per TR 38.901 Table 7.4.1-1, computed in linear units "
    "(CRRM/UMa_pathloss_model_06.py UMa_pathloss.get_pathloss)",
    "3D distance in PL formulas, 2D distance for the d_BP switch; d_BP = 4 h'BS h'UT fc/c with h' clamped >= 0.01 m",
    "h_E drawn at random per link (1 m w.p. 1/(1+C(d2D,hUT)), else 12,15,..,hUT-1.5); deterministic 1 m for hUT < 13 m",
    "no distance clamping: d2D < 10 m and d2D > 5 km are extrapolated; no fc clamp",
    "h_UT outside [1.5, 22.5] m raises ValueError",
    "antenna: horizontal A_H only (12(phi/65)^2 capped at 30 dB) + 8 dBi, no vertical pattern -> tilts ignored",
    "CRRM's fixed sector angles (0/120/240 deg from +x) replaced by the input azimuths via Antenna_gain.sector_angles",
    "no shadow fading, no Rayleigh fading (LOS=False deterministic)",
]


def main() -> None:
    inp, out = sys.argv[1], sys.argv[2]
    L = io.load(inp)
    model = {"UMa": "UMa", "UMi": "UMi", "RMa": "RMa"}[L.scenario]
    cells = np.column_stack([L.cell_x, L.cell_y, L.cell_h])
    p_w = 10.0 ** ((L.tx_power_dbm - 30.0) / 10.0)
    sigma2 = 10.0 ** ((-174.0 + L.noise_figure_db - 30.0) / 10.0)  # W/Hz
    # input azimuth: clockwise from north; CRRM angle: arctan2(dy, dx), counter-clockwise from +x (east)
    sector_angles = np.deg2rad(90.0 - L.azimuth_deg) % (2.0 * np.pi)

    budget = float(os.environ.get("PEER_MEM_GIB", "3"))
    chunk = io.chunk_size(L.n_cell, bytes_per_link=240, budget_gib=budget, target_links=120_000)
    chunk = min(chunk, L.n_ue)
    max_s = float(os.environ.get("PEER_MAX_SECONDS", "inf"))

    best = np.full(L.n_ue, -1, dtype=np.int64)
    sinr_db = np.full(L.n_ue, np.nan)
    n_sub = L.n_sub
    pl_sub = np.empty((L.n_cell, n_sub))
    ag_sub = np.empty((L.n_cell, n_sub))
    rx_sub = np.empty((L.n_cell, n_sub))
    done = 0
    t_links = 0.0
    t_setup = 0.0
    while done < L.n_ue and t_links < max_s:
        sl = slice(done, min(done + chunk, L.n_ue))
        n = sl.stop - sl.start
        ues = np.column_stack([L.ue_x[sl], L.ue_y[sl], np.full(n, L.ue_h)])
        t0 = time.perf_counter()
        params = CRRM.Parameters(
            cell_locations=cells, ue_initial_locations=ues, n_sectors=1,
            pathloss_model_name=model, LOS=False, shadow_fading=False, rayleigh_fading=False,
            fc_GHz=L.fc_ghz, bw_MHz=L.bandwidth_hz / 1e6, σ2=sigma2, n_subbands=1,
            power_matrix=p_w[:, None], display_colored=False,
        )
        sim = CRRM.Simulator(params)
        ant = CRRM.Antenna_gain(n_sectors=3, n_locations=1)
        ant.sector_angles = sector_angles
        sim.g.antenna_gain = ant
        t1 = time.perf_counter()
        sim.sinr.update()  # distances -> path gain x antenna -> RSRP -> attachment -> SINR
        best[sl] = sim.a.data
        sinr_db[sl] = 10.0 * np.log10(sim.sinr.data[:, 0])
        t2 = time.perf_counter()
        t_setup += t1 - t0
        t_links += t2 - t0
        if sl.start < n_sub:  # diagnostics for the first n_sub UEs (not timed)
            k = min(n_sub, sl.stop) - sl.start
            d2d, d3d, theta = (x[:k] for x in sim.d.data)
            pl_sub[:, sl.start:sl.start + k] = sim.params.pathloss_model.get_pathloss_dB(
                d2d, d3d, ues[:k], sim.cell_locations.data).T
            ag_sub[:, sl.start:sl.start + k] = 10.0 * np.log10(ant(theta)).T
            rx_sub[:, sl.start:sl.start + k] = 30.0 + 10.0 * np.log10(sim.rsrp.data[:k, :, 0]).T
        done = sl.stop
        del sim, params

    extra = {"chunk_ue": chunk, "setup_seconds_in_total": round(t_setup, 4),
             "noise_dbm": round(L.noise_dbm, 3)}
    if done < L.n_ue:
        extra["extrapolated_seconds_full_size_LABEL"] = "EXTRAPOLATION (linear in n_ue), not measured"
        extra["extrapolated_seconds_full_size"] = round(t_links * L.n_ue / done, 1)
    if n_sub > done:
        pl_sub, ag_sub, rx_sub = pl_sub[:, :done], ag_sub[:, :done], rx_sub[:, :done]
    io.save(out, L, path_loss_db=pl_sub, best_cell=best, sinr_db=sinr_db, seconds=t_links, n_ue_done=done,
            peer="crrm", version=f"crrm {importlib.metadata.version('crrm')}", notes=NOTES,
            extra_timing=extra, antenna_gain_dbi=ag_sub, rx_power_dbm=rx_sub)


if __name__ == "__main__":
    main()
