"""Correlated random fields (propagation/shadowing.py): statistics, tile independence, reproducibility."""

import numpy as np
import pytest
from scipy import stats

from cellscape.errors import OutOfValidityRangeError
from cellscape.propagation.shadowing import LOS_SITE, SF_SITE, exponential_field, field_rng, site_fields

# A single realisation of a field with N features over a large area: its spatial marginal is a sum of
# N cosines. With N = 256 over ~200 decorrelation lengths per side the KS distance to N(0,1) of the
# pooled values of 20 independent fields stays below 0.03 (observed ~0.005-0.015); a wrong spectral
# scale or amplitude gives > 0.1.
MAX_KS_STATISTIC = 0.03


def _pooled(n_fields, d_m=20.0):
    x = np.arange(0.0, 4000.0, 20.0)
    vals = [exponential_field(d_m, rng=np.random.default_rng(i)).on_grid(x, x).ravel() for i in range(n_fields)]
    return np.concatenate(vals)


def test_field_is_unit_gaussian():
    v = _pooled(20)
    assert abs(v.mean()) < 0.05
    assert abs(v.std() - 1.0) < 0.05
    assert stats.kstest(v, "norm").statistic < MAX_KS_STATISTIC


@pytest.mark.parametrize("lag_m", [10.0, 50.0, 100.0])
def test_autocorrelation_is_exponential(lag_m):
    # ensemble over many fields at pairs of points separated by lag_m: E[z z'] = exp(-lag/d).
    d = 50.0
    rng = np.random.default_rng(7)
    x0 = rng.uniform(0, 1e4, 400)
    y0 = rng.uniform(0, 1e4, 400)
    ang = rng.uniform(0, 2 * np.pi, 400)
    prods = []
    for i in range(300):
        f = exponential_field(d, rng=np.random.default_rng(1000 + i))
        a = f.at_points(x0, y0)
        b = f.at_points(x0 + lag_m * np.cos(ang), y0 + lag_m * np.sin(ang))
        prods.append(a * b)
    est = np.mean(prods)
    # 120 000 products of unit-variance variables: standard error ~ 0.004-0.01 (pairs within a field correlate)
    assert est == pytest.approx(np.exp(-lag_m / d), abs=0.03)


def test_tiles_equal_full_grid():
    f = exponential_field(37.0, rng=np.random.default_rng(3))
    x = 385000.0 + np.arange(200) * 5.0
    y = 6672000.0 - np.arange(150) * 5.0
    full = f.on_grid(x, y)
    top = f.on_grid(x, y[:70])
    bottom = f.on_grid(x[50:], y[70:])
    np.testing.assert_allclose(top, full[:70], atol=2e-5)
    np.testing.assert_allclose(bottom, full[70:, 50:], atol=2e-5)
    np.testing.assert_allclose(f.at_points(x[5], y[9]), full[9, 5], atol=2e-4)


def test_site_fields_reproducible_and_correlated():
    kw = dict(shadow_fading=True, statistical_los=True, inter_site_correlation=0.5)
    a = site_fields(11, [50.0, 50.0], [50.0, 50.0], **kw)
    b = site_fields(11, [50.0, 50.0], [50.0, 50.0], **kw)
    x = np.arange(0.0, 3000.0, 15.0)
    za, zb = a.shadow_unit_on_grid(x, x), b.shadow_unit_on_grid(x, x)
    np.testing.assert_array_equal(za, zb)
    r = np.corrcoef(za[0].ravel(), za[1].ravel())[0, 1]
    assert r == pytest.approx(0.5, abs=0.12)
    u = a.los_uniform_on_grid(x, x)
    assert u.min() >= 0.0 and u.max() <= 1.0
    assert stats.kstest(u[0].ravel(), "uniform").statistic < MAX_KS_STATISTIC
    c = site_fields(12, [50.0, 50.0], [50.0, 50.0], **kw)
    assert not np.allclose(c.shadow_unit_on_grid(x, x), za)


def test_off_fields_are_none():
    f = site_fields(0, [50.0], [50.0], shadow_fading=False, statistical_los=False)
    assert f.shadow_unit_on_grid([0.0], [0.0]) is None and f.los_uniform_on_grid([0.0], [0.0]) is None


def test_bad_decorrelation_distance_names_table():
    with pytest.raises(OutOfValidityRangeError, match=r"decorrelation_m=0 is outside .*Table 7\.5-6"):
        exponential_field(0.0, rng=np.random.default_rng(0))


