"""The web app's API through FastAPI's TestClient: layers, tiles, vectors, link budgets, and the
bounds that keep a request inside the run folder."""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import socket
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
import morecantile
import numpy as np
from PIL import Image
import pytest

from cellscape.errors import DataFileError
from cellscape.geo.grid import transform_xy
from cellscape.io.coverage_outputs import MAP_STYLES, read_scenario_json
from cellscape.io.geotiff import read_geotiff
from cellscape.io.scenario_yaml import load_scenario
from cellscape.web.app import STATIC_DIR, create_app, vendor_missing
from cellscape.web.tiles import EMPTY_PNG

from .conftest import coarse_helsinki

TMS = morecantile.tms.get("WebMercatorQuad")
AGREE_DB = 0.05


@pytest.fixture(scope="module")
def client(run_dir):
    return TestClient(create_app(run_dir), base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def maps(run_dir):
    bands, grid = read_geotiff(run_dir / "coverage.tif")
    best, _ = read_geotiff(run_dir / "best_sector.tif")
    return {**bands, **best}, grid


def png(resp) -> np.ndarray:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(resp.content)).convert("RGBA"))


def centre_lonlat(run_dir):
    bounds = json.loads((run_dir / "scenario.json").read_text())["scenario"]["area"]["bounds"]
    return (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2


# -- the page ----------------------------------------------------------------------------------


def test_page_and_its_scripts_come_from_this_server(client):
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "/static/vendor/maplibre-gl.js" in r.text and "/static/map.js" in r.text
    for name in ("index.html", "map.js", "map.css"):
        text = (STATIC_DIR / name).read_text()
        assert "http://" not in text and "https://" not in text, f"{name} names a remote URL"
    assert vendor_missing() == [], "MapLibre GL JS is not vendored: run `make vendor`"
    js = client.get("/static/vendor/maplibre-gl.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert client.get("/static/vendor/maplibre-gl.css").status_code == 200


def test_run_metadata_lists_layers_with_the_documented_ranges(client, run_dir):
    meta = client.get("/api/run").json()
    assert meta["name"] == "helsinki-3500" and meta["link_budget"] is True
    rasters = {r["name"]: r for r in meta["rasters"]}
    assert list(rasters) == ["rsrp_dbm", "sinr_db", "throughput_mbps", "best_sector"]
    for name in ("rsrp_dbm", "sinr_db"):
        assert (rasters[name]["vmin"], rasters[name]["vmax"]) == (MAP_STYLES[name]["vmin"], MAP_STYLES[name]["vmax"])
        assert rasters[name]["units"] == MAP_STYLES[name]["units_label"]
        assert len(rasters[name]["stops"]) == 11
    assert rasters["throughput_mbps"]["vmin"] == 0.0 and rasters["throughput_mbps"]["vmax"] > 100.0
    classes = rasters["best_sector"]["classes"]
    assert len(classes) == 32 and classes[0]["label"] == "HEL-M01-A"
    assert {v["name"] for v in meta["vectors"]} == {"buildings", "streets", "sites"}
    assert any("OpenStreetMap" in a for a in meta["attribution"])
    w, s, e, n = meta["bounds"]
    lon, lat = centre_lonlat(run_dir)
    assert w < lon < e and s < lat < n
    assert "kpis.json" in meta["files"] and not any(f.startswith(".") for f in meta["files"])


# -- tiles -------------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", ["rsrp_dbm", "sinr_db", "throughput_mbps", "best_sector"])
def test_tiles_are_coloured_pngs_of_the_run(client, run_dir, layer):
    lon, lat = centre_lonlat(run_dir)
    t = TMS.tile(lon, lat, 16)
    img = png(client.get(f"/api/tiles/{layer}/16/{t.x}/{t.y}.png"))
    assert img.shape == (256, 256, 4)
    drawn = img[..., 3] == 255
    assert drawn.mean() > 0.5
    assert len(np.unique(img[drawn][:, :3], axis=0)) > 3      # not one flat colour


def test_tile_colours_follow_the_map_values(client, run_dir, maps):
    """Each tile pixel shows the colour of the map pixel under its centre (nearest neighbour)."""
    bands, grid = maps
    layer = client.app.state.folder.rasters["rsrp_dbm"]
    lon, lat = centre_lonlat(run_dir)
    t = TMS.tile(lon, lat, 17)
    img = png(client.get(f"/api/tiles/rsrp_dbm/17/{t.x}/{t.y}.png"))
    b = TMS.xy_bounds(t)
    i, j = np.meshgrid(np.arange(8, 256, 16), np.arange(8, 256, 16), indexing="ij")   # rows, cols
    mx = b.left + (j + 0.5) / 256 * (b.right - b.left)
    my = b.top - (i + 0.5) / 256 * (b.top - b.bottom)
    x, y = transform_xy(mx.ravel(), my.ravel(), src_crs="EPSG:3857", dst_crs=grid.crs)
    col = ((x - grid.x_min_m) // grid.resolution_m).astype(int)
    row = ((grid.y_max_m - y) // grid.resolution_m).astype(int)
    inside = (row >= 0) & (row < grid.n_rows) & (col >= 0) & (col < grid.n_cols)
    values = bands["rsrp_dbm"][row[inside], col[inside]].astype(float)
    rgb, _ = layer.colour(values[None, :])
    got = img[i.ravel()[inside], j.ravel()[inside], :3]
    same = np.all(np.abs(got.astype(int) - rgb[:, 0, :].T.astype(int)) <= 1, axis=1)
    assert same.mean() > 0.9       # a pixel edge may fall under a sample point


def test_tiles_outside_the_map_are_transparent(client):
    img = png(client.get("/api/tiles/rsrp_dbm/10/0/0.png"))
    assert (img[..., 3] == 0).all()


def test_a_tile_far_coarser_than_the_map_is_served_empty_without_reading(client, run_dir, monkeypatch):
    """Zoom 0 over a map without overviews made GDAL resample the whole world (~100 s for the 2 m
    Helsinki example). At zoom 7 a tile pixel (1,223 m at the equator) spans over 64 of this 10 m
    map's pixels: served empty; without the guard the same tile draws the map's few pixels."""
    from cellscape.web import tiles

    lon, lat = centre_lonlat(run_dir)
    layer = client.app.state.folder.rasters["rsrp_dbm"]
    for z in (0, 7):
        t = TMS.tile(lon, lat, z)
        assert client.get(f"/api/tiles/rsrp_dbm/{z}/{t.x}/{t.y}.png").content == EMPTY_PNG
    t = TMS.tile(lon, lat, 7)
    monkeypatch.setattr(tiles, "MAX_DECIMATION", 1e9)
    assert tiles.render_tile(layer, 7, t.x, t.y) != EMPTY_PNG


@pytest.mark.parametrize("url, fragment", [
    ("/api/tiles/elevation/10/0/0.png", "unknown raster layer 'elevation'"),
    ("/api/tiles/rsrp_dbm/23/0/0.png", "zoom z=23 outside 0..22"),
    ("/api/tiles/rsrp_dbm/-1/0/0.png", "zoom z=-1"),
    ("/api/tiles/rsrp_dbm/2/4/0.png", "outside 0..3 at zoom 2"),
    ("/api/tiles/rsrp_dbm/2/0/-1.png", "outside 0..3"),
    ("/api/vector/roads", "unknown vector layer 'roads'"),
])
def test_unknown_layers_and_tiles_are_404_with_a_clear_json_body(client, url, fragment):
    r = client.get(url)
    assert r.status_code == 404 and r.headers["content-type"] == "application/json"
    assert fragment in r.json()["detail"]


def test_a_tile_index_that_is_not_a_number_is_422(client):
    assert client.get("/api/tiles/rsrp_dbm/ten/0/0.png").status_code == 422


# -- vectors -----------------------------------------------------------------------------------


def test_sites_and_buildings_are_wgs84_geojson(client, run_dir):
    meta = client.get("/api/run").json()
    w, s, e, n = meta["bounds"]
    sites = client.get("/api/vector/sites").json()
    kinds = [f["properties"]["layer"] for f in sites["features"]]
    assert kinds.count("site") == 12 and kinds.count("sector") == 32
    for f in sites["features"]:
        pts = np.array(f["geometry"]["coordinates"] if f["geometry"]["type"] == "Point"
                       else f["geometry"]["coordinates"][0], dtype=float).reshape(-1, 2)
        assert (pts[:, 0] > w - 0.01).all() and (pts[:, 0] < e + 0.01).all()
        assert (pts[:, 1] > s - 0.01).all() and (pts[:, 1] < n + 0.01).all()
    r = client.get("/api/vector/buildings")
    assert r.headers["content-type"] == "application/geo+json"
    b = r.json()
    assert len(b["features"]) == 483 and "OpenStreetMap" in b["attribution"]
    assert all(f["properties"]["height_m"] > 0 for f in b["features"])


def test_a_plan_folder_serves_its_plan_and_fibre(tmp_path, run_dir):
    folder = tmp_path / "plan"
    shutil.copytree(run_dir, folder)
    plan = {"type": "FeatureCollection", "name": "p", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.94, 60.17]},
         "properties": {"layer": "site", "site_id": "N1", "status": "new"}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[24.94, 60.17], [24.95, 60.17]]},
         "properties": {"layer": "fiber", "length_m": 555.0, "ring_extra": False}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.95, 60.17]},
         "properties": {"layer": "data_center", "name": "DC"}}]}
    (folder / "plan.geojson").write_text(json.dumps(plan))
    c = TestClient(create_app(folder), base_url="http://127.0.0.1")
    assert "plan" in {v["name"] for v in c.get("/api/run").json()["vectors"]}
    got = c.get("/api/vector/plan").json()
    assert [f["properties"]["layer"] for f in got["features"]] == ["site", "fiber", "data_center"]


