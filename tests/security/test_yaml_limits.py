"""YAML reading: safe tags only, bounded aliases and depth, size checked before reading."""

from __future__ import annotations

import os
import time

import pytest

from cellscape.errors import DataFileError, ScenarioError
from cellscape.io import limits
from cellscape.io.scenario_yaml import load_scenario, read_scenario_mapping

HEAD = ("name: t\n"
        "area: {crs: 'EPSG:3067', bounds: [0, 0, 1000, 1000], resolution_m: 10}\n"
        "carrier: {fc_ghz: 3.5}\n")


def write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['echo hi']", "!!python/name:os.system",
                                 "!!python/object:collections.OrderedDict {}", "!<tag:yaml.org,2002:python/tuple> [1]"])
def test_object_tags_are_refused(tmp_path, tag):
    with pytest.raises(ScenarioError, match=r"line 1, column 7: invalid YAML: could not determine a constructor"):
        read_scenario_mapping(write(tmp_path, f"name: {tag}\n"))


def test_reasonable_aliases_and_merge_keys_still_work(tmp_path):
    text = HEAD + ("three: &three [{azimuth_deg: 0}, {azimuth_deg: 120}, {azimuth_deg: 240}]\n"
                   "base: &base {height_m: 25, y: 500}\n")
    text = text.replace("three:", "x-three:").replace("base:", "x-base:")
    data = read_scenario_mapping(write(tmp_path, text + "sites:\n" + "".join(
        f"  - {{<<: *base, site_id: S{i}, x: {100 + 50 * i}, sectors: *three}}\n" for i in range(10))))
    assert len(data["sites"]) == 10 and data["sites"][3]["sectors"][2] == {"azimuth_deg": 240}
    assert data["sites"][9]["height_m"] == 25


def test_alias_expansion_is_counted_through_shared_nodes(tmp_path, monkeypatch):
    """Nine aliases of a nine-item list are 1 + 9 * 10 nodes: under a limit of 91, over 90."""
    text = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: [" + ", ".join(["*a"] * 9) + "]\n"
    # document: mapping (1) + keys a, b (2) + a (10) + b (1 + 9 * 10)
    monkeypatch.setenv("CELLSCAPE_MAX_YAML_NODES", str(1 + 2 + 10 + 91))
    assert len(read_scenario_mapping(write(tmp_path, text))["b"]) == 9
    monkeypatch.setenv("CELLSCAPE_MAX_YAML_NODES", str(1 + 2 + 10 + 90))
    with pytest.raises(ScenarioError, match=r"aliases expand the document to more than 103 nodes"):
        read_scenario_mapping(write(tmp_path, text))


def test_recursive_alias_is_refused(tmp_path):
    with pytest.raises(ScenarioError, match="an alias refers to a collection that contains it"):
        read_scenario_mapping(write(tmp_path, "a: &a [1, *a]\n"))


def test_alias_chains_count_as_depth(tmp_path):
    lines = ["l0: &a0 [1]"] + [f"l{i}: &a{i} [*a{i - 1}]" for i in range(1, 80)]
    with pytest.raises(ScenarioError, match="aliases nest collections deeper than 64 levels"):
        read_scenario_mapping(write(tmp_path, "\n".join(lines) + "\n"))


@pytest.mark.parametrize("depth, ok", [(63, True), (64, False)])
def test_depth_limit_is_exact(tmp_path, depth, ok):
    """The document mapping is level 1, so 63 brackets inside it are 64 levels."""
    p = write(tmp_path, "a: " + "[" * depth + "]" * depth + "\n")
    if ok:
        read_scenario_mapping(p)
    else:
        with pytest.raises(ScenarioError, match="nested deeper than 64 levels"):
            read_scenario_mapping(p)


def test_depth_limit_can_be_raised(tmp_path, monkeypatch):
    p = write(tmp_path, "a: " + "[" * 100 + "]" * 100 + "\n")
    with pytest.raises(ScenarioError, match="CELLSCAPE_MAX_YAML_DEPTH"):
        read_scenario_mapping(p)
    monkeypatch.setenv("CELLSCAPE_ALLOW_LARGE", "1")
    assert limits.limit("max_yaml_depth") == 6400
    assert isinstance(read_scenario_mapping(p)["a"], list)


def test_size_is_checked_before_reading(tmp_path, monkeypatch):
    p = write(tmp_path, HEAD)
    monkeypatch.setenv("CELLSCAPE_MAX_YAML_BYTES", "50")
    with pytest.raises(DataFileError, match=rf"{len(HEAD.encode()):,} bytes, over the limit of 50 bytes \(a big "
                                            r"network belongs in a sites_file, read as columns\); raise it "
                                            r"with --allow-large \(x100\) or CELLSCAPE_MAX_YAML_BYTES=N"):
        read_scenario_mapping(p)


def test_sparse_huge_file_is_refused_at_once(tmp_path):
    p = tmp_path / "s.yaml"
    with open(p, "wb") as f:
        f.truncate(2**40)                            # 1 TiB on paper
    start = time.perf_counter()
    with pytest.raises(DataFileError, match="over the limit of 4,194,304 bytes"):
        read_scenario_mapping(p)
    assert time.perf_counter() - start < 0.5


def test_devices_pipes_and_folders_are_refused_without_blocking(tmp_path):
    with pytest.raises(DataFileError, match="not a regular file"):
        read_scenario_mapping("/dev/zero")
    os.mkfifo(tmp_path / "pipe.yaml")                # opening it would block until a writer comes
    with pytest.raises(DataFileError, match="not a regular file"):
        read_scenario_mapping(tmp_path / "pipe.yaml")
    with pytest.raises(DataFileError, match="is a folder"):
        read_scenario_mapping(tmp_path)
    with pytest.raises(DataFileError, match="scenario file not found"):
        read_scenario_mapping(tmp_path / "nope.yaml")


def test_bad_limit_values_are_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("CELLSCAPE_MAX_YAML_BYTES", "lots")
    with pytest.raises(DataFileError, match=r"CELLSCAPE_MAX_YAML_BYTES='lots': expected a whole number of bytes"):
        read_scenario_mapping(write(tmp_path, HEAD))
    monkeypatch.setenv("CELLSCAPE_MAX_YAML_BYTES", "0")
    with pytest.raises(DataFileError, match="expected a positive number"):
        read_scenario_mapping(write(tmp_path, HEAD))


@pytest.mark.parametrize("text, message", [
    ("? [1, 2]\n: x\n", "a mapping key must be a plain value, got a list"),
    ("a: 1\na: 2\n", "duplicate key 'a' (first at line 1)"),
    ("a: 2020-13-45\n", "invalid YAML: month must be in 1..12"),
    ("a: !!binary 'not base64!'\n", "invalid YAML: failed to decode base64 data"),
    ("\xff\xfe", "not UTF-8 text"),
])
def test_hostile_scalars_and_keys_are_one_line(tmp_path, text, message):
    p = tmp_path / "s.yaml"
    p.write_bytes(text.encode("latin-1"))
    with pytest.raises((ScenarioError, DataFileError)) as info:
        read_scenario_mapping(p)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_whole_scenario_with_aliases_loads(tmp_path):
    text = HEAD
    text += "sites:\n  - {site_id: A, x: 500, y: 500, height_m: 25, sectors: &sec [{azimuth_deg: 0}]}\n"
    text += "  - {site_id: B, x: 600, y: 500, height_m: 25, sectors: *sec}\n"
    sc = load_scenario(write(tmp_path, text))
    assert [s.site_id for s in sc.sites] == ["A", "B"]
