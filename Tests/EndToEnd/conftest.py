"""Fixtures that run the real musicstream binary (release build) on loopback ports."""
import os
import re
import signal
import subprocess
import threading
import time

import pytest
import requests

BINARY = os.environ.get("MUSICSTREAM_BIN", os.path.join(os.path.dirname(__file__), "../../.build/release/musicstream"))
STARTUP_TIMEOUT = 60


class RunningServer:
    """A musicstream process plus what it printed at start."""

    def __init__(self, args, cwd, port=0, binary=None, env=None):
        """`binary` defaults to BINARY (a bare name is looked up in `env`'s PATH); `env` to ours."""
        self.process = subprocess.Popen(
            [binary or BINARY, "serve", "--port", str(port), *args],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
        )
        self.stdout_lines = []
        self.stderr_lines = []
        self.base_url = None
        self.bootstrap = None
        self._ready = threading.Event()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        if not self._ready.wait(STARTUP_TIMEOUT):
            self.stop()
            raise RuntimeError("server did not start:\n" + "\n".join(self.stdout_lines + self.stderr_lines))
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url("/healthz"), timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError("/healthz never answered")

    def _read_stdout(self):
        for line in self.process.stdout:
            self.stdout_lines.append(line.rstrip("\n"))
            broker = re.search(r"kafka: \w+ broker at (\S+),", line)
            if broker:
                self.bootstrap = broker.group(1)
            listening = re.search(r"listening on (http://\S+)", line)
            if listening:
                self.base_url = listening.group(1)
                self._ready.set()

    def _read_stderr(self):
        for line in self.process.stderr:
            self.stderr_lines.append(line.rstrip("\n"))

    def url(self, path):
        return self.base_url + path

    def get(self, path, **kwargs):
        kwargs.setdefault("timeout", 10)
        return requests.get(self.url(path), **kwargs)

    def stop(self):
        """SIGTERM, as an operator would; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture(scope="module")
def start_server(tmp_path_factory):
    """Starts servers (on a free port unless `port` is given); each is stopped (and must exit 0)
    when the module's tests are done."""
    servers = []

    def start(*args, port=0):
        server = RunningServer(list(args), cwd=str(tmp_path_factory.mktemp("cwd")), port=port)
        servers.append(server)
        return server

    yield start
    stop_cleanly(servers)


def stop_cleanly(servers):
    """Stops each server; each must exit 0 (its last log lines say why not)."""
    for server in servers:
        code = server.stop()
        assert code == 0, "server exited with %s:\n%s" % (code, "\n".join(server.stderr_lines[-30:]))


def wait_until(predicate, timeout=10.0, interval=0.05):
    """Polls `predicate` until it returns a truthy value or `timeout` passes; returns the last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


def metric_value(server, name):
    """The value of an unlabelled sample in `server`'s /metrics (fails the test when it is missing)."""
    for line in server.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("no metric " + name)


class StandaloneBroker:
    """`musicstream broker` in its own process on a free port, as several servers and outside
    clients share it (it outlives any server started against it)."""

    def __init__(self):
        self.process = subprocess.Popen([BINARY, "broker", "--port", "0"], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("bootstrap: "), line
        self.address = line.split()[1]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=15) == 0

    def topic(self, name="music-streams"):
        """Every record of the topic: (partition, offset, value)."""
        out = subprocess.run(["kcat", "-C", "-b", self.address, "-t", name, "-o", "beginning", "-e", "-q",
                              "-f", "%p %o %s\n"], capture_output=True, text=True, timeout=60, check=True).stdout
        return [(int(p), int(o), value) for p, o, value in (line.split(" ", 2) for line in out.splitlines() if line)]

