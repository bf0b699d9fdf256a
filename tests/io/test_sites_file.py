"""Site files: CSV and GeoJSON reading, foreign column names, errors naming file and row, round trips."""

from __future__ import annotations

import json

import pytest

from cellscape.errors import DataFileError, ScenarioError
from cellscape.io.sites_file import COLUMN_NAMES, read_sites, read_sites_table, write_sites
from cellscape.scenario import parse_scenario
from cellscape.scenario.records import Sector, Site

CSV = """site_id,x,y,height_m,azimuth_deg,tx_power_dbm,mech_tilt_deg,elec_tilt_deg,environment,sector_id
A,24.94,60.17,30,0,43,2,6,UMi,A-north
A,24.94,60.17,30,120,,,,UMi,
B,24.95,60.165,25,240,40,0,8,,
"""


def test_csv_rows_group_into_sites_with_glossary_names(tmp_path):
    p = tmp_path / "sites.csv"
    p.write_text(CSV)
    assert read_sites(p) == [
        {"site_id": "A", "x": 24.94, "y": 60.17, "height_m": 30.0, "environment": "UMi", "sectors": [
            {"sector_id": "A-north", "azimuth_deg": 0.0, "tx_power_dbm": 43.0, "mech_tilt_deg": 2.0,
             "elec_tilt_deg": 6.0},
            {"azimuth_deg": 120.0}]},
        {"site_id": "B", "x": 24.95, "y": 60.165, "height_m": 25.0, "sectors": [
            {"azimuth_deg": 240.0, "tx_power_dbm": 40.0, "mech_tilt_deg": 0.0, "elec_tilt_deg": 8.0}]},
    ]


def test_foreign_names_semicolons_bom_and_later_rows_may_omit_site_columns(tmp_path):
    p = tmp_path / "export.csv"
    p.write_text("\ufeffSite ID;Longitude;Latitude;Height AGL;Azimuth;Tilt\n"
                 "S1;24.94;60.17;30;0;4\n"
                 "S1;;;;120;\n", encoding="utf-8")
    assert read_sites(p) == [{"site_id": "S1", "x": 24.94, "y": 60.17, "height_m": 30.0, "sectors": [
        {"azimuth_deg": 0.0, "mech_tilt_deg": 4.0}, {"azimuth_deg": 120.0}]}]


def test_column_map_targets_are_glossary_names():
    glossary = {"site_id", "x", "y", "height_m", "environment", "sector_id", "azimuth_deg", "tx_power_dbm",
                "mech_tilt_deg", "elec_tilt_deg"}
    assert set(COLUMN_NAMES.values()) <= glossary
    assert COLUMN_NAMES["lon"] == "x" and COLUMN_NAMES["lat"] == "y" and COLUMN_NAMES["azimuth"] == "azimuth_deg"


def test_file_sites_pass_parse_scenario(tmp_path):
    p = tmp_path / "sites.csv"
    p.write_text(CSV)
    sc = parse_scenario({"name": "x", "area": {"bounds": [24.93, 60.16, 24.96, 60.18], "resolution_m": 10},
                         "carrier": {"fc_ghz": 3.5}, "sector_defaults": {"tx_power_dbm": 46, "elec_tilt_deg": 3},
                         "sites": read_sites(p)})
    a = sc.sites[0]
    assert [s.sector_id for s in a.sectors] == ["A-north", "A-2"]
    assert (a.sectors[1].tx_power_dbm, a.sectors[1].elec_tilt_deg) == (46.0, 3.0)
    assert a.environment == "UMi" and sc.sites[1].environment is None


@pytest.mark.parametrize(("content", "message"), [
    ("site_id,x,y,height_m,azimuth_deg,colour\nA,1,2,30,0,red\n",
     r"sites\.csv row 2: unknown column 'colour' \(glossary names: site_id, x, y, "),
    ("site_id,x,y,height_m\nA,1,2,30\n", r"sites\.csv: missing column 'azimuth_deg' \(required: "),
    ("site_id,x,y,height_m,azimuth_deg\nA,1,2,30,0\nA,1,2,30,north\n",
     r"sites\.csv row 3: column 'azimuth_deg': 'north' is not a number"),
    ("site_id,x,y,height_m,azimuth_deg\nA,1,2,30,0\nA,1.5,2,30,120\n",
     r"sites\.csv row 3: site 'A' has x=1\.5 here but 1\.0 in row 2"),
    ("site_id,x,y,height_m,azimuth_deg\n,1,2,30,0\n", r"sites\.csv row 2: site_id is empty"),
    ("site_id,x,y,height_m,azimuth_deg\nA,1,2,,0\n", r"sites\.csv row 2: height_m is empty on the first row of site 'A'"),
    ("site_id,x,y,height_m,azimuth_deg\nA,1,2,30,\n", r"sites\.csv row 2: azimuth_deg is empty"),
    ("site_id,x,y,height_m,azimuth_deg\nA,1,2,30,0,9\n", r"sites\.csv row 2: 6 cells but 5 columns in the header"),
    ("site_id,x,lon,height_m,azimuth_deg\nA,1,2,30,0\n", r"sites\.csv row 2: column 'lon' gives x a second time"),
    ("site_id,x,y,height_m,azimuth_deg\nA,1,2,30,nan\n", r"sites\.csv row 2: column 'azimuth_deg': 'nan' is not a finite"),
])
def test_csv_errors_name_file_and_row(tmp_path, content, message):
    p = tmp_path / "sites.csv"
    p.write_text(content)
    with pytest.raises(ScenarioError, match=message):
        read_sites(p)


