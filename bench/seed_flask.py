"""The seed's design, for comparison: a Flask app that answers every request by looping over a
Python list of events, filtering each one and counting, as the original class project's page did
(it kept its events in a list and filtered them per request). Same URLs and JSON shapes as
musicstream's /api/events and /api/facets, over the same events, which it copies from a running
musicstream server at start by paging its /api/events (or reads from a JSON file of them).

    python3 bench/seed_flask.py --source http://127.0.0.1:5000 --port 5001
    python3 bench/seed_flask.py --events events.json --port 5001

Only what the benchmark asks is implemented: the equality filters (genre, platform, mood, country),
artist as a substring, minimum rating, skipped/completed, limit, newest first.
"""
import argparse
import json
import logging
import sys
import urllib.request

from flask import Flask, Response, request

FACETS = ["genre", "platform", "mood", "country", "artist", "rating", "skipped", "completed"]
EQUALITY = ["genre", "platform", "mood", "country"]
TRUTHY = {"true", "yes", "1"}


def fetch_events(source, expected=None):
    """Pages through the server's /api/events with its cursor; returns the events, newest first."""
    events = []
    cursor = None
    while True:
        url = source + "/api/events?limit=1000" + ("&cursor=" + cursor if cursor else "")
        with urllib.request.urlopen(url, timeout=30) as response:
            page = json.load(response)
        events.extend(page["events"])
        cursor = page.get("next")
        if not cursor or not page["events"]:
            break
    if expected is not None and len(events) != expected:
        sys.exit("seed_flask: fetched %d events, expected %d" % (len(events), expected))
    return events


def read_filters(args):
    filters = {}
    for name in EQUALITY:
        values = [value.lower() for value in args.getlist(name) if value]
        if values:
            filters[name] = values
    if args.get("artist"):
        filters["artist"] = args["artist"].lower()
    if args.get("rating"):
        filters["rating"] = int(args["rating"])
    for name in ("skipped", "completed"):
        if args.get(name):
            filters[name] = args[name].lower() in TRUTHY
    return filters


def matches(event, filters, skip=None):
    """The seed's per-event test, one field after another; `skip` leaves one facet's filter out."""
    for name, wanted in filters.items():
        if name == skip:
            continue
        if name in EQUALITY:
            if event[name].lower() not in wanted:
                return False
        elif name == "artist":
            if wanted not in event["artist"].lower():
                return False
        elif name == "rating":
            if event["rating"] < wanted:
                return False
        elif event[name] != wanted:
            return False
    return True


def facet_value(event, name):
    value = event[name]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def make_app(events):
    app = Flask(__name__)

    def json_response(body):
        return Response(json.dumps(body), mimetype="application/json")

    @app.get("/api/events")
    def list_events():
        filters = read_filters(request.args)
        limit = int(request.args.get("limit") or 50)
        matching = [event for event in events if matches(event, filters)]
        matching.sort(key=lambda event: event["timestamp"], reverse=True)
        page = matching[:limit]
        return json_response({"events": page, "count": len(page), "matching": len(matching),
                              "window": len(events), "next": None})

    @app.get("/api/facets")
    def facets():
        filters = read_filters(request.args)
        result = {}
        for name in FACETS:
            counts = {}
            for event in events:
                if matches(event, filters, skip=name):
                    value = facet_value(event, name)
                    counts[value] = counts.get(value, 0) + 1
            ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            result[name] = [{"value": value, "count": count} for value, count in ordered]
        matching = sum(1 for event in events if matches(event, filters))
        return json_response({"total": len(events), "matching": matching, "facets": result})

    return app


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--source", help="base URL of a musicstream server to copy events from")
    source.add_argument("--events", help="JSON file holding a list of events")
    parser.add_argument("--expect", type=int, help="exit unless exactly this many events were copied")
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    if arguments.source:
        events = fetch_events(arguments.source, arguments.expect)
    else:
        with open(arguments.events) as file:
            events = json.load(file)
    # Per-request log lines would cost Flask more than the work measured; the reference runs without.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    print("seed_flask: %d events, listening on http://127.0.0.1:%d" % (len(events), arguments.port), flush=True)
    make_app(events).run(host="127.0.0.1", port=arguments.port, threaded=True)


if __name__ == "__main__":
    main()
