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
from contextlib import contextmanager
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
from cellscape.io import limits
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
        raw_bytes = limits.read_bounded(path, what="site file", name="max_site_file_bytes")
        try:
            text = raw_bytes.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DataFileError(f"{path}: cannot read site file (not UTF-8 text: {exc.reason} at byte "
                                f"{exc.start})") from None
        del raw_bytes
        if suffix in (".geojson", ".json"):
            records, crs = _geojson_records(path, text)
        else:
            records, crs = _csv_records(path, text), None
    if not records:
        raise DataFileError(f"{path}: no sites (the file has no data rows)")
    rows = [(where, _glossary_record(path, where, raw, ignore)) for where, raw in records]
    present = {_LOOKUP[str(k).strip().casefold()] for _, raw in records for k in raw
               if str(k).strip().casefold() not in ignore}
    _check_required_columns(path, present)
    sites, where = _group_sites(path, rows)
    return SitesTable(path=path, sites=sites, where=where, crs=crs)


def _check_required_columns(path: Path, present: Iterable[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in set(present)]
    if missing:
        raise ScenarioError(f"{path}: missing column {missing[0]!r} (required: {', '.join(REQUIRED_COLUMNS)}; "
                            f"known foreign names are in cellscape.io.sites_file.COLUMN_NAMES)")


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
        props = crs_member.get("properties") if isinstance(crs_member, dict) else None
        name = props.get("name", "") if isinstance(props, dict) else ""
        if not isinstance(name, str):
            raise ScenarioError(f"{path}: the crs member's name must be text such as 'EPSG:3067', got {name!r}")
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
        try:
            x, y = float(coords[0]), float(coords[1])
        except OverflowError:
            raise ScenarioError(f"{path} {where}: Point coordinates are too large for a number") from None
        out.append((where, {**props, "x": x, "y": y}))
    return out, crs


def _parquet_records(path: Path) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
    """Rows of a Parquet table (the CSV layout, one row per sector), named ``rows[i]`` from 0; the
    CRS from the file's ``crs`` metadata key if it has one (as :func:`write_site_columns` writes)."""
    import pyarrow.parquet as pq   # lazy: only Parquet site files need it

    limits.check_regular_file(path, what="site file", name="max_site_file_bytes")
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as exc:                 # pyarrow's ArrowInvalid is a ValueError
        raise DataFileError(f"{path}: cannot read site file as Parquet ({exc})") from None
    meta = table.schema.metadata or {}
    crs = meta[b"crs"].decode() if b"crs" in meta else None
    return [(f"rows[{i}]", row) for i, row in enumerate(table.to_pylist())], crs


# ---------------------------------------------------------------------------------------------
# records -> glossary names and typed values -> sites


def _glossary_name(path: Path, where: str, column: Any, ignore: set[str], seen) -> str | None:
    """The glossary name of a column as written (None: ignored); an unknown column or a second
    column for one name is an error naming ``where``."""
    key = str(column).strip().casefold()
    if key in ignore:
        return None
    name = _LOOKUP.get(key)
    if name is None:
        raise ScenarioError(
            f"{path} {where}: unknown column {column!r} (glossary names: {', '.join(GLOSSARY_COLUMNS)}; "
            f"foreign names in cellscape.io.sites_file.COLUMN_NAMES; or pass ignore_columns)")
    if name in seen:
        raise ScenarioError(f"{path} {where}: column {column!r} gives {name} a second time")
    return name


def _glossary_record(path: Path, where: str, raw: Mapping[str, Any], ignore: set[str]) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    for column, value in raw.items():
        name = _glossary_name(path, where, column, ignore, rec)
        if name is None:
            continue
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


# ---------------------------------------------------------------------------------------------
# columnar reading: national files (millions of rows), no Python object per row


LARGE_SITE_FILE_ROWS = 20_000
"""Site files with more sector rows than this are best read as columns
(:func:`read_site_columns`); ``cellscape validate`` switches to that path above it."""


ROW_BYTES_COLUMNS = 150.0
"""Peak memory of :func:`read_site_columns` per sector row [bytes], rounded up (CN, 13.2 M rows from
Parquet, read and checked by ``load_scenario_columns``: 1.37 GiB peak RSS, ~111 B per row, of which
the columns kept are ~40 B; 1.82 GiB before text was held as bytes: benchmarks/national_memory.py),
for the estimate a refusal states."""

ROW_SECONDS_RECORDS = 0.5e-3
ROW_BYTES_RECORDS = 10e3
"""Cost of a sector row on the record path (:func:`read_sites_table`, then the scenario model):
about 0.45 ms and 10 KB per site (docs/national.md, "Limits"), rounded up [s], [bytes]."""


def count_site_rows(path: str | os.PathLike) -> int | None:
    """Sector rows of a site file, cheaply and before it is read: Parquet from its metadata, CSV
    as lines less the header, GeoJSON as ``"Feature"`` strings (an estimate); None for another
    suffix or a Parquet file that does not open (the reader words the error).

    Raises
    ------
    DataFileError
        If the file is missing, not a regular file or over ``max_site_file_bytes``
        (:mod:`cellscape.io.limits`).

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "s.csv"
    >>> _ = p.write_text("site_id,x,y,height_m,azimuth_deg\\nA,1,2,30,0\\nA,,,,120\\n")
    >>> count_site_rows(p)
    2
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv", ".txt", ".tsv", ".geojson", ".json"):
        return None
    size = limits.check_regular_file(path, what="site file", name="max_site_file_bytes")
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except (OSError, ValueError):
            return None
    needle = b"\n" if suffix in (".csv", ".txt", ".tsv") else b'"Feature"'
    count, tail, left = 0, b"", size + 1                     # never more than the size stat gave
    try:
        with open(path, "rb") as f:
            while left > 0:
                block = f.read(min(1 << 24, left))
                if not block:
                    break
                left -= len(block)
                joined = tail + block
                count += joined.count(needle) - tail.count(needle)
                tail = joined[-(len(needle) - 1):] if len(needle) > 1 else b""
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read site file ({exc.strerror or exc})") from None
    return max(count - 1, 0) if needle == b"\n" else count


@dataclass(frozen=True, eq=False)
class RawSiteColumns:
    """A site file as columns, grouped into sites (:func:`read_site_columns`); values as written,
    not yet checked against the scenario's ranges (:func:`cellscape.scenario.columns.site_columns`).

    Site arrays have shape (n_sites,), sites in order of first appearance; sector arrays
    (n_sectors,), the sectors of site ``i`` at ``sector_ptr[i]:sector_ptr[i + 1]`` in row order.
    Empty cells: NaN (numbers), ``""`` (text); a sector column the file lacks is None. ``site_row``/``sector_row`` are the 0-based data rows the values came from;
    :meth:`where` names one as the record path does (``"row 5"`` for CSV, ``"rows[3]"`` for Parquet).
    """

    path: Path
    crs: str | None
    site_id: Any
    x: Any
    y: Any
    height_m: Any
    environment: Any
    sector_ptr: Any
    azimuth_deg: Any
    tx_power_dbm: Any
    mech_tilt_deg: Any
    elec_tilt_deg: Any
    sector_id: Any
    site_row: Any
    sector_row: Any     # None: sectors are the file's rows in order
    label: Any          # callable: data row (from 0) -> "row N" / "rows[i]" / "features[i]"

    def where(self, row: int) -> str:
        return self.label(int(row))

    def arrays(self) -> dict[str, Any]:
        """The keyword arguments of :func:`cellscape.scenario.columns.site_columns`, less ``spec``."""
        names = ("site_id", "x", "y", "height_m", "environment", "sector_ptr", "azimuth_deg", "tx_power_dbm",
                 "mech_tilt_deg", "elec_tilt_deg", "sector_id")
        return {n: getattr(self, n) for n in names}


def read_site_columns(path: str | os.PathLike, *, ignore_columns: Iterable[str] = ()) -> RawSiteColumns:
    """Read a site file into columns, vectorised (pyarrow), with :func:`read_sites_table`'s rules.

    Same column names (:data:`COLUMN_NAMES`), same grouping (sites in order of first appearance,
    sectors in row order, a site's later rows may leave site columns empty but must agree where
    given) and the same error messages with the same row names. Parquet and CSV are read with
    pyarrow, with no per-row Python loop; GeoJSON (and a CSV pyarrow cannot parse, e.g. a row with
    fewer cells than the header) goes through :func:`read_sites_table` and is converted.

    Parameters
    ----------
    path : str or os.PathLike
        ``*.parquet``, ``*.csv`` (``*.txt``, ``*.tsv``) or ``*.geojson``/``*.json``.
    ignore_columns : iterable of str, optional
        Columns to skip, as written in the file.

    Returns
    -------
    RawSiteColumns

    Raises
    ------
    DataFileError, ScenarioError
        As :func:`read_sites_table`.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "sites.csv"
    >>> _ = p.write_text("Site,lon,lat,height,Azimuth\\nA,24.94,60.17,30,0\\nB,24.95,60.17,30,0\\nA,,,,120\\n")
    >>> raw = read_site_columns(p)
    >>> raw.site_id.tolist(), raw.sector_ptr.tolist(), raw.azimuth_deg.tolist(), raw.where(raw.sector_row[1])
    (['A', 'B'], [0, 2, 3], [0.0, 120.0, 0.0], 'row 4')
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".csv", ".txt", ".tsv"):
        limits.check_regular_file(path, what="site file", name="max_site_file_bytes")
        with _system_memory_pool():
            return _read_columns(path, suffix, ignore_columns)
    return _columns_of_sites_table(read_sites_table(path, ignore_columns=ignore_columns))


