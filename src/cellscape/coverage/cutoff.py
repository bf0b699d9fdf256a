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
``budget``: 16.3 dB under the noise at x = 0.1 dB), :func:`widen` adds every dropped candidate
(a site within the tile's far radius, below) whose bound over the 8 x 8 pixel sub-block of such a
pixel reaches that pixel's best kept RSRP, and the tile is computed once more; that certifies every
pixel: where a pixel's best kept RSRP is below the far field's largest single-site bound
(``far_single_mw``), the sites beyond the far radius that the far field's envelope does not rule
out are looked at too (:func:`certify_radius`). So the best server and its RSRP are those of the
full sum at every pixel; the SINR is within x dB. (An index over a subset of the network, a
national map's block, holds the sites for pixels down to ``CERTIFY_BELOW_BUDGET_DB`` under the
budget, 36 dB under the noise at x = 0.1 dB; below that its best server may differ from the whole
network's.) (A tile always keeps at least its strongest site, so
that there is a best server to certify.)

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

The spatial index and the far field
-----------------------------------
Up to half the budget (``FAR_BUDGET_SHARE``) goes to the far field, which is never looked at site
by site. The network's sites are counted on a coarse square grid (:class:`FarField`: cells of
``cell_m``, a few hundred across the network), and one envelope bounds what any site of the
network can deliver at a distance: E(d) = max over site kinds of (the largest, over the kind's
sites, of what one site's sectors deliver together towards any direction, :func:`site_gain_sum_mw`:
~1.0 x one sector's peak for three sectors a third apart, where counting every sector at its peak
gave 3x) x (the kind's path-gain tail maximum at d), so that every
site of a cell delivers at most E(d_min) anywhere in the tile, d_min the distance from the tile to
the cell's nearest point. For a tile, :func:`far_radius` takes the smallest radius R (from the
tile's centre) such that the cells not wholly within R together stay within the far share:
sum over those cells of count x E(d_min) <= FAR_BUDGET_SHARE x budget. The sites within R
(a ball query of the k-d tree) are the candidates; every site beyond R lies in such a cell and is
covered by that sum (sites of those cells within R are counted twice, which only loosens the
bound). The rest of the budget goes to the weakest candidates by their exact tile bound. The
far radius therefore follows the network's density: in a city it is a few km, and a network of
millions of sites costs each tile its neighbours, not the country.

A national map indexes per region: the far field of the whole network (:func:`far_field`, a few
thousand cells) is passed to :func:`build_index` over the sites near a block
(:func:`subset_static`); each of the block's tiles then has the far radius and the candidates the
network's index gives it, provided the subset holds every site within that radius of the tile's
centre (:func:`far_radius` computed on the whole network's side, cellscape.pipeline.national), and
selects the same sites (tested).

Relative to the interference
----------------------------
Bound (1) divides by the noise alone; the kept interference helps too. At a pixel p with building
entry loss a_p (<= 1, linear) every site's power carries a_p, so the dropped power is at most a_p D
(D the tile's dropped bound, which takes O2I at 0 dB), and

    SINR_cut - SINR_full [dB] <= 10 log10(1 + L a_p D / (L I_K,p + N)),

which is <= x wherever D <= budget x Q_p / a_p with Q_p = (L I_K,p + N) / N. The kernel gives
L I_K,p + N = S_p / SINR_p from its own outputs, so after a run with the kept sites the bound can be
checked at every pixel: Q* = min_p Q_p / a_p (:func:`interference_gain`, >= 1). A tile therefore
first selects within ``gain`` x the budget (its far radius and dropped candidates both use it), the
gain taken from a coarse sample of its pixels (engine ``_first_gain``, at most
``RELATIVE_GAIN_DB``), runs the kernel and keeps the result if D <= budget x Q*: the error is then
within x at every pixel, as before ("bound") or in expectation ("expected"). Otherwise it selects
again within budget x Q* and checks again, and at last within the noise's budget (always valid).
Where the interference is tens of dB above the noise (dense cities) a tile keeps its neighbours
only; in a noise-limited network the result is that of the noise's budget.

The expected mode (``compute.interference_cutoff_mode: expected``)
-------------------------------------------------------------------
The bound above is a worst case in the LOS state and the shadow fading, which with statistical LOS
or shadow fading reaches past 100 km. Mode "expected" replaces B_s by an upper bound over the tile
of the EXPECTED received power, the expectation over the LOS draw and the shadow fading (the
antenna, O2I and rounding factors are bounded as above). Per interval [k, k + 1] of distance nodes
(a pixel interpolates linearly between two nodes) the path gain is bounded by

    max(p_LOS) max(g_LOS) max(m_LOS) + max(1 - p_LOS) max(g_NLOS) max(m_NLOS)           (2)

(maxima over the two nodes; p_LOS of TR 38.901 Table 7.4.2-1, g = 10^(-PL/10) of Table 7.4.1-1)
with the lognormal mean factor m = exp((sigma ln10 / 10)^2 / 2) of each state's spread
(:func:`lognormal_mean_factor`; 1 without shadow fading), then the tail maximum over intervals as
above (no monotonicity assumed). (2) is :func:`expected_path_gain_lin` at a node. For the
engine's field (a sum of 256 cosines of random phases) the Gaussian m is an upper bound of the
mean: each cosine of amplitude a has E exp(l a cos U) = I_0(l a) <= exp((l a)^2 / 4), and the
amplitudes give sum a^2 / 2 = 1. ``los`` / ``nlos``: that state times its m. ``geometric``: the
LOS state is the buildings', not a random draw, so within ``los_range_m`` both states stay
possible (the larger of the LOS gain and the marched NLOS gain, each times its m), beyond it NLOS
times m_NLOS (those links are not marched). At UMa 3.5 GHz with statistical LOS and shadow fading
a macro's reach drops from over 150 km to 20 to 35 km (the far LOS tail p_LOS ~ 18/d still counts).

What it guarantees. Let D = sum of the dropped sectors' received powers at a pixel, a random
variable (LOS draws, shadow fields; the seed). Linearity gives E[D] <= sum_D B_s <= budget
whatever the correlation between the sites' fields, so with e = SINR_cut - SINR_full [dB] (where
the best server agrees; bound (1)):

    E[e] <= E[10 log10(1 + L D / N)] <= 10 log10(1 + L E[D] / N) <= x          (Jensen: log is concave)
    P(e > y) <= P(L D / N >= 10^(y/10) - 1) <= (10^(x/10) - 1) / (10^(y/10) - 1)  (Markov, y > 0)

at every pixel: the mean error is within x, but a single pixel of a single map may exceed it
(at x = 0.1 dB, P(e > 1 dB) <= 9 %, P(e > 3 dB) <= 2.3 %; these Markov tails are loose, see
below). Across a large map the pixels play the role of the draws (the fields are stationary), so
the map's mean error is within about x too. It is NOT a per-pixel guarantee, and the map is not
bit-for-bit that of mode "bound".

Best server in this mode: :func:`uncertain_pixels` and :func:`widen` run unchanged but with the
expected bounds, so a pixel is widened only where its best kept RSRP is below a dropped site's
EXPECTED power: a dropped site whose shadow fading or LOS draw makes it the strongest at a weak
pixel is not caught, and that pixel's best server (and RSRP, SINR) are those of the best kept
sector. This is no certification any more. Measured (tests/coverage/test_cutoff_expected.py, 120
macros over 30 km at 375 m, statistical LOS + shadow fading, x = 0.1 dB, 3 seeds): the best server
differs at 0.12 to 0.15 % of the pixels, all with the full sum's best RSRP under the noise; where
it agrees the SINR error is >= 0 with mean 0.006 dB, 99th percentile <= 0.08 dB, 99.9th <= 0.3 dB,
largest 0.56 dB; 52 % of the site-pixels kept against 100 % in mode "bound". See
benchmarks/cutoff_bench.py for a larger network.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import math
from typing import Literal

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import ndtr

from cellscape.coverage.backends._inputs import KernelStatic
from cellscape.coverage.background import BackgroundModel

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

CutoffMode = Literal["bound", "expected", "background"]
CUTOFF_MODES = ("bound", "expected", "background")
"""``compute.interference_cutoff_mode``: a per-pixel bound, or a bound in expectation (module docstring)."""

_LOS_MODES = ("statistical", "geometric", "los", "nlos")


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


FAR_GRID_CELLS = 256
"""The far field's grid has about this many cells along the network's longer side."""

FAR_CELL_MIN_M = 1000.0
"""Smallest cell of the far field's grid [m]."""


@dataclass(frozen=True)
class FarField:
    """A whole network's sites counted on a square grid per kind, and what one site of each kind delivers.

    ``cell_x_m``, ``cell_y_m`` (n_cells,): lower-left corners of the non-empty cells [m]; ``count``
    (n_cells, n_kinds): sites of each kind in each; ``cell_m``: the side [m]; ``site_bound_mw``
    (n_kinds, n_u): largest power one site of a kind delivers at a pixel at the table node's distance
    or beyond (tail maxima on the engine's distance nodes, ``u_step``) [mW]. A kind is a distance-table
    row (environment and antenna height). See the module docstring.
    """

    cell_m: float
    cell_x_m: np.ndarray
    cell_y_m: np.ndarray
    count: np.ndarray
    site_bound_mw: np.ndarray
    u_step: float

    @property
    def envelope_mw(self) -> np.ndarray:
        """(n_u,): the largest of ``site_bound_mw`` over kinds."""
        return np.max(self.site_bound_mw, axis=0)


def far_field(site_x_m, site_y_m, site_kind, site_bound_mw: np.ndarray, u_step: float, *,
              cell_m: float | None = None) -> FarField:
    """The :class:`FarField` of a network's sites [m] of kinds ``site_kind`` (n_sites,) (rows of
    ``site_bound_mw`` (n_kinds, n_u), :func:`kind_bounds_mw`). ``cell_m``: default the longer side of
    the sites' extent / FAR_GRID_CELLS, at least FAR_CELL_MIN_M."""
    x = np.asarray(site_x_m, dtype=float)
    y = np.asarray(site_y_m, dtype=float)
    bound = np.atleast_2d(np.asarray(site_bound_mw, dtype=float))
    if cell_m is None:
        extent = max(float(np.ptp(x)) if x.size else 0.0, float(np.ptp(y)) if y.size else 0.0)
        cell_m = max(FAR_CELL_MIN_M, extent / FAR_GRID_CELLS)
    x0 = float(np.min(x)) if x.size else 0.0
    y0 = float(np.min(y)) if y.size else 0.0
    ix = np.floor((x - x0) / cell_m).astype(np.int64)
    iy = np.floor((y - y0) / cell_m).astype(np.int64)
    code, cell = np.unique(ix * (1 << 32) + iy, return_inverse=True)
    count = np.zeros((code.size, bound.shape[0]), dtype=np.int64)
    np.add.at(count, (cell, np.asarray(site_kind, dtype=np.int64)), 1)
    cx, cy = code >> 32, code & ((1 << 32) - 1)
    return FarField(cell_m=float(cell_m), cell_x_m=x0 + cx * cell_m, cell_y_m=y0 + cy * cell_m, count=count,
                    site_bound_mw=bound, u_step=float(u_step))


MAX_SITE_SIGNATURES = 4096
"""Most distinct sector arrangements (antenna patterns, powers and relative bearings of a site's
sectors) :func:`site_gain_sum_mw` bounds one by one; beyond, every site takes the sum of its sectors'
peaks."""


def site_gain_sum_mw(gain_lin: np.ndarray, phi_step_deg: float, sector_site, sector_pattern, sector_p_re_mw,
                     sector_bearing_deg, n_sites: int) -> np.ndarray:
    """(n_sites,) a bound of what one site's sectors together deliver towards any direction, per unit
    path gain [mW]: the largest over directions of sum_k p_RE,k G_k, G_k the kernel's bilinear
    interpolation of its pattern's gain table ``gain_lin`` (n_patterns, n_theta, n_phi; phi from -180
    to 180 deg relative to the bearing at ``phi_step_deg``).

    A site's sectors point different ways, so its sum is far below n_sectors x the peak (3-sector
    sites of the TR 38.901 element: ~1.0 x the peak instead of 3x). Bound: each sector's gain is at
    most its pattern's largest over zenith on the 4 azimuth nodes that any pixel azimuth within one
    node step can read (bilinear interpolation stays within its corners); the sum over sectors is
    maximised over the pixel azimuth on that node grid. Sites with equal sector arrangements
    (patterns, powers, bearings relative to the first sector, on the node grid) share one bound; more
    than :data:`MAX_SITE_SIGNATURES` arrangements: sum of each sector's peak instead (also a bound).

    Examples
    --------
    Two sectors back to back of a pattern peaking at 10 (linear) with a floor of 0.1: a pixel sees
    at most one peak and the other's floor, never twice the peak.

    >>> g = np.full((1, 3, 721), 0.1); g[0, :, 355:366] = 10.0     # +-2.5 deg around the bearing
    >>> round(float(site_gain_sum_mw(g, 0.5, [0, 0], [0, 0], [1.0, 1.0], [0.0, 180.0], 1)[0]), 4)
    10.1
    """
    gain = np.asarray(gain_lin, dtype=float)
    n_nodes = int(round(360.0 / phi_step_deg))                           # periodic nodes (the last = the first)
    col = np.max(gain, axis=1)                                           # (n_patterns, n_phi): over zenith
    periodic = col[:, :n_nodes].copy()
    if col.shape[1] > n_nodes:
        periodic[:, 0] = np.maximum(periodic[:, 0], col[:, n_nodes])
    window = periodic.copy()
    for shift in (-1, 1, 2):                                             # nodes c-1 .. c+2
        window = np.maximum(window, np.roll(periodic, -shift, axis=1))
    site = np.asarray(sector_site, dtype=np.int64)
    pattern = np.asarray(sector_pattern, dtype=np.int64)
    p_re = np.asarray(sector_p_re_mw, dtype=float)
    peak_sum = np.bincount(site, weights=p_re * np.max(periodic, axis=1)[pattern], minlength=n_sites)
    if site.size == 0:
        return peak_sum
    node = np.floor(np.mod(np.asarray(sector_bearing_deg, dtype=float), 360.0) / phi_step_deg).astype(np.int64)
    order = np.argsort(site, kind="stable")
    site_s = site[order]
    first = np.searchsorted(site_s, np.arange(n_sites))
    rank = np.arange(site_s.size) - first[site_s]
    width = int(rank.max()) + 1
    _, p_code = np.unique(p_re, return_inverse=True)
    rel = np.mod(node[order] - node[order][first[site_s]], n_nodes)
    code = (pattern[order] * (int(p_code.max()) + 1) + p_code[order]) * n_nodes + rel + 1   # 0 = no sector
    sig = np.zeros((n_sites, width), dtype=np.int64)
    sig[site_s, rank] = code
    unique, which = np.unique(sig, axis=0, return_inverse=True)
    if unique.shape[0] > MAX_SITE_SIGNATURES:
        return peak_sum
    p_values = np.unique(p_re)
    per_sig = np.empty(unique.shape[0])
    n_p = p_values.size
    for j, row in enumerate(unique):
        total = np.zeros(n_nodes)
        for c in row[row > 0] - 1:
            rel_j, rest = c % n_nodes, c // n_nodes
            pat_j, p_j = rest // n_p, p_values[rest % n_p]
            total += p_j * np.roll(window[pat_j], rel_j)     # sector j reads node (b - rel_j) at pixel bin b
        per_sig[j] = float(np.max(total))
    return np.minimum(per_sig[np.ravel(which)], peak_sum) * (1.0 + ROUNDING_MARGIN)


def kind_bounds_mw(index: "CutoffIndex", site_sum_mw) -> np.ndarray:
    """The far field's per-kind site bounds on the index's distance nodes (n_groups, n_u) [mW]: a site
    of the index's group g delivering at most ``site_sum_mw[g]`` x the path gain (the largest
    :func:`site_gain_sum_mw` of the group's sites), at the node's distance or beyond (any LOS state
    its mode allows; the index's tail maxima; geometric runs: NLOS beyond the march range)."""
    st = index.static
    d_node = (np.arange(index.path_any_lin.shape[1]) * st.u_step) ** 2
    path = np.where(d_node > _beyond(index.los_range_m), index.path_nlos_lin, index.path_any_lin)
    per_site = np.asarray(site_sum_mw, dtype=float).reshape(-1, 1)
    return _tail_max(per_site * path) * (1.0 + ROUNDING_MARGIN)


def group_max(site_group, values) -> np.ndarray:
    """(n_groups,) the largest of ``values`` (n_sites,) in each group."""
    group = np.asarray(site_group, dtype=np.int64)
    out = np.zeros(int(group.max()) + 1 if group.size else 0)
    np.maximum.at(out, group, np.asarray(values, dtype=float))
    return out


@dataclass(frozen=True)
class CutoffIndex:
    """The per-run part of the cutoff: bounds as tables, the far radii and the tree of sites.

    ``path_any_lin`` / ``path_nlos_lin`` (n_groups, n_u): tail maxima over distance nodes of the
    path gain times the shadow-fading allowance, for a pixel whose link may be LOS (the LOS mode
    allows it there) or must be NLOS; sites with equal tables share a group (``site_group``).
    ``gain_rmq`` (n_patterns, n_levels, n_theta): range maxima over zenith rows of each antenna
    table's largest gain over azimuth. ``far``: the network's far field (:class:`FarField`).
    """

    cutoff_db: float
    budget_mw: float
    static: KernelStatic
    tree: cKDTree
    site_group: np.ndarray
    path_any_lin: np.ndarray
    path_nlos_lin: np.ndarray
    los_range_m: float
    gain_rmq: np.ndarray
    site_sector_ptr: np.ndarray
    site_sector_idx: np.ndarray
    far: FarField | None = None
    mode: str = "bound"
    site_sum_mw: np.ndarray | None = None    # (n_sites,) :func:`site_gain_sum_mw` of each site
    background: "BackgroundModel | None" = None   # mode "background" (cellscape.coverage.background)
    certify: "CutoffIndex | None" = None   # mode "background": the index the best server is certified with

    @property
    def n_sites(self) -> int:
        return self.static.n_sites


@dataclass(frozen=True)
class TileSelection:
    """The sites a tile keeps and what the dropped ones may add.

    ``sites`` (n_kept,) and ``sectors`` (n_kept_sectors,): kept indices, ascending (the kernels see
    them in this order, so ``sectors[k]`` is the run's index of the kernel's sector k);
    ``dropped_bound_mw``: the dropped candidates' bounds plus the far field's charge, <= the
    budget; ``max_dropped_mw``: the largest bound of one dropped candidate sector (0 if none);
    ``candidates``: the sites within the tile's far radius ``radius_m`` (ascending; :func:`widen`
    adds from these and those within :func:`widen_radius_m`); ``far_single_mw``: the largest bound of one site beyond it (0 if none): the best
    server is certified at pixels whose best kept RSRP exceeds it (module docstring).
    """

    sites: np.ndarray
    sectors: np.ndarray
    dropped_bound_mw: float
    max_dropped_mw: float
    n_sites_total: int
    candidates: np.ndarray | None = None
    far_single_mw: float = 0.0
    radius_m: float = math.inf          # the far radius the candidates lie within (of the tile's centre)

    @property
    def keeps_all(self) -> bool:
        return self.sites.size == self.n_sites_total


def lognormal_mean_factor(sigma_db):
    """Mean of the linear gain 10^(-sigma z / 10) of a shadow fading of spread ``sigma_db``, z ~ N(0, 1):
    exp((sigma ln10 / 10)^2 / 2) (the lognormal mean; 1 at sigma = 0).

    For the engine's correlated field (a sum of 256 cosines of random phases, propagation/shadowing.py)
    it is an upper bound of the mean: E exp(l cos U) = I_0(l) <= exp(l^2 / 4) for each cosine of
    amplitude sqrt(2 / 256), so E exp(l z) <= exp(l^2 / 2) (module docstring, "expected" mode).

    Examples
    --------
    >>> round(float(10 * np.log10(lognormal_mean_factor(4.0))), 3)   # UMa LOS, TR 38.901 Table 7.4.1-1 [dB]
    1.842
    >>> round(float(10 * np.log10(lognormal_mean_factor(6.0))), 3)   # UMa NLOS
    4.145
    """
    s = np.asarray(sigma_db, dtype=float) * (math.log(10.0) / 10.0)
    return np.exp(0.5 * s * s)


def expected_path_gain_lin(p_los, gain_los_lin, gain_nlos_lin, sf_std_los_db=0.0, sf_std_nlos_db=0.0):
    """Expected path gain of a statistical-LOS link over its LOS state and shadow fading (linear).

    p_los g_LOS m(sigma_LOS) + (1 - p_los) g_NLOS m(sigma_NLOS) with m of :func:`lognormal_mean_factor`;
    all inputs broadcast (the engine's distance-table nodes: ``p_los`` of TR 38.901 Table 7.4.2-1, the
    path gains 10^(-PL/10) and spreads of Table 7.4.1-1). Shadow fading off: pass spreads of 0.

    Examples
    --------
    >>> float(expected_path_gain_lin(0.25, 1e-10, 1e-12))     # no shadow fading: 0.25 g_LOS + 0.75 g_NLOS
    2.575e-11
    """
    p = np.asarray(p_los, dtype=float)
    return (p * np.asarray(gain_los_lin, dtype=float) * lognormal_mean_factor(sf_std_los_db)
            + (1.0 - p) * np.asarray(gain_nlos_lin, dtype=float) * lognormal_mean_factor(sf_std_nlos_db))


def _pair_max(a: np.ndarray) -> np.ndarray:
    """out[..., k] = max(a[..., k], a[..., k + 1]) (the last node: itself): the largest node value of the
    interval [k, k + 1], which bounds a linear interpolation on it."""
    out = a.copy()
    out[..., :-1] = np.maximum(a[..., :-1], a[..., 1:])
    return out


def _expected_tables(st: KernelStatic, rows: np.ndarray, *, shadow_fading: bool, los_mode: str, dmax: float):
    """(any, nlos) tables of mode "expected" on the distance-table rows ``rows`` (n_groups,): per interval
    [k, k + 1] an upper bound of the expected gain at any pixel reading it, then the tail maximum."""
    g_los = _pair_max(st.gain_los_lin[rows].astype(float))                        # (n_groups, n_u)
    g_nlos = _pair_max(st.gain_nlos_lin[rows].astype(float))
    m_los = m_nlos = 1.0
    if shadow_fading:
        m_los = _pair_max(lognormal_mean_factor(st.sf_std_los_db[rows].astype(float)))
        m_nlos = _pair_max(lognormal_mean_factor(st.sf_std_nlos_db[rows].astype(float)))
    los = g_los * m_los                                                            # a LOS link, SF mean
    nlos = g_nlos * m_nlos                                                         # an NLOS link, SF mean
    if los_mode == "statistical":
        # lerp(p) lerp(g) m on an interval <= max(p) max(g) max(m): each state bounded separately
        p = st.p_los[rows].astype(float)
        p_hi = _pair_max(np.clip(p, 0.0, 1.0))
        q_hi = _pair_max(np.clip(1.0 - p, 0.0, 1.0))
        any_lin = nlos_lin = _tail_max(p_hi * los + q_hi * nlos)
    elif los_mode == "los":
        any_lin = nlos_lin = _tail_max(los)
    elif los_mode == "nlos":
        any_lin = nlos_lin = _tail_max(nlos)
    else:
        # geometric: the LOS state is the buildings', not a draw: either state within los_range_m
        # (a marched NLOS link with diffraction takes the larger of PL_NLOS and PL_LOS + L_b), NLOS beyond
        marched = np.maximum(g_nlos, g_los * dmax) if st.use_diffraction else g_nlos
        any_lin = _tail_max(np.maximum(g_los * dmax * m_los, marched * m_nlos))
        nlos_lin = _tail_max(nlos)
    return any_lin, nlos_lin


CERTIFY_EXCEEDANCE = 1e-2
"""Default ``eps`` of :func:`certify_index` (mode "background" with
``compute.background_certify_exceedance``, the value the docs measure): a left-out site is taken as a
possible best server at a pixel when its link gain there exceeds what the pixel's best kept RSRP
needs with a probability above it (one link, over its LOS draw and shadow fading)."""


def _normal_tail(z: np.ndarray) -> np.ndarray:
    """P(Z > z), Z ~ N(0, 1) (z may be +-inf)."""
    return ndtr(-z)


def _exceedance_tables(st: KernelStatic, rows: np.ndarray, *, shadow_fading: bool, los_mode: str,
                       eps: float) -> np.ndarray:
    """(n_groups, n_u): per distance interval [k, k + 1] of the rows ``rows``, a gain that a link
    exceeds with probability at most ``eps`` (LOS with p_LOS, else NLOS, each with its lognormal shadow
    fading; p, gains and spreads each at their interval's larger node, which can only raise the
    probability), then the tail maximum over distance. Solved by bisection in dB (60 halvings of a
    span < 400 dB: to 1e-15 dB)."""
    g_los = _pair_max(st.gain_los_lin[rows].astype(float))                        # (n_groups, n_u)
    g_nlos = _pair_max(st.gain_nlos_lin[rows].astype(float))
    s_los = _pair_max(st.sf_std_los_db[rows].astype(float)) if shadow_fading else np.zeros_like(g_los)
    s_nlos = _pair_max(st.sf_std_nlos_db[rows].astype(float)) if shadow_fading else np.zeros_like(g_nlos)
    if los_mode == "statistical":
        p = _pair_max(np.clip(st.p_los[rows].astype(float), 0.0, 1.0))
    elif los_mode == "los":
        p = np.ones_like(g_los)
    elif los_mode == "nlos":
        p = np.zeros_like(g_los)
    else:
        raise ValueError(f"los_mode={los_mode!r}: the exceedance tables need a random or fixed LOS state")
    tiny = 1e-300
    l_db = 10.0 * np.log10(np.maximum(g_los, tiny))
    n_db = 10.0 * np.log10(np.maximum(g_nlos, tiny))

    def tail(x_db, mean_db, sigma_db):
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(sigma_db > 0.0, (x_db - mean_db) / np.where(sigma_db > 0.0, sigma_db, 1.0),
                         np.where(x_db < mean_db, -np.inf, np.inf))
        return _normal_tail(z)

    lo = np.minimum(l_db, n_db) - 60.0
    hi = np.maximum(l_db + 12.0 * s_los, n_db + 12.0 * s_nlos) + 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        exceed = p * tail(mid, l_db, s_los) + (1.0 - p) * tail(mid, n_db, s_nlos)
        above = exceed > eps
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return _tail_max(10.0 ** (hi / 10.0))


def certify_index(index: CutoffIndex, *, shadow_fading: bool, los_mode: str, eps: float = CERTIFY_EXCEEDANCE,
                  far: FarField | None = None) -> CutoffIndex:
    """The index mode "background" certifies its best servers with: ``index`` with each group's
    path gain replaced by the gain a link exceeds with probability at most ``eps``
    (:func:`_exceedance_tables`) instead of its expectation, and the far field of those (``far``:
    the whole network's, for a subset of it). :func:`widen`, :func:`certify_radius` and the
    selection's ``max_dropped_mw`` / ``far_single_mw`` read it: a left-out site that could draw a
    LOS link or a strong shadow fading at a pixel (probability > eps) is looked at, one that only
    its expectation would rule out is not missed."""
    st = index.static
    rows = np.zeros(int(index.site_group.max()) + 1 if index.site_group.size else 0, dtype=np.int64)
    rows[index.site_group] = st.site_rows()
    q = _exceedance_tables(st, rows, shadow_fading=shadow_fading, los_mode=los_mode, eps=eps)
    cert = replace(index, path_any_lin=q, path_nlos_lin=q, mode="certify", background=None, certify=None, far=None)
    if far is None:
        far = far_field(st.site_x_m, st.site_y_m, index.site_group,
                        kind_bounds_mw(cert, group_max(index.site_group, index.site_sum_mw)), st.u_step)
    return replace(cert, far=far)


def build_index(static: KernelStatic, *, cutoff_db: float, site_group, shadow_fading: bool,
                los_mode: str, los_range_m: float = math.inf,
                sf_bound_sigma: float = SF_BOUND_SIGMA, mode: CutoffMode = "bound",
                far: FarField | None = None) -> CutoffIndex:
    """Tabulate the bounds of a run and index its sites (once per run, before the tiles).

    Parameters
    ----------
    static : KernelStatic
        The run's kernel inputs (or those of a subset of a network's sites, see ``far``).
    cutoff_db : float
        Largest SINR error, > 0 [dB]: per pixel ("bound") or in expectation ("expected").
    site_group : array_like, shape (n_sites,)
        Sites with equal group share their distance tables (same environment and height).
    shadow_fading : bool
        Whether the run draws shadow fading.
    los_mode : {'statistical', 'geometric', 'los', 'nlos'}
        The scenario's (which LOS states are possible where).
    los_range_m : float, default inf
        Geometric runs' march range (links longer are NLOS) [m].
    sf_bound_sigma : float, default SF_BOUND_SIGMA
        Mode "bound": the most negative shadow fading allowed [standard deviations].
    mode : {'bound', 'expected'}, default 'bound'
        "bound": B_s bounds the received power (worst LOS state, 5-sigma shadow fading): the SINR
        error is within ``cutoff_db`` at every pixel. "expected": B_s bounds its expectation over
        the LOS draw and the shadow fading: the error is within ``cutoff_db`` in expectation only
        (module docstring, "The expected mode").
    far : FarField, optional
        The whole network's far field (default: that of ``static``'s sites, :func:`far_field` with
        :func:`kind_bounds_mw`). An index over a subset of the sites (those near one block,
        :func:`subset_static`) given the network's far field selects for a tile what the network's
        index selects, if the subset holds every site within the tile's :func:`far_radius`.

    Returns
    -------
    CutoffIndex

    Raises
    ------
    ValueError
        If ``mode`` or ``los_mode`` is not one of the choices.
    """
    if mode not in CUTOFF_MODES:
        raise ValueError(f"mode={mode!r} is not one of {', '.join(map(repr, CUTOFF_MODES))}")
    if los_mode not in _LOS_MODES:
        raise ValueError(f"los_mode={los_mode!r} is not one of {', '.join(map(repr, _LOS_MODES))}")
    st = static
    group = np.asarray(site_group, dtype=np.int64)
    _, first, group = np.unique(group, return_index=True, return_inverse=True)
    first = st.site_rows()[first]          # the distance-table row of each group's first site
    dmax = 1.0
    if st.use_diffraction:
        dmax = max(1.0, float(np.max(st.diff_gain_lin)))
    if mode in ("expected", "background"):
        any_lin, nlos_lin = _expected_tables(st, first, shadow_fading=shadow_fading, los_mode=los_mode, dmax=dmax)
    else:
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
    row_max = np.max(st.gain_lin, axis=2).astype(float)                          # (n_patterns, n_theta)
    gain_rmq = _sparse_table(row_max)
    order = np.argsort(st.sector_site, kind="stable")
    ptr = np.searchsorted(st.sector_site[order], np.arange(st.n_sites + 1))
    tree = cKDTree(np.column_stack([st.site_x_m, st.site_y_m]), leafsize=_TREE_LEAF)
    index = CutoffIndex(cutoff_db=float(cutoff_db), budget_mw=budget, static=st, tree=tree, site_group=group,
                        path_any_lin=any_lin, path_nlos_lin=nlos_lin, los_range_m=float(los_range_m),
                        gain_rmq=gain_rmq, site_sector_ptr=ptr, site_sector_idx=order, mode=mode)
    sums = site_gain_sum_mw(st.gain_lin, st.phi_step_deg, st.sector_site, st.sector_pattern, st.sector_p_re_mw,
                            st.sector_bearing_deg, st.n_sites)
    if far is None:
        far = far_field(st.site_x_m, st.site_y_m, group, kind_bounds_mw(index, group_max(group, sums)), st.u_step)
    return replace(index, far=far, site_sum_mw=sums)


def far_radius(index: CutoffIndex, x_m, y_m, *, gain: float = 1.0) -> tuple[float, float, float]:
    """The far field of a tile of pixel centres ``x_m`` (n_cols,) x ``y_m`` (n_rows,) [m]:
    (R, charge, single): the smallest radius from the tile's centre [m] whose outside cells stay
    within FAR_BUDGET_SHARE of the budget (times ``gain``, module docstring "Relative to the
    interference"), their charge [mW] and the largest bound of one of their sites [mW] (module
    docstring, "The spatial index and the far field"). R = 0 when the whole network fits the share."""
    ff = index.far
    x0, x1, y0, y1 = _extent(x_m, y_m)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    half = math.hypot((x1 - x0) / 2.0, (y1 - y0) / 2.0)
    lo_x, lo_y = ff.cell_x_m - cx, ff.cell_y_m - cy                       # cell corners relative to the centre
    hi_x, hi_y = lo_x + ff.cell_m, lo_y + ff.cell_m
    near = np.hypot(np.maximum(np.maximum(lo_x, -hi_x), 0.0), np.maximum(np.maximum(lo_y, -hi_y), 0.0))
    far_corner = np.hypot(np.maximum(np.abs(lo_x), np.abs(hi_x)), np.maximum(np.abs(lo_y), np.abs(hi_y)))
    d = np.maximum(near - half, 0.0)                                      # cell to the tile's nearest pixel
    n_u = ff.site_bound_mw.size
    k = np.clip(np.floor(np.sqrt(d) / ff.u_step).astype(np.int64) - 1, 0, n_u - 1)
    per_site = ff.site_bound_mw[:, k].T                                  # (n_cells, n_kinds)
    charge = np.sum(ff.count * per_site, axis=1)
    per_site = np.max(np.where(ff.count > 0, per_site, 0.0), axis=1)     # (n_cells,) the strongest present
    order = np.argsort(far_corner, kind="stable")
    outside = np.concatenate([np.cumsum(charge[order][::-1])[::-1], [0.0]])    # [j]: cells order[j:]
    allowed = FAR_BUDGET_SHARE * index.budget_mw * gain
    j = int(np.argmax(outside <= allowed))                                # the first j that fits (j = n: none left)
    if j == 0:
        return 0.0, float(outside[0]), float(np.max(per_site)) if per_site.size else 0.0
    rest = order[j:]
    single = float(np.max(per_site[rest])) if rest.size else 0.0
    return float(far_corner[order[j - 1]]), float(outside[j]), single


def subset_static(static: KernelStatic, sites) -> KernelStatic:
    """The kernel inputs of ``sites`` (ascending site indices) and their sectors only: same values,
    renumbered; the distance tables are shared (each site reads its own row through ``table_rows``).
    For an index over the sites near one block (:func:`far_radius`, :func:`build_index`'s ``far``)."""
    sites = np.asarray(sites, dtype=np.int64)
    if sites.size > 1 and np.any(np.diff(sites) <= 0):
        raise ValueError("sites must be strictly ascending site indices")
    st = static
    keep = np.zeros(st.n_sites, dtype=bool)
    keep[sites] = True
    sectors = np.flatnonzero(keep[st.sector_site])
    renumber = np.full(st.n_sites, -1, dtype=np.int64)
    renumber[sites] = np.arange(sites.size)
    return replace(st, site_x_m=st.site_x_m[sites], site_y_m=st.site_y_m[sites], table_rows=st.site_rows()[sites],
                   sector_site=renumber[st.sector_site[sectors]], sector_bearing_deg=st.sector_bearing_deg[sectors],
                   sector_pattern=st.sector_pattern[sectors], sector_p_re_mw=st.sector_p_re_mw[sectors])


def _example_static() -> KernelStatic:
    """A one-site, one-sector UMa NLOS static for the doctests (3.5 GHz, 25 m, isotropic, 10 dBm per RE,
    noise -122 dBm per RE, no shadow fading)."""
    from cellscape.propagation import tr38901

    u_step = 0.05
    d = np.maximum((np.arange(1200) * u_step) ** 2, 35.0)[None, :]
    pl = tr38901.path_loss_db("UMa", d, 25.0, 1.5, 3.5, False, out_of_range="clip")
    g = (10.0 ** (-pl / 10.0)).astype(np.float32)
    z = np.zeros_like(g)
    return KernelStatic(site_x_m=np.zeros(1), site_y_m=np.zeros(1), u_step=u_step, gain_los_lin=g, gain_nlos_lin=g,
                        sf_std_los_db=z, sf_std_nlos_db=z, p_los=z, theta_deg=np.full(g.shape, 90.0, np.float32),
                        sector_site=np.zeros(1, np.int64), sector_bearing_deg=np.zeros(1),
                        sector_pattern=np.zeros(1, np.int64), sector_p_re_mw=np.full(1, 10.0),
                        gain_lin=np.ones((1, 1801, 721), np.float32), theta_step_deg=0.1, phi_step_deg=0.5,
                        noise_mw=10.0 ** -12.2, load_factor=1.0, los_mode=2)


def _beyond(range_m: float) -> float:
    """A distance safely beyond ``range_m`` (the march compares the float64 distance with it)."""
    return range_m * (1.0 + 1e-9) + 1e-6 if math.isfinite(range_m) else math.inf


def _extent(x_m, y_m) -> tuple[float, float, float, float]:
    x = np.asarray(x_m, dtype=float)
    y = np.asarray(y_m, dtype=float)
    return float(x.min()), float(x.max()), float(y.min()), float(y.max())


def site_bounds_mw(index: CutoffIndex, sites: np.ndarray, x_m, y_m) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``sites`` over the pixels x_m x y_m (centres) of a tile: per site the sum over its
    sectors (each at its largest gain over the tile's zenith range, and at most the site's
    :func:`site_gain_sum_mw`) and the largest single sector, both (n,) [mW]."""
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
    rows = st.site_rows()[sites]
    th_a, th_b = st.theta_deg[rows, k_lo], st.theta_deg[rows, k_hi]
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
    if index.site_sum_mw is not None:        # the sectors point different ways: never all at their peak at once
        total = np.minimum(total, index.site_sum_mw[sites] * path * (1.0 + ROUNDING_MARGIN))
    peak = np.zeros(sites.size)
    np.maximum.at(peak, owner, b)
    return total, peak


def _sectors_of(index: CutoffIndex, sites: np.ndarray) -> np.ndarray:
    keep = np.zeros(index.n_sites, dtype=bool)
    keep[sites] = True
    return np.flatnonzero(keep[index.static.sector_site])


def select(index: CutoffIndex, x_m, y_m, *, gain: float = 1.0) -> TileSelection:
    """The sites a tile of pixel centres ``x_m`` (n_cols,) x ``y_m`` (n_rows,) keeps [m], within
    ``gain`` x the budget (gain > 1 is valid where the kept interference allows it:
    :func:`interference_gain`).

    Mode "background" (cellscape.coverage.background): the candidates are the sites within
    :func:`background_radius_m` and there is no far-field charge (the far sites, and the dropped
    ones, enter as the expected background); ``far_single_mw`` is the far field's largest expected
    single site at 2 r0."""
    x0, x1, y0, y1 = _extent(x_m, y_m)
    centre = ((x0 + x1) / 2.0, (y0 + y1) / 2.0)
    if index.background is None:
        r, far_charge, far_single = far_radius(index, x_m, y_m, gain=gain)
        far_single = far_single if far_charge > 0.0 else 0.0
    else:
        ff = (index.certify or index).far
        k = int(math.floor(math.sqrt(2.0 * index.background.r0_m) / ff.u_step)) - 1
        r, far_charge = background_radius_m(index, x_m, y_m), 0.0
        far_single = float(ff.envelope_mw[min(max(k, 0), ff.envelope_mw.size - 1)])
    cand = np.sort(np.asarray(index.tree.query_ball_point(centre, r * (1.0 + 1e-9) + 1e-6), dtype=np.int64))
    if cand.size == 0 and index.n_sites:
        # every site is far: keep the nearest one, so that the kernel has a best server to certify
        cand = np.atleast_1d(np.asarray(index.tree.query(centre)[1], dtype=np.int64))
    total, peak = site_bounds_mw(index, cand, x_m, y_m)
    order = np.argsort(total, kind="stable")
    cum = np.cumsum(total[order])
    n_drop = int(np.searchsorted(cum, index.budget_mw * gain - far_charge, side="right"))
    n_drop = max(0, min(n_drop, cand.size - 1))        # keep the strongest candidate at least
    kept = np.sort(cand[order[n_drop:]])
    dropped_bound = far_charge + (float(cum[n_drop - 1]) if n_drop else 0.0)
    max_dropped = float(np.max(peak[order[:n_drop]])) if n_drop else 0.0
    if n_drop and index.certify is not None:      # mode background: the dropped sites' draws, not means
        max_dropped = float(np.max(site_bounds_mw(index.certify, cand[order[:n_drop]], x_m, y_m)[1]))
    return TileSelection(sites=kept, sectors=_sectors_of(index, kept), dropped_bound_mw=dropped_bound,
                         max_dropped_mw=max_dropped, n_sites_total=index.n_sites, candidates=cand,
                         far_single_mw=far_single, radius_m=r)


def background_radius_m(index: CutoffIndex, x_m, y_m) -> float:
    """Mode "background": the candidates' radius from the tile's centre, 2 r0 + its half diagonal [m]
    (every site whose taper w < 1 somewhere in the tile, cellscape.coverage.background)."""
    x0, x1, y0, y1 = _extent(x_m, y_m)
    return 2.0 * index.background.r0_m + math.hypot((x1 - x0) / 2.0, (y1 - y0) / 2.0)


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
    floor_mw = _floor_mw(best_rsrp_dbm, unsure)
    pool = _certifying_pool(index, sel, x, y, floor_mw)
    dropped = np.setdiff1d(pool, sel.sites, assume_unique=True)
    total, peak = site_bounds_mw(index, dropped, x, y)
    cand = peak >= floor_mw                                 # others are below every unsure pixel's best
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
                         dropped_bound_mw=sel.dropped_bound_mw,       # fewer sites dropped: still a bound
                         max_dropped_mw=float(np.max(peak[rest])) if rest.any() else 0.0,
                         n_sites_total=index.n_sites, candidates=sel.candidates, far_single_mw=sel.far_single_mw,
                         radius_m=sel.radius_m)


CERTIFY_BELOW_BUDGET_DB = 20.0
"""A subset of a network carries the sites that could be the best server at pixels down to this far
under the cutoff's budget (36 dB under the noise at x = 0.1 dB; :func:`certify_radius`,
cellscape.pipeline.national)."""


def certify_radius(index: CutoffIndex, x_m, y_m, floor_mw: float | None = None) -> float:
    """Distance from the tile's centre beyond which no site of the network can reach ``floor_mw``
    anywhere in the tile (the far field's envelope; default floor: CERTIFY_BELOW_BUDGET_DB under the
    budget) [m]: ((k + 2) u_step)^2 + the half diagonal, k the first node whose envelope is below the
    floor (its reading margin); inf if none is. :func:`widen` looks at the sites within it; a
    subset of a network that holds the sites within the default radius widens as the whole network
    does at every pixel whose best kept RSRP is above that default floor."""
    level = index.budget_mw * 10.0 ** (-CERTIFY_BELOW_BUDGET_DB / 10.0) if floor_mw is None else float(floor_mw)
    below = np.flatnonzero(index.far.envelope_mw < level)
    if below.size == 0:
        return math.inf
    x0, x1, y0, y1 = _extent(x_m, y_m)
    return ((int(below[0]) + 2) * index.far.u_step) ** 2 + math.hypot((x1 - x0) / 2.0, (y1 - y0) / 2.0)


def _floor_mw(best_rsrp_dbm: np.ndarray, unsure: np.ndarray) -> float:
    """The weakest unsure pixel's best kept RSRP, read with a 1e-5 relative margin [mW]."""
    return float(np.min(10.0 ** (best_rsrp_dbm[unsure].astype(float) / 10.0))) * (1.0 - 1e-5)


def widen_radius_m(index: CutoffIndex, sel: TileSelection, x_m, y_m, best_rsrp_dbm: np.ndarray,
                   unsure: np.ndarray) -> float:
    """How far from the tile's centre :func:`widen` looks beyond the candidates [m]: 0 where the
    far field cannot reach the weakest unsure pixel, else its :func:`certify_radius` (inf: every site)."""
    return _pool_radius_m(index, sel, x_m, y_m, _floor_mw(best_rsrp_dbm, unsure))


def _pool_radius_m(index: CutoffIndex, sel: TileSelection, x_m, y_m, floor_mw: float) -> float:
    if sel.candidates is None or index.far is None or sel.far_single_mw < floor_mw:
        return 0.0
    return certify_radius(index, x_m, y_m, floor_mw)


def _certifying_pool(index: CutoffIndex, sel: TileSelection, x_m, y_m, floor_mw: float) -> np.ndarray:
    """The sites :func:`widen` looks at: the tile's candidates, and the sites within
    :func:`widen_radius_m` of its centre (``floor_mw``: the weakest unsure pixel's best kept RSRP)."""
    if sel.candidates is None:
        return np.arange(index.n_sites)
    r = _pool_radius_m(index, sel, x_m, y_m, floor_mw)
    if r <= 0.0:
        return sel.candidates
    if not math.isfinite(r):
        return np.arange(index.n_sites)
    x0, x1, y0, y1 = _extent(x_m, y_m)
    near = np.asarray(index.tree.query_ball_point(((x0 + x1) / 2.0, (y0 + y1) / 2.0), r * (1.0 + 1e-9) + 1e-6),
                      dtype=np.int64)
    return np.union1d(sel.candidates, near)


RELATIVE_GAIN_DB = 40.0
"""First try of every tile: a budget this much larger than the noise's (module docstring,
"Relative to the interference"); kept if the tile's kept interference allows it."""

BACKGROUND_RELATIVE_GAIN_DB = 80.0
"""Mode "background": the first try's budget multiplier (the dropped sites stay in as their expected
power, so a tile may drop up to the cutoff's share of its own interference, however far that is
above the noise; cellscape.coverage.background)."""

GAIN_MARGIN = 1e-3
"""Relative margin on the gain read from the kernel's float32 dB outputs."""


def interference_gain(rsrp_dbm: np.ndarray, sinr_db: np.ndarray, o2i_db: np.ndarray, noise_mw: float) -> float:
    """Q* of the module docstring ("Relative to the interference"): the smallest over the tile's
    pixels of (L I_K + N) / (N a), with L I_K + N = S / SINR from the kernel's best RSRP S and SINR,
    and a = 10^(-O2I/10) the pixel's building entry loss (which the sites' bounds leave out); >= 1.
    Pixels without a server count as noise alone (Q = 1 / a)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        q = 10.0 ** ((rsrp_dbm.astype(float) - sinr_db.astype(float)) / 10.0) / noise_mw
    q = np.where(np.isfinite(q) & (q > 0.0), q, 1.0)
    q = q * 10.0 ** (np.asarray(o2i_db, dtype=float) / 10.0)
    return max(1.0, float(np.min(q)) * (1.0 - GAIN_MARGIN)) if q.size else 1.0


def uncertain_pixels(best_rsrp_dbm: np.ndarray, sel: TileSelection) -> np.ndarray:
    """Pixels whose full-sum best server could be a dropped sector: best kept RSRP (the kernel's
    float32 dBm, read with a 1e-5 relative margin) not above the largest dropped bound, candidates'
    or far field's (bool)."""
    level = max(sel.max_dropped_mw, sel.far_single_mw)
    if level <= 0.0:
        return np.zeros(best_rsrp_dbm.shape, dtype=bool)
    best_mw = 10.0 ** (best_rsrp_dbm.astype(float) / 10.0) * (1.0 - 1e-5)
    return ~(best_mw > level)


def kept_fraction_estimate(index: CutoffIndex, bounds_m, block_half_diag_m: float, *, n_samples: int = 8) -> float:
    """Rough share of the site-pixels of a map (``bounds_m`` = (xmin, ymin, xmax, ymax)) that blocks
    of half diagonal ``block_half_diag_m`` would keep: at n_samples^2 block centres over the map, the
    share of the sites within the block's far radius (:func:`far_radius` at the first try's gain,
    RELATIVE_GAIN_DB: interference-limited maps get blocks). A tiling heuristic (the
    engine keeps its full-sum tiling when blocks would save little), not part of the bound."""
    x0, y0, x1, y1 = bounds_m
    side = block_half_diag_m * math.sqrt(2.0)
    gx = x0 + (np.arange(n_samples) + 0.5) * (x1 - x0) / n_samples
    gy = y0 + (np.arange(n_samples) + 0.5) * (y1 - y0) / n_samples
    shares = []
    for cx in gx:
        for cy in gy:
            xs = np.array([cx - side / 2.0, cx + side / 2.0])
            ys = np.array([cy - side / 2.0, cy + side / 2.0])
            r, _, _ = far_radius(index, xs, ys, gain=10.0 ** (RELATIVE_GAIN_DB / 10.0))
            shares.append(index.tree.query_ball_point((cx, cy), r, return_length=True) / max(1, index.n_sites))
    return float(np.mean(shares))
