"""Outdoor-to-indoor (O2I) building and car penetration loss of 3GPP TR 38.901, Section 7.4.3.

PL = PL_b + PL_tw + PL_in + N(0, sigma_P^2): the outdoor path loss PL_b (:mod:`.tr38901`) plus the
loss through the external wall PL_tw, the indoor loss PL_in = 0.5 d_2D-in and a Gaussian spread.
fc in GHz, distances in m, losses in dB; functions broadcast like numpy.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from cellscape._validate import check_choice, check_range
from cellscape.propagation.tr38901 import SPEC
from cellscape.scenario.records import O2IModel

_T1 = f"{SPEC} Table 7.4.3-1"
_T2 = f"{SPEC} Table 7.4.3-2"

Material = Literal["standard_glass", "irr_glass", "concrete", "wood"]
O2IScenario = Literal["UMa", "UMi", "RMa"]

MATERIALS: tuple[str, ...] = ("standard_glass", "irr_glass", "concrete", "wood")
O2I_MODELS: tuple[str, ...] = get_args(O2IModel)   # O2IModel lives with the scenario records

_MATERIAL = {  # L = a + b * fc [dB], Table 7.4.3-1
    "standard_glass": (2.0, 0.2), "irr_glass": (23.0, 0.3), "concrete": (5.0, 4.0), "wood": (4.85, 0.12),
}
_WALL_MIX = {  # (weight, material) pairs of PL_tw, Table 7.4.3-2
    "low": ((0.3, "standard_glass"), (0.7, "concrete")),
    "high": ((0.7, "irr_glass"), (0.3, "concrete")),
}
_SIGMA_P_DB = {"low": 4.4, "high": 6.5}   # Table 7.4.3-2
_D2D_IN_HIGH_M = {"UMa": 25.0, "UMi": 25.0, "RMa": 10.0}   # 7.4.3.1


def material_penetration_loss_db(fc_ghz, material: Material):
    """Penetration loss of one building material (Table 7.4.3-1) [dB].

    Parameters
    ----------
    fc_ghz : array_like
        Carrier frequency, 0.5 to 100 GHz. [GHz]
    material : {'standard_glass', 'irr_glass', 'concrete', 'wood'}
        Standard multi-pane glass, infrared-reflective (IRR) glass, concrete or wood.

    Returns
    -------
    loss_db : ndarray
        2 + 0.2 fc, 23 + 0.3 fc, 5 + 4 fc or 4.85 + 0.12 fc respectively. [dB]

    Raises
    ------
    InvalidChoiceError
        If ``material`` is unknown.
    OutOfValidityRangeError
        If ``fc_ghz`` lies outside 0.5 to 100 GHz.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.3-1.

    Examples
    --------
    >>> round(float(material_penetration_loss_db(3.5, "concrete")), 2)
    19.0
    """
    check_choice("material", material, MATERIALS)
    fc = check_range("fc_ghz", fc_ghz, 0.5, 100.0, source=_T1)
    a, b = _MATERIAL[material]
    return a + b * fc


def o2i_wall_loss_db(fc_ghz, *, model: O2IModel):
    """Loss through the external wall PL_tw, including its 5 dB (Table 7.4.3-2) [dB].

    Parameters
    ----------
    fc_ghz : array_like
        Carrier frequency, 0.5 to 100 GHz. [GHz]
    model : {'low', 'high'}
        Low-loss (30 % standard glass, 70 % concrete) or high-loss (70 % IRR glass, 30 % concrete)
        building.

    Returns
    -------
    pl_tw_db : ndarray
        low: 5 - 10 log10(0.3 10^(-L_glass/10) + 0.7 10^(-L_concrete/10));
        high: 5 - 10 log10(0.7 10^(-L_IRRglass/10) + 0.3 10^(-L_concrete/10)). [dB]

    Raises
    ------
    InvalidChoiceError
        If ``model`` is unknown.
    OutOfValidityRangeError
        If ``fc_ghz`` lies outside 0.5 to 100 GHz.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.3-2 (with the materials of Table 7.4.3-1).

    Examples
    --------
    >>> round(float(o2i_wall_loss_db(3.5, model="low")), 2)
    12.7
    """
    check_choice("model", model, O2I_MODELS)
    mix = sum(w * 10.0 ** (-material_penetration_loss_db(fc_ghz, m) / 10.0) for w, m in _WALL_MIX[model])
    return 5.0 - 10.0 * np.log10(mix)


def o2i_indoor_loss_db(d2d_in_m):
    """Indoor loss PL_in = 0.5 d_2D-in (Table 7.4.3-2) [dB].

    Parameters
    ----------
    d2d_in_m : array_like
        Horizontal distance from the external wall to the UT, >= 0. [m]

    Returns
    -------
    pl_in_db : ndarray
        0.5 dB per metre. [dB]

    Raises
    ------
    OutOfValidityRangeError
        If a distance is negative.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.3-2.

    Examples
    --------
    >>> float(o2i_indoor_loss_db(10.0))
    5.0
    """
    return 0.5 * check_range("d2d_in_m", d2d_in_m, 0.0, np.inf, source=_T2)


def o2i_std_db(model: O2IModel) -> float:
    """Standard deviation sigma_P of the O2I building loss (Table 7.4.3-2) [dB].

    Parameters
    ----------
    model : {'low', 'high'}
        Low- or high-loss building.

    Returns
    -------
    sigma_p_db : float
        4.4 dB (low) or 6.5 dB (high). [dB]

    Raises
    ------
    InvalidChoiceError
        If ``model`` is unknown.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Table 7.4.3-2.

    Examples
    --------
    >>> o2i_std_db("high")
    6.5
    """
    check_choice("model", model, O2I_MODELS)
    return _SIGMA_P_DB[model]


def o2i_building_loss_db(fc_ghz, d2d_in_m, *, model: O2IModel, rng: np.random.Generator | None = None):
    """Building entry loss PL_tw + PL_in [+ N(0, sigma_P^2)] (Table 7.4.3-2) [dB].

    Parameters
    ----------
    fc_ghz : array_like
        Carrier frequency, 0.5 to 100 GHz. [GHz]
    d2d_in_m : array_like
        Indoor horizontal distance d_2D-in, >= 0 (see :func:`draw_indoor_distance_m`). [m]
    model : {'low', 'high'}
        Low- or high-loss building.
    rng : numpy.random.Generator, optional
        If given, add one N(0, sigma_P^2) draw per element; without it, the mean loss.

    Returns
    -------
    loss_db : ndarray
        Loss to add to the outdoor path loss PL_b, broadcast shape of the inputs. [dB]

    Raises
    ------
    InvalidChoiceError
        If ``model`` is unknown.
    OutOfValidityRangeError
        If ``fc_ghz`` or ``d2d_in_m`` lies outside its range.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Section 7.4.3.1 and Table 7.4.3-2.

    Examples
    --------
    >>> round(float(o2i_building_loss_db(3.5, 10.0, model="low")), 2)
    17.7
    """
    base = o2i_wall_loss_db(fc_ghz, model=model) + o2i_indoor_loss_db(d2d_in_m)
    if rng is None:
        return base
    return base + rng.normal(0.0, _SIGMA_P_DB[model], size=np.shape(base))


def draw_indoor_distance_m(size, *, scenario: O2IScenario, rng: np.random.Generator):
    """Draw indoor distances d_2D-in (Section 7.4.3.1) [m].

    Parameters
    ----------
    size : int or tuple of int
        Output shape.
    scenario : {'UMa', 'UMi', 'RMa'}
        Outdoor scenario of the serving link.
    rng : numpy.random.Generator
        Source of randomness (two uniform draws per UT).

    Returns
    -------
    d2d_in_m : ndarray
        Minimum of two independent U(0, 25) m draws for UMa and UMi, of two U(0, 10) m draws for RMa.
        [m]

    Raises
    ------
    InvalidChoiceError
        If ``scenario`` is not one of the three.

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Section 7.4.3.1 (text below Table 7.4.3-2).

    Examples
    --------
    >>> d = draw_indoor_distance_m(1000, scenario="RMa", rng=np.random.default_rng(0))
    >>> bool(d.min() >= 0.0 and d.max() <= 10.0)
    True
    """
    check_choice("scenario", scenario, tuple(_D2D_IN_HIGH_M))
    high = _D2D_IN_HIGH_M[scenario]
    return np.minimum(rng.uniform(0.0, high, size), rng.uniform(0.0, high, size))


def car_penetration_loss_db(size=None, *, rng: np.random.Generator | None = None,
                            metallized_windows: bool = False):
    """O2I car penetration loss N(mu, sigma_P^2) (Section 7.4.3.2) [dB].

    Parameters
    ----------
    size : int or tuple of int, optional
        Output shape of the draws (with ``rng``).
    rng : numpy.random.Generator, optional
        If given, draw; without it, return the mean mu.
    metallized_windows : bool, default False
        mu = 20 dB for metallized car windows (the section's option), 9 dB otherwise.

    Returns
    -------
    loss_db : float or ndarray
        mu = 9 dB (or 20 dB), sigma_P = 5 dB. [dB]

    References
    ----------
    .. [1] 3GPP TR 38.901 V18.0.0, Section 7.4.3.2.

    Examples
    --------
    >>> car_penetration_loss_db()
    9.0
    >>> car_penetration_loss_db(metallized_windows=True)
    20.0
    """
    mean_db = 20.0 if metallized_windows else 9.0
    if rng is None:
        return mean_db
    return rng.normal(mean_db, 5.0, size)