def test_a_folder_that_is_no_run_is_refused(tmp_path):
    with pytest.raises(DataFileError, match="not a run folder"):
        create_app(tmp_path)
    with pytest.raises(DataFileError, match="no such folder"):
        create_app(tmp_path / "missing")


# -- link budget -------------------------------------------------------------------------------


def test_link_budget_equals_the_map_at_the_clicked_pixel(client, maps):
    bands, grid = maps
    rng = np.random.default_rng(3)
    for _ in range(6):
        r, c = int(rng.integers(0, grid.n_rows)), int(rng.integers(0, grid.n_cols))
        x = grid.x_min_m + (c + 0.3) * grid.resolution_m
        y = grid.y_max_m - (r + 0.6) * grid.resolution_m
        lon, lat = transform_xy([x], [y], src_crs=grid.crs, dst_crs="EPSG:4326")
        resp = client.get("/api/linkbudget", params={"lon": lon[0], "lat": lat[0], "top": 4})
        assert resp.status_code == 200, resp.text
        lb = resp.json()
        assert (lb["pixel"]["row"], lb["pixel"]["col"]) == (r, c)
        assert lb["rsrp_dbm"] == pytest.approx(float(bands["rsrp_dbm"][r, c]), abs=AGREE_DB)
        assert lb["sinr_db"] == pytest.approx(float(bands["sinr_db"][r, c]), abs=AGREE_DB)
        assert lb["throughput_mbps"] == pytest.approx(float(bands["throughput_mbps"][r, c]), rel=1e-4)
        assert len(lb["sectors"]) == 4
        row = lb["sectors"][0]
        assert row["sector_id"] == lb["serving_sector"]
        assert set(row) >= {"sector_id", "site_id", "distance_2d_m", "los", "path_loss_db", "antenna_gain_dbi",
                            "shadow_fading_db", "o2i_loss_db", "rsrp_dbm"}


