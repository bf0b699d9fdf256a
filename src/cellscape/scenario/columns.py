"""Sites as columns: national networks (millions of sites) without a Python object per site.

:func:`~cellscape.scenario.model.parse_scenario` validates each site through pydantic and builds a
frozen :class:`~cellscape.scenario.records.Site` per site (about 0.45 ms and 10 KB each): fine for a
city, not for the 4.4 M sites of a country. :class:`SiteColumns` holds the same values as arrays
(sites, and their sectors in CSR layout), and :func:`site_columns` validates them with the same
rules, read from the pydantic models' own ``Field`` metadata (one rule, one home), and applies
``sector_defaults`` exactly as ``parse_scenario`` does. :meth:`SiteColumns.records` gives back the
frozen records of any sites, equal (``==``) to what ``parse_scenario`` builds.

Files are read at the edge (:func:`cellscape.io.sites_file.read_site_columns`,
:func:`cellscape.io.scenario_yaml.load_scenario_columns`); nothing here reads files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
import math
import re
from typing import Any

import annotated_types as at
import numpy as np
from pydantic import Field, ValidationError

from cellscape.errors import ScenarioError
from cellscape.scenario.model import (
    ScenarioSpec,
    SectorDefaultsSpec,
    SectorSpec,
    SiteSpec,
    _antenna,
    _cross_field_issues,
    _first,
    _short_repr,
    _to_records,
    _validation_message,
    field_path,
    site_box,
    site_outside_message,
)
from cellscape.scenario.records import ENVIRONMENTS, AntennaSpec, Scenario, Sector, Site

__all__ = ["SiteColumns", "TextColumn", "site_columns", "parse_scenario_head", "height_extreme_sites"]

_SITE_FLOATS = ("x", "y", "height_m")
_SECTOR_FLOATS = ("azimuth_deg", "tx_power_dbm", "mech_tilt_deg", "elec_tilt_deg")
_DEFAULTED = ("tx_power_dbm", "mech_tilt_deg", "elec_tilt_deg")


class TextColumn:
    """A column of text (site ids, sector ids, environments), one value per row, stored compactly.

    ASCII text (every synthetic or typical id) is held as fixed-width bytes (numpy ``S``, one byte
    per character) instead of numpy ``str`` (``U``, four bytes per character): the 13.2 M default
    sector ids of a national network take 132 MB instead of 528 MB. Other text stays ``U``.

    It behaves as a read-only 1-D numpy ``str`` array for what columns are used for: ``len``,
    ``column[i]`` (a Python ``str``), ``column[idx]`` / ``column[a:b]`` (a TextColumn),
    ``tolist()``, iteration, ``==`` / ``!=`` with a ``str`` or another column (a bool array) and
    ``np.asarray(column)`` (a numpy ``str`` array, decoded on demand).

    >>> c = TextColumn(["A", "B-1", ""])
    >>> c.values.dtype, c[1], c[[2, 0]].tolist(), (c == "").tolist(), np.asarray(c).dtype
    (dtype('S3'), 'B-1', ['', 'A'], [False, False, True], dtype('<U3'))
    >>> TextColumn(["Å"]).values.dtype
    dtype('<U1')
    """

    __hash__ = None       # mutable-array semantics, as numpy's

    def __init__(self, values, *, block: int = 1 << 20):
        a = values.values if isinstance(values, TextColumn) else np.asarray(values)
        if a.dtype.kind not in "SU":
            a = np.asarray(values, dtype=str)
        a = a.reshape(-1)
        if a.dtype.kind == "U":
            a = _ascii_bytes(a, block) if a.size else a.astype("S1")
        self.values = a               # (n,) S (ASCII) or U

    # -- array-like --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.values)

    @property
    def shape(self) -> tuple[int]:
        return self.values.shape

    @property
    def size(self) -> int:
        return self.values.size

    @property
    def ndim(self) -> int:
        return 1

    @property
    def dtype(self) -> np.dtype:
        """The numpy ``str`` dtype of :meth:`__array__` (what ``np.asarray`` gives)."""
        a = self.values
        return np.dtype(f"U{max(a.dtype.itemsize, 1)}") if a.dtype.kind == "S" else a.dtype

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            v = self.values[key]
            return v.decode("ascii") if isinstance(v, bytes) else str(v)
        return TextColumn(self.values[key])

    def __iter__(self):
        block = 1 << 16
        for start in range(0, len(self), block):
            yield from self[start:start + block].tolist()

    def tolist(self) -> list[str]:
        return self.__array__().tolist()

    def __array__(self, dtype=None, copy=None):
        a = self.values
        out = a.astype(self.dtype) if a.dtype.kind == "S" else a
        return out if dtype is None else out.astype(dtype, copy=False)

    def _compare(self, other) -> np.ndarray:
        a = self.values
        if isinstance(other, str):
            if a.dtype.kind == "S":
                try:
                    return a == other.encode("ascii")
                except UnicodeEncodeError:                  # never equal to ASCII text
                    return np.zeros(a.shape, dtype=bool)
            return a == other
        b = other.values if isinstance(other, TextColumn) else np.asarray(other)
        if a.dtype.kind == b.dtype.kind:
            return a == b
        return np.asarray(self) == (np.asarray(other) if isinstance(other, TextColumn) else b)

    def __eq__(self, other):
        return self._compare(other)

    def __ne__(self, other):
        return ~self._compare(other)

    def __repr__(self) -> str:
        return f"TextColumn({self.tolist() if len(self) <= 6 else f'{len(self):,} values'})"

    def __reduce__(self):
        return (TextColumn, (self.values,))


def _ascii_bytes(a: np.ndarray, block: int) -> np.ndarray:
    """``a`` (numpy ``U``) as ``S`` of the same width where every character is ASCII, else ``a``;
    converted in blocks of rows, without a Python object per value."""
    width = a.dtype.itemsize // 4
    if width == 0:
        return np.zeros(a.shape, dtype="S1")
    out = np.empty(a.shape, dtype=f"S{width}")
    a = np.ascontiguousarray(a)
    for start in range(0, a.size, block):
        chars = a[start:start + block].view(np.uint32).reshape(-1, width)     # (block, width) code points
        if chars.size and int(chars.max()) >= 128:
            return a
        out[start:start + block] = chars.astype(np.uint8).view(f"S{width}").reshape(-1)
    return out


_TEXT_FIELDS = ("site_id", "environment", "sector_id")


@dataclass(frozen=True, eq=False)
class SiteColumns:
    """Sites and their sectors as arrays (CSR layout); values already validated and defaulted.

    Text columns (``site_id``, ``environment``, ``sector_id``) are :class:`TextColumn` (whatever
    array of text is passed is converted): they behave as numpy ``str`` arrays and take a quarter
    of the memory for ASCII text.

    Attributes
    ----------
    site_id : TextColumn, shape (n_sites,)
    x, y : ndarray of float64, shape (n_sites,)
        Position in the scenario's ``area.crs`` (lon/lat degrees, or metres).
    height_m : ndarray of float64, shape (n_sites,)
        Antenna height above local ground. [m]
    environment : TextColumn, shape (n_sites,)
        TR 38.901 environment; ``""``: the scenario's ``environment``.
    sector_ptr : ndarray of int64, shape (n_sites + 1,)
        Sectors of site ``i`` are ``sector_ptr[i]:sector_ptr[i + 1]``, in file row order.
    azimuth_deg, tx_power_dbm, mech_tilt_deg, elec_tilt_deg : ndarray of float64, shape (n_sectors,)
        Per sector, ``sector_defaults`` applied. [deg], [dBm] A column no sector gives is a
        read-only broadcast of its default (no memory for 13 M sectors).
    sector_id : TextColumn, shape (n_sectors,)
        Given, or ``"<site_id>-<k>"`` (k = 1, 2, ... within the site).
    antennas : tuple of AntennaSpec
        The distinct antennas; ``sector_antenna`` indexes them.
    sector_antenna : ndarray of int32, shape (n_sectors,)
    """

    site_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    height_m: np.ndarray
    environment: np.ndarray
    sector_ptr: np.ndarray
    azimuth_deg: np.ndarray
    tx_power_dbm: np.ndarray
    mech_tilt_deg: np.ndarray
    elec_tilt_deg: np.ndarray
    sector_id: np.ndarray
    antennas: tuple[AntennaSpec, ...] = (AntennaSpec(),)
    sector_antenna: np.ndarray | None = None      # None: every sector has antennas[0]

    def __post_init__(self):
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, TextColumn):
                object.__setattr__(self, name, TextColumn(value))

    @property
    def n_sites(self) -> int:
        return len(self.site_id)

    @property
    def n_sectors(self) -> int:
        return int(self.sector_ptr[-1])

    @property
    def sector_site(self) -> np.ndarray:
        """Index of each sector's site, shape (n_sectors,) int64."""
        return np.repeat(np.arange(self.n_sites, dtype=np.int64), np.diff(self.sector_ptr))

    def _antenna_index(self) -> np.ndarray:
        if self.sector_antenna is None:
            return np.zeros(self.n_sectors, dtype=np.int32)
        return self.sector_antenna

    def records(self, idx: Iterable[int] | np.ndarray | int) -> tuple[Site, ...]:
        """The frozen :class:`Site` records of sites ``idx`` (equal to what parse_scenario builds)."""
        antenna = self._antenna_index()
        out = []
        for i in np.atleast_1d(np.asarray(idx, dtype=np.int64)).tolist():
            lo, hi = int(self.sector_ptr[i]), int(self.sector_ptr[i + 1])
            sectors = tuple(
                Sector(azimuth_deg=float(self.azimuth_deg[j]), tx_power_dbm=float(self.tx_power_dbm[j]),
                       mech_tilt_deg=float(self.mech_tilt_deg[j]), elec_tilt_deg=float(self.elec_tilt_deg[j]),
                       antenna=self.antennas[int(antenna[j])], sector_id=str(self.sector_id[j]))
                for j in range(lo, hi))
            env = str(self.environment[i])
            out.append(Site(site_id=str(self.site_id[i]), x=float(self.x[i]), y=float(self.y[i]),
                            height_m=float(self.height_m[i]), sectors=sectors, environment=env or None))
        return tuple(out)

    def sectors_of(self, idx: Sequence[int] | np.ndarray) -> np.ndarray:
        """The sector indices of sites ``idx``, site by site (in that order), each site's in row order."""
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        counts = np.diff(self.sector_ptr)[idx]                                  # (n_taken,)
        # sector j of the result comes from sector_ptr[idx[site]] + (j - start of that site in the result)
        starts = np.cumsum(counts) - counts
        return np.repeat(self.sector_ptr[idx] - starts, counts) + np.arange(int(counts.sum()))

    def take(self, idx: Sequence[int] | np.ndarray) -> SiteColumns:
        """The sites ``idx`` (in that order) with their sectors."""
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        counts = np.diff(self.sector_ptr)[idx]                                  # (n_taken,)
        ptr = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        sec = self.sectors_of(idx)                                              # (n_taken_sectors,)
        return SiteColumns(
            site_id=self.site_id[idx], x=self.x[idx], y=self.y[idx], height_m=self.height_m[idx],
            environment=self.environment[idx], sector_ptr=ptr, azimuth_deg=self.azimuth_deg[sec],
            tx_power_dbm=self.tx_power_dbm[sec], mech_tilt_deg=self.mech_tilt_deg[sec],
            elec_tilt_deg=self.elec_tilt_deg[sec], sector_id=self.sector_id[sec], antennas=self.antennas,
            sector_antenna=None if self.sector_antenna is None else self.sector_antenna[sec])

    @classmethod
    def from_records(cls, sites: Sequence[Site]) -> SiteColumns:
        """Columns of validated records (inline ``sites:`` of a scenario; small)."""
        sectors = [s for site in sites for s in site.sectors]
        antennas: dict[AntennaSpec, int] = {}
        index = np.array([antennas.setdefault(s.antenna, len(antennas)) for s in sectors], dtype=np.int32)
        ptr = np.zeros(len(sites) + 1, dtype=np.int64)
        np.cumsum([len(site.sectors) for site in sites], out=ptr[1:])
        return cls(
            site_id=np.array([s.site_id for s in sites], dtype=str),
            x=np.array([s.x for s in sites], dtype=float), y=np.array([s.y for s in sites], dtype=float),
            height_m=np.array([s.height_m for s in sites], dtype=float),
            environment=np.array([s.environment or "" for s in sites], dtype=str), sector_ptr=ptr,
            **{name: np.array([getattr(s, name) for s in sectors], dtype=float) for name in _SECTOR_FLOATS},
            sector_id=np.array([s.sector_id for s in sectors], dtype=str),
            antennas=tuple(antennas) or (AntennaSpec(),), sector_antenna=index)


