"""`dalygate serve --simulate` as a process: a simulated day, and state that survives kill -9."""
import json
import os
import signal
import sqlite3
import subprocess
import threading

import pytest
from conftest import wait_for as shared_wait_for


def start(dalygate, state_dir, *args):
    # Port 0: the kernel picks a free port, so parallel runs and a running `make run` never collide.
    return subprocess.Popen([str(dalygate), "serve", "--simulate", "--state-dir", str(state_dir), "--http", "127.0.0.1:0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


class Output:
    """A process's output, read line by line in the background so that a test can wait on a line."""

    def __init__(self, process):
        self.lines = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process):
        for line in process.stdout:
            with self.lock:
                self.lines.append(line)

    def text(self):
        with self.lock:
            return "".join(self.lines)

    def wait_for(self, fragment, seconds=30):
        return wait_for(lambda: fragment in self.text(), seconds)


def wait_for(condition, seconds=30):
    return shared_wait_for(condition, seconds)

def saved_state(state_dir):
    """The controller state the gateway saved last, or None while there is none (no file or table yet)."""
    if not (state_dir / "dalygate.sqlite").exists():
        return None
    try:
        with sqlite3.connect(f"file:{state_dir / 'dalygate.sqlite'}?mode=ro", uri=True) as db:
            row = db.execute("SELECT json FROM state WHERE id = 1").fetchone()
    except sqlite3.OperationalError:
        return None
    return json.loads(row[0]) if row else None


def relay_events(state_dir):
    with sqlite3.connect(state_dir / "dalygate.sqlite") as db:
        rows = db.execute("SELECT payload FROM events WHERE kind = 'relay' ORDER BY id").fetchall()
    return [json.loads(payload) for (payload,) in rows]


def test_a_simulated_day_in_a_minute_switches_both_relays(dalygate, tmp_path):
    process = start(dalygate, tmp_path, "--speed", "1440")
    try:
        sequence = []

        def switched_off():
            nonlocal sequence
            if (tmp_path / "dalygate.sqlite").exists():  # never create it before the gateway does
                try:
                    sequence = [(e["output"], e["on"]) for e in relay_events(tmp_path)]
                except sqlite3.OperationalError:
                    pass  # no table yet
            return ("load", False) in sequence
        wait_for(switched_off, seconds=75)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert sequence[:4] == [("balancer", True), ("load", True), ("balancer", False), ("load", False)], output
    reasons = {(e["output"], e["on"]): e["reason"] for e in relay_events(tmp_path)}
    assert reasons[("load", True)].startswith("cell over-voltage alarm level")
    assert reasons[("load", False)].startswith("pack empty: 12.")
    # Each change appears once in the log, which records what the event bus carried.
    assert output.count('"output":"load","reason":"cell over-voltage') == 1


def test_state_survives_kill_9(dalygate, tmp_path):
    process = start(dalygate, tmp_path, "--speed", "600")
    try:
        # Energy counted and both relay targets and a mode set, all saved, before the kill.
        assert wait_for(lambda: (s := saved_state(tmp_path)) and s["energy"]["ws"] > 1000, seconds=30)
    finally:
        process.kill()
        process.communicate(timeout=10)
    before = saved_state(tmp_path)
    restarted = start(dalygate, tmp_path, "--speed", "1")
    output = Output(restarted)
    try:
        assert output.wait_for("restored energy counter, learned capacity and relay targets"), output.text()
        # The restarted gateway has saved its own state at least once (its first save comes after the restore).
        assert wait_for(lambda: saved_state(tmp_path) != before, seconds=30)
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=20)
    after = saved_state(tmp_path)
    assert after["energy"]["maxWs"] == pytest.approx(before["energy"]["maxWs"], rel=1e-6)
    # A few seconds of real time at 1x move the counter by a few W·s at most: it continued, it did not restart.
    assert abs(after["energy"]["ws"] - before["energy"]["ws"]) < 200
    assert after["energy"]["chargedWh"] >= before["energy"]["chargedWh"]
    pairs = lambda flat: dict(zip(flat[::2], flat[1::2]))  # Swift encodes an enum-keyed dictionary as [key, value, ...]
    assert pairs(after["relays"]) == pairs(before["relays"]) and pairs(after["modes"]) == pairs(before["modes"])


def test_corrupt_state_is_a_clear_error(dalygate, tmp_path):
    (tmp_path / "dalygate.sqlite").write_bytes(b"\x42" * 8192)
    result = subprocess.run([str(dalygate), "serve", "--simulate", "--state-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "is corrupt" in result.stderr and "move it away" in result.stderr


def test_bad_config_names_the_key(dalygate, tmp_path):
    config = tmp_path / "dalygate.yaml"
    config.write_text("automation:\n  balancer_on_cel_mv: 3400\n")
    result = subprocess.run([str(dalygate), "serve", "--simulate", "--config", str(config)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "config key 'automation.balancer_on_cel_mv': unknown key" in result.stderr


def test_systemd_ready_and_watchdog(dalygate, tmp_path):
    import socket as sockets
    path = tmp_path / "notify.sock"
    listener = sockets.socket(sockets.AF_UNIX, sockets.SOCK_DGRAM)
    listener.bind(str(path))
    listener.settimeout(20)
    env = dict(os.environ, NOTIFY_SOCKET=str(path), WATCHDOG_USEC="2000000")
    process = subprocess.Popen([str(dalygate), "serve", "--simulate", "--state-dir", str(tmp_path / "state"),
                                "--http", "127.0.0.1:0"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        messages = [listener.recv(256).decode() for _ in range(3)]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert messages[0] == "READY=1"
    assert messages[1:] == ["WATCHDOG=1", "WATCHDOG=1"]
    listener.settimeout(2)
    rest = []
    try:
        while True:
            rest.append(listener.recv(256).decode())
    except TimeoutError:
        pass
    assert rest[-1] == "STOPPING=1"
