"""The LOS uniform is taken only where it can matter (shadowing.los_skip_threshold,
engine.los_probability_bound): the maps are the same bits as with every uniform taken."""

import dataclasses

import numpy as np
import pytest
from scipy.special import ndtr

from cellscape.coverage import engine
from cellscape.coverage.backends.numpy_kernel import _lerp_rows
from cellscape.coverage.engine import compute_coverage, los_probability_bound, prepare
from cellscape.pipeline import localize
from cellscape.propagation.shadowing import exponential_field, los_skip_threshold, SiteFields

from .test_cutoff import network


@pytest.mark.parametrize("p_max", [0.0, 1e-9, 3e-4, 0.02, 0.3, 0.9, 0.9998])
def test_skipped_uniforms_compare_as_the_taken_ones(p_max):
    """For every probability up to p_max, U < p reads the same with the skipped pixels set to 1."""
    rng = np.random.default_rng(3)
    fields = SiteFields(0.5, None, None, tuple(exponential_field(50.0, rng=rng) for _ in range(3)))
    x = np.arange(300) * 7.3 + 1.0e5
    full = fields.los_uniform_on_grid(x, x)
    skip = fields.los_uniform_on_grid(x, x, np.full(3, p_max))
    taken = skip < 1.0
    np.testing.assert_array_equal(skip[taken], full[taken])
    probe = np.concatenate([np.linspace(0.0, p_max, 101), np.nextafter(np.float32(p_max), np.float32(0.0))[None]])
    for p in probe:
        np.testing.assert_array_equal(skip < p, full < p)
    if p_max < 0.5:
        assert taken.mean() < 0.6            # most of the uniforms are not taken


def test_threshold_is_none_where_nothing_can_be_skipped():
    assert los_skip_threshold(np.inf) is None and los_skip_threshold(1.0) is None
    assert los_skip_threshold(0.0) < -7.0
    z = np.float32(los_skip_threshold(0.05))
    assert np.float32(ndtr(z)) > 0.05          # the first skipped z already exceeds p_max


def _p_los_read(st, sites, x, y):
    """The LOS probability the numpy kernel compares with at every pixel, (n_sites, n_rows, n_cols)."""
    sx, sy = st.site_x_m[sites], st.site_y_m[sites]
    d = np.hypot(x[None, None, :] - sx[:, None, None], y[None, :, None] - sy[:, None, None])
    u = np.sqrt(d) / st.u_step
    idx = np.minimum(u.astype(np.int64), st.p_los.shape[1] - 2)
    return _lerp_rows(st.p_los, idx, u - idx, st.site_rows()[sites])


def test_bound_covers_every_pixel_of_a_tile():
    sc = network(30, 20_000.0, 200.0, los_mode="statistical", seed=4)
    grid, xy = localize(sc)
    run = prepare(sc, grid, xy)
    x, y = grid.x_centers_m(slice(10, 60)), grid.y_centers_m(slice(20, 45))
    sites = np.arange(0, 30, 2)
    bound = los_probability_bound(run.static, sites, x, y)
    read = _p_los_read(run.static, sites, x, y)
    assert np.all(np.isfinite(bound))
    assert np.all(read.max(axis=(1, 2)) <= bound)
    assert np.all(bound <= 1.0)


@pytest.mark.parametrize("shadow", [False, True])
def test_maps_are_the_same_bits_without_the_skip(backend, shadow, monkeypatch):
    """A wide map (far sites: small p_LOS, most uniforms skipped), full sum and with the cutoff."""
    sc = network(40, 30_000.0, 150.0, los_mode="statistical", shadow=shadow, seed=2)
    grid, xy = localize(sc)
    bound, bounds = engine.los_probability_bound, []

    def recorded(st, sites, x, y):
        bounds.append(bound(st, sites, x, y))
        return bounds[-1]

    runs = []
    for skip in (True, False):
        if skip:
            monkeypatch.setattr(engine, "los_probability_bound", recorded)
        else:
            assert np.min(np.concatenate(bounds)) < 0.05       # the skip ran: far sites' p_LOS is small
            monkeypatch.setattr(engine, "los_probability_bound",
                                lambda st, sites, x, y: np.full(st.n_sites if sites is None else len(sites), np.inf))
        for cut in (None, sc.interference_cutoff_db):
            runs.append(compute_coverage(dataclasses.replace(sc, interference_cutoff_db=cut), grid, xy,
                                         backend=backend))
    for a, b in zip(runs[:2], runs[2:]):
        for name in ("rsrp_dbm", "sinr_db", "best_sector"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
