"""SINR -> efficiency (TR 36.942 A.1, TS 38.214 CQI) and the TS 38.306 4.1.2 rate."""

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError
from cellscape.radio.tables import CQI_TABLES, EFFICIENCY_BPS_HZ
from cellscape.radio.throughput import (
    attenuated_shannon_efficiency_bps_hz,
    cqi_from_sinr,
    cqi_sinr_thresholds_db,
    data_rate_bps,
    downlink_throughput_bps,
    peak_data_rate_bps,
    spectral_efficiency_bps_hz,
)

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"


def load_reference(name):
    with open(REFERENCE_DIR / name, newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


PEAK_ROWS = load_reference("radio_peak_rate.csv")
HAND_ATOL = 1e-5   # hand values below are rounded to 6 significant digits or better

# 12 N_PRB x 14 2^mu per ms x (1 - OH) for 273 PRB, 30 kHz, FR1 DL: 3276 x 28000 x 0.86 = 78 886 080 RE/s
RE_PER_SECOND_273_30_FR1_DL = 78_886_080.0

# ------------------------------------------------------------------------------ attenuated Shannon


@pytest.mark.parametrize(("sinr_db", "expected"), [
    (10.0, 2.075659),         # 0.6 log2(11)
    (20.0, 3.994927),         # 0.6 log2(101)
    (-10.0, 0.082502),        # 0.6 log2(1.1): SINR_MIN itself is inside
    (-10.01, 0.0),            # below SINR_MIN
    (-np.inf, 0.0),
    (40.0, 7.4063),           # 0.6 log2(10001) = 7.9727 capped at CQI table 2's top
    (np.inf, 7.4063),
])
def test_attenuated_shannon_hand_values(sinr_db, expected):
    assert float(attenuated_shannon_efficiency_bps_hz(sinr_db)) == pytest.approx(expected, abs=HAND_ATOL)


def test_attenuated_shannon_options():
    assert float(attenuated_shannon_efficiency_bps_hz(40.0, max_efficiency_bps_hz=np.inf)) == pytest.approx(
        7.972714, abs=HAND_ATOL)
    # LTE downlink parameters of TR 36.942 Annex A.1: cap 4.4 bit/s/Hz
    assert float(attenuated_shannon_efficiency_bps_hz(40.0, max_efficiency_bps_hz=4.4)) == 4.4
    # alpha = 1 is Shannon: log2(1 + 1) at 0 dB (10 log10(1) = 0)
    assert float(attenuated_shannon_efficiency_bps_hz(0.0, alpha=1.0)) == pytest.approx(1.0)
    assert float(attenuated_shannon_efficiency_bps_hz(-5.0, sinr_min_db=0.0)) == 0.0


def test_attenuated_shannon_nan_and_huge_values():
    out = attenuated_shannon_efficiency_bps_hz([np.nan, 1e6])
    assert np.isnan(out[0]) and out[1] == pytest.approx(7.4063)

# ------------------------------------------------------------------------------------------- CQI


@pytest.mark.parametrize(("table", "index", "expected_db"), [
    # 10 log10(2^(e / 0.6) - 1), then max with SINR_MIN = -10 dB:
    (1, 0, -7.158601),   # CQI 1, e = 0.1523: 2^0.253833 - 1 = 0.192437
    (1, 14, 27.861755),  # CQI 15, e = 5.5547: 2^9.257833 - 1 = 611.17
    (2, 14, 37.157805),  # CQI 15, e = 7.4063
    (3, 0, -10.0),       # CQI 1, e = 0.0586: -11.5464 dB, below SINR_MIN -> -10
    (3, 1, -9.226919),   # CQI 2, e = 0.0977
])
def test_cqi_thresholds_hand_values(table, index, expected_db):
    assert float(cqi_sinr_thresholds_db(table=table)[index]) == pytest.approx(expected_db, abs=HAND_ATOL)


@pytest.mark.parametrize(("sinr_db", "table", "cqi"), [
    (-12.0, 1, 0), (0.0, 1, 3), (20.0, 1, 12), (30.0, 1, 15),   # 0.6 bit/s/Hz < CQI 4's 0.6016 at 0 dB
    (20.0, 2, 9),                                                 # 3.9949 >= 3.9023 (CQI 9), < 4.5234
    (-10.0, 3, 1),                                                # 0.0825 >= 0.0586, < 0.0977
    (-10.5, 3, 0),                                                # bound 0.0739 > 0.0586 but below SINR_MIN
])
def test_cqi_from_sinr_hand_values(sinr_db, table, cqi):
    assert int(cqi_from_sinr(sinr_db, table=table)) == cqi


def test_cqi_of_nan_is_zero_and_shape_is_kept():
    out = cqi_from_sinr(np.array([[np.nan, 5.0], [100.0, -50.0]], dtype=np.float32))
    assert out.shape == (2, 2) and out.dtype == np.int64
    # 5 dB: 0.6 log2(1 + 3.16228) = 0.6 x 2.05739 = 1.23443 -> CQI 6 (1.1758 <= 1.2344 < 1.4766)
    assert out.tolist() == [[0, 6], [15, 0]]


@given(st.floats(-30.0, 60.0), st.sampled_from([1, 2, 3]))
def test_cqi_is_the_highest_whose_efficiency_the_bound_reaches(sinr_db, table):
    thr = cqi_sinr_thresholds_db(table=table)
    if np.min(np.abs(thr - sinr_db)) < 1e-9:
        return                                            # exactly on a threshold: both sides are right
    bound = float(attenuated_shannon_efficiency_bps_hz(sinr_db, max_efficiency_bps_hz=np.inf))
    eff = CQI_TABLES[table][:, EFFICIENCY_BPS_HZ]
    expected = int(np.count_nonzero(eff <= bound)) if sinr_db >= -10.0 else 0
    assert int(cqi_from_sinr(sinr_db, table=table)) == expected


@given(st.floats(-30.0, 60.0), st.floats(-30.0, 60.0))
def test_cqi_never_decreases_with_sinr(a, b):
    lo, hi = sorted((a, b))
    assert cqi_from_sinr(lo) <= cqi_from_sinr(hi)

# --------------------------------------------------------------------------------- spectral efficiency


@pytest.mark.parametrize(("sinr_db", "method", "table", "expected"), [
    (0.0, "cqi", 1, 0.3770), (20.0, "cqi", 1, 3.9023), (20.0, "cqi", 2, 3.9023), (-20.0, "cqi", 1, 0.0),
    (40.0, "cqi", 1, 5.5547), (40.0, "cqi", 2, 7.4063), (40.0, "cqi", 3, 4.5234),
    (20.0, "shannon", 1, 3.994927), (40.0, "shannon", 1, 5.5547), (40.0, "shannon", 2, 7.4063),
])
def test_spectral_efficiency_hand_values(sinr_db, method, table, expected):
    got = float(spectral_efficiency_bps_hz(sinr_db, method=method, table=table))
    assert got == pytest.approx(expected, abs=HAND_ATOL)


@given(st.floats(-30.0, 60.0), st.sampled_from([1, 2, 3]))
def test_cqi_efficiency_never_beats_the_capped_bound(sinr_db, table):
    cqi = float(spectral_efficiency_bps_hz(sinr_db, method="cqi", table=table))
    shannon = float(spectral_efficiency_bps_hz(sinr_db, method="shannon", table=table))
    assert cqi <= shannon + 1e-12


def test_float32_map_stays_float32_and_nan_stays_nan():
    sinr = np.array([[np.nan, 20.0], [0.0, -30.0]], dtype=np.float32)
    for method in ("cqi", "shannon"):
        eff = spectral_efficiency_bps_hz(sinr, method=method)
        assert eff.dtype == np.float32 and eff.shape == (2, 2)
        assert np.isnan(eff[0, 0]) and np.all(np.isfinite(eff[[0, 1, 1], [1, 0, 1]]))
        rate = downlink_throughput_bps(sinr, 273, 30, method=method)
        assert rate.dtype == np.float32 and np.isnan(rate[0, 0]) and rate[1, 1] == 0.0


def test_integer_and_list_inputs_work():
    assert float(spectral_efficiency_bps_hz(20)) == pytest.approx(3.9023)
    assert spectral_efficiency_bps_hz([0, 20]).tolist() == pytest.approx([0.377, 3.9023])

# ------------------------------------------------------------------------------------------- rates


@pytest.mark.parametrize("row", PEAK_ROWS, ids=lambda r: r["case"])
def test_peak_rate_matches_hand_worked_ts38306(row):
    got = peak_data_rate_bps(int(row["n_prb"]), float(row["scs_khz"]), layers=int(row["layers"]),
                             modulation_order=int(row["modulation_order"]),
                             scaling_factor=float(row["scaling_factor"]),
                             frequency_range=row["frequency_range"], direction=row["direction"])
    assert got == pytest.approx(float(row["rate_bps"]), rel=1e-12)


def test_downlink_throughput_hand_value():
    # 20 dB -> CQI 12 of table 1 (3.9023 bit/s/Hz) x 78 886 080 RE/s = 307 837 149.98 bit/s
    assert float(downlink_throughput_bps(20.0, 273, 30)) == pytest.approx(307_837_149.98, rel=1e-9)
    # attenuated Shannon: 3.994927 x 78 886 080 = 315 144 122 bit/s
    assert float(downlink_throughput_bps(20.0, 273, 30, method="shannon")) == pytest.approx(
        315_144_122.2, rel=1e-8)
    assert float(downlink_throughput_bps(20.0, 273, 30, layers=2)) == pytest.approx(2 * 307_837_149.98, rel=1e-9)


def test_throughput_at_top_cqi_is_the_peak_rate():
    # CQI 15 of table 2 prints 8 x 948/1024 = 7.40625 as 7.4063: relative difference 6.8e-6
    top = float(downlink_throughput_bps(60.0, 273, 30, table=2, layers=4))
    assert top == pytest.approx(peak_data_rate_bps(273, 30, layers=4, modulation_order=8), rel=1e-5)


def test_fr2_overhead_is_used():
    fr1 = float(downlink_throughput_bps(20.0, 66, 120, frequency_range="FR1"))
    fr2 = float(downlink_throughput_bps(20.0, 66, 120, frequency_range="FR2"))
    assert fr2 / fr1 == pytest.approx(0.82 / 0.86)


def test_data_rate_is_linear_in_efficiency():
    assert float(data_rate_bps(1.0, 273, 30)) == pytest.approx(RE_PER_SECOND_273_30_FR1_DL)
    assert_allclose(data_rate_bps(np.array([0.0, 2.0]), 273, 30), [0.0, 2 * RE_PER_SECOND_273_30_FR1_DL])


@given(st.floats(-40.0, 60.0), st.floats(-40.0, 60.0), st.sampled_from(["cqi", "shannon"]),
       st.sampled_from([1, 2, 3]))
def test_throughput_never_decreases_with_sinr(a, b, method, table):
    lo, hi = sorted((a, b))
    kw = dict(method=method, table=table)
    assert downlink_throughput_bps(lo, 273, 30, **kw) <= downlink_throughput_bps(hi, 273, 30, **kw)


def test_large_map_is_vectorised():
    sinr = np.random.default_rng(1).uniform(-15, 35, size=(500, 800)).astype(np.float32)
    rate = downlink_throughput_bps(sinr, 273, 30)
    assert rate.shape == sinr.shape and rate.dtype == np.float32
    i = (123, 456)
    assert rate[i] == pytest.approx(float(downlink_throughput_bps(float(sinr[i]), 273, 30)), rel=1e-6)

# ------------------------------------------------------------------------------------------ messages


def test_option_errors_list_the_choices():
    with pytest.raises(InvalidChoiceError, match=r"table=4 is not one of 1, 2, 3 \(CQI tables of TS 38\.214"):
        cqi_from_sinr(10.0, table=4)
    with pytest.raises(InvalidChoiceError, match=r"method='mi' is not one of 'cqi', 'shannon'"):
        spectral_efficiency_bps_hz(10.0, method="mi")
    with pytest.raises(InvalidChoiceError, match=r"scaling_factor=0\.9 is not one of 1\.0, 0\.8, 0\.75, 0\.4"):
        peak_data_rate_bps(273, 30, scaling_factor=0.9)
    with pytest.raises(InvalidChoiceError, match=r"modulation_order=3 is not one of 1, 2, 4, 6, 8, 10"):
        peak_data_rate_bps(273, 30, modulation_order=3)
    with pytest.raises(InvalidChoiceError, match=r"direction='SL' is not one of 'DL', 'UL'"):
        peak_data_rate_bps(273, 30, direction="SL")
    with pytest.raises(InvalidChoiceError, match=r"scs_khz=45 is not one of"):
        peak_data_rate_bps(273, 45)


def test_range_errors_name_the_parameter():
    with pytest.raises(OutOfValidityRangeError, match=r"layers=9 is outside \[1, 8\].*TS 38\.306 4\.1\.2"):
        downlink_throughput_bps(10.0, 273, 30, layers=9)
    with pytest.raises(OutOfValidityRangeError, match=r"n_prb=300 is outside \[1, 275\]"):
        downlink_throughput_bps(10.0, 300, 30)
    with pytest.raises(OutOfValidityRangeError, match=r"alpha=0 is outside"):
        attenuated_shannon_efficiency_bps_hz(10.0, alpha=0.0)


@pytest.mark.parametrize("table", [1, 2, 3])
def test_float32_maps_get_exactly_the_float64_cqi_at_every_threshold(table):
    # float32 values straddling each threshold: the float32 fast path must agree with float64
    thr32 = cqi_sinr_thresholds_db(table=table).astype(np.float32)
    near = np.concatenate([np.nextafter(thr32, np.float32(-np.inf)), thr32, np.nextafter(thr32, np.float32(np.inf))])
    assert np.array_equal(cqi_from_sinr(near, table=table), cqi_from_sinr(near.astype(np.float64), table=table))
    assert np.array_equal(spectral_efficiency_bps_hz(near, table=table),
                          spectral_efficiency_bps_hz(near.astype(np.float64), table=table).astype(np.float32))
