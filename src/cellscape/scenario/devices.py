"""Device profiles: what kind of user equipment stands at a map pixel or moves in a simulation.

A profile sets the receiver of a map (height, noise figure, antenna gain, the bandwidth it can use)
and, in the system-level simulator, the transmitter too (power class) and the receive branches
(combined by maximum-ratio combining), the speed and which carrier serves it: ``nr`` devices are
scheduled on the scenario's NR carrier; ``nbiot`` and ``ltem`` devices use their own narrow-band
carrier on the same sites and are evaluated by :mod:`cellscape.simulation.iot` (coverage classes,
random access, reporting).

The built-in catalogue (:data:`BUILT_IN_DEVICES`) cites the value it takes from each source; a
scenario or simulation file may add profiles or change any field of a built-in one (``devices:``
block, validated with field paths).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, get_args

from cellscape.errors import InvalidChoiceError

DeviceCategory = Literal["nr", "nbiot", "ltem"]
DEVICE_CATEGORIES: tuple[str, ...] = get_args(DeviceCategory)


@dataclass(frozen=True)
class DeviceProfile:
    """One kind of device. ``max_bandwidth_mhz``: widest allocation it supports (None: the whole
    carrier); ``speed_kmh``: (low, high) of the speeds a moving device draws (equal values: one
    speed, (0, 0): static); ``n_rx``/``n_tx``: antenna branches; ``source``: where the numbers come
    from."""

    name: str
    category: DeviceCategory = "nr"
    max_tx_power_dbm: float = 23.0
    antenna_gain_dbi: float = 0.0
    noise_figure_db: float = 9.0
    n_rx: int = 2
    n_tx: int = 1
    max_bandwidth_mhz: float | None = None
    height_m: float = 1.5
    speed_kmh: tuple[float, float] = (3.0, 3.0)
    source: str = ""

    @property
    def moves(self) -> bool:
        return self.speed_kmh[1] > 0.0


BUILT_IN_DEVICES: dict[str, DeviceProfile] = {
    "smartphone": DeviceProfile(
        "smartphone", max_tx_power_dbm=23.0, noise_figure_db=9.0, n_rx=2, speed_kmh=(3.0, 3.0),
        source="power class 3 (23 dBm): TS 38.101-1 Table 6.2.1-1; NF 9 dB, 0 dBi, 3 km/h: TR 38.901 Table 7.8-1 "
               "and 7.8.2; 2 Rx (4 Rx handsets exist: set n_rx: 4)"),
    "redcap": DeviceProfile(
        "redcap", max_tx_power_dbm=23.0, antenna_gain_dbi=-3.0, noise_figure_db=9.0, n_rx=1,
        max_bandwidth_mhz=20.0, speed_kmh=(3.0, 3.0),
        source="Rel-17 reduced capability: at most 20 MHz in FR1, 1 or 2 Rx (TS 38.306 V17, RedCap); 3 dB antenna "
               "efficiency loss (TR 38.875 coverage evaluation); 23 dBm PC3"),
    "nbiot": DeviceProfile(
        "nbiot", category="nbiot", max_tx_power_dbm=23.0, noise_figure_db=5.0, n_rx=1, max_bandwidth_mhz=0.18,
        height_m=1.5, speed_kmh=(0.0, 0.0),
        source="NB-IoT: 180 kHz carrier (TS 36.211 10), 23 dBm (TS 36.101 power class 3), NF 5 dB and the 164 dB "
               "MCL target (TR 45.820)"),
    "ltem": DeviceProfile(
        "ltem", category="ltem", max_tx_power_dbm=23.0, noise_figure_db=5.0, n_rx=1, max_bandwidth_mhz=1.4,
        height_m=1.5, speed_kmh=(0.0, 0.0),
        source="LTE-M (Cat-M1): 1.4 MHz, 6 PRBs (TS 36.306), 23 dBm power class 3, NF 5 dB (TR 36.888)"),
    "cpe": DeviceProfile(
        "cpe", max_tx_power_dbm=26.0, antenna_gain_dbi=5.0, noise_figure_db=7.0, n_rx=4, n_tx=2, height_m=5.0,
        speed_kmh=(0.0, 0.0),
        source="fixed-wireless CPE: power class 2 (26 dBm, TS 38.101-1 Table 6.2.1-1); 5 dBi, NF 7 dB, 4 Rx and a "
               "5 m window/wall mount are a typical configuration, not a 3GPP value"),
    "vehicle": DeviceProfile(
        "vehicle", max_tx_power_dbm=23.0, antenna_gain_dbi=3.0, noise_figure_db=9.0, n_rx=2, height_m=1.5,
        speed_kmh=(30.0, 50.0),
        source="vehicle UE: 3 dBi, NF 9 dB, 1.5 m, 23 dBm (TR 36.885 Table A.1.2-1); 30 km/h urban vehicles "
               "(TR 38.913 6.1.2), up to 50 km/h"),
}
"""The built-in device profiles, by name."""


def device_profile(name: str, catalogue: dict[str, DeviceProfile] | None = None) -> DeviceProfile:
    """The profile called ``name`` in ``catalogue`` (default: the built-in one).

    Raises
    ------
    InvalidChoiceError
        If there is no such profile; the message lists the names there are.

    Examples
    --------
    >>> device_profile("redcap").max_bandwidth_mhz
    20.0
    """
    cat = BUILT_IN_DEVICES if catalogue is None else catalogue
    if name not in cat:
        raise InvalidChoiceError(f"device={name!r} is not one of {', '.join(sorted(cat))}")
    return cat[name]


def extend_catalogue(overrides: dict[str, dict], base: dict[str, DeviceProfile] | None = None) -> dict[str, DeviceProfile]:
    """The catalogue with profiles added or changed: ``overrides`` maps a name to field values; a
    name that exists changes those fields, a new one starts from ``base_on`` (default
    ``"smartphone"``) when given as the key ``base_on``, and takes the new name.

    Examples
    --------
    >>> cat = extend_catalogue({"meter": {"base_on": "nbiot", "noise_figure_db": 7.0}})
    >>> cat["meter"].category, cat["meter"].noise_figure_db
    ('nbiot', 7.0)
    """
    cat = dict(BUILT_IN_DEVICES if base is None else base)
    for name, values in overrides.items():
        values = dict(values)
        start = values.pop("base_on", None)
        if start is not None:
            proto = device_profile(start, cat)
        elif name in cat:
            proto = cat[name]
        else:
            proto = cat["smartphone"]
        cat[name] = replace(proto, name=name, **values)
    return cat
