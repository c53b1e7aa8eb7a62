"""The dashboard page in a real browser (Debian's headless Chromium through chromedriver) against the
real server: live rows over SSE, the genre filter and the URL, escaping of hostile event text, the
add-a-listen form (success and a server-side validation error), the charts, the theme toggle,
sorting by column header, and screenshots at desktop and phone widths (written to
test-artifacts/screenshots/). More of the page: test_browser_dashboard.py; restarts and the CDN
fallback: test_browser_resilience.py."""
import json
import os
import urllib.parse
import uuid

import pytest

from browser_helpers import (  # noqa: E402
    CHART_IDS, PUBLIC_DIR, choose_in_picker, click, open_page, picker_options, query_of,
    require_chromium, row_genres, row_ids, save_full_page, save_screenshot, severe_console_entries, wait,
)
from browser_helpers import driver  # noqa: F401 (fixtures)
from selenium.webdriver.common.by import By  # noqa: E402

from test_pipeline import canonical_event, kcat_produce  # noqa: E402

@pytest.fixture(scope="module")
def server(start_server):
    require_chromium()
    return start_server("--rate", "5", "--seed", "3", "--public-dir", PUBLIC_DIR)


def test_page_loads_without_console_errors(driver, server):
    severe_console_entries(driver)  # start from an empty log
    open_page(driver, server)
    assert driver.title == "musicstream · live listens"
    assert driver.find_element(By.ID, "events-heading").text == "Latest listens"
    assert driver.find_element(By.CSS_SELECTOR, ".app-brand-name").text == "musicstream"
    # Bootstrap (served from Debian's package under /vendor/) is applied: its custom properties are
    # set, from the /vendor/ style sheet, and no CDN fallback was needed.
    assert driver.execute_script(
        "return getComputedStyle(document.documentElement).getPropertyValue('--bs-blue').trim();") != ""
    assert driver.execute_script(
        "return document.getElementById('bootstrap-css').sheet.cssRules.length;") > 100
    assert driver.find_elements(By.CSS_SELECTOR, "[data-fallback]") == []
    assert driver.execute_script("return typeof window.Chart;") == "function"
    # The KPIs and the filter options are filled from the API.
    for kpi in ["kpi-window", "kpi-matching", "kpi-rate", "kpi-listeners", "kpi-skip", "kpi-rating", "kpi-last"]:
        wait(driver, lambda b: b.find_element(By.ID, kpi).text not in ("", "—"), kpi + " never filled")
    wait(driver, lambda b: len(picker_options(b, "genre")) > 1, "no genre options")
    assert driver.find_element(By.ID, "alerts").text == ""
    assert severe_console_entries(driver) == []


def test_rows_arrive_live_without_reload(driver, server):
    open_page(driver, server)
    driver.execute_script("window.__marker = 'still-here';")
    assert driver.execute_script("return performance.getEntriesByType('navigation').length;") == 1
    first = row_ids(driver)
    assert first
    wait(driver, lambda b: len(set(row_ids(b)) - set(first)) >= 3, "no new rows arrived live")
    later = row_ids(driver)
    assert later[0] not in first, "the newest row should be a new one, at the top"
    assert len(later) <= 50
    assert driver.execute_script("return window.__marker;") == "still-here"
    assert driver.execute_script("return performance.getEntriesByType('navigation').length;") == 1
    assert severe_console_entries(driver) == []


def test_genre_filter_updates_table_and_url_and_survives_reload(driver, server):
    open_page(driver, server)
    wait(driver, lambda b: len(picker_options(b, "genre")) > 2, "fewer than three genres offered")
    # The most frequent genre is listed first (its option carries the count).
    choice = picker_options(driver, "genre")[0]
    assert choice
    assert len(set(row_genres(driver))) > 1, "the unfiltered table should show several genres"

    choose_in_picker(driver, "genre", [choice])
    wait(driver, lambda b: query_of(b).get("genre") == [choice], "the URL did not get ?genre=")
    wait(driver, lambda b: (lambda g: g and set(g) == {choice})(row_genres(b)), "rows were not filtered")
    assert driver.find_element(By.ID, "f-genre-value").text == choice
    # The genre chart follows: only the chosen genre is left.
    wait(driver, lambda b: b.execute_script("return Chart.getChart('chart-genre').data.labels;") == [choice],
         "the genre chart did not follow the filter")
    assert driver.execute_script("return performance.getEntriesByType('navigation')[0].type;") == "navigate"
    # Live rows that arrive keep matching the filter.
    before = row_ids(driver)
    wait(driver, lambda b: set(row_ids(b)) - set(before), "no live rows for the chosen genre", timeout=20)
    assert set(row_genres(driver)) == {choice}

    driver.refresh()
    wait(driver, lambda b: b.execute_script("return performance.getEntriesByType('navigation')[0].type;")
         == "reload", "the page did not reload")
    wait(driver, lambda b: row_ids(b), "no rows after the reload")
    assert query_of(driver).get("genre") == [choice]
    checked = "return Array.from(document.querySelectorAll('#f-genre input:checked')).map((i) => i.value);"
    wait(driver, lambda b: b.execute_script(checked) == [choice], "the picker lost the choice on reload")
    wait(driver, lambda b: (lambda g: g and set(g) == {choice})(row_genres(b)), "rows not filtered after reload")
    assert driver.find_element(By.ID, "filter-summary").text == "1 filter active"

    driver.find_element(By.ID, "clear").click()
    wait(driver, lambda b: urllib.parse.urlsplit(b.current_url).query == "", "Clear did not reset the URL")
    assert driver.execute_script(checked) == []
    assert driver.find_element(By.ID, "f-genre-value").text == "Any genre"
    wait(driver, lambda b: len(set(row_genres(b))) > 1, "Clear did not bring back other genres")
    assert driver.find_element(By.ID, "filter-summary").text == "Showing all listens"
    assert severe_console_entries(driver) == []


