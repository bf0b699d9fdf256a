"""PNG figures of a coverage run: heat maps and CDFs (matplotlib lives here and in io only).

Figures are drawn on a :class:`matplotlib.figure.Figure` with the Agg canvas, without pyplot:
no global figure state, no GUI backend, safe in threads and on headless machines. Files are
written atomically (:mod:`cellscape.io.atomic`).
"""

from __future__ import annotations

from collections.abc import Mapping
import os
from pathlib import Path

from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import BoundaryNorm, Normalize
from matplotlib.figure import Figure
import numpy as np
import shapely

from cellscape.errors import GeometryError
from cellscape.geo.grid import RasterGrid
from cellscape.io.atomic import write_atomic

_DPI = 150
_MAX_CDF_POINTS = 2000      # a CDF line never needs more vertices than a figure has pixels
_TICK_FRACTION = 0.04       # sector boresight tick length, as a fraction of the map's larger side


def _save_png(fig: Figure, path: str | os.PathLike) -> Path:
    FigureCanvasAgg(fig)   # attach the Agg canvas: no pyplot, no GUI backend
    return write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=_DPI))


def _footprint_lines_km(footprints) -> list[np.ndarray]:
    """Rings (exterior and holes) of polygonal ``footprints`` as (n, 2) arrays in km."""
    geoms = np.asarray(getattr(footprints, "geometry", footprints), dtype=object).ravel()
    if geoms.size == 0:
        return []
    parts = shapely.get_parts(geoms)
    parts = parts[shapely.get_type_id(parts) == shapely.GeometryType.POLYGON]
    rings = shapely.get_rings(parts)
    coords, ring_index = shapely.get_coordinates(rings, return_index=True)
    splits = np.flatnonzero(np.diff(ring_index)) + 1
    return np.split(coords / 1000.0, splits)


