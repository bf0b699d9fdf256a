"""Link abstraction for the system-level simulator: MCS selection, block error rate, outer loop,
effective SINR and the transport block size of TS 38.214.

A system-level simulator does not decode codewords; it maps the SINRs a transport block saw to a
block error probability (Brueninger et al., "Link abstraction for NR", and 3GPP TR 38.802 /
R1-1700144 practice). cellscape's abstraction, in the same terms as the coverage maps:

* **Effective SINR** over the PRBs of an allocation: mutual-information ESM with the Shannon
  measure, SINR_eff = 2^(mean_k log2(1 + SINR_k)) - 1 (Brueninger & Tuninetti; the Shannon
  measure is the MIESM of an ideal Gaussian code).
* **MCS thresholds**: MCS i of a TS 38.214 Table 5.1.3.1-x needs the SINR at which the map's
  attenuated Shannon bound (TR 36.942 A.1, alpha = 0.6) reaches its efficiency Q_m R
  (:func:`cellscape.radio.throughput.efficiency_sinr_threshold_db`): the simulator's MCS and the
  map's CQI come from one formula.
* **BLER** of MCS i at SINR s: a logistic curve, 10 % at the MCS threshold by construction,
  BLER = 1 / (1 + 9 exp((s - thr_i) / slope)), ``slope_db`` 0.5 dB (the BLER falls ~7x per dB
  above the threshold; LDPC curves of moderate block length fall 10x per 1-1.5 dB). An
  approximation of AWGN link curves, not a table from a standard.
* **Outer loop** (OLLA, Pokhariyal et al. 2007): an offset added to the SINR estimate moves down
  by ``step_db`` on a NACK and up by step x target / (1 - target) on an ACK, so the first-
  transmission BLER converges to ``target``.
* **TBS**: TS 38.214 5.1.3.2 exactly (N_info, quantisation, Table 5.1.3.2-1, code-block split),
  with N'_RE = 12 N_symb - N_DMRS - N_oh per PRB, capped at 156.

The scalar functions are numba-compiled, so the slot loop (cellscape.simulation.slots) calls the
same code a test calls from Python.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from cellscape._validate import check_range
from cellscape.errors import InvalidChoiceError
from cellscape.radio.tables import CODE_RATE_X1024, EFFICIENCY_BPS_HZ, MCS_TABLES, MODULATION_ORDER, TABLE_SOURCES
from cellscape.radio.throughput import ALPHA, SINR_MIN_DB, efficiency_sinr_threshold_db

SPEC = "3GPP TS 38.214 V18"

TBS_TABLE_BITS = np.array([
    24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128, 136, 144, 152, 160, 168, 176, 184, 192, 208, 224,
    240, 256, 272, 288, 304, 320, 336, 352, 368, 384, 408, 432, 456, 480, 504, 528, 552, 576, 608, 640, 672, 704,
    736, 768, 808, 848, 888, 928, 984, 1032, 1064, 1128, 1160, 1192, 1224, 1256, 1288, 1320, 1352, 1416, 1480,
    1544, 1608, 1672, 1736, 1800, 1864, 1928, 2024, 2088, 2152, 2216, 2280, 2408, 2472, 2536, 2600, 2664, 2728,
    2792, 2856, 2976, 3104, 3240, 3368, 3496, 3624, 3752, 3824], dtype=np.int64)
"""TS 38.214 Table 5.1.3.2-1: TBS for N_info <= 3824 [bit]."""
TBS_TABLE_BITS.setflags(write=False)

MAX_RE_PER_PRB = 156
"""N_RE per PRB is capped at 156 (TS 38.214 5.1.3.2 step 1)."""

BLER_SLOPE_DB = 0.5
"""Default width of the logistic BLER curve [dB] (module docstring)."""

OLLA_LIMIT_DB = 10.0
"""The outer-loop offset stays within +-10 dB."""

_LN9 = math.log(9.0)


def n_re_per_prb(n_symbols: int = 12, n_dmrs_re: int = 12, n_overhead_re: int = 0) -> int:
    """
    Resource elements for data in one PRB of one slot, N'_RE = 12 N_symb - N_DMRS - N_oh, capped
    at 156 (TS 38.214 5.1.3.2 step 1).

    Parameters
    ----------
    n_symbols : int, default 12
        OFDM symbols of the allocation in the slot (14 less 2 for the PDCCH). 1 to 14.
    n_dmrs_re : int, default 12
        DM-RS REs per PRB (one front-loaded type-1 symbol with its CDM group: 12).
    n_overhead_re : int, default 0
        xOverhead (0, 6, 12 or 18; CSI-RS, PT-RS).

    Examples
    --------
    >>> n_re_per_prb(), n_re_per_prb(14, 12)
    (132, 156)
    """
    check_range("n_symbols", n_symbols, 1, 14, source=f"{SPEC} 5.1.3.2")
    return int(min(MAX_RE_PER_PRB, 12 * n_symbols - n_dmrs_re - n_overhead_re))


@numba.njit(cache=True)
def tbs_bits_scalar(n_re, code_rate, modulation_order, layers):
    """
    Transport block size of TS 38.214 5.1.3.2 [bit].

    ``n_re``: data REs of the allocation, min(156, N'_RE) x n_PRB; ``code_rate``: R (the table's
    R x 1024 / 1024); ``modulation_order``: Q_m; ``layers``: v. Returns 0 when N_info is 0.

    >>> int(tbs_bits_scalar(1320, 679 / 1024, 2, 1))   # 10 PRB, MCS 9 of Table 5.1.3.1-1
    1800
    """
    n_info = n_re * code_rate * modulation_order * layers
    if n_info <= 0.0:
        return 0
    if n_info <= 3824.0:
        n = max(3, int(math.floor(math.log2(n_info))) - 6)
        step = 2 ** n
        n_info_q = max(24, step * int(math.floor(n_info / step)))
        for v in TBS_TABLE_BITS:
            if v >= n_info_q:
                return int(v)
        return int(TBS_TABLE_BITS[-1])
    n = int(math.floor(math.log2(n_info - 24.0))) - 5
    step = 2.0 ** n
    n_info_q = max(3840.0, step * math.floor((n_info - 24.0) / step + 0.5))   # round(): halves up
    if code_rate <= 0.25:
        c = math.ceil((n_info_q + 24.0) / 3816.0)
        return int(8 * c * math.ceil((n_info_q + 24.0) / (8 * c)) - 24)
    if n_info_q > 8424.0:
        c = math.ceil((n_info_q + 24.0) / 8424.0)
        return int(8 * c * math.ceil((n_info_q + 24.0) / (8 * c)) - 24)
    return int(8 * math.ceil((n_info_q + 24.0) / 8.0) - 24)


def tbs_bits(n_prb, mcs_index, *, table: int = 2, n_re_prb: int | None = None, layers: int = 1) -> int:
    """
    TBS of an allocation of ``n_prb`` PRBs at MCS ``mcs_index`` of PDSCH MCS ``table`` [bit].

    ``n_re_prb`` defaults to :func:`n_re_per_prb` (132). TS 38.214 5.1.3.2.

    >>> tbs_bits(10, 9, table=1)
    1800
    """
    qm, rate, _ = mcs_table_arrays(table)
    if not (0 <= mcs_index < qm.size):
        raise InvalidChoiceError(f"mcs_index={mcs_index!r} is not in 0..{qm.size - 1} ({TABLE_SOURCES[('mcs', table)]})")
    check_range("n_prb", n_prb, 1, 275, source="TS 38.211 4.4.2")
    check_range("layers", layers, 1, 8, source=f"{SPEC} 5.1.3.2")
    re_prb = n_re_per_prb() if n_re_prb is None else min(MAX_RE_PER_PRB, int(n_re_prb))
    return int(tbs_bits_scalar(float(re_prb * n_prb), float(rate[mcs_index]), float(qm[mcs_index]), int(layers)))


def mcs_table_arrays(table: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Q_m, R, efficiency [bit/s/Hz]) per MCS index of PDSCH MCS ``table`` (TS 38.214 Tables
    5.1.3.1-1..3), float64 arrays.

    >>> qm, r, eff = mcs_table_arrays(2)
    >>> int(qm[-1]), round(float(r[-1]) * 1024), float(eff[-1])
    (8, 948, 7.4063)
    """
    if isinstance(table, bool) or table not in MCS_TABLES:
        raise InvalidChoiceError(f"table={table!r} is not one of {', '.join(map(str, MCS_TABLES))} "
                                 f"(MCS tables of {SPEC} 5.1.3.1)")
    t = MCS_TABLES[table]
    return (t[:, MODULATION_ORDER].astype(float), t[:, CODE_RATE_X1024] / 1024.0,
            t[:, EFFICIENCY_BPS_HZ].astype(float))


