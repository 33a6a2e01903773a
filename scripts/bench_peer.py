#!/usr/bin/env python3
"""Beside DalyGate's poll: the same full poll by python-daly-bms (PyPI dalybms) against the same simulated BMS
(the idle cost of `serve --simulate` is in bench_footprint.py). Prints Markdown."""
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINARY = ROOT / ".build" / "release" / "dalygate"


def peer_poll(polls=20):
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


def main():
    peer, ours = peer_poll()
    # spec/daly-protocol.md §2.2/§2.4/§2.8: 9 requests, 7 single replies, ceil(16/3) = 6 cell frames, 1 temperature
    # frame, 13 bytes of 10 bits each at 9600 baud, plus the simulated BMS's 60 ms reply latency per request.
    limit = (9 + 7 + 6 + 1) * 13 * 10 / 9600 + 9 * 0.060
    print("## The same full poll by python-daly-bms (PyPI dalybms 0.5.0)\n")
    print("16S simulated BMS at real line rate, host 0x40, 20 polls each. DalyGate's figure is a whole `dalygate read` process")
    print("(start, open, poll, print); the peer's is `DalyBMS.get_all()` in a running interpreter.\n")
    print("| client | seconds per full poll | ratio to the wire limit |")
    print("|---|---|---|")
    print(f"| DalyGate `read` | {ours:.3f} | {ours / limit:.2f} |")
    print(f"| python-daly-bms `get_all()` | {peer:.3f} | {peer / limit:.2f} |")
    print(f"\nWire limit: {limit:.3f} s (23 frames of 13 bytes at 9600 8N1 plus 9 x 60 ms). Both clients are bound by the")
    print("wire; DalyGate's figure also pays for starting a process, the in-process poll is in the first table.\n")


if __name__ == "__main__":
    sys.exit(main())
