"""Shared fixtures: the built dalygate binary and simulated BMS processes on temporary pty links."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DALYGATE = Path(os.environ.get("DALYGATE", ROOT / ".build" / "debug" / "dalygate"))


@pytest.fixture(scope="session")
def dalygate() -> Path:
    assert DALYGATE.exists(), f"build first: {DALYGATE} is missing"
    return DALYGATE


class SimBMS:
    """`dalygate sim-bms` running in the background, linked at `link`."""

    def __init__(self, binary: Path, link: Path, *args: str):
        self.link = link
        self.process = subprocess.Popen(
            [str(binary), "sim-bms", "--link", str(link), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 10
        while not link.is_symlink():
            if self.process.poll() is not None:
                raise RuntimeError(f"sim-bms exited: {self.process.stderr.read()}")
            if time.monotonic() > deadline:
                raise RuntimeError("sim-bms did not create its link")
            time.sleep(0.02)

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=10)
        return out


@pytest.fixture
def sim_bms(dalygate, tmp_path):
    started = []

    def start(*args: str, name: str = "bms.tty") -> SimBMS:
        sim = SimBMS(dalygate, tmp_path / name, *args)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        if sim.process.poll() is None:
            sim.stop()


def free_port() -> int:
    """A TCP port that was free on loopback a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(base: str, seconds: float = 30) -> bool:
    """Polls GET /api/v1/state until the gateway answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/api/v1/state", timeout=1)
            return True
        except OSError:
            time.sleep(0.1)
    return False


def wait_for(condition, seconds: float = 20, ignore: tuple = ()):
    """Polls `condition` every 50 ms until it returns something true or `seconds` pass, and returns its last value
    (falsy on a timeout). Exceptions of the types in `ignore` count as "not yet" (a gateway still starting)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = condition()
        except ignore:
            value = None
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


class SimulatedGateway:
    """`dalygate serve --simulate` in `directory` (its state and its log there), with a config file written from
    `config` (YAML text) when one is given, on a free loopback port; JSON helpers for the API."""

    def __init__(self, dalygate, directory, *args, config=None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        directory.mkdir(parents=True, exist_ok=True)
        options = []
        if config is not None:
            (directory / "config.yaml").write_text(config)
            options = ["--config", str(directory / "config.yaml")]
        self.log_path = directory / "gateway.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [str(dalygate), "serve", "--simulate", *options, "--state-dir", str(directory / "state"), "--http",
             f"127.0.0.1:{self.port}", *args], cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        assert wait_until_serving(self.base), self.output()

    def output(self):
        self.log.flush()
        return self.log_path.read_text()

    def get(self, path):
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def state(self):
        return self.get("/api/v1/state")[1]

    def put(self, path, body):
        """(status, Content-Type, JSON body) of a PUT with a JSON body."""
        request = urllib.request.Request(self.base + path, data=json.dumps(body).encode(), method="PUT",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, response.headers.get("Content-Type"), json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Content-Type"), json.load(error)

    def events(self, kind):
        return [e["data"] for e in self.get(f"/api/v1/events/log?kind={kind}&limit=1000")[1]["events"]][::-1]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
        self.log.close()


@pytest.fixture
def browser():
    """Headless Chromium driven by Debian's chromedriver, with the page's console kept for the checks."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()
