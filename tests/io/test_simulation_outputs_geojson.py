"""What `cellscape simulate` writes for the web map: users.geojson and events.geojson (WGS 84, the
parquet columns as properties, null for NaN), and the files a run folder gives the map (sites,
buildings, scenario.json on the simulation's grid, best-server maps equal to the coverage engine's).

One tiny simulation (4 sectors, 20 users, 0.5 s, a 20 m grid over a 10 m scenario) whose handover
and radio-link settings are deliberately twitchy, so that every event kind occurs."""

from __future__ import annotations

from dataclasses import replace
import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from cellscape.coverage.engine import compute_coverage
from cellscape.geo.grid import transform_xy
from cellscape.io.coverage_outputs import read_scenario_json
from cellscape.io.geotiff import read_geotiff
from cellscape.io.simulation_outputs import (
    EVENT_PROPERTIES,
    EVENT_STYLES,
    USER_COLOUR_PROPERTIES,
    USER_PROPERTIES,
    events_geojson,
    write_simulation_outputs,
)
from cellscape.pipeline import load_footprints, localize
from cellscape.pipeline.simulate import run_simulate
from cellscape.scenario.model import parse_scenario
from cellscape.scenario.simulation import parse_simulation
from cellscape.simulation.handover import EVENT_NAMES

X0, Y0 = 385_000.0, 6_671_000.0
CRS = "EPSG:32635"
ROUND_TRIP_M = 1e-3          # the brief: coordinates back in the grid CRS within a millimetre
SINR_AGREE_DB = 0.01         # float32 per-sector maps re-combined in float64 vs the kernel's own sum
SIM_RESOLUTION_M = 20.0


def buildings_file(folder):
    """Three flat-roofed blocks as RFC 7946 GeoJSON (lon/lat), heights in ``height_m``."""
    feats = []
    for k, (x, y, h) in enumerate([(X0 + 60, Y0 + 60, 12.0), (X0 + 260, Y0 + 300, 20.0), (X0 + 500, Y0 + 80, 9.0)]):
        xs = np.array([x, x + 60, x + 60, x, x])
        ys = np.array([y, y, y + 40, y + 40, y])
        lon, lat = transform_xy(xs, ys, src_crs=CRS, dst_crs="EPSG:4326")
        feats.append({"type": "Feature", "properties": {"height_m": h, "name": f"b{k}"},
                      "geometry": {"type": "Polygon", "coordinates": [np.column_stack([lon, lat]).tolist()]}})
    path = folder / "buildings.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def tiny_scenario(folder):
    return parse_scenario({
        "name": "tiny", "seed": 3, "environment": "UMa",
        "area": {"crs": CRS, "bounds": [X0, Y0, X0 + 600, Y0 + 400], "resolution_m": 10},
        "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30, "dl_load_factor": 0.5},
        "buildings": {"source": str(buildings_file(folder))},
        "sites": [
            {"site_id": "A", "x": X0 + 150, "y": Y0 + 200, "height_m": 25,
             "sectors": [{"azimuth_deg": a, "tx_power_dbm": 46} for a in (0, 120, 240)]},
            {"site_id": "B", "x": X0 + 450, "y": Y0 + 200, "height_m": 25,
             "sectors": [{"azimuth_deg": 60, "tx_power_dbm": 46}]}]})


TWITCHY = {
    # a neighbour 1 dB *weaker* triggers at once: users between sectors flip back and forth (ping-pongs);
    # out of sync below 3 dB for 50 ms: cell-edge users fail (RLFs)
    "handover": {"a3_offset_db": -1, "hysteresis_db": 0, "time_to_trigger_ms": 0, "l3_filter_k": 0},
    "rlf": {"qout_db": 3, "qin_db": 5, "t310_ms": 50, "reestablishment_ms": 20},
}


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim-geojson")
    sc = tiny_scenario(folder)
    sim = parse_simulation({"name": "tiny-sim", "simulation": {
        "duration_s": 0.5, "warmup_s": 0.02, "resolution_m": SIM_RESOLUTION_M, **TWITCHY,
        "users": [{"name": "phones", "count": 12, "traffic": {"model": "full_buffer"}},
                  {"name": "cars", "count": 8, "mobility": {"model": "random_waypoint", "speed_kmh": [100, 150]},
                   "traffic": {"model": "ftp3", "arrival_rate_per_s": 1}}]}}, sc)
    run = run_simulate(sim)
    out = folder / "out"
    write_simulation_outputs(run, out, png=False)
    return run, out


