"""The map page in a real browser: headless Chromium (Debian's chromium + chromium-driver) driven by
Selenium, WebGL through SwiftShader. Loads the page of the Helsinki run, checks the coverage layer
drew, that toggling it changes the picture, and that a click renders a link budget.

Selenium Manager never downloads anything here: the driver and the browser are given by path.
"""

from __future__ import annotations

import io
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
