"""Diffraction over obstacles: ITU-R P.526 knife edge and the Bullington method.

One function per equation of ITU-R P.526-15 (10/2019):

- :func:`knife_edge_loss_db`: J(nu), the single knife-edge loss, Section 4.1, eq. (31);
- :func:`bullington_parameter`: the diffraction parameter of the Bullington point of a terrain or
  building profile, Section 4.5.1 (the same method as ITU-R P.452-17 Section 4.2.1 and P.1812);
- :func:`bullington_correction_db`: L_b = L_uc + [1 - exp(-L_uc / 6)] (10 + 0.02 d), Section 4.5.1;
- :func:`bullington_loss_db`: the two together for one profile.

Heights are absolute (above a common datum, e.g. sea level or the map's ground), distances in
metres (the Recommendation writes km; the factor sqrt(0.002 d / (lambda d_i (d - d_i))) with d in
km equals sqrt(2 d / (lambda d_i (d - d_i))) with d in m). Earth curvature enters through the
effective Earth radius a_e (default 8 500 km, k = 4/3, P.526-15 Section 2.1): the bulge
d_i (d - d_i) / (2 a_e) is 6 cm at the middle of a 2 km path, so it matters only for long links.

The coverage engine computes the Bullington parameter per link while it marches the link over the
height raster (cellscape.propagation.geometric_los, the same equations, tested equal to :func:`bullington_parameter`)
and reads the loss from a table of :func:`bullington_correction_db` (cellscape.coverage.tables).
"""

from __future__ import annotations

import numpy as np

from cellscape.errors import OutOfValidityRangeError
from cellscape.units import SPEED_OF_LIGHT_M_S

SOURCE = "ITU-R P.526-15 Section 4.5.1 (Bullington)"

EFFECTIVE_EARTH_RADIUS_M = 8_500_000.0
"""Median effective Earth radius a_e (k = 4/3), ITU-R P.526-15 Section 2.1 / P.452 [m]."""

NU_MIN = -0.78
"""Below this diffraction parameter the knife-edge loss is zero (P.526-15 eq. (31))."""


def knife_edge_loss_db(nu):
    """Loss of a single knife edge, J(nu) [dB].

    J(nu) = 6.9 + 20 log10( sqrt((nu - 0.1)^2 + 1) + nu - 0.1 ) for nu > -0.78, else 0
    (ITU-R P.526-15 Section 4.1, eq. (31), the approximation of the Fresnel-integral loss to
    within about 0.5 dB).

    Parameters
    ----------
    nu : array_like
        Fresnel-Kirchhoff diffraction parameter (dimensionless); NaN passes through.

    Returns
    -------
    loss_db : ndarray
        Shape of ``nu``; 6.0 dB at grazing (nu = 0). [dB]

    Examples
    --------
    >>> knife_edge_loss_db([-1.0, 0.0, 1.0]).round(3).tolist()
    [0.0, 6.033, 13.926]
    """
    nu = np.asarray(nu, dtype=float)
    a = nu - 0.1
    loss = 6.9 + 20.0 * np.log10(np.sqrt(a * a + 1.0) + a)
    return np.where(nu > NU_MIN, loss, np.where(np.isnan(nu), np.nan, 0.0))


def bullington_correction_db(l_uc_db, d_m):
    """Bullington loss of a path from its knife-edge loss: L_uc + [1 - exp(-L_uc/6)] (10 + 0.02 d_km).

    ITU-R P.526-15 Section 4.5.1 (P.452-17 eq. (22)): the empirical correction that makes one
    equivalent knife edge stand for several obstacles.

    Parameters
    ----------
    l_uc_db : array_like
        Knife-edge loss of the Bullington point, J(nu_b), >= 0. [dB]
    d_m : array_like
        Path length. [m]

    Returns
    -------
    loss_db : ndarray
        Broadcast shape; 0 where ``l_uc_db`` is 0. [dB]

    Examples
    --------
    >>> round(float(bullington_correction_db(6.0, 1000.0)), 3)   # 6 + (1 - e^-1) * 10.02
    12.334
    """
    l_uc = np.asarray(l_uc_db, dtype=float)
    d_km = np.asarray(d_m, dtype=float) / 1000.0
    return l_uc + (1.0 - np.exp(-l_uc / 6.0)) * (10.0 + 0.02 * d_km)