@contextmanager
def _system_memory_pool():
    """Within, Arrow allocates from the C library's allocator: Arrow's default pool (mimalloc) keeps
    the pages a 13 M-row read frees resident (~0.4 GB of the CN network's RSS after the read,
    benchmarks/national_memory.py). Buffers keep the pool they came from, so the columns outlive it."""
    import pyarrow as pa

    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def _read_columns(path: Path, suffix: str, ignore_columns: Iterable[str]) -> RawSiteColumns:
    """:func:`read_site_columns` of a Parquet or CSV file."""
    ignore = {c.strip().casefold() for c in ignore_columns}
    if suffix == ".parquet":
        import pyarrow.parquet as pq   # lazy: only Parquet site files need it

        try:
            schema = pq.read_schema(path)
        except (OSError, ValueError) as exc:                 # pyarrow's ArrowInvalid is a ValueError
            raise DataFileError(f"{path}: cannot read site file as Parquet ({exc})") from None
        meta = schema.metadata or {}
        crs = meta[b"crs"].decode() if b"crs" in meta else None

        def column(name: str):                              # one column at a time: peak memory
            try:
                return pq.read_table(path, columns=[name]).column(0)
            except (OSError, ValueError) as exc:
                raise DataFileError(f"{path}: cannot read site file as Parquet ({exc})") from None
        try:
            n_rows = pq.ParquetFile(path).metadata.num_rows
        except (OSError, ValueError) as exc:
            raise DataFileError(f"{path}: cannot read site file as Parquet ({exc})") from None
        return _columns_of_table(path, schema.names, column, n_rows, crs, lambda i: f"rows[{i}]", ignore)
    if suffix in (".csv", ".txt", ".tsv"):
        read = _csv_table(path)
        if read is not None:
            table, label = read
            del read
            names = table.column_names
            holder = dict(zip(names, table.columns))
            del table
            return _columns_of_table(path, names, holder.pop, len(next(iter(holder.values()), [])), None, label,
                                     ignore)
    return _columns_of_sites_table(read_sites_table(path, ignore_columns=ignore_columns))


