"""Mode "background" of the interference cutoff (cellscape.coverage.background): the raster is the
direct sum, every site enters a pixel once (kept, dropped near, or in the raster), the expected path
gain is TR 38.901's, the map is close to the full sum with far fewer sites, and national blocks give
the whole network's tiles."""

from dataclasses import replace
import importlib.util

import numpy as np
import pytest

from cellscape.coverage import background as bgm
from cellscape.coverage import cutoff
from cellscape.coverage.cutoff import _example_static, lognormal_mean_factor
from cellscape.coverage.engine import CoverageTiles, compute_coverage
from cellscape.errors import ScenarioError
from cellscape.pipeline import localize
from cellscape.scenario.model import parse_scenario

from .test_cutoff import _mapping

needs_numba = pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="the numba kernel")

_spec = importlib.util.spec_from_file_location("_national_helpers", __file__.replace("coverage/test_background.py",
                                                                                       "test_national.py"))
_tn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tn)


def _static(xs, ys, p_re_mw=10.0):
    """The doctests' one-row isotropic UMa NLOS static with one sector per site at (xs, ys)."""
    st = _example_static()
    n = len(xs)
    return replace(st, site_x_m=np.asarray(xs, float), site_y_m=np.asarray(ys, float), sector_site=np.arange(n),
                   sector_bearing_deg=np.zeros(n), sector_pattern=np.zeros(n, np.int64),
                   sector_p_re_mw=np.full(n, p_re_mw), table_rows=np.zeros(n, np.int64))


XS = [0.0, 2500.0, -7500.0, 12000.0, 500.0, 250.0]
YS = [0.0, 5000.0, 2500.0, -3000.0, 250.0, -1750.0]


def test_raster_is_the_direct_sum_for_sites_on_its_lattice():
    st = _static(XS, YS)
    model = bgm.background_model(st, r0_m=1000.0, shadow_fading=False, los_mode="nlos")
    kind, rep = bgm.sector_kinds(st)
    r = bgm.build_raster(model, st, rep, XS, YS, kind, (-2000.0, -2000.0, 3000.0, 1000.0), reach_m=1e9)
    cx = r.x0_m + np.arange(r.values_mw.shape[1]) * r.cell_m
    cy = r.y0_m + np.arange(r.values_mw.shape[0]) * r.cell_m
    gx, gy = np.meshgrid(cx, cy)
    d = np.hypot(gx[None] - np.array(XS)[:, None, None], gy[None] - np.array(YS)[:, None, None])
    direct = np.sum(bgm.taper(d, 1000.0) * bgm.mean_sector_power_mw(model, st, np.arange(len(XS)), d), axis=0)
    np.testing.assert_allclose(r.values_mw, direct, rtol=1e-9)
    # a site within r0 of a cell adds nothing there; the raster interpolates between its cells
    assert r.cell_m == 250.0
    mid = r.at([r.x0_m + 125.0], [r.y0_m])
    np.testing.assert_allclose(mid[0, 0], 0.5 * (r.values_mw[0, 0] + r.values_mw[0, 1]), rtol=1e-12)


def test_reach_leaves_out_far_sites():
    st = _static(XS, YS)
    model = bgm.background_model(st, r0_m=1000.0, shadow_fading=False, los_mode="nlos")
    kind, rep = bgm.sector_kinds(st)
    near = bgm.build_raster(model, st, rep, XS, YS, kind, (0.0, 0.0, 0.0, 0.0), reach_m=6000.0)
    only = [i for i in range(len(XS)) if np.hypot(XS[i], YS[i]) <= 6000.0]
    d = np.hypot(np.array(XS)[only], np.array(YS)[only])
    want = np.sum(bgm.taper(d, 1000.0) * bgm.mean_sector_power_mw(model, st, np.array(only), d))
    np.testing.assert_allclose(near.values_mw[0, 0], want, rtol=1e-9)


