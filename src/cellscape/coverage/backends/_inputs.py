"""The arrays a tile kernel reads: one record, shared by every backend (STYLE.md P11)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cellscape.units import db_to_lin


@dataclass(frozen=True)
class KernelStatic:
    """Per-run inputs, the same for every tile.

    Sites (n_sites,): ``site_x_m``, ``site_y_m``. Distance lookup tables (n_sites, n_u), indexed
    by u = sqrt(d2d_m) / ``u_step``: ``gain_los_lin`` and ``gain_nlos_lin`` (path gain
    10^(-PL/10), linear), ``sf_std_los_db``, ``sf_std_nlos_db``, ``p_los`` and ``theta_deg`` (the
    zenith angle from the site's antenna to a UT at that distance, which depends on distance only).
    Sectors (n_sectors,): ``sector_site``, ``sector_bearing_deg`` (TR 38.901 alpha, ccw from east),
    ``sector_pattern`` (index into ``gain_lin``), ``sector_p_re_mw`` (Tx power per RE times the UE
    antenna gain, linear [mW]). Antenna tables ``gain_lin`` (n_patterns, n_theta, n_phi): linear
    power gain on theta = 0..180 deg and phi_rel = -180..180 deg in steps ``theta_step_deg`` /
    ``phi_step_deg`` (linear so that interpolation keeps pattern nulls deep).
    ``los_mode``: 0 statistical (compare the uniform field with p_los), 1 all LOS, 2 all NLOS,
    3 geometric (the tile's Bullington parameter ``nu``: < 0 LOS).
    ``use_diffraction`` (geometric only): a LOS link takes PL_LOS + L_b(nu), an NLOS link
    min(PL_NLOS, PL_LOS + L_b(nu)), with L_b read from ``diff_gain_lin`` (linear gain on
    nu = ``diff_nu_min`` + k ``diff_nu_step``; see coverage/engine.py).
    ``table_rows`` (n_sites,) int64 or None: the row of each site in the distance tables (the
    interference cutoff hands a kernel a subset of the sites without copying the tables); None:
    site i reads row i.
    """

    site_x_m: np.ndarray
    site_y_m: np.ndarray
    u_step: float
    gain_los_lin: np.ndarray
    gain_nlos_lin: np.ndarray
    sf_std_los_db: np.ndarray
    sf_std_nlos_db: np.ndarray
    p_los: np.ndarray
    theta_deg: np.ndarray
    sector_site: np.ndarray
    sector_bearing_deg: np.ndarray
    sector_pattern: np.ndarray
    sector_p_re_mw: np.ndarray
    gain_lin: np.ndarray
    theta_step_deg: float
    phi_step_deg: float
    noise_mw: float
    load_factor: float
    los_mode: int
    use_diffraction: bool = False
    diff_nu_min: float = -0.78
    diff_nu_step: float = 0.01
    diff_gain_lin: np.ndarray = field(default_factory=lambda: np.ones(2))
    table_rows: np.ndarray | None = None

    def site_rows(self) -> np.ndarray:
        """The distance-table row of each site, (n_sites,) int64."""
        if self.table_rows is None:
            return np.arange(self.n_sites, dtype=np.int64)
        return np.ascontiguousarray(self.table_rows, dtype=np.int64)

    @property
    def n_sites(self) -> int:
        return int(self.site_x_m.size)

    @property
    def n_sectors(self) -> int:
        return int(self.sector_site.size)


@dataclass(frozen=True)
class KernelTile:
    """Per-tile inputs: pixel centres ``x_m`` (n_cols,) and ``y_m`` (n_rows,); fields of shape
    (n_sites, n_rows, n_cols) or None: ``los_uniform`` (U(0,1), statistical LOS only) and
    ``sf_unit`` (unit-variance shadow fading, None = no shadowing); ``o2i_db`` (n_rows, n_cols)
    building entry loss (0 outdoors); ``nu`` (n_sites, n_rows, n_cols) float32, the Bullington
    diffraction parameter of each link (geometric LOS only, cellscape.propagation.geometric_los), with -inf/+inf
    stored as -1e30/+1e30 (the numba kernel runs with fastmath, which assumes finite values)."""

    @property
    def o2i_lin(self) -> np.ndarray:
        """Building entry loss as a linear gain factor (1 outdoors), float64."""
        return db_to_lin(-self.o2i_db)

    x_m: np.ndarray
    y_m: np.ndarray
    los_uniform: np.ndarray | None
    sf_unit: np.ndarray | None
    o2i_db: np.ndarray
    nu: np.ndarray | None = None


@dataclass(frozen=True)
class KernelOutput:
    """Per-tile outputs, shape (n_rows, n_cols): best-server RSRP [dBm], SINR [dB], best sector;
    with ``per_site=True`` also ``site_rsrp_dbm`` (n_sites, n_rows, n_cols) float32, the RSRP of
    each site's strongest sector (planning's per-candidate coverage sets), else None.
    With ``per_sector=True`` (numpy kernel) also ``sector_terms``: every sector's link budget at
    every pixel, each (n_sectors, n_rows, n_cols) float64: ``rsrp_dbm``, ``d2d_m``, ``los`` (bool),
    ``path_loss_db`` (basic TR 38.901 loss, with the Bullington term when diffraction is on; no
    shadowing, no O2I), ``antenna_gain_dbi`` (BS sector gain towards the pixel),
    ``shadow_fading_db`` (positive = extra loss), ``o2i_loss_db``; such that rsrp_dbm = Tx power
    per RE + UE gain + antenna_gain_dbi - path_loss_db - shadow_fading_db - o2i_loss_db.
    With ``per_sector_rsrp=True`` (both kernels) ``sector_rsrp_dbm`` (n_sectors, n_rows, n_cols)
    float32, every sector's RSRP, and ``site_los`` (n_sites, n_rows, n_cols) bool, each link's
    LOS state (the system-level simulator samples both at its users)."""

    rsrp_dbm: np.ndarray
    sinr_db: np.ndarray
    best_sector: np.ndarray
    site_rsrp_dbm: np.ndarray | None = None
    sector_terms: dict | None = None
    sector_rsrp_dbm: np.ndarray | None = None
    site_los: np.ndarray | None = None
