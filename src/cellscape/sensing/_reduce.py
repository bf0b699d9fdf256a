"""Per-tile reductions of the sensing maps (cellscape.pipeline.sense): from the one-way RSRP of
"units" (a site's strongest sector, or every sector) at each pixel to the best monostatic echo, the
sites detecting, the best bistatic echo, its TRP pair and the pairs detecting.

Two implementations with the same arithmetic: :func:`reduce_tile_numba` (one fused pass per pixel,
no (units x pixels) temporaries) and :func:`reduce_tile_numpy` (vectorised over the tile, a loop
over pairs), chosen like the map engine's backends and tested against each other.

Per unit u of site i(u), with RSRP_u the one-way RSRP (0 dBi receiver) and P_u its power per RE:

- monostatic echo of site i: max_u (2 RSRP_u + m_u), m_u = -P_u + 10 lg(4 pi / lambda^2) + RCS
  (float32, exactly as ``2 * rsrp + offset`` in numpy);
- bistatic, TX site A -> RX site B: max over sector pairs of RSRP_a + (RSRP_b - P_b) + k, which
  separates into max_a RSRP_a + max_b (RSRP_b - P_b) + k, k = 10 lg(4 pi / lambda^2) + RCS
  (summed in float64, rounded to float32 once, then compared).

With a per-pixel RCS (``sensing.rcs_random: draw``, ``sensing.target_heading_deg``;
:mod:`cellscape.sensing.rcs_maps`) a term per pixel is added to each site's echo (after the maximum
over its units: the RCS depends on the site's position, not on the sector) and to each pair's sum.

"Detecting" compares an echo with the echo a detection needs (the required SNR of
:func:`cellscape.sensing.detection.required_snr_db` turned into dBm by the caller): Pd is monotone
in the SNR, so echo >= required is Pd >= pd_required without a Pd per unit and pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TileReduction:
    """Maps of one tile, (rows, cols) each; None for a mode not asked for.

    ``mono_echo_dbm`` float32: best monostatic echo per RE over the sites; ``mono_n_detecting``
    float32: sites whose echo reaches ``mono_required_dbm``; ``bi_echo_dbm`` float32: best
    bistatic echo per RE over the pairs; ``bi_pair`` int32: index of that pair (-1: no pair);
    ``bi_n_detecting`` float32: pairs whose echo reaches ``bi_required_dbm``. ``ue_*``: the same three
    for TRP-UE pairs (filled by cellscape.pipeline.sense, which runs a second bistatic reduction with
    the UEs as receivers; None otherwise).
    """

    mono_echo_dbm: np.ndarray | None
    mono_n_detecting: np.ndarray | None
    bi_echo_dbm: np.ndarray | None
    bi_pair: np.ndarray | None
    bi_n_detecting: np.ndarray | None
    ue_echo_dbm: np.ndarray | None = None
    ue_pair: np.ndarray | None = None
    ue_n_detecting: np.ndarray | None = None


def reduce_tile_numpy(unit_rsrp_dbm, unit_site, unit_p_re_dbm, mono_offset_db, n_sites, *, mono: bool,
                      mono_required_dbm: float, pair_tx, pair_rx, bi_offset_db: float,
                      bi_required_dbm: float, mono_delta_db=None, bi_delta_db=None) -> TileReduction:
    """Reference implementation (numpy). ``unit_rsrp_dbm`` (n_units, rows, cols) float32, units grouped
    by site in site order; ``unit_site`` (n_units,) int; ``unit_p_re_dbm`` (n_units,) [dBm];
    ``mono_offset_db`` (n_units,) float32 [dB]; ``pair_tx``, ``pair_rx`` (n_pairs,) site indices
    (empty: no bistatic maps). Optional per-pixel terms (the per-pixel RCS,
    :mod:`cellscape.sensing.rcs_maps`): ``mono_delta_db`` (n_sites, rows, cols) float32 added to each
    site's echo (float32), ``bi_delta_db`` (n_pairs, rows, cols) float32 added to each pair's sum
    (in float64, before the one rounding to float32); None: no term (the arithmetic of before)."""
    rsrp = np.asarray(unit_rsrp_dbm, dtype=np.float32)
    unit_site = np.asarray(unit_site, dtype=np.int64)
    start = np.searchsorted(unit_site, np.arange(n_sites))                    # (n_sites,) first unit of each site
    shape = rsrp.shape[1:]
    mono_echo = mono_n = bi_echo = bi_pair = bi_n = None
    if mono:
        echo = rsrp * np.float32(2.0)                                        # (n_units, rows, cols) float32
        echo += np.asarray(mono_offset_db, dtype=np.float32)[:, None, None]
        site_echo = np.maximum.reduceat(echo, start, axis=0)                 # (n_sites, rows, cols)
        if mono_delta_db is not None:
            site_echo += np.asarray(mono_delta_db, dtype=np.float32)
        mono_echo = site_echo.max(axis=0)
        mono_n = np.count_nonzero(site_echo >= mono_required_dbm, axis=0).astype(np.float32)
        del echo, site_echo
    pair_tx = np.asarray(pair_tx, dtype=np.int64)
    pair_rx = np.asarray(pair_rx, dtype=np.int64)
    if pair_tx.size:
        tx = np.maximum.reduceat(rsrp.astype(np.float64), start, axis=0)   # (n_sites, rows, cols) max RSRP
        rx = np.maximum.reduceat(rsrp - np.asarray(unit_p_re_dbm, dtype=np.float64)[:, None, None], start, axis=0)
        best = np.full(shape, -np.inf, dtype=np.float32)
        bi_pair = np.full(shape, -1, dtype=np.int32)
        bi_n = np.zeros(shape, dtype=np.float32)
        req = np.float32(bi_required_dbm)
        for p, (a, b) in enumerate(zip(pair_tx, pair_rx)):
            if bi_delta_db is None:
                e = (tx[a] + rx[b] + bi_offset_db).astype(np.float32)          # (rows, cols), summed in float64
            else:
                e = (tx[a] + rx[b] + bi_offset_db + np.asarray(bi_delta_db[p], dtype=np.float64)).astype(np.float32)
            better = e > best
            best[better] = e[better]
            bi_pair[better] = p
            bi_n += e >= req
        bi_echo = best
    return TileReduction(mono_echo, mono_n, bi_echo, bi_pair, bi_n)


def _numba_kernel(parallel: bool):
    """The fused reduction (:func:`reduce_tile_numpy` in one pass), with the optional per-pixel terms
    (``mono_delta`` (n_sites, rows, cols), added to each site's echo; ``bi_delta`` (n_pairs, rows,
    cols), added to each pair's float64 sum), each used where its flag says so."""
    import numba

    @numba.njit(parallel=parallel, cache=True, nogil=True)
    def kernel(rsrp, unit_site, unit_p_re, mono_off, n_sites, mono, mono_req, pair_tx, pair_rx, bi_off, bi_req,
               out_mono, out_mono_n, out_bi, out_pair, out_bi_n, mono_delta, has_mono_delta, bi_delta, has_bi_delta):
        n_units, n_rows, n_cols = rsrp.shape
        n_pairs = pair_tx.size
        two = np.float32(2.0)
        for r in numba.prange(n_rows):
            site_echo = np.empty(n_sites, dtype=np.float32)
            tx = np.empty(n_sites, dtype=np.float64)
            rx = np.empty(n_sites, dtype=np.float64)
            for c in range(n_cols):
                for i in range(n_sites):
                    site_echo[i] = -np.inf
                    tx[i] = -np.inf
                    rx[i] = -np.inf
                for u in range(n_units):
                    i = unit_site[u]
                    v = rsrp[u, r, c]
                    if mono:
                        e = two * v + mono_off[u]                     # float32, as numpy
                        if e > site_echo[i]:
                            site_echo[i] = e
                    if n_pairs > 0:
                        vd = np.float64(v)
                        if vd > tx[i]:
                            tx[i] = vd
                        w = vd - unit_p_re[u]
                        if w > rx[i]:
                            rx[i] = w
                if mono:
                    if has_mono_delta:
                        for i in range(n_sites):
                            site_echo[i] = site_echo[i] + mono_delta[i, r, c]    # float32, as numpy
                    best = np.float32(-np.inf)
                    n = 0
                    for i in range(n_sites):
                        if site_echo[i] > best:
                            best = site_echo[i]
                        if site_echo[i] >= mono_req:
                            n += 1
                    out_mono[r, c] = best
                    out_mono_n[r, c] = n
                if n_pairs > 0:
                    best_b = np.float32(-np.inf)
                    bp = -1
                    n = 0
                    if has_bi_delta:      # two loops, not a test per pair
                        for p in range(n_pairs):
                            e = np.float32(tx[pair_tx[p]] + rx[pair_rx[p]] + bi_off + np.float64(bi_delta[p, r, c]))
                            if e > best_b:
                                best_b = e
                                bp = p
                            if e >= bi_req:
                                n += 1
                    else:
                        for p in range(n_pairs):
                            e = np.float32(tx[pair_tx[p]] + rx[pair_rx[p]] + bi_off)   # summed in float64, as numpy
                            if e > best_b:
                                best_b = e
                                bp = p
                            if e >= bi_req:
                                n += 1
                    out_bi[r, c] = best_b
                    out_pair[r, c] = bp
                    out_bi_n[r, c] = n

    return kernel


