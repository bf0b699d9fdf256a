"""Massive IoT: NB-IoT coverage classes, random access and reporting, and the ITU-R M.2412
connection-density evaluation.

What is modelled (docs/simulation.md, *Massive IoT*):

1. **Coverage classes** (coverage-enhancement levels). Each pixel's coupling loss to its best
   sector, on the NB-IoT carrier's own per-sector maps (same engine, buildings, O2I and shadowing
   as the coverage map, at ``iot.fc_ghz``), puts a device in CE level 0, 1 or 2 by the thresholds
   ``ce_thresholds_db``, and out of coverage beyond ``max_coupling_loss_db`` (the 164 dB MCL
   target of TR 45.820 / TR 36.888). Real devices pick their level from NRSRP thresholds
   (TS 36.331 ``rsrp-ThresholdsPrachInfoList``); with one carrier power these are coupling-loss
   thresholds.
2. **Reports**: each device sends a ``packet_size_bytes`` report as a Poisson process of period
   ``report_period_s`` (ITU-R M.2412 mMTC traffic model: 32 bytes every 2 hours). The superposition
   over a device population is a Poisson process whose every packet comes from a device drawn
   uniformly from the population, which is how packets are drawn here (a device position per
   packet, from the drop's indoor share).
3. **Random access** (NPRACH, TS 36.211 10.1.6, TS 36.321 5.1): at each CE level's NPRACH
   opportunities (``NprachConfig``: periodicity, repetitions, subcarriers = preambles, attempts)
   a device picks one of the level's preambles at random; two or more devices on one preamble of
   one opportunity collide and all fail (no capture). A failure is known after the Msg2..Msg4
   exchange; the device backs off uniformly in [0, backoff] (TS 36.321 5.1.4) and tries at the next
   opportunity after that; after ``max_attempts`` at a level it moves to the next CE level
   (TS 36.321 5.1.1, ``maxNumPreambleAttemptCE``), and fails for good after the last level's.
4. **Data** (NPUSCH format 1, single tone at 15 kHz, TS 36.211 10.1.3): the report is sent at the
   rate of the attenuated Shannon bound of the maps (TR 36.942 A.1, one formula with the map's CQI)
   at the device's uplink SNR combined over ``R`` repetitions (ideal chase combining: SNR x R; the
   smallest R in 1..128 that reaches the bound's SINR_MIN, which maximises the rate), capped at the
   largest NPUSCH single-tone rate (TBS 1000 bits over 10 resource units of 8 ms,
   TS 36.213 Table 16.5.1.2-2). Each sector's data tones (12 minus what NPRACH occupies) serve
   reports first come, first served.
5. **Outage** (ITU-R M.2412 7.1.3, connection density): a packet is in outage when it is not
   delivered within ``latency_limit_s`` (10 s), counting devices beyond the MCL, failed random
   accesses and queueing. The connection density is the largest device density whose outage is at
   most 1 %, found by doubling then bisection (:func:`connection_density`); ITU-R M.2410 requires
   1,000,000 devices per km2.

Limits: no inter-cell interference on the IoT carrier (reports are sparse; noise-limited), no
downlink data, no NPDCCH blocking, a fixed Msg2..Msg4 exchange time of four NPDCCH search-space
periods per attempt; the Shannon-bound NPUSCH rate is optimistic at the MCL (TR 45.820 reports
a few hundred bit/s at 164 dB).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numba
import numpy as np

from cellscape.errors import ScenarioError
from cellscape.radio.link_budget import thermal_noise_dbm
from cellscape.radio.throughput import SINR_MIN_DB, attenuated_shannon_efficiency_bps_hz
from cellscape.simulation.slots import uniform01

N_CE_LEVELS = 3
OUT_OF_COVERAGE = N_CE_LEVELS
"""CE class code of a pixel (or device) beyond the maximum coupling loss."""

IMT2020_CONNECTION_DENSITY_PER_KM2 = 1_000_000.0
"""ITU-R M.2410-0 4.14: minimum connection density, devices per km2 (mMTC)."""

OUTAGE_TARGET = 0.01
"""ITU-R M.2412-0 7.1.3 step 4: the packet outage rate at which the density is read."""

NB_IOT_TONES = 12
"""Subcarriers of 15 kHz in one NB-IoT carrier of 180 kHz (TS 36.211 10.1)."""

TONE_HZ = 15_000.0
"""NPUSCH subcarrier spacing used for data here (TS 36.211 10.1.2: 3.75 or 15 kHz)."""

NPRACH_SUBCARRIER_HZ = 3_750.0
"""NPRACH subcarrier spacing (TS 36.211 10.1.6)."""

PREAMBLE_S = 4 * (66.67e-6 + 5 * 266.67e-6)
"""One NPRACH preamble repetition, format 0: four symbol groups of a 66.7 us CP and five 266.7 us
symbols (TS 36.211 Table 10.1.6.1-1) = 5.6 ms."""

NPUSCH_MAX_RATE_BPS = 1000.0 / (10 * 8e-3)
"""Largest single-tone NPUSCH rate: TBS 1000 bits (TS 36.213 Table 16.5.1.2-2, Rel-13) over 10
resource units of 8 ms each (one tone at 15 kHz, TS 36.211 Table 10.1.2.3-1) = 12.5 kbit/s."""

MAX_REPETITIONS = 128
"""Largest NPUSCH repetition number (TS 36.213 16.5.1.1: 1, 2, 4, ..., 128)."""


MAX_SEARCH_PACKETS = 4_000_000
"""The connection-density search stops at the density that offers this many packets in one
evaluation (bounded time and memory); its result then reads 'at least'."""


@dataclass(frozen=True)
class NprachConfig:
    """The random-access resource of one CE level (TS 36.331 ``NPRACH-ConfigSIB-NB``):
    ``periodicity_s`` (40 ms .. 2.56 s), ``repetitions`` per attempt (1..128), ``n_subcarriers``
    (preambles: 12, 24, 36 or 48), ``max_attempts`` at this level (``maxNumPreambleAttemptCE``,
    3..10) and ``npdcch_period_s``, the search-space period G x Rmax (TS 36.213 16.6) that paces
    the Msg2..Msg4 exchange."""

    periodicity_s: float
    repetitions: int
    n_subcarriers: int
    max_attempts: int
    npdcch_period_s: float

    @property
    def exchange_s(self) -> float:
        """Time from the start of an attempt to knowing its outcome: the preamble's repetitions and
        four NPDCCH periods (Msg2 grant and NPDSCH, Msg3, Msg4) [s]."""
        return self.repetitions * PREAMBLE_S + 4.0 * self.npdcch_period_s

    @property
    def uplink_share(self) -> float:
        """Share of the 180 kHz uplink that this level's NPRACH occupies (bandwidth x airtime)."""
        return (self.n_subcarriers * NPRACH_SUBCARRIER_HZ / (NB_IOT_TONES * TONE_HZ)
                * self.repetitions * PREAMBLE_S / self.periodicity_s)


