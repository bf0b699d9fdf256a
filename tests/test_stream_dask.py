"""The streamed coverage run on Dask workers (``cellscape run --stream --workers N | --scheduler``):
the same files, bit for bit, as the single-process streamed run for 1 and 2 workers and two tile
sizes, after an interruption and resume, with a tile whose first attempt fails, with a worker
process that dies mid-run, with at most
``max_in_flight`` tiles at a time, and the same interference-cutoff statistics in kpis.json.

The clusters here are in-process (``processes=False``: worker threads in this process), so the
tests are fast and a monkeypatched worker-side hook is seen by the workers; the CLI's
``--workers`` (worker processes) is exercised once, marked slow."""

from dataclasses import replace
import importlib.util
from pathlib import Path
import threading

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

pytest.importorskip("dask.distributed")

from dask.distributed import Client, LocalCluster  # noqa: E402

from cellscape.cli._dask import LOCAL_CLUSTER_CONFIG, local_cluster  # noqa: E402
from cellscape.cli.app import app  # noqa: E402
from cellscape.io.stream_writer import PARTIAL_DIR, run_coverage_streamed  # noqa: E402
import cellscape.pipeline.stream as stream  # noqa: E402
from cellscape.scenario.records import Area, Carrier, Receiver, Scenario, Sector, Site  # noqa: E402

X0, Y0 = 385_000.0, 6_671_000.0
BACKEND = "numba" if importlib.util.find_spec("numba") is not None else "numpy"
FILES = ("coverage.tif", "best_sector.tif", "kpis.json", "scenario.json")


def strip_scenario(**changes) -> Scenario:
    """80 x 600 pixels of 2 m, 3 sites, statistical LOS with shadow fading (as tests/test_stream.py)."""
    rng = np.random.default_rng(0)
    sites = tuple(
        Site(site_id=f"S{i}", x=X0 + rng.uniform(0.1, 0.9) * 1200.0, y=Y0 + rng.uniform(0.2, 0.8) * 160.0,
             height_m=25.0, sectors=tuple(Sector(azimuth_deg=az, tx_power_dbm=46.0, elec_tilt_deg=6.0)
                                          for az in (10.0 * i, 10.0 * i + 120.0, 10.0 * i + 240.0)))
        for i in range(3))
    sc = Scenario(name="strip", area=Area(bounds=(X0, Y0, X0 + 1200.0, Y0 + 160.0), resolution_m=2.0,
                                          crs="EPSG:32635"),
                  carrier=Carrier(fc_ghz=3.5, bandwidth_mhz=100.0, scs_khz=30.0, dl_load_factor=0.7),
                  sites=sites, environment="UMa", receiver=Receiver(height_m=1.5), los_mode="statistical",
                  shadow_fading=True, seed=5, mem_limit_mb=0.5)
    return replace(sc, **changes)


@pytest.fixture(scope="module")
def clients():
    """In-process clusters of 1 and 2 single-threaded workers."""
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as one, \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as two, \
            Client(one, set_as_default=False) as c1, Client(two, set_as_default=False) as c2:
        yield {1: c1, 2: c2}


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """The single-process streamed runs (no Dask) of the two tile sizes: the reference files."""
    out = {}
    for tile_rows in (None, 7):
        d = tmp_path_factory.mktemp(f"single_{tile_rows}")
        run_coverage_streamed(strip_scenario(), d, tile_rows=tile_rows, backend=BACKEND)
        out[tile_rows] = d
    return out


def assert_same_files(a: Path, b: Path):
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.parametrize("n_workers", [1, 2])
@pytest.mark.parametrize("tile_rows", [None, 7])
def test_same_bits_as_single_process(tmp_path, clients, single, n_workers, tile_rows):
    run, paths = run_coverage_streamed(strip_scenario(), tmp_path, tile_rows=tile_rows, backend=BACKEND,
                                       client=clients[n_workers])
    assert {p.name for p in paths} == set(FILES)
    assert run.tiles_computed == run.tiles_total >= 2
    assert not (tmp_path / PARTIAL_DIR).exists()
    assert_same_files(tmp_path, single[tile_rows])


class Interrupt(Exception):
    pass


