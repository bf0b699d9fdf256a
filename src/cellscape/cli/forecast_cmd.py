"""``cellscape forecast``: per-cell load forecasting on held-out days against a seasonal-naive baseline
(docs/forecast.md). Registered in :mod:`cellscape.cli.app`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cellscape.cli._errors import one_line_errors


@one_line_errors
def forecast(
    history: Annotated[Optional[Path], typer.Argument(
        help="Load history, Parquet or CSV: cell_id, timestamp, load (or prb_utilisation) as a fraction 0-1.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out/forecast"),
    synthesize: Annotated[Optional[Path], typer.Option(
        "--synthesize", help="Simulation YAML: generate OUT/load_history.parquet from its sectors' demand "
                             "instead of reading HISTORY.")] = None,
    days: Annotated[int, typer.Option(help="--synthesize: days of history to generate.")] = 35,
    holdout_days: Annotated[float, typer.Option(help="Final days held out for scoring (never trained on).")] = 7.0,
    model: Annotated[str, typer.Option(
        help="auto, seasonal_naive, profile, window_average, seasonal_es or mstl (slow).")] = "auto",
    step_s: Annotated[Optional[float], typer.Option(
        help="Sampling step [s]: checked against HISTORY (inferred if omitted); --synthesize: 900 if omitted.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="--synthesize: generator seed (the simulation's seed "
                                                     "if omitted).")] = None,
    shift_day: Annotated[Optional[int], typer.Option(
        help="--synthesize: a lockdown from this day index on (business x0.35, residential x1.3, transport x0.4).")]
    = None,
    holidays: Annotated[str, typer.Option(help="--synthesize: comma-separated holiday dates (Sunday profile).")] = "",
    backend: Annotated[str, typer.Option(help="--synthesize: map backend, numba or numpy.")] = "numba",
    resolution_m: Annotated[Optional[float], typer.Option(
        help="--synthesize: pixel size of the maps [m] (the simulation's by default; coarser is faster).")] = None,
    png: Annotated[bool, typer.Option(help="Also draw forecast.png.")] = True,
) -> None:
    """Train a per-cell load forecast on all but the last days, score it and the seasonal-naive baseline there.

    Writes forecast.parquet, accuracy.json, accuracy.csv and forecast.png (with --synthesize also
    load_history.parquet).
    """
    import time

    from cellscape._validate import check_choice
    from cellscape.ai.forecast import MODELS
    from cellscape.errors import InvalidChoiceError
    from cellscape.io.forecast_outputs import read_load_history, write_forecast_outputs, write_load_history
    from cellscape.pipeline.forecast import run_forecast

    check_choice("--model", model, MODELS)
    if (history is None) == (synthesize is None):
        raise InvalidChoiceError("give either a HISTORY file or --synthesize SIM.yaml (exactly one)")
    t0 = time.perf_counter()
    demand = None
    written = []
    if synthesize is not None:
        from cellscape.cli.app import _terrain_of
        from cellscape.io.scenario_yaml import load_simulation
        from cellscape.pipeline.forecast import cell_demand_of_simulation, default_shift, synthesize_history

        check_choice("--backend", backend, ("numba", "numpy"))
        sim = load_simulation(synthesize)
        demand = cell_demand_of_simulation(sim, terrain=_terrain_of(sim.scenario), backend=backend,
                                           resolution_m=resolution_m)
        hol = [h.strip() for h in holidays.split(",") if h.strip()]
        load_history = synthesize_history(demand, n_days=days, step_s=900.0 if step_s is None else step_s,
                                          holidays=hol, seed=sim.seed if seed is None else seed,
                                          shift=None if shift_day is None else default_shift(shift_day))
        out.mkdir(parents=True, exist_ok=True)
        written.append(write_load_history(out / "load_history.parquet", load_history))
        types = ", ".join(f"{(demand.cell_type == t).sum()} {t}" for t in dict.fromkeys(demand.cell_type.tolist()))
        typer.echo(f"{sim.name}: {demand.cell_id.size} sectors ({types}), busy-hour load "
                   f"{demand.peak_load.min():.2f}-{demand.peak_load.max():.2f}; {days} days generated")
        source = str(synthesize)
    else:
        load_history = read_load_history(history, step_s=step_s)
        source = str(history)
    run = run_forecast(load_history, holdout_days=holdout_days, model=model, demand=demand)
    written += write_forecast_outputs(run, out, png=png)
    ev = run.evaluation
    e, b = ev.errors, ev.baseline_errors
    typer.echo(f"{source}: {load_history.n_cells} cells, {load_history.step_s:g} s step; trained on "
               f"{ev.train_steps * load_history.step_s / 86400:g} days, held out {run.holdout_days:g} days "
               f"from {run.holdout_period[0]}")
    typer.echo(f"  {ev.model}: MAE {e['mae']:.4f}, MAPE {e['mape_pct']:.2f} % (fit+predict {ev.fit_predict_s:.1f} s)")
    typer.echo(f"  seasonal naive (weekly): MAE {b['mae']:.4f}, MAPE {b['mape_pct']:.2f} %")
    typer.echo(f"wrote {len(written)} files to {out}/ in {time.perf_counter() - t0:.1f} s")
