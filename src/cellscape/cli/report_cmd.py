"""``cellscape report``: one self-contained HTML file from a run or plan folder (STYLE.md P15).

Registered in :mod:`cellscape.cli.app` with ``app.command()(report)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cellscape.cli._errors import one_line_errors


@one_line_errors
def report(
    folder: Annotated[Path, typer.Argument(help="Output folder of `cellscape run`, `plan` or `simulate`.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="HTML file to write (default: FOLDER/report.html).")
                   ] = None,
    regenerate_maps: Annotated[bool, typer.Option(
        "--regenerate-maps", help="Redraw every figure from the GeoTIFFs instead of reusing the folder's PNGs.")
    ] = False,
    compact: Annotated[bool, typer.Option(
        help="Embed figures as 256-colour PNGs (3-4x smaller, colour-mapped pixels unchanged); "
             "--no-compact embeds them byte for byte.")] = True,
) -> None:
    """Write one self-contained HTML report (maps, CDFs, KPI tables, LOS, plan) that opens offline."""
    from cellscape.io.report_html import write_report_html   # lazy: fast --help

    path = write_report_html(folder, out, regenerate_maps=regenerate_maps, compact=compact)
    size_mb = path.stat().st_size / 1e6
    typer.echo(f"wrote {path} ({size_mb:.1f} MB, self-contained: figures embedded, no external resources)")
