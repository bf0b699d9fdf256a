"""The TR 38.901 Section 7.8.1 large-scale calibration: coupling loss and geometry CDFs.

One call drops UEs in the layout of Table 7.8-1, draws every random quantity of the large-scale
model (indoor state, UE height, LOS state, h_E, shadow fading, O2I loss) with an explicit
:class:`numpy.random.Generator`, and returns per-UE coupling loss and geometry. Every formula
comes from its home module (propagation, antenna, radio, scenario.defaults); this module only
assembles them, vectorised over (sites or sectors) x UEs.

What the calibration assumes, and how it is modelled here (see docs/validation.md):

- layout: 19 sites x 3 sectors with wrap-around (UMa ISD 500 m, UMi 200 m) or the 12-BS indoor
  office (:mod:`cellscape.scenario.layouts`);
- UEs: uniform over the cells (UMa/UMi) or the hall (indoor); UMa/UMi UEs are indoor with
  probability 0.8, on floor n_fl of an N_fl-floor building (Table 7.4.1-1 Note), outdoor ones at
  1.5 m; UMa/UMi drops closer than the minimum 2D distance (35 m / 10 m) to any site are redrawn;
- O2I (UMa/UMi indoor UEs): each UE's building is high-loss with probability 0.5 (the
  50 % low / 50 % high mix of Table 7.8-1); d_2D-in and the N(0, sigma_P^2) term are drawn once
  per UE (one building, every site sees the same wall loss). Drawing them per UE-site link instead
  lets the serving site pick the smallest loss and shortens the upper tail of the coupling loss by
  about 3 dB, away from the published curves (docs/validation.md);
- LOS state, h_E (UMa) and shadow fading: independent per UE-site link, shared by the sectors of
  a site (TR 38.901 7.5 step 4); the LOS probability takes d_2D-out = d_2D - d_2D-in;
- BS antenna: Table 7.8-1 configuration 1, M = 10 vertical elements phased to theta_etilt = 102 deg
  (UMa/UMi) or 110 deg (indoor), Table 7.3-1 element, no mechanical tilt, vertical spacing
  d_V = :data:`CALIBRATION_D_V_WAVELENGTHS` (0.5 wavelength); indoor BSs carry the same three
  sectors as the hexagonal sites. Both are the set-up with which the published curves are
  reproduced within 0.5 dB (with d_V = 0.8 or single downward sectors they are missed by 2 to
  20 dB, docs/validation.md); the UE antenna is isotropic, 0 dBi;
- serving sector: the largest received power with a 0 dB handover margin (equal powers: the
  largest coupling gain); coupling loss = PL + SF + O2I - G_BS - G_UE to it;
- geometry: serving power over the sum of every other sector's power at full load, with
  (``geometry_sinr_db``) and without (``geometry_sir_db``) the UE's thermal noise over the
  Table 7.8-1 bandwidth. The published 3GPP curves are noise-free (see docs/validation.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, NamedTuple

import numpy as np

from cellscape._validate import check_choice, check_range
from cellscape.antenna.sector import sector_gain_dbi
from cellscape.propagation.o2i import draw_indoor_distance_m, o2i_building_loss_db
from cellscape.propagation.tr38901 import (
    indoor_ut_height_m,
    los_probability,
    path_loss_db,
    shadow_fading_std_db,
    uma_effective_environment_height_m,
)
from cellscape.radio.link_budget import best_server_sinr_db, coupling_loss_db, thermal_noise_dbm
from cellscape.errors import InvalidChoiceError
from cellscape.scenario.defaults import (CALIBRATION_O2I_HIGH_LOSS_FRACTION, TABLE_CALIBRATION, CalibrationAssumptions,
                                         calibration_assumptions)
from cellscape.scenario.layouts import (
    HEX_SECTOR_AZIMUTHS_DEG,
    CellLayout,
    hexagonal_layout,
    indoor_office_layout,
    uniform_points_in_cells_m,
    uniform_points_in_rectangle_m,
    wrapped_offsets_m,
)
from cellscape.scenario.records import AntennaSpec

__all__ = [
    "CALIBRATION_ENVIRONMENTS", "PERCENTILES", "METRICS", "O2I_HIGH_LOSS_FRACTION", "CALIBRATION_D_V_WAVELENGTHS",
    "INDOOR_SECTOR_AZIMUTHS_DEG",
    "PercentileRow", "CalibrationResult", "run_calibration", "calibration_layout",
]

CalibrationEnvironment = Literal["UMa", "UMi", "InH-office-open", "InH-office-mixed"]
CALIBRATION_ENVIRONMENTS: tuple[str, ...] = ("UMa", "UMi", "InH-office-open", "InH-office-mixed")

PERCENTILES: tuple[int, ...] = tuple(range(5, 100, 5))
"""Percentiles the 3GPP calibration summaries tabulate: 5, 10, ..., 95 [%]."""

METRICS: tuple[str, ...] = ("coupling_loss_db", "geometry_sinr_db", "geometry_sir_db")
"""Per-UE metrics of a :class:`CalibrationResult`, in the order :meth:`CalibrationResult.percentiles` lists them."""

O2I_HIGH_LOSS_FRACTION = CALIBRATION_O2I_HIGH_LOSS_FRACTION
"""Share of indoor UEs in high-loss buildings (Table 7.8-1: 50 % low-loss, 50 % high-loss model)."""

CALIBRATION_D_V_WAVELENGTHS = 0.5
"""Vertical element spacing d_V / lambda of the calibration BS array. Not settled by the sources
:mod:`cellscape.scenario.defaults` could read (it keeps 0.8); 0.5 is what QuaDRiGa and NVIDIA Aerial
simulate and what reproduces the published 3GPP coupling-loss and geometry percentiles
(docs/validation.md)."""

INDOOR_SECTOR_AZIMUTHS_DEG = HEX_SECTOR_AZIMUTHS_DEG
"""Sectors of each indoor-office BS in the calibration: three, as on the hexagonal sites, boresights
horizontal (mechanical tilt 0) with the 110 deg electrical tilt. :mod:`cellscape.scenario.defaults`
lists one sector; three horizontal sectors are what QuaDRiGa's 38.901 calibration simulates and
what reproduces the published indoor curves within 0.3 dB (docs/validation.md)."""

UE_OUTDOOR_FLOOR_RANGE = (4, 8)   # fallback N_fl bounds when the layout gives none (Table 7.4.1-1 Note)


class PercentileRow(NamedTuple):
    """One row of a calibration table: ``metric`` at ``percentile`` [%] is ``value`` [dB]."""

    metric: str
    percentile: int
    value: float


@dataclass(frozen=True, eq=False)
class CalibrationResult:
    """Per-UE outcome of :func:`run_calibration`; arrays have shape (n_ues,).

    ``coupling_loss_db`` is the loss to the serving sector (positive, dB), ``geometry_sinr_db``
    includes thermal noise, ``geometry_sir_db`` does not. ``serving_sector`` indexes
    ``layout.sector_site``; ``indoor`` and ``serving_los`` describe each UE and its serving link;
    ``ue_x_m``, ``ue_y_m`` (in ``layout`` coordinates) and ``h_ut_m`` are the UE positions [m];
    ``link_coupling_loss_db``, shape (n_sectors, n_ues), the coupling loss of every sector-UE link
    (what the system-level calibration puts on its per-sector maps).
    """

    environment: str
    fc_ghz: float
    coupling_loss_db: np.ndarray
    geometry_sinr_db: np.ndarray
    geometry_sir_db: np.ndarray
    serving_sector: np.ndarray
    indoor: np.ndarray
    serving_los: np.ndarray
    ue_x_m: np.ndarray
    ue_y_m: np.ndarray
    h_ut_m: np.ndarray
    tx_power_dbm: float
    noise_dbm: float
    layout: CellLayout
    source: str
    link_coupling_loss_db: np.ndarray | None = None   # (n_sectors, n_ues): every link, wrap-around [dB]

    @property
    def n_ues(self) -> int:
        return int(self.coupling_loss_db.size)

    def percentiles(self, percentiles=PERCENTILES) -> list[PercentileRow]:
        """Rows (metric, percentile, value) for every metric of :data:`METRICS` and percentile.

        Percentiles use numpy's default (linear) interpolation between order statistics.

        >>> r = run_calibration("UMi", 6.0, n_drops=200, rng=np.random.default_rng(0))
        >>> rows = r.percentiles()
        >>> len(rows), rows[0].metric, rows[0].percentile
        (57, 'coupling_loss_db', 5)
        """
        p = [int(v) for v in percentiles]
        check_range("percentile", p, 0, 100, source="a percentile")
        rows: list[PercentileRow] = []
        for metric in METRICS:
            values = np.percentile(getattr(self, metric), p)
            rows.extend(PercentileRow(metric, q, float(v)) for q, v in zip(p, values))
        return rows


def calibration_layout(assumptions: CalibrationAssumptions) -> CellLayout:
    """The layout of a Table 7.8-1 set-up: hexagonal with wrap-around, or the indoor office.

    >>> calibration_layout(calibration_assumptions("UMa", 6.0)).n_sectors
    57
    """
    lay = assumptions.layout
    if lay.layout == "hexagonal":
        return hexagonal_layout(lay.isd_m, sector_azimuths_deg=lay.sector_azimuths_deg, name=lay.environment)
    return indoor_office_layout(isd_m=lay.isd_m, grid=lay.site_grid, hall_size_m=lay.hall_size_m,
                                sector_azimuths_deg=INDOOR_SECTOR_AZIMUTHS_DEG)


def _drop_hexagonal(layout: CellLayout, n: int, min_d2d_m: float, rng: np.random.Generator):
    """UE positions uniform over the cells, redrawing those closer than ``min_d2d_m`` to any site."""
    x, y, _ = uniform_points_in_cells_m(layout, n, rng=rng)                  # (n,)
    redraw = np.ones(n, dtype=bool)
    while np.any(redraw):
        dx, dy = wrapped_offsets_m(x[redraw], y[redraw], layout)            # (n_sites, n_redraw)
        too_close = np.hypot(dx, dy).min(axis=0) < min_d2d_m                 # (n_redraw,)
        idx = np.flatnonzero(redraw)
        redraw[idx[~too_close]] = False
        bad = idx[too_close]
        if bad.size:
            x[bad], y[bad], _ = uniform_points_in_cells_m(layout, bad.size, rng=rng)
    return x, y


def run_calibration(environment: CalibrationEnvironment, fc_ghz: float, *, n_drops: int,
                    rng: np.random.Generator, antenna: AntennaSpec | None = None,
                    assumptions: CalibrationAssumptions | None = None) -> CalibrationResult:
    """
    Run the TR 38.901 7.8.1 large-scale calibration for one scenario and carrier frequency.

    Parameters
    ----------
    environment : {'UMa', 'UMi', 'InH-office-open', 'InH-office-mixed'}
        Calibration scenario of Table 7.8-1 (UMi is UMi-Street Canyon).
    fc_ghz : {6, 30, 70}
        Carrier frequency. [GHz]
    n_drops : int
        Number of UEs dropped, >= 1. Each UE is an independent drop (the large-scale
        parameters are drawn independently per UE-site link, there is no spatial correlation to
        keep), so this is also the number of samples of each CDF.
    rng : numpy.random.Generator
        The only source of randomness: the same seed gives the same result.
    antenna : AntennaSpec, optional
        BS antenna; default: Table 7.8-1 configuration 1
        (:data:`cellscape.scenario.defaults.CALIBRATION_ARRAY`) with d_V =
        :data:`CALIBRATION_D_V_WAVELENGTHS`. For sensitivity studies.
    assumptions : CalibrationAssumptions, optional
        Another set-up of the same form (e.g. ITU-R M.2412's Urban Macro-mMTC,
        :func:`cellscape.scenario.defaults.m2412_mmtc_assumptions`); then ``environment`` and
        ``fc_ghz`` must be its own.

    Returns
    -------
    CalibrationResult
        Per-UE coupling loss and geometry; :meth:`CalibrationResult.percentiles` tabulates them.

    Raises
    ------
    InvalidChoiceError
        If ``environment`` or ``fc_ghz`` is not one Table 7.8-1 defines; the message lists them.
    OutOfValidityRangeError
        If ``n_drops`` < 1.

    Notes
    -----
    Memory and time scale as n_drops x n_sectors (57 x 20 000 links run in about a second).
    Indoor-office NLOS links beyond the 86 m validity limit of Table 7.4.1-1 (d_3D) exist in a
    120 m hall; their path loss is the formula extrapolated (``out_of_range="extrapolate"``).

    References
    ----------
    .. [1] 3GPP TR 38.901 V19.0.0, 7.8.1 and Table 7.8-1 (large-scale calibration).

    Examples
    --------
    >>> r = run_calibration("UMa", 6.0, n_drops=500, rng=np.random.default_rng(1))
    >>> r.coupling_loss_db.shape, bool(np.all(r.geometry_sinr_db <= r.geometry_sir_db + 1e-12))
    ((500,), True)
    """
    check_choice("environment", environment, CALIBRATION_ENVIRONMENTS)
    if assumptions is None:
        a = calibration_assumptions(environment, fc_ghz)
    else:
        a = assumptions
        if (a.environment, a.fc_ghz) != (environment, float(fc_ghz)):
            raise InvalidChoiceError(f"environment={environment!r}, fc_ghz={fc_ghz!r} differ from the assumptions' "
                                     f"{a.environment!r}, {a.fc_ghz:g} ({a.source})")
    n = int(check_range("n_drops", n_drops, 1, np.inf, source="run_calibration"))
    lay = a.layout
    layout = calibration_layout(a)
    hexagonal = lay.layout == "hexagonal"
    fc = a.fc_ghz

    # --- UE drop: positions, indoor state, heights ---------------------------------------------
    if hexagonal:
        ue_x, ue_y = _drop_hexagonal(layout, n, lay.min_d2d_m, rng)          # (n,)
        indoor = rng.uniform(size=n) < lay.indoor_fraction                   # (n,)
        low, high = (lay.ut_floors_min, lay.ut_floors_max) if lay.ut_floors_min else UE_OUTDOOR_FLOOR_RANGE
        h_ut_m = np.where(indoor, indoor_ut_height_m(n, rng=rng, n_floors_low=low, n_floors_high=high),
                          lay.ut_height_m)                                    # (n,)
    else:
        ue_x, ue_y = uniform_points_in_rectangle_m(lay.hall_size_m, n, rng=rng)
        indoor = np.ones(n, dtype=bool)                                      # the hall: no O2I loss
        h_ut_m = np.full(n, lay.ut_height_m)

    # --- link geometry, (n_sites, n) -------------------------------------------------------------
    dx_m, dy_m = wrapped_offsets_m(ue_x, ue_y, layout)                       # (n_sites, n)
    d2d_m = np.hypot(dx_m, dy_m)                                             # (n_sites, n)
    h_ut = h_ut_m[None, :]                                                   # (1, n)
    theta_deg = np.degrees(np.arctan2(d2d_m, h_ut - lay.h_bs_m))            # (n_sites, n) zenith at the BS
    phi_deg = np.degrees(np.arctan2(dy_m, dx_m))                             # (n_sites, n) ccw from east

    # --- O2I: building type per UE, indoor distance and spread per link ------------------------
    if hexagonal:
        d2d_in_m = draw_indoor_distance_m(n, scenario=environment, rng=rng) * indoor   # (n,)
        high_loss = rng.uniform(size=n) < a.o2i_high_loss_fraction                     # (n,)
        o2i_low_db = o2i_building_loss_db(fc, d2d_in_m, model="low", rng=rng)          # (n,)
        o2i_high_db = o2i_building_loss_db(fc, d2d_in_m, model="high", rng=rng)        # (n,)
        o2i_db = np.where(indoor, np.where(high_loss, o2i_high_db, o2i_low_db), 0.0)[None, :]   # (1, n)
    else:
        d2d_in_m = np.zeros(n)
        o2i_db = np.zeros((1, n))

    # --- LOS state, path loss and shadow fading per link ----------------------------------------
    d2d_out_m = np.maximum(d2d_m - d2d_in_m[None, :], 0.0)                   # (n_sites, n)
    los = rng.uniform(size=d2d_m.shape) < los_probability(environment, d2d_out_m, h_ut)
    if environment == "UMa":
        h_e_m = uma_effective_environment_height_m(d2d_m, np.broadcast_to(h_ut, d2d_m.shape), rng=rng)
    else:
        h_e_m = 1.0
    policy = "raise" if hexagonal else "extrapolate"
    pl_db = path_loss_db(environment, d2d_m, lay.h_bs_m, h_ut, fc, los, out_of_range=policy, h_e_m=h_e_m)
    sf_db = rng.standard_normal(d2d_m.shape) * shadow_fading_std_db(environment, los)   # (n_sites, n)

    # --- BS antenna gain per sector, (n_sectors, n) ---------------------------------------------
    if antenna is None:
        antenna = replace(a.array.antenna_spec(), row_spacing_wavelengths=CALIBRATION_D_V_WAVELENGTHS)
    site = layout.sector_site                                                # (n_sectors,)
    gain_dbi = np.empty((layout.n_sectors, n))                               # (n_sectors, n)
    for az in np.unique(layout.sector_azimuth_deg):
        rows = np.flatnonzero(layout.sector_azimuth_deg == az)
        gain_dbi[rows] = sector_gain_dbi(theta_deg[site[rows]], phi_deg[site[rows]], azimuth_deg=float(az),
                                         mech_tilt_deg=0.0, elec_tilt_deg=a.elec_tilt_deg, antenna=antenna)

    # --- coupling loss, serving sector, geometry --------------------------------------------------
    link_cl_db = coupling_loss_db(pl_db[site], sf_db[site], o2i_db, tx_gain_dbi=gain_dbi,
                                  rx_gain_dbi=a.ue_antenna_gain_dbi)        # (n_sectors, n)
    rx_dbm = a.tx_power_dbm - link_cl_db                                     # (n_sectors, n)
    noise_dbm = float(thermal_noise_dbm(a.bandwidth_mhz * 1e6, a.ue_noise_figure_db))
    serving, sinr_db = best_server_sinr_db(rx_dbm, noise_dbm)               # (n,), (n,)
    _, sir_db = best_server_sinr_db(rx_dbm, -np.inf)                         # (n,)
    ue = np.arange(n)
    return CalibrationResult(
        environment=environment, fc_ghz=fc, coupling_loss_db=link_cl_db[serving, ue],
        geometry_sinr_db=sinr_db, geometry_sir_db=sir_db, serving_sector=serving, indoor=indoor,
        serving_los=los[site[serving], ue], ue_x_m=ue_x, ue_y_m=ue_y, h_ut_m=h_ut_m, tx_power_dbm=a.tx_power_dbm, noise_dbm=noise_dbm, layout=layout,
        link_coupling_loss_db=link_cl_db,
        source=(f"{TABLE_CALIBRATION} (large-scale calibration, {environment}, {fc:g} GHz)" if assumptions is None
                else a.source))
