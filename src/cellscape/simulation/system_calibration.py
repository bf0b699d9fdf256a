"""System-level calibration: full-buffer spectral efficiency on the 19-site wrap-around layout.

One call drops ``ues_per_cell`` x 57 UEs on the TR 38.901 Table 7.8-1 layout with wrap-around
(:func:`cellscape.simulation.calibration.run_calibration`: the same drop, link budget and random
draws as the large-scale calibration), hands every UE's received power from every sector to the
system-level simulator (:func:`cellscape.simulation.engine.run_simulation`: PF per RBG, OLLA +
TS 38.214 MCS/TBS, HARQ, per-PRB TDL fading, one layer with MRC over the UE's two branches, an
open-loop power-controlled uplink), repeats for ``n_drops`` drops and returns the two ITU-R M.2410
figures of merit with their CDFs:

- average cell spectral efficiency: bits delivered to all users over time, channel bandwidth and
  number of cells [bit/s/Hz/cell] (ITU-R M.2410-0 4.5, average spectral efficiency);
- 5th-percentile user spectral efficiency: the 5 % point of the CDF of user throughput over the
  channel bandwidth, users of all drops pooled [bit/s/Hz] (ITU-R M.2410-0 4.4).

How the wrap-around drop reaches the simulator (the simulator reads every user's RSRP off
:class:`~cellscape.coverage.engine.SectorMaps` at the user's pixel): a map with **one pixel per
UE**, each pixel holding that UE's RSRP from every sector (the sector's power per RE minus the
drop's wrap-around coupling loss), and one static user group per UE dropped in a hotspot that
covers its own pixel only, so that every UE stands on its own pixel. Indoor state and the serving
link's LOS state (TDL-D fading for LOS, TDL-C otherwise) come from the drop; the LOS state of links
to other sites is not used by a static user and is left False.

What the set-up assumes (docs/validation.md, "System level", lists the differences to the
published figures):

- traffic: full buffer in every cell, ``ues_per_cell`` = 10 UEs per cell on average (the
  full-buffer model of TR 36.814 A.2.1.1; 10 UEs per TRxP in ITU-R M.2412-0's eMBB configurations); UEs are uniform over the layout (the calibration's drop),
  so the users per cell vary from drop to drop; each UE is served by its strongest sector for the
  whole drop (static, 3 km/h Doppler, no handover, no radio-link failure: full-buffer evaluations
  model neither);
- carrier: the Table 7.8-1 frequency, bandwidth and power of the environment (UMa at 6 GHz: 20
  MHz, 49 dBm), FDD with downlink and uplink in every slot, ``scs_khz`` (15 kHz: 106 PRBs);
- UE: the built-in ``smartphone`` profile (23 dBm, NF 9 dB as Table 7.8-1, 0 dBi, 2 receive
  branches); gNB: 2 receive branches, NF 5 dB, open-loop power control P0 -90 dBm, alpha 0.8
  (the simulator's defaults);
- scheduler and link: the simulator's defaults (PF per RBG with a 100-slot window, CSI 2 slots
  old, OLLA to 10 % BLER, MCS table 2, up to 4 HARQ transmissions 8 slots apart, up to 4 uplink
  users per slot).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np

from cellscape._validate import check_choice, check_range
from cellscape.coverage.engine import SectorMaps
from cellscape.coverage.result import SectorTable
from cellscape.geo.grid import RasterGrid
from cellscape.radio.link_budget import noise_per_re_dbm, tx_power_per_re_dbm
from cellscape.radio.nr import resolve_n_prb
from cellscape.scenario.defaults import calibration_assumptions
from cellscape.scenario.devices import BUILT_IN_DEVICES
from cellscape.scenario.model import parse_scenario
from cellscape.scenario.records import Scenario
from cellscape.scenario.simulation import (
    DropSpec,
    DuplexOptions,
    FadingOptions,
    MobilitySpec,
    RlfOptions,
    SchedulerOptions,
    Simulation,
    TrafficSpec,
    UplinkOptions,
    UserGroup,
)
from cellscape.simulation import calibration
from cellscape.simulation.calibration import CALIBRATION_D_V_WAVELENGTHS, CalibrationResult, calibration_layout
from cellscape.simulation.engine import SimulationResult, run_simulation

__all__ = [
    "UES_PER_CELL", "DIRECTIONS", "FIGURES", "SystemCalibrationConfig", "WraparoundDrop", "SystemCalibrationResult",
    "PublishedFigure", "FigureGap", "wraparound_drop", "calibration_scenario", "wraparound_sector_maps",
    "full_buffer_simulation", "run_system_calibration", "figure_gaps",
]

UES_PER_CELL = 10
"""UEs per cell of the 3GPP and ITU full-buffer evaluations (3GPP Case 1 of TR 25.814 / TR 36.814
A.2.1.1: 10 users per cell; ITU-R M.2412-0 eMBB configurations: 10 UEs per TRxP)."""

DIRECTIONS: tuple[str, ...] = ("dl", "ul")

FIGURES: tuple[str, ...] = ("cell_spectral_efficiency_bps_hz", "user_spectral_efficiency_p5_bps_hz")
"""The figures of merit, ITU-R M.2410-0 4.5 and 4.4, named as in the simulator's summary."""

