"""End to end: simulator -> embedded Kafka broker -> server -> REST and SSE, with kcat as an outside
client of the same broker."""
import json
import re
import subprocess
import time
import uuid

import pytest
import requests

from conftest import wait_until
from sse import SSEClient

CANONICAL_FIELDS = [
    "event_id", "user_id", "username", "email", "track_id", "title", "artist", "genre", "platform",
    "mood", "city", "country", "duration", "listen_position", "completed", "skipped", "rating", "timestamp",
]
UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def live(start_server):
    """Defaults as the README's first command runs them (simulator on), on a free port."""
    return start_server()


def kcat_produce(bootstrap, payloads, key="kcat-user"):
    lines = "\n".join(payloads) + "\n"
    subprocess.run(
        ["kcat", "-P", "-b", bootstrap, "-t", "music-streams", "-k", key, "-z", "none"],
        input=lines.encode(), check=True, timeout=30)


def find_event(server, predicate, timeout=15):
    def look():
        events = server.get("/api/events?limit=1000").json()["events"]
        return next((event for event in events if predicate(event)), None)
    return wait_until(look, timeout=timeout)


def test_events_are_served_within_five_seconds_of_healthz(live):
    body = wait_until(lambda: (lambda b: b if b["count"] >= 2 else None)(live.get("/api/events").json()), timeout=5)
    assert body, "fewer than 2 events 5 s after /healthz"
    assert body["window"] >= body["count"] >= 2
    for event in body["events"]:
        assert list(event.keys()) == CANONICAL_FIELDS
        assert UUID_PATTERN.match(event["event_id"])
        assert event["completed"] == (event["listen_position"] / event["duration"] >= 0.8)
        assert event["skipped"] == (not event["completed"])
        assert 0 <= event["rating"] <= 5
        assert event["timestamp"] > 1_600_000_000_000


def test_live_events_keep_arriving(live):
    first = live.get("/api/status").json()["consumed"]
    assert wait_until(lambda: live.get("/api/status").json()["consumed"] > first, timeout=6)


def test_status_describes_the_embedded_broker(live):
    status = live.get("/api/status").json()
    assert status["kafka"]["mode"] == "embedded"
    assert status["kafka"]["bootstrap_servers"] == live.bootstrap
    assert status["kafka"]["topic"] == "music-streams"
    assert status["kafka"]["partitions"] == 3
    assert status["window"]["capacity"] == 10000
    assert status["window"]["size"] >= 1
    assert status["uptime_seconds"] >= 0
    assert isinstance(status["sse_clients"], int)


