"""Interference cutoff of the map engine: per tile, only the sites that can matter.

The full sum visits every sector at every pixel, so a map costs pixels x sectors. Far sectors add
interference far below the noise. This module bounds what a sector can deliver anywhere in a tile,
finds through a spatial index of the sites (:class:`scipy.spatial.cKDTree`) the sites whose sectors
may exceed a share of the noise there, and chooses the sites a tile may leave out so that the
SINR error stays within ``interference_cutoff_db``; :func:`cellscape.coverage.engine.compute_coverage`
then runs the kernels on the kept sites only. Cost grows with pixels x kept sites.

The SINR error
--------------
At a pixel with best server RSRP S, kept interference I_K, dropped sectors D of received powers
P_s, load factor L and noise per RE N, the full sum and the cutoff give

    SINR_full = S / (L (I_K + sum_D P_s) + N),    SINR_cut = S / (L I_K + N),

so  0 <= SINR_cut - SINR_full [dB] = 10 log10(1 + L sum_D P_s / (L I_K + N))
                                  <= 10 log10(1 + L sum_D B_s / N)                        (1)

for any upper bounds B_s >= P_s. A tile drops the weakest sites while sum_D B_s stays within
``budget = (10^(x/10) - 1) N / L`` (:func:`dropped_budget_mw`), which makes (1) <= x at every
pixel of the tile. (n_D dropped sectors each below N 10^(-m/10) give the same bound with
sum_D B_s = n_D N 10^(-m/10): 10 log10(1 + L n_D 10^(-m/10)); summing the individual bounds lets
a tile drop many very weak sectors and fewer near the threshold.) The cutoff SINR is never
below the full-sum one: it is optimistic by at most x dB, and at x = 0.1 dB the dropped sectors
are together at least 16.3 dB below the noise (for L = 1).

Best server: if every dropped bound is below the best kept RSRP of a pixel, B_s < S_K, the full
sum's best server at that pixel is a kept sector, the same one (the kernels keep the first of
equal maxima, and the kept sectors keep their order), with the same RSRP (same tables, fields and
arithmetic). The engine checks this at every pixel after the kernel (:func:`uncertain_pixels`).
Where it fails (only pixels whose best kept RSRP is below the largest dropped bound, so at most
``budget``: 16.3 dB under the noise at x = 0.1 dB), :func:`widen` adds every dropped site whose
bound over the 8 x 8 pixel sub-block of such a pixel reaches that pixel's best kept RSRP, and the
tile is computed once more; that certifies every pixel. So the best server and its RSRP are those
of the full sum at every pixel; the SINR is within x dB. (A tile always keeps at least its
strongest site, so that there is a best server to certify.)

What it buys: the bound is a worst case. With ``los_mode: statistical`` a link may be LOS at any
distance, and with shadow fading a sector may be 5 sigma (20 to 40 dB) stronger than its median,
so at 0.1 dB a UMa macro at 3.5 GHz can matter over 100 km away and nothing is left out of a
city or regional map. Without them (``nlos``, or ``geometric`` beyond its LOS range, and no
shadow fading) its reach is some 25 to 35 km, and a map much wider than that costs pixels x the
sites within reach (benchmarks/cutoff_bench.py); ``los`` everywhere reaches beyond 100 km.

The bound B_s of one sector over a tile
---------------------------------------
The kernels compute P_s = (P_RE + G_UE) G_BS(theta, phi) g_path(d) 10^(-sigma z / 10) 10^(-O2I / 10)
from the engine's tables (coverage/backends/_inputs.py). Each factor is bounded over the tile:

- path gain g_path: the TR 38.901 loss of the engine's own distance table, which is exactly what
  the kernels read. (Not free space: it is no lower bound of TR 38.901 here; UMa LOS is up to
  1.6 dB below Friis under 160 m, InH LOS 3 to 5 dB below it, InF-SL LOS at 10 m and 28 GHz 0.4 dB
  below.) A pixel at distance d reads nodes k = floor(sqrt(d) / u_step) and k + 1; the bound takes
  the largest node value at index >= floor(sqrt(d_min) / u_step) - 1 (a tail maximum: no
  assumption that the loss grows with distance; one node of margin for rounding). The near
  clamp of the tables (the loss is held at the model's minimum distance) is inside the table,
  so it is covered. It is the largest over the LOS states the LOS mode allows there:
  ``statistical``: LOS or NLOS at any distance (TR 38.901 LOS probabilities stay > 0 at every
  distance, and the far-distance policy extrapolates the LOS law, so a far LOS link is possible);
  ``los`` / ``nlos``: that state; ``geometric``: LOS (times the largest Bullington factor, 1)
  within ``geometry.los_range_m``, NLOS only beyond (those links are not marched).
- shadow fading: ``SF_BOUND_SIGMA`` (5) times the largest spread of that state at those nodes.
  This is the one assumption of the bound: the correlated field (propagation/shadowing.py) is a
  sum of 256 cosines with no hard clip below sqrt(2 x 256) = 22.6 sigma, which would make the
  bound useless. Its marginal is strictly sub-Gaussian (E exp(l cos U) = I_0(l) <= exp(l^2/4)),
  and so is the inter-site mix sqrt(rho) z_common + sqrt(1 - rho) z_own; by Chernoff the fraction
  of a large map (where the 256 phases are equidistributed) on which one site's field is below
  -5 sigma is at most exp(-25/2) = 3.7e-6 (Gaussian: 2.9e-7). Where it is, that dropped site's
  power exceeds its bound by sigma (|z| - 5) dB at that pixel.
- antenna: the largest linear gain of the sector's table over the zenith-angle rows the tile's
  distances can reach (every azimuth).
- O2I: a loss >= 0 (TR 38.901 7.4.3), bounded by 0 dB.
- rounding: x (1 + ``ROUNDING_MARGIN``).

The spatial index
-----------------
Half the budget goes to the far field: a sector whose site lies beyond its ``far_radius_m``
(from the bound with the sector's peak gain) delivers at most ``budget / 2 / n_sectors`` anywhere
in the tile, so any number of them stays within half the budget; they are charged that share
each without being looked at. A ball query of the tree (the tile's centre, the largest far
radius plus the tile's half diagonal) gives the candidates; the other half of the budget (plus
what the far field left) goes to the weakest candidates by their exact tile bound.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
from scipy.spatial import cKDTree

from cellscape.coverage.backends._inputs import KernelStatic

SF_BOUND_SIGMA = 5.0
"""Most negative shadow fading the bound allows, in standard deviations (see the module docstring)."""

ROUNDING_MARGIN = 1e-6
"""Relative margin on every bound for float rounding in the kernels (float32 tables, fastmath)."""

FAR_BUDGET_SHARE = 0.5
"""Share of the dropped-power budget given to sites beyond their far radius (charged unseen)."""

MIN_LOAD = 1e-3
"""Load factor the budget assumes at least: with L < MIN_LOAD the bound (1) only gets looser."""

WIDEN_BLOCK_PX = 8
"""Side of the sub-blocks whose own bounds decide which dropped sites a widened tile adds [pixels]."""

_TREE_LEAF = 16


def dropped_budget_mw(cutoff_db: float, noise_mw: float, load_factor: float) -> float:
    """Largest sum of dropped received powers that keeps the SINR error within ``cutoff_db`` [mW].

    (10^(x/10) - 1) N / L, from bound (1) of the module docstring.

    Examples
    --------
    >>> round(10 * math.log10(dropped_budget_mw(0.1, 1.0, 1.0)), 2)   # dB under the noise
    -16.33
    """
    if not cutoff_db > 0.0:
        raise ValueError(f"cutoff_db must be > 0, got {cutoff_db}")
    return (10.0 ** (cutoff_db / 10.0) - 1.0) * noise_mw / max(load_factor, MIN_LOAD)


def sinr_error_bound_db(dropped_mw, noise_mw, load_factor):
    """Upper bound of the SINR error of dropping ``dropped_mw`` of interference [dB]:
    10 log10(1 + L dropped / N) (bound (1) of the module docstring).

    Examples
    --------
    >>> round(float(sinr_error_bound_db(300 * 10 ** (-41.1 / 10), 1.0, 1.0)), 3)   # 300 sectors 41.1 dB under N
    0.1
    """
    return 10.0 * np.log10(1.0 + load_factor * np.asarray(dropped_mw, dtype=float) / noise_mw)


def _tail_max(a: np.ndarray) -> np.ndarray:
    """out[..., k] = max(a[..., k:]) along the last axis."""
    return np.maximum.accumulate(a[..., ::-1], axis=-1)[..., ::-1]


def _sparse_table(rows: np.ndarray) -> np.ndarray:
    """Range-maximum table of ``rows`` (n, m): level j holds max(rows[:, i : i + 2^j])."""
    levels = [rows]
    span = 1
    while 2 * span <= rows.shape[1]:
        prev = levels[-1]
        nxt = prev.copy()
        nxt[:, : rows.shape[1] - span] = np.maximum(prev[:, : rows.shape[1] - span], prev[:, span:])
        levels.append(nxt)
        span *= 2
    return np.stack(levels, axis=1)                                    # (n, n_levels, m)


def _range_max(table: np.ndarray, which: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """max(rows[which, lo:hi + 1]) of the rows behind ``table`` (:func:`_sparse_table`), lo <= hi."""
    length = hi - lo + 1
    j = np.floor(np.log2(length)).astype(np.int64)
    return np.maximum(table[which, j, lo], table[which, j, hi - (1 << j) + 1])


@dataclass(frozen=True)
class CutoffIndex:
    """The per-run part of the cutoff: bounds as tables, the far radii and the tree of sites.

    ``path_any_lin`` / ``path_nlos_lin`` (n_groups, n_u): tail maxima over distance nodes of the
    path gain times the shadow-fading allowance, for a pixel whose link may be LOS (the LOS mode
    allows it there) or must be NLOS; sites with equal tables share a group (``site_group``).
    ``gain_rmq`` (n_patterns, n_levels, n_theta): range maxima over zenith rows of each antenna
    table's largest gain over azimuth. ``far_radius_m`` (n_sites,): beyond it every sector of the
    site delivers at most ``far_share_mw`` anywhere.
    """

    cutoff_db: float
    budget_mw: float
    far_share_mw: float
    static: KernelStatic
    tree: cKDTree
    site_group: np.ndarray
    path_any_lin: np.ndarray
    path_nlos_lin: np.ndarray
    los_range_m: float
    gain_rmq: np.ndarray
    site_sector_ptr: np.ndarray
    site_sector_idx: np.ndarray
    far_radius_m: np.ndarray

    @property
    def n_sites(self) -> int:
        return self.static.n_sites

    @property
    def max_far_radius_m(self) -> float:
        return float(np.max(self.far_radius_m)) if self.far_radius_m.size else 0.0


@dataclass(frozen=True)
class TileSelection:
    """The sites a tile keeps and what the dropped ones may add.

    ``sites`` (n_kept,) and ``sectors`` (n_kept_sectors,): kept indices, ascending (the kernels see
    them in this order, so ``sectors[k]`` is the run's index of the kernel's sector k);
    ``dropped_bound_mw``: sum of the dropped sectors' bounds (far ones at their share), <= the
    budget; ``max_dropped_mw``: the largest bound of one dropped sector (0 if none dropped).
    """

    sites: np.ndarray
    sectors: np.ndarray
    dropped_bound_mw: float
    max_dropped_mw: float
    n_sites_total: int

    @property
    def keeps_all(self) -> bool:
        return self.sites.size == self.n_sites_total


def build_index(static: KernelStatic, *, cutoff_db: float, site_group, shadow_fading: bool,
                los_mode: str, los_range_m: float = math.inf,
                sf_bound_sigma: float = SF_BOUND_SIGMA) -> CutoffIndex:
    """Tabulate the bounds of a run and index its sites (once per run, before the tiles).

    ``site_group`` (n_sites,): sites with equal group share their distance tables (same
    environment and height); ``los_mode``: the scenario's (which LOS states are possible where);
    ``los_range_m``: geometric runs' march range (links longer are NLOS).
    """
    st = static
    group = np.asarray(site_group, dtype=np.int64)
    _, first, group = np.unique(group, return_index=True, return_inverse=True)
    dmax = 1.0
    if st.use_diffraction:
        dmax = max(1.0, float(np.max(st.diff_gain_lin)))
    sf_los = sf_nlos = 1.0
    if shadow_fading:
        sf_los = 10.0 ** (sf_bound_sigma * _tail_max(st.sf_std_los_db[first].astype(float)) / 10.0)
        sf_nlos = 10.0 ** (sf_bound_sigma * _tail_max(st.sf_std_nlos_db[first].astype(float)) / 10.0)
    g_los = st.gain_los_lin[first].astype(float)                                  # (n_groups, n_u)
    g_nlos = st.gain_nlos_lin[first].astype(float)
    los_lin = _tail_max(g_los * dmax) * sf_los                                      # a LOS link
    nlos_lin = _tail_max(g_nlos) * sf_nlos                                          # an NLOS link, not marched
    if los_mode == "nlos":
        any_lin = nlos_lin
    elif los_mode == "los":
        any_lin = nlos_lin = los_lin
    elif los_mode == "geometric" and st.use_diffraction:
        # a marched NLOS link takes min(PL_NLOS, PL_LOS + L_b): the larger of the two gains
        any_lin = np.maximum(los_lin, _tail_max(np.maximum(g_nlos, g_los * dmax)) * sf_nlos)
    else:
        any_lin = np.maximum(los_lin, nlos_lin)
    if los_mode != "geometric":
        los_range_m = math.inf

    budget = dropped_budget_mw(cutoff_db, st.noise_mw, st.load_factor)
    far_share = FAR_BUDGET_SHARE * budget / max(1, st.n_sectors)
    row_max = np.max(st.gain_lin, axis=2).astype(float)                          # (n_patterns, n_theta)
    gain_rmq = _sparse_table(row_max)
    order = np.argsort(st.sector_site, kind="stable")
    ptr = np.searchsorted(st.sector_site[order], np.arange(st.n_sites + 1))

    # far radius: beyond it every sector of the site is below far_share at every pixel
    peak = np.max(row_max, axis=1)[st.sector_pattern]                             # (n_sectors,)
    level = far_share / (st.sector_p_re_mw * peak * (1.0 + ROUNDING_MARGIN))     # (n_sectors,)
    sg = group[st.sector_site]
    n_u = st.gain_los_lin.shape[1]

    def first_node_below(tab):
        # tab rows are non-increasing: first node whose tail bound is <= level
        k = np.array([np.searchsorted(-tab[g], -lv, side="left") for g, lv in zip(sg, level)], dtype=np.int64)
        # a pixel at d >= ((k + 2) u_step)^2 reads nodes >= k + 1 - 1 (rounding margin) ...
        r = ((k + 2) * st.u_step) ** 2
        return np.where(k <= n_u - 2, r, np.inf)

    r_any = first_node_below(any_lin)
    r_nlos = first_node_below(nlos_lin)
    r_sec = np.minimum(r_any, np.maximum(r_nlos, _beyond(los_range_m)))
    far = np.zeros(st.n_sites)
    np.maximum.at(far, st.sector_site, r_sec)
    tree = cKDTree(np.column_stack([st.site_x_m, st.site_y_m]), leafsize=_TREE_LEAF)
    return CutoffIndex(cutoff_db=float(cutoff_db), budget_mw=budget, far_share_mw=far_share, static=st, tree=tree,
                       site_group=group, path_any_lin=any_lin, path_nlos_lin=nlos_lin, los_range_m=float(los_range_m),
                       gain_rmq=gain_rmq, site_sector_ptr=ptr, site_sector_idx=order, far_radius_m=far)


def _beyond(range_m: float) -> float:
    """A distance safely beyond ``range_m`` (the march compares the float64 distance with it)."""
    return range_m * (1.0 + 1e-9) + 1e-6 if math.isfinite(range_m) else math.inf


def _extent(x_m, y_m) -> tuple[float, float, float, float]:
    x = np.asarray(x_m, dtype=float)
    y = np.asarray(y_m, dtype=float)
    return float(x.min()), float(x.max()), float(y.min()), float(y.max())


def site_bounds_mw(index: CutoffIndex, sites: np.ndarray, x_m, y_m) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``sites`` over the pixels x_m x y_m (centres) of a tile: per site the sum over its
    sectors and the largest single sector, both (n,) [mW]."""
    st = index.static
    sites = np.asarray(sites, dtype=np.int64)
    x0, x1, y0, y1 = _extent(x_m, y_m)
    sx, sy = st.site_x_m[sites], st.site_y_m[sites]
    dx = np.maximum(np.maximum(x0 - sx, sx - x1), 0.0)
    dy = np.maximum(np.maximum(y0 - sy, sy - y1), 0.0)
    d_min = np.hypot(dx, dy)
    d_max = np.hypot(np.maximum(np.abs(sx - x0), np.abs(sx - x1)), np.maximum(np.abs(sy - y0), np.abs(sy - y1)))
    n_u = st.gain_los_lin.shape[1]
    k_lo = np.clip(np.floor(np.sqrt(d_min) / st.u_step).astype(np.int64) - 1, 0, n_u - 2)
    k_hi = np.clip(np.floor(np.sqrt(d_max) / st.u_step).astype(np.int64) + 2, 0, n_u - 1)
    g = index.site_group[sites]
    path = np.where(d_min > _beyond(index.los_range_m), index.path_nlos_lin[g, k_lo], index.path_any_lin[g, k_lo])
    th_a, th_b = st.theta_deg[sites, k_lo], st.theta_deg[sites, k_hi]
    n_t = st.gain_lin.shape[1]
    t_lo = np.clip(np.floor(np.minimum(th_a, th_b) / st.theta_step_deg).astype(np.int64) - 1, 0, n_t - 1)
    t_hi = np.clip(np.floor(np.maximum(th_a, th_b) / st.theta_step_deg).astype(np.int64) + 2, 0, n_t - 1)
    # the sectors of these sites, grouped by site
    starts, stops = index.site_sector_ptr[sites], index.site_sector_ptr[sites + 1]
    counts = stops - starts
    owner = np.repeat(np.arange(sites.size), counts)                               # (n_sec,) position in sites
    pos = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    sec = index.site_sector_idx[np.repeat(starts, counts) + pos]
    gain = _range_max(index.gain_rmq, st.sector_pattern[sec], t_lo[owner], t_hi[owner])
    b = st.sector_p_re_mw[sec] * gain * path[owner] * (1.0 + ROUNDING_MARGIN)     # (n_sec,)
    total = np.bincount(owner, weights=b, minlength=sites.size)
    peak = np.zeros(sites.size)
    np.maximum.at(peak, owner, b)
    return total, peak


