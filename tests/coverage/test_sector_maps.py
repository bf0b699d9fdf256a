"""Per-sector maps are the coverage map's per-sector terms: their maximum is the best-server RSRP."""

import numpy as np
import pytest

from cellscape.coverage.engine import compute_coverage, sector_maps
from cellscape.errors import GeometryError
from cellscape.pipeline import localize
from cellscape.scenario.model import parse_scenario

X0, Y0 = 385_000.0, 6_671_000.0


@pytest.fixture(scope="module")
def scenario():
    sites = [{"site_id": f"S{i}", "x": X0 + 100 + 250 * i, "y": Y0 + 150 + 60 * i, "height_m": 25,
              "sectors": [{"azimuth_deg": a, "tx_power_dbm": 46} for a in (0, 120, 240)]} for i in range(3)]
    return parse_scenario({"name": "t", "seed": 4, "environment": "UMa", "shadow_fading": True,
                           "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 700, Y0 + 400], "resolution_m": 10},
                           "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30}, "sites": sites})


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_max_over_sectors_is_the_coverage_rsrp(scenario, backend):
    grid, xy = localize(scenario)
    cov = compute_coverage(scenario, grid, xy, backend=backend)
    m = sector_maps(scenario, grid, xy, backend=backend)
    assert m.rsrp_dbm.shape == (9,) + grid.shape and m.los.shape == (3,) + grid.shape
    np.testing.assert_allclose(m.rsrp_dbm.max(axis=0), cov.rsrp_dbm, atol=1e-4)
    np.testing.assert_array_equal(np.argmax(m.rsrp_dbm, axis=0), cov.best_sector)
    # coupling loss = power per RE - RSRP: positive, and the same per site for co-located sectors' boresights
    assert np.all(m.tx_power_per_re_dbm[:, None, None] - m.rsrp_dbm > 40)


def test_pixel_index_and_size_limit(scenario):
    grid, xy = localize(scenario)
    m = sector_maps(scenario, grid, xy)
    r, c = m.pixel_index(np.array([X0 + 5, X0 + 695, X0 - 50]), np.array([Y0 + 395, Y0 + 5, Y0 + 200]))
    assert r.tolist() == [0, grid.n_rows - 1, 20] and c.tolist() == [0, grid.n_cols - 1, 0]
    with pytest.raises(GeometryError, match="per-sector maps of 9 sectors"):
        sector_maps(scenario, grid, xy, max_output_mb=0.01)