def mcs_sinr_thresholds_db(table: int = 2, *, alpha=ALPHA, sinr_min_db=SINR_MIN_DB) -> np.ndarray:
    """SINR at which each MCS of ``table`` reaches 10 % BLER: where the attenuated Shannon bound
    reaches its efficiency (module docstring) [dB], one per MCS index.

    >>> [round(float(x), 2) for x in mcs_sinr_thresholds_db(1)[[0, -1]]]
    [-5.07, 27.86]
    """
    return efficiency_sinr_threshold_db(mcs_table_arrays(table)[2], alpha=alpha, sinr_min_db=sinr_min_db)


@numba.njit(cache=True)
def bler_scalar(sinr_db, threshold_db, slope_db):
    """Block error probability of a transport block at effective SINR ``sinr_db`` for an MCS
    whose 10 % point is ``threshold_db``: 1 / (1 + 9 exp((sinr - thr) / slope)).

    >>> round(bler_scalar(3.0, 3.0, 0.5), 6)
    0.1
    """
    x = (sinr_db - threshold_db) / slope_db + _LN9
    if x > 700.0:
        return 0.0
    return 1.0 / (1.0 + math.exp(x))


@numba.njit(cache=True)
def select_mcs_scalar(sinr_estimate_db, thresholds_db, offset_db):
    """Highest MCS index whose threshold the estimate plus the outer-loop offset reaches; -1 when
    none does (the user is not served in that slot).

    >>> import numpy as np
    >>> select_mcs_scalar(5.0, np.array([-6.0, 0.0, 4.0, 9.0]), 0.0), select_mcs_scalar(-9.0, np.array([-6.0]), 0.0)
    (2, -1)
    """
    best = -1
    s = sinr_estimate_db + offset_db
    for i in range(thresholds_db.size):
        if thresholds_db[i] <= s:
            best = i
    return best


