"""Soak: the server at 2,000 events/s with ~200 SSE subscribers coming and going and a few REST
requests a second, for MUSICSTREAM_SOAK_SECONDS (default 120). It must never die, keep /healthz
at 200 and `consumed` rising, leak no file descriptors, and grow its RSS by under 10 % between the
end of the warm-up and the end of the run.

The subscribers live in one thread on one epoll loop (selectors) so that the test's own CPU stays
modest on a shared two-core machine: each reads whatever arrives, fully checks the framing of the
first VALIDATE_BYTES of its stream's body (chunked encoding, SSE fields, JSON data) and only
counts the rest.
"""
import json
import os
import random
import re
import selectors
import socket
import threading
import time
from urllib.parse import urlsplit

import requests

SOAK_SECONDS = float(os.environ.get("MUSICSTREAM_SOAK_SECONDS", "120"))
WARMUP_SECONDS = min(20.0, SOAK_SECONDS / 4)
RATE = 2000
CONCURRENT = 200
VALIDATE_BYTES = 16 * 1024
# One in eight follows everything; the rest filter, as dashboards do, which exercises the filter
# path and keeps the bytes this one Python thread must read (and the server must write) modest.
STREAM_TARGETS = ["/stream", "/stream?genre=Pop", "/stream?genre=Rock&stats=true", "/stream?genre=Jazz",
                  "/stream?mood=Happy", "/stream?country=Japan", "/stream?platform=SoundCloud", "/stream?rating=5"]
REST_TARGETS = ["/api/events?limit=20", "/api/facets", "/api/timeline?bucket=1m", "/api/events?genre=Pop&limit=5",
                "/api/status", "/metrics"]
