"""Regional KPIs out of core and in parallel (cellscape.io.regions, ``cellscape kpi --threads |
--workers | --scheduler``): the same bits one after another, on dask's threaded scheduler and on
2 Dask worker processes, for any block size, from the GeoTIFF and from the Zarr store, equal to
the histograms of the whole map in memory; blocks that tile the map once and never exceed their
size; and the command finding coverage.zarr in a streamed run's folder."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import rasterio
from rasterio.crs import CRS
from rasterio.transform import Affine
import typer
from typer.testing import CliRunner

from cellscape.cli.kpi_cmd import kpi
from cellscape.coverage.engine import CoverageTile
from cellscape.errors import DataFileError, ScenarioError
from cellscape.geo.grid import RasterGrid, Window
from cellscape.io import regions as regions_mod
from cellscape.io.regions import (
    CoverageRaster,
    blocks,
    grid_regions,
    open_coverage,
    regional_kpis,
    write_regional_kpis,
)
from cellscape.io.zarr_sink import STORE_NAME, ZarrStreamSink
from cellscape.kpi import RegionalHistograms, regional_kpi_table

pytest.importorskip("zarr")

ROWS, COLS, RES_M = 300, 416, 25.0
X0, Y0 = 385_000.0, 6_680_000.0
BANDS = ("rsrp_dbm", "sinr_db", "throughput_mbps")


def synthetic_maps(rows: int, cols: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Coverage-like float32 bands: RSRP falling away from two sites plus noise, a few pixels
    without a sector (-inf) or a SINR (NaN)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float64)
    d = np.minimum(np.hypot(yy - 0.3 * rows, xx - 0.3 * cols), np.hypot(yy - 0.7 * rows, xx - 0.8 * cols))
    rsrp = -60.0 - 0.35 * d + rng.normal(0.0, 6.0, d.shape)
    sinr = 0.5 * (rsrp + 100.0) + rng.normal(0.0, 3.0, d.shape)
    thr = 10.0 ** np.clip(sinr / 15.0 + 1.5, -2.0, 4.0)
    rsrp[rng.uniform(size=d.shape) < 0.005] = -np.inf
    sinr[rng.uniform(size=d.shape) < 0.005] = np.nan
    return {"rsrp_dbm": rsrp.astype(np.float32), "sinr_db": sinr.astype(np.float32),
            "throughput_mbps": thr.astype(np.float32)}


def write_cog(path: Path, maps: dict, *, block_px: int = 64) -> None:
    rows, cols = maps["rsrp_dbm"].shape
    profile = dict(driver="GTiff", width=cols, height=rows, count=3, dtype="float32", crs=CRS.from_epsg(32635),
                   transform=Affine(RES_M, 0.0, X0, 0.0, -RES_M, Y0), tiled=True, blockxsize=block_px,
                   blockysize=block_px, compress="deflate")
    with rasterio.open(path, "w", **profile) as dst:
        for i, b in enumerate(BANDS, start=1):
            dst.write(maps[b], i)
            dst.set_band_description(i, b)


def write_zarr(out: Path, maps: dict, *, chunk_rows: int = 50) -> None:
    """The maps through the streamed run's Zarr sink, strip by strip (tiles of chunk_rows rows)."""
    rows, cols = maps["rsrp_dbm"].shape
    grid = RasterGrid(crs="EPSG:32635", x_min_m=X0, y_max_m=Y0, resolution_m=RES_M, n_rows=rows, n_cols=cols)
    sink = ZarrStreamSink(out, write_run_files=False)
    sink.start(grid, fingerprint="synthetic")
    for r0 in range(0, rows, chunk_rows):
        w = Window(r0, min(r0 + chunk_rows, rows), 0, cols)
        sink.write_tile(CoverageTile(window=w, rsrp_dbm=maps["rsrp_dbm"][w.rows], sinr_db=maps["sinr_db"][w.rows],
                                     best_sector=np.zeros(w.shape, np.int32), indoor=np.zeros(w.shape, bool),
                                     throughput_bps=maps["throughput_mbps"][w.rows] * np.float32(1e6)), {})
    sink.finish(None)


@pytest.fixture(scope="module")
def maps():
    return synthetic_maps(ROWS, COLS)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, maps):
    """A folder with the same maps as coverage.tif (64 x 64 tiles) and coverage.zarr (50-row chunks)."""
    out = tmp_path_factory.mktemp("kpi_dask")
    write_cog(out / "coverage.tif", maps)
    write_zarr(out, maps)
    return out


