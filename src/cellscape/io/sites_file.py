"""Site files: CSV (one row per sector) and GeoJSON (one Point feature per sector).

Foreign column names become glossary names here and nowhere else (:data:`COLUMN_NAMES`, STYLE.md
P13). The result is a list of site mappings in the layout :func:`cellscape.scenario.parse_scenario`
expects (``sites:`` of docs/scenario.md); ranges are checked there, with the file row added to the
message by :func:`cellscape.io.scenario_yaml.load_scenario`.

Layout (docs/scenario.md, "Site files"):

- one row (feature) per sector; rows with the same ``site_id`` form one site, in file order;
- site columns ``site_id``, ``x``, ``y``, ``height_m`` (required) and ``environment`` may be left
  empty on a site's later rows; where given again they must agree with the first row;
- sector columns ``azimuth_deg`` (required), ``tx_power_dbm``, ``mech_tilt_deg``,
  ``elec_tilt_deg``, ``sector_id`` (optional: absent or empty cells take ``sector_defaults``);
- CSV: UTF-8 (a spreadsheet's byte-order mark is fine), delimiter ``,``, ``;`` or tab; row numbers
  count the header as row 1, as a spreadsheet shows them; coordinates are in the area's ``crs``;
- GeoJSON: ``x``/``y`` come from the Point geometry (a third coordinate is ignored: ``height_m``
  is above local ground); coordinates are lon/lat (RFC 7946) unless a legacy ``crs`` member
  names another CRS.
- Parquet: the CSV columns, one row per sector, rows named ``rows[i]`` (from 0); a ``crs`` key in
  the file's metadata names the CRS. :func:`write_site_columns` writes it (and large CSVs) from
  arrays, for networks too big for :func:`write_sites`' records (``cellscape synth-network``).

A column that is neither a glossary name nor in :data:`COLUMN_NAMES` is an error (a typo would
otherwise silently drop a value); pass ``ignore_columns`` for columns you keep for yourself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import csv
from dataclasses import dataclass
import io
import json
import math
import os
from pathlib import Path
import re
from typing import Any

from cellscape.errors import DataFileError, ScenarioError
from cellscape.io.atomic import write_atomic, write_json_atomic, write_text_atomic
from cellscape.scenario.records import Site

COLUMN_NAMES: dict[str, str] = {
    # site id
    "site": "site_id", "site id": "site_id", "siteid": "site_id", "site_name": "site_id",
    "site name": "site_id", "enodeb": "site_id", "gnodeb": "site_id", "gnb": "site_id",
    # position (in the scenario's crs)
    "lon": "x", "long": "x", "lng": "x", "longitude": "x", "easting": "x", "east": "x",
    "lat": "y", "latitude": "y", "northing": "y", "north": "y",
    # antenna height above local ground
    "height": "height_m", "height agl": "height_m", "height_agl_m": "height_m", "antenna height": "height_m",
    "antenna_height": "height_m", "antenna_height_m": "height_m", "hba": "height_m", "h_bs_m": "height_m",
    # sector
    "sector": "sector_id", "sector id": "sector_id", "cell": "sector_id", "cell id": "sector_id",
    "cell_id": "sector_id", "cell name": "sector_id", "cell_name": "sector_id",
    "azimuth": "azimuth_deg", "az": "azimuth_deg", "bearing": "azimuth_deg", "azimuth (deg)": "azimuth_deg",
    "power": "tx_power_dbm", "tx power": "tx_power_dbm", "tx_power": "tx_power_dbm",
    "power (dbm)": "tx_power_dbm", "tx power (dbm)": "tx_power_dbm",
    "tilt": "mech_tilt_deg", "mech tilt": "mech_tilt_deg", "mechanical tilt": "mech_tilt_deg",
    "mechanical_tilt": "mech_tilt_deg", "m-tilt": "mech_tilt_deg",
    "etilt": "elec_tilt_deg", "e-tilt": "elec_tilt_deg", "elec tilt": "elec_tilt_deg",
    "electrical tilt": "elec_tilt_deg", "electrical_tilt": "elec_tilt_deg",
    "env": "environment",
}
"""Foreign column name (case-insensitive) -> glossary name. EIRP is deliberately absent: it
includes the antenna gain, so it is not ``tx_power_dbm``."""

SITE_COLUMNS = ("site_id", "x", "y", "height_m", "environment")
SECTOR_COLUMNS = ("sector_id", "azimuth_deg", "tx_power_dbm", "mech_tilt_deg", "elec_tilt_deg")
REQUIRED_COLUMNS = ("site_id", "x", "y", "height_m", "azimuth_deg")
NUMERIC_COLUMNS = frozenset({"x", "y", "height_m", "azimuth_deg", "tx_power_dbm", "mech_tilt_deg", "elec_tilt_deg"})
GLOSSARY_COLUMNS = SITE_COLUMNS + SECTOR_COLUMNS

_LOOKUP = {**{k.casefold(): v for k, v in COLUMN_NAMES.items()}, **{g.casefold(): g for g in GLOSSARY_COLUMNS}}


@dataclass(frozen=True)
class SitesTable:
    """What a site file holds: ``sites`` (mappings for parse_scenario), where each sector came
    from (``where[i][k]``, e.g. ``"row 5"`` or ``"features[3]"``), and the file's CRS if it names
    one (GeoJSON only: ``"EPSG:4326"`` by RFC 7946 unless a legacy ``crs`` member says otherwise)."""

    path: Path
    sites: list[dict]
    where: list[list[str]]
    crs: str | None


def read_sites(path: str | os.PathLike, *, ignore_columns: Iterable[str] = ()) -> list[dict]:
    """Read a CSV or GeoJSON site file into site mappings for :func:`~cellscape.scenario.parse_scenario`.

    Parameters
    ----------
    path : str or os.PathLike
        ``*.csv`` (or ``*.txt``/``*.tsv``), ``*.geojson``/``*.json`` or ``*.parquet``.
    ignore_columns : iterable of str, optional
        Columns (properties) to skip, as written in the file.

    Returns
    -------
    sites : list of dict
        ``{"site_id", "x", "y", "height_m", ["environment"], "sectors": [{"azimuth_deg", ...}]}``,
        sites in order of first appearance, sectors in row order.

    Raises
    ------
    DataFileError
        If the file is missing, unreadable, not CSV/JSON, or holds no rows.
    ScenarioError
        If a column is unknown, a required column or cell is missing, a number does not parse,
        or two rows of one site disagree; the message names the file and the row (feature).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "sites.csv"
    >>> _ = p.write_text("Site,lon,lat,height,Azimuth\\nA,24.94,60.17,30,0\\nA,,,,120\\n")
    >>> read_sites(p)
    [{'site_id': 'A', 'x': 24.94, 'y': 60.17, 'height_m': 30.0, 'sectors': [{'azimuth_deg': 0.0}, {'azimuth_deg': 120.0}]}]
    """
    return read_sites_table(path, ignore_columns=ignore_columns).sites


def read_sites_table(path: str | os.PathLike, *, ignore_columns: Iterable[str] = ()) -> SitesTable:
    """Like :func:`read_sites`, also saying where each sector came from and the file's CRS."""
    path = Path(path)
    ignore = {c.strip().casefold() for c in ignore_columns}
    suffix = path.suffix.lower()
    if suffix not in (".geojson", ".json", ".csv", ".txt", ".tsv", ".parquet"):
        raise DataFileError(f"{path}: unknown site file type {path.suffix!r}; use .csv or .geojson (or .parquet)")
    if suffix == ".parquet":
        records, crs = _parquet_records(path)
    else:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise DataFileError(f"{path}: site file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DataFileError(f"{path}: cannot read site file ({exc})") from None
        if suffix in (".geojson", ".json"):
            records, crs = _geojson_records(path, text)
        else:
            records, crs = _csv_records(path, text), None
    if not records:
        raise DataFileError(f"{path}: no sites (the file has no data rows)")
    rows = [(where, _glossary_record(path, where, raw, ignore)) for where, raw in records]
    present = {_LOOKUP[str(k).strip().casefold()] for _, raw in records for k in raw
               if str(k).strip().casefold() not in ignore}
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if missing:
        raise ScenarioError(f"{path}: missing column {missing[0]!r} (required: {', '.join(REQUIRED_COLUMNS)}; "
                            f"known foreign names are in cellscape.io.sites_file.COLUMN_NAMES)")
    sites, where = _group_sites(path, rows)
    return SitesTable(path=path, sites=sites, where=where, crs=crs)


# ---------------------------------------------------------------------------------------------
# file formats -> (where, {column as written: value}) records


def _csv_records(path: Path, text: str) -> list[tuple[str, dict[str, Any]]]:
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise DataFileError(f"{path}: no header row")
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
        out = []
        for cells in reader:
            row = f"row {reader.line_num}"
            if not any(c.strip() for c in cells):
                continue                                  # blank line
            if len(cells) > len(header):
                raise ScenarioError(f"{path} {row}: {len(cells)} cells but {len(header)} columns in the header")
            out.append((row, dict(zip(header, cells))))
    except csv.Error as exc:
        raise DataFileError(f"{path} row {reader.line_num}: not valid CSV ({exc})") from None
    dupes = {h for h in header if header.count(h) > 1}
    if dupes:
        raise ScenarioError(f"{path} row 1: column {sorted(dupes)[0]!r} appears twice")
    return out


_EPSG_IN_URN = re.compile(r"EPSG:+(\d+)$", re.IGNORECASE)


def _geojson_records(path: Path, text: str) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFileError(f"{path} line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise DataFileError(f"{path}: expected a GeoJSON FeatureCollection")
    crs = "EPSG:4326"
    crs_member = doc.get("crs")
    if crs_member is not None:
        name = str(((crs_member or {}).get("properties") or {}).get("name", ""))
        match = _EPSG_IN_URN.search(name.replace("::", ":"))
        if name.upper().endswith("CRS84"):
            crs = "OGC:CRS84"
        elif match:
            crs = f"EPSG:{match.group(1)}"
        else:
            raise ScenarioError(f"{path}: cannot read the crs member {name!r}; use an EPSG code")
    out = []
    for i, feature in enumerate(doc["features"]):
        where = f"features[{i}]"
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
            raise ScenarioError(f"{path} {where}: geometry must be a Point, got {kind}")
        coords = geometry.get("coordinates")
        if not (isinstance(coords, list) and len(coords) >= 2
                and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coords[:2])):
            raise ScenarioError(f"{path} {where}: Point coordinates must be [x, y], got {coords!r}")
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            raise ScenarioError(f"{path} {where}: properties must be an object")
        for key in props:
            if _LOOKUP.get(str(key).strip().casefold()) in ("x", "y"):
                raise ScenarioError(f"{path} {where}: property {key!r}: x and y come from the Point geometry")
        out.append((where, {**props, "x": float(coords[0]), "y": float(coords[1])}))
    return out, crs


def _parquet_records(path: Path) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
    """Rows of a Parquet table (the CSV layout, one row per sector), named ``rows[i]`` from 0; the
    CRS from the file's ``crs`` metadata key if it has one (as :func:`write_site_columns` writes)."""
    import pyarrow.parquet as pq   # lazy: only Parquet site files need it

    if not path.exists():
        raise DataFileError(f"{path}: site file not found")
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as exc:                 # pyarrow's ArrowInvalid is a ValueError
        raise DataFileError(f"{path}: cannot read site file as Parquet ({exc})") from None
    meta = table.schema.metadata or {}
    crs = meta[b"crs"].decode() if b"crs" in meta else None
    return [(f"rows[{i}]", row) for i, row in enumerate(table.to_pylist())], crs


# ---------------------------------------------------------------------------------------------
# records -> glossary names and typed values -> sites


def _glossary_record(path: Path, where: str, raw: Mapping[str, Any], ignore: set[str]) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    for column, value in raw.items():
        key = str(column).strip().casefold()
        if key in ignore:
            continue
        name = _LOOKUP.get(key)
        if name is None:
            raise ScenarioError(
                f"{path} {where}: unknown column {column!r} (glossary names: {', '.join(GLOSSARY_COLUMNS)}; "
                f"foreign names in cellscape.io.sites_file.COLUMN_NAMES; or pass ignore_columns)")
        if name in rec:
            raise ScenarioError(f"{path} {where}: column {column!r} gives {name} a second time")
        parsed = _cell(path, where, column, name, value)
        if parsed is not None:
            rec[name] = parsed
    return rec


def _cell(path: Path, where: str, column: str, name: str, value: Any):
    """A cell's value in its glossary type; None for an empty cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise ScenarioError(f"{path} {where}: column {column!r}: expected a {'number' if name in NUMERIC_COLUMNS else 'text'}, "
                            f"got {value!r}")
    if name in NUMERIC_COLUMNS:
        try:
            number = float(value.strip() if isinstance(value, str) else value)
        except ValueError:
            raise ScenarioError(f"{path} {where}: column {column!r}: {value!r} is not a number") from None
        if not math.isfinite(number):
            raise ScenarioError(f"{path} {where}: column {column!r}: {value!r} is not a finite number")
        return number
    if isinstance(value, float) and value.is_integer():
        value = int(value)                               # GeoJSON site_id 101.0 -> "101"
    return str(value).strip()


def _group_sites(path: Path, rows: list[tuple[str, dict[str, Any]]]) -> tuple[list[dict], list[list[str]]]:
    sites: dict[str, dict] = {}
    first_row: dict[str, str] = {}
    where: dict[str, list[str]] = {}
    for row, rec in rows:
        site_id = rec.get("site_id")
        if site_id is None:
            raise ScenarioError(f"{path} {row}: site_id is empty")
        if site_id not in sites:
            missing = [c for c in ("x", "y", "height_m") if c not in rec]
            if missing:
                raise ScenarioError(f"{path} {row}: {missing[0]} is empty on the first row of site {site_id!r}")
            sites[site_id] = {c: rec[c] for c in SITE_COLUMNS if c in rec} | {"sectors": []}
            first_row[site_id] = row
            where[site_id] = []
        else:
            site = sites[site_id]
            for c in SITE_COLUMNS:
                if c in rec and c in site and rec[c] != site[c]:
                    raise ScenarioError(f"{path} {row}: site {site_id!r} has {c}={rec[c]!r} here but "
                                        f"{site[c]!r} in {first_row[site_id]}")
                if c in rec and c not in site:
                    raise ScenarioError(f"{path} {row}: site {site_id!r} gives {c} here but not in {first_row[site_id]}")
        if "azimuth_deg" not in rec:
            raise ScenarioError(f"{path} {row}: azimuth_deg is empty")
        sites[site_id]["sectors"].append({c: rec[c] for c in SECTOR_COLUMNS if c in rec})
        where[site_id].append(row)
    order = list(sites)
    return [sites[s] for s in order], [where[s] for s in order]


# ---------------------------------------------------------------------------------------------
# writing


def write_sites(path: str | os.PathLike, sites: Iterable[Site], *, crs: str | None = None) -> Path:
    """Write site records as a site file (CSV or GeoJSON by suffix), atomically; return the path.

    Antenna parameters are not written (site files do not carry them: they come from
    ``sector_defaults``). For GeoJSON, ``crs`` other than lon/lat is written as a legacy ``crs``
    member so that :func:`read_sites_table` reads it back.

    >>> import tempfile
    >>> from cellscape.scenario.records import Sector
    >>> p = write_sites(Path(tempfile.mkdtemp()) / "s.csv",
    ...                 [Site("A", 24.9, 60.2, 30.0, (Sector(0.0, sector_id="A-1"),))])
    >>> print(p.read_text().splitlines()[1])
    A,24.9,60.2,30.0,,A-1,0.0,46.0,0.0,0.0
    """
    path = Path(path)
    suffix = path.suffix.lower()
    columns = SITE_COLUMNS + SECTOR_COLUMNS
    rows = []
    for site in sites:
        for sector in site.sectors:
            rows.append({"site_id": site.site_id, "x": site.x, "y": site.y, "height_m": site.height_m,
                         "environment": site.environment, "sector_id": sector.sector_id or None,
                         "azimuth_deg": sector.azimuth_deg, "tx_power_dbm": sector.tx_power_dbm,
                         "mech_tilt_deg": sector.mech_tilt_deg, "elec_tilt_deg": sector.elec_tilt_deg})
    if suffix in (".geojson", ".json"):
        features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["x"], r["y"]]},
                     "properties": {c: r[c] for c in columns if c not in ("x", "y") and r[c] is not None}}
                    for r in rows]
        doc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
        if crs is not None and crs.strip().upper() not in ("EPSG:4326", "OGC:CRS84"):
            doc["crs"] = {"type": "name", "properties": {"name": crs.strip()}}
        return write_json_atomic(path, doc)
    if suffix not in (".csv", ".txt", ".tsv"):
        raise DataFileError(f"{path}: unknown site file type {path.suffix!r}; use .csv or .geojson")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow(["" if r[c] is None else (repr(r[c]) if isinstance(r[c], float) else r[c]) for c in columns])
    return write_text_atomic(path, buffer.getvalue())


def write_site_columns(path: str | os.PathLike, *, site_id, x, y, height_m, azimuth_deg, environment=None,
                       tx_power_dbm=None, crs: str | None = None, metadata: Mapping[str, str] | None = None) -> Path:
    """Write a site file from arrays, one row per sector, CSV or Parquet by suffix, atomically.

    Vectorised (pyarrow) for networks of millions of sites, which :func:`write_sites` would first
    turn into records. Sector ids are left to the default ``<site_id>-<k>``.

    Parameters
    ----------
    path : str or os.PathLike
        ``*.csv`` (site columns other than ``site_id`` left empty on a site's later rows, as the
        layout allows) or ``*.parquet`` (every column on every row, zstd-compressed).
    site_id, x, y, height_m : array_like, shape (n_sites,)
        Site columns; ``x``/``y`` in ``crs``; ``height_m`` in m.
    azimuth_deg : array_like, shape (n_sites, n_sectors_per_site)
        Boresights, clockwise from north, [0, 360). [deg]
    environment : array_like of str, shape (n_sites,), optional
        TR 38.901 environment per site.
    tx_power_dbm : array_like, shape (n_sites,) or (n_sites, n_sectors_per_site), optional
        Sector power. [dBm]
    crs : str, optional
        Stored under the Parquet metadata key ``crs`` (read back into ``SitesTable.crs``); CSV has
        nowhere to keep it.
    metadata : mapping of str to str, optional
        More Parquet key-value metadata (provenance).

    Raises
    ------
    DataFileError
        If the suffix is neither ``.csv`` nor ``.parquet``.
    ScenarioError
        If a site array's length differs from ``azimuth_deg``'s rows, or a CSV text value holds a
        comma, quote or line break.

    Examples
    --------
    >>> import tempfile
    >>> p = write_site_columns(Path(tempfile.mkdtemp()) / "s.csv", site_id=["A"], x=[24.9], y=[60.2],
    ...                        height_m=[30.0], azimuth_deg=[[0.0, 120.0]], environment=["UMa"])
    >>> print(p.read_text())
    site_id,x,y,height_m,environment,azimuth_deg
    A,24.9,60.2,30,UMa,0
    A,,,,,120
    <BLANKLINE>
    >>> read_sites(p)[0]["sectors"]
    [{'azimuth_deg': 0.0}, {'azimuth_deg': 120.0}]
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise DataFileError(f"{path}: write_site_columns writes .csv or .parquet, not {path.suffix!r}")
    azimuth = np.atleast_2d(np.asarray(azimuth_deg, dtype=float))              # (n_sites, n_per_site)
    n_sites, per_site = azimuth.shape
    site_of_row = np.repeat(np.arange(n_sites), per_site)                      # (n_rows,)
    later = None if suffix == ".parquet" else np.tile(np.arange(per_site) > 0, n_sites)   # CSV: empty there

    def per_row(values, *, text: bool, every_row: bool = False, dictionary: bool = False):
        values = np.asarray(values, dtype=str if text else float).reshape(-1)
        if values.size != n_sites:
            raise ScenarioError(f"{path}: site arrays need {n_sites} values (one per row of azimuth_deg), "
                                f"got {values.size}")
        mask = None if every_row else later
        if not text:
            return pa.array(values[site_of_row], mask=mask)
        column = pa.array(values)
        if dictionary:     # a few distinct values; never for ids (a huge dictionary makes Parquet 10x slower)
            column = column.dictionary_encode()
        column = column.take(pa.array(site_of_row))
        if mask is not None:                                                   # CSV: empty on later rows
            column = pc.if_else(pa.array(mask), pa.nulls(len(column), pa.string()), column.cast(pa.string()))
        return column

    columns = {"site_id": per_row(site_id, text=True, every_row=True), "x": per_row(x, text=False),
               "y": per_row(y, text=False), "height_m": per_row(height_m, text=False)}
    if environment is not None:
        columns["environment"] = per_row(environment, text=True, dictionary=True)
    columns["azimuth_deg"] = pa.array(azimuth.reshape(-1))
    if tx_power_dbm is not None:
        power = np.asarray(tx_power_dbm, dtype=float)
        power = np.broadcast_to(power.reshape(-1, 1) if power.ndim == 1 else power, azimuth.shape)
        columns["tx_power_dbm"] = pa.array(power.reshape(-1))
    table = pa.table(columns)
    if later is not None:
        import pyarrow.csv as pacsv

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                f.write((",".join(table.column_names) + "\n").encode())
                try:           # "none": a value holding a comma or quote raises instead of shifting columns
                    pacsv.write_csv(table, f, pacsv.WriteOptions(include_header=False, quoting_style="none"))
                except pa.ArrowInvalid as exc:
                    raise ScenarioError(f"{path}: a text value holds a comma, quote or line break ({exc})") from None
    else:
        import pyarrow.parquet as pq

        meta = {**(metadata or {}), **({"crs": crs} if crs else {})}
        table = table.replace_schema_metadata({k.encode(): str(v).encode() for k, v in meta.items()})

        def write(tmp: Path) -> None:
            pq.write_table(table, tmp, compression="zstd")
    return write_atomic(path, write)
