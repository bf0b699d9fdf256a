"""TR 38.901 7.8.1 large-scale calibration: properties of the drop and comparison with 3GPP results.

Published values: src/cellscape/io/data/tr38901_calibration_published.csv, the median over the companies
of 3GPP R1-165974 (TR 38.900 V14.0.0 parameters) as tabulated by QuaDRiGa
(fraunhoferhhi/QuaDRiGa, tutorials/calib_3GPP_ref_data.m); see docs/validation.md.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from numpy.testing import assert_allclose
import pytest

from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError
from cellscape.scenario.records import AntennaSpec
from cellscape.simulation.calibration import METRICS, PERCENTILES, run_calibration

from cellscape.io.calibration_report import PUBLISHED_CSV as REFERENCE


def _published(scenario, fc_ghz, metric):
    with REFERENCE.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["scenario"] == scenario and float(r["fc_ghz"]) == fc_ghz
                and r["metric"] == metric]
    rows.sort(key=lambda r: int(r["percentile"]))
    return np.array([int(r["percentile"]) for r in rows]), np.array([float(r["value"]) for r in rows])


@pytest.fixture(scope="module")
def uma_6():
    return run_calibration("UMa", 6.0, n_drops=8000, rng=np.random.default_rng(11))


def test_same_seed_same_numbers_other_seed_other_numbers():
    a = run_calibration("UMi", 30.0, n_drops=300, rng=np.random.default_rng(7))
    b = run_calibration("UMi", 30.0, n_drops=300, rng=np.random.default_rng(7))
    c = run_calibration("UMi", 30.0, n_drops=300, rng=np.random.default_rng(8))
    assert_allclose(a.coupling_loss_db, b.coupling_loss_db, rtol=0, atol=0)
    assert not np.allclose(a.coupling_loss_db, c.coupling_loss_db)


def test_drop_respects_min_distance_indoor_share_and_floor_heights(uma_6):
    r = uma_6
    lay = r.layout
    from cellscape.scenario.layouts import wrapped_offsets_m
    d = np.hypot(*wrapped_offsets_m(r.ue_x_m, r.ue_y_m, lay)).min(axis=0)
    assert d.min() >= 35.0                                              # Table 7.8-1 UMa minimum
    # 80 % indoor: binomial, n = 8000, 4 sigma = 0.018
    assert abs(r.indoor.mean() - 0.8) < 0.018
    assert np.all(r.h_ut_m[~r.indoor] == 1.5)
    floors = (r.h_ut_m[r.indoor] - 1.5) / 3.0 + 1.0
    assert set(np.unique(floors)) <= set(range(1, 9)) and floors.max() == 8


def test_wrap_around_spreads_serving_sectors_evenly(uma_6):
    """Without wrap-around the outer sectors would serve fewer UEs; with it every sector is alike."""
    counts = np.bincount(uma_6.serving_sector, minlength=57)           # expected 140 each
    assert counts.min() > 0.6 * 8000 / 57 and counts.max() < 1.5 * 8000 / 57


def test_geometry_is_nearly_frequency_independent_and_coupling_loss_shifts_by_20_log_f():
    """Same seed at 6 and 30 GHz: identical draws. Every UMa link loses 20 log10(5) = 13.98 dB more,
    except LOS links beyond the breakpoint d'_BP (960 m at 6 GHz for a 1.5 m UE, proportional to fc)
    and NLOS links where max(PL_LOS, PL'_NLOS) switches branch; O2I changes with fc but equally for
    all links of a UE. So the SIR is unchanged for most UEs, and outdoor UEs (served by near,
    pre-breakpoint links) see their coupling loss rise by exactly 13.98 dB."""
    a = run_calibration("UMa", 6.0, n_drops=2000, rng=np.random.default_rng(5))
    b = run_calibration("UMa", 30.0, n_drops=2000, rng=np.random.default_rng(5))
    same = np.isclose(a.geometry_sir_db, b.geometry_sir_db, rtol=0, atol=1e-9)
    assert same.mean() > 0.9
    assert abs(np.median(a.geometry_sir_db) - np.median(b.geometry_sir_db)) < 0.1
    out = ~a.indoor
    assert_allclose(b.coupling_loss_db[out] - a.coupling_loss_db[out], 20 * np.log10(5.0), atol=1e-9)
    assert np.all(b.coupling_loss_db[~out] - a.coupling_loss_db[~out] > 20 * np.log10(5.0))


def test_noise_only_lowers_geometry_and_matters_at_30_ghz_uma():
    r = run_calibration("UMa", 30.0, n_drops=2000, rng=np.random.default_rng(2))
    assert np.all(r.geometry_sinr_db <= r.geometry_sir_db + 1e-12)
    # 35 dBm over 100 MHz (noise -85 dBm): a median UE at ~140 dB coupling loss is noise-limited
    assert np.median(r.geometry_sinr_db) < np.median(r.geometry_sir_db) - 10.0
    assert_allclose(r.noise_dbm, -174 + 80 + 9)


def test_indoor_office_runs_all_ues_in_the_hall():
    r = run_calibration("InH-office-mixed", 30.0, n_drops=1000, rng=np.random.default_rng(1))
    assert np.all(np.abs(r.ue_x_m) <= 60) and np.all(np.abs(r.ue_y_m) <= 25)
    assert np.all(r.h_ut_m == 1.0) and r.layout.n_sectors == 36
    assert np.all(np.isfinite(r.coupling_loss_db)) and r.tx_power_dbm == 24.0


def test_percentile_rows_cover_every_metric_and_are_monotonic(uma_6):
    rows = uma_6.percentiles()
    assert len(rows) == len(METRICS) * len(PERCENTILES)
    for metric in METRICS:
        values = [r.value for r in rows if r.metric == metric]
        assert [r.percentile for r in rows if r.metric == metric] == list(range(5, 100, 5))
        assert np.all(np.diff(values) >= 0)
        assert_allclose(values[9], np.median(getattr(uma_6, metric)))


def test_bad_environment_frequency_and_count_raise_with_the_choices():
    with pytest.raises(InvalidChoiceError, match=r"environment='RMa' is not one of 'UMa', 'UMi'"):
        run_calibration("RMa", 6.0, n_drops=10, rng=np.random.default_rng(0))
    with pytest.raises(InvalidChoiceError, match=r"fc_ghz=3.5 is not one of 6, 30, 70"):
        run_calibration("UMa", 3.5, n_drops=10, rng=np.random.default_rng(0))
    with pytest.raises(OutOfValidityRangeError, match=r"n_drops=0 is outside \[1, inf\]"):
        run_calibration("UMa", 6.0, n_drops=0, rng=np.random.default_rng(0))


# --------------------------------------------------------------------------- published comparison
# Tolerances on |ours - published| per percentile (5..95). The published spread between companies
# is not available to us (only their median, via QuaDRiGa), so these are regression bounds with
# a stated budget, not a published spread:
# - sampling: with 20 000 UEs the standard error of a 5 % / 95 % coupling-loss percentile is about
#   0.3 dB (sqrt(p (1 - p) / n) / pdf), of a geometry percentile about 0.1 dB;
# - the reference is the median over companies, rounded to 0.1 dB, of runs with TR 38.900 V14.0.0
#   parameters, while we run the TR 38.901 V18 formulas;
# - measured worst gaps (docs/validation.md): 1.4 dB coupling loss (UMi median, a systematic
#   -1.1 dB offset at every frequency, unexplained), 0.2 dB geometry.
# A configuration error the comparison must catch, d_V = 0.8 instead of 0.5 wavelength, misses by
# 4.5 to 6.3 dB (coupling loss) and 1.6 to 4.5 dB (geometry) at 6 GHz (see the last test).
CL_TOLERANCE_DB = 2.0
GEOMETRY_TOLERANCE_DB = 1.0
N_UES = 20_000


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["UMa", "UMi", "InH-office-open"])
@pytest.mark.parametrize("fc_ghz", [6.0, 30.0])
def test_percentiles_lie_within_tolerance_of_published_3gpp_median(scenario, fc_ghz):
    r = run_calibration(scenario, fc_ghz, n_drops=N_UES, rng=np.random.default_rng(20250101))
    p, cl = _published(scenario, fc_ghz, "coupling_loss_db")
    _, gf = _published(scenario, fc_ghz, "geometry_sir_db")
    assert p.tolist() == list(PERCENTILES)
    assert_allclose(np.percentile(r.coupling_loss_db, p), cl, atol=CL_TOLERANCE_DB, rtol=0)
    assert_allclose(np.percentile(r.geometry_sir_db, p), gf, atol=GEOMETRY_TOLERANCE_DB, rtol=0)


@pytest.mark.slow
def test_the_comparison_catches_a_wrong_element_spacing():
    wrong = AntennaSpec(n_rows=10, row_spacing_wavelengths=0.8)
    r = run_calibration("UMa", 6.0, n_drops=N_UES, rng=np.random.default_rng(20250101), antenna=wrong)
    p, gf = _published("UMa", 6.0, "geometry_sir_db")
    gap = np.abs(np.percentile(r.geometry_sir_db, p) - gf)
    assert gap.max() > 2 * GEOMETRY_TOLERANCE_DB
