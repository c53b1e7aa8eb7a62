"""The dashboard's filters, table controls, charts and accessibility in a real browser (Debian's
headless Chromium) against the real server. Events made for a test carry a token in their title,
so a search for it isolates them from the simulator's."""
import json
import re
import time
import urllib.parse
import uuid

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from browser_helpers import (
    CHART_IDS, PUBLIC_DIR, choose_in_picker, click, column_texts, open_page, picker_options, query_of,
    require_chromium, row_genres, row_ids, set_custom_range, severe_console_entries, wait,
)
from browser_helpers import driver, fresh_console  # noqa: F401 (fixtures)
from test_pipeline import canonical_event, kcat_produce


@pytest.fixture(scope="module")
def server(start_server):
    require_chromium()
    return start_server("--rate", "5", "--seed", "11", "--public-dir", PUBLIC_DIR)


def token():
    return "tok" + uuid.uuid4().hex[:10]


def listen(tag, **fields):
    """A listen whose title carries `tag`; completed/skipped follow position and duration."""
    event = canonical_event(title="Song %s" % tag, **fields)
    event["completed"] = event["listen_position"] / event["duration"] >= 0.8
    event["skipped"] = not event["completed"]
    return event


def produce(server, events):
    for event in events:
        kcat_produce(server.bootstrap, [json.dumps(event)], key=event["user_id"])


def type_into(browser, element_id, text):
    field = browser.find_element(By.ID, element_id)
    click(browser, field)
    field.clear()
    field.send_keys(text)


def chart_labels(browser, chart_id):
    return browser.execute_script("return Chart.getChart(arguments[0]).data.labels;", chart_id)


def chart_data(browser, chart_id):
    return browser.execute_script("return Chart.getChart(arguments[0]).data.datasets[0].data;", chart_id)


def kpi(browser, element_id):
    return browser.find_element(By.ID, element_id).text


# ---------- filters ----------

def test_free_text_search_filters_table_charts_and_stream_and_survives_reload(driver, server):
    tag = token()
    produce(server, [listen(tag, artist="Search Band"), listen(tag, artist="Search Band")])
    open_page(driver, server)
    type_into(driver, "f-q", tag.upper())  # case-insensitive
    wait(driver, lambda b: query_of(b).get("q") == [tag.upper()], "the URL did not get ?q=")
    wait(driver, lambda b: len(row_ids(b)) == 2, "the search did not narrow the table to the two listens")
    assert all(tag in title for title in column_texts(driver, 3))
    assert driver.find_element(By.ID, "filter-summary").text == "1 filter active"
    # Charts and KPIs follow at once.
    wait(driver, lambda b: chart_labels(b, "chart-artist") == ["Search Band"], "the artist chart did not follow")
    wait(driver, lambda b: kpi(b, "kpi-matching") == "2", "the matching count did not follow")
    # The stream follows too: a new matching listen appears live, others do not.
    late = listen(tag, artist="Search Band")
    produce(server, [late])
    wait(driver, lambda b: late["event_id"] in row_ids(b), "a live matching listen did not appear", timeout=20)
    assert len(row_ids(driver)) == 3
    assert driver.execute_script("return performance.getEntriesByType('navigation')[0].type;") == "navigate"

    driver.refresh()
    wait(driver, lambda b: len(row_ids(b)) == 3, "the search was lost on reload")
    assert driver.find_element(By.ID, "f-q").get_attribute("value") == tag.upper()
    assert severe_console_entries(driver) == []


def test_two_genres_at_once(driver, server):
    open_page(driver, server)
    wait(driver, lambda b: len(picker_options(b, "genre")) >= 3, "fewer than three genres offered")
    first, second = picker_options(driver, "genre")[:2]
    choose_in_picker(driver, "genre", [first, second])
    wait(driver, lambda b: sorted(query_of(b).get("genre", [])) == sorted([first, second]),
         "the URL did not get both genres")
    wait(driver, lambda b: (lambda g: g and set(g) <= {first, second})(row_genres(b)), "rows not filtered")
    # The two most frequent genres both show up among the latest listens.
    wait(driver, lambda b: set(row_genres(b)) == {first, second}, "not both genres listed")
    assert driver.find_element(By.ID, "f-genre-value").text == ", ".join(sorted([first, second], key=str.lower))
    wait(driver, lambda b: sorted(chart_labels(b, "chart-genre")) == sorted([first, second]),
         "the genre chart did not follow")
    # Live rows keep to the two genres.
    before = set(row_ids(driver))
    wait(driver, lambda b: set(row_ids(b)) - before, "no live rows for the chosen genres", timeout=20)
    assert set(row_genres(driver)) <= {first, second}

    driver.refresh()
    wait(driver, lambda b: row_ids(b), "no rows after the reload")
    checked = "return Array.from(document.querySelectorAll('#f-genre input:checked')).map((i) => i.value);"
    wait(driver, lambda b: sorted(b.execute_script(checked)) == sorted([first, second]), "choices lost on reload")
    wait(driver, lambda b: (lambda g: g and set(g) <= {first, second})(row_genres(b)), "not filtered after reload")
    # Unticking one leaves the other.
    picker = driver.find_element(By.ID, "f-genre")
    click(driver, picker.find_element(By.TAG_NAME, "summary"))
    click(driver, [i for i in picker.find_elements(By.TAG_NAME, "input") if i.get_attribute("value") == second][0])
    wait(driver, lambda b: query_of(b).get("genre") == [first], "unticking did not update the URL")
    wait(driver, lambda b: (lambda g: g and set(g) == {first})(row_genres(b)), "rows not filtered to one genre")
    click(driver, picker.find_element(By.CSS_SELECTOR, ".app-multi-clear"))
    wait(driver, lambda b: "genre" not in query_of(b), "the picker's clear button did not clear it")
    assert severe_console_entries(driver) == []


