"""`serve --simulate --sim-fault DEVICE:KIND[@SECONDS]`: every simulated device fault end to end, and what the
controller does about it (fail-safes with their reasons, stale data shown as stale, /healthz, the manual dwell)."""
import signal
import subprocess

import pytest
from conftest import SimulatedGateway
from conftest import wait_for as shared_wait_for


@pytest.fixture
def gateway(dalygate, tmp_path):
    started = []

    def start(*args):
        g = SimulatedGateway(dalygate, tmp_path, *args)
        started.append(g)
        return g

    yield start
    for g in started:
        g.stop()


def wait_for(condition, seconds=30):
    return shared_wait_for(condition, seconds)

def relaxed_bms(tmp_path):
    """A config whose BMS staleness limit outlasts a loaded machine's hiccups at 60x (30 s simulated = 0.5 s real)."""
    config = tmp_path / "relaxed.yaml"
    config.write_text("automation:\n  stale_after_s: 600\n")
    return str(config)


def test_dead_shunt_releases_the_load_and_says_why(gateway, tmp_path):
    # 900 s of simulated time at 60x: the shunt dies 15 s after start.
    g = gateway("--speed", "60", "--config", relaxed_bms(tmp_path), "--sim-fault", "shunt:dead@900")
    status, _, _ = g.put("/api/v1/relays/load", {"on": True})
    assert status == 200
    assert g.state()["relays"]["load"] is True
    assert wait_for(lambda: not g.state()["relays"]["load"], 40), g.output()
    state = g.state()
    off = [e for e in g.events("relay") if e["output"] == "load" and not e["on"]]
    assert state["uptime_s"] >= 900, off
    assert off and off[-1]["reason"].startswith("shunt data stale") and off[-1]["source"] == "fail_safe"
    # Stale shunt values are never shown as current: offline with their age, the counter paused.
    assert state["shunt"]["online"] is False and state["shunt"]["age_s"] >= 5 and state["shunt_ok"] is False
    assert state["energy"]["counting"] is False and "shunt" in state["energy"]["paused_reason"]
    assert any(e["subject"] == "energy" and not e["online"] for e in g.events("status"))
    status, health = g.get("/healthz")
    assert status == 503 and any(r.startswith("shunt data is") for r in health["reasons"])


def test_stuck_shunt_is_caught_by_the_plausibility_check(gateway):
    # Frozen at dawn (0 A) while the sun comes up: the BMS sees the charge current, the shunt does not.
    g = gateway("--speed", "1440", "--sim-fault", "shunt:stuck")
    assert wait_for(lambda: "gatewayCurrentMismatch" in g.state()["alarms"]["gateway"], 40), g.output()


@pytest.mark.parametrize("fault", ["bms:dead@120", "bms:sleep@120"])
def test_dead_bms_fails_safe_and_turns_health_red(gateway, fault):
    g = gateway("--speed", "60", "--sim-fault", fault)
    assert g.put("/api/v1/relays/load", {"on": True})[0] == 200
    assert wait_for(lambda: not g.state()["relays"]["load"], 40), g.output()
    state = g.state()
    assert state["bms_ok"] is False and state["inputs"]["bms_stale"] is True
    off = [e for e in g.events("relay") if e["output"] == "load" and not e["on"]]
    assert off[-1]["reason"].startswith("BMS data stale")
    status, health = g.get("/healthz")
    assert status == 503 and any("BMS" in r for r in health["reasons"])


def test_stuck_bms_answers_with_frozen_numbers_and_goes_stale(gateway):
    g = gateway("--speed", "1440", "--sim-fault", "bms:stuck")
    first = g.state()["bms"]["cells"]["voltages_mv"]
    # Two simulated hours of sun later the cells have not moved, yet the BMS answers: its replies are not data
    # (the shunt sees the sun's current), so the BMS counts as stale and the fail-safes act.
    assert wait_for(lambda: g.state()["uptime_s"] > 7200, 30)
    state = g.state()
    assert state["bms"]["cells"]["voltages_mv"] == first
    assert state["bms_ok"] is False and state["inputs"]["bms_stale"] is True, state["bms_error"]
    assert state["bms_error"].startswith("BMS readings frozen") and "shunt measured" in state["bms_error"]
    assert any(e["subject"] == "bms" and not e["online"] and e["reason"].startswith("BMS readings frozen")
               for e in g.events("status"))


