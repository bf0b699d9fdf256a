"""The interference cutoff (cellscape.coverage.cutoff): its bound, the far radius of the spatial
index, and maps equal to the full sum within the bound (best server and its RSRP exactly)."""

import dataclasses
import importlib.util
from pathlib import Path
import warnings

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
import numpy as np
import pytest

from cellscape.coverage import cutoff, engine
from cellscape.coverage.backends._inputs import KernelTile
from cellscape.coverage.engine import _kernel, compute_coverage, cutoff_index, prepare, sector_maps
from cellscape.errors import ScenarioError
from cellscape.pipeline import localize
from cellscape.scenario.model import parse_scenario
from cellscape.scenario.records import (
    DEFAULT_INTERFERENCE_CUTOFF_DB,
    AntennaSpec,
    Area,
    Carrier,
    GeometryOptions,
    Receiver,
    Scenario,
    Sector,
    Site,
)

from .conftest import X0, Y0, small_scenario

HAVE_NUMBA = importlib.util.find_spec("numba") is not None
FAST_BACKEND = "numba" if HAVE_NUMBA else "numpy"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "helsinki.yaml"

SINR_TOL_DB = 1e-4
"""Float32 rounding of the two SINR maps being compared: |SINR| < 100 dB has an ulp < 8e-6 dB."""

FIELD_TOL_DB = 1e-4
"""RSRP difference allowed where shadow fading is on: the cutoff may tile a map in blocks, and the
random fields are float32 matrix products whose rounding depends on the tile's shape (1 ulp of a
field value; any two tilings differ so, see test_engine.test_tiles_give_the_same_map_as_one_block).
Without random fields the RSRP is compared bit for bit."""


def network(n_sites, side_m, resolution_m, *, seed=0, los_mode="nlos", shadow=False, load=1.0, cluster=1.0,
            environment="UMa", cut=DEFAULT_INTERFERENCE_CUTOFF_DB, fc_ghz=3.5, **kw):
    """Random sites of 1 to 3 sectors (positions, heights, azimuths, powers, and antennas/tilts from
    a random palette of three: each gain table costs a run ~0.3 s to build) over a side_m square,
    or over its south-west ``cluster`` fraction."""
    rng = np.random.default_rng(seed)
    sites = []
    h_range = {"UMa": (10.0, 50.0), "UMi": (5.0, 25.0), "RMa": (10.0, 80.0)}[environment]
    palette = [(AntennaSpec(n_rows=int(rng.integers(1, 11))), float(rng.uniform(0.0, 15.0)),
                float(rng.uniform(0.0, 8.0))) for _ in range(3)]
    for i in range(n_sites):
        x, y = X0 + rng.uniform(0.0, cluster) * side_m, Y0 + rng.uniform(0.0, cluster) * side_m
        az0 = rng.uniform(0.0, 360.0)
        kinds = rng.integers(0, 3, 3)
        secs = tuple(Sector(azimuth_deg=(az0 + k * 120.0) % 360.0, tx_power_dbm=float(rng.uniform(20.0, 49.0)),
                            antenna=palette[kinds[k]][0], elec_tilt_deg=palette[kinds[k]][1],
                            mech_tilt_deg=palette[kinds[k]][2])
                     for k in range(int(rng.integers(1, 4))))
        sites.append(Site(site_id=f"S{i}", x=x, y=y, height_m=float(rng.uniform(*h_range)), sectors=secs))
    return Scenario(name="cut", area=Area(bounds=(X0, Y0, X0 + side_m, Y0 + side_m), resolution_m=resolution_m,
                                          crs="EPSG:32635"),
                    carrier=Carrier(fc_ghz=fc_ghz, bandwidth_mhz=100.0, scs_khz=30.0, dl_load_factor=load),
                    sites=tuple(sites), environment=environment, receiver=Receiver(height_m=1.5),
                    los_mode=los_mode, shadow_fading=shadow, seed=seed, interference_cutoff_db=cut, **kw)


def full_and_cut(sc, backend=FAST_BACKEND, **kw):
    grid, xy = localize(sc)
    full = compute_coverage(dataclasses.replace(sc, interference_cutoff_db=None), grid, xy, backend=backend, **kw)
    cut = compute_coverage(sc, grid, xy, backend=backend, **kw)
    return full, cut


