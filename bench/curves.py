"""`bench/run --curves`: how the figures of the table move with scale, measured and drawn.

Where the table asks "does it pass at this size", the curves show the shape around it: ingest
rate, memory and faceting cost against the window's size, SSE latency, CPU and memory against
the number of subscribers, and the history's query latencies against the listens stored. Each is
measured with the harness's own pieces (bench/harness.py), written to bench/curves/curves.json
and drawn with matplotlib into bench/curves/*.png. See bench/README.md, "Curves".

    python3 bench/curves.py --draw bench/curves/curves.json    # redraw the charts from the JSON
"""
import argparse
import datetime
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import harness as h

CURVES = ["window", "sse", "memory", "history"]
# The charts each curve draws, for the summary printed at the end.
CHARTS = {
    "window": ["ingest_vs_window.png", "facets_vs_window.png", "rss_vs_window.png"],
    "sse": ["sse_vs_subscribers.png"],
    "memory": ["rss_vs_subscribers.png"],
    "history": ["history_vs_rows.png"],
}
FACETS_FILTERS = [("genre", "Pop"), ("platform", "Spotify")]
FACETS_PATH = "/api/facets?" + "&".join("%s=%s" % item for item in FACETS_FILTERS)
# The server keeps finished read responses while the window does not move (ResponseCache: at
# most 256 entries, keyed by the raw query). On the static topic every repeat of FACETS_PATH is a
# hit, so the curve measures both: the cached answer, and the faceting itself, asked with a
# different spelling each time (letter case: the server compares filter values case-
# insensitively) after as many other answers as CACHE_FILLERS have filled the cache, so that
# none of those spellings is kept. /metrics' hit and miss counters show which each was.
CACHE_FILLERS = 1024
# The latency probe: one keep-alive connection, one request at a time, until either bound.
PROBE_REQUESTS = 1000
PROBE_SECONDS = 10


def add_arguments(parser):
    parser.add_argument("--curves", nargs="?", const=",".join(CURVES), metavar="LIST",
                        help="measure and draw the curves instead of the table: all, or some of " + ",".join(CURVES))
    parser.add_argument("--curve-windows", default="10000,100000,1000000",
                        help="window sizes of the window curves, comma-separated (default 10000,100000,1000000)")
    parser.add_argument("--curve-subscribers", default="1000,2500,5000,10000",
                        help="subscriber counts of the SSE and memory curves (default 1000,2500,5000,10000)")
    parser.add_argument("--curve-history-rows",
                        help="stored listens of the history curve (default 1000000,10000000; quick 1000000,2000000)")
    parser.add_argument("--curves-dir", default=os.path.join(h.BENCH, "curves"),
                        help="where curves.json and the PNGs go (default bench/curves)")


def parse_arguments(parser, args):
    """Checks and expands the curve options in place; returns the curves asked for."""
    asked = [name.strip() for name in args.curves.split(",")] if args.curves != "all" else list(CURVES)
    unknown = set(asked) - set(CURVES)
    if unknown:
        parser.error("unknown curves: " + ", ".join(sorted(unknown)))
    if args.only:
        parser.error("--curves and --only do not combine (--curves takes a list of curves itself)")

    def counts(text, least, what):
        try:
            values = sorted({int(value) for value in text.split(",")})
        except ValueError:
            parser.error("%s: comma-separated whole numbers, not %r" % (what, text))
        if not values or values[0] < least:
            parser.error("%s: each at least %d" % (what, least))
        return values
    args.curve_windows = counts(args.curve_windows, 1, "--curve-windows")
    if args.curve_windows[-1] > h.INGEST_EVENTS:
        parser.error("--curve-windows: at most %d (the topic's events)" % h.INGEST_EVENTS)
    args.curve_subscribers = counts(args.curve_subscribers, 1, "--curve-subscribers")
    args.curve_history_rows = counts(args.curve_history_rows or ("1000000,2000000" if args.quick else
                                                                 "1000000,10000000"), 10_000, "--curve-history-rows")
    return asked