def _csv_table(path: Path):
    """(table of text cells, row namer), or None where pyarrow cannot parse what csv can."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            first_line = f.readline()
    except FileNotFoundError:
        raise DataFileError(f"{path}: site file not found") from None
    except (OSError, UnicodeDecodeError):
        return None                                         # the record path words the error
    first_line = first_line.rstrip("\r\n")
    if not first_line.strip() or '"' in first_line:
        return None
    delimiter = max(",;\t", key=first_line.count)
    header = [h.strip() for h in next(csv.reader([first_line], delimiter=delimiter))]
    dupes = {h for h in header if header.count(h) > 1}
    if dupes:
        raise ScenarioError(f"{path} row 1: column {sorted(dupes)[0]!r} appears twice")
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
                               parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
                               convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                                    strings_can_be_null=False))
    except (pa.ArrowInvalid, OSError):
        return None
    # the record path skips rows whose cells are all blank (",,," included)
    blank = None
    for name in names:
        empty = pc.equal(pc.utf8_trim_whitespace(table[name]), "")
        blank = empty if blank is None else pc.and_(blank, empty)
    if blank is not None and pc.any(blank).as_py():
        table = table.filter(pc.invert(blank))
    table = table.rename_columns(header)

    lines: list[int] = []

    def label(i: int) -> str:
        """'row N' as csv.reader counts lines (the header is row 1); scans the file on first use."""
        if not lines:
            with open(path, encoding="utf-8-sig", newline="") as f:
                reader = csv.reader(f, delimiter=delimiter)
                next(reader, None)
                lines.extend(reader.line_num for cells in reader if any(c.strip() for c in cells))
        return f"row {lines[i]}" if i < len(lines) else f"rows[{i}]"

    return table, label


def _columns_of_table(path: Path, names: list[str], column_cells, n_rows: int, crs: str | None, label,
                      ignore: set[str]) -> RawSiteColumns:
    """Glossary names, cell types and site grouping of a table's columns, vectorised;
    ``column_cells(name)`` gives one column (pyarrow), so that each is freed once parsed (peak memory)."""
    if n_rows == 0:
        raise DataFileError(f"{path}: no sites (the file has no data rows)")
    named: dict[str, str] = {}                               # glossary name -> column as written
    for column in names:
        name = _glossary_name(path, label(0), column, ignore, named)
        if name is not None:
            named[name] = column
    # cells -> typed values; the first bad cell in row order (then column order) is reported
    import pyarrow.compute as pc

    values: dict[str, Any] = {}
    problems: list[tuple[int, int, str]] = []
    # site_id first (its grouping is the read's largest transient: best with no other column held)
    for position, name in sorted(enumerate(named), key=lambda item: item[1] != "site_id"):
        column = named[name]
        cells = column_cells(column)
        cells = cells.combine_chunks() if hasattr(cells, "combine_chunks") else cells
        parsed, problem = (_float_cells if name in NUMERIC_COLUMNS else _text_cells)(column, name, cells)
        del cells
        if name == "site_id" and problem is None:
            # grouped now, while no other column is held (the 13 M-row hash's peak), and held as
            # codes and the distinct ids from here on (_group_columns)
            parsed = pc.dictionary_encode(parsed)
        _release_arrow_memory()
        values[name] = parsed
        if problem is not None:
            problems.append((problem[0], position, problem[1]))
    if problems:
        row, _, text = min(problems)
        raise ScenarioError(f"{path} {label(row)}: {text}")
    _check_required_columns(path, values)
    return _group_columns(path, crs, label, values, n_rows)


def _release_arrow_memory() -> None:
    """Hand memory Arrow freed back to the system (its allocator keeps it otherwise: a national
    file would hold twice its size)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _first_index(mask) -> int:
    import numpy as np

    i = int(np.argmax(mask)) if len(mask) else 0
    return i if len(mask) and mask[i] else -1


