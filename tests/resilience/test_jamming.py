"""Jamming (cellscape.resilience.jamming, pipeline.assess): in-band power, the jammed SINR, a
hand-worked cell + jammer line (denied boundary and the SINR at every pixel, downlink; the jammer's
power at the gNB, uplink) and the intact uplink equal to the engine's uplink map."""

import math

import numpy as np
import pytest

from cellscape.coverage.engine import compute_coverage
from cellscape.coverage.uplink import uplink_coverage
from cellscape.errors import ScenarioError
from cellscape.pipeline.assess import run_assess
from cellscape.pipeline.coverage import localize
from cellscape.propagation.tr38901 import uma_los_path_loss_db
from cellscape.radio.link_budget import noise_per_re_dbm, tx_power_per_re_dbm
from cellscape.radio.nr import resolve_n_prb
from cellscape.resilience.jamming import in_band_fraction, in_band_power_dbm, jammed_sinr_db
from cellscape.resilience.outage import lowest_cqi_sinr_db
from cellscape.scenario.resilience import parse_assess

from .conftest import CELL_X, H_CELL_M, H_OTHER_M, H_UT_M, OTHER_X, ROW_Y, away_from, line_scenario, ratio_roots_m, row_x_rel_m


def test_in_band_fraction_cases():
    assert in_band_fraction(10.0, 100.0) == 1.0                      # inside the carrier
    assert in_band_fraction(100.0, 20.0) == pytest.approx(0.2)      # wider than the carrier
    assert in_band_fraction(20.0, 100.0, offset_mhz=45.0) == pytest.approx(0.75)   # 5 of 20 MHz outside
    assert in_band_fraction(20.0, 100.0, offset_mhz=70.0) == 0.0     # wholly outside
    assert in_band_power_dbm(30.0, 20.0, 100.0, offset_mhz=70.0) == -np.inf


def test_jammed_sinr_never_exceeds_the_intact_one():
    rng = np.random.default_rng(0)
    s, sinr, j = rng.uniform(-120, -60, 200), rng.uniform(-10, 30, 200), rng.uniform(-140, -60, 200)
    out = jammed_sinr_db(s, sinr, j)
    assert np.all(out <= sinr + 1e-12)
    np.testing.assert_allclose(jammed_sinr_db(s, sinr, -np.inf), sinr)


JAMMER = {"x": OTHER_X, "y": ROW_Y, "tx_power_dbm": 30.0, "bandwidth_mhz": 20.0, "height_m": H_OTHER_M}


@pytest.fixture(scope="module")
def jam_run():
    return run_assess(line_scenario(), parse_assess({"assess": {"jammers": [JAMMER], "self_heal": False}}),
                      backend="numpy")


def test_downlink_denied_boundary_is_the_hand_worked_one(jam_run):
    """Both transmitters isotropic, 40 and 30 dBm over the same 20 MHz: SINR = 10 dB + 22 lg(d3_j / d3_c)
    (noise ~45 dB below the jammer there). Denied (SINR < lowest CQI T) where d3_j / d3_c <
    10^((T - 10) / 22): between the two roots of a quadratic around the jammer."""
    run = jam_run
    t = lowest_cqi_sinr_db()
    roots = ratio_roots_m(10.0 ** ((t - 10.0) / 22.0), OTHER_X - CELL_X, H_CELL_M - H_UT_M, H_OTHER_M - H_UT_M)
    x = row_x_rel_m(run.grid)
    hand = (x >= roots[0]) & (x <= roots[1])
    ok = away_from(x, roots)
    assert 300.0 < roots[0] < 400.0 < roots[1] < 500.0 and hand.sum() > 10
    np.testing.assert_array_equal(run.jamming.dl_denied[1][ok], hand[ok])


