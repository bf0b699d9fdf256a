"""The map engine against direct calls of the models, across backends and tilings."""

import numpy as np
import pytest
import shapely

from cellscape.antenna.sector import sector_gain_dbi
from cellscape.coverage import tables
from cellscape.coverage.engine import compute_coverage
from cellscape.errors import InvalidChoiceError
from cellscape.pipeline import localize
from cellscape.propagation import tr38901
from cellscape.propagation.o2i import o2i_building_loss_db
from cellscape.radio.link_budget import noise_per_re_dbm, tx_power_per_re_dbm
from cellscape.scenario.records import AntennaSpec



def direct_maps(sc):
    """Best-server RSRP/SINR computed pixel by pixel from the model functions (no lookup tables)."""
    grid, xy = localize(sc)
    x = grid.x_centers_m()[None, :]
    y = grid.y_centers_m()[:, None]
    n_prb = 273
    rsrp = []
    for i, site in enumerate(sc.sites):
        dx, dy = x - xy[i, 0], y - xy[i, 1]
        d2d = np.hypot(dx, dy)
        pl = tr38901.path_loss_db("UMa", np.maximum(d2d, 10.0), site.height_m, 1.5, 3.5, sc.los_mode == "los",
                                  out_of_range="extrapolate")
        theta = np.degrees(np.arctan2(d2d, 1.5 - site.height_m))
        phi = np.degrees(np.arctan2(dy, dx))
        for sec in site.sectors:
            g = sector_gain_dbi(theta, phi, azimuth_deg=sec.azimuth_deg, elec_tilt_deg=sec.elec_tilt_deg,
                                antenna=sec.antenna)
            rsrp.append(tx_power_per_re_dbm(sec.tx_power_dbm, n_prb) + g - pl)
    rsrp = np.stack(rsrp)
    mw = 10 ** (rsrp / 10)
    best = rsrp.argmax(axis=0)
    s = mw.max(axis=0)
    noise = 10 ** (noise_per_re_dbm(30.0, 9.0) / 10)
    return rsrp.max(axis=0), 10 * np.log10(s / (sc.carrier.dl_load_factor * (mw.sum(0) - s) + noise)), best


@pytest.mark.parametrize("los_mode", ["los", "nlos"])
def test_engine_matches_direct_model_calls(backend, los_mode, make_scenario):
    # Tolerance: distance tables err < 0.002 dB, linear antenna tables < 0.05 dB within 10 dB of the
    # peak (0.1 deg x 0.5 deg grid), float32 outputs ~1e-5 dB; observed max 0.05 dB at pixels where
    # the vertical pattern of the serving site has a null: 0.1 dB everywhere, 0.02 dB at p99.5.
    sc = make_scenario(los_mode=los_mode)
    grid, xy = localize(sc)
    res = compute_coverage(sc, grid, xy, backend=backend)
    rsrp, sinr, best = direct_maps(sc)
    err = np.abs(res.rsrp_dbm - rsrp)
    assert np.percentile(err, 99.5) < 0.02 and err.max() < 0.1
    assert np.percentile(np.abs(res.sinr_db - sinr), 99) < 0.1
    assert np.mean(res.best_sector == best) > 0.995
    assert res.rsrp_dbm.dtype == np.float32 and res.best_sector.dtype == np.int32


def test_backends_agree_with_random_fields(make_scenario):
    sc = make_scenario(los_mode="statistical", shadow=True, n_sites=4)
    grid, xy = localize(sc)
    a = compute_coverage(sc, grid, xy, backend="numpy")
    b = compute_coverage(sc, grid, xy, backend="numba")
    np.testing.assert_allclose(a.rsrp_dbm, b.rsrp_dbm, atol=2e-3)
    np.testing.assert_allclose(a.sinr_db, b.sinr_db, atol=2e-3)
    assert np.mean(a.best_sector == b.best_sector) > 0.999


def test_tiles_give_the_same_map_as_one_block(backend, make_scenario):
    # tiles are a pure function of scenario, window and seed: any tiling, same numbers (no seams)
    sc = make_scenario(los_mode="statistical", shadow=True)
    grid, xy = localize(sc)
    one = compute_coverage(sc, grid, xy, backend=backend, mem_limit_mb=1e4)
    many = compute_coverage(sc, grid, xy, backend=backend, mem_limit_mb=0.01)
    assert one.meta["n_tiles"] == 1 and many.meta["n_tiles"] > 10
    np.testing.assert_allclose(one.rsrp_dbm, many.rsrp_dbm, atol=1e-3)
    np.testing.assert_array_equal(one.best_sector, many.best_sector)


def test_same_seed_same_map_other_seed_other_map(make_scenario):
    sc = make_scenario(los_mode="statistical", shadow=True)
    grid, xy = localize(sc)
    a = compute_coverage(sc, grid, xy, backend="numpy")
    b = compute_coverage(sc, grid, xy, backend="numpy")
    c = compute_coverage(make_scenario(los_mode="statistical", shadow=True, seed=6), grid, xy, backend="numpy")
    np.testing.assert_array_equal(a.rsrp_dbm, b.rsrp_dbm)
    assert np.mean(np.abs(a.rsrp_dbm - c.rsrp_dbm)) > 1.0


