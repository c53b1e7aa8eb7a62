"""The README's curl examples, run as written against a live server (only the address changes):
each exits 0 and prints what the `#=>` lines under it say (notation: readme_examples.py and the
README's "Try the API with curl"). Every curl command in the README must be one of them."""
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import wait_until
import readme_examples
from readme_examples import check_output, examples, mentions_curl, shape

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
README_PATH = os.path.join(ROOT, "README.md")
README_BASE = "http://127.0.0.1:5000"
SHELL_LANGUAGES = ("sh", "bash", "shell", "console")
# The history store and the window fill in the background: an example may be tried again for
# this long before its output counts as wrong (a POST's listen reaches the history in ~250 ms).
SETTLE_SECONDS = 15

with open(README_PATH, encoding="utf-8") as readme_file:
    README = readme_file.read()
RUNNABLE = [example for example in examples(README) if example.expected]


@pytest.fixture(scope="module")
def server(start_server):
    assert shutil.which("curl"), "curl is not installed: run scripts/setup --test"
    # The page's directory is named so the examples for / and /openapi.yaml do not depend on
    # where the binary under test lives (test_install_layouts.py covers the lookup).
    server = start_server("--rate", "5", "--seed", "42", "--public-dir", os.path.join(ROOT, "Public"))
    # Enough listens in the window and in the history that filtered examples have matches.
    assert wait_until(lambda: server.get("/api/status").json()["history"]["stored"] >= 40, timeout=30)
    return server


def run(command, base_url, cwd):
    return subprocess.run(["bash", "-c", command.replace(README_BASE, base_url)], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_every_curl_example_in_the_readme_runs_with_its_expectation():
    commands = examples(README)
    uncovered = [example for example in commands if mentions_curl(example.command) and
                 (not example.expected or example.language not in SHELL_LANGUAGES or README_BASE not in example.command)]
    assert uncovered == [], "\n".join(
        "README line %d: curl needs a ```sh block, the address %s and #=> lines under it: %s"
        % (example.line, README_BASE, example.command.splitlines()[0]) for example in uncovered)
    # Outside code blocks, a curl command in prose would escape the test.
    prose = re.sub(r"^\s*(```|~~~).*?^\s*(```|~~~)", "", README, flags=re.MULTILINE | re.DOTALL)
    assert not re.search(r"`[^`]*\bcurl\s+-[^`]*`", prose), "a curl command in the README's prose: move it into a ```sh block"
    # Sanity: the examples cover the API's main routes and the stream is bounded.
    assert len(RUNNABLE) >= 15
    for route in ("/api/events", "/api/facets", "/api/timeline", "/api/users/", "/api/export", "/stream", "/metrics"):
        assert any(route in example.command for example in RUNNABLE), route
    stream = [example for example in RUNNABLE if "/stream" in example.command]
    assert all("--max-time" in example.command for example in stream)
    # Every expectation is readable: JSON items parse, so a typo cannot turn one into loose text.
    for example in RUNNABLE:
        for item in example.expected:
            if item.startswith(("{", "[")):
                assert shape(item) is not None, "README line %d: %s is not valid JSON notation" % (example.line, item)


def test_the_matcher_tells_wrong_from_right():
    # The notation is strict where it says something: a wrong literal, a missing or unlisted key,
    # an empty list where one is shown, lines out of order.
    item = '{"count": 2, "events": [{"genre": "Pop", …}, …], "next": "…"}'
    assert check_output([item], '{"count": 2, "events": [{"genre": "Pop", "x": 1}], "next": "abc"}') is None
    assert check_output([item], '{"count": 3, "events": [{"genre": "Pop"}], "next": "abc"}')
    assert check_output([item], '{"count": 2, "events": [], "next": "abc"}')
    assert check_output([item], '{"count": 2, "events": [{"genre": "Rock"}], "next": "abc"}')
    assert check_output([item], '{"count": 2, "events": [{"genre": "Pop"}], "next": null}')
    assert check_output([item], '{"count": 2, "events": [{"genre": "Pop"}], "next": "a", "more": 1}')
    assert check_output(['{"on": true}'], '{"on": 1}')
    assert check_output(["a: …", "b"], "a: 1\nx\nb\n") is None
    assert check_output(["b", "a: …"], "a: 1\nb\n")
    assert readme_examples.shape("{not json}") is None


@pytest.mark.parametrize("example", RUNNABLE, ids=["line %d" % example.line for example in RUNNABLE])
def test_readme_example(example, server, tmp_path):
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        result = run(example.command, server.base_url, tmp_path)
        problem = ("exit status %d" % result.returncode if result.returncode != 0
                   else check_output(example.expected, result.stdout))
        if problem is None or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert problem is None, "README line %d:\n%s\n%s\noutput:\n%s%s" % (
        example.line, example.command, problem, result.stdout[:3000], result.stderr[:1000])
