"""Many dashboard tabs, one /stream connection (issue 14), in one headless Chromium.

A browser opens about six HTTP/1.1 connections per origin, and each tab's EventSource used to
keep one, so the seventh tab never went live. The tabs now share one unfiltered stream held by a
leader tab (Public/js/stream-share.js) and filter it themselves (Public/js/matching.js). Here:
eight tabs stay live on one server connection, the leader's tab closes and another takes over with
no listen lost or repeated, tabs with different filters each show exactly what the server's own
filter would, and the page's filter rules agree with the server's on awkward Unicode text.

The page exposes `window.musicstreamStream` for these tests: `role` ("leader", "follower" or
"direct") and `received`, which, once set to an array, collects the event_id of every listen the
stream hands the page."""
import contextlib
import itertools
import json
import re
import time
import urllib.parse
import uuid

import pytest
import websocket
from selenium.common.exceptions import TimeoutException

from browser_helpers import (
    PUBLIC_DIR, WAIT, choose_in_picker, connection_state, open_page, require_chromium, row_genres, row_ids, severe_console_entries, wait,
)
from browser_helpers import driver, fresh_console  # noqa: F401 (fixtures)
from conftest import wait_until
from test_pipeline import canonical_event, kcat_produce

TABS = 8
RATE = 20            # listens a second from the simulator: a handover of a few 100 ms spans several
LONG = 60            # seconds: the bound of the waits that span many tabs on a busy machine
PAUSE_S = 2          # the tabs stand still this long as the leader's closes: listens to replay
MARGIN_MS = 1000     # the ends of a recording left out of comparisons (arrival order ~ timestamp order)


@pytest.fixture(scope="module")
def server(start_server):
    require_chromium()
    return start_server("--rate", str(RATE), "--seed", "14", "--public-dir", PUBLIC_DIR)


def sse_clients(server):
    text = server.get("/metrics").text
    return int(re.search(r"^musicstream_sse_clients (\d+)$", text, re.M).group(1))


@contextlib.contextmanager
def paused(browser, handles):
    """The scripts of these tabs stand still inside the block (DevTools' debugger, over connections
    of its own to the browser on loopback: chromedriver would wait for a paused tab)."""
    address = browser.capabilities["goog:chromeOptions"]["debuggerAddress"]
    sockets = []
    ids = itertools.count(1)

    def call(ws, method):
        n = next(ids)
        ws.send(json.dumps({"id": n, "method": method}))
        while True:
            reply = json.loads(ws.recv())
            if reply.get("id") == n:
                assert "error" not in reply, reply
                return reply
    try:
        for handle in handles:
            ws = websocket.create_connection("ws://%s/devtools/page/%s" % (address, handle), timeout=WAIT,
                                             suppress_origin=True)
            sockets.append(ws)
            call(ws, "Debugger.enable")
            call(ws, "Debugger.pause")
        yield
    finally:
        for ws in sockets:
            call(ws, "Debugger.disable")  # resumes too
            ws.close()


def role(browser):
    return browser.execute_script("return window.musicstreamStream ? window.musicstreamStream.role : null;")


def start_recording(browser):
    browser.execute_script("window.musicstreamStream.received = [];")


def recorded(browser):
    return browser.execute_script("return window.musicstreamStream.received.slice();")


def stop_recording(browser):
    return browser.execute_script(
        "const r = window.musicstreamStream.received; window.musicstreamStream.received = null; return r;")


def open_tabs(browser, server, queries, handles):
    """Opens the dashboard with each query, the first in the current tab and each other in a new
    one; appends each tab's window handle to `handles` as it opens (for the caller to close)."""
    for i, query in enumerate(queries):
        if i:
            browser.switch_to.new_window("tab")
        try:
            open_page(browser, server, query)
        except TimeoutException as e:
            # Each tab with its own stream: the seventh finds no free connection, not even for the page.
            raise AssertionError("tab %d of %d never went live; the server holds %d /stream connections (%s)"
                                 % (i + 1, len(queries), sse_clients(server), e.msg)) from None
        handles.append(browser.current_window_handle)


def close_all_but_one(browser):
    """Leaves one tab open, for the next test."""
    for handle in browser.window_handles[1:]:
        browser.switch_to.window(handle)
        browser.close()
    browser.switch_to.window(browser.window_handles[0])


