"""Replicas behind a real load balancer: nginx (Debian's) in front of three servers that share the
standalone broker (`musicstream broker`) and one PostgreSQL history. One replica is killed with
SIGKILL while a stream client, a publisher and the history sinks are busy; nothing may be lost or
doubled anywhere."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
import requests

from browser_helpers import PUBLIC_DIR
from conftest import BINARY, RunningServer, StandaloneBroker, wait_until, metric_value
from test_history_postgres import Postgres
from test_tansu import free_port

NGINX = "/usr/sbin/nginx"
RATE = 20          # POSTs a second through nginx
REPLICAS = 3


TEMPLATE = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "nginx.conf.template")


def nginx_config(port, upstreams):
    """The deployment's own nginx configuration (deploy/nginx.conf.template), on loopback."""
    with open(TEMPLATE) as f:
        template = f.read()
    servers = "\n".join("server 127.0.0.1:%d max_fails=1 fail_timeout=10s;" % p for p in upstreams)
    return template.replace("${NGINX_LISTEN}", "127.0.0.1:%d" % port).replace("${NGINX_UPSTREAM_SERVERS}", servers)


class Nginx:
    def __init__(self, upstreams):
        self.dir = tempfile.mkdtemp(prefix="musicstream-nginx-")
        self.port = free_port()
        path = os.path.join(self.dir, "nginx.conf")
        with open(path, "w") as f:
            f.write(nginx_config(self.port, upstreams))
        command = [NGINX, "-p", self.dir + "/", "-c", path, "-e", "stderr"]
        subprocess.run(command + ["-t", "-q"], check=True, timeout=30)
        self.process = subprocess.Popen(command + ["-g", "daemon off;"])
        assert wait_until(lambda: self._answers(), timeout=15)

    def _answers(self):
        try:
            return requests.get(self.url("/healthz"), timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def get(self, path, **kwargs):
        return requests.get(self.url(path), timeout=10, **kwargs)

    def stop(self):
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class StreamFollower(threading.Thread):
    """Follows /stream through the load balancer the way EventSource does: on any break it waits
    `retry`, then reconnects with its last id as Last-Event-ID. Records every listen's event_id,
    every reconnect, and every `reset`."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url = url
        self.received = []
        self.resets = 0
        self.connections = 0
        self.last_id = None
        self.stop = threading.Event()
        self.error = None

    def run(self):
        from sse import SSEClient
        while not self.stop.is_set():
            headers = {"Last-Event-ID": self.last_id} if self.last_id else {}
            try:
                client = SSEClient(self.url, timeout=5, headers=headers)
            except (OSError, EOFError):
                time.sleep(0.5)
                continue
            try:
                if client.status != 200:
                    time.sleep(0.5)
                    continue
                self.connections += 1
                while not self.stop.is_set():
                    for fields, _ in client.frames(time.monotonic() + 0.5):
                        if fields.get("event") == ["listen"]:
                            self.received.append(json.loads(fields["data"][0])["event_id"])
                        elif fields.get("event") == ["reset"]:
                            self.resets += 1
                        if "id" in fields:
                            self.last_id = fields["id"][-1]
            except (OSError, EOFError):
                time.sleep(0.5)   # the stream broke: reconnect as a browser would
            except Exception as error:   # reported by the test
                self.error = error
                return
            finally:
                client.close()


class Publisher(threading.Thread):
    """POSTs listens through the load balancer at a steady rate, keeping every answer."""

    def __init__(self, url, rate=RATE):
        super().__init__(daemon=True)
        self.url = url
        self.rate = rate
        self.accepted = []
        self.statuses = []
        self.stop = threading.Event()

    def run(self):
        session = requests.Session()
        n = 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            n += 1
            body = {
                "user_id": "replica-%d" % (n % 50), "username": "replica.tester", "email": "r@example.com",
                "track_id": "t-%d" % (n % 20), "title": "Song %d" % n, "artist": "Replicas", "genre": "Pop",
                "platform": "Spotify", "mood": "Happy", "city": "Oslo", "country": "Norway", "duration": 180,
                "listen_position": 90, "rating": 4,
            }
            try:
                answer = session.post(self.url, json=body, timeout=10)
                if answer.status_code == 202:
                    self.statuses.append(202)
                    self.accepted.append(answer.json()["event_id"])
                elif answer.headers.get("Content-Type", "").startswith("application/problem+json"):
                    self.statuses.append(answer.status_code)
                else:
                    self.statuses.append("%d %s" % (answer.status_code, answer.headers.get("Content-Type")))
            except requests.RequestException as error:
                self.statuses.append(repr(error))
            next_at += 1.0 / self.rate
            time.sleep(max(0.0, next_at - time.monotonic()))


def sse_clients(replica):
    for line in replica.get("/metrics").text.splitlines():
        if line.startswith("musicstream_sse_clients "):
            return int(float(line.split()[1]))
    return 0


@pytest.fixture
def cluster(tmp_path):
    broker = StandaloneBroker()
    postgres = Postgres()
    replicas = []
    nginx = None
    try:
        for _ in range(REPLICAS):
            replicas.append(RunningServer(
                ["--brokers", broker.address, "--no-simulate", "--history", postgres.url, "--window", "5000",
                 "--public-dir", PUBLIC_DIR],
                cwd=str(tmp_path), port=free_port()))
        for replica in replicas:
            assert wait_until(lambda: replica.get("/readyz").status_code == 200, timeout=30)
        nginx = Nginx([int(r.base_url.rsplit(":", 1)[1]) for r in replicas])
        yield broker, postgres, replicas, nginx
    finally:
        if nginx:
            nginx.stop()
        for replica in replicas:
            if replica.process.poll() is None:
                replica.stop()
        postgres.remove()
        broker.stop()


def test_a_replica_killed_under_a_stream_loses_and_doubles_nothing(cluster):
    broker, postgres, replicas, nginx = cluster
    # The sinks form one group: every partition is stored by exactly one replica.
    assert wait_until(lambda: all("partitions" in r.get("/api/status").json()["history"] for r in replicas), timeout=30)
    follower = StreamFollower(nginx.url("/stream"))
    follower.start()
    assert wait_until(lambda: follower.connections == 1 and follower.last_id, timeout=15)
    publisher = Publisher(nginx.url("/api/events"))
    publisher.start()
    try:
        assert wait_until(lambda: len(follower.received) >= 3 * RATE, timeout=30), len(follower.received)
        # Kill the replica that serves the stream, mid-flight.
        serving = [r for r in replicas if sse_clients(r) == 1]
        assert len(serving) == 1
        victim = serving[0]
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        survivors = [r for r in replicas if r is not victim]
        before = len(follower.received)
        assert wait_until(lambda: follower.connections >= 2 and len(follower.received) > before + 2 * RATE,
                          timeout=30), "the stream did not come back through another replica"
        time.sleep(2)
    finally:
        publisher.stop.set()
        publisher.join(timeout=15)
    time.sleep(2)   # the last listens reach the stream
    follower.stop.set()
    follower.join(timeout=10)
    assert follower.error is None, follower.error

    records = broker.topic()
    produced = [json.loads(value)["event_id"] for _, _, value in records]
    print("replicas: %d produced, %d streamed over %d connections, POST answers %s"
          % (len(produced), len(follower.received), follower.connections,
             {s: list(map(str, publisher.statuses)).count(s) for s in set(map(str, publisher.statuses))}))
    assert len(set(produced)) == len(produced)
    # Every accepted POST is in the topic once; during the switch some may answer 503 (a
    # problem), none anything worse.
    assert set(publisher.accepted) <= set(produced)
    assert all(status in (202, 503) for status in publisher.statuses), publisher.statuses
    assert publisher.statuses.count(202) >= len(publisher.statuses) - 5, publisher.statuses
    # The stream: each listen of the topic exactly once, across the kill, with no reset.
    assert follower.resets == 0
    assert len(follower.received) == len(set(follower.received)), "a listen arrived twice"
    assert set(follower.received) == set(produced), (len(follower.received), len(produced))
    # The shared history: every listen exactly once, the killed replica's partitions taken over.
    def stored():
        count, distinct = postgres.query("SELECT COUNT(*), COUNT(DISTINCT event_id) FROM listens").split("|")
        return int(count), int(distinct)
    assert wait_until(lambda: stored()[0] >= len(produced), timeout=60), (stored(), len(produced))
    time.sleep(1)
    assert stored() == (len(produced), len(produced))
    assert set(postgres.query("SELECT event_id FROM listens").split("\n")) == set(produced)
    # The survivors split the partitions between them (once the group has settled).
    def owned():
        return sorted(p for r in survivors for p in r.get("/api/status").json()["history"]["partitions"])
    assert wait_until(lambda: owned() == [0, 1, 2], timeout=20), owned()


def test_the_dashboard_through_the_load_balancer_survives_its_replica_dying(cluster):
    from browser_helpers import chromium, connection_state, open_page, row_ids, wait
    broker, _, replicas, nginx = cluster
    # Slow enough that the whole run fits in the table (200 rows at most).
    publisher = Publisher(nginx.url("/api/events"), rate=5)
    publisher.start()
    try:
        with chromium() as browser:
            open_page(browser, nginx, "?rows=200")
            wait(browser, lambda b: len(row_ids(b)) >= 10, "too few rows before the kill")
            serving = [r for r in replicas if sse_clients(r) == 1]
            assert len(serving) == 1
            serving[0].process.send_signal(signal.SIGKILL)
            serving[0].process.wait()
            states = []

            def went_live_again(b):
                states.append(connection_state(b))
                return "reconnecting" in states and states[-1] == "live"
            wait(browser, went_live_again, "the badge never went reconnecting -> live: %s" % states, timeout=30)
            before = len(row_ids(browser))
            wait(browser, lambda b: len(row_ids(b)) >= before + 10, "no new rows after the switch")
            publisher.stop.set()
            publisher.join(timeout=15)
            assert all(status in (202, 503) for status in publisher.statuses), publisher.statuses
            produced = {json.loads(value)["event_id"] for _, _, value in broker.topic()}
            wait(browser, lambda b: set(row_ids(b)) == produced,
                 "the table does not hold exactly the topic's listens", timeout=15)
            rows = row_ids(browser)
            assert len(rows) == len(set(rows)) == len(produced) < 200
    finally:
        publisher.stop.set()
        publisher.join(timeout=15)


def walk(servers, params):
    """Follows `next` to the end, asking the servers in turn; the event_ids in order."""
    ids, cursor, turn = [], None, 0
    while turn < 500:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        page = servers[turn % len(servers)].get("/api/events", params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        ids += [e["event_id"] for e in body["events"]]
        cursor = body["next"]
        turn += 1
        if not cursor:
            return ids
    raise AssertionError("the walk did not end")


def test_a_paging_cursor_continues_on_any_replica(cluster):
    broker, _, replicas, nginx = cluster
    publisher = Publisher(nginx.url("/api/events"), rate=50)
    publisher.start()
    time.sleep(3)
    publisher.stop.set()
    publisher.join(timeout=15)
    produced = len(broker.topic())
    assert wait_until(lambda: all(r.get("/api/status").json()["window"]["size"] == produced for r in replicas),
                      timeout=15)
    for params in ({"limit": 7}, {"limit": 5, "sort_by": "title", "sort_order": "asc"}, {"limit": 9, "rating": 4}):
        alone = walk(replicas[:1], params)
        assert walk(replicas, params) == alone, params
        assert len(alone) == len(set(alone)) and len(alone) > 20
    # Through the load balancer, too (round robin: a different replica for each page).
    assert walk([nginx], {"limit": 7}) == walk(replicas[:1], {"limit": 7})


def test_a_resume_older_than_the_window_is_replayed_from_the_history(tmp_path):
    """A client away for longer than the window covers gets what it missed from the history
    store (up to --max-replay), then the window's, then live: each listen once, none missing."""
    from sse import SSEClient
    broker = StandaloneBroker()
    try:
        server = RunningServer(["--brokers", broker.address, "--simulate", "--rate", "200", "--window", "300",
                                "--history", "sqlite", "--data-dir", str(tmp_path / "data"), "--max-replay", "2000"],
                               cwd=str(tmp_path), port=free_port())
        try:
            client = SSEClient(server.url("/stream"))
            try:
                first = []
                for fields, _ in client.frames(time.monotonic() + 15):
                    if fields.get("event") == ["listen"]:
                        first.append(json.loads(fields["data"][0])["event_id"])
                    if len(first) >= 5 and "id" in fields:
                        break
            finally:
                client.close()
            left_at = client.last_id
            # Away for ~1,500 listens: five windows' worth. The sink (batches of 250 ms) stays
            # well within the window of the newest listen, so it has stored what was evicted.
            consumed = server.get("/api/status").json()["consumed"]
            assert wait_until(lambda: server.get("/api/status").json()["consumed"] > consumed + 1500, timeout=30)
            assert wait_until(lambda: server.get("/api/status").json()["history"]["lag"] < 100, timeout=30)
            back = SSEClient(server.url("/stream"), headers={"Last-Event-ID": left_at})
            try:
                got, names = [], []
                for fields, _ in back.frames(time.monotonic() + 20):
                    names += fields.get("event", [])
                    if fields.get("event") == ["listen"]:
                        got.append(json.loads(fields["data"][0])["event_id"])
                    if len(got) > 1000 and "id" in fields:
                        break
            finally:
                back.close()
            assert "reset" not in names
            assert metric_value(server, "musicstream_sse_history_replays_total") == 1
            # Exactly the topic's listens after the position, up to the last id received.
            low = [int(o, 36) for o in left_at.split(".")[1:]]
            high = [int(o, 36) for o in back.last_id.split(".")[1:]]
            expected = [json.loads(v)["event_id"] for p, o, v in broker.topic() if low[p] < o <= high[p]]
            assert len(got) == len(set(got))
            assert set(got) == set(expected) and len(got) > 1000
            assert not set(got) & set(first)
            # Further back than --max-replay allows (over 2,000 evicted since the start): a reset.
            assert wait_until(lambda: server.get("/api/status").json()["consumed"] > 2700, timeout=30)
            far = SSEClient(server.url("/stream"), headers={"Last-Event-ID": left_at.split(".")[0] + ".-1.-1.-1"})
            try:
                first = far.first_event_name(timeout=10)
            finally:
                far.close()
            assert first == "reset"
        finally:
            server.stop()
    finally:
        broker.stop()