def test_site_fields_are_drawn_on_first_use_with_the_eager_values():
    """Each site's field comes from its own stream (seed, purpose, key): drawing it on first use
    gives the values of drawing every field up front, in any order of use."""
    f = site_fields(7, [37.0, 50.0, 120.0], [50.0, 60.0, 50.0], shadow_fading=True, statistical_los=True,
                    site_keys=[4, 9, 2])
    assert len(f.sf_own) == 3 and len(f.los) == 3 and f.sf_own._drawn == {}
    x, y = np.array([3.0e5, 3.0e5 + 30.0]), np.array([6.6e6])
    for i in (2, 0, -2):                                  # any order; negative from the end
        key, d = [4, 9, 2][i], [37.0, 50.0, 120.0][i]
        eager = exponential_field(d, rng=field_rng(7, SF_SITE, key))
        np.testing.assert_array_equal(f.sf_own[i].on_grid(x, y), eager.on_grid(x, y))
        eager_los = exponential_field([50.0, 60.0, 50.0][i], rng=field_rng(7, LOS_SITE, key))
        np.testing.assert_array_equal(f.los[i].phase_rad, eager_los.phase_rad)
    assert sorted(f.sf_own._drawn) == [0, 1, 2] and f.sf_own[1] is f.sf_own[-2]
    assert [g.decorrelation_m for g in f.sf_own[1:]] == [50.0, 120.0]
    with pytest.raises(IndexError):
        f.sf_own[3]
    with pytest.raises(OutOfValidityRangeError, match="decorrelation_m"):
        site_fields(7, [37.0, 2e4], [50.0, 50.0], shadow_fading=True, statistical_los=False)


def test_field_cosines_and_sines_match_numpy_float64():
    """on_grid's cosines and sines (one numba pass, float32 results) against numpy's float64 cos /
    sin of the same float64 angles: within 4e-8 wherever |angle| < 1e6 rad, and within the float64
    angle's own rounding beyond (map-sized coordinates, every quadrant, the pi / 4 boundaries)."""
    from cellscape.propagation.shadowing import _cos_sin_f32

    rng = np.random.default_rng(7)
    for d_m in (0.5, 37.0, 120.0, 5000.0):
        f = exponential_field(d_m, rng=rng)
        for coord in (rng.uniform(-4e6, 4e6) + 30.0 * np.arange(int(rng.integers(1, 300))),
                      rng.uniform(-20.0, 20.0, 200)):
            for k, with_phase in ((f.kx_rad_m, False), (f.ky_rad_m, True)):
                a = np.multiply.outer(coord, k) + (f.phase_rad if with_phase else 0.0)
                c, s = _cos_sin_f32(coord, k, f.phase_rad, with_phase)
                assert c.dtype == s.dtype == np.float32
                tol = 4e-8 + 2.3e-16 * np.abs(a)
                assert np.all(np.abs(c - np.cos(a)) <= tol) and np.all(np.abs(s - np.sin(a)) <= tol)
    edges = np.pi / 4 * np.arange(-16, 17) + np.array([[-1e-12], [0.0], [1e-12]])     # quadrant edges
    c, s = _cos_sin_f32(edges.ravel(), np.ones(1), np.zeros(1), False)
    np.testing.assert_allclose(c[:, 0], np.cos(edges.ravel()), rtol=0, atol=4e-8)
    np.testing.assert_allclose(s[:, 0], np.sin(edges.ravel()), rtol=0, atol=4e-8)
    c0, s0 = _cos_sin_f32(np.zeros(1), np.ones(1), np.zeros(1), False)
    assert c0[0, 0] == 1.0 and s0[0, 0] == 0.0


def test_one_blas_thread_nests_and_restores():
    """The context counts its users: one inside another (a streamed run on an in-process Dask
    cluster holds it for the whole run while each tile's fields enter it again) keeps BLAS at one
    thread until the outermost one leaves, which restores the count it found."""
    from cellscape.propagation import shadowing

    libs = shadowing._blas_controller().select(user_api="blas").lib_controllers
    if not libs:
        pytest.skip("no BLAS library seen by threadpoolctl")

    def threads():
        return [lib.get_num_threads() for lib in libs]

    before = threads()
    with shadowing.one_blas_thread():
        assert set(threads()) == {1}
        with shadowing.one_blas_thread():
            assert set(threads()) == {1}
        assert set(threads()) == {1} and shadowing._BLAS_USERS == 1
    assert threads() == before and shadowing._BLAS_USERS == 0
