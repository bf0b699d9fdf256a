"""Write rooftop candidates: a site file (CSV, one row per sector) and a GeoJSON of the roofs' points.

The CSV is in the site-file layout of docs/scenario.md (``site_id,x,y,height_m,environment,
sector_id,azimuth_deg``; power and tilts left out so that ``sector_defaults`` apply), in the
scenario's ``area.crs``, so it can be used as a ``sites_file`` as it is. The GeoJSON (lon/lat,
RFC 7946) carries each candidate's roof height, antenna height and footprint area for a GIS.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from cellscape.errors import DataFileError
from cellscape.io.atomic import write_json_atomic, write_text_atomic
from cellscape.geo.grid import transform_xy


def write_candidates(path: str | os.PathLike, candidates, *, crs: str, environment: str = "UMa",
                     azimuths_deg=(0.0, 120.0, 240.0)) -> list[Path]:
    """Write ``candidates`` (:func:`cellscape.pipeline.rooftop_candidates`) to ``path`` (.csv) and
    the same name with ``.geojson``; return both paths. ``crs``: the CRS of the ``x``/``y`` columns."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise DataFileError(f"{path}: rooftop candidates are written as a .csv site file")
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["site_id", "x", "y", "height_m", "environment", "sector_id", "azimuth_deg"])
    for row in candidates.itertuples():
        for k, az in enumerate(azimuths_deg):
            writer.writerow([row.candidate_id, repr(float(row.x)), repr(float(row.y)),
                             round(float(row.antenna_height_m), 2), environment, f"{row.candidate_id}-{k + 1}",
                             float(az)])
    csv_path = write_text_atomic(path, buffer.getvalue())
    lon, lat = transform_xy(candidates["x"].to_numpy(), candidates["y"].to_numpy(), src_crs=crs, dst_crs="EPSG:4326")
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lo), float(la)]},
                 "properties": {"candidate_id": row.candidate_id, "roof_height_m": float(row.roof_height_m),
                                "antenna_height_m": float(row.antenna_height_m),
                                "footprint_area_m2": round(float(row.footprint_area_m2), 1)}}
                for row, lo, la in zip(candidates.itertuples(), lon, lat)]
    geojson_path = write_json_atomic(path.with_suffix(".geojson"), {"type": "FeatureCollection", "features": features})
    return [csv_path, geojson_path]