# ---------------------------------------------------------------------------------------------
# the scenario without its sites


class _HeadSpec(ScenarioSpec):
    """A scenario whose sites come as columns: ``sites`` is not read here."""

    sites: list[SiteSpec] = Field(default_factory=list, max_length=0)


def parse_scenario_head(data: Mapping[str, Any]) -> tuple[Scenario, ScenarioSpec]:
    """Validate a scenario mapping without ``sites`` (they come as columns, :func:`site_columns`).

    Returns the :class:`Scenario` with ``sites=()`` and its spec (for ``area``, ``environment`` and
    ``sector_defaults``). Errors as :func:`~cellscape.scenario.model.parse_scenario`'s.
    """
    if not isinstance(data, Mapping):
        raise ScenarioError(f"scenario: expected a mapping of keys to values, got {type(data).__name__}")
    if "sites" in data or "sites_file" in data:
        raise ScenarioError("sites: parse_scenario_head takes a scenario without sites (they come as columns)")
    try:
        spec = _HeadSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(_validation_message(exc, _HeadSpec)) from None
    issues = _cross_field_issues(spec)
    if issues:
        more = f" (+{len(issues) - 1} more)" if len(issues) > 1 else ""
        raise ScenarioError(issues[0] + more)
    return _to_records(spec), spec


