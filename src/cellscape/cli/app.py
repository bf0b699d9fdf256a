"""The ``cellscape`` command line: thin commands that parse, call the library and print (STYLE.md P15)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from cellscape.cli._errors import one_line_errors

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None,
                  help="Plan and simulate 5G/6G radio networks (TR 38.901 coverage maps and KPIs).")


@app.command()
@one_line_errors
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    allow_large: Annotated[bool, typer.Option("--allow-large", help="Raise every input limit (file sizes, YAML "
                                              "nodes and depth, site rows, raster pixels) 100-fold "
                                              "(cellscape.io.limits; one limit: CELLSCAPE_<LIMIT>=N).")] = False,
) -> None:
    """Check a scenario file; print what is wrong with field paths, or a short summary.

    A site file of more than LARGE_SITE_FILE_ROWS sector rows is checked as columns (the same
    rules and messages, without a Python object per site: docs/scenario.md, "Big site files")."""
    from dataclasses import replace

    from cellscape.io.scenario_yaml import load_scenario, load_scenario_columns, sites_file_rows
    from cellscape.io.sites_file import LARGE_SITE_FILE_ROWS
    from cellscape.io.limits import allow_large as raise_limits
    from cellscape.pipeline import check_scenario
    from cellscape.scenario.columns import height_extreme_sites

    if allow_large:
        raise_limits()
    n_rows = sites_file_rows(scenario)
    if n_rows is not None and n_rows > LARGE_SITE_FILE_ROWS:
        sc, cols = load_scenario_columns(scenario)
        # TR 38.901 height ranges are intervals: the lowest and highest antenna of each environment stand for all
        few = cols.records(height_extreme_sites(cols, default_environment=sc.environment))
        summary = {**check_scenario(replace(sc, sites=few)), "sites": cols.n_sites, "sectors": cols.n_sectors}
    else:
        summary = check_scenario(load_scenario(scenario))
    typer.echo(f"ok: {scenario} " + ", ".join(f"{k}={v}" for k, v in summary.items()))


@app.command()
@one_line_errors
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    backend: Annotated[str, typer.Option(help="Compute backend: numba or numpy.")] = "numba",
    png: Annotated[bool, typer.Option(help="Also write PNG maps and CDF plots.")] = True,
    device: Annotated[str | None, typer.Option(help="Device profile to map for: smartphone, redcap, cpe, vehicle "
                                                    "(docs/simulation.md); default the scenario's receiver.")] = None,
    stream: Annotated[bool, typer.Option("--stream", help="Stream tiles into Cloud-Optimized GeoTIFFs, never holding "
                                                          "the map (docs/national.md); downlink maps and KPIs only.")
                      ] = False,
    resume: Annotated[bool, typer.Option("--resume", help="With --stream: go on from the finished tiles of an "
                                                          "interrupted run in OUT.")] = False,
    max_output_gb: Annotated[float, typer.Option(help="With --stream: refuse runs whose output may exceed this [GB].")
                             ] = 50.0,
    max_hours: Annotated[float, typer.Option(help="With --stream: refuse runs estimated to take longer [h].")] = 24.0,
    workers: Annotated[int | None, typer.Option(help="With --stream: compute the tiles on a local Dask cluster of "
                                                     "this many worker processes (docs/national.md).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="With --stream: compute the tiles on an existing "
                                                       "dask.distributed cluster, e.g. tcp://host:8786.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="With --stream: cog (coverage.tif, best_sector.tif), "
                                                                "zarr (coverage.zarr) or both (docs/national.md).")
                             ] = "cog",
    allow_large: Annotated[bool, typer.Option("--allow-large", help="Raise every input limit (file sizes, YAML "
                                              "nodes and depth, site rows, raster pixels) 100-fold "
                                              "(cellscape.io.limits; one limit: CELLSCAPE_<LIMIT>=N).")] = False,
) -> None:
    """Compute downlink and uplink coverage maps and KPIs for a scenario and write them to OUT."""
    from cellscape.io.coverage_outputs import write_coverage_outputs
    from cellscape.io.limits import allow_large as raise_limits
    from cellscape.io.scenario_yaml import load_scenario
    from cellscape.pipeline import run_coverage

    if allow_large:
        raise_limits()
    if stream or resume or workers is not None or scheduler is not None or output_format != "cog":
        sc, columns = _load_for_stream(scenario)
        _run_streamed(sc, out, backend=backend, stream=stream, resume=resume, device=device,
                      max_output_gb=max_output_gb, max_hours=max_hours, workers=workers, scheduler=scheduler,
                      site_columns=columns, output_format=output_format)
        return
    sc = load_scenario(scenario)
    profile = None
    if device is not None:
        from cellscape.scenario.devices import device_profile

        profile = device_profile(device)
    terrain = _terrain_of(sc)
    with tile_progress(f"coverage {sc.name}") as progress:
        result = run_coverage(sc, terrain=terrain, backend=backend, device=profile, progress=progress)
    paths = write_coverage_outputs(result, out, png=png)
    k = result.kpis
    grid = result.result.grid
    typer.echo(f"{sc.name}: {grid.n_rows} x {grid.n_cols} pixels of {grid.resolution_m:g} m, "
               f"{sc.n_sectors} sectors, CRS {grid.crs}" + (f", device {device}" if device else ""))
    for line in _kpi_lines(k):
        typer.echo(f"  {line}")
    typer.echo(f"wrote {len(paths)} files to {out}/")


def _load_for_stream(path: Path):
    """A streamed run's scenario: a site file of more than LARGE_SITE_FILE_ROWS rows is read as
    columns (a national network: each block of the map from its neighbours, cellscape.pipeline.national);
    returns (scenario, columns or None)."""
    from cellscape.io.scenario_yaml import load_scenario, load_scenario_columns, sites_file_rows
    from cellscape.io.sites_file import LARGE_SITE_FILE_ROWS

    rows = sites_file_rows(path)
    if rows is not None and rows > LARGE_SITE_FILE_ROWS:
        return load_scenario_columns(path)
    return load_scenario(path), None


def _run_streamed(sc, out: Path, *, backend: str, stream: bool, resume: bool, device: str | None,
                  max_output_gb: float, max_hours: float, workers: int | None = None,
                  scheduler: str | None = None, site_columns=None, output_format: str = "cog") -> None:
    """``run --stream [--resume] [--workers N | --scheduler ADDRESS]``: tiles streamed into COGs with a
    journal (cellscape.io.stream_writer), computed in this process or on Dask workers; a network
    given as ``site_columns`` block by block from each block's neighbours."""
    from contextlib import ExitStack

    from cellscape.errors import ScenarioError

    if not stream and output_format != "cog" and not resume and workers is None and scheduler is None:
        raise ScenarioError(f"--format {output_format} goes with --stream (a normal run writes GeoTIFFs)")
    if not stream:
        what = "--resume" if resume else "--workers" if workers is not None else "--scheduler"
        raise ScenarioError(f"{what} goes with --stream (only a streamed run keeps a journal of finished tiles)"
                            if resume else f"{what} goes with --stream (only a streamed run is computed on Dask)")
    if device is not None:
        raise ScenarioError("--device is not available with --stream yet; run without --stream")
    if workers is not None and scheduler is not None:
        raise ScenarioError("--workers starts a local Dask cluster, --scheduler joins an existing one: give one")
    if workers is not None and workers < 1:
        raise ScenarioError(f"--workers={workers} must be at least 1")
    terrain = _terrain_of(sc)
    with ExitStack() as stack:
        client = _dask_client(stack, workers=workers, scheduler=scheduler)
        result, paths = _stream_with_bar(sc, out, resume=resume, terrain=terrain, backend=backend,
                                         max_output_gb=max_output_gb, max_hours=max_hours, client=client,
                                         site_columns=site_columns, output_format=output_format)
    grid = result.grid
    where = ("" if client is None else f" on {workers} local Dask workers" if workers is not None
             else f" on the Dask cluster at {scheduler}")
    n_sectors = sc.n_sectors if site_columns is None else site_columns.n_sectors
    typer.echo(f"{sc.name}: {grid.n_rows} x {grid.n_cols} pixels of {grid.resolution_m:g} m, {n_sectors:,} sectors, "
               f"CRS {grid.crs}, {result.tiles_computed} of {result.tiles_total} tiles computed (streamed){where}")
    typer.echo(f"  estimate was: {result.estimate.line()}")
    for line in _kpi_lines(result.kpis):
        typer.echo(f"  {line}")
    typer.echo(f"wrote {len(paths)} files to {out}/")


