"""The base-station antenna element of 3GPP TR 38.901, Table 7.3-1.

Angles in the element's local coordinate system: theta zenith angle (90 deg = horizon), phi azimuth
(0 deg = boresight), both in degrees. Patterns are attenuations in dB (<= 0); gains in dBi.
"""

from __future__ import annotations

import numpy as np

SPEC = "3GPP TR 38.901 V18.0.0"
_TABLE = f"{SPEC} Table 7.3-1"


def element_vertical_pattern_db(theta_deg, *, hpbw_deg=65.0, sla_v_db=30.0):
    """Vertical cut A_E,V = -min{12 ((theta - 90)/theta_3dB)^2, SLA_V} (Table 7.3-1) [dB].

    >>> float(element_vertical_pattern_db(90.0 + 32.5))
    -3.0
    """
    t = np.asarray(theta_deg, dtype=float)
    return -np.minimum(12.0 * ((t - 90.0) / hpbw_deg) ** 2, sla_v_db)


def element_horizontal_pattern_db(phi_deg, *, hpbw_deg=65.0, a_max_db=30.0):
    """Horizontal cut A_E,H = -min{12 (phi/phi_3dB)^2, A_max} (Table 7.3-1) [dB]; phi in (-180, 180].

    >>> float(element_horizontal_pattern_db(-32.5))
    -3.0
    """
    p = np.asarray(phi_deg, dtype=float)
    p = (p + 180.0) % 360.0 - 180.0
    return -np.minimum(12.0 * (p / hpbw_deg) ** 2, a_max_db)


def element_pattern_db(theta_deg, phi_deg, *, hpbw_deg=65.0, sla_v_db=30.0, a_max_db=30.0):
    """3-D element pattern A = -min{-(A_E,V + A_E,H), A_max} (Table 7.3-1) [dB].

    >>> float(element_pattern_db(90.0, 180.0))
    -30.0
    """
    a = (element_vertical_pattern_db(theta_deg, hpbw_deg=hpbw_deg, sla_v_db=sla_v_db)
         + element_horizontal_pattern_db(phi_deg, hpbw_deg=hpbw_deg, a_max_db=a_max_db))
    return -np.minimum(-a, a_max_db)


def element_gain_dbi(theta_deg, phi_deg, *, max_gain_dbi=8.0, hpbw_deg=65.0, sla_v_db=30.0, a_max_db=30.0):
    """Element gain G_E,max + A(theta, phi), G_E,max = 8 dBi (Table 7.3-1) [dBi].

    >>> float(element_gain_dbi(90.0, 0.0))
    8.0
    """
    return max_gain_dbi + element_pattern_db(theta_deg, phi_deg, hpbw_deg=hpbw_deg, sla_v_db=sla_v_db,
                                             a_max_db=a_max_db)
