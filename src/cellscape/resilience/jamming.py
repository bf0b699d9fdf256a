"""Jamming: a jammer's power at every pixel (downlink) and at every gNB (uplink), the SINR it leaves,
and the area it denies.

A jammer is a transmitter of the map engine (:func:`cellscape.coverage.engine.sector_maps` on a
scenario whose sites are the jammers): the same TR 38.901 path loss and LOS draw of the scenario's
environment (or the jammer's own), shadow fading, building entry loss, receiver antenna gain. Its
power counts only where its band overlaps the carrier's: the in-band power

    P_in = P_tx + 10 log10(overlap / B_jammer)        [dBm]

is spread evenly over the carrier's 12 n_PRB subcarriers like a cell's
(:func:`cellscape.radio.link_budget.tx_power_per_re_dbm`), so the jammer's "RSRP" at a pixel is its
interference per resource element J. The downlink SINR of the best server becomes

    SINR_j = S / (I + N + J),   with I + N = S / SINR of the intact network,

(:func:`jammed_sinr_db`). Averaging a narrowband jammer over the carrier understates what it does
to the PRBs it covers (those are lost outright); the map is the SINR averaged over a full
allocation, like the engine's.

Uplink: the jammer's in-band power per PRB reaching each gNB sector, J_s = P_in - 10 log10(n_PRB)
+ G_jammer - CL_s, with CL_s the coupling loss between the sector and a receiver at the jammer's
position and height (reciprocity; the engine's point link budget,
:func:`cellscape.coverage.point.link_budget_on`), adds to that sector's uplink noise and
interference: the uplink SINR of a device at a pixel served by sector s is
:func:`cellscape.radio.uplink.uplink_sinr_db` with I = I_margin + J_s (:func:`uplink_sinr_maps`),
its PUSCH power unchanged (open loop, TS 38.213 7.1.1).

A pixel is *denied* where the SINR is below the lowest CQI's threshold
(:func:`cellscape.radio.throughput.cqi_sinr_thresholds_db`): no CQI, no data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
import math

import numpy as np

from cellscape.antenna.sector import sector_gain_dbi
from cellscape.coverage.engine import prepare, sector_maps
from cellscape.coverage.point import link_budget_on
from cellscape.errors import OutOfValidityRangeError, ScenarioError
from cellscape.geo.grid import RasterGrid
from cellscape.radio.link_budget import thermal_noise_dbm
from cellscape.radio.uplink import uplink_map, uplink_sinr_db
from cellscape.scenario.records import AntennaSpec, Scenario, Sector, Site
from cellscape.scenario.resilience import Jammer

TRANSMITTER_KEY_BASE = 1 << 40
"""Random streams of jammers and rogue cells (shadowing, LOS) start here: far from any site's key,
so a jammer never shares a real site's fields."""


def in_band_fraction(bandwidth_mhz, carrier_bandwidth_mhz, *, offset_mhz=0.0):
    """
    Share of a jammer's power inside the carrier's band: overlap / B_jammer (flat spectra).

    Parameters
    ----------
    bandwidth_mhz : array_like
        Jammer bandwidth, > 0. [MHz]
    carrier_bandwidth_mhz : array_like
        Carrier bandwidth, > 0. [MHz]
    offset_mhz : array_like, default 0
        Jammer centre minus carrier centre. [MHz]

    Returns
    -------
    fraction : ndarray
        In [0, 1].

    Examples
    --------
    >>> float(in_band_fraction(20.0, 100.0)), float(in_band_fraction(200.0, 100.0)), float(in_band_fraction(20.0, 100.0, offset_mhz=50.0))
    (1.0, 0.5, 0.5)
    """
    bj = np.asarray(bandwidth_mhz, dtype=float)
    bc = np.asarray(carrier_bandwidth_mhz, dtype=float)
    if np.any(bj <= 0) or np.any(bc <= 0):
        raise OutOfValidityRangeError(f"bandwidths must be > 0 MHz, got jammer {bandwidth_mhz} and carrier {carrier_bandwidth_mhz}")
    off = np.asarray(offset_mhz, dtype=float)
    overlap = np.minimum(off + bj / 2, bc / 2) - np.maximum(off - bj / 2, -bc / 2)
    return np.clip(overlap, 0.0, None) / bj


def in_band_power_dbm(tx_power_dbm, bandwidth_mhz, carrier_bandwidth_mhz, *, offset_mhz=0.0):
    """Jammer power inside the carrier's band, P_tx + 10 log10(overlap / B) [dBm]; -inf without overlap.

    >>> round(float(in_band_power_dbm(40.0, 200.0, 100.0)), 2)
    36.99
    """
    frac = in_band_fraction(bandwidth_mhz, carrier_bandwidth_mhz, offset_mhz=offset_mhz)
    with np.errstate(divide="ignore"):
        return np.asarray(tx_power_dbm, dtype=float) + 10.0 * np.log10(frac)


