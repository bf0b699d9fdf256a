"""Free-space path loss (Friis): 20 log10(4 pi d f / c), exact constants."""

from __future__ import annotations

import numpy as np

from cellscape._validate import check_range
from cellscape.units import SPEED_OF_LIGHT_M_S


def free_space_path_loss_db(d3d_m, fc_ghz):
    """Free-space path loss 20 log10(4 pi d3D fc / c) [dB] (Friis; ITU-R P.525-4 eq. 4).

    d3d_m > 0 [m], fc_ghz > 0 [GHz]. Note 20 log10(4 pi 1e9 / c) = 32.45 dB, which TR 38.901 rounds to 32.4.

    >>> round(float(free_space_path_loss_db(1000.0, 1.0)), 2)
    92.45
    """
    d = check_range("d3d_m", d3d_m, 1e-3, 1e9, source="Friis free space")
    f = check_range("fc_ghz", fc_ghz, 1e-6, 1e4, source="Friis free space")
    return 20.0 * np.log10(4.0 * np.pi * d * f * 1e9 / SPEED_OF_LIGHT_M_S)
