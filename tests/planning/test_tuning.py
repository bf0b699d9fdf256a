"""Sector tuning by compass search: known optima, wrap-around, bounds, masks, memo, budgets, a toy network."""

import math

from hypothesis import given, settings, strategies as st
import numpy as np
from numpy.testing import assert_allclose
import pytest

from cellscape.errors import CellscapeError
from cellscape.planning.tuning import (
    PARAMETERS,
    SectorSettings,
    TuningBounds,
    TuningError,
    covered_demand_kpi,
    sinr_percentile_kpi,
    tune_sectors,
)


def angle_diff_deg(a, b):
    """Signed difference a - b wrapped to [-180, 180)."""
    return (np.asarray(a, float) - b + 180.0) % 360.0 - 180.0


def quadratic(az_opt, tilt_opt, power_opt):
    """A separable concave KPI with its maximum (0) at the given settings (azimuth circular)."""
    def kpi(s):
        return -float(np.sum((angle_diff_deg(s.azimuth_deg, az_opt) / 10.0) ** 2
                             + (s.elec_tilt_deg - tilt_opt) ** 2 + (s.tx_power_dbm - power_opt) ** 2))
    return kpi


class Recorder:
    """Wraps an objective; keeps every settings it was called with."""

    def __init__(self, f):
        self.f = f
        self.calls = []

    def __call__(self, s):
        self.calls.append(s)
        return self.f(s)


def replay(initial, history):
    s = initial
    for row in history:
        assert float(getattr(s, row["parameter"])[row["sector"]]) == row["old"]
        s = s.with_value(row["parameter"], row["sector"], row["new"])
    return s


# --------------------------------------------------------------------------------------------------
# Known optima


def test_separable_quadratic_reaches_the_maximiser_within_half_the_minimum_step():
    az_opt = np.array([47.3, 171.1, 301.7])
    tilt_opt = np.array([3.3, 7.8, 11.2])
    power_opt = np.array([42.6, 45.1, 47.7])
    start = SectorSettings(azimuth_deg=[30.0, 150.0, 280.0], elec_tilt_deg=[6.0, 6.0, 6.0],
                           tx_power_dbm=[46.0, 46.0, 46.0])
    bounds = TuningBounds()
    r = tune_sectors(quadratic(az_opt, tilt_opt, power_opt), start, bounds=bounds, max_evaluations=1000)
    assert r.stopped == "converged"
    # converged = no +-min-step move along any coordinate improves; for a separable quadratic that puts
    # each coordinate within min_step / 2 of its maximiser (the 1e-9 is the acceptance tolerance)
    assert np.all(np.abs(angle_diff_deg(r.settings.azimuth_deg, az_opt)) <= bounds.azimuth_min_step_deg / 2 + 1e-9)
    assert np.all(np.abs(r.settings.elec_tilt_deg - tilt_opt) <= bounds.tilt_min_step_deg / 2 + 1e-9)
    assert np.all(np.abs(r.settings.tx_power_dbm - power_opt) <= bounds.power_min_step_db / 2 + 1e-9)
    assert r.kpi_after > r.kpi_before
    assert r.kpi_gain == pytest.approx(r.kpi_after - r.kpi_before)
    assert [row["sector"] for row in r.changes()] == [0, 1, 2]


def test_history_replays_to_the_result_and_the_kpi_rises_strictly():
    f = quadratic(np.array([80.0, 200.0]), np.array([9.0, 2.0]), np.array([41.0, 48.0]))
    start = SectorSettings(azimuth_deg=[60.0, 220.0], elec_tilt_deg=[4.0, 4.0], tx_power_dbm=[46.0, 46.0])
    r = tune_sectors(f, start, max_evaluations=1000)
    assert replay(start, r.history) == r.settings
    kpis = [r.kpi_before] + [row["kpi"] for row in r.history]
    assert all(b > a for a, b in zip(kpis, kpis[1:]))
    assert r.history[-1]["kpi"] == r.kpi_after == f(r.settings)
    assert r.initial == start