def assert_within_bound(full, cut, cutoff_db):
    """Best server and its RSRP those of the full sum; SINR higher by 0 .. cutoff_db."""
    np.testing.assert_array_equal(cut.best_sector, full.best_sector)
    if full.meta["shadow_fading"]:
        np.testing.assert_allclose(cut.rsrp_dbm, full.rsrp_dbm, rtol=0, atol=FIELD_TOL_DB)
    else:
        np.testing.assert_array_equal(cut.rsrp_dbm, full.rsrp_dbm)
    diff = cut.sinr_db.astype(float) - full.sinr_db.astype(float)
    assert diff.min() >= -SINR_TOL_DB
    assert diff.max() <= cutoff_db + SINR_TOL_DB
    assert diff.max() <= cut.meta["interference_cutoff"]["sinr_error_bound_db"] + SINR_TOL_DB


# ------------------------------------------------------------------------------------------ the bound


def test_error_bound_of_n_sectors_below_noise():
    # N dropped sectors each m dB under the noise: 10 log10(1 + N 10^(-m/10)) (the issue's form)
    noise = 1e-12
    for n, m in ((1, 16.33), (300, 41.1), (10_000, 56.5)):
        dropped = n * noise * 10 ** (-m / 10)
        assert cutoff.sinr_error_bound_db(dropped, noise, 1.0) == pytest.approx(10 * np.log10(1 + n * 10 ** (-m / 10)))
    # the budget is the inverse of the bound, for any load factor (L < MIN_LOAD: looser)
    for x, load in ((0.1, 1.0), (0.01, 0.3), (1.0, 0.7)):
        b = cutoff.dropped_budget_mw(x, noise, load)
        assert cutoff.sinr_error_bound_db(b, noise, load) == pytest.approx(x, rel=1e-12)
    assert cutoff.sinr_error_bound_db(cutoff.dropped_budget_mw(0.1, noise, 0.0), noise, 0.0) == 0.0
    with pytest.raises(ValueError, match="cutoff_db must be > 0"):
        cutoff.dropped_budget_mw(0.0, noise, 1.0)


def test_sinr_error_never_exceeds_the_noise_bound():
    # inequality (1) of the module docstring, on random powers: 0 <= error <= 10 log10(1 + L D / N)
    rng = np.random.default_rng(3)
    s, i_k, d, n = (10 ** rng.uniform(-16, -6, 10_000) for _ in range(4))
    load = rng.uniform(0, 1, 10_000)
    err = 10 * np.log10((s / (load * i_k + n)) / (s / (load * (i_k + d) + n)))
    assert err.min() >= 0.0
    assert np.all(err <= cutoff.sinr_error_bound_db(d, n, load) + 1e-12)


def worst_case_tile(run, x_m, y_m, *, los: bool, z: float = -cutoff.SF_BOUND_SIGMA, los_range_m=None):
    """A tile whose random fields are the worst the bound allows: every link LOS (where the
    LOS probability is > 0) or NLOS, shadow fading at -5 sigma (gain), no building loss."""
    n = run.static.n_sites
    shape = (n, y_m.size, x_m.size)
    nu = None
    if run.static.los_mode == 3:
        d = np.hypot(x_m[None, None, :] - run.static.site_x_m[:, None, None],
                     y_m[None, :, None] - run.static.site_y_m[:, None, None])
        # the march: LOS (nu < 0, here at nu_min where the Bullington factor is largest) within range
        nu = np.where(d <= los_range_m, run.static.diff_nu_min if los else 1e-3, 1e30).astype(np.float32)
    sf = np.full(shape, z, np.float32) if run.fields.sf_own is not None else None    # None: no shadowing
    return KernelTile(x_m=x_m, y_m=y_m, los_uniform=np.full(shape, 0.0 if los else 1.0, np.float32),
                      sf_unit=sf, o2i_db=np.zeros(shape[1:], np.float32), nu=nu)


