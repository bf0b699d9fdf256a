"""N-1 / N-k outages from the per-sector maps (cellscape.resilience.outage): the reduction equals the
engine on the intact network, the fast N-1 equals the plain reduction, and both equal a brute-force
rerun of the engine with each site removed; backhaul cuts; self-healing."""

from dataclasses import replace
import math

import numpy as np
import pytest

from cellscape.coverage.engine import CoverageTiles, compute_coverage, network_context, sector_maps
from cellscape.pipeline.coverage import localize
from cellscape.resilience.outage import (
    AssessError,
    Backhaul,
    CoverageCriterion,
    NetworkMaps,
    SectorGeometry,
    backhaul_outages,
    n1_rows,
    n_minus_1,
    n_minus_1_maps,
    n_minus_k,
    outage_row,
    self_heal,
    serving,
)
from cellscape.scenario.model import parse_scenario

X0, Y0 = 385_000.0, 6_671_000.0


def seven_sites(**over):
    """A hexagon of 6 sites around a centre one, 3 sectors each, on a 10 m grid of 1.2 x 1.2 km."""
    ring = [(0.0, 0.0)] + [(300.0 * math.cos(math.radians(a)), 300.0 * math.sin(math.radians(a)))
                           for a in range(0, 360, 60)]
    sites = [{"site_id": f"S{i}", "x": X0 + 600 + dx, "y": Y0 + 600 + dy, "height_m": 25,
              "sectors": [{"azimuth_deg": a, "tx_power_dbm": 40 + i, "elec_tilt_deg": 6} for a in (0, 120, 240)]}
             for i, (dx, dy) in enumerate(ring)]
    d = {"name": "seven", "seed": 5, "environment": "UMa",
         "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 1200, Y0 + 1200], "resolution_m": 20},
         "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 20, "scs_khz": 30, "dl_load_factor": 0.7},
         "compute": {"interference_cutoff_db": None}, "sites": sites}
    d.update(over)
    return parse_scenario(d)


@pytest.fixture(scope="module")
def case():
    sc = seven_sites()
    grid, xy = localize(sc)
    maps = sector_maps(sc, grid, xy)
    net = NetworkMaps.from_sector_maps(maps, load_factor=sc.carrier.dl_load_factor)
    return sc, grid, xy, maps, net


CRIT = CoverageCriterion(rsrp_min_dbm=-95.0, sinr_min_db=-3.0)


def test_reduction_equals_compute_coverage_on_the_intact_network(case):
    sc, grid, xy, maps, net = case
    res = compute_coverage(sc, grid, xy)
    s = serving(net)
    np.testing.assert_array_equal(s.best_sector.reshape(grid.shape), res.best_sector)
    # float32 per-sector maps against the kernel's float64 sums: 1e-4 dB
    np.testing.assert_allclose(s.rsrp_dbm.reshape(grid.shape), res.rsrp_dbm, atol=1e-4)
    np.testing.assert_allclose(s.sinr_db.reshape(grid.shape), res.sinr_db, atol=1e-4)


def test_fast_n1_equals_the_plain_reduction(case):
    *_, net = case
    rsrp, sinr = n_minus_1_maps(net)
    for site in range(net.n_sites):
        s = serving(net, [site])
        np.testing.assert_allclose(rsrp[site], s.rsrp_dbm, atol=1e-9)
        np.testing.assert_allclose(sinr[site], s.sinr_db, atol=1e-9)


def brute_force(sc, grid, xy, removed):
    """The engine rerun on the scenario without site ``removed``: each kept site keeps its random
    stream (site key = its index in the full network) and the full network's tables."""
    keep = [i for i in range(len(sc.sites)) if i != removed]
    reduced = replace(sc, sites=tuple(sc.sites[i] for i in keep))
    ctx = network_context(sc, grid, xy, [s.environment or sc.environment for s in sc.sites])
    tiles = CoverageTiles(reduced, grid, xy[keep], site_keys=keep, network=ctx)
    rsrp = np.empty(grid.shape, np.float32)
    sinr = np.empty(grid.shape, np.float32)
    for t in tiles:
        rsrp[t.window.rows, t.window.cols] = t.rsrp_dbm
        sinr[t.window.rows, t.window.cols] = t.sinr_db
    return rsrp, sinr


