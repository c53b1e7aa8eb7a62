"""Issue-3 behaviour against live servers: cursors while events arrive, publishing latency and
failure, gap-free SSE resume, stats frames, timeline, metrics, CORS."""
import json
import socket
import time
import uuid

import pytest
import requests

from conftest import wait_until, metric_value
from sse import SSEClient, event_ids, kafka_positions, offset_gaps


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


def window_order(server, limit=1000):
    """The window's event_ids oldest first: the order an unfiltered stream sends them in."""
    return [e["event_id"] for e in reversed(server.get("/api/events", params={"limit": limit}).json()["events"])]


def test_resume_with_last_event_id_is_gap_free_and_duplicate_free(busy):
    first = SSEClient(busy.url("/stream"))
    try:
        # Up to a write's end: its last event carries the id (a client that drops in the middle
        # of a write resumes from the id before, and gets that write's first events again).
        before = [("", json.dumps(e)) for e in read_until_positioned(first, 20)]
    finally:
        first.close()  # disconnect mid-stream
    time.sleep(0.5)  # events keep flowing meanwhile (~25 at 50/s)
    last_id = first.last_id
    assert last_id and last_id.startswith("p"), last_id
    second = SSEClient(busy.url("/stream"), headers={"Last-Event-ID": last_id})
    try:
        after = second.events(60, timeout=10)
    finally:
        second.close()
    received = event_ids(before + after)
    # Every record of the topic is a listen here: each partition's offsets in one unbroken,
    # increasing run means no gap and no duplicate across the reconnect.
    assert len(received) >= 80 and len(set(received)) == len(received)
    assert offset_gaps(kafka_positions(busy, received)) == []


def read_until_positioned(client, count, timeout=20.0):
    """Listens until at least `count` arrived and the write that brought the last carried its id
    (the stream's position then covers every listen returned)."""
    got = []
    for fields, _ in client.frames(time.monotonic() + timeout):
        if fields.get("event") == ["listen"]:
            got.append(json.loads(fields["data"][0]))
        if len(got) >= count and "id" in fields:
            break
    return got


def offsets_of(stream_id):
    return [int(field, 36) for field in stream_id.split(".")[1:]]


def test_resume_with_a_filter_sends_exactly_what_matches_between_the_positions(busy):
    stream = SSEClient(busy.url("/stream?genre=Pop"))
    try:
        read_until_positioned(stream, 2)
    finally:
        stream.close()
    start = stream.last_id
    time.sleep(1.0)
    second = SSEClient(busy.url("/stream?genre=Pop&last_event_id=" + start))
    try:
        after = read_until_positioned(second, 5)
    finally:
        second.close()
    end = second.last_id
    received = [e["event_id"] for e in after]
    assert all(e["genre"] == "Pop" for e in after)
    assert len(set(received)) == len(received) >= 5
    # Exactly the window's Pop listens read after the first position and up to the second.
    low, high = offsets_of(start), offsets_of(end)
    pops = [e["event_id"] for e in busy.get("/api/events", params={"limit": 1000, "genre": "Pop"}).json()["events"]]
    expected = {e for e, (p, o) in zip(pops, kafka_positions(busy, pops)) if low[p] < o <= high[p]}
    assert set(received) == expected


def test_an_old_numeric_id_is_told_to_reset(busy):
    client = SSEClient(busy.url("/stream"), headers={"Last-Event-ID": "1764000000000123"})
    try:
        first = client.first_event_name(timeout=5)
    finally:
        client.close()
    assert first == "reset"


def test_resume_from_an_id_no_longer_held_sends_reset(busy):
    # A position in another log (another cluster, topic, or embedded broker run) means other
    # records: never resumed here.
    client = SSEClient(busy.url("/stream?last_event_id=p1.0.0.0"))
    try:
        first = client.first_event_name(timeout=5)
    finally:
        client.close()
    assert first == "reset"


def test_resume_from_a_position_the_window_no_longer_holds_sends_reset(start_server):
    server = start_server("--rate", "100", "--window", "50", "--backfill", "0")
    probe = SSEClient(server.url("/stream"))
    try:
        read_until_positioned(probe, 1)
    finally:
        probe.close()
    tag = probe.last_id.split(".")[0]
    assert wait_until(lambda: server.get("/api/status").json()["consumed"] > 200, timeout=20)
    # The same log, but from its first records: long evicted from a window of 50.
    client = SSEClient(server.url("/stream?last_event_id=%s.-1.-1.-1" % tag))
    try:
        first = client.first_event_name(timeout=5)
    finally:
        client.close()
    assert first == "reset"
    assert metric_value(server, "musicstream_sse_resets_total") >= 1


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
