"""The cutoff's budget relative to the kept interference (cellscape.coverage.cutoff, "Relative to the
interference"): the gain read from the kernel's outputs by hand, and a dense network where it leaves
out more sites than the noise budget while the map stays within the bound of the full sum."""

import dataclasses
import math

import numpy as np
import pytest

from cellscape.coverage import cutoff
from cellscape.coverage.engine import compute_coverage
from cellscape.pipeline import localize
from cellscape.scenario.records import Area, Carrier, Receiver, Scenario, Sector, Site

X0, Y0 = 385_000.0, 6_671_000.0


def test_interference_gain_by_hand():
    # S = -80 dBm, SINR = 10 dB: L I + N = 1e-8 / 10 = 1e-9 mW; N = 1e-12 mW: Q = 1000 (30 dB);
    # a pixel 10 dB indoors counts its interference before the entry loss: 10,000
    rsrp = np.array([[-80.0, -80.0]], dtype=np.float32)
    sinr = np.array([[10.0, 10.0]], dtype=np.float32)
    q = cutoff.interference_gain(rsrp, sinr, np.zeros((1, 2)), 1e-12)
    assert q == pytest.approx(1000.0 * (1 - cutoff.GAIN_MARGIN), rel=1e-5)
    q_in = cutoff.interference_gain(rsrp[:, :1], sinr[:, :1], np.full((1, 1), 10.0), 1e-12)
    assert q_in == pytest.approx(10_000.0 * (1 - cutoff.GAIN_MARGIN), rel=1e-5)
    # never below 1 (noise alone), and a pixel without a server counts as noise alone
    assert cutoff.interference_gain(np.array([[-200.0]]), np.array([[40.0]]), np.zeros((1, 1)), 1e-12) == 1.0
    assert cutoff.interference_gain(np.array([[-np.inf]]), np.array([[-np.inf]]), np.zeros((1, 1)), 1e-12) == 1.0


def dense_network(seed=2):
    # UMa macros every ~300 m over 12 km, mapped over the central 6 km at 60 m (interference 20 to 40 dB
    # above the noise everywhere on the map), NLOS, no shadowing
    rng = np.random.default_rng(seed)
    sites = []
    for i in range(40):
        for j in range(40):
            x = X0 - 3000.0 + (i + 0.5 + rng.uniform(-0.2, 0.2)) * 300.0
            y = Y0 - 3000.0 + (j + 0.5 + rng.uniform(-0.2, 0.2)) * 300.0
            az = rng.uniform(0, 120)
            sites.append(Site(site_id=f"S{i}-{j}", x=x, y=y, height_m=25.0,
                              sectors=tuple(Sector(azimuth_deg=(az + k * 120.0) % 360.0, tx_power_dbm=49.0)
                                            for k in range(3))))
    return Scenario(name="dense", area=Area(bounds=(X0, Y0, X0 + 6000.0, Y0 + 6000.0), resolution_m=60.0,
                                            crs="EPSG:32635"),
                    carrier=Carrier(fc_ghz=3.5, bandwidth_mhz=100.0, scs_khz=30.0, dl_load_factor=1.0),
                    sites=tuple(sites), environment="UMa", receiver=Receiver(height_m=1.5), los_mode="nlos",
                    shadow_fading=False, seed=seed, interference_cutoff_db=0.1)


def test_dense_network_keeps_fewer_sites_and_stays_within_the_bound(monkeypatch):
    sc = dense_network()
    grid, xy = localize(sc)
    full = compute_coverage(dataclasses.replace(sc, interference_cutoff_db=None), grid, xy, backend="numba")
    cut = compute_coverage(sc, grid, xy, backend="numba")
    monkeypatch.setattr(cutoff, "RELATIVE_GAIN_DB", 0.0)          # the noise's budget only
    noise_only = compute_coverage(sc, grid, xy, backend="numba")
    kept = cut.meta["interference_cutoff"]["kept_site_fraction"]
    kept_noise = noise_only.meta["interference_cutoff"]["kept_site_fraction"]
    assert kept < 0.9 * kept_noise                                 # 0.81 against 1.00 when written
    for res in (cut, noise_only):
        np.testing.assert_array_equal(res.best_sector, full.best_sector)
        np.testing.assert_array_equal(res.rsrp_dbm, full.rsrp_dbm)
        diff = res.sinr_db.astype(float) - full.sinr_db.astype(float)
        assert diff.min() >= -1e-4 and diff.max() <= 0.1 + 1e-4
        assert diff.max() <= res.meta["interference_cutoff"]["sinr_error_bound_db"] + 1e-4
    assert math.isfinite(cut.meta["interference_cutoff"]["sinr_error_bound_db"])