def test_time_range_presets_custom_range_and_user_id(driver, server):
    tag = token()
    now = int(time.time() * 1000)
    old = listen(tag, timestamp=now - 30 * 60_000, username="old.listener")
    recent = listen(tag, timestamp=now - 60_000, username="recent.listener", user_id="user-" + tag)
    produce(server, [old, recent])
    open_page(driver, server, "?q=" + tag)
    wait(driver, lambda b: set(row_ids(b)) == {old["event_id"], recent["event_id"]}, "both listens not shown")

    Select(driver.find_element(By.ID, "f-range")).select_by_value("5m")
    wait(driver, lambda b: query_of(b).get("last") == ["5m"], "the URL did not get last=5m")
    wait(driver, lambda b: row_ids(b) == [recent["event_id"]], "the 5 minute range kept the old listen")
    assert "since" not in query_of(driver), "a rolling range must not be pinned in the URL"
    assert driver.find_element(By.ID, "chart-timeline-span").text == "(last 5 min)"
    driver.refresh()
    wait(driver, lambda b: row_ids(b) == [recent["event_id"]], "the range was lost on reload")
    assert Select(driver.find_element(By.ID, "f-range")).first_selected_option.get_attribute("value") == "5m"

    # A custom range around the old listen only; the API's since/until land in the URL.
    Select(driver.find_element(By.ID, "f-range")).select_by_value("custom")
    assert driver.find_element(By.ID, "f-since").is_displayed() and driver.find_element(By.ID, "f-until").is_displayed()
    set_custom_range(driver, now - 35 * 60_000, now - 25 * 60_000)
    wait(driver, lambda b: "since" in query_of(b) and "until" in query_of(b), "the URL did not get since/until")
    since, until = int(query_of(driver)["since"][0]), int(query_of(driver)["until"][0])
    assert since <= old["timestamp"] < until
    wait(driver, lambda b: row_ids(b) == [old["event_id"]], "the custom range did not select the old listen")
    driver.refresh()
    wait(driver, lambda b: row_ids(b) == [old["event_id"]], "the custom range was lost on reload")
    assert driver.find_element(By.ID, "f-since").is_displayed()

    # user_id: exact, and combined with the others (AND).
    Select(driver.find_element(By.ID, "f-range")).select_by_value("")
    wait(driver, lambda b: len(row_ids(b)) == 2, "clearing the range did not bring both back")
    type_into(driver, "f-user_id", recent["user_id"])
    wait(driver, lambda b: row_ids(b) == [recent["event_id"]], "the user_id filter did not apply")
    assert query_of(driver).get("user_id") == [recent["user_id"]]
    assert column_texts(driver, 2) == ["recent.listener"]
    assert driver.find_element(By.ID, "filter-summary").text == "2 filters active"
    assert severe_console_entries(driver) == []


def test_a_bad_filter_value_names_the_field(driver, server):
    driver.get(server.url("/?q=" + "x" * 300))  # longer than the API allows
    alert = wait(driver, lambda b: b.find_elements(By.CSS_SELECTOR, "#alerts .app-alert"), "no problem shown")[0]
    assert "q" in alert.text or "256" in alert.text
    assert driver.find_element(By.ID, "f-q").get_attribute("aria-invalid") == "true"
    assert driver.find_element(By.ID, "connection").get_attribute("data-state") == "offline"
    # The rejected requests are the only console errors.
    assert [e for e in severe_console_entries(driver) if "400" not in e["message"]] == []


# ---------- table ----------

