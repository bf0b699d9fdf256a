"""SINR -> spectral efficiency -> throughput, and the TS 38.306 peak data rate.

One rate formula (TS 38.306 4.1.2, :func:`data_rate_bps`) serves both the peak rate and the
SINR-dependent rate::

    rate = layers * f * (Q_m R) * 12 N_PRB / T_s^mu * (1 - OH)      [bit/s]

where Q_m R is the spectral efficiency per resource element, T_s^mu = 1e-3 / (14 2^mu) s and OH
the overhead (0.14 FR1 DL, 0.18 FR2 DL, 0.08 FR1 UL, 0.10 FR2 UL). The peak rate puts
Q_m R = Q_m x 948/1024; the throughput map puts the efficiency reached at the pixel's SINR.

The SINR -> efficiency mapping is the attenuated Shannon bound of TR 36.942 Annex A.1
(alpha = 0.6, SINR_MIN = -10 dB), either directly (``method="shannon"``, capped at the CQI table's
top efficiency) or quantised to a CQI table of TS 38.214 (``method="cqi"``: the highest CQI whose
efficiency the bound reaches). TS 38.214 5.2.2.1 defines the reported CQI by a 10 % transport-block
error target, which depends on the receiver; this mapping approximates a typical receiver and is
not part of the standard.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np

from cellscape._validate import check_choice, check_range
from cellscape.errors import InvalidChoiceError
from cellscape.radio.link_budget import SUBCARRIERS_PER_PRB
from cellscape.radio.nr import FREQUENCY_RANGES, FrequencyRange, symbols_per_second
from cellscape.radio.tables import CQI_TABLES, EFFICIENCY_BPS_HZ

Method = Literal["shannon", "cqi"]
Direction = Literal["DL", "UL"]

R_MAX = 948.0 / 1024.0
"""Maximum code rate R_max of TS 38.306 4.1.2."""

OVERHEAD = {("FR1", "DL"): 0.14, ("FR2", "DL"): 0.18, ("FR1", "UL"): 0.08, ("FR2", "UL"): 0.10}
"""Overhead OH of TS 38.306 4.1.2, by (frequency range, direction)."""

SCALING_FACTORS = (1.0, 0.8, 0.75, 0.4)
"""Allowed scaling factors f of TS 38.306 4.1.2 (signalled per band / band combination)."""

MODULATION_ORDERS = (1, 2, 4, 6, 8, 10)
"""Modulation orders Q_m: pi/2-BPSK (UL), QPSK, 16QAM, 64QAM, 256QAM, 1024QAM (TS 38.211 7.3.1.2)."""

MAX_LAYERS = 8
"""Most MIMO layers of one carrier (8 DL, 4 UL; TS 38.306 4.1.2 v_Layers)."""

ALPHA = 0.6
"""Attenuation alpha of TR 36.942 Annex A.1 (downlink baseline parameters)."""

SINR_MIN_DB = -10.0
"""SINR_MIN of TR 36.942 Annex A.1 (downlink baseline parameters) [dB]."""

NR_MAX_EFFICIENCY_BPS_HZ = float(CQI_TABLES[2][-1, EFFICIENCY_BPS_HZ])
"""Default cap of the attenuated Shannon bound for NR: CQI table 2 (256QAM, R = 948/1024), CQI 15,
7.4063 bit/s/Hz. TR 36.942 caps at 4.4 bit/s/Hz for LTE with 64QAM; NR with 256QAM reaches this."""

_STANDARDS = {
    "cqi": "TS 38.214 Tables 5.2.2.1-2/-3/-4", "shannon": "TR 36.942 A.1",
    "rate": "TS 38.306 4.1.2",
}


def _cqi_table(table) -> np.ndarray:
    if isinstance(table, bool) or table not in CQI_TABLES:
        raise InvalidChoiceError(f"table={table!r} is not one of {', '.join(map(str, CQI_TABLES))} "
                                 f"(CQI tables of {_STANDARDS['cqi']})")
    return CQI_TABLES[table]


def attenuated_shannon_efficiency_bps_hz(sinr_db, *, alpha=ALPHA, sinr_min_db=SINR_MIN_DB,
                                         max_efficiency_bps_hz=NR_MAX_EFFICIENCY_BPS_HZ):
    """
    Attenuated Shannon bound: alpha log2(1 + SINR), 0 below SINR_MIN, capped at a maximum.

    Parameters
    ----------
    sinr_db : array_like
        Signal to interference and noise ratio. NaN gives NaN. [dB]
    alpha : float, default 0.6
        Attenuation alpha (implementation losses), 0 < alpha <= 1.
    sinr_min_db : float, default -10.0
        Below this SINR the efficiency is 0. [dB]
    max_efficiency_bps_hz : float, default 7.4063
        Cap Thr_MAX: the top of CQI table 2 (256QAM, R = 948/1024); ``numpy.inf`` for none.
        [bit/s/Hz]

    Returns
    -------
    efficiency_bps_hz : ndarray
        Shape of ``sinr_db``. [bit/s/Hz]

    Raises
    ------
    OutOfValidityRangeError
        If ``alpha`` is outside (0, 1] or ``max_efficiency_bps_hz`` is negative.

    References
    ----------
    .. [1] 3GPP TR 36.942 V17, Annex A.1 (attenuated and truncated Shannon bound;
       downlink alpha = 0.6, SINR_MIN = -10 dB).

    Examples
    --------
    0.6 log2(1 + 10) at 10 dB:

    >>> round(float(attenuated_shannon_efficiency_bps_hz(10.0)), 4)
    2.0757
    """
    check_range("alpha", alpha, np.nextafter(0.0, 1.0), 1.0, source=_STANDARDS["shannon"])
    check_range("max_efficiency_bps_hz", max_efficiency_bps_hz, 0.0, np.inf, source=_STANDARDS["shannon"])
    s = np.asarray(sinr_db, dtype=float)
    with np.errstate(over="ignore"):                        # 10^(s/10) = inf above ~3080 dB: capped anyway
        eff = np.minimum(alpha * np.log2(1.0 + 10.0 ** (s / 10.0)), max_efficiency_bps_hz)
    return np.where(s < sinr_min_db, 0.0, eff)              # NaN < x is False: NaN stays NaN


def efficiency_sinr_threshold_db(efficiency_bps_hz, *, alpha=ALPHA, sinr_min_db=SINR_MIN_DB) -> np.ndarray:
    """
    Lowest SINR at which the attenuated Shannon bound reaches each efficiency.

    alpha log2(1 + x) >= e  <=>  x >= 2^(e / alpha) - 1, and nothing is reached below SINR_MIN;
    the CQI thresholds of the maps and the MCS thresholds of the simulator's link adaptation
    (cellscape.radio.link_abstraction) are both this function of their table's efficiencies.

    Parameters
    ----------
    efficiency_bps_hz : array_like
        Spectral efficiencies per RE, > 0. [bit/s/Hz]
    alpha : float, default 0.6
        Attenuation of the bound (TR 36.942 A.1), 0 < alpha <= 1.
    sinr_min_db : float, default -10.0
        SINR_MIN of the bound. [dB]

    Returns
    -------
    sinr_threshold_db : ndarray
        Shape of ``efficiency_bps_hz``. [dB]

    References
    ----------
    .. [1] 3GPP TR 36.942 V17, Annex A.1.

    Examples
    --------
    >>> round(float(efficiency_sinr_threshold_db(0.6)), 3)      # 0.6 log2(1 + 1) = 0.6 at 0 dB
    0.0
    """
    check_range("alpha", alpha, np.nextafter(0.0, 1.0), 1.0, source=_STANDARDS["shannon"])
    eff = np.asarray(efficiency_bps_hz, dtype=float)
    return np.maximum(10.0 * np.log10(np.exp2(eff / alpha) - 1.0), sinr_min_db)


@lru_cache(maxsize=64)
def _cqi_thresholds_db(table: int, alpha: float, sinr_min_db: float) -> np.ndarray:
    """Lowest SINR at which each CQI of ``table`` is reached, shape (15,) [dB], increasing."""
    thr = efficiency_sinr_threshold_db(_cqi_table(table)[:, EFFICIENCY_BPS_HZ], alpha=alpha, sinr_min_db=sinr_min_db)
    thr.setflags(write=False)
    return thr


def _as_float_array(x) -> np.ndarray:
    """float32 stays float32 (maps), anything else becomes float64."""
    a = np.asarray(x)
    return a if a.dtype == np.float32 else a.astype(np.float64, copy=False)


def _count_reached(s: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Number of ``thresholds`` (increasing) <= s at each element, uint8; NaN counts 0.

    One vectorised comparison per threshold (15), in the dtype of ``s``: about 8x cheaper than
    ``np.searchsorted`` on a float32 map. For float32 ``s`` the thresholds are rounded *up* to
    float32, so that ``s >= t32`` holds exactly when ``s >= t64`` does.
    """
    t = thresholds
    if s.dtype == np.float32:
        t32 = thresholds.astype(np.float32)
        t = np.where(t32 < thresholds, np.nextafter(t32, np.float32(np.inf)), t32)
    count = np.zeros(s.shape, dtype=np.uint8)
    for value in t:                                   # a loop over the 15 table rows, not over pixels
        count += s >= value
    return count


