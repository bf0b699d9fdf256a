"""The height surface links are judged against: terrain (a DEM) plus buildings, on the map's pixels.

A :class:`Surface` is a north-up raster aligned with the map grid (same CRS, pixel size and pixel
edges) over an extent that may reach beyond the map, so that a link from a map pixel to a site
outside the map crosses known ground. It holds the ground elevation (0 without terrain) and the
building height above it; the top of the surface is their sum.

Building heights are rasterised with the same pixel-centre rule as the indoor mask
(:func:`cellscape.geo.buildings.indoor_mask`: a pixel belongs to a building when its centre lies
inside the footprint), so "inside a building" and "under a roof" never disagree. Where footprints
overlap, the taller one wins.

Terrain is a :class:`Terrain` record (the DEM array, its affine transform and CRS, read at the
edge by :mod:`cellscape.io.terrain`), sampled bilinearly at pixel centres after transforming them
into the DEM's CRS with pyproj. Buildings stand on the terrain: roof = ground + building height;
antennas and users are their height above the ground under them.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
from pyproj import CRS
from scipy import ndimage

from cellscape.errors import GeometryError
from cellscape.geo.grid import RasterGrid, Window, transform_xy


@dataclass(frozen=True)
class Terrain:
    """A digital elevation model.

    ``elevation_m``: (n_rows, n_cols) heights above a datum [m], NaN where the file had no data;
    ``transform``: affine (a, b, c, d, e, f), x = a col + b row + c, y = d col + e row + f at pixel
    corners (rasterio order); ``crs``: the DEM's CRS; ``source``: where it came from, for messages.
    """

    elevation_m: np.ndarray
    transform: tuple[float, float, float, float, float, float]
    crs: str
    source: str = "terrain"

    def __post_init__(self):
        if self.elevation_m.ndim != 2 or min(self.elevation_m.shape) < 2:
            raise GeometryError(f"terrain {self.source} must be a 2-D raster of at least 2 x 2 pixels, "
                                f"got shape {self.elevation_m.shape}")
        a, b, _, d, e, _ = self.transform
        if abs(a * e - b * d) == 0:
            raise GeometryError(f"terrain {self.source} has a singular transform {self.transform}")
        if not np.isfinite(self.elevation_m).any():
            raise GeometryError(f"terrain {self.source} holds no valid elevation (all no-data)")

    def filled(self) -> "Terrain":
        """The same DEM with no-data pixels set to the nearest valid elevation."""
        bad = ~np.isfinite(self.elevation_m)
        if not bad.any():
            return self
        idx = ndimage.distance_transform_edt(bad, return_distances=False, return_indices=True)
        filled = self.elevation_m[tuple(idx)].astype(np.float32)
        return Terrain(filled, self.transform, self.crs, self.source)

    def fractional_index(self, x, y, *, crs: str) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) of points (x, y) given in ``crs``, in pixel units, pixel centres at integers."""
        tx, ty = transform_xy(x, y, src_crs=crs, dst_crs=self.crs)
        a, b, c, d, e, f = self.transform
        det = a * e - b * d
        col = (e * (tx - c) - b * (ty - f)) / det
        row = (-d * (tx - c) + a * (ty - f)) / det
        return row - 0.5, col - 0.5

    def sample_m(self, x, y, *, crs: str) -> np.ndarray:
        """Elevation at points (x, y) in ``crs``, bilinear between pixel centres [m].

        Points beyond the DEM take the nearest edge value (use :meth:`covers` to refuse them).
        No-data pixels should be filled first (:meth:`filled`).
        """
        x = np.asarray(x, dtype=float)
        row, col = self.fractional_index(x.ravel(), np.asarray(y, dtype=float).ravel(), crs=crs)
        out = ndimage.map_coordinates(self.elevation_m.astype(np.float64), [row, col], order=1, mode="nearest")
        return out.reshape(x.shape)

    def covers(self, x, y, *, crs: str) -> np.ndarray:
        """Whether each point (x, y) in ``crs`` lies within the DEM's pixel centres (no extrapolation)."""
        row, col = self.fractional_index(np.ravel(x), np.ravel(y), crs=crs)
        n_rows, n_cols = self.elevation_m.shape
        eps = 1e-6
        return (row >= -0.5 - eps) & (row <= n_rows - 0.5 + eps) & (col >= -0.5 - eps) & (col <= n_cols - 0.5 + eps)