@pytest.mark.parametrize("los_mode", ["statistical", "los", "nlos", "geometric"])
def test_tile_bound_covers_the_kernel_at_its_worst(backend, los_mode):
    # every sector's received power anywhere in a tile, with the worst fields the bound allows,
    # is below its bound: per site the largest sector, and the sum of the sectors' maxima
    sc = network(6, 30_000.0, 500.0, seed=11, los_mode="statistical" if los_mode == "geometric" else los_mode,
                 shadow=True)
    grid, xy = localize(sc)
    run = prepare(sc, grid, xy)
    los_range = None
    if los_mode == "geometric":
        # a geometric run's kernel inputs, without buildings: the march is replaced by worst_case_tile
        from cellscape.coverage import tables
        los_range = 4000.0
        t = tables.diffraction_table(2000.0)
        geo_static = dataclasses.replace(run.static, los_mode=3, use_diffraction=True, diff_nu_min=t.nu_min,
                                         diff_nu_step=t.nu_step, diff_gain_lin=t.gain_lin)
        run = dataclasses.replace(run, static=geo_static)
        index = cutoff.build_index(geo_static, cutoff_db=0.1, site_group=np.arange(6), shadow_fading=True,
                                   los_mode="geometric", los_range_m=los_range)
    else:
        index = cutoff_index(run, 0.1)
    kernel = _kernel(backend)
    checked = 0
    for r0, c0 in ((0, 0), (20, 35), (40, 40), (10, 52)):
        x, y = grid.x_centers_m()[c0:c0 + 8], grid.y_centers_m()[r0:r0 + 8]
        total, peak = cutoff.site_bounds_mw(index, np.arange(6), x, y)
        for los in (True, False):
            out = kernel(run.static, worst_case_tile(run, x, y, los=los, los_range_m=los_range), per_sector_rsrp=True)
            p = 10 ** (out.sector_rsrp_dbm.astype(float) / 10)                  # (n_sectors, rows, cols)
            per_sector = p.reshape(p.shape[0], -1).max(axis=1)
            site = run.static.sector_site
            assert np.all(per_sector <= peak[site])
            assert np.all(np.bincount(site, weights=per_sector, minlength=6) <= total)
            checked += 1
    assert checked == 8


@pytest.mark.parametrize("los_mode,shadow", [("nlos", False), ("los", False), ("nlos", True)])
def test_the_far_field_bounds_every_site_beyond_the_far_radius(backend, los_mode, shadow):
    # per 40 x 40 block: the sites beyond the block's far radius deliver together at most the far
    # charge at every pixel, each at most the far single bound, and the charge fits its share
    # (worst fields: LOS or NLOS everywhere, SF at -5 sigma)
    sc = network(40, 160_000.0, 1000.0, seed=4, los_mode=los_mode, shadow=shadow, cluster=0.25)
    grid, xy = localize(sc)
    run = prepare(sc, grid, xy)
    index = cutoff_index(run, 0.1)
    x, y = grid.x_centers_m(), grid.y_centers_m()
    out = _kernel(backend)(run.static, worst_case_tile(run, x, y, los=los_mode == "los"), per_sector_rsrp=True)
    p = 10 ** (out.sector_rsrp_dbm.astype(float) / 10)
    site_p = np.zeros((run.static.n_sites,) + p.shape[1:])
    np.add.at(site_p, run.static.sector_site, p)
    checked = 0
    for r0 in range(0, y.size, 40):
        for c0 in range(0, x.size, 40):
            xs, ys = x[c0:c0 + 40], y[r0:r0 + 40]
            r, charge, single = cutoff.far_radius(index, xs, ys)
            assert charge <= cutoff.FAR_BUDGET_SHARE * index.budget_mw
            centre = (0.5 * (xs[0] + xs[-1]), 0.5 * (ys[0] + ys[-1]))
            far = np.hypot(xy[:, 0] - centre[0], xy[:, 1] - centre[1]) > r
            if far.any():
                block = site_p[far][:, r0:r0 + 40, c0:c0 + 40]
                assert block.sum(axis=0).max() <= charge
                assert block.max() <= single
                checked += 1
    assert checked > 5


def test_bounds_are_conservative_for_far_links_with_the_los_law():
    # statistical LOS: a far link may be LOS (TR 38.901 LOS probability > 0 at any distance), so
    # the bound keeps the LOS law and the far field's envelope is at least the NLOS one everywhere
    nlos = cutoff_index(prepare(*_prep(network(4, 40_000.0, 1000.0, los_mode="nlos"))), 0.1)
    stat = cutoff_index(prepare(*_prep(network(4, 40_000.0, 1000.0, los_mode="statistical"))), 0.1)
    assert np.all(stat.far.site_bound_mw >= nlos.far.site_bound_mw)
    assert np.any(stat.far.site_bound_mw > 10 * nlos.far.site_bound_mw)


def _prep(sc):
    grid, xy = localize(sc)
    return sc, grid, xy


# ------------------------------------------------------------------------------------------ maps


