import importlib.util

import numpy as np
import pytest

from cellscape.scenario.records import AntennaSpec, Area, Carrier, Receiver, Scenario, Sector, Site

requires_numba = pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="needs numba")

X0, Y0 = 385_000.0, 6_671_000.0


def small_scenario(*, los_mode="nlos", shadow=False, n_sites=3, resolution_m=10.0, side_m=1200.0, seed=5,
                   antenna=AntennaSpec(n_rows=4), load=1.0, environment="UMa", **kw):
    rng = np.random.default_rng(0)
    sites = []
    for i in range(n_sites):
        x = X0 + rng.uniform(0.2, 0.8) * side_m
        y = Y0 + rng.uniform(0.2, 0.8) * side_m
        secs = tuple(Sector(azimuth_deg=az, tx_power_dbm=46.0, elec_tilt_deg=6.0, antenna=antenna)
                     for az in (10.0 * i, 10.0 * i + 120.0, 10.0 * i + 240.0))
        sites.append(Site(site_id=f"S{i}", x=x, y=y, height_m=25.0, sectors=secs))
    return Scenario(name="t", area=Area(bounds=(X0, Y0, X0 + side_m, Y0 + side_m), resolution_m=resolution_m,
                                        crs="EPSG:32635"),
                    carrier=Carrier(fc_ghz=3.5, bandwidth_mhz=100.0, scs_khz=30.0, dl_load_factor=load),
                    sites=tuple(sites), environment=environment, receiver=Receiver(height_m=1.5),
                    los_mode=los_mode, shadow_fading=shadow, seed=seed, **kw)


@pytest.fixture(params=["numpy", pytest.param("numba", marks=requires_numba)])
def backend(request):
    return request.param


@pytest.fixture
def make_scenario():
    return small_scenario
