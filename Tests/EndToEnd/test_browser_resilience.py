"""The dashboard when things go wrong, in a real browser (Debian's headless Chromium): the server
restarts (the page reconnects, resynchronises and shows no row twice), and neither Debian's
Bootstrap and Chart.js nor the CDN fallback can be loaded (the page still works). Also the
Content-Security-Policy: the CDN and nothing else besides the page's own origin, no inline script."""
import base64
import hashlib
import os
import re
import socket
import time

from selenium.webdriver.common.by import By

from browser_helpers import (
    PUBLIC_DIR, chromium, choose_in_picker, connection_state, open_page, picker_options, row_genres, row_ids,
    save_full_page, severe_console_entries, wait,
)

CDN = "https://cdnjs.cloudflare.com"
BOOTSTRAP_CDN = CDN + "/ajax/libs/bootstrap/5.2.3/css/bootstrap.min.css"
CHART_CDN = CDN + "/ajax/libs/Chart.js/3.9.1/chart.min.js"
DEBIAN_CHART = "/usr/share/javascript/chart.js/chart.min.js"
DEBIAN_BOOTSTRAP = "/usr/share/javascript/bootstrap5/css/bootstrap.min.css"
# Installed before any page script runs: every CSP violation the page causes is recorded.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || '')));
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rows_in_order(browser):
    """Row ids and timestamps, top to bottom."""
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#rows > tr')).map((tr) => "
        "[tr.dataset.eventId, Date.parse(tr.querySelector('time').dateTime)]);")


def assert_no_duplicates_and_newest_first(browser):
    rows = rows_in_order(browser)
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate rows: %s" % sorted({i for i in ids if ids.count(i) > 1})
    stamps = [r[1] for r in rows]
    assert stamps == sorted(stamps, reverse=True), "rows out of order after the reconnect"
    return ids


def test_reconnects_after_a_server_restart_without_duplicate_rows(start_server):
    # The events live in another process's embedded broker (with its simulator producing), so the
    # server under test can go away and come back on the same port with the same data.
    source = start_server("--rate", "5", "--seed", "5")
    port = free_port()
    args = ("--brokers", source.bootstrap, "--public-dir", PUBLIC_DIR)
    first = start_server(*args, port=port)
    with chromium() as browser:
        open_page(browser, first, "?rows=200")
        wait(browser, lambda b: len(row_ids(b)) >= 30, "too few rows before the restart")
        severe_console_entries(browser)

        stopped_at = time.time() * 1000
        assert first.stop() == 0
        wait(browser, lambda b: connection_state(b) == "reconnecting", "the badge never showed reconnecting")
        assert browser.find_element(By.ID, "connection-text").text == "Reconnecting…"
        # It keeps trying while the server is away (the browser retries every 2 s).
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            assert connection_state(browser) == "reconnecting"
            time.sleep(0.25)

        second = start_server(*args, port=port)
        restarted_at = time.time() * 1000
        assert second.base_url == first.base_url
        wait(browser, lambda b: connection_state(b) == "live", "the badge never went back to live", timeout=20)
        assert browser.find_element(By.ID, "connection-text").text == "Live"
        # The table is resynchronised: what arrived while the server was away is listed, once.
        wait(browser, lambda b: any(stopped_at + 1000 < r[1] < restarted_at - 1000 for r in rows_in_order(b)),
             "the listens from the outage never showed up")
        after = assert_no_duplicates_and_newest_first(browser)
        # New listens keep arriving, still without duplicates or disorder.
        wait(browser, lambda b: len(set(row_ids(b)) - set(after)) >= 5, "no new listens after the restart")
        for _ in range(10):
            assert_no_duplicates_and_newest_first(browser)
            time.sleep(0.3)
        assert len(row_ids(browser)) <= 200
        assert browser.execute_script("return performance.getEntriesByType('navigation').length;") == 1
        # Only the requests the outage cut off or refused are in the console (Chromium reports each
        # failed load at level SEVERE): no script error.
        unexpected = [e for e in severe_console_entries(browser)
                      if not (e["message"].startswith(first.base_url + "/") and " net::ERR_" in e["message"])]
        assert unexpected == []


