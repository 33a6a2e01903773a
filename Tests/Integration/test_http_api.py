"""The HTTP API of a running `dalygate serve --simulate`, as curl, a browser or schemathesis use it."""
import json
import os
import shutil
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

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token"



@pytest.fixture(scope="module")
def gateway(dalygate, tmp_path_factory):
    port = free_port()
    state = tmp_path_factory.mktemp("state")
    env = dict(os.environ, DALYGATE_TOKEN=TOKEN)
    process = subprocess.Popen([str(dalygate), "serve", "--simulate", "--speed", "20", "--state-dir", str(state),
                                "--http", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
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


def test_state_has_the_contract_keys(gateway):
    status, headers, body = call(gateway, "GET", "/api/v1/state")
    assert status == 200 and headers["Content-Type"] == "application/json"
    state = json.loads(body)
    for key in ["bms", "bms_ok", "bms_age_s", "shunt", "energy", "relays", "display", "uptime_s"]:
        assert key in state
    assert set(state["relays"]) == {"load", "balancer"}
    assert set(state["energy"]) >= {"wh", "max_wh", "soc_pct", "avg_power_1h_w"}
    assert set(state["display"]) == {"enabled", "page", "lines"}
    assert state["bms"]["cells"]["count"] == 4


def test_writes_need_the_token(gateway):
    status, headers, body = call(gateway, "PUT", "/api/v1/relays/load", b'{"on": true}', token=None)
    assert status == 401 and headers["Content-Type"] == "application/problem+json"
    status, _, _ = call(gateway, "PUT", "/api/v1/relays/load", b'{"on": true}', token="wrong")
    assert status == 401


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


def test_unknown_routes_and_methods(gateway):
    assert call(gateway, "GET", "/api/v1/nothing")[0] == 404
    status, headers, _ = call(gateway, "DELETE", "/api/v1/state")
    assert status == 405 and headers["Allow"] == "GET"


def test_soc_and_mosfets_reach_the_bms(gateway):
    status, _, body = call(gateway, "PUT", "/api/v1/bms/soc", b'{"soc_pct": 61.5}')
    assert status == 200
    status, _, body = call(gateway, "PUT", "/api/v1/bms/mosfets/discharge", b'{"on": false}')
    assert status == 200 and json.loads(body)["bms"]["mosfets"]["discharge"] is False
    status, _, body = call(gateway, "PUT", "/api/v1/bms/mosfets/discharge", b'{"on": true}')
    assert status == 200 and json.loads(body)["bms"]["mosfets"]["discharge"] is True
    assert call(gateway, "PUT", "/api/v1/bms/soc", b'{"soc_pct": 150}')[0] == 422


def test_sse_stream_shows_state_and_command_events(gateway):
    port = int(gateway.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as stream:
        stream.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        received = b""
        while b"id: " not in received:
            received += stream.recv(65536)
        assert b"text/event-stream" in received and b"retry: 3000" in received and b"event: state" in received
        call(gateway, "PUT", "/api/v1/relays/load", b'{"mode": "on", "hold_s": 5}')
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (b"event: relay" in received and b"event: command" in received):
            received += stream.recv(65536)
        assert b"event: relay" in received and b"event: command" in received
        assert b'"status":"executed"' in received


def test_sse_resumes_after_last_event_id(gateway):
    port = int(gateway.rsplit(":", 1)[1])
    call(gateway, "PUT", "/api/v1/relays/load", b'{"mode": "auto"}')
    log = json.loads(call(gateway, "GET", "/api/v1/events/log?limit=5")[2])["events"]
    assert log and log[0]["kind"] in {"relay", "command", "status", "alarm"}
    with socket.create_connection(("127.0.0.1", port), timeout=10) as stream:
        stream.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 1\r\n\r\n")
        received = b""
        while received.count(b"\n\n") < 5:
            received += stream.recv(65536)
        assert b"id: 2\n" in received


def test_history_events_log_display_config_health_metrics(gateway):
    status, _, body = call(gateway, "GET", "/api/v1/history?step=60")
    assert status == 200 and "samples" in json.loads(body)
    assert call(gateway, "GET", "/api/v1/history?step=5")[0] == 422
    status, headers, body = call(gateway, "GET", "/api/v1/display.png?scale=2")
    assert status == 200 and headers["Content-Type"] == "image/png" and body[:8] == b"\x89PNG\r\n\x1a\n"
    status, _, body = call(gateway, "GET", "/api/v1/config")
    assert status == 200 and json.loads(body)["http"]["token"] == ""
    status, _, body = call(gateway, "GET", "/healthz")
    assert status in (200, 503) and json.loads(body)["status"] in ("ok", "unhealthy")
    status, _, body = call(gateway, "GET", "/metrics")
    text = body.decode()
    assert status == 200
    for name in ["dalygate_bms_poll_duration_seconds", "dalygate_bms_errors_total", "dalygate_relay_switches_total",
                 "dalygate_http_requests_total", "dalygate_sse_clients"]:
        assert name in text


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