DEVICE = "smartphone"
"""The UE: built-in profile (TS 38.101-1 power class 3, NF 9 dB as TR 38.901 Table 7.8-1, 2 Rx)."""

_SITE_ORIGIN_M = (500_000.0, 6_000_000.0)   # where the layout's centre site is put in the scenario CRS
_SCENARIO_CRS = "EPSG:32635"                  # any metric CRS: the maps are one pixel per UE, not a map
_PIXEL_HOTSPOT_RADIUS_M = 0.4                 # a disk around a 1 m pixel's centre that holds no other centre

Progress = Callable[[int, int], None]
Direction = Literal["dl", "ul"]


@dataclass(frozen=True)
class SystemCalibrationConfig:
    """What :func:`run_system_calibration` simulates (defaults: the docs/validation.md run).

    ``environment``/``fc_ghz``: a Table 7.8-1 set-up (layout, power, bandwidth, BS array);
    ``scs_khz``: numerology of the NR carrier; ``ues_per_cell``: UEs per cell on average;
    ``n_drops``: independent drops (new positions, shadowing, LOS, fading); ``duration_s``,
    ``warmup_s``: simulated time per drop and its first part not counted [s]; ``scheduler``:
    'pf' or 'rr'; ``link_adaptation``: 'olla' or 'ideal'; ``fading``: per-PRB TDL fading on/off;
    ``uplink``: simulate the uplink too (full buffer both ways, FDD). UEs that cannot decode the
    lowest MCS are simulated like the others: the scheduler gives them no new data (its CQI-0 gate,
    cellscape.simulation.slots), so they count as zero-throughput users.
    """

    environment: str = "UMa"
    fc_ghz: float = 6.0
    scs_khz: float = 15.0
    ues_per_cell: int = UES_PER_CELL
    n_drops: int = 20
    duration_s: float = 2.0
    warmup_s: float = 0.2
    scheduler: Literal["pf", "rr"] = "pf"
    link_adaptation: Literal["olla", "ideal"] = "olla"
    fading: bool = True
    uplink: bool = True

    def check(self) -> "SystemCalibrationConfig":
        """Raise on an option out of range; return self."""
        check_choice("environment", self.environment, calibration.CALIBRATION_ENVIRONMENTS)
        check_choice("scheduler", self.scheduler, ("pf", "rr"))
        check_choice("link_adaptation", self.link_adaptation, ("olla", "ideal"))
        check_range("ues_per_cell", self.ues_per_cell, 1, 100, source="run_system_calibration (one user group per UE)")
        check_range("n_drops", self.n_drops, 1, 100_000, source="run_system_calibration")
        check_range("duration_s", self.duration_s, 1e-3, 3600.0, source="run_system_calibration")
        check_range("warmup_s", self.warmup_s, 0.0, self.duration_s, source="run_system_calibration (< duration_s)")
        return self


