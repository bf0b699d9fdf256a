"""Lookup tables the tile kernels read, built by calling the models themselves.

One formula, one home: path loss, LOS probability and shadow-fading spread come from
:mod:`cellscape.propagation.tr38901` (and, for an aerial receiver, :mod:`cellscape.propagation.aerial`),
antenna gain from :mod:`cellscape.antenna.sector`. The kernels
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

Aerial receivers (UAV targets and aerial UEs; issue 13): a receiver higher than the TR 38.901 UT
range of a site's environment (UMa, UMi: above 22.5 m; RMa: above 10 m) up to 300 m takes that
site's TR 36.777 V15.0.0 Annex B model instead (UMa-AV, UMi-AV, RMa-AV; :func:`aerial_scenario`);
at or below the threshold the TR 38.901 tables stay, as Annex B itself says (the two ranges meet
with no gap between them, and the loss may jump there: Annex B does not join them continuously).
InH and InF have no aerial model: a receiver above their UT range is refused, as before. The gaps of
Annex B are filled, once, here:

- distances: the near clip stays the terrestrial environment's (10 m); Table B-2 stops at 4 km
  (UMa-AV, UMi-AV) or 10 km (RMa-AV), and longer links follow ``FAR_POLICY`` (extrapolate) like the
  TR 38.901 tables;
- UMa-AV NLOS above 100 m: Table B-2's NLOS row ends at 100 m, and Table B-1 makes every link LOS
  above it, so the statistical LOS modes never read the NLOS table there. Geometric LOS can still find
  a blocked link (a taller tower, terrain): it takes the 100 m row's law at the link's own d3D,
  floored at the LOS loss (see :func:`_uma_av_nlos_above_100_m_db`);
- NLOS shadow-fading spread above the end of its Table B-3 row (RMa-AV 40 m, UMa-AV 100 m) takes the
  row's last value (a constant 6 dB in both rows);
- Table B-1's LOS laws were derived for one BS height each (RMa-AV 35 m, UMa-AV 25 m, UMi-AV 10 m);
  the tables apply them to every site's height, while the path loss uses the site's real height;
- an aerial receiver is outdoor: the engine gives no pixel an O2I loss and judges geometric LOS from
  the receiver's own position, above the roof it flies over (``PreparedRun.meta["aerial_receiver"]``).
"""

from __future__ import annotations

import functools

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cellscape.antenna.sector import sector_gain_dbi
from cellscape.errors import OutOfValidityRangeError
from cellscape.propagation import aerial, tr38901
from cellscape.propagation.diffraction import NU_MIN, bullington_correction_db, knife_edge_loss_db
from cellscape.scenario.records import AntennaSpec

U_STEP = 0.05
"""Step of the distance tables in u = sqrt(d2d_m) [sqrt(m)]."""

THETA_STEP_DEG = 0.1
PHI_STEP_DEG = 0.5

NEAR_POLICY = "clip"
FAR_POLICY = "extrapolate"

AERIAL_OF: dict[str, str] = {"RMa": "RMa-AV", "UMa": "UMa-AV", "UMi": "UMi-AV"}
"""The TR 36.777 Annex B scenario that extends each TR 38.901 environment above its UT height range."""

_SF_NLOS_TOP_M = {"RMa-AV": 40.0, "UMa-AV": 100.0, "UMi-AV": aerial.MAX_AERIAL_HEIGHT_M}
"""Top of each Table B-3 NLOS row [m]; above it the row's last value is used."""

_UMA_AV_NLOS_TOP_M = 100.0
"""Top of Table B-2's UMa-AV NLOS row [m]."""


def aerial_scenario(environment: str, h_ut_m: float) -> str | None:
    """The TR 36.777 Annex B scenario the map engine uses for a receiver ``h_ut_m`` above ground in a
    site of ``environment``, or None where TR 38.901 applies (at or below the threshold of
    :data:`cellscape.propagation.aerial.MIN_AERIAL_HEIGHT_M`, or InH/InF, which have no aerial model).

    Examples
    --------
    >>> aerial_scenario("UMa", 22.5), aerial_scenario("UMa", 50.0), aerial_scenario("RMa", 15.0)
    (None, 'UMa-AV', 'RMa-AV')
    >>> aerial_scenario("InH-office-mixed", 50.0) is None
    True
    """
    av = AERIAL_OF.get(environment)
    if av is None or float(h_ut_m) <= aerial.MIN_AERIAL_HEIGHT_M[av]:
        return None
    return av


def aerial_receiver(environments: Sequence[str], h_ut_m: float) -> bool:
    """Whether a receiver at ``h_ut_m`` is aerial for any of ``environments`` (:func:`aerial_scenario`):
    the engine then takes every pixel as outdoor (no O2I loss; geometric LOS from the receiver itself).

    Examples
    --------
    >>> aerial_receiver(["UMa", "RMa"], 15.0), aerial_receiver(["UMa"], 15.0)
    (True, False)
    """
    return any(aerial_scenario(e, h_ut_m) is not None for e in environments)


