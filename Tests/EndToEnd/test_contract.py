"""openapi.yaml is the contract: it is a valid OpenAPI 3.2 document, the server serves it as is,
and the server and the document list the same routes and the same query parameters. Schemathesis
(test_schemathesis.py) checks the behaviour of each operation against it; this module checks what
a generator cannot: the route table both ways, parameter names, HEAD/OPTIONS/405/404, the
never-ending /stream, and publishing."""
import http.client
import json
import os
import re
import time
import uuid
from collections import Counter
from urllib.parse import urlencode, urlsplit

import jsonschema
import pytest
import requests
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV32SpecValidator

from conftest import wait_until
from sse import SSEClient

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SPEC_PATH = os.path.join(ROOT, "openapi.yaml")
ROUTE_TABLE = os.path.join(ROOT, "Sources", "MusicStream", "Routes", "Routes.swift")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SECURITY_HEADERS = ("X-Content-Type-Options", "Referrer-Policy", "Content-Security-Policy")

with open(SPEC_PATH, "rb") as handle:
    SPEC_BYTES = handle.read()
SPEC = yaml.safe_load(SPEC_BYTES)


def operations():
    """(method, path, operation) for every operation in the document."""
    return [(method, path, item[method]) for path, item in SPEC["paths"].items() for method in METHODS if method in item]


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        target = SPEC
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def query_parameters(operation):
    return [p for p in map(resolve, operation.get("parameters", [])) if p["in"] == "query"]


