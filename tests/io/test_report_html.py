"""`cellscape report`: one self-contained HTML file from a real run or plan folder.

The folders are made by the real commands on the tiny scenarios of the CLI tests (once per module),
then reported on: figures embedded as data URIs and nothing else referenced, KPI numbers that are
those of kpis.json, the LOS and plan sections, one-line errors, atomic writes.
"""

import base64
import json
import re
import shutil

import pytest
import typer
from typer.testing import CliRunner

from cellscape.cli.app import app
from cellscape.cli.report_cmd import report
from cellscape.errors import DataFileError
from cellscape.io.coverage_outputs import OSM_ATTRIBUTION, SIONNA_ATTRIBUTION
from cellscape.io.report_html import build_report_html, write_report_html

from ..cli.test_app import X0, Y0, scenario_dict, write
from ..cli.test_plan_cli import plan_files

runner = CliRunner()
report_app = typer.Typer(pretty_exceptions_enable=False)
report_app.command()(report)

_PAYLOAD = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")


def _payloads(text):
    return _PAYLOAD.findall(text)


def assert_self_contained(text):
    """Every <img> is a PNG data URI; no src/href/url() points anywhere but into the page."""
    assert text.startswith("<!doctype html>") and text.rstrip().endswith("</html>")
    stripped = _PAYLOAD.sub("data:image/png;base64,X", text)   # no false hits inside base64
    imgs = re.findall(r"<img\b[^>]*>", stripped, flags=re.I)
    assert imgs and all('src="data:image/png;base64,X"' in tag for tag in imgs)
    refs = re.findall(r"""\b(?:src|href|srcset|poster|action|background)\s*=\s*["']?([^"'\s>]*)""", stripped, re.I)
    assert refs and all(r == "data:image/png;base64,X" or r.startswith("#") for r in refs), refs
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", stripped, re.I)
    lower = stripped.lower()
    assert "<script" not in lower and "<link" not in lower and "<iframe" not in lower
    assert "@import" not in lower and "url(" not in lower
    for payload in _payloads(text):
        assert base64.b64decode(payload)[:8] == b"\x89PNG\r\n\x1a\n"


def _pct(v):
    return f"{100 * v:.1f} %"


@pytest.fixture(scope="module")
def geometric_run(tmp_path_factory):
    """A geometric run over two buildings: maps, CDFs, kpis.json, los_probability.csv/.png."""
    import geopandas as gpd
    import shapely

    tmp = tmp_path_factory.mktemp("geo")
    b = gpd.GeoDataFrame({"height_m": [30.0, 20.0]}, crs="EPSG:32635", geometry=[
        shapely.box(X0 + 250, Y0 + 100, X0 + 350, Y0 + 300), shapely.box(X0 + 20, Y0 + 20, X0 + 80, Y0 + 80)])
    b.to_file(tmp / "b.gpkg")
    scen = write(tmp, scenario_dict(los_mode="geometric", buildings={"source": "b.gpkg"}))
    r = runner.invoke(app, ["run", str(scen), "-o", str(tmp / "out")])
    assert r.exit_code == 0, r.output
    return tmp / "out"


@pytest.fixture(scope="module")
def plan_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plan")
    p = plan_files(tmp, tuning={"enabled": False})
    r = runner.invoke(app, ["plan", str(p), "-o", str(tmp / "out")])
    assert r.exit_code == 0, r.output
    return tmp / "out"


@pytest.fixture
def run_copy(geometric_run, tmp_path):
    """A scratch copy of the run folder, for tests that change it."""
    return shutil.copytree(geometric_run, tmp_path / "run")


def test_report_of_a_run_is_one_self_contained_file(run_copy):
    r = runner.invoke(report_app, [str(run_copy)])
    assert r.exit_code == 0, r.output
    path = run_copy / "report.html"
    assert f"wrote {path}" in r.stdout and "MB" in r.stdout
    assert not [p.name for p in run_copy.iterdir() if p.name.endswith(".partial")]
    assert_self_contained(path.read_text(encoding="utf-8"))


