"""Schemathesis hooks for the contract run (loaded through SCHEMATHESIS_HOOKS).

The contract has three rules that JSON Schema cannot state, so a schema-valid request can still
be refused for them; each is tolerated only for a 400 problem that names exactly that rule's
parameter or field, on a request that really breaks the rule:

- `cursor` on GET /api/events is opaque: a generated value is never one the server issued.
- `until` must be greater than `since` (400 on `until`).
- `listen_position` must not exceed `duration` in POST /api/events (400 on `listen_position`).

A method libevent does not recognise at all (e.g. QUERY) is answered 501 by libevent itself,
as RFC 9110 prescribes for unrecognised methods; those 501s are tolerated too.

A `true`/`-1.9`/`null` that negative testing puts into a repeatable string filter is text on
the wire, hence a valid value; such "accepted invalid data" reports are dropped as well.

Every other failure is kept.
"""
import json

import schemathesis


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


def _explained_by_an_unstatable_rule(case, response):
    problem = _problem(response)
    if problem is None:
        return False
    query = case.query or {}
    parameter = problem.get("parameter")
    if parameter == "cursor" and case.method.upper() == "GET" and case.path == "/api/events":
        return str(query.get("cursor", "")).strip() != ""
    if parameter == "until":
        since, until = _int(query.get("since")), _int(query.get("until"))
        return since is not None and until is not None and since >= until
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


def _wire_valid_repeatable_filter(failure, case):
    """Negative testing may put `true`, `-1.9` or `null` into a repeatable string filter and call
    it a type violation; on the wire every query value is text ("true", "-1.9", "null"), which
    is a valid filter value, and an empty object or array is sent as nothing at all. Only such a failure, whose values all fit as sent, is dropped."""
    if "negative_data_rejection" not in getattr(failure, "checks", ()):
        return False
    text = str(getattr(failure, "message", "")) + str(getattr(failure, "title", ""))
    named = [name for name in REPEATABLE_FILTERS if "parameter `%s` in query" % name in text]
    if len(named) != 1:
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
    if _wire_valid_repeatable_filter(failure, case):
        return False
    if "positive_data_acceptance" in getattr(failure, "checks", ()):
        return not _explained_by_an_unstatable_rule(case, response)
    return True
