#!/usr/bin/env python3
"""Beside DalyGate's poll: the same full poll by python-daly-bms (PyPI dalybms) against the same simulated BMS, and
the idle cost of `serve --simulate`. Prints Markdown."""
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINARY = ROOT / ".build" / "release" / "dalygate"


def peer_poll(polls=3):
    from dalybms import DalyBMS
    work = Path(tempfile.mkdtemp(prefix="dalygate-peer-"))
    link = work / "bms.tty"
    sim = subprocess.Popen([str(BINARY), "sim-bms", "--link", str(link), "--cells", "16"], stdout=subprocess.DEVNULL)
    try:
        while not link.is_symlink():
            time.sleep(0.05)
        bms = DalyBMS(request_retries=3, address=4)
        bms.connect(str(link))
        bms.get_all()  # warm-up
        started = time.monotonic()
        for _ in range(polls):
            result = bms.get_all()
            assert result["cell_voltages"] and len(result["cell_voltages"]) == 16
        peer = (time.monotonic() - started) / polls
        bms.disconnect()
        started = time.monotonic()
        for _ in range(polls):
            subprocess.run([str(BINARY), "read", "--port", str(link)], check=True, capture_output=True)
        ours = (time.monotonic() - started) / polls
        return peer, ours
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(timeout=10)


def idle(seconds):
    work = Path(tempfile.mkdtemp(prefix="dalygate-idle-"))
    server = subprocess.Popen([str(BINARY), "serve", "--simulate", "--state-dir", str(work), "--http", "127.0.0.1:0",
                               "--log-level", "error"])
    try:
        time.sleep(5)
        ticks = os.sysconf("SC_CLK_TCK")

        def sample():
            fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / ticks
            rss = next(int(l.split()[1]) for l in Path(f"/proc/{server.pid}/status").read_text().splitlines() if l.startswith("VmRSS:"))
            return cpu, rss

        cpu0, rss0 = sample()
        time.sleep(seconds)
        cpu1, rss1 = sample()
        return (cpu1 - cpu0) / seconds * 100, rss0, rss1
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main():
    peer, ours = peer_poll()
    limit = (9 + 5 + 6 + 1 + 1 + 1) * 13 * 10 / 9600 + 9 * 0.060
    print("## The same full poll by python-daly-bms (PyPI dalybms 0.5.0)\n")
    print("16S simulated BMS at real line rate, host 0x40. DalyGate's figure is a whole `dalygate read` process")
    print("(start, open, poll, print); the peer's is `DalyBMS.get_all()` in a running interpreter.\n")
    print("| client | seconds per full poll | ratio to the wire limit |")
    print("|---|---|---|")
    print(f"| DalyGate `read` | {ours:.3f} | {ours / limit:.2f} |")
    print(f"| python-daly-bms `get_all()` | {peer:.3f} | {peer / limit:.2f} |")
    print(f"\nWire limit: {limit:.3f} s (23 frames of 13 bytes at 9600 8N1 plus 9 x 60 ms). Both clients are bound by the")
    print("wire; DalyGate's figure also pays for starting a process, the in-process poll is in the first table.\n")
    seconds = int(os.environ.get("BENCH_IDLE_SECONDS", "600"))
    cpu, rss0, rss1 = idle(seconds)
    print(f"## Idle `serve --simulate` (speed 1) over {seconds // 60} min\n")
    print("| CPU % of one core | RSS at start KiB | RSS at end KiB |")
    print("|---|---|---|")
    print(f"| {cpu:.1f} | {rss0} | {rss1} |")
    print("\nThe simulated world, the simulated BMS's paced wire and the 1 s poll all run in this one process.")


if __name__ == "__main__":
    sys.exit(main())
