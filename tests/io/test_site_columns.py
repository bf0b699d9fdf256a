"""The columnar site path: read_site_columns, scenario.columns.site_columns, load_scenario_columns.

The record path (load_scenario -> parse_scenario) is the oracle: the columns must give equal
records and the same error messages, row for row.
"""

from dataclasses import replace
import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cellscape.errors import ScenarioError
from cellscape.io.scenario_yaml import load_scenario, load_scenario_columns, sites_file_rows
from cellscape.io.sites_file import read_site_columns, write_site_columns
from cellscape.scenario.columns import SiteColumns, height_extreme_sites

HEADER = ["site_id", "x", "y", "height_m", "environment", "sector_id", "azimuth_deg", "tx_power_dbm",
          "mech_tilt_deg", "elec_tilt_deg"]
# rows: one per sector; None = empty cell. B's rows are not contiguous; A's later rows leave site
# columns empty; sector ids given on some rows; tilts and powers partly empty (sector_defaults).
ROWS = [
    ["A", 24.940, 60.170, 30.0, None, None, 0.0, None, None, None],
    ["A", None, None, None, None, "A-x", 120.0, 40.0, 4.0, None],
    ["B", 24.950, 60.171, 25.0, "UMi", None, 10.0, None, 2.0, 1.0],
    ["C", 24.945, 60.172, 20.0, "RMa", None, 300.0, None, None, None],
    ["B", 24.950, None, None, "UMi", None, 200.0, None, None, None],
    ["A", None, None, None, None, None, 240.0, None, None, None],
]
SCENARIO = """name: demo
area: {{crs: 'EPSG:4326', bounds: [24.93, 60.16, 24.96, 60.18], resolution_m: 10}}
carrier: {{fc_ghz: 3.5}}
environment: UMa
sector_defaults: {{tx_power_dbm: 43, elec_tilt_deg: 6, antenna: {{n_rows: 4, max_gain_dbi: 10}}}}
sites_file: {name}
"""


def write_site_file(folder, suffix, rows=ROWS, header=HEADER):
    """The rows as a CSV, GeoJSON or Parquet site file; returns its path."""
    path = folder / f"sites.{suffix}"
    if suffix == "csv":
        text = ",".join(header) + "\n" + "".join(
            ",".join("" if v is None else str(v) for v in row) + "\n" for row in rows)
        path.write_text(text)
    elif suffix == "geojson":
        features, first = [], {}
        for row in rows:
            props = {k: v for k, v in zip(header, row) if k not in ("x", "y") and v is not None}
            xy = first.setdefault(row[0], (row[1], row[2]))                # GeoJSON: every row has a point
            features.append({"type": "Feature", "properties": props,
                             "geometry": {"type": "Point", "coordinates": list(xy)}})
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    else:
        columns = {k: [row[i] for row in rows] for i, k in enumerate(header)}
        pq.write_table(pa.table(columns), path)
    return path


def write_scenario(folder, suffix, rows=ROWS, header=HEADER, text=SCENARIO):
    site_file = write_site_file(folder, suffix, rows, header)
    path = folder / "s.yaml"
    path.write_text(text.format(name=site_file.name))
    return path


def both_errors(path):
    """(record-path message, columnar-path message) of a scenario that must fail."""
    with pytest.raises(ScenarioError) as records:
        load_scenario(path)
    with pytest.raises(ScenarioError) as columns:
        load_scenario_columns(path)
    return str(records.value), str(columns.value)


@pytest.mark.parametrize("suffix", ["csv", "parquet", "geojson"])
def test_records_equal_the_record_path(tmp_path, suffix):
    path = write_scenario(tmp_path, suffix)
    expected = load_scenario(path)
    scenario, cols = load_scenario_columns(path)
    assert scenario.sites == () and scenario == replace(expected, sites=())
    assert cols.records(range(cols.n_sites)) == expected.sites
    assert cols.records([2, 0]) == (expected.sites[2], expected.sites[0])
    assert cols.n_sectors == expected.n_sectors and cols.sector_site.dtype == np.int64