def test_pause_counts_what_arrives_and_resume_shows_it(driver, server):
    open_page(driver, server)
    pause = driver.find_element(By.ID, "pause")
    click(driver, pause)
    assert pause.get_attribute("aria-pressed") == "true"
    frozen = row_ids(driver)
    wait(driver, lambda b: re.fullmatch(r"Resume \(([3-9]|\d\d+) new\)", pause.text), "no count of new listens",
         timeout=20)
    assert row_ids(driver) == frozen, "the table changed while paused"
    count = int(re.search(r"\d+", pause.text).group())
    note = driver.find_element(By.ID, "pause-note")
    assert note.is_displayed() and "paused" in note.text
    assert re.fullmatch(r"\d+ new listens since pausing\.", driver.find_element(By.ID, "pause-count").text)
    click(driver, pause)
    assert pause.text == "Pause" and pause.get_attribute("aria-pressed") == "false"
    resumed = row_ids(driver)
    new = [i for i in resumed if i not in frozen]
    assert len(new) >= min(count, 50)
    assert resumed[:len(new)] == new, "the listens that arrived while paused go on top"
    assert not note.is_displayed()
    assert severe_console_entries(driver) == []


def test_row_cap_is_selectable_and_kept_in_the_url(driver, server):
    open_page(driver, server)
    cap = Select(driver.find_element(By.ID, "rows-cap"))
    assert cap.first_selected_option.get_attribute("value") == "50"
    wait(driver, lambda b: len(row_ids(b)) == 50, "the default cap is not 50 rows")
    cap.select_by_value("25")
    wait(driver, lambda b: query_of(b).get("rows") == ["25"], "the URL did not get rows=25")
    wait(driver, lambda b: len(row_ids(b)) == 25, "the table did not shrink to 25 rows")
    before = set(row_ids(driver))
    wait(driver, lambda b: set(row_ids(b)) - before, "no live rows", timeout=20)
    assert len(row_ids(driver)) == 25, "live rows must keep the cap"
    driver.refresh()
    wait(driver, lambda b: len(row_ids(b)) == 25, "the cap was lost on reload")
    Select(driver.find_element(By.ID, "rows-cap")).select_by_value("100")
    wait(driver, lambda b: len(row_ids(b)) == 100, "the table did not grow to 100 rows")
    Select(driver.find_element(By.ID, "rows-cap")).select_by_value("50")
    wait(driver, lambda b: "rows" not in query_of(b), "the default cap should not be in the URL")
    assert severe_console_entries(driver) == []


def test_new_rows_are_highlighted_briefly(driver, start_server):
    # One listen a second: slow enough for each to be noticed (above four a second, the page
    # turns the highlight off; test_browser_load.py checks that at 5,000 a second).
    # No backfill: a burst of backfilled listens reaching the page would (rightly) turn it off.
    server = start_server("--rate", "1", "--backfill", "0", "--seed", "4", "--public-dir", PUBLIC_DIR)
    wait(driver, lambda b: server.get("/api/events?limit=1").json()["window"] >= 3, "no listens yet")
    open_page(driver, server)
    first = set(row_ids(driver))
    new_id = wait(driver, lambda b: next((i for i in row_ids(b) if i not in first), None), "no live row")
    row = driver.find_element(By.CSS_SELECTOR, '#rows > tr[data-event-id="%s"]' % new_id)
    assert "app-row-new" in row.get_attribute("class")
    assert row.find_element(By.TAG_NAME, "td").value_of_css_property("animation-name") == "app-flash"
    wait(driver, lambda b: "app-row-new" not in row.get_attribute("class"), "the highlight never ended", timeout=8)
    # Rows of the initial load are not highlighted.
    assert driver.execute_script(
        "return Array.from(document.querySelectorAll('#rows > tr.app-row-new'))"
        ".filter((tr) => arguments[0].includes(tr.dataset.eventId)).length;", list(first)) == 0


