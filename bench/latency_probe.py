"""End-to-end latency probe for bench/run: POST /api/events, then time until that event arrives on
a /stream subscriber (matched by a user_id unique to the sample), one sample at a time.

    python3 bench/latency_probe.py --url http://127.0.0.1:5000 --samples 1000

The subscriber takes the whole stream (background events included) through the SSE parser below,
so what is measured is what any subscriber sees. Prints one JSON object: p50/p99/max in
milliseconds, samples, lost (no arrival within --timeout) and failed POSTs. Loopback only,
bounded in time (samples x timeout at worst).
"""
import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from urllib.parse import urlsplit


class SSEParser:
    """Server-Sent Events framing: lines end with CR, LF or CRLF; a blank line ends an event."""

    def __init__(self):
        self.line = bytearray()
        self.after_cr = False
        self.event = ""
        self.data = []

    def feed(self, chunk):
        """Returns the (event type, data) pairs completed by `chunk`."""
        events = []
        start = 0
        if self.after_cr and chunk[:1] == b"\n":
            start = 1
        self.after_cr = False
        index = start
        length = len(chunk)
        while index < length:
            byte = chunk[index]
            if byte in (10, 13):
                self.line += chunk[start:index]
                self._line(bytes(self.line), events)
                self.line.clear()
                if byte == 13:
                    if index + 1 < length and chunk[index + 1] == 10:
                        index += 1
                    elif index + 1 == length:
                        self.after_cr = True
                start = index + 1
            index += 1
        self.line += chunk[start:]
        return events

    def _line(self, line, events):
        if not line:
            if self.data:
                events.append((self.event or "message", "\n".join(self.data)))
            self.event = ""
            self.data = []
            return
        if line.startswith(b":"):
            return
        name, colon, value = line.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        if name == b"event":
            self.event = value.decode()
        elif name == b"data":
            self.data.append(value.decode())


async def read_head(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return status, headers


class Subscriber:
    """Reads /stream and resolves the waiting sample whose user_id arrives."""

    def __init__(self):
        self.waiting = {}
        self.parser = SSEParser()

    async def open(self, host, port):
        self.reader, self.writer = await asyncio.open_connection(host, port)
        self.writer.write(("GET /stream HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n\r\n" % (host, port)).encode())
        status, headers = await read_head(self.reader)
        if status != 200:
            raise RuntimeError("/stream answered %d" % status)
        self.chunked = headers.get("transfer-encoding", "").lower() == "chunked"

    async def run(self):
        while True:
            if self.chunked:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    raise EOFError("stream ended")
                chunk = (await self.reader.readexactly(size + 2))[:-2]
            else:
                chunk = await self.reader.read(65536)
                if not chunk:
                    raise EOFError("stream ended")
            arrived = time.perf_counter()
            for event, data in self.parser.feed(chunk):
                if event != "listen" or "probe-" not in data:
                    continue
                future = self.waiting.pop(json.loads(data)["user_id"], None)
                if future and not future.done():
                    future.set_result(arrived)


def probe_event(user_id):
    return {
        "user_id": user_id, "username": "latency.probe", "email": "probe@example.com",
        "track_id": "probe-track", "title": "Latency", "artist": "Probe", "genre": "Pop",
        "platform": "Spotify", "mood": "Focused", "city": "Loopback", "country": "Nowhere",
        "duration": 200, "listen_position": 100, "rating": 3,
    }


async def post(reader, writer, host, port, body):
    writer.write(("POST /api/events HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                  "Content-Length: %d\r\n\r\n" % (host, port, len(body))).encode() + body)
    status, headers = await read_head(reader)
    await reader.readexactly(int(headers.get("content-length", "0")))
    return status


async def measure(url, samples, timeout, interval):
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port
    subscriber = Subscriber()
    await subscriber.open(host, port)
    listening = asyncio.ensure_future(subscriber.run())
    reader, writer = await asyncio.open_connection(host, port)
    run_id = uuid.uuid4().hex[:8]
    latencies, lost, failed = [], 0, 0
    loop = asyncio.get_running_loop()
    try:
        for index in range(samples):
            if listening.done():
                listening.result()  # raises why the stream ended
            user_id = "probe-%s-%d" % (run_id, index)
            arrival = loop.create_future()
            subscriber.waiting[user_id] = arrival
            body = json.dumps(probe_event(user_id)).encode()
            sent = time.perf_counter()
            status = await post(reader, writer, host, port, body)
            if status != 202:
                failed += 1
                subscriber.waiting.pop(user_id, None)
                continue
            try:
                arrived = await asyncio.wait_for(arrival, timeout)
                latencies.append((arrived - sent) * 1000.0)
            except asyncio.TimeoutError:
                lost += 1
                subscriber.waiting.pop(user_id, None)
            await asyncio.sleep(interval)
    finally:
        listening.cancel()
        writer.close()
        subscriber.writer.close()
    return latencies, lost, failed


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(round(p / 100.0 * (len(sorted_values) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="base URL of the server")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each arrival")
    parser.add_argument("--interval", type=float, default=0.005, help="pause between samples, seconds")
    arguments = parser.parse_args()
    latencies, lost, failed = asyncio.run(measure(arguments.url, arguments.samples, arguments.timeout, arguments.interval))
    ordered = sorted(latencies)
    print(json.dumps({
        "samples": len(latencies), "lost": lost, "failed_posts": failed,
        "p50_ms": percentile(ordered, 50), "p99_ms": percentile(ordered, 99), "max_ms": percentile(ordered, 100),
        "mean_ms": statistics.fmean(ordered) if ordered else None,
    }))
    return 0 if latencies else 1


if __name__ == "__main__":
    sys.exit(main())
