"""Property-based fuzzing of every reader: whatever the input, only our error family escapes.

Each reader gets structured-but-hostile inputs (valid skeletons with fields mutated, removed or
given the wrong type; NaN/inf/huge/empty/unicode cells; bad geometries; small GeoTIFFs of odd
dtypes, nodata, transforms and CRSs) and plain random bytes. The property: the reader returns,
or raises a :class:`~cellscape.errors.CellscapeError` whose message is one line, and writes no
file. The fast set draws a few dozen inputs per strategy; the slow set (``-m slow``) 10,000 per
reader.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path
import tempfile
import warnings

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
import numpy as np
import pytest
import yaml

from cellscape.errors import CellscapeError
from cellscape.geo.grid import RasterGrid
from cellscape.io.scenario_yaml import load_plan, load_scenario, read_scenario_mapping
from cellscape.io.sites_file import count_site_rows, read_site_columns, read_sites_table
from cellscape.pipeline import check_scenario

FAST = 60          # examples per reader in the default run
SLOW = int(os.environ.get("CELLSCAPE_FUZZ_EXAMPLES", "10000"))   # per reader in the slow set

SIZES = [pytest.param(FAST, id="fast"), pytest.param(SLOW, id="slow", marks=pytest.mark.slow)]


def fuzz(n: int):
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much, HealthCheck.large_base_example])


@contextlib.contextmanager
def folder():
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


def only_our_errors(call, where: Path):
    """Run ``call()``: a CellscapeError of one line, or success; nothing else, no file written."""
    before = sorted(p.name for p in where.iterdir())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")        # warnings are shown as one line by the CLI; not errors
            call()
    except CellscapeError as exc:
        text = str(exc)
        assert text and "\n" not in text and "\r" not in text, f"multi-line message: {text!r}"
    after = sorted(p.name for p in where.iterdir())
    assert after == before, f"a reader wrote files: {set(after) - set(before)}"


# ---------------------------------------------------------------------------------------------
# hostile values

HOSTILE_NUMBERS = st.sampled_from([math.nan, math.inf, -math.inf, 0, -0.0, -1, 1e308, -1e308, 1e-320, 2**63,
                                   -(2**63), 10**40, 0.5, 360, 400, 1e9])
HOSTILE_TEXT = st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "1e999", "0x10", "1_000", "١٢٣", "∞",
                                "EPSG:999999", "EPSG:4326", "EPSG:3857", "EPSG:2000", "EPSG:32635", "OGC:CRS84",
                                "+proj=longlat", "UMa", "\x00", "a\nb", "\u202e", "😀", "é" * 3, "x" * 300,
                                "/dev/zero", "../../etc/passwd", "pyrosm:Nowhere", "sionna:nowhere",
                                "2020-13-45", "yes", "null", "~", "[1", "{a: 1}"])
LEAF = st.one_of(HOSTILE_NUMBERS, HOSTILE_TEXT, st.booleans(), st.none(), st.integers(), st.floats(),
                 st.text(max_size=20))
VALUE = st.recursive(LEAF, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                   st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                     max_leaves=12)

SCENARIO = {
    "name": "fuzz",
    "seed": 1,
    "environment": "UMa",
    "area": {"crs": "EPSG:3067", "bounds": [0, 0, 1000, 1000], "resolution_m": 10},
    "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30},
    "sites": [{"site_id": "A", "x": 500, "y": 500, "height_m": 25,
               "sectors": [{"azimuth_deg": 0, "tx_power_dbm": 46}, {"azimuth_deg": 120}]},
              {"site_id": "B", "x": 200, "y": 700, "height_m": 30, "sectors": [{"azimuth_deg": 240}]}],
    "outputs": {"rsrp_thresholds_dbm": [-110, -100]},
    "compute": {"mem_limit_mb": 64},
}

PLAN = {"scenario": "s.yaml",
        "plan": {"candidates": {"grid": {"spacing_m": 200}}, "targets": {"rsrp_dbm": -100},
                 "costs": {"new_site": 100, "unit": "kEUR"}, "demand": {"outdoor_users_per_km2": 100},
                 "existing": "keep", "time_limit_s": 1}}


def _paths(tree, prefix=()):
    """Every path into a tree of dicts and lists."""
    yield prefix
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from _paths(v, prefix + (i,))


@st.composite
def mutated(draw, skeleton):
    """``skeleton`` with 1-4 mutations: a value replaced (wrong type, hostile), a key removed, an
    unknown key added, a value wrapped in a list."""
    tree = json.loads(json.dumps(skeleton))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(tree) if p]
        path = draw(st.sampled_from(paths))
        parent = tree
        for k in path[:-1]:
            parent = parent[k]
        key = path[-1]
        action = draw(st.sampled_from(["replace", "remove", "add", "wrap"]))
        if action == "replace":
            parent[key] = draw(VALUE)
        elif action == "remove":
            del parent[key]
        elif action == "wrap":
            parent[key] = [parent[key]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["colour", "sites_file", "terrain", "buildings", "sensing", "uplink",
                                         "geometry", "user", "1"]))] = draw(VALUE)
        else:
            parent.append(draw(VALUE))
        if not isinstance(tree, dict) or not tree:
            break
    return tree


YAML_TOKENS = st.sampled_from(["[", "]", "{", "}", ":", ", ", "- ", "&a ", "*a", "&b ", "*b", "!!str ", "!!int ",
                               "!!float ", "!!binary ", "!!timestamp ", "!!python/object:os.system ", "!!set ",
                               "<<: ", "? ", "|", ">", "'", '"', "#", "\n", "  ", "\t", "name", "area", "sites",
                               "1e999", ".nan", "2020-13-45", "0o8", "0x", "~", "---\n", "...\n", "%YAML 1.1\n",
                               "\\x00", "\u00e9", "\ufeff", "\x85", "crs", "EPSG:999999"])


def yaml_text(tree) -> str:
    return yaml.safe_dump(tree, allow_unicode=True)


# ---------------------------------------------------------------------------------------------
# scenario and plan YAML


def _scenario_reader(path: Path):
    def call():
        check_scenario(load_scenario(path))
    return call


@pytest.mark.parametrize("n", SIZES)
def test_scenario_yaml_trees(n):
    @fuzz(n)
    @given(tree=mutated(SCENARIO))
    def run(tree):
        with folder() as d:
            (d / "s.yaml").write_text(yaml_text(tree), encoding="utf-8")
            only_our_errors(_scenario_reader(d / "s.yaml"), d)
    run()


@pytest.mark.parametrize("n", SIZES)
def test_scenario_yaml_text(n):
    @fuzz(n)
    @given(head=st.sampled_from(["", yaml_text(SCENARIO)]), tokens=st.lists(YAML_TOKENS, max_size=60),
           raw=st.binary(max_size=200), as_bytes=st.booleans())
    def run(head, tokens, raw, as_bytes):
        with folder() as d:
            p = d / "s.yaml"
            if as_bytes:
                p.write_bytes(raw)
            else:
                p.write_text(head + "".join(tokens), encoding="utf-8")
            only_our_errors(_scenario_reader(p), d)
            only_our_errors(lambda: read_scenario_mapping(p), d)
    run()


@pytest.mark.parametrize("n", SIZES)
def test_plan_yaml(n):
    @fuzz(n)
    @given(tree=mutated(PLAN), tokens=st.lists(YAML_TOKENS, max_size=20), text_mode=st.booleans())
    def run(tree, tokens, text_mode):
        with folder() as d:
            (d / "s.yaml").write_text(yaml_text(SCENARIO))
            text = yaml_text(tree) + ("".join(tokens) if text_mode else "")
            (d / "p.yaml").write_text(text, encoding="utf-8")
            only_our_errors(lambda: load_plan(d / "p.yaml"), d)
    run()


# ---------------------------------------------------------------------------------------------
# site files

COLUMNS = ["site_id", "x", "y", "height_m", "azimuth_deg", "tx_power_dbm", "mech_tilt_deg", "elec_tilt_deg",
           "sector_id", "environment", "Site", "lon", "lat", "Azimuth", "colour", "", " x ", "X"]
CELL = st.one_of(st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "1e309", "-1e309", "1e400", "0", "-0",
                                  "30", "500", "120", "A", "B", "UMa", "UMi", "1_000", "0x10", "١٢٣", "😀", '"',
                                  '""', "a,b", "1;2", "\t", "é", "9" * 400, "-" * 3, "true"]),
                 st.floats().map(repr), st.integers().map(str), st.text(max_size=6))


@st.composite
def csv_text(draw):
    header = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=8))
    if draw(st.booleans()):
        header = ["site_id", "x", "y", "height_m", "azimuth_deg"] + header[:3]
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=len(header) + 1), max_size=8))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return bom + ending.join(delimiter.join(r) for r in [header] + rows) + draw(st.sampled_from(["", ending]))


def _site_readers(path: Path):
    def call():
        try:
            read_sites_table(path)
        finally:
            count_site_rows(path)
    yield call
    yield lambda: read_site_columns(path)


@pytest.mark.parametrize("n", SIZES)
def test_site_csv(n):
    @fuzz(n)
    @given(text=csv_text(), raw=st.binary(max_size=300), as_bytes=st.booleans(),
           suffix=st.sampled_from([".csv", ".tsv", ".txt"]))
    def run(text, raw, as_bytes, suffix):
        with folder() as d:
            p = d / f"sites{suffix}"
            if as_bytes:
                p.write_bytes(raw)
            else:
                p.write_text(text, encoding="utf-8", newline="")
            for call in _site_readers(p):
                only_our_errors(call, d)
    run()


COORD = st.one_of(st.floats(), HOSTILE_NUMBERS, st.text(max_size=3), st.none(), st.booleans())
GEOMETRY = st.one_of(
    st.none(), VALUE,
    st.builds(lambda c: {"type": "Point", "coordinates": c}, st.one_of(st.lists(COORD, max_size=4), VALUE)),
    st.builds(lambda c: {"type": "Polygon", "coordinates": c}, st.lists(st.lists(st.lists(COORD, max_size=3),
                                                                                 max_size=5), max_size=2)),
    st.builds(lambda t: {"type": t}, st.sampled_from(["Point", "LineString", "GeometryCollection", "Nope"])))
PROPERTIES = st.one_of(st.none(), VALUE, st.dictionaries(st.sampled_from(COLUMNS), st.one_of(LEAF, CELL),
                                                         max_size=7))
CRS_NAMES = st.one_of(HOSTILE_TEXT, st.sampled_from(["urn:ogc:def:crs:EPSG::3067", "urn:ogc:def:crs:OGC:1.3:CRS84",
                                                      "EPSG:32635", "urn:ogc:def:crs:EPSG::999999"]))
CRS_MEMBER = st.one_of(st.none(), VALUE, st.builds(lambda n: {"type": "name", "properties": {"name": n}}, CRS_NAMES))


@st.composite
def geojson_text(draw, *, polygons: bool = False):
    good_geometry = st.builds(
        lambda x, y: {"type": "Point", "coordinates": [x, y]}, st.floats(0, 1000), st.floats(0, 1000))
    if polygons:
        good_geometry = st.builds(
            lambda x, y, w: {"type": "Polygon", "coordinates": [[[x, y], [x + w, y], [x + w, y + w], [x, y + w],
                                                                  [x, y]]]},
            st.floats(385_000, 386_000), st.floats(6_671_000, 6_672_000), st.floats(-50, 50))
    feature = st.builds(lambda g, p: {"type": "Feature", "geometry": g, "properties": p},
                        st.one_of(good_geometry, GEOMETRY), PROPERTIES)
    doc = {"type": draw(st.sampled_from(["FeatureCollection", "FeatureCollection", "Feature", None])),
           "features": draw(st.one_of(st.lists(st.one_of(feature, VALUE), max_size=6), VALUE))}
    crs = draw(CRS_MEMBER)
    if crs is not None:
        doc["crs"] = crs
    return json.dumps(doc, allow_nan=True)


@pytest.mark.parametrize("n", SIZES)
def test_site_geojson(n):
    @fuzz(n)
    @given(text=geojson_text(), raw=st.binary(max_size=300), as_bytes=st.booleans(),
           suffix=st.sampled_from([".geojson", ".json"]))
    def run(text, raw, as_bytes, suffix):
        with folder() as d:
            p = d / f"sites{suffix}"
            if as_bytes:
                p.write_bytes(raw)
            else:
                p.write_text(text, encoding="utf-8")
            for call in _site_readers(p):
                only_our_errors(call, d)
    run()


@pytest.mark.parametrize("n", SIZES)
def test_site_parquet(n):
    import pyarrow as pa
    import pyarrow.parquet as pq

    column = st.one_of(st.lists(st.one_of(st.none(), st.floats()), min_size=1, max_size=5),
                       st.lists(st.one_of(st.none(), CELL), min_size=1, max_size=5),
                       st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), min_size=1, max_size=5),
                       st.lists(st.booleans(), min_size=1, max_size=5))

    @fuzz(n)
    @given(names=st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=7, unique=True),
           data=st.data(), raw=st.binary(max_size=200), as_bytes=st.booleans())
    def run(names, data, raw, as_bytes):
        with folder() as d:
            p = d / "sites.parquet"
            if as_bytes:
                p.write_bytes(raw)
            else:
                cols = [data.draw(column) for _ in names]
                size = min(len(c) for c in cols)
                pq.write_table(pa.table({nm: pa.array(c[:size]) for nm, c in zip(names, cols)}), p)
            for call in _site_readers(p):
                only_our_errors(call, d)
    run()


# ---------------------------------------------------------------------------------------------
# buildings


@pytest.mark.parametrize("n", SIZES)
def test_buildings_file(n):
    from cellscape.geo.buildings import load_buildings
    from cellscape.scenario.records import BuildingSource

    @fuzz(n)
    @given(text=geojson_text(polygons=True), raw=st.binary(max_size=200), as_bytes=st.booleans(),
           field=st.sampled_from([None, "height", "height_m", "colour"]))
    def run(text, raw, as_bytes, field):
        with folder() as d:
            p = d / "b.geojson"
            if as_bytes:
                p.write_bytes(raw)
            else:
                p.write_text(text, encoding="utf-8")
            source = BuildingSource(kind="file", path=str(p), height_field=field)
            only_our_errors(lambda: load_buildings(source, crs="EPSG:32635"), d)
    run()


# ---------------------------------------------------------------------------------------------
# rasters: DEM and demand

DTYPES = ["uint8", "int8", "int16", "uint16", "int32", "uint32", "float32", "float64", "complex64", "int64",
          "uint64"]
RASTER_CRS = st.sampled_from([None, "EPSG:32635", "EPSG:4326", "EPSG:3857", "EPSG:3067",
                              'LOCAL_CS["arbitrary",UNIT["metre",1]]'])


@st.composite
def geotiff(draw, d: Path):
    import rasterio
    from rasterio.transform import Affine

    dtype = draw(st.sampled_from(DTYPES))
    rows, cols = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    kind = np.dtype(dtype)
    if kind.kind == "f" or kind.kind == "c":
        elements = st.floats(width=32 if kind.itemsize <= 8 and kind.kind == "c" else kind.itemsize * 8,
                             allow_nan=True, allow_infinity=True)
    else:
        info = np.iinfo(kind)
        elements = st.integers(int(info.min), int(info.max))
    values = np.array(draw(st.lists(elements, min_size=rows * cols, max_size=rows * cols)),
                      dtype=kind).reshape(rows, cols)
    nodata = draw(st.one_of(st.none(), st.sampled_from([0, -9999, 255, math.nan, -32768, 1e30])))
    res = draw(st.sampled_from([30.0, -30.0, 0.0, 1e-9, 1e12, math.inf]))
    rot = draw(st.sampled_from([0.0, 0.0, 5.0]))
    transform = Affine(res, rot, draw(st.sampled_from([385_000.0, 0.0, -1e20])), 0.0, -abs(res) if res else 0.0,
                       6_672_000.0)
    p = d / "r.tif"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with rasterio.open(p, "w", driver="GTiff", width=cols, height=rows, count=1, dtype=dtype,
                               crs=draw(RASTER_CRS), transform=transform, nodata=nodata) as dst:
                dst.write(values, 1)
    except (ValueError, TypeError, OverflowError, rasterio.errors.RasterioError):
        if p.exists():
            p.unlink()
        assume(False)                       # a combination GDAL cannot write is not an input
    return p


@st.composite
def raster_file(draw, d: Path):
    if draw(st.integers(0, 4)) == 0:
        p = d / draw(st.sampled_from(["r.tif", "r.asc", "r"]))
        p.write_bytes(draw(st.binary(max_size=300)))
        return p
    return draw(geotiff(d))


@pytest.mark.parametrize("n", SIZES)
def test_dem(n):
    from cellscape.io.terrain import read_terrain

    @fuzz(n)
    @given(data=st.data())
    def run(data):
        with folder() as d:
            p = data.draw(raster_file(d))
            only_our_errors(lambda: read_terrain(p), d)
    run()


@pytest.mark.parametrize("n", SIZES)
def test_demand_raster(n):
    from cellscape.io.demand import read_demand_raster

    grid = RasterGrid("EPSG:32635", x_min_m=385_000.0, y_max_m=6_672_000.0, resolution_m=50.0, n_rows=4, n_cols=4)

    @fuzz(n)
    @given(data=st.data())
    def run(data):
        with folder() as d:
            p = data.draw(raster_file(d))
            only_our_errors(lambda: read_demand_raster(p, grid), d)
    run()


def test_the_property_can_fail(tmp_path):
    """The harness itself: a foreign exception, a two-line message or a written file all fail it."""
    with pytest.raises(KeyError):
        only_our_errors(lambda: {}["x"], tmp_path)
    with pytest.raises(AssertionError, match="multi-line"):
        only_our_errors(lambda: (_ for _ in ()).throw(CellscapeError("a\nb")), tmp_path)
    with pytest.raises(AssertionError, match="wrote files"):
        only_our_errors(lambda: (tmp_path / "x").write_text("1"), tmp_path)
    assert os.listdir(tmp_path) == ["x"]


# ---------------------------------------------------------------------------------------------
# what the fuzzing found, kept as plain regression tests


@pytest.mark.parametrize("name, content, reader", [
    ("s.yaml", "!!int ", "scenario"),                                   # PyYAML IndexError
    ("s.yaml", "\x00", "scenario"),                                     # ReaderError before parsing
    ("s.yaml", "? [1, 2]\n: x\n", "scenario"),                          # unhashable key: TypeError
    ("s.yaml", "a: 2020-13-45\n", "scenario"),                          # timestamp: ValueError
    ("s.yaml", "!!timestamp ", "scenario"),                             # timestamp: AttributeError
    ("sites.geojson", '{"type": "FeatureCollection", "features": [], "crs": NaN}', "sites"),   # AttributeError
    ("sites.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": '
                      '"Point", "coordinates": [1' + "0" * 400 + ', 5]}, "properties": {}}]}', "sites"),  # Overflow
])
def test_found_by_fuzzing(tmp_path, name, content, reader):
    p = tmp_path / name
    p.write_text(content)
    call = _scenario_reader(p) if reader == "scenario" else (lambda: read_sites_table(p))
    with pytest.raises(CellscapeError) as info:
        call()
    assert "\n" not in str(info.value) and os.listdir(tmp_path) == [name]


def test_parquet_integers_beyond_2_53_read_as_floats(tmp_path):
    """pyarrow's safe cast refused 2**53 + 1 (ArrowInvalid); the record path reads it with float()."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "s.parquet"
    pq.write_table(pa.table({"site_id": ["A"], "x": [2**53 + 1], "y": [1], "height_m": [30], "azimuth_deg": [0]}), p)
    assert read_site_columns(p).x[0] == float(2**53 + 1) == read_sites_table(p).sites[0]["x"]


