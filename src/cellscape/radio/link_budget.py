"""Downlink link budget: power per resource element, RSRP (TS 38.215 5.1.1), thermal noise, SINR.

Powers in dBm, gains in dBi, losses in dB. Link arrays put sectors first: ``(n_sectors, ...)``
(STYLE P4). Every function broadcasts like numpy.
"""

from __future__ import annotations

import numpy as np

from cellscape._validate import check_range
from cellscape.units import THERMAL_NOISE_DBM_HZ

SUBCARRIERS_PER_PRB = 12
"""N_sc^RB, TS 38.211 4.4.4.1."""


def tx_power_per_re_dbm(tx_power_dbm, n_prb):
    """
    Transmit power per resource element, the total power spread evenly over 12 n_prb subcarriers.

    Parameters
    ----------
    tx_power_dbm : array_like
        Total transmit power at the antenna port over the carrier. [dBm]
    n_prb : array_like
        Number of PRBs of the carrier, >= 1.

    Returns
    -------
    tx_power_per_re_dbm : ndarray
        P_RE = P_tx - 10 log10(12 n_prb), broadcast shape of the inputs. [dBm]

    Raises
    ------
    OutOfValidityRangeError
        If any ``n_prb`` is below 1.

    References
    ----------
    .. [1] 3GPP TS 38.211 V17, 4.4.4.1 (12 subcarriers per resource block).

    Examples
    --------
    46 dBm over 273 PRBs (3276 subcarriers):

    >>> round(float(tx_power_per_re_dbm(46.0, 273)), 2)
    10.85
    """
    n = check_range("n_prb", n_prb, 1.0, np.inf, source="TS 38.211 4.4.4.1")
    return np.asarray(tx_power_dbm, dtype=float) - 10.0 * np.log10(SUBCARRIERS_PER_PRB * n)


def rsrp_dbm(tx_power_per_re_dbm, antenna_gain_dbi, path_loss_db, shadow_fading_db=0.0, other_loss_db=0.0,
             rx_gain_dbi=0.0):
    """
    RSRP: the linear average power of the resource elements carrying the reference signal.

    TS 38.215 5.1.1 defines SS-RSRP (and CSI-RSRP) as the linear average over the power contributions
    of the REs that carry the SSS (CSI-RS), i.e. a power *per RE*. With every RE transmitted at the
    same power, that is the per-RE transmit power through the link:
    RSRP = P_RE + G_tx + G_rx - PL - SF - other losses.

    Parameters
    ----------
    tx_power_per_re_dbm : array_like
        Transmit power per resource element (see :func:`tx_power_per_re_dbm`). [dBm]
    antenna_gain_dbi : array_like
        Transmit (sector) antenna gain towards the receiver. [dBi]
    path_loss_db : array_like
        Basic path loss, positive = loss. [dB]
    shadow_fading_db : array_like, default 0.0
        Shadow fading, added to the loss (TR 38.901 7.4.1). [dB]
    other_loss_db : array_like, default 0.0
        Further losses: O2I penetration, body loss, cable loss. [dB]
    rx_gain_dbi : array_like, default 0.0
        Receiver antenna gain. [dBi]

    Returns
    -------
    rsrp_dbm : ndarray
        Broadcast shape of the inputs (``(n_sectors, ...)`` for link arrays). [dBm]

    References
    ----------
    .. [1] 3GPP TS 38.215 V17, 5.1.1 (SS reference signal received power, SS-RSRP).

    Examples
    --------
    >>> float(rsrp_dbm(10.0, 15.0, 120.0))
    -95.0
    """
    return (np.asarray(tx_power_per_re_dbm, dtype=float) + antenna_gain_dbi + rx_gain_dbi
            - path_loss_db - shadow_fading_db - other_loss_db)


def thermal_noise_dbm(bandwidth_hz, noise_figure_db):
    """
    Receiver noise power: -174 dBm/Hz + 10 log10(B) + NF.

    Parameters
    ----------
    bandwidth_hz : array_like
        Noise bandwidth, > 0. [Hz]
    noise_figure_db : array_like
        Receiver noise figure (9 dB for the UE of TR 38.901 Table 7.8-1). [dB]

    Returns
    -------
    noise_dbm : ndarray
        Broadcast shape of the inputs. [dBm]

    Raises
    ------
    OutOfValidityRangeError
        If any ``bandwidth_hz`` is not positive.

    Notes
    -----
    The density is :data:`cellscape.units.THERMAL_NOISE_DBM_HZ` (-174 dBm/Hz, k T0 at 290 K rounded
    as 3GPP link budgets round it).

    Examples
    --------
    >>> round(float(thermal_noise_dbm(100e6, 9.0)), 2)
    -85.0
    """
    b = check_range("bandwidth_hz", bandwidth_hz, np.nextafter(0.0, 1.0), np.inf, source="thermal noise kTB")
    return THERMAL_NOISE_DBM_HZ + 10.0 * np.log10(b) + noise_figure_db


