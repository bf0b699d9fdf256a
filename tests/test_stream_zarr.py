"""The streamed run into Zarr (``cellscape run --stream --format zarr|both``, cellscape.io.zarr_sink):
the same values, dtypes and nodata as the COGs, chunks of the run's tile, a georeferenced Dataset
for xarray, byte-identical stores on 2 Dask workers and after an interruption and resume, no
``coverage.zarr`` after a killed run, and the tee's resume when one sink is a tile behind."""

import importlib.util
import math
from pathlib import Path
import shutil

import numpy as np
import pytest
from pyproj import CRS
import rasterio

from cellscape.errors import ScenarioError
from cellscape.io import stream_writer, zarr_sink
from cellscape.io.stream_writer import run_coverage_streamed
from cellscape.io.zarr_sink import STORE_NAME, TeeSink, streamed_sink

from tests.test_stream import Interrupt, stop_after, strip_scenario

xr = pytest.importorskip("xarray")
pytest.importorskip("zarr")

BACKEND = "numba" if importlib.util.find_spec("numba") is not None else "numpy"
LAYERS = ("rsrp_dbm", "sinr_db", "throughput_mbps", "best_sector")


def store_files(out: Path) -> dict[str, bytes]:
    """Every file of OUT/coverage.zarr (chunks and metadata) by its path in the store."""
    root = out / STORE_NAME
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """A single-process streamed run of 7-row tiles into both formats: the reference."""
    out = tmp_path_factory.mktemp("both")
    run, paths = run_coverage_streamed(strip_scenario(), out, output_format="both", tile_rows=7, backend=BACKEND)
    return out, run, paths


def test_zarr_holds_the_cogs_layers_bit_for_bit(both):
    out, run, paths = both
    assert {p.name for p in paths} == {"coverage.tif", "best_sector.tif", "kpis.json", "scenario.json", STORE_NAME}
    ds = xr.open_zarr(out / STORE_NAME, mask_and_scale=False)
    with rasterio.open(out / "coverage.tif") as src:
        cov, names = src.read(), src.descriptions
    with rasterio.open(out / "best_sector.tif") as src:
        best, best_nodata = src.read(1), src.nodata
    for i, name in enumerate(names):
        assert ds[name].dtype == cov[i].dtype == np.float32
        assert ds[name].values.tobytes() == cov[i].tobytes(), name
    assert ds.best_sector.dtype == best.dtype == np.int32
    np.testing.assert_array_equal(ds.best_sector.values, best)
    assert ds.best_sector.attrs["_FillValue"] == best_nodata == -1
    assert (best >= 0).any() and ds.rsrp_dbm.attrs["units"] == "dBm"
    # chunked by the run's tile (7 rows, full width); the last chunk is the rest of the 80 rows
    assert ds.rsrp_dbm.encoding["chunks"] == (7, 600)
    assert ds.rsrp_dbm.chunks[0] == (7,) * 11 + (3,)
    # nothing left of the work folders
    assert not (out / zarr_sink.PARTIAL_DIR).exists() and not (out / stream_writer.PARTIAL_DIR).exists()


