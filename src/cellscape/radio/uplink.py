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


__all__ = ["pusch_power_dbm", "uplink_sinr_db"]