def test_ignore_columns(tmp_path):
    p = tmp_path / "sites.csv"
    p.write_text("site_id,x,y,height_m,azimuth_deg,Comment\nA,1,2,30,0,roof\n")
    assert read_sites(p, ignore_columns=["comment"])[0]["sectors"] == [{"azimuth_deg": 0.0}]


def test_missing_empty_and_unknown_files(tmp_path):
    with pytest.raises(DataFileError, match=r"nowhere\.csv: site file not found"):
        read_sites(tmp_path / "nowhere.csv")
    (tmp_path / "empty.csv").write_text("site_id,x,y,height_m,azimuth_deg\n")
    with pytest.raises(DataFileError, match=r"empty\.csv: no sites"):
        read_sites(tmp_path / "empty.csv")
    (tmp_path / "s.xlsx").write_bytes(b"PK")
    with pytest.raises(DataFileError, match=r"s\.xlsx: unknown site file type '\.xlsx'; use \.csv or \.geojson"):
        read_sites(tmp_path / "s.xlsx")


def _feature(x, y, **props):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]}, "properties": props}


def test_geojson_points_with_properties(tmp_path):
    p = tmp_path / "sites.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _feature(24.94, 60.17, site=101, height=30, Azimuth=0),
        _feature(24.94, 60.17, site=101, Azimuth=120, tx_power_dbm=43.5),
    ]}))
    table = read_sites_table(p)
    assert table.crs == "EPSG:4326" and table.where == [["features[0]", "features[1]"]]
    assert table.sites == [{"site_id": "101", "x": 24.94, "y": 60.17, "height_m": 30.0, "sectors": [
        {"azimuth_deg": 0.0}, {"azimuth_deg": 120.0, "tx_power_dbm": 43.5}]}]


@pytest.mark.parametrize(("features", "message"), [
    ([{"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "properties": {}}],
     r"sites\.geojson features\[0\]: geometry must be a Point, got LineString"),
    ([_feature(1, 2, site_id="A", height_m=30, azimuth_deg=0, lon=1)],
     r"sites\.geojson features\[0\]: property 'lon': x and y come from the Point geometry"),
    ([_feature(1, 2, site_id="A", height_m=30, azimuth_deg=True)],
     r"sites\.geojson features\[0\]: column 'azimuth_deg': expected a number, got True"),
])
def test_geojson_errors_name_file_and_feature(tmp_path, features, message):
    p = tmp_path / "sites.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with pytest.raises(ScenarioError, match=message):
        read_sites(p)


def test_geojson_that_is_not_json(tmp_path):
    p = tmp_path / "sites.geojson"
    p.write_text('{"type": "FeatureCollection",\n "features": [,]}')
    with pytest.raises(DataFileError, match=r"sites\.geojson line 2: not valid JSON"):
        read_sites(p)


SITES = (
    Site("A", 24.94, 60.17, 30.0, (Sector(0.0, 43.0, 2.0, 6.0, sector_id="A-1"),
                                   Sector(120.0, 43.0, 2.0, 6.0, sector_id="A-2")), environment="UMi"),
    Site("B", 24.95123456789, 60.165, 25.5, (Sector(359.5, 40.0, 0.0, 8.0, sector_id="B-x"),)),
)


@pytest.mark.parametrize("name", ["sites.csv", "sites.geojson"])
def test_round_trip_through_a_file_gives_the_same_records(tmp_path, name):
    path = write_sites(tmp_path / name, SITES)
    sc = parse_scenario({"name": "rt", "area": {"bounds": [24.93, 60.16, 24.96, 60.18], "resolution_m": 10},
                         "carrier": {"fc_ghz": 3.5}, "sites": read_sites(path)})
    assert sc.sites == SITES
    assert not list(tmp_path.glob(".*partial"))


def test_geojson_round_trip_keeps_a_projected_crs(tmp_path):
    site = Site("A", 386000.0, 6672000.0, 30.0, (Sector(0.0, sector_id="A-1"),))
    path = write_sites(tmp_path / "s.geojson", [site], crs="EPSG:3067")
    table = read_sites_table(path)
    assert table.crs == "EPSG:3067" and table.sites[0]["x"] == 386000.0
