"""Resource limits checked before allocation: absurd maps, site counts and rasters are refused in one
line with the estimate and the way to raise the limit."""

from __future__ import annotations

import time

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine
from typer.testing import CliRunner

import cellscape.pipeline  # noqa: F401  (the timings below exclude the import)
import cellscape.scenario.columns  # noqa: F401
from cellscape.cli.app import app
from cellscape.errors import DataFileError
from cellscape.io import limits
from cellscape.io.scenario_yaml import load_scenario, load_scenario_columns
from cellscape.io.sites_file import count_site_rows

runner = CliRunner()

HEAD = ("name: t\n"
        "area: {crs: 'EPSG:3067', bounds: [0, 0, 1000, 1000], resolution_m: 10}\n"
        "carrier: {fc_ghz: 3.5}\n")


def one_line_refusal(args):
    start = time.perf_counter()
    result = runner.invoke(app, args)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error: "), result.output[:2000]
    assert time.perf_counter() - start < 2.0
    return lines[0]


def test_1e12_pixels_are_refused_with_the_estimate(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(HEAD.replace("1000, 1000", "1000000, 1000000").replace("resolution_m: 10", "resolution_m: 1")
                 + "sites: [{site_id: A, x: 500, y: 500, height_m: 25, sectors: [{azimuth_deg: 0}]}]\n")
    line = one_line_refusal(["validate", str(p)])
    assert "the map would have about 1e+12 pixels (limit 2e+09)" in line


def test_1e7_sites_are_refused_from_the_row_count_before_reading(tmp_path):
    """3e7 sector rows (1e7 three-sector sites) are counted, not read: refused with the memory estimate."""
    with open(tmp_path / "sites.csv", "wb") as f:
        f.write(b"site_id,x,y,height_m,azimuth_deg\n")
        f.write(b"\n" * 30_000_000)                 # 30 MB of rows to count
    (tmp_path / "s.yaml").write_text(HEAD + "sites_file: sites.csv\n")
    assert count_site_rows(tmp_path / "sites.csv") == 30_000_000
    line = one_line_refusal(["validate", str(tmp_path / "s.yaml")])
    assert line == (f"error: 30,000,000 sector rows in {tmp_path / 'sites.csv'}, over the limit of 15,000,000 rows "
                    "(reading them takes ~4.5 GB); raise it with --allow-large (x100) or CELLSCAPE_MAX_SITE_ROWS=N")


def write_csv(path, n):
    path.write_text("site_id,x,y,height_m,azimuth_deg\n" + "".join(f"S{i},{i},{i},30,0\n" for i in range(n)))


def test_site_count_limit_after_columns(tmp_path, monkeypatch):
    write_csv(tmp_path / "sites.csv", 5)
    (tmp_path / "s.yaml").write_text(HEAD + "sites_file: sites.csv\n")
    assert load_scenario_columns(tmp_path / "s.yaml")[1].n_sites == 5
    monkeypatch.setenv("CELLSCAPE_MAX_SITES", "4")
    with pytest.raises(DataFileError, match=r"^5 sites in .*sites.csv, over the limit of 4 sites \(5 sectors\); "
                                            r"raise it with --allow-large \(x100\) or CELLSCAPE_MAX_SITES=N$"):
        load_scenario_columns(tmp_path / "s.yaml")


def test_record_path_limit_counts_inline_sectors(tmp_path, monkeypatch):
    sites = ", ".join(f"{{site_id: S{i}, x: {100 + i}, y: 500, height_m: 25, sectors: [{{azimuth_deg: 0}}, "
                      f"{{azimuth_deg: 180}}]}}" for i in range(3))
    (tmp_path / "s.yaml").write_text(HEAD + f"sites: [{sites}]\n")
    assert len(load_scenario(tmp_path / "s.yaml").sites) == 3
    monkeypatch.setenv("CELLSCAPE_MAX_RECORD_ROWS", "5")
    with pytest.raises(DataFileError, match=r"^6 sector rows in .*s.yaml to check one by one, over the limit of 5 rows"):
        load_scenario(tmp_path / "s.yaml")
    monkeypatch.delenv("CELLSCAPE_MAX_RECORD_ROWS")
    monkeypatch.setenv("CELLSCAPE_ALLOW_LARGE", "1")
    assert limits.limit("max_record_rows") == 100_000 * limits.ALLOW_LARGE_FACTOR


def write_tif(path, shape):
    with rasterio.open(path, "w", driver="GTiff", width=shape[1], height=shape[0], count=1, dtype="float32",
                       crs="EPSG:32635", transform=Affine(30.0, 0, 385_000.0, 0, -30.0, 6_672_000.0)) as dst:
        dst.write(np.ones(shape, np.float32), 1)
    return path


def test_raster_pixels_are_counted_before_reading(tmp_path, monkeypatch):
    from cellscape.geo.grid import RasterGrid
    from cellscape.io.demand import read_demand_raster
    from cellscape.io.terrain import read_terrain

    p = write_tif(tmp_path / "r.tif", (4, 5))
    assert read_terrain(p).elevation_m.shape == (4, 5)
    monkeypatch.setenv("CELLSCAPE_MAX_RASTER_PIXELS", "19")
    with pytest.raises(DataFileError, match=r"^20 pixels in terrain .*r.tif \(4 x 5\), over the limit of 19 pixels"):
        read_terrain(p)
    grid = RasterGrid("EPSG:32635", x_min_m=385_000.0, y_max_m=6_672_000.0, resolution_m=30.0, n_rows=4, n_cols=5)
    with pytest.raises(DataFileError, match=r"20 pixels in demand raster"):
        read_demand_raster(p, grid)


def test_demand_raster_far_outside_its_crs_is_refused_not_hung(tmp_path):
    """GDAL's warper does not return for a raster at x = -1e20 m in EPSG:3857 (found by fuzzing)."""
    from cellscape.geo.grid import RasterGrid
    from cellscape.io.demand import read_demand_raster

    p = tmp_path / "far.tif"
    with rasterio.open(p, "w", driver="GTiff", width=3, height=3, count=1, dtype="float32", crs="EPSG:3857",
                       transform=Affine(30.0, 0, -1e20, 0, -30.0, 6_672_000.0)) as dst:
        dst.write(np.ones((3, 3), np.float32), 1)
    grid = RasterGrid("EPSG:32635", x_min_m=385_000.0, y_max_m=6_672_000.0, resolution_m=50.0, n_rows=4, n_cols=4)
    start = time.perf_counter()
    with pytest.raises(DataFileError, match="lie outside any projected extent"):
        read_demand_raster(p, grid)
    assert time.perf_counter() - start < 2.0
