"""`cellscape serve` beyond loopback needs an access token on every request: the real server
(uvicorn, `cellscape serve` in a subprocess) on all interfaces, asked over TCP with httpx; loopback
stays open unless a token is given; the map page works in a real browser from the printed address."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
import httpx
import morecantile
import pytest
import typer
from typer.testing import CliRunner

from cellscape.cli.serve_cmd import TOKEN_ENV, serve
from cellscape.web.app import TOKEN_COOKIE, TokenError, create_app

from .conftest import start_server

GOOD = "a-token-of-the-user-0123456789"
TMS = morecantile.tms.get("WebMercatorQuad")


def _stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def open_server(run_dir):
    """`cellscape serve RUN_DIR --host 0.0.0.0`: (base URL to reach it on 127.0.0.1, its printed token)."""
    proc, printed = start_server(run_dir, "--host", "0.0.0.0")
    parts = urlsplit(printed)
    token = parse_qs(parts.query).get("token", [None])[0]
    yield f"http://127.0.0.1:{parts.port}", token
    _stop(proc)


LON, LAT = 24.944, 60.171                    # inside the Helsinki map
TILE = "/api/tiles/rsrp_dbm/{z}/{x}/{y}.png".format(**TMS.tile(LON, LAT, 15)._asdict())


def some_tile(base, **kw) -> httpx.Response:
    return httpx.get(base + TILE, timeout=30, **kw)


PATHS = ["/", "/api/run", TILE, "/api/vector/sites", "/static/map.js", "/files/kpis.json", "/no/such/page"]


def test_all_interfaces_print_a_generated_token_and_refuse_requests_without_it(open_server):
    base, token = open_server
    assert token is not None and len(token) >= 40                   # secrets.token_urlsafe(32): 43 characters
    with httpx.Client(timeout=30) as c:                              # no cookies carried between requests
        for path in PATHS:
            r = c.get(base + path)
            assert r.status_code == 401, (path, r.status_code)
            assert r.headers["www-authenticate"] == "Bearer"
            assert "access token" in r.json()["detail"]
        wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
        assert c.get(base + "/api/run", params={"token": wrong}).status_code == 401
        assert c.get(base + "/api/run", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
        assert c.get(base + "/api/run", headers={"Authorization": f"Basic {token}"}).status_code == 401
        assert c.get(base + "/api/run", params={"token": ""}).status_code == 401
        assert c.get(base + "/api/run", params={"token": "é" * 43}).status_code == 401   # non-ASCII: no 500
        assert c.get(base + "/api/run", headers={"Cookie": f"{TOKEN_COOKIE}_{urlsplit(base).port}={wrong}"}
                     ).status_code == 401
        assert "set-cookie" not in c.get(base + "/api/run", params={"token": wrong}).headers


def test_the_token_opens_every_path_as_query_bearer_or_cookie(open_server):
    base, token = open_server
    port = urlsplit(base).port
    with httpx.Client(timeout=30) as c:
        r = c.get(base + "/", params={"token": token})
        assert r.status_code == 200 and "<title>cellscape map</title>" in r.text
        cookie = r.headers["set-cookie"]
        assert cookie.startswith(f"{TOKEN_COOKIE}_{port}={token};")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        for path in PATHS[1:-1]:
            r = c.get(base + path, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, (path, r.status_code, r.text[:200])
            assert "set-cookie" not in r.headers                     # only the query sets the cookie
        # the API's own query parameters and the token side by side: past the token, the API checks them
        r = c.get(base + "/api/linkbudget", params={"lon": LON, "lat": 99.0, "token": token})
        assert r.status_code == 422 and "lat" in r.text
        assert c.get(base + "/no/such/page", headers={"Authorization": f"Bearer {token}"}).status_code == 404
        assert some_tile(base, params={"token": token}).headers["content-type"] == "image/png"
    # the cookie alone, as the page's own requests carry it
    with httpx.Client(timeout=30, cookies={f"{TOKEN_COOKIE}_{port}": token}) as c:
        assert c.get(base + "/api/run").json()["name"] == "helsinki-3500"
        assert c.get(base + "/static/map.js").status_code == 200
    # a cookie of the same name for another port (another server on this machine) does not open this one
    assert httpx.get(base + "/api/run", headers={"Cookie": f"{TOKEN_COOKIE}_{port + 1}={token}"},
                     timeout=30).status_code == 401


def test_loopback_needs_no_token(live_server):
    r = httpx.get(live_server + "/api/run", timeout=30)
    assert r.status_code == 200 and "set-cookie" not in r.headers
    assert some_tile(live_server).headers["content-type"] == "image/png"


def test_a_weak_token_is_refused_in_one_line(run_dir):
    cli = typer.Typer()
    cli.command()(serve)
    for bad, why in (("short", "at least 16 characters"), ("a token with spaces in it", "URL- and cookie-safe")):
        r = CliRunner().invoke(cli, [str(run_dir), "--port", "0", "--token", bad])
        assert r.exit_code == 1, r.output
        assert r.stderr.startswith("error: ") and why in r.stderr and len(r.stderr.strip().splitlines()) == 1
    with pytest.raises(TokenError, match="at least 16"):
        create_app(run_dir, token="x" * 15)


def test_the_app_checks_the_token_before_anything_else(run_dir):
    """In process: a token-guarded app answers 401 even to a wrong Host, and the cookie names the port."""
    app = create_app(run_dir, token=GOOD)
    c = TestClient(app, base_url="http://127.0.0.1:8123")
    assert c.get("/api/run").status_code == 401
    r = c.get("/api/run", params={"token": GOOD})
    assert r.status_code == 200 and r.headers["set-cookie"].startswith(f"{TOKEN_COOKIE}_8123={GOOD};")
    assert c.get("/api/run").status_code == 200                      # TestClient keeps the cookie
    fresh = TestClient(app, base_url="http://127.0.0.1:8123")
    # another local app's odd cookie beside ours (http.cookies would give up on the whole header)
    odd = {"Cookie": f'other app={{"x": 1}}; {TOKEN_COOKIE}_8123={GOOD}; last=1'}
    assert fresh.get("/api/run", headers=odd).status_code == 200
    assert fresh.get("/api/run", headers={"Cookie": f"{TOKEN_COOKIE}_8123={GOOD[:-1]}"}).status_code == 401
    assert TestClient(app, base_url="http://evil.example").get("/api/run").status_code == 401
    assert TestClient(app, base_url="http://evil.example").get(
        "/api/run", headers={"Authorization": f"Bearer {GOOD}"}).status_code == 400   # then the Host check


@pytest.mark.parametrize("signum", [signal.SIGTERM, pytest.param(signal.SIGINT, marks=pytest.mark.slow)])
def test_a_token_in_the_environment_guards_loopback_and_a_signal_stops_the_server_quietly(run_dir, signum):
    """`cellscape serve` through the executable's entry point (cellscape.cli.app:main, with its
    SIGTERM handling) and CELLSCAPE_SERVE_TOKEN set: loopback needs the token, which is not printed;
    stopping the server is no error ('stopped', exit status 0)."""
    proc = subprocess.Popen([sys.executable, "-c", "from cellscape.cli.app import main; main()", "serve",
                             str(run_dir), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, TOKEN_ENV: GOOD})
    try:
        line = proc.stdout.readline()
        assert line.startswith("serving "), line + proc.stderr.read()
        url = line.split(" at ", 1)[1].split()[0]
        assert urlsplit(url).hostname == "127.0.0.1" and "token" not in url and TOKEN_ENV in line
        assert GOOD not in line
        assert httpx.get(url + "api/run", timeout=30).status_code == 401
        assert httpx.get(url + "api/run", headers={"Authorization": f"Bearer {GOOD}"}, timeout=30).status_code == 200
        assert httpx.get(url + "api/run", params={"token": GOOD}, timeout=30).status_code == 200
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0 and err.strip() == "stopped", (proc.returncode, err)


CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.access(p, os.X_OK)), None)
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason="needs Debian's chromium and chromium-driver")
def test_the_page_opened_from_the_printed_address_draws_its_tiles(open_server):
    """The browser opens http://HOST:PORT/?token=...; the page's scripts, run metadata, tiles and
    vectors reach the server with the cookie, and the coverage layer draws."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    from .test_browser import BACKGROUND_RGB, WAIT_S, canvas_pixels, wait_tiles

    base, token = open_server
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1024,768",
                "--use-angle=swiftshader", "--use-gl=angle", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    try:
        d.set_page_load_timeout(WAIT_S)
        d.get(f"{base}/?token={token}")
        wait_tiles(d)
        assert d.find_element(By.ID, "title").text == "helsinki-3500"
        assert "error" not in d.find_element(By.ID, "status").get_attribute("class")
        import numpy as np

        px = canvas_pixels(d)
        assert np.any(np.abs(px - np.array(BACKGROUND_RGB)) > 6, axis=2).mean() > 0.3, "the map is (nearly) empty"
        severe = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
        assert not severe, severe                                   # no 401 on any of the page's requests
        assert d.execute_script("return document.cookie;") == ""    # HttpOnly: no script can read it
        # a fresh browser session without the token gets 401 on the page itself
        d.delete_all_cookies()
        d.get(f"{base}/api/run")
        assert "access token" in d.find_element(By.TAG_NAME, "body").text
    finally:
        d.quit()
