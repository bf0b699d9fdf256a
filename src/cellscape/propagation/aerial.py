"""Path loss, LOS probability and shadow fading of aerial UEs (UAVs): 3GPP TR 36.777 V15.0.0 Annex B.

The scenarios RMa-AV, UMa-AV and UMi-AV extend TR 38.901's RMa, UMa and UMi above a height
threshold (10 m for RMa-AV, 22.5 m for UMa-AV and UMi-AV): below it the annex defers to TR 38.901
Tables 7.4.1-1 and 7.4.2-1 (:mod:`cellscape.propagation.tr38901`); above it, up to 300 m, these
functions apply. One function per table row; lengths in m, fc in GHz, losses in dB. The height
threshold is exclusive (``h_ut_m`` must exceed it) and every function raises for a height outside
its row, naming the TR 38.901 function to use instead.

The formulas were checked against the transcription of TR 36.777 V15.0.0 Annex B in
MehdiZD97/3gpp-tr-library (``TR-36.777/v15.0.0/annex-b-channel-modelling``, marked verified
against the 3GPP PDF), not against the 3GPP document itself. Tables (numbering of V15.0.0):
B-1 LOS probability, B-2 path loss, B-3 shadow-fading spread. The annex's "[4]" is TR 38.901
V14.0.0. TR 36.777 studies LTE bands; the formulas take fc in GHz and state no frequency range,
so only fc > 0 is checked. Rel-19 TR 38.901 7.9 (ISAC, Tables 7.9.3-1/-2) points to these same
aerial models for UAV targets.

The map engine uses them for a receiver above the threshold (cellscape.coverage.tables, whose
docstring states how the tables fill the rows' gaps; docs/sensing.md, "UAV targets").
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from cellscape._validate import OutOfRange, apply_range, check_choice, check_range

SPEC = "3GPP TR 36.777 V15.0.0"
_TABLE_LOS = f"{SPEC} Table B-1"
_TABLE_PL = f"{SPEC} Table B-2"
_TABLE_SF = f"{SPEC} Table B-3"

AerialScenario = Literal["RMa-AV", "UMa-AV", "UMi-AV"]
AERIAL_SCENARIOS: tuple[str, ...] = ("RMa-AV", "UMa-AV", "UMi-AV")

MIN_AERIAL_HEIGHT_M = {"RMa-AV": 10.0, "UMa-AV": 22.5, "UMi-AV": 22.5}
"""Heights above which Annex B's own formulas apply (exclusive); at or below, TR 38.901 [m]."""

MAX_AERIAL_HEIGHT_M = 300.0
"""Top of every aerial row [m]."""

MAX_D2D_M = {"RMa-AV": 10_000.0, "UMa-AV": 4_000.0, "UMi-AV": 4_000.0}
"""Largest 2-D distance of the Table B-2 rows [m]."""


def _above(x: float) -> float:
    return float(np.nextafter(x, np.inf))


def _heights(h_ut_m, scenario: str, low_m: float, high_m: float, source: str) -> np.ndarray:
    try:
        return check_range("h_ut_m", h_ut_m, _above(low_m), high_m, source=source)
    except ValueError as exc:
        terrestrial = scenario.split("-")[0].lower()
        raise type(exc)(f"{exc}; at or below {low_m:g} m the annex uses TR 38.901 "
                        f"(cellscape.propagation.tr38901.{terrestrial}_*)") from None


def _fc(fc_ghz) -> np.ndarray:
    return check_range("fc_ghz", fc_ghz, np.nextafter(0.0, 1.0), np.inf, source=SPEC)


def _d3d_m(d2d_m, h_bs_m, h_ut_m) -> np.ndarray:
    return np.sqrt(np.asarray(d2d_m, dtype=float) ** 2 + (np.asarray(h_ut_m, dtype=float) - h_bs_m) ** 2)


def _fs_term_db(fc_ghz) -> np.ndarray:
    """20 lg(40 pi fc / 3): free space at 1 m with fc in GHz (c = 3e8 m/s, as the TR writes it)."""
    return 20.0 * np.log10(40.0 * np.pi * fc_ghz / 3.0)


