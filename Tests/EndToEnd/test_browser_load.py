"""The dashboard at production rates, in headless Chromium against the real server (issue 12):
5,000 listens a second for 30 s, then a minute of spikes (bursts of 10,000 a second). A probe
injected before the page's own scripts counts animation frames and long tasks and times a
keystroke in Search, its filtered rows, and a sort click; the figures are printed (and written to
test-artifacts/perf/) whether or not they pass. Also here: a frozen server (SIGSTOP) turns the
connection badge to "Stalled" with an alert, and "Live" again with nothing missed or repeated.

The thresholds are the issue's: >= 30 frames/s on average, no long task over 200 ms after the
first 2 s (of the page, and of each burst), the typed text on screen within 100 ms and the
matching rows within 500 ms, a sort within 500 ms, the stream never dropped by the server, and
the figures and charts filled within 2 s of the page's load event."""
import json
import os
import re
import signal
import time

import pytest
from selenium.webdriver.common.by import By

from browser_helpers import (
    CHART_IDS, PUBLIC_DIR, ROOT, chromium, click, connection_state, open_page, require_chromium,
    row_ids, save_screenshot, severe_console_entries, wait,
)

PERF_DIR = os.path.join(ROOT, "test-artifacts", "perf")

# Runs in the page before any of its scripts (Page.addScriptToEvaluateOnNewDocument).
PROBE = r"""
(() => {
  const p = window.__probe = { frames: [], longTasks: [], marks: {} };
  const frame = (t) => { p.frames.push(t); requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) p.longTasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
  // Which scripts made a frame late (Long Animation Frames), for the report.
  p.slowScripts = {};
  if (PerformanceObserver.supportedEntryTypes.includes("long-animation-frame")) {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const scripts = (e.scripts || []).reduce((n, s) => n + s.duration, 0);
        const layout = e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0;
        (p.slowFrames = p.slowFrames || []).push([Math.round(e.startTime), Math.round(e.duration), Math.round(scripts), Math.round(layout)]);
      }
      for (const e of list.getEntries()) for (const s of e.scripts || []) {
        const key = (s.invoker || s.name) + " @ " + String(s.sourceURL || "").split("/").pop() + ":" + s.sourceFunctionName;
        const entry = p.slowScripts[key] || (p.slowScripts[key] = { count: 0, total: 0, max: 0 });
        entry.count += 1; entry.total += s.duration; entry.max = Math.max(entry.max, s.duration);
      }
    }).observe({ type: "long-animation-frame", buffered: true });
  }
  // When the typed text is on screen: the first frame after the input event, timed from the
  // key's own time stamp (which includes any wait before the page got to handle it).
  document.addEventListener("keydown", (e) => { p.keyAt = e.timeStamp; }, true);
  document.addEventListener("input", () => {
    const key = p.keyAt;
    requestAnimationFrame(() => { (p.inputShown = p.inputShown || []).push(performance.now() - key); });
  }, true);
  document.addEventListener("click", (e) => { p.clickAt = e.timeStamp; }, true);
  // Records, once, how long after `p[from]` the condition first held in a frame.
  p.watch = (name, from, condition) => {
    const check = () => {
      if (condition()) p.marks[name] = performance.now() - p[from];
      else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  };
  const filled = () => {
    const kpis = ["kpi-window", "kpi-rate", "kpi-listeners", "kpi-skip", "kpi-rating", "kpi-last"];
    if (kpis.some((id) => { const el = document.getElementById(id); return !el || el.textContent.trim() === "—"; })) return false;
    if (!window.Chart) return false;
    return CHART_IDS.every((id) => {
      const chart = window.Chart.getChart(document.getElementById(id));
      return chart && chart.data.datasets.some((d) => d.data.some((v) => Number(v) > 0));
    });
  };
  p.loadedAt = 0;
  window.addEventListener("load", () => { p.loadedAt = performance.now(); p.watch("filled", "loadedAt", filled); });
})();
"""


