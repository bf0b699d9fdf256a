#!/usr/bin/env python3
"""Sionna peer (sionna-no-rt >= 2.0, PyTorch, CPU): deterministic TR 38.901 coupling loss, best server, SINR.

    benchmarks/.peer-venvs/sionna/bin/python benchmarks/peers/run_sionna.py IN.npz OUT.npz

How Sionna is driven (all Sionna's own code; only array reshaping is ours):
  * path loss: `sionna.phy.channel.tr38901.{UMa,UMi,RMa}Scenario(..., enable_shadow_fading=False)`,
    `set_topology(ut_loc, bs_loc, ut_orientations, bs_orientations, ut_velocities, in_state=False, los=False)`
    then `scenario.basic_pathloss` (TR 38.901 Table 7.4.1-1 as coded in `<scn>_scenario.py
    _compute_pathloss_basic`). set_topology also builds a UT x UT distance matrix per batch example, so UEs
    are packed as [batch, K UEs] (K = PEER_UT_PER_BATCH, default 64) to keep that O(K^2), not O(n_ue^2).
  * antenna gain: Sionna applies element patterns only inside its stochastic ray/CIR generator, so the
    deterministic boresight gain is evaluated with Sionna's pieces: the scenario's LoS ZoD/AoD (GCS), Sionna's
    GCS->LCS rotation `ChannelCoefficientsGenerator._gcs_to_lcs` (TR 38.901 eq. 7.1-7/8) with
    bs_orientations = (bearing, downtilt = mech + elec tilt, 0), and `PanelArray(..., antenna_pattern="38.901")
    .ant_pol1.field()` (Table 7.3-1: vertical + horizontal cut, 65 deg, SLA 30 dB, A_max 30 dB, 8 dBi).
    Electrical tilt is folded into the orientation (single element, no array weights).
  * link budget / SINR: `sionna.sys.coupling_loss_db`, `received_power_dbm`, `geometry_sinr_db` (TR 38.901
    sec. 7.8 calibration metrics; noise = -174 + 10log10(B) + NF); the serving cell is argmax received
    power, passed explicitly (Sionna's default `serving_indices` is min coupling loss, i.e. ignores tx power).
Env: PEER_PRECISION (single | double; default single = Sionna's default), PEER_UT_PER_BATCH, PEER_CHUNK_UE,
PEER_MEM_GIB (default 3), PEER_MAX_SECONDS (stop early, report partial size + labelled extrapolation),
PEER_DEVICE (cpu | cuda; default cpu).
"""
from __future__ import annotations

import importlib.metadata
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _peer_io as io  # noqa: E402

import torch  # noqa: E402
import sionna.phy  # noqa: E402
import sionna.sys as ssys  # noqa: E402
from sionna.phy.channel.tr38901 import (  # noqa: E402
    ChannelCoefficientsGenerator, PanelArray, RMaScenario, UMaScenario, UMiScenario)

NOTES = [
    "UMa NLOS basic PL = max(PL_LOS, 13.54+39.08log10(d3D)+20log10(fc)-0.6(hUT-1.5)) "
    "(sionna/phy/channel/tr38901/uma_scenario.py UMaScenario._compute_pathloss_basic)",
    "3D distance in PL formulas, 2D distance for the d_BP switch (strict d2D < d_BP); "
    "d_BP = 4 h'BS h'UT fc/c with h' = h - h_E, no clamp of h'",
    "h_E drawn at random per link then shared per site (_sample_environment_height); deterministic 1 m for hUT < 13 m",
    "no distance clamping in the PL formula: d2D < 10 m and > 5 km extrapolated (TR validity range not enforced); "
    "fc not clamped for PL (only for LSPs, fc >= 6 GHz)",
    "antenna: full TR 38.901 Table 7.3-1 element (A_V + A_H, min with 30 dB, +8 dBi), tilt via LCS rotation "
    "(eq. 7.1-7/8); mech + elec tilt both applied as orientation downtilt",
    "set_topology also computes LoS angles, LSP statistics and a UT x UT distance matrix per batch example "
    "(overhead not needed for coupling loss, but part of Sionna's path)",
    "SINR/serving: sionna.sys geometry_sinr_db (logsumexp, full load, all other cells interfere), "
    "serving = argmax Rx power",
]


