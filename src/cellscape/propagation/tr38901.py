"""Path loss, LOS probability and shadow fading of 3GPP TR 38.901, Section 7.4.

One function per table row; names follow the tables. Lengths in m, fc in GHz, losses in dB.
Every function broadcasts its array arguments like numpy. Configuration outside the table's
validity range (carrier frequency, antenna heights) always raises
:class:`~cellscape.errors.OutOfValidityRangeError`; distances follow ``out_of_range``
(``"raise"`` by default, see :data:`cellscape._validate.OutOfRange`).

Scenario names: ``"RMa"``, ``"UMa"``, ``"UMi"`` (UMi-Street Canyon), ``"InH-office-mixed"``,
``"InH-office-open"`` (same path loss, different LOS probability), ``"InF-SL"``, ``"InF-DL"``,
``"InF-SH"``, ``"InF-DH"``, ``"InF-HH"``.

Decisions where the tables leave room (each repeated in the function it concerns):

- Breakpoint distances use the exact speed of light (:data:`cellscape.units.SPEED_OF_LIGHT_M_S`);
  Note 1 of Table 7.4.1-1 writes c = 3.0e8 m/s. d'_BP differs by 0.07 %, the path loss beyond it
  by < 0.006 dB.
- UMa and UMi list one nominal h_BS (25 m, 10 m); we accept :data:`UMA_H_BS_RANGE_M` and
  :data:`UMI_H_BS_RANGE_M` (rooftop and lamp-post sites) as a documented extrapolation.
- InH and InF bound d_3D (1 m to 150 m / 600 m), not d_2D; :func:`d2d_range_m` converts.
- InF-HH has no NLOS row (its LOS probability is 1): :func:`path_loss_db` gives an InF-HH NLOS link
  the LOS path loss and :func:`shadow_fading_std_db` the LOS spread, so forced-NLOS maps still run.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from cellscape._validate import OutOfRange, apply_range, check_choice, check_range
from cellscape.errors import OutOfValidityRangeError
from cellscape.scenario.records import ENVIRONMENTS, Environment
from cellscape.units import SPEED_OF_LIGHT_M_S

SPEC = "3GPP TR 38.901 V18.0.0"
"""The version these formulas were checked against (Section 7.4 is unchanged in V19.0.0)."""

_TABLE_PL = f"{SPEC} Table 7.4.1-1"
_TABLE_LOS = f"{SPEC} Table 7.4.2-1"
_TABLE_SF_COR = f"{SPEC} Table 7.5-6"
_TABLE_LOS_COR = f"{SPEC} Table 7.6.3.1-2"

# the scenario names are the scenario model's environment names (one home: scenario/records.py)
Scenario = Environment
SCENARIOS: tuple[str, ...] = ENVIRONMENTS

InFSubscenario = Literal["SL", "DL", "SH", "DH"]
InFLosSubscenario = Literal["SL", "DL", "SH", "DH", "HH"]

FC_RANGE_GHZ = {"RMa": (0.5, 30.0)}
"""Carrier-frequency validity per scenario [GHz]: RMa is validated to 30 GHz (Table 7.4.1-1 notes);
every other scenario 0.5 to 100 GHz (Section 7.1)."""

UMA_H_BS_RANGE_M = (10.0, 50.0)
"""UMa h_BS accepted [m]. The table's single value is 25 m; 10 to 50 m covers low macro and
rooftop sites (cellscape extension, the formulas stay physical there)."""
UMI_H_BS_RANGE_M = (3.0, 25.0)
"""UMi-Street Canyon h_BS accepted [m]. The table's single value is 10 m; 3 to 25 m covers
lamp-post to low-rooftop small cells (cellscape extension)."""
RMA_H_BS_RANGE_M = (10.0, 150.0)
"""RMa h_BS applicability range of Table 7.4.1-1 [m]."""
URBAN_H_UT_RANGE_M = (1.5, 22.5)
"""UMa / UMi h_UT applicability range of Table 7.4.1-1 [m]."""
RMA_H_UT_RANGE_M = (1.0, 10.0)
"""RMa h_UT applicability range of Table 7.4.1-1 [m]."""
RMA_BUILDING_RANGE_M = (5.0, 50.0)
"""RMa average building height h and street width W applicability range of Table 7.4.1-1 [m]."""
INDOOR_H_RANGE_M = (0.5, 25.0)
"""InH / InF antenna heights accepted [m]: the table bounds d_3D only; 25 m is the highest InF
ceiling of Table 7.2-4 (cellscape applies the same bound to InH)."""
UMA_H_E_RANGE_M = (1.0, 21.0)
"""UMa effective environment height h_E [m]: 1 m or one of 12, 15, ..., h_UT - 1.5 <= 21 m (Note 1)."""

INF_CLUTTER_DEFAULTS = {
    # (clutter density r, clutter height h_c [m], clutter size d_clutter [m])
    # SL..DH: the calibration values of Table 7.8-7. HH is not in that table and its LOS probability
    # is 1; its d_clutter only sets the LOS-state correlation distance (cellscape choice).
    "InF-SL": (0.2, 2.0, 10.0), "InF-DL": (0.6, 6.0, 2.0),
    "InF-SH": (0.2, 2.0, 10.0), "InF-DH": (0.6, 6.0, 2.0), "InF-HH": (0.0, 0.0, 10.0),
}
"""Clutter parameters used when a call gives none: (r, h_c [m], d_clutter [m]) per InF scenario."""

_INF_DENSITY_RANGE = {"SL": (0.0, 0.4), "SH": (0.0, 0.4), "DL": (0.4, 0.99), "DH": (0.4, 0.99)}
# Table 7.2-4: sparse clutter r < 40 %, dense r >= 40 % (0.99: r = 1 would block every path).


# --------------------------------------------------------------------------- helpers

def _f(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _fc_range(scenario: str) -> tuple[float, float]:
    return FC_RANGE_GHZ.get(scenario, (0.5, 100.0))


def _d3d_m(d2d_m, h_bs_m, h_ut_m) -> np.ndarray:
    return np.sqrt(np.square(_f(d2d_m)) + np.square(_f(h_bs_m) - _f(h_ut_m)))


def _log10(x) -> np.ndarray:
    return np.log10(_f(x))


# --------------------------------------------------------------------------- breakpoints

def breakpoint_distance_m(h_bs_m, h_ut_m, fc_ghz, *, h_e_m=1.0):
    """Breakpoint distance d'_BP of UMa and UMi-Street Canyon (Table 7.4.1-1, Note 1).

    Parameters
    ----------
    h_bs_m, h_ut_m : array_like
        BS and UT antenna heights. [m]
    fc_ghz : array_like
        Carrier frequency. [GHz]
    h_e_m : array_like, default 1.0
        Effective environment height h_E (1 m for UMi; drawn per link for UMa, see
        :func:`uma_effective_environment_height_m`). [m]

    Returns
    -------
    d_bp_m : ndarray
        d'_BP = 4 h'_BS h'_UT f_c / c with h' = h - h_E, f_c in Hz. [m]

    Notes
    -----
    Note 1 writes c = 3.0e8 m/s; we use the exact c (d'_BP 0.07 % longer than with 3e8).
    No range checks: the path-loss functions check their inputs.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1, Note 1.

    Examples
    --------
    >>> round(float(breakpoint_distance_m(25.0, 1.5, 3.5)), 1)
    560.4
    """
    fc_hz = _f(fc_ghz) * 1e9
    h_e = _f(h_e_m)
    return 4.0 * (_f(h_bs_m) - h_e) * (_f(h_ut_m) - h_e) * fc_hz / SPEED_OF_LIGHT_M_S


def rma_breakpoint_distance_m(h_bs_m, h_ut_m, fc_ghz):
    """Breakpoint distance d_BP of RMa (Table 7.4.1-1, Note 5).

    Parameters
    ----------
    h_bs_m, h_ut_m : array_like
        BS and UT antenna heights. [m]
    fc_ghz : array_like
        Carrier frequency. [GHz]

    Returns
    -------
    d_bp_m : ndarray
        d_BP = 2 pi h_BS h_UT f_c / c, f_c in Hz (exact c, see :func:`breakpoint_distance_m`). [m]

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1, Note 5.

    Examples
    --------
    >>> round(float(rma_breakpoint_distance_m(35.0, 1.5, 3.5)), 1)
    3851.1
    """
    fc_hz = _f(fc_ghz) * 1e9
    return 2.0 * np.pi * _f(h_bs_m) * _f(h_ut_m) * fc_hz / SPEED_OF_LIGHT_M_S


# --------------------------------------------------------------------------- RMa

def _rma_checks(d2d_m, h_bs_m, h_ut_m, fc_ghz, building_height_m, high_m, out_of_range):
    check_range("fc_ghz", fc_ghz, *_fc_range("RMa"), source=_TABLE_PL)
    check_range("h_bs_m", h_bs_m, *RMA_H_BS_RANGE_M, source=_TABLE_PL)
    check_range("h_ut_m", h_ut_m, *RMA_H_UT_RANGE_M, source=_TABLE_PL)
    check_range("building_height_m", building_height_m, *RMA_BUILDING_RANGE_M, source=_TABLE_PL)
    return apply_range("d2d_m", d2d_m, 10.0, high_m, source=_TABLE_PL, policy=out_of_range)


def _rma_pl1_db(d_m, fc_ghz, h_m):
    # PL1 of Table 7.4.1-1 (RMa LOS) as a function of a distance d (d3D, or d_BP inside PL2)
    h = _f(h_m)
    return (20.0 * _log10(40.0 * np.pi * d_m * fc_ghz / 3.0)
            + np.minimum(0.03 * h ** 1.72, 10.0) * _log10(d_m)
            - np.minimum(0.044 * h ** 1.72, 14.77)
            + 0.002 * _log10(h) * d_m)


def rma_los_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, building_height_m=5.0, street_width_m=20.0,
                         out_of_range: OutOfRange = "raise"):
    """Basic path loss of an RMa LOS link, without shadow fading (Table 7.4.1-1).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance, 10 m to 10 km. [m]
    h_bs_m : array_like
        BS antenna height, 10 to 150 m (default of the table: 35 m). [m]
    h_ut_m : array_like
        UT antenna height, 1 to 10 m. [m]
    fc_ghz : array_like
        Carrier frequency, 0.5 to 30 GHz. [GHz]
    building_height_m : array_like, default 5.0
        Average building height h, 5 to 50 m. [m]
    street_width_m : array_like, default 20.0
        Average street width W; unused by the LOS formula, accepted for a signature shared with
        :func:`rma_nlos_path_loss_db`. [m]
    out_of_range : {'raise', 'nan', 'clip', 'extrapolate'}, default 'raise'
        Policy for ``d2d_m`` outside 10 m to 10 km.

    Returns
    -------
    path_loss_db : ndarray
        Basic path loss, broadcast shape of the inputs. [dB]

    Raises
    ------
    OutOfValidityRangeError
        If ``fc_ghz``, a height or ``building_height_m`` (always) or ``d2d_m`` (with
        ``out_of_range='raise'``) lies outside the table's range.

    Notes
    -----
    PL1(d) = 20 log10(40 pi d fc/3) + min(0.03 h^1.72, 10) log10(d) - min(0.044 h^1.72, 14.77)
    + 0.002 log10(h) d, evaluated at d = d3D for 10 m <= d2D <= d_BP, and
    PL2 = PL1(d_BP) + 40 log10(d3D / d_BP) for d_BP < d2D <= 10 km (d_BP: Note 5,
    :func:`rma_breakpoint_distance_m`). Because PL1 is evaluated at d = d_BP, not at the d3D of
    d2D = d_BP, the loss steps by (slope of PL1 - 40) log10(d3D/d_BP) there: < 0.02 dB for
    heights in range (the table's formula, kept as written).

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1 (scenario RMa, LOS) and Note 5.

    Examples
    --------
    >>> round(float(rma_los_path_loss_db(1000.0, 35.0, 1.5, 3.5)), 2)
    105.46
    """
    d2d = _rma_checks(d2d_m, h_bs_m, h_ut_m, fc_ghz, building_height_m, 10_000.0, out_of_range)
    fc = _f(fc_ghz)
    d3d = _d3d_m(d2d, h_bs_m, h_ut_m)
    d_bp = rma_breakpoint_distance_m(h_bs_m, h_ut_m, fc)
    pl1 = _rma_pl1_db(d3d, fc, building_height_m)
    pl2 = _rma_pl1_db(d_bp, fc, building_height_m) + 40.0 * _log10(d3d / d_bp)
    return np.where(d2d <= d_bp, pl1, pl2)


def rma_nlos_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, building_height_m=5.0, street_width_m=20.0,
                          out_of_range: OutOfRange = "raise"):
    """Basic path loss of an RMa NLOS link, max(PL_RMa-LOS, PL'_RMa-NLOS) (Table 7.4.1-1).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance, 10 m to 5 km. [m]
    h_bs_m : array_like
        BS antenna height, 10 to 150 m. [m]
    h_ut_m : array_like
        UT antenna height, 1 to 10 m. [m]
    fc_ghz : array_like
        Carrier frequency, 0.5 to 30 GHz. [GHz]
    building_height_m : array_like, default 5.0
        Average building height h, 5 to 50 m. [m]
    street_width_m : array_like, default 20.0
        Average street width W, 5 to 50 m. [m]
    out_of_range : {'raise', 'nan', 'clip', 'extrapolate'}, default 'raise'
        Policy for ``d2d_m`` outside 10 m to 5 km.

    Returns
    -------
    path_loss_db : ndarray
        Basic path loss, broadcast shape of the inputs. [dB]

    Raises
    ------
    OutOfValidityRangeError
        As :func:`rma_los_path_loss_db`, plus ``street_width_m`` outside 5 to 50 m.

    Notes
    -----
    PL' = 161.04 - 7.1 log10(W) + 7.5 log10(h) - (24.37 - 3.7 (h/h_BS)^2) log10(h_BS)
    + (43.42 - 3.1 log10(h_BS)) (log10(d3D) - 3) + 20 log10(fc) - (3.2 (log10(11.75 h_UT))^2 - 4.97).
    The LOS term is evaluated as written even beyond its own 10 km limit (never reached here).

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1 (scenario RMa, NLOS).

    Examples
    --------
    >>> round(float(rma_nlos_path_loss_db(1000.0, 35.0, 1.5, 3.5)), 2)
    130.42
    """
    d2d = _rma_checks(d2d_m, h_bs_m, h_ut_m, fc_ghz, building_height_m, 5_000.0, out_of_range)
    check_range("street_width_m", street_width_m, *RMA_BUILDING_RANGE_M, source=_TABLE_PL)
    fc = _f(fc_ghz)
    h, w = _f(building_height_m), _f(street_width_m)
    h_bs, h_ut = _f(h_bs_m), _f(h_ut_m)
    d3d = _d3d_m(d2d, h_bs, h_ut)
    pl_nlos = (161.04 - 7.1 * _log10(w) + 7.5 * _log10(h) - (24.37 - 3.7 * (h / h_bs) ** 2) * _log10(h_bs)
               + (43.42 - 3.1 * _log10(h_bs)) * (_log10(d3d) - 3.0) + 20.0 * _log10(fc)
               - (3.2 * _log10(11.75 * h_ut) ** 2 - 4.97))
    los = rma_los_path_loss_db(d2d, h_bs, h_ut, fc, building_height_m=h, out_of_range="extrapolate")
    return np.maximum(los, pl_nlos)


# --------------------------------------------------------------------------- UMa / UMi

def _urban_checks(scenario, d2d_m, h_bs_m, h_ut_m, fc_ghz, out_of_range):
    check_range("fc_ghz", fc_ghz, *_fc_range(scenario), source=_TABLE_PL)
    check_range("h_bs_m", h_bs_m, *(UMA_H_BS_RANGE_M if scenario == "UMa" else UMI_H_BS_RANGE_M),
                source=f"{_TABLE_PL} ({scenario}, nominal h_BS extended by cellscape)")
    check_range("h_ut_m", h_ut_m, *URBAN_H_UT_RANGE_M, source=_TABLE_PL)
    return apply_range("d2d_m", d2d_m, 10.0, 5000.0, source=_TABLE_PL, policy=out_of_range)


def _check_h_e(h_e_m, h_bs_m, h_ut_m):
    h_e = check_range("h_e_m", h_e_m, *UMA_H_E_RANGE_M, source=f"{_TABLE_PL} Note 1")
    low = np.broadcast_to(h_e >= np.minimum(_f(h_bs_m), _f(h_ut_m)), np.broadcast_shapes(
        h_e.shape, np.shape(h_bs_m), np.shape(h_ut_m)))
    if np.any(low):
        raise OutOfValidityRangeError(
            f"h_e_m={np.broadcast_to(h_e, low.shape)[low].flat[0]:g} is not below both antenna heights, "
            f"so the effective heights of {_TABLE_PL} Note 1 are not positive "
            f"({np.count_nonzero(low)} of {low.size} values)")
    return h_e


def uma_los_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, h_e_m=1.0, out_of_range: OutOfRange = "raise"):
    r"""
    Basic path loss of an UMa LOS link, without shadow fading (Table 7.4.1-1).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance, 10 m to 5 km. [m]
    h_bs_m : array_like
        BS antenna height. The table assumes 25 m; cellscape accepts 10 to 50 m. [m]
    h_ut_m : array_like
        UT antenna height, 1.5 to 22.5 m. [m]
    fc_ghz : array_like
        Carrier frequency, 0.5 to 100 GHz. [GHz]
    h_e_m : array_like, default 1.0
        Effective environment height h_E, 1 to 21 m and below both antennas. Note 1 draws it at
        random when h_UT >= 13 m: draw it with :func:`uma_effective_environment_height_m`. [m]
    out_of_range : {'raise', 'nan', 'clip', 'extrapolate'}, default 'raise'
        Policy for ``d2d_m`` outside 10 m to 5 km.

    Returns
    -------
    path_loss_db : ndarray
        Basic path loss, broadcast shape of the inputs. [dB]

    Raises
    ------
    OutOfValidityRangeError
        If a height, ``h_e_m`` or ``fc_ghz`` (always) or ``d2d_m`` (with ``out_of_range='raise'``)
        lies outside the table's validity range.

    Notes
    -----
    PL1 = 28.0 + 22 log10(d3D) + 20 log10(fc) for 10 m <= d2D <= d'_BP and
    PL2 = 28.0 + 40 log10(d3D) + 20 log10(fc) - 9 log10(d'_BP^2 + (h_BS - h_UT)^2) for
    d'_BP < d2D <= 5 km (d'_BP: :func:`breakpoint_distance_m`). At d2D = d'_BP both equal
    28 + 22 log10(d3D) + 20 log10(fc): the loss is continuous.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1 (scenario UMa, LOS) and Note 1.

    Examples
    --------
    >>> round(float(uma_los_path_loss_db(100.0, 25.0, 1.5, 3.5)), 2)
    83.14
    """
    d2d = _urban_checks("UMa", d2d_m, h_bs_m, h_ut_m, fc_ghz, out_of_range)
    h_e = _check_h_e(h_e_m, h_bs_m, h_ut_m)
    fc = _f(fc_ghz)
    d3d = _d3d_m(d2d, h_bs_m, h_ut_m)
    d_bp = breakpoint_distance_m(h_bs_m, h_ut_m, fc, h_e_m=h_e)
    pl1 = 28.0 + 22.0 * _log10(d3d) + 20.0 * _log10(fc)
    pl2 = (28.0 + 40.0 * _log10(d3d) + 20.0 * _log10(fc)
           - 9.0 * _log10(d_bp ** 2 + (_f(h_bs_m) - _f(h_ut_m)) ** 2))
    return np.where(d2d <= d_bp, pl1, pl2)


def uma_nlos_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, h_e_m=1.0, out_of_range: OutOfRange = "raise"):
    """Basic path loss of an UMa NLOS link, max(PL_UMa-LOS, PL'_UMa-NLOS) (Table 7.4.1-1).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance, 10 m to 5 km. [m]
    h_bs_m : array_like
        BS antenna height; the table assumes 25 m, cellscape accepts 10 to 50 m. [m]
    h_ut_m : array_like
        UT antenna height, 1.5 to 22.5 m. [m]
    fc_ghz : array_like
        Carrier frequency, 0.5 to 100 GHz. [GHz]
    h_e_m : array_like, default 1.0
        Effective environment height of the LOS term (see :func:`uma_los_path_loss_db`). [m]
    out_of_range : {'raise', 'nan', 'clip', 'extrapolate'}, default 'raise'
        Policy for ``d2d_m`` outside 10 m to 5 km.

    Returns
    -------
    path_loss_db : ndarray
        Basic path loss, broadcast shape of the inputs. [dB]

    Raises
    ------
    OutOfValidityRangeError
        As :func:`uma_los_path_loss_db`.

    Notes
    -----
    PL' = 13.54 + 39.08 log10(d3D) + 20 log10(fc) - 0.6 (h_UT - 1.5). The optional
    PL = 32.4 + 20 log10(fc) + 30 log10(d3D) of the table is not implemented.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1 (scenario UMa, NLOS).

    Examples
    --------
    >>> round(float(uma_nlos_path_loss_db(100.0, 25.0, 1.5, 3.5)), 2)
    103.04
    """
    d2d = _urban_checks("UMa", d2d_m, h_bs_m, h_ut_m, fc_ghz, out_of_range)
    fc = _f(fc_ghz)
    d3d = _d3d_m(d2d, h_bs_m, h_ut_m)
    pl_nlos = 13.54 + 39.08 * _log10(d3d) + 20.0 * _log10(fc) - 0.6 * (_f(h_ut_m) - 1.5)
    los = uma_los_path_loss_db(d2d, h_bs_m, h_ut_m, fc, h_e_m=h_e_m, out_of_range="extrapolate")
    return np.maximum(los, pl_nlos)


def umi_los_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, out_of_range: OutOfRange = "raise"):
    """Basic path loss of an UMi-Street Canyon LOS link (Table 7.4.1-1), h_E = 1 m.

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance, 10 m to 5 km. [m]
    h_bs_m : array_like
        BS antenna height; the table assumes 10 m, cellscape accepts 3 to 25 m. [m]
    h_ut_m : array_like
        UT antenna height, 1.5 to 22.5 m. [m]
    fc_ghz : array_like
        Carrier frequency, 0.5 to 100 GHz. [GHz]
    out_of_range : {'raise', 'nan', 'clip', 'extrapolate'}, default 'raise'
        Policy for ``d2d_m`` outside 10 m to 5 km.

    Returns
    -------
    path_loss_db : ndarray
        Basic path loss, broadcast shape of the inputs. [dB]

    Raises
    ------
    OutOfValidityRangeError
        If a height or ``fc_ghz`` (always) or ``d2d_m`` (with ``out_of_range='raise'``) lies
        outside the validity range.

    Notes
    -----
    PL1 = 32.4 + 21 log10(d3D) + 20 log10(fc) up to d'_BP (h_E = 1 m), PL2 = 32.4 + 40 log10(d3D)
    + 20 log10(fc) - 9.5 log10(d'_BP^2 + (h_BS - h_UT)^2) beyond; continuous at d'_BP.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1 (scenario UMi-Street Canyon, LOS) and Note 1.

    Examples
    --------
    >>> round(float(umi_los_path_loss_db(100.0, 10.0, 1.5, 3.5)), 2)
    85.31
    """
    d2d = _urban_checks("UMi", d2d_m, h_bs_m, h_ut_m, fc_ghz, out_of_range)
    fc = _f(fc_ghz)
    d3d = _d3d_m(d2d, h_bs_m, h_ut_m)
    d_bp = breakpoint_distance_m(h_bs_m, h_ut_m, fc, h_e_m=1.0)
    pl1 = 32.4 + 21.0 * _log10(d3d) + 20.0 * _log10(fc)
    pl2 = (32.4 + 40.0 * _log10(d3d) + 20.0 * _log10(fc)
           - 9.5 * _log10(d_bp ** 2 + (_f(h_bs_m) - _f(h_ut_m)) ** 2))
    return np.where(d2d <= d_bp, pl1, pl2)


def umi_nlos_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, out_of_range: OutOfRange = "raise"):
    """Basic path loss of an UMi-Street Canyon NLOS link, max(PL_UMi-LOS, PL'_UMi-NLOS) (Table 7.4.1-1).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance, 10 m to 5 km. [m]
    h_bs_m : array_like
        BS antenna height; the table assumes 10 m, cellscape accepts 3 to 25 m. [m]
    h_ut_m : array_like
        UT antenna height, 1.5 to 22.5 m. [m]
    fc_ghz : array_like
        Carrier frequency, 0.5 to 100 GHz. [GHz]
    out_of_range : {'raise', 'nan', 'clip', 'extrapolate'}, default 'raise'
        Policy for ``d2d_m`` outside 10 m to 5 km.

    Returns
    -------
    path_loss_db : ndarray
        Basic path loss, broadcast shape of the inputs. [dB]

    Raises
    ------
    OutOfValidityRangeError
        As :func:`umi_los_path_loss_db`.

    Notes
    -----
    PL' = 35.3 log10(d3D) + 22.4 + 21.3 log10(fc) - 0.3 (h_UT - 1.5). The optional
    PL = 32.4 + 20 log10(fc) + 31.9 log10(d3D) is not implemented.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1 (scenario UMi-Street Canyon, NLOS).

    Examples
    --------
    >>> round(float(umi_nlos_path_loss_db(100.0, 10.0, 1.5, 3.5)), 2)
    104.64
    """
    d2d = _urban_checks("UMi", d2d_m, h_bs_m, h_ut_m, fc_ghz, out_of_range)
    fc = _f(fc_ghz)
    d3d = _d3d_m(d2d, h_bs_m, h_ut_m)
    pl_nlos = 35.3 * _log10(d3d) + 22.4 + 21.3 * _log10(fc) - 0.3 * (_f(h_ut_m) - 1.5)
    los = umi_los_path_loss_db(d2d, h_bs_m, h_ut_m, fc, out_of_range="extrapolate")
    return np.maximum(los, pl_nlos)


# --------------------------------------------------------------------------- InH / InF

_D3D_HIGH_M = {"InH": 150.0, "InF": 600.0}   # Table 7.4.1-1: 1 m <= d3D <= 150 m (InH), 600 m (InF)


def _indoor_d3d(d2d_m, h_bs_m, h_ut_m, fc_ghz, scenario, out_of_range):
    check_range("fc_ghz", fc_ghz, *_fc_range(scenario), source=_TABLE_PL)
    check_range("h_bs_m", h_bs_m, *INDOOR_H_RANGE_M, source=f"{_TABLE_PL} ({scenario}, cellscape bound)")
    check_range("h_ut_m", h_ut_m, *INDOOR_H_RANGE_M, source=f"{_TABLE_PL} ({scenario}, cellscape bound)")
    d3d = _d3d_m(d2d_m, h_bs_m, h_ut_m)
    return apply_range("d3d_m", d3d, 1.0, _D3D_HIGH_M[scenario[:3]], source=_TABLE_PL, policy=out_of_range)


def _inh_los_db(d3d_m, fc_ghz):
    return 32.4 + 17.3 * _log10(d3d_m) + 20.0 * _log10(fc_ghz)


def _inf_los_db(d3d_m, fc_ghz):
    return 31.84 + 21.50 * _log10(d3d_m) + 19.00 * _log10(fc_ghz)


def inh_los_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, out_of_range: OutOfRange = "raise"):
    """Basic path loss of an InH-Office LOS link (Table 7.4.1-1), open and mixed office alike.

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance; the table bounds d3D to 1 m ... 150 m. [m]
    h_bs_m, h_ut_m : array_like
        Antenna heights, 0.5 to 25 m (table defaults 3 m and 1 m, Table 7.2-2). [m]
    fc_ghz : array_like
        Carrier frequency, 0.5 to 100 GHz. [GHz]
    out_of_range : {'raise', 'nan', 'clip', 'extrapolate'}, default 'raise'
        Policy for d3D outside 1 m to 150 m (``clip`` clips d3D).

    Returns
    -------
    path_loss_db : ndarray
        PL = 32.4 + 17.3 log10(d3D) + 20 log10(fc), broadcast shape of the inputs. [dB]

    Raises
    ------
    OutOfValidityRangeError
        If a height or ``fc_ghz`` (always) or d3D (with ``out_of_range='raise'``, reported as
        ``d3d_m``) lies outside the range.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1 (scenario InH-Office, LOS).

    Examples
    --------
    >>> round(float(inh_los_path_loss_db(20.0, 3.0, 1.0, 3.5)), 2)
    65.83
    """
    d3d = _indoor_d3d(d2d_m, h_bs_m, h_ut_m, fc_ghz, "InH-office-mixed", out_of_range)
    return _inh_los_db(d3d, fc_ghz)


def inh_nlos_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, out_of_range: OutOfRange = "raise"):
    """Basic path loss of an InH-Office NLOS link, max(PL_InH-LOS, PL'_InH-NLOS) (Table 7.4.1-1).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance; the table bounds d3D to 1 m ... 150 m. [m]
    h_bs_m, h_ut_m : array_like
        Antenna heights, 0.5 to 25 m. [m]
    fc_ghz : array_like
        Carrier frequency, 0.5 to 100 GHz. [GHz]
    out_of_range : {'raise', 'nan', 'clip', 'extrapolate'}, default 'raise'
        Policy for d3D outside 1 m to 150 m.

    Returns
    -------
    path_loss_db : ndarray
        Basic path loss, broadcast shape of the inputs. [dB]

    Raises
    ------
    OutOfValidityRangeError
        As :func:`inh_los_path_loss_db`.

    Notes
    -----
    PL' = 38.3 log10(d3D) + 17.30 + 24.9 log10(fc). The optional PL' = 32.4 + 20 log10(fc)
    + 31.9 log10(d3D) is not implemented.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1 (scenario InH-Office, NLOS).

    Examples
    --------
    >>> round(float(inh_nlos_path_loss_db(20.0, 3.0, 1.0, 3.5)), 2)
    80.76
    """
    d3d = _indoor_d3d(d2d_m, h_bs_m, h_ut_m, fc_ghz, "InH-office-mixed", out_of_range)
    pl_nlos = 38.3 * _log10(d3d) + 17.30 + 24.9 * _log10(fc_ghz)
    return np.maximum(_inh_los_db(d3d, fc_ghz), pl_nlos)


_INF_NLOS = {  # PL' = a + b log10(d3D) + 20 log10(fc), Table 7.4.1-1
    "SL": (33.0, 25.5), "DL": (18.6, 35.7), "SH": (32.4, 23.0), "DH": (33.63, 21.9),
}


def inf_los_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, out_of_range: OutOfRange = "raise"):
    """Basic path loss of an InF LOS link, every sub-scenario including HH (Table 7.4.1-1).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance; the table bounds d3D to 1 m ... 600 m. [m]
    h_bs_m, h_ut_m : array_like
        Antenna heights, 0.5 to 25 m (below the hall ceiling of Table 7.2-4). [m]
    fc_ghz : array_like
        Carrier frequency, 0.5 to 100 GHz. [GHz]
    out_of_range : {'raise', 'nan', 'clip', 'extrapolate'}, default 'raise'
        Policy for d3D outside 1 m to 600 m.

    Returns
    -------
    path_loss_db : ndarray
        PL = 31.84 + 21.50 log10(d3D) + 19.00 log10(fc), broadcast shape of the inputs. [dB]

    Raises
    ------
    OutOfValidityRangeError
        If a height or ``fc_ghz`` (always) or d3D (with ``out_of_range='raise'``) lies outside
        the range.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1 (scenario InF, LOS).

    Examples
    --------
    >>> round(float(inf_los_path_loss_db(50.0, 8.0, 1.5, 3.5)), 2)
    78.78
    """
    d3d = _indoor_d3d(d2d_m, h_bs_m, h_ut_m, fc_ghz, "InF-SL", out_of_range)
    return _inf_los_db(d3d, fc_ghz)


def inf_nlos_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, subscenario: InFSubscenario,
                          out_of_range: OutOfRange = "raise"):
    """Basic path loss of an InF NLOS link (Table 7.4.1-1).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance; the table bounds d3D to 1 m ... 600 m. [m]
    h_bs_m, h_ut_m : array_like
        Antenna heights, 0.5 to 25 m. [m]
    fc_ghz : array_like
        Carrier frequency, 0.5 to 100 GHz. [GHz]
    subscenario : {'SL', 'DL', 'SH', 'DH'}
        InF sub-scenario. InF-HH has no NLOS row (see :func:`path_loss_db`).
    out_of_range : {'raise', 'nan', 'clip', 'extrapolate'}, default 'raise'
        Policy for d3D outside 1 m to 600 m.

    Returns
    -------
    path_loss_db : ndarray
        Basic path loss, broadcast shape of the inputs. [dB]

    Raises
    ------
    InvalidChoiceError
        If ``subscenario`` is not one of the four (``'HH'`` included).
    OutOfValidityRangeError
        As :func:`inf_los_path_loss_db`.

    Notes
    -----
    SL: max(PL_LOS, 33 + 25.5 log10 d3D + 20 log10 fc); DL: max(PL_LOS, PL_SL, 18.6 + 35.7 log10 d3D
    + 20 log10 fc); SH: max(PL_LOS, 32.4 + 23.0 log10 d3D + 20 log10 fc); DH: max(PL_LOS, 33.63 +
    21.9 log10 d3D + 20 log10 fc).

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1 (scenario InF, NLOS).

    Examples
    --------
    >>> round(float(inf_nlos_path_loss_db(50.0, 8.0, 1.5, 3.5, subscenario="DL")), 2)
    90.26
    """
    check_choice("subscenario", subscenario, tuple(_INF_NLOS))
    d3d = _indoor_d3d(d2d_m, h_bs_m, h_ut_m, fc_ghz, f"InF-{subscenario}", out_of_range)
    fc_term = 20.0 * _log10(fc_ghz)
    a, b = _INF_NLOS[subscenario]
    pl = np.maximum(_inf_los_db(d3d, fc_ghz), a + b * _log10(d3d) + fc_term)
    if subscenario == "DL":
        a_sl, b_sl = _INF_NLOS["SL"]
        pl = np.maximum(pl, a_sl + b_sl * _log10(d3d) + fc_term)
    return pl


# --------------------------------------------------------------------------- dispatch

def _path_loss_pair(scenario, h_e_m, building_height_m, street_width_m, out_of_range):
    """(LOS function, NLOS function) of ``scenario``, both taking (d2d, h_bs, h_ut, fc)."""
    if scenario == "RMa":
        kw = dict(building_height_m=building_height_m, street_width_m=street_width_m, out_of_range=out_of_range)
        return (lambda *a: rma_los_path_loss_db(*a, **kw)), (lambda *a: rma_nlos_path_loss_db(*a, **kw))
    if scenario == "UMa":
        kw = dict(h_e_m=h_e_m, out_of_range=out_of_range)
        return (lambda *a: uma_los_path_loss_db(*a, **kw)), (lambda *a: uma_nlos_path_loss_db(*a, **kw))
    if scenario == "UMi":
        return (lambda *a: umi_los_path_loss_db(*a, out_of_range=out_of_range),
                lambda *a: umi_nlos_path_loss_db(*a, out_of_range=out_of_range))
    if scenario.startswith("InH"):
        return (lambda *a: inh_los_path_loss_db(*a, out_of_range=out_of_range),
                lambda *a: inh_nlos_path_loss_db(*a, out_of_range=out_of_range))
    sub = scenario.split("-")[1]

    def f_los(*a):
        return inf_los_path_loss_db(*a, out_of_range=out_of_range)

    if sub == "HH":          # no NLOS row: LOS-only scenario (see module docstring)
        return f_los, f_los
    return f_los, (lambda *a: inf_nlos_path_loss_db(*a, subscenario=sub, out_of_range=out_of_range))


def path_loss_db(scenario: Scenario, d2d_m, h_bs_m, h_ut_m, fc_ghz, los, *, out_of_range: OutOfRange = "raise",
                 h_e_m=1.0, building_height_m=5.0, street_width_m=20.0, clutter_density=None,
                 clutter_height_m=None, clutter_size_m=None):
    """Basic path loss of ``scenario`` for LOS or NLOS links (Table 7.4.1-1), without shadow fading.

    Parameters
    ----------
    scenario : {'RMa', 'UMa', 'UMi', 'InH-office-mixed', 'InH-office-open', 'InF-SL', 'InF-DL', \
'InF-SH', 'InF-DH', 'InF-HH'}
        TR 38.901 scenario.
    d2d_m : array_like
        Horizontal BS-UT distance. [m]
    h_bs_m, h_ut_m : array_like
        Antenna heights. [m]
    fc_ghz : array_like
        Carrier frequency. [GHz]
    los : bool or array_like of bool
        True for LOS links; an array broadcasts with ``d2d_m``.
    out_of_range : {'raise', 'nan', 'clip', 'extrapolate'}, default 'raise'
        Distance policy; each link is checked against the range of its own state
        (:func:`d2d_range_m`).
    h_e_m : array_like, default 1.0
        UMa effective environment height (ignored by the other scenarios; UMi uses 1 m). [m]
    building_height_m, street_width_m : array_like, default 5.0, 20.0
        RMa average building height and street width (ignored elsewhere). [m]
    clutter_density, clutter_height_m, clutter_size_m : array_like, optional
        InF clutter parameters. Accepted for a call signature shared with :func:`los_probability`;
        the Table 7.4.1-1 path loss does not depend on them.

    Returns
    -------
    path_loss_db : ndarray
        Basic path loss, broadcast shape of the inputs. [dB]

    Raises
    ------
    InvalidChoiceError
        If ``scenario`` is unknown (the message lists the choices).
    OutOfValidityRangeError
        As the per-scenario functions.

    Notes
    -----
    InF-HH has no NLOS row (Table 7.4.2-1 gives it LOS probability 1); an InF-HH link with
    ``los=False`` gets the LOS path loss, so that a forced-NLOS map of an InF-HH hall still runs.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1.

    Examples
    --------
    >>> path_loss_db("UMa", [100.0, 1000.0], 25.0, 1.5, 3.5, los=False).round(2).tolist()
    [103.04, 141.67]
    """
    check_choice("scenario", scenario, SCENARIOS)
    f_los, f_nlos = _path_loss_pair(scenario, h_e_m, building_height_m, street_width_m, out_of_range)
    los = np.asarray(los, dtype=bool)
    if los.ndim == 0:
        return (f_los if bool(los) else f_nlos)(d2d_m, h_bs_m, h_ut_m, fc_ghz)
    # NaN passes every range check: each link is checked (and computed) only in its own state
    d = _f(d2d_m)
    pl_los = f_los(np.where(los, d, np.nan), h_bs_m, h_ut_m, fc_ghz)
    pl_nlos = f_nlos(np.where(los, np.nan, d), h_bs_m, h_ut_m, fc_ghz)
    return np.where(los, pl_los, pl_nlos)


def d2d_range_m(scenario: Scenario, los: bool, *, h_bs_m=None, h_ut_m=None) -> tuple[float, float]:
    """The d2D validity range that the path-loss function of ``scenario`` enforces [m].

    Parameters
    ----------
    scenario : str
        TR 38.901 scenario (see :func:`path_loss_db`).
    los : bool
        Link state.
    h_bs_m, h_ut_m : float, optional
        Antenna heights. InH/InF bound d3D (1 m to 150 m / 600 m); with both heights the exact d2D
        range is returned, without them the d3D bounds themselves, which are exact for
        h_BS = h_UT and, for the lower bound, always safe (d2D >= 1 m implies d3D >= 1 m).

    Returns
    -------
    low_m, high_m : float
        Lowest and highest d2D accepted with ``out_of_range='raise'``. [m]

    Raises
    ------
    InvalidChoiceError
        If ``scenario`` is unknown.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1 (applicability ranges).

    Examples
    --------
    >>> d2d_range_m("UMa", False)
    (10.0, 5000.0)
    >>> d2d_range_m("InF-SL", True)
    (1.0, 600.0)
    """
    check_choice("scenario", scenario, SCENARIOS)
    if scenario == "RMa":
        return (10.0, 10_000.0 if los else 5_000.0)
    if scenario in ("UMa", "UMi"):
        return (10.0, 5_000.0)
    high = _D3D_HIGH_M[scenario[:3]]
    if h_bs_m is None or h_ut_m is None:
        return (1.0, high)
    dh2 = (float(h_bs_m) - float(h_ut_m)) ** 2
    return (float(np.sqrt(max(1.0 - dh2, 0.0))), float(np.sqrt(max(high * high - dh2, 0.0))))


# --------------------------------------------------------------------------- LOS probability

def _check_d_nonnegative(name, d):
    return check_range(name, d, 0.0, np.inf, source=_TABLE_LOS)


def rma_los_probability(d2d_out_m):
    """LOS probability of RMa (Table 7.4.2-1).

    Parameters
    ----------
    d2d_out_m : array_like
        Outdoor horizontal distance d_2D-out, >= 0 (any length). [m]

    Returns
    -------
    los_probability : ndarray
        1 for d <= 10 m, exp(-(d - 10)/1000) beyond.

    Raises
    ------
    OutOfValidityRangeError
        If a distance is negative.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.2-1 (RMa).

    Examples
    --------
    >>> round(float(rma_los_probability(1010.0)), 4)
    0.3679
    """
    d = _check_d_nonnegative("d2d_out_m", d2d_out_m)
    return np.where(d <= 10.0, 1.0, np.exp(-(np.maximum(d, 10.0) - 10.0) / 1000.0))


def umi_los_probability(d2d_out_m):
    """LOS probability of UMi-Street Canyon (Table 7.4.2-1).

    Parameters
    ----------
    d2d_out_m : array_like
        Outdoor horizontal distance d_2D-out, >= 0. [m]

    Returns
    -------
    los_probability : ndarray
        1 for d <= 18 m, 18/d + exp(-d/36) (1 - 18/d) beyond.

    Raises
    ------
    OutOfValidityRangeError
        If a distance is negative.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.2-1 (UMi-Street Canyon).

    Examples
    --------
    >>> round(float(umi_los_probability(100.0)), 4)
    0.231
    """
    d = _check_d_nonnegative("d2d_out_m", d2d_out_m)
    dd = np.maximum(d, 18.0)          # the formula's own domain; d <= 18 m is 1 below
    return np.where(d <= 18.0, 1.0, 18.0 / dd + np.exp(-dd / 36.0) * (1.0 - 18.0 / dd))


def uma_los_probability(d2d_out_m, h_ut_m):
    """LOS probability of UMa (Table 7.4.2-1).

    Parameters
    ----------
    d2d_out_m : array_like
        Outdoor horizontal distance d_2D-out, >= 0. [m]
    h_ut_m : array_like
        UT height, at most 23 m. [m]

    Returns
    -------
    los_probability : ndarray
        1 for d <= 18 m, else [18/d + exp(-d/63)(1 - 18/d)] (1 + C'(h_UT) 5/4 (d/100)^3 exp(-d/150)),
        C'(h_UT) = 0 for h_UT <= 13 m and ((h_UT - 13)/10)^1.5 for 13 m < h_UT <= 23 m, capped at 1:
        for high UTs the table's product exceeds 1 just beyond 18 m (1.0006 at d = 18.1 m,
        h_UT = 18 m), which no probability may.

    Raises
    ------
    OutOfValidityRangeError
        If a distance is negative or ``h_ut_m`` lies outside 0 to 23 m.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.2-1 (UMa).

    Examples
    --------
    >>> round(float(uma_los_probability(100.0, 1.5)), 4)
    0.3477
    """
    d = _check_d_nonnegative("d2d_out_m", d2d_out_m)
    h = check_range("h_ut_m", h_ut_m, 0.0, 23.0, source=_TABLE_LOS)
    c = ((np.maximum(h, 13.0) - 13.0) / 10.0) ** 1.5          # 0 for h_UT <= 13 m
    dd = np.maximum(d, 18.0)
    p = (18.0 / dd + np.exp(-dd / 63.0) * (1.0 - 18.0 / dd)) * (
        1.0 + c * 1.25 * (dd / 100.0) ** 3 * np.exp(-dd / 150.0))
    return np.where(d <= 18.0, 1.0, np.minimum(p, 1.0))


def inh_mixed_los_probability(d2d_m):
    """LOS probability of InH-Office, mixed office (Table 7.4.2-1).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal distance, >= 0. [m]

    Returns
    -------
    los_probability : ndarray
        1 for d <= 1.2 m; exp(-(d - 1.2)/4.7) for 1.2 m < d < 6.5 m; 0.32 exp(-(d - 6.5)/32.6) beyond.

    Raises
    ------
    OutOfValidityRangeError
        If a distance is negative.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.2-1 (InH-Office-Mixed).

    Examples
    --------
    >>> round(float(inh_mixed_los_probability(10.0)), 4)
    0.2874
    """
    d = _check_d_nonnegative("d2d_m", d2d_m)
    return np.where(d <= 1.2, 1.0, np.where(d < 6.5, np.exp(-(d - 1.2) / 4.7),
                                            0.32 * np.exp(-(np.maximum(d, 6.5) - 6.5) / 32.6)))


def inh_open_los_probability(d2d_m):
    """LOS probability of InH-Office, open office (Table 7.4.2-1).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal distance, >= 0. [m]

    Returns
    -------
    los_probability : ndarray
        1 for d <= 5 m; exp(-(d - 5)/70.8) for 5 m < d <= 49 m; 0.54 exp(-(d - 49)/211.7) beyond.

    Raises
    ------
    OutOfValidityRangeError
        If a distance is negative.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.2-1 (InH-Office-Open).

    Examples
    --------
    >>> round(float(inh_open_los_probability(20.0)), 4)
    0.8091
    """
    d = _check_d_nonnegative("d2d_m", d2d_m)
    return np.where(d <= 5.0, 1.0, np.where(d <= 49.0, np.exp(-(d - 5.0) / 70.8),
                                            0.54 * np.exp(-(np.maximum(d, 49.0) - 49.0) / 211.7)))


def inf_los_probability(d2d_m, h_bs_m, h_ut_m, *, subscenario: InFLosSubscenario,
                        clutter_density=None, clutter_height_m=None, clutter_size_m=None):
    """LOS probability of InF, exp(-d2D / k_subsce) (Table 7.4.2-1).

    Parameters
    ----------
    d2d_m : array_like
        Horizontal distance, >= 0. [m]
    h_bs_m, h_ut_m : array_like
        Antenna heights (used by SH and DH only; pass None for the others). [m]
    subscenario : {'SL', 'DL', 'SH', 'DH', 'HH'}
        InF sub-scenario.
    clutter_density : array_like, optional
        Clutter density r: 0 <= r < 0.4 for SL/SH, 0.4 <= r <= 0.99 for DL/DH (Table 7.2-4).
    clutter_height_m : array_like, optional
        Effective clutter height h_c, 0 to 10 m (Table 7.2-4); SH/DH need h_c < h_BS. [m]
    clutter_size_m : array_like, optional
        Clutter size d_clutter, > 0. [m]
        Missing clutter parameters default to :data:`INF_CLUTTER_DEFAULTS` (Table 7.8-7).

    Returns
    -------
    los_probability : ndarray
        SL, DL: k = -d_clutter / ln(1 - r); SH, DH: k = -d_clutter / ln(1 - r) (h_BS - h_UT)/(h_c - h_UT);
        HH: 1.

    Raises
    ------
    InvalidChoiceError
        If ``subscenario`` is unknown.
    OutOfValidityRangeError
        If a clutter parameter lies outside its range, or for SH/DH the BS is not above the clutter.

    Notes
    -----
    Written as (1 - r)^(d/d_clutter) [times (h_c - h_UT)/(h_BS - h_UT) in the exponent for SH/DH],
    the same function without a division by ln(1) at r = 0. The SH/DH formula assumes the UT below
    the clutter (h_UT < h_c); a UT at or above it sees the high BS over the clutter: probability 1.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.2-1 (InF) and Table 7.2-4 (clutter parameters).

    Examples
    --------
    >>> round(float(inf_los_probability(10.0, 8.0, 1.5, subscenario="SL")), 4)
    0.8
    """
    check_choice("subscenario", subscenario, ("SL", "DL", "SH", "DH", "HH"))
    d = _check_d_nonnegative("d2d_m", d2d_m)
    if subscenario == "HH":
        return np.ones_like(d)
    r0, hc0, dc0 = INF_CLUTTER_DEFAULTS[f"InF-{subscenario}"]
    r = check_range("clutter_density", r0 if clutter_density is None else clutter_density,
                    *_INF_DENSITY_RANGE[subscenario], source=f"{SPEC} Table 7.2-4 (InF-{subscenario})")
    dc = _f(dc0 if clutter_size_m is None else clutter_size_m)
    if np.any(dc <= 0.0):
        raise OutOfValidityRangeError(
            f"clutter_size_m={dc[dc <= 0.0].flat[0]:g} is not positive ({SPEC} Table 7.2-4)")
    log_p_per_m = np.log1p(-r) / dc                                    # ln(1 - r) / d_clutter <= 0
    if subscenario in ("SH", "DH"):
        hc = check_range("clutter_height_m", hc0 if clutter_height_m is None else clutter_height_m,
                         0.0, 10.0, source=f"{SPEC} Table 7.2-4")
        h_bs, h_ut = _f(h_bs_m), _f(h_ut_m)
        low_bs = np.broadcast_to(h_bs <= hc, np.broadcast_shapes(h_bs.shape, hc.shape))
        if np.any(low_bs):
            raise OutOfValidityRangeError(
                f"h_bs_m={np.broadcast_to(h_bs, low_bs.shape)[low_bs].flat[0]:g} is not above the clutter "
                f"height h_c, as InF-{subscenario} assumes ({_TABLE_LOS}); use InF-SL or InF-DL")
        below = h_ut < hc                                              # the formula's assumption
        # (h_c - h_UT)/(h_BS - h_UT) in (0, 1) where the UT is below the clutter (h_BS > h_c > h_UT)
        ratio = np.where(below, hc - h_ut, 0.0) / np.where(below, h_bs - h_ut, 1.0)
        return np.where(below, np.exp(d * log_p_per_m * ratio), 1.0)
    return np.exp(d * log_p_per_m)


def los_probability(scenario: Scenario, d2d_m, h_ut_m, *, h_bs_m=None, clutter_density=None,
                    clutter_height_m=None, clutter_size_m=None):
    """LOS probability of ``scenario`` at horizontal distance ``d2d_m`` (Table 7.4.2-1).

    Parameters
    ----------
    scenario : str
        TR 38.901 scenario (see :func:`path_loss_db`).
    d2d_m : array_like
        Horizontal distance, d_2D-out for UMa/UMi/RMa users indoors, >= 0 (any length: the map
        engine tabulates it from 0 m to tens of km). [m]
    h_ut_m : array_like
        UT height (UMa, InF-SH/DH). [m]
    h_bs_m : array_like, optional
        BS height; required for InF-SH and InF-DH. [m]
    clutter_density, clutter_height_m, clutter_size_m : array_like, optional
        InF clutter parameters (see :func:`inf_los_probability`).

    Returns
    -------
    los_probability : ndarray
        Probability in [0, 1], broadcast shape of the inputs.

    Raises
    ------
    InvalidChoiceError
        If ``scenario`` is unknown.
    TypeError
        If ``h_bs_m`` is missing for InF-SH or InF-DH.
    OutOfValidityRangeError
        As the per-scenario functions.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.2-1.

    Examples
    --------
    >>> round(float(los_probability("UMi", 100.0, 1.5)), 4)
    0.231
    """
    check_choice("scenario", scenario, SCENARIOS)
    if scenario == "RMa":
        return rma_los_probability(d2d_m)
    if scenario == "UMa":
        return uma_los_probability(d2d_m, h_ut_m)
    if scenario == "UMi":
        return umi_los_probability(d2d_m)
    if scenario == "InH-office-mixed":
        return inh_mixed_los_probability(d2d_m)
    if scenario == "InH-office-open":
        return inh_open_los_probability(d2d_m)
    if h_bs_m is None and scenario in ("InF-SH", "InF-DH"):
        raise TypeError(f"los_probability({scenario!r}, ...) needs h_bs_m: k_subsce depends on the BS height")
    return inf_los_probability(d2d_m, h_bs_m, h_ut_m, subscenario=scenario.split("-")[1],
                               clutter_density=clutter_density, clutter_height_m=clutter_height_m,
                               clutter_size_m=clutter_size_m)


# --------------------------------------------------------------------------- shadow fading

_SF_STD_DB = {  # (LOS, NLOS), Table 7.4.1-1. InF-HH: LOS only, its NLOS links use the LOS model.
    "UMa": (4.0, 6.0), "UMi": (4.0, 7.82), "InH-office-mixed": (3.0, 8.03), "InH-office-open": (3.0, 8.03),
    "InF-SL": (4.3, 5.7), "InF-DL": (4.3, 7.2), "InF-SH": (4.3, 5.9), "InF-DH": (4.3, 4.0), "InF-HH": (4.3, 4.3),
}


def shadow_fading_std_db(scenario: Scenario, los, *, d2d_m=None, h_bs_m=None, h_ut_m=None, fc_ghz=None):
    """Shadow-fading standard deviation sigma_SF of Table 7.4.1-1 [dB].

    Parameters
    ----------
    scenario : str
        TR 38.901 scenario (see :func:`path_loss_db`).
    los : bool or array_like of bool
        Link state.
    d2d_m, h_bs_m, h_ut_m, fc_ghz : array_like, optional
        Link geometry [m, m, m, GHz]. RMa LOS needs all four (4 dB up to the breakpoint d_BP, 6 dB
        beyond); elsewhere only ``d2d_m`` is read, to broadcast the result to its shape.

    Returns
    -------
    sigma_sf_db : ndarray
        Standard deviation, broadcast shape of ``los`` (and ``d2d_m``). [dB]

    Raises
    ------
    InvalidChoiceError
        If ``scenario`` is unknown.
    TypeError
        If RMa LOS links are asked for without the geometry.

    Notes
    -----
    RMa NLOS is 8 dB. InF-HH has no NLOS row; its NLOS links get the LOS spread 4.3 dB, consistent
    with :func:`path_loss_db`.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1 (column "Shadow fading std").

    Examples
    --------
    >>> float(shadow_fading_std_db("UMi", False))
    7.82
    >>> shadow_fading_std_db("RMa", True, d2d_m=[1000.0, 5000.0], h_bs_m=35.0, h_ut_m=1.5, fc_ghz=3.5).tolist()
    [4.0, 6.0]
    """
    check_choice("scenario", scenario, SCENARIOS)
    los = np.asarray(los, dtype=bool)
    if scenario == "RMa":
        if not np.any(los):
            sigma_los = 4.0       # not used
        elif d2d_m is None or h_bs_m is None or h_ut_m is None or fc_ghz is None:
            raise TypeError("shadow_fading_std_db('RMa', los=True) needs d2d_m, h_bs_m, h_ut_m and fc_ghz: "
                            "sigma_SF is 4 dB before the breakpoint and 6 dB after it")
        else:
            d_bp = rma_breakpoint_distance_m(h_bs_m, h_ut_m, fc_ghz)
            sigma_los = np.where(_f(d2d_m) <= d_bp, 4.0, 6.0)
        out = np.where(los, sigma_los, 8.0)
    else:
        s_los, s_nlos = _SF_STD_DB[scenario]
        out = np.where(los, s_los, s_nlos)
    if d2d_m is not None:
        out = np.broadcast_to(out, np.broadcast_shapes(out.shape, np.shape(d2d_m)))
    return out


_SF_DECORRELATION_M = {  # (LOS, NLOS), Table 7.5-6, "Correlation distance in the horizontal plane", SF
    "RMa": (37.0, 120.0), "UMa": (37.0, 50.0), "UMi": (10.0, 13.0),
    "InH-office-mixed": (10.0, 6.0), "InH-office-open": (10.0, 6.0),
    "InF-SL": (10.0, 10.0), "InF-DL": (10.0, 10.0), "InF-SH": (10.0, 10.0), "InF-DH": (10.0, 10.0),
    "InF-HH": (10.0, 10.0),
}


def sf_decorrelation_distance_m(scenario: Scenario, los: bool) -> float:
    """Correlation distance of shadow fading in the horizontal plane (Table 7.5-6) [m].

    Parameters
    ----------
    scenario : str
        TR 38.901 scenario (see :func:`path_loss_db`).
    los : bool
        Link state.

    Returns
    -------
    d_cor_m : float
        Distance at which the SF autocorrelation falls to 1/e. [m]

    Raises
    ------
    InvalidChoiceError
        If ``scenario`` is unknown.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.5-6 (parts 1 to 3), row "Correlation distance in the
       horizontal plane [m]", column SF.

    Examples
    --------
    >>> sf_decorrelation_distance_m("UMa", False)
    50.0
    """
    check_choice("scenario", scenario, SCENARIOS)
    return _SF_DECORRELATION_M[scenario][0 if los else 1]


_LOS_DECORRELATION_M = {  # Table 7.6.3.1-2, correlation distance of the LOS state
    "RMa": 60.0, "UMa": 50.0, "UMi": 50.0, "InH-office-mixed": 10.0, "InH-office-open": 10.0,
}


def los_decorrelation_distance_m(scenario: Scenario, *, clutter_size_m: float | None = None) -> float:
    """Correlation distance of the spatially consistent LOS state (Table 7.6.3.1-2) [m].

    Parameters
    ----------
    scenario : str
        TR 38.901 scenario (see :func:`path_loss_db`).
    clutter_size_m : float, optional
        InF clutter size d_clutter; default from :data:`INF_CLUTTER_DEFAULTS`. [m]

    Returns
    -------
    d_cor_m : float
        RMa 60 m, UMa and UMi 50 m, InH 10 m, InF d_clutter / 2. [m]

    Raises
    ------
    InvalidChoiceError
        If ``scenario`` is unknown.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.6.3.1-2.

    Examples
    --------
    >>> los_decorrelation_distance_m("UMa")
    50.0
    >>> los_decorrelation_distance_m("InF-DL")
    1.0
    """
    check_choice("scenario", scenario, SCENARIOS)
    if scenario.startswith("InF"):
        dc = INF_CLUTTER_DEFAULTS[scenario][2] if clutter_size_m is None else float(clutter_size_m)
        return dc / 2.0
    return _LOS_DECORRELATION_M[scenario]


# --------------------------------------------------------------------------- random helpers

def uma_effective_environment_height_m(d2d_m, h_ut_m, *, rng: np.random.Generator):
    """Draw the UMa effective environment height h_E per link (Table 7.4.1-1, Note 1) [m].

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS-UT distance. [m]
    h_ut_m : array_like
        UT height, 1.5 to 22.5 m. [m]
    rng : numpy.random.Generator
        Source of randomness (two uniform draws per link).

    Returns
    -------
    h_e_m : ndarray
        h_E, broadcast shape of ``d2d_m`` and ``h_ut_m``. [m]

    Raises
    ------
    OutOfValidityRangeError
        If ``h_ut_m`` lies outside 1.5 to 22.5 m.

    Notes
    -----
    h_E = 1 m with probability 1/(1 + C(d2D, h_UT)), else uniform over {12, 15, ..., h_UT - 1.5};
    C = 0 for h_UT < 13 m and ((h_UT - 13)/10)^1.5 g(d2D) for 13 m <= h_UT <= 23 m, with g = 0 for
    d2D <= 18 m and 5/4 (d2D/100)^3 exp(-d2D/150) beyond. For 13 m <= h_UT < 13.5 m the set is
    empty and h_E = 1 m.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1, Note 1.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> uma_effective_environment_height_m([100.0, 100.0], 1.5, rng=rng).tolist()
    [1.0, 1.0]
    """
    d, h = np.broadcast_arrays(_f(d2d_m), _f(h_ut_m))
    check_range("h_ut_m", h, *URBAN_H_UT_RANGE_M, source=_TABLE_PL)
    dd = np.maximum(d, 18.0)
    g = np.where(d <= 18.0, 0.0, 1.25 * (dd / 100.0) ** 3 * np.exp(-dd / 150.0))
    c = ((np.maximum(h, 13.0) - 13.0) / 10.0) ** 1.5 * g          # 0 for h_UT < 13 m
    keep_one = rng.uniform(size=d.shape) < 1.0 / (1.0 + c)
    n_choices = np.maximum(np.floor((h - 1.5 - 12.0) / 3.0) + 1.0, 1.0)
    pick = np.floor(rng.uniform(size=d.shape) * n_choices)
    return np.where(keep_one | (h < 13.5), 1.0, 12.0 + 3.0 * pick)


def indoor_ut_height_m(size, *, rng: np.random.Generator, n_floors_low: int = 4, n_floors_high: int = 8):
    """Draw heights of indoor UTs in UMa/UMi buildings, h_UT = 3 (n_fl - 1) + 1.5 [m].

    Parameters
    ----------
    size : int or tuple of int
        Output shape.
    rng : numpy.random.Generator
        Source of randomness.
    n_floors_low, n_floors_high : int, default 4, 8
        Range of the building's floor count N_fl ~ U{n_floors_low, ..., n_floors_high}.

    Returns
    -------
    h_ut_m : ndarray
        n_fl ~ U{1, ..., N_fl} per UT: heights 1.5, 4.5, ..., 3 n_floors_high - 1.5. [m]

    Raises
    ------
    OutOfValidityRangeError
        If the floor counts are not 1 <= n_floors_low <= n_floors_high <= 8 (22.5 m, the top of the
        UMa/UMi h_UT range).

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.2-1 (UT height of UMa and UMi) and the h_UT range of
       Table 7.4.1-1.

    Examples
    --------
    >>> h = indoor_ut_height_m(1000, rng=np.random.default_rng(0))
    >>> bool(h.min() >= 1.5 and h.max() <= 22.5)
    True
    """
    check_range("n_floors_low", n_floors_low, 1, 8, source=f"{SPEC} Table 7.2-1")
    check_range("n_floors_high", n_floors_high, n_floors_low, 8, source=f"{SPEC} Table 7.2-1")
    n_fl_max = rng.integers(n_floors_low, n_floors_high + 1, size=size)
    n_fl = np.floor(rng.uniform(size=size) * n_fl_max).astype(int) + 1
    return 3.0 * (n_fl - 1) + 1.5
