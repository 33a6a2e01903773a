"""Several packs on one gateway, one bank (issue 16): `serve --simulate` with `simulation.packs`, over HTTP and MQTT."""
import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import SimulatedGateway
from test_mqtt import Broker
from conftest import wait_for as shared_wait_for

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition, seconds=20):
    return shared_wait_for(condition, seconds, ignore=(OSError, KeyError, TypeError))

@pytest.fixture
def gateway(dalygate, tmp_path):
    started = []

    def start(config, *args):
        g = SimulatedGateway(dalygate, tmp_path / f"g{len(started)}", *args, config=config)
        started.append(g)
        return g

    yield start
    for g in started:
        g.stop()


# Noon: the sun charges, so the bank's current is well away from zero and splits between the packs.
THREE = "simulation:\n  packs: 3\n  speed: 60\n  start_hour: 12\n"


def test_three_packs_show_in_the_api_and_the_bank_current_is_their_sum(gateway):
    g = gateway(THREE)
    assert wait_for(lambda: g.state()["packs_online"] == 3 and abs(g.state()["bms"]["pack"]["current_a"]) >= 1), g.output()
    state = g.state()
    assert state["packs_total"] == 3 and [p["id"] for p in state["packs"]] == ["pack1", "pack2", "pack3"]
    assert [p["name"] for p in state["packs"]] == ["Pack 1", "Pack 2", "Pack 3"]
    currents = [p["reading"]["pack"]["current_a"] for p in state["packs"]]
    assert abs(state["bms"]["pack"]["current_a"] - sum(currents)) < 0.01 * 3 + 1e-9, (state["bms"]["pack"], currents)
    # A spread of internal resistance splits the current, and the packs' SOCs differ.
    assert len(set(currents)) > 1 and len({p["reading"]["pack"]["soc_pct"] for p in state["packs"]}) > 1
    # Every pack's cells are the bank's: the highest is the highest of all.
    assert state["bms"]["cells"]["count"] == 12
    assert state["bms"]["cells"]["max_mv"] == max(p["reading"]["cells"]["max_mv"] for p in state["packs"])
    status, listed = g.get("/api/v1/packs")
    assert status == 200 and listed["packs_total"] == 3 and len(listed["packs"]) == 3
    status, one = g.get("/api/v1/packs/pack2")
    assert status == 200 and one["id"] == "pack2" and one["online"] is True and one["reading"]["cells"]["count"] == 4
    status, problem = g.get("/api/v1/packs/nope")
    assert status == 404 and "pack1, pack2, pack3" in problem["detail"]


def test_a_dead_pack_goes_offline_alone_with_an_alarm_naming_it_and_the_fail_safes_act(gateway):
    g = gateway(THREE + '  device_faults: ["bms2:dead@120"]\n')
    assert g.put("/api/v1/relays/load", {"on": True})[0] == 200
    assert wait_for(lambda: not g.state()["packs"][1]["online"], 30), g.output()
    state = g.state()
    assert [p["online"] for p in state["packs"]] == [True, False, True]
    assert state["packs_online"] == 2 and state["bms_ok"] is False and "pack2" in state["bms_error"]
    named = [d for d in state["alarms"]["details"] if d.get("pack") == "pack2"]
    assert named and named[0]["name"] == "packOffline" and "Pack 2" in named[0]["text"]
    assert "packOffline" in state["alarms"]["gateway"]
    # The other packs keep being polled: their age stays small while pack 2's grows.
    assert wait_for(lambda: g.state()["packs"][1]["age_s"] > 60, 30)
    later = g.state()
    assert later["packs"][0]["age_s"] <= 5 and later["packs"][2]["age_s"] <= 5
    # Stale bank data: the load relay falls back to its fail-safe (off), as for a single dead BMS.
    assert wait_for(lambda: not g.state()["relays"]["load"], 40), g.output()
    assert g.state()["inputs"]["bms_stale"] is True
    off = [e for e in g.events("relay") if e["output"] == "load" and not e["on"]]
    assert off and off[-1]["reason"].startswith("BMS data stale")
    statuses = [e for e in g.events("status") if e["subject"] == "pack:pack2"]
    assert statuses and statuses[-1]["online"] is False and "Pack 2" in statuses[-1]["reason"]
    # Pack 2's own routes answer 503 while it sleeps; the others still obey.
    assert g.put("/api/v1/packs/pack2/mosfets/charge", {"on": False})[0] == 503
    assert g.put("/api/v1/packs/pack3/mosfets/charge", {"on": False})[0] == 200


def test_require_all_packs_false_keeps_the_bank_alive_on_the_others(gateway):
    g = gateway(THREE + '  device_faults: ["bms2:dead@60"]\nautomation:\n  require_all_packs: false\n')
    assert wait_for(lambda: g.state()["packs_online"] == 2 and g.state()["uptime_s"] > 200, 30), g.output()
    state = g.state()
    assert state["bms_ok"] is True and state["inputs"]["bms_stale"] is False
    assert state["bms"]["cells"]["count"] == 8


