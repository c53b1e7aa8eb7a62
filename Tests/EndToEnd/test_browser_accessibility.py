"""The dashboard's layout and accessibility (issue 12, points 4, 5 and 7) in a real browser against
the real server: axe-core finds nothing serious in either theme (with rows, the add form open, a form
error shown, the charts as tables); one h1 and unique landmark names; the page header and the
table's column headers stay in view while scrolling; the table's first row is on the first screen;
each chart's table holds the chart's numbers; the time cell shows the zone and milliseconds; the
add form's own inline errors and its guard against publishing the same listen twice.

axe-core's script comes from the axe-playwright-python package (scripts/setup --test installs it
without its playwright dependency); it is only located, never imported, and injected through
selenium."""
import contextlib
import datetime
import importlib.util
import json
import os
import re
import time
import uuid
import zoneinfo

import pytest
from selenium.webdriver.common.by import By

from browser_helpers import (
    CHART_IDS, PUBLIC_DIR, click, open_page, require_chromium, row_ids, save_screenshot,
    severe_console_entries, wait,
)
from browser_helpers import driver  # noqa: F401 (fixtures)
from test_pipeline import canonical_event, kcat_produce


def axe_source():
    spec = importlib.util.find_spec("axe_playwright_python")
    assert spec and spec.submodule_search_locations, \
        "needs axe-playwright-python (scripts/setup --test installs it with --no-deps)"
    path = os.path.join(list(spec.submodule_search_locations)[0], "axe.min.js")
    with open(path, encoding="utf-8") as f:
        return f.read()


@pytest.fixture(scope="module")
def axe_js():
    return axe_source()


@pytest.fixture(scope="module")
def server(start_server):
    require_chromium()
    return start_server("--rate", "5", "--seed", "23", "--public-dir", PUBLIC_DIR)


@pytest.fixture(autouse=True)
def clean_page_state(driver):
    """Each test judges only its own console messages and starts with the default theme and charts."""
    severe_console_entries(driver)
    yield
    with contextlib.suppress(Exception):
        driver.execute_script("localStorage.clear();")


@contextlib.contextmanager
def screen(browser, width, height, mobile=False):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 2 if mobile else 1, "mobile": mobile})
    try:
        yield
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def token():
    return "a11y" + uuid.uuid4().hex[:10]


def produce(server, events):
    for event in events:
        kcat_produce(server.bootstrap, [json.dumps(event)], key=event["user_id"])


def open_with_theme(browser, server, theme, query=""):
    open_page(browser, server, query)
    browser.execute_script("localStorage.setItem('musicstream-theme', arguments[0]);", theme)
    browser.refresh()
    wait(browser, lambda b: row_ids(b), "no rows after the reload")
    assert browser.execute_script("return document.documentElement.dataset.theme;") == theme


def charts_have_data(browser):
    return browser.execute_script(
        "return !!window.Chart && arguments[0].every((id) => Chart.getChart(id).data.labels.length > 0);", CHART_IDS)


# ---------- axe-core ----------

AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(
  (r) => done(r.violations.map((v) => ({impact: v.impact, id: v.id, help: v.help,
    nodes: v.nodes.map((n) => [n.target.join(' '), n.failureSummary])}))),
  (e) => done({error: String(e)}));
