"""With hundreds of /stream subscribers the server holds events briefly so that several share one
socket write (`--max-stream-delay`, reached at 10,000 subscribers, none under 500): nothing may be
lost, doubled or reordered by it, and a subscriber that joins meanwhile must not get events from
before its first id."""
import socket
import threading
import time

from conftest import wait_until
from sse import SSEClient, event_ids, kafka_positions, merged_run, offset_gaps, parse_position

IDLE_SUBSCRIBERS = 520


def open_idle_subscribers(server, count):
    """Raw /stream connections that never read (the kernel's buffers take the few seconds of
    events the test lasts)."""
    sockets = []
    request = ("GET /stream HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n" % server.url("").split("/")[2]).encode()
    port = int(server.url("").split(":")[2].split("/")[0])
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(request)
        sockets.append(sock)
    return sockets


def read_for(client, seconds, into):
    into.extend(client.events(10_000, timeout=seconds))


def test_held_events_share_writes_and_reach_every_subscriber_once_in_order(start_server):
    # 100 events a second; at 520 subscribers a 1 s maximum holds each round for 52 ms.
    server = start_server("--rate", "100", "--max-stream-delay", "1000", "--history", "none")
    assert wait_until(lambda: server.get("/readyz").status_code == 200, timeout=30)
    idle = open_idle_subscribers(server, IDLE_SUBSCRIBERS)
    try:
        assert wait_until(lambda: server.get("/api/status").json()["sse_clients"] >= IDLE_SUBSCRIBERS, timeout=30)
        readers = [SSEClient(server.url("/stream")) for _ in range(3)]
        runs = [[] for _ in readers]
        threads = [threading.Thread(target=read_for, args=(reader, 5.0, run)) for reader, run in zip(readers, runs)]
        for thread in threads:
            thread.start()
        # A subscriber joining while events are held starts after its first id, like any other.
        time.sleep(1.5)
        late = SSEClient(server.url("/stream"))
        late_events = late.events(10_000, timeout=3.0)
        for thread in threads:
            thread.join(timeout=30)
    finally:
        for sock in idle:
            sock.close()

    ids = [event_ids(run) for run in runs]
    assert all(len(run) >= 200 for run in ids), [len(run) for run in ids]
    for run in ids:
        assert len(set(run)) == len(run), "an event was sent twice"
    merged = merged_run(ids)
    assert merged is not None, "subscribers disagree on the events or their order"
    assert offset_gaps(kafka_positions(server, merged[-300:])) == [], "an event was skipped"
    # Several events per write: the holding works (one event a write would be ~1.0).
    chunks = [count for reader in readers for count in reader.listens_per_chunk if count]
    assert sum(chunks) / len(chunks) >= 2.0, chunks[:50]

    late_ids = event_ids(late_events)
    assert late_ids and merged_run([merged, late_ids]) is not None
    # Its first id came with the greeting; every event it got was read after that position.
    _, start_offsets = parse_position(late.first_id)
    for partition, offset in kafka_positions(server, late_ids[:50]):
        assert offset > start_offsets[partition], (partition, offset, start_offsets)
    for client in readers + [late]:
        client.close()