def install_probe(browser):
    source = PROBE.replace("CHART_IDS", json.dumps(CHART_IDS))
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})


def frame_figures(browser, start_ms, end_ms, exclude=()):
    """Frames per second and the longest long task between two page times, leaving out the
    `exclude` spans (page times)."""
    frames, long_tasks = browser.execute_script("return [window.__probe.frames, window.__probe.longTasks];")

    def counted(t):
        return start_ms <= t <= end_ms and not any(a <= t <= b for a, b in exclude)

    kept = [t for t in frames if counted(t)]
    excluded_ms = sum(max(0, min(b, end_ms) - max(a, start_ms)) for a, b in exclude)
    seconds = max(0.001, (end_ms - start_ms - excluded_ms) / 1000)
    # A long task that overlaps a counted stretch counts.
    tasks = [d for s, d in long_tasks if counted(s) or counted(s + d)]
    return {
        "frames_per_second": round(len(kept) / seconds, 1),
        "longest_task_ms": round(max(tasks, default=0), 1),
        "long_tasks": len(tasks),
        "seconds": round(seconds, 1),
    }


def slowest_scripts(browser):
    """The five scripts that spent the most time in long animation frames (where to look next)."""
    scripts = browser.execute_script("return window.__probe.slowScripts;")
    top = sorted(scripts.items(), key=lambda kv: -kv[1]["total"])[:5]
    return {k: {"count": v["count"], "total_ms": round(v["total"]), "max_ms": round(v["max"])} for k, v in top}


def page_now(browser):
    return browser.execute_script("return performance.now();")


def report(capsys, name, figures):
    os.makedirs(PERF_DIR, exist_ok=True)
    with open(os.path.join(PERF_DIR, name + ".json"), "w") as f:
        json.dump(figures, f, indent=2)
    with capsys.disabled():
        print("\n[%s] %s" % (name, json.dumps(figures)))


def dropped_stream(server):
    return [line for line in server.stdout_lines + server.stderr_lines if "stopped reading" in line]


def parts(browser, start):
    """Where the time of the last filter change went: until the page applied it, until the table's
    answer arrived, until the table was drawn (the page's own performance marks)."""
    return browser.execute_script(r"""
      const start = window.__probe[arguments[0]];
      const last = (name) => {
        const m = performance.getEntriesByName("musicstream:" + name);
        return m.length ? Math.round(m[m.length - 1].startTime - start) : null;
      };
      const table = performance.getEntriesByType("resource")
        .filter((e) => e.name.includes("/api/events?") && !e.name.includes("limit=1000")).pop();
      const at = (t) => (table ? Math.round(t - start) : null);
      return { applied: last("refresh"), asked: at(table.fetchStart), first_byte: at(table.responseStart),
               received: at(table.responseEnd), answered: last("events-answered"), drawn: last("table-drawn") };""", start)