def test_wide_network_drops_sites_and_keeps_the_map_within_the_bound(backend):
    sc = network(60, 80_000.0, 500.0, seed=2)
    full, cut = full_and_cut(sc, backend=backend)
    info = cut.meta["interference_cutoff"]
    assert info["cutoff_db"] == 0.1 and info["kept_site_fraction"] < 0.6      # not vacuous
    assert full.meta["interference_cutoff"] == {"cutoff_db": None}
    assert_within_bound(full, cut, 0.1)
    assert np.max(cut.sinr_db - full.sinr_db) > 0.0                            # something was left out


def test_best_server_stays_exact_where_every_sector_is_below_the_noise():
    # sites in one corner of a wide map: far pixels get every sector far under the noise, where a
    # dropped sector could be the strongest; the engine widens those tiles (best server exact)
    sc = network(40, 120_000.0, 1000.0, seed=9, cluster=0.5, los_mode="nlos")
    full, cut = full_and_cut(sc)
    info = cut.meta["interference_cutoff"]
    assert info["tiles_widened"] > 0 and info["pixels_widened"] > 0
    assert info["kept_site_fraction"] < 1.0
    assert_within_bound(full, cut, 0.1)
    noise_dbm = 10 * np.log10(prepare(*_prep(sc)).static.noise_mw)
    assert np.min(full.rsrp_dbm) < noise_dbm - 20.0                             # such pixels exist


def test_zero_load_and_small_cutoff():
    for load, cut_db in ((0.0, 0.1), (0.5, 0.01), (1.0, 3.0)):
        sc = network(30, 60_000.0, 600.0, seed=5, load=load, cut=cut_db)
        full, cut = full_and_cut(sc)
        assert_within_bound(full, cut, cut_db)


def test_geometric_wide_map_within_the_bound():
    # geometric LOS over buildings: beyond los_range_m links are NLOS (not marched), so far sites drop
    import geopandas as gpd
    import shapely

    sc = network(40, 80_000.0, 400.0, seed=6, los_mode="geometric",
                 geometry=GeometryOptions(los_range_m=1500.0, diffraction="bullington"))
    grid, xy = localize(sc)
    rng = np.random.default_rng(1)
    x0, y0, x1, y1 = grid.bounds_m
    boxes = [shapely.box(x, y, x + 150.0, y + 150.0)
             for x, y in zip(rng.uniform(x0, x1, 400), rng.uniform(y0, y1, 400))]
    b = gpd.GeoDataFrame({"height_m": rng.uniform(8.0, 40.0, 400)}, geometry=boxes, crs=grid.crs)
    full, cut = full_and_cut(sc, footprints=b)
    assert cut.meta["interference_cutoff"]["kept_site_fraction"] < 0.9
    assert_within_bound(full, cut, 0.1)
    # the LOS statistics count the links within the LOS range: no dropped site has any
    assert cut.los_statistics == full.los_statistics


def test_city_maps_are_bit_identical_with_the_default(backend):
    # a 1.2 km map: every site's far radius covers it, nothing is left out, the tiling is the same
    for kw in (dict(los_mode="statistical", shadow=True, n_sites=4), dict(los_mode="nlos", n_sites=3)):
        sc = small_scenario(**kw)
        assert sc.interference_cutoff_db == DEFAULT_INTERFERENCE_CUTOFF_DB == 0.1
        full, cut = full_and_cut(sc, backend=backend)
        for a, b in ((full.rsrp_dbm, cut.rsrp_dbm), (full.sinr_db, cut.sinr_db), (full.best_sector, cut.best_sector)):
            np.testing.assert_array_equal(a, b)
        assert cut.meta["interference_cutoff"]["kept_site_fraction"] == 1.0
        assert cut.meta["n_tiles"] == full.meta["n_tiles"]


def test_helsinki_example_is_unchanged():
    # the built-in example (geometric LOS over the OSM buildings, 12 sites), at 10 m pixels to stay
    # fast: the default cutoff gives the full sum's maps bit for bit (nothing can be left out)
    from cellscape.io.scenario_yaml import load_scenario
    from cellscape.pipeline import run_coverage

    sc = load_scenario(EXAMPLE)
    sc = dataclasses.replace(sc, area=dataclasses.replace(sc.area, resolution_m=10.0))
    assert sc.interference_cutoff_db == 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # the OSM extract's repaired polygons (tested in test_pipeline)
        cut = run_coverage(sc).result
        full = run_coverage(dataclasses.replace(sc, interference_cutoff_db=None)).result
    assert cut.meta["interference_cutoff"]["kept_site_fraction"] == 1.0
    np.testing.assert_array_equal(cut.rsrp_dbm, full.rsrp_dbm)
    np.testing.assert_array_equal(cut.sinr_db, full.sinr_db)
    np.testing.assert_array_equal(cut.best_sector, full.best_sector)
    assert cut.los_statistics == full.los_statistics