"""


def serious_violations(browser, axe_js, when):
    if not browser.execute_script("return typeof window.axe === 'object';"):
        browser.execute_script(axe_js)  # WebDriver scripts are not subject to the page's CSP
    violations = browser.execute_async_script(AXE_RUN)
    assert not isinstance(violations, dict), violations
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    for v in serious:  # shown when the test fails
        print("axe, %s: %s %s (%s), %d node(s):" % (when, v["impact"], v["id"], v["help"], len(v["nodes"])))
        for target, summary in v["nodes"][:10]:
            print("   ", target, "::", " ".join(summary.split()))
    return [(when, v["impact"], v["id"], len(v["nodes"])) for v in serious]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_serious_violation(driver, server, axe_js, theme):
    found = []
    with screen(driver, 1400, 1000):
        open_with_theme(driver, server, theme)
        wait(driver, charts_have_data, "charts never got data")
        # The table stands still while axe reads it (rows arriving mid-run would be judged half-built).
        click(driver, driver.find_element(By.ID, "pause"))
        found += serious_violations(driver, axe_js, "with rows")
        click(driver, driver.find_element(By.ID, "charts-as-tables"))
        found += serious_violations(driver, axe_js, "charts as tables")
        click(driver, driver.find_element(By.ID, "charts-as-tables"))
        click(driver, driver.find_element(By.ID, "add-toggle"))
        wait(driver, lambda b: b.find_element(By.ID, "add-panel").is_displayed(), "the form did not open")
        found += serious_violations(driver, axe_js, "add form open")
        driver.execute_script("document.getElementById('add-title').value = '';")
        click(driver, driver.find_element(By.ID, "add-submit"))
        wait(driver, lambda b: b.find_element(By.ID, "add-title-error").text, "no inline error shown")
        found += serious_violations(driver, axe_js, "form error shown")
        click(driver, driver.find_element(By.ID, "add-cancel"))
        # A listener's history, open over the page (js/user-history.js).
        click(driver, driver.find_element(By.CSS_SELECTOR, "#rows .app-user-link"))
        wait(driver, lambda b: b.find_element(By.ID, "history-count").text, "the history never showed")
        found += serious_violations(driver, axe_js, "history open")
        assert_unique_landmarks(driver)
        click(driver, driver.find_element(By.ID, "history-close"))
    with screen(driver, 390, 844, mobile=True):
        open_with_theme(driver, server, theme)
        click(driver, driver.find_element(By.ID, "pause"))
        found += serious_violations(driver, axe_js, "phone")
    assert found == [], "axe found serious or critical violations (listed above): %s" % found
    assert severe_console_entries(driver) == []


# ---------- structure ----------

LANDMARK_ROLES = {"banner", "main", "contentinfo", "region", "form", "search", "navigation", "complementary"}


def landmarks_of(browser):
    nodes = browser.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]
    return [(n["role"]["value"], str(n.get("name", {}).get("value", "")).strip()) for n in nodes
            if not n.get("ignored") and n.get("role", {}).get("value") in LANDMARK_ROLES]


def assert_unique_landmarks(browser):
    names = [name for _, name in landmarks_of(browser) if name]
    assert sorted(names) == sorted(set(names)), "landmark names repeat: %s" % names


def test_one_h1_and_unique_landmark_names(driver, server):
    open_page(driver, server)
    click(driver, driver.find_element(By.ID, "add-toggle"))  # its form is a landmark too
    headings = driver.find_elements(By.TAG_NAME, "h1")
    assert [h.text for h in headings] == ["musicstream"]
    landmarks = landmarks_of(driver)
    names = [name for _, name in landmarks if name]
    assert len(landmarks) >= 8, landmarks
    assert sorted(names) == sorted(set(names)), "landmark names repeat: %s" % landmarks
    assert ("region", "Latest listens") in landmarks and ("region", "Table of latest listens") in landmarks
    # Every region is named (an unnamed section is no landmark, a named one must say what it is).
    assert all(name for role, name in landmarks if role in ("region", "form", "search")), landmarks
    click(driver, driver.find_element(By.ID, "add-cancel"))


# ---------- layout ----------

# Whether the element is on screen and is what the browser shows at its centre (not covered by the
# sticky page header, not scrolled out of its box).
VISIBLE_SCRIPT = """
const el = arguments[0], r = el.getBoundingClientRect();
if (r.width === 0 || r.bottom <= 0 || r.top >= innerHeight || r.right <= 0 || r.left >= innerWidth) return false;
const x = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1);
const y = Math.min(Math.max(r.top + r.height / 2, 0), innerHeight - 1);
const hit = document.elementFromPoint(x, y);
return !!hit && (hit === el || el.contains(hit));
"""


def shown(browser, element):
    return browser.execute_script(VISIBLE_SCRIPT, element)


def header_cells(browser):
    return [th for th in browser.find_elements(By.CSS_SELECTOR, ".app-table thead th") if th.is_displayed()]


def first_row_box(browser):
    return browser.execute_script(
        "const r = document.querySelector('#rows > tr').getBoundingClientRect(); return [r.top, r.bottom];")


def test_sticky_header_and_column_headers_on_a_wide_screen(driver, server):
    with screen(driver, 1400, 1000):
        open_page(driver, server)
        wait(driver, lambda b: len(row_ids(b)) >= 40, "fewer than 40 rows")
        click(driver, driver.find_element(By.ID, "pause"))
        driver.execute_script("window.scrollTo({top: 0, behavior: 'instant'});")
        # The table's first row is on the first screen, below the charts.
        top, bottom = first_row_box(driver)
        assert bottom <= 1000, "the first row is %d px down" % top
        # Scrolled down into the rows: the connection badge and the column headers are still shown.
        # (Bootstrap makes scrolling smooth; the test's is instant.)
        driver.execute_script("window.scrollTo({top: arguments[0] + 400, behavior: 'instant'});", top)
        assert driver.execute_script("return scrollY;") >= top + 399
        assert shown(driver, driver.find_element(By.ID, "connection"))
        cells = header_cells(driver)
        assert len(cells) >= 13
        assert [th.text for th in cells if not shown(driver, th)] == []
        # ... right below the page header, over the rows that went by.
        header_bottom = driver.execute_script("return document.querySelector('.app-header').getBoundingClientRect().bottom;")
        th_top = driver.execute_script("return arguments[0].getBoundingClientRect().top;", cells[0])
        assert abs(th_top - header_bottom) <= 2, (th_top, header_bottom)
        assert driver.execute_script("return document.querySelector('#rows > tr').getBoundingClientRect().bottom;") < th_top
        save_screenshot(driver, "dashboard-desktop-scrolled.png")
        # The table does not scroll sideways here, so it must fit whatever the names: the longest
        # in every cell still leaves the page as wide as the screen.
        driver.execute_script("""
            const long = 'W'.repeat(64);
            document.querySelectorAll('#rows > tr').forEach((tr) => Array.from(tr.cells).forEach((td) => {
              const name = td.querySelector('.app-title, .app-user, .app-artist, .app-chip');
              if (name) name.textContent = long;
              else if (!td.querySelector('time, .app-pct, .app-stars, .app-flag')) td.textContent = long;
            }));""")
        assert driver.execute_script(
            "const w = document.getElementById('table-wrap');"
            "return [w.scrollWidth <= w.clientWidth, document.documentElement.scrollWidth <= innerWidth];") == [True, True]
        click(driver, driver.find_element(By.ID, "pause"))
        driver.refresh()  # the real rows again
    assert severe_console_entries(driver) == []


def test_phone_layout_reaches_the_table_and_keeps_headers(driver, server):
    with screen(driver, 390, 844, mobile=True):
        open_page(driver, server)
        wait(driver, charts_have_data, "charts never got data")
        # The charts start folded on a phone, so the table is on the first screen.
        toggle = driver.find_element(By.ID, "charts-toggle")
        assert toggle.get_attribute("aria-expanded") == "false" and toggle.text == "Show charts"
        assert not driver.find_element(By.ID, "charts").is_displayed()
        top, _ = first_row_box(driver)
        assert top < 844, "the first row is %d px down" % top
        assert driver.execute_script("return document.documentElement.scrollWidth;") <= 390
        # The table scrolls in its own box, at most a screen high; its headers stick in it.
        wait(driver, lambda b: len(row_ids(b)) >= 40, "fewer than 40 rows")
        click(driver, driver.find_element(By.ID, "pause"))
        wrap = driver.find_element(By.ID, "table-wrap")
        driver.execute_script("arguments[0].scrollIntoView({block: 'end', behavior: 'instant'});"
                              "arguments[0].scrollTo({top: 600, behavior: 'instant'});", wrap)
        assert driver.execute_script("return arguments[0].scrollTop;", wrap) > 500
        assert shown(driver, driver.find_element(By.ID, "connection"))
        assert [th.text for th in header_cells(driver)[:2] if not shown(driver, th)] == []
        driver.execute_script("arguments[0].scrollTo({top: 0, behavior: 'instant'});"
                              "window.scrollTo({top: 0, behavior: 'instant'});", wrap)
        click(driver, driver.find_element(By.ID, "pause"))
        # "Show charts" unfolds them, drawn at the phone's width.
        click(driver, toggle)
        assert toggle.get_attribute("aria-expanded") == "true" and toggle.text == "Hide charts"
        assert driver.find_element(By.ID, "charts").is_displayed()
        wait(driver, lambda b: b.execute_script(
            "return arguments[0].every((id) => document.getElementById(id).getBoundingClientRect().width > 300);",
            CHART_IDS), "the unfolded charts were not drawn")
        driver.execute_script("document.getElementById('charts-card').scrollIntoView();")
        save_screenshot(driver, "dashboard-phone-charts.png")
        # The choice is kept across a reload.
        driver.refresh()
        wait(driver, lambda b: b.find_element(By.ID, "charts-toggle").get_attribute("aria-expanded") == "true",
             "the unfolded charts did not stay unfolded")
    assert severe_console_entries(driver) == []


# ---------- charts ----------

# Each chart's labels and numbers, and its table's, read in one step (live data moves).
CHART_AND_TABLE = """
return arguments[0].map((id) => {
  const c = Chart.getChart(id);
  const table = document.getElementById(id).closest('figure').querySelector('table');
  return {
    type: c.config.type,
    labels: c.data.labels.map(String),
    series: c.data.datasets.map((d) => d.data),
    heads: Array.from(table.tHead.rows[0].cells).map((th) => th.textContent),
    rows: Array.from(table.tBodies[0].rows).map((tr) => Array.from(tr.cells).map((td) => td.textContent)),
    named: document.getElementById(table.getAttribute('aria-labelledby')).textContent.trim(),
  };
});
"""


def number(cell):
    return float(cell.replace(",", "").rstrip("%"))


def test_every_chart_has_a_table_with_its_numbers(driver, server):
    tag = token()
    # Ten platforms: a donut shows at most eight slices (the smallest three become one).
    produce(server, [canonical_event(title="Chart %s" % tag, platform="Plat%d" % i, mood="Mood%d" % (i % 9),
                                     rating=i % 6, listen_position=10 * i, duration=100) for i in range(10)])
    open_page(driver, server, "?q=" + tag)
    wait(driver, lambda b: len(row_ids(b)) == 10, "the ten listens did not show")
    wait(driver, lambda b: b.execute_script(
        "return Chart.getChart('chart-rating').data.labels.length === 10 "
        "&& Chart.getChart('chart-platform').data.labels.length === 8;"), "the charts did not follow")
    # Charts are redrawn one per frame, their tables with them: wait for the last one.
    wait(driver, lambda b: all([row[0] for row in c["rows"]] == c["labels"]
                               for c in b.execute_script(CHART_AND_TABLE, CHART_IDS)), "the tables did not follow")
    charts = dict(zip(CHART_IDS, driver.execute_script(CHART_AND_TABLE, CHART_IDS)))
    for chart_id, c in charts.items():
        assert c["named"], chart_id
        assert len(c["heads"]) == 1 + len(c["series"]), (chart_id, c["heads"])
        assert [row[0] for row in c["rows"]] == c["labels"], chart_id
        for i, data in enumerate(c["series"]):
            assert [number(row[1 + i]) for row in c["rows"]] == [pytest.approx(v) for v in data], chart_id
        # More than eight categories are bars, never a donut.
        assert c["type"] == "bar" or len(c["labels"]) <= 8, (chart_id, c["type"], len(c["labels"]))
    assert charts["chart-mood"]["type"] == "bar"
    platform = charts["chart-platform"]
    assert platform["type"] == "doughnut" and platform["labels"][-1] == "Others (3)"
    assert sum(platform["series"][0]) == 10
    assert charts["chart-skip"]["heads"] == ["Platform", "Skip rate"]
    assert all(row[1].endswith("%") for row in charts["chart-skip"]["rows"])

    # "Show as tables" swaps the charts for their tables, reachable by keyboard; and back.
    button = driver.find_element(By.ID, "charts-as-tables")
    click(driver, button)
    assert button.text == "Show as charts"
    assert driver.execute_script("""
        return Array.from(document.querySelectorAll('#charts figure')).every((f) =>
          f.querySelector('.app-chart-box').getBoundingClientRect().height === 0
          && f.querySelector('table').getBoundingClientRect().width > 100
          && f.querySelector('.app-chart-data').tabIndex === 0);""")
    # Live: a new listen reaches the chart and its table alike.
    produce(server, [canonical_event(title="Chart %s" % tag, platform="Plat0", mood="Mood0", rating=5)])
    wait(driver, lambda b: b.execute_script(CHART_AND_TABLE, ["chart-genre"])[0]["rows"] == [["Alt Pop", "11"]],
         "the genre table did not follow live")
    click(driver, button)
    assert button.text == "Show as tables"
    assert driver.execute_script("""
        return Array.from(document.querySelectorAll('#charts figure')).every((f) =>
          f.querySelector('canvas').getBoundingClientRect().height > 50
          && !f.querySelector('.app-chart-data').hasAttribute('tabindex'));""")
    assert severe_console_entries(driver) == []


# ---------- the time cell ----------

def test_time_cell_shows_zone_and_milliseconds(driver, server):
    tag = token()
    second = (int(time.time()) - 5) * 1000
    same_second = [canonical_event(title="Time %s" % tag, timestamp=second + ms) for ms in (7, 123, 980)]
    produce(server, same_second)
    driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Europe/Berlin"})
    try:
        open_page(driver, server, "?q=" + tag)
        wait(driver, lambda b: len(row_ids(b)) == 3, "the three listens did not show")
        berlin = zoneinfo.ZoneInfo("Europe/Berlin")
        expected = {}
        instants = {e["event_id"]: datetime.datetime.fromtimestamp(e["timestamp"] / 1000, datetime.timezone.utc)
                    .isoformat(timespec="milliseconds").replace("+00:00", "Z") for e in same_second}
        for event in same_second:
            local = datetime.datetime.fromtimestamp(event["timestamp"] / 1000, berlin)
            expected[event["event_id"]] = local.strftime("%H:%M:%S.") + "%03d" % (event["timestamp"] % 1000)
        shown_times = driver.execute_script("""
            return Array.from(document.querySelectorAll('#rows > tr')).map((tr) => {
              const t = tr.cells[0].querySelector('time');
              return [tr.dataset.eventId, t.textContent, t.title, t.dateTime]; });""")
        for event_id, text, title, iso in shown_times:
            assert text == expected[event_id], (text, expected[event_id])
            assert re.search(r"Central European (Standard|Summer) Time", title), title
            assert text in title  # the tooltip has the milliseconds too
            assert iso == instants[event_id]
        zone = driver.execute_script(
            "return new Intl.DateTimeFormat(undefined, {timeZoneName: 'short'}).formatToParts(new Date())"
            ".find((p) => p.type === 'timeZoneName').value;")
        assert zone in ("GMT+1", "GMT+2", "CET", "CEST")
        header = driver.find_element(By.CSS_SELECTOR, 'th[data-sort="timestamp"]')
        assert driver.find_element(By.ID, "time-zone").text == "(%s)" % zone
        assert " ".join(header.text.split()).upper() == "TIME (%s)" % zone.upper()
    finally:
        driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": ""})
    assert severe_console_entries(driver) == []


# ---------- the add-a-listen form ----------

def fill(browser, values):
    for name, value in values.items():
        field = browser.find_element(By.ID, "add-" + name)
        field.clear()
        if value != "":
            field.send_keys(str(value))


def field_state(browser, name):
    return browser.execute_script("""
        const el = document.getElementById('add-' + arguments[0]);
        const described = (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean)
          .map((id) => document.getElementById(id)).filter((e) => e && e.textContent.trim());
        return {invalid: el.getAttribute('aria-invalid'), message: described.map((e) => e.textContent).join(' '),
                visible: described.every((e) => e.getBoundingClientRect().height > 0)};""", name)


COUNT_POSTS = """
if (!window.__posts) {
  window.__posts = [];
  const original = window.fetch;
  window.fetch = (url, options) => {
    if (options && options.method === 'POST') window.__posts.push(JSON.parse(options.body));
    return original(url, options);
  };
}
"""


def test_add_form_shows_its_own_errors_and_does_not_publish_twice(driver, server):
    open_page(driver, server)
    driver.execute_script(COUNT_POSTS)
    click(driver, driver.find_element(By.ID, "add-toggle"))
    wait(driver, lambda b: b.find_element(By.ID, "add-panel").is_displayed(), "the form did not open")
    fill(driver, {"title": "", "artist": "   ", "email": "not-an-email", "rating": 6, "duration": 100,
                  "listen_position": 150})
    click(driver, driver.find_element(By.ID, "add-submit"))
    status = driver.find_element(By.ID, "add-status")
    wait(driver, lambda b: status.get_attribute("data-state") == "error", "no error in the status line")
    expected = {
        "title": "Title is required.",
        "artist": "Artist must not be only spaces.",
        "email": "Enter an e-mail address such as name@example.com.",
        "rating": "Rating must be from 0 to 5.",
        "listen_position": "Listened up to must not be more than the duration (100 s).",
    }
    for name, message in expected.items():
        assert field_state(driver, name) == {"invalid": "true", "message": message, "visible": True}, name
    assert field_state(driver, "genre") == {"invalid": None, "message": "", "visible": True}
    assert "5 fields need attention" in status.text
    # Focus is on the first field to fix; nothing was sent.
    assert driver.execute_script("return document.activeElement.id;") == "add-title"
    assert driver.execute_script("return window.__posts.length;") == 0
    save_screenshot(driver, "dashboard-add-form-errors.png")

    # Fixing a field takes its message away as it is typed; a still-wrong value keeps one.
    fill(driver, {"rating": -1})
    assert field_state(driver, "rating")["message"] == "Rating must be from 0 to 5."
    title = "Accessible listen " + uuid.uuid4().hex[:8]
    fill(driver, {"title": title, "artist": "Form Band", "email": "listener@example.com", "rating": 0,
                  "listen_position": 60})
    for name in expected:
        assert field_state(driver, name) == {"invalid": None, "message": "", "visible": True}, name
    track_id = driver.find_element(By.ID, "add-track_id").get_attribute("value")

    click(driver, driver.find_element(By.ID, "add-submit"))
    wait(driver, lambda b: status.get_attribute("data-state") in ("ok", "error"), "no publish result")
    assert status.get_attribute("data-state") == "ok", status.text
    # Focus moves to the result, and what would publish the same listen again is cleared.
    assert driver.execute_script("return document.activeElement.id;") == "add-status"
    assert driver.find_element(By.ID, "add-title").get_attribute("value") == ""
    assert driver.find_element(By.ID, "add-track_id").get_attribute("value") not in ("", track_id)
    posts = driver.execute_script("return window.__posts;")
    assert [(p["title"], p["email"], p["rating"]) for p in posts] == [(title, "listener@example.com", 0)]
    event_id = status.get_attribute("data-event-id")
    wait(driver, lambda b: event_id in row_ids(b), "the published listen never showed up", timeout=20)
    # A second press does not send it again: the title is asked for.
    click(driver, driver.find_element(By.ID, "add-submit"))
    wait(driver, lambda b: field_state(b, "title")["message"] == "Title is required.", "no second-press error")
    assert driver.execute_script("return window.__posts.length;") == 1
    click(driver, driver.find_element(By.ID, "add-cancel"))
    assert severe_console_entries(driver) == []
