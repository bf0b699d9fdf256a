"""The far interference of a dense network as an expected background (``interference_cutoff_mode: background``).

The interference cutoff (cellscape.coverage.cutoff) leaves out of a tile only what it can bound:
in a dense network the sites beyond a few km are each weak, but thousands of them together are not,
and mode "expected" still sums them site by site (20,000 sites per pixel in a synthetic Shanghai at
0.1 dB). Mode "background" replaces the sites it leaves out by their EXPECTED interference, added to
every pixel's interference, so that leaving a site out no longer biases the SINR: what remains is
the fluctuation of the left-out sites (their LOS draws and shadow fading) around their mean, and
the approximations listed below (measured: benchmarks/cutoff_bench.py, docs/national.md).

The expected power of one sector s at a pixel p at distance d (2-D) is

    f_s(p) = p_RE,s G_s(theta(d), phi_s(p)) E[g(d)],
    E[g(d)] = p_LOS(d) g_LOS(d) m_LOS + (1 - p_LOS(d)) g_NLOS(d) m_NLOS          (TR 38.901 7.4.1, 7.4.2)

with the engine's own distance tables (the kernel reads the same nodes) and m = exp((sigma ln10/10)^2/2)
the mean of the lognormal shadow fading of each state (:func:`cellscape.coverage.cutoff.lognormal_mean_factor`;
1 without shadow fading). Its azimuth average f̄_s replaces G_s by the mean of the pattern over phi at
that zenith angle (the bearing then no longer matters).

Split of the network (a partition of unity over distance): w(d) = 0 below ``r0_m``, 1 beyond
2 ``r0_m``, a raised cosine between. The background at pixel p is

    BG(p) = sum_{all sectors} w f̄_s                 (a raster, :class:`BackgroundRaster`, once per map or block)
          + sum_{dropped candidates} (1 - w) f_s     (per tile, exact pattern)
          - sum_{kept sites' sectors} w f̄_s          (per tile: the kernel computes those)

where the candidates of a tile are every site within 2 r0 + the tile's half diagonal (so that every
site with w < 1 somewhere in the tile is one), and the kept ones those the budget keeps
(:func:`cellscape.coverage.cutoff.select`, expected bounds, no far-field charge). BG is evaluated on
a coarse grid of the tile (every :data:`COARSE_STEP_PX` pixels), interpolated bilinearly, clipped
at 0, times each pixel's building entry loss and the load factor, and added to the kernel's
interference: SINR = S / (L (I_K + a_p BG) + N). The best server and RSRP are those of the kept sites,
certified as in mode "expected" against each left-out site's expected power, or, with
``compute.background_certify_exceedance`` p, against the gain it exceeds with probability p over its
LOS state and shadow fading (:func:`cellscape.coverage.cutoff.certify_index`). A site beyond 2 r0
that draws LOS can be the full sum's best server (UMa p_LOS ~ 18 / d stays > 0.4 % at 4 km):
outside a city core with ISD ~1.2 km at r0 = 2 km that happened on 1.4 % of the pixels against the
means (RSRP there up to ~18 dB low), 0.5 % with p = 1 %; at r0 of 3 ISDs on 0.11 % and 0.09 %
(benchmarks/cutoff_bench.py, case ``mixed-background``). p = 1 % costs 2.3x on the China windows
(benchmarks/RESULTS.md): keep r0 at 3 or more ISDs (``compute.background_radius_isd``) first.
Neither is a bound: a rarer draw can still win.

The raster: the sector sites counted per sector kind (distance-table row, antenna pattern, p_RE) on
a square grid of cell ``r0_m / 4`` over the map (or block) and :data:`REACH_R0` x r0 around it, convolved
(FFT, :func:`scipy.signal.fftconvolve`) with the kind's w f̄ sampled on the grid's offsets.

Approximations (each measured in the benchmark, none bounded):
- the expectation replaces the draw for every left-out site (the fluctuation is the error);
- beyond 2 r0 the antenna pattern is averaged over azimuth (sectors of a far site point every way;
  a three-sector site's sum varies ~1 dB with azimuth);
- sites are binned to the raster's cell centres (cell r0/4: at >= r0 the distance is off by
  <= 18 %, symmetric, so the sum is nearly unbiased) and the raster is interpolated bilinearly;
- sites farther than :data:`REACH_R0` x r0 from a pixel are left out (their share of the far
  interference is a few per cent for a uniform density: the expected gain falls as d^-3.2..-3.8);
- the coarse grid's bilinear interpolation inside a tile.
Valid for ``los_mode`` statistical, los, nlos; geometric LOS (the buildings decide, not a draw)
is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
from scipy.spatial import cKDTree

from cellscape.coverage.backends._inputs import KernelStatic

COARSE_STEP_PX = 16
"""The background is evaluated every this many pixels of a tile and interpolated bilinearly between."""

REACH_R0 = 40.0
"""Sites farther than this many r0 from a map (or block) cell are left out of the background (80 km at
r0 = 2 km; for a uniform density the sites beyond hold ~3 % of the far interference)."""

CELLS_PER_R0 = 4
"""The raster's cell is r0 / CELLS_PER_R0."""

