"""The defects an independent tester found (issue 15), each reproduced through ``cellscape validate``
(or ``run``): refused in under 2 s, exit status 1, one line of output, no traceback, no file written."""

from __future__ import annotations

import os
from pathlib import Path
import time

import pytest
from typer.testing import CliRunner

import cellscape.pipeline  # noqa: F401  (imported here so that the timings below exclude the import)
import cellscape.scenario.columns  # noqa: F401
from cellscape.cli.app import app

runner = CliRunner()

HEAD = ("name: t\n"
        "area: {crs: 'EPSG:3067', bounds: [0, 0, 1000, 1000], resolution_m: 10}\n"
        "carrier: {fc_ghz: 3.5}\n")
SITE = "sites: [{site_id: A, x: 500, y: 500, height_m: 25, sectors: [{azimuth_deg: 0}]}]\n"


def refused(args: list[str], *, within_s: float = 2.0) -> str:
    """Invoke the CLI; check the refusal's shape and time; return its line."""
    start = time.perf_counter()
    result = runner.invoke(app, args)
    took = time.perf_counter() - start
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output[:3000]
    assert "Traceback" not in result.output
    assert took < within_s, f"refused after {took:.2f} s"
    return lines[0]


def test_the_check_fails_on_a_traceback(tmp_path):
    """refused() itself: a scenario that validates is no refusal."""
    (tmp_path / "s.yaml").write_text(HEAD + SITE)
    with pytest.raises(AssertionError):
        refused(["validate", str(tmp_path / "s.yaml")])


@pytest.mark.parametrize("target", ["/dev/zero", "zero.csv", "zero.geojson"])
def test_sites_file_dev_zero_is_refused_without_reading(tmp_path, target):
    if target != "/dev/zero":
        os.symlink("/dev/zero", tmp_path / target)
    (tmp_path / "s.yaml").write_text(HEAD + f"sites_file: {target}\n")
    line = refused(["validate", str(tmp_path / "s.yaml")])
    assert "zero" in line


def test_huge_site_file_is_refused_from_its_size(tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:                      # sparse: 5 GiB on paper, nothing on disk
        f.truncate(5 * 2**30)
    (tmp_path / "s.yaml").write_text(HEAD + "sites_file: big.csv\n")
    line = refused(["validate", str(tmp_path / "s.yaml")])
    assert "5,368,709,120 bytes, over the limit of 4,294,967,296 bytes" in line
    assert "--allow-large" in line and "CELLSCAPE_MAX_SITE_FILE_BYTES" in line


def billion_laughs(levels: int) -> str:
    lines = ["lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "laughs:\n" + "".join(f"  {line}\n" for line in lines)


@pytest.mark.parametrize("levels", [9, 10, 12])
@pytest.mark.parametrize("where", ["name: *a{top}\n", "carrier: {{fc_ghz: *a{top}}}\n"])
def test_billion_laughs_is_refused_at_once(tmp_path, levels, where):
    head = HEAD.replace("name: t\n", "") if where.startswith("name") else HEAD.replace("carrier: {fc_ghz: 3.5}\n", "")
    (tmp_path / "s.yaml").write_text(billion_laughs(levels) + head + where.format(top=levels - 1))
    line = refused(["validate", str(tmp_path / "s.yaml")], within_s=1.0)
    assert "aliases expand the document to more than 2,000,000 nodes" in line


def test_unknown_crs_is_one_line(tmp_path):
    (tmp_path / "s.yaml").write_text(HEAD.replace("EPSG:3067", "EPSG:999999") + SITE)
    line = refused(["validate", str(tmp_path / "s.yaml")])
    assert line == ("error: crs 'EPSG:999999' is not a CRS pyproj knows (crs not found); use e.g. 'EPSG:4326' "
                    "or a projected 'EPSG:<code>' in metres")


@pytest.mark.parametrize("text", ["[" * 50_000, "{a: " * 50_000, "- " * 50_000, "a:\n" + "".join(
    " " * i + "b:\n" for i in range(1, 2000))])
def test_deep_nesting_is_refused_well_under_a_second(tmp_path, text):
    (tmp_path / "s.yaml").write_text(text)
    line = refused(["validate", str(tmp_path / "s.yaml")], within_s=1.0)
    assert "nested deeper than 64 levels" in line and "RecursionError" not in line


def write_sites_csv(path: Path, n_sites: int) -> None:
    with open(path, "w") as f:
        f.write("site_id,x,y,height_m,azimuth_deg\n")
        f.writelines(f"S{i},{i % 1000},{(i // 1000) % 1000},30,0\n" for i in range(n_sites))


def test_200k_sites_on_the_per_site_path_are_refused_with_the_cost(tmp_path):
    """``run`` without --stream checks each site as a record: 200,000 are refused before reading,
    with the estimate and the way out (validate and run --stream read them as columns)."""
    write_sites_csv(tmp_path / "big.csv", 200_000)
    (tmp_path / "s.yaml").write_text(HEAD + "sites_file: big.csv\n")
    line = refused(["run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "out")])
    assert line.startswith(f"error: 200,000 sector rows in {tmp_path / 'big.csv'} to check one by one, over the "
                           "limit of 100,000 rows (~100 s and ~2 GB before any map;")
    assert not (tmp_path / "out").exists()


def test_200k_sites_in_geojson_are_validated_as_columns(tmp_path):
    """A GeoJSON site file is counted too, so that validate reads a big one as columns."""
    from cellscape.io.scenario_yaml import sites_file_rows

    features = ",".join(f'{{"type": "Feature", "geometry": {{"type": "Point", "coordinates": [{i}, 5]}}, '
                        f'"properties": {{"site_id": "S{i}", "height_m": 30, "azimuth_deg": 0}}}}' for i in range(7))
    (tmp_path / "s.geojson").write_text('{"type": "FeatureCollection", "features": [' + features + "]}")
    (tmp_path / "s.yaml").write_text(HEAD.replace("EPSG:3067", "EPSG:4326").replace("1000, 1000", "10, 10")
                                     + "sites_file: s.geojson\n")
    assert sites_file_rows(tmp_path / "s.yaml") == 7


@pytest.mark.slow
def test_200k_sites_validate_in_bounded_time(tmp_path):
    write_sites_csv(tmp_path / "big.csv", 200_000)
    (tmp_path / "s.yaml").write_text(HEAD.replace("1000, 1000", "100000, 100000").replace("resolution_m: 10",
                                                                                          "resolution_m: 100")
                                     + "sites_file: big.csv\n")
    start = time.perf_counter()
    result = runner.invoke(app, ["validate", str(tmp_path / "s.yaml")])
    assert result.exit_code == 0, result.output
    assert "sites=200000" in result.output
    assert time.perf_counter() - start < 60.0


def test_cli_lines_are_cut_and_resource_errors_stay_one_line():
    import typer

    from cellscape.cli._errors import MAX_MESSAGE_CHARS, one_line_errors
    from cellscape.errors import ScenarioError

    small = typer.Typer()

    @small.command()
    @one_line_errors
    def boom(kind: str) -> None:
        if kind == "long":
            raise ScenarioError("x\n" * 10_000)
        raise RecursionError("maximum recursion depth exceeded")

    long = runner.invoke(small, ["long"])
    assert long.exit_code == 1 and len(long.output.strip().splitlines()) == 1
    assert len(long.output.strip()) <= len("error: ") + MAX_MESSAGE_CHARS and long.output.strip().endswith("(cut)")
    deep = runner.invoke(small, ["deep"])
    assert deep.exit_code == 1 and deep.output.strip() == "error: input nested too deeply (RecursionError); use a smaller input"