def test_open_zarr_gives_a_georeferenced_dataset(both):
    out, _, _ = both
    ds = xr.open_zarr(out / STORE_NAME)
    assert set(LAYERS) <= set(ds.data_vars) and {"x", "y", "spatial_ref"} <= set(ds.coords)
    assert ds.rsrp_dbm.dims == ("y", "x") and ds.rsrp_dbm.attrs["grid_mapping"] == "spatial_ref"
    ref = ds.spatial_ref.attrs
    assert CRS.from_wkt(ref["crs_wkt"]) == CRS.from_epsg(32635) and ref["epsg"] == 32635
    with rasterio.open(out / "coverage.tif") as src:
        t, width, height = src.transform, src.width, src.height
    c, a, b, f, d, e = (float(v) for v in ref["GeoTransform"].split())
    assert (a, b, c, d, e, f) == tuple(t)[:6]
    # pixel centres: x of column j = c + (j + 0.5) a, y of row i = f + (i + 0.5) e
    np.testing.assert_array_equal(ds.x.values, c + (np.arange(width) + 0.5) * a)
    np.testing.assert_array_equal(ds.y.values, f + (np.arange(height) + 0.5) * e)
    # CF decoding masks best_sector's nodata (-1): NaN where no sector serves
    masked = xr.open_zarr(out / STORE_NAME).best_sector.values
    raw = xr.open_zarr(out / STORE_NAME, mask_and_scale=False).best_sector.values
    assert np.array_equal(np.isnan(masked), raw == -1)
    # one selection by map coordinates, as a user would
    px = ds.rsrp_dbm.sel(x=385_600.7, y=6_671_079.6, method="nearest").values
    row, col = int((f - 6_671_079.6) // -e), int((385_600.7 - c) // a)
    assert px == ds.rsrp_dbm.values[row, col]


def test_two_dask_workers_give_the_same_store(tmp_path, both):
    """Also over an older, damaged store: replaced whole."""
    distributed = pytest.importorskip("dask.distributed")
    shutil.copytree(both[0] / STORE_NAME, tmp_path / STORE_NAME)
    (tmp_path / STORE_NAME / "rsrp_dbm" / "c" / "0" / "0").write_bytes(b"damaged")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as lc, \
            distributed.Client(lc, set_as_default=False) as client:
        run, paths = run_coverage_streamed(strip_scenario(), tmp_path, output_format="zarr", tile_rows=7,
                                           backend=BACKEND, client=client)
    assert {p.name for p in paths} == {STORE_NAME, "kpis.json", "scenario.json"}
    assert not (tmp_path / "coverage.tif").exists()
    assert store_files(tmp_path) == store_files(both[0])
    assert (tmp_path / "kpis.json").read_bytes() == (both[0] / "kpis.json").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coverage.zarr", "kpis.json", "scenario.json"]


def test_killed_run_leaves_no_store_and_resumes_to_the_same_bytes(tmp_path, both, monkeypatch):
    """Killed after the 5th tile's chunks were written but before its journal entry: no store,
    and the resumed run writes that tile again, to the same bytes."""
    real, calls = stream_writer.write_atomic, []   # the journal's writer (stream_writer.save_journal)
    monkeypatch.setattr(stream_writer, "JOURNAL_SHARE", math.inf)      # saved after every tile

    def journal_then_kill(path, write):
        calls.append(path)
        if len(calls) == 5:
            raise Interrupt("killed between the chunks and the journal")
        return real(path, write)

    monkeypatch.setattr(stream_writer, "write_atomic", journal_then_kill)
    with pytest.raises(Interrupt):
        run_coverage_streamed(strip_scenario(), tmp_path, output_format="zarr", tile_rows=7, backend=BACKEND)
    monkeypatch.undo()
    assert not (tmp_path / STORE_NAME).exists() and not (tmp_path / "kpis.json").exists()
    work = tmp_path / zarr_sink.PARTIAL_DIR
    with np.load(work / "journal.npz") as j:
        assert j["done"].shape == (4, 4)
    # the partial store is not a whole one: the chunks of unwritten tiles are missing (NaN)
    partial = xr.open_zarr(work / STORE_NAME, mask_and_scale=False, consolidated=False)
    assert not np.isnan(partial.rsrp_dbm.values[:35]).all() and np.isnan(partial.rsrp_dbm.values[35:]).all()
    run, paths = run_coverage_streamed(strip_scenario(), tmp_path, output_format="zarr", tile_rows=7,
                                       backend=BACKEND, resume=True)
    assert (run.tiles_total, run.tiles_computed) == (12, 8)
    assert store_files(tmp_path) == store_files(both[0])
    assert not work.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coverage.zarr", "kpis.json", "scenario.json"]


def test_journal_without_its_store_starts_afresh(tmp_path):
    """Killed at the very end (the store renamed into place, the journal not yet removed):
    --resume starts afresh rather than failing on the missing store."""
    from cellscape.pipeline.coverage import localize

    grid, _ = localize(strip_scenario())
    first = zarr_sink.ZarrStreamSink(tmp_path)
    first.start(grid, fingerprint="f")
    shutil.rmtree(first.store)
    np.savez(first.journal, fingerprint=np.array("f"), done=np.zeros((1, 4), np.int64))
    again = zarr_sink.ZarrStreamSink(tmp_path, resume=True)
    assert again.start(grid, fingerprint="f") == (set(), None)
    assert (again.store / "zarr.json").is_file() and not again.journal.exists()


def test_resume_refuses_another_scenario(tmp_path):
    with pytest.raises(Interrupt):
        run_coverage_streamed(strip_scenario(), tmp_path, output_format="zarr", tile_rows=20, backend=BACKEND,
                              progress=stop_after(1))
    with pytest.raises(ScenarioError, match="another scenario or tiling"):
        run_coverage_streamed(strip_scenario(seed=6), tmp_path, output_format="zarr", tile_rows=20,
                              backend=BACKEND, resume=True)
    assert not (tmp_path / STORE_NAME).exists()


def test_tee_resumes_from_the_sink_that_is_behind(tmp_path, both, monkeypatch):
    """Killed after the COG recorded a tile the Zarr had not: the tee resumes from the Zarr's journal."""

    class KillInZarr(zarr_sink.ZarrStreamSink):
        def write_tile(self, tile, counts):
            if len(self._done) == 5:
                raise Interrupt("killed between the COG's and the Zarr's write")
            super().write_tile(tile, counts)

    monkeypatch.setattr(stream_writer, "JOURNAL_SHARE", math.inf)      # each journal saved after every tile
    sink = TeeSink(stream_writer.CoverageStreamWriter(tmp_path),
                   KillInZarr(tmp_path, write_run_files=False))
    with pytest.raises(Interrupt):
        stream_writer.stream_coverage(strip_scenario(), sink, tile_rows=7, backend=BACKEND)
    with np.load(tmp_path / stream_writer.PARTIAL_DIR / "journal.npz") as j:
        assert j["done"].shape == (6, 4)
    run, paths = run_coverage_streamed(strip_scenario(), tmp_path, output_format="both", tile_rows=7,
                                       backend=BACKEND, resume=True)
    assert run.tiles_computed == 12 - 5
    assert store_files(tmp_path) == store_files(both[0])
    for name in ("coverage.tif", "best_sector.tif"):
        assert (tmp_path / name).read_bytes() == (both[0] / name).read_bytes(), name
    # the KPI counts came from the Zarr's journal (the COG's had one tile more): the same KPIs
    # (a resumed run leaves out the interference-cutoff statistics of the tiles it did not compute)
    for key in ("coverage", "rsrp_dbm_percentiles", "sinr_db_percentiles", "sectors", "n_pixels_unserved"):
        assert run.kpis[key] == both[1].kpis[key], key


def test_streamed_sink_formats():
    assert isinstance(streamed_sink("x", "cog"), stream_writer.CoverageStreamWriter)
    assert isinstance(streamed_sink("x", "ZARR"), zarr_sink.ZarrStreamSink)
    tee = streamed_sink("x", "both", resume=True)
    assert isinstance(tee, TeeSink) and [s.resume for s in tee.sinks] == [True, True]
    with pytest.raises(ScenarioError, match="--format 'tiff' is not one of cog, zarr, both"):
        streamed_sink("x", "tiff")


def test_cli_run_stream_format(tmp_path):
    """``cellscape run --stream --format zarr|both``."""
    import typer.main
    from typer.testing import CliRunner

    from cellscape.cli.app import app
    from tests.cli.test_app import scenario_dict, write

    run_cmd = typer.main.get_command(app).commands["run"]
    assert any("--format" in getattr(p, "opts", ()) for p in run_cmd.params)
    sc = write(tmp_path, scenario_dict())
    runner = CliRunner()
    for fmt, files in (("zarr", ["coverage.zarr", "kpis.json", "scenario.json"]),
                       ("both", ["best_sector.tif", "coverage.tif", "coverage.zarr", "kpis.json", "scenario.json"])):
        r = runner.invoke(app, ["run", str(sc), "-o", str(tmp_path / fmt), "--stream", "--format", fmt])
        assert r.exit_code == 0, r.output
        assert sorted(p.name for p in (tmp_path / fmt).iterdir()) == files
    assert store_files(tmp_path / "zarr") == store_files(tmp_path / "both")
    r = runner.invoke(app, ["run", str(sc), "-o", str(tmp_path / "x"), "--stream", "--format", "tiff"])
    assert r.exit_code == 1 and "--format 'tiff' is not one of cog, zarr, both" in r.output
    r = runner.invoke(app, ["run", str(sc), "-o", str(tmp_path / "x"), "--format", "zarr"])
    assert r.exit_code == 1 and "goes with --stream" in r.output