def _d2d(d2d_m, scenario: str, out_of_range: OutOfRange) -> np.ndarray:
    return apply_range("d2d_m", d2d_m, 0.0, MAX_D2D_M[scenario], source=_TABLE_PL, policy=out_of_range)


def rma_av_los_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, out_of_range: OutOfRange = "raise"):
    """
    RMa-AV LOS path loss of an aerial UE, 10 m < h_UT <= 300 m, d_2D <= 10 km.

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance, 0 to 10 km. [m]
    h_bs_m : array_like
        BS antenna height (Table B-1's LOS law assumes 35 m). [m]
    h_ut_m : array_like
        Aerial UE height, (10, 300]. [m]
    fc_ghz : array_like
        Carrier frequency, > 0. [GHz]
    out_of_range : {'raise', 'nan', 'clip', 'extrapolate'}, default 'raise'
        What to do with ``d2d_m`` outside [0, 10 km].

    Returns
    -------
    path_loss_db : ndarray
        max(23.9 - 1.8 lg h_UT, 20) lg d_3D + 20 lg(40 pi fc / 3). [dB]

    Raises
    ------
    OutOfValidityRangeError
        Height outside (10, 300] m, fc <= 0, or (with 'raise') d_2D outside [0, 10 km].

    References
    ----------
    .. [1] 3GPP TR 36.777 V15.0.0, Annex B, Table B-2 (RMa-AV, LOS).

    Examples
    --------
    >>> round(float(rma_av_los_path_loss_db(1000.0, 35.0, 100.0, 2.0)), 2)
    99.38
    """
    d = _d2d(d2d_m, "RMa-AV", out_of_range)
    h = _heights(h_ut_m, "RMa-AV", 10.0, MAX_AERIAL_HEIGHT_M, _TABLE_PL)
    fc = _fc(fc_ghz)
    slope = np.maximum(23.9 - 1.8 * np.log10(h), 20.0)
    return slope * np.log10(_d3d_m(d, h_bs_m, h)) + _fs_term_db(fc)


def rma_av_nlos_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, out_of_range: OutOfRange = "raise"):
    """
    RMa-AV NLOS path loss of an aerial UE, 10 m < h_UT <= 300 m, d_2D <= 10 km.

    Parameters
    ----------
    d2d_m, h_bs_m, h_ut_m, fc_ghz, out_of_range
        As :func:`rma_av_los_path_loss_db`.

    Returns
    -------
    path_loss_db : ndarray
        max(PL_RMa-AV-LOS, -12 + (35 - 5.3 lg h_UT) lg d_3D + 20 lg(40 pi fc / 3)). [dB]

    Raises
    ------
    OutOfValidityRangeError
        As :func:`rma_av_los_path_loss_db`.

    References
    ----------
    .. [1] 3GPP TR 36.777 V15.0.0, Annex B, Table B-2 (RMa-AV, NLOS, Note 2).

    Examples
    --------
    >>> round(float(rma_av_nlos_path_loss_db(1000.0, 35.0, 100.0, 2.0)), 2)
    99.68
    """
    d = _d2d(d2d_m, "RMa-AV", out_of_range)
    h = _heights(h_ut_m, "RMa-AV", 10.0, MAX_AERIAL_HEIGHT_M, _TABLE_PL)
    fc = _fc(fc_ghz)
    nlos = -12.0 + (35.0 - 5.3 * np.log10(h)) * np.log10(_d3d_m(d, h_bs_m, h)) + _fs_term_db(fc)
    return np.maximum(rma_av_los_path_loss_db(d, h_bs_m, h, fc, out_of_range=out_of_range), nlos)


