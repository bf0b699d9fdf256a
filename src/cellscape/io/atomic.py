"""Atomic file writes (STYLE.md P13): readers see the whole new file or the old one, never half.

Every writer of cellscape goes through :func:`write_atomic`: the content is written to a temporary
file in the same folder, named ``.NAME.PID.partial``, and moved onto ``NAME`` with :func:`os.replace`
(atomic within one filesystem). On any exception, ``KeyboardInterrupt`` included, the temporary file
is removed and the target is left as it was.
"""

from __future__ import annotations

from collections.abc import Callable
import json
import os
from pathlib import Path

import numpy as np  # noqa: F401  (used by the doctests)

from cellscape._json import json_ready  # re-exported: io callers and tests use it from here
from cellscape.errors import DataFileError


def partial_path(path: str | os.PathLike) -> Path:
    """The temporary name :func:`write_atomic` writes to before renaming: ``.NAME.PID.partial``.

    >>> partial_path("/tmp/out/kpis.json").name  # doctest: +ELLIPSIS
    '.kpis.json....partial'
    """
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


def write_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` with a temporary path, then rename it onto ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace. Its folder must exist.
    write : callable
        ``write(tmp)`` writes the whole content to the file ``tmp`` (in the same folder as
        ``path``). It must not rely on the file extension: ``tmp`` ends in ``.partial``
        (pass the format explicitly, e.g. ``driver="GTiff"`` or ``format="png"``).

    Returns
    -------
    path : Path
        ``path``, now holding the new content.

    Raises
    ------
    DataFileError
        If the folder of ``path`` does not exist, or ``write`` did not create ``tmp``.
        Any exception raised by ``write`` propagates unchanged; in every case the temporary
        file is removed and an existing ``path`` is untouched.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.txt", lambda tmp: tmp.write_text("hello")).read_text()
    'hello'
    >>> sorted(p.name for p in folder.iterdir())
    ['a.txt']
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise DataFileError(f"cannot write {path}: folder {path.parent} does not exist")
    tmp = partial_path(path)
    try:
        write(tmp)
        if not tmp.exists():
            raise DataFileError(f"cannot write {path}: the writer created no file")
        os.replace(tmp, path)
    except BaseException:  # KeyboardInterrupt and SystemExit too: never leave a .partial behind
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`write_atomic`); return ``path``.

    >>> import tempfile
    >>> p = write_text_atomic(Path(tempfile.mkdtemp()) / "note.txt", "3.5 GHz")
    >>> p.read_text()
    '3.5 GHz'
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding=encoding))


def write_json_atomic(path: str | os.PathLike, obj, *, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON (UTF-8, strict: no NaN literals) to ``path`` atomically.

    ``obj`` goes through :func:`json_ready` first, so numpy values are accepted and non-finite
    floats are written as ``null``. The text is built before any file is touched, so an object
    that cannot be serialised leaves nothing behind.

    >>> import tempfile
    >>> p = write_json_atomic(Path(tempfile.mkdtemp()) / "k.json", {"x_m": np.float64(2.0)}, indent=None)
    >>> p.read_text()
    '{"x_m": 2.0}\\n'
    """
    text = json.dumps(json_ready(obj), indent=indent, ensure_ascii=False, allow_nan=False) + "\n"
    return write_text_atomic(path, text)