def test_n1_against_brute_force_reruns_of_the_engine(case):
    sc, grid, xy, maps, net = case
    demand = np.random.default_rng(1).uniform(0.0, 3.0, net.n_pixels)
    table = n_minus_1(net, CRIT, demand)
    base = serving(net)
    base_cov = CRIT.covered(base.rsrp_dbm, base.sinr_db)
    brute_lost, brute_demand = [], []
    for site in range(net.n_sites):
        rsrp, sinr = brute_force(sc, grid, xy, site)
        np.testing.assert_allclose(n_minus_1_maps(net)[1][site], sinr.ravel(), atol=1e-4)
        lost = base_cov & ~CRIT.covered(rsrp.ravel(), sinr.ravel())
        brute_lost.append(int(lost.sum()))
        brute_demand.append(float(demand[lost].sum()))
    np.testing.assert_array_equal(table.pixels_lost, brute_lost)
    np.testing.assert_allclose(table.demand_lost, brute_demand, rtol=1e-12)
    brute_rank = np.lexsort((np.arange(net.n_sites), -np.array(brute_lost), -np.array(brute_demand)))
    np.testing.assert_array_equal(table.ranking(), brute_rank)
    assert len(set(brute_lost)) == net.n_sites          # a ranking with no ties: the comparison means something


def test_rows_and_n_minus_k(case):
    *_, net = case
    demand = np.ones(net.n_pixels)
    table = n_minus_1(net, CRIT, demand)
    rows = n1_rows(net, table)
    assert [r.demand_lost for r in rows] == sorted((r.demand_lost for r in rows), reverse=True)
    assert rows[0].area_lost_km2 == pytest.approx(table.pixels_lost.max() * 0.0004)
    nk = n_minus_k(net, CRIT, demand, table, 3)
    assert [r.name for r, _ in nk] == ["N-2", "N-3"]
    order = table.ranking()
    assert nk[0][0].sites == (net.site_ids[order[0]], net.site_ids[order[1]])
    # losing more sites never loses less (the two worst's lost pixels are in the three worst's)
    assert nk[1][0].demand_lost >= nk[0][0].demand_lost >= rows[0].demand_lost
    # the single-site row through outage_row equals the table's
    base = serving(net)
    row, lost = outage_row(net, CRIT, demand, CRIT.covered(base.rsrp_dbm, base.sinr_db), [int(order[0])],
                           kind="site", name="x")
    assert row.demand_lost == rows[0].demand_lost and lost.sum() == table.pixels_lost[order[0]]


def test_everything_removed_loses_everything(case):
    *_, net = case
    demand = np.ones(net.n_pixels)
    base = serving(net)
    cov = CRIT.covered(base.rsrp_dbm, base.sinr_db)
    row, lost = outage_row(net, CRIT, demand, cov, list(range(net.n_sites)), kind="n-k", name="all")
    assert row.demand_lost == cov.sum() and row.covered_fraction_after == 0.0


def test_demand_shape_is_checked(case):
    *_, net = case
    with pytest.raises(AssessError, match="demand has 3 values"):
        n_minus_1(net, CRIT, np.ones(3))


def test_backhaul_tree_and_ring():
    tree = Backhaul(edges=(("dc", "a", 100.0), ("a", "b", 80.0), ("a", "c", 90.0)), ring=(False,) * 3,
                    site_nodes={"A": "a", "B": "b", "C": "c"}, data_centers={"DC1": "dc"})
    out = {name: lost for _, name, lost, _ in backhaul_outages(tree)}
    assert out == {"fiber-1": ["A", "B", "C"], "fiber-2": ["B"], "fiber-3": ["C"], "DC1": ["A", "B", "C"]}
    ring = Backhaul(edges=tree.edges + (("b", "c", 50.0), ("c", "dc", 120.0)), ring=(False,) * 3 + (True, True),
                    site_nodes=tree.site_nodes, data_centers={"DC1": "dc", "DC2": "b"})
    assert all(lost == [] for _, _, lost, _ in backhaul_outages(ring))      # 2-edge-connected, two DCs


def geometry_of(sc, grid, xy):
    secs = [(i, s) for i, site in enumerate(sc.sites) for s in site.sectors]
    return SectorGeometry(
        x_m=np.array([xy[i, 0] for i, _ in secs]), y_m=np.array([xy[i, 1] for i, _ in secs]),
        height_m=np.array([sc.sites[i].height_m for i, _ in secs]), azimuth_deg=np.array([s.azimuth_deg for _, s in secs]),
        mech_tilt_deg=np.array([s.mech_tilt_deg for _, s in secs]), elec_tilt_deg=np.array([s.elec_tilt_deg for _, s in secs]),
        tx_power_dbm=np.array([s.tx_power_dbm for _, s in secs]), antennas=tuple(s.antenna for _, s in secs),
        h_ut_m=sc.receiver.height_m, x_centers_m=grid.x_centers_m(), y_centers_m=grid.y_centers_m())