def test_packs_share_one_rs485_bus(gateway):
    g = gateway("simulation:\n  packs: 3\n  bus: rs485\n  speed: 10\n")
    assert wait_for(lambda: g.state()["packs_online"] == 3, 30), g.output()
    codes = {p["reading"]["cells"]["count"] for p in g.state()["packs"]}
    assert codes == {4}


def test_per_pack_commands_reach_only_that_pack(gateway):
    g = gateway(THREE)
    assert wait_for(lambda: g.state()["packs_online"] == 3)
    status, _, after = g.put("/api/v1/packs/pack3/soc", {"soc_pct": 90})
    assert status == 200
    assert wait_for(lambda: g.get("/api/v1/packs/pack3")[1]["reading"]["pack"]["soc_pct"] >= 89.5)
    assert g.get("/api/v1/packs/pack1")[1]["reading"]["pack"]["soc_pct"] < 89
    assert g.put("/api/v1/packs/pack1/mosfets/charge", {"mode": "off"})[0] == 422
    assert g.put("/api/v1/packs/pack9/soc", {"soc_pct": 50})[0] == 404


def test_single_pack_json_is_todays_plus_the_pack_keys(gateway):
    g = gateway("simulation:\n  speed: 10\n")
    assert wait_for(lambda: g.state()["bms_ok"])
    state = g.state()
    assert state["packs_total"] == 1 and state["packs_online"] == 1
    (pack,) = state["packs"]
    assert pack["id"] == "pack1" and pack["name"] == "Pack 1" and pack["online"] is True
    assert set(pack["reading"]) == set(state["bms"]) and pack["reading"]["cells"]["count"] == state["bms"]["cells"]["count"]
    assert all("pack" not in d for d in state["alarms"]["details"])
    assert "packOffline" not in state["alarms"]["gateway"]
    assert not [e for e in g.events("status") if e["subject"].startswith("pack:")]


