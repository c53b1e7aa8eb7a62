"""Hostile HTTP clients and security defaults, against the release binary over loopback.

Every refusal must be the server's own problem+json with the security headers, followed by a
close; slow and idle clients must be bounded without starving anyone else; static files must
never come from outside the public directory; secrets must never reach the logs."""
import gzip
import json
import os
import re
import select
import shutil
import signal
import socket
import threading
import time
from urllib.parse import quote, urlsplit

import pytest
import requests

from conftest import wait_until

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
SECURITY_HEADERS = ["content-security-policy", "x-content-type-options", "referrer-policy"]


class Reply:
    """A response read off a raw socket; `closed` says the server ended the connection."""

    def __init__(self, raw, closed):
        self.raw = raw
        self.closed = closed
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.setdefault(name.strip().lower(), value.strip())
        length = self.headers.get("content-length")
        self.body = body[:int(length)] if length and length.isdigit() else body

    def json(self):
        import json
        return json.loads(self.body)


def address(server):
    parts = urlsplit(server.base_url)
    return parts.hostname, parts.port


def read_reply(sock, timeout=10.0):
    """Reads until the server closes or the response is complete."""
    sock.settimeout(timeout)
    data = b""
    closed = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
        head, separator, body = data.partition(b"\r\n\r\n")
        if separator and b"content-length:" in head.lower():
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            if len(body) >= length and b"connection: close" not in head.lower():
                break
    return Reply(data, closed)


