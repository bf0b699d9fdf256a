"""Rooftop candidate positions for new sites, from building footprints and heights.

A planner's long list: every roof that is tall enough to clear the street clutter, not so tall that
a macro antenna on it overshoots its neighbours, and large enough for a mast and equipment. The
antenna goes at a point inside the footprint (shapely's ``point_on_surface``, which for a concave
footprint is still on the roof), ``mast_m`` above the roof. The list can be thinned to a minimum
spacing, keeping the larger roofs first (more room, usually more central in a block).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from cellscape.errors import GeometryError


def rooftop_candidates(buildings: gpd.GeoDataFrame, *, min_roof_m: float = 15.0, max_roof_m: float = 60.0,
                       min_area_m2: float = 200.0, mast_m: float = 3.0, min_spacing_m: float = 0.0,
                       bounds_m: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame:
    """Candidate antenna positions on the roofs of ``buildings``.

    Parameters
    ----------
    buildings : GeoDataFrame
        Footprints in a metric CRS with ``height_m`` (as :func:`~cellscape.geo.buildings.load_buildings` returns).
    min_roof_m, max_roof_m : float, default 15 and 60
        Roof heights accepted (inclusive). [m]
    min_area_m2 : float, default 200
        Smallest footprint accepted. [m^2]
    mast_m : float, default 3
        Antenna height above the roof. [m]
    min_spacing_m : float, default 0
        Keep candidates at least this far apart, larger footprints first (0: keep all). [m]
    bounds_m : (xmin, ymin, xmax, ymax), optional
        Keep only candidates inside this box (the map), in the buildings' CRS. [m]

    Returns
    -------
    GeoDataFrame
        One row per candidate, ordered by decreasing footprint area: ``candidate_id`` ("C0001",
        ...), ``roof_height_m``, ``antenna_height_m``, ``footprint_area_m2``, ``building_index``
        (row of ``buildings``) and the Point ``geometry``, in the buildings' CRS.

    Raises
    ------
    GeometryError
        If the buildings have no metric CRS or no ``height_m``, or a parameter is out of range.

    Examples
    --------
    >>> b = gpd.GeoDataFrame({"height_m": [21.0, 9.0, 24.0]}, crs="EPSG:32635", geometry=[
    ...     shapely.box(0, 0, 30, 30), shapely.box(50, 0, 80, 30), shapely.box(40, 40, 50, 50)])
    >>> c = rooftop_candidates(b, min_area_m2=100.0)
    >>> c[["candidate_id", "roof_height_m", "antenna_height_m", "footprint_area_m2"]].values.tolist()
    [['C0001', 21.0, 24.0, 900.0], ['C0002', 24.0, 27.0, 100.0]]
    """
    if buildings is None or len(buildings) == 0:
        raise GeometryError("no buildings to take rooftop candidates from")
    if "height_m" not in buildings.columns:
        raise GeometryError("buildings need a height_m column (use load_buildings)")
    if buildings.crs is None or not buildings.crs.is_projected:
        raise GeometryError("buildings must be in a projected, metric CRS (the map grid's CRS)")
    if not (0 <= min_roof_m <= max_roof_m and min_area_m2 >= 0 and mast_m >= 0 and min_spacing_m >= 0):
        raise GeometryError(f"need 0 <= min_roof_m <= max_roof_m and non-negative min_area_m2, mast_m, "
                            f"min_spacing_m; got {min_roof_m:g}, {max_roof_m:g}, {min_area_m2:g}, {mast_m:g}, "
                            f"{min_spacing_m:g}")
    geoms = np.asarray(buildings.geometry.values, dtype=object)
    height = np.asarray(buildings["height_m"], dtype=float)
    area = shapely.area(geoms)
    keep = (height >= min_roof_m) & (height <= max_roof_m) & (area >= min_area_m2)
    points = shapely.point_on_surface(geoms)
    x, y = shapely.get_x(points), shapely.get_y(points)
    if bounds_m is not None:
        xmin, ymin, xmax, ymax = bounds_m
        keep &= (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)
    idx = np.flatnonzero(keep)
    idx = idx[np.lexsort((-height[idx], -area[idx]))]              # larger roofs first, taller on ties
    if min_spacing_m > 0 and idx.size:
        chosen: list[int] = []
        cx = np.empty(idx.size)
        cy = np.empty(idx.size)
        for i in idx:
            n = len(chosen)
            if n == 0 or np.min(np.hypot(cx[:n] - x[i], cy[:n] - y[i])) >= min_spacing_m:
                cx[n], cy[n] = x[i], y[i]
                chosen.append(int(i))
        idx = np.array(chosen, dtype=np.int64)
    return gpd.GeoDataFrame({
        "candidate_id": [f"C{k + 1:04d}" for k in range(idx.size)],
        "roof_height_m": height[idx],
        "antenna_height_m": height[idx] + mast_m,
        "footprint_area_m2": area[idx],
        "building_index": idx,
    }, geometry=points[idx], crs=buildings.crs)
