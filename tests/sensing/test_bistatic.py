"""Bistatic TRP-TRP sensing maps (cellscape.pipeline.sense, sensing.mode): the two-segment echo
against TR 38.901 7.9's coupling loss, a hand-worked pixel on the baseline midpoint, the bistatic
range resolution, A <-> B symmetry, the monostatic special case, the per-tile reduction (numba
against numpy) and the block's validation."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cellscape.errors import ScenarioError
from cellscape.pipeline.sense import (
    bistatic_echo_per_re_dbm,
    bistatic_pairs,
    bistatic_range_resolution_m,
    monostatic_echo_per_re_dbm,
    run_sense,
)
from cellscape.radio.link_budget import noise_per_re_dbm
from cellscape.scenario.sensing import DEFAULT_MAX_BASELINE_M
from cellscape.sensing._reduce import reduce_tile_numba, reduce_tile_numpy
from cellscape.sensing.detection import detection_probability
from cellscape.sensing.radar import bistatic_angle_deg, echo_power_dbm, target_coupling_loss_db
from cellscape.pipeline.coverage import localize
from cellscape.pipeline.sense import sensing_scenario
from cellscape.sensing.rcs import RCS_MODEL_1, rcs_model_1_db

from .test_sense_pipeline import X0, Y0, maps_of, scenario_dict, sensing_of

C = 299_792_458.0
LAM = C / 3.5e9
APERTURE_DB = 10 * math.log10(4 * math.pi / LAM ** 2)        # 32.337 dB at 3.5 GHz
HUMAN = RCS_MODEL_1["human"].rcs_mean_dbsm                   # -1.37 dBsm
GAIN_DB = 10 * math.log10(3276 * 28)                          # share 0.1 of 10 ms at 30 kHz, 273 PRBs
NOISE_DBM = -174 + 10 * math.log10(30e3) + 5.0


def iso_site(site_id, x, y, height_m=25.0, power_dbm=46.0):
    return {"site_id": site_id, "x": x, "y": y, "height_m": height_m,
            "sectors": [{"azimuth_deg": 0, "tx_power_dbm": power_dbm,
                         "antenna": {"model": "isotropic", "max_gain_dbi": 0.0}}]}


def two_sites(sensing=None, width_m=610, **over):
    """Two isotropic single-sector sites 300 m apart on row 20 (y centre Y0 + 195), NLOS, no shadow
    fading: deterministic and mirror-symmetric about x = X0 + 305 (the centre of column 30)."""
    return scenario_dict(
        sensing=sensing or {"target": "human", "mode": "bistatic"},
        area={"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + width_m, Y0 + 400], "resolution_m": 10},
        sites=[iso_site("A", X0 + 155, Y0 + 195), iso_site("B", X0 + 455, Y0 + 195)],
        los_mode="nlos", shadow_fading=False, **over)


def test_echo_identity_against_two_segment_coupling_loss():
    """RSRP_A + (RSRP_B - P_B) + 10 lg(4 pi/lambda^2) + RCS == P_A + 0 + 0 - L(L_A, L_B): TR 38.901
    7.9.4.1 eq. 7.9.4-14 with the one-way coupling losses L_A = P_A - RSRP_A, L_B = P_B - RSRP_B."""
    rng = np.random.default_rng(5)
    r_a, r_b = rng.uniform(-130, -60, 50), rng.uniform(-130, -60, 50)
    p_a, p_b = rng.uniform(5, 25, 50), rng.uniform(5, 25, 50)
    ref = echo_power_dbm(p_a, 0.0, 0.0, target_coupling_loss_db(p_a - r_a, p_b - r_b, HUMAN, 3.5))
    np.testing.assert_allclose(bistatic_echo_per_re_dbm(r_a, r_b, p_b, 3.5, HUMAN), ref, atol=1e-9)


def test_hand_worked_two_segment_example():
    """Free space, 46 dBm over 3276 subcarriers, 0 dBi, 3.5 GHz, 1 m^2: TX 200 m and RX 300 m from the
    target. RSRP_A = P - FSPL(200), RSRP_B - P = -FSPL(300); the echo is the radar equation
    P lambda^2 sigma / ((4 pi)^3 R_t^2 R_r^2) per RE."""
    p = 46.0 - 10 * math.log10(3276)                               # 10.846 dBm per RE
    fspl = lambda d: 20 * math.log10(4 * math.pi * d / LAM)       # noqa: E731  89.35 dB at 200 m, 92.87 at 300 m
    echo = float(bistatic_echo_per_re_dbm(p - fspl(200), p - fspl(300), p, 3.5, 0.0))
    radar = p + 10 * math.log10(LAM ** 2 / ((4 * math.pi) ** 3 * 200 ** 2 * 300 ** 2))
    assert echo == pytest.approx(radar, abs=1e-9)
    assert echo == pytest.approx(10.846 - 89.350 - 92.872 + 32.337, abs=2e-3)   # = -139.04 dBm


def test_monostatic_special_case_of_the_formula():
    r = np.linspace(-140, -50, 7)
    np.testing.assert_allclose(bistatic_echo_per_re_dbm(r, r, 15.0, 3.5, HUMAN),
                               monostatic_echo_per_re_dbm(r, 15.0, 3.5, HUMAN), atol=1e-12)


def test_pairs_and_baseline():
    tx, rx, b = bistatic_pairs([[0, 0], [300, 0], [0, 400], [5000, 0]], 500.0)
    assert list(zip(tx.tolist(), rx.tolist())) == [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]
    np.testing.assert_allclose(b, [300, 400, 300, 500, 400, 500])
    assert bistatic_pairs([[0, 0]], 1e3)[0].size == 0


@pytest.fixture(scope="module")
def mid_run():
    return run_sense(sensing_of(two_sites()), backend="numpy")


def test_hand_worked_pixel_on_the_baseline_midpoint(mid_run):
    """Row 20, column 30: 150 m from both sites. Echo of A -> B from the engine's two one-way maps,
    SNR, Pd, both ordered pairs detecting or none, and the range resolution of the 3-D triangle:
    beta/2 is the angle between each leg and the vertical, cos(beta/2) = (25 - 1.5) / sqrt(150^2 + 23.5^2);
    the human (RCS model 1) echoes with -3 sin(beta/2) dB, sin(beta/2) = 150 / sqrt(150^2 + 23.5^2)
    (TR 38.901 eq. 7.9.2-2: -2.964 dB here)."""
    b = mid_run.maps["bistatic"]
    m = maps_of(mid_run, backend="numpy")
    row, col = 20, 30
    p_re = 46.0 - 10 * math.log10(3276)
    r_a, r_b = float(m.rsrp_dbm[0, row, col]), float(m.rsrp_dbm[1, row, col])
    assert r_a == pytest.approx(r_b, abs=1e-4)                    # equidistant, identical sites
    beta_db = -3.0 * 150.0 / math.hypot(150.0, 23.5)
    echo = r_a + (r_b - p_re) + APERTURE_DB + HUMAN + beta_db
    snr = echo + GAIN_DB - NOISE_DBM
    assert float(b.sensing_snr_db[row, col]) == pytest.approx(snr, abs=1e-3)
    assert float(b.detection_probability[row, col]) == pytest.approx(float(detection_probability(snr, 1e-6)),
                                                                     abs=1e-5)
    assert float(b.n_detecting[row, col]) == (2.0 if snr >= 21.1399 else 0.0)
    d = math.hypot(150.0, 23.5)
    half_cos = 23.5 / d                                           # 0.15478
    assert float(b.range_resolution_m[row, col]) == pytest.approx(C / (2 * 3276 * 30e3) / half_cos, rel=1e-5)
    assert float(b.range_resolution_m[row, col]) == pytest.approx(9.854, abs=1e-3)
    k = mid_run.kpis["bistatic"]
    assert k["n_pairs"] == 2 and k["baseline_m_min_max"] == [300.0, 300.0]
    assert k["max_baseline_m"] == DEFAULT_MAX_BASELINE_M == 1000.0


def test_bistatic_snr_peaks_near_the_sites_and_counts(mid_run):
    b = mid_run.maps["bistatic"]
    n = b.n_detecting
    assert set(np.unique(n).tolist()) <= {0.0, 1.0, 2.0}
    assert ((n >= 1) == (b.sensing_snr_db >= mid_run.kpis["required_snr_db"] + 1e-3)).mean() > 0.99
    # the echo (and SNR) of a pixel on the baseline is lowest at the midpoint: PL(d) + PL(D - d) is
    # largest where the two legs are equal (path loss concave in lg d)
    line = b.sensing_snr_db[20, 16:45]
    assert np.argmin(line) == 30 - 16


def test_symmetry_a_b(mid_run):
    """Identical sites: the bistatic maps are mirror-symmetric about the baseline's bisector, and
    swapping the sites' order in the scenario changes nothing."""
    b = mid_run.maps["bistatic"]
    for band in (b.sensing_snr_db, b.detection_probability, b.n_detecting, b.range_resolution_m):
        np.testing.assert_allclose(band, band[:, ::-1], atol=2e-3, rtol=1e-5)
    d = two_sites()
    d["sites"] = d["sites"][::-1]
    swapped = run_sense(sensing_of(d), backend="numpy").maps["bistatic"]
    np.testing.assert_allclose(swapped.sensing_snr_db, b.sensing_snr_db, atol=1e-4)
    np.testing.assert_array_equal(swapped.n_detecting, b.n_detecting)


