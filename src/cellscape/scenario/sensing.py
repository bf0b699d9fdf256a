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
                                # | trp_ue (TX at a TRP, RX at a sensing UE), or a list of
                                # monostatic / bistatic / trp_ue
      max_baseline_m: 1000      # bistatic and TRP-UE pairs: TX and RX at most this far apart (horizontal) [m]
      ues:                      # sensing UEs (trp_ue): x, y in area.crs like sites, antenna height
        - {ue_id: U1, x: 385100, y: 6671200, height_m: 1.5}
      rcs_random: expected      # expected (E[sigma_S] = 1, the default) | draw (one sigma_S per pixel and TRP/pair)
      target_heading_deg: 90    # model-2 targets only: front towards this bearing, clockwise from north;
                                # omitted: the RCS averaged over headings
      background: none          # none | tr38901 (monostatic: TR 38.901 7.9.4.2 background as noise-like clutter)
      background_suppression_db: 0   # with tr38901: clutter suppression of the receiver [dB]

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
from typing import Annotated, Any, Literal, Union

from pydantic import Field, Strict, ValidationError

from cellscape.errors import ScenarioError
from cellscape.scenario.model import Float, _Spec, _validation_message
from cellscape.scenario.records import Scenario

SensingTarget = Literal["human", "uav_small", "uav_large", "vehicle", "agv"]
"""Targets of TR 38.901 V19.4.0 7.9.2.1: ``human`` and ``uav_small`` take RCS model 1 (Table 7.9.2.1-1,
no angular dependence); ``uav_large``, ``vehicle`` and ``agv`` RCS model 2 (Tables 7.9.2.1-2, -4, -6),
whose pattern the maps average over a heading uniform in [0, 360) (linear power,
:func:`cellscape.sensing.rcs.sensing_target_rcs_dbsm`), or evaluate per pixel and link at
``target_heading_deg`` (:mod:`cellscape.sensing.rcs_maps`). Must equal the keys of
``cellscape.sensing.rcs.SENSING_TARGETS`` (tested)."""

Detector = Literal["swerling1", "swerling0"]

SensingMode = Literal["monostatic", "bistatic", "both", "trp_ue"]
"""``monostatic``: every sector receives its own echo; ``bistatic``: a sector of site A transmits and a
sector of another site B receives (TRP-TRP); ``both``: both sets of maps from one run; ``trp_ue``: a
sector of site A transmits and a sensing UE (``sensing.ues``) receives. ``mode`` may also be a list
of ``monostatic``, ``bistatic`` and ``trp_ue``."""

MapMode = Literal["monostatic", "bistatic", "trp_ue"]
MAP_MODES: tuple[str, ...] = ("monostatic", "bistatic", "trp_ue")
"""The map sets, in output order."""

MAX_SENSING_UES = 256
"""Most sensing UEs of a block."""

MAX_TRP_UE_PAIRS = 4096
"""Most TRP-UE pairs (site, UE) within ``max_baseline_m`` of a run: each is a map's worth of work
per pixel."""

RcsRandom = Literal["expected", "draw"]
"""``expected``: the RCS random component sigma_S at its mean E[sigma_S] = 1 (TR 38.901 V19.4.0
eq. 7.9.2-1), the maps' constant RCS; ``draw``: one sigma_S per pixel and TRP (bistatic: per
unordered site pair), seeded by the scenario seed (:mod:`cellscape.sensing.rcs_maps`)."""

HEADING_TARGETS = ("uav_large", "vehicle", "agv")
"""Targets whose RCS depends on the heading (RCS model 2); must equal
``cellscape.sensing.rcs_maps.HEADING_TARGETS`` (tested)."""

Background = Literal["none", "tr38901"]
"""``none``: no background channel (the maps of before); ``tr38901``: the monostatic maps add the
large-scale power of the TR 38.901 V19.4.0 7.9.4.2 background channel as noise-like clutter
(:mod:`cellscape.sensing.background`)."""

DEFAULT_MAX_BASELINE_M = 1000.0
"""Default longest bistatic baseline [m]: two inter-site distances of the TR 38.901 UMa layout
(500 m, Table 7.8-1), so a site pairs with its first and second tier of neighbours."""

DEFAULT_SHARE_SWEEP = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
"""Sensing shares of the trade-off curve (issue 13: 0 to 50 %)."""

Share = Annotated[float, Strict(), Field(ge=0.0, le=1.0)]


