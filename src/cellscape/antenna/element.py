"""The base-station antenna element of 3GPP TR 38.901, Table 7.3-1.

One function per row of the table. Angles are in the element's local coordinate system (LCS,
TR 38.901 7.1): ``theta_deg`` is the zenith angle (0 = up, 90 = horizon, 180 = down) and ``phi_deg``
the azimuth from the element's boresight (0 = boresight, counter-clockwise positive), both in
degrees. Patterns are attenuations relative to the peak in dB (<= 0); gains are in dBi.

Table 7.3-1 (values are the table's defaults)::

    A_E,V(theta'') = -min{12 ((theta'' - 90) / theta_3dB)^2, SLA_V},  theta_3dB = 65 deg, SLA_V = 30 dB
    A_E,H(phi'')   = -min{12 (phi'' / phi_3dB)^2, A_max},             phi_3dB = 65 deg,   A_max = 30 dB
    A''(theta'', phi'') = -min{-(A_E,V + A_E,H), A_max}
    G_E,max = 8 dBi
"""

from __future__ import annotations

import numpy as np

from cellscape.errors import OutOfValidityRangeError

SPEC = "3GPP TR 38.901 V18.0.0"
_TABLE = f"{SPEC} Table 7.3-1"

HPBW_DEG = 65.0
"""Half-power beamwidth theta_3dB = phi_3dB of Table 7.3-1 [deg]."""
SLA_V_DB = 30.0
"""Side-lobe level limit SLA_V of Table 7.3-1 [dB]."""
A_MAX_DB = 30.0
"""Front-back ratio A_max of Table 7.3-1 [dB]."""
MAX_GAIN_DBI = 8.0
"""Maximum directional gain G_E,max of an element, Table 7.3-1 [dBi]."""


def _check_pattern_options(hpbw_deg, floor_name: str, floor_db) -> None:
    """Configuration checks shared by the cuts (STYLE P6: configuration out of range raises)."""
    if not np.isfinite(hpbw_deg) or not 0.0 < hpbw_deg <= 360.0:
        raise OutOfValidityRangeError(f"hpbw_deg={hpbw_deg:g} is outside (0, 360], the half-power beamwidth "
                                      f"of {_TABLE}")
    if not np.isfinite(floor_db) or floor_db < 0.0:
        raise OutOfValidityRangeError(f"{floor_name}={floor_db:g} must be a finite attenuation >= 0 dB "
                                      f"({_TABLE})")


def element_vertical_pattern_db(theta_deg, *, hpbw_deg=HPBW_DEG, sla_v_db=SLA_V_DB):
    """
    Vertical cut of the element pattern, A_E,V (TR 38.901 Table 7.3-1).

    Parameters
    ----------
    theta_deg : array_like
        Zenith angle in the element LCS, 0 to 180 (90 = horizon). [deg]
    hpbw_deg : float, default 65.0
        Vertical half-power beamwidth theta_3dB. [deg]
    sla_v_db : float, default 30.0
        Side-lobe level limit SLA_V. [dB]

    Returns
    -------
    a_v_db : ndarray
        -min{12 ((theta - 90) / theta_3dB)^2, SLA_V}, shape of ``theta_deg``, <= 0. [dB]

    Raises
    ------
    OutOfValidityRangeError
        If ``hpbw_deg`` is not in (0, 360] or ``sla_v_db`` is negative.

    References
    ----------
    .. [1] 3GPP, "Study on channel model for frequencies from 0.5 to 100 GHz," TR 38.901 V18.0.0,
       Table 7.3-1 (radiation power pattern of a single antenna element, vertical cut).

    Examples
    --------
    Half the beamwidth off the horizon is 3 dB down:

    >>> float(element_vertical_pattern_db(90.0 + 32.5))
    -3.0
    """
    _check_pattern_options(hpbw_deg, "sla_v_db", sla_v_db)
    t = np.asarray(theta_deg, dtype=float)
    return -np.minimum(12.0 * ((t - 90.0) / hpbw_deg) ** 2, sla_v_db)