def _dask_client(stack, *, workers: int | None, scheduler: str | None):
    """The run's Dask client (cellscape.cli._dask): local workers split the cores between numba's threads."""
    import os

    from cellscape.cli._dask import dask_client

    numba_threads = str(max(1, (os.cpu_count() or 1) // workers)) if workers else "1"
    return dask_client(stack, workers=workers, scheduler=scheduler, worker_env={"NUMBA_NUM_THREADS": numba_threads})


@contextmanager
def tile_progress(description: str, *, time_left: bool = False):
    """A transient progress bar of tiles done; yields the ``progress(done, total)`` callback the
    pipelines take. ``time_left``: also the estimated time left."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} tiles"),
               TimeElapsedColumn()] + ([TimeRemainingColumn()] if time_left else [])
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _stream_with_bar(sc, out: Path, **kwargs):
    """run_coverage_streamed with a progress bar of tiles done and time left."""
    from cellscape.io.stream_writer import run_coverage_streamed

    with tile_progress(f"coverage {sc.name} (streamed)", time_left=True) as progress:
        return run_coverage_streamed(sc, out, progress=progress, **kwargs)


def _terrain_of(scenario):
    """The DEM a scenario's ``terrain`` block names, read at the edge; None without one."""
    if scenario.terrain is None:
        return None
    from cellscape.io.terrain import read_terrain

    return read_terrain(scenario.terrain.path)


def _kpi_lines(k: dict) -> list[str]:
    lines = []
    cov = k.get("coverage", {})
    for key, val in cov.items():
        if isinstance(val, dict) and val.get("all") is not None:
            lines.append(f"area with {key}: {100 * val['all']:.1f} %")
    sinr = k.get("sinr_db_percentiles", {})
    if sinr:
        lines.append("SINR percentiles [dB]: " + ", ".join(
            f"p{q}={v:.1f}" if v is not None else f"p{q}=n/a" for q, v in sinr.items()))
    ul = k.get("uplink")
    if ul:
        lines.append(f"area reaching CQI 1 (SINR >= {ul['sinr_threshold_db']:.1f} dB): downlink "
                     f"{100 * ul['area_fraction_dl_covered']:.1f} %, uplink ({ul['n_prb']} PRB) "
                     f"{100 * ul['area_fraction_ul_covered']:.1f} %, both {100 * ul['area_fraction_both_covered']:.1f} %")
    return lines


@app.command()
@one_line_errors
def candidates(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file with a buildings: block.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output site file (.csv); a .geojson is written beside it.")
                   ] = Path("candidates.csv"),
    min_roof_m: Annotated[float, typer.Option(help="Lowest roof accepted [m].")] = 15.0,
    max_roof_m: Annotated[float, typer.Option(help="Highest roof accepted [m].")] = 60.0,
    min_area_m2: Annotated[float, typer.Option(help="Smallest footprint accepted [m^2].")] = 200.0,
    mast_m: Annotated[float, typer.Option(help="Antenna height above the roof [m].")] = 3.0,
    min_spacing_m: Annotated[float, typer.Option(help="Minimum distance between candidates [m], 0 = all.")] = 0.0,
    environment: Annotated[str, typer.Option(help="TR 38.901 environment written for each candidate.")] = "UMa",
) -> None:
    """List rooftop candidate sites from the scenario's buildings (a site file with 3 sectors each)."""
    from cellscape._validate import check_choice
    from cellscape.errors import DataFileError
    from cellscape.io.candidates import write_candidates
    from cellscape.io.scenario_yaml import load_scenario
    from cellscape.pipeline import rooftop_candidates
    from cellscape.scenario.records import ENVIRONMENTS

    check_choice("environment", environment, ENVIRONMENTS)
    if out.suffix.lower() != ".csv":
        raise DataFileError(f"{out}: rooftop candidates are written as a .csv site file")
    sc = load_scenario(scenario)
    found = rooftop_candidates(sc, min_roof_m=min_roof_m, max_roof_m=max_roof_m, min_area_m2=min_area_m2,
                               mast_m=mast_m, min_spacing_m=min_spacing_m)
    paths = write_candidates(out, found, crs=sc.area.crs, environment=environment)
    typer.echo(f"{len(found)} rooftop candidates (roofs {min_roof_m:g}-{max_roof_m:g} m, >= {min_area_m2:g} m^2"
               + (f", >= {min_spacing_m:g} m apart" if min_spacing_m else "") + f") -> "
               + ", ".join(str(p) for p in paths))


@app.command()
@one_line_errors
def plan(
    plan_file: Annotated[Path, typer.Argument(help="Plan YAML file (docs/planning.md).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out/plan"),
    backend: Annotated[str, typer.Option(help="Compute backend: numba or numpy.")] = "numba",
    png: Annotated[bool, typer.Option(help="Also write PNG maps and the rollout curve.")] = True,
) -> None:
    """Plan a network: choose sites (MILP vs greedy), phase the rollout, tune sectors, plan fibre.

    Writes plan.geojson, rollout.csv/.png, maps before/after, plan.json and a Markdown/HTML report.
    """
    from rich.console import Console

    from cellscape.io.plan_outputs import write_plan_outputs
    from cellscape.io.scenario_yaml import load_plan
    from cellscape.pipeline import run_plan

    p = load_plan(plan_file)
    demand = None
    terrain = _terrain_of(p.scenario)
    if p.demand.raster is not None:
        from cellscape.io.demand import read_demand_raster
        from cellscape.pipeline import plan_grid

        demand = read_demand_raster(p.demand.raster, plan_grid(p))
    console = Console(stderr=True)
    with console.status(f"planning {p.name}") as status:
        result = run_plan(p, terrain=terrain, demand_raster=demand, backend=backend,
                          progress=lambda stage: status.update(f"planning {p.name}: {stage}"))
    paths = write_plan_outputs(result, out, png=png)
    s, g = result.selection, result.greedy
    unit = p.costs.unit
    typer.echo(f"{p.name}: {len(result.candidates.sites)} candidates, {result.n_classes} demand classes")
    typer.echo(f"  MILP ({s.status}): {int(s.chosen.sum())} sites, cost {s.cost:.1f} {unit}, bound {s.bound:.1f}, "
               f"gap {100 * s.gap:.2f} %, {s.seconds:.1f} s")
    typer.echo(f"  greedy: {int(g.chosen.sum())} sites, cost {g.cost:.1f} {unit}, {g.seconds:.2f} s")
    for row in result.targets_after:
        got = row["measured"]
        shown = "n/a" if got is None else (f"{got:.2f}" if row.get("sense") == "max" else f"{100 * got:.1f} %")
        typer.echo(f"  {row['target']}: {shown} ({'met' if row['met'] else 'NOT met'}, re-measured)")
    if result.tuning is not None:
        t = result.tuning
        typer.echo(f"  tuning ({p.tuning.kpi}): {t.kpi_before:.2f} -> {t.kpi_after:.2f} in {t.evaluations} runs")
    f = result.fiber
    typer.echo(f"  fibre: {f['length_km']:.2f} km trench ({f['routing']}), data centres {', '.join(f['data_centers'])}")
    typer.echo(f"wrote {len(paths)} files to {out}/")


@app.command()
@one_line_errors
def simulate(
    simulation_file: Annotated[Path, typer.Argument(help="Simulation YAML file (docs/simulation.md).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out/simulation"),
    backend: Annotated[str, typer.Option(help="Map backend: numba or numpy.")] = "numba",
    png: Annotated[bool, typer.Option(help="Also write CDF, time-series and user plots.")] = True,
) -> None:
    """Simulate users and devices on the network: scheduling, link adaptation, mobility, handover.

    Writes ue_kpis/cell_kpis/timeseries/events parquet files, summary.json and plots.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from cellscape.io.scenario_yaml import load_simulation
    from cellscape.io.simulation_outputs import write_simulation_outputs
    from cellscape.pipeline.simulate import run_simulate, simulation_grid

    sim = load_simulation(simulation_file)
    terrain = _terrain_of(sim.scenario)
    demand = {}
    rasters = [g for g in sim.users if g.drop.kind == "raster"]
    if rasters:
        from cellscape.io.demand import read_demand_raster

        grid = simulation_grid(sim)[0]
        demand = {g.name: read_demand_raster(g.drop.raster, grid) for g in rasters}
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), TimeRemainingColumn(), transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{sim.name}: {stage}", total=total)
            bar.update(tasks[stage], completed=done, total=total)

        result = run_simulate(sim, terrain=terrain, demand=demand, backend=backend, progress=progress)
    paths = write_simulation_outputs(result, out, png=png)
    if result.iot is not None:
        import numpy as np

        from cellscape.io.iot_outputs import write_iot_outputs

        m0 = next(iter(result.maps.values()))
        paths += write_iot_outputs(result.iot, result.result.grid, out, png=png, name=sim.name,
                                   sites_xy_m=np.column_stack([m0.sectors.x_m, m0.sectors.y_m]),
                                   footprints=result.footprints)
    s = result.result.summary
    thr = s["user_throughput_mbps"]
    typer.echo(f"{sim.name}: {s['users']} users, {s['sectors']} sectors, {s['measured_s']:g} s measured")
    typer.echo(f"  DL user throughput [Mbit/s]: p5={thr['p5']:.2f} p50={thr['p50']:.2f} p95={thr['p95']:.2f}; "
               f"cell spectral efficiency {s['cell_spectral_efficiency_bps_hz']:.2f} bit/s/Hz")
    typer.echo(f"  handovers {s['handovers']} (ping-pong {100 * s['ping_pong_rate']:.0f} %), "
               f"RLF rate {s['rlf_rate_per_user_s']:.3f} /user/s")
    for name, sl in s["slices"].items():
        typer.echo(f"  slice {name}: {sl['users']} users, SLA met by {100 * sl['sla_satisfaction']:.1f} %")
    if result.iot is not None:
        typer.echo("  " + iot_line(s["iot"]))
    typer.echo(f"wrote {len(paths)} files to {out}/")


def iot_line(iot: dict) -> str:
    """One line of the IoT evaluation: coverage classes, the configured density, the connection density."""
    sh = iot["area_share"]
    run = iot["at_configured_density"]
    line = (f"NB-IoT at {iot['fc_ghz']:g} GHz: CE0/CE1/CE2/beyond MCL {100 * sh['ce0']:.1f}/{100 * sh['ce1']:.1f}/"
            f"{100 * sh['ce2']:.1f}/{100 * sh['out_of_coverage']:.1f} % of the area; "
            f"{run['density_per_km2']:.3g} devices/km2: access success {100 * run['access_success_rate']:.2f} %, "
            f"outage {100 * run['packet_outage_rate']:.2f} %")
    cd = iot["connection_density_per_km2"]
    if cd is not None:
        verdict = "meets" if iot["meets_imt2020_connection_density"] else "does NOT meet"
        line += f"; connection density {cd:.3g}/km2 at 1 % outage ({verdict} IMT-2020's 1e6/km2)"
    return line


@app.command()
@one_line_errors
def calibrate(
    scenario: Annotated[str, typer.Option(help="UMa, UMi, InH-office-open or InH-office-mixed.")] = "UMa",
    fc_ghz: Annotated[float, typer.Option(help="Carrier frequency [GHz] (6, 30 or 70 in the published results).")] = 6.0,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out/calibration"),
    n_drops: Annotated[int, typer.Option(help="Number of UEs dropped.")] = 20000,
    seed: Annotated[int, typer.Option(help="Seed of all randomness.")] = 1,
    system: Annotated[bool, typer.Option("--system", help="Run the full-buffer system-level calibration instead: "
                                         "cell and 5th-percentile user spectral efficiency vs published figures.")] = False,
    drops: Annotated[int, typer.Option(help="--system: network drops (each 10 UEs per cell).")] = 20,
    duration_s: Annotated[float, typer.Option(help="--system: simulated time per drop [s].")] = 2.0,
    scheduler: Annotated[str, typer.Option(help="--system: pf or rr.")] = "pf",
    iot: Annotated[bool, typer.Option("--iot", help="Evaluate NB-IoT connection density in ITU-R M.2412's "
                                      "Urban Macro-mMTC test environment (configurations A and B) instead.")] = False,
    isac: Annotated[bool, typer.Option("--isac", help="Run the TR 38.901 7.9.6.1 large-scale ISAC calibration "
                                       "with a UAV target (Table 7.9.6.1-1, UMa-AV, 6 or 30 GHz) instead; "
                                       "--n-drops counts drops of 1 target + 30 UEs.")] = False,
) -> None:
    """Reproduce the TR 38.901 7.8.1 large-scale calibration and compare with the published results.

    Writes calibration.csv (metric,percentile,value) and CDF plots with the published 3GPP medians
    (R1-165974) overlaid, and prints the largest gap per metric. With --system: runs the system-level
    simulator on the wrap-around drop (full buffer, 10 UEs per cell) and writes system_calibration.csv
    (ours, published, gap), user_spectral_efficiency.csv and user_spectral_efficiency_cdf.png. With
    --iot: NB-IoT coverage classes, random access and the connection density at 1 % packet outage in
    M.2412's Urban Macro-mMTC configurations A (ISD 500 m) and B (1732 m), against IMT-2020's 1e6/km2;
    writes iot_m2412.json and iot_m2412_density.csv. With --isac: the Rel-19 ISAC large-scale
    calibration for UAV targets (TRP monostatic, TRP-TRP, TRP-UE and UE-UE bistatic; target and
    background coupling loss); writes isac_calibration.csv (link,metric,percentile,value) and
    isac_<link>.png.
    """
    import numpy as np

    if isac:
        from cellscape.cli.isac_calibrate_cmd import isac_calibrate

        isac_calibrate(fc_ghz=fc_ghz, out=out, n_drops=n_drops, seed=seed, published=None)
        return

    if iot:
        from cellscape.io.iot_outputs import write_m2412_outputs
        from cellscape.scenario.simulation import IotOptions
        from cellscape.simulation.iot import m2412_mmtc_evaluation

        results = {}
        for config in ("A", "B"):
            ev = m2412_mmtc_evaluation(IotOptions(enabled=True, density_per_km2=1e6), config=config,
                                       n_drops=n_drops, seed=seed)
            results[config] = ev
            typer.echo(f"ITU-R M.2412 Urban Macro-mMTC configuration {config} ({ev.area_km2 / ev.n_sectors * 1e6:.0f} m2 "
                       f"per TRxP): " + iot_line(ev.summary()))
        paths = write_m2412_outputs(results, out)
        typer.echo(f"wrote {len(paths)} files to {out}/")
        return

    if system:
        from cellscape.io.system_calibration_report import (
            PUBLISHED_CSV as SYSTEM_PUBLISHED_CSV,
            read_published_system_calibration,
            write_system_calibration,
        )
        from cellscape.simulation.system_calibration import SystemCalibrationConfig, figure_gaps, run_system_calibration

        cfg = SystemCalibrationConfig(environment=scenario, fc_ghz=fc_ghz, n_drops=drops, duration_s=duration_s,
                                      warmup_s=min(0.2, 0.1 * duration_s), scheduler=scheduler)
        res = run_system_calibration(cfg, seed=seed)
        pub = read_published_system_calibration(SYSTEM_PUBLISHED_CSV)
        paths = write_system_calibration(res, out, published=pub)
        starved = int(np.sum(res.dl_cell_se_bps_hz == 0.0))
        typer.echo(f"{scenario} {fc_ghz:g} GHz full buffer, {res.meta['ues_per_drop']} UEs x {drops} drops, "
                   f"{duration_s:g} s each, {scheduler.upper()}: cells without a delivered downlink bit "
                   f"{starved} of {res.dl_cell_se_bps_hz.size}")
        gaps = {(g.direction, g.metric): g for g in figure_gaps(res, pub)}
        for (direction, metric), ours in res.figures().items():
            g = gaps.get((direction, metric))
            line = f"  {direction} {metric}: ours {ours:.3f}"
            if g is not None:
                line += (f", published {g.published:g} ({g.reference}, {g.antenna}), "
                         f"gap {g.gap:+.3f} ({100 * g.gap_relative:+.0f} %)")
            typer.echo(line)
        typer.echo(f"wrote {len(paths)} files to {out}/")
        return

    from cellscape.io.calibration_report import PUBLISHED_CSV, read_published_calibration, write_calibration
    from cellscape.simulation.calibration import run_calibration

    result = run_calibration(scenario, fc_ghz, n_drops=n_drops, rng=np.random.default_rng(seed))
    published = read_published_calibration(PUBLISHED_CSV, scenario=scenario, fc_ghz=fc_ghz)
    paths = write_calibration(result, out, published=published)
    ours = {(r.metric, r.percentile): r.value for r in result.percentiles()}
    typer.echo(f"{scenario} {fc_ghz:g} GHz, {n_drops} UEs: median coupling loss "
               f"{ours[('coupling_loss_db', 50)]:.1f} dB, median geometry {ours[('geometry_sir_db', 50)]:.1f} dB "
               f"(without noise, as published; {ours[('geometry_sinr_db', 50)]:.1f} dB with noise)")
    gaps: dict[str, float] = {}
    for row in published:
        if (row.metric, row.percentile) in ours:
            gap = ours[(row.metric, row.percentile)] - row.value
            if abs(gap) >= abs(gaps.get(row.metric, 0.0)):
                gaps[row.metric] = gap
    for metric, gap in gaps.items():
        typer.echo(f"  largest gap to the published median (R1-165974), {metric}: {gap:+.2f} dB")
    if not published:
        typer.echo("  no published calibration results for this scenario and frequency")
    typer.echo(f"wrote {len(paths)} files to {out}/")


@app.command()
@one_line_errors
def pathloss(
    d2d_m: Annotated[float, typer.Argument(help="Horizontal BS-UT distance [m].")],
    scenario: Annotated[str, typer.Option(help="TR 38.901 scenario, e.g. UMa, UMi, RMa.")] = "UMa",
    fc_ghz: Annotated[float, typer.Option(help="Carrier frequency [GHz].")] = 3.5,
    h_bs_m: Annotated[float, typer.Option(help="BS antenna height [m].")] = 25.0,
    h_ut_m: Annotated[float, typer.Option(help="UT antenna height [m].")] = 1.5,
) -> None:
    """Print the TR 38.901 LOS and NLOS path loss and LOS probability of one link."""
    from cellscape.propagation import tr38901

    los = float(tr38901.path_loss_db(scenario, d2d_m, h_bs_m, h_ut_m, fc_ghz, True))
    nlos = float(tr38901.path_loss_db(scenario, d2d_m, h_bs_m, h_ut_m, fc_ghz, False))
    p = float(tr38901.los_probability(scenario, d2d_m, h_ut_m, h_bs_m=h_bs_m))
    typer.echo(f"{scenario} {fc_ghz:g} GHz d2d={d2d_m:g} m: LOS {los:.2f} dB, NLOS {nlos:.2f} dB, P(LOS)={p:.3f}")


from cellscape.cli.report_cmd import report  # noqa: E402  (commands in their own modules)
from cellscape.cli.serve_cmd import serve  # noqa: E402
from cellscape.cli.kpi_cmd import kpi  # noqa: E402
from cellscape.cli.synth_cmd import synth_network  # noqa: E402
from cellscape.cli.sense_cmd import sense  # noqa: E402
from cellscape.cli.forecast_cmd import forecast  # noqa: E402
from cellscape.cli.energy_cmd import energy  # noqa: E402
from cellscape.cli.assess_cmd import assess  # noqa: E402
from cellscape.cli.anomaly_cmd import anomalies  # noqa: E402

app.command()(report)
app.command()(serve)
app.command(name="synth-network")(synth_network)
app.command()(kpi)
app.command()(sense)
app.command()(forecast)
app.command()(energy)
app.command()(assess)
app.command()(anomalies)


def main() -> None:
    """The ``cellscape`` executable: SIGINT and SIGTERM raise (cli._signals), so an interrupted
    command removes its temporary files and ends with one line."""
    from cellscape.cli._signals import interrupts_raise

    with interrupts_raise():
        app()
