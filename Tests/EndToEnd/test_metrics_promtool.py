"""Prometheus' own checker accepts /metrics: `promtool check metrics` (scripts/setup --test installs
it) reports no parse error and no lint problem, on an exposition where every family has samples:
the server first serves a bit of everything (listens and their history, reads and bad reads, a
POST, streams open, resumed and reset, a connection refused before routing)."""
import json
import re
import shutil
import socket
import subprocess
import time

import pytest
import requests

from conftest import wait_until
from sse import SSEClient

LISTEN = {
    "user_id": "promtool-user", "username": "prom.tool", "email": "prom@example.com", "track_id": "t-1",
    "title": "Glimpse of Us", "artist": "Joji", "genre": "Alt Pop", "platform": "Spotify", "mood": "Melancholic",
    "city": "Osaka", "country": "Japan", "duration": 233, "listen_position": 201, "rating": 5,
}


def promtool(exposition):
    tool = shutil.which("promtool")
    assert tool, "promtool is not installed: run scripts/setup --test"
    return subprocess.run([tool, "check", "metrics"], input=exposition, capture_output=True, text=True, timeout=60)


def families(exposition):
    """{family: (type, sample count)} from the text format; histogram lines count for their family."""
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", exposition, re.MULTILINE))
    counts = dict.fromkeys(types, 0)
    for line in exposition.splitlines():
        if not line or line.startswith("#"):
            continue
        name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        family = name if name in types else base
        assert family in types, "sample %r has no TYPE line" % line
        counts[family] += 1
    return {name: (types[name], counts[name]) for name in types}


def refuse_a_connection(server):
    """A request line that is not HTTP: answered 400 and closed before any route sees it."""
    host, port = server.base_url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:100]


def test_promtool_flags_a_bad_exposition():
    # The checker is live: a counter without _total and a sample without a family are reported.
    result = promtool("# HELP requests Requests.\n# TYPE requests counter\nrequests 1\n")
    assert result.returncode != 0
    assert "_total" in result.stdout + result.stderr


def test_metrics_pass_promtool_with_every_family_sampled(start_server):
    server = start_server("--rate", "20", "--seed", "5")
    assert wait_until(lambda: server.get("/api/events?limit=1").json()["count"] == 1)

    # Reads, good and bad; a listen published and then read back from the history store.
    for path in ("/api/events?genre=Pop&limit=5", "/api/facets", "/api/timeline?bucket=1m", "/api/status",
                 "/readyz", "/", "/openapi.yaml", "/no-such-file", "/api/no-such-route"):
        server.get(path)
    assert server.get("/api/events?rating=9").status_code == 400
    event_id = server.get("/api/events?limit=1").json()["events"][0]["event_id"]
    assert server.get("/api/events/" + event_id).status_code == 200
    assert requests.post(server.url("/api/events"), json=LISTEN, timeout=10).status_code == 202
    assert requests.delete(server.url("/api/events"), timeout=10).status_code == 405
    assert wait_until(lambda: server.get("/api/users/promtool-user").status_code == 200, timeout=20)
    assert server.get("/api/users/nobody-at-all").status_code == 404
    export = server.get("/api/export?format=ndjson&genre=Pop")
    assert export.status_code == 200 and json.loads(export.text.splitlines()[0])["genre"] == "Pop"
    refuse_a_connection(server)

    # Streams: one following with stats, one resumed from its position, one told to reset; all
    # three are open while /metrics is read.
    follower = SSEClient(server.url("/stream?stats=true"))
    resumed = reset = None
    try:
        assert follower.events(3), "no listens on the stream"
        resumed = SSEClient(server.url("/stream"), headers={"Last-Event-ID": follower.last_id})
        reset = SSEClient(server.url("/stream?last_event_id=p1.0.0.0"))
        assert reset.first_event_name(timeout=5) == "reset"
        assert resumed.events(1)
        exposition = server.get("/metrics").text
    finally:
        for client in (follower, resumed, reset):
            if client:
                client.close()

    sampled = families(exposition)
    assert "musicstream_http_requests_total" in sampled and "musicstream_history_lag" in sampled
    empty = sorted(name for name, (_, count) in sampled.items() if count == 0)
    assert empty == [], "families with no samples (serve something that moves them above): %s" % empty
    assert re.search(r"^musicstream_sse_clients [3-9]", exposition, re.MULTILINE), "the streams were not counted"
    assert re.search(r'^musicstream_http_connections_refused_total\{status="400"\} [1-9]', exposition, re.MULTILINE)
    assert re.search(r"^musicstream_sse_resumes_total [1-9]", exposition, re.MULTILINE)
    assert re.search(r"^musicstream_sse_resets_total [1-9]", exposition, re.MULTILINE)

    result = promtool(exposition)
    assert result.returncode == 0 and (result.stdout + result.stderr).strip() == "", \
        "promtool check metrics:\n" + result.stdout + result.stderr