@pytest.mark.parametrize("params, status, fragment", [
    ({"lon": 25.5, "lat": 60.17}, 404, "outside the map area"),
    ({"lon": 24.94}, 422, None),
    ({"lon": 24.94, "lat": 95.0}, 422, None),
    ({"lon": "east", "lat": 60.17}, 422, None),
    ({"lon": 24.94, "lat": 60.17, "top": 500}, 422, None),
])
def test_link_budget_refuses_bad_points(client, params, status, fragment):
    r = client.get("/api/linkbudget", params=params)
    assert r.status_code == status and r.headers["content-type"] == "application/json"
    if fragment:
        assert fragment in r.json()["detail"]


def test_scenario_json_rebuilds_the_scenario(run_dir, tmp_path):
    again = read_scenario_json(run_dir / "scenario.json")
    assert again == load_scenario(coarse_helsinki(tmp_path))
    (tmp_path / "scenario.json").write_text(json.dumps({"version": 99, "scenario": {}}))
    with pytest.raises(Exception, match="version 1"):
        read_scenario_json(tmp_path / "scenario.json")


# -- only the run folder -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(run_dir, tmp_path_factory):
    """A copy of the run with links pointing out of it, a hidden file and a file of an unserved type."""
    folder = tmp_path_factory.mktemp("guarded") / "run"
    shutil.copytree(run_dir, folder)
    outside = folder.parent / "secret.json"
    outside.write_text('{"secret": "outside the run folder"}')
    os.symlink(outside, folder / "link-out.json")
    os.symlink("/etc/passwd", folder / "passwd.txt")
    os.symlink(folder.parent, folder / "up")
    (folder / "sub").mkdir()
    (folder / "sub" / "note.txt").write_text("inside")
    (folder / ".kpis.json.123.partial").write_text("half")
    (folder / "key.pem").write_text("not served")
    return folder, TestClient(create_app(folder), base_url="http://127.0.0.1")


