"""TR 38.901 Table 7.8-1 calibration assumptions.

Published values: TR 38.901 Table 7.8-1 (large-scale calibration) with Tables 7.2-1/7.2-2 (layouts)
and 7.3-1 (element), as restated by QuaDRiGa's 38.901 calibration tutorial, a MATLAB helper citing
Table 7.8-1 and NVIDIA Aerial's UMa phase-1 set-up (see the module docstring). Exact values: no
tolerance.
"""

from __future__ import annotations

import dataclasses

import pytest

from cellscape.errors import InvalidChoiceError
from cellscape.scenario.defaults import (
    CALIBRATION_ARRAY,
    CALIBRATION_LAYOUTS,
    TABLE_CALIBRATION,
    UMA_CALIBRATION,
    UMI_CALIBRATION,
    calibration_assumptions,
)
from cellscape.scenario.records import AntennaSpec

# (environment, fc_ghz, isd_m, h_bs_m, min_d2d_m, indoor_fraction, bandwidth_mhz, tx_power_dbm, elec_tilt_deg)
TABLE_7_8_1 = [
    ("UMa", 6, 500.0, 25.0, 35.0, 0.8, 20.0, 49.0, 12.0),
    ("UMa", 30, 500.0, 25.0, 35.0, 0.8, 100.0, 35.0, 12.0),
    ("UMi", 6, 200.0, 10.0, 10.0, 0.8, 20.0, 44.0, 12.0),
    ("UMi", 30, 200.0, 10.0, 10.0, 0.8, 100.0, 35.0, 12.0),
    ("InH-office-open", 6, 20.0, 3.0, 0.0, 1.0, 20.0, 24.0, 20.0),
    ("InH-office-mixed", 30, 20.0, 3.0, 0.0, 1.0, 100.0, 24.0, 20.0),
]


@pytest.mark.parametrize("row", TABLE_7_8_1, ids=lambda r: f"{r[0]}-{r[1]}GHz")
def test_values_by_environment_and_frequency(row):
    env, fc, isd, h_bs, d_min, indoor, bw, power, tilt = row
    a = calibration_assumptions(env, fc)
    assert (a.layout.isd_m, a.layout.h_bs_m, a.layout.min_d2d_m, a.layout.indoor_fraction) == (isd, h_bs, d_min, indoor)
    assert (a.bandwidth_mhz, a.tx_power_dbm, a.elec_tilt_deg) == (bw, power, tilt)
    assert a.tilt_zenith_deg == 90.0 + tilt            # the table writes 102 / 110 degrees
    assert a.ue_noise_figure_db == 9.0 and a.ue_antenna_gain_dbi == 0.0 and a.handover_margin_db == 0.0
    assert a.source.endswith("Table 7.8-1") and "TR 38.901" in a.source


def test_layouts():
    assert UMA_CALIBRATION.n_sites == UMI_CALIBRATION.n_sites == 19
    assert UMA_CALIBRATION.sectors_per_site == 3
    indoor = CALIBRATION_LAYOUTS["InH-office-open"]
    assert indoor.n_sites == 12 and indoor.site_grid == (2, 6) and indoor.hall_size_m == (120.0, 50.0)
    assert indoor.sectors_per_site == 1 and indoor.ut_height_m == 1.0
    assert UMA_CALIBRATION.ut_floors_min == 4 and UMA_CALIBRATION.ut_floors_max == 8
    for layout in CALIBRATION_LAYOUTS.values():
        assert TABLE_CALIBRATION in layout.source


def test_sector_orientation_converted_to_clockwise_from_north():
    # TR 38.901 bearings 30/150/270 deg counter-clockwise from east point to 60/300/180 deg from north
    assert UMA_CALIBRATION.sector_bearings_deg == (30.0, 150.0, 270.0)
    assert UMA_CALIBRATION.sector_azimuths_deg == (60.0, 300.0, 180.0)


def test_bs_array_config_1():
    c = CALIBRATION_ARRAY
    assert (c.m, c.n, c.p, c.mg, c.ng) == (10, 1, 1, 1, 1)
    assert (c.max_gain_dbi, c.hpbw_deg, c.sla_v_db, c.a_max_db) == (8.0, 65.0, 30.0, 30.0)   # Table 7.3-1
    assert c.d_v_wavelengths == 0.8 and "unverified" in c.source
    assert c.antenna_spec() == AntennaSpec(model="tr38901", n_rows=10, row_spacing_wavelengths=0.8)


def test_sectors_as_records():
    sectors = calibration_assumptions("UMi", 6).sectors()
    assert [s.azimuth_deg for s in sectors] == [60.0, 300.0, 180.0]
    assert {(s.tx_power_dbm, s.elec_tilt_deg, s.mech_tilt_deg) for s in sectors} == {(44.0, 12.0, 0.0)}
    assert sectors[0].antenna.n_rows == 10


def test_records_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        UMA_CALIBRATION.isd_m = 1.0


def test_unknown_environment_and_frequency_list_the_choices():
    with pytest.raises(InvalidChoiceError, match=r"environment='RMa' is not one of 'UMa', 'UMi', .*Table 7\.8-1"):
        calibration_assumptions("RMa", 6)
    with pytest.raises(InvalidChoiceError, match=r"fc_ghz=3\.5 is not one of 6, 30, 70 \(the carrier frequencies"):
        calibration_assumptions("UMa", 3.5)
