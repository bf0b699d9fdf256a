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
   slot by the wideband PF metric and shares the RBGs evenly among them, none beyond what a user's
   power headroom fills at the open-loop power spectral density (it transmits on that many PRBs, at
   least one, of its last RBG); each transmits with the TS 38.213 7.1.1 open-loop power for its
   allocation. A link whose large-scale SINR stays
   below the lowest MCS's threshold even with all HARQ transmissions combined gets no new data (CQI
   0, out of range), in either direction and with either scheduler;
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
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from cellscape.radio.link_abstraction import (
    bler_scalar,
    effective_sinr_from_log2_scalar,
    olla_update_scalar,
    select_mcs_scalar,
    tbs_bits_scalar,
)
from cellscape.radio.uplink import pusch_power_dbm

# The radio helpers the loop calls per transport block, compiled into it instead of called: the
# same Python functions (each formula keeps its one home), inlined by numba. A call that passes an
# array costs two atomic reference-count updates, and calls stop the optimiser at their boundary.
_bler = numba.njit(inline="always")(bler_scalar.py_func)
_effective_sinr = numba.njit(inline="always")(effective_sinr_from_log2_scalar.py_func)
_olla_update = numba.njit(inline="always")(olla_update_scalar.py_func)
_select_mcs = numba.njit(inline="always")(select_mcs_scalar.py_func)
_tbs_bits = numba.njit(inline="always")(tbs_bits_scalar.py_func)
_pusch_power_dbm = numba.njit(inline="always")(pusch_power_dbm.py_func)

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


@numba.njit(cache=True, inline="always")
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


@intrinsic
def _bits_of(typingctx, x):
    """The IEEE-754 bits of a float64 as an int64: a register move, no round trip through memory."""
    if isinstance(x, types.Float) and x.bitwidth == 64:
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.IntType(64))
        return types.int64(types.float64), codegen
    return None


@intrinsic
def _float_of(typingctx, i):
    """The float64 whose IEEE-754 bits are the int64 ``i`` (inverse of :func:`_bits_of`)."""
    if isinstance(i, types.Integer) and i.bitwidth == 64:
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.DoubleType())
        return types.float64(types.int64), codegen
    return None