NPRACH_DEFAULT: tuple[NprachConfig, ...] = (
    NprachConfig(periodicity_s=0.08, repetitions=2, n_subcarriers=24, max_attempts=5, npdcch_period_s=0.016),
    NprachConfig(periodicity_s=0.16, repetitions=8, n_subcarriers=12, max_attempts=5, npdcch_period_s=0.128),
    NprachConfig(periodicity_s=0.64, repetitions=32, n_subcarriers=12, max_attempts=5, npdcch_period_s=0.768),
)
"""A common three-level configuration within the ranges of TS 36.331: CE0 every 80 ms, 2
repetitions, 24 preambles, Rmax 8 (G 2); CE1 160 ms, 8, 12, Rmax 64 (G 2); CE2 640 ms, 32, 12,
Rmax 512 (G 1.5). An assumption of this model, not a 3GPP evaluation value."""

BACKOFF_S = 0.256
"""Backoff parameter of the random-access response (TS 36.321 Table 7.2-1, NB-IoT: 256 ms)."""


def ce_level(coupling_loss_db, ce_thresholds_db=(144.0, 154.0), max_coupling_loss_db=164.0) -> np.ndarray:
    """
    Coverage-enhancement level of devices by their coupling loss.

    Parameters
    ----------
    coupling_loss_db : array_like
        Coupling loss to the best sector, antenna gains included. NaN is out of coverage. [dB]
    ce_thresholds_db : (float, float)
        Upper edges of CE0 and CE1, increasing. [dB]
    max_coupling_loss_db : float
        Maximum coupling loss (164 dB: TR 45.820); beyond it, out of coverage. [dB]

    Returns
    -------
    ce : ndarray of int8
        0, 1, 2, or :data:`OUT_OF_COVERAGE` (3). A loss equal to a threshold belongs to the
        lower (better) class.

    Examples
    --------
    >>> ce_level([120.0, 144.0, 144.1, 154.0, 160.0, 164.0, 164.1]).tolist()
    [0, 0, 1, 1, 2, 2, 3]
    """
    t0, t1 = (float(v) for v in ce_thresholds_db)
    if not t0 < t1 < max_coupling_loss_db:
        raise ScenarioError(f"ce_thresholds_db: need CE0 < CE1 < max_coupling_loss_db ({max_coupling_loss_db:g}), "
                            f"got {[t0, t1]}")
    cl = np.asarray(coupling_loss_db, dtype=float)
    edges = np.array([t0, t1, max_coupling_loss_db])
    out = np.searchsorted(edges, cl, side="left").astype(np.int8)     # cl <= t0 -> 0, ... > max -> 3
    out[np.isnan(cl)] = OUT_OF_COVERAGE
    return out


