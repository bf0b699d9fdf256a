"""The streamed coverage run (``cellscape run --stream``): the same bits as the in-memory engine for
any tiling and after a resume, a COG that opens whole, no whole-looking file after an interruption,
the budget refusal, and KPIs from merged histograms within a bin of the in-memory ones."""

from dataclasses import replace
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import rasterio
import yaml
from typer.testing import CliRunner

from cellscape.cli.app import app
from cellscape.coverage.engine import compute_coverage
from cellscape.errors import ScenarioError
from cellscape.io.stream_writer import PARTIAL_DIR, run_coverage_streamed
from cellscape.kpi import coverage_kpis
from cellscape.pipeline.coverage import localize
from cellscape.pipeline.stream import OUTPUT_BYTES_PER_PIXEL, check_budget, estimate_run
from cellscape.scenario.records import Area, Carrier, Receiver, Scenario, Sector, Site

X0, Y0 = 385_000.0, 6_671_000.0

BACKEND = "numba" if importlib.util.find_spec("numba") is not None else "numpy"
"""Bit-identity across tilings holds for the numba kernel; numpy's vectorised float32 math may
round the last bit of a pixel differently depending on its place in the tile's arrays."""
needs_numba = pytest.mark.skipif(BACKEND != "numba", reason="tiling-independent bits need the numba kernel")


def strip_scenario(*, seed: int = 5) -> Scenario:
    """80 x 600 pixels of 2 m (wider than one 512 block: the COG gets an overview), 3 sites,
    statistical LOS with shadow fading."""
    rng = np.random.default_rng(0)
    sites = tuple(
        Site(site_id=f"S{i}", x=X0 + rng.uniform(0.1, 0.9) * 1200.0, y=Y0 + rng.uniform(0.2, 0.8) * 160.0,
             height_m=25.0, sectors=tuple(Sector(azimuth_deg=az, tx_power_dbm=46.0, elec_tilt_deg=6.0)
                                          for az in (10.0 * i, 10.0 * i + 120.0, 10.0 * i + 240.0)))
        for i in range(3))
    return Scenario(name="strip", area=Area(bounds=(X0, Y0, X0 + 1200.0, Y0 + 160.0), resolution_m=2.0,
                                            crs="EPSG:32635"),
                    carrier=Carrier(fc_ghz=3.5, bandwidth_mhz=100.0, scs_khz=30.0, dl_load_factor=0.7),
                    sites=sites, environment="UMa", receiver=Receiver(height_m=1.5), los_mode="statistical",
                    shadow_fading=True, seed=seed, mem_limit_mb=0.5)


@pytest.fixture(scope="module")
def reference():
    sc = strip_scenario()
    grid, xy = localize(sc)
    res = compute_coverage(sc, grid, xy, backend=BACKEND)
    return sc, res


def read_maps(out: Path):
    with rasterio.open(out / "coverage.tif") as src:
        cov = src.read()
    with rasterio.open(out / "best_sector.tif") as src:
        best = src.read(1)
    return cov, best


def assert_same_bits(out: Path, res):
    """The maps of ``out`` are ``res``'s (an in-memory result, or another run's folder) bit for bit."""
    cov, best = read_maps(out)
    if isinstance(res, Path):
        want_cov, want_best = read_maps(res)
    else:
        want_cov = np.stack([res.rsrp_dbm, res.sinr_db, (res.throughput_bps / 1e6).astype(np.float32)])
        want_best = res.best_sector
    np.testing.assert_array_equal(cov, want_cov)
    np.testing.assert_array_equal(best, want_best)
    assert cov.dtype == np.float32 and best.dtype == np.int32


FIELD_TOL_DB = 1e-4
"""RSRP / SINR difference allowed between two tilings of a map with random fields: a field value is a
float32 matrix product whose rounding depends on the tile's shape and the pixel's place in it with
some BLAS kernels (OpenBLAS's Haswell sgemm on AMD Zen 3: 1 ulp of a field value). The same tiling
gives the same bits whatever the workers, order or resume (tested against an uninterrupted run)."""