@dataclass(frozen=True, eq=False)
class WraparoundDrop:
    """A calibration drop with every link: ``calibration`` (per-UE results of
    :func:`~cellscape.simulation.calibration.run_calibration`) and ``link_coupling_loss_db``,
    shape (n_sectors, n_ues), the coupling loss of every sector-UE link with wrap-around [dB]."""

    calibration: CalibrationResult

    @property
    def link_coupling_loss_db(self) -> np.ndarray:
        return self.calibration.link_coupling_loss_db

    @property
    def n_ues(self) -> int:
        return self.calibration.n_ues


def wraparound_drop(environment: str, fc_ghz: float, *, n_ues: int, rng: np.random.Generator) -> WraparoundDrop:
    """
    Drop ``n_ues`` UEs with :func:`~cellscape.simulation.calibration.run_calibration` and keep the
    coupling loss of every link, not only the serving one.

    Parameters
    ----------
    environment : {'UMa', 'UMi', 'InH-office-open', 'InH-office-mixed'}
        Table 7.8-1 scenario.
    fc_ghz : {6, 30, 70}
        Carrier frequency. [GHz]
    n_ues : int
        UEs dropped, >= 1.
    rng : numpy.random.Generator
        Source of every random draw of the drop.

    Returns
    -------
    WraparoundDrop
        The calibration result and the (n_sectors, n_ues) coupling loss of every link. [dB]

    Examples
    --------
    >>> d = wraparound_drop("UMa", 6.0, n_ues=57, rng=np.random.default_rng(0))
    >>> d.link_coupling_loss_db.shape, bool(np.all(d.link_coupling_loss_db.min(axis=0) > 0))
    ((57, 57), True)
    """
    return WraparoundDrop(calibration=calibration.run_calibration(environment, fc_ghz, n_drops=n_ues, rng=rng))


def calibration_scenario(environment: str, fc_ghz: float, *, scs_khz: float = 15.0) -> Scenario:
    """
    The Table 7.8-1 network as a scenario record: the layout's sites (centre site at an arbitrary
    origin of a metric CRS), three sectors each with the table's power, BS array (d_V =
    :data:`~cellscape.simulation.calibration.CALIBRATION_D_V_WAVELENGTHS`) and electrical tilt, the
    table's carrier and UE receiver.

    Parameters
    ----------
    environment : {'UMa', 'UMi', 'InH-office-open', 'InH-office-mixed'}
        Table 7.8-1 scenario.
    fc_ghz : {6, 30, 70}
        Carrier frequency. [GHz]
    scs_khz : {15, 30, 60, 120}, default 15
        Subcarrier spacing of the NR carrier; with the table's bandwidth it fixes the PRBs
        (TS 38.101-1 Table 5.3.2-1). [kHz]

    Returns
    -------
    Scenario

    Examples
    --------
    >>> sc = calibration_scenario("UMa", 6.0)
    >>> len(sc.sites), sc.n_sectors, sc.carrier.bandwidth_mhz, sc.sites[0].sectors[0].tx_power_dbm
    (19, 57, 20.0, 49.0)
    """
    a = calibration_assumptions(environment, fc_ghz)
    layout = calibration_layout(a)
    ant = a.array.antenna_spec()
    antenna = {"model": ant.model, "max_gain_dbi": ant.max_gain_dbi, "hpbw_deg": ant.hpbw_deg,
               "sla_v_db": ant.sla_v_db, "a_max_db": ant.a_max_db, "n_rows": ant.n_rows,
               "row_spacing_wavelengths": CALIBRATION_D_V_WAVELENGTHS}
    x0, y0 = _SITE_ORIGIN_M
    sites = []
    for i in range(layout.n_sites):
        sectors = [{"azimuth_deg": float(layout.sector_azimuth_deg[s]), "tx_power_dbm": a.tx_power_dbm,
                    "mech_tilt_deg": 0.0, "elec_tilt_deg": a.elec_tilt_deg, "antenna": antenna,
                    "sector_id": f"S{i:02d}-{k + 1}"}
                   for k, s in enumerate(np.flatnonzero(layout.sector_site == i))]
        sites.append({"site_id": f"S{i:02d}", "x": x0 + float(layout.site_x_m[i]), "y": y0 + float(layout.site_y_m[i]),
                      "height_m": a.layout.h_bs_m, "sectors": sectors})
    reach = float(np.max(np.hypot(layout.site_x_m, layout.site_y_m))) + layout.isd_m
    return parse_scenario({
        "name": f"tr38901-7.8-{environment}-{fc_ghz:g}GHz", "environment": environment,
        "area": {"crs": _SCENARIO_CRS, "bounds": [x0 - reach, y0 - reach, x0 + reach, y0 + reach],
                 "resolution_m": 10.0},
        "carrier": {"fc_ghz": a.fc_ghz, "bandwidth_mhz": a.bandwidth_mhz, "scs_khz": int(scs_khz)},
        "receiver": {"height_m": a.layout.ut_height_m, "noise_figure_db": a.ue_noise_figure_db,
                     "antenna_gain_dbi": a.ue_antenna_gain_dbi},
        "sites": sites})


