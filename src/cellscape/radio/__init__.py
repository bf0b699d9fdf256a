"""The NR link budget: carrier size (TS 38.101), RSRP/noise/SINR (TS 38.215), CQI/MCS tables
(TS 38.214) and throughput (TS 38.306, TR 36.942 A.1)."""

from cellscape.radio.link_budget import (
    best_server_sinr_db,
    coupling_loss_db,
    noise_per_re_dbm,
    rsrp_dbm,
    thermal_noise_dbm,
    tx_power_per_re_dbm,
)
from cellscape.radio.nr import frequency_range, max_n_rb, numerology, resolve_n_prb
from cellscape.radio.throughput import (
    attenuated_shannon_efficiency_bps_hz,
    cqi_from_sinr,
    downlink_throughput_bps,
    peak_data_rate_bps,
    spectral_efficiency_bps_hz,
)

__all__ = [
    "attenuated_shannon_efficiency_bps_hz", "best_server_sinr_db", "coupling_loss_db", "cqi_from_sinr",
    "downlink_throughput_bps", "frequency_range", "max_n_rb", "noise_per_re_dbm", "numerology",
    "peak_data_rate_bps", "resolve_n_prb", "rsrp_dbm", "spectral_efficiency_bps_hz", "thermal_noise_dbm",
    "tx_power_per_re_dbm",
]