def test_a_server_with_other_events_on_the_same_port_replaces_the_rows(start_server):
    # A fresh embedded broker: the new server's stream ids are far below the page's Last-Event-ID,
    # so it answers `event: reset`; the page reloads and keeps none of the old rows.
    port = free_port()
    first = start_server("--rate", "5", "--seed", "21", "--public-dir", PUBLIC_DIR, port=port)
    with chromium() as browser:
        open_page(browser, first)
        wait(browser, lambda b: len(row_ids(b)) >= 40, "too few rows before the restart")
        old = set(row_ids(browser))
        assert first.stop() == 0
        wait(browser, lambda b: connection_state(b) == "reconnecting", "the badge never showed reconnecting")
        second = start_server("--rate", "2", "--seed", "22", "--backfill", "5", "--public-dir", PUBLIC_DIR, port=port)
        wait(browser, lambda b: connection_state(b) == "live", "the badge never went back to live", timeout=20)
        wait(browser, lambda b: row_ids(b) and not set(row_ids(b)) & old, "rows of the old server stayed")
        listed = set(row_ids(browser))
        assert listed <= {e["event_id"] for e in second.get("/api/events?limit=1000").json()["events"]}
        wait(browser, lambda b: set(row_ids(b)) - listed, "no new listens after the restart")
        assert_no_duplicates_and_newest_first(browser)
        assert browser.execute_script("return performance.getEntriesByType('navigation').length;") == 1


def test_page_works_when_neither_vendor_copy_nor_cdn_loads(start_server, tmp_path):
    empty = tmp_path / "no-javascript-packages"
    empty.mkdir()
    server = start_server("--rate", "5", "--seed", "8", "--public-dir", PUBLIC_DIR, "--vendor-dir", str(empty))
    assert server.get("/vendor/bootstrap/css/bootstrap.min.css").status_code == 404
    assert server.get("/vendor/chart.js/chart.min.js").status_code == 404
    with chromium() as browser:  # its resolver rules keep cdnjs.cloudflare.com from resolving
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_CSP_VIOLATIONS})
        open_page(browser, server)
        # The fallbacks were tried: pinned versions, SRI, CORS mode; Bootstrap before app.css.
        link = browser.find_element(By.CSS_SELECTOR, 'link[data-fallback="bootstrap"]')
        assert link.get_attribute("href") == BOOTSTRAP_CDN
        assert re.fullmatch(r"sha384-[A-Za-z0-9+/]{64}", link.get_attribute("integrity"))
        assert link.get_attribute("crossorigin") == "anonymous"
        assert browser.execute_script(
            "return document.querySelector('link[data-fallback]').nextElementSibling.id;") == "app-css"
        script = browser.find_element(By.CSS_SELECTOR, 'script[data-fallback="chart.js"]')
        assert script.get_attribute("src") == CHART_CDN
        assert re.fullmatch(r"sha384-[A-Za-z0-9+/]{64}", script.get_attribute("integrity"))
        assert script.get_attribute("crossorigin") == "anonymous"

        # Neither library is there, and the page says so about the charts...
        wait(browser, lambda b: b.find_element(By.ID, "charts-note").is_displayed(), "no note about the charts")
        assert not browser.find_element(By.ID, "charts").is_displayed()
        assert browser.execute_script("return typeof window.Chart;") == "undefined"
        assert browser.execute_script(
            "return getComputedStyle(document.documentElement).getPropertyValue('--bs-blue');") == ""
        # ...but still lays out (app.css) and works: live rows, KPIs, filters, sorting.
        assert browser.execute_script("return getComputedStyle(document.querySelector('.app-kpis')).display;") == "grid"
        assert browser.execute_script("return document.documentElement.scrollWidth;") <= 1400
        first = row_ids(browser)
        wait(browser, lambda b: set(row_ids(b)) - set(first), "no live rows without the libraries")
        wait(browser, lambda b: b.find_element(By.ID, "kpi-skip").text not in ("", "—"), "KPIs not filled")
        wait(browser, lambda b: len(picker_options(b, "genre")) > 1, "no genre options")
        genre = picker_options(browser, "genre")[0]
        choose_in_picker(browser, "genre", [genre])
        wait(browser, lambda b: (lambda g: g and set(g) == {genre})(row_genres(b)), "the filter did not work")
        save_full_page(browser, "dashboard-without-libraries.png")
        assert browser.execute_script("return window.__cspViolations;") == []

        # The console holds the four failed loads and nothing else (no CSP refusal, no script
        # error): Chromium reports every failed subresource at level SEVERE (for the server's 404s
        # also that a problem+json body is no style sheet or script), and a page cannot hide that.
        expected = [server.url("/vendor/bootstrap/css/bootstrap.min.css"), server.url("/vendor/chart.js/chart.min.js"),
                    BOOTSTRAP_CDN, CHART_CDN]
        messages = [e["message"] for e in severe_console_entries(browser)]
        assert [m for m in messages if not any(url in m for url in expected)] == []
        assert {url for url in expected if any(url in m for m in messages)} == set(expected)
        assert not [m for m in messages if "Content Security Policy" in m or "Uncaught" in m]