# ---------------------------------------------------------------------------------------------
# validation: the pydantic rules, on arrays


def _bad_range(values: np.ndarray, metadata: Sequence[Any]) -> np.ndarray:
    """Where ``values`` break the ge/gt/le/lt constraints in a field's ``metadata`` (NaN never does)."""
    bad = np.zeros(values.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        for rule in metadata:
            if isinstance(rule, at.Ge):
                bad |= values < rule.ge
            elif isinstance(rule, at.Gt):
                bad |= values <= rule.gt
            elif isinstance(rule, at.Le):
                bad |= values > rule.le
            elif isinstance(rule, at.Lt):
                bad |= values >= rule.lt
    return bad


def _field_bad(values: np.ndarray, model: type, name: str) -> np.ndarray:
    """Where a float column breaks field ``name`` of ``model``: out of range, infinite, or (a
    required field) NaN, which stands for "not given"."""
    info = model.model_fields[name]
    bad = _bad_range(values, info.metadata) | np.isinf(values)
    if info.is_required():
        bad |= np.isnan(values)
    return bad


def _first_true(mask: np.ndarray) -> int:
    """Index of the first True of a 1-D mask, or -1."""
    i = int(np.argmax(mask)) if mask.size else 0
    return i if mask.size and mask[i] else -1


def _site_mapping(site_id, x, y, height_m, environment, sectors: list[dict]) -> dict:
    out: dict[str, Any] = {"site_id": site_id}
    for name, v in (("x", x), ("y", y), ("height_m", height_m)):
        if not math.isnan(v):
            out[name] = v
    if environment:
        out["environment"] = environment
    out["sectors"] = sectors
    return out


def _pydantic_message(i: int, site: dict) -> str | None:
    """What pydantic says first about site ``i`` (the field path starting ``sites[i]``)."""
    try:
        SiteSpec.model_validate(site)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        path = field_path(("sites", i, *first["loc"]))
        if first["type"] == "missing":
            return f"{path}: Field required"
        return f"{path}: {first['msg']}, got {_short_repr(first.get('input'))}"
    return None


def _unique_first_duplicate(ids: np.ndarray) -> tuple[int, int, int]:
    """(index of the first element equal to an earlier one, index of that earlier one, count of
    duplicates), or (-1, -1, 0)."""
    order = np.argsort(ids, kind="stable")                                   # (n,)
    sorted_ids = ids[order]
    same = sorted_ids[1:] == sorted_ids[:-1]                                 # (n - 1,)
    n_dup = int(np.count_nonzero(same))
    if n_dup == 0:
        return -1, -1, 0
    # the duplicate earliest in input order: in each run of equal ids, order is ascending (stable)
    later = order[1:][same]
    j = int(later.min())
    run_start = np.flatnonzero(sorted_ids == ids[j])
    return j, int(order[run_start[0]]), n_dup


def site_columns(*, site_id, x, y, height_m, environment, sector_ptr, azimuth_deg, tx_power_dbm,
                 mech_tilt_deg, elec_tilt_deg, sector_id, spec: ScenarioSpec) -> SiteColumns:
    """Validate raw site columns with the rules of the scenario models and apply ``sector_defaults``.

    Parameters
    ----------
    site_id : array_like of str, shape (n_sites,)
    x, y, height_m : array_like of float, shape (n_sites,)
        In ``spec.area.crs``; NaN: not given. [m for height_m]
    environment : array_like of str, shape (n_sites,)
        ``""``: not given (the scenario's environment).
    sector_ptr : array_like of int, shape (n_sites + 1,)
        CSR offsets of each site's sectors.
    azimuth_deg, tx_power_dbm, mech_tilt_deg, elec_tilt_deg : array_like of float, shape (n_sectors,)
        NaN: not given (``sector_defaults``, else the record default). [deg], [dBm]
    sector_id : array_like of str, shape (n_sectors,), or None
        ``""``: not given (``"<site_id>-<k>"``); None: none given.
    spec : ScenarioSpec
        The scenario (:func:`parse_scenario_head`): area, ``sector_defaults``.

    Returns
    -------
    SiteColumns

    Raises
    ------
    ScenarioError
        The first problem in site order, worded and field-pathed as parse_scenario words it
        (e.g. ``sites[3].sectors[1].azimuth_deg: Input should be less than 360, got 400.0``), then
        ``(+N more)``. Per-field rules (SiteSpec/SectorSpec Field metadata: ranges, required,
        finite, environment names, at least one sector) come first, then sites outside the area,
        duplicate site ids and duplicate sector ids.
    """
    site_id = TextColumn(site_id)
    environment = TextColumn(environment)
    ptr = np.asarray(sector_ptr, dtype=np.int64)
    site_f = {n: np.asarray(v, dtype=np.float64) for n, v in (("x", x), ("y", y), ("height_m", height_m))}
    given_f = (("azimuth_deg", azimuth_deg), ("tx_power_dbm", tx_power_dbm), ("mech_tilt_deg", mech_tilt_deg),
               ("elec_tilt_deg", elec_tilt_deg))
    sec_f = {n: np.asarray(v, dtype=np.float64) for n, v in given_f if v is not None}   # None: none given
    sector_id = None if sector_id is None else TextColumn(sector_id)
    n_sites = len(site_id)
    counts = np.diff(ptr)                                                    # (n_sites,)
    sector_site = np.repeat(np.arange(n_sites, dtype=np.int32), counts)      # (n_sectors,)

    # per-field rules, in pydantic's order within a site; the first bad site is the one reported
    site_bad = [site_id == "", *(_field_bad(site_f[n], SiteSpec, n) for n in _SITE_FLOATS),
                (environment != "") & ~np.isin(np.asarray(environment), ENVIRONMENTS), counts < 1]
    sector_bad = [_field_bad(sec_f[n], SectorSpec, n) for n in _SECTOR_FLOATS if n in sec_f]
    n_bad = sum(int(np.count_nonzero(m)) for m in site_bad + sector_bad)
    if n_bad:
        first_sites = [_first_true(m) for m in site_bad]
        first_sites += [int(sector_site[k]) for k in (_first_true(m) for m in sector_bad) if k >= 0]
        i = min(s for s in first_sites if s >= 0)
        lo, hi = int(ptr[i]), int(ptr[i + 1])
        sectors = [{n: float(sec_f[n][j]) for n in _SECTOR_FLOATS if n in sec_f and not math.isnan(sec_f[n][j])}
                   | ({"sector_id": str(sector_id[j])} if sector_id is not None and sector_id[j] else {})
                   for j in range(lo, hi)]
        site = _site_mapping(str(site_id[i]), *(float(site_f[n][i]) for n in _SITE_FLOATS), str(environment[i]),
                             sectors)
        message = _pydantic_message(i, site) or f"sites[{i}]: invalid site {site_id[i]!r}"
        raise ScenarioError(message + (f" (+{n_bad - 1} more)" if n_bad > 1 else ""))

    # cross-field rules (model._cross_field_issues' order): position, duplicate sites, duplicate sectors
    x_low, x_high, y_low, y_high = site_box(spec.area)
    out_x = ~((x_low <= site_f["x"]) & (site_f["x"] <= x_high))
    out_y = ~((y_low <= site_f["y"]) & (site_f["y"] <= y_high))
    n_out = int(np.count_nonzero(out_x | out_y))
    dup_site, dup_site_first, n_dup_site = _unique_first_duplicate(site_id.values)

    # sector ids: given, else "<site_id>-<k>"
    local_k = (np.arange(len(sector_site), dtype=np.int64) - ptr[:-1][sector_site]).astype(np.int32)  # (n_sectors,)
    defaulted = _default_sector_ids(site_id.values, sector_site, local_k, int(counts.max(initial=0)))
    any_given = sector_id is not None and bool(np.any(sector_id != ""))
    if any_given:
        given, defaulted = _same_kind(sector_id.values, defaulted)
        ids = TextColumn(np.where(sector_id != "", given, defaulted))
        del given
    else:
        ids = TextColumn(defaulted)
    del defaulted
    # without given ids, "<site_id>-<k>" are unique when site ids are (two of them could only be
    # equal if one site id were another plus "-<digits>-...", which ends in digits: impossible)
    dup_sec, dup_sec_first, n_dup_sec = (_unique_first_duplicate(ids.values) if any_given or n_dup_site
                                         else (-1, -1, 0))

    n_issues = n_out + n_dup_site + n_dup_sec
    if n_issues:
        more = f" (+{n_issues - 1} more)" if n_issues > 1 else ""
        if n_out:
            i = _first_true(out_x | out_y)
            axis = "x" if out_x[i] else "y"
            raise ScenarioError(site_outside_message(i, str(site_id[i]), axis, float(site_f[axis][i]), spec.area) + more)
        if n_dup_site:
            raise ScenarioError(f"sites[{dup_site}].site_id: duplicate of sites[{dup_site_first}].site_id, "
                                f"got {str(site_id[dup_site])!r}" + more)

        def where(j: int) -> str:
            return f"sites[{sector_site[j]}].sectors[{local_k[j]}]"
        # parse_scenario reports the duplicate that comes second in site order, as here
        raise ScenarioError(f"{where(dup_sec)}.sector_id: duplicate of {where(dup_sec_first)}, "
                            f"got {str(ids[dup_sec])!r}" + more)

    n_sectors = len(sector_site)
    del sector_site, local_k
    d = spec.sector_defaults or SectorDefaultsSpec()
    base = Sector(azimuth_deg=0.0)
    filled = {}
    for n in _DEFAULTED:
        default = float(_first(getattr(d, n), getattr(base, n)))
        if n not in sec_f:
            filled[n] = np.broadcast_to(np.float64(default), (n_sectors,))   # read-only, no memory
        else:
            empty = np.isnan(sec_f[n])
            filled[n] = np.where(empty, default, sec_f[n]) if empty.any() else sec_f[n]
    return SiteColumns(site_id=site_id, x=site_f["x"], y=site_f["y"], height_m=site_f["height_m"],
                       environment=environment, sector_ptr=ptr, azimuth_deg=sec_f["azimuth_deg"], **filled,
                       sector_id=ids, antennas=(_antenna(None, d.antenna),), sector_antenna=None)


def _default_sector_ids(site_id: np.ndarray, sector_site: np.ndarray, local_k: np.ndarray, max_k: int,
                        *, block: int = 1 << 20) -> np.ndarray:
    """``"<site_id>-<k + 1>"`` per sector, shape (n_sectors,), of ``site_id``'s kind (numpy ``S``:
    ASCII bytes, or ``U``), built in blocks (peak memory)."""
    kind, char = ("S", 1) if site_id.dtype.kind == "S" else ("U", 4)
    k_text = np.array([str(k) for k in range(1, max_k + 1)] or [""], dtype=kind)    # (max_k,)
    dash = np.array("-", dtype=kind)
    width = site_id.dtype.itemsize // char + 1 + k_text.dtype.itemsize // char
    out = np.empty(len(sector_site), dtype=f"{kind}{max(width, 1)}")
    for start in range(0, len(out), block):
        stop = min(start + block, len(out))
        out[start:stop] = np.strings.add(np.strings.add(site_id[sector_site[start:stop]], dash),
                                         k_text[local_k[start:stop]])
    return out


def _same_kind(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` as one kind of numpy text (``S`` where both are ASCII bytes, else ``U``)."""
    if a.dtype.kind == b.dtype.kind:
        return a, b
    return np.asarray(TextColumn(a) if a.dtype.kind == "S" else a), np.asarray(TextColumn(b) if b.dtype.kind == "S" else b)


def height_extreme_sites(columns: SiteColumns, *, default_environment: str) -> np.ndarray:
    """Sites with the lowest and the highest antenna of each environment, shape (<= 2 n_env,) int64.

    The TR 38.901 validity ranges of antenna heights are intervals per environment, so a height
    check of these few sites holds for all (``cellscape validate`` on a national file)."""
    env = np.where(columns.environment == "", default_environment, columns.environment)
    picks: list[int] = []
    for name in np.unique(env):
        where = np.flatnonzero(env == name)
        h = columns.height_m[where]
        picks += [int(where[np.argmin(h)]), int(where[np.argmax(h)])]
    return np.unique(np.array(picks, dtype=np.int64))


_SITE_PATH = re.compile(r"^sites\[(\d+)\](?:\.sectors\[(\d+)\])?")


def message_site(message: str) -> tuple[int, int | None] | None:
    """``(i, k)`` of a message starting ``sites[i].sectors[k]`` (k None for a site field), else None."""
    match = _SITE_PATH.match(message)
    if match is None:
        return None
    return int(match.group(1)), (int(match.group(2)) if match.group(2) is not None else None)