# ---------------------------------------------------------------------------------------------
# Measurements


def spellings(filters):
    """Every spelling of `filters` (name, value pairs) that differs only in the letter case of
    the values: 2 ** letters of them (1,024 for Pop and Spotify), the one as given first."""
    letters = [index for index, character in enumerate("".join(value for _, value in filters))
               if character.isalpha()]
    paths = []
    for mask in range(2 ** len(letters)):
        text = list("".join(value for _, value in filters))
        for bit, index in enumerate(letters):
            if mask >> bit & 1:
                text[index] = text[index].swapcase()
        values, start = [], 0
        for _, value in filters:
            values.append("".join(text[start:start + len(value)]))
            start += len(value)
        paths.append("/api/facets?" + "&".join("%s=%s" % (name, value)
                                               for (name, _), value in zip(filters, values)))
    return paths


def cache_counters(server):
    """(hits, misses) of the server's response cache, from /metrics."""
    code, body = h.http_get(server.url + "/metrics", timeout=10)
    if code != 200:
        raise RuntimeError("GET /metrics answered %s" % code)
    figures = {}
    for line in body.decode().splitlines():
        for name in ("hits", "misses"):
            if line.startswith("musicstream_response_cache_%s_total " % name):
                figures[name] = float(line.split()[1])
    return figures.get("hits", 0.0), figures.get("misses", 0.0)


def fill_cache(server, count=CACHE_FILLERS):
    """`count` distinct cheap answers (a page of one event of a genre no event has), so that the
    response cache is full and keeps nothing asked after them while the window stays as it is."""
    client = h.KeepAlive(server.port)
    try:
        for index in range(count):
            status, _, _ = client.get("/api/events?genre=bench-fill-%d&limit=1" % index)
            if status != 200:
                raise RuntimeError("a cache filler answered %s" % status)
    finally:
        client.close()


def probe_latency(server, paths, requests=PROBE_REQUESTS, seconds=PROBE_SECONDS):
    """Latency with nothing else asking: one keep-alive connection, one request at a time, each
    timed from sending it to holding the whole body, after one that is not counted; `requests`
    of them or as many as fit in `seconds` (at least 20), cycling through `paths`. Every answer
    must count the same events as the first."""
    client = h.KeepAlive(server.port)
    samples = []
    try:
        status, body, _ = client.get(paths[0])
        if status != 200:
            raise RuntimeError("GET %s answered %s" % (paths[0], status))
        answer = json.loads(body)
        ends = time.monotonic() + seconds
        while len(samples) < requests and (len(samples) < 20 or time.monotonic() < ends):
            path = paths[(len(samples) + 1) % len(paths)]
            status, body, elapsed = client.get(path)
            if status != 200:
                raise RuntimeError("GET %s answered %s" % (path, status))
            samples.append(elapsed * 1000)
            again = json.loads(body)
            if (again.get("total"), again.get("matching")) != (answer.get("total"), answer.get("matching")):
                raise RuntimeError("GET %s counted %s of %s, not %s of %s as %s" % (
                    path, again.get("matching"), again.get("total"), answer.get("matching"), answer.get("total"),
                    paths[0]))
    finally:
        client.close()
    return {**h.summarize_samples(samples, 0), "total": answer.get("total"), "matching": answer.get("matching")}


def wrk_paths(server, paths, seconds, workdir):
    """wrk as h.wrk (1 thread, 32 connections) cycling through `paths` with a Lua request hook;
    a 10 s timeout, since 32 computed 1M-window answers queued take seconds."""
    script = os.path.join(workdir, "paths.lua")
    with open(script, "w") as file:
        file.write("local paths = {%s}\nlocal index = 0\nrequest = function()\n"
                   "  index = index %% #paths + 1\n  return wrk.format(\"GET\", paths[index])\nend\n"
                   % ", ".join(json.dumps(path) for path in paths))
    return h.wrk(server.url + paths[0], seconds, timeout="10s", script=script)


