"""Synthetic load histories (cellscape.ai.loadgen): shapes, range, determinism, profiles, holidays, shifts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cellscape.ai.loadgen import (
    CELL_TYPES,
    LoadHistory,
    LoadShift,
    daily_profile,
    day_kinds,
    generate_load_history,
    weekday_of,
)
from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError

TYPES = np.array(CELL_TYPES)


def _history(**kw):
    args = dict(n_days=14, seed=3, noise_std=0.0, day_level_std=0.0)
    args.update(kw)
    return generate_load_history([0.8, 0.6, 0.7], list(CELL_TYPES), **args)


def _daily_mean(h: LoadHistory) -> np.ndarray:
    """(n_cells, n_days) mean load of each day."""
    per_day = int(86400 // h.step_s)
    return h.load.reshape(h.n_cells, -1, per_day).mean(axis=2)


def test_shapes_timestamps_and_ids():
    h = generate_load_history([0.5, 0.4], ["business", "transport"], n_days=3, step_s=3600, seed=0)
    assert isinstance(h, LoadHistory)
    assert h.load.shape == (2, 72) and h.load.dtype == np.float64
    ts = h.timestamps()
    assert ts.dtype == np.dtype("datetime64[s]") and ts.shape == (72,)
    assert str(ts[0]) == "2026-01-05T00:00:00" and str(ts[-1]) == "2026-01-07T23:00:00"
    assert h.cell_id.tolist() == ["cell000", "cell001"]
    assert h.cell_type.tolist() == ["business", "transport"]
    named = generate_load_history([0.5], ["residential"], n_days=1, seed=0, cell_id=["A-1"])
    assert named.cell_id.tolist() == ["A-1"]


@settings(max_examples=15)
@given(
    peak=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=4),
    seed=st.integers(0, 2**32 - 1),
    noise=st.floats(0.0, 0.5),
)
def test_load_within_unit_interval_and_deterministic(peak, seed, noise):
    types = TYPES[np.arange(len(peak)) % 3]
    a = generate_load_history(peak, types, n_days=2, step_s=1800, seed=seed, noise_std=noise)
    b = generate_load_history(peak, types, n_days=2, step_s=1800, seed=seed, noise_std=noise)
    assert np.all((a.load >= 0.0) & (a.load <= 1.0))
    np.testing.assert_array_equal(a.load, b.load)


def test_seed_changes_noise_only():
    a = generate_load_history([0.7], ["business"], n_days=7, seed=1)
    b = generate_load_history([0.7], ["business"], n_days=7, seed=2)
    assert not np.array_equal(a.load, b.load)
    # same profile: the daily means agree to within the day-level and noise spread
    np.testing.assert_allclose(_daily_mean(a), _daily_mean(b), rtol=0.25)


def test_noise_free_peak_equals_peak_load():
    # without noise, the week's highest sample is the busy-hour load (sampling at the 15-min midpoints)
    h = _history(n_days=7)
    np.testing.assert_allclose(h.load.max(axis=1), [0.8, 0.6, 0.7], rtol=0.01)


def test_profile_shapes_by_type():
    # busy hours: business in working hours, residential in the evening, transport at the commutes
    hours = np.arange(0.0, 24.0, 0.25)
    bus = daily_profile("business", "weekday", hours)
    assert 9.0 <= hours[np.argmax(bus)] <= 16.0
    res = daily_profile("residential", "weekday", hours)
    assert 20.0 <= hours[np.argmax(res)] <= 22.0
    tra = daily_profile("transport", "weekday", hours)
    assert tra[hours == 8.0] > 2.5 * tra[hours == 12.0]
    assert tra[hours == 17.75] > 2.5 * tra[hours == 12.0]
    for t in CELL_TYPES:  # nights are quiet
        assert daily_profile(t, "weekday", 4.0) < 0.15


def test_weekday_weekend_differences_per_type():
    h = _history(n_days=14)
    m = _daily_mean(h)  # days 0..4 Mon-Fri, 5 Sat, 6 Sun
    weekday, sunday = m[:, 0:5].mean(axis=1), m[:, 6]
    business, residential, transport = 0, 1, 2
    assert sunday[business] < 0.4 * weekday[business]
    assert sunday[residential] > 1.1 * weekday[residential]
    assert sunday[transport] < 0.8 * weekday[transport]
    # the two weeks repeat exactly without noise
    np.testing.assert_allclose(h.load[:, : 7 * 96], h.load[:, 7 * 96:])


def test_holiday_behaves_like_sunday():
    # Tuesday 2026-01-06 declared a holiday: its samples equal Sunday 2026-01-11's (noise-free)
    h = _history(n_days=7, holidays=["2026-01-06"])
    tuesday = h.load[:, 96:192]
    sunday = h.load[:, 6 * 96: 7 * 96]
    np.testing.assert_allclose(tuesday, sunday)
    plain = _history(n_days=7)
    assert not np.allclose(plain.load[:, 96:192], sunday)
    assert day_kinds(np.array(["2026-01-06T12:00"], dtype="datetime64[s]"), ["2026-01-06"]).tolist() == [2]


def test_weekday_of():
    ts = np.array(["2026-01-05", "2026-01-09", "2026-01-10", "2026-01-11", "1970-01-01"], dtype="datetime64[s]")
    assert weekday_of(ts).tolist() == [0, 4, 5, 6, 3]


def test_shift_changes_types_as_specified():
    shift = LoadShift(7, {"business": 0.4, "residential": 1.25})
    plain = _history(n_days=14)
    shifted = _history(n_days=14, shift=shift)
    # before the shift: identical
    np.testing.assert_allclose(shifted.load[:, : 7 * 96], plain.load[:, : 7 * 96])
    ratio = shifted.load[:, 7 * 96:].sum(axis=1) / plain.load[:, 7 * 96:].sum(axis=1)
    assert ratio[0] == pytest.approx(0.4)
    assert ratio[1] == pytest.approx(1.25, rel=0.01)  # the residential peak 0.6 x 1.25 stays under 1
    assert ratio[2] == pytest.approx(1.0)  # transport not named: unchanged


def test_shift_saturates_at_one():
    h = generate_load_history([0.9], ["residential"], n_days=7, seed=0, noise_std=0.0, day_level_std=0.0,
                              shift=LoadShift(0, {"residential": 2.0}))
    assert h.load.max() == 1.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(peak_load=[1.2]), OutOfValidityRangeError, "peak_load"),
        (dict(cell_type=["office"]), InvalidChoiceError, "cell_type"),
        (dict(cell_type=["business", "business"]), OutOfValidityRangeError, "2 entries for 1 cells"),
        (dict(n_days=0), OutOfValidityRangeError, "n_days"),
        (dict(step_s=1000.0), OutOfValidityRangeError, "divides a day"),
        (dict(holidays=["not a date"]), OutOfValidityRangeError, "holidays"),
        (dict(start="yesterday-ish"), OutOfValidityRangeError, "start"),
    ],
)
def test_bad_inputs_raise(kwargs, error, match):
    args = dict(peak_load=[0.5], cell_type=["business"], n_days=2, seed=0)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        generate_load_history(**args)


def test_bad_shift_raises():
    with pytest.raises(InvalidChoiceError, match="office"):
        LoadShift(3, {"office": 0.5})
    with pytest.raises(OutOfValidityRangeError, match="start_day"):
        LoadShift(-1, {})
    with pytest.raises(OutOfValidityRangeError, match=">= 0"):
        LoadShift(1, {"business": -0.1})