def plot_map_png(path: str | os.PathLike, array: np.ndarray, grid: RasterGrid, *, title: str, units_label: str,
                 cmap: str, vmin: float | None, vmax: float | None, sites_xy_m: np.ndarray | None = None,
                 sector_azimuth_deg: np.ndarray | None = None, categorical: bool = False, footprints=None,
                 attribution: str | None = None) -> Path:
    """Heat map of one per-pixel quantity with a colour bar, site markers and building outlines.

    Parameters
    ----------
    path : str or os.PathLike
        Output PNG; replaced atomically.
    array : ndarray, shape (n_rows, n_cols)
        Values on ``grid``, north-up. NaN pixels are drawn light grey.
    grid : RasterGrid
        The grid of ``array``; axes show its easting/northing in km.
    title : str
        Figure title.
    units_label : str
        Colour-bar label, with the unit (e.g. ``"RSRP [dBm]"``).
    cmap : str
        A matplotlib colour-map name.
    vmin, vmax : float or None
        Colour range; None takes the finite minimum / maximum of ``array``.
    sites_xy_m : ndarray, shape (n, 2), optional
        Site (or sector) positions in ``grid.crs``. [m]
    sector_azimuth_deg : ndarray, shape (n,), optional
        Boresight of the sector at each row of ``sites_xy_m``, clockwise from north; each gets a
        short tick. [deg]
    categorical : bool, default False
        Integer classes (e.g. serving-sector index): one discrete colour per integer in
        [vmin, vmax] (defaults: data range +- 0.5); values outside the range (e.g. -1 = none)
        are drawn as "no value".
    footprints : GeoSeries or array of shapely polygons, optional
        Building outlines in ``grid.crs``.
    attribution : str, optional
        Data credit printed in the lower-right corner (e.g. "© OpenStreetMap contributors").

    Returns
    -------
    path : Path

    Raises
    ------
    GeometryError
        If ``array`` does not have the grid's shape, or the site and azimuth arrays disagree.
    """
    values = np.asarray(array)
    if values.shape != grid.shape:
        raise GeometryError(f"array has shape {values.shape}, but the grid is {grid.shape} (rows, cols)")
    values = values.astype(float)                                    # (n_rows, n_cols)
    finite = np.isfinite(values)
    lo = float(values[finite].min()) if finite.any() else 0.0
    hi = float(values[finite].max()) if finite.any() else 1.0
    colour_map = colormaps[cmap]
    if categorical:
        vmin = lo - 0.5 if vmin is None else float(vmin)
        vmax = hi + 0.5 if vmax is None else float(vmax)
        n_classes = max(1, int(round(vmax - vmin)))
        values = np.where((values < vmin) | (values > vmax), np.nan, values)
        colour_map = colour_map.resampled(n_classes)
        norm = BoundaryNorm(vmin + np.arange(n_classes + 1), n_classes)
    else:
        vmin = lo if vmin is None else float(vmin)
        vmax = hi if vmax is None else float(vmax)
        if vmax <= vmin:
            vmax = vmin + 1.0
        norm = Normalize(vmin=vmin, vmax=vmax)
    colour_map = colour_map.with_extremes(bad="#d9d9d9")

    xmin, ymin, xmax, ymax = (v / 1000.0 for v in grid.bounds_m)
    width_km, height_km = xmax - xmin, ymax - ymin
    fig_w = 7.5
    fig = Figure(figsize=(fig_w, float(np.clip(fig_w * height_km / width_km * 0.7 + 1.0, 3.5, 11.0))))
    ax = fig.add_subplot()
    image = ax.imshow(values, extent=(xmin, xmax, ymin, ymax), origin="upper", cmap=colour_map, norm=norm,
                      interpolation="nearest")
    bar = fig.colorbar(image, ax=ax, shrink=0.85)
    bar.set_label(units_label)
    if categorical and n_classes <= 20:
        bar.set_ticks(vmin + 0.5 + np.arange(n_classes))
        bar.set_ticklabels([f"{v:g}" for v in vmin + 0.5 + np.arange(n_classes)])

    if footprints is not None:
        lines = _footprint_lines_km(footprints)
        if lines:
            ax.add_collection(LineCollection(lines, colors="black", linewidths=0.35, alpha=0.55))

    if sites_xy_m is not None:
        xy_km = np.asarray(sites_xy_m, dtype=float).reshape(-1, 2) / 1000.0      # (n, 2)
        if sector_azimuth_deg is not None:
            az_rad = np.deg2rad(np.asarray(sector_azimuth_deg, dtype=float).ravel())   # (n,)
            if az_rad.shape[0] != xy_km.shape[0]:
                raise GeometryError(f"sector_azimuth_deg has {az_rad.shape[0]} values for "
                                    f"{xy_km.shape[0]} positions in sites_xy_m")
            length_km = _TICK_FRACTION * max(width_km, height_km)
            # clockwise from north: east component sin(az), north component cos(az)
            ends = xy_km + length_km * np.column_stack([np.sin(az_rad), np.cos(az_rad)])   # (n, 2)
            ax.add_collection(LineCollection(np.stack([xy_km, ends], axis=1), colors="white", linewidths=2.2))
            ax.add_collection(LineCollection(np.stack([xy_km, ends], axis=1), colors="black", linewidths=1.0))
        unique_km = np.unique(xy_km, axis=0)
        ax.scatter(unique_km[:, 0], unique_km[:, 1], marker="^", s=42, c="white", edgecolors="black",
                   linewidths=0.9, zorder=3, label="site")

    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.set_xlabel(f"easting [km] ({grid.crs})")
    ax.set_ylabel(f"northing [km] ({grid.crs})")
    ax.set_title(title)
    if attribution:
        ax.text(0.995, 0.005, attribution, transform=ax.transAxes, ha="right", va="bottom", fontsize=7,
                bbox=dict(facecolor="white", alpha=0.75, edgecolor="none", pad=1.5))
    fig.tight_layout()
    return _save_png(fig, path)


