"""Per-pixel RCS of the sensing maps (cellscape.sensing.rcs_maps, sensing.rcs_random and
sensing.target_heading_deg): the sigma_S field's distribution and tiling invariance, the RCS at a
fixed heading against eq. 7.9.2-3 by hand, TX <-> RX reciprocity, the maps against the expected ones
pixel by pixel, exactness of the pruning and of the tiling, the kernels, and the block's validation."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cellscape.pipeline.sense as sense_mod
from cellscape.errors import ScenarioError
from cellscape.pipeline.sense import run_sense
from cellscape.scenario.sensing import HEADING_TARGETS as SCENARIO_HEADING_TARGETS
from cellscape.sensing._reduce import reduce_tile_numba, reduce_tile_numpy
from cellscape.sensing.rcs import RCS_MODEL_2, sensing_target_rcs_dbsm
from cellscape.sensing.rcs_maps import (
    HEADING_TARGETS,
    RCS_CHUNK_PX,
    RCS_SIGMA_S_MONO,
    RCS_SIGMA_S_PAIR,
    PixelRcs,
    heading_rcs_dbsm,
    heading_rcs_max_dbsm,
    sigma_s_field_db,
    sigma_s_max_db,
    sigma_s_std_db,
)

from .test_bistatic import iso_site, two_sites
from .test_sense_pipeline import X0, Y0, scenario_dict, sensing_of

# --------------------------------------------------------------------------------------------
# sigma_S field


def test_sigma_s_field_distribution():
    """10 lg(sigma_S): mean mu = -ln(10)/20 s^2, std s (eq. 7.9.2-1), never above mu + 3 s
    (eq. 7.9.4-1); E[sigma_S] = 1 in linear power up to the clip (0.5 % low for s = 3.94)."""
    s = 3.94
    x = sigma_s_field_db(5, [(RCS_SIGMA_S_MONO, 0)], 0, 256, 0, 256, s).astype(float).ravel()
    mu = -math.log(10) / 20 * s ** 2                               # -1.787 dB
    assert x.mean() == pytest.approx(mu, abs=0.05)
    assert x.std() == pytest.approx(s, rel=0.03)
    assert x.max() <= sigma_s_max_db(s) + 1e-5
    assert sigma_s_max_db(s) == pytest.approx(mu + 3 * s)
    assert np.mean(10 ** (x / 10)) == pytest.approx(1.0, abs=0.04)


def test_sigma_s_field_is_a_function_of_the_pixel_only():
    """Any window (across chunk borders) gives the same draws as the whole field; keys and seeds
    give independent fields."""
    keys = [(RCS_SIGMA_S_MONO, 0), (RCS_SIGMA_S_PAIR, 0, 1)]
    whole = sigma_s_field_db(1, keys, 0, 3 * RCS_CHUNK_PX, 0, 3 * RCS_CHUNK_PX, 3.74)
    for r0, r1, c0, c1 in ((0, 1, 0, 1), (60, 70, 63, 129), (5, 190, 100, 128), (127, 129, 0, 128)):
        np.testing.assert_array_equal(sigma_s_field_db(1, keys, r0, r1, c0, c1, 3.74), whole[:, r0:r1, c0:c1])
    assert abs(np.corrcoef(whole[0].ravel(), whole[1].ravel())[0, 1]) < 0.03
    other = sigma_s_field_db(2, keys[:1], 0, 64, 0, 64, 3.74)
    assert not np.array_equal(other[0], whole[0, :64, :64])


def test_sigma_s_std_of_the_targets():
    assert sigma_s_std_db("uav_small") == 3.74 and sigma_s_std_db("human") == 3.94
    assert sigma_s_std_db("vehicle") == 3.41 and sigma_s_std_db("agv") == 2.51 and sigma_s_std_db("uav_large") == 2.50


# --------------------------------------------------------------------------------------------
# RCS at a fixed heading


def test_heading_rcs_monostatic_by_hand():
    """Vehicle (Table 7.9.2.1-4) heading north, radar 100 m due west at the target's height: LCS
    azimuth 90 (left side), theta 90: 20.75 - 12 ((90 - 79.7)/44.42)^2 = 20.105 dBsm. From due north
    (its front): 15.52 - 12 ((90 - 71.75)/29.13)^2 = 10.810 dBsm. From the south (its back):
    14.56 - 12 ((90 - 79.65)/36.73)^2 = 13.607 dBsm."""
    t = [0.0, 0.0, 1.5]
    for radar, ref in (([-100.0, 0.0, 1.5], 20.75 - 12 * (10.3 / 44.42) ** 2),
                       ([0.0, 100.0, 1.5], 15.52 - 12 * (18.25 / 29.13) ** 2),
                       ([0.0, -100.0, 1.5], 14.56 - 12 * (10.35 / 36.73) ** 2)):
        assert float(heading_rcs_dbsm("vehicle", 0.0, t, radar, radar)) == pytest.approx(ref, abs=1e-9)
    assert 20.75 - 12 * (10.3 / 44.42) ** 2 == pytest.approx(20.105, abs=1e-3)
    # heading 90 (front east): a radar due north now sees the left side; heading 360 = heading 0
    north = [0.0, 100.0, 1.5]
    assert float(heading_rcs_dbsm("vehicle", 90.0, t, north, north)) == pytest.approx(20.105, abs=1e-3)
    assert float(heading_rcs_dbsm("vehicle", 360.0, t, north, north)) == pytest.approx(10.810, abs=1e-3)


def test_heading_rcs_bistatic_by_hand():
    """Vehicle heading north; TX due north (LCS azimuth 0), RX at LCS azimuth 20 deg, both horizontal:
    beta = 20, bisector (theta 90, phi 10): front row, sigma_V + sigma_H = -(4.7101 + 0.7302),
    15.52 - 5.4402 - 6 sin(1.65 x 10 deg) + 5 lg cos(10 deg) = 8.3425 dBsm (above the floor 7.07)."""
    t = np.array([0.0, 0.0, 1.5])
    tx = t + [0.0, 100.0, 0.0]
    a = math.radians(90.0 + 20.0)                         # grid azimuth (ccw from east) of LCS azimuth 20
    rx = t + [200 * math.cos(a), 200 * math.sin(a), 0.0]
    sv = 12 * ((90 - 71.75) / 29.13) ** 2
    sh = 12 * (10 / 40.54) ** 2
    ref = 15.52 - (sv + sh) - 6 * math.sin(math.radians(1.65 * 10)) + 5 * math.log10(math.cos(math.radians(10)))
    assert ref == pytest.approx(8.3425, abs=1e-3)
    assert float(heading_rcs_dbsm("vehicle", 0.0, t, tx, rx)) == pytest.approx(ref, abs=1e-9)


def test_heading_average_is_the_maps_constant():
    """Averaged in linear power over headings, the monostatic RCS at horizontal incidence is the
    maps' constant (cellscape.sensing.rcs.sensing_target_rcs_dbsm)."""
    headings = (np.arange(3600) + 0.5) / 10.0
    t = [0.0, 0.0, 1.5]
    radar = [100.0, 0.0, 1.5]
    for name in HEADING_TARGETS:
        v = np.array([float(heading_rcs_dbsm(name, h, t, radar, radar)) for h in headings[::10]])
        avg = 10 * math.log10(np.mean(10 ** (v / 10)))
        assert avg == pytest.approx(sensing_target_rcs_dbsm(name), abs=0.05)
        assert v.max() <= heading_rcs_max_dbsm(name)