@numba.njit(cache=True)
def olla_update_scalar(offset_db, error, step_db, bler_target):
    """The outer loop after a first transmission: down ``step_db`` on error, up
    step x target / (1 - target) on success, within +-10 dB (Pokhariyal et al. 2007).

    >>> round(olla_update_scalar(0.0, False, 0.5, 0.1), 4), olla_update_scalar(0.0, True, 0.5, 0.1)
    (0.0556, -0.5)
    """
    if error:
        return max(offset_db - step_db, -OLLA_LIMIT_DB)
    return min(offset_db + step_db * bler_target / (1.0 - bler_target), OLLA_LIMIT_DB)


@numba.njit(cache=True)
def effective_sinr_from_log2_scalar(sum_log2, n):
    """MIESM (Shannon measure): SINR_eff = 2^(sum_k log2(1 + SINR_k) / n) - 1, linear."""
    return 2.0 ** (sum_log2 / n) - 1.0


def effective_sinr_db(sinr_db, axis=-1) -> np.ndarray:
    """
    Effective SINR of a set of per-PRB SINRs by mutual-information ESM with the Shannon measure.

    Parameters
    ----------
    sinr_db : array_like
        Per-PRB SINRs. [dB]
    axis : int, default -1
        Axis over the PRBs of one allocation.

    Returns
    -------
    sinr_eff_db : ndarray
        [dB]; equal SINRs give that SINR back; never more than the mean linear SINR (Jensen).

    Examples
    --------
    >>> round(float(effective_sinr_db([10.0, 10.0])), 6), round(float(effective_sinr_db([0.0, 20.0])), 2)
    (10.0, 11.21)
    """
    lin = 10.0 ** (np.asarray(sinr_db, dtype=float) / 10.0)
    return 10.0 * np.log10(np.exp2(np.mean(np.log2(1.0 + lin), axis=axis)) - 1.0)


__all__ = ["TBS_TABLE_BITS", "bler_scalar", "effective_sinr_db", "effective_sinr_from_log2_scalar",
           "mcs_sinr_thresholds_db", "mcs_table_arrays", "n_re_per_prb", "olla_update_scalar", "select_mcs_scalar",
           "tbs_bits", "tbs_bits_scalar"]
