"""The dashboard's time-range picker (issue 13, point 4), in a real browser (Debian's headless
Chromium) against the real server. The server keeps a window of only 50 listens; 216 are produced
over the last three days, so "Last 24 hours" and a custom range of the day before reach into the
history store: the table, the key figures and the timeline must then show exactly the produced
listens of that range, and the page must say the figures come from the history. Live (the
default) shows the window as before; sorting by another column than time is explained, not
refused, over the history; a bad custom range is said and not applied; a reload keeps the range,
and the old `last=60m` links still open the last hour."""
import json
import time
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser_helpers import (
    PUBLIC_DIR, click, open_page, query_of, require_chromium, row_ids, set_custom_range, severe_console_entries,
    wait,
)
from browser_helpers import driver, fresh_console  # noqa: F401 (fixtures)
from test_browser_accessibility import axe_source, serious_violations
from test_pipeline import kcat_produce

MINUTE = 60_000
HOUR = 60 * MINUTE
TOTAL = 216
WINDOW = 50
USERS = ["u%d" % k for k in range(9)]
PLATFORMS = ["Spotify", "Apple Music", "YouTube Music", "Deezer"]


@pytest.fixture(scope="module")
def server(start_server, tmp_path_factory):
    require_chromium()
    data = tmp_path_factory.mktemp("range-data")
    return start_server("--no-simulate", "--window", str(WINDOW), "--data-dir", str(data), "--public-dir", PUBLIC_DIR)


def history_stored(server):
    return server.get("/api/status").json()["history"]["stored"]


@pytest.fixture(scope="module")
def produced(server):
    """One listen every 20 minutes over the last 72 hours, the newest 10 minutes ago: every range
    boundary the tests use (an hour, a day, the custom range's ends) lies 10 minutes from the
    nearest listen, so the seconds the tests take never move a listen across one. One key, so one
    partition: the window holds the newest 50 (the last 16 hours)."""
    run = uuid.uuid4().hex[:8]
    now = int(time.time() * 1000)
    start = now - 72 * HOUR
    listens = []
    for i in range(TOTAL):
        skipped = i % 3 == 0
        user = USERS[(i * 5) % len(USERS)]
        listens.append({
            "event_id": str(uuid.uuid4()), "user_id": "%s-%s" % (user, run), "username": "%s.%s" % (user, run),
            "email": "%s.%s@example.org" % (user, run), "track_id": "t-%d" % i, "title": "Range song %d" % i,
            "artist": "Artist %d" % (i % 7), "genre": "Genre%d" % (i % 4), "platform": PLATFORMS[i % 4],
            "mood": "Calm", "city": "Porto", "country": "Portugal", "duration": 200,
            "listen_position": 40 if skipped else 190, "completed": not skipped, "skipped": skipped,
            "rating": (i * 7) % 6, "timestamp": start + 10 * MINUTE + i * 20 * MINUTE,
        })
    kcat_produce(server.bootstrap, [json.dumps(e) for e in listens], key="range-" + run)
    deadline = time.monotonic() + 60
    while history_stored(server) < TOTAL and time.monotonic() < deadline:
        time.sleep(0.2)
    assert history_stored(server) == TOTAL
    deadline = time.monotonic() + 30
    while server.get("/api/status").json()["window"]["size"] < WINDOW and time.monotonic() < deadline:
        time.sleep(0.2)
    assert server.get("/api/status").json()["window"]["size"] == WINDOW
    return {"now": now, "listens": listens}


def newest_first(events):
    return [e["event_id"] for e in sorted(events, key=lambda e: e["timestamp"], reverse=True)]


def within(produced, since, until=None):
    return [e for e in produced["listens"] if e["timestamp"] >= since and (until is None or e["timestamp"] < until)]


def text(browser, element_id):
    return browser.find_element(By.ID, element_id).text


def source(browser):
    return browser.find_element(By.ID, "data-source").get_attribute("data-source")


