"""KPI anomaly detection (cellscape.resilience.anomaly, cellscape.pipeline.anomaly): KPIs from load
by hand, injections that produce their declared truth, few alarms on a clean series, a big outage
found and named, determinism, metrics by hand, no training on the evaluation window, clear errors."""

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st
import numpy as np
from numpy.testing import assert_allclose
import pytest

from cellscape.ai.loadgen import CELL_TYPES, generate_load_history
from cellscape.errors import CellscapeError
from cellscape.pipeline.anomaly import (
    CellNetwork,
    evaluate_synthetic,
    run_detection,
    split_train_eval,
    synthetic_run,
)
from cellscape.resilience.anomaly import (
    KINDS,
    AnomalyInputError,
    CellRadio,
    DetectedEvent,
    Detection,
    DetectorConfig,
    InjectedEvent,
    InjectionPlan,
    KpiSeries,
    adjacency_from_positions,
    check_adjacency,
    classify_signature,
    clean_runs,
    combined_score,
    detect,
    event_counts,
    event_metrics,
    fit_baseline,
    inject_events,
    kpis_from_load,
    mean_sinr_db,
    point_counts,
    point_metrics,
    time_of_week_slot,
)

STEPS_PER_DAY = 96                      # 15 min
START = np.datetime64("2026-01-05")     # a Monday
QUIET = CellRadio(sinr_noise_db=0.0, rsrp_noise_db=0.0, throughput_noise=0.0)