def plot_cdf_png(path: str | os.PathLike, samples: Mapping[str, np.ndarray], *, xlabel: str, title: str) -> Path:
    """Empirical CDFs of one or more sample sets on one axis.

    Parameters
    ----------
    path : str or os.PathLike
        Output PNG; replaced atomically.
    samples : mapping of str to array_like
        Legend label -> values (any shape, flattened). NaN values are left out; the legend
        gives each set's count of finite values; an empty set is listed with n=0.
    xlabel : str
        x-axis label, with the unit (e.g. ``"SINR [dB]"``).
    title : str
        Figure title.

    Returns
    -------
    path : Path
    """
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.add_subplot()
    for label, values in samples.items():
        x = np.asarray(values, dtype=float).ravel()
        x = np.sort(x[np.isfinite(x)])                                     # (n,)
        n = x.size
        if n == 0:
            ax.plot([], [], label=f"{label} (n=0)")
            continue
        # at most _MAX_CDF_POINTS vertices, always including the first and last sample
        idx = np.unique(np.linspace(0, n - 1, min(n, _MAX_CDF_POINTS)).round().astype(int))
        ax.step(x[idx], (idx + 1) / n, where="post", label=f"{label} (n={n:,})")
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("CDF (fraction of samples <= x)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if samples:
        ax.legend(loc="lower right")
    fig.tight_layout()
    return _save_png(fig, path)


def plot_los_probability_png(path: str | os.PathLike, table: Mapping[str, Mapping[str, np.ndarray]], *,
                             title: str = "LOS probability: geometry vs TR 38.901",
                             max_d2d_m: float | None = None) -> Path:
    """Empirical LOS probability of a geometric run against the TR 38.901 Table 7.4.2-1 curve.

    Parameters
    ----------
    path : str or os.PathLike
        Output PNG; replaced atomically.
    table : mapping
        :func:`cellscape.kpi.los_probability_table`: per environment ``d2d_m``, ``empirical``
        (NaN where too few links), ``tr38901`` and ``n_links``.
    title : str
        Figure title.
    max_d2d_m : float, optional
        Right end of the distance axis (default: the last bin with an empirical value). [m]
    """
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.add_subplot()
    right = 0.0
    for k, (env, t) in enumerate(table.items()):
        colour = f"C{k}"
        d, emp = np.asarray(t["d2d_m"]), np.asarray(t["empirical"], dtype=float)
        ok = np.isfinite(emp)
        n = int(np.sum(np.asarray(t["n_links"])[ok]))
        ax.plot(d[ok], emp[ok], ".", ms=3, color=colour, label=f"{env}: from the buildings ({n:,} links)")
        ax.plot(d, t["tr38901"], "-", lw=1.5, color=colour, label=f"{env}: TR 38.901 Table 7.4.2-1")
        if ok.any():
            right = max(right, float(d[ok].max()))
    ax.set_xlim(0.0, max_d2d_m or right or None)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("2-D distance BS-UT [m]")
    ax.set_ylabel("LOS probability (outdoor UTs)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return _save_png(fig, path)


def plot_timeseries_png(path: str | os.PathLike, t_s: np.ndarray, series: Mapping[str, np.ndarray], *, ylabel: str,
                        title: str, xlabel: str = "time [s]", log_x: bool = False) -> Path:
    """Lines of one quantity over time (or over another x: ``xlabel``, ``log_x``), one per label
    (e.g. per sector, or mean and max).

    ``t_s``: (n,) times [s]; ``series``: label -> (n,) values. Replaced atomically.
    """
    fig = Figure(figsize=(6.5, 4.0))
    ax = fig.add_subplot()
    for label, values in series.items():
        ax.plot(np.asarray(t_s, float), np.asarray(values, float), label=label, lw=1.2, marker="." if log_x else None)
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if series:
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return _save_png(fig, path)


def plot_points_png(path: str | os.PathLike, x_m: np.ndarray, y_m: np.ndarray, values: np.ndarray, grid: RasterGrid, *,
                    title: str, units_label: str, cmap: str = "viridis", sites_xy_m: np.ndarray | None = None,
                    footprints=None) -> Path:
    """Points (users) coloured by a value over the grid's extent, with building outlines and sites.

    Coordinates in the grid CRS [m], drawn in km like :func:`plot_map_png`."""
    x0, y0, x1, y1 = grid.bounds_m
    fig = Figure(figsize=(6.5, 6.5 * max(0.4, min(2.0, (y1 - y0) / max(x1 - x0, 1e-9)))))
    ax = fig.add_subplot()
    for ring in _footprint_lines_km(footprints) if footprints is not None else []:
        ax.plot(ring[:, 0], ring[:, 1], color="0.7", lw=0.3)
    sc = ax.scatter(np.asarray(x_m) / 1000.0, np.asarray(y_m) / 1000.0, c=np.asarray(values, float), s=9, cmap=cmap,
                    edgecolors="none")
    fig.colorbar(sc, ax=ax, label=units_label, shrink=0.8)
    if sites_xy_m is not None and len(sites_xy_m):
        ax.plot(sites_xy_m[:, 0] / 1000.0, sites_xy_m[:, 1] / 1000.0, "k^", ms=6, label="sites")
    ax.set_xlim(x0 / 1000.0, x1 / 1000.0)
    ax.set_ylim(y0 / 1000.0, y1 / 1000.0)
    ax.set_aspect("equal")
    ax.set_xlabel("x [km]")
    ax.set_ylabel("y [km]")
    ax.set_title(title)
    fig.tight_layout()
    return _save_png(fig, path)
