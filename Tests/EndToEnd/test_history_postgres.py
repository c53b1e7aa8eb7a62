"""The history in a real PostgreSQL 15 server (started by scripts/postgres on a loopback port, in
a temp directory, stopped at the end): the same answers as with SQLite, and a store that goes
down while the server runs costs the live side nothing; the sink reports it, holds its batch and
catches up when the store returns, with nothing lost or doubled; and a kill -9 mid-ingest loses and
doubles nothing."""
import os
import random
import signal
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import RunningServer, wait_until
from test_history import make_events, newest_first, produce, status, walk_listens
from test_tansu import Tansu, free_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PSQL = "/usr/lib/postgresql/15/bin/psql"


class Postgres:
    """A throwaway server: `scripts/postgres start DIR PORT` (initdb on first start)."""

    def __init__(self):
        # Under /tmp itself: the postgres user must be able to reach the directory.
        self.dir = tempfile.mkdtemp(prefix="musicstream-pg-", dir="/tmp")
        self.port = free_port()
        self.url = self.start()

    def start(self):
        done = subprocess.run([os.path.join(ROOT, "scripts", "postgres"), "start", self.dir, str(self.port)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    def stop(self):
        subprocess.run([os.path.join(ROOT, "scripts", "postgres"), "stop", self.dir], check=True, timeout=60)

    def query(self, sql, database="musicstream"):
        done = subprocess.run([PSQL, "-h", "127.0.0.1", "-p", str(self.port), "-U", "musicstream", "-d", database,
                               "-Atc", sql], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres():
    server = Postgres()
    yield server
    server.remove()


def stored_rows(postgres):
    count, distinct = postgres.query("SELECT COUNT(*), COUNT(DISTINCT event_id) FROM listens").split("|")
    return int(count), int(distinct)


def test_history_in_postgres_answers_like_sqlite(postgres, tmp_path):
    assert postgres.url == "postgres://musicstream@127.0.0.1:%d/musicstream" % postgres.port
    server = RunningServer(["--no-simulate", "--window", "50", "--history", postgres.url], cwd=str(tmp_path))
    try:
        rng = random.Random(5)
        users = [str(uuid.uuid4()) for _ in range(4)]
        # Over three days: the listens land in several day partitions.
        events = make_events(users, 400, int(time.time() * 1000) - 3 * 86_400_000, 600_000, rng)
        produce(server.bootstrap, events)
        assert wait_until(lambda: status(server)["stored"] >= len(events), timeout=60), status(server)
        history = status(server)
        assert history["store"] == postgres.url and history["state"] == "running"
        assert stored_rows(postgres) == (len(events), len(events))
        for user in users[:2]:
            assert walk_listens(server, user, limit=9) == newest_first([e for e in events if e["user_id"] == user])
        summary = server.get("/api/users/%s" % users[3]).json()
        assert summary["listens"] == sum(1 for e in events if e["user_id"] == users[3])
        lines = server.get("/api/export", params={"format": "ndjson"}).text.splitlines()
        assert len(lines) == len(events)
    finally:
        assert server.stop() == 0


def test_postgres_down_costs_the_live_side_nothing_and_the_history_catches_up(postgres, tmp_path):
    server = RunningServer(["--no-simulate", "--window", "5000", "--history", postgres.url], cwd=str(tmp_path))
    try:
        before, _ = stored_rows(postgres)
        rng = random.Random(8)
        users = [str(uuid.uuid4()) for _ in range(3)]
        first = make_events(users, 200, int(time.time() * 1000) - 60_000, 10, rng)
        produce(server.bootstrap, first)
        assert wait_until(lambda: status(server)["stored"] >= 200, timeout=60), status(server)

        postgres.stop()
        second = make_events(users, 300, int(time.time() * 1000), 10, rng)
        produce(server.bootstrap, second)
        # The window and the stream carry on.
        assert wait_until(lambda: server.get("/api/status").json()["window"]["size"] >= 500, timeout=30)
        assert server.get("/api/events", params={"user_id": users[0], "limit": 1000}).json()["count"] == \
            sum(1 for e in first + second if e["user_id"] == users[0])
        # The sink says so, and history queries get a 503 problem (not a hang, not a 500).
        assert wait_until(lambda: status(server)["state"] == "failing", timeout=30), status(server)
        assert wait_until(lambda: status(server)["lag"] >= 300, timeout=30), status(server)
        history = status(server)
        assert history["last_error"]
        assert history["stored"] == 200
        response = server.get("/api/users/%s" % users[0], timeout=20)
        assert response.status_code == 503, response.text
        assert response.headers["Content-Type"] == "application/problem+json"
        assert server.get("/healthz").status_code == 200

        postgres.start()
        assert wait_until(lambda: status(server)["stored"] >= 500, timeout=60), status(server)
        assert status(server)["state"] == "running"
        count, distinct = stored_rows(postgres)
        assert count == distinct == before + 500
        ids = set(postgres.query("SELECT event_id FROM listens").split("\n"))
        assert {e["event_id"] for e in first + second} <= ids
        assert walk_listens(server, users[1], limit=50) == newest_first(
            [e for e in first + second if e["user_id"] == users[1]])
    finally:
        assert server.stop() == 0


def test_kill_9_during_ingest_loses_and_doubles_nothing_in_postgres(postgres, tmp_path):
    """test_history's kill -9 test with the rows and offsets in PostgreSQL: 60,000 listens on
    Tansu (which outlives the server), the server killed with SIGKILL while its sink stores them,
    then restarted: every listen exactly once, and the restarted sink resumed at the offsets
    committed with the rows (nothing re-read, so nothing for the unique constraint to refuse)."""
    postgres.query("CREATE DATABASE killed")
    url = postgres.url.rsplit("/", 1)[0] + "/killed"
    tansu = Tansu(tmp_path)
    try:
        tansu.create_topic("music-streams")
        rng = random.Random(31)
        users = [str(uuid.uuid4()) for _ in range(500)]
        events = make_events(users, 60_000, int(time.time() * 1000) - 3_600_000, 1, rng)
        produce(tansu.address, events)
        # Tansu has no working consumer groups (design.md): this server stores every partition.
        args = ["--brokers", tansu.address, "--no-simulate", "--history", url, "--history-group", "none",
                "--window", "1000"]
        first = RunningServer(args, cwd=str(tmp_path))
        assert wait_until(lambda: status(first)["stored"] >= 4_000, timeout=60, interval=0.01), status(first)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()

        def rows():
            count, distinct = postgres.query("SELECT COUNT(*), COUNT(DISTINCT event_id) FROM listens", "killed").split("|")
            return int(count), int(distinct)
        stored_before = rows()[0]
        assert stored_before < len(events), "the sink finished before the kill: nothing was interrupted"
        second = RunningServer(args, cwd=str(tmp_path))
        try:
            assert wait_until(lambda: rows()[0] >= len(events), timeout=120), rows()
            time.sleep(1)   # anything doubled would have arrived by now
            assert rows() == (len(events), len(events))
            ids = set(postgres.query("SELECT event_id FROM listens", "killed").split("\n"))
            assert ids == {e["event_id"] for e in events}
            history = status(second)
            assert history["duplicates_skipped"] == 0, history
            assert history["stored"] == len(events) - stored_before   # resumed where the store ended
        finally:
            assert second.stop() == 0
    finally:
        tansu.stop()


def test_a_store_down_at_start_does_not_keep_the_server_from_serving(tmp_path):
    url = "postgres://musicstream@127.0.0.1:%d/musicstream" % free_port()   # nothing listens there
    server = RunningServer(["--no-simulate", "--history", url], cwd=str(tmp_path))
    try:
        assert wait_until(lambda: status(server)["state"] == "failing", timeout=30), status(server)
        assert "127.0.0.1" in status(server)["last_error"]
        response = server.get("/api/users/u1", timeout=20)
        assert response.status_code == 503 and response.headers["Content-Type"] == "application/problem+json"
        assert server.get("/api/events").status_code == 200
        assert wait_until(lambda: server.get("/readyz").status_code == 200, timeout=30)
    finally:
        assert server.stop() == 0
