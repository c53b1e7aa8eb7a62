"""The history store (issue 13) with its default backend, a real SQLite file in the server's data
directory: every listen kept beyond the window, a listener's history and summary, exports, what a
restart or retention does to it, and that a kill -9 in the middle of ingest neither loses nor
doubles a listen (against Tansu, an independent broker that outlives the server)."""
import csv
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import time
import uuid

import pytest
import requests

from conftest import BINARY, RunningServer, wait_until
from test_pipeline import CANONICAL_FIELDS
from test_tansu import Tansu

GENRES = ["Pop", "Rock", "Alt Pop", "Jazz", "EDM"]
ARTISTS = ["Joji", "Taylor Swift", "Avicii", "Miles Davis", "Björk", 'The "Quoted", Band']
PLATFORMS = ["Spotify", "Apple Music", "YouTube Music"]


def make_events(users, count, start_ms, step_ms, rng):
    """`count` canonical listens spread over `users`, timestamps from `start_ms` every `step_ms`
    (several share a timestamp: paging must still neither skip nor repeat)."""
    events = []
    for i in range(count):
        user = users[i % len(users)]
        duration = rng.randint(60, 400)
        position = rng.randint(0, duration)
        completed = position * 5 >= duration * 4
        events.append({
            "event_id": str(uuid.uuid4()), "user_id": user, "username": "name-" + user[:6],
            "email": user[:6] + "@example.com", "track_id": "t-%d" % rng.randint(1, 20),
            "title": "Song %d" % rng.randint(1, 20), "artist": rng.choice(ARTISTS), "genre": rng.choice(GENRES),
            "platform": rng.choice(PLATFORMS), "mood": "Calm", "city": "Osaka", "country": "Japan",
            "duration": duration, "listen_position": position, "completed": completed, "skipped": not completed,
            "rating": rng.randint(0, 5), "timestamp": start_ms + (i // 3) * step_ms,
        })
    return events


def produce(bootstrap, events):
    """Each listen keyed by its user, as the project's producers do."""
    lines = "".join(e["user_id"] + "\t" + json.dumps(e) + "\n" for e in events)
    subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", "music-streams", "-K", "\t", "-z", "none"],
                   input=lines.encode(), check=True, timeout=120)


def status(server):
    return server.get("/api/status").json()["history"]


def wait_stored(server, count, timeout=60):
    assert wait_until(lambda: status(server)["stored"] >= count, timeout=timeout), status(server)


def newest_first(events):
    return sorted(events, key=lambda e: (e["timestamp"], e["event_id"]), reverse=True)