@intrinsic
def _prefetch(typingctx, arr, i, j, k):
    """Ask the CPU to bring the cache line of ``arr[i, j, k]`` (a 3-d array) towards L1; no effect
    on results (LLVM's prefetch: read, high locality)."""
    if not (isinstance(arr, types.Array) and arr.ndim == 3):
        return None

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = [context.cast(builder, v, t, types.intp) for v, t in zip(args[1:], signature.args[1:])]
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idx, wraparound=False)
        fnty = ir.FunctionType(ir.VoidType(), [cgutils.voidptr_t, ir.IntType(32), ir.IntType(32), ir.IntType(32)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        i32 = ir.IntType(32)
        builder.call(fn, [builder.bitcast(ptr, cgutils.voidptr_t), ir.Constant(i32, 0), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)])
        return context.get_dummy_value()
    return types.void(arr, i, j, k), codegen


@numba.njit(cache=True, inline="always")
def _bank_row(pos, toff, cps, n_samples, mask):
    """:func:`cellscape.propagation.fast_fading.sample_index` with the modulo as a bit mask when
    ``mask`` = n_samples - 1 >= 0 (n_samples a power of two: the same value for every integer,
    negative ones included, without a 64-bit division); ``mask`` = -1 keeps the modulo."""
    i = int(math.floor((pos + toff) / cps))
    return i & mask if mask >= 0 else i % n_samples


@numba.njit(cache=True, inline="always")
def _next_rows(uf, u, a, d, toff_dl, toff_ul, nrx, prof, csi_delay, cps, n_samples, mask, ix_now, ix_est, bank_prb,
               bank_rbg):
    """The bank rows user u (row ``a`` of the sector's arrays) reads in direction d in the slot its
    position ``uf[u, F_POS]`` is now at: that slot's own, per branch (``ix_now[d, a]``), and the
    channel estimate's, ``csi_delay`` slots older (``ix_est[d, a]``). A row that changed since the
    previous slot is prefetched: rows change every few slots, at random places of a bank bigger
    than L2, and waiting for them was about 40 % of the loop; computed at the end of the slot
    before, they arrive while that slot finishes."""
    pos = uf[u, F_POS]
    pos_est = pos - csi_delay * uf[u, F_FD_STEP]
    n_cols = bank_prb.shape[2]
    for b in range(nrx):
        toff = toff_dl[u, b] if d == 0 else toff_ul[u, b]     # (choosing an array would cost refcounts)
        r = _bank_row(pos, toff, cps, n_samples, mask)
        if r != ix_now[d, a, b]:
            ix_now[d, a, b] = r
            for k in range(0, n_cols, 16):          # a line is 16 float32
                _prefetch(bank_prb, prof, r, k)
            _prefetch(bank_prb, prof, r, n_cols - 1)
        r = _bank_row(pos_est, toff, cps, n_samples, mask)
        if r != ix_est[d, a, b]:
            ix_est[d, a, b] = r
            _prefetch(bank_rbg, prof, r, 0)
            _prefetch(bank_rbg, prof, r, bank_rbg.shape[2] - 1)


@numba.njit(cache=True, inline="always")
def _branch_sum(bank, prof, ix, d, a, nrx, col0, n, out):
    """out[k] = the fast-fading gain summed over the ``nrx`` branches (MRC) at bank column col0 + k,
    k < n: the additions of :func:`_gain_at`, in the same order. The column index is unsigned: a
    signed one gets numba's negative-index wrap-around test, which turns the loads into gathers."""
    c0 = np.uint64(col0)
    for k in range(np.uint64(n)):
        out[k] = 0.0
    for b in range(nrx):
        i = ix[d, a, b]
        for k in range(np.uint64(n)):
            out[k] += bank[prof, i, c0 + k]


@numba.njit(cache=True, inline="always")
def _gain_at(bank, prof, ix, d, a, nrx, col, fading):
    """Fast-fading power gain summed over the receive branches (MRC) at bank column ``col``; the
    branches' bank rows are ``ix[d, a]``."""
    if not fading:
        return float(nrx)
    g = 0.0
    for b in range(nrx):
        g += bank[prof, ix[d, a, b], col]
    return g


@numba.njit(cache=True, inline="always")
def fast_log2(x):
    """log2 of a normal x > 0 to within 3e-5: the exponent read from the float's bits, log2 of the
    mantissa in [1, 2) by a degree-5 least-squares fit. The proportional-fair metric only ranks
    users, so it need not cost a libm call per RBG; the bits are reinterpreted in registers, so a
    loop of these vectorises.

    >>> abs(fast_log2(3.7) - math.log2(3.7)) < 3e-5
    True
    """
    bits = _bits_of(x)
    e = ((bits >> 52) & 0x7FF) - 1023
    t = _float_of((bits & 0xFFFFFFFFFFFFF) | 0x3FF0000000000000) - 1.0
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
def _transmit(uf, ui, hq, pk_slot, pk_end, hist, d, u, h_new, rbg_lists, a, n_rbg_u, t, warm, sinr_mean, nrx,
              ix_now, ix_est, term, bank_prb, bank_rbg, mcs_thr, mcs_qm, mcs_r, cqi_thr, cqi_eff, c):
    """Send one transport block to (d=0) or from (d=1) user u (row ``a`` of the sector's scratch
    arrays) on the RBGs ``rbg_lists[a, :n_rbg_u]``: a retransmission of process ``h_new`` when it is
    active, else new data in it. ``sinr_mean``: the mean SINR per RE and branch, ``nrx`` branches;
    ``ix_now[d, a]``/``ix_est[d, a]``: the bank rows of this slot and of the channel estimate; ``term``:
    scratch of at least ``rbg_size`` floats; ``c``: the slot's scalar constants (see the call in
    :func:`_run_sector`; at most 30 arguments, or CPython passes them as ``*args``, which numba
    cannot inline); the rest as in :func:`run_block`. Returns the bits delivered."""
    (rbg_size, n_prb, fading, la_ideal, slope_db, bler_target, olla_step, bits_per_prb_eff, n_re_prb, seed,
     slot_s, budget_s, max_tx, rtt, prb_cap) = c
    prof = ui[u, I_LOS]
    fshift = ui[u, I_FSHIFT]
    # effective SINR over the PRBs actually used this slot (MIESM, Shannon measure); the sum of
    # log2(1 + SINR_k) is taken as log2 of products of 8 terms (exact up to rounding, 8x fewer logs)
    s_log = 0.0
    n_prb_u = 0
    for j in range(n_rbg_u):
        lo = rbg_lists[a, j] * rbg_size
        n = min(lo + rbg_size, n_prb, lo + prb_cap - n_prb_u) - lo     # prb_cap: PRBs the user transmits on
        if n <= 0:
            break
        # the RBG's terms 1 + SINR_k first (loops that vectorise), then the products
        if fading:
            _branch_sum(bank_prb, prof, ix_now, d, a, nrx, lo + fshift, n, term)
        else:
            for k in range(n):
                term[k] = float(nrx)
        for k in range(n):
            term[k] = 1.0 + sinr_mean * term[k]
        for g0 in range(0, n, 8):       # groups of 8 PRBs from the RBG's start, as 1.0 * t0 * t1 * ...
            prod = 1.0
            for k in range(g0, min(g0 + 8, n)):
                prod *= term[k]
            s_log += math.log2(prod)
        n_prb_u += n
    if n_prb_u == 0:
        return 0.0
    sinr_real = _effective_sinr(s_log, n_prb_u)
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
            e_log += math.log2(1.0 + sinr_mean * _gain_at(bank_rbg, prof, ix_est, d, a, nrx,
                                                          rbg_lists[a, j] + fshift // rbg_size, fading))
        est_db = 10.0 * math.log10(max(_effective_sinr(e_log, n_rbg_u), 1e-30))
        mcs = max(_select_mcs(est_db, mcs_thr, uf[u, F_OLLA_DL + d]), 0)   # below MCS 0: MCS 0 anyway
        tbs = _tbs_bits(n_re_prb * n_prb_u, mcs_r[mcs], mcs_qm[mcs], 1)
        bits = tbs if ui[u, I_FULL_DL + d] == 1 else min(float(tbs), uf[u, buf])
        if ui[u, I_FULL_DL + d] == 0:
            uf[u, buf] -= bits
        combined = sinr_real
        hq[u, d, h, H_NTX] = 0.0
        if t >= warm:
            ui[u, I_TX_DL + 4 * d] += 1
    ntx = hq[u, d, h, H_NTX] + 1.0
    err = uniform01(seed, u, t, PURPOSE_DL + d) < _bler(10.0 * math.log10(max(combined, 1e-30)),
                                                                 mcs_thr[mcs], slope_db)
    if not retx:   # the outer loop learns from first transmissions (Pokhariyal et al. 2007)
        uf[u, F_OLLA_DL + d] = _olla_update(uf[u, F_OLLA_DL + d], err, olla_step, bler_target)
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
def _count_active(hq, d, u):
    """HARQ processes of user u in direction d waiting for a retransmission."""
    n = 0
    for h in range(N_HARQ):
        if hq[u, d, h, H_ACTIVE] > 0.5:
            n += 1
    return n


@numba.njit(cache=True, inline="always")
def _free_process(hq, d, u, n_act):
    """First idle HARQ process of user u (-1: none). ``n_act``: its active processes (the count the
    slot loop keeps): none active is process 0 and all active is none, without a scan."""
    if n_act == 0:
        return 0
    if n_act >= N_HARQ:
        return -1
    for h in range(N_HARQ):
        if hq[u, d, h, H_ACTIVE] < 0.5:
            return h
    return -1


@numba.njit(cache=True, inline="always")
def _ready_process(hq, d, u, t, n_act):
    """First HARQ process of user u due for a retransmission at slot t (-1: none); users without an
    active process (most of them, most slots) are not scanned."""
    if n_act == 0:
        return -1
    for h in range(N_HARQ):
        if hq[u, d, h, H_ACTIVE] > 0.5 and hq[u, d, h, H_READY] <= t:
            return h
    return -1


def run_block(t0, n_slots, slot_dir, *args):
    """Run slots [t0, t0 + n_slots) for every sector. ``slot_dir[i]``: 0 downlink, 1 uplink, 2
    both (FDD). Updates the state arrays in place (fields named by the module's constants); the
    arguments are those of :func:`_run_block`, in its order.

    One parallel region per call (a measurement block: the users' large-scale channels and
    attachments change between blocks only): each sector runs all the block's slots in one task.
    Sectors are handed out one at a time (numba's chunk size 1) rather than split in equal halves
    up front, the most users first (:func:`_run_block`), so that a thread that finishes early, or
    that the OS preempted for a while, takes over the rest. No sector reads what another writes,
    so results do not depend on the schedule."""
    old = numba.set_parallel_chunksize(1)     # set here: inside compiled code it would block the cache
    try:
        _run_block(t0, n_slots, slot_dir, *args)
    finally:
        numba.set_parallel_chunksize(old)


@numba.njit(parallel=True, cache=True)
def _run_block(t0, n_slots, slot_dir, warm, slot_s,
               sec_ptr, sec_ues, n_rbg, rbg_size, n_prb,
               slice_share, slice_order, slice_budget_s, deficit, rr_ptr,
               uf, ui, hq, pk_slot, pk_end, hist, toff_dl, toff_ul,
               sec_noise_ul_mw, sec_interf_ul_mw, sf, slice_rbg,
               bank_prb, bank_rbg, cps, fading,
               la_ideal, mcs_thr, mcs_qm, mcs_r, slope_db, bler_target, olla_step, cqi_thr, cqi_eff,
               bits_per_prb_eff, n_re_prb_dl, n_re_prb_ul, csi_delay, max_tx, rtt,
               pf_alpha, rr, ul_max_ues, p0_dbm, alpha, mu, nrx_ul,
               arr_end_dl, arr_slot_dl, arr_bits_dl, arr_end_ul, arr_slot_ul, arr_bits_ul, seed):
    """The parallel loop of :func:`run_block`: every sector, the sectors with the most users first
    (under dynamic scheduling the big ones start early and the small ones fill the gaps)."""
    n_sec = sec_ptr.size - 1
    n_slices = slice_share.size
    n_samples = bank_prb.shape[1]
    mask = n_samples - 1 if (n_samples & (n_samples - 1)) == 0 else -1
    sec_order = np.argsort(-(sec_ptr[1:] - sec_ptr[:-1]), kind="mergesort")
    for k_s in numba.prange(n_sec):
        _run_sector(sec_order[k_s], t0, n_slots, slot_dir, warm, slot_s, sec_ptr, sec_ues, n_rbg, rbg_size, n_prb,
                    n_slices, slice_share, slice_order, slice_budget_s, deficit, rr_ptr,
                    uf, ui, hq, pk_slot, pk_end, hist, toff_dl, toff_ul,
                    sec_noise_ul_mw, sec_interf_ul_mw, sf, slice_rbg,
                    bank_prb, bank_rbg, cps, fading, n_samples, mask,
                    la_ideal, mcs_thr, mcs_qm, mcs_r, slope_db, bler_target, olla_step, cqi_thr, cqi_eff,
                    bits_per_prb_eff, n_re_prb_dl, n_re_prb_ul, csi_delay, max_tx, rtt,
                    pf_alpha, rr, ul_max_ues, p0_dbm, alpha, mu, nrx_ul,
                    arr_end_dl, arr_slot_dl, arr_bits_dl, arr_end_ul, arr_slot_ul, arr_bits_ul, seed)


# error_model="numpy": no zero-divisor test (and raise path) on each division; every divisor here is
# positive by construction (cps, PRB and RBG counts, noise). Raise paths kept numba from pruning the
# atomic reference-count updates around the inlined helpers.
@numba.njit(cache=True, error_model="numpy")
def _run_sector(s, t0, n_slots, slot_dir, warm, slot_s, sec_ptr, sec_ues, n_rbg, rbg_size, n_prb,
                n_slices, slice_share, slice_order, slice_budget_s, deficit, rr_ptr,
                uf, ui, hq, pk_slot, pk_end, hist, toff_dl, toff_ul,
                sec_noise_ul_mw, sec_interf_ul_mw, sf, slice_rbg,
                bank_prb, bank_rbg, cps, fading, n_samples, mask,
                la_ideal, mcs_thr, mcs_qm, mcs_r, slope_db, bler_target, olla_step, cqi_thr, cqi_eff,
                bits_per_prb_eff, n_re_prb_dl, n_re_prb_ul, csi_delay, max_tx, rtt,
                pf_alpha, rr, ul_max_ues, p0_dbm, alpha, mu, nrx_ul,
                arr_end_dl, arr_slot_dl, arr_bits_dl, arr_end_ul, arr_slot_ul, arr_bits_ul, seed):
    """Slots [t0, t0 + n_slots) of sector ``s`` (the body of :func:`run_block`'s parallel loop)."""
    ues = sec_ues[sec_ptr[s]:sec_ptr[s + 1]]
    n_u = ues.size
    owner = np.full(n_rbg, -1, dtype=np.int64)
    rbg_lists = np.empty((n_u, n_rbg), dtype=np.int64)     # each scheduled user's RBGs, ascending
    n_r_of = np.zeros(n_u, dtype=np.int64)
    served = np.zeros(n_u, dtype=np.float64)
    got = np.zeros(n_u, dtype=np.int64)
    need = np.zeros(n_u, dtype=np.float64)
    est_bits = np.zeros(n_u, dtype=np.float64)
    slice_need = np.zeros(n_slices, dtype=np.float64)
    grant = np.zeros(n_slices, dtype=np.int64)
    metric = np.zeros((n_rbg, n_u), dtype=np.float64)      # PF metric, RBG-major: the argmax reads a row
    row_m = np.zeros(n_rbg, dtype=np.float64)
    term = np.zeros(rbg_size, dtype=np.float64)
    cand = np.zeros(n_u, dtype=np.bool_)
    ix_now = np.full((2, n_u, 8), -1, dtype=np.int64)      # bank rows per direction, user, branch
    ix_est = np.full((2, n_u, 8), -1, dtype=np.int64)
    # what stays fixed over the block, once per user instead of once per slot: the sector's
    # users' fields side by side (users of a sector are scattered over the state arrays), the
    # wideband rate estimate per RBG (the large-scale SINR changes between blocks only), how many
    # HARQ processes are active (kept up to date below) and whether arrivals are left
    slc = np.empty(n_u, dtype=np.int64)
    nrx_dl = np.empty(n_u, dtype=np.int64)
    full = np.empty((n_u, 2), dtype=np.bool_)
    cap_rbg = np.empty((n_u, 2), dtype=np.int64)
    per_rbg = np.empty((n_u, 2), dtype=np.float64)
    n_act = np.empty((n_u, 2), dtype=np.int64)
    arr_left = np.empty((n_u, 2), dtype=np.bool_)
    link_ok = np.empty((n_u, 2), dtype=np.bool_)
    cap_prb_ul = np.empty(n_u, dtype=np.int64)
    noise_interf_ul = sec_noise_ul_mw + sec_interf_ul_mw[s]
    # a link whose large-scale SINR stays below the lowest MCS's threshold even with every HARQ
    # transmission combined (chase combining adds SINRs) is not scheduled with new data: CQI 0 is
    # "out of range" (TS 38.214 Table 5.2.2.1-2). Without this gate a user that never decodes keeps
    # a zero PF average and takes every RBG of its cell (docs/validation.md, System level)
    sinr_floor = 10.0 ** (mcs_thr[0] / 10.0) / max_tx
    for a in range(n_u):
        u = ues[a]
        slc[a] = ui[u, I_SLICE]
        nrx_dl[a] = ui[u, I_NRX]
        cap_rbg[a, 0] = ui[u, I_MAX_RBG]
        for d in range(2):
            full[a, d] = ui[u, I_FULL_DL + d] == 1
            n_act[a, d] = _count_active(hq, d, u)
        sinr = uf[u, F_SINR_DL] * ui[u, I_NRX]
        per_rbg[a, 0] = max(math.log2(1.0 + sinr) * bits_per_prb_eff[0] * rbg_size, 1.0)
        sinr = uf[u, F_GAIN_UL] * 10.0 ** (uf[u, F_PCMAX_DBM] / 10.0) / n_prb / noise_interf_ul * nrx_ul
        per_rbg[a, 1] = max(math.log2(1.0 + sinr) * bits_per_prb_eff[1] * rbg_size, 1.0)
        arr_left[a, 0] = ui[u, I_ARR_DL] < arr_end_dl[u]
        arr_left[a, 1] = ui[u, I_ARR_UL] < arr_end_ul[u]
        link_ok[a, 0] = uf[u, F_SINR_DL] * ui[u, I_NRX] >= sinr_floor
        # uplink: its best case, one PRB at the open-loop power (TS 38.213 7.1.1) for it
        p1_mw = 10.0 ** (_pusch_power_dbm(uf[u, F_PCMAX_DBM], p0_dbm, alpha, uf[u, F_PL_DB], 1, mu) / 10.0)
        link_ok[a, 1] = p1_mw * uf[u, F_GAIN_UL] / noise_interf_ul * nrx_ul >= sinr_floor
        # uplink PRBs the user can fill at the open-loop power spectral density P0 + alpha PL per PRB
        # before reaching P_CMAX (its power headroom, TS 38.213 7.1.1), at least one; it transmits on
        # no more (the rest of its last RBG stays empty: the allocation unit here is the RBG)
        m_max_prb = 10.0 ** ((uf[u, F_PCMAX_DBM] - p0_dbm - alpha * uf[u, F_PL_DB]) / 10.0) / 2.0 ** mu
        cap_prb_ul[a] = max(1, min(n_prb, int(m_max_prb)))
        cap_rbg[a, 1] = -(-cap_prb_ul[a] // rbg_size)
    has_dir = np.zeros(2, dtype=np.bool_)     # the directions of the block's slots
    for i in range(n_slots):
        has_dir[0] |= slot_dir[i] != 1
        has_dir[1] |= slot_dir[i] != 0
    if fading:
        for a in range(n_u):
            u = ues[a]
            for d in range(2):
                if has_dir[d]:
                    _next_rows(uf, u, a, d, toff_dl, toff_ul, nrx_dl[a] if d == 0 else nrx_ul,
                               ui[u, I_LOS], csi_delay, cps, n_samples, mask, ix_now, ix_est, bank_prb, bank_rbg)
    for i in range(n_slots):
        t = t0 + i
        for a in range(n_u):
            u = ues[a]
            if arr_left[a, 0]:
                _arrive(uf, ui, pk_slot, pk_end, 0, u, t, warm, arr_end_dl, arr_slot_dl, arr_bits_dl)
                arr_left[a, 0] = ui[u, I_ARR_DL] < arr_end_dl[u]
            if arr_left[a, 1]:
                _arrive(uf, ui, pk_slot, pk_end, 1, u, t, warm, arr_end_ul, arr_slot_ul, arr_bits_ul)
                arr_left[a, 1] = ui[u, I_ARR_UL] < arr_end_ul[u]
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
                h_ready = _ready_process(hq, d, u, t, n_act[a, d])
                if not (full[a, d] or uf[u, F_BUF_DL + d] > 0.5 or h_ready >= 0):
                    continue
                n_active += 1
                est_bits[a] = per_rbg[a, d]
                if not link_ok[a, d]:
                    need[a] = hq[u, d, h_ready, H_NRBG] if h_ready >= 0 else 0.0   # retransmission only
                elif full[a, d]:
                    need[a] = n_rbg
                else:
                    need[a] = math.ceil(uf[u, F_BUF_DL + d] / per_rbg[a, d])
                    if h_ready >= 0:
                        need[a] += hq[u, d, h_ready, H_NRBG]
                need[a] = min(need[a], cap_rbg[a, d])
                slice_need[slc[a]] += need[a]
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
                    if slc[a] != q or n_act[a, d] == 0:
                        continue
                    u = ues[a]
                    h = _ready_process(hq, d, u, t, n_act[a, d])
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
                    # uplink: up to ul_max_ues users by wideband PF; the RBGs are shared out evenly, none
                    # beyond what a user needs (capped by its power headroom, cap_rbg), the rest to the others
                    n_pick = 0
                    cand[:] = False                 # the users picked in this slice (got[] may be 1 elsewhere)
                    for _ in range(ul_max_ues):
                        best_a = -1
                        best_m = -1.0
                        for a in range(n_u):
                            if slc[a] != q or got[a] != 0 or need[a] <= 0:
                                continue
                            if n_act[a, 1] >= N_HARQ:       # no idle HARQ process
                                continue
                            m = est_bits[a] / max(uf[ues[a], F_AVG_UL], 1e-9)
                            if m > best_m:
                                best_m = m
                                best_a = a
                        if best_a < 0:
                            break
                        got[best_a] = 1
                        cand[best_a] = True
                        n_pick += 1
                    if n_pick > 0:
                        left_r = hi - nxt
                        for a in range(n_u):
                            if cand[a]:
                                got[a] = 0
                        while left_r > 0:
                            n_open = 0
                            for a in range(n_u):
                                if cand[a] and got[a] < int(need[a]):
                                    n_open += 1
                            if n_open == 0:
                                break
                            share = max(1, left_r // n_open)
                            for a in range(n_u):
                                if cand[a] and left_r > 0:
                                    m = min(share, int(need[a]) - got[a], left_r)
                                    if m > 0:
                                        got[a] += m
                                        left_r -= m
                        r = nxt
                        for a in range(n_u):
                            if cand[a]:
                                for rr_ in range(r, r + got[a]):
                                    owner[rr_] = a
                                r += got[a]
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
                        if slc[a] != q or got[a] != 0 or need[a] <= 0 or n_act[a, 0] >= N_HARQ:
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
                # candidate on every RBG of the range first, then each RBG to its best candidate.
                # A user that cannot take an RBG (not a candidate, or got all it needs) has metric
                # -2 there: below the -1 every argmax starts from, as the metrics are >= 0
                for a in range(n_u):
                    cand[a] = slc[a] == q and got[a] >= 0 and need[a] > 0 and (
                        got[a] > 0 or n_act[a, 0] < N_HARQ)
                    if not (cand[a] and got[a] < need[a]):
                        for r in range(nxt, hi):
                            metric[r, a] = -2.0
                        continue
                    u = ues[a]
                    inv_avg = 1.0 / max(uf[u, F_AVG_DL], 1e-9)
                    s_u = uf[u, F_SINR_DL]
                    n_r = hi - nxt
                    if fading:
                        _branch_sum(bank_rbg, ui[u, I_LOS], ix_est, 0, a, nrx_dl[a], nxt + ui[u, I_FSHIFT] // rbg_size,
                                    n_r, row_m)
                    else:
                        for k in range(n_r):
                            row_m[k] = nrx_dl[a]
                    for k in range(np.uint64(n_r)):     # vectorises: fast_log2 works on the bits in registers
                        row_m[k] = fast_log2(1.0 + s_u * row_m[k]) * inv_avg
                    for k in range(n_r):
                        metric[nxt + k, a] = row_m[k]
                for r in range(nxt, hi):
                    best_a = -1
                    best_m = -1.0
                    for a in range(n_u):
                        if metric[r, a] > best_m:
                            best_m = metric[r, a]
                            best_a = a
                    if best_a < 0:
                        break
                    owner[r] = best_a
                    got[best_a] += 1
                    if got[best_a] >= need[best_a]:      # served in full: out of the running
                        for r2 in range(r + 1, hi):
                            metric[r2, best_a] = -2.0
            # --- transmit: one transport block per scheduled user -------------------------
            for a in range(n_u):
                n_r_of[a] = 0
            for r in range(n_rbg):
                a = owner[r]
                if a >= 0:
                    rbg_lists[a, n_r_of[a]] = r
                    n_r_of[a] += 1
            used = 0
            for a in range(n_u):
                n_r = n_r_of[a]
                if got[a] == 0 or n_r == 0:
                    continue
                u = ues[a]
                used += n_r
                if got[a] < 0:
                    h = _ready_process(hq, d, u, t, n_act[a, d])
                else:
                    h = _free_process(hq, d, u, n_act[a, d])
                was_active = hq[u, d, h, H_ACTIVE] > 0.5
                q = slc[a]
                if d == 0:
                    sinr_mean = uf[u, F_SINR_DL]
                    n_re = n_re_prb_dl
                    nrx_u = nrx_dl[a]
                else:
                    m_prb = min(n_r * rbg_size, n_prb, cap_prb_ul[a])
                    p_dbm = _pusch_power_dbm(uf[u, F_PCMAX_DBM], p0_dbm, alpha, uf[u, F_PL_DB], m_prb, mu)
                    p_mw = 10.0 ** (p_dbm / 10.0)
                    uf[u, F_UL_ENERGY] += p_mw
                    sinr_mean = p_mw / m_prb * uf[u, F_GAIN_UL] / noise_interf_ul
                    n_re = n_re_prb_ul
                    nrx_u = nrx_ul
                c = (rbg_size, n_prb, fading, la_ideal, slope_db, bler_target, olla_step, bits_per_prb_eff[d], n_re,
                     seed, slot_s, slice_budget_s[q], max_tx, rtt, n_prb if d == 0 else m_prb)
                bits = _transmit(uf, ui, hq, pk_slot, pk_end, hist, d, u, h, rbg_lists, a, n_r, t, warm, sinr_mean,
                                 nrx_u, ix_now, ix_est, term, bank_prb, bank_rbg, mcs_thr, mcs_qm, mcs_r, cqi_thr,
                                 cqi_eff, c)
                n_act[a, d] += int(hq[u, d, h, H_ACTIVE] > 0.5) - int(was_active)
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
        # the fading position advances with the user's Doppler; the next slot's bank rows
        for a in range(n_u):
            u = ues[a]
            uf[u, F_POS] += uf[u, F_FD_STEP]
            if fading and i + 1 < n_slots:
                for d in range(2):
                    if has_dir[d]:
                        _next_rows(uf, u, a, d, toff_dl, toff_ul, nrx_dl[a] if d == 0 else nrx_ul,
                                   ui[u, I_LOS], csi_delay, cps, n_samples, mask, ix_now, ix_est, bank_prb, bank_rbg)