xyz = st.tuples(st.floats(-500, 500), st.floats(-500, 500), st.floats(1.0, 60.0))


@settings(max_examples=60, deadline=None)
@given(tx=xyz, rx=xyz, heading=st.floats(0.0, 360.0), name=st.sampled_from(HEADING_TARGETS))
def test_reciprocity_tx_rx_swap(tx, rx, heading, name):
    """Swapping TX and RX leaves the RCS unchanged (same bisector and bistatic angle): the bistatic
    budget of A -> B and B -> A differs only by the powers."""
    t = [3.0, -7.0, 1.5]
    a = float(heading_rcs_dbsm(name, heading, t, tx, rx))
    b = float(heading_rcs_dbsm(name, heading, t, rx, tx))
    assert a == pytest.approx(b, abs=1e-9)
    assert a <= heading_rcs_max_dbsm(name) + 1e-9


def test_pixel_rcs_pairs_symmetric_and_bounded():
    rcs = PixelRcs(target="agv", base_rcs_dbsm=sensing_target_rcs_dbsm("agv"), heading_deg=123.0, draw=True,
                   sigma_s_std_db=2.51, seed=9, site_xyz_m=np.array([[0.0, 0.0, 25.0], [300.0, 50.0, 10.0]]),
                   target_height_m=1.5)
    x, y = np.linspace(-200, 500, 40), np.linspace(-300, 300, 30)
    ab = rcs.pair_db([0, 1], [1, 0], slice(0, 30), slice(0, 40), x, y)
    np.testing.assert_array_equal(ab[0], ab[1])
    assert ab.max() <= rcs.max_delta_db
    mono = rcs.mono_db([0, 1], slice(0, 30), slice(0, 40), x, y)
    assert mono.max() <= rcs.max_delta_db and not np.array_equal(mono[0], mono[1])