def test_hostile_event_text_is_shown_as_text(driver, server):
    open_page(driver, server)
    title = "<img src=x onerror=window.__xss=1>"
    artist = "<script>window.__xss=2</script>"
    event = canonical_event(title=title, artist=artist, username='"><b>bold</b>')
    kcat_produce(server.bootstrap, [json.dumps(event)], key=event["user_id"])
    row_selector = '#rows > tr[data-event-id="%s"]' % event["event_id"]
    wait(driver, lambda b: b.find_elements(By.CSS_SELECTOR, row_selector), "the kcat event never showed up")
    row = driver.find_element(By.CSS_SELECTOR, row_selector)
    cells = row.find_elements(By.TAG_NAME, "td")
    assert cells[1].get_attribute("textContent") == '"><b>bold</b>'
    assert cells[2].get_attribute("textContent") == title
    assert cells[3].get_attribute("textContent") == artist
    assert cells[2].text == title  # visible, literally
    assert row.find_elements(By.CSS_SELECTOR, "img, script, b") == []
    assert driver.find_elements(By.CSS_SELECTOR, "#rows img, #rows script") == []
    assert driver.execute_script("return typeof window.__xss;") == "undefined"
    assert severe_console_entries(driver) == []


def fill_add_form(browser, values):
    for name, value in values.items():
        field = browser.find_element(By.ID, "add-" + name)
        field.clear()
        field.send_keys(str(value))


