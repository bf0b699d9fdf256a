"""``cellscape sense``: monostatic, bistatic TRP-TRP and/or TRP-UE sensing maps of a scenario's ``sensing:`` block
(docs/sensing.md).
Registered in :mod:`cellscape.cli.app`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cellscape.cli._errors import one_line_errors


@one_line_errors
def sense(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file with a sensing: block.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out/sense"),
    backend: Annotated[str, typer.Option(help="Map engine backend: numba or numpy.")] = "numba",
    png: Annotated[bool, typer.Option(help="Also draw sensing_snr.png and detection_probability.png.")] = True,
) -> None:
    """Sensing SNR, detection probability and detecting TRPs (pairs) per pixel, KPIs and the share trade-off.

    Writes sensing.tif / sensing_bistatic.tif / sensing_trp_ue.tif, sensing_kpis.json, sensing_tradeoff*.csv,
    scenario.json and PNG maps, per the block's mode (monostatic, bistatic, both, trp_ue or a list).
    """
    import time

    from cellscape._validate import check_choice
    from cellscape.cli.app import _terrain_of, tile_progress
    from cellscape.io.scenario_yaml import load_sensing
    from cellscape.io.sensing_outputs import write_sensing_outputs
    from cellscape.pipeline.sense import run_sense

    check_choice("--backend", backend, ("numba", "numpy"))
    t0 = time.perf_counter()
    s = load_sensing(scenario)
    terrain = _terrain_of(s.scenario)
    with tile_progress(f"sensing {s.scenario.name}") as progress:
        run = run_sense(s, terrain=terrain, backend=backend, progress=progress)
    mode_words = s.mode if isinstance(s.mode, str) else "+".join(s.modes)
    paths = write_sensing_outputs(run, out, png=png)
    k = run.kpis
    g = run.grid
    typer.echo(f"{s.scenario.name}: {g.n_rows} x {g.n_cols} pixels of {g.resolution_m:g} m, {k['meta']['n_sectors']} "
               f"sectors, {mode_words}, {s.target} at {s.target_height_m:g} m, {s.detector}, Pfa {s.pfa:g}")
    typer.echo(f"  share {s.sensing_share:g}: {k['n_symbols']} symbols x {k['n_subcarriers']} subcarriers, "
               f"processing gain {k['processing_gain_db']:.1f} dB")
    for mode, maps in run.maps.items():
        m = maps.kpis
        extra = (f"range resolution {m['range_resolution_m']:.2f} m" if mode == "monostatic" else
                 f"{m['n_pairs']} TRP-UE pairs ({m['n_ues']} UEs) within {m['max_baseline_m']:g} m"
                 if mode == "trp_ue" else f"{m['n_pairs']} TRP pairs within {m['max_baseline_m']:g} m")
        typer.echo(f"  {mode}: Pd >= {s.pd_required:g}: {m['sensed_area_km2']:.3f} km2 = "
                   f"{100 * m['sensed_area_fraction']:.1f} % of {k['outdoor_area_km2']:.3f} km2 outdoor; {extra}")
        t = maps.tradeoff
        curve = ", ".join(f"{100 * a:.0f}% -> {100 * f:.1f}%"
                          for a, f in zip(t["sensing_share"], t["sensed_area_fraction"]))
        typer.echo(f"    trade-off (share = downlink throughput lost -> sensed area): {curve}")
    typer.echo(f"wrote {len(paths)} files to {out}/ in {time.perf_counter() - t0:.1f} s")