def cqi_sinr_thresholds_db(*, table: int = 1, alpha=ALPHA, sinr_min_db=SINR_MIN_DB) -> np.ndarray:
    """
    SINR at which the attenuated Shannon bound reaches each CQI's efficiency.

    Parameters
    ----------
    table : {1, 2, 3}, default 1
        CQI table of TS 38.214 (Tables 5.2.2.1-2, -3, -4).
    alpha : float, default 0.6
        Attenuation of the bound (TR 36.942 A.1).
    sinr_min_db : float, default -10.0
        SINR_MIN of the bound; no CQI is reached below it. [dB]

    Returns
    -------
    sinr_threshold_db : ndarray, shape (15,)
        Entry k - 1 is the lowest SINR that gives CQI k: max(10 log10(2^(e_k / alpha) - 1),
        SINR_MIN), increasing. [dB]

    Raises
    ------
    InvalidChoiceError
        If ``table`` is not 1, 2 or 3.
    OutOfValidityRangeError
        If ``alpha`` is outside (0, 1].

    References
    ----------
    .. [1] 3GPP TR 36.942 V17, Annex A.1; 3GPP TS 38.214 V18, Tables 5.2.2.1-2 to -4.

    Examples
    --------
    >>> [round(float(x), 2) for x in cqi_sinr_thresholds_db()[[0, -1]]]
    [-7.16, 27.86]
    """
    check_range("alpha", alpha, np.nextafter(0.0, 1.0), 1.0, source=_STANDARDS["shannon"])
    _cqi_table(table)                                        # validates ``table``
    return _cqi_thresholds_db(int(table), float(alpha), float(sinr_min_db)).copy()