def _bad_cell(column: str, name: str, value: Any) -> str:
    return f"column {column!r}: expected a {'number' if name in NUMERIC_COLUMNS else 'text'}, got {value!r}"


def _float_cells(column: str, name: str, cells):
    """(float64 values, NaN for empty cells; (row, problem) of the first bad cell or None)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(cells.type):
        cells = cells.dictionary_decode()
    kind = cells.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        trimmed = pc.utf8_trim_whitespace(cells)
        empty = pc.or_kleene(pc.is_null(trimmed), pc.equal(trimmed, "")).to_numpy(zero_copy_only=False)
        try:
            values = pc.cast(pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), trimmed), pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:         # what Python's float() reads but Arrow does not ("1_000"), or not a number
            values = np.full(len(cells), np.nan)
            for i, text in enumerate(trimmed.to_pylist()):
                if not empty[i]:
                    try:
                        values[i] = float(text)
                    except ValueError:
                        return values, (i, f"column {column!r}: {cells[i].as_py()!r} is not a number")
        raw = lambda i: cells[i].as_py()                     # noqa: E731
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        empty = cells.is_null().to_numpy(zero_copy_only=False)
        values = pc.cast(cells, pa.float64(), safe=False).to_numpy(zero_copy_only=False)   # 2**53 + 1: as float()
        raw = lambda i: float(values[i])                     # noqa: E731
    else:
        present = np.flatnonzero(~cells.is_null().to_numpy(zero_copy_only=False))
        values = np.full(len(cells), np.nan)
        if len(present) == 0:
            return values, None
        i = int(present[0])
        return values, (i, _bad_cell(column, name, cells[i].as_py()))
    values = np.asarray(values, dtype=np.float64)           # nulls come as NaN
    if empty.any():
        values = np.array(values)                            # writable
        values[empty] = np.nan
    i = _first_index(~np.isfinite(values) & ~empty)
    if i >= 0:
        return values, (i, f"column {column!r}: {raw(i)!r} is not a finite number")
    return values, None


def _text_cells(column: str, name: str, cells):
    """(pyarrow string array, null for empty cells; (row, problem) of the first bad cell or None)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(cells.type) and name == "environment":   # few values: work on the dictionary
        values, problem = _text_cells(column, name, cells.dictionary)
        if problem is not None:
            return values, (int(np.flatnonzero(cells.indices.to_numpy(zero_copy_only=False) == problem[0])[0]),
                            problem[1])
        merged = pc.dictionary_encode(values)                # values equal once trimmed become one
        remap = np.append(pc.fill_null(merged.indices, -1).to_numpy(zero_copy_only=False), -1)
        index = pc.fill_null(cells.indices, -1).to_numpy(zero_copy_only=False)
        codes = remap[index]                                 # (n_rows,); -1: empty
        return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32), mask=codes < 0),
                                              merged.dictionary), None
    if pa.types.is_dictionary(cells.type):
        cells = cells.dictionary_decode()
    kind = cells.type
    if pa.types.is_integer(kind):
        cells = pc.cast(cells, pa.string())
    elif pa.types.is_floating(kind):                         # 101.0 -> "101", as the record path
        cells = pa.array([None if v is None else str(int(v)) if v.is_integer() else str(v) for v in cells.to_pylist()],
                         type=pa.string())
    elif not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        present = np.flatnonzero(~cells.is_null().to_numpy(zero_copy_only=False))
        if len(present) == 0:
            return pa.nulls(len(cells), pa.string()), None
        i = int(present[0])
        return pa.nulls(len(cells), pa.string()), (i, _bad_cell(column, name, cells[i].as_py()))
    trimmed = pc.utf8_trim_whitespace(cells)
    del cells
    empty = pc.equal(trimmed, "")
    if not pc.any(empty).as_py():
        return trimmed, None
    return pc.if_else(empty, pa.scalar(None, trimmed.type), trimmed), None


