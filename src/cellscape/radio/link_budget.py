"""Downlink link budget: power per resource element, RSRP (TS 38.215 5.1.1), thermal noise, SINR.

Powers in dBm, gains in dBi, losses in dB. Link arrays put sectors first: (n_sectors, ...).
"""

from __future__ import annotations

import numpy as np

from cellscape.units import THERMAL_NOISE_DBM_HZ


def tx_power_per_re_dbm(tx_power_dbm, n_prb):
    """Transmit power per resource element with the power spread evenly over 12 n_prb subcarriers [dBm].

    >>> round(float(tx_power_per_re_dbm(46.0, 273)), 2)
    10.85
    """
    return np.asarray(tx_power_dbm, dtype=float) - 10.0 * np.log10(12.0 * np.asarray(n_prb, dtype=float))


def rsrp_dbm(tx_power_per_re_dbm, antenna_gain_dbi, path_loss_db, shadow_fading_db=0.0, other_loss_db=0.0,
             rx_gain_dbi=0.0):
    """RSRP: the linear average power of one reference-signal resource element (TS 38.215 5.1.1) [dBm].

    With equal power on every RE, RSRP = P_RE + G_tx + G_rx - PL - SF - other losses; shadow fading
    adds to the loss (TR 38.901 7.4.1).

    >>> float(rsrp_dbm(10.0, 15.0, 120.0))
    -95.0
    """
    return (np.asarray(tx_power_per_re_dbm, dtype=float) + antenna_gain_dbi + rx_gain_dbi
            - path_loss_db - shadow_fading_db - other_loss_db)


def thermal_noise_dbm(bandwidth_hz, noise_figure_db):
    """Receiver noise power -174 dBm/Hz + 10 log10(B) + NF [dBm].

    >>> round(float(thermal_noise_dbm(100e6, 9.0)), 2)
    -85.0
    """
    return THERMAL_NOISE_DBM_HZ + 10.0 * np.log10(np.asarray(bandwidth_hz, dtype=float)) + noise_figure_db


def noise_per_re_dbm(scs_khz, noise_figure_db):
    """Noise power in one resource element (one subcarrier of ``scs_khz``) [dBm].

    >>> round(float(noise_per_re_dbm(30.0, 9.0)), 2)
    -120.23
    """
    return thermal_noise_dbm(np.asarray(scs_khz, dtype=float) * 1e3, noise_figure_db)


def best_server_sinr_db(rsrp_dbm, noise_dbm, *, load_factor=1.0):
    """Best server and its SINR, the other sectors interfering at ``load_factor`` of full load.

    rsrp_dbm : (n_sectors, ...) [dBm]; noise_dbm : scalar or broadcastable to (...) [dBm].
    Returns best_sector (...) int and sinr_db (...) [dB]. Interference is clipped at 0 (the
    subtraction can go slightly negative in floating point).

    >>> b, s = best_server_sinr_db([[-80.0], [-90.0]], -200.0)
    >>> int(b[0]), round(float(s[0]), 2)
    (0, 10.0)
    """
    rsrp_mw = 10.0 ** (np.asarray(rsrp_dbm, dtype=float) / 10.0)                 # (n_sectors, ...)
    best = np.argmax(rsrp_mw, axis=0)                                             # (...)
    signal_mw = np.take_along_axis(rsrp_mw, best[None], axis=0)[0]               # (...)
    interference_mw = np.maximum(rsrp_mw.sum(axis=0) - signal_mw, 0.0) * load_factor
    noise_mw = 10.0 ** (np.asarray(noise_dbm, dtype=float) / 10.0)
    return best, 10.0 * np.log10(signal_mw / (interference_mw + noise_mw))


def coupling_loss_db(path_loss_db, shadow_fading_db=0.0, o2i_loss_db=0.0, tx_gain_dbi=0.0, rx_gain_dbi=0.0):
    """Coupling loss of a link: path loss + shadow fading + O2I loss - antenna gains (TR 38.901 7.8.1) [dB].

    >>> float(coupling_loss_db(120.0, 4.0, 10.0, 17.0))
    117.0
    """
    return np.asarray(path_loss_db, dtype=float) + shadow_fading_db + o2i_loss_db - tx_gain_dbi - rx_gain_dbi
