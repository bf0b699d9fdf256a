"""Size limits for the files a user names, checked before anything is read into memory.

One home for every input limit of the edge (scenario/plan YAML, site files, rasters): each has a
default here and an environment variable that raises (or lowers) it, e.g.
``CELLSCAPE_MAX_YAML_BYTES=100000000``; ``CELLSCAPE_ALLOW_LARGE=1`` multiplies every default by
:data:`ALLOW_LARGE_FACTOR` (what the CLI's ``--allow-large`` sets). The refusal says which limit
was hit, by how much, and how to raise it, in one line.

Reading goes through :func:`read_bounded`: a regular file is checked with ``os.stat`` first; a
device or pipe (``/dev/zero``, whose size reads 0) is refused, and no read takes more than the
limit + 1 bytes, so nothing is read forever.
"""

from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path
import stat

from cellscape.errors import DataFileError

__all__ = ["Limit", "LIMITS", "ALLOW_LARGE_FACTOR", "limit", "read_bounded", "check_regular_file",
           "check_count", "allow_large"]

ALLOW_LARGE_FACTOR = 100
"""``--allow-large`` / ``CELLSCAPE_ALLOW_LARGE=1``: every default limit times this."""


@dataclass(frozen=True)
class Limit:
    """One input limit: its name (the environment variable is ``CELLSCAPE_<NAME>``), default and unit."""

    name: str
    default: int
    unit: str
    what: str

    @property
    def env(self) -> str:
        return f"CELLSCAPE_{self.name.upper()}"


LIMITS: dict[str, Limit] = {lim.name: lim for lim in (
    Limit("max_yaml_bytes", 4 * 2**20, "bytes",
          "size of a scenario, plan or simulation YAML file (PyYAML reads ~0.2-1 MB/s: 20,000 inline sites, "
          "2.5 MB, take 4-12 s; big networks belong in a sites_file)"),
    Limit("max_yaml_nodes", 2_000_000, "nodes", "YAML nodes once aliases are expanded (a billion-laughs guard)"),
    Limit("max_yaml_depth", 64, "levels", "nesting depth of YAML collections"),
    Limit("max_site_file_bytes", 4 * 2**30, "bytes", "size of a site file (CSV, GeoJSON, Parquet)"),
    Limit("max_site_rows", 15_000_000, "rows", "sector rows of a site file (read as columns: ~150 B per row)"),
    Limit("max_sites", 5_000_000, "sites", "sites of a scenario"),
    Limit("max_record_rows", 100_000, "rows",
          "sector rows checked one by one (cellscape run without --stream, plan, simulate, sense: ~0.5 ms and "
          "~10 KB each)"),
    Limit("max_raster_file_bytes", 8 * 2**30, "bytes", "size of a DEM or demand raster file"),
    Limit("max_raster_pixels", 400_000_000, "pixels", "pixels of one band of a DEM or demand raster"),
    Limit("max_vector_file_bytes", 2 * 2**30, "bytes", "size of a buildings or other vector file"),
)}


def limit(name: str) -> int:
    """The value of limit ``name`` now: ``CELLSCAPE_<NAME>`` if set, else the default (times
    :data:`ALLOW_LARGE_FACTOR` under ``CELLSCAPE_ALLOW_LARGE``).

    >>> limit("max_yaml_depth")
    64
    """
    lim = LIMITS[name]
    text = os.environ.get(lim.env)
    if text is not None and text.strip():
        try:
            value = int(float(text))
        except ValueError:
            raise DataFileError(f"{lim.env}={text!r}: expected a whole number of {lim.unit}") from None
        if value < 1:
            raise DataFileError(f"{lim.env}={text!r}: expected a positive number of {lim.unit}")
        return value
    if os.environ.get("CELLSCAPE_ALLOW_LARGE", "").strip() not in ("", "0"):
        return lim.default * ALLOW_LARGE_FACTOR
    return lim.default


def allow_large() -> None:
    """Raise every default limit :data:`ALLOW_LARGE_FACTOR`-fold for this process (``--allow-large``)."""
    os.environ["CELLSCAPE_ALLOW_LARGE"] = "1"


def how_to_raise(name: str) -> str:
    """The remedy a refusal names: the CLI flag and the environment variable."""
    return f"raise it with --allow-large (x{ALLOW_LARGE_FACTOR}) or {LIMITS[name].env}=N"


def check_count(name: str, count: float, what: str, *, cost: str = "") -> None:
    """Refuse ``count`` over limit ``name`` in one line: ``what`` names the thing counted, ``cost``
    (optional) states the estimate of what accepting it would take.

    >>> check_count("max_sites", 10, "sites in s.csv")
    >>> check_count("max_sites", 10_000_000, "sites in s.csv", cost="~15 GB")
    Traceback (most recent call last):
    ...
    cellscape.errors.DataFileError: 10,000,000 sites in s.csv, over the limit of 5,000,000 sites (~15 GB); raise it with --allow-large (x100) or CELLSCAPE_MAX_SITES=N
    """
    cap = limit(name)
    if count > cap:
        extra = f" ({cost})" if cost else ""
        raise DataFileError(f"{count:,.0f} {what}, over the limit of {cap:,} {LIMITS[name].unit}{extra}; "
                            f"{how_to_raise(name)}")


def check_regular_file(path: str | os.PathLike, *, what: str, name: str, hint: str = "") -> int:
    """The size of ``path`` [bytes] after checking that it is a regular file within limit ``name``.

    Raises
    ------
    DataFileError
        Missing, unreadable, not a regular file (a device such as ``/dev/zero``, a pipe, a folder),
        or larger than the limit.
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise DataFileError(f"{path}: {what} not found") from None
    except (OSError, ValueError) as exc:        # ValueError: a NUL byte in the name
        raise DataFileError(f"{path}: cannot read {what} ({_reason(exc)})") from None
    if stat.S_ISDIR(st.st_mode):
        raise DataFileError(f"{path}: {what} is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise DataFileError(f"{path}: {what} is not a regular file (a device, pipe or socket); "
                            f"copy the data into a file")
    cap = limit(name)
    if st.st_size > cap:
        raise DataFileError(f"{path}: {what} is {st.st_size:,} bytes, over the limit of {cap:,} bytes{hint}; "
                            f"{how_to_raise(name)}")
    return int(st.st_size)


def read_bounded(path: str | os.PathLike, *, what: str, name: str, hint: str = "") -> bytes:
    """The bytes of a regular file within limit ``name``, read with at most limit + 1 bytes asked
    for (a file that grows while read, or reports a false size, cannot make it read forever).

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.yaml"
    >>> _ = p.write_text("a: 1\\n")
    >>> read_bounded(p, what="scenario file", name="max_yaml_bytes")
    b'a: 1\\n'
    >>> read_bounded("/dev/zero", what="site file", name="max_site_file_bytes")
    Traceback (most recent call last):
    ...
    cellscape.errors.DataFileError: /dev/zero: site file is not a regular file (a device, pipe or socket); copy the data into a file
    """
    check_regular_file(path, what=what, name=name, hint=hint)
    cap = limit(name)
    try:
        with open(path, "rb") as f:
            data = f.read(cap + 1)
    except (OSError, ValueError) as exc:
        raise DataFileError(f"{path}: cannot read {what} ({_reason(exc)})") from None
    if len(data) > cap:
        raise DataFileError(f"{path}: {what} is over the limit of {cap:,} bytes{hint}; {how_to_raise(name)}")
    return data


def _reason(exc: BaseException) -> str:
    return " ".join((getattr(exc, "strerror", None) or str(exc) or type(exc).__name__).split())
