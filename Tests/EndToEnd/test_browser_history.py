"""A listener's history and "Download all matching" (issue 13, point 4), in a real browser (Debian's
headless Chromium) against the real server. The server keeps a window of only 50 listens, so of the
300 produced here most are only in the history store: the history drawer (opened from a username
in the table, or from a listen's drawer) must show the figures and every listen of that user as
produced, 50 at a time through "Load more", with focus and Escape handled as the listen's drawer
does; the download links carry the page's filters, and what they serve is exactly the produced
listens those filters select; a server started with --no-export gets its refusal shown, not saved."""
import csv
import io
import json
import os
import time
import urllib.parse
import uuid
from datetime import datetime, timezone

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browser_helpers import PUBLIC_DIR, click, open_page, require_chromium, severe_console_entries, wait
from browser_helpers import driver, fresh_console  # noqa: F401 (fixtures)
from test_pipeline import CANONICAL_FIELDS, kcat_produce

TOTAL = 300
PAGE = 50
# How many listens each user has: every one needs "Load more" at least once.
USERS = {"alpha": 105, "beta": 75, "gamma": 60, "delta": 60}
assert sum(USERS.values()) == TOTAL


def distinct_counts(n, names):
    """Counts for `names` that add up to n and all differ (the first takes the rest), so the
    "top" lists have one right order."""
    tail = list(range(len(names) - 1, 0, -1))
    return dict(zip(names, [n - sum(tail)] + tail))


def make_listens():
    """USERS' listens, one every 7 minutes over the last day and a half, users interleaved."""
    run = uuid.uuid4().hex[:8]
    now = int(time.time() * 1000)
    # A fixed interleaving (7919 is prime to 300): each user's listens are spread over the whole range.
    slots = sorted(range(TOTAL), key=lambda i: (i * 7919) % TOTAL)
    listens = {user: [] for user in USERS}
    cursor = 0
    for user, n in USERS.items():
        artists = [a for a, c in distinct_counts(n, ["Art%d %s" % (k, run) for k in range(6)]).items() for _ in range(c)]
        genres = [g for g, c in distinct_counts(n, ["Genre%d" % k for k in range(4)]).items() for _ in range(c)]
        platforms = [p for p, c in distinct_counts(n, ["Plat%d" % k for k in range(3)]).items() for _ in range(c)]
        for j in range(n):
            slot = slots[cursor]
            cursor += 1
            skipped = j % 3 == 0
            listens[user].append({
                "event_id": str(uuid.uuid4()), "user_id": "%s-%s" % (user, run), "username": "%s.%s" % (user, run),
                "email": "%s.%s@example.org" % (user, run), "track_id": "t-%s-%d" % (user, j),
                "title": "Song %s %d" % (user, j), "artist": artists[j], "genre": genres[j],
                "platform": platforms[j], "mood": "Calm", "city": "Lisbon", "country": "Portugal",
                "duration": 200, "listen_position": 40 if skipped else 190, "completed": not skipped,
                "skipped": skipped, "rating": j % 6,
                "timestamp": now - 36 * 3600 * 1000 + slot * 7 * 60 * 1000,
            })
    return listens


def history_stored(server):
    return server.get("/api/status").json()["history"]["stored"]


@pytest.fixture(scope="module")
def server(start_server, tmp_path_factory):
    require_chromium()
    data = tmp_path_factory.mktemp("history-data")
    return start_server("--no-simulate", "--window", "50", "--data-dir", str(data), "--public-dir", PUBLIC_DIR)


@pytest.fixture(scope="module")
def produced(server):
    listens = make_listens()
    for user, events in listens.items():
        kcat_produce(server.bootstrap, [json.dumps(e) for e in events], key=events[0]["user_id"])
    deadline = time.monotonic() + 60
    while history_stored(server) < TOTAL and time.monotonic() < deadline:
        time.sleep(0.2)
    assert history_stored(server) == TOTAL
    assert server.get("/api/status").json()["window"]["size"] == 50, "most listens are only in the history"
    return listens


def dialog_open(browser, dialog_id="history"):
    return browser.execute_script("return document.getElementById(arguments[0]).open;", dialog_id)


def newest_first(events):
    return sorted(events, key=lambda e: e["timestamp"], reverse=True)


def iso(ms):
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def user_of_row(produced, browser):
    """A user with a row in the table (the window holds only some), the most prolific one, and its row."""
    by_id = {e["user_id"]: user for user, events in produced.items() for e in events}
    buttons = wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#rows .app-user-link"), "no usernames")
    shown = [(by_id[b.get_attribute("data-user-id")], b) for b in buttons]
    user, button = max(shown, key=lambda pair: USERS[pair[0]])
    return user, button