def search_and_sort(browser, figures):
    """Types an artist into Search, then sorts by Artist, timing both through the probe."""
    artist = browser.execute_script("return document.querySelector('#rows > tr > td:nth-child(4)').textContent;")
    # Search matches title, artist and user name: a word of the artist's name, as a user types it.
    term = max(re.findall(r"\w+", artist), key=len)[:6]
    browser.execute_script(r"""
      const term = arguments[0].toLowerCase();
      window.__probe.watch("search", "keyAt", () => {
        const rows = Array.from(document.querySelectorAll("#rows > tr"));
        return document.getElementById("f-q").value.toLowerCase() === term && rows.length > 0 &&
          rows.every((tr) => [2, 3, 4].some((n) => tr.children[n - 1].textContent.toLowerCase().includes(term)));
      });""", term)
    search = browser.find_element(By.ID, "f-q")
    click(browser, search)
    search.send_keys(term)
    wait(browser, lambda b: b.execute_script("return window.__probe.marks.search;") is not None,
         "the table never showed only rows matching %r" % term)
    shown = browser.execute_script("return window.__probe.inputShown;")
    figures["keystroke_on_screen_ms"] = round(max(shown), 1)
    figures["search_results_ms"] = round(browser.execute_script("return window.__probe.marks.search;"), 1)
    figures["search_parts_ms"] = parts(browser, "keyAt")

    time.sleep(1)   # as a person would, who reads the results before sorting them
    # Then a sort by user name (the artist column now holds one name, the track column few).
    def users():
        return [t.lower() for t in browser.execute_script(
            "return Array.from(document.querySelectorAll('#rows > tr > td:nth-child(2)')).map((td) => td.textContent);")]

    before = users()   # read once: live listens keep arriving between two reads
    assert before != sorted(before), "already in user order: the sort would prove nothing"
    browser.execute_script(r"""
      window.__probe.watch("sort", "clickAt", () => {
        const a = Array.from(document.querySelectorAll("#rows > tr > td:nth-child(2)")).map((td) => td.textContent.toLowerCase());
        return document.querySelector('th[data-sort="username"]').getAttribute("aria-sort") === "ascending" &&
          a.length > 1 && a.every((x, i) => i === 0 || a[i - 1] <= x);
      });""")
    click(browser, browser.find_element(By.CSS_SELECTOR, 'th[data-sort="username"] > .app-sort'))
    wait(browser, lambda b: b.execute_script("return window.__probe.marks.sort;") is not None,
         "the table never showed rows in user-name order")
    figures["sort_ms"] = round(browser.execute_script("return window.__probe.marks.sort;"), 1)
    figures["sort_parts_ms"] = parts(browser, "clickAt")
    after = users()
    assert after == sorted(after)


def assert_smooth(figures, what):
    assert figures["frames_per_second"] >= 30, "%s: %s frames/s" % (what, figures["frames_per_second"])
    assert figures["longest_task_ms"] <= 200, "%s: a long task of %s ms" % (what, figures["longest_task_ms"])


def test_smooth_at_5000_listens_a_second(start_server, capsys):
    require_chromium()
    server = start_server("--rate", "5000", "--window", "100000", "--seed", "12", "--public-dir", PUBLIC_DIR)
    with chromium() as browser:
        install_probe(browser)
        open_page(browser, server)
        loaded = browser.execute_script("return window.__probe.loadedAt;")
        time.sleep(30)
        end = page_now(browser)
        figures = frame_figures(browser, loaded + 2000, end)
        figures["filled_after_load_ms"] = browser.execute_script("return window.__probe.marks.filled;")
        save_screenshot(browser, "dashboard-busy-desktop.png")
        # Listens pour in too fast for the "new" highlight to mean anything: no row carries it.
        figures["highlighted_rows"] = browser.execute_script("return document.querySelectorAll('#rows > tr.app-row-new').length;")
        search_and_sort(browser, figures)
        figures["stream_dropped"] = len(dropped_stream(server))
        figures["slowest_scripts"] = slowest_scripts(browser)
        report(capsys, "dashboard-5000-per-second", figures)

        assert_smooth(figures, "at 5,000 listens/s")
        assert figures["filled_after_load_ms"] is not None and figures["filled_after_load_ms"] <= 2000, \
            "figures and charts not filled within 2 s of load: %s" % figures["filled_after_load_ms"]
        assert figures["keystroke_on_screen_ms"] <= 100
        assert figures["search_results_ms"] <= 500
        assert figures["sort_ms"] <= 500
        assert figures["stream_dropped"] == 0, dropped_stream(server)
        assert figures["highlighted_rows"] == 0
        # The sort reopened the stream a moment ago: it is live again as soon as its head arrives.
        wait(browser, lambda b: connection_state(b) == "live", "the stream did not come back after the sort", timeout=5)
        assert severe_console_entries(browser) == []


