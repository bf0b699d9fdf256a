"""A system-level simulation: what ``cellscape simulate`` reads (docs/simulation.md), validated into
frozen records.

A simulation file names a radio scenario (area, carrier, buildings, sites) and adds a
``simulation:`` block: device profiles (the built-in catalogue of :mod:`cellscape.scenario.devices`,
extended or changed), user groups (how many, which device, slice, traffic, drop and mobility),
network slices, scheduler, link adaptation, fast fading, uplink power control, duplexing, handover
and radio-link failure settings, and the massive-IoT evaluation. :func:`parse_simulation` checks
every field once with its path (``simulation.users[1].traffic.file_size_bytes: ...``), like
:func:`~cellscape.scenario.model.parse_scenario`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field, ValidationError

from cellscape.errors import ScenarioError
from cellscape.scenario.devices import BUILT_IN_DEVICES, DEVICE_CATEGORIES, DeviceProfile, extend_catalogue
from cellscape.scenario.model import Bool, Float, Int, _Spec, _validation_message, is_geographic
from cellscape.scenario.records import Scenario

TrafficKind = Literal["full_buffer", "ftp3", "urllc", "periodic"]
Direction = Literal["dl", "ul", "both"]
DropKind = Literal["uniform", "hotspot", "buildings", "raster"]
MobilityKind = Literal["static", "random_waypoint", "streets"]
SchedulerKind = Literal["pf", "rr"]
LinkAdaptation = Literal["olla", "ideal"]


# ---------------------------------------------------------------------------------------------
# records


@dataclass(frozen=True)
class TrafficSpec:
    """Offered traffic of each user of a group. ``full_buffer``: always data; ``ftp3``: files of
    ``file_size_bytes`` arriving as a Poisson process of ``arrival_rate_per_s`` (3GPP FTP model 3);
    ``urllc``: ``packet_size_bytes`` packets at ``arrival_rate_per_s`` (Poisson, or ``periodic``);
    ``periodic``: a ``packet_size_bytes`` report every ``period_s``. ``direction``: dl, ul or both."""

    model: TrafficKind = "full_buffer"
    direction: Direction = "dl"
    file_size_bytes: float = 500_000.0
    packet_size_bytes: float = 32.0
    arrival_rate_per_s: float = 1.0
    period_s: float = 1.0
    periodic: bool = False


@dataclass(frozen=True)
class Hotspot:
    """A disk of ``radius_m`` around (x, y) in area.crs holding ``weight`` of a hotspot drop."""

    x: float
    y: float
    radius_m: float
    weight: float = 1.0


@dataclass(frozen=True)
class DropSpec:
    """Where a group's users start. ``uniform`` over the map's pixels; ``hotspot`` uniform in the
    ``hotspots`` disks (by weight); ``buildings``: ``indoor_fraction`` of the users in a uniformly
    drawn indoor pixel (under a roof: TR 38.901 O2I applies), the rest outdoors; ``raster``: by a
    users-per-pixel GeoTIFF. ``indoor_fraction`` applies to uniform and hotspot drops too (None:
    wherever the pixel drawn falls)."""

    kind: DropKind = "uniform"
    indoor_fraction: float | None = None
    hotspots: tuple[Hotspot, ...] = ()
    raster: str | None = None


@dataclass(frozen=True)
class MobilitySpec:
    """``static``; ``random_waypoint`` (outdoor destinations); ``streets`` (along the OSM streets of
    the scenario's extract, random waypoint when it has none). ``speed_kmh`` (None: the device's)."""

    model: MobilityKind = "static"
    speed_kmh: tuple[float, float] | None = None
    pause_s: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class UserGroup:
    name: str
    count: int
    device: str = "smartphone"
    slice: str = "embb"
    traffic: TrafficSpec = field(default_factory=TrafficSpec)
    drop: DropSpec = field(default_factory=DropSpec)
    mobility: MobilitySpec = field(default_factory=MobilitySpec)


@dataclass(frozen=True)
class SliceSpec:
    """A network slice: ``prb_share`` of every sector's PRBs is reserved for it when it has data
    (unused shares go to the others, ``priority`` 0 first); its SLA: users' mean throughput at least
    ``min_throughput_mbps`` and at least ``reliability`` of their packets within
    ``latency_budget_ms`` (each None: not part of the SLA)."""

    name: str
    prb_share: float = 1.0
    priority: int = 1
    min_throughput_mbps: float | None = None
    latency_budget_ms: float | None = None
    reliability: float = 0.99


@dataclass(frozen=True)
class SchedulerOptions:
    """Per-sector, per-slot scheduling. ``kind``: proportional fair on RBGs (Jalali et al. 2000,
    averaging window ``pf_window_slots``) or time-domain round robin; ``rbg_size``: PRBs per RBG
    (None: TS 38.214 Table 5.1.2.2.1-1, configuration 1); ``csi_delay_slots``: age of the channel
    state the scheduler sees; ``link_adaptation``: ``olla`` (MCS table, BLER model, outer loop, HARQ)
    or ``ideal`` (the map's SINR -> CQI efficiency, no errors); ``mcs_table`` 1 (64QAM) or 2 (256QAM)."""

    kind: SchedulerKind = "pf"
    pf_window_slots: float = 100.0
    rbg_size: int | None = None
    csi_delay_slots: int = 2
    link_adaptation: LinkAdaptation = "olla"
    mcs_table: int = 2
    bler_target: float = 0.1
    olla_step_db: float = 0.5
    harq_max_transmissions: int = 4
    harq_rtt_slots: int = 8
    ul_max_ues_per_slot: int = 4


@dataclass(frozen=True)
class FadingOptions:
    """Per-PRB fast fading (TR 38.901 TDL profiles, Doppler from each user's speed) read from a
    pre-computed trace bank; ``enabled: false`` for large-scale SINR only."""

    enabled: bool = True
    nlos_profile: str = "TDL-C"
    los_profile: str = "TDL-D"
    delay_spread_ns: float = 300.0
    bank_samples: int = 4096


@dataclass(frozen=True)
class UplinkOptions:
    """TS 38.213 7.1.1 open-loop PUSCH power control (``p0_dbm``, ``alpha``) and the gNB receiver:
    noise figure and ``gnb_rx_branches`` combined by maximum-ratio combining (at most 8 in the slot
    loop: the branches share the fading bank)."""

    enabled: bool = True
    p0_dbm: float = -90.0
    alpha: float = 0.8
    gnb_noise_figure_db: float = 5.0
    gnb_rx_branches: int = 2


@dataclass(frozen=True)
class DuplexOptions:
    """``tdd`` with a slot ``pattern`` (D downlink, U uplink, S special: counted as downlink) or
    ``fdd`` (both directions every slot, each on its own carrier of the same size)."""

    mode: Literal["tdd", "fdd"] = "tdd"
    pattern: str = "DDDSU"


@dataclass(frozen=True)
class HandoverOptions:
    """A3 handover on L3-filtered RSRP (TS 38.331 5.5.4.4, 5.5.3.2): neighbour better than serving by
    ``a3_offset_db`` + ``hysteresis_db`` for ``time_to_trigger_ms``; filter coefficient ``l3_filter_k``
    (a = 1/2^(k/4)); measurements every ``measurement_period_ms`` (also the mobility step);
    ``interruption_ms`` without data at each handover; a handover back to the previous cell within
    ``ping_pong_s`` is a ping-pong."""

    a3_offset_db: float = 3.0
    hysteresis_db: float = 1.0
    time_to_trigger_ms: float = 160.0
    l3_filter_k: int = 4
    measurement_period_ms: float = 10.0
    interruption_ms: float = 0.0
    ping_pong_s: float = 1.0


@dataclass(frozen=True)
class RlfOptions:
    """Radio-link monitoring (TS 38.133 8.1, TS 38.331 5.3.10): out of sync below ``qout_db`` wideband
    SINR, in sync above ``qin_db``; ``t310_ms`` after going out of sync declares a radio-link failure;
    the user then re-establishes on its strongest cell after ``reestablishment_ms``."""

    qout_db: float = -8.0
    qin_db: float = -6.0
    t310_ms: float = 1000.0
    reestablishment_ms: float = 100.0


@dataclass(frozen=True)
class IotOptions:
    """The massive-IoT evaluation (cellscape.simulation.iot): ``density_per_km2`` devices of profile
    ``device`` (an NB-IoT device) over the map (indoor share ``indoor_fraction``), each sending a
    ``packet_size_bytes`` report every ``report_period_s`` (Poisson); coverage classes by coupling
    loss at ``ce_thresholds_db`` and ``max_coupling_loss_db``, on per-sector maps at ``fc_ghz``
    (None: the scenario's carrier), indoor devices ``indoor_extra_loss_db`` deeper than the maps'
    O2I loss (basements); ``window_s`` of reports are measured; a report is in outage
    when not delivered within ``latency_limit_s``; ``connection_density``: also search the density
    the network supports at 1 % outage (ITU-R M.2412 7.1.3)."""

    enabled: bool = False
    device: str = "nbiot"
    density_per_km2: float = 100_000.0
    indoor_fraction: float = 0.8
    packet_size_bytes: float = 32.0
    report_period_s: float = 7200.0
    ce_thresholds_db: tuple[float, float] = (144.0, 154.0)
    max_coupling_loss_db: float = 164.0
    latency_limit_s: float = 10.0
    connection_density: bool = True
    fc_ghz: float | None = None
    window_s: float = 60.0
    indoor_extra_loss_db: float = 0.0


@dataclass(frozen=True)
class Simulation:
    """Everything ``cellscape simulate`` needs."""

    name: str
    scenario: Scenario
    users: tuple[UserGroup, ...]
    slices: tuple[SliceSpec, ...] = (SliceSpec("embb"),)
    devices: dict = field(default_factory=lambda: dict(BUILT_IN_DEVICES))
    duration_s: float = 2.0
    warmup_s: float = 0.2
    resolution_m: float | None = None
    seed: int = 0
    scheduler: SchedulerOptions = field(default_factory=SchedulerOptions)
    fading: FadingOptions = field(default_factory=FadingOptions)
    uplink: UplinkOptions = field(default_factory=UplinkOptions)
    duplex: DuplexOptions = field(default_factory=DuplexOptions)
    handover: HandoverOptions = field(default_factory=HandoverOptions)
    rlf: RlfOptions = field(default_factory=RlfOptions)
    iot: IotOptions = field(default_factory=IotOptions)
    report_period_ms: float = 100.0

    def slice_index(self, name: str) -> int:
        return [s.name for s in self.slices].index(name)

    @property
    def n_users(self) -> int:
        return sum(g.count for g in self.users)


# ---------------------------------------------------------------------------------------------
# specs

Range = list[Float]


class DeviceSpec(_Spec):
    base_on: str | None = Field(None, min_length=1, description="Built-in profile to start from.")
    category: Literal["nr", "nbiot", "ltem"] | None = None
    max_tx_power_dbm: Float | None = Field(None, ge=-40.0, le=33.0)
    antenna_gain_dbi: Float | None = Field(None, ge=-20.0, le=30.0)
    noise_figure_db: Float | None = Field(None, ge=0.0, le=20.0)
    n_rx: Int | None = Field(None, ge=1, le=8)
    n_tx: Int | None = Field(None, ge=1, le=8)
    max_bandwidth_mhz: Float | None = Field(None, gt=0.0, le=400.0)
    height_m: Float | None = Field(None, ge=1.0, le=22.5)
    speed_kmh: Range | None = Field(None, min_length=2, max_length=2)


class TrafficSpecModel(_Spec):
    model: TrafficKind = "full_buffer"
    direction: Direction = "dl"
    file_size_bytes: Float = Field(500_000.0, gt=0.0, le=1e10)
    packet_size_bytes: Float = Field(32.0, gt=0.0, le=1e8)
    arrival_rate_per_s: Float = Field(1.0, gt=0.0, le=1e5)
    period_s: Float = Field(1.0, gt=0.0, le=1e6)
    periodic: Bool = False


class HotspotSpec(_Spec):
    x: Float
    y: Float
    radius_m: Float = Field(gt=0.0, le=50_000.0)
    weight: Float = Field(1.0, gt=0.0)


class DropSpecModel(_Spec):
    kind: DropKind = "uniform"
    indoor_fraction: Float | None = Field(None, ge=0.0, le=1.0)
    hotspots: list[HotspotSpec] = Field(default_factory=list)
    raster: str | None = Field(None, min_length=1)


class MobilitySpecModel(_Spec):
    model: MobilityKind = "static"
    speed_kmh: Range | None = Field(None, min_length=2, max_length=2)
    pause_s: Range = Field([0.0, 0.0], min_length=2, max_length=2)


class UserGroupSpec(_Spec):
    name: str = Field(min_length=1)
    count: Int = Field(ge=1, le=200_000)
    device: str = Field("smartphone", min_length=1)
    slice: str = Field("embb", min_length=1)
    traffic: TrafficSpecModel | None = None
    drop: DropSpecModel | None = None
    mobility: MobilitySpecModel | None = None


class SliceSpecModel(_Spec):
    name: str = Field(min_length=1)
    prb_share: Float = Field(1.0, ge=0.0, le=1.0)
    priority: Int = Field(1, ge=0, le=15)
    min_throughput_mbps: Float | None = Field(None, ge=0.0)
    latency_budget_ms: Float | None = Field(None, gt=0.0)
    reliability: Float = Field(0.99, ge=0.0, le=1.0)


class SchedulerSpec(_Spec):
    kind: SchedulerKind = "pf"
    pf_window_slots: Float = Field(100.0, ge=1.0, le=1e6)
    rbg_size: Int | None = Field(None, ge=1, le=275)
    csi_delay_slots: Int = Field(2, ge=0, le=100)
    link_adaptation: LinkAdaptation = "olla"
    mcs_table: Literal[1, 2] = 2
    bler_target: Float = Field(0.1, gt=0.0, lt=0.5)
    olla_step_db: Float = Field(0.5, gt=0.0, le=5.0)
    harq_max_transmissions: Int = Field(4, ge=1, le=16)
    harq_rtt_slots: Int = Field(8, ge=1, le=100)
    ul_max_ues_per_slot: Int = Field(4, ge=1, le=64)


class FadingSpec(_Spec):
    enabled: Bool = True
    nlos_profile: Literal["TDL-A", "TDL-B", "TDL-C"] = "TDL-C"
    los_profile: Literal["TDL-D", "TDL-E"] = "TDL-D"
    delay_spread_ns: Float = Field(300.0, gt=0.0, le=10_000.0)
    bank_samples: Int = Field(4096, ge=256, le=1_048_576)


class UplinkSpec(_Spec):
    enabled: Bool = True
    p0_dbm: Float = Field(-90.0, ge=-202.0, le=24.0)
    alpha: Float = Field(0.8, ge=0.0, le=1.0)
    gnb_noise_figure_db: Float = Field(5.0, ge=0.0, le=20.0)
    gnb_rx_branches: Int = Field(2, ge=1, le=8)


class DuplexSpec(_Spec):
    mode: Literal["tdd", "fdd"] = "tdd"
    pattern: str = Field("DDDSU", min_length=1, max_length=80, pattern=r"^[DSU]+$")


class HandoverSpec(_Spec):
    a3_offset_db: Float = Field(3.0, ge=-15.0, le=15.0)
    hysteresis_db: Float = Field(1.0, ge=0.0, le=15.0)
    time_to_trigger_ms: Float = Field(160.0, ge=0.0, le=5120.0)
    l3_filter_k: Int = Field(4, ge=0, le=19)
    measurement_period_ms: Float = Field(10.0, ge=1.0, le=1000.0)
    interruption_ms: Float = Field(0.0, ge=0.0, le=1000.0)
    ping_pong_s: Float = Field(1.0, gt=0.0, le=60.0)


class RlfSpec(_Spec):
    qout_db: Float = Field(-8.0, ge=-30.0, le=10.0)
    qin_db: Float = Field(-6.0, ge=-30.0, le=10.0)
    t310_ms: Float = Field(1000.0, ge=0.0, le=6000.0)
    reestablishment_ms: Float = Field(100.0, ge=0.0, le=10_000.0)


class IotSpec(_Spec):
    enabled: Bool = False
    device: str = Field("nbiot", min_length=1)
    density_per_km2: Float = Field(100_000.0, gt=0.0, le=1e8)
    indoor_fraction: Float = Field(0.8, ge=0.0, le=1.0)
    packet_size_bytes: Float = Field(32.0, gt=0.0, le=1e6)
    report_period_s: Float = Field(7200.0, gt=0.0, le=1e7)
    ce_thresholds_db: Range = Field([144.0, 154.0], min_length=2, max_length=2)
    max_coupling_loss_db: Float = Field(164.0, gt=0.0, le=250.0)
    latency_limit_s: Float = Field(10.0, gt=0.0, le=1e5)
    connection_density: Bool = True
    fc_ghz: Float | None = Field(None, ge=0.5, le=7.125, description="IoT carrier; TR 38.901 from 0.5 GHz, FR1.")
    window_s: Float = Field(60.0, gt=0.0, le=86_400.0)
    indoor_extra_loss_db: Float = Field(0.0, ge=0.0, le=60.0)


class SimulationSpec(_Spec):
    duration_s: Float = Field(2.0, gt=0.0, le=3600.0)
    warmup_s: Float = Field(0.2, ge=0.0, le=3600.0)
    resolution_m: Float | None = Field(None, gt=0.0, le=1000.0)
    seed: Int | None = Field(None, ge=0)
    devices: dict[str, DeviceSpec] = Field(default_factory=dict)
    users: list[UserGroupSpec] = Field(min_length=1)
    slices: list[SliceSpecModel] | None = None
    scheduler: SchedulerSpec | None = None
    fading: FadingSpec | None = None
    uplink: UplinkSpec | None = None
    duplex: DuplexSpec | None = None
    handover: HandoverSpec | None = None
    rlf: RlfSpec | None = None
    iot: IotSpec | None = None
    report_period_ms: Float = Field(100.0, gt=0.0, le=1e6)


class _SimulationRoot(_Spec):
    simulation: SimulationSpec


MAX_SLOTS = 20_000_000
"""Most slots one simulation may run (duration / slot length)."""


def parse_simulation(data: Mapping[str, Any], scenario: Scenario) -> Simulation:
    """Validate the ``simulation:`` block of a simulation file against its radio ``scenario``.

    ``data``: the whole file as a mapping (``name`` and ``simulation`` are read here). Paths (a
    drop raster) are taken as given: :func:`cellscape.io.scenario_yaml.load_simulation` resolves them.

    Raises
    ------
    ScenarioError
        With the field path, e.g. ``simulation.users[0].count: Input should be greater than or
        equal to 1, got 0``.

    Examples
    --------
    >>> from cellscape.scenario.model import parse_scenario
    >>> sc = parse_scenario({"name": "d", "area": {"bounds": [24.93, 60.16, 24.96, 60.18], "resolution_m": 10},
    ...                      "carrier": {"fc_ghz": 3.5}, "sites": [{"site_id": "A", "x": 24.945, "y": 60.17,
    ...                      "height_m": 25, "sectors": [{"azimuth_deg": 0}]}]})
    >>> sim = parse_simulation({"simulation": {"users": [{"name": "phones", "count": 10}]}}, sc)
    >>> sim.n_users, sim.users[0].device, sim.slices[0].name
    (10, 'smartphone', 'embb')
    >>> parse_simulation({"simulation": {"users": [{"name": "p", "count": 1, "slice": "urllc"}]}}, sc)
    Traceback (most recent call last):
    ...
    cellscape.errors.ScenarioError: simulation.users[0].slice: no slice 'urllc' (slices: embb)
    """
    if not isinstance(data, Mapping) or "simulation" not in data:
        raise ScenarioError("simulation: a simulation file needs a simulation: block (at least users:)")
    try:
        spec = _SimulationRoot.model_validate({"simulation": data["simulation"]}).simulation
    except ValidationError as exc:
        raise ScenarioError(_validation_message(exc, _SimulationRoot)) from None
    issues = _issues(spec, scenario)
    if issues:
        more = f" (+{len(issues) - 1} more)" if len(issues) > 1 else ""
        raise ScenarioError(issues[0] + more)
    return _to_simulation(str(data.get("name", scenario.name)), scenario, spec)


def _range(values, path: str, issues: list[str], *, low: float = 0.0) -> tuple[float, float] | None:
    if values is None:
        return None
    a, b = float(values[0]), float(values[1])
    if not (low <= a <= b):
        issues.append(f"{path}: need {low:g} <= low <= high, got {list(values)}")
    return a, b


def _issues(spec: SimulationSpec, scenario: Scenario) -> list[str]:
    issues: list[str] = []
    base = "simulation"
    for name, d in spec.devices.items():
        if d.base_on is not None and d.base_on not in BUILT_IN_DEVICES and d.base_on not in spec.devices:
            issues.append(f"{base}.devices.{name}.base_on: no device {d.base_on!r} "
                          f"(built in: {', '.join(sorted(BUILT_IN_DEVICES))})")
        _range(d.speed_kmh, f"{base}.devices.{name}.speed_kmh", issues)
    names = set(BUILT_IN_DEVICES) | set(spec.devices)
    slices = [s.name for s in spec.slices] if spec.slices else ["embb"]
    if len(set(slices)) != len(slices):
        issues.append(f"{base}.slices: slice names must be unique, got {slices}")
    if spec.slices and sum(s.prb_share for s in spec.slices) > 1.0 + 1e-9:
        issues.append(f"{base}.slices: prb_share values add up to {sum(s.prb_share for s in spec.slices):g}, "
                      f"more than 1")
    seen = set()
    for i, g in enumerate(spec.users):
        here = f"{base}.users[{i}]"
        if g.name in seen:
            issues.append(f"{here}.name: duplicate group name {g.name!r}")
        seen.add(g.name)
        if g.device not in names:
            issues.append(f"{here}.device: no device {g.device!r} (devices: {', '.join(sorted(names))})")
        elif _category(g.device, spec) != "nr":
            issues.append(f"{here}.device: {g.device!r} is a {_category(g.device, spec)} device, served on its own "
                          f"narrow-band carrier: evaluate it with simulation.iot, not as a user group")
        if g.slice not in slices:
            issues.append(f"{here}.slice: no slice {g.slice!r} (slices: {', '.join(slices)})")
        d = g.drop or DropSpecModel()
        if d.kind == "hotspot" and not d.hotspots:
            issues.append(f"{here}.drop.hotspots: a hotspot drop needs at least one hotspot")
        if d.kind == "raster" and d.raster is None:
            issues.append(f"{here}.drop.raster: a raster drop names a GeoTIFF of users per pixel")
        if d.kind == "buildings" and scenario.buildings is None:
            issues.append(f"{here}.drop.kind: 'buildings' needs the scenario's buildings: block")
        for k, h in enumerate(d.hotspots):
            xmin, ymin, xmax, ymax = scenario.area.bounds
            if not (xmin <= h.x <= xmax and ymin <= h.y <= ymax):
                kind = "lon/lat" if is_geographic(scenario.area.crs) else scenario.area.crs
                issues.append(f"{here}.drop.hotspots[{k}]: ({h.x:g}, {h.y:g}) lies outside area.bounds "
                              f"{list(scenario.area.bounds)} ({kind})")
        m = g.mobility or MobilitySpecModel()
        _range(m.speed_kmh, f"{here}.mobility.speed_kmh", issues)
        _range(m.pause_s, f"{here}.mobility.pause_s", issues)
    if spec.warmup_s >= spec.duration_s:
        issues.append(f"{base}.warmup_s: must be shorter than duration_s ({spec.duration_s:g}), got {spec.warmup_s:g}")
    slot_s = 1e-3 * 15.0 / scenario.carrier.scs_khz
    if spec.duration_s / slot_s > MAX_SLOTS:
        issues.append(f"{base}.duration_s: {spec.duration_s / slot_s:.3g} slots (limit {MAX_SLOTS:.0e}), "
                      f"got {spec.duration_s:g}")
    ho = spec.handover or HandoverSpec()
    if ho.measurement_period_ms < 1e3 * slot_s:
        issues.append(f"{base}.handover.measurement_period_ms: at least one slot ({1e3 * slot_s:g} ms), "
                      f"got {ho.measurement_period_ms:g}")
    r = spec.rlf or RlfSpec()
    if r.qin_db <= r.qout_db:
        issues.append(f"{base}.rlf.qin_db: must exceed qout_db ({r.qout_db:g}), got {r.qin_db:g}")
    dx = spec.duplex or DuplexSpec()
    if dx.mode == "tdd" and "U" not in dx.pattern and (spec.uplink is None or spec.uplink.enabled):
        issues.append(f"{base}.duplex.pattern: a TDD pattern without U slots has no uplink, got {dx.pattern!r} "
                      f"(or set uplink.enabled: false)")
    iot = spec.iot or IotSpec()
    if iot.enabled:
        if iot.device not in names:
            issues.append(f"{base}.iot.device: no device {iot.device!r} (devices: {', '.join(sorted(names))})")
        elif _category(iot.device, spec) != "nbiot":
            issues.append(f"{base}.iot.device: the massive-IoT evaluation models NB-IoT (NPRACH, single-tone NPUSCH); "
                          f"{iot.device!r} is a {_category(iot.device, spec)} device (LTE-M's CE modes are not built)")
        t0, t1 = iot.ce_thresholds_db
        if not (t0 < t1 < iot.max_coupling_loss_db):
            issues.append(f"{base}.iot.ce_thresholds_db: need CE0 < CE1 < max_coupling_loss_db "
                          f"({iot.max_coupling_loss_db:g}), got {list(iot.ce_thresholds_db)}")
    return issues


def _category(device: str, spec: SimulationSpec) -> str:
    d = spec.devices.get(device)
    if d is not None and d.category is not None:
        return d.category
    if d is not None and d.base_on is not None:
        return _category(d.base_on, spec) if d.base_on in spec.devices else BUILT_IN_DEVICES[d.base_on].category
    return BUILT_IN_DEVICES[device].category if device in BUILT_IN_DEVICES else "nr"


def _catalogue(spec: SimulationSpec) -> dict[str, DeviceProfile]:
    overrides = {}
    for name, d in spec.devices.items():
        values = {k: getattr(d, k) for k in d.model_fields_set}
        if "speed_kmh" in values:
            values["speed_kmh"] = tuple(float(v) for v in values["speed_kmh"])
        overrides[name] = values
    return extend_catalogue(overrides)


def _to_simulation(name: str, scenario: Scenario, spec: SimulationSpec) -> Simulation:
    users = []
    for g in spec.users:
        t = g.traffic or TrafficSpecModel()
        d = g.drop or DropSpecModel()
        m = g.mobility or MobilitySpecModel()
        users.append(UserGroup(
            name=g.name, count=int(g.count), device=g.device, slice=g.slice,
            traffic=TrafficSpec(model=t.model, direction=t.direction, file_size_bytes=float(t.file_size_bytes),
                                packet_size_bytes=float(t.packet_size_bytes),
                                arrival_rate_per_s=float(t.arrival_rate_per_s), period_s=float(t.period_s),
                                periodic=bool(t.periodic)),
            drop=DropSpec(kind=d.kind, indoor_fraction=None if d.indoor_fraction is None else float(d.indoor_fraction),
                          hotspots=tuple(Hotspot(float(h.x), float(h.y), float(h.radius_m), float(h.weight))
                                         for h in d.hotspots), raster=d.raster),
            mobility=MobilitySpec(model=m.model,
                                  speed_kmh=None if m.speed_kmh is None else (float(m.speed_kmh[0]), float(m.speed_kmh[1])),
                                  pause_s=(float(m.pause_s[0]), float(m.pause_s[1])))))
    slices = tuple(SliceSpec(name=s.name, prb_share=float(s.prb_share), priority=int(s.priority),
                             min_throughput_mbps=None if s.min_throughput_mbps is None else float(s.min_throughput_mbps),
                             latency_budget_ms=None if s.latency_budget_ms is None else float(s.latency_budget_ms),
                             reliability=float(s.reliability))
                   for s in spec.slices) if spec.slices else (SliceSpec("embb"),)

    def rec(cls, sp):
        if sp is None:
            return cls()
        values = {}
        for k in type(sp).model_fields:
            v = getattr(sp, k)
            values[k] = tuple(float(x) for x in v) if isinstance(v, list) else v
        return cls(**values)

    return Simulation(
        name=name, scenario=scenario, users=tuple(users), slices=slices, devices=_catalogue(spec),
        duration_s=float(spec.duration_s), warmup_s=float(spec.warmup_s),
        resolution_m=None if spec.resolution_m is None else float(spec.resolution_m),
        seed=int(scenario.seed if spec.seed is None else spec.seed),
        scheduler=rec(SchedulerOptions, spec.scheduler), fading=rec(FadingOptions, spec.fading),
        uplink=rec(UplinkOptions, spec.uplink), duplex=rec(DuplexOptions, spec.duplex),
        handover=rec(HandoverOptions, spec.handover), rlf=rec(RlfOptions, spec.rlf), iot=rec(IotOptions, spec.iot),
        report_period_ms=float(spec.report_period_ms))


__all__ = ["parse_simulation", "Simulation", "UserGroup", "TrafficSpec", "DropSpec", "MobilitySpec", "SliceSpec",
           "SchedulerOptions", "FadingOptions", "UplinkOptions", "DuplexOptions", "HandoverOptions", "RlfOptions",
           "IotOptions", "Hotspot", "DEVICE_CATEGORIES"]