def assert_every_tab_live(browser, server, handles, timeout=LONG):
    """In every tab: new rows arrive (ids not shown a moment ago) and the badge says live; the
    server holds at most one /stream connection all the while."""
    before = {}
    for handle in handles:
        browser.switch_to.window(handle)
        before[handle] = set(row_ids(browser))
    for handle in handles:
        browser.switch_to.window(handle)
        wait(browser, lambda b: set(row_ids(b)) - before[handle], "no new rows in tab %s" % handle, timeout=timeout)
        assert connection_state(browser) == "live", "tab %s is %s" % (handle, connection_state(browser))
        assert sse_clients(server) <= 1, "the tabs hold %d /stream connections" % sse_clients(server)


def server_events(server, query, since, until):
    """The listens the server's window holds for `query` with since <= timestamp < until."""
    body = server.get("/api/events?" + query + ("&" if query else "") +
                      "since=%d&until=%d&limit=1000" % (since, until)).json()
    assert body["source"] == "window"
    assert body["count"] < 1000, "the span holds too many listens to compare"
    return body["events"]


def timestamps_of(server, ids):
    """Each recorded listen's timestamp, from the server's window."""
    events = server.get("/api/events?limit=1000").json()["events"]
    stamps = {e["event_id"]: e["timestamp"] for e in events}
    missing = [i for i in ids if i not in stamps]
    assert not missing, "the page received listens the window does not hold: %s" % missing[:5]
    return stamps


def server_events_by_id(server, ids):
    events = {e["event_id"]: e for e in server.get("/api/events?limit=1000").json()["events"]}
    return [events[i] for i in ids]


def assert_exactly_the_servers(server, received, query, must_span=None):
    """`received` (event ids in arrival order) holds no repeat and, between its first and last
    listen (less a margin at both ends), exactly the listens the server has for `query` there."""
    assert len(received) == len(set(received)), \
        "listens arrived twice: %s" % sorted({i for i in received if received.count(i) > 1})
    stamps = timestamps_of(server, received)
    lo = min(stamps[i] for i in received) + MARGIN_MS
    hi = max(stamps[i] for i in received) - MARGIN_MS
    assert lo < hi, "the recording is too short"
    if must_span is not None:
        assert lo < must_span < hi, "the recording does not span the moment that matters"
    expected = {e["event_id"] for e in server_events(server, query, lo, hi + 1)}
    got = {i for i in received if lo <= stamps[i] <= hi}
    assert expected, "no listens to compare"
    assert got == expected, "missing %s, not the server's %s" % (sorted(expected - got)[:10], sorted(got - expected)[:10])
    return len(expected)


def test_eight_tabs_share_one_stream_and_a_new_leader_takes_over_without_a_gap(driver, server):
    handles = []
    try:
        open_tabs(driver, server, [""] * TABS, handles)
        # One connection for eight tabs (without sharing: eight, and tabs 7 and 8 never load).
        assert wait_until(lambda: sse_clients(server) == 1, timeout=10), \
            "the server holds %d /stream connections" % sse_clients(server)
        assert_every_tab_live(driver, server, handles)
        roles = {}
        for handle in handles:
            driver.switch_to.window(handle)
            roles[handle] = role(driver)
        leaders = [h for h in handles if roles[h] == "leader"]
        assert len(leaders) == 1 and all(roles[h] == "follower" for h in handles if h not in leaders), roles

        # A follower records what it receives from before the leader's tab closes until well after.
        follower = [h for h in handles if h not in leaders][-1]
        driver.switch_to.window(follower)
        start_recording(driver)
        wait(driver, lambda b: len(recorded(b)) >= 3 * RATE, "too few listens recorded before", timeout=LONG)
        remaining = [h for h in handles if h != leaders[0]]
        # The other tabs stand still for a while around the moment the leader's tab closes, so
        # the new leader (whichever was next in line) connects well after the old one went: the
        # listens of that moment can only come from the replay after the last id the old leader
        # passed on.
        with paused(driver, remaining):
            driver.switch_to.window(leaders[0])
            closed_at = int(time.time() * 1000)
            driver.close()
            time.sleep(PAUSE_S)

        def new_leader():
            for handle in remaining:
                driver.switch_to.window(handle)
                if role(driver) == "leader":
                    return handle
            return None
        assert wait_until(new_leader, timeout=15, interval=0.2), "no tab took over"
        driver.switch_to.window(follower)
        count = len(recorded(driver))
        wait(driver, lambda b: len(recorded(b)) >= count + 4 * RATE, "too few listens after the handover", timeout=LONG)
        received = stop_recording(driver)
        compared = assert_exactly_the_servers(server, received, "", must_span=closed_at)
        assert compared >= 3 * RATE

        # Still one connection (the old leader's is gone), and the seven tabs stay live.
        assert wait_until(lambda: sse_clients(server) == 1, timeout=10), \
            "the server holds %d /stream connections" % sse_clients(server)
        assert_every_tab_live(driver, server, remaining)
        for handle in remaining:
            driver.switch_to.window(handle)
            assert severe_console_entries(driver) == []
    finally:
        close_all_but_one(driver)