def test_sector_maps_keep_every_sector():
    # the simulator's per-sector maps are the full sum whatever the cutoff (documented in sector_maps)
    sc = network(30, 60_000.0, 1000.0, seed=5)
    grid, xy = localize(sc)
    a = sector_maps(sc, grid, xy, backend=FAST_BACKEND)
    b = sector_maps(dataclasses.replace(sc, interference_cutoff_db=None), grid, xy, backend=FAST_BACKEND)
    assert np.isfinite(a.rsrp_dbm).all()
    np.testing.assert_array_equal(a.rsrp_dbm, b.rsrp_dbm)


def test_tile_cache_with_the_cutoff():
    from cellscape.coverage.engine import TileCache

    sc = network(40, 60_000.0, 500.0, seed=8)
    grid, xy = localize(sc)
    cache = TileCache()
    first = compute_coverage(sc, grid, xy, backend=FAST_BACKEND, tile_cache=cache)
    again = compute_coverage(sc, grid, xy, backend=FAST_BACKEND, tile_cache=cache)
    fresh = compute_coverage(sc, grid, xy, backend=FAST_BACKEND)
    assert first.meta["interference_cutoff"]["kept_site_fraction"] < 1.0
    for r in (again, first):
        np.testing.assert_array_equal(r.sinr_db, fresh.sinr_db)
        np.testing.assert_array_equal(r.best_sector, fresh.best_sector)


# ------------------------------------------------------------------------------------------ property


@st.composite
def random_networks(draw):
    # wide maps and deterministic LOS states more often than not: there the cutoff leaves sites out
    # (with statistical LOS or shadow fading it rarely can, see the module docstring of cutoff)
    side = draw(st.sampled_from([20_000.0, 60_000.0, 150_000.0]))
    n_px = draw(st.integers(40, 100))
    return network(
        draw(st.integers(2, 30)), side, side / n_px, seed=draw(st.integers(0, 10_000)),
        los_mode=draw(st.sampled_from(["nlos", "nlos", "los", "statistical"])),
        shadow=draw(st.sampled_from([False, False, True])),
        load=draw(st.sampled_from([0.0, 0.3, 1.0])), cluster=draw(st.sampled_from([0.05, 0.3, 1.0])),
        environment=draw(st.sampled_from(["UMa", "UMi", "RMa"])), cut=draw(st.sampled_from([0.01, 0.1, 1.0])),
        fc_ghz=draw(st.sampled_from([0.7, 3.5, 6.0])))


def _check_random_network(sc, backend):
    # small blocks whatever the tiling heuristic says (it only weighs speed): every tile selects
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "CUTOFF_BLOCKS_MIN_SAVING", -1.0)
        mp.setattr(engine, "CUTOFF_BLOCK_SIDE_M", 1.0)
        mp.setattr(engine, "CUTOFF_BLOCK_MIN_PX", 16)
        full, cut = full_and_cut(sc, backend=backend)
    assert_within_bound(full, cut, sc.interference_cutoff_db)
    info = cut.meta["interference_cutoff"]
    event("sites left out" if info["kept_site_fraction"] < 1.0 else "nothing left out")
    event("tiles widened" if info["tiles_widened"] else "no tile widened")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_networks())
def test_random_networks_match_the_full_sum_within_the_bound(sc):
    _check_random_network(sc, FAST_BACKEND)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_networks(), st.sampled_from(["numpy", FAST_BACKEND]))
def test_random_networks_match_the_full_sum_within_the_bound_long(sc, backend):
    _check_random_network(sc, backend)


# ------------------------------------------------------------------------------------------ option


def _mapping(**compute):
    data = {"name": "x", "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 1000, Y0 + 1000], "resolution_m": 10},
            "carrier": {"fc_ghz": 3.5},
            "sites": [{"site_id": "A", "x": X0 + 500, "y": Y0 + 500, "height_m": 25, "sectors": [{"azimuth_deg": 0}]}]}
    if compute:
        data["compute"] = compute
    return data