def measure_facets(server, args, workdir):
    """The filtered facets on a full, static window: answered from the response cache (the
    same path again and again) and computed (a new spelling each time, the cache full of
    others). Each: latency alone (probe_latency) and requests/s under wrk, with the share of
    cache hits over it."""
    figures = {}
    every = spellings(FACETS_FILTERS)
    for mode in ("cached", "computed"):
        if mode == "computed":
            fill_cache(server)
        # FACETS_PATH itself is in the cache by now: the computed ones use the other spellings.
        paths = [FACETS_PATH] if mode == "cached" else every[1:]
        before = cache_counters(server)
        latency = probe_latency(server, paths)
        middle = cache_counters(server)
        wrk_paths(server, paths, 1, workdir)  # warm-up, not counted
        warmed = cache_counters(server)
        rate, errors = wrk_paths(server, paths, args.wrk_seconds, workdir)
        after = cache_counters(server)

        def hit_share(start, end):
            hits, misses = end[0] - start[0], end[1] - start[1]
            return hits / (hits + misses) if hits + misses else None
        figures[mode] = {"latency": latency, "rate": rate, "wrk_errors": errors,
                         "latency_hit_share": hit_share(before, middle), "wrk_hit_share": hit_share(warmed, after)}
        expected = 1.0 if mode == "cached" else 0.0
        for key in ("latency_hit_share", "wrk_hit_share"):
            share = figures[mode][key]
            if share is not None and abs(share - expected) > 0.01:
                h.log("curves: warning: %s facets: %.1f %% of the requests (%s) were cache hits" % (
                    mode, 100 * share, key.split("_")[0]))
    return figures


def kcat_rate(tansu, topic):
    started = time.monotonic()
    with open(os.devnull, "wb") as nowhere:
        subprocess.run(["kcat", "-C", "-b", tansu.address, "-t", topic, "-o", "beginning", "-e", "-q"],
                       stdout=nowhere, check=True, timeout=600)
    return h.INGEST_EVENTS / (time.monotonic() - started)


def curve_window(context, out):
    """Per run and window size: a server (no history) reads the 1M-event topic from the beginning
    into a window of that size (ingest events/s), RSS 5 s after, then the filtered facets'
    latency alone and their requests/s under wrk."""
    processes, args = context["processes"], context["args"]
    tansu, topic, _ = h.ingest_topic(context)
    data = out["window"] = {"events": h.INGEST_EVENTS, "sizes": args.curve_windows, "path": FACETS_PATH,
                            "settle_seconds": h.MEMORY_SETTLE_SECONDS, "wrk_seconds": args.wrk_seconds,
                            "kcat_rates": [], "runs": []}
    # Tansu's first read of a fresh topic is slower than the later ones: one uncounted.
    kcat_rate(tansu, topic)
    for run in range(args.runs):
        data["kcat_rates"].append(kcat_rate(tansu, topic))
        for size in args.curve_windows:
            server = h.Server(processes, "curve-window-%d" % size, [
                "--history", "none", "--brokers", tansu.address, "--topic", topic, "--no-simulate",
                "--from-beginning", "--window", str(size)])
            server.wait_healthy()
            reached, status = h.wait_counts(server, {"consumed": h.INGEST_EVENTS, "window.size": size}, 900)
            if status["rejected"]:
                raise RuntimeError("curves: %d events rejected" % status["rejected"])
            time.sleep(h.MEMORY_SETTLE_SECONDS)
            point = {"run": run + 1, "window": size, "ingest_seconds": reached["consumed"],
                     "ingest_rate": h.INGEST_EVENTS / reached["consumed"],
                     "rss_mb": h.rss_megabytes(server.process.pid),
                     "peak_mb": h.rss_megabytes(server.process.pid, "VmHWM")}
            point.update(measure_facets(server, args, context["workdir"]))
            server.stop()
            data["runs"].append(point)
            h.log("curves: window %d run %d: ingest %.0f events/s, RSS %.1f MB; facets %s" % (
                size, run + 1, point["ingest_rate"], point["rss_mb"], "; ".join(
                    "%s p50 %.2f ms p99 %.2f ms (%d samples), %.0f req/s" % (
                        mode, point[mode]["latency"]["p50_ms"], point[mode]["latency"]["p99_ms"],
                        point[mode]["latency"]["samples"], point[mode]["rate"]) for mode in ("cached", "computed"))))
            data["kcat_median"] = h.median(data["kcat_rates"])
            figures = {"ingest_rate": lambda p: p["ingest_rate"], "rss_mb": lambda p: p["rss_mb"]}
            for mode in ("cached", "computed"):
                figures.update({
                    mode + "_p50_ms": lambda p, mode=mode: p[mode]["latency"]["p50_ms"],
                    mode + "_p99_ms": lambda p, mode=mode: p[mode]["latency"]["p99_ms"],
                    mode + "_rate": lambda p, mode=mode: p[mode]["rate"]})
            data["points"] = summarise(data["runs"], "window", figures)
            save(context, out)
    h.release_tansu(context)


