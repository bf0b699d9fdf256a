"""Rogue base stations: where devices would camp on a fake cell.

A rogue cell is a transmitter of the map engine like a real one (its SSB power per RE is its
power spread over the carrier's subcarriers, :func:`cellscape.resilience.jamming.transmitter_scenario`),
so its RSRP at every pixel comes from the same link budget. An idle device ranks cells by TS 38.304
5.2.4.6: R_s = Q_meas,s + Q_hyst for its serving cell, R_n = Q_meas,n - Q_offset for a neighbour,
and reselects when R_n > R_s. A device therefore camps on the fake cell where

    RSRP_rogue > RSRP_best real + offset,    offset = Q_hyst + Q_offset     [dB]

(and the rogue is receivable at all: RSRP_rogue >= the coverage RSRP minimum, standing in for the
cell selection criterion S of TS 38.304 5.2.3.2). Several rogue cells: the strongest counts. The
users and demand exposed are those of the camped pixels. A rogue cell does not jam: it does not
change the real network's SINR here (a real one would also interfere; see
:mod:`cellscape.resilience.jamming` for that).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cellscape.resilience.jamming import transmitter_scenario
from cellscape.scenario.records import Scenario
from cellscape.scenario.resilience import RogueCell

ROGUE_KEY_OFFSET = 1 << 20
"""Rogue cells' random streams follow the jammers' (:data:`cellscape.resilience.jamming.TRANSMITTER_KEY_BASE`)."""


def camped_mask(rogue_rsrp_dbm, real_rsrp_dbm, *, offset_db: float, rsrp_min_dbm: float) -> np.ndarray:
    """
    Pixels where an idle device would reselect to the rogue cell (module docstring).

    Parameters
    ----------
    rogue_rsrp_dbm : array_like
        The strongest rogue cell's RSRP. [dBm]
    real_rsrp_dbm : array_like
        The best real cell's RSRP (-inf: no real cell). [dBm]
    offset_db : float
        Reselection offset Q_hyst + Q_offset. [dB]
    rsrp_min_dbm : float
        The least RSRP a device camps on. [dBm]

    Returns
    -------
    camped : ndarray of bool
        Broadcast shape of the inputs.

    Examples
    --------
    >>> camped_mask([-80.0, -80.0, -80.0, -125.0], [-90.0, -78.0, -82.0, -140.0], offset_db=3.0, rsrp_min_dbm=-120.0).tolist()
    [True, False, False, False]
    """
    rogue = np.asarray(rogue_rsrp_dbm, dtype=float)
    real = np.asarray(real_rsrp_dbm, dtype=float)
    with np.errstate(invalid="ignore"):
        return (rogue > real + float(offset_db)) & (rogue >= float(rsrp_min_dbm))


def rogue_margin_db(rogue_rsrp_dbm, real_rsrp_dbm):
    """RSRP of the rogue cell over the best real one [dB] (> offset: camped).

    >>> float(rogue_margin_db(-80.0, -90.0))
    10.0
    """
    return np.asarray(rogue_rsrp_dbm, dtype=float) - np.asarray(real_rsrp_dbm, dtype=float)


def rogue_scenario(scenario: Scenario, rogues: Sequence[RogueCell]) -> Scenario:
    """The scenario whose sites are the rogue cells (isotropic, their power over the carrier), for
    :func:`cellscape.resilience.jamming.transmitter_maps`."""
    return transmitter_scenario(scenario, [r.name for r in rogues], [r.x for r in rogues], [r.y for r in rogues],
                                [r.height_m for r in rogues], [r.tx_power_dbm for r in rogues],
                                [r.gain_dbi for r in rogues], [None] * len(rogues), [r.environment for r in rogues],
                                key_offset=ROGUE_KEY_OFFSET)


__all__ = ["ROGUE_KEY_OFFSET", "camped_mask", "rogue_margin_db", "rogue_scenario"]