def npusch_rate_bps(snr_db) -> tuple[np.ndarray, np.ndarray]:
    """
    Single-tone NPUSCH rate at a per-tone SNR, with the fewest repetitions that reach the bound.

    The rate is ``TONE_HZ x eff(SNR x R) / R`` with ``eff`` the attenuated Shannon bound of
    TR 36.942 A.1 (the maps' SINR -> efficiency), ``R`` the smallest power of two up to 128 with
    SNR x R >= SINR_MIN (ideal combining of the repetitions), capped at
    :data:`NPUSCH_MAX_RATE_BPS`. Zero (and R = 0) where even 128 repetitions do not reach SINR_MIN.

    Parameters
    ----------
    snr_db : array_like
        Uplink SNR per 15 kHz tone at the base station, receive branches combined. [dB]

    Returns
    -------
    rate_bps, repetitions : ndarray, ndarray of int
        [bit/s], number of repetitions.

    Examples
    --------
    >>> r, n = npusch_rate_bps([20.0, -10.0, -16.0, -40.0])
    >>> r.round(1).tolist(), n.tolist()
    ([12500.0, 1237.5, 310.8, 0.0], [1, 1, 4, 0])
    """
    snr = np.asarray(snr_db, dtype=float)
    need_db = SINR_MIN_DB - snr
    reps = np.where(need_db <= 0.0, 1.0, 2.0 ** np.ceil(np.log2(np.maximum(10.0 ** (need_db / 10.0), 1.0))))
    ok = reps <= MAX_REPETITIONS
    reps = np.where(ok, reps, 0.0)
    combined_db = snr + 10.0 * np.log10(np.maximum(reps, 1.0))
    eff = attenuated_shannon_efficiency_bps_hz(np.maximum(combined_db, SINR_MIN_DB))
    rate = np.where(ok, np.minimum(TONE_HZ * eff / np.maximum(reps, 1.0), NPUSCH_MAX_RATE_BPS), 0.0)
    return rate, reps.astype(np.int64)


def uplink_snr_db(coupling_loss_db, *, tx_power_dbm, gnb_noise_figure_db, gnb_rx_branches=1) -> np.ndarray:
    """Uplink SNR per 15 kHz tone at the base station [dB]: ``tx_power_dbm - CL - N(15 kHz, NF)``
    plus the maximum-ratio combining gain ``10 log10(gnb_rx_branches)`` (no interference: the IoT
    carrier is noise-limited here, see the module's limits)."""
    noise_dbm = thermal_noise_dbm(TONE_HZ, gnb_noise_figure_db)
    return (tx_power_dbm - np.asarray(coupling_loss_db, dtype=float) - noise_dbm
            + 10.0 * np.log10(gnb_rx_branches))


def data_tones(nprach: tuple[NprachConfig, ...] = NPRACH_DEFAULT) -> int:
    """Data tones of a sector: the 12 tones less the NPRACH's share of the uplink, rounded down (at
    least one)."""
    share = sum(c.uplink_share for c in nprach)
    return max(1, int(np.floor(NB_IOT_TONES * (1.0 - share) + 1e-9)))


# ------------------------------------------------------------------------------------------------
# random access and data: event loops (numba)


@numba.njit(cache=True)
def _first_opportunity(t_s, period_s):
    k = np.ceil(t_s / period_s - 1e-12)
    return k * period_s