@pytest.mark.parametrize("power_dbm", [46, 40])
def test_brute_force_over_sector_pairs(power_dbm):
    """The tiny scenario (site A: 3 sectors, site B: 1, statistical LOS and shadow fading; with 40 dBm
    one of A's sectors has its own power, so the per-sector path runs): the best bistatic SNR equals
    the maximum over all 6 ordered sector pairs of the TR 38.901 two-segment echo, from the engine's
    sector maps, with the human's (RCS model 1) -3 sin(beta/2) at each pixel's bistatic angle; mode
    both gives the monostatic maps unchanged."""
    d_both = scenario_dict(sensing={"target": "human", "mode": "both"})
    d_mono = scenario_dict()
    for d in (d_both, d_mono):
        d["sites"][0]["sectors"][1]["tx_power_dbm"] = power_dbm
    both = run_sense(sensing_of(d_both), backend="numba")
    assert both.kpis["meta"]["rsrp_units"].startswith("sites" if power_dbm == 46 else "sectors")
    mono = run_sense(sensing_of(d_mono), backend="numba")
    np.testing.assert_array_equal(both.maps["monostatic"].sensing_snr_db, mono.maps["monostatic"].sensing_snr_db)
    assert list(both.maps) == ["monostatic", "bistatic"]
    m = maps_of(both)
    p = m.tx_power_per_re_dbm.astype(float)
    site = m.sector_site
    _, xy = localize(sensing_scenario(both.sensing))
    gx, gy = np.meshgrid(m.grid.x_centers_m(), m.grid.y_centers_m())
    target = np.stack([gx, gy, np.full(gx.shape, both.sensing.target_height_m)], axis=-1)
    antenna = np.array([[*xy[i], 25.0] for i in range(2)])
    best = np.full(m.grid.shape, -np.inf)
    for a in range(m.n_sectors):
        for b in range(m.n_sectors):
            if site[a] != site[b]:
                loss = target_coupling_loss_db(p[a] - m.rsrp_dbm[a], p[b] - m.rsrp_dbm[b], HUMAN, 3.5)
                ta, tb = antenna[site[a]], antenna[site[b]]
                beta = bistatic_angle_deg(np.linalg.norm(target - ta, axis=-1), np.linalg.norm(target - tb, axis=-1),
                                          np.linalg.norm(ta - tb))
                beta_db = rcs_model_1_db(0.0, beta)
                best = np.maximum(best, echo_power_dbm(p[a], 0.0, 0.0, loss) + beta_db)
    np.testing.assert_allclose(both.maps["bistatic"].sensing_snr_db, best + GAIN_DB - NOISE_DBM, atol=2e-4)