def test_fault_for_a_pack_the_simulation_lacks_is_one_line(dalygate, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text('simulation:\n  packs: 2\n  device_faults: ["bms3:dead"]\n')
    result = subprocess.run([str(dalygate), "serve", "--simulate", "--config", str(config), "--state-dir", str(tmp_path),
                             "--http", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "the simulation has 2 packs (bms1...bms2), not pack 3" in result.stderr + result.stdout


# MQTT: the bank's packs on a real mosquitto broker.

def test_three_packs_on_mqtt_and_home_assistant(gateway, tmp_path):
    broker = Broker(tmp_path)
    try:
        g = gateway(THREE, "--mqtt", f"mqtt://127.0.0.1:{broker.port}")
        assert wait_for(lambda: g.state()["packs_online"] == 3)

        def pack_states():
            got = broker.retained(["dalygate/packs/+/state"])
            return got if len(got) == 3 else None
        assert wait_for(pack_states, 30)
        states = {topic: json.loads(payload) for topic, payload in pack_states().items()}
        assert sorted(states) == [f"dalygate/packs/pack{n}/state" for n in (1, 2, 3)]
        assert all(s["reading"]["cells"]["count"] == 4 for s in states.values())
        devices = {f"homeassistant/device/dalygate{suffix}/config" for suffix in ("", "_pack1", "_pack2", "_pack3")}
        assert wait_for(lambda: set(broker.retained(["homeassistant/#"])) == devices)
        discovery = {topic: json.loads(payload) for topic, payload in broker.retained(["homeassistant/#"]).items()}
        pack2 = discovery["homeassistant/device/dalygate_pack2/config"]
        assert pack2["dev"]["identifiers"] == ["dalygate_pack2"] and pack2["dev"]["via_device"] == "dalygate"
        assert pack2["state_topic"] == "dalygate/packs/pack2/state" and pack2["cmps"]["online"]["p"] == "binary_sensor"
        pack1 = discovery["homeassistant/device/dalygate_pack1/config"]["cmps"]
        for key in ("voltage", "current", "soc", "cell_max", "cell_min", "cell_spread", "cell_4", "temperature_1"):
            assert pack1[key]["p"] == "sensor" and pack1[key]["unique_id"] == f"dalygate_pack1_{key}", key
        # The bank's device has every pack's cells.
        assert "cell_12" in discovery["homeassistant/device/dalygate/config"]["cmps"]
        # juepi's topics are the bank's, with the first pack's cells only.
        juepi = broker.retained(["dalygate/#"])
        assert "dalygate/Daly_C4V" in juepi and "dalygate/Daly_C5V" not in juepi, sorted(juepi)
    finally:
        broker.stop()


def test_unknown_juepi_pack_is_one_line(dalygate, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("simulation:\n  packs: 2\nmqtt:\n  juepi_pack: left\n")
    result = subprocess.run([str(dalygate), "serve", "--simulate", "--config", str(config), "--state-dir", str(tmp_path),
                             "--http", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "config key 'mqtt.juepi_pack': no pack 'left'; packs: pack1, pack2" in result.stderr


def sse_events(base, seconds, stop):
    """(event, data) pairs from GET /api/v1/events until `stop(events)` or `seconds` pass."""
    events, name = [], None
    deadline = time.monotonic() + seconds
    with urllib.request.urlopen(base + "/api/v1/events", timeout=seconds) as stream:
        for raw in stream:
            line = raw.decode().rstrip("\n")
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:") and name:
                events.append((name, json.loads(line[5:])))
                if stop(events):
                    break
            if time.monotonic() > deadline:
                break
    return events


def test_sse_state_carries_the_packs_and_a_status_event_tells_of_a_dead_pack(gateway):
    g = gateway(THREE + '  device_faults: ["bms3:dead@60"]\n')

    def done(events):
        return any(n == "status" and d["subject"] == "pack:pack3" and not d["online"] for n, d in events)
    events = sse_events(g.base, 30, done)
    states = [d for n, d in events if n == "state"]
    assert states and states[0]["packs_total"] == 3 and len(states[0]["packs"]) == 3
    dead = [d for n, d in events if n == "status" and d["subject"] == "pack:pack3"]
    assert dead and dead[-1]["online"] is False and "Pack 3" in dead[-1]["reason"]


def test_three_packs_per_entity_discovery_is_handed_over(gateway, tmp_path):
    """A bank whose broker holds the per-entity documents of an earlier version (the gateway's and each pack's):
    every old entity moves into its device's document with the same ids, and no old document stays retained."""
    from test_mqtt import Subscriber, assert_handed_over, legacy_documents, EMPTY
    broker = Broker(tmp_path)
    live = None
    try:
        old = legacy_documents("legacy_discovery_three_packs.txt")
        for topic, payload in old.items():
            broker.publish(topic, payload, retain=True)
        live = Subscriber(broker.port, ["homeassistant/#"], fresh_only=True)
        assert wait_for(lambda: broker.publish("homeassistant/probe", "x") or any(t == "homeassistant/probe" for t, _ in live.snapshot()))
        gateway(THREE, "--mqtt", f"mqtt://127.0.0.1:{broker.port}")
        messages = live.wait(lambda m: sum(1 for _, p in m if p in EMPTY) >= len(old), seconds=30)
        assert_handed_over(old, broker.retained(["homeassistant/#"]), messages)
    finally:
        if live:
            live.close()
        broker.stop()


def test_a_pack_removed_from_the_config_has_its_device_cleared_and_no_other_gateways(gateway, tmp_path):
    """A gateway run with three packs, then with two: pack 3's device document (and old per-entity documents of it)
    no longer stay retained, logged once; documents of other gateways stay, a node id that starts like ours
    (`dalygate2`) and one that looks like one of our packs (`dalygate_garage`, whose packs name it in via_device)."""
    from test_mqtt import EMPTY, legacy_documents
    broker = Broker(tmp_path)
    try:
        others = {
            "homeassistant/device/dalygate2_pack3/config": {"dev": {"identifiers": ["dalygate2_pack3"], "via_device": "dalygate2"}},
            "homeassistant/device/dalygate_garage/config": {"dev": {"identifiers": ["dalygate_garage"]}},
            "homeassistant/device/dalygate_garage_pack1/config": {"dev": {"identifiers": ["dalygate_garage_pack1"],
                                                                          "via_device": "dalygate_garage"}},
        }
        for topic, document in others.items():
            broker.publish(topic, json.dumps(dict(document, o={"name": "dalygate"}, cmps={"soc": {"p": "sensor"}})), retain=True)
        first = gateway(THREE, "--mqtt", f"mqtt://127.0.0.1:{broker.port}")
        ours = {f"homeassistant/device/dalygate{suffix}/config" for suffix in ("", "_pack1", "_pack2", "_pack3")}
        assert wait_for(lambda: ours <= set(broker.retained(["homeassistant/#"])), 30)
        first.stop()
        # An earlier version's per-entity documents of pack 3, still retained.
        pack3 = {t: p for t, p in legacy_documents("legacy_discovery_three_packs.txt").items() if t.split("/")[2] == "dalygate_pack3"}
        assert len(pack3) == 12
        for topic, payload in pack3.items():
            broker.publish(topic, payload, retain=True)
        second = gateway(THREE.replace("packs: 3", "packs: 2"), "--mqtt", f"mqtt://127.0.0.1:{broker.port}")
        gone = {"homeassistant/device/dalygate_pack3/config"} | set(pack3)
        assert wait_for(lambda: not gone & set(broker.retained(["homeassistant/#"])), 30), sorted(broker.retained(["homeassistant/#"]))
        kept = set(broker.retained(["homeassistant/#"]))
        assert kept == (ours - gone) | set(others), sorted(kept)
        assert second.output().count("cleared Home Assistant's device dalygate_pack3") == 1, second.output()[-2000:]
        assert "dalygate_garage" not in second.output() and "dalygate2" not in second.output()
    finally:
        broker.stop()