@numba.njit(cache=True)
def _random_access(arr_t, sector, ce0, period, reps, nsc, max_att, exchange, preamble_s, backoff_s, seed):
    """Every packet's random access, in time order over all sectors and CE levels.

    Returns (done_t, attempts, ce_final): the time the access completes (inf when it fails for
    good), the preamble attempts made and the CE level of the last one."""
    n = arr_t.size
    done = np.full(n, np.inf)
    attempts = np.zeros(n, dtype=np.int64)
    ce_fin = ce0.copy()
    # heap of (opportunity time, sector, ce, packet, attempts at this level)
    h = [(0.0, np.int64(0), np.int64(0), np.int64(0), np.int64(0))]
    h.pop()
    for i in range(n):
        c = ce0[i]
        heapq.heappush(h, (_first_opportunity(arr_t[i], period[c]), sector[i], c, np.int64(i), np.int64(0)))
    grp_p = np.empty(64, dtype=np.int64)
    grp_a = np.empty(64, dtype=np.int64)
    count = np.zeros(64, dtype=np.int64)
    pick = np.empty(64, dtype=np.int64)
    while len(h) > 0:
        t, s, c, p, a = heapq.heappop(h)
        grp_p[0] = p
        grp_a[0] = a
        m = 1
        while len(h) > 0 and h[0][0] == t and h[0][1] == s and h[0][2] == c:
            _, _, _, p2, a2 = heapq.heappop(h)
            if m == grp_p.size:
                grp_p = np.concatenate((grp_p, np.empty(m, dtype=np.int64)))
                grp_a = np.concatenate((grp_a, np.empty(m, dtype=np.int64)))
                pick = np.empty(2 * m, dtype=np.int64)
            grp_p[m] = p2
            grp_a[m] = a2
            m += 1
        if pick.size < m:
            pick = np.empty(m, dtype=np.int64)
        k = nsc[c]
        count[:k] = 0
        for j in range(m):
            q = grp_p[j]
            pr = int(uniform01(seed, q, attempts[q], 1) * k)
            pick[j] = pr
            count[pr] += 1
        t_known = t + exchange[c]
        for j in range(m):
            q = grp_p[j]
            attempts[q] += 1
            ce_fin[q] = c
            if count[pick[j]] == 1:
                done[q] = t_known
                continue
            a_lvl = grp_a[j] + 1
            c_next = c
            if a_lvl >= max_att[c]:
                if c + 1 >= period.size:
                    continue                                    # failed at the last level: for good
                c_next = c + 1
                a_lvl = 0
            t_retry = t_known + uniform01(seed, q, attempts[q], 2) * backoff_s
            heapq.heappush(h, (_first_opportunity(t_retry, period[c_next]), s, np.int64(c_next), q, np.int64(a_lvl)))
    return done, attempts, ce_fin


@numba.njit(cache=True)
def _serve(order, ready_t, service_s, sector, n_sectors, n_servers):
    """First come, first served on ``n_servers`` tones per sector: the finish time of each packet
    (``order``: packets sorted by ready time; inf ready times are skipped)."""
    finish = np.full(ready_t.size, np.inf)
    free = np.zeros((n_sectors, n_servers))
    for q in order:
        if not np.isfinite(ready_t[q]) or not np.isfinite(service_s[q]):
            continue
        row = free[sector[q]]
        j = np.argmin(row)
        start = max(ready_t[q], row[j])
        row[j] = start + service_s[q]
        finish[q] = row[j]
    return finish


# ------------------------------------------------------------------------------------------------
# one evaluation at one density


@dataclass(frozen=True)
class IotCoverage:
    """The IoT carrier's coverage per pixel: ``coupling_loss_db`` to the best sector (device
    antenna gain included), ``best_sector``, ``ce_level`` (0..2, 3 = beyond the MCL), ``indoor``."""

    coupling_loss_db: np.ndarray
    best_sector: np.ndarray
    ce_level: np.ndarray
    indoor: np.ndarray


