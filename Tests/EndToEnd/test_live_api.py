"""Issue-3 behaviour against live servers: cursors while events arrive, publishing latency and
failure, gap-free SSE resume, stats frames, timeline, metrics, CORS."""
import json
import socket
import time
import uuid

import pytest
import requests

from conftest import wait_until
from sse import SSEClient


def new_listen(**overrides):
    body = {
        "user_id": "u-" + uuid.uuid4().hex[:10], "username": "live.tester", "email": "live@example.com",
        "track_id": "t-9", "title": "Glimpse of Us", "artist": "Joji", "genre": "Alt Pop",
        "platform": "Spotify", "mood": "Melancholic", "city": "Osaka", "country": "Japan",
        "duration": 233, "listen_position": 201, "rating": 5,
    }
    body.update(overrides)
    return body


@pytest.fixture(scope="module")
def busy(start_server):
    """Events keep arriving (50/s) during every test here."""
    return start_server("--rate", "50", "--seed", "11", "--cors-origin", "https://dash.example")


def test_cursor_walk_has_no_duplicates_or_gaps_while_events_arrive(busy):
    assert wait_until(lambda: busy.get("/api/status").json()["window"]["size"] >= 200, timeout=20)
    first = busy.get("/api/events", params={"limit": 37}).json()
    expected_total = first["matching"]
    collected = list(first["events"])
    cursor = first["next"]
    pages = 1
    while cursor:
        time.sleep(0.1)  # new events land between pages (50/s)
        page = busy.get("/api/events", params={"limit": 37, "cursor": cursor}).json()
        collected += page["events"]
        assert page["matching"] == expected_total, "the snapshot bound must not move"
        cursor = page["next"]
        pages += 1
        assert pages < 1000
    ids = [event["event_id"] for event in collected]
    assert len(ids) == len(set(ids)), "duplicate across pages"
    assert len(ids) == expected_total, "gap: walked %d of %d" % (len(ids), expected_total)
    stamps = [event["timestamp"] for event in collected]
    assert stamps == sorted(stamps, reverse=True)
    # Newer events exist now but were not mixed into the walk.
    assert wait_until(lambda: busy.get("/api/events").json()["matching"] > expected_total, timeout=5)


def test_cursor_from_another_sort_is_refused(busy):
    page = busy.get("/api/events", params={"limit": 5, "sort_by": "title"}).json()
    assert page["next"]
    response = busy.get("/api/events", params={"limit": 5, "sort_by": "rating", "cursor": page["next"]})
    assert response.status_code == 400 and response.json()["parameter"] == "cursor"
    response = busy.get("/api/events", params={"cursor": "not-a-cursor"})
    assert response.status_code == 400 and response.json()["parameter"] == "cursor"


def test_published_event_is_visible_on_rest_and_stream_within_one_second(busy):
    body = new_listen()
    stream = SSEClient(busy.url("/stream?user_id=" + body["user_id"]))
    try:
        start = time.monotonic()
        response = requests.post(busy.url("/api/events"), json=body, timeout=10)
        assert response.status_code == 202, response.text
        receipt = response.json()
        assert set(receipt) == {"event_id", "partition", "offset"}
        assert receipt["partition"] in (0, 1, 2) and receipt["offset"] >= 0
        arrived = stream.events(1, timeout=5)
        stream_latency = time.monotonic() - start
        found = wait_until(lambda: busy.get("/api/events", params={"user_id": body["user_id"]}).json()["events"], timeout=5)
        rest_latency = time.monotonic() - start
    finally:
        stream.close()
    assert arrived and json.loads(arrived[0][1])["event_id"] == receipt["event_id"]
    assert found[0]["event_id"] == receipt["event_id"]
    assert found[0]["title"] == body["title"] and found[0]["completed"] is True
    assert stream_latency < 1.0, "stream saw the event after %.3f s" % stream_latency
    assert rest_latency < 1.0, "REST saw the event after %.3f s" % rest_latency


def test_resume_with_last_event_id_is_gap_free_and_duplicate_free(busy):
    first = SSEClient(busy.url("/stream"))
    try:
        before = first.events(20, timeout=10)
    finally:
        first.close()  # disconnect mid-stream
    time.sleep(0.5)  # events keep flowing meanwhile (~25 at 50/s)
    last_id = before[-1][0]
    second = SSEClient(busy.url("/stream"), headers={"Last-Event-ID": str(last_id)})
    try:
        after = second.events(60, timeout=10)
    finally:
        second.close()
    ids = [event_id for event_id, _ in before + after]
    # With no filter every window sequence number is an event: exactly consecutive means no gap
    # and no duplicate, in order.
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert len({json.loads(data)["event_id"] for _, data in before + after}) == len(ids)


