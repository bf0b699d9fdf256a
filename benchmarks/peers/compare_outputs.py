#!/usr/bin/env python3
"""Compare peer outputs with each other and with a plain-numpy transcription of TR 38.901 (numpy only).

    python3 benchmarks/peers/compare_outputs.py IN.npz OUT_a.npz [OUT_b.npz ...]

The reference here is written from the spec text, not from any peer: UMa/UMi/RMa NLOS basic path loss
(Table 7.4.1-1, h_E = 1 m for UMa, 3D distance, d_BP from 2D distance, no shadow fading, no clamping so that
the formulas themselves are compared), and the Table 7.3-1 element pattern rotated to the sector's LCS with
eq. 7.1-7/8 (bearing = azimuth, downtilt = mech + elec tilt, no slant). It is a checking aid only; cellscape's
engine is compared by the benchmark driver.
"""
from __future__ import annotations

import json
import sys

import numpy as np

C = 299792458.0


def ref_path_loss_nlos(scn, d2, d3, h_bs, h_ut, fc_ghz):
    lg = np.log10
    if scn == "UMa":
        dbp = 4 * (h_bs - 1.0) * (h_ut - 1.0) * fc_ghz * 1e9 / C
        pl1 = 28.0 + 22 * lg(d3) + 20 * lg(fc_ghz)
        pl2 = 28.0 + 40 * lg(d3) + 20 * lg(fc_ghz) - 9 * lg(dbp**2 + (h_bs - h_ut) ** 2)
        los = np.where(d2 <= dbp, pl1, pl2)
        nlos = 13.54 + 39.08 * lg(d3) + 20 * lg(fc_ghz) - 0.6 * (h_ut - 1.5)
        return np.maximum(los, nlos)
    if scn == "UMi":
        dbp = 4 * (h_bs - 1.0) * (h_ut - 1.0) * fc_ghz * 1e9 / C
        pl1 = 32.4 + 21 * lg(d3) + 20 * lg(fc_ghz)
        pl2 = 32.4 + 40 * lg(d3) + 20 * lg(fc_ghz) - 9.5 * lg(dbp**2 + (h_bs - h_ut) ** 2)
        los = np.where(d2 <= dbp, pl1, pl2)
        nlos = 35.3 * lg(d3) + 22.4 + 21.3 * lg(fc_ghz) - 0.3 * (h_ut - 1.5)
        return np.maximum(los, nlos)
    if scn == "RMa":  # h = 5 m, W = 20 m defaults
        h, w = 5.0, 20.0
        dbp = 2 * np.pi * h_bs * h_ut * fc_ghz * 1e9 / C
        def pl1(d):
            return (20 * lg(40 * np.pi * d * fc_ghz / 3) + min(0.03 * h**1.72, 10) * lg(d)
                    - min(0.044 * h**1.72, 14.77) + 0.002 * lg(h) * d)
        los = np.where(d2 <= dbp, pl1(d3), pl1(dbp) + 40 * lg(d3 / dbp))
        nlos = (161.04 - 7.1 * lg(w) + 7.5 * lg(h) - (24.37 - 3.7 * (h / h_bs) ** 2) * lg(h_bs)
                + (43.42 - 3.1 * lg(h_bs)) * (lg(d3) - 3) + 20 * lg(fc_ghz) - (3.2 * lg(11.75 * h_ut) ** 2 - 4.97))
        return np.maximum(los, nlos)
    raise ValueError(scn)


def ref_antenna_gain(dx, dy, dz, az_deg, tilt_deg):
    """TR 38.901 Table 7.3-1 element, LCS via eq. 7.1-7/8 (alpha = bearing, beta = downtilt, gamma = 0)."""
    theta = np.arctan2(np.hypot(dx, dy), dz)  # zenith angle of the BS->UE direction (GCS)
    phi = np.arctan2(dy, dx)
    a = np.deg2rad(90.0 - az_deg)[:, None]
    b = np.deg2rad(tilt_deg)[:, None]
    ct = np.cos(b) * np.cos(theta) + np.sin(b) * np.sin(theta) * np.cos(phi - a)
    th_p = np.degrees(np.arccos(np.clip(ct, -1, 1)))
    ph_p = np.degrees(np.angle(np.cos(b) * np.sin(theta) * np.cos(phi - a) - np.sin(b) * np.cos(theta)
                               + 1j * np.sin(theta) * np.sin(phi - a)))
    a_v = -np.minimum(12 * ((th_p - 90.0) / 65.0) ** 2, 30.0)
    a_h = -np.minimum(12 * (ph_p / 65.0) ** 2, 30.0)
    return 8.0 - np.minimum(-(a_v + a_h), 30.0)