def iot_coverage(rsrp_dbm: np.ndarray, tx_power_per_re_dbm: np.ndarray, indoor: np.ndarray, *,
                 gain_offset_db: float, ce_thresholds_db, max_coupling_loss_db: float,
                 indoor_extra_loss_db: float = 0.0) -> IotCoverage:
    """Coverage classes from per-sector maps (:class:`cellscape.coverage.engine.SectorMaps` arrays).

    ``rsrp_dbm``: (n_sectors, n_rows, n_cols) [dBm]; ``tx_power_per_re_dbm``: (n_sectors,) the
    maps' per-RE power including their receiver gain, so the coupling loss of a link is their
    difference; ``gain_offset_db``: the device's antenna gain minus the maps' receiver gain [dB];
    ``indoor_extra_loss_db``: added at indoor pixels on top of the maps' O2I loss (devices deeper
    inside than a handset: TR 45.820's 164 dB MCL is GPRS's 144 dB plus 20 dB for meters in
    basements) [dB].
    """
    cl = tx_power_per_re_dbm[:, None, None] - rsrp_dbm                  # (n_sectors, n_rows, n_cols)
    best = np.argmin(cl, axis=0)                                          # (n_rows, n_cols)
    cl_best = (np.take_along_axis(cl, best[None], axis=0)[0].astype(float) - gain_offset_db
               + np.where(np.asarray(indoor, dtype=bool), indoor_extra_loss_db, 0.0))
    return IotCoverage(coupling_loss_db=cl_best, best_sector=best.astype(np.int64),
                       ce_level=ce_level(cl_best, ce_thresholds_db, max_coupling_loss_db), indoor=np.asarray(indoor))


@dataclass(frozen=True)
class IotRun:
    """One evaluation at ``density_per_km2``: per-packet arrays of the measured packets
    (``arrival_s``, ``ce_level`` at arrival, ``attempts``, ``access_ok``, ``latency_s`` (inf when
    not delivered), ``sector``) and the rates."""

    density_per_km2: float
    arrival_s: np.ndarray
    sector: np.ndarray
    ce_level: np.ndarray
    attempts: np.ndarray
    access_ok: np.ndarray
    latency_s: np.ndarray
    latency_limit_s: float

    @property
    def packets(self) -> int:
        return int(self.arrival_s.size)

    @property
    def access_success_rate(self) -> float:
        return float(self.access_ok.mean()) if self.packets else float("nan")

    @property
    def outage_rate(self) -> float:
        return float((~(self.latency_s <= self.latency_limit_s)).mean()) if self.packets else float("nan")

    def summary(self) -> dict:
        lat = self.latency_s[np.isfinite(self.latency_s)]
        per_ce = {}
        for c in range(N_CE_LEVELS):
            sel = self.ce_level == c
            if sel.any():
                first = self.attempts[sel] >= 1
                per_ce[f"ce{c}"] = {"packets": int(sel.sum()), "access_success_rate": float(self.access_ok[sel].mean()),
                                    "attempts_mean": float(self.attempts[sel][first].mean()) if first.any() else None,
                                    "outage_rate": float((~(self.latency_s[sel] <= self.latency_limit_s)).mean())}
        return {"density_per_km2": self.density_per_km2, "packets": self.packets,
                "access_success_rate": self.access_success_rate, "packet_outage_rate": self.outage_rate,
                "out_of_coverage_share": float((self.ce_level == OUT_OF_COVERAGE).mean()) if self.packets else None,
                "latency_s": {"mean": float(lat.mean()) if lat.size else None,
                              "p50": float(np.percentile(lat, 50)) if lat.size else None,
                              "p99": float(np.percentile(lat, 99)) if lat.size else None},
                "per_ce_level": per_ce}


