"""The sensing job (``cellscape sense``, docs/sensing.md): scenario with a ``sensing:`` block ->
geometry (grid, sites, buildings) -> per-sector RSRP of the map engine at the target height, tile by tile ->
monostatic echo, sensing SNR and detection probability per pixel -> KPIs and the trade-off curve
(sensed area vs downlink throughput given up). No file is written here: ``cellscape.io`` writes results.

Monostatic sensing only: every sector is a radar that transmits and receives its own echo (full
duplex, no self-interference, no clutter, no interference between TRPs). Bistatic TRP-TRP / TRP-UE
pairs, the aerial-UE path loss of TR 36.777 for UAVs above the UT height range, and
``cellscape calibrate --isac`` are not built yet (docs/sensing.md, "Not built yet").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
import math

import numpy as np

from cellscape.coverage.engine import Backend, SectorTiles
from cellscape.coverage.result import SectorTable
from cellscape.coverage.tables import distance_tables
from cellscape.errors import OutOfValidityRangeError, ScenarioError
from cellscape.geo.grid import RasterGrid
from cellscape.geo.surface import Terrain
from cellscape.pipeline.coverage import load_footprints, localize
from cellscape.radio.link_budget import noise_per_re_dbm
from cellscape.radio.nr import symbols_per_second
from cellscape.scenario.records import Scenario
from cellscape.scenario.sensing import Sensing
from cellscape.sensing.detection import detection_probability
from cellscape.sensing.radar import (
    max_unambiguous_range_m,
    ofdm_processing_gain_db,
    range_resolution_m,
    sensing_snr_db,
    velocity_resolution_m_s,
)
from cellscape.sensing.rcs import RCS_MODEL_1
from cellscape.units import wavelength_m

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SenseRun:
    """A finished sensing job. Maps of shape (n_rows, n_cols) on ``grid``, float32, NaN where a pixel
    is not a target position (under a building roof: targets are outdoor only).

    ``sensing_snr_db``: best sensing SNR over the sectors at the scenario's ``sensing_share`` [dB];
    ``detection_probability``: Pd of that SNR at ``pfa``; ``n_trp_detecting``: sites (TRPs) of which
    at least one sector has Pd >= ``pd_required``; ``range_resolution_m``: c / (2 B) of the carrier
    (monostatic: the same everywhere) [m]. ``kpis``: the figures of ``sensing_kpis.json``;
    ``tradeoff``: columns of ``sensing_tradeoff.csv``; ``sectors``: the run's sector table (positions
    and azimuths for the maps).
    """

    sensing: Sensing
    grid: RasterGrid
    sensing_snr_db: np.ndarray
    detection_probability: np.ndarray
    n_trp_detecting: np.ndarray
    range_resolution_m: np.ndarray
    kpis: dict
    tradeoff: dict[str, np.ndarray]
    sectors: SectorTable
    footprints: object | None


def sensing_scenario(sensing: Sensing) -> Scenario:
    """The scenario whose map pixels are the target positions: receiver at ``target_height_m`` with
    0 dBi antenna gain (the map engine's RSRP is then P_RE + G_BS - PL - SF of the sector-target link).

    Raises
    ------
    ScenarioError
        ``sensing.target_height_m: ...`` when the height is outside the TR 38.901 UT height range of
        a site's environment (the map engine's own tables check it).
    """
    sc = sensing.scenario
    scen = replace(sc, receiver=replace(sc.receiver, height_m=sensing.target_height_m, antenna_gain_dbi=0.0))
    try:   # the tables the engine builds: the one home of the TR 38.901 validity ranges
        distance_tables([s.environment or sc.environment for s in sc.sites], [s.height_m for s in sc.sites],
                        h_ut_m=sensing.target_height_m, fc_ghz=sc.carrier.fc_ghz, max_d2d_m=100.0)
    except OutOfValidityRangeError as exc:
        if "h_ut_m" not in str(exc):
            raise
        raise ScenarioError(f"sensing.target_height_m: {exc}; UAVs higher up need the aerial-UE path loss of "
                            f"TR 36.777 (not built yet)") from None
    return scen


def monostatic_echo_per_re_dbm(rsrp_dbm, tx_power_per_re_dbm, fc_ghz, rcs_dbsm):
    r"""
    Echo power per resource element of a monostatic sector-target-sector link, from the one-way RSRP.

    Parameters
    ----------
    rsrp_dbm : array_like
        One-way RSRP per RE of the sector at the target, received with a 0 dBi antenna:
        P_RE + G_BS - PL - SF (the map engine's per-sector map). [dBm]
    tx_power_per_re_dbm : array_like
        The sector's transmit power per RE (plus the 0 dBi receiver gain of the map). [dBm]
    fc_ghz : float
        Carrier frequency. [GHz]
    rcs_dbsm : array_like
        Target RCS. [dBsm]

    Returns
    -------
    echo_power_dbm : ndarray
        2 RSRP - P_RE + 10 lg(4 pi / lambda^2) + RCS, broadcast shape of the inputs. [dBm]

    Notes
    -----
    The TR 38.901 7.9 target channel (:func:`cellscape.sensing.radar.target_coupling_loss_db`) with
    the same link both ways (monostatic: PL_tx = PL_rx = PL, SF_tx = SF_rx = SF, one LOS state) is
    L = 2 PL + 2 SF + 10 lg(lambda^2 / (4 pi)) - RCS, and the echo
    (:func:`cellscape.sensing.radar.echo_power_dbm`, the sector antenna gain G_BS both ways) is
    P_RE + 2 G_BS - L. With the one-way coupling loss L_1 = P_RE - RSRP = PL + SF - G_BS:

        echo = P_RE - 2 L_1 - 10 lg(lambda^2 / (4 pi)) + RCS
             = 2 RSRP - P_RE + 10 lg(4 pi / lambda^2) + RCS.

    Everything in the one-way loss (O2I, diffraction) is counted twice, as it should for a path
    travelled twice. The shadow fading is fully correlated between the two segments (the same
    path); TR 38.901 7.9 draws the two segments' SF for monostatic sensing the same way.

    Examples
    --------
    >>> round(float(monostatic_echo_per_re_dbm(-80.0, 15.0, 3.5, 0.0)), 2)
    -142.66
    """
    lam = wavelength_m(fc_ghz)
    return (2.0 * np.asarray(rsrp_dbm, dtype=float) - tx_power_per_re_dbm + 10.0 * np.log10(4.0 * np.pi / lam ** 2)
            + rcs_dbsm)


def sensing_symbols(sensing_share: float, cpi_s: float, scs_khz: float) -> int:
    """OFDM symbols given to sensing in one CPI: floor(share x symbols in ``cpi_s``) (0: no sensing)."""
    return int(math.floor(sensing_share * cpi_s * symbols_per_second(scs_khz) + 1e-9))


def processing_gain_db(n_subcarriers: int, n_symbols: int) -> float:
    """:func:`cellscape.sensing.radar.ofdm_processing_gain_db`, -inf for no symbols (no sensing) [dB]."""
    if n_symbols < 1:
        return -math.inf
    return float(ofdm_processing_gain_db(n_subcarriers, n_symbols))


def _area(mask: np.ndarray, pixel_km2: float) -> float:
    return float(np.count_nonzero(mask)) * pixel_km2


def run_sense(sensing: Sensing, *, terrain: Terrain | None = None, backend: Backend = "numba",
              progress: Progress | None = None) -> SenseRun:
    """Sensing maps, KPIs and the share trade-off of a scenario's ``sensing:`` block.

    Steps: per-sector RSRP of the engine, tile by tile (:class:`cellscape.coverage.engine.SectorTiles`:
    the working set is one tile's sectors, flat in the map's size) at the target height with a 0 dBi
    receiver (same path loss, LOS, shadow fading and buildings as the
    coverage maps); the monostatic echo per sector (:func:`monostatic_echo_per_re_dbm`); sensing SNR
    = echo + processing gain - noise per RE of the gNB receiver (``uplink.gnb_noise_figure_db``),
    with n_subcarriers = 12 x the carrier's PRBs and n_symbols = :func:`sensing_symbols`; Pd at
    ``pfa`` of the best sector; sites with a detecting sector.

    The trade-off: a share s of every sector's time-frequency resources given to sensing is taken
    from the downlink, so the downlink throughput lost is the fraction s of each sector's (and each
    full-buffer user's) throughput; the curve reports that fraction, not a recomputed coverage run.

    ``terrain``: the DEM the scenario names, read at the edge (``cellscape.io.terrain.read_terrain``).
    """
    sc = sensing.scenario
    scen = sensing_scenario(sensing)
    grid, site_xy_m = localize(scen)
    footprints = load_footprints(scen, grid)
    tiles = SectorTiles(scen, grid, site_xy_m, footprints=footprints, terrain=terrain, backend=backend)
    run = tiles.run
    carrier = sc.carrier
    fc_ghz, scs_khz = carrier.fc_ghz, carrier.scs_khz
    n_sites = len(sc.sites)
    rcs_dbsm = RCS_MODEL_1[sensing.target].rcs_mean_dbsm
    n_sc = 12 * int(run.n_prb)
    nf_db = sc.uplink.gnb_noise_figure_db
    n_re_dbm = float(noise_per_re_dbm(scs_khz, nf_db))
    sector_site = run.static.sector_site
    if np.any(np.diff(sector_site) < 0) or np.unique(sector_site).size != n_sites:
        raise AssertionError("the engine numbers sectors site by site")    # prepare() builds them so
    site_start = np.searchsorted(sector_site, np.arange(n_sites))
    p_re = tiles.tx_power_per_re_dbm
    # the echo is 2 RSRP + a constant per sector: that constant is the formula at RSRP = 0 dBm
    echo_offset = np.asarray(monostatic_echo_per_re_dbm(0.0, p_re, fc_ghz, rcs_dbsm), dtype=np.float32)

    def snr_at(share: float, echo: np.ndarray) -> np.ndarray:
        gain = processing_gain_db(n_sc, sensing_symbols(share, sensing.cpi_s, scs_khz))
        if not math.isfinite(gain):
            return np.full(echo.shape, -np.inf, dtype=np.float32)
        return sensing_snr_db(echo, gain, scs_khz, nf_db).astype(np.float32)

    def pd_of(snr: np.ndarray) -> np.ndarray:
        return detection_probability(snr, sensing.pfa, model=sensing.detector).astype(np.float32)

    # tile by tile: the best echo over all sectors and over each site's sectors, and the sites detecting
    best_echo = np.full(grid.shape, -np.inf, dtype=np.float32)
    n_trp = np.zeros(grid.shape, dtype=np.float32)
    outdoor = np.ones(grid.shape, dtype=bool)
    for done, t in enumerate(tiles, start=1):
        rows, cols = t.window.rows, t.window.cols
        echo = t.rsrp_dbm * np.float32(2.0)            # float32 in place: the formula's sector constant added
        echo += echo_offset[:, None, None]
        site_echo = np.maximum.reduceat(echo, site_start, axis=0)       # sectors are grouped by site
        best_echo[rows, cols] = np.max(site_echo, axis=0)
        n_trp[rows, cols] = np.sum(pd_of(snr_at(sensing.sensing_share, site_echo)) >= sensing.pd_required, axis=0)
        outdoor[rows, cols] = ~t.indoor
        del echo, site_echo, t
        if progress is not None:
            progress(done, len(tiles.windows))
    snr = snr_at(sensing.sensing_share, best_echo)
    pd = pd_of(snr)
    bandwidth_hz = 12.0 * run.n_prb * scs_khz * 1e3
    dr_m = float(range_resolution_m(bandwidth_hz))
    for arr in (snr, pd, n_trp):
        arr[~outdoor] = np.nan
    rres = np.where(outdoor, np.float32(dr_m), np.float32(np.nan)).astype(np.float32)

    pixel_km2 = grid.resolution_m ** 2 / 1e6
    outdoor_km2 = _area(outdoor, pixel_km2)
    sensed = outdoor & (pd >= sensing.pd_required)
    n_sym = sensing_symbols(sensing.sensing_share, sensing.cpi_s, scs_khz)

    # per target (RCS model 1 at the same height: the echo shifts by the RCS difference)
    per_target = {}
    for name, params in RCS_MODEL_1.items():
        pd_t = pd_of(snr + np.float32(params.rcs_mean_dbsm - rcs_dbsm))
        km2 = _area(outdoor & (pd_t >= sensing.pd_required), pixel_km2)
        per_target[name] = {"rcs_dbsm": params.rcs_mean_dbsm, "target_height_m": sensing.target_height_m,
                            "sensed_area_km2": km2,
                            "sensed_area_fraction": km2 / outdoor_km2 if outdoor_km2 > 0 else 0.0,
                            "source": params.source}

    shares = np.asarray(sensing.share_sweep, dtype=float)
    sweep_km2 = np.array([_area(outdoor & (pd_of(snr_at(s, best_echo)) >= sensing.pd_required), pixel_km2)
                          for s in shares])
    tradeoff = {
        "sensing_share": shares,
        "n_symbols": np.array([sensing_symbols(s, sensing.cpi_s, scs_khz) for s in shares], dtype=np.int64),
        "processing_gain_db": np.array([processing_gain_db(n_sc, sensing_symbols(s, sensing.cpi_s, scs_khz))
                                        for s in shares]),
        "sensed_area_km2": sweep_km2,
        "sensed_area_fraction": sweep_km2 / outdoor_km2 if outdoor_km2 > 0 else np.zeros_like(sweep_km2),
        "dl_throughput_lost_fraction": shares.copy(),
    }

    snr_out = snr[outdoor & np.isfinite(snr)]
    sensed_trp = n_trp[sensed]
    kpis = {
        "target": sensing.target,
        "rcs_dbsm": rcs_dbsm,
        "target_height_m": sensing.target_height_m,
        "detector": sensing.detector,
        "pfa": sensing.pfa,
        "pd_required": sensing.pd_required,
        "sensing_share": sensing.sensing_share,
        "cpi_s": sensing.cpi_s,
        "n_subcarriers": n_sc,
        "n_symbols": n_sym,
        "processing_gain_db": processing_gain_db(n_sc, n_sym),
        "noise_per_re_dbm": n_re_dbm,
        "gnb_noise_figure_db": nf_db,
        "range_resolution_m": dr_m,
        "velocity_resolution_m_s": float(velocity_resolution_m_s(fc_ghz, sensing.cpi_s)),
        "max_unambiguous_range_m": float(max_unambiguous_range_m(scs_khz)),
        "outdoor_area_km2": outdoor_km2,
        "sensed_area_km2": _area(sensed, pixel_km2),
        "sensed_area_fraction": _area(sensed, pixel_km2) / outdoor_km2 if outdoor_km2 > 0 else 0.0,
        "sensing_snr_db_percentiles": ({str(p): float(np.percentile(snr_out, p)) for p in (5, 10, 50, 90, 95)}
                                       if snr_out.size else {}),
        "mean_n_trp_detecting_where_sensed": float(sensed_trp.mean()) if sensed_trp.size else 0.0,
        "per_target": per_target,
        "dl_throughput_lost_fraction": sensing.sensing_share,
        "dl_throughput_lost_note": ("a sensing share s takes the fraction s of every sector's time-frequency "
                                    "resources from the downlink: each sector's (and full-buffer user's) "
                                    "throughput falls by the fraction s"),
        "meta": {"n_sites": n_sites, "n_sectors": int(sector_site.size), "pixels": f"{grid.n_rows} x {grid.n_cols}",
                 "resolution_m": grid.resolution_m, "crs": grid.crs, "fc_ghz": fc_ghz, "scs_khz": scs_khz,
                 "n_prb": int(run.n_prb), "mode": "monostatic", "targets": "outdoor pixels only",
                 **{k: v for k, v in tiles.meta().items()
                    if isinstance(v, (str, int, float, bool)) and k not in ("noise_per_re_dbm", "dl_load_factor")}},
    }
    return SenseRun(sensing=sensing, grid=grid, sensing_snr_db=snr, detection_probability=pd, n_trp_detecting=n_trp,
                    range_resolution_m=rres, kpis=kpis, tradeoff=tradeoff, sectors=run.sectors,
                    footprints=footprints)


__all__ = ["SenseRun", "monostatic_echo_per_re_dbm", "processing_gain_db", "run_sense", "sensing_scenario",
           "sensing_symbols"]
