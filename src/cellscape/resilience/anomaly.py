"""KPI anomaly detection on per-cell time series, and injections with known truth (docs/anomaly.md).

Three parts, all pure (arrays in, arrays out, randomness only through a seeded Generator):

1. **KPIs from load** (:func:`kpis_from_load`). A cell's offered load (the share of its PRBs its traffic
   needs under normal conditions, e.g. from :func:`cellscape.ai.loadgen.generate_load_history`) gives
   consistent KPIs: PRB utilisation, served throughput, connected users, the mean SINR of its users
   (degrading with the neighbours' utilisation: the load-coupled interference model) and their mean RSRP.
2. **Injections** (:func:`inject_events`): outages (the cell's counters drop to zero, its users move to
   the neighbours, whose load rises), jamming (extra interference on a cell and its neighbours: SINR
   and throughput drop, PRB utilisation rises because each bit needs more PRBs) and traffic surges (the
   offered load of a few adjacent cells jumps for hours). Each event declares its truth: the cells and
   time steps it is about (``truth_kind``) and the cells it also disturbs (``truth_affected``).
3. **The detector** (:func:`fit_baseline`, :func:`detect`): per cell and KPI, a time-of-week median
   baseline over the training weeks and robust z-scores of the residuals (median absolute deviation
   per hour of day), combined over KPIs, with a minimum duration; each detected event is classified
   from its KPI signature (outage / jamming / surge / other). :func:`point_metrics` and
   :func:`event_metrics` score a detection against the injected truth.

The baseline is fitted on the training window only; :func:`detect` never updates it, so the
evaluation window cannot leak into it.

Names of the KPIs (docs/glossary.md): ``prb_utilisation`` (0..1), ``throughput_mbps`` [Mbit/s],
``sinr_db`` [dB], ``rsrp_dbm`` [dBm], ``connected_users`` [count]. Other KPI names are accepted by the
detector (scored like the others, never used by the classifier).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

import numpy as np

from cellscape._validate import check_choice
from cellscape.errors import CellscapeError, OutOfValidityRangeError
from cellscape.radio.throughput import attenuated_shannon_efficiency_bps_hz

KPI_NAMES: tuple[str, ...] = ("prb_utilisation", "throughput_mbps", "sinr_db", "rsrp_dbm", "connected_users")
"""The KPIs :func:`kpis_from_load` derives, in this order."""

EVENT_KINDS: tuple[str, ...] = ("outage", "jamming", "surge")
"""Kinds of injected events."""

KINDS: tuple[str, ...] = ("none", "outage", "jamming", "surge", "other")
"""Codes of ``truth_kind`` and ``predicted_kind`` arrays: the index in this tuple (0 = none)."""

EventKind = Literal["outage", "jamming", "surge"]

SECONDS_PER_DAY = 86_400
SECONDS_PER_WEEK = 7 * SECONDS_PER_DAY
_MONDAY_OFFSET_S = 3 * SECONDS_PER_DAY      # 1970-01-01 (second 0 of datetime64) was a Thursday
_MAD_TO_SIGMA = 1.4826                      # sigma of a normal distribution = 1.4826 MAD

# Absolute floors of the residual scale per KPI (a quiet cell at night must not get a zero scale).
SCALE_FLOORS: dict[str, float] = {"prb_utilisation": 0.002, "throughput_mbps": 0.5, "sinr_db": 0.3,
                                  "rsrp_dbm": 0.3, "connected_users": 1.0}
_LOAD_LIKE = ("prb_utilisation", "throughput_mbps", "connected_users")


class AnomalyInputError(CellscapeError, ValueError):
    """A KPI series, an adjacency or a detector setting is unusable; the message says which."""


# --------------------------------------------------------------------------------------------- series


@dataclass(frozen=True)
class KpiSeries:
    """Per-cell KPI time series on a regular time axis.

    cell_id : tuple of str, (n_cells,)
    start : numpy.datetime64
        Time of the first step, local wall-clock time (the time-of-week baseline reads it as is).
    step_s : int
        Time step [s]; divides a day.
    values : mapping of KPI name -> ndarray, shape (n_cells, n_steps)
        NaN = not reported.
    """

    cell_id: tuple[str, ...]
    start: np.datetime64
    step_s: int
    values: Mapping[str, np.ndarray]

    def __post_init__(self):
        if not self.values:
            raise AnomalyInputError("a KPI series needs at least one KPI column")
        step = int(self.step_s)
        if step != self.step_s or step <= 0 or SECONDS_PER_DAY % step:
            raise AnomalyInputError(f"step_s={self.step_s} must be a positive divisor of a day (86400 s)")
        shapes = {k: np.shape(v) for k, v in self.values.items()}
        n = len(self.cell_id)
        for k, s in shapes.items():
            if len(s) != 2 or s[0] != n:
                raise AnomalyInputError(f"KPI {k!r} has shape {s}, expected ({n} cells, n_steps)")
        if len({s[1] for s in shapes.values()}) != 1:
            raise AnomalyInputError(f"KPI columns differ in length: {shapes}")
        if len(set(self.cell_id)) != n:
            raise AnomalyInputError("cell_id values repeat")
        object.__setattr__(self, "start", np.datetime64(self.start, "s"))
        object.__setattr__(self, "step_s", step)
        object.__setattr__(self, "values", {k: np.asarray(v, dtype=float) for k, v in self.values.items()})

    @property
    def n_cells(self) -> int:
        return len(self.cell_id)

    @property
    def n_steps(self) -> int:
        return next(iter(self.values.values())).shape[1]

    @property
    def kpis(self) -> tuple[str, ...]:
        return tuple(self.values)

    def times(self) -> np.ndarray:
        """Time of every step, (n_steps,) datetime64[s]."""
        return self.start + np.arange(self.n_steps) * np.timedelta64(self.step_s, "s")

    def window(self, start_step: int, stop_step: int) -> KpiSeries:
        """The steps ``start_step`` (inclusive) to ``stop_step`` (exclusive) as a new series."""
        if not 0 <= start_step < stop_step <= self.n_steps:
            raise AnomalyInputError(f"window [{start_step}, {stop_step}) is not inside the {self.n_steps} steps")
        return KpiSeries(self.cell_id, self.start + np.timedelta64(start_step * self.step_s, "s"), self.step_s,
                         {k: v[:, start_step:stop_step] for k, v in self.values.items()})


def _seconds(start: np.datetime64, step_s: int, n_steps: int) -> np.ndarray:
    return np.datetime64(start, "s").astype(np.int64) + step_s * np.arange(n_steps, dtype=np.int64)


def time_of_week_slot(start, step_s: int, n_steps: int) -> np.ndarray:
    """Index of each step within the week, Monday 00:00 = 0, (n_steps,) int.

    >>> time_of_week_slot(np.datetime64("2024-01-01T00:00"), 3600, 3).tolist()   # a Monday
    [0, 1, 2]
    >>> int(time_of_week_slot(np.datetime64("2024-01-07T23:00"), 3600, 1)[0])     # Sunday 23:00
    167
    """
    return ((_seconds(start, step_s, n_steps) + _MONDAY_OFFSET_S) % SECONDS_PER_WEEK) // step_s


def hour_of_day(start, step_s: int, n_steps: int) -> np.ndarray:
    """Hour of the day (0..23) of each step, (n_steps,) int."""
    return (_seconds(start, step_s, n_steps) % SECONDS_PER_DAY) // 3600


# ------------------------------------------------------------------------------------------ adjacency


def adjacency_from_positions(x_m, y_m, *, n_nearest_sites: int = 3) -> np.ndarray:
    """Neighbour relation of cells from their site positions, (n_cells, n_cells) bool, symmetric,
    False on the diagonal.

    Two cells are neighbours when they share a site (same position) or when either site is among the
    ``n_nearest_sites`` nearest other sites of the other. A simple stand-in for a handover-neighbour
    list; pass your own adjacency where you have one.

    >>> adjacency_from_positions([0, 0, 100, 1000], [0, 0, 0, 0], n_nearest_sites=1).astype(int).tolist()
    [[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 1], [0, 0, 1, 0]]
    """
    x = np.asarray(x_m, dtype=float)
    y = np.asarray(y_m, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise AnomalyInputError(f"x_m and y_m must be 1-d of one length, got {x.shape} and {y.shape}")
    sites, site_of = np.unique(np.column_stack([x, y]), axis=0, return_inverse=True)
    site_of = site_of.ravel()
    n_sites = len(sites)
    d = np.hypot(sites[:, None, 0] - sites[None, :, 0], sites[:, None, 1] - sites[None, :, 1])   # (n_sites, n_sites)
    np.fill_diagonal(d, np.inf)
    k = min(int(n_nearest_sites), n_sites - 1)
    near = np.zeros((n_sites, n_sites), dtype=bool)
    if k > 0:
        nearest = np.argsort(d, axis=1, kind="stable")[:, :k]                                   # (n_sites, k)
        near[np.repeat(np.arange(n_sites), k), nearest.ravel()] = True
    near |= near.T
    np.fill_diagonal(near, True)                                                                # co-sited cells
    adj = near[site_of[:, None], site_of[None, :]]                                              # (n_cells, n_cells)
    np.fill_diagonal(adj, False)
    return adj


def check_adjacency(adjacency, n_cells: int) -> np.ndarray:
    """``adjacency`` as a symmetric bool (n_cells, n_cells) array with an empty diagonal, or raise."""
    a = np.asarray(adjacency)
    if a.shape != (n_cells, n_cells):
        raise AnomalyInputError(f"adjacency has shape {a.shape}, expected ({n_cells}, {n_cells})")
    a = a.astype(bool)
    if not np.array_equal(a, a.T):
        raise AnomalyInputError("adjacency must be symmetric (cell i neighbours j exactly when j neighbours i)")
    a = a.copy()
    np.fill_diagonal(a, False)
    return a


# ------------------------------------------------------------------------------------- KPIs from load


@dataclass(frozen=True)
class CellRadio:
    """How a cell's KPIs follow its load (docs/anomaly.md, "KPIs from load"). Per-cell arrays allowed.

    capacity_mbps : full-PRB cell throughput under normal conditions [Mbit/s]
    users_at_full_load : mean connected users when the offered load is 1 [count]
    snr_db : mean SINR of the cell's users when every neighbour is idle (noise-limited) [dB]
    sinr_full_load_db : mean SINR when every neighbour uses all its PRBs [dB]
    rsrp_dbm : mean RSRP of the cell's users [dBm]
    sinr_noise_db, rsrp_noise_db : measurement noise of the reported means [dB]
    throughput_noise : relative noise of the served throughput (user-mix variation)
    """

    capacity_mbps: float | np.ndarray = 300.0
    users_at_full_load: float | np.ndarray = 150.0
    snr_db: float | np.ndarray = 20.0
    sinr_full_load_db: float | np.ndarray = 0.0
    rsrp_dbm: float | np.ndarray = -95.0
    sinr_noise_db: float = 0.5
    rsrp_noise_db: float = 0.5
    throughput_noise: float = 0.03


def _efficiency_ratio(sinr_db, clean_sinr_db):
    """Spectral efficiency at ``sinr_db`` over that at ``clean_sinr_db``: the Shannon bound of
    :func:`cellscape.radio.throughput.attenuated_shannon_efficiency_bps_hz` (TR 36.942 A.1) without
    its floor and cap, so its attenuation cancels in the ratio."""
    eff = partial(attenuated_shannon_efficiency_bps_hz, sinr_min_db=-np.inf, max_efficiency_bps_hz=np.inf)
    return eff(sinr_db) / eff(clean_sinr_db)


def mean_sinr_db(neighbour_utilisation, *, snr_db, sinr_full_load_db, jamming_db=None):
    """Mean SINR of a cell's users [dB] under the load-coupled interference model.

    SINR = S / (N + J + I_full * u), with S/N = ``snr_db``, I_full fixed by ``sinr_full_load_db``
    (the SINR when the neighbours' mean PRB utilisation ``u`` is 1), and J = 10^(jamming_db / 10)
    (N + I_full): ``jamming_db`` is the jamming power over the cell's noise plus full-load
    interference (None or -inf: no jammer), so that a given value hurts a strong and a weak cell alike.

    >>> round(float(mean_sinr_db(0.0, snr_db=20.0, sinr_full_load_db=0.0)), 6)
    20.0
    >>> round(float(mean_sinr_db(1.0, snr_db=20.0, sinr_full_load_db=0.0)), 6)
    0.0
    """
    snr = 10.0 ** (np.asarray(snr_db, dtype=float) / 10.0)
    sinr_full = 10.0 ** (np.asarray(sinr_full_load_db, dtype=float) / 10.0)
    if np.any(sinr_full >= snr):
        raise OutOfValidityRangeError("sinr_full_load_db must be below snr_db (interference adds to the noise)")
    i_full = snr / sinr_full - 1.0                                       # interference at full load, in noise units
    jam = 0.0 if jamming_db is None else 10.0 ** (np.asarray(jamming_db, dtype=float) / 10.0) * (1.0 + i_full)
    return 10.0 * np.log10(snr / (1.0 + jam + i_full * np.asarray(neighbour_utilisation, dtype=float)))


def _neighbour_mean(adjacency: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Mean of ``x`` (n_cells, n_steps) over each cell's neighbours (0 for a cell without any)."""
    a = adjacency.astype(float)
    deg = a.sum(axis=1, keepdims=True)                                   # (n_cells, 1)
    return (a @ x) / np.maximum(deg, 1.0)


def kpis_from_load(offered_load, adjacency, radio: CellRadio = CellRadio(), *, rng: np.random.Generator,
                   off=None, jamming_db=None) -> dict[str, np.ndarray]:
    """KPIs of every cell and step from its offered load (docs/anomaly.md, "KPIs from load").

    Parameters
    ----------
    offered_load : array_like, shape (n_cells, n_steps)
        Share of the cell's PRBs its traffic needs under normal conditions (may exceed 1 in a surge).
    adjacency : array_like, shape (n_cells, n_cells)
        Neighbour relation (:func:`adjacency_from_positions`).
    radio : CellRadio
        Capacity, users and radio of the cells (scalars or (n_cells,) arrays).
    rng : numpy.random.Generator
        Draws the users (Poisson) and the measurement noise.
    off : array_like of bool, shape (n_cells, n_steps), optional
        Cells out of service: every counter 0, no SINR or RSRP reported (NaN).
    jamming_db : array_like, shape (n_cells, n_steps), optional
        Jamming power at the cell's users over their noise plus full-load interference
        (:func:`mean_sinr_db`) [dB]; -inf = none.

    Returns
    -------
    dict of KPI name -> ndarray (n_cells, n_steps)
        ``prb_utilisation`` = min(1, load / r) with r = efficiency(SINR) / efficiency(SINR without the
        jammer) (1 without jamming), ``throughput_mbps`` = prb_utilisation * capacity * r,
        ``connected_users`` ~ Poisson(users_at_full_load * load), ``sinr_db`` (neighbours' utilisation
        coupling, two fixed-point passes) and ``rsrp_dbm`` with measurement noise; SINR and RSRP NaN
        when the cell has no users.
    """
    load = np.clip(np.asarray(offered_load, dtype=float), 0.0, None)
    if load.ndim != 2:
        raise AnomalyInputError(f"offered_load must be (n_cells, n_steps), got shape {load.shape}")
    n_cells, n_steps = load.shape
    adj = check_adjacency(adjacency, n_cells)
    off = np.zeros(load.shape, bool) if off is None else np.broadcast_to(np.asarray(off, bool), load.shape)
    jam = None if jamming_db is None else np.broadcast_to(np.asarray(jamming_db, float), load.shape)

    def col(v):
        return np.broadcast_to(np.asarray(v, dtype=float).reshape(-1, 1) if np.ndim(v) else np.asarray(v, float),
                               (n_cells, 1))

    cap, users_full, snr, sinr_full, rsrp = (col(v) for v in (radio.capacity_mbps, radio.users_at_full_load,
                                                             radio.snr_db, radio.sinr_full_load_db, radio.rsrp_dbm))
    util = np.where(off, 0.0, np.minimum(load, 1.0))                     # (n_cells, n_steps), first pass
    ratio = np.ones_like(load)
    sinr = None
    for _ in range(2):                                                   # load coupling: SINR <-> neighbours' PRBs
        nbr = _neighbour_mean(adj, util)                                 # (n_cells, n_steps)
        sinr = mean_sinr_db(nbr, snr_db=snr, sinr_full_load_db=sinr_full, jamming_db=jam)
        if jam is not None:
            clean = mean_sinr_db(nbr, snr_db=snr, sinr_full_load_db=sinr_full)
            ratio = _efficiency_ratio(sinr, clean)
        util = np.where(off, 0.0, np.minimum(load / ratio, 1.0))
    throughput = util * cap * ratio * np.exp(rng.normal(0.0, radio.throughput_noise, load.shape))
    users = np.where(off, 0, rng.poisson(users_full * load)).astype(float)
    silent = off | (users == 0)
    sinr_rep = np.where(silent, np.nan, sinr + rng.normal(0.0, radio.sinr_noise_db, load.shape))
    rsrp_rep = np.where(silent, np.nan, rsrp + rng.normal(0.0, radio.rsrp_noise_db, load.shape))
    return {"prb_utilisation": util, "throughput_mbps": np.where(off, 0.0, throughput), "sinr_db": sinr_rep,
            "rsrp_dbm": rsrp_rep, "connected_users": users}


# ----------------------------------------------------------------------------------------- injections


@dataclass(frozen=True)
class InjectedEvent:
    """One injected event: its kind, the cells its truth is declared on, the cells it also disturbs,
    its steps [start_step, stop_step) and its magnitude (outage: share of the cell's load moved to
    its neighbours; jamming: ``jamming_db`` at the central cell [dB]; surge: added offered load)."""

    kind: str
    cells: tuple[int, ...]
    disturbed_cells: tuple[int, ...]
    start_step: int
    stop_step: int
    magnitude: float


@dataclass(frozen=True)
class Injection:
    """Offered load and impairments after the injections, with the truth.

    offered_load, off, jamming_db : (n_cells, n_steps) inputs of :func:`kpis_from_load`
    truth_kind : (n_cells, n_steps) int8, code in :data:`KINDS` of the event declared on the cell-step
    truth_affected : (n_cells, n_steps) bool, every cell-step an event declares or disturbs
    events : the injected events
    """

    offered_load: np.ndarray
    off: np.ndarray
    jamming_db: np.ndarray
    truth_kind: np.ndarray
    truth_affected: np.ndarray
    events: tuple[InjectedEvent, ...]


@dataclass(frozen=True)
class InjectionPlan:
    """How many events of each kind, their durations [steps] and magnitudes (docs/anomaly.md)."""

    n_outage: int = 2
    n_jamming: int = 2
    n_surge: int = 2
    outage_steps: tuple[int, int] = (4, 24)            # 1 to 6 h at 15 min
    jamming_steps: tuple[int, int] = (4, 16)
    surge_steps: tuple[int, int] = (8, 24)
    outage_moved_share: float = 0.8                    # of the failed cell's load, spread over its neighbours
    jamming_db: tuple[float, float] = (5.0, 15.0)      # over noise + full-load interference (mean_sinr_db)
    jam_neighbour_offset_db: float = 6.0               # neighbours get this much less
    surge_load: tuple[float, float] = (0.2, 0.5)
    surge_max_extra_cells: int = 2
    gap_steps: int = 8                                 # events never touch the same cell within this gap


def _declare(truth_kind, truth_affected, kind_code, cells, disturbed, t0, t1):
    truth_kind[list(cells), t0:t1] = kind_code
    truth_affected[list(cells) + list(disturbed), t0:t1] = True


def apply_event(offered_load: np.ndarray, off: np.ndarray, jam_db: np.ndarray, adjacency: np.ndarray,
                event: InjectedEvent, plan: InjectionPlan = InjectionPlan()) -> None:
    """Apply ``event`` in place to the offered load, the off mask and the J/N array."""
    t = slice(event.start_step, event.stop_step)
    root = event.cells[0]
    if event.kind == "outage":
        nbrs = np.flatnonzero(adjacency[root])
        moved = offered_load[root, t] * event.magnitude                               # (n_steps_event,)
        if nbrs.size:
            offered_load[nbrs, t] += moved[None, :] / nbrs.size
        off[root, t] = True
    elif event.kind == "jamming":
        jam_db[root, t] = np.maximum(jam_db[root, t], event.magnitude)
        for c in event.cells[1:]:
            jam_db[c, t] = np.maximum(jam_db[c, t], event.magnitude - plan.jam_neighbour_offset_db)
    elif event.kind == "surge":
        offered_load[list(event.cells), t] += event.magnitude
    else:
        check_choice("event.kind", event.kind, EVENT_KINDS)


def inject_events(offered_load, adjacency, plan: InjectionPlan = InjectionPlan(), *, window: tuple[int, int],
                  rng: np.random.Generator, max_tries: int = 1000) -> Injection:
    """Place ``plan``'s events at random inside ``window`` = (start_step, stop_step) and apply them.

    Outage: one cell off; ``outage_moved_share`` of its load spread evenly over its neighbours
    (truth: the cell; disturbed: its neighbours). Jamming: ``jamming_db`` drawn in its range on one
    cell, ``jam_neighbour_offset_db`` less on its neighbours (truth: all of them). Surge: offered load
    + ``surge_load`` on one cell and up to ``surge_max_extra_cells`` of its neighbours (truth: those;
    disturbed: their other neighbours, whose SINR drops a little). Events never share a cell within
    ``gap_steps`` of each other.

    Raises
    ------
    AnomalyInputError
        If the window cannot hold the events.
    """
    load = np.array(offered_load, dtype=float)
    n_cells, n_steps = load.shape
    adj = check_adjacency(adjacency, n_cells)
    w0, w1 = int(window[0]), int(window[1])
    if not 0 <= w0 < w1 <= n_steps:
        raise AnomalyInputError(f"injection window [{w0}, {w1}) is not inside the {n_steps} steps")
    kinds = ["outage"] * plan.n_outage + ["jamming"] * plan.n_jamming + ["surge"] * plan.n_surge
    kinds = [kinds[i] for i in rng.permutation(len(kinds))]
    busy = np.zeros((n_cells, n_steps), dtype=bool)                      # cells x steps already used (+ gap)
    events: list[InjectedEvent] = []
    for kind in kinds:
        lo, hi = getattr(plan, f"{kind}_steps")
        for _ in range(max_tries):
            dur = int(rng.integers(lo, hi + 1))
            if dur > w1 - w0:
                raise AnomalyInputError(f"a {kind} of {dur} steps does not fit the {w1 - w0}-step window")
            t0 = int(rng.integers(w0, w1 - dur + 1))
            root = int(rng.integers(n_cells))
            nbrs = tuple(int(c) for c in np.flatnonzero(adj[root]))
            if kind == "outage":
                cells, mag = (root,), plan.outage_moved_share
                disturbed = nbrs
            elif kind == "jamming":
                cells, mag = (root, *nbrs), float(rng.uniform(*plan.jamming_db))
                disturbed = ()
            else:
                n_extra = int(rng.integers(0, min(plan.surge_max_extra_cells, len(nbrs)) + 1))
                extra = tuple(int(c) for c in rng.choice(nbrs, size=n_extra, replace=False)) if n_extra else ()
                cells, mag = (root, *extra), float(rng.uniform(*plan.surge_load))
                disturbed = tuple(sorted({int(c) for x in cells for c in np.flatnonzero(adj[x])} - set(cells)))
            touched = list(cells) + list(disturbed)
            g0, g1 = max(0, t0 - plan.gap_steps), min(n_steps, t0 + dur + plan.gap_steps)
            if busy[touched, g0:g1].any():
                continue
            busy[touched, g0:g1] = True
            events.append(InjectedEvent(kind, cells, disturbed, t0, t0 + dur, mag))
            break
        else:
            raise AnomalyInputError(f"could not place {len(kinds)} events in the window [{w0}, {w1}) without "
                                    f"overlap after {max_tries} tries: use fewer events or a longer window")
    events.sort(key=lambda e: (e.start_step, e.cells))
    off = np.zeros_like(load, dtype=bool)
    jam = np.full_like(load, -np.inf)
    truth_kind = np.zeros(load.shape, dtype=np.int8)
    truth_affected = np.zeros(load.shape, dtype=bool)
    for e in events:
        apply_event(load, off, jam, adj, e, plan)
        _declare(truth_kind, truth_affected, KINDS.index(e.kind), e.cells, e.disturbed_cells, e.start_step,
                 e.stop_step)
    return Injection(load, off, jam, truth_kind, truth_affected, tuple(events))


# ------------------------------------------------------------------------------------------- detector


@dataclass(frozen=True)
class DetectorConfig:
    """Settings of :func:`detect` (defaults chosen on seeds 0..4, docs/anomaly.md).

    z_threshold : a step is abnormal when at least ``min_kpis`` KPIs have |z| >= this
    min_kpis : how many KPIs must agree (1 = any KPI)
    min_duration_steps : shorter runs of abnormal steps are dropped
    merge_gap_steps : runs separated by at most this many normal steps are merged first
    smooth_slots : the baseline of a time-of-week slot pools the slots within +- this many steps
    scale_floors : absolute floor of the residual scale per KPI (others: 0); a relative floor of 1 %
        of the cell's baseline range applies to every KPI
    outage_fraction : an event whose load-like KPIs stay below this share of the baseline is an outage
    """

    z_threshold: float = 5.0
    min_kpis: int = 2
    min_duration_steps: int = 2
    merge_gap_steps: int = 1
    smooth_slots: int = 1
    scale_floors: Mapping[str, float] = field(default_factory=lambda: dict(SCALE_FLOORS))
    outage_fraction: float = 0.1

    def __post_init__(self):
        if not self.z_threshold > 0:
            raise AnomalyInputError(f"z_threshold={self.z_threshold} must be > 0")
        if self.min_kpis < 1 or self.min_duration_steps < 1 or self.merge_gap_steps < 0 or self.smooth_slots < 0:
            raise AnomalyInputError("min_kpis and min_duration_steps must be >= 1, merge_gap_steps and "
                                    "smooth_slots >= 0")


@dataclass(frozen=True)
class Baseline:
    """A fitted baseline: per cell and KPI, the time-of-week median and the residual scale per hour of day.

    median : KPI -> (n_cells, n_slots) with n_slots = steps per week
    scale : KPI -> (n_cells, 24), robust sigma (1.4826 MAD) of the training residuals, floored
    train_start, train_stop : the training window [start, stop) it was fitted on
    """

    cell_id: tuple[str, ...]
    step_s: int
    median: Mapping[str, np.ndarray]
    scale: Mapping[str, np.ndarray]
    train_start: np.datetime64
    train_stop: np.datetime64

    @property
    def kpis(self) -> tuple[str, ...]:
        return tuple(self.median)


def _nan_median_quiet(x: np.ndarray, axis) -> np.ndarray:
    """nanmedian without the all-NaN warning (an all-NaN slice gives NaN)."""
    x = np.asarray(x, dtype=float)
    filled = np.where(np.isnan(x), np.inf, x)
    n = np.sum(~np.isnan(x), axis=axis, keepdims=True)
    s = np.sort(filled, axis=axis)
    lo = np.take_along_axis(s, np.maximum((n - 1) // 2, 0), axis=axis)
    hi = np.take_along_axis(s, np.maximum(n // 2, 0), axis=axis)
    med = np.where(n > 0, 0.5 * (lo + hi), np.nan)
    return np.squeeze(med, axis=axis)


_CELLS_PER_BLOCK = 256


def _median_and_mad(x, slot, week, hour, n_slots: int, n_weeks: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Time-of-week median (n_cells, n_slots) and per-hour MAD of the leave-one-week-out residuals
    (n_cells, 24) of a block of cells ``x`` (n_cells, n_steps)."""
    n_cells, n_steps = x.shape
    by_slot = np.full((n_cells, n_slots, n_weeks), np.nan)                                # cells x slots x weeks
    by_slot[:, slot, week] = x
    pooled = np.concatenate([np.roll(by_slot, -d, axis=1) for d in range(-k, k + 1)], axis=2)
    med = _nan_median_quiet(pooled, axis=2)                                               # (n_cells, n_slots)
    # out-of-sample residuals: each training week against the baseline of the other weeks
    resid = np.empty_like(x)                                                               # (n_cells, n_steps)
    column_week = np.tile(np.arange(n_weeks), 2 * k + 1)                                   # week of each pooled column
    for w in np.unique(week):
        others = _nan_median_quiet(pooled[:, :, column_week != w], axis=2)                # (n_cells, n_slots)
        sel = week == w
        resid[:, sel] = np.abs(x[:, sel] - others[:, slot[sel]])
    mad = np.full((n_cells, 24), np.nan)
    for h in np.unique(hour):
        mad[:, h] = _nan_median_quiet(resid[:, hour == h], axis=1)                         # (n_cells,)
    return med, mad


def fit_baseline(train: KpiSeries, *, config: DetectorConfig = DetectorConfig()) -> Baseline:
    """Fit the baseline on ``train`` only (no later data is read).

    For each cell, KPI and time-of-week slot: the median over the training weeks of the slots within
    +- ``smooth_slots``. The scale comes from out-of-sample residuals: each training week against the
    median of the other weeks (leave one week out), so that it is the error the baseline makes on a
    week it has not seen; per hour of day, 1.4826 MAD of those residuals, floored at
    ``scale_floors[kpi]`` and at 1 % of the cell's baseline range. A KPI that did not vary at all
    in training (zero scale) gives no z-score (NaN).

    Raises
    ------
    AnomalyInputError
        If ``train`` spans less than two weeks (leave one week out needs two samples of every slot).

    Examples
    --------
    >>> t = np.arange(2 * 7 * 24)
    >>> s = KpiSeries(("a",), np.datetime64("2024-01-01"), 3600, {"x": np.sin(2 * np.pi * t / 24)[None, :]})
    >>> b = fit_baseline(s)
    >>> b.median["x"].shape, b.scale["x"].shape
    ((1, 168), (1, 24))
    """
    step = train.step_s
    n_slots = SECONDS_PER_WEEK // step
    if train.n_steps < 2 * n_slots:
        raise AnomalyInputError(f"the training window holds {train.n_steps * step / SECONDS_PER_DAY:.1f} days; the "
                                f"time-of-week baseline needs at least 14 days (two of every slot of the week)")
    slot = time_of_week_slot(train.start, step, train.n_steps)                            # (n_steps,)
    hour = hour_of_day(train.start, step, train.n_steps)                                  # (n_steps,)
    n_weeks = -(-train.n_steps // n_slots) + 1
    week = (np.arange(train.n_steps) + slot[0]) // n_slots                                # calendar week of each step
    medians, scales = {}, {}
    for name, x in train.values.items():
        med = np.empty((x.shape[0], n_slots))
        mad = np.empty((x.shape[0], 24))
        for c0 in range(0, x.shape[0], _CELLS_PER_BLOCK):                                   # bounded memory
            rows = slice(c0, c0 + _CELLS_PER_BLOCK)
            med[rows], mad[rows] = _median_and_mad(x[rows], slot, week, hour, n_slots, n_weeks, config.smooth_slots)
        finite = np.isfinite(med)
        hi = np.where(finite, med, -np.inf).max(axis=1, keepdims=True)
        lo = np.where(finite, med, np.inf).min(axis=1, keepdims=True)
        span = np.where(hi > lo, hi - lo, 0.0)                                             # (n_cells, 1)
        floor = np.maximum(config.scale_floors.get(name, 0.0), 0.01 * span)
        scale = np.maximum(_MAD_TO_SIGMA * np.nan_to_num(mad, nan=np.inf), floor)
        scales[name] = np.where(np.isfinite(scale) & (scale > 0), scale, np.nan)    # no spread: no evidence
        medians[name] = med
    stop = train.start + np.timedelta64(train.n_steps * step, "s")
    return Baseline(train.cell_id, step, medians, scales, train.start, stop)


@dataclass(frozen=True)
class DetectedEvent:
    """A run of abnormal steps of one cell, [start_step, stop_step) of the scored series, its kind
    (from its KPI signature and its neighbours'), its peak combined score and the median z per KPI."""

    cell: int
    start_step: int
    stop_step: int
    kind: str
    peak_score: float
    median_z: Mapping[str, float]


@dataclass(frozen=True)
class Detection:
    """Result of :func:`detect` on a series.

    z : KPI -> (n_cells, n_steps) robust z-scores (NaN where not reported)
    expected : KPI -> (n_cells, n_steps) baseline values
    score : (n_cells, n_steps) combined score (the ``min_kpis``-th largest |z|)
    flagged : (n_cells, n_steps) bool, steps inside a detected event
    predicted_kind : (n_cells, n_steps) int8, code in :data:`KINDS`
    events : detected events, by cell then time
    """

    z: Mapping[str, np.ndarray]
    expected: Mapping[str, np.ndarray]
    score: np.ndarray
    flagged: np.ndarray
    predicted_kind: np.ndarray
    events: tuple[DetectedEvent, ...]


def robust_z(baseline: Baseline, series: KpiSeries) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Expected values and robust z-scores (x - median) / scale of every KPI the baseline knows."""
    if tuple(series.cell_id) != tuple(baseline.cell_id):
        raise AnomalyInputError("the series' cells differ from the baseline's (same cells, same order needed)")
    if series.step_s != baseline.step_s:
        raise AnomalyInputError(f"the series' step is {series.step_s} s, the baseline's {baseline.step_s} s")
    missing = [k for k in baseline.kpis if k not in series.values]
    if missing:
        raise AnomalyInputError(f"the series lacks the KPI(s) {missing} the baseline was fitted on")
    slot = time_of_week_slot(series.start, series.step_s, series.n_steps)
    hour = hour_of_day(series.start, series.step_s, series.n_steps)
    z, expected = {}, {}
    for name in baseline.kpis:
        exp = baseline.median[name][:, slot]                                               # (n_cells, n_steps)
        expected[name] = exp
        with np.errstate(invalid="ignore"):
            z[name] = (series.values[name] - exp) / baseline.scale[name][:, hour]
    return expected, z


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of every run of True in a 1-d bool array."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def clean_runs(mask, *, min_duration_steps: int, merge_gap_steps: int) -> np.ndarray:
    """Merge runs of True separated by at most ``merge_gap_steps`` False, then drop runs shorter than
    ``min_duration_steps``; per row of a (n_cells, n_steps) mask.

    >>> clean_runs([[1, 0, 1, 0, 0, 1, 0]], min_duration_steps=2, merge_gap_steps=1).astype(int).tolist()
    [[1, 1, 1, 0, 0, 0, 0]]
    """
    m = np.atleast_2d(np.asarray(mask, dtype=bool))
    out = np.zeros_like(m)
    for i, row in enumerate(m):
        runs = _runs(row)
        merged: list[list[int]] = []
        for a, b in runs:
            if merged and a - merged[-1][1] <= merge_gap_steps:
                merged[-1][1] = b
            else:
                merged.append([a, b])
        for a, b in merged:
            if b - a >= min_duration_steps:
                out[i, a:b] = True
    return out


_PRIORITY = {"outage": 3, "jamming": 2, "surge": 1, "other": 0}


def classify_signature(values: Mapping[str, np.ndarray], expected: Mapping[str, np.ndarray],
                       z: Mapping[str, np.ndarray], *, config: DetectorConfig = DetectorConfig()) -> str:
    """Kind of one cell's event from its KPIs over the event's steps (1-d arrays per KPI).

    - outage: the median of every load-like KPI (PRB utilisation, throughput, users) present is at most
      ``outage_fraction`` of its baseline (the cell carries nothing);
    - jamming: the median SINR z-score <= -z_threshold, or (without SINR) the throughput per used PRB
      below half its baseline, unless the users' median z >= +z_threshold (then the SINR fell because
      the neighbours carry a surge too);
    - surge: the median z of PRB utilisation or users >= +z_threshold;
    - other: none of these.

    >>> classify_signature({"prb_utilisation": np.zeros(3)}, {"prb_utilisation": np.full(3, 0.5)},
    ...                    {"prb_utilisation": np.full(3, -50.0)})
    'outage'
    """
    load_like = [k for k in _LOAD_LIKE if k in values]

    def med(a):
        a = np.asarray(a, dtype=float)
        return float(np.median(a[np.isfinite(a)])) if np.isfinite(a).any() else np.nan

    if load_like:
        ratios = []
        for k in load_like:
            with np.errstate(invalid="ignore", divide="ignore"):
                ratios.append(med(np.asarray(values[k]) / np.asarray(expected[k])))
        if all(np.isfinite(r) and r <= config.outage_fraction for r in ratios):
            return "outage"
    more_users = "connected_users" in z and med(z["connected_users"]) >= config.z_threshold
    if "sinr_db" in z:
        if med(z["sinr_db"]) <= -config.z_threshold and not more_users:
            return "jamming"
    elif "throughput_mbps" in values and "prb_utilisation" in values:
        with np.errstate(invalid="ignore", divide="ignore"):
            eff = np.asarray(values["throughput_mbps"]) / np.asarray(values["prb_utilisation"])
            eff0 = np.asarray(expected["throughput_mbps"]) / np.asarray(expected["prb_utilisation"])
        if med(eff / eff0) < 0.5:
            return "jamming"
    if any(k in z and med(z[k]) >= config.z_threshold for k in ("prb_utilisation", "connected_users")):
        return "surge"
    return "other"


def combined_score(z: Mapping[str, np.ndarray], *, min_kpis: int) -> np.ndarray:
    """The ``min_kpis``-th largest |z| over the KPIs at each cell-step (NaN counts as 0; with fewer
    KPIs than ``min_kpis``, the smallest).

    >>> combined_score({"a": np.array([[9.0]]), "b": np.array([[-6.0]]), "c": np.array([[np.nan]])},
    ...                min_kpis=2).tolist()
    [[6.0]]
    """
    stack = np.abs(np.stack([np.nan_to_num(v, nan=0.0) for v in z.values()]))             # (n_kpis, n_cells, n_steps)
    k = min(min_kpis, stack.shape[0])
    return -np.sort(-stack, axis=0)[k - 1]


def detect(baseline: Baseline, series: KpiSeries, *, config: DetectorConfig = DetectorConfig(),
           adjacency=None) -> Detection:
    """Detect and classify anomalies of ``series`` against ``baseline`` (which it never changes).

    Steps: robust z-scores per KPI (:func:`robust_z`); combined score (:func:`combined_score`);
    abnormal where score >= ``z_threshold``; runs cleaned (:func:`clean_runs`); each run classified
    from its signature (:func:`classify_signature`). With an ``adjacency``, concurrent events on
    neighbouring cells form one incident and take the incident's strongest kind (outage > jamming >
    surge > other): the neighbours of a failed cell see a load rise, but the incident is an outage.

    Examples
    --------
    >>> t = np.arange(3 * 7 * 24)
    >>> x = 0.5 + 0.3 * np.sin(2 * np.pi * t / 24)
    >>> rng = np.random.default_rng(0)
    >>> s = KpiSeries(("a",), np.datetime64("2024-01-01"), 3600,
    ...               {"prb_utilisation": (x + rng.normal(0, 0.01, t.size))[None, :],
    ...                "connected_users": (100 * x + rng.normal(0, 2, t.size))[None, :]})
    >>> b = fit_baseline(s.window(0, 2 * 168))
    >>> test = s.window(2 * 168, 3 * 168)
    >>> test.values["prb_utilisation"][0, 50:56] = 0.0
    >>> test.values["connected_users"][0, 50:56] = 0.0
    >>> [(e.start_step, e.stop_step, e.kind) for e in detect(b, test).events]
    [(50, 56, 'outage')]
    """
    expected, z = robust_z(baseline, series)
    score = combined_score(z, min_kpis=config.min_kpis)
    flagged = clean_runs(score >= config.z_threshold, min_duration_steps=config.min_duration_steps,
                         merge_gap_steps=config.merge_gap_steps)
    runs = [(c, a, b) for c in range(series.n_cells) for a, b in _runs(flagged[c])]
    kinds = []
    for c, a, b in runs:
        kinds.append(classify_signature({k: series.values[k][c, a:b] for k in baseline.kpis},
                                        {k: expected[k][c, a:b] for k in baseline.kpis},
                                        {k: z[k][c, a:b] for k in baseline.kpis}, config=config))
    if adjacency is not None and runs:
        adj = check_adjacency(adjacency, series.n_cells)
        parent = list(range(len(runs)))

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i, (ci, ai, bi) in enumerate(runs):
            for j in range(i + 1, len(runs)):
                cj, aj, bj = runs[j]
                if adj[ci, cj] and ai < bj and aj < bi:
                    parent[find(i)] = find(j)
        best: dict[int, str] = {}
        for i, kind in enumerate(kinds):
            r = find(i)
            if r not in best or _PRIORITY[kind] > _PRIORITY[best[r]]:
                best[r] = kind
        kinds = [best[find(i)] for i in range(len(runs))]
    predicted = np.zeros(flagged.shape, dtype=np.int8)
    events = []
    for (c, a, b), kind in zip(runs, kinds):
        predicted[c, a:b] = KINDS.index(kind)
        mz = {}
        for k in baseline.kpis:
            seg = z[k][c, a:b]
            mz[k] = float(np.median(seg[np.isfinite(seg)])) if np.isfinite(seg).any() else float("nan")
        events.append(DetectedEvent(c, a, b, kind, float(score[c, a:b].max()), mz))
    return Detection(z, expected, score, flagged, predicted, tuple(events))


# -------------------------------------------------------------------------------------------- metrics


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * p * r / (p + r) if tp else (0.0 if (tp + fp) and (tp + fn) else float("nan"))
    return {"precision": p, "recall": r, "f1": f1}


def point_counts(truth_kind, truth_affected, flagged, predicted_kind) -> dict:
    """Counts of point-level (cell x step) agreement, to be summed over runs, then :func:`point_metrics`.

    A flagged step on a cell an event only disturbs (``truth_affected`` without ``truth_kind``) counts
    neither as a hit nor as a false alarm. Per kind: ``tp`` = truth of the kind and flagged (recall),
    ``typed_tp`` = also predicted as that kind, ``predicted`` = predicted as that kind outside the
    disturbed-only cells (precision).
    """
    truth = np.asarray(truth_kind)
    affected = np.asarray(truth_affected, bool) | (truth > 0)
    flagged = np.asarray(flagged, bool)
    pred = np.asarray(predicted_kind)
    scored = (truth > 0) | ~affected                                  # not a disturbed-only cell-step
    out = {"tp": int(np.sum(flagged & (truth > 0))), "fp": int(np.sum(flagged & ~affected)),
           "fn": int(np.sum(~flagged & (truth > 0))), "clean_points": int(np.sum(~affected)), "by_kind": {}}
    for code, kind in enumerate(KINDS):
        if kind == "none":
            continue
        t = truth == code
        p = (pred == code) & flagged & scored
        out["by_kind"][kind] = {"truth": int(t.sum()), "tp": int(np.sum(t & flagged)),
                                "typed_tp": int(np.sum(t & p)), "predicted": int(p.sum())}
    return out


def add_counts(a: dict, b: dict) -> dict:
    """Sum two count dicts of the same structure (ints added, nested dicts recursively)."""
    return {k: add_counts(v, b[k]) if isinstance(v, dict) else v + b[k] for k, v in a.items()}


def point_metrics(counts: dict) -> dict:
    """Precision, recall, F1 and false-alarm rate from :func:`point_counts`; per kind, the recall
    (detected at all), the typed recall and precision (detected as that kind) and their F1.

    >>> c = point_counts(np.array([[0, 1, 1, 0]]), np.zeros((1, 4), bool), np.array([[0, 1, 0, 1]], bool),
    ...                  np.array([[0, 1, 0, 3]]))
    >>> m = point_metrics(c)
    >>> m["precision"], m["recall"], m["false_alarm_rate"]
    (0.5, 0.5, 0.5)
    """
    m = {**_prf(counts["tp"], counts["fp"], counts["fn"]),
         "false_alarm_rate": counts["fp"] / counts["clean_points"] if counts["clean_points"] else float("nan"),
         **{k: counts[k] for k in ("tp", "fp", "fn", "clean_points")}, "by_kind": {}}
    for kind, c in counts["by_kind"].items():
        typed = _prf(c["typed_tp"], c["predicted"] - c["typed_tp"], c["truth"] - c["typed_tp"])
        m["by_kind"][kind] = {"recall": c["tp"] / c["truth"] if c["truth"] else float("nan"),
                              "typed_precision": typed["precision"], "typed_recall": typed["recall"],
                              "typed_f1": typed["f1"], **c}
    return m


CONFUSION_ROWS: tuple[str, ...] = (*EVENT_KINDS, "none")
CONFUSION_COLS: tuple[str, ...] = (*EVENT_KINDS, "other", "none")


def event_counts(events: Sequence[InjectedEvent], detection: Detection) -> dict:
    """Event-level counts, to be summed over runs, then :func:`event_metrics`.

    An injected event is detected when a detected event overlaps its cells during its steps; its
    predicted kind is the kind of the detected steps on its cells (the most common). A detected
    event is correct when it overlaps the cells an injected event declares or disturbs, during that
    event. ``confusion[truth][predicted]``: rows = injected kinds and ``none`` (false alarms),
    columns = predicted kinds, ``other`` and ``none`` (missed events).
    """
    confusion = {r: {c: 0 for c in CONFUSION_COLS} for r in CONFUSION_ROWS}
    by_kind = {k: {"injected": 0, "detected": 0, "typed": 0, "predicted": 0, "predicted_correct": 0}
               for k in (*EVENT_KINDS, "other")}
    pred = detection.predicted_kind
    for e in events:
        seg = pred[list(e.cells), e.start_step:e.stop_step].ravel()
        seg = seg[seg > 0]
        by_kind[e.kind]["injected"] += 1
        if seg.size == 0:
            confusion[e.kind]["none"] += 1
            continue
        got = KINDS[int(np.bincount(seg, minlength=len(KINDS)).argmax())]
        by_kind[e.kind]["detected"] += 1
        by_kind[e.kind]["typed"] += int(got == e.kind)
        confusion[e.kind][got] += 1
    n_correct = 0
    for d in detection.events:
        match = [e for e in events if (d.cell in e.cells or d.cell in e.disturbed_cells)
                 and d.start_step < e.stop_step and e.start_step < d.stop_step]
        by_kind[d.kind]["predicted"] += 1
        if match:
            n_correct += 1
            by_kind[d.kind]["predicted_correct"] += int(any(e.kind == d.kind for e in match))
        else:
            confusion["none"][d.kind] += 1
    return {"injected": len(events), "detected_injected": sum(v["detected"] for v in by_kind.values()),
            "detections": len(detection.events), "correct_detections": n_correct, "by_kind": by_kind,
            "confusion": confusion}


def event_metrics(counts: dict) -> dict:
    """Event-level precision (correct detections / detections), recall (detected injected events /
    injected events) and F1, per kind (recall of each injected kind, typed recall = detected as that
    kind; precision of each predicted kind), and the confusion matrix.

    >>> ev = [InjectedEvent("outage", (0,), (), 1, 3, 0.8)]
    >>> flagged = np.array([[0, 1, 1, 0, 0, 0], [0, 0, 0, 0, 1, 1]], bool)
    >>> pred = np.where(flagged, 1, 0).astype(np.int8)
    >>> det = Detection({}, {}, np.zeros((2, 6)), flagged, pred,
    ...                 (DetectedEvent(0, 1, 3, "outage", 9.0, {}), DetectedEvent(1, 4, 6, "outage", 9.0, {})))
    >>> m = event_metrics(event_counts(ev, det))
    >>> m["precision"], m["recall"], m["confusion"]["none"]["outage"]
    (0.5, 1.0, 1)
    """
    fp = counts["detections"] - counts["correct_detections"]
    fn = counts["injected"] - counts["detected_injected"]
    prf = _prf(counts["correct_detections"], fp, fn)
    # the recall's numerator counts injected events, the precision's counts detections: F1 from both
    p, r = prf["precision"], (counts["detected_injected"] / counts["injected"] if counts["injected"] else float("nan"))
    f1 = 2 * p * r / (p + r) if (p + r) > 0 else (0.0 if np.isfinite(p) and np.isfinite(r) else float("nan"))
    m = {"precision": p, "recall": r, "f1": f1, **{k: counts[k] for k in ("injected", "detected_injected",
                                                                           "detections", "correct_detections")},
         "by_kind": {}, "confusion": counts["confusion"]}
    for kind, c in counts["by_kind"].items():
        m["by_kind"][kind] = {
            "recall": c["detected"] / c["injected"] if c["injected"] else float("nan"),
            "typed_recall": c["typed"] / c["injected"] if c["injected"] else float("nan"),
            "typed_precision": c["predicted_correct"] / c["predicted"] if c["predicted"] else float("nan"), **c}
    return m


__all__ = [
    "CONFUSION_COLS", "CONFUSION_ROWS", "EVENT_KINDS", "KINDS", "KPI_NAMES", "SCALE_FLOORS", "AnomalyInputError",
    "Baseline", "CellRadio", "DetectedEvent", "Detection", "DetectorConfig", "InjectedEvent", "Injection",
    "InjectionPlan", "KpiSeries", "add_counts", "adjacency_from_positions", "apply_event", "check_adjacency",
    "classify_signature", "clean_runs", "combined_score", "detect", "event_counts", "event_metrics",
    "fit_baseline", "hour_of_day", "inject_events", "kpis_from_load", "mean_sinr_db", "point_counts",
    "point_metrics", "robust_z", "time_of_week_slot",
]
