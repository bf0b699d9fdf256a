"""Tiles of a network given column-wise, each block from the sites within reach
(cellscape.pipeline.national): the same bits as the whole network's run, best sectors numbered as
in the whole network, blocks that carry only their neighbours, and the refusal when the cutoff
leaves nothing out."""

from dataclasses import replace
import importlib.util

import numpy as np
import pytest
import rasterio

from cellscape.coverage.engine import CoverageTiles, compute_coverage
from cellscape.errors import ScenarioError
from cellscape.io.stream_writer import run_coverage_streamed
from cellscape.pipeline import national
from cellscape.pipeline.coverage import localize
from cellscape.scenario.columns import SiteColumns
from cellscape.scenario.records import Area, Carrier, Receiver, Scenario, Sector, Site

X0, Y0 = 385_000.0, 6_671_000.0
needs_numba = pytest.mark.skipif(importlib.util.find_spec("numba") is None,
                                 reason="tiling-independent bits need the numba kernel")


def network(*, n_sites: int, width_m: float, height_m: float, resolution_m: float, seed: int = 3,
            **kw) -> Scenario:
    rng = np.random.default_rng(seed)
    sites = tuple(
        Site(site_id=f"S{i}", x=X0 + rng.uniform(0, width_m), y=Y0 + rng.uniform(0, height_m),
             height_m=float(rng.choice([20.0, 25.0, 30.0])),
             sectors=tuple(Sector(azimuth_deg=float((a + rng.uniform(0, 120)) % 360), tx_power_dbm=46.0,
                                  elec_tilt_deg=6.0) for a in (0.0, 120.0, 240.0)))
        for i in range(n_sites))
    base = dict(name="net", area=Area(bounds=(X0, Y0, X0 + width_m, Y0 + height_m), resolution_m=resolution_m,
                                      crs="EPSG:32635"),
                carrier=Carrier(fc_ghz=3.5, bandwidth_mhz=100.0, scs_khz=30.0, dl_load_factor=0.7),
                sites=sites, environment="UMa", receiver=Receiver(height_m=1.5), los_mode="statistical",
                shadow_fading=True, seed=seed, mem_limit_mb=2.0)
    base.update(kw)
    return Scenario(**base)


def national_maps(sc: Scenario, *, block_px: int):
    grid, _ = localize(sc)
    cols = SiteColumns.from_records(sc.sites)
    tiles = national.NationalTiles(sc, grid, cols, block_px=block_px)
    rsrp = np.full((grid.n_rows, grid.n_cols), np.nan, dtype=np.float32)
    sinr = rsrp.copy()
    best = np.full(rsrp.shape, -2, dtype=np.int32)
    for t in tiles.tiles():
        w = t.window
        rsrp[w.rows, w.cols], sinr[w.rows, w.cols], best[w.rows, w.cols] = t.rsrp_dbm, t.sinr_db, t.best_sector
    return tiles, rsrp, sinr, best


def assert_whole_network_tiles(sc, tiles, rsrp, sinr, best):
    """Each tile of the blocks equals the whole network's tile on the same window, bit for bit."""
    grid, xy = localize(sc)
    whole = CoverageTiles(sc, grid, xy, backend="numba")
    for t in whole.tiles(tiles.windows):
        w = t.window
        np.testing.assert_array_equal(rsrp[w.rows, w.cols], t.rsrp_dbm)
        np.testing.assert_array_equal(sinr[w.rows, w.cols], t.sinr_db)
        np.testing.assert_array_equal(best[w.rows, w.cols], t.best_sector)


@needs_numba
def test_without_cutoff_every_block_carries_every_site_and_gives_the_whole_network_bits():
    sc = network(n_sites=8, width_m=900.0, height_m=500.0, resolution_m=10.0, interference_cutoff_db=None)
    tiles, rsrp, sinr, best = national_maps(sc, block_px=16)
    assert len(tiles._blocks) > 4 and all(s.size == 8 for s in tiles._sites)
    grid, xy = localize(sc)
    assert_whole_network_tiles(sc, tiles, rsrp, sinr, best)
    # square blocks instead of full-width strips: the kernel may round a pixel's last bit otherwise
    res = compute_coverage(sc, grid, xy, backend="numba")
    np.testing.assert_allclose(rsrp, res.rsrp_dbm, rtol=1e-6)
    np.testing.assert_array_equal(best, res.best_sector)