@dataclass(frozen=True)
class SensingUe:
    """A sensing UE (the receiver of TRP-UE pairs): position in the scenario's ``area.crs`` (like a
    site), antenna height above local ground [m], omnidirectional antenna gain [dBi]."""

    ue_id: str
    x: float
    y: float
    height_m: float = 1.5
    antenna_gain_dbi: float = 0.0


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
    rcs_random: str = "expected"
    target_heading_deg: float | None = None
    background: str = "none"
    background_suppression_db: float = 0.0
    ues: tuple[SensingUe, ...] = ()

    @property
    def model_1_bistatic(self) -> bool:
        """True when the target has RCS model 1 (every target but the model-2 ``HEADING_TARGETS``) and
        the block asks for bistatic or TRP-UE maps: those echoes carry the bistatic-angle term
        -3 sin(beta/2) of eq. 7.9.2-2 at each pixel."""
        return self.target not in HEADING_TARGETS and any(m != "monostatic" for m in self.modes)

    @property
    def model_2_bistatic(self) -> bool:
        """True when the target has RCS model 2 (``HEADING_TARGETS``), no fixed heading, and the block
        asks for bistatic or TRP-UE maps: those echoes carry the heading-averaged bistatic term at each
        pixel's bistatic angle (cellscape.sensing.rcs_maps.heading_averaged_beta_db)."""
        return (self.target in HEADING_TARGETS and self.target_heading_deg is None
                and any(m != "monostatic" for m in self.modes))

    @property
    def per_pixel_rcs(self) -> bool:
        """True when the echoes carry a per-pixel RCS term (a sigma_S draw, a fixed heading, or the
        bistatic angle of a bistatic or TRP-UE map)."""
        return (self.rcs_random == "draw" or self.target_heading_deg is not None or self.model_1_bistatic
                or self.model_2_bistatic)

    @property
    def modes(self) -> tuple[str, ...]:
        """The map sets this block asks for, in output order (monostatic, bistatic, trp_ue)."""
        if self.mode == "both":
            return ("monostatic", "bistatic")
        asked = (self.mode,) if isinstance(self.mode, str) else tuple(self.mode)
        return tuple(m for m in MAP_MODES if m in asked)


class SensingUeSpec(_Spec):
    """One entry of ``sensing.ues``."""

    ue_id: str = Field(min_length=1)
    x: Float = Field(description="Easting or longitude, in area.crs.")
    y: Float = Field(description="Northing or latitude, in area.crs.")
    height_m: Float = Field(1.5, gt=0.0, le=300.0, description="UE antenna height above local ground [m].")
    antenna_gain_dbi: Float = Field(0.0, ge=-20.0, le=20.0, description="Omnidirectional UE antenna gain [dBi].")


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
    mode: Union[SensingMode, list[MapMode]] = "monostatic"
    max_baseline_m: Float = Field(DEFAULT_MAX_BASELINE_M, gt=0.0, le=100_000.0,
                                  description="Longest horizontal TX-RX distance of a bistatic or TRP-UE pair [m].")
    ues: list[SensingUeSpec] = Field([], max_length=MAX_SENSING_UES, description="Sensing UEs (mode trp_ue).")
    rcs_random: RcsRandom = Field("expected", description=(
        "RCS random component sigma_S (TR 38.901 7.9.2.1): expected (its mean, 1) or draw (per pixel and TRP/pair)."))
    target_heading_deg: Float | None = Field(None, ge=0.0, le=360.0, description=(
        "Model-2 targets: the bearing the target's front faces, clockwise from grid north [deg]; omitted: the RCS "
        "averaged over headings."))
    background: Background = Field("none", description=(
        "none, or tr38901: monostatic maps with the TR 38.901 7.9.4.2 background as noise-like clutter (SCNR)."))
    background_suppression_db: Float | None = Field(None, ge=0.0, le=200.0, description=(
        "With background tr38901: how much the receiver suppresses the background (e.g. static-clutter removal) "
        "[dB]; default 0."))


class _SensingRoot(_Spec):
    sensing: SensingSpec


NO_SENSING_BLOCK = ("sensing: the scenario has no sensing: block; add one, e.g. "
                    "'sensing: {target: human, target_height_m: 1.5}' (docs/sensing.md)")


TARGET_HEADING_MODEL_1 = (
    "sensing.target_heading_deg: only RCS model 2 targets (uav_large, vehicle, agv) have a heading-dependent RCS "
    "(TR 38.901 V19.4.0 eq. 7.9.2-3); {target!r} takes RCS model 1 (no angular dependence on the heading, "
    "Table 7.9.2.1-1): remove the key")

