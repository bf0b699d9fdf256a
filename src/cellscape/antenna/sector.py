"""A sector antenna: the TR 38.901 element in a phased vertical array, oriented by azimuth and tilt.

Global coordinates (GCS, TR 38.901 7.1): ``theta`` is the zenith angle (0 = up, 90 = horizon,
180 = down) and ``phi`` the azimuth counter-clockwise from the x (east) axis, in degrees. Scenario
files give the sector azimuth clockwise from north, so the bearing alpha of 7.1 is
``90 - azimuth_deg``; mechanical and electrical downtilt are positive down, so the downtilt beta of
7.1 is ``mech_tilt_deg`` and the electrical steering zenith angle of 7.3 is
``theta_etilt = 90 + elec_tilt_deg``.

The sector gain towards a GCS direction is the element gain of Table 7.3-1 evaluated in the LCS
(eqs 7.1-7 and 7.1-8), plus the gain of an M x 1 vertical uniform array phased to theta_etilt:
the sub-array (TXRU virtualisation) weights that TR 38.901 7.8 uses for its calibration antenna
(M = 10, theta_etilt = 102 deg), from TR 36.897 5.2.2.
"""

from __future__ import annotations

import numpy as np

from cellscape._validate import check_choice
from cellscape.antenna.element import element_gain_dbi
from cellscape.errors import OutOfValidityRangeError
from cellscape.scenario.records import AntennaSpec

SPEC = "3GPP TR 38.901 V18.0.0"
_ROTATION = f"{SPEC} 7.1, eqs (7.1-7) and (7.1-8)"
_ARRAY = f"{SPEC} 7.3 with the TR 36.897 5.2.2 sub-array weights"

ARRAY_FLOOR_LIN = 1e-30
"""Floor of the array power gain at exact nulls, so that its dB value stays finite (-300 dB)."""


def bearing_from_azimuth_deg(azimuth_deg):
    """
    TR 38.901 bearing alpha (counter-clockwise from east) of a sector azimuth (clockwise from north).

    Parameters
    ----------
    azimuth_deg : array_like
        Sector boresight, clockwise from north, as scenario files give it. [deg]

    Returns
    -------
    bearing_deg : ndarray
        alpha = 90 - azimuth, wrapped to (-180, 180]. [deg]

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, 7.1 (bearing angle alpha of the LCS).

    Examples
    --------
    >>> [float(bearing_from_azimuth_deg(a)) for a in (0.0, 90.0, 180.0, 270.0)]
    [90.0, 0.0, -90.0, 180.0]
    """
    a = 90.0 - np.asarray(azimuth_deg, dtype=float)
    return 180.0 - (180.0 - a) % 360.0


def gcs_to_lcs_deg(theta_deg, phi_deg, *, bearing_deg, downtilt_deg, slant_deg=0.0):
    """
    Direction (theta, phi) in the GCS -> (theta', phi') in the antenna LCS (TR 38.901 eqs 7.1-7, 7.1-8).

    The LCS is the GCS rotated by alpha (bearing) about z, then beta (downtilt) about the new y, then
    gamma (slant) about the new x: R = R_Z(alpha) R_Y(beta) R_X(gamma) (eq. 7.1-4). A positive beta
    turns the boresight below the horizon.

    Parameters
    ----------
    theta_deg : array_like
        GCS zenith angle, 0 to 180. [deg]
    phi_deg : array_like
        GCS azimuth, counter-clockwise from east. [deg]
    bearing_deg : array_like
        Bearing alpha of the antenna boresight, counter-clockwise from east
        (see :func:`bearing_from_azimuth_deg`). [deg]
    downtilt_deg : array_like
        Mechanical downtilt beta, positive down. [deg]
    slant_deg : array_like, default 0.0
        Slant gamma about the boresight axis. [deg]

    Returns
    -------
    theta_lcs_deg : ndarray
        LCS zenith angle theta' in [0, 180]. [deg]
    phi_lcs_deg : ndarray
        LCS azimuth phi' from the boresight, wrapped to (-180, 180]. [deg]

    Notes
    -----
    theta' = arccos(cos b cos g cos t + (sin b cos g cos(p - a) - sin g sin(p - a)) sin t)
    phi'   = arg(cos b sin t cos(p - a) - sin b cos t
                 + j (cos b sin g cos t + (sin b sin g cos(p - a) + cos g sin(p - a)) sin t))

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, 7.1.1, eqs (7.1-7) and (7.1-8).

    Examples
    --------
    The boresight of a sector with bearing 30 deg and 10 deg downtilt:

    >>> [round(float(v), 6) for v in gcs_to_lcs_deg(100.0, 30.0, bearing_deg=30.0, downtilt_deg=10.0)]
    [90.0, 0.0]
    """
    t = np.radians(np.asarray(theta_deg, dtype=float))
    p = np.radians(np.asarray(phi_deg, dtype=float)) - np.radians(np.asarray(bearing_deg, dtype=float))
    b = np.radians(np.asarray(downtilt_deg, dtype=float))
    g = np.radians(np.asarray(slant_deg, dtype=float))
    ct, st, cp, sp = np.cos(t), np.sin(t), np.cos(p), np.sin(p)
    cb, sb, cg, sg = np.cos(b), np.sin(b), np.cos(g), np.sin(g)
    cos_theta_l = cb * cg * ct + (sb * cg * cp - sg * sp) * st             # eq. 7.1-7
    theta_l = np.degrees(np.arccos(np.clip(cos_theta_l, -1.0, 1.0)))
    re = cb * st * cp - sb * ct                                             # eq. 7.1-8, real part
    im = cb * sg * ct + (sb * sg * cp + cg * sp) * st                       # eq. 7.1-8, imaginary part
    phi_l = np.degrees(np.arctan2(im, re))                                  # [-180, 180]
    phi_l = np.where(phi_l <= -180.0, phi_l + 360.0, phi_l)                 # (-180, 180]
    return theta_l, phi_l