def timeline(browser):
    """The timeline chart's label, span and totals (played + skipped, skipped), as drawn."""
    return browser.execute_script("""
        const c = window.Chart && Chart.getChart('chart-timeline');
        if (!c) return null;
        const sum = (d) => d.reduce((a, b) => a + b, 0);
        const [played, skipped] = c.data.datasets.map((d) => sum(d.data));
        return {label: document.getElementById('chart-timeline-label').textContent,
                span: document.getElementById('chart-timeline-span').textContent,
                bars: c.data.labels.length, total: played + skipped, skipped: skipped};""")


def kpis(browser):
    return {k: text(browser, "kpi-" + k) for k in ["window", "matching", "skip", "rating", "listeners"]}


def expected_kpis(events):
    n = len(events)
    return {
        "window": str(n), "matching": str(n),
        "skip": "%d%%" % round(100 * sum(e["skipped"] for e in events) / n),
        "rating": sum(e["rating"] for e in events) / n,
        "listeners": str(len({e["user_id"] for e in events})),
    }


def check_range(browser, events, bucket_label, span=None):
    """The table, figures and timeline show exactly `events`, from the history."""
    ids = newest_first(events)
    wait(browser, lambda b: row_ids(b) == ids, "the table does not show exactly the range's listens")
    wait(browser, lambda b: source(b) == "history", "the source note does not say history")
    assert text(browser, "data-source") == "From the history store"
    assert browser.find_element(By.ID, "kpi-window-label").get_attribute("textContent") == "Listens in range"
    want = expected_kpis(events)
    wait(browser, lambda b: {k: v for k, v in kpis(b).items() if k != "rating"} ==
         {k: v for k, v in want.items() if k != "rating"}, "the figures are not the range's: %s" % want)
    assert abs(float(text(browser, "kpi-rating")) - want["rating"]) <= 0.051
    assert text(browser, "table-summary") == "Showing %d of %d matching" % (len(events), len(events))
    skipped = sum(e["skipped"] for e in events)
    wait(browser, lambda b: (lambda t: t and t["label"] == bucket_label and t["total"] == len(events)
                             and t["skipped"] == skipped)(timeline(b)),
         "the timeline does not count the range's listens in %s" % bucket_label)
    if span:
        assert timeline(browser)["span"] == span


def check_live(browser, produced):
    window = newest_first(produced["listens"])[:WINDOW]
    wait(browser, lambda b: row_ids(b) == window, "Live does not show the window")
    wait(browser, lambda b: source(b) == "window", "the source note does not say window")
    assert text(browser, "data-source") == "From the live window"
    assert browser.find_element(By.ID, "kpi-window-label").get_attribute("textContent") == "Events in window"
    wait(browser, lambda b: text(b, "kpi-window") == str(WINDOW), "the window's size is not shown")
    wait(browser, lambda b: (lambda t: t and t["label"] == "Listens per second" and t["span"] == "(last 2 min)")(timeline(b)),
         "Live's timeline is not the last 2 minutes")
    assert browser.find_element(By.CSS_SELECTOR, 'th[data-sort="artist"] > .app-sort').get_attribute("aria-disabled") is None
    assert not browser.find_element(By.ID, "sort-history-note").is_displayed()


def pick(browser, value):
    Select(browser.find_element(By.ID, "f-range")).select_by_value(value)


