"""The Kafka clients people bring, with their default settings, against the embedded broker: the
original project's producer.py and consumer.py loops (kafka-python) and aiokafka, through the
server's in-process broker (`musicstream serve`) and the standalone one (`musicstream broker`).

Each client produces listens the server shows, mapped the way the decoder maps the original
producer's shape (name, nested location, duration_seconds, seconds, a float rating, no event_id:
README "The event"), and consumes what the simulator and a POST /api/events produced. Without
the front's ApiVersions repair and the mock's version caps (docs/EMBEDDED_BROKER.md), kafka-python
cannot bootstrap, and its consumer cannot join a group."""
import asyncio
import json
import time
import uuid
import warnings
from decimal import ROUND_HALF_UP, Decimal

import pytest
import requests
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

with warnings.catch_warnings():
    # kafka-python 3.0.12 loads its protocol schemas with importlib.resources' deprecated calls.
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaConsumer, KafkaProducer

from conftest import StandaloneBroker, wait_until

# kafka-python 3 warns that the original scripts' lambdas are not its Serializer classes; they work.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TOPIC = "music-streams"
CANONICAL_FIELDS = [
    "event_id", "user_id", "username", "email", "track_id", "title", "artist", "genre", "platform",
    "mood", "city", "country", "duration", "listen_position", "completed", "skipped", "rating", "timestamp",
]
PRODUCED = 5          # listens each producer sends
SIMULATED = 3         # simulated listens each consumer must see
CONSUME_DEADLINE = 40  # seconds a consumer may take to find what it looks for
ARTISTS = ["Avicii", "Joji", "Rosalía", "Burna Boy", "Aurora"]
GENRES = ["EDM", "Alt Pop", "Flamenco", "Afrobeats", "Art Pop"]
PLATFORMS = ["Spotify", "Apple Music", "YouTube Music", "Deezer", "Tidal"]
PLACES = [("Bogotá", "Colombia"), ("Osaka", "Japan"), ("Lagos", "Nigeria"), ("Bergen", "Norway"), ("Lyon", "France")]
MOODS = ["Energetic", "Melancholic", "Chill", "Happy", "Focused"]


@pytest.fixture(scope="module", params=["serve", "broker"])
def setup(request, start_server):
    """(server, bootstrap): the server's own embedded broker, or a standalone broker that a server
    started with --brokers reads; outside clients bootstrap from the address the server or the
    broker prints, as a user would."""
    if request.param == "serve":
        server = start_server("--rate", "10")
        yield server, server.bootstrap
        return
    broker = StandaloneBroker()
    try:
        server = start_server("--brokers", broker.address, "--simulate", "--rate", "10")
        yield server, broker.address
        # The module's servers stop after the module; this broker must outlive this one.
        assert server.stop() == 0
    finally:
        broker.stop()


def legacy_listen(tag, index):
    """One listen in the original producer.py's shape: `name`, nested `location`,
    `duration_seconds`, `is_skipped`, a rating with one decimal, the time in seconds (whole and
    fractional alternately), no event_id."""
    duration = 150 + 17 * index
    position = duration if index % 2 else duration // 3
    city, country = PLACES[index % len(PLACES)]
    now = time.time()
    return {
        "user_id": str(uuid.uuid4()), "name": "py.%s.%d" % (tag, index), "email": "py%d@example.org" % index,
        "track_id": str(uuid.uuid4()), "title": "%s track %d" % (tag, index),
        "artist": ARTISTS[index % len(ARTISTS)], "genre": GENRES[index % len(GENRES)],
        "timestamp": int(now) if index % 2 else now, "platform": PLATFORMS[index % len(PLATFORMS)],
        "location": {"country": country, "city": city}, "mood": MOODS[index % len(MOODS)],
        "duration_seconds": duration, "listen_position": position, "completed": position >= 0.8 * duration,
        "rating": [3.7, 2.5, 4.2, 1.0, 4.5][index % 5], "is_skipped": position < 0.8 * duration,
    }


def as_the_server_shows_it(listen):
    """The decoder's mapping of the original shape (README "The event"): name → username, the
    location's city and country, duration_seconds → duration, completed and skipped recomputed,
    the rating rounded half up, seconds → milliseconds (truncated)."""
    completed = listen["listen_position"] * 5 >= listen["duration_seconds"] * 4
    return {
        "user_id": listen["user_id"], "username": listen["name"], "email": listen["email"],
        "track_id": listen["track_id"], "title": listen["title"], "artist": listen["artist"],
        "genre": listen["genre"], "platform": listen["platform"], "mood": listen["mood"],
        "city": listen["location"]["city"], "country": listen["location"]["country"],
        "duration": listen["duration_seconds"], "listen_position": listen["listen_position"],
        "completed": completed, "skipped": not completed,
        "rating": int(Decimal(str(listen["rating"])).quantize(Decimal(1), rounding=ROUND_HALF_UP)),
        "timestamp": int(Decimal(json.dumps(listen["timestamp"])) * 1000),
    }


def check_listens_shown(server, tag, sent):
    """`sent`: (listen, partition, offset) per record. Exactly those listens are shown, each once,
    mapped as the decoder maps the shape, with the id derived from where the record lies."""
    def shown():
        events = server.get("/api/events", params={"q": tag, "limit": 1000}).json()["events"]
        return events if len(events) >= len(sent) else None
    events = wait_until(shown, timeout=15)
    assert events, "only %s of %d listens shown" % (
        len(server.get("/api/events", params={"q": tag, "limit": 1000}).json()["events"]), len(sent))
    assert sorted(event["title"] for event in events) == sorted(listen["title"] for listen, _, _ in sent)
    by_title = {event["title"]: event for event in events}
    for listen, partition, offset in sent:
        event = by_title[listen["title"]]
        assert list(event) == CANONICAL_FIELDS
        assert {key: event[key] for key in event if key != "event_id"} == as_the_server_shows_it(listen)
        detail = server.get("/api/events/%s" % event["event_id"]).json()
        assert detail["kafka"] == {"topic": TOPIC, "partition": partition, "offset": offset}


