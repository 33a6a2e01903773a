"""Soak: `serve --simulate` at high speed with random BMS faults, broker restarts, SSE clients coming and going,
hostile HTTP bodies, and kill -9 with restart. SOAK_SECONDS long (180 in `make test`, 1800 in `make soak`).

Fails when something breaks:
- any failed request (an HTTP error status, a refused connection, a timeout) unless it went to a gateway we had
  just killed; hostile writes must get a 4xx problem, never a 5xx other than 503 (device unavailable);
- after each broker restart, the gateway's fresh state must arrive at the new broker and a command sent over MQTT
  must be obeyed;
- every SSE client is read for its whole life and must see consecutive event ids, at least one event, and no end of
  stream it did not cause (other than our kill -9);
- after each kill -9, the saved energy counter, relay targets and modes match the live ones of the moment of the
  kill within one state write interval, and the restarted gateway starts from exactly what was saved;
- after a warm-up, the descriptor count is flat (measured with the SSE churn paused) and RSS grows by at most
  RSS_GROWTH_KIB during the last gateway's life, which is the last two thirds of the soak (this one is its own test,
  test_soak_rss_growth_is_bounded, from the figures test_soak measured);
- no snapshot ever shows values a rejected frame could have produced; automatic relay changes never chatter.
"""
import json
import os
import random
import re
import selectors
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port, wait_until_serving
from conftest import wait_for as shared_wait_for
from test_mqtt import Broker, Subscriber

ROOT = Path(__file__).resolve().parents[2]
SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "180"))
SPEED = 200
MIN_DWELL = 120  # automation.relay_min_dwell_s for the soak
WRITE_INTERVAL = 1  # state.write_interval_s (real seconds)
TOKEN = "soak-token"
FAULTS = ["corrupt:0.05", "echo:0.02", "truncate:0.05", "stale:0.05", "late:0.02", "sleep:0.02", "drop:0.03",
          "filler:0.05", "garbage:0.2"]
# Seconds of a gateway's life before its descriptor and memory baseline (shorter in a short soak, which kills sooner).
WARM_UP = min(20, SOAK_SECONDS / 10)
# RSS growth allowed over the measured life, after the warm-up: 5 MB over the 30-minute soak (issue #15). The
# 3-minute run measures about 100 s; a leak of 10 KiB/s (one lost SSE client buffer a second, say) still fails it.
# Memory that follows the size of the history page (it grows over a simulated day, 7 minutes at SPEED) shows only
# from the 10-minute run on (JSONEncoder's page: +5.9 MiB there); test_history_memory.py checks that one directly.
RSS_GROWTH_KIB = int(os.environ.get("SOAK_RSS_GROWTH_KIB", "5120" if SOAK_SECONDS >= 1200 else "2048"))
FD_SLACK = 2  # the MQTT socket may be between a close and its reconnect when counted


# The attacks of the security issue (#12), sent during the whole soak: each must get its refusal, never a crash, a
# 5xx or a change. The writes carry the soak's token, so only the refusal under test can stop them.
JSON = {"Content-Type": "application/json"}
SECURITY_ATTACKS = [
    {"path": "/api/v1/events", "headers": {"Last-Event-ID": "18446744073709551615"}, "allowed": (400,)},
    {"path": "/api/v1/events", "headers": {"Last-Event-ID": "-1"}, "allowed": (400,)},
    {"path": "/api/v1/energy/reset", "method": "POST", "body": b"",
     "headers": {"Content-Type": "application/x-www-form-urlencoded"}, "allowed": (415,)},
    {"path": "/api/v1/relays/balancer", "method": "PUT", "body": b'{"mode": "off"}',
     "headers": {**JSON, "Origin": "https://evil.example"}, "allowed": (403,)},
    {"path": "/api/v1/relays/load", "method": "PUT", "body": b'{"mode": "on"}',
     "headers": {**JSON, "Sec-Fetch-Site": "cross-site"}, "allowed": (403,)},
    {"path": "/api/v1/history?from=nan", "allowed": (400,)},
    {"path": "/api/v1/history?step=1e400", "allowed": (400,)},
    {"path": "/api/v1/events/log?limit=99999999999999999999", "allowed": (400,)},
    {"path": "/api/v1/relays/load", "method": 'X",route="y', "allowed": (405, 501)},
]


