#!/usr/bin/env bash
# `make run`: the gateway on simulated hardware, mirrored to MQTT. Uses the broker on 127.0.0.1:1883 when one is
# listening; otherwise starts a private mosquitto there for this session (stopped again on exit).
set -euo pipefail
cd "$(dirname "$0")/.."
SPEED="${SPEED:-60}"
broker_pid=""
cleanup() { [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
    conf="$(mktemp)"
    printf 'listener 1883 127.0.0.1\nallow_anonymous true\n' > "$conf"
    mosquitto -c "$conf" >/dev/null 2>&1 &
    broker_pid=$!
    echo "Started a private mosquitto on 127.0.0.1:1883 (watch it: mosquitto_sub -v -t 'dalygate/#')"
else
    echo "Using the MQTT broker on 127.0.0.1:1883 (watch it: mosquitto_sub -v -t 'dalygate/#')"
fi
echo "Status page: http://127.0.0.1:8080/   API: curl http://127.0.0.1:8080/api/v1/state   Stop: Ctrl-C"
.build/debug/dalygate serve --simulate --speed "$SPEED" --state-dir .dalygate-sim --mqtt mqtt://127.0.0.1:1883 "$@"
