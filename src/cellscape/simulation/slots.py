"""The slot loop of the system-level simulator, compiled with numba: scheduling, link adaptation,
HARQ and packet delivery for every sector, one block of slots at a time.

Between two measurement steps (a *block*, e.g. 10 ms) every user is attached to one sector and its
large-scale channel is fixed: mean SINR per resource element and receive branch in the downlink
(serving RSRP over noise plus the other sectors' RSRP weighted by their load in the previous
block), path gain, power-control path loss and the serving gNB's interference per PRB in the
uplink. Sectors therefore run independently within a block (``numba.prange`` over sectors), each
through its slots in order, and nothing a sector does depends on the thread that runs it: random
draws come from a counter-based generator keyed by (seed, user, slot, purpose)
(:func:`uniform01`), so results do not depend on the number of threads.

Per slot and sector (downlink in D/S slots, uplink in U slots; both every slot in FDD):

1. traffic arrivals enter the users' buffers (a FIFO of packets per user and direction);
2. the resource block groups (RBGs) are split among slices: each slice with data is granted its
   ``prb_share`` (a deficit counter keeps the long-run share exact), at most what it needs;
   what is left goes to the slices with data in priority order;
3. within a slice, pending HARQ retransmissions first, then new data: proportional fair per RBG
   (metric log2(1 + SINR estimate) / average throughput, Jalali, Padovani & Pankaj 2000; the
   average is an exponential window of ``pf_window_slots``) or time-domain round robin (the next
   user in turn takes what it can use); a user never gets more RBGs than its bandwidth allows
   (RedCap: 20 MHz) nor than its buffer needs. The uplink schedules up to ``ul_max_ues`` users per
   slot by the wideband PF metric and splits the PRBs evenly among them; each transmits with the
   TS 38.213 7.1.1 open-loop power for its allocation;
4. link adaptation: ``olla`` picks the highest MCS whose SINR threshold the channel estimate
   (``csi_delay_slots`` old, effective SINR over the allocated RBGs) plus the user's outer-loop
   offset reaches; the transport block size is TS 38.214 5.1.3.2's; it is received with
   probability 1 - BLER(effective SINR over its PRBs this slot, MCS), retransmitted after
   ``harq_rtt_slots`` with chase combining (SINRs add) up to ``harq_max_tx`` times, then handed
   back to the buffer; the offset moves up on ACK and down on NACK. ``ideal`` sends, without
   errors, the bits the coverage map's rate formula gives at the realised effective SINR (the
   TS 38.214 CQI efficiency through the TS 38.306 rate, cellscape.radio.throughput);
5. delivered bits leave the FIFO; a packet whose last bit is delivered gets its latency (arrival
   to the end of the slot that completes it) in the user's histogram.

The effective SINR over PRBs is the mutual-information (Shannon) ESM of
cellscape.radio.link_abstraction; fast fading is a per-PRB power gain read from the trace bank of
cellscape.propagation.fast_fading at the user's own time offset (and PRB shift, 0 in cellscape.simulation.engine), advanced by the user's
Doppler; ``n_rx`` receive branches (independent offsets) are combined by maximum-ratio combining
(their gains add).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from cellscape.propagation.fast_fading import sample_index
from cellscape.radio.link_abstraction import (
    bler_scalar,
    effective_sinr_from_log2_scalar,
    olla_update_scalar,
    select_mcs_scalar,
    tbs_bits_scalar,
)
from cellscape.radio.uplink import pusch_power_dbm

# ---- per-user float fields: UF[u, k] --------------------------------------------------------
F_SINR_DL = 0        # mean downlink SINR per RE and receive branch, linear
F_GAIN_UL = 1        # uplink path gain UE -> serving gNB, antennas included, linear
F_PL_DB = 2          # power-control path loss estimate (TS 38.213 7.1.1 PL_b,f,c) [dB]
F_PCMAX_DBM = 3      # UE maximum power [dBm]
F_POS = 4            # position in the fading bank [Doppler cycles]
F_FD_STEP = 5        # Doppler cycles per slot
F_BUF_DL = 6         # bits waiting in the downlink buffer
F_BUF_UL = 7
F_OLLA_DL = 8        # outer-loop offsets [dB]
F_OLLA_UL = 9
F_AVG_DL = 10        # PF average throughputs [bit/slot]
F_AVG_UL = 11
F_BITS_DL = 12       # delivered bits (after warm-up)
F_BITS_UL = 13
F_ARRIVED_DL = 14    # cumulative bits arrived (FIFO bookkeeping)
F_ARRIVED_UL = 15
F_DELIV_DL = 16      # cumulative bits delivered
F_DELIV_UL = 17
F_LAT_SUM_DL = 18    # sum of packet latencies (after warm-up) [s]
F_LAT_SUM_UL = 19
F_UL_ENERGY = 20     # sum over uplink transmissions of the transmit power [mW] (interference bookkeeping)
F_RBG_DL = 21        # RBG-slots received (after warm-up)
F_RBG_UL = 22
N_UF = 23

# ---- per-user integer fields: UI[u, k] ------------------------------------------------------
I_SLICE = 0
I_NRX = 1
I_MAX_RBG = 2
I_FULL_DL = 3        # 1: full buffer
I_FULL_UL = 4
I_LOS = 5            # 1: the serving link is LOS (Rician bank)
I_FSHIFT = 6         # PRB shift into the bank (a multiple of the RBG size)
I_TX_DL = 7          # first transmissions / errors / retransmissions / TBs dropped (after warm-up)
I_ERR_DL = 8
I_RETX_DL = 9
I_DROP_DL = 10
I_TX_UL = 11
I_ERR_UL = 12
I_RETX_UL = 13
I_DROP_UL = 14
I_PK_HEAD_DL = 15    # packet FIFO: first packet and count
I_PK_CNT_DL = 16
I_PK_HEAD_UL = 17
I_PK_CNT_UL = 18
I_PK_SENT_DL = 19    # packets arrived / delivered / late (after warm-up)
I_PK_DONE_DL = 20
I_PK_LATE_DL = 21
I_PK_SENT_UL = 22
I_PK_DONE_UL = 23
I_PK_LATE_UL = 24
I_ARR_DL = 25        # next unread arrival (CSR position) of this block
I_ARR_UL = 26
I_SLOTS_SCHED = 27   # slots in which the user got downlink resources (after warm-up)
N_UI = 28

# ---- HARQ processes: HQ[u, d, h, k] (d: 0 downlink, 1 uplink) ------------------------------
H_ACTIVE = 0         # 1: waiting for a retransmission
H_BITS = 1
H_SINR = 2           # combined SINR so far, linear
H_NTX = 3
H_READY = 4          # slot at which it may be retransmitted
H_MCS = 5
H_NRBG = 6
N_HQ = 7
N_HARQ = 8
"""HARQ processes per user and direction (TS 38.321: up to 16 in NR; 8 keep a slot loop busy)."""

# ---- per-sector fields: SF[s, k] --------------------------------------------------------------
S_RBG_DL = 0         # RBG-slots used (this block, for the load) / in total after warm-up
S_RBG_DL_TOTAL = 1
S_BITS_DL = 2
S_BITS_UL = 3
S_RBG_UL = 4
S_RBG_UL_TOTAL = 5
S_SLOTS_DL = 6       # downlink / uplink slots seen (this block)
S_SLOTS_UL = 7
S_BITS_DL_BLOCK = 8  # this block's bits (for the time series)
S_BITS_UL_BLOCK = 9
N_SF = 10

# ---- uplink interference: per sector, per PRB [mW] is an input (SIN[s]) ----------------------

LAT_BINS_PER_DECADE = 20
LAT_MIN_S = 1e-4
LAT_N_BINS = 120
"""Packet-latency histogram: log bins, 20 per decade from 0.1 ms (bin 0 also holds shorter ones)
to 100 s (the last bin holds longer ones)."""

PURPOSE_DL, PURPOSE_UL = 1, 2


@numba.njit(cache=True, inline="always")
def _mix64(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True)
def uniform01(seed, a, b, c):
    """A uniform draw in [0, 1) that is a pure function of (seed, a, b, c): splitmix64 (Steele,
    Lea & Flood 2014) applied to the key, so a draw does not depend on the order or the thread
    in which it is made.

    >>> 0.0 <= uniform01(1, 2, 3, 4) < 1.0, uniform01(1, 2, 3, 4) == uniform01(1, 2, 3, 4)
    (True, True)
    """
    z = _mix64(np.uint64(seed) + np.uint64(0x9E3779B97F4A7C15))
    z = _mix64(z ^ (np.uint64(a) * np.uint64(0xD1B54A32D192ED03)))
    z = _mix64(z ^ (np.uint64(b) * np.uint64(0x8CB92BA72F3D8DD7)))
    z = _mix64(z ^ (np.uint64(c) * np.uint64(0xABC98388FB8FAC03)))
    return (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True, inline="always")
def _lat_bin(latency_s):
    if latency_s <= LAT_MIN_S:
        return 0
    b = int(math.log10(latency_s / LAT_MIN_S) * LAT_BINS_PER_DECADE)
    return min(b, LAT_N_BINS - 1)


def latency_bin_edges_s() -> np.ndarray:
    """Edges of the latency histogram bins [s], (LAT_N_BINS + 1,)."""
    return LAT_MIN_S * 10.0 ** (np.arange(LAT_N_BINS + 1) / LAT_BINS_PER_DECADE)


@numba.njit(cache=True, inline="always")
def _indices(pos, toff, cps, n_samples, nrx, out):
    """Bank rows the ``nrx`` receive branches read at Doppler position ``pos`` (into ``out``)."""
    for b in range(nrx):
        out[b] = sample_index(pos, toff[b], cps, n_samples)


@numba.njit(cache=True, inline="always")
def _gain_at(bank, prof, idx, nrx, col, fading):
    """Fast-fading power gain summed over the receive branches (MRC) at bank column ``col``."""
    if not fading:
        return float(nrx)
    g = 0.0
    for b in range(nrx):
        g += bank[prof, idx[b], col]
    return g


@numba.njit(cache=True, inline="always")
def fast_log2(x, fbuf, ibuf):
    """log2 of a normal x > 0 to within 3e-5: the exponent read from the float's bits, log2 of the
    mantissa in [1, 2) by a degree-5 least-squares fit. ``fbuf``: a 1-element float64 scratch array,
    ``ibuf`` its int64 view. The proportional-fair metric only ranks users, so it need not cost a
    libm call per RBG (3x cheaper here).

    >>> import numpy as np
    >>> f = np.empty(1); abs(fast_log2(3.7, f, f.view(np.int64)) - math.log2(3.7)) < 3e-5
    True
    """
    fbuf[0] = x
    bits = ibuf[0]
    e = ((bits >> 52) & 0x7FF) - 1023
    ibuf[0] = (bits & 0xFFFFFFFFFFFFF) | 0x3FF0000000000000
    t = fbuf[0] - 1.0
    return e + t * (1.4418258 + t * (-0.7086821 + t * (0.41542195 + t * (-0.19442267 + t * 0.04588553))))


@numba.njit(cache=True, inline="always")
def _cqi_efficiency(sinr_db, cqi_thr, cqi_eff):
    """The map's SINR -> efficiency (cellscape.radio.throughput, method "cqi"): the efficiency of
    the highest CQI whose threshold the SINR reaches, 0 below the first."""
    k = 0
    for i in range(cqi_thr.size):
        if sinr_db >= cqi_thr[i]:
            k = i + 1
    return 0.0 if k == 0 else cqi_eff[k - 1]


@numba.njit(cache=True, inline="always")
def _deliver(uf, ui, pk_slot, pk_end, hist, d, u, bits, t, slot_s, warm, budget_s):
    """Count ``bits`` delivered to user u in direction d at the end of slot t; complete packets."""
    deliv = F_DELIV_DL + d
    uf[u, deliv] += bits
    if t >= warm:
        uf[u, F_BITS_DL + d] += bits
    head = I_PK_HEAD_DL + 2 * d
    cnt = I_PK_CNT_DL + 2 * d
    cap = pk_slot.shape[2]
    while ui[u, cnt] > 0:
        h = ui[u, head]
        if pk_end[u, d, h] > uf[u, deliv] + 1e-6:
            break
        arrived = pk_slot[u, d, h]
        ui[u, head] = (h + 1) % cap
        ui[u, cnt] -= 1
        if arrived >= warm:
            lat = (t + 1 - arrived) * slot_s
            ui[u, I_PK_DONE_DL + 3 * d] += 1
            if budget_s > 0.0 and lat > budget_s + 1e-12:
                ui[u, I_PK_LATE_DL + 3 * d] += 1
            uf[u, F_LAT_SUM_DL + d] += lat
            hist[u, d, _lat_bin(lat)] += 1


@numba.njit(cache=True, inline="always")
def _arrive(uf, ui, pk_slot, pk_end, d, u, t, warm, arr_ptr_end, arr_slot, arr_bits):
    """Move user u's arrivals of slot t (direction d) into its buffer and packet FIFO."""
    k = ui[u, I_ARR_DL + d]
    end = arr_ptr_end[u]
    cap = pk_slot.shape[2]
    head = I_PK_HEAD_DL + 2 * d
    cnt = I_PK_CNT_DL + 2 * d
    while k < end and arr_slot[k] <= t:
        bits = arr_bits[k]
        uf[u, F_BUF_DL + d] += bits
        uf[u, F_ARRIVED_DL + d] += bits
        if ui[u, cnt] < cap:
            pos = (ui[u, head] + ui[u, cnt]) % cap
            pk_slot[u, d, pos] = arr_slot[k]
            pk_end[u, d, pos] = uf[u, F_ARRIVED_DL + d]
            ui[u, cnt] += 1
        if arr_slot[k] >= warm:
            ui[u, I_PK_SENT_DL + 3 * d] += 1
        k += 1
    ui[u, I_ARR_DL + d] = k