def test_tabs_with_different_filters_each_show_their_own(driver, server):
    facets = server.get("/api/facets").json()["facets"]
    genre = facets["genre"][0]["value"]
    # The search compares titles and artists that are not ASCII (Beyoncé, Frédéric Chopin) by
    # Characters, as the server does.
    queries = ["", "?" + urllib.parse.urlencode({"genre": genre}),
               "?" + urllib.parse.urlencode({"q": "e", "skipped": "true", "rating": "2"})]
    api_queries = ["", urllib.parse.urlencode({"genre": genre}),
                   urllib.parse.urlencode({"q": "e", "skipped": "true", "rating": "2"})]
    handles = []
    try:
        open_tabs(driver, server, queries, handles)
        assert wait_until(lambda: sse_clients(server) == 1, timeout=10), \
            "the server holds %d /stream connections" % sse_clients(server)
        for handle in handles:
            driver.switch_to.window(handle)
            start_recording(driver)
        # Long enough for the rarer filters to see a fair number of listens.
        deadline = time.monotonic() + LONG
        for handle in handles:
            driver.switch_to.window(handle)
            wait(driver, lambda b: len(recorded(b)) >= 20, "too few listens in tab %s" % handle,
                 timeout=max(1, deadline - time.monotonic()))
        received = {}
        for handle in handles:
            driver.switch_to.window(handle)
            received[handle] = stop_recording(driver)
        for handle, query in zip(handles, api_queries):
            assert_exactly_the_servers(server, received[handle], query)
        driver.switch_to.window(handles[1])
        assert set(row_genres(driver)) == {genre}
        driver.switch_to.window(handles[0])
        assert len(set(row_genres(driver))) > 1
        assert_every_tab_live(driver, server, handles)

        # A tab that changes its filters keeps its share of the one connection.
        other = facets["genre"][1]["value"]
        choose_in_picker(driver, "genre", [other])
        wait(driver, lambda b: (lambda g: g and set(g) == {other})(row_genres(b)), "rows were not filtered")
        start_recording(driver)
        wait(driver, lambda b: len(recorded(b)) >= 5, "too few listens after the change", timeout=LONG)
        assert {e["genre"] for e in server_events_by_id(server, stop_recording(driver))} == {other}
        assert sse_clients(server) <= 1
    finally:
        close_all_but_one(driver)


