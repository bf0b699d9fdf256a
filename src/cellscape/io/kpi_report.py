"""The KPI file of a coverage run: ``kpis.json``, written atomically.

The dictionary comes from :func:`cellscape.kpi.coverage_kpis`; this module only serialises it
(numpy values become JSON numbers, undefined values ``null``; see
:func:`cellscape.io.atomic.json_ready`).
"""

from __future__ import annotations

import os
from pathlib import Path

from cellscape.io.atomic import write_json_atomic


def write_kpis(path: str | os.PathLike, kpis: dict) -> Path:
    """Write ``kpis`` as indented UTF-8 JSON to ``path`` atomically; return ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (conventionally ``kpis.json``).
    kpis : dict
        KPI dictionary, e.g. from :func:`cellscape.kpi.coverage_kpis`. Key order is kept.

    Returns
    -------
    path : Path

    Examples
    --------
    >>> import json, tempfile
    >>> p = write_kpis(Path(tempfile.mkdtemp()) / "kpis.json", {"n_pixels": 4, "coverage": {"all": float("nan")}})
    >>> json.loads(p.read_text())
    {'n_pixels': 4, 'coverage': {'all': None}}
    """
    if not isinstance(kpis, dict):
        raise TypeError(f"kpis must be a dict, got {type(kpis).__name__}")
    return write_json_atomic(path, kpis, indent=2)
