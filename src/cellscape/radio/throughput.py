"""SINR -> spectral efficiency -> throughput, and the TS 38.306 peak data rate.

One rate formula (TS 38.306 4.1.2) serves both the peak rate and the SINR-dependent rate:

    rate = layers * (Q_m * R) * f * 12 N_PRB / T_s^mu * (1 - OH)

where Q_m R is the spectral efficiency per resource element, T_s^mu = 1e-3 / (14 2^mu) s and OH
the overhead (0.14 FR1 DL, 0.18 FR2 DL, 0.08 FR1 UL, 0.10 FR2 UL).

The SINR -> efficiency mapping is the attenuated Shannon bound of TR 36.942 Annex A.1
(alpha = 0.6, SINR_MIN = -10 dB), either directly (``method="shannon"``, capped at the CQI table's
top efficiency) or quantised to the CQI table (``method="cqi"``: the highest CQI whose efficiency
the bound reaches). TS 38.214 defines CQI by a 10 % BLER target that depends on the receiver; this
mapping is an approximation of a typical receiver, not part of the standard.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from cellscape._validate import check_choice
from cellscape.radio.nr import numerology
from cellscape.radio.tables import CQI_TABLES

R_MAX = 948.0 / 1024.0
"""Maximum code rate of TS 38.306 4.1.2."""

OVERHEAD = {("FR1", "DL"): 0.14, ("FR2", "DL"): 0.18, ("FR1", "UL"): 0.08, ("FR2", "UL"): 0.10}
"""Overhead OH of TS 38.306 4.1.2."""

ALPHA = 0.6
SINR_MIN_DB = -10.0


def _table(table: int) -> np.ndarray:
    if table not in CQI_TABLES:
        check_choice("table", str(table), tuple(str(k) for k in CQI_TABLES))
    return CQI_TABLES[table]


def attenuated_shannon_efficiency_bps_hz(sinr_db, *, alpha=ALPHA, sinr_min_db=SINR_MIN_DB,
                                         max_efficiency_bps_hz=7.4063):
    """alpha log2(1 + SINR) for SINR >= SINR_MIN, else 0, capped at the max (TR 36.942 A.1) [bit/s/Hz].

    The default cap is the top of CQI table 2 (256QAM, R = 948/1024: 7.4063 bit/s/Hz).

    >>> round(float(attenuated_shannon_efficiency_bps_hz(10.0)), 4)
    2.0757
    """
    s = np.asarray(sinr_db, dtype=float)
    with np.errstate(invalid="ignore"):
        eff = alpha * np.log2(1.0 + 10.0 ** (s / 10.0))
        out = np.where(s < sinr_min_db, 0.0, np.minimum(eff, max_efficiency_bps_hz))
    return np.where(np.isnan(s), np.nan, out)


def cqi_from_sinr(sinr_db, *, table: int = 1):
    """The highest CQI whose efficiency the attenuated-Shannon bound reaches; 0 = out of range.

    >>> cqi_from_sinr([-12.0, 0.0, 30.0]).tolist()
    [0, 3, 15]
    """
    t = _table(table)
    eff = attenuated_shannon_efficiency_bps_hz(sinr_db, max_efficiency_bps_hz=np.inf)
    return np.searchsorted(t[:, 3], np.nan_to_num(eff, nan=-1.0), side="right").astype(np.int64)


def spectral_efficiency_bps_hz(sinr_db, *, method: Literal["shannon", "cqi"] = "cqi", table: int = 1):
    """Spectral efficiency per resource element at ``sinr_db`` [bit/s/Hz] (NaN in, NaN out).

    >>> float(spectral_efficiency_bps_hz(0.0))
    0.377
    """
    check_choice("method", method, ("shannon", "cqi"))
    t = _table(table)
    s = np.asarray(sinr_db, dtype=float)
    if method == "shannon":
        return attenuated_shannon_efficiency_bps_hz(s, max_efficiency_bps_hz=float(t[-1, 3]))
    cqi = cqi_from_sinr(s, table=table)
    eff = np.concatenate([[0.0], t[:, 3]])[cqi]
    return np.where(np.isnan(s), np.nan, eff)


def data_rate_bps(efficiency_bps_hz, n_prb, scs_khz, *, layers=1, scaling_factor=1.0,
                  frequency_range: Literal["FR1", "FR2"] = "FR1", direction: Literal["DL", "UL"] = "DL"):
    """TS 38.306 4.1.2 rate for one carrier: layers * f * eff * 12 N_PRB * 14 2^mu / 1 ms * (1 - OH) [bit/s].

    >>> round(float(data_rate_bps(8 * 948 / 1024, 273, 30, layers=4)) / 1e6, 1)
    2337.0
    """
    check_choice("frequency_range", frequency_range, ("FR1", "FR2"))
    check_choice("direction", direction, ("DL", "UL"))
    symbol_rate = 14.0 * 2 ** numerology(scs_khz) * 1e3          # 1 / T_s^mu [1/s]
    oh = OVERHEAD[(frequency_range, direction)]
    return (layers * scaling_factor * np.asarray(efficiency_bps_hz, dtype=float) * 12.0 * n_prb
            * symbol_rate * (1.0 - oh))


def peak_data_rate_bps(n_prb, scs_khz, *, layers=1, modulation_order=8, scaling_factor=1.0,
                       frequency_range: Literal["FR1", "FR2"] = "FR1", direction: Literal["DL", "UL"] = "DL"):
    """Peak data rate of TS 38.306 4.1.2 with R_max = 948/1024 [bit/s].

    100 MHz at 30 kHz (273 PRB), 4 layers, 256QAM, FR1 DL: 2.337 Gbit/s.

    >>> round(float(peak_data_rate_bps(273, 30, layers=4)) / 1e9, 3)
    2.337
    """
    return data_rate_bps(modulation_order * R_MAX, n_prb, scs_khz, layers=layers, scaling_factor=scaling_factor,
                         frequency_range=frequency_range, direction=direction)


def downlink_throughput_bps(sinr_db, n_prb, scs_khz, *, method: Literal["shannon", "cqi"] = "cqi", table: int = 1,
                            layers=1, frequency_range: Literal["FR1", "FR2"] = "FR1"):
    """Downlink throughput of a user given all ``n_prb`` PRBs at ``sinr_db`` [bit/s] (float32 in -> float32 out).

    >>> round(float(downlink_throughput_bps(20.0, 273, 30)) / 1e6, 1)
    307.8
    """
    s = np.asarray(sinr_db)
    eff = spectral_efficiency_bps_hz(s, method=method, table=table)
    rate = data_rate_bps(eff, n_prb, scs_khz, layers=layers, frequency_range=frequency_range, direction="DL")
    return rate.astype(s.dtype) if s.dtype == np.float32 else rate