def test_downlink_jammed_sinr_at_every_pixel_against_the_formula(jam_run):
    run = jam_run
    sc = run.scenario
    n_prb = resolve_n_prb(sc.carrier)
    x = row_x_rel_m(run.grid)
    dc = np.maximum(np.abs(x), 10.0)                                   # UMa LOS: d2d >= 10 m (clipped below)
    dj = np.maximum(np.abs(x - (OTHER_X - CELL_X)), 10.0)
    s = tx_power_per_re_dbm(40.0, n_prb) - uma_los_path_loss_db(dc, H_CELL_M, H_UT_M, 3.5)
    j = tx_power_per_re_dbm(30.0, n_prb) - uma_los_path_loss_db(dj, H_OTHER_M, H_UT_M, 3.5)
    n = noise_per_re_dbm(30.0, 9.0)
    hand = s - 10 * np.log10(10 ** (j / 10) + 10 ** (n / 10))
    far = (dc > 40) & (dj > 40)        # the engine's distance tables interpolate in sqrt(d): exact enough away from 0
    np.testing.assert_allclose(run.jamming.dl_sinr_jammed_db[1][far], hand[far], atol=0.02)


def test_uplink_jammer_power_at_the_gnb_and_the_intact_uplink(jam_run):
    run = jam_run
    n_prb = resolve_n_prb(run.scenario.carrier)
    # reciprocity: the jammer (20 m) is the receiver of the sector's link, 400 m away (pixel centre 402.5 m)
    d = OTHER_X + 2.5 - CELL_X
    cl = uma_los_path_loss_db(d, H_CELL_M, H_OTHER_M, 3.5)
    hand = 30.0 - 10 * math.log10(n_prb) + 0.0 - cl
    assert run.jamming.gnb_jammer_per_prb_dbm[0] == pytest.approx(float(hand), abs=0.02)
    # the jammed uplink is the intact one with that power added to the gNB's noise and interference margin
    res = compute_coverage(run.scenario, *localize(run.scenario))
    ul = uplink_coverage(run.scenario, res)
    np.testing.assert_allclose(run.jamming.ul_sinr_db, ul.sinr_db, atol=1e-3)
    assert np.all(run.jamming.ul_sinr_jammed_db <= run.jamming.ul_sinr_db + 1e-9)
    up = run.scenario.uplink
    noise = -174 + 10 * math.log10(360e3) + up.gnb_noise_figure_db
    margin = 10 ** (noise / 10) * (10 ** (up.interference_margin_db / 10) - 1)
    drop = 10 * math.log10((10 ** (noise / 10) + margin + 10 ** (hand / 10)) / (10 ** (noise / 10) + margin))
    np.testing.assert_allclose(run.jamming.ul_sinr_db - run.jamming.ul_sinr_jammed_db, drop, atol=0.03)
    assert run.kpis["jamming"]["uplink"]["denied_area_km2"] >= 0.0


def test_a_jammer_outside_the_carrier_changes_nothing():
    run = run_assess(line_scenario(), parse_assess({"assess": {"jammers": [{**JAMMER, "offset_mhz": 40.0}],
                                                               "self_heal": False}}), backend="numpy")
    np.testing.assert_allclose(run.jamming.dl_sinr_jammed_db, run.jamming.dl_sinr_db, atol=1e-4)


def test_a_jammer_below_the_bs_height_range_is_refused_with_the_remedy():
    with pytest.raises(ScenarioError, match=r"assess\.jammers: .*h_bs_m.*UMi: 3 to 25 m"):
        run_assess(line_scenario(), parse_assess({"assess": {"jammers": [{**JAMMER, "height_m": 2.0}],
                                                             "self_heal": False}}), backend="numpy")


def test_jammer_antenna_gain_towards_a_target():
    from cellscape.resilience.jamming import jammer_gain_towards_dbi
    from cellscape.scenario.resilience import Jammer

    targets = np.array([[1000.0, 0.0], [-1000.0, 0.0]])               # east and west of the jammer, same height
    omni = Jammer(x=0, y=0, tx_power_dbm=30, bandwidth_mhz=10, height_m=20, gain_dbi=5.0)
    np.testing.assert_allclose(jammer_gain_towards_dbi(omni, (0.0, 0.0), targets, 20.0), [5.0, 5.0])
    east = Jammer(x=0, y=0, tx_power_dbm=30, bandwidth_mhz=10, height_m=20, gain_dbi=12.0, azimuth_deg=90.0)
    g = jammer_gain_towards_dbi(east, (0.0, 0.0), targets, 20.0)
    # TR 38.901 Table 7.3-1 element: G_max on boresight, G_max - A_max (30 dB) behind it
    np.testing.assert_allclose(g, [12.0, 12.0 - 30.0], atol=1e-6)
