"""Shared fixtures of the resilience tests: a cell and a second transmitter on a line (hand-worked
boundaries) and the closed-form boundary of a ratio of TR 38.901 UMa LOS distances."""

import math

import numpy as np

from cellscape.scenario.model import parse_scenario

X0, Y0 = 385_000.0, 6_671_000.0
RES_M = 5.0
ROW_Y = Y0 + 12.5          # the centre of row 1 of a 4-row, 5 m grid: the line both transmitters stand on
CELL_X = X0 + 100.0
OTHER_X = X0 + 500.0
H_CELL_M, H_OTHER_M, H_UT_M = 25.0, 20.0, 1.5


def line_scenario(**over):
    """One isotropic 0 dBi cell at 40 dBm, 25 m, on a 600 m x 20 m strip; LOS everywhere, no shadowing,
    no buildings: the TR 38.901 UMa LOS formula is the whole path loss."""
    d = {"name": "line", "seed": 1, "environment": "UMa", "los_mode": "los", "shadow_fading": False,
         "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 600, Y0 + 20], "resolution_m": RES_M},
         "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 20, "scs_khz": 30},
         "compute": {"interference_cutoff_db": None},
         "sites": [{"site_id": "C", "x": CELL_X, "y": ROW_Y, "height_m": H_CELL_M,
                    "sectors": [{"azimuth_deg": 0, "tx_power_dbm": 40,
                                 "antenna": {"model": "isotropic", "max_gain_dbi": 0}}]}]}
    d.update(over)
    return parse_scenario(d)


def ratio_roots_m(ratio, distance_m, dh_near_m, dh_far_m):
    """Positions x (from the cell, towards the other transmitter at ``distance_m``) where
    d3d_other / d3d_cell = ``ratio``: (D - x)^2 + dh_o^2 = r^2 (x^2 + dh_c^2), a quadratic
    (1 - r^2) x^2 - 2 D x + D^2 + dh_o^2 - r^2 dh_c^2 = 0. Returns (x1, x2), x1 < x2."""
    r2 = ratio * ratio
    a, b, c = 1.0 - r2, -2.0 * distance_m, distance_m ** 2 + dh_far_m ** 2 - r2 * dh_near_m ** 2
    disc = math.sqrt(b * b - 4 * a * c)
    return sorted(((-b - disc) / (2 * a), (-b + disc) / (2 * a)))


def row_x_rel_m(grid):
    """Pixel-centre x of the grid's columns, relative to the cell [m]."""
    return grid.x_centers_m() - CELL_X


def away_from(x_rel, roots, tol_m=0.5):
    """Columns farther than ``tol_m`` from every root (where a hand-worked mask is unambiguous)."""
    return np.all([np.abs(x_rel - r) > tol_m for r in roots], axis=0)