def uma_av_los_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, out_of_range: OutOfRange = "raise"):
    """
    UMa-AV LOS path loss of an aerial UE, 22.5 m < h_UT <= 300 m, d_2D <= 4 km (no breakpoint, Note 1).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance, 0 to 4 km. [m]
    h_bs_m : array_like
        BS antenna height (Table B-1's LOS law assumes 25 m). [m]
    h_ut_m : array_like
        Aerial UE height, (22.5, 300]. [m]
    fc_ghz : array_like
        Carrier frequency, > 0. [GHz]
    out_of_range : {'raise', 'nan', 'clip', 'extrapolate'}, default 'raise'
        What to do with ``d2d_m`` outside [0, 4 km].

    Returns
    -------
    path_loss_db : ndarray
        28.0 + 22 lg d_3D + 20 lg fc. [dB]

    Raises
    ------
    OutOfValidityRangeError
        Height outside (22.5, 300] m, fc <= 0, or (with 'raise') d_2D outside [0, 4 km].

    References
    ----------
    .. [1] 3GPP TR 36.777 V15.0.0, Annex B, Table B-2 (UMa-AV, LOS).

    Examples
    --------
    >>> round(float(uma_av_los_path_loss_db(500.0, 25.0, 100.0, 3.5)), 2)
    98.36
    """
    d = _d2d(d2d_m, "UMa-AV", out_of_range)
    h = _heights(h_ut_m, "UMa-AV", 22.5, MAX_AERIAL_HEIGHT_M, _TABLE_PL)
    fc = _fc(fc_ghz)
    return 28.0 + 22.0 * np.log10(_d3d_m(d, h_bs_m, h)) + 20.0 * np.log10(fc)


def uma_av_nlos_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, out_of_range: OutOfRange = "raise"):
    """
    UMa-AV NLOS path loss of an aerial UE, 10 m < h_UT <= 100 m, d_2D <= 4 km.

    Parameters
    ----------
    d2d_m, h_bs_m, fc_ghz, out_of_range
        As :func:`uma_av_los_path_loss_db`.
    h_ut_m : array_like
        Aerial UE height, (10, 100] (the row's own range; the annex uses it above 22.5 m). [m]

    Returns
    -------
    path_loss_db : ndarray
        -17.5 + (46 - 7 lg h_UT) lg d_3D + 20 lg(40 pi fc / 3). [dB]

    Raises
    ------
    OutOfValidityRangeError
        Height outside (10, 100] m (above 100 m UMa-AV is LOS with probability 1, Table B-1),
        fc <= 0, or (with 'raise') d_2D outside [0, 4 km].

    Notes
    -----
    Unlike the other NLOS rows, Table B-2 does not floor this one at the LOS loss.

    References
    ----------
    .. [1] 3GPP TR 36.777 V15.0.0, Annex B, Table B-2 (UMa-AV, NLOS).

    Examples
    --------
    >>> round(float(uma_av_nlos_path_loss_db(500.0, 25.0, 50.0, 3.5)), 2)
    117.9
    """
    d = _d2d(d2d_m, "UMa-AV", out_of_range)
    h = _heights(h_ut_m, "UMa-AV", 10.0, 100.0, _TABLE_PL)
    fc = _fc(fc_ghz)
    return -17.5 + (46.0 - 7.0 * np.log10(h)) * np.log10(_d3d_m(d, h_bs_m, h)) + _fs_term_db(fc)


def umi_av_los_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, out_of_range: OutOfRange = "raise"):
    """
    UMi-AV LOS path loss of an aerial UE, 22.5 m < h_UT <= 300 m, d_2D <= 4 km.

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance, 0 to 4 km. [m]
    h_bs_m : array_like
        BS antenna height (Table B-1's LOS law assumes 10 m). [m]
    h_ut_m : array_like
        Aerial UE height, (22.5, 300]. [m]
    fc_ghz : array_like
        Carrier frequency, > 0. [GHz]
    out_of_range : {'raise', 'nan', 'clip', 'extrapolate'}, default 'raise'
        What to do with ``d2d_m`` outside [0, 4 km].

    Returns
    -------
    path_loss_db : ndarray
        max(PL', 30.9 + (22.25 - 0.5 lg h_UT) lg d_3D + 20 lg fc), PL' the free-space loss
        20 lg(40 pi d_3D fc / 3) (Note 3). [dB]

    Raises
    ------
    OutOfValidityRangeError
        Height outside (22.5, 300] m, fc <= 0, or (with 'raise') d_2D outside [0, 4 km].

    References
    ----------
    .. [1] 3GPP TR 36.777 V15.0.0, Annex B, Table B-2 (UMi-AV, LOS, Note 3).

    Examples
    --------
    >>> round(float(umi_av_los_path_loss_db(300.0, 10.0, 60.0, 3.5)), 2)
    94.82
    """
    d = _d2d(d2d_m, "UMi-AV", out_of_range)
    h = _heights(h_ut_m, "UMi-AV", 22.5, MAX_AERIAL_HEIGHT_M, _TABLE_PL)
    fc = _fc(fc_ghz)
    d3d = _d3d_m(d, h_bs_m, h)
    free_space = 20.0 * np.log10(d3d) + _fs_term_db(fc)
    return np.maximum(free_space, 30.9 + (22.25 - 0.5 * np.log10(h)) * np.log10(d3d) + 20.0 * np.log10(fc))


