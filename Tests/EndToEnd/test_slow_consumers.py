"""Slow SSE consumers: /stream subscribers that stop reading are cut off once their unsent output
passes --max-stream-buffer, counted in /metrics, while subscribers that read keep every event and
the server's memory and file descriptors stay bounded."""
import json
import os
import re
import socket
import subprocess
import threading
import time
import uuid
from urllib.parse import urlsplit

from conftest import wait_until, metric_value
from sse import SSEClient, event_ids, kafka_positions, merged_run, offset_gaps

STALLED = 100
READERS = 3
RATE = 500
BUFFER = 65536
# A stalled client is cut at the latest when it holds twice BUFFER of unsent frames; libevent keeps
# each ~450-byte frame in its own chain of at least 1 KiB, so that is up to ~3x in memory:
# 100 x 128 KiB x 3 = ~40 MB. A server that kept every stalled client's backlog (500 events/s of
# ~450 bytes, 100 times over) would pass the limit within seconds.
RSS_GROWTH_LIMIT = 60 * 1024 * 1024


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as status:
        return int(re.search(r"VmRSS:\s+(\d+) kB", status.read()).group(1)) * 1024


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def stalled_subscriber(base_url):
    """Asks for /stream with a tiny receive buffer and then never reads."""
    parts = urlsplit(base_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # before connect: sets the window
    sock.settimeout(10)
    sock.connect((parts.hostname, parts.port))
    sock.sendall(("GET /stream HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n" % parts.netloc).encode())
    return sock


class Reader(threading.Thread):
    """A subscriber that reads every frame until told to stop, recording the listen ids."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.client = SSEClient(url)
        self.ids = []
        self.error = None
        self.stop = threading.Event()

    def run(self):
        try:
            while not self.stop.is_set():
                for fields, _ in self.client.frames(time.monotonic() + 0.5):
                    if fields.get("event") == ["listen"]:
                        self.ids.append(json.loads(fields["data"][0])["event_id"])
        except Exception as error:   # recorded and asserted on by the test
            self.error = error


def test_stalled_subscribers_are_cut_off_without_hurting_readers(start_server):
    server = start_server("--rate", str(RATE), "--backfill", "0", "--max-stream-buffer", str(BUFFER))
    pid = server.process.pid
    assert wait_until(lambda: server.get("/api/status").json()["consumed"] > RATE, timeout=20), "no events flowing"
    time.sleep(1)
    rss_before = rss_bytes(pid)
    fds_before = fd_count(pid)

    readers = [Reader(server.url("/stream")) for _ in range(READERS)]
    for reader in readers:
        assert reader.client.status == 200
        reader.start()
    stalled = [stalled_subscriber(server.base_url) for _ in range(STALLED)]
    try:
        started = time.monotonic()
        assert wait_until(lambda: metric_value(server, "musicstream_sse_clients_dropped_total") >= STALLED, timeout=30), \
            "only %d stalled subscribers were dropped" % metric_value(server, "musicstream_sse_clients_dropped_total")
        dropped_after = time.monotonic() - started
        assert wait_until(lambda: server.get("/api/status").json()["sse_clients"] == READERS, timeout=10), \
            "sse_clients stayed at %d" % server.get("/api/status").json()["sse_clients"]
        # The server lets go of the connections themselves (and their buffers), although the
        # clients still do not read: the fd count falls back to the readers' three.
        assert wait_until(lambda: fd_count(pid) <= fds_before + READERS + 2, timeout=15), \
            "server still holds %d fds (had %d before the subscribers)" % (fd_count(pid), fds_before)
        rss_peak = rss_bytes(pid)
        # Readers keep getting events after the drop.
        counts = [len(reader.ids) for reader in readers]
        time.sleep(2)
        rss_after = rss_bytes(pid)
    finally:
        for sock in stalled:
            sock.close()
        for reader in readers:
            reader.stop.set()
        for reader in readers:
            reader.join(timeout=5)
            reader.client.close()

    print("slow consumers: dropped all %d in %.1f s; RSS %.1f MB -> %.1f MB (peak seen %.1f MB); fds %d before"
          % (STALLED, dropped_after, rss_before / 2**20, rss_after / 2**20, rss_peak / 2**20, fds_before))
    # Every reader got one unbroken run: the readers agree with each other where they overlap
    # (they connect and stop at slightly different moments), and the newest listens of all of
    # them have each partition's offsets without a break.
    for reader, before in zip(readers, counts):
        assert reader.error is None, "a reading subscriber failed: %r" % reader.error
        assert len(reader.ids) > before + RATE // 2, "a reader stopped receiving events after the drop"
        assert len(set(reader.ids)) == len(reader.ids), "a reading subscriber got an event twice"
    merged = merged_run([reader.ids for reader in readers])
    assert merged is not None, "a reading subscriber missed events (the readers' runs disagree)"
    assert offset_gaps(kafka_positions(server, merged[-300:])) == []
    assert max(rss_peak, rss_after) - rss_before < RSS_GROWTH_LIMIT, \
        "RSS grew from %d to %d bytes" % (rss_before, max(rss_peak, rss_after))
    assert server.get("/healthz").status_code == 200


def listen_json(number):
    return json.dumps({
        "event_id": str(uuid.uuid4()), "user_id": "u-burst-%d" % number, "username": "burst", "email": "b@example.com",
        "track_id": "t-1", "title": "Burst %d" % number, "artist": "Joji", "genre": "Pop", "platform": "Spotify",
        "mood": "Happy", "city": "Osaka", "country": "Japan", "duration": 200, "listen_position": 190,
        "completed": True, "skipped": False, "rating": 4, "timestamp": int(time.time() * 1000),
    })


def test_a_burst_larger_than_the_bound_does_not_cut_off_a_reader(start_server):
    """The consumer hands the loop a catch-up backlog in large batches (after a start or an
    outage): one batch is queued before any of it can reach the socket, and drains over several
    passes of the loop, so a client may sit over the bound briefly; one that reads keeps every event."""
    server = start_server("--rate", "0", "--backfill", "0", "--max-stream-buffer", "65536")
    client = SSEClient(server.url("/stream"))
    assert client.status == 200
    # About 110 KB of frames: well over the bound, under the 2x at which a client is cut at once.
    burst = 250
    subprocess.run(["kcat", "-P", "-b", server.bootstrap, "-t", "music-streams", "-z", "none"],
                   input=("\n".join(listen_json(n) for n in range(burst)) + "\n").encode(), check=True, timeout=30)
    try:
        ids = event_ids(client.events(burst, timeout=30))
    finally:
        client.close()
    assert metric_value(server, "musicstream_sse_clients_dropped_total") == 0
    assert len(ids) == burst, "the reader got %d of %d events" % (len(ids), burst)
    assert len(set(ids)) == burst and offset_gaps(kafka_positions(server, ids)) == []