def test_columns_hold_defaults_ids_and_environments(tmp_path):
    _, cols = load_scenario_columns(write_scenario(tmp_path, "csv"))
    assert cols.site_id.tolist() == ["A", "B", "C"]                      # order of first appearance
    assert cols.sector_ptr.tolist() == [0, 3, 5, 6]
    assert cols.azimuth_deg.tolist() == [0.0, 120.0, 240.0, 10.0, 200.0, 300.0]   # sectors in row order
    assert cols.sector_id.tolist() == ["A-1", "A-x", "A-3", "B-1", "B-2", "C-1"]
    assert cols.tx_power_dbm.tolist() == [43.0, 40.0, 43.0, 43.0, 43.0, 43.0]
    assert cols.elec_tilt_deg.tolist() == [6.0, 6.0, 6.0, 1.0, 6.0, 6.0]
    assert cols.mech_tilt_deg.tolist() == [0.0, 4.0, 0.0, 2.0, 0.0, 0.0]
    assert cols.environment.tolist() == ["", "UMi", "RMa"]
    assert cols.sector_site.tolist() == [0, 0, 0, 1, 1, 2]
    assert cols.records([0])[0].sectors[0].antenna.n_rows == 4
    assert height_extreme_sites(cols, default_environment="UMa").tolist() == [0, 1, 2]


def test_take_keeps_sites_with_their_sectors(tmp_path):
    _, cols = load_scenario_columns(write_scenario(tmp_path, "parquet"))
    part = cols.take([2, 0])
    assert part.site_id.tolist() == ["C", "A"] and part.sector_ptr.tolist() == [0, 1, 4]
    assert part.records([0, 1]) == cols.records([2, 0])


def test_inline_sites_become_columns(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: inline\narea: {bounds: [24.93, 60.16, 24.96, 60.18], resolution_m: 10}\n"
                    "carrier: {fc_ghz: 3.5}\n"
                    "sites:\n"
                    "  - {site_id: A, x: 24.94, y: 60.17, height_m: 30,\n"
                    "     sectors: [{azimuth_deg: 0, antenna: {model: isotropic}}, {azimuth_deg: 120}]}\n")
    expected = load_scenario(path)
    scenario, cols = load_scenario_columns(path)
    assert scenario.sites == () and cols.records([0]) == expected.sites
    assert len(cols.antennas) == 2


def test_reader_groups_without_a_python_loop_and_names_rows(tmp_path):
    raw = read_site_columns(write_site_file(tmp_path, "csv"))
    assert raw.sector_row.tolist() == [0, 1, 5, 2, 4, 3]                  # B's and A's later rows regrouped
    assert raw.where(raw.sector_row[2]) == "row 7"                        # the header is row 1
    raw = read_site_columns(write_site_file(tmp_path, "parquet"))
    assert raw.where(raw.site_row[2]) == "rows[3]"
    assert np.isnan(raw.tx_power_dbm[0]) and raw.sector_id[0] == ""


def bad(row_index, column, value, rows=ROWS):
    rows = [list(r) for r in rows]
    rows[row_index][HEADER.index(column)] = value
    return rows


# (rows, the message's start): each is checked against the record path's message for the same file
CASES = {
    "azimuth range": (bad(3, "azimuth_deg", 400.0), r"sites\[2\]\.sectors\[0\]\.azimuth_deg: Input should be less "
                                                    r"than 360, got 400\.0 \(.*sites\.\w+ (row 5|rows\[3\])\)"),
    "power range": (bad(1, "tx_power_dbm", 90.0), r"sites\[0\]\.sectors\[1\]\.tx_power_dbm: Input should be less than "
                                                  r"or equal to 80"),
    "tilt range": (bad(2, "mech_tilt_deg", -91.0), r"sites\[1\]\.sectors\[0\]\.mech_tilt_deg: Input should be greater"),
    "height": (bad(3, "height_m", 0.0), r"sites\[2\]\.height_m: Input should be greater than 0, got 0\.0"),
    "environment": (bad(3, "environment", "Urban"), r"sites\[2\]\.environment: Input should be 'RMa', 'UMa'"),
    "two problems": (bad(3, "azimuth_deg", 400.0, bad(4, "tx_power_dbm", 99.0)), r"sites\[1\]\.sectors\[1\]\.tx_power_dbm: .*\(\+1 more\)"),
    "outside": (bad(3, "x", 30.0), r"sites\[2\]\.x: site 'C' lies outside area\.bounds expanded by"),
    "duplicate sector": (bad(5, "sector_id", "A-x"), r"sites\[0\]\.sectors\[2\]\.sector_id: duplicate of sites\[0\]\.sectors\[1\], got 'A-x'"),
    "duplicate default sector": (bad(3, "sector_id", "B-2"), r"sites\[2\]\.sectors\[0\]\.sector_id: duplicate of sites\[1\]\.sectors\[1\]"),
    "not a number": (bad(2, "height_m", "tall"), r"sites\.\w+ (row 4|rows\[2\]): column 'height_m': 'tall' is not a number"),
    "not finite": (bad(2, "x", float("inf")), r"(row 4|rows\[2\]): column 'x': .*inf.* is not a finite number"),
    "empty site id": (bad(4, "site_id", None), r"(row 6|rows\[4\]): site_id is empty"),
    "empty azimuth": (bad(5, "azimuth_deg", None), r"(row 7|rows\[5\]): azimuth_deg is empty"),
    "first row lacks y": (bad(3, "y", None), r"(row 5|rows\[3\]): y is empty on the first row of site 'C'"),
    "rows disagree": (bad(4, "x", 24.951), r"(row 6|rows\[4\]): site 'B' has x=24\.951 here but 24\.95 in (row 4|rows\[2\])"),
    "later row adds env": (bad(5, "environment", "UMa"), r"(row 7|rows\[5\]): site 'A' gives environment here but not in (row 2|rows\[0\])"),
}


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
@pytest.mark.parametrize("case", list(CASES))
def test_errors_match_the_record_path_row_for_row(tmp_path, suffix, case):
    rows, pattern = CASES[case]
    if suffix == "parquet" and case in ("not a number",):
        pytest.skip("a Parquet column has one type")
    path = write_scenario(tmp_path, suffix, rows)
    records, columns = both_errors(path)
    assert columns == records
    assert len(columns.splitlines()) == 1
    assert re.search(pattern, columns), columns


