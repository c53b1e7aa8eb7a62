"""/api/events, /api/facets and /api/timeline over ranges older than the window (issue 13, point 2):
a range reaching before the window is answered from the history store with the same filters and
the same shapes, `"source": "history"`, and exactly the listens produced (every page walked,
facets and timelines computed here from the produced listens); a range inside the window is still
the window's; bad cursors, sorts and buckets are 400 problems naming the parameter."""
import random
import time
import uuid

import pytest

from conftest import RunningServer, wait_until
from test_history import make_events, produce, wait_stored

HOUR = 3_600_000
FACETS = ["genre", "platform", "mood", "country", "artist", "rating", "skipped", "completed"]
MOODS = ["Calm", "CALM", "calm", "Café", "CAFÉ", "Energetic"]
COUNTRIES = ["Japan", "Österreich", "österreich", "Canada"]


@pytest.fixture(scope="module")
def ranged(tmp_path_factory):
    """A server with a window of 100 and 1,200 listens produced over 50 hours up to two hours ago, oldest
    first, with moods and countries in mixed and non-ASCII case; then 150 listens of one user
    (one partition, so they arrive in time order) over the last 20 minutes, so the window holds
    the newest 100 of those and a range within them is wholly the window's."""
    data = tmp_path_factory.mktemp("data")
    server = RunningServer(["--no-simulate", "--window", "100", "--data-dir", str(data)],
                           cwd=str(tmp_path_factory.mktemp("cwd")))
    rng = random.Random(21)
    users = [str(uuid.uuid4()) for _ in range(8)]
    now = int(time.time() * 1000)
    events = make_events(users, 1200, now - 52 * HOUR, 450_000, rng)   # up to two hours ago
    tail = make_events(users[:1], 150, now - 20 * 60_000, 20_000, rng)
    for event in events + tail:
        event["mood"] = rng.choice(MOODS)
        event["country"] = rng.choice(COUNTRIES)
        if rng.random() < 0.2:
            event["genre"] = event["genre"].upper()
    produce(server.bootstrap, events)
    wait_stored(server, len(events))
    settle(server)
    produce(server.bootstrap, tail)
    events += tail
    wait_stored(server, len(events))
    settle(server)
    assert wait_until(lambda: server.get("/api/status").json()["window"]["size"] == 100, timeout=30)
    yield server, events
    assert server.stop() == 0


def settle(server):
    """Waits until the window's consumer has read what it will read (it may start late and
    refill only the last records of each partition, so `consumed` is no total to wait for)."""
    seen = []

    def still():
        seen.append(server.get("/api/status").json()["consumed"])
        return len(seen) > 15 and seen[-1] == seen[-15] and seen[-1] >= 100
    assert wait_until(still, timeout=60, interval=0.1)


# The filter semantics, as EventFilter states them (the listens here are ASCII or precomposed,
# where Python's lower() and Swift's lowercased() agree).

def passes(event, params, skip=None):
    """Whether `event` passes every criterion in `params` except facet `skip`'s."""
    def listed(name):
        value = params.get(name)
        return [] if value is None else (value if isinstance(value, list) else [value])
    if "since" in params and event["timestamp"] < int(params["since"]):
        return False
    if "until" in params and event["timestamp"] >= int(params["until"]):
        return False
    if "user_id" in params and event["user_id"] != params["user_id"]:
        return False
    for facet in ("genre", "platform", "mood"):
        values = listed(facet)
        if facet != skip and values and event[facet].lower() not in [v.lower() for v in values]:
            return False
    values = listed("country")
    if skip != "country" and values and not any(v.lower() in event["country"].lower() for v in values):
        return False
    if skip != "artist" and "artist" in params and params["artist"].lower() not in event["artist"].lower():
        return False
    if "q" in params and not any(params["q"].lower() in event[f].lower() for f in ("title", "artist", "username")):
        return False
    if skip != "rating" and "rating" in params and event["rating"] < int(params["rating"]):
        return False
    if skip != "skipped" and "skipped" in params and event["skipped"] != (params["skipped"] == "true"):
        return False
    if skip != "completed" and "completed" in params and event["completed"] != (params["completed"] == "true"):
        return False
    return True


