"""The sensing job (``cellscape sense``, docs/sensing.md): scenario with a ``sensing:`` block ->
geometry (grid, sites, buildings) -> per-site (or per-sector) RSRP of the map engine at the target
height, tile by tile -> monostatic, bistatic TRP-TRP and/or TRP-UE echo, sensing SNR and detection
probability per pixel -> KPIs and the trade-off curve (sensed area vs downlink throughput given up),
per mode. No file is written here: ``cellscape.io`` writes results.

Monostatic: every sector is a radar that transmits and receives its own echo (full duplex, no
self-interference). Bistatic: a sector of site A transmits, a sector of another site B within
``sensing.max_baseline_m`` receives (TRP-TRP; no self-interference term: the receiver is not
co-located with the transmitter, and the direct A -> B signal is assumed removed). TRP-UE: a sector
of site A transmits, a sensing UE (``sensing.ues``) within ``max_baseline_m`` receives with its
omnidirectional antenna and the UE noise figure; the target -> UE segment is free space
(:func:`trp_ue_receive_db`). No interference between TRPs; a background channel only with
``sensing.background: tr38901`` (monostatic, :func:`monostatic_background`). Targets above the
terrestrial UT range (UMa/UMi 22.5 m, RMa 10 m; up to 300 m) take the aerial models of TR 36.777
Annex B in the engine's tables (cellscape.coverage.tables).

The RCS is one constant per run (``sensing_target_rcs_dbsm``) unless ``sensing.rcs_random: draw``,
``sensing.target_heading_deg`` or the bistatic angle of bistatic and TRP-UE maps (model 1: -3 sin(beta/2),
eq. 7.9.2-2; model 2 without a heading: the heading-averaged pattern at beta, eq. 7.9.2-3) add a
per-pixel term per site / pair (:mod:`cellscape.sensing.rcs_maps`;
the pruning's bounds then grow by that term's upper bound, so the maps stay exact).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
import math

import numpy as np

from cellscape.coverage.engine import Backend, SectorTiles
from cellscape.coverage.result import SectorTable
from cellscape.coverage.tables import distance_tables
from cellscape.errors import OutOfValidityRangeError, ScenarioError
from cellscape.geo.grid import RasterGrid
from cellscape.geo.surface import Terrain
from cellscape.pipeline.coverage import load_footprints, localize, site_positions_m
from cellscape.radio.link_budget import noise_per_re_dbm
from cellscape.radio.nr import symbols_per_second
from cellscape.scenario.records import Scenario
from cellscape.scenario.sensing import MAX_TRP_UE_PAIRS, Sensing
from cellscape.sensing._reduce import TileReduction, reduce_tile
from cellscape.sensing.background import (
    BACKGROUND_ENVIRONMENTS,
    clutter_noise_rise_db,
    monostatic_background_per_re_dbm,
    reference_point_geometry_m,
)
from cellscape.sensing.detection import detection_probability, required_snr_db
from cellscape.sensing.radar import (
    bistatic_angle_deg,
    max_unambiguous_range_m,
    ofdm_processing_gain_db,
    range_resolution_m,
    sensing_snr_db,
    velocity_resolution_m_s,
)
from cellscape.sensing.rcs import RCS_MODEL_1, RCS_MODEL_2, SENSING_TARGETS, sensing_target_rcs_dbsm
from cellscape.sensing.rcs_maps import PixelRcs, sigma_s_std_db
from cellscape.units import wavelength_m

Progress = Callable[[int, int], None]

DETECTING_BAND = {"monostatic": "n_trp_detecting", "bistatic": "n_pairs_detecting", "trp_ue": "n_pairs_detecting"}
"""Name of the third band of each mode: sites (TRPs) detecting, or ordered TRP pairs (TRP-UE pairs) detecting."""


@dataclass(frozen=True)
class SensingMaps:
    """The maps of one mode, shape (n_rows, n_cols) on the run's grid, float32, NaN where a pixel is
    not a target position (under a building roof: targets are outdoor only).

    ``sensing_snr_db``: best sensing SNR at the scenario's ``sensing_share`` over the sectors
    (monostatic) or the sector pairs (bistatic) [dB]; ``detection_probability``: Pd of that SNR at
    ``pfa``; ``n_detecting``: sites with a detecting sector (monostatic) or ordered TRP pairs
    (TX site, RX site) with a detecting sector pair (bistatic); ``range_resolution_m``: c / (2 B)
    (monostatic, one value) or c / (2 B cos(beta/2)) of the best pair's bistatic angle beta at the
    pixel (inf where beta reaches 180 deg: forward scatter has no range resolution) [m].
    ``kpis``: this mode's figures in ``sensing_kpis.json``; ``tradeoff``: its columns of the
    trade-off CSV.
    """

    mode: str
    sensing_snr_db: np.ndarray
    detection_probability: np.ndarray
    n_detecting: np.ndarray
    range_resolution_m: np.ndarray
    kpis: dict
    tradeoff: dict[str, np.ndarray]

    def bands(self) -> dict[str, np.ndarray]:
        """The GeoTIFF bands of this mode, in order."""
        return {"sensing_snr_db": self.sensing_snr_db, "detection_probability": self.detection_probability,
                DETECTING_BAND[self.mode]: self.n_detecting, "range_resolution_m": self.range_resolution_m}


@dataclass(frozen=True)
class SenseRun:
    """A finished sensing job: ``maps`` per mode (``sensing.modes``, in order), ``kpis`` (the figures
    of ``sensing_kpis.json``: what the modes share at the top, each mode's under its name),
    ``sectors`` (the run's sector table: positions and azimuths for the maps), the building
    ``footprints`` (or None) and the ``grid``."""

    sensing: Sensing
    grid: RasterGrid
    maps: dict[str, SensingMaps]
    kpis: dict
    sectors: SectorTable
    footprints: object | None
    bistatic_pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    trp_ue_pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
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
        raise ScenarioError(f"sensing.target_height_m: {exc}") from None
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



def bistatic_echo_per_re_dbm(rsrp_tx_dbm, rsrp_rx_dbm, rx_tx_power_per_re_dbm, fc_ghz, rcs_dbsm):
    r"""
    Echo power per resource element of a bistatic sector A -> target -> sector B link, from the
    two one-way RSRP maps.

    Parameters
    ----------
    rsrp_tx_dbm : array_like
        One-way RSRP per RE of the transmitting sector A at the target, 0 dBi receiver:
        P_A + G_A - PL_A - SF_A (the map engine's per-sector map). [dBm]
    rsrp_rx_dbm : array_like
        The same for the receiving sector B: P_B + G_B - PL_B - SF_B. By reciprocity its coupling
        loss P_B - RSRP_B is that of the target -> B segment. [dBm]
    rx_tx_power_per_re_dbm : array_like
        Sector B's own transmit power per RE P_B (it only removes P_B from RSRP_B). [dBm]
    fc_ghz : float
        Carrier frequency. [GHz]
    rcs_dbsm : array_like
        RCS of the target: the run's one constant (model 1: the monostatic mean; model 2: the
        monostatic RCS averaged over headings, used for every bistatic pair too). [dBsm]

    Returns
    -------
    echo_power_dbm : ndarray
        RSRP_A + (RSRP_B - P_B) + 10 lg(4 pi / lambda^2) + RCS, broadcast shape. [dBm]

    Notes
    -----
    TR 38.901 V19.4.0 7.9.4.1 (eq. 7.9.4-14, Table 7.9.6.1-1) concatenates the STX -> target and
    target -> SRX links with the RCS between them: L = PL_1 + PL_2 + SF_1 + SF_2 + 10 lg(lambda^2 /
    (4 pi)) - RCS (:func:`cellscape.sensing.radar.target_coupling_loss_db`), each segment with the
    path loss, LOS state and shadow fading of its own link, and the echo is P_A + G_A + G_B - L
    (:func:`cellscape.sensing.radar.echo_power_dbm`). With RSRP_A = P_A + G_A - PL_1 - SF_1 and
    RSRP_B - P_B = G_B - PL_2 - SF_2:

        echo = (RSRP_A) + (RSRP_B - P_B) - 10 lg(lambda^2 / (4 pi)) + RCS.

    With A = B (one sector, baseline 0) it is :func:`monostatic_echo_per_re_dbm`.

    Examples
    --------
    RSRP_A = -80 dBm, RSRP_B = -85 dBm, P_B = 15 dBm, 3.5 GHz, 0 dBsm:
    -80 - 100 + 32.34 = -147.66 dBm.

    >>> round(float(bistatic_echo_per_re_dbm(-80.0, -85.0, 15.0, 3.5, 0.0)), 2)
    -147.66
    """
    lam = wavelength_m(fc_ghz)
    return (np.asarray(rsrp_tx_dbm, dtype=float) + (np.asarray(rsrp_rx_dbm, dtype=float) - rx_tx_power_per_re_dbm)
            + 10.0 * np.log10(4.0 * np.pi / lam ** 2) + rcs_dbsm)


def bistatic_pairs(site_xy_m, max_baseline_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ordered TRP pairs (TX site A, RX site B), A != B, at most ``max_baseline_m`` apart.

    Parameters
    ----------
    site_xy_m : array_like, shape (n_sites, 2)
        Site positions in a metric CRS. [m]
    max_baseline_m : float
        Longest horizontal baseline A-B. [m]

    Returns
    -------
    tx_site, rx_site : ndarray of int64, shape (n_pairs,)
        Row-major over (A, B): both directions of a pair appear (A -> B and B -> A are different
        transmitters).
    baseline_m : ndarray, shape (n_pairs,)
        Horizontal A-B distance. [m]

    Examples
    --------
    >>> tx, rx, b = bistatic_pairs([[0, 0], [300, 0], [2000, 0]], 1000.0)
    >>> tx.tolist(), rx.tolist(), b.tolist()
    ([0, 1], [1, 0], [300.0, 300.0])
    """
    xy = np.asarray(site_xy_m, dtype=float).reshape(-1, 2)
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])   # (n_sites, n_sites)
    ok = (d <= max_baseline_m) & ~np.eye(len(xy), dtype=bool)
    tx, rx = np.nonzero(ok)
    return tx.astype(np.int64), rx.astype(np.int64), d[tx, rx]