def exchange(server, data, timeout=10.0):
    """One raw request on a fresh connection; sending errors are ignored (the server may
    refuse before it has read everything) and the reply is read regardless."""
    with socket.create_connection(address(server), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except OSError:
            pass
        return read_reply(sock, timeout)


def get(server, target, headers=""):
    return exchange(server, ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n" % (target, headers)).encode())


def assert_refusal(reply, status):
    assert reply.status == status, reply.raw[:300]
    assert reply.headers["content-type"] == "application/problem+json"
    problem = reply.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    for header in SECURITY_HEADERS:
        assert header in reply.headers, (status, header)
    assert reply.closed, "the connection stays open after %d" % status


def server_fds(server):
    return len(os.listdir("/proc/%d/fd" % server.process.pid))


@pytest.fixture(scope="module")
def public_dir(tmp_path_factory):
    """A copy of Public/ next to a secret file, with symlinks pointing out of it (and one in)."""
    base = tmp_path_factory.mktemp("site")
    public = base / "public"
    shutil.copytree(os.path.join(ROOT, "Public"), public)
    (base / "secret.txt").write_text("TOPSECRET-outside-public\n")
    os.symlink(base / "secret.txt", public / "leak.txt")
    os.symlink(base, public / "leakdir")
    os.symlink("/etc", public / "etc")
    os.symlink(public / "index.html", public / "alias.html")
    return public


@pytest.fixture(scope="module")
def server(start_server, public_dir):
    return start_server("--rate", "5", "--backfill", "20", "--public-dir", str(public_dir),
                        "--header-timeout", "2", "--idle-timeout", "2")


# --- oversized requests -------------------------------------------------------------------

def test_oversized_url_is_414(server):
    reply = get(server, "/api/events?artist=" + "a" * (200 * 1024))
    assert_refusal(reply, 414)
    assert server.get("/healthz").status_code == 200


def test_longest_valid_query_is_still_served(server):
    # 4 repeatable filters x 50 values x 256 UTF-8 bytes, percent-encoded: about 155 KB.
    value = quote("é" * 128)
    query = "&".join("%s=%s%d" % (name, value[:-6], index)
                     for name in ["genre", "platform", "mood", "country"] for index in range(50))
    assert len(query) > 150_000
    reply = get(server, "/api/events?" + query)
    assert reply.status == 200, reply.raw[:300]


def test_oversized_headers_are_431(server):
    headers = "".join("X-Filler-%d: %s\r\n" % (index, "v" * 1000) for index in range(40))
    assert_refusal(get(server, "/api/status", headers), 431)


def refused_count(server, status):
    text = server.get("/metrics").text
    found = re.search(r'^musicstream_http_connections_refused_total\{status="%d"\} (\d+)$' % status, text, re.MULTILINE)
    return int(found.group(1)) if found else 0


def test_refusals_are_counted_in_metrics_by_status(server):
    before = {status: refused_count(server, status) for status in (414, 431, 501)}
    assert_refusal(get(server, "/api/events?artist=" + "a" * (200 * 1024)), 414)
    assert_refusal(get(server, "/api/status", "X-Big: %s\r\n" % ("v" * 40_000)), 431)
    assert exchange(server, b"BREW /api/status HTTP/1.1\r\nHost: x\r\n\r\n").status == 501
    assert wait_until(lambda: {status: refused_count(server, status) - count for status, count in before.items()}
                      == {414: 1, 431: 1, 501: 1}, timeout=5)
    assert "# TYPE musicstream_http_connections_refused_total counter" in server.get("/metrics").text


def test_oversized_body_is_413(server):
    body = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    head = b"POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    assert_refusal(exchange(server, head + body), 413)
    # Under the transport limit but over the API's: the publisher's own 413.
    small = b"{" + b" " * (100 * 1024) + b"}"
    reply = exchange(server, b"POST /api/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(small) + small)
    assert reply.status == 413 and reply.headers["content-type"] == "application/problem+json"


def test_malformed_requests_and_unknown_methods(server):
    assert_refusal(exchange(server, b"THIS IS NOT HTTP\r\n\r\n"), 400)
    assert_refusal(exchange(server, b"GET / HTTP/1.1\r\nno colon\r\n\r\n"), 400)
    assert_refusal(exchange(server, b"BREW /api/status HTTP/1.1\r\nHost: x\r\n\r\n"), 501)


# --- framing and later requests on a kept-alive connection (issue 15) --------------------------

def read_until_closed(sock, timeout=5.0):
    """Every byte the server sends until it closes; None if it keeps the connection open."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return None
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk
    return None


def api_listen(user_id):
    """A listen as POST /api/events takes it (the server sets id, time, completed and skipped)."""
    return {"user_id": user_id, "username": "framing.tester", "email": "framing@example.com", "track_id": "t-1",
            "title": "Glimpse of Us", "artist": "Joji", "genre": "Alt Pop", "duration": 233, "listen_position": 93,
            "platform": "Spotify", "mood": "Melancholic", "rating": 4, "city": "Osaka", "country": "Japan"}


HIDDEN = b"GET /api/status?smuggled=1 HTTP/1.1\r\nHost: x\r\n\r\n"

# Each shape hides HIDDEN where one reading of the framing would find a second request.
SMUGGLING = {
    "CL.CL differing": b"POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: %d\r\n\r\n" % len(HIDDEN) + HIDDEN,
    "CL.CL equal": b"POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}" + HIDDEN,
    "CL list": b"POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\n{}" + HIDDEN,
    "CL space before colon": b"POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Length : %d\r\n\r\n" % len(HIDDEN) + HIDDEN,
    "CL with sign": b"POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Length: +%d\r\n\r\n" % len(HIDDEN) + HIDDEN,
    "CL.TE": b"POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + HIDDEN,
    "TE.CL": b"POST /api/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
             b"%x\r\n" % len(HIDDEN) + HIDDEN + b"\r\n0\r\n\r\n",
    "TE.TE twice": b"POST /api/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: cow\r\n\r\n0\r\n\r\n" + HIDDEN,
    "TE.TE xchunked": b"POST /api/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 2\r\n\r\n{}" + HIDDEN,
    "TE.TE space before colon": b"POST /api/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + HIDDEN,
    "TE.TE tab before colon": b"POST /api/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n" + HIDDEN,
    "TE.TE vertical tab": b"POST /api/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n" + HIDDEN,
    "TE.TE folded": b"POST /api/events HTTP/1.1\r\nHost: x\r\nX-A: b\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + HIDDEN,
    "TE.TE list": b"POST /api/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + HIDDEN,
    "TE in HTTP/1.0": b"POST /api/events HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + HIDDEN,
    "bare CR in a field": b"POST /api/events HTTP/1.1\r\nHost: x\r\nX-A: b\rContent-Length: 0\r\n\r\n" + HIDDEN,
    "chunk size 0x": b"POST /api/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x0\r\n\r\n" + HIDDEN,
    "chunk size bare LF": b"POST /api/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\n{}\r\n0\r\n\r\n" + HIDDEN,
    "chunk longer than its size": b"POST /api/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  b"2\r\n{}" + HIDDEN + b"\r\n0\r\n\r\n",
    "chunk size overflow": b"POST /api/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"10000000000000002\r\n{}\r\n0\r\n\r\n" + HIDDEN,
    "CONNECT": b"CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n" + HIDDEN,
}


@pytest.mark.parametrize("shape", sorted(SMUGGLING))
def test_request_smuggling_shapes_are_refused_and_nothing_after_them_is_answered(server, shape):
    """RFC 9112 section 6: ambiguous framing is a 400 (a coding the server lacks, or CONNECT, a
    501) and the connection closes; the request hidden behind it is never answered."""
    with socket.create_connection(address(server), timeout=10) as sock:
        try:
            sock.sendall(SMUGGLING[shape])
        except OSError:
            pass
        data = read_until_closed(sock)
    assert data is not None, "%s: the connection stays open" % shape
    assert data.count(b"HTTP/1.1 ") == 1, "%s: %r" % (shape, data[:600])
    reply = Reply(data, True)
    assert reply.status in (400, 501), (shape, data[:300])
    assert_refusal(reply, reply.status)
    assert "content-length" in reply.headers


# Requests evhttp itself refused with its HTML pages when they came after another on the same connection.
LATER_REFUSALS = [
    (b"garbage\r\n\r\n", 400),
    (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 505),
    (b"GET / HTTP/1.1\r\nHost x\r\n\r\n", 400),
    (b"QUERY / HTTP/1.1\r\nHost: x\r\n\r\n", 501),
    (b"get / HTTP/1.1\r\nHost: x\r\n\r\n", 501),
    (b"POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413),
    (b"POST /api/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", 400),
    (b"POST /api/events HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\n{}", 417),
]


@pytest.mark.parametrize("request_bytes,status", LATER_REFUSALS, ids=[r[:12].decode("latin-1") for r, _ in LATER_REFUSALS])
def test_refusals_of_a_later_request_on_a_kept_alive_connection_are_problem_json_and_counted(server, request_bytes, status):
    before = refused_count(server, status)
    with socket.create_connection(address(server), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = read_reply(sock)
        assert first.status == 200 and not first.closed
        sock.sendall(request_bytes)
        assert_refusal(read_reply(sock), status)
    assert wait_until(lambda: refused_count(server, status) == before + 1, timeout=5), status


def test_chunk_extensions_are_accepted(server):
    """RFC 9112 7.1.1: a recipient ignores chunk extensions it does not understand."""
    body = json.dumps(api_listen("chunked-ext")).encode()
    framed = b"%x;name=value;q=\"a b\"\r\n" % len(body) + body + b"\r\n0;end\r\nX-Trailer: t\r\n\r\n"
    reply = exchange(server, b"POST /api/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                             b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + framed)
    assert reply.status == 202, reply.raw[:400]


@pytest.mark.parametrize("headers", [
    b"Content-Type: application/json\r\nContent-Encoding: gzip\r\n",
    b"Content-Type: application/json\r\nContent-Encoding: br\r\n",
    b"Content-Type: application/json\r\nContent-Encoding: identity, deflate\r\n",
    b"Content-Type: application/json; charset=UTF-16\r\n",
    b"Content-Type: application/json; charset=latin1\r\n",
], ids=["gzip", "br", "identity, deflate", "UTF-16", "latin1"])
def test_a_body_the_server_cannot_read_as_utf8_json_is_415(server, headers):
    body = json.dumps(api_listen("encoded")).encode()
    if b"gzip" in headers:
        body = gzip.compress(body)
    reply = exchange(server, b"POST /api/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers
                     + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert reply.status == 415, reply.raw[:400]
    assert reply.headers["content-type"] == "application/problem+json"
    if b"Encoding" in headers:
        assert reply.headers["accept-encoding"] == "identity"
        assert "Content-Encoding" in reply.json()["detail"]
    else:
        assert "charset" in reply.json()["detail"]


def test_plain_utf8_json_with_identity_coding_is_accepted(server):
    for headers in (b"Content-Type: application/json; charset=utf-8\r\n",
                    b"Content-Type: application/json; charset=\"UTF-8\"\r\nContent-Encoding: identity\r\n"):
        body = json.dumps(api_listen("plain")).encode()
        reply = exchange(server, b"POST /api/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers
                         + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        assert reply.status == 202, reply.raw[:400]


def test_every_response_is_framed(server):
    """A length or chunking on every answer, so a pipelined next answer never runs into a body."""
    requests_ = [b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"GET /api/missing HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"TRACE / HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"HEAD /api/status HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"GET /api/events?limit=1 HTTP/1.1\r\nHost: x\r\n\r\n"]
    for request_bytes in requests_:
        with socket.create_connection(address(server), timeout=10) as sock:
            sock.sendall(request_bytes + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = read_until_closed(sock)
        assert data is not None, request_bytes
        reply = Reply(data, True)
        assert "content-length" in reply.headers or reply.headers.get("transfer-encoding") == "chunked", data[:300]
        assert data.count(b"HTTP/1.1 ") == 2, data[:600]
        assert data.endswith(b'{"status":"ok"}'), data[-200:]


def test_a_post_cannot_date_its_listen(server):
    """The server dates what is POSTed, so a client's clock cannot put a listen in the future."""
    event = dict(api_listen("dated"), timestamp=4_102_444_800_000)
    reply = server.get("/healthz")  # keep the server warm; the POST is below
    response = requests.post(server.url("/api/events"), json=event, timeout=10)
    assert reply.status_code == 200 and response.status_code == 400
    assert response.json()["field"] == "timestamp"


# --- slow and idle clients --------------------------------------------------------------------

def test_slowloris_clients_are_dropped_without_blocking_others(server):
    """50 clients send a request head a byte every 0.2 s; with --header-timeout 2 each is
    answered 408 and closed within the deadline plus the 1 s linger (and a margin), while
    normal requests keep being answered promptly."""
    header = b"GET /api/status HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"s" * 200
    sockets = [socket.create_connection(address(server), timeout=5) for _ in range(50)]
    started = time.monotonic()
    closed_after = {}
    received = {index: b"" for index in range(len(sockets))}

    def trickle():
        position = 0
        while len(closed_after) < len(sockets) and time.monotonic() - started < 10:
            for index, sock in enumerate(sockets):
                if index in closed_after:
                    continue
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    try:
                        chunk = sock.recv(65536)
                    except OSError:
                        chunk = b""
                    received[index] += chunk
                    if not chunk:
                        closed_after[index] = time.monotonic() - started
                        continue
                try:
                    sock.send(header[position:position + 1])
                except OSError:
                    pass
            position = min(position + 1, len(header) - 1)
            time.sleep(0.2)

    thread = threading.Thread(target=trickle)
    thread.start()
    try:
        latencies = []
        while thread.is_alive() and time.monotonic() - started < 4:
            began = time.monotonic()
            assert requests.get(server.url("/api/status"), timeout=5).status_code == 200
            latencies.append(time.monotonic() - began)
            time.sleep(0.1)
        thread.join(15)
    finally:
        for sock in sockets:
            sock.close()
    assert len(latencies) >= 10
    assert max(latencies) < 1.0, latencies
    assert len(closed_after) == len(sockets), "some slow clients were never dropped"
    assert max(closed_after.values()) < 2 + 1 + 1.5, sorted(closed_after.values())
    assert all(data.startswith(b"HTTP/1.1 408 ") for data in received.values())


def test_idle_keepalive_is_closed_but_a_stream_is_not(server):
    with socket.create_connection(address(server), timeout=10) as idle, \
            socket.create_connection(address(server), timeout=10) as stream:
        idle.sendall(b"GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_reply(idle).status == 200
        stream.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        first = stream.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        began = time.monotonic()
        idle.settimeout(6)
        assert idle.recv(1) == b"", "the idle keep-alive connection was not closed"
        assert time.monotonic() - began < 5
        # Past twice the idle timeout the stream still delivers (events at --rate 5).
        time.sleep(max(0.0, 4.5 - (time.monotonic() - began)))
        stream.settimeout(5)
        assert stream.recv(65536) != b""


def test_connections_past_the_limit_get_503_and_fds_stay_bounded(start_server):
    # Without the history store, whose files and consumer connections open during the first
    # seconds and would move the baseline: this counts the HTTP side's descriptors.
    server = start_server("--rate", "0", "--backfill", "0", "--max-connections", "200", "--header-timeout", "60",
                          "--history", "none")
    baseline = server_fds(server)
    held = [socket.create_connection(address(server), timeout=10) for _ in range(300)]
    try:
        refused = held[200:]
        for sock in refused:
            assert_refusal(read_reply(sock, timeout=10), 503)
        for sock in held[:200]:
            assert select.select([sock], [], [], 0)[0] == [], "an admitted connection was answered"
        # Refused connections are closed by the server; admitted ones hold one descriptor each.
        assert wait_until(lambda: server_fds(server) <= baseline + 200 + 10, timeout=5), server_fds(server)
        assert_refusal(get(server, "/healthz"), 503)
        for sock in held[:50]:
            sock.close()
        assert wait_until(lambda: get(server, "/healthz").status == 200, timeout=5)
    finally:
        for sock in held:
            sock.close()
    assert wait_until(lambda: server_fds(server) <= baseline + 5, timeout=10), (server_fds(server), baseline)


def test_a_burst_of_connections_fits_the_accept_queue(start_server):
    """Hundreds of clients connecting at the same moment (dashboards after a restart, an SSE
    crowd) all get in at once: none waits a second for a SYN retransmission because the
    listen backlog was full. The server is stopped while they connect, so the kernel's
    accept queue alone must hold them."""
    server = start_server("--rate", "0", "--backfill", "0")
    with open("/proc/sys/net/core/somaxconn") as limit:
        count = min(400, int(limit.read()))
    os.kill(server.process.pid, signal.SIGSTOP)
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.connect_ex(address(server))
            sockets.append(sock)
        # A connection the queue took completes its handshake at once; one it had no room
        # for stays in SYN_SENT until the client retransmits (1 s later at the earliest).
        deadline = time.monotonic() + 0.8
        pending = list(sockets)
        while pending and time.monotonic() < deadline:
            _, writable, _ = select.select([], pending, [], 0.05)
            pending = [sock for sock in pending if sock not in writable]
        assert not pending, "%d of %d connections were not accepted into the queue" % (len(pending), count)
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    try:
        for sock in sockets:
            sock.setblocking(True)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        for sock in sockets:
            assert read_reply(sock, timeout=10).status == 200
    finally:
        for sock in sockets:
            sock.close()


# --- query strings ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw_query, parameter", [
    ("artist=%zz", "artist"),
    ("genre=%", "genre"),
    ("country=%4", "country"),
    ("q=%00", "q"),
    ("artist=a%00b", "artist"),
    ("mood=%C0%AF", "mood"),            # overlong "/"
    ("q=%E0%80%AE", "q"),               # overlong "."
    ("artist=%ED%A0%80", "artist"),     # UTF-16 surrogate
    ("%zz=1", "%zz"),
])
def test_invalid_percent_encoding_is_a_400_naming_the_parameter(server, raw_query, parameter):
    reply = get(server, "/api/events?" + raw_query)
    assert reply.status == 400, raw_query
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["parameter"] == parameter


@pytest.mark.parametrize("query, parameter", [
    ("&".join(["genre=rock"] * 1000), "genre"),
    ("&".join(["genre="] * 1000), "genre"),
    ("&".join(["platform=p%d" % index for index in range(51)]), "platform"),
    ("&".join(["x%d=1" % index for index in range(300)]), "x256"),   # the count limit is checked first
], ids=["1000 genre values", "1000 empty genre", "51 platform values", "300 parameters"])
def test_repeated_parameters_beyond_the_limits_are_refused(server, query, parameter):
    reply = get(server, "/api/events?" + query)
    assert reply.status == 400
    assert reply.json()["parameter"] == parameter


def test_parameters_at_the_limits_are_accepted(server):
    assert get(server, "/api/events?" + "&".join(["genre=g%d" % index for index in range(50)])).status == 200
    assert get(server, "/api/events?" + "&".join(["genre="] * 256)).status == 200


# --- static files -------------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/%2E%2E/secret.txt",
    "/%252e%252e/secret.txt", "/%252e%252e%252fsecret.txt", "/..\\secret.txt", "/%5c..%5csecret.txt",
    "/..%5csecret.txt", "/secret.txt%00.html", "/index.html%00", "//../secret.txt", "/./../secret.txt",
    "/vendor/bootstrap/../../../secret.txt", "/leak.txt", "/leakdir/secret.txt",
    "/etc/passwd", "/etc/hostname", "/.%2e/secret.txt", "/%c0%ae%c0%ae/secret.txt", "/..;/secret.txt",
])
def test_path_traversal_never_leaves_the_public_dir(server, public_dir, target):
    reply = get(server, target)
    assert reply.status in (400, 404), (target, reply.raw[:200])
    assert b"TOPSECRET" not in reply.raw
    assert b"root:" not in reply.raw
    assert reply.headers["content-type"] == "application/problem+json"
    assert str(public_dir).encode() not in reply.raw