def test_percent_listened_bar_and_rating_stars(driver, server):
    tag = token()
    quarter = listen(tag, duration=200, listen_position=50, rating=3)
    full = listen(tag, duration=180, listen_position=180, rating=5)
    produce(server, [quarter, full])
    open_page(driver, server, "?q=" + tag)
    wait(driver, lambda b: len(row_ids(b)) == 2, "the two listens did not show")

    def cells(event):
        row = driver.find_element(By.CSS_SELECTOR, '#rows > tr[data-event-id="%s"]' % event["event_id"])
        return {
            "pct": row.find_element(By.CSS_SELECTOR, ".app-pct-num").text,
            "bar": row.find_element(By.CSS_SELECTOR, ".app-bar-fill").get_attribute("style"),
            "bar_class": row.find_element(By.CSS_SELECTOR, ".app-bar-fill").get_attribute("class"),
            "stars": row.find_element(By.CSS_SELECTOR, ".app-stars").get_attribute("aria-label"),
            "on": row.find_element(By.CSS_SELECTOR, ".app-stars-on").get_attribute("textContent"),
            "off": row.find_element(By.CSS_SELECTOR, ".app-stars-off").get_attribute("textContent"),
            "completed": row.find_elements(By.TAG_NAME, "td")[12].get_attribute("textContent"),
            "skipped": row.find_elements(By.TAG_NAME, "td")[14].get_attribute("textContent"),
        }

    assert cells(quarter) == {"pct": "25%", "bar": "width: 25%;", "bar_class": "app-bar-fill is-low",
                              "stars": "3 of 5 stars", "on": "★★★", "off": "☆☆", "completed": "No", "skipped": "Yes"}
    assert cells(full) == {"pct": "100%", "bar": "width: 100%;", "bar_class": "app-bar-fill is-high",
                           "stars": "5 of 5 stars", "on": "★★★★★", "off": "", "completed": "Yes", "skipped": "No"}
    assert severe_console_entries(driver) == []


# ---------- charts ----------

def test_every_chart_the_issue_asks_for_follows_the_filters_live(driver, server):
    tag = token()
    users = ["u-a-" + tag, "u-b-" + tag, "u-c-" + tag]
    skipped = [listen(tag, artist="Chart Band", platform="Tidal", genre="Chartcore", mood="Wired", country="Iceland",
                      duration=200, listen_position=10, rating=2, user_id=users[i % 3]) for i in range(4)]
    played = [listen(tag, artist="Chart Band", platform="Deezer", genre="Chartcore", mood="Wired", country="Iceland",
                     duration=200, listen_position=200, rating=5, user_id=users[i % 2]) for i in range(4)]
    produce(server, skipped + played)
    open_page(driver, server, "?q=" + tag)
    wait(driver, lambda b: len(row_ids(b)) == 8, "the eight listens did not show")
    title = "Song %s — Chart Band" % tag
    expected = {
        "chart-genre": (["Chartcore"], [8]),
        "chart-platform": (["Deezer", "Tidal"], [4, 4]),
        "chart-mood": (["Wired"], [8]),
        "chart-country": (["Iceland"], [8]),
        "chart-artist": (["Chart Band"], [8]),
        "chart-track": ([title], [8]),
        "chart-skip": (["Deezer", "Tidal"], [0, 100]),
        "chart-rating": (["Deezer", "Tidal"], [5, 2]),
    }
    for chart_id, (labels, data) in expected.items():
        wait(driver, lambda b: (chart_labels(b, chart_id), chart_data(b, chart_id)) == (labels, data),
             "%s shows %s" % (chart_id, driver.execute_script(
                 "const c = Chart.getChart(arguments[0]); return [c.data.labels, c.data.datasets[0].data];", chart_id)))
    # The timeline counts them (played and skipped stacked).
    totals = driver.execute_script(
        "const c = Chart.getChart('chart-timeline'); return c.data.datasets.map((d) => d.data.reduce((a, v) => a + v, 0));")
    assert totals == [4, 4]
    wait(driver, lambda b: (kpi(b, "kpi-skip"), kpi(b, "kpi-rating"), kpi(b, "kpi-listeners")) == ("50%", "3.5", "3"),
         "the KPIs did not follow")

    # Live: one more listen updates the charts in place (same objects, no animation).
    driver.execute_script("window.__charts = arguments[0].map((id) => Chart.getChart(id));", CHART_IDS)
    produce(server, [listen(tag, artist="Chart Band", platform="Tidal", genre="Chartcore", mood="Wired",
                            country="Iceland", duration=200, listen_position=200, rating=5, user_id="u-d-" + tag)])
    wait(driver, lambda b: chart_data(b, "chart-track") == [9], "the track chart did not update live")
    wait(driver, lambda b: (chart_labels(b, "chart-platform"), chart_data(b, "chart-platform")) == (["Tidal", "Deezer"], [5, 4]),
         "the platform chart did not update live")
    wait(driver, lambda b: chart_data(b, "chart-skip") == [80, 0], "the skip rate did not update live")
    wait(driver, lambda b: kpi(b, "kpi-listeners") == "4", "unique listeners did not update live")
    assert driver.execute_script(
        "return arguments[0].every((id, i) => Chart.getChart(id) === window.__charts[i] "
        "&& Chart.getChart(id).options.animation === false);", CHART_IDS)

    # Another filter on top: platform narrows every chart at once.
    choose_in_picker(driver, "platform", ["Deezer"])
    wait(driver, lambda b: chart_labels(b, "chart-skip") == ["Deezer"], "the per-platform charts did not follow")
    wait(driver, lambda b: chart_labels(b, "chart-platform") == ["Deezer"], "the platform chart did not follow")
    wait(driver, lambda b: kpi(b, "kpi-skip") == "0%", "the skip rate KPI did not follow")
    assert severe_console_entries(driver) == []