def umi_av_nlos_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, out_of_range: OutOfRange = "raise"):
    """
    UMi-AV NLOS path loss of an aerial UE, 22.5 m < h_UT <= 300 m, d_2D <= 4 km.

    Parameters
    ----------
    d2d_m, h_bs_m, h_ut_m, fc_ghz, out_of_range
        As :func:`umi_av_los_path_loss_db`.

    Returns
    -------
    path_loss_db : ndarray
        max(PL_UMi-AV-LOS, 32.4 + (43.2 - 7.6 lg h_UT) lg d_3D + 20 lg fc). [dB]

    Raises
    ------
    OutOfValidityRangeError
        As :func:`umi_av_los_path_loss_db`.

    References
    ----------
    .. [1] 3GPP TR 36.777 V15.0.0, Annex B, Table B-2 (UMi-AV, NLOS, Note 4).

    Examples
    --------
    >>> round(float(umi_av_nlos_path_loss_db(300.0, 10.0, 60.0, 3.5)), 2)
    116.99
    """
    d = _d2d(d2d_m, "UMi-AV", out_of_range)
    h = _heights(h_ut_m, "UMi-AV", 22.5, MAX_AERIAL_HEIGHT_M, _TABLE_PL)
    fc = _fc(fc_ghz)
    nlos = 32.4 + (43.2 - 7.6 * np.log10(h)) * np.log10(_d3d_m(d, h_bs_m, h)) + 20.0 * np.log10(fc)
    return np.maximum(umi_av_los_path_loss_db(d, h_bs_m, h, fc, out_of_range=out_of_range), nlos)


def _los_law(d2d_m, p1_m, d1_m) -> np.ndarray:
    """Table B-1's law: 1 for d_2D <= d_1, else d_1/d_2D + exp(-d_2D/p_1)(1 - d_1/d_2D)."""
    d = check_range("d2d_m", d2d_m, 0.0, np.inf, source=_TABLE_LOS)
    ratio = np.divide(d1_m, d, out=np.ones(np.broadcast(d, d1_m).shape), where=d > 0)
    far = ratio + np.exp(-d / p1_m) * (1.0 - ratio)
    return np.where(d <= d1_m, 1.0, far)


def rma_av_los_probability(d2d_m, h_ut_m):
    """
    LOS probability of an RMa-AV aerial UE, 10 m < h_UT <= 300 m (1 above 40 m).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance, >= 0. [m]
    h_ut_m : array_like
        Aerial UE height, (10, 300]. [m]

    Returns
    -------
    los_probability : ndarray
        10 < h <= 40 m: the law of Table B-1 with p_1 = max(15021 lg h - 16053, 1000) m and
        d_1 = max(1350.8 lg h - 1602, 18) m; 40 < h <= 300 m: 1. Derived for a 35 m BS (Note 1).

    Raises
    ------
    OutOfValidityRangeError
        Height outside (10, 300] m or a negative distance.

    References
    ----------
    .. [1] 3GPP TR 36.777 V15.0.0, Annex B, Table B-1 (RMa-AV).

    Examples
    --------
    >>> round(float(rma_av_los_probability(2000.0, 30.0)), 4), float(rma_av_los_probability(2000.0, 50.0))
    (0.7765, 1.0)
    """
    h = _heights(h_ut_m, "RMa-AV", 10.0, MAX_AERIAL_HEIGHT_M, _TABLE_LOS)
    lg = np.log10(h)
    p1 = np.maximum(15021.0 * lg - 16053.0, 1000.0)
    d1 = np.maximum(1350.8 * lg - 1602.0, 18.0)
    return np.where(h > 40.0, 1.0, _los_law(d2d_m, p1, d1))


