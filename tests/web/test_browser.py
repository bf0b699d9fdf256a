"""The map page in a real browser: headless Chromium (Debian's chromium + chromium-driver) driven by
Selenium, WebGL through SwiftShader. Loads the page of the Helsinki run, checks the coverage layer
drew, that toggling it changes the picture, and that a click renders a link budget; loads the page of
a tiny simulation, checks every user and event is drawn, the users in their colours, and that a click
on a user or an event opens its popup.

Selenium Manager never downloads anything here: the driver and the browser are given by path.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
import shutil

import numpy as np
import pytest

CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.access(p, os.X_OK)), None)
CHROMEDRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.access("/usr/bin/chromedriver", os.X_OK)
                                                else None)

pytestmark = pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                                reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, "
                                       "/usr/bin/chromedriver): apt-get install -y chromium chromium-driver")

WAIT_S = 60
BACKGROUND_RGB = (0xEC, 0xEB, 0xE6)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--use-angle=swiftshader", "--use-gl=angle", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(WAIT_S)
    yield driver
    driver.quit()


def canvas_pixels(driver) -> np.ndarray:
    from PIL import Image
    from selenium.webdriver.common.by import By

    shot = driver.find_element(By.CSS_SELECTOR, "#map canvas").screenshot_as_png
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(int)


def wait_tiles(driver):
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT_S).until(lambda d: d.execute_script(
        "const m = window.cellscape && window.cellscape.map;"
        "return !!(m && window.cellscape.ready && m.loaded() && m.areTilesLoaded());"))
    driver.execute_script("window.cellscape.map.triggerRepaint();")
    WebDriverWait(driver, WAIT_S).until(lambda d: d.execute_script(
        "const m = window.cellscape.map; return m.loaded() && m.areTilesLoaded();"))


def test_the_map_draws_the_coverage_and_a_click_shows_a_link_budget(browser, live_server, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    d = browser
    d.get(live_server + "/")
    wait_tiles(d)
    assert d.find_element(By.ID, "title").text == "helsinki-3500"
    assert "error" not in d.find_element(By.ID, "status").get_attribute("class")

    with_raster = canvas_pixels(d)
    h, w, _ = with_raster.shape
    not_background = np.any(np.abs(with_raster - np.array(BACKGROUND_RGB)) > 6, axis=2)
    colours = len(np.unique(with_raster.reshape(-1, 3), axis=0))
    # the RSRP layer off: what remains is buildings and sites on the background
    d.find_element(By.ID, "toggle-rsrp_dbm").click()
    wait_tiles(d)
    without = canvas_pixels(d)
    changed = np.any(np.abs(with_raster - without) > 10, axis=2)
    d.find_element(By.ID, "toggle-rsrp_dbm").click()
    wait_tiles(d)

    evidence = Path(os.environ.get("CELLSCAPE_SCREENSHOT_DIR", tmp_path))
    evidence.mkdir(parents=True, exist_ok=True)
    d.save_screenshot(str(evidence / "web_map.png"))
    print(f"\ncanvas {w}x{h}: {not_background.sum()} non-background pixels ({100 * not_background.mean():.1f} %), "
          f"{colours} distinct colours, {changed.sum()} pixels changed by the RSRP layer "
          f"({100 * changed.mean():.1f} %); screenshot {evidence / 'web_map.png'}")
    assert not_background.mean() > 0.3, "the map canvas is (nearly) empty"
    assert colours > 100, "the map canvas is (nearly) uniform"
    assert changed.mean() > 0.2, "the RSRP layer did not draw"

    # legend with units
    legend = d.find_element(By.ID, "legend").text
    assert "RSRP [dBm]" in legend and "-130" in legend and "-60" in legend

    # click the middle of the map: the link budget table appears in the page
    canvas = d.find_element(By.CSS_SELECTOR, "#map canvas")
    ActionChains(d).move_to_element(canvas).click().perform()
    WebDriverWait(d, WAIT_S).until(
        lambda drv: drv.find_element(By.ID, "linkbudget").get_attribute("data-state") in ("done", "error"))
    box = d.find_element(By.ID, "linkbudget")
    assert box.get_attribute("data-state") == "done", box.text
    rows = d.find_elements(By.CSS_SELECTOR, "#linkbudget-sectors tr")
    assert len(rows) == 1 + 5                              # header + the 5 strongest sectors
    lb = d.execute_script("return window.cellscape.linkBudget;")
    assert lb["serving_sector"] in box.text and f"{lb['sinr_db']:.1f}" in box.text
    assert "SINR [dB]" in box.text and "throughput [Mbit/s]" in box.text and ("LOS" in box.text)
    print(f"link budget at the click: serving {lb['serving_sector']}, RSRP {lb['rsrp_dbm']:.1f} dBm, "
          f"SINR {lb['sinr_db']:.1f} dB, {lb['throughput_mbps']:.1f} Mbit/s")

    # every request the page made went to this server
    urls = d.execute_script("return performance.getEntriesByType('resource').map(e => e.name);")
    assert urls and all(u.startswith(live_server) for u in urls), [u for u in urls if not u.startswith(live_server)]
    severe = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe


def click_at(driver, x, y):
    """Click the map canvas at (x, y) CSS pixels from its top-left corner."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    canvas = driver.find_element(By.CSS_SELECTOR, "#map canvas")
    w, h = canvas.size["width"], canvas.size["height"]
    dx, dy = int(round(x - w / 2)), int(round(y - h / 2))          # Selenium 4: offsets from the centre
    ActionChains(driver).move_to_element_with_offset(canvas, dx, dy).click().perform()