def evaluate_density(cov: IotCoverage, density_per_km2: float, *, pixel_area_m2: float, n_sectors: int,
                     indoor_fraction: float, packet_size_bytes: float, report_period_s: float,
                     latency_limit_s: float, window_s: float, tx_power_dbm: float, gnb_noise_figure_db: float,
                     gnb_rx_branches: int = 1, nprach: tuple[NprachConfig, ...] = NPRACH_DEFAULT,
                     seed: int = 0) -> IotRun:
    """Reports of ``density_per_km2`` devices over the map for ``window_s`` (after a warm-up of
    ``latency_limit_s``, simulated but not counted), through random access and data.

    Devices stand in indoor pixels with probability ``indoor_fraction`` (uniform among them), the
    rest outdoors. Deterministic for ``seed``; the arrival draws are the same for every density
    (common random numbers), so outage against density is smooth.
    """
    if len(nprach) != N_CE_LEVELS:
        raise ScenarioError(f"nprach: one configuration per CE level ({N_CE_LEVELS}), got {len(nprach)}")
    ind = cov.indoor.ravel()
    pix_in = np.flatnonzero(ind)
    pix_out = np.flatnonzero(~ind)
    area_km2 = ind.size * pixel_area_m2 / 1e6
    warm_s = latency_limit_s
    span_s = warm_s + window_s
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x107]))
    n = int(rng.poisson(density_per_km2 * area_km2 * span_s / report_period_s))
    arr = np.sort(rng.uniform(0.0, span_s, n))
    frac = indoor_fraction if pix_in.size and pix_out.size else (1.0 if pix_in.size else 0.0)
    indoor = rng.uniform(size=n) < frac
    pix = np.where(indoor, pix_in[rng.integers(0, max(pix_in.size, 1), n)] if pix_in.size else 0,
                   pix_out[rng.integers(0, max(pix_out.size, 1), n)] if pix_out.size else 0)
    cl = cov.coupling_loss_db.ravel()[pix]
    ce0 = cov.ce_level.ravel()[pix].astype(np.int64)
    sec = cov.best_sector.ravel()[pix].astype(np.int64)
    covered = ce0 < OUT_OF_COVERAGE
    period = np.array([c.periodicity_s for c in nprach])
    done = np.full(n, np.inf)
    attempts = np.zeros(n, dtype=np.int64)
    if covered.any():
        idx = np.flatnonzero(covered)
        d, a, _ = _random_access(arr[idx], sec[idx], ce0[idx], period,
                                 np.array([c.repetitions for c in nprach], dtype=np.int64),
                                 np.array([c.n_subcarriers for c in nprach], dtype=np.int64),
                                 np.array([c.max_attempts for c in nprach], dtype=np.int64),
                                 np.array([c.exchange_s for c in nprach]), PREAMBLE_S, BACKOFF_S,
                                 int(seed) & 0x7FFFFFFFFFFFFFFF)
        done[idx], attempts[idx] = d, a
    snr = uplink_snr_db(cl, tx_power_dbm=tx_power_dbm, gnb_noise_figure_db=gnb_noise_figure_db,
                        gnb_rx_branches=gnb_rx_branches)
    rate, _ = npusch_rate_bps(snr)
    service = np.where(rate > 0, 8.0 * packet_size_bytes / np.maximum(rate, 1e-300), np.inf)
    order = np.argsort(done, kind="stable")
    finish = _serve(order, done, service, sec, int(n_sectors), data_tones(nprach))
    keep = arr >= warm_s
    return IotRun(density_per_km2=float(density_per_km2), arrival_s=arr[keep], sector=sec[keep], ce_level=ce0[keep],
                  attempts=attempts[keep], access_ok=np.isfinite(done[keep]), latency_s=(finish - arr)[keep],
                  latency_limit_s=float(latency_limit_s))


def connection_density(evaluate, start_per_km2: float, *, target: float = OUTAGE_TARGET, max_per_km2: float = 1e9,
                       min_per_km2: float = 1.0, bisections: int = 6) -> tuple[float, list]:
    """ITU-R M.2412-0 7.1.3 steps 4-5: the largest density whose packet outage is at most ``target``.

    ``evaluate(density_per_km2)`` returns an :class:`IotRun`. From ``start_per_km2`` the density is
    doubled (or halved) until the outage crosses the target, then bisected geometrically
    ``bisections`` times. Returns (density, runs): 0.0 when even ``min_per_km2`` is in outage (the
    devices beyond the MCL alone exceed the target), ``max_per_km2`` when it is never crossed.
    """
    runs = []

    def ok(d):
        r = evaluate(d)
        runs.append(r)
        return r.outage_rate <= target

    d = float(start_per_km2)
    if ok(d):
        lo, hi = d, None
        while hi is None:
            if lo >= max_per_km2:
                return max_per_km2, runs
            nxt = min(2.0 * lo, max_per_km2)
            if ok(nxt):
                lo = nxt
            else:
                hi = nxt
    else:
        lo, hi = None, d
        while lo is None:
            if hi <= min_per_km2:
                return 0.0, runs
            nxt = max(hi / 2.0, min_per_km2)
            if ok(nxt):
                lo = nxt
            else:
                hi = nxt
    for _ in range(bisections):
        mid = float(np.sqrt(lo * hi))
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo, runs


