"""``cellscape assess``: resilience and security of a network (docs/resilience.md). Register in
:mod:`cellscape.cli.app` with ``app.command(name="assess")(assess)``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cellscape.cli._errors import one_line_errors


@one_line_errors
def assess(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file (the radio scenario).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out/assess"),
    assess_file: Annotated[Path | None, typer.Option("--assess", help="YAML file with the assess: block "
                                                     "(jammers, rogue cells, k, self-healing); default: N-1/N-2 only.")] = None,
    plan: Annotated[Path | None, typer.Option("--plan", help="A `cellscape plan` output folder: assess its network "
                                              "and its fibre routes and data centres.")] = None,
    backend: Annotated[str, typer.Option(help="Map engine backend: numba or numpy.")] = "numba",
    png: Annotated[bool, typer.Option(help="Also draw the PNG maps.")] = True,
) -> None:
    """N-1 / N-k outages (and a plan's fibre and data centres), self-healing, jamming and rogue cells.

    Writes outages.parquet, outages_worst.tif, jamming.tif, rogue.tif, assess.json, assess.md and PNG maps.
    """
    import time

    from cellscape._validate import check_choice
    from cellscape.cli.app import _terrain_of, tile_progress
    from cellscape.io.assess_inputs import demand_raster_on, load_assess
    from cellscape.io.assess_outputs import write_assess_outputs
    from cellscape.pipeline.assess import run_assess
    from cellscape.pipeline.coverage import localize

    check_choice("--backend", backend, ("numba", "numpy"))
    t0 = time.perf_counter()
    inputs = load_assess(scenario, assess_path=assess_file, plan_dir=plan)
    sc, a = inputs.scenario, inputs.assess
    demand = demand_raster_on(a, localize(sc)[0])
    with tile_progress(f"assessing {sc.name}") as progress:
        run = run_assess(sc, a, backhaul=inputs.backhaul, demand_raster=demand, terrain=_terrain_of(sc),
                         backend=backend, progress=progress)
    paths = write_assess_outputs(run, out, png=png)
    k = run.kpis
    cov = k["coverage"]
    typer.echo(f"{sc.name}: {k['sites']} sites, {k['sectors']} sectors from {inputs.source}; covered "
               f"{cov['covered_area_km2']:.3f} km2, {cov['covered_users']:.0f} users")
    worst = [r for r in run.outages if r.kind == "site"][:3]
    if worst:
        typer.echo("  N-1 worst: " + ", ".join(f"{r.name} ({r.area_lost_km2:.3f} km2, {r.demand_lost:.0f} users)"
                                               for r in worst))
    for r in (r for r in run.outages if r.kind == "n-k"):
        typer.echo(f"  {r.name} ({', '.join(r.sites)}): {r.area_lost_km2:.3f} km2, {r.demand_lost:.0f} users")
    if k["backhaul"] is not None:
        down = [r for r in run.outages if r.kind in ("fiber", "data_center") and r.sites]
        typer.echo(f"  backhaul: {len(k['backhaul'])} cases, {len(down)} take sites down")
    for name, h in run.heal.items():
        share = h.recovered_share
        typer.echo(f"  self-healing {name}: {len(h.neighbours)} neighbours, recovered "
                   f"{'-' if share != share else f'{100 * share:.0f} %'} of the lost users")
    if k["jamming"] is not None:
        j = k["jamming"]
        typer.echo(f"  jamming: denied {j['downlink']['denied_area_km2']:.3f} km2 downlink, "
                   f"{j['uplink']['denied_area_km2']:.3f} km2 uplink")
    if k["rogue"] is not None:
        typer.echo(f"  rogue cells: {k['rogue']['camped_area_km2']:.3f} km2 camped, "
                   f"{k['rogue']['users_exposed']:.0f} users exposed")
    for note in run.notes:
        typer.echo(f"  note: {note}")
    typer.echo(f"wrote {len(paths)} files to {out}/ in {time.perf_counter() - t0:.1f} s")
