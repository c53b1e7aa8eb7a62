// musicstream live dashboard.
//
// Data flow: GET /api/events (initial table) + EventSource /stream (live rows)
// + GET /api/facets (dropdown options and counts). All three take the same
// filter query parameters, which are also mirrored in the page URL.
//
// Safety: event data is only ever put into the DOM with textContent /
// createTextNode / setAttribute — never innerHTML.
"use strict";

(function () {
  const MAX_ROWS = 50;
  const TEXT_DEBOUNCE_MS = 300;
  const FACETS_INTERVAL_MS = 5000;   // periodic facet refresh
  const FACETS_THROTTLE_MS = 1000;   // at most this often when events arrive
  const RATE_WINDOW_MS = 10000;      // events/s is averaged over this window
  const SEEN_LIMIT = 1000;           // remembered event ids (for de-duplication)

  const FILTER_KEYS = ["artist", "country", "genre", "platform", "mood", "rating", "skipped", "completed"];
  const SELECT_FACETS = ["genre", "platform", "mood"];
  const DATALIST_FACETS = ["artist", "country"];

  const $ = (id) => document.getElementById(id);
  const form = $("filters");
  const fields = {};
  FILTER_KEYS.forEach((k) => { fields[k] = $("f-" + k); });
  const rowsEl = $("rows");
  const emptyEl = $("empty");

  const state = {
    generation: 0,          // bumped on every filter change; stale responses are ignored
    source: null,           // current EventSource
    retryTimer: null,
    retryDelay: 2000,
    loaded: false,          // initial /api/events for this generation has arrived
    buffer: [],             // stream events received before the initial load finished
    shown: new Set(),       // event_ids currently in the table
    seen: new Set(),        // recently displayed event_ids (insertion ordered)
    paused: false,
    pending: [],            // events received while paused (newest last)
    arrivals: [],           // client timestamps of live events, for events/s
    rateSince: Date.now(),
    lastEventAt: 0,
    totals: { window: null, matching: null },
    facetsAbort: null,
    eventsAbort: null,
    facetsLastRun: 0,
    facetsTimer: null,
    filters: {},            // filters currently applied
    knownFacetValues: {},   // facet -> Map(value -> count), remembered across refreshes
    events: new Map(),      // event_id -> event, for the rows in the table (sorted insertion)
    sort: { by: "timestamp", order: "desc" },
    statsAt: 0,             // when the last `stats` frame of this generation arrived
  };

  // ---------- sorting ----------

  const SORT_FIELDS = ["timestamp", "username", "title", "artist", "genre", "platform", "city", "country",
    "mood", "duration", "listen_position", "percent_listened", "rating"];
  const NUMERIC_SORTS = new Set(["timestamp", "duration", "listen_position", "percent_listened", "rating"]);

  function isDefaultSort(sort) {
    return sort.by === "timestamp" && sort.order === "desc";
  }

  function sortFromURL() {
    const params = new URLSearchParams(window.location.search);
    const by = params.get("sort_by");
    const order = params.get("sort_order");
    return {
      by: SORT_FIELDS.includes(by) ? by : "timestamp",
      order: order === "asc" || order === "desc" ? order : "desc",
    };
  }

  function sortParams(sort) {
    return isDefaultSort(sort) ? {} : { sort_by: sort.by, sort_order: sort.order };
  }

  function sortKey(ev, by) {
    if (by === "percent_listened") {
      const p = percentListened(ev);
      return p === null ? 0 : p;
    }
    const v = ev[by];
    if (NUMERIC_SORTS.has(by)) return Number(v) || 0;
    return v == null ? "" : String(v);
  }

  // The server orders text case-insensitively, then by the exact bytes.
  function compareKeys(a, b) {
    if (typeof a === "number") return a < b ? -1 : (a > b ? 1 : 0);
    const la = a.toLowerCase();
    const lb = b.toLowerCase();
    if (la !== lb) return la < lb ? -1 : 1;
    return a < b ? -1 : (a > b ? 1 : 0);
  }

  // Where a newly arrived event goes (the server breaks ties by arrival: the newest
  // comes first when descending, last when ascending). Returns null past the end.
  function insertionPoint(ev) {
    const by = state.sort.by;
    const desc = state.sort.order === "desc";
    const key = sortKey(ev, by);
    for (const tr of rowsEl.rows) {
      const other = state.events.get(tr.dataset.eventId);
      if (!other) continue;
      const k = sortKey(other, by);
      const c = compareKeys(key, k);
      if (desc ? c >= 0 : c < 0) return tr;
    }
    return null;
  }

  // ---------- filters <-> URL ----------

  function normaliseFilters(raw) {
    const f = {};
    FILTER_KEYS.forEach((k) => {
      let v = raw[k] == null ? "" : String(raw[k]).trim();
      if (k === "rating") {
        if (!/^[0-5]$/.test(v) || v === "0") v = ""; // minimum 0 == any
      } else if (k === "skipped" || k === "completed") {
        v = v.toLowerCase();
        if (v !== "true" && v !== "false") v = "";
      }
      if (v !== "") f[k] = v;
    });
    return f;
  }

  function filtersFromForm() {
    const raw = {};
    FILTER_KEYS.forEach((k) => { raw[k] = fields[k].value; });
    return normaliseFilters(raw);
  }

  function filtersFromURL() {
    const params = new URLSearchParams(window.location.search);
    const raw = {};
    FILTER_KEYS.forEach((k) => { raw[k] = params.get(k); });
    return normaliseFilters(raw);
  }

  function queryString(filters, extra) {
    const params = new URLSearchParams();
    FILTER_KEYS.forEach((k) => { if (filters[k]) params.set(k, filters[k]); });
    if (extra) Object.keys(extra).forEach((k) => params.set(k, extra[k]));
    const s = params.toString();
    return s ? "?" + s : "";
  }

  function ensureOption(select, value) {
    if (!value) return;
    const exists = Array.from(select.options).some((o) => o.value === value);
    if (!exists) {
      const opt = document.createElement("option");
      opt.value = value;
      opt.textContent = value;
      select.appendChild(opt);
    }
  }

  function setForm(filters) {
    FILTER_KEYS.forEach((k) => {
      const el = fields[k];
      const v = filters[k] || "";
      if (el.tagName === "SELECT") {
        // Match case-insensitively against existing options (genre=pop -> "Pop").
        const match = Array.from(el.options).find((o) => o.value.toLowerCase() === v.toLowerCase());
        if (match) {
          el.value = match.value;
        } else {
          ensureOption(el, v);
          el.value = v;
        }
      } else {
        el.value = v;
      }
    });
  }

  // ---------- formatting ----------

  const numberFmt = new Intl.NumberFormat();
  const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

  function fmtDuration(sec) {
    const s = Number(sec);
    if (!Number.isFinite(s) || s < 0) return "—";
    const total = Math.round(s);
    const m = Math.floor(total / 60);
    const r = total % 60;
    return m + ":" + String(r).padStart(2, "0");
  }

  function percentListened(ev) {
    const d = Number(ev.duration);
    const p = Number(ev.listen_position);
    if (!Number.isFinite(d) || !Number.isFinite(p) || d <= 0) return null;
    return Math.max(0, Math.min(100, (p / d) * 100));
  }

  function text(v) {
    return v == null || v === "" ? "—" : String(v);
  }

  function slug(v) {
    return String(v || "").toLowerCase().replace(/[^a-z0-9]+/g, "");
  }

  const PLATFORM_CLASSES = {
    spotify: "spotify", applemusic: "apple", youtubemusic: "youtube", youtube: "youtube",
    deezer: "deezer", soundcloud: "soundcloud", tidal: "tidal", amazonmusic: "amazon", pandora: "pandora",
  };

  // ---------- rendering ----------

  function td(child, className) {
    const cell = document.createElement("td");
    if (className) cell.className = className;
    if (child instanceof Node) cell.appendChild(child);
    else cell.appendChild(document.createTextNode(text(child)));
    return cell;
  }

  function span(className, content) {
    const s = document.createElement("span");
    if (className) s.className = className;
    if (content != null) s.textContent = content;
    return s;
  }

  function yesNo(value, yesClass) {
    if (value === true) return span("app-flag app-flag-yes " + (yesClass || ""), "Yes");
    if (value === false) return span("app-flag app-flag-no", "No");
    return span("app-muted", "—");
  }

  function ratingCell(rating) {
    const r = Number(rating);
    if (!Number.isFinite(r)) return span("app-muted", "—");
    const n = Math.max(0, Math.min(5, Math.round(r)));
    const wrap = span("app-stars");
    wrap.setAttribute("role", "img");
    wrap.setAttribute("aria-label", n + " of 5");
    wrap.title = n + " of 5";
    const on = span("app-stars-on", "★".repeat(n));
    const off = span("app-stars-off", "☆".repeat(5 - n));
    on.setAttribute("aria-hidden", "true");
    off.setAttribute("aria-hidden", "true");
    wrap.append(on, off);
    return wrap;
  }

  function listenedCell(ev) {
    const pct = percentListened(ev);
    if (pct === null) return span("app-muted", "—");
    const wrap = span("app-pct");
    const label = span("app-pct-num", Math.round(pct) + "%");
    const bar = span("app-bar");
    bar.setAttribute("aria-hidden", "true");
    const fill = span("app-bar-fill " + (pct >= 90 ? "is-high" : pct >= 40 ? "is-mid" : "is-low"));
    fill.style.width = pct.toFixed(1) + "%";
    bar.appendChild(fill);
    wrap.append(label, bar);
    return wrap;
  }

  function timeCell(ms) {
    const t = Number(ms);
    if (!Number.isFinite(t) || t <= 0) return span("app-muted", "—");
    const d = new Date(t);
    const el = document.createElement("time");
    el.dateTime = d.toISOString();
    el.title = fullFmt.format(d);
    el.textContent = timeFmt.format(d);
    return el;
  }

  function buildRow(ev) {
    const tr = document.createElement("tr");
    tr.dataset.eventId = String(ev.event_id);

    const platform = span("app-chip app-platform");
    platform.textContent = text(ev.platform);
    const pcls = PLATFORM_CLASSES[slug(ev.platform)];
    if (pcls) platform.classList.add("app-platform-" + pcls);

    const title = span("app-title", text(ev.title));
    title.title = text(ev.title); // full text when the cell is truncated
    const genre = span("app-chip", text(ev.genre));
    const user = span("app-user", text(ev.username));

    tr.append(
      td(timeCell(ev.timestamp), "app-time"),
      td(user),
      td(title),
      td(span("app-artist", text(ev.artist))),
      td(genre),
      td(platform),
      td(ev.city),
      td(ev.country),
      td(ev.mood),
      td(fmtDuration(ev.duration), "app-num"),
      td(listenedCell(ev)),
      td(yesNo(ev.completed, "app-flag-good")),
      td(ratingCell(ev.rating)),
      td(yesNo(ev.skipped, "app-flag-warn")),
    );
    return tr;
  }

  function rememberSeen(id) {
    state.seen.delete(id);
    state.seen.add(id);
    while (state.seen.size > SEEN_LIMIT) {
      state.seen.delete(state.seen.values().next().value);
    }
  }

  function trimRows() {
    while (rowsEl.rows.length > MAX_ROWS) {
      const last = rowsEl.rows[rowsEl.rows.length - 1];
      state.shown.delete(last.dataset.eventId);
      state.events.delete(last.dataset.eventId);
      last.remove();
    }
  }

  function clearTable() {
    rowsEl.textContent = "";
    state.shown.clear();
    state.events.clear();
    state.seen.clear();
    state.pending = [];
    updatePauseButton();
  }

  function isValidEvent(ev) {
    return ev && typeof ev === "object" && ev.event_id != null && String(ev.event_id) !== "";
  }

  // Insert a live event at the top (or queue it while paused).
  function addLiveEvent(ev, highlight) {
    const id = String(ev.event_id);
    if (state.shown.has(id) || state.seen.has(id)) return false;
    rememberSeen(id);
    noteTimestamp(ev);
    if (state.paused) {
      state.pending.push(ev);
      if (state.pending.length > MAX_ROWS) state.pending.shift();
      updatePauseButton();
      return true;
    }
    let before = rowsEl.firstChild;
    if (!isDefaultSort(state.sort)) {
      before = insertionPoint(ev);
      // Sorted past the last shown row of a full table: it would not be listed.
      if (before === null && rowsEl.rows.length >= MAX_ROWS) return true;
    }
    const tr = buildRow(ev);
    if (highlight) tr.classList.add("app-row-new");
    rowsEl.insertBefore(tr, before);
    state.shown.add(id);
    state.events.set(id, ev);
    trimRows();
    updateEmpty();
    return true;
  }

  function renderSnapshot(events) {
    clearTable();
    const frag = document.createDocumentFragment();
    const list = Array.isArray(events) ? events : [];
    for (const ev of list) {
      if (!isValidEvent(ev)) continue;
      const id = String(ev.event_id);
      if (state.shown.has(id)) continue;
      if (state.shown.size >= MAX_ROWS) break;
      state.shown.add(id);
      state.events.set(id, ev);
      rememberSeen(id);
      noteTimestamp(ev);
      frag.appendChild(buildRow(ev));
    }
    rowsEl.appendChild(frag);
    updateEmpty();
  }

  function updateEmpty(message) {
    const empty = rowsEl.rows.length === 0;
    if (message) emptyEl.textContent = message;
    else if (empty) {
      emptyEl.textContent = Object.keys(filtersFromForm()).length
        ? "No listens match these filters yet — new matching events will appear here as they arrive."
        : "No listens yet — new events will appear here as they arrive.";
    }
    emptyEl.hidden = !empty && !message;
  }

  // ---------- KPIs ----------

  function setKpi(id, value) {
    const el = $(id);
    const s = value == null ? "—" : (typeof value === "number" ? numberFmt.format(value) : value);
    if (el.textContent !== s) el.textContent = s;
  }

  function renderTotals() {
    setKpi("kpi-window", state.totals.window);
    setKpi("kpi-matching", state.totals.matching);
    const shown = rowsEl.rows.length;
    const summary = state.totals.matching == null
      ? ""
      : "Showing " + numberFmt.format(shown) + " of " + numberFmt.format(state.totals.matching) + " matching";
    const el = $("table-summary");
    if (el.textContent !== summary) el.textContent = summary;
  }

  function relTime(ms) {
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 2) return "just now";
    if (s < 60) return s + " s ago";
    const m = Math.floor(s / 60);
    if (m < 60) return m + " min ago";
    return Math.floor(m / 60) + " h ago";
  }

  function tick() {
    const now = Date.now();
    while (state.arrivals.length && now - state.arrivals[0] > RATE_WINDOW_MS) state.arrivals.shift();
    // Average over the last 10 s, or over the time since the stream (re)started.
    const span = Math.max(1000, Math.min(RATE_WINDOW_MS, now - state.rateSince));
    const rate = state.arrivals.length / (span / 1000);
    // The server's figure (from the `stats` frames) wins; the local estimate is a fallback.
    if (now - state.statsAt > 3000) setKpi("kpi-rate", state.source ? rate.toFixed(1) : "—");
    setKpi("kpi-last", state.lastEventAt ? relTime(state.lastEventAt) : "—");
  }

  // ---------- alerts ----------

  function showAlert(title, detail, key) {
    const box = $("alerts");
    const dedupe = key || (title + "|" + detail);
    const existing = Array.from(box.children).find((a) => a.dataset.key === dedupe);
    if (existing) return;
    const node = $("alert-template").content.firstElementChild.cloneNode(true);
    node.dataset.key = dedupe;
    node.querySelector(".app-alert-title").textContent = title;
    node.querySelector(".app-alert-detail").textContent = detail ? " " + detail : "";
    node.querySelector(".app-alert-close").addEventListener("click", () => {
      node.remove();
    });
    box.appendChild(node);
    while (box.children.length > 3) box.firstElementChild.remove();
  }

  function dismissAlert(key) {
    Array.from($("alerts").children).forEach((a) => { if (a.dataset.key === key) a.remove(); });
  }

  function clearFieldErrors() {
    FILTER_KEYS.forEach((k) => {
      fields[k].classList.remove("is-invalid");
      fields[k].removeAttribute("aria-invalid");
    });
  }

  // Turns a failed fetch into an Error carrying the problem+json details.
  async function failure(res) {
    let problem = null;
    try { problem = await res.json(); } catch (_) { /* not JSON */ }
    const err = new Error((problem && problem.detail) || ("HTTP " + res.status));
    err.problem = problem;
    err.status = res.status;
    return err;
  }

  function reportError(err, what) {
    if (err && err.name === "AbortError") return;
    const p = err && err.problem;
    if (p && typeof p === "object") {
      const param = typeof p.parameter === "string" ? p.parameter : "";
      if (param && fields[param]) {
        fields[param].classList.add("is-invalid");
        fields[param].setAttribute("aria-invalid", "true");
      }
      showAlert(text(p.title || "Request rejected"), p.detail ? String(p.detail) : "", "problem");
    } else if (err && err.status) {
      showAlert("Could not load " + what + ".", "The server answered " + err.status + ".", "http-" + what);
    } else {
      showAlert("Could not reach the server.", "Check your connection; retrying automatically.", "network");
    }
  }

  // ---------- data loading ----------

  async function getJSON(path, signal) {
    const res = await fetch(path, { headers: { Accept: "application/json" }, signal, cache: "no-store" });
    if (!res.ok) throw await failure(res);
    return res.json();
  }

  async function loadEvents(filters, gen) {
    if (state.eventsAbort) state.eventsAbort.abort();
    const ctrl = new AbortController();
    state.eventsAbort = ctrl;
    if (!rowsEl.rows.length) updateEmpty("Loading events…");
    $("table-wrap").classList.add("is-loading");
    try {
      const data = await getJSON("/api/events" + queryString(filters,
        Object.assign({ limit: String(MAX_ROWS) }, sortParams(state.sort))), ctrl.signal);
      if (gen !== state.generation) return "stale";
      $("table-wrap").classList.remove("is-loading");
      renderSnapshot(data && data.events);
      if (data && typeof data.window === "number") state.totals.window = data.window;
      if (data && typeof data.matching === "number") state.totals.matching = data.matching;
      clearFieldErrors();
      dismissAlert("problem");
      dismissAlert("network");
      dismissAlert("http-events");
      renderTotals();
      return "ok";
    } catch (err) {
      if (gen !== state.generation || err.name === "AbortError") return "stale";
      $("table-wrap").classList.remove("is-loading");
      reportError(err, "events");
      if (err.problem || err.status === 400) {
        clearTable();
        updateEmpty("Fix the filter to see events.");
        return "invalid";
      }
      // Keep whatever rows we had; the caller retries.
      updateEmpty(rowsEl.rows.length ? null : "Events could not be loaded — retrying…");
      return "failed";
    }
  }

  function fillSelect(select, key, entries, anyLabel) {
    // Options = values in the current response (with counts) plus values seen
    // before (shown without a count, so the user can still switch to them).
    const known = state.knownFacetValues[key] || (state.knownFacetValues[key] = new Map());
    known.forEach((_, v) => known.set(v, null));
    entries.forEach((e) => {
      if (e && e.value != null && e.value !== "") known.set(String(e.value), Number(e.count) || 0);
    });
    let current = select.value;
    if (current && !known.has(current)) {
      // The URL may say genre=pop while the data says "Pop" (matching is case-insensitive).
      const same = Array.from(known.keys()).find((v) => v.toLowerCase() === current.toLowerCase());
      if (same) current = same;
    }
    // The chosen value stays listed even when nothing matches it any more.
    if (current && known.get(current) == null) known.set(current, 0);

    const sorted = Array.from(known.entries()).sort((a, b) =>
      ((b[1] == null ? -1 : b[1]) - (a[1] == null ? -1 : a[1])) || a[0].localeCompare(b[0]));
    const signature = sorted.map((e) => e[0] + "\u0000" + e[1]).join("\u0001");
    if (select.dataset.signature === signature) return;
    // Changing the options of a focused select can disturb an open list; wait.
    if (document.activeElement === select) return;
    select.dataset.signature = signature;

    // Update in place (keeping option elements) so selection and focus survive.
    const byValue = new Map(Array.from(select.options).map((o) => [o.value, o]));
    const wanted = [["", anyLabel]].concat(
      sorted.map(([value, count]) => [value, count == null ? value : value + " (" + numberFmt.format(count) + ")"]));
    wanted.forEach(([value, label], i) => {
      let opt = byValue.get(value);
      if (!opt) {
        opt = document.createElement("option");
        opt.value = value;
      }
      byValue.delete(value);
      if (opt.textContent !== label) opt.textContent = label;
      if (select.options[i] !== opt) select.insertBefore(opt, select.options[i] || null);
    });
    byValue.forEach((opt) => opt.remove());
    select.value = current;
  }

  function fillDatalist(list, entries) {
    const values = entries.slice(0, 50).map((e) => String(e.value));
    const signature = values.join("\u0001");
    if (list.dataset.signature === signature) return;
    list.dataset.signature = signature;
    const frag = document.createDocumentFragment();
    values.forEach((v) => {
      const opt = document.createElement("option");
      opt.value = v;
      frag.appendChild(opt);
    });
    list.textContent = "";
    list.appendChild(frag);
  }

  const ANY_LABELS = { genre: "Any genre", platform: "Any platform", mood: "Any mood" };

  async function loadFacets() {
    state.facetsLastRun = Date.now();
    if (state.facetsAbort) state.facetsAbort.abort();
    const ctrl = new AbortController();
    state.facetsAbort = ctrl;
    const gen = state.generation;
    try {
      const data = await getJSON("/api/facets" + queryString(filtersFromForm()), ctrl.signal);
      if (gen !== state.generation || !data) return;
      const facets = data.facets || {};
      SELECT_FACETS.forEach((k) => {
        fillSelect(fields[k], k, Array.isArray(facets[k]) ? facets[k] : [], ANY_LABELS[k]);
      });
      DATALIST_FACETS.forEach((k) => {
        fillDatalist($(k + "-options"), Array.isArray(facets[k]) ? facets[k] : []);
      });
      fillAddDatalists(facets);
      updateFacetCharts(facets);
      if (typeof data.total === "number") state.totals.window = data.total;
      if (typeof data.matching === "number") state.totals.matching = data.matching;
      renderTotals();
      dismissAlert("http-facets");
      dismissAlert("network");
    } catch (err) {
      if (err.name === "AbortError" || gen !== state.generation) return;
      // A bad filter is reported by /api/events and a lost connection by the
      // connection badge; only report other HTTP failures here.
      if (!err.problem && err.status) reportError(err, "facets");
    }
  }

  // Refresh facets soon, but not more often than FACETS_THROTTLE_MS.
  function scheduleFacets() {
    if (state.facetsTimer) return;
    const wait = Math.max(0, FACETS_THROTTLE_MS - (Date.now() - state.facetsLastRun));
    state.facetsTimer = setTimeout(() => {
      state.facetsTimer = null;
      loadFacets();
    }, wait);
  }

  // ---------- live stream ----------

  function setConnection(kind, label) {
    const box = $("connection");
    if (box.dataset.state !== kind) box.dataset.state = kind;
    const t = $("connection-text");
    if (t.textContent !== label) t.textContent = label;
    document.body.dataset.connection = kind;
  }

  function closeStream() {
    if (state.retryTimer) { clearTimeout(state.retryTimer); state.retryTimer = null; }
    if (state.source) {
      state.source.close();
      state.source = null;
    }
  }

  function onListen(gen, msg) {
    if (gen !== state.generation) return;
    let ev;
    try { ev = JSON.parse(msg.data); } catch (_) { return; }
    if (!isValidEvent(ev)) return;
    if (!state.loaded) { state.buffer.push(ev); return; }
    if (addLiveEvent(ev, true)) countArrival();
  }

  function onStats(gen, msg) {
    if (gen !== state.generation) return;
    let stats;
    try { stats = JSON.parse(msg.data); } catch (_) { return; }
    if (!stats || typeof stats !== "object") return;
    state.statsAt = Date.now();
    if (typeof stats.events_per_second === "number") setKpi("kpi-rate", stats.events_per_second.toFixed(1));
    if (typeof stats.matching === "number") {
      state.totals.matching = stats.matching;
      renderTotals();
    }
  }

  function noteTimestamp(ev) {
    const t = Number(ev.timestamp);
    if (Number.isFinite(t) && t > state.lastEventAt) state.lastEventAt = t;
  }

  function countArrival() {
    const now = Date.now();
    state.arrivals.push(now);
    if (state.totals.matching != null) state.totals.matching += 1;
    if (state.totals.window != null) state.totals.window += 1;
    renderTotals();
    tick();
    scheduleFacets();
  }

  function openStream(filters, gen) {
    closeStream();
    setConnection("connecting", "Connecting…");
    const es = new EventSource("/stream" + queryString(filters, { stats: "true" }));
    state.source = es;
    es.addEventListener("listen", (msg) => onListen(gen, msg));
    es.addEventListener("stats", (msg) => onStats(gen, msg));
    es.onopen = () => {
      if (gen !== state.generation) return;
      state.retryDelay = 2000;
      setConnection("live", "Live");
      // After a dropped connection, events may have been missed: re-sync the table.
      if (es.dropped) {
        es.dropped = false;
        resync(gen);
      }
    };
    es.onerror = () => {
      if (gen !== state.generation || state.source !== es) return;
      if (es.readyState === EventSource.CONNECTING) {
        // The browser reconnects by itself.
        es.dropped = true;
        setConnection("reconnecting", "Reconnecting…");
        return;
      }
      // CLOSED: the browser gave up (e.g. an HTTP error). Retry ourselves with backoff.
      es.close();
      state.source = null;
      scheduleRetry(gen);
    };
  }

  function scheduleRetry(gen) {
    const delay = state.retryDelay;
    state.retryDelay = Math.min(state.retryDelay * 2, 30000);
    setConnection("offline", "Offline — retrying in " + Math.round(delay / 1000) + " s");
    if (state.retryTimer) clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(() => {
      state.retryTimer = null;
      // Reloads the table too, since events may have been missed.
      if (gen === state.generation) refresh(false);
    }, delay);
  }

  // ---------- orchestration ----------

  async function refresh(updateURL) {
    const filters = filtersFromForm();
    if (updateURL) {
      const url = window.location.pathname + queryString(filters, sortParams(state.sort)) + window.location.hash;
      if (url !== window.location.pathname + window.location.search + window.location.hash) {
        window.history.replaceState(null, "", url);
      }
    }
    updateFilterSummary(filters);

    const gen = ++state.generation;
    state.filters = filters;
    closeStream();
    state.loaded = false;
    state.buffer = [];
    state.arrivals = [];
    state.rateSince = Date.now();
    state.lastEventAt = 0;
    state.statsAt = 0;
    state.totals = { window: state.totals.window, matching: null };
    renderTotals();
    tick();

    // Open the stream while the snapshot loads; events that arrive meanwhile are
    // buffered and merged (de-duplicated) once the snapshot is in place.
    openStream(filters, gen);
    const result = await loadEvents(filters, gen);
    if (gen !== state.generation || result === "stale") return;
    if (result !== "ok") {
      closeStream();
      state.buffer = [];
      state.loaded = true;
      if (result === "invalid") {
        // Invalid filters will not get better by retrying.
        setConnection("offline", "Stopped — invalid filter");
      } else {
        scheduleRetry(gen);
      }
      return;
    }
    flushBuffer();
    loadFacets();
    loadTimeline();
  }

  // Reload the snapshot while keeping the stream open (used after a reconnect).
  async function resync(gen) {
    if (!state.loaded) return; // the initial load is still running and will merge
    state.loaded = false;
    state.buffer = [];
    const result = await loadEvents(state.filters, gen);
    if (gen !== state.generation || result === "stale") return;
    if (result === "ok") flushBuffer();
    else { state.buffer = []; state.loaded = true; }
  }

  function flushBuffer() {
    state.loaded = true;
    const buffered = state.buffer;
    state.buffer = [];
    buffered.forEach((ev) => { if (addLiveEvent(ev, true)) countArrival(); });
  }

  function updateFilterSummary(filters) {
    const n = Object.keys(filters).length;
    $("filter-summary").textContent = n === 0 ? "Showing all listens" : n + (n === 1 ? " filter active" : " filters active");
    $("clear").disabled = n === 0;
  }

  // ---------- pause ----------

  function updatePauseButton() {
    const btn = $("pause");
    btn.setAttribute("aria-pressed", state.paused ? "true" : "false");
    const label = state.paused
      ? (state.pending.length ? "Resume (" + state.pending.length + " new)" : "Resume")
      : "Pause";
    if (btn.textContent !== label) btn.textContent = label;
    btn.classList.toggle("active", state.paused);
  }

  function togglePause() {
    state.paused = !state.paused;
    if (!state.paused) {
      const pending = state.pending;
      state.pending = [];
      pending.forEach((ev) => {
        const id = String(ev.event_id);
        state.seen.delete(id); // it was remembered when queued
        addLiveEvent(ev, true);
      });
      renderTotals();
    }
    updatePauseButton();
  }

  // ---------- wiring ----------

  function debounce(fn, ms) {
    let t = null;
    const wrapped = () => {
      clearTimeout(t);
      t = setTimeout(fn, ms);
    };
    wrapped.flush = () => { clearTimeout(t); fn(); };
    wrapped.cancel = () => clearTimeout(t);
    return wrapped;
  }

  let lastApplied = "";
  function apply() {
    const q = queryString(filtersFromForm());
    if (q === lastApplied) return;
    lastApplied = q;
    refresh(true);
  }
  const applyDebounced = debounce(apply, TEXT_DEBOUNCE_MS);

  function init() {
    const initial = filtersFromURL();
    state.sort = sortFromURL();
    renderSortHeaders();
    setForm(initial);
    lastApplied = queryString(filtersFromForm());
    // Normalise the URL (drops empty or invalid parameters).
    refresh(true);

    ["artist", "country"].forEach((k) => {
      fields[k].addEventListener("input", applyDebounced);
    });
    ["genre", "platform", "mood", "rating", "skipped", "completed"].forEach((k) => {
      fields[k].addEventListener("change", () => { applyDebounced.cancel(); apply(); });
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      applyDebounced.cancel();
      apply();
    });
    $("clear").addEventListener("click", () => {
      applyDebounced.cancel();
      setForm({});
      apply();
      fields.artist.focus();
    });
    $("pause").addEventListener("click", togglePause);
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && (e.target === fields.artist || e.target === fields.country) && e.target.value) {
        // type=search clears on Escape in some browsers; make it consistent.
        e.target.value = "";
        applyDebounced.flush();
      }
    });
    rowsEl.addEventListener("animationend", (e) => {
      if (e.animationName !== "app-flash") return;
      const tr = e.target.parentElement;
      if (tr && tr.classList.contains("app-row-new") && e.target === tr.firstElementChild) {
        tr.classList.remove("app-row-new");
      }
    });

    initTheme();
    initCharts();
    initAddForm();
    document.querySelectorAll("th[data-sort] > .app-sort").forEach((btn) => {
      btn.addEventListener("click", () => sortBy(btn.parentElement.dataset.sort));
    });
    setInterval(tick, 1000);
    setInterval(() => {
      if (document.visibilityState === "visible") loadTimeline();
    }, TIMELINE_INTERVAL_MS);
    setInterval(() => {
      if (document.visibilityState === "visible") loadFacets();
    }, FACETS_INTERVAL_MS);
    window.addEventListener("pagehide", closeStream);
    window.addEventListener("pageshow", (e) => { if (e.persisted) refresh(false); });
  }

  // ---------- sort by column header ----------

  const SORT_LABELS = {
    timestamp: "time", username: "user", title: "track", artist: "artist", genre: "genre", platform: "platform",
    city: "city", country: "country", mood: "mood", duration: "duration", percent_listened: "% listened", rating: "rating",
  };

  function renderSortHeaders() {
    document.querySelectorAll("th[data-sort]").forEach((th) => {
      const active = th.dataset.sort === state.sort.by;
      if (active) th.setAttribute("aria-sort", state.sort.order === "asc" ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
      th.classList.toggle("is-sorted", active);
    });
    const note = $("sort-note");
    if (isDefaultSort(state.sort)) {
      note.hidden = true;
      note.textContent = "";
    } else {
      note.hidden = false;
      note.textContent = "Sorted by " + SORT_LABELS[state.sort.by] + " (" +
        (state.sort.order === "asc" ? "ascending" : "descending") + "); new listens are placed in order.";
    }
  }

  function sortBy(field) {
    if (!SORT_FIELDS.includes(field)) return;
    if (state.sort.by === field) {
      state.sort = { by: field, order: state.sort.order === "desc" ? "asc" : "desc" };
    } else {
      // Text columns start A→Z, numbers (and time) start with the largest.
      state.sort = { by: field, order: NUMERIC_SORTS.has(field) ? "desc" : "asc" };
    }
    renderSortHeaders();
    refresh(true);
  }

  // ---------- theme ----------

  const THEME_KEY = "musicstream-theme";

  function currentTheme() {
    return document.documentElement.getAttribute("data-theme") === "dark" ? "dark" : "light";
  }

  function applyTheme(theme, save) {
    document.documentElement.setAttribute("data-theme", theme);
    const btn = $("theme-toggle");
    btn.setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
    btn.title = theme === "dark" ? "Switch to the light theme" : "Switch to the dark theme";
    if (save) {
      try { window.localStorage.setItem(THEME_KEY, theme); } catch (_) { /* storage blocked */ }
    }
    themeCharts();
  }

  function initTheme() {
    applyTheme(currentTheme(), false);
    $("theme-toggle").addEventListener("click", () => applyTheme(currentTheme() === "dark" ? "light" : "dark", true));
    if (window.matchMedia) {
      const mq = window.matchMedia("(prefers-color-scheme: dark)");
      const follow = (e) => {
        let saved = null;
        try { saved = window.localStorage.getItem(THEME_KEY); } catch (_) { /* ignore */ }
        if (saved !== "dark" && saved !== "light") applyTheme(e.matches ? "dark" : "light", false);
      };
      if (mq.addEventListener) mq.addEventListener("change", follow);
    }
  }

  // ---------- charts ----------

  const TIMELINE_INTERVAL_MS = 1000;
  const TIMELINE_SPAN_S = 120;
  const PALETTE = ["#6d3df5", "#d63aa8", "#22c55e", "#f59e0b", "#0ea5e9", "#ef4444", "#14b8a6", "#a855f7",
    "#84cc16", "#f97316", "#64748b", "#eab308"];
  const charts = { ok: false, timeline: null, genre: null, platform: null, artist: null,
    timelineBusy: false, timelineLastRun: 0 };
  const shortTimeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function barOptions(horizontal, stacked) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      indexAxis: horizontal ? "y" : "x",
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { display: stacked, position: "bottom", labels: { boxWidth: 12 } } },
      scales: {
        x: { stacked, beginAtZero: true, ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 16, maxTicksLimit: horizontal ? 6 : 8 } },
        y: { stacked, beginAtZero: true, ticks: { precision: 0, autoSkip: !horizontal } },
      },
    };
  }

  function makeChart(id, config) {
    return new window.Chart($(id).getContext("2d"), config);
  }

  function initCharts() {
    if (typeof window.Chart !== "function") {
      $("charts-note").hidden = false;
      $("charts").hidden = true;
      return;
    }
    try {
      charts.timeline = makeChart("chart-timeline", {
        type: "bar",
        data: { labels: [], datasets: [
          { label: "Played", data: [], backgroundColor: PALETTE[0], borderWidth: 0 },
          { label: "Skipped", data: [], backgroundColor: PALETTE[3], borderWidth: 0 },
        ] },
        options: barOptions(false, true),
      });
      charts.genre = makeChart("chart-genre", {
        type: "bar",
        data: { labels: [], datasets: [{ label: "Listens", data: [], backgroundColor: PALETTE, borderWidth: 0 }] },
        options: barOptions(true, false),
      });
      charts.platform = makeChart("chart-platform", {
        type: "doughnut",
        data: { labels: [], datasets: [{ label: "Listens", data: [], backgroundColor: PALETTE, borderWidth: 1 }] },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false, cutout: "55%",
          plugins: { legend: { position: "right", labels: { boxWidth: 12 } } },
        },
      });
      charts.artist = makeChart("chart-artist", {
        type: "bar",
        data: { labels: [], datasets: [{ label: "Listens", data: [], backgroundColor: PALETTE[1], borderWidth: 0 }] },
        options: barOptions(true, false),
      });
      charts.ok = true;
      themeCharts();
    } catch (err) {
      charts.ok = false;
      $("charts-note").hidden = false;
      $("charts").hidden = true;
    }
  }

  function themeCharts() {
    if (!charts.ok) return;
    const text = cssVar("--app-muted") || "#6b6a80";
    const grid = cssVar("--app-grid") || "rgba(0,0,0,0.08)";
    const surface = cssVar("--app-surface") || "#fff";
    [charts.timeline, charts.genre, charts.platform, charts.artist].forEach((chart) => {
      const o = chart.options;
      if (o.plugins && o.plugins.legend) o.plugins.legend.labels.color = text;
      if (chart.config.type === "doughnut") {
        chart.data.datasets[0].borderColor = surface;
      } else {
        ["x", "y"].forEach((axis) => {
          o.scales[axis].ticks.color = text;
          o.scales[axis].grid = { color: grid, borderColor: grid };
        });
      }
      chart.update("none");
    });
  }

  function setChartData(chart, labels, series) {
    const same = chart.data.labels.length === labels.length && chart.data.labels.every((l, i) => l === labels[i]) &&
      series.every((data, i) => {
        const old = chart.data.datasets[i].data;
        return old.length === data.length && old.every((v, j) => v === data[j]);
      });
    if (same) return;
    chart.data.labels = labels;
    series.forEach((data, i) => { chart.data.datasets[i].data = data; });
    chart.update("none");
  }

  function topEntries(entries, n) {
    return (Array.isArray(entries) ? entries : [])
      .filter((e) => e && e.value != null && e.value !== "")
      .map((e) => [String(e.value), Number(e.count) || 0])
      .sort((a, b) => (b[1] - a[1]) || a[0].localeCompare(b[0]))
      .slice(0, n);
  }

  function updateFacetCharts(facets) {
    if (!charts.ok) return;
    const genre = topEntries(facets.genre, 10);
    setChartData(charts.genre, genre.map((e) => e[0]), [genre.map((e) => e[1])]);
    const platform = topEntries(facets.platform, 10);
    setChartData(charts.platform, platform.map((e) => e[0]), [platform.map((e) => e[1])]);
    const artist = topEntries(facets.artist, 10);
    setChartData(charts.artist, artist.map((e) => e[0]), [artist.map((e) => e[1])]);
  }

  async function loadTimeline() {
    if (!charts.ok || charts.timelineBusy) return;
    // Throttle: the interval and filter changes can both ask.
    if (Date.now() - charts.timelineLastRun < 500) return;
    charts.timelineBusy = true;
    charts.timelineLastRun = Date.now();
    const gen = state.generation;
    try {
      const since = Date.now() - TIMELINE_SPAN_S * 1000;
      const data = await getJSON("/api/timeline" + queryString(state.filters,
        { bucket: "1s", since: String(since - (since % 1000)) }));
      if (gen !== state.generation || !data || !Array.isArray(data.points)) return;
      const points = data.points.slice(-TIMELINE_SPAN_S);
      setChartData(charts.timeline,
        points.map((p) => shortTimeFmt.format(new Date(Number(p.t)))),
        [points.map((p) => Math.max(0, (Number(p.count) || 0) - (Number(p.skipped) || 0))),
          points.map((p) => Number(p.skipped) || 0)]);
    } catch (_) {
      // Connection problems are shown by the badge; the chart just keeps its last data.
    } finally {
      charts.timelineBusy = false;
    }
  }

  // ---------- add a listen ----------

  const ADD_TEXT = ["title", "artist", "genre", "platform", "mood", "city", "country", "username", "email", "user_id", "track_id"];
  const ADD_NUMBERS = ["duration", "listen_position", "rating"];
  const ADD_FIELDS = ADD_TEXT.concat(ADD_NUMBERS);

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    const b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function addInput(name) { return $("add-" + name); }

  function fillAddDatalists(facets) {
    ["genre", "platform", "mood"].forEach((k) => {
      const known = state.knownFacetValues[k];
      const entries = known ? Array.from(known.keys()).map((value) => ({ value })) : [];
      fillDatalist($("add-" + k + "-options"), entries);
    });
    ["artist", "country"].forEach((k) => {
      fillDatalist($("add-" + k + "-options"), Array.isArray(facets[k]) ? facets[k] : []);
    });
  }

  function firstKnown(key, fallback) {
    const known = state.knownFacetValues[key];
    const first = known && Array.from(known.keys())[0];
    return first || fallback;
  }

  function prefillAddForm() {
    const defaults = {
      username: "dashboard.user", email: "dashboard.user@example.com",
      genre: firstKnown("genre", "Pop"), platform: firstKnown("platform", "Spotify"), mood: firstKnown("mood", "Happy"),
      city: "Berlin", country: "Germany", duration: "200", listen_position: "120", rating: "4",
    };
    Object.keys(defaults).forEach((k) => { if (!addInput(k).value) addInput(k).value = defaults[k]; });
    newAddIds();
    syncPositionLimit();
  }

  function newAddIds() {
    addInput("user_id").value = uuid();
    addInput("track_id").value = uuid();
  }

  // Mirrors the server rule listen_position <= duration in the browser.
  function syncPositionLimit() {
    const d = addInput("duration");
    const p = addInput("listen_position");
    const dv = Number(d.value);
    p.max = d.value !== "" && Number.isInteger(dv) && dv >= 1 && dv <= 86400 ? String(dv) : "86400";
  }

  function clearAddErrors() {
    ADD_FIELDS.forEach((k) => {
      const el = addInput(k);
      el.classList.remove("is-invalid");
      el.removeAttribute("aria-invalid");
      $("add-" + k + "-error").textContent = "";
    });
  }

  function setAddStatus(kind, message) {
    const el = $("add-status");
    el.dataset.state = kind;
    el.textContent = message;
  }

  function toggleAddPanel(open) {
    const panel = $("add-panel");
    const btn = $("add-toggle");
    panel.hidden = !open;
    btn.setAttribute("aria-expanded", open ? "true" : "false");
    btn.textContent = open ? "Hide form" : "Add a listen…";
    if (open) {
      prefillAddForm();
      const empty = ADD_FIELDS.map(addInput).find((el) => !el.value);
      (empty || addInput("title")).focus();
    }
  }

  async function submitAddForm(e) {
    e.preventDefault();
    clearAddErrors();
    const body = {};
    ADD_TEXT.forEach((k) => { body[k] = addInput(k).value; });
    ADD_NUMBERS.forEach((k) => {
      const raw = addInput(k).value;
      const n = Number(raw);
      body[k] = raw === "" ? null : (Number.isFinite(n) ? n : raw);
    });
    const submit = $("add-submit");
    submit.disabled = true;
    setAddStatus("busy", "Publishing…");
    const status = $("add-status");
    delete status.dataset.eventId;
    try {
      const res = await fetch("/api/events", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
        cache: "no-store",
      });
      if (res.status !== 202 && !res.ok) throw await failure(res);
      const receipt = await res.json();
      status.dataset.eventId = String(receipt.event_id);
      setAddStatus("ok", "Published " + receipt.event_id + " (partition " + receipt.partition +
        ", offset " + receipt.offset + "). It appears in the table when it matches the filters.");
    } catch (err) {
      const p = err && err.problem;
      const detail = p && p.detail ? String(p.detail) : (err && err.status ? "The server answered " + err.status + "." : "Could not reach the server.");
      const field = p && typeof p.field === "string" ? p.field : "";
      if (field && ADD_FIELDS.includes(field)) {
        const el = addInput(field);
        el.classList.add("is-invalid");
        el.setAttribute("aria-invalid", "true");
        $("add-" + field + "-error").textContent = detail;
        el.focus();
      }
      setAddStatus("error", "Not published: " + detail);
    } finally {
      submit.disabled = false;
    }
  }

  function initAddForm() {
    $("add-toggle").addEventListener("click", () => toggleAddPanel($("add-panel").hidden));
    $("add-cancel").addEventListener("click", () => { toggleAddPanel(false); $("add-toggle").focus(); });
    $("add-random").addEventListener("click", newAddIds);
    $("add-form").addEventListener("submit", submitAddForm);
    addInput("duration").addEventListener("input", syncPositionLimit);
    ADD_FIELDS.forEach((k) => {
      addInput(k).addEventListener("input", () => {
        const el = addInput(k);
        if (el.classList.contains("is-invalid")) {
          el.classList.remove("is-invalid");
          el.removeAttribute("aria-invalid");
          $("add-" + k + "-error").textContent = "";
        }
      });
    });
  }

  init();
})();
