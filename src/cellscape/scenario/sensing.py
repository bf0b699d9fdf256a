"""The ``sensing:`` block of a scenario: what ``cellscape sense`` reads (docs/sensing.md), validated
into a frozen record.

A scenario file that also describes sensing (issue 13) adds::

    sensing:
      target: human             # TR 38.901 7.9.2.1 target: human, uav_small (RCS model 1), uav_large,
                                # vehicle, agv (RCS model 2, orientation-averaged)
      target_height_m: 1.5      # the map pixels at this height are the target positions (UAV: up to 300)
      pfa: 1.0e-6               # false-alarm probability per range-Doppler cell
      pd_required: 0.9          # a pixel is "sensed" where Pd >= this
      detector: swerling1       # or swerling0 (non-fluctuating target)
      sensing_share: 0.1        # share of the carrier's resources given to sensing, (0, 1]
      cpi_s: 0.01               # coherent processing interval [s]
      share_sweep: [0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5]   # shares of the trade-off curve
      mode: monostatic          # monostatic | bistatic | both (bistatic: TRP-TRP pairs of different sites)
      max_baseline_m: 1000      # bistatic pairs: sites at most this far apart (horizontal) [m]

:func:`parse_sensing` checks every field once with its path (``sensing.pfa: ...``), like
:func:`~cellscape.scenario.model.parse_scenario`. Here the target height is only bounded by
(0, 300] m, the top of TR 36.777 Annex B; the range of each environment (the TR 38.901 UT range, or
above it up to 300 m the aerial models of RMa, UMa and UMi sites; none above InH/InF's) is checked by
the map engine's own tables (:func:`cellscape.coverage.tables.distance_tables`, called by
:func:`cellscape.pipeline.sense.sensing_scenario`), not here: one check, one home.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, Strict, ValidationError

from cellscape.errors import ScenarioError
from cellscape.scenario.model import Float, _Spec, _validation_message
from cellscape.scenario.records import Scenario

SensingTarget = Literal["human", "uav_small", "uav_large", "vehicle", "agv"]
"""Targets of TR 38.901 V19.4.0 7.9.2.1: ``human`` and ``uav_small`` take RCS model 1 (Table 7.9.2.1-1,
no angular dependence); ``uav_large``, ``vehicle`` and ``agv`` RCS model 2 (Tables 7.9.2.1-2, -4, -6),
whose pattern the maps average over a heading uniform in [0, 360) (linear power,
:func:`cellscape.sensing.rcs.sensing_target_rcs_dbsm`). Must equal the keys of
``cellscape.sensing.rcs.SENSING_TARGETS`` (tested)."""

Detector = Literal["swerling1", "swerling0"]

SensingMode = Literal["monostatic", "bistatic", "both"]
"""``monostatic``: every sector receives its own echo; ``bistatic``: a sector of site A transmits and a
sector of another site B receives (TRP-TRP); ``both``: both sets of maps from one run."""

DEFAULT_MAX_BASELINE_M = 1000.0
"""Default longest bistatic baseline [m]: two inter-site distances of the TR 38.901 UMa layout
(500 m, Table 7.8-1), so a site pairs with its first and second tier of neighbours."""

DEFAULT_SHARE_SWEEP = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
"""Sensing shares of the trade-off curve (issue 13: 0 to 50 %)."""

Share = Annotated[float, Strict(), Field(ge=0.0, le=1.0)]


@dataclass(frozen=True)
class Sensing:
    """A scenario with its validated ``sensing:`` block (field meanings in the module docstring).

    ``target_height_m`` [m], ``cpi_s`` [s]; ``pfa``, ``pd_required``, ``sensing_share`` and the
    ``share_sweep`` entries are probabilities / fractions.
    """

    scenario: Scenario
    target: str = "human"
    target_height_m: float = 1.5
    pfa: float = 1e-6
    pd_required: float = 0.9
    detector: str = "swerling1"
    sensing_share: float = 0.1
    cpi_s: float = 0.01
    share_sweep: tuple[float, ...] = DEFAULT_SHARE_SWEEP
    mode: str = "monostatic"
    max_baseline_m: float = DEFAULT_MAX_BASELINE_M

    @property
    def modes(self) -> tuple[str, ...]:
        """The map sets this block asks for, in output order: ('monostatic',), ('bistatic',) or both."""
        return ("monostatic", "bistatic") if self.mode == "both" else (self.mode,)


class SensingSpec(_Spec):
    """The ``sensing:`` block (docs/sensing.md)."""

    target: SensingTarget = Field(description=(
        "TR 38.901 7.9.2.1 target: human, uav_small (RCS model 1), uav_large, vehicle, agv (RCS model 2, "
        "orientation-averaged)."))
    target_height_m: Float = Field(1.5, gt=0.0, le=300.0, description=(
        "Target height above local ground [m]: the TR 38.901 UT range of the environment, or up to 300 m "
        "for RMa/UMa/UMi sites (a UAV: TR 36.777 Annex B)."))
    pfa: Float = Field(1e-6, gt=0.0, lt=1.0, description="False-alarm probability per cell.")
    pd_required: Float = Field(0.9, gt=0.0, lt=1.0, description="Pd a sensed pixel needs.")
    detector: Detector = "swerling1"
    sensing_share: Float = Field(0.1, gt=0.0, le=1.0, description="Share of the resources given to sensing.")
    cpi_s: Float = Field(0.01, gt=0.0, le=10.0, description="Coherent processing interval [s].")
    share_sweep: list[Share] = Field(list(DEFAULT_SHARE_SWEEP), min_length=1, max_length=101)
    mode: SensingMode = "monostatic"
    max_baseline_m: Float = Field(DEFAULT_MAX_BASELINE_M, gt=0.0, le=100_000.0,
                                  description="Longest horizontal TX-RX site distance of a bistatic pair [m].")


class _SensingRoot(_Spec):
    sensing: SensingSpec


NO_SENSING_BLOCK = ("sensing: the scenario has no sensing: block; add one, e.g. "
                    "'sensing: {target: human, target_height_m: 1.5}' (docs/sensing.md)")


TARGET_HEADING_REFUSED = (
    "sensing.target_heading_deg: not supported: the maps use the RCS averaged over headings uniform in "
    "[0, 360) (linear power); a fixed heading needs a per-pixel RCS the per-site reduction does not carry "
    "(docs/sensing.md); remove the key")


def parse_sensing(data: Mapping[str, Any], scenario: Scenario) -> Sensing:
    """Validate the ``sensing:`` block of a scenario mapping.

    Parameters
    ----------
    data : Mapping
        The whole scenario as plain data; only ``sensing`` is read here.
    scenario : Scenario
        The radio scenario the block belongs to (already parsed).

    Returns
    -------
    sensing : Sensing

    Raises
    ------
    ScenarioError
        Without a ``sensing`` block (saying what to add), or with the field path of the first
        problem, e.g. ``sensing.pfa: Input should be less than 1, got 2``.

    Examples
    --------
    >>> from cellscape.scenario.model import parse_scenario
    >>> sc = parse_scenario({"name": "d", "area": {"crs": "EPSG:3067", "bounds": [0, 0, 500, 500],
    ...                      "resolution_m": 10}, "carrier": {"fc_ghz": 3.5},
    ...                      "sites": [{"site_id": "A", "x": 250, "y": 250, "height_m": 25,
    ...                                 "sectors": [{"azimuth_deg": 0}]}]})
    >>> parse_sensing({"sensing": {"target": "human"}}, sc).pd_required
    0.9
    >>> parse_sensing({"sensing": {"target": "car"}}, sc)
    Traceback (most recent call last):
    ...
    cellscape.errors.ScenarioError: sensing.target: Input should be 'human', 'uav_small', 'uav_large', 'vehicle' or 'agv', got 'car'
    """
    if not isinstance(data, Mapping) or data.get("sensing") is None:
        raise ScenarioError(NO_SENSING_BLOCK)
    if isinstance(data["sensing"], Mapping) and "target_heading_deg" in data["sensing"]:
        raise ScenarioError(TARGET_HEADING_REFUSED)
    try:
        spec = _SensingRoot.model_validate({"sensing": data["sensing"]}).sensing
    except ValidationError as exc:
        raise ScenarioError(_validation_message(exc, _SensingRoot)) from None
    if spec.pd_required <= spec.pfa:
        raise ScenarioError(f"sensing.pd_required: must exceed pfa ({spec.pfa:g}), got {spec.pd_required:g}")
    return Sensing(scenario=scenario, target=spec.target, target_height_m=spec.target_height_m, pfa=spec.pfa,
                   pd_required=spec.pd_required, detector=spec.detector, sensing_share=spec.sensing_share,
                   cpi_s=spec.cpi_s, share_sweep=tuple(float(s) for s in spec.share_sweep), mode=spec.mode,
                   max_baseline_m=spec.max_baseline_m)


__all__ = ["DEFAULT_MAX_BASELINE_M", "DEFAULT_SHARE_SWEEP", "NO_SENSING_BLOCK", "Sensing", "SensingMode", "SensingSpec",
           "TARGET_HEADING_REFUSED", "parse_sensing"]
