"""NetworkEnv (cellscape.ai.env): the Gymnasium checker, seeding, documented shapes and action
semantics, the reward and energy against hand sums, and the threshold heuristic."""

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from cellscape.ai import power_model as pm
from cellscape.ai.env import (DISCRETE_ACTIONS, OBS_COLUMNS, NetworkEnv, RewardWeights, always_on_policy,
                              run_episode, threshold_policy)
from cellscape.ai.flow import FlowState
from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError

from .test_flow import hex_network

HOURLY = dict(step_s=3600.0)


@pytest.fixture(scope="module")
def net():
    return hex_network(n_points=150, seed=2)


@pytest.fixture(scope="module")
def rate(net):
    """The calibrated per-user rate, computed once (the bisection costs ~ a second)."""
    return NetworkEnv(net, **HOURLY).user_rate_bps


def make(net, rate, mode="discrete", **kw):
    return NetworkEnv(net, action_mode=mode, user_rate_bps=rate, **{**HOURLY, **kw})


@pytest.mark.parametrize("mode", ["discrete", "continuous"])
def test_passes_the_gymnasium_checker(net, rate, mode):
    env = make(net, rate, mode)
    check_env(env, skip_render_check=True)


def test_calibration_hits_the_busy_hour_load(net, rate):
    env = make(net, rate)
    from cellscape.ai.flow import evaluate

    res = evaluate(net, FlowState.default(net), env.busy_offered_bps, n_iter=50, tol=1e-8)
    assert res.sector_load.mean() == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("mode", ["discrete", "continuous"])
def test_seeded_and_deterministic(net, rate, mode):
    def rollout(seed):
        env = make(net, rate, mode)
        env.action_space.seed(11)
        obs, info = env.reset(seed=seed)
        out = [obs]
        rewards = []
        for _ in range(10):
            obs, r, *_ = env.step(env.action_space.sample())
            out.append(obs)
            rewards.append(r)
        return np.stack(out), np.array(rewards), info

    a, ra, ia = rollout(3)
    b, rb, ib = rollout(3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ra, rb)
    assert ia == ib
    c, rc, _ = rollout(4)
    assert not np.array_equal(a, c)


def test_observation_and_action_shapes_as_documented(net, rate):
    env = make(net, rate)
    assert env.observation_space.shape == (21, len(OBS_COLUMNS)) == (21, 8)
    assert env.observation_space.dtype == np.float32
    assert env.action_space.nvec.tolist() == [len(DISCRETE_ACTIONS)] * 21 == [7] * 21
    cont = make(net, rate, "continuous")
    assert cont.action_space.shape == (21, 3) and cont.action_space.dtype == np.float32
    obs, _ = env.reset(seed=0)
    assert obs.shape == (21, 8) and obs.dtype == np.float32
    assert np.all((obs >= 0) & (obs <= 1))
    col = {n: i for i, n in enumerate(OBS_COLUMNS)}
    assert np.all(obs[:, col["awake"]] == 1) and np.all(obs[:, col["power_reduction"]] == 0)
    np.testing.assert_allclose(obs[:, col["tilt"]], 0.5)
    np.testing.assert_allclose(obs[:, col["load"]], env.last_result.sector_load, atol=1e-6)
    assert obs[0, col["time_of_day"]] == 0.0
    obs, *_ = env.step(np.zeros(21, dtype=np.int64))
    assert obs[0, col["time_of_day"]] == pytest.approx(1 / 24)


def test_episode_is_one_day(net, rate):
    env = make(net, rate)
    env.reset(seed=0)
    for k in range(24):
        _, _, term, trunc, info = env.step(np.zeros(21, dtype=np.int64))
        assert info["interval"] == k and not trunc
        assert term == (k == 23)
    assert make(net, rate, step_s=900.0).n_steps == 96


