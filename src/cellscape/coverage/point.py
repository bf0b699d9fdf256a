"""The link budget at one point of a map: every sector's terms, the best server, SINR and rate.

One formula, one home: this module runs the map engine's own steps on the 1 x 1 window of the
pixel that holds the point (:func:`cellscape.coverage.engine.prepare`, ``tile_inputs`` and the
numpy tile kernel with ``per_sector=True``): the same lookup tables, the same random fields on
global coordinates (shadowing, statistical LOS), the same marched LOS and building entry loss. So
the figures equal the map of :func:`~cellscape.coverage.engine.compute_coverage` at that pixel
(up to the float32 rounding between backends), and they are evaluated, like the map, at the
pixel's centre.
"""

from __future__ import annotations

import math

import numpy as np

from cellscape.coverage.backends import numpy_kernel
from cellscape.coverage.engine import PreparedRun, prepare, tile_inputs
from cellscape.errors import GeometryError
from cellscape.geo.grid import RasterGrid, Window
from cellscape.geo.surface import Terrain
from cellscape.radio.nr import frequency_range
from cellscape.radio.throughput import downlink_throughput_bps
from cellscape.scenario.records import Scenario
from cellscape.units import mw_to_dbm

DEFAULT_TOP = 5
"""Sectors listed by default, strongest first."""


def pixel_of(grid: RasterGrid, x_m: float, y_m: float) -> tuple[int, int]:
    """(row, col) of the pixel of ``grid`` that holds the point (x_m, y_m) in ``grid.crs``.

    Raises
    ------
    GeometryError
        If the point lies outside the grid.

    Examples
    --------
    >>> g = RasterGrid("EPSG:32635", x_min_m=0.0, y_max_m=100.0, resolution_m=10.0, n_rows=10, n_cols=20)
    >>> pixel_of(g, 15.0, 99.0), pixel_of(g, 199.9, 0.1)
    ((0, 1), (9, 19))
    """
    x0, y0, x1, y1 = grid.bounds_m
    if not (math.isfinite(x_m) and math.isfinite(y_m) and x0 <= x_m <= x1 and y0 <= y_m <= y1):
        raise GeometryError(f"point ({x_m:.1f}, {y_m:.1f}) m lies outside the map area "
                            f"[{x0:.1f}, {y0:.1f}, {x1:.1f}, {y1:.1f}] ({grid.crs})")
    col = min(int((x_m - grid.x_min_m) // grid.resolution_m), grid.n_cols - 1)
    row = min(int((grid.y_max_m - y_m) // grid.resolution_m), grid.n_rows - 1)
    return row, col


def link_budget_on(run: PreparedRun, x_m: float, y_m: float, *, top: int = DEFAULT_TOP) -> dict:
    """The link budget at (x_m, y_m) (``run.grid.crs``) of a run already prepared by
    :func:`cellscape.coverage.engine.prepare`; see :func:`link_budget_at`.

    Preparing once and calling this per point is what an interactive map does: the lookup
    tables, random fields and (geometric LOS) the height surface are built once.
    """
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    grid = run.grid
    row, col = pixel_of(grid, float(x_m), float(y_m))
    window = Window(row, row + 1, col, col + 1)
    tile = tile_inputs(run, window)
    out = numpy_kernel.tile_kernel(run.static, tile, per_sector=True)
    terms = {k: v[:, 0, 0] for k, v in out.sector_terms.items()}          # (n_sectors,) each
    order = np.argsort(-terms["rsrp_dbm"], kind="stable")[:top]
    rows = []
    for s in order:
        rows.append({
            "sector_id": run.sectors.sector_id[s],
            "site_id": run.sectors.site_id[s],
            "distance_2d_m": float(terms["d2d_m"][s]),
            "los": bool(terms["los"][s]),
            "path_loss_db": float(terms["path_loss_db"][s]),
            "antenna_gain_dbi": float(terms["antenna_gain_dbi"][s]),
            "shadow_fading_db": float(terms["shadow_fading_db"][s]),
            "o2i_loss_db": float(terms["o2i_loss_db"][s]),
            "tx_power_per_re_dbm": float(mw_to_dbm(run.static.sector_p_re_mw[s])),
            "rsrp_dbm": float(terms["rsrp_dbm"][s]),
        })
    sinr_db = float(out.sinr_db[0, 0])
    fr = frequency_range(run.scenario.carrier.fc_ghz)
    rate_bps = float(downlink_throughput_bps(np.float32(sinr_db), run.n_prb, run.scenario.carrier.scs_khz,
                                             frequency_range=fr))
    best = int(out.best_sector[0, 0])
    return {
        "x_m": float(x_m), "y_m": float(y_m), "crs": grid.crs,
        "pixel": {"row": row, "col": col, "x_m": float(tile.x_m[0]), "y_m": float(tile.y_m[0]),
                  "resolution_m": grid.resolution_m},
        "indoor": bool(tile.o2i_db[0, 0] > 0),
        "los_mode": run.scenario.los_mode,
        "serving_sector": run.sectors.sector_id[best] if best >= 0 else None,
        "serving_site": run.sectors.site_id[best] if best >= 0 else None,
        "rsrp_dbm": float(out.rsrp_dbm[0, 0]),
        "sinr_db": sinr_db,
        "throughput_mbps": rate_bps / 1e6,
        "noise_per_re_dbm": float(mw_to_dbm(run.static.noise_mw)),
        "dl_load_factor": float(run.static.load_factor),
        "n_sectors": run.static.n_sectors,
        "sectors": rows,
    }


def link_budget_at(scenario: Scenario, grid: RasterGrid, site_xy_m, x_m: float, y_m: float, *, footprints=None,
                   terrain: Terrain | None = None, top: int = DEFAULT_TOP) -> dict:
    """The link budget at one point: the strongest sectors' terms, then best server, SINR and rate.

    Parameters
    ----------
    scenario, grid, site_xy_m, footprints, terrain
        As for :func:`cellscape.coverage.engine.compute_coverage` (the same inputs give the same
        numbers as that map).
    x_m, y_m : float
        The point, in ``grid.crs``. It is evaluated at the centre of the pixel holding it. [m]
    top : int, default 5
        How many sectors to list, strongest RSRP first.

    Returns
    -------
    dict
        ``sectors``: up to ``top`` rows with ``sector_id``, ``site_id``, ``distance_2d_m``,
        ``los``, ``path_loss_db`` (TR 38.901 basic loss, with the diffraction term when on),
        ``antenna_gain_dbi``, ``shadow_fading_db`` (positive = loss), ``o2i_loss_db``,
        ``tx_power_per_re_dbm`` (with the UE antenna gain) and ``rsrp_dbm``; for the point:
        ``rsrp_dbm`` (best server), ``sinr_db``, ``throughput_mbps``, ``serving_sector``,
        ``serving_site``, ``indoor``, ``pixel`` (row, col and centre), ``noise_per_re_dbm``.

    Raises
    ------
    GeometryError
        If the point lies outside the grid.
    """
    run = prepare(scenario, grid, site_xy_m, footprints=footprints, terrain=terrain)
    return link_budget_on(run, x_m, y_m, top=top)
