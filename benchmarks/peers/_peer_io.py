"""Exchange-format helpers shared by the run_<peer>.py scripts (numpy only; runs inside each peer venv).

Input .npz (see make_test_input.py): ue_x_m, ue_y_m (n_ue,), ue_h_m scalar, cell_x_m, cell_y_m, cell_h_m,
cell_azimuth_deg (clockwise from north), cell_mech_tilt_deg, cell_elec_tilt_deg, cell_tx_power_dbm (n_cell,),
fc_ghz, bandwidth_hz, noise_figure_db scalars, scenario ("UMa"|"UMi"|"RMa"), los ("nlos").

Output .npz: path_loss_db (n_cell, n_sub) for the first n_sub = min(n_ue, 20000) UEs, best_cell (n_ue,),
sinr_db (n_ue,), timing (json string); extras where the peer has them: antenna_gain_dbi and rx_power_dbm
(n_cell, n_sub).
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time
from dataclasses import dataclass

import numpy as np

N_SUB_MAX = 20000


@dataclass
class Links:
    ue_x: np.ndarray
    ue_y: np.ndarray
    ue_h: float
    cell_x: np.ndarray
    cell_y: np.ndarray
    cell_h: np.ndarray
    azimuth_deg: np.ndarray
    mech_tilt_deg: np.ndarray
    elec_tilt_deg: np.ndarray
    tx_power_dbm: np.ndarray
    fc_ghz: float
    bandwidth_hz: float
    noise_figure_db: float
    scenario: str
    los: str

    @property
    def n_ue(self) -> int:
        return self.ue_x.shape[0]

    @property
    def n_cell(self) -> int:
        return self.cell_x.shape[0]

    @property
    def n_sub(self) -> int:
        return min(self.n_ue, N_SUB_MAX)

    @property
    def noise_dbm(self) -> float:
        return -174.0 + 10.0 * np.log10(self.bandwidth_hz) + self.noise_figure_db


def load(path: str) -> Links:
    z = np.load(path, allow_pickle=False)
    f = lambda k: np.asarray(z[k], dtype=np.float64).ravel()  # noqa: E731
    s = lambda k: float(np.asarray(z[k]).ravel()[0])  # noqa: E731
    links = Links(
        ue_x=f("ue_x_m"), ue_y=f("ue_y_m"), ue_h=s("ue_h_m"),
        cell_x=f("cell_x_m"), cell_y=f("cell_y_m"), cell_h=f("cell_h_m"),
        azimuth_deg=f("cell_azimuth_deg"), mech_tilt_deg=f("cell_mech_tilt_deg"),
        elec_tilt_deg=f("cell_elec_tilt_deg"), tx_power_dbm=f("cell_tx_power_dbm"),
        fc_ghz=s("fc_ghz"), bandwidth_hz=s("bandwidth_hz"), noise_figure_db=s("noise_figure_db"),
        scenario=str(z["scenario"]), los=str(z["los"]).lower(),
    )
    if links.los != "nlos":
        sys.exit(f"only los='nlos' (deterministic all-NLOS) is supported, got {links.los!r}")
    return links


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def chunk_size(n_cell: int, bytes_per_link: int, budget_gib: float, target_links: int | None = None) -> int:
    """UEs per chunk: ~target_links links (cache-friendly) but never more than budget_gib of working set
    (bytes_per_link * n_ue_chunk * n_cell). PEER_CHUNK_UE overrides."""
    env = os.environ.get("PEER_CHUNK_UE")
    if env:
        return max(1, int(env))
    n_cell = max(n_cell, 1)
    cap = max(64, int(budget_gib * 2**30 / (bytes_per_link * n_cell)))
    if target_links is None:
        return cap
    return max(64, min(cap, target_links // n_cell))


class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0


def save(path: str, links: Links, *, path_loss_db, best_cell, sinr_db, seconds: float, n_ue_done: int,
         peer: str, version: str, notes: list[str], extra_timing: dict | None = None, **extras) -> dict:
    n_links = int(n_ue_done) * links.n_cell
    timing = {
        "peer": peer,
        "version": version,
        "seconds": round(float(seconds), 4),
        "n_links": n_links,
        "n_ue": int(n_ue_done),
        "n_ue_input": links.n_ue,
        "n_cell": links.n_cell,
        "links_per_s": round(n_links / seconds, 1) if seconds > 0 else None,
        "complete": int(n_ue_done) == links.n_ue,
        "peak_rss_gib": round(peak_rss_gib(), 3),
        "scenario": links.scenario,
        "los": links.los,
        "notes": notes,
    }
    if extra_timing:
        timing.update(extra_timing)
    arrays = {
        "path_loss_db": np.asarray(path_loss_db, dtype=np.float64),
        "best_cell": np.asarray(best_cell, dtype=np.int64),
        "sinr_db": np.asarray(sinr_db, dtype=np.float64),
        "timing": np.str_(json.dumps(timing)),
    }
    arrays.update({k: np.asarray(v, dtype=np.float64) for k, v in extras.items() if v is not None})
    np.savez(path, **arrays)
    print(json.dumps(timing, indent=1))
    return timing
