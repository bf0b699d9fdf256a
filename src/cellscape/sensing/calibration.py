"""The TR 38.901 V19 7.9.6.1 large-scale ISAC calibration with a UAV target (Table 7.9.6.1-1).

One drop places a small UAV (the sensing target, ST) and 30 terrestrial UEs in the centre cell of a
19-site UMa-AV layout and draws every large-scale quantity of the ISAC model (LOS state, path loss,
shadow fading of each STX-ST and ST-SRX segment, the monostatic background reference point) with
an explicit :class:`numpy.random.Generator`. For each sensing mode the N = 4 STX-SRX pairs with the
smallest target-channel coupling loss are kept (Table 7.9.6.1-1 "STX/SRX selection", note 1) and
their coupling losses are the calibration samples. Every formula comes from its home module
(:mod:`cellscape.propagation.aerial`, :mod:`cellscape.propagation.tr38901`,
:func:`cellscape.sensing.radar.target_coupling_loss_db`); this module only assembles them.

What Table 7.9.6.1-1 fixes, and how it is modelled here (see docs/validation.md, "ISAC"):

- scenario UMa-AV, ISD 500 m, BS height 25 m, 19 sites with a single 360-degree sector each
  ("Single 360-degree sector can be assumed"), BS and UT antennas single isotropic (0 dBi), so the
  coupling loss has no antenna term; no wrap-around ("No wrapping method is used if interference
  is not modelled"): every distance is the plain distance to the 19 sites;
- one target per drop, uniform over the centre cell (the hexagonal Voronoi cell of site 0), at
  a fixed 200 m height (Table 7.9.1-1 vertical option B); a height range (option A restricted to
  the aerial rows, 22.5 m < h <= 300 m) can be asked for instead. Minimum 3D distance STX/SRX to
  target 10 m (redrawn otherwise);
- 30 terrestrial outdoor UTs at 1.5 m, uniform over the centre cell, closer than 35 m (UMa,
  Table 7.8-1) to the centre site redrawn; aerial UTs (the table's other option) are not modelled;
- segments (Tables 7.9.3-1/-2, Case 4 and Case 7): TRP-ST as a TRP-aerial-UE link of UMa-AV
  (TR 36.777 Annex B, h_UT = target height, reused at 30 GHz); UE-ST as a UMi-AV TRP-aerial-UE
  link with h_BS = 1.5 m, LOS probability of UMi-AV with h_UT = target height (Table 7.9.3-4);
  TRP-UE (background of TRP-UE bistatic) as the TR 38.901 UMa TRP-UE link (Case 2);
- LOS state and shadow fading are drawn independently per segment; in monostatic sensing both
  segments share them (7.9.4.1 Step 4: "the large-scale parameters are identical");
- target coupling loss L = PL1 + PL2 + 10 lg(c^2 / (4 pi f^2)) - 10 lg(sigma_M) + SF1 + SF2 with
  sigma_M = -12.81 dBsm (Table 7.9.6.1-1 row "Coupling loss for target channel"); the random RCS
  component sigma_S belongs to the small-scale parameters and is not in the large-scale figure;
- background coupling loss: TRP monostatic, the loss between the TRP and one reference point
  (7.9.4.2 Step 2, Table 7.9.4.2-1 UMa Gamma parameters, NLOS, UMa TRP-UE link, Table 7.9.3-3);
  TRP-UE bistatic, the UMa TRP-UE link. The TRP-TRP and UE-UE background links follow TR 38.858
  Clause A.3, which this package does not implement: those two are not computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from cellscape._validate import check_range
from cellscape.errors import InvalidChoiceError
from cellscape.propagation import aerial, tr38901
from cellscape.scenario.layouts import hexagonal_site_positions_m
from cellscape.sensing.radar import target_coupling_loss_db

__all__ = [
    "SPEC", "TABLE_UAV_LARGE_SCALE", "ISAC_CALIBRATION_FREQUENCIES_GHZ", "LINKS", "METRICS", "PERCENTILES",
    "IsacCalibrationAssumptions", "IsacPercentileRow", "IsacCalibrationResult", "isac_calibration_assumptions",
    "draw_points_in_centre_cell_m", "trp_target_segment", "ue_target_segment", "trp_ue_segment",
    "monostatic_reference_point_segment", "best_pairs", "run_isac_calibration",
]

SPEC = "3GPP TR 38.901 V19.4.0"
TABLE_UAV_LARGE_SCALE = f"{SPEC} Table 7.9.6.1-1"
_TABLE_RP = f"{SPEC} 7.9.4.2 Step 2, Table 7.9.4.2-1"

ISAC_CALIBRATION_FREQUENCIES_GHZ: tuple[float, ...] = (6.0, 30.0)
"""Carrier frequencies of Table 7.9.6.1-1 (FR1 6 GHz, FR2 30 GHz) [GHz]."""

LINKS: tuple[str, ...] = ("trp_monostatic", "trp_trp_bistatic", "trp_ue_bistatic", "ue_ue_bistatic")
"""Sensing modes of Table 7.9.6.1-1, in the order the CSV lists them."""

METRICS: tuple[str, ...] = ("target_coupling_loss_db", "background_coupling_loss_db")
"""Metrics of Table 7.9.6.1-1 (note 2: separate CDFs for the target and the background channel)."""

PERCENTILES: tuple[int, ...] = tuple(range(0, 101, 5))
"""Percentiles tabulated: 0, 5, ..., 100 [%] (0 and 100 are the sample minimum and maximum)."""

_BACKGROUND_LINKS = ("trp_monostatic", "trp_ue_bistatic")   # the others need TR 38.858 A.3 (not built)
_CHUNK_DROPS = 2000                                          # drops per vectorised block (bounded memory)

# Table 7.9.4.2-1, row "UMa": shape alpha, rate beta and offset c of the RP 2D distance and height.
_RP_UMA = {"alpha_d": 10.3370, "beta_d": 0.1317, "c_d": 68.7778, "alpha_h": 16.2253, "beta_h": 1.9218,
           "c_h": 2.6142}


@dataclass(frozen=True)
class IsacCalibrationAssumptions:
    """The set-up of Table 7.9.6.1-1 (UAV, large scale) at one carrier frequency.

    Lengths in m, powers in dBm, RCS in dBsm. ``target_height_m`` is either one height or a
    (low, high) range drawn uniformly; the aerial path-loss rows need 22.5 < h <= 300.
    """

    fc_ghz: float
    isd_m: float = 500.0
    h_bs_m: float = 25.0
    n_rings: int = 2                        # 19 sites
    n_ues: int = 30                         # "overall number of UTs is 30 ... in the center cell"
    h_ue_m: float = 1.5
    min_ue_d2d_m: float = 35.0              # Table 7.8-1 UMa minimum BS-UT distance
    target_height_m: float | tuple[float, float] = 200.0
    rcs_mean_dbsm: float = -12.81           # sigma_M of a small UAV
    min_target_d3d_m: float = 10.0
    n_best_pairs: int = 4
    bs_tx_power_dbm: float = 56.0
    bandwidth_mhz: float = 100.0
    bs_noise_figure_db: float = 5.0
    ue_noise_figure_db: float = 9.0
    source: str = field(default=TABLE_UAV_LARGE_SCALE)


def isac_calibration_assumptions(fc_ghz: float) -> IsacCalibrationAssumptions:
    """
    The Table 7.9.6.1-1 assumptions at ``fc_ghz`` (6 or 30 GHz).

    Parameters
    ----------
    fc_ghz : {6, 30}
        Carrier frequency. [GHz]

    Returns
    -------
    IsacCalibrationAssumptions
        FR1: 56 dBm, 100 MHz, NF 5/9 dB; FR2: 41 dBm, 400 MHz, NF 7/10 dB (BS/UT).

    Raises
    ------
    InvalidChoiceError
        If ``fc_ghz`` is not 6 or 30; the message lists them.

    References
    ----------
    .. [1] 3GPP TR 38.901 V19.4.0, Table 7.9.6.1-1.

    Examples
    --------
    >>> a = isac_calibration_assumptions(30)
    >>> a.bs_tx_power_dbm, a.bandwidth_mhz, a.target_height_m
    (41.0, 400.0, 200.0)
    """
    fc = float(fc_ghz)
    if fc not in ISAC_CALIBRATION_FREQUENCIES_GHZ:
        raise InvalidChoiceError(f"fc_ghz={fc_ghz!r} is not a frequency of {TABLE_UAV_LARGE_SCALE}; "
                                 f"choose one of 6, 30")
    if fc == 6.0:
        return IsacCalibrationAssumptions(fc_ghz=fc)
    return IsacCalibrationAssumptions(fc_ghz=fc, bs_tx_power_dbm=41.0, bandwidth_mhz=400.0, bs_noise_figure_db=7.0,
                                      ue_noise_figure_db=10.0)


class IsacPercentileRow(NamedTuple):
    """One row of the ISAC calibration table: ``metric`` of ``link`` at ``percentile`` [%] is ``value`` [dB]."""

    link: str
    metric: str
    percentile: int
    value: float


# --------------------------------------------------------------------------------------------
# Geometry


def draw_points_in_centre_cell_m(size: int, isd_m: float, *, rng: np.random.Generator,
                                 site_x_m=None, site_y_m=None):
    """
    Points uniform over the centre cell: the Voronoi (hexagonal) cell of the site at the origin.

    Parameters
    ----------
    size : int
        Number of points, >= 0.
    isd_m : float
        Inter-site distance. [m]
    rng : numpy.random.Generator
        The only source of randomness.
    site_x_m, site_y_m : array_like, optional
        Site positions (default: the 19-site hexagonal lattice of ``isd_m``); the first is the centre.

    Returns
    -------
    x_m, y_m : ndarray, shape (size,)
        Positions relative to the centre site. [m]

    Examples
    --------
    >>> x, y = draw_points_in_centre_cell_m(1000, 500.0, rng=np.random.default_rng(0))
    >>> bool(np.all(np.hypot(x, y) <= 500.0 / np.sqrt(3) + 1e-9))
    True
    """
    if site_x_m is None:
        site_x_m, site_y_m = hexagonal_site_positions_m(isd_m)
    sx, sy = np.asarray(site_x_m, float), np.asarray(site_y_m, float)
    radius = isd_m / np.sqrt(3.0)                                  # hexagon circumradius
    out_x, out_y = np.empty(0), np.empty(0)
    while out_x.size < size:
        k = max(2 * (size - out_x.size), 16)
        r = radius * np.sqrt(rng.uniform(size=k))
        a = rng.uniform(0.0, 2.0 * np.pi, size=k)
        x, y = r * np.cos(a), r * np.sin(a)
        d2 = (x[:, None] - sx[None, :]) ** 2 + (y[:, None] - sy[None, :]) ** 2      # (k, n_sites)
        keep = np.argmin(d2, axis=1) == 0
        out_x, out_y = np.concatenate([out_x, x[keep]]), np.concatenate([out_y, y[keep]])
    return out_x[:size], out_y[:size]


# --------------------------------------------------------------------------------------------
# Segments: path loss, shadow fading and LOS state of one link type


def _masked(fn, los, *arrays):
    """Evaluate ``fn(*arrays)`` only where ``los`` selects, NaN elsewhere (rows with validity limits)."""
    out = np.full(los.shape, np.nan)
    if np.any(los):
        out[los] = fn(*(np.broadcast_to(a, los.shape)[los] for a in arrays))
    return out


def trp_target_segment(d2d_m, h_target_m, fc_ghz, *, h_bs_m: float = 25.0, rng: np.random.Generator):
    """
    Draw LOS state, path loss and shadow fading of TRP-UAV segments (Case 4: UMa-AV TRP-aerial UE).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal TRP-target distance, <= 4 km. [m]
    h_target_m : array_like
        Target (scattering point) height, 22.5 < h <= 300, broadcast with ``d2d_m``. [m]
    fc_ghz : float
        Carrier frequency; the FR1 model is reused at FR2 (Table 7.9.3-1 Case 4). [GHz]
    h_bs_m : float, default 25.0
        TRP height. [m]
    rng : numpy.random.Generator
        Source of the LOS and shadow-fading draws.

    Returns
    -------
    path_loss_db, shadow_fading_db : ndarray
        Broadcast shape of the inputs. [dB]
    los : ndarray of bool

    Raises
    ------
    OutOfValidityRangeError
        If a height is outside (22.5, 300] or a distance beyond 4 km.

    References
    ----------
    .. [1] 3GPP TR 38.901 V19.4.0, Tables 7.9.3-1 (Case 4) and 7.9.3-2.
    .. [2] 3GPP TR 36.777 V15.0.0, Annex B, Tables B-1 to B-3 (UMa-AV).

    Examples
    --------
    >>> pl, sf, los = trp_target_segment(np.array([100.0]), 200.0, 6.0, rng=np.random.default_rng(0))
    >>> bool(los[0]), round(float(pl[0]), 2)   # 28 + 22 lg d3D + 20 lg fc, d3D = sqrt(100^2 + 175^2)
    (True, 94.26)
    """
    d2d = np.asarray(d2d_m, float)
    h = np.broadcast_to(np.asarray(h_target_m, float), np.broadcast_shapes(d2d.shape, np.shape(h_target_m)))
    d2d = np.broadcast_to(d2d, h.shape)
    los = rng.uniform(size=h.shape) < aerial.los_probability("UMa-AV", d2d, h)
    pl = np.where(los, _masked(lambda d, z: aerial.path_loss_db("UMa-AV", d, h_bs_m, z, fc_ghz, True), los, d2d, h),
                  _masked(lambda d, z: aerial.path_loss_db("UMa-AV", d, h_bs_m, z, fc_ghz, False), ~los, d2d, h))
    std = np.where(los, _masked(lambda z: aerial.shadow_fading_std_db("UMa-AV", True, z), los, h),
                   _masked(lambda z: aerial.shadow_fading_std_db("UMa-AV", False, z), ~los, h))
    return pl, rng.standard_normal(h.shape) * std, los


def ue_target_segment(d2d_m, h_target_m, fc_ghz, *, h_ue_m: float = 1.5, rng: np.random.Generator):
    """
    Draw LOS state, path loss and shadow fading of UE-UAV segments (Case 7: terrestrial UE - aerial UE).

    Case 7 takes the UMi-AV TRP-aerial UE link of TR 36.777 with h_BS = 1.5 m (the terrestrial UE),
    and Table 7.9.3-4 the UMi-AV LOS probability with h_UT = the aerial height (22.5 m < h <= 300 m).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal UE-target distance, <= 4 km. [m]
    h_target_m : array_like
        Target height, 22.5 < h <= 300. [m]
    fc_ghz : float
        Carrier frequency (FR1 model reused at FR2). [GHz]
    h_ue_m : float, default 1.5
        Terrestrial UE height, in the role of h_BS. [m]
    rng : numpy.random.Generator

    Returns
    -------
    path_loss_db, shadow_fading_db : ndarray
        [dB]
    los : ndarray of bool

    References
    ----------
    .. [1] 3GPP TR 38.901 V19.4.0, Tables 7.9.3-1 (Case 7), 7.9.3-2 and 7.9.3-4.
    .. [2] 3GPP TR 36.777 V15.0.0, Annex B, Tables B-1 to B-3 (UMi-AV).

    Examples
    --------
    >>> pl, sf, los = ue_target_segment(np.array([10.0]), 200.0, 6.0, rng=np.random.default_rng(0))
    >>> bool(los[0])          # d2D below d1 of Table B-1: LOS for sure
    True
    """
    d2d = np.asarray(d2d_m, float)
    h = np.broadcast_to(np.asarray(h_target_m, float), np.broadcast_shapes(d2d.shape, np.shape(h_target_m)))
    d2d = np.broadcast_to(d2d, h.shape)
    los = rng.uniform(size=h.shape) < aerial.los_probability("UMi-AV", d2d, h)
    pl = np.where(los, _masked(lambda d, z: aerial.path_loss_db("UMi-AV", d, h_ue_m, z, fc_ghz, True), los, d2d, h),
                  _masked(lambda d, z: aerial.path_loss_db("UMi-AV", d, h_ue_m, z, fc_ghz, False), ~los, d2d, h))
    std = np.where(los, _masked(lambda z: aerial.shadow_fading_std_db("UMi-AV", True, z), los, h),
                   _masked(lambda z: aerial.shadow_fading_std_db("UMi-AV", False, z), ~los, h))
    return pl, rng.standard_normal(h.shape) * std, los


def trp_ue_segment(d2d_m, fc_ghz, *, h_bs_m: float = 25.0, h_ue_m=1.5, los=None, rng: np.random.Generator):
    """
    Draw LOS state, path loss and shadow fading of TRP-terrestrial UE links (Case 2: TR 38.901 UMa).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal distance, 10 m to 5 km. [m]
    fc_ghz : float
        Carrier frequency. [GHz]
    h_bs_m : float, default 25.0
        TRP height. [m]
    h_ue_m : array_like, default 1.5
        UE (or reference-point) height, 1.5 to 22.5 m, broadcast with ``d2d_m``. [m]
    los : array_like of bool, optional
        Force the LOS state (e.g. ``False`` for the NLOS reference points of 7.9.4.2); drawn from
        the UMa LOS probability when omitted.
    rng : numpy.random.Generator

    Returns
    -------
    path_loss_db, shadow_fading_db : ndarray
        [dB]
    los : ndarray of bool

    References
    ----------
    .. [1] 3GPP TR 38.901 V19.4.0, Table 7.9.3-1 (Case 2), Tables 7.4.1-1 and 7.4.2-1 (UMa).

    Examples
    --------
    >>> pl, sf, los = trp_ue_segment(np.array([200.0]), 6.0, los=np.array([False]), rng=np.random.default_rng(0))
    >>> bool(los[0]), bool(pl[0] > 100)
    (False, True)
    """
    d2d = np.asarray(d2d_m, float)
    h_ue = np.broadcast_to(np.asarray(h_ue_m, float), np.broadcast_shapes(d2d.shape, np.shape(h_ue_m)))
    d2d = np.broadcast_to(d2d, h_ue.shape)
    if los is None:
        los = rng.uniform(size=d2d.shape) < tr38901.los_probability("UMa", d2d, h_ue)
    los = np.broadcast_to(np.asarray(los, bool), d2d.shape)
    h_e = tr38901.uma_effective_environment_height_m(d2d, h_ue, rng=rng)
    pl = tr38901.path_loss_db("UMa", d2d, h_bs_m, h_ue, fc_ghz, los, h_e_m=h_e)
    sf = rng.standard_normal(d2d.shape) * tr38901.shadow_fading_std_db("UMa", los)
    return pl, sf, los


def monostatic_reference_point_segment(size, fc_ghz, *, h_bs_m: float = 25.0, rng: np.random.Generator):
    """
    Draw one background reference point per TRP and the TRP-RP path loss and shadow fading.

    The RP's 2D distance and height are G(alpha_d, beta_d) + c_d and G(alpha_h, beta_h) + c_h
    (shape-rate Gamma, Table 7.9.4.2-1 row UMa), the link is NLOS and follows the UMa TRP-UE model
    (the RP is treated as a terrestrial UE, Table 7.9.3-3). The height is kept inside the UMa row's
    1.5 to 22.5 m (the Gamma law puts it at 11 +/- 2 m; the clip is practically never active).

    Parameters
    ----------
    size : int or tuple of int
        Number (shape) of reference points.
    fc_ghz : float
        Carrier frequency. [GHz]
    h_bs_m : float, default 25.0
    rng : numpy.random.Generator

    Returns
    -------
    path_loss_db, shadow_fading_db, d2d_m, h_rp_m : ndarray
        Shape ``size``. [dB], [dB], [m], [m]

    References
    ----------
    .. [1] 3GPP TR 38.901 V19.4.0, 7.9.4.2 Step 2 and Table 7.9.4.2-1; Table 7.9.6.1-1 ("in case
       of monostatic sensing, this is the coupling loss between Tx and one reference point").

    Examples
    --------
    >>> pl, sf, d, h = monostatic_reference_point_segment(20_000, 6.0, rng=np.random.default_rng(0))
    >>> round(float(d.mean())), round(float(h.mean()))     # 10.337/0.1317 + 68.78; 16.23/1.92 + 2.61
    (147, 11)
    """
    p = _RP_UMA
    d2d = rng.gamma(p["alpha_d"], 1.0 / p["beta_d"], size) + p["c_d"]
    h = np.clip(rng.gamma(p["alpha_h"], 1.0 / p["beta_h"], size) + p["c_h"], 1.5, 22.5)
    pl, sf, _ = trp_ue_segment(d2d, fc_ghz, h_bs_m=h_bs_m, h_ue_m=h, los=np.zeros(np.shape(d2d), bool), rng=rng)
    return pl, sf, d2d, h


def best_pairs(coupling_loss_db, n: int) -> np.ndarray:
    """
    Indices of the ``n`` smallest coupling losses along the last axis (Table 7.9.6.1-1 note 1).

    Parameters
    ----------
    coupling_loss_db : array_like, shape (..., n_pairs)
    n : int
        Pairs kept, 1 <= n <= n_pairs.

    Returns
    -------
    ndarray of int, shape (..., n)
        Sorted by increasing coupling loss.

    Examples
    --------
    >>> best_pairs(np.array([[5.0, 1.0, 3.0, 2.0]]), 2).tolist()
    [[1, 3]]
    """
    cl = np.asarray(coupling_loss_db, float)
    n = int(check_range("n", n, 1, cl.shape[-1], source=TABLE_UAV_LARGE_SCALE))
    idx = np.argpartition(cl, n - 1, axis=-1)[..., :n]
    order = np.argsort(np.take_along_axis(cl, idx, axis=-1), axis=-1)
    return np.take_along_axis(idx, order, axis=-1)


# --------------------------------------------------------------------------------------------
# The calibration


@dataclass(frozen=True, eq=False)
class IsacCalibrationResult:
    """Outcome of :func:`run_isac_calibration`.

    ``samples[(link, metric)]`` holds the coupling losses of the selected pairs [dB], shape
    (n_drops * n_best_pairs,); background metrics exist only for the links of
    ``_BACKGROUND_LINKS``. ``los_fraction[(link, segment)]`` is the share of LOS segments among the
    selected pairs (a check of the LOS-probability laws). ``target_x_m``, ``target_y_m``,
    ``target_h_m`` are the target positions (centre site at the origin) [m].
    """

    fc_ghz: float
    n_drops: int
    assumptions: IsacCalibrationAssumptions
    samples: dict[tuple[str, str], np.ndarray]
    los_fraction: dict[tuple[str, str], float]
    target_x_m: np.ndarray
    target_y_m: np.ndarray
    target_h_m: np.ndarray
    source: str

    def percentiles(self, percentiles=PERCENTILES) -> list[IsacPercentileRow]:
        """Rows (link, metric, percentile, value) in the order of :data:`LINKS` and :data:`METRICS`.

        Percentiles use numpy's default (linear) interpolation between order statistics.

        >>> r = run_isac_calibration(6.0, 20, 0)
        >>> rows = r.percentiles()
        >>> len(rows), rows[0][:3]
        (126, ('trp_monostatic', 'target_coupling_loss_db', 0))
        """
        p = [int(v) for v in percentiles]
        check_range("percentile", p, 0, 100, source="a percentile")
        rows: list[IsacPercentileRow] = []
        for link in LINKS:
            for metric in METRICS:
                values = self.samples.get((link, metric))
                if values is None:
                    continue
                rows.extend(IsacPercentileRow(link, metric, q, float(v)) for q, v in zip(p, np.percentile(values, p)))
        return rows


def _target_heights(a: IsacCalibrationAssumptions, n: int, rng: np.random.Generator) -> np.ndarray:
    low_ok = float(np.nextafter(aerial.MIN_AERIAL_HEIGHT_M["UMa-AV"], np.inf))
    spec = a.target_height_m
    if np.ndim(spec) == 0:
        h = float(check_range("target_height_m", spec, low_ok, aerial.MAX_AERIAL_HEIGHT_M, source=a.source))
        return np.full(n, h)
    low, high = (float(v) for v in spec)
    check_range("target_height_m", [low, high], low_ok, aerial.MAX_AERIAL_HEIGHT_M, source=a.source)
    if high < low:
        raise InvalidChoiceError(f"target_height_m range ({low:g}, {high:g}) is empty: low must not exceed high")
    return rng.uniform(low, high, size=n)


def run_isac_calibration(fc_ghz: float, n_drops: int, seed, *,
                         assumptions: IsacCalibrationAssumptions | None = None) -> IsacCalibrationResult:
    """
    Run the TR 38.901 7.9.6.1 large-scale calibration for UAV sensing targets (Table 7.9.6.1-1).

    Parameters
    ----------
    fc_ghz : {6, 30}
        Carrier frequency. [GHz]
    n_drops : int
        Number of drops, >= 1; each drops one target and 30 UEs and contributes the N = 4 best
        pairs of every sensing mode, so each CDF has 4 n_drops samples.
    seed : int or numpy.random.Generator
        The only source of randomness (``numpy.random.default_rng(seed)``): the same seed gives the
        same result.
    assumptions : IsacCalibrationAssumptions, optional
        Another set-up (e.g. a height range for the target); its ``fc_ghz`` must equal ``fc_ghz``.

    Returns
    -------
    IsacCalibrationResult
        Samples per (link, metric); :meth:`IsacCalibrationResult.percentiles` tabulates them.

    Raises
    ------
    InvalidChoiceError
        If ``fc_ghz`` is not a Table 7.9.6.1-1 frequency, or differs from the assumptions'.
    OutOfValidityRangeError
        If ``n_drops`` < 1 or the target height leaves (22.5, 300] m.

    Notes
    -----
    Memory scales as n_drops x (19 x 30 + 30 x 29 / 2) links; 10 000 drops run in a few seconds.

    References
    ----------
    .. [1] 3GPP TR 38.901 V19.4.0, 7.9.3, 7.9.4.1 (Steps 2-4, 15), 7.9.4.2 and Table 7.9.6.1-1.

    Examples
    --------
    >>> r = run_isac_calibration(6.0, 50, 1)
    >>> r.samples[("trp_monostatic", "target_coupling_loss_db")].shape
    (200,)
    """
    a = isac_calibration_assumptions(fc_ghz) if assumptions is None else assumptions
    if float(a.fc_ghz) != float(fc_ghz):
        raise InvalidChoiceError(f"fc_ghz={fc_ghz!r} differs from the assumptions' {a.fc_ghz:g} GHz ({a.source})")
    n = int(check_range("n_drops", n_drops, 1, np.inf, source="run_isac_calibration"))
    rng = np.random.default_rng(seed)
    chunks = [_drop_chunk(a, min(_CHUNK_DROPS, n - start), rng) for start in range(0, n, _CHUNK_DROPS)]
    samples = {key: np.concatenate([c[0][key] for c in chunks]) for key in chunks[0][0]}
    los_fraction = {key: float(np.concatenate([c[1][key] for c in chunks]).mean()) for key in chunks[0][1]}
    t_x, t_y, h_t = (np.concatenate([c[2][i] for c in chunks]) for i in range(3))
    fc = float(a.fc_ghz)
    return IsacCalibrationResult(fc_ghz=fc, n_drops=n, assumptions=a, samples=samples, los_fraction=los_fraction,
                                 target_x_m=t_x, target_y_m=t_y, target_h_m=h_t,
                                 source=f"{a.source} (large-scale ISAC calibration, UAV, UMa-AV, {fc:g} GHz)")


def _drop_chunk(a: IsacCalibrationAssumptions, n: int, rng: np.random.Generator):
    """``n`` drops: (samples, LOS indicators of the selected segments, (target x, y, h))."""
    fc = float(a.fc_ghz)
    sx, sy = hexagonal_site_positions_m(a.isd_m, n_rings=a.n_rings)          # (S,)
    n_sites, n_ues, k = sx.size, a.n_ues, a.n_best_pairs

    # --- drop: target per drop, UEs per drop --------------------------------------------------
    h_t = _target_heights(a, n, rng)                                         # (n,)
    t_x, t_y = draw_points_in_centre_cell_m(n, a.isd_m, rng=rng, site_x_m=sx, site_y_m=sy)
    while True:                                                              # min 3D distance to the TRPs
        d3 = np.sqrt((t_x[:, None] - sx) ** 2 + (t_y[:, None] - sy) ** 2 + (h_t[:, None] - a.h_bs_m) ** 2)
        bad = np.flatnonzero(d3.min(axis=1) < a.min_target_d3d_m)
        if not bad.size:
            break
        t_x[bad], t_y[bad] = draw_points_in_centre_cell_m(bad.size, a.isd_m, rng=rng, site_x_m=sx, site_y_m=sy)
    u_x, u_y = draw_points_in_centre_cell_m(n * n_ues, a.isd_m, rng=rng, site_x_m=sx, site_y_m=sy)
    while True:                                                              # min 2D distance to the centre TRP
        bad = np.flatnonzero(np.hypot(u_x, u_y) < a.min_ue_d2d_m)
        if not bad.size:
            break
        u_x[bad], u_y[bad] = draw_points_in_centre_cell_m(bad.size, a.isd_m, rng=rng, site_x_m=sx, site_y_m=sy)
    u_x, u_y = u_x.reshape(n, n_ues), u_y.reshape(n, n_ues)                 # (n, U)
    # UEs are at 1.5 m and targets above 22.5 m: the UE-target 3D distance always exceeds 21 m.

    # --- segments ---------------------------------------------------------------------------------
    d_tt = np.hypot(t_x[:, None] - sx, t_y[:, None] - sy)                    # (n, S) TRP-target
    pl_tt, sf_tt, los_tt = trp_target_segment(d_tt, h_t[:, None], fc, h_bs_m=a.h_bs_m, rng=rng)
    d_ut = np.hypot(u_x - t_x[:, None], u_y - t_y[:, None])                  # (n, U) UE-target
    pl_ut, sf_ut, los_ut = ue_target_segment(d_ut, h_t[:, None], fc, h_ue_m=a.h_ue_m, rng=rng)
    d_tu = np.hypot(u_x[:, None, :] - sx[None, :, None], u_y[:, None, :] - sy[None, :, None])   # (n, S, U)
    pl_tu, sf_tu, los_tu = trp_ue_segment(d_tu, fc, h_bs_m=a.h_bs_m, h_ue_m=a.h_ue_m, rng=rng)

    def cl(pl1, pl2, sf1, sf2):
        return target_coupling_loss_db(pl1, pl2, a.rcs_mean_dbsm, fc, shadow_fading_tx_db=sf1,
                                       shadow_fading_rx_db=sf2)

    samples: dict[tuple[str, str], np.ndarray] = {}
    los: dict[tuple[str, str], np.ndarray] = {}
    rows = np.arange(n)[:, None]

    # TRP monostatic: same TRP transmits and receives, both segments share LOS state and SF.
    cl_mono = cl(pl_tt, pl_tt, sf_tt, sf_tt)                                 # (n, S)
    sel = best_pairs(cl_mono, k)                                             # (n, k)
    samples[("trp_monostatic", "target_coupling_loss_db")] = cl_mono[rows, sel].ravel()
    pl_rp, sf_rp, _, _ = monostatic_reference_point_segment((n, k), fc, h_bs_m=a.h_bs_m, rng=rng)
    samples[("trp_monostatic", "background_coupling_loss_db")] = (pl_rp + sf_rp).ravel()
    los[("trp_monostatic", "trp_target")] = los_tt[rows, sel].ravel()

    # TRP-TRP bistatic: unordered pairs of distinct TRPs (the large-scale loss is reciprocal).
    i, j = np.triu_indices(n_sites, k=1)
    cl_tt = cl(pl_tt[:, i], pl_tt[:, j], sf_tt[:, i], sf_tt[:, j])          # (n, S(S-1)/2)
    sel = best_pairs(cl_tt, k)
    samples[("trp_trp_bistatic", "target_coupling_loss_db")] = cl_tt[rows, sel].ravel()
    los[("trp_trp_bistatic", "trp_target")] = np.concatenate(
        [los_tt[rows, i[sel]], los_tt[rows, j[sel]]]).ravel()

    # TRP-UE bistatic: every TRP with every UE; background = the TRP-UE link itself.
    cl_tu = cl(pl_tt[:, :, None], pl_ut[:, None, :], sf_tt[:, :, None], sf_ut[:, None, :]).reshape(n, -1)
    sel = best_pairs(cl_tu, k)                                               # flat index s * U + u
    s_sel, u_sel = np.divmod(sel, n_ues)
    samples[("trp_ue_bistatic", "target_coupling_loss_db")] = cl_tu[rows, sel].ravel()
    samples[("trp_ue_bistatic", "background_coupling_loss_db")] = (
        pl_tu[rows, s_sel, u_sel] + sf_tu[rows, s_sel, u_sel]).ravel()
    los[("trp_ue_bistatic", "trp_target")] = los_tt[rows, s_sel].ravel()
    los[("trp_ue_bistatic", "ue_target")] = los_ut[rows, u_sel].ravel()
    los[("trp_ue_bistatic", "trp_ue")] = los_tu[rows, s_sel, u_sel].ravel()

    # UE-UE bistatic: unordered pairs of distinct UEs.
    p, q = np.triu_indices(n_ues, k=1)
    cl_uu = cl(pl_ut[:, p], pl_ut[:, q], sf_ut[:, p], sf_ut[:, q])
    sel = best_pairs(cl_uu, k)
    samples[("ue_ue_bistatic", "target_coupling_loss_db")] = cl_uu[rows, sel].ravel()
    los[("ue_ue_bistatic", "ue_target")] = np.concatenate(
        [los_ut[rows, p[sel]], los_ut[rows, q[sel]]]).ravel()

    return samples, los, (t_x, t_y, h_t)