def curve_sse(context, out):
    """One server at 20 events/s; per run, each subscriber count in turn for --sse-seconds: p50
    and p99 latency, the server's CPU."""
    processes, args, workdir = context["processes"], context["args"], context["workdir"]
    h.check_file_limit(args.curve_subscribers[-1])
    client = h.compile_fanout(workdir)
    data = out["sse"] = {"rate": h.SSE_RATE, "subscribers": args.curve_subscribers, "seconds": args.sse_seconds,
                         "runs": []}
    server = h.Server(processes, "curve-sse-server", ["--rate", str(h.SSE_RATE), "--seed", str(args.seed),
                                                      *h.sse_server_args(args.curve_subscribers[-1])])
    server.wait_healthy()
    time.sleep(h.SSE_WARMUP_SECONDS)
    for run in range(args.runs):
        for count in args.curve_subscribers:
            h.wait_no_subscribers(server, "curves")
            summary = h.sse_fanout_run(processes, client, server, count, args.sse_seconds)
            data["runs"].append({"run": run + 1, "subscribers": count, **summary})
            h.log("curves: %d subscribers run %d: p50 %.1f ms, p99 %.1f ms, dropped %d, failed %d, server CPU %.0f%%, "
                  "client CPU %.0f%%" % (count, run + 1, summary["p50_ms"], summary["p99_ms"], summary["dropped"],
                                         summary["failed"], summary["server_cpu_percent"],
                                         summary["client_cpu_percent"]))
            measured = [r for r in data["runs"] if r["samples"]]
            data["points"] = summarise(measured, "subscribers", {
                "p50_ms": lambda r: r["p50_ms"], "p99_ms": lambda r: r["p99_ms"],
                "cpu_percent": lambda r: r["server_cpu_percent"], "client_cpu_percent": lambda r: r["client_cpu_percent"]})
            for point in data["points"]:
                point["dropped_total"] = sum(r["dropped"] + r["failed"] for r in data["runs"]
                                             if r["subscribers"] == point["subscribers"])
            save(context, out)
    server.stop()