def walk_listens(server, user, limit, **params):
    """Every page of a user's listens; returns the listens in the order served."""
    listens, cursor, pages = [], None, 0
    while True:
        query = dict(params, limit=limit)
        if cursor:
            query["cursor"] = cursor
        response = server.get("/api/users/%s/listens" % user, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["source"] == "history" and body["user_id"] == user
        listens += body["listens"]
        cursor = body["next"]
        pages += 1
        assert pages < 1000, "the cursor walk does not end"
        if cursor is None:
            return listens


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A server with a small window (100) and 900 listens of 6 users produced over the last
    two hours: most of them are only in the history."""
    data = tmp_path_factory.mktemp("data")
    server = RunningServer(["--no-simulate", "--window", "100", "--data-dir", str(data)],
                           cwd=str(tmp_path_factory.mktemp("cwd")))
    rng = random.Random(13)
    users = [str(uuid.uuid4()) for _ in range(6)]
    now = int(time.time() * 1000)
    events = make_events(users, 900, now - 2 * 3600 * 1000, 20_000, rng)
    produce(server.bootstrap, events)
    wait_stored(server, len(events))
    yield server, events, users, data
    assert server.stop() == 0


def test_every_listen_is_stored_once_beyond_the_window(stored):
    server, events, _, data = stored
    assert server.get("/api/status").json()["window"]["size"] == 100
    history = status(server)
    assert history["state"] == "running" and history["store"].startswith("sqlite:")
    assert history["stored"] == len(events) and history["duplicates_skipped"] == 0 and history["lag"] == 0
    with sqlite3.connect("file:%s?mode=ro" % os.path.join(data, "history.sqlite3"), uri=True) as db:
        count, distinct = db.execute("SELECT COUNT(*), COUNT(DISTINCT event_id) FROM listens").fetchone()
    assert count == distinct == len(events)


def test_a_listeners_history_walks_every_page_newest_first(stored):
    server, events, users, _ = stored
    for user in users[:3]:
        expected = newest_first([e for e in events if e["user_id"] == user])
        served = walk_listens(server, user, limit=7)
        assert served == expected   # every field, in order, none skipped or repeated
        assert all(list(e.keys()) == CANONICAL_FIELDS for e in served)


def test_a_listeners_history_over_a_range(stored):
    server, events, users, _ = stored
    user = users[1]
    mine = [e for e in events if e["user_id"] == user]
    times = sorted(e["timestamp"] for e in mine)
    since, until = times[len(times) // 4], times[3 * len(times) // 4]
    expected = newest_first([e for e in mine if since <= e["timestamp"] < until])
    assert walk_listens(server, user, limit=50, since=since, until=until) == expected


def test_a_listeners_summary(stored):
    server, events, users, _ = stored
    user = users[2]
    mine = [e for e in events if e["user_id"] == user]
    body = server.get("/api/users/%s" % user, params={"top": 3}).json()
    assert body["user_id"] == user and body["source"] == "history"
    assert body["listens"] == len(mine)
    assert body["first_seen"] == min(e["timestamp"] for e in mine)
    assert body["last_seen"] == max(e["timestamp"] for e in mine)
    assert body["skip_rate"] == pytest.approx(sum(e["skipped"] for e in mine) / len(mine))
    assert body["average_rating"] == pytest.approx(sum(e["rating"] for e in mine) / len(mine))
    counts = {}
    for e in mine:
        counts[e["artist"]] = counts.get(e["artist"], 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert [(t["value"], t["count"]) for t in body["top_artists"]] == top
    assert len(body["top_genres"]) == 3 and len(body["top_platforms"]) == 3
    # A range with nothing of this user: zeros, not a 404 (the user is known).
    empty = server.get("/api/users/%s" % user, params={"since": 1, "until": 2}).json()
    assert empty["listens"] == 0 and empty["first_seen"] is None and empty["skip_rate"] is None


def test_export_streams_every_matching_listen_as_csv_and_ndjson(stored):
    server, events, _, _ = stored
    response = server.get("/api/export", params={"format": "ndjson"}, stream=True)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-ndjson"
    assert response.headers.get("Transfer-Encoding") == "chunked"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="musicstream-listens-')
    lines = [json.loads(line) for line in response.iter_lines() if line]
    assert sorted(lines, key=lambda e: e["event_id"]) == sorted(events, key=lambda e: e["event_id"])
    assert [(e["timestamp"], e["event_id"]) for e in lines] == sorted((e["timestamp"], e["event_id"]) for e in lines)

    pop = [e for e in events if e["genre"] == "Pop"]
    response = server.get("/api/export", params={"genre": "pop"})   # same filters as /api/events
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert len(rows) == len(pop)
    by_id = {e["event_id"]: e for e in pop}
    for row in rows:
        event = by_id[row["event_id"]]
        assert row["artist"] == event["artist"]   # quotes and commas survive the round trip
        assert int(row["timestamp"]) == event["timestamp"] and row["skipped"] == str(event["skipped"]).lower()


def test_the_export_command_reads_the_store_itself(stored, tmp_path):
    _, events, _, data = stored
    target = tmp_path / "all.ndjson"
    done = subprocess.run([BINARY, "export", "--data-dir", str(data), "--format", "ndjson", "-o", str(target)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "%d listens" % len(events) in done.stderr
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert sorted(e["event_id"] for e in lines) == sorted(e["event_id"] for e in events)
    done = subprocess.run([BINARY, "export", "--data-dir", str(data), "--filter", "genre=Jazz&rating=3"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout, newline="")))
    assert sorted(r["event_id"] for r in rows) == sorted(
        e["event_id"] for e in events if e["genre"] == "Jazz" and e["rating"] >= 3)
    bad = subprocess.run([BINARY, "export", "--data-dir", str(data), "--filter", "rating=9"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "rating" in bad.stderr


@pytest.mark.parametrize("path, params, status_code, names", [
    ("/api/users/%s" % uuid.uuid4(), {}, 404, None),
    ("/api/users/%s/listens" % uuid.uuid4(), {}, 404, None),
    ("/api/users/bad%01id/listens", {}, 400, "user_id"),
    ("/api/users/u1/listens", {"since": 200, "until": 100}, 400, "until"),
    ("/api/users/u1/listens", {"since": "99999999999999"}, 400, "since"),
    ("/api/users/u1/listens", {"limit": 0}, 400, "limit"),
    ("/api/users/u1/listens", {"cursor": "not-a-cursor"}, 400, "cursor"),
    ("/api/users/u1/listens", {"genre": "Pop"}, 400, "genre"),
    ("/api/users/u1", {"top": 99}, 400, "top"),
    ("/api/export", {"format": "xlsx"}, 400, "format"),
    ("/api/export", {"since": "-5"}, 400, "since"),
    ("/api/export", {"colour": "red"}, 400, "colour"),
])
def test_bad_history_requests_get_a_problem(stored, path, params, status_code, names):
    server = stored[0]
    response = server.get(path, params=params)
    assert response.status_code == status_code, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status_code and problem["detail"]
    if names:
        assert problem["parameter"] == names
    assert server.get("/healthz").status_code == 200


def test_export_can_be_turned_off_and_history_too(start_server):
    no_export = start_server("--no-simulate", "--no-export", "--data-dir", "off-data")
    response = no_export.get("/api/export")
    assert response.status_code == 403 and "--no-export" in response.json()["detail"]
    none = start_server("--no-simulate", "--history", "none")
    assert none.get("/api/status").json()["history"] is None
    response = none.get("/api/users/u1")
    assert response.status_code == 404 and "--history none" in response.json()["detail"]


def test_a_restart_on_the_embedded_broker_keeps_the_history_and_retention_trims_it(tmp_path):
    """The embedded broker forgets everything on restart; the history does not. Restarted with a
    shorter retention, the server removes what is older."""
    data = tmp_path / "data"
    rng = random.Random(7)
    now = int(time.time() * 1000)
    user = str(uuid.uuid4())
    old = make_events([user], 30, now - 3 * 86_400_000, 1000, rng)    # three days ago
    recent = make_events([user], 30, now - 3_600_000, 1000, rng)      # an hour ago
    first = RunningServer(["--no-simulate", "--data-dir", str(data)], cwd=str(tmp_path))
    try:
        produce(first.bootstrap, old + recent)
        wait_stored(first, 60)
    finally:
        assert first.stop() == 0
    second = RunningServer(["--no-simulate", "--data-dir", str(data)], cwd=str(tmp_path))
    try:
        assert second.get("/api/events").json()["count"] == 0          # a new, empty broker
        assert walk_listens(second, user, limit=100) == newest_first(old + recent)
        later = make_events([user], 10, now, 1000, rng)
        produce(second.bootstrap, later)
        wait_stored(second, 10)
        assert status(second)["duplicates_skipped"] == 0
        assert walk_listens(second, user, limit=100) == newest_first(old + recent + later)
    finally:
        assert second.stop() == 0
    third = RunningServer(["--no-simulate", "--data-dir", str(data), "--history-retention", "1d"], cwd=str(tmp_path))
    try:
        assert wait_until(lambda: status(third)["retention_deleted"] == 30, timeout=20), status(third)
        assert walk_listens(third, user, limit=100) == newest_first(recent + later)
    finally:
        assert third.stop() == 0


def test_offsets_of_another_cluster_are_not_applied(tmp_path):
    """A store that moves to another cluster (here: a second Tansu with another cluster id and the
    same topic) reads that cluster's log from its start: the first cluster's offsets would
    otherwise skip the first records of each partition."""
    data = tmp_path / "data"
    rng = random.Random(3)
    produced = []
    for cluster in ["east", "west"]:
        home = tmp_path / cluster
        home.mkdir()
        tansu = Tansu(home, env={"CLUSTER_ID": cluster})
        try:
            tansu.create_topic("music-streams")
            events = make_events([str(uuid.uuid4()) for _ in range(30)], 300, int(time.time() * 1000), 5, rng)
            produce(tansu.address, events)
            produced += events
            server = RunningServer(["--brokers", tansu.address, "--no-simulate", "--data-dir", str(data)],
                                   cwd=str(tmp_path))
            try:
                wait_stored(server, len(events))
                history = status(server)
                assert history["log"] == cluster + "/music-streams"
                assert history["duplicates_skipped"] == 0
            finally:
                assert server.stop() == 0
        finally:
            tansu.stop()
    with sqlite3.connect("file:%s?mode=ro" % os.path.join(data, "history.sqlite3"), uri=True) as db:
        ids = {row[0] for row in db.execute("SELECT event_id FROM listens")}
    assert ids == {e["event_id"] for e in produced}


def test_kill_9_during_ingest_loses_and_doubles_nothing(tmp_path):
    """Against Tansu (which outlives the server): 60,000 listens produced, the server killed with
    SIGKILL while its sink is storing them, then restarted: the store ends up with every listen
    exactly once, and the restarted sink re-read nothing (it resumed at the offsets stored with
    the rows, so not even the unique event_id had to refuse a duplicate)."""
    tansu = Tansu(tmp_path)
    try:
        tansu.create_topic("music-streams")
        data = tmp_path / "data"
        rng = random.Random(99)
        users = [str(uuid.uuid4()) for _ in range(500)]
        events = make_events(users, 60_000, int(time.time() * 1000) - 3_600_000, 1, rng)
        produce(tansu.address, events)
        args = ["--brokers", tansu.address, "--no-simulate", "--data-dir", str(data), "--window", "1000"]
        first = RunningServer(args, cwd=str(tmp_path))
        assert wait_until(lambda: status(first)["stored"] >= 4_000, timeout=60, interval=0.01), status(first)
        stored_before = status(first)["stored"]
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
        assert stored_before < len(events), "the sink finished before the kill: nothing was interrupted"
        second = RunningServer(args, cwd=str(tmp_path))
        try:
            path = os.path.join(data, "history.sqlite3")

            def stored_rows():
                with sqlite3.connect("file:%s?mode=ro" % path, uri=True) as db:
                    return db.execute("SELECT COUNT(*), COUNT(DISTINCT event_id) FROM listens").fetchone()
            assert wait_until(lambda: stored_rows()[0] >= len(events), timeout=120), stored_rows()
            time.sleep(1)   # anything doubled would have arrived by now
            count, distinct = stored_rows()
            assert count == distinct == len(events)
            with sqlite3.connect("file:%s?mode=ro" % path, uri=True) as db:
                ids = {row[0] for row in db.execute("SELECT event_id FROM listens")}
            assert ids == {e["event_id"] for e in events}
            history = status(second)
            assert history["duplicates_skipped"] == 0, history
            assert 0 < history["stored"] < len(events)   # the restarted sink resumed, it did not start over
        finally:
            assert second.stop() == 0
    finally:
        tansu.stop()



def test_records_the_broker_removed_before_the_sink_read_them_are_counted_not_silent(tmp_path):
    """The embedded broker keeps about 10,000 records a partition. With the store locked (by
    this test, as another process holding SQLite's write lock would) the sink cannot write, so
    it stops reading; 30,000 listens later the broker has dropped the oldest (the consumers'
    prefetch is kept small here, or librdkafka would hold them all). Once the lock goes, the
    sink stores what is left and counts what it never saw: stored + missed = produced."""
    data = tmp_path / "data"
    server = RunningServer(["--no-simulate", "--partitions", "1", "--window", "100", "--data-dir", str(data),
                            "--kafka-config", "queued.max.messages.kbytes=512",
                            "--kafka-config", "queued.min.messages=500"], cwd=str(tmp_path))
    try:
        rng = random.Random(11)
        first = make_events([str(uuid.uuid4())], 10, int(time.time() * 1000), 1, rng)
        produce(server.bootstrap, first)
        wait_stored(server, 10)
        lock = sqlite3.connect(os.path.join(data, "history.sqlite3"), timeout=10, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            produce(server.bootstrap, make_events([str(uuid.uuid4())], 30, int(time.time() * 1000), 1, rng))
            assert wait_until(lambda: status(server)["state"] == "failing", timeout=30), status(server)
            produce(server.bootstrap, make_events([str(uuid.uuid4()) for _ in range(50)], 30_000,
                                                  int(time.time() * 1000), 1, rng))
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        total = 10 + 30 + 30_000
        assert wait_until(lambda: status(server)["stored"] + status(server)["missed"] >= total, timeout=120), status(server)
        history = status(server)
        assert history["missed"] > 0 and history["stored"] + history["missed"] == total, history
        assert history["state"] == "running" and history["duplicates_skipped"] == 0
        assert any("records were gone before the sink read them" in line for line in server.stderr_lines + server.stdout_lines)
    finally:
        assert server.stop() == 0
