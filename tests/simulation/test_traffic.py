"""Traffic arrivals: Poisson means, periodic reports, CSR layout, determinism."""

import numpy as np
import pytest

from cellscape.scenario.simulation import TrafficSpec
from cellscape.simulation.traffic import MODEL_FULL, MODEL_NONE, block_arrivals, traffic_arrays

SLOT_S = 5e-4


def test_models_and_directions():
    specs = [TrafficSpec("full_buffer", "dl"), TrafficSpec("ftp3", "both", arrival_rate_per_s=2.0),
             TrafficSpec("urllc", "ul", packet_size_bytes=32.0, arrival_rate_per_s=100.0, periodic=True),
             TrafficSpec("periodic", "dl", packet_size_bytes=100.0, period_s=0.01)]
    dl = traffic_arrays(specs, "dl", SLOT_S, np.random.default_rng(0))
    ul = traffic_arrays(specs, "ul", SLOT_S, np.random.default_rng(0))
    assert dl.model[0] == MODEL_FULL and ul.model[0] == MODEL_NONE
    assert dl.bits[1] == 8 * 500_000 and ul.bits[2] == 256 and ul.period_slots[2] == 20
    assert dl.period_slots[3] == 20 and dl.model[2] == MODEL_NONE


def test_poisson_mean_and_periodic_exact():
    specs = [TrafficSpec("ftp3", arrival_rate_per_s=4.0)] * 2000 + [TrafficSpec("periodic", period_s=0.005)] * 10
    t = traffic_arrays(specs, "dl", SLOT_S, np.random.default_rng(1))
    end, slot, bits = block_arrivals(t, 1000, 2000, SLOT_S, seed=3, block=7, direction=0)   # 1 s
    counts = np.diff(np.concatenate([[0], end]))
    assert counts[:2000].mean() == pytest.approx(4.0, rel=0.05)
    assert np.all(counts[2000:] == 200)                           # every 10 slots for 2000 slots
    assert np.all((slot >= 1000) & (slot < 3000))
    for u in (0, 2005):                                           # rows of a user are in slot order
        s = slot[(end[u - 1] if u else 0):end[u]]
        assert np.all(np.diff(s) >= 0)
    per = slot[end[2004]:end[2005]]
    assert np.all(np.diff(per) == 10) and np.all((per - t.phase_slots[2005]) % 10 == 0)
    again = block_arrivals(t, 1000, 2000, SLOT_S, seed=3, block=7, direction=0)
    np.testing.assert_array_equal(again[1], slot)
    other = block_arrivals(t, 1000, 2000, SLOT_S, seed=3, block=8, direction=0)
    assert not np.array_equal(other[0], end)


def test_blocks_tile_a_periodic_stream():
    t = traffic_arrays([TrafficSpec("periodic", period_s=0.0035)], "dl", SLOT_S, np.random.default_rng(2))
    whole = block_arrivals(t, 0, 200, SLOT_S, seed=0, block=0, direction=0)[1]
    parts = np.concatenate([block_arrivals(t, a, 20, SLOT_S, seed=0, block=a, direction=0)[1] for a in range(0, 200, 20)])
    np.testing.assert_array_equal(whole, parts)
