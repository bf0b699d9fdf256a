"""The flow-level (snapshot) network model shared by ``cellscape energy`` and :class:`NetworkEnv`.

A network is reduced to ``n_points`` demand points, each standing for ``point_weight`` users at one
pixel of the coverage engine's per-sector maps (:func:`cellscape.coverage.engine.sector_maps`). For
a network state (which sectors are awake, their power offset and electrical tilt) and the traffic
each point offers, :func:`evaluate` gives the association, SINR, coverage, served rate and the PRB
load of every sector.

Model, step by step (all per point ``p`` and sector ``s``):

1. RSRP. ``rsrp[s, p] = base[s, p] + G_s(tilt_s)[p] + power_offset_db[s]`` where ``base`` is the
   map's RSRP without the BS antenna gain (``rsrp_map - G_s(default tilt)``) and ``G_s`` the sector
   gain of :func:`cellscape.antenna.sector.sector_gain_dbi` towards the point (TR 38.901 7.1, 7.3,
   Table 7.3-1). The gains are tabulated once per sector at the default electrical tilt plus
   ``tilt_offsets_deg``; between two entries the linear gain is interpolated linearly in tilt
   (exact at the entries).
   A power offset scales every RE, reference signals included, so it shifts RSRP as well.
2. Association: each point is served by its awake sector of highest RSRP (best server); -1 when
   no sector is awake.
3. Load coupling. Interference at ``p`` is the sum over the other awake sectors of their received
   power weighted by their PRB load ``rho_s`` (the probability that a PRB of ``s`` is busy):
   ``SINR_p = S_p / (sum_{s != serving} rho_s P_sp + N)``. The full-allocation rate of ``p``
   is the TS 38.306 rate of its CQI efficiency (:func:`cellscape.radio.throughput.spectral_efficiency_bps_hz`,
   :func:`cellscape.radio.throughput.data_rate_bps`), and the load of ``s`` is the PRB share its
   points need, ``rho_s = min(1, sum_{p in s} offered_p / rate_p)`` (points whose RSRP is below
   the threshold need none; points above it with a SINR below the lowest CQI are charged the
   lowest CQI's rate, see :func:`evaluate`). This is the load-coupling model of Siomina and
   Yuan [1]_ (also Mogensen et al. [2]_ for the load-weighted interference); the map ``rho -> f(rho)`` is
   monotone, so iterating from ``rho = 1`` gives non-increasing loads that converge to the largest
   fixed point. ``n_iter`` iterations are run (stop early when the change is below ``tol``).
4. Sharing. A sector's PRBs are shared in proportion to the demand: with ``demand_load_s =
   sum offered / rate`` above 1 every point of ``s`` gets the same fraction ``1 / demand_load_s``
   of its offered traffic, so ``rate_bps = offered_bps * min(1, 1 / demand_load_s)``. The rate one
   user of the point experiences while a flow is active is the processor-sharing flow-level
   throughput ``user_rate_bps = rate_full_bps * max(0, 1 - demand_load_s)`` (Bonald and
   Proutiere [3]_), 0 in an overloaded sector.
5. Coverage: ``covered`` = RSRP of the serving sector >= ``rsrp_threshold_dbm`` and SINR >= the
   lowest CQI's SINR threshold (:func:`cellscape.radio.throughput.cqi_sinr_thresholds_db`).

Arrays put sectors first, ``(n_sectors, n_points)`` (STYLE P4). Powers in dBm, gains in dBi,
angles in degrees; ``tilt_deg`` is the **electrical** downtilt (positive down), the remote
electrical tilt an operator can change; the mechanical tilt stays the scenario's.

References
----------
.. [1] I. Siomina and D. Yuan, "Analysis of cell load coupling for LTE network planning and
   optimization," IEEE Trans. Wireless Commun., vol. 11, no. 6, pp. 2287-2297, 2012.
.. [2] P. Mogensen et al., "LTE capacity compared to the Shannon bound," IEEE VTC Spring 2007.
.. [3] T. Bonald and A. Proutiere, "Wireless downlink data channels: user performance and cell
   dimensioning," ACM MobiCom 2003.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numba
import numpy as np

from cellscape.antenna.sector import sector_gain_dbi
from cellscape.errors import GeometryError, OutOfValidityRangeError
from cellscape.radio.link_budget import tx_power_per_re_dbm
from cellscape.radio.throughput import cqi_sinr_thresholds_db, data_rate_bps, spectral_efficiency_bps_hz
from cellscape.scenario.records import AntennaSpec

DEFAULT_TILT_OFFSETS_DEG = tuple(float(x) for x in range(-6, 7))
"""Electrical tilts tabulated around each sector's default: -6 to +6 deg in 1 deg steps [deg]."""

