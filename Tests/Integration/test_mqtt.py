"""The MQTT bridge against a real mosquitto broker on a free loopback port."""
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import threading

import pytest
from conftest import free_port, wait_until_serving
from conftest import wait_for as shared_wait_for

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "mqtt-token"



class Broker:
    def __init__(self, directory: Path):
        self.port = free_port()
        self.config = directory / "mosquitto.conf"
        self.config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(["mosquitto", "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    def collect(self, topics, seconds, count=None):
        """Messages as (topic, payload) for `seconds`, or until `count` arrived."""
        args = ["mosquitto_sub", "-p", str(self.port), "-v", "-W", str(seconds)]
        if count:
            args += ["-C", str(count)]
        for topic in topics:
            args += ["-t", topic]
        result = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 5)
        return [tuple(line.split(" ", 1)) if " " in line else (line, "") for line in result.stdout.splitlines()]

    def retained(self, topics, seconds=2):
        """The retained messages of `topics`, as {topic: payload}."""
        args = ["mosquitto_sub", "-p", str(self.port), "-v", "--retained-only", "-W", str(seconds)]
        for topic in topics:
            args += ["-t", topic]
        result = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 5)
        return dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)

    def publish(self, topic, payload, retain=False):
        subprocess.run(["mosquitto_pub", "-p", str(self.port), "-t", topic, "-m", payload] + (["-r"] if retain else []),
                       check=True, timeout=10)


class Subscriber:
    """mosquitto_sub in the background: every message as (topic, payload) in arrival order, for waiting on."""

    def __init__(self, port, topics, fresh_only=False):
        args = ["mosquitto_sub", "-p", str(port), "-v"] + (["-R"] if fresh_only else [])
        for topic in topics:
            args += ["-t", topic]
        self.messages = []
        self.lock = threading.Lock()
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            topic, _, payload = line.rstrip("\n").partition(" ")
            with self.lock:
                self.messages.append((topic, payload))

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def wait(self, condition, seconds=20):
        """Waits until `condition(messages)` is true; returns the messages then, or fails with what arrived."""
        deadline = time.monotonic() + seconds
        while True:
            messages = self.snapshot()
            if condition(messages):
                return messages
            assert time.monotonic() < deadline, f"timed out after {seconds} s; got {messages[-20:]}"
            time.sleep(0.05)

    def latest(self, topic):
        return next((payload for t, payload in reversed(self.snapshot()) if t == topic), None)

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def broker(tmp_path):
    broker = Broker(tmp_path)
    yield broker
    if broker.process.poll() is None:
        broker.stop()