def test_stuck_load_line_is_reported(gateway):
    g = gateway("--speed", "60", "--sim-fault", "load:stuck")
    # The command's completion carries the line's true outcome (issue #14): 503, and the state shows the load off.
    status, content_type, body = g.put("/api/v1/relays/load", {"on": True})
    assert status == 503 and content_type.startswith("application/problem+json"), body
    assert body["detail"].startswith("could not switch the load relay:") and "stuck" in body["detail"]
    state = g.state()
    assert state["relays"]["load"] is False and state["relays_available"] is False
    assert wait_for(lambda: any(e["subject"] == "relays" and not e["online"] and "stuck" in e["reason"]
                                for e in g.events("status")), 10)
    assert not [e for e in g.events("relay") if e["output"] == "load"]


def test_dead_balancer_line_after_start_is_reported(gateway):
    g = gateway("--speed", "60", "--sim-fault", "balancer:dead@60")
    assert wait_for(lambda: g.state()["uptime_s"] > 70, 20)
    status, content_type, body = g.put("/api/v1/relays/balancer", {"on": True})
    assert status == 503 and content_type.startswith("application/problem+json"), body
    assert "does not answer" in body["detail"]
    assert g.state()["relays"]["balancer"] is False
    assert wait_for(lambda: any(e["subject"] == "relays" and "does not answer" in e["reason"] for e in g.events("status")), 10)


def test_dead_load_line_at_start_leaves_the_relays_out(gateway):
    g = gateway("--speed", "60", "--sim-fault", "load:dead")
    assert "relays: sim:gpiochip0: line 5 does not answer" in g.output()
    status, content_type, _ = g.put("/api/v1/relays/load", {"on": True})
    assert status == 503 and content_type.startswith("application/problem+json")


@pytest.mark.parametrize("fault, says", [("display:dead", "OLED"), ("display:stuck", None)])
def test_display_faults_do_not_touch_the_automation(gateway, tmp_path, fault, says):
    g = gateway("--speed", "60", "--config", relaxed_bms(tmp_path), "--sim-fault", fault)
    assert wait_for(lambda: g.state()["uptime_s"] > 30, 20)
    if says:
        assert says in g.output()
    status, _, body = g.put("/api/v1/relays/load", {"on": True})
    assert status == 200, body
    assert g.get("/healthz")[0] == 200