@pytest.fixture(scope="module")
def polygons(tmp_path_factory):
    """Three overlapping polygons (the later wins) and one outside the map, as GeoJSON in EPSG:4326."""
    import geopandas as gpd
    import shapely

    x1, y1 = X0 + COLS * RES_M, Y0 - ROWS * RES_M
    geoms = [shapely.Polygon([(X0 + 500, Y0 - 300), (X0 + 6000, Y0 - 900), (X0 + 4000, Y0 - 6000)]),
             shapely.box(X0 + 3000, y1 + 400, x1 - 700, Y0 - 2500).buffer(600.0),
             shapely.Point(X0 + 7000, Y0 - 4000).buffer(1800.0),
             shapely.box(X0 - 9000, Y0 + 1000, X0 - 5000, Y0 + 5000)]
    path = tmp_path_factory.mktemp("poly") / "zones.geojson"
    gpd.GeoDataFrame({"zone": ["a", "b", "c", "outside"]}, geometry=geoms, crs="EPSG:32635").to_crs(4326).to_file(
        path, driver="GeoJSON")
    return path


@pytest.fixture(scope="module")
def cluster():
    """A local cluster of 2 single-threaded worker processes (the blocks are pickled to them)."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as lc, \
            distributed.Client(lc, set_as_default=False) as client:
        yield client


def table(raster, **kwargs) -> pd.DataFrame:
    cols, regs, meta = regional_kpis(raster, **kwargs)
    order = ["region", "name"] + [c for c in cols if c not in ("region", "name")]
    return pd.DataFrame({c: cols[c] for c in order})


def assert_same_bits(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        if x.dtype.kind == "f":
            assert x.tobytes() == y.tobytes(), c               # NaN and the last bit alike
        else:
            assert (x == y).all(), c


def test_grid_cells_same_bits_sequential_threads_and_two_workers(folder, maps, cluster):
    seq = table(folder / "coverage.tif", grid_km=1.0, block_pixels=20_000, rsrp_thresholds_dbm=(-100.0, -90.0))
    # an independent oracle: the histograms of the whole map at once
    cell = int(1000.0 / RES_M)
    rr, cc = np.mgrid[0:ROWS, 0:COLS]
    region = (rr // cell) * -(-COLS // cell) + cc // cell
    whole = RegionalHistograms(int(region.max()) + 1, rsrp_thresholds_dbm=(-100.0, -90.0))
    whole.add(region, maps)
    oracle = regional_kpi_table(whole, pixel_area_m2=RES_M ** 2)
    for c, v in oracle.items():
        assert np.array_equal(seq[c].to_numpy(), v, equal_nan=True), c
    assert seq["pixels"].sum() == ROWS * COLS
    for kwargs in ({"threads": 2}, {"client": cluster}):
        for raster in ("coverage.tif", STORE_NAME):
            par = table(folder / raster, grid_km=1.0, block_pixels=20_000, rsrp_thresholds_dbm=(-100.0, -90.0),
                        **kwargs)
            assert_same_bits(seq, par)


def test_polygons_same_bits_in_parallel_and_parquet_identical(folder, polygons, cluster, tmp_path):
    runs = {}
    for name, kwargs in (("seq", {}), ("threads", {"threads": 2}), ("workers", {"client": cluster})):
        cols, regs, meta = regional_kpis(folder / STORE_NAME, regions_file=polygons, id_field="zone",
                                         block_pixels=8_000, **kwargs)
        write_regional_kpis(cols, regs, meta["crs"], tmp_path / name, png=False)
        runs[name] = pd.read_parquet(tmp_path / name / "regions_kpis.parquet")
        assert meta["format"] == "zarr" and meta["blocks"] == 6        # full-width 50-row chunks: one a block
    for name in ("threads", "workers"):
        assert_same_bits(runs["seq"], runs[name])
        assert (tmp_path / name / "regions_kpis.parquet").read_bytes() == \
            (tmp_path / "seq" / "regions_kpis.parquet").read_bytes()
    df = runs["seq"]
    assert df["name"].tolist() == ["a", "b", "c", "outside"] and df["pixels"].iloc[3] == 0
    assert (df["pixels"].iloc[:3] > 1000).all()
    # one whole block: the same as the old row-band reader over the GeoTIFF
    whole = table(folder / "coverage.tif", regions_file=polygons, id_field="zone", block_pixels=ROWS * COLS)
    assert_same_bits(df, whole)


@settings(max_examples=20, deadline=None)
@given(block_pixels=st.integers(1, 200_000), bh=st.integers(1, 80), bw=st.integers(1, 120),
       height=st.integers(1, 300), width=st.integers(1, 400))
def test_blocks_tile_the_raster_once_within_their_size(block_pixels, bh, bw, height, width):
    r = CoverageRaster(path="x", kind="cog", crs="EPSG:32635", width=width, height=height,
                       transform=(1.0, 0.0, 0.0, 0.0, -1.0, 0.0), block_shape=(bh, bw))
    seen = np.zeros((height, width), np.int64)
    for w in blocks(r, block_pixels):
        seen[w.rows, w.cols] += 1
        # whole storage blocks (except at the raster's edges), at most one storage block over the size
        assert w.row_start % min(bh, height) == 0 and (w.col_start % min(bw, width) == 0)
        assert w.shape[0] * w.shape[1] <= max(block_pixels, min(bh, height) * min(bw, width))
    assert (seen == 1).all()


@pytest.mark.parametrize("block_pixels", [1, 5_000, 10**9])
def test_any_block_size_same_bits_and_memory_bounded(folder, monkeypatch, block_pixels):
    read = []
    real = regions_mod.read_block
    monkeypatch.setattr(regions_mod, "read_block", lambda raster, w: read.append(w.shape) or real(raster, w))
    t = table(folder / "coverage.tif", grid_km=2.0, block_pixels=block_pixels)
    assert max(r * c for r, c in read) <= max(block_pixels, 64 * 64)
    assert sum(r * c for r, c in read) == ROWS * COLS
    monkeypatch.undo()
    assert_same_bits(t, table(folder / STORE_NAME, grid_km=2.0, block_pixels=77_777))


def test_open_coverage_reads_the_zarrs_georeferencing(folder):
    cog, zarr_ = open_coverage(folder / "coverage.tif"), open_coverage(folder / STORE_NAME)
    assert (zarr_.kind, cog.kind) == ("zarr", "cog")
    assert zarr_.transform == cog.transform == (RES_M, 0.0, X0, 0.0, -RES_M, Y0)
    assert zarr_.crs == cog.crs == "EPSG:32635"
    assert (zarr_.width, zarr_.height, zarr_.block_shape, cog.block_shape) == (COLS, ROWS, (50, COLS), (64, 64))
    g = grid_regions(zarr_.affine(), ROWS, COLS, RES_M, 1.0)
    assert g.cell_px == 40 and g.names.size == 8 * 11


def test_errors(folder, tmp_path):
    with pytest.raises(ScenarioError, match="threads .* or client .* not both"):
        regional_kpis(folder / "coverage.tif", grid_km=1.0, threads=2, client=object())
    with pytest.raises(ScenarioError, match="threads=0 must be at least 1"):
        regional_kpis(folder / "coverage.tif", grid_km=1.0, threads=0)
    (tmp_path / "empty.zarr").mkdir()
    with pytest.raises(DataFileError, match="cannot read Zarr store"):
        open_coverage(tmp_path / "empty.zarr")
    with pytest.raises(DataFileError, match="does not exist"):
        open_coverage(tmp_path / "nothing.tif")
    gone = CoverageRaster(path=str(tmp_path / "gone.tif"), kind="cog", crs="EPSG:32635", width=1, height=1,
                          transform=(1.0, 0.0, 0.0, 0.0, -1.0, 0.0))
    with pytest.raises(DataFileError, match="must see the raster at the same path"):
        regions_mod.read_block(gone, Window(0, 1, 0, 1))


def cli():
    app = typer.Typer()
    app.command()(kpi)
    return app


def test_cli_finds_the_zarr_of_a_streamed_run_and_threads_agree(folder, tmp_path):
    only_zarr = tmp_path / "run"
    only_zarr.mkdir()
    import shutil

    shutil.copytree(folder / STORE_NAME, only_zarr / STORE_NAME)
    runner = CliRunner()
    r = runner.invoke(cli(), [str(only_zarr), "--grid-km", "1", "--no-png", "--threads", "2", "--block-pixels",
                              "20000"])
    assert r.exit_code == 0, r.output
    assert "of coverage.zarr read in 6 blocks (dask threads (2))" in r.output
    r = runner.invoke(cli(), [str(folder), "--grid-km", "1", "--no-png", "--raster", "coverage.tif",
                              "-o", str(tmp_path / "cog")])
    assert r.exit_code == 0 and "(sequential)" in r.output, r.output
    assert_same_bits(pd.read_parquet(only_zarr / "regions" / "regions_kpis.parquet"),
                     pd.read_parquet(tmp_path / "cog" / "regions_kpis.parquet"))
    r = runner.invoke(cli(), [str(folder), "--grid-km", "1", "--threads", "2", "--workers", "2"])
    assert r.exit_code == 1 and "give one of --threads, --workers and --scheduler, not --threads and --workers" \
        in r.output
    r = runner.invoke(cli(), [str(tmp_path), "--grid-km", "1"])
    assert r.exit_code == 1 and "coverage.tif (or coverage.zarr) does not exist" in r.output


@pytest.mark.slow
def test_cli_workers_two_processes(folder, tmp_path):
    r = CliRunner().invoke(cli(), [str(folder), "--grid-km", "1", "--no-png", "--workers", "2", "--raster",
                                   STORE_NAME, "-o", str(tmp_path / "w")])
    assert r.exit_code == 0 and "dask cluster (2 workers)" in r.output, r.output
    seq = table(folder / "coverage.tif", grid_km=1.0)
    assert_same_bits(seq, pd.read_parquet(tmp_path / "w" / "regions_kpis.parquet"))
