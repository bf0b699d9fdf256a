"""NR numerology and carrier size: TS 38.211 4.2 and the N_RB tables of TS 38.101-1/-2 Table 5.3.2-1.

Bandwidths in MHz, subcarrier spacing in kHz, carrier frequency in GHz.
"""

from __future__ import annotations

from typing import Literal

from cellscape._validate import check_choice, check_range
from cellscape.errors import CellscapeError, InvalidChoiceError, OutOfValidityRangeError
from cellscape.scenario.records import Carrier

FrequencyRange = Literal["FR1", "FR2"]
FREQUENCY_RANGES: tuple[str, ...] = ("FR1", "FR2")

FR1_GHZ = (0.41, 7.125)    # TS 38.101-1 Table 5.1-1
FR2_GHZ = (24.25, 71.0)    # TS 38.101-2 Table 5.1-1 (FR2-1 24.25-52.6 GHz, FR2-2 52.6-71 GHz)

NUMEROLOGY = {15: 0, 30: 1, 60: 2, 120: 3, 240: 4, 480: 5, 960: 6}
"""Subcarrier spacing [kHz] -> numerology mu, TS 38.211 Table 4.2-1 (Delta f = 2^mu x 15 kHz)."""

# Maximum transmission bandwidth configuration N_RB: {scs_khz: {bandwidth_mhz: N_RB}}
N_RB_FR1 = {  # TS 38.101-1 V17 Table 5.3.2-1
    15: {5: 25, 10: 52, 15: 79, 20: 106, 25: 133, 30: 160, 35: 188, 40: 216, 45: 242, 50: 270},
    30: {5: 11, 10: 24, 15: 38, 20: 51, 25: 65, 30: 78, 35: 92, 40: 106, 45: 119, 50: 133, 60: 162,
         70: 189, 80: 217, 90: 245, 100: 273},
    60: {10: 11, 15: 18, 20: 24, 25: 31, 30: 38, 35: 44, 40: 51, 45: 58, 50: 65, 60: 79, 70: 93, 80: 107,
         90: 121, 100: 135},
}
N_RB_FR2 = {  # TS 38.101-2 V17 Table 5.3.2-1 (FR2-1; FR2-2's 480/960 kHz rows are not included)
    60: {50: 66, 100: 132, 200: 264},
    120: {50: 32, 100: 66, 200: 132, 400: 264},
}
_SOURCE = {"FR1": "TS 38.101-1 Table 5.3.2-1", "FR2": "TS 38.101-2 Table 5.3.2-1"}

MAX_N_RB = 275
"""Largest resource grid of any carrier, N_RB^max (TS 38.211 4.4.2, 275 RBs)."""