def test_monostatic_special_case_of_the_reduction():
    """A pair (i, i) of a one-sector site is the monostatic echo: the bistatic reduction with pairs
    [(0, 0), (1, 1)] equals the monostatic one (numba and numpy)."""
    rng = np.random.default_rng(2)
    rsrp = rng.uniform(-120, -60, (2, 3, 4)).astype(np.float32)
    p_re = np.array([12.0, 15.0])
    off = np.asarray(monostatic_echo_per_re_dbm(0.0, p_re, 3.5, HUMAN), dtype=np.float32)
    k = float(bistatic_echo_per_re_dbm(0.0, 0.0, 0.0, 3.5, HUMAN))
    for fn in (reduce_tile_numpy, reduce_tile_numba):
        red = fn(rsrp, [0, 1], p_re, off, 2, mono=True, mono_required_dbm=-150.0, pair_tx=[0, 1], pair_rx=[0, 1],
                 bi_offset_db=k, bi_required_dbm=-150.0)
        np.testing.assert_allclose(red.bi_echo_dbm, red.mono_echo_dbm, atol=1e-4)
        np.testing.assert_array_equal(red.bi_n_detecting, red.mono_n_detecting)


def test_range_resolution_monostatic_limit_and_forward_scatter():
    pair = np.array([[0, -1]])
    same = np.array([[0.0, 0.0, 25.0]])
    r = bistatic_range_resolution_m(pair, np.array([100.0, 200.0]), np.array([0.0]), same, same, 1.5, 100e6)
    assert float(r[0, 0]) == pytest.approx(C / 2e8) and np.isnan(r[0, 1])
    on_line = bistatic_range_resolution_m(np.zeros((1, 1), int), np.array([100.0]), np.array([0.0]),
                                          np.array([[0.0, 0.0, 1.5]]), np.array([[200.0, 0.0, 1.5]]), 1.5, 100e6)
    assert np.isinf(on_line[0, 0])


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 5), st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_numba_reduction_equals_numpy(n_sites, sectors_per_site, seed):
    rng = np.random.default_rng(seed)
    unit_site = np.repeat(np.arange(n_sites), sectors_per_site)
    rsrp = rng.uniform(-130, -50, (unit_site.size, 3, 5)).astype(np.float32)
    p_re = rng.uniform(5, 20, unit_site.size)
    off = np.asarray(monostatic_echo_per_re_dbm(0.0, p_re, 3.5, HUMAN), dtype=np.float32)
    tx, rx = np.nonzero(~np.eye(n_sites, dtype=bool))
    kw = dict(mono=True, mono_required_dbm=-160.0, pair_tx=tx, pair_rx=rx, bi_offset_db=30.96,
              bi_required_dbm=-170.0)
    a = reduce_tile_numpy(rsrp, unit_site, p_re, off, n_sites, **kw)
    b = reduce_tile_numba(rsrp, unit_site, p_re, off, n_sites, **kw)
    np.testing.assert_array_equal(a.mono_echo_dbm, b.mono_echo_dbm)
    np.testing.assert_array_equal(a.mono_n_detecting, b.mono_n_detecting)
    if tx.size:
        np.testing.assert_array_equal(a.bi_echo_dbm, b.bi_echo_dbm)
        np.testing.assert_array_equal(a.bi_pair, b.bi_pair)
        np.testing.assert_array_equal(a.bi_n_detecting, b.bi_n_detecting)
    # the best pair's echo is the brute-force maximum over unit pairs of different sites
    if tx.size:
        e = [rsrp[u] + (rsrp[v].astype(float) - p_re[v]) + 30.96 for u in range(unit_site.size)
             for v in range(unit_site.size) if unit_site[u] != unit_site[v]]
        np.testing.assert_allclose(a.bi_echo_dbm, np.max(e, axis=0), atol=1e-4)