def _sectors_of(index: CutoffIndex, sites: np.ndarray) -> np.ndarray:
    keep = np.zeros(index.n_sites, dtype=bool)
    keep[sites] = True
    return np.flatnonzero(keep[index.static.sector_site])


def select(index: CutoffIndex, x_m, y_m) -> TileSelection:
    """The sites a tile of pixel centres ``x_m`` (n_cols,) x ``y_m`` (n_rows,) keeps [m]."""
    st = index.static
    x0, x1, y0, y1 = _extent(x_m, y_m)
    centre = ((x0 + x1) / 2.0, (y0 + y1) / 2.0)
    half = math.hypot((x1 - x0) / 2.0, (y1 - y0) / 2.0)
    r = index.max_far_radius_m + half
    if math.isfinite(r):
        cand = np.sort(np.asarray(index.tree.query_ball_point(centre, r * (1.0 + 1e-9) + 1e-6), dtype=np.int64))
    else:
        cand = np.arange(index.n_sites)
    sx, sy = st.site_x_m[cand], st.site_y_m[cand]
    d_min = np.hypot(np.maximum(np.maximum(x0 - sx, sx - x1), 0.0), np.maximum(np.maximum(y0 - sy, sy - y1), 0.0))
    cand = cand[~(d_min >= index.far_radius_m[cand])]
    if cand.size == 0 and index.n_sites:
        # every site is far: keep the nearest one, so that the kernel has a best server to certify
        cand = np.atleast_1d(np.asarray(index.tree.query(centre)[1], dtype=np.int64))
    n_far_sectors = st.n_sectors - int(np.sum(index.site_sector_ptr[cand + 1] - index.site_sector_ptr[cand]))
    far_charge = n_far_sectors * index.far_share_mw
    total, peak = site_bounds_mw(index, cand, x_m, y_m)
    order = np.argsort(total, kind="stable")
    cum = np.cumsum(total[order])
    n_drop = int(np.searchsorted(cum, index.budget_mw - far_charge, side="right"))
    n_drop = max(0, min(n_drop, cand.size - 1))        # keep the strongest candidate at least
    kept = np.sort(cand[order[n_drop:]])
    dropped_bound = far_charge + (float(cum[n_drop - 1]) if n_drop else 0.0)
    max_dropped = max(index.far_share_mw if n_far_sectors else 0.0,
                      float(np.max(peak[order[:n_drop]])) if n_drop else 0.0)
    return TileSelection(sites=kept, sectors=_sectors_of(index, kept), dropped_bound_mw=dropped_bound,
                         max_dropped_mw=max_dropped, n_sites_total=index.n_sites)


