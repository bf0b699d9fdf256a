"""Lookup tables the tile kernels read, built by calling the models themselves.

One formula, one home: path loss, LOS probability and shadow-fading spread come from
:mod:`cellscape.propagation.tr38901`, antenna gain from :mod:`cellscape.antenna.sector`. The kernels
only interpolate these tables, so the maps use exactly the standard's formulas, up to an
interpolation error that the tests bound:

- distance tables are uniform in u = sqrt(d2d_m) with step ``U_STEP`` (0.05 sqrt(m)): the step in
  distance is 0.1 sqrt(d) m, 0.3 m at 10 m and 10 m at 10 km; for a log-distance law
  A + B log10(d) linear interpolation in u errs by at most U_STEP^2 / 8 * 2B / (ln 10 * d), i.e.
  < 0.002 dB at d >= 10 m for B <= 40 (and < 0.01 dB at the LOS breakpoint kink);
- antenna tables hold *linear* power gain on a grid of 0.1 deg in zenith angle theta (0..180) by
  0.5 deg in azimuth relative to the sector bearing (-180..180), read bilinearly. Interpolating the
  linear gain (not dB) keeps the nulls of the vertical array pattern deep: across a null, dB
  interpolation would fill it by tens of dB. The error is < 0.05 dB within 10 dB of the peak
  (tested) and the best-server RSRP of a map agrees with direct model calls to < 0.1 dB.

Validity-range policy of the map engine (STYLE.md P6: decided here, once): a pixel nearer to a site
than the model's minimum distance (``d2d_range_m(...)[0]``, e.g. 10 m for UMa) takes the loss at that
minimum (clip); links longer than the model's maximum (e.g. 5 km for UMa) use the formula as written
(extrapolate), because dropping them would lose interference and clipping would overstate it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cellscape.antenna.sector import sector_gain_dbi
from cellscape.propagation import tr38901
from cellscape.propagation.diffraction import NU_MIN, bullington_correction_db, knife_edge_loss_db
from cellscape.scenario.records import AntennaSpec

U_STEP = 0.05
"""Step of the distance tables in u = sqrt(d2d_m) [sqrt(m)]."""

THETA_STEP_DEG = 0.1
PHI_STEP_DEG = 0.5

NEAR_POLICY = "clip"
FAR_POLICY = "extrapolate"


@dataclass(frozen=True)
class DistanceTables:
    """Per-site tables on u = sqrt(d2d) grid, each shape (n_sites, n_u), float32."""

    u_step: float
    pl_los_db: np.ndarray
    pl_nlos_db: np.ndarray
    sf_std_los_db: np.ndarray
    sf_std_nlos_db: np.ndarray
    p_los: np.ndarray
    d2d_min_m: np.ndarray     # (n_sites,) below this the loss is clipped
    d2d_max_m: np.ndarray     # (n_sites,) beyond this the formula is extrapolated

    @property
    def d2d_m(self) -> np.ndarray:
        """The distances of the table columns, shape (n_u,) [m]."""
        u = np.arange(self.pl_los_db.shape[1]) * self.u_step
        return u * u


def distance_tables(environments: Sequence[str], h_bs_m: Sequence[float], *, h_ut_m: float, fc_ghz: float,
                    max_d2d_m: float, u_step: float = U_STEP) -> DistanceTables:
    """Tabulate, per site, LOS/NLOS path loss, shadow-fading std and LOS probability versus
    horizontal distance from 0 to ``max_d2d_m`` (TR 38.901 Tables 7.4.1-1 and 7.4.2-1)."""
    n_u = int(np.ceil(np.sqrt(max(max_d2d_m, 1.0)) / u_step)) + 3
    d = (np.arange(n_u) * u_step) ** 2                                   # (n_u,)
    n = len(environments)
    out = {k: np.empty((n, n_u), dtype=np.float32)
           for k in ("pl_los_db", "pl_nlos_db", "sf_std_los_db", "sf_std_nlos_db", "p_los")}
    d_min = np.empty(n)
    d_max = np.empty(n)
    for i, (env, h_bs) in enumerate(zip(environments, h_bs_m)):
        lo_los, hi_los = tr38901.d2d_range_m(env, True)
        lo_nlos, hi_nlos = tr38901.d2d_range_m(env, False)
        # InH/InF bound d3D >= 1 m rather than d2D: keep a UT level with the antenna 1 m away
        d_min[i] = max(lo_los, lo_nlos, float(np.sqrt(max(0.0, 1.0 - (h_bs - h_ut_m) ** 2))))
        d_max[i] = min(hi_los, hi_nlos)
        d_eval = np.maximum(d, d_min[i])
        common = dict(out_of_range=FAR_POLICY)
        out["pl_los_db"][i] = tr38901.path_loss_db(env, d_eval, h_bs, h_ut_m, fc_ghz, True, **common)
        out["pl_nlos_db"][i] = tr38901.path_loss_db(env, d_eval, h_bs, h_ut_m, fc_ghz, False, **common)
        sf_kw = dict(d2d_m=d_eval, h_bs_m=h_bs, h_ut_m=h_ut_m, fc_ghz=fc_ghz)
        out["sf_std_los_db"][i] = np.broadcast_to(tr38901.shadow_fading_std_db(env, True, **sf_kw), (n_u,))
        out["sf_std_nlos_db"][i] = np.broadcast_to(tr38901.shadow_fading_std_db(env, False, **sf_kw), (n_u,))
        out["p_los"][i] = tr38901.los_probability(env, d, h_ut_m, h_bs_m=h_bs)
    return DistanceTables(u_step=u_step, d2d_min_m=d_min, d2d_max_m=d_max, **out)


def zenith_angle_table_deg(dist: DistanceTables, h_bs_m, *, h_ut_m: float) -> np.ndarray:
    """Zenith angle from each site's antenna to a UT at the table distances, (n_sites, n_u) [deg].

    theta = atan2(d2d, h_UT - h_BS): 90 deg at the horizon, > 90 deg below it (TR 38.901 7.1 GCS).
    """
    dz = h_ut_m - np.asarray(h_bs_m, dtype=float)[:, None]                  # (n_sites, 1)
    return np.degrees(np.arctan2(dist.d2d_m[None, :], dz))


def antenna_key(antenna: AntennaSpec, mech_tilt_deg: float, elec_tilt_deg: float) -> tuple:
    """Sectors with equal keys share one gain table."""
    return (antenna, float(mech_tilt_deg), float(elec_tilt_deg))


def gain_table_dbi(antenna: AntennaSpec, mech_tilt_deg: float, elec_tilt_deg: float, *,
                   theta_step_deg: float = THETA_STEP_DEG, phi_step_deg: float = PHI_STEP_DEG) -> np.ndarray:
    """Sector gain [dBi] on theta (zenith, 0..180) x phi relative to the bearing (-180..180),
    shape (n_theta, n_phi), float32 (TR 38.901 Table 7.3-1 element, 7.1 rotation, 7.3 array)."""
    theta = np.arange(0.0, 180.0 + theta_step_deg / 2, theta_step_deg)
    phi = np.arange(-180.0, 180.0 + phi_step_deg / 2, phi_step_deg)
    # azimuth 90 deg clockwise from north = bearing 0 (east): phi relative to the bearing
    g = sector_gain_dbi(theta[:, None], phi[None, :], azimuth_deg=90.0, mech_tilt_deg=mech_tilt_deg,
                        elec_tilt_deg=elec_tilt_deg, antenna=antenna)
    return np.asarray(np.broadcast_to(g, (theta.size, phi.size)), dtype=np.float32)


NU_STEP = 0.01
"""Step of the diffraction table in the Bullington parameter nu."""

NU_MAX = 100.0
"""Last entry of the diffraction table: larger nu read its value (J(100) = 53 dB, L_b = 63 dB, far
beyond the TR 38.901 NLOS loss that the engine takes instead)."""


@dataclass(frozen=True)
class DiffractionTable:
    """Bullington loss as a linear gain 10^(-L_b/10) on nu = ``nu_min`` + k ``nu_step``, float64."""

    nu_min: float
    nu_step: float
    gain_lin: np.ndarray
    d_ref_m: float


def diffraction_table(d_ref_m: float, *, nu_step: float = NU_STEP, nu_max: float = NU_MAX) -> DiffractionTable:
    """Tabulate the Bullington loss L_b(nu) = J(nu) + [1 - exp(-J/6)] (10 + 0.02 d) of ITU-R P.526-15
    4.5.1 (:mod:`cellscape.propagation.diffraction`) at one path length ``d_ref_m``.

    The path-length term is 0.02 dB per km, so one reference length (the engine takes half the
    LOS range) errs by at most 0.01 dB per km of difference; linear interpolation in nu at step
    0.01 errs by < 0.01 dB (tested).

    Examples
    --------
    >>> t = diffraction_table(1000.0)
    >>> float(t.gain_lin[0]) > 0.99, t.nu_min
    (True, -0.78)
    """
    nu = NU_MIN + np.arange(int(np.ceil((nu_max - NU_MIN) / nu_step)) + 2) * nu_step
    loss_db = bullington_correction_db(knife_edge_loss_db(nu), d_ref_m)
    return DiffractionTable(nu_min=NU_MIN, nu_step=nu_step, gain_lin=10.0 ** (-loss_db / 10.0), d_ref_m=float(d_ref_m))