def test_single_isotropic_site_hand_computed(make_scenario):
    # one omni site, no interference: RSRP = P_tx - 10log10(12*273) + G - PL(d), SINR = RSRP - N_RE
    sc = make_scenario(n_sites=1, antenna=AntennaSpec(model="isotropic", max_gain_dbi=0.0), los_mode="los")
    grid, xy = localize(sc)
    res = compute_coverage(sc, grid, xy, backend="numpy")
    r, c = 7, 93
    d = np.hypot(grid.x_centers_m()[c] - xy[0, 0], grid.y_centers_m()[r] - xy[0, 1])
    pl = tr38901.uma_los_path_loss_db(d, 25.0, 1.5, 3.5)
    expected = 46.0 - 10 * np.log10(12 * 273) - pl
    assert res.rsrp_dbm[r, c] == pytest.approx(expected, abs=0.01)
    # three co-located isotropic sectors: the two others interfere at equal power -> SINR ~ -3 dB
    assert res.sinr_db[r, c] == pytest.approx(-10 * np.log10(2.0), abs=0.05)


def test_zero_load_gives_snr(make_scenario):
    sc = make_scenario(load=0.0)
    grid, xy = localize(sc)
    res = compute_coverage(sc, grid, xy, backend="numpy")
    noise = noise_per_re_dbm(30.0, 9.0)
    np.testing.assert_allclose(res.sinr_db, res.rsrp_dbm - noise, atol=1e-3)


def test_indoor_pixels_get_o2i_loss(backend, make_scenario):
    sc = make_scenario(n_sites=1, los_mode="nlos")
    grid, xy = localize(sc)
    x0, y1, r = grid.x_min_m, grid.y_max_m, grid.resolution_m
    box = shapely.box(x0 + 20 * r, y1 - 60 * r, x0 + 60 * r, y1 - 20 * r)
    out = compute_coverage(sc, grid, xy, backend=backend)
    ind = compute_coverage(sc, grid, xy, backend=backend, footprints=np.array([box]))
    assert ind.indoor.sum() == 40 * 40
    # the pixel at the centre of the 400 m box: 195 m from the walls, d_in capped at 25 m
    drop = out.rsrp_dbm[40, 40] - ind.rsrp_dbm[40, 40]
    assert drop == pytest.approx(float(o2i_building_loss_db(3.5, 25.0, model="low")), abs=1e-3)
    assert np.all(out.rsrp_dbm[~ind.indoor] == ind.rsrp_dbm[~ind.indoor])


def test_distance_tables_interpolate_within_bound():
    t = tables.distance_tables(["UMa", "UMi"], [25.0, 10.0], h_ut_m=1.5, fc_ghz=3.5, max_d2d_m=8000.0)
    d = np.random.default_rng(0).uniform(10.0, 8000.0, 5000)
    u = np.sqrt(d) / t.u_step
    k = u.astype(int)
    f = u - k
    for i, (env, h) in enumerate([("UMa", 25.0), ("UMi", 10.0)]):
        for los, tab in ((True, t.pl_los_db), (False, t.pl_nlos_db)):
            interp = tab[i, k] + (tab[i, k + 1] - tab[i, k]) * f
            exact = tr38901.path_loss_db(env, d, h, 1.5, 3.5, los, out_of_range="extrapolate")
            assert np.max(np.abs(interp - exact)) < 0.01


def test_gain_table_matches_model_in_main_lobe():
    ant = AntennaSpec(n_rows=10, row_spacing_wavelengths=0.5)
    tab = 10 ** (tables.gain_table_dbi(ant, 2.0, 8.0) / 10)      # the kernels read linear gain
    rng = np.random.default_rng(1)
    th = rng.uniform(60, 150, 4000)
    ph = rng.uniform(-179, 179, 4000)
    ti, pi_ = th / tables.THETA_STEP_DEG, (ph + 180) / tables.PHI_STEP_DEG
    t0, p0 = ti.astype(int), pi_.astype(int)
    tf, pf = ti - t0, pi_ - p0
    lo = tab[t0, p0] + (tab[t0, p0 + 1] - tab[t0, p0]) * pf
    hi = tab[t0 + 1, p0] + (tab[t0 + 1, p0 + 1] - tab[t0 + 1, p0]) * pf
    interp = 10 * np.log10(lo + (hi - lo) * tf)
    exact = sector_gain_dbi(th, ph, azimuth_deg=90.0, mech_tilt_deg=2.0, elec_tilt_deg=8.0, antenna=ant)
    main = exact > exact.max() - 10.0
    assert main.sum() > 100
    assert np.max(np.abs(interp - exact)[main]) < 0.05


def test_unknown_backend_lists_choices(make_scenario):
    sc = make_scenario()
    grid, xy = localize(sc)
    with pytest.raises(InvalidChoiceError, match=r"backend='gpu' is not one of 'numpy', 'numba'"):
        compute_coverage(sc, grid, xy, backend="gpu")


def test_indoor_factory_tables_are_finite_at_zero_distance():
    # InF with the UT level with the antenna: d3D would be 0 at d2D = 0; the table holds d3D >= 1 m
    t = tables.distance_tables(["InF-SL", "InH-office-mixed"], [1.5, 3.0], h_ut_m=1.5, fc_ghz=28.0, max_d2d_m=300.0)
    assert np.isfinite(t.pl_los_db).all() and np.isfinite(t.pl_nlos_db).all()
    assert t.d2d_min_m[0] == pytest.approx(1.0)
