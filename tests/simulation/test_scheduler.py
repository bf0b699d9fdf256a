"""Scheduler properties through the whole simulator: round robin shares, PF fairness, slice
shares, PRBs never over-allocated, and the exact full-buffer rate of the map's formula."""

import numba
import numpy as np
import pytest

from cellscape.coverage.engine import compute_coverage
from cellscape.pipeline import localize
from cellscape.simulation.engine import run_simulation

from .conftest import flat, simulation


def _fb(count, **over):
    g = {"name": "g", "count": count, "device": "phone1", "traffic": {"model": "full_buffer"}}
    g.update(over)
    return g


def test_round_robin_full_buffer_equals_share_times_map_rate(one_sector):
    """Full buffer, round robin, no fast fading, ideal link adaptation: each of N users gets 1/N of
    the slots at the rate the coverage map's throughput formula gives its SINR (exact)."""
    sc, maps = one_sector
    sim = simulation(sc, [_fb(4)], scheduler={"kind": "rr", "link_adaptation": "ideal"}, seed=11)
    res = run_simulation(sim, maps)
    grid, xy = localize(sc)
    cov = compute_coverage(sc, grid, xy)                  # one sector: no interference, load irrelevant
    m = maps[sc.receiver.height_m]
    r, c = m.pixel_index(res.ue["x_m"], res.ue["y_m"])
    expected = 0.25 * cov.throughput_bps[r, c] / 1e6
    assert res.ue["dl_throughput_mbps"] == pytest.approx(expected, rel=1e-5)
    assert np.ptp(expected) > 0                           # distinct users, distinct rates


def test_round_robin_gives_every_user_one_nth_of_the_slots(two_sites):
    sc, maps = two_sites
    m = flat(maps, [-80, -200, -200, -200, -200, -200])   # one serving sector, nobody interferes
    sim = simulation(sc, [_fb(5)], scheduler={"kind": "rr", "link_adaptation": "ideal"}, duration_s=0.11)
    res = run_simulation(sim, m)
    thr = res.ue["dl_throughput_mbps"]
    assert thr == pytest.approx(np.full(5, thr.mean()), rel=1e-9)
    assert res.cells["prb_utilisation_dl"][0] == pytest.approx(1.0)


def test_pf_converges_to_equal_shares_for_equal_channels(two_sites):
    sc, maps = two_sites
    m = flat(maps, [-85, -200, -200, -200, -200, -200])
    sim = simulation(sc, [_fb(6)], scheduler={"kind": "pf", "link_adaptation": "ideal", "pf_window_slots": 50},
                     duration_s=0.3, warmup_s=0.05)
    thr = run_simulation(sim, m).ue["dl_throughput_mbps"]
    assert thr == pytest.approx(np.full(6, thr.mean()), rel=0.02)


def test_pf_with_fading_beats_round_robin(two_sites):
    """Multi-user diversity: PF on a frequency-selective channel serves more bits than RR."""
    sc, maps = two_sites
    m = flat(maps, [-112, -200, -200, -200, -200, -200])           # about 10 dB SINR
    out = {}
    for kind in ("pf", "rr"):
        sim = simulation(sc, [_fb(8, device="smartphone", mobility={"model": "static"})],
                         scheduler={"kind": kind, "link_adaptation": "ideal"}, fading={"enabled": True},
                         duration_s=0.3, warmup_s=0.05)
        out[kind] = run_simulation(sim, m).cells["dl_throughput_mbps"][0]
    assert out["pf"] > 1.08 * out["rr"], out


def test_slice_shares_are_honoured_under_overload(two_sites):
    sc, maps = two_sites
    m = flat(maps, [-85, -200, -200, -200, -200, -200])
    sim = simulation(sc, [_fb(3, name="a", slice="embb"), _fb(3, name="b", slice="urllc")],
                     slices=[{"name": "embb", "prb_share": 0.25, "priority": 1},
                             {"name": "urllc", "prb_share": 0.75, "priority": 0}],
                     scheduler={"kind": "pf", "link_adaptation": "olla"}, duration_s=0.2)
    res = run_simulation(sim, m)
    assert res.cells["prb_share_embb"][0] == pytest.approx(0.25, abs=0.01)
    assert res.cells["prb_share_urllc"][0] == pytest.approx(0.75, abs=0.01)