def schema_validator(schema):
    """A validator for `schema`, resolving #/components/... against the document."""
    root = dict(schema, components=SPEC["components"])
    return jsonschema.Draft202012Validator(root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def component(name):
    return schema_validator({"$ref": "#/components/schemas/" + name})


def is_streaming(path):
    return path == "/stream"


def example_value(parameter):
    """The parameter's example as a query value (first item for arrays)."""
    value = parameter["example"]
    if isinstance(value, list):
        value = value[0]
    return str(value).lower() if isinstance(value, bool) else str(value)


@pytest.fixture(scope="module")
def server(start_server):
    running = start_server("--rate", "20", "--seed", "1", "--backfill", "200")
    assert wait_until(lambda: running.get("/api/status").json()["window"]["size"] >= 200, timeout=20)
    assert wait_until(lambda: running.get("/api/status").json()["history"]["stored"] >= 200, timeout=20)
    return running


def concrete(server, path):
    """`path` with its parameters filled in: for {event_id}, an event the server holds; for
    {user_id}, a user its history holds."""
    if "{event_id}" in path:
        event_id = server.get("/api/events?limit=1").json()["events"][0]["event_id"]
        path = path.replace("{event_id}", event_id)
    if "{user_id}" in path:
        user_id = server.get("/api/events?limit=1&until=%d" % (time.time() * 1000 - 5000)).json()["events"][0]["user_id"]
        path = path.replace("{user_id}", user_id)
    assert "{" not in path, path
    return path


def raw_get(server, target, method="GET", headers=None, body=None):
    """Sends `target` exactly as written; returns (status, headers dict lowercased, body bytes)."""
    parts = urlsplit(server.base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def stream_status(server, query="", headers=None):
    """Opens /stream, returns its status and headers, and hangs up."""
    client = SSEClient(server.url("/stream" + ("?" + query if query else "")), timeout=10, headers=headers)
    try:
        return client.status, client.headers
    finally:
        client.close()


def assert_problem(status, headers, body, expected_status, parameter=None):
    assert status == expected_status, body
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    component("Problem").validate(problem)
    assert problem["status"] == expected_status
    if parameter is not None:
        assert problem.get("parameter") == parameter, problem
    return problem


# ---------------------------------------------------------------------------------------------
# The document itself


def test_document_is_valid_openapi_3_2():
    # 3.2 for the stream: `itemSchema` states each event of a text/event-stream (3.1 has no
    # such field; its validator refuses it).
    assert SPEC["openapi"].startswith("3.2.")
    validate(SPEC, cls=OpenAPIV32SpecValidator)


def test_every_example_matches_its_schema():
    checked = 0
    for name, schema in SPEC["components"]["schemas"].items():
        if "example" in schema:
            component(name).validate(schema["example"])
            checked += 1
    for method, path, operation in operations():
        bodies = [operation.get("requestBody", {})] + [resolve(r) for r in operation["responses"].values()]
        for body in bodies:
            for media, content in body.get("content", {}).items():
                if "example" in content and "json" in media:
                    schema_validator(content["schema"]).validate(content["example"])
                    checked += 1
        for parameter in map(resolve, operation.get("parameters", [])):
            if "example" in parameter:
                schema_validator(parameter["schema"]).validate(parameter["example"])
                checked += 1
    assert checked > 20


def test_server_serves_the_document_byte_for_byte(server):
    response = server.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0].strip() == "application/yaml"
    assert response.content == SPEC_BYTES


# ---------------------------------------------------------------------------------------------
# Routes, both ways


def registered_routes():
    """(method, path) pairs registered on the router in the route table
    (Sources/MusicStream/Routes/Routes.swift), found by a plain regex over `router.get("...")`-style calls."""
    with open(ROUTE_TABLE, encoding="utf-8") as handle:
        source = handle.read()
    routes = {(m.lower(), p) for m, p in re.findall(r'router\.(get|post|put|patch|delete)\(\s*"([^"]+)"', source)}
    routes |= {(m.lower(), p) for m, p in re.findall(r'router\.add\(\s*\.(GET|POST|PUT|PATCH|DELETE)\s*,\s*"([^"]+)"', source)}
    return routes


def test_every_registered_route_is_documented():
    routes = registered_routes()
    assert ("get", "/api/events") in routes and ("get", "/healthz") in routes, "the route regex found nothing"
    documented = {(method, path) for method, path, _ in operations()}
    assert routes - documented == set(), "routes the server registers but openapi.yaml does not document"


@pytest.mark.parametrize("method, path", [(m, p) for m, p, _ in operations()], ids=lambda v: str(v))
def test_every_documented_operation_answers(server, method, path):
    operation = SPEC["paths"][path][method]
    if is_streaming(path):
        status, headers = stream_status(server)
        assert status == 200
        assert headers["content-type"].startswith("text/event-stream")
        return
    if method == "post":
        example = operation["requestBody"]["content"]["application/json"]["example"]
        response = requests.post(server.url(path), json=example, timeout=10)
    else:
        response = requests.request(method.upper(), server.url(concrete(server, path)), timeout=10)
    assert response.status_code not in (404, 405), (response.status_code, response.text[:300])
    documented_success = [code for code in operation["responses"] if code.startswith("2")]
    assert str(response.status_code) in documented_success, response.text[:300]
    for header in SECURITY_HEADERS:
        assert header in response.headers, header


def parameter_cases():
    cases = []
    for method, path, operation in operations():
        if method != "get" or path == "/":
            continue
        for parameter in query_parameters(operation):
            cases.append((path, parameter["name"]))
    return cases


@pytest.mark.parametrize("path, name", parameter_cases(), ids=lambda v: str(v))
def test_every_documented_parameter_is_accepted(server, path, name):
    parameter = next(p for p in query_parameters(SPEC["paths"][path]["get"]) if p["name"] == name)
    query = urlencode({name: example_value(parameter)})
    if is_streaming(path):
        status, _ = stream_status(server, query)
        assert status == 200, query
        return
    status, headers, body = raw_get(server, concrete(server, path) + "?" + query)
    if name == "cursor" and path == "/api/events":
        # The example cursor was not issued by this server: refused, but as a cursor, not as unknown.
        # (A history cursor is a position in time, valid on any server: it is accepted.)
        problem = assert_problem(status, headers, body, 400, parameter="cursor")
        assert "unknown" not in problem["detail"]
        return
    assert status == 200, body[:300]


@pytest.mark.parametrize("path", sorted({p for m, p, _ in operations() if m == "get" and p != "/"}))
def test_an_undocumented_parameter_is_refused(server, path):
    status, headers, body = raw_get(server, concrete(server, path) + "?colour=blue")
    assert_problem(status, headers, body, 400, parameter="colour")


@pytest.mark.parametrize("path, name", parameter_cases(), ids=lambda v: str(v))
def test_repeating_a_parameter(server, path, name):
    """Array parameters may repeat (any-of); every other one is refused when given twice."""
    parameter = next(p for p in query_parameters(SPEC["paths"][path]["get"]) if p["name"] == name)
    value = example_value(parameter)
    query = urlencode([(name, value), (name, value)])
    repeatable = resolve(parameter["schema"]).get("type") == "array"
    if repeatable and is_streaming(path):
        assert stream_status(server, query)[0] == 200
        return
    status, headers, body = raw_get(server, path + "?" + query)
    if repeatable:
        assert status == 200, body[:300]
    else:
        assert_problem(status, headers, body, 400, parameter=name)


def test_repeatable_filters_take_at_most_50_values(server):
    for name in ("genre", "platform", "mood", "country"):
        ok = urlencode([(name, "x%d" % i) for i in range(50)])
        status, _, body = raw_get(server, "/api/events?" + ok)
        assert status == 200, body[:300]
        too_many = urlencode([(name, "x%d" % i) for i in range(51)])
        assert_problem(*raw_get(server, "/api/events?" + too_many), 400, parameter=name)


def test_since_must_be_before_until(server):
    assert_problem(*raw_get(server, "/api/events?since=2000&until=2000"), 400, parameter="until")
    status, _, body = raw_get(server, "/api/events?since=1999&until=2000")
    assert status == 200, body


# ---------------------------------------------------------------------------------------------
# Conventions every path follows


# An export's length is not known before it is read (a chunked download): its HEAD has none.
@pytest.mark.parametrize("path", sorted({p for m, p, _ in operations()
                                         if m == "get" and not is_streaming(p) and p != "/api/export"}))
def test_head_answers_every_get_without_a_body(server, path):
    path = concrete(server, path)
    get_status, get_headers, _ = raw_get(server, path)
    status, headers, body = raw_get(server, path, method="HEAD")
    assert status == get_status == 200
    assert body == b""
    assert headers["content-type"] == get_headers["content-type"]
    assert "content-length" in headers
    for header in SECURITY_HEADERS:
        assert headers[header.lower()] == get_headers[header.lower()]


def test_head_answers_the_stream_without_starting_it(server):
    status, headers, body = raw_get(server, "/stream", method="HEAD")
    assert status == 200 and body == b""
    assert headers["content-type"].startswith("text/event-stream")


@pytest.mark.parametrize("path", sorted(SPEC["paths"]))
def test_options_lists_the_documented_methods(server, path):
    status, headers, body = raw_get(server, concrete(server, path), method="OPTIONS")
    assert status == 204
    allowed = {m.strip().lower() for m in headers["allow"].split(",")}
    documented = {m for m in METHODS if m in SPEC["paths"][path]}
    if "get" in documented:
        documented.add("head")
    assert allowed == documented | {"options"}
    for header in SECURITY_HEADERS:
        assert header.lower() in headers


@pytest.mark.parametrize("path", sorted(SPEC["paths"]))
@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH", "TRACE"])
def test_an_undocumented_method_gets_405_with_allow(server, path, method):
    if method.lower() in SPEC["paths"][path]:
        pytest.skip("documented")
    status, headers, body = raw_get(server, concrete(server, path), method=method)
    assert_problem(status, headers, body, 405)
    assert "allow" in headers
    for header in SECURITY_HEADERS:
        assert header.lower() in headers


def test_every_documented_path_parameter_is_registered_with_the_same_name():
    """The route table spells templated paths as the document does, so the two compare as text."""
    routes = {path for _, path in registered_routes()}
    for path in SPEC["paths"]:
        if "{" in path:
            assert path in routes, path
            names = set(re.findall(r"{(\w+)}", path))
            documented = {p["name"] for method in METHODS if method in SPEC["paths"][path]
                          for p in map(resolve, SPEC["paths"][path][method].get("parameters", [])) if p["in"] == "path"}
            assert names == documented, path


def test_unknown_api_path_is_a_404_problem(server):
    status, headers, body = raw_get(server, "/api/no-such-thing")
    assert_problem(status, headers, body, 404)
    for header in SECURITY_HEADERS:
        assert header.lower() in headers


def test_no_cors_headers_without_cors_origin(server):
    response = server.get("/api/events", headers={"Origin": "http://elsewhere.example"})
    assert not any(name.lower().startswith("access-control-") for name in response.headers)


# ---------------------------------------------------------------------------------------------
# /stream: what a generator cannot read


STREAM_MEDIA = SPEC["paths"]["/stream"]["get"]["responses"]["200"]["content"]["text/event-stream"]


def stream_event_schemas():
    """{event type: (schema of the dispatched event, schema of its data)} from the /stream
    response's `itemSchema`: each oneOf branch fixes `event` with const and types `data` with
    contentMediaType + contentSchema."""
    branches = resolve(STREAM_MEDIA["itemSchema"])["oneOf"]
    schemas = {}
    for branch in map(resolve, branches):
        data = branch["properties"]["data"]
        assert data["contentMediaType"] == "application/json"
        schemas[branch["properties"]["event"]["const"]] = (branch, data["contentSchema"])
    return schemas


def test_the_stream_documents_each_event_type():
    assert set(stream_event_schemas()) == {"listen", "stats", "reset"}
    assert "schema" not in STREAM_MEDIA, "in 3.2 `schema` would describe the whole stream as one value"


def check_stream_event(fields):
    """Checks one frame that carries data as an SSE client dispatches it (event type, data, the
    last id) against the itemSchema, and its data (JSON) against that type's contentSchema
    (JSON Schema validators only annotate with content*, so the data is checked here).
    Returns the event type."""
    assert len(fields.get("data", [])) == 1, fields   # one JSON document on one line
    kind = fields.get("event", ["message"])[0]
    dispatched = {"event": kind, "data": fields["data"][0]}
    if "id" in fields:
        dispatched["id"] = fields["id"][0]
    schema_validator(STREAM_MEDIA["itemSchema"]).validate(dispatched)
    schemas = stream_event_schemas()
    assert kind in schemas, kind
    schema_validator(schemas[kind][1]).validate(json.loads(fields["data"][0]))
    return kind


def test_stream_frames_match_the_document(server):
    """Every frame with data is one of the documented events and fits its schemas; every
    frame without data is a comment or moves the id (the greeting, pings)."""
    client = SSEClient(server.url("/stream?stats=true"), timeout=10)
    try:
        assert client.status == 200
        seen = Counter()
        first = None
        deadline = time.monotonic() + 8
        for fields, comments in client.frames(deadline):
            if first is None:
                first = fields
                assert fields.get("retry") == ["2000"], fields
            if "id" in fields:
                assert re.fullmatch(r"p[0-9a-z]+(\.(-1|[0-9a-z]+))+", fields["id"][0]), fields["id"]
                component("StreamID").validate(fields["id"][0])
            if "data" in fields:
                seen[check_stream_event(fields)] += 1
            else:
                assert set(fields) <= {"retry", "id", ""} and comments, (fields, comments)
            if seen["listen"] >= 20 and seen["stats"] >= 2:
                break
        assert seen["listen"] >= 20 and seen["stats"] >= 2, seen
        assert set(seen) == {"listen", "stats"}, seen
    finally:
        client.close()


@pytest.mark.parametrize("resume", [
    {"Last-Event-ID": "0"},               # a number from before ids were positions
    {"Last-Event-ID": "p1x9k3v.0.0.0"},   # a position in another log
])
def test_stream_reset_matches_the_document(server, resume):
    client = SSEClient(server.url("/stream"), timeout=10, headers=resume)
    try:
        assert client.status == 200
        for fields, _ in client.frames(time.monotonic() + 8):
            if "data" in fields:
                assert check_stream_event(fields) == "reset"
                assert json.loads(fields["data"][0]) == {}
                break
        else:
            pytest.fail("no event within 8 s")
    finally:
        client.close()


def test_a_frame_off_the_contract_fails_the_check():
    """The check itself refuses what the contract does not list: unknown types, data that does
    not fit the type's schema, ids of another form."""
    example = SPEC["paths"]["/api/events"]["get"]["responses"]["200"]["content"]["application/json"]["example"]
    listen = json.dumps(example["events"][0])
    assert check_stream_event({"event": ["listen"], "data": [listen], "id": ["p1.2.-1"]}) == "listen"
    for bad in (
        {"event": ["hello"], "data": ["{}"]},
        {"data": ["{}"]},
        {"event": ["reset"], "data": ['{"x": 1}']},
        {"event": ["stats"], "data": ['{"consumed": 1}']},
        {"event": ["listen"], "data": [json.dumps(dict(example["events"][0], rating=9))]},
        {"event": ["listen"], "data": [listen], "id": ["17"]},
    ):
        with pytest.raises((jsonschema.ValidationError, AssertionError)):
            check_stream_event(bad)


@pytest.mark.parametrize("query, parameter", [
    ("last_event_id=-1", "last_event_id"),
    ("last_event_id=abc", "last_event_id"),
    ("stats=maybe", "stats"),
    ("rating=6", "rating"),
    ("since=10000000000000", "since"),
    ("limit=5", "limit"),
])
def test_stream_refuses_bad_parameters_before_streaming(server, query, parameter):
    assert_problem(*raw_get(server, "/stream?" + query), 400, parameter=parameter)


def test_stream_resumes_from_last_event_id_header(server):
    status, _ = stream_status(server, headers={"Last-Event-ID": "0"})
    assert status == 200


# ---------------------------------------------------------------------------------------------
# Publishing


def new_event(**changes):
    body = dict(SPEC["components"]["schemas"]["NewEvent"]["example"])
    body["user_id"] = "contract-" + uuid.uuid4().hex
    body.update(changes)
    return body


def test_published_event_is_findable_by_user_id(server):
    body = new_event()
    response = requests.post(server.url("/api/events"), json=body, timeout=10)
    assert response.status_code == 202, response.text
    receipt = response.json()
    component("PublishReceipt").validate(receipt)

    def listed():
        page = server.get("/api/events", params={"user_id": body["user_id"]}).json()
        return page["events"]
    events = wait_until(listed, timeout=10)
    assert [e["event_id"] for e in events] == [receipt["event_id"]]
    component("Event").validate(events[0])
    assert {k: events[0][k] for k in body} == body


@pytest.mark.parametrize("field", ["event_id", "timestamp", "completed", "skipped"])
def test_server_set_fields_are_refused(server, field):
    body = new_event(**{field: {"event_id": str(uuid.uuid4()), "timestamp": 1764172800000}.get(field, True)})
    response = requests.post(server.url("/api/events"), json=body, timeout=10)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_unknown_and_mistyped_fields_are_refused(server):
    response = requests.post(server.url("/api/events"), json=new_event(colour="blue"), timeout=10)
    assert response.status_code == 400 and response.json()["field"] == "colour"
    response = requests.post(server.url("/api/events"), json=new_event(rating="5"), timeout=10)
    assert response.status_code == 400 and response.json()["field"] == "rating"


def test_other_content_types_and_large_bodies_are_refused(server):
    payload = json.dumps(new_event()).encode()
    assert_problem(*raw_get(server, "/api/events", method="POST", body=payload,
                            headers={"Content-Type": "text/plain"}), 415)
    big = json.dumps(new_event(title="x" * 70_000)).encode()
    assert_problem(*raw_get(server, "/api/events", method="POST", body=big,
                            headers={"Content-Type": "application/json"}), 413)


def test_write_token_guards_publishing(start_server):
    guarded = start_server("--rate", "0", "--write-token", "s3cret")
    url = guarded.url("/api/events")
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = requests.post(url, json=new_event(), headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = requests.post(url, json=new_event(), headers={"Authorization": "Bearer s3cret"}, timeout=10)
    assert response.status_code == 202, response.text