def test_page_and_static_files(live):
    page = live.get("/")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "js/main.js" in page.text
    script = live.get("/js/main.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["Content-Type"]
    assert live.get("/app.css").headers["Content-Type"].startswith("text/css")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert live.get("/no-such-file.js").status_code == 404
    for path in ["/../Package.swift", "/%2e%2e/Package.swift", "/..%2fPackage.swift", "/etc/passwd"]:
        assert live.get(path).status_code in (400, 404), path


def test_stream_delivers_matching_events_with_ids(live):
    client = SSEClient(live.url("/stream"))
    try:
        assert client.status == 200
        assert client.headers["content-type"].startswith("text/event-stream")
        assert wait_until(lambda: live.get("/api/status").json()["sse_clients"] >= 1, timeout=5)
        events = client.events(3, timeout=15)
    finally:
        client.close()
    assert len(events) == 3
    ids = [event_id for event_id, _ in events]
    assert ids == sorted(ids) and len(set(ids)) == 3
    for _, data in events:
        assert list(json.loads(data).keys()) == CANONICAL_FIELDS


def test_stream_filter_applies(live):
    bootstrap = live.bootstrap
    marker = "Filtered-%s" % uuid.uuid4().hex[:8]
    client = SSEClient(live.url("/stream?genre=" + marker.lower()))
    try:
        time.sleep(0.3)
        event = canonical_event(genre=marker)
        kcat_produce(bootstrap, [json.dumps(event)])
        received = client.events(1, timeout=15)
    finally:
        client.close()
    assert len(received) == 1
    assert json.loads(received[0][1])["event_id"] == event["event_id"]


def canonical_event(**overrides):
    event = {
        "event_id": str(uuid.uuid4()), "user_id": "u-" + uuid.uuid4().hex[:8], "username": "e2e.user",
        "email": "e2e@example.com", "track_id": "t-1", "title": "Glimpse of Us", "artist": "Joji",
        "genre": "Alt Pop", "platform": "Spotify", "mood": "Melancholic", "city": "Osaka",
        "country": "Japan", "duration": 233, "listen_position": 93, "completed": False, "skipped": True,
        "rating": 4, "timestamp": int(time.time() * 1000),
    }
    event.update(overrides)
    return event


def test_kcat_canonical_event_shows_up(live):
    event = canonical_event(title="Canonical via kcat %s" % uuid.uuid4().hex[:6])
    kcat_produce(live.bootstrap, [json.dumps(event)], key=event["user_id"])
    found = find_event(live, lambda e: e["event_id"] == event["event_id"])
    assert found == event


def test_kcat_python_shape_event_shows_up(live):
    title = "Python shape %s" % uuid.uuid4().hex[:6]
    seconds = int(time.time())
    legacy = {
        "user_id": str(uuid.uuid4()), "name": "legacy_user", "email": "legacy@example.org",
        "track_id": str(uuid.uuid4()), "title": title, "artist": "Avicii", "genre": "EDM",
        "timestamp": seconds, "platform": "Apple Music", "location": {"city": "Bogotá", "country": "Colombia"},
        "mood": "Energetic", "duration_seconds": 200, "listen_position": 190, "completed": True,
        "rating": 3.7, "is_skipped": False,
    }
    kcat_produce(live.bootstrap, [json.dumps(legacy)])
    found = find_event(live, lambda e: e["title"] == title)
    assert found, "python-shape event never appeared"
    assert UUID_PATTERN.match(found["event_id"])
    assert found["username"] == "legacy_user"
    assert (found["city"], found["country"]) == ("Bogotá", "Colombia")
    assert found["duration"] == 200 and found["listen_position"] == 190
    assert found["completed"] is True and found["skipped"] is False
    assert found["rating"] == 4
    assert found["timestamp"] == seconds * 1000


def test_server_produced_events_read_back_by_kcat_keyed_by_user_id(live):
    result = subprocess.run(
        ["kcat", "-C", "-b", live.bootstrap, "-t", "music-streams", "-o", "beginning", "-c", "10", "-e",
         "-f", "%k\t%s\n"],
        capture_output=True, timeout=30, check=True)
    lines = [line for line in result.stdout.decode().split("\n") if line]
    assert len(lines) >= 5
    simulated = 0
    for line in lines:
        key, value = line.split("\t", 1)
        event = json.loads(value)
        if key == "kcat-user":
            continue  # produced by this test module through kcat
        assert key == event["user_id"]
        assert list(event.keys()) == CANONICAL_FIELDS
        simulated += 1
    assert simulated >= 5


def test_malformed_messages_are_counted_and_skipped(live):
    before = live.get("/api/status").json()
    good = canonical_event(title="After garbage %s" % uuid.uuid4().hex[:6])
    bad = [
        "this is not json",
        "{}",
        json.dumps(canonical_event(rating=9)),
        json.dumps(canonical_event(listen_position=999, duration=100)),
        "[1, 2, 3]",
    ]
    kcat_produce(live.bootstrap, bad + [json.dumps(good)])
    assert find_event(live, lambda e: e["event_id"] == good["event_id"]), "valid event after garbage was lost"
    after = wait_until(lambda: (lambda s: s if s["rejected"] >= before["rejected"] + 5 else None)(
        live.get("/api/status").json()), timeout=10)
    assert after, "rejected count did not rise by 5"
    reasons = after["rejected_by_reason"]
    assert reasons.get("not_json", 0) >= 1
    assert reasons.get("out_of_range", 0) >= 2
    assert reasons.get("missing_field", 0) >= 1
    assert reasons.get("not_object", 0) >= 1
    assert live.get("/healthz").status_code == 200
    assert any("rejected" in line for line in live.stderr_lines)


def test_diurnal_traffic_starts_at_night_pace(start_server):
    """--traffic diurnal follows its curve: a day starts at night, 0.2x the rate (40 of 200 listens
    a second), where steady traffic would give the full 200."""
    server = start_server("--traffic", "diurnal", "--rate", "200", "--backfill", "0", "--seed", "3")
    assert wait_until(lambda: server.get("/api/status").json()["consumed"] > 0, timeout=15)
    first = server.get("/api/status").json()["consumed"]
    started = time.monotonic()
    time.sleep(5)
    consumed = server.get("/api/status").json()["consumed"] - first
    pace = consumed / (time.monotonic() - started)
    assert 20 <= pace <= 100, "diurnal night pace %.1f listens/s, expected about 40" % pace