RSRP_THRESHOLD_DBM = -120.0
"""Default coverage threshold on the serving RSRP per RE (the lowest of the scenario defaults) [dBm]."""

MAX_POWER_REDUCTION_DB = 30.0
"""Largest power reduction a state may ask for, ``power_offset_db`` in [-30, 0] [dB]."""


@dataclass(frozen=True, eq=False)
class FlowNetwork:
    """The demand points of a network and what :func:`evaluate` needs to recompute their links.

    Shapes: S = ``n_sectors``, P = ``n_points``, T = ``len(tilt_offsets_deg)``.

    ``point_weight``: (P,) users each point stands for; ``point_xy_m``: (P, 2) positions [m];
    ``base_rsrp_dbm``: (S, P) RSRP per RE at the scenario's power *without* the BS antenna gain
    [dBm]; ``theta_gcs_deg``/``phi_gcs_deg``: (S, P) GCS zenith and azimuth from each sector's
    antenna to each point [deg]; ``default_gain_dbi``: (S, P) sector gain at the default tilts [dBi];
    ``gain_table_dbi``: (S, T, P) sector gain at electrical tilt ``default_elec_tilt_deg[s] +
    tilt_offsets_deg[k]`` [dBi]; ``tx_power_dbm``: (S,) scenario transmit power per sector [dBm];
    ``noise_per_re_dbm``: thermal noise per RE plus the UE noise figure [dBm];
    ``sector_site``: (S,) site index; ``sector_xy_m``: (S, 2) [m].
    """

    n_sectors: int
    n_points: int
    point_weight: np.ndarray
    point_xy_m: np.ndarray
    base_rsrp_dbm: np.ndarray
    theta_gcs_deg: np.ndarray
    phi_gcs_deg: np.ndarray
    default_gain_dbi: np.ndarray
    default_elec_tilt_deg: np.ndarray
    tilt_offsets_deg: np.ndarray
    gain_table_dbi: np.ndarray
    tx_power_dbm: np.ndarray
    noise_per_re_dbm: float
    n_prb: int
    scs_khz: float
    sector_site: np.ndarray
    sector_xy_m: np.ndarray
    rsrp_threshold_dbm: float = RSRP_THRESHOLD_DBM
    layers: int = 1
    cqi_table: int = 1
    meta: dict = field(default_factory=dict)
    base_rsrp_mw: np.ndarray = field(init=False, repr=False)
    gain_table_lin: np.ndarray = field(init=False, repr=False)
    rate_per_efficiency_bps: float = field(init=False, repr=False)

    def __post_init__(self):
        # linear copies for the kernels (derived, not parameters)
        object.__setattr__(self, "base_rsrp_mw", np.ascontiguousarray(10.0 ** (self.base_rsrp_dbm / 10.0)))
        object.__setattr__(self, "gain_table_lin", np.ascontiguousarray(10.0 ** (self.gain_table_dbi / 10.0)))
        # TS 38.306 rate of the whole carrier per bit/s/Hz of efficiency [bit/s per bit/s/Hz]
        object.__setattr__(self, "rate_per_efficiency_bps",
                           float(data_rate_bps(1.0, self.n_prb, self.scs_khz, layers=self.layers)))

    @property
    def tilt_min_deg(self) -> np.ndarray:
        """(S,) lowest electrical tilt of each sector's gain table [deg]."""
        return self.default_elec_tilt_deg + self.tilt_offsets_deg[0]

    @property
    def tilt_max_deg(self) -> np.ndarray:
        """(S,) highest electrical tilt of each sector's gain table [deg]."""
        return self.default_elec_tilt_deg + self.tilt_offsets_deg[-1]


