"""`serve --from-beginning` (and MUSICSTREAM_FROM_BEGINNING): every partition is read from its oldest
kept record, not just far enough back to refill the window. The events are produced into the
embedded broker of one server before a second server, pointed at it with --brokers, starts."""
import subprocess
import time
import uuid

import pytest

from conftest import BINARY, wait_until

PRODUCED = 500
WINDOW = 100  # without the flag, the topic's newest 100 in all, shared between the 3 partitions


@pytest.fixture(scope="module")
def loaded_topic(start_server):
    topic = "from-beginning-" + uuid.uuid4().hex[:6]
    host = start_server("--no-simulate", "--topic", topic, "--partitions", "3")
    assert wait_until(lambda: host.get("/api/status").json()["kafka"]["partitions"] == 3, timeout=20)
    result = subprocess.run(
        [BINARY, "produce", "--brokers", host.bootstrap, "--topic", topic, "--count", str(PRODUCED),
         "--rate", "5000", "--seed", "9", "--quiet"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # The host consumes the whole topic (it was assigned before anything was produced).
    assert wait_until(lambda: host.get("/api/status").json()["consumed"] == PRODUCED, timeout=20)
    return host.bootstrap, topic


def reader(start_server, loaded_topic, *flags):
    brokers, topic = loaded_topic
    return start_server("--brokers", brokers, "--topic", topic, "--no-simulate", "--window", str(WINDOW), *flags)


def settled_consumed(server, expected):
    """Waits for `consumed` to reach `expected`, then checks it stays there for a moment."""
    wait_until(lambda: server.get("/api/status").json()["consumed"] >= expected, timeout=20)
    time.sleep(1.0)
    return server.get("/api/status").json()["consumed"]


def test_without_the_flag_only_the_window_is_reread(start_server, loaded_topic):
    server = reader(start_server, loaded_topic)
    consumed = settled_consumed(server, WINDOW)
    assert consumed == WINDOW
    assert server.get("/api/status").json()["window"]["size"] == WINDOW


def test_from_beginning_consumes_every_kept_event(start_server, loaded_topic):
    server = reader(start_server, loaded_topic, "--from-beginning")
    assert settled_consumed(server, PRODUCED) == PRODUCED
    assert server.get("/api/status").json()["window"]["size"] == WINDOW


def test_from_beginning_by_environment(start_server, loaded_topic, monkeypatch):
    monkeypatch.setenv("MUSICSTREAM_FROM_BEGINNING", "true")
    server = reader(start_server, loaded_topic)
    assert settled_consumed(server, PRODUCED) == PRODUCED


def test_a_bad_environment_value_is_refused(monkeypatch):
    monkeypatch.setenv("MUSICSTREAM_FROM_BEGINNING", "maybe")
    result = subprocess.run([BINARY, "serve", "--port", "0"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "MUSICSTREAM_FROM_BEGINNING" in result.stderr