def stats(x):
    x = x[np.isfinite(x)]
    if x.size == 0:
        return "n/a"
    return f"mean {x.mean():+.4f}  p99|.| {np.percentile(np.abs(x), 99):.4f}  max|.| {np.abs(x).max():.4f}"


def main() -> None:
    z = np.load(sys.argv[1])
    outs = [(p, np.load(p)) for p in sys.argv[2:]]
    n_sub = min(o["path_loss_db"].shape[1] for _, o in outs)
    ux, uy = z["ue_x_m"][:n_sub], z["ue_y_m"][:n_sub]
    h_ut = float(z["ue_h_m"])
    cx, cy, ch = z["cell_x_m"], z["cell_y_m"], z["cell_h_m"]
    dx, dy = ux[None] - cx[:, None], uy[None] - cy[:, None]
    dz = h_ut - ch[:, None]
    d2 = np.hypot(dx, dy)
    d3 = np.hypot(d2, dz)
    scn = str(z["scenario"])
    pl_ref = ref_path_loss_nlos(scn, d2, d3, ch[:, None], h_ut, float(z["fc_ghz"]))
    g_ref = ref_antenna_gain(dx, dy, dz, z["cell_azimuth_deg"], z["cell_mech_tilt_deg"] + z["cell_elec_tilt_deg"])
    rx_ref = z["cell_tx_power_dbm"][:, None] + g_ref - pl_ref
    noise = -174 + 10 * np.log10(float(z["bandwidth_hz"])) + float(z["noise_figure_db"])
    best_ref = rx_ref.argmax(0)
    lin = 10 ** (rx_ref / 10)
    s = lin[best_ref, np.arange(n_sub)]
    sinr_ref = 10 * np.log10(s / (lin.sum(0) - s + 10 ** (noise / 10)))
    print(f"input {sys.argv[1]}: {scn}, {z['ue_x_m'].size} UEs x {cx.size} cells; diagnostics on first {n_sub} UEs;"
          f" d2D < 10 m links: {(d2 < 10).sum()}")
    print("reference = numpy transcription of TR 38.901 (PL NLOS h_E=1 m; Table 7.3-1 element with LCS tilt)")
    for p, o in outs:
        tm = json.loads(str(o["timing"]))
        print(f"\n== {tm['peer']} ({tm['version']}): {tm['n_links']} links in {tm['seconds']} s"
              f" = {tm['links_per_s']:.3g} links/s")
        print("  path loss - ref [dB]     :", stats(o["path_loss_db"][:, :n_sub] - pl_ref))
        if "antenna_gain_dbi" in o:
            print("  antenna gain - ref [dB]  :", stats(o["antenna_gain_dbi"][:, :n_sub] - g_ref))
        print(f"  best cell == ref         : {np.mean(o['best_cell'][:n_sub] == best_ref) * 100:.2f} %")
        print("  SINR - ref [dB]          :", stats(o["sinr_db"][:n_sub] - sinr_ref))
    for i in range(len(outs)):
        for j in range(i + 1, len(outs)):
            (pa, a), (pb, b) = outs[i], outs[j]
            n = min(a["best_cell"].size, b["best_cell"].size)
            ok = (a["best_cell"][:n] >= 0) & (b["best_cell"][:n] >= 0)
            print(f"\n== {pa} vs {pb} (all {ok.sum()} common UEs)")
            print(f"  best cell agree: {np.mean(a['best_cell'][:n][ok] == b['best_cell'][:n][ok]) * 100:.2f} %")
            print("  SINR a - b [dB]:", stats(a["sinr_db"][:n][ok] - b["sinr_db"][:n][ok]))
            print("  PL a - b [dB]  :", stats(a["path_loss_db"][:, :n_sub] - b["path_loss_db"][:, :n_sub]))


if __name__ == "__main__":
    main()
