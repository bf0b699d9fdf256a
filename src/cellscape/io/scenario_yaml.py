"""Read a scenario YAML file (docs/scenario.md) into a validated :class:`~cellscape.scenario.records.Scenario`.

The edge of the scenario: this module reads files and resolves paths, then hands a plain mapping
to :func:`cellscape.scenario.parse_scenario`, which validates it.

- YAML is read with ``yaml.safe_load`` semantics (no arbitrary objects), plus one strictness: a key
  repeated in one mapping is an error (plain PyYAML keeps the last one silently).
- Limits (:mod:`cellscape.io.limits`, each raised by ``CELLSCAPE_<LIMIT>=N`` or ``--allow-large``):
  the file must be a regular file of at most ``max_yaml_bytes`` (checked with ``os.stat``, read with
  a bounded read); collections nest at most ``max_yaml_depth`` levels (checked while scanning and
  composing, so no RecursionError); aliases may expand the document to at most ``max_yaml_nodes``
  nodes (a billion-laughs file is refused before anything is constructed); a site file is counted
  before it is read (``max_site_rows``; ``max_record_rows`` on the per-site path of
  :func:`load_scenario`; ``max_sites`` once grouped).
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
from cellscape.io import limits
from cellscape.io.sites_file import (
    ROW_BYTES_COLUMNS,
    ROW_BYTES_RECORDS,
    ROW_SECONDS_RECORDS,
    RawSiteColumns,
    SitesTable,
    count_site_rows,
    read_site_columns,
    read_sites_table,
)
from cellscape.scenario.columns import SiteColumns, message_site, parse_scenario_head, site_columns
from cellscape.scenario.model import BUILT_IN_SOURCE_PREFIXES, is_geographic, parse_scenario
from cellscape.scenario.records import Scenario

__all__ = ["load_scenario", "load_scenario_columns", "load_plan", "load_sensing", "read_scenario_mapping",
           "sites_file_rows"]


class _LimitError(yaml.MarkedYAMLError):
    """A YAML input limit (depth, expanded size) was hit; ``problem`` says which and how to raise it."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader (no object tags) that refuses a key given twice in one mapping, collections nested
    deeper than ``max_yaml_depth`` (checked while composing, so 50,000 ``[`` stop at the limit
    instead of recursing) and documents whose aliases expand to more than ``max_yaml_nodes``
    nodes (a billion-laughs file is refused before anything is constructed from it)."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._max_depth = limits.limit("max_yaml_depth")
        self._max_nodes = limits.limit("max_yaml_nodes")

    def fetch_flow_collection_start(self, token_class):
        # the scanner looks up to 1024 characters ahead over every open flow level: stop at the limit
        if self.flow_level >= self._max_depth:
            raise _LimitError(None, None, f"collections nested deeper than {self._max_depth} levels; "
                              f"{limits.how_to_raise('max_yaml_depth')}", self.get_mark())
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > self._max_depth:
                raise _LimitError(None, None, f"collections nested deeper than {self._max_depth} levels; "
                                  f"{limits.how_to_raise('max_yaml_depth')}", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            _check_expansion(node, max_nodes=self._max_nodes, max_depth=self._max_depth)
        return node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_expansion(root: yaml.Node, *, max_nodes: int, max_depth: int) -> None:
    """Refuse a node graph whose aliases expand it beyond ``max_nodes`` nodes or ``max_depth``
    levels, or that contains itself; iterative (no recursion), each node visited once."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_nodes: set[int] = set()                  # the nodes on the current path (a cycle returns to one)
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            open_nodes.discard(key)
            if size[key] > max_nodes:
                raise _LimitError(None, None, f"aliases expand the document to more than {max_nodes:,} nodes "
                                  f"(a billion-laughs file?); {limits.how_to_raise('max_yaml_nodes')}",
                                  node.start_mark)
            if depth[key] > max_depth:
                raise _LimitError(None, None, f"aliases nest collections deeper than {max_depth} levels; "
                                  f"{limits.how_to_raise('max_yaml_depth')}", node.start_mark)
            continue
        if key in size:
            continue
        if key in open_nodes:
            raise _LimitError(None, None, "an alias refers to a collection that contains it (a recursive "
                              "structure)", node.start_mark)
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in size)


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":      # "<<: *base": merged (and overridden) by SafeLoader
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"a mapping key must be a plain value, got a {type(key).__name__}",
                key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key].start_mark.line + 1})",
                key_node.start_mark)
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_scenario_mapping(path: str | os.PathLike) -> dict:
    """The YAML file as a plain mapping, nothing resolved or validated.

    The file is refused before it is parsed when it is not a regular file or is over
    ``max_yaml_bytes`` (:mod:`cellscape.io.limits`), and while it is parsed when it nests deeper
    than ``max_yaml_depth`` or its aliases expand past ``max_yaml_nodes``.

    Raises
    ------
    DataFileError
        If the file is missing, unreadable, not a regular file or over the size limit.
    ScenarioError
        If it is not valid YAML (message: file, line, column, problem), over a YAML limit, or not
        a mapping.
    """
    path = Path(path)
    raw = limits.read_bounded(path, what="scenario file", name="max_yaml_bytes",
                              hint=" (a big network belongs in a sites_file, read as columns)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path}: cannot read scenario file (not UTF-8 text: {exc.reason} at byte "
                            f"{exc.start})") from None
    loader = None
    try:
        loader = _StrictLoader(text)                    # the reader refuses control characters here
        data = loader.get_single_data()
    except _LimitError as exc:
        mark = exc.problem_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ScenarioError(f"{path}{where}: {exc.problem}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = " ".join(str(exc.problem or exc.context or "syntax error").split())
        raise ScenarioError(f"{path}{where}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: invalid YAML: {' '.join(str(exc).split())}") from None
    except (ValueError, TypeError, OverflowError, IndexError, KeyError, AttributeError) as exc:
        # a scalar its tag cannot hold: "2020-13-45", "!!int" with no digits, "!!timestamp x"
        raise ScenarioError(f"{path}: invalid YAML: {' '.join(str(exc).split()) or type(exc).__name__}") from None
    finally:
        if loader is not None:
            loader.dispose()
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
    _check_record_rows(_inline_rows(data), f"in {path}")
    if entry is not None:
        file, ignore = _sites_file_entry(entry, path.parent, path)
        _check_record_rows(count_site_rows(file), f"in {file}")
        table = read_sites_table(file, ignore_columns=ignore)
        _check_sites_crs(table, data, path)
        data["sites"] = table.sites
    try:
        return parse_scenario(data)
    except ScenarioError as exc:
        raise ScenarioError(f"{_flat(exc)} ({_origin(str(exc), table, path)})") from None


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
        _check_record_rows(_inline_rows(data), f"in {path}")
        try:
            scenario = parse_scenario(data)
        except ScenarioError as exc:
            raise ScenarioError(f"{_flat(exc)} (in {path})") from None
        return replace(scenario, sites=()), SiteColumns.from_records(scenario.sites)
    file, ignore = _sites_file_entry(entry, path.parent, path)
    _check_column_rows(count_site_rows(file), file)
    raw = read_site_columns(file, ignore_columns=ignore)
    limits.check_count("max_sites", len(raw.sector_ptr) - 1, f"sites in {file}",
                       cost=f"{len(raw.azimuth_deg):,} sectors")
    _check_sites_crs(raw, data, path)
    try:
        scenario, spec = parse_scenario_head(data)
    except ScenarioError as exc:
        raise ScenarioError(f"{_flat(exc)} (in {path})") from None
    try:
        return scenario, site_columns(**raw.arrays(), spec=spec)
    except ScenarioError as exc:
        raise ScenarioError(f"{_flat(exc)} ({_columns_origin(str(exc), raw)})") from None


def sites_file_rows(path: str | os.PathLike) -> int | None:
    """Data rows of the site file a scenario names (Parquet: from its metadata; CSV: lines less the
    header; GeoJSON: features, estimated), or None when it names none; cheap, nothing validated
    (:func:`cellscape.io.sites_file.count_site_rows`)."""
    path = Path(path)
    data = read_scenario_mapping(path)
    if "sites_file" not in data:
        return None
    file, _ = _sites_file_entry(data["sites_file"], path.parent, path)
    return count_site_rows(file)


def _check_record_rows(rows: int | None, what: str) -> None:
    """Refuse more sector rows than ``max_record_rows`` on the record path, with its cost."""
    if rows is None:
        return
    limits.check_count(
        "max_record_rows", rows, f"sector rows {what} to check one by one",
        cost=f"~{rows * ROW_SECONDS_RECORDS:.0f} s and ~{rows * ROW_BYTES_RECORDS / 1e9:.2g} GB before any map; "
             f"cellscape validate and run --stream read big site files as columns")


def _check_column_rows(rows: int | None, file: Path) -> None:
    if rows is not None:
        limits.check_count("max_site_rows", rows, f"sector rows in {file}",
                           cost=f"reading them takes ~{rows * ROW_BYTES_COLUMNS / 1e9:.2g} GB")


def _inline_rows(data: Mapping) -> int | None:
    """Sectors of the inline ``sites:`` (a site without a sectors list counts one), None if not a list."""
    sites = data.get("sites")
    if not isinstance(sites, list):
        return None
    return sum(len(s["sectors"]) if isinstance(s, Mapping) and isinstance(s.get("sectors"), list) else 1
               for s in sites)


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


def _flat(exc: BaseException) -> str:
    """An error's message on one line: a key or value quoted from the file may hold line breaks."""
    return " ".join(str(exc).split())


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
        unknown = sorted(set(entry) - {"path", "ignore_columns"}, key=repr)
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
    unknown = sorted(set(data) - {"name", "scenario", block}, key=repr)
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
            _check_record_rows(count_site_rows(cands["file"]), f"in {cands['file']}")
            table = read_sites_table(cands["file"])
            raw = read_scenario_mapping(scenario_path)
            _check_sites_crs(table, raw, path)
            raw.pop("sites_file", None)
            raw["sites"] = table.sites
            try:
                file_sites = parse_scenario(raw).sites
            except ScenarioError as exc:
                raise ScenarioError(f"plan.candidates.file: {_flat(exc)} ({_origin(str(exc), table, path)})") from None
        demand = plan.get("demand")
        if isinstance(demand, Mapping) and isinstance(demand.get("raster"), str):
            plan["demand"] = {**demand, "raster": str(_resolve(demand["raster"], base))}
        data = {**data, "plan": plan}
    try:
        return parse_plan(data, scenario, file_sites=file_sites)
    except ScenarioError as exc:
        raise ScenarioError(f"{_flat(exc)} (in {path})") from None


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
        raise ScenarioError(f"{_flat(exc)} (in {path})") from None


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
        raise ScenarioError(f"{_flat(exc)} (in {path})") from None
