"""The tile kernel compiled with numba: one fused pass per pixel, no (sectors x pixels) temporaries.

For each pixel it visits every site once (distance, LOS state, path gain, shadow fading, zenith
and azimuth angle) and then every sector of the run (antenna gain from a bilinear table read, RSRP,
running best and running sum). Path gain and zenith angle come from per-site distance tables, the
antenna gain from a table of linear gains, so a link costs a few multiply-adds and table reads:
the only transcendental functions are one polynomial atan2 per pixel and site, and one exp per
pixel and site when shadow fading is on. Same tables and arithmetic as numpy_kernel.py.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from cellscape.coverage.backends._inputs import KernelOutput, KernelStatic, KernelTile

_LN10_10 = math.log(10.0) / 10.0
_RAD2DEG = 180.0 / math.pi


@numba.njit(fastmath=True, cache=True, inline="always")
def _atan2_deg(y, x):
    """atan2 in degrees by the minimax polynomial of Abramowitz & Stegun 4.4.49 on [0, 1]
    (|error| <= 1e-5 rad = 0.0006 deg, far below the 0.5 deg antenna table step)."""
    ax = abs(x)
    ay = abs(y)
    if ax == 0.0 and ay == 0.0:
        return 0.0
    swap = ay > ax
    z = ax / ay if swap else ay / ax
    z2 = z * z
    a = z * (0.9998660 + z2 * (-0.3302995 + z2 * (0.1801410 + z2 * (-0.0851330 + z2 * 0.0208351))))
    if swap:
        a = 0.5 * math.pi - a
    if x < 0.0:
        a = math.pi - a
    if y < 0.0:
        a = -a
    return a * _RAD2DEG


_NU_FINITE = 1e29
"""nu at or above this means "not marched" (the engine stores +-inf as +-1e30: fastmath assumes no inf)."""

_BLOCK = 256
"""Columns processed together: per-site scratch rows of this length stay in L1/L2 cache and the
per-site loop over them vectorises (SIMD) because it has no data-dependent control flow."""


@numba.njit(parallel=True, fastmath=True, cache=True, nogil=True)
def _kernel(x_m, y_m, site_x, site_y, rows_of, u_step, g_los, g_nlos, sf_los, sf_nlos, p_los, theta_tab,
            sec_site, sec_bearing, sec_pattern, sec_p_re, gain, theta_step, phi_step,
            noise_mw, load, los_mode, los_u, sf_unit, has_sf, o2i_lin,
            nu_t, use_diff, nu_min, nu_step, diff_gain,
            out_rsrp, out_sinr, out_best, want_site, out_site, want_sector, out_sector, out_los):
    n_rows = y_m.size
    n_cols = x_m.size
    n_sites = site_x.size
    n_sec = sec_site.size
    n_u = g_los.shape[1]
    n_t = gain.shape[1]
    n_p = gain.shape[2]
    inv_u = 1.0 / u_step
    inv_t = 1.0 / theta_step
    inv_p = 1.0 / phi_step
    inv_nu = 1.0 / nu_step
    n_d = diff_gain.size
    nu_top = nu_min + (n_d - 1.001) * nu_step
    n_blocks = (n_cols + _BLOCK - 1) // _BLOCK
    for job in numba.prange(n_rows * n_blocks):
        r = job // n_blocks
        c0 = (job % n_blocks) * _BLOCK
        nb = min(_BLOCK, n_cols - c0)
        path = np.empty((n_sites, nb), dtype=np.float64)
        t_idx = np.empty((n_sites, nb), dtype=np.int64)
        t_frac = np.empty((n_sites, nb), dtype=np.float64)
        phi = np.empty((n_sites, nb), dtype=np.float64)
        best = np.zeros(nb, dtype=np.float64)
        best_s = np.full(nb, -1, dtype=np.int64)
        total = np.zeros(nb, dtype=np.float64)
        site_best = np.zeros((n_sites if want_site else 1, nb), dtype=np.float64)
        y = y_m[r]
        # per site: distance -> table index, LOS state, path gain, zenith and azimuth angle
        for i in range(n_sites):
            dy = y - site_y[i]
            t = rows_of[i]                      # the site's row in the distance tables
            for j in range(nb):
                c = c0 + j
                dx = x_m[c] - site_x[i]
                u = math.sqrt(math.sqrt(dx * dx + dy * dy)) * inv_u
                k = min(int(u), n_u - 2)
                f = u - k
                nu = 0.0
                if los_mode == 0:
                    is_los = los_u[i, r, c] < p_los[t, k] + (p_los[t, k + 1] - p_los[t, k]) * f
                elif los_mode == 3:
                    nu = nu_t[i, r, c]
                    is_los = nu < 0.0
                else:
                    is_los = los_mode == 1
                if is_los:
                    g = g_los[t, k] + (g_los[t, k + 1] - g_los[t, k]) * f
                    if use_diff and nu > nu_min:
                        x = (min(nu, nu_top) - nu_min) * inv_nu
                        kd = int(x)
                        g *= diff_gain[kd] + (diff_gain[kd + 1] - diff_gain[kd]) * (x - kd)
                    if has_sf:
                        g *= math.exp(-(sf_los[t, k] + (sf_los[t, k + 1] - sf_los[t, k]) * f)
                                      * sf_unit[i, r, c] * _LN10_10)
                else:
                    g = g_nlos[t, k] + (g_nlos[t, k + 1] - g_nlos[t, k]) * f
                    if use_diff and nu < _NU_FINITE:
                        x = (min(max(nu, nu_min), nu_top) - nu_min) * inv_nu
                        kd = int(x)
                        gd = (g_los[t, k] + (g_los[t, k + 1] - g_los[t, k]) * f) * (
                            diff_gain[kd] + (diff_gain[kd + 1] - diff_gain[kd]) * (x - kd))
                        if gd > g:
                            g = gd
                    if has_sf:
                        g *= math.exp(-(sf_nlos[t, k] + (sf_nlos[t, k + 1] - sf_nlos[t, k]) * f)
                                      * sf_unit[i, r, c] * _LN10_10)
                path[i, j] = g * o2i_lin[r, c]
                if want_sector:
                    out_los[i, r, c] = is_los
                ti = (theta_tab[t, k] + (theta_tab[t, k + 1] - theta_tab[t, k]) * f) * inv_t
                kt = min(int(ti), n_t - 2)
                t_idx[i, j] = kt
                t_frac[i, j] = ti - kt
                phi[i, j] = _atan2_deg(dy, dx)
        # per sector: antenna gain (bilinear, linear power), received power, running best and sum
        for s in range(n_sec):
            i = sec_site[s]
            pat = sec_pattern[s]
            bearing = sec_bearing[s]
            p_re = sec_p_re[s]
            for j in range(nb):
                rel = phi[i, j] - bearing + 180.0
                if rel < 0.0:
                    rel += 360.0
                elif rel >= 360.0:
                    rel -= 360.0
                pi_ = rel * inv_p
                kp = min(int(pi_), n_p - 2)
                pf = pi_ - kp
                kt = t_idx[i, j]
                tf = t_frac[i, j]
                g00 = gain[pat, kt, kp]
                g01 = gain[pat, kt, kp + 1]
                g10 = gain[pat, kt + 1, kp]
                g11 = gain[pat, kt + 1, kp + 1]
                lo = g00 + (g01 - g00) * pf
                hi = g10 + (g11 - g10) * pf
                p_mw = p_re * (lo + (hi - lo) * tf) * path[i, j]
                total[j] += p_mw
                if p_mw > best[j]:
                    best[j] = p_mw
                    best_s[j] = s
                if want_site and p_mw > site_best[i, j]:
                    site_best[i, j] = p_mw
                if want_sector:
                    out_sector[s, r, c0 + j] = 10.0 * math.log10(p_mw)
        for j in range(nb):
            interf = max(total[j] - best[j], 0.0)
            out_rsrp[r, c0 + j] = 10.0 * math.log10(best[j])
            out_sinr[r, c0 + j] = 10.0 * math.log10(best[j] / (load * interf + noise_mw))
            out_best[r, c0 + j] = best_s[j]
        if want_site:
            for i in range(n_sites):
                for j in range(nb):
                    out_site[i, r, c0 + j] = 10.0 * math.log10(site_best[i, j])


def tile_kernel(st: KernelStatic, tile: KernelTile, *, per_site: bool = False,
                per_sector_rsrp: bool = False) -> KernelOutput:
    n_rows, n_cols = tile.o2i_db.shape
    dummy = np.zeros((1, 1, 1), dtype=np.float32)
    los_u = tile.los_uniform if tile.los_uniform is not None else dummy
    sf = tile.sf_unit if tile.sf_unit is not None else dummy
    out_rsrp = np.empty((n_rows, n_cols), dtype=np.float32)
    out_sinr = np.empty((n_rows, n_cols), dtype=np.float32)
    out_best = np.empty((n_rows, n_cols), dtype=np.int32)
    nu = tile.nu if tile.nu is not None else dummy
    out_site = np.empty((st.n_sites, n_rows, n_cols) if per_site else (1, 1, 1), dtype=np.float32)
    out_sector = np.empty((st.n_sectors, n_rows, n_cols) if per_sector_rsrp else (1, 1, 1), dtype=np.float32)
    out_los = np.empty((st.n_sites, n_rows, n_cols) if per_sector_rsrp else (1, 1, 1), dtype=np.bool_)
    if st.los_mode == 3 and tile.nu is None:
        raise ValueError("los_mode 3 (geometric) needs the tile's nu")
    _kernel(np.ascontiguousarray(tile.x_m, dtype=np.float64), np.ascontiguousarray(tile.y_m, dtype=np.float64),
            np.ascontiguousarray(st.site_x_m, dtype=np.float64), np.ascontiguousarray(st.site_y_m, dtype=np.float64),
            st.site_rows(), float(st.u_step),
            st.gain_los_lin, st.gain_nlos_lin, st.sf_std_los_db, st.sf_std_nlos_db, st.p_los, st.theta_deg,
            st.sector_site, st.sector_bearing_deg, st.sector_pattern, st.sector_p_re_mw,
            st.gain_lin, float(st.theta_step_deg), float(st.phi_step_deg),
            float(st.noise_mw), float(st.load_factor), int(st.los_mode),
            los_u, sf, tile.sf_unit is not None, tile.o2i_lin,
            nu, bool(st.use_diffraction), float(st.diff_nu_min), float(st.diff_nu_step),
            np.ascontiguousarray(st.diff_gain_lin, dtype=np.float64),
            out_rsrp, out_sinr, out_best, per_site, out_site, per_sector_rsrp, out_sector, out_los)
    return KernelOutput(out_rsrp, out_sinr, out_best, out_site if per_site else None,
                        sector_rsrp_dbm=out_sector if per_sector_rsrp else None,
                        site_los=out_los if per_sector_rsrp else None)