def uma_av_los_probability(d2d_m, h_ut_m):
    """
    LOS probability of a UMa-AV aerial UE, 22.5 m < h_UT <= 300 m (1 above 100 m).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance, >= 0. [m]
    h_ut_m : array_like
        Aerial UE height, (22.5, 300]. [m]

    Returns
    -------
    los_probability : ndarray
        22.5 < h <= 100 m: the law of Table B-1 with p_1 = 4300 lg h - 3800 m and
        d_1 = max(460 lg h - 700, 18) m; 100 < h <= 300 m: 1. Derived for a 25 m BS (Note 1).

    Raises
    ------
    OutOfValidityRangeError
        Height outside (22.5, 300] m or a negative distance.

    References
    ----------
    .. [1] 3GPP TR 36.777 V15.0.0, Annex B, Table B-1 (UMa-AV).

    Examples
    --------
    >>> round(float(uma_av_los_probability(500.0, 50.0)), 4)
    0.8887
    """
    h = _heights(h_ut_m, "UMa-AV", 22.5, MAX_AERIAL_HEIGHT_M, _TABLE_LOS)
    lg = np.log10(h)
    p1 = 4300.0 * lg - 3800.0
    d1 = np.maximum(460.0 * lg - 700.0, 18.0)
    return np.where(h > 100.0, 1.0, _los_law(d2d_m, p1, d1))


def umi_av_los_probability(d2d_m, h_ut_m):
    """
    LOS probability of a UMi-AV aerial UE, 22.5 m < h_UT <= 300 m.

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance, >= 0. [m]
    h_ut_m : array_like
        Aerial UE height, (22.5, 300]. [m]

    Returns
    -------
    los_probability : ndarray
        The law of Table B-1 with p_1 = 233.98 lg h - 0.95 m and d_1 = max(294.05 lg h - 432.94,
        18) m. Derived for a 10 m BS (Note 1).

    Raises
    ------
    OutOfValidityRangeError
        Height outside (22.5, 300] m or a negative distance.

    References
    ----------
    .. [1] 3GPP TR 36.777 V15.0.0, Annex B, Table B-1 (UMi-AV).

    Examples
    --------
    >>> round(float(umi_av_los_probability(500.0, 100.0)), 4)
    0.5467
    """
    h = _heights(h_ut_m, "UMi-AV", 22.5, MAX_AERIAL_HEIGHT_M, _TABLE_LOS)
    lg = np.log10(h)
    p1 = 233.98 * lg - 0.95
    d1 = np.maximum(294.05 * lg - 432.94, 18.0)
    return _los_law(d2d_m, p1, d1)


def shadow_fading_std_db(scenario: AerialScenario, los: bool, h_ut_m):
    """
    Shadow-fading standard deviation of an aerial UE (Table B-3).

    Parameters
    ----------
    scenario : {'RMa-AV', 'UMa-AV', 'UMi-AV'}
        The aerial scenario.
    los : bool
        LOS (True) or NLOS (False) link.
    h_ut_m : array_like
        Aerial UE height: LOS (threshold, 300]; NLOS RMa-AV (10, 40], UMa-AV (22.5, 100],
        UMi-AV (22.5, 300]. [m]

    Returns
    -------
    sigma_sf_db : ndarray
        RMa-AV LOS 4.2 exp(-0.0046 h), NLOS 6; UMa-AV LOS 4.64 exp(-0.0066 h), NLOS 6; UMi-AV
        LOS max(5 exp(-0.01 h), 2), NLOS 8. [dB]

    Raises
    ------
    InvalidChoiceError
        Unknown scenario.
    OutOfValidityRangeError
        Height outside the row's range.

    References
    ----------
    .. [1] 3GPP TR 36.777 V15.0.0, Annex B, Table B-3.

    Examples
    --------
    >>> round(float(shadow_fading_std_db("UMa-AV", True, 100.0)), 3), float(shadow_fading_std_db("UMi-AV", False, 50.0))
    (2.398, 8.0)
    """
    check_choice("scenario", scenario, AERIAL_SCENARIOS)
    low = MIN_AERIAL_HEIGHT_M[scenario]
    high = MAX_AERIAL_HEIGHT_M if los else {"RMa-AV": 40.0, "UMa-AV": 100.0, "UMi-AV": 300.0}[scenario]
    h = _heights(h_ut_m, scenario, low, high, _TABLE_SF)
    if not los:
        return np.full(h.shape, 8.0 if scenario == "UMi-AV" else 6.0)
    if scenario == "RMa-AV":
        return 4.2 * np.exp(-0.0046 * h)
    if scenario == "UMa-AV":
        return 4.64 * np.exp(-0.0066 * h)
    return np.maximum(5.0 * np.exp(-0.01 * h), 2.0)


