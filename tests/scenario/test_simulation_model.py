"""The simulation file: defaults, the device catalogue, and errors with field paths."""

import pytest

from cellscape.errors import ScenarioError
from cellscape.scenario.devices import BUILT_IN_DEVICES
from cellscape.scenario.model import parse_scenario
from cellscape.scenario.simulation import parse_simulation

SC = parse_scenario({"name": "d", "area": {"bounds": [24.93, 60.16, 24.96, 60.18], "resolution_m": 10},
                     "carrier": {"fc_ghz": 3.5}, "sites": [{"site_id": "A", "x": 24.945, "y": 60.17, "height_m": 25,
                                                            "sectors": [{"azimuth_deg": 0}]}]})


def parse(block):
    return parse_simulation({"simulation": block}, SC)


def test_defaults():
    sim = parse({"users": [{"name": "p", "count": 3}]})
    assert sim.scheduler.kind == "pf" and sim.fading.enabled and sim.duplex.pattern == "DDDSU"
    assert sim.handover.time_to_trigger_ms == 160.0 and sim.rlf.t310_ms == 1000.0
    assert sim.uplink.alpha == 0.8 and sim.seed == SC.seed
    assert set(BUILT_IN_DEVICES) <= set(sim.devices)


def test_device_catalogue_extends():
    sim = parse({"devices": {"meter": {"base_on": "redcap", "n_rx": 2}, "smartphone": {"n_rx": 4}},
                 "users": [{"name": "m", "count": 1, "device": "meter"}]})
    assert sim.devices["meter"].max_bandwidth_mhz == 20.0 and sim.devices["meter"].n_rx == 2
    assert sim.devices["smartphone"].n_rx == 4


@pytest.mark.parametrize("block, message", [
    ({"users": [{"name": "p", "count": 0}]}, r"simulation\.users\[0\]\.count"),
    ({"users": [{"name": "p", "count": 1, "slice": "urllc"}]}, r"simulation\.users\[0\]\.slice: no slice 'urllc'"),
    ({"users": [{"name": "p", "count": 1, "device": "toaster"}]}, r"simulation\.users\[0\]\.device: no device"),
    ({"users": [{"name": "p", "count": 1, "device": "nbiot"}]}, r"nbiot device.*simulation\.iot"),
    ({"users": [{"name": "p", "count": 1}, {"name": "p", "count": 1}]}, r"users\[1\]\.name: duplicate"),
    ({"users": [{"name": "p", "count": 1, "drop": {"kind": "hotspot"}}]}, r"drop\.hotspots: a hotspot drop"),
    ({"users": [{"name": "p", "count": 1, "drop": {"kind": "hotspot", "hotspots": [{"x": 0, "y": 0, "radius_m": 50}]}}]},
     r"hotspots\[0\]: \(0, 0\) lies outside area\.bounds"),
    ({"users": [{"name": "p", "count": 1, "drop": {"kind": "buildings"}}]}, r"needs the scenario's buildings"),
    ({"users": [{"name": "p", "count": 1}], "warmup_s": 3}, r"simulation\.warmup_s: must be shorter"),
    ({"users": [{"name": "p", "count": 1}], "slices": [{"name": "a", "prb_share": 0.7}, {"name": "b", "prb_share": 0.5}]},
     r"prb_share values add up to 1\.2"),
    ({"users": [{"name": "p", "count": 1}], "duplex": {"pattern": "DDDD"}}, r"duplex\.pattern: a TDD pattern without U"),
    ({"users": [{"name": "p", "count": 1}], "rlf": {"qout_db": -6, "qin_db": -8}}, r"rlf\.qin_db: must exceed"),
    ({"users": [{"name": "p", "count": 1}], "iot": {"enabled": True, "device": "ltem"}},
     r"simulation\.iot\.device: .*'ltem' is a ltem device"),
    ({"users": [{"name": "p", "count": 1}], "iot": {"enabled": True, "device": "meter"}}, r"simulation\.iot\.device: no device"),
    ({"users": [{"name": "p", "count": 1}], "iot": {"enabled": True, "ce_thresholds_db": [150, 144]}},
     r"simulation\.iot\.ce_thresholds_db: need CE0 < CE1"),
    ({"users": [{"name": "p", "count": 1}], "iot": {"enabled": True, "fc_ghz": 0.3}}, r"simulation\.iot\.fc_ghz"),
    ({"users": [{"name": "p", "count": 1, "mobility": {"speed_kmh": [30, 3]}}]}, r"mobility\.speed_kmh: need"),
    ({"users": [{"name": "p", "count": 1, "traffic": {"model": "video"}}]}, r"users\[0\]\.traffic\.model"),
    ({"users": [{"name": "p", "count": 1}], "scheduler": {"kind": "maxcqi"}}, r"simulation\.scheduler\.kind"),
    ({"users": []}, r"simulation\.users"),
])
def test_errors_name_the_field(block, message):
    with pytest.raises(ScenarioError, match=message):
        parse(block)


def test_iot_block_parses_into_options():
    sim = parse({"users": [{"name": "p", "count": 1}],
                 "iot": {"enabled": True, "density_per_km2": 2e5, "fc_ghz": 0.8, "ce_thresholds_db": [140, 150]}})
    assert sim.iot.enabled and sim.iot.fc_ghz == 0.8 and sim.iot.density_per_km2 == 2e5
    assert sim.iot.ce_thresholds_db == (140.0, 150.0) and sim.iot.device == "nbiot"


def test_needs_a_simulation_block():
    with pytest.raises(ScenarioError, match="simulation: a simulation file needs"):
        parse_simulation({"name": "x"}, SC)
