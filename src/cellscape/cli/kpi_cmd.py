"""``cellscape kpi``: coverage, SINR and throughput per region of a run's coverage raster (its
GeoTIFF or, for a streamed run, its Zarr store), read in blocks (STYLE.md P15), one after another
or in parallel on Dask. Registered in :mod:`cellscape.cli.app`."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from cellscape.cli._errors import one_line_errors
from cellscape.cli._dask import dask_client


@one_line_errors
def kpi(
    folder: Annotated[Path, typer.Argument(help="Output folder of `cellscape run` (its coverage.tif or "
                                                "coverage.zarr).")],
    regions: Annotated[Path | None, typer.Option(help="Polygons (GeoPackage, GeoJSON, Shapefile, GeoParquet).")] = None,
    id_field: Annotated[str | None, typer.Option(help="Column naming each region (default: the first text column).")
                        ] = None,
    grid_km: Annotated[float | None, typer.Option(help="Square cells of this size instead of polygons [km].")] = None,
    rsrp_threshold_dbm: Annotated[list[float], typer.Option(
        help="RSRP threshold of a coverage fraction [dBm]; repeat for several.")] = [-100.0],  # noqa: B006
    raster: Annotated[str | None, typer.Option(help="Raster of the folder to read: a GeoTIFF or a Zarr store "
                                                    "(default: coverage.tif, else coverage.zarr).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: FOLDER/regions).")] = None,
    png: Annotated[bool, typer.Option(help="Also draw a choropleth of the first coverage fraction.")] = True,
    threads: Annotated[int | None, typer.Option(help="Count the blocks on dask's threaded scheduler with this many "
                                                     "threads (default: one after another).")] = None,
    workers: Annotated[int | None, typer.Option(help="Count the blocks on a local Dask cluster of this many worker "
                                                     "processes.")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Count the blocks on an existing dask.distributed cluster, "
                                                       "e.g. tcp://host:8786.")] = None,
    block_pixels: Annotated[int | None, typer.Option(help="Pixels per block (rounded to whole storage blocks; "
                                                          "default cellscape.io.regions.BLOCK_PIXELS).")] = None,
) -> None:
    """KPIs per region: coverage fraction at each RSRP threshold, RSRP/SINR/throughput percentiles.

    Writes regions_kpis.parquet/.csv/.gpkg and regions_coverage.png. The result is the same bits
    one after another, with --threads, --workers or --scheduler (docs/national.md).
    """
    import numpy as np

    from cellscape.errors import ScenarioError
    from cellscape.io.regions import BLOCK_PIXELS, find_raster, regional_kpis, write_regional_kpis

    if (regions is None) == (grid_km is None):
        raise ScenarioError("give exactly one of --regions FILE and --grid-km KM")
    given = [name for name, v in (("--threads", threads), ("--workers", workers), ("--scheduler", scheduler))
             if v is not None]
    if len(given) > 1:
        raise ScenarioError(f"give one of --threads, --workers and --scheduler, not {' and '.join(given)}")
    for name, v in (("--threads", threads), ("--workers", workers)):
        if v is not None and v < 1:
            raise ScenarioError(f"{name}={v} must be at least 1")
    path = find_raster(folder, raster)
    with ExitStack() as stack:
        client = dask_client(stack, workers=workers, scheduler=scheduler)
        cols, regs, meta = regional_kpis(path, regions_file=regions, id_field=id_field, grid_km=grid_km,
                                         rsrp_thresholds_dbm=tuple(rsrp_threshold_dbm), threads=threads,
                                         client=client, block_pixels=block_pixels or BLOCK_PIXELS)
    paths = write_regional_kpis(cols, regs, meta["crs"], out or folder / "regions", png=png,
                                title=f"{folder.name}: coverage per region")
    cov = [c for c in cols if c.startswith("coverage_rsrp_ge_")][0]
    frac = cols[cov]
    has = cols["pixels"] > 0
    if not has.any():
        typer.echo(f"{meta['regions']} regions, none holding a pixel of {path.name} (regions outside the map?)")
    else:
        typer.echo(f"{meta['regions']} regions ({int(has.sum())} with pixels) of {path.name} read in {meta['blocks']} "
                   f"blocks ({meta['scheduler']}); {cov}: median over regions "
                   f"{100 * float(np.nanmedian(frac[has])):.1f} %, lowest {100 * float(np.nanmin(frac[has])):.1f} % "
                   f"({cols['name'][has][np.nanargmin(frac[has])]})")
    typer.echo(f"wrote {len(paths)} files to {out or folder / 'regions'}/")