def test_tilt_change_equals_an_engine_rerun(case):
    """The self-healing's map of a re-tilted sector: the engine's map shifted by the gain change."""
    sc, grid, xy, maps, net = case
    geom = geometry_of(sc, grid, xy)
    k = 4
    sites = list(sc.sites)
    site = sites[1]
    secs = list(site.sectors)
    secs[1] = replace(secs[1], elec_tilt_deg=2.0, tx_power_dbm=secs[1].tx_power_dbm + 2.0)
    sites[1] = replace(site, sectors=tuple(secs))
    rerun = sector_maps(replace(sc, sites=tuple(sites)), grid, xy)
    predicted = (maps.rsrp_dbm[k].ravel() + geom.gain_dbi(k, 2.0) - geom.gain_dbi(k, 6.0) + 2.0)
    # the engine reads the pattern from a 0.1 deg x 1 deg table and the zenith angle from its distance
    # table: differences of a few hundredths of a dB, larger only in the pattern's deep nulls
    diff = np.abs(predicted - rerun.rsrp_dbm[k].ravel())
    assert np.median(diff) < 0.02 and np.quantile(diff, 0.95) < 0.2


def test_self_heal_recovers_part_of_the_loss_and_never_makes_it_worse(case):
    sc, grid, xy, maps, net = case
    demand = np.ones(net.n_pixels)
    geom = geometry_of(sc, grid, xy)
    crit = CoverageCriterion(rsrp_min_dbm=-85.0, sinr_min_db=-3.0)
    heal = self_heal(net, geom, crit, demand, [0], neighbours=6, max_power_boost_db=6.0, max_evaluations=40)
    assert heal is not None and "S0" not in heal.neighbours and len(heal.neighbours) >= 1
    assert heal.demand_intact > heal.demand_failed
    assert heal.demand_healed >= heal.demand_failed
    assert heal.demand_healed == heal.tuning.kpi_after and heal.demand_failed == heal.tuning.kpi_before
    assert 0.0 < heal.recovered_share <= 1.0 + 1e-9 or heal.demand_healed > heal.demand_intact
    # the tuned settings, applied through the engine, give (about) the coverage the tuner saw
    tuned = heal.tuning.settings
    sites = []
    for i, site in enumerate(sc.sites):
        if i == 0:
            continue
        secs = []
        for j, sec in enumerate(site.sectors):
            k = i * 3 + j
            hit = np.flatnonzero(heal.sectors == k)
            if hit.size:
                sec = replace(sec, elec_tilt_deg=float(tuned.elec_tilt_deg[hit[0]]),
                              tx_power_dbm=float(tuned.tx_power_dbm[hit[0]]))
            secs.append(sec)
        sites.append(replace(site, sectors=tuple(secs)))
    keep = list(range(1, 7))
    ctx = network_context(sc, grid, xy, ["UMa"] * 7)
    tiles = CoverageTiles(replace(sc, sites=tuple(sites)), grid, xy[keep], site_keys=keep, network=ctx)
    cov = np.zeros(grid.shape, bool)
    for t in tiles:
        cov[t.window.rows, t.window.cols] = crit.covered(t.rsrp_dbm, t.sinr_db)
    assert abs(int(cov.sum()) - heal.pixels_healed) <= 0.01 * heal.pixels_healed


def test_removing_a_site_lowers_rsrp_and_raises_sinr_where_it_did_not_serve(case):
    """Physical property: without a site the best RSRP can only drop; where the site was not the best
    server, the server stays and loses an interferer, so the SINR can only rise."""
    *_, net = case
    base = serving(net)
    rsrp, sinr = n_minus_1_maps(net)
    for site in range(net.n_sites):
        assert np.all(rsrp[site] <= base.rsrp_dbm + 1e-9)
        kept = net.sector_site[base.best_sector] != site
        assert np.all(sinr[site][kept] >= base.sinr_db[kept] - 1e-9)
        assert np.any(sinr[site][kept] > base.sinr_db[kept] + 0.1)