@dataclass(frozen=True, eq=False)
class FlowState:
    """What a controller sets per sector.

    ``awake``: (S,) bool, False = the sector sleeps (transmits nothing, serves nobody);
    ``power_offset_db``: (S,) in [-30, 0], relative to the scenario's transmit power [dB];
    ``tilt_deg``: (S,) **electrical** downtilt, positive down, within the network's tilt table
    (``net.tilt_min_deg`` to ``net.tilt_max_deg``) [deg].
    """

    awake: np.ndarray
    power_offset_db: np.ndarray
    tilt_deg: np.ndarray

    @classmethod
    def default(cls, net: FlowNetwork) -> "FlowState":
        """Every sector awake at the scenario's power and tilt."""
        return cls(awake=np.ones(net.n_sectors, dtype=bool), power_offset_db=np.zeros(net.n_sectors),
                   tilt_deg=np.asarray(net.default_elec_tilt_deg, dtype=float).copy())


@dataclass(frozen=True, eq=False)
class FlowResult:
    """The network's answer to a state and an offered traffic (see the module docstring).

    ``serving``: (P,) int, -1 if no sector is awake; ``rsrp_dbm``: (P,) serving RSRP [dBm];
    ``sinr_db``: (P,) [dB] (-inf without a server); ``rate_full_bps``: (P,) rate at all PRBs
    [bit/s]; ``rate_bps``: (P,) served traffic, ``offered * min(1, 1 / demand_load)`` of the
    serving sector, 0 when not covered [bit/s]; ``user_rate_bps``: (P,) processor-sharing rate
    of one active user [bit/s]; ``covered``: (P,) bool; ``sector_load``: (S,) PRB utilisation in
    [0, 1]; ``demand_load``: (S,) unclipped PRB demand (> 1: overloaded); ``sector_users``: (S,)
    demand weight served (covered points); ``sector_throughput_bps``: (S,) served traffic [bit/s];
    ``n_iter``: load iterations run; ``load_history``: (n_iter + 1, S) loads from the start.
    """

    serving: np.ndarray
    rsrp_dbm: np.ndarray
    sinr_db: np.ndarray
    rate_full_bps: np.ndarray
    rate_bps: np.ndarray
    user_rate_bps: np.ndarray
    covered: np.ndarray
    sector_load: np.ndarray
    demand_load: np.ndarray
    sector_users: np.ndarray
    sector_throughput_bps: np.ndarray
    n_iter: int
    load_history: np.ndarray


def _gcs_angles_deg(sector_xy_m, sector_height_m, point_xy_m, h_ut_m):
    """(S, P) GCS zenith (90 = horizon, > 90 below) and azimuth (ccw from east) from each sector."""
    dx = point_xy_m[None, :, 0] - sector_xy_m[:, None, 0]
    dy = point_xy_m[None, :, 1] - sector_xy_m[:, None, 1]
    dz = h_ut_m - np.asarray(sector_height_m, dtype=float)[:, None]
    theta = np.degrees(np.arctan2(np.hypot(dx, dy), dz))        # as the engine's zenith table
    phi = np.degrees(np.arctan2(dy, dx))
    return theta, phi