def wraparound_sector_maps(drop: WraparoundDrop, scenario: Scenario) -> SectorMaps:
    """
    Per-sector maps of one pixel per UE of ``drop``: pixel u holds UE u's RSRP from every sector.

    Parameters
    ----------
    drop : WraparoundDrop
        The drop (links with wrap-around).
    scenario : Scenario
        Its network (:func:`calibration_scenario`): sector powers, carrier, receiver.

    Returns
    -------
    SectorMaps
        ``rsrp_dbm`` (n_sectors, 1, n_ues): sector power per RE minus the link's coupling loss;
        ``los`` (n_sites, 1, n_ues): the serving site's LOS state, False elsewhere; ``indoor``
        (1, n_ues). Pixels are 1 m wide from x = 0; UE u stands in pixel (0, u).
    """
    cal = drop.calibration
    layout = cal.layout
    n = cal.n_ues
    n_prb = resolve_n_prb(scenario.carrier)
    power_dbm = np.array([sec.tx_power_dbm for site in scenario.sites for sec in site.sectors])   # (n_sectors,)
    p_re_dbm = np.asarray(tx_power_per_re_dbm(power_dbm, n_prb), dtype=float)                  # (n_sectors,)
    rsrp = (p_re_dbm[:, None] - drop.link_coupling_loss_db)[:, None, :].astype(np.float32)     # (n_sectors, 1, n)
    los = np.zeros((layout.n_sites, 1, n), dtype=bool)                                          # (n_sites, 1, n)
    los[layout.sector_site[cal.serving_sector], 0, np.arange(n)] = cal.serving_los
    grid = RasterGrid(crs=scenario.area.crs, x_min_m=0.0, y_max_m=1.0, resolution_m=1.0, n_rows=1, n_cols=n)
    p_maps = p_re_dbm + scenario.receiver.antenna_gain_dbi
    x0, y0 = _SITE_ORIGIN_M
    sectors = SectorTable(
        sector_id=tuple(sec.sector_id for site in scenario.sites for sec in site.sectors),
        site_id=tuple(site.site_id for site in scenario.sites for _ in site.sectors),
        x_m=layout.site_x_m[layout.sector_site] + x0, y_m=layout.site_y_m[layout.sector_site] + y0,
        azimuth_deg=layout.sector_azimuth_deg.astype(float),
        height_m=np.array([site.height_m for site in scenario.sites for _ in site.sectors]),
        tx_power_per_re_dbm=p_maps)
    return SectorMaps(grid=grid, rsrp_dbm=rsrp, los=los, indoor=cal.indoor[None, :].copy(), tx_power_per_re_dbm=p_maps,
                      sectors=sectors, sector_site=layout.sector_site.astype(np.int64), n_prb=n_prb,
                      noise_per_re_dbm=float(noise_per_re_dbm(scenario.carrier.scs_khz,
                                                              scenario.receiver.noise_figure_db)),
                      meta={"maps": "one pixel per UE of a TR 38.901 7.8.1 wrap-around drop", "source": cal.source})