def test_the_public_dir_itself_is_served(server):
    assert get(server, "/index.html").status == 200
    assert get(server, "/alias.html").status == 200   # a symlink that stays inside


# --- security defaults --------------------------------------------------------------------------

def listening_addresses(port):
    """Local addresses (hex, as in /proc/net/tcp*) with a socket listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                local, state = fields[1], fields[3]
                if state == "0A" and int(local.split(":")[1], 16) == port:
                    found.append(local.split(":")[0])
    return found


def test_binds_loopback_unless_told_otherwise(server):
    assert urlsplit(server.base_url).hostname == "127.0.0.1"
    assert listening_addresses(urlsplit(server.base_url).port) == ["0100007F"]
    assert not any("write token" in line for line in server.stderr_lines)


def test_warns_when_public_without_a_write_token(start_server):
    exposed = start_server("--rate", "0", "--host", "0.0.0.0")
    assert wait_until(lambda: any("not a loopback address" in line and "write token" in line
                                  for line in exposed.stderr_lines), timeout=5), exposed.stderr_lines
    assert listening_addresses(urlsplit(exposed.base_url).port) == ["00000000"]
    guarded = start_server("--rate", "0", "--host", "0.0.0.0", "--write-token", "t0ken-for-the-warning-test")
    assert not any("write token" in line for line in guarded.stderr_lines)


def test_security_headers_on_every_response(start_server, public_dir):
    server = start_server("--rate", "5", "--public-dir", str(public_dir), "--header-timeout", "1",
                          "--max-connections", "20")
    etag = server.get("/js/main.js").headers["ETag"]
    replies = {
        "200 api": get(server, "/api/status"),
        "200 static": get(server, "/index.html"),
        "304": get(server, "/js/main.js", "If-None-Match: %s\r\n" % etag),
        "404 static": get(server, "/missing.js"),
        "404 api": get(server, "/api/missing"),
        "405": exchange(server, b"DELETE /api/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        "400": get(server, "/api/events?rating=9"),
        "204 OPTIONS": exchange(server, b"OPTIONS /api/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        "HEAD": exchange(server, b"HEAD /api/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        "400 body": exchange(server, b"POST /api/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                     b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"),
        "413": exchange(server, b"POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n"),
        "414": get(server, "/" + "a" * 300_000),
        "431": get(server, "/", "X-Big: %s\r\n" % ("b" * 40_000)),
        "501": exchange(server, b"BREW / HTTP/1.1\r\n\r\n"),
        "400 malformed": exchange(server, b"NONSENSE\r\n\r\n"),
        "408": exchange(server, b"GET / HTTP/1.1\r\n", timeout=5),
    }
    with socket.create_connection(address(server), timeout=10) as stream:
        stream.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        replies["SSE"] = Reply(stream.recv(65536), False)
    held = [socket.create_connection(address(server), timeout=10) for _ in range(20)]
    try:
        replies["503"] = get(server, "/api/status")
    finally:
        for sock in held:
            sock.close()
    expected = {"200 api": 200, "200 static": 200, "304": 304, "404 static": 404, "404 api": 404, "405": 405,
                "400": 400, "204 OPTIONS": 204, "HEAD": 200, "400 body": 400, "413": 413, "414": 414, "431": 431,
                "501": 501, "400 malformed": 400, "408": 408, "SSE": 200, "503": 503}
    for name, reply in replies.items():
        assert reply.status == expected[name], (name, reply.raw[:200])
    for name, reply in replies.items():
        for header in SECURITY_HEADERS:
            assert header in reply.headers, (name, header, reply.raw[:300])
        assert reply.headers["x-content-type-options"] == "nosniff", name
        assert reply.headers["referrer-policy"] == "no-referrer", name
        assert "default-src 'self'" in reply.headers["content-security-policy"], name
    # No error body tells a client where the server lives or what it is built from.
    for name, reply in replies.items():
        if reply.status and reply.status >= 400:
            for leak in [str(public_dir).encode(), ROOT.encode(), b"Sources/", b".swift", b"Fatal error", b"<HTML"]:
                assert leak not in reply.raw, (name, leak)


def test_secrets_are_never_logged(start_server, monkeypatch):
    monkeypatch.setenv("MUSICSTREAM_KAFKA_SASL_USERNAME", "user-SECRETUSER-5150")
    monkeypatch.setenv("MUSICSTREAM_KAFKA_SASL_PASSWORD", "env-SECRETPW-8817")
    token = "tok-SECRETTOKEN-4242"
    flag_password = "flag-SECRETPW-7731"
    server = start_server("--rate", "2", "--write-token", token, "--kafka-config", "sasl.password=" + flag_password)
    monkeypatch.delenv("MUSICSTREAM_KAFKA_SASL_PASSWORD")
    env_only = start_server("--rate", "0")
    event = {"user_id": "u-1", "username": "someone", "email": "someone@example.com", "track_id": "t-1",
             "title": "t", "artist": "a", "genre": "Pop", "platform": "Web", "mood": "Happy", "city": "Oslo",
             "country": "NO", "duration": 200, "listen_position": 100, "rating": 4}
    wrong = requests.post(server.url("/api/events"), json=event, timeout=10,
                          headers={"Authorization": "Bearer not-" + token})
    assert wrong.status_code == 401 and token not in wrong.text
    right = requests.post(server.url("/api/events"), json=event, timeout=10,
                          headers={"Authorization": "Bearer " + token})
    assert right.status_code in (202, 503)
    assert "SECRET" not in right.text
    for running in (server, env_only):
        assert running.stop() == 0
        time.sleep(0.2)   # let the reader threads take the last lines
        output = "\n".join(running.stdout_lines + running.stderr_lines)
        assert output, "the server printed nothing at all"
        for secret in [token, flag_password, "env-SECRETPW-8817", "SECRETPW", "SECRETTOKEN"]:
            assert secret not in output, secret
