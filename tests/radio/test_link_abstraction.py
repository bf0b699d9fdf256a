"""Link abstraction: TS 38.214 5.1.3.2 TBS worked by hand, the BLER curve, MCS choice, OLLA, ESM."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellscape.errors import InvalidChoiceError
from cellscape.radio.link_abstraction import (
    TBS_TABLE_BITS,
    bler_scalar,
    effective_sinr_db,
    mcs_sinr_thresholds_db,
    mcs_table_arrays,
    n_re_per_prb,
    olla_update_scalar,
    select_mcs_scalar,
    tbs_bits,
    tbs_bits_scalar,
)
from cellscape.radio.throughput import cqi_sinr_thresholds_db


def _tbs_by_hand(n_re, r, qm, v):
    """TS 38.214 5.1.3.2 steps 2-4, written out independently of the module."""
    n_info = n_re * r * qm * v
    if n_info <= 3824:
        n = max(3, math.floor(math.log2(n_info)) - 6)
        nq = max(24, 2 ** n * math.floor(n_info / 2 ** n))
        return int(min(t for t in TBS_TABLE_BITS if t >= nq))
    n = math.floor(math.log2(n_info - 24)) - 5
    nq = max(3840, 2 ** n * math.floor((n_info - 24) / 2 ** n + 0.5))
    if r <= 0.25:
        c = math.ceil((nq + 24) / 3816)
        return 8 * c * math.ceil((nq + 24) / (8 * c)) - 24
    if nq > 8424:
        c = math.ceil((nq + 24) / 8424)
        return 8 * c * math.ceil((nq + 24) / (8 * c)) - 24
    return 8 * math.ceil((nq + 24) / 8) - 24


def test_tbs_worked_examples():
    # 1 PRB, MCS 0 of table 1 (QPSK, 120/1024): N_info = 132 x 0.1172 x 2 = 30.9 -> 24 bits
    assert tbs_bits(1, 0, table=1) == 24
    # 10 PRB, MCS 9 of table 1: N_info = 1750.5, n = 4, N'_info = 1744 -> 1800 from Table 5.1.3.2-1
    assert tbs_bits(10, 9, table=1) == 1800
    # 273 PRB, MCS 27 of table 2 (256QAM, 948/1024): N_info = 36036 x 7.40625 = 266,891.6
    # n = floor(log2(266,867.6)) - 5 = 13, N'_info = 8192 x round(32.58) = 270,336;
    # C = ceil(270,360 / 8424) = 33; TBS = 8 x 33 x ceil(270,360 / 264) - 24 = 270,576
    assert tbs_bits(273, 27, table=2) == 8 * 33 * math.ceil(270360 / 264) - 24 == 270576
    # a low-rate large block: R <= 1/4 uses 3816-bit code blocks
    assert tbs_bits(200, 0, table=1) == _tbs_by_hand(132 * 200, 120 / 1024, 2, 1)


@given(st.integers(1, 275), st.integers(0, 27), st.integers(1, 4))
def test_tbs_matches_hand_formula(n_prb, mcs, layers):
    qm, r, _ = mcs_table_arrays(2)
    n_re = 132 * n_prb
    assert tbs_bits_scalar(float(n_re), float(r[mcs]), float(qm[mcs]), layers) == _tbs_by_hand(n_re, r[mcs], qm[mcs], layers)


def test_tbs_grows_with_prbs():
    sizes = [tbs_bits(n, 15, table=2) for n in range(1, 276)]
    assert all(b >= a for a, b in zip(sizes, sizes[1:]))


def test_tbs_errors():
    with pytest.raises(InvalidChoiceError, match="mcs_index"):
        tbs_bits(10, 28, table=2)
    with pytest.raises(InvalidChoiceError, match="table"):
        mcs_table_arrays(4)


def test_n_re_per_prb_cap():
    assert n_re_per_prb(12, 12) == 132
    assert n_re_per_prb(14, 0) == 156          # capped at 156 (168 REs)


def test_bler_ten_percent_at_threshold_and_monotone():
    assert bler_scalar(5.0, 5.0, 0.5) == pytest.approx(0.1, abs=1e-12)
    s = np.linspace(-10, 20, 301)
    b = np.array([bler_scalar(x, 5.0, 0.5) for x in s])
    assert np.all(np.diff(b) <= 0) and b[0] > 0.99 and b[-1] < 1e-9


def test_mcs_thresholds_are_the_map_formula():
    # MCS and CQI share efficiencies where the tables do: CQI 15 of table 2 = MCS 27 of table 2
    assert mcs_sinr_thresholds_db(2)[27] == pytest.approx(cqi_sinr_thresholds_db(table=2)[14])


def test_select_mcs():
    thr = mcs_sinr_thresholds_db(2)
    assert select_mcs_scalar(thr[10] + 1e-9, thr, 0.0) == 10
    assert select_mcs_scalar(thr[10] - 1e-6, thr, 0.0) == 9
    assert select_mcs_scalar(thr[10] - 1.0, thr, 1.0 + 1e-9) == 10          # the offset adds
    assert select_mcs_scalar(-30.0, thr, 0.0) == -1


def test_olla_converges_to_target_bler():
    """A user at a fixed SINR: the outer loop settles where BLER(first transmissions) = 10 %."""
    rng = np.random.default_rng(1)
    thr = mcs_sinr_thresholds_db(2)
    est = 12.3                                        # the scheduler's estimate is 2 dB optimistic
    true = est - 2.0
    off, errors, n = 0.0, 0, 20000
    for i in range(n):
        mcs = max(select_mcs_scalar(est, thr, off), 0)
        err = rng.random() < bler_scalar(true, thr[mcs], 0.5)
        off = olla_update_scalar(off, err, 0.5, 0.1)
        errors += err if i >= 2000 else 0
    assert errors / (n - 2000) == pytest.approx(0.1, abs=0.02)
    assert -3.5 < off < -0.5                           # it learned most of the 2 dB optimism


@given(st.lists(st.floats(-10, 30), min_size=1, max_size=50))
def test_effective_sinr_between_min_and_mean(values):
    e = float(effective_sinr_db(values))
    lin = 10 ** (np.array(values) / 10)
    assert min(values) - 1e-9 <= e <= 10 * np.log10(lin.mean()) + 1e-9
