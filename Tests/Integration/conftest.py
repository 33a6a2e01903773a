"""Shared fixtures: the built dalygate binary and simulated BMS processes on temporary pty links."""
import os
import signal
import socket
import subprocess
import time
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