def widen(index: CutoffIndex, sel: TileSelection, x_m, y_m, best_rsrp_dbm: np.ndarray, unsure: np.ndarray, *,
          block_px: int = WIDEN_BLOCK_PX) -> TileSelection:
    """``sel`` plus the dropped sites that could be the strongest at an ``unsure`` pixel.

    ``best_rsrp_dbm`` (n_rows, n_cols): the best kept RSRP of the kernel run with ``sel``;
    ``unsure`` (n_rows, n_cols) bool: :func:`uncertain_pixels`. A dropped site is added if one of
    its sectors' bounds reaches the best kept RSRP of an unsure pixel, with the bound taken over
    the ``block_px`` x ``block_px`` sub-block of the tile holding that pixel (tighter than the
    tile's bound far from the site). Every pixel of the tile is then certain for a run with the
    returned selection: a remaining dropped sector is below the pixel's best kept RSRP (which only
    grows with more sites) at every pixel, certain ones through the tile's bound, unsure ones
    through their sub-block's.
    """
    x = np.asarray(x_m, dtype=float)
    y = np.asarray(y_m, dtype=float)
    best_mw = 10.0 ** (best_rsrp_dbm.astype(float) / 10.0) * (1.0 - 1e-5)
    dropped = np.setdiff1d(np.arange(index.n_sites), sel.sites, assume_unique=True)
    total, peak = site_bounds_mw(index, dropped, x, y)
    cand = peak >= float(np.min(best_mw[unsure]))          # others are below every unsure pixel's best
    add = np.zeros(dropped.size, dtype=bool)
    for r0 in range(0, y.size, block_px):
        for c0 in range(0, x.size, block_px):
            u = unsure[r0:r0 + block_px, c0:c0 + block_px]
            open_ = np.flatnonzero(cand & ~add)
            if not u.any() or open_.size == 0:
                continue
            floor = float(np.min(best_mw[r0:r0 + block_px, c0:c0 + block_px][u]))
            _, pk = site_bounds_mw(index, dropped[open_], x[c0:c0 + block_px], y[r0:r0 + block_px])
            add[open_[pk >= floor]] = True
    kept = np.union1d(sel.sites, dropped[add])
    rest = ~add
    return TileSelection(sites=kept, sectors=_sectors_of(index, kept),
                         dropped_bound_mw=min(sel.dropped_bound_mw, float(np.sum(total[rest]))),
                         max_dropped_mw=float(np.max(peak[rest])) if rest.any() else 0.0,
                         n_sites_total=index.n_sites)