@numba.njit(cache=True, inline="always")
def _transmit(uf, ui, hq, pk_slot, pk_end, hist, d, u, h_new, rbg_list, n_rbg_u, t, warm, p, idx, idx_est):
    """Send one transport block to (d=0) or from (d=1) user u on the RBGs ``rbg_list[:n_rbg_u]``:
    a retransmission of process ``h_new`` when it is active, else new data in it. ``p`` holds the
    slot's constants (see :func:`run_block`). Returns the bits delivered."""
    (sinr_mean, rbg_size, n_prb, bank_prb, bank_rbg, prof, cps, n_samples, toff, fading,
     la_ideal, mcs_thr, mcs_qm, mcs_r, slope_db, bler_target, olla_step, cqi_thr, cqi_eff,
     bits_per_prb_eff, n_re_prb, csi_delay, seed, slot_s, budget_s, max_tx, rtt, nrx_ul) = p
    nrx = ui[u, I_NRX] if d == 0 else nrx_ul
    fshift = ui[u, I_FSHIFT]
    # effective SINR over the PRBs actually used this slot (MIESM, Shannon measure); the sum of
    # log2(1 + SINR_k) is taken as log2 of products of 8 terms (exact up to rounding, 8x fewer logs)
    s_log = 0.0
    n_prb_u = 0
    for j in range(n_rbg_u):
        r = rbg_list[j]
        lo = r * rbg_size
        hi = min(lo + rbg_size, n_prb)
        prod = 1.0
        c = 0
        for k in range(lo, hi):
            prod *= 1.0 + sinr_mean * _gain_at(bank_prb, prof, idx, nrx, k + fshift, fading)
            c += 1
            if c == 8:
                s_log += math.log2(prod)
                prod = 1.0
                c = 0
        s_log += math.log2(prod)
        n_prb_u += hi - lo
    if n_prb_u == 0:
        return 0.0
    sinr_real = effective_sinr_from_log2_scalar(s_log, n_prb_u)
    buf = F_BUF_DL + d
    if la_ideal:
        eff = _cqi_efficiency(10.0 * math.log10(max(sinr_real, 1e-30)), cqi_thr, cqi_eff)
        bits = min(eff * bits_per_prb_eff * n_prb_u, uf[u, buf]) if ui[u, I_FULL_DL + d] == 0 else \
            eff * bits_per_prb_eff * n_prb_u
        if ui[u, I_FULL_DL + d] == 0:
            uf[u, buf] -= bits
        if t >= warm:
            ui[u, I_TX_DL + 4 * d] += 1
        _deliver(uf, ui, pk_slot, pk_end, hist, d, u, bits, t, slot_s, warm, budget_s)
        return bits
    h = h_new
    retx = hq[u, d, h, H_ACTIVE] > 0.5
    if retx:
        mcs = int(hq[u, d, h, H_MCS])
        bits = hq[u, d, h, H_BITS]
        combined = hq[u, d, h, H_SINR] + sinr_real
    else:
        # channel estimate csi_delay slots old, over the same RBGs (RBG-mean gains)
        e_log = 0.0
        for j in range(n_rbg_u):
            e_log += math.log2(1.0 + sinr_mean * _gain_at(bank_rbg, prof, idx_est, nrx, rbg_list[j] + fshift // rbg_size,
                                                          fading))
        est_db = 10.0 * math.log10(max(effective_sinr_from_log2_scalar(e_log, n_rbg_u), 1e-30))
        mcs = max(select_mcs_scalar(est_db, mcs_thr, uf[u, F_OLLA_DL + d]), 0)   # below MCS 0: MCS 0 anyway
        tbs = tbs_bits_scalar(n_re_prb * n_prb_u, mcs_r[mcs], mcs_qm[mcs], 1)
        bits = tbs if ui[u, I_FULL_DL + d] == 1 else min(float(tbs), uf[u, buf])
        if ui[u, I_FULL_DL + d] == 0:
            uf[u, buf] -= bits
        combined = sinr_real
        hq[u, d, h, H_NTX] = 0.0
        if t >= warm:
            ui[u, I_TX_DL + 4 * d] += 1
    ntx = hq[u, d, h, H_NTX] + 1.0
    err = uniform01(seed, u, t, PURPOSE_DL + d) < bler_scalar(10.0 * math.log10(max(combined, 1e-30)),
                                                                 mcs_thr[mcs], slope_db)
    if not retx:   # the outer loop learns from first transmissions (Pokhariyal et al. 2007)
        uf[u, F_OLLA_DL + d] = olla_update_scalar(uf[u, F_OLLA_DL + d], err, olla_step, bler_target)
        if err and t >= warm:
            ui[u, I_ERR_DL + 4 * d] += 1
    elif t >= warm:
        ui[u, I_RETX_DL + 4 * d] += 1
    if not err:
        hq[u, d, h, H_ACTIVE] = 0.0
        _deliver(uf, ui, pk_slot, pk_end, hist, d, u, bits, t, slot_s, warm, budget_s)
        return bits
    if ntx >= max_tx:                       # HARQ gives up: the bits go back to the buffer (RLC)
        hq[u, d, h, H_ACTIVE] = 0.0
        if ui[u, I_FULL_DL + d] == 0:
            uf[u, buf] += bits
        if t >= warm:
            ui[u, I_DROP_DL + 4 * d] += 1
        return 0.0
    hq[u, d, h, H_ACTIVE] = 1.0
    hq[u, d, h, H_BITS] = bits
    hq[u, d, h, H_SINR] = combined
    hq[u, d, h, H_NTX] = ntx
    hq[u, d, h, H_READY] = t + rtt
    hq[u, d, h, H_MCS] = mcs
    hq[u, d, h, H_NRBG] = n_rbg_u
    return 0.0


