#!/usr/bin/env python3
"""Footprint of an idle `dalygate serve --simulate` with MQTT on (a mosquitto broker on loopback), at speed 1:
RSS and CPU over BENCH_IDLE_SECONDS (600 in `make bench`) for three builds side by side in this run: the release
build with glibc's malloc defaults (DALYGATE_MALLOC_DEFAULTS=1, "before"), the same with DalyGate's startup memory
settings, and the release build with the Swift runtime and Foundation linked statically (`--static-swift-stdlib`,
only the code used is mapped); then where each one's RSS sits, from /proc/PID/smaps. Prints Markdown."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import BINARY, ROOT, free_port

STATIC = ROOT / ".build-static" / "release" / "dalygate"


def broker(work):
    port = free_port()
    (work / "mosquitto.conf").write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    process = subprocess.Popen(["mosquitto", "-c", str(work / "mosquitto.conf")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("mosquitto did not start")


def sample(pid):
    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    threads = int(re.search(r"Threads:\s+(\d+)", status).group(1))
    return cpu, rss, threads


private_dirty = {}


def smaps_breakdown(pid):
    """RSS KiB by where it lives: the heap and anonymous mappings (malloc arenas, thread stacks), and each file."""
    totals = {}
    name = None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            path = head[5] if len(head) > 5 else ""
            if path.startswith("/"):
                name = Path(path).name
            elif path == "[heap]":
                name = "[heap] (main malloc arena)"
            elif path.startswith("[stack"):
                name = "[stack] (main thread)"
            elif path:
                name = path
            else:
                name = "anonymous (thread arenas, thread stacks, mmap'd blocks)"
        elif head and head[0] == "Rss:":
            totals[name] = totals.get(name, 0) + int(head[1])
        elif head and head[0] == "Private_Dirty:":
            private_dirty[pid] = private_dirty.get(pid, 0) + int(head[1])
    return sorted(totals.items(), key=lambda item: -item[1])


# The floor: programs that only sleep, built here with the same toolchain, measured the same way. What the Swift
# runtime and each Foundation layer hold before DalyGate does anything.
FLOOR = [("Swift runtime only (Glibc)", "import Glibc\n"),
         ("+ FoundationEssentials (Date)", "import FoundationEssentials\nimport Glibc\nprint(Date().timeIntervalSince1970)\n"),
         ("+ Foundation (Date)", "import Foundation\nprint(Date().timeIntervalSince1970)\n"),
         ("+ Foundation and one NSRegularExpression (Yams' YAML decoder compiles one: DalyGate's only use of ICU)",
          "import Foundation\n"
          "print(try! NSRegularExpression(pattern: \"^(?:<<)$\").numberOfMatches(in: \"<<\", range: NSRange(location: 0, length: 2)))\n"),
         ("+ Foundation, one `Date.formatted(.iso8601)` (DalyGate writes its timestamps with UTCTimestamp instead)",
          "import Foundation\nprint(Date().formatted(.iso8601))\n"),
         ("+ Foundation, one JSONSerialization with sorted keys (DalyGate's discovery documents use JSONEncoder instead)",
          "import Foundation\nprint(try! JSONSerialization.data(withJSONObject: [\"b\": 1, \"a\": 2], options: [.sortedKeys]).count)\n"),
         ("+ Foundation, a Gregorian Calendar in UTC (DalyGate computes the simulated day's midnight instead)",
          "import Foundation\nvar c = Calendar(identifier: .gregorian)\nc.timeZone = TimeZone(identifier: \"UTC\")!\n"
          "print(c.startOfDay(for: Date()))\n")]


def floor_programs(work):
    """[(label, RSS KiB after 3 s idle)] for the FLOOR programs; [] where swiftc is missing."""
    swiftc = shutil.which("swiftc")
    if swiftc is None:
        return []
    measured = []
    for index, (label, source) in enumerate(FLOOR):
        path = work / f"floor{index}.swift"
        path.write_text(source + "import Glibc\nsleep(3600)\n" if "Glibc" not in source else source + "sleep(3600)\n")
        binary = work / f"floor{index}"
        subprocess.run([swiftc, "-O", str(path), "-o", str(binary)], check=True, capture_output=True)
        process = subprocess.Popen([str(binary)], stdout=subprocess.DEVNULL)
        time.sleep(3)
        measured.append((label, sample(process.pid)[1]))
        process.kill()
        process.wait()
    return measured


def start(work, label, binary, env_extra, broker_port):
    # Gateways on one broker each need a client id and topics of their own: two with the same client id take the
    # session from each other in turn, and the reconnections would be measured as the gateway's idle CPU.
    config = work / f"{label}.yaml"
    config.write_text(f"mqtt:\n  client_id: bench-{label}\n  prefix: {label}/\n  json_prefix: {label}-json/\n"
                      f"  discovery_prefix: {label}-homeassistant/\n")
    return subprocess.Popen([str(binary), "serve", "--simulate", "--speed", "1", "--state-dir", str(work / label),
                             "--config", str(config), "--http", "127.0.0.1:0", "--mqtt", f"mqtt://127.0.0.1:{broker_port}",
                             "--log-level", "error"],
                            env=dict(os.environ, **env_extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    seconds = int(os.environ.get("BENCH_IDLE_SECONDS", "600"))
    work = Path(tempfile.mkdtemp(prefix="dalygate-footprint-"))
    mosquitto, port = broker(work)
    runs = [("before: dynamic, glibc malloc defaults", BINARY, {"DALYGATE_MALLOC_DEFAULTS": "1"}),
            ("dynamic, DalyGate's malloc setting (2 arenas)", BINARY, {}),
            ("after: static Swift runtime and Foundation, 2 arenas", STATIC, {})]
    processes = [start(work, f"run{index}", binary, env, port) for index, (_, binary, env) in enumerate(runs)]
    try:
        time.sleep(10)  # started, connected, first polls done
        first = [sample(p.pid) for p in processes]
        time.sleep(seconds)
        last = [sample(p.pid) for p in processes]
        parts = [smaps_breakdown(p.pid) for p in processes]
        alive = [p.poll() is None for p in processes]
    finally:
        for p in processes:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)
        mosquitto.terminate()
        mosquitto.wait(timeout=10)
    assert all(alive), "a gateway exited during the footprint run"
    print(f"## Footprint: idle `serve --simulate` with MQTT on, speed 1, over {seconds / 60:g} min\n")
    print("The three gateways run side by side in this `make bench`, each with its own state, against one local")
    print("mosquitto. Goal: at most 20 MB (20480 KiB) RSS and 0.3 % of one core. RSS counts every resident page mapped,")
    print("shared library code included; \"private dirty\" is the memory only this process holds.\n")
    print("| run | CPU % of one core | RSS at start KiB | RSS at end KiB | private dirty KiB | threads |")
    print("|---|---|---|---|---|---|")
    for (label, _, _), (cpu0, rss0, _), (cpu1, rss1, threads), process in zip(runs, first, last, processes):
        print(f"| {label} | {(cpu1 - cpu0) / seconds * 100:.2f} | {rss0} | {rss1} | {private_dirty[process.pid]} | {threads} |")
    print("\n### Where the RSS sits at the end (/proc/PID/smaps, KiB)\n")
    names = []
    for breakdown in parts:
        for name, _ in breakdown[:10]:
            if name not in names:
                names.append(name)
    print("| mapping | " + " | ".join(["before", "settings", "after"]) + " |")
    print("|---|---|---|---|")
    for name in names:
        print(f"| {name} | " + " | ".join(str(dict(b).get(name, 0)) for b in parts) + " |")
    print("| everything else | " + " | ".join(str(sum(k for n, k in b if n not in names)) for b in parts) + " |")
    floor = floor_programs(work)
    if floor:
        print("\n### The floor: programs that only sleep, same toolchain, same measurement\n")
        print("How much of the RSS above the Swift runtime and Foundation hold before any gateway code runs, and what one")
        print("call into Foundation's ICU-backed parts adds for the rest of a process's life. DalyGate makes only the")
        print("first of those calls (the fourth row); everything it adds (libmicrohttpd with GnuTLS, libmosquitto with")
        print("OpenSSL, SQLite, its own code, its threads and buffers) comes on top of that row. The last three rows are")
        print("what the gateway held before it stopped making those calls.\n")
        print("| program | RSS KiB |")
        print("|---|---|")
        for label, rss in floor:
            print(f"| {label} | {rss} |")


if __name__ == "__main__":
    sys.exit(main())
