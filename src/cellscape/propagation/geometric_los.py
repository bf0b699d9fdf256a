"""Site-specific line of sight: every link marched over the height surface.

For a link from an antenna at (x_t, y_t, z_t) to a user at (x_r, y_r, z_r) (absolute heights:
ground plus height above ground), the 2-D segment between them is walked cell by cell over the
:class:`~cellscape.geo.surface.Surface` raster (Amanatides & Woo's grid traversal, so every cell the
segment crosses is visited once and no thin wall is stepped over). Each cell contributes two
profile points, where the segment enters and leaves it, at the cell's top height (ground +
building). From the profile the link gets the diffraction parameter nu of its Bullington point
(ITU-R P.526-15 Section 4.5.1, the equations of :func:`cellscape.propagation.diffraction.bullington_parameter`):

- nu < 0: line of sight (no profile point reaches the direct line); nu is the largest
  diffraction parameter of the profile (how deep the worst obstacle reaches into the Fresnel zone),
  or ``-inf`` when every profile point has nu <= -0.78 (clear of the zone where J(nu) > 0: those
  points are not evaluated exactly, only shown to be below the limit);
- nu >= 0: obstructed; nu is that of the Bullington point;
- ``-inf``: nothing between the ends (a link shorter than one cell); ``+inf``: obstructed where
  only the LOS decision was asked for (the march stops at the first obstacle), or a link longer than
  ``range_m`` (not marched: NLOS).

Rules at the ends of a link:

- an antenna at or above the roof of the building it stands on is taken to be at the roof's edge
  on the side of the link (operators mount sector antennas on the parapet facing their sector): its
  own roof (the run of covered cells no taller than the antenna, from the antenna toward the
  receiver) is no obstacle and the link starts at that edge, at the antenna's height; a taller
  building joined to it ends the run and is an obstacle. Otherwise only the antenna's own cell is
  skipped (an antenna on a wall is not blocked by its mount);
- a receiver inside a building (``rx_indoor``) is judged at its facade: the walk first leaves the
  receiver's building (the run of covered cells from the receiver toward the antenna) and the link
  ends there, at the receiver's height (TR 38.901 7.4.3 splits an O2I link into an outdoor part to
  the wall and an indoor part; the indoor part is the O2I loss). A link that never leaves the
  building is LOS (walls inside are not modelled);
- an outdoor receiver on a roof is a receiver whose height is above that roof: the roof is then
  below the line and does not block.

The marched world is the raster: a building is the set of pixels whose centre lies in its
footprint, flat-topped at its height. Earth curvature is the P.526 bulge d_t d_r / (2 a_e).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from cellscape.errors import GeometryError
from cellscape.geo.surface import Surface
from cellscape.propagation.diffraction import EFFECTIVE_EARTH_RADIUS_M, NU_MIN

_NU_MIN = NU_MIN

_END_M = 1e-6
"""Profile points this close to an end of the link are that end [m]: the two grid traversals (from
the receiver, and out of the antenna's roof) meet at a boundary only to within rounding."""
from cellscape.units import SPEED_OF_LIGHT_M_S


@numba.njit(cache=True, inline="always")
def _point(h, d, d_eff, inv_d_eff, z_t, z_r, inv_2ae, k_nu, clear_m, acc):
    """Fold one profile point (distance d from the antenna, height h) into the running maxima
    acc = [S_tim, S_rim, nu_max] (P.526-15 Section 4.5.1). The slopes are compared by
    cross-multiplication (a division only when a maximum moves); nu is only evaluated for points
    less than ``clear_m`` below the direct line: farther ones have nu <= -0.78 wherever they are."""
    if d <= _END_M or d >= d_eff - _END_M:
        return                             # an end of the link (to within rounding of the traversal)
    d_r = d_eff - d
    hc = h + d * d_r * inv_2ae
    rise_t = hc - z_t
    if rise_t > acc[0] * d:
        acc[0] = rise_t / d
    rise_r = hc - z_r
    if rise_r > acc[1] * d_r:
        acc[1] = rise_r / d_r
    above = hc - (z_t * d_r + z_r * d) * inv_d_eff
    if above > clear_m:
        nu = above * math.sqrt(k_nu * d_eff / (d * d_r))
        if nu > acc[2]:
            acc[2] = nu


@numba.njit(cache=True, inline="always")
def _traversal_start(x0, y0, res, x_a, y_a, ux, uy):
    """Grid traversal (Amanatides & Woo) from (x_a, y_a) along the unit vector (ux, uy): the start
    cell (r, c; rows count southwards), the steps, and the distances s_x / s_y to the next column /
    row boundary and between boundaries ds_x / ds_y."""
    c = int(math.floor((x_a - x0) / res))
    r = int(math.floor((y0 - y_a) / res))
    step_c = 1 if ux > 0 else -1
    step_r = 1 if uy < 0 else -1
    if ux != 0.0:
        s_x = ((c + 1 if ux > 0 else c) * res + x0 - x_a) / ux
        ds_x = res / abs(ux)
    else:
        s_x = math.inf
        ds_x = math.inf
    if uy != 0.0:
        s_y = (y0 - (r + 1 if uy < 0 else r) * res - y_a) / uy
        ds_y = res / abs(uy)
    else:
        s_y = math.inf
        ds_y = math.inf
    return r, c, step_r, step_c, s_x, s_y, ds_x, ds_y


@numba.njit(cache=True, inline="always")
def _traversal_step(r, c, step_r, step_c, s_x, s_y, ds_x, ds_y, tie):
    """Into the next cell: returns (s at the boundary crossed, r, c, s_x, s_y). Through a pixel
    corner (s_x == s_y within ``tie``) the step is diagonal: the side cells are only touched at a point."""
    if abs(s_x - s_y) <= tie:
        return s_x, r + step_r, c + step_c, s_x + ds_x, s_y + ds_y
    if s_x < s_y:
        return s_x, r, c + step_c, s_x + ds_x, s_y
    return s_y, r + step_r, c, s_x, s_y + ds_y


@numba.njit(cache=True)
def _run_exit(inside, top, z_max, x0, y0, res, x_a, y_a, ux, uy, dist):
    """Distance along (ux, uy) from (x_a, y_a) at which the run of covered cells no taller than
    ``z_max`` that holds the start point ends (``dist`` if it lasts the whole way), by the same
    grid traversal."""
    n_rows, n_cols = inside.shape
    r, c, step_r, step_c, s_x, s_y, ds_x, ds_y = _traversal_start(x0, y0, res, x_a, y_a, ux, uy)
    tie = 1e-9 * res
    s = 0.0
    while 0 <= r < n_rows and 0 <= c < n_cols and inside[r, c] and top[r, c] <= z_max:
        s, r, c, s_x, s_y = _traversal_step(r, c, step_r, step_c, s_x, s_y, ds_x, ds_y, tie)
        if s >= dist:
            return dist
    return s


@numba.njit(cache=True)
def _link_nu(top, inside, x0, y0, res, x_t, y_t, z_t, x_r, y_r, z_r, rx_indoor, k_nu, inv_2ae,
             range_m, need_nu, acc):
    """The diffraction parameter of one link (see the module docstring for its meaning)."""
    n_rows, n_cols = top.shape
    vx = x_t - x_r
    vy = y_t - y_r
    dist = math.sqrt(vx * vx + vy * vy)
    if dist > range_m:
        return math.inf
    if dist < 1e-9:
        return -math.inf
    ux = vx / dist
    uy = vy / dist
    r, c, step_r, step_c, s_x, s_y, ds_x, ds_y = _traversal_start(x0, y0, res, x_r, y_r, ux, uy)
    tc = int(math.floor((x_t - x0) / res))
    tr = int(math.floor((y0 - y_t) / res))
    s_in = 0.0
    tie = 1e-9 * res
    # leave the receiver's building first (indoor receivers are judged at the facade)
    s_f = 0.0
    if rx_indoor:
        while 0 <= r < n_rows and 0 <= c < n_cols and inside[r, c]:
            if r == tr and c == tc:
                return -math.inf           # the antenna is in the same building: no outdoor path
            s_in, r, c, s_x, s_y = _traversal_step(r, c, step_r, step_c, s_x, s_y, ds_x, ds_y, tie)
            if s_in >= dist:
                return -math.inf
        s_f = s_in
    # an antenna on its roof stands at the roof's edge on the side of the link: its building is no obstacle
    s_stop = dist
    if 0 <= tr < n_rows and 0 <= tc < n_cols and inside[tr, tc] and z_t >= top[tr, tc]:
        s_stop = dist - _run_exit(inside, top, z_t, x0, y0, res, x_t, y_t, -ux, -uy, dist)
    if s_stop <= s_f:
        return -math.inf                   # the receiver's facade is the antenna's roof edge
    d_eff = s_stop - s_f
    acc[0] = -math.inf
    acc[1] = -math.inf
    acc[2] = -math.inf
    s_tr = (z_r - z_t) / d_eff
    # sqrt(k d / (d_t d_r)) >= sqrt(4 k / d): a point deeper than this below the line has nu <= -0.78
    clear_m = _NU_MIN * math.sqrt(d_eff / (4.0 * k_nu))
    inv_d_eff = 1.0 / d_eff
    n_points = 0
    # profile points are the cell boundaries, each at the taller of its two cells (a wall on either
    # side of the boundary is there); the antenna's own cell is skipped
    prev_h = -math.inf
    while s_in < s_stop:
        if r == tr and c == tc:
            if prev_h > -math.inf:
                _point(prev_h, s_stop - s_in, d_eff, inv_d_eff, z_t, z_r, inv_2ae, k_nu, clear_m, acc)
                n_points += 1
            break
        h = top[r, c] if (0 <= r < n_rows and 0 <= c < n_cols) else -math.inf
        h_b = max(prev_h, h)
        if h_b > -math.inf:
            _point(h_b, s_stop - s_in, d_eff, inv_d_eff, z_t, z_r, inv_2ae, k_nu, clear_m, acc)
            n_points += 1
            if not need_nu and acc[0] >= s_tr:
                return math.inf
        s_out = min(s_x, s_y, dist)
        if s_out >= dist:
            break
        prev_h = h
        s_in, r, c, s_x, s_y = _traversal_step(r, c, step_r, step_c, s_x, s_y, ds_x, ds_y, tie)
    if n_points == 0 or acc[0] == -math.inf:
        return -math.inf
    if acc[0] < s_tr:
        if acc[2] <= _NU_MIN:
            return -math.inf               # LOS and clear of the Fresnel zone (J = 0)
        return min(acc[2], -1e-9)          # LOS: the deepest Fresnel-zone intrusion (< 0)
    denom = acc[0] + acc[1]
    if denom <= 0.0:
        return 0.0                         # grazing
    d_b = (z_r - z_t + acc[1] * d_eff) / denom
    d_b = min(max(d_b, 1e-9 * d_eff), d_eff * (1.0 - 1e-9))
    h_b = z_t + acc[0] * d_b
    return max((h_b - (z_t * (d_eff - d_b) + z_r * d_b) / d_eff) * math.sqrt(k_nu * d_eff / (d_b * (d_eff - d_b))),
               0.0)


@numba.njit(parallel=True, cache=True, nogil=True)
def _nu_tile(top, inside, x0, y0, res, site_x, site_y, site_z, px_x, px_y, rx_z, rx_in, k_nu, inv_2ae,
             range_m, need_nu, out):
    n_sites = site_x.size
    n_rows = px_y.size
    n_cols = px_x.size
    for r in numba.prange(n_rows):
        acc = np.empty(3, dtype=np.float64)
        for i in range(n_sites):          # site outer: neighbouring pixels march nearly the same cells
            for c in range(n_cols):
                out[i, r, c] = _link_nu(top, inside, x0, y0, res, site_x[i], site_y[i], site_z[i],
                                        px_x[c], px_y[r], rx_z[r, c], rx_in[r, c], k_nu, inv_2ae,
                                        range_m, need_nu, acc)


def _k_nu(fc_ghz: float) -> float:
    """2 / lambda, the factor of nu = h sqrt(2 d / (lambda d_t d_r)) [1/m]."""
    if not fc_ghz > 0:
        raise GeometryError(f"fc_ghz must be > 0, got {fc_ghz}")
    return 2.0 / (SPEED_OF_LIGHT_M_S / (fc_ghz * 1e9))


def diffraction_parameter(surface: Surface, site_xyz_m, x_m, y_m, rx_z_m, rx_indoor, *, fc_ghz: float,
                          range_m: float = math.inf, need_nu: bool = True,
                          earth_radius_m: float = EFFECTIVE_EARTH_RADIUS_M) -> np.ndarray:
    """Bullington diffraction parameter of every site-pixel link of a block of pixels.

    Parameters
    ----------
    surface : Surface
        Heights over an extent holding every link (:func:`cellscape.geo.surface.link_extent_m`);
        cells outside it count as open ground.
    site_xyz_m : array_like, shape (n_sites, 3)
        Antenna positions in the surface's CRS and absolute heights (ground + antenna height). [m]
    x_m : array_like, shape (n_cols,)
        Pixel-centre x of the block. [m]
    y_m : array_like, shape (n_rows,)
        Pixel-centre y of the block. [m]
    rx_z_m : array_like, shape (n_rows, n_cols)
        Absolute receiver heights. [m]
    rx_indoor : array_like of bool, shape (n_rows, n_cols)
        Receivers inside a building (judged at the facade).
    fc_ghz : float
        Carrier frequency (for the Fresnel scale of nu). [GHz]
    range_m : float, default inf
        Links longer than this (2-D) are not marched: +inf (NLOS). [m]
    need_nu : bool, default True
        False: only the LOS decision is needed; an obstructed link stops at its first obstacle and
        gets +inf.
    earth_radius_m : float, default 8.5e6
        Effective Earth radius. [m]

    Returns
    -------
    nu : ndarray of float32, shape (n_sites, n_rows, n_cols)
        < 0 LOS, >= 0 NLOS (module docstring).

    Examples
    --------
    A 20 m building between a 10 m antenna and a street-level user 100 m away:

    >>> import geopandas as gpd, shapely
    >>> from cellscape.geo.grid import RasterGrid
    >>> from cellscape.geo.surface import surface_on
    >>> g = RasterGrid("EPSG:32635", x_min_m=0.0, y_max_m=10.0, resolution_m=1.0, n_rows=10, n_cols=110)
    >>> wall = gpd.GeoDataFrame({"height_m": [20.0]}, geometry=[shapely.box(50, 0, 52, 10)], crs="EPSG:32635")
    >>> s = surface_on(g, buildings=wall)
    >>> nu = diffraction_parameter(s, [[0.5, 5.5, 10.0]], [20.5, 100.5], [5.5], [[1.5, 1.5]], [[False, False]],
    ...                            fc_ghz=3.5)
    >>> bool(nu[0, 0, 0] < 0), bool(nu[0, 0, 1] >= 0)      # in front of the wall: LOS; behind it: NLOS
    (True, True)
    """
    site = np.ascontiguousarray(np.asarray(site_xyz_m, dtype=np.float64).reshape(-1, 3))
    x = np.ascontiguousarray(np.asarray(x_m, dtype=np.float64).ravel())
    y = np.ascontiguousarray(np.asarray(y_m, dtype=np.float64).ravel())
    rx_z = np.ascontiguousarray(np.broadcast_to(np.asarray(rx_z_m, dtype=np.float64), (y.size, x.size)))
    rx_in = np.ascontiguousarray(np.broadcast_to(np.asarray(rx_indoor, dtype=np.bool_), (y.size, x.size)))
    g = surface.grid
    out = np.empty((site.shape[0], y.size, x.size), dtype=np.float32)
    _nu_tile(np.ascontiguousarray(surface.top_m, dtype=np.float32), np.ascontiguousarray(surface.inside),
             float(g.x_min_m), float(g.y_max_m), float(g.resolution_m),
             np.ascontiguousarray(site[:, 0]), np.ascontiguousarray(site[:, 1]), np.ascontiguousarray(site[:, 2]),
             x, y, rx_z, rx_in, _k_nu(fc_ghz), 1.0 / (2.0 * earth_radius_m), float(range_m), bool(need_nu), out)
    return out


def line_of_sight(surface: Surface, site_xyz_m, x_m, y_m, rx_z_m, rx_indoor, *,
                  range_m: float = math.inf) -> np.ndarray:
    """Whether each site-pixel link is unobstructed, shape (n_sites, n_rows, n_cols), bool.

    The LOS decision of :func:`diffraction_parameter` (which see), with the walk stopping at the
    first obstacle. Links longer than ``range_m`` are NLOS.
    """
    nu = diffraction_parameter(surface, site_xyz_m, x_m, y_m, rx_z_m, rx_indoor, fc_ghz=1.0,
                               range_m=range_m, need_nu=False)
    return nu < 0


def reference_link_nu(surface: Surface, tx_xyz_m, rx_xyz_m, *, rx_indoor: bool = False, fc_ghz: float,
                      earth_radius_m: float = EFFECTIVE_EARTH_RADIUS_M) -> float:
    """The same diffraction parameter for one link, computed the plain numpy way.

    The naive implementation the kernel is tested (and benchmarked) against: all crossings of the
    segment with the raster's grid lines are found with numpy, each crossing becomes a profile
    point at the taller of its two cells, and
    :func:`cellscape.propagation.diffraction.bullington_parameter` evaluates the profile. Same
    end rules as the kernel (antenna cell skipped, indoor receiver judged at its facade).
    """
    from cellscape.propagation.diffraction import bullington_parameter

    g = surface.grid
    top = surface.top_m
    inside = surface.inside
    x_t, y_t, z_t = (float(v) for v in tx_xyz_m)
    x_r, y_r, z_r = (float(v) for v in rx_xyz_m)
    dist = math.hypot(x_t - x_r, y_t - y_r)
    if dist < 1e-9:
        return -math.inf
    ux, uy = (x_t - x_r) / dist, (y_t - y_r) / dist
    res = g.resolution_m
    s = [0.0, dist]
    if ux != 0.0:
        lines = g.x_min_m + res * np.arange(math.ceil((min(x_r, x_t) - g.x_min_m) / res),
                                            math.floor((max(x_r, x_t) - g.x_min_m) / res) + 1)
        s.extend(((lines - x_r) / ux).tolist())
    if uy != 0.0:
        lines = g.y_max_m - res * np.arange(math.ceil((g.y_max_m - max(y_r, y_t)) / res),
                                            math.floor((g.y_max_m - min(y_r, y_t)) / res) + 1)
        s.extend(((lines - y_r) / uy).tolist())
    s = np.unique(np.clip(np.array(s), 0.0, dist))
    mid = 0.5 * (s[:-1] + s[1:])                                           # one point inside each crossed cell
    col = np.floor((x_r + ux * mid - g.x_min_m) / res).astype(np.int64)
    row = np.floor((g.y_max_m - (y_r + uy * mid)) / res).astype(np.int64)
    ok = (row >= 0) & (row < g.n_rows) & (col >= 0) & (col < g.n_cols)
    h_cell = np.where(ok, top[np.clip(row, 0, g.n_rows - 1), np.clip(col, 0, g.n_cols - 1)], -np.inf)
    in_cell = ok & inside[np.clip(row, 0, g.n_rows - 1), np.clip(col, 0, g.n_cols - 1)]
    t_row = math.floor((g.y_max_m - y_t) / res)
    t_col = math.floor((x_t - g.x_min_m) / res)
    is_tx = (row == t_row) & (col == t_col)
    first_tx = int(np.argmax(is_tx)) if is_tx.any() else len(mid)
    start = 0
    if rx_indoor:
        while start < first_tx and in_cell[start]:
            start += 1
        if start >= first_tx:
            return -math.inf
    stop = first_tx                              # cells [start, stop) form the profile
    s_stop = dist
    on_roof = (0 <= t_row < g.n_rows and 0 <= t_col < g.n_cols and bool(inside[t_row, t_col])
               and z_t >= float(top[t_row, t_col]))
    if on_roof:
        while stop > start and in_cell[stop - 1] and h_cell[stop - 1] <= z_t:   # the antenna's roof
            stop -= 1
        s_stop = s[stop]
    if stop <= start or s_stop <= s[start]:
        return -math.inf
    d_eff = s_stop - s[start]
    cells = np.arange(start, stop)
    cells = cells[np.isfinite(h_cell[cells])]
    d_pts = np.concatenate([s_stop - s[cells], s_stop - s[cells + 1]])
    h_pts = np.concatenate([h_cell[cells], h_cell[cells]])
    keep = (d_pts > _END_M) & (d_pts < d_eff - _END_M)
    if not keep.any():
        return -math.inf
    nu, los = bullington_parameter(d_pts[keep], h_pts[keep], h_tx_m=z_t, h_rx_m=z_r, d_total_m=d_eff,
                                   fc_ghz=fc_ghz, earth_radius_m=earth_radius_m)
    if los:
        return min(nu, -1e-9) if nu > NU_MIN else -math.inf   # the kernel's convention for clear links
    return max(nu, 0.0)
