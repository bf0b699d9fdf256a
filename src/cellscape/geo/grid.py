"""Raster grids in a local metric CRS, and the tiling that bounds memory (STYLE.md P14).

A :class:`RasterGrid` is north-up: row 0 is the northern edge, pixel centres sit half a pixel in
from the edges. Coordinates are metres in ``crs`` (a projected CRS that pyproj understands).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
import math
import re

import numpy as np
from pyproj import CRS, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info
from pyproj.exceptions import CRSError, ProjError

from cellscape.errors import GeometryError


@dataclass(frozen=True)
class Window:
    """A block of rows and columns of a grid (half-open ranges)."""

    row_start: int
    row_stop: int
    col_start: int
    col_stop: int

    @property
    def rows(self) -> slice:
        return slice(self.row_start, self.row_stop)

    @property
    def cols(self) -> slice:
        return slice(self.col_start, self.col_stop)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.row_stop - self.row_start, self.col_stop - self.col_start)


@dataclass(frozen=True)
class RasterGrid:
    """A north-up raster: ``n_rows`` x ``n_cols`` square pixels of ``resolution_m``.

    ``x_min_m`` is the western edge and ``y_max_m`` the northern edge, in ``crs``.
    """

    crs: str
    x_min_m: float
    y_max_m: float
    resolution_m: float
    n_rows: int
    n_cols: int

    def __post_init__(self):
        if not (self.resolution_m > 0 and self.n_rows > 0 and self.n_cols > 0):
            raise GeometryError(
                f"a grid needs a positive pixel size and at least one pixel, got resolution_m="
                f"{self.resolution_m:g}, {self.n_rows} x {self.n_cols} pixels")

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_rows, self.n_cols)

    @property
    def n_pixels(self) -> int:
        return self.n_rows * self.n_cols

    @property
    def bounds_m(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the outer pixel edges [m]."""
        return (self.x_min_m, self.y_max_m - self.n_rows * self.resolution_m,
                self.x_min_m + self.n_cols * self.resolution_m, self.y_max_m)

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        """Affine coefficients (a, b, c, d, e, f) in rasterio/affine order:
        x = a*col + b*row + c, y = d*col + e*row + f, at pixel corners."""
        return (self.resolution_m, 0.0, self.x_min_m, 0.0, -self.resolution_m, self.y_max_m)

    @property
    def full_window(self) -> Window:
        return Window(0, self.n_rows, 0, self.n_cols)

    def x_centers_m(self, cols: slice = slice(None)) -> np.ndarray:
        """Pixel-centre x [m] of the columns ``cols``, shape (n,)."""
        idx = np.arange(self.n_cols)[cols]
        return self.x_min_m + (idx + 0.5) * self.resolution_m

    def y_centers_m(self, rows: slice = slice(None)) -> np.ndarray:
        """Pixel-centre y [m] of the rows ``rows``, shape (n,) (decreasing: north first)."""
        idx = np.arange(self.n_rows)[rows]
        return self.y_max_m - (idx + 0.5) * self.resolution_m

    def rows_per_tile(self, *, bytes_per_row_per_unit: float, units: int, mem_limit_mb: float) -> int:
        """Rows of one tile so that ``units`` (e.g. sites) x row x ``bytes_per_row_per_unit``
        stays within ``mem_limit_mb`` (at least one row)."""
        bytes_per_row = max(1.0, bytes_per_row_per_unit * self.n_cols * max(1, units))
        return max(1, min(self.n_rows, int(mem_limit_mb * 1e6 // bytes_per_row)))

    def tiles(self, *, rows_per_tile: int) -> Iterator[Window]:
        """Full-width row blocks of ``rows_per_tile`` rows, north to south."""
        if rows_per_tile < 1:
            raise ValueError(f"rows_per_tile must be >= 1, got {rows_per_tile}")
        for start in range(0, self.n_rows, rows_per_tile):
            yield Window(start, min(start + rows_per_tile, self.n_rows), 0, self.n_cols)


def square_blocks(grid: "RasterGrid", *, max_pixels: int) -> Iterator[Window]:
    """Near-square blocks of at most ``max_pixels`` pixels (at least 1 x 1), row by row from the north-west.

    Geometric LOS tiles the map in blocks rather than full-width rows so that the height surface a
    block needs (the block grown by the LOS range) does not grow with the map's width.

    >>> g = RasterGrid("EPSG:32635", x_min_m=0.0, y_max_m=10.0, resolution_m=1.0, n_rows=10, n_cols=25)
    >>> [(w.row_start, w.col_start, w.shape) for w in square_blocks(g, max_pixels=100)][:4]
    [(0, 0, (10, 10)), (0, 10, (10, 10)), (0, 20, (10, 5))]
    """
    side = max(1, int(math.isqrt(max(1, int(max_pixels)))))
    for r0 in range(0, grid.n_rows, side):
        for c0 in range(0, grid.n_cols, side):
            yield Window(r0, min(r0 + side, grid.n_rows), c0, min(c0 + side, grid.n_cols))


def crs_of(crs) -> CRS:
    """``crs`` (a string such as "EPSG:3067", or a pyproj CRS) as a pyproj CRS; one that pyproj
    does not know is a :class:`GeometryError` in one line.

    >>> crs_of("EPSG:3067").is_projected
    True
    >>> crs_of("EPSG:999999")
    Traceback (most recent call last):
    ...
    cellscape.errors.GeometryError: crs 'EPSG:999999' is not a CRS pyproj knows (crs not found); use e.g. 'EPSG:4326' or a projected 'EPSG:<code>' in metres
    """
    if isinstance(crs, CRS):
        return crs
    try:
        return CRS.from_user_input(crs)
    except (CRSError, ProjError, TypeError, ValueError) as exc:
        text = " ".join(str(exc).split())
        found = re.search(r"proj_create: ([^:)]+)", text)
        reason = found.group(1).strip() if found else text
        raise GeometryError(f"crs {crs!r} is not a CRS pyproj knows ({reason[:200]}); use e.g. 'EPSG:4326' or a "
                            f"projected 'EPSG:<code>' in metres") from None


def _transformer(src, dst) -> Transformer:
    try:
        return Transformer.from_crs(crs_of(src), crs_of(dst), always_xy=True)
    except (CRSError, ProjError) as exc:
        raise GeometryError(f"cannot transform coordinates from {src!r} to {dst!r} "
                            f"({' '.join(str(exc).split())[:200]})") from None


def local_metric_crs(lon_deg: float, lat_deg: float) -> str:
    """The WGS 84 / UTM zone CRS (as "EPSG:nnnnn") that contains a point (pyproj database)."""
    infos = query_utm_crs_info(
        datum_name="WGS 84",
        area_of_interest=AreaOfInterest(lon_deg, lat_deg, lon_deg, lat_deg))
    if not infos:
        raise GeometryError(f"no UTM zone found for lon={lon_deg:g}, lat={lat_deg:g}")
    return f"{infos[0].auth_name}:{infos[0].code}"


def working_crs(crs: str, bounds: tuple[float, float, float, float]) -> str:
    """The metric CRS maps are computed in: ``crs`` itself when it is projected in metres,
    else the UTM zone at the centre of ``bounds`` (given in ``crs``)."""
    src = crs_of(crs)
    if src.is_projected:
        unit = src.axis_info[0].unit_name if src.axis_info else ""
        if unit not in ("metre", "meter"):
            raise GeometryError(f"crs={crs!r} is projected in {unit!r}; use a CRS in metres or EPSG:4326")
        return crs
    if not src.is_geographic:
        raise GeometryError(f"crs={crs!r} is neither projected nor geographic ({src.type_name}); use a CRS in "
                            f"metres or EPSG:4326")
    try:
        lon, lat = _transformer(src, "EPSG:4326").transform((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2,
                                                            errcheck=True)
    except ProjError as exc:
        raise GeometryError(f"cannot place the area {tuple(bounds)} of crs={crs!r} on the globe "
                            f"({' '.join(str(exc).split())[:200]})") from None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise GeometryError(f"the centre of the area {tuple(bounds)} of crs={crs!r} is not on the globe")
    return local_metric_crs(lon, lat)


def transform_xy(x, y, *, src_crs: str, dst_crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinate arrays between CRSs (always x=east/lon, y=north/lat order)."""
    t = _transformer(src_crs, dst_crs)
    try:
        xx, yy = t.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    except ProjError as exc:
        raise GeometryError(f"cannot transform coordinates from {src_crs!r} to {dst_crs!r} "
                            f"({' '.join(str(exc).split())[:200]})") from None
    return np.asarray(xx, dtype=float), np.asarray(yy, dtype=float)


def grid_for_bounds(bounds: tuple[float, float, float, float], *, crs: str, resolution_m: float) -> RasterGrid:
    """The grid covering ``bounds`` (given in ``crs``) in the working metric CRS.

    A geographic box is projected with its edges densified, and the grid snapped outward to
    whole pixels aligned on multiples of ``resolution_m`` (so neighbouring runs line up).
    """
    xmin, ymin, xmax, ymax = bounds
    if not all(math.isfinite(v) for v in bounds):
        raise GeometryError(f"area bounds {tuple(bounds)} are not finite numbers")
    if not (xmax > xmin and ymax > ymin):
        raise GeometryError(f"area bounds {bounds} are empty: need xmin < xmax and ymin < ymax")
    r = float(resolution_m)
    if not (math.isfinite(r) and r > 0):
        raise GeometryError(f"resolution_m must be a positive number of metres, got {resolution_m!r}")
    dst = working_crs(crs, bounds)
    t = _transformer(crs, dst)
    try:
        pxmin, pymin, pxmax, pymax = t.transform_bounds(xmin, ymin, xmax, ymax, densify_pts=21)
    except ProjError as exc:
        raise GeometryError(f"cannot project the area {tuple(bounds)} from {crs!r} to {dst!r} "
                            f"({' '.join(str(exc).split())[:200]})") from None
    if not all(math.isfinite(v) for v in (pxmin, pymin, pxmax, pymax)):
        raise GeometryError(f"the area {tuple(bounds)} lies outside where {crs!r} can be projected to {dst!r}")
    x0 = math.floor(pxmin / r) * r
    y1 = math.ceil(pymax / r) * r
    n_cols = max(1, math.ceil((pxmax - x0) / r - 1e-9))
    n_rows = max(1, math.ceil((y1 - pymin) / r - 1e-9))
    return RasterGrid(crs=dst, x_min_m=x0, y_max_m=y1, resolution_m=r, n_rows=n_rows, n_cols=n_cols)
