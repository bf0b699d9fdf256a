"""RCS model 2 targets in ``cellscape sense`` (issue 13): the orientation-averaged RCS, its validation
and its effect on the maps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cellscape.errors import InvalidChoiceError, ScenarioError
from cellscape.pipeline.sense import run_sense
from cellscape.scenario.sensing import SensingSpec
from cellscape.sensing.rcs import (
    RCS_MODEL_1,
    RCS_MODEL_2,
    SENSING_TARGETS,
    orientation_averaged_rcs_dbsm,
    sensing_target_rcs_dbsm,
)

from cellscape.sensing.rcs_maps import heading_averaged_beta_db

from .test_sense_pipeline import scenario_dict, sensing_of


def _vehicle_single_by_hand(phi_deg: float) -> float:
    """Eq. 7.9.2-3 at beta = 0, theta = 90, Table 7.9.2.1-4 (k1, k2 do not matter at beta = 0)."""
    rows = {  # name: (phi_c, phi_3dB, theta_c, theta_3dB, G_max, sigma_max, phi range)
        "left": (90.0, 26.90, 79.70, 44.42, 20.75, 13.68, (45.0, 135.0)),
        "back": (180.0, 36.32, 79.65, 36.73, 14.56, 7.50, (135.0, 225.0)),
        "right": (270.0, 26.90, 79.70, 44.42, 20.75, 13.68, (225.0, 315.0)),
        "front": (0.0, 40.54, 71.75, 29.13, 15.52, 8.45, (-45.0, 45.0)),
    }
    for phc, ph3, thc, th3, gmax, smax, (lo, hi) in rows.values():
        if (phi_deg - lo) % 360.0 < hi - lo:
            d = (phi_deg - phc + 180.0) % 360.0 - 180.0
            sv = -min(12.0 * ((90.0 - thc) / th3) ** 2, smax)
            sh = -min(12.0 * (d / ph3) ** 2, smax)
            return max(gmax - min(-(sv + sh), smax), gmax - smax)
    raise AssertionError(phi_deg)


def test_vehicle_average_against_hand_computed_formula():
    n = 720
    phis = [(k + 0.5) * 360.0 / n for k in range(n)]
    mean_lin = sum(10.0 ** (_vehicle_single_by_hand(p) / 10.0) for p in phis) / n
    assert orientation_averaged_rcs_dbsm("vehicle_single", n_headings=n) == pytest.approx(
        10.0 * math.log10(mean_lin), abs=1e-9)
    # broadside: sigma_V only, 12 (10.3 / 44.42)^2 = 0.645 dB below G_max
    assert _vehicle_single_by_hand(90.0) == pytest.approx(20.75 - 12.0 * (10.3 / 44.42) ** 2)
    # the fine default grid converges to the same value
    assert sensing_target_rcs_dbsm("vehicle") == pytest.approx(10.0 * math.log10(mean_lin), abs=0.01)


def test_average_properties():
    for key in RCS_MODEL_2:
        avg = orientation_averaged_rcs_dbsm(key, n_headings=360)
        assert np.isfinite(avg)
        best = max(p.g_max_db for p in RCS_MODEL_2[key].points)
        worst = min(p.g_max_db - p.sigma_max_db for p in RCS_MODEL_2[key].points)
        n_pts = 1 if RCS_MODEL_2[key].single_point else len(RCS_MODEL_2[key].points)
        assert worst <= avg <= best + 10 * math.log10(n_pts)
    for key in RCS_MODEL_1:
        assert orientation_averaged_rcs_dbsm(key) == RCS_MODEL_1[key].rcs_mean_dbsm
    assert sensing_target_rcs_dbsm("vehicle") > sensing_target_rcs_dbsm("agv") > sensing_target_rcs_dbsm("human")
    with pytest.raises(InvalidChoiceError):
        sensing_target_rcs_dbsm("car")


def test_targets_of_the_block_are_the_sensing_targets():
    assert set(SensingSpec.model_fields["target"].annotation.__args__) == set(SENSING_TARGETS)
    assert set(SENSING_TARGETS.values()) <= set(RCS_MODEL_1) | set(RCS_MODEL_2)


def test_validation_messages_with_field_paths():
    for name in SENSING_TARGETS:
        assert sensing_of(scenario_dict(sensing={"target": name})).target == name
    with pytest.raises(ScenarioError, match=r"^sensing.target: Input should be 'human', 'uav_small', 'uav_large', "
                                            r"'vehicle' or 'agv', got 'truck'"):
        sensing_of(scenario_dict(sensing={"target": "truck"}))
    with pytest.raises(ScenarioError, match=r"^sensing.target_heading_deg: only RCS model 2 targets"):
        sensing_of(scenario_dict(sensing={"target": "uav_small", "target_heading_deg": 30}))


@pytest.fixture(scope="module")
def runs():
    return {t: run_sense(sensing_of(scenario_dict(sensing={"target": t, "mode": "both"})), backend="numpy")
            for t in ("human", "vehicle")}


def test_vehicle_run_finite_snr_and_larger_area(runs):
    v, h = runs["vehicle"], runs["human"]
    rcs_v = sensing_target_rcs_dbsm("vehicle")
    assert v.kpis["target"] == "vehicle" and v.kpis["rcs_dbsm"] == pytest.approx(rcs_v)
    for mode in ("monostatic", "bistatic"):
        snr_v, snr_h = v.maps[mode].sensing_snr_db, h.maps[mode].sensing_snr_db
        out = np.isfinite(snr_h)
        assert out.any() and np.array_equal(np.isfinite(snr_v), out)
        shift = snr_v[out] - snr_h[out]
        diff_db = rcs_v - RCS_MODEL_1["human"].rcs_mean_dbsm
        kv, kh = v.kpis[mode], h.kpis[mode]
        assert 0.0 < kh["sensed_area_km2"] < kv["sensed_area_km2"] < v.kpis["outdoor_area_km2"]   # bigger RCS
        assert kv["per_target"]["vehicle"]["sensed_area_km2"] == pytest.approx(kv["sensed_area_km2"])
        if mode == "monostatic":
            # one constant RCS each: the SNR map shifts by the RCS difference, and the human run's
            # vehicle KPIs are the vehicle run's
            np.testing.assert_allclose(shift, diff_db, atol=1e-3)
            assert kh["per_target"]["vehicle"]["sensed_area_km2"] == pytest.approx(kv["sensed_area_km2"])
        else:
            # bistatic echoes carry the bistatic angle: the human's (model 1) -3 sin(beta/2) in [-3, 0] dB
            # (eq. 7.9.2-2), the vehicle's heading-averaged term in [table min, 0] (eq. 7.9.2-3): not a
            # constant shift, so each run leaves the other model out of its bistatic KPIs
            _, term_v = heading_averaged_beta_db("vehicle")
            assert np.all(shift >= diff_db + term_v.min() - 1e-3) and np.all(shift <= diff_db + 3.0 + 1e-3)
            assert not np.allclose(shift, diff_db, atol=0.1)
            assert "vehicle" not in kh["per_target"] and "uav_small" in kh["per_target"]
            assert set(kv["per_target"]) == {"vehicle"}
    km = v.kpis["monostatic"]["per_target"]
    assert km["vehicle"]["sensed_area_km2"] >= km["agv"]["sensed_area_km2"] >= km["human"]["sensed_area_km2"]
    assert km["vehicle"]["sensed_area_km2"] >= km["uav_large"]["sensed_area_km2"] >= km["uav_small"]["sensed_area_km2"]