@dataclass(frozen=True)
class IotEvaluation:
    """The massive-IoT evaluation of a network: ``coverage`` per pixel, ``run`` at the configured
    density, the density search's ``density_runs`` and ``connection_density_per_km2`` (None when
    not searched), on a map of ``area_km2`` with ``n_sectors`` sectors."""

    coverage: IotCoverage
    run: IotRun
    density_runs: tuple[IotRun, ...]
    connection_density_per_km2: float | None
    area_km2: float
    n_sectors: int
    pixel_area_m2: float
    fc_ghz: float

    def summary(self) -> dict:
        """The headline figures: class shares of the area, the run at the configured density, and
        the connection density against the IMT-2020 requirement."""
        ce = self.coverage.ce_level
        ind = self.coverage.indoor
        classes = ["ce0", "ce1", "ce2", "out_of_coverage"]
        share = {name: float((ce == k).mean()) for k, name in enumerate(classes)}
        share_in = {name: float((ce[ind] == k).mean()) if ind.any() else None for k, name in enumerate(classes)}
        share_out = {name: float((ce[~ind] == k).mean()) if (~ind).any() else None for k, name in enumerate(classes)}
        cd = self.connection_density_per_km2
        return {
            "fc_ghz": self.fc_ghz, "area_km2": self.area_km2, "sectors": self.n_sectors,
            "data_tones_per_sector": data_tones(),
            "area_share": share, "area_share_indoor": share_in, "area_share_outdoor": share_out,
            "at_configured_density": self.run.summary(),
            "connection_density_per_km2": cd,
            "connection_density_per_sector": None if cd is None else cd * self.area_km2 / self.n_sectors,
            "imt2020_requirement_per_km2": IMT2020_CONNECTION_DENSITY_PER_KM2,
            "meets_imt2020_connection_density": None if cd is None else bool(cd >= IMT2020_CONNECTION_DENSITY_PER_KM2),
            "density_search": [{"density_per_km2": r.density_per_km2, "packets": r.packets,
                                "packet_outage_rate": r.outage_rate, "access_success_rate": r.access_success_rate}
                               for r in sorted(self.density_runs, key=lambda r: r.density_per_km2)],
        }


def evaluate_iot(opts, rsrp_dbm: np.ndarray, tx_power_per_re_dbm: np.ndarray, indoor: np.ndarray, *,
                 pixel_area_m2: float, device, receiver_gain_dbi: float, gnb_noise_figure_db: float,
                 gnb_rx_branches: int, fc_ghz: float, seed: int) -> IotEvaluation:
    """The whole evaluation from the IoT carrier's per-sector maps (arrays of
    :class:`cellscape.coverage.engine.SectorMaps`): coverage classes, reports at
    ``opts.density_per_km2`` and, with ``opts.connection_density``, the ITU-R M.2412 search.
    ``opts``: :class:`cellscape.scenario.simulation.IotOptions`; ``device``: its
    :class:`~cellscape.scenario.devices.DeviceProfile`."""
    cov = iot_coverage(rsrp_dbm, tx_power_per_re_dbm, indoor, gain_offset_db=device.antenna_gain_dbi - receiver_gain_dbi,
                       ce_thresholds_db=opts.ce_thresholds_db, max_coupling_loss_db=opts.max_coupling_loss_db,
                       indoor_extra_loss_db=opts.indoor_extra_loss_db)
    return evaluate_iot_coverage(opts, cov, pixel_area_m2=pixel_area_m2, n_sectors=int(rsrp_dbm.shape[0]),
                                 device=device, gnb_noise_figure_db=gnb_noise_figure_db,
                                 gnb_rx_branches=gnb_rx_branches, fc_ghz=fc_ghz, seed=seed)