def check_terrain_covers(terrain: Terrain, grid: RasterGrid) -> None:
    """Raise :class:`GeometryError` unless the DEM covers the whole map grid.

    The map corners and edge midpoints are checked (the DEM is a quadrilateral in the grid CRS).
    """
    x0, y0, x1, y1 = grid.bounds_m
    xs = np.array([x0, (x0 + x1) / 2, x1, x1, x1, (x0 + x1) / 2, x0, x0])
    ys = np.array([y0, y0, y0, (y0 + y1) / 2, y1, y1, y1, (y0 + y1) / 2])
    inside = terrain.covers(xs, ys, crs=grid.crs)
    if not inside.all():
        raise GeometryError(f"terrain {terrain.source} does not cover the map area (in {grid.crs}, "
                            f"x {x0:.0f}..{x1:.0f} m, y {y0:.0f}..{y1:.0f} m); {int((~inside).sum())} of 8 "
                            f"border points lie outside it. Check the DEM's CRS or enlarge it.")


@dataclass(frozen=True)
class Surface:
    """Heights on a raster aligned with the map grid.

    ``grid``: the raster (its own extent, the map's CRS and pixel edges); ``ground_m`` and
    ``building_m``: (n_rows, n_cols) float32, ground elevation and building height above it [m].
    """

    grid: RasterGrid
    ground_m: np.ndarray
    building_m: np.ndarray

    @property
    def top_m(self) -> np.ndarray:
        """Ground plus building height [m], float32."""
        return self.ground_m + self.building_m

    @property
    def inside(self) -> np.ndarray:
        """Pixels under a roof (building height > 0)."""
        return self.building_m > 0

    def ground_at_m(self, x_m, y_m) -> np.ndarray:
        """Ground elevation of the pixels containing points (x, y) in the grid CRS (nearest pixel) [m]."""
        g = self.grid
        col = np.clip(np.floor((np.asarray(x_m) - g.x_min_m) / g.resolution_m).astype(np.int64), 0, g.n_cols - 1)
        row = np.clip(np.floor((g.y_max_m - np.asarray(y_m)) / g.resolution_m).astype(np.int64), 0, g.n_rows - 1)
        return self.ground_m[row, col]


def aligned_grid(grid: RasterGrid, bounds_m: tuple[float, float, float, float]) -> RasterGrid:
    """The smallest grid with ``grid``'s CRS, pixel size and pixel edges that covers ``bounds_m``.

    Examples
    --------
    >>> g = RasterGrid("EPSG:32635", x_min_m=0.0, y_max_m=10.0, resolution_m=2.0, n_rows=5, n_cols=5)
    >>> e = aligned_grid(g, (-3.0, 1.0, 4.5, 13.0))
    >>> (e.x_min_m, e.y_max_m, e.n_rows, e.n_cols)
    (-4.0, 14.0, 7, 5)
    """
    res = grid.resolution_m
    xmin, ymin, xmax, ymax = bounds_m
    c0 = math.floor((xmin - grid.x_min_m) / res)
    c1 = math.ceil((xmax - grid.x_min_m) / res)
    r0 = math.floor((grid.y_max_m - ymax) / res)
    r1 = math.ceil((grid.y_max_m - ymin) / res)
    return RasterGrid(grid.crs, x_min_m=grid.x_min_m + c0 * res, y_max_m=grid.y_max_m - r0 * res,
                      resolution_m=res, n_rows=max(1, r1 - r0), n_cols=max(1, c1 - c0))