def jammed_sinr_db(rsrp_dbm, sinr_db, jammer_per_re_dbm):
    """
    Downlink SINR with a jammer: S / (I + N + J), I + N taken from the intact SINR.

    Parameters
    ----------
    rsrp_dbm : array_like
        Best-server RSRP S. [dBm]
    sinr_db : array_like
        Intact SINR S / (I + N). [dB]
    jammer_per_re_dbm : array_like
        Jammer power per RE at the receiver, J (-inf: none). [dBm]

    Returns
    -------
    sinr_db : ndarray
        Broadcast shape of the inputs. [dB]

    Examples
    --------
    S = -80 dBm, I + N = -100 dBm (SINR 20 dB), J = -100 dBm: the SINR falls by 3.01 dB:

    >>> round(float(jammed_sinr_db(-80.0, 20.0, -100.0)), 2)
    16.99
    """
    s = np.asarray(rsrp_dbm, dtype=float)
    i_n_mw = 10.0 ** ((s - np.asarray(sinr_db, dtype=float)) / 10.0)
    j_mw = 10.0 ** (np.asarray(jammer_per_re_dbm, dtype=float) / 10.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return s - 10.0 * np.log10(i_n_mw + j_mw)


def _antenna(gain_dbi: float, azimuth_deg: float | None) -> AntennaSpec:
    return AntennaSpec(model="isotropic" if azimuth_deg is None else "tr38901", max_gain_dbi=float(gain_dbi))


def transmitter_scenario(scenario: Scenario, names: Sequence[str], x: Sequence[float], y: Sequence[float],
                         height_m: Sequence[float], tx_power_dbm: Sequence[float], gain_dbi: Sequence[float],
                         azimuth_deg: Sequence[float | None], environments: Sequence[str | None], *,
                         key_offset: int = 0) -> Scenario:
    """The scenario whose sites are these transmitters (one sector each, no tilt), same area,
    carrier, receiver, environment and seed: the map engine then gives each one's power per RE at
    every pixel. Their random streams start at :data:`TRANSMITTER_KEY_BASE` + ``key_offset``."""
    sites = []
    for i, name in enumerate(names):
        az = azimuth_deg[i]
        sec = Sector(azimuth_deg=0.0 if az is None else float(az), tx_power_dbm=float(tx_power_dbm[i]),
                     antenna=_antenna(gain_dbi[i], az), sector_id=str(name))
        sites.append(Site(site_id=str(name), x=float(x[i]), y=float(y[i]), height_m=float(height_m[i]),
                          sectors=(sec,), environment=environments[i]))
    keys = tuple(TRANSMITTER_KEY_BASE + key_offset + i for i in range(len(sites)))
    return replace(scenario, sites=tuple(sites), site_keys=keys, interference_cutoff_db=None)


def transmitter_maps(scen: Scenario, grid: RasterGrid, xy_m: np.ndarray, *, what: str, footprints=None,
                     terrain=None, backend: str = "numba") -> np.ndarray:
    """Each transmitter's power per RE at every pixel, (n, n_rows, n_cols) float32 [dBm], from
    :func:`cellscape.coverage.engine.sector_maps`. ``what`` names the block in errors
    (``assess.jammers``)."""
    try:
        return sector_maps(scen, grid, xy_m, footprints=footprints, terrain=terrain, backend=backend).rsrp_dbm
    except OutOfValidityRangeError as exc:
        raise ScenarioError(f"{what}: {exc} (a transmitter's height_m must lie in the TR 38.901 BS height range "
                            f"of its environment, e.g. UMi: 3 to 25 m)") from None


def jammer_scenario(scenario: Scenario, jammers: Sequence[Jammer]) -> Scenario:
    """:func:`transmitter_scenario` of the jammers, each at its in-band power (module docstring)."""
    bc = scenario.carrier.bandwidth_mhz
    p_in = [float(in_band_power_dbm(j.tx_power_dbm, j.bandwidth_mhz, bc, offset_mhz=j.offset_mhz)) for j in jammers]
    # a jammer wholly outside the band: -inf in-band power; the engine needs a number, -300 dBm is none
    p_in = [p if math.isfinite(p) else -300.0 for p in p_in]
    return transmitter_scenario(scenario, [j.name for j in jammers], [j.x for j in jammers], [j.y for j in jammers],
                                [j.height_m for j in jammers], p_in, [j.gain_dbi for j in jammers],
                                [j.azimuth_deg for j in jammers], [j.environment for j in jammers])


def sector_coupling_loss_db(scenario: Scenario, grid: RasterGrid, site_xy_m: np.ndarray, x_m: float, y_m: float,
                            height_m: float, *, footprints=None, terrain=None) -> np.ndarray:
    """Coupling loss between every sector of ``scenario`` and a receiver at (``x_m``, ``y_m``)
    (grid CRS, evaluated at its pixel's centre) and ``height_m``, 0 dBi: path loss, shadow fading,
    O2I and the sector's antenna gain, (n_sectors,) in the scenario's sector order [dB]. Uses the
    engine's point link budget (:func:`cellscape.coverage.point.link_budget_on`)."""
    scen = replace(scenario, receiver=replace(scenario.receiver, height_m=float(height_m), antenna_gain_dbi=0.0))
    try:
        run = prepare(scen, grid, site_xy_m, footprints=footprints, terrain=terrain)
    except OutOfValidityRangeError as exc:
        raise ScenarioError(f"assess.jammers: {exc} (the jammer's height is the receiver height of its uplink "
                            f"links to the gNBs)") from None
    rows = link_budget_on(run, x_m, y_m, top=run.static.n_sectors)["sectors"]
    index = {sid: k for k, sid in enumerate(run.sectors.sector_id)}
    cl = np.full(run.static.n_sectors, np.inf)
    for r in rows:
        cl[index[r["sector_id"]]] = r["tx_power_per_re_dbm"] - r["rsrp_dbm"]
    return cl


def jammer_gain_towards_dbi(jammer: Jammer, jammer_xy_m, target_xy_m: np.ndarray, target_height_m) -> np.ndarray:
    """The jammer antenna's gain towards each target (e.g. the gNB sites), (n,) [dBi]."""
    t = np.asarray(target_xy_m, dtype=float).reshape(-1, 2)
    dx = t[:, 0] - jammer_xy_m[0]
    dy = t[:, 1] - jammer_xy_m[1]
    theta = np.degrees(np.arctan2(np.hypot(dx, dy), np.asarray(target_height_m, dtype=float) - jammer.height_m))
    phi = np.degrees(np.arctan2(dy, dx))
    g = sector_gain_dbi(theta, phi, azimuth_deg=0.0 if jammer.azimuth_deg is None else jammer.azimuth_deg,
                        antenna=_antenna(jammer.gain_dbi, jammer.azimuth_deg))
    return np.asarray(g, dtype=float)


def jammer_at_gnb_per_prb_dbm(in_band_dbm, n_prb, gain_dbi, coupling_loss_db):
    """A jammer's power per PRB at a gNB: P_in - 10 log10(n_PRB) + G_jammer - CL [dBm].

    >>> round(float(jammer_at_gnb_per_prb_dbm(40.0, 273, 0.0, 120.0)), 2)
    -104.36
    """
    return (np.asarray(in_band_dbm, dtype=float) - 10.0 * np.log10(np.asarray(n_prb, dtype=float))
            + np.asarray(gain_dbi, dtype=float) - np.asarray(coupling_loss_db, dtype=float))


def uplink_sinr_maps(scenario: Scenario, tx_power_per_re_dbm: np.ndarray, best_sector: np.ndarray,
                     rsrp_dbm: np.ndarray, n_prb_carrier: int, jammer_per_prb_dbm: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Uplink SINR per PRB of a device at each pixel, intact and with the jammers, float64 [dB].

    ``tx_power_per_re_dbm``: (n_sectors,) the sectors' power per RE plus receiver gain (coupling
    loss = that - RSRP, as :func:`cellscape.coverage.uplink.uplink_coverage`); ``best_sector`` and
    ``rsrp_dbm``: the intact best server (any shape, -1: none); ``jammer_per_prb_dbm``: (n_sectors,)
    the jammers' summed power per PRB at each sector. NaN where no sector serves. The intact map is
    :func:`cellscape.radio.uplink.uplink_map`'s (= ``uplink_coverage``'s, tested).
    """
    opt = scenario.uplink
    n_prb = n_prb_carrier if opt.n_prb is None else int(opt.n_prb)
    best = np.asarray(best_sector)
    served = best >= 0
    cl = np.full(best.shape, np.nan)
    cl[served] = np.asarray(tx_power_per_re_dbm, dtype=float)[best[served]] - np.asarray(rsrp_dbm, dtype=float)[served]
    tx, sinr = uplink_map(cl, p_cmax_dbm=scenario.receiver.max_tx_power_dbm, p0_dbm=opt.p0_dbm, alpha=opt.alpha,
                          n_prb=n_prb, scs_khz=scenario.carrier.scs_khz, gnb_noise_figure_db=opt.gnb_noise_figure_db,
                          interference_margin_db=opt.interference_margin_db)
    noise_prb_dbm = float(thermal_noise_dbm(12.0 * scenario.carrier.scs_khz * 1e3, opt.gnb_noise_figure_db))
    margin_mw = 10.0 ** (noise_prb_dbm / 10.0) * (10.0 ** (opt.interference_margin_db / 10.0) - 1.0)
    j_mw = np.zeros(best.shape)
    j_mw[served] = 10.0 ** (np.asarray(jammer_per_prb_dbm, dtype=float)[best[served]] / 10.0)
    with np.errstate(divide="ignore"):
        interf_dbm = 10.0 * np.log10(margin_mw + j_mw)
    jammed = uplink_sinr_db(tx.astype(float), n_prb, cl, noise_prb_dbm, interf_dbm)
    return sinr.astype(float), jammed


__all__ = ["TRANSMITTER_KEY_BASE", "in_band_fraction", "in_band_power_dbm", "jammed_sinr_db", "jammer_at_gnb_per_prb_dbm",
           "jammer_gain_towards_dbi", "jammer_scenario", "sector_coupling_loss_db", "transmitter_maps",
           "transmitter_scenario", "uplink_sinr_maps"]
