// The live stream: the tab's share of the one /stream connection all tabs use (stream-share.js;
// or an EventSource of its own with the current filters), its connection badge, reconnecting
// (the leader's, resuming after the last id, or the page's with backoff once it gives up),
// live listens queued for the next frame (frame.js), `stats` frames into the figures, the
// watchdog that calls a silent stream "Stalled", and the once-a-second tick (events/s,
// "last event", rows aging out of a rolling range).
import { state } from "./state.js";
import { $ } from "./dom.js";
import { isValidEvent, relTime } from "./format.js";
import { timeRange } from "./filters.js";
import { setKpi, renderTotals } from "./kpis.js";
import { dismissAlert, showAlert } from "./alerts.js";
import { dropRowsBefore } from "./table.js";
import { dropSampleBefore } from "./sample.js";
import { queueLive } from "./frame.js";
import { arrivalRate } from "./arrivals.js";
import { connect, streamDebug } from "./stream-share.js";

// The page asks for `stats` frames, which the server sends every second whatever else happens:
// they are the stream's heartbeat. A stream silent for this long is stalled (a frozen or
// overloaded server, or a connection that died without closing).
export const HEARTBEAT_MS = 1000;
const STALL_AFTER_MS = 3 * HEARTBEAT_MS;
// A stream stalled this long is given up and opened again (with the table reloaded), for a
// connection that died without a word and would otherwise never recover.
const REOPEN_AFTER_MS = 30000;

export function setConnection(kind, label) {
  const box = $("connection");
  if (box.dataset.state !== kind) box.dataset.state = kind;
  const t = $("connection-text");
  if (t.textContent !== label) t.textContent = label;
  // The header's equaliser moves while live. The attribute sits on the equaliser itself: on
  // <body> every change re-styled the whole page (a 30 ms frame right after each filter change).
  const eq = $("equaliser");
  if (eq && eq.hasAttribute("data-live") !== (kind === "live")) eq.toggleAttribute("data-live", kind === "live");
}

export function closeStream() {
  if (state.retryTimer) { clearTimeout(state.retryTimer); state.retryTimer = null; }
  if (state.source) {
    state.source.close();
    state.source = null;
  }
  dismissAlert("stalled");
}

// Something arrived on the stream: it is alive. A stalled stream that speaks again is live.
function heard(es) {
  state.heardAt = Date.now();
  if (es.stalled) {
    es.stalled = false;
    setConnection("live", "Live");
    dismissAlert("stalled");
  }
}

function onListen(gen, es, msg) {
  if (gen !== state.generation) return;
  heard(es);
  let ev = msg.parsed;   // a shared stream's listens come parsed already
  if (ev === undefined) {
    try { ev = JSON.parse(msg.data); } catch (_) { return; }
  }
  if (!isValidEvent(ev)) return;
  if (streamDebug.received) streamDebug.received.push(String(ev.event_id));
  queueLive(ev);
}

function onStats(gen, es, msg) {
  if (gen !== state.generation) return;
  heard(es);
  let stats;
  try { stats = JSON.parse(msg.data); } catch (_) { return; }
  if (!stats || typeof stats !== "object") return;
  state.statsAt = Date.now();
  if (typeof stats.events_per_second === "number") setKpi("kpi-rate", stats.events_per_second.toFixed(1));
  // With a rolling range the stream's `since` stays where it was opened; the facets' count moves.
  // The stream counts only the window: a range answered from the history keeps the answers' count.
  // A shared stream is unfiltered: with filters its frames leave `matching` out (the facets count).
  if (typeof stats.matching === "number" && !state.filters.last && state.tableSource !== "history") {
    state.totals.matching = stats.matching;
    renderTotals();
  }
}

// `hooks.resync(gen)` reloads the table while the stream stays open (after a reset or a dropped
// connection); `hooks.reload()` starts over, stream included (after our own retry delay).
export function openStream(filters, gen, hooks) {
  closeStream();
  setConnection("connecting", "Connecting…");
  const es = connect(filters);
  es.hooks = hooks;
  es.gen = gen;
  state.source = es;
  es.addEventListener("listen", (msg) => onListen(gen, es, msg));
  es.addEventListener("stats", (msg) => onStats(gen, es, msg));
  // The id we resumed from is no longer held (e.g. the server restarted): reload, then follow.
  es.addEventListener("reset", () => {
    if (gen === state.generation && state.source === es) hooks.resync(gen);
  });
  es.addEventListener("open", () => {
    if (gen !== state.generation) return;
    state.retryDelay = 2000;
    state.heardAt = Date.now();
    es.stalled = false;
    setConnection("live", "Live");
    dismissAlert("network");
    dismissAlert("stalled");
    // After a dropped connection, events may have been missed: re-sync the table.
    if (es.dropped) {
      es.dropped = false;
      hooks.resync(gen);
    }
  });
  es.addEventListener("error", () => {
    if (gen !== state.generation || state.source !== es) return;
    es.stalled = false;
    dismissAlert("stalled");
    if (es.readyState === EventSource.CONNECTING) {
      // It reconnects by itself (resuming after the last id).
      es.dropped = true;
      setConnection("reconnecting", "Reconnecting…");
      return;
    }
    // CLOSED: the browser gave up (e.g. an HTTP error). Retry ourselves with backoff.
    es.close();
    state.source = null;
    scheduleRetry(gen, hooks);
  });
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

// The watchdog (every half second): an open stream that has been silent past its heartbeat is
// shown as stalled, with an alert; one silent for much longer is opened again.
export function watchStream() {
  const es = state.source;
  if (!es || es.readyState !== EventSource.OPEN || es.gen !== state.generation) return;
  const silent = Date.now() - state.heardAt;
  if (silent > REOPEN_AFTER_MS) {
    if (es.recover) es.recover();   // a shared stream: a new connection for every tab
    closeStream();
    es.hooks.reload();
    return;
  }
  if (silent <= STALL_AFTER_MS) return;
  if (!es.stalled) {
    es.stalled = true;
    showAlert("The live stream has stalled.",
      "The server has sent nothing, not even its heartbeat, for a few seconds; the table shows what arrived " +
      "before. It resumes by itself when the server answers again.", "stalled");
  }
  // The badge is a live region: its text changes once, not with every second of silence.
  setConnection("stalled", "Stalled");
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
  const rate = arrivalRate(now);
  // The server's figure (from the `stats` frames) wins; the local estimate is a fallback.
  if (now - state.statsAt > 3000) setKpi("kpi-rate", state.source ? rate.toFixed(1) : "—");
  setKpi("kpi-last", state.lastEventAt ? relTime(state.lastEventAt) : "—");
  pruneOutOfRange();
}
