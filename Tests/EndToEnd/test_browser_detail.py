"""A listen's detail drawer and "Export shown rows", in a real browser (Debian's headless Chromium)
against the real server: rows open by click and by keyboard, every field is shown with where
Kafka holds the record (checked against the API and the POST receipt), "Copy as JSON" copies the
event, the "Only this ..." links filter the table and the URL, Escape closes and gives focus back,
and the exports hold exactly the rows shown, hostile values quoted and defused. Events made for a
test carry a token in their username, so a search for it isolates them from the simulator's."""
import csv
import io
import json
import os
import re
import time
import uuid
from datetime import datetime, timezone

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browser_helpers import PUBLIC_DIR, click, open_page, query_of, require_chromium, row_ids, \
    severe_console_entries, wait
from browser_helpers import driver, fresh_console  # noqa: F401 (fixtures)
from test_pipeline import CANONICAL_FIELDS, canonical_event, kcat_produce


@pytest.fixture(scope="module")
def server(start_server):
    require_chromium()
    return start_server("--rate", "5", "--seed", "12", "--public-dir", PUBLIC_DIR)


def token():
    return "tok" + uuid.uuid4().hex[:10]


def listen(tag, **fields):
    """A listen whose username carries `tag`; completed/skipped follow position and duration."""
    fields.setdefault("username", "user." + tag)
    event = canonical_event(**fields)
    event["completed"] = event["listen_position"] * 5 >= event["duration"] * 4
    event["skipped"] = not event["completed"]
    return event


def produce(server, events):
    for event in events:
        kcat_produce(server.bootstrap, [json.dumps(event)], key=event["user_id"])


def publish(server, tag, **fields):
    """A listen through POST /api/events: the receipt says where Kafka put it."""
    body = {
        "user_id": "u-" + tag, "username": "user." + tag, "email": tag + "@example.org", "track_id": "t-" + tag,
        "title": "Song " + tag, "artist": "Artist " + tag, "genre": "Jazz", "platform": "Tidal", "mood": "Calm",
        "city": "Lisbon", "country": "Portugal", "duration": 200, "listen_position": 50, "rating": 2,
    }
    body.update(fields)
    response = requests.post(server.url("/api/events"), json=body, timeout=10)
    assert response.status_code == 202, response.text
    return response.json()


def api_event(server, event_id):
    response = server.get("/api/events/" + event_id)
    assert response.status_code == 200, response.text
    return response.json()


def row(browser, event_id):
    return wait(browser, lambda b: [tr for tr in b.find_elements(By.CSS_SELECTOR, "#rows > tr")
                                    if tr.get_attribute("data-event-id") == event_id], "no row for " + event_id)[0]


def dialog_open(browser):
    return browser.execute_script("return document.getElementById('detail').open;")


def shown_fields(browser, list_id="detail-fields"):
    """The drawer's <dl> as {dt text: dd's value text}, plus the notes under each value."""
    pairs = browser.execute_script("""
        const out = [];
        const list = document.getElementById(arguments[0]);
        for (const dt of list.querySelectorAll('dt')) {
          const dd = dt.nextElementSibling;
          out.push([dt.textContent, {
            value: dd.querySelector('.app-detail-value').textContent,
            notes: Array.from(dd.querySelectorAll('.app-detail-note')).map((n) => n.textContent),
            datetime: (dd.querySelector('time') || {}).dateTime || null,
          }]);
        }
        return out;""", list_id)
    return dict(pairs)  # in page order (a returned object would lose it)


def as_text(value):
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def active_event_id(browser):
    return browser.execute_script("const a = document.activeElement; return a && a.dataset ? a.dataset.eventId || null : null;")


def close_if_open(browser):
    if dialog_open(browser):
        browser.execute_script("document.getElementById('detail').close();")


# ---------- opening, fields, Kafka position ----------