@pytest.mark.parametrize(("opt_deg", "max_change_deg", "expected_deg", "tol_deg"), [
    (345.0, 30.0, 345.0, 1.25),   # across north: 10 -> 350 -> 345, never -10 or 370
    (300.0, 30.0, 340.0, 1e-9),   # beyond the allowed change: stops at 10 - 30 = 340 exactly
    (190.0, 180.0, 190.0, 1.25),  # free azimuth (max change 180): reaches the far side
])
def test_azimuth_wraps_around_north_and_respects_the_largest_change(opt_deg, max_change_deg, expected_deg, tol_deg):
    start = SectorSettings(azimuth_deg=[10.0], elec_tilt_deg=[5.0], tx_power_dbm=[45.0])
    f = Recorder(quadratic(opt_deg, 5.0, 45.0))
    r = tune_sectors(f, start, bounds=TuningBounds(max_azimuth_change_deg=max_change_deg), max_evaluations=500,
                     parameters=("azimuth_deg",))
    az = float(r.settings.azimuth_deg[0])
    assert 0.0 <= az < 360.0
    assert abs(angle_diff_deg(az, expected_deg)) <= tol_deg
    for s in f.calls:   # every trial within the allowed change of the initial azimuth
        assert 0.0 <= s.azimuth_deg[0] < 360.0
        assert abs(angle_diff_deg(s.azimuth_deg[0], 10.0)) <= max_change_deg + 1e-9
    assert r.stopped == "converged"


def test_tilt_and_power_stop_at_their_bounds_when_the_optimum_lies_beyond():
    start = SectorSettings(azimuth_deg=[0.0, 0.0], elec_tilt_deg=[6.0, 6.0], tx_power_dbm=[46.0, 46.0])
    bounds = TuningBounds(tilt_range_deg=(0.0, [15.0, 10.0]), power_range_dbm=(40.0, 49.0), max_power_change_db=1.5)
    f = Recorder(quadratic(0.0, np.array([20.0, 20.0]), np.array([38.0, 60.0])))
    r = tune_sectors(f, start, bounds=bounds, max_evaluations=500)
    assert r.settings.elec_tilt_deg.tolist() == [15.0, 10.0]        # per-sector upper tilt limits, exactly
    assert r.settings.tx_power_dbm.tolist() == [44.5, 47.5]         # 46 -+ max_power_change_db
    for s in f.calls:
        assert np.all((s.elec_tilt_deg >= 0.0) & (s.elec_tilt_deg <= [15.0, 10.0]))
        assert np.all((s.tx_power_dbm >= 44.5) & (s.tx_power_dbm <= 47.5))


def test_tunable_mask_leaves_the_other_sectors_untouched():
    start = SectorSettings(azimuth_deg=[30.0, 370.0, 280.0], elec_tilt_deg=[6.0, 6.0, 6.0],
                           tx_power_dbm=[46.0, 46.0, 46.0])
    f = Recorder(quadratic(np.array([50.0, 50.0, 300.0]), 9.0, 43.0))
    r = tune_sectors(f, start, tunable=np.array([True, False, True]), max_evaluations=500)
    for s in f.calls:
        assert (s.azimuth_deg[1], s.elec_tilt_deg[1], s.tx_power_dbm[1]) == (370.0, 6.0, 46.0)
    assert [row["sector"] for row in r.changes()] == [0, 2]
    assert {row["sector"] for row in r.history} == {0, 2}


def test_no_setting_is_evaluated_twice():
    f = Recorder(quadratic(np.array([47.3, 171.1]), np.array([3.3, 7.8]), np.array([42.6, 45.1])))
    start = SectorSettings(azimuth_deg=[30.0, 150.0], elec_tilt_deg=[6.0, 6.0], tx_power_dbm=[46.0, 46.0])
    r = tune_sectors(f, start, max_evaluations=1000)
    keys = [tuple(np.round(np.concatenate([s.azimuth_deg % 360, s.elec_tilt_deg, s.tx_power_dbm]), 6))
            for s in f.calls]
    assert len(keys) == len(set(keys)) == r.evaluations
    assert f.calls[0] == start


