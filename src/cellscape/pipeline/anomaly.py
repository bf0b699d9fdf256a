"""The anomaly job (``cellscape anomalies``, docs/anomaly.md): a per-cell KPI series -> training and
evaluation windows -> time-of-week baseline fitted on the training window only -> detection and
classification on the evaluation window; or, with ``--synthesize``, a KPI history built from the
simulator's per-cell load with injected outages, jamming and surges, scored against the injected truth.

No file is read or written here: :mod:`cellscape.io.anomaly_io` does that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from cellscape.resilience.anomaly import (
    SECONDS_PER_DAY,
    AnomalyInputError,
    Baseline,
    CellRadio,
    Detection,
    DetectorConfig,
    InjectedEvent,
    Injection,
    InjectionPlan,
    KpiSeries,
    add_counts,
    adjacency_from_positions,
    detect,
    event_counts,
    event_metrics,
    fit_baseline,
    inject_events,
    kpis_from_load,
    point_counts,
    point_metrics,
)


@dataclass(frozen=True)
class AnomalyRun:
    """A finished detection: the series, its training and evaluation windows, the baseline fitted on
    the training window, and the detection on the evaluation window (steps counted from its start)."""

    series: KpiSeries
    train: KpiSeries
    evaluation: KpiSeries
    baseline: Baseline
    detection: Detection
    config: DetectorConfig
    adjacency: np.ndarray | None = None

    @property
    def eval_start_step(self) -> int:
        """Index of the evaluation window's first step in :attr:`series`."""
        return self.train.n_steps


def split_train_eval(series: KpiSeries, *, eval_days: float) -> tuple[KpiSeries, KpiSeries]:
    """The last ``eval_days`` of ``series`` for evaluation, everything before for training.

    Raises
    ------
    AnomalyInputError
        If the evaluation window is empty or the training window shorter than 14 days.
    """
    n_eval = int(round(eval_days * SECONDS_PER_DAY / series.step_s))
    if n_eval < 1 or n_eval >= series.n_steps:
        raise AnomalyInputError(f"eval_days={eval_days:g} leaves no evaluation or no training window in a series of "
                                f"{series.n_steps * series.step_s / SECONDS_PER_DAY:.1f} days")
    n_train = series.n_steps - n_eval
    if n_train * series.step_s < 14 * SECONDS_PER_DAY:
        raise AnomalyInputError(f"the series holds {series.n_steps * series.step_s / SECONDS_PER_DAY:.1f} days; with "
                                f"{eval_days:g} days for evaluation the training window is "
                                f"{n_train * series.step_s / SECONDS_PER_DAY:.1f} days, under the 14 days the "
                                f"time-of-week baseline needs")
    return series.window(0, n_train), series.window(n_train, series.n_steps)


def run_detection(series: KpiSeries, *, eval_days: float = 7.0, config: DetectorConfig = DetectorConfig(),
                  adjacency=None) -> AnomalyRun:
    """Fit the baseline on all but the last ``eval_days`` and detect anomalies in those days."""
    train, evaluation = split_train_eval(series, eval_days=eval_days)
    baseline = fit_baseline(train, config=config)
    detection = detect(baseline, evaluation, config=config, adjacency=adjacency)
    return AnomalyRun(series, train, evaluation, baseline, detection, config,
                      None if adjacency is None else np.asarray(adjacency, bool))


# ------------------------------------------------------------------------------------ synthetic truth


@dataclass(frozen=True)
class CellNetwork:
    """The cells a synthetic KPI history is drawn for: name, type (:data:`cellscape.ai.loadgen.CELL_TYPES`),
    busy-hour PRB utilisation (0..1), site position [m] (for the neighbours) and radio (how the KPIs
    follow the load, per-cell arrays or scalars)."""

    name: str
    cell_id: tuple[str, ...]
    cell_type: tuple[str, ...]
    peak_load: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    radio: CellRadio = CellRadio()
    meta: dict = field(default_factory=dict)

    @property
    def n_cells(self) -> int:
        return len(self.cell_id)


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(x, kind="stable")
    c = np.cumsum(w[order])
    return float(x[order][np.searchsorted(c, 0.5 * c[-1])])


