# DalyGate: `make run` starts the gateway on simulated hardware, `make test` runs every test.
# Both install what is missing first (Debian packages with apt-get, Python test tools with pip).

SHELL := /bin/bash
SWIFT ?= swift
PYTHON ?= python3
APT_PACKAGES := pkg-config zlib1g-dev libsqlite3-dev libmicrohttpd-dev libmosquitto-dev mosquitto mosquitto-clients \
	libgpiod-dev libi2c-dev libjs-chart.js chromium chromium-driver systemd
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN := .build/debug/dalygate

.PHONY: all deps pydeps build test unit-test integration-test run bench fuzz soak clean install

all: build

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

pydeps:
	@$(PYTHON) -c "import pytest, dalybms, serial, schemathesis, selenium, prometheus_client" 2>/dev/null || \
		$(PYTHON) -m pip install -q --disable-pip-version-check --root-user-action=ignore -r Tests/Integration/requirements.txt

build: deps
	$(SWIFT) build

unit-test: build
	$(SWIFT) test

integration-test: build pydeps
	$(PYTHON) -m pytest -q Tests/Integration

test: unit-test integration-test

# `sudo make install`: the release binary, the status page and openapi.yaml, the hardened systemd unit and the udev
# rules (docs/deploy.md). PREFIX and DESTDIR are honoured; the config and the (empty) credential files are created
# root-only and never overwritten. INSTALL_BIN installs another build (the install test uses the debug one).
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
DESTDIR ?=
INSTALL_BIN ?= .build/release/dalygate
install:
	@if [ "$(INSTALL_BIN)" = .build/release/dalygate ]; then $(SWIFT) build -c release --product dalygate; fi
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/dalygate $(DESTDIR)$(PREFIX)/share/doc/dalygate \
		$(DESTDIR)$(SYSCONFDIR)/systemd/system $(DESTDIR)$(SYSCONFDIR)/udev/rules.d
	install -m 755 $(INSTALL_BIN) $(DESTDIR)$(PREFIX)/bin/dalygate
	cd public && find . -type f -exec install -D -m 644 {} $(DESTDIR)$(PREFIX)/share/dalygate/public/{} \;
	install -m 644 openapi.yaml $(DESTDIR)$(PREFIX)/share/dalygate/openapi.yaml
	install -m 644 docs/deploy.md docs/configuration.md $(DESTDIR)$(PREFIX)/share/doc/dalygate/
	sed -e 's|/usr/local|$(PREFIX)|g' -e 's|/etc/dalygate|$(SYSCONFDIR)/dalygate|g' deploy/dalygate.service \
		> $(DESTDIR)$(SYSCONFDIR)/systemd/system/dalygate.service
	chmod 644 $(DESTDIR)$(SYSCONFDIR)/systemd/system/dalygate.service
	install -m 644 deploy/99-dalygate.rules $(DESTDIR)$(SYSCONFDIR)/udev/rules.d/99-dalygate.rules
	install -d -m 700 $(DESTDIR)$(SYSCONFDIR)/dalygate $(DESTDIR)$(SYSCONFDIR)/dalygate/credentials
	@config=$(DESTDIR)$(SYSCONFDIR)/dalygate/dalygate.yaml; if [ ! -e $$config ]; then \
		(umask 077; $(INSTALL_BIN) config defaults > $$config) && echo "wrote $$config (root-only): edit it"; fi
	@for name in token mqtt_password; do file=$(DESTDIR)$(SYSCONFDIR)/dalygate/credentials/$$name; \
		[ -e $$file ] || install -m 600 /dev/null $$file; done

# The gateway on simulated hardware, time running SPEED times faster (SPEED=1 for real time), mirrored to MQTT.
SPEED ?= 60
run: build
	SPEED=$(SPEED) scripts/run.sh

# Every benchmark, each as a ratio against the physical limit or a peer measured in the same run; the figures go to
# docs/benchmarks.md. Needs nginx and wrk for the HTTP comparison. BENCH_IDLE_SECONDS (600) is the footprint window,
# BENCH_SSE_CLIENTS (1000,5000,10000) the SSE rows. A second release build links the Swift runtime and Foundation
# statically (.build-static) for the footprint comparison.
bench: deps
	@dpkg -s nginx-light >/dev/null 2>&1 || dpkg -s nginx >/dev/null 2>&1 || $(SUDO) apt-get install -y -qq nginx-light
	@dpkg -s wrk >/dev/null 2>&1 || $(SUDO) apt-get install -y -qq wrk
	$(SWIFT) build -c release --product DalyBench
	$(SWIFT) build -c release --product dalygate
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-static --product dalygate
	@set -o pipefail; { echo "# DalyGate benchmarks"; echo; \
	  echo "Measured by \`make bench\` on $$(date -u +%Y-%m-%d), $$(nproc) cores, $$(uname -m); generated, do not edit."; echo; \
	  .build/release/DalyBench && echo && $(PYTHON) scripts/bench_peer.py && echo && $(PYTHON) scripts/bench_http.py && echo && \
	  $(PYTHON) scripts/bench_footprint.py; } > docs/benchmarks.md.new && mv docs/benchmarks.md.new docs/benchmarks.md
	@cat docs/benchmarks.md

clean:
	rm -rf .build

# libFuzzer targets (Daly frames, HTTP write bodies, HTTP request heads, MQTT payloads), FUZZ_SECONDS each. A crash
# input is written to Fuzz/Regressions/<target>/, and the inputs that reached new code are merged (minimised) into
# Fuzz/Corpus/<target>/; the regression tests of `make test` replay both.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld -Xswiftc -DFUZZING
fuzz: deps
	@for pair in FuzzDalyFrames:daly-frames FuzzHTTPCommand:http-command FuzzMQTTPayload:mqtt-payload FuzzHTTPRequestHead:http-request-head; do \
		target=$${pair%%:*}; name=$${pair##*:}; \
		$(SWIFT) build $(FUZZ_FLAGS) --product $$target || exit 1; \
		work=$$(mktemp -d); cp Fuzz/Corpus/$$name/* $$work/; \
		echo "== $$target for $(FUZZ_SECONDS) s"; \
		.build-fuzz/debug/$$target $$work -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			-artifact_prefix=Fuzz/Regressions/$$name/ -print_final_stats=1 2>&1 | tail -12; \
		status=$${PIPESTATUS[0]}; \
		.build-fuzz/debug/$$target -merge=1 -max_len=4096 Fuzz/Corpus/$$name $$work 2>&1 | tail -1; \
		rm -rf $$work; \
		[ "$$status" = 0 ] || { echo "$$target crashed: its input is in Fuzz/Regressions/$$name/"; exit 1; }; \
	done

# The long soak (30 minutes); `make test` runs the same test for 3 minutes.
SOAK_SECONDS ?= 1800
soak: build pydeps
	SOAK_SECONDS=$(SOAK_SECONDS) $(PYTHON) -m pytest -q Tests/Integration/test_soak.py
