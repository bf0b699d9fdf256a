"""Base-station antennas: the TR 38.901 Table 7.3-1 element and a tilted vertical array (7.1, 7.3)."""

from cellscape.antenna.element import (
    element_gain_dbi,
    element_horizontal_pattern_db,
    element_pattern_db,
    element_vertical_pattern_db,
)
from cellscape.antenna.sector import (
    bearing_from_azimuth_deg,
    gcs_to_lcs_deg,
    sector_gain_dbi,
    vertical_array_factor_db,
)

__all__ = [
    "bearing_from_azimuth_deg", "element_gain_dbi", "element_horizontal_pattern_db", "element_pattern_db",
    "element_vertical_pattern_db", "gcs_to_lcs_deg", "sector_gain_dbi", "vertical_array_factor_db",
]
