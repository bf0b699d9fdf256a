"""The tile kernel in plain numpy: vectorised over pixels, a Python loop over sectors.

It reads exactly the same lookup tables as the numba kernel (coverage/backends/_inputs.py), so the
two agree to float32 rounding; the test suite runs one reference suite on both (STYLE.md P11).
"""

from __future__ import annotations

import numpy as np

from cellscape.coverage.backends._inputs import KernelOutput, KernelStatic, KernelTile

_LN10_10 = np.log(10.0) / 10.0


def _lerp_rows(table: np.ndarray, idx: np.ndarray, frac: np.ndarray, site_rows: np.ndarray) -> np.ndarray:
    """table (n_rows, n_u); idx/frac (n_sites, ...); site_rows (n_sites,) the table row of each
    site -> linear interpolation per site."""
    rows = site_rows.reshape((-1,) + (1,) * (idx.ndim - 1))
    lo = table[rows, idx]
    hi = table[rows, idx + 1]
    return lo + (hi - lo) * frac


def tile_kernel(st: KernelStatic, tile: KernelTile, *, per_site: bool = False, per_sector: bool = False,
                per_sector_rsrp: bool = False) -> KernelOutput:
    """Best server, RSRP and SINR of one tile.

    ``per_site``: also the RSRP of each site's strongest sector (``site_rsrp_dbm``).
    ``per_sector_rsrp``: also every sector's RSRP (``sector_rsrp_dbm``, float32) and every site's
    LOS state (``site_los``), as the simulator samples them at its users.
    ``per_sector``: also every sector's link budget and its terms (``sector_terms``, see
    :class:`~cellscape.coverage.backends._inputs.KernelOutput`); for a point's link budget
    (coverage/point.py), on small windows: it keeps (n_sectors, n_rows, n_cols) arrays.
    """
    x = tile.x_m.astype(np.float64)[None, None, :]                          # (1, 1, n_cols)
    y = tile.y_m.astype(np.float64)[None, :, None]                          # (1, n_rows, 1)
    dx = x - st.site_x_m[:, None, None]                                     # (n_sites, 1, n_cols)
    dy = y - st.site_y_m[:, None, None]                                     # (n_sites, n_rows, 1)
    d2d = np.sqrt(dx * dx + dy * dy)                                        # (n_sites, n_rows, n_cols)
    rows = st.site_rows()                                                   # (n_sites,) table rows
    u = np.sqrt(d2d) / st.u_step
    idx = np.minimum(u.astype(np.int64), st.gain_los_lin.shape[1] - 2)
    frac = u - idx
    if st.los_mode == 0:
        los = tile.los_uniform < _lerp_rows(st.p_los, idx, frac, rows)
    elif st.los_mode == 3:
        los = tile.nu < 0
    else:
        los = np.full(d2d.shape, st.los_mode == 1)
    gain_los = _lerp_rows(st.gain_los_lin, idx, frac, rows)
    gain_nlos = _lerp_rows(st.gain_nlos_lin, idx, frac, rows)
    if st.los_mode == 3 and st.use_diffraction:
        nu = tile.nu.astype(np.float64)
        n_d = st.diff_gain_lin.size
        x = (np.clip(np.where(nu < 1e29, nu, st.diff_nu_min), st.diff_nu_min,
                     st.diff_nu_min + (n_d - 1.001) * st.diff_nu_step) - st.diff_nu_min) / st.diff_nu_step
        kd = x.astype(np.int64)
        g_diff = gain_los * (st.diff_gain_lin[kd] + (st.diff_gain_lin[kd + 1] - st.diff_gain_lin[kd]) * (x - kd))
        gain_los = np.where(nu > st.diff_nu_min, g_diff, gain_los)            # LOS: PL_LOS + L_b(nu)
        gain_nlos = np.where(nu < 1e29, np.maximum(gain_nlos, g_diff), gain_nlos)
    path_gain = np.where(los, gain_los, gain_nlos)
    basic_gain = path_gain if per_sector else None                          # (n_sites, r, c), before SF/O2I
    sf_db = None
    if tile.sf_unit is not None:
        sigma = np.where(los, _lerp_rows(st.sf_std_los_db, idx, frac, rows),
                         _lerp_rows(st.sf_std_nlos_db, idx, frac, rows))
        path_gain = path_gain * np.exp(-sigma * tile.sf_unit * _LN10_10)
        sf_db = sigma * tile.sf_unit if per_sector else None                # (n_sites, r, c) [dB]
    path_gain = path_gain * tile.o2i_lin[None]                              # (n_sites, r, c), linear
    ti = _lerp_rows(st.theta_deg, idx, frac, rows) / st.theta_step_deg            # zenith angle index
    t0 = np.minimum(ti.astype(np.int64), st.gain_lin.shape[1] - 2)
    tf = ti - t0
    phi = np.degrees(np.arctan2(dy, dx))                                    # ccw from east

    shape = tile.o2i_db.shape
    best = np.zeros(shape, dtype=np.float64)
    best_sector = np.full(shape, -1, dtype=np.int32)
    total_mw = np.zeros(shape, dtype=np.float64)
    site_best = np.zeros((st.n_sites,) + shape, dtype=np.float64) if per_site else None
    sector_mw = np.zeros((st.n_sectors,) + shape, dtype=np.float64) if per_sector or per_sector_rsrp else None
    sector_gain = np.zeros((st.n_sectors,) + shape, dtype=np.float64) if per_sector else None
    for s in range(st.n_sectors):
        site = st.sector_site[s]
        rel = np.mod(phi[site] - st.sector_bearing_deg[s] + 180.0, 360.0)                # [0, 360)
        pi_ = rel / st.phi_step_deg
        p0 = np.minimum(pi_.astype(np.int64), st.gain_lin.shape[2] - 2)
        pf = pi_ - p0
        g = st.gain_lin[st.sector_pattern[s]]
        a, b = t0[site], tf[site]
        g_lo = g[a, p0] + (g[a, p0 + 1] - g[a, p0]) * pf
        g_hi = g[a + 1, p0] + (g[a + 1, p0 + 1] - g[a + 1, p0]) * pf
        g_lin = g_lo + (g_hi - g_lo) * b
        p_mw = st.sector_p_re_mw[s] * g_lin * path_gain[site]
        total_mw += p_mw
        if sector_mw is not None:
            sector_mw[s] = p_mw
        if per_sector:
            sector_gain[s] = g_lin
        if per_site:
            np.maximum(site_best[site], p_mw, out=site_best[site])
        better = p_mw > best
        best = np.where(better, p_mw, best)
        best_sector = np.where(better, np.int32(s), best_sector)
    interference = st.load_factor * np.maximum(total_mw - best, 0.0)
    sinr = 10.0 * np.log10(best / (interference + st.noise_mw))
    site_rsrp = (10.0 * np.log10(site_best)).astype(np.float32) if per_site else None
    terms = None
    if per_sector:
        sec_site = st.sector_site                                           # (n_sectors,)
        with np.errstate(divide="ignore"):
            terms = {
                "rsrp_dbm": 10.0 * np.log10(sector_mw),
                "d2d_m": d2d[sec_site],
                "los": np.broadcast_to(los, d2d.shape)[sec_site],
                "path_loss_db": -10.0 * np.log10(basic_gain[sec_site]),
                "antenna_gain_dbi": 10.0 * np.log10(sector_gain),
                "shadow_fading_db": (sf_db[sec_site] if sf_db is not None else np.zeros(sector_mw.shape)),
                "o2i_loss_db": np.broadcast_to(tile.o2i_db.astype(np.float64), sector_mw.shape),
            }
    sector_rsrp = site_los = None
    if per_sector_rsrp:
        sector_rsrp = (10.0 * np.log10(sector_mw)).astype(np.float32)
        site_los = np.broadcast_to(los, d2d.shape).copy()
    return KernelOutput((10.0 * np.log10(best)).astype(np.float32), sinr.astype(np.float32), best_sector, site_rsrp,
                        terms, sector_rsrp_dbm=sector_rsrp, site_los=site_los)
