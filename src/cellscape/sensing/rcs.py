"""Radar cross-section of a sensing target: 3GPP TR 38.901 V19.4.0 clause 7.9.2.1.

The RCS of a scattering point (SPST) factors as sigma_RCS = sigma_M sigma_D sigma_S:
sigma_M the deterministic mean (a large-scale parameter), sigma_D the angular dependence and
sigma_S a log-normal random component with 10 lg(sigma_S) ~ N(mu, s^2), mu = -ln(10)/20 s^2
(eq. 7.9.2-1, so that E[sigma_S] = 1), clipped at 10^((mu + 3 s)/10) (eq. 7.9.4-1).

- RCS model 1 (small UAV, human): 10 lg(sigma_M sigma_D) = 10 lg(sigma_M) - 3 sin(beta/2)
  (eq. 7.9.2-2, forward-scattering term sigma_FS = -inf), Table 7.9.2.1-1.
- RCS model 2 (large UAV, human, vehicle, AGV): eq. 7.9.2-3 with a beam-like pattern around each
  scattering point's centre direction, Tables 7.9.2.1-2 to 7.9.2.1-7 and the (k1, k2) table.

Angles in degrees, in the target's local coordinate system (LCS): the front of the target faces
azimuth 0, zenith 90; its top faces zenith 0. The pattern is evaluated at the bisector of the
incident and scattered directions (:func:`bistatic_geometry`) and the bistatic angle beta.

Values transcribed from TR 38.901 V19.4.0 by MehdiZD97/3gpp-tr-library
(TR-38.901/v19.4.0/07-channel-models/7.9-isac-channel-model.md, checked there against the docx,
pdf and html of the TR); the small-UAV values (-12.81 dBsm, 3.74 dB) also match the RAN1
agreement summary of Rel-19 ISAC and the calibration assumption of Table 7.9.6.1-1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from cellscape._validate import check_choice, check_range

SPEC = "3GPP TR 38.901 V19.4.0"
_RCS1 = f"{SPEC} eq. 7.9.2-2"
_RCS2 = f"{SPEC} eq. 7.9.2-3"


# --------------------------------------------------------------------------------------------
# Parameters


@dataclass(frozen=True)
class RcsModel1Parameters:
    """RCS model 1 of one target type: mean monostatic RCS and spread of sigma_S."""

    rcs_mean_dbsm: float        # 10 lg(sigma_M) [dBsm]
    sigma_s_std_db: float       # standard deviation of 10 lg(sigma_S) [dB]
    source: str


RCS_MODEL_1: dict[str, RcsModel1Parameters] = {
    "uav_small": RcsModel1Parameters(-12.81, 3.74, f"{SPEC} Table 7.9.2.1-1 (UAV with small size)"),
    "human": RcsModel1Parameters(-1.37, 3.94, f"{SPEC} Table 7.9.2.1-1 (human with RCS model 1)"),
}
"""Table 7.9.2.1-1: targets whose monostatic RCS does not depend on the angle."""


@dataclass(frozen=True)
class ScatteringPoint:
    """One row of Tables 7.9.2.1-2 to -7: the pattern parameters of one scattering point.

    ``phi_center_deg``/``phi_3db_deg`` are None where the table has '-' (roof, bottom): there
    sigma_H = 0. The ranges select the row of a single-point target from the bisector angle.
    """

    name: str
    phi_center_deg: float | None
    phi_3db_deg: float | None
    theta_center_deg: float
    theta_3db_deg: float
    g_max_db: float
    sigma_max_db: float
    theta_range_deg: tuple[float, float]      # [low, high), high = 180 included
    phi_range_deg: tuple[float, float]        # [low, high) modulo 360


@dataclass(frozen=True)
class RcsModel2Target:
    """RCS model 2 of one target type (eq. 7.9.2-3): shape (k1, k2), points, sigma_M, sigma_S."""

    k1: float
    k2: float
    rcs_mean_dbsm: float
    sigma_s_std_db: float
    points: tuple[ScatteringPoint, ...]
    single_point: bool          # True: one SPST whose row is chosen by the bisector angle
    source: str


def _sp(name, phc, ph3, thc, th3, gmax, smax, th_rng, ph_rng):
    return ScatteringPoint(name, phc, ph3, thc, th3, gmax, smax, th_rng, ph_rng)


_ALL_PHI = (0.0, 360.0)
_ALL_THETA = (0.0, 180.0)

RCS_MODEL_2: dict[str, RcsModel2Target] = {
    "uav_large": RcsModel2Target(6.05, 1.33, -5.85, 2.50, (
        _sp("left", 90, 7.13, 90, 8.68, 7.43, 14.30, (45, 135), (45, 135)),
        _sp("back", 180, 10.09, 90, 11.43, 3.99, 10.86, (45, 135), (135, 225)),
        _sp("right", 270, 7.13, 90, 8.68, 7.43, 14.30, (45, 135), (225, 315)),
        _sp("front", 0, 14.19, 90, 16.53, 1.02, 7.89, (45, 135), (-45, 45)),
        _sp("bottom", None, None, 180, 4.93, 13.55, 20.42, (135, 180), _ALL_PHI),
        _sp("roof", None, None, 0, 4.93, 13.55, 20.42, (0, 45), _ALL_PHI),
    ), True, f"{SPEC} Table 7.9.2.1-2"),
    "human_model2": RcsModel2Target(0.5714, 0.1, -1.37, 3.94, (
        _sp("front", 0, 216.65, 90, 55.7, 2.14, 7.7, _ALL_THETA, (-90, 90)),
        _sp("back", 180, 216.65, 90, 55.7, 2.14, 7.7, _ALL_THETA, (90, 270)),
    ), True, f"{SPEC} Table 7.9.2.1-3"),
    "vehicle_single": RcsModel2Target(6.0, 1.65, 11.25, 3.41, (
        _sp("left", 90, 26.90, 79.70, 44.42, 20.75, 13.68, (30, 180), (45, 135)),
        _sp("back", 180, 36.32, 79.65, 36.73, 14.56, 7.50, (30, 180), (135, 225)),
        _sp("right", 270, 26.90, 79.70, 44.42, 20.75, 13.68, (30, 180), (225, 315)),
        _sp("front", 0, 40.54, 71.75, 29.13, 15.52, 8.45, (30, 180), (-45, 45)),
        _sp("roof", None, None, 0.0, 18.13, 21.26, 14.19, (0, 30), _ALL_PHI),
    ), True, f"{SPEC} Table 7.9.2.1-4"),
    "vehicle_multiple": RcsModel2Target(6.0, 1.65, 11.25, 3.41, (
        _sp("left", 90, 26.90, 79.70, 44.42, 20.60, 20.52, _ALL_THETA, _ALL_PHI),
        _sp("back", 180, 36.32, 79.65, 36.73, 13.90, 13.82, _ALL_THETA, _ALL_PHI),
        _sp("right", 270, 26.90, 79.70, 44.42, 20.60, 20.52, _ALL_THETA, _ALL_PHI),
        _sp("front", 0, 40.54, 71.75, 29.13, 14.99, 14.91, _ALL_THETA, _ALL_PHI),
        _sp("roof", None, None, 0.0, 18.13, 21.12, 21.05, _ALL_THETA, _ALL_PHI),
    ), False, f"{SPEC} Table 7.9.2.1-5"),
    "agv_single": RcsModel2Target(12.0, 1.45, -4.25, 2.51, (
        _sp("front", 0, 13.68, 90, 13.68, 13.02, 23.29, (30, 180), (-45, 45)),
        _sp("left", 90, 15.53, 75, 20.03, 7.33, 17.60, (30, 180), (45, 135)),
        _sp("back", 180, 12.49, 90, 11.89, 11.01, 21.28, (30, 180), (135, 225)),
        _sp("right", 270, 15.53, 75, 20.03, 7.33, 17.60, (30, 180), (225, 315)),
        _sp("roof", None, None, 0, 11.44, 11.79, 22.06, (0, 30), _ALL_PHI),
    ), True, f"{SPEC} Table 7.9.2.1-6"),
    "agv_multiple": RcsModel2Target(12.0, 1.45, -4.25, 2.51, (
        _sp("front", 0, 13.68, 90, 13.68, 13.00, 30.26, _ALL_THETA, _ALL_PHI),
        _sp("left", 90, 15.53, 75, 20.03, 7.27, 24.53, _ALL_THETA, _ALL_PHI),
        _sp("back", 180, 12.49, 90, 11.89, 10.98, 28.24, _ALL_THETA, _ALL_PHI),
        _sp("right", 270, 15.53, 75, 20.03, 7.27, 24.53, _ALL_THETA, _ALL_PHI),
        _sp("roof", None, None, 0, 11.44, 11.77, 29.03, _ALL_THETA, _ALL_PHI),
    ), False, f"{SPEC} Table 7.9.2.1-7"),
}
"""Tables 7.9.2.1-2 to -7 and the (k1, k2) table under eq. 7.9.2-3, keyed by target."""

RcsTarget = Literal["uav_small", "human", "uav_large", "human_model2", "vehicle_single",
                    "vehicle_multiple", "agv_single", "agv_multiple"]
RCS_TARGETS: tuple[str, ...] = (*RCS_MODEL_1, *RCS_MODEL_2)


# --------------------------------------------------------------------------------------------
# Geometry


def _unit(zenith_deg, azimuth_deg):
    th, ph = np.radians(zenith_deg), np.radians(azimuth_deg)
    return np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], axis=-1)


def bistatic_geometry(incident_zenith_deg, incident_azimuth_deg, scattered_zenith_deg, scattered_azimuth_deg):
    """
    Bistatic angle and bisector direction of an incident/scattered pair, in the target's LCS.

    Parameters
    ----------
    incident_zenith_deg, incident_azimuth_deg : array_like
        Direction from the target towards the STX (the arrival angle at the target). [deg]
    scattered_zenith_deg, scattered_azimuth_deg : array_like
        Direction from the target towards the SRX (the departure angle at the target). [deg]

    Returns
    -------
    bistatic_angle_deg : ndarray
        beta in [0, 180] between the two directions; 0 when they coincide (monostatic). [deg]
    bisector_zenith_deg : ndarray
        Zenith of the bisector, in [0, 180]. [deg]
    bisector_azimuth_deg : ndarray
        Azimuth of the bisector, in [0, 360). [deg]

    Notes
    -----
    TR 38.901 7.9.2.1 evaluates eq. 7.9.2-3 at "the bisector between the incident ray and the
    scattered ray". We read both rays as directions seen from the target (so that a monostatic
    pair gives beta = 0 and the bisector points back at the radar, the convention under which
    eq. 7.9.2-2 gives the monostatic RCS at beta = 0). At beta = 180 (forward scattering) the
    bisector is undefined; we return zenith 90, azimuth 0 there, where every pattern of model 2
    equals its floor G_max - sigma_max anyway (5 lg cos 90 deg = -inf).

    Examples
    --------
    >>> [round(float(v), 6) for v in bistatic_geometry(90.0, 0.0, 90.0, 90.0)]
    [90.0, 90.0, 45.0]
    """
    u_i = _unit(incident_zenith_deg, incident_azimuth_deg)         # (..., 3)
    u_s = _unit(scattered_zenith_deg, scattered_azimuth_deg)       # (..., 3)
    cos_beta = np.clip(np.sum(u_i * u_s, axis=-1), -1.0, 1.0)      # (...)
    beta = np.degrees(np.arccos(cos_beta))
    b = u_i + u_s                                                  # (..., 3)
    norm = np.linalg.norm(b, axis=-1)                              # (...)
    forward = norm < 1e-12
    b = np.where(forward[..., None], np.array([1.0, 0.0, 0.0]), b / np.where(forward, 1.0, norm)[..., None])
    zenith = np.degrees(np.arccos(np.clip(b[..., 2], -1.0, 1.0)))
    azimuth = np.mod(np.degrees(np.arctan2(b[..., 1], b[..., 0])), 360.0)
    return beta, zenith, azimuth


# --------------------------------------------------------------------------------------------
# Equations


def sigma_s_mean_db(sigma_s_std_db):
    """
    Mean of 10 lg(sigma_S) fixed by its standard deviation, mu = -ln(10)/20 s^2 (eq. 7.9.2-1).

    Parameters
    ----------
    sigma_s_std_db : array_like
        Standard deviation s of 10 lg(sigma_S), >= 0. [dB]

    Returns
    -------
    sigma_s_mean_db : ndarray
        The mean that makes E[sigma_S] = 1 (linear). [dB]

    References
    ----------
    .. [1] 3GPP TR 38.901 V19.4.0, eq. 7.9.2-1.

    Examples
    --------
    >>> round(float(sigma_s_mean_db(3.74)), 3)
    -1.61
    """
    s = check_range("sigma_s_std_db", sigma_s_std_db, 0.0, np.inf, source=f"{SPEC} eq. 7.9.2-1")
    return -np.log(10.0) / 20.0 * s ** 2


def draw_sigma_s_db(sigma_s_std_db, size, rng: np.random.Generator):
    """
    Draw 10 lg(sigma_S): normal with mean :func:`sigma_s_mean_db`, clipped at mu + 3 s.

    Parameters
    ----------
    sigma_s_std_db : float
        Standard deviation s of 10 lg(sigma_S) (e.g. ``RCS_MODEL_1['uav_small'].sigma_s_std_db``). [dB]
    size : int or tuple of int
        Shape of the draw.
    rng : numpy.random.Generator
        The only source of randomness (ARCHITECTURE: seeded from the scenario).

    Returns
    -------
    sigma_s_db : ndarray
        Shape ``size``. [dB]

    References
    ----------
    .. [1] 3GPP TR 38.901 V19.4.0, eq. 7.9.2-1 (log-normal sigma_S) and eq. 7.9.4-1
       (min(sigma_S, 10^((mu + 3 s)/10))).

    Examples
    --------
    >>> x = draw_sigma_s_db(3.74, 100_000, np.random.default_rng(0))
    >>> round(float(np.mean(10 ** (x / 10))), 1)
    1.0
    """
    mu = float(sigma_s_mean_db(sigma_s_std_db))
    s = float(sigma_s_std_db)
    return np.minimum(rng.normal(mu, s, size), mu + 3.0 * s)


def rcs_model_1_db(rcs_mean_dbsm, bistatic_angle_deg):
    """
    RCS pattern of model 1, 10 lg(sigma_M sigma_D) = 10 lg(sigma_M) - 3 sin(beta/2) (eq. 7.9.2-2).

    Parameters
    ----------
    rcs_mean_dbsm : array_like
        10 lg(sigma_M), Table 7.9.2.1-1. [dBsm]
    bistatic_angle_deg : array_like
        beta in [0, 180]. [deg]

    Returns
    -------
    rcs_dbsm : ndarray
        sigma_MD_dB, without the random component sigma_S. [dBsm]

    Raises
    ------
    OutOfValidityRangeError
        If beta is outside [0, 180].

    Notes
    -----
    The forward-scattering term sigma_FS of the max() is -inf in the TR, so it never wins.

    References
    ----------
    .. [1] 3GPP TR 38.901 V19.4.0, eq. 7.9.2-2 and Table 7.9.2.1-1.

    Examples
    --------
    >>> float(rcs_model_1_db(-12.81, 0.0)), round(float(rcs_model_1_db(-12.81, 180.0)), 2)
    (-12.81, -15.81)
    """
    beta = check_range("bistatic_angle_deg", bistatic_angle_deg, 0.0, 180.0, source=_RCS1)
    return np.asarray(rcs_mean_dbsm, dtype=float) - 3.0 * np.sin(np.radians(beta) / 2.0)


def _wrap180(x_deg):
    return np.mod(np.asarray(x_deg, dtype=float) + 180.0, 360.0) - 180.0


def rcs_model_2_db(bisector_zenith_deg, bisector_azimuth_deg, bistatic_angle_deg, *, g_max_db, sigma_max_db,
                   theta_center_deg, theta_3db_deg, phi_center_deg, phi_3db_deg, k1, k2):
    r"""
    RCS pattern of model 2 for one scattering point, 10 lg(sigma_M sigma_D) of eq. 7.9.2-3.

    Parameters
    ----------
    bisector_zenith_deg, bisector_azimuth_deg : array_like
        Bisector (theta, phi) of the incident and scattered rays in the target's LCS
        (:func:`bistatic_geometry`). [deg]
    bistatic_angle_deg : array_like
        beta in [0, 180]. [deg]
    g_max_db, sigma_max_db : float
        G_max and sigma_max of the scattering point's row. [dB]
    theta_center_deg, theta_3db_deg : float
        Centre and 3 dB width of the vertical cut. [deg]
    phi_center_deg, phi_3db_deg : float or None
        Centre and 3 dB width of the horizontal cut; None where the table has '-' (roof,
        bottom): sigma_H = 0. The azimuth difference is wrapped to [-180, 180). [deg]
    k1, k2 : float
        Shape parameters of the target type (table under eq. 7.9.2-3).

    Returns
    -------
    rcs_dbsm : ndarray
        max(G_max - min(-(sigma_V + sigma_H), sigma_max) - k1 sin(k2 beta / 2)
        + 5 lg cos(beta / 2), G_max - sigma_max), broadcast shape. [dBsm]

    Raises
    ------
    OutOfValidityRangeError
        If beta is outside [0, 180].

    Notes
    -----
    sigma_V = -min(12 ((theta - theta_c)/theta_3dB)^2, sigma_max), and sigma_H likewise in phi.
    The forward-scattering term sigma_FS is -inf. The tables give G_max in the units of the
    pattern, so the result is the absolute 10 lg(sigma_M sigma_D) in dBsm; sigma_D alone is the
    result minus 10 lg(sigma_M) (eq. 7.9.4-1 uses sigma_D, eq. 7.9.4-14 sigma_M).

    References
    ----------
    .. [1] 3GPP TR 38.901 V19.4.0, eq. 7.9.2-3, Tables 7.9.2.1-2 to 7.9.2.1-7.

    Examples
    --------
    Vehicle (single point), monostatic, seen broadside from the left at the centre elevation:

    >>> round(float(rcs_model_2_db(79.7, 90.0, 0.0, g_max_db=20.75, sigma_max_db=13.68,
    ...     theta_center_deg=79.7, theta_3db_deg=44.42, phi_center_deg=90.0, phi_3db_deg=26.9,
    ...     k1=6.0, k2=1.65)), 2)
    20.75
    """
    beta = np.radians(check_range("bistatic_angle_deg", bistatic_angle_deg, 0.0, 180.0, source=_RCS2))
    theta = np.asarray(bisector_zenith_deg, dtype=float)
    sigma_v = -np.minimum(12.0 * ((theta - theta_center_deg) / theta_3db_deg) ** 2, sigma_max_db)
    if phi_center_deg is None:
        sigma_h = np.zeros_like(sigma_v)
    else:
        d_phi = _wrap180(np.asarray(bisector_azimuth_deg, dtype=float) - phi_center_deg)
        sigma_h = -np.minimum(12.0 * (d_phi / phi_3db_deg) ** 2, sigma_max_db)
    with np.errstate(divide="ignore"):
        bistatic_db = -k1 * np.sin(k2 * beta / 2.0) + 5.0 * np.log10(np.maximum(np.cos(beta / 2.0), 0.0))
    lobe_db = g_max_db - np.minimum(-(sigma_v + sigma_h), sigma_max_db) + bistatic_db
    return np.maximum(lobe_db, g_max_db - sigma_max_db)


def _in_ranges(point: ScatteringPoint, theta, phi):
    lo, hi = point.theta_range_deg
    in_theta = (theta >= lo) & ((theta < hi) | ((hi == 180.0) & (theta == 180.0)))
    plo, phi_hi = point.phi_range_deg
    in_phi = np.mod(phi - plo, 360.0) < (phi_hi - plo)
    return in_theta & in_phi


def rcs_pattern_db(target: RcsTarget, bisector_zenith_deg, bisector_azimuth_deg, bistatic_angle_deg):
    """
    10 lg(sigma_M sigma_D) of a named TR 38.901 target, per scattering point.

    Parameters
    ----------
    target : str
        One of ``RCS_TARGETS``: 'uav_small', 'human' (model 1); 'uav_large', 'human_model2',
        'vehicle_single', 'vehicle_multiple', 'agv_single', 'agv_multiple' (model 2).
    bisector_zenith_deg, bisector_azimuth_deg : array_like
        Bisector (theta, phi) in the target's LCS; ignored by model 1. [deg]
    bistatic_angle_deg : array_like
        beta in [0, 180]. [deg]

    Returns
    -------
    rcs_dbsm : ndarray
        Shape ``(n_points, *broadcast_shape)``: one row for a single-point target (model 1, or
        model 2 with the row chosen by the ranges of theta and phi), five rows for the
        multiple-point vehicle and AGV in the order of their table. [dBsm]

    Raises
    ------
    InvalidChoiceError
        If ``target`` is not one of ``RCS_TARGETS``.
    OutOfValidityRangeError
        If beta is outside [0, 180] or a bisector zenith outside [0, 180].

    Examples
    --------
    >>> rcs_pattern_db("uav_small", 90.0, 0.0, 0.0).tolist()
    [-12.81]
    >>> round(float(rcs_pattern_db("vehicle_single", 79.7, 90.0, 0.0)[0]), 2)
    20.75
    """
    check_choice("target", target, RCS_TARGETS)
    beta = check_range("bistatic_angle_deg", bistatic_angle_deg, 0.0, 180.0, source=_RCS2)
    theta = check_range("bisector_zenith_deg", bisector_zenith_deg, 0.0, 180.0, source=_RCS2)
    phi = np.mod(np.asarray(bisector_azimuth_deg, dtype=float), 360.0)
    theta, phi, beta = np.broadcast_arrays(theta, phi, beta)
    if target in RCS_MODEL_1:
        return rcs_model_1_db(RCS_MODEL_1[target].rcs_mean_dbsm, beta)[None, ...]
    spec = RCS_MODEL_2[target]

    def one(point: ScatteringPoint, th, ph, be):
        return rcs_model_2_db(th, ph, be, g_max_db=point.g_max_db, sigma_max_db=point.sigma_max_db,
                              theta_center_deg=point.theta_center_deg, theta_3db_deg=point.theta_3db_deg,
                              phi_center_deg=point.phi_center_deg, phi_3db_deg=point.phi_3db_deg,
                              k1=spec.k1, k2=spec.k2)

    if not spec.single_point:
        return np.stack([one(p, theta, phi, beta) for p in spec.points])      # (n_points, ...)
    out = np.full(theta.shape, np.nan)
    for point in spec.points:                # the rows tile the sphere: each evaluated where it applies
        mask = _in_ranges(point, theta, phi)
        if np.any(mask):
            out[mask] = one(point, theta[mask], phi[mask], beta[mask])
    return out[None, ...]


# --------------------------------------------------------------------------------------------
# Orientation-averaged RCS (what the sensing maps use)


SENSING_TARGETS: dict[str, str] = {
    "human": "human",
    "uav_small": "uav_small",
    "uav_large": "uav_large",
    "vehicle": "vehicle_single",
    "agv": "agv_single",
}
"""``sensing.target`` of a scenario -> key of ``RCS_MODEL_1`` / ``RCS_MODEL_2``. Vehicles and AGVs
take their single-scattering-point tables (7.9.2.1-4 and -6: the target as one SPST, the row chosen
by the bisector direction); the multiple-point tables describe five SPSTs of one target, which the
maps (one echo per link) do not resolve."""

AVERAGE_HEADING_STEPS = 3600
"""Headings of the orientation average: uniform on [0, 360) in steps of 0.1 deg (bin centres)."""


def orientation_averaged_rcs_dbsm(target: str, zenith_deg: float = 90.0, n_headings: int = AVERAGE_HEADING_STEPS,
                                  bistatic_angle_deg: float = 0.0):
    r"""
    RCS of a target averaged over its heading, in linear power: 10 lg(mean(sigma_M sigma_D)).

    Parameters
    ----------
    target : str
        A key of ``RCS_MODEL_1`` or ``RCS_MODEL_2`` (``SENSING_TARGETS`` maps scenario names to them).
    zenith_deg : float
        Zenith of the direction from the target to the radar in the target's LCS (90: horizontal
        incidence, the default). [deg]
    n_headings : int
        Headings psi_k = (k + 1/2) 360 / n, k = 0..n-1, uniform on [0, 360).
    bistatic_angle_deg : float
        beta in [0, 180] (0: monostatic); the bisector then takes ``zenith_deg`` and the averaged
        azimuths. Model 1: 10 lg(sigma_M) - 3 sin(beta/2) (eq. 7.9.2-2). [deg]

    Returns
    -------
    rcs_dbsm : float
        10 lg( (1/n) sum_k sum_points 10^(sigma_MD_dB(theta, phi = -psi_k, beta = 0) / 10) ): the
        monostatic pattern of eq. 7.9.2-3 (model 2) averaged over a heading uniform in [0, 360); a
        multiple-point target sums its points' powers (incoherent). Model 1 has no angular
        dependence: its 10 lg(sigma_M). The random sigma_S (mean 1 in linear power, eq. 7.9.2-1) is
        left out. [dBsm]

    Raises
    ------
    InvalidChoiceError
        If ``target`` is not one of ``RCS_TARGETS``.
    OutOfValidityRangeError
        If ``zenith_deg`` is outside [0, 180] or ``n_headings`` < 1.

    Notes
    -----
    A target with heading psi (its front towards azimuth psi of the global frame) sees a radar at
    global azimuth a at LCS azimuth a - psi; for a heading uniform on the circle the LCS azimuth is
    uniform too, so the average over headings is the average of the pattern over phi in [0, 360).
    Monostatic: beta = 0 and the bisector is the direction to the radar.

    References
    ----------
    .. [1] 3GPP TR 38.901 V19.4.0, eq. 7.9.2-2, eq. 7.9.2-3, Tables 7.9.2.1-1 to 7.9.2.1-7.

    Examples
    --------
    >>> orientation_averaged_rcs_dbsm("human")
    -1.37
    >>> round(orientation_averaged_rcs_dbsm("vehicle_single"), 2)
    13.35
    """
    check_choice("target", target, RCS_TARGETS)
    check_range("zenith_deg", zenith_deg, 0.0, 180.0, source=_RCS2)
    check_range("n_headings", n_headings, 1, np.inf, source=_RCS2)
    beta = float(check_range("bistatic_angle_deg", bistatic_angle_deg, 0.0, 180.0, source=_RCS2))
    if target in RCS_MODEL_1:
        return float(rcs_model_1_db(RCS_MODEL_1[target].rcs_mean_dbsm, beta))
    headings = (np.arange(int(n_headings)) + 0.5) * 360.0 / int(n_headings)
    pattern_db = rcs_pattern_db(target, float(zenith_deg), np.mod(-headings, 360.0), beta)  # (n_points, n)
    return float(10.0 * np.log10(np.mean(np.sum(10.0 ** (pattern_db / 10.0), axis=0))))


def sensing_target_rcs_dbsm(name: str) -> float:
    """
    The constant RCS the sensing maps use for a ``sensing.target`` name [dBsm].

    Model 1 (human, uav_small): 10 lg(sigma_M) of Table 7.9.2.1-1. Model 2 (uav_large, vehicle,
    agv): :func:`orientation_averaged_rcs_dbsm` of ``SENSING_TARGETS[name]`` at horizontal
    incidence (zenith 90 deg).

    Examples
    --------
    >>> sensing_target_rcs_dbsm("uav_small")
    -12.81
    >>> round(sensing_target_rcs_dbsm("vehicle"), 2), round(sensing_target_rcs_dbsm("agv"), 2)
    (13.35, 1.58)
    """
    check_choice("target", name, tuple(SENSING_TARGETS))
    return orientation_averaged_rcs_dbsm(SENSING_TARGETS[name])
