"""The status page in a real headless Chromium against `serve --simulate`: values, a control, the offline banner,
no console errors, and screenshots at phone and desktop widths (saved under artifacts/)."""
import json
import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port, wait_until_serving
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
TOKEN = "page-token"



@pytest.fixture
def server(dalygate, tmp_path):
    port = free_port()
    process = subprocess.Popen([str(dalygate), "serve", "--simulate", "--speed", "120", "--state-dir", str(tmp_path),
                                "--http", f"127.0.0.1:{port}"], cwd=ROOT, env=dict(os.environ, DALYGATE_TOKEN=TOKEN),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    assert wait_until_serving(base)
    yield base, process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def state(base):
    with urllib.request.urlopen(base + "/api/v1/state", timeout=5) as response:
        return json.load(response)


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text


def test_page_shows_the_battery_and_controls_work(server, browser):
    base, process = server
    ARTIFACTS.mkdir(exist_ok=True)
    browser.set_window_size(1280, 1900)
    browser.get(base + "/")
    browser.execute_script(f"localStorage.setItem('dalygate-token', '{TOKEN}')")
    wait = WebDriverWait(browser, 20)
    wait.until(lambda d: "online" in text(d, "bms-status"))

    # Shown values match /api/v1/state (the cell count and the BMS voltage change slowly enough to compare).
    current = state(base)
    assert text(browser, "pack-voltage") in {f"{v:.1f} V" for v in (current["bms"]["pack"]["voltage_v"] - 0.1,
                                                                       current["bms"]["pack"]["voltage_v"],
                                                                       current["bms"]["pack"]["voltage_v"] + 0.1)}
    bars = browser.find_elements(By.CSS_SELECTOR, "#cells rect.bar")
    assert len(bars) == current["bms"]["cells"]["count"] == 4
    assert browser.find_elements(By.CSS_SELECTOR, "#cells line.threshold-on")
    assert "spread" in text(browser, "cell-stats")
    assert text(browser, "calc-soc").endswith("%")
    outputs = browser.find_elements(By.CSS_SELECTOR, "#outputs .output")
    assert [o.get_attribute("data-output") for o in outputs] == ["load", "balancer", "charge_mos", "discharge_mos"]

    # Set the balancer's mode to off through the UI: confirm, see the result, see it in the API.
    select = Select(browser.find_element(By.CSS_SELECTOR, '[data-output="balancer"] select'))
    select.select_by_value("off")
    wait.until(expected_conditions.alert_is_present()).accept()
    wait.until(lambda d: text(d, "control-result").startswith("Done"))
    assert "mode off" in text(browser, "control-result")
    assert state(base)["outputs"]["balancer"]["mode"] == "off"
    assert browser.find_element(By.CSS_SELECTOR, '[data-output="balancer"] .state').text == "OFF"

    # A refused control shows the API's reason.
    browser.find_element(By.CSS_SELECTOR, '[data-output="balancer"] [data-action="on"]').click()
    wait.until(expected_conditions.alert_is_present()).accept()
    wait.until(lambda d: text(d, "control-result").startswith("Refused (409)"))

    # Every history chart drawn (Chart.js has an instance on each canvas) before the screenshot.
    charts = ["chart-voltage", "chart-current", "chart-soc", "chart-power", "chart-spread"]
    wait.until(lambda d: d.execute_script("return arguments[0].every((id) => window.Chart && Chart.getChart(id)"
                                          " && Chart.getChart(id).data.labels.length > 0)", charts))
    browser.save_screenshot(str(ARTIFACTS / "status-desktop.png"))
    browser.set_window_size(390, 3300)
    # The layout (and Chart.js's resize observer) follows the new width; wait for it, with a deadline.
    try:
        WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.documentElement.scrollWidth") <= 390
                                         and all(d.execute_script("return Chart.getChart(arguments[0]).width", c) <= 390 for c in charts))
    except Exception:
        pass
    browser.save_screenshot(str(ARTIFACTS / "status-phone.png"))
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide at phone width"

    # No script errors; the only failed request is the refusal provoked above.
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"
              and not (entry["source"] == "network" and "409 (Conflict)" in entry["message"])]
    assert errors == []

    # Stop the gateway: the offline banner appears.
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)
    wait.until(lambda d: d.find_element(By.ID, "offline-banner").is_displayed())
    browser.save_screenshot(str(ARTIFACTS / "status-offline.png"))