def uncertain_pixels(best_rsrp_dbm: np.ndarray, sel: TileSelection) -> np.ndarray:
    """Pixels whose full-sum best server could be a dropped sector: best kept RSRP (the kernel's
    float32 dBm, read with a 1e-5 relative margin) not above the largest dropped bound (bool)."""
    if sel.max_dropped_mw <= 0.0:
        return np.zeros(best_rsrp_dbm.shape, dtype=bool)
    best_mw = 10.0 ** (best_rsrp_dbm.astype(float) / 10.0) * (1.0 - 1e-5)
    return ~(best_mw > sel.max_dropped_mw)


def kept_fraction_estimate(index: CutoffIndex, bounds_m, block_half_diag_m: float, *, n_samples: int = 32) -> float:
    """Rough share of the site-pixels of a map (``bounds_m`` = (xmin, ymin, xmax, ymax)) that blocks
    of half diagonal ``block_half_diag_m`` would keep: the share of n_samples^2 points of the map
    within a site's far radius plus that half diagonal, averaged over sites. A tiling heuristic
    (the engine keeps its full-sum tiling when blocks would save little), not part of the bound."""
    x0, y0, x1, y1 = bounds_m
    gx = x0 + (np.arange(n_samples) + 0.5) * (x1 - x0) / n_samples
    gy = y0 + (np.arange(n_samples) + 0.5) * (y1 - y0) / n_samples
    px, py = (a.ravel() for a in np.meshgrid(gx, gy))
    st = index.static
    reach = index.far_radius_m + block_half_diag_m                                # (n_sites,), may be inf
    near = np.zeros(index.n_sites)
    for start in range(0, index.n_sites, 256):
        sl = slice(start, start + 256)
        d = np.hypot(px[None, :] - st.site_x_m[sl, None], py[None, :] - st.site_y_m[sl, None])
        near[sl] = np.mean(d <= reach[sl, None], axis=1)
    return float(np.mean(near))