def cqi_from_sinr(sinr_db, *, table: int = 1, alpha=ALPHA, sinr_min_db=SINR_MIN_DB):
    """
    The highest CQI whose efficiency the attenuated Shannon bound reaches at ``sinr_db``.

    An approximation: TS 38.214 5.2.2.1 defines the CQI a UE reports as the highest one whose
    transport block would be received with at most 10 % block error, which depends on the
    receiver; here the receiver is summarised by the bound of TR 36.942 A.1.

    Parameters
    ----------
    sinr_db : array_like
        SINR. [dB]
    table : {1, 2, 3}, default 1
        CQI table of TS 38.214 (Tables 5.2.2.1-2, -3, -4).
    alpha : float, default 0.6
        Attenuation of the bound.
    sinr_min_db : float, default -10.0
        SINR_MIN of the bound. [dB]

    Returns
    -------
    cqi : ndarray of int64
        Shape of ``sinr_db``; 0 = out of range (no CQI reached), also for NaN input.

    Raises
    ------
    InvalidChoiceError
        If ``table`` is not 1, 2 or 3.
    OutOfValidityRangeError
        If ``alpha`` is outside (0, 1].

    References
    ----------
    .. [1] 3GPP TS 38.214 V18, 5.2.2.1 and Tables 5.2.2.1-2 to -4.
    .. [2] 3GPP TR 36.942 V17, Annex A.1.

    Examples
    --------
    >>> cqi_from_sinr([-12.0, 0.0, 30.0]).tolist()
    [0, 3, 15]
    """
    thr = cqi_sinr_thresholds_db(table=table, alpha=alpha, sinr_min_db=sinr_min_db)
    return _count_reached(_as_float_array(sinr_db), thr).astype(np.int64)