def test_every_site_enters_the_background_once():
    """Isotropic sectors (f = f̄), sites on the raster's lattice: BG at each pixel is exactly the sum of
    the expected powers of every site not kept, whether it is near (dropped) or far (raster)."""
    st = _static(XS, YS)
    model = bgm.background_model(st, r0_m=1000.0, shadow_fading=False, los_mode="nlos")
    kind, rep = bgm.sector_kinds(st)
    x = np.arange(-1000.0, 1000.0, 250.0)           # pixels on the raster's cell centres (no interpolation)
    y = np.arange(-750.0, 750.0, 250.0)
    model = replace(model, raster=bgm.build_raster(model, st, rep, XS, YS, kind, (x[0], y[0], x[-1], y[-1]),
                                                   reach_m=1e9))
    kept, dropped = np.array([0, 5]), np.array([1, 4])        # 2 and 3 are beyond 2 r0 + the half diagonal
    bg = bgm.tile_background_mw(model, st, kept, dropped, x, y, step_px=1)
    gx, gy = np.meshgrid(x, y)
    rest = np.array([1, 2, 3, 4])
    d = np.hypot(gx[None] - np.array(XS)[rest, None, None], gy[None] - np.array(YS)[rest, None, None])
    want = np.sum(bgm.mean_sector_power_mw(model, st, rest, d), axis=0)
    np.testing.assert_allclose(bg, want, rtol=1e-6)
    # nothing kept, nothing near: the raster alone, which holds every site
    everything = bgm.tile_background_mw(model, st, np.zeros(0, np.int64), np.arange(6), x, y, step_px=1)
    d = np.hypot(gx[None] - np.array(XS)[:, None, None], gy[None] - np.array(YS)[:, None, None])
    np.testing.assert_allclose(everything, np.sum(bgm.mean_sector_power_mw(model, st, np.arange(6), d), axis=0),
                               rtol=1e-6)


def test_expected_gain_is_the_tr38901_mixture():
    """E[g] = p g_LOS m_LOS + (1 - p) g_NLOS m_NLOS at a node, m = exp((sigma ln10 / 10)^2 / 2)."""
    st = _static([0.0], [0.0])
    k = 400                                                   # node k: d = (k u_step)^2 = 400 m
    p = 0.3
    st = replace(st, p_los=np.full_like(st.p_los, p), sf_std_los_db=np.full_like(st.p_los, 4.0),
                 sf_std_nlos_db=np.full_like(st.p_los, 6.0), gain_los_lin=st.gain_nlos_lin * 10.0)
    eg = bgm.expected_gain_table(st, shadow_fading=True, los_mode="statistical")
    g = float(st.gain_nlos_lin[0, k])
    want = p * 10.0 * g * lognormal_mean_factor(4.0) + (1 - p) * g * lognormal_mean_factor(6.0)
    assert eg[0, k] == pytest.approx(want, rel=1e-6)
    assert bgm.expected_gain_table(st, shadow_fading=False, los_mode="nlos")[0, k] == pytest.approx(g, rel=1e-6)
    with pytest.raises(ValueError, match="random LOS state"):
        bgm.expected_gain_table(st, shadow_fading=True, los_mode="geometric")


def test_sinr_with_background_adds_to_the_interference():
    s = bgm.add_background_sinr_db(np.array([-80.0, -90.0]), np.array([20.0, 0.0]),
                                   np.array([1e-10, 0.0]), np.array([10.0, 0.0]), 0.5)
    # I + N = -100 dBm, plus 0.5 x 0.1 x 1e-10 mW -> 10 log10(1e-10 + 5e-12) = -99.79 dBm
    assert s[0] == pytest.approx(-80.0 + 99.788, abs=1e-3)
    assert s[1] == 0.0


@needs_numba
def test_background_mode_is_close_to_the_full_sum_with_fewer_sites():
    sc = _tn.network(n_sites=90, width_m=12_000.0, height_m=12_000.0, resolution_m=100.0, interference_cutoff_db=1.0,
                     interference_cutoff_mode="background", background_radius_m=1200.0, mem_limit_mb=64.0)
    grid, xy = localize(sc)
    full = compute_coverage(replace(sc, interference_cutoff_db=None), grid, xy)
    bg = compute_coverage(sc, grid, xy)
    info = bg.meta["interference_cutoff"]
    assert info["mode"] == "background" and info["kept_site_fraction"] < 0.6
    same = bg.best_sector == full.best_sector
    assert same.mean() > 0.99
    np.testing.assert_allclose(bg.rsrp_dbm[same], full.rsrp_dbm[same], rtol=1e-6)   # blocks: a last bit may differ
    err = (bg.sinr_db.astype(float) - full.sinr_db.astype(float))[same]
    assert abs(err.mean()) < 0.15 and np.percentile(np.abs(err), 99) < 1.5
    # without the background the same selection is biased upwards (interference left out)
    assert np.mean(err) < np.mean(_without_background(sc, grid, xy) - full.sinr_db.astype(float))


def _without_background(sc, grid, xy):
    tiles = CoverageTiles(sc, grid, xy)
    tiles.index = replace(tiles.index, background=replace(tiles.index.background, raster=None))
    out = np.zeros((grid.n_rows, grid.n_cols))
    for t in tiles:
        out[t.window.rows, t.window.cols] = t.sinr_db
    return out