def test_pixel_rcs_model_1_bistatic_angle_term():
    """Model 1 (eq. 7.9.2-2): -3 sin(beta/2) for TX != RX, 0 for a monostatic link; beta from the
    pixel's own geometry (a target 100 m off the middle of a 200 m baseline, all at 1.5 m: 90 deg)."""
    rcs = PixelRcs(target="human", base_rcs_dbsm=sensing_target_rcs_dbsm("human"), heading_deg=None, draw=False,
                   sigma_s_std_db=3.94, seed=1, site_xyz_m=np.array([[-100.0, 0.0, 1.5], [100.0, 0.0, 1.5]]),
                   target_height_m=1.5, model_1_beta=True)
    x, y = np.array([0.0, 100.0]), np.array([100.0, 0.0])      # (0, 100): beta 90; (100, 0): on RX (beta 0 / 180)
    ab = rcs.pair_db([0], [1], slice(0, 2), slice(0, 2), x, y)
    assert ab.shape == (1, 2, 2) and ab[0, 0, 0] == pytest.approx(-3.0 * math.sin(math.radians(45.0)), abs=1e-6)
    assert ab.max() <= rcs.max_delta_db == 0.0 and ab.min() >= -3.0
    np.testing.assert_array_equal(rcs.mono_db([0, 1], slice(0, 2), slice(0, 2), x, y), 0.0)


@pytest.mark.parametrize("name", ["vehicle", "agv", "uav_large"])
def test_heading_averaged_bistatic_term(name):
    """Model 2 without a heading: the heading average of eq. 7.9.2-3 at beta (bisector horizontal)
    minus the monostatic one; 0 at beta = 0, never positive, non-increasing in beta, and at a pixel of
    known beta (90 deg) the pair term is the table's value there."""
    from cellscape.sensing.rcs import SENSING_TARGETS, orientation_averaged_rcs_dbsm
    from cellscape.sensing.rcs_maps import heading_averaged_beta_db

    beta, term = heading_averaged_beta_db(name)
    assert beta[0] == 0.0 and beta[-1] == 180.0 and term[0] == 0.0 and np.all(term <= 0.0)
    assert np.all(np.diff(term) <= 1e-9)
    key = SENSING_TARGETS[name]
    want = orientation_averaged_rcs_dbsm(key, 90.0, 720, bistatic_angle_deg=90.0) - orientation_averaged_rcs_dbsm(key, 90.0, 720)
    assert float(np.interp(90.0, beta, term)) == pytest.approx(want, abs=1e-9)
    rcs = PixelRcs(target=name, base_rcs_dbsm=sensing_target_rcs_dbsm(name), heading_deg=None, draw=False,
                   sigma_s_std_db=2.5, seed=1, site_xyz_m=np.array([[-100.0, 0.0, 1.5], [100.0, 0.0, 1.5]]),
                   target_height_m=1.5, model_2_beta=True)
    ab = rcs.pair_db([0], [1], slice(0, 1), slice(0, 1), np.array([0.0]), np.array([100.0]))
    assert float(ab[0, 0, 0]) == pytest.approx(want, abs=1e-5)
    np.testing.assert_array_equal(rcs.mono_db([0], slice(0, 1), slice(0, 1), np.array([0.0]), np.array([100.0])), 0.0)


