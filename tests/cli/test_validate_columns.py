"""``cellscape validate`` on a big site file: the columnar path, same summary and one-line errors."""

import numpy as np
import pytest
from typer.testing import CliRunner

from cellscape.cli.app import app
from cellscape.io import sites_file
from cellscape.io.sites_file import write_site_columns

runner = CliRunner()

SCENARIO = """name: net
area: {{crs: 'EPSG:4326', bounds: [24.0, 60.0, 25.0, 60.5], resolution_m: 100}}
carrier: {{fc_ghz: 3.5}}
sites_file: {name}
"""


def network(tmp_path, *, n=400, azimuth_deg=None):
    rng = np.random.default_rng(2)
    azimuth = np.tile([0.0, 120.0, 240.0], (n, 1)) if azimuth_deg is None else azimuth_deg
    site_file = write_site_columns(tmp_path / "net.parquet", site_id=[f"S{i}" for i in range(n)],
                                   x=rng.uniform(24.0, 25.0, n), y=rng.uniform(60.0, 60.5, n),
                                   height_m=rng.uniform(10.0, 40.0, n), azimuth_deg=azimuth,
                                   environment=np.where(np.arange(n) % 3, "UMa", "RMa"), crs="EPSG:4326")
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(name=site_file.name))
    return path


@pytest.fixture
def small_threshold(monkeypatch):
    monkeypatch.setattr(sites_file, "LARGE_SITE_FILE_ROWS", 100)      # 1200 rows count as big here


def test_big_file_gives_the_same_summary_as_the_record_path(tmp_path, monkeypatch):
    path = network(tmp_path)
    records = runner.invoke(app, ["validate", str(path)])
    monkeypatch.setattr(sites_file, "LARGE_SITE_FILE_ROWS", 100)
    columns = runner.invoke(app, ["validate", str(path)])
    assert records.exit_code == columns.exit_code == 0
    assert columns.stdout == records.stdout
    assert "sites=400, sectors=1200" in columns.stdout


def test_big_file_error_is_one_line_with_the_row(tmp_path, small_threshold):
    azimuth = np.tile([0.0, 120.0, 240.0], (400, 1))
    azimuth[7, 2] = 400.0
    result = runner.invoke(app, ["validate", str(network(tmp_path, azimuth_deg=azimuth))])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: sites[7].sectors[2].azimuth_deg: Input should be less than 360, got 400.0 (")
    assert result.stderr.rstrip().endswith("net.parquet rows[23])")
    assert len(result.stderr.splitlines()) == 1