def build_flow_network(*, sector_xy_m, sector_height_m, azimuth_deg, point_xy_m, point_weight, rsrp_dbm,
                       tx_power_dbm, noise_per_re_dbm: float, n_prb: int, scs_khz: float,
                       antennas: Sequence[AntennaSpec] | None = None, mech_tilt_deg=None, elec_tilt_deg=None,
                       sector_site=None, h_ut_m: float = 1.5, tilt_offsets_deg=DEFAULT_TILT_OFFSETS_DEG,
                       rsrp_threshold_dbm: float = RSRP_THRESHOLD_DBM, layers: int = 1, cqi_table: int = 1,
                       meta: dict | None = None) -> FlowNetwork:
    """A :class:`FlowNetwork` from geometry and the default-state RSRP of each sector at each point.

    ``rsrp_dbm``: (S, P) RSRP per RE with every sector at its default power and tilt, BS antenna
    gain included [dBm] (a map's value, or a hand-built link budget in tests). The sector gains
    are computed here with :func:`~cellscape.antenna.sector.sector_gain_dbi` at the default tilt
    and at every tabulated tilt; ``antennas``/``mech_tilt_deg``/``elec_tilt_deg`` default to
    :class:`AntennaSpec()` and 0 deg.
    """
    sector_xy_m = np.asarray(sector_xy_m, dtype=float).reshape(-1, 2)
    n_sec = sector_xy_m.shape[0]
    point_xy_m = np.asarray(point_xy_m, dtype=float).reshape(-1, 2)
    n_pts = point_xy_m.shape[0]
    rsrp = np.asarray(rsrp_dbm, dtype=float)
    if rsrp.shape != (n_sec, n_pts):
        raise GeometryError(f"rsrp_dbm has shape {rsrp.shape}, expected (n_sectors, n_points) = {(n_sec, n_pts)}")
    if n_sec < 1 or n_pts < 1:
        raise GeometryError(f"a flow network needs at least one sector and one point, got {n_sec} and {n_pts}")
    weight = np.asarray(point_weight, dtype=float).reshape(n_pts)
    if np.any(~np.isfinite(weight)) or np.any(weight < 0):
        raise OutOfValidityRangeError("point_weight must be finite and >= 0")
    azimuth = np.broadcast_to(np.asarray(azimuth_deg, dtype=float), (n_sec,))
    height = np.broadcast_to(np.asarray(sector_height_m, dtype=float), (n_sec,))
    mech = np.broadcast_to(np.asarray(0.0 if mech_tilt_deg is None else mech_tilt_deg, dtype=float), (n_sec,))
    elec = np.broadcast_to(np.asarray(0.0 if elec_tilt_deg is None else elec_tilt_deg, dtype=float), (n_sec,)).copy()
    antennas = [AntennaSpec()] * n_sec if antennas is None else list(antennas)
    if len(antennas) != n_sec:
        raise GeometryError(f"{len(antennas)} antennas for {n_sec} sectors")
    offsets = np.asarray(tilt_offsets_deg, dtype=float)
    if offsets.ndim != 1 or offsets.size < 2 or np.any(np.diff(offsets) <= 0) or 0.0 not in offsets:
        raise OutOfValidityRangeError(f"tilt_offsets_deg must increase, hold 0 and at least 2 values, got {offsets}")
    if np.any(elec + offsets[0] < -90.0) or np.any(elec + offsets[-1] > 90.0):
        raise OutOfValidityRangeError("default electrical tilt + tilt_offsets_deg must stay within [-90, 90] deg")
    theta, phi = _gcs_angles_deg(sector_xy_m, height, point_xy_m, h_ut_m)
    table = np.empty((n_sec, offsets.size, n_pts), dtype=np.float64)
    for s in range(n_sec):
        for k, off in enumerate(offsets):
            table[s, k] = sector_gain_dbi(theta[s], phi[s], azimuth_deg=float(azimuth[s]), mech_tilt_deg=float(mech[s]),
                                          elec_tilt_deg=float(elec[s] + off), antenna=antennas[s])
    default_gain = table[:, int(np.flatnonzero(offsets == 0.0)[0])].copy()
    return FlowNetwork(
        n_sectors=n_sec, n_points=n_pts, point_weight=weight, point_xy_m=point_xy_m,
        base_rsrp_dbm=rsrp - default_gain, theta_gcs_deg=theta, phi_gcs_deg=phi, default_gain_dbi=default_gain,
        default_elec_tilt_deg=elec, tilt_offsets_deg=offsets, gain_table_dbi=table,
        tx_power_dbm=np.broadcast_to(np.asarray(tx_power_dbm, dtype=float), (n_sec,)).copy(),
        noise_per_re_dbm=float(noise_per_re_dbm), n_prb=int(n_prb), scs_khz=float(scs_khz),
        sector_site=np.arange(n_sec) if sector_site is None else np.asarray(sector_site, dtype=np.int64),
        sector_xy_m=sector_xy_m, rsrp_threshold_dbm=float(rsrp_threshold_dbm), layers=int(layers),
        cqi_table=int(cqi_table), meta=dict(meta or {}))


