"""Rogue cells (cellscape.resilience.rogue, pipeline.assess): the camping rule and a hand-worked
real cell + fake cell line."""

import numpy as np
import pytest

from cellscape.pipeline.assess import run_assess
from cellscape.resilience.rogue import camped_mask
from cellscape.scenario.resilience import parse_assess

from .conftest import CELL_X, H_CELL_M, H_OTHER_M, H_UT_M, OTHER_X, ROW_Y, away_from, line_scenario, ratio_roots_m, row_x_rel_m


def test_camping_needs_the_offset_and_a_receivable_rogue():
    real = np.array([-90.0, -90.0, -90.0, -130.0])
    rogue = np.array([-86.0, -87.0, -95.0, -125.0])
    assert camped_mask(rogue, real, offset_db=3.0, rsrp_min_dbm=-120.0).tolist() == [True, False, False, False]
    assert camped_mask(rogue, real, offset_db=3.0, rsrp_min_dbm=-126.0).tolist() == [True, False, False, True]
    assert camped_mask(-100.0, -np.inf, offset_db=3.0, rsrp_min_dbm=-110.0)      # no real cell at all


@pytest.mark.parametrize("offset_db", [0.0, 3.0, 8.0])
def test_camping_boundary_is_the_hand_worked_one(offset_db):
    """Real cell 40 dBm at 25 m, rogue 35 dBm at 20 m, both isotropic, 400 m apart: camped where
    35 - PL(d3_r) > 40 - PL(d3_c) + offset, i.e. d3_r / d3_c < 10^(-(offset + 5) / 22) (UMa LOS,
    22 lg d3d below the breakpoint, the same fc term on both sides)."""
    rogue = {"x": OTHER_X, "y": ROW_Y, "tx_power_dbm": 35.0, "height_m": H_OTHER_M}
    run = run_assess(line_scenario(), parse_assess({"assess": {"rogue_cells": [rogue], "reselection_offset_db": offset_db,
                                                               "self_heal": False}}), backend="numpy")
    roots = ratio_roots_m(10.0 ** (-(offset_db + 5.0) / 22.0), OTHER_X - CELL_X, H_CELL_M - H_UT_M, H_OTHER_M - H_UT_M)
    x = row_x_rel_m(run.grid)
    hand = (x > roots[0]) & (x < roots[1])
    ok = away_from(x, roots)
    assert hand.sum() > 5
    np.testing.assert_array_equal(run.rogue.camped[1][ok], hand[ok])
    k = run.kpis["rogue"]
    assert k["camped_area_km2"] == pytest.approx(run.rogue.camped.sum() * 25e-6)
    assert k["users_exposed"] == pytest.approx(run.demand[run.rogue.camped].sum())
    assert k["per_cell"]["rogue-1"]["camped_area_km2"] == k["camped_area_km2"]
