"""What a day's history page costs the gateway's memory (issue #15): serving it again and again leaves RSS at most
BUDGET_KIB above what small pages left. JSONEncoder's per-request tree for the 1441 samples (about 3 MiB) stayed in
glibc's heap, so RSS followed the largest page served so far; the page is now written straight into one buffer."""
import signal
import sqlite3
import threading
import time
import urllib.request
from pathlib import Path

from conftest import SimulatedGateway

DAY = 86400
BUDGET_KIB = 1536
CLIENTS = 3
PAGES = 40  # full-day pages per client


def rss_anon_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    raise AssertionError("no RssAnon")


def fill_history(database, start, end):
    """Minute rows from `start` to `end` with every value present and of realistic length (about 280 bytes of JSON)."""
    with sqlite3.connect(database) as db:
        db.executemany("INSERT OR REPLACE INTO history_minute VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       [(t, 13.2 + (t % 7) / 1000, -1.25, 50.5, 13.224, 0.772, 10.21, 54.86, 3304, 3306.5, 23.5, 1, 0.25)
                        for t in range(start, end + 60, 60)])


def test_serving_full_day_pages_leaves_rss_where_small_pages_left_it(dalygate, tmp_path):
    # A first start creates the database; the day before today's midnight is then filled before the measured start.
    first = SimulatedGateway(dalygate, tmp_path)
    first.process.send_signal(signal.SIGTERM)
    first.process.wait(timeout=30)
    first.log.close()
    midnight = int(time.time()) // DAY * DAY
    fill_history(tmp_path / "state" / "dalygate.sqlite", midnight - 2 * DAY, midnight)
    gateway = SimulatedGateway(dalygate, tmp_path)
    try:
        def pages(query, count):
            for _ in range(count):
                with urllib.request.urlopen(f"{gateway.base}/api/v1/history?{query}", timeout=60) as response:
                    assert response.status == 200
                    body = response.read()
            return body

        small = f"from={midnight - 3600}&to={midnight}&step=60"
        full = f"from={midnight - DAY}&to={midnight}&step=60"
        assert pages(small, 1).count(b'"time"') == 61
        # The baseline: the same number of requests, concurrency and everything else, with pages of an hour.
        def burst(query):
            threads = [threading.Thread(target=pages, args=(query, PAGES)) for _ in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            time.sleep(0.5)
            return rss_anon_kib(gateway.process.pid)

        baseline = burst(small)
        after = burst(full)
        assert pages(full, 1).count(b'"time"') == 1441, "the page must hold a full day of samples"
        print(f"history memory: RssAnon {baseline} KiB after small pages, {after} KiB after full-day pages")
        assert after - baseline <= BUDGET_KIB, (
            f"full-day history pages left RSS {after - baseline} KiB above small pages (budget {BUDGET_KIB} KiB)")
    finally:
        gateway.stop()
