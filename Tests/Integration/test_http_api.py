"""The HTTP API of a running `dalygate serve --simulate`, as curl, a browser or schemathesis use it."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port, wait_until_serving
from conftest import wait_for as shared_wait_for

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token"



@pytest.fixture(scope="module")
def gateway(dalygate, tmp_path_factory):
    port = free_port()
    state = tmp_path_factory.mktemp("state")
    # These tests send many wrong tokens on purpose; the 401 back-off (test_hostile.py covers it) would answer 429.
    config = state / "config.yaml"
    config.write_text("http:\n  auth_failures_per_minute: 100000\n")
    env = dict(os.environ, DALYGATE_TOKEN=TOKEN)
    process = subprocess.Popen([str(dalygate), "serve", "--simulate", "--speed", "20", "--state-dir", str(state),
                                "--config", str(config), "--http", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    assert wait_until_serving(base)
    yield base
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=20)
    assert process.returncode == 0


def call(base, method, path, body=None, token=TOKEN, content_type="application/json", headers=None):
    request = urllib.request.Request(base + path, method=method, data=body)
    if body is not None and content_type:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_for(condition, seconds=20):
    return shared_wait_for(condition, seconds)

def get_json(base, path):
    status, _, body = call(base, "GET", path)
    assert status == 200, (path, status, body[:300])
    return json.loads(body)


def assert_problem(status, headers, body, expected):
    assert status == expected, (status, body[:300])
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == expected and problem["title"] and problem["detail"]
    return problem


def start_gateway(dalygate, directory, *args, config=None, token=None):
    """A gateway of its own (port 0 is not possible with the URL needed up front, so a port free a moment ago)."""
    port = free_port()
    command = [str(dalygate), "serve", "--simulate", "--state-dir", str(directory / "state"), "--http", f"127.0.0.1:{port}", *args]
    if config is not None:
        (directory / "gateway.yaml").write_text(config)
        command += ["--config", str(directory / "gateway.yaml")]
    env = {k: v for k, v in os.environ.items() if k != "DALYGATE_TOKEN"}
    if token:
        env["DALYGATE_TOKEN"] = token
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    assert wait_until_serving(base), "gateway did not start"
    return base, process


def stop_gateway(process):
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)
    assert process.returncode == 0


def test_state_has_the_contract_keys(gateway):
    status, headers, body = call(gateway, "GET", "/api/v1/state")
    assert status == 200 and headers["Content-Type"] == "application/json"
    state = json.loads(body)
    for key in ["bms", "bms_ok", "bms_age_s", "shunt", "energy", "relays", "display", "uptime_s"]:
        assert key in state
    assert set(state["relays"]) == {"load", "balancer"}
    assert set(state["energy"]) >= {"wh", "max_wh", "soc_pct", "avg_power_1h_w"}
    assert set(state["display"]) == {"enabled", "page", "lines", "online"}
    assert state["bms"]["cells"]["count"] == 4


WRITE_ROUTES = [
    ("PUT", "/api/v1/relays/load", b'{"on": true}'),
    ("PUT", "/api/v1/relays/balancer", b'{"mode": "on"}'),
    ("PUT", "/api/v1/bms/mosfets/charge", b'{"on": false}'),
    ("PUT", "/api/v1/bms/mosfets/discharge", b'{"on": false}'),
    ("PUT", "/api/v1/bms/soc", b'{"soc_pct": 12.5}'),
    ("POST", "/api/v1/energy/reset", None),
    ("POST", "/api/v1/energy/reset-capacity", None),
]


def newest_event_id(base):
    events = get_json(base, "/api/v1/events/log?limit=1")["events"]
    return events[0]["id"] if events else 0


@pytest.mark.parametrize("method,path,body", WRITE_ROUTES)
def test_every_write_needs_the_token_and_a_refused_one_changes_nothing(gateway, method, path, body):
    # Some energy counted first, so that a reset would show.
    before = wait_for(lambda: (lambda s: s if s["energy"]["wh"] >= 0.005 else None)(get_json(gateway, "/api/v1/state")))
    assert before, "the simulated pack never charged"
    last_event = newest_event_id(gateway)
    for token in (None, "wrong", TOKEN + "x", TOKEN[:-1]):
        status, headers, payload = call(gateway, method, path, body, token=token)
        problem = assert_problem(status, headers, payload, 401)
        assert TOKEN not in json.dumps(problem)
        assert headers.get("WWW-Authenticate", "").startswith("Bearer")
    # A valid no-op write after the refused ones: once it is in the event log, anything the refused writes had done
    # would be there too.
    status, _, _ = call(gateway, "PUT", "/api/v1/relays/load", json.dumps({"mode": before["outputs"]["load"]["mode"]}).encode())
    assert status == 200
    events = wait_for(lambda: [e for e in get_json(gateway, f"/api/v1/events/log?limit=50")["events"] if e["id"] > last_event
                               and e["kind"] == "command"])
    assert events, "the valid write never reached the event log"
    assert all(e["data"].get("source") == "http" and "load" in json.dumps(e["data"]) for e in events), events
    after = get_json(gateway, "/api/v1/state")
    assert after["outputs"]["balancer"] == before["outputs"]["balancer"]
    assert after["bms"]["mosfets"]["charge"] == before["bms"]["mosfets"]["charge"]
    assert after["bms"]["mosfets"]["discharge"] == before["bms"]["mosfets"]["discharge"]
    assert after["energy"]["max_wh"] == before["energy"]["max_wh"]
    assert before["energy"]["wh"] <= after["energy"]["wh"] < before["energy"]["wh"] + 5
    assert abs(after["bms"]["pack"]["soc_pct"] - before["bms"]["pack"]["soc_pct"]) < 5


def test_relay_mode_round_trip_and_conflict(gateway):
    status, _, body = call(gateway, "PUT", "/api/v1/relays/balancer", b'{"mode": "off"}')
    assert status == 200
    state = json.loads(body)
    assert state["relays"]["balancer"] is False and state["outputs"]["balancer"]["mode"] == "off"
    status, _, body = call(gateway, "PUT", "/api/v1/relays/balancer", b'{"on": true}')
    assert status == 409 and "mode off" in json.loads(body)["detail"]
    status, _, body = call(gateway, "PUT", "/api/v1/relays/balancer", b'{"mode": "auto"}')
    assert status == 200 and json.loads(body)["outputs"]["balancer"]["mode"] == "auto"


@pytest.mark.parametrize("body,content_type,status", [
    (b"{not json", "application/json", 400),
    (b'{"on": "yes"}', "application/json", 422),
    (b'{"on": true}', "text/plain", 415),
    (b"x" * 100_000, "application/json", 413),
])
def test_bad_writes_get_problems_and_change_nothing(gateway, body, content_type, status):
    before = json.loads(call(gateway, "GET", "/api/v1/state")[2])["outputs"]["load"]
    got, headers, payload = call(gateway, "PUT", "/api/v1/relays/load", body, content_type=content_type)
    assert got == status
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(payload)["status"] == status
    after = json.loads(call(gateway, "GET", "/api/v1/state")[2])["outputs"]["load"]
    assert after["mode"] == before["mode"] and after.get("reason") == before.get("reason")


def test_unknown_routes_and_methods_are_problems(gateway):
    for path in ["/api/v1/nothing", "/api/v1/relays/kettle/x", "/nothing.html"]:
        problem = assert_problem(*call(gateway, "GET", path), 404)
        assert path in problem["detail"]
    problem = assert_problem(*call(gateway, "PUT", "/api/v1/relays/kettle", b'{"on": true}'), 404)
    assert "kettle" in problem["detail"]
    status, headers, body = call(gateway, "DELETE", "/api/v1/state")
    assert_problem(status, headers, body, 405)
    assert headers["Allow"] == "GET"
    status, headers, body = call(gateway, "GET", "/api/v1/relays/load")
    assert_problem(status, headers, body, 405)
    assert headers["Allow"] == "PUT"


def test_soc_and_mosfets_reach_the_bms(gateway):
    status, _, body = call(gateway, "PUT", "/api/v1/bms/soc", b'{"soc_pct": 61.5}')
    assert status == 200
    # Read back from the BMS by the next polls: the simulated pack moves the SOC by a few tenths at most meanwhile.
    soc = lambda: get_json(gateway, "/api/v1/state")["bms"]["pack"]["soc_pct"]
    assert wait_for(lambda: abs(soc() - 61.5) <= 0.5), soc()
    # Writes to the BMS wait for automation.manual_min_dwell_s (409 until then).
    until_not_409 = lambda path, body: wait_for(lambda: (lambda r: r if r[0] != 409 else None)(call(gateway, "PUT", path, body)))
    status, _, body = until_not_409("/api/v1/bms/soc", b'{"soc_pct": 38}')
    assert status == 200
    assert wait_for(lambda: abs(soc() - 38) <= 0.5), soc()
    status, _, body = until_not_409("/api/v1/bms/mosfets/discharge", b'{"on": false}')
    assert status == 200 and json.loads(body)["bms"]["mosfets"]["discharge"] is False
    status, _, body = until_not_409("/api/v1/bms/mosfets/discharge", b'{"on": true}')
    assert status == 200 and json.loads(body)["bms"]["mosfets"]["discharge"] is True
    assert_problem(*call(gateway, "PUT", "/api/v1/bms/soc", b'{"soc_pct": 150}'), 422)
    assert abs(soc() - 38) <= 0.5


def test_sse_stream_shows_state_and_command_events(gateway):
    port = int(gateway.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as stream:
        stream.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        received = recv_until(stream, lambda r: b"id: " in r)
        assert b"text/event-stream" in received and b"retry: 3000" in received and b"event: state" in received
        call(gateway, "PUT", "/api/v1/relays/load", b'{"mode": "on", "hold_s": 5}')
        received += recv_until(stream, lambda r: b"event: relay" in r and b"event: command" in r)
        assert b"event: relay" in received and b"event: command" in received
        assert b'"status":"executed"' in received


def test_sse_resumes_after_last_event_id(gateway):
    port = int(gateway.rsplit(":", 1)[1])
    call(gateway, "PUT", "/api/v1/relays/load", b'{"mode": "auto"}')
    log = json.loads(call(gateway, "GET", "/api/v1/events/log?limit=5")[2])["events"]
    assert log and log[0]["kind"] in {"relay", "command", "status", "alarm"}
    # Event ids are the event log's row ids (they survive a restart); find the newest one a fresh stream starts with.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as stream:
        stream.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
        received = recv_until(stream, lambda r: b"\nid: " in r and b"\n" in r.split(b"\nid: ", 1)[1])
        latest = int(received.split(b"\nid: ", 1)[1].split(b"\n", 1)[0])
    # A client that saw all but the last two resumes with exactly those, in order, before anything newer.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as stream:
        stream.sendall(f"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: {latest - 2}\r\n\r\n".encode())
        received = recv_until(stream, lambda r: f"id: {latest}\n".encode() in r)
        ids = [int(line[4:]) for line in received.decode(errors="replace").split("\n") if line.startswith("id: ")]
        assert ids[:2] == [latest - 1, latest], ids


def test_history_events_log_display_config_health_metrics(gateway):
    status, _, body = call(gateway, "GET", "/api/v1/history?step=60")
    assert status == 200 and "samples" in json.loads(body)
    assert call(gateway, "GET", "/api/v1/history?step=5")[0] == 422
    status, headers, body = call(gateway, "GET", "/api/v1/display.png?scale=2")
    assert status == 200 and headers["Content-Type"] == "image/png" and body[:8] == b"\x89PNG\r\n\x1a\n"
    status, _, body = call(gateway, "GET", "/api/v1/config")
    assert status == 200 and json.loads(body)["http"]["token"] == ""
    # Healthy: the simulated BMS answers and the controller ticks.
    assert wait_for(lambda: call(gateway, "GET", "/healthz")[0] == 200)
    status, _, body = call(gateway, "GET", "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok", "reasons": []}
    status, _, body = call(gateway, "GET", "/metrics")
    text = body.decode()
    assert status == 200
    for name in ["dalygate_bms_poll_duration_seconds", "dalygate_bms_errors_total", "dalygate_relay_switches_total",
                 "dalygate_http_requests_total", "dalygate_sse_clients"]:
        assert name in text


def recv_until(stream, done, seconds=15):
    """Reads an SSE socket until `done(received)`; fails (never hangs) when the stream closes or the time is up."""
    received = b""
    deadline = time.monotonic() + seconds
    while not done(received):
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; got {received[-500:]!r}"
        stream.settimeout(left)
        try:
            chunk = stream.recv(65536)
        except TimeoutError:
            continue
        assert chunk, f"stream closed; got {received[-500:]!r}"
        received += chunk
    return received


def test_schemathesis_finds_no_failure(gateway):
    schemathesis = Path(sys.executable).parent / "schemathesis"
    # Every route, the event stream included, every check, and the stateful phase (driven by the links in
    # openapi.yaml) must find nothing.
    result = subprocess.run([str(schemathesis), "run", str(ROOT / "openapi.yaml"), "--url", gateway,
                             "-H", f"Authorization: Bearer {TOKEN}", "--phases", "examples,coverage,fuzzing,stateful",
                             "--max-examples", "25", "--checks", "all", "--seed", "1"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:]
    assert "Stateful (not applicable)" not in result.stdout and "Stateful" in result.stdout


def test_refuses_to_listen_beyond_loopback_without_a_token(dalygate, tmp_path):
    result = subprocess.run([str(dalygate), "serve", "--simulate", "--state-dir", str(tmp_path), "--http", "0.0.0.0:18999"],
                            capture_output=True, text=True, timeout=30, env={k: v for k, v in os.environ.items() if k != "DALYGATE_TOKEN"})
    assert result.returncode != 0
    assert "refusing to listen on 0.0.0.0:18999 without a token" in result.stderr


def test_config_hides_secrets_and_cors_preflight_follows_the_allowed_origins(dalygate, tmp_path):
    secret, password = "config-secret-token-123", "broker-password-456"
    base, process = start_gateway(dalygate, tmp_path, config=f"""http:
  token: {secret}
  cors_origins: ["http://allowed.example"]
