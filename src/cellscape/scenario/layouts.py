"""Network layouts of TR 38.901: the 19-site hexagonal grid with wrap-around and the indoor office.

Pure numpy, local metric coordinates (x east, y north, metres, the centre site at the origin).

Hexagonal grid (TR 38.901 Table 7.2-1, used by the Section 7.8.1 calibration for UMa and UMi):
19 sites (the centre and two rings) on a triangular lattice of spacing ISD, three sectors per site
with boresight bearings 30, 150 and 270 deg (counter-clockwise from east; azimuths 60, 300 and 180
deg clockwise from north, :data:`cellscape.scenario.defaults.CALIBRATION_LAYOUTS`). Each sector
serves a hexagonal cell of circumradius ISD/3 centred ISD/3 from its site along the boresight, so
the neighbouring sites lie at bearings 30 + 60 k deg, the directions a boresight points through
the cell centre towards the next site ("sites at the cell corners", the 3GPP clover-leaf grid).

Wrap-around: the 19-site cluster tiles the plane when copied along the six vectors of length
sqrt(19) ISD obtained by rotating ISD (3 u + 2 v) (u, v the lattice vectors at 30 and 90 deg) in
steps of 60 deg. The distance from a UE to a site is the minimum over the 7 copies of that site
(:func:`wrapped_offsets_m`), which makes every UE see the interference of a full two-ring network.

Indoor office (TR 38.901 Table 7.2-2): a 120 m x 50 m hall with 12 ceiling-mounted BSs on a 2 x 6
grid of 20 m spacing, at x = -50, -30, ..., 50 m and y = -10, 10 m; no wrap-around. By default each
BS has the three sectors of the hexagonal sites (azimuths 60, 300, 180 deg): the set-up with which
the published 3GPP indoor calibration curves are reproduced (docs/validation.md); pass one azimuth
for single-sector BSs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cellscape._validate import check_range

__all__ = [
    "SPEC", "CellLayout", "HEX_SECTOR_AZIMUTHS_DEG", "hexagonal_site_positions_m", "hexagonal_wrap_shifts_m",
    "hexagonal_layout", "indoor_office_layout", "wrapped_offsets_m", "uniform_points_in_cells_m",
    "uniform_points_in_rectangle_m",
]

SPEC = "3GPP TR 38.901 V19.0.0"
_TABLE_HEX = f"{SPEC} Table 7.2-1 (19 sites, 3 sectors, wrap-around)"
_TABLE_INDOOR = f"{SPEC} Table 7.2-2 (indoor office: 120 m x 50 m, 12 BSs, ISD 20 m)"

HEX_SECTOR_AZIMUTHS_DEG: tuple[float, float, float] = (60.0, 300.0, 180.0)
"""Sector boresights of every hexagonal site, clockwise from north [deg]: TR 38.901 bearings 30,
150 and 270 deg counter-clockwise from east (Table 7.8-1 via
:data:`cellscape.scenario.defaults.CALIBRATION_LAYOUTS`)."""

_U = np.array([np.cos(np.radians(30.0)), np.sin(np.radians(30.0))])   # lattice vector at 30 deg
_V = np.array([0.0, 1.0])                                             # lattice vector at 90 deg


@dataclass(frozen=True, eq=False)
class CellLayout:
    """Sites and sectors of a layout, with the translations that wrap it around.

    Arrays (sites and sectors lead, STYLE P4):

    - ``site_x_m``, ``site_y_m``: shape (n_sites,), site positions [m];
    - ``sector_site``: shape (n_sectors,), index of the site of each sector; sectors of one site
      are consecutive (sector ``3 i + k`` is sector ``k`` of site ``i`` on the hexagonal grid);
    - ``sector_azimuth_deg``: shape (n_sectors,), boresight clockwise from north [deg];
    - ``cell_radius_m``: circumradius of a sector's hexagonal cell (NaN when cells are not
      hexagons, e.g. the indoor office) [m];
    - ``wrap_shifts_m``: shape (n_copies, 2), translations of the whole layout, the first one
      (0, 0); a single row means no wrap-around.
    """

    name: str
    isd_m: float
    site_x_m: np.ndarray
    site_y_m: np.ndarray
    sector_site: np.ndarray
    sector_azimuth_deg: np.ndarray
    cell_radius_m: float
    wrap_shifts_m: np.ndarray
    source: str

    @property
    def n_sites(self) -> int:
        return int(self.site_x_m.size)

    @property
    def n_sectors(self) -> int:
        return int(self.sector_site.size)

    def cell_centres_m(self) -> tuple[np.ndarray, np.ndarray]:
        """Centres of the sectors' hexagonal cells, each shape (n_sectors,) [m]:
        ``cell_radius_m`` from the site along the boresight."""
        bearing = np.radians(90.0 - self.sector_azimuth_deg)                     # (n_sectors,)
        x = self.site_x_m[self.sector_site] + self.cell_radius_m * np.cos(bearing)
        y = self.site_y_m[self.sector_site] + self.cell_radius_m * np.sin(bearing)
        return x, y


def _lattice_points(n_rings: int) -> np.ndarray:
    """Integer coordinates (i, j) of the hexagonal-lattice points within ``n_rings`` rings, centre
    first, shape (1 + 3 n (n + 1), 2), ordered by ring then angle."""
    pts = [(i, j) for i in range(-n_rings, n_rings + 1) for j in range(-n_rings, n_rings + 1)
           if max(abs(i), abs(j), abs(i + j)) <= n_rings]
    xy = np.array([i * _U + j * _V for i, j in pts])
    ring = np.array([max(abs(i), abs(j), abs(i + j)) for i, j in pts])
    angle = np.mod(np.degrees(np.arctan2(xy[:, 1], xy[:, 0])) - 30.0 + 1e-9, 360.0)
    order = np.lexsort((angle, ring))
    return np.array(pts)[order]


def hexagonal_site_positions_m(isd_m: float, *, n_rings: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """
    Positions of the sites of a hexagonal grid: the centre and ``n_rings`` rings around it.

    Parameters
    ----------
    isd_m : float
        Inter-site distance, > 0 (500 m UMa, 200 m UMi in TR 38.901 Table 7.8-1). [m]
    n_rings : int, default 2
        Rings of sites around the centre site (2 gives the 19 sites of Table 7.2-1).

    Returns
    -------
    site_x_m, site_y_m : ndarray, shape (1 + 3 n_rings (n_rings + 1),)
        Site positions, centre first, then ring by ring counter-clockwise from bearing 30 deg. [m]

    Examples
    --------
    >>> x, y = hexagonal_site_positions_m(500.0)
    >>> x.size, round(float(np.hypot(x[1], y[1])), 6), round(float(np.degrees(np.arctan2(y[1], x[1]))), 6)
    (19, 500.0, 30.0)
    """
    isd = float(check_range("isd_m", isd_m, np.finfo(float).tiny, np.inf, source=_TABLE_HEX))
    ij = _lattice_points(int(n_rings))                                    # (n_sites, 2)
    xy = isd * (ij[:, :1] * _U + ij[:, 1:] * _V)                           # (n_sites, 2)
    return xy[:, 0].copy(), xy[:, 1].copy()


def hexagonal_wrap_shifts_m(isd_m: float) -> np.ndarray:
    """
    The 7 translations of the 19-site wrap-around: (0, 0) and six copies at sqrt(19) ISD.

    Parameters
    ----------
    isd_m : float
        Inter-site distance. [m]

    Returns
    -------
    wrap_shifts_m : ndarray, shape (7, 2)
        (dx, dy) of each copy of the cluster, the first one (0, 0). [m]

    Notes
    -----
    The six shifts are ISD (3 u + 2 v) rotated by 0, 60, ..., 300 deg, with u and v the unit
    lattice vectors at bearings 30 and 90 deg; |3 u + 2 v|^2 = 9 + 4 + 2 * 3 * 2 cos 60 = 19. With
    them the 7 copies of the 19-site cluster cover every lattice point once (tested).

    Examples
    --------
    >>> np.round(np.hypot(*hexagonal_wrap_shifts_m(200.0).T) / 200.0, 4).tolist()
    [0.0, 4.3589, 4.3589, 4.3589, 4.3589, 4.3589, 4.3589]
    """
    isd = float(check_range("isd_m", isd_m, np.finfo(float).tiny, np.inf, source=_TABLE_HEX))
    base = isd * (3.0 * _U + 2.0 * _V)                                    # (2,)
    angles = np.radians(60.0 * np.arange(6))                              # (6,)
    c, s = np.cos(angles), np.sin(angles)
    shifts = np.stack([c * base[0] - s * base[1], s * base[0] + c * base[1]], axis=1)   # (6, 2)
    return np.vstack([np.zeros((1, 2)), shifts])


def hexagonal_layout(isd_m: float, *, sector_azimuths_deg=HEX_SECTOR_AZIMUTHS_DEG, wrap_around: bool = True,
                     name: str = "hexagonal") -> CellLayout:
    """
    The 19-site, 3-sector hexagonal layout of TR 38.901 Table 7.2-1 with wrap-around.

    Parameters
    ----------
    isd_m : float
        Inter-site distance (500 m UMa, 200 m UMi). [m]
    sector_azimuths_deg : sequence of float, default (60, 300, 180)
        Boresights of the sectors of every site, clockwise from north. [deg]
    wrap_around : bool, default True
        Whether to add the six wrap-around copies (:func:`hexagonal_wrap_shifts_m`).
    name : str, default "hexagonal"
        A label for reports.

    Returns
    -------
    CellLayout
        19 sites, 19 x len(sector_azimuths_deg) sectors, cells of circumradius ISD/3.

    Examples
    --------
    >>> lay = hexagonal_layout(500.0)
    >>> lay.n_sites, lay.n_sectors, lay.wrap_shifts_m.shape
    (19, 57, (7, 2))
    """
    x, y = hexagonal_site_positions_m(isd_m)
    az = np.mod(np.asarray(sector_azimuths_deg, dtype=float).ravel(), 360.0)   # (n_per_site,)
    n_per_site = az.size
    sector_site = np.repeat(np.arange(x.size), n_per_site)                      # (n_sectors,)
    sector_az = np.tile(az, x.size)                                             # (n_sectors,)
    shifts = hexagonal_wrap_shifts_m(isd_m) if wrap_around else np.zeros((1, 2))
    return CellLayout(name=name, isd_m=float(isd_m), site_x_m=x, site_y_m=y, sector_site=sector_site,
                      sector_azimuth_deg=sector_az, cell_radius_m=float(isd_m) / 3.0, wrap_shifts_m=shifts,
                      source=_TABLE_HEX)


def indoor_office_layout(*, isd_m: float = 20.0, grid: tuple[int, int] = (2, 6),
                         hall_size_m: tuple[float, float] = (120.0, 50.0),
                         sector_azimuths_deg=HEX_SECTOR_AZIMUTHS_DEG) -> CellLayout:
    """
    The indoor-office layout of TR 38.901 Table 7.2-2: 12 ceiling BSs, 20 m apart, in a 120 m x 50 m hall.

    Parameters
    ----------
    isd_m : float, default 20.0
        Spacing of the BS grid. [m]
    grid : (int, int), default (2, 6)
        Rows (along y) and columns (along x) of BSs.
    hall_size_m : (float, float), default (120.0, 50.0)
        Length (x) and width (y) of the hall, centred on the origin. [m]
    sector_azimuths_deg : sequence of float, default (60, 300, 180)
        Boresights of the sectors of every BS, clockwise from north. [deg]

    Returns
    -------
    CellLayout
        12 sites, ``len(sector_azimuths_deg)`` sectors each, no wrap-around, ``cell_radius_m`` NaN.

    Raises
    ------
    OutOfValidityRangeError
        If the BS grid does not fit in the hall.

    Examples
    --------
    >>> lay = indoor_office_layout()
    >>> lay.site_x_m[:6].tolist(), sorted(set(lay.site_y_m.tolist()))
    ([-50.0, -30.0, -10.0, 10.0, 30.0, 50.0], [-10.0, 10.0])
    """
    n_rows, n_cols = (int(v) for v in grid)
    length, width = (float(v) for v in hall_size_m)
    xs = (np.arange(n_cols) - (n_cols - 1) / 2.0) * isd_m                     # (n_cols,)
    ys = (np.arange(n_rows) - (n_rows - 1) / 2.0) * isd_m                     # (n_rows,)
    check_range("BS grid x extent", np.abs(xs), 0.0, length / 2.0, source=_TABLE_INDOOR)
    check_range("BS grid y extent", np.abs(ys), 0.0, width / 2.0, source=_TABLE_INDOOR)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")                                # (n_rows, n_cols)
    n_sites = n_rows * n_cols
    az = np.mod(np.asarray(sector_azimuths_deg, dtype=float).ravel(), 360.0)   # (n_per_site,)
    return CellLayout(name="indoor office", isd_m=float(isd_m), site_x_m=xx.ravel(), site_y_m=yy.ravel(),
                      sector_site=np.repeat(np.arange(n_sites), az.size), sector_azimuth_deg=np.tile(az, n_sites),
                      cell_radius_m=float("nan"), wrap_shifts_m=np.zeros((1, 2)), source=_TABLE_INDOOR)


def wrapped_offsets_m(ue_x_m, ue_y_m, layout: CellLayout) -> tuple[np.ndarray, np.ndarray]:
    """
    Horizontal vector from the nearest wrap-around copy of every site to every UE.

    Parameters
    ----------
    ue_x_m, ue_y_m : array_like, shape (n_ues,)
        UE positions. [m]
    layout : CellLayout
        The layout; its ``wrap_shifts_m`` lists the copies.

    Returns
    -------
    dx_m, dy_m : ndarray, shape (n_sites, n_ues)
        UE position minus the position of the copy of each site closest to it; ``hypot(dx, dy)``
        is the wrap-around 2D distance. [m]

    Examples
    --------
    A UE just outside the cluster edge is close to a wrapped copy of a far site:

    >>> lay = hexagonal_layout(500.0)
    >>> dx, dy = wrapped_offsets_m([1200.0], [0.0], lay)
    >>> float(np.hypot(dx, dy).max()) < 3 * 500.0
    True
    """
    ux = np.asarray(ue_x_m, dtype=float).ravel()                             # (n_ues,)
    uy = np.asarray(ue_y_m, dtype=float).ravel()
    sx = layout.site_x_m[None, :, None] + layout.wrap_shifts_m[:, 0, None, None]   # (n_copies, n_sites, 1)
    sy = layout.site_y_m[None, :, None] + layout.wrap_shifts_m[:, 1, None, None]
    dx = ux[None, None, :] - sx                                               # (n_copies, n_sites, n_ues)
    dy = uy[None, None, :] - sy
    nearest = np.argmin(dx * dx + dy * dy, axis=0)[None]                      # (1, n_sites, n_ues)
    return (np.take_along_axis(dx, nearest, axis=0)[0],                       # (n_sites, n_ues)
            np.take_along_axis(dy, nearest, axis=0)[0])


def uniform_points_in_cells_m(layout: CellLayout, size: int, *, rng: np.random.Generator
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Points uniform over the union of the layout's hexagonal cells (equal-area cells, so: a cell
    uniformly, then a point uniformly in it).

    Parameters
    ----------
    layout : CellLayout
        A hexagonal layout (``cell_radius_m`` finite).
    size : int
        Number of points.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    x_m, y_m : ndarray, shape (size,)
        Positions. [m]
    cell : ndarray of int, shape (size,)
        Index of the sector whose cell holds each point.

    Raises
    ------
    OutOfValidityRangeError
        If the layout has no hexagonal cells.

    Notes
    -----
    The cells' lattice has neighbours at 0, 60, ... deg, so each cell is a hexagon with vertices
    at 30 + 60 k deg. A point is drawn in one of its six triangles (centre, vertex k, vertex k + 1)
    by folding a uniform point of the parallelogram.

    Examples
    --------
    >>> x, y, cell = uniform_points_in_cells_m(hexagonal_layout(200.0), 4, rng=np.random.default_rng(1))
    >>> x.shape, int(cell.max()) < 57
    ((4,), True)
    """
    r = check_range("cell_radius_m", layout.cell_radius_m, np.finfo(float).tiny, np.inf, source=layout.source)
    n = int(size)
    cx, cy = layout.cell_centres_m()                                          # (n_sectors,)
    cell = rng.integers(0, layout.n_sectors, size=n)                          # (n,)
    k = rng.integers(0, 6, size=n)                                            # (n,) triangle
    a, b = rng.uniform(size=n), rng.uniform(size=n)
    fold = a + b > 1.0
    a, b = np.where(fold, 1.0 - a, a), np.where(fold, 1.0 - b, b)             # uniform in the triangle
    t0, t1 = np.radians(30.0 + 60.0 * k), np.radians(90.0 + 60.0 * k)
    x = cx[cell] + float(r) * (a * np.cos(t0) + b * np.cos(t1))
    y = cy[cell] + float(r) * (a * np.sin(t0) + b * np.sin(t1))
    return x, y, cell


def uniform_points_in_rectangle_m(size_m: tuple[float, float], size: int, *, rng: np.random.Generator
                                  ) -> tuple[np.ndarray, np.ndarray]:
    """
    Points uniform over a rectangle of ``size_m`` = (length along x, width along y) centred on the origin.

    Parameters
    ----------
    size_m : (float, float)
        Length and width. [m]
    size : int
        Number of points.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    x_m, y_m : ndarray, shape (size,)
        Positions. [m]

    Examples
    --------
    >>> x, y = uniform_points_in_rectangle_m((120.0, 50.0), 1000, rng=np.random.default_rng(0))
    >>> bool(np.all(np.abs(x) <= 60) and np.all(np.abs(y) <= 25))
    True
    """
    length, width = (float(v) for v in size_m)
    return (rng.uniform(-length / 2.0, length / 2.0, size=int(size)),
            rng.uniform(-width / 2.0, width / 2.0, size=int(size)))
