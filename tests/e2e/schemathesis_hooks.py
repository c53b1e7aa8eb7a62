"""Schemathesis hooks for the contract run (loaded through SCHEMATHESIS_HOOKS).

The contract has three rules that JSON Schema cannot state, so a schema-valid request can still
be refused for them; each is tolerated only for a 400 problem that names exactly that rule's
parameter or field, on a request that really breaks the rule:

- `cursor` on GET /api/events is opaque: a generated value is never one the server issued.
- `until` must be greater than `since` (400 on `until`).
- `listen_position` must not exceed `duration` in POST /api/events (400 on `listen_position`).

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
        return isinstance(position, int) and isinstance(duration, int) and position > duration
    return False


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keeps a failure unless it is a refusal of valid-by-schema data explained above."""
    if "positive_data_acceptance" in getattr(failure, "checks", ()):
        return not _explained_by_an_unstatable_rule(case, response)
    return True
