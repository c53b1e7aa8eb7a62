"""The REST API over a fixed window: 300 simulated events (seeded), no live traffic, so every
count can be checked exactly against a recount done here."""
import json
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
