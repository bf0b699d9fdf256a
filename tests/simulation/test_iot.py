"""Massive IoT (cellscape.simulation.iot): coverage classes at the configured thresholds, the
single-tone NPUSCH rate, the random access against slotted-ALOHA theory, first-come-first-served
data tones, the ITU-R M.2412 density search, and one evaluation on a real network's maps."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from cellscape.errors import ScenarioError
from cellscape.radio.throughput import SINR_MIN_DB, attenuated_shannon_efficiency_bps_hz
from cellscape.simulation.iot import (NPRACH_DEFAULT, NPUSCH_MAX_RATE_BPS, OUT_OF_COVERAGE, TONE_HZ, IotRun,
                                      _random_access, _serve, ce_level, connection_density, data_tones,
                                      evaluate_density, evaluate_iot, iot_coverage, npusch_rate_bps, uplink_snr_db)

from .conftest import maps_for, scenario, simulation


# ---- coverage classes ------------------------------------------------------------------------

@pytest.mark.parametrize("thresholds, mcl", [((144.0, 154.0), 164.0), ((130.0, 140.0), 150.0)])
def test_ce_level_boundaries_sit_at_the_configured_thresholds(thresholds, mcl):
    t0, t1 = thresholds
    eps = 1e-6
    cl = [t0 - 10, t0, t0 + eps, t1, t1 + eps, mcl, mcl + eps, np.nan]
    assert ce_level(cl, thresholds, mcl).tolist() == [0, 0, 1, 1, 2, 2, OUT_OF_COVERAGE, OUT_OF_COVERAGE]


def test_ce_level_refuses_unordered_thresholds():
    with pytest.raises(ScenarioError, match=r"need CE0 < CE1 < max_coupling_loss_db \(164\)"):
        ce_level([150.0], (154.0, 144.0), 164.0)


def test_iot_coverage_is_the_best_sector_coupling_loss():
    rng = np.random.default_rng(5)
    rsrp = rng.uniform(-140, -60, (4, 6, 7))
    p_re = np.array([15.0, 18.0, 15.0, 20.0])
    indoor = rng.uniform(size=(6, 7)) < 0.5
    cov = iot_coverage(rsrp, p_re, indoor, gain_offset_db=-3.0, ce_thresholds_db=(144, 154),
                       max_coupling_loss_db=164, indoor_extra_loss_db=20.0)
    cl = p_re[:, None, None] - rsrp
    assert (cov.best_sector == cl.argmin(axis=0)).all()
    assert_allclose(cov.coupling_loss_db, cl.min(axis=0) + 3.0 + np.where(indoor, 20.0, 0.0), atol=1e-12)
    assert (cov.ce_level == ce_level(cov.coupling_loss_db)).all()


# ---- NPUSCH rate -----------------------------------------------------------------------------

def test_npusch_rate_from_the_maps_bound_with_fewest_repetitions():
    snr = np.array([30.0, 0.0, SINR_MIN_DB, SINR_MIN_DB - 3.5, SINR_MIN_DB - 20.0, SINR_MIN_DB - 22.0])
    rate, reps = npusch_rate_bps(snr)
    assert reps.tolist() == [1, 1, 1, 4, 128, 0]
    assert rate[0] == NPUSCH_MAX_RATE_BPS                                  # capped (TS 36.213 max TBS)
    eff = attenuated_shannon_efficiency_bps_hz(snr[1:5] + 10 * np.log10(reps[1:5]))
    assert_allclose(rate[1:5], TONE_HZ * eff / reps[1:5])
    assert rate[5] == 0.0                                                  # 128 repetitions do not reach


def test_npusch_rate_never_rises_as_snr_falls():
    snr = np.linspace(40.0, -40.0, 2001)
    rate, reps = npusch_rate_bps(snr)
    assert (np.diff(rate) <= 1e-9).all()
    assert set(np.unique(reps)) <= {0, 1, 2, 4, 8, 16, 32, 64, 128}


def test_uplink_snr_at_the_mcl():
    # 23 dBm - 164 dB - (-174 + 10 log10(15 kHz) + 5 dB) + 10 log10(2) = -10.75 dB
    assert_allclose(uplink_snr_db(164.0, tx_power_dbm=23.0, gnb_noise_figure_db=5.0, gnb_rx_branches=2),
                    23 - 164 + 174 - 10 * np.log10(15e3) - 5 + 10 * np.log10(2), atol=1e-9)


def test_data_tones_leave_the_nprach_share():
    share = sum(c.uplink_share for c in NPRACH_DEFAULT)
    assert 0.0 < share < 0.5
    assert data_tones() == int(np.floor(12 * (1 - share)))


# ---- random access -----------------------------------------------------------------------------

def _ra(arr_t, sector, ce0, *, period=(0.08, 0.16, 0.64), reps=(2, 8, 32), nsc=(24, 12, 12), att=(5, 5, 5),
        exchange=(0.1, 0.5, 3.0), backoff=0.256, seed=1):
    return _random_access(np.asarray(arr_t, float), np.asarray(sector, np.int64), np.asarray(ce0, np.int64),
                          np.asarray(period, float), np.asarray(reps, np.int64), np.asarray(nsc, np.int64),
                          np.asarray(att, np.int64), np.asarray(exchange, float), 5.6e-3, backoff, seed)


def test_a_lone_device_gets_through_at_its_first_opportunity():
    done, attempts, ce = _ra([0.05, 1.0, 2.3], [0, 1, 2], [0, 1, 2])
    assert attempts.tolist() == [1, 1, 1] and ce.tolist() == [0, 1, 2]
    assert_allclose(done, [0.08 + 0.1, 1.12 + 0.5, 2.56 + 3.0])           # next opportunity + exchange


def test_first_attempt_success_is_slotted_aloha_on_the_preambles():
    # m arrivals on average per opportunity, k preambles, no retries (one attempt at the last level):
    # a tagged attempt succeeds when none of the other Poisson(m) arrivals picks its preamble,
    # P = exp(-m / k). n = 60,000 attempts: the binomial standard error is ~0.002, hence atol 0.01.
    rng = np.random.default_rng(11)
    period, k, m = 0.64, 12, 6.0
    n_opp = 10_000
    n = rng.poisson(m * n_opp)
    arr = np.sort(rng.uniform(0.0, n_opp * period, n))
    done, attempts, _ = _ra(arr, np.zeros(n), np.full(n, 2), att=(1, 1, 1))
    assert (attempts == 1).all()
    assert abs(np.isfinite(done).mean() - np.exp(-m / k)) < 0.01


def test_collided_devices_retry_and_escalate():
    # everyone arrives before one CE0 opportunity with a single preamble and no backoff: all collide
    # twice, then move to CE1 (max_attempts 2 at CE0) where 12 preambles separate most of them
    n = 6
    done, attempts, ce = _ra(np.full(n, 0.01), np.zeros(n), np.zeros(n), nsc=(1, 12, 12), att=(2, 3, 3), backoff=0.0)
    assert (attempts >= 3).all() and (ce >= 1).all()
    ok = np.isfinite(done)
    assert ok.sum() >= 1
    # a success at its first CE1 attempt: CE0 at 0.08 and 0.24 (each known 0.1 s later), CE1 at 0.48
    assert_allclose(done[ok & (attempts == 3)], 0.48 + 0.5)


def test_random_access_is_a_pure_function_of_the_seed():
    rng = np.random.default_rng(2)
    arr = np.sort(rng.uniform(0, 20, 3000))
    sec = rng.integers(0, 3, 3000)
    ce0 = rng.integers(0, 3, 3000)
    a = _ra(arr, sec, ce0, seed=9)
    b = _ra(arr, sec, ce0, seed=9)
    c = _ra(arr, sec, ce0, seed=10)
    assert all((x == y).all() for x, y in zip(a, b))
    assert not (a[1] == c[1]).all()


def test_data_tones_serve_first_come_first_served():
    ready = np.array([0.0, 0.0, 0.0, 0.5, np.inf, 0.1])
    service = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.2])
    sector = np.array([0, 0, 0, 0, 0, 1])
    order = np.argsort(ready, kind="stable")
    finish = _serve(order, ready, service, sector, 2, 2)
    # sector 0 has two tones: 0 and 1 start at once, 2 waits for the first free tone, 3 for the next
    assert_allclose(finish[[0, 1, 2, 3, 5]], [1.0, 1.0, 2.0, 2.0, 0.3])
    assert finish[4] == np.inf


# ---- density search ----------------------------------------------------------------------------

def _fake_run(density, outage):
    n = 10_000
    lat = np.where(np.arange(n) < round(outage * n), np.inf, 0.1)
    return IotRun(density_per_km2=density, arrival_s=np.zeros(n), sector=np.zeros(n, int), ce_level=np.zeros(n, int),
                  attempts=np.ones(n, int), access_ok=np.ones(n, bool), latency_s=lat, latency_limit_s=10.0)


def test_connection_density_finds_the_one_percent_crossing():
    true = 3.3e6                                          # outage grows through 1 % at this density
    d, runs = connection_density(lambda x: _fake_run(x, 0.01 * (x / true) ** 3), 1e5)
    assert true / 1.1 <= d <= true                        # 6 geometric bisections of a factor-2 bracket: < 1.1
    assert all(r.outage_rate <= 0.01 for r in runs if r.density_per_km2 <= d)


def test_connection_density_is_zero_when_coverage_alone_fails():
    d, _ = connection_density(lambda x: _fake_run(x, 0.05), 1e6, min_per_km2=1e3)
    assert d == 0.0


# ---- one evaluation ----------------------------------------------------------------------------

def _coverage(share_beyond=0.0, seed=3):
    rng = np.random.default_rng(seed)
    rows, cols, n_sec = 100, 100, 3
    cl = rng.uniform(100.0, 160.0, (n_sec, rows, cols))
    beyond = rng.uniform(size=(rows, cols)) < share_beyond
    cl[:, beyond] = 170.0
    return iot_coverage(-cl, np.zeros(n_sec), rng.uniform(size=(rows, cols)) < 0.8, gain_offset_db=0.0,
                        ce_thresholds_db=(144, 154), max_coupling_loss_db=164)


KW = dict(pixel_area_m2=100.0, n_sectors=3, indoor_fraction=0.8, packet_size_bytes=32.0, report_period_s=7200.0,
          latency_limit_s=10.0, window_s=60.0, tx_power_dbm=23.0, gnb_noise_figure_db=5.0, gnb_rx_branches=2)


def test_outage_grows_with_density_and_runs_are_reproducible():
    cov = _coverage()
    runs = [evaluate_density(cov, d, seed=4, **KW) for d in (2e5, 2e6, 2e7)]
    out = [r.outage_rate for r in runs]
    assert out[0] <= out[1] <= out[2] and out[2] > 0.05
    assert runs[0].access_success_rate == 1.0 and out[0] == 0.0
    again = evaluate_density(cov, 2e6, seed=4, **KW)
    assert (again.latency_s == runs[1].latency_s).all()
    assert runs[1].packets == pytest.approx(2e6 * 1.0 * 70.0 / 7200.0 * 60 / 70, rel=0.05)


def test_devices_beyond_the_mcl_are_in_outage():
    cov = _coverage(share_beyond=0.05)
    run = evaluate_density(cov, 1e5, seed=4, **KW)
    beyond = run.ce_level == OUT_OF_COVERAGE
    assert 0.03 < beyond.mean() < 0.07
    assert not run.access_ok[beyond].any() and (run.latency_s[beyond] == np.inf).all()
    assert run.outage_rate >= beyond.mean()


def test_evaluate_iot_on_a_real_network():
    sc = scenario(n_sites=2, sectors=3)
    sim = simulation(sc, [{"name": "p", "count": 1}],
                     iot={"enabled": True, "density_per_km2": 1e6, "fc_ghz": 3.5, "indoor_extra_loss_db": 0})
    m = maps_for(sc)[sc.receiver.height_m]
    ev = evaluate_iot(sim.iot, m.rsrp_dbm, m.tx_power_per_re_dbm, m.indoor, pixel_area_m2=m.grid.resolution_m ** 2,
                      device=sim.devices["nbiot"], receiver_gain_dbi=0.0, gnb_noise_figure_db=5.0, gnb_rx_branches=2,
                      fc_ghz=3.5, seed=1)
    s = ev.summary()
    assert sum(s["area_share"].values()) == pytest.approx(1.0)
    assert s["connection_density_per_km2"] is not None and s["connection_density_per_km2"] > 0
    at = {r["density_per_km2"]: r["packet_outage_rate"] for r in s["density_search"]}
    cd = s["connection_density_per_km2"]
    assert at[cd] <= 0.01 and any(d > cd and o > 0.01 for d, o in at.items())
    assert s["meets_imt2020_connection_density"] == (cd >= 1e6)


def test_m2412_mmtc_test_environment():
    from cellscape.scenario.defaults import m2412_mmtc_assumptions
    from cellscape.scenario.simulation import IotOptions
    from cellscape.simulation.iot import m2412_mmtc_evaluation

    a = m2412_mmtc_assumptions("B")
    assert (a.environment, a.fc_ghz, a.layout.isd_m, a.tx_power_dbm, a.o2i_high_loss_fraction) == (
        "UMa", 0.7, 1732.0, 46.0, 0.2)
    opts = IotOptions(enabled=True, density_per_km2=2e5, window_s=20.0)
    ev = m2412_mmtc_evaluation(opts, config="B", n_drops=3000, seed=2)
    # the drop stands for 57 TRxP areas of ISD^2 sqrt(3) / 6 (ITU-R M.2412 7.1.3 step 5)
    assert ev.area_km2 == pytest.approx(57 * 1732.0 ** 2 * np.sqrt(3) / 6 / 1e6)
    assert ev.n_sectors == 57 and ev.coverage.coupling_loss_db.shape == (1, 3000)
    assert 0.75 < ev.coverage.indoor.mean() < 0.85
    s = ev.summary()
    assert s["connection_density_per_km2"] > 0 and s["at_configured_density"]["packet_outage_rate"] <= 0.01
    with pytest.raises(Exception, match="config='C' is not one of 'A', 'B'"):
        m2412_mmtc_assumptions("C")
