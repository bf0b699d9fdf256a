"""Plain-Python views of results for JSON (imports numpy only): the one home of "JSON-ready",
shared by the KPI reductions (core) and the JSON writers (io)."""

from __future__ import annotations

from collections.abc import Mapping
import math
import os

import numpy as np


def json_ready(obj):
    """A copy of ``obj`` that :func:`json.dumps` accepts with ``allow_nan=False``.

    numpy scalars become Python numbers, arrays and tuples become lists, paths become strings,
    mapping keys become strings, and non-finite floats (NaN, +-inf: "not defined", e.g. the indoor
    coverage of a map without buildings) become ``None`` (JSON ``null``).

    >>> json_ready({"a": np.float32(0.5), "b": (1, float("nan")), 3: np.arange(2)})
    {'a': 0.5, 'b': [1, None], '3': [0, 1]}
    """
    if isinstance(obj, Mapping):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return [json_ready(v) for v in obj.tolist()]
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    raise TypeError(f"cannot write a value of type {type(obj).__name__} to JSON: {obj!r}")