def test_discrete_actions_move_the_state(net, rate):
    env = make(net, rate)
    env.reset(seed=0)
    a = np.zeros(21, dtype=np.int64)
    a[0], a[1], a[2], a[3], a[4] = 1, 3, 4, 5, 6           # sleep, tilt down, tilt up, power down, power up
    env.step(a)
    st = env.state
    d = net.default_elec_tilt_deg
    assert not st.awake[0] and st.awake[1:].all()
    assert st.tilt_deg[1] == d[1] + 1 and st.tilt_deg[2] == d[2] - 1
    assert st.power_offset_db[3] == -3.0 and st.power_offset_db[4] == 0.0   # already at full power
    assert env.last_result.sector_load[0] == 0 and not np.any(env.last_result.serving == 0)
    for _ in range(10):                                     # clipped at the allowed ranges
        env.step(np.where(np.arange(21) == 1, 3, np.where(np.arange(21) == 3, 5, 0)))
    assert env.state.tilt_deg[1] == d[1] + 4 and env.state.power_offset_db[3] == -6.0
    a = np.zeros(21, dtype=np.int64)
    a[0] = 2
    env.step(a)
    assert env.state.awake.all()


def test_continuous_actions_are_absolute_settings(net, rate):
    env = make(net, rate, "continuous")
    env.reset(seed=0)
    env.step(np.zeros((21, 3), dtype=np.float32))
    st = env.state
    assert st.awake.all() and not st.power_offset_db.any()
    np.testing.assert_allclose(st.tilt_deg, net.default_elec_tilt_deg)
    a = np.zeros((21, 3), dtype=np.float32)
    a[0, 0] = -0.2
    a[1, 1], a[2, 1] = 1.0, -1.0
    a[3, 2], a[4, 2] = -1.0, -0.5
    env.step(a)
    st = env.state
    assert not st.awake[0] and st.awake[1:].all()
    assert st.tilt_deg[1] == pytest.approx(net.default_elec_tilt_deg[1] + 4)
    assert st.tilt_deg[2] == pytest.approx(net.default_elec_tilt_deg[2] - 4)
    assert st.power_offset_db[3] == pytest.approx(-6.0) and st.power_offset_db[4] == pytest.approx(-3.0)


def test_reward_and_energy_are_the_documented_sums(net, rate):
    w = RewardWeights(throughput=0.7, energy=1.3, sla=2.0)
    env = make(net, rate, reward_weights=w, sla_rate_bps=5e6)
    env.reset(seed=5)
    a = np.zeros(21, dtype=np.int64)
    a[[0, 7]] = 1                                          # two sectors fall asleep
    a[3] = 5                                               # one at -3 dB
    offered = env.offered_bps(0)
    _, r, _, _, info = env.step(a)
    res = env.last_result
    codes = np.where(env.state.awake, pm.ACTIVE, pm.DEEP_SLEEP)
    p_w = pm.bs_power_w(codes, res.sector_load * 10 ** (env.state.power_offset_db / 10))
    trans_j = 2 * pm.transition_energy_j(pm.ACTIVE, pm.DEEP_SLEEP)
    energy_kwh = (p_w.sum() * 3600 + trans_j) / 3.6e6
    assert info["energy_kwh"] == pytest.approx(energy_kwh, rel=1e-12)
    full_kwh = 21 * pm.bs_power_w(pm.ACTIVE, 1.0) * 3600 / 3.6e6
    served_gbit = res.rate_bps.sum() * 3600 / 1e9
    viol = ~res.covered | (res.user_rate_bps < 5e6)
    sla = offered[viol].sum() / offered.sum()
    busy_gbit = rate * net.point_weight.sum() * 3600 / 1e9
    want = 0.7 * served_gbit / busy_gbit - 1.3 * energy_kwh / full_kwh - 2.0 * sla
    assert r == pytest.approx(want, rel=1e-9)
    assert info["served_gbit"] == pytest.approx(served_gbit) and info["sla_violation_share"] == pytest.approx(sla)
    assert info["n_asleep"] == 2