def full_buffer_simulation(scenario: Scenario, n_ues: int, config: SystemCalibrationConfig, *, seed: int
                           ) -> tuple[Simulation, dict[str, list[tuple[float, float, float, float]]]]:
    """
    The simulation of one drop: one static full-buffer user per pixel of
    :func:`wraparound_sector_maps`, each dropped in a hotspot that covers its own pixel only.

    Parameters
    ----------
    scenario : Scenario
        The network (:func:`calibration_scenario`).
    n_ues : int
        Users (= pixels).
    config : SystemCalibrationConfig
        Duration, scheduler, link adaptation, fading, uplink.
    seed : int
        Seed of the simulation's own randomness (fading, block errors).

    Returns
    -------
    sim : Simulation
    hotspots_m : dict of str to list of (x_m, y_m, radius_m, weight)
        Per user group, the disk of 0.4 m around its pixel centre (pixels are 1 m); pass as
        ``run_simulation(..., hotspots_m=hotspots_m)``.
    """
    direction = "both" if config.uplink else "dl"
    groups = tuple(UserGroup(name=f"ue{u}", count=1, device=DEVICE,
                             traffic=TrafficSpec(model="full_buffer", direction=direction),
                             drop=DropSpec(kind="hotspot"), mobility=MobilitySpec(model="static"))
                   for u in range(n_ues))
    hotspots_m = {g.name: [(u + 0.5, 0.5, _PIXEL_HOTSPOT_RADIUS_M, 1.0)] for u, g in enumerate(groups)}
    sim = Simulation(
        name=scenario.name, scenario=scenario, users=groups, duration_s=float(config.duration_s),
        warmup_s=float(config.warmup_s), seed=int(seed),
        scheduler=SchedulerOptions(kind=config.scheduler, link_adaptation=config.link_adaptation),
        fading=FadingOptions(enabled=bool(config.fading)), uplink=UplinkOptions(enabled=bool(config.uplink)),
        duplex=DuplexOptions(mode="fdd"),
        # full-buffer evaluations keep every UE on its cell for the whole drop: no radio-link failure
        rlf=RlfOptions(qout_db=-math.inf, qin_db=-math.inf))
    return sim, hotspots_m


class PublishedFigure(NamedTuple):
    """A published figure of merit: ``value`` of ``metric`` in ``direction`` ('dl'/'ul') for the
    configuration ``reference`` (antenna ``antenna`` = Tx x Rx, ``scheme``), with its source."""

    reference: str
    direction: str
    metric: str
    value: float
    antenna: str
    scheme: str
    source: str
    conditions: str


class FigureGap(NamedTuple):
    """Ours against one published figure: ``gap`` = ours - published, ``gap_relative`` = gap / published."""

    reference: str
    direction: str
    metric: str
    ours: float
    published: float
    gap: float
    gap_relative: float
    antenna: str
    source: str


