"""A million listens exported (issue 13): produced into Tansu by `musicstream produce`, stored by
the server's sink, then downloaded from GET /api/export as NDJSON and as CSV while the server's
resident memory is sampled: both files parse back to exactly the stored listens, and the server
holds about one chunk per download however many it sends."""
import csv
import io
import json
import subprocess
import threading
import time

from conftest import BINARY, RunningServer, wait_until
from test_history import status
from test_tansu import Tansu

COUNT = 1_000_000


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS")


class RSSSampler:
    """Samples a process's resident memory every 50 ms until stopped."""

    def __init__(self, pid):
        self.pid, self.samples, self._stop = pid, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.samples.append(rss_mb(self.pid))
            time.sleep(0.05)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return max(self.samples)


def test_a_million_listens_export_with_flat_memory(tmp_path):
    tansu = Tansu(tmp_path)
    try:
        tansu.create_topic("music-streams")
        subprocess.run([BINARY, "produce", "--brokers", tansu.address, "--rate", "1000000", "--count", str(COUNT),
                        "--seed", "4", "--quiet"], check=True, timeout=600)
        server = RunningServer(["--brokers", tansu.address, "--no-simulate", "--window", "1000",
                                "--data-dir", str(tmp_path / "data")], cwd=str(tmp_path))
        try:
            assert wait_until(lambda: status(server)["stored"] >= COUNT, timeout=600, interval=1), status(server)
            time.sleep(2)
            pid = server.process.pid
            figures = {"rss_before_mb": round(rss_mb(pid), 1)}
            for fmt in ["ndjson", "csv"]:
                sampler = RSSSampler(pid)
                started = time.monotonic()
                response = server.get("/api/export", params={"format": fmt}, stream=True, timeout=60)
                assert response.status_code == 200
                ids = set()
                rows = 0
                if fmt == "ndjson":
                    for line in response.iter_lines():
                        event = json.loads(line)
                        ids.add(event["event_id"])
                        rows += 1
                else:
                    text = io.TextIOWrapper(response.raw, encoding="utf-8", newline="")
                    for row in csv.DictReader(text):
                        ids.add(row["event_id"])
                        rows += 1
                figures[fmt + "_seconds"] = round(time.monotonic() - started, 1)
                figures[fmt + "_peak_rss_mb"] = round(sampler.stop(), 1)
                assert rows == len(ids) == COUNT, (fmt, rows, len(ids))
            print("\n[history-export-1m] %s" % json.dumps(figures))
            for fmt in ["ndjson", "csv"]:
                assert figures[fmt + "_peak_rss_mb"] - figures["rss_before_mb"] < 64, figures
        finally:
            assert server.stop() == 0
    finally:
        tansu.stop()
