"""The uplink map of ``cellscape run``: what one UE at each pixel can send to its best (downlink)
server, from the downlink map's own coupling loss.

Per pixel: coupling loss CL = (sector power per RE + receiver gain) - RSRP of the best server (path
loss, shadow fading, O2I, both antenna gains: reciprocity), the TS 38.213 7.1.1 open-loop PUSCH
power on ``uplink.n_prb`` PRBs (default the whole carrier: the UE alone in its cell, like the
downlink map's full allocation), the SINR per PRB at the gNB with its noise figure and an
interference margin (rise over thermal), and the TS 38.306 rate at the TS 38.214 CQI efficiency of
that SINR with the uplink overhead (cellscape.radio.throughput). Uplink usually limits coverage:
at the cell edge the UE is at its maximum power while the gNB's downlink is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cellscape.coverage.result import CoverageResult
from cellscape.errors import ScenarioError
from cellscape.radio.nr import frequency_range
from cellscape.radio.throughput import data_rate_bps, spectral_efficiency_bps_hz
from cellscape.radio.uplink import uplink_map
from cellscape.scenario.records import Scenario


@dataclass(frozen=True)
class UplinkResult:
    """Uplink maps on the coverage grid (float32, NaN where the pixel has no server):
    ``tx_power_dbm`` (the UE's PUSCH power), ``sinr_db`` (per PRB at the gNB), ``throughput_bps``
    (on ``n_prb`` PRBs), ``coupling_loss_db`` (to the best server)."""

    tx_power_dbm: np.ndarray
    sinr_db: np.ndarray
    throughput_bps: np.ndarray
    coupling_loss_db: np.ndarray
    n_prb: int


def uplink_coverage(scenario: Scenario, result: CoverageResult) -> UplinkResult:
    """Uplink maps of a coverage result (module docstring).

    Raises
    ------
    ScenarioError
        If ``uplink.n_prb`` exceeds the carrier's PRBs.
    """
    opt = scenario.uplink
    n_carrier = int(result.meta["n_prb"])
    n_prb = n_carrier if opt.n_prb is None else int(opt.n_prb)
    if n_prb > n_carrier:
        raise ScenarioError(f"uplink.n_prb: at most the carrier's {n_carrier} PRBs, got {n_prb}")
    p_re = result.sectors.tx_power_per_re_dbm
    best = result.best_sector
    served = best >= 0
    cl = np.full(best.shape, np.nan, dtype=np.float64)
    cl[served] = p_re[best[served]] - result.rsrp_dbm[served]
    tx, sinr = uplink_map(cl, p_cmax_dbm=scenario.receiver.max_tx_power_dbm, p0_dbm=opt.p0_dbm, alpha=opt.alpha,
                          n_prb=n_prb, scs_khz=scenario.carrier.scs_khz,
                          gnb_noise_figure_db=opt.gnb_noise_figure_db,
                          interference_margin_db=opt.interference_margin_db)
    eff = spectral_efficiency_bps_hz(sinr)
    rate = data_rate_bps(eff, n_prb, scenario.carrier.scs_khz,
                         frequency_range=frequency_range(scenario.carrier.fc_ghz), direction="UL")
    return UplinkResult(tx_power_dbm=tx, sinr_db=sinr, throughput_bps=rate.astype(np.float32),
                        coupling_loss_db=cl.astype(np.float32), n_prb=n_prb)


__all__ = ["UplinkResult", "uplink_coverage"]