@needs_numba
def test_national_blocks_give_the_whole_network_tiles_in_background_mode():
    sc = _tn.network(n_sites=60, width_m=40_000.0, height_m=6_000.0, resolution_m=250.0, interference_cutoff_db=1.0,
                     interference_cutoff_mode="background", background_radius_m=1000.0)
    tiles, rsrp, sinr, best = _tn.national_maps(sc, block_px=16)
    assert min(s.size for s in tiles._sites) < 60
    # the parts hold the sites a best server could be (certify_radius): no window computed twice
    assert tiles.windows_recomputed == 0
    _tn.assert_whole_network_tiles(sc, tiles, rsrp, sinr, best)


def test_scenario_option_and_geometric_refused():
    sc = parse_scenario(_mapping(interference_cutoff_mode="background", background_radius_m=3000))
    assert sc.interference_cutoff_mode == "background" and sc.background_radius_m == 3000.0
    with pytest.raises(ScenarioError, match=r"compute.background_radius_m: Input should be greater than or equal to 100"):
        parse_scenario(_mapping(interference_cutoff_mode="background", background_radius_m=10))
    data = _mapping(interference_cutoff_mode="background")
    data.update(los_mode="geometric", buildings={"source": "b.gpkg"})
    with pytest.raises(ScenarioError, match="needs a random LOS state"):
        parse_scenario(data)
    assert parse_scenario(_mapping(interference_cutoff_mode="background", background_radius_isd=3)
                          ).background_radius_isd == 3.0
    assert parse_scenario(_mapping(interference_cutoff_mode="background")).background_radius_isd is None
    with pytest.raises(ScenarioError, match=r"^compute.background_radius_isd: goes with "
                                            r"compute.interference_cutoff_mode: background, got mode 'expected'"):
        parse_scenario(_mapping(interference_cutoff_mode="expected", background_radius_isd=3))
    with pytest.raises(ScenarioError, match=r"compute.background_radius_isd: Input should be greater than or equal to 1"):
        parse_scenario(_mapping(interference_cutoff_mode="background", background_radius_isd=0.5))
    assert parse_scenario(_mapping(interference_cutoff_mode="background", background_certify_exceedance=0.01)
                          ).background_certify_exceedance == 0.01
    with pytest.raises(ScenarioError, match=r"^compute.background_certify_exceedance: goes with"):
        parse_scenario(_mapping(interference_cutoff_mode="bound", background_certify_exceedance=0.01))


def test_local_isd_follows_the_density_and_r0_stays_within_its_limits():
    from scipy.spatial import cKDTree

    ix, iy = np.meshgrid(np.arange(-15, 16), np.arange(-15, 16))
    for isd in (200.0, 1500.0):
        hexes = np.column_stack([((ix + 0.5 * (iy % 2)) * isd).ravel(), (iy * isd * np.sqrt(3) / 2).ravel()])
        est = bgm.local_isd_m(cKDTree(hexes), 0.3 * isd, -0.2 * isd)
        assert est == pytest.approx(isd, rel=0.06)
        assert bgm.network_isd_m(hexes[:, 0], hexes[:, 1]) == pytest.approx(isd, rel=0.15)   # edges: sparser
    assert bgm.local_isd_m(cKDTree(np.zeros((1, 2))), 0.0, 0.0) == np.inf
    assert bgm.adaptive_r0_m(np.inf, 3.0, 2000.0) == 2000.0
    with pytest.raises(ValueError, match="per_isd"):
        bgm.adaptive_r0_m(300.0, 0.0, 2000.0)