mqtt:
  password: {password}
""")
    try:
        status, _, body = call(base, "GET", "/api/v1/config", token=None)
        assert status == 200
        config = json.loads(body)
        assert config["http"]["token"] == "***" and config["mqtt"]["password"] == "***"
        assert secret.encode() not in body and password.encode() not in body
        # The token from the config file is the one writes need.
        assert_problem(*call(base, "PUT", "/api/v1/relays/load", b'{"on": true}', token=None), 401)
        assert call(base, "PUT", "/api/v1/relays/balancer", b'{"mode": "auto"}', token=secret)[0] == 200

        status, headers, _ = call(base, "OPTIONS", "/api/v1/relays/load", token=None, headers={
            "Origin": "http://allowed.example", "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, content-type"})
        assert status == 204
        assert headers["Access-Control-Allow-Origin"] == "http://allowed.example"
        assert "PUT" in headers["Access-Control-Allow-Methods"]
        assert {"authorization", "content-type"} <= {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
        status, headers, _ = call(base, "GET", "/api/v1/state", token=None, headers={"Origin": "http://allowed.example"})
        assert status == 200 and headers["Access-Control-Allow-Origin"] == "http://allowed.example"

        status, headers, _ = call(base, "OPTIONS", "/api/v1/relays/load", token=None, headers={
            "Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"})
        assert status != 204 and "Access-Control-Allow-Origin" not in headers
        status, headers, _ = call(base, "GET", "/api/v1/state", token=None, headers={"Origin": "http://evil.example"})
        assert "Access-Control-Allow-Origin" not in headers
    finally:
        stop_gateway(process)


def test_healthz_is_503_with_its_reasons_while_the_bms_does_not_answer(dalygate, tmp_path):
    base, process = start_gateway(dalygate, tmp_path, "--speed", "5", config='simulation:\n  bms_faults: ["sleep:1"]\n')
    try:
        # Once the controller has ticked, the only reasons left are the silent BMS's.
        assert wait_for(lambda: "does not answer" in call(base, "GET", "/healthz")[2].decode())
        status, headers, body = call(base, "GET", "/healthz")
        health = json.loads(body)
        assert status == 503 and headers["Content-Type"] == "application/json" and health["status"] == "unhealthy"
        assert health["reasons"][0].startswith("the BMS does not answer: no reply from BMS")
        assert "no BMS data yet" in health["reasons"]
    finally:
        stop_gateway(process)


def test_healthz_turns_503_when_the_bms_data_goes_stale(dalygate, tmp_path):
    # At speed 5 the BMS stops answering 40 simulated seconds (8 s) after start; data is stale after 10 s.
    base, process = start_gateway(dalygate, tmp_path, "--speed", "5", "--sim-fault", "bms:dead@40",
                                  config="automation:\n  stale_after_s: 10\n")
    try:
        assert wait_for(lambda: call(base, "GET", "/healthz")[0] == 200, seconds=8), "never healthy"
        assert json.loads(call(base, "GET", "/healthz")[2]) == {"status": "ok", "reasons": []}
        assert wait_for(lambda: "stale after 10 s" in call(base, "GET", "/healthz")[2].decode(), seconds=40)
        status, _, body = call(base, "GET", "/healthz")
        health = json.loads(body)
        assert status == 503 and health["status"] == "unhealthy"
        assert any(reason.startswith("the BMS does not answer") for reason in health["reasons"]), health
        assert any("stale after 10 s" in reason for reason in health["reasons"]), health
    finally:
        stop_gateway(process)
