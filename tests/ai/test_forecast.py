"""Load forecasting (cellscape.ai.forecast): baseline and errors by hand, accuracy vs baseline, holdout hygiene."""

import numpy as np
import pytest

from cellscape.ai.forecast import (
    AUTO_MODEL,
    MODELS,
    evaluate_holdout,
    forecast_errors,
    forecast_load,
    profile_forecast,
    seasonal_naive,
)
from cellscape.ai.loadgen import CELL_TYPES, generate_load_history
from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError

STEP_S = 3600.0  # hourly samples keep the statsforecast models fast in tests
WEEK = 168


def _noisy_history(n_days=28, seed=5):
    peak = np.array([0.8, 0.5, 0.7, 0.3, 0.9, 0.6])
    types = np.array(CELL_TYPES)[np.arange(peak.size) % 3]
    return generate_load_history(peak, types, n_days=n_days, step_s=STEP_S, noise_std=0.1, seed=seed).load


def test_seasonal_naive_by_hand():
    hist = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [0.0, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5]])
    # season 3: the last season is [5, 6, 7]; h = 0..4 -> 5, 6, 7, 5, 6
    out = seasonal_naive(hist, season_steps=3, horizon_steps=5)
    np.testing.assert_array_equal(out, [[5.0, 6.0, 7.0, 5.0, 6.0], [0.3, 0.4, 0.5, 0.3, 0.4]])
    assert seasonal_naive([1.0, 2.0], season_steps=1, horizon_steps=2).tolist() == [[2.0, 2.0]]
    with pytest.raises(OutOfValidityRangeError, match="season_steps"):
        seasonal_naive(hist, season_steps=8, horizon_steps=1)
    with pytest.raises(OutOfValidityRangeError, match="horizon_steps"):
        seasonal_naive(hist, season_steps=2, horizon_steps=0)


def test_forecast_errors_by_hand():
    actual = np.array([[0.5, 0.2, 0.01, 0.4], [0.1, 0.1, 0.1, 0.1]])
    pred = np.array([[0.4, 0.3, 0.03, 0.4], [0.2, 0.1, 0.1, 0.0]])
    e = forecast_errors(actual, pred)
    # |errors|: cell 0: .1 .1 .02 0 -> MAE .055; cell 1: .1 0 0 .1 -> MAE .05; overall (.22 + .2) / 8
    np.testing.assert_allclose(e["per_cell"]["mae"], [0.055, 0.05])
    assert e["mae"] == pytest.approx(0.42 / 8)
    # MAPE excludes actual < 0.05 (the 0.01): cell 0: (.1/.5 + .1/.2 + 0/.4) / 3 = 23.33 %; cell 1: (1+0+0+1)/4
    np.testing.assert_allclose(e["per_cell"]["mape_pct"], [70.0 / 3, 50.0])
    assert e["mape_pct"] == pytest.approx(100 * (0.2 + 0.5 + 0.0 + 1 + 0 + 0 + 1) / 7)
    assert e["mape_fraction_used"] == pytest.approx(7 / 8)
    quiet = forecast_errors([[0.01, 0.02]], [[0.0, 0.0]])
    assert np.isnan(quiet["mape_pct"]) and np.isnan(quiet["per_cell"]["mape_pct"][0])
    with pytest.raises(OutOfValidityRangeError, match="differ in shape"):
        forecast_errors(actual, pred[:, :2])


def test_profile_forecast_by_hand():
    day = 24  # hourly
    week = np.tile(np.r_[np.full(12, 0.2), np.full(12, 0.6)], 7)
    odd = week.copy()
    odd[:day] = 0.9  # one odd Monday: the median of three weeks ignores it
    hist = np.r_[week, odd, week]
    out = profile_forecast(hist, step_s=STEP_S, horizon_steps=WEEK + 3)
    np.testing.assert_allclose(out[0], np.r_[week, week[:3]])


def test_models_listed_and_auto():
    assert "auto" in MODELS and "seasonal_naive" in MODELS and AUTO_MODEL in MODELS
    with pytest.raises(InvalidChoiceError, match="seasonal_naive"):
        forecast_load(np.zeros((1, WEEK)), step_s=STEP_S, horizon_steps=2, model="prophet")
    with pytest.raises(OutOfValidityRangeError, match="at least one week"):
        forecast_load(np.zeros((1, WEEK - 1)), step_s=STEP_S, horizon_steps=2)
    with pytest.raises(OutOfValidityRangeError, match="does not divide"):
        forecast_load(np.zeros((1, WEEK)), step_s=7000.0, horizon_steps=2)


@pytest.mark.parametrize("model", ["auto", "profile", "window_average", "seasonal_es"])
def test_models_beat_or_match_seasonal_naive_on_noisy_history(model):
    load = _noisy_history()
    ev = evaluate_holdout(load, step_s=STEP_S, holdout_steps=WEEK, model=model)
    assert ev.forecast.shape == ev.actual.shape == ev.baseline.shape == (6, WEEK)
    assert np.all((ev.forecast >= 0.0) & (ev.forecast <= 1.0))
    # the noise-averaging models must not be worse than repeating last week (5 % tolerance)
    assert ev.errors["mae"] <= 1.05 * ev.baseline_errors["mae"]
    assert ev.errors["mape_pct"] <= 1.05 * ev.baseline_errors["mape_pct"]