def assert_close_to(out: Path, res):
    """The maps of ``out`` are ``res``'s within the float32 rounding of the random fields (another tiling)."""
    cov, best = read_maps(out)
    np.testing.assert_allclose(cov[0], res.rsrp_dbm, rtol=0, atol=FIELD_TOL_DB)
    np.testing.assert_allclose(cov[1], res.sinr_db, rtol=0, atol=FIELD_TOL_DB)
    np.testing.assert_allclose(cov[2], res.throughput_bps / 1e6, rtol=1e-4, atol=1e-3)
    assert np.mean(best == res.best_sector) > 0.9999


def uninterrupted(sc, out: Path, tile_rows: int) -> Path:
    """The folder of an uninterrupted streamed run of ``sc`` in the tiling ``tile_rows``."""
    run_coverage_streamed(sc, out, tile_rows=tile_rows, backend=BACKEND)
    return out


@pytest.mark.parametrize("tile_rows", [None, pytest.param(7, marks=needs_numba), pytest.param(80, marks=needs_numba)])
def test_same_bits_as_in_memory_for_any_tile_size(tmp_path, reference, tile_rows):
    sc, res = reference
    run, paths = run_coverage_streamed(sc, tmp_path, tile_rows=tile_rows, backend=BACKEND)
    if tile_rows is None:               # the engine's own tiling: the in-memory map's bits
        assert_same_bits(tmp_path, res)
    else:
        assert_close_to(tmp_path, res)
    expected_tiles = res.meta["n_tiles"] if tile_rows is None else -(-80 // tile_rows)
    assert run.tiles_total == run.tiles_computed == expected_tiles
    assert {p.name for p in paths} == {"coverage.tif", "best_sector.tif", "kpis.json", "scenario.json"}
    assert not (tmp_path / PARTIAL_DIR).exists()


def test_numpy_backend_same_bits_on_the_engine_tiling(tmp_path):
    sc = strip_scenario()
    grid, xy = localize(sc)
    res = compute_coverage(sc, grid, xy, backend="numpy")
    run_coverage_streamed(sc, tmp_path, backend="numpy")
    assert_same_bits(tmp_path, res)


def test_engine_tiling_has_several_tiles(reference):
    _, res = reference
    assert res.meta["n_tiles"] >= 2         # the default-tiling case above streams several windows


class Interrupt(Exception):
    pass


def stop_after(k):
    def progress(done, total):
        if done >= k:
            raise Interrupt(f"stopped after {done} of {total}")
    return progress


@needs_numba
def test_interrupted_run_leaves_no_whole_file_and_resumes_to_the_same_bits(tmp_path, reference):
    sc, res = reference
    with pytest.raises(Interrupt):
        run_coverage_streamed(sc, tmp_path, tile_rows=9, backend=BACKEND, progress=stop_after(3))
    assert not (tmp_path / "coverage.tif").exists() and not (tmp_path / "best_sector.tif").exists()
    assert not (tmp_path / "kpis.json").exists()
    assert (tmp_path / PARTIAL_DIR / "journal.npz").is_file()
    with np.load(tmp_path / PARTIAL_DIR / "journal.npz") as j:
        assert j["done"].shape == (3, 4)
    seen = []
    run, _ = run_coverage_streamed(sc, tmp_path, tile_rows=9, backend=BACKEND, resume=True,
                                   progress=lambda d, t: seen.append((d, t)))
    assert (run.tiles_total, run.tiles_computed) == (9, 6)
    assert seen[0] == (3, 9) and seen[-1] == (9, 9)
    assert_close_to(tmp_path, res)
    whole, _ = run_coverage_streamed(sc, tmp_path / "whole", tile_rows=9, backend=BACKEND)
    assert_same_bits(tmp_path, tmp_path / "whole")
    assert run.kpis["coverage"] == whole.kpis["coverage"]
    for key in ("sinr_db_percentiles", "rsrp_dbm_percentiles", "throughput_mbps_percentiles", "sectors",
                "n_pixels_unserved"):
        assert run.kpis[key] == whole.kpis[key]


def test_resume_of_another_scenario_refuses(tmp_path):
    with pytest.raises(Interrupt):
        run_coverage_streamed(strip_scenario(), tmp_path, tile_rows=9, backend=BACKEND, progress=stop_after(2))
    with pytest.raises(ScenarioError, match="another scenario or tiling"):
        run_coverage_streamed(strip_scenario(seed=6), tmp_path, tile_rows=9, backend=BACKEND, resume=True)
    assert not (tmp_path / "coverage.tif").exists()


@needs_numba
def test_without_resume_an_unfinished_run_starts_afresh(tmp_path, reference):
    sc, res = reference
    with pytest.raises(Interrupt):
        run_coverage_streamed(sc, tmp_path, tile_rows=9, backend=BACKEND, progress=stop_after(2))
    run, _ = run_coverage_streamed(sc, tmp_path, tile_rows=9, backend=BACKEND)
    assert run.tiles_computed == 9
    assert_same_bits(tmp_path, uninterrupted(sc, tmp_path / "whole", 9))


def test_cog_opens_with_overviews_crs_and_tiles(tmp_path, reference):
    sc, _ = reference
    run_coverage_streamed(sc, tmp_path, backend=BACKEND)
    with rasterio.open(tmp_path / "coverage.tif") as src:
        assert src.crs.to_epsg() == 32635
        assert src.overviews(1) == [2]
        assert src.block_shapes[0] == (512, 512)
        assert src.descriptions == ("rsrp_dbm", "sinr_db", "throughput_mbps")
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.compression.name.lower() == "deflate"
        assert src.transform.a == 2.0 and src.transform.f == Y0 + 160.0
    with rasterio.open(tmp_path / "best_sector.tif") as src:
        assert src.nodata == -1 and src.overviews(1) == [2]
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"


def test_kpis_within_a_bin_of_the_in_memory_run(tmp_path, reference):
    sc, res = reference
    run, _ = run_coverage_streamed(sc, tmp_path, tile_rows=11, backend=BACKEND)
    mem = coverage_kpis(res, rsrp_thresholds_dbm=sc.rsrp_thresholds_dbm)
    k = run.kpis
    for key in ("n_pixels", "n_pixels_outdoor", "n_pixels_indoor", "n_pixels_unserved", "pixel_area_m2"):
        assert k[key] == mem[key]
    assert [s["served_pixels"] for s in k["sectors"]] == [s["served_pixels"] for s in mem["sectors"]]
    for name, entry in mem["coverage"].items():
        assert k["coverage"][name]["all"] == entry["all"]           # counts: exact
        assert k["coverage"][name]["area_km2"] == pytest.approx(entry["area_km2"], rel=1e-12)
    for q, v in mem["sinr_db_percentiles"].items():
        assert abs(k["sinr_db_percentiles"][q] - v) <= 0.1          # 0.1 dB bins, nearest rank
    for q, v in mem["rsrp_dbm_percentiles"].items():
        assert abs(k["rsrp_dbm_percentiles"][q] - v) <= 0.1
    for q, v in mem["throughput_mbps_percentiles"].items():
        assert k["throughput_mbps_percentiles"][q] == pytest.approx(v, rel=0.025)   # 100 bins per decade


def test_estimate_counts_pixels_links_and_output():
    sc = strip_scenario()
    est = estimate_run(sc, backend="numpy")
    assert est.n_pixels == 80 * 600 and est.n_sites == 3 and est.n_sectors == 9
    assert est.links == 3 * 80 * 600
    assert est.output_bytes == pytest.approx(80 * 600 * OUTPUT_BYTES_PER_PIXEL)
    assert est.peak_memory_bytes >= sc.mem_limit_mb * 1e6
    assert est.seconds > 0
    assert estimate_run(sc, backend="numba").seconds < estimate_run(sc, backend="numpy").seconds


def test_budget_refuses_with_one_line_before_writing(tmp_path):
    sc = strip_scenario()
    with pytest.raises(ScenarioError) as err:
        check_budget(estimate_run(sc), max_output_gb=1e-6)
    msg = str(err.value)
    assert "\n" not in msg and "refusing the run" in msg and "--max-output-gb" in msg and "48,000 pixels" in msg
    with pytest.raises(ScenarioError, match="--max-hours"):
        check_budget(estimate_run(sc), max_hours=1e-9)
    check_budget(estimate_run(sc))          # the defaults accept a small map
    with pytest.raises(ScenarioError, match="refusing the run"):
        run_coverage_streamed(sc, tmp_path, backend=BACKEND, max_output_gb=1e-6)
    assert list(tmp_path.iterdir()) == []


def cli_scenario(tmp_path) -> Path:
    d = {"name": "tiny", "seed": 3, "environment": "UMa",
         "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 600, Y0 + 400], "resolution_m": 10},
         "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30, "dl_load_factor": 0.5},
         "sites": [{"site_id": "A", "x": X0 + 150, "y": Y0 + 200, "height_m": 25,
                    "sectors": [{"azimuth_deg": 0, "tx_power_dbm": 46}, {"azimuth_deg": 120, "tx_power_dbm": 46}]}]}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(d))
    return p