def spectral_efficiency_bps_hz(sinr_db, *, method: Method = "cqi", table: int = 1):
    """
    Spectral efficiency per resource element at ``sinr_db``.

    Parameters
    ----------
    sinr_db : array_like
        SINR. [dB]
    method : {'cqi', 'shannon'}, default 'cqi'
        'cqi': the efficiency of :func:`cqi_from_sinr` (0 for CQI 0); 'shannon': the attenuated
        Shannon bound itself, capped at the table's top efficiency.
    table : {1, 2, 3}, default 1
        CQI table of TS 38.214 (1: 64QAM, 2: 256QAM, 3: low spectral efficiency).

    Returns
    -------
    efficiency_bps_hz : ndarray
        Shape of ``sinr_db``; float32 for float32 input, else float64; NaN where ``sinr_db`` is
        NaN. [bit/s/Hz]

    Raises
    ------
    InvalidChoiceError
        If ``method`` or ``table`` is not one of its choices.

    References
    ----------
    .. [1] 3GPP TS 38.214 V18, Tables 5.2.2.1-2 to -4; 3GPP TR 36.942 V17, Annex A.1.

    Examples
    --------
    At 0 dB the bound (0.6 bit/s/Hz) reaches CQI 3 of table 1 (0.3770 bit/s/Hz):

    >>> float(spectral_efficiency_bps_hz(0.0)), round(float(spectral_efficiency_bps_hz(0.0, method="shannon")), 4)
    (0.377, 0.6)
    """
    check_choice("method", method, ("cqi", "shannon"))
    t = _cqi_table(table)
    s = np.asarray(sinr_db)
    out_dtype = np.float32 if s.dtype == np.float32 else np.float64
    if method == "shannon":
        eff = attenuated_shannon_efficiency_bps_hz(s, max_efficiency_bps_hz=float(t[-1, EFFICIENCY_BPS_HZ]))
        return eff.astype(out_dtype, copy=False)
    # lookup[0] = CQI 0, lookup[1..15] = the table, lookup[16] = NaN for NaN input
    lookup = np.concatenate([[0.0], t[:, EFFICIENCY_BPS_HZ], [np.nan]]).astype(out_dtype)
    s = _as_float_array(s)
    cqi = _count_reached(s, cqi_sinr_thresholds_db(table=table))
    cqi[np.isnan(s)] = len(lookup) - 1
    return lookup[cqi]


def data_rate_bps(efficiency_bps_hz, n_prb, scs_khz, *, layers=1, scaling_factor=1.0,
                  frequency_range: FrequencyRange = "FR1", direction: Direction = "DL"):
    """
    TS 38.306 4.1.2 data rate of one carrier at a given spectral efficiency per RE.

    rate = layers x f x efficiency x 12 N_PRB x (14 2^mu per ms) x (1 - OH).

    Parameters
    ----------
    efficiency_bps_hz : array_like
        Spectral efficiency per resource element, Q_m R. [bit/s/Hz]
    n_prb : int
        PRBs allocated, N_PRB^{BW,mu}.
    scs_khz : float
        Subcarrier spacing (sets mu). [kHz]
    layers : int, default 1
        MIMO layers v_Layers, 1 to 8.
    scaling_factor : {1.0, 0.8, 0.75, 0.4}, default 1.0
        Scaling factor f.
    frequency_range : {'FR1', 'FR2'}, default 'FR1'
        Selects the overhead OH together with ``direction``.
    direction : {'DL', 'UL'}, default 'DL'
        Link direction.

    Returns
    -------
    rate_bps : ndarray
        Shape of ``efficiency_bps_hz``; float32 for float32 input. [bit/s]

    Raises
    ------
    InvalidChoiceError
        If ``scaling_factor``, ``frequency_range``, ``direction`` or ``scs_khz`` is not one of its
        choices.
    OutOfValidityRangeError
        If ``layers`` is outside [1, 8] or ``n_prb`` outside [1, 275].

    References
    ----------
    .. [1] 3GPP TS 38.306 V17, 4.1.2 (supported max data rate).

    Examples
    --------
    >>> round(float(data_rate_bps(8 * 948 / 1024, 273, 30, layers=4)) / 1e6, 1)
    2337.0
    """
    check_choice("frequency_range", frequency_range, FREQUENCY_RANGES)
    check_choice("direction", direction, ("DL", "UL"))
    if scaling_factor not in SCALING_FACTORS:
        raise InvalidChoiceError(f"scaling_factor={scaling_factor!r} is not one of "
                                 f"{', '.join(map(str, SCALING_FACTORS))} ({_STANDARDS['rate']})")
    check_range("layers", layers, 1, MAX_LAYERS, source=_STANDARDS["rate"])
    check_range("n_prb", n_prb, 1, 275, source="TS 38.211 4.4.2")
    eff = np.asarray(efficiency_bps_hz)
    if eff.dtype != np.float32:
        eff = eff.astype(float)
    # a scalar factor first, so a float32 map is multiplied once and stays float32
    factor = (layers * scaling_factor * SUBCARRIERS_PER_PRB * n_prb * symbols_per_second(scs_khz)
              * (1.0 - OVERHEAD[(frequency_range, direction)]))
    return eff * eff.dtype.type(factor)