def element_horizontal_pattern_db(phi_deg, *, hpbw_deg=HPBW_DEG, a_max_db=A_MAX_DB):
    """
    Horizontal cut of the element pattern, A_E,H (TR 38.901 Table 7.3-1).

    Parameters
    ----------
    phi_deg : array_like
        Azimuth from boresight in the element LCS; any value, wrapped to [-180, 180). [deg]
    hpbw_deg : float, default 65.0
        Horizontal half-power beamwidth phi_3dB. [deg]
    a_max_db : float, default 30.0
        Front-back ratio A_max. [dB]

    Returns
    -------
    a_h_db : ndarray
        -min{12 (phi / phi_3dB)^2, A_max}, shape of ``phi_deg``, <= 0. [dB]

    Raises
    ------
    OutOfValidityRangeError
        If ``hpbw_deg`` is not in (0, 360] or ``a_max_db`` is negative.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.3-1 (horizontal cut).

    Examples
    --------
    >>> float(element_horizontal_pattern_db(-32.5)), float(element_horizontal_pattern_db(180.0))
    (-3.0, -30.0)
    """
    _check_pattern_options(hpbw_deg, "a_max_db", a_max_db)
    p = np.asarray(phi_deg, dtype=float)
    p = (p + 180.0) % 360.0 - 180.0                         # wrap: the table's phi'' is in [-180, 180]
    return -np.minimum(12.0 * (p / hpbw_deg) ** 2, a_max_db)


def element_pattern_db(theta_deg, phi_deg, *, hpbw_deg=HPBW_DEG, sla_v_db=SLA_V_DB, a_max_db=A_MAX_DB):
    """
    3-D element pattern A'' = -min{-(A_E,V + A_E,H), A_max} (TR 38.901 Table 7.3-1).

    Parameters
    ----------
    theta_deg : array_like
        Zenith angle in the element LCS (90 = horizon). [deg]
    phi_deg : array_like
        Azimuth from boresight in the element LCS. [deg]
    hpbw_deg : float, default 65.0
        Half-power beamwidth, used for both cuts (theta_3dB = phi_3dB in the table). [deg]
    sla_v_db : float, default 30.0
        Side-lobe level limit SLA_V of the vertical cut. [dB]
    a_max_db : float, default 30.0
        Front-back ratio A_max, the floor of the horizontal cut and of the 3-D pattern. [dB]

    Returns
    -------
    a_db : ndarray
        Attenuation relative to boresight, broadcast shape of the angles, in [-A_max, 0]. [dB]

    Raises
    ------
    OutOfValidityRangeError
        If an option is out of range (see :func:`element_vertical_pattern_db`).

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.3-1 (3D radiation power pattern).

    Examples
    --------
    Half a beamwidth off in both planes adds up; behind the element the floor A_max holds:

    >>> float(element_pattern_db(122.5, 32.5)), float(element_pattern_db(90.0, 180.0))
    (-6.0, -30.0)
    """
    a = (element_vertical_pattern_db(theta_deg, hpbw_deg=hpbw_deg, sla_v_db=sla_v_db)
         + element_horizontal_pattern_db(phi_deg, hpbw_deg=hpbw_deg, a_max_db=a_max_db))
    return -np.minimum(-a, a_max_db)


def element_gain_dbi(theta_deg, phi_deg, *, max_gain_dbi=MAX_GAIN_DBI, hpbw_deg=HPBW_DEG, sla_v_db=SLA_V_DB,
                     a_max_db=A_MAX_DB):
    """
    Element gain G_E,max + A''(theta, phi) (TR 38.901 Table 7.3-1).

    Parameters
    ----------
    theta_deg : array_like
        Zenith angle in the element LCS (90 = horizon). [deg]
    phi_deg : array_like
        Azimuth from boresight in the element LCS. [deg]
    max_gain_dbi : float, default 8.0
        Maximum directional gain G_E,max. [dBi]
    hpbw_deg : float, default 65.0
        Half-power beamwidth of both cuts. [deg]
    sla_v_db : float, default 30.0
        Side-lobe level limit SLA_V. [dB]
    a_max_db : float, default 30.0
        Front-back ratio A_max. [dB]

    Returns
    -------
    gain_dbi : ndarray
        Broadcast shape of the angles, in [G_E,max - A_max, G_E,max]. [dBi]

    Raises
    ------
    OutOfValidityRangeError
        If an option is out of range (see :func:`element_pattern_db`).

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.3-1 (maximum directional gain of an antenna element).

    Examples
    --------
    >>> float(element_gain_dbi(90.0, 0.0)), float(element_gain_dbi(90.0, 32.5))
    (8.0, 5.0)
    """
    return max_gain_dbi + element_pattern_db(theta_deg, phi_deg, hpbw_deg=hpbw_deg, sla_v_db=sla_v_db,
                                             a_max_db=a_max_db)