# Listens with awkward text, each field in more than one Unicode spelling; their track_id keeps
# them apart from the simulator's.
def awkward_events(track):
    base = int(time.time() * 1000)
    texts = [
        ("Crazy in Love", "Beyonce\u0301", "R&B", "Brazil"),          # é decomposed
        ("Crazy in Love", "Beyonc\u00e9", "r&b", "Côte d’Ivoire"),    # é composed
        ("\u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3", "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3", "Entekhno", "Greece"),
        ("Stra\u00dfe", "STRASSE", "Schlager", "Deutschland"),
        ("\u0130stanbul", "Sezen Aksu", "T\u00fcrk Pop", "T\u00fcrkiye"),
        ("\u212aelvin Song", "The \u212aelvins", "Indie", "K\u00f6ln"),   # Kelvin sign
        ("\ufb01ne Day", "o\ufb03ce", "\u00dcnicode Pop", "Japan"),            # ligatures
        ("Family \U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f1ef\U0001f1f5 Band", "U\u0308nicode Pop", "Japan"),
        ("\u1112\u1161\u11ab\u1100\u1173\u11af", "\ud55c\uae00", "K-Pop", "South Korea"),  # Hangul, jamo and syllables
        ("Plain ASCII", "Artist", "Pop", "Japan"),
    ]
    events = []
    for i, (title, artist, genre, country) in enumerate(texts):
        position = 70 + i * 2
        events.append(canonical_event(
            completed=position * 5 >= 100 * 4, skipped=position * 5 < 100 * 4,
            track_id=track, title=title, artist=artist, genre=genre, country=country, username="user %d" % i,
            user_id=("u\u0308ser-%d" % i) if i % 2 else ("\u00fcser-%d" % i),
            rating=i % 6, duration=100, listen_position=position, timestamp=base + i))
    return events


FILTER_CASES = [
    {"q": "e"}, {"q": "E"}, {"q": "\u00e9"}, {"q": "\u00c9"}, {"q": "e\u0301"}, {"q": "beyonce"}, {"q": "beyonc"},
    {"q": "\u03c3"}, {"q": "\u03c2"}, {"q": "\u03a3"}, {"q": "\u03c3\u03c3"}, {"q": "ss"}, {"q": "\u00df"},
    {"q": "\u1e9e"}, {"q": "i"}, {"q": "i\u0307"}, {"q": "\u0130"}, {"q": "k"}, {"q": "\u212a"}, {"q": "kelvin"},
    {"q": "fi"}, {"q": "\ufb01"}, {"q": "ffi"}, {"q": "\U0001f469"}, {"q": "\U0001f1ef"}, {"q": "\U0001f1ef\U0001f1f5"},
    {"q": "\ud55c"}, {"q": "\u1112\u1161"}, {"q": "\u1112"}, {"q": "\u0085e"}, {"q": "user 1"},
    {"artist": "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03c3"}, {"artist": "strasse"}, {"artist": "STRA\u00dfE"},
    {"genre": ["r&b"]}, {"genre": ["\u00fcnicode pop"]}, {"genre": ["U\u0308NICODE POP"]}, {"genre": ["t\u00fcrk pop", "k-pop"]},
    {"country": ["\u00f4"]}, {"country": ["o\u0302"]}, {"country": ["japan", "k\u00f6"]}, {"country": ["ko"]},
    {"user_id": "\u00fcser-2"}, {"user_id": "u\u0308ser-2"}, {"user_id": "\u00fcser-3"},
    {"rating": "3"}, {"skipped": "true"}, {"completed": "true", "rating": "1"},
]


def test_the_pages_filters_agree_with_the_servers(driver, server):
    track = "tabs-" + uuid.uuid4().hex
    events = awkward_events(track)
    kcat_produce(server.bootstrap, [json.dumps(e, ensure_ascii=False) for e in events], key=track)
    assert wait_until(lambda: server.get("/api/events", params={"track_id": track}).json()["count"] == len(events),
                      timeout=30), "the listens never reached the window"
    open_page(driver, server)
    stored = server.get("/api/events", params={"track_id": track, "limit": 100}).json()["events"]
    stamps = sorted(e["timestamp"] for e in stored)
    cases = FILTER_CASES + [{"since": stamps[3], "until": stamps[7]}]
    for case in cases:
        expected = {e["event_id"] for e in server.get("/api/events", params=dict(case, track_id=track)).json()["events"]}
        filters = {k: v for k, v in case.items() if k not in ("since", "until")}
        time_range = {"since": case.get("since"), "until": case.get("until")}
        got = driver.execute_async_script("""
            const [events, filters, range, done] = arguments;
            import('/js/matching.js').then((m) => {
              const match = m.eventMatcher(filters, range);
              done(match ? events.filter(match).map((e) => e.event_id) : 'undecided');
            }, (e) => done(String(e)));""", stored, filters, time_range)
        assert isinstance(got, list), "%r: %s" % (case, got)
        assert set(got) == expected, "%r: the page picks %d listens, the server %d" % (case, len(got), len(expected))