def test_files_of_the_run_are_served(guarded):
    _, c = guarded
    r = c.get("/files/kpis.json")
    assert r.status_code == 200 and "coverage" in r.json()
    assert c.get("/files/sub/note.txt").text == "inside"


@pytest.mark.parametrize("path", [
    "/files/../secret.json",
    "/files/%2e%2e/secret.json",
    "/files/%2E%2E%2Fsecret.json",
    "/files/sub/%2e%2e/%2e%2e/secret.json",
    "/files/..%2f..%2f..%2fetc%2fpasswd",
    "/files/%2fetc%2fpasswd",
    "/files//etc/passwd",
    "/files/%5c..%5csecret.json",
    "/files/link-out.json",
    "/files/passwd.txt",
    "/files/up/secret.json",
    "/files/.kpis.json.123.partial",
    "/files/key.pem",
    "/files/sub",
    "/files/kpis.json%00.png",
    "/static/../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/api/vector/..%2fsecret.json",
])
def test_nothing_outside_the_run_folder_can_be_read(guarded, path):
    _, c = guarded
    r = c.get(path)
    assert r.status_code in (404, 422), (path, r.status_code)
    assert "outside the run folder" not in r.text and "root:" not in r.text


def test_raw_dot_dot_paths_on_the_wire_are_refused(live_server):
    """Clients normalise '../' away; send it raw to the real server (uvicorn)."""
    host, port = urlsplit(live_server).hostname, urlsplit(live_server).port
    for target in ("/files/../../../../etc/passwd", "/files/..%2F..%2F..%2Fetc%2Fpasswd", "/static/../app.py"):
        with socket.create_connection((host, port), timeout=10) as s:
            s.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
        status = int(reply.split(b" ", 2)[1])
        assert status in (400, 404), (target, reply[:200])
        assert b"root:" not in reply and b"create_app" not in reply


def test_request_sizes_are_bounded(client):
    r = client.post("/api/linkbudget", content=b"x" * 70_000)
    assert r.status_code == 413 and "exceeds 65536 bytes" in r.json()["detail"]
    r = client.request("GET", "/api/run", content=b"x" * 70_000)
    assert r.status_code == 413

    def chunks():
        yield b"x" * 10

    assert client.request("GET", "/api/run", content=chunks()).status_code == 411
    assert client.get("/api/run", params={"q": "x" * 3000}).status_code == 414
    assert client.request("GET", "/api/run", content=b"{}").status_code == 200     # a small body is harmless


def test_only_the_served_host_name_is_answered(run_dir):
    c = TestClient(create_app(run_dir), base_url="http://evil.example")
    assert c.get("/api/run").status_code == 400
    assert TestClient(create_app(run_dir), base_url="http://localhost:8000").get("/api/run").status_code == 200


def test_serve_prints_its_address_and_refuses_non_run_folders(live_server, run_dir, tmp_path):
    import httpx
    from typer.testing import CliRunner
    import typer

    from cellscape.cli.serve_cmd import serve

    assert live_server.startswith("http://127.0.0.1:")
    assert httpx.get(live_server + "/api/run", timeout=10).json()["name"] == "helsinki-3500"
    cli = typer.Typer()
    cli.command()(serve)
    r = CliRunner().invoke(cli, [str(tmp_path)])
    assert r.exit_code == 1
    assert r.stderr.startswith("error: ") and "not a run folder" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = CliRunner().invoke(cli, [str(run_dir), "--port", str(urlsplit(live_server).port)])   # taken
    assert r.exit_code == 1 and r.stderr.startswith("error: cannot listen on 127.0.0.1:")