def test_model_1_bistatic_kernel_equals_the_triangles_angle():
    """The numba kernel of the model-1 term equals -3 sin(beta/2) of the triangle's bistatic angle
    (radar.bistatic_angle_deg) on every random link, and 0 on a monostatic one."""
    from cellscape.sensing.radar import bistatic_angle_deg
    from cellscape.sensing.rcs import rcs_model_1_db
    from cellscape.sensing.rcs_maps import model_1_bistatic_db

    rng = np.random.default_rng(8)
    tx = np.column_stack([rng.uniform(-300, 300, (6, 2)), rng.uniform(1.5, 40, 6)])
    rx = np.column_stack([rng.uniform(-300, 300, (6, 2)), rng.uniform(1.5, 40, 6)])
    rx[2] = tx[2]                                                     # a monostatic link: 0
    x, y = np.linspace(-400, 400, 33), np.linspace(350, -350, 29)
    got = model_1_bistatic_db(x, y, 1.5, tx, rx)
    assert np.all(got[2] == 0.0) and got.min() >= -3.0 and got.max() <= 0.0
    gx, gy = np.meshgrid(x, y)
    t = np.stack([gx, gy, np.full(gx.shape, 1.5)], axis=-1)
    for k in (0, 1, 3, 4, 5):
        beta = bistatic_angle_deg(np.linalg.norm(t - tx[k], axis=-1), np.linalg.norm(t - rx[k], axis=-1),
                                  np.linalg.norm(tx[k] - rx[k]))
        np.testing.assert_allclose(got[k], rcs_model_1_db(0.0, beta), atol=1e-5)


# --------------------------------------------------------------------------------------------
# kernels