def test_cli_stream_writes_cogs_and_kpis(tmp_path):
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["run", str(cli_scenario(tmp_path)), "-o", str(out), "--stream", "--backend", BACKEND])
    assert r.exit_code == 0, r.output
    assert "(streamed)" in r.stdout and "SINR percentiles" in r.stdout
    assert "estimate was: 2,400 pixels x 1 sites = 2.4e+03 links" in r.stdout
    assert sorted(p.name for p in out.iterdir()) == ["best_sector.tif", "coverage.tif", "kpis.json", "scenario.json"]
    with rasterio.open(out / "coverage.tif") as src:
        assert (src.height, src.width) == (40, 60) and src.crs.to_epsg() == 32635


def test_cli_stream_refusal_and_misuse_are_one_line(tmp_path):
    runner = CliRunner()
    s = str(cli_scenario(tmp_path))
    r = runner.invoke(app, ["run", s, "-o", str(tmp_path / "o"), "--stream", "--max-output-gb", "1e-9"])
    assert r.exit_code == 1
    assert r.stderr.startswith("error: refusing the run") and len(r.stderr.strip().splitlines()) == 1
    r = runner.invoke(app, ["run", s, "-o", str(tmp_path / "o"), "--resume"])
    assert r.exit_code == 1 and "--resume goes with --stream" in r.stderr
    r = runner.invoke(app, ["run", s, "-o", str(tmp_path / "o"), "--stream", "--device", "redcap"])
    assert r.exit_code == 1 and "--device" in r.stderr
    assert not (tmp_path / "o" / "coverage.tif").exists()