def test_auto_clearly_beats_baseline_on_noise():
    ev = evaluate_holdout(_noisy_history(seed=11), step_s=STEP_S, holdout_steps=WEEK)
    assert ev.model == AUTO_MODEL
    assert ev.errors["mae"] < 0.9 * ev.baseline_errors["mae"]


def test_seasonal_naive_model_is_the_baseline():
    ev = evaluate_holdout(_noisy_history(), step_s=STEP_S, holdout_steps=48, model="seasonal_naive")
    np.testing.assert_array_equal(ev.forecast, ev.baseline)
    assert ev.errors["mae"] == ev.baseline_errors["mae"]


@pytest.mark.parametrize("model", ["auto", "seasonal_es"])
def test_holdout_never_used_in_training(model):
    load = _noisy_history()
    altered = load.copy()
    altered[:, -WEEK:] = 1.0 - altered[:, -WEEK:]  # anything in the holdout
    a = evaluate_holdout(load, step_s=STEP_S, holdout_steps=WEEK, model=model)
    b = evaluate_holdout(altered, step_s=STEP_S, holdout_steps=WEEK, model=model)
    np.testing.assert_array_equal(a.forecast, b.forecast)
    np.testing.assert_array_equal(a.baseline, b.baseline)
    assert a.errors["mae"] != b.errors["mae"]  # ... while the scores are on the holdout
    np.testing.assert_array_equal(b.actual, altered[:, -WEEK:])
    assert a.train_steps == load.shape[1] - WEEK


def test_holdout_too_long_for_a_training_week():
    load = _noisy_history(n_days=10)
    with pytest.raises(OutOfValidityRangeError, match="too short"):
        evaluate_holdout(load, step_s=STEP_S, holdout_steps=4 * 24)


def test_constant_cell_forecast_is_constant():
    load = np.vstack([np.full(2 * WEEK, 0.3), _noisy_history(n_days=14)[0]])
    out = forecast_load(load, step_s=STEP_S, horizon_steps=24, model="seasonal_es")
    np.testing.assert_allclose(out[0], 0.3)


# ---- the simulation-driven generator (cellscape.pipeline.forecast) -----------------------------------------

X0, Y0 = 385_000.0, 6_671_000.0


def _tiny_simulation(users):
    from cellscape.scenario.model import parse_scenario
    from cellscape.scenario.simulation import parse_simulation

    sites = [{"site_id": f"S{i}", "x": X0 + 150 + 300 * i, "y": Y0 + 200, "height_m": 25,
              "sectors": [{"azimuth_deg": 90, "tx_power_dbm": 46}]} for i in range(2)]
    sc = parse_scenario({"name": "tiny", "seed": 3, "environment": "UMa",
                         "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 600, Y0 + 400], "resolution_m": 10},
                         "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30}, "sites": sites})
    return parse_simulation({"simulation": {"users": users, "seed": 7}}, sc)


def test_cell_demand_from_simulation_groups_and_loads():
    from cellscape.pipeline.forecast import cell_demand_of_simulation, synthesize_history

    sim = _tiny_simulation([
        # 30 office users in a hotspot next to site S0, 10 home users spread uniformly
        {"name": "office-workers", "count": 30,
         "drop": {"kind": "hotspot", "hotspots": [{"x": X0 + 100, "y": Y0 + 200, "radius_m": 60}]}},
        {"name": "home-users", "count": 10},
    ])
    d = cell_demand_of_simulation(sim, backend="numpy")
    assert d.cell_id.size == 2 and all(c.startswith(("S0", "S1")) for c in d.cell_id.tolist())
    assert d.users.sum() == pytest.approx(40.0)
    s0 = int(np.argmax(d.users))
    assert d.users[s0] > 30.0  # the whole hotspot plus part of the uniform users
    # busy-hour load = 0.5 x users / mean users, capped at 1, floored at 0.02
    np.testing.assert_allclose(d.peak_load, np.clip(0.5 * d.users / d.users.mean(), 0.02, 1.0))
    assert d.cell_type[s0] == "business" and d.cell_type[1 - s0] == "residential"
    assert d.type_rule.tolist() == ["groups", "groups"]
    h = synthesize_history(d, n_days=7, seed=1)
    assert h.cell_id.tolist() == d.cell_id.tolist() and h.load.shape == (2, 672)


def test_cell_type_from_building_density_without_typed_groups():
    from cellscape.pipeline.forecast import cell_demand_of_simulation

    sim = _tiny_simulation([{"name": "phones", "count": 20}])
    d = cell_demand_of_simulation(sim, backend="numpy")
    assert set(d.type_rule.tolist()) == {"building_density"}
    assert np.all(d.building_share == 0.0)  # no buildings in this scenario: ties ranked by sector order
    assert set(d.cell_type.tolist()) <= {"business", "residential", "transport"}
    np.testing.assert_allclose(d.peak_load, np.clip(0.5 * d.users / d.users.mean(), 0.02, 1.0))


@pytest.mark.parametrize("n_days", [10, 15])  # under two weeks MSTL takes the daily season only
def test_mstl_runs_on_a_short_hourly_history(n_days):
    hist = _noisy_history(n_days=n_days)[:1]
    out = forecast_load(hist, step_s=STEP_S, horizon_steps=48, model="mstl")
    assert out.shape == (1, 48) and np.all((out >= 0.0) & (out <= 1.0))
    base = seasonal_naive(hist, season_steps=WEEK, horizon_steps=48)
    assert np.abs(out - base).mean() < 0.1  # the same daily shape, not a flat line
    assert out.std() > 0.05
