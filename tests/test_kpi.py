"""KPI reductions against hand-computed small maps."""

import json

import numpy as np
from numpy.testing import assert_allclose
import pytest

from cellscape.coverage.result import CoverageResult, SectorTable
from cellscape.errors import OutOfValidityRangeError
from cellscape.geo.grid import RasterGrid
from cellscape.kpi import (coverage_fraction, coverage_kpis, percentiles, served_area_m2_per_sector,
                           served_pixels_per_sector)

NAN = np.nan


def small_result(*, indoor=None, meta=None) -> CoverageResult:
    """2 x 3 pixels of 10 m (100 m^2 each), two sectors; values chosen to be summed by hand."""
    grid = RasterGrid(crs="EPSG:32635", x_min_m=0.0, y_max_m=20.0, resolution_m=10.0, n_rows=2, n_cols=3)
    return CoverageResult(
        grid=grid,
        rsrp_dbm=np.array([[-95.0, -105.0, NAN], [-115.0, -85.0, -125.0]], dtype=np.float32),
        sinr_db=np.array([[10.0, 0.0, NAN], [-5.0, 20.0, -8.0]], dtype=np.float32),
        best_sector=np.array([[0, 1, -1], [1, 0, 0]], dtype=np.int32),
        throughput_bps=np.array([[100e6, 50e6, 0.0], [20e6, 300e6, 0.0]], dtype=np.float32),
        indoor=np.array([[False, True, False], [True, False, False]]) if indoor is None else indoor,
        sectors=SectorTable(sector_id=("A-1", "A-2"), site_id=("A", "A"), x_m=np.array([5.0, 5.0]),
                            y_m=np.array([5.0, 5.0]), azimuth_deg=np.array([0.0, 180.0]),
                            height_m=np.array([25.0, 25.0])),
        meta={"los_mode": "nlos", "n_prb": np.int64(273), "environments": ("UMa",)} if meta is None else meta,
    )


def test_coverage_fraction_counts_nan_as_uncovered():
    rsrp = small_result().rsrp_dbm
    assert coverage_fraction(rsrp, -110.0) == pytest.approx(3 / 6)
    assert coverage_fraction(rsrp, -100.0) == pytest.approx(2 / 6)
    assert coverage_fraction(rsrp, -130.0) == pytest.approx(5 / 6)   # the NaN pixel never counts
    assert_allclose(coverage_fraction(rsrp, [-110.0, -100.0]), [0.5, 1 / 3])


def test_coverage_fraction_threshold_is_inclusive():
    assert coverage_fraction(np.array([-100.0, -100.5]), -100.0) == 0.5


def test_coverage_fraction_with_mask_and_empty_mask():
    r = small_result()
    assert coverage_fraction(r.rsrp_dbm, -100.0, mask=~r.indoor) == pytest.approx(2 / 4)
    assert coverage_fraction(r.rsrp_dbm, -100.0, mask=r.indoor) == 0.0
    assert np.isnan(coverage_fraction(r.rsrp_dbm, -100.0, mask=np.zeros((2, 3), bool)))


def test_mask_shape_and_dtype_are_checked():
    with pytest.raises(ValueError, match=r"mask has shape \(3,\), but rsrp_dbm has shape \(2, 3\)"):
        coverage_fraction(np.zeros((2, 3)), -100.0, mask=np.ones(3, bool))
    with pytest.raises(TypeError, match="bool"):
        coverage_fraction(np.zeros(3), -100.0, mask=np.ones(3))


def test_percentiles_skip_nan_and_interpolate_linearly():
    sinr = small_result().sinr_db            # non-NaN sorted: -8, -5, 0, 10, 20
    assert_allclose(percentiles(sinr, [5, 10, 50, 90, 95]), [-7.4, -6.8, 0.0, 16.0, 18.0], rtol=1e-6)


def test_percentiles_with_minus_inf_take_the_infinite_neighbour():
    p = percentiles(np.array([-np.inf, -np.inf, -100.0, -90.0, -80.0]), [0, 30, 50, 95])
    assert p[0] == -np.inf and p[1] == -np.inf
    assert_allclose(p[2:], [-100.0, -82.0])


def test_percentiles_of_nothing_are_nan_and_range_is_checked():
    assert np.isnan(percentiles(np.array([NAN, NAN]), [5, 50])).all()
    with pytest.raises(OutOfValidityRangeError, match=r"qs=101 is outside \[0, 100\]"):
        percentiles(np.arange(3.0), [50, 101])