# ---------- accessibility ----------

CONTROL_ROLES = {"button", "textbox", "searchbox", "combobox", "checkbox", "spinbutton", "listbox", "link",
                 "DisclosureTriangle", "radio", "switch", "slider", "region", "image"}


def nameless_controls(browser):
    """Controls in the browser's accessibility tree (what a screen reader gets) without a name."""
    nodes = browser.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]
    controls = [n for n in nodes if not n.get("ignored") and n.get("role", {}).get("value") in CONTROL_ROLES]
    missing = [n for n in controls if not str(n.get("name", {}).get("value", "")).strip()]
    described = [browser.execute_cdp_cmd("DOM.describeNode", {"backendNodeId": n["backendDOMNodeId"]})["node"]
                 for n in missing]
    return len(controls), ["%s %s" % (d["nodeName"], d.get("attributes")) for d in described]


def test_every_control_has_an_accessible_name(driver, server):
    open_page(driver, server)
    click(driver, driver.find_element(By.ID, "add-toggle"))
    driver.execute_script("const r = document.getElementById('f-range'); r.value = 'custom';"
                          "r.dispatchEvent(new Event('change', {bubbles: true}));")
    wait(driver, lambda b: "since" in query_of(b), "the custom range did not apply")
    # One picker open at a time (opening one closes the others), so each one's values are checked.
    for facet in ["genre", "platform", "mood", "country"]:
        driver.execute_script("document.getElementById(arguments[0]).open = true;", "f-" + facet)
        wait(driver, lambda b: b.find_element(By.ID, "f-" + facet).get_attribute("open") is not None
             and picker_options(b, facet), "no %s options" % facet)
        count, nameless = nameless_controls(driver)
        assert count > 60 and nameless == [], nameless
    driver.execute_script("document.getElementById('f-country').open = false;")
    summary = driver.find_element(By.CSS_SELECTOR, "#f-genre summary")
    assert summary.accessible_name == "Genre Any genre"
    for element_id, name in [("f-q", "Search"), ("f-since", "From"), ("f-until", "Until"), ("rows-cap", "Rows"),
                             ("add-title", "Title"), ("theme-toggle", "Dark mode")]:
        assert driver.find_element(By.ID, element_id).accessible_name == name, element_id
    # Charts are images named by their captions (the AX tree check above covers their names).
    assert driver.execute_script("""
        return arguments[0].map((id) => { const c = document.getElementById(id);
          return c.getAttribute('role') === 'img'
            && document.getElementById(c.getAttribute('aria-labelledby')).textContent.trim().length > 0; });""",
        CHART_IDS) == [True] * len(CHART_IDS)
    # The live regions are announced.
    assert driver.execute_script("""
        return ['connection', 'alerts', 'add-status', 'pause-note', 'filter-summary'].map((id) => {
          const el = document.getElementById(id);
          return el.getAttribute('aria-live') || (el.getAttribute('role') === 'status' ? 'polite' : null); });""") == \
        ["polite", "assertive", "polite", "polite", "polite"]
    click(driver, driver.find_element(By.ID, "clear"))
    click(driver, driver.find_element(By.ID, "add-cancel"))


def test_sortable_headers_are_focusable_buttons_that_expose_aria_sort(driver, server):
    open_page(driver, server)
    headers = driver.find_elements(By.CSS_SELECTOR, ".app-table thead th")
    sortable = [th for th in headers if th.get_attribute("data-sort")]
    assert len(sortable) == 13
    for th in sortable:
        assert th.get_attribute("aria-sort") in ("none", "ascending", "descending")
        button = th.find_element(By.TAG_NAME, "button")
        assert button.get_attribute("type") == "button"
        assert driver.execute_script("return arguments[0].tabIndex;", button) == 0
    assert [th.get_attribute("aria-sort") for th in sortable].count("none") == 12
    assert driver.find_element(By.CSS_SELECTOR, 'th[data-sort="timestamp"]').get_attribute("aria-sort") == "descending"
    for th in headers:
        if not th.get_attribute("data-sort"):
            assert th.get_attribute("aria-sort") is None and not th.find_elements(By.TAG_NAME, "button")


def active_sort_header(browser):
    return browser.execute_script(
        "const th = document.activeElement.closest('th'); return th ? th.dataset.sort : null;")


def focus_is_visible(browser):
    return browser.execute_script("""
        const el = document.activeElement, s = getComputedStyle(el);
        return el.matches(':focus-visible') && s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;""")


