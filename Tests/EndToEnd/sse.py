"""A small, real Server-Sent Events parser over a raw socket, bounded in time."""
import json
import socket
import time
from urllib.parse import urlsplit


class SSEClient:
    def __init__(self, url, timeout=10.0, headers=None):
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        target = parts.path + ("?" + parts.query if parts.query else "")
        extra = "".join("%s: %s\r\n" % item for item in (headers or {}).items())
        request = "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n%s\r\n" % (target, parts.netloc, extra)
        self.sock.sendall(request.encode())
        self.buffer = b""
        self.body = b""
        # Per chunk of the response (the server writes each round as one chunk), how many
        # `listen` events it carried.
        self.listens_per_chunk = []
        # The last `id:` the stream sent, kept across frames as EventSource keeps lastEventId:
        # the server sends its position once per written batch, not with every event.
        self.last_id = None
        # The first `id:` (the greeting's: where the stream starts).
        self.first_id = None
        self.status = None
        self.headers = {}
        self._read_head()

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("server closed the stream")
        return data

    def _read_head(self):
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def _fill_body(self):
        """Decodes chunked transfer encoding into self.body as data arrives."""
        while True:
            if b"\r\n" in self.buffer:
                size_line, rest = self.buffer.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    raise EOFError("stream ended")
                if len(rest) >= size + 2:
                    self.body += rest[:size]
                    self.listens_per_chunk.append(rest[:size].count(b"event: listen\n"))
                    self.buffer = rest[size + 2:]
                    return
            self.buffer += self._recv()

    def frames(self, deadline):
        """Yields (fields dict, raw frame text) for each frame until `deadline` (monotonic)."""
        while time.monotonic() < deadline:
            while b"\n\n" in self.body:
                raw, self.body = self.body.split(b"\n\n", 1)
                fields = {}
                comments = []
                for line in raw.decode().split("\n"):
                    if line.startswith(":"):
                        comments.append(line[1:].strip())
                        continue
                    name, _, value = line.partition(":")
                    fields.setdefault(name, []).append(value[1:] if value.startswith(" ") else value)
                if "id" in fields:
                    self.last_id = fields["id"][-1]
                    if self.first_id is None:
                        self.first_id = self.last_id
                yield fields, comments
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                self._fill_body()
            except socket.timeout:
                return

    def first_event_name(self, timeout=5.0):
        """The `event:` name of the first named frame within `timeout` (None if none came)."""
        for fields, _ in self.frames(time.monotonic() + timeout):
            if "event" in fields:
                return fields["event"][0]
        return None

    def events(self, count, timeout=15.0):
        """Collects up to `count` `listen` events within `timeout` seconds, as (the stream's last
        id when the event arrived, data)."""
        deadline = time.monotonic() + timeout
        collected = []
        for fields, _ in self.frames(deadline):
            if fields.get("event") == ["listen"]:
                collected.append((self.last_id, fields["data"][0]))
                if len(collected) >= count:
                    break
        return collected

    def close(self):
        self.sock.close()


def parse_position(stream_id):
    """A stream id ("p<log>.<offset>.<offset>…", base 36) as (log, [offset by partition])."""
    fields = stream_id[1:].split(".")
    return int(fields[0], 36), [int(field, 36) for field in fields[1:]]


def event_ids(events):
    """The listens' own event_ids, in the order they arrived, from `SSEClient.events` output."""
    return [json.loads(data)["event_id"] for _, data in events]


def kafka_positions(server, ids):
    """Where each listen was read in Kafka, (partition, offset), from its detail in the window."""
    positions = []
    for event_id in ids:
        kafka = server.get("/api/events/" + event_id).json()["kafka"]
        positions.append((kafka["partition"], kafka["offset"]))
    return positions


def offset_gaps(positions):
    """Breaks in each partition's run of offsets, in arrival order: [] when every partition's
    listens came in order, each once, none skipped (records that were all listens)."""
    last = {}
    gaps = []
    for partition, offset in positions:
        if partition in last and offset != last[partition] + 1:
            gaps.append((partition, last[partition], offset))
        last[partition] = offset
    return gaps


def merged_run(runs):
    """The one run that several subscribers' runs, read at the same time, are all parts of: the
    run that started first, extended by the later ends of the others. Each run must lie in it
    unbroken (same events, same order, none skipped where runs overlap); None when one does not.
    Subscribers connect and stop at slightly different moments, so no single run need hold the
    others' first or last events."""
    runs = [list(run) for run in runs if run]
    if not runs:
        return []
    # The run that started first holds no other run's first event except at its own start.
    def started_first(run):
        return all(other is run or run[0] not in other or other.index(run[0]) == 0 for other in runs)
    first = next((run for run in runs if started_first(run)), None)
    if first is None:
        return None
    merged = list(first)
    position = {event: index for index, event in enumerate(merged)}
    for run in runs:
        if run is first:
            continue
        start = position.get(run[0])
        if start is None:
            return None
        overlap = merged[start:start + len(run)]
        if run[:len(overlap)] != overlap:
            return None
        for event in run[len(overlap):]:
            if event in position:
                return None
            position[event] = len(merged)
            merged.append(event)
    return merged

