// The live table. Its model is `state.rows`: the events shown, in display order, at most the row
// cap; the snapshot from /api/events fills it, live batches (frame.js) are merged in where the
// sort puts them (de-duplicated, trimmed to the cap), and `renderTable` brings the <tbody> in
// line with it, re-using the row of every event still shown. Pause / Resume queues arrivals
// instead of showing them. The "new" highlight is only given while listens arrive slowly enough
// to be noticed one by one (arrivals.js).
import { state } from "./state.js";
import { $, rowsEl, emptyEl } from "./dom.js";
import { numberFmt, isValidEvent } from "./format.js";
import { getJSON } from "./api.js";
import { buildRow } from "./rows.js";
import { fallBackToTimeSort, insertionIndex, renderSortHeaders, sortParams } from "./sort.js";
import { activeFilterCount, apiQuery, pageQuery } from "./filters.js";
import { noteSource, renderTotals } from "./kpis.js";
import { isCalm } from "./arrivals.js";
import { clearFieldErrors, dismissAlert, reportError } from "./alerts.js";

const SEEN_LIMIT = 2000;           // remembered event ids (for de-duplication)
const BUSY_REDRAW_MS = 500;        // while listens pour in, the table is redrawn at most this often

const rowElements = new Map();     // event_id -> its <tr>, for the rows in the <tbody>
let fresh = new Set();             // ids placed since the last redraw (candidates for the highlight)
let dirty = false;
let drawnAt = 0;

function rememberSeen(id) {
  state.seen.delete(id);
  state.seen.add(id);
  if (state.seen.size > SEEN_LIMIT) {
    const it = state.seen.values();
    for (let n = state.seen.size - SEEN_LIMIT; n > 0; n -= 1) state.seen.delete(it.next().value);
  }
}

function noteTimestamp(ev) {
  const t = Number(ev.timestamp);
  if (Number.isFinite(t) && t > state.lastEventAt) state.lastEventAt = t;
}

function forget(ev) {
  const id = String(ev.event_id);
  state.shown.delete(id);
  state.events.delete(id);
  fresh.delete(id);
}

// Puts one event into the model where the sort places it; false when it falls past the end of a
// full table.
function place(ev, highlight) {
  const index = insertionIndex(ev, state.rows, state.maxRows);
  if (index < 0) return false;
  const id = String(ev.event_id);
  state.rows.splice(index, 0, ev);
  state.shown.add(id);
  state.events.set(id, ev);
  if (highlight) fresh.add(id);
  while (state.rows.length > state.maxRows) forget(state.rows.pop());
  dirty = true;
  return true;
}

// A batch of live events (oldest first): the new ones are placed (or queued while paused) and
// returned; repeats are dropped.
export function acceptLive(batch) {
  const added = [];
  for (const ev of batch) {
    const id = String(ev.event_id);
    if (state.shown.has(id) || state.seen.has(id)) continue;
    rememberSeen(id);
    noteTimestamp(ev);
    added.push(ev);
  }
  if (!added.length) return added;
  if (state.paused) {
    for (const ev of added) state.pending.push(ev);
    if (state.pending.length > state.maxRows) state.pending.splice(0, state.pending.length - state.maxRows);
    state.pausedCount += added.length;
  } else {
    // A batch larger than the table only needs its newest rows tried (in the default order).
    const start = state.sort.by === "timestamp" && state.sort.order === "desc"
      ? Math.max(0, added.length - state.maxRows) : 0;
    for (let i = start; i < added.length; i += 1) place(added[i], true);
  }
  return added;
}

// Brings the <tbody> in line with the model. Returns false when a redraw is due but was put off
// (listens arrive fast and the last redraw was a moment ago): the caller asks again next frame.
export function renderTable(force) {
  if (!dirty) return true;
  const now = performance.now();
  const calm = isCalm();
  if (!force && !calm && now - drawnAt < BUSY_REDRAW_MS) return false;
  dirty = false;
  drawnAt = now;
  let created = 0;
  const wanted = state.rows.map((ev) => {
    const id = String(ev.event_id);
    let tr = rowElements.get(id);
    if (!tr) {
      tr = buildRow(ev);
      if (calm && fresh.has(id)) tr.classList.add("app-row-new");
      rowElements.set(id, tr);
      created += 1;
    }
    return tr;
  });
  fresh = new Set();
  if (rowElements.size > wanted.length) {
    for (const id of rowElements.keys()) {
      if (!state.shown.has(id)) rowElements.delete(id);
    }
  }
  if (created * 2 > wanted.length) {
    // Mostly new rows (listens pouring in): one replacement costs the browser one restyle of the
    // table instead of one per removed and inserted row.
    rowsEl.replaceChildren(...wanted);
  } else {
    for (const tr of Array.from(rowsEl.children)) {
      if (!state.shown.has(tr.dataset.eventId)) tr.remove();
    }
    // Move or insert only the rows that are not already where they belong.
    let cursor = rowsEl.firstElementChild;
    for (const tr of wanted) {
      if (tr === cursor) cursor = cursor.nextElementSibling;
      else rowsEl.insertBefore(tr, cursor);
    }
  }
  updateEmpty();
  return true;
}