def curve_memory(context, out):
    """Per run and subscriber count: a fresh server with no events, its RSS alone and with that
    many idle subscribers (h.idle_subscriber_memory)."""
    args = context["args"]
    h.check_file_limit(args.curve_subscribers[-1])
    client = h.compile_fanout(context["workdir"])
    data = out["memory"] = {"subscribers": args.curve_subscribers, "settle_seconds": h.SSE_IDLE_SETTLE_SECONDS,
                            "runs": []}
    for run in range(args.runs):
        for count in args.curve_subscribers:
            figures = h.idle_subscriber_memory(context, client, count)
            data["runs"].append({"run": run + 1, **figures})
            h.log("curves: %d idle subscribers run %d: RSS %.1f MB -> %.1f MB, %.1f KB each (streaming %s, "
                  "dropped %d, failed %d)" % (count, run + 1, figures["idle_rss_mb"], figures["subscribed_rss_mb"],
                                              figures["kb_per_subscriber"], figures["sse_clients"],
                                              figures["dropped"], figures["failed"]))
            points = [{"subscribers": 0, "rss_mb": h.median([r["idle_rss_mb"] for r in data["runs"]])}]
            points += summarise(data["runs"], "connections", {
                "rss_mb": lambda r: r["subscribed_rss_mb"], "kb_per_subscriber": lambda r: r["kb_per_subscriber"]})
            for point in points[1:]:
                point["subscribers"] = point.pop("connections")
                point["incomplete"] = sum(r["dropped"] + r["failed"] + (r["sse_clients"] != r["connections"])
                                          for r in data["runs"] if r["connections"] == point["subscribers"])
            data["points"] = points
            save(context, out)


def curve_history(context, out):
    """Per row count: a Tansu of its own holding that many listens spread over 24 h, a server
    storing them in a fresh SQLite data dir, and the history section's queries over HTTP."""
    processes, args, workdir = context["processes"], context["args"], context["workdir"]
    data = out["history"] = {"rows": args.curve_history_rows, "user_rounds": args.history_user_rounds,
                             "query_reps": args.history_query_reps,
                             "queries": [[key, label, target] for key, label, target in h.HISTORY_QUERIES],
                             "points": []}
    for rows in args.curve_history_rows:
        tansu = h.Tansu(processes, workdir)
        data_dir = tempfile.mkdtemp(prefix="curve-sqlite-", dir=workdir)
        try:
            topic = "bench-curve-history-%d" % rows
            tansu.create_topic(topic)
            h.log("curves: producing %d events spread over 24 h" % rows)
            point = {"rows": rows, "produce_seconds": tansu.produce(topic, rows, args.seed, spread="24h")}
            server = h.start_history_server(processes, "curve-history-%d" % rows, ["sqlite", "--data-dir", data_dir],
                                            ["--brokers", tansu.address, "--topic", topic, "--no-simulate",
                                             "--window", "10000"])
            reached, _ = h.wait_counts(server, {"history.stored": rows}, 600 + rows / 1000)
            point.update(load_seconds=reached["history.stored"], load_rate=rows / reached["history.stored"])
            h.log("curves: SQLite stored %d listens in %.0f s; querying" % (rows, point["load_seconds"]))
            since = int(time.time() * 1000) - h.DAY_MS
            users = h.history_users(server, since)
            point.update(users=len(users), since=since)
            point.update(h.time_server_queries(server, users, since, args,
                                               settle=lambda: h.wait_server_idle(server)))
            server.stop()
            point["disk_bytes"] = h.directory_bytes(data_dir)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
            tansu.stop()
        data["points"].append(point)
        h.log("curves: history %d listens: %s" % (rows, ", ".join(
            "%s p50 %.2f ms p99 %.2f ms" % (key, point[key]["p50_ms"], point[key]["p99_ms"])
            for key, _, _ in h.HISTORY_QUERIES)))
        save(context, out)


def summarise(runs, key, figures):
    """One point per value of `key` (in the order first seen): the median over the runs of each
    figure, a callable of a run's entry."""
    points = []
    for value in dict.fromkeys(r[key] for r in runs):
        mine = [r for r in runs if r[key] == value]
        points.append({key: value, "runs": len(mine),
                       **{name: h.median([figure(r) for r in mine]) for name, figure in figures.items()}})
    return points


