"""Free-space path loss (Friis) with the exact speed of light."""

from __future__ import annotations

import numpy as np

from cellscape.errors import OutOfValidityRangeError
from cellscape.units import SPEED_OF_LIGHT_M_S

_SOURCE = "ITU-R P.525-4 eq. (4) (free space)"


def _check_positive(name: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    bad = ~(arr > 0.0) & ~np.isnan(arr)
    if np.any(bad):
        raise OutOfValidityRangeError(
            f"{name}={arr[bad].flat[0]:g} is outside (0, inf), the validity range of {_SOURCE} "
            f"({np.count_nonzero(bad)} of {arr.size} values)")
    return arr


def free_space_path_loss_db(d3d_m, fc_ghz):
    """Free-space path loss between isotropic antennas, 20 log10(4 pi d f / c) [dB].

    Parameters
    ----------
    d3d_m : array_like
        Straight-line distance, > 0 (far field assumed). [m]
    fc_ghz : array_like
        Carrier frequency, > 0. [GHz]

    Returns
    -------
    path_loss_db : ndarray
        20 log10(4 pi d3D fc / c), f in Hz and c = 299 792 458 m/s, broadcast shape of the inputs. [dB]

    Raises
    ------
    OutOfValidityRangeError
        If a distance or frequency is not positive (NaN passes through).

    Notes
    -----
    With d in m and fc in GHz this is 32.45 + 20 log10(fc) + 20 log10(d): TR 38.901 rounds the
    constant 20 log10(4 pi 1e9 / c) = 32.4478 dB to 32.4 in its path-loss formulas.

    References
    ----------
    .. [1] ITU-R P.525-4, "Calculation of free-space attenuation", eq. (4).

    Examples
    --------
    >>> round(float(free_space_path_loss_db(1000.0, 1.0)), 2)
    92.45
    """
    d = _check_positive("d3d_m", d3d_m)
    f_hz = _check_positive("fc_ghz", fc_ghz) * 1e9
    return 20.0 * np.log10(4.0 * np.pi * d * f_hz / SPEED_OF_LIGHT_M_S)