def test_keyboard_only_sorting_and_filtering(driver, server):
    open_page(driver, server)
    keys = ActionChains(driver)
    # From the table region, Tab reaches the first header, then the next.
    driver.execute_script("document.getElementById('table-wrap').focus();")
    keys.send_keys(Keys.TAB).perform()
    assert active_sort_header(driver) == "timestamp"
    assert focus_is_visible(driver)
    ActionChains(driver).send_keys(Keys.TAB).perform()
    assert active_sort_header(driver) == "username"
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait(driver, lambda b: query_of(b).get("sort_by") == ["username"], "Enter on a header did not sort")
    user_header = driver.find_element(By.CSS_SELECTOR, 'th[data-sort="username"]')
    assert user_header.get_attribute("aria-sort") == "ascending"
    assert driver.find_element(By.CSS_SELECTOR, 'th[data-sort="timestamp"]').get_attribute("aria-sort") == "none"
    in_order = lambda names, reverse=False: len(names) > 1 and names == sorted(  # noqa: E731
        names, key=lambda v: (v.lower(), v), reverse=reverse)
    wait(driver, lambda b: in_order(column_texts(b, 2)), "rows not sorted by user")
    assert active_sort_header(driver) == "username", "focus must stay on the header"
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait(driver, lambda b: user_header.get_attribute("aria-sort") == "descending", "Enter again did not flip")
    wait(driver, lambda b: in_order(column_texts(b, 2), reverse=True), "rows not sorted by user, descending")
    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).send_keys(Keys.SPACE).perform()
    wait(driver, lambda b: "sort_by" not in query_of(b), "Space on the time header did not restore the default")

    # A multi-value filter by keyboard: open, Tab to the first value, Space ticks it, Escape closes.
    summary = driver.find_element(By.CSS_SELECTOR, "#f-platform summary")
    wait(driver, lambda b: picker_options(b, "platform"), "no platforms offered")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();", summary)
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    assert driver.find_element(By.ID, "f-platform").get_attribute("open") is not None
    ActionChains(driver).send_keys(Keys.TAB).perform()
    first = driver.execute_script("return document.activeElement.value;")
    assert first == picker_options(driver, "platform")[0]
    assert focus_is_visible(driver)
    ActionChains(driver).send_keys(Keys.SPACE).perform()
    wait(driver, lambda b: query_of(b).get("platform") == [first], "Space on a value did not filter")
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    assert driver.find_element(By.ID, "f-platform").get_attribute("open") is None
    assert driver.execute_script("return document.activeElement.tagName;") == "SUMMARY"
    wait(driver, lambda b: set(column_texts(b, 6)) == {first}, "rows not filtered by the chosen platform")
    driver.execute_script("arguments[0].click();", driver.find_element(By.ID, "clear"))
    wait(driver, lambda b: urllib.parse.urlsplit(b.current_url).query == "", "clear did not reset the URL")
    assert severe_console_entries(driver) == []


# Visible text against what is behind it (WCAG 2 contrast: 4.5:1, 3:1 for large text). Glyphs
# hidden from assistive technology (the rating stars, whose label carries the number) are held to
# 4.5:1 too: they are what a sighted reader reads. Backgrounds are composed from the element's
# ancestors, gradients by their stops.
# Checks the whole page, or the element passed as the script's first argument and what it holds.
CONTRAST_SCRIPT = """
const root = arguments[0];
const parse = (c) => {
  const m = /rgba?\\(([^)]+)\\)/.exec(c || '');
  if (!m) return null;
  const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
  return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
};
const over = (top, below) => ({
  r: top.r * top.a + below.r * (1 - top.a), g: top.g * top.a + below.g * (1 - top.a),
  b: top.b * top.a + below.b * (1 - top.a), a: 1});
const lum = (c) => ['r', 'g', 'b'].map((k) => {
  const v = c[k] / 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
const backgrounds = (el) => {
  const layers = [];
  for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
    const s = getComputedStyle(n);
    // A gradient that covers the box is a background (the header); small ones (a select's
    // chevron) are decorations beside the text.
    if (s.backgroundImage.includes('gradient') && /^auto( auto)?$/.test(s.backgroundSize)) {
      const stops = (s.backgroundImage.match(/rgba?\\([^)]+\\)/g) || []).map(parse).filter((c) => c.a > 0);
      return stops.map((stop) => layers.reduceRight((acc, l) => over(l, acc), over(stop, {r: 255, g: 255, b: 255, a: 1})));
    }
    const bg = parse(s.backgroundColor);
    if (bg && bg.a > 0) {
      layers.push(bg);
      if (bg.a >= 1) break;
    }
  }
  return [layers.reduceRight((acc, l) => over(l, acc), {r: 255, g: 255, b: 255, a: 1})];
};
const failures = [];
let checked = 0;
for (const el of root ? [root, ...root.querySelectorAll('*')] : document.body.querySelectorAll('*')) {
  if (['SCRIPT', 'STYLE', 'TEMPLATE', 'OPTION', 'CANVAS'].includes(el.tagName)) continue;
  const own = Array.from(el.childNodes).filter((n) => n.nodeType === 3 && n.textContent.trim()).map((n) => n.textContent.trim()).join(' ');
  if (!own) continue;
  const rect = el.getBoundingClientRect();
  const s = getComputedStyle(el);
  if (rect.width <= 1 || rect.height <= 1 || s.visibility !== 'visible' || !el.getClientRects().length) continue;
  if (el.closest('[disabled], :disabled')) continue;  // inactive controls are exempt
  let opacity = 1;
  for (let n = el; n && n.nodeType === 1; n = n.parentElement) opacity *= Number(getComputedStyle(n).opacity);
  const fg = parse(s.color);
  fg.a *= opacity;
  const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
  const need = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
  checked += 1;
  for (const bg of backgrounds(el)) {
    const r = ratio(over(fg, bg), bg);
    if (r < need) {
      failures.push([own.slice(0, 40), el.className, s.color, JSON.stringify(bg), r.toFixed(2), need]);
      break;
    }
  }
}
return [checked, failures];
"""