def post_listen(server, tag):
    listen = {
        "user_id": "posted-" + uuid.uuid4().hex[:8], "username": "posted.%s" % tag, "email": "posted@example.org",
        "track_id": str(uuid.uuid4()), "title": "%s posted" % tag, "artist": "Joji", "genre": "Alt Pop",
        "platform": "Spotify", "mood": "Melancholic", "city": "Osaka", "country": "Japan",
        "duration": 233, "listen_position": 201, "rating": 5,
    }
    answer = requests.post(server.url("/api/events"), json=listen, timeout=10)
    assert answer.status_code == 202, answer.text
    return listen, answer.json()


def simulated_in(records):
    """The simulator's listens among consumed records: canonical ones nobody here produced."""
    return [(key, value) for _, _, key, value in records
            if list(value) == CANONICAL_FIELDS and not value["user_id"].startswith("posted-")]


def has_all(records, receipt):
    """Whether a consumer has read the POSTed record and a few simulated ones (partitions arrive
    in any order)."""
    return (any((partition, offset) == (receipt["partition"], receipt["offset"]) for partition, offset, _, _ in records)
            and len(simulated_in(records)) >= SIMULATED)


def check_consumed(server, records, posted, receipt):
    """`records`: (partition, offset, key, value) as a consumer got them. The POSTed listen is
    there, where the server said it put it, with its fields; so are simulated listens the server
    shows, keyed by user_id."""
    at = {(partition, offset): (key, value) for partition, offset, key, value in records}
    assert (receipt["partition"], receipt["offset"]) in at, "the POSTed listen %s was not consumed (%d records)" % (
        receipt, len(records))
    key, value = at[(receipt["partition"], receipt["offset"])]
    assert key == posted["user_id"].encode()
    assert value["event_id"] == receipt["event_id"]
    assert {field: value[field] for field in posted} == posted
    assert list(value) == CANONICAL_FIELDS
    simulated = simulated_in(records)
    assert len(simulated) >= SIMULATED, "%d simulated listens consumed" % len(simulated)
    assert all(key == value["user_id"].encode() for key, value in simulated)
    newest = simulated[-1][1]
    assert server.get("/api/events/%s" % newest["event_id"]).json()["event"] == newest


def wait_for_simulated(server):
    assert wait_until(lambda: server.get("/api/status").json()["consumed"] >= SIMULATED, timeout=15)


def test_original_producer_loop_with_kafka_python(setup):
    server, bootstrap = setup
    tag = "kp%s" % uuid.uuid4().hex[:8]
    # producer.py, with kafka-python's defaults: no key, JSON values.
    producer = KafkaProducer(bootstrap_servers=bootstrap, value_serializer=lambda v: json.dumps(v).encode("utf-8"))
    futures = []
    for index in range(PRODUCED):
        listen = legacy_listen(tag, index)
        futures.append((listen, producer.send(TOPIC, listen)))
        # (the original slept 2 s here)
    producer.flush()
    sent = [(listen, metadata.partition, metadata.offset)
            for listen, metadata in ((listen, future.get(timeout=10)) for listen, future in futures)]
    producer.close()
    check_listens_shown(server, tag, sent)


def test_original_consumer_loop_with_kafka_python(setup):
    server, bootstrap = setup
    wait_for_simulated(server)
    posted, receipt = post_listen(server, "kc%s" % uuid.uuid4().hex[:8])
    # consumer.py: group music-group from the earliest record, JSON values; bounded by a timeout.
    consumer = KafkaConsumer(TOPIC, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id="music-group",
                             value_deserializer=lambda x: json.loads(x.decode("utf-8")), consumer_timeout_ms=10_000)
    records = []
    deadline = time.monotonic() + CONSUME_DEADLINE
    try:
        for message in consumer:
            records.append((message.partition, message.offset, message.key, message.value))
            if has_all(records, receipt) or time.monotonic() > deadline:
                break
    finally:
        consumer.close()
    check_consumed(server, records, posted, receipt)


def test_aiokafka_produces_and_consumes(setup):
    server, bootstrap = setup
    tag = "aio%s" % uuid.uuid4().hex[:8]
    wait_for_simulated(server)
    posted, receipt = post_listen(server, "aiopost%s" % uuid.uuid4().hex[:8])

    async def run():
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            sent = []
            for index in range(PRODUCED):
                listen = legacy_listen(tag, index)
                metadata = await producer.send_and_wait(TOPIC, json.dumps(listen).encode("utf-8"))
                sent.append((listen, metadata.partition, metadata.offset))
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(TOPIC, bootstrap_servers=bootstrap, group_id="music-group-aiokafka",
                                    auto_offset_reset="earliest")
        await consumer.start()
        records = []
        try:
            async def until_posted():
                async for message in consumer:
                    records.append((message.partition, message.offset, message.key, json.loads(message.value)))
                    if has_all(records, receipt):
                        return
            await asyncio.wait_for(until_posted(), CONSUME_DEADLINE)
        finally:
            await consumer.stop()
        return sent, records

    sent, records = asyncio.run(run())
    check_listens_shown(server, tag, sent)
    check_consumed(server, records, posted, receipt)