def _check_array_options(n_rows, row_spacing_wavelengths, elec_tilt_deg) -> int:
    if isinstance(n_rows, bool) or not float(n_rows).is_integer() or n_rows < 1:
        raise OutOfValidityRangeError(f"n_rows={n_rows!r} must be an integer >= 1 (elements M of {_ARRAY})")
    if not np.isfinite(row_spacing_wavelengths) or row_spacing_wavelengths <= 0.0:
        raise OutOfValidityRangeError(
            f"row_spacing_wavelengths={row_spacing_wavelengths:g} must be > 0 (d_V / lambda of {_ARRAY})")
    if not -90.0 <= elec_tilt_deg <= 90.0:
        raise OutOfValidityRangeError(
            f"elec_tilt_deg={elec_tilt_deg:g} is outside [-90, 90] (theta_etilt = 90 + elec_tilt_deg "
            f"in [0, 180], {_ARRAY})")
    return int(n_rows)


def vertical_array_factor_db(theta_lcs_deg, *, n_rows, row_spacing_wavelengths, elec_tilt_deg):
    """
    Power gain of an M x 1 vertical uniform array phased to theta_etilt, relative to one element.

    Element m (m = 1..M) sits at height (m - 1) d_V on the LCS z axis, so its phase towards
    theta is v_m = exp(j 2 pi (m - 1) (d_V / lambda) cos theta); the weights are
    w_m = exp(-j 2 pi (m - 1) (d_V / lambda) cos theta_etilt) / sqrt(M) with
    theta_etilt = 90 + elec_tilt_deg. The result is 10 log10 |sum_m w_m v_m|^2.

    Parameters
    ----------
    theta_lcs_deg : array_like
        Zenith angle in the antenna LCS (after the mechanical tilt). [deg]
    n_rows : int
        Number of vertical elements M; 1 gives 0 dB everywhere.
    row_spacing_wavelengths : float
        Vertical element spacing d_V / lambda (0.5 or 0.8 in TR 38.901 Table 7.8-1).
    elec_tilt_deg : float
        Electrical downtilt, positive down, -90 to 90 (theta_etilt = 90 + elec_tilt_deg). [deg]

    Returns
    -------
    array_gain_db : ndarray
        Shape of ``theta_lcs_deg``; at most 10 log10(M), reached at theta = theta_etilt; exact nulls
        are floored at 10 log10(``ARRAY_FLOOR_LIN``) = -300 dB. [dB]

    Raises
    ------
    OutOfValidityRangeError
        If ``n_rows`` is not an integer >= 1, ``row_spacing_wavelengths`` <= 0 or
        ``elec_tilt_deg`` is outside [-90, 90].

    Notes
    -----
    Evaluated in closed form: with psi = 2 pi (d_V / lambda) (cos theta - cos theta_etilt),
    |sum_m w_m v_m|^2 = sin^2(M psi / 2) / (M sin^2(psi / 2)), whose limit at psi -> 0 is M.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, 7.3 (antenna panel of M x N elements, spacing d_V) and 7.8.1,
       Table 7.8-1 (calibration: M = 10, theta_etilt = 102 deg).
    .. [2] 3GPP, "Study on elevation beamforming / Full-Dimension (FD) MIMO for LTE," TR 36.897
       V13.0.0, 5.2.2 (TXRU virtualisation, sub-array partition: the weights w_m).

    Examples
    --------
    The 7.8 calibration array peaks at 10 log10(10) = 10 dB at theta_etilt = 102 deg:

    >>> round(float(vertical_array_factor_db(102.0, n_rows=10, row_spacing_wavelengths=0.8,
    ...                                      elec_tilt_deg=12.0)), 6)
    10.0
    """
    m = _check_array_options(n_rows, row_spacing_wavelengths, elec_tilt_deg)
    t = np.radians(np.asarray(theta_lcs_deg, dtype=float))
    if m == 1:
        return np.where(np.isnan(t), np.nan, 0.0)
    psi = 2.0 * np.pi * row_spacing_wavelengths * (np.cos(t) - np.cos(np.radians(90.0 + elec_tilt_deg)))
    half = psi / 2.0
    s = np.sin(half)
    small = np.abs(s) < 1e-9                                   # psi ~ 0 (mod 2 pi): main or grating lobe
    ratio = np.where(small, float(m), np.sin(m * half) ** 2 / np.where(small, 1.0, m * s * s))
    return 10.0 * np.log10(np.maximum(ratio, ARRAY_FLOOR_LIN))


