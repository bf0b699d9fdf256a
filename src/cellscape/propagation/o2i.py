"""Outdoor-to-indoor (O2I) building and car penetration loss of 3GPP TR 38.901, Section 7.4.3.

PL = PL_b + PL_tw + PL_in + N(0, sigma_P^2): the outdoor path loss PL_b (tr38901) plus the
loss through the external wall PL_tw, the indoor loss PL_in = 0.5 d_2D-in and a Gaussian spread.
fc in GHz, distances in m, losses in dB.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from cellscape._validate import check_choice, check_range

SPEC = "3GPP TR 38.901 V18.0.0"
_T1 = f"{SPEC} Table 7.4.3-1"
_T2 = f"{SPEC} Table 7.4.3-2"

Material = Literal["standard_glass", "irr_glass", "concrete", "wood"]
O2IModel = Literal["low", "high"]

_MATERIAL = {  # L = a + b * fc [dB], Table 7.4.3-1
    "standard_glass": (2.0, 0.2), "irr_glass": (23.0, 0.3), "concrete": (5.0, 4.0), "wood": (4.85, 0.12),
}
_SIGMA_P_DB = {"low": 4.4, "high": 6.5}   # Table 7.4.3-2


def material_penetration_loss_db(fc_ghz, material: Material):
    """Penetration loss of one material (Table 7.4.3-1) [dB].

    >>> round(float(material_penetration_loss_db(3.5, "concrete")), 2)
    19.0
    """
    check_choice("material", material, tuple(_MATERIAL))
    fc = check_range("fc_ghz", fc_ghz, 0.5, 100.0, source=_T1)
    a, b = _MATERIAL[material]
    return a + b * fc


def o2i_wall_loss_db(fc_ghz, *, model: O2IModel):
    """Loss through the external wall PL_tw, including its 5 dB (Table 7.4.3-2) [dB].

    low: 5 - 10 log10(0.3 10^(-L_glass/10) + 0.7 10^(-L_concrete/10));
    high: 5 - 10 log10(0.7 10^(-L_IRRglass/10) + 0.3 10^(-L_concrete/10)).

    >>> round(float(o2i_wall_loss_db(3.5, model="low")), 2)
    12.7
    """
    check_choice("model", model, ("low", "high"))
    if model == "low":
        parts = ((0.3, "standard_glass"), (0.7, "concrete"))
    else:
        parts = ((0.7, "irr_glass"), (0.3, "concrete"))
    mix = sum(w * 10.0 ** (-material_penetration_loss_db(fc_ghz, m) / 10.0) for w, m in parts)
    return 5.0 - 10.0 * np.log10(mix)


def o2i_indoor_loss_db(d2d_in_m):
    """Indoor loss PL_in = 0.5 d_2D-in (Table 7.4.3-2) [dB].

    >>> float(o2i_indoor_loss_db(10.0))
    5.0
    """
    return 0.5 * check_range("d2d_in_m", d2d_in_m, 0.0, 1e4, source=_T2)


def o2i_std_db(model: O2IModel) -> float:
    """Standard deviation sigma_P of the O2I loss (Table 7.4.3-2) [dB].

    >>> o2i_std_db("high")
    6.5
    """
    check_choice("model", model, ("low", "high"))
    return _SIGMA_P_DB[model]


def o2i_building_loss_db(fc_ghz, d2d_in_m, *, model: O2IModel, rng: np.random.Generator | None = None):
    """Building entry loss PL_tw + PL_in [+ N(0, sigma_P^2) when ``rng`` is given] (Table 7.4.3-2) [dB].

    >>> round(float(o2i_building_loss_db(3.5, 10.0, model="low")), 2)
    17.7
    """
    base = o2i_wall_loss_db(fc_ghz, model=model) + o2i_indoor_loss_db(d2d_in_m)
    if rng is None:
        return base
    return base + rng.normal(0.0, _SIGMA_P_DB[model], size=np.shape(base))


def draw_indoor_distance_m(size, *, scenario: str, rng: np.random.Generator):
    """Draw d_2D-in: the minimum of two U(0, 25) m draws for UMa/UMi, U(0, 10) m for RMa (7.4.3.1) [m]."""
    check_choice("scenario", scenario, ("UMa", "UMi", "RMa"))
    high = 10.0 if scenario == "RMa" else 25.0
    return np.minimum(rng.uniform(0.0, high, size), rng.uniform(0.0, high, size))


def car_penetration_loss_db(size=None, *, rng: np.random.Generator | None = None, mean_db: float = 9.0,
                            std_db: float = 5.0):
    """Car penetration loss N(mu, sigma^2), mu = 9 dB, sigma = 5 dB (7.4.3.2; mu = 20 dB for metallised
    windows is an option) [dB]. Without ``rng``, the mean.

    >>> car_penetration_loss_db()
    9.0
    """
    if rng is None:
        return mean_db
    return rng.normal(mean_db, std_db, size)