@needs_numba
def test_national_r0_follows_each_blocks_density_and_each_block_is_the_whole_network_at_its_r0():
    """background_radius_isd: a dense cluster (ISD ~500 m) and sparse sites (~2.5 km) get different
    r0 per block; every tile equals the whole network's tile computed with its block's r0."""
    rng = np.random.default_rng(5)
    dense = np.column_stack([rng.uniform(0, 3000, 80), rng.uniform(0, 6000, 80)])
    sparse = np.column_stack([rng.uniform(3000, 16000, 14), rng.uniform(0, 6000, 14)])
    base = _tn.network(n_sites=94, width_m=16_000.0, height_m=6_000.0, resolution_m=250.0, interference_cutoff_db=1.0,
                       interference_cutoff_mode="background", background_radius_m=5000.0, background_radius_isd=3.0)
    sites = tuple(replace(site, x=_tn.X0 + float(x), y=_tn.Y0 + float(y))
                  for site, (x, y) in zip(base.sites, np.vstack([dense, sparse])))
    sc = replace(base, sites=sites)
    tiles, rsrp, sinr, best = _tn.national_maps(sc, block_px=16)
    r0 = np.array(tiles._r0)
    assert r0.min() < 2500.0 and r0.max() > 1.5 * r0.min() and r0.max() <= 5000.0
    assert tiles.meta()["interference_cutoff"]["background_r0_m_min_median_max"][0] == pytest.approx(r0.min(), abs=0.1)
    assert r0[0] < r0[-1]                            # the first block is in the dense cluster, the last sparse
    grid, xy = localize(sc)
    for value in np.unique(r0):
        at_r0 = replace(sc, background_radius_m=float(value), background_radius_isd=None)
        windows = [w for ws, v in zip(tiles._windows, r0) if v == value for w in ws]
        for t in CoverageTiles(at_r0, grid, xy, backend="numba").tiles(windows):
            w = t.window
            np.testing.assert_array_equal(rsrp[w.rows, w.cols], t.rsrp_dbm)
            np.testing.assert_array_equal(sinr[w.rows, w.cols], t.sinr_db)
            np.testing.assert_array_equal(best[w.rows, w.cols], t.best_sector)


def test_select_background_keeps_candidates_within_two_r0():
    st = _static(XS, YS)
    index = cutoff.build_index(st, cutoff_db=0.1, site_group=np.zeros(len(XS), np.int64), shadow_fading=False,
                               los_mode="nlos", mode="background")
    index = replace(index, background=bgm.background_model(st, r0_m=1000.0, shadow_fading=False, los_mode="nlos"))
    x = np.arange(-200.0, 200.0, 50.0)
    sel = cutoff.select(index, x, x)
    r = cutoff.background_radius_m(index, x, x)
    assert r == pytest.approx(2000.0 + np.hypot(350.0, 350.0) / 2.0)
    within = [i for i in range(len(XS)) if np.hypot(XS[i] - (-25.0), YS[i] - (-25.0)) <= r]
    assert sel.candidates.tolist() == within and set(sel.sites) <= set(within)



def test_exceedance_tables_are_the_lognormal_quantiles():
    """cutoff._exceedance_tables: the gain a link exceeds with probability eps: NLOS alone
    N + sigma Q^-1(eps) dB; LOS with probability p: p Q((x - L)/s_L) + (1 - p) Q((x - N)/s_N) = eps."""
    from scipy.special import ndtr, ndtri

    st = _example_static()
    g = st.gain_nlos_lin.astype(float)
    n_u = g.shape[1]
    sig = np.full(g.shape, 6.0, np.float32)
    p = np.clip(18.0 / np.maximum((np.arange(n_u) * st.u_step) ** 2, 18.0), 0, 1)[None, :].astype(np.float32)
    st6 = replace(st, sf_std_nlos_db=sig, sf_std_los_db=np.full(g.shape, 4.0, np.float32),
                  gain_los_lin=(g * 1000.0).astype(np.float32), p_los=p)
    rows = np.zeros(1, np.int64)
    eps = 1e-2
    q = cutoff._exceedance_tables(st6, rows, shadow_fading=True, los_mode="nlos", eps=eps)
    want = cutoff._tail_max(cutoff._pair_max(g) * 10.0 ** (6.0 * -ndtri(eps) / 10.0))
    np.testing.assert_allclose(q, want, rtol=1e-9)
    assert np.allclose(cutoff._exceedance_tables(st6, rows, shadow_fading=False, los_mode="nlos", eps=eps),
                       cutoff._tail_max(cutoff._pair_max(g)), rtol=1e-9)
    qs = cutoff._exceedance_tables(st6, rows, shadow_fading=True, los_mode="statistical", eps=eps)
    k = 400
    x = 10.0 * np.log10(qs[0, k])
    pk = max(p[0, k], p[0, k + 1])
    l_db = 10.0 * np.log10(max(st6.gain_los_lin[0, k], st6.gain_los_lin[0, k + 1]))
    n_db = 10.0 * np.log10(max(g[0, k], g[0, k + 1]))
    exceed = pk * ndtr(-(x - l_db) / 4.0) + (1 - pk) * ndtr(-(x - n_db) / 6.0)
    assert exceed <= eps * (1 + 1e-9) and qs[0, k] >= want[0, k]        # LOS can only raise the quantile
    assert np.all(np.diff(qs[0]) <= 0)                                   # tail maximum: non-increasing