def test_report_has_four_maps_three_cdfs_and_the_kpis_of_kpis_json(run_copy):
    text = write_report_html(run_copy, compact=False).read_text(encoding="utf-8")
    k = json.loads((run_copy / "kpis.json").read_text())
    maps = re.search(r'<section id="maps">(.*?)</section>', text, re.S).group(1)
    cdfs = re.search(r'<section id="cdfs">(.*?)</section>', text, re.S).group(1)
    assert len(_payloads(maps)) == 4 and len(_payloads(cdfs)) == 3
    for caption in ("Best-server RSRP (RSRP [dBm])", "Downlink SINR (SINR [dB])", "throughput [Mbit/s]",
                    "Serving sector (sector index)"):
        assert caption in maps
    # the numbers are kpis.json's, with their units
    kpis = re.search(r'<section id="kpis">(.*?)</section>', text, re.S).group(1)
    for entry in k["coverage"].values():
        row = re.search(rf"<td>≥ {entry['threshold_dbm']:g}</td>(.*?)</tr>", kpis).group(1)
        assert [_pct(entry[w]) for w in ("all", "outdoor", "indoor")] == re.findall(r"<td class=n>([^<]*%)</td>", row)
    assert "RSRP threshold [dBm]" in kpis and "covered area [km²]" in kpis
    sinr_all = re.search(r"<td>SINR \[dB\]</td><td>all</td>(.*?)</tr>", kpis).group(1)
    assert re.findall(r"<td class=n>([^<]*)</td>", sinr_all) == [f"{v:.1f}" for v in k["sinr_db_percentiles"].values()]
    assert "throughput [Mbit/s]" in kpis and "RSRP [dBm]" in kpis
    for s in k["sectors"]:
        assert f"<td>{s['sector_id']}</td>" in kpis and _pct(s["served_fraction"]) in kpis


def test_figures_are_embedded_compact_or_byte_for_byte(run_copy, tmp_path):
    from matplotlib.image import imread
    import numpy as np

    original = (run_copy / "rsrp_dbm.png").read_bytes()
    full = [base64.b64decode(p) for p in _payloads(build_report_html(run_copy, compact=False))]
    assert original in full                                         # embedded as it is
    i = full.index(original)
    small = base64.b64decode(_payloads(build_report_html(run_copy))[i])
    assert len(small) < 0.6 * len(original)
    (tmp_path / "small.png").write_bytes(small)
    a, b = imread(run_copy / "rsrp_dbm.png")[..., :3], imread(tmp_path / "small.png")[..., :3]
    assert a.shape == b.shape and np.mean(np.abs(a - b)) < 0.01   # same picture, colours within 1 %


def test_geometric_run_gets_the_los_section_and_the_osm_credit(run_copy):
    text = build_report_html(run_copy, compact=False)
    k = json.loads((run_copy / "kpis.json").read_text())
    los = re.search(r'<section id="los">(.*?)</section>', text, re.S).group(1)
    assert "Line of sight" in los and "TR 38.901" in los
    assert _pct(k["line_of_sight"]["UMa"]["los_fraction"]) in los
    assert f"<td class=n>{k['line_of_sight']['UMa']['outdoor_links']}</td>" in los
    assert len(_payloads(los)) == 1                         # the LOS probability plot
    assert "d2D bin centre [m]" in los or "No distance bin has enough links" in los
    assert OSM_ATTRIBUTION in text
    # the meta of the run is summarised with its units
    assert "<td>los_mode</td><td>geometric</td>" in text and "<td>noise_per_re_dbm</td><td>" in text


def test_a_statistical_run_without_buildings_has_no_los_section_nor_credit(tmp_path):
    r = runner.invoke(app, ["run", str(write(tmp_path, scenario_dict())), "-o", str(tmp_path / "out"), "--no-png"])
    assert r.exit_code == 0, r.output
    text = build_report_html(tmp_path / "out", compact=False)     # --no-png: every figure drawn here
    assert_self_contained(text)
    assert 'id="los"' not in text and "Line of sight" not in text and "OpenStreetMap" not in text
    assert len(_payloads(text)) == 4 + 3
    assert "<td>los_mode</td><td>statistical</td>" in text


def test_regenerate_maps_redraws_every_figure_from_the_geotiffs(run_copy):
    text = build_report_html(run_copy, regenerate_maps=True, compact=False)
    assert_self_contained(text)
    assert len(_payloads(text)) == 4 + 3 + 1                # maps, CDFs, LOS plot
    assert "Redrawn from the GeoTIFFs" in text and "rsrp_dbm.png" in text
    # sites and buildings come back when the run wrote scenario.json / buildings.geojson
    assert ("sites from scenario.json" in text) == (run_copy / "scenario.json").is_file()
    assert ("buildings from buildings.geojson" in text) == (run_copy / "buildings.geojson").is_file()
    assert "Redrawn from the GeoTIFFs" not in build_report_html(run_copy, compact=False)   # default: the PNGs


def _scenario_json(**over):
    sc = scenario_dict(**over)
    for site in sc["sites"]:
        for j, sec in enumerate(site["sectors"]):
            sec["sector_id"] = f"{site['site_id']}-{j + 1}"
    return json.dumps({"version": 1, "scenario": sc})