def test_interrupted_run_on_workers_resumes_to_the_same_bits(tmp_path, clients, single):
    def stop_after_3(done, total):
        if done >= 3:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_coverage_streamed(strip_scenario(), tmp_path, tile_rows=7, backend=BACKEND, client=clients[2],
                              progress=stop_after_3)
    assert not (tmp_path / "coverage.tif").exists()
    with np.load(tmp_path / PARTIAL_DIR / "journal.npz") as j:
        assert j["done"].shape == (3, 4)
    run, _ = run_coverage_streamed(strip_scenario(), tmp_path, tile_rows=7, backend=BACKEND, client=clients[2],
                                   resume=True)
    assert (run.tiles_total, run.tiles_computed) == (12, 9)
    for name in ("coverage.tif", "best_sector.tif"):
        assert (tmp_path / name).read_bytes() == (single[7] / name).read_bytes()


def test_a_tile_that_fails_once_is_retried(tmp_path, clients, single, monkeypatch):
    compute, failed = stream._compute_tile, []

    def flaky(job, window):
        if window.row_start == 14 and not failed:
            failed.append(window)
            raise RuntimeError("worker hiccup")
        return compute(job, window)

    monkeypatch.setattr(stream, "_compute_tile", flaky)
    run_coverage_streamed(strip_scenario(), tmp_path, tile_rows=7, backend=BACKEND, client=clients[2])
    assert len(failed) == 1
    assert_same_files(tmp_path, single[7])


def test_a_tile_that_keeps_failing_stops_the_run_without_a_whole_file(tmp_path, clients, monkeypatch):
    def broken(job, window):
        raise RuntimeError("tile kernel broke")

    monkeypatch.setattr(stream, "_compute_tile", broken)
    with pytest.raises(RuntimeError, match="tile kernel broke"):
        run_coverage_streamed(strip_scenario(), tmp_path, tile_rows=7, backend=BACKEND, client=clients[2])
    assert not (tmp_path / "coverage.tif").exists()


def test_at_most_max_in_flight_tiles_at_a_time(tmp_path, clients, single, monkeypatch):
    compute, lock, now, peak = stream._compute_tile, threading.Lock(), [0], [0]

    def counted(job, window):
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        try:
            return compute(job, window)
        finally:
            with lock:
                now[0] -= 1

    monkeypatch.setattr(stream, "_compute_tile", counted)
    run_coverage_streamed(strip_scenario(), tmp_path, tile_rows=7, backend=BACKEND, client=clients[2],
                          max_in_flight=1)
    assert peak[0] == 1
    assert_same_files(tmp_path, single[7])
    with pytest.raises(ValueError, match="max_in_flight=0 must be at least 1"):
        run_coverage_streamed(strip_scenario(), tmp_path / "z", tile_rows=7, backend=BACKEND, client=clients[2],
                              max_in_flight=0)


def test_interference_cutoff_statistics_merged_from_the_workers(tmp_path, clients):
    sc = strip_scenario(interference_cutoff_db=10.0)
    alone, _ = run_coverage_streamed(sc, tmp_path / "a", tile_rows=7, backend=BACKEND)
    dask, _ = run_coverage_streamed(sc, tmp_path / "b", tile_rows=7, backend=BACKEND, client=clients[2])
    assert alone.kpis["meta"]["interference_cutoff"]["cutoff_db"] == 10.0
    assert dask.kpis == alone.kpis
    assert_same_files(tmp_path / "a", tmp_path / "b")


def cli_scenario(tmp_path) -> Path:
    d = {"name": "tiny", "seed": 3, "environment": "UMa",
         "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 600, Y0 + 400], "resolution_m": 10},
         "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30, "dl_load_factor": 0.5},
         "compute": {"mem_limit_mb": 0.05},
         "sites": [{"site_id": "A", "x": X0 + 150, "y": Y0 + 200, "height_m": 25,
                    "sectors": [{"azimuth_deg": 0, "tx_power_dbm": 46}, {"azimuth_deg": 120, "tx_power_dbm": 46}]}]}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


def test_cli_scheduler_computes_on_the_cluster(tmp_path, clients):
    s = str(cli_scenario(tmp_path))
    runner = CliRunner()
    r = runner.invoke(app, ["run", s, "-o", str(tmp_path / "alone"), "--stream", "--backend", BACKEND])
    assert r.exit_code == 0, r.output
    address = clients[2].scheduler.address
    r = runner.invoke(app, ["run", s, "-o", str(tmp_path / "dask"), "--stream", "--backend", BACKEND,
                            "--scheduler", address])
    assert r.exit_code == 0, r.output
    assert f"(streamed) on the Dask cluster at {address}" in r.stdout
    assert_same_files(tmp_path / "alone", tmp_path / "dask")