FD_MARGIN = 3
RSS_GROWTH_LIMIT = 0.10


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as status:
        return int(re.search(r"VmRSS:\s+(\d+) kB", status.read()).group(1)) * 1024


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class Subscriber:
    """One /stream connection: parses the response head and the first VALIDATE_BYTES of the
    chunked body into SSE frames, then only counts bytes."""

    def __init__(self, address, netloc, target, lifetime, round_started):
        self.target = target
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.connect_ex(address)
        self.request = ("GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n" % (target, netloc)).encode()
        self.opened = time.monotonic()
        self.closes_at = self.opened + lifetime
        self.raw = b""
        self.status = None
        self.body = b""
        self.chunked_done = False
        self.listen_events = 0
        self.frames = 0
        self.bytes = 0
        self.validated = 0   # body bytes (chunk payloads) checked so far
        self.chunk_left = 0
        self.problem = None
        self.server_closed = False
        self.cut_short = False   # still open when the crowd stopped, maybe before any answer
        self.head_after = None   # seconds from connect to the response head
        self.ended = None
        self.round_started = round_started
        self.request_sent = None   # seconds from connect to the request going out
        self.raw_left = 0

    def send_request(self):
        self.sock.send(self.request)   # a few dozen bytes: fits any fresh socket buffer
        self.request_sent = round(time.monotonic() - self.opened, 3)

    def received(self, data):
        self.bytes += len(data)
        if self.validated >= VALIDATE_BYTES and self.status is not None:
            return   # past the checked prefix: just drain
        self.raw += data
        if self.status is None:
            if b"\r\n\r\n" not in self.raw:
                return
            head, self.raw = self.raw.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            self.status = int(lines[0].split()[1])
            self.head_after = time.monotonic() - self.opened
            headers = {name.strip().lower(): value.strip()
                       for name, _, value in (line.partition(":") for line in lines[1:])}
            if self.status != 200:
                self.problem = "status %d for %s" % (self.status, self.target)
            elif not headers.get("content-type", "").startswith("text/event-stream"):
                self.problem = "content-type %r" % headers.get("content-type")
            elif headers.get("transfer-encoding") != "chunked":
                self.problem = "not chunked: %r" % headers
        self._dechunk()

    def _dechunk(self):
        # Chunk payloads are taken as they arrive, as a browser's EventSource does: the server
        # may send a batch of events as one large chunk. chunk_left > 0: payload bytes still to
        # come; -2: the CRLF after a payload; 0: at a size line.
        while not self.problem and self.validated < VALIDATE_BYTES:
            if self.chunk_left > 0:
                if not self.raw:
                    break
                # Never more than the checked prefix needs: frames are split off the body one
                # by one, which must stay cheap in this one thread serving every subscriber.
                piece = self.raw[:min(self.chunk_left, VALIDATE_BYTES - self.validated)]
                self.raw = self.raw[len(piece):]
                self.body += piece
                self.validated += len(piece)
                self.chunk_left -= len(piece)
                if self.chunk_left == 0:
                    self.chunk_left = -2
            elif self.chunk_left == -2:
                if len(self.raw) < 2:
                    break
                if self.raw[:2] != b"\r\n":
                    self.problem = "chunk not followed by CRLF"
                    return
                self.raw = self.raw[2:]
                self.chunk_left = 0
            else:
                if b"\r\n" not in self.raw:
                    break
                size_line, self.raw = self.raw.split(b"\r\n", 1)
                try:
                    size = int(size_line.split(b";")[0], 16)
                except ValueError:
                    self.problem = "bad chunk size line %r" % size_line[:40]
                    return
                if size == 0:
                    self.chunked_done = True
                    return
                self.chunk_left = size
        self._parse_frames()

    def _parse_frames(self):
        while not self.problem and b"\n\n" in self.body:
            frame, self.body = self.body.split(b"\n\n", 1)
            self.frames += 1
            fields = {}
            for line in frame.decode("utf-8").split("\n"):
                if line.startswith(":"):
                    continue
                name, colon, value = line.partition(": ")
                if not colon or name not in ("id", "event", "data", "retry"):
                    self.problem = "malformed SSE line %r" % line[:80]
                    return
                fields[name] = value
            kind = fields.get("event")
            # An id, where a frame carries one, is a stream position (p<log>.<offset>...).
            if "id" in fields and not re.fullmatch(r"p[0-9a-z]+(\.(-1|[0-9a-z]+))*", fields["id"]):
                self.problem = "a frame with a malformed id: %r" % frame[:80]
                return
            if kind == "listen":
                event = json.loads(fields["data"])
                if not isinstance(event, dict) or "genre" not in event:
                    self.problem = "listen data is not an event: %r" % fields["data"][:80]
                    return
                self.listen_events += 1
            elif kind == "stats":
                json.loads(fields["data"])

    def describe(self):
        """What a failed check needs to tell a stalled server from a stalled client."""
        return ("%s open %.2f s (from %.2f s into its round): %d bytes, head after %s, %d frames, %d body bytes "
                "checked, %d raw bytes waiting, request sent: %s" % (
                    self.target, self.ended - self.opened, self.opened - self.round_started, self.bytes,
                    None if self.head_after is None else round(self.head_after, 3), self.frames, self.validated,
                    self.raw_left, self.request_sent))

    def close(self):
        self.sock.close()


