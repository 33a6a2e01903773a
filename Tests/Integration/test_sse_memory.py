"""What an open event stream costs the gateway: at most 16 KiB of resident memory per HTTP/1.1 stream (the way
browsers ask), while the streams keep delivering intact events after their idle buffer pages were given back."""
import json
import socket
import time
import urllib.request
from pathlib import Path

from conftest import SimulatedGateway, wait_for

STREAMS = 500
BUDGET_KIB = 16


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def sse_clients(gateway):
    with urllib.request.urlopen(gateway.base + "/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("dalygate_sse_clients "):
                return float(line.split()[1])
    raise AssertionError("no dalygate_sse_clients metric")


def open_stream(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
    sock.setblocking(False)
    return sock


def dechunk(body):
    """The data of a chunked body (as far as it arrived whole)."""
    out, offset = b"", 0
    while True:
        end = body.find(b"\r\n", offset)
        if end < 0:
            return out
        size = int(body[offset:end].split(b";")[0], 16)
        if size == 0 or end + 2 + size + 2 > len(body):
            return out
        out += body[end + 2:end + 2 + size]
        assert body[end + 2 + size:end + 4 + size] == b"\r\n", "chunk framing broken"
        offset = end + 4 + size


def numbered_events(received):
    """The events with an id in a stream's bytes so far, each as (id, parsed data)."""
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"transfer-encoding: chunked" in head.lower(), head
    events = []
    for block in dechunk(body).split(b"\n\n"):
        fields = dict(line.split(b": ", 1) for line in block.split(b"\n") if line and not line.startswith(b":"))
        if b"id" in fields and b"data" in fields:
            events.append((int(fields[b"id"]), json.loads(fields[b"data"])))
    return events


def test_an_open_http11_stream_costs_at_most_16_kib_and_keeps_delivering_intact_events(dalygate, tmp_path):
    config = f"http:\n  max_sse_clients: {STREAMS + 10}\n  max_connections: {STREAMS + 50}\n" \
             f"  max_connections_per_client: {STREAMS + 50}\n"
    gateway = SimulatedGateway(dalygate, tmp_path, "--speed", "5", config=config)
    streams = []
    try:
        # Warm up the allocator and every lazily built part of the stream path with a few streams first.
        warm = [open_stream(gateway.port) for _ in range(10)]
        time.sleep(1)
        for sock in warm:
            sock.close()
        assert wait_for(lambda: sse_clients(gateway) == 0, 10), "the warm-up streams did not end"
        before = rss_kib(gateway.process.pid)

        streams = [open_stream(gateway.port) for _ in range(STREAMS)]
        received = [b""] * STREAMS

        def pump():
            for index, sock in enumerate(streams):
                try:
                    while chunk := sock.recv(65536):
                        received[index] += chunk
                except BlockingIOError:
                    pass
            return all(len(numbered_events(data)) >= 2 for data in received)

        # Two numbered events on every stream: the second was written after the stream had waited once (and
        # released its idle pages).
        assert wait_for(pump, 60), "not every stream got two events"
        # Each stream waits again right after its last send; give the slowest a moment to get there.
        per_stream = lambda: (rss_kib(gateway.process.pid) - before) / STREAMS
        assert wait_for(lambda: per_stream() <= BUDGET_KIB, 10), f"{per_stream():.1f} KiB per open stream"

        for data in received:
            ids = [event_id for event_id, _ in numbered_events(data)]
            assert ids == list(range(ids[0], ids[0] + len(ids))), ids
            assert all("bms" in event for _, event in numbered_events(data))
    finally:
        for sock in streams:
            sock.close()
        gateway.stop()