def _uma_av_nlos_above_100_m_db(d2d_m, h_bs_m: float, h_ut_m: float, fc_ghz: float) -> np.ndarray:
    """UMa-AV NLOS loss above the 100 m top of its Table B-2 row (a cellscape policy, module docstring):
    the 100 m row's law -17.5 + (46 - 7 lg 100) lg d3D + 20 lg(40 pi fc / 3) at the link's true d3D,
    floored at the UMa-AV LOS loss. The row's function takes d3D from (d2D, h_BS, 100 m), so it is
    given the d2D that has the true d3D at 100 m (0 where the true d3D is shorter than |100 - h_BS|,
    a site above 100 m: the loss is then that of the nearest d3D the row can express)."""
    d2d = np.asarray(d2d_m, dtype=float)
    d3d_sq = d2d ** 2 + (h_ut_m - h_bs_m) ** 2
    d2d_eq = np.sqrt(np.maximum(d3d_sq - (_UMA_AV_NLOS_TOP_M - h_bs_m) ** 2, 0.0))
    nlos = aerial.uma_av_nlos_path_loss_db(d2d_eq, h_bs_m, _UMA_AV_NLOS_TOP_M, fc_ghz, out_of_range=FAR_POLICY)
    los = aerial.uma_av_los_path_loss_db(d2d, h_bs_m, h_ut_m, fc_ghz, out_of_range=FAR_POLICY)
    return np.maximum(los, nlos)


def _aerial_rows(av: str, d_eval: np.ndarray, d: np.ndarray, h_bs: float, h_ut_m: float,
                 fc_ghz: float) -> dict[str, np.ndarray]:
    """One site's table rows from TR 36.777 Annex B (Tables B-1 to B-3), gaps filled as the module says."""
    common = dict(out_of_range=FAR_POLICY)
    pl_los = aerial.path_loss_db(av, d_eval, h_bs, h_ut_m, fc_ghz, True, **common)
    if av == "UMa-AV" and h_ut_m > _UMA_AV_NLOS_TOP_M:
        pl_nlos = _uma_av_nlos_above_100_m_db(d_eval, h_bs, h_ut_m, fc_ghz)
    else:
        pl_nlos = aerial.path_loss_db(av, d_eval, h_bs, h_ut_m, fc_ghz, False, **common)
    return {
        "pl_los_db": pl_los, "pl_nlos_db": pl_nlos,
        "sf_std_los_db": aerial.shadow_fading_std_db(av, True, h_ut_m),
        "sf_std_nlos_db": aerial.shadow_fading_std_db(av, False, min(h_ut_m, _SF_NLOS_TOP_M[av])),
        "p_los": aerial.los_probability(av, d, h_ut_m),
    }


