"""`musicstream produce` and `consume` against the embedded broker of a running server."""
import json
import socket
import subprocess

import pytest

from conftest import BINARY, wait_until

CANONICAL_FIELDS = [
    "event_id", "user_id", "username", "email", "track_id", "title", "artist", "genre", "platform",
    "mood", "city", "country", "duration", "listen_position", "completed", "skipped", "rating", "timestamp",
]


@pytest.fixture(scope="module")
def quiet_server(start_server):
    return start_server("--no-simulate")


def test_produce_prints_each_event_and_the_server_shows_them(quiet_server):
    result = subprocess.run(
        [BINARY, "produce", "--brokers", quiet_server.bootstrap, "--rate", "200", "--count", "25", "--seed", "5"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(printed) == 25
    assert all(list(event.keys()) == CANONICAL_FIELDS for event in printed)
    ids = {event["event_id"] for event in printed}
    served = wait_until(lambda: (lambda body: body if body["window"] >= 25 else None)(
        quiet_server.get("/api/events?limit=1000").json()), timeout=15)
    assert served, "produced events did not reach the server"
    assert ids <= {event["event_id"] for event in served["events"]}


def test_produce_spread_stamps_the_count_evenly_back_from_now(quiet_server):
    """--spread (a day of history in one go, for the history benchmark): the same listens as
    without it, oldest first, one span/count apart, the last stamped when produce started."""
    import time
    argv = [BINARY, "produce", "--brokers", quiet_server.bootstrap, "--rate", "1000", "--count", "60", "--seed", "9"]
    before = int(time.time() * 1000)
    spread = subprocess.run(argv + ["--spread", "1h"], capture_output=True, text=True, timeout=60)
    after = int(time.time() * 1000)
    assert spread.returncode == 0, spread.stderr
    stamps = [json.loads(line)["timestamp"] for line in spread.stdout.splitlines() if line.strip()]
    assert len(stamps) == 60
    assert before <= stamps[-1] <= after
    assert [later - earlier for earlier, later in zip(stamps, stamps[1:])] == [60_000] * 59
    # Only the timestamps differ from the default (stamped as sent).
    plain = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert plain.returncode == 0, plain.stderr
    plain_events = [json.loads(line) for line in plain.stdout.splitlines() if line.strip()]
    assert all(before <= event["timestamp"] for event in plain_events)
    spread_events = [json.loads(line) for line in spread.stdout.splitlines() if line.strip()]
    assert [{**event, "timestamp": 0} for event in spread_events] == [{**event, "timestamp": 0} for event in plain_events]


def test_produce_spread_needs_a_count_and_a_span():
    for extra, complaint in [(["--spread", "24h"], "--count"), (["--spread", "forever", "--count", "5"], "--spread"),
                             (["--spread", "24", "--count", "5"], "--spread")]:
        result = subprocess.run([BINARY, "produce", "--brokers", "127.0.0.1:9", *extra],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode != 0
        assert complaint in result.stderr, result.stderr


def test_consume_prints_events_as_a_group_member(quiet_server):
    subprocess.run(
        [BINARY, "produce", "--brokers", quiet_server.bootstrap, "--rate", "500", "--count", "10", "--quiet"],
        check=True, capture_output=True, timeout=60)
    result = subprocess.run(
        [BINARY, "consume", "--brokers", quiet_server.bootstrap, "--group", "e2e-group", "--from-beginning", "--count", "10"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 10
    assert all(list(event.keys()) == CANONICAL_FIELDS for event in lines)


def test_produce_fails_loudly_when_nothing_is_delivered():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    result = subprocess.run(
        [BINARY, "produce", "--brokers", "127.0.0.1:%d" % dead_port, "--count", "2", "--rate", "100",
         "--kafka-config", "message.timeout.ms=1500"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "not delivered" in result.stderr


def test_produce_and_consume_need_brokers():
    for command in ("produce", "consume"):
        result = subprocess.run([BINARY, command], capture_output=True, text=True, timeout=30,
                                env={"PATH": "/usr/bin:/bin"})
        assert result.returncode != 0
        assert "--brokers" in result.stderr


def test_bad_flags_are_refused():
    result = subprocess.run([BINARY, "serve", "--window", "0"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "--window" in result.stderr
    result = subprocess.run([BINARY, "serve", "--kafka-config", "novalue"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "key=value" in result.stderr


def test_taken_port_is_a_clear_error_not_a_crash():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run([BINARY, "serve", "--port", str(port)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "cannot bind 127.0.0.1:%d" % port in result.stderr
    assert "Address already in use" in result.stderr


def test_two_consumers_in_one_group_split_the_partitions(quiet_server):
    import threading
    import time
    group = "split-%d" % int(time.time() * 1000)
    # --from-beginning: records produced before the group settles are still read once assigned.
    consumers = [subprocess.Popen(
        [BINARY, "consume", "--brokers", quiet_server.bootstrap, "--group", group, "--from-beginning"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [[], []]

    def read(index):
        for line in consumers[index].stdout:
            if line.strip():
                outputs[index].append(json.loads(line)["event_id"])

    readers = [threading.Thread(target=read, args=(index,), daemon=True) for index in range(2)]
    for reader in readers:
        reader.start()
    try:
        time.sleep(8)  # both members join and the group rebalances
        produced = subprocess.run(
            [BINARY, "produce", "--brokers", quiet_server.bootstrap, "--rate", "500", "--count", "90", "--seed", "31"],
            capture_output=True, text=True, timeout=60)
        assert produced.returncode == 0, produced.stderr
        ours = {json.loads(line)["event_id"] for line in produced.stdout.splitlines() if line.strip()}
        assert len(ours) == 90
        wait_until(lambda: ours <= set(outputs[0]) | set(outputs[1]), timeout=45)
    finally:
        for consumer in consumers:
            consumer.terminate()
        for consumer in consumers:
            consumer.wait(timeout=30)
    first, second = set(outputs[0]), set(outputs[1])
    assert ours <= first | second, "missing %d of our events" % len(ours - first - second)
    assert first & ours and second & ours, "one member got every partition"
    assert not first & second, "an event was delivered to both members"
    assert all(consumer.returncode == 0 for consumer in consumers)


def test_broker_runs_alone_on_the_port_it_is_given_and_stops_on_sigterm():
    import signal
    from test_tansu import free_port
    port = free_port()
    broker = subprocess.Popen([BINARY, "broker", "--port", str(port), "--partitions", "5", "--topic", "solo"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert broker.stdout.readline().strip() == "bootstrap: 127.0.0.1:%d" % port
        address = "127.0.0.1:%d" % port
        metadata = subprocess.run(["kcat", "-L", "-b", address, "-t", "solo"], capture_output=True, text=True,
                                  timeout=30, check=True).stdout
        assert 'topic "solo" with 5 partitions' in metadata
        # Any Kafka client shares it: a record in, the same record out.
        subprocess.run(["kcat", "-P", "-b", address, "-t", "solo", "-p", "3"], input=b"hello\n", check=True, timeout=30)
        out = subprocess.run(["kcat", "-C", "-b", address, "-t", "solo", "-p", "3", "-o", "beginning", "-e", "-q"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
        assert out.split() == ["hello"]
    finally:
        broker.send_signal(signal.SIGTERM)
        assert broker.wait(timeout=15) == 0
    # A port already taken is a clear error, not a broker nobody can reach.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        refused = subprocess.run([BINARY, "broker", "--port", str(taken.getsockname()[1])],
                                 capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0 and "cannot listen" in refused.stderr
