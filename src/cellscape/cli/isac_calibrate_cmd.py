"""``cellscape calibrate --isac``: the TR 38.901 7.9.6.1 large-scale ISAC calibration with a UAV target
(Table 7.9.6.1-1, docs/validation.md "ISAC"). Called by the ``calibrate`` command of
:mod:`cellscape.cli.app` when ``--isac`` is given; also a command on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cellscape.cli._errors import one_line_errors


@one_line_errors
def isac_calibrate(
    fc_ghz: Annotated[float, typer.Option(help="Carrier frequency [GHz]: 6 or 30 (Table 7.9.6.1-1).")] = 6.0,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out/calibration"),
    n_drops: Annotated[int, typer.Option(help="Number of drops (1 UAV target + 30 UEs each).")] = 5000,
    seed: Annotated[int, typer.Option(help="Seed of all randomness.")] = 1,
    published: Annotated[Path | None, typer.Option(help="CSV of published percentiles "
                                                   "(link,metric,percentile,value,source[,fc_ghz]).")] = None,
) -> None:
    """Reproduce the TR 38.901 7.9.6.1 large-scale ISAC calibration (UAV target, UMa-AV).

    Writes isac_calibration.csv (link,metric,percentile,value: target and background coupling loss
    in dB of the 4 best STX-SRX pairs per drop, for TRP monostatic, TRP-TRP, TRP-UE and UE-UE
    bistatic sensing) and one CDF plot per sensing mode, and prints the medians; with --published,
    overlays the published percentiles and prints the gap per percentile.
    """
    from cellscape.io.isac_calibration_report import (
        NO_PUBLISHED_NOTE,
        percentile_gaps,
        read_published_isac_calibration,
        write_isac_calibration,
    )
    from cellscape.sensing.calibration import run_isac_calibration

    result = run_isac_calibration(fc_ghz, n_drops, seed)
    pub = read_published_isac_calibration(published, fc_ghz=fc_ghz) if published is not None else []
    paths = write_isac_calibration(result, out, published=pub)
    rows = result.percentiles()
    typer.echo(f"ISAC UAV (UMa-AV) {result.fc_ghz:g} GHz, {result.n_drops} drops, "
               f"{result.assumptions.n_best_pairs} best pairs each: median coupling loss")
    for r in rows:
        if r.percentile == 50:
            typer.echo(f"  {r.link} {r.metric}: {r.value:.1f} dB")
    gaps = percentile_gaps(rows, pub)
    for link, metric, q, ours, theirs, gap in gaps:
        typer.echo(f"  gap {link} {metric} p{q}: ours {ours:.1f}, published {theirs:.1f}, {gap:+.2f} dB")
    if not gaps:
        typer.echo(f"  {NO_PUBLISHED_NOTE}")
    typer.echo(f"wrote {len(paths)} files to {out}/")