def test_cli_misuse_is_one_line(tmp_path):
    runner = CliRunner()
    s = str(cli_scenario(tmp_path))
    o = str(tmp_path / "o")
    for args, message in ((["--workers", "2"], "--workers goes with --stream"),
                          (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler goes with --stream"),
                          (["--stream", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "give one"),
                          (["--stream", "--workers", "0"], "--workers=0 must be at least 1")):
        r = runner.invoke(app, ["run", s, "-o", o, *args])
        assert r.exit_code == 1 and message in r.stderr, (args, r.output)
        assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_cli_workers_starts_a_local_process_cluster(tmp_path):
    s = str(cli_scenario(tmp_path))
    runner = CliRunner()
    r = runner.invoke(app, ["run", s, "-o", str(tmp_path / "alone"), "--stream", "--backend", BACKEND])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["run", s, "-o", str(tmp_path / "dask"), "--stream", "--backend", BACKEND,
                            "--workers", "2"])
    assert r.exit_code == 0, r.output
    assert "(streamed) on 2 local Dask workers" in r.stdout
    assert_same_files(tmp_path / "alone", tmp_path / "dask")


class _DieOnce:
    """A worker plugin that kills its worker process (``os._exit``, no clean-up, as an out-of-memory
    kill would) when it starts executing its first task, once across the whole cluster: the marker
    file records that a worker has died."""

    def __init__(self, marker: str):
        self.marker = marker

    def setup(self, worker):
        pass

    def teardown(self, worker):
        pass

    def transition(self, key, start, finish, **kwargs):
        import os

        if finish == "executing":
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return
            os.close(fd)
            os._exit(1)


def _worker_settings():
    import dask

    return [dask.config.get(k) for k in LOCAL_CLUSTER_CONFIG]


def test_a_worker_process_that_dies_mid_run_changes_no_bit(tmp_path, single):
    """Two worker processes of the cluster ``--workers`` starts; the first to start a tile dies on
    the spot. The scheduler reschedules its tiles (the nanny restarts the worker, with the
    cluster's settings, which hold until the cluster is closed) and the files equal the
    single-process run's."""
    from contextlib import ExitStack
    import sys

    import cloudpickle
    from dask.distributed import WorkerPlugin

    cloudpickle.register_pickle_by_value(sys.modules[__name__])     # the workers cannot import this test module
    plugin = type("DieOnce", (_DieOnce, WorkerPlugin), {})(str(tmp_path / "died"))
    out = tmp_path / "out"
    with ExitStack() as stack:
        client = local_cluster(stack, 2, {"NUMBA_NUM_THREADS": "1"})
        client.register_plugin(plugin)
        run_coverage_streamed(strip_scenario(), out, tile_rows=7, backend=BACKEND, client=client)
        settings = client.run(_worker_settings)
        assert len(settings) == 2 and all(v == list(LOCAL_CLUSTER_CONFIG.values()) for v in settings.values())
        assert client.run_on_scheduler(_worker_settings) == list(LOCAL_CLUSTER_CONFIG.values())
    assert _worker_settings() != list(LOCAL_CLUSTER_CONFIG.values())      # restored with the cluster closed
    assert (tmp_path / "died").exists()                 # a worker did die during the run
    assert_same_files(out, single[7])
    assert not (out / PARTIAL_DIR).exists()


def column_network(mem_limit_mb: float):
    """30 three-sector sites over 4 x 3 km (40 m pixels, interference cutoff in expectation): the
    scenario and the network column-wise, for cellscape.pipeline.national."""
    from cellscape.scenario.columns import SiteColumns

    rng = np.random.default_rng(4)
    sites = tuple(
        Site(site_id=f"S{i}", x=X0 + rng.uniform(0, 4000.0), y=Y0 + rng.uniform(0, 3000.0),
             height_m=float(rng.choice([20.0, 30.0])),
             sectors=tuple(Sector(azimuth_deg=float((a + rng.uniform(0, 120)) % 360), tx_power_dbm=46.0,
                                  elec_tilt_deg=6.0) for a in (0.0, 120.0, 240.0)))
        for i in range(30))
    sc = strip_scenario(area=Area(bounds=(X0, Y0, X0 + 4000.0, Y0 + 3000.0), resolution_m=40.0, crs="EPSG:32635"),
                        sites=(), interference_cutoff_db=0.5, interference_cutoff_mode="expected",
                        mem_limit_mb=mem_limit_mb)
    return sc, SiteColumns.from_records(sites)


def test_a_network_given_column_wise_on_two_workers_gives_the_single_process_files(tmp_path, clients, monkeypatch):
    """cellscape.pipeline.national on Dask: one task per block carrying its sites, KPI counts made
    on the workers; with the interference cutoff, several blocks (a window that goes round again
    with more sites included): the single-process files, byte for byte."""
    from cellscape.pipeline import national

    blocks = national.square_blocks
    monkeypatch.setattr(national, "square_blocks", lambda grid, max_pixels: blocks(grid, max_pixels=40 ** 2))
    sc, cols = column_network(2.0)
    run_coverage_streamed(sc, tmp_path / "one", site_columns=cols, backend=BACKEND)
    run, _ = run_coverage_streamed(sc, tmp_path / "two", site_columns=cols, backend=BACKEND, client=clients[2])
    assert run.kpis["meta"]["site_subsets"]["blocks"] > 2
    assert run.kpis["meta"]["interference_cutoff"]["windows_recomputed_with_more_sites"] > 0
    assert_same_files(tmp_path / "one", tmp_path / "two")


def test_overview_pieces_made_on_the_workers_give_the_single_process_files(tmp_path, clients, monkeypatch):
    """Blocks the workers computed whole come with their overview pieces (cellscape.geo.pyramid),
    written by the driver; the rest (a window that went round again with more sites) are made at
    the end from the work file. COGs byte-identical to the single-process run's, also after an
    interruption and resume. Small blocks and COG tiles so a 100 x 75 map has two levels; strips of
    a few rows, so a block cut in several goes round again window by window and its levels are made
    at the end, while a block of one strip goes round whole and its worker makes them."""
    from cellscape.io import stream_writer
    from cellscape.pipeline import national

    blocks = national.square_blocks
    monkeypatch.setattr(national, "square_blocks", lambda grid, max_pixels: blocks(grid, max_pixels=32 ** 2))
    monkeypatch.setattr(stream_writer, "PYRAMID_BLOCK_PX", 32)
    monkeypatch.setattr(stream_writer, "BLOCK_PX", 32)
    written, write = [], stream_writer.CoverageStreamWriter.write_pyramid

    def counted(self, pyramid):
        written.append(pyramid.block)
        return write(self, pyramid)

    monkeypatch.setattr(stream_writer.CoverageStreamWriter, "write_pyramid", counted)
    sc, cols = column_network(0.1)
    run_coverage_streamed(sc, tmp_path / "one", site_columns=cols, backend=BACKEND)
    assert written == []                    # one process: every level is made at the end
    run, _ = run_coverage_streamed(sc, tmp_path / "two", site_columns=cols, backend=BACKEND, client=clients[2])
    n_blocks = run.kpis["meta"]["site_subsets"]["blocks"]
    assert run.tiles_total == 22
    assert n_blocks == 12 and 0 < len(written) < n_blocks     # some made on the workers, some at the end
    assert run.kpis["meta"]["interference_cutoff"]["windows_recomputed_with_more_sites"] > 0
    assert_same_files(tmp_path / "one", tmp_path / "two")
    import rasterio

    with rasterio.open(tmp_path / "two" / "coverage.tif") as src:
        assert src.overviews(1) == [2, 4]

    def stop_after_18(done, total):
        if done >= 18:
            raise Interrupt

    written.clear()
    with pytest.raises(Interrupt):
        run_coverage_streamed(sc, tmp_path / "three", site_columns=cols, backend=BACKEND, client=clients[2],
                              progress=stop_after_18)
    with np.load(tmp_path / "three" / PARTIAL_DIR / "journal.npz") as j:
        recorded = {tuple(int(v) for v in row) for row in j["pyramid_blocks"]}
    # 18 of 22 windows done: at least one of the 5 one-strip blocks is whole, its pieces written and kept
    assert recorded and recorded == set(written)
    run_coverage_streamed(sc, tmp_path / "three", site_columns=cols, backend=BACKEND, client=clients[2], resume=True)
    for name in ("coverage.tif", "best_sector.tif"):     # kpis.json of a resumed run leaves out the cutoff's statistics
        assert (tmp_path / "three" / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name
