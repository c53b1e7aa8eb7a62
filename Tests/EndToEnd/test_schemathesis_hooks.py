"""The contract run's failure filter drops only what the wire shows to be valid.

Fake failures shaped like schemathesis's own (checks, message, the request as sent) go through
`filter_failure`; True keeps the failure."""
from types import SimpleNamespace

import schemathesis_hooks


def _failure(message, check="negative_data_rejection"):
    return SimpleNamespace(checks=(check,), message=message, title="Schema-violating request accepted")


def _case(query, method="GET", path="/api/events"):
    return SimpleNamespace(query=query, method=method, path=path, body=None)


def _response(url, status=200):
    return SimpleNamespace(status_code=status, content=b"{}", request=SimpleNamespace(url=url))


def _keeps(message, url, query=None):
    return schemathesis_hooks.filter_failure(None, _failure(message), _case(query or {}), _response(url))


def test_an_empty_single_filter_and_a_null_text_repeatable_filter_are_valid_as_sent():
    # The stateful failure CI found: user_id went out empty, platform went out as the text "null".
    assert not _keeps("Invalid component: parameters `user_id`, `platform` in query",
                      "http://127.0.0.1:1/api/events?artist=%0E%C3%85N&user_id=&sort_by=genre&platform=null")


def test_track_id_is_a_single_text_filter_like_user_id():
    # The stateful failure with the new filter: both ids went out empty, mood as the text "false".
    assert not _keeps("Invalid component: parameters `user_id`, `track_id`, `mood` in query",
                      "http://127.0.0.1:1/api/events?track_id=&user_id=&mood=false")
    assert _keeps("Invalid component: parameter `track_id` in query",
                  "http://127.0.0.1:1/api/events?track_id=a&track_id=b")


def test_the_hooks_serialise_ast_parse():
    import ast
    assert ast.parse is schemathesis_hooks._serialised_ast_parse
    assert isinstance(ast.parse("x = 1"), ast.Module)


def test_a_single_filter_sent_twice_is_kept():
    assert _keeps("Invalid component: parameter `user_id` in query",
                  "http://127.0.0.1:1/api/events?user_id=a&user_id=b")


def test_a_filter_value_over_the_length_limit_or_with_nul_is_kept():
    assert _keeps("Invalid component: parameter `artist` in query",
                  "http://127.0.0.1:1/api/events?artist=" + "x" * 257)
    assert _keeps("Invalid component: parameter `q` in query", "http://127.0.0.1:1/api/events?q=a%00b")


def test_more_than_fifty_non_empty_repeatable_values_are_kept():
    url = "http://127.0.0.1:1/api/events?" + "&".join(f"genre=g{i}" for i in range(51))
    assert _keeps("Invalid component: parameter `genre` in query", url)
    url = "http://127.0.0.1:1/api/events?" + "&".join(["genre=g"] * 50 + ["genre="] * 5)
    assert not _keeps("Invalid component: parameter `genre` in query", url)


def test_a_failure_naming_a_non_text_parameter_is_kept():
    assert _keeps("Invalid component: parameters `user_id`, `limit` in query",
                  "http://127.0.0.1:1/api/events?user_id=&limit=x")


def test_other_checks_are_kept():
    failure = _failure("Invalid component: parameter `user_id` in query", check="not_a_server_error")
    assert schemathesis_hooks.filter_failure(None, failure, _case({}),
                                             _response("http://127.0.0.1:1/api/events?user_id="))


def _problem_response(parameter, detail="x"):
    body = ('{"status": 400, "parameter": "%s", "detail": "%s"}' % (parameter, detail)).encode()
    return SimpleNamespace(status_code=400, content=body, request=SimpleNamespace(url="http://127.0.0.1:1/"))


def test_history_only_rules_are_tolerated_only_on_ranged_requests():
    explained = schemathesis_hooks._explained_by_an_unstatable_rule
    ranged = {"since": "1764172800000", "sort_by": "rating"}
    assert explained(_case(ranged), _problem_response("sort_by"))
    assert not explained(_case({"sort_by": "rating"}), _problem_response("sort_by"))
    assert not explained(_case({"since": "1", "sort_by": "timestamp"}), _problem_response("sort_by"))
    timeline = _case({"until": "1764172800000", "bucket": "1s"}, path="/api/timeline")
    assert explained(timeline, _problem_response("bucket", "more than 3600 buckets"))
    assert not explained(timeline, _problem_response("bucket", "bucket must be one of"))
    assert not explained(_case({"bucket": "1s"}, path="/api/timeline"), _problem_response("bucket", "3600"))


def test_a_refused_stream_id_is_tolerated_from_the_query_or_the_header():
    problem = b'{"status":400,"parameter":"last_event_id","detail":"last_event_id must be an id this stream sent"}'
    response = SimpleNamespace(status_code=400, content=problem, request=SimpleNamespace(url="http://127.0.0.1:1/stream"))
    failure = _failure("Schema-valid request rejected", check="positive_data_acceptance")
    header = SimpleNamespace(query={}, headers={"Last-Event-ID": "h&"}, method="GET", path="/stream", body=None)
    query = SimpleNamespace(query={"last_event_id": "p1.x!"}, headers={}, method="GET", path="/stream", body=None)
    neither = SimpleNamespace(query={"artist": "Joji"}, headers={}, method="GET", path="/stream", body=None)
    assert not schemathesis_hooks.filter_failure(None, failure, header, response)
    assert not schemathesis_hooks.filter_failure(None, failure, query, response)
    assert schemathesis_hooks.filter_failure(None, failure, neither, response)


def test_stream_event_types_are_the_blocks_with_data():
    body = (b"retry: 2000\nid: p1.2\n: connected\n\nevent: reset\ndata: {}\n\n: ping\n\n"
            b"id: p1.3\n: ping\n\nevent: listen\ndata: {}\nid: p1.4\n\nevent: stats\r\ndata: {}\r\n\r\ndata: x\n\n")
    assert schemathesis_hooks.stream_event_types(body) == ["reset", "listen", "stats", "message"]