def save(context, out):
    """curves.json as measured so far, so that a failure keeps what came before it."""
    directory = context["args"].curves_dir
    os.makedirs(directory, exist_ok=True)
    out["seconds"] = round(time.monotonic() - context["curves_started"], 1)
    with open(os.path.join(directory, "curves.json"), "w") as file:
        json.dump(out, file, indent=2)


def run(context, asked):
    """Measures the curves asked for, saving the JSON after every point; then draws them all.
    Returns the error that stopped it, or None."""
    args = context["args"]
    context["curves_started"] = time.monotonic()
    out = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "commit": h.commit(), "machine": h.machine(), "quick": args.quick, "runs": args.runs,
           "curves": asked, "curve_seconds": {}, "error": None}
    failed = None
    try:
        for name, measure in (("window", curve_window), ("sse", curve_sse), ("memory", curve_memory),
                              ("history", curve_history)):
            if name in asked:
                h.log("== curve %s" % name)
                started = time.monotonic()
                measure(context, out)
                out["curve_seconds"][name] = round(time.monotonic() - started, 1)
                h.log("curves: %s took %.0f s" % (name, out["curve_seconds"][name]))
    except KeyboardInterrupt:
        raise
    except Exception as error:  # draw what was measured before the failure, then fail
        failed = "%s: %s" % (type(error).__name__, error)
        out["error"] = failed
    finally:
        context["processes"].stop_all()
        out["machine"]["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
        save(context, out)
    drawn = draw(out, args.curves_dir)
    print()
    for name in asked:
        print("curve %-8s %s" % (name, "%.0f s" % out["curve_seconds"][name] if name in out["curve_seconds"]
                                 else "not finished"))
    print("figures: %s" % os.path.relpath(os.path.join(args.curves_dir, "curves.json"), os.getcwd()))
    for path in drawn:
        print("chart:   %s" % os.path.relpath(path, os.getcwd()))
    return failed


# ---------------------------------------------------------------------------------------------
# Charts


def draw(out, directory):
    """Every chart whose figures `out` holds, as PNGs in `directory`; returns their paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    plt.rcParams.update({"figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3, "font.size": 9})
    os.makedirs(directory, exist_ok=True)
    drawn = []
    stamp = "%s, %s CPUs, %d run%s per point (median)%s" % (
        out.get("date", "?")[:10], out.get("machine", {}).get("cpus", "?"), out.get("runs", 1),
        "" if out.get("runs") == 1 else "s", ", quick" if out.get("quick") else "")
    count_axis = FuncFormatter(lambda value, _: h.count_label(int(value)) if value >= 1000 else "%d" % value)
    thousands = FuncFormatter(lambda value, _: "{:,.0f}".format(value))
    plain = FuncFormatter(lambda value, _: "%g" % value)

    def finish(figure, name, title):
        figure.suptitle(title, fontsize=11)
        figure.text(0.99, 0.005, stamp, ha="right", va="bottom", fontsize=7, color="gray")
        figure.tight_layout(rect=(0, 0.02, 1, 1))
        path = os.path.join(directory, name)
        figure.savefig(path)
        plt.close(figure)
        drawn.append(path)

    def label_points(axes, xs, ys, text, below=False):
        for x, y in zip(xs, ys):
            if y is not None:
                axes.annotate(text(y), (x, y), textcoords="offset points", xytext=(0, -12 if below else 6),
                              ha="center", fontsize=7)

    def log_values(axes):
        """A log y axis labelled in plain numbers (3, 10, 30), its minor ticks too while it spans
        few decades."""
        axes.set_yscale("log")
        axes.margins(y=0.12)
        axes.yaxis.set_major_formatter(plain)

        def minor(value, _):
            low, high = axes.get_ylim()
            mantissa = round(value / 10 ** math.floor(math.log10(value)), 6)
            return "%g" % value if math.log10(high / low) < 1.5 and mantissa in (2, 3, 5) else ""
        axes.yaxis.set_minor_formatter(FuncFormatter(minor))

    def count_ticks(axes, xs):
        axes.set_xticks(xs)
        axes.xaxis.set_major_formatter(thousands)

    def log_counts(axes, xs):
        axes.set_xscale("log")
        axes.margins(x=0.08)
        axes.set_xticks(xs)
        axes.xaxis.set_major_formatter(count_axis)
        axes.xaxis.set_minor_formatter(FuncFormatter(lambda *_: ""))

    window = out.get("window") or {}
    points = window.get("points") or []
    if points:
        xs = [p["window"] for p in points]
        events = h.count_label(window["events"])
        figure, axes = plt.subplots(figsize=(7, 4.5))
        ys = [p["ingest_rate"] for p in points]
        axes.plot(xs, ys, "o-", label="musicstream serve --history none")
        label_points(axes, xs, ys, lambda y: "{:,.0f}".format(y))
        if window.get("kcat_median"):
            axes.axhline(window["kcat_median"], color="gray", linestyle="--",
                         label="kcat to /dev/null (%s/s)" % "{:,.0f}".format(window["kcat_median"]))
        log_counts(axes, xs)
        axes.set_ylim(bottom=0)
        axes.yaxis.set_major_formatter(thousands)
        axes.set_xlabel("window size (events, log scale)")
        axes.set_ylabel("ingest rate (events/s)")
        axes.legend(loc="lower left")
        finish(figure, "ingest_vs_window.png",
               "Ingest: %s events from Tansu, read from the beginning, against the window's size" % events)

        figure, (left, right) = plt.subplots(1, 2, figsize=(11, 5))
        for mode, color in (("computed", "tab:blue"), ("cached", "tab:gray")):
            for quantile, style in (("p50", "o-"), ("p99", "s--")):
                ys = [p[mode + "_" + quantile + "_ms"] for p in points]
                left.plot(xs, ys, style, color=color, label="%s %s" % (mode, quantile))
                label_points(left, xs, ys, lambda y: "%.3g" % y, below=quantile == "p50")
        log_counts(left, xs)
        log_values(left)
        left.set_xlabel("window size (events, log scale)")
        left.set_ylabel("latency (ms, log scale)")
        left.set_title("one request at a time, one keep-alive connection")
        left.legend(fontsize=7)
        for mode, color in (("computed", "tab:blue"), ("cached", "tab:gray")):
            ys = [p[mode + "_rate"] for p in points]
            right.plot(xs, ys, "o-", color=color, label=mode)
            label_points(right, xs, ys, lambda y: "{:,.0f}".format(y))
        log_counts(right, xs)
        # Computed and cached answers differ by decades at a large window: log scale.
        log_values(right)
        right.yaxis.set_major_formatter(thousands)
        right.legend(fontsize=7)
        right.set_xlabel("window size (events, log scale)")
        right.set_ylabel("throughput (requests/s, log scale)")
        right.set_title("wrk, 1 thread, 32 connections, %d s" % window.get("wrk_seconds", 10))
        finish(figure, "facets_vs_window.png", "Filtered facets %s against the window's size\n"
               "computed: a new spelling each time, the response cache full; cached: the same request again"
               % window["path"])

        figure, axes = plt.subplots(figsize=(7, 4.5))
        ys = [p["rss_mb"] for p in points]
        axes.plot(xs, ys, "o-", color="tab:purple")
        label_points(axes, xs, ys, lambda y: "%.0f MB" % y)
        log_counts(axes, xs)
        axes.set_ylim(bottom=0)
        axes.set_xlabel("window size (events, log scale)")
        axes.set_ylabel("resident memory, VmRSS (MB)")
        finish(figure, "rss_vs_window.png",
               "Server memory with a full window (--history none, %d s after filling)" % window["settle_seconds"])

    sse = out.get("sse") or {}
    points = sse.get("points") or []
    if points:
        xs = [p["subscribers"] for p in points]
        figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
        for quantile, style in (("p50", "o-"), ("p99", "s--")):
            ys = [p[quantile + "_ms"] for p in points]
            left.plot(xs, ys, style, label=quantile)
            label_points(left, xs, ys, lambda y: "%.0f" % y, below=quantile == "p50")
        left.axhline(250, color="tab:red", linestyle=":", label="p99 target (250 ms)")
        left.set_ylim(bottom=0)
        left.set_xlabel("subscribers")
        left.set_ylabel("produce -> receive latency (ms)")
        count_ticks(left, xs)
        left.legend()
        ys = [p["cpu_percent"] for p in points]
        right.plot(xs, ys, "o-", color="tab:orange", label="server")
        label_points(right, xs, ys, lambda y: "%.0f%%" % y)
        right.plot(xs, [p["client_cpu_percent"] for p in points], "x:", color="gray", label="load client (sse_fanout)")
        right.set_ylim(bottom=0)
        right.set_xlabel("subscribers")
        right.set_ylabel("CPU (% of one core)")
        count_ticks(right, xs)
        right.legend()
        finish(figure, "sse_vs_subscribers.png",
               "SSE fan-out at %d events/s against subscribers (%d s measurements)" % (sse["rate"], sse["seconds"]))

    memory = out.get("memory") or {}
    points = memory.get("points") or []
    if len(points) > 1:
        xs = [p["subscribers"] for p in points]
        ys = [p["rss_mb"] for p in points]
        figure, axes = plt.subplots(figsize=(7, 4.5))
        axes.plot(xs, ys, "o-", color="tab:purple")
        for point in points:
            text = "%.0f MB" % point["rss_mb"] + ("\n%.1f KB/sub" % point["kb_per_subscriber"]
                                                  if point.get("kb_per_subscriber") is not None else "")
            axes.annotate(text, (point["subscribers"], point["rss_mb"]), textcoords="offset points", xytext=(0, 6),
                          ha="center", fontsize=7)
        axes.set_ylim(bottom=0, top=max(ys) * 1.25)
        axes.set_xlabel("idle subscribers (/stream, no events flowing)")
        axes.set_ylabel("resident memory, VmRSS (MB)")
        count_ticks(axes, xs)
        finish(figure, "rss_vs_subscribers.png",
               "Server memory against idle SSE subscribers (--rate 0, %d s after the last arrived)"
               % memory["settle_seconds"])

    history = out.get("history") or {}
    points = history.get("points") or []
    if points:
        xs = [p["rows"] for p in points]
        figure, grid = plt.subplots(2, 2, figsize=(10, 7.5))
        for axes, (key, label, target) in zip(grid.flat, history["queries"]):
            for quantile, style in (("p50", "o-"), ("p99", "s--")):
                ys = [(p.get(key) or {}).get(quantile + "_ms") for p in points]
                axes.plot(xs, ys, style, label=quantile)
                label_points(axes, xs, ys, lambda y: "%.3g" % y, below=quantile == "p50")
            axes.axhline(target, color="tab:red", linestyle=":", label="p99 target (%d ms)" % target)
            log_counts(axes, xs)
            log_values(axes)
            axes.set_title(label)
            axes.set_xlabel("stored listens (log scale)")
            axes.set_ylabel("latency (ms, log scale)")
            axes.legend(fontsize=7)
        finish(figure, "history_vs_rows.png",
               "History queries (SQLite, over HTTP, one at a time) against stored listens, spread over 24 h")
    return drawn


def main():
    parser = argparse.ArgumentParser(description="redraw the curves' charts from their JSON")
    parser.add_argument("--draw", required=True, metavar="JSON", help="a curves.json written by bench/run --curves")
    parser.add_argument("--output", help="directory of the PNGs (default: the JSON's)")
    args = parser.parse_args()
    with open(args.draw) as file:
        out = json.load(file)
    for path in draw(out, args.output or os.path.dirname(os.path.abspath(args.draw))):
        print(path)


if __name__ == "__main__":
    main()
