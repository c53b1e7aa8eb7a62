"""Schemathesis hooks for the contract run (loaded through SCHEMATHESIS_HOOKS).

The contract has five rules that JSON Schema cannot state, so a schema-valid request can still
be refused for them; each is tolerated only for a 400 problem that names exactly that rule's
parameter or field, on a request that really breaks the rule:

- `cursor` on GET /api/events and GET /api/users/{user_id}/listens is opaque: a generated value
  is never one the server issued. So is a /stream id to resume from (`last_event_id`, or the
  `Last-Event-ID` header, both refused naming `last_event_id`).
- `until` must be greater than `since` (400 on `until`).
- `listen_position` must not exceed `duration` in POST /api/events (400 on `listen_position`).
- a range reaching before the window (since or until given) is answered from the history,
  where GET /api/events sorts only by timestamp (400 on `sort_by` for another sort), and
- where GET /api/timeline refuses a series of more than 3600 buckets (400 on `bucket`); whether
  a range reaches before the window depends on the server's state, so any request with since
  or until may meet these two.

A method libevent does not recognise at all (e.g. QUERY) is answered 501 by libevent itself,
as RFC 9110 prescribes for unrecognised methods; those 501s are tolerated too.

A `true`/`-1.9`/`null` that negative testing puts into a string filter is text on the wire,
hence a valid value, and so are the keys of an object there (they are what is sent); a value
that goes out empty is valid too (an empty value counts as absent), and more than 50 values of a
repeatable filter are fine when the extra ones are empty. Such "accepted invalid data" reports
are dropped when the values actually sent fit the contract.

Every other failure is kept.

/stream never ends; schemathesis reads each answer until its first event or a short timeout
(schemathesis.toml) and validates that event against the operation's `itemSchema`. Generated
cases mostly resume from the example id (answered with `event: reset` at once) or filter out
every live listen (silent until the timeout), so `before_add_examples` adds explicit cases whose
events flow at once: live listens under broad filters, and `stats` for a filter nothing matches;
`before_call` gives cases with `stats=true` time for the once-a-second frame. The `after_call`
hook tallies the event types of the /stream answers into the file named by
MUSICSTREAM_STREAM_TALLY: the test checks from it that events of every type were read, and so
validated, not only empty streams.

One fix for the tool itself: CPython 3.11's `ast.parse` is not safe to call from two threads at
once ("SystemError: AST constructor recursion depth mismatch"), and Hypothesis parses source to
describe filter lambdas while the two workers build their first cases, so the run died with that
error now and then. Loading these hooks serialises `ast.parse` for the run's process.
"""
import ast
import json
import os
import re
import threading
from urllib.parse import parse_qsl, urlsplit

import schemathesis

_ast_parse = ast.parse
_ast_parse_lock = threading.Lock()


def _serialised_ast_parse(*args, **kwargs):
    with _ast_parse_lock:
        return _ast_parse(*args, **kwargs)


ast.parse = _serialised_ast_parse


def _problem(response):
    if response is None or response.status_code != 400:
        return None
    try:
        body = json.loads(response.content)
    except (ValueError, TypeError):
        return None
    return body if isinstance(body, dict) else None


def _int(value):
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


CURSOR_PATHS = ("/api/events", "/api/users/{user_id}/listens")


def _explained_by_an_unstatable_rule(case, response):
    problem = _problem(response)
    if problem is None:
        return False
    query = case.query or {}
    parameter = problem.get("parameter")
    if parameter == "cursor" and case.method.upper() == "GET" and case.path in CURSOR_PATHS:
        # The server trims only spaces and tabs (EventQuery); Python's strip() would also eat
        # control characters such as \x1d, which the server rightly treats as a (bad) cursor.
        return str(query.get("cursor", "")).strip(" \t") != ""
    if parameter == "last_event_id" and case.method.upper() == "GET" and case.path == "/stream":
        headers = {name.lower(): value for name, value in (case.headers or {}).items()}
        sent = [str(query.get("last_event_id", "")), str(headers.get("last-event-id", ""))]
        return any(value.strip(" \t") != "" for value in sent)
    if parameter == "until":
        since, until = _int(query.get("since")), _int(query.get("until"))
        return since is not None and until is not None and since >= until
    ranged = any(str(query.get(name, "")).strip(" \t") != "" for name in ("since", "until"))
    if parameter == "sort_by" and case.method.upper() == "GET" and case.path == "/api/events" and ranged:
        return str(query.get("sort_by", "")).strip(" \t").lower() not in ("", "timestamp")
    if parameter == "bucket" and case.method.upper() == "GET" and case.path == "/api/timeline" and ranged:
        return "3600" in str(problem.get("detail", ""))
    if problem.get("field") == "listen_position" and case.method.upper() == "POST":
        body = case.body if isinstance(case.body, dict) else {}
        position, duration = body.get("listen_position"), body.get("duration")
        # JSON Schema's integer admits whole floats (399.0), and so does the server.
        numbers = (int, float)
        return (isinstance(position, numbers) and isinstance(duration, numbers)
                and not isinstance(position, bool) and not isinstance(duration, bool)
                and position > duration)
    return False


# Methods libevent 2.1's HTTP parser recognises; every one of them reaches the router, which
# answers 405 with Allow for the ones a path does not support.
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH"}


def _unrecognised_method(case, response):
    """RFC 9110 §15.6.2: 501 is the right answer to a method the server does not recognise at
    all (e.g. QUERY); 405 is for a recognised one the resource does not allow. libevent answers
    unrecognised methods with 501 before any application code runs."""
    return (response is not None and response.status_code == 501
            and case.method.upper() not in KNOWN_METHODS)