def test_served_pixels_and_area():
    best = small_result().best_sector
    assert served_pixels_per_sector(best, 2).tolist() == [3, 2]
    assert served_pixels_per_sector(best, 4).tolist() == [3, 2, 0, 0]
    assert served_area_m2_per_sector(best, 2, 100.0).tolist() == [300.0, 200.0]


def test_served_rejects_out_of_range_indices():
    with pytest.raises(ValueError, match=r"best_sector=2 is outside \[-1, 1\]"):
        served_pixels_per_sector(np.array([0, 2]), 2)
    with pytest.raises(ValueError, match="pixel_area_m2"):
        served_area_m2_per_sector(np.array([0]), 1, 0.0)


def test_coverage_kpis_by_hand():
    k = coverage_kpis(small_result(), rsrp_thresholds_dbm=(-110, -100))
    assert (k["n_pixels"], k["n_pixels_outdoor"], k["n_pixels_indoor"], k["n_pixels_unserved"]) == (6, 4, 2, 1)
    assert k["pixel_area_m2"] == 100.0
    assert k["map_area_km2"] == pytest.approx(6e-4)
    c110, c100 = k["coverage"]["rsrp_dbm >= -110"], k["coverage"]["rsrp_dbm >= -100"]
    assert (c110["all"], c110["outdoor"], c110["indoor"]) == (0.5, 0.5, 0.5)
    assert (c100["all"], c100["outdoor"], c100["indoor"]) == (pytest.approx(1 / 3), 0.5, 0.0)
    assert c110["area_km2"] == pytest.approx(3e-4)
    assert c100["threshold_dbm"] == -100.0
    assert list(k["sinr_db_percentiles"]) == ["5", "10", "50", "90", "95"]
    assert_allclose(list(k["sinr_db_percentiles"].values()), [-7.4, -6.8, 0.0, 16.0, 18.0], rtol=1e-6)
    assert k["throughput_mbps_percentiles"]["50"] == pytest.approx(35.0)     # 0, 0, 20, 50, 100, 300 Mbit/s
    assert k["percentiles_by_location"]["indoor"]["sinr_db"]["50"] == pytest.approx(-2.5)   # 0 and -5 dB
    assert k["sectors"] == [
        {"sector_id": "A-1", "site_id": "A", "served_pixels": 3, "served_area_m2": 300.0, "served_fraction": 0.5},
        {"sector_id": "A-2", "site_id": "A", "served_pixels": 2, "served_area_m2": 200.0,
         "served_fraction": pytest.approx(1 / 3)},
    ]
    assert k["meta"] == {"los_mode": "nlos", "n_prb": 273, "environments": ["UMa"]}
    assert k["grid"]["crs"] == "EPSG:32635"


def test_coverage_kpis_are_json_ready_and_undefined_is_none():
    k = coverage_kpis(small_result(indoor=np.zeros((2, 3), bool)), rsrp_thresholds_dbm=[-110.0])
    assert k["coverage"]["rsrp_dbm >= -110"]["indoor"] is None
    assert all(v is None for v in k["percentiles_by_location"]["indoor"]["sinr_db"].values())
    text = json.dumps(k, allow_nan=False)            # plain Python values only, no NaN
    assert json.loads(text) == k
    assert type(k["meta"]["n_prb"]) is int


def test_bin_index_is_searchsorted_at_the_edges_and_beyond():
    """The guessed-and-corrected bin index is exactly searchsorted's, on the edges, one float either
    side of them, outside the range, at +-inf and NaN, for linear and log bins."""
    from cellscape.kpi import REGION_QUANTITIES, BinnedQuantity

    rng = np.random.default_rng(4)
    odd = BinnedQuantity("x", -3.3, 7.1, step=0.37)          # edges not exact in binary
    for q in (*REGION_QUANTITIES, odd):
        e = q.edges
        v = np.concatenate([rng.uniform(q.lo - 5.0, q.hi + 5.0, 20_000), e, np.nextafter(e, -np.inf),
                            np.nextafter(e, np.inf), [np.nan, np.inf, -np.inf, 0.0, -0.0]])
        v32 = v.astype(np.float32)                                # the maps' dtype
        for values in (v, v32):
            want = np.where(np.isnan(values), -1, np.searchsorted(e, np.asarray(values, float), side="right"))
            np.testing.assert_array_equal(q.bin_index(values), want)
    assert odd.bin_index(np.array([[-3.3, 7.1], [np.nan, -4.0]])).tolist() == [[1, odd.n_bins - 1], [-1, 0]]