def test_csp_allows_the_cdn_for_scripts_and_styles_and_forbids_inline_script(start_server):
    server = start_server("--rate", "2", "--public-dir", PUBLIC_DIR)
    header = server.get("/").headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'", CDN]
    assert directives["style-src"] == ["'self'", CDN]
    assert directives["connect-src"] == ["'self'"]
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header
    assert server.get("/api/status").headers["Content-Security-Policy"] == header
    with chromium() as browser:
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_CSP_VIOLATIONS})
        open_page(browser, server)
        severe_console_entries(browser)
        assert browser.execute_script("return window.__cspViolations;") == []
        browser.execute_script(
            "const s = document.createElement('script'); s.textContent = 'window.__inline = 1;';"
            "document.head.appendChild(s);"
            "const b = document.createElement('button'); b.setAttribute('onclick', 'window.__inline = 2;');"
            "document.body.appendChild(b); b.click();")
        assert browser.execute_script("return typeof window.__inline;") == "undefined"
        violations = browser.execute_script("return window.__cspViolations;")
        assert violations == ["script-src-elem inline", "script-src-attr inline"]
        assert all("Content Security Policy" in e["message"] for e in severe_console_entries(browser))


def test_cdn_fallback_pins_the_versions_debian_ships():
    source = open(os.path.join(PUBLIC_DIR, "vendor.js")).read()
    assert BOOTSTRAP_CDN in source and CHART_CDN in source
    integrity = dict(re.findall(r'(href|src): "[^"]+",\s*integrity: "([^"]+)"', source))
    # Debian's chart.min.js is the 3.9.1 release byte for byte, so the pinned hash is its hash.
    with open(DEBIAN_CHART, "rb") as f:
        chart = f.read()
    assert re.search(rb"Chart\.js v3\.9\.1\b", chart[:200])
    assert integrity["src"] == "sha384-" + base64.b64encode(hashlib.sha384(chart).digest()).decode()
    # Debian builds Bootstrap's CSS from source (its bytes differ from the release), so only the
    # version can be compared here; the hash is the one Bootstrap publishes for that release.
    with open(DEBIAN_BOOTSTRAP, "rb") as f:
        assert re.search(rb"Bootstrap +v5\.2\.3\b", f.read()[:200])
    assert re.fullmatch(r"sha384-[A-Za-z0-9+/]{64}", integrity["href"])