def test_search_is_deterministic():
    f = quadratic(np.array([47.3, 171.1]), np.array([3.3, 7.8]), np.array([42.6, 45.1]))
    start = SectorSettings(azimuth_deg=[30.0, 150.0], elec_tilt_deg=[6.0, 6.0], tx_power_dbm=[46.0, 46.0])
    a, b = (tune_sectors(f, start, max_evaluations=1000) for _ in range(2))
    assert a.settings == b.settings and a.history == b.history and a.evaluations == b.evaluations


def test_sector_order_and_parameters_set_the_polling_order():
    f = quadratic(np.array([60.0, 60.0]), 6.0, 46.0)
    start = SectorSettings(azimuth_deg=[0.0, 0.0], elec_tilt_deg=[6.0, 6.0], tx_power_dbm=[46.0, 46.0])
    r = tune_sectors(f, start, sector_order=[1, 0], parameters=("azimuth_deg",), max_evaluations=100)
    assert r.history[0]["sector"] == 1
    assert {row["parameter"] for row in r.history} == {"azimuth_deg"}


# --------------------------------------------------------------------------------------------------
# Budgets and stopping


@pytest.mark.parametrize("budget", [1, 2, 5, 17])
def test_max_evaluations_is_respected(budget):
    f = Recorder(quadratic(np.array([47.3, 171.1]), np.array([3.3, 7.8]), np.array([42.6, 45.1])))
    start = SectorSettings(azimuth_deg=[30.0, 150.0], elec_tilt_deg=[6.0, 6.0], tx_power_dbm=[46.0, 46.0])
    r = tune_sectors(f, start, max_evaluations=budget)
    assert len(f.calls) == r.evaluations == budget
    assert r.stopped == "max_evaluations"
    assert r.kpi_after >= r.kpi_before
    if budget == 1:
        assert r.settings == start and r.history == []


def test_time_limit_stops_after_the_initial_evaluation():
    start = SectorSettings(azimuth_deg=[30.0], elec_tilt_deg=[6.0], tx_power_dbm=[46.0])
    r = tune_sectors(quadratic(50.0, 3.0, 44.0), start, time_limit_s=0.0)
    assert (r.stopped, r.evaluations, r.settings == start, r.kpi_after) == ("time_limit", 1, True, r.kpi_before)


def test_nothing_tunable_converges_at_once():
    start = SectorSettings(azimuth_deg=[30.0], elec_tilt_deg=[6.0], tx_power_dbm=[46.0])
    r = tune_sectors(quadratic(50.0, 3.0, 44.0), start, tunable=np.array([False]))
    assert (r.stopped, r.evaluations, r.sweeps) == ("converged", 1, 0)


# --------------------------------------------------------------------------------------------------
# Never worse than the start, on a rugged noisy KPI (property test)


def rugged(coef, noise_scale):
    """Nonconvex, with deterministic 'noise' (a hash of the settings) and NaN holes."""
    def kpi(s):
        az = np.deg2rad(s.azimuth_deg)
        smooth = np.sum(np.sin(coef[0] * az) + np.cos(coef[1] * s.elec_tilt_deg) + np.sin(coef[2] * s.tx_power_dbm))
        key = hash(tuple(np.round(np.concatenate([s.azimuth_deg % 360, s.elec_tilt_deg, s.tx_power_dbm]), 6)))
        noise = np.random.default_rng(key % (2**32)).standard_normal()
        if noise < -1.5:
            return math.nan   # NaN never counts as an improvement
        return float(smooth + noise_scale * noise)
    return kpi


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 3),
       coef=st.tuples(*(st.floats(0.5, 5.0),) * 3),
       noise_scale=st.floats(0.0, 2.0),
       az=st.floats(0.0, 359.0), tilt=st.floats(0.0, 15.0), power=st.floats(40.0, 49.0),
       budget=st.integers(1, 60))