def test_messages_quoting_a_key_with_line_breaks_stay_one_line(tmp_path):
    (tmp_path / "s.yaml").write_text(yaml_text({**SCENARIO, "outputs": {"\n": None}}))
    with pytest.raises(CellscapeError) as info:
        load_scenario(tmp_path / "s.yaml")
    assert "\n" not in str(info.value) and "unknown key" in str(info.value)


def test_plan_file_with_a_null_key_is_one_line(tmp_path):
    """sorted() of the unknown keys compared None with str (TypeError)."""
    (tmp_path / "s.yaml").write_text(yaml_text(SCENARIO))
    (tmp_path / "p.yaml").write_text("scenario: s.yaml\ncolour: 1\n? \n: 2\n")
    with pytest.raises(CellscapeError, match="unknown key in a plan file"):
        load_plan(tmp_path / "p.yaml")


def test_parquet_with_every_site_id_empty_is_one_line(tmp_path):
    """The columnar grouping indexed an empty array (IndexError) when no row had a site_id."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "s.parquet"
    pq.write_table(pa.table({"Site": pa.array([None], pa.string()), "x": [1.0], "y": [1.0], "height_m": [30.0],
                             "azimuth_deg": [0.0]}), p)
    for read in (read_sites_table, read_site_columns):
        with pytest.raises(CellscapeError, match=r"rows\[0\]: site_id is empty"):
            read(p)


def test_building_reader_errors_lose_geos_line_breaks(tmp_path):
    from cellscape.geo.buildings import load_buildings
    from cellscape.scenario.records import BuildingSource

    p = tmp_path / "b.geojson"
    p.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": '
                 '{"type": "LineString", "coordinates": [[1, 2]]}}]}')
    with pytest.raises(CellscapeError, match="point array must contain 0 or >1 elements$") as info:
        load_buildings(BuildingSource(kind="file", path=str(p)), crs="EPSG:32635")
    assert "\n" not in str(info.value)