def test_the_simulation_map_draws_users_and_events_with_popups(browser, sim_server, sim_dir, tmp_path):
    """A `cellscape simulate` folder: every user drawn where it is, in its throughput colour, events as
    symbols, legends with units, a popup on a user and on an event."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    d = browser
    d.get(sim_server + "/")
    wait_tiles(d)
    assert d.find_element(By.ID, "title").text == "tiny-sim"
    assert "error" not in d.find_element(By.ID, "status").get_attribute("class")
    users = {f["properties"]["ue_id"]: f for f in json.loads((sim_dir / "users.geojson").read_text())["features"]}
    events = json.loads((sim_dir / "events.geojson").read_text())["features"]

    drawn = d.execute_script("return window.cellscape.map.queryRenderedFeatures({layers: ['users-circle']})"
                             ".map(f => f.properties.ue_id);")
    assert sorted(drawn) == sorted(users)                               # every user, once
    for kind in ("handover", "ping_pong", "rlf"):
        n = d.execute_script("return window.cellscape.map.queryRenderedFeatures({layers: [arguments[0]]}).length;",
                             f"events-{kind}")
        assert n == sum(f["properties"]["kind"] == kind for f in events), kind

    # the pixels under the users are the users' colours: toggling the layer off changes them
    xy = np.array(d.execute_script(
        "const m = window.cellscape.map; return arguments[0].map(c => { const p = m.project(c); return [p.x, p.y]; });",
        [users[k]["geometry"]["coordinates"] for k in sorted(users)]))
    with_users = canvas_pixels(d)
    d.find_element(By.ID, "toggle-users").click()
    wait_tiles(d)
    without = canvas_pixels(d)
    d.find_element(By.ID, "toggle-users").click()
    wait_tiles(d)
    h, w, _ = with_users.shape
    cols, rows = np.clip(np.round(xy[:, 0]).astype(int), 0, w - 1), np.clip(np.round(xy[:, 1]).astype(int), 0, h - 1)
    changed = np.any(np.abs(with_users[rows, cols] - without[rows, cols]) > 10, axis=1)
    assert changed.mean() >= 0.7, f"only {changed.sum()} of {len(changed)} users drawn (others under event symbols?)"
    assert len(np.unique(with_users[rows, cols][changed], axis=0)) > 3, "the users are not coloured by throughput"

    legend = d.find_element(By.ID, "legend").text
    scale = d.execute_script("return window.cellscape.meta.vectors.find(v => v.name === 'users')"
                             ".legend.properties.dl_throughput_mbps;")
    assert "Users: downlink throughput [Mbit/s]" in legend and "logarithmic" in legend
    assert "0.1" in legend and f"{scale['vmax']:.0f}" in legend
    counts = {f["properties"]["kind"]: 0 for f in events}
    for f in events:
        counts[f["properties"]["kind"]] += 1
    for kind, label in (("handover", "handover"), ("ping_pong", "ping-pong handover"), ("rlf", "radio-link failure")):
        assert f"{label}: {counts[kind]}" in legend

    evidence = Path(os.environ.get("CELLSCAPE_SCREENSHOT_DIR", tmp_path))
    evidence.mkdir(parents=True, exist_ok=True)
    d.save_screenshot(str(evidence / "web_map_simulation.png"))
    print(f"\n{int(changed.sum())} of {len(users)} users changed colour with their layer; "
          f"screenshot {evidence / 'web_map_simulation.png'}")

    # a click on a user with no event symbol near it opens its popup
    ev_xy = np.array(d.execute_script(
        "const m = window.cellscape.map; return arguments[0].map(c => { const p = m.project(c); return [p.x, p.y]; });",
        [f["geometry"]["coordinates"] for f in events]))
    gap = np.min(np.hypot(xy[:, None, 0] - ev_xy[None, :, 0], xy[:, None, 1] - ev_xy[None, :, 1]), axis=1)
    k = int(np.argmax(gap))
    ue = users[sorted(users)[k]]["properties"]
    click_at(d, *xy[k])
    WebDriverWait(d, WAIT_S).until(lambda drv: drv.find_elements(By.ID, "feature-popup"))
    popup = d.find_element(By.CSS_SELECTOR, ".maplibregl-popup").text
    assert f"user {ue['ue_id']}" in popup and f"{ue['dl_throughput_mbps']:.2f}" in popup
    assert "DL throughput [Mbit/s]" in popup and ue["serving_sector_id"] in popup and ue["group"] in popup
    assert d.execute_script("return window.cellscape.popup.properties.ue_id;") == ue["ue_id"]
    assert d.find_element(By.ID, "linkbudget").get_attribute("data-state") is None     # no link budget asked

    # a click on the event symbol farthest from symbols of other kinds: that event's popup
    kinds = np.array([f["properties"]["kind"] for f in events])
    dist = np.hypot(ev_xy[:, None, 0] - ev_xy[None, :, 0], ev_xy[:, None, 1] - ev_xy[None, :, 1])
    dist[kinds[:, None] == kinds[None, :]] = np.inf
    j = int(np.argmax(dist.min(axis=1)))
    click_at(d, *ev_xy[j])
    WebDriverWait(d, WAIT_S).until(lambda drv: drv.execute_script(
        "return window.cellscape.popup && window.cellscape.popup.layer.startsWith('events-');"))
    popup = d.find_element(By.CSS_SELECTOR, ".maplibregl-popup").text
    got = d.execute_script("return window.cellscape.popup.properties;")
    assert got["kind"] == kinds[j]
    assert {"time_s": got["time_s"], "user": got["user"]} in [
        {"time_s": f["properties"]["time_s"], "user": f["properties"]["user"]} for f in events if
        f["properties"]["kind"] == kinds[j]]
    label = {"handover": "handover", "ping_pong": "ping-pong handover", "rlf": "radio-link failure"}[kinds[j]]
    assert popup.splitlines()[0].startswith(label) and "time [s]" in popup and got["to_sector"] in popup

    urls = d.execute_script("return performance.getEntriesByType('resource').map(e => e.name);")
    assert urls and all(u.startswith(sim_server) for u in urls), [u for u in urls if not u.startswith(sim_server)]
    severe = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe
