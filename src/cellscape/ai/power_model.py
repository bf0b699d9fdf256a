"""Base-station power model of 3GPP TR 38.864 (Rel-18, "Study on network energy savings for NR"), Section 5.1.

The TR models a gNB sector by a few power *states*, each with a power relative to deep sleep
(relative units, deep sleep = 1), and, for the sleep states, a *total transition time* (ramp-down
plus ramp-up) and an *additional transition energy* (relative units x ms) spent on top of the sleep
power during that time. An active sector's power scales with the fraction of resources it uses.

Values used here (FR1, defaults of :data:`DEFAULT`)
----------------------------------------------------
Relative power per state, TR 38.864 Table 5.1-1 (FR1 reference configuration):

=============  ==============  =========================================
state          relative power  what is on
=============  ==============  =========================================
deep sleep     1               almost nothing (lowest sleep)
light sleep    20              part of the radio chain and baseband kept warm
micro sleep    45              no transmission; wakes within a symbol/slot
active UL      90              receiving at 100 % of PRBs
active DL      280             transmitting at 100 % of PRBs
=============  ==============  =========================================

Transition times and additional energies, TR 38.864 Table 5.1-2 (round trip, sleep -> active):
deep sleep 50 ms and 1000 units x ms; light sleep 6 ms and 100 units x ms; micro sleep 0 and 0.

**Provenance.** These numbers are the Rel-18 BS model as recalled by the author of this module: the
search tools available when it was written returned no copy of the TR's Tables 5.1-1/5.1-2 (only a
table of contents of V0.5.0 and RAN1 meeting notes), so they are *not* checked against the TR text.
A secondary, AI-generated summary of a later RAN1 contribution (Nokia R1-2600030, on
wirelessdiff.com) says the TR's scaling keeps "static power fixed at P3" (micro sleep) and scales
only the active-state dynamic power, which is the load scaling used below. The same summary
speaks of BS *categories* ("Category 2") with much slower transitions (light sleep 640 ms, deep
sleep 10 s are quoted), so the values here may be those of the fastest category only; build
another with :class:`BsPowerModel` directly. Verify the numbers before publishing results.

Choices made here (not in the TR)
---------------------------------
* **Idle power.** The TR has no separate "idle" state: a sector with nothing to send transmits
  nothing between its mandatory signals and sits in micro sleep, the state the active-state scaling
  starts from. So ``bs_power_w(ACTIVE, 0.0)`` is the micro-sleep power (45 units); the SSB/SIB
  overhead of an unloaded cell is neglected (it is a few per cent of the slots).
* **Load scaling.** ``P(ACTIVE, dl_load, ul_load) = P_micro + dl_load (P_DL - P_micro) +
  ul_load (P_UL - P_micro)``, with the loads the time x frequency share of PRBs used (a TDD cell
  cannot exceed ``dl_load + ul_load = 1``). This is the TR's linear scaling with active PRBs on top
  of the static (micro-sleep) part. Scaling with antenna ports or bandwidth is not applied by
  default; :func:`scaled_model` scales the dynamic part linearly.
* **Absolute scale.** The TR gives relative units only. ``w_per_unit`` is chosen so that a sector at
  100 % DL load draws 1000 W, the round order of magnitude operators report for one 64T64R 3.5 GHz
  massive-MIMO AAU at full load; so 1 unit = 1000/280 W = 3.571 W, deep sleep 3.6 W, micro sleep
  (idle) 161 W. Radio unit only: baseband, rectifiers and cooling of the site are not included.
* **Splitting the round trip.** The TR gives the total transition; this model charges a share
  ``ramp_up_share`` (default one half) of the time and energy when the sector wakes and the rest
  when it falls asleep, so one sleep/wake cycle costs exactly the TR's total. Going between two
  sleep states costs the ramp-up of the one left plus the ramp-down of the one entered. During a
  transition the sector serves nothing and draws the sleep power plus the additional energy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from cellscape._validate import check_range
from cellscape.errors import OutOfValidityRangeError

SPEC = "3GPP TR 38.864 V18.1.0"
"""The report these values come from (see the module docstring on how they were checked)."""
TABLE_POWER = f"{SPEC} Table 5.1-1"
TABLE_TRANSITION = f"{SPEC} Table 5.1-2"

ACTIVE, MICRO_SLEEP, LIGHT_SLEEP, DEEP_SLEEP = 0, 1, 2, 3
"""State codes; sleep depth grows with the code."""
STATE_NAMES = ("active", "micro_sleep", "light_sleep", "deep_sleep")
N_STATES = 4


@dataclass(frozen=True)
class BsPowerModel:
    """One sector's power model: relative powers, transitions and the absolute scale.

    Parameters
    ----------
    p_deep_sleep_rel, p_light_sleep_rel, p_micro_sleep_rel : float
        Relative power of each sleep state (TR 38.864 Table 5.1-1; deep sleep = 1). [units]
    p_active_dl_rel, p_active_ul_rel : float
        Relative power when transmitting (receiving) on 100 % of the PRBs. [units]
    t_deep_sleep_s, t_light_sleep_s, t_micro_sleep_s : float
        Total transition time, ramp-down plus ramp-up (Table 5.1-2). [s]
    e_deep_sleep_rel_ms, e_light_sleep_rel_ms, e_micro_sleep_rel_ms : float
        Additional transition energy of the round trip (Table 5.1-2). [units x ms]
    w_per_unit : float
        Watts per relative unit (the TR is relative only; see the module docstring). [W]
    ramp_up_share : float
        Share of a round trip's time and energy charged when the sector wakes, in [0, 1].
    source : str
        Where the numbers come from.

    Examples
    --------
    >>> m = BsPowerModel()
    >>> round(m.idle_power_w, 1), round(m.full_load_power_w, 1)
    (160.7, 1000.0)
    """

    p_deep_sleep_rel: float = 1.0
    p_light_sleep_rel: float = 20.0
    p_micro_sleep_rel: float = 45.0
    p_active_dl_rel: float = 280.0
    p_active_ul_rel: float = 90.0
    t_deep_sleep_s: float = 50e-3
    t_light_sleep_s: float = 6e-3
    t_micro_sleep_s: float = 0.0
    e_deep_sleep_rel_ms: float = 1000.0
    e_light_sleep_rel_ms: float = 100.0
    e_micro_sleep_rel_ms: float = 0.0
    w_per_unit: float = 1000.0 / 280.0
    ramp_up_share: float = 0.5
    source: str = f"{TABLE_POWER} and {TABLE_TRANSITION} (FR1); 1000 W at full DL load"

    def __post_init__(self) -> None:
        powers = (self.p_deep_sleep_rel, self.p_light_sleep_rel, self.p_micro_sleep_rel)
        if not 0.0 < powers[0] <= powers[1] <= powers[2]:
            raise OutOfValidityRangeError(
                f"sleep powers must satisfy 0 < deep <= light <= micro, got {powers} ({self.source})")
        for name in ("p_active_dl_rel", "p_active_ul_rel"):
            if getattr(self, name) < self.p_micro_sleep_rel:
                raise OutOfValidityRangeError(
                    f"{name}={getattr(self, name):g} is below the micro-sleep power {self.p_micro_sleep_rel:g}; "
                    "an active state draws at least the static (micro-sleep) power")
        for name in ("t_deep_sleep_s", "t_light_sleep_s", "t_micro_sleep_s",
                     "e_deep_sleep_rel_ms", "e_light_sleep_rel_ms", "e_micro_sleep_rel_ms"):
            check_range(name, getattr(self, name), 0.0, np.inf, source=self.source)
        check_range("w_per_unit", self.w_per_unit, 1e-9, np.inf, source=self.source)
        check_range("ramp_up_share", self.ramp_up_share, 0.0, 1.0, source="BsPowerModel")

    # -- per-state tables, indexed by the state codes ------------------------------------------------
    @property
    def state_power_rel(self) -> np.ndarray:
        """Relative power of each state with nothing sent or received, shape (4,). [units]"""
        return np.array([self.p_micro_sleep_rel, self.p_micro_sleep_rel, self.p_light_sleep_rel,
                         self.p_deep_sleep_rel])

    @property
    def round_trip_time_s(self) -> np.ndarray:
        """Total transition time of each state's sleep/wake round trip, shape (4,); 0 for ACTIVE. [s]"""
        return np.array([0.0, self.t_micro_sleep_s, self.t_light_sleep_s, self.t_deep_sleep_s])

    @property
    def round_trip_energy_j(self) -> np.ndarray:
        """Additional energy of each state's round trip, shape (4,); 0 for ACTIVE. [J]"""
        rel_ms = np.array([0.0, self.e_micro_sleep_rel_ms, self.e_light_sleep_rel_ms, self.e_deep_sleep_rel_ms])
        return rel_ms * 1e-3 * self.w_per_unit

    @property
    def idle_power_w(self) -> float:
        """Power of an active sector at zero load (= micro sleep, see the module docstring). [W]"""
        return self.p_micro_sleep_rel * self.w_per_unit

    @property
    def full_load_power_w(self) -> float:
        """Power of an active sector transmitting on every PRB. [W]"""
        return self.p_active_dl_rel * self.w_per_unit


DEFAULT = BsPowerModel()
"""TR 38.864 FR1 values, scaled to 1000 W at full DL load (see the module docstring)."""


def scaled_model(model: BsPowerModel = DEFAULT, *, tx_chain_ratio: float = 1.0,
                 bandwidth_ratio: float = 1.0) -> BsPowerModel:
    """A model whose active-state dynamic power scales linearly with TX chains and bandwidth.

    The static (micro-sleep) part is kept; ``P_DL - P_micro`` and ``P_UL - P_micro`` are multiplied
    by ``tx_chain_ratio * bandwidth_ratio`` (active TX/RX chains and bandwidth relative to the
    reference configuration, 64 TxRU and 100 MHz for FR1). Linear scaling is this module's
    simplification of the TR's scaling rules.

    >>> round(scaled_model(tx_chain_ratio=0.5).p_active_dl_rel, 1)
    162.5
    """
    k = float(check_range("tx_chain_ratio", tx_chain_ratio, 0.0, 1.0, source=SPEC)) * float(
        check_range("bandwidth_ratio", bandwidth_ratio, 0.0, 1.0, source=SPEC))
    pm = model.p_micro_sleep_rel
    return replace(model, p_active_dl_rel=pm + k * (model.p_active_dl_rel - pm),
                   p_active_ul_rel=pm + k * (model.p_active_ul_rel - pm))