REPEATABLE_FILTERS = ("genre", "platform", "mood", "country")
# String filters that take one value; the server refuses them repeated, even when empty.
SINGLE_TEXT_FILTERS = ("artist", "q", "user_id", "track_id")


def _sent_values(response, name):
    """The values of query parameter `name` in the request as it went out, or None."""
    url = getattr(getattr(response, "request", None), "url", None)
    if not url:
        return None
    return [value for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True) if key == name]


def _query_parameters_named(text):
    """The query parameters a failure message names ("parameter `a` in query" or
    "parameters `a`, `b` in query")."""
    match = re.search(r"parameters? ((?:`[^`]+`(?:, )?)+) in query", text)
    return re.findall(r"`([^`]+)`", match.group(1)) if match else []


def _fits_as_sent(name, values):
    """What the contract allows for a string filter on the wire: values of at most 256 bytes
    without NUL; at most 50 non-empty ones (an empty one counts as absent) for a repeatable
    filter, exactly one for any other."""
    if not all(len(value.encode()) <= 256 and "\x00" not in value for value in values):
        return False
    if name in SINGLE_TEXT_FILTERS:
        return len(values) == 1
    return len([value for value in values if value.strip()]) <= 50


def _wire_valid_text_filter(failure, case, response):
    """Negative testing may put `true`, `-1.9`, `null` or an object into a string filter, or
    more than 50 values of which some are empty into a repeatable one, and call it a violation;
    on the wire every query value is text ("true", "-1.9", "null", an object's keys, or nothing
    at all for an empty object or array), an empty value counts as absent, and such text is a
    valid filter value. Only such a failure, naming string filters only, whose values all fit
    as sent, is dropped."""
    if "negative_data_rejection" not in getattr(failure, "checks", ()):
        return False
    text = str(getattr(failure, "message", "")) + str(getattr(failure, "title", ""))
    named = _query_parameters_named(text)
    if not named or not all(name in REPEATABLE_FILTERS + SINGLE_TEXT_FILTERS for name in named):
        return False
    if _sent_values(response, named[0]) is not None:
        return all(_fits_as_sent(name, _sent_values(response, name)) for name in named)
    if len(named) != 1 or named[0] not in REPEATABLE_FILTERS:
        return False
    values = (case.query or {}).get(named[0])
    values = values if isinstance(values, list) else [values]
    if not 0 < len(values) <= 50:
        return False
    for value in values:
        if value in ({}, []):
            continue  # an empty object or array puts nothing on the wire
        if isinstance(value, (dict, list)):
            return False
        wire = "null" if value is None else ("true" if value is True else "false" if value is False else str(value))
        if len(wire.encode()) > 256:
            return False
    return True


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keeps a failure unless it is a refusal of valid-by-schema data explained above, or the
    RFC-correct 501 for a method libevent does not recognise."""
    if _unrecognised_method(case, response):
        return False
    if _wire_valid_text_filter(failure, case, response):
        return False
    if "positive_data_acceptance" in getattr(failure, "checks", ()):
        return not _explained_by_an_unstatable_rule(case, response)
    return True


_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_tally_lock = threading.Lock()


def stream_event_types(content):
    """The types of the events an SSE body dispatches, in order: a block with a `data` field is
    an event (`message` without an `event` field); comments, the greeting and pings are not."""
    types, kind, has_data = [], "message", False
    for line in _LINE_BREAK.split(content):
        if line == b"":   # a blank line ends the block
            if has_data:
                types.append(kind)
            kind, has_data = "message", False
            continue
        field, _, value = line.partition(b":")
        if field == b"data":
            has_data = True
        elif field == b"event":
            kind = value.removeprefix(b" ").decode("utf-8", "replace")
    return types


@schemathesis.hook
def after_call(context, case, response):
    """Appends the event types of a /stream answer (one JSON line per answer) to the tally file."""
    path = os.environ.get("MUSICSTREAM_STREAM_TALLY")
    if not path or case.path != "/stream" or response.status_code != 200:
        return
    line = json.dumps(stream_event_types(response.content)) + "\n"
    with _tally_lock, open(path, "a", encoding="utf-8") as tally:
        tally.write(line)


# Explicit /stream cases (examples phase) whose first event comes at once on a server that
# simulates listens: live listens under no or broad filters, the stats frame under a filter
# nothing matches.
STREAM_EXAMPLES = (
    {},
    {"rating": "2"},
    {"completed": "true"},
    {"skipped": "true"},
    {"q": "e"},
    {"platform": ["Spotify", "Apple Music", "YouTube Music", "Amazon Music", "Tidal", "Deezer"]},
    {"stats": "true", "user_id": "nobody-listens-as-this-user"},
)
# How long a /stream case that waits for a frame that comes later than at once may read.
STREAM_WAITING_TIMEOUT = 3.0


def _truthy(value):
    return str(value).strip(" \t").lower() in ("true", "yes", "1")


@schemathesis.hook
def before_add_examples(context, examples):
    """Adds STREAM_EXAMPLES to /stream's explicit examples."""
    operation = getattr(context, "operation", None)
    if operation is not None and operation.path == "/stream" and operation.method.upper() == "GET":
        examples.extend(operation.Case(query=dict(query)) for query in STREAM_EXAMPLES)


@schemathesis.hook
def before_call(context, case, kwargs):
    """/stream cases that wait for a frame: the explicit examples, and any with stats=true
    (its first stats frame comes within a second) read for longer than the short default."""
    if case.path != "/stream":
        return
    query = dict(case.query or {})
    if query in [dict(example) for example in STREAM_EXAMPLES] or _truthy(query.get("stats", "")):
        kwargs["timeout"] = STREAM_WAITING_TIMEOUT
