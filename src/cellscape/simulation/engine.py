"""The system-level simulator: users on the coverage engine's per-sector maps, scheduled slot by
slot (cellscape.simulation.slots), moved and handed over every measurement step.

Data flow of :func:`run_simulation` (pure: arrays in, arrays out; the maps come from
:func:`cellscape.coverage.engine.sector_maps`, files are written by cellscape.io):

1. users are dropped (cellscape.simulation.users) and given their device profile; their traffic
   arrays are set up (cellscape.simulation.traffic);
2. every measurement step (a *block* of slots):

   a. positions from the trajectories; each user's RSRP from every sector is the sector map at
      its pixel (the same link budget, shadow fading and O2I as the coverage map, so shadowing
      stays spatially consistent as users move), shifted by the device's antenna gain;
   b. mobility management (cellscape.simulation.handover): L3 filter, A3 + TTT, RLF;
   c. the large-scale SINRs the slot loop uses: downlink S / (sum_j RSRP_j x load_j + N) with
      load_j the PRB utilisation of sector j in the previous block (1 before the first);
      uplink path gain and power-control path loss from the coupling loss (reciprocity), and
      each sector's uplink interference per PRB from the other sectors' users' mean transmit
      power in the previous block;
   d. arrivals of the block, then :func:`cellscape.simulation.slots.run_block`;

3. per-user, per-sector and per-report-period KPIs are gathered into columns.

Randomness: one generator seeded by the simulation's seed for drops, trajectories and bank;
the slot loop's draws are keyed by (seed, user, slot), so results do not depend on the threads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from cellscape.coverage.engine import SectorMaps
from cellscape.errors import ScenarioError
from cellscape.propagation.fast_fading import build_fading_bank, doppler_hz
from cellscape.radio.link_abstraction import BLER_SLOPE_DB, mcs_sinr_thresholds_db, mcs_table_arrays, n_re_per_prb
from cellscape.radio.link_budget import noise_per_re_dbm, thermal_noise_dbm
from cellscape.radio.nr import device_n_prb, frequency_range, numerology
from cellscape.radio.tables import CQI_TABLES, EFFICIENCY_BPS_HZ
from cellscape.radio.throughput import cqi_sinr_thresholds_db, data_rate_bps
from cellscape.scenario.simulation import Simulation
from cellscape.simulation import slots as S
from cellscape.simulation.handover import EVENT_NAMES, MobilityState, mobility_step
from cellscape.simulation.traffic import block_arrivals, traffic_arrays
from cellscape.simulation.users import (
    Trajectories,
    drop_users,
    drop_weights,
    group_indoor_fraction,
    random_waypoint,
    street_walks,
)

Progress = Callable[[int, int], None]

PACKET_FIFO = 64
"""Packets tracked per user and direction for latency (more waiting: bits still counted)."""



def _dl_sinr_lin(rsrp_mw, total_mw, serving, load, noise_mw):
    """Downlink SINR per RE of each user from its ``serving`` sector: S / (sum_j RSRP_j load_j - own + N),
    ``total_mw`` = RSRP (n_users, n_sectors) @ load, linear."""
    rows = np.arange(rsrp_mw.shape[0])
    s_mw = rsrp_mw[rows, serving]
    return s_mw / (total_mw - s_mw * load[serving] + noise_mw)


def nominal_rbg_size(n_prb: int) -> int:
    """RBG size P of TS 38.214 Table 5.1.2.2.1-1, configuration 1.

    >>> [nominal_rbg_size(n) for n in (24, 52, 106, 273)]
    [2, 4, 8, 16]
    """
    if n_prb <= 36:
        return 2
    if n_prb <= 72:
        return 4
    if n_prb <= 144:
        return 8
    return 16


@dataclass(frozen=True)
class SimulationResult:
    """A finished simulation. ``ue``, ``cells``, ``timeseries`` and ``events``: columns (dicts of
    equal-length arrays); ``latency_hist``: (n_users, 2, bins) packet counts per latency bin
    (edges ``latency_edges_s``); ``summary``: the headline KPIs; ``grid``: the maps' grid."""

    simulation: Simulation
    ue: dict
    cells: dict
    timeseries: dict
    events: dict
    latency_hist: np.ndarray
    latency_edges_s: np.ndarray
    summary: dict
    grid: object
    meta: dict