def test_mode_validation_and_no_pairs():
    s = sensing_of(scenario_dict())
    assert s.mode == "monostatic" and s.modes == ("monostatic",) and s.max_baseline_m == 1000.0
    assert sensing_of(scenario_dict(sensing={"target": "human", "mode": "both"})).modes == ("monostatic", "bistatic")
    with pytest.raises(ScenarioError, match=r"^sensing.mode: Input should be 'monostatic', 'bistatic', 'both' or "
                                            r"'trp_ue', or a list of 'monostatic', 'bistatic', 'trp_ue', "
                                            r"got 'multistatic'"):
        sensing_of(scenario_dict(sensing={"target": "human", "mode": "multistatic"}))
    with pytest.raises(ScenarioError, match=r"^sensing.max_baseline_m: Input should be greater than 0"):
        sensing_of(scenario_dict(sensing={"target": "human", "max_baseline_m": 0.0}))
    far = two_sites(sensing={"target": "human", "mode": "bistatic", "max_baseline_m": 200.0})
    with pytest.raises(ScenarioError, match=r"^sensing.max_baseline_m: no two sites within 200 m for bistatic "
                                            r"sensing \(2 site\(s\); closest pair 300 m\)"):
        run_sense(sensing_of(far), backend="numpy")


def spread_sites(mode, **over):
    """Twenty 3-sector sites over 4 km x 4 km at 50 m pixels (statistical LOS and shadow fading unless
    ``over`` says otherwise)."""
    rng = np.random.default_rng(11)
    sites = [{"site_id": f"S{i}", "x": X0 + float(rng.uniform(100, 3900)), "y": Y0 + float(rng.uniform(100, 3900)),
              "height_m": 25, "sectors": [{"azimuth_deg": a, "tx_power_dbm": 46} for a in (0, 120, 240)]}
             for i in range(20)]
    return scenario_dict(sensing={"target": "human", "mode": mode, "max_baseline_m": 1200.0},
                         area={"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 4000, Y0 + 4000], "resolution_m": 50},
                         sites=sites, **over)


@pytest.mark.parametrize("backend,over,most_kept", [
    ("numba", {"los_mode": "nlos", "shadow_fading": False}, 0.8),
    ("numpy", {"los_mode": "nlos", "shadow_fading": False}, 0.8),
    # statistical LOS and 5-sigma shadow fading: the bounds keep nearly all sites
    pytest.param("numba", {}, 1.0, marks=pytest.mark.slow),
])
def test_pruning_is_exact(monkeypatch, backend, over, most_kept):
    """Per block only the sites whose bound can matter (cellscape.pipeline.sense._pruned_tiles): the
    same maps as every site at every pixel, in both modes; bit for bit without random fields, within
    float32 rounding with them (the fields and the kernel's vector loops on smaller blocks)."""
    import cellscape.pipeline.sense as sense

    monkeypatch.setattr(sense, "PRUNE_BLOCK_PX", 16)
    s = sensing_of(spread_sites("both", **over))
    pruned = run_sense(s, backend=backend)
    full = run_sense(s, backend=backend, prune=False)
    assert pruned.kpis["meta"]["pruned"] and not full.kpis["meta"]["pruned"]
    assert 0.0 < pruned.kpis["meta"]["kept_site_fraction"] <= most_kept
    exact = bool(over)
    for mode in ("monostatic", "bistatic"):
        a, b = pruned.maps[mode], full.maps[mode]
        if exact:
            for name in ("sensing_snr_db", "detection_probability", "n_detecting", "range_resolution_m"):
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=f"{mode} {name}")
            assert a.kpis == b.kpis
        else:
            np.testing.assert_allclose(a.sensing_snr_db, b.sensing_snr_db, atol=1e-4)
            np.testing.assert_allclose(a.detection_probability, b.detection_probability, atol=1e-5)
            assert np.mean(a.n_detecting != b.n_detecting) < 1e-3
            np.testing.assert_allclose(a.range_resolution_m, b.range_resolution_m, rtol=1e-4)


