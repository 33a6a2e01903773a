"""Every attack of issue 12 against a running `dalygate serve --simulate`: each is refused or survived, and afterwards
the same process is alive, /healthz answers and no command reached the controller."""
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port, wait_until_serving
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
REQUEST_DEADLINE_S = 3


class Gateway:
    """`dalygate serve --simulate` with an optional config text and token."""

    def __init__(self, binary, work: Path, config: str = "", token: str | None = None, listen: str = "127.0.0.1"):
        self.port = free_port()
        work.mkdir(parents=True, exist_ok=True)
        (work / "gateway.yaml").write_text(config or "{}\n")
        env = {k: v for k, v in os.environ.items() if k != "DALYGATE_TOKEN"}
        if token:
            env["DALYGATE_TOKEN"] = token
        self.log = open(work / "gateway.log", "w")
        self.process = subprocess.Popen(
            [str(binary), "serve", "--simulate", "--speed", "20", "--config", str(work / "gateway.yaml"),
             "--state-dir", str(work / "state"), "--http", f"{listen}:{self.port}"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        assert wait_until_serving(self.base), (work / "gateway.log").read_text()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self.log.close()
        return self.process.returncode


def call(base, method, path, body=None, headers=None, timeout=10):
    request = urllib.request.Request(base + path, method=method, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def raw(port, data: bytes, source: str = "127.0.0.1", read_seconds: float = 5) -> bytes:
    """Sends raw bytes from `source` and returns what comes back before the peer closes or `read_seconds` pass."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_seconds, source_address=(source, 0)) as s:
        s.sendall(data)
        received = b""
        deadline = time.monotonic() + read_seconds
        try:
            while time.monotonic() < deadline and b"\r\n\r\n" not in received or (
                    b"\r\n\r\n" in received and not received.endswith(b"}") and time.monotonic() < deadline):
                chunk = s.recv(65536)
                if not chunk:
                    break
                received += chunk
        except socket.timeout:
            pass
        return received


def fingerprint(base):
    """What an attack must not change: every output's mode, and the commands the controller has seen."""
    state = json.loads(call(base, "GET", "/api/v1/state")[2])
    commands = json.loads(call(base, "GET", "/api/v1/events/log?limit=1000&kind=command")[2])["events"]
    return {name: output["mode"] for name, output in state["outputs"].items()}, len(commands)


@pytest.fixture(scope="module")
def open_gateway(dalygate, tmp_path_factory):
    """The default setup: loopback, no token."""
    gateway = Gateway(dalygate, tmp_path_factory.mktemp("open"), f"http:\n  request_deadline_s: {REQUEST_DEADLINE_S}\n")
    yield gateway
    assert gateway.stop() == 0


@pytest.fixture
def unharmed(open_gateway):
    """Asserts after the test that the same process lives, /healthz answers and no command got through."""
    before = fingerprint(open_gateway.base)
    yield open_gateway
    assert open_gateway.process.poll() is None, "the gateway died"
    status, _, body = call(open_gateway.base, "GET", "/healthz")
    assert status in (200, 503) and json.loads(body)["status"] in ("ok", "unhealthy")
    assert fingerprint(open_gateway.base) == before


def problem(status_body):
    status, headers, body = status_body
    assert headers["Content-Type"] == "application/problem+json"
    return status, json.loads(body)


# 1. Client numbers

@pytest.mark.parametrize("value", ["18446744073709551615", "-1", "1e3", "0x10", "abc", " ", "99999999999999999999999"])
def test_a_bad_last_event_id_is_400_not_a_crash(unharmed, value):
    status, detail = problem(call(unharmed.base, "GET", "/api/v1/events", headers={"Last-Event-ID": value}))
    assert status == 400 and "Last-Event-ID" in detail["detail"]


def test_an_id_newer_than_any_event_gets_a_fresh_stream_with_the_state(unharmed):
    answer = raw(unharmed.port, b"GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nLast-Event-ID: 9007199254740990\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200") and b"event: state\ndata: {" in answer


def first_event_id(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
        received = b""
        while b"\nid: " not in received or not received.split(b"\nid: ", 1)[1].count(b"\n"):
            received += s.recv(65536)
        return int(received.split(b"\nid: ", 1)[1].split(b"\n", 1)[0])


def test_resume_replays_at_most_64_events(unharmed):
    latest = first_event_id(unharmed.port)
    # Just behind: those few are replayed with their ids.
    answer = raw(unharmed.port, f"GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nLast-Event-ID: {latest - 1}\r\n\r\n".encode(),
                 read_seconds=1)
    assert f"id: {latest}\n".encode() in answer
    # Far behind (state events come 5 a second): no replay of hundreds, a fresh start from the state instead.
    time.sleep(0.2)
    answer = raw(unharmed.port, b"GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nLast-Event-ID: 1\r\n\r\n", read_seconds=1)
    assert answer.count(b"\nid: ") <= 64 and b"event: state\ndata: {" in answer


@pytest.mark.parametrize("query,status", [
    ("from=nan", 400), ("to=inf", 400), ("from=1e400", 400), ("step=-60", 422), ("step=0x40", 400),
    ("from=99999999999999999999999", 422), ("from=ab", 400), ("step=5", 422), ("from=200000000000", 422),
])
def test_history_numbers_are_strict(unharmed, query, status):
    assert problem(call(unharmed.base, "GET", f"/api/v1/history?{query}"))[0] == status


def test_history_answers_at_most_2000_samples(unharmed):
    status, _, body = call(unharmed.base, "GET", "/api/v1/history?from=0&to=99999999999&step=60")
    answer = json.loads(body)
    assert status == 200 and len(answer["samples"]) <= 2000 and answer["step_s"] >= 99999999999 / 2000


@pytest.mark.parametrize("query", ["limit=%2B5", "limit=5.0", "limit=99999999999999999999", "before=-1", "before=1e3"])
def test_paging_numbers_are_strict(unharmed, query):
    assert problem(call(unharmed.base, "GET", f"/api/v1/events/log?{query}"))[0] in (400, 422)


@pytest.mark.parametrize("body", [b'{"mode": "on", "hold_s": 1e400}', b'{"mode": "on", "hold_s": NaN}',
                                  b'{"mode": "on", "hold_s": 99999999999999999999999}', b'{"soc_pct": 1e999}'])
def test_write_numbers_are_strict(unharmed, body):
    path = "/api/v1/bms/soc" if b"soc" in body else "/api/v1/relays/load"
    assert problem(call(unharmed.base, "PUT", path, body, {"Content-Type": "application/json"}))[0] in (400, 422)


# 2. No write through a browser

def test_a_form_post_is_415(unharmed):
    for headers in [{"Content-Type": "application/x-www-form-urlencoded"}, {"Content-Type": "text/plain"}, {}]:
        assert problem(call(unharmed.base, "POST", "/api/v1/energy/reset", b"", headers))[0] == 415


def test_dns_rebinding_is_421(unharmed):
    answer = raw(unharmed.port, b"PUT /api/v1/relays/balancer HTTP/1.1\r\nHost: evil.example:8080\r\n"
                               b"Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"on\":true}")
    assert answer.startswith(b"HTTP/1.1 421")
    assert raw(unharmed.port, b"GET /api/v1/state HTTP/1.1\r\nHost: evil.example\r\n\r\n").startswith(b"HTTP/1.1 421")
    for host in [b"localhost:1", b"127.0.0.1", b"[::1]:80", b"LOCALHOST."]:
        assert raw(unharmed.port, b"GET /healthz HTTP/1.1\r\nHost: " + host + b"\r\n\r\n").split(b" ")[1] in (b"200", b"503")


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://localhost:1"}])
def test_a_cross_origin_write_is_403(unharmed, headers):
    headers = dict(headers, **{"Content-Type": "application/json"})
    assert problem(call(unharmed.base, "PUT", "/api/v1/relays/balancer", b'{"on": true}', headers))[0] == 403


def test_the_own_origin_and_curl_still_write(open_gateway):
    headers = {"Content-Type": "application/json", "Origin": open_gateway.base}
    assert call(open_gateway.base, "PUT", "/api/v1/relays/balancer", b'{"mode": "auto"}', headers)[0] == 200
    assert call(open_gateway.base, "PUT", "/api/v1/relays/balancer", b'{"mode": "auto"}',
                {"Content-Type": "application/json"})[0] == 200


# 3. Metrics and errors never carry raw client text

def test_a_hostile_method_cannot_add_a_label(unharmed):
    for method in [b'X",route="y', b"FOO", b"BAR\x7f"]:
        raw(unharmed.port, method + b" /api/v1/state HTTP/1.1\r\nHost: localhost\r\n\r\n", read_seconds=1)
    text = call(unharmed.base, "GET", "/metrics")[2].decode()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    samples = families["dalygate_http_requests"].samples
    assert {s.labels["method"] for s in samples} <= {"GET", "HEAD", "PUT", "POST", "OPTIONS", "other"}
    assert all(set(s.labels) == {"route", "method", "status"} for s in samples)


def test_problem_details_quote_client_text_escaped_and_short(unharmed):
    status, detail = problem(call(unharmed.base, "PUT", "/api/v1/relays/" + "%0A%1B" + "x" * 500, b'{"on": true}',
                                  {"Content-Type": "application/json"}))
    assert status == 404 and "\n" not in detail["detail"] and "\x1b" not in detail["detail"]
    assert len(detail["detail"]) < 200


# 4. Limits

def test_the_per_address_limit_leaves_other_addresses_served(unharmed):
    held = []
    try:
        for _ in range(40):
            s = socket.create_connection(("127.0.0.1", unharmed.port), timeout=5)
            held.append(s)
        time.sleep(0.3)
        refused = 0
        for s in held:
            s.settimeout(0.2)
            try:
                refused += s.recv(1) == b""
            except (socket.timeout, ConnectionResetError):
                refused += isinstance(s, type(None))
        assert refused >= 40 - 16
        answer = raw(unharmed.port, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", source="127.0.0.2")
        assert answer.split(b" ")[1] in (b"200", b"503")
    finally:
        for s in held:
            s.close()


def test_sse_streams_beyond_256_get_503(unharmed):
    streams, answers = [], []
    try:
        for index in range(270):
            source = f"127.0.1.{index // 15 + 1}"
            s = socket.create_connection(("127.0.0.1", unharmed.port), timeout=10, source_address=(source, 0))
            s.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
            streams.append(s)
        for s in streams:
            answers.append(s.recv(12))
        assert sum(a.startswith(b"HTTP/1.1 200") for a in answers) == 256
        assert sum(a.startswith(b"HTTP/1.1 503") for a in answers) == 14
    finally:
        for s in streams:
            s.close()


def test_a_slow_header_sender_is_cut_off(unharmed):
    with socket.create_connection(("127.0.0.1", unharmed.port), timeout=30) as s:
        s.sendall(b"GET /api/v1/state HTTP/1.1\r\nHost: localhost\r\n")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < REQUEST_DEADLINE_S + 10:
            try:
                s.sendall(b"X")
                s.settimeout(1)
                if s.recv(1) == b"":
                    closed = True
                    break
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
        assert closed and time.monotonic() - started < REQUEST_DEADLINE_S + 4


def test_an_open_sse_stream_outlives_the_request_deadline(unharmed):
    with socket.create_connection(("127.0.0.1", unharmed.port), timeout=10) as s:
        s.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
        time.sleep(REQUEST_DEADLINE_S + 1.5)
        received = s.recv(65536)
        while b"event: state" not in received:
            chunk = s.recv(65536)
            assert chunk, "the stream was cut"
            received += chunk


def weak_token_refusal(dalygate, tmp_path, token):
    env = dict((k, v) for k, v in os.environ.items() if k != "DALYGATE_TOKEN")
    env["DALYGATE_TOKEN"] = token
    return subprocess.run([str(dalygate), "serve", "--simulate", "--state-dir", str(tmp_path), "--http", "0.0.0.0:0"],
                          capture_output=True, text=True, timeout=30, env=env)


@pytest.mark.parametrize("token", ["change-me", "changeme", "short", "secret", "password", "aaaaaaaaaaaaaaaaaaaa",
                                   "fifteen-chars-x", "passwordpassword", "1234567890123456"])
def test_a_weak_token_beyond_loopback_refuses_to_start(dalygate, tmp_path, token):
    result = weak_token_refusal(dalygate, tmp_path, token)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "refusing to listen on 0.0.0.0:0" in lines[0] and "token" in lines[0]


def test_config_token_prints_a_token_the_policy_accepts(dalygate, tmp_path):
    tokens = {subprocess.run([str(dalygate), "config", "token"], capture_output=True, text=True, check=True).stdout.strip()
              for _ in range(2)}
    assert len(tokens) == 2 and all(len(t) >= 32 for t in tokens)
    env = dict(os.environ, DALYGATE_TOKEN=tokens.pop())
    port = free_port()
    process = subprocess.Popen([str(dalygate), "serve", "--simulate", "--state-dir", str(tmp_path), "--http", f"0.0.0.0:{port}"],
                               env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until_serving(f"http://127.0.0.1:{port}")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_repeated_401s_are_slowed_down(dalygate, tmp_path):
    gateway = Gateway(dalygate, tmp_path, "http:\n  auth_failures_per_minute: 5\n", token="a-test-token-of-some-length")
    try:
        before = fingerprint(gateway.base)
        wrong = {"Content-Type": "application/json", "Authorization": "Bearer guess"}
        statuses = [call(gateway.base, "PUT", "/api/v1/relays/load", b'{"on": true}', wrong)[0] for _ in range(8)]
        assert statuses[:5] == [401] * 5 and statuses[5:] == [429] * 3
        status, headers, _ = call(gateway.base, "PUT", "/api/v1/relays/load", b'{"on": true}', wrong)
        assert status == 429 and 1 <= int(headers["Retry-After"]) <= 60
        # Reads and other addresses are not held up.
        assert call(gateway.base, "GET", "/api/v1/state")[0] == 200
        answer = raw(gateway.port, b"PUT /api/v1/relays/load HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer guess\r\n"
                                   b"Content-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"on\": true}", source="127.0.0.3")
        assert answer.startswith(b"HTTP/1.1 401")
        assert fingerprint(gateway.base) == before and gateway.process.poll() is None
    finally:
        assert gateway.stop() == 0


def test_writes_beyond_the_pending_limit_get_429(dalygate, tmp_path):
    gateway = Gateway(dalygate, tmp_path, "http:\n  max_pending_writes: 1\n  max_connections_per_client: 64\n")
    try:
        results = []

        def write():
            results.append(call(gateway.base, "PUT", "/api/v1/relays/balancer", b'{"mode": "auto"}',
                                {"Content-Type": "application/json"})[0])
        threads = [threading.Thread(target=write) for _ in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert set(results) <= {200, 429} and 200 in results and 429 in results
        assert gateway.process.poll() is None
    finally:
        assert gateway.stop() == 0


# 5. MQTT

def mqtt_gateway(dalygate, tmp_path, extra=""):
    from test_mqtt import Broker
    broker = Broker(tmp_path)
    gateway = Gateway(dalygate, tmp_path / "gw", f"mqtt:\n  url: mqtt://127.0.0.1:{broker.port}\n{extra}")
    deadline = time.monotonic() + 15
    while "MQTT connected" not in (tmp_path / "gw" / "gateway.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    return broker, gateway


def test_an_oversized_mqtt_publish_never_reaches_the_gateway(dalygate, tmp_path):
    broker, gateway = mqtt_gateway(dalygate, tmp_path, os.environ.get("HOSTILE_MQTT_EXTRA", ""))
    try:
        before = fingerprint(gateway.base)
        big = tmp_path / "big"
        # Over the MQTT 5 Maximum Packet Size the gateway announces (MosquittoClient.maximumPacketSize: the largest
        # discovery document it publishes itself, 256 KiB, plus headroom): the broker never delivers it.
        big.write_bytes(b"1" * (1024 * 1024))
        subprocess.run(["mosquitto_pub", "-p", str(broker.port), "-t", "dalygate/Ctrl_SSR1", "-f", str(big)], check=True, timeout=10)
        broker.publish("dalygate/Ctrl_SSR2", "x" * 5000)  # under that size: delivered, and refused by the bridge
        log = tmp_path / "gw" / "gateway.log"
        deadline = time.monotonic() + 10
        while "on dalygate/Ctrl_SSR2" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        text = log.read_text()
        assert "on dalygate/Ctrl_SSR2" in text and "on dalygate/Ctrl_SSR1" not in text
        assert fingerprint(gateway.base) == before and gateway.process.poll() is None
    finally:
        assert gateway.stop() == 0
        broker.stop()


@pytest.mark.parametrize("policy,obeyed", [("none", False), ("relays", True)])
def test_mqtt_commands_policy(dalygate, tmp_path, policy, obeyed):
    broker, gateway = mqtt_gateway(dalygate, tmp_path, f"  commands: {policy}\n")
    try:
        broker.publish("dalygate/set/soc", "55")
        broker.publish("dalygate/Ctrl_CSw", "off")
        broker.publish("dalygate/Ctrl_SSR2", "on")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not json.loads(call(gateway.base, "GET", "/api/v1/state")[2])["relays"]["balancer"]:
            time.sleep(0.1)
        state = json.loads(call(gateway.base, "GET", "/api/v1/state")[2])
        assert state["relays"]["balancer"] is obeyed
        assert state["bms"]["mosfets"]["charge"] is True
        assert gateway.process.poll() is None
    finally:
        assert gateway.stop() == 0
        broker.stop()


@pytest.mark.parametrize("repeated", [b"Content-Length: 12\r\nContent-Length: 5\r\n", b"Content-Length: 12\r\nHost: evil.example\r\n"])
def test_a_header_sent_twice_that_may_be_sent_once_is_400_and_the_connection_closes(unharmed, repeated):
    """Two Content-Lengths are two readings of one request (libmicrohttpd frames the body by the first, a proxy may
    use the last: request smuggling); two Hosts would let the Host check see one and a proxy the other."""
    port = unharmed.port
    request = (f"PUT /api/v1/relays/load HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n".encode()
               + repeated + b"\r\n" + b'{"on": true}' + f"GET /api/v1/state HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    reply = raw(port, request)
    assert reply.startswith(b"HTTP/1.1 400 "), reply[:200]
    assert b"more than one" in reply and b"Connection: close" in reply
    assert reply.count(b"HTTP/1.1 ") == 1, "the bytes after the refused head were served as a request"


def test_head_of_the_event_stream_sends_no_body(unharmed):
    """A chunked body (even its empty last chunk) after a HEAD would be read as the next response's start."""
    port = unharmed.port
    reply = raw(port, f"HEAD /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
                      f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
    head, _, rest = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head
    assert rest.startswith(b"HTTP/1.1 "), rest[:80]


# 6. Clean shutdown

def test_sigterm_with_streams_slow_senders_and_writes_in_flight_exits_cleanly(dalygate, tmp_path):
    gateway = Gateway(dalygate, tmp_path, "http:\n  max_connections_per_client: 64\n")
    held = []
    try:
        for _ in range(8):
            s = socket.create_connection(("127.0.0.1", gateway.port), timeout=10)
            s.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert s.recv(12).startswith(b"HTTP/1.1 200")
            held.append(s)
        slow = socket.create_connection(("127.0.0.1", gateway.port), timeout=10)
        slow.sendall(b"GET /api/v1/state HTTP/1.1\r\nHost: local")
        held.append(slow)
        writers = [threading.Thread(target=call, args=(gateway.base, "PUT", "/api/v1/relays/balancer", b'{"mode": "auto"}',
                                                       {"Content-Type": "application/json"})) for _ in range(4)]
        for writer in writers:
            writer.start()
        started = time.monotonic()
        assert gateway.stop() == 0
        assert time.monotonic() - started < 20
        for writer in writers:
            writer.join(timeout=10)
    finally:
        for s in held:
            s.close()


def test_every_write_executed_before_sigterm_is_answered(dalygate, tmp_path):
    """Writes racing a SIGTERM: each one the controller executed is answered 200 (the daemon is not stopped while a
    resumed answer is unsent); the others are refused or never accepted, none executed silently."""
    for round_ in range(3):
        work = tmp_path / f"round{round_}"
        gateway = Gateway(dalygate, work, "http:\n  max_connections_per_client: 64\n  max_pending_writes: 64\n")
        answered = []
        lock = threading.Lock()
        stop = threading.Event()

        def writer():
            while not stop.is_set():
                try:
                    status = call(gateway.base, "PUT", "/api/v1/relays/balancer", b'{"mode": "auto"}',
                                  {"Content-Type": "application/json"}, timeout=15)[0]
                except OSError:
                    return
                with lock:
                    answered.append(status)
                if status != 200:
                    return

        writers = [threading.Thread(target=writer) for _ in range(12)]
        for w in writers:
            w.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with lock:
                if answered.count(200) >= 20:
                    break
            time.sleep(0.01)
        assert gateway.stop() == 0
        stop.set()
        for w in writers:
            w.join(timeout=20)
        log = (work / "gateway.log").read_text()
        executed = log.count('"status":"executed"')
        assert executed >= 20, log[-2000:]
        assert answered.count(200) == executed, f"round {round_}: {executed} executed, {answered.count(200)} answered 200"


def test_mqtt5_falls_back_to_3_1_1_for_an_old_broker(dalygate, tmp_path):
    """A broker that knows only MQTT 3.1.1 refuses the MQTT 5 CONNECT with its own CONNACK (code 1): the gateway
    reconnects with 3.1.1 and works on."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    levels = []

    def broker():
        listener.settimeout(20)
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.settimeout(5)
            try:
                head = connection.recv(65536)
                level = head[head.index(b"MQTT") + 4]
                levels.append(level)
                connection.sendall(b"\x20\x02\x00" + (b"\x00" if level == 4 else b"\x01"))
                if level == 4:
                    while connection.recv(65536):
                        pass
            except (OSError, ValueError, IndexError):
                pass
            finally:
                connection.close()

    thread = threading.Thread(target=broker, daemon=True)
    thread.start()
    gateway = Gateway(dalygate, tmp_path, f"mqtt:\n  url: mqtt://127.0.0.1:{listener.getsockname()[1]}\n")
    try:
        log = tmp_path / "gateway.log"
        deadline = time.monotonic() + 20
        while "MQTT connected" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        text = log.read_text()
        assert levels[:2] == [5, 4]
        assert "does not speak MQTT 5; using 3.1.1" in text and "MQTT connected" in text
    finally:
        assert gateway.stop() == 0
        listener.close()


def test_the_bearer_scheme_is_case_insensitive(dalygate, tmp_path):
    token = "a-test-token-of-some-length"
    gateway = Gateway(dalygate, tmp_path, "", token=token)
    try:
        for scheme in ("bearer", "BEARER", "Bearer "):
            headers = {"Content-Type": "application/json", "Authorization": f"{scheme} {token}"}
            assert call(gateway.base, "PUT", "/api/v1/relays/balancer", b'{"mode": "auto"}', headers)[0] == 200, scheme
        headers = {"Content-Type": "application/json", "Authorization": f"Basic {token}"}
        assert call(gateway.base, "PUT", "/api/v1/relays/balancer", b'{"mode": "auto"}', headers)[0] == 401
    finally:
        assert gateway.stop() == 0


def test_a_browser_with_12_kb_of_cookies_is_still_served(unharmed):
    # The per-connection memory is kept small for event streams, but not so small that a browser carrying other
    # local apps' cookies gets 431.
    cookie = "session=" + "c" * 12_000
    assert call(unharmed.base, "GET", "/api/v1/state", headers={"Cookie": cookie})[0] == 200
    answer = raw(unharmed.port, f"GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\n\r\n".encode(),
                 read_seconds=1)
    assert answer.startswith(b"HTTP/1.1 200") and b"event: state\ndata: {" in answer