def figures(browser):
    return browser.execute_script("""
        const out = {};
        for (const dd of document.querySelectorAll('#history-figures dd')) {
          const time = dd.querySelector('time');
          const items = Array.from(dd.querySelectorAll('li')).map((li) => [
            li.querySelector('.app-history-top-value').textContent, li.querySelector('.app-history-top-count').textContent]);
          out[dd.dataset.figure] = {text: dd.textContent, datetime: time ? time.dateTime : null, items};
        }
        return out;""")


def listed(browser):
    return browser.execute_script("""
        return Array.from(document.querySelectorAll('#history-rows > tr')).map((tr) => ({
          id: tr.dataset.eventId,
          time: tr.cells[0].querySelector('time').dateTime,
          cells: Array.from(tr.cells).slice(1, 5).map((td) => td.textContent),
          rating: tr.cells[5].querySelector('[role=img]').getAttribute('aria-label'),
        }));""")


def top(counter_source, key):
    counts = {}
    for event in counter_source:
        counts[event[key]] = counts.get(event[key], 0) + 1
    return [[value, "(%d)" % n] for value, n in sorted(counts.items(), key=lambda kv: -kv[1])[:5]]


def active_id(browser):
    return browser.execute_script("return document.activeElement && document.activeElement.id;")


# ---------- the history drawer ----------

def test_a_username_opens_the_listeners_figures_and_listens_page_by_page(driver, server, produced):
    open_page(driver, server)
    click(driver, driver.find_element(By.ID, "pause"))   # rows stay put (nothing arrives anyway)
    user, button = user_of_row(produced, driver)
    events = produced[user]
    n = len(events)
    event_id = button.find_element(By.XPATH, "./ancestor::tr").get_attribute("data-event-id")
    assert button.tag_name == "button" and button.get_attribute("aria-label") == "History of " + events[0]["username"]
    click(driver, button)
    wait(driver, dialog_open, "a click on the username did not open the history")
    assert not dialog_open(driver, "detail"), "the username opens the history, not the listen's drawer"
    assert active_id(driver) == "history-close"
    wait(driver, lambda b: len(listed(b)) == PAGE and figures(b), "the first page and the figures never showed")
    assert driver.find_element(By.ID, "history-subtitle").text == "%s · user %s" % (events[0]["username"], events[0]["user_id"])

    # The figures, as produced.
    f = figures(driver)
    assert f["Listens"]["text"] == str(n)
    assert f["First seen"]["datetime"] == iso(min(e["timestamp"] for e in events))
    assert f["Last seen"]["datetime"] == iso(max(e["timestamp"] for e in events))
    assert f["First seen"]["text"] and f["First seen"]["text"] != "—"
    skipped = sum(e["skipped"] for e in events)
    assert f["Skip rate"]["text"] == "%.1f%%" % (100 * skipped / n)
    assert f["Average rating"]["text"] == "%.2f of 5" % (sum(e["rating"] for e in events) / n)
    assert f["Top artists"]["items"] == top(events, "artist")
    assert f["Top genres"]["items"] == top(events, "genre")
    assert f["Top platforms"]["items"] == top(events, "platform")
    assert driver.find_element(By.ID, "history-count").text == "Showing %d of %d listens." % (PAGE, n)

    # The listens, newest first, 50 at a time.
    expected = newest_first(events)

    def check_rows(count):
        rows = listed(driver)
        assert [r["id"] for r in rows] == [e["event_id"] for e in expected[:count]]
        for r, e in zip(rows, expected):
            assert r["time"] == iso(e["timestamp"])
            assert r["cells"] == [e["title"], e["artist"], e["platform"], "Yes" if e["skipped"] else "No"]
            assert r["rating"] == "%d of 5 stars" % e["rating"]

    check_rows(PAGE)
    more = driver.find_element(By.ID, "history-more")
    shown = PAGE
    while shown < n:
        assert more.is_displayed()
        click(driver, more)
        shown = min(n, shown + PAGE)
        wait(driver, lambda b: len(listed(b)) == shown, "Load more did not list %d listens" % shown)
        check_rows(shown)
        if shown < n:
            assert active_id(driver) == "history-more", "focus stays on Load more for the next page"
    assert not more.is_displayed(), "no Load more after the last page"
    assert driver.find_element(By.ID, "history-count").text == "All %d listens shown." % n
    assert active_id(driver) == "history-count", "focus moved from the vanished button to the count"

    # Escape closes it; focus goes back to the username it was opened from.
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(driver, lambda b: not dialog_open(b), "Escape did not close the history")
    wait(driver, lambda b: b.execute_script(
        "const a = document.activeElement; return a.classList.contains('app-user-link') && a.closest('tr').dataset.eventId;")
        == event_id, "focus did not return to the username")
    assert severe_console_entries(driver) == []