def peak_data_rate_bps(n_prb, scs_khz, *, layers=1, modulation_order=8, scaling_factor=1.0,
                       frequency_range: FrequencyRange = "FR1", direction: Direction = "DL"):
    """
    Peak data rate of one carrier, TS 38.306 4.1.2, with R_max = 948/1024.

    Parameters
    ----------
    n_prb : int
        Maximum RB allocation N_PRB^{BW,mu} (see :func:`cellscape.radio.nr.max_n_rb`).
    scs_khz : float
        Subcarrier spacing. [kHz]
    layers : int, default 1
        Maximum number of MIMO layers, 1 to 8.
    modulation_order : {1, 2, 4, 6, 8, 10}, default 8
        Maximum modulation order Q_m (8 = 256QAM).
    scaling_factor : {1.0, 0.8, 0.75, 0.4}, default 1.0
        Scaling factor f.
    frequency_range : {'FR1', 'FR2'}, default 'FR1'
        Selects the overhead.
    direction : {'DL', 'UL'}, default 'DL'
        Link direction.

    Returns
    -------
    rate_bps : float
        Peak data rate. [bit/s]

    Raises
    ------
    InvalidChoiceError
        If ``modulation_order`` or another option is not one of its choices.
    OutOfValidityRangeError
        If ``layers`` or ``n_prb`` is out of range.

    References
    ----------
    .. [1] 3GPP TS 38.306 V17, 4.1.2 (supported max data rate).

    Examples
    --------
    100 MHz at 30 kHz (273 PRB), 4 layers, 256QAM, FR1 DL: 2.337 Gbit/s.

    >>> round(peak_data_rate_bps(273, 30, layers=4) / 1e9, 3)
    2.337
    """
    if isinstance(modulation_order, bool) or modulation_order not in MODULATION_ORDERS:
        raise InvalidChoiceError(f"modulation_order={modulation_order!r} is not one of "
                                 f"{', '.join(map(str, MODULATION_ORDERS))} ({_STANDARDS['rate']})")
    return float(data_rate_bps(modulation_order * R_MAX, n_prb, scs_khz, layers=layers,
                               scaling_factor=scaling_factor, frequency_range=frequency_range,
                               direction=direction))


def downlink_throughput_bps(sinr_db, n_prb, scs_khz, *, method: Method = "cqi", table: int = 1, layers=1,
                            frequency_range: FrequencyRange = "FR1"):
    """
    Downlink throughput of a user given all ``n_prb`` PRBs at ``sinr_db``.

    The same TS 38.306 formula as :func:`peak_data_rate_bps` (f = 1), with the efficiency of
    :func:`spectral_efficiency_bps_hz` in place of Q_m R_max. Vectorised for maps: a float32 map
    stays float32, NaN pixels stay NaN.

    Parameters
    ----------
    sinr_db : array_like
        SINR. [dB]
    n_prb : int
        PRBs of the carrier.
    scs_khz : float
        Subcarrier spacing. [kHz]
    method : {'cqi', 'shannon'}, default 'cqi'
        SINR -> efficiency mapping (see :func:`spectral_efficiency_bps_hz`).
    table : {1, 2, 3}, default 1
        CQI table.
    layers : int, default 1
        MIMO layers, 1 to 8 (the same SINR on every layer).
    frequency_range : {'FR1', 'FR2'}, default 'FR1'
        Selects the downlink overhead (0.14 or 0.18).

    Returns
    -------
    throughput_bps : ndarray
        Shape of ``sinr_db``. [bit/s]

    Raises
    ------
    InvalidChoiceError
        If an option is not one of its choices.
    OutOfValidityRangeError
        If ``layers`` or ``n_prb`` is out of range.

    References
    ----------
    .. [1] 3GPP TS 38.306 V17, 4.1.2; TS 38.214 V18, Tables 5.2.2.1-2 to -4; TR 36.942 V17, A.1.

    Examples
    --------
    At 20 dB the bound (3.99 bit/s/Hz) reaches CQI 12 of table 1 (3.9023 bit/s/Hz):

    >>> round(float(downlink_throughput_bps(20.0, 273, 30)) / 1e6, 1)
    307.8
    """
    eff = spectral_efficiency_bps_hz(sinr_db, method=method, table=table)
    return data_rate_bps(eff, n_prb, scs_khz, layers=layers, frequency_range=frequency_range, direction="DL")