def test_a_minute_of_spikes(start_server, capsys):
    """Bursts of 10x 1,000 listens/s for 30 s after 6-24 s of quiet: frames and long tasks hold
    outside the first 2 s of each burst, the stream is never dropped, and search and sort answer
    in time inside a burst of 10,000 listens/s, past its first 2 s."""
    require_chromium()
    server = start_server("--rate", "1000", "--traffic", "spikes", "--spike-gap", "15", "--seed", "5",
                          "--window", "100000", "--public-dir", PUBLIC_DIR)
    # The server announces each burst ("simulator: burst of N listens/s for 30 s") and its end:
    # each announcement's line number, with when this process saw it.
    marks = {}
    scanned = [0]

    def watch_log():
        lines = server.stdout_lines + server.stderr_lines
        for i in range(scanned[0], len(lines)):
            if re.search(r"simulator: burst (of \d+ listens/s|over)", lines[i]):
                marks[i] = (time.monotonic(), "over" not in lines[i])
        scanned[0] = len(lines)

    def burst_under_way():
        """When the burst under way was seen starting (this process's clock), or None."""
        watch_log()
        if not marks:
            return None
        at, starts = marks[max(marks)]
        return at if starts else None

    with chromium() as browser:
        install_probe(browser)
        open_page(browser, server)
        loaded = browser.execute_script("return window.__probe.loadedAt;")
        # Page time and this process's clock, for placing the server's burst announcements.
        offset = page_now(browser) - time.monotonic() * 1000
        watch_log()
        before = set(marks)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            watch_log()
            time.sleep(0.05)
        end = page_now(browser)
        bursts = [at * 1000 + offset for i, (at, starts) in marks.items() if starts and i not in before]
        assert bursts, "no burst in a minute:\n" + "\n".join((server.stdout_lines + server.stderr_lines)[-20:])
        # The first 2 s of each burst (announced within 50 ms of its start) are left out.
        figures = frame_figures(browser, loaded + 2000, end, exclude=[(b - 100, b + 2000) for b in bursts])
        figures["bursts"] = len(bursts)
        figures["peak_listens_per_second"] = browser.execute_script(
            "return Number(document.getElementById('kpi-rate').textContent.replace(/,/g, ''));")
        save_screenshot(browser, "dashboard-spikes-desktop.png")
        # Search and sort inside a burst, past its first 2 s: in the one under way if enough of
        # it is left (bursts last 30 s; search and sort take a few seconds), else in the next.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            started = burst_under_way()
            if started is not None and time.monotonic() - started <= 20:
                break
            time.sleep(0.05)
        assert started is not None, "no burst to search in"
        time.sleep(max(0.0, started + 3 - time.monotonic()))
        search_started = time.monotonic()
        search_and_sort(browser, figures)
        figures["searched_seconds_into_burst"] = round(search_started - started, 1)
        # ...and the burst was still on when the sort was on screen.
        figures["burst_lasted_through_search_and_sort"] = burst_under_way() == started
        figures["stream_dropped"] = len(dropped_stream(server))
        figures["slowest_scripts"] = slowest_scripts(browser)
        report(capsys, "dashboard-spikes", figures)

        assert_smooth(figures, "in a minute of spikes")
        assert figures["burst_lasted_through_search_and_sort"], "the burst ended before search and sort were timed"
        assert figures["keystroke_on_screen_ms"] <= 100
        assert figures["search_results_ms"] <= 500
        assert figures["sort_ms"] <= 500
        assert figures["stream_dropped"] == 0, dropped_stream(server)
        assert severe_console_entries(browser) == []