def test_resume_from_an_id_no_longer_held_sends_reset(busy):
    client = SSEClient(busy.url("/stream?last_event_id=999999999"))
    try:
        deadline = time.monotonic() + 5
        names = []
        for fields, _ in client.frames(deadline):
            names += fields.get("event", [])
            if names:
                break
    finally:
        client.close()
    assert names[:1] == ["reset"]


def test_stats_frames_once_a_second(busy):
    client = SSEClient(busy.url("/stream?stats=true&genre=Pop"))
    stats = []
    try:
        deadline = time.monotonic() + 4
        for fields, _ in client.frames(deadline):
            if fields.get("event") == ["stats"]:
                stats.append(json.loads(fields["data"][0]))
                if len(stats) == 2:
                    break
    finally:
        client.close()
    assert len(stats) == 2
    assert stats[1]["consumed"] >= stats[0]["consumed"] > 0
    assert stats[1]["events_per_second"] > 0
    pop = busy.get("/api/events", params={"genre": "Pop", "limit": 1}).json()["matching"]
    assert 0 < stats[1]["matching"] <= busy.get("/api/status").json()["window"]["size"]
    assert abs(stats[1]["matching"] - pop) <= 200


def test_timeline_buckets_add_up(busy):
    body = busy.get("/api/timeline", params={"bucket": "1s"}).json()
    assert body["bucket_ms"] == 1000
    points = body["points"]
    assert points and all(b["t"] - a["t"] == 1000 for a, b in zip(points, points[1:]))
    assert all(0 <= point["skipped"] <= point["count"] for point in points)
    minute = busy.get("/api/timeline", params={"bucket": "1m", "genre": "Rock"}).json()
    assert minute["bucket_ms"] == 60000
    assert all(point["t"] % 60000 == 0 for point in minute["points"])
    bad = busy.get("/api/timeline", params={"bucket": "5s"})
    assert bad.status_code == 400 and bad.json()["parameter"] == "bucket"


def test_metrics_are_prometheus_text_and_move(busy):
    def scrape():
        response = busy.get("/metrics")
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        values = {}
        for line in response.text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return response.text, values
    text, before = scrape()
    for family in ["musicstream_events_consumed_total", "musicstream_events_rejected_total",
                   "musicstream_sse_clients", "musicstream_sse_messages_sent_total",
                   "musicstream_sse_clients_dropped_total", "musicstream_http_requests_total",
                   "musicstream_http_request_duration_seconds", "musicstream_kafka_consumer_lag",
                   "musicstream_producer_delivery_failures_total"]:
        assert "# TYPE %s " % family in text, family
    busy.get("/api/facets")
    assert wait_until(lambda: scrape()[1]["musicstream_events_consumed_total"] > before["musicstream_events_consumed_total"],
                      timeout=5)
    _, after = scrape()
    key = 'musicstream_http_requests_total{route="/api/facets",method="GET",status="200"}'
    assert after[key] >= before.get(key, 0) + 1
    assert 'musicstream_kafka_consumer_lag{topic="music-streams",partition="0"}' in after


def test_cors_when_configured(busy):
    response = busy.get("/api/status")
    assert response.headers["Access-Control-Allow-Origin"] == "https://dash.example"
    preflight = requests.options(busy.url("/api/events"), timeout=10, headers={
        "Origin": "https://dash.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_publishing_answers_503_when_kafka_does_not_acknowledge(start_server):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    server = start_server("--brokers", "127.0.0.1:%d" % dead)
    start = time.monotonic()
    response = requests.post(server.url("/api/events"), json=new_listen(), timeout=30)
    elapsed = time.monotonic() - start
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Retry-After"]
    assert 4.0 <= elapsed <= 8.0, elapsed
    assert server.get("/healthz").status_code == 200
    # Alive but not ready: the cluster does not answer.
    ready = server.get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["Content-Type"] == "application/problem+json"
    assert server.get("/api/status").json()["kafka"]["reachable"] is False
    # The failed delivery is counted and logged.
    assert wait_until(lambda: any("delivery failed" in line for line in server.stderr_lines), timeout=5)
    metrics = server.get("/metrics").text
    assert "musicstream_producer_delivery_failures_total 1" in metrics


def test_ready_when_consuming_from_a_reachable_cluster(busy):
    assert wait_until(lambda: busy.get("/readyz").status_code == 200, timeout=10)
    assert busy.get("/readyz").json() == {"status": "ready"}
    assert busy.get("/api/status").json()["kafka"]["reachable"] is True