def _terrestrial_rows(env: str, d_eval: np.ndarray, d: np.ndarray, h_bs: float, h_ut_m: float,
                      fc_ghz: float, n_u: int) -> dict[str, np.ndarray]:
    """One site's table rows from TR 38.901 Tables 7.4.1-1 and 7.4.2-1."""
    common = dict(out_of_range=FAR_POLICY)
    sf_kw = dict(d2d_m=d_eval, h_bs_m=h_bs, h_ut_m=h_ut_m, fc_ghz=fc_ghz)
    try:
        pl_los = tr38901.path_loss_db(env, d_eval, h_bs, h_ut_m, fc_ghz, True, **common)
    except OutOfValidityRangeError as exc:
        if "h_ut_m" not in str(exc) or env in AERIAL_OF:
            raise
        raise type(exc)(f"{exc}; aerial receivers (TR 36.777 Annex B, up to {aerial.MAX_AERIAL_HEIGHT_M:g} m) "
                        f"are modelled for RMa, UMa and UMi sites only, not {env}") from None
    return {
        "pl_los_db": pl_los,
        "pl_nlos_db": tr38901.path_loss_db(env, d_eval, h_bs, h_ut_m, fc_ghz, False, **common),
        "sf_std_los_db": np.broadcast_to(tr38901.shadow_fading_std_db(env, True, **sf_kw), (n_u,)),
        "sf_std_nlos_db": np.broadcast_to(tr38901.shadow_fading_std_db(env, False, **sf_kw), (n_u,)),
        "p_los": tr38901.los_probability(env, d, h_ut_m, h_bs_m=h_bs),
    }


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
    horizontal distance from 0 to ``max_d2d_m`` (TR 38.901 Tables 7.4.1-1 and 7.4.2-1; for a
    receiver above the UT range of an RMa, UMa or UMi site, up to 300 m, TR 36.777 V15.0.0 Annex B
    Tables B-1 to B-3: :func:`aerial_scenario` and the module docstring).

    Raises
    ------
    OutOfValidityRangeError
        A height or fc outside the model's range, e.g. ``h_ut_m`` above 300 m (Annex B's top), below
        1.5 m in UMa/UMi, or above the UT range of an InH/InF site (no aerial model there).

    Examples
    --------
    >>> t = distance_tables(["UMa"], [25.0], h_ut_m=100.0, fc_ghz=3.5, max_d2d_m=600.0)
    >>> i = int(np.searchsorted(t.d2d_m, 400.0))    # u = 20: a node
    >>> round(float(t.d2d_m[i]), 2), round(float(t.pl_los_db[0, i]), 2), float(t.d2d_max_m[0])
    (400.0, 96.29, 4000.0)
    """
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
        d_min[i] = max(lo_los, lo_nlos, float(np.sqrt(max(0.0, 1.0 - min(abs(h_bs - h_ut_m), 1.0) ** 2))))
        d_max[i] = min(hi_los, hi_nlos)
        d_eval = np.maximum(d, d_min[i])
        av = aerial_scenario(env, h_ut_m)
        if av is not None:
            d_max[i] = aerial.MAX_D2D_M[av]
            rows = _aerial_rows(av, d_eval, d, float(h_bs), float(h_ut_m), fc_ghz)
        else:
            rows = _terrestrial_rows(env, d_eval, d, h_bs, h_ut_m, fc_ghz, n_u)
        for k, v in rows.items():
            out[k][i] = np.broadcast_to(v, (n_u,))
    return DistanceTables(u_step=u_step, d2d_min_m=d_min, d2d_max_m=d_max, **out)


def zenith_angle_table_deg(dist: DistanceTables, h_bs_m, *, h_ut_m: float) -> np.ndarray:
    """Zenith angle from each site's antenna to a UT at the table distances, (n_sites, n_u) [deg].

    theta = atan2(d2d, h_UT - h_BS): 90 deg at the horizon, > 90 deg below it (TR 38.901 7.1 GCS),
    < 90 deg for a receiver above the antenna (an aerial target: the gain tables cover 0..180 deg, so
    the array's up-tilted side lobes apply).

    Examples
    --------
    >>> t = distance_tables(["UMa"], [25.0], h_ut_m=125.0, fc_ghz=3.5, max_d2d_m=200.0)
    >>> i = int(np.searchsorted(t.d2d_m, 100.0))
    >>> round(float(zenith_angle_table_deg(t, [25.0], h_ut_m=125.0)[0, i]), 1)
    45.0
    """
    dz = h_ut_m - np.asarray(h_bs_m, dtype=float)[:, None]                  # (n_sites, 1)
    return np.degrees(np.arctan2(dist.d2d_m[None, :], dz))


def antenna_key(antenna: AntennaSpec, mech_tilt_deg: float, elec_tilt_deg: float) -> tuple:
    """Sectors with equal keys share one gain table."""
    return (antenna, float(mech_tilt_deg), float(elec_tilt_deg))


def gain_table_dbi(antenna: AntennaSpec, mech_tilt_deg: float, elec_tilt_deg: float, *,
                   theta_step_deg: float = THETA_STEP_DEG, phi_step_deg: float = PHI_STEP_DEG) -> np.ndarray:
    """Sector gain [dBi] on theta (zenith, 0..180) x phi relative to the bearing (-180..180),
    shape (n_theta, n_phi), float32 (TR 38.901 Table 7.3-1 element, 7.1 rotation, 7.3 array).

    Read-only and kept per process for each (antenna, tilts, steps): a national run prepares every
    block with the same few kinds of antenna (~75 ms a table).
    """
    return _gain_table_dbi(antenna, float(mech_tilt_deg), float(elec_tilt_deg), float(theta_step_deg),
                           float(phi_step_deg))


@functools.lru_cache(maxsize=256)
def _gain_table_dbi(antenna: AntennaSpec, mech_tilt_deg: float, elec_tilt_deg: float, theta_step_deg: float,
                    phi_step_deg: float) -> np.ndarray:
    theta = np.arange(0.0, 180.0 + theta_step_deg / 2, theta_step_deg)
    phi = np.arange(-180.0, 180.0 + phi_step_deg / 2, phi_step_deg)
    # azimuth 90 deg clockwise from north = bearing 0 (east): phi relative to the bearing
    g = sector_gain_dbi(theta[:, None], phi[None, :], azimuth_deg=90.0, mech_tilt_deg=mech_tilt_deg,
                        elec_tilt_deg=elec_tilt_deg, antenna=antenna)
    out = np.array(np.broadcast_to(g, (theta.size, phi.size)), dtype=np.float32)
    out.flags.writeable = False
    return out


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