@needs_numba
def test_blocks_with_the_cutoff_keep_neighbours_only_and_match_the_whole_network():
    """NLOS without shadowing: the rigorous cutoff reaches a few km, so a 24 km network's blocks
    carry a fraction of the sites; each tile is the whole network's tile on the same window."""
    sc = network(n_sites=60, width_m=24_000.0, height_m=6_000.0, resolution_m=200.0, los_mode="nlos",
                 shadow_fading=False, interference_cutoff_db=0.1)
    tiles, rsrp, sinr, best = national_maps(sc, block_px=12)
    sizes = np.array([s.size for s in tiles._sites])
    assert sizes.max() < 60 and sizes.min() >= 1
    grid, xy = localize(sc)
    assert_whole_network_tiles(sc, tiles, rsrp, sinr, best)


def test_refuses_blocks_that_would_carry_too_many_sites(monkeypatch):
    sc = network(n_sites=6, width_m=600.0, height_m=400.0, resolution_m=20.0, interference_cutoff_db=None)
    monkeypatch.setattr(national, "MAX_SITES_PER_BLOCK", 5)
    grid, _ = localize(sc)
    with pytest.raises(ScenarioError, match="needs 6 sites .*interference_cutoff_mode: expected"):
        national.NationalTiles(sc, grid, SiteColumns.from_records(sc.sites), block_px=8)
    # with the cutoff in expectation already on, the remedy is a larger error or a smaller region
    sc = replace(sc, interference_cutoff_db=0.1, interference_cutoff_mode="expected")
    with pytest.raises(ScenarioError, match=r"needs 6 sites .*raise compute.interference_cutoff_db \(now 0.1 dB\)"):
        national.NationalTiles(sc, grid, SiteColumns.from_records(sc.sites), block_px=8)


@needs_numba
def test_streamed_run_from_columns_writes_the_whole_network_maps(tmp_path):
    sc = network(n_sites=8, width_m=900.0, height_m=500.0, resolution_m=10.0, interference_cutoff_db=None)
    grid, xy = localize(sc)
    res = compute_coverage(sc, grid, xy, backend="numba")
    run, _ = run_coverage_streamed(replace(sc, sites=()), tmp_path, site_columns=SiteColumns.from_records(sc.sites))
    with rasterio.open(tmp_path / "coverage.tif") as src:
        np.testing.assert_array_equal(src.read(2), res.sinr_db)
    with rasterio.open(tmp_path / "best_sector.tif") as src:
        np.testing.assert_array_equal(src.read(1), res.best_sector)
    assert run.kpis["meta"]["site_subsets"]["n_sites"] == 8
    assert sum(s["served_pixels"] for s in run.kpis["sectors"]) + run.kpis["n_pixels_unserved"] == grid.n_pixels


@needs_numba
def test_expected_mode_blocks_match_the_whole_network_with_shadowing():
    """Statistical LOS + shadow fading, cutoff in expectation: blocks carry their neighbours only and
    each tile is still the whole network's tile (same kept sites, fields keyed by network index)."""
    sc = network(n_sites=40, width_m=40_000.0, height_m=8_000.0, resolution_m=250.0, interference_cutoff_db=0.1,
                 interference_cutoff_mode="expected")
    tiles, rsrp, sinr, best = national_maps(sc, block_px=16)
    sizes = np.array([s.size for s in tiles._sites])
    assert sizes.min() < 40
    assert_whole_network_tiles(sc, tiles, rsrp, sinr, best)


@pytest.mark.parametrize("start, stop, side", [(0, 400, 133), (1024, 2048, 133), (5, 6, 32), (0, 64, 64),
                                               (0, 65, 64), (7, 1000, 1)])
def test_even_cuts_cover_the_span_in_the_fewest_near_equal_pieces(start, stop, side):
    """Mode background's windows: no sliver (400 px at side 133 were 3 x 133 + a 1-px strip, whose
    tiles cost every kept site's field set-up for one pixel row)."""
    cuts = national._even_cuts(start, stop, side)
    assert cuts[0][0] == start and cuts[-1][1] == stop
    assert all(a[1] == b[0] for a, b in zip(cuts, cuts[1:]))
    lengths = [b - a for a, b in cuts]
    assert len(cuts) == -(-(stop - start) // side) and max(lengths) <= side
    assert max(lengths) - min(lengths) <= 1 and lengths == sorted(lengths, reverse=True)