def _states(state) -> np.ndarray:
    s = np.asarray(state)
    if s.dtype.kind not in "iu" and not (s.dtype.kind in "fb" and np.all(np.mod(s, 1) == 0)):
        raise OutOfValidityRangeError(f"state must hold integer state codes 0..3, got dtype {s.dtype}")
    s = s.astype(np.int64)
    bad = (s < 0) | (s >= N_STATES)
    if np.any(bad):
        raise OutOfValidityRangeError(
            f"state={s[bad].flat[0]} is not a state code; valid: 0 active, 1 micro_sleep, 2 light_sleep, "
            f"3 deep_sleep ({np.count_nonzero(bad)} of {s.size} values)")
    return s


def bs_power_w(state, dl_load, *, ul_load=0.0, model: BsPowerModel = DEFAULT) -> np.ndarray:
    """Power a sector draws in a state at a PRB load, outside transitions. [W]

    Parameters
    ----------
    state : array_like of int
        State codes (:data:`ACTIVE`, :data:`MICRO_SLEEP`, :data:`LIGHT_SLEEP`, :data:`DEEP_SLEEP`).
    dl_load : array_like
        Share of DL PRBs (time x frequency) transmitted, in [0, 1]. Ignored in the sleep states
        (a sleeping sector serves nothing; its load is carried elsewhere or lost).
    ul_load : array_like, default 0.0
        Share of UL PRBs received, in [0, 1]; ``dl_load + ul_load`` must not exceed 1.
    model : BsPowerModel
        The power model.

    Returns
    -------
    power_w : ndarray
        Broadcast shape of the inputs. [W]

    Raises
    ------
    OutOfValidityRangeError
        If a state code is unknown or a load lies outside [0, 1] (or their sum exceeds 1).

    Notes
    -----
    ``P = P_micro + dl_load (P_DL - P_micro) + ul_load (P_UL - P_micro)`` when active, the state's
    relative power otherwise, times ``model.w_per_unit`` (TR 38.864 Table 5.1-1 and its PRB scaling).

    Examples
    --------
    >>> bs_power_w([ACTIVE, ACTIVE, DEEP_SLEEP], [0.0, 1.0, 0.7]).round(2).tolist()
    [160.71, 1000.0, 3.57]
    """
    s = _states(state)
    dl = check_range("dl_load", dl_load, 0.0, 1.0, source=TABLE_POWER)
    ul = check_range("ul_load", ul_load, 0.0, 1.0, source=TABLE_POWER)
    check_range("dl_load + ul_load", dl + ul, 0.0, 1.0 + 1e-12, source=TABLE_POWER)
    pm = model.p_micro_sleep_rel
    active_rel = pm + dl * (model.p_active_dl_rel - pm) + ul * (model.p_active_ul_rel - pm)
    rel = np.where(s == ACTIVE, active_rel, model.state_power_rel[s])
    return rel * model.w_per_unit