def test_power_function_is_a_parameter(net, rate):
    """A non-affine power function is called every interval, an affine one tabulated: same energy."""
    calls = []

    def quadratic(codes, load):
        calls.append(1)
        return np.where(np.asarray(codes) == pm.ACTIVE, 100.0 + 900.0 * np.asarray(load) ** 2, 5.0)

    env = make(net, rate, power_fn=quadratic, transition_fn=lambda a, b: np.zeros(np.shape(a)))
    env.reset(seed=1)
    n0 = len(calls)
    _, _, _, _, info = env.step(np.zeros(21, dtype=np.int64))
    assert len(calls) == n0 + 1
    load = env.last_result.sector_load
    assert info["energy_kwh"] == pytest.approx(np.sum(100 + 900 * load ** 2) * 3600 / 3.6e6)

    def affine(codes, load):
        calls.append(1)
        return np.where(np.asarray(codes) == pm.ACTIVE, 100.0 + 900.0 * np.asarray(load), 5.0)

    env = make(net, rate, power_fn=affine, transition_fn=lambda a, b: np.zeros(np.shape(a)))
    env.reset(seed=1)
    n0 = len(calls)
    _, _, _, _, info = env.step(np.zeros(21, dtype=np.int64))
    assert len(calls) == n0
    assert info["energy_kwh"] == pytest.approx(np.sum(100 + 900 * env.last_result.sector_load) * 3600 / 3.6e6)


def test_threshold_heuristic_sleeps_at_night_and_saves_energy(net, rate):
    env = make(net, rate, day_kind="weekday")
    on = run_episode(env, lambda e, o: always_on_policy(e), seed=8)
    th = run_episode(env, lambda e, o: threshold_policy(e), seed=8)
    assert on["asleep_sector_intervals"] == 0 and th["asleep_sector_intervals"] > 0
    assert th["energy_kwh"] < on["energy_kwh"]
    assert on["offered_gbit"] == pytest.approx(th["offered_gbit"])     # the same day's demand
    # never two neighbours asleep at once: every sleeper's takers are awake
    env.reset(seed=8)
    for _ in range(24):
        a = threshold_policy(env)
        env.step(a)
        asleep = np.flatnonzero(~env.state.awake)
        for s in asleep:
            takers = np.flatnonzero(env.takeover[s] >= 0.1)
            assert env.state.awake[takers[takers != s]].all()


def test_threshold_heuristic_in_continuous_mode(net, rate):
    env = make(net, rate, "continuous")
    env.reset(seed=2)
    a = threshold_policy(env, sleep_below=1.0, absorb_below=10.0)
    assert a.shape == (21, 3) and env.action_space.contains(a)
    assert np.any(a[:, 0] < 0)


def test_input_checks(net, rate):
    with pytest.raises(InvalidChoiceError, match="action_mode"):
        make(net, rate, "hybrid")
    with pytest.raises(OutOfValidityRangeError, match="step_s"):
        make(net, rate, step_s=1000.0)
    with pytest.raises(InvalidChoiceError, match="cell_type"):
        make(net, rate, cell_type=["mall"] * 21)
    env = make(net, rate)
    with pytest.raises(OutOfValidityRangeError, match="reset"):
        env.step(np.zeros(21, dtype=np.int64))


def test_from_simulation_builds_the_maps_once():
    from cellscape.scenario.model import parse_scenario
    from cellscape.scenario.simulation import parse_simulation

    x0, y0 = 385_000.0, 6_671_000.0
    sc = parse_scenario({"name": "t", "seed": 4, "environment": "UMa",
                         "area": {"crs": "EPSG:32635", "bounds": [x0, y0, x0 + 600, y0 + 400], "resolution_m": 20},
                         "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30},
                         "sites": [{"site_id": s, "x": x0 + dx, "y": y0 + 200, "height_m": 25,
                                    "sectors": [{"azimuth_deg": a, "tx_power_dbm": 46} for a in (0, 120, 240)]}
                                   for s, dx in (("A", 150), ("B", 450))]})
    sim = parse_simulation({"name": "s", "simulation": {"users": [{"name": "phones", "count": 40}]}}, sc)
    env = NetworkEnv.from_simulation(sim, n_points=60, backend="numpy", step_s=3600.0)
    assert env.net.n_sectors == 6 and env.net.n_points == 60
    assert env.net.point_weight.sum() == pytest.approx(40.0)
    check_env(env, skip_render_check=True)
