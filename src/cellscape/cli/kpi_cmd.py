"""``cellscape kpi``: coverage, SINR and throughput per region of a run's coverage GeoTIFF, read in
blocks (STYLE.md P15). Registered in :mod:`cellscape.cli.app`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cellscape.cli._errors import one_line_errors


@one_line_errors
def kpi(
    folder: Annotated[Path, typer.Argument(help="Output folder of `cellscape run` (its coverage.tif).")],
    regions: Annotated[Path | None, typer.Option(help="Polygons (GeoPackage, GeoJSON, Shapefile, GeoParquet).")] = None,
    id_field: Annotated[str | None, typer.Option(help="Column naming each region (default: the first text column).")
                        ] = None,
    grid_km: Annotated[float | None, typer.Option(help="Square cells of this size instead of polygons [km].")] = None,
    rsrp_threshold_dbm: Annotated[list[float], typer.Option(
        help="RSRP threshold of a coverage fraction [dBm]; repeat for several.")] = [-100.0],  # noqa: B006
    raster: Annotated[str, typer.Option(help="GeoTIFF of the folder to read.")] = "coverage.tif",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: FOLDER/regions).")] = None,
    png: Annotated[bool, typer.Option(help="Also draw a choropleth of the first coverage fraction.")] = True,
) -> None:
    """KPIs per region: coverage fraction at each RSRP threshold, RSRP/SINR/throughput percentiles.

    Writes regions_kpis.parquet/.csv/.gpkg and regions_coverage.png.
    """
    import numpy as np

    from cellscape.errors import ScenarioError
    from cellscape.io.regions import regional_kpis, write_regional_kpis

    if (regions is None) == (grid_km is None):
        raise ScenarioError("give exactly one of --regions FILE and --grid-km KM")
    cols, regs, meta = regional_kpis(folder / raster, regions_file=regions, id_field=id_field, grid_km=grid_km,
                                     rsrp_thresholds_dbm=tuple(rsrp_threshold_dbm))
    paths = write_regional_kpis(cols, regs, meta["crs"], out or folder / "regions", png=png,
                                title=f"{folder.name}: coverage per region")
    cov = [c for c in cols if c.startswith("coverage_rsrp_ge_")][0]
    frac = cols[cov]
    has = cols["pixels"] > 0
    typer.echo(f"{meta['regions']} regions ({int(has.sum())} with pixels) read in {meta['blocks']} blocks; "
               f"{cov}: median over regions {100 * float(np.nanmedian(frac[has])):.1f} %, "
               f"lowest {100 * float(np.nanmin(frac[has])):.1f} % ({cols['name'][has][np.nanargmin(frac[has])]})")
    typer.echo(f"wrote {len(paths)} files to {out or folder / 'regions'}/")