def cell_radio_of_flow(net, *, users, peak_load) -> tuple[CellRadio, np.ndarray]:
    """Per-sector :class:`CellRadio` from the demand points of a flow network
    (:mod:`cellscape.ai.flow`), and the mask of the sectors it describes.

    Of the points each sector serves at full-load interference: capacity = the users' harmonic mean
    of the full-PRB rates (processor sharing), ``sinr_full_load_db`` and ``rsrp_dbm`` their
    user-weighted medians, ``snr_db`` the median RSRP over the noise per RE (neighbours idle, kept
    at least 1 dB above the full-load SINR); ``users_at_full_load`` = ``users`` / ``peak_load`` (the
    busy-hour users and PRB utilisation of each sector). A sector that serves no point, or no user
    at the busy hour, is masked out.
    """
    from cellscape.ai.flow import FlowState, evaluate

    r = evaluate(net, FlowState.default(net), np.zeros(net.n_points), n_iter=1)      # full-load interference
    n = net.n_sectors
    cap, sinr_full, snr, rsrp = (np.full(n, np.nan) for _ in range(4))
    for s in range(n):
        pts = (r.serving == s) & r.covered & (r.rate_full_bps > 0)
        if not pts.any():
            continue
        w = net.point_weight[pts]
        cap[s] = w.sum() / np.sum(w / r.rate_full_bps[pts]) / 1e6
        sinr_full[s] = _weighted_median(r.sinr_db[pts], w)
        rsrp[s] = _weighted_median(r.rsrp_dbm[pts], w)
        snr[s] = max(_weighted_median(r.rsrp_dbm[pts] - net.noise_per_re_dbm, w), sinr_full[s] + 1.0)
    users = np.asarray(users, dtype=float)
    peak = np.asarray(peak_load, dtype=float)
    keep = np.isfinite(cap) & (users > 0) & (peak > 0)
    radio = CellRadio(capacity_mbps=cap[keep], users_at_full_load=users[keep] / peak[keep], snr_db=snr[keep],
                      sinr_full_load_db=sinr_full[keep], rsrp_dbm=rsrp[keep])
    return radio, keep


def network_of_simulation(sim, *, terrain=None, backend="numba", n_points: int = 2000, progress=None) -> CellNetwork:
    """The cells of a simulation file.

    Busy-hour PRB utilisation, cell type and busy-hour users of each sector:
    :func:`cellscape.pipeline.forecast.cell_demand_of_simulation` (the engine's per-sector maps and
    the user groups' drops). The radio of each sector (:func:`cell_radio_of_flow`): ``n_points``
    demand points drawn from the user groups on the same maps, as ``cellscape energy`` does
    (:mod:`cellscape.ai.flow`; one computation of the maps serves both). Sectors without users
    or points are left out (no traffic to watch); ``meta['left_out']`` names them.
    """
    from cellscape.ai.flow import flow_network_from_maps
    from cellscape.coverage.engine import sector_maps
    from cellscape.pipeline.coverage import load_footprints
    from cellscape.pipeline.energy import demand_weights
    from cellscape.pipeline.forecast import cell_demand_of_simulation
    from cellscape.pipeline.simulate import simulation_grid

    sc = sim.scenario
    grid, site_xy_m = simulation_grid(sim)
    maps = sector_maps(sc, grid, site_xy_m, footprints=load_footprints(sc, grid), terrain=terrain, backend=backend,
                       progress=progress)
    demand = cell_demand_of_simulation(sim, maps=maps)
    rng = np.random.default_rng(np.random.SeedSequence([int(sim.seed), 1864]))
    net = flow_network_from_maps(maps, site_xy_m, demand_weights(sim, maps), n_points=n_points, rng=rng, scenario=sc)
    sector_id = np.asarray(maps.sectors.sector_id, dtype=str)
    if not np.array_equal(sector_id, np.asarray(demand.cell_id, dtype=str)):
        raise AnomalyInputError("the sectors of the demand and of the maps differ")   # same scenario: never
    radio, keep = cell_radio_of_flow(net, users=demand.users, peak_load=demand.peak_load)
    if keep.sum() < 2:
        raise AnomalyInputError(f"{sim.name}: {int(keep.sum())} sector(s) serve any user; anomaly detection "
                                f"needs at least 2")
    xy = np.asarray(net.sector_xy_m, dtype=float)[keep]
    meta = {"simulation": sim.name, "n_points": int(net.n_points), "left_out": [str(c) for c in sector_id[~keep]],
            "type_rule": [str(t) for t in np.asarray(demand.type_rule)[keep]]}
    return CellNetwork(sim.name, tuple(str(c) for c in sector_id[keep]),
                       tuple(str(t) for t in np.asarray(demand.cell_type)[keep]), np.asarray(demand.peak_load)[keep],
                       xy[:, 0], xy[:, 1], radio, meta)