def noise_per_re_dbm(scs_khz, noise_figure_db):
    """
    Noise power in one resource element, i.e. in one subcarrier of width ``scs_khz``.

    This is the noise that an RSRP (a per-RE power) is compared with to form the SINR.

    Parameters
    ----------
    scs_khz : array_like
        Subcarrier spacing. [kHz]
    noise_figure_db : array_like
        Receiver noise figure. [dB]

    Returns
    -------
    noise_per_re_dbm : ndarray
        Broadcast shape of the inputs. [dBm]

    Raises
    ------
    OutOfValidityRangeError
        If any ``scs_khz`` is not positive.

    Examples
    --------
    -174 + 10 log10(30e3) + 9 = -120.23 dBm:

    >>> round(float(noise_per_re_dbm(30.0, 9.0)), 2)
    -120.23
    """
    return thermal_noise_dbm(np.asarray(scs_khz, dtype=float) * 1e3, noise_figure_db)


def best_server_sinr_db(rsrp_dbm, noise_dbm, *, load_factor=1.0):
    """
    Best server and its downlink SINR, every other sector interfering at ``load_factor``.

    Parameters
    ----------
    rsrp_dbm : array_like, shape (n_sectors, ...)
        Per-RE received power from every sector; sectors lead. [dBm]
    noise_dbm : array_like
        Noise per RE, scalar or broadcastable to ``rsrp_dbm.shape[1:]``. [dBm]
    load_factor : float, default 1.0
        Fraction of REs the other sectors occupy, 0 to 1; the interference is this fraction of
        their summed power (1 = full load, the TR 38.901 7.8 calibration assumption).

    Returns
    -------
    best_sector : ndarray of int, shape (...)
        Index of the strongest sector at each point.
    sinr_db : ndarray, shape (...)
        S / (load_factor x sum of the other sectors' power + N). [dB]

    Raises
    ------
    OutOfValidityRangeError
        If ``load_factor`` is outside [0, 1].
    ValueError
        If ``rsrp_dbm`` is a scalar (there is no sector axis).

    Notes
    -----
    The interference is the total minus the signal; it is clipped at 0 because that subtraction
    can go slightly negative in floating point (STYLE P4). A NaN RSRP at a point makes its SINR NaN.

    Examples
    --------
    >>> b, s = best_server_sinr_db([[-80.0], [-90.0]], -200.0)
    >>> int(b[0]), round(float(s[0]), 2)
    (0, 10.0)
    """
    check_range("load_factor", load_factor, 0.0, 1.0, source="the downlink load (fraction of REs in use)")
    rsrp = np.asarray(rsrp_dbm, dtype=float)
    if rsrp.ndim == 0:
        raise ValueError("rsrp_dbm must have a leading sector axis, shape (n_sectors, ...); got a scalar")
    rsrp_mw = 10.0 ** (rsrp / 10.0)                                                 # (n_sectors, ...)
    best = np.argmax(rsrp_mw, axis=0)                                               # (...)
    signal_mw = np.take_along_axis(rsrp_mw, best[None], axis=0)[0]                 # (...)
    interference_mw = load_factor * np.maximum(rsrp_mw.sum(axis=0) - signal_mw, 0.0)  # (...)
    noise_mw = 10.0 ** (np.asarray(noise_dbm, dtype=float) / 10.0)                  # () or (...)
    return best, 10.0 * np.log10(signal_mw / (interference_mw + noise_mw))


def coupling_loss_db(path_loss_db, shadow_fading_db=0.0, o2i_loss_db=0.0, tx_gain_dbi=0.0, rx_gain_dbi=0.0):
    """
    Coupling loss of a link: path loss + shadow fading + O2I loss - antenna gains.

    TR 38.901 7.8.1 calibrates the coupling loss of the *serving* cell: pass the serving sector's
    values (e.g. selected with the ``best_sector`` of :func:`best_server_sinr_db`).

    Parameters
    ----------
    path_loss_db : array_like
        Basic path loss. [dB]
    shadow_fading_db : array_like, default 0.0
        Shadow fading. [dB]
    o2i_loss_db : array_like, default 0.0
        Outdoor-to-indoor penetration loss (TR 38.901 7.4.3). [dB]
    tx_gain_dbi : array_like, default 0.0
        BS antenna gain towards the UE. [dBi]
    rx_gain_dbi : array_like, default 0.0
        UE antenna gain. [dBi]

    Returns
    -------
    coupling_loss_db : ndarray
        Broadcast shape of the inputs. [dB]

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, 7.8.1 (large-scale calibration: coupling loss, serving cell).

    Examples
    --------
    >>> float(coupling_loss_db(120.0, 4.0, 10.0, 17.0))
    117.0
    """
    return np.asarray(path_loss_db, dtype=float) + shadow_fading_db + o2i_loss_db - tx_gain_dbi - rx_gain_dbi