_KERNELS: dict = {}
_NO_DELTA = np.zeros((1, 1, 1), dtype=np.float32)


def _delta(delta_db):
    return _NO_DELTA if delta_db is None else np.ascontiguousarray(delta_db, dtype=np.float32)

PARALLEL_MIN_PIXELS = 65_536
"""Tiles smaller than this run the serial kernel: launching threads costs more than it saves there
(much more on a loaded machine)."""


def reduce_tile_numba(unit_rsrp_dbm, unit_site, unit_p_re_dbm, mono_offset_db, n_sites, *, mono: bool,
                      mono_required_dbm: float, pair_tx, pair_rx, bi_offset_db: float,
                      bi_required_dbm: float, mono_delta_db=None, bi_delta_db=None) -> TileReduction:
    """:func:`reduce_tile_numpy` compiled with numba (same arguments, same results to float32)."""
    rsrp = np.ascontiguousarray(unit_rsrp_dbm, dtype=np.float32)
    shape = rsrp.shape[1:]
    parallel = shape[0] * shape[1] >= PARALLEL_MIN_PIXELS
    if parallel not in _KERNELS:
        _KERNELS[parallel] = _numba_kernel(parallel)
    pair_tx = np.ascontiguousarray(pair_tx, dtype=np.int64)
    pair_rx = np.ascontiguousarray(pair_rx, dtype=np.int64)
    bi = pair_tx.size > 0
    out_mono = np.empty(shape if mono else (1, 1), dtype=np.float32)
    out_mono_n = np.empty(shape if mono else (1, 1), dtype=np.float32)
    out_bi = np.empty(shape if bi else (1, 1), dtype=np.float32)
    out_pair = np.empty(shape if bi else (1, 1), dtype=np.int32)
    out_bi_n = np.empty(shape if bi else (1, 1), dtype=np.float32)
    args = (rsrp, np.ascontiguousarray(unit_site, dtype=np.int64),
            np.ascontiguousarray(unit_p_re_dbm, dtype=np.float64), np.ascontiguousarray(mono_offset_db, dtype=np.float32), int(n_sites), bool(mono),
            np.float32(mono_required_dbm), pair_tx, pair_rx, float(bi_offset_db), np.float32(bi_required_dbm),
            out_mono, out_mono_n, out_bi, out_pair, out_bi_n,
            _delta(mono_delta_db), mono_delta_db is not None, _delta(bi_delta_db), bi_delta_db is not None)
    _KERNELS[parallel](*args)
    return TileReduction(out_mono if mono else None, out_mono_n if mono else None,
                         out_bi if bi else None, out_pair if bi else None,
                         out_bi_n if bi else None)


def reduce_tile(backend: str, *args, **kwargs) -> TileReduction:
    """:func:`reduce_tile_numba` for ``backend='numba'``, else :func:`reduce_tile_numpy`."""
    if backend == "numba":
        return reduce_tile_numba(*args, **kwargs)
    return reduce_tile_numpy(*args, **kwargs)


__all__ = ["TileReduction", "reduce_tile", "reduce_tile_numba", "reduce_tile_numpy"]