def bullington_parameter(d_m, h_m, *, h_tx_m: float, h_rx_m: float, d_total_m: float, fc_ghz: float,
                         earth_radius_m: float = EFFECTIVE_EARTH_RADIUS_M) -> tuple[float, bool]:
    """Diffraction parameter of the Bullington point of one profile, and whether the path is LOS.

    ITU-R P.526-15 Section 4.5.1. With the intermediate profile points (d_i, h_i) and the
    curvature term c_i = d_i (d - d_i) / (2 a_e):

    - S_tim = max_i (h_i + c_i - h_ts) / d_i, S_tr = (h_rs - h_ts) / d;
    - LOS (S_tim < S_tr): nu = max_i (h_i + c_i - (h_ts (d - d_i) + h_rs d_i) / d)
      sqrt(2 d / (lambda d_i (d - d_i)));
    - otherwise S_rim = max_i (h_i + c_i - h_rs) / (d - d_i), the Bullington point
      d_b = (h_rs - h_ts + S_rim d) / (S_tim + S_rim) and
      nu = (h_ts + S_tim d_b - (h_ts (d - d_b) + h_rs d_b) / d) sqrt(2 d / (lambda d_b (d - d_b))).

    Parameters
    ----------
    d_m : array_like, shape (n,)
        Distances of the intermediate profile points from the transmitter, in (0, d_total_m). [m]
    h_m : array_like, shape (n,)
        Heights of those points (ground plus buildings), same datum as the antennas. [m]
    h_tx_m, h_rx_m : float
        Heights of the transmitter and receiver antennas, same datum. [m]
    d_total_m : float
        Path length, > 0. [m]
    fc_ghz : float
        Carrier frequency, > 0. [GHz]
    earth_radius_m : float, default 8.5e6
        Effective Earth radius a_e; ``numpy.inf`` for a flat Earth. [m]

    Returns
    -------
    nu : float
        The diffraction parameter (< 0 on a LOS path, >= 0 on an obstructed one); -inf for a
        profile with no intermediate point.
    los : bool
        True when no profile point reaches the direct line (S_tim < S_tr).

    Raises
    ------
    OutOfValidityRangeError
        If a profile distance is outside (0, d_total_m) or d_total_m / fc_ghz is not positive.

    Examples
    --------
    A 10 m wall halfway along a 200 m path between antennas 5 m high, at 3 GHz (lambda 0.1 m):
    nu = 5 sqrt(2 * 200 / (0.1 * 100 * 100)) = 3.16.

    >>> nu, los = bullington_parameter([100.0], [10.0], h_tx_m=5.0, h_rx_m=5.0, d_total_m=200.0,
    ...                                fc_ghz=2.99792458, earth_radius_m=float("inf"))
    >>> round(nu, 3), los
    (3.162, False)
    """
    d_i = np.asarray(d_m, dtype=float).ravel()
    h_i = np.asarray(h_m, dtype=float).ravel()
    if not (d_total_m > 0 and fc_ghz > 0):
        raise OutOfValidityRangeError(f"d_total_m={d_total_m:g} and fc_ghz={fc_ghz:g} must be > 0 ({SOURCE})")
    if d_i.size and not (np.all(d_i > 0) and np.all(d_i < d_total_m)):
        raise OutOfValidityRangeError(f"profile distances must lie in (0, {d_total_m:g}) m, got "
                                      f"{d_i.min():g}..{d_i.max():g} ({SOURCE})")
    if d_i.size == 0:
        return float("-inf"), True
    lam_m = SPEED_OF_LIGHT_M_S / (fc_ghz * 1e9)
    d = float(d_total_m)
    h = h_i + d_i * (d - d_i) / (2.0 * earth_radius_m)
    s_tim = np.max((h - h_tx_m) / d_i)
    s_tr = (h_rx_m - h_tx_m) / d
    if s_tim < s_tr:
        nu = (h - (h_tx_m * (d - d_i) + h_rx_m * d_i) / d) * np.sqrt(2.0 * d / (lam_m * d_i * (d - d_i)))
        return float(np.max(nu)), True
    s_rim = np.max((h - h_rx_m) / (d - d_i))
    if s_tim + s_rim <= 0.0:
        return 0.0, False                  # grazing: the highest point touches the direct line
    d_b = (h_rx_m - h_tx_m + s_rim * d) / (s_tim + s_rim)
    nu_b = (h_tx_m + s_tim * d_b - (h_tx_m * (d - d_b) + h_rx_m * d_b) / d) * np.sqrt(
        2.0 * d / (lam_m * d_b * (d - d_b)))
    return float(nu_b), False


def bullington_loss_db(d_m, h_m, *, h_tx_m: float, h_rx_m: float, d_total_m: float, fc_ghz: float,
                       earth_radius_m: float = EFFECTIVE_EARTH_RADIUS_M) -> float:
    """Bullington diffraction loss of one profile, L_b [dB] (ITU-R P.526-15 Section 4.5.1).

    :func:`bullington_parameter`, then J(nu) (:func:`knife_edge_loss_db`) and the correction
    :func:`bullington_correction_db`. Parameters as :func:`bullington_parameter`.

    Examples
    --------
    >>> round(bullington_loss_db([100.0], [10.0], h_tx_m=5.0, h_rx_m=5.0, d_total_m=200.0,
    ...                          fc_ghz=2.99792458, earth_radius_m=float("inf")), 2)
    32.65
    """
    nu, _ = bullington_parameter(d_m, h_m, h_tx_m=h_tx_m, h_rx_m=h_rx_m, d_total_m=d_total_m, fc_ghz=fc_ghz,
                                 earth_radius_m=earth_radius_m)
    return float(bullington_correction_db(knife_edge_loss_db(nu), d_total_m))
