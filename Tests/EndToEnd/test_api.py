"""The REST API over a fixed window: 300 simulated events (seeded), no live traffic, so every
count can be checked exactly against a recount done here."""
import json
import subprocess
import uuid

import pytest

from conftest import wait_until

WINDOW = 300


@pytest.fixture(scope="module")
def fixed(start_server):
    server = start_server("--rate", "0", "--backfill", str(WINDOW), "--seed", "42")
    assert wait_until(lambda: server.get("/api/status").json()["window"]["size"] == WINDOW, timeout=20)
    return server


@pytest.fixture(scope="module")
def everything(fixed):
    body = fixed.get("/api/events?limit=1000").json()
    assert body["count"] == body["matching"] == body["window"] == WINDOW
    return body["events"]


def test_limit_defaults_to_50(fixed):
    body = fixed.get("/api/events").json()
    assert body["count"] == 50 and len(body["events"]) == 50
    assert body["matching"] == WINDOW


def test_seed_makes_the_window_reproducible(fixed, everything, start_server):
    twin = start_server("--rate", "0", "--backfill", str(WINDOW), "--seed", "42")
    assert wait_until(lambda: twin.get("/api/status").json()["window"]["size"] == WINDOW, timeout=20)
    twin_ids = {event["event_id"] for event in twin.get("/api/events?limit=1000").json()["events"]}
    assert twin_ids == {event["event_id"] for event in everything}


@pytest.mark.parametrize("query, predicate", [
    ("genre={genre}", lambda e, s: e["genre"].lower() == s["genre"].lower()),
    ("genre={genre_upper}", lambda e, s: e["genre"].lower() == s["genre"].lower()),
    ("platform=spotify", lambda e, s: e["platform"] == "Spotify"),
    ("mood={mood}", lambda e, s: e["mood"] == s["mood"]),
    ("artist={artist_part}", lambda e, s: s["artist_part"].lower() in e["artist"].lower()),
    ("country={country_part}", lambda e, s: s["country_part"].lower() in e["country"].lower()),
    ("rating=4", lambda e, s: e["rating"] >= 4),
    ("rating=0", lambda e, s: True),
    ("skipped=yes", lambda e, s: e["skipped"]),
    ("skipped=false", lambda e, s: not e["skipped"]),
    ("completed=true", lambda e, s: e["completed"]),
    ("completed=no", lambda e, s: not e["completed"]),
    ("genre={genre}&rating=3&completed=true", lambda e, s: e["genre"] == s["genre"] and e["rating"] >= 3 and e["completed"]),
    ("genre=&artist=", lambda e, s: True),
])
def test_filters_match_a_recount(fixed, everything, query, predicate):
    sample = everything[0]
    values = {
        "genre": sample["genre"], "genre_upper": sample["genre"].upper(), "mood": sample["mood"],
        "artist_part": sample["artist"][1:4], "country_part": sample["country"][:3].lower(),
    }
    url_query = query.format(**{k: v.replace("&", "%26").replace(" ", "+") for k, v in values.items()})
    expected = [e for e in everything if predicate(e, values)]
    body = fixed.get("/api/events?limit=1000&" + url_query).json()
    assert body["matching"] == len(expected)
    assert [e["event_id"] for e in body["events"]] == [e["event_id"] for e in expected]
    assert fixed.get("/api/events?limit=3&" + url_query).json()["count"] == min(3, len(expected))


def test_facets_unfiltered_match_a_recount(fixed, everything):
    body = fixed.get("/api/facets").json()
    assert body["total"] == body["matching"] == WINDOW
    facets = body["facets"]
    assert set(facets) == {"genre", "platform", "mood", "country", "artist", "rating", "skipped", "completed"}
    for facet, key, render in [
        ("genre", "genre", str), ("platform", "platform", str), ("mood", "mood", str),
        ("country", "country", str), ("artist", "artist", str), ("rating", "rating", str),
        ("skipped", "skipped", lambda v: "true" if v else "false"),
        ("completed", "completed", lambda v: "true" if v else "false"),
    ]:
        expected = {}
        for event in everything:
            value = render(event[key])
            expected[value] = expected.get(value, 0) + 1
        got = {entry["value"]: entry["count"] for entry in facets[facet]}
        assert got == expected, facet
        counts = [entry["count"] for entry in facets[facet]]
        assert counts == sorted(counts, reverse=True), facet


def test_facets_under_a_filter(fixed, everything):
    platform = "Spotify"
    body = fixed.get("/api/facets?platform=" + platform).json()
    matching = [e for e in everything if e["platform"] == platform]
    assert body["total"] == WINDOW
    assert body["matching"] == len(matching)
    # A facet ignores its own filter, so the form can still offer the other platforms...
    all_platforms = {}
    for event in everything:
        all_platforms[event["platform"]] = all_platforms.get(event["platform"], 0) + 1
    assert {e["value"]: e["count"] for e in body["facets"]["platform"]} == all_platforms
    # ...while every other facet is narrowed to the matching events.
    assert sum(entry["count"] for entry in body["facets"]["genre"]) == len(matching)