def test_add_listen_form_publishes_event_that_appears_live(driver, server):
    open_page(driver, server)
    toggle = driver.find_element(By.ID, "add-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    click(driver, toggle)
    wait(driver, lambda b: b.find_element(By.ID, "add-panel").is_displayed(), "the form did not open")
    assert toggle.get_attribute("aria-expanded") == "true"
    # Browser validation mirrors the server's rules.
    assert driver.find_element(By.ID, "add-title").get_attribute("maxlength") == "64"
    assert driver.find_element(By.ID, "add-rating").get_attribute("max") == "5"
    assert driver.find_element(By.ID, "add-duration").get_attribute("min") == "1"
    # Free text with suggestions from the facets.
    wait(driver, lambda b: b.execute_script(
        "return document.querySelectorAll('#add-genre-options option').length;") > 0, "no genre suggestions")
    title = "Browser listen " + uuid.uuid4().hex[:12]
    fill_add_form(driver, {"title": title, "artist": "Dashboard Band", "duration": 180,
                           "listen_position": 90, "rating": 3})
    # listen_position above duration is refused by the browser itself (max follows duration).
    fill_add_form(driver, {"listen_position": 500})
    assert driver.execute_script("return document.getElementById('add-listen_position').validity.rangeOverflow;")
    fill_add_form(driver, {"listen_position": 90})
    click(driver, driver.find_element(By.ID, "add-submit"))
    status = driver.find_element(By.ID, "add-status")
    wait(driver, lambda b: status.get_attribute("data-state") in ("ok", "error"), "no publish result")
    assert status.get_attribute("data-state") == "ok", status.text
    event_id = status.get_attribute("data-event-id")
    assert event_id and event_id in status.text and "partition" in status.text and "offset" in status.text
    row_selector = '#rows > tr[data-event-id="%s"]' % event_id
    wait(driver, lambda b: b.find_elements(By.CSS_SELECTOR, row_selector), "the published event never showed up",
         timeout=20)
    cells = driver.execute_script(  # in one step: live rows move while the test reads
        "return Array.from(document.querySelector(arguments[0]).cells).map((td) => td.textContent);", row_selector)
    assert cells[2] == title
    assert cells[3] == "Dashboard Band"
    assert severe_console_entries(driver) == []


def test_add_listen_form_shows_server_validation_error_at_field(driver, server):
    open_page(driver, server)
    click(driver, driver.find_element(By.ID, "add-toggle"))
    wait(driver, lambda b: b.find_element(By.ID, "add-panel").is_displayed(), "the form did not open")
    fill_add_form(driver, {"title": "Too far " + uuid.uuid4().hex[:8], "artist": "Nobody",
                           "duration": 10, "listen_position": 50})
    # Bypass the browser's own check so the server has to refuse it.
    driver.execute_script("document.getElementById('add-form').noValidate = true;")
    click(driver, driver.find_element(By.ID, "add-submit"))
    status = driver.find_element(By.ID, "add-status")
    wait(driver, lambda b: status.get_attribute("data-state") == "error", "no error shown")
    field = driver.find_element(By.ID, "add-listen_position")
    assert field.get_attribute("aria-invalid") == "true"
    assert "is-invalid" in field.get_attribute("class")
    detail = driver.find_element(By.ID, "add-listen_position-error").text
    assert detail and detail in status.text
    assert "listen_position" in detail or "duration" in detail
    # Editing the field clears its error.
    fill_add_form(driver, {"listen_position": 5})
    assert driver.find_element(By.ID, "add-listen_position-error").text == ""
    driver.execute_script("document.getElementById('add-form').noValidate = false;")
    click(driver, driver.find_element(By.ID, "add-cancel"))
    assert not driver.find_element(By.ID, "add-panel").is_displayed()
    # A rejected POST logs a 400 "failed to load resource" line; nothing else may be severe.
    assert [e for e in severe_console_entries(driver) if "/api/events" not in e["message"]] == []


def chart_sizes(browser):
    return browser.execute_script("""
        return arguments[0].map((id) => {
          const c = document.getElementById(id);
          const r = c ? c.getBoundingClientRect() : null;
          return r ? [r.width, r.height, c.width, c.height] : null;
        });""", CHART_IDS)


def test_charts_render_and_update(driver, server):
    severe_console_entries(driver)
    open_page(driver, server)
    assert driver.find_element(By.ID, "charts-note").get_attribute("hidden") is not None
    sizes = chart_sizes(driver)
    assert all(s and min(s) > 0 for s in sizes), sizes
    # Data arrives from /api/timeline and /api/facets.
    counts = lambda b: b.execute_script("""
        return arguments[0].map(
          (id) => { const c = Chart.getChart(id); return c ? c.data.labels.length : -1; });""", CHART_IDS)  # noqa: E731
    wait(driver, lambda b: all(n > 0 for n in counts(b)), "charts never got data")
    # Live updates draw without animation.
    assert driver.execute_script(
        "return arguments[0].every((id) => Chart.getChart(id).options.animation === false);", CHART_IDS)
    timeline_total = lambda b: b.execute_script(  # noqa: E731
        "const c = Chart.getChart('chart-timeline'); return c.data.datasets.reduce("
        "(s, d) => s + d.data.reduce((a, v) => a + v, 0), 0);")
    wait(driver, lambda b: timeline_total(b) > 0, "the timeline has no listens")
    # Live updates keep the same chart objects (updated in place, no re-creation).
    driver.execute_script("window.__chart = Chart.getChart('chart-timeline');")
    first_label = driver.execute_script("return Chart.getChart('chart-timeline').data.labels.slice(-1)[0];")
    wait(driver, lambda b: b.execute_script("return Chart.getChart('chart-timeline').data.labels.slice(-1)[0];")
         != first_label, "the timeline did not move on")
    assert driver.execute_script("return window.__chart === Chart.getChart('chart-timeline');")
    assert severe_console_entries(driver) == []


def test_page_works_without_the_chart_library(driver, server):
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*chart.min.js"]})
    try:
        open_page(driver, server)
        note = driver.find_element(By.ID, "charts-note")
        assert note.is_displayed() and "unavailable" in note.text
        assert not driver.find_element(By.ID, "charts").is_displayed()
        assert driver.execute_script("return typeof window.Chart;") == "undefined"
        # Everything else still works: live rows and the stats-driven figures.
        first = row_ids(driver)
        wait(driver, lambda b: set(row_ids(b)) - set(first), "no live rows without charts")
        wait(driver, lambda b: b.find_element(By.ID, "kpi-rate").text not in ("", "—"), "rate KPI never filled")
    finally:
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        driver.execute_cdp_cmd("Network.disable", {})
    # Only the blocked script itself may be reported.
    assert [e for e in severe_console_entries(driver) if "chart.min.js" not in e["message"]] == []


def test_theme_toggle_switches_and_persists(driver, server):
    open_page(driver, server)
    driver.execute_script("localStorage.removeItem('musicstream-theme');")
    theme = lambda b: b.execute_script("return document.documentElement.dataset.theme;")  # noqa: E731
    background = lambda b: b.execute_script("return getComputedStyle(document.body).backgroundColor;")  # noqa: E731
    initial = theme(driver)
    assert initial in ("light", "dark")
    before = background(driver)
    button = driver.find_element(By.ID, "theme-toggle")
    assert button.get_attribute("aria-pressed") == ("true" if initial == "dark" else "false")
    button.click()
    other = "light" if initial == "dark" else "dark"
    assert theme(driver) == other
    assert button.get_attribute("aria-pressed") == ("true" if other == "dark" else "false")
    assert background(driver) != before
    assert driver.execute_script("return localStorage.getItem('musicstream-theme');") == other
    driver.refresh()
    wait(driver, lambda b: b.execute_script("return document.readyState") == "complete", "page never reloaded")
    assert theme(driver) == other
    assert driver.find_element(By.ID, "theme-toggle").get_attribute("aria-pressed") == \
        ("true" if other == "dark" else "false")
    if other == "dark":
        wait(driver, lambda b: row_ids(b), "no rows after the reload")
        wait(driver, lambda b: b.execute_script(
            "return window.Chart && Chart.getChart('chart-genre').data.labels.length > 0;"), "charts never got data")
        save_screenshot(driver, "dashboard-desktop-dark.png")
    # Keyboard: the toggle is a real button.
    driver.find_element(By.ID, "theme-toggle").send_keys(" ")
    assert theme(driver) == initial
    driver.execute_script("localStorage.removeItem('musicstream-theme');")
    assert severe_console_entries(driver) == []


def test_sort_by_column_header(driver, server):
    open_page(driver, server)
    artist_header = driver.find_element(By.CSS_SELECTOR, 'th[data-sort="artist"]')
    click(driver, artist_header.find_element(By.TAG_NAME, "button"))
    wait(driver, lambda b: query_of(b).get("sort_by") == ["artist"], "the URL did not get sort_by")
    assert query_of(driver).get("sort_order") == ["asc"]
    assert artist_header.get_attribute("aria-sort") == "ascending"
    artists = lambda b: b.execute_script(  # noqa: E731
        "return Array.from(document.querySelectorAll('#rows > tr > td:nth-child(4)')).map((td) => td.textContent);")
    # The server orders text case-insensitively, ties by the exact text.
    in_order = lambda a, reverse=False: len(a) > 1 and a == sorted(  # noqa: E731
        a, key=lambda v: (v.lower(), v), reverse=reverse)
    wait(driver, lambda b: in_order(artists(b)), "rows not sorted by artist")
    click(driver, artist_header.find_element(By.TAG_NAME, "button"))
    wait(driver, lambda b: query_of(b).get("sort_order") == ["desc"], "the order did not flip")
    wait(driver, lambda b: in_order(artists(b), reverse=True), "rows not sorted by artist, descending")
    # Live rows keep the order.
    before = row_ids(driver)
    wait(driver, lambda b: set(row_ids(b)) - set(before), "no live rows arrived in sorted order", timeout=20)
    assert in_order(artists(driver), reverse=True)
    assert not driver.find_element(By.ID, "sort-note").get_attribute("hidden")
    # Back to the default: newest first, and the URL loses the sort parameters.
    time_button = driver.find_element(By.CSS_SELECTOR, 'th[data-sort="timestamp"] > button')
    click(driver, time_button)  # another column: time starts newest first, the default
    wait(driver, lambda b: "sort_by" not in query_of(b), "the default sort should not be in the URL")
    assert severe_console_entries(driver) == []


@pytest.mark.parametrize("name, width, height, mobile", [
    ("desktop", 1400, 900, False),
    ("phone", 390, 844, True),
])
def test_screenshots(driver, server, name, width, height, mobile):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 2 if mobile else 1, "mobile": mobile})
    try:
        open_page(driver, server)
        wait(driver, lambda b: b.find_element(By.ID, "kpi-rate").text not in ("", "—"), "rate KPI never filled")
        wait(driver, lambda b: b.execute_script(
            "return window.Chart && Chart.getChart('chart-timeline').data.labels.length > 0 "
            "&& Chart.getChart('chart-genre').data.labels.length > 0;"), "charts never got data")
        assert driver.execute_script("return window.innerWidth;") == width
        # Nothing but the table (which scrolls inside its own box) may be wider than the screen.
        assert driver.execute_script("return document.documentElement.scrollWidth;") <= width
        path = save_screenshot(driver, "dashboard-%s.png" % name)
        assert os.path.getsize(path) > 10_000
        assert os.path.getsize(save_full_page(driver, "dashboard-%s-full.png" % name)) > 10_000
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert severe_console_entries(driver) == []
