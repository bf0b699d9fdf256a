"""TDL fast-fading bank: unit mean, Rayleigh statistics, frequency selectivity, periodic wrap."""

import numpy as np
import pytest

from cellscape.errors import InvalidChoiceError
from cellscape.propagation.fast_fading import TDL_PROFILES, build_fading_bank, doppler_hz, sample_index, tdl_taps


@pytest.fixture(scope="module")
def bank():
    return build_fading_bank(scs_khz=30.0, n_cols=64, rbg_size=16, delay_spread_ns=300.0, n_samples=4096,
                             rng=np.random.default_rng(5))


def test_profiles_match_tables():
    assert len(TDL_PROFILES["TDL-A"].powers_db) == 23 and len(TDL_PROFILES["TDL-C"].powers_db) == 24
    assert len(TDL_PROFILES["TDL-D"].powers_db) == 12 and TDL_PROFILES["TDL-D"].k_factor_db == 13.3
    for name in TDL_PROFILES:
        d, p, los = tdl_taps(name, 100.0)
        assert p.sum() + los == pytest.approx(1.0)
        assert d.max() == pytest.approx(max(TDL_PROFILES[name].normalized_delays) * 100e-9)


def test_unit_mean_and_rbg_is_the_prb_mean(bank):
    assert bank.prb.mean(axis=(1, 2)) == pytest.approx([1.0, 1.0], abs=1e-5)
    assert bank.rbg[0, 7, 1] == pytest.approx(bank.prb[0, 7, 16:32].mean(), rel=1e-5)


def test_nlos_gain_is_exponential(bank):
    """|H|^2 of a Rayleigh channel: P(g < x) = 1 - exp(-x)."""
    g = bank.prb[0].ravel()
    for x in (0.1, 0.5, 1.0, 2.0, 3.0):
        assert np.mean(g < x) == pytest.approx(1 - np.exp(-x), abs=0.03)


def test_los_profile_fades_less(bank):
    assert bank.prb[1].var() < 0.5 * bank.prb[0].var()


def test_frequency_correlation_falls_with_delay_spread():
    def corr(ds):
        b = build_fading_bank(scs_khz=30.0, n_cols=32, rbg_size=2, delay_spread_ns=ds, n_samples=2048,
                              profiles=("TDL-C",), rng=np.random.default_rng(2))
        x = b.prb[0]
        return np.corrcoef(x[:, 0], x[:, 2])[0, 1]

    assert corr(30.0) > corr(300.0) > corr(1000.0)


def test_time_correlation_over_a_doppler_cycle(bank):
    x = bank.prb[0, :, 0]
    lag = lambda k: np.corrcoef(x[:-k], x[k:])[0, 1]  # noqa: E731
    assert lag(1) > 0.95                     # 0.02 Doppler cycles apart: nearly the same
    assert abs(lag(50)) < 0.5                # one Doppler cycle apart: decorrelated (J0^2 at 2 pi)


def test_bank_wraps_without_a_jump(bank):
    """Sinusoids on whole periods: the step over the end equals a step inside."""
    x = bank.prb[0, :, 3]
    steps = np.abs(np.diff(x))
    assert abs(x[0] - x[-1]) < 5 * np.percentile(steps, 99)
    assert sample_index(4096 * 0.02 + 0.02 * 3.5, 0.0, 0.02, 4096) == 3


def test_doppler():
    assert float(doppler_hz(30 / 3.6, 3.5)) == pytest.approx(30 / 3.6 * 3.5e9 / 299_792_458.0)


def test_bad_inputs():
    with pytest.raises(InvalidChoiceError, match="TDL-A"):
        tdl_taps("TDL-X", 100.0)
    with pytest.raises(InvalidChoiceError, match="multiple"):
        build_fading_bank(scs_khz=30.0, n_cols=30, rbg_size=16, delay_spread_ns=100.0)
