// Orchestration: applying the filters (debounced for typing, at once for choices) starts a new
// generation: the page URL is updated, the stream reopened, and the table, sample, facets and
// timeline reloaded, with stream events that arrive meanwhile merged in once the table is there.
// Answers for an older generation are ignored everywhere.
import { state } from "./state.js";
import { $ } from "./dom.js";
import { filtersFromForm, pageQuery, updateFilterSummary } from "./filters.js";
import { renderTotals } from "./kpis.js";
import { loadEvents } from "./table.js";
import { holdSample, loadSample } from "./sample.js";
import { loadFacets } from "./facets.js";
import { loadTimeline } from "./charts.js";
import { closeStream, openStream, scheduleRetry, setConnection, tick } from "./stream.js";
import { afterNextFrame, requestRender } from "./frame.js";
import { resetArrivals } from "./arrivals.js";
import { updateDownloadLinks } from "./export.js";

const TEXT_DEBOUNCE_MS = 100;

// What the stream does when it cannot simply carry on.
const streamHooks = { resync, reload: () => refresh(false) };

export async function refresh(updateURL) {
  const filters = filtersFromForm();
  if (updateURL) {
    const url = window.location.pathname + pageQuery(filters) + window.location.hash;
    if (url !== window.location.pathname + window.location.search + window.location.hash) {
      window.history.replaceState(null, "", url);
    }
  }
  updateFilterSummary(filters);

  const gen = ++state.generation;
  // Marks on the page's performance timeline: how long a filter change takes to show, in parts.
  performance.clearMarks("musicstream:refresh");
  performance.mark("musicstream:refresh");
  state.filters = filters;
  state.invalid = false;
  // Each answer of the new view says again where it came from (kpis.js noteSource); until then
  // the note keeps saying what it said.
  state.sources = {};
  updateDownloadLinks();
  closeStream();
  state.loaded = false;
  state.inbox = [];
  resetArrivals();
  state.lastEventAt = 0;
  state.statsAt = 0;
  state.totals = { window: state.totals.window, matching: null };
  renderTotals();
  tick();
  updateTableTexts();

  // The table's request goes first and alone: the server answers in order, and the table is
  // what the person who just typed or clicked is looking at. The stream opens meanwhile; events
  // that arrive before the snapshot wait in the render queue and are merged (de-duplicated) into
  // it. Figures and charts (facets, timeline, the 1,000-listen sample: the largest answer to
  // parse) are asked for once the table is on screen, so they compete with it neither on the
  // server nor in the page.
  holdSample();
  const events = loadEvents(filters, gen);
  // The stream stays open in every range, the history's too: new listens still count into a
  // rolling or open-ended range ("last 24 hours" goes on growing), a range that has ended gets
  // none (the server applies `until`), and its once-a-second stats keep the connection badge and
  // events/s honest whatever the table shows.
  openStream(filters, gen, streamHooks);
  const result = await events;
  if (gen === state.generation && result === "ok") {
    afterNextFrame(() => {
      if (gen !== state.generation) return;
      loadFacets();
      loadTimeline(true);
      loadSample(filters, gen);
    });
  }
  if (gen !== state.generation || result === "stale") return;
  if (result !== "ok") {
    closeStream();
    state.inbox = [];
    state.loaded = true;
    if (result === "invalid") {
      // Invalid filters will not get better by retrying.
      state.invalid = true;
      if (state.sampleAbort) state.sampleAbort.abort();
      setConnection("offline", "Stopped — invalid filter");
    } else {
      scheduleRetry(gen, streamHooks);
    }
    return;
  }
  flushBuffer();
}

// Reload the snapshot while keeping the stream open (after a reconnect or a reset).
async function resync(gen) {
  if (!state.loaded) return; // the initial load is still running and will merge
  state.loaded = false;
  loadSample(state.filters, gen);
  const result = await loadEvents(state.filters, gen);
  if (gen !== state.generation || result === "stale") return;
  if (result === "ok") flushBuffer();
  else { state.inbox = []; state.loaded = true; }
  loadFacets();
  loadTimeline(true);
}

// The snapshot is in place: what arrived meanwhile is merged with the next frame.
function flushBuffer() {
  state.loaded = true;
  requestRender();
}

function updateTableTexts() {
  $("table-caption").textContent = "The latest " + state.maxRows + " listen events matching the filters, " +
    "newest first unless sorted by a column header. New events are added as they arrive.";
}

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

// The page query last applied: applying the same view again does nothing.
let lastApplied = "";

// Remembers the form's current view as applied (at start, before the first refresh).
export function markApplied() {
  lastApplied = pageQuery(filtersFromForm());
}

export function apply() {
  const q = pageQuery(filtersFromForm());
  if (q === lastApplied) return;
  lastApplied = q;
  refresh(true);
}

// For typing: applies once the input has been quiet for a moment.
export const applyDebounced = debounce(apply, TEXT_DEBOUNCE_MS);

// For choices: applies at once (dropping a pending debounced apply).
export function applyNow() {
  applyDebounced.cancel();
  apply();
}

// After a new sort or row cap: reloads even if the page query came out the same.
export function applyAgain() {
  lastApplied = null;
  apply();
}