MAX_RASTER_CELLS = 40_000_000
"""Largest grid (map plus the sectors within reach) one raster may convolve; beyond, a national map is
computed block by block (cellscape.pipeline.national)."""

BACKGROUND_LOS_MODES = ("statistical", "los", "nlos")


def taper(d_m, r0_m: float) -> np.ndarray:
    """w(d): 0 at d <= r0, 1 at d >= 2 r0, 0.5 - 0.5 cos(pi (d - r0) / r0) between (module docstring).

    >>> [round(float(v), 3) for v in taper([0.0, 1000.0, 1500.0, 2000.0, 5000.0], 1000.0)]
    [0.0, 0.0, 0.5, 1.0, 1.0]
    """
    t = np.clip((np.asarray(d_m, dtype=float) - r0_m) / r0_m, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(math.pi * t)


def expected_gain_table(st: KernelStatic, *, shadow_fading: bool, los_mode: str) -> np.ndarray:
    """(n_rows, n_u) the expected path gain E[g] on every distance-table node (module docstring),
    linear: p_LOS g_LOS m_LOS + (1 - p_LOS) g_NLOS m_NLOS (``los``/``nlos``: that state's term)."""
    from cellscape.coverage.cutoff import lognormal_mean_factor

    if los_mode not in BACKGROUND_LOS_MODES:
        raise ValueError(f"the expected background needs a random LOS state: los_mode {los_mode!r} is not one of "
                         f"{', '.join(BACKGROUND_LOS_MODES)}")
    m_los = lognormal_mean_factor(st.sf_std_los_db.astype(float)) if shadow_fading else 1.0
    m_nlos = lognormal_mean_factor(st.sf_std_nlos_db.astype(float)) if shadow_fading else 1.0
    los = st.gain_los_lin.astype(float) * m_los
    nlos = st.gain_nlos_lin.astype(float) * m_nlos
    if los_mode == "los":
        return los
    if los_mode == "nlos":
        return nlos
    p = np.clip(st.p_los.astype(float), 0.0, 1.0)
    return p * los + (1.0 - p) * nlos


def azimuth_mean_gain(gain_lin: np.ndarray, phi_step_deg: float) -> np.ndarray:
    """(n_patterns, n_theta) each antenna table's mean linear gain over azimuth (the periodic nodes)."""
    n_nodes = int(round(360.0 / phi_step_deg))
    return np.mean(np.asarray(gain_lin, dtype=float)[:, :, :n_nodes], axis=2)


@dataclass(frozen=True)
class BackgroundRaster:
    """sum over sectors of w f̄ at the centres of a square grid [mW] (O2I 0 dB): cell (i, j) centred at
    (x0_m + j cell_m, y0_m + i cell_m), ``values_mw`` (n_y, n_x)."""

    x0_m: float
    y0_m: float
    cell_m: float
    values_mw: np.ndarray

    def at(self, x_m, y_m) -> np.ndarray:
        """(n_rows, n_cols) the raster interpolated bilinearly at the grid x_m (n_cols,) x y_m (n_rows,)
        (held at the edge cells beyond them)."""
        v = self.values_mw
        fx = np.clip((np.asarray(x_m, dtype=float) - self.x0_m) / self.cell_m, 0.0, v.shape[1] - 1.0)
        fy = np.clip((np.asarray(y_m, dtype=float) - self.y0_m) / self.cell_m, 0.0, v.shape[0] - 1.0)
        jx = np.minimum(np.floor(fx).astype(np.int64), max(0, v.shape[1] - 2))
        iy = np.minimum(np.floor(fy).astype(np.int64), max(0, v.shape[0] - 2))
        tx, ty = fx - jx, fy - iy
        jx1 = np.minimum(jx + 1, v.shape[1] - 1)
        iy1 = np.minimum(iy + 1, v.shape[0] - 1)
        top = v[iy][:, jx] * (1.0 - tx) + v[iy][:, jx1] * tx
        bottom = v[iy1][:, jx] * (1.0 - tx) + v[iy1][:, jx1] * tx
        return top * (1.0 - ty)[:, None] + bottom * ty[:, None]


@dataclass(frozen=True)
class BackgroundModel:
    """The per-run part of mode "background": ``r0_m``, the expected gain table ``eg`` (n_rows, n_u),
    the azimuth-mean antenna gains ``gbar`` (n_patterns, n_theta) and the raster of the map (or block)."""

    r0_m: float
    eg: np.ndarray
    gbar: np.ndarray
    raster: BackgroundRaster | None = None


def background_model(st: KernelStatic, *, r0_m: float, shadow_fading: bool, los_mode: str) -> BackgroundModel:
    """The :class:`BackgroundModel` of a run (no raster yet: :func:`with_raster`)."""
    if not (r0_m > 0.0 and math.isfinite(r0_m)):
        raise ValueError(f"r0_m must be a positive distance, got {r0_m}")
    return BackgroundModel(r0_m=float(r0_m), eg=expected_gain_table(st, shadow_fading=shadow_fading, los_mode=los_mode),
                           gbar=azimuth_mean_gain(st.gain_lin, st.phi_step_deg))


def _node(st: KernelStatic, d_m: np.ndarray):
    """(k, f): the distance-table node and the fraction the kernel interpolates with (u = sqrt(d) / u_step)."""
    n_u = st.gain_los_lin.shape[1]
    u = np.sqrt(np.asarray(d_m, dtype=float)) / st.u_step
    k = np.clip(np.floor(u).astype(np.int64), 0, n_u - 2)
    return k, np.clip(u - k, 0.0, 1.0)


def _lerp(table: np.ndarray, rows: np.ndarray, k: np.ndarray, f: np.ndarray) -> np.ndarray:
    return table[rows, k] * (1.0 - f) + table[rows, k + 1] * f


def mean_sector_power_mw(model: BackgroundModel, st: KernelStatic, sectors: np.ndarray, d_m: np.ndarray) -> np.ndarray:
    """f̄ of ``sectors`` (n,) of ``st`` at distances ``d_m`` (n, ...) [mW]: p_RE x the pattern's mean over
    azimuth at the zenith angle of that distance x E[g] (module docstring)."""
    sectors = np.asarray(sectors, dtype=np.int64)
    shape = (sectors.size,) + (1,) * (np.ndim(d_m) - 1)
    rows = st.site_rows()[st.sector_site[sectors]].reshape(shape)
    k, f = _node(st, d_m)
    theta = _lerp(st.theta_deg, rows, k, f)
    ti = np.clip(np.rint(theta / st.theta_step_deg).astype(np.int64), 0, model.gbar.shape[1] - 1)
    g = model.gbar[st.sector_pattern[sectors].reshape(shape), ti]
    return st.sector_p_re_mw[sectors].reshape(shape) * g * _lerp(model.eg, rows, k, f)


def expected_sector_power_mw(model: BackgroundModel, st: KernelStatic, sectors: np.ndarray, x_m: np.ndarray,
                             y_m: np.ndarray) -> np.ndarray:
    """f of ``sectors`` (n,) at the points (x_m, y_m) (m,) [mW], (n, m): the sector's own pattern
    towards each point (nearest table node) x E[g] (module docstring)."""
    sectors = np.asarray(sectors, dtype=np.int64)
    site = st.sector_site[sectors]
    dx = np.asarray(x_m, dtype=float)[None, :] - st.site_x_m[site][:, None]
    dy = np.asarray(y_m, dtype=float)[None, :] - st.site_y_m[site][:, None]
    d = np.hypot(dx, dy)
    rows = st.site_rows()[site][:, None]
    k, f = _node(st, d)
    theta = _lerp(st.theta_deg, rows, k, f)
    phi = np.degrees(np.arctan2(dy, dx)) - st.sector_bearing_deg[sectors][:, None]
    phi = np.mod(phi + 180.0, 360.0) - 180.0
    ti = np.clip(np.rint(theta / st.theta_step_deg).astype(np.int64), 0, st.gain_lin.shape[1] - 1)
    pj = np.clip(np.rint((phi + 180.0) / st.phi_step_deg).astype(np.int64), 0, st.gain_lin.shape[2] - 1)
    g = st.gain_lin[st.sector_pattern[sectors][:, None], ti, pj].astype(float)
    return st.sector_p_re_mw[sectors][:, None] * g * _lerp(model.eg, rows, k, f)


ISD_NEIGHBOURS = 50
"""Sites whose spread gives the local inter-site distance (:func:`local_isd_m`)."""

MIN_R0_M = 100.0
"""Smallest r0 [m] (as ``compute.background_radius_m``'s lower limit)."""


def local_isd_m(tree, x_m: float, y_m: float, *, k: int = ISD_NEIGHBOURS) -> float:
    """The inter-site distance [m] of a hexagonal layout with the site density around (x_m, y_m):
    the ``k`` nearest sites of ``tree`` (a :class:`scipy.spatial.cKDTree` of the site positions [m])
    lie within d_k, density rho = k / (pi d_k^2), and a hexagonal layout of ISD D has
    rho = 2 / (sqrt(3) D^2) (one site per hexagon of area sqrt(3) D^2 / 2), so D = sqrt(2 / (sqrt(3) rho)).
    inf with fewer than 2 sites.

    >>> from scipy.spatial import cKDTree
    >>> ix, iy = np.meshgrid(np.arange(-12, 13), np.arange(-12, 13))
    >>> hexes = np.column_stack([((ix + 0.5 * (iy % 2)) * 500.0).ravel(), (iy * 500.0 * np.sqrt(3) / 2).ravel()])
    >>> [round(local_isd_m(cKDTree(hexes), 0.0, 0.0, k=k) / 500.0, 2) for k in (50, 100)]     # ISD 500 m
    [0.97, 1.01]
    """
    n = int(tree.n)
    if n < 2:
        return math.inf
    k = min(int(k), n)
    d, _ = tree.query((float(x_m), float(y_m)), k=k)
    return float(_hexagonal_isd_m(float(np.atleast_1d(d)[-1]), k))


def _hexagonal_isd_m(d_k_m, k: int):
    """ISD of the hexagonal layout whose density puts ``k`` sites within ``d_k_m``: rho = k / (pi d^2),
    D = sqrt(2 / (sqrt(3) rho)) [m] (0 where d = 0)."""
    return np.sqrt(2.0 * math.pi * np.square(d_k_m) / (math.sqrt(3.0) * k))


def network_isd_m(site_x_m, site_y_m, *, k: int = ISD_NEIGHBOURS) -> float:
    """The median over the sites of :func:`local_isd_m` at each site [m] (one r0 for a whole map)."""
    xy = np.column_stack([np.asarray(site_x_m, dtype=float), np.asarray(site_y_m, dtype=float)])
    if len(xy) < 2:
        return math.inf
    tree = cKDTree(xy)
    k = min(int(k), len(xy))
    d, _ = tree.query(xy, k=k)
    d_k = np.asarray(d).reshape(len(xy), -1)[:, -1]                      # (n_sites,)
    return float(np.median(_hexagonal_isd_m(d_k, k)))


def adaptive_r0_m(isd_m: float, per_isd: float, r0_max_m: float) -> float:
    """r0 [m] of ``per_isd`` inter-site distances, within [:data:`MIN_R0_M`, ``r0_max_m``]
    (``compute.background_radius_isd``, ``compute.background_radius_m``). The left-out sites'
    fluctuation grows as r0 nears one ISD (docs/national.md: 2 ISDs mean -0.08 dB, p1 -0.9 dB;
    3.6 ISDs -0.02 / -0.25 dB), and the sites kept per pixel grow as r0^2.

    >>> adaptive_r0_m(172.0, 3.0, 2000.0), adaptive_r0_m(1500.0, 3.0, 2000.0), adaptive_r0_m(20.0, 3.0, 2000.0)
    (516.0, 2000.0, 100.0)
    """
    if not (per_isd > 0.0 and r0_max_m >= MIN_R0_M):
        raise ValueError(f"per_isd must be > 0 and r0_max_m >= {MIN_R0_M} m, got {per_isd}, {r0_max_m}")
    r0 = per_isd * isd_m if math.isfinite(isd_m) else r0_max_m
    return float(min(r0_max_m, max(MIN_R0_M, r0)))


def raster_cell_m(r0_m: float) -> float:
    return float(r0_m) / CELLS_PER_R0


def sector_kinds(st: KernelStatic) -> tuple[np.ndarray, np.ndarray]:
    """(kind of each sector (n_sectors,), a representative sector of each kind (n_kinds,)): sectors of
    equal distance-table row, antenna pattern and p_RE share f̄ (the raster's kinds)."""
    rows = st.site_rows()[st.sector_site]
    key = np.column_stack([rows, st.sector_pattern, st.sector_p_re_mw])
    _, first, kind = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return kind.ravel(), first


def build_raster(model: BackgroundModel, st: KernelStatic, rep_sectors, sector_x_m, sector_y_m, sector_kind,
                 bounds_m, *, reach_m: float | None = None) -> BackgroundRaster:
    """The :class:`BackgroundRaster` over ``bounds_m`` = (xmin, ymin, xmax, ymax) [m] of the sectors at
    (``sector_x_m``, ``sector_y_m``) (their sites' positions) of kinds ``sector_kind``, kind j's f̄
    that of sector ``rep_sectors[j]`` of ``st`` (:func:`sector_kinds`). Sectors farther than
    ``reach_m`` (default REACH_R0 x r0) from a cell are left out. Per kind the counts on the grid are convolved with w f̄
    sampled on the grid's offsets (module docstring).

    Raises ValueError when the grid (bounds plus ``reach_m`` around) exceeds :data:`MAX_RASTER_CELLS`."""
    xmin, ymin, xmax, ymax = (float(v) for v in bounds_m)
    cell = raster_cell_m(model.r0_m)
    xmin, ymin = math.floor(xmin / cell) * cell, math.floor(ymin / cell) * cell   # one lattice for every area
    n_x = int(math.floor((xmax - xmin) / cell)) + 2
    n_y = int(math.floor((ymax - ymin) / cell)) + 2
    reach_m = model.r0_m * REACH_R0 if reach_m is None else float(reach_m)
    values = np.zeros((n_y, n_x))
    jx = np.rint((np.asarray(sector_x_m, dtype=float) - xmin) / cell).astype(np.int64)
    iy = np.rint((np.asarray(sector_y_m, dtype=float) - ymin) / cell).astype(np.int64)
    kind = np.asarray(sector_kind, dtype=np.int64)
    half = int(math.ceil(reach_m / cell))
    inside = (jx >= -half) & (jx < n_x + half) & (iy >= -half) & (iy < n_y + half)
    jx, iy, kind = jx[inside], iy[inside], kind[inside]
    if kind.size == 0:
        return BackgroundRaster(x0_m=xmin, y0_m=ymin, cell_m=cell, values_mw=values)
    # the padded grid covers the map and the sectors within reach (not more: FFT cost)
    lo_x, hi_x = min(0, int(jx.min())), max(n_x - 1, int(jx.max()))
    lo_y, hi_y = min(0, int(iy.min())), max(n_y - 1, int(iy.max()))
    n_x_pad, n_y_pad = hi_x - lo_x + 1, hi_y - lo_y + 1
    if n_x_pad * n_y_pad > MAX_RASTER_CELLS:
        raise ValueError(f"the background raster of a {xmax - xmin:.0f} x {ymax - ymin:.0f} m area needs "
                         f"{n_x_pad * n_y_pad:,} cells (> {MAX_RASTER_CELLS:,})")
    k_x = min(half, max(hi_x, n_x - 1 - lo_x))  # kernel half-widths: the largest site-to-map-cell offset
    k_y = min(half, max(hi_y, n_y - 1 - lo_y))
    off_x = np.arange(-k_x, k_x + 1) * cell
    off_y = np.arange(-k_y, k_y + 1) * cell
    d = np.hypot(off_x[None, :], off_y[:, None])
    w = np.where(d <= reach_m, taper(d, model.r0_m), 0.0)
    flat = (iy - lo_y) * n_x_pad + (jx - lo_x)
    rep = np.asarray(rep_sectors, dtype=np.int64)
    for j in np.unique(kind):
        count = np.bincount(flat[kind == j], minlength=n_y_pad * n_x_pad).astype(float).reshape(n_y_pad, n_x_pad)
        kern = w * mean_sector_power_mw(model, st, rep[j:j + 1], d[None])[0]
        from scipy.signal import fftconvolve    # here: importing scipy.signal costs ~1.2 s (scipy.stats), paid by every Dask worker

        full = fftconvolve(count, kern, mode="full")          # full[a, b] = sum count[a - k, b - l] kern[k, l]
        r0_, c0_ = -lo_y + k_y, -lo_x + k_x                   # map cell (0, 0) in the full output
        values += np.maximum(full[r0_:r0_ + n_y, c0_:c0_ + n_x], 0.0)
    return BackgroundRaster(x0_m=xmin, y0_m=ymin, cell_m=cell, values_mw=values)


def tile_background_mw(model: BackgroundModel, st: KernelStatic, kept_sectors: np.ndarray,
                       dropped_sectors: np.ndarray, x_m: np.ndarray, y_m: np.ndarray,
                       step_px: int = COARSE_STEP_PX) -> np.ndarray:
    """BG (n_rows, n_cols) of a tile of pixel centres x_m (n_cols,) x y_m (n_rows,) [mW], O2I 0 dB
    (module docstring): the raster, plus the dropped candidates' (1 - w) f, minus the kept sectors'
    w f̄, on every ``step_px``-th pixel (and the last), bilinear between, clipped at 0."""
    x = np.asarray(x_m, dtype=float)
    y = np.asarray(y_m, dtype=float)
    cx = np.unique(np.append(np.arange(0, x.size, step_px), x.size - 1))
    cy = np.unique(np.append(np.arange(0, y.size, step_px), y.size - 1))
    px, py = np.meshgrid(x[cx], y[cy])
    px, py = px.ravel(), py.ravel()
    bg = model.raster.at(x[cx], y[cy]).ravel() if model.raster is not None else np.zeros(px.size)
    dropped_sectors = np.asarray(dropped_sectors, dtype=np.int64)
    for chunk in np.array_split(dropped_sectors, max(1, dropped_sectors.size // 2048)):
        if chunk.size:
            s = st.sector_site[chunk]
            d = np.hypot(px[None, :] - st.site_x_m[s][:, None], py[None, :] - st.site_y_m[s][:, None])
            bg += np.sum((1.0 - taper(d, model.r0_m)) * expected_sector_power_mw(model, st, chunk, px, py), axis=0)
    kept_sectors = np.asarray(kept_sectors, dtype=np.int64)
    if kept_sectors.size:
        s = st.sector_site[kept_sectors]
        d = np.hypot(px[None, :] - st.site_x_m[s][:, None], py[None, :] - st.site_y_m[s][:, None])
        bg -= np.sum(taper(d, model.r0_m) * mean_sector_power_mw(model, st, kept_sectors, d), axis=0)
    bg = np.maximum(bg, 0.0).reshape(cy.size, cx.size)
    rows = np.interp(np.arange(y.size), cy, np.arange(cy.size))
    cols = np.interp(np.arange(x.size), cx, np.arange(cx.size))
    i0 = np.minimum(np.floor(rows).astype(np.int64), max(0, cy.size - 2))
    j0 = np.minimum(np.floor(cols).astype(np.int64), max(0, cx.size - 2))
    ty, tx = rows - i0, cols - j0
    i1, j1 = np.minimum(i0 + 1, cy.size - 1), np.minimum(j0 + 1, cx.size - 1)
    top = bg[i0][:, j0] * (1.0 - tx) + bg[i0][:, j1] * tx
    bottom = bg[i1][:, j0] * (1.0 - tx) + bg[i1][:, j1] * tx
    return top * (1.0 - ty)[:, None] + bottom * ty[:, None]


def add_background_sinr_db(rsrp_dbm: np.ndarray, sinr_db: np.ndarray, bg_mw: np.ndarray, o2i_db: np.ndarray,
                           load_factor: float) -> np.ndarray:
    """SINR with the background added to the interference [dB] (float32 like the kernel's):
    S / (S / SINR + L a BG), a = 10^(-O2I/10); pixels without a server keep theirs.

    >>> float(add_background_sinr_db(np.array([-80.0]), np.array([20.0]), np.array([10 ** -10.0]),
    ...                              np.array([0.0]), 1.0)[0])       # I + N was -100 dBm, BG -100 dBm: -3 dB
    16.989700317382812
    """
    s = 10.0 ** (rsrp_dbm.astype(float) / 10.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        i_n = s / 10.0 ** (sinr_db.astype(float) / 10.0)
        out = 10.0 * np.log10(s / (i_n + load_factor * 10.0 ** (-np.asarray(o2i_db, dtype=float) / 10.0) * bg_mw))
    return np.where(np.isfinite(out), out, sinr_db).astype(np.float32)
