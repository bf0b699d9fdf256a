#!/usr/bin/env python3
"""Generate a peer-benchmark input .npz (the exchange format read by run_<peer>.py).

    python3 benchmarks/peers/make_test_input.py OUT.npz --n-ue 200000 --n-cell 57

Layout: sites on a hexagonal grid (inter-site distance --isd, nearest-to-origin first), 3 sectors per site
with azimuths 30/150/270 deg (clockwise from north); the last site keeps fewer sectors if n_cell is not a
multiple of 3. UEs uniform in the square that bounds the sites plus isd/2. Only numpy is needed.
"""
from __future__ import annotations

import argparse
import math

import numpy as np


def hex_sites(n_site: int, isd: float) -> np.ndarray:
    """First n_site points of a hexagonal lattice (spacing isd), ordered by distance from the origin."""
    r = 0
    while 3 * r * (r + 1) + 1 < n_site:
        r += 1
    pts = []
    for i in range(-r - 1, r + 2):
        for j in range(-r - 1, r + 2):
            x = isd * (i + 0.5 * j)
            y = isd * (math.sqrt(3.0) / 2.0) * j
            pts.append((math.hypot(x, y), math.atan2(y, x) % (2 * math.pi), x, y))
    pts.sort()
    return np.array([(p[2], p[3]) for p in pts[:n_site]], dtype=np.float64)


def make(n_ue: int, n_cell: int, *, isd: float = 500.0, seed: int = 0, fc_ghz: float = 3.5,
         bandwidth_hz: float = 20e6, noise_figure_db: float = 9.0, ue_h_m: float = 1.5,
         cell_h_m: float = 25.0, tx_power_dbm: float = 46.0, mech_tilt_deg: float = 0.0,
         elec_tilt_deg: float = 9.0, scenario: str = "UMa", los: str = "nlos") -> dict:
    rng = np.random.default_rng(seed)
    n_site = -(-n_cell // 3)
    sites = hex_sites(n_site, isd)
    site_of_cell = np.arange(n_cell) // 3
    az = np.array([30.0, 150.0, 270.0])[np.arange(n_cell) % 3]
    half = np.abs(sites).max() + isd / 2.0
    return {
        "ue_x_m": rng.uniform(-half, half, n_ue),
        "ue_y_m": rng.uniform(-half, half, n_ue),
        "ue_h_m": np.float64(ue_h_m),
        "cell_x_m": sites[site_of_cell, 0].copy(),
        "cell_y_m": sites[site_of_cell, 1].copy(),
        "cell_h_m": np.full(n_cell, cell_h_m),
        "cell_azimuth_deg": az,
        "cell_mech_tilt_deg": np.full(n_cell, mech_tilt_deg),
        "cell_elec_tilt_deg": np.full(n_cell, elec_tilt_deg),
        "cell_tx_power_dbm": np.full(n_cell, tx_power_dbm),
        "fc_ghz": np.float64(fc_ghz),
        "bandwidth_hz": np.float64(bandwidth_hz),
        "noise_figure_db": np.float64(noise_figure_db),
        "scenario": np.str_(scenario),
        "los": np.str_(los),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--n-ue", type=int, default=10000)
    ap.add_argument("--n-cell", type=int, default=57)
    ap.add_argument("--isd", type=float, default=500.0, help="inter-site distance [m]")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fc-ghz", type=float, default=3.5)
    ap.add_argument("--bandwidth-hz", type=float, default=20e6)
    ap.add_argument("--noise-figure-db", type=float, default=9.0)
    ap.add_argument("--ue-h-m", type=float, default=1.5)
    ap.add_argument("--cell-h-m", type=float, default=25.0)
    ap.add_argument("--tx-power-dbm", type=float, default=46.0)
    ap.add_argument("--mech-tilt-deg", type=float, default=0.0)
    ap.add_argument("--elec-tilt-deg", type=float, default=9.0)
    ap.add_argument("--scenario", default="UMa", choices=["UMa", "UMi", "RMa"])
    ap.add_argument("--los", default="nlos", choices=["nlos"])
    a = ap.parse_args()
    d = make(a.n_ue, a.n_cell, isd=a.isd, seed=a.seed, fc_ghz=a.fc_ghz, bandwidth_hz=a.bandwidth_hz,
             noise_figure_db=a.noise_figure_db, ue_h_m=a.ue_h_m, cell_h_m=a.cell_h_m,
             tx_power_dbm=a.tx_power_dbm, mech_tilt_deg=a.mech_tilt_deg, elec_tilt_deg=a.elec_tilt_deg,
             scenario=a.scenario, los=a.los)
    np.savez(a.out, **d)
    print(f"wrote {a.out}: {a.n_ue} UEs x {a.n_cell} cells ({-(-a.n_cell // 3)} sites, isd {a.isd} m), "
          f"{a.scenario} {a.los}, fc {a.fc_ghz} GHz")


if __name__ == "__main__":
    main()
