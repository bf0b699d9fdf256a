"""A sector antenna: TR 38.901 element in a phased vertical array, oriented by azimuth and tilt.

Global coordinates (GCS, TR 38.901 7.1): theta zenith angle (0 = up, 90 = horizon, 180 = down),
phi azimuth counter-clockwise from the x (east) axis, degrees. Scenario files give the sector
azimuth clockwise from north, so the bearing alpha of 7.1 is 90 deg - azimuth; mechanical and
electrical downtilt are positive down (theta_etilt = 90 deg + elec_tilt_deg).
"""

from __future__ import annotations

import numpy as np

from cellscape.antenna.element import element_gain_dbi
from cellscape.scenario.records import AntennaSpec

SPEC = "3GPP TR 38.901 V18.0.0"


def bearing_from_azimuth_deg(azimuth_deg):
    """TR 38.901 bearing alpha (ccw from east) of a sector azimuth (cw from north), in (-180, 180].

    >>> float(bearing_from_azimuth_deg(0.0)), float(bearing_from_azimuth_deg(90.0))
    (90.0, 0.0)
    """
    a = 90.0 - np.asarray(azimuth_deg, dtype=float)
    return 180.0 - (180.0 - a) % 360.0


def gcs_to_lcs_deg(theta_deg, phi_deg, *, bearing_deg, downtilt_deg, slant_deg=0.0):
    """Direction (theta, phi) in the GCS -> (theta', phi') in the antenna's LCS (TR 38.901 eqs 7.1-7, 7.1-8).

    The LCS is the GCS rotated by alpha (bearing) about z, beta (downtilt) about the new y and
    gamma (slant) about the new x. phi' is wrapped to (-180, 180].

    >>> [round(float(v), 6) for v in gcs_to_lcs_deg(100.0, 30.0, bearing_deg=30.0, downtilt_deg=10.0)]
    [90.0, 0.0]
    """
    t = np.radians(np.asarray(theta_deg, dtype=float))
    p = np.radians(np.asarray(phi_deg, dtype=float)) - np.radians(bearing_deg)
    b = np.radians(downtilt_deg)
    g = np.radians(slant_deg)
    ct, st, cp, sp = np.cos(t), np.sin(t), np.cos(p), np.sin(p)
    cb, sb, cg, sg = np.cos(b), np.sin(b), np.cos(g), np.sin(g)
    cos_tl = cb * cg * ct + (sb * cg * cp - sg * sp) * st
    theta_l = np.degrees(np.arccos(np.clip(cos_tl, -1.0, 1.0)))
    re = cb * st * cp - sb * ct
    im = cb * sg * ct + (sb * sg * cp + cg * sp) * st
    phi_l = np.degrees(np.arctan2(im, re))
    phi_l = np.where(phi_l <= -180.0, phi_l + 360.0, phi_l)
    return theta_l, phi_l


def vertical_array_factor_db(theta_lcs_deg, *, n_rows, row_spacing_wavelengths, elec_tilt_deg):
    """Gain of an M x 1 vertical uniform array relative to one element [dB].

    Element m at height (m - 1) d_V has phase 2 pi (m - 1) (d_V/lambda) cos(theta); the weights
    w_m = exp(-j 2 pi (m - 1) (d_V/lambda) cos(theta_etilt)) / sqrt(M) steer to
    theta_etilt = 90 + elec_tilt_deg (TR 38.901 7.3, the weights of the 7.8 calibration antenna).
    The peak, at theta = theta_etilt, is 10 log10(M).

    >>> round(float(vertical_array_factor_db(102.0, n_rows=10, row_spacing_wavelengths=0.8, elec_tilt_deg=12.0)), 6)
    10.0
    """
    m = int(n_rows)
    if m < 1:
        raise ValueError(f"n_rows must be >= 1, got {n_rows}")
    t = np.radians(np.asarray(theta_lcs_deg, dtype=float))
    if m == 1:
        return np.zeros_like(t)
    psi = 2.0 * np.pi * row_spacing_wavelengths * (np.cos(t) - np.cos(np.radians(90.0 + elec_tilt_deg)))
    # |sum_m exp(j m psi)|^2 / M = sin^2(M psi/2) / (M sin^2(psi/2)), closed form, limit M at psi -> 0
    half = psi / 2.0
    s = np.sin(half)
    small = np.abs(s) < 1e-9
    ratio = np.where(small, float(m), np.sin(m * half) ** 2 / np.where(small, 1.0, m * s * s))
    return 10.0 * np.log10(np.maximum(ratio, 1e-30))


def sector_gain_dbi(theta_gcs_deg, phi_gcs_deg, *, azimuth_deg, mech_tilt_deg=0.0, elec_tilt_deg=0.0,
                    antenna: AntennaSpec = AntennaSpec()):
    """Gain of a sector antenna towards the GCS direction (theta, phi) [dBi].

    Element gain (Table 7.3-1) in the LCS rotated by the sector's bearing and mechanical downtilt
    (7.1), plus the vertical array factor steered to the electrical tilt (7.3). An isotropic antenna
    gives ``antenna.max_gain_dbi`` everywhere.

    >>> round(float(sector_gain_dbi(90.0 + 6.0, 90.0, azimuth_deg=0.0, elec_tilt_deg=6.0,
    ...                             antenna=AntennaSpec(n_rows=8))), 3)
    16.929
    """
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
