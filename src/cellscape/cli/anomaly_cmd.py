"""``cellscape anomalies``: KPI anomaly detection on a per-cell KPI table, or on a synthetic history
with injected outages, jamming and surges scored against the truth (docs/anomaly.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cellscape.cli._errors import one_line_errors


def _rate(x) -> str:
    return "n/a" if x is None or x != x else f"{x:.3f}"


@one_line_errors
def anomalies(
    kpis: Annotated[Optional[Path], typer.Argument(
        help="KPI table (.parquet or .csv): cell_id, timestamp and KPI columns (prb_utilisation, throughput_mbps, "
             "sinr_db, rsrp_dbm, connected_users, ...).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out/anomalies"),
    synthesize: Annotated[Optional[Path], typer.Option(
        "--synthesize", help="Simulation file: build each sector's KPI history from its simulated load, inject "
                             "outages, jamming and surges, and report precision/recall against them.")] = None,
    days: Annotated[int, typer.Option(help="--synthesize: length of the history, in days.")] = 28,
    eval_days: Annotated[float, typer.Option(help="Last days evaluated; the baseline is fitted on the days before.")] = 7.0,
    seed: Annotated[int, typer.Option(help="--synthesize: seed of the first history.")] = 0,
    runs: Annotated[int, typer.Option(help="--synthesize: histories (seeds SEED, SEED+1, ...) whose counts are summed.")] = 1,
    neighbours: Annotated[Optional[Path], typer.Option(
        help="Neighbour list (cell_id, neighbour_id) for a KPI table: concurrent events of neighbours form one "
             "incident.")] = None,
    z_threshold: Annotated[float, typer.Option(help="Robust z-score a step must reach on --min-kpis KPIs.")] = 5.0,
    min_kpis: Annotated[int, typer.Option(help="KPIs that must reach --z-threshold together.")] = 2,
    min_steps: Annotated[int, typer.Option(help="Shortest event, in time steps.")] = 2,
    backend: Annotated[str, typer.Option(help="--synthesize: map engine backend, numba or numpy.")] = "numba",
    png: Annotated[bool, typer.Option(help="Also draw anomalies.png.")] = True,
) -> None:
    """Detect KPI anomalies per cell: time-of-week baseline, robust z-scores, events classified as
    outage / jamming / surge.

    Writes anomalies.parquet, anomaly_metrics.json and anomalies.png; with --synthesize also kpis.parquet
    and injected_events.parquet (the first history) and precision/recall in anomaly_metrics.json.
    """
    import time

    from cellscape.resilience.anomaly import AnomalyInputError, DetectorConfig

    t0 = time.perf_counter()
    if (kpis is None) == (synthesize is None):
        raise AnomalyInputError("give either a KPI table (KPIS) or --synthesize SIM.yaml, not both or neither")
    if runs < 1:
        raise AnomalyInputError(f"--runs {runs} must be >= 1")
    if synthesize is not None and neighbours is not None:
        raise AnomalyInputError("--neighbours is for a KPI table; a synthetic history takes them from the sites")
    config = DetectorConfig(z_threshold=z_threshold, min_kpis=min_kpis, min_duration_steps=min_steps)

    from cellscape.io.anomaly_io import write_anomaly_outputs

    if kpis is not None:
        from cellscape.io.anomaly_io import read_kpi_table, read_neighbours
        from cellscape.pipeline.anomaly import run_detection

        series = read_kpi_table(kpis)
        adjacency = None if neighbours is None else read_neighbours(neighbours, series.cell_id)
        run = run_detection(series, eval_days=eval_days, config=config, adjacency=adjacency)
        paths = write_anomaly_outputs(run, out, png=png)
        _report(run)
    else:
        from cellscape._validate import check_choice
        from cellscape.cli.app import _terrain_of, tile_progress
        from cellscape.io.scenario_yaml import load_simulation
        from cellscape.pipeline.anomaly import evaluate_synthetic, network_of_simulation

        check_choice("--backend", backend, ("numba", "numpy"))
        sim = load_simulation(synthesize)
        with tile_progress(f"maps of {sim.name}") as progress:
            network = network_of_simulation(sim, terrain=_terrain_of(sim.scenario), backend=backend,
                                            progress=progress)
        seeds = list(range(seed, seed + runs))
        ev = evaluate_synthetic(network, seeds=seeds, n_days=days, eval_days=eval_days, config=config)
        run = ev.runs[0].run
        metrics = {"synthetic": {"network": network.name, "seeds": seeds, "n_days": days, "eval_days": eval_days,
                                 "sectors_left_out": network.meta.get("left_out", []), "point": ev.point,
                                 "event": ev.event}}
        paths = write_anomaly_outputs(run, out, metrics=metrics, synthetic=ev.runs[0], png=png)
        typer.echo(f"{sim.name}: {network.n_cells} sectors (busy-hour load {network.peak_load.min():.2f} to "
                   f"{network.peak_load.max():.2f}), {len(seeds)} history(ies) of {days} days, events injected in the "
                   f"last {eval_days:g}")
        _report(run)
        p, e = ev.point, ev.event
        typer.echo(f"  vs injected truth ({len(seeds)} histories of {days} days, {network.n_cells} cells): "
                   f"events precision {_rate(e['precision'])} recall {_rate(e['recall'])} F1 {_rate(e['f1'])}; "
                   f"points precision {_rate(p['precision'])} recall {_rate(p['recall'])} F1 {_rate(p['f1'])}")
        for kind, m in e["by_kind"].items():
            if kind != "other":
                typer.echo(f"    {kind}: {m['detected']}/{m['injected']} detected, {m['typed']} as {kind}; "
                           f"point recall {_rate(p['by_kind'][kind]['recall'])}")
    typer.echo(f"wrote {len(paths)} files to {out}/ in {time.perf_counter() - t0:.1f} s")


def _report(run) -> None:
    ev = run.evaluation
    det = run.detection
    kinds = {}
    for e in det.events:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    listed = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
    typer.echo(f"{ev.n_cells} cells x {ev.n_steps} steps of {ev.step_s} s evaluated from {ev.start} (baseline on "
               f"{run.train.n_steps * run.train.step_s / 86400:.1f} days before): {len(det.events)} events ({listed})")


__all__ = ["anomalies"]
