"""The ``assess:`` block: what ``cellscape assess`` reads (docs/resilience.md), validated into a
frozen record.

The scenario model refuses unknown top-level keys, so the block lives in its own small YAML file
(``cellscape assess scenario.yaml --assess assess.yaml``; the file holds ``assess:`` and nothing
else)::

    assess:
      coverage: {rsrp_min_dbm: -110}   # sinr_min_db: default the lowest CQI's SINR threshold
      k: 3                             # N-k: the 2..k worst single-site outages together
      self_heal: true                  # re-tune the neighbours' tilt and power after the worst outages
      self_heal_cases: 3
      neighbours: 6
      max_power_boost_db: 3
      users_per_km2: 1000              # uniform demand (users = demand) unless demand_raster is given
      jammers:
        - {x: 385500, y: 6672000, tx_power_dbm: 40, bandwidth_mhz: 20, height_m: 10}
      rogue_cells:
        - {x: 385900, y: 6671800, tx_power_dbm: 30, height_m: 10}
      reselection_offset_db: 3

Positions ``x``/``y`` are in the scenario's area CRS (like the sites). A jammer or rogue cell is a
transmitter of the map engine: its height must lie in the TR 38.901 BS height range of its
``environment`` (default the scenario's: UMa 10-50 m, UMi 3-25 m, RMa 10-150 m); a lower, hand-held
transmitter has no TR 38.901 model (the engine says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, ValidationError

from cellscape.errors import ScenarioError
from cellscape.scenario.model import Bool, Float, Int, _Spec, _validation_message
from cellscape.scenario.records import Environment


@dataclass(frozen=True)
class Jammer:
    """A jammer: position (area CRS) ``x``, ``y``; ``tx_power_dbm`` over ``bandwidth_mhz`` centred
    ``offset_mhz`` from the carrier centre; antenna ``height_m`` [m], gain ``gain_dbi`` [dBi],
    isotropic unless ``azimuth_deg`` is given (then the TR 38.901 sector pattern with that peak
    gain); ``environment`` of its path loss (None: the scenario's)."""

    x: float
    y: float
    tx_power_dbm: float
    bandwidth_mhz: float
    height_m: float
    name: str = ""
    gain_dbi: float = 0.0
    azimuth_deg: float | None = None
    offset_mhz: float = 0.0
    environment: str | None = None


@dataclass(frozen=True)
class RogueCell:
    """A fake base station: position (area CRS), ``tx_power_dbm`` over the carrier (its SSB per RE
    like a real cell's), antenna ``height_m`` [m], isotropic ``gain_dbi`` [dBi], ``environment``."""

    x: float
    y: float
    tx_power_dbm: float
    height_m: float
    name: str = ""
    gain_dbi: float = 0.0
    environment: str | None = None


@dataclass(frozen=True)
class Assess:
    """The validated ``assess:`` block (field meanings in the module docstring). Units: dBm, dB,
    users per km2; ``demand_raster`` a path (resolved by the loader) or None."""

    rsrp_min_dbm: float = -110.0
    sinr_min_db: float | None = None
    k: int = 2
    self_heal: bool = True
    self_heal_cases: int = 3
    neighbours: int = 6
    max_power_boost_db: float = 3.0
    max_evaluations: int = 60
    worst_maps: int = 3
    users_per_km2: float = 1000.0
    demand_raster: str | None = None
    jammers: tuple[Jammer, ...] = field(default_factory=tuple)
    rogue_cells: tuple[RogueCell, ...] = field(default_factory=tuple)
    reselection_offset_db: float = 3.0


class CoverageSpec(_Spec):
    rsrp_min_dbm: Float = Field(-110.0, ge=-160.0, le=-30.0, description="Covered: RSRP at least this [dBm].")
    sinr_min_db: Float | None = Field(None, ge=-30.0, le=40.0,
                                      description="Covered: SINR at least this [dB]; default the lowest CQI's.")


class JammerSpec(_Spec):
    x: Float
    y: Float
    tx_power_dbm: Float = Field(ge=-30.0, le=90.0)
    bandwidth_mhz: Float = Field(gt=0.0, le=2000.0)
    height_m: Float = Field(gt=0.0, le=300.0)
    name: str = ""
    gain_dbi: Float = Field(0.0, ge=-20.0, le=40.0)
    azimuth_deg: Float | None = Field(None, ge=0.0, lt=360.0)
    offset_mhz: Float = Field(0.0, ge=-5000.0, le=5000.0)
    environment: Environment | None = None


class RogueSpec(_Spec):
    x: Float
    y: Float
    tx_power_dbm: Float = Field(ge=-30.0, le=80.0)
    height_m: Float = Field(gt=0.0, le=300.0)
    name: str = ""
    gain_dbi: Float = Field(0.0, ge=-20.0, le=40.0)
    environment: Environment | None = None


class AssessSpec(_Spec):
    """The ``assess:`` block (docs/resilience.md)."""

    coverage: CoverageSpec = CoverageSpec()
    k: Int = Field(2, ge=1, le=50, description="N-k: the 2..k worst outages together (1: N-1 only).")
    self_heal: Bool = True
    self_heal_cases: Int = Field(3, ge=0, le=1000)
    neighbours: Int = Field(6, ge=1, le=100)
    max_power_boost_db: Float = Field(3.0, ge=0.0, le=20.0)
    max_evaluations: Int = Field(60, ge=1, le=10000)
    worst_maps: Int = Field(3, ge=0, le=50)
    users_per_km2: Float = Field(1000.0, ge=0.0, le=1e7)
    demand_raster: str | None = None
    jammers: list[JammerSpec] = Field(default_factory=list, max_length=1000)
    rogue_cells: list[RogueSpec] = Field(default_factory=list, max_length=1000)
    reselection_offset_db: Float = Field(3.0, ge=-20.0, le=40.0,
                                         description="Q_hyst + Q_offset of TS 38.304 5.2.4.6 cell ranking [dB].")


class _AssessRoot(_Spec):
    assess: AssessSpec


def parse_assess(data: Mapping[str, Any] | None) -> Assess:
    """Validate an ``assess:`` mapping (``{"assess": {...}}``; None or no block: the defaults).

    Raises
    ------
    ScenarioError
        With the field path of the first problem, e.g. ``assess.jammers[0].bandwidth_mhz: ...``.

    Examples
    --------
    >>> parse_assess(None).k
    2
    >>> parse_assess({"assess": {"jammers": [{"x": 0, "y": 0, "tx_power_dbm": 30, "bandwidth_mhz": 10,
    ...                                        "height_m": 10}]}}).jammers[0].name
    'jammer-1'
    >>> parse_assess({"assess": {"k": 0}})
    Traceback (most recent call last):
    ...
    cellscape.errors.ScenarioError: assess.k: Input should be greater than or equal to 1, got 0
    """
    block = {} if data is None or data.get("assess") is None else data["assess"]
    try:
        spec = _AssessRoot.model_validate({"assess": block}).assess
    except ValidationError as exc:
        raise ScenarioError(_validation_message(exc, _AssessRoot)) from None
    jammers = tuple(Jammer(**{**j.model_dump(), "name": j.name or f"jammer-{i + 1}"}) for i, j in enumerate(spec.jammers))
    rogues = tuple(RogueCell(**{**r.model_dump(), "name": r.name or f"rogue-{i + 1}"})
                   for i, r in enumerate(spec.rogue_cells))
    for kind, items in (("jammers", jammers), ("rogue_cells", rogues)):
        names = [it.name for it in items]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ScenarioError(f"assess.{kind}: names must be unique, {dup[0]!r} is used twice")
    return Assess(rsrp_min_dbm=spec.coverage.rsrp_min_dbm, sinr_min_db=spec.coverage.sinr_min_db, k=spec.k,
                  self_heal=spec.self_heal, self_heal_cases=spec.self_heal_cases, neighbours=spec.neighbours,
                  max_power_boost_db=spec.max_power_boost_db, max_evaluations=spec.max_evaluations,
                  worst_maps=spec.worst_maps, users_per_km2=spec.users_per_km2, demand_raster=spec.demand_raster,
                  jammers=jammers, rogue_cells=rogues, reselection_offset_db=spec.reselection_offset_db)


__all__ = ["Assess", "AssessSpec", "Jammer", "RogueCell", "parse_assess"]
