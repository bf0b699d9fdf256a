"""Range and choice checks shared by every model (STYLE.md P5, P6).

Configuration out of range always raises; per-element values (distances of map pixels) follow an
explicit policy, ``"raise"`` by default.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np

from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError

OutOfRange = Literal["raise", "nan", "clip", "extrapolate"]
"""Per-element policy for values outside a model's validity range:

- ``"raise"``: raise :class:`OutOfValidityRangeError` (the default everywhere);
- ``"nan"``: return NaN for those elements;
- ``"clip"``: evaluate the model at the nearest range limit;
- ``"extrapolate"``: evaluate the formula as written beyond its range (the caller owns the error).
"""

OUT_OF_RANGE_CHOICES: tuple[str, ...] = ("raise", "nan", "clip", "extrapolate")


def check_choice(name: str, value, choices: Iterable[str]):
    """Raise :class:`InvalidChoiceError` unless ``value`` is one of ``choices``.

    >>> check_choice("model", "low", ("low", "high"))
    'low'
    """
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise InvalidChoiceError(f"{name}={value!r} is not one of {listed}")
    return value


def check_range(name: str, value, low: float, high: float, *, source: str) -> np.ndarray:
    """Return ``value`` as a float array; raise if any element lies outside [low, high].

    NaN passes through. The message names the parameter, the first offending value, the range,
    the source and how many values are out.

    >>> check_range("fc_ghz", 3.5, 0.5, 100.0, source="TR 38.901").item()
    3.5
    """
    arr = np.asarray(value, dtype=float)
    bad = (arr < low) | (arr > high)
    if np.any(bad):
        raise OutOfValidityRangeError(
            f"{name}={arr[bad].flat[0]:g} is outside [{low:g}, {high:g}], the validity range of "
            f"{source} ({np.count_nonzero(bad)} of {arr.size} values)"
        )
    return arr


def apply_range(name: str, value, low: float, high: float, *, source: str, policy: OutOfRange) -> np.ndarray:
    """Apply a per-element out-of-range policy (see :data:`OutOfRange`) and return a float array.

    >>> apply_range("d2d_m", [5.0, 50.0], 10.0, 5000.0, source="X", policy="clip").tolist()
    [10.0, 50.0]
    """
    check_choice("out_of_range", policy, OUT_OF_RANGE_CHOICES)
    arr = np.asarray(value, dtype=float)
    if policy == "raise":
        return check_range(name, arr, low, high, source=source)
    if policy == "clip":
        return np.clip(arr, low, high)
    if policy == "extrapolate":
        return arr
    return np.where((arr < low) | (arr > high), np.nan, arr)
