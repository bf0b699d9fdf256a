"""Small networks for the simulator tests: a real scenario (no buildings) and its per-sector maps."""

from dataclasses import replace

import numpy as np
import pytest

from cellscape.coverage.engine import sector_maps
from cellscape.pipeline import localize
from cellscape.scenario.model import parse_scenario
from cellscape.scenario.simulation import parse_simulation

X0, Y0 = 385_000.0, 6_671_000.0


def scenario(n_sites=1, sectors=1, **over):
    sites = []
    for i in range(n_sites):
        az = [0, 120, 240][:sectors] if sectors > 1 else [90]
        sites.append({"site_id": f"S{i}", "x": X0 + 150 + 300 * i, "y": Y0 + 200, "height_m": 25,
                      "sectors": [{"azimuth_deg": a, "tx_power_dbm": 46} for a in az]})
    d = {"name": "tiny", "seed": 3, "environment": "UMa",
         "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 300 * n_sites, Y0 + 400], "resolution_m": 10},
         "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30}, "sites": sites}
    d.update(over)
    return parse_scenario(d)


def simulation(sc, users, **over):
    block = {"duration_s": 0.1, "warmup_s": 0.01, "users": users,
             "fading": {"enabled": False}, "duplex": {"mode": "fdd"}, "uplink": {"enabled": False},
             "devices": {"phone1": {"base_on": "smartphone", "n_rx": 1}}}
    block.update(over)
    return parse_simulation({"simulation": block}, sc)


def maps_for(sc):
    grid, xy = localize(sc)
    return {sc.receiver.height_m: sector_maps(sc, grid, xy)}


@pytest.fixture(scope="session")
def one_sector():
    sc = scenario()
    return sc, maps_for(sc)


@pytest.fixture(scope="session")
def two_sites():
    sc = scenario(n_sites=2, sectors=3)
    return sc, maps_for(sc)


def flat(maps, rsrp_dbm):
    """The same maps with every pixel's RSRP replaced (per sector) by constants."""
    (h, m), = maps.items()
    r = np.broadcast_to(np.asarray(rsrp_dbm, dtype=np.float32)[:, None, None], m.rsrp_dbm.shape).copy()
    return {h: replace(m, rsrp_dbm=r)}