def network(n_sites=8, seed=1) -> CellNetwork:
    """Three sectors per site on a random layout, random busy-hour loads and types."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, 3000.0, (n_sites, 2))
    n = 3 * n_sites
    return CellNetwork("test", tuple(f"c{i:02d}" for i in range(n)), tuple(rng.choice(CELL_TYPES, n)),
                       rng.uniform(0.3, 0.9, n), np.repeat(xy[:, 0], 3), np.repeat(xy[:, 1], 3))


def clean_series(net: CellNetwork, *, n_days=28, seed=5) -> tuple[KpiSeries, np.ndarray]:
    h = generate_load_history(net.peak_load, list(net.cell_type), n_days=n_days, seed=seed, cell_id=list(net.cell_id))
    adj = adjacency_from_positions(net.x_m, net.y_m)
    k = kpis_from_load(h.load, adj, rng=np.random.default_rng(seed))
    return KpiSeries(net.cell_id, h.start, 900, k), adj


# ------------------------------------------------------------------------------- KPIs from load, by hand


def test_sinr_of_the_load_coupled_model_by_hand():
    # S/N = 100, I_full = 100/1 - 1 = 99 noise units; half-loaded neighbours: 100 / (1 + 49.5)
    assert_allclose(mean_sinr_db(0.5, snr_db=20.0, sinr_full_load_db=0.0), 10 * np.log10(100 / 50.5))
    # a jammer as strong as noise + full-load interference (0 dB: J = 100), neighbours idle: 100 / (1 + 100)
    assert_allclose(mean_sinr_db(0.0, snr_db=20.0, sinr_full_load_db=0.0, jamming_db=0.0),
                    10 * np.log10(100 / 101))
    with pytest.raises(CellscapeError, match="below snr_db"):
        mean_sinr_db(0.5, snr_db=5.0, sinr_full_load_db=6.0)


def test_kpis_follow_the_load_and_the_neighbours():
    adj = np.array([[0, 1], [1, 0]], bool)
    load = np.array([[0.2, 0.5, 1.3], [0.5, 0.5, 0.5]])
    k = kpis_from_load(load, adj, QUIET, rng=np.random.default_rng(0))
    assert_allclose(k["prb_utilisation"], np.minimum(load, 1.0))
    assert_allclose(k["throughput_mbps"], 300.0 * np.minimum(load, 1.0))
    # cell 0 sees cell 1 at 0.5: 100 / (1 + 99 * 0.5); cell 1 sees cell 0's utilisation
    assert_allclose(k["sinr_db"][0], 10 * np.log10(100 / 50.5))
    assert_allclose(k["sinr_db"][1], 10 * np.log10(100 / (1 + 99 * np.array([0.2, 0.5, 1.0]))))
    assert_allclose(k["rsrp_dbm"], -95.0)
    users = kpis_from_load(np.full((2, 20000), 0.4), adj, rng=np.random.default_rng(1))["connected_users"]
    assert abs(users.mean() - 0.4 * 150) < 0.5 and abs(users.var() - 60) < 3     # Poisson(60)


def test_outage_and_jamming_kpis_by_hand():
    adj = np.array([[0, 1], [1, 0]], bool)
    load = np.full((2, 2), 0.3)
    off = np.array([[True, False], [False, False]])
    jam = np.array([[-np.inf, -np.inf], [-np.inf, 10.0]])
    k = kpis_from_load(load, adj, QUIET, rng=np.random.default_rng(0), off=off, jamming_db=jam)
    assert k["prb_utilisation"][0, 0] == 0 and k["throughput_mbps"][0, 0] == 0 and k["connected_users"][0, 0] == 0
    assert np.isnan(k["sinr_db"][0, 0]) and np.isnan(k["rsrp_dbm"][0, 0])
    # cell 1 at step 1, jammed 10 dB over noise + full-load interference (J = 10 * 100 = 1000 noise
    # units), its neighbour at 0.3 (after two coupling passes)
    u0 = k["prb_utilisation"][0, 1]
    sinr = 10 * np.log10(100 / (1 + 1000 + 99 * u0))
    clean = 10 * np.log10(100 / (1 + 99 * u0))
    r = np.log2(1 + 10 ** (sinr / 10)) / np.log2(1 + 10 ** (clean / 10))
    assert_allclose(k["sinr_db"][1, 1], sinr)
    assert_allclose(k["prb_utilisation"][1, 1], min(1.0, 0.3 / r))
    assert_allclose(k["throughput_mbps"][1, 1], min(1.0, 0.3 / r) * 300 * r)
    assert k["throughput_mbps"][1, 1] < 0.5 * k["throughput_mbps"][1, 0]


def test_adjacency_from_positions_is_symmetric_and_cosited():
    net = network()
    adj = adjacency_from_positions(net.x_m, net.y_m)
    assert np.array_equal(adj, adj.T) and not adj.diagonal().any()
    assert adj[0, 1] and adj[0, 2] and adj[1, 2]                                  # sectors of one site
    assert (adj.sum(axis=1) >= 2 + 3 * 3).all()                                   # co-sited + 3 nearest sites
    with pytest.raises(AnomalyInputError, match="symmetric"):
        check_adjacency(np.array([[0, 1], [0, 0]]), 2)


def test_time_of_week_slot_counts_from_monday():
    assert time_of_week_slot(np.datetime64("2026-01-11T23:45"), 900, 2).tolist() == [671, 0]   # Sunday -> Monday


# ----------------------------------------------------------------------------------------------- injections


def test_injections_produce_their_declared_truth():
    net = network()
    adj = adjacency_from_positions(net.x_m, net.y_m)
    load = generate_load_history(net.peak_load, list(net.cell_type), n_days=21, seed=2).load
    w = (14 * STEPS_PER_DAY, 21 * STEPS_PER_DAY)
    plan = InjectionPlan(n_outage=2, n_jamming=2, n_surge=2)
    inj = inject_events(load, adj, plan, window=w, rng=np.random.default_rng(3))
    assert sorted(e.kind for e in inj.events) == ["jamming", "jamming", "outage", "outage", "surge", "surge"]
    expected_kind = np.zeros(load.shape, np.int8)
    expected_affected = np.zeros(load.shape, bool)
    for e in inj.events:
        t = slice(e.start_step, e.stop_step)
        assert w[0] <= e.start_step < e.stop_step <= w[1]
        expected_kind[list(e.cells), t] = KINDS.index(e.kind)
        expected_affected[list(e.cells) + list(e.disturbed_cells), t] = True
        root = e.cells[0]
        if e.kind == "outage":
            assert inj.off[root, t].all()
            nbrs = np.flatnonzero(adj[root])
            assert set(e.disturbed_cells) == set(nbrs.tolist())
            assert_allclose(inj.offered_load[nbrs, t] - load[nbrs, t], plan.outage_moved_share * load[root, t]
                            / nbrs.size * np.ones((nbrs.size, 1)))
        elif e.kind == "jamming":
            assert set(e.cells) == {root, *np.flatnonzero(adj[root]).tolist()}
            assert_allclose(inj.jamming_db[root, t], e.magnitude)
            assert_allclose(inj.jamming_db[list(e.cells[1:]), t], e.magnitude - plan.jam_neighbour_offset_db)
        else:
            assert plan.surge_load[0] <= e.magnitude <= plan.surge_load[1]
            assert_allclose(inj.offered_load[list(e.cells), t] - load[list(e.cells), t], e.magnitude)
    assert np.array_equal(inj.truth_kind, expected_kind)
    assert np.array_equal(inj.truth_affected, expected_affected)
    # nothing changes outside the events, and events never share a cell within the gap
    quiet = ~expected_affected
    assert_allclose(inj.offered_load[quiet], load[quiet])
    assert not inj.off[quiet].any() and np.isneginf(inj.jamming_db[quiet]).all()
    for i, a in enumerate(inj.events):
        for b in inj.events[i + 1:]:
            if set(a.cells + a.disturbed_cells) & set(b.cells + b.disturbed_cells):
                assert b.start_step >= a.stop_step + plan.gap_steps or a.start_step >= b.stop_step + plan.gap_steps
    again = inject_events(load, adj, plan, window=w, rng=np.random.default_rng(3))
    assert again.events == inj.events


def test_injection_window_too_short_is_an_error():
    adj = np.zeros((3, 3), bool)
    with pytest.raises(AnomalyInputError, match="does not fit"):
        inject_events(np.full((3, 100), 0.5), adj, InjectionPlan(n_outage=1, n_jamming=0, n_surge=0,
                                                                  outage_steps=(20, 20)), window=(90, 100),
                      rng=np.random.default_rng(0))


# ------------------------------------------------------------------------------------------------ detector


def test_clean_series_gives_almost_no_alarms():
    net = network(n_sites=10)
    series, adj = clean_series(net)
    run = run_detection(series, eval_days=7, adjacency=adj)
    cell_days = series.n_cells * 7
    # bound: at most one false event per 20 cell-days and 0.1 % of cell-steps (measured: ~0.01 and ~0.0002)
    assert len(run.detection.events) <= cell_days / 20
    assert run.detection.flagged.mean() <= 1e-3


def test_big_outage_is_detected_and_named():
    net = network()
    series, adj = clean_series(net)
    train, ev = split_train_eval(series, eval_days=7)
    values = {k: v.copy() for k, v in ev.values.items()}
    t = slice(2 * STEPS_PER_DAY + 10 * 4, 2 * STEPS_PER_DAY + 14 * 4)              # Wednesday 10:00 to 14:00
    for k in ("prb_utilisation", "throughput_mbps", "connected_users"):
        values[k][4, t] = 0.0
    for k in ("sinr_db", "rsrp_dbm"):
        values[k][4, t] = np.nan
    det = detect(fit_baseline(train), replace(ev, values=values), adjacency=adj)
    hits = [e for e in det.events if e.cell == 4 and e.start_step < t.stop and t.start < e.stop_step]
    assert len(hits) == 1 and hits[0].kind == "outage"
    assert hits[0].start_step == t.start and hits[0].stop_step == t.stop
    assert det.flagged[4, t].all()


def test_detector_is_deterministic():
    net = network()
    a = synthetic_run(net, seed=11)
    b = synthetic_run(net, seed=11)
    def key(d):
        return [(e.cell, e.start_step, e.stop_step, e.kind, e.peak_score, str(e.median_z)) for e in d.events]

    assert key(a.run.detection) == key(b.run.detection) and len(a.run.detection.events) > 0
    assert a.events == b.events and a.point_counts == b.point_counts
    for k in a.run.series.values:
        assert_allclose(a.run.series.values[k], b.run.series.values[k])
    assert synthetic_run(net, seed=12).events != a.events


def test_baseline_never_sees_the_evaluation_window():
    net = network()
    series, _ = clean_series(net)
    run = run_detection(series, eval_days=7)
    changed = {k: v.copy() for k, v in series.values.items()}
    for v in changed.values():
        v[:, run.eval_start_step:] = 1e6                                           # wreck the evaluation days
    run2 = run_detection(replace(series, values=changed), eval_days=7)
    for k in run.baseline.kpis:
        assert np.array_equal(run.baseline.median[k], run2.baseline.median[k], equal_nan=True)
        assert np.array_equal(run.baseline.scale[k], run2.baseline.scale[k], equal_nan=True)
    assert run.train.n_steps == 21 * STEPS_PER_DAY and run.evaluation.n_steps == 7 * STEPS_PER_DAY
    # ... while the same change inside the training window does move it
    changed[next(iter(changed))][:, :10] = 1e6
    run3 = run_detection(replace(series, values=changed), eval_days=7)
    k0 = next(iter(changed))
    assert not np.array_equal(run.baseline.median[k0], run3.baseline.median[k0], equal_nan=True)


def test_baseline_median_by_hand():
    # three weeks of hourly steps, values = week index: the slot median over weeks (+-1 slot) is 1,
    # and the leave-one-week-out residuals are |0 - 1.5|, |1 - 1|, |2 - 0.5| (7 of each per hour of
    # the day) -> MAD = median(1.5, 0, 1.5) = 1.5
    x = np.repeat(np.arange(3.0), 168)[None, :]
    b = fit_baseline(KpiSeries(("a",), START, 3600, {"x": x}))
    assert_allclose(b.median["x"], 1.0)
    assert_allclose(b.scale["x"], 1.4826 * 1.5)


def test_one_outage_in_training_does_not_move_the_baseline_much():
    net = network()
    series, _ = clean_series(net)
    dirty = {k: v.copy() for k, v in series.values.items()}
    dirty["prb_utilisation"][0, 2 * STEPS_PER_DAY:2 * STEPS_PER_DAY + 24] = 0.0    # 6 h down in week 1
    a = fit_baseline(series.window(0, 21 * STEPS_PER_DAY)).median["prb_utilisation"][0]
    b = fit_baseline(replace(series, values=dirty).window(0, 21 * STEPS_PER_DAY)).median["prb_utilisation"][0]
    assert np.max(np.abs(a - b)) < 0.1 * a.max()


def test_signatures_name_the_kind():
    n = 4
    exp = {"prb_utilisation": np.full(n, 0.4), "throughput_mbps": np.full(n, 120.0), "connected_users": np.full(n, 60.0)}
    jammed = {"prb_utilisation": np.full(n, 1.0), "throughput_mbps": np.full(n, 20.0),
              "connected_users": np.full(n, 60.0), "sinr_db": np.full(n, -8.0)}
    z = {"prb_utilisation": np.full(n, 20.0), "throughput_mbps": np.full(n, -30.0), "connected_users": np.zeros(n),
         "sinr_db": np.full(n, -25.0)}
    assert classify_signature(jammed, exp, z) == "jamming"
    del jammed["sinr_db"], z["sinr_db"]                                          # no SINR: throughput per PRB
    assert classify_signature(jammed, exp, z) == "jamming"
    surge = {"prb_utilisation": np.full(n, 0.8), "throughput_mbps": np.full(n, 240.0), "connected_users": np.full(n, 120.0)}
    zs = {"prb_utilisation": np.full(n, 12.0), "throughput_mbps": np.full(n, 12.0), "connected_users": np.full(n, 9.0)}
    assert classify_signature(surge, exp, zs) == "surge"
    half = {k: v / 2 for k, v in exp.items()}
    zh = {k: np.full(n, -8.0) for k in exp}
    assert classify_signature(half, exp, zh) == "other"


def test_neighbours_of_an_outage_join_its_incident():
    # cell 0 drops to zero, its neighbour 1 carries more: alone, 1 looks like a surge
    n_steps = 6
    base = KpiSeries(("a", "b"), START, 3600, {"prb_utilisation": np.full((2, 2 * 168), 0.4),
                                               "connected_users": np.full((2, 2 * 168), 60.0)})
    b = fit_baseline(base)
    ev = {"prb_utilisation": np.full((2, n_steps), 0.4), "connected_users": np.full((2, n_steps), 60.0)}
    ev["prb_utilisation"][0, 2:5] = 0.0
    ev["connected_users"][0, 2:5] = 0.0
    ev["prb_utilisation"][1, 2:5] = 0.7
    ev["connected_users"][1, 2:5] = 100.0
    s = KpiSeries(("a", "b"), START + np.timedelta64(14, "D"), 3600, ev)
    alone = detect(b, s)
    assert [e.kind for e in alone.events] == ["outage", "surge"]
    together = detect(b, s, adjacency=np.array([[0, 1], [1, 0]], bool))
    assert [e.kind for e in together.events] == ["outage", "outage"]


@given(st.lists(st.booleans(), min_size=1, max_size=40), st.integers(1, 4), st.integers(0, 3))
def test_clean_runs_keeps_only_long_runs_of_merged_flags(flags, min_steps, gap):
    out = clean_runs([flags], min_duration_steps=min_steps, merge_gap_steps=gap)[0]
    d = np.diff(np.concatenate([[0], out.astype(int), [0]]))
    starts, stops = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    assert ((stops - starts) >= min_steps).all()
    f = np.asarray(flags)
    assert not (f & ~clean_runs([flags], min_duration_steps=1, merge_gap_steps=gap)[0]).any()   # merging only adds
    for a, b in zip(starts, stops):
        assert f[a] and f[b - 1]                                                 # runs start and end on a flag


@given(st.lists(st.floats(-50, 50), min_size=3, max_size=3), st.integers(1, 3))
def test_combined_score_is_the_kth_largest(zs, k):
    z = {str(i): np.array([[v]]) for i, v in enumerate(zs)}
    assert combined_score(z, min_kpis=k)[0, 0] == sorted(np.abs(zs), reverse=True)[k - 1]


# ------------------------------------------------------------------------------------------------- metrics


def test_point_metrics_by_hand():
    # 2 cells x 5 steps; cell 0 is an outage at steps 1-3 (truth), cell 1 is its disturbed neighbour then
    truth = np.array([[0, 1, 1, 1, 0], [0, 0, 0, 0, 0]], np.int8)
    affected = np.array([[0, 1, 1, 1, 0], [0, 1, 1, 1, 0]], bool)
    flagged = np.array([[0, 0, 1, 1, 1], [0, 1, 1, 0, 0]], bool)
    pred = np.array([[0, 0, 1, 3, 3], [0, 3, 3, 0, 0]], np.int8)
    m = point_metrics(point_counts(truth, affected, flagged, pred))
    # TP = (0,2),(0,3); FP = (0,4) (cell 1's flags are on disturbed steps: neither); FN = (0,1)
    assert (m["tp"], m["fp"], m["fn"]) == (2, 1, 1)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3) and m["false_alarm_rate"] == pytest.approx(1 / 4)
    o = m["by_kind"]["outage"]
    assert o["recall"] == pytest.approx(2 / 3) and o["typed_tp"] == 1 and o["typed_precision"] == 1.0
    assert o["typed_recall"] == pytest.approx(1 / 3)
    s = m["by_kind"]["surge"]
    assert s["predicted"] == 2 and s["typed_precision"] == 0.0                # (0,3) and (0,4); cell 1 not scored


def test_event_metrics_by_hand():
    events = [InjectedEvent("outage", (0,), (1,), 2, 6, 0.8), InjectedEvent("surge", (2,), (), 10, 14, 0.3),
              InjectedEvent("jamming", (3,), (), 20, 22, 30.0)]
    flagged = np.zeros((4, 30), bool)
    pred = np.zeros((4, 30), np.int8)
    dets = [DetectedEvent(0, 3, 6, "outage", 9.0, {}), DetectedEvent(1, 3, 5, "surge", 6.0, {}),
            DetectedEvent(2, 10, 12, "jamming", 7.0, {}), DetectedEvent(3, 26, 28, "surge", 6.0, {})]
    for d in dets:
        flagged[d.cell, d.start_step:d.stop_step] = True
        pred[d.cell, d.start_step:d.stop_step] = KINDS.index(d.kind)
    det = Detection({}, {}, np.zeros((4, 30)), flagged, pred, tuple(dets))
    m = event_metrics(event_counts(events, det))
    # injected: outage found (as outage), surge found (as jamming), jamming missed -> recall 2/3
    # detections: 3 overlap an event (cell 1 is the outage's disturbed neighbour), 1 false -> precision 3/4
    assert m["recall"] == pytest.approx(2 / 3) and m["precision"] == pytest.approx(3 / 4)
    assert m["f1"] == pytest.approx(2 * (3 / 4) * (2 / 3) / (3 / 4 + 2 / 3))
    c = m["confusion"]
    assert c["outage"]["outage"] == 1 and c["surge"]["jamming"] == 1 and c["jamming"]["none"] == 1
    assert c["none"]["surge"] == 1 and sum(c["none"].values()) == 1
    assert m["by_kind"]["surge"]["typed_recall"] == 0.0 and m["by_kind"]["outage"]["typed_recall"] == 1.0
    assert m["by_kind"]["surge"]["typed_precision"] == 0.0                        # neither surge detection is one
    assert m["by_kind"]["jamming"]["typed_precision"] == 0.0


def test_synthetic_evaluation_finds_most_events():
    ev = evaluate_synthetic(network(), seeds=[100, 101], config=DetectorConfig())
    e, p = ev.event, ev.point
    assert e["injected"] == 12
    assert e["recall"] >= 0.8 and e["precision"] >= 0.8
    assert p["precision"] >= 0.8 and p["recall"] >= 0.7 and p["false_alarm_rate"] < 2e-3
    assert sum(e["confusion"]["none"].values()) == e["detections"] - e["correct_detections"]


# -------------------------------------------------------------------------------------------------- errors


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(AnomalyInputError, match="divisor of a day"):
        KpiSeries(("a",), START, 7 * 60 + 1, {"x": np.zeros((1, 3))})
    with pytest.raises(AnomalyInputError, match="expected \\(2 cells"):
        KpiSeries(("a", "b"), START, 900, {"x": np.zeros((1, 3))})
    with pytest.raises(AnomalyInputError, match="repeat"):
        KpiSeries(("a", "a"), START, 900, {"x": np.zeros((2, 3))})
    short = KpiSeries(("a",), START, 3600, {"x": np.zeros((1, 10 * 24))})
    with pytest.raises(AnomalyInputError, match="at least 14 days"):
        fit_baseline(short)
    with pytest.raises(AnomalyInputError, match="under the 14 days"):
        split_train_eval(KpiSeries(("a",), START, 3600, {"x": np.zeros((1, 18 * 24))}), eval_days=7)
    b = fit_baseline(KpiSeries(("a",), START, 3600, {"x": np.zeros((1, 14 * 24))}))
    with pytest.raises(AnomalyInputError, match="cells differ"):
        detect(b, KpiSeries(("z",), START, 3600, {"x": np.zeros((1, 5))}))
    with pytest.raises(AnomalyInputError, match="lacks the KPI"):
        detect(b, KpiSeries(("a",), START, 3600, {"y": np.zeros((1, 5))}))
    with pytest.raises(AnomalyInputError, match="z_threshold"):
        DetectorConfig(z_threshold=0)


def test_a_kpi_that_never_varied_gives_no_evidence():
    x = np.tile(0.5 + 0.3 * np.sin(2 * np.pi * np.arange(24) / 24), 21)[None, :]
    s = KpiSeries(("a",), START, 3600, {"prb_utilisation": x, "flag": np.ones_like(x)})
    b = fit_baseline(s.window(0, 14 * 24))
    assert np.isnan(b.scale["flag"]).all()
    test = s.window(14 * 24, 21 * 24)
    test.values["flag"][0, :5] = 2.0
    det = detect(b, test, config=DetectorConfig(min_kpis=1))
    assert np.isnan(det.z["flag"]).all() and det.events == ()
    with pytest.raises(AnomalyInputError, match="divisor of a day"):
        KpiSeries(("a",), START, 900.5, {"x": np.zeros((1, 3))})


def test_baseline_of_a_cell_does_not_depend_on_the_others():
    rng = np.random.default_rng(8)
    n = 260                                                                         # two blocks of cells
    x = rng.uniform(0.0, 1.0, (n, 14 * 24))
    s = KpiSeries(tuple(f"c{i}" for i in range(n)), START, 3600, {"prb_utilisation": x})
    all_cells = fit_baseline(s)
    for i in (0, 255, 256, 259):
        one = fit_baseline(KpiSeries(("c",), START, 3600, {"prb_utilisation": x[i:i + 1]}))
        assert_allclose(all_cells.median["prb_utilisation"][i], one.median["prb_utilisation"][0])
        assert_allclose(all_cells.scale["prb_utilisation"][i], one.scale["prb_utilisation"][0])
