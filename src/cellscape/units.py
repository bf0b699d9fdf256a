"""Physical constants and dB helpers (imports numpy only).

Constants carry their unit in their name; helpers broadcast like numpy.
"""

import numpy as np

SPEED_OF_LIGHT_M_S = 299_792_458.0
"""Speed of light in vacuum [m/s] (exact, SI)."""

BOLTZMANN_J_K = 1.380649e-23
"""Boltzmann constant [J/K] (exact, SI)."""

T0_K = 290.0
"""Reference noise temperature [K] (IEEE / ITU-R convention)."""

THERMAL_NOISE_DBM_HZ = -174.0
"""Thermal noise density at T0 rounded as 3GPP link budgets use it [dBm/Hz]
(10*log10(k*T0*1000) = -173.98 dBm/Hz)."""


def db_to_lin(x_db):
    """Power ratio in dB -> linear ratio."""
    return np.power(10.0, np.asarray(x_db, dtype=float) / 10.0)


def lin_to_db(x_lin):
    """Linear power ratio -> dB (``-inf`` for 0)."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(x_lin, dtype=float))


def dbm_to_mw(p_dbm):
    """Power in dBm -> mW."""
    return db_to_lin(p_dbm)


def mw_to_dbm(p_mw):
    """Power in mW -> dBm (``-inf`` for 0 mW)."""
    return lin_to_db(p_mw)


def wavelength_m(fc_ghz):
    """Free-space wavelength [m] at carrier frequency ``fc_ghz`` [GHz]."""
    return SPEED_OF_LIGHT_M_S / (np.asarray(fc_ghz, dtype=float) * 1e9)


UNIT_SUFFIXES = (("_dbm", "dBm"), ("_dbi", "dBi"), ("_dbsm", "dBsm"), ("_db", "dB"), ("_mbps", "Mbit/s"), ("_bps", "bit/s"),
                 ("_ghz", "GHz"), ("_mhz", "MHz"), ("_khz", "kHz"), ("_hz", "Hz"), ("_km2", "km²"),
                 ("_m2", "m²"), ("_km", "km"), ("_us", "µs"), ("_m", "m"), ("_deg", "deg"), ("_s", "s"),
                 ("_w", "W"))
"""Name suffix -> unit (docs/glossary.md), longest suffix first where one ends another."""


def unit_of(name: str) -> str:
    """The unit a glossary name carries in its suffix, '' when none.

    >>> unit_of("rsrp_dbm"), unit_of("sinr_db"), unit_of("los_range_m"), unit_of("best_sector")
    ('dBm', 'dB', 'm', '')
    """
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    return ""