@dataclass(frozen=True, eq=False)
class SystemCalibrationResult:
    """Outcome of :func:`run_system_calibration`.

    Per user, all drops pooled (shape (n_drops * n_ues_per_drop,)): ``dl_user_se_bps_hz`` and
    ``ul_user_se_bps_hz``, throughput over the measured time divided by the channel bandwidth
    [bit/s/Hz] (``ul_user_se_bps_hz`` is all NaN without uplink); ``geometry_sinr_db``, the drop's
    wrap-around geometry with noise; ``geometry_sir_db``, the same without noise; ``mean_sinr_db``,
    the simulator's large-scale downlink SINR per RE and branch (NaN for a UE left out);
    ``serving_sector``, the sector that served the UE in the simulator (-1: left out); ``drop``,
    the drop index of each user; ``dl_bler``, first-transmission block error rate. Per drop and
    sector (shape (n_drops, n_sectors)): ``dl_cell_se_bps_hz``, ``ul_cell_se_bps_hz``
    [bit/s/Hz/cell] and ``users_per_sector`` (UEs whose strongest sector it is in the drop).
    """

    config: SystemCalibrationConfig
    dl_user_se_bps_hz: np.ndarray
    ul_user_se_bps_hz: np.ndarray
    geometry_sinr_db: np.ndarray
    geometry_sir_db: np.ndarray
    mean_sinr_db: np.ndarray
    serving_sector: np.ndarray
    drop: np.ndarray
    dl_cell_se_bps_hz: np.ndarray
    ul_cell_se_bps_hz: np.ndarray
    users_per_sector: np.ndarray
    dl_bler: np.ndarray
    bandwidth_mhz: float
    n_prb: int
    source: str
    meta: dict = field(default_factory=dict)

    def user_se_bps_hz(self, direction: Direction) -> np.ndarray:
        """Per-user spectral efficiency of ``direction`` ('dl' or 'ul'), all drops [bit/s/Hz]."""
        check_choice("direction", direction, DIRECTIONS)
        return self.dl_user_se_bps_hz if direction == "dl" else self.ul_user_se_bps_hz

    def cell_spectral_efficiency_bps_hz(self, direction: Direction) -> float:
        """Average cell spectral efficiency: mean over drops and cells [bit/s/Hz/cell]."""
        check_choice("direction", direction, DIRECTIONS)
        return float(np.mean(self.dl_cell_se_bps_hz if direction == "dl" else self.ul_cell_se_bps_hz))

    def user_spectral_efficiency_bps_hz(self, direction: Direction, percentile: float = 5.0) -> float:
        """``percentile`` of the user spectral efficiency CDF, users of all drops pooled (numpy's
        linear interpolation) [bit/s/Hz]."""
        return float(np.percentile(self.user_se_bps_hz(direction), check_range("percentile", percentile, 0, 100,
                                                                          source="a percentile")))

    def figures(self) -> dict[tuple[str, str], float]:
        """{(direction, metric): value} for the directions simulated and :data:`FIGURES`."""
        out = {}
        for d in DIRECTIONS:
            if d == "ul" and not self.config.uplink:
                continue
            out[(d, FIGURES[0])] = self.cell_spectral_efficiency_bps_hz(d)
            out[(d, FIGURES[1])] = self.user_spectral_efficiency_bps_hz(d, 5.0)
        return out