class Crowd(threading.Thread):
    """Keeps about CONCURRENT subscribers connected, each for 0.5-5 s, until `stop` is set."""

    def __init__(self, base_url):
        super().__init__(daemon=True)
        parts = urlsplit(base_url)
        self.address = (parts.hostname, parts.port)
        self.netloc = parts.netloc
        self.stop = threading.Event()
        self.random = random.Random(7)
        self.finished = []
        self.error = None
        self.started = time.monotonic()

    def _open(self, selector):
        subscriber = Subscriber(self.address, self.netloc, self.random.choice(STREAM_TARGETS),
                                self.random.uniform(0.5, 5.0), self.started)
        selector.register(subscriber.sock, selectors.EVENT_WRITE, subscriber)

    def _finish(self, selector, subscriber):
        selector.unregister(subscriber.sock)
        subscriber.ended = time.monotonic()
        subscriber.close()
        subscriber.raw_left = len(subscriber.raw)
        subscriber.raw = subscriber.body = b""
        self.finished.append(subscriber)

    def run(self):
        selector = selectors.DefaultSelector()
        try:
            for _ in range(CONCURRENT):
                self._open(selector)
            next_sweep = 0.0
            while not self.stop.is_set():
                for key, events in selector.select(timeout=0.1):
                    subscriber = key.data
                    if events & selectors.EVENT_WRITE:
                        error = subscriber.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                        if error:
                            subscriber.problem = "connect failed: %s" % os.strerror(error)
                            self._finish(selector, subscriber)
                            self._open(selector)
                            continue
                        subscriber.send_request()
                        selector.modify(subscriber.sock, selectors.EVENT_READ, subscriber)
                        continue
                    try:
                        data = subscriber.sock.recv(262144)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError as error:
                        data = b""
                        subscriber.problem = "recv failed: %s" % error
                    if not data:
                        subscriber.server_closed = True
                        self._finish(selector, subscriber)
                        self._open(selector)
                        continue
                    subscriber.received(data)
                now = time.monotonic()
                if now >= next_sweep:   # not on every wake-up: that alone would cost the loop its pace
                    next_sweep = now + 0.05
                    for key in list(selector.get_map().values()):
                        if key.data.closes_at <= now:
                            self._finish(selector, key.data)
                            self._open(selector)
        except Exception as error:   # asserted on by the test
            self.error = error
        finally:
            for key in list(selector.get_map().values()):
                key.data.cut_short = True
                self._finish(selector, key.data)
            selector.close()