def test_never_returns_worse_than_the_initial_setting(n, coef, noise_scale, az, tilt, power, budget):
    f = Recorder(rugged(coef, noise_scale))
    start = SectorSettings(azimuth_deg=np.full(n, az) + 120.0 * np.arange(n), elec_tilt_deg=np.full(n, tilt),
                           tx_power_dbm=np.full(n, power))
    if math.isnan(f(start)):
        return   # the initial KPI must be a number (tested below)
    f.calls.clear()
    r = tune_sectors(f, start, max_evaluations=budget)
    assert r.kpi_after >= r.kpi_before
    assert r.kpi_after == f.f(r.settings)
    assert r.evaluations == len(f.calls) <= budget
    assert r.stopped in ("converged", "max_evaluations")
    assert np.all((r.settings.elec_tilt_deg >= 0.0) & (r.settings.elec_tilt_deg <= 15.0))
    assert np.all((r.settings.tx_power_dbm >= 40.0) & (r.settings.tx_power_dbm <= 49.0))
    assert np.all(np.abs(angle_diff_deg(r.settings.azimuth_deg, start.azimuth_deg)) <= 60.0 + 1e-9)
    assert replay(start, r.history) == r.settings


# --------------------------------------------------------------------------------------------------
# A toy network: two sectors facing each other along a street


H_BS_M, H_UT_M = 30.0, 1.5
SITE_X_M = np.array([0.0, 1000.0])
PIXEL_X_M = np.linspace(10.0, 990.0, 197)        # the street between the two sites
NOISE_DBM = -174.0 + 10 * np.log10(20e6) + 7.0   # 20 MHz, 7 dB noise figure


def toy_sinr_db(s):
    """SINR along the street: 3GPP-like sector pattern (65 deg horizontal, 10 deg vertical beamwidth,
    30 dB front-to-back, 17 dBi), path loss 128.1 + 37.6 log10(d_km), best server, full load."""
    dx = PIXEL_X_M[None, :] - SITE_X_M[:, None]                               # (2, n_pixels)
    bearing = np.where(dx >= 0, 90.0, 270.0)                                  # east or west
    phi = angle_diff_deg(bearing, s.azimuth_deg[:, None])                     # (2, n_pixels)
    theta_down = np.degrees(np.arctan2(H_BS_M - H_UT_M, np.abs(dx)))          # (2, n_pixels)
    a_h = -np.minimum(12.0 * (phi / 65.0) ** 2, 30.0)
    a_v = -np.minimum(12.0 * ((theta_down - s.elec_tilt_deg[:, None]) / 10.0) ** 2, 30.0)
    gain_dbi = 17.0 - np.minimum(-(a_h + a_v), 30.0)
    d3d_km = np.hypot(dx, H_BS_M - H_UT_M) / 1000.0
    rx_mw = 10 ** ((s.tx_power_dbm[:, None] + gain_dbi - 128.1 - 37.6 * np.log10(d3d_km)) / 10)
    signal_mw = rx_mw.max(axis=0)
    interference_mw = rx_mw.sum(axis=0) - signal_mw
    return 10 * np.log10(signal_mw / (interference_mw + 10 ** (NOISE_DBM / 10)))


def test_toy_network_tuning_raises_the_cell_edge_sinr():
    # both sectors aimed 60 deg off the street (boresights 30 and 330 deg instead of 90 and 270), no tilt
    start = SectorSettings(azimuth_deg=[30.0, 330.0], elec_tilt_deg=[0.0, 0.0], tx_power_dbm=[46.0, 46.0])
    f = Recorder(lambda s: sinr_percentile_kpi(toy_sinr_db(s), q=5))
    r = tune_sectors(f, start, bounds=TuningBounds(max_azimuth_change_deg=180.0), max_evaluations=300)
    # the KPI is the 5th percentile of the SINR along the street, computed here independently
    assert r.kpi_before == pytest.approx(np.percentile(toy_sinr_db(start), 5), abs=1e-12)
    assert r.kpi_after == pytest.approx(np.percentile(toy_sinr_db(r.settings), 5), abs=1e-12)
    # from about 1.4 dB to about 5.2 dB: on this interference-limited line one dominant server beats two
    # cells that share a border at 0 dB, so the search turns sector 0 onto the street at full power, tilts
    # it, and turns sector 1 down (the street is short enough for one sector to cover it above the noise)
    assert r.kpi_after > r.kpi_before + 3.0
    assert abs(angle_diff_deg(r.settings.azimuth_deg[0], 90.0)) <= 20.0       # sector 0 turned to face the street
    assert r.settings.elec_tilt_deg[0] > 0.0
    assert {row["parameter"] for row in r.history} >= {"azimuth_deg", "elec_tilt_deg"}
    assert r.evaluations <= 300


