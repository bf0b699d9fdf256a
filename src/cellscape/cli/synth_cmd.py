"""``cellscape synth-network``: a synthetic national network written as a site file (STYLE.md P15).

Registered in :mod:`cellscape.cli.app` with ``app.command(name="synth-network")(synth_network)``.
The model and its sources are in :mod:`cellscape.geo.synth_network` and docs/national.md.
"""

from __future__ import annotations

import json
from pathlib import Path
import time
from typing import Annotated

import typer

from cellscape.cli._errors import one_line_errors

_SUFFIXES = (".parquet", ".csv", ".geojson")
_TIER_LETTERS = {"urban": "U", "micro": "M", "suburban": "S", "rural": "R", "remote": "X"}
"""First letter of a site_id: its tier (U urban UMa, M micro UMi, S suburban UMa, R rural RMa, X remote RMa)."""


@one_line_errors
def synth_network(
    country: Annotated[str, typer.Option("--country", "-c", help="ISO 3166-1 alpha-2 code, e.g. CN, FI, LU.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Site file to write: .parquet (large networks), .csv or "
                                                          ".geojson (small ones).")],
    sites: Annotated[int | None, typer.Option(
        "--sites", help="Number of sites to generate (e.g. 4400000 for China, MIIT's count of 5G base stations, "
                        "March 2025); every ISD scales by one factor to hit it exactly. Default: nominal ISDs.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of all randomness (jitter, azimuths, micro sites, thinning).")] = 1,
    min_city_population: Annotated[int, typer.Option(
        help="GeoNames city list to use: 15000, 5000, 1000 or 500 people and more.")] = 15000,
    outline: Annotated[str, typer.Option(
        help="Country outline: auto, naturalearth (1:110m, bundled with pyogrio) or hull (of the cities).")] = "auto",
    umi_per_uma_site: Annotated[float, typer.Option(help="Micro (UMi) sites per urban macro site, 0 to 2.")] = 1.0,
    urban_density_per_km2: Annotated[float | None, typer.Option(
        help="Urban core density [people/km2]; default: Demographia's figure for the country or continent.")
    ] = None,
) -> None:
    """Generate a synthetic national network from city positions and populations (UMa/UMi in cities,
    RMa elsewhere, 3 sectors per site) and write it as a site file."""
    import numpy as np   # lazy: fast --help

    from cellscape.errors import DataFileError, OutOfValidityRangeError
    from cellscape.geo.synth_network import TIERS, SynthParameters, country_inputs
    from cellscape.geo.synth_network import synth_network as generate

    suffix = out.suffix.lower()
    if suffix not in _SUFFIXES:
        raise DataFileError(f"{out}: the output must end in {', '.join(_SUFFIXES)}, not {out.suffix!r}")
    if not out.parent.exists():
        raise DataFileError(f"{out}: folder {out.parent} does not exist")
    if sites is not None and sites < 1:
        raise OutOfValidityRangeError(f"--sites {sites}: need at least 1")
    if urban_density_per_km2 is not None and not urban_density_per_km2 > 0:
        raise OutOfValidityRangeError(f"--urban-density-per-km2 {urban_density_per_km2:g}: must be positive")

    t0 = time.perf_counter()
    inputs = country_inputs(country, min_city_population=min_city_population, outline=outline)
    density = inputs.urban_density_per_km2 if urban_density_per_km2 is None else urban_density_per_km2
    net = generate(inputs.city_lon_deg, inputs.city_lat_deg, inputs.city_population, urban_density_per_km2=density,
                   rng=np.random.default_rng(seed), n_sites=sites, outline_lonlat=inputs.outline_lonlat,
                   outline_source=inputs.outline_source, parameters=SynthParameters(umi_per_uma_site=umi_per_uma_site))
    t1 = time.perf_counter()

    letters = np.array([_TIER_LETTERS[t.name] for t in TIERS])
    width = len(str(max(net.n_sites - 1, 0)))
    site_id = np.char.add(letters[net.tier], np.char.zfill(np.arange(net.n_sites).astype(str), width))
    lon = np.round(net.lon_deg, 6)                                     # 0.1 m: far below the jitter
    lat = np.round(net.lat_deg, 6)
    azimuth = np.mod(np.round(net.azimuth_deg, 1), 360.0)              # (n_sites, 3); 359.96 -> 0.0, never 360
    provenance = {
        "generator": "cellscape synth-network", "country": inputs.code, "country_name": inputs.name,
        "seed": seed, "n_sites": net.n_sites, "natural_n_sites": net.natural_n_sites,
        "isd_scale": net.isd_scale, "isd_m": net.isd_used_m(), "counts": net.counts(),
        "urban_density_per_km2": density, "cities": inputs.cities_source, "n_cities": int(inputs.city_lon_deg.size),
        "outline": net.outline_source, "site_id_prefix": _TIER_LETTERS,
    }
    if suffix == ".geojson":
        from cellscape.io.sites_file import write_sites
        from cellscape.scenario.records import Sector, Site

        records = [Site(str(site_id[i]), float(lon[i]), float(lat[i]), float(net.height_m[i]),
                        tuple(Sector(float(a), tx_power_dbm=float(net.tx_power_dbm[i])) for a in azimuth[i]),
                        environment=str(net.environment[i]))
                   for i in range(net.n_sites)]
        path = write_sites(out, records)
    else:
        from cellscape.io.sites_file import write_site_columns

        path = write_site_columns(out, site_id=site_id, x=lon, y=lat, height_m=net.height_m, azimuth_deg=azimuth,
                                  environment=net.environment, tx_power_dbm=net.tx_power_dbm, crs="EPSG:4326",
                                  metadata={"cellscape": json.dumps(provenance)})
    t2 = time.perf_counter()

    counts = ", ".join(f"{name} {n:,}" for name, n in net.counts().items())
    isd = ", ".join(f"{name} {v:.0f} m" for name, v in net.isd_used_m().items())
    typer.echo(f"{inputs.name} ({inputs.code}): {net.n_sites:,} sites, {3 * net.n_sites:,} sectors from "
               f"{inputs.city_lon_deg.size:,} cities ({counts})")
    typer.echo(f"  ISD {isd} (x{net.isd_scale:.3f} of nominal; nominal grid: {net.natural_n_sites:,} sites); "
               f"urban density {density:,.0f}/km2; outline: {net.outline_source}")
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, EPSG:4326 lon/lat) in {t2 - t0:.1f} s "
               f"(generate {t1 - t0:.1f} s, write {t2 - t1:.1f} s)")