def test_a_frozen_server_shows_stalled_and_recovers_without_gaps(start_server):
    require_chromium()
    server = start_server("--rate", "20", "--seed", "8", "--public-dir", PUBLIC_DIR)
    with chromium() as browser:
        # Every listen the page's stream delivers, with when, and when Pause was pressed: listens
        # still on their way when the table was paused are not the table's to show.
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": r"""
          (() => {
            const received = window.__received = [];
            const Native = window.EventSource;
            function Recording(url, init) {
              const source = new Native(url, init);
              source.addEventListener("listen", (m) => {
                try { received.push([JSON.parse(m.data).event_id, performance.now()]); } catch (_) { /* not ours to judge */ }
              });
              return source;
            }
            Recording.prototype = Native.prototype;
            Object.assign(Recording, { CONNECTING: 0, OPEN: 1, CLOSED: 2 });
            window.EventSource = Recording;
            document.addEventListener("click", (e) => {
              if (e.target.closest && e.target.closest("#pause")) window.__pausedAt = performance.now();
            }, true);
          })();"""})
        open_page(browser, server)
        # A listen shown twice would be a row that left the table and came back, or two rows at once.
        browser.execute_script(r"""
          const rows = document.getElementById("rows");
          const ids = () => Array.from(rows.children).map((tr) => tr.dataset.eventId);
          let present = new Set(ids());
          const gone = new Set();
          window.__twice = [];
          new MutationObserver(() => {
            const now = ids();
            const set = new Set(now);
            if (set.size !== now.length) window.__twice.push("two rows of one listen");
            for (const id of set) if (gone.has(id)) window.__twice.push(id);
            for (const id of present) if (!set.has(id)) gone.add(id);
            present = set;
          }).observe(rows, { childList: true });""")
        first_rows = row_ids(browser)
        server.process.send_signal(signal.SIGSTOP)
        frozen_at = time.monotonic()
        try:
            # Stats frames come every second: "Stalled" is due within 5 s of the missed one.
            wait(browser, lambda b: connection_state(b) == "stalled", "the badge never said Stalled", timeout=8)
            stalled_after = time.monotonic() - frozen_at
            assert stalled_after <= 6
            assert browser.find_element(By.ID, "connection-text").text == "Stalled"
            alerts = browser.find_elements(By.CSS_SELECTOR, "#alerts .app-alert")
            assert any("stalled" in a.text for a in alerts), [a.text for a in alerts]
            time.sleep(4)   # frozen for a while: the page keeps saying so, and keeps its rows
            assert connection_state(browser) == "stalled"
            assert row_ids(browser)
        finally:
            server.process.send_signal(signal.SIGCONT)
        wait(browser, lambda b: connection_state(b) == "live", "the badge never went back to Live", timeout=15)
        wait(browser, lambda b: not b.find_elements(By.CSS_SELECTOR, "#alerts .app-alert"),
             "the stalled alert stayed after recovery", timeout=5)
        # Nothing missed, nothing twice: with the table paused a moment after recovery, its rows are
        # exactly the server's listens in the span of time they cover, and no row was ever added twice.
        time.sleep(2)
        click(browser, browser.find_element(By.ID, "pause"))
        rows = row_ids(browser)
        assert browser.execute_script("return window.__twice;") == [], "a listen was shown twice"
        assert len(rows) == len(set(rows)) == 50
        held = {e["event_id"]: e["timestamp"] for e in server.get("/api/events?limit=1000").json()["events"]}
        assert set(rows) <= set(held), "rows the server does not hold"
        assert rows[-1] in held and first_rows[0] in held
        oldest = held[rows[-1]]
        newest = held[rows[0]]
        in_span = {i for i, t in held.items() if oldest < t <= newest}
        # The stream left nothing out: every listen of the span reached the page...
        time.sleep(1)
        received = browser.execute_script("return window.__received;")
        paused_at = browser.execute_script("return window.__pausedAt;")
        assert in_span <= {i for i, _ in received}, "listens the stream never delivered: %s" % sorted(
            in_span - {i for i, _ in received})
        # ...and the paused table shows every one that had arrived when Pause was pressed.
        expected = in_span & {i for i, t in received if t <= paused_at}
        assert expected <= set(rows), "listens missing from the table: %s" % sorted(expected - set(rows))
        assert any(i not in first_rows for i in rows), "nothing new arrived after the freeze"
