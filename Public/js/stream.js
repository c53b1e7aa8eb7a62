// The live stream: an EventSource on /stream with the current filters, its connection badge,
// reconnecting (the browser's own, with Last-Event-ID, or ours with backoff once it gives up),
// live listens into the table and the sample, `stats` frames into the figures, and the
// once-a-second tick (events/s, "last event", rows aging out of a rolling range).
import { state } from "./state.js";
import { $ } from "./dom.js";
import { isValidEvent, relTime } from "./format.js";
import { apiQuery, timeRange } from "./filters.js";
import { setKpi, renderTotals } from "./kpis.js";
import { dismissAlert } from "./alerts.js";
import { addLiveEvent, dropRowsBefore } from "./table.js";
import { addToSample, dropSampleBefore } from "./sample.js";
import { scheduleFacets } from "./facets.js";

const RATE_WINDOW_MS = 10000;      // events/s is averaged over this window

export function setConnection(kind, label) {
  const box = $("connection");
  if (box.dataset.state !== kind) box.dataset.state = kind;
  const t = $("connection-text");
  if (t.textContent !== label) t.textContent = label;
  document.body.dataset.connection = kind;
}

export function closeStream() {
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

// A live event was added to the table (or queued while paused): count it.
export function countArrival() {
  const now = Date.now();
  state.arrivals.push(now);
  if (state.totals.matching != null) state.totals.matching += 1;
  if (state.totals.window != null) state.totals.window += 1;
  renderTotals();
  tick();
  scheduleFacets();
}

// `hooks.resync(gen)` reloads the table while the stream stays open (after a reset or a dropped
// connection); `hooks.reload()` starts over, stream included (after our own retry delay).
export function openStream(filters, gen, hooks) {
  closeStream();
  setConnection("connecting", "Connecting…");
  const es = new EventSource("/stream" + apiQuery(filters, { stats: "true" }));
  state.source = es;
  es.addEventListener("listen", (msg) => onListen(gen, msg));
  es.addEventListener("stats", (msg) => onStats(gen, msg));
  // The id we resumed from is no longer held (e.g. the server restarted): reload, then follow.
  es.addEventListener("reset", () => {
    if (gen === state.generation && state.source === es) hooks.resync(gen);
  });
  es.onopen = () => {
    if (gen !== state.generation) return;
    state.retryDelay = 2000;
    setConnection("live", "Live");
    dismissAlert("network");
    // After a dropped connection, events may have been missed: re-sync the table.
    if (es.dropped) {
      es.dropped = false;
      hooks.resync(gen);
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
    scheduleRetry(gen, hooks);
  };
}

export function scheduleRetry(gen, hooks) {
  const delay = state.retryDelay;
  state.retryDelay = Math.min(state.retryDelay * 2, 30000);
  setConnection("offline", "Offline — retrying in " + Math.round(delay / 1000) + " s");
  if (state.retryTimer) clearTimeout(state.retryTimer);
  state.retryTimer = setTimeout(() => {
    state.retryTimer = null;
    // Reloads the table too, since events may have been missed.
    if (gen === state.generation) hooks.reload();
  }, delay);
}

// A rolling range ("last 5 min") drops rows and sample listens as they age out of it.
function pruneOutOfRange() {
  if (!state.filters.last) return;
  const cutoff = timeRange(state.filters).since;
  dropRowsBefore(cutoff);
  dropSampleBefore(cutoff);
}

export function tick() {
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