def test_kernels_agree_with_per_pixel_terms():
    rng = np.random.default_rng(3)
    units = rng.uniform(-120, -60, (5, 7, 9)).astype(np.float32)
    unit_site = np.array([0, 0, 1, 2, 2])
    p_re = rng.uniform(5, 15, 5)
    off = rng.uniform(20, 30, 5).astype(np.float32)
    tx, rx = np.array([0, 1, 2, 0]), np.array([1, 0, 0, 2])
    md = rng.normal(0, 4, (3, 7, 9)).astype(np.float32)
    bd = rng.normal(0, 4, (4, 7, 9)).astype(np.float32)
    kw = dict(mono=True, mono_required_dbm=-100.0, pair_tx=tx, pair_rx=rx, bi_offset_db=30.0, bi_required_dbm=-170.0)
    a = reduce_tile_numpy(units, unit_site, p_re, off, 3, mono_delta_db=md, bi_delta_db=bd, **kw)
    b = reduce_tile_numba(units, unit_site, p_re, off, 3, mono_delta_db=md, bi_delta_db=bd, **kw)
    for f in ("mono_echo_dbm", "mono_n_detecting", "bi_echo_dbm", "bi_pair", "bi_n_detecting"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    plain = reduce_tile_numpy(units, unit_site, p_re, off, 3, **kw)
    site_echo = np.stack([np.maximum(2 * units[0] + off[0], 2 * units[1] + off[1]), 2 * units[2] + off[2],
                          np.maximum(2 * units[3] + off[3], 2 * units[4] + off[4])])
    np.testing.assert_array_equal(plain.mono_echo_dbm, site_echo.max(axis=0))
    np.testing.assert_array_equal(a.mono_echo_dbm, (site_echo + md).max(axis=0))


# --------------------------------------------------------------------------------------------
# maps


def one_site(sensing, **over):
    """One isotropic site at the centre of a 61 x 41 px map of 10 m, NLOS, no shadow fading."""
    return scenario_dict(sensing=sensing,
                         area={"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 610, Y0 + 410], "resolution_m": 10},
                         sites=[iso_site("A", X0 + 305, Y0 + 205)], los_mode="nlos", shadow_fading=False, **over)


def test_draw_adds_sigma_s_per_pixel_monostatic():
    """rcs_random: draw shifts each pixel's echo (so its SNR) by that pixel's sigma_S draw of the site,
    keyed by the scenario seed (3): field_rng(3, RCS_SIGMA_S_MONO, 0, chunk row, chunk col)."""
    base = {"target": "human", "detector": "swerling0"}
    exp = run_sense(sensing_of(one_site(base)), backend="numpy").maps["monostatic"]
    drw = run_sense(sensing_of(one_site({**base, "rcs_random": "draw"})), backend="numpy").maps["monostatic"]
    field = sigma_s_field_db(3, [(RCS_SIGMA_S_MONO, 0)], 0, 41, 0, 61, 3.94)[0]
    np.testing.assert_allclose(drw.sensing_snr_db - exp.sensing_snr_db, field, atol=2e-4)


def test_draw_bistatic_keyed_by_the_unordered_pair():
    """Two identical isotropic sites: each pixel's best bistatic echo is that of both ordered pairs
    (equal budgets) plus the one draw of the pair {A, B}."""
    base = {"target": "human", "detector": "swerling0", "mode": "bistatic"}
    exp = run_sense(sensing_of(two_sites(base)), backend="numpy").maps["bistatic"]
    drw = run_sense(sensing_of(two_sites({**base, "rcs_random": "draw"})), backend="numpy").maps["bistatic"]
    field = sigma_s_field_db(3, [(RCS_SIGMA_S_PAIR, 0, 1)], 0, 40, 0, 61, 3.94)[0]
    np.testing.assert_allclose(drw.sensing_snr_db - exp.sensing_snr_db, field, atol=2e-3)


def test_heading_maps_by_hand():
    """Vehicle heading 30 deg: each pixel's monostatic SNR moves by the RCS at its own direction to
    the site (25 m up) minus the heading average."""
    base = {"target": "vehicle"}
    exp = run_sense(sensing_of(one_site(base)), backend="numpy")
    hd = run_sense(sensing_of(one_site({**base, "target_heading_deg": 30.0})), backend="numpy")
    g = hd.grid
    x, y = np.meshgrid(g.x_centers_m(), g.y_centers_m())
    t = np.stack([x, y, np.full(x.shape, 1.5)], axis=-1)
    site = np.array([X0 + 305, Y0 + 205, 25.0])
    ref = heading_rcs_dbsm("vehicle", 30.0, t, site, site) - sensing_target_rcs_dbsm("vehicle")
    np.testing.assert_allclose(hd.maps["monostatic"].sensing_snr_db - exp.maps["monostatic"].sensing_snr_db, ref,
                               atol=2e-4)
    assert set(hd.maps["monostatic"].kpis["per_target"]) == {"vehicle"}
    assert hd.kpis["target_heading_deg"] == 30.0 and "heading 30" in hd.kpis["rcs_per_pixel"]
    assert exp.kpis["rcs_random"] == "expected" and exp.kpis["target_heading_deg"] is None


def wide(sensing, shadow_fading=True):
    """Two sites on a 150 x 140 px map of 5 m: several pruning blocks."""
    return scenario_dict(sensing=sensing,
                         area={"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 750, Y0 + 700], "resolution_m": 5},
                         sites=[iso_site("A", X0 + 200, Y0 + 300), iso_site("B", X0 + 550, Y0 + 420)],
                         los_mode="nlos", shadow_fading=shadow_fading)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_draw_and_heading_independent_of_tiling(backend, monkeypatch):
    """The same maps bit for bit with the pruning (blocks of 128 px) or without, with smaller blocks
    and with row bands of a few hundred pixels: the draws are keyed by grid position. (No shadow
    fading here: its field, evaluated on other blocks, moves by float32 rounding, docs/sensing.md.)"""
    s = sensing_of(wide({"target": "agv", "mode": "both", "rcs_random": "draw", "detector": "swerling0",
                         "target_heading_deg": 200.0}, shadow_fading=False))
    ref = run_sense(s, backend=backend, prune=False)
    runs = [run_sense(s, backend=backend, prune=True)]
    monkeypatch.setattr(sense_mod, "PRUNE_BLOCK_PX", 37)
    monkeypatch.setattr(sense_mod, "RCS_BLOCK_PIXELS", 300)
    runs += [run_sense(s, backend=backend, prune=True), run_sense(s, backend=backend, prune=False)]
    for r in runs:
        for mode in ("monostatic", "bistatic"):
            for band, v in r.maps[mode].bands().items():
                np.testing.assert_array_equal(v, ref.maps[mode].bands()[band], err_msg=f"{mode} {band}")


def test_draw_spreads_the_snr_and_keeps_the_share_monotone():
    s = {"target": "human", "mode": "monostatic", "detector": "swerling0"}
    exp = run_sense(sensing_of(wide(s)), backend="numba")
    drw = run_sense(sensing_of(wide({**s, "rcs_random": "draw"})), backend="numba")
    d = (drw.maps["monostatic"].sensing_snr_db - exp.maps["monostatic"].sensing_snr_db).ravel()
    d = d[np.isfinite(d)]
    # the best of 2 sites' draws: above the single-draw median mu, spread close to s
    assert np.median(d) > -1.79 and 2.5 < d.std() < 4.5
    assert d.max() <= sigma_s_max_db(3.94) + 1e-3
    area = drw.maps["monostatic"].tradeoff["sensed_area_km2"]
    assert np.all(np.diff(area) >= 0)


# --------------------------------------------------------------------------------------------
# validation


def test_heading_targets_match():
    assert SCENARIO_HEADING_TARGETS == HEADING_TARGETS == ("uav_large", "vehicle", "agv")
    from cellscape.sensing.rcs import RCS_MODEL_1, SENSING_TARGETS
    # every other target is RCS model 1 (Sensing.model_1_bistatic relies on it)
    assert {n for n, k in SENSING_TARGETS.items() if k in RCS_MODEL_1} == set(SENSING_TARGETS) - set(HEADING_TARGETS)
    assert all(k in RCS_MODEL_2 for k in ("uav_large", "vehicle_single", "agv_single"))


def test_validation_messages():
    s = sensing_of(scenario_dict(sensing={"target": "vehicle", "target_heading_deg": 30}))
    assert s.target_heading_deg == 30.0 and s.per_pixel_rcs and s.rcs_random == "expected"
    assert not sensing_of(scenario_dict()).per_pixel_rcs
    with pytest.raises(ScenarioError, match=r"^sensing.target_heading_deg: only RCS model 2 targets .*'human' takes "
                                            r"RCS model 1"):
        sensing_of(scenario_dict(sensing={"target": "human", "target_heading_deg": 30}))
    with pytest.raises(ScenarioError, match=r"^sensing.target_heading_deg: Input should be less than or equal to 360"):
        sensing_of(scenario_dict(sensing={"target": "vehicle", "target_heading_deg": 400}))
    with pytest.raises(ScenarioError, match=r"^sensing.rcs_random: 'draw' with detector 'swerling1' would count"):
        sensing_of(scenario_dict(sensing={"target": "human", "rcs_random": "draw"}))
    with pytest.raises(ScenarioError, match=r"^sensing.rcs_random: Input should be 'expected' or 'draw'"):
        sensing_of(scenario_dict(sensing={"target": "human", "rcs_random": "median"}))


@settings(max_examples=40, deadline=None)
@given(tx=xyz, heading=st.floats(0.0, 360.0), name=st.sampled_from(HEADING_TARGETS))
def test_monostatic_shortcut_equals_the_bistatic_geometry(tx, heading, name):
    """TX = RX takes beta = 0 and the ray itself as bisector: the same as the general
    bistatic_geometry of two equal rays fed to rcs_pattern_db."""
    from cellscape.sensing.rcs import SENSING_TARGETS, bistatic_geometry, rcs_pattern_db

    t = np.array([3.0, -7.0, 1.5])
    d = np.asarray(tx) - t
    zen = math.degrees(math.acos(d[2] / np.linalg.norm(d)))
    az = math.degrees(math.atan2(d[1], d[0])) - (90.0 - heading)
    assume(min(abs((az % 45.0) - h) for h in (0.0, 45.0)) > 1e-6)          # not on a row border
    assume(min(abs(zen - h) for h in (30.0, 45.0, 135.0)) > 1e-6)
    beta, bz, ba = bistatic_geometry(zen, az, zen, az)
    ref = float(rcs_pattern_db(SENSING_TARGETS[name], bz, ba, np.clip(beta, 0, 180))[0])
    assert float(heading_rcs_dbsm(name, heading, t, tx, tx)) == pytest.approx(ref, abs=1e-6)