_PATH_LOSS = {
    ("RMa-AV", True): rma_av_los_path_loss_db, ("RMa-AV", False): rma_av_nlos_path_loss_db,
    ("UMa-AV", True): uma_av_los_path_loss_db, ("UMa-AV", False): uma_av_nlos_path_loss_db,
    ("UMi-AV", True): umi_av_los_path_loss_db, ("UMi-AV", False): umi_av_nlos_path_loss_db,
}
_LOS_PROBABILITY = {"RMa-AV": rma_av_los_probability, "UMa-AV": uma_av_los_probability,
                    "UMi-AV": umi_av_los_probability}


def path_loss_db(scenario: AerialScenario, d2d_m, h_bs_m, h_ut_m, fc_ghz, los: bool, *,
                 out_of_range: OutOfRange = "raise"):
    """
    Table B-2 path loss of ``scenario`` for a LOS (``los=True``) or NLOS link.

    Parameters
    ----------
    scenario : {'RMa-AV', 'UMa-AV', 'UMi-AV'}
        The aerial scenario.
    d2d_m, h_bs_m, h_ut_m, fc_ghz, out_of_range
        As the row's function (e.g. :func:`uma_av_los_path_loss_db`).
    los : bool
        LOS or NLOS row.

    Returns
    -------
    path_loss_db : ndarray
        [dB]

    Raises
    ------
    InvalidChoiceError
        Unknown scenario.

    Examples
    --------
    >>> round(float(path_loss_db("UMa-AV", 500.0, 25.0, 100.0, 3.5, True)), 2)
    98.36
    """
    check_choice("scenario", scenario, AERIAL_SCENARIOS)
    return _PATH_LOSS[(scenario, bool(los))](d2d_m, h_bs_m, h_ut_m, fc_ghz, out_of_range=out_of_range)


def los_probability(scenario: AerialScenario, d2d_m, h_ut_m):
    """
    Table B-1 LOS probability of ``scenario``.

    Parameters
    ----------
    scenario : {'RMa-AV', 'UMa-AV', 'UMi-AV'}
        The aerial scenario.
    d2d_m, h_ut_m
        As the row's function (e.g. :func:`uma_av_los_probability`).

    Returns
    -------
    los_probability : ndarray

    Raises
    ------
    InvalidChoiceError
        Unknown scenario.

    Examples
    --------
    >>> float(los_probability("UMa-AV", 3000.0, 150.0))
    1.0
    """
    check_choice("scenario", scenario, AERIAL_SCENARIOS)
    return _LOS_PROBABILITY[scenario](d2d_m, h_ut_m)


__all__ = [
    "AERIAL_SCENARIOS", "MAX_AERIAL_HEIGHT_M", "MAX_D2D_M", "MIN_AERIAL_HEIGHT_M", "SPEC", "los_probability",
    "path_loss_db", "rma_av_los_path_loss_db", "rma_av_los_probability", "rma_av_nlos_path_loss_db",
    "shadow_fading_std_db", "uma_av_los_path_loss_db", "uma_av_los_probability", "uma_av_nlos_path_loss_db",
    "umi_av_los_path_loss_db", "umi_av_los_probability", "umi_av_nlos_path_loss_db",
]