def test_scenario_json_is_summarised_and_names_the_report(run_copy):
    (run_copy / "scenario.json").write_text(_scenario_json(name="harbour",
                                                           buildings={"kind": "sionna", "path": "sionna:munich"}))
    text = build_report_html(run_copy, compact=False)
    assert "<title>cellscape coverage report: harbour</title>" in text
    assert "<td>sites</td><td>2 sites, 4 sectors</td>" in text
    assert "<td>carrier.fc_ghz</td><td>3.5</td><td>GHz</td>" in text
    assert f"<td>A-2</td><td>A</td><td class=n>{X0 + 150:.1f}</td><td class=n>{Y0 + 200:.1f}</td>" in text
    assert "<th>azimuth [deg]</th>" in text and "<th>tx power [dBm]</th>" in text
    assert SIONNA_ATTRIBUTION in text and OSM_ATTRIBUTION not in text
    assert "no scenario.json" not in text
    # a building file is credited to OSM, and its folder is not mailed around
    secret = {"kind": "file", "path": "/home/ann/secret/b.gpkg"}
    (run_copy / "scenario.json").write_text(_scenario_json(buildings=secret))
    text = build_report_html(run_copy, compact=False)
    assert OSM_ATTRIBUTION in text and "…/b.gpkg" in text and "secret" not in text
    # without scenario.json the report says so and still has the run's meta
    (run_copy / "scenario.json").unlink()
    text = build_report_html(run_copy, compact=False)
    assert "no scenario.json" in text and "<td>los_mode</td><td>geometric</td>" in text


def test_plan_folder_gets_the_plan_section(plan_run, tmp_path):
    out = tmp_path / "plan-report.html"
    r = runner.invoke(report_app, [str(plan_run), "-o", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    assert_self_contained(text)
    s = json.loads((plan_run / "plan.json").read_text())
    plan = re.search(r'<section id="plan">(.*?)</section>', text, re.S).group(1)
    assert "<h2>Network plan: tiny-plan</h2>" in plan
    for heading in ("Site selection", "Targets, re-measured", "Phased rollout", "Fibre backhaul", "Maps"):
        assert f"<h3>{heading}" in plan
    assert "<th>method</th>" in plan and f"<td class=n>{s['milp']['cost']:.1f}</td>" in plan
    # rsrp and sinr before/after, rollout + the RSRP and SINR CDFs after the plan
    assert len(_payloads(plan)) == 7
    assert 'alt="rollout"' in plan and 'alt="RSRP before"' in plan and 'alt="RSRP after"' in plan
    assert 'alt="SINR before"' in plan and 'alt="SINR after"' in plan
    assert "[dBm]" in plan and "[dB]" in plan
    assert not (plan_run / "report.html").exists()
    # without plan.md the section is built from plan.json and the PNGs
    bare = shutil.copytree(plan_run, tmp_path / "bare")
    (bare / "plan.md").unlink()
    plan = re.search(r'<section id="plan">(.*?)</section>', build_report_html(bare, compact=False), re.S).group(1)
    assert "<th>method</th>" in plan and f"<td class=n>{s['milp']['cost']:.1f}</td>" in plan
    assert "RSRP &gt;= -95 dBm on outdoor area" in plan and len(_payloads(plan)) == 7


def test_a_folder_that_is_no_run_is_one_line_error(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataFileError, match="neither coverage.tif .* plan.json .* nor summary.json and simulation.json"):
        build_report_html(tmp_path)
    r = runner.invoke(report_app, [str(tmp_path)])
    assert r.exit_code == 1
    assert r.stderr.startswith("error: ") and "is not a cellscape output folder" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert not (tmp_path / "report.html").exists()
    r = runner.invoke(report_app, [str(tmp_path / "nowhere")])
    assert r.exit_code == 1 and "does not exist" in r.stderr


def test_a_broken_kpis_json_is_one_line_error(run_copy):
    (run_copy / "kpis.json").write_text('{"n_pixels": 4,')
    r = runner.invoke(report_app, [str(run_copy)])
    assert r.exit_code == 1 and "kpis.json: not valid JSON" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (run_copy / "report.html").exists()


def test_write_is_atomic(run_copy, monkeypatch):
    (run_copy / "report.html").write_text("old")
    # a failure while writing keeps the old file and leaves no .partial behind
    import cellscape.io.atomic as atomic

    def boom(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr(atomic, "write_atomic", lambda path, write, _real=atomic.write_atomic: _real(path, boom))
    with pytest.raises(OSError, match="disk full"):
        write_report_html(run_copy, compact=False)
    assert (run_copy / "report.html").read_text() == "old"
    assert not [p.name for p in run_copy.iterdir() if p.name.endswith(".partial")]
    monkeypatch.undo()
    # -o into a folder that does not exist: one line, nothing written
    r = runner.invoke(report_app, [str(run_copy), "-o", str(run_copy / "no" / "r.html")])
    assert r.exit_code == 1 and "does not exist" in r.stderr and not (run_copy / "no").exists()
