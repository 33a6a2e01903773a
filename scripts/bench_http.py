#!/usr/bin/env python3
"""HTTP and SSE benchmarks of `dalygate serve`, each beside its peer or limit in the same run; prints Markdown.

- GET /api/v1/state against nginx serving the same bytes as a static file (wrk, same threads, connections, duration).
  Three runs each, alternated (ours, nginx, ours, ...), median and range; both servers' response head sizes.
- SSE fan-out by `DalyBench sse` (Swift, epoll, a thread per core): delivered events against the events published,
  the server's drop counter, latency from publication to arrival, and server RSS per connected client; each row
  beside the floor, `DalyBench sse-limit`, a server that does nothing but one send per client per event.
"""
import json
import resource
import statistics
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench_common import BINARY, ROOT, free_port

BENCH = ROOT / ".build" / "release" / "DalyBench"


def wait_http(url, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            return urllib.request.urlopen(url, timeout=2).read()
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def wrk(url, seconds, connections):
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"{url} answered errors:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def header_bytes(port, path="/api/v1/state"):
    """Bytes of the response head (status line and headers, up to and including the blank line)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.index(b"\r\n\r\n") + 4


def start_gateway(work, name, extra_config=""):
    port = free_port()
    config = work / f"{name}.yaml"
    config.write_text("http:\n  max_connections: 12000\n  max_connections_per_client: 11000\n  max_sse_clients: 12000\n"
                      + extra_config)
    # 10 000 streams need more descriptors than the usual soft limit.
    raise_limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    server = subprocess.Popen([str(BINARY), "serve", "--simulate", "--speed", "5", "--config", str(config), "--state-dir",
                               str(work / name), "--http", f"127.0.0.1:{port}", "--log-level", "warning"], cwd=ROOT,
                              preexec_fn=raise_limit)
    wait_http(f"http://127.0.0.1:{port}/api/v1/state")
    return server, port


def measure_sse(server, port, clients, seconds):
    """`DalyBench sse` against a running server: its JSON line, plus the server's RSS before and at its peak while the
    clients were connected, and its CPU seconds between the window's opening and closing."""
    before = rss_kib(server.pid)
    bench = subprocess.Popen([str(BENCH), "sse", "--url", f"http://127.0.0.1:{port}/api/v1/events", "--clients",
                              str(clients), "--seconds", str(seconds)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    # The server's CPU seconds when DalyBench opens and closes its window (it says so on stderr).
    window_cpu = {}

    def follow_stderr():
        for line in bench.stderr:
            if line.startswith("window "):
                window_cpu[line.split()[1]] = cpu_seconds(server.pid)
            else:
                sys.stderr.write(line)

    follower = threading.Thread(target=follow_stderr, daemon=True)
    follower.start()
    peak = before
    while bench.poll() is None:
        peak = max(peak, rss_kib(server.pid))
        time.sleep(0.2)
    follower.join(timeout=10)
    result = json.loads(bench.stdout.read().strip().splitlines()[-1])
    result["rss_before_kib"], result["rss_peak_kib"] = before, peak
    result["server_cpu_s"] = window_cpu["closed"] - window_cpu["open"] if len(window_cpu) == 2 else None
    return result


def sse_row(work, clients, seconds):
    """A fresh gateway and `DalyBench sse` against it; returns the result and the gateway's state document (the
    payload the floor server sends) and its event rate."""
    server, port = start_gateway(work, f"sse-{clients}")
    try:
        time.sleep(3)
        state = wait_http(f"http://127.0.0.1:{port}/api/v1/state")
        return measure_sse(server, port, clients, seconds), state
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def floor_row(work, clients, seconds, payload, events_per_second):
    """`DalyBench sse-limit` (one send per client per event, nothing else) with the gateway's state document as its
    payload, at the gateway's event rate, and `DalyBench sse` against it."""
    port = free_port()
    (work / "payload.json").write_bytes(payload)
    interval_ms = max(1, round(1000 / max(events_per_second, 0.1)))
    raise_limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    server = subprocess.Popen([str(BENCH), "sse-limit", "--port", str(port), "--payload-file", str(work / "payload.json"),
                               "--interval-ms", str(interval_ms)], stderr=subprocess.DEVNULL, preexec_fn=raise_limit)
    try:
        wait_http(f"http://127.0.0.1:{port}/metrics")
        time.sleep(1)
        return measure_sse(server, port, clients, seconds)
    finally:
        server.kill()
        server.wait(timeout=30)


def sse_cells(r):
    """The table cells of one `measure_sse` result."""
    delivered = 100 * r["events_received"] / r["events_expected"] if r["events_expected"] else float("nan")
    per_client = (r["rss_peak_kib"] - r["rss_before_kib"]) / r["connected"] if r["connected"] else float("nan")
    cpu = f"{r['server_cpu_s'] * 1e6 / r['events_received']:.1f}" if r["server_cpu_s"] and r["events_received"] else "n/a"
    return (f"{r['connected']} | {r['events_published']} | {delivered:.2f} | {r['dropped']} | {r['p50_ms']} | {r['p99_ms']}"
            f" | {per_client:.1f} | {cpu}")


def median_range(values):
    values = sorted(values)
    return statistics.median(values), values[0], values[-1]


def main():
    seconds = int(os.environ.get("BENCH_SECONDS", "8"))
    sizes = [int(n) for n in os.environ.get("BENCH_SSE_CLIENTS", "1000,5000,10000").split(",")]
    work = Path(tempfile.mkdtemp(prefix="dalygate-bench-"))
    work.chmod(0o755)  # nginx's workers run as nobody
    server, port = start_gateway(work, "http")
    nginx = None
    try:
        body = wait_http(f"http://127.0.0.1:{port}/api/v1/state")
        (work / "www" / "api" / "v1").mkdir(parents=True)
        (work / "www" / "api" / "v1" / "state").write_bytes(body)
        for path in [work / "www", work / "www" / "api", work / "www" / "api" / "v1"]:
            path.chmod(0o755)
        nginx_port = free_port()
        (work / "nginx.conf").write_text(f"""
worker_processes 2; daemon off; pid {work}/nginx.pid; error_log {work}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; default_type application/json; keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{nginx_port}; root {work}/www; }} }}
""")
        nginx = subprocess.Popen(["nginx", "-c", str(work / "nginx.conf"), "-p", str(work)])
        wait_http(f"http://127.0.0.1:{nginx_port}/api/v1/state")
        ours, theirs = [], []
        for _ in range(3):
            ours.append(wrk(f"http://127.0.0.1:{port}/api/v1/state", seconds, 64))
            theirs.append(wrk(f"http://127.0.0.1:{nginx_port}/api/v1/state", seconds, 64))
        our_head, their_head = header_bytes(port), header_bytes(nginx_port)
        print("## HTTP: GET /api/v1/state against nginx serving the same bytes\n")
        print(f"wrk -t2 -c64 -d{seconds}s, {len(body)}-byte body, both on this machine in the same run, three runs each"
              " alternated (DalyGate, nginx, DalyGate, ...).\n")
        print("| server | median requests/s | range | response head bytes |")
        print("|---|---|---|---|")
        for name, runs, head in [("DalyGate (libmicrohttpd)", ours, our_head), ("nginx (static file)", theirs, their_head)]:
            median, low, high = median_range(runs)
            print(f"| {name} | {median:.0f} | {low:.0f} to {high:.0f} | {head} |")
        print(f"\nRatio of the medians DalyGate / nginx: **{statistics.median(ours) / statistics.median(theirs):.2f}**\n")
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=10)
        nginx = None
    finally:
        if nginx:
            nginx.kill()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    print("## SSE fan-out: every event to every client, beside a server that only sends\n")
    print(f"`DalyBench sse` (Swift, epoll, {os.cpu_count()} threads, sources spread over 127.0.0.2-251) on the same"
          f" {os.cpu_count()} cores as the server, a fresh server per row, {seconds} s window after every"
          " client is connected. Expected: each event published in the window times the connected clients; dropped:"
          " the server's `dalygate_sse_dropped_total`; latency: arrival minus the `: published` time the server wrote;"
          " RSS per client: (peak RSS while connected - RSS before) / connected; server CPU per event: the server's"
          " user + system time from the window's opening to the end of its grace time, over the events delivered."
          " The clients ask in HTTP/1.1, as browsers do, and get chunked streams.\n")
    print("The floor is `DalyBench sse-limit`: the least work any SSE server can do. It sends the gateway's own state"
          " document, framed as the gateway frames it, at the gateway's event rate, with one non-blocking `send` per"
          " client per event from one thread per core, and nothing else (no routing, queues, suspend or resume)."
          " Its latency is what the kernel's loopback and the load generator cost on this machine: no server can"
          " do better here, so the gateway's figures are read against it.\n")
    print("| clients | server | connected | events published | delivered % | dropped | p50 ms | p99 ms"
          " | server RSS per client KiB | server CPU µs per event |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    ratios = []
    for clients in sizes:
        ours, state = sse_row(work, clients, seconds)
        rate = ours["events_published"] / seconds if ours["events_published"] else 4
        floor = floor_row(work, clients, seconds, state, rate)
        print(f"| {clients} | DalyGate | {sse_cells(ours)} |")
        print(f"| {clients} | floor: send only | {sse_cells(floor)} |")
        print(f"<!-- {json.dumps(ours)} {json.dumps(floor)} -->", file=sys.stderr)
        if ours["p99_ms"] and floor["p99_ms"]:
            ratios.append(f"{clients} clients {ours['p99_ms'] / floor['p99_ms']:.2f}")
    print(f"\np99 latency, DalyGate / floor: **{'; '.join(ratios)}**")


if __name__ == "__main__":
    sys.exit(main())
