// The live table: its snapshot from /api/events, live events inserted where the sort puts them
// (de-duplicated, trimmed to the row cap), the empty-table message, and Pause / Resume, which
// queues arrivals instead of showing them.
import { state } from "./state.js";
import { $, rowsEl, emptyEl } from "./dom.js";
import { numberFmt, isValidEvent } from "./format.js";
import { getJSON } from "./api.js";
import { buildRow } from "./rows.js";
import { insertionPoint, sortParams } from "./sort.js";
import { activeFilterCount, apiQuery } from "./filters.js";
import { renderTotals } from "./kpis.js";
import { clearFieldErrors, dismissAlert, reportError } from "./alerts.js";

const SEEN_LIMIT = 2000;           // remembered event ids (for de-duplication)

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

function noteTimestamp(ev) {
  const t = Number(ev.timestamp);
  if (Number.isFinite(t) && t > state.lastEventAt) state.lastEventAt = t;
}

// Insert a live event where the sort puts it (or queue it while paused). False for a repeat.
export function addLiveEvent(ev, highlight) {
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

// A rolling range ("last 5 min") drops rows as they age out of it.
export function dropRowsBefore(cutoff) {
  Array.from(rowsEl.rows).forEach((tr) => {
    const ev = state.events.get(tr.dataset.eventId);
    if (ev && Number(ev.timestamp) < cutoff) removeRow(tr);
  });
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

// The table's snapshot for these filters, sort and row cap. Resolves to "ok", "stale" (a newer
// generation took over), "invalid" (the server refused the filters) or "failed" (retry later).
export async function loadEvents(filters, gen) {
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

export function togglePause() {
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