def features(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    return data["features"]


def back_to_grid(feats, crs):
    lonlat = np.array([f["geometry"]["coordinates"] for f in feats], dtype=float)
    assert all(f["geometry"]["type"] == "Point" for f in feats)
    return transform_xy(lonlat[:, 0], lonlat[:, 1], src_crs="EPSG:4326", dst_crs=crs)


def assert_properties_equal_columns(feats, table, names):
    for name in names:
        col = table[name].to_numpy()
        got = [f["properties"][name] for f in feats]
        if col.dtype.kind == "f":
            nan = np.isnan(col)
            assert [g is None for g in got] == nan.tolist(), name          # NaN -> null, nothing else
            np.testing.assert_array_equal(np.array([g for g in got if g is not None], dtype=float), col[~nan])
        else:
            assert got == col.tolist(), name


def test_users_geojson_is_the_parquet_in_wgs84(sim_run):
    run, out = sim_run
    ue = pq.read_table(out / "ue_kpis.parquet").to_pandas()
    feats = features(out / "users.geojson")
    assert len(feats) == len(ue) == 20
    assert all(list(f["properties"]) == list(USER_PROPERTIES) for f in feats)
    x, y = back_to_grid(feats, run.result.grid.crs)
    assert np.abs(x - ue["x_m"].to_numpy()).max() < ROUND_TRIP_M
    assert np.abs(y - ue["y_m"].to_numpy()).max() < ROUND_TRIP_M
    assert_properties_equal_columns(feats, ue, USER_PROPERTIES)
    # the null case is exercised: car users without a finished file have no user throughput
    assert ue["user_throughput_mbps"].isna().any() and not ue["user_throughput_mbps"].isna().all()
    assert {f["properties"]["serving_sector_id"] for f in feats} <= {"A-1", "A-2", "A-3", "B-1"}
    assert set(USER_COLOUR_PROPERTIES) <= set(USER_PROPERTIES)


def test_events_geojson_is_the_parquet_in_wgs84(sim_run):
    run, out = sim_run
    ev = pq.read_table(out / "events.parquet").to_pandas()
    feats = features(out / "events.geojson")
    assert len(feats) == len(ev) > 0
    assert set(ev["kind"]) == set(EVENT_NAMES.values())          # the twitchy settings give every kind
    x, y = back_to_grid(feats, run.result.grid.crs)
    assert np.abs(x - ev["x_m"].to_numpy()).max() < ROUND_TRIP_M
    assert np.abs(y - ev["y_m"].to_numpy()).max() < ROUND_TRIP_M
    assert_properties_equal_columns(feats, ev, EVENT_PROPERTIES)
    x0, y0, x1, y1 = run.result.grid.bounds_m
    assert ((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)).all()


def test_no_events_is_an_empty_collection():
    empty = {"time_s": np.zeros(0), "user": np.zeros(0, dtype=np.int64), "kind": np.zeros(0, dtype=object),
             "from_sector": np.zeros(0, dtype=object), "to_sector": np.zeros(0, dtype=object),
             "x_m": np.zeros(0), "y_m": np.zeros(0)}
    assert events_geojson(empty, CRS) == {"type": "FeatureCollection", "name": "events", "features": []}


def test_every_event_kind_has_a_map_symbol():
    assert set(EVENT_STYLES) == set(EVENT_NAMES.values())
    assert len({s["symbol"] for s in EVENT_STYLES.values()}) == len(EVENT_STYLES)
    assert len({s["colour"] for s in EVENT_STYLES.values()}) == len(EVENT_STYLES)


def test_the_folder_has_what_the_web_map_needs(sim_run):
    run, out = sim_run
    names = {p.name for p in out.iterdir()}
    assert {"users.geojson", "events.geojson", "sites.geojson", "buildings.geojson", "scenario.json",
            "simulation_coverage.tif", "best_sector.tif"} <= names
    assert not any(n.endswith(".partial") for n in names)
    sites = features(out / "sites.geojson")
    assert sorted(f["properties"]["sector_id"] for f in sites if f["properties"]["layer"] == "sector") == [
        "A-1", "A-2", "A-3", "B-1"]
    b = json.loads((out / "buildings.geojson").read_text())
    assert sorted(f["properties"]["height_m"] for f in b["features"]) == [9.0, 12.0, 20.0]
    # scenario.json: the radio scenario on the simulation's 20 m grid, so link budgets are the maps'
    sc = read_scenario_json(out / "scenario.json")
    assert sc.area.resolution_m == SIM_RESOLUTION_M
    given = run.simulation.scenario
    assert given.area.resolution_m == 10.0
    assert sc == replace(given, area=replace(given.area, resolution_m=SIM_RESOLUTION_M))
    assert localize(sc)[0].shape == run.result.grid.shape


def test_simulation_maps_equal_the_coverage_engine(sim_run):
    """simulation_coverage.tif and best_sector.tif are what `cellscape run` of scenario.json gives."""
    run, out = sim_run
    bands, grid = read_geotiff(out / "simulation_coverage.tif")
    best, _ = read_geotiff(out / "best_sector.tif")
    assert list(bands) == ["rsrp_dbm", "sinr_db"] and grid.shape == run.result.grid.shape
    sc = read_scenario_json(out / "scenario.json")
    g, xy = localize(sc)
    cov = compute_coverage(sc, g, xy, footprints=load_footprints(sc, g))
    np.testing.assert_allclose(bands["rsrp_dbm"], cov.rsrp_dbm, atol=1e-4)
    np.testing.assert_allclose(bands["sinr_db"], cov.sinr_db, atol=SINR_AGREE_DB)
    assert (best["best_sector"] == cov.best_sector).mean() > 0.999       # ties may break either way