DRAW_WITH_SWERLING1 = (
    "sensing.rcs_random: 'draw' with detector 'swerling1' would count the RCS fluctuation twice: TR 38.901 V19.4.0 "
    "draws sigma_S as a small-scale parameter (7.9.2.1; Step 10 of 7.9.4.1), which the Swerling 1 detection "
    "probability already averages over (exponential RCS); use detector: swerling0 with draw, or rcs_random: "
    "expected with swerling1 (docs/sensing.md)")


def _check_mode(mode) -> None:
    """``sensing.mode``: one of the modes or a list of map modes, with one clear message (the union
    type's own messages name pydantic's branches)."""
    if mode is None:
        return
    one = ("monostatic", "bistatic", "both", "trp_ue")
    if isinstance(mode, str) and mode in one:
        return
    if isinstance(mode, list) and all(isinstance(m, str) and m in MAP_MODES for m in mode):
        return
    raise ScenarioError(f"sensing.mode: Input should be 'monostatic', 'bistatic', 'both' or 'trp_ue', or a list of "
                        f"'monostatic', 'bistatic', 'trp_ue', got {mode!r}")


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
    _check_mode(data["sensing"].get("mode", "monostatic") if isinstance(data["sensing"], Mapping) else None)
    try:
        spec = _SensingRoot.model_validate({"sensing": data["sensing"]}).sensing
    except ValidationError as exc:
        raise ScenarioError(_validation_message(exc, _SensingRoot)) from None
    if spec.pd_required <= spec.pfa:
        raise ScenarioError(f"sensing.pd_required: must exceed pfa ({spec.pfa:g}), got {spec.pd_required:g}")
    if spec.target_heading_deg is not None and spec.target not in HEADING_TARGETS:
        raise ScenarioError(TARGET_HEADING_MODEL_1.format(target=spec.target))
    if spec.rcs_random == "draw" and spec.detector == "swerling1":
        raise ScenarioError(DRAW_WITH_SWERLING1)
    mode = spec.mode if isinstance(spec.mode, str) else tuple(dict.fromkeys(spec.mode))
    if isinstance(mode, tuple) and not mode:
        raise ScenarioError("sensing.mode: an empty list; name at least one of monostatic, bistatic, trp_ue")
    wants_ue = mode == "trp_ue" or (isinstance(mode, tuple) and "trp_ue" in mode)
    if wants_ue and not spec.ues:
        raise ScenarioError("sensing.ues: mode trp_ue needs sensing UEs, e.g. 'ues: [{ue_id: U1, x: ..., y: ..., "
                            "height_m: 1.5}]' (x, y in area.crs, like the sites)")
    if spec.ues and not wants_ue:
        raise ScenarioError(f"sensing.ues: only read with mode trp_ue (mode is {spec.mode!r}); add trp_ue to the "
                            "mode or remove the key")
    ids = [u.ue_id for u in spec.ues]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise ScenarioError(f"sensing.ues: ue_id must be unique, repeated: {', '.join(dup)}")
    if spec.background_suppression_db is not None and spec.background != "tr38901":
        raise ScenarioError("sensing.background_suppression_db: only with background: tr38901 (the background "
                            f"is {spec.background!r}); remove the key or set background: tr38901")
    return Sensing(scenario=scenario, target=spec.target, target_height_m=spec.target_height_m, pfa=spec.pfa,
                   pd_required=spec.pd_required, detector=spec.detector, sensing_share=spec.sensing_share,
                   cpi_s=spec.cpi_s, share_sweep=tuple(float(s) for s in spec.share_sweep), mode=mode,
                   ues=tuple(SensingUe(u.ue_id, u.x, u.y, u.height_m, u.antenna_gain_dbi) for u in spec.ues),
                   max_baseline_m=spec.max_baseline_m, rcs_random=spec.rcs_random,
                   target_heading_deg=spec.target_heading_deg, background=spec.background,
                   background_suppression_db=float(spec.background_suppression_db or 0.0))


__all__ = ["DEFAULT_MAX_BASELINE_M", "DEFAULT_SHARE_SWEEP", "NO_SENSING_BLOCK", "Sensing", "SensingMode", "SensingSpec",
           "Background", "DRAW_WITH_SWERLING1", "HEADING_TARGETS", "MAP_MODES", "MAX_SENSING_UES",
           "MAX_TRP_UE_PAIRS", "SensingUe", "RcsRandom", "TARGET_HEADING_MODEL_1", "parse_sensing"]