@numba.njit(cache=True, inline="always")
def _has_data(uf, ui, hq, d, u, t):
    if ui[u, I_FULL_DL + d] == 1 or uf[u, F_BUF_DL + d] > 0.5:
        return True
    for h in range(N_HARQ):
        if hq[u, d, h, H_ACTIVE] > 0.5 and hq[u, d, h, H_READY] <= t:
            return True
    return False


@numba.njit(cache=True, inline="always")
def _free_process(hq, d, u):
    for h in range(N_HARQ):
        if hq[u, d, h, H_ACTIVE] < 0.5:
            return h
    return -1


@numba.njit(cache=True, inline="always")
def _ready_process(hq, d, u, t):
    for h in range(N_HARQ):
        if hq[u, d, h, H_ACTIVE] > 0.5 and hq[u, d, h, H_READY] <= t:
            return h
    return -1


@numba.njit(parallel=True, cache=True)
def run_block(t0, n_slots, slot_dir, warm, slot_s,
              sec_ptr, sec_ues, n_rbg, rbg_size, n_prb,
              slice_share, slice_order, slice_budget_s, deficit, rr_ptr,
              uf, ui, hq, pk_slot, pk_end, hist, toff_dl, toff_ul,
              sec_noise_ul_mw, sec_interf_ul_mw, sf, slice_rbg,
              bank_prb, bank_rbg, cps, fading,
              la_ideal, mcs_thr, mcs_qm, mcs_r, slope_db, bler_target, olla_step, cqi_thr, cqi_eff,
              bits_per_prb_eff, n_re_prb_dl, n_re_prb_ul, csi_delay, max_tx, rtt,
              pf_alpha, rr, ul_max_ues, p0_dbm, alpha, mu, nrx_ul,
              arr_end_dl, arr_slot_dl, arr_bits_dl, arr_end_ul, arr_slot_ul, arr_bits_ul, seed):
    """Run slots [t0, t0 + n_slots) for every sector. ``slot_dir[i]``: 0 downlink, 1 uplink, 2
    both (FDD). Updates the state arrays in place (fields named by the module's constants)."""
    n_sec = sec_ptr.size - 1
    n_slices = slice_share.size
    n_samples = bank_prb.shape[1]
    for s in numba.prange(n_sec):
        ues = sec_ues[sec_ptr[s]:sec_ptr[s + 1]]
        n_u = ues.size
        owner = np.full(n_rbg, -1, dtype=np.int64)
        rbg_list = np.empty(n_rbg, dtype=np.int64)
        served = np.zeros(n_u, dtype=np.float64)
        got = np.zeros(n_u, dtype=np.int64)
        need = np.zeros(n_u, dtype=np.float64)
        est_bits = np.zeros(n_u, dtype=np.float64)
        slice_need = np.zeros(n_slices, dtype=np.float64)
        grant = np.zeros(n_slices, dtype=np.int64)
        metric = np.zeros((n_u, n_rbg), dtype=np.float64)
        cand = np.zeros(n_u, dtype=np.bool_)
        ix_now = np.zeros((n_u, 8), dtype=np.int64)
        ix_est = np.zeros((n_u, 8), dtype=np.int64)
        fbuf = np.empty(1, dtype=np.float64)
        ibuf = fbuf.view(np.int64)
        for i in range(n_slots):
            t = t0 + i
            for a in range(n_u):
                u = ues[a]
                _arrive(uf, ui, pk_slot, pk_end, 0, u, t, warm, arr_end_dl, arr_slot_dl, arr_bits_dl)
                _arrive(uf, ui, pk_slot, pk_end, 1, u, t, warm, arr_end_ul, arr_slot_ul, arr_bits_ul)
            for d in range(2):
                if not (slot_dir[i] == d or slot_dir[i] == 2):
                    continue
                if d == 0:
                    sf[s, S_SLOTS_DL] += 1
                else:
                    sf[s, S_SLOTS_UL] += 1
                if n_u == 0:
                    continue
                # --- what each user and slice needs (RBGs) ---------------------------------
                slice_need[:] = 0.0
                n_active = 0
                for a in range(n_u):
                    u = ues[a]
                    served[a] = 0.0
                    got[a] = 0
                    need[a] = 0.0
                    if not _has_data(uf, ui, hq, d, u, t):
                        continue
                    n_active += 1
                    if d == 0:
                        sinr = uf[u, F_SINR_DL] * ui[u, I_NRX]
                    else:
                        sinr = uf[u, F_GAIN_UL] * 10.0 ** (uf[u, F_PCMAX_DBM] / 10.0) / n_prb / (
                            sec_noise_ul_mw + sec_interf_ul_mw[s]) * nrx_ul
                    per_rbg = max(math.log2(1.0 + sinr) * bits_per_prb_eff[d] * rbg_size, 1.0)
                    est_bits[a] = per_rbg
                    if ui[u, I_FULL_DL + d] == 1:
                        need[a] = n_rbg
                    else:
                        need[a] = math.ceil(uf[u, F_BUF_DL + d] / per_rbg)
                        h = _ready_process(hq, d, u, t)
                        if h >= 0:
                            need[a] += hq[u, d, h, H_NRBG]
                    need[a] = min(need[a], ui[u, I_MAX_RBG] if d == 0 else n_rbg)
                    slice_need[ui[u, I_SLICE]] += need[a]
                    if fading:      # the bank rows this slot (now and csi_delay slots ago), once per user
                        nrx_u = ui[u, I_NRX] if d == 0 else nrx_ul
                        toff_u = toff_dl[u] if d == 0 else toff_ul[u]
                        _indices(uf[u, F_POS], toff_u, cps, n_samples, nrx_u, ix_now[a])
                        _indices(uf[u, F_POS] - csi_delay * uf[u, F_FD_STEP], toff_u, cps, n_samples, nrx_u, ix_est[a])
                if n_active == 0:
                    continue
                # --- RBGs per slice: shares first (deficit counters), then leftovers by priority
                left = n_rbg
                for q in range(n_slices):
                    grant[q] = 0
                for q in range(n_slices):
                    if slice_need[q] <= 0:
                        continue
                    deficit[s, d, q] += slice_share[q] * n_rbg
                    g = min(int(deficit[s, d, q]), int(slice_need[q]), left)
                    deficit[s, d, q] -= g
                    if deficit[s, d, q] > n_rbg:
                        deficit[s, d, q] = n_rbg
                    grant[q] = g
                    left -= g
                for k in range(n_slices):
                    q = slice_order[k]
                    extra = min(left, int(slice_need[q]) - grant[q])
                    if extra > 0:
                        grant[q] += extra
                        left -= extra
                owner[:] = -1
                start = 0
                for k in range(n_slices):
                    q = slice_order[k]
                    g = grant[q]
                    if g <= 0:
                        continue
                    lo, hi = start, start + g
                    start = hi
                    if t >= warm:
                        slice_rbg[s, d, q] += g
                    # retransmissions first: they take the first RBGs of the slice's range
                    nxt = lo
                    for a in range(n_u):
                        u = ues[a]
                        if ui[u, I_SLICE] != q:
                            continue
                        h = _ready_process(hq, d, u, t)
                        if h < 0:
                            continue
                        m = int(hq[u, d, h, H_NRBG])
                        if nxt + m > hi:
                            continue
                        for r in range(nxt, nxt + m):
                            owner[r] = a
                        nxt += m
                        got[a] = -m          # marks a retransmission allocation
                    if d == 1:
                        # uplink: up to ul_max_ues users by wideband PF, PRBs split evenly
                        n_pick = 0
                        cand[:] = False                 # the users picked in this slice (got[] may be 1 elsewhere)
                        for _ in range(ul_max_ues):
                            best_a = -1
                            best_m = -1.0
                            for a in range(n_u):
                                u = ues[a]
                                if ui[u, I_SLICE] != q or got[a] != 0 or need[a] <= 0:
                                    continue
                                if _free_process(hq, 1, u) < 0:
                                    continue
                                m = est_bits[a] / max(uf[u, F_AVG_UL], 1e-9)
                                if m > best_m:
                                    best_m = m
                                    best_a = a
                            if best_a < 0:
                                break
                            got[best_a] = 1
                            cand[best_a] = True
                            n_pick += 1
                        if n_pick > 0:
                            span = hi - nxt
                            base = span // n_pick
                            extra_r = span - base * n_pick
                            r = nxt
                            for a in range(n_u):
                                if cand[a]:
                                    m = base + (1 if extra_r > 0 else 0)
                                    extra_r -= 1
                                    m = min(m, int(need[a]))
                                    for rr_ in range(r, r + m):
                                        owner[rr_] = a
                                    r += m
                                    got[a] = m
                        continue
                    if rr:
                        # time-domain round robin: the next user in turn takes what it can use
                        c = rr_ptr[s, q]
                        r = nxt
                        tried = 0
                        last = -1
                        while r < hi and tried < n_u:
                            a = (c + tried) % n_u
                            tried += 1
                            u = ues[a]
                            if ui[u, I_SLICE] != q or got[a] != 0 or need[a] <= 0 or _free_process(hq, 0, u) < 0:
                                continue
                            m = min(int(need[a]), hi - r)
                            for rr_ in range(r, r + m):
                                owner[rr_] = a
                            r += m
                            got[a] = m
                            last = a
                        if last >= 0:
                            rr_ptr[s, q] = (last + 1) % n_u
                        continue
                    # proportional fair per RBG on the delayed channel estimate: the metric of every
                    # candidate on every RBG of the range first, then each RBG to its best candidate
                    for a in range(n_u):
                        u = ues[a]
                        cand[a] = ui[u, I_SLICE] == q and got[a] >= 0 and need[a] > 0 and (
                            got[a] > 0 or _free_process(hq, 0, u) >= 0)
                        if not cand[a]:
                            continue
                        nrx_u = ui[u, I_NRX]
                        base = ui[u, I_FSHIFT] // rbg_size
                        prof_u = ui[u, I_LOS]
                        inv_avg = 1.0 / max(uf[u, F_AVG_DL], 1e-9)
                        s_u = uf[u, F_SINR_DL]
                        row_m = metric[a]
                        if fading:
                            for r in range(nxt, hi):
                                row_m[r] = 0.0
                            for bb in range(nrx_u):
                                row_b = bank_rbg[prof_u, ix_est[a, bb]]
                                for r in range(nxt, hi):
                                    row_m[r] += row_b[r + base]
                        else:
                            for r in range(nxt, hi):
                                row_m[r] = nrx_u
                        for r in range(nxt, hi):
                            row_m[r] = fast_log2(1.0 + s_u * row_m[r], fbuf, ibuf) * inv_avg
                    for r in range(nxt, hi):
                        best_a = -1
                        best_m = -1.0
                        for a in range(n_u):
                            if cand[a] and got[a] < need[a] and metric[a, r] > best_m:
                                best_m = metric[a, r]
                                best_a = a
                        if best_a < 0:
                            break
                        owner[r] = best_a
                        got[best_a] += 1
                # --- transmit: one transport block per scheduled user -------------------------
                used = 0
                for a in range(n_u):
                    if got[a] == 0:
                        continue
                    u = ues[a]
                    n_r = 0
                    for r in range(n_rbg):
                        if owner[r] == a:
                            rbg_list[n_r] = r
                            n_r += 1
                    if n_r == 0:
                        continue
                    used += n_r
                    if got[a] < 0:
                        h = _ready_process(hq, d, u, t)
                    else:
                        h = _free_process(hq, d, u)
                    q = ui[u, I_SLICE]
                    if d == 0:
                        sinr_mean = uf[u, F_SINR_DL]
                        toff = toff_dl[u]
                        n_re = n_re_prb_dl
                    else:
                        m_prb = min(n_r * rbg_size, n_prb)
                        p_dbm = pusch_power_dbm(uf[u, F_PCMAX_DBM], p0_dbm, alpha, uf[u, F_PL_DB], m_prb, mu)
                        p_mw = 10.0 ** (p_dbm / 10.0)
                        uf[u, F_UL_ENERGY] += p_mw
                        sinr_mean = p_mw / m_prb * uf[u, F_GAIN_UL] / (sec_noise_ul_mw + sec_interf_ul_mw[s])
                        toff = toff_ul[u]
                        n_re = n_re_prb_ul
                    p = (sinr_mean, rbg_size, n_prb, bank_prb, bank_rbg, ui[u, I_LOS], cps, n_samples, toff, fading,
                         la_ideal, mcs_thr, mcs_qm, mcs_r, slope_db, bler_target, olla_step, cqi_thr, cqi_eff,
                         bits_per_prb_eff[d], n_re, csi_delay, seed, slot_s, slice_budget_s[q], max_tx, rtt, nrx_ul)
                    bits = _transmit(uf, ui, hq, pk_slot, pk_end, hist, d, u, h, rbg_list, n_r, t, warm, p, ix_now[a], ix_est[a])
                    served[a] = bits
                    if t >= warm:
                        uf[u, F_RBG_DL + d] += n_r
                        if d == 0:
                            ui[u, I_SLOTS_SCHED] += 1
                    sf[s, S_BITS_DL_BLOCK + d] += bits
                    if t >= warm:
                        sf[s, S_BITS_DL + d] += bits
                if d == 0:
                    sf[s, S_RBG_DL] += used
                    if t >= warm:
                        sf[s, S_RBG_DL_TOTAL] += used
                else:
                    sf[s, S_RBG_UL] += used
                    if t >= warm:
                        sf[s, S_RBG_UL_TOTAL] += used
                # PF averages (exponential window), every user of the sector
                for a in range(n_u):
                    u = ues[a]
                    f = F_AVG_DL + d
                    uf[u, f] = (1.0 - pf_alpha) * uf[u, f] + pf_alpha * served[a]
            # the fading position advances with the user's Doppler
            for a in range(n_u):
                u = ues[a]
                uf[u, F_POS] += uf[u, F_FD_STEP]