class Monitor(threading.Thread):
    """Every 2 s: is the process alive, is /healthz 200, has `consumed` risen; plus a few REST
    requests a second in between."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.stop = threading.Event()
        self.samples = []   # (time, healthz status, consumed, sse_clients, rss)
        self.failures = []
        self.rest_requests = 0
        self.session = requests.Session()

    def run(self):
        rng = random.Random(11)
        next_sample = 0.0
        while not self.stop.is_set():
            if self.server.process.poll() is not None:
                self.failures.append("server exited with %s" % self.server.process.returncode)
                return
            now = time.monotonic()
            try:
                if now >= next_sample:
                    next_sample = now + 2
                    health = self.session.get(self.server.url("/healthz"), timeout=5).status_code
                    status = self.session.get(self.server.url("/api/status"), timeout=5).json()
                    self.samples.append((now, health, status["consumed"], status["sse_clients"],
                                         rss_bytes(self.server.process.pid)))
                else:
                    response = self.session.get(self.server.url(rng.choice(REST_TARGETS)), timeout=5)
                    self.rest_requests += 1
                    if response.status_code != 200:
                        self.failures.append("REST %s -> %d" % (response.url, response.status_code))
            except requests.RequestException as error:
                self.failures.append("request failed: %r" % error)
            self.stop.wait(0.25)


def churn(server, seconds):
    """Runs the crowd for `seconds`; returns the subscribers it finished."""
    crowd = Crowd(server.base_url)
    crowd.start()
    crowd.stop.wait(seconds)
    crowd.stop.set()
    crowd.join(timeout=30)
    assert not crowd.is_alive(), "the subscriber loop did not stop"
    assert crowd.error is None, "subscriber loop failed: %r" % crowd.error
    return crowd.finished


def quiet_sample(server, expected_clients=0):
    """fd count and RSS once the subscribers are gone and the server has noticed."""
    pid = server.process.pid
    deadline = time.monotonic() + 10
    while server.get("/api/status").json()["sse_clients"] != expected_clients and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)
    return fd_count(pid), rss_bytes(pid)


def test_soak(start_server):
    # The live path alone: the history store's page cache fills as its file grows (bounded, by
    # design) and would read as growth here; the history's memory is checked by its own export
    # test (test_history_export_scale.py).
    server = start_server("--rate", str(RATE), "--backfill", "0", "--history", "none")
    pid = server.process.pid
    fds_start, rss_start = fd_count(pid), rss_bytes(pid)
    cpu_start = time.process_time()
    monitor = Monitor(server)
    monitor.start()
    try:
        warm = churn(server, WARMUP_SECONDS)
        fds_warm, rss_warm = quiet_sample(server)
        soaked = churn(server, SOAK_SECONDS - WARMUP_SECONDS)
        fds_end, rss_end = quiet_sample(server)
    finally:
        monitor.stop.set()
        monitor.join(timeout=15)

    subscribers = warm + soaked
    metrics = server.get("/metrics").text
    dropped = int(re.search(r"^musicstream_sse_clients_dropped_total (\d+)", metrics, re.MULTILINE).group(1))
    print("memory releases: %s in %s s" % (
        re.search(r"^musicstream_memory_releases_total (\d+)", metrics, re.MULTILINE).group(1),
        re.search(r"^musicstream_memory_release_seconds_total (\S+)", metrics, re.MULTILINE).group(1)))
    consumed = [sample[2] for sample in monitor.samples]
    head_times = sorted(s.head_after for s in subscribers if s.head_after is not None)
    print("test client CPU %.1f s; response head after %.3f s median, %.3f s at p99"
          % (time.process_time() - cpu_start, head_times[len(head_times) // 2], head_times[int(len(head_times) * 0.99)]))
    print("soak %.0f s: %d subscribers (%d listen events checked, %.0f MB read), %d REST requests, "
          "%d slow drops; fds %d at start, %d after warm-up, %d at end; RSS %.1f MB at start, %.1f MB after "
          "warm-up, %.1f MB at end (peak sampled %.1f MB); consumed %d"
          % (SOAK_SECONDS, len(subscribers), sum(s.listen_events for s in subscribers),
             sum(s.bytes for s in subscribers) / 1e6, monitor.rest_requests, dropped, fds_start, fds_warm, fds_end,
             rss_start / 2**20, rss_warm / 2**20, rss_end / 2**20,
             max(sample[4] for sample in monitor.samples) / 2**20, consumed[-1]))

    assert server.process.poll() is None, "server died"
    assert not monitor.failures, monitor.failures[:10]
    assert len(monitor.samples) >= SOAK_SECONDS / 2 * 0.8, "the monitor sampled too rarely: %d" % len(monitor.samples)
    assert all(sample[1] == 200 for sample in monitor.samples)
    stalls = [(a, b) for a, b in zip(consumed, consumed[1:]) if b <= a]
    assert not stalls, "consumption stalled between samples: %s" % stalls[:5]
    assert monitor.samples[-1][2] >= RATE * SOAK_SECONDS * 0.5, "consumed far fewer events than produced"

    # Churn really happened, at about the asked concurrency.
    assert len(subscribers) >= CONCURRENT * SOAK_SECONDS / 5
    assert max(sample[3] for sample in monitor.samples) >= CONCURRENT * 0.6
    problems = [s.problem for s in subscribers if s.problem]
    assert not problems, "%d subscribers saw bad responses: %s" % (len(problems), problems[:5])
    # Those the crowd's stop cut off within a second of connecting may not have had their answer yet.
    headless = [s for s in subscribers if s.status is None and not (s.cut_short and s.ended - s.opened < 1)]
    assert not headless, "%d subscribers got no response head: %s" % (len(headless), [s.describe() for s in headless[:5]])
    closed = [(s.target, round(s.ended - s.opened, 2)) for s in subscribers if s.server_closed]
    assert not closed, "the server closed %d streams it should have kept (%d dropped as slow): %s" % (
        len(closed), dropped, closed[:5])
    silent = [s for s in subscribers if s.ended - s.opened >= 2 and s.listen_events == 0]
    assert not silent, "%d subscribers of 2 s or more got no event: %s" % (len(silent), [s.describe() for s in silent[:5]])

    assert fds_end <= fds_warm + FD_MARGIN, "fds leaked: %d after warm-up, %d at the end" % (fds_warm, fds_end)
    assert rss_end <= rss_warm * (1 + RSS_GROWTH_LIMIT), \
        "RSS grew %.1f %% (%d -> %d bytes)" % ((rss_end / rss_warm - 1) * 100, rss_warm, rss_end)