def test_the_keyboard_opens_it_and_the_listens_drawer_has_a_way_there(driver, server, produced):
    open_page(driver, server)
    click(driver, driver.find_element(By.ID, "pause"))
    user, button = user_of_row(produced, driver)
    events = produced[user]
    # Enter on the username, as on any button.
    driver.execute_script("arguments[0].focus();", button)
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait(driver, dialog_open, "Enter on the username did not open the history")
    assert not dialog_open(driver, "detail")
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(driver, lambda b: not dialog_open(b), "Escape did not close the history")

    # From a listen's drawer: the history opens over it, and closing it comes back there.
    tr = button.find_element(By.XPATH, "./ancestor::tr")
    click(driver, tr.find_elements(By.TAG_NAME, "td")[2])
    wait(driver, lambda b: dialog_open(b, "detail"), "the listen's drawer did not open")
    history_button = driver.find_element(By.ID, "detail-history")
    assert history_button.text == "History of this listener"
    click(driver, history_button)
    wait(driver, dialog_open, "the drawer's button did not open the history")
    wait(driver, lambda b: len(listed(b)) == PAGE, "the history's listens never showed")
    assert listed(driver)[0]["id"] == newest_first(events)[0]["event_id"]
    assert driver.find_element(By.ID, "history-subtitle").text.startswith(events[0]["username"] + " · ")
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(driver, lambda b: not dialog_open(b), "Escape did not close the history")
    assert dialog_open(driver, "detail"), "the listen's drawer stays open underneath"
    assert active_id(driver) == "detail-history"
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(driver, lambda b: not dialog_open(b, "detail"), "Escape did not close the listen's drawer")
    assert severe_console_entries(driver) == []


def test_a_listener_the_store_does_not_know_is_said_so(driver, server, produced):
    open_page(driver, server)
    click(driver, driver.find_element(By.ID, "pause"))
    unknown = "nobody-" + uuid.uuid4().hex[:8]
    button = driver.find_element(By.CSS_SELECTOR, "#rows .app-user-link")
    driver.execute_script("arguments[0].dataset.userId = arguments[1];", button, unknown)
    click(driver, button)
    wait(driver, dialog_open, "the history did not open")
    problem = driver.find_element(By.ID, "history-problem")
    wait(driver, lambda b: problem.is_displayed(), "no problem shown")
    assert problem.text.startswith("No stored listens for this listener yet.")
    assert "no listen of user '%s' is stored" % unknown in problem.text, "the server's own detail"
    assert not driver.find_element(By.ID, "history-listens").is_displayed()
    assert not driver.find_element(By.ID, "history-summary").is_displayed()
    assert driver.find_element(By.ID, "history-status").text == ""
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(driver, lambda b: not dialog_open(b), "Escape did not close the history")
    # A failed request is no page error: the console stays quiet about it apart from the 404s.
    assert [e for e in severe_console_entries(driver) if "404" not in e["message"]] == []


def test_data_is_never_markup(driver, server, produced):
    open_page(driver, server)
    click(driver, driver.find_element(By.ID, "pause"))
    hostile = "<img src=x id=injected>"
    run = uuid.uuid4().hex[:8]
    event = dict(produced["delta"][0], event_id=str(uuid.uuid4()), user_id="evil-" + run, username=hostile,
                 title=hostile, artist=hostile, timestamp=int(time.time() * 1000))
    before = history_stored(server)
    kcat_produce(server.bootstrap, [json.dumps(event)], key=event["user_id"])
    wait(driver, lambda b: history_stored(server) == before + 1, "the listen was not stored")
    wait(driver, lambda b: "1 new" in b.find_element(By.ID, "pause").text, "the listen did not arrive")
    click(driver, driver.find_element(By.ID, "pause"))
    button = wait(driver, lambda b: [x for x in b.find_elements(By.CSS_SELECTOR, "#rows .app-user-link")
                                     if x.get_attribute("data-user-id") == event["user_id"]], "no row for it")[0]
    assert button.text == hostile
    click(driver, button)
    wait(driver, lambda b: len(listed(b)) == 1 and figures(b), "its history never showed")
    assert listed(driver)[0]["cells"][:2] == [hostile, hostile]
    assert figures(driver)["Top artists"]["items"] == [[hostile, "(1)"]]
    assert driver.find_element(By.ID, "history-subtitle").text.startswith(hostile)
    assert driver.find_elements(By.ID, "injected") == []
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(driver, lambda b: not dialog_open(b), "Escape did not close the history")
    produced["delta"].append(event)   # the download test counts it in
    assert severe_console_entries(driver) == []