def test_replace_keeps_scenarios_frozen():
    # the fingerprint of a run is the repr of its (frozen) scenario: equal scenarios, equal fingerprints
    a, b = strip_scenario(), strip_scenario()
    assert repr(a) == repr(b) and repr(replace(a, seed=9)) != repr(a)


@needs_numba
def test_a_run_slower_than_estimated_stops_on_its_measured_rate_and_resumes(tmp_path, reference, monkeypatch):
    """The up-front estimate passes (a rate of 1e15 links/s), the rate measured after the first tile
    does not: the run stops in one line, keeps its finished tiles, and --resume with a larger limit
    gives the uninterrupted bits."""
    from cellscape.pipeline import stream

    sc, res = reference
    monkeypatch.setattr(stream, "LINKS_PER_S", {"numba": 1e15, "numpy": 1e15})
    monkeypatch.setattr(stream, "PROBE_SECONDS", 0.0)
    with pytest.raises(ScenarioError, match=r"stopping the run: at the rate measured so far .* over 1e-09 h; "
                                            r"the finished tiles are kept: rerun with --resume"):
        run_coverage_streamed(sc, tmp_path, tile_rows=20, backend=BACKEND, max_hours=1e-9)
    assert not (tmp_path / "coverage.tif").exists() and (tmp_path / PARTIAL_DIR / "journal.npz").exists()
    run, _ = run_coverage_streamed(sc, tmp_path, tile_rows=20, backend=BACKEND, resume=True)
    assert run.tiles_computed == run.tiles_total - 1
    assert_same_bits(tmp_path, uninterrupted(sc, tmp_path / "whole", 20))


