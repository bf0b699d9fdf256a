"""The scenario: frozen records the core computes with, their validation and published layouts.

:func:`parse_scenario` turns a plain mapping (a parsed scenario file, docs/scenario.md) into a
:class:`~cellscape.scenario.records.Scenario`. This package imports only ``cellscape.errors``,
``units``, ``_validate``, numpy and pydantic: files are read by :mod:`cellscape.io`.
"""

from cellscape.scenario.model import parse_scenario
from cellscape.scenario.records import (
    AntennaSpec,
    Area,
    BuildingSource,
    Carrier,
    Receiver,
    Scenario,
    Sector,
    Site,
)

__all__ = [
    "parse_scenario", "Scenario", "Site", "Sector", "AntennaSpec", "Carrier", "Receiver", "Area",
    "BuildingSource",
]
