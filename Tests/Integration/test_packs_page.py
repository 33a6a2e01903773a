"""The status page with three simulated packs in headless Chromium: a card per pack, a dead pack visible at a glance,
and the cell chart of the chosen pack. Screenshot under artifacts/packs-page.png."""
import json
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port, wait_until_serving
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"


@pytest.fixture
def server(dalygate, tmp_path):
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text('simulation:\n  packs: 3\n  speed: 60\n  start_hour: 11\n  cells: 8\n  device_faults: ["bms2:dead@60"]\n')
    process = subprocess.Popen([str(dalygate), "serve", "--simulate", "--config", str(config), "--state-dir", str(tmp_path),
                                "--http", f"127.0.0.1:{port}"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    assert wait_until_serving(base)
    yield base
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def state(base):
    with urllib.request.urlopen(base + "/api/v1/state", timeout=5) as response:
        return json.load(response)


def test_a_card_per_pack_and_the_dead_one_stands_out(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    browser.set_window_size(1280, 1400)
    browser.get(server + "/")
    wait = WebDriverWait(browser, 30)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#packs .pack-card")) == 3)
    # Pack 2 dies after a minute of simulated time: its card turns red and says so; the others stay green.
    # Waited for as one picture: on a loaded machine a live pack may miss a poll now and then, and its card shows it.
    def only_pack2_offline(d):
        cards = d.find_elements(By.CSS_SELECTOR, "#packs .pack-card")
        return (len(cards) == 3 and "offline" in cards[1].get_attribute("class")
                and all("online" in c.text and "offline" not in c.get_attribute("class") for c in (cards[0], cards[2]))
                and "2 of 3 packs online" in d.find_element(By.ID, "packs-summary").text)
    wait.until(only_pack2_offline)
    cards = browser.find_elements(By.CSS_SELECTOR, "#packs .pack-card")
    assert [c.get_attribute("data-pack") for c in cards] == ["pack1", "pack2", "pack3"]
    assert "OFFLINE" in cards[1].text and "Pack 2" in cards[1].text
    assert "Pack 2" in browser.find_element(By.ID, "packs-summary").text
    for card in cards:
        assert "%" in card.text and " V · " in card.text and "spread" in card.text
    # The chart shows one pack's 8 cells (the bank has 24), the first pack until another is chosen.
    assert len(browser.find_elements(By.CSS_SELECTOR, "#cells rect.bar")) == 8
    assert browser.find_element(By.ID, "cells-title").text == "Cells · Pack 1"
    cards[2].click()
    wait.until(lambda d: d.find_element(By.ID, "cells-title").text == "Cells · Pack 3")
    assert cards[2].get_attribute("aria-pressed") == "true" and cards[0].get_attribute("aria-pressed") == "false"
    pack3 = state(server)["packs"][2]["reading"]["cells"]
    wait.until(lambda d: f"spread" in d.find_element(By.ID, "cell-stats").text)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#cells rect.bar")) == pack3["count"] == 8
    browser.save_screenshot(str(ARTIFACTS / "packs-page.png"))
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]]
    assert not errors, errors