function clearTable() {
  rowsEl.textContent = "";
  rowElements.clear();
  fresh = new Set();
  state.rows = [];
  state.shown.clear();
  state.events.clear();
  state.seen.clear();
  state.pending = [];
  state.pausedCount = 0;
  dirty = false;
  updatePauseButton();
}

function renderSnapshot(events) {
  clearTable();
  const list = Array.isArray(events) ? events : [];
  for (const ev of list) {
    if (!isValidEvent(ev)) continue;
    const id = String(ev.event_id);
    if (state.shown.has(id)) continue;
    if (state.rows.length >= state.maxRows) break;
    state.rows.push(ev);
    state.shown.add(id);
    state.events.set(id, ev);
    rememberSeen(id);
    noteTimestamp(ev);
  }
  dirty = true;
  renderTable(true);
}

// A rolling range ("last 5 min") drops rows as they age out of it.
export function dropRowsBefore(cutoff) {
  const before = state.rows.length;
  state.rows = state.rows.filter((ev) => {
    const keep = !(Number(ev.timestamp) < cutoff);
    if (!keep) forget(ev);
    return keep;
  });
  if (state.rows.length !== before) {
    dirty = true;
    renderTable(true);
  }
}

function updateEmpty(message) {
  const empty = state.rows.length === 0;
  if (message) emptyEl.textContent = message;
  else if (empty) {
    emptyEl.textContent = activeFilterCount(state.filters)
      ? "No listens match these filters yet — new matching events will appear here as they arrive."
      : "No listens yet — new events will appear here as they arrive.";
  }
  emptyEl.hidden = !empty && !message;
}

// The table's snapshot for these filters, sort and row cap. Resolves to "ok", "stale" (a newer
// generation took over), "invalid" (the server refused the filters) or "failed" (retry later).
export async function loadEvents(filters, gen) {
  if (state.eventsAbort) state.eventsAbort.abort();
  const ctrl = new AbortController();
  state.eventsAbort = ctrl;
  if (!state.rows.length) updateEmpty("Loading events…");
  $("table-wrap").classList.add("is-loading");
  try {
    const data = await getJSON("/api/events" + apiQuery(filters,
      Object.assign({ limit: String(state.maxRows) }, sortParams(state.sort))), ctrl.signal);
    if (gen !== state.generation) return "stale";
    performance.clearMarks("musicstream:events-answered");
    performance.clearMarks("musicstream:table-drawn");
    performance.mark("musicstream:events-answered");
    $("table-wrap").classList.remove("is-loading");
    renderSnapshot(data && data.events);
    performance.mark("musicstream:table-drawn");
    const source = data && data.source === "history" ? "history" : "window";
    noteSource("events", source);
    renderSortHeaders();
    // From the history, `window` is still the window's size, not the range's: the first figure
    // then waits for the facets' `total` (the listens stored in the range).
    if (source === "history") state.totals.window = null;
    else if (data && typeof data.window === "number") state.totals.window = data.window;
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
    // A range that reaches into the history refuses every sort but time's (400 on sort_by): the
    // table falls back to time order and loads again; the headers then say why (sort.js).
    if (err.status === 400 && err.problem && err.problem.parameter === "sort_by" && fallBackToTimeSort()) {
      state.tableSource = "history";
      renderSortHeaders();
      const url = window.location.pathname + pageQuery(filters) + window.location.hash;
      window.history.replaceState(null, "", url);
      return loadEvents(filters, gen);
    }
    reportError(err, "events");
    if (err.problem || err.status === 400) {
      clearTable();
      updateEmpty("Fix the filter to see events.");
      return "invalid";
    }
    // Keep whatever rows we had; the caller retries.
    updateEmpty(state.rows.length ? null : "Events could not be loaded — retrying…");
    return "failed";
  }
}

// ---------- pause ----------

// The button carries the running count; the live region (#pause-note) only says once that
// updates are paused, so a screen reader is not told about every listen that arrives.
export function updatePauseButton() {
  const btn = $("pause");
  const n = state.pausedCount;
  const label = state.paused ? (n ? "Resume (" + numberFmt.format(n) + " new)" : "Resume") : "Pause";
  if (btn.textContent !== label) btn.textContent = label;
  const count = !state.paused ? ""
    : numberFmt.format(n) + (n === 1 ? " new listen" : " new listens") + " since pausing.";
  const countEl = $("pause-count");
  if (countEl.textContent !== count) countEl.textContent = count;
}

function updatePauseNote() {
  const btn = $("pause");
  btn.setAttribute("aria-pressed", state.paused ? "true" : "false");
  btn.classList.toggle("active", state.paused);
  const note = state.paused ? "Live updates paused; new listens are counted until you resume." : "";
  const noteEl = $("pause-note");
  if (noteEl.textContent !== note) noteEl.textContent = note;
}

export function togglePause() {
  state.paused = !state.paused;
  // Paused, the table holds what it shows now: a redraw that was put off happens first.
  if (state.paused) renderTable(true);
  if (!state.paused) {
    const pending = state.pending;
    state.pending = [];
    state.pausedCount = 0;
    pending.forEach((ev) => {
      if (!state.shown.has(String(ev.event_id))) place(ev, true);
    });
    renderTable(true);
    renderTotals();
  }
  updatePauseNote();
  updatePauseButton();
}
