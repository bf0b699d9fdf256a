"""The tile kernel compiled with numba: one fused pass per pixel, no (sectors x pixels) temporaries.

For each pixel it visits every site once (distance, LOS state, path loss from the site's lookup
table, shadow fading, angles) and then every sector of the run (antenna gain from a bilinear lookup,
RSRP, running best and running sum), so memory traffic is O(pixels) and the per-link work is a few
multiply-adds and four table reads: the loss is turned into a linear factor once per site, and the
antenna gain is read from a table of linear gains, so a link costs no transcendental function.
Same tables and same arithmetic as numpy_kernel.py.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from cellscape.coverage.backends._inputs import KernelOutput, KernelStatic, KernelTile

_LN10_10 = math.log(10.0) / 10.0
_RAD2DEG = 180.0 / math.pi


@numba.njit(parallel=True, fastmath=True, cache=True, nogil=True)
def _kernel(x_m, y_m, site_x, site_y, site_dz, u_step, pl_los, pl_nlos, sf_los, sf_nlos, p_los,
            sec_site, sec_bearing, sec_pattern, sec_p_re, gain, theta_step, phi_step,
            noise_mw, load, los_mode, los_u, sf_unit, has_sf, o2i,
            out_rsrp, out_sinr, out_best):
    n_rows = y_m.size
    n_cols = x_m.size
    n_sites = site_x.size
    n_sec = sec_site.size
    n_u = pl_los.shape[1]
    n_t = gain.shape[1]
    n_p = gain.shape[2]
    inv_u = 1.0 / u_step
    inv_t = 1.0 / theta_step
    inv_p = 1.0 / phi_step
    for r in numba.prange(n_rows):
        loss = np.empty(n_sites, dtype=np.float64)
        t_idx = np.empty(n_sites, dtype=np.int64)
        t_frac = np.empty(n_sites, dtype=np.float64)
        phi = np.empty(n_sites, dtype=np.float64)
        y = y_m[r]
        for c in range(n_cols):
            x = x_m[c]
            o2i_db = o2i[r, c]
            for i in range(n_sites):
                dx = x - site_x[i]
                dy = y - site_y[i]
                d2d = math.sqrt(dx * dx + dy * dy)
                u = math.sqrt(d2d) * inv_u
                k = int(u)
                if k > n_u - 2:
                    k = n_u - 2
                f = u - k
                if los_mode == 0:
                    is_los = los_u[i, r, c] < p_los[i, k] + (p_los[i, k + 1] - p_los[i, k]) * f
                else:
                    is_los = los_mode == 1
                if is_los:
                    pl = pl_los[i, k] + (pl_los[i, k + 1] - pl_los[i, k]) * f
                    if has_sf:
                        pl += (sf_los[i, k] + (sf_los[i, k + 1] - sf_los[i, k]) * f) * sf_unit[i, r, c]
                else:
                    pl = pl_nlos[i, k] + (pl_nlos[i, k + 1] - pl_nlos[i, k]) * f
                    if has_sf:
                        pl += (sf_nlos[i, k] + (sf_nlos[i, k + 1] - sf_nlos[i, k]) * f) * sf_unit[i, r, c]
                loss[i] = math.exp(-(pl + o2i_db) * _LN10_10)     # linear path gain
                ti = math.atan2(d2d, site_dz[i]) * _RAD2DEG * inv_t
                kt = int(ti)
                if kt > n_t - 2:
                    kt = n_t - 2
                t_idx[i] = kt
                t_frac[i] = ti - kt
                phi[i] = math.atan2(dy, dx) * _RAD2DEG
            best = 0.0
            best_s = -1
            total = 0.0
            for s in range(n_sec):
                i = sec_site[s]
                rel = phi[i] - sec_bearing[s] + 180.0
                if rel < 0.0:
                    rel += 360.0
                elif rel >= 360.0:
                    rel -= 360.0
                pi_ = rel * inv_p
                kp = int(pi_)
                if kp > n_p - 2:
                    kp = n_p - 2
                pf = pi_ - kp
                kt = t_idx[i]
                tf = t_frac[i]
                g = sec_pattern[s]
                g00 = gain[g, kt, kp]
                g01 = gain[g, kt, kp + 1]
                g10 = gain[g, kt + 1, kp]
                g11 = gain[g, kt + 1, kp + 1]
                lo = g00 + (g01 - g00) * pf
                hi = g10 + (g11 - g10) * pf
                p_mw = sec_p_re[s] * (lo + (hi - lo) * tf) * loss[i]
                total += p_mw
                if p_mw > best:
                    best = p_mw
                    best_s = s
            interf = total - best
            if interf < 0.0:
                interf = 0.0
            out_rsrp[r, c] = 10.0 * math.log10(best)
            out_sinr[r, c] = 10.0 * math.log10(best / (load * interf + noise_mw))
            out_best[r, c] = best_s


def tile_kernel(st: KernelStatic, tile: KernelTile) -> KernelOutput:
    n_rows, n_cols = tile.o2i_db.shape
    dummy = np.zeros((1, 1, 1), dtype=np.float32)
    los_u = tile.los_uniform if tile.los_uniform is not None else dummy
    sf = tile.sf_unit if tile.sf_unit is not None else dummy
    out_rsrp = np.empty((n_rows, n_cols), dtype=np.float32)
    out_sinr = np.empty((n_rows, n_cols), dtype=np.float32)
    out_best = np.empty((n_rows, n_cols), dtype=np.int32)
    _kernel(np.ascontiguousarray(tile.x_m, dtype=np.float64), np.ascontiguousarray(tile.y_m, dtype=np.float64),
            st.site_x_m, st.site_y_m, st.site_dz_m, float(st.u_step),
            st.pl_los_db, st.pl_nlos_db, st.sf_std_los_db, st.sf_std_nlos_db, st.p_los,
            st.sector_site, st.sector_bearing_deg, st.sector_pattern, st.sector_p_re_mw,
            st.gain_lin, float(st.theta_step_deg), float(st.phi_step_deg),
            float(st.noise_mw), float(st.load_factor), int(st.los_mode),
            los_u, sf, tile.sf_unit is not None, np.ascontiguousarray(tile.o2i_db, dtype=np.float32),
            out_rsrp, out_sinr, out_best)
    return KernelOutput(out_rsrp, out_sinr, out_best)