def test_pruning_is_exact_with_geometric_los(monkeypatch):
    """Geometric LOS over random blocks (no shadow fading): pruned per engine block, the same maps."""
    import geopandas as gpd
    import shapely

    import cellscape.pipeline.sense as sense

    def city(scenario, grid):
        rng = np.random.default_rng(4)
        x0, y0, x1, y1 = grid.bounds_m
        boxes = []
        for _ in range(60):
            x, y = rng.uniform(x0, x1 - 150), rng.uniform(y0, y1 - 150)
            boxes.append(shapely.box(x, y, x + rng.uniform(40, 150), y + rng.uniform(40, 150)))
        return gpd.GeoDataFrame({"height_m": rng.uniform(8, 40, len(boxes))}, geometry=boxes, crs=grid.crs)

    monkeypatch.setattr(sense, "load_footprints", city)
    monkeypatch.setattr(sense, "PRUNE_BLOCK_GEOMETRIC_PX", 20)
    s = sensing_of(spread_sites("both", los_mode="geometric", shadow_fading=False,
                                geometry={"los_range_m": 1500.0}, compute={"mem_limit_mb": 4},
                                buildings={"source": "city.gpkg"}))     # never read: load_footprints is replaced
    pruned = run_sense(s, backend="numba")
    full = run_sense(s, backend="numba", prune=False)
    assert pruned.kpis["meta"]["kept_site_fraction"] < 1.0
    assert pruned.kpis["outdoor_area_km2"] < 16.0                   # some pixels under roofs
    for mode in ("monostatic", "bistatic"):
        for name in ("sensing_snr_db", "detection_probability", "n_detecting", "range_resolution_m"):
            np.testing.assert_array_equal(getattr(pruned.maps[mode], name), getattr(full.maps[mode], name),
                                          err_msg=f"{mode} {name}")