def run_simulation(sim: Simulation, maps: dict[float, SectorMaps], *, street_graph=None,
                   demand: dict[str, np.ndarray] | None = None, hotspots_m: dict[str, list] | None = None,
                   progress: Progress | None = None, n_threads: int | None = None) -> SimulationResult:
    """Simulate ``sim`` on per-sector maps, one per device height (``maps[height_m]``).

    ``street_graph``: the city's street graph (cellscape.geo.streets.street_graph) for
    ``streets`` mobility (random waypoint without it); ``demand``: users per pixel per group name
    for raster drops; ``hotspots_m``: per group name, hotspots (x_m, y_m, radius_m, weight) in
    the grid CRS; ``progress(done, total)`` per block.
    """
    sc = sim.scenario
    m0 = next(iter(maps.values()))
    grid = m0.grid
    n_sec = m0.n_sectors
    n_prb = m0.n_prb
    scs = sc.carrier.scs_khz
    mu = numerology(scs)
    slot_s = 1e-3 / 2 ** mu
    fr = frequency_range(sc.carrier.fc_ghz)
    rng = np.random.default_rng(sim.seed)
    opt = sim.scheduler
    rbg_size = opt.rbg_size or nominal_rbg_size(n_prb)
    n_rbg = -(-n_prb // rbg_size)
    n_slots = int(round(sim.duration_s / slot_s))
    warm = int(round(sim.warmup_s / slot_s))
    block = max(1, int(round(sim.handover.measurement_period_ms * 1e-3 / slot_s)))
    n_blocks = -(-n_slots // block)
    report = max(1, int(round(sim.report_period_ms * 1e-3 / slot_s / block)))   # blocks per report

    # ---- users -----------------------------------------------------------------------------
    groups, devs, xs, ys, indoor, trajs = [], [], [], [], [], []
    speeds = []
    for gi, g in enumerate(sim.users):
        dev = sim.devices[g.device]
        moving = g.mobility.model != "static"
        spd = g.mobility.speed_kmh or dev.speed_kmh
        v_kmh = rng.uniform(spd[0], spd[1], g.count) if spd[1] > spd[0] else np.full(g.count, spd[0])
        where = f"simulation.users[{gi}].drop"
        if moving and g.mobility.model == "streets" and street_graph is not None:
            knots = street_walks(street_graph, v_kmh / 3.6, sim.duration_s, rng)
            x0 = np.array([k[0][1] for k in knots])
            y0 = np.array([k[0][2] for k in knots])
            ind = np.zeros(g.count, dtype=bool)
        else:
            hs = (hotspots_m or {}).get(g.name, ())
            w = drop_weights(g.drop.kind, grid, hotspots_m=hs, demand=(demand or {}).get(g.name))
            x0, y0, ind = drop_users(g.count, w, m0.indoor, grid, rng, indoor_fraction=group_indoor_fraction(g),
                                     where=where)
            if moving:
                knots = random_waypoint(x0, y0, (spd[0] / 3.6, spd[1] / 3.6), g.mobility.pause_s, sim.duration_s,
                                        ~m0.indoor, grid, rng)
            else:
                knots = [[(0.0, float(a), float(b))] for a, b in zip(x0, y0)]
        trajs.extend(knots)
        groups.append(np.full(g.count, gi))
        devs.extend([dev] * g.count)
        xs.append(x0)
        ys.append(y0)
        indoor.append(ind)
        speeds.append(v_kmh)            # the Doppler speed (random waypoint draws a speed per leg in the same range)
    group = np.concatenate(groups)
    n_u = group.size
    traj = Trajectories.from_lists(trajs)
    indoor_u = np.concatenate(indoor)
    speed_kmh = np.concatenate(speeds)
    heights = np.array([d.height_m for d in devs])
    for h in np.unique(heights):
        if float(h) not in maps:
            raise ScenarioError(f"no per-sector maps for device height {h:g} m")
    gain_off = np.array([d.antenna_gain_dbi for d in devs]) - sc.receiver.antenna_gain_dbi
    noise_re_mw = 10.0 ** (np.array([noise_per_re_dbm(scs, d.noise_figure_db) for d in devs]) / 10.0)
    slice_of = np.array([sim.slice_index(g.slice) for g in sim.users])[group]
    specs = [sim.users[g].traffic for g in group]
    tr_dl = traffic_arrays(specs, "dl", slot_s, rng)
    # without an uplink every user's traffic is read as downlink-only
    ul_specs = specs if sim.uplink.enabled else [replace(t, direction="dl") for t in specs]
    tr_ul = traffic_arrays(ul_specs, "ul", slot_s, rng)

    # ---- fading bank -------------------------------------------------------------------------
    fad = sim.fading
    n_cols = rbg_size * n_rbg          # users differ by their time offsets: no frequency shift needed
    bank = build_fading_bank(scs_khz=scs, n_cols=n_cols, rbg_size=rbg_size, delay_spread_ns=fad.delay_spread_ns,
                             profiles=(fad.nlos_profile, fad.los_profile), n_samples=fad.bank_samples, rng=rng)
    period_cycles = bank.n_samples * bank.cycles_per_sample
    fd_step = doppler_hz(speed_kmh / 3.6, sc.carrier.fc_ghz) * slot_s
    toff_dl = rng.uniform(0.0, period_cycles, (n_u, 8))
    toff_ul = rng.uniform(0.0, period_cycles, (n_u, 8))
    fshift = np.zeros(n_u, dtype=np.int64)

    # ---- state ---------------------------------------------------------------------------------
    uf = np.zeros((n_u, S.N_UF))
    ui = np.zeros((n_u, S.N_UI), dtype=np.int64)
    hq = np.zeros((n_u, 2, S.N_HARQ, S.N_HQ))
    pk_slot = np.zeros((n_u, 2, PACKET_FIFO), dtype=np.int64)
    pk_end = np.zeros((n_u, 2, PACKET_FIFO))
    hist = np.zeros((n_u, 2, S.LAT_N_BINS), dtype=np.int64)
    uf[:, S.F_PCMAX_DBM] = [d.max_tx_power_dbm for d in devs]
    uf[:, S.F_FD_STEP] = fd_step
    ui[:, S.I_SLICE] = slice_of
    ui[:, S.I_NRX] = [d.n_rx for d in devs]
    ui[:, S.I_MAX_RBG] = [max(1, device_n_prb(d.max_bandwidth_mhz, n_prb, scs, frequency_range=fr) // rbg_size)
                          if d.max_bandwidth_mhz is not None else n_rbg for d in devs]
    ui[:, S.I_FULL_DL] = tr_dl.full_buffer
    ui[:, S.I_FULL_UL] = tr_ul.full_buffer
    ui[:, S.I_FSHIFT] = fshift
    n_slices = len(sim.slices)
    slice_share = np.array([s.prb_share for s in sim.slices])
    slice_order = np.argsort([s.priority for s in sim.slices], kind="stable").astype(np.int64)
    slice_budget = np.array([(s.latency_budget_ms or 0.0) * 1e-3 for s in sim.slices])
    deficit = np.zeros((n_sec, 2, n_slices))
    rr_ptr = np.zeros((n_sec, n_slices), dtype=np.int64)
    sf = np.zeros((n_sec, S.N_SF))
    slice_rbg = np.zeros((n_sec, 2, n_slices))
    qm, rate, _ = mcs_table_arrays(opt.mcs_table)
    mcs_thr = mcs_sinr_thresholds_db(opt.mcs_table)
    cqi_thr = cqi_sinr_thresholds_db(table=1)
    cqi_eff = CQI_TABLES[1][:, EFFICIENCY_BPS_HZ].astype(float)
    # bits per PRB and slot at 1 bit/s/Hz: the map's TS 38.306 rate of one PRB over one slot
    bpe = np.array([float(data_rate_bps(1.0, 1, scs, frequency_range=fr, direction=d)) * slot_s for d in ("DL", "UL")])
    n_re_dl, n_re_ul = n_re_per_prb(12, 12), n_re_per_prb(14, 12)
    pattern = sim.duplex.pattern
    if sim.duplex.mode == "fdd":
        dir_of = lambda t: np.full(t.size, 2 if sim.uplink.enabled else 0)  # noqa: E731
    else:
        code = np.array([1 if c == "U" else 0 for c in pattern], dtype=np.int64)
        dir_of = lambda t: code[t % len(pattern)]  # noqa: E731
    noise_ul_prb_mw = 10.0 ** (float(thermal_noise_dbm(12 * scs * 1e3, sim.uplink.gnb_noise_figure_db)) / 10.0)
    p_re = m0.tx_power_per_re_dbm                                     # (n_sec,) incl. the maps' Rx gain
    sector_site = m0.sector_site
    load = np.ones(n_sec)
    interf_ul = np.zeros(n_sec)
    state = None
    ts = {k: [] for k in ("time_s", "sector", "load", "ul_load", "dl_throughput_mbps", "ul_throughput_mbps",
                          "active_users")}
    acc_bits = np.zeros((n_sec, 2))
    acc_rbg = np.zeros((n_sec, 2))
    acc_slots = np.zeros((n_sec, 2))
    acc_users = np.zeros(n_sec)
    acc_blocks = 0
    sinr_log = np.zeros(n_u)
    sinr_n = 0
    serve_time = np.zeros(n_u)
    seed = int(sim.seed) & 0x7FFFFFFFFFFFFFFF
    t_dyn = 0.0

    for b in range(n_blocks):
        t0 = b * block
        nb = min(block, n_slots - t0)
        t_s = t0 * slot_s
        x, y = traj.positions(t_s)
        rsrp = np.empty((n_u, n_sec))
        los = np.zeros((n_u, len(sc.sites)), dtype=bool)
        for h, m in maps.items():
            sel = np.flatnonzero(heights == h)
            if sel.size == 0:
                continue
            r, c = m.pixel_index(x[sel], y[sel])
            rsrp[sel] = m.rsrp_dbm[:, r, c].T
            los[sel] = m.los[:, r, c].T
        rsrp += gain_off[:, None]
        rsrp_mw = 10.0 ** (rsrp / 10.0)
        total_mw = rsrp_mw @ load                                    # every sector's RSRP weighted by its load
        rows = np.arange(n_u)
        if state is None:
            state = MobilityState.attach(rsrp)
            moved = np.zeros(n_u, dtype=bool)
        else:
            sinr_db = 10.0 * np.log10(_dl_sinr_lin(rsrp_mw, total_mw, state.serving, load, noise_re_mw))
            moved = mobility_step(state, rsrp, sinr_db, t_s, block * slot_s, sim.handover, sim.rlf,
                                  record_from_s=sim.warmup_s)
        serving = state.serving
        if moved.any():                         # HARQ buffers are not forwarded: their bits go back to RLC
            for d in range(2):
                act = hq[moved, d, :, S.H_ACTIVE] > 0.5
                back = (hq[moved, d, :, S.H_BITS] * act).sum(axis=1)
                full = ui[moved, S.I_FULL_DL + d] == 1
                uf[np.flatnonzero(moved)[~full], S.F_BUF_DL + d] += back[~full]
                hq[moved, d, :, S.H_ACTIVE] = 0.0
        # large-scale channel of the block
        uf[:, S.F_SINR_DL] = _dl_sinr_lin(rsrp_mw, total_mw, serving, load, noise_re_mw)
        cl_db = p_re[None, :] - rsrp                                   # coupling loss to every sector
        g_ul = 10.0 ** (-cl_db / 10.0)
        uf[:, S.F_GAIN_UL] = g_ul[rows, serving]
        uf[:, S.F_PL_DB] = cl_db[rows, serving]
        ui[:, S.I_LOS] = los[rows, sector_site[serving]]
        if t0 >= warm:
            sinr_log += np.log10(uf[:, S.F_SINR_DL])
            sinr_n += 1
        active = state.blocked_until_s <= t_s + 1e-12
        order = np.argsort(np.where(active, serving, n_sec), kind="stable")
        counts = np.bincount(serving[active], minlength=n_sec)
        sec_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        sec_ues = order[:sec_ptr[-1]].astype(np.int64)
        if t0 >= warm:
            serve_time[active] += nb * slot_s
        # arrivals
        e_dl, s_dl, bt_dl = block_arrivals(tr_dl, t0, nb, slot_s, seed=sim.seed, block=b, direction=0)
        e_ul, s_ul, bt_ul = block_arrivals(tr_ul, t0, nb, slot_s, seed=sim.seed, block=b, direction=1)
        ui[:, S.I_ARR_DL] = np.concatenate([[0], e_dl[:-1]])
        ui[:, S.I_ARR_UL] = np.concatenate([[0], e_ul[:-1]])
        sf[:, [S.S_RBG_DL, S.S_RBG_UL, S.S_SLOTS_DL, S.S_SLOTS_UL, S.S_BITS_DL_BLOCK, S.S_BITS_UL_BLOCK]] = 0.0
        uf[:, S.F_UL_ENERGY] = 0.0
        slot_dir = dir_of(np.arange(t0, t0 + nb)).astype(np.int64)
        t1 = time.perf_counter()
        S.run_block(t0, nb, slot_dir, warm, slot_s, sec_ptr, sec_ues, n_rbg, rbg_size, n_prb,
                    slice_share, slice_order, slice_budget, deficit, rr_ptr,
                    uf, ui, hq, pk_slot, pk_end, hist, toff_dl, toff_ul,
                    noise_ul_prb_mw, interf_ul, sf, slice_rbg,
                    bank.prb, bank.rbg, bank.cycles_per_sample, fad.enabled,
                    opt.link_adaptation == "ideal", mcs_thr, qm, rate, BLER_SLOPE_DB, opt.bler_target,
                    opt.olla_step_db, cqi_thr, cqi_eff, bpe, n_re_dl, n_re_ul, opt.csi_delay_slots,
                    opt.harq_max_transmissions, opt.harq_rtt_slots,
                    1.0 / opt.pf_window_slots, opt.kind == "rr", opt.ul_max_ues_per_slot,
                    sim.uplink.p0_dbm, sim.uplink.alpha, mu, sim.uplink.gnb_rx_branches,
                    e_dl, s_dl, bt_dl, e_ul, s_ul, bt_ul, seed)
        t_dyn += time.perf_counter() - t1
        # loads for the next block, uplink interference from this block's transmissions
        dl_slots = sf[:, S.S_SLOTS_DL]
        load = np.where(dl_slots > 0, sf[:, S.S_RBG_DL] / np.maximum(dl_slots * n_rbg, 1), load)
        ul_slots = float((slot_dir != 0).sum())
        if ul_slots > 0:
            p_prb = uf[:, S.F_UL_ENERGY] / (ul_slots * n_prb)                  # mean power per PRB and slot [mW]
            contrib = p_prb[:, None] * g_ul                                     # (n_u, n_sec)
            total = contrib.sum(axis=0)
            own = np.bincount(serving, weights=contrib[rows, serving], minlength=n_sec)
            interf_ul = total - own
        if t0 >= warm:
            acc_bits[:, 0] += sf[:, S.S_BITS_DL_BLOCK]
            acc_bits[:, 1] += sf[:, S.S_BITS_UL_BLOCK]
            acc_rbg[:, 0] += sf[:, S.S_RBG_DL]
            acc_rbg[:, 1] += sf[:, S.S_RBG_UL]
            acc_slots[:, 0] += sf[:, S.S_SLOTS_DL]
            acc_slots[:, 1] += sf[:, S.S_SLOTS_UL]
            acc_users += counts
            acc_blocks += 1
            if acc_blocks == report or b == n_blocks - 1:
                span = acc_blocks * block * slot_s
                ts["time_s"].append(np.full(n_sec, (t0 + nb) * slot_s))
                ts["sector"].append(np.arange(n_sec))
                ts["load"].append(acc_rbg[:, 0] / np.maximum(acc_slots[:, 0] * n_rbg, 1))
                ts["ul_load"].append(acc_rbg[:, 1] / np.maximum(acc_slots[:, 1] * n_rbg, 1))
                ts["dl_throughput_mbps"].append(acc_bits[:, 0] / span / 1e6)
                ts["ul_throughput_mbps"].append(acc_bits[:, 1] / span / 1e6)
                ts["active_users"].append(acc_users / acc_blocks)
                acc_bits[:] = acc_rbg[:] = acc_slots[:] = acc_users[:] = 0.0
                acc_blocks = 0
        if progress is not None:
            progress(b + 1, n_blocks)

    measured_s = (n_slots - warm) * slot_s
    x, y = traj.positions(n_slots * slot_s)
    ue = _ue_columns(sim, group, devs, slice_of, x, y, indoor_u, state, uf, ui, hist, measured_s, sinr_log,
                     max(sinr_n, 1), serve_time, tr_dl, tr_ul)
    cells = _cell_columns(sim, m0, sf, slice_rbg, state.serving, n_rbg, measured_s, slot_s, n_slots - warm,
                          sc.carrier.bandwidth_mhz)
    timeseries = {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in ts.items()}
    ev = state.events
    events = {"time_s": np.array([e[0] for e in ev], dtype=float),
              "user": np.array([e[1] for e in ev], dtype=np.int64),
              "kind": np.array([EVENT_NAMES[e[2]] for e in ev], dtype=object),
              "from_sector": np.array([m0.sectors.sector_id[e[3]] for e in ev], dtype=object),
              "to_sector": np.array([m0.sectors.sector_id[e[4]] for e in ev], dtype=object)}
    events["x_m"], events["y_m"] = traj.position_of(events["user"], events["time_s"])
    summary = simulation_summary(sim, ue, cells, measured_s, sc.carrier.bandwidth_mhz)
    meta = {"n_users": n_u, "n_sectors": n_sec, "n_slots": n_slots, "slot_s": slot_s, "block_slots": block,
            "rbg_size": rbg_size, "n_rbg": n_rbg, "n_prb": n_prb, "slot_loop_s": t_dyn,
            "ue_slots_per_s": n_u * n_slots / t_dyn if t_dyn > 0 else None,
            "streets": street_graph is not None}
    return SimulationResult(simulation=sim, ue=ue, cells=cells, timeseries=timeseries, events=events,
                            latency_hist=hist, latency_edges_s=S.latency_bin_edges_s(), summary=summary, grid=grid,
                            meta=meta)


def _hist_quantile_ms(hist_row: np.ndarray, q: float) -> float:
    total = hist_row.sum()
    if total == 0:
        return float("nan")
    edges = S.latency_bin_edges_s()
    k = int(np.searchsorted(np.cumsum(hist_row), q * total))
    return float(1e3 * edges[min(k + 1, edges.size - 1)])      # the upper edge of the bin: never optimistic


def _ue_columns(sim, group, devs, slice_of, x, y, indoor, state, uf, ui, hist, measured_s, sinr_log, sinr_n,
                serve_time, tr_dl, tr_ul) -> dict:
    n = group.size
    names = [g.name for g in sim.users]
    sent = ui[:, S.I_PK_SENT_DL] + ui[:, S.I_PK_SENT_UL]
    done = ui[:, S.I_PK_DONE_DL] + ui[:, S.I_PK_DONE_UL]
    late = ui[:, S.I_PK_LATE_DL] + ui[:, S.I_PK_LATE_UL]
    lat_sum = uf[:, S.F_LAT_SUM_DL] + uf[:, S.F_LAT_SUM_UL]
    h_all = hist.sum(axis=1)
    tx = ui[:, S.I_TX_DL]
    return {
        "ue_id": np.arange(n), "group": np.array([names[g] for g in group], dtype=object),
        "device": np.array([d.name for d in devs], dtype=object),
        "slice": np.array([sim.slices[s].name for s in slice_of], dtype=object),
        "x_m": x, "y_m": y, "indoor": indoor.astype(bool),
        "serving_sector": state.serving.astype(np.int64),
        "mean_sinr_db": 10.0 * sinr_log / sinr_n,
        "user_throughput_mbps": np.where(tr_dl.full_buffer, uf[:, S.F_BITS_DL] / measured_s / 1e6, np.where(
            ui[:, S.I_PK_DONE_DL] > 0, ui[:, S.I_PK_DONE_DL] * tr_dl.bits / np.maximum(uf[:, S.F_LAT_SUM_DL], 1e-12)
            / 1e6, np.nan)),
        "dl_throughput_mbps": uf[:, S.F_BITS_DL] / measured_s / 1e6,
        "ul_throughput_mbps": uf[:, S.F_BITS_UL] / measured_s / 1e6,
        "dl_bits": uf[:, S.F_BITS_DL], "ul_bits": uf[:, S.F_BITS_UL],
        "dl_bler": np.where(tx > 0, ui[:, S.I_ERR_DL] / np.maximum(tx, 1), np.nan),
        "packets_sent": sent, "packets_delivered": done, "packets_late": late,
        "latency_mean_ms": np.where(done > 0, 1e3 * lat_sum / np.maximum(done, 1), np.nan),
        "latency_p99_ms": np.array([_hist_quantile_ms(h_all[u], 0.99) for u in range(n)]),
        "handovers": state.handovers.copy(), "ping_pongs": state.ping_pongs.copy(), "rlfs": state.rlfs.copy(),
        "full_buffer_dl": tr_dl.full_buffer, "full_buffer_ul": tr_ul.full_buffer,
        "connected_s": serve_time,
    }


def _cell_columns(sim, m0, sf, slice_rbg, serving, n_rbg, measured_s, slot_s, n_meas_slots, bw_mhz) -> dict:
    n_sec = m0.n_sectors
    served = np.bincount(serving, minlength=n_sec)
    # slots of each direction after warm-up: the pattern's share of the measured slots
    if sim.duplex.mode == "fdd":
        dl_slots = ul_slots = float(n_meas_slots)
    else:
        p = sim.duplex.pattern
        dl_slots = n_meas_slots * sum(c != "U" for c in p) / len(p)
        ul_slots = n_meas_slots * p.count("U") / len(p)
    dl_rbg = sf[:, S.S_RBG_DL_TOTAL]
    cols = {
        "sector": np.arange(n_sec), "sector_id": np.asarray(m0.sectors.sector_id, dtype=object),
        "site": m0.sector_site.astype(np.int64),
        "prb_utilisation_dl": dl_rbg / max(dl_slots * n_rbg, 1.0),
        "prb_utilisation_ul": sf[:, S.S_RBG_UL_TOTAL] / max(ul_slots * n_rbg, 1.0),
        "dl_throughput_mbps": sf[:, S.S_BITS_DL] / measured_s / 1e6,
        "ul_throughput_mbps": sf[:, S.S_BITS_UL] / measured_s / 1e6,
        "spectral_efficiency_bps_hz": sf[:, S.S_BITS_DL] / measured_s / (bw_mhz * 1e6),
        "users_served": served,
    }
    tot = np.maximum(slice_rbg[:, 0, :].sum(axis=1), 1.0)
    for q, s in enumerate(sim.slices):
        cols[f"prb_share_{s.name}"] = slice_rbg[:, 0, q] / tot
    return cols


def _pct(a, q):
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    return float(np.percentile(a, q)) if a.size else None


def simulation_summary(sim: Simulation, ue: dict, cells: dict, measured_s: float, bw_mhz: float) -> dict:
    """Headline KPIs (ITU-R M.2410 names where they exist: 5th-percentile user spectral
    efficiency, average cell spectral efficiency) from the per-user and per-cell columns.

    User throughput is the downlink ``user_throughput_mbps`` column: the mean served rate of
    full-buffer users, and for bursty traffic the user-perceived throughput of 3GPP FTP
    evaluations (bits of the finished files or packets over the time they took, arrival to last
    bit); users without a finished packet are left out of the percentiles."""
    thr = ue["user_throughput_mbps"]
    n = thr.size
    slas = {}
    for s in sim.slices:
        sel = ue["slice"] == s.name
        if not sel.any():
            continue
        ok = np.ones(int(sel.sum()), dtype=bool)
        if s.min_throughput_mbps is not None:     # users without a finished download are not judged on it
            got = ue["user_throughput_mbps"][sel]
            ok &= ~np.isfinite(got) | (got >= s.min_throughput_mbps)
        if s.latency_budget_ms is not None:
            sent = ue["packets_sent"][sel]
            on_time = ue["packets_delivered"][sel] - ue["packets_late"][sel]
            ok &= np.where(sent > 0, on_time >= s.reliability * sent, True)
        slas[s.name] = {"users": int(sel.sum()), "sla_satisfaction": float(ok.mean()),
                        "user_throughput_mbps_p50": _pct(ue["user_throughput_mbps"][sel], 50),
                        "latency_p99_ms_median": _pct(ue["latency_p99_ms"][sel], 50)}
    n_ho = int(ue["handovers"].sum())
    user_s = max(float(ue["connected_s"].sum()), 1e-12)
    return {
        "users": int(n), "sectors": int(cells["sector"].size), "measured_s": measured_s,
        "cell_spectral_efficiency_bps_hz": float(np.mean(cells["spectral_efficiency_bps_hz"])),
        "user_throughput_mbps": {"p5": _pct(thr, 5), "p50": _pct(thr, 50), "p95": _pct(thr, 95)},
        "ul_user_throughput_mbps": {"p5": _pct(ue["ul_throughput_mbps"], 5),
                                    "p50": _pct(ue["ul_throughput_mbps"], 50),
                                    "p95": _pct(ue["ul_throughput_mbps"], 95)},
        "user_spectral_efficiency_p5_bps_hz": (_pct(thr, 5) or 0.0) * 1e6 / (bw_mhz * 1e6),
        "prb_utilisation_dl_mean": float(np.mean(cells["prb_utilisation_dl"])),
        "slices": slas,
        "handover_rate_per_user_s": n_ho / user_s,
        "handovers": n_ho,
        "ping_pong_rate": float(ue["ping_pongs"].sum() / n_ho) if n_ho else 0.0,
        "rlf_rate_per_user_s": float(ue["rlfs"].sum()) / user_s,
        "dl_bler_mean": _pct(ue["dl_bler"], 50),
        "iot_access_success_rate": None,
    }


__all__ = ["SimulationResult", "nominal_rbg_size", "run_simulation", "simulation_summary"]