def main() -> None:
    inp, out = sys.argv[1], sys.argv[2]
    L = io.load(inp)
    precision = os.environ.get("PEER_PRECISION", "single")
    device = os.environ.get("PEER_DEVICE", "cpu")
    sionna.phy.config.precision = precision
    sionna.phy.config.device = device
    sionna.phy.config.seed = 1
    dtype = torch.float64 if precision == "double" else torch.float32
    fc = L.fc_ghz * 1e9
    scen_cls = {"UMa": UMaScenario, "UMi": UMiScenario, "RMa": RMaScenario}[L.scenario]

    ut_array = PanelArray(num_rows_per_panel=1, num_cols_per_panel=1, polarization="single",
                          polarization_type="V", antenna_pattern="omni", carrier_frequency=fc)
    bs_array = PanelArray(num_rows_per_panel=1, num_cols_per_panel=1, polarization="single",
                          polarization_type="V", antenna_pattern="38.901", carrier_frequency=fc)
    kw = {} if L.scenario == "RMa" else {"o2i_model": "low"}  # RMaScenario has no O2I model choice
    scenario = scen_cls(carrier_frequency=fc, ut_array=ut_array, bs_array=bs_array, direction="downlink",
                        enable_pathloss=True, enable_shadow_fading=False, **kw)
    ccg = ChannelCoefficientsGenerator(carrier_frequency=fc, tx_array=bs_array, rx_array=ut_array,
                                       subclustering=True)

    n_cell = L.n_cell
    K = int(os.environ.get("PEER_UT_PER_BATCH", "64"))
    K = max(1, min(K, L.n_ue))
    budget = float(os.environ.get("PEER_MEM_GIB", "3"))
    bpl = 400 if precision == "single" else 800  # measured-ish bytes per link incl. temporaries
    chunk = io.chunk_size(n_cell, bytes_per_link=bpl, budget_gib=budget, target_links=160_000)
    B = max(1, min(chunk // K, math.ceil(L.n_ue / K)))
    chunk = B * K
    max_s = float(os.environ.get("PEER_MAX_SECONDS", "inf"))

    t = lambda a: torch.as_tensor(np.asarray(a), dtype=dtype, device=device)  # noqa: E731
    bs_loc = t(np.column_stack([L.cell_x, L.cell_y, L.cell_h]))[None].expand(B, -1, -1).contiguous()
    bearing = np.deg2rad(90.0 - L.azimuth_deg)  # GCS azimuth: counter-clockwise from +x
    downtilt = np.deg2rad(L.mech_tilt_deg + L.elec_tilt_deg)
    bs_orient = t(np.column_stack([bearing, downtilt, np.zeros(n_cell)]))[None].expand(B, -1, -1).contiguous()
    ut_orient = torch.zeros(B, K, 3, dtype=dtype, device=device)
    ut_vel = torch.zeros(B, K, 3, dtype=dtype, device=device)
    in_state = torch.zeros(B, K, dtype=torch.bool, device=device)
    tx_dbm = t(L.tx_power_dbm)
    deg = math.pi / 180.0

    best = np.full(L.n_ue, -1, dtype=np.int64)
    sinr_db = np.full(L.n_ue, np.nan)
    n_sub = L.n_sub
    pl_sub = np.empty((n_cell, n_sub))
    ag_sub = np.empty((n_cell, n_sub))
    rx_sub = np.empty((n_cell, n_sub))
    done = 0
    t_links = 0.0
    with torch.no_grad():
        while done < L.n_ue and t_links < max_s:
            stop = min(done + chunk, L.n_ue)
            n = stop - done
            idx = np.arange(done, done + chunk)
            idx[n:] = done  # pad the last chunk (shapes are frozen after the first set_topology)
            t0 = time.perf_counter()
            ut_loc = t(np.column_stack([L.ue_x[idx], L.ue_y[idx], np.full(chunk, L.ue_h)])).reshape(B, K, 3)
            scenario.set_topology(ut_loc=ut_loc, bs_loc=bs_loc, ut_orientations=ut_orient,
                                  bs_orientations=bs_orient, ut_velocities=ut_vel, in_state=in_state,
                                  los=False)
            pl = scenario.basic_pathloss  # [B, n_cell, K] dB
            zod, aod = ccg._gcs_to_lcs(bs_orient[:, :, None, :], scenario.los_zod * deg, scenario.los_aod * deg)
            f_th, f_ph = bs_array.ant_pol1.field(zod, aod)
            g_db = 10.0 * torch.log10(f_th * f_th + f_ph * f_ph)  # [B, n_cell, K] dBi
            cl = ssys.coupling_loss_db(g_db - pl)  # UE antenna omni 0 dBi
            cl = cl.permute(0, 2, 1).reshape(chunk, n_cell)[:n]  # [n, n_cell]
            rx = ssys.received_power_dbm(tx_dbm, cl)
            serving = torch.argmax(rx, dim=-1)
            sinr = ssys.geometry_sinr_db(cl, tx_dbm, L.bandwidth_hz, L.noise_figure_db, serving=serving)
            best[done:stop] = serving.cpu().numpy()
            sinr_db[done:stop] = sinr.cpu().numpy()
            t1 = time.perf_counter()
            t_links += t1 - t0
            if done < n_sub:  # diagnostics for the first n_sub UEs (not timed)
                k = min(n_sub, stop) - done
                flat = lambda x: x.permute(0, 2, 1).reshape(chunk, n_cell)[:k].T.double().cpu().numpy()  # noqa: E731
                pl_sub[:, done:done + k] = flat(pl)
                ag_sub[:, done:done + k] = flat(g_db)
                rx_sub[:, done:done + k] = rx[:k].T.double().cpu().numpy()
            done = stop

    extra = {"chunk_ue": chunk, "ut_per_batch": K, "precision": precision, "device": device,
             "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
             "noise_dbm": round(L.noise_dbm, 3)}
    if done < L.n_ue:
        extra["extrapolated_seconds_full_size_LABEL"] = "EXTRAPOLATION (linear in n_ue), not measured"
        extra["extrapolated_seconds_full_size"] = round(t_links * L.n_ue / done, 1)
    if n_sub > done:
        pl_sub, ag_sub, rx_sub = pl_sub[:, :done], ag_sub[:, :done], rx_sub[:, :done]
    io.save(out, L, path_loss_db=pl_sub, best_cell=best, sinr_db=sinr_db, seconds=t_links, n_ue_done=done,
            peer="sionna", version=f"sionna-no-rt {importlib.metadata.version('sionna-no-rt')}",
            notes=NOTES, extra_timing=extra, antenna_gain_dbi=ag_sub, rx_power_dbm=rx_sub)


if __name__ == "__main__":
    main()
