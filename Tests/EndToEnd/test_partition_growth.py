"""A topic that gains partitions while the server consumes it: the server must notice and read the
new partitions from their first record, without a restart.

Neither broker at hand grows a topic on request: librdkafka's mock cluster does not implement
CreatePartitions (the admin call times out) and Tansu drops the connection on it. So the growth is
made where a real broker keeps the count: Tansu runs on S3 storage (moto's S3 server on loopback)
and keeps each topic's num_partitions in the cluster's meta.json object, which it reads again
after a few seconds' caching. Raising that number (a conditional write, so a concurrent broker
update is never overwritten) makes Tansu itself report, accept and serve the new partitions, as
kcat confirms; the server under test is told nothing and must find out through Kafka metadata
like any client."""
import json
import signal
import subprocess
import sys
import uuid

import pytest

from conftest import wait_until
from test_pipeline import canonical_event
from test_tansu import Tansu, free_port, stop_process

BUCKET = "tansu"
META = "clusters/tansu_cluster/meta.json"   # Tansu's default --cluster-id is tansu_cluster


class S3Server:
    """moto's S3 server on a free loopback port, with the bucket Tansu stores into."""

    def __init__(self, tmp_path):
        import boto3
        self.port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.log = open(tmp_path / "moto.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            cwd=str(tmp_path), stdout=self.log, stderr=subprocess.STDOUT)
        # Loopback only: the credentials are placeholders moto accepts.
        self.env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_ENDPOINT": self.endpoint, "AWS_ALLOW_HTTP": "true"}
        self.client = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                                   aws_access_key_id="test", aws_secret_access_key="test")
        assert wait_until(self._bucket_created, timeout=30), "moto's S3 server did not start"

    def _bucket_created(self):
        try:
            self.client.create_bucket(Bucket=BUCKET)
            return True
        except Exception:   # not listening yet
            return False

    def set_partition_count(self, topic, count):
        """Rewrites the topic's partition count in Tansu's metadata, only if nobody wrote it since it was read."""
        stored = self.client.get_object(Bucket=BUCKET, Key=META)
        meta = json.loads(stored["Body"].read())
        meta["topics"][topic]["topic"]["num_partitions"] = count
        self.client.put_object(Bucket=BUCKET, Key=META, Body=json.dumps(meta).encode(), IfMatch=stored["ETag"])

    def stop(self):
        stop_process(self.process, self.log)


@pytest.fixture(scope="module")
def s3_tansu(tmp_path_factory):
    s3 = S3Server(tmp_path_factory.mktemp("s3"))
    try:
        broker = Tansu(tmp_path_factory.mktemp("tansu-s3"), storage="s3://%s/" % BUCKET, env=s3.env)
    except BaseException:
        s3.stop()
        raise
    yield s3, broker
    broker.stop()
    s3.stop()


def produce(broker, topic, partition, event):
    subprocess.run(["kcat", "-P", "-b", broker.address, "-t", topic, "-p", str(partition), "-k", event["user_id"]],
                   input=(json.dumps(event) + "\n").encode(), check=True, capture_output=True, timeout=30)


def listed_partitions(broker, topic):
    listing = subprocess.run(["kcat", "-L", "-b", broker.address, "-t", topic], capture_output=True, text=True,
                             timeout=30, check=True).stdout
    return sum(1 for line in listing.splitlines() if line.strip().startswith("partition "))


def events_of(server, user_id):
    return server.get("/api/events", params={"user_id": user_id}).json()["events"]


def test_new_partitions_are_consumed_from_their_start(s3_tansu, start_server):
    s3, broker = s3_tansu
    topic = "growing-" + uuid.uuid4().hex[:6]
    broker.create_topic(topic, partitions=2)
    server = start_server("--brokers", broker.address, "--topic", topic, "--no-simulate")
    assert wait_until(lambda: server.get("/readyz").status_code == 200, timeout=30)
    assert server.get("/api/status").json()["kafka"]["partitions"] == 2
    before = canonical_event()
    produce(broker, topic, 1, before)
    assert wait_until(lambda: events_of(server, before["user_id"]), timeout=30), "the original partitions are not consumed"

    # Grow the topic while the server is frozen, and put a record in each new partition before it
    # can look: it must find them by reading the new partitions from their start, not their end.
    while_frozen = {partition: canonical_event() for partition in (2, 3)}
    server.process.send_signal(signal.SIGSTOP)
    try:
        s3.set_partition_count(topic, 4)
        # Tansu keeps meta.json cached for about 5 s before it reads it again.
        assert wait_until(lambda: listed_partitions(broker, topic) == 4, timeout=30, interval=0.5), \
            "Tansu did not take the new partition count"
        for partition, event in while_frozen.items():
            produce(broker, topic, partition, event)
    finally:
        server.process.send_signal(signal.SIGCONT)

    assert wait_until(lambda: any("%s grew to 4 partitions" % topic in line for line in server.stderr_lines),
                      timeout=30), "the growth was not noticed:\n" + "\n".join(server.stderr_lines[-20:])
    assert wait_until(lambda: server.get("/api/status").json()["kafka"]["partitions"] == 4, timeout=10)
    for partition, event in while_frozen.items():
        found = wait_until(lambda: events_of(server, event["user_id"]), timeout=30)
        assert found == [event], "the record written to new partition %d before the server looked is missing" % partition

    after = canonical_event()
    produce(broker, topic, 3, after)
    assert wait_until(lambda: events_of(server, after["user_id"]), timeout=30) == [after]
    # Four records in the topic, each consumed once: adding partitions did not rewind the old ones.
    status = server.get("/api/status").json()
    assert (status["consumed"], status["window"]["size"]) == (4, 4), status
    assert "musicstream_events_duplicate_total 0" in server.get("/metrics").text
    assert server.get("/readyz").status_code == 200