def test_the_tile_cache_keeps_what_fits_and_drops_the_oldest():
    from cellscape.web.app import TileCache

    cache = TileCache(max_mb=0.001)          # 1000 bytes
    cache.put(("a",), b"x" * 400)
    cache.put(("b",), b"x" * 400)
    assert cache.get(("a",)) is not None     # a is now the most recent
    cache.put(("c",), b"x" * 400)            # over budget: b goes
    assert cache.get(("b",)) is None and cache.get(("a",)) and cache.get(("c",))
    cache.put(("big",), b"x" * 2000)         # larger than the whole cache: not kept
    assert cache.get(("big",)) is None


def test_a_cached_tile_is_the_same_tile(client, run_dir):
    lon, lat = centre_lonlat(run_dir)
    t = TMS.tile(lon, lat, 15)
    url = f"/api/tiles/sinr_db/15/{t.x}/{t.y}.png"
    assert client.get(url).content == client.get(url).content


# -- a simulate folder: users and mobility events ----------------------------------------------


@pytest.fixture(scope="module")
def sim_client(sim_dir):
    return TestClient(create_app(sim_dir), base_url="http://127.0.0.1")


def test_a_simulate_folder_lists_users_events_and_its_maps(sim_client, sim_dir):
    import pyarrow.parquet as pq

    from cellscape.io.simulation_outputs import EVENT_STYLES, USER_COLOUR_PROPERTIES

    meta = sim_client.get("/api/run").json()
    assert meta["name"] == "tiny-sim" and meta["link_budget"] is True
    assert [r["name"] for r in meta["rasters"]] == ["rsrp_dbm", "sinr_db", "best_sector"]
    assert [r["label"] for r in next(r for r in meta["rasters"] if r["name"] == "best_sector")["classes"]] == [
        "A-1", "A-2", "A-3", "B-1"]
    vectors = {v["name"]: v for v in meta["vectors"]}
    assert set(vectors) == {"buildings", "sites", "users", "events"}          # no OSM extract: no streets
    assert "legend" not in vectors["sites"] and "legend" not in vectors["buildings"]

    ue = pq.read_table(sim_dir / "ue_kpis.parquet").to_pandas()
    users = vectors["users"]["legend"]
    assert users["count"] == len(ue) == 20 and users["default"] == "dl_throughput_mbps"
    assert users["units"] == "Mbit/s" and users["scale"] == "log10"
    assert list(users["properties"]) == list(USER_COLOUR_PROPERTIES)
    for prop, scale in users["properties"].items():
        values = ue[prop].to_numpy()
        top = float(np.nanmax(values))
        assert scale["vmin"] == 0.1                      # the decade above the largest value, at least 1
        assert scale["vmax"] == (1.0 if top <= 1.0 else 10.0 ** math.ceil(math.log10(top)))
        assert scale["no_value"] == int(np.isnan(values).sum())
        stops = [s["value"] for s in scale["stops"]]
        assert len(stops) == 11 and stops[0] == pytest.approx(0.1) and stops[-1] == pytest.approx(scale["vmax"])
        assert np.all(np.diff(np.log10(stops)) == pytest.approx(np.log10(scale["vmax"] / 0.1) / 10))
    assert users["properties"]["user_throughput_mbps"]["no_value"] > 0          # cars without a finished file

    ev = pq.read_table(sim_dir / "events.parquet").to_pandas()
    events = vectors["events"]["legend"]
    assert events["count"] == len(ev) > 0
    assert [k["kind"] for k in events["kinds"]] == list(EVENT_STYLES)
    for k in events["kinds"]:
        assert k["count"] == int((ev["kind"] == k["kind"]).sum()) > 0
        assert (k["colour"], k["symbol"], k["label"]) == tuple(EVENT_STYLES[k["kind"]][x]
                                                              for x in ("colour", "symbol", "label"))
    w, s, e, n = meta["bounds"]
    pts = np.array([f["geometry"]["coordinates"] for f in sim_client.get("/api/vector/users").json()["features"]])
    assert (pts[:, 0] > w).all() and (pts[:, 0] < e).all() and (pts[:, 1] > s).all() and (pts[:, 1] < n).all()
    assert {"users.geojson", "events.geojson", "ue_kpis.parquet"} & set(meta["files"]) == {"users.geojson",
                                                                                          "events.geojson"}