def test_live_then_last_24_hours_from_the_history_and_back(driver, server, produced):
    open_page(driver, server, "?rows=100")
    assert Select(driver.find_element(By.ID, "f-range")).first_selected_option.text == "Live"
    check_live(driver, produced)

    pick(driver, "24h")
    wait(driver, lambda b: query_of(b).get("last") == ["24h"], "the URL did not get last=24h")
    assert "since" not in query_of(driver), "a rolling range is not pinned in the URL"
    day = within(produced, int(time.time() * 1000) - 24 * HOUR)
    assert len(day) == 72 and len(day) > WINDOW, "more than the window holds"
    check_range(driver, day, "Listens per minute", "(last 24 hours)")
    assert timeline(driver)["bars"] >= 24 * 60

    # The other columns do not sort over the history, and say why.
    artist = driver.find_element(By.CSS_SELECTOR, 'th[data-sort="artist"] > .app-sort')
    assert artist.get_attribute("aria-disabled") == "true"
    assert artist.get_attribute("aria-describedby") == "sort-history-note"
    assert driver.find_element(By.ID, "sort-history-note").is_displayed()
    assert driver.find_element(By.CSS_SELECTOR, 'th[data-sort="timestamp"] > .app-sort').get_attribute("aria-disabled") is None
    click(driver, artist)
    time.sleep(0.5)
    assert "sort_by" not in query_of(driver) and row_ids(driver) == newest_first(day)

    # Another filter on top: still the history, still exact.
    Select(driver.find_element(By.ID, "f-skipped")).select_by_value("true")
    skipped = [e for e in day if e["skipped"]]
    wait(driver, lambda b: row_ids(b) == newest_first(skipped), "skipped=true over the day is not exact")
    wait(driver, lambda b: text(b, "kpi-matching") == str(len(skipped)), "the matching count is not the day's skips")
    wait(driver, lambda b: (lambda t: t and t["total"] == len(skipped))(timeline(b)), "the timeline ignores the filter")
    Select(driver.find_element(By.ID, "f-skipped")).select_by_value("")

    # A reload keeps the range.
    driver.refresh()
    wait(driver, lambda b: Select(b.find_element(By.ID, "f-range")).first_selected_option.get_attribute("value") == "24h",
         "the range was lost on reload")
    check_range(driver, day, "Listens per minute", "(last 24 hours)")

    pick(driver, "")
    wait(driver, lambda b: "last" not in query_of(b), "Live left last= in the URL")
    check_live(driver, produced)
    assert severe_console_entries(driver) == []


def test_a_custom_range_of_the_day_before(driver, server, produced):
    open_page(driver, server, "?rows=100")
    now = produced["now"]
    # The inputs hold whole seconds.
    since, until = (now - 60 * HOUR) // 1000 * 1000, (now - 30 * HOUR) // 1000 * 1000
    pick(driver, "custom")
    assert driver.find_element(By.ID, "f-since").is_displayed() and driver.find_element(By.ID, "f-until").is_displayed()
    set_custom_range(driver, since, until)
    wait(driver, lambda b: query_of(b).get("since") == [str(since)] and query_of(b).get("until") == [str(until)],
         "the URL did not get the custom since/until")
    events = within(produced, since, until)
    assert len(events) == 90
    check_range(driver, events, "Listens per hour")
    assert timeline(driver)["bars"] == 31   # 30 hours from a time that is not on the hour

    # A reload keeps it.
    driver.refresh()
    wait(driver, lambda b: Select(b.find_element(By.ID, "f-range")).first_selected_option.get_attribute("value") == "custom",
         "the custom range was lost on reload")
    assert driver.find_element(By.ID, "f-since").is_displayed()
    check_range(driver, events, "Listens per hour")

    # From after Until: said on the input, not applied (the view keeps its range).
    set_custom_range(driver, until, since)
    error = driver.find_element(By.ID, "f-range-error")
    wait(driver, lambda b: error.text.startswith("Until must be after From."), "no problem shown for a reversed range")
    assert driver.find_element(By.ID, "f-until").get_attribute("aria-invalid") == "true"
    assert driver.find_element(By.ID, "f-since").get_attribute("aria-invalid") is None
    time.sleep(0.5)
    assert query_of(driver).get("since") == [str(since)] and query_of(driver).get("until") == [str(until)]
    assert row_ids(driver) == newest_first(events)
    # Absurd: before 2000 (mid-1999, a valid time in any zone).
    set_custom_range(driver, 930_000_000_000, until)
    wait(driver, lambda b: error.text.startswith("From is before the year 2000."), "no problem shown for 1970")
    assert driver.find_element(By.ID, "f-since").get_attribute("aria-invalid") == "true"
    # Fixed: applied, and the message goes.
    set_custom_range(driver, since, until)
    wait(driver, lambda b: error.text == "", "the problem stayed after the fix")
    assert driver.find_element(By.ID, "f-until").get_attribute("aria-invalid") is None
    check_range(driver, events, "Listens per hour")
    pick(driver, "")
    check_live(driver, produced)
    assert severe_console_entries(driver) == []