def _transition_share(from_state, to_state, table: np.ndarray, model: BsPowerModel) -> np.ndarray:
    a, b = np.broadcast_arrays(_states(from_state), _states(to_state))
    up = model.ramp_up_share
    # leave a (ramp up out of its sleep) then enter b (ramp down into its sleep); ACTIVE rows are 0
    cost = up * table[a] + (1.0 - up) * table[b]
    return np.where(a == b, 0.0, cost)


def transition_energy_j(from_state, to_state, *, model: BsPowerModel = DEFAULT) -> np.ndarray:
    """Additional energy of a state change, on top of the sleep power during it. [J]

    Falling asleep into state ``s`` costs ``(1 - ramp_up_share)`` of ``s``'s round-trip energy,
    waking from it the rest (TR 38.864 Table 5.1-2 gives the round trip); a change between two
    sleep states costs the ramp-up of the one left plus the ramp-down of the one entered.

    >>> float(transition_energy_j(ACTIVE, DEEP_SLEEP) + transition_energy_j(DEEP_SLEEP, ACTIVE))
    3.5714285714285716
    """
    return _transition_share(from_state, to_state, model.round_trip_energy_j, model)


def transition_time_s(from_state, to_state, *, model: BsPowerModel = DEFAULT) -> np.ndarray:
    """Time a state change takes, during which the sector serves nothing. [s]

    Waking from deep sleep takes ``ramp_up_share`` of the 50 ms round trip (25 ms by default).

    >>> float(transition_time_s(DEEP_SLEEP, ACTIVE)), float(transition_time_s(ACTIVE, ACTIVE))
    (0.025, 0.0)
    """
    return _transition_share(from_state, to_state, model.round_trip_time_s, model)


def wake_up_time_s(state, *, model: BsPowerModel = DEFAULT) -> np.ndarray:
    """Time from ``state`` until the sector can serve again. [s]

    >>> wake_up_time_s([ACTIVE, LIGHT_SLEEP]).tolist()
    [0.0, 0.003]
    """
    s = _states(state)
    return transition_time_s(s, np.zeros_like(s), model=model)