def _strings(cells, fill: str = "", *, block: int = 1 << 20):
    """A pyarrow string array as a :class:`~cellscape.scenario.columns.TextColumn`, nulls as ``fill``.

    ASCII text is copied from Arrow's buffers as fixed-width bytes (numpy ``S``, one byte per
    character) without a Python object per value (4.4 M site ids: 0.1 s, no transient objects);
    other text goes through Python strings (numpy ``U``).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from cellscape.scenario.columns import TextColumn

    cells = pc.fill_null(cells, fill)
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    cells = cells.cast(pa.large_string()) if pa.types.is_string(cells.type) else cells
    n = len(cells)
    _, offsets_buf, data_buf = cells.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[cells.offset: cells.offset + n + 1]   # (n + 1,)
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    data = data[offsets[0]: offsets[-1]] if n else data[:0]
    if n == 0 or (data.size and data.max() >= 128):
        return TextColumn(np.asarray(cells.to_numpy(zero_copy_only=False), dtype=str))
    lengths = np.diff(offsets)                                               # (n,)
    width = max(int(lengths.max()), 1)
    if np.all(lengths == width):                                             # e.g. synthetic ids
        return TextColumn(data.view(f"S{width}").copy())                   # not a view of Arrow's buffer
    out = np.empty(n, dtype=f"S{width}")
    column = np.arange(width)                                                # (width,)
    for start in range(0, n, block):
        stop = min(start + block, n)
        index = (offsets[start:stop, None] - offsets[0]) + column            # (block, width)
        inside = column < lengths[start:stop, None]                          # (block, width)
        padded = np.where(inside, data[np.where(inside, index, 0)] if data.size else 0, 0).astype(np.uint8)
        out[start:stop] = padded.view(f"S{width}").reshape(-1)
    return TextColumn(out)


def _group_columns(path: Path, crs: str | None, label, values: dict[str, Any], n_rows: int) -> RawSiteColumns:
    """Rows -> sites (first appearance) and sectors (row order), with :func:`_group_sites`' checks."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from cellscape.scenario.columns import TextColumn

    encoded = values["site_id"]
    encoded = encoded if pa.types.is_dictionary(encoded.type) else pc.dictionary_encode(encoded)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)   # (n_rows,) int32
    values.pop("site_id")
    site_ids = encoded.dictionary
    del encoded
    _release_arrow_memory()
    valid = codes >= 0
    seen = np.maximum.accumulate(codes)                                      # (n_rows,)
    is_first = np.zeros(n_rows, dtype=bool)
    is_first[0] = codes[0] >= 0
    is_first[1:] = codes[1:] > seen[:-1]                 # dictionary codes count up in order of first appearance
    first_rows = np.flatnonzero(is_first)                                    # (n_sites,)
    del seen
    if len(first_rows) != len(site_ids) or not np.array_equal(codes[first_rows], np.arange(len(first_rows))):
        raise AssertionError("pyarrow dictionary_encode did not number sites in order of first appearance")
    if len(first_rows) == 0:                             # every site_id empty: the record path's first message
        raise ScenarioError(f"{path} {label(0)}: site_id is empty")
    first_of_row = np.where(valid, first_rows[np.maximum(codes, 0)], -1)     # (n_rows,)
    later = valid & ~is_first

    def site_name(row: int) -> str:
        return site_ids[int(codes[row])].as_py()

    # the record path's checks, row by row: the earliest row wins, then the order of its checks
    found: list[tuple[int, int, Any]] = []

    def check(order: int, mask, message) -> None:
        i = _first_index(mask)
        if i >= 0:
            found.append((i, order, message))

    check(0, ~valid, lambda r: "site_id is empty")
    for order, c in enumerate(("x", "y", "height_m"), start=1):
        check(order, is_first & np.isnan(values[c]),
              lambda r, c=c: f"{c} is empty on the first row of site {site_name(r)!r}")
    env = values.get("environment")
    env_codes = None
    if env is not None:
        env_enc = env if pa.types.is_dictionary(env.type) else pc.dictionary_encode(env)
        env_codes = pc.fill_null(env_enc.indices, -1).to_numpy(zero_copy_only=False)
    for k, c in enumerate(("x", "y", "height_m", "environment")):
        if c == "environment":
            if env_codes is None:
                continue
            v, given = env_codes, env_codes >= 0
            shown = lambda r: env_enc.dictionary[int(env_codes[r])].as_py()     # noqa: E731
        else:
            v, given = values[c], ~np.isnan(values[c])
            shown = lambda r, v=v: float(v[r])                                   # noqa: E731
        first_v = v[np.maximum(first_of_row, 0)]
        first_given = given[np.maximum(first_of_row, 0)]
        check(10 + 2 * k, later & given & first_given & (v != first_v),
              lambda r, c=c, shown=shown: (f"site {site_name(r)!r} has {c}={shown(r)!r} here but "
                                           f"{shown(first_of_row[r])!r} in {label(first_of_row[r])}"))
        check(11 + 2 * k, later & given & ~first_given,
              lambda r, c=c: f"site {site_name(r)!r} gives {c} here but not in {label(first_of_row[r])}")
    check(30, valid & np.isnan(values["azimuth_deg"]), lambda r: "azimuth_deg is empty")
    if found:
        row, _, message = min(found, key=lambda f: (f[0], f[1]))
        raise ScenarioError(f"{path} {label(row)}: {message(row)}")

    n_sites = len(first_rows)
    counts = np.bincount(codes, minlength=n_sites)                          # (n_sites,)
    ptr = np.zeros(n_sites + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    in_order = bool(np.all(codes[1:] >= codes[:-1]))
    sector_row = None if in_order else np.argsort(codes, kind="stable")      # None: row order

    def per_sector(a):
        return a if in_order else a[sector_row]

    if env_codes is None or len(env_enc.dictionary) == 0:                  # no column, or every cell empty
        environment = np.full(n_sites, "", dtype="U1")
    else:
        first_env = env_codes[first_rows]                                   # (n_sites,)
        names = _strings(env_enc.dictionary).values                        # S (ASCII) or U
        environment = TextColumn(np.where(first_env >= 0, names[np.maximum(first_env, 0)], names.dtype.type()))
    env = env_enc = env_codes = None                                          # free them before the release
    sector_id = values.get("sector_id")
    if sector_id is not None:
        sector_id = _strings(sector_id if in_order else sector_id.take(pa.array(sector_row)))
    site_id = _strings(site_ids)
    del site_ids
    _release_arrow_memory()
    return RawSiteColumns(
        path=path, crs=crs, site_id=site_id, x=values["x"][first_rows], y=values["y"][first_rows],
        height_m=values["height_m"][first_rows], environment=environment, sector_ptr=ptr,
        azimuth_deg=per_sector(values["azimuth_deg"]),
        **{c: per_sector(values[c]) if c in values else None for c in ("tx_power_dbm", "mech_tilt_deg", "elec_tilt_deg")},
        sector_id=sector_id, site_row=first_rows.astype(np.int64), sector_row=sector_row, label=label)


def _columns_of_sites_table(table: SitesTable) -> RawSiteColumns:
    """A record-path table (GeoJSON, odd CSV) as columns; ``where`` keeps its row names."""
    import numpy as np

    sectors = [s for site in table.sites for s in site["sectors"]]
    labels = [w for rows in table.where for w in rows]
    ptr = np.zeros(len(table.sites) + 1, dtype=np.int64)
    np.cumsum([len(s["sectors"]) for s in table.sites], out=ptr[1:])

    def floats(items, name):
        return np.array([float(it.get(name, np.nan)) for it in items], dtype=np.float64)

    has_ids = any("sector_id" in s for s in sectors)
    return RawSiteColumns(
        path=table.path, crs=table.crs, site_id=np.array([s["site_id"] for s in table.sites], dtype=str),
        x=floats(table.sites, "x"), y=floats(table.sites, "y"), height_m=floats(table.sites, "height_m"),
        environment=np.array([s.get("environment", "") for s in table.sites], dtype=str), sector_ptr=ptr,
        **{c: floats(sectors, c) for c in ("azimuth_deg", "tx_power_dbm", "mech_tilt_deg", "elec_tilt_deg")},
        sector_id=np.array([s.get("sector_id", "") for s in sectors], dtype=str) if has_ids else None,
        site_row=ptr[:-1].copy(), sector_row=np.arange(len(sectors), dtype=np.int64),
        label=lambda i: labels[i])