# --------------------------------------------------------------------------------------------------
# KPI helpers


def test_sinr_percentile_matches_numpy_and_handles_nan_and_mask():
    rng = np.random.default_rng(1)
    sinr = rng.normal(5.0, 8.0, (20, 30))
    assert sinr_percentile_kpi(sinr) == pytest.approx(np.percentile(sinr, 5))
    assert sinr_percentile_kpi(sinr, q=50) == pytest.approx(np.median(sinr))
    mask = sinr > 0
    assert sinr_percentile_kpi(sinr, mask=mask) == pytest.approx(np.percentile(sinr[mask], 5))
    holes = sinr.copy()
    holes[:2] = np.nan                                         # 10 % unserved
    assert sinr_percentile_kpi(holes) == -np.inf               # counted as the worst
    assert sinr_percentile_kpi(holes, nan_policy="omit") == pytest.approx(np.nanpercentile(holes, 5))
    assert math.isnan(sinr_percentile_kpi([np.nan], nan_policy="omit"))


def test_covered_demand_counts_demand_where_rsrp_and_sinr_reach_their_thresholds():
    rsrp = np.array([[-80.0, -100.0], [-120.0, np.nan]])
    demand = np.array([[1.0, 2.0], [4.0, 8.0]])
    assert covered_demand_kpi(rsrp, demand, -110.0) == 3.0
    assert covered_demand_kpi(rsrp, demand, -100.0) == 3.0             # >= threshold counts
    sinr = np.array([[-8.0, 3.0], [9.0, np.nan]])
    assert covered_demand_kpi(rsrp, demand, -130.0, sinr_db=sinr, sinr_min_db=-5.0) == 6.0
    assert covered_demand_kpi(rsrp, demand, -110.0, normalize=True) == pytest.approx(3.0 / 15.0)
    mask = np.array([[False, True], [True, True]])
    assert covered_demand_kpi(rsrp, demand, -110.0, mask=mask, normalize=True) == pytest.approx(2.0 / 14.0)
    assert math.isnan(covered_demand_kpi(rsrp, np.zeros((2, 2)), -110.0, normalize=True))


# --------------------------------------------------------------------------------------------------
# Error messages name the parameter


def one_sector(**kw):
    values = {"azimuth_deg": [0.0], "elec_tilt_deg": [5.0], "tx_power_dbm": [46.0], **kw}
    return SectorSettings(**values)


@pytest.mark.parametrize(("make", "match"), [
    (lambda: one_sector(elec_tilt_deg=[5.0, 6.0]), r"elec_tilt_deg has shape \(2,\), but azimuth_deg has shape \(1,\)"),
    (lambda: one_sector(azimuth_deg=[[0.0]]), r"azimuth_deg must be a non-empty 1-D array"),
    (lambda: one_sector(tx_power_dbm=[np.nan]), r"tx_power_dbm must be finite"),
    (lambda: TuningBounds(tilt_step_deg=0.0), r"tilt_step_deg must be finite and > 0"),
    (lambda: TuningBounds(power_min_step_db=3.0), r"power_min_step_db=3.0 exceeds power_step_db=2.0"),
    (lambda: TuningBounds(max_azimuth_change_deg=200.0), r"max_azimuth_change_deg must lie in \[0, 180\]"),
    (lambda: TuningBounds(tilt_range_deg=(10.0, 5.0)), r"tilt_range_deg has low > high"),
    (lambda: TuningBounds(power_range_dbm=40.0), r"power_range_dbm must be a \(low, high\) pair"),
])
def test_record_errors_name_the_parameter(make, match):
    with pytest.raises(TuningError, match=match):
        make()