def test_facets_exclude_only_their_own_filter(fixed, everything):
    genre = everything[0]["genre"]
    body = fixed.get("/api/facets", params={"genre": genre, "rating": "3"}).json()
    rated = [e for e in everything if e["rating"] >= 3]
    expected_genres = {}
    for event in rated:
        expected_genres[event["genre"]] = expected_genres.get(event["genre"], 0) + 1
    assert {e["value"]: e["count"] for e in body["facets"]["genre"]} == expected_genres
    in_genre = [e for e in everything if e["genre"] == genre]
    expected_ratings = {}
    for event in in_genre:
        expected_ratings[str(event["rating"])] = expected_ratings.get(str(event["rating"]), 0) + 1
    assert {e["value"]: e["count"] for e in body["facets"]["rating"]} == expected_ratings
    assert body["matching"] == len([e for e in rated if e["genre"] == genre])


@pytest.mark.parametrize("path, parameter", [
    ("/api/events?rating=6", "rating"),
    ("/api/events?rating=-1", "rating"),
    ("/api/events?rating=high", "rating"),
    ("/api/events?skipped=maybe", "skipped"),
    ("/api/events?completed=2", "completed"),
    ("/api/events?limit=0", "limit"),
    ("/api/events?limit=1001", "limit"),
    ("/api/events?limit=ten", "limit"),
    ("/api/events?limit=5&limit=6", "limit"),
    ("/api/events?artist=a&artist=b", "artist"),
    ("/api/events?colour=blue", "colour"),
    ("/api/facets?limit=5", "limit"),
    ("/api/facets?rating=9", "rating"),
    ("/stream?skipped=perhaps", "skipped"),
    ("/api/events?artist=" + "x" * 300, "artist"),
])
def test_bad_parameters_get_problem_details(fixed, path, parameter):
    response = fixed.get(path)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400
    assert problem["parameter"] == parameter
    assert problem["title"] and problem["detail"]
    assert parameter in problem["detail"]


