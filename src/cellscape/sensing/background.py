"""Background channel of TRP-monostatic sensing as a large-scale clutter term: 3GPP TR 38.901 V19.4.0
clause 7.9.4.2 (reference points, Table 7.9.4.2-1, eq. 7.9.4-15).

TR 38.901 7.9.4.2 builds the background channel of TRP-monostatic sensing from three reference
points (RPs) per STX/SRX: 2-D distance G(alpha_d, beta_d) + c_d and height G(alpha_h, beta_h) + c_h
(shape-rate Gamma laws, Table 7.9.4.2-1), the LOS AODs towards them rotated by 2 pi/3 and 4 pi/3,
each link NLOS with the TRP-UE model of the scenario (the RP "treated as a terrestrial UE",
7.9.3), summed after their path loss and shadow fading (eq. 7.9.4-15). It is a stochastic channel
for link-level use. The sensing maps take its large-scale power only, as one clutter power per
sector (:func:`monostatic_background_per_re_dbm`):

    C = P_RE + 10 lg( 3 mean_phi 10^(2 G(theta_RP, phi) / 10) ) - PL_NLOS(d_RP, h_BS, h_RP)

with every RP at the means of the Gamma laws (E[d] = alpha_d / beta_d + c_d, likewise h), the
shadow fading at its median (0 dB), the two-way sector gain (monostatic: the same antenna) averaged
over the azimuth of the first RP (uniform: the TR fixes only the 120 deg rotations), and three RPs.
How the maps use it (a noise-like interference term, ``background_suppression_db``) is in
:func:`cellscape.pipeline.sense.run_sense` and docs/sensing.md.

Only the outdoor rows (UMi, UMa, RMa) are used: the indoor rows of Table 7.9.4.2-1 (Indoor office
c_h = -13.19 m, Indoor Factory c_h = -17.04 m) give negative mean heights whose reference the TR
does not state. The values are from the transcription of TR 38.901 V19.4.0 in
MehdiZD97/3gpp-tr-library (tables/table-7.9.4.2-1.csv), as the calibration
(:mod:`cellscape.sensing.calibration`) uses for UMa.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cellscape._validate import check_choice
from cellscape.antenna.sector import sector_gain_dbi
from cellscape.propagation import tr38901

SPEC = "3GPP TR 38.901 V19.4.0"
_TABLE = f"{SPEC} Table 7.9.4.2-1"


@dataclass(frozen=True)
class ReferencePointLaw:
    """One row of Table 7.9.4.2-1: d_2D ~ G(alpha_d, beta_d) + c_d, h ~ G(alpha_h, beta_h) + c_h [m]."""

    alpha_d: float
    beta_d: float
    c_d: float
    alpha_h: float
    beta_h: float
    c_h: float

    @property
    def mean_d2d_m(self) -> float:
        """E[d_2D] = alpha_d / beta_d + c_d (shape-rate Gamma) [m]."""
        return self.alpha_d / self.beta_d + self.c_d

    @property
    def mean_height_m(self) -> float:
        """E[h] = alpha_h / beta_h + c_h [m]."""
        return self.alpha_h / self.beta_h + self.c_h


TRP_MONOSTATIC_RP: dict[str, ReferencePointLaw] = {
    "UMi": ReferencePointLaw(6.1996, 0.1558, 15.2697, 12.0487, 2.3261, 0.0157),
    "UMa": ReferencePointLaw(10.3370, 0.1317, 68.7778, 16.2253, 1.9218, 2.6142),
    "RMa": ReferencePointLaw(6.2025, 0.0391, 1.2940, 0.0007, 5.0146, 0.0522),
}
"""Table 7.9.4.2-1 (TRP monostatic), outdoor rows, keyed by the TR 38.901 scenario of the site."""

BACKGROUND_ENVIRONMENTS: tuple[str, ...] = tuple(TRP_MONOSTATIC_RP)

N_REFERENCE_POINTS = 3
"""Reference points per STX/SRX (7.9.4.2 Step 2)."""

_H_UT_RANGE_M = {"UMi": tr38901.URBAN_H_UT_RANGE_M, "UMa": tr38901.URBAN_H_UT_RANGE_M,
                 "RMa": tr38901.RMA_H_UT_RANGE_M}


def reference_point_geometry_m(environment: str) -> tuple[float, float]:
    """
    Mean 2-D distance and height of a TRP-monostatic reference point (Table 7.9.4.2-1).

    The height is clipped into the UT range of the environment's path-loss model (Table 7.4.1-1:
    UMa/UMi 1.5 to 22.5 m, RMa 1 to 10 m): RMa's mean height is 0.05 m, below the RMa model's 1 m.

    Returns
    -------
    d2d_m, h_rp_m : float
        [m]

    Examples
    --------
    >>> [round(v, 2) for v in reference_point_geometry_m("UMa")]     # 10.337/0.1317 + 68.78, 16.23/1.92 + 2.61
    [147.27, 11.06]
    >>> [round(v, 2) for v in reference_point_geometry_m("RMa")]
    [159.93, 1.0]
    """
    check_choice("environment", environment, BACKGROUND_ENVIRONMENTS)
    law = TRP_MONOSTATIC_RP[environment]
    lo, hi = _H_UT_RANGE_M[environment]
    return float(law.mean_d2d_m), float(np.clip(law.mean_height_m, lo, hi))


def reference_point_path_loss_db(environment: str, h_bs_m: float, fc_ghz: float) -> float:
    """
    NLOS path loss TRP -> reference point at the mean geometry (Table 7.4.1-1, the TRP-UE link of
    the environment, Table 7.9.3-3 / 7.9.3-1 Case 2) [dB], without shadow fading.

    Examples
    --------
    >>> round(reference_point_path_loss_db("UMa", 25.0, 3.5), 2)
    103.49
    """
    d2d, h = reference_point_geometry_m(environment)
    return float(tr38901.path_loss_db(environment, d2d, h_bs_m, h, fc_ghz, False))


def two_way_gain_db(theta_deg: float, *, azimuth_deg, mech_tilt_deg, elec_tilt_deg, antenna,
                    n_azimuths: int = 360) -> float:
    """10 lg( 3 mean_phi 10^(2 G(theta, phi) / 10) ): the two-way sector gain towards three RPs 120 deg
    apart, averaged over the azimuth of the first (``n_azimuths`` uniform bins) [dB].

    Examples
    --------
    >>> from cellscape.scenario.records import AntennaSpec
    >>> round(two_way_gain_db(95.0, azimuth_deg=0.0, mech_tilt_deg=0.0, elec_tilt_deg=0.0,
    ...                       antenna=AntennaSpec(model="isotropic", max_gain_dbi=0.0)), 3)   # 10 lg 3
    4.771
    """
    phi = (np.arange(n_azimuths) + 0.5) * 360.0 / n_azimuths
    g = sector_gain_dbi(np.full(phi.shape, float(theta_deg)), phi, azimuth_deg=azimuth_deg,
                        mech_tilt_deg=mech_tilt_deg, elec_tilt_deg=elec_tilt_deg, antenna=antenna)
    return float(10.0 * np.log10(N_REFERENCE_POINTS * np.mean(10.0 ** (2.0 * np.asarray(g) / 10.0))))


def monostatic_background_per_re_dbm(tx_power_per_re_dbm: float, environment: str, h_bs_m: float, fc_ghz: float, *,
                                     azimuth_deg: float = 0.0, mech_tilt_deg: float = 0.0,
                                     elec_tilt_deg: float = 0.0, antenna=None) -> float:
    """
    Large-scale background (clutter) power per RE at a monostatic sector's receiver [dBm].

    Parameters
    ----------
    tx_power_per_re_dbm : float
        The sector's transmit power per RE. [dBm]
    environment : {'UMi', 'UMa', 'RMa'}
        TR 38.901 scenario of the site (Table 7.9.4.2-1 row).
    h_bs_m : float
        Antenna height. [m]
    fc_ghz : float
        Carrier frequency. [GHz]
    azimuth_deg, mech_tilt_deg, elec_tilt_deg, antenna
        The sector's antenna (:func:`cellscape.antenna.sector.sector_gain_dbi`); ``antenna`` None:
        isotropic 0 dBi.

    Returns
    -------
    background_dbm : float
        P_RE + :func:`two_way_gain_db` at the RPs' zenith - :func:`reference_point_path_loss_db`. [dBm]

    References
    ----------
    .. [1] 3GPP TR 38.901 V19.4.0, 7.9.4.2 Step 2 to 5, eq. 7.9.4-15, Tables 7.9.4.2-1 and 7.9.3-3.

    Examples
    --------
    Isotropic TRP at 25 m, UMa, 3.5 GHz, 10.85 dBm per RE: 10.85 + 4.77 - 103.49 = -87.87 dBm.

    >>> round(monostatic_background_per_re_dbm(10.85, "UMa", 25.0, 3.5), 2)
    -87.87
    """
    from cellscape.scenario.records import AntennaSpec

    d2d, h = reference_point_geometry_m(environment)
    theta = 90.0 + float(np.degrees(np.arctan2(h_bs_m - h, d2d)))        # below the horizon for h < h_BS
    ant = antenna if antenna is not None else AntennaSpec(model="isotropic", max_gain_dbi=0.0)
    g2 = two_way_gain_db(theta, azimuth_deg=azimuth_deg, mech_tilt_deg=mech_tilt_deg, elec_tilt_deg=elec_tilt_deg,
                         antenna=ant)
    return float(tx_power_per_re_dbm) + g2 - reference_point_path_loss_db(environment, h_bs_m, fc_ghz)


def clutter_noise_rise_db(background_dbm, noise_dbm, suppression_db=0.0):
    """
    10 lg(1 + C / (S N)): how much a background C [dBm per RE], suppressed by S [dB], raises the
    noise N [dBm per RE] of a noise-like SCNR [dB].

    Examples
    --------
    >>> round(float(clutter_noise_rise_db(-124.0, -124.0)), 3)
    3.01
    >>> round(float(clutter_noise_rise_db(-90.0, -124.0, 40.0)), 3)
    0.973
    """
    c = (np.asarray(background_dbm, dtype=float) - np.asarray(suppression_db, dtype=float)
         - np.asarray(noise_dbm, dtype=float))
    return 10.0 * np.log10(1.0 + 10.0 ** (c / 10.0))


__all__ = ["BACKGROUND_ENVIRONMENTS", "N_REFERENCE_POINTS", "ReferencePointLaw", "TRP_MONOSTATIC_RP",
           "clutter_noise_rise_db", "monostatic_background_per_re_dbm", "reference_point_geometry_m",
           "reference_point_path_loss_db", "two_way_gain_db"]