@pytest.fixture
def gateway(dalygate, broker, tmp_path):
    http = free_port()
    output = tmp_path / "gateway.log"
    log = open(output, "w")
    process = subprocess.Popen([str(dalygate), "serve", "--simulate", "--speed", "60", "--state-dir", str(tmp_path / "state"),
                                "--http", f"127.0.0.1:{http}", "--mqtt", f"mqtt://127.0.0.1:{broker.port}"], cwd=ROOT,
                               env=dict(os.environ, DALYGATE_TOKEN=TOKEN), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{http}"
    assert wait_until_serving(base)
    # The bridge is up once its retained availability says so.
    assert wait_for(lambda: dict(broker.collect(["dalygate/status"], seconds=1, count=1)).get("dalygate/status") == "online")
    yield base, process, output
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    log.close()


def state(base):
    with urllib.request.urlopen(base + "/api/v1/state", timeout=5) as response:
        return json.load(response)


def wait_for(condition, seconds=10):
    return shared_wait_for(condition, seconds)

def test_juepi_topics_json_state_and_discovery(broker, gateway):
    expected = {"dalygate/Daly_SOC", "dalygate/Calc_maxWh", "dalygate/state", "dalygate/status", "homeassistant/device/dalygate/config"}
    subscriber = Subscriber(broker.port, ["dalygate/#", "homeassistant/#"])
    try:
        messages = dict(subscriber.wait(lambda m: expected <= {t for t, _ in m}))
    finally:
        subscriber.close()
    assert re.fullmatch(r"\d+\.\d", messages["dalygate/Daly_SOC"])
    assert re.fullmatch(r"\d+\.\d\d", messages["dalygate/Daly_V"])
    assert re.fullmatch(r"-?\d+\.\d\d\d", messages["dalygate/Daly_dV"])
    assert re.fullmatch(r"-?\d+\.\d\d", messages["dalygate/Daly_I"])
    for cell in range(1, 5):
        assert re.fullmatch(r"\d\.\d\d\d", messages[f"dalygate/Daly_C{cell}V"])
    assert messages["dalygate/Daly_LSw"] in {"on", "off"} and messages["dalygate/Daly_CSw"] in {"on", "off"}
    assert re.fullmatch(r"-?\d+\.00", messages["dalygate/Daly_Temp"])
    assert messages["dalygate/CtrlStatTXT"] == "ok"
    assert re.fullmatch(r"\d+", messages["dalygate/CtrlStatUpt"])
    assert re.fullmatch(r"\d+\.\d\d", messages["dalygate/INA_V"])
    assert re.fullmatch(r"-?\d+\.\d", messages["dalygate/INA_P"])
    assert re.fullmatch(r"\d+\.\d\d\d", messages["dalygate/Calc_maxWh"])
    assert messages["dalygate/status"] == "online"
    document = json.loads(messages["dalygate/state"])
    assert {"bms", "relays", "energy", "display"} <= set(document)
    components = json.loads(messages["homeassistant/device/dalygate/config"])["cmps"]
    charged = components["energy_charged"]
    assert charged["p"] == "sensor" and charged["state_class"] == "total_increasing" and charged["device_class"] == "energy"
    assert components["load"]["p"] == "switch" and components["load"]["command_topic"] == "dalygate/set/load"


def test_commands_both_ways(broker, gateway):
    base, _, _ = gateway
    broker.publish("dalygate/Ctrl_SSR1", "on")
    assert wait_for(lambda: state(base)["relays"]["load"])
    assert state(base)["outputs"]["load"]["source"] == "mqtt"
    # The event log is written behind the state: wait for it rather than read it once.
    def executed_over_mqtt():
        log = json.load(urllib.request.urlopen(base + "/api/v1/events/log?kind=command&limit=5"))["events"]
        return any(e["data"]["source"] == "mqtt" and e["data"]["status"] == "executed" for e in log)
    assert wait_for(executed_over_mqtt)

    broker.publish("dalygate/Ctrl_CSw", "off")
    assert wait_for(lambda: state(base)["bms"]["mosfets"]["charge"] is False)
    assert wait_for(lambda: dict(broker.collect(["dalygate/Ctrl_CSw"], seconds=1)).get("dalygate/Ctrl_CSw") == "dnc")

    request = urllib.request.Request(base + "/api/v1/relays/balancer", method="PUT", data=b'{"mode": "on"}',
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    urllib.request.urlopen(request, timeout=10)
    assert wait_for(lambda: dict(broker.collect(["dalygate/Ctrl_SSR2"], seconds=1, count=1)).get("dalygate/Ctrl_SSR2") == "on")


def test_garbage_and_oversized_payloads_change_nothing(broker, gateway):
    base, _, output = gateway
    before = state(base)["relays"]
    broker.publish("dalygate/Ctrl_SSR1", "x" * 5000)
    broker.publish("dalygate/Ctrl_SSR1", "maybe")
    broker.publish("dalygate/set/load", "\x01\x02garbage")
    broker.publish("dalygate/set/soc", "1e999")
    # Every bad payload was handled once the log names all of them.
    assert wait_for(lambda: output.read_text().count("ignored payload") >= 3
                    and "ignored an oversized payload" in output.read_text())
    assert state(base)["relays"] == before
    text = output.read_text()
    assert "ignored an oversized payload (4097 bytes) on dalygate/Ctrl_SSR1" in text
    assert "ignored payload 'maybe' on dalygate/Ctrl_SSR1" in text
    assert text.count("ignored payload") == 3
    # The bridge still obeys a good command after them.
    broker.publish("dalygate/Ctrl_SSR2", "on" if not before["balancer"] else "off")
    assert wait_for(lambda: state(base)["relays"]["balancer"] != before["balancer"])


def test_broker_restart_reconnects_republishes_and_obeys_commands(broker, gateway):
    base, process, output = gateway
    assert state(base)["relays"]["load"] is False
    broker.stop()
    # Down until the bridge has noticed (its reconnect attempts fail), not for a fixed time.
    assert wait_for(lambda: "MQTT connection lost" in output.read_text(), seconds=20), output.read_text()[-2000:]
    assert process.poll() is None
    broker.start()  # an empty broker: nothing retained until the bridge republishes
    subscriber = Subscriber(broker.port, ["dalygate/#"])
    try:
        messages = subscriber.wait(lambda m: {"dalygate/status", "dalygate/state", "dalygate/Daly_V"} <= {t for t, _ in m},
                                   seconds=40)
        assert dict(messages)["dalygate/status"] == "online"
        assert wait_for(lambda: state(base)["bms_ok"] is True)
        # Subscriptions are renewed: a command sent to the new broker is obeyed and written back.
        broker.publish("dalygate/Ctrl_SSR1", "on")
        assert wait_for(lambda: state(base)["relays"]["load"] is True, seconds=15)
        assert state(base)["outputs"]["load"]["source"] == "mqtt"
        # Past automation.manual_min_dwell_s (2 s simulated): inside it the controller defers a manual change.
        assert wait_for(lambda: state(base)["outputs"]["load"]["changed_s_ago"] > 2.5, seconds=15)
        broker.publish("dalygate/set/load/mode", "off")
        assert wait_for(lambda: state(base)["outputs"]["load"]["mode"] == "off", seconds=15)
    finally:
        subscriber.close()


def test_last_will_on_kill_9(broker, gateway):
    _, process, _ = gateway
    assert dict(broker.collect(["dalygate/status"], seconds=1)).get("dalygate/status") == "online"
    process.kill()
    process.wait(timeout=10)
    assert wait_for(lambda: dict(broker.collect(["dalygate/status"], seconds=1)).get("dalygate/status") == "offline", seconds=15)


def test_clean_stop_publishes_offline(broker, gateway):
    _, process, _ = gateway
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)
    assert process.returncode == 0
    assert dict(broker.collect(["dalygate/status"], seconds=1)).get("dalygate/status") == "offline"


def test_mqtt5_and_retained_relay_restored_at_start(dalygate, broker, tmp_path):
    broker.publish("dalygate/Ctrl_SSR1", "on", retain=True)
    config = tmp_path / "mqtt5.yaml"
    config.write_text(f"mqtt:\n  url: mqtt://127.0.0.1:{broker.port}\n  protocol: 5\n")
    http = free_port()
    process = subprocess.Popen([str(dalygate), "serve", "--simulate", "--config", str(config), "--state-dir", str(tmp_path / "s"),
                                "--http", f"127.0.0.1:{http}"], cwd=ROOT, env=dict(os.environ, DALYGATE_TOKEN=TOKEN),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{http}"
    try:
        assert wait_until_serving(base)
        # juepi's startup restore: the retained Ctrl_SSR1 is applied once, within the restore window.
        assert wait_for(lambda: state(base)["relays"]["load"], seconds=10)
        assert state(base)["outputs"]["load"]["source"] == "mqtt"
        broker.publish("dalygate/Ctrl_SSR2", "on")
        assert wait_for(lambda: state(base)["relays"]["balancer"], seconds=10)
        assert dict(broker.collect(["dalygate/status"], seconds=1)).get("dalygate/status") == "online"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)



def test_juepi_cadence_data_block_every_120_ticks_and_avgp_every_360(broker, gateway):
    """juepi §1.4 B/C, §1.5 and §1.8 (spec/juepi-controller.md), not the current implementation: the data block
    (ending in Calc_Wh) every 120 ticks, Calc_AvgP every 360 ticks when its 6-minute slot closes. Ticks are read
    from CtrlStatUpt, so the speed of the simulation does not matter."""
    subscriber = Subscriber(broker.port, ["dalygate/CtrlStatUpt", "dalygate/Calc_Wh", "dalygate/Calc_AvgP"], fresh_only=True)
    try:
        messages = subscriber.wait(lambda m: sum(t == "dalygate/Calc_AvgP" for t, _ in m) >= 4, seconds=90)
    finally:
        subscriber.close()
    uptimes, avgp_ticks, last_uptime = [], [], None
    for index, (topic, payload) in enumerate(messages):
        if topic == "dalygate/CtrlStatUpt":
            last_uptime = int(payload)
            uptimes.append(last_uptime)
            # Calc_Wh closes the same data block.
            following = [t for t, _ in messages[index + 1:] if t != "dalygate/Calc_AvgP"]
            if following:
                assert following[0] == "dalygate/Calc_Wh", messages[index:index + 5]
        elif topic == "dalygate/Calc_AvgP" and last_uptime is not None:
            avgp_ticks.append(last_uptime)
    assert len(uptimes) >= 6
    assert all(u % 120 == 0 for u in uptimes), uptimes
    assert [b - a for a, b in zip(uptimes, uptimes[1:])] == [120] * (len(uptimes) - 1), uptimes
    assert len(avgp_ticks) >= 3
    assert [b - a for a, b in zip(avgp_ticks, avgp_ticks[1:])] == [360] * (len(avgp_ticks) - 1), (avgp_ticks, uptimes)


@contextlib.contextmanager
def juepi_gateway(dalygate, broker, tmp_path, *extra, port=None):
    """A gateway under juepi's prefix, JSON topics under the default json_prefix; stopped with SIGTERM on leaving.
    `port`: where it finds the broker, if not on the broker's own port (a Door in front of it)."""
    config = tmp_path / "juepi.yaml"
    config.write_text(f"mqtt:\n  url: mqtt://127.0.0.1:{port or broker.port}\n  prefix: HB7/UG/BMS/\n")
    http = free_port()
    process = subprocess.Popen([str(dalygate), "serve", "--simulate", "--config", str(config), "--state-dir", str(tmp_path / "j"),
                                "--http", f"127.0.0.1:{http}", *extra], cwd=ROOT, env=dict(os.environ, DALYGATE_TOKEN=TOKEN),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{http}"
    try:
        assert wait_until_serving(base)
        yield base, process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


JUEPI_TOPICS = {"Daly_SOC", "Daly_V", "Daly_dV", "Daly_I", "Daly_LSw", "Daly_CSw", "Daly_Temp", "CtrlStatTXT", "CtrlStatUpt",
                "INA_V", "INA_I", "INA_P", "Calc_SOC", "Calc_maxWh", "Calc_Wh", "Calc_AvgP", "Ctrl_SSR1", "Ctrl_SSR2",
                "Ctrl_CSw", "Ctrl_LSw"} | {f"Daly_C{n}V" for n in range(1, 17)}


def test_juepi_prefix_carries_only_juepi_topics(dalygate, broker, tmp_path):
    with juepi_gateway(dalygate, broker, tmp_path, "--speed", "60") as (base, process):
        messages = broker.collect(["HB7/UG/BMS/#", "dalygate/#"], seconds=4)
        juepi = {topic[len("HB7/UG/BMS/"):] for topic, _ in messages if topic.startswith("HB7/UG/BMS/")}
        assert "Daly_V" in juepi and juepi <= JUEPI_TOPICS, juepi - JUEPI_TOPICS
        json_topics = {topic for topic, _ in messages if topic.startswith("dalygate/")}
        assert {"dalygate/state", "dalygate/status"} <= json_topics


def test_calc_avgp_goes_out_as_each_slot_closes_with_its_value(dalygate, broker, tmp_path):
    # 60x: a 360 s slot closes every 6 real seconds.
    with juepi_gateway(dalygate, broker, tmp_path, "--speed", "60") as (base, process):
        messages = broker.collect(["HB7/UG/BMS/Calc_AvgP"], seconds=20, count=2)
        assert len(messages) == 2
        value = float(messages[-1][1])
        assert abs(value - state(base)["energy"]["avg_power_1h_w"]) <= 0.051


def test_retained_mosfet_command_is_applied_at_connect_and_answered_with_dnc(dalygate, broker, tmp_path):
    broker.publish("HB7/UG/BMS/Ctrl_CSw", "off", retain=True)
    with juepi_gateway(dalygate, broker, tmp_path, "--speed", "60") as (base, process):
        # Until the first poll the state has no "bms" key.
        assert wait_for(lambda: ((state(base).get("bms") or {}).get("mosfets") or {}).get("charge") is False, seconds=15)
        assert wait_for(lambda: dict(broker.collect(["HB7/UG/BMS/Ctrl_CSw"], seconds=1)).get("HB7/UG/BMS/Ctrl_CSw") == "dnc")


def test_mqtt_switch_within_the_dwell_is_logged_and_the_latest_applied_after_it(dalygate, broker, tmp_path):
    with juepi_gateway(dalygate, broker, tmp_path, "--speed", "1") as (base, process):
        assert wait_for(lambda: state(base)["bms_ok"] and state(base)["shunt_ok"], seconds=10)
        broker.publish("HB7/UG/BMS/Ctrl_SSR1", "on")
        assert wait_for(lambda: state(base)["relays"]["load"], seconds=5)
        broker.publish("HB7/UG/BMS/Ctrl_SSR1", "off")  # within the 2 s dwell: refused, kept, applied after it
        assert wait_for(lambda: not state(base)["relays"]["load"], seconds=6)
        assert state(base)["outputs"]["load"]["reason"] == "manual via MQTT (after the dwell)"


def test_home_assistant_birth_republishes_discovery_and_state(broker, gateway):
    """Home Assistant restarted: its `homeassistant/status online` brings the device document and the state again,
    each entity named with `default_entity_id` (domain included), none with the retired `object_id`."""
    device = "homeassistant/device/dalygate/config"
    # The device document is retained once the BMS has said how many cells it has.
    assert wait_for(lambda: list(broker.retained(["homeassistant/#"])) == [device]), sorted(broker.retained(["homeassistant/#"]))
    # Only messages sent from now on (no retained ones), so anything that arrives was sent because of the birth.
    fresh = Subscriber(broker.port, ["homeassistant/#", "dalygate/state"], fresh_only=True)
    try:
        # mosquitto_sub is subscribed once a probe of ours comes back through it.
        assert wait_for(lambda: broker.publish("homeassistant/probe", "x")
                        or any(t == "homeassistant/probe" for t, _ in fresh.snapshot()))
        broker.publish("homeassistant/status", "online")
        messages = dict(fresh.wait(lambda m: {device, "dalygate/state"} <= {t for t, _ in m}))
    finally:
        fresh.close()
    document = json.loads(messages[device])
    assert "object_id" not in messages[device] and len(document["cmps"]) > 20
    for key, component in document["cmps"].items():
        assert component["unique_id"] == f"dalygate_{key}"
        assert component["default_entity_id"] == f"{component['p']}.dalygate_{key}", key
    assert document["cmps"]["pack_voltage"]["default_entity_id"] == "sensor.dalygate_pack_voltage"


FIXTURES = Path(__file__).resolve().parent / "fixtures"
# How mosquitto_sub -v prints an empty payload.
EMPTY = ("", "(null)")


def legacy_documents(name):
    """The per-entity discovery documents earlier versions retained (captured from one), as {topic: payload}."""
    lines = (FIXTURES / name).read_text().splitlines()
    return dict(line.split(" ", 1) for line in lines if line.strip())


def assert_handed_over(old, retained, live):
    """Every old document is gone from the broker, its entity is in a device document with the same unique_id and
    default_entity_id, and the order was: its migrate marker, then the device document, then the empty payload."""
    assert not set(old) & set(retained), sorted(set(old) & set(retained))
    assert all(topic.startswith("homeassistant/device/") for topic in retained), sorted(retained)
    components = {c["unique_id"]: c for doc in retained.values() for c in json.loads(doc)["cmps"].values()}
    for topic, payload in old.items():
        entity = json.loads(payload)
        assert components[entity["unique_id"]]["default_entity_id"] == entity["default_entity_id"], topic
        node = topic.split("/")[2]
        order = [i for i, (t, p) in enumerate(live) if t == topic and p == '{"migrate_discovery":true}']
        document = [i for i, (t, _) in enumerate(live) if t == f"homeassistant/device/{node}/config"]
        cleared = [i for i, (t, p) in enumerate(live) if t == topic and p in EMPTY]
        # No device document of its node before its marker: Home Assistant would see two configs for one entity.
        assert order and cleared and document and order[0] < document[0], (topic, order, document, cleared)
        assert any(order[0] < i < cleared[0] for i in document), (topic, order, document, cleared)


def test_per_entity_discovery_of_earlier_versions_is_handed_over_and_cleared(dalygate, broker, tmp_path):
    """An installed user's broker holds the per-entity documents of earlier versions: the gateway sends Home
    Assistant's migration (marker, device document, empty payload) once, and nothing old stays retained."""
    old = legacy_documents("legacy_discovery_one_pack.txt")
    for topic, payload in old.items():
        broker.publish(topic, payload, retain=True)
    live = Subscriber(broker.port, ["homeassistant/#"], fresh_only=True)
    try:
        assert wait_for(lambda: broker.publish("homeassistant/probe", "x") or any(t == "homeassistant/probe" for t, _ in live.snapshot()))
        with juepi_gateway(dalygate, broker, tmp_path, "--speed", "60"):
            messages = live.wait(lambda m: sum(1 for _, p in m if p in EMPTY) >= len(old))
        assert_handed_over(old, broker.retained(["homeassistant/#"]), messages)
        # A second start finds nothing old: it sends the device document, and no marker and no clear.
        before = len(live.snapshot())
        with juepi_gateway(dalygate, broker, tmp_path, "--speed", "60"):
            again = live.wait(lambda m: any(t == "homeassistant/device/dalygate/config" for t, _ in m[before:]))[before:]
        assert not [t for t, p in again if p in EMPTY + ('{"migrate_discovery":true}',)], again
    finally:
        live.close()


def test_a_gateway_whose_bms_never_answers_is_discovered_after_the_grace_unless_the_broker_has_its_device(dalygate, broker, tmp_path):
    """A new install with a dead BMS still gets its device (relays, energy) once the 30 s grace is over; a broker that
    holds the device's document from an earlier run keeps it (a document without the real cells would drop them)."""
    device = "homeassistant/device/dalygate/config"
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    kept = Broker(earlier)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    try:
        kept.publish(device, '{"dev":{"identifiers":["dalygate"]},"o":{"name":"dalygate"},"cmps":{"cell_16":{"p":"sensor"}}}', retain=True)
        with juepi_gateway(dalygate, broker, fresh, "--sim-fault", "bms:dead"), \
                juepi_gateway(dalygate, kept, earlier, "--sim-fault", "bms:dead"):
            assert not broker.retained([device], seconds=1)
            assert wait_for(lambda: device in broker.retained([device], seconds=1), seconds=60)
            cmps = json.loads(broker.retained([device])[device])["cmps"]
            assert "load" in cmps and "energy_charged" in cmps
            assert "cell_16" in json.loads(kept.retained([device])[device])["cmps"]
    finally:
        kept.stop()


class Door:
    """A loopback port that refuses connections until opened, then forwards each one to the broker: the gateway
    can be kept away from the broker until it knows its BMS's shape, while a subscriber already listens."""

    def __init__(self, broker):
        self.port = free_port()
        self.target = broker.port
        self.server = None
        self.connections = []

    def open(self):
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def drop(self):
        """Cuts every connection made so far (the gateway sees its broker go away, and reconnects)."""
        for end in self.connections:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
        self.connections = []

    def close(self):
        if self.server:
            self.server.close()
        self.drop()


def listening(broker, topics=("homeassistant/#",)):
    """A subscriber to messages sent from now on, once it is surely subscribed (a probe of ours came back)."""
    live = Subscriber(broker.port, list(topics), fresh_only=True)
    assert wait_for(lambda: broker.publish("homeassistant/probe", "x") or any(t == "homeassistant/probe" for t, _ in live.snapshot()))
    return live


def test_a_gateway_that_connects_knowing_its_shape_sends_the_markers_before_the_device_document(dalygate, broker, tmp_path):
    """At a connection the device document waits for the broker's retained documents: a gateway that already knows
    its BMS's cells when it connects must still send each old topic's marker first, then the device document, then
    the empty payload (Home Assistant's order), as a subscriber sees them."""
    old = legacy_documents("legacy_discovery_one_pack.txt")
    for topic, payload in old.items():
        broker.publish(topic, payload, retain=True)
    live = listening(broker)
    door = Door(broker)
    try:
        with juepi_gateway(dalygate, broker, tmp_path, "--speed", "60", port=door.port) as (base, process):
            assert wait_for(lambda: state(base)["bms_ok"] and state(base)["bms"]["cells"]["count"] == 4, seconds=20)
            assert not [t for t, _ in live.snapshot() if t != "homeassistant/probe"]
            door.open()
            messages = live.wait(lambda m: sum(1 for _, p in m if p in EMPTY) >= len(old), seconds=60)
        assert_handed_over(old, broker.retained(["homeassistant/#"]), messages)
    finally:
        door.close()
        live.close()


def test_a_dead_bms_over_old_per_entity_documents_keeps_every_entity_and_hands_over_after_the_grace(dalygate, broker, tmp_path):
    """A gateway whose BMS never answers, on a broker holding the per-entity documents of an earlier version: nothing
    is cleared while the shape is unknown (Home Assistant keeps its entities), and after the grace the device document
    goes out carrying every old entity (at least the old documents' cells), each handed over in order."""
    old = legacy_documents("legacy_discovery_one_pack.txt")
    for topic, payload in old.items():
        broker.publish(topic, payload, retain=True)
    live = listening(broker)
    try:
        with juepi_gateway(dalygate, broker, tmp_path, "--sim-fault", "bms:dead") as (base, process):
            started = time.monotonic()
            # Home Assistant restarting within the grace changes nothing: the device's shape is still unknown.
            assert wait_for(lambda: dict(broker.collect(["dalygate/status"], seconds=1, count=1)).get("dalygate/status") == "online")
            broker.publish("homeassistant/status", "online")
            messages = live.wait(lambda m: sum(1 for _, p in m if p in EMPTY) >= len(old), seconds=90)
            waited = time.monotonic() - started
            assert state(base)["bms_ok"] is False and not state(base).get("bms")
        document = [i for i, (t, _) in enumerate(messages) if t == "homeassistant/device/dalygate/config"]
        assert document and waited > 25, (document, waited)
        assert not [t for t, p in messages[:document[0]] if p in EMPTY], messages[:document[0]]
        assert_handed_over(old, broker.retained(["homeassistant/#"]), messages)
    finally:
        live.close()


def test_a_reconnection_that_finds_old_documents_sends_their_markers_before_the_device_document(dalygate, broker, tmp_path):
    """The same order at a reconnection: old per-entity documents retained while the gateway was connected (it does
    not take live messages for what the broker holds) are handed over when it reconnects, marker first."""
    old = legacy_documents("legacy_discovery_one_pack.txt")
    live = listening(broker)
    door = Door(broker)
    door.open()
    try:
        with juepi_gateway(dalygate, broker, tmp_path, "--speed", "60", port=door.port) as (base, process):
            live.wait(lambda m: any(t == "homeassistant/device/dalygate/config" for t, _ in m))
            start = len(live.snapshot())
            for topic, payload in old.items():
                broker.publish(topic, payload, retain=True)
            door.drop()
            messages = live.wait(lambda m: sum(1 for _, p in m[start:] if p in EMPTY) >= len(old), seconds=60)[start:]
        assert_handed_over(old, broker.retained(["homeassistant/#"]), messages)
    finally:
        door.close()
        live.close()


def resident_kib(pid, library):
    """KiB of `library`'s pages resident in the process (every mapping of it, from /proc/PID/smaps)."""
    total, inside = 0, False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            inside = len(head) > 5 and head[5].endswith("/" + library)
        elif inside and head[0] == "Rss:":
            total += int(head[1])
    return total


def test_a_busy_gateway_leaves_foundations_icu_backed_parts_alone(broker, gateway):
    """Foundation's locale, calendar, time-zone and collation code maps megabytes of ICU for the rest of the process's
    life the first time it runs. The gateway writes and reads its timestamps, writes its discovery documents and
    finds its simulated day without them, so after discovery, a command, events and a history page with ISO 8601
    bounds, ICU holds only the pages loading it touched (about 1.1 MB here; 2.9 MB after one `.formatted(.iso8601)`
    or `Date(_, strategy: .iso8601)`, 3.5 MB after one sorted JSONSerialization). This gateway reads no config
    file, so not even the YAML decoder's one regex runs."""
    base, process, _ = gateway
    subscriber = Subscriber(broker.port, ["homeassistant/device/dalygate/config", "dalygate/event/#"])
    try:
        assert subscriber.wait(lambda m: any(t.startswith("homeassistant/device/") for t, _ in m))
        request = urllib.request.Request(base + "/api/v1/relays/balancer", data=b'{"on": true}', method="PUT",
                                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
        urllib.request.urlopen(request, timeout=10).read()
        urllib.request.urlopen(base + "/api/v1/history?from=2026-01-01T00:00:00Z&to=2030-01-01T00:00:00%2B01:00", timeout=10).read()
        urllib.request.urlopen(base + "/api/v1/events/log", timeout=10).read()
    finally:
        subscriber.close()
    icu = resident_kib(process.pid, "lib_FoundationICU.so")
    if icu == 0:
        pytest.skip("this dalygate maps no lib_FoundationICU.so (linked with --static-swift-stdlib): nothing to measure")
    assert icu <= 2000, f"lib_FoundationICU.so holds {icu} KiB: something new calls into Foundation's ICU-backed parts"