def sample_demand_pixels(weights, n_points: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n_points`` pixels (with replacement) with probability proportional to ``weights``
    (users per pixel, (n_rows, n_cols)); returns (row, col) arrays sorted by flat index."""
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2:
        raise GeometryError(f"weights must be a (n_rows, n_cols) raster, got shape {w.shape}")
    flat = np.where(np.isfinite(w) & (w > 0), w, 0.0).ravel()
    total = flat.sum()
    if not total > 0:
        raise OutOfValidityRangeError("weights (users per pixel) sum to 0: no demand to sample points from")
    if isinstance(n_points, bool) or int(n_points) != n_points or n_points < 1:
        raise OutOfValidityRangeError(f"n_points={n_points!r} must be an integer >= 1")
    idx = np.sort(rng.choice(flat.size, size=int(n_points), replace=True, p=flat / total))
    return np.unravel_index(idx, w.shape)


def flow_network_from_maps(maps, site_xy_m, weights, *, n_points: int, rng: np.random.Generator, scenario=None,
                           h_ut_m: float | None = None, scs_khz: float | None = None,
                           tilt_offsets_deg=DEFAULT_TILT_OFFSETS_DEG,
                           rsrp_threshold_dbm: float | None = None) -> FlowNetwork:
    """Sample demand points from the pixels of per-sector maps and keep their per-sector RSRP.

    ``maps``: :class:`cellscape.coverage.engine.SectorMaps`; ``site_xy_m``: (n_sites, 2) site
    positions in ``maps.grid.crs`` [m] (as given to the engine); ``weights``: (n_rows, n_cols)
    users per pixel. Points are drawn with replacement with probability proportional to the weight
    and each stands for ``weights.sum() / n_points`` users, at its pixel centre (the maps' RSRP).

    ``scenario`` (the :class:`~cellscape.scenario.records.Scenario` the maps were computed from)
    supplies each sector's antenna, mechanical and electrical tilt and transmit power, the
    receiver height, the subcarrier spacing and the coverage threshold (its lowest
    ``rsrp_thresholds_dbm``). Without it: the default :class:`AntennaSpec`, 0 deg tilts, the power
    implied by ``maps.tx_power_per_re_dbm``, ``h_ut_m`` 1.5 m, ``scs_khz`` 30 kHz and -120 dBm;
    explicit ``h_ut_m``/``scs_khz``/``rsrp_threshold_dbm`` override either.
    """
    w = np.asarray(weights, dtype=float)
    if w.shape != maps.grid.shape:
        raise GeometryError(f"weights have shape {w.shape}, the maps' grid {maps.grid.shape}")
    rows, cols = sample_demand_pixels(w, n_points, rng)
    g = maps.grid
    px = g.x_min_m + (cols + 0.5) * g.resolution_m
    py = g.y_max_m - (rows + 0.5) * g.resolution_m
    rsrp = np.asarray(maps.rsrp_dbm[:, rows, cols], dtype=float)
    site_xy = np.asarray(site_xy_m, dtype=float).reshape(-1, 2)
    sector_site = np.asarray(maps.sector_site, dtype=np.int64)
    sec_xy = site_xy[sector_site]
    antennas = mech = elec = None
    if scenario is not None:
        secs = [sec for site in scenario.sites for sec in site.sectors]
        if len(secs) != maps.n_sectors:
            raise GeometryError(f"the scenario has {len(secs)} sectors, the maps {maps.n_sectors}")
        antennas = [s.antenna for s in secs]
        mech = [s.mech_tilt_deg for s in secs]
        elec = [s.elec_tilt_deg for s in secs]
        tx = np.array([s.tx_power_dbm for s in secs], dtype=float)
        h_ut = scenario.receiver.height_m if h_ut_m is None else h_ut_m
        scs = scenario.carrier.scs_khz if scs_khz is None else scs_khz
        thr = min(scenario.rsrp_thresholds_dbm) if rsrp_threshold_dbm is None else rsrp_threshold_dbm
        rx_gain = scenario.receiver.antenna_gain_dbi
    else:
        rx_gain = 0.0
        tx = np.asarray(maps.tx_power_per_re_dbm, dtype=float) - np.asarray(tx_power_per_re_dbm(0.0, maps.n_prb))
        h_ut = 1.5 if h_ut_m is None else h_ut_m
        scs = 30.0 if scs_khz is None else scs_khz
        thr = RSRP_THRESHOLD_DBM if rsrp_threshold_dbm is None else rsrp_threshold_dbm
    meta = {"source": "sector_maps", "n_points": int(n_points), "users": float(w[np.isfinite(w)].sum()),
            "pixel_m": float(g.resolution_m), "rx_antenna_gain_dbi": float(rx_gain)}
    return build_flow_network(
        sector_xy_m=sec_xy, sector_height_m=maps.sectors.height_m, azimuth_deg=maps.sectors.azimuth_deg,
        point_xy_m=np.column_stack([px, py]), point_weight=np.full(int(n_points), w[np.isfinite(w) & (w > 0)].sum()
                                                                   / n_points),
        rsrp_dbm=rsrp, tx_power_dbm=tx, noise_per_re_dbm=maps.noise_per_re_dbm, n_prb=maps.n_prb, scs_khz=scs,
        antennas=antennas, mech_tilt_deg=mech, elec_tilt_deg=elec, sector_site=sector_site, h_ut_m=h_ut,
        tilt_offsets_deg=tilt_offsets_deg, rsrp_threshold_dbm=thr, meta=meta)


def _tilt_index(net: FlowNetwork, tilt_deg) -> tuple[np.ndarray, np.ndarray]:
    """Table entry k (S,) and fraction (S,) of the way to entry k + 1 of each sector's tilt."""
    tilt = np.asarray(tilt_deg, dtype=float).reshape(net.n_sectors)
    rel = tilt - net.default_elec_tilt_deg
    off = net.tilt_offsets_deg
    if not (rel.min() >= off[0] - 1e-9 and rel.max() <= off[-1] + 1e-9):   # NaN fails too
        ok = (rel >= off[0] - 1e-9) & (rel <= off[-1] + 1e-9)
        bad = int(np.flatnonzero(~ok)[0])
        raise OutOfValidityRangeError(
            f"tilt_deg[{bad}]={tilt[bad]:g} is outside the sector's tilt table "
            f"[{net.tilt_min_deg[bad]:g}, {net.tilt_max_deg[bad]:g}] deg (default electrical tilt + tilt_offsets_deg)")
    rel = np.clip(rel, off[0], off[-1])
    k = np.clip(np.searchsorted(off, rel, side="right") - 1, 0, off.size - 2)
    frac = (rel - off[k]) / (off[k + 1] - off[k])
    return k.astype(np.int64), frac


def gain_at_tilt_dbi(net: FlowNetwork, tilt_deg) -> np.ndarray:
    """(S, P) sector gains at electrical tilts ``tilt_deg`` (S,) [dBi].

    Exact (:func:`~cellscape.antenna.sector.sector_gain_dbi`) at the table's tilts; between two
    entries the *linear* gain is interpolated linearly in tilt (what :func:`evaluate` uses).
    Raises :class:`OutOfValidityRangeError` for a tilt outside a sector's table.
    """
    k, frac = _tilt_index(net, tilt_deg)
    s = np.arange(net.n_sectors)
    g0 = net.gain_table_lin[s, k]
    g1 = net.gain_table_lin[s, k + 1]
    return 10.0 * np.log10(g0 + frac[:, None] * (g1 - g0))


def _power_offset(net: FlowNetwork, power_offset_db) -> np.ndarray:
    p_off = np.asarray(power_offset_db, dtype=float).reshape(net.n_sectors)
    if not (p_off.max() <= 0 and p_off.min() >= -MAX_POWER_REDUCTION_DB):   # NaN fails too
        raise OutOfValidityRangeError(f"power_offset_db must lie in [-{MAX_POWER_REDUCTION_DB:g}, 0] dB, "
                                      f"got {p_off.min():g} to {p_off.max():g}")
    return p_off


def received_power_dbm(net: FlowNetwork, state: FlowState) -> np.ndarray:
    """(S, P) RSRP per RE of every sector at every point in ``state`` (sleeping sectors included,
    as if awake) [dBm]."""
    p_off = _power_offset(net, state.power_offset_db)
    return net.base_rsrp_dbm + gain_at_tilt_dbi(net, state.tilt_deg) + p_off[:, None]


@numba.njit(cache=True)
def _links_kernel(base_mw, gain_lin, k, frac, p_lin, awake, rx_mw, serving, signal):  # pragma: no cover (numba)
    """rx_mw[s, p] = base * gain(tilt) * power of awake sectors (0 asleep); best server and its power."""
    n_sec, _, n_pts = gain_lin.shape
    for p in range(n_pts):
        serving[p] = -1
        signal[p] = 0.0
    for s in range(n_sec):
        if not awake[s]:
            for p in range(n_pts):
                rx_mw[s, p] = 0.0
            continue
        ks, f, ps = k[s], frac[s], p_lin[s]
        for p in range(n_pts):
            g = gain_lin[s, ks, p]
            if f != 0.0:
                g = g + f * (gain_lin[s, ks + 1, p] - g)
            v = base_mw[s, p] * g * ps
            rx_mw[s, p] = v
            if v > signal[p]:
                signal[p] = v
                serving[p] = s


@numba.njit(cache=True)
def _load_kernel(rx_mw, serving, signal, awake, noise_mw, offered, rsrp_ok, thr_lin, thr_db, eff_lookup, rate_per_eff,
                 load0, n_iter, tol, history, sinr_db, rate_full, demand):  # pragma: no cover (numba)
    """The load-coupling fixed point (module docstring, step 3); returns the iterations run."""
    n_sec, n_pts = rx_mw.shape
    n_thr = thr_lin.size
    rate_min = eff_lookup[1] * rate_per_eff
    load = load0.copy()
    history[0, :] = load
    interf = np.empty(n_pts)
    total = np.zeros(n_pts)                     # sum over sectors of applied[s] * rx_mw[s, p]
    applied = np.zeros(n_sec)
    it = 0
    while it < n_iter:
        it += 1
        for s in range(n_sec):                  # update the sum with the sectors whose load moved
            d = load[s] - applied[s]
            if d == 0.0:
                continue
            applied[s] = load[s]
            for p in range(n_pts):
                total[p] += d * rx_mw[s, p]
        for p in range(n_pts):                  # less the server's own power
            if serving[p] >= 0:
                interf[p] = max(total[p] - load[serving[p]] * signal[p], 0.0)
        for s in range(n_sec):
            demand[s] = 0.0
        for p in range(n_pts):
            if serving[p] < 0:
                sinr_db[p] = 0.0
                rate_full[p] = 0.0
                continue
            x = signal[p] / (interf[p] + noise_mw)
            sinr_db[p] = x                          # linear here, dB after the loop
            c = 0                                   # CQI: number of thresholds <= SINR
            while c < n_thr and x >= thr_lin[c]:
                c += 1
            r = eff_lookup[c] * rate_per_eff if rsrp_ok[p] else 0.0
            rate_full[p] = r
            if rsrp_ok[p]:
                demand[serving[p]] += offered[p] / max(r, rate_min)
        change = 0.0
        for s in range(n_sec):
            new = min(demand[s], 1.0) if awake[s] else 0.0
            change = max(change, abs(new - load[s]))
            load[s] = new
        history[it, :] = load
        if change <= tol:
            break
    # the reported SINR in dB and the rates from the dB thresholds (the project's CQI mapping, as
    # cqi_lookup tabulates it); the loop above compared the linear SINR with the same thresholds,
    # which can differ from this only within a rounding error of a threshold
    for p in range(n_pts):
        if serving[p] < 0:
            sinr_db[p] = -np.inf
            rate_full[p] = 0.0
            continue
        x = 10.0 * np.log10(sinr_db[p])
        sinr_db[p] = x
        c = 0
        while c < n_thr and x >= thr_db[c]:
            c += 1
        rate_full[p] = eff_lookup[c] * rate_per_eff if rsrp_ok[p] else 0.0
    return it


def cqi_lookup(cqi_table: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The CQI mapping of :func:`cellscape.radio.throughput.spectral_efficiency_bps_hz` as two
    tables for the kernels: the SINR thresholds (15,) [dB] and the efficiency of CQI 0..15 (16,)
    [bit/s/Hz] (CQI = number of thresholds <= SINR; tested equal to the function)."""
    thr = cqi_sinr_thresholds_db(table=cqi_table)
    eff = np.concatenate([[0.0], spectral_efficiency_bps_hz(thr, table=cqi_table)])
    return thr, eff


def evaluate(net: FlowNetwork, state: FlowState, offered_bps, *, n_iter: int = 20, tol: float = 1e-4,
             initial_load=None) -> FlowResult:
    """Association, SINR, coverage, rates and loads of ``net`` in ``state`` (module docstring).

    ``offered_bps``: (P,) traffic each demand point offers in the interval [bit/s].
    ``initial_load``: (S,) start of the load iteration in [0, 1] (default 1 for awake sectors:
    the iterates then never increase); ``n_iter``: at most this many iterations, stopping once no
    load moves by more than ``tol``.

    Points whose serving RSRP passes the threshold but whose SINR is below the lowest CQI are
    not covered (rate 0), yet charged the PRBs of the lowest CQI's rate: the scheduler keeps
    trying them, and this keeps the load map monotone (a point that left the load when its SINR
    dropped would lower the interference that caused the drop).
    """
    offered = np.asarray(offered_bps, dtype=float).reshape(net.n_points)
    if not (np.isfinite(offered).all() and offered.min() >= 0):
        raise OutOfValidityRangeError("offered_bps must be finite and >= 0")
    if isinstance(n_iter, bool) or int(n_iter) != n_iter or n_iter < 1:
        raise OutOfValidityRangeError(f"n_iter={n_iter!r} must be an integer >= 1")
    awake = np.ascontiguousarray(np.asarray(state.awake, dtype=bool).reshape(net.n_sectors))
    p_lin = 10.0 ** (_power_offset(net, state.power_offset_db) / 10.0)
    k, frac = _tilt_index(net, state.tilt_deg)
    n_sec, n_pts = net.n_sectors, net.n_points
    rx_mw = np.empty((n_sec, n_pts))
    serving = np.empty(n_pts, dtype=np.int64)
    signal = np.empty(n_pts)
    _links_kernel(net.base_rsrp_mw, net.gain_table_lin, k, frac, p_lin, awake, rx_mw, serving, signal)
    has = serving >= 0
    srv_rsrp = np.full(n_pts, -np.inf)
    srv_rsrp[has] = 10.0 * np.log10(signal[has])
    rsrp_ok = srv_rsrp >= net.rsrp_threshold_dbm
    if initial_load is None:
        load0 = awake.astype(float)
    else:
        load0 = np.clip(np.asarray(initial_load, dtype=float).reshape(n_sec), 0.0, 1.0) * awake
    thr, eff = _CQI[net.cqi_table]
    history = np.zeros((int(n_iter) + 1, n_sec))
    sinr_db, rate_full, demand = np.empty(n_pts), np.empty(n_pts), np.empty(n_sec)
    iters = _load_kernel(rx_mw, serving, signal, awake, 10.0 ** (net.noise_per_re_dbm / 10.0), offered, rsrp_ok,
                         10.0 ** (thr / 10.0), thr, eff, net.rate_per_efficiency_bps, load0, int(n_iter), float(tol),
                         history, sinr_db, rate_full, demand)
    load = history[iters].copy()
    covered = rsrp_ok & (sinr_db >= thr[0])
    srv = np.where(has, serving, 0)
    share = 1.0 / np.maximum(demand, 1.0)
    rate = np.where(covered, offered * share[srv], 0.0)
    user_rate = np.where(covered, rate_full * np.maximum(0.0, 1.0 - demand[srv]), 0.0)
    users = np.bincount(srv, weights=np.where(covered, net.point_weight, 0.0), minlength=n_sec)
    thr_s = np.bincount(srv, weights=rate, minlength=n_sec)
    return FlowResult(serving=serving, rsrp_dbm=srv_rsrp, sinr_db=sinr_db, rate_full_bps=rate_full, rate_bps=rate,
                      user_rate_bps=user_rate, covered=covered, sector_load=load, demand_load=demand,
                      sector_users=users, sector_throughput_bps=thr_s, n_iter=int(iters),
                      load_history=history[: iters + 1].copy())


_CQI = {t: cqi_lookup(t) for t in (1, 2, 3)}

__all__ = ["DEFAULT_TILT_OFFSETS_DEG", "FlowNetwork", "FlowResult", "FlowState", "build_flow_network", "cqi_lookup",
           "evaluate", "flow_network_from_maps", "gain_at_tilt_dbi", "received_power_dbm", "sample_demand_pixels"]