def test_scenario_option():
    assert parse_scenario(_mapping()).interference_cutoff_db == 0.1
    assert parse_scenario(_mapping(interference_cutoff_db=None)).interference_cutoff_db is None
    assert parse_scenario(_mapping(interference_cutoff_db=0.5)).interference_cutoff_db == 0.5
    with pytest.raises(ScenarioError, match=r"compute.interference_cutoff_db: Input should be less than or equal to 3"):
        parse_scenario(_mapping(interference_cutoff_db=5))
    with pytest.raises(ScenarioError, match=r"compute.interference_cutoff_db: Input should be greater than 0"):
        parse_scenario(_mapping(interference_cutoff_db=0))


@pytest.fixture(scope="module")
def two_patterns():
    """Gain tables (linear) of the default TR 38.901 sector at two tilts, as the engine holds them."""
    from cellscape.coverage import tables
    from cellscape.scenario.records import AntennaSpec

    g = [tables.gain_table_dbi(AntennaSpec(), 0.0, tilt) for tilt in (6.0, 12.0)]
    return 10.0 ** (np.stack(g).astype(float) / 10.0)


def _interpolated_sum(gain, sec_pattern, sec_p, sec_bearing, theta_deg, phi_deg):
    """The kernel's bilinear gain of each sector towards (theta, phi) [deg], weighted and summed."""
    out = np.zeros(np.shape(phi_deg))
    t = np.asarray(theta_deg) / tables_theta_step()
    kt = np.minimum(t.astype(int), gain.shape[1] - 2)
    tf = t - kt
    for pat, p, bearing in zip(sec_pattern, sec_p, sec_bearing):
        rel = np.mod(np.asarray(phi_deg) - bearing + 180.0, 360.0)
        ph = rel / 0.5
        kp = np.minimum(ph.astype(int), gain.shape[2] - 2)
        pf = ph - kp
        lo = gain[pat, kt, kp] + (gain[pat, kt, kp + 1] - gain[pat, kt, kp]) * pf
        hi = gain[pat, kt + 1, kp] + (gain[pat, kt + 1, kp + 1] - gain[pat, kt + 1, kp]) * pf
        out += p * (lo + (hi - lo) * tf)
    return out


def tables_theta_step():
    from cellscape.coverage import tables

    return tables.THETA_STEP_DEG


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31 - 1), n_sec=st.integers(1, 4))
def test_a_sites_gain_sum_bounds_every_direction_and_beats_the_sum_of_peaks(two_patterns, seed, n_sec):
    """site_gain_sum_mw >= the kernel's interpolated sum over the site's sectors towards any direction
    (100,000 random directions and the grid of the sectors' boresights), and <= the sum of the peaks."""
    rng = np.random.default_rng(seed)
    pattern = rng.integers(0, 2, n_sec)
    p_re = rng.choice([1.0, 2.5], n_sec)
    bearing = rng.uniform(-400.0, 400.0, n_sec)
    bound = cutoff.site_gain_sum_mw(two_patterns, 0.5, np.zeros(n_sec, dtype=int), pattern, p_re, bearing, 1)[0]
    theta = np.concatenate([rng.uniform(0.0, 180.0, 100_000), np.full(n_sec * 41, 96.0)])
    phi = np.concatenate([rng.uniform(-180.0, 180.0, 100_000),
                          (bearing[:, None] + np.linspace(-1.0, 1.0, 41)[None, :]).ravel()])
    seen = _interpolated_sum(two_patterns, pattern, p_re, bearing, theta, phi)
    assert np.max(seen) <= bound
    peaks = np.max(two_patterns.reshape(2, -1), axis=1)
    assert bound <= np.sum(p_re * peaks[pattern]) * (1.0 + 1e-6)
    if n_sec == 3:
        event("3 sectors")


def test_three_sectors_a_third_apart_sum_to_about_one_peak(two_patterns):
    """The usual site: 3 sectors at 120 deg of the TR 38.901 element: the bound is ~1.0 x the peak
    (the sum of peaks, the bound before, is 3 x)."""
    bound = cutoff.site_gain_sum_mw(two_patterns, 0.5, [0, 0, 0], [0, 0, 0], [1.0, 1.0, 1.0],
                                    [30.0, 150.0, 270.0], 1)[0]
    peak = float(np.max(two_patterns[0]))
    assert 1.0 <= bound / peak < 1.1
