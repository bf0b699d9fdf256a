"""Published layouts: the TR 38.901 large-scale calibration assumptions (Section 7.8.1).

Table 7.8-1 of TR 38.901 fixes the set-up every company used to calibrate its channel model
(coupling loss and geometry CDFs); the layout numbers it refers to come from Tables 7.2-1 (UMa,
UMi) and 7.2-2 (indoor office), the element pattern from Table 7.3-1. Each number sits next to
its source; read them by ``(environment, fc_ghz)`` with :func:`calibration_assumptions`.

How the values were checked. 3GPP documents could not be opened from here; the values below are
those of the table as restated by independent public calibration set-ups: QuaDRiGa's
"3GPP 38.901 Large Scale Calibration" tutorial (V14.1.0: ISD 200/500/20 m, h_BS 10/25/3 m, min
distance 10/35/0 m, 80 % indoor UEs, 10 vertical elements, tilt 102/110 deg), a MATLAB
``getBwDowntiltPtx`` helper citing Table 7.8-1 (20 MHz at 6 GHz, 100 MHz at 30/70 GHz;
44/35 dBm UMi, 49/35 dBm UMa, 24 dBm indoor), NVIDIA Aerial's UMa 6 GHz phase-1 configuration
(19 sites x 3 sectors, (Mg, Ng, M, N, P) = (1, 1, 10, 1, 1)) and Sionna's calibration scenarios
(min distance 35/10 m). One value is NOT settled by those sources: the vertical element spacing
d_V. We use 0.8 wavelengths (our reading of the table, inherited from TR 36.873's phase-1
calibration); QuaDRiGa and Aerial simulate 0.5. See :data:`CALIBRATION_ARRAY`.

Angles: the table gives sector orientations as TR 38.901 bearing angles (counter-clockwise from
the x axis, east) and the electrical tilt as a zenith angle (90 deg = horizon). The records use a
clockwise-from-north ``azimuth_deg`` and a positive-down ``elec_tilt_deg``; the conversions are
:attr:`CalibrationLayout.sector_azimuths_deg` and :attr:`CalibrationAssumptions.elec_tilt_deg`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cellscape.errors import InvalidChoiceError
from cellscape.scenario.records import AntennaSpec, Sector

__all__ = [
    "SPEC", "TABLE_CALIBRATION", "CalibrationLayout", "BsArrayConfig", "CalibrationAssumptions",
    "CALIBRATION_LAYOUTS", "CALIBRATION_ARRAY", "CALIBRATION_FREQUENCIES_GHZ",
    "CALIBRATION_BANDWIDTH_MHZ", "CALIBRATION_TX_POWER_DBM", "CALIBRATION_TILT_ZENITH_DEG",
    "UE_NOISE_FIGURE_DB", "UE_ANTENNA_GAIN_DBI", "HANDOVER_MARGIN_DB", "calibration_assumptions",
    "UMA_CALIBRATION", "UMI_CALIBRATION", "INH_OFFICE_CALIBRATION", "m2412_mmtc_assumptions",
]

SPEC = "3GPP TR 38.901 V19.0.0"
"""The version cited (the values of Table 7.8-1 used here are unchanged since V14.1.0)."""
TABLE_CALIBRATION = f"{SPEC} Table 7.8-1"
_TABLE_OUTDOOR = f"{SPEC} Table 7.2-1"
_TABLE_INDOOR = f"{SPEC} Table 7.2-2"
_TABLE_ELEMENT = f"{SPEC} Table 7.3-1"


@dataclass(frozen=True)
class CalibrationLayout:
    """Where the base stations and UEs of a calibration drop are.

    ``sector_bearings_deg`` are TR 38.901 bearing angles (counter-clockwise from east);
    :attr:`sector_azimuths_deg` gives them in the records' convention (clockwise from north).
    Indoor UEs of UMa/UMi stand on floor n_fl ~ U{1, N_fl}, N_fl ~ U{``ut_floors_min``,
    ``ut_floors_max``}, at h_UT = 3 (n_fl - 1) + 1.5 m; outdoor UEs at ``ut_height_m``.
    """

    environment: str
    layout: str                                   # "hexagonal" (wrap-around) or "indoor grid"
    n_sites: int
    isd_m: float
    h_bs_m: float
    sector_bearings_deg: tuple[float, ...]
    min_d2d_m: float
    indoor_fraction: float
    ut_height_m: float                            # outdoor UEs (UMa/UMi), every UE (indoor office)
    ut_floors_min: int | None                     # N_fl bounds for indoor UEs of UMa/UMi
    ut_floors_max: int | None
    site_grid: tuple[int, int] | None             # (rows, columns) of sites, indoor office
    hall_size_m: tuple[float, float] | None       # (length, width) of the office hall
    source: str

    @property
    def sectors_per_site(self) -> int:
        return len(self.sector_bearings_deg)

    @property
    def sector_azimuths_deg(self) -> tuple[float, ...]:
        """Sector boresights clockwise from north: azimuth = (90 - bearing) mod 360.

        >>> CALIBRATION_LAYOUTS["UMa"].sector_azimuths_deg
        (60.0, 300.0, 180.0)
        """
        return tuple(float((90.0 - b) % 360.0) for b in self.sector_bearings_deg)


@dataclass(frozen=True)
class BsArrayConfig:
    """A BS antenna configuration (M, N, P, Mg, Ng) of TR 38.901 7.3 with its element pattern.

    M x N elements per panel (rows x columns), P polarisations, Mg x Ng panels; the M elements of
    a column are fed as one port, phased for the electrical tilt.
    """

    m: int
    n: int
    p: int
    mg: int
    ng: int
    d_v_wavelengths: float
    max_gain_dbi: float
    hpbw_deg: float
    sla_v_db: float
    a_max_db: float
    source: str

    def antenna_spec(self) -> AntennaSpec:
        """The record the core uses: one column of M elements, spaced d_V.

        >>> CALIBRATION_ARRAY.antenna_spec().n_rows
        10
        """
        return AntennaSpec(model="tr38901", max_gain_dbi=self.max_gain_dbi, hpbw_deg=self.hpbw_deg,
                           sla_v_db=self.sla_v_db, a_max_db=self.a_max_db, n_rows=self.m,
                           row_spacing_wavelengths=self.d_v_wavelengths)


CALIBRATION_LAYOUTS: dict[str, CalibrationLayout] = {
    "UMa": CalibrationLayout(
        environment="UMa", layout="hexagonal", n_sites=19, isd_m=500.0, h_bs_m=25.0,
        sector_bearings_deg=(30.0, 150.0, 270.0), min_d2d_m=35.0, indoor_fraction=0.8,
        ut_height_m=1.5, ut_floors_min=4, ut_floors_max=8, site_grid=None, hall_size_m=None,
        source=f"{TABLE_CALIBRATION}; {_TABLE_OUTDOOR} (UMa)"),
    "UMi": CalibrationLayout(
        environment="UMi", layout="hexagonal", n_sites=19, isd_m=200.0, h_bs_m=10.0,
        sector_bearings_deg=(30.0, 150.0, 270.0), min_d2d_m=10.0, indoor_fraction=0.8,
        ut_height_m=1.5, ut_floors_min=4, ut_floors_max=8, site_grid=None, hall_size_m=None,
        source=f"{TABLE_CALIBRATION}; {_TABLE_OUTDOOR} (UMi-Street Canyon)"),
}
_INDOOR = CalibrationLayout(
    environment="InH-office", layout="indoor grid", n_sites=12, isd_m=20.0, h_bs_m=3.0,
    sector_bearings_deg=(0.0,), min_d2d_m=0.0, indoor_fraction=1.0,
    ut_height_m=1.0, ut_floors_min=None, ut_floors_max=None, site_grid=(2, 6), hall_size_m=(120.0, 50.0),
    source=f"{TABLE_CALIBRATION}; {_TABLE_INDOOR} (indoor office, one sector per site)")
CALIBRATION_LAYOUTS["InH-office-open"] = _INDOOR
CALIBRATION_LAYOUTS["InH-office-mixed"] = _INDOOR

CALIBRATION_ARRAY = BsArrayConfig(
    m=10, n=1, p=1, mg=1, ng=1, d_v_wavelengths=0.8,
    max_gain_dbi=8.0, hpbw_deg=65.0, sla_v_db=30.0, a_max_db=30.0,
    source=f"{TABLE_CALIBRATION} (BS antenna config 1, one port; d_V = 0.8 lambda is our reading, "
           f"unverified against the spec text); element pattern {_TABLE_ELEMENT}")
"""BS antenna configuration 1 of the large-scale calibration: 10 x 1 elements, one polarisation."""

CALIBRATION_FREQUENCIES_GHZ: tuple[float, ...] = (6.0, 30.0, 70.0)
"""Carrier frequencies of the large-scale calibration [GHz] (Table 7.8-1)."""

CALIBRATION_BANDWIDTH_MHZ: dict[float, float] = {6.0: 20.0, 30.0: 100.0, 70.0: 100.0}
"""Bandwidth per carrier frequency [MHz] (Table 7.8-1)."""

CALIBRATION_TX_POWER_DBM: dict[tuple[str, float], float] = {
    ("UMa", 6.0): 49.0, ("UMa", 30.0): 35.0, ("UMa", 70.0): 35.0,
    ("UMi", 6.0): 44.0, ("UMi", 30.0): 35.0, ("UMi", 70.0): 35.0,
    ("InH-office", 6.0): 24.0, ("InH-office", 30.0): 24.0, ("InH-office", 70.0): 24.0,
}
"""BS transmit power over the whole bandwidth by (environment group, fc_ghz) [dBm] (Table 7.8-1)."""

CALIBRATION_TILT_ZENITH_DEG: dict[str, float] = {"UMa": 102.0, "UMi": 102.0, "InH-office": 110.0}
"""Electrical tilt as the table writes it, a zenith angle (90 = horizon) [deg] (Table 7.8-1)."""

CALIBRATION_O2I_HIGH_LOSS_FRACTION = 0.5
"""Share of indoor UEs in high-loss buildings (Table 7.8-1: 50 % low-loss, 50 % high-loss O2I model)."""

UE_NOISE_FIGURE_DB = 9.0
"""UE noise figure [dB] (Table 7.8-1)."""
UE_ANTENNA_GAIN_DBI = 0.0
"""UE antenna: isotropic, (M, N, P, Mg, Ng) = (1, 1, 1, 1, 1) [dBi] (Table 7.8-1)."""
HANDOVER_MARGIN_DB = 0.0
"""Handover margin for the calibration: the UE attaches to the strongest sector [dB] (Table 7.8-1)."""


@dataclass(frozen=True)
class CalibrationAssumptions:
    """Everything Table 7.8-1 fixes for one (environment, carrier frequency)."""

    environment: str
    fc_ghz: float
    layout: CalibrationLayout
    array: BsArrayConfig
    bandwidth_mhz: float
    tx_power_dbm: float
    tilt_zenith_deg: float
    ue_noise_figure_db: float
    ue_antenna_gain_dbi: float
    handover_margin_db: float
    source: str
    o2i_high_loss_fraction: float = 0.5     # CALIBRATION_O2I_HIGH_LOSS_FRACTION (a literal: dataclass default)

    @property
    def elec_tilt_deg(self) -> float:
        """Electrical downtilt below the horizon, positive = down: zenith angle - 90.

        >>> calibration_assumptions("UMi", 30).elec_tilt_deg
        12.0
        """
        return self.tilt_zenith_deg - 90.0

    def sectors(self) -> tuple[Sector, ...]:
        """The sectors of one site as records (azimuths clockwise from north, ids left empty).

        >>> [s.azimuth_deg for s in calibration_assumptions("UMa", 6).sectors()]
        [60.0, 300.0, 180.0]
        """
        antenna = self.array.antenna_spec()
        return tuple(Sector(azimuth_deg=az, tx_power_dbm=self.tx_power_dbm, mech_tilt_deg=0.0,
                            elec_tilt_deg=self.elec_tilt_deg, antenna=antenna)
                     for az in self.layout.sector_azimuths_deg)


def _group(environment: str) -> str:
    return "InH-office" if environment.startswith("InH-office") else environment


def calibration_assumptions(environment: str, fc_ghz: float) -> CalibrationAssumptions:
    """The TR 38.901 Table 7.8-1 large-scale calibration set-up of one scenario and frequency.

    Parameters
    ----------
    environment : {'UMa', 'UMi', 'InH-office-open', 'InH-office-mixed'}
        Calibration scenario (both indoor-office variants share one layout).
    fc_ghz : {6, 30, 70}
        Carrier frequency of the calibration. [GHz]

    Returns
    -------
    CalibrationAssumptions
        Layout, BS array, bandwidth, power, tilt and UE assumptions, with a ``source``.

    Raises
    ------
    InvalidChoiceError
        If ``environment`` or ``fc_ghz`` is not one the table defines; the message lists them.

    Examples
    --------
    >>> a = calibration_assumptions("UMa", 6.0)
    >>> a.layout.isd_m, a.layout.h_bs_m, a.bandwidth_mhz, a.tx_power_dbm, a.elec_tilt_deg
    (500.0, 25.0, 20.0, 49.0, 12.0)
    >>> calibration_assumptions("RMa", 6.0)
    Traceback (most recent call last):
    ...
    cellscape.errors.InvalidChoiceError: environment='RMa' is not one of 'UMa', 'UMi', 'InH-office-open', 'InH-office-mixed' (the scenarios of 3GPP TR 38.901 V19.0.0 Table 7.8-1)
    """
    if environment not in CALIBRATION_LAYOUTS:
        listed = ", ".join(repr(e) for e in CALIBRATION_LAYOUTS)
        raise InvalidChoiceError(f"environment={environment!r} is not one of {listed} "
                                 f"(the scenarios of {TABLE_CALIBRATION})")
    fc = float(fc_ghz)
    if fc not in CALIBRATION_FREQUENCIES_GHZ:
        listed = ", ".join(f"{f:g}" for f in CALIBRATION_FREQUENCIES_GHZ)
        raise InvalidChoiceError(f"fc_ghz={fc_ghz!r} is not one of {listed} "
                                 f"(the carrier frequencies of {TABLE_CALIBRATION})")
    group = _group(environment)
    return CalibrationAssumptions(
        environment=environment, fc_ghz=fc, layout=CALIBRATION_LAYOUTS[environment],
        array=CALIBRATION_ARRAY, bandwidth_mhz=CALIBRATION_BANDWIDTH_MHZ[fc],
        tx_power_dbm=CALIBRATION_TX_POWER_DBM[(group, fc)],
        tilt_zenith_deg=CALIBRATION_TILT_ZENITH_DEG[group],
        ue_noise_figure_db=UE_NOISE_FIGURE_DB, ue_antenna_gain_dbi=UE_ANTENNA_GAIN_DBI,
        handover_margin_db=HANDOVER_MARGIN_DB, source=TABLE_CALIBRATION)


M2412_MMTC = "ITU-R M.2412-0 Table 5 (Urban Macro-mMTC test environment)"

M2412_MMTC_ISD_M: dict[str, float] = {"A": 500.0, "B": 1732.0}
"""Inter-site distance of the Urban Macro-mMTC configurations A and B [m] (ITU-R M.2412-0)."""

M2412_MMTC_TILT_ZENITH_DEG: dict[str, float] = {"A": 102.0, "B": 92.0}
"""Electrical tilt (zenith of the beam) used here: configuration A keeps Table 7.8-1's UMa 102 deg
(ISD 500 m, the same geometry); for configuration B (ISD 1732 m) the beam is raised to 92 deg to
point near the cell edge. Our choice, not a value read from M.2412."""


def m2412_mmtc_assumptions(config: str = "A") -> CalibrationAssumptions:
    """The ITU-R M.2412 Urban Macro-mMTC test environment as a calibration set-up (for the
    connection-density evaluation of cellscape.simulation.iot): UMa propagation at 700 MHz, 19 sites
    x 3 sectors with wrap-around at ISD 500 m (``config`` 'A') or 1732 m ('B'), h_BS 25 m, 46 dBm,
    80 % of devices indoor in 20 % high-loss / 80 % low-loss buildings; the BS array of Table 7.8-1
    configuration 1 (8 dBi elements) and the tilt of :data:`M2412_MMTC_TILT_ZENITH_DEG`.

    >>> a = m2412_mmtc_assumptions("B")
    >>> a.fc_ghz, a.layout.isd_m, a.o2i_high_loss_fraction, a.layout.indoor_fraction
    (0.7, 1732.0, 0.2, 0.8)
    """
    if config not in M2412_MMTC_ISD_M:
        raise InvalidChoiceError(f"config={config!r} is not one of 'A', 'B' (the configurations of {M2412_MMTC})")
    layout = replace(CALIBRATION_LAYOUTS["UMa"], isd_m=M2412_MMTC_ISD_M[config],
                     source=f"{M2412_MMTC}, configuration {config}; layout of {_TABLE_OUTDOOR} (UMa)")
    return CalibrationAssumptions(
        environment="UMa", fc_ghz=0.7, layout=layout, array=CALIBRATION_ARRAY, bandwidth_mhz=10.0, tx_power_dbm=46.0,
        tilt_zenith_deg=M2412_MMTC_TILT_ZENITH_DEG[config], ue_noise_figure_db=7.0, ue_antenna_gain_dbi=0.0,
        handover_margin_db=HANDOVER_MARGIN_DB, source=f"{M2412_MMTC}, configuration {config}",
        o2i_high_loss_fraction=0.2)


UMA_CALIBRATION = CALIBRATION_LAYOUTS["UMa"]
"""UMa layout of the calibration (STYLE.md P2 name): 19 sites, ISD 500 m, h_BS 25 m."""
UMI_CALIBRATION = CALIBRATION_LAYOUTS["UMi"]
"""UMi-Street Canyon layout of the calibration: 19 sites, ISD 200 m, h_BS 10 m."""
INH_OFFICE_CALIBRATION = _INDOOR
"""Indoor-office layout of the calibration: 12 sites, ISD 20 m, 120 m x 50 m hall, h_BS 3 m."""