def test_file_level_errors_match(tmp_path):
    path = write_scenario(tmp_path, "csv", [r[:6] + r[7:] for r in ROWS], HEADER[:6] + HEADER[7:])
    records, columns = both_errors(path)
    assert columns == records and "missing column 'azimuth_deg'" in columns
    path = write_scenario(tmp_path, "parquet", ROWS, HEADER[:-1] + ["eirp"])
    records, columns = both_errors(path)
    assert columns == records and "rows[0]: unknown column 'eirp'" in columns


def test_scenario_errors_outside_the_sites_keep_their_path(tmp_path):
    path = write_scenario(tmp_path, "csv", text=SCENARIO.replace("fc_ghz: 3.5", "fc_ghz: 300"))
    records, columns = both_errors(path)
    assert columns == records and columns.startswith("carrier.fc_ghz: Input should be less than or equal to 100")


def test_a_blank_line_keeps_csv_row_numbers(tmp_path):
    path = write_scenario(tmp_path, "csv", bad(3, "azimuth_deg", 400.0))
    site_file = tmp_path / "sites.csv"
    lines = site_file.read_text().splitlines(keepends=True)
    site_file.write_text("".join(lines[:2] + ["\n", ",,,,,,,,,\n"] + lines[2:]))
    records, columns = both_errors(path)
    assert columns == records and columns.endswith("sites.csv row 7)")


def test_thousands_of_sites_stay_columns(tmp_path):
    n = 3000
    rng = np.random.default_rng(1)
    site_file = write_site_columns(tmp_path / "net.parquet", site_id=[f"S{i:05d}" for i in range(n)],
                                   x=rng.uniform(24.93, 24.96, n), y=rng.uniform(60.16, 60.18, n),
                                   height_m=np.full(n, 25.0), azimuth_deg=np.tile([0.0, 120.0, 240.0], (n, 1)),
                                   environment=np.where(np.arange(n) % 2, "UMa", "UMi"), crs="EPSG:4326")
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(name=site_file.name))
    scenario, cols = load_scenario_columns(path)
    assert (cols.n_sites, cols.n_sectors, scenario.sites) == (n, 3 * n, ())
    assert sites_file_rows(path) == 3 * n
    assert cols.records([n - 1]) == load_scenario(path).sites[n - 1:]
    assert isinstance(cols.take(np.arange(10)), SiteColumns)


@pytest.mark.parametrize("text", [
    "\ufeffsite;x;y;height;env;azimuth\n101;24.94;60.17;30;;0\n101;;;;;120\n",     # BOM, ';', numeric id, empty env
    "site_id,x,y,height_m,environment,azimuth_deg,sector_id\n A ,24.94, 60.17 ,30,,0,\n",   # spaces, empty columns
    "site_id,x,y,height_m,azimuth_deg\nA,24.94,60.17,3_0,0\n",                       # what float() reads
])
def test_csv_spellings_read_like_the_record_path(tmp_path, text):
    (tmp_path / "sites.csv").write_text(text, encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(name="sites.csv"))
    _, cols = load_scenario_columns(path)
    assert cols.records(range(cols.n_sites)) == load_scenario(path).sites
