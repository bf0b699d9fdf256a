"""Free-space path loss (cellscape.propagation.free_space)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cellscape.errors import OutOfValidityRangeError
from cellscape.propagation.free_space import free_space_path_loss_db
from cellscape.propagation.tr38901 import inh_los_path_loss_db


@pytest.mark.parametrize("d3d_m,fc_ghz,expected_db", [
    # 20 log10(4 pi d f / c), c = 299 792 458 m/s; worked: 4 pi * 1000 * 1e9 / c = 41 916.9 -> 92.4478 dB
    (1000.0, 1.0, 92.4478),
    # 4 pi * 100 * 3.5e9 / c = 14 670.9 -> 83.3291 dB
    (100.0, 3.5, 83.3291),
    # 4 pi * 1 * 28e9 / c = 1173.67 -> 61.3909 dB
    (1.0, 28.0, 61.3909),
])
def test_worked_values(d3d_m, fc_ghz, expected_db):
    # the worked values are rounded to 1e-4 dB: tolerance 1e-3 dB
    assert float(free_space_path_loss_db(d3d_m, fc_ghz)) == pytest.approx(expected_db, abs=1e-3)


@settings(max_examples=50, deadline=None)
@given(d=st.floats(1e-2, 1e6), fc=st.floats(0.1, 300.0))
def test_doubling_distance_or_frequency_adds_6_db(d, fc):
    base = free_space_path_loss_db(d, fc)
    assert free_space_path_loss_db(2 * d, fc) - base == pytest.approx(20 * np.log10(2), abs=1e-9)
    assert free_space_path_loss_db(d, 2 * fc) - base == pytest.approx(20 * np.log10(2), abs=1e-9)


def test_tr38901_constant_is_the_rounded_free_space_constant():
    # TR 38.901 writes 32.4 for 20 log10(4 pi 1e9 / c) = 32.4478: InH LOS at d3D = 1 m is 32.4 + 20 log10 fc
    assert float(free_space_path_loss_db(1.0, 1.0)) == pytest.approx(32.4478, abs=1e-4)
    assert float(inh_los_path_loss_db(0.0, 2.0, 1.0, 1.0)) == pytest.approx(32.4, abs=1e-12)


def test_broadcasts():
    assert free_space_path_loss_db(np.array([1.0, 10.0]), np.array([[1.0], [2.0]])).shape == (2, 2)


def test_non_positive_inputs_raise():
    with pytest.raises(OutOfValidityRangeError, match=r"d3d_m=0 is outside \(0, inf\).*P\.525"):
        free_space_path_loss_db([0.0, 5.0], 3.5)
    with pytest.raises(OutOfValidityRangeError, match=r"fc_ghz=-1 is outside \(0, inf\)"):
        free_space_path_loss_db(10.0, -1.0)
    assert np.isnan(free_space_path_loss_db(np.nan, 3.5))