f0 = quadratic(0.0, 5.0, 46.0)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"initial": one_sector(elec_tilt_deg=[20.0])},
     r"initial elec_tilt_deg=20 of sector 0 is outside \[0, 15\] \(bounds.tilt_range_deg"),
    ({"initial": one_sector(tx_power_dbm=[30.0])}, r"initial tx_power_dbm=30 of sector 0 is outside \[40, 49\]"),
    ({"max_evaluations": 0}, r"max_evaluations must be an integer >= 1, got 0"),
    ({"tunable": np.array([1])}, r"tunable must be a bool array of shape \(1,\)"),
    ({"sector_order": [1]}, r"sector_order must be a permutation of range\(1\)"),
    ({"parameters": ("tilt_deg",)}, r"parameters='tilt_deg' is not one of 'azimuth_deg', 'elec_tilt_deg'"),
    ({"parameters": ("azimuth_deg", "azimuth_deg")}, r"parameters lists a parameter twice"),
    ({"bounds": TuningBounds(tilt_step_deg=np.array([1.0, 2.0]), tilt_min_step_deg=0.5)},
     r"tilt_step_deg must be a scalar or have shape \(1,\)"),
    ({"time_limit_s": -1.0}, r"time_limit_s must be >= 0"),
])
def test_tune_sectors_errors_name_the_parameter(kwargs, match):
    args = {"initial": one_sector(), **kwargs}
    with pytest.raises(CellscapeError, match=match):
        tune_sectors(f0, **args)


def test_evaluate_must_return_a_number_and_the_initial_kpi_must_not_be_nan():
    with pytest.raises(TuningError, match="evaluate returned NaN for the initial settings"):
        tune_sectors(lambda s: math.nan, one_sector())
    with pytest.raises(TuningError, match="evaluate must return a float, got str"):
        tune_sectors(lambda s: "high", one_sector())
    with pytest.raises(TuningError, match="evaluate must return a float, got ndarray"):
        tune_sectors(lambda s: np.array([1.0]), one_sector())


@pytest.mark.parametrize(("call", "match"), [
    (lambda: covered_demand_kpi(np.zeros(3), np.ones(4), -100.0), r"demand has shape \(4,\), but rsrp_dbm has shape \(3,\)"),
    (lambda: covered_demand_kpi(np.zeros(2), [1.0, -1.0], -100.0), r"demand must be finite and >= 0 \(1 of 2"),
    (lambda: covered_demand_kpi(np.zeros(2), np.ones(2), -100.0, sinr_db=np.zeros(2)),
     r"give sinr_db and sinr_min_db together"),
    (lambda: covered_demand_kpi(np.zeros(2), np.ones(2), -100.0, sinr_db=np.zeros(3), sinr_min_db=0.0),
     r"sinr_db has shape \(3,\), but rsrp_dbm has shape \(2,\)"),
    (lambda: covered_demand_kpi(np.zeros(2), np.ones(2), -100.0, mask=np.ones(3, bool)),
     r"mask must be a bool array of shape \(2,\)"),
    (lambda: sinr_percentile_kpi(np.zeros(3), q=[5, 10]), r"q must be a scalar percentile"),
    (lambda: sinr_percentile_kpi(np.zeros(3), q=105), r"q=105 is outside \[0, 100\]"),
    (lambda: sinr_percentile_kpi(np.zeros(3), nan_policy="zero"), r"nan_policy='zero' is not one of 'worst', 'omit'"),
    (lambda: sinr_percentile_kpi(np.zeros(3), mask=np.ones(2, bool)), r"mask must be a bool array of shape \(3,\)"),
])
def test_kpi_errors_name_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_settings_are_read_only_copies():
    az = np.array([10.0])
    s = one_sector(azimuth_deg=az)
    az[0] = 99.0
    assert s.azimuth_deg[0] == 10.0
    with pytest.raises(ValueError):
        s.azimuth_deg[0] = 5.0
    assert set(PARAMETERS) == {"azimuth_deg", "elec_tilt_deg", "tx_power_dbm"}
