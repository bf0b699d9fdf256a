"""Path loss, LOS probability and shadow fading of 3GPP TR 38.901, Section 7.4.

One function per table row; names follow the tables. Lengths in m, fc in GHz, losses in dB.
Every function broadcasts its array arguments like numpy. Configuration outside the table's
validity range (carrier frequency, antenna heights) always raises
:class:`~cellscape.errors.OutOfValidityRangeError`; distances follow ``out_of_range``
(``"raise"`` by default, see :data:`cellscape._validate.OutOfRange`).

Scenario names: ``"RMa"``, ``"UMa"``, ``"UMi"`` (UMi-Street Canyon), ``"InH-office-mixed"``,
``"InH-office-open"`` (same path loss, different LOS probability), ``"InF-SL"``, ``"InF-DL"``,
``"InF-SH"``, ``"InF-DH"``, ``"InF-HH"``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from cellscape._validate import OutOfRange, apply_range, check_choice, check_range
from cellscape.units import SPEED_OF_LIGHT_M_S

SPEC = "3GPP TR 38.901 V18.0.0"
"""The version these formulas were checked against (unchanged in V19.0.0 for Section 7.4)."""

_TABLE_PL = f"{SPEC} Table 7.4.1-1"
_TABLE_LOS = f"{SPEC} Table 7.4.2-1"

SCENARIOS: tuple[str, ...] = (
    "RMa", "UMa", "UMi", "InH-office-mixed", "InH-office-open",
    "InF-SL", "InF-DL", "InF-SH", "InF-DH", "InF-HH",
)

FC_RANGE_GHZ = {"RMa": (0.5, 30.0)}
"""Carrier-frequency validity per scenario (Table 7.4.1-1 notes: RMa is validated to 30 GHz;
all other scenarios 0.5-100 GHz)."""

# Heights. UMa and UMi list a single nominal h_BS (25 m / 10 m); the formulas stay physical for
# rooftop and lamp-post heights around it, so we accept the ranges below (documented extension).
UMA_H_BS_RANGE_M = (10.0, 50.0)
UMI_H_BS_RANGE_M = (3.0, 25.0)
RMA_H_BS_RANGE_M = (10.0, 150.0)
URBAN_H_UT_RANGE_M = (1.5, 22.5)
RMA_H_UT_RANGE_M = (1.0, 10.0)
INDOOR_H_RANGE_M = (0.5, 30.0)     # InH / InF: heights inside a hall (not constrained by the table)


def _fc_range(scenario: str) -> tuple[float, float]:
    return FC_RANGE_GHZ.get(scenario, (0.5, 100.0))


def _d3d_m(d2d_m, h_bs_m, h_ut_m):
    return np.sqrt(np.square(d2d_m) + np.square(np.asarray(h_bs_m, dtype=float) - h_ut_m))


def _log10(x):
    return np.log10(np.asarray(x, dtype=float))


# --------------------------------------------------------------------------- breakpoints

def breakpoint_distance_m(h_bs_m, h_ut_m, fc_ghz, *, h_e_m=1.0):
    """Breakpoint distance d'_BP of UMa/UMi (Table 7.4.1-1, Note 1) [m].

    d'_BP = 4 h'_BS h'_UT f_c / c with effective heights h' = h - h_E.

    >>> round(float(breakpoint_distance_m(25.0, 1.5, 3.5)), 1)
    560.4
    """
    fc_hz = np.asarray(fc_ghz, dtype=float) * 1e9
    h_e = np.asarray(h_e_m, dtype=float)
    return 4.0 * (np.asarray(h_bs_m, dtype=float) - h_e) * (np.asarray(h_ut_m, dtype=float) - h_e) * fc_hz / SPEED_OF_LIGHT_M_S


def rma_breakpoint_distance_m(h_bs_m, h_ut_m, fc_ghz):
    """Breakpoint distance d_BP of RMa (Table 7.4.1-1, Note 5) [m]: 2 pi h_BS h_UT f_c / c.

    >>> round(float(rma_breakpoint_distance_m(35.0, 1.5, 3.5)), 1)
    3851.1
    """
    fc_hz = np.asarray(fc_ghz, dtype=float) * 1e9
    return 2.0 * np.pi * np.asarray(h_bs_m, dtype=float) * np.asarray(h_ut_m, dtype=float) * fc_hz / SPEED_OF_LIGHT_M_S


# --------------------------------------------------------------------------- RMa

def _rma_checks(d2d_m, h_bs_m, h_ut_m, fc_ghz, building_height_m, street_width_m, high, out_of_range):
    check_range("fc_ghz", fc_ghz, *_fc_range("RMa"), source=_TABLE_PL)
    check_range("h_bs_m", h_bs_m, *RMA_H_BS_RANGE_M, source=_TABLE_PL)
    check_range("h_ut_m", h_ut_m, *RMA_H_UT_RANGE_M, source=_TABLE_PL)
    check_range("building_height_m", building_height_m, 5.0, 50.0, source=_TABLE_PL)
    check_range("street_width_m", street_width_m, 5.0, 50.0, source=_TABLE_PL)
    return apply_range("d2d_m", d2d_m, 10.0, high, source=_TABLE_PL, policy=out_of_range)


def _rma_pl1_db(d3d_m, fc_ghz, h_m):
    h = np.asarray(h_m, dtype=float)
    return (20.0 * _log10(40.0 * np.pi * d3d_m * fc_ghz / 3.0)
            + np.minimum(0.03 * h ** 1.72, 10.0) * _log10(d3d_m)
            - np.minimum(0.044 * h ** 1.72, 14.77)
            + 0.002 * _log10(h) * d3d_m)


def rma_los_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, building_height_m=5.0, street_width_m=20.0,
                         out_of_range: OutOfRange = "raise"):
    """RMa LOS path loss (Table 7.4.1-1) [dB].

    PL1 = 20 log10(40 pi d3D fc/3) + min(0.03 h^1.72, 10) log10(d3D) - min(0.044 h^1.72, 14.77)
    + 0.002 log10(h) d3D for 10 m <= d2D <= d_BP; PL2 = PL1(d_BP) + 40 log10(d3D/d_BP) up to 10 km.
    Valid for h_BS 10-150 m, h_UT 1-10 m, h (building height) and W (street width) 5-50 m.

    >>> round(float(rma_los_path_loss_db(1000.0, 35.0, 1.5, 3.5)), 2)
    105.46
    """
    d2d = _rma_checks(d2d_m, h_bs_m, h_ut_m, fc_ghz, building_height_m, street_width_m, 10_000.0, out_of_range)
    fc = np.asarray(fc_ghz, dtype=float)
    d3d = _d3d_m(d2d, h_bs_m, h_ut_m)
    d_bp = rma_breakpoint_distance_m(h_bs_m, h_ut_m, fc)
    pl1 = _rma_pl1_db(d3d, fc, building_height_m)
    pl2 = _rma_pl1_db(d_bp, fc, building_height_m) + 40.0 * _log10(d3d / d_bp)
    return np.where(d2d <= d_bp, pl1, pl2)


def rma_nlos_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, building_height_m=5.0, street_width_m=20.0,
                          out_of_range: OutOfRange = "raise"):
    """RMa NLOS path loss max(PL_RMa-LOS, PL'_RMa-NLOS) (Table 7.4.1-1) [dB], 10 m <= d2D <= 5 km.

    PL' = 161.04 - 7.1 log10(W) + 7.5 log10(h) - (24.37 - 3.7 (h/h_BS)^2) log10(h_BS)
    + (43.42 - 3.1 log10(h_BS)) (log10(d3D) - 3) + 20 log10(fc) - (3.2 (log10(11.75 h_UT))^2 - 4.97).

    >>> round(float(rma_nlos_path_loss_db(1000.0, 35.0, 1.5, 3.5)), 2)
    130.42
    """
    d2d = _rma_checks(d2d_m, h_bs_m, h_ut_m, fc_ghz, building_height_m, street_width_m, 5_000.0, out_of_range)
    fc = np.asarray(fc_ghz, dtype=float)
    h, w = np.asarray(building_height_m, dtype=float), np.asarray(street_width_m, dtype=float)
    h_bs, h_ut = np.asarray(h_bs_m, dtype=float), np.asarray(h_ut_m, dtype=float)
    d3d = _d3d_m(d2d, h_bs, h_ut)
    pl_nlos = (161.04 - 7.1 * _log10(w) + 7.5 * _log10(h) - (24.37 - 3.7 * (h / h_bs) ** 2) * _log10(h_bs)
               + (43.42 - 3.1 * _log10(h_bs)) * (_log10(d3d) - 3.0) + 20.0 * _log10(fc)
               - (3.2 * _log10(11.75 * h_ut) ** 2 - 4.97))
    los = rma_los_path_loss_db(d2d, h_bs, h_ut, fc, building_height_m=h, street_width_m=w, out_of_range="extrapolate")
    return np.maximum(los, pl_nlos)


# --------------------------------------------------------------------------- UMa

def _urban_checks(scenario, d2d_m, h_bs_m, h_ut_m, fc_ghz, out_of_range):
    check_range("fc_ghz", fc_ghz, *_fc_range(scenario), source=_TABLE_PL)
    check_range("h_bs_m", h_bs_m, *(UMA_H_BS_RANGE_M if scenario == "UMa" else UMI_H_BS_RANGE_M),
                source=f"{_TABLE_PL} ({scenario}, nominal h_BS extended by cellscape)")
    check_range("h_ut_m", h_ut_m, *URBAN_H_UT_RANGE_M, source=_TABLE_PL)
    return apply_range("d2d_m", d2d_m, 10.0, 5000.0, source=_TABLE_PL, policy=out_of_range)


def uma_los_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, h_e_m=1.0, out_of_range: OutOfRange = "raise"):
    r"""
    Basic path loss of an UMa LOS link, without shadow fading (Table 7.4.1-1).

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
        Effective environment height h_E (Note 1; drawn at random when h_UT > 13 m, see
        :func:`uma_effective_environment_height_m`). [m]
    out_of_range : {'raise', 'nan', 'clip', 'extrapolate'}, default 'raise'
        Policy for ``d2d_m`` outside 10 m to 5 km.

    Returns
    -------
    path_loss_db : ndarray
        Basic path loss. [dB]

    Raises
    ------
    OutOfValidityRangeError
        If a height or ``fc_ghz`` (always) or ``d2d_m`` (with ``out_of_range='raise'``) lies outside
        the table's validity range.

    Notes
    -----
    PL1 = 28.0 + 22 log10(d3D) + 20 log10(fc) for 10 m <= d2D <= d'_BP and
    PL2 = 28.0 + 40 log10(d3D) + 20 log10(fc) - 9 log10(d'_BP^2 + (h_BS - h_UT)^2) beyond.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.1-1 (UMa, LOS).

    Examples
    --------
    >>> round(float(uma_los_path_loss_db(100.0, 25.0, 1.5, 3.5)), 2)
    83.14
    """
    d2d = _urban_checks("UMa", d2d_m, h_bs_m, h_ut_m, fc_ghz, out_of_range)
    fc = np.asarray(fc_ghz, dtype=float)
    d3d = _d3d_m(d2d, h_bs_m, h_ut_m)
    d_bp = breakpoint_distance_m(h_bs_m, h_ut_m, fc, h_e_m=h_e_m)
    pl1 = 28.0 + 22.0 * _log10(d3d) + 20.0 * _log10(fc)
    pl2 = (28.0 + 40.0 * _log10(d3d) + 20.0 * _log10(fc)
           - 9.0 * _log10(d_bp ** 2 + (np.asarray(h_bs_m, dtype=float) - h_ut_m) ** 2))
    return np.where(d2d <= d_bp, pl1, pl2)


def uma_nlos_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, h_e_m=1.0, out_of_range: OutOfRange = "raise"):
    """UMa NLOS path loss max(PL_UMa-LOS, PL'_UMa-NLOS) (Table 7.4.1-1) [dB].

    PL' = 13.54 + 39.08 log10(d3D) + 20 log10(fc) - 0.6 (h_UT - 1.5), 10 m <= d2D <= 5 km.

    >>> round(float(uma_nlos_path_loss_db(100.0, 25.0, 1.5, 3.5)), 2)
    103.04
    """
    d2d = _urban_checks("UMa", d2d_m, h_bs_m, h_ut_m, fc_ghz, out_of_range)
    fc = np.asarray(fc_ghz, dtype=float)
    d3d = _d3d_m(d2d, h_bs_m, h_ut_m)
    pl_nlos = 13.54 + 39.08 * _log10(d3d) + 20.0 * _log10(fc) - 0.6 * (np.asarray(h_ut_m, dtype=float) - 1.5)
    los = uma_los_path_loss_db(d2d, h_bs_m, h_ut_m, fc, h_e_m=h_e_m, out_of_range="extrapolate")
    return np.maximum(los, pl_nlos)


# --------------------------------------------------------------------------- UMi

def umi_los_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, out_of_range: OutOfRange = "raise"):
    """UMi-Street Canyon LOS path loss (Table 7.4.1-1) [dB], h_E = 1 m.

    PL1 = 32.4 + 21 log10(d3D) + 20 log10(fc) up to d'_BP, PL2 = 32.4 + 40 log10(d3D) + 20 log10(fc)
    - 9.5 log10(d'_BP^2 + (h_BS - h_UT)^2) beyond, 10 m <= d2D <= 5 km.

    >>> round(float(umi_los_path_loss_db(100.0, 10.0, 1.5, 3.5)), 2)
    85.31
    """
    d2d = _urban_checks("UMi", d2d_m, h_bs_m, h_ut_m, fc_ghz, out_of_range)
    fc = np.asarray(fc_ghz, dtype=float)
    d3d = _d3d_m(d2d, h_bs_m, h_ut_m)
    d_bp = breakpoint_distance_m(h_bs_m, h_ut_m, fc, h_e_m=1.0)
    pl1 = 32.4 + 21.0 * _log10(d3d) + 20.0 * _log10(fc)
    pl2 = (32.4 + 40.0 * _log10(d3d) + 20.0 * _log10(fc)
           - 9.5 * _log10(d_bp ** 2 + (np.asarray(h_bs_m, dtype=float) - h_ut_m) ** 2))
    return np.where(d2d <= d_bp, pl1, pl2)


def umi_nlos_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, out_of_range: OutOfRange = "raise"):
    """UMi-Street Canyon NLOS path loss max(PL_UMi-LOS, PL'_UMi-NLOS) (Table 7.4.1-1) [dB].

    PL' = 35.3 log10(d3D) + 22.4 + 21.3 log10(fc) - 0.3 (h_UT - 1.5), 10 m <= d2D <= 5 km.

    >>> round(float(umi_nlos_path_loss_db(100.0, 10.0, 1.5, 3.5)), 2)
    104.64
    """
    d2d = _urban_checks("UMi", d2d_m, h_bs_m, h_ut_m, fc_ghz, out_of_range)
    fc = np.asarray(fc_ghz, dtype=float)
    d3d = _d3d_m(d2d, h_bs_m, h_ut_m)
    pl_nlos = 35.3 * _log10(d3d) + 22.4 + 21.3 * _log10(fc) - 0.3 * (np.asarray(h_ut_m, dtype=float) - 1.5)
    los = umi_los_path_loss_db(d2d, h_bs_m, h_ut_m, fc, out_of_range="extrapolate")
    return np.maximum(los, pl_nlos)


# --------------------------------------------------------------------------- InH / InF

def _indoor_d3d(d2d_m, h_bs_m, h_ut_m, fc_ghz, scenario, d3d_high, out_of_range):
    check_range("fc_ghz", fc_ghz, *_fc_range(scenario), source=_TABLE_PL)
    check_range("h_bs_m", h_bs_m, *INDOOR_H_RANGE_M, source=f"{_TABLE_PL} ({scenario})")
    check_range("h_ut_m", h_ut_m, *INDOOR_H_RANGE_M, source=f"{_TABLE_PL} ({scenario})")
    d3d = _d3d_m(np.asarray(d2d_m, dtype=float), h_bs_m, h_ut_m)
    return apply_range("d3d_m", d3d, 1.0, d3d_high, source=_TABLE_PL, policy=out_of_range)


def inh_los_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, out_of_range: OutOfRange = "raise"):
    """InH-Office LOS path loss 32.4 + 17.3 log10(d3D) + 20 log10(fc), 1 m <= d3D <= 150 m (Table 7.4.1-1) [dB].

    >>> round(float(inh_los_path_loss_db(20.0, 3.0, 1.0, 3.5)), 2)
    65.83
    """
    d3d = _indoor_d3d(d2d_m, h_bs_m, h_ut_m, fc_ghz, "InH-office-mixed", 150.0, out_of_range)
    return 32.4 + 17.3 * _log10(d3d) + 20.0 * _log10(fc_ghz)


def inh_nlos_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, out_of_range: OutOfRange = "raise"):
    """InH-Office NLOS path loss max(PL_InH-LOS, 38.3 log10(d3D) + 17.30 + 24.9 log10(fc)),
    1 m <= d3D <= 86 m (Table 7.4.1-1) [dB].

    >>> round(float(inh_nlos_path_loss_db(20.0, 3.0, 1.0, 3.5)), 2)
    80.76
    """
    d3d = _indoor_d3d(d2d_m, h_bs_m, h_ut_m, fc_ghz, "InH-office-mixed", 86.0, out_of_range)
    pl_nlos = 38.3 * _log10(d3d) + 17.30 + 24.9 * _log10(fc_ghz)
    return np.maximum(32.4 + 17.3 * _log10(d3d) + 20.0 * _log10(fc_ghz), pl_nlos)


InFSubscenario = Literal["SL", "DL", "SH", "DH"]

_INF_NLOS = {  # PL' = a + b log10(d3D) + 20 log10(fc), Table 7.4.1-1
    "SL": (33.0, 25.5), "DL": (18.6, 35.7), "SH": (32.4, 23.0), "DH": (33.63, 21.9),
}


def inf_los_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, out_of_range: OutOfRange = "raise"):
    """InF LOS path loss 31.84 + 21.50 log10(d3D) + 19.00 log10(fc), 1 m <= d3D <= 600 m (Table 7.4.1-1) [dB].

    >>> round(float(inf_los_path_loss_db(50.0, 8.0, 1.5, 3.5)), 2)
    78.78
    """
    d3d = _indoor_d3d(d2d_m, h_bs_m, h_ut_m, fc_ghz, "InF-SL", 600.0, out_of_range)
    return 31.84 + 21.50 * _log10(d3d) + 19.00 * _log10(fc_ghz)


def inf_nlos_path_loss_db(d2d_m, h_bs_m, h_ut_m, fc_ghz, *, subscenario: InFSubscenario,
                          out_of_range: OutOfRange = "raise"):
    """InF NLOS path loss (Table 7.4.1-1) [dB], 1 m <= d3D <= 600 m.

    SL: max(PL_LOS, 33 + 25.5 log10 d3D + 20 log10 fc); DL: max(PL_LOS, PL_SL, 18.6 + 35.7 log10 d3D
    + 20 log10 fc); SH: max(PL_LOS, 32.4 + 23.0 log10 d3D + 20 log10 fc); DH: max(PL_LOS, 33.63 +
    21.9 log10 d3D + 20 log10 fc). InF-HH has no NLOS model (LOS probability 1).

    >>> round(float(inf_nlos_path_loss_db(50.0, 8.0, 1.5, 3.5, subscenario="DL")), 2)
    90.26
    """
    check_choice("subscenario", subscenario, tuple(_INF_NLOS))
    d3d = _indoor_d3d(d2d_m, h_bs_m, h_ut_m, fc_ghz, f"InF-{subscenario}", 600.0, out_of_range)
    fc_term = 20.0 * _log10(fc_ghz)
    los = 31.84 + 21.50 * _log10(d3d) + 19.00 * _log10(fc_ghz)
    a, b = _INF_NLOS[subscenario]
    pl = np.maximum(los, a + b * _log10(d3d) + fc_term)
    if subscenario == "DL":
        a_sl, b_sl = _INF_NLOS["SL"]
        pl = np.maximum(pl, a_sl + b_sl * _log10(d3d) + fc_term)
    return pl


# --------------------------------------------------------------------------- dispatch

def path_loss_db(scenario: str, d2d_m, h_bs_m, h_ut_m, fc_ghz, los, *, out_of_range: OutOfRange = "raise",
                 h_e_m=1.0, building_height_m=5.0, street_width_m=20.0):
    """TR 38.901 Table 7.4.1-1 path loss of ``scenario`` for LOS (``los`` True) or NLOS links [dB].

    ``los`` is a bool or a bool array broadcasting with ``d2d_m``. For InF-HH, NLOS links do not
    exist in the table (the LOS probability is 1); they get the LOS path loss.

    >>> path_loss_db("UMa", [100.0, 1000.0], 25.0, 1.5, 3.5, los=False).round(2).tolist()
    [103.04, 141.67]
    """
    check_choice("scenario", scenario, SCENARIOS)
    los = np.asarray(los, dtype=bool)
    if scenario == "RMa":
        kw = dict(building_height_m=building_height_m, street_width_m=street_width_m, out_of_range=out_of_range)
        f_los, f_nlos = rma_los_path_loss_db, rma_nlos_path_loss_db
    elif scenario == "UMa":
        kw = dict(h_e_m=h_e_m, out_of_range=out_of_range)
        f_los, f_nlos = uma_los_path_loss_db, uma_nlos_path_loss_db
    elif scenario == "UMi":
        kw = dict(out_of_range=out_of_range)
        f_los, f_nlos = umi_los_path_loss_db, umi_nlos_path_loss_db
    elif scenario.startswith("InH"):
        kw = dict(out_of_range=out_of_range)
        f_los, f_nlos = inh_los_path_loss_db, inh_nlos_path_loss_db
    else:
        kw = dict(out_of_range=out_of_range)
        sub = scenario.split("-")[1]
        f_los = inf_los_path_loss_db
        if sub == "HH":
            f_nlos = inf_los_path_loss_db
        else:
            def f_nlos(*a, **k):
                return inf_nlos_path_loss_db(*a, subscenario=sub, **k)
    if los.ndim == 0:
        return (f_los if bool(los) else f_nlos)(d2d_m, h_bs_m, h_ut_m, fc_ghz, **kw)
    return np.where(los, f_los(d2d_m, h_bs_m, h_ut_m, fc_ghz, **kw), f_nlos(d2d_m, h_bs_m, h_ut_m, fc_ghz, **kw))


def d2d_range_m(scenario: str, los: bool) -> tuple[float, float]:
    """The distance validity range the path-loss function of ``scenario`` enforces [m].

    For InH/InF the table bounds d3D (1 m to 150/86/600 m); the returned d2D range uses d2D = 0
    as the lower bound (a UT under a ceiling BS is 1+ m away in 3-D).

    >>> d2d_range_m("UMa", False)
    (10.0, 5000.0)
    """
    check_choice("scenario", scenario, SCENARIOS)
    if scenario == "RMa":
        return (10.0, 10_000.0 if los else 5_000.0)
    if scenario in ("UMa", "UMi"):
        return (10.0, 5_000.0)
    if scenario.startswith("InH"):
        return (0.0, 150.0 if los else 86.0)
    return (0.0, 600.0)


# --------------------------------------------------------------------------- LOS probability

def rma_los_probability(d2d_out_m):
    """RMa LOS probability (Table 7.4.2-1): 1 up to 10 m, exp(-(d - 10)/1000) beyond.

    >>> round(float(rma_los_probability(1010.0)), 4)
    0.3679
    """
    d = np.asarray(d2d_out_m, dtype=float)
    return np.where(d <= 10.0, 1.0, np.exp(-(d - 10.0) / 1000.0))


def umi_los_probability(d2d_out_m):
    """UMi-Street Canyon LOS probability (Table 7.4.2-1): 1 up to 18 m, 18/d + exp(-d/36)(1 - 18/d).

    >>> round(float(umi_los_probability(100.0)), 4)
    0.231
    """
    d = np.maximum(np.asarray(d2d_out_m, dtype=float), 1e-9)
    return np.where(d <= 18.0, 1.0, 18.0 / d + np.exp(-d / 36.0) * (1.0 - 18.0 / d))


def uma_los_probability(d2d_out_m, h_ut_m):
    """UMa LOS probability (Table 7.4.2-1).

    1 up to 18 m, else [18/d + exp(-d/63)(1 - 18/d)] (1 + C'(h_UT) 5/4 (d/100)^3 exp(-d/150)) with
    C'(h_UT) = 0 for h_UT <= 13 m and ((h_UT - 13)/10)^1.5 for 13 m < h_UT <= 23 m.

    >>> round(float(uma_los_probability(100.0, 1.5)), 4)
    0.3477
    """
    check_range("h_ut_m", h_ut_m, 0.0, 23.0, source=_TABLE_LOS)
    d = np.maximum(np.asarray(d2d_out_m, dtype=float), 1e-9)
    h = np.asarray(h_ut_m, dtype=float)
    c = np.where(h <= 13.0, 0.0, (np.maximum(h - 13.0, 0.0) / 10.0) ** 1.5)
    p = (18.0 / d + np.exp(-d / 63.0) * (1.0 - 18.0 / d)) * (1.0 + c * 1.25 * (d / 100.0) ** 3 * np.exp(-d / 150.0))
    return np.where(d <= 18.0, 1.0, p)


def inh_mixed_los_probability(d2d_m):
    """InH-Office mixed LOS probability (Table 7.4.2-1).

    1 up to 1.2 m; exp(-(d - 1.2)/4.7) up to 6.5 m; 0.32 exp(-(d - 6.5)/32.6) beyond.

    >>> round(float(inh_mixed_los_probability(10.0)), 4)
    0.2874
    """
    d = np.asarray(d2d_m, dtype=float)
    return np.where(d <= 1.2, 1.0, np.where(d < 6.5, np.exp(-(d - 1.2) / 4.7), 0.32 * np.exp(-(d - 6.5) / 32.6)))


def inh_open_los_probability(d2d_m):
    """InH-Office open LOS probability (Table 7.4.2-1).

    1 up to 5 m; exp(-(d - 5)/70.8) up to 49 m; 0.54 exp(-(d - 49)/211.7) beyond.

    >>> round(float(inh_open_los_probability(20.0)), 4)
    0.8091
    """
    d = np.asarray(d2d_m, dtype=float)
    return np.where(d <= 5.0, 1.0, np.where(d <= 49.0, np.exp(-(d - 5.0) / 70.8), 0.54 * np.exp(-(d - 49.0) / 211.7)))


INF_CLUTTER_DEFAULTS = {
    # (clutter density r, clutter height h_c [m], clutter size d_clutter [m]): Table 7.2-4 ranges;
    # these are the defaults cellscape uses when a scenario gives none (mid-range values).
    "InF-SL": (0.2, 2.0, 10.0), "InF-DL": (0.6, 6.0, 2.0),
    "InF-SH": (0.2, 2.0, 10.0), "InF-DH": (0.6, 6.0, 2.0), "InF-HH": (0.4, 4.0, 5.0),
}


def inf_los_probability(d2d_m, h_bs_m, h_ut_m, *, subscenario: Literal["SL", "DL", "SH", "DH", "HH"],
                        clutter_density=None, clutter_height_m=None, clutter_size_m=None):
    """InF LOS probability exp(-d2D / k_subsce) (Table 7.4.2-1).

    SL, DL: k = -d_clutter / ln(1 - r); SH, DH: k = -d_clutter / ln(1 - r) * (h_BS - h_UT)/(h_c - h_UT)
    (1 when h_UT >= h_c: the formula assumes the UT below the clutter); HH: 1. Clutter density r, height h_c and size d_clutter default to :data:`INF_CLUTTER_DEFAULTS`.

    >>> round(float(inf_los_probability(10.0, 8.0, 1.5, subscenario="SL")), 4)
    0.8
    """
    check_choice("subscenario", subscenario, ("SL", "DL", "SH", "DH", "HH"))
    d = np.asarray(d2d_m, dtype=float)
    if subscenario == "HH":
        return np.ones_like(d)
    r0, hc0, dc0 = INF_CLUTTER_DEFAULTS[f"InF-{subscenario}"]
    r = check_range("clutter_density", r0 if clutter_density is None else clutter_density, 0.0, 0.99,
                    source=_TABLE_LOS)
    hc = np.asarray(hc0 if clutter_height_m is None else clutter_height_m, dtype=float)
    dc = np.asarray(dc0 if clutter_size_m is None else clutter_size_m, dtype=float)
    k = -dc / np.log(1.0 - r)
    if subscenario in ("SH", "DH"):
        h_bs, h_ut = np.asarray(h_bs_m, dtype=float), np.asarray(h_ut_m, dtype=float)
        # the formula assumes the UT below the clutter (h_UT < h_c); a UT at or above it sees the
        # high BS over the clutter: LOS probability 1
        above = h_ut >= hc
        k = np.where(above, 1.0, k * (h_bs - h_ut) / np.where(above, 1.0, hc - h_ut))
        return np.where(above, 1.0, np.exp(-d / k))
    return np.exp(-d / k)


def los_probability(scenario: str, d2d_m, h_ut_m, *, h_bs_m=None, clutter_density=None,
                    clutter_height_m=None, clutter_size_m=None):
    """TR 38.901 Table 7.4.2-1 LOS probability of ``scenario`` at distance ``d2d_m`` (d_2D-out) [1].

    Defined for every d >= 0 (the map engine tabulates it from 0 m to tens of km).

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
        raise ValueError(f"los_probability({scenario!r}) needs h_bs_m")
    return inf_los_probability(d2d_m, h_bs_m, h_ut_m, subscenario=scenario.split("-")[1],
                               clutter_density=clutter_density, clutter_height_m=clutter_height_m,
                               clutter_size_m=clutter_size_m)


# --------------------------------------------------------------------------- shadow fading

_SF_STD_DB = {  # (LOS, NLOS), Table 7.4.1-1
    "UMa": (4.0, 6.0), "UMi": (4.0, 7.82), "InH-office-mixed": (3.0, 8.03), "InH-office-open": (3.0, 8.03),
    "InF-SL": (4.3, 5.7), "InF-DL": (4.3, 7.2), "InF-SH": (4.3, 5.9), "InF-DH": (4.3, 4.0), "InF-HH": (4.3, 4.3),
}


def shadow_fading_std_db(scenario: str, los, *, d2d_m=None, h_bs_m=None, h_ut_m=None, fc_ghz=None):
    """Shadow-fading standard deviation sigma_SF of Table 7.4.1-1 [dB].

    RMa LOS is 4 dB before the breakpoint d_BP and 6 dB after it, so RMa needs ``d2d_m``,
    ``h_bs_m``, ``h_ut_m`` and ``fc_ghz``; RMa NLOS is 8 dB.

    >>> float(shadow_fading_std_db("UMi", False))
    7.82
    """
    check_choice("scenario", scenario, SCENARIOS)
    los = np.asarray(los, dtype=bool)
    if scenario == "RMa":
        if d2d_m is None or h_bs_m is None or h_ut_m is None or fc_ghz is None:
            sigma_los = 4.0
        else:
            d_bp = rma_breakpoint_distance_m(h_bs_m, h_ut_m, fc_ghz)
            sigma_los = np.where(np.asarray(d2d_m, dtype=float) <= d_bp, 4.0, 6.0)
        return np.where(los, sigma_los, 8.0)
    s_los, s_nlos = _SF_STD_DB[scenario]
    out = np.where(los, s_los, s_nlos)
    if d2d_m is not None:
        out = np.broadcast_to(out, np.broadcast_shapes(out.shape, np.shape(d2d_m)))
    return out


_SF_DECORRELATION_M = {  # (LOS, NLOS), Table 7.5-6 "Correlation distance ... SF"
    "RMa": (37.0, 120.0), "UMa": (37.0, 50.0), "UMi": (10.0, 13.0),
    "InH-office-mixed": (10.0, 6.0), "InH-office-open": (10.0, 6.0),
    "InF-SL": (10.0, 10.0), "InF-DL": (10.0, 10.0), "InF-SH": (10.0, 10.0), "InF-DH": (10.0, 10.0),
    "InF-HH": (10.0, 10.0),
}


def sf_decorrelation_distance_m(scenario: str, los: bool) -> float:
    """Correlation distance of shadow fading (Table 7.5-6) [m].

    >>> sf_decorrelation_distance_m("UMa", False)
    50.0
    """
    check_choice("scenario", scenario, SCENARIOS)
    return _SF_DECORRELATION_M[scenario][0 if los else 1]


_LOS_DECORRELATION_M = {  # Table 7.6.3.1-2, correlation distance of the LOS state
    "RMa": 60.0, "UMa": 50.0, "UMi": 50.0, "InH-office-mixed": 10.0, "InH-office-open": 10.0,
}


def los_decorrelation_distance_m(scenario: str) -> float:
    """Correlation distance of the spatially consistent LOS state (Table 7.6.3.1-2) [m].

    For InF the table gives d_clutter / 2; the default clutter size of :data:`INF_CLUTTER_DEFAULTS` is used.

    >>> los_decorrelation_distance_m("UMa")
    50.0
    """
    check_choice("scenario", scenario, SCENARIOS)
    if scenario.startswith("InF"):
        return INF_CLUTTER_DEFAULTS[scenario][2] / 2.0
    return _LOS_DECORRELATION_M[scenario]


# --------------------------------------------------------------------------- random helpers

def uma_effective_environment_height_m(d2d_m, h_ut_m, *, rng: np.random.Generator):
    """Draw h_E for UMa links (Table 7.4.1-1, Note 1) [m].

    h_E = 1 m with probability 1/(1 + C(d2D, h_UT)), else uniform over {12, 15, ..., h_UT - 1.5}, with
    C = 0 for h_UT < 13 m and ((h_UT - 13)/10)^1.5 g(d2D) for 13 <= h_UT <= 23 m,
    g = 0 for d2D <= 18 m and 5/4 (d2D/100)^3 exp(-d2D/150) beyond.
    """
    d, h = np.broadcast_arrays(np.asarray(d2d_m, dtype=float), np.asarray(h_ut_m, dtype=float))
    check_range("h_ut_m", h, *URBAN_H_UT_RANGE_M, source=_TABLE_PL)
    g = np.where(d <= 18.0, 0.0, 1.25 * (d / 100.0) ** 3 * np.exp(-d / 150.0))
    c = np.where(h < 13.0, 0.0, ((np.maximum(h, 13.0) - 13.0) / 10.0) ** 1.5 * g)
    keep_one = rng.uniform(size=d.shape) < 1.0 / (1.0 + c)
    n_choices = np.maximum(np.floor((h - 1.5 - 12.0) / 3.0) + 1.0, 1.0)
    pick = np.floor(rng.uniform(size=d.shape) * n_choices)
    return np.where(keep_one | (h < 13.5), 1.0, 12.0 + 3.0 * pick)


def indoor_ut_height_m(size, *, rng: np.random.Generator, n_floors_low: int = 4, n_floors_high: int = 8):
    """Draw indoor UT heights h_UT = 3 (n_fl - 1) + 1.5 (Table 7.4.1-1, Note 2) [m].

    n_fl ~ U{1, ..., N_fl} with N_fl ~ U{n_floors_low, ..., n_floors_high} (UMa: 4 to 8).
    """
    n_fl_max = rng.integers(n_floors_low, n_floors_high + 1, size=size)
    n_fl = np.floor(rng.uniform(size=size) * n_fl_max).astype(int) + 1
    return 3.0 * (n_fl - 1) + 1.5