# ---------- "Download all matching" ----------

def matching(produced, predicate):
    return sorted((e for events in produced.values() for e in events if predicate(e)), key=lambda e: e["timestamp"])


def as_csv(value):
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def finished_download(directory, before):
    files = [f for f in os.listdir(directory) if f not in before and not f.endswith(".crdownload")]
    return files[0] if len(files) == 1 else None


def test_download_links_carry_the_filters_and_serve_exactly_what_matches(driver, server, produced, tmp_path):
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    open_page(driver, server, "?platform=Plat0&skipped=true")
    expected = matching(produced, lambda e: e["platform"] == "Plat0" and e["skipped"])
    assert len(expected) > PAGE, "more than the table or a page holds"
    links = {}
    for fmt in ("csv", "ndjson"):
        link = driver.find_element(By.ID, "download-" + fmt)
        assert link.get_attribute("download") is not None
        href = link.get_attribute("href")
        parts = urllib.parse.urlsplit(href)
        assert parts.path == "/api/export"
        assert urllib.parse.parse_qs(parts.query) == {"platform": ["Plat0"], "skipped": ["true"], "format": [fmt]}
        links[fmt] = href
    group = driver.find_element(By.ID, "download-label").text
    assert "Download all matching" in group and "may be large" in group
    note = driver.find_element(By.ID, "download-note").get_attribute("textContent")
    assert "not only the rows shown" in note

    # What the links serve: exactly the produced listens the filters select, oldest first.
    body = requests.get(links["csv"], timeout=30)
    assert body.status_code == 200 and body.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in body.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body.content.decode("utf-8"), newline="")))
    assert [r["event_id"] for r in rows] == [e["event_id"] for e in expected]
    for row, event in zip(rows, expected):
        assert {k: row[k] for k in CANONICAL_FIELDS} == {k: as_csv(event[k]) for k in CANONICAL_FIELDS}
    lines = requests.get(links["ndjson"], timeout=30).text.splitlines()
    assert [json.loads(line) for line in lines] == expected

    # A click: checked with HEAD, then saved by the browser itself.
    before = set(os.listdir(tmp_path))
    click(driver, driver.find_element(By.ID, "download-csv"))
    name = wait(driver, lambda b: finished_download(tmp_path, before), "nothing was downloaded", timeout=30)
    assert name.endswith(".csv")
    assert (tmp_path / name).read_bytes() == body.content
    status = driver.find_element(By.ID, "export-status")
    assert status.text.startswith("Downloading every stored listen that matches the filters as CSV")
    assert status.get_attribute("data-state") is None

    # A filter change moves the links with it.
    driver.find_element(By.ID, "f-artist").send_keys("Art1")
    wait(driver, lambda b: "artist=Art1" in b.find_element(By.ID, "download-ndjson").get_attribute("href"),
         "the link did not follow the filter")
    assert severe_console_entries(driver) == []


def test_a_refused_export_is_shown_not_downloaded(driver, start_server, tmp_path):
    closed = start_server("--no-simulate", "--no-export", "--window", "50",
                          "--data-dir", str(tmp_path / "data"), "--public-dir", PUBLIC_DIR)
    event = dict(make_listens()["delta"][0], timestamp=int(time.time() * 1000))
    kcat_produce(closed.bootstrap, [json.dumps(event)], key=event["user_id"])
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    open_page(driver, closed)
    assert requests.head(closed.url("/api/export?format=csv"), timeout=10).status_code == 403
    status = driver.find_element(By.ID, "export-status")
    for fmt in ("csv", "ndjson"):
        click(driver, driver.find_element(By.ID, "download-" + fmt))
        wait(driver, lambda b: status.text.startswith("Download refused:"), "the refusal was not shown")
        assert "--no-export" in status.text and "(HTTP 403)" in status.text, status.text
        assert status.get_attribute("data-state") == "error"
        driver.execute_script("arguments[0].textContent = '';", status)
    time.sleep(1)   # a download would have started by now
    assert os.listdir(downloads) == [], "an error was saved as a download"
    # The history itself still works without exports.
    click(driver, driver.find_element(By.CSS_SELECTOR, "#rows .app-user-link"))
    wait(driver, lambda b: len(listed(b)) == 1, "the history did not show")
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(driver, lambda b: not dialog_open(b), "Escape did not close the history")
    # The failed HEAD and GET are logged as failed requests; nothing else.
    assert [e for e in severe_console_entries(driver) if "403" not in e["message"]] == []