def evaluate_iot_coverage(opts, cov: IotCoverage, *, pixel_area_m2: float, n_sectors: int, device,
                          gnb_noise_figure_db: float, gnb_rx_branches: int, fc_ghz: float, seed: int) -> IotEvaluation:
    """:func:`evaluate_iot` from a coverage already classified (``cov``: per pixel, or per dropped
    device whose ``pixel_area_m2`` is the area each stands for)."""
    area_km2 = cov.indoor.size * pixel_area_m2 / 1e6
    span_s = opts.latency_limit_s + opts.window_s
    cap = MAX_SEARCH_PACKETS * opts.report_period_s / (area_km2 * span_s)     # density offering the limit
    if opts.density_per_km2 > cap:
        raise ScenarioError(f"simulation.iot: {opts.density_per_km2:g} devices/km2 over {area_km2:.3g} km2 offer "
                            f"{opts.density_per_km2 / cap * MAX_SEARCH_PACKETS:.3g} reports in {span_s:g} s (limit "
                            f"{MAX_SEARCH_PACKETS:.0e}): lower density_per_km2 or window_s")
    memo: dict[float, IotRun] = {}

    def at(density):
        if density not in memo:
            memo[density] = evaluate_density(
                cov, density, pixel_area_m2=pixel_area_m2, n_sectors=n_sectors, indoor_fraction=opts.indoor_fraction,
                packet_size_bytes=opts.packet_size_bytes, report_period_s=opts.report_period_s,
                latency_limit_s=opts.latency_limit_s, window_s=opts.window_s, tx_power_dbm=device.max_tx_power_dbm,
                gnb_noise_figure_db=gnb_noise_figure_db, gnb_rx_branches=gnb_rx_branches, seed=seed)
        return memo[density]

    run = at(opts.density_per_km2)
    runs: tuple[IotRun, ...] = ()
    density = None
    if opts.connection_density:
        density, found = connection_density(at, opts.density_per_km2, max_per_km2=cap)
        runs = tuple(found)
    return IotEvaluation(coverage=cov, run=run, density_runs=runs, connection_density_per_km2=density,
                         area_km2=area_km2, n_sectors=n_sectors, pixel_area_m2=pixel_area_m2, fc_ghz=float(fc_ghz))


def m2412_mmtc_evaluation(opts, *, config: str = "A", n_drops: int = 20_000, device=None,
                          gnb_noise_figure_db: float = 5.0, gnb_rx_branches: int = 2, seed: int = 1) -> IotEvaluation:
    """The connection density of NB-IoT in ITU-R M.2412's own Urban Macro-mMTC test environment.

    ``n_drops`` devices are dropped on the 19-site wrap-around layout of configuration ``config``
    (:func:`cellscape.scenario.defaults.m2412_mmtc_assumptions`: 700 MHz, ISD 500 m or 1732 m,
    80 % indoor) by the TR 38.901 7.8.1 large-scale drop (:func:`cellscape.simulation.calibration.
    run_calibration`: path loss, LOS, shadowing, O2I and BS antenna gain per link); each stands for
    an equal share of the area, 57 x ISD^2 sqrt(3) / 6 (M.2412 7.1.3 step 5: the TRxP area). Then the
    same classes, random access, data and outage as :func:`evaluate_iot` with ``opts``
    (:class:`cellscape.scenario.simulation.IotOptions`; its ``indoor_fraction`` should stay 0.8, the
    drop's). ``device``: default the built-in NB-IoT profile (23 dBm)."""
    from cellscape.scenario.defaults import m2412_mmtc_assumptions
    from cellscape.scenario.devices import device_profile
    from cellscape.simulation.calibration import run_calibration

    a = m2412_mmtc_assumptions(config)
    r = run_calibration(a.environment, a.fc_ghz, n_drops=n_drops, rng=np.random.default_rng(seed), assumptions=a)
    dev = device if device is not None else device_profile("nbiot")
    cl = (r.coupling_loss_db - (dev.antenna_gain_dbi - a.ue_antenna_gain_dbi)
          + np.where(r.indoor, opts.indoor_extra_loss_db, 0.0))                         # (n_drops,)
    cov = IotCoverage(coupling_loss_db=cl[None, :], best_sector=r.serving_sector[None, :].astype(np.int64),
                      ce_level=ce_level(cl, opts.ce_thresholds_db, opts.max_coupling_loss_db)[None, :],
                      indoor=r.indoor[None, :])
    n_sectors = r.layout.n_sectors
    trp_area_m2 = a.layout.isd_m ** 2 * np.sqrt(3.0) / 6.0
    return evaluate_iot_coverage(opts, cov, pixel_area_m2=n_sectors * trp_area_m2 / n_drops, n_sectors=n_sectors,
                                 device=dev, gnb_noise_figure_db=gnb_noise_figure_db, gnb_rx_branches=gnb_rx_branches,
                                 fc_ghz=a.fc_ghz, seed=seed)


__all__ = ["IMT2020_CONNECTION_DENSITY_PER_KM2", "IotCoverage", "IotEvaluation", "IotRun", "NPRACH_DEFAULT", "NprachConfig",
           "OUT_OF_COVERAGE", "ce_level", "connection_density", "data_tones", "evaluate_density", "evaluate_iot", "evaluate_iot_coverage", "iot_coverage",
           "m2412_mmtc_evaluation",
           "npusch_rate_bps", "uplink_snr_db"]