def expected_facets(events, params):
    facets = {}
    for facet in FACETS:
        counts = {}
        for event in events:
            if passes(event, params, skip=facet):
                value = event[facet]
                value = ("true" if value else "false") if isinstance(value, bool) else str(value)
                counts[value] = counts.get(value, 0) + 1
        facets[facet] = counts
    return facets


def expected_timeline(events, params, size):
    counts = {}
    for event in events:
        if passes(event, params):
            t = event["timestamp"] // size * size
            count, skipped = counts.get(t, (0, 0))
            counts[t] = (count + 1, skipped + (1 if event["skipped"] else 0))
    if not counts:
        return []
    return [{"t": t, "count": counts.get(t, (0, 0))[0], "skipped": counts.get(t, (0, 0))[1]}
            for t in range(min(counts), max(counts) + size, size)]


def walk(server, params, limit):
    """Every page of /api/events; asserts each came from the history."""
    events, cursor, pages = [], None, 0
    while True:
        query = dict(params, limit=limit)
        if cursor:
            query["cursor"] = cursor
        response = server.get("/api/events", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["source"] == "history", body
        assert body["count"] == len(body["events"]) and body["window"] == 100
        assert body["matching"] == sum(1 for _ in filter(lambda e: passes(e, params), ALL[0]))
        events += body["events"]
        cursor = body["next"]
        pages += 1
        assert pages < 500, "the cursor walk does not end"
        if cursor is None:
            return events


ALL = [None]


def problem(response, status, parameter):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body.get("parameter") == parameter, body
    return body


FILTERS = [
    {},
    {"genre": "pop"},
    {"genre": ["ROCK", "jazz"], "rating": "3"},
    {"mood": "café", "skipped": "true"},
    {"country": "ÖSTER", "completed": "false"},
    {"artist": "björk"},
    {"q": "song 1", "platform": "spotify"},
]


@pytest.mark.parametrize("params", FILTERS, ids=str)
def test_a_range_before_the_window_walks_every_matching_listen_from_the_history(ranged, params):
    server, events = ranged
    ALL[0] = events
    since = min(e["timestamp"] for e in events) + 3 * HOUR
    query = dict(params, since=str(since))
    expected = sorted((e for e in events if passes(e, query)), key=lambda e: (e["timestamp"], e["event_id"]))
    newest = walk(server, query, limit=37)
    assert newest == expected[::-1]   # every field, in order, none skipped or repeated
    oldest = walk(server, dict(query, sort_order="asc"), limit=100)
    assert oldest == expected


def test_until_alone_before_the_window_is_the_historys(ranged):
    server, events = ranged
    ALL[0] = events
    until = min(e["timestamp"] for e in events) + 2 * HOUR
    served = walk(server, {"until": str(until)}, limit=50)
    expected = sorted((e for e in events if e["timestamp"] < until), key=lambda e: (e["timestamp"], e["event_id"]))
    assert served == expected[::-1]


@pytest.mark.parametrize("params", FILTERS, ids=str)
def test_facets_over_the_history_count_what_was_produced(ranged, params):
    server, events = ranged
    since = min(e["timestamp"] for e in events) + 5 * HOUR
    query = dict(params, since=str(since))
    response = server.get("/api/facets", params=query)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "history"
    assert body["total"] == sum(1 for e in events if e["timestamp"] >= since)
    assert body["matching"] == sum(1 for e in events if passes(e, query))
    served = {facet: {entry["value"]: entry["count"] for entry in entries} for facet, entries in body["facets"].items()}
    assert served == expected_facets(events, query)
    for entries in body["facets"].values():
        ranks = [(-entry["count"], entry["value"]) for entry in entries]
        assert ranks == sorted(ranks)


@pytest.mark.parametrize("bucket, size", [("1m", 60_000), ("1h", HOUR), ("1d", 24 * HOUR)])
@pytest.mark.parametrize("params", FILTERS[:4], ids=str)
def test_timelines_over_the_history_count_what_was_produced(ranged, bucket, size, params):
    server, events = ranged
    since = min(e["timestamp"] for e in events) + HOUR
    query = dict(params, since=str(since), bucket=bucket)
    response = server.get("/api/timeline", params=query)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "history" and body["bucket_ms"] == size
    assert body["points"] == expected_timeline(events, query, size)


def test_a_range_inside_the_window_is_still_the_windows(ranged):
    server, events = ranged
    window = server.get("/api/events", params={"limit": 1000}).json()
    assert window["source"] == "window" and window["count"] == 100
    since = events[-90]["timestamp"]   # the tail's 61st: its first 50 were evicted
    inside = server.get("/api/events", params={"since": since, "limit": 1000}).json()
    assert inside["source"] == "window"
    assert inside["events"] == [e for e in window["events"] if e["timestamp"] >= since]
    assert server.get("/api/facets", params={"since": since}).json()["source"] == "window"
    timeline = server.get("/api/timeline", params={"since": since, "bucket": "1h"}).json()
    assert timeline["source"] == "window" and timeline["bucket_ms"] == HOUR
    assert server.get("/api/facets").json()["source"] == "window"
    assert server.get("/api/timeline").json()["source"] == "window"


def test_cursors_of_one_side_are_refused_by_the_other(ranged):
    server, events = ranged
    since = min(e["timestamp"] for e in events)
    history_next = server.get("/api/events", params={"since": since, "limit": 5}).json()["next"]
    window_next = server.get("/api/events", params={"limit": 5}).json()["next"]
    assert history_next and window_next
    body = problem(server.get("/api/events", params={"since": since, "cursor": window_next}), 400, "cursor")
    assert "window" in body["detail"]
    body = problem(server.get("/api/events", params={"cursor": history_next}), 400, "cursor")
    assert "history" in body["detail"]
    # Bound to its filter and order, like the window's.
    problem(server.get("/api/events", params={"since": since, "genre": "pop", "cursor": history_next}), 400, "cursor")
    problem(server.get("/api/events", params={"since": since, "sort_order": "asc", "cursor": history_next}), 400, "cursor")
    problem(server.get("/api/events", params={"since": since, "cursor": "bm90LWEtY3Vyc29y"}), 400, "cursor")


def test_other_sorts_and_oversized_timelines_over_the_history_are_400(ranged):
    server, events = ranged
    since = min(e["timestamp"] for e in events)
    body = problem(server.get("/api/events", params={"since": since, "sort_by": "title"}), 400, "sort_by")
    assert "history" in body["detail"]
    # 50 hours of one-second buckets is far more than 3600.
    body = problem(server.get("/api/timeline", params={"since": since, "bucket": "1s"}), 400, "bucket")
    assert "3600" in body["detail"]
    problem(server.get("/api/timeline", params={"since": since, "bucket": "2h"}), 400, "bucket")
    problem(server.get("/api/timeline", params={"bucket": "1w"}), 400, "bucket")


def test_identical_history_requests_at_once_all_get_the_answer(ranged):
    """Identical requests in flight share one store query; each still gets the whole answer."""
    from concurrent.futures import ThreadPoolExecutor
    server, events = ranged
    since = min(e["timestamp"] for e in events) + 7 * HOUR
    query = {"since": since, "genre": "rock", "bucket": "1h"}
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda _: server.get("/api/timeline", params=query), range(24)))
    assert {a.status_code for a in answers} == {200}
    bodies = [a.json() for a in answers]
    assert all(b == bodies[0] for b in bodies) and bodies[0]["source"] == "history"
    assert bodies[0]["points"] == expected_timeline(events, dict(query, since=str(since)), HOUR)