@pytest.mark.parametrize("raw_query", ["artist=%zz", "artist=%", "country=%C3%28"])
def test_malformed_query_string_gets_problem_details(fixed, raw_query):
    # http.client sends the target as written; requests would re-quote the bad escape.
    import http.client
    from urllib.parse import urlsplit
    parts = urlsplit(fixed.base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", "/api/events?" + raw_query)
        response = connection.getresponse()
        body = json.loads(response.read())
        assert response.status == 400
        assert response.getheader("Content-Type") == "application/problem+json"
        assert body["status"] == 400 and body["detail"]
    finally:
        connection.close()


def test_unknown_route_and_method(fixed):
    assert fixed.get("/api/nothing").status_code == 404
    import requests
    response = requests.post(fixed.url("/api/facets"), data=b"{}", timeout=10)
    assert response.status_code == 405


def test_healthz(fixed):
    response = fixed.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


SORT_KEYS = {
    "timestamp": lambda e: e["timestamp"], "username": lambda e: e["username"].lower(),
    "title": lambda e: e["title"].lower(), "artist": lambda e: e["artist"].lower(),
    "genre": lambda e: e["genre"].lower(), "platform": lambda e: e["platform"].lower(),
    "city": lambda e: e["city"].lower(), "country": lambda e: e["country"].lower(),
    "mood": lambda e: e["mood"].lower(), "duration": lambda e: e["duration"],
    "listen_position": lambda e: e["listen_position"],
    "percent_listened": lambda e: e["listen_position"] / e["duration"], "rating": lambda e: e["rating"],
}


@pytest.mark.parametrize("field", sorted(SORT_KEYS))
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sorting_every_field_pages_through_everything(fixed, everything, field, order):
    key = SORT_KEYS[field]
    collected, cursor = [], None
    for _ in range(20):
        params = {"sort_by": field, "sort_order": order, "limit": 40}
        if cursor:
            params["cursor"] = cursor
        page = fixed.get("/api/events", params=params).json()
        collected += page["events"]
        cursor = page["next"]
        if not cursor:
            break
    assert sorted(e["event_id"] for e in collected) == sorted(e["event_id"] for e in everything)
    keys = [key(e) for e in collected]
    assert keys == sorted(keys, reverse=(order == "desc"))


def test_new_filters_match_a_recount(fixed, everything):
    sample = everything[5]
    cases = [
        ({"q": sample["title"][:4].upper()}, lambda e: any(sample["title"][:4].lower() in e[f].lower() for f in ("title", "artist", "username"))),
        ({"user_id": sample["user_id"]}, lambda e: e["user_id"] == sample["user_id"]),
        ({"genre": [everything[0]["genre"], everything[1]["genre"]]}, lambda e: e["genre"] in (everything[0]["genre"], everything[1]["genre"])),
        ({"platform": ["Spotify", "soundcloud"]}, lambda e: e["platform"] in ("Spotify", "SoundCloud")),
        ({"since": sample["timestamp"]}, lambda e: e["timestamp"] >= sample["timestamp"]),
        ({"until": sample["timestamp"]}, lambda e: e["timestamp"] < sample["timestamp"]),
    ]
    for params, predicate in cases:
        expected = sorted(e["event_id"] for e in everything if predicate(e))
        body = fixed.get("/api/events", params=dict(params, limit=1000)).json()
        assert body["matching"] == len(expected), params
        assert sorted(e["event_id"] for e in body["events"]) == expected, params


def test_track_id_is_an_exact_filter_on_every_read_endpoint(fixed, everything):
    counts = {}
    for event in everything:
        counts[event["track_id"]] = counts.get(event["track_id"], 0) + 1
    track = max(counts, key=counts.get)  # a track listened to more than once, if any
    expected = [e["event_id"] for e in everything if e["track_id"] == track]
    body = fixed.get("/api/events", params={"track_id": track, "limit": 1000}).json()
    assert [e["event_id"] for e in body["events"]] == expected and body["matching"] == len(expected)
    assert fixed.get("/api/facets", params={"track_id": track}).json()["matching"] == len(expected)
    points = fixed.get("/api/timeline", params={"track_id": track}).json()["points"]
    assert sum(point["count"] for point in points) == len(expected)
    # Exact and case-sensitive, like user_id: neither a prefix nor another case matches.
    for near in (track[:-1], track.upper() if track != track.upper() else track.lower()):
        assert fixed.get("/api/events", params={"track_id": near}).json()["matching"] == 0
    both = fixed.get("/api/events", params={"track_id": track, "user_id": everything[0]["user_id"], "limit": 1000}).json()
    assert both["matching"] == len([e for e in everything if e["track_id"] == track and e["user_id"] == everything[0]["user_id"]])
    assert fixed.get("/api/events?track_id=a&track_id=b").json()["parameter"] == "track_id"


def kafka_record(bootstrap, partition, offset):
    """The value of one record, read with kcat: what the server says is there must be there."""
    result = subprocess.run(
        ["kcat", "-C", "-b", bootstrap, "-t", "music-streams", "-p", str(partition), "-o", str(offset), "-c", "1",
         "-e", "-q", "-f", "%s\\n"],
        capture_output=True, timeout=30, check=True)
    return json.loads(result.stdout.decode().strip())


def test_one_event_by_id_names_where_kafka_holds_it(fixed, everything):
    partitions = fixed.get("/api/status").json()["kafka"]["partitions"]
    positions = set()
    sequences = []
    for event in everything:
        response = fixed.get("/api/events/" + event["event_id"])
        assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
        body = response.json()
        assert list(body) == ["event", "sequence", "kafka"]
        assert body["event"] == event
        kafka = body["kafka"]
        assert kafka["topic"] == "music-streams" and 0 <= kafka["partition"] < partitions and kafka["offset"] >= 0
        positions.add((kafka["partition"], kafka["offset"]))
        sequences.append(body["sequence"])
    assert len(positions) == WINDOW, "two events at one partition and offset"
    assert len(set(sequences)) == WINDOW
    # The record at that partition and offset really is the event (checked for a few).
    for event in everything[::60]:
        kafka = fixed.get("/api/events/" + event["event_id"]).json()["kafka"]
        record = kafka_record(fixed.bootstrap, kafka["partition"], kafka["offset"])
        assert record["event_id"] == event["event_id"] and record["title"] == event["title"]


def test_one_event_answers_in_either_case_and_to_head(fixed, everything):
    event = everything[7]
    upper = fixed.get("/api/events/" + event["event_id"].upper())
    assert upper.status_code == 200 and upper.json()["event"] == event
    import requests
    head = requests.head(fixed.url("/api/events/" + event["event_id"]), timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["Content-Length"]) == len(fixed.get("/api/events/" + event["event_id"]).content)


def test_an_event_the_window_does_not_hold_is_a_404_problem(fixed):
    response = fixed.get("/api/events/" + str(uuid.uuid4()))
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 404 and "window" in problem["detail"]


@pytest.mark.parametrize("bad_id", [
    "nope", "12345", "3f2b8c1e-6d4a-4f7b-9a51-0c8e2d7b6a1", "3f2b8c1e-6d4a-4f7b-9a51-0c8e2d7b6a13x",
    "3f2b8c1e_6d4a_4f7b_9a51_0c8e2d7b6a13", "zf2b8c1e-6d4a-4f7b-9a51-0c8e2d7b6a13", "%E2%98%83",
])
def test_an_id_that_is_not_a_uuid_is_a_400_problem(fixed, bad_id):
    response = fixed.get("/api/events/" + bad_id)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["parameter"] == "event_id"


def test_one_event_takes_no_query_parameters_and_no_deeper_path(fixed, everything):
    path = "/api/events/" + everything[0]["event_id"]
    assert fixed.get(path + "?limit=1").json()["parameter"] == "limit"
    assert fixed.get(path + "/more").status_code == 404
    assert fixed.get("/api/events/").status_code == 404