@needs_numba
def test_certification_with_the_draws_finds_far_best_servers_the_means_miss():
    """A sparse network around a dense core: with the left-out sites' expected power only, a far LOS
    site can be the full sum's best server; certified with their 1 % draws (cutoff.certify_index),
    fewer pixels differ."""
    rng = np.random.default_rng(2)
    core = rng.uniform(3000.0, 5000.0, (60, 2))
    outer = rng.uniform(0.0, 8000.0, (200, 2))
    outer = outer[(np.abs(outer - 4000.0) > 1000.0).any(axis=1)][:20]
    base = _tn.network(n_sites=80, width_m=8000.0, height_m=8000.0, resolution_m=80.0, interference_cutoff_db=1.0,
                       interference_cutoff_mode="background", background_radius_m=1000.0, mem_limit_mb=64.0,
                       background_certify_exceedance=0.01)
    sites = tuple(replace(s, x=_tn.X0 + float(x), y=_tn.Y0 + float(y)) for s, (x, y) in zip(base.sites, np.vstack([core, outer])))
    sc = replace(base, sites=sites)
    grid, xy = localize(sc)
    full = compute_coverage(replace(sc, interference_cutoff_db=None), grid, xy)
    certified = compute_coverage(sc, grid, xy)
    assert CoverageTiles(sc, grid, xy).index.certify.mode == "certify"
    by_means_map = compute_coverage(replace(sc, background_certify_exceedance=None), grid, xy)   # the default
    assert CoverageTiles(replace(sc, background_certify_exceedance=None), grid, xy).index.certify is None
    by_means = np.mean(by_means_map.best_sector != full.best_sector)
    by_draws = np.mean(certified.best_sector != full.best_sector)
    assert by_draws < by_means and by_means > 0


@needs_numba
def test_blocks_few_for_the_threads_are_cut_into_tasks_with_the_uncut_bits():
    """NationalTiles.tasks: blocks fewer than min_per_thread x n_threads are cut (windows in order,
    halves of equal estimated work) into tasks, the costliest estimate first; every window in
    exactly one task, a task's windows from one block; each tile of a cut part is the uncut part's,
    bit for bit (same sites, same background raster)."""
    from cellscape.pipeline import national
    from cellscape.pipeline.national import compute_part
    from cellscape.scenario.columns import SiteColumns

    rng = np.random.default_rng(7)
    base = _tn.network(n_sites=50, width_m=20_000.0, height_m=6_000.0, resolution_m=100.0, interference_cutoff_db=1.0,
                       interference_cutoff_mode="background", background_radius_m=1000.0)
    town = np.column_stack([rng.uniform(1000, 3000, 40), rng.uniform(1000, 3000, 40)])     # a town in one corner
    rest = np.column_stack([rng.uniform(0, 20_000, 10), rng.uniform(0, 6000, 10)])
    sc = replace(base, sites=tuple(replace(s, x=_tn.X0 + float(x), y=_tn.Y0 + float(y))
                                   for s, (x, y) in zip(base.sites, np.vstack([town, rest]))))
    grid, _ = localize(sc)
    tiles = national.NationalTiles(sc, grid, SiteColumns.from_records(sc.sites), block_px=64)
    blocks = list(tiles.parts())
    assert len(blocks) == 4 and min(len(p.windows) for p in blocks) >= 2
    assert ([p.windows for p in tiles.tasks(n_threads=1, min_per_thread=4)]
            == [p.windows for p in sorted(blocks, key=national._links, reverse=True)])
    tasks = tiles.tasks(n_threads=3, min_per_thread=4)
    assert len(tasks) == min(12, len(tiles.windows))
    window_block = {w: k for k, p in enumerate(blocks) for w in p.windows}
    key = lambda w: (w.row_start, w.col_start, w.row_stop, w.col_stop)     # noqa: E731
    assert sorted(key(w) for p in tasks for w in p.windows) == sorted(map(key, tiles.windows))
    assert all(len({window_block[w] for w in p.windows}) == 1 for p in tasks)
    est = [float(tiles.window_costs(p).sum()) for p in tasks]
    assert est == sorted(est, reverse=True)
    assert window_block[tasks[0].windows[0]] == 0   # the town's block (x 0-6.4 km) goes first
    uncut = {t.window: t for p in blocks for _, t, _ in compute_part(tiles.job, p, tiles.records(p)) if t is not None}
    raster = {}
    for p in tasks:             # a block's tasks share its raster
        assert raster.setdefault(window_block[p.windows[0]], p.background) is p.background
    n = 0
    for p in tasks:
        for window, tile, _ in compute_part(tiles.job, p, tiles.records(p)):
            if tile is None:
                continue
            n += 1
            for name in ("rsrp_dbm", "sinr_db", "best_sector"):
                np.testing.assert_array_equal(getattr(tile, name), getattr(uncut[window], name))
    assert n == len(uncut) > 0
