"""Uplink power control and SINR: TS 38.213 7.1.1 open-loop PUSCH power.

The UE sets its PUSCH power in a slot as (TS 38.213 7.1.1, closed-loop term f and Delta_TF off)::

    P_PUSCH = min(P_CMAX, P_O_PUSCH + 10 log10(2^mu M_RB) + alpha PL)        [dBm]

with P_O_PUSCH the nominal power per 180 kHz RB at 15 kHz (``p0_dbm``), alpha the fractional
path-loss compensation (0 to 1; TS 38.213 allows 0, 0.4 ... 1), PL the downlink path loss the UE
estimates (its coupling loss to the serving cell, antenna gains included) and M_RB the PRBs
granted. The power per PRB is then spread evenly over the allocation.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from cellscape.radio.link_budget import thermal_noise_dbm
from cellscape.radio.nr import numerology

SPEC = "3GPP TS 38.213 V18"


@numba.njit(cache=True)
def pusch_power_dbm(p_cmax_dbm, p0_dbm, alpha, path_loss_db, n_prb, mu):
    """
    PUSCH transmit power of TS 38.213 7.1.1 (open loop) [dBm].

    Parameters
    ----------
    p_cmax_dbm : float
        UE maximum output power (power class 3: 23 dBm). [dBm]
    p0_dbm : float
        P_O_PUSCH, target received power per RB at 15 kHz. [dBm]
    alpha : float
        Fractional path-loss compensation, 0 to 1.
    path_loss_db : float
        The UE's path-loss estimate PL. [dB]
    n_prb : int
        PRBs granted, M_RB, >= 1.
    mu : int
        Numerology (subcarrier spacing 15 x 2^mu kHz).

    Examples
    --------
    10 PRB at 30 kHz, P0 -90 dBm, alpha 0.8, PL 120 dB: -90 + 13.01 + 96 = 19.01 dBm; at 140 dB
    the UE is at its maximum, 23 dBm:

    >>> round(pusch_power_dbm(23.0, -90.0, 0.8, 120.0, 10, 1), 2), pusch_power_dbm(23.0, -90.0, 0.8, 140.0, 10, 1)
    (19.01, 23.0)
    """
    p = p0_dbm + 10.0 * math.log10((2.0 ** mu) * n_prb) + alpha * path_loss_db
    return min(p_cmax_dbm, p)


@numba.njit(cache=True)
def _pusch_power_map(p_cmax_dbm, p0_dbm, alpha, path_loss_db, n_prb, mu, out):
    flat_pl = path_loss_db.ravel()
    flat_out = out.ravel()
    for i in range(flat_pl.size):
        flat_out[i] = pusch_power_dbm(p_cmax_dbm, p0_dbm, alpha, flat_pl[i], n_prb, mu)


def uplink_map(coupling_loss_db, *, p_cmax_dbm, p0_dbm, alpha, n_prb, scs_khz, gnb_noise_figure_db,
               interference_margin_db=0.0):
    """
    Uplink of one UE per pixel: its TS 38.213 7.1.1 PUSCH power on ``n_prb`` PRBs and the SINR per
    PRB at its serving gNB.

    Parameters
    ----------
    coupling_loss_db : array_like
        Coupling loss to the serving cell (path loss, shadowing, O2I, both antenna gains), also
        the UE's path-loss estimate PL. NaN stays NaN. [dB]
    p_cmax_dbm, p0_dbm, alpha : float
        UE maximum power [dBm], P_O_PUSCH [dBm], path-loss compensation (0..1).
    n_prb : int
        PRBs of the allocation, 1 to 275.
    scs_khz : float
        Subcarrier spacing (sets mu and the PRB bandwidth). [kHz]
    gnb_noise_figure_db : float
        gNB receiver noise figure. [dB]
    interference_margin_db : float, default 0
        Rise of the uplink interference over thermal noise from the other cells. [dB]

    Returns
    -------
    tx_power_dbm, sinr_db : ndarray, ndarray
        Shape of ``coupling_loss_db``, float32. [dBm], [dB]

    Examples
    --------
    273 PRBs at 30 kHz, P0 -90 dBm, alpha 0.8: at 100 dB the UE sends -90 + 27.37 + 80 = 17.37 dBm;
    at 140 dB it is at 23 dBm; noise per 360 kHz PRB with NF 5 dB is -113.44 dBm, so the SINR is
    23 - 24.36 - 140 + 113.44 - 3 = -30.9 dB:

    >>> p, s = uplink_map([100.0, 140.0], p_cmax_dbm=23.0, p0_dbm=-90.0, alpha=0.8, n_prb=273, scs_khz=30.0,
    ...                   gnb_noise_figure_db=5.0, interference_margin_db=3.0)
    >>> [round(float(x), 2) for x in p], round(float(s[1]), 1)
    ([17.37, 23.0], -30.9)
    """
    cl = np.asarray(coupling_loss_db, dtype=np.float64)
    mu = numerology(scs_khz)
    p = np.empty(cl.shape, dtype=np.float64)
    _pusch_power_map(float(p_cmax_dbm), float(p0_dbm), float(alpha), np.ascontiguousarray(cl), int(n_prb), int(mu), p)
    p[np.isnan(cl)] = np.nan
    noise_prb_dbm = float(thermal_noise_dbm(12.0 * scs_khz * 1e3, gnb_noise_figure_db))
    # the margin is a rise over thermal: interference = noise x (10^(margin/10) - 1)
    interf_dbm = noise_prb_dbm + 10.0 * math.log10(10.0 ** (interference_margin_db / 10.0) - 1.0) \
        if interference_margin_db > 0 else -np.inf
    sinr = uplink_sinr_db(p, n_prb, cl, noise_prb_dbm, interf_dbm)
    return p.astype(np.float32), sinr.astype(np.float32)


def uplink_sinr_db(tx_power_dbm, n_prb, coupling_loss_db, noise_per_prb_dbm, interference_per_prb_dbm=-np.inf):
    """
    Mean uplink SINR per PRB at the gNB for a UE spreading ``tx_power_dbm`` over ``n_prb`` PRBs.

    SINR = (P - 10 log10 n_PRB - CL) - 10 log10(N_PRB + I_PRB), all per PRB [dB].

    Examples
    --------
    >>> round(float(uplink_sinr_db(23.0, 10, 130.0, -112.4)), 2)
    -4.6
    """
    p_prb = np.asarray(tx_power_dbm, dtype=float) - 10.0 * np.log10(np.asarray(n_prb, dtype=float))
    noise = 10.0 ** (np.asarray(noise_per_prb_dbm, dtype=float) / 10.0)
    interf = 10.0 ** (np.asarray(interference_per_prb_dbm, dtype=float) / 10.0)
    return p_prb - np.asarray(coupling_loss_db, dtype=float) - 10.0 * np.log10(noise + interf)


__all__ = ["pusch_power_dbm", "uplink_map", "uplink_sinr_db"]
