"""p-median and p-center placement against brute force over every set of k locations."""

import itertools

import numpy as np
import pytest

from cellscape.planning.facilities import PlacementError, place_facilities


def matrix(seed, n=25, m=7):
    rng = np.random.default_rng(seed)
    sites, locs = rng.uniform(0, 10, (n, 2)), rng.uniform(0, 10, (m, 2))
    return np.hypot(*(sites[:, None, :] - locs[None, :, :]).transpose(2, 0, 1)), rng.uniform(0.5, 3.0, n)


@pytest.mark.parametrize(("seed", "k"), [(0, 1), (1, 2), (2, 3), (3, 4)])
def test_p_median_and_p_center_equal_brute_force(seed, k):
    d, w = matrix(seed)
    sets = [list(s) for s in itertools.combinations(range(d.shape[1]), k)]
    best_mean = min(np.sum(w * d[:, s].min(axis=1)) / w.sum() for s in sets)
    best_max = min(d[:, s].min(axis=1).max() for s in sets)
    med = place_facilities(d, k, objective="p_median", weight=w)
    cen = place_facilities(d, k, objective="p_center")
    assert med.status == "optimal" and len(med.chosen) == k
    assert med.mean_distance == pytest.approx(best_mean, rel=1e-7)
    assert cen.max_distance == pytest.approx(best_max, rel=1e-7)
    assert np.all(med.distance == d[np.arange(d.shape[0]), med.assignment])
    assert cen.max_distance <= med.max_distance + 1e-9 and med.mean_distance <= np.sum(w * cen.distance) / w.sum() + 1e-9


def test_unservable_site_and_bad_k_are_clear_errors():
    d = np.array([[1.0, np.inf], [np.inf, np.inf]])
    with pytest.raises(PlacementError, match=r"1 site\(s\) cannot be served from any location \(first: row 1\)"):
        place_facilities(d, 1)
    with pytest.raises(PlacementError, match="k must be between 1 and the 2 candidate locations, got 3"):
        place_facilities(np.ones((2, 2)), 3)
    with pytest.raises(PlacementError, match="objective must be"):
        place_facilities(np.ones((2, 2)), 1, objective="p_mean")


def test_infinite_entries_are_never_used():
    d = np.array([[1.0, np.inf, 5.0], [np.inf, 1.0, 5.0], [np.inf, np.inf, 2.0]])
    p = place_facilities(d, 2, objective="p_median")
    assert np.isfinite(p.distance).all() and 2 in p.chosen.tolist()