# Marks every row as new, holds its highlight animation (app-flash) at each of the fractions given
# and checks the table body's contrast there; lets the animations end afterwards (which takes the
# mark off again).
HIGHLIGHT_FRAMES_SCRIPT = """
const at = arguments[0];
const contrast = function () {
""" + CONTRAST_SCRIPT + """
};
const body = document.getElementById('rows');
body.querySelectorAll('tr').forEach((tr) => tr.classList.add('app-row-new'));
const flashes = document.getAnimations().filter((a) => a.animationName === 'app-flash');
flashes.forEach((a) => a.pause());
const frames = at.map((f) => {
  flashes.forEach((a) => { a.currentTime = a.effect.getComputedTiming().endTime * f; });
  const [checked, failures] = contrast(body);
  return [f, checked, failures];
});
flashes.forEach((a) => a.finish());
return frames.concat(flashes.length ? [] : [[-1, 0, ['no highlight animation ran']]]);
"""


# True once every CSS transition and every finite CSS animation has ended (the equalizer bars
# and the live dot loop forever and never change text colours). getAnimations() brings style
# up to date first, so a transition that the last click set off is already in its list.
SETTLED_SCRIPT = """
return document.getAnimations().every((a) =>
  a.playState !== 'running' || a.effect.getComputedTiming().endTime === Infinity);
"""


def wait_until_settled(browser):
    """Colours read before this may be somewhere between two states (a hover fading in)."""
    wait(browser, lambda b: b.execute_script(SETTLED_SCRIPT), "transitions never ended")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_colour_contrast(driver, server, theme):
    open_page(driver, server)
    driver.execute_script("localStorage.setItem('musicstream-theme', arguments[0]);", theme)
    driver.refresh()
    wait(driver, lambda b: row_ids(b), "no rows after the reload")
    assert driver.execute_script("return document.documentElement.dataset.theme;") == theme
    # Freeze the table and let the new-row highlight fade, then show everything that has text.
    click(driver, driver.find_element(By.ID, "pause"))
    wait(driver, lambda b: not b.find_elements(By.CSS_SELECTOR, ".app-row-new"), "highlights never faded", timeout=8)
    click(driver, driver.find_element(By.ID, "add-toggle"))
    driver.execute_script("document.getElementById('f-genre').open = true;")
    wait(driver, lambda b: picker_options(b, "genre"), "no genres offered")
    # The clicks leave the pointer on a button and focus in the form: judge the colours those
    # states end at, not a frame of their 0.15 s transitions (the frames in between are
    # test_button_states_keep_contrast_while_they_change's, seen on purpose rather than by chance).
    wait_until_settled(driver)
    checked, failures = driver.execute_script(CONTRAST_SCRIPT)
    assert checked > 300, "too little text was checked (%d elements)" % checked
    assert failures == [], failures
    driver.execute_script("document.getElementById('f-genre').open = false;")
    # Every row highlighted as new, at frames through its fade (held, half-way, nearly gone): all
    # text on it, muted text and stars included.
    frames = driver.execute_script(HIGHLIGHT_FRAMES_SCRIPT, [0, 0.3, 0.6, 0.8, 0.95])
    stars = driver.execute_script(
        "return document.querySelectorAll('#rows .app-stars-on:not(:empty), #rows .app-stars-off:not(:empty)').length;")
    assert stars > 20, "too few rating stars were checked (%d)" % stars
    assert [(at, checked) for at, checked, _ in frames if checked < 300] == [], "too little text was checked"
    assert [(at, found) for at, _, found in frames if found] == []
    driver.execute_script("localStorage.removeItem('musicstream-theme');")
    click(driver, driver.find_element(By.ID, "add-cancel"))