def trp_ue_pairs(site_xy_m, ue_xy_m, max_baseline_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TRP-UE pairs (TX site A, RX UE u) at most ``max_baseline_m`` apart (horizontal).

    Returns
    -------
    pair_site, pair_ue : ndarray of int64, shape (n_pairs,)
        Row-major over (site, UE).
    baseline_m : ndarray, shape (n_pairs,)
        Horizontal site-UE distance. [m]

    Examples
    --------
    >>> a, u, b = trp_ue_pairs([[0, 0], [3000, 0]], [[0, 400], [2900, 0]], 1000.0)
    >>> a.tolist(), u.tolist(), b.tolist()
    ([0, 1], [0, 1], [400.0, 100.0])
    """
    s = np.asarray(site_xy_m, dtype=float).reshape(-1, 2)
    u = np.asarray(ue_xy_m, dtype=float).reshape(-1, 2)
    d = np.hypot(s[:, None, 0] - u[None, :, 0], s[:, None, 1] - u[None, :, 1])      # (n_sites, n_ues)
    a, k = np.nonzero(d <= max_baseline_m)
    return a.astype(np.int64), k.astype(np.int64), d[a, k]


MIN_UE_TARGET_DISTANCE_M = 1.0
"""Shortest target-UE distance of the TRP-UE budget [m]: the minimum 2-D STX/SRX-target distance of
UE sensing modes in TR 38.901 V19.4.0 Table 7.9.1-3 (1 m, from TR 38.858); closer pixels use 1 m."""


def trp_ue_receive_db(ue_xyz_m, ue_gain_dbi, x_m, y_m, target_height_m: float, fc_ghz: float) -> np.ndarray:
    r"""
    The target -> UE segment of a TRP-UE echo, G_UE - FSPL(d_3D), at every pixel [dB].

    Parameters
    ----------
    ue_xyz_m : array_like, shape (n_ues, 3)
        UE antenna positions (x, y in the grid CRS, height above local ground). [m]
    ue_gain_dbi : array_like, shape (n_ues,)
        Omnidirectional UE antenna gains. [dBi]
    x_m : ndarray, shape (n_cols,); y_m : ndarray, shape (n_rows,)
        Pixel centres. [m]
    target_height_m : float
        Target height above local ground. [m]
    fc_ghz : float
        Carrier frequency. [GHz]

    Returns
    -------
    receive_db : ndarray, shape (n_ues, n_rows, n_cols), float32
        G_UE - 20 lg(4 pi d fc / c), d the 3-D target-UE distance, at least
        ``MIN_UE_TARGET_DISTANCE_M``: in :func:`bistatic_echo_per_re_dbm` it takes the place of
        RSRP_B - P_B = G_B - PL_2 - SF_2 of a receiving TRP. [dB]

    Notes
    -----
    Free space, LOS, no shadow fading: TR 38.901 V19.4.0 Table 7.9.3-2 gives the target-UE segment
    the UE-UE link (Case 5, Table 7.9.3-1: TR 38.858 Clause A.3 for UMa/UMi, the RMa TRP-UE link with
    h_BS = 1.5 m for RMa), which this package does not implement. Free space is within a few dB of
    the TR 38.901 LOS laws and below every NLOS law: the TRP-UE maps are optimistic where the segment
    is obstructed (docs/sensing.md).

    Examples
    --------
    A UE 100 m from the target, both at 1.5 m, 3.5 GHz: 0 - 83.33 dB.

    >>> r = trp_ue_receive_db([[100.0, 0.0, 1.5]], [0.0], np.array([0.0]), np.array([0.0]), 1.5, 3.5)
    >>> round(float(r[0, 0, 0]), 2)
    -83.33
    """
    from cellscape.propagation.free_space import free_space_path_loss_db

    ue = np.asarray(ue_xyz_m, dtype=float).reshape(-1, 3)
    g = np.asarray(ue_gain_dbi, dtype=float).reshape(-1)
    x = np.asarray(x_m, dtype=float)[None, None, :]
    y = np.asarray(y_m, dtype=float)[None, :, None]
    d = np.sqrt((x - ue[:, 0, None, None]) ** 2 + (y - ue[:, 1, None, None]) ** 2
                + (target_height_m - ue[:, 2, None, None]) ** 2)
    d = np.maximum(d, MIN_UE_TARGET_DISTANCE_M)
    return (g[:, None, None] - free_space_path_loss_db(d, fc_ghz)).astype(np.float32)


def bistatic_range_resolution_m(pair, x_m, y_m, tx_xyz_m, rx_xyz_m, target_height_m: float, bandwidth_hz: float):
    """Range resolution c / (2 B cos(beta/2)) at each pixel for its pair.

    Parameters
    ----------
    pair : ndarray of int, shape (n_rows, n_cols)
        Index of the pair in ``tx_xyz_m`` / ``rx_xyz_m`` (-1: none, NaN out).
    x_m : ndarray, shape (n_cols,); y_m : ndarray, shape (n_rows,)
        Pixel centres. [m]
    tx_xyz_m, rx_xyz_m : ndarray, shape (n_pairs, 3)
        TX and RX antenna positions (x, y, height above local ground). [m]
    target_height_m : float
        Target height above local ground. [m]
    bandwidth_hz : float
        Sensing bandwidth. [Hz]

    Returns
    -------
    range_resolution_m : ndarray, shape (n_rows, n_cols), float32
        :func:`cellscape.sensing.radar.range_resolution_m` of the bistatic angle
        (:func:`cellscape.sensing.radar.bistatic_angle_deg`) in the 3-D triangle TX-target-RX; inf
        where beta rounds to 180 deg (a target on the baseline: forward scatter). [m]

    Examples
    --------
    A target 100 m off the middle of a 200 m baseline, all at one height: beta = 90 deg, so
    c / (2 B cos 45 deg) = 1.414 x the monostatic 1.499 m at 100 MHz.

    >>> r = bistatic_range_resolution_m(np.zeros((1, 1), int), np.array([100.0]), np.array([100.0]),
    ...                                 np.array([[0.0, 0.0, 1.5]]), np.array([[200.0, 0.0, 1.5]]), 1.5, 100e6)
    >>> round(float(r[0, 0]), 3)
    2.12
    """
    pair = np.asarray(pair)
    p = np.maximum(pair, 0)                                                  # (n_rows, n_cols)
    tx, rx = np.asarray(tx_xyz_m, dtype=float)[p], np.asarray(rx_xyz_m, dtype=float)[p]   # (n_rows, n_cols, 3)
    px = np.broadcast_to(np.asarray(x_m, dtype=float)[None, :], pair.shape)
    py = np.broadcast_to(np.asarray(y_m, dtype=float)[:, None], pair.shape)
    tiny = 1e-6                                           # a pixel centre on a mast of the target's height
    d_tx = np.maximum(np.sqrt((px - tx[..., 0]) ** 2 + (py - tx[..., 1]) ** 2 + (target_height_m - tx[..., 2]) ** 2),
                      tiny)
    d_rx = np.maximum(np.sqrt((px - rx[..., 0]) ** 2 + (py - rx[..., 1]) ** 2 + (target_height_m - rx[..., 2]) ** 2),
                      tiny)
    base = np.sqrt(((tx - rx) ** 2).sum(axis=-1))
    beta = bistatic_angle_deg(d_tx, d_rx, base)
    forward = beta >= np.nextafter(180.0, 0.0)
    res = np.where(forward, np.inf, range_resolution_m(bandwidth_hz, bistatic_angle_deg=np.where(forward, 0.0, beta)))
    return np.where(pair >= 0, res, np.nan).astype(np.float32)


def _area(mask: np.ndarray, pixel_km2: float) -> float:
    return float(np.count_nonzero(mask)) * pixel_km2


PRUNE_BLOCK_PX = 128
"""Side of the blocks whose site bounds decide which sites the exact pruning keeps [pixels]."""

PRUNE_BLOCK_GEOMETRIC_PX = 256
"""The same for geometric LOS runs (within the engine's square blocks): larger, since each block
marches its links over a height surface grown by the LOS range [pixels]."""

GUESS_MARGIN_DB = 6.0
"""The pruning's first threshold in a block: the previous block's weakest best echo less this [dB]."""

RCS_BLOCK_PIXELS = 16_384
"""With a per-pixel RCS, a tile is reduced in bands of rows of at most this many pixels (the per-pixel
RCS terms of every site and pair of a band are held at once) [pixels]."""


def _concat_rows(parts: list[TileReduction]) -> TileReduction:
    if len(parts) == 1:
        return parts[0]
    return TileReduction(*[None if getattr(parts[0], f) is None else np.concatenate([getattr(p, f) for p in parts])
                           for f in ("mono_echo_dbm", "mono_n_detecting", "bi_echo_dbm", "bi_pair", "bi_n_detecting",
                                     "ue_echo_dbm", "ue_pair", "ue_n_detecting")])


@dataclass(frozen=True)
class _TrpUe:
    """What the TRP-UE reduction needs: the UEs (antenna positions ``ue_xyz_m`` (n_ues, 3) [m], gains
    ``ue_gain_dbi`` [dBi]), the pairs (TX site, RX UE), the echo a detection needs at a UE receiver
    [dBm], the carrier and the target height."""

    ue_xyz_m: np.ndarray
    ue_gain_dbi: np.ndarray
    pair_site: np.ndarray
    pair_ue: np.ndarray
    required_dbm: float
    fc_ghz: float
    target_height_m: float


@dataclass(frozen=True)
class _Reducer:
    """What a tile's reduction needs besides the RSRP (:func:`cellscape.sensing._reduce.reduce_tile`)."""

    backend: str
    n_sites: int
    unit_site: np.ndarray
    unit_p_re_dbm: np.ndarray
    mono_offset_db: np.ndarray
    mono: bool
    required_dbm: float
    pair_tx: np.ndarray
    pair_rx: np.ndarray
    bi_offset_db: float
    rcs: PixelRcs | None = None
    grid: RasterGrid | None = None
    trp_ue: _TrpUe | None = None

    @property
    def max_delta_db(self) -> float:
        """Upper bound of the per-pixel RCS term (0 without one) [dB]: the pruning adds it to its bounds."""
        return 0.0 if self.rcs is None else self.rcs.max_delta_db

    def __call__(self, units, window, *, sites=None, pairs=None, mono_sites=None):
        """Reduce ``units`` at the pixels of ``window`` (all units, or with ``sites`` the per-site RSRP of
        these sites only, the monostatic maximum over ``mono_sites`` and the bistatic one over
        ``pairs``, both subsets). With a per-pixel RCS (``rcs``), in bands of at most
        ``RCS_BLOCK_PIXELS`` pixels, each with its RCS terms (:class:`~cellscape.sensing.rcs_maps.PixelRcs`)."""
        if self.rcs is None and self.trp_ue is None:
            return self._reduce(units, sites, pairs, mono_sites)
        from cellscape.geo.grid import Window

        n_rows, n_cols = units.shape[1:]
        step = max(1, RCS_BLOCK_PIXELS // max(1, n_cols))
        all_pairs = np.arange(self.pair_tx.size) if pairs is None else pairs
        parts = []
        for r0 in range(0, n_rows, step):
            r1 = min(r0 + step, n_rows)
            sub = Window(window.row_start + r0, window.row_start + r1, window.col_start, window.col_stop)
            x, y = self.grid.x_centers_m(sub.cols), self.grid.y_centers_m(sub.rows)
            mono_delta = bi_delta = None
            if self.rcs is None:
                parts.append(self._with_trp_ue(self._reduce(units[:, r0:r1], sites, pairs, mono_sites), units[:, r0:r1],
                                               sub, x, y))
                continue
            if self.mono:
                if sites is None:
                    mono_delta = self.rcs.mono_db(np.arange(self.n_sites), sub.rows, sub.cols, x, y)
                else:       # the kept sites' order; sites kept for pairs only have a -inf echo: no term
                    mono_delta = np.zeros((sites.size, r1 - r0, n_cols), dtype=np.float32)
                    pos = np.searchsorted(sites, mono_sites)
                    mono_delta[pos] = self.rcs.mono_db(mono_sites, sub.rows, sub.cols, x, y)
            if all_pairs.size:
                bi_delta = self.rcs.pair_db(self.pair_tx[all_pairs], self.pair_rx[all_pairs], sub.rows, sub.cols, x, y)
            red = self._reduce(units[:, r0:r1], sites, pairs, mono_sites, mono_delta, bi_delta)
            parts.append(self._with_trp_ue(red, units[:, r0:r1], sub, x, y) if self.trp_ue is not None else red)
        return _concat_rows(parts)

    def _with_trp_ue(self, red: TileReduction, units, window, x_m, y_m) -> TileReduction:
        """``red`` with the TRP-UE maps of ``window``: a second bistatic reduction whose receivers are the
        UEs, each as one more unit holding G_UE - FSPL(target -> UE) in place of RSRP_B - P_B
        (:func:`trp_ue_receive_db`); same kernel, same offset k, the UE's own required echo."""
        ue = self.trp_ue
        if ue is None:
            return red
        rx = trp_ue_receive_db(ue.ue_xyz_m, ue.ue_gain_dbi, x_m, y_m, ue.target_height_m, ue.fc_ghz)
        n_ues = ue.ue_xyz_m.shape[0]
        all_units = np.concatenate([np.asarray(units, dtype=np.float32), rx])
        unit_site = np.concatenate([self.unit_site, self.n_sites + np.arange(n_ues)])
        p_re = np.concatenate([np.asarray(self.unit_p_re_dbm, dtype=float), np.zeros(n_ues)])
        delta = (self.rcs.trp_ue_db(ue.pair_site, ue.pair_ue, ue.ue_xyz_m, window.rows, window.cols, x_m, y_m)
                 if self.rcs is not None else None)
        r = reduce_tile(self.backend, all_units, unit_site, p_re, np.zeros(unit_site.size, dtype=np.float32),
                        self.n_sites + n_ues, mono=False, mono_required_dbm=0.0, pair_tx=ue.pair_site,
                        pair_rx=self.n_sites + ue.pair_ue, bi_offset_db=self.bi_offset_db,
                        bi_required_dbm=ue.required_dbm, bi_delta_db=delta)
        return replace(red, ue_echo_dbm=r.bi_echo_dbm, ue_pair=r.bi_pair, ue_n_detecting=r.bi_n_detecting)

    def _reduce(self, units, sites, pairs, mono_sites, mono_delta=None, bi_delta=None):
        if sites is None:
            return reduce_tile(self.backend, units, self.unit_site, self.unit_p_re_dbm, self.mono_offset_db,
                               self.n_sites, mono=self.mono, mono_required_dbm=self.required_dbm,
                               pair_tx=self.pair_tx, pair_rx=self.pair_rx, bi_offset_db=self.bi_offset_db,
                               bi_required_dbm=self.required_dbm, mono_delta_db=mono_delta, bi_delta_db=bi_delta)
        pos = np.full(self.n_sites, -1, dtype=np.int64)
        pos[sites] = np.arange(sites.size)
        # monostatic: the kept sites only; a site kept for the bistatic pairs alone gets an offset of
        # -inf, so that it cannot raise the monostatic maximum nor count
        off = np.full(sites.size, -np.inf, dtype=np.float32)
        off[pos[mono_sites]] = self.mono_offset_db[mono_sites]
        red = reduce_tile(self.backend, units, np.arange(sites.size), self.unit_p_re_dbm[sites], off, sites.size,
                          mono=self.mono, mono_required_dbm=self.required_dbm, pair_tx=pos[self.pair_tx[pairs]],
                          pair_rx=pos[self.pair_rx[pairs]], bi_offset_db=self.bi_offset_db,
                          bi_required_dbm=self.required_dbm, mono_delta_db=mono_delta, bi_delta_db=bi_delta)
        if red.bi_pair is None:
            return red
        # the best pair in the run's numbering (the kept pairs keep their order: ties resolve alike)
        return replace(red, bi_pair=np.where(red.bi_pair >= 0, pairs[np.maximum(red.bi_pair, 0)], -1).astype(np.int32))


def _blocks(window, side: int):
    from cellscape.geo.grid import Window

    for r0 in range(window.row_start, window.row_stop, side):
        for c0 in range(window.col_start, window.col_stop, side):
            yield Window(r0, min(r0 + side, window.row_stop), c0, min(c0 + side, window.col_stop))


def _full_tiles(tiles: SectorTiles, per_site: bool, reducer: _Reducer) -> Iterator[tuple]:
    """(window, reduction, indoor) per engine tile, every site. ``per_site``: the units are the sites
    (RSRP of each site's strongest sector, the engine's ``per_site`` output); else the sectors."""
    if not per_site:
        for t in tiles:
            yield t.window, reducer(t.rsrp_dbm, t.window), t.indoor, True
        return
    for window in tiles.windows:
        rsrp, indoor = tiles.site_rsrp(window)
        yield window, reducer(rsrp, window), indoor, True
        del rsrp


def _pruned_tiles(tiles: SectorTiles, reducer: _Reducer, stats: dict) -> Iterator[tuple]:
    """(block, reduction, indoor) per block of ``PRUNE_BLOCK_PX`` (geometric: ``PRUNE_BLOCK_GEOMETRIC_PX``), the
    engine's per-site RSRP computed only for the sites that can matter there. Exact: the same maps
    as :func:`_full_tiles` (docs/sensing.md, "Performance").

    Per block, the map engine's interference-cutoff bound B_i >= the RSRP of site i's strongest
    sector anywhere in the block (cellscape.coverage.cutoff.site_bounds_mw: path gain tail maximum,
    largest antenna gain, shadow fading at most 5 sigma, O2I >= 0) bounds the echoes: monostatic
    2 B_i + m_i, bistatic pair (A, B) B_A + B_B - P_B + k. With a threshold T at or below the echo
    a detection needs, the sites (pairs) whose bound is below T are left out: they can count at no
    pixel. After the kernel, the block is certified where the best kept echo of every outdoor pixel
    exceeds every left-out bound (then no left-out site or pair can be the best); otherwise T drops
    to the smallest best kept echo and the sites it adds are computed too (per-site outputs are
    independent of the other sites), which certifies the block. The first T of a block is guessed
    from the previous block (``GUESS_MARGIN_DB`` under its weakest best echo); a wrong guess costs
    time, never exactness. Monostatic and bistatic maps have their own T.
    """
    from cellscape.coverage import cutoff

    run = tiles.run
    st = run.static
    sc = run.scenario
    index = cutoff.build_index(st, cutoff_db=0.1, site_group=st.site_rows(),
                               shadow_fading=run.fields.sf_own is not None, los_mode=sc.los_mode,
                               los_range_m=run.geometric.range_m if run.geometric is not None else math.inf,
                               mode="bound")
    n_sites = reducer.n_sites
    all_sites = np.arange(n_sites)
    p_site = reducer.unit_p_re_dbm
    side = PRUNE_BLOCK_PX if run.geometric is None else PRUNE_BLOCK_GEOMETRIC_PX
    margin_db = 1e-3                                   # below the required echo: float32 rounding of ties
    guess = {"mono": math.inf, "bi": math.inf}
    for window in tiles.windows:
        for block in _blocks(window, side):
            last = (block.row_stop, block.col_stop) == (window.row_stop, window.col_stop)
            x = run.grid.x_centers_m(block.cols)
            y = run.grid.y_centers_m(block.rows)
            _, peak_mw = cutoff.site_bounds_mw(index, all_sites, x, y)
            with np.errstate(divide="ignore"):
                ub_dbm = 10.0 * np.log10(peak_mw)                                    # (n_sites,)
            mono_ub = 2.0 * ub_dbm + reducer.mono_offset_db.astype(float) if reducer.mono else None
            pair_ub = ub_dbm[reducer.pair_tx] + ub_dbm[reducer.pair_rx] - p_site[reducer.pair_rx] + reducer.bi_offset_db
            if reducer.rcs is not None:         # the per-pixel RCS term is at most max_delta_db
                mono_ub = mono_ub + reducer.max_delta_db if reducer.mono else None
                pair_ub = pair_ub + reducer.max_delta_db
            # thresholds: at or below the required echo (counts stay exact), first guessed from the
            # previous block's weakest best echo (neighbouring blocks look alike), lowered if not certified
            t_mono = min(reducer.required_dbm, guess["mono"]) - margin_db
            t_bi = min(reducer.required_dbm, guess["bi"]) - margin_db
            have = np.zeros(n_sites, dtype=bool)
            rsrp = np.empty((n_sites,) + block.shape, dtype=np.float32)
            indoor = None
            while True:
                mono_keep = mono_ub >= t_mono if reducer.mono else np.zeros(n_sites, bool)
                pair_keep = pair_ub >= t_bi
                if reducer.mono and not mono_keep.any():
                    mono_keep[np.argmax(mono_ub)] = True        # a maximum needs one site
                if pair_ub.size and not pair_keep.any():
                    pair_keep[np.argmax(pair_ub)] = True
                need = mono_keep.copy()
                need[reducer.pair_tx[pair_keep]] = True
                need[reducer.pair_rx[pair_keep]] = True
                new = np.flatnonzero(need & ~have)
                if new.size:
                    rsrp[new], indoor = tiles.site_rsrp(block, new)
                    have[new] = True
                kept = np.flatnonzero(need)
                red = reducer(rsrp[kept], block, sites=kept, pairs=np.flatnonzero(pair_keep),
                              mono_sites=np.flatnonzero(mono_keep))
                outdoor = ~indoor
                certified = True
                if reducer.mono:
                    worst = float(np.min(red.mono_echo_dbm[outdoor])) if outdoor.any() else np.inf
                    guess["mono"] = worst - GUESS_MARGIN_DB
                    if not mono_keep.all() and not worst > float(np.max(mono_ub[~mono_keep])):
                        t_mono, certified = min(t_mono, worst - margin_db), False
                if pair_ub.size:
                    worst = float(np.min(red.bi_echo_dbm[outdoor])) if outdoor.any() else np.inf
                    guess["bi"] = worst - GUESS_MARGIN_DB
                    if not pair_keep.all() and not worst > float(np.max(pair_ub[~pair_keep])):
                        t_bi, certified = min(t_bi, worst - margin_db), False
                if certified:
                    break
                stats["widened"] += 1
            stats["site_pixels"] += int(kept.size) * block.shape[0] * block.shape[1]
            yield block, red, indoor, last


def monostatic_background(sensing: Sensing, tx_power_per_re_dbm, noise_per_re_dbm: float) -> dict:
    """The TR 38.901 7.9.4.2 background of every sector as a monostatic radar, in the engine's sector
    order (site by site, sectors in scenario order).

    Returns
    -------
    background : dict
        ``per_re_dbm`` (n_sectors,): :func:`cellscape.sensing.background.monostatic_background_per_re_dbm`;
        ``noise_rise_db`` (n_sectors,): :func:`~cellscape.sensing.background.clutter_noise_rise_db`
        with ``background_suppression_db``; plus the words and figures of the KPIs.

    Raises
    ------
    ScenarioError
        ``sensing.background: ...`` when a site's environment has no outdoor row in Table 7.9.4.2-1
        (InH/InF).
    """
    sc = sensing.scenario
    per_re, envs = [], set()
    p_re = np.asarray(tx_power_per_re_dbm, dtype=float)
    k = 0
    for site in sc.sites:
        env = site.environment or sc.environment
        if env not in BACKGROUND_ENVIRONMENTS:
            raise ScenarioError(
                f"sensing.background: 'tr38901' has outdoor rows only (UMi, UMa, RMa of TR 38.901 V19.4.0 Table "
                f"7.9.4.2-1); site {site.site_id!r} is {env}: the indoor rows give negative mean reference-point "
                f"heights (c_h -13.19 / -17.04 m) whose reference the TR does not state; use background: none")
        envs.add(env)
        for sec in site.sectors:
            per_re.append(monostatic_background_per_re_dbm(p_re[k], env, site.height_m, sc.carrier.fc_ghz,
                                                           azimuth_deg=sec.azimuth_deg, mech_tilt_deg=sec.mech_tilt_deg,
                                                           elec_tilt_deg=sec.elec_tilt_deg, antenna=sec.antenna))
            k += 1
    if k != p_re.size:
        raise AssertionError("the engine numbers the scenario's sectors site by site")
    per_re = np.asarray(per_re)
    supp = sensing.background_suppression_db
    return {
        "per_re_dbm": per_re,
        "noise_rise_db": np.asarray(clutter_noise_rise_db(per_re, noise_per_re_dbm, supp)),
        "model": ("TR 38.901 V19.4.0 7.9.4.2 TRP-monostatic background: 3 NLOS reference points at the means of "
                  "Table 7.9.4.2-1's Gamma laws, shadow fading at its median, two-way sector gain averaged over the "
                  "first point's azimuth; added to the noise as noise-like clutter (sensing_snr_db is the SCNR)"),
        "suppression_db": supp,
        "reference_point_d2d_h_m": {e: [round(v, 3) for v in reference_point_geometry_m(e)] for e in sorted(envs)},
    }


def _pair_kpis(baselines_m: np.ndarray, n_sensed: np.ndarray, rres_sensed_m: np.ndarray) -> dict:
    """The KPIs the two pair modes (bistatic, TRP-UE) share: the pairs' baselines, the mean number
    of pairs detecting where the target is sensed, and the range resolution there (5/50/95 %)."""
    return {
        "baseline_m_min_max": [float(baselines_m.min()), float(baselines_m.max())],
        "mean_n_pairs_detecting_where_sensed": float(n_sensed.mean()) if n_sensed.size else 0.0,
        "range_resolution_m_percentiles_where_sensed": (
            {str(p): float(np.percentile(rres_sensed_m, p)) for p in (5, 50, 95)} if rres_sensed_m.size else {}),
    }


def _model_1_label(mode: str, with_beta: bool) -> str:
    """How a model-1 target's RCS enters the per-target KPIs of ``mode``'s maps (``with_beta``: the
    run's echoes carry model 1's bistatic term)."""
    if mode == "monostatic":
        return "model 1, mean"
    if with_beta:
        return "model 1, mean - 3 sin(beta/2) at each pixel's bistatic angle (eq. 7.9.2-2)"
    return "model 1, mean"


def _rcs_note(sensing: Sensing, rcs_dbsm: float) -> str:
    """What the RCS of the maps is, in words (``rcs_per_pixel`` of the KPIs)."""
    key = SENSING_TARGETS[sensing.target]
    if sensing.target_heading_deg is not None:
        angular = (f"sigma_M sigma_D of eq. 7.9.2-3 at each pixel's incident (target -> TX) and scattered "
                   f"(target -> RX) directions, heading {sensing.target_heading_deg:g} deg clockwise from north")
    elif key in RCS_MODEL_1:
        angular = (f"sigma_M = {rcs_dbsm:g} dBsm (model 1)" + (
            "; bistatic and TRP-UE echoes - 3 sin(beta/2) at each pixel's bistatic angle beta (eq. 7.9.2-2)"
            if sensing.model_1_bistatic else ""))
    else:
        angular = f"{rcs_dbsm:.2f} dBsm: monostatic pattern averaged over headings, zenith 90 deg" + (
            "; bistatic and TRP-UE echoes + the heading-averaged bistatic pattern at each pixel's bistatic angle, "
            "relative to it (eq. 7.9.2-3, bisector horizontal)" if sensing.model_2_bistatic else ", every pixel and pair")
    random = ("sigma_S at its mean E[sigma_S] = 1 (eq. 7.9.2-1)" if sensing.rcs_random == "expected" else
              "one clipped log-normal sigma_S per pixel and TRP / unordered pair (eq. 7.9.2-1, 7.9.4-1), "
              f"std {sigma_s_std_db(sensing.target):g} dB, from the scenario seed")
    return f"{angular}; {random}"


def run_sense(sensing: Sensing, *, terrain: Terrain | None = None, backend: Backend = "numba",
              progress: Progress | None = None, prune: bool = True) -> SenseRun:
    """Sensing maps, KPIs and the share trade-off of a scenario's ``sensing:`` block, per mode.

    Steps: the engine's RSRP, tile by tile (memory flat in the map's size) at the target height with a
    0 dBi receiver (same path loss, LOS, shadow fading and buildings as the coverage maps). Where every
    sector of a site has the same power per RE (the usual case), the engine's per-site maximum is
    enough and exact (adding a site constant commutes with the maximum); otherwise every sector's map.
    Then, in one pass per pixel (:mod:`cellscape.sensing._reduce`, numba or numpy like the engine):

    - monostatic: echo per sector (:func:`monostatic_echo_per_re_dbm`), best over a site's sectors;
    - bistatic: for each ordered pair of :func:`bistatic_pairs` (``max_baseline_m``), the best sector
      pair's echo (:func:`bistatic_echo_per_re_dbm`): max_a RSRP_a + max_b (RSRP_b - P_b) + const.

    Sensing SNR = echo + processing gain - noise per RE of the receiving gNB
    (``uplink.gnb_noise_figure_db``), n_subcarriers = 12 x the carrier's PRBs, n_symbols =
    :func:`sensing_symbols`; Pd at ``pfa`` of the best sector (pair). A site (pair) "detects" and a
    pixel is "sensed" where the echo reaches the SNR that ``pd_required`` needs
    (:func:`cellscape.sensing.detection.required_snr_db`; Pd is monotone in the SNR).

    The trade-off: a share s of every sector's time-frequency resources given to sensing is taken
    from the downlink, so the downlink throughput lost is the fraction s of each sector's (and each
    full-buffer user's) throughput; the curve reports that fraction, not a recomputed coverage run.

    ``terrain``: the DEM the scenario names, read at the edge (``cellscape.io.terrain.read_terrain``).
    ``prune``: compute, per block of pixels, only the sites that can matter there (:func:`_pruned_tiles`:
    the same maps; used where a site's sectors share one power per RE and sensing has symbols);
    False: every site at every pixel.

    Raises
    ------
    ScenarioError
        ``sensing.max_baseline_m: ...`` when a bistatic mode is asked for and no two sites are
        within the baseline; ``sensing.target_height_m: ...`` (:func:`sensing_scenario`).
    """
    sc = sensing.scenario
    scen = sensing_scenario(sensing)
    grid, site_xy_m = localize(scen)
    modes = sensing.modes
    n_sites = len(sc.sites)
    pair_tx = pair_rx = np.zeros(0, dtype=np.int64)
    baselines = np.zeros(0)
    if "bistatic" in modes:
        pair_tx, pair_rx, baselines = bistatic_pairs(site_xy_m, sensing.max_baseline_m)
        if pair_tx.size == 0:
            d = np.hypot(*(site_xy_m[:, None, :] - site_xy_m[None, :, :]).transpose(2, 0, 1))
            closest = float(np.min(d[~np.eye(n_sites, dtype=bool)])) if n_sites > 1 else math.nan
            raise ScenarioError(f"sensing.max_baseline_m: no two sites within {sensing.max_baseline_m:g} m for "
                                f"bistatic sensing ({n_sites} site(s); closest pair {closest:.0f} m)")
    want_ue = "trp_ue" in modes
    ue_pair_site = ue_pair_ue = np.zeros(0, dtype=np.int64)
    ue_baselines = np.zeros(0)
    ue_xyz = np.zeros((0, 3))
    if want_ue:
        ue_xy = site_positions_m([u.x for u in sensing.ues], [u.y for u in sensing.ues], scen, grid)
        ue_xyz = np.column_stack([ue_xy, [u.height_m for u in sensing.ues]])
        ue_pair_site, ue_pair_ue, ue_baselines = trp_ue_pairs(site_xy_m, ue_xy, sensing.max_baseline_m)
        if ue_pair_site.size == 0:
            d = np.hypot(site_xy_m[:, None, 0] - ue_xy[None, :, 0], site_xy_m[:, None, 1] - ue_xy[None, :, 1])
            raise ScenarioError(f"sensing.max_baseline_m: no site within {sensing.max_baseline_m:g} m of a sensing UE "
                                f"for TRP-UE sensing ({n_sites} site(s), {len(sensing.ues)} UE(s); closest "
                                f"{float(d.min()):.0f} m)")
        if ue_pair_site.size > MAX_TRP_UE_PAIRS:
            raise ScenarioError(f"sensing.ues: {ue_pair_site.size} TRP-UE pairs within max_baseline_m "
                                f"{sensing.max_baseline_m:g} m, more than {MAX_TRP_UE_PAIRS}; give fewer UEs or a "
                                f"shorter max_baseline_m")
    footprints = load_footprints(scen, grid)
    tiles = SectorTiles(scen, grid, site_xy_m, footprints=footprints, terrain=terrain, backend=backend)
    run = tiles.run
    carrier = sc.carrier
    fc_ghz, scs_khz = carrier.fc_ghz, carrier.scs_khz
    rcs_dbsm = sensing_target_rcs_dbsm(sensing.target)   # model 2: orientation-averaged (docs/sensing.md)
    n_sc = 12 * int(run.n_prb)
    nf_db = sc.uplink.gnb_noise_figure_db
    n_re_dbm = float(noise_per_re_dbm(scs_khz, nf_db))
    nf_ue_db = sc.receiver.noise_figure_db        # the UE noise figure (TR 38.901 Table 7.8-1: 9 dB default)
    n_re_ue_dbm = float(noise_per_re_dbm(scs_khz, nf_ue_db))
    sector_site = run.static.sector_site
    if np.any(np.diff(sector_site) < 0) or np.unique(sector_site).size != n_sites:
        raise AssertionError("the engine numbers sectors site by site")    # prepare() builds them so
    site_start = np.searchsorted(sector_site, np.arange(n_sites))
    p_re = np.asarray(tiles.tx_power_per_re_dbm, dtype=float)
    per_site = bool(np.all(p_re == p_re[site_start][sector_site]))      # one power per RE within each site
    background = None
    if sensing.background == "tr38901" and "monostatic" in modes:
        background = monostatic_background(sensing, p_re, n_re_dbm)
        rise = background["noise_rise_db"]
        per_site = per_site and bool(np.all(rise == rise[site_start][sector_site]))
    unit_site = np.arange(n_sites, dtype=np.int64) if per_site else sector_site.astype(np.int64)
    unit_p_re = p_re[site_start] if per_site else p_re
    # the echo is 2 RSRP + a constant per unit: that constant is the formula at RSRP = 0 dBm
    if background is None:
        mono_offset = np.asarray(monostatic_echo_per_re_dbm(0.0, unit_p_re, fc_ghz, rcs_dbsm), dtype=np.float32)
    else:   # SCNR = echo + G - 10 lg(N + C / S) = (echo - rise) + G - N: the rise joins the unit's constant
        unit_rise = background["noise_rise_db"][site_start] if per_site else background["noise_rise_db"]
        mono_offset = np.asarray(monostatic_echo_per_re_dbm(0.0, unit_p_re, fc_ghz, rcs_dbsm) - unit_rise,
                                 dtype=np.float32)
    bi_offset = float(bistatic_echo_per_re_dbm(0.0, 0.0, 0.0, fc_ghz, rcs_dbsm))
    snr_req_db = float(required_snr_db(sensing.pd_required, sensing.pfa, model=sensing.detector))
    n_sym = sensing_symbols(sensing.sensing_share, sensing.cpi_s, scs_khz)

    def gain_of(share: float) -> float:
        return processing_gain_db(n_sc, sensing_symbols(share, sensing.cpi_s, scs_khz))

    def echo_required_dbm(share: float, noise_dbm: float = n_re_dbm) -> float:
        """The echo per RE whose SNR reaches the required one (+inf without sensing symbols); ``noise_dbm``
        the receiver's noise per RE (the gNB's, or a UE's for TRP-UE)."""
        return snr_req_db - gain_of(share) + noise_dbm

    req_dbm = echo_required_dbm(sensing.sensing_share)
    bandwidth_hz = 12.0 * run.n_prb * scs_khz * 1e3
    want_mono, want_bi = "monostatic" in modes, "bistatic" in modes
    best = {m: np.full(grid.shape, -np.inf, dtype=np.float32) for m in modes}
    n_det = {m: np.zeros(grid.shape, dtype=np.float32) for m in modes}
    rres_bi = np.full(grid.shape, np.nan, dtype=np.float32) if want_bi else None
    rres_ue = np.full(grid.shape, np.nan, dtype=np.float32) if want_ue else None
    outdoor = np.ones(grid.shape, dtype=bool)
    site_h = np.array([s.height_m for s in sc.sites], dtype=float)
    site_xyz = np.column_stack([run.static.site_x_m, run.static.site_y_m, site_h])
    pixel_rcs = (PixelRcs(target=sensing.target, base_rcs_dbsm=rcs_dbsm, heading_deg=sensing.target_heading_deg,
                          draw=sensing.rcs_random == "draw", sigma_s_std_db=sigma_s_std_db(sensing.target),
                          seed=int(sc.seed), site_xyz_m=site_xyz, target_height_m=sensing.target_height_m,
                          model_1_beta=sensing.model_1_bistatic, model_2_beta=sensing.model_2_bistatic)
                 if sensing.per_pixel_rcs else None)
    trp_ue = (_TrpUe(ue_xyz, np.array([u.antenna_gain_dbi for u in sensing.ues], dtype=float), ue_pair_site,
                     ue_pair_ue, echo_required_dbm(sensing.sensing_share, n_re_ue_dbm), fc_ghz,
                     sensing.target_height_m) if want_ue else None)
    reducer = _Reducer(backend, n_sites, unit_site, unit_p_re, mono_offset, want_mono, req_dbm, pair_tx, pair_rx,
                       bi_offset, pixel_rcs, grid, trp_ue)
    # TRP-UE pairs are not in the pruning's bounds: every site at every pixel
    prune = per_site and prune and math.isfinite(req_dbm) and not want_ue
    stats = {"widened": 0, "site_pixels": 0}
    parts = _pruned_tiles(tiles, reducer, stats) if prune else _full_tiles(tiles, per_site, reducer)
    done = 0
    for window, red, indoor, tile_done in parts:
        rows, cols = window.rows, window.cols
        if want_mono:
            best["monostatic"][rows, cols] = red.mono_echo_dbm
            n_det["monostatic"][rows, cols] = red.mono_n_detecting
        if want_bi:
            best["bistatic"][rows, cols] = red.bi_echo_dbm
            n_det["bistatic"][rows, cols] = red.bi_n_detecting
            rres_bi[rows, cols] = bistatic_range_resolution_m(
                red.bi_pair, grid.x_centers_m(cols), grid.y_centers_m(rows), site_xyz[pair_tx], site_xyz[pair_rx],
                sensing.target_height_m, bandwidth_hz)
        if want_ue:
            best["trp_ue"][rows, cols] = red.ue_echo_dbm
            n_det["trp_ue"][rows, cols] = red.ue_n_detecting
            rres_ue[rows, cols] = bistatic_range_resolution_m(
                red.ue_pair, grid.x_centers_m(cols), grid.y_centers_m(rows), site_xyz[ue_pair_site],
                ue_xyz[ue_pair_ue], sensing.target_height_m, bandwidth_hz)
        outdoor[rows, cols] = ~indoor
        del red
        if tile_done:
            done += 1
            if progress is not None:
                progress(done, len(tiles.windows))

    pixel_km2 = grid.resolution_m ** 2 / 1e6
    outdoor_km2 = _area(outdoor, pixel_km2)
    dr_m = float(range_resolution_m(bandwidth_hz))

    def frac(km2):
        return km2 / outdoor_km2 if outdoor_km2 > 0 else 0.0 * km2

    def sensed_km2(echo: np.ndarray, share: float, shift_db: float = 0.0, noise_dbm: float = n_re_dbm) -> float:
        # float32 comparison, as the per-site counts of the kernel
        return _area(outdoor & (echo + np.float32(shift_db) >= np.float32(echo_required_dbm(share, noise_dbm))),
                     pixel_km2)

    maps = {}
    gain = gain_of(sensing.sensing_share)
    shares = np.asarray(sensing.share_sweep, dtype=float)
    for mode in modes:
        echo = best[mode]
        nf_mode_db, noise_mode_dbm = (nf_ue_db, n_re_ue_dbm) if mode == "trp_ue" else (nf_db, n_re_dbm)
        if math.isfinite(gain):
            snr = sensing_snr_db(echo, gain, scs_khz, nf_mode_db).astype(np.float32)
        else:
            snr = np.full(grid.shape, -np.inf, dtype=np.float32)
        pd = detection_probability(snr, sensing.pfa, model=sensing.detector).astype(np.float32)
        n = n_det[mode]
        rres = {"monostatic": np.full(grid.shape, np.float32(dr_m), dtype=np.float32), "bistatic": rres_bi,
                "trp_ue": rres_ue}[mode]
        for arr in (snr, pd, n, rres):
            arr[~outdoor] = np.nan
        sensed = outdoor & (n >= 1)
        area_km2 = _area(sensed, pixel_km2)
        per_target = {}
        for name, key in SENSING_TARGETS.items():   # same height: the echo shifts by the RCS difference
            beta_only = sensing.rcs_random != "draw" and sensing.target_heading_deg is None
            # monostatic: beta = 0, a constant shift; bistatic: model 1's term is shared by the model-1 targets
            shift_ok = beta_only and (mode == "monostatic" or (key in RCS_MODEL_1 and sensing.model_1_bistatic))
            if sensing.per_pixel_rcs and name != sensing.target and not shift_ok:
                continue     # another target's per-pixel RCS is not a constant shift of this run's
            target_rcs = sensing_target_rcs_dbsm(name)
            params = RCS_MODEL_1.get(key) or RCS_MODEL_2[key]
            km2 = sensed_km2(echo, sensing.sensing_share, target_rcs - rcs_dbsm, noise_mode_dbm)
            per_target[name] = {"rcs_dbsm": target_rcs, "target_height_m": sensing.target_height_m,
                                "sensed_area_km2": km2, "sensed_area_fraction": frac(km2),
                                "rcs": (_model_1_label(mode, sensing.model_1_bistatic) if key in RCS_MODEL_1 else
                                        "model 2, monostatic, averaged over headings (linear power), zenith 90 deg"
                                        + (", + its bistatic term at each pixel's beta"
                                           if mode != "monostatic" and sensing.model_2_bistatic else "")),
                                "source": params.source}
        sweep_km2 = np.array([sensed_km2(echo, s, 0.0, noise_mode_dbm) for s in shares])
        tradeoff = {
            "sensing_share": shares,
            "n_symbols": np.array([sensing_symbols(s, sensing.cpi_s, scs_khz) for s in shares], dtype=np.int64),
            "processing_gain_db": np.array([gain_of(s) for s in shares]),
            "sensed_area_km2": sweep_km2,
            "sensed_area_fraction": frac(sweep_km2),
            "dl_throughput_lost_fraction": shares.copy(),
        }
        snr_out = snr[outdoor & np.isfinite(snr)]
        n_sensed = n[sensed]
        k = {
            "sensed_area_km2": area_km2,
            "sensed_area_fraction": frac(area_km2),
            "sensing_snr_db_percentiles": ({str(p): float(np.percentile(snr_out, p)) for p in (5, 10, 50, 90, 95)}
                                           if snr_out.size else {}),
            "per_target": per_target,
        }
        if mode == "monostatic":
            k.update({"range_resolution_m": dr_m,
                      "mean_n_trp_detecting_where_sensed": float(n_sensed.mean()) if n_sensed.size else 0.0})
            if background is not None:
                k["background"] = {key: v for key, v in background.items() if key != "noise_rise_db"}
                k["background"].update({f"{name}_min_median_max": [float(np.min(v)), float(np.median(v)),
                                                                    float(np.max(v))]
                                         for name, v in (("background_per_re_dbm", background["per_re_dbm"]),
                                                         ("noise_rise_db", background["noise_rise_db"]))})
                del k["background"]["per_re_dbm"]
        elif mode == "trp_ue":
            k.update({
                "max_baseline_m": sensing.max_baseline_m,
                "n_pairs": int(ue_pair_site.size),
                "n_ues": len(sensing.ues),
                **_pair_kpis(ue_baselines, n_sensed, rres[sensed & np.isfinite(rres)]),
                "pairs": "(TX site, RX UE) within max_baseline_m; best sector of the TX site",
                "ue_noise_figure_db": nf_ue_db,
                "noise_per_re_dbm": n_re_ue_dbm,
                "ue_antenna": "omnidirectional, sensing.ues[].antenna_gain_dbi (default 0 dBi), at the UE's height_m",
                "target_ue_segment": ("free space (LOS, no shadow fading), at least 1 m: TR 38.901 V19.4.0 Case 5 "
                                      "(TR 38.858 A.3 UE-UE link) not implemented; optimistic where that segment "
                                      "is obstructed"),
                "self_interference": "none (TX and RX not co-located; direct TRP->UE signal assumed removed)",
            })
            if sensing.background != "none":
                k["background"] = ("not modelled: the TRP-UE background (Table 7.9.3-3, Case 2 TRP-UE link) is not "
                                   "built")
        else:
            k.update({
                "max_baseline_m": sensing.max_baseline_m,
                "n_pairs": int(pair_tx.size),
                **_pair_kpis(baselines, n_sensed, rres[sensed & np.isfinite(rres)]),
                "pairs": "ordered (TX site, RX site), different sites; best sector pair of each",
                "self_interference": "none (TX and RX not co-located; direct TX->RX signal assumed removed)",
            })
            if sensing.background != "none":
                k["background"] = ("not modelled: the bistatic background is the TRP-TRP link (TR 38.901 V19.4.0 "
                                   "Table 7.9.3-3, Case 1: TR 38.858 Clause A.3), not implemented here")
        maps[mode] = SensingMaps(mode=mode, sensing_snr_db=snr, detection_probability=pd, n_detecting=n,
                                 range_resolution_m=rres, kpis=k, tradeoff=tradeoff)

    kpis = {
        "mode": sensing.mode,
        "target": sensing.target,
        "rcs_dbsm": rcs_dbsm,
        "rcs_random": sensing.rcs_random,
        "target_heading_deg": sensing.target_heading_deg,
        "rcs_per_pixel": _rcs_note(sensing, rcs_dbsm),
        "target_height_m": sensing.target_height_m,
        "detector": sensing.detector,
        "pfa": sensing.pfa,
        "pd_required": sensing.pd_required,
        "required_snr_db": snr_req_db,
        "sensing_share": sensing.sensing_share,
        "cpi_s": sensing.cpi_s,
        "n_subcarriers": n_sc,
        "n_symbols": n_sym,
        "processing_gain_db": gain,
        "noise_per_re_dbm": n_re_dbm,
        "gnb_noise_figure_db": nf_db,
        "monostatic_velocity_resolution_m_s": float(velocity_resolution_m_s(fc_ghz, sensing.cpi_s)),
        "monostatic_max_unambiguous_range_m": float(max_unambiguous_range_m(scs_khz)),
        "outdoor_area_km2": outdoor_km2,
        "dl_throughput_lost_fraction": sensing.sensing_share,
        "dl_throughput_lost_note": ("a sensing share s takes the fraction s of every sector's time-frequency "
                                    "resources from the downlink: each sector's (and full-buffer user's) "
                                    "throughput falls by the fraction s"),
        **{m: maps[m].kpis for m in modes},
        "meta": {"n_sites": n_sites, "n_sectors": int(sector_site.size), "pixels": f"{grid.n_rows} x {grid.n_cols}",
                 "resolution_m": grid.resolution_m, "crs": grid.crs, "fc_ghz": fc_ghz, "scs_khz": scs_khz,
                 "n_prb": int(run.n_prb), "modes": list(modes), "targets": "outdoor pixels only",
                 "rsrp_units": "sites (one power per RE per site)" if per_site else "sectors",
                 "pruned": bool(prune),
                 "kept_site_fraction": (round(stats["site_pixels"] / max(1, grid.n_pixels * n_sites), 6)
                                        if prune else 1.0),
                 "blocks_widened": stats["widened"],
                 **{k: v for k, v in tiles.meta().items()
                    if isinstance(v, (str, int, float, bool)) and k not in ("noise_per_re_dbm", "dl_load_factor")}},
    }
    return SenseRun(sensing=sensing, grid=grid, maps=maps, kpis=kpis, sectors=run.sectors, footprints=footprints,
                    bistatic_pairs=(pair_tx, pair_rx, baselines) if want_bi else None,
                    trp_ue_pairs=(ue_pair_site, ue_pair_ue, ue_baselines) if want_ue else None)


__all__ = ["DETECTING_BAND", "MIN_UE_TARGET_DISTANCE_M", "SenseRun", "SensingMaps", "bistatic_echo_per_re_dbm",
           "bistatic_pairs", "monostatic_background", "trp_ue_pairs", "trp_ue_receive_db",
           "bistatic_range_resolution_m", "monostatic_echo_per_re_dbm", "processing_gain_db", "run_sense",
           "sensing_scenario", "sensing_symbols"]