def sector_gain_dbi(theta_gcs_deg, phi_gcs_deg, *, azimuth_deg, mech_tilt_deg=0.0, elec_tilt_deg=0.0,
                    antenna: AntennaSpec = AntennaSpec()):
    """
    Gain of a sector antenna towards the GCS direction (theta, phi).

    Element gain (Table 7.3-1) in the LCS rotated by the sector's bearing and mechanical downtilt
    (7.1, eqs 7.1-7/7.1-8), plus the vertical array gain steered to the electrical tilt
    (:func:`vertical_array_factor_db`). The peak is ``max_gain_dbi + 10 log10(n_rows)`` towards
    zenith 90 + mech_tilt_deg + elec_tilt_deg on the boresight (for small tilts).

    Parameters
    ----------
    theta_gcs_deg : array_like
        GCS zenith angle from the antenna to the receiver (90 = horizon, > 90 below it). [deg]
    phi_gcs_deg : array_like
        GCS azimuth, counter-clockwise from east. [deg]
    azimuth_deg : float
        Sector boresight, clockwise from north (scenario convention). [deg]
    mech_tilt_deg : float, default 0.0
        Mechanical downtilt, positive down. [deg]
    elec_tilt_deg : float, default 0.0
        Electrical downtilt, positive down, -90 to 90. [deg]
    antenna : AntennaSpec, default AntennaSpec()
        Element parameters and array size; ``model="isotropic"`` gives ``max_gain_dbi`` everywhere.

    Returns
    -------
    gain_dbi : ndarray
        Broadcast shape of ``theta_gcs_deg`` and ``phi_gcs_deg`` (a 2-D table from a column of
        theta and a row of phi). [dBi]

    Raises
    ------
    InvalidChoiceError
        If ``antenna.model`` is not 'tr38901' or 'isotropic'.
    OutOfValidityRangeError
        If an antenna option is out of range (see :func:`vertical_array_factor_db`).

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, 7.1 (LCS rotation), 7.3 and Table 7.3-1 (element and panel).

    Examples
    --------
    An 8-row array tilted 6 deg electrically, towards its electrical boresight: 8 dBi + 10 log10(8)
    dB, less the element's 0.10 dB at 6 deg below the horizon:

    >>> round(float(sector_gain_dbi(96.0, 90.0, azimuth_deg=0.0, elec_tilt_deg=6.0,
    ...                             antenna=AntennaSpec(n_rows=8))), 3)
    16.929
    """
    check_choice("antenna.model", antenna.model, ("tr38901", "isotropic"))
    theta = np.asarray(theta_gcs_deg, dtype=float)
    phi = np.asarray(phi_gcs_deg, dtype=float)
    if antenna.model == "isotropic":
        return np.full(np.broadcast_shapes(theta.shape, phi.shape), float(antenna.max_gain_dbi))
    theta_l, phi_l = gcs_to_lcs_deg(theta, phi, bearing_deg=bearing_from_azimuth_deg(azimuth_deg),
                                    downtilt_deg=mech_tilt_deg)
    g = element_gain_dbi(theta_l, phi_l, max_gain_dbi=antenna.max_gain_dbi, hpbw_deg=antenna.hpbw_deg,
                         sla_v_db=antenna.sla_v_db, a_max_db=antenna.a_max_db)
    return g + vertical_array_factor_db(theta_l, n_rows=antenna.n_rows,
                                        row_spacing_wavelengths=antenna.row_spacing_wavelengths,
                                        elec_tilt_deg=elec_tilt_deg)