@dataclass(frozen=True)
class SyntheticRun:
    """One synthetic history: the KPI series (with the injections), the injected truth, the detection
    and the counts against the truth (evaluation window only)."""

    seed: int
    run: AnomalyRun
    injection: Injection
    events: tuple[InjectedEvent, ...]          # steps counted from the evaluation window's start
    point_counts: dict
    event_counts: dict


def _seeds(seed: int) -> tuple[int, np.random.Generator, np.random.Generator]:
    load_ss, inject_ss, kpi_ss = np.random.SeedSequence(seed).spawn(3)
    return int(load_ss.generate_state(1)[0]), np.random.default_rng(inject_ss), np.random.default_rng(kpi_ss)


def synthetic_run(network: CellNetwork, *, seed: int, n_days: int = 28, eval_days: float = 7.0,
                  plan: InjectionPlan = InjectionPlan(), config: DetectorConfig = DetectorConfig(),
                  radio: CellRadio | None = None, step_s: int = 900, start: str = "2026-01-05") -> SyntheticRun:
    """Draw a load history (:func:`cellscape.ai.loadgen.generate_load_history`), inject ``plan``'s
    events in the evaluation window, derive the KPIs (:func:`kpis_from_load`), detect with a baseline
    fitted on the clean training window and count hits against the truth."""
    from cellscape.ai.loadgen import generate_load_history

    load_seed, inject_rng, kpi_rng = _seeds(seed)
    history = generate_load_history(network.peak_load, list(network.cell_type), n_days=n_days, step_s=step_s,
                                    start=start, seed=load_seed, cell_id=list(network.cell_id))
    adjacency = adjacency_from_positions(network.x_m, network.y_m)
    n_eval = int(round(eval_days * SECONDS_PER_DAY / step_s))
    w0 = history.n_steps - n_eval
    if n_eval < 1 or w0 * step_s < 14 * SECONDS_PER_DAY:
        raise AnomalyInputError(f"--days {n_days} with {eval_days:g} evaluation days leaves "
                                f"{w0 * step_s / SECONDS_PER_DAY:.1f} training days; the baseline needs 14")
    injection = inject_events(history.load, adjacency, plan, window=(w0, history.n_steps), rng=inject_rng)
    radio = radio or network.radio
    kpis = kpis_from_load(injection.offered_load, adjacency, radio, rng=kpi_rng, off=injection.off,
                          jamming_db=injection.jamming_db)
    series = KpiSeries(tuple(network.cell_id), history.start, step_s, kpis)
    run = run_detection(series, eval_days=eval_days, config=config, adjacency=adjacency)
    events = tuple(replace(e, start_step=e.start_step - w0, stop_step=e.stop_step - w0) for e in injection.events)
    det = run.detection
    pc = point_counts(injection.truth_kind[:, w0:], injection.truth_affected[:, w0:], det.flagged, det.predicted_kind)
    return SyntheticRun(seed, run, injection, events, pc, event_counts(events, det))


@dataclass(frozen=True)
class SyntheticEvaluation:
    """Synthetic runs over several seeds, their counts summed and the metrics of the sums."""

    network: CellNetwork
    runs: tuple[SyntheticRun, ...]
    point: dict
    event: dict


def evaluate_synthetic(network: CellNetwork, *, seeds: Sequence[int], **kwargs) -> SyntheticEvaluation:
    """:func:`synthetic_run` for each seed; point and event metrics of the summed counts (micro average).

    Keyword arguments go to :func:`synthetic_run`.
    """
    if not seeds:
        raise AnomalyInputError("evaluate_synthetic needs at least one seed")
    runs = tuple(synthetic_run(network, seed=int(s), **kwargs) for s in seeds)
    pc, ec = runs[0].point_counts, runs[0].event_counts
    for r in runs[1:]:
        pc, ec = add_counts(pc, r.point_counts), add_counts(ec, r.event_counts)
    return SyntheticEvaluation(network, runs, point_metrics(pc), event_metrics(ec))


__all__ = ["AnomalyRun", "CellNetwork", "SyntheticEvaluation", "SyntheticRun", "evaluate_synthetic",
           "network_of_simulation", "run_detection", "split_train_eval", "synthetic_run"]