def test_a_click_opens_every_field_and_where_kafka_holds_the_record(driver, server):
    tag = token()
    receipt = publish(server, tag)
    open_page(driver, server, "?q=" + tag)
    tr = row(driver, receipt["event_id"])
    assert tr.get_attribute("tabindex") == "0"
    hint = driver.find_element(By.ID, tr.get_attribute("aria-describedby"))
    assert "Enter" in hint.get_attribute("textContent")
    click(driver, tr.find_elements(By.TAG_NAME, "td")[2])
    wait(driver, dialog_open, "a click on the row did not open the drawer")
    assert driver.execute_script("return document.getElementById('detail').contains(document.activeElement);")

    detail = api_event(server, receipt["event_id"])
    event = detail["event"]
    fields = shown_fields(driver)
    assert list(fields) == CANONICAL_FIELDS, "every key of the event, in the API's order"
    for key in CANONICAL_FIELDS:
        assert fields[key]["value"] == as_text(event[key]), key
    assert fields["email"]["value"] == tag + "@example.org"
    # The timestamp also as local time with its zone, and as ISO 8601 UTC.
    iso = datetime.fromtimestamp(event["timestamp"] / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")
    iso = iso.replace("+00:00", "Z")
    assert fields["timestamp"]["datetime"] == iso
    assert iso in fields["timestamp"]["notes"]
    local = [n for n in fields["timestamp"]["notes"] if n != iso]
    assert local and re.search(r"(UTC|GMT|[A-Z]{3,4})", local[0]), local
    assert driver.find_element(By.ID, "detail-subtitle").text == "Song %s — Artist %s" % (tag, tag)

    # Where Kafka holds it: the POST receipt's partition and offset, as the API says.
    wait(driver, lambda b: "offset" in shown_fields(b, "detail-kafka"), "the Kafka position never appeared")
    kafka = shown_fields(driver, "detail-kafka")
    assert detail["kafka"]["partition"] == receipt["partition"] and detail["kafka"]["offset"] == receipt["offset"]
    assert kafka["topic"]["value"] == detail["kafka"]["topic"] == "music-streams"
    assert kafka["partition"]["value"] == str(receipt["partition"])
    assert kafka["offset"]["value"] == str(receipt["offset"])
    assert kafka["stream id (window sequence)"]["value"] == str(detail["sequence"])
    assert driver.find_element(By.ID, "detail-kafka-status").text == ""

    click(driver, driver.find_element(By.ID, "detail-close"))
    wait(driver, lambda b: not dialog_open(b), "Close did not close the drawer")
    assert severe_console_entries(driver) == []


def test_enter_and_space_open_escape_closes_and_focus_returns_to_the_row(driver, server):
    tag = token()
    first, second = listen(tag, title="First " + tag), listen(tag, title="Second " + tag)
    produce(server, [first, second])
    open_page(driver, server, "?q=" + tag)
    wait(driver, lambda b: len(row_ids(b)) == 2, "the two listens are not listed")
    for key, event in ((Keys.ENTER, first), (Keys.SPACE, second)):
        driver.execute_script("arguments[0].focus();", row(driver, event["event_id"]))
        assert active_event_id(driver) == event["event_id"]
        driver.switch_to.active_element.send_keys(key)
        wait(driver, dialog_open, "%r on a focused row did not open the drawer" % key)
        assert shown_fields(driver)["event_id"]["value"] == event["event_id"]
        assert shown_fields(driver)["title"]["value"] == event["title"]
        # Focus is inside the modal drawer, so the keyboard works there.
        assert driver.execute_script("return document.getElementById('detail').contains(document.activeElement);")
        driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        wait(driver, lambda b: not dialog_open(b), "Escape did not close the drawer")
        wait(driver, lambda b: active_event_id(b) == event["event_id"], "focus did not return to the row")
    # Arrow keys move between rows.
    driver.execute_script("arguments[0].focus();", row(driver, row_ids(driver)[0]))
    driver.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    assert active_event_id(driver) == row_ids(driver)[1]
    assert severe_console_entries(driver) == []


def test_the_drawer_keeps_its_own_copy_while_rows_are_replaced(driver, server):
    tag = token()
    event = listen(tag)
    produce(server, [event])
    open_page(driver, server, "?q=" + tag)
    click(driver, row(driver, event["event_id"]))
    wait(driver, dialog_open, "the drawer did not open")
    # The table is rebuilt underneath (as a refresh or heavy traffic does): the drawer stays put.
    driver.execute_script("document.getElementById('rows').textContent = '';")
    assert shown_fields(driver)["event_id"]["value"] == event["event_id"]
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(driver, lambda b: not dialog_open(b), "Escape did not close the drawer")
    # Its row is gone, so focus goes to the table's heading rather than nowhere.
    wait(driver, lambda b: b.switch_to.active_element.get_attribute("id") == "events-heading",
         "focus did not go to the table's heading")


# ---------- copy as JSON ----------

def test_copy_as_json_puts_the_event_on_the_clipboard(driver, server):
    tag = token()
    event = listen(tag, title='Quote " and \\ backslash ' + tag)
    produce(server, [event])
    open_page(driver, server, "?q=" + tag)
    driver.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": server.base_url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    click(driver, row(driver, event["event_id"]))
    wait(driver, dialog_open, "the drawer did not open")
    click(driver, driver.find_element(By.ID, "detail-copy"))
    wait(driver, lambda b: b.find_element(By.ID, "detail-copy-status").text == "Copied", "no 'Copied' status")
    copied = driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; navigator.clipboard.readText().then(done, (e) => done('ERR ' + e));")
    assert json.loads(copied) == event == api_event(server, event["event_id"])["event"]
    assert driver.find_element(By.ID, "detail-json").get_attribute("hidden") is not None

    # Without clipboard access the JSON is shown selected, ready for Ctrl+C.
    driver.execute_script("navigator.clipboard.writeText = () => Promise.reject(new Error('denied'));"
                          "document.execCommand = () => false;")
    click(driver, driver.find_element(By.ID, "detail-copy"))
    area = driver.find_element(By.ID, "detail-json")
    wait(driver, lambda b: area.is_displayed(), "the fallback text area did not appear")
    assert json.loads(area.get_attribute("value")) == event
    assert driver.execute_script("const a = arguments[0]; return document.activeElement === a && "
                                 "a.selectionStart === 0 && a.selectionEnd === a.value.length;", area)
    assert "Ctrl+C" in driver.find_element(By.ID, "detail-copy-status").text
    close_if_open(driver)
    driver.refresh()  # the patched clipboard goes with the page


# ---------- "Only this ..." ----------

@pytest.mark.parametrize("link, parameter, field, field_id", [
    ("detail-only-user", "user_id", "user_id", "f-user_id"),
    ("detail-only-artist", "artist", "artist", "f-artist"),
    ("detail-only-track", "track_id", "track_id", "f-track_id"),
])
def test_each_filter_link_filters_the_table_and_the_url(driver, server, link, parameter, field, field_id):
    tag = token()
    # The one opened shares its user with b, and its artist and track with c.
    a = listen(tag, user_id="ua-" + tag, artist="Artist A " + tag, track_id="ta-" + tag, title="A " + tag)
    b = listen(tag, user_id="ua-" + tag, artist="Artist B " + tag, track_id="tb-" + tag, title="B " + tag)
    c = listen(tag, user_id="uc-" + tag, artist="Artist A " + tag, track_id="ta-" + tag, title="C " + tag)
    produce(server, [a, b, c])
    open_page(driver, server, "?q=" + tag)
    wait(driver, lambda b_: len(row_ids(b_)) == 3, "the three listens are not listed")
    click(driver, row(driver, a["event_id"]))
    wait(driver, dialog_open, "the drawer did not open")
    anchor = driver.find_element(By.ID, link)
    assert parameter + "=" in anchor.get_attribute("href"), "a real link, which opens elsewhere too"
    click(driver, anchor)
    wait(driver, lambda b_: not dialog_open(b_), "the link did not close the drawer")
    expected = {e["event_id"] for e in (a, b, c) if e[field] == a[field]}
    assert len(expected) == 2
    wait(driver, lambda b_: set(row_ids(b_)) == expected, "the table was not filtered to " + parameter)
    query = query_of(driver)
    assert query.get(parameter) == [a[field]] and query.get("q") == [tag], "the URL carries the filter"
    assert driver.find_element(By.ID, field_id).get_attribute("value") == a[field]
    assert driver.switch_to.active_element.get_attribute("id") == "events-heading"
    # The server agrees on what the filter selects.
    listed = server.get("/api/events", params={parameter: a[field], "q": tag}).json()["events"]
    assert {e["event_id"] for e in listed} == expected
    driver.refresh()
    wait(driver, lambda b_: set(row_ids(b_)) == expected, "the filter did not survive a reload")
    assert severe_console_entries(driver) == []


# ---------- evicted ----------

def test_a_listen_no_longer_in_the_window_says_so(driver, start_server):
    # No simulated listens at all: a late backfill would evict the test's listen before the page shows it.
    small = start_server("--rate", "0", "--backfill", "0", "--window", "5", "--public-dir", PUBLIC_DIR)
    tag = token()
    old = listen(tag, title="Old " + tag, timestamp=int(time.time() * 1000) - 60000)
    produce(small, [old])
    open_page(driver, small, "?q=" + tag)
    produce(small, [listen("other" + tag) for _ in range(6)])   # evicts it from the server's window
    assert wait(driver, lambda b: small.get("/api/events/" + old["event_id"]).status_code == 404,
                "the listen was not evicted")
    click(driver, row(driver, old["event_id"]))
    wait(driver, dialog_open, "the drawer did not open")
    assert shown_fields(driver)["event_id"]["value"] == old["event_id"], "the fields come from the page's copy"
    wait(driver, lambda b: "no longer in the server's window" in b.find_element(By.ID, "detail-kafka-status").text.lower(),
         "the drawer did not say the listen left the window")
    assert shown_fields(driver, "detail-kafka") == {}
    close_if_open(driver)


# ---------- export ----------

HOSTILE = {
    "title": "=cmd|' /C calc'!A0",
    "artist": 'He said "hi", then, left',
    "city": "Line one\nLine two",
    "mood": "+SUM(1,2)",
    "genre": "@import",
    "country": "-2+3",
}


def downloaded(directory, extension, before):
    files = [f for f in os.listdir(directory) if f.endswith("." + extension) and f not in before]
    return files[0] if len(files) == 1 else None


def test_export_csv_and_json_hold_exactly_the_rows_shown(driver, server, tmp_path):
    tag = token()
    events = [listen(tag, title="Plain " + tag, timestamp=int(time.time() * 1000) - 2000),
              listen(tag, timestamp=int(time.time() * 1000) - 1000, **HOSTILE)]
    produce(server, events)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    open_page(driver, server, "?q=" + tag)
    wait(driver, lambda b: len(row_ids(b)) == 2, "the two listens are not listed")
    shown = row_ids(driver)
    expected = [api_event(server, event_id)["event"] for event_id in shown]
    assert expected[0]["title"] == HOSTILE["title"], "the hostile listen, newest, is the first row"

    before = set(os.listdir(tmp_path))
    click(driver, driver.find_element(By.ID, "export-csv"))
    name = wait(driver, lambda b: downloaded(tmp_path, "csv", before), "no CSV was downloaded")
    assert re.fullmatch(r"musicstream-listens-\d{8}-\d{6}Z\.csv", name)
    assert driver.find_element(By.ID, "export-status").text == "Exported 2 rows as CSV."
    raw = (tmp_path / name).read_bytes().decode("utf-8")
    lines = raw.split("\r\n")
    assert lines[0] == ",".join(CANONICAL_FIELDS + ["timestamp_utc"]), "a header row, CRLF line ends"
    assert raw.endswith("\r\n")
    # RFC 4180 quoting, and formulas defused with a leading apostrophe.
    assert "'=cmd|' /C calc'!A0," in raw
    assert '"He said ""hi"", then, left"' in raw
    assert '"Line one\nLine two"' in raw
    assert ",'+SUM(1,2)" not in raw and ",\"'+SUM(1,2)\"," in raw
    assert ",'@import," in raw and ",'-2+3," in raw
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert [r["event_id"] for r in rows] == shown, "the rows in table order"
    for got, event in zip(rows, expected):
        for key in CANONICAL_FIELDS:
            value = as_text(event[key])
            if isinstance(event[key], str) and value[:1] in "=+-@":
                value = "'" + value
            assert got[key] == value, key
        iso = datetime.fromtimestamp(event["timestamp"] / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")
        assert got["timestamp_utc"] == iso.replace("+00:00", "Z")

    before = set(os.listdir(tmp_path))
    click(driver, driver.find_element(By.ID, "export-json"))
    name = wait(driver, lambda b: downloaded(tmp_path, "json", before), "no JSON was downloaded")
    assert re.fullmatch(r"musicstream-listens-\d{8}-\d{6}Z\.json", name)
    assert json.loads((tmp_path / name).read_text(encoding="utf-8")) == expected
    assert driver.find_element(By.ID, "export-status").text == "Exported 2 rows as JSON."
    # A download through a blob: URL passes the page's CSP: nothing was refused.
    assert severe_console_entries(driver) == []


def test_export_follows_what_is_shown_when_paused(driver, server, tmp_path):
    tag = token()
    first = listen(tag, title="Before pause " + tag)
    produce(server, [first])
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    open_page(driver, server, "?q=" + tag)
    wait(driver, lambda b: row_ids(b) == [first["event_id"]], "the listen is not listed")
    click(driver, driver.find_element(By.ID, "pause"))
    late = listen(tag, title="While paused " + tag)
    produce(server, [late])
    wait(driver, lambda b: "1 new" in b.find_element(By.ID, "pause").text, "the paused table did not count the arrival")
    click(driver, driver.find_element(By.ID, "export-json"))
    name = wait(driver, lambda b: downloaded(tmp_path, "json", set()), "no JSON was downloaded")
    assert [e["event_id"] for e in json.loads((tmp_path / name).read_text(encoding="utf-8"))] == [first["event_id"]]
    click(driver, driver.find_element(By.ID, "pause"))  # resume for the tests after this one