@pytest.mark.parametrize("fault, message", [
    ("bms2:dead", "the simulation has one BMS pack (bms or bms1), not pack 2"),
    ("pump:dead", "unknown device 'pump'"),
    ("load:corrupt", "unknown kind 'corrupt' for load"),
])
def test_bad_fault_is_one_clear_line(dalygate, tmp_path, fault, message):
    result = subprocess.run([str(dalygate), "serve", "--simulate", "--state-dir", str(tmp_path), "--http", "127.0.0.1:0",
                             "--sim-fault", fault], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and message in result.stderr + result.stdout


def test_fault_from_the_config_file(dalygate, tmp_path, gateway):
    config = tmp_path / "faults.yaml"
    config.write_text('simulation:\n  device_faults: ["shunt:dead"]\n')
    g = gateway("--config", str(config), "--speed", "60")
    assert wait_for(lambda: g.state()["shunt_ok"] is False, 10)


def test_second_manual_switch_within_the_dwell_is_409(gateway):
    g = gateway("--speed", "1")
    assert g.put("/api/v1/relays/load", {"on": True})[0] == 200
    status, content_type, body = g.put("/api/v1/relays/load", {"on": False})
    assert status == 409 and content_type.startswith("application/problem+json")
    assert "wait" in body["detail"] and "manual_min_dwell_s" in body["detail"]
    # Once the dwell is over the same switch goes through.
    assert wait_for(lambda: g.put("/api/v1/relays/load", {"on": False})[0] == 200, 5)
    assert g.state()["relays"]["load"] is False


def test_a_simulated_day_ends_with_the_bms_synced_to_100_at_full(gateway):
    g = gateway("--speed", "1440")
    synced = wait_for(lambda: [e for e in g.events("status") if e["subject"] == "soc_sync"], 75)
    assert synced, g.output()
    assert synced[0]["reason"].startswith("battery full: ") and "set to 100 %" in synced[0]["reason"]
    state = g.state()
    assert state["bms"]["pack"]["soc_pct"] >= 99.5 and state["energy"]["last_sync"] == "full"
    assert abs(state["energy"]["soc_gap_pct"]) < 1


@pytest.mark.parametrize("fault, output", [("load:dead", "load"), ("balancer:dead", "balancer")])
def test_mode_on_a_missing_relay_line_is_503_and_changes_nothing(gateway, fault, output):
    g = gateway("--speed", "60", "--sim-fault", fault)
    status, content_type, body = g.put(f"/api/v1/relays/{output}", {"mode": "on"})
    assert status == 503 and content_type.startswith("application/problem+json"), body
    state = g.state()
    assert state["relays"][output] is False and state["relays_available"] is False
    assert state["outputs"][output]["mode"] == "auto", state["outputs"]
    assert not [e for e in g.events("relay") if e["output"] == output]
    status, health = g.get("/healthz")
    assert status == 503 and any("relays unavailable" in r for r in health["reasons"]), health


def test_failed_mode_with_hold_on_a_stuck_line_leaves_the_mode_as_it_was(gateway):
    g = gateway("--speed", "60", "--sim-fault", "load:stuck")
    status, content_type, body = g.put("/api/v1/relays/load", {"mode": "on", "hold_s": 100})
    assert status == 503 and content_type.startswith("application/problem+json"), body
    state = g.state()
    assert state["relays"]["load"] is False
    assert state["outputs"]["load"]["mode"] == "auto", state["outputs"]
    # Still in auto, so the one-shot is judged by the line, not refused "in mode on".
    status, _, body = g.put("/api/v1/relays/load", {"on": False})
    assert status == 200, body


@pytest.mark.parametrize("fault", ["shunt:dead@1e19", "load:stuck@1e300"])
def test_fault_time_out_of_range_is_one_clear_line_not_a_crash(dalygate, tmp_path, fault):
    result = subprocess.run([str(dalygate), "serve", "--simulate", "--state-dir", str(tmp_path), "--http", "127.0.0.1:0",
                             "--sim-fault", fault], capture_output=True, text=True, timeout=30)
    output = result.stderr + result.stdout
    assert result.returncode == 1 and "not a number of seconds in 0...315360000" in output, output
    assert "Fatal error" not in output


@pytest.mark.parametrize("fault, says", [
    ("foo:dead", "unknown device 'foo'"), ("shunt:dead@nan", "'nan' after '@'"), ("shunt:dead@-5", "'-5' after '@'"),
    ("shunt:dead@1e300", "'1e300' after '@'"), ("bms3:dead", "not pack 3"),
])
def test_config_check_validates_device_faults_like_serve(dalygate, tmp_path, fault, says):
    config = tmp_path / "faults.yaml"
    config.write_text(f'simulation:\n  device_faults: ["{fault}"]\n')
    result = subprocess.run([str(dalygate), "config", "check", str(config)], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "simulation.device_faults" in result.stderr and says in result.stderr, result.stderr
    config.write_text('simulation:\n  device_faults: ["shunt:dead@900"]\n')
    ok = subprocess.run([str(dalygate), "config", "check", str(config)], capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr


def test_frozen_shunt_is_not_acted_on(gateway, tmp_path):
    # The INA226 freezes at dawn (0 A) with the load on; as the sun comes up the BMS sees the charge current, the
    # shunt's readings stay identical: it counts as unread (stale), not as a battery at rest.
    g = gateway("--speed", "1440", "--config", relaxed_bms(tmp_path), "--sim-fault", "shunt:stuck@10")
    assert g.put("/api/v1/relays/load", {"on": True})[0] == 200
    assert wait_for(lambda: not g.state()["relays"]["load"], 60), g.output()
    off = [e for e in g.events("relay") if e["output"] == "load" and not e["on"]]
    assert off and off[-1]["reason"].startswith("shunt data stale") and off[-1]["source"] == "fail_safe", off
    state = g.state()
    assert state["shunt_ok"] is False and state["shunt"]["stale"] is True
    assert state["energy"]["counting"] is False
    assert any(e["subject"] == "shunt" and not e["online"] and "frozen" in e["reason"] for e in g.events("status"))
    status, health = g.get("/healthz")
    assert status == 503 and any(r.startswith("shunt data is") for r in health["reasons"]), health


def test_mosfet_and_soc_writes_wait_for_the_manual_dwell(gateway):
    g = gateway("--speed", "1")
    assert wait_for(lambda: g.state()["bms_ok"], 10)
    assert g.put("/api/v1/bms/mosfets/discharge", {"on": False})[0] == 200
    status, content_type, body = g.put("/api/v1/bms/mosfets/discharge", {"on": True})
    assert status == 409 and content_type.startswith("application/problem+json") and "manual_min_dwell_s" in body["detail"]
    assert g.state()["bms"]["mosfets"]["discharge"] is False
    assert g.put("/api/v1/bms/soc", {"soc_pct": 40})[0] == 200
    status, _, body = g.put("/api/v1/bms/soc", {"soc_pct": 41})
    assert status == 409 and "manual_min_dwell_s" in body["detail"]


@pytest.mark.parametrize("fault", ["display:dead", "display:dead@60"])
def test_display_failure_is_in_the_state_and_a_status_event(gateway, tmp_path, fault):
    g = gateway("--speed", "60", "--config", relaxed_bms(tmp_path), "--sim-fault", fault)
    assert wait_for(lambda: g.state()["display"]["online"] is False, 20), g.state()["display"]
    display = g.state()["display"]
    assert "OLED" in display["reason"], display
    assert wait_for(lambda: any(e["subject"] == "display" and not e["online"] and "OLED" in e["reason"]
                                for e in g.events("status")), 10)


def test_working_display_is_online(gateway, tmp_path):
    g = gateway("--speed", "60", "--config", relaxed_bms(tmp_path))
    assert wait_for(lambda: g.state()["uptime_s"] > 30, 20)
    display = g.state()["display"]
    assert display["online"] is True and "reason" not in display


def test_restoring_a_relay_onto_a_missing_line_switches_nothing(gateway):
    # The load was on when the gateway stopped; at the next start its line is dead: the restore is a failed write.
    first = gateway("--speed", "1")
    assert first.put("/api/v1/relays/load", {"on": True})[0] == 200
    first.stop()
    g = gateway("--speed", "60", "--sim-fault", "load:dead")
    assert wait_for(lambda: g.state()["uptime_s"] > 5, 10)
    state = g.state()
    assert state["relays"]["load"] is False and state["relays_available"] is False, state["relays"]
    # The event log outlives the restart: the first run's manual "on" is there, no "restored" one.
    assert not [e for e in g.events("relay") if e["output"] == "load" and e["source"] == "startup"]
    assert any(e["subject"] == "relays" and not e["online"] for e in g.events("status"))


def test_a_hung_tick_stops_the_watchdog_and_turns_health_red(dalygate, tmp_path):
    """`shunt:hang@3` holds the I2C bus from 3 s on, so the tick that reads the shunt never returns: systemd must stop
    getting WATCHDOG=1 (and restart the unit) while /healthz, served on, says why."""
    import os
    import socket
    import time
    from conftest import free_port
    path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(path))
    listener.settimeout(0.5)
    port = free_port()
    env = dict(os.environ, NOTIFY_SOCKET=str(path), WATCHDOG_USEC="2000000")  # a ping a second while healthy
    process = subprocess.Popen([str(dalygate), "serve", "--simulate", "--speed", "1", "--sim-fault", "shunt:hang@3",
                                "--state-dir", str(tmp_path / "state"), "--http", f"127.0.0.1:{port}"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        messages = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                messages.append((time.monotonic(), listener.recv(256).decode()))
            except TimeoutError:
                pass
            pings = [at for at, text in messages if text == "WATCHDOG=1"]
            if pings and time.monotonic() - pings[-1] > 6:
                break
        texts = [text for _, text in messages]
        assert texts and texts[0] == "READY=1", texts
        assert pings, f"no WATCHDOG=1 before the hang: {texts}"
        assert time.monotonic() - pings[-1] > 6, f"WATCHDOG=1 kept coming although the tick hangs ({len(pings)} pings)"
        assert process.poll() is None, "the gateway exited instead of hanging"
        import json
        import urllib.error
        import urllib.request
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10)
            raise AssertionError("/healthz answered 200 with a hung controller")
        except urllib.error.HTTPError as error:
            health = json.load(error)
            assert error.code == 503
        assert any(reason.startswith("the controller has not ticked for") for reason in health["reasons"]), health
        # SIGTERM still ends it: the simulated bus is let go before the controller stops, as a replaced chip would.
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=20)
        listener.close()


def test_a_log_nobody_reads_never_stalls_the_controller(dalygate, tmp_path):
    """stderr is a pipe nobody drains (a stuck journald, a careless supervisor): after far more log than the pipe
    holds, the controller still ticks and every command is still answered with its outcome."""
    import json
    import time
    import urllib.request
    from conftest import free_port, wait_until_serving
    port = free_port()
    process = subprocess.Popen([str(dalygate), "serve", "--simulate", "--speed", "20", "--state-dir", str(tmp_path / "state"),
                                "--http", f"127.0.0.1:{port}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until_serving(base)

        def put(mode):
            request = urllib.request.Request(base + "/api/v1/relays/balancer", data=json.dumps({"mode": mode}).encode(),
                                             method="PUT", headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status

        # Each command logs two lines of about 150 bytes: 600 commands are 3 times what the pipe holds.
        for index in range(600):
            assert put("auto") == 200, index
        ticks = json.load(urllib.request.urlopen(base + "/api/v1/state", timeout=10))["uptime_s"]
        assert wait_for(lambda: json.load(urllib.request.urlopen(base + "/api/v1/state", timeout=10))["uptime_s"] > ticks + 5, 30)
        started = time.monotonic()
        assert put("auto") == 200 and time.monotonic() - started < 10
    finally:
        process.kill()
        process.wait(timeout=20)
