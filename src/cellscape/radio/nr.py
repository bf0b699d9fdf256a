"""NR numerology and carrier size: TS 38.211 4.2 and the N_RB tables of TS 38.101-1/-2.

Bandwidths in MHz, subcarrier spacing in kHz, carrier frequency in GHz.
"""

from __future__ import annotations

from typing import Literal

from cellscape._validate import check_choice
from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError
from cellscape.scenario.records import Carrier

FrequencyRange = Literal["FR1", "FR2"]

FR1_GHZ = (0.41, 7.125)    # TS 38.101-1 Table 5.1-1
FR2_GHZ = (24.25, 71.0)    # TS 38.101-2 Table 5.1-1 (FR2-1 24.25-52.6 GHz, FR2-2 52.6-71 GHz)

# Maximum transmission bandwidth configuration N_RB: {scs_khz: {bandwidth_mhz: N_RB}}
N_RB_FR1 = {  # TS 38.101-1 Table 5.3.2-1
    15: {5: 25, 10: 52, 15: 79, 20: 106, 25: 133, 30: 160, 35: 188, 40: 216, 45: 242, 50: 270},
    30: {5: 11, 10: 24, 15: 38, 20: 51, 25: 65, 30: 78, 35: 92, 40: 106, 45: 119, 50: 133, 60: 162,
         70: 189, 80: 217, 90: 245, 100: 273},
    60: {10: 11, 15: 18, 20: 24, 25: 31, 30: 38, 35: 44, 40: 51, 45: 58, 50: 65, 60: 79, 70: 93, 80: 107,
         90: 121, 100: 135},
}
N_RB_FR2 = {  # TS 38.101-2 Table 5.3.2-1 (FR2-1)
    60: {50: 66, 100: 132, 200: 264},
    120: {50: 32, 100: 66, 200: 132, 400: 264},
}
_SOURCE = {"FR1": "TS 38.101-1 Table 5.3.2-1", "FR2": "TS 38.101-2 Table 5.3.2-1"}


def numerology(scs_khz) -> int:
    """NR numerology mu with subcarrier spacing 15 * 2^mu kHz (TS 38.211 Table 4.2-1).

    >>> numerology(30)
    1
    """
    mu = {15: 0, 30: 1, 60: 2, 120: 3, 240: 4, 480: 5, 960: 6}.get(int(scs_khz) if float(scs_khz).is_integer() else -1)
    if mu is None:
        raise InvalidChoiceError(f"scs_khz={scs_khz!r} is not one of 15, 30, 60, 120, 240, 480, 960 (TS 38.211 Table 4.2-1)")
    return mu


def frequency_range(fc_ghz: float) -> FrequencyRange:
    """The NR frequency range of a carrier: FR1 (0.41-7.125 GHz) or FR2 (24.25-71 GHz).

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
    """Maximum transmission bandwidth N_RB of a channel bandwidth and SCS (TS 38.101-1/-2 Table 5.3.2-1).

    >>> max_n_rb(100, 30, frequency_range="FR1")
    273
    """
    check_choice("frequency_range", frequency_range, ("FR1", "FR2"))
    table = N_RB_FR1 if frequency_range == "FR1" else N_RB_FR2
    src = _SOURCE[frequency_range]
    scs = int(scs_khz) if float(scs_khz).is_integer() else scs_khz
    if scs not in table:
        raise InvalidChoiceError(f"scs_khz={scs_khz!r} is not one of {', '.join(map(str, table))} in {src}")
    bw = float(bandwidth_mhz)
    row = table[scs]
    if not bw.is_integer() or int(bw) not in row:
        raise InvalidChoiceError(
            f"bandwidth_mhz={bw:g} with scs_khz={scs} is not in {src}; allowed: {', '.join(map(str, row))} MHz")
    return row[int(bw)]


def resolve_n_prb(carrier: Carrier) -> int:
    """The carrier's PRB count: ``carrier.n_prb`` when given, else the TS 38.101 table.

    >>> resolve_n_prb(Carrier(fc_ghz=3.5, bandwidth_mhz=100, scs_khz=30))
    273
    """
    if carrier.n_prb is not None:
        return int(carrier.n_prb)
    return max_n_rb(carrier.bandwidth_mhz, carrier.scs_khz, frequency_range=frequency_range(carrier.fc_ghz))


def symbols_per_second(scs_khz) -> float:
    """OFDM symbols per second with normal cyclic prefix, 14 * 2^mu per ms (TS 38.306 4.1.2 T_s^mu).

    >>> symbols_per_second(30)
    28000.0
    """
    return 14.0 * 2 ** numerology(scs_khz) * 1000.0