def test_unused_slice_share_goes_to_the_others(two_sites):
    sc, maps = two_sites
    m = flat(maps, [-85, -200, -200, -200, -200, -200])
    sim = simulation(sc, [_fb(3, name="a", slice="embb")],
                     slices=[{"name": "embb", "prb_share": 0.25}, {"name": "urllc", "prb_share": 0.75}],
                     duration_s=0.1)
    assert run_simulation(sim, m).cells["prb_utilisation_dl"][0] == pytest.approx(1.0)


def test_prbs_never_over_allocated_and_bler_near_target(two_sites):
    sc, maps = two_sites
    users = [{"name": "fb", "count": 30, "traffic": {"model": "full_buffer", "direction": "both"}},
             {"name": "ftp", "count": 30, "traffic": {"model": "ftp3", "arrival_rate_per_s": 5}},
             {"name": "redcap", "count": 10, "device": "redcap", "traffic": {"model": "full_buffer"}},
             {"name": "walk", "count": 10, "mobility": {"model": "random_waypoint", "speed_kmh": [3, 60]}}]
    sim = simulation(sc, users, fading={"enabled": True}, duplex={"mode": "tdd", "pattern": "DDDSU"},
                     uplink={"enabled": True}, duration_s=0.5)
    res = run_simulation(sim, maps)
    assert np.all(res.cells["prb_utilisation_dl"] <= 1.0 + 1e-12)
    assert np.all(res.cells["prb_utilisation_ul"] <= 1.0 + 1e-12)
    assert np.all(res.timeseries["load"] <= 1.0 + 1e-12)
    assert np.nanmedian(res.ue["dl_bler"][res.ue["group"] == "fb"]) == pytest.approx(0.1, abs=0.04)
    # RedCap is limited to 20 MHz (51 PRBs of 30 kHz: 3 RBGs of 16): at most 3/18 of the PRBs per slot
    red = res.ue["group"] == "redcap"
    fb = res.ue["group"] == "fb"
    assert res.ue["dl_throughput_mbps"][red].max() < res.ue["dl_throughput_mbps"][fb].max()
    assert res.ue["ul_throughput_mbps"][fb].min() > 0


def test_same_seed_same_result_whatever_the_threads(two_sites):
    sc, maps = two_sites
    sim = simulation(sc, [{"name": "g", "count": 40, "traffic": {"model": "ftp3", "arrival_rate_per_s": 4,
                                                                  "direction": "both"}}],
                     fading={"enabled": True}, duplex={"mode": "tdd"}, uplink={"enabled": True}, seed=5)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = run_simulation(sim, maps)
        numba.set_num_threads(before)
        b = run_simulation(sim, maps)
    finally:
        numba.set_num_threads(before)
    for k in ("dl_bits", "ul_bits", "latency_mean_ms", "serving_sector"):
        np.testing.assert_array_equal(a.ue[k], b.ue[k])
    other = run_simulation(simulation(sc, sim_users(40), fading={"enabled": True}, seed=6), maps)
    assert not np.array_equal(other.ue["x_m"], a.ue["x_m"])


def sim_users(n):
    return [{"name": "g", "count": n, "traffic": {"model": "ftp3", "arrival_rate_per_s": 4}}]


def test_bursty_latency_and_perceived_throughput(two_sites):
    """A lightly loaded cell: a 32-byte packet is delivered within a few slots; the user-perceived
    throughput of FTP files is at most the cell's peak rate."""
    sc, maps = two_sites
    users = [{"name": "u", "count": 5, "slice": "urllc",
              "traffic": {"model": "urllc", "packet_size_bytes": 32, "arrival_rate_per_s": 200, "periodic": True}},
             {"name": "f", "count": 5, "traffic": {"model": "ftp3", "arrival_rate_per_s": 2}}]
    sim = simulation(sc, users, slices=[{"name": "embb", "prb_share": 0.8},
                                        {"name": "urllc", "prb_share": 0.2, "priority": 0, "latency_budget_ms": 5}],
                     duration_s=0.5)
    res = run_simulation(sim, maps)
    u = res.ue["group"] == "u"
    assert np.all(res.ue["packets_sent"][u] >= 95)
    assert np.all(res.ue["latency_mean_ms"][u] < 2.0)
    assert res.summary["slices"]["urllc"]["sla_satisfaction"] == 1.0
    f = (res.ue["group"] == "f") & np.isfinite(res.ue["user_throughput_mbps"])
    assert np.all(res.ue["user_throughput_mbps"][f] < 800.0)
