"""The error family of cellscape.

Every error raised on purpose derives from :class:`CellscapeError` and also from the builtin
that describes it, so callers may catch either (``except ValueError`` keeps working).
This module imports nothing, so that any layer may import it.
"""


class CellscapeError(Exception):
    """Root of every error cellscape raises on purpose; the CLI turns it into one line."""


class OutOfValidityRangeError(CellscapeError, ValueError):
    """An input lies outside the range in which the cited model is valid."""


class InvalidChoiceError(CellscapeError, ValueError):
    """An option is not one of its allowed values; the message lists them."""


class ScenarioError(CellscapeError, ValueError):
    """A scenario is invalid; the message starts with the field path."""


class GeometryError(CellscapeError, ValueError):
    """Geometry input (buildings, sites, areas) is unusable: empty, no CRS, invalid beyond repair."""


class DataFileError(CellscapeError, OSError):
    """A data file named by the user cannot be found or read."""
