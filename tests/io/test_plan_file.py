"""Plan files: validation with field paths, paths relative to the file, candidate file checks."""

from pathlib import Path
import shutil

import pytest

from cellscape.errors import ScenarioError
from cellscape.io.scenario_yaml import load_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SCENARIO = """name: t
area: {crs: 'EPSG:3067', bounds: [0, 0, 1000, 1000], resolution_m: 10}
carrier: {fc_ghz: 3.5}
sites: [{site_id: A, x: 500, y: 500, height_m: 25, sectors: [{azimuth_deg: 0}]}]
"""


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "s.yaml").write_text(SCENARIO)
    return tmp_path


def write(folder, plan_text):
    p = folder / "p.yaml"
    p.write_text("scenario: s.yaml\n" + plan_text)
    return p


def test_the_built_in_example_loads():
    p = load_plan(EXAMPLES / "helsinki-plan.yaml")
    assert p.existing_sites == ("HEL-M02", "HEL-M05") and p.resolution_m == 5.0
    assert [t.of for t in p.targets.coverage] == ["outdoor_area", "indoor_demand"]
    assert p.candidates.rooftops is not None and p.tuning.enabled


def test_defaults_and_grid_candidates(folder):
    p = load_plan(write(folder, "plan: {candidates: {grid: {spacing_m: 200}}}\n"))
    assert p.candidates.grid_spacing_m == 200 and p.targets.rsrp_dbm == -105.0
    assert p.costs.unit == "kEUR" and p.existing == "keep" and p.budget is None


@pytest.mark.parametrize("text, message", [
    ("plan: {candidates: {}}\n", "plan.candidates: give at least one of file, rooftops, grid"),
    ("plan: {candidates: {grid: {spacing_m: 100}}, targets: {coverage: [{of: outdoor_area, fraction: 1.5}]}}\n",
     "plan.targets.coverage[0].fraction: Input should be less than or equal to 1"),
    ("plan: {candidates: {grid: {spacing_m: 100}}, targets: {coverage: [{of: roads, fraction: 0.5}]}}\n",
     "plan.targets.coverage[0].of"),
    ("plan: {candidates: {grid: {spacing_m: 100}}, costs: {new_site: -1}}\n", "plan.costs.new_site"),
    ("plan: {candidates: {grid: {spacing_m: 100}}, colour: red}\n", "plan.colour: unknown key (allowed: existing"),
    ("plan: {candidates: {rooftops: {}}}\n", "plan.candidates.rooftops: rooftop candidates need the scenario's buildings"),
    ("plan: {candidates: {grid: {spacing_m: 100}}, existing_sites: [Z]}\n", "plan.existing_sites[0]: no site 'Z'"),
    ("plan: {candidates: {grid: {spacing_m: 100}}, targets: {sinr_db: 0}}\n", "give sinr_db and sinr_fraction together"),
    ("plan: {candidates: {grid: {spacing_m: 100}}, fiber: {data_centers: [[5000, 5000]]}}\n",
     "plan.fiber.data_centers[0]: (5000, 5000) lies outside area.bounds"),
    ("plan: {candidates: {grid: {spacing_m: 0.5}}}\n", "plan.candidates.grid.spacing_m: about"),
])
def test_bad_plans_name_the_field(folder, text, message):
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")
                       .replace(")", r"\)")):
        load_plan(write(folder, text))


def test_plan_file_keys_and_scenario_are_checked(folder):
    with pytest.raises(ScenarioError, match="unknown key in a plan file"):
        load_plan(write(folder, "sites: []\nplan: {candidates: {grid: {spacing_m: 100}}}\n"))
    (folder / "q.yaml").write_text("plan: {candidates: {grid: {spacing_m: 100}}}\n")
    with pytest.raises(ScenarioError, match="names its radio scenario file"):
        load_plan(folder / "q.yaml")


def test_candidate_file_is_read_relative_and_validated(folder):
    (folder / "c.csv").write_text("site_id,x,y,height_m,azimuth_deg\nB,300,300,30,0\nB,300,300,30,120\n")
    p = load_plan(write(folder, "plan: {candidates: {file: c.csv}}\n"))
    assert [s.site_id for s in p.candidates.file_sites] == ["B"] and len(p.candidates.file_sites[0].sectors) == 2
    (folder / "bad.csv").write_text("site_id,x,y,height_m,azimuth_deg\nB,300,300,30,400\n")
    with pytest.raises(ScenarioError, match=r"plan.candidates.file: sites\[0\].sectors\[0\].azimuth_deg"):
        load_plan(write(folder, "plan: {candidates: {file: bad.csv}}\n"))