class Gateway:
    def __init__(self, dalygate, directory, broker_port):
        self.http = free_port()
        self.base = f"http://127.0.0.1:{self.http}"
        self.state_dir = directory / "state"
        config = directory / "soak.yaml"
        config.write_text(f"automation:\n  relay_min_dwell_s: {MIN_DWELL}\nstate:\n  write_interval_s: {WRITE_INTERVAL}\n"
                          "simulation:\n  bms_faults: [" + ", ".join(f'"{f}"' for f in FAULTS) + "]\n"
                          f"mqtt:\n  url: mqtt://127.0.0.1:{broker_port}\n")
        self.killed = False
        self.process = subprocess.Popen([str(dalygate), "serve", "--simulate", "--speed", str(SPEED), "--config", str(config),
                                         "--state-dir", str(self.state_dir), "--http", f"127.0.0.1:{self.http}",
                                         "--log-level", "error"], cwd=ROOT, env=dict(os.environ, DALYGATE_TOKEN=TOKEN),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_until_serving(self.base), "gateway did not start"
        self.started = time.monotonic()

    def kill(self):
        self.killed = True
        self.process.kill()
        self.process.wait(timeout=10)

    def fds(self):
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def rss_kib(self):
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def saved_state(self):
        with sqlite3.connect(f"file:{self.state_dir / 'dalygate.sqlite'}?mode=ro", uri=True) as db:
            row = db.execute("SELECT json FROM state WHERE id = 1").fetchone()
        return json.loads(row[0])


def pairs(flat):
    """Swift encodes an enum-keyed dictionary as [key, value, key, value, ...]."""
    return dict(zip(flat[::2], flat[1::2]))


def fetch(base, path, method="GET", body=None, headers=None, timeout=15):
    """(status, body bytes); HTTP error statuses are returned, connection problems raise OSError."""
    request = urllib.request.Request(base + path, method=method, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_for(condition, seconds):
    return shared_wait_for(condition, seconds)

def check_snapshot(state, problems):
    bms = state.get("bms")
    if not bms or not bms.get("cells") or not bms["cells"].get("voltages_mv"):
        return
    cells = bms["cells"]["voltages_mv"]
    if len(cells) != 4 or not all(2000 <= mv <= 4000 for mv in cells):
        problems.append(f"impossible cells {cells}")
    pack = bms["pack"]["voltage_v"]
    if abs(pack - sum(cells) / 1000) > 0.2:
        problems.append(f"pack {pack} V disagrees with cells {cells}")
    # 0x90-0x93 and the 0x95 cell frames are separate replies, a few hundred ms apart: SPEED times that in simulated
    # time, over which a cell near the top of its charge rises by tens of mV. The bound catches a wrong cell or unit.
    spread = 10 + SPEED * 0.3 * 1.0
    if abs(bms["cells"]["max_mv"] - max(cells)) > spread or abs(bms["cells"]["min_mv"] - min(cells)) > spread:
        problems.append(f"min/max {bms['cells']['min_mv']}/{bms['cells']['max_mv']} disagree with cells {cells}")
    if not 0 <= bms["pack"]["soc_pct"] <= 100:
        problems.append(f"SOC {bms['pack']['soc_pct']}")


class SSEClient:
    """One raw SSE stream (HTTP/1.0, so no chunk framing), parsed event by event."""

    opened_count = 0

    def __init__(self, gateway):
        self.gateway = gateway
        # Browsers on several machines: spread over 127.0.0.2-9, so that up to 20 streams stay within the gateway's
        # 16 connections per client address (test_hostile.py tests that limit itself).
        SSEClient.opened_count += 1
        source = f"127.0.0.{2 + SSEClient.opened_count % 8}"
        self.socket = socket.create_connection(("127.0.0.1", gateway.http), timeout=5, source_address=(source, 0))
        self.socket.sendall(b"GET /api/v1/events HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        self.socket.setblocking(False)
        self.buffer = b""
        self.header_done = False
        self.last_id = None
        self.ids_seen = 0
        self.opened = time.monotonic()
        self.last_bytes = time.monotonic()

    def feed(self, data, problems):
        self.last_bytes = time.monotonic()
        self.buffer += data
        if not self.header_done:
            if b"\r\n\r\n" not in self.buffer:
                return
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            if not head.startswith(b"HTTP/1.1 200"):
                problems.append(f"SSE: {head[:80]!r}")
            self.header_done = True
        while b"\n\n" in self.buffer:
            event, self.buffer = self.buffer.split(b"\n\n", 1)
            match = re.search(rb"^id: (\d+)$", event, re.M)
            if not match:
                continue
            event_id = int(match.group(1))
            if self.last_id is not None and event_id != self.last_id + 1:
                problems.append(f"SSE client missed events: id {self.last_id} then {event_id}")
            self.last_id = event_id
            self.ids_seen += 1


MEASURED = {}  # the last gateway's (baseline, end) descriptors and RSS, for test_soak_rss_growth_is_bounded


def test_soak(dalygate, tmp_path):
    rng = random.Random(7)
    broker = Broker(tmp_path)
    gateway = Gateway(dalygate, tmp_path, broker.port)
    problems, failures = [], []
    counts = {"requests": 0, "sse_clients": 0, "sse_events": 0, "broker_restarts": 0, "kills": 0}
    stop = threading.Event()
    sse_paused = threading.Event()
    writes_paused = threading.Event()
    lock = threading.Lock()
    current = {"gateway": gateway}

    def now_gateway():
        with lock:
            return current["gateway"]

    def checked(path, method="GET", body=None, headers=None, allowed=(200,)):
        """A request to the current gateway; a failure counts unless that gateway was killed meanwhile."""
        g = now_gateway()
        try:
            status, payload = fetch(g.base, path, method, body, headers)
        except OSError as error:
            if not g.killed:
                failures.append(f"{method} {path}: {error}")
            return None, b""
        counts["requests"] += 1
        if status not in allowed and not g.killed:
            failures.append(f"{method} {path}: {status} {payload[:200]!r}")
        return status, payload

    def watcher():
        while not stop.is_set():
            status, payload = checked("/api/v1/state")
            if status == 200:
                check_snapshot(json.loads(payload), problems)
            time.sleep(0.1)

    def sse_churn():
        selector = selectors.DefaultSelector()
        while not stop.is_set():
            if sse_paused.is_set():
                time.sleep(0.05)
                continue
            g = now_gateway()
            clients = []
            try:
                for _ in range(rng.randint(1, 20)):
                    client = SSEClient(g)
                    selector.register(client.socket, selectors.EVENT_READ, client)
                    clients.append(client)
            except OSError as error:
                if not g.killed:
                    failures.append(f"SSE connect: {error}")
            counts["sse_clients"] += len(clients)
            until = time.monotonic() + rng.uniform(2, 6)
            while clients and time.monotonic() < until and not stop.is_set():
                for key, _ in selector.select(timeout=0.2):
                    client = key.data
                    try:
                        data = client.socket.recv(65536)
                    except OSError as error:
                        data, reason = b"", str(error)
                    else:
                        reason = "end of stream"
                    if data:
                        client.feed(data, problems)
                        continue
                    selector.unregister(client.socket)
                    client.socket.close()
                    clients.remove(client)
                    if not client.gateway.killed:
                        problems.append(f"SSE stream ended by the server ({reason}) after {client.ids_seen} events")
                for client in clients:
                    if time.monotonic() - client.last_bytes > 20 and not client.gateway.killed:
                        problems.append("SSE client got nothing for 20 s (not even a keep-alive)")
                        client.last_bytes = time.monotonic()
            for client in clients:
                if client.ids_seen == 0 and not client.gateway.killed and time.monotonic() - client.opened > 2:
                    problems.append("SSE client saw no event in its life")
                counts["sse_events"] += client.ids_seen
                selector.unregister(client.socket)
                client.socket.close()

    def hostile_http():
        bodies = [b"", b"{", b"null", b'{"on": 1}', b'{"mode": "sideways"}', b'{"soc_pct": 1e999}', os.urandom(64),
                  b"x" * 50_000, b'{"mode": "auto", "hold_s": -1}', b'{"on": "true"}', b"[]"]
        paths = ["/api/v1/relays/load", "/api/v1/relays/balancer", "/api/v1/bms/mosfets/charge", "/api/v1/bms/soc",
                 "/api/v1/relays/../../etc/passwd"]
        while not stop.is_set():
            if writes_paused.is_set():
                time.sleep(0.05)
                continue
            headers = {"Content-Type": rng.choice(["application/json", "text/plain"]), "Authorization": f"Bearer {TOKEN}"}
            # Every hostile body gets a problem: 400, 404, 413, 415 or 422; never a 5xx.
            checked(rng.choice(paths), "PUT", rng.choice(bodies), headers, allowed=(400, 404, 405, 413, 415, 422))
            # Now and then a valid command: the automation must still never chatter on its own. 503 is a device
            # that did not answer (the BMS faults make that happen), 409 a conflict with an explicit mode.
            if rng.random() < 0.1:
                checked("/api/v1/relays/balancer", "PUT", b'{"mode": "auto"}', {**headers, "Content-Type": "application/json"},
                        allowed=(200, 503))
            path = rng.choice(["/api/v1/history?step=60", "/api/v1/events/log?limit=5", "/healthz", "/metrics"])
            checked(path, allowed=(200, 503) if path == "/healthz" else (200,))
            # One of the security issue's attacks (#12), each with the answer it must get.
            attack = rng.choice(SECURITY_ATTACKS)
            checked(attack["path"], attack.get("method", "GET"), attack.get("body"),
                    {"Authorization": f"Bearer {TOKEN}", **attack.get("headers", {})}, allowed=attack["allowed"])
            time.sleep(0.02)

    def broker_restart(index):
        broker.stop()
        broker.start()  # an empty broker: nothing retained until the bridge republishes
        counts["broker_restarts"] += 1
        g = now_gateway()
        subscriber = Subscriber(broker.port, ["dalygate/state", "dalygate/status"])
        try:
            fresh = wait_for(lambda: {"dalygate/state", "dalygate/status"} <= {t for t, _ in subscriber.snapshot()}, 40)
            if not fresh:
                problems.append(f"broker restart {index}: no fresh state within 40 s: {subscriber.snapshot()[-3:]}")
                return
            if subscriber.latest("dalygate/status") != "online":
                problems.append(f"broker restart {index}: status {subscriber.latest('dalygate/status')}")
            mode = ["on", "off"][index % 2]
            broker.publish("dalygate/set/load/mode", mode)
            obeyed = wait_for(lambda: (lambda s: s["outputs"]["load"]["mode"] == mode and s["outputs"]["load"]["source"] == "mqtt")(
                json.loads(fetch(g.base, "/api/v1/state")[1])), 15)
            if not obeyed:
                problems.append(f"broker restart {index}: MQTT command load mode {mode} not obeyed within 15 s")
        finally:
            subscriber.close()

    def paused_measure(g):
        """(fds, RSS KiB) with no SSE client connected and hostile writes paused: what the gateway itself holds."""
        sse_paused.set()
        writes_paused.set()
        try:
            wait_for(lambda: re.search(rb"^dalygate_sse_clients 0$", fetch(g.base, "/metrics")[1], re.M), 20)
            time.sleep(0.5)  # writes in flight finish
            return g.fds(), g.rss_kib()
        finally:
            sse_paused.clear()
            writes_paused.clear()

    def kill_and_restart(g):
        writes_paused.set()  # no command may change a mode between the last look and the kill
        time.sleep(0.2)
        live = json.loads(fetch(g.base, "/api/v1/state")[1])
        g.kill()
        counts["kills"] += 1
        saved = g.saved_state()
        # One write interval of simulated time at the live power, with a margin for the power changing meanwhile.
        allowance = WRITE_INTERVAL * SPEED * (abs(live["energy"]["power_w"]) * 1.5 + 2) / 3600 + 0.01
        if abs(saved["energy"]["ws"] / 3600 - live["energy"]["wh"]) > allowance:
            problems.append(f"kill -9 lost energy: live {live['energy']['wh']} Wh, saved {saved['energy']['ws'] / 3600:.3f} Wh")
        # The learned capacity rises with the stored energy while it charges past it (EnergyCounter), so it may lag
        # by what flowed in one write interval, as the energy does, and never by more.
        if saved["energy"]["maxWs"] / 3600 < live["energy"]["max_wh"] - allowance:
            problems.append(f"kill -9 lost capacity: live {live['energy']['max_wh']} Wh, saved {saved['energy']['maxWs'] / 3600}")
        live_modes = {name: output["mode"] for name, output in live["outputs"].items()}
        if pairs(saved["modes"]) != live_modes:
            problems.append(f"kill -9 lost modes: live {live_modes}, saved {pairs(saved['modes'])}")
        if pairs(saved["relays"]) != live["relays"]:
            problems.append(f"kill -9 lost relay targets: live {live['relays']}, saved {pairs(saved['relays'])}")
        restarted = Gateway(dalygate, tmp_path, broker.port)
        first = json.loads(fetch(restarted.base, "/api/v1/state")[1])
        flowed = (first["uptime_s"] + 1) * (abs(first["energy"]["power_w"]) * 1.5 + 2) / 3600 + 0.01
        if abs(first["energy"]["wh"] - saved["energy"]["ws"] / 3600) > flowed:
            problems.append(f"restart did not restore energy: saved {saved['energy']['ws'] / 3600:.3f} Wh, got {first['energy']['wh']}")
        if {name: output["mode"] for name, output in first["outputs"].items()} != pairs(saved["modes"]):
            problems.append(f"restart did not restore modes: saved {pairs(saved['modes'])}, got {first['outputs']}")
        automatic = {o for o, output in first["outputs"].items() if output.get("source") == "automation"}
        restored = {k: v for k, v in first["relays"].items() if k not in automatic}
        if restored != {k: v for k, v in pairs(saved["relays"]).items() if k not in automatic}:
            problems.append(f"restart did not restore relay targets: saved {pairs(saved['relays'])}, got {first['relays']}")
        with lock:
            current["gateway"] = restarted
        writes_paused.clear()
        return restarted

    threads = [threading.Thread(target=f, daemon=True) for f in (watcher, sse_churn, hostile_http)]
    for thread in threads:
        thread.start()

    start = time.monotonic()
    deadline = start + SOAK_SECONDS
    # Kills in the first third; the last gateway lives the remaining two thirds, over which its growth is measured.
    kill_every = min(60, SOAK_SECONDS / 6)
    next_kill = start + kill_every
    last_kill = start + SOAK_SECONDS / 3 + 1
    next_broker_restart = start + 40
    baseline = None
    try:
        while time.monotonic() < deadline:
            time.sleep(0.5)
            g = now_gateway()
            assert g.process.poll() is None, f"gateway exited with {g.process.returncode}"
            if baseline is None and time.monotonic() - g.started > WARM_UP:
                baseline = paused_measure(g)
            if time.monotonic() > next_broker_restart and time.monotonic() < deadline - 30:
                broker_restart(counts["broker_restarts"])
                next_broker_restart = time.monotonic() + 40
            if next_kill < last_kill and time.monotonic() > next_kill:
                check_flat(g, baseline, paused_measure, problems, rss_bound=None)
                kill_and_restart(g)
                baseline = None
                next_kill += kill_every
        MEASURED["rss"] = check_flat(now_gateway(), baseline, paused_measure, problems, rss_bound=None)
        metrics = fetch(now_gateway().base, "/metrics")[1].decode()
        if 'route="y"' in metrics or "evil" in metrics:
            problems.append("client text reached /metrics")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
        g = now_gateway()
        if g.process.poll() is None:
            g.process.send_signal(signal.SIGTERM)
            g.process.wait(timeout=30)
        broker.stop()

    print(f"soak: {counts}")
    assert g.process.returncode == 0
    assert failures == [], f"{len(failures)} failed requests: {failures[:10]}"
    assert problems == [], f"{len(problems)} problems: {problems[:10]}"
    assert counts["kills"] >= 2 and counts["broker_restarts"] >= 2 and counts["sse_events"] > 100, counts
    check_no_chatter(tmp_path / "state" / "dalygate.sqlite", dwell=MIN_DWELL)


def test_soak_rss_growth_is_bounded():
    """The last gateway's RSS, measured by test_soak with no SSE client and writes paused, after the warm-up and at
    the end (the last two thirds of the soak): at most RSS_GROWTH_KIB more."""
    assert "rss" in MEASURED, "test_soak did not get as far as measuring"
    baseline, end = MEASURED["rss"]
    assert end <= baseline + RSS_GROWTH_KIB, f"RSS grew from {baseline} KiB to {end} KiB (more than {RSS_GROWTH_KIB} KiB)"


def check_flat(gateway, baseline, measure, problems, rss_bound):
    if baseline is None:
        problems.append("no baseline was taken: the gateway's life was shorter than the warm-up")
        return
    fds, rss = measure(gateway)
    print(f"soak: gateway {gateway.process.pid}: fds {baseline[0]} -> {fds}, RSS {baseline[1]} -> {rss} KiB")
    if fds > baseline[0] + FD_SLACK:
        problems.append(f"file descriptors grew from {baseline[0]} to {fds}")
    if rss_bound is not None and rss > baseline[1] + rss_bound:
        problems.append(f"RSS grew from {baseline[1]} KiB to {rss} KiB (more than {rss_bound} KiB)")
    return baseline[1], rss


def check_no_chatter(database, dwell):
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT time, payload FROM events WHERE kind = 'relay' ORDER BY id").fetchall()
    last = {}
    previous_time = None
    for time_s, payload in rows:
        event = json.loads(payload)
        if previous_time is not None and time_s < previous_time:
            last.clear()  # a restarted gateway's simulated clock starts again
        previous_time = time_s
        if event["source"] != "automation":
            last.pop(event["output"], None)
            continue
        previous = last.get(event["output"])
        assert previous is None or time_s - previous >= dwell, f"{event['output']} switched twice within {time_s - previous} s"
        last[event["output"]] = time_s