def _as_int_key(value):
    """An integral float or int -> int (a dict key); anything else unchanged."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return value
    return int(f) if f.is_integer() else f


def numerology(scs_khz) -> int:
    """
    NR numerology mu of a subcarrier spacing 15 x 2^mu kHz.

    Parameters
    ----------
    scs_khz : float
        Subcarrier spacing Delta f: 15, 30, 60, 120, 240, 480 or 960. [kHz]

    Returns
    -------
    mu : int
        Numerology, 0 to 6.

    Raises
    ------
    InvalidChoiceError
        If ``scs_khz`` is not one of the spacings of TS 38.211 Table 4.2-1.

    References
    ----------
    .. [1] 3GPP TS 38.211 V17, Table 4.2-1 (supported transmission numerologies).

    Examples
    --------
    >>> numerology(30), numerology(120.0)
    (1, 3)
    """
    mu = NUMEROLOGY.get(_as_int_key(scs_khz))
    if mu is None:
        raise InvalidChoiceError(f"scs_khz={scs_khz!r} is not one of {', '.join(map(str, NUMEROLOGY))} "
                                 f"(TS 38.211 Table 4.2-1)")
    return mu


def frequency_range(fc_ghz: float) -> FrequencyRange:
    """
    The NR frequency range of a carrier: FR1 (0.41-7.125 GHz) or FR2 (24.25-71 GHz).

    Parameters
    ----------
    fc_ghz : float
        Carrier frequency. [GHz]

    Returns
    -------
    frequency_range : {'FR1', 'FR2'}
        FR2 covers FR2-1 (24.25-52.6 GHz) and FR2-2 (52.6-71 GHz).

    Raises
    ------
    OutOfValidityRangeError
        If ``fc_ghz`` is in neither range (e.g. 10 GHz).

    References
    ----------
    .. [1] 3GPP TS 38.101-1 V17 and TS 38.101-2 V17, Table 5.1-1 (definition of frequency ranges).

    Examples
    --------
    >>> frequency_range(3.5), frequency_range(28.0)
    ('FR1', 'FR2')
    """
    f = float(fc_ghz)
    if FR1_GHZ[0] <= f <= FR1_GHZ[1]:
        return "FR1"
    if FR2_GHZ[0] <= f <= FR2_GHZ[1]:
        return "FR2"
    raise OutOfValidityRangeError(
        f"fc_ghz={f:g} is in neither NR frequency range: FR1 is [{FR1_GHZ[0]:g}, {FR1_GHZ[1]:g}] GHz "
        f"(TS 38.101-1), FR2 is [{FR2_GHZ[0]:g}, {FR2_GHZ[1]:g}] GHz (TS 38.101-2); give carrier.n_prb explicitly")


def max_n_rb(bandwidth_mhz, scs_khz, *, frequency_range: FrequencyRange) -> int:
    """
    Maximum transmission bandwidth configuration N_RB of a channel bandwidth and SCS.

    Parameters
    ----------
    bandwidth_mhz : float
        UE channel bandwidth BW_Channel. [MHz]
    scs_khz : float
        Subcarrier spacing: 15, 30 or 60 in FR1; 60 or 120 in FR2. [kHz]
    frequency_range : {'FR1', 'FR2'}
        Which table to read (see :func:`frequency_range`).

    Returns
    -------
    n_rb : int
        Number of resource blocks the carrier transmits on.

    Raises
    ------
    InvalidChoiceError
        If ``frequency_range`` is not 'FR1' or 'FR2', if the SCS has no row in that table (the
        message lists the SCS that have), or if the bandwidth is not in the SCS's row (the
        message lists the bandwidths that are, e.g. 100 MHz at 15 kHz).

    References
    ----------
    .. [1] 3GPP TS 38.101-1 V17, Table 5.3.2-1 (maximum transmission bandwidth configuration N_RB).
    .. [2] 3GPP TS 38.101-2 V17, Table 5.3.2-1 (the same for FR2).

    Examples
    --------
    >>> max_n_rb(100, 30, frequency_range="FR1"), max_n_rb(400, 120, frequency_range="FR2")
    (273, 264)
    """
    check_choice("frequency_range", frequency_range, FREQUENCY_RANGES)
    table = N_RB_FR1 if frequency_range == "FR1" else N_RB_FR2
    src = _SOURCE[frequency_range]
    scs = _as_int_key(scs_khz)
    if scs not in table:
        raise InvalidChoiceError(f"scs_khz={scs_khz!r} is not one of {', '.join(map(str, table))} kHz "
                                 f"in {src} ({frequency_range})")
    row = table[scs]
    bw = _as_int_key(bandwidth_mhz)
    if bw not in row:
        raise InvalidChoiceError(
            f"bandwidth_mhz={float(bandwidth_mhz):g} with scs_khz={scs} is not in {src}; "
            f"allowed: {', '.join(map(str, row))} MHz")
    return row[bw]


def resolve_n_prb(carrier: Carrier) -> int:
    """
    The carrier's PRB count: ``carrier.n_prb`` when given, else the TS 38.101 table.

    Parameters
    ----------
    carrier : Carrier
        The carrier record (``fc_ghz``, ``bandwidth_mhz``, ``scs_khz``, optional ``n_prb``).

    Returns
    -------
    n_prb : int
        Number of PRBs.

    Raises
    ------
    OutOfValidityRangeError
        If ``carrier.n_prb`` is outside [1, 275], or it is None and ``fc_ghz`` is in neither FR1
        nor FR2.
    InvalidChoiceError
        If ``carrier.n_prb`` is None and the bandwidth/SCS pair is not in the table
        (see :func:`max_n_rb`).

    References
    ----------
    .. [1] 3GPP TS 38.101-1/-2 V17, Table 5.3.2-1; TS 38.211 4.4.2 (N_RB at most 275).

    Examples
    --------
    >>> resolve_n_prb(Carrier(fc_ghz=3.5, bandwidth_mhz=100, scs_khz=30))
    273
    >>> resolve_n_prb(Carrier(fc_ghz=3.5, bandwidth_mhz=100, scs_khz=30, n_prb=100))
    100
    """
    if carrier.n_prb is not None:
        check_range("carrier.n_prb", carrier.n_prb, 1, MAX_N_RB, source="TS 38.211 4.4.2")
        return int(carrier.n_prb)
    return max_n_rb(carrier.bandwidth_mhz, carrier.scs_khz, frequency_range=frequency_range(carrier.fc_ghz))


def symbols_per_second(scs_khz) -> float:
    """
    OFDM symbols per second with normal cyclic prefix: 14 x 2^mu per ms, i.e. 1 / T_s^mu.

    Parameters
    ----------
    scs_khz : float
        Subcarrier spacing. [kHz]

    Returns
    -------
    symbol_rate : float
        Average OFDM symbol rate. [1/s]

    Raises
    ------
    InvalidChoiceError
        If ``scs_khz`` is not a valid NR spacing (see :func:`numerology`).

    References
    ----------
    .. [1] 3GPP TS 38.306 V17, 4.1.2 (T_s^mu = 10^-3 / (14 2^mu) s, normal cyclic prefix).

    Examples
    --------
    >>> symbols_per_second(30)
    28000.0
    """
    return 14.0 * 2 ** numerology(scs_khz) * 1000.0


def device_n_prb(max_bandwidth_mhz: float | None, n_prb: int, scs_khz: float, *,
                 frequency_range: FrequencyRange) -> int:
    """
    PRBs a device narrower than the carrier can use: N_RB of its bandwidth (TS 38.101 Table
    5.3.2-1) when that is a channel bandwidth of the table, else the PRBs that fit at 90 %
    occupancy; never more than the carrier's ``n_prb``. ``None``: the whole carrier.

    Examples
    --------
    A RedCap device (20 MHz) on a 273-PRB carrier at 30 kHz, and a 0.18 MHz one at 15 kHz:

    >>> device_n_prb(20.0, 273, 30, frequency_range="FR1"), device_n_prb(0.18, 106, 15, frequency_range="FR1")
    (51, 1)
    """
    if max_bandwidth_mhz is None:
        return int(n_prb)
    try:
        n = max_n_rb(max_bandwidth_mhz, scs_khz, frequency_range=frequency_range)
    except CellscapeError:
        n = max(1, int(0.9 * max_bandwidth_mhz * 1e3 / (12.0 * scs_khz)))
    return int(min(n_prb, n))