def test_a_sort_the_history_refuses_falls_back_to_time(driver, server, produced):
    open_page(driver, server, "?rows=100&sort_by=artist&sort_order=asc")
    wait(driver, lambda b: b.find_element(By.CSS_SELECTOR, 'th[data-sort="artist"]').get_attribute("aria-sort") == "ascending",
         "not sorted by artist")
    pick(driver, "7d")
    wait(driver, lambda b: query_of(b).get("last") == ["7d"] and "sort_by" not in query_of(b),
         "the refused sort stayed in the URL")
    every = produced["listens"]
    assert len(every) > 100
    wait(driver, lambda b: row_ids(b) == newest_first(every)[:100], "the week's newest 100 are not shown in time order")
    assert driver.find_element(By.CSS_SELECTOR, 'th[data-sort="timestamp"]').get_attribute("aria-sort") == "descending"
    assert driver.find_element(By.ID, "sort-history-note").is_displayed()
    wait(driver, lambda b: text(b, "kpi-matching") == str(TOTAL), "the week's count is not every listen")
    wait(driver, lambda b: (lambda t: t and t["label"] == "Listens per hour" and t["total"] == TOTAL)(timeline(b)),
         "the week's timeline does not count every listen")
    assert not driver.find_elements(By.CSS_SELECTOR, "#alerts .app-alert"), "the fallback is no error"
    # The refused request is the only console error.
    assert [e for e in severe_console_entries(driver) if "400" not in e["message"]] == []


def test_old_last_60m_links_open_the_last_hour_from_the_window(driver, server, produced):
    open_page(driver, server, "?last=60m")
    wait(driver, lambda b: query_of(b).get("last") == ["1h"], "last=60m was not read as the last hour")
    assert Select(driver.find_element(By.ID, "f-range")).first_selected_option.text == "Last hour"
    hour = within(produced, int(time.time() * 1000) - HOUR)
    assert len(hour) == 3
    wait(driver, lambda b: row_ids(b) == newest_first(hour), "the last hour's listens are not shown")
    wait(driver, lambda b: source(b) == "window", "the window holds the last hour, and the note should say so")
    wait(driver, lambda b: (lambda t: t and t["label"] == "Listens per minute" and t["total"] == 3)(timeline(b)),
         "the hour's timeline is wrong")
    assert severe_console_entries(driver) == []


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_serious_in_a_history_range(driver, server, produced, theme):
    open_page(driver, server, "?last=24h")
    driver.execute_script("localStorage.setItem('musicstream-theme', arguments[0]);", theme)
    driver.refresh()
    wait(driver, lambda b: source(b) == "history", "not answered from the history")
    wait(driver, lambda b: len(row_ids(b)) == WINDOW, "no rows")
    found = serious_violations(driver, axe_source(), "history range, " + theme)
    pick(driver, "custom")
    set_custom_range(driver, produced["now"] - 10 * HOUR, produced["now"] - 20 * HOUR)
    wait(driver, lambda b: b.find_element(By.ID, "f-range-error").text, "no problem shown")
    found += serious_violations(driver, axe_source(), "custom range problem, " + theme)
    assert found == []
    driver.execute_script("localStorage.clear();")
    assert severe_console_entries(driver) == []
