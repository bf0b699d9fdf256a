"""``cellscape energy``: a day (or a week) of the network under cell-sleep policies (docs/energy.md).
Registered in :mod:`cellscape.cli.app`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cellscape.cli._errors import one_line_errors


@one_line_errors
def energy(
    simulation_file: Annotated[Path, typer.Argument(help="Simulation YAML file (docs/simulation.md).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out/energy"),
    days: Annotated[int, typer.Option(help="Days simulated (7 for a week).")] = 1,
    step_min: Annotated[float, typer.Option(help="Step of the load and of the policies [min]; divides a day.")] = 15.0,
    threshold: Annotated[float, typer.Option(help="Load under which the threshold policy sleeps a sector.")] = 0.1,
    history_days: Annotated[int, typer.Option(help="Days of load history before the simulated days (>= 7).")] = 28,
    policy: Annotated[str, typer.Option(help="all, or one of threshold, forecast (always_on always runs).")] = "all",
    points: Annotated[int, typer.Option(help="Demand points sampled from the users per pixel.")] = 2000,
    peak_load: Annotated[float, typer.Option(help="Busy-hour PRB load of the busiest sector.")] = 0.8,
    neighbour_limit: Annotated[float, typer.Option(help="Highest load the forecast policy lets a neighbour "
                                                        "reach when it absorbs a sleeping sector.")] = 0.7,
    forecast_model: Annotated[str, typer.Option(help="Forecast model of cellscape.ai.forecast.")] = "auto",
    backend: Annotated[str, typer.Option(help="Map engine backend: numba or numpy.")] = "numba",
    png: Annotated[bool, typer.Option(help="Also draw energy.png.")] = True,
) -> None:
    """Energy per policy (always on, load threshold, forecast-driven sleep) with the TR 38.864 power model.

    Writes energy.json, energy_timeseries.parquet and energy.png.
    """
    import time

    from cellscape._validate import check_choice
    from cellscape.ai.energy import POLICIES
    from cellscape.cli.app import _terrain_of, tile_progress
    from cellscape.io.energy_outputs import write_energy_outputs
    from cellscape.io.scenario_yaml import load_simulation
    from cellscape.pipeline.energy import run_energy

    check_choice("--backend", backend, ("numba", "numpy"))
    check_choice("--policy", policy, ("all",) + POLICIES)
    policies = POLICIES if policy == "all" else ("always_on", policy)
    t0 = time.perf_counter()
    sim = load_simulation(simulation_file)
    terrain = _terrain_of(sim.scenario)
    with tile_progress(f"maps of {sim.name}") as progress:
        def stage(name: str, done: int, total: int) -> None:
            if name == "maps":
                progress(done, total)

        run = run_energy(sim, days=days, step_min=step_min, threshold=threshold, history_days=history_days,
                         policies=policies, n_points=points, peak_load=peak_load, forecast_model=forecast_model,
                         neighbour_limit=neighbour_limit, backend=backend, terrain=terrain, progress=stage)
    paths = write_energy_outputs(run, out, png=png)
    m = run.meta
    typer.echo(f"{sim.name}: {m['n_sectors']} sectors, {m['n_points']} demand points, {m['days']} day(s) from "
               f"{m['first_day']} in steps of {m['step_min']:g} min")
    for name, s in run.result.summary.items():
        thr = s["user_throughput_mbps"]
        typer.echo(f"  {name:>9}: {s['energy_kwh']:8.1f} kWh ({s['saved_pct']:5.1f} % saved), user throughput "
                   f"p5/p50/p95 {thr['p5']:.1f}/{thr['p50']:.1f}/{thr['p95']:.1f} Mbit/s, coverage lost "
                   f"{s['coverage_lost_pct']:.2f} %, {s['wake_up_violations']} wake-up violations, "
                   f"{s['n_transitions']} transitions")
    typer.echo(f"wrote {len(paths)} files to {out}/ in {time.perf_counter() - t0:.1f} s")
