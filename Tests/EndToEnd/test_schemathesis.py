"""Schemathesis against a live release server: every check, every phase (examples, coverage,
fuzzing, stateful through the POST /api/events -> GET /api/events?user_id= link), bounded in
examples and wall-clock time. /stream never ends, so it is left out here and covered by
test_contract.py with bounded socket reads instead.

Three contract rules that JSON Schema cannot state are tolerated narrowly by
schemathesis_hooks.py; everything else must pass with zero failures."""
import importlib.metadata
import os
import shutil
import subprocess
import sys

from conftest import wait_until

SCHEMATHESIS_VERSION = "4.32.5"   # pinned; scripts/setup installs exactly this
HERE = os.path.dirname(os.path.abspath(__file__))
SPEC_PATH = os.path.abspath(os.path.join(HERE, "..", "..", "openapi.yaml"))
MAX_EXAMPLES = os.environ.get("MUSICSTREAM_SCHEMATHESIS_EXAMPLES", "50")
WALL_CLOCK_LIMIT = 240   # seconds; the run itself is bounded by MAX_EXAMPLES well below this


def schemathesis_command():
    executable = shutil.which("schemathesis") or shutil.which("st")
    return [executable] if executable else [sys.executable, "-m", "schemathesis.cli"]


def test_schemathesis_version_is_the_pinned_one():
    assert importlib.metadata.version("schemathesis") == SCHEMATHESIS_VERSION


def test_schemathesis_finds_no_failures(start_server, tmp_path):
    server = start_server("--rate", "20", "--seed", "1", "--backfill", "200")
    assert wait_until(lambda: server.get("/api/status").json()["window"]["size"] >= 200, timeout=20)
    command = schemathesis_command() + [
        "run", SPEC_PATH,
        "--url", server.base_url,
        "--checks", "all",
        "--exclude-path", "/stream",
        "--max-examples", MAX_EXAMPLES,
        "--seed", "1",
        "--workers", "2",
        "--request-timeout", "10",
        "--generation-database", "none",
        "--no-color",
        "--report", "junit",
        "--report-dir", str(tmp_path / "report"),
    ]
    environment = dict(os.environ, SCHEMATHESIS_HOOKS="schemathesis_hooks",
                       PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run(command, cwd=str(tmp_path), env=environment, capture_output=True, text=True,
                            timeout=WALL_CLOCK_LIMIT)
    if result.returncode != 0:
        # Generated queries can be very long; keep each printed line readable.
        lines = [line if len(line) <= 400 else line[:400] + " ...(cut)" for line in result.stdout.splitlines()]
        print("\n".join(lines[-400:]))
        print(result.stderr[-4000:])
        print("command:", " ".join(command))
    assert result.returncode == 0, "schemathesis found failures (summary printed above)"
    assert server.process.poll() is None, "the server died during the run"
