// musicstream live dashboard.
//
// Data flow: GET /api/events (the table, and a sample of up to 1,000 listens for the charts the
// server has no aggregate for) + EventSource /stream (live rows) + GET /api/facets (filter
// options, counts, most charts and KPIs) + GET /api/timeline (listens over time). All of them
// take the same filter parameters, which are also mirrored in the page URL.
//
// Safety: event data is only ever put into the DOM with textContent / createTextNode /
// setAttribute — never innerHTML.
"use strict";

(function () {
  const DEFAULT_ROWS = 50;
  const ROW_CAPS = [25, 50, 100, 200];
  const SAMPLE_MAX = 1000;           // the API's largest page: listens behind the sample charts
  const TEXT_DEBOUNCE_MS = 300;
  const FACETS_INTERVAL_MS = 5000;   // periodic facet refresh
  const FACETS_THROTTLE_MS = 1000;   // at most this often when events arrive
  const SAMPLE_THROTTLE_MS = 1000;   // sample charts are recomputed at most this often
  const RATE_WINDOW_MS = 10000;      // events/s is averaged over this window
  const SEEN_LIMIT = 2000;           // remembered event ids (for de-duplication)

  // The API's filters: free text, repeatable values, single choices, and a time range.
  const TEXT_KEYS = ["q", "artist", "user_id"];
  const MULTI_KEYS = ["genre", "platform", "mood", "country"];
  const CHOICE_KEYS = ["rating", "skipped", "completed"];
  // Rolling presets (page-only `last=` in the URL; sent to the API as `since`).
  const LAST_RANGES = { "5m": 5 * 60000, "15m": 15 * 60000, "60m": 60 * 60000 };
  const LAST_LABELS = { "5m": "last 5 min", "15m": "last 15 min", "60m": "last 60 min" };
  const MAX_MS = 9999999999999;

  const $ = (id) => document.getElementById(id);
  const form = $("filters");
  const fields = {};
  TEXT_KEYS.concat(CHOICE_KEYS).forEach((k) => { fields[k] = $("f-" + k); });
  fields.range = $("f-range");
  fields.since = $("f-since");
  fields.until = $("f-until");
  const multis = {};
  MULTI_KEYS.forEach((k) => {
    const details = $("f-" + k);
    multis[k] = {
      details,
      list: details.querySelector(".app-multi-options"),
      value: $("f-" + k + "-value"),
      clear: details.querySelector(".app-multi-clear"),
      any: details.dataset.any,
    };
  });
  const rowsEl = $("rows");
  const emptyEl = $("empty");

  const state = {
    generation: 0,          // bumped on every filter change; stale responses are ignored
    source: null,           // current EventSource
    retryTimer: null,
    retryDelay: 2000,
    loaded: false,          // the table snapshot for this generation has arrived
    buffer: [],             // stream events received before the snapshot arrived
    shown: new Set(),       // event_ids currently in the table
    seen: new Set(),        // recently displayed event_ids (insertion ordered)
    events: new Map(),      // event_id -> event, for the rows in the table
    paused: false,
    pending: [],            // events received while paused (newest last, at most maxRows)
    pausedCount: 0,         // how many arrived while paused
    arrivals: [],           // client timestamps of live events, for events/s
    rateSince: Date.now(),
    lastEventAt: 0,
    totals: { window: null, matching: null },
    facetsAbort: null,
    eventsAbort: null,
    sampleAbort: null,
    facetsLastRun: 0,
    facetsTimer: null,
    filters: {},            // filters currently applied
    facets: null,           // the last /api/facets answer for them
    knownFacetValues: {},   // facet -> Map(value -> count), remembered across refreshes
    sort: { by: "timestamp", order: "desc" },
    maxRows: DEFAULT_ROWS,
    statsAt: 0,             // when the last `stats` frame of this generation arrived
    invalid: false,         // the server refused the filters: nothing is polled until they change
    sample: [],             // the latest matching listens (oldest first), at most SAMPLE_MAX
    sampleIds: new Set(),
    sampleLoading: false,
    sampleBuffer: [],       // live events that arrived while the sample loaded
    sampleTruncated: false, // more listens match than the sample holds
    sampleTimer: null,
    sampleLastRun: 0,
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

  // Where a newly arrived event goes (the server breaks ties by arrival: the newest comes first
  // when descending, last when ascending). Returns null past the end. Also in the default order
  // (time, newest first): events replayed after a reconnect can be older than the rows shown.
  function insertionPoint(ev) {
    const by = state.sort.by;
    const desc = state.sort.order === "desc";
    const key = sortKey(ev, by);
    // The usual case, a new listen in the default order: it goes on top.
    const top = rowsEl.rows.length ? state.events.get(rowsEl.rows[0].dataset.eventId) : null;
    if (desc && (!top || compareKeys(key, sortKey(top, by)) >= 0)) return rowsEl.firstChild;
    for (const tr of rowsEl.rows) {
      const other = state.events.get(tr.dataset.eventId);
      if (!other) continue;
      const c = compareKeys(key, sortKey(other, by));
      if (desc ? c >= 0 : c < 0) return tr;
    }
    return null;
  }

  // ---------- filters <-> URL ----------

  function cleanText(v) {
    return v == null ? "" : String(v).trim();
  }

  function parseMillis(v) {
    const s = cleanText(v);
    if (!/^\d{1,13}$/.test(s)) return null;
    const n = Number(s);
    return n <= MAX_MS ? n : null;
  }

  // One shape for filters from the URL and from the form: strings, arrays for the repeatable
  // facets, `last` for a rolling range or `since` / `until` in milliseconds. Only set keys appear.
  function normaliseFilters(raw) {
    const f = {};
    TEXT_KEYS.forEach((k) => {
      const v = cleanText(raw[k]);
      if (v !== "") f[k] = v;
    });
    MULTI_KEYS.forEach((k) => {
      const seen = new Set();
      const list = [];
      (Array.isArray(raw[k]) ? raw[k] : []).forEach((v) => {
        const s = cleanText(v);
        if (s !== "" && !seen.has(s.toLowerCase())) {
          seen.add(s.toLowerCase());
          list.push(s);
        }
      });
      if (list.length) f[k] = list.slice(0, 50);
    });
    CHOICE_KEYS.forEach((k) => {
      let v = cleanText(raw[k]).toLowerCase();
      if (k === "rating") {
        if (!/^[1-5]$/.test(v)) v = ""; // minimum 0 == any
      } else if (v !== "true" && v !== "false") {
        v = "";
      }
      if (v !== "") f[k] = v;
    });
    if (Object.prototype.hasOwnProperty.call(LAST_RANGES, raw.last)) {
      f.last = raw.last;
    } else {
      const since = parseMillis(raw.since);
      const until = parseMillis(raw.until);
      if (since !== null) f.since = since;
      if (until !== null) f.until = until;
    }
    return f;
  }

  function filtersFromURL() {
    const params = new URLSearchParams(window.location.search);
    const raw = {};
    TEXT_KEYS.concat(CHOICE_KEYS, ["last", "since", "until"]).forEach((k) => { raw[k] = params.get(k); });
    MULTI_KEYS.forEach((k) => { raw[k] = params.getAll(k); });
    return normaliseFilters(raw);
  }

  function parseLocalInput(value) {
    if (!value) return null;
    const t = new Date(value).getTime(); // datetime-local values carry no zone: local time
    return Number.isFinite(t) && t >= 0 ? String(t) : null;
  }

  function filtersFromForm() {
    const raw = {};
    TEXT_KEYS.concat(CHOICE_KEYS).forEach((k) => { raw[k] = fields[k].value; });
    // In a stable order, so the URL does not change when the options are re-sorted by count.
    MULTI_KEYS.forEach((k) => { raw[k] = multiValues(k).sort(byText); });
    const range = fields.range.value;
    if (LAST_RANGES[range]) raw.last = range;
    else if (range === "custom") {
      raw.since = parseLocalInput(fields.since.value);
      raw.until = parseLocalInput(fields.until.value);
    }
    return normaliseFilters(raw);
  }

  // The absolute range a filter set means now (a rolling preset moves with the clock).
  function timeRange(filters, now) {
    if (filters.last) {
      const since = (now || Date.now()) - LAST_RANGES[filters.last];
      return { since: since - (since % 1000), until: null };
    }
    return {
      since: filters.since != null ? filters.since : null,
      until: filters.until != null ? filters.until : null,
    };
  }

  function appendFilters(params, filters, rolling) {
    TEXT_KEYS.forEach((k) => { if (filters[k]) params.set(k, filters[k]); });
    MULTI_KEYS.forEach((k) => { (filters[k] || []).forEach((v) => params.append(k, v)); });
    CHOICE_KEYS.forEach((k) => { if (filters[k]) params.set(k, filters[k]); });
    if (rolling && filters.last) {
      params.set("last", filters.last);
    } else {
      const range = timeRange(filters);
      if (range.since !== null) params.set("since", String(range.since));
      if (range.until !== null) params.set("until", String(range.until));
    }
  }

  // Query string for the API: exactly its parameters.
  function apiQuery(filters, extra) {
    const params = new URLSearchParams();
    appendFilters(params, filters, false);
    if (extra) Object.keys(extra).forEach((k) => params.set(k, extra[k]));
    const s = params.toString();
    return s ? "?" + s : "";
  }

  // Query string for the page URL: the API's filters (a rolling range as `last=`), the sort and
  // the row cap, so a reload or a shared link shows the same view.
  function pageQuery(filters) {
    const params = new URLSearchParams();
    appendFilters(params, filters, true);
    const sort = sortParams(state.sort);
    Object.keys(sort).forEach((k) => params.set(k, sort[k]));
    if (state.maxRows !== DEFAULT_ROWS) params.set("rows", String(state.maxRows));
    const s = params.toString();
    return s ? "?" + s : "";
  }

  function rowsFromURL() {
    const n = Number(new URLSearchParams(window.location.search).get("rows"));
    return ROW_CAPS.includes(n) ? n : DEFAULT_ROWS;
  }

  function pad2(n) {
    return String(n).padStart(2, "0");
  }

  function toLocalInput(ms) {
    const d = new Date(ms);
    return d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-" + pad2(d.getDate()) + "T" +
      pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds());
  }

  function showCustomRange(show) {
    $("f-since-field").hidden = !show;
    $("f-until-field").hidden = !show;
  }

  function setForm(filters) {
    TEXT_KEYS.forEach((k) => { fields[k].value = filters[k] || ""; });
    CHOICE_KEYS.forEach((k) => { fields[k].value = filters[k] || ""; });
    MULTI_KEYS.forEach((k) => setMulti(k, filters[k] || []));
    if (filters.last) {
      fields.range.value = filters.last;
    } else if (filters.since != null || filters.until != null) {
      fields.range.value = "custom";
    } else {
      fields.range.value = "";
    }
    fields.since.value = filters.since != null ? toLocalInput(filters.since) : "";
    fields.until.value = filters.until != null ? toLocalInput(filters.until) : "";
    showCustomRange(fields.range.value === "custom");
  }

  function activeFilterCount(filters) {
    let n = 0;
    TEXT_KEYS.concat(MULTI_KEYS, CHOICE_KEYS).forEach((k) => { if (filters[k]) n += 1; });
    if (filters.last || filters.since != null || filters.until != null) n += 1;
    return n;
  }

  // ---------- multi-value pickers (genre, platform, mood, country) ----------

  function optionInputs(key) {
    return Array.from(multis[key].list.querySelectorAll("input[type=checkbox]"));
  }

  function multiValues(key) {
    return optionInputs(key).filter((i) => i.checked).map((i) => i.value);
  }

  function findOption(key, value) {
    const lower = value.toLowerCase();
    return optionInputs(key).find((i) => i.value.toLowerCase() === lower) || null;
  }

  function makeOption(key, value) {
    const label = document.createElement("label");
    label.className = "app-multi-option";
    const input = document.createElement("input");
    input.type = "checkbox";
    input.name = key;
    input.value = value;
    label.append(input, span("app-multi-name", value), span("app-multi-count", ""));
    return label;
  }

  function setMulti(key, values) {
    optionInputs(key).forEach((i) => { i.checked = false; });
    values.forEach((v) => {
      let input = findOption(key, v);
      if (!input) {
        const label = makeOption(key, v);
        multis[key].list.appendChild(label);
        input = label.querySelector("input");
      }
      input.checked = true;
    });
    renderMultiSummary(key);
  }

  function byText(a, b) {
    return a.localeCompare(b, undefined, { sensitivity: "base" });
  }

  function renderMultiSummary(key) {
    const m = multis[key];
    const values = multiValues(key).sort(byText);
    const label = values.length === 0 ? m.any
      : values.length <= 2 ? values.join(", ")
        : values[0] + " +" + (values.length - 1) + " more";
    if (m.value.textContent !== label) m.value.textContent = label;
    m.details.classList.toggle("is-active", values.length > 0);
    m.clear.disabled = values.length === 0;
  }

  // Options = values in the latest facets (with counts) plus values seen before (shown without
  // a count, so one can still pick them) plus the chosen ones. Existing elements are kept, so
  // focus and checks survive; while the list is open it is not reordered under the pointer.
  // `entries` null: keep the counts, just put the options in order.
  function fillMulti(key, entries) {
    const known = state.knownFacetValues[key] || (state.knownFacetValues[key] = new Map());
    if (entries) {
      known.forEach((_, v) => known.set(v, null));
      entries.forEach((e) => {
        if (e && e.value != null && e.value !== "") known.set(String(e.value), Number(e.count) || 0);
      });
    }
    const m = multis[key];
    const open = m.details.open;
    const byLower = new Map(Array.from(m.list.children).map((label) => [label.querySelector("input").value.toLowerCase(), label]));
    const sorted = Array.from(known.entries()).sort((a, b) =>
      ((b[1] == null ? -1 : b[1]) - (a[1] == null ? -1 : a[1])) || a[0].localeCompare(b[0]));
    sorted.forEach(([value, count], i) => {
      const lower = value.toLowerCase();
      let label = byLower.get(lower);
      if (label) {
        byLower.delete(lower);
        const input = label.querySelector("input");
        // The URL may say genre=pop while the data says "Pop" (matching is case-insensitive).
        if (input.value !== value) {
          input.value = value;
          label.querySelector(".app-multi-name").textContent = value;
        }
      } else {
        label = makeOption(key, value);
        if (open) m.list.appendChild(label);
      }
      const countText = count == null ? "" : numberFmt.format(count);
      const countEl = label.querySelector(".app-multi-count");
      if (countEl.textContent !== countText) countEl.textContent = countText;
      label.classList.toggle("is-zero", !count);
      if (!open && m.list.children[i] !== label) m.list.insertBefore(label, m.list.children[i] || null);
    });
    // Chosen values the data does not have (any more) stay listed.
    byLower.forEach((label) => {
      if (label.querySelector("input").checked) {
        const countEl = label.querySelector(".app-multi-count");
        if (countEl.textContent !== "0") countEl.textContent = "0";
        label.classList.add("is-zero");
        m.list.appendChild(label);
      } else {
        label.remove();
      }
    });
    renderMultiSummary(key);
  }

  function closeMulti(key, focusSummary) {
    const m = multis[key];
    if (!m.details.open) return;
    m.details.open = false;
    if (focusSummary) m.details.querySelector("summary").focus();
  }

  function initMultis() {
    MULTI_KEYS.forEach((key) => {
      const m = multis[key];
      m.list.addEventListener("change", () => {
        renderMultiSummary(key);
        applyDebounced.cancel();
        apply();
      });
      m.clear.addEventListener("click", () => {
        optionInputs(key).forEach((i) => { i.checked = false; });
        renderMultiSummary(key);
        applyDebounced.cancel();
        apply();
        closeMulti(key, true);
      });
      m.details.addEventListener("toggle", () => {
        if (!m.details.open) {
          fillMulti(key, null); // reorder now that it is closed
          return;
        }
        MULTI_KEYS.forEach((other) => { if (other !== key) closeMulti(other, false); });
        // Open towards the left when the list would run off the right edge (phones).
        const panel = m.details.querySelector(".app-multi-panel");
        panel.classList.remove("is-right");
        if (panel.getBoundingClientRect().right > document.documentElement.clientWidth - 8) panel.classList.add("is-right");
      });
      m.details.addEventListener("keydown", (e) => {
        if (e.key === "Escape" && m.details.open) {
          e.preventDefault();
          closeMulti(key, true);
        }
      });
      // Leaving the list with Tab closes it.
      m.details.addEventListener("focusout", (e) => {
        if (e.relatedTarget && !m.details.contains(e.relatedTarget)) closeMulti(key, false);
      });
    });
    document.addEventListener("click", (e) => {
      MULTI_KEYS.forEach((key) => {
        if (!multis[key].details.contains(e.target)) closeMulti(key, false);
      });
    });
  }

  // ---------- formatting ----------

  const numberFmt = new Intl.NumberFormat();
  const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const minuteFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
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
    else {
      cell.appendChild(document.createTextNode(text(child)));
      cell.title = text(child); // the whole text when the cell cuts it off
    }
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
    wrap.setAttribute("aria-label", n + " of 5 stars");
    wrap.title = n + " of 5";
    const on = span("app-stars-on", "★".repeat(n));
    const off = span("app-stars-off", "★".repeat(5 - n));
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
    const fill = span("app-bar-fill " + (pct >= 80 ? "is-high" : pct >= 40 ? "is-mid" : "is-low"));
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
    user.title = text(ev.username);
    const artist = span("app-artist", text(ev.artist));
    artist.title = text(ev.artist);

    // City and position have their own columns on wide screens; their neighbours' tooltips
    // carry them too, for when those columns are hidden.
    const country = td(ev.country);
    country.title = text(ev.city) + ", " + text(ev.country);
    const listened = td(listenedCell(ev));
    listened.title = "Listened to " + fmtDuration(ev.listen_position) + " of " + fmtDuration(ev.duration);

    tr.append(
      td(timeCell(ev.timestamp), "app-time"),
      td(user),
      td(title),
      td(artist),
      td(genre),
      td(platform),
      td(ev.city, "app-col-optional"),
      country,
      td(ev.mood),
      td(fmtDuration(ev.duration), "app-num"),
      td(fmtDuration(ev.listen_position), "app-num app-col-optional"),
      listened,
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

  function removeRow(tr) {
    state.shown.delete(tr.dataset.eventId);
    state.events.delete(tr.dataset.eventId);
    tr.remove();
  }

  function trimRows() {
    while (rowsEl.rows.length > state.maxRows) removeRow(rowsEl.rows[rowsEl.rows.length - 1]);
  }

  function clearTable() {
    rowsEl.textContent = "";
    state.shown.clear();
    state.events.clear();
    state.seen.clear();
    state.pending = [];
    state.pausedCount = 0;
    updatePauseButton();
  }

  function isValidEvent(ev) {
    return ev && typeof ev === "object" && ev.event_id != null && String(ev.event_id) !== "";
  }

  // Insert a live event where the sort puts it (or queue it while paused).
  function addLiveEvent(ev, highlight) {
    const id = String(ev.event_id);
    if (state.shown.has(id) || state.seen.has(id)) return false;
    rememberSeen(id);
    noteTimestamp(ev);
    if (state.paused) {
      state.pending.push(ev);
      if (state.pending.length > state.maxRows) state.pending.shift();
      state.pausedCount += 1;
      updatePauseButton();
      return true;
    }
    insertRow(ev, highlight);
    return true;
  }

  function insertRow(ev, highlight) {
    const before = insertionPoint(ev);
    // Sorted past the last shown row of a full table: it would not be listed.
    if (before === null && rowsEl.rows.length >= state.maxRows) return;
    const id = String(ev.event_id);
    const tr = buildRow(ev);
    if (highlight) tr.classList.add("app-row-new");
    rowsEl.insertBefore(tr, before);
    state.shown.add(id);
    state.events.set(id, ev);
    trimRows();
    updateEmpty();
  }

  function renderSnapshot(events) {
    clearTable();
    const frag = document.createDocumentFragment();
    const list = Array.isArray(events) ? events : [];
    for (const ev of list) {
      if (!isValidEvent(ev)) continue;
      const id = String(ev.event_id);
      if (state.shown.has(id)) continue;
      if (state.shown.size >= state.maxRows) break;
      state.shown.add(id);
      state.events.set(id, ev);
      rememberSeen(id);
      noteTimestamp(ev);
      frag.appendChild(buildRow(ev));
    }
    rowsEl.appendChild(frag);
    updateEmpty();
  }

  // A rolling range ("last 5 min") drops rows (and sample listens) as they age out of it.
  function pruneOutOfRange() {
    if (!state.filters.last) return;
    const cutoff = timeRange(state.filters).since;
    Array.from(rowsEl.rows).forEach((tr) => {
      const ev = state.events.get(tr.dataset.eventId);
      if (ev && Number(ev.timestamp) < cutoff) removeRow(tr);
    });
    const before = state.sample.length;
    state.sample = state.sample.filter((ev) => {
      const keep = Number(ev.timestamp) >= cutoff;
      if (!keep) state.sampleIds.delete(String(ev.event_id));
      return keep;
    });
    if (state.sample.length !== before) scheduleSampleCharts();
    updateEmpty();
  }

  function updateEmpty(message) {
    const empty = rowsEl.rows.length === 0;
    if (message) emptyEl.textContent = message;
    else if (empty) {
      emptyEl.textContent = activeFilterCount(state.filters)
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
    // Without filters everything matches; with them, never more than the window holds (the
    // figures come from different answers, a moment apart).
    const t = state.totals;
    if (t.window != null && t.matching != null && (activeFilterCount(state.filters) === 0 || t.matching > t.window)) {
      t.matching = t.window;
    }
    setKpi("kpi-window", state.totals.window);
    setKpi("kpi-matching", state.totals.matching);
    const shown = rowsEl.rows.length;
    const summary = state.totals.matching == null
      ? ""
      : "Showing " + numberFmt.format(shown) + " of " + numberFmt.format(state.totals.matching) + " matching";
    const el = $("table-summary");
    if (el.textContent !== summary) el.textContent = summary;
  }

  // Skip rate and average rating of the matching listens, from the facet counts. Each facet is
  // counted without its own filter, so that filter is applied here.
  function facetKpis(facets, filters) {
    const count = (entries, value) => {
      const e = (Array.isArray(entries) ? entries : []).find((x) => x && String(x.value) === value);
      return e ? Number(e.count) || 0 : 0;
    };
    let skipRate = null;
    const skipped = count(facets.skipped, "true");
    const played = count(facets.skipped, "false");
    if (filters.skipped) {
      if ((filters.skipped === "true" ? skipped : played) > 0) skipRate = filters.skipped === "true" ? 1 : 0;
    } else if (skipped + played > 0) {
      skipRate = skipped / (skipped + played);
    }
    let sum = 0;
    let n = 0;
    const minimum = filters.rating ? Number(filters.rating) : 0;
    (Array.isArray(facets.rating) ? facets.rating : []).forEach((e) => {
      const v = Number(e && e.value);
      const c = Number(e && e.count) || 0;
      if (Number.isFinite(v) && v >= minimum) {
        sum += v * c;
        n += c;
      }
    });
    return { skipRate, rating: n > 0 ? sum / n : null };
  }

  function renderFacetKpis(facets) {
    const k = facetKpis(facets, state.filters);
    setKpi("kpi-skip", k.skipRate == null ? null : Math.round(k.skipRate * 100) + "%");
    setKpi("kpi-rating", k.rating == null ? null : k.rating.toFixed(1));
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
    pruneOutOfRange();
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

  // The form control a query parameter comes from (for marking it invalid).
  function controlFor(param) {
    if (fields[param]) return fields[param];
    if (multis[param]) return multis[param].details.querySelector("summary");
    if (param === "since" || param === "until") return fields.range.value === "custom" ? fields[param] : fields.range;
    return null;
  }

  function clearFieldErrors() {
    form.querySelectorAll(".is-invalid").forEach((el) => {
      el.classList.remove("is-invalid");
      el.removeAttribute("aria-invalid");
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
      const control = typeof p.parameter === "string" ? controlFor(p.parameter) : null;
      if (control) {
        control.classList.add("is-invalid");
        control.setAttribute("aria-invalid", "true");
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
      const data = await getJSON("/api/events" + apiQuery(filters,
        Object.assign({ limit: String(state.maxRows) }, sortParams(state.sort))), ctrl.signal);
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

  // The latest (up to) 1,000 matching listens, kept up to date from the stream: top tracks,
  // per-platform skip rate and rating, and unique listeners come from it (the server has no
  // aggregate for those).
  async function loadSample(filters, gen) {
    if (state.sampleAbort) state.sampleAbort.abort();
    const ctrl = new AbortController();
    state.sampleAbort = ctrl;
    state.sampleLoading = true;
    state.sampleBuffer = [];
    try {
      const data = await getJSON("/api/events" + apiQuery(filters, { limit: String(SAMPLE_MAX) }), ctrl.signal);
      if (gen !== state.generation) return;
      const events = (data && Array.isArray(data.events) ? data.events : []).filter(isValidEvent);
      state.sample = events.slice().reverse();
      state.sampleIds = new Set(state.sample.map((ev) => String(ev.event_id)));
      state.sampleTruncated = data && typeof data.matching === "number" && data.matching > events.length;
      state.sampleLoading = false;
      const buffered = state.sampleBuffer;
      state.sampleBuffer = [];
      buffered.forEach(addToSample);
      scheduleSampleCharts(true);
    } catch (err) {
      if (gen === state.generation && err.name !== "AbortError") {
        state.sampleLoading = false;
        state.sampleBuffer = [];
      }
    }
  }

  function addToSample(ev) {
    if (state.sampleLoading) {
      state.sampleBuffer.push(ev);
      return;
    }
    const id = String(ev.event_id);
    if (state.sampleIds.has(id)) return;
    state.sample.push(ev);
    state.sampleIds.add(id);
    while (state.sample.length > SAMPLE_MAX) {
      state.sampleIds.delete(String(state.sample.shift().event_id));
      state.sampleTruncated = true;
    }
    scheduleSampleCharts();
  }

  function scheduleSampleCharts(now) {
    if (now) {
      if (state.sampleTimer) { clearTimeout(state.sampleTimer); state.sampleTimer = null; }
      renderSample();
      return;
    }
    if (state.sampleTimer) return;
    const wait = Math.max(0, SAMPLE_THROTTLE_MS - (Date.now() - state.sampleLastRun));
    state.sampleTimer = setTimeout(() => {
      state.sampleTimer = null;
      renderSample();
    }, wait);
  }

  function renderSample() {
    state.sampleLastRun = Date.now();
    const users = new Set(state.sample.map((ev) => String(ev.user_id)));
    setKpi("kpi-listeners", state.sample.length || !state.sampleLoading ? users.size : null);
    const note = state.sampleTruncated ? "in the latest " + numberFmt.format(state.sample.length) + " listens" : "among matching listens";
    const sub = $("kpi-listeners-sub");
    if (sub.textContent !== note) sub.textContent = note;
    const chartNote = state.sampleTruncated ? "(latest " + numberFmt.format(state.sample.length) + ")" : "";
    document.querySelectorAll(".app-sample-note").forEach((el) => {
      if (el.textContent !== chartNote) el.textContent = chartNote;
    });
    updateSampleCharts(state.sample);
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

  async function loadFacets() {
    if (state.invalid) return;
    state.facetsLastRun = Date.now();
    if (state.facetsAbort) state.facetsAbort.abort();
    const ctrl = new AbortController();
    state.facetsAbort = ctrl;
    const gen = state.generation;
    const filters = state.filters;
    try {
      const data = await getJSON("/api/facets" + apiQuery(filters), ctrl.signal);
      if (gen !== state.generation || !data) return;
      const facets = data.facets || {};
      state.facets = facets;
      MULTI_KEYS.forEach((k) => fillMulti(k, Array.isArray(facets[k]) ? facets[k] : []));
      fillDatalist($("artist-options"), Array.isArray(facets.artist) ? facets.artist : []);
      fillAddDatalists(facets);
      updateFacetCharts(facets);
      renderFacetKpis(facets);
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
    addToSample(ev);
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
    // With a rolling range the stream's `since` stays where it was opened; the facets' count moves.
    if (typeof stats.matching === "number" && !state.filters.last) {
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
    const es = new EventSource("/stream" + apiQuery(filters, { stats: "true" }));
    state.source = es;
    es.addEventListener("listen", (msg) => onListen(gen, msg));
    es.addEventListener("stats", (msg) => onStats(gen, msg));
    // The id we resumed from is no longer held (e.g. the server restarted): reload, then follow.
    es.addEventListener("reset", () => {
      if (gen === state.generation && state.source === es) resync(gen);
    });
    es.onopen = () => {
      if (gen !== state.generation) return;
      state.retryDelay = 2000;
      setConnection("live", "Live");
      dismissAlert("network");
      // After a dropped connection, events may have been missed: re-sync the table.
      if (es.dropped) {
        es.dropped = false;
        resync(gen);
      }
    };
    es.onerror = () => {
      if (gen !== state.generation || state.source !== es) return;
      if (es.readyState === EventSource.CONNECTING) {
        // The browser reconnects by itself (sending Last-Event-ID).
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
      const url = window.location.pathname + pageQuery(filters) + window.location.hash;
      if (url !== window.location.pathname + window.location.search + window.location.hash) {
        window.history.replaceState(null, "", url);
      }
    }
    updateFilterSummary(filters);

    const gen = ++state.generation;
    state.filters = filters;
    state.invalid = false;
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
    updateTableTexts();

    // Open the stream while the snapshot loads; events that arrive meanwhile are
    // buffered and merged (de-duplicated) once the snapshot is in place.
    openStream(filters, gen);
    loadSample(filters, gen);
    const result = await loadEvents(filters, gen);
    if (gen !== state.generation || result === "stale") return;
    if (result !== "ok") {
      closeStream();
      state.buffer = [];
      state.loaded = true;
      if (result === "invalid") {
        // Invalid filters will not get better by retrying.
        state.invalid = true;
        if (state.sampleAbort) state.sampleAbort.abort();
        setConnection("offline", "Stopped — invalid filter");
      } else {
        scheduleRetry(gen);
      }
      return;
    }
    flushBuffer();
    loadFacets();
    loadTimeline(true);
  }

  // Reload the snapshot while keeping the stream open (after a reconnect or a reset).
  async function resync(gen) {
    if (!state.loaded) return; // the initial load is still running and will merge
    state.loaded = false;
    state.buffer = [];
    loadSample(state.filters, gen);
    const result = await loadEvents(state.filters, gen);
    if (gen !== state.generation || result === "stale") return;
    if (result === "ok") flushBuffer();
    else { state.buffer = []; state.loaded = true; }
    loadFacets();
    loadTimeline(true);
  }

  function flushBuffer() {
    state.loaded = true;
    const buffered = state.buffer;
    state.buffer = [];
    buffered.forEach((ev) => { if (addLiveEvent(ev, true)) countArrival(); });
  }

  function updateFilterSummary(filters) {
    const n = activeFilterCount(filters);
    $("filter-summary").textContent = n === 0 ? "Showing all listens" : n + (n === 1 ? " filter active" : " filters active");
    $("clear").disabled = n === 0;
    updateMoreFilters(filters);
  }

  // Phones show the search and fold the other filters away; the button says how many of those are set.
  function updateMoreFilters(filters) {
    const btn = $("filters-more");
    const open = form.classList.contains("is-expanded");
    const folded = activeFilterCount(filters) - (filters.q ? 1 : 0);
    const label = open ? "Fewer filters" : "More filters" + (folded ? " (" + folded + " active)" : "");
    if (btn.textContent !== label) btn.textContent = label;
    btn.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function updateTableTexts() {
    $("table-caption").textContent = "The latest " + state.maxRows + " listen events matching the filters, " +
      "newest first unless sorted by a column header. New events are added as they arrive.";
  }

  // ---------- pause ----------

  function updatePauseButton() {
    const btn = $("pause");
    btn.setAttribute("aria-pressed", state.paused ? "true" : "false");
    const n = state.pausedCount;
    const label = state.paused ? (n ? "Resume (" + numberFmt.format(n) + " new)" : "Resume") : "Pause";
    if (btn.textContent !== label) btn.textContent = label;
    btn.classList.toggle("active", state.paused);
    const note = !state.paused ? ""
      : n === 0 ? "Live updates paused; new listens are counted until you resume."
        : "Live updates paused; " + numberFmt.format(n) + (n === 1 ? " new listen" : " new listens") + " arrived.";
    const noteEl = $("pause-note");
    if (noteEl.textContent !== note) noteEl.textContent = note;
    noteEl.hidden = !state.paused;
  }

  function togglePause() {
    state.paused = !state.paused;
    if (!state.paused) {
      const pending = state.pending;
      state.pending = [];
      state.pausedCount = 0;
      pending.forEach((ev) => {
        if (!state.shown.has(String(ev.event_id))) insertRow(ev, true);
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
    const q = pageQuery(filtersFromForm());
    if (q === lastApplied) return;
    lastApplied = q;
    refresh(true);
  }
  const applyDebounced = debounce(apply, TEXT_DEBOUNCE_MS);

  function init() {
    const initial = filtersFromURL();
    state.sort = sortFromURL();
    state.maxRows = rowsFromURL();
    $("rows-cap").value = String(state.maxRows);
    renderSortHeaders();
    setForm(initial);
    lastApplied = pageQuery(filtersFromForm());
    // Normalise the URL (drops empty or invalid parameters).
    refresh(true);

    TEXT_KEYS.forEach((k) => fields[k].addEventListener("input", applyDebounced));
    CHOICE_KEYS.forEach((k) => {
      fields[k].addEventListener("change", () => { applyDebounced.cancel(); apply(); });
    });
    fields.range.addEventListener("change", () => {
      const custom = fields.range.value === "custom";
      showCustomRange(custom);
      if (custom && !fields.since.value && !fields.until.value) {
        fields.since.value = toLocalInput(Date.now() - 15 * 60000);
      }
      applyDebounced.cancel();
      apply();
    });
    [fields.since, fields.until].forEach((el) => el.addEventListener("change", () => { applyDebounced.cancel(); apply(); }));
    initMultis();
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      applyDebounced.cancel();
      apply();
    });
    $("clear").addEventListener("click", () => {
      applyDebounced.cancel();
      setForm({});
      apply();
      fields.q.focus();
    });
    $("pause").addEventListener("click", togglePause);
    $("filters-more").addEventListener("click", () => {
      form.classList.toggle("is-expanded");
      updateMoreFilters(state.filters);
    });
    $("rows-cap").addEventListener("change", () => {
      const n = Number($("rows-cap").value);
      state.maxRows = ROW_CAPS.includes(n) ? n : DEFAULT_ROWS;
      lastApplied = null; // apply even if the filters are unchanged
      apply();
    });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && TEXT_KEYS.some((k) => e.target === fields[k]) && e.target.value) {
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
    initAddForm();
    document.querySelectorAll("th[data-sort] > .app-sort").forEach((btn) => {
      btn.addEventListener("click", () => sortBy(btn.parentElement.dataset.sort));
    });
    const chartLibrary = window.musicstreamAssets ? window.musicstreamAssets.chart : Promise.resolve(window.Chart);
    chartLibrary.then((Chart) => initCharts(Chart), () => initCharts(null));
    setInterval(tick, 1000);
    setInterval(() => {
      if (document.visibilityState === "visible") loadTimeline(false);
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
    city: "city", country: "country", mood: "mood", duration: "duration", listen_position: "position",
    percent_listened: "% listened", rating: "rating",
  };

  function renderSortHeaders() {
    document.querySelectorAll("th[data-sort]").forEach((th) => {
      const active = th.dataset.sort === state.sort.by;
      th.setAttribute("aria-sort", active ? (state.sort.order === "asc" ? "ascending" : "descending") : "none");
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
    lastApplied = null; // apply even if the filters are unchanged
    apply();
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
  //
  // One Chart.js object per canvas, created once; live updates replace the data in place and
  // redraw without animation (update("none")), and only when the data changed, so nothing flickers.

  const TIMELINE_INTERVAL_MS = 1000;
  const TIMELINE_DEFAULT_MS = 2 * 60000;
  const TIMELINE_MAX_BARS = 720;
  const BUCKETS = [
    { name: "1s", ms: 1000, label: "Listens per second", upTo: 5 * 60000 + 1000 },
    { name: "10s", ms: 10000, label: "Listens per 10 s", upTo: 30 * 60000 + 1000 },
    { name: "1m", ms: 60000, label: "Listens per minute", upTo: Infinity },
  ];
  const PALETTE = ["#6d3df5", "#d63aa8", "#16a34a", "#f59e0b", "#0ea5e9", "#ef4444", "#14b8a6", "#a855f7",
    "#84cc16", "#f97316", "#64748b", "#eab308"];
  const CHART_IDS = ["timeline", "genre", "platform", "mood", "country", "artist", "track", "skip", "rating"];
  const charts = { ok: false, timelineBusy: false, timelineAgain: false, timelineLastRun: 0 };

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function shorten(label, n) {
    const s = String(label);
    return s.length > n ? s.slice(0, n - 1) + "…" : s;
  }

  // Bar charts: vertical for time, horizontal for rankings (long labels fit on the left).
  function barOptions(horizontal, opts) {
    const o = opts || {};
    const valueAxis = {
      stacked: !!o.stacked, beginAtZero: true,
      ticks: { precision: o.decimals ? undefined : 0, maxTicksLimit: horizontal ? 6 : 8 },
    };
    if (o.max != null) valueAxis.max = o.max;
    if (o.suffix) valueAxis.ticks.callback = (v) => v + o.suffix;
    const labelAxis = {
      stacked: !!o.stacked,
      ticks: horizontal
        // Long names are cut to what fits beside the bars; the tooltip has them whole.
        ? { autoSkip: false, callback(value) { return shorten(this.getLabelForValue(value), Math.max(8, Math.floor(this.chart.width / 17))); } }
        // Time labels: as many as fit the width, evenly spaced (null hides a tick).
        : { maxRotation: 0, autoSkip: false, callback(value, index, ticks) {
          const step = Math.ceil(ticks.length / Math.max(2, Math.floor(this.chart.width / 90)));
          return index % step === 0 ? this.getLabelForValue(value) : null;
        } },
    };
    const tooltip = { intersect: false };
    if (o.suffix || o.decimals) {
      tooltip.callbacks = {
        label: (ctx) => {
          const v = horizontal ? ctx.parsed.x : ctx.parsed.y;
          return " " + (o.decimals ? v.toFixed(o.decimals) : v) + (o.suffix || "") + (o.what ? " " + o.what : "");
        },
      };
    }
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      indexAxis: horizontal ? "y" : "x",
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { display: !!o.legend, position: "bottom", labels: { boxWidth: 12 } }, tooltip },
      scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
    };
  }

  function barChart(colors, opts) {
    return {
      type: "bar",
      data: { labels: [], datasets: [{ label: (opts && opts.dataset) || "Listens", data: [], backgroundColor: colors,
        borderWidth: 0, borderRadius: 3, maxBarThickness: 18 }] },
      options: barOptions(true, opts),
    };
  }

  function doughnutChart() {
    return {
      type: "doughnut",
      data: { labels: [], datasets: [{ label: "Listens", data: [], backgroundColor: PALETTE, borderWidth: 2 }] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, cutout: "58%",
        plugins: { legend: { position: "right", labels: { boxWidth: 10, padding: 8, font: { size: 11 } } } },
      },
    };
  }

  function initCharts(Chart) {
    if (typeof Chart !== "function") {
      $("charts-note").hidden = false;
      $("charts").hidden = true;
      return;
    }
    const make = (id, config) => new Chart($("chart-" + id).getContext("2d"), config);
    try {
      charts.timeline = make("timeline", {
        type: "bar",
        data: { labels: [], datasets: [
          { label: "Played", data: [], backgroundColor: PALETTE[0], borderWidth: 0 },
          { label: "Skipped", data: [], backgroundColor: PALETTE[3], borderWidth: 0 },
        ] },
        options: Object.assign(barOptions(false, { stacked: true, legend: true }), {
          datasets: { bar: { barPercentage: 1, categoryPercentage: 0.8 } },
        }),
      });
      charts.genre = make("genre", barChart(PALETTE));
      charts.platform = make("platform", doughnutChart());
      charts.mood = make("mood", doughnutChart());
      charts.country = make("country", barChart(PALETTE[4]));
      charts.artist = make("artist", barChart(PALETTE[1]));
      charts.track = make("track", barChart(PALETTE[0]));
      charts.skip = make("skip", barChart(PALETTE[3], { max: 100, suffix: "%", what: "skipped", dataset: "Skip rate" }));
      charts.rating = make("rating", barChart(PALETTE[2], { max: 5, decimals: 1, what: "of 5", dataset: "Average rating" }));
      charts.ok = true;
      themeCharts();
    } catch (err) {
      charts.ok = false;
      $("charts-note").hidden = false;
      $("charts").hidden = true;
      return;
    }
    // Whatever arrived before the library did.
    if (state.facets) updateFacetCharts(state.facets);
    updateSampleCharts(state.sample);
    loadTimeline(true);
  }

  function themeCharts() {
    if (!charts.ok) return;
    const textColor = cssVar("--app-muted") || "#5f5e74";
    const grid = cssVar("--app-grid") || "rgba(0,0,0,0.08)";
    const surface = cssVar("--app-surface") || "#fff";
    CHART_IDS.forEach((id) => {
      const chart = charts[id];
      const o = chart.options;
      if (o.plugins && o.plugins.legend) o.plugins.legend.labels.color = textColor;
      if (chart.config.type === "doughnut") {
        chart.data.datasets[0].borderColor = surface;
      } else {
        ["x", "y"].forEach((axis) => {
          o.scales[axis].ticks.color = textColor;
          o.scales[axis].grid = { color: grid, borderColor: grid };
        });
      }
      chart.update("none");
    });
  }

  function setChartData(chart, labels, series) {
    const figure = chart.canvas.closest("figure");
    const empty = labels.length === 0 ? "true" : "false";
    if (figure && figure.dataset.empty !== empty) figure.dataset.empty = empty;
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
      .filter((e) => e[1] > 0)
      .sort((a, b) => (b[1] - a[1]) || a[0].localeCompare(b[0]))
      .slice(0, n);
  }

  // Facets are counted without their own filter (so the picker can offer the other values); a
  // chart follows the filters, so it keeps only the chosen values.
  function onlyChosen(key, entries) {
    const list = Array.isArray(entries) ? entries : [];
    const filters = state.filters;
    const chosen = key === "artist" ? (filters.artist ? [filters.artist] : []) : (filters[key] || []);
    if (!chosen.length) return list;
    const needles = chosen.map((v) => v.toLowerCase());
    const substring = key === "country" || key === "artist";
    return list.filter((e) => {
      const v = String(e && e.value).toLowerCase();
      return needles.some((n) => (substring ? v.includes(n) : v === n));
    });
  }

  function updateFacetCharts(facets) {
    if (!charts.ok) return;
    [["genre", 10], ["platform", 10], ["mood", 12], ["country", 10], ["artist", 10]].forEach(([key, n]) => {
      const top = topEntries(onlyChosen(key, facets[key]), n);
      setChartData(charts[key], top.map((e) => e[0]), [top.map((e) => e[1])]);
    });
  }

  // Top tracks and the per-platform figures, from the sample of the latest matching listens.
  function updateSampleCharts(sample) {
    if (!charts.ok) return;
    const tracks = new Map();
    const platforms = new Map();
    sample.forEach((ev) => {
      const track = text(ev.title) + " — " + text(ev.artist);
      tracks.set(track, (tracks.get(track) || 0) + 1);
      const p = text(ev.platform);
      const s = platforms.get(p) || { n: 0, skipped: 0, rating: 0 };
      s.n += 1;
      if (ev.skipped === true) s.skipped += 1;
      s.rating += Number(ev.rating) || 0;
      platforms.set(p, s);
    });
    const top = Array.from(tracks.entries()).sort((a, b) => (b[1] - a[1]) || a[0].localeCompare(b[0])).slice(0, 10);
    setChartData(charts.track, top.map((e) => e[0]), [top.map((e) => e[1])]);
    const byPlatform = Array.from(platforms.entries()).sort((a, b) => (b[1].n - a[1].n) || a[0].localeCompare(b[0]));
    const labels = byPlatform.map((e) => e[0]);
    setChartData(charts.skip, labels, [byPlatform.map(([, s]) => Math.round((1000 * s.skipped) / s.n) / 10)]);
    setChartData(charts.rating, labels, [byPlatform.map(([, s]) => Math.round((100 * s.rating) / s.n) / 100)]);
  }

  // What the timeline shows for these filters: the chosen time range (the last 2 minutes
  // without one), in buckets that keep the bar count readable.
  function timelineSpec(filters, now) {
    const range = timeRange(filters, now);
    const end = range.until !== null ? Math.min(range.until, now) : now;
    let since = range.since !== null ? range.since : end - TIMELINE_DEFAULT_MS;
    const bucket = BUCKETS.find((b) => end - since <= b.upTo);
    since = Math.max(since, end - TIMELINE_MAX_BARS * bucket.ms);
    let spanLabel = "(last 2 min)";
    if (filters.last) spanLabel = "(" + LAST_LABELS[filters.last] + ")";
    else if (range.since !== null || range.until !== null) {
      spanLabel = "(" + timeFmt.format(new Date(since)) + " – " + (range.until !== null && range.until < now ? timeFmt.format(new Date(end)) : "now") + ")";
    }
    return { since, end, bucket, spanLabel, empty: end <= since };
  }

  async function loadTimeline(force) {
    if (!charts.ok || state.invalid) return;
    if (charts.timelineBusy) {
      if (force) charts.timelineAgain = true;
      return;
    }
    // Throttle: the interval and filter changes can both ask.
    if (!force && Date.now() - charts.timelineLastRun < 500) return;
    charts.timelineBusy = true;
    charts.timelineLastRun = Date.now();
    const gen = state.generation;
    const filters = state.filters;
    try {
      const spec = timelineSpec(filters, Date.now());
      const ms = spec.bucket.ms;
      const first = spec.since - (spec.since % ms);
      let points = [];
      if (!spec.empty) {
        const data = await getJSON("/api/timeline" + apiQuery(filters, { bucket: spec.bucket.name, since: String(first) }));
        if (gen !== state.generation || !data || !Array.isArray(data.points)) return;
        points = data.points;
      }
      // The API lists buckets from the first to the last matching event; the chart shows the
      // whole range, so quiet stretches at either end read as zero.
      const byStart = new Map(points.map((p) => [Number(p.t), p]));
      const labels = [];
      const played = [];
      const skipped = [];
      const fmt = ms >= 60000 ? minuteFmt : timeFmt;
      for (let t = first; t < spec.end && !spec.empty; t += ms) {
        const p = byStart.get(t);
        const count = p ? Number(p.count) || 0 : 0;
        const skip = p ? Number(p.skipped) || 0 : 0;
        labels.push(fmt.format(new Date(t)));
        played.push(Math.max(0, count - skip));
        skipped.push(skip);
      }
      $("chart-timeline-label").textContent = spec.bucket.label;
      $("chart-timeline-span").textContent = spec.spanLabel;
      setChartData(charts.timeline, labels, [played, skipped]);
    } catch (_) {
      // Connection problems are shown by the badge; the chart just keeps its last data.
    } finally {
      charts.timelineBusy = false;
      if (charts.timelineAgain) {
        charts.timelineAgain = false;
        loadTimeline(true);
      }
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