def run_system_calibration(config: SystemCalibrationConfig = SystemCalibrationConfig(), *, seed: int = 1,
                           progress: Progress | None = None, n_threads: int | None = None) -> SystemCalibrationResult:
    """
    Full-buffer system-level run on the TR 38.901 Table 7.8-1 layout with wrap-around.

    Parameters
    ----------
    config : SystemCalibrationConfig
        Environment, carrier numerology, UEs per cell, drops, duration, scheduler options.
    seed : int, default 1
        Every drop's positions, large-scale draws and simulation randomness derive from it
        (``numpy.random.SeedSequence(seed).spawn(n_drops)``).
    progress : callable, optional
        ``progress(drops_done, n_drops)`` after each drop.
    n_threads : int, optional
        Threads of the slot loop (results do not depend on it).

    Returns
    -------
    SystemCalibrationResult

    Raises
    ------
    OutOfValidityRangeError, InvalidChoiceError
        If an option of ``config`` is out of range or not a valid choice.

    Examples
    --------
    >>> r = run_system_calibration(SystemCalibrationConfig(ues_per_cell=1, n_drops=1, duration_s=0.02,
    ...                                                    warmup_s=0.0, uplink=False))
    >>> r.dl_user_se_bps_hz.shape, int(r.users_per_sector.sum()), r.n_prb
    ((57,), 57, 106)
    """
    config.check()
    scenario = calibration_scenario(config.environment, config.fc_ghz, scs_khz=config.scs_khz)
    height_m = float(BUILT_IN_DEVICES[DEVICE].height_m)     # the key the simulator looks the maps up by; the
    # links themselves carry each UE's own height (indoor floors)
    n_ues = int(config.ues_per_cell) * scenario.n_sectors
    bw_hz = scenario.carrier.bandwidth_mhz * 1e6
    children = np.random.SeedSequence(int(seed)).spawn(int(config.n_drops))
    dl_se, ul_se, geo, sir, sinr, serving, drop_of, bler = [], [], [], [], [], [], [], []
    dl_cell, ul_cell, per_sector = [], [], []
    source = ""
    for d, child in enumerate(children):
        drop_seq, sim_seq = child.spawn(2)
        drop = wraparound_drop(config.environment, config.fc_ghz, n_ues=n_ues, rng=np.random.default_rng(drop_seq))
        maps = {height_m: wraparound_sector_maps(drop, scenario)}
        sim, hotspots_m = full_buffer_simulation(scenario, n_ues, config, seed=int(sim_seq.generate_state(1)[0]))
        res: SimulationResult = run_simulation(sim, maps, hotspots_m=hotspots_m, n_threads=n_threads)
        ue, cells = res.ue, res.cells
        dl = ue["dl_throughput_mbps"] * 1e6 / bw_hz
        ul = ue["ul_throughput_mbps"] * 1e6 / bw_hz if config.uplink else np.full(n_ues, np.nan)
        cell_dl = cells["dl_throughput_mbps"] * 1e6 / bw_hz
        cell_ul = (cells["ul_throughput_mbps"] * 1e6 / bw_hz if config.uplink
                   else np.full(scenario.n_sectors, np.nan))
        mean_sinr, ue_serving, ue_bler = ue["mean_sinr_db"], ue["serving_sector"], ue["dl_bler"]
        dl_se.append(dl)
        ul_se.append(ul)
        geo.append(drop.calibration.geometry_sinr_db)
        sir.append(drop.calibration.geometry_sir_db)
        sinr.append(mean_sinr)
        serving.append(ue_serving)
        bler.append(ue_bler)
        drop_of.append(np.full(n_ues, d))
        dl_cell.append(cell_dl)
        ul_cell.append(cell_ul)
        per_sector.append(np.bincount(drop.calibration.serving_sector, minlength=scenario.n_sectors))
        source = drop.calibration.source
        if progress is not None:
            progress(d + 1, len(children))
    return SystemCalibrationResult(
        config=config, dl_user_se_bps_hz=np.concatenate(dl_se), ul_user_se_bps_hz=np.concatenate(ul_se),
        geometry_sinr_db=np.concatenate(geo), geometry_sir_db=np.concatenate(sir), mean_sinr_db=np.concatenate(sinr),
        serving_sector=np.concatenate(serving), drop=np.concatenate(drop_of),
        dl_cell_se_bps_hz=np.stack(dl_cell), ul_cell_se_bps_hz=np.stack(ul_cell), users_per_sector=np.stack(per_sector),
        dl_bler=np.concatenate(bler), bandwidth_mhz=float(scenario.carrier.bandwidth_mhz),
        n_prb=int(resolve_n_prb(scenario.carrier)), source=source,
        meta={"seed": int(seed), "ues_per_drop": n_ues, "n_sectors": scenario.n_sectors, "device": DEVICE,
              "scs_khz": float(scenario.carrier.scs_khz), "fc_ghz": float(scenario.carrier.fc_ghz),
              "tx_power_dbm": float(scenario.sites[0].sectors[0].tx_power_dbm)})


def figure_gaps(result: SystemCalibrationResult, published: Iterable[PublishedFigure]) -> list[FigureGap]:
    """
    Our figures against published ones of the same direction and metric.

    Parameters
    ----------
    result : SystemCalibrationResult
    published : iterable of PublishedFigure
        Rows whose (direction, metric) we did not compute are skipped.

    Returns
    -------
    list of FigureGap
        In the order of ``published``.

    Examples
    --------
    >>> fig = PublishedFigure("x", "dl", FIGURES[0], 2.0, "1x2", "SIMO", "made up", "none")
    >>> r = run_system_calibration(SystemCalibrationConfig(ues_per_cell=1, n_drops=1, duration_s=0.02,
    ...                                                    warmup_s=0.0, uplink=False))
    >>> g, = figure_gaps(r, [fig])
    >>> g.published, round(g.gap, 9) == round(g.ours - 2.0, 9)
    (2.0, True)
    """
    ours = result.figures()
    gaps = []
    for p in published:
        key = (p.direction, p.metric)
        if key not in ours:
            continue
        gap = ours[key] - p.value
        gaps.append(FigureGap(reference=p.reference, direction=p.direction, metric=p.metric, ours=ours[key],
                              published=p.value, gap=gap, gap_relative=gap / p.value if p.value else math.nan,
                              antenna=p.antenna, source=p.source))
    return gaps
