"""The page, the OpenAPI description and the vendored assets are found wherever the server is
started from: relative to the executable (a SwiftPM build tree, an install prefix), or where flags
and variables say; without the page the server warns at start and `/` says why.

Each test copies the release binary into a layout of its own under a temporary directory and
starts it from another temporary directory, so nothing is found by accident in the working
directory or in the checkout the binary was built in."""
import os
import shutil
import subprocess

import pytest

from conftest import BINARY, RunningServer, wait_until, stop_cleanly

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PUBLIC = os.path.join(ROOT, "Public")
SPEC = os.path.join(ROOT, "openapi.yaml")
VENDOR_CHART = "/usr/share/javascript/chart.js/chart.min.js"
QUIET = ("--no-simulate", "--history", "none")


def read_bytes(path):
    with open(path, "rb") as file:
        return file.read()


def install_binary(directory):
    os.makedirs(directory, exist_ok=True)
    target = os.path.join(directory, "musicstream")
    shutil.copy2(BINARY, target)
    return target


@pytest.fixture
def servers():
    """Starts servers in `cwd` (each must stop cleanly, exit code 0)."""
    started = []

    def start(cwd, *args, binary=None, env=None):
        server = RunningServer([*QUIET, *args], cwd=str(cwd), binary=binary, env=env)
        started.append(server)
        return server

    yield start
    stop_cleanly(started)


def assert_serves_the_site(server):
    """/ is the page's index.html, /openapi.yaml the spec, and Debian's Chart.js is under /vendor/."""
    page = server.get("/")
    assert page.status_code == 200, page.text[:300]
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.content == read_bytes(os.path.join(PUBLIC, "index.html"))
    spec = server.get("/openapi.yaml")
    assert spec.status_code == 200, spec.text[:300]
    assert spec.content == read_bytes(SPEC)
    assert server.get("/js/main.js").content == read_bytes(os.path.join(PUBLIC, "js", "main.js"))
    chart = server.get("/vendor/chart.js/chart.min.js")
    assert chart.status_code == 200, "Debian's libjs-chart.js (scripts/setup installs it) is not served"
    assert chart.content == read_bytes(VENDOR_CHART)
    assert not [line for line in server.stderr_lines if "no page" in line or "no OpenAPI" in line]


def test_build_tree_binary_started_from_another_directory(tmp_path, servers):
    # SwiftPM's layout: .build/release is a link to .build/<triple>/release, three levels below
    # the package root that holds Package.swift, Public/ and openapi.yaml.
    package = tmp_path / "checkout"
    package.mkdir()
    shutil.copy2(os.path.join(ROOT, "Package.swift"), package / "Package.swift")
    shutil.copytree(PUBLIC, package / "Public")
    shutil.copy2(SPEC, package / "openapi.yaml")
    install_binary(str(package / ".build" / "x86_64-unknown-linux-gnu" / "release"))
    os.symlink("x86_64-unknown-linux-gnu/release", package / ".build" / "release")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    server = servers(elsewhere, binary=str(package / ".build" / "release" / "musicstream"))
    assert_serves_the_site(server)
    assert any(str(package / "Public") in line for line in server.stderr_lines), server.stderr_lines


def test_install_prefix_binary_run_through_path(tmp_path, servers):
    # PREFIX/bin/musicstream with PREFIX/share/musicstream/{Public,openapi.yaml}, run by its name
    # through PATH, as an installed command is (argv[0] is then just "musicstream").
    prefix = tmp_path / "prefix"
    install_binary(str(prefix / "bin"))
    share = prefix / "share" / "musicstream"
    shutil.copytree(PUBLIC, share / "Public")
    shutil.copy2(SPEC, share / "openapi.yaml")
    cwd = tmp_path / "home"
    cwd.mkdir()
    env = dict(os.environ, PATH=str(prefix / "bin") + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"))
    server = servers(cwd, binary="musicstream", env=env)
    assert_serves_the_site(server)


def test_flags_and_variables_name_the_page_and_the_spec(tmp_path, servers):
    bare = install_binary(str(tmp_path / "bin"))
    site = tmp_path / "site"
    shutil.copytree(PUBLIC, site / "page")
    shutil.copy2(SPEC, site / "contract.yaml")
    # Relative flags are read from the working directory.
    server = servers(site, "--public-dir", "page", "--openapi-file", "contract.yaml", binary=bare)
    assert_serves_the_site(server)
    server.stop()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = dict(os.environ, MUSICSTREAM_PUBLIC_DIR=str(site / "page"), MUSICSTREAM_OPENAPI_FILE=str(site / "contract.yaml"))
    assert_serves_the_site(servers(elsewhere, binary=bare, env=env))


def test_without_the_page_the_server_warns_and_says_why(tmp_path, servers):
    bare = install_binary(str(tmp_path / "opt" / "bin"))
    cwd = tmp_path / "empty"
    cwd.mkdir()
    server = servers(cwd, binary=bare)
    assert wait_until(lambda: sum(" warn " in line for line in server.stderr_lines) >= 2), server.stderr_lines
    warnings = [line for line in server.stderr_lines if " warn " in line]
    page_warning = next((line for line in warnings if "no page" in line), None)
    assert page_warning, warnings
    # Where it looked (beside the binary, the prefix's share/, the working directory), and the flag.
    for place in (tmp_path / "opt" / "bin" / "Public", tmp_path / "opt" / "share" / "musicstream" / "Public", cwd / "Public"):
        assert str(place) in page_warning, page_warning
    assert "--public-dir" in page_warning
    spec_warning = next((line for line in warnings if "no OpenAPI description" in line), None)
    assert spec_warning and "--openapi-file" in spec_warning, warnings

    for path in ("/", "/index.html", "/js/main.js"):
        answer = server.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        problem = answer.json()
        assert problem["title"] == "Dashboard not installed"
        assert "--public-dir" in problem["detail"]
    spec = server.get("/openapi.yaml")
    assert spec.status_code == 404
    assert "--openapi-file" in spec.json()["detail"]
    # The API and the vendored assets do not need the page.
    assert server.get("/api/events").status_code == 200
    assert server.get("/vendor/chart.js/chart.min.js").status_code == 200


def test_a_page_flag_naming_nothing_is_reported_as_such(tmp_path, servers):
    bare = install_binary(str(tmp_path / "bin"))
    server = servers(tmp_path, "--public-dir", str(tmp_path / "no-such-dir"), binary=bare)
    assert wait_until(lambda: any("no page" in line and str(tmp_path / "no-such-dir") in line and "--public-dir" in line
                                  for line in server.stderr_lines)), server.stderr_lines
    assert server.get("/").json()["title"] == "Dashboard not installed"


def test_help_names_the_flags_and_variables():
    text = subprocess.run([BINARY, "serve", "--help"], capture_output=True, text=True, timeout=30).stdout
    for flag, variable in (("--public-dir", "MUSICSTREAM_PUBLIC_DIR"), ("--openapi-file", "MUSICSTREAM_OPENAPI_FILE"),
                           ("--vendor-dir", "MUSICSTREAM_VENDOR_DIR")):
        assert flag in text and variable in text, flag