# Runs CONTRAST_SCRIPT on the button (arguments[0]) at frames through the transitions a state
# change set off (paused and sought; just the end state when nothing moves). Returns the frames
# with their failures, and the button's colours at the end.
TRANSITION_FRAMES_SCRIPT = """
const button = arguments[0], steps = arguments[1];
const contrast = function () {
""" + CONTRAST_SCRIPT + """
};
const moving = document.getAnimations().filter((a) => a instanceof CSSTransition && a.effect.target === button);
moving.forEach((a) => a.pause());
const frames = [];
for (let i = moving.length ? 0 : steps; i <= steps; i += 1) {
  moving.forEach((a) => { a.currentTime = a.effect.getComputedTiming().endTime * i / steps; });
  frames.push([i / steps, contrast(button)[1]]);
}
moving.forEach((a) => a.finish());
const s = getComputedStyle(button);
return [frames, s.color + ' on ' + s.backgroundColor];
"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_button_states_keep_contrast_while_they_change(driver, server, theme):
    """Hover, keyboard focus and press recolour a button over a short transition; every frame of it
    must be readable, not only where it ends (an outline button's text and fill swap colours, and
    faded together they meet halfway). The transitions are slowed down, paused and sought, so the
    frames are the same on every run."""
    open_page(driver, server)
    driver.execute_script("localStorage.setItem('musicstream-theme', arguments[0]);", theme)
    driver.refresh()
    wait(driver, lambda b: row_ids(b), "no rows after the reload")
    # Buttons in their resting look: no pointer over them (script clicks), nothing focused.
    driver.execute_script("document.getElementById('pause').click();")
    driver.execute_script("document.getElementById('add-toggle').click(); document.activeElement.blur();")
    wait_until_settled(driver)
    buttons = [b for b in driver.find_elements(By.CSS_SELECTOR, ".btn") if b.is_displayed() and b.is_enabled()]
    assert len(buttons) >= 5, [b.get_attribute("id") for b in buttons]
    driver.execute_cdp_cmd("DOM.enable", {})
    driver.execute_cdp_cmd("CSS.enable", {})
    document = driver.execute_cdp_cmd("DOM.getDocument", {})["root"]["nodeId"]
    failures, recoloured = [], 0
    try:
        for button in buttons:
            name = button.get_attribute("id")
            assert name, "every button has an id: " + button.get_attribute("outerHTML")
            resting = driver.execute_script(
                "const s = getComputedStyle(arguments[0]); return s.color + ' on ' + s.backgroundColor;", button)
            node = driver.execute_cdp_cmd("DOM.querySelector", {"nodeId": document, "selector": "#" + name})["nodeId"]
            for state in ["hover", "focus-visible", "active"]:
                # A thousand times slower, so the transitions are still under way when they are sought.
                driver.execute_script("""
                    const s = getComputedStyle(arguments[0]);
                    const slower = (v) => v.split(',').map((t) => parseFloat(t) * 1000 + 's').join(',');
                    arguments[0].style.transitionDuration = slower(s.transitionDuration);
                    arguments[0].style.transitionDelay = slower(s.transitionDelay);""", button)
                driver.execute_cdp_cmd("CSS.forcePseudoState", {"nodeId": node, "forcedPseudoClasses": [state]})
                frames, end = driver.execute_script(TRANSITION_FRAMES_SCRIPT, button, 8)
                failures += [(name, state, at, f[2], f[3], f[4]) for at, found in frames for f in found]
                recoloured += end != resting
                driver.execute_cdp_cmd("CSS.forcePseudoState", {"nodeId": node, "forcedPseudoClasses": []})
                driver.execute_script("""
                    document.getAnimations().filter((a) => a.effect.target === arguments[0]).forEach((a) => a.finish());
                    arguments[0].style.transitionDuration = arguments[0].style.transitionDelay = '';""", button)
    finally:
        driver.execute_cdp_cmd("CSS.disable", {})
        driver.execute_cdp_cmd("DOM.disable", {})
        driver.execute_script("localStorage.removeItem('musicstream-theme');")
    assert failures == [], failures
    # The forced states took: most buttons look different hovered, focused or pressed.
    assert recoloured >= len(buttons), recoloured
    assert severe_console_entries(driver) == []