def test_journal_saves_when_due_or_forced(tmp_path, monkeypatch):
    """Journal (stream_writer): the first record saves; the next only once 1/JOURNAL_SHARE times the
    last save's duration has passed, or when forced; nothing new (same finished tiles) never saves."""
    from cellscape.io import stream_writer

    clock = iter([0.0, 1.0, 1.5, 2.0, 2.5, 3.0, 200.0, 201.0])
    monkeypatch.setattr(stream_writer.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(stream_writer, "JOURNAL_SHARE", 0.01)
    j = stream_writer.Journal(tmp_path / "j.npz")
    counts = {"served": np.arange(3)}

    def saved():
        with np.load(tmp_path / "j.npz") as z:
            return len(z["done"])

    tiles = [(0, 1, 0, 1)] * 5
    j.record("f", tiles[:1], counts)                  # t 0 -> 1: saved; next due at 1 + 1 / 0.01
    assert saved() == 1
    j.record("f", tiles[:2], counts)                  # t 1.5: not due
    assert saved() == 1
    j.record("f", tiles[:2], counts, force=True)      # t 2 -> 2.5: forced; next due at 2.5 + 50
    assert saved() == 2
    j.record("f", tiles[:2], counts, force=True)      # nothing new: no save (and no clock read)
    j.record("f", tiles[:3], counts)                  # t 3: not due
    assert saved() == 2
    j.record("f", tiles[:5], counts)                  # t 200 -> 201: due
    assert saved() == 5


def test_journal_saves_again_when_only_its_extra_arrays_grew(tmp_path):
    """A block's overview pieces written after the last tile (cellscape.io.stream_writer's
    pyramid_blocks): a forced save keeps them although no tile was added."""
    from cellscape.io import stream_writer

    j = stream_writer.Journal(tmp_path / "j.npz")
    blocks = []
    extra = lambda: {"pyramid_blocks": np.array(blocks, dtype=np.int64).reshape(-1, 4)}   # noqa: E731
    j.record("f", [(0, 1, 0, 1)], {}, force=True, extra=extra, n_extra=len(blocks))
    blocks.append((0, 4, 0, 4))
    j.record("f", [(0, 1, 0, 1)], {}, force=True, extra=extra, n_extra=len(blocks))
    with np.load(tmp_path / "j.npz") as z:
        assert z["pyramid_blocks"].tolist() == [[0, 4, 0, 4]]


@needs_numba
@pytest.mark.parametrize("share, compression", [(0.0, "deflate"), (1e9, None)])
def test_work_files_raw_or_deflated_give_the_same_cogs(tmp_path, reference, monkeypatch, share, compression):
    """The work files are uncompressed where the disk has room (WORK_RAW_SHARE of its free space),
    else deflated; the finished COGs are the same bytes, also after a resume."""
    from cellscape.io import stream_writer

    sc, _ = reference
    monkeypatch.setattr(stream_writer, "WORK_RAW_SHARE", share)
    with pytest.raises(Interrupt):
        run_coverage_streamed(sc, tmp_path / "a", tile_rows=9, backend=BACKEND, progress=stop_after(3))
    for name in ("coverage.tif", "best_sector.tif", "coverage.ovr2.tif", "best_sector.ovr2.tif"):
        with rasterio.open(tmp_path / "a" / PARTIAL_DIR / name) as src:
            assert (src.compression and src.compression.name.lower()) == compression, name
    run_coverage_streamed(sc, tmp_path / "a", tile_rows=9, backend=BACKEND, resume=True)
    monkeypatch.setattr(stream_writer, "WORK_RAW_SHARE", 1e9 if share == 0.0 else 0.0)
    other = uninterrupted(sc, tmp_path / "b", 9)
    for name in ("coverage.tif", "best_sector.tif"):
        assert (tmp_path / "a" / name).read_bytes() == (other / name).read_bytes(), name


@needs_numba
def test_a_journal_behind_the_written_tiles_resumes_to_the_same_bits(tmp_path, reference, monkeypatch):
    """Tiles written after the last save of the journal (not due) are computed again on resume: the
    same bits. A run stopped by an exception between tiles saves its journal first (checkpoint)."""
    from cellscape.io import stream_writer

    sc, res = reference
    monkeypatch.setattr(stream_writer, "JOURNAL_SHARE", 1e-12)       # after the first tile: never due

    class KillAfter(stream_writer.CoverageStreamWriter):
        def write_tile(self, tile, counts):
            if len(self._done) == 4:
                raise Interrupt("killed inside the sink, no checkpoint")
            super().write_tile(tile, counts)

    with pytest.raises(Interrupt):
        stream_writer.stream_coverage(sc, KillAfter(tmp_path), tile_rows=9, backend=BACKEND)
    with np.load(tmp_path / PARTIAL_DIR / "journal.npz") as j:
        assert j["done"].shape == (1, 4)                  # four tiles written, one recorded
    with pytest.raises(Interrupt):                            # stopped between tiles: checkpointed
        run_coverage_streamed(sc, tmp_path, tile_rows=9, backend=BACKEND, resume=True, progress=stop_after(6))
    with np.load(tmp_path / PARTIAL_DIR / "journal.npz") as j:
        assert j["done"].shape == (6, 4)
    run, _ = run_coverage_streamed(sc, tmp_path, tile_rows=9, backend=BACKEND, resume=True)
    assert (run.tiles_total, run.tiles_computed) == (9, 3)
    whole, _ = run_coverage_streamed(sc, tmp_path / "whole", tile_rows=9, backend=BACKEND)
    assert_same_bits(tmp_path, tmp_path / "whole")
    assert run.kpis["coverage"] == whole.kpis["coverage"] and run.kpis["sectors"] == whole.kpis["sectors"]


def test_served_counts_touch_the_tile_sectors_only():
    """StreamCounts.add: the pixels each sector serves, the same as a bincount over every sector."""
    from cellscape.coverage.engine import CoverageTile
    from cellscape.geo.grid import Window
    from cellscape.pipeline.stream import StreamCounts

    sc = strip_scenario()
    counts = StreamCounts(sc, n_sectors=1_000)
    rng = np.random.default_rng(2)
    want = np.zeros(1_001, dtype=np.int64)
    for _ in range(3):
        best = rng.integers(-1, 1_000, (7, 9)).astype(np.int32)
        f = np.zeros((7, 9), np.float32)
        counts.add(CoverageTile(window=Window(0, 7, 0, 9), rsrp_dbm=f - 80, sinr_db=f, best_sector=best,
                                indoor=np.zeros((7, 9), bool), throughput_bps=f))
        want += np.bincount(best.ravel() + 1, minlength=1_001)
    np.testing.assert_array_equal(counts.served, want)


@needs_numba
def test_a_sink_without_checkpoint_or_with_a_failing_one_reraises_the_runs_error(tmp_path, reference):
    """checkpoint is optional, and its own failure never hides the error that stopped the run."""
    from cellscape.io import stream_writer

    sc, _ = reference

    class NoCheckpoint(stream_writer.CoverageStreamWriter):
        checkpoint = None

    class BadCheckpoint(stream_writer.CoverageStreamWriter):
        def checkpoint(self, counts):
            raise OSError("disk full")

    for sink in (NoCheckpoint(tmp_path / "a"), BadCheckpoint(tmp_path / "b")):
        with pytest.raises(Interrupt):
            stream_writer.stream_coverage(sc, sink, tile_rows=9, backend=BACKEND, progress=stop_after(2))