def test_a_simulate_folder_serves_the_layers_as_written(sim_client, sim_dir):
    for layer in ("users", "events"):
        r = sim_client.get(f"/api/vector/{layer}")
        assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
        assert r.json() == json.loads((sim_dir / f"{layer}.geojson").read_text())
    users = sim_client.get("/api/vector/users").json()["features"]
    assert len(users) == 20 and {f["properties"]["group"] for f in users} == {"phones", "cars"}
    kinds = {f["properties"]["kind"] for f in sim_client.get("/api/vector/events").json()["features"]}
    assert kinds == {"handover", "ping_pong", "rlf"}
    lon, lat = users[0]["geometry"]["coordinates"]
    t = TMS.tile(lon, lat, 16)
    img = png(sim_client.get(f"/api/tiles/sinr_db/16/{t.x}/{t.y}.png"))
    assert (img[..., 3] == 255).mean() > 0.1


def test_a_link_budget_in_a_simulate_folder_is_the_simulated_map(sim_client, sim_dir):
    """scenario.json holds the simulation's grid: a click gives the map the users were simulated on."""
    bands, grid = read_geotiff(sim_dir / "simulation_coverage.tif")
    assert grid.resolution_m == 20.0
    for f in sim_client.get("/api/vector/users").json()["features"][:4]:
        lon, lat = f["geometry"]["coordinates"]
        lb = sim_client.get("/api/linkbudget", params={"lon": lon, "lat": lat}).json()
        r, c = lb["pixel"]["row"], lb["pixel"]["col"]
        assert lb["pixel"]["resolution_m"] == 20.0
        assert lb["rsrp_dbm"] == pytest.approx(float(bands["rsrp_dbm"][r, c]), abs=AGREE_DB)
        assert lb["sinr_db"] == pytest.approx(float(bands["sinr_db"][r, c]), abs=AGREE_DB)


def test_a_run_folder_has_no_users_or_events(client):
    meta = client.get("/api/run").json()
    assert not any("legend" in v for v in meta["vectors"])
    r = client.get("/api/vector/users")
    assert r.status_code == 404 and "unknown vector layer 'users'" in r.json()["detail"]
    assert "sites" in r.json()["detail"]


def test_users_and_events_alone_make_a_map(tmp_path, sim_dir):
    """A folder with just the two GeoJSON files opens (no rasters, no link budget); an event kind
    the page does not know gets a neutral symbol after the known ones."""
    shutil.copy(sim_dir / "users.geojson", tmp_path / "users.geojson")
    ev = json.loads((sim_dir / "events.geojson").read_text())
    ev["features"][0]["properties"]["kind"] = "conditional_handover"
    (tmp_path / "events.geojson").write_text(json.dumps(ev))
    c = TestClient(create_app(tmp_path), base_url="http://127.0.0.1")
    meta = c.get("/api/run").json()
    assert meta["rasters"] == [] and meta["link_budget"] is False and meta["name"] == tmp_path.name
    pts = np.array([f["geometry"]["coordinates"] for f in json.loads((tmp_path / "users.geojson").read_text())
                    ["features"]])
    assert meta["bounds"] == pytest.approx([pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()])
    kinds = next(v for v in meta["vectors"] if v["name"] == "events")["legend"]["kinds"]
    assert [k["kind"] for k in kinds] == ["handover", "ping_pong", "rlf", "conditional_handover"]
    assert kinds[-1]["count"] == 1 and kinds[-1]["symbol"] == "circle"
    assert c.get("/api/linkbudget", params={"lon": pts[0, 0], "lat": pts[0, 1]}).status_code == 404


def test_a_broken_users_file_is_a_clear_error(tmp_path, sim_dir):
    (tmp_path / "users.geojson").write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(DataFileError, match="users.geojson: cannot read this GeoJSON file"):
        create_app(tmp_path)
    (tmp_path / "users.geojson").write_text('{"type": "Feature"}')
    with pytest.raises(DataFileError, match="not a GeoJSON FeatureCollection"):
        create_app(tmp_path)
    users = json.loads((sim_dir / "users.geojson").read_text())
    users["features"][3]["properties"]["dl_throughput_mbps"] = "fast"
    (tmp_path / "users.geojson").write_text(json.dumps(users))
    with pytest.raises(DataFileError, match="'dl_throughput_mbps' holds a value that is not a number"):
        create_app(tmp_path)


def test_an_old_simulate_folder_is_refused_with_a_hint(tmp_path, sim_dir):
    shutil.copy(sim_dir / "ue_kpis.parquet", tmp_path / "ue_kpis.parquet")
    with pytest.raises(DataFileError, match="users.geojson"):
        create_app(tmp_path)