def link_extent_m(grid: RasterGrid, window: Window, site_xy_m: np.ndarray,
                  range_m: float) -> tuple[float, float, float, float]:
    """Bounds of every link from a pixel of ``window`` to a site within ``range_m`` of the window.

    A link is a straight segment between its ends, so the box around the window and those sites
    holds all of them; it is at most the window grown by ``range_m`` on each side.
    """
    res = grid.resolution_m
    x0 = grid.x_min_m + window.col_start * res
    x1 = grid.x_min_m + window.col_stop * res
    y1 = grid.y_max_m - window.row_start * res
    y0 = grid.y_max_m - window.row_stop * res
    sx, sy = site_xy_m[:, 0], site_xy_m[:, 1]
    dx = np.maximum(np.maximum(x0 - sx, sx - x1), 0.0)
    dy = np.maximum(np.maximum(y0 - sy, sy - y1), 0.0)
    near = np.hypot(dx, dy) <= range_m
    if near.any():
        x0, x1 = min(x0, float(sx[near].min())), max(x1, float(sx[near].max()))
        y0, y1 = min(y0, float(sy[near].min())), max(y1, float(sy[near].max()))
    pad = res   # the cell of a site on the edge
    return (x0 - pad, y0 - pad, x1 + pad, y1 + pad)


def building_height_raster_m(buildings, grid: RasterGrid) -> np.ndarray:
    """Height of the building over each pixel centre of ``grid`` (0 where none), float32 [m].

    Parameters
    ----------
    buildings : GeoDataFrame
        Footprints in ``grid.crs`` with a ``height_m`` column (as :func:`~cellscape.geo.buildings.load_buildings`
        returns), or None.
    grid : RasterGrid

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> b = gpd.GeoDataFrame({"height_m": [12.0, 30.0]}, crs="EPSG:32635",
    ...                      geometry=[shapely.box(0, 0, 4, 4), shapely.box(2, 0, 4, 2)])
    >>> g = RasterGrid("EPSG:32635", x_min_m=0.0, y_max_m=4.0, resolution_m=2.0, n_rows=2, n_cols=3)
    >>> building_height_raster_m(b, g).tolist()
    [[12.0, 12.0, 0.0], [12.0, 30.0, 0.0]]
    """
    from cellscape.geo.buildings import _pixel_blocks   # geopandas/shapely only when buildings exist

    out = np.zeros(grid.shape, dtype=np.float32)
    if buildings is None or len(buildings) == 0:
        return out
    if "height_m" not in getattr(buildings, "columns", ()):
        raise GeometryError("buildings need a height_m column for a height raster (use load_buildings)")
    crs = getattr(buildings, "crs", None)
    if crs is not None and not CRS.from_user_input(crs).equals(CRS.from_user_input(grid.crs)):
        raise GeometryError(f"buildings are in {CRS.from_user_input(crs).to_string()} but the grid is in "
                            f"{grid.crs}; reproject them with to_crs(grid.crs)")
    import shapely

    geoms = np.asarray(buildings.geometry.values, dtype=object)
    heights = np.asarray(buildings["height_m"], dtype=np.float32)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms, heights = geoms[keep], heights[keep]
    xs = grid.x_centers_m()
    ys = grid.y_centers_m()
    for i, geom, rows, cols in _pixel_blocks(geoms, grid, grid.full_window):
        shapely.prepare(geom)
        xx, yy = np.meshgrid(xs[cols], ys[rows])
        inside = shapely.contains_xy(geom, xx, yy)
        block = out[rows, cols]
        np.maximum(block, np.where(inside, heights[i], 0.0).astype(np.float32), out=block)
    return out


def surface_on(grid: RasterGrid, *, buildings=None, terrain: Terrain | None = None) -> Surface:
    """The :class:`Surface` over ``grid``: ground from ``terrain`` (0 without), buildings on top."""
    if terrain is not None:
        yy, xx = np.meshgrid(grid.y_centers_m(), grid.x_centers_m(), indexing="ij")
        ground = terrain.sample_m(xx, yy, crs=grid.crs).astype(np.float32)
    else:
        ground = np.zeros(grid.shape, dtype=np.float32)
    return Surface(grid, ground, building_height_raster_m(buildings, grid))
