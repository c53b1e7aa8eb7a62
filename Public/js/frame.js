// The render loop. Stream events are only queued as they arrive; once per animation frame the
// queue is taken whole: de-duplicated and placed in the table's model, counted, added to the chart
// sample, and then the table, the totals and the pause button are brought up to date, touching
// only what changed. The page's work so follows the screen's pace, not Kafka's: at thousands of
// listens a second a frame handles a batch, never one DOM change per listen.
import { state } from "./state.js";
import { acceptLive, renderTable, updatePauseButton } from "./table.js";
import { countArrivals } from "./arrivals.js";
import { addToSample } from "./sample.js";
import { scheduleFacets } from "./facets.js";
import { renderTotals } from "./kpis.js";
import { activeFilterCount } from "./filters.js";

// Hidden tabs get no animation frames; a timer still drains the queue there (browsers run it
// about once a second), so it never grows without bound.
const FALLBACK_MS = 250;

const TEXT_EVERY_MS = 250;

let textsAt = 0;                // when the counts were last written
let frameId = 0;                // the pending animation frame and fallback timer, if any
let timerId = 0;

// A live listen for this generation (stream.js); shown with the next frame.
export function queueLive(ev) {
  state.inbox.push(ev);
  requestRender();
}

export function requestRender() {
  if (frameId) return;
  frameId = requestAnimationFrame(renderFrame);
  timerId = setTimeout(renderFrame, FALLBACK_MS);
}

// Runs `fn` once the next frame is on screen (in a hidden tab, after FALLBACK_MS): for work that
// should not delay what was just drawn.
export function afterNextFrame(fn) {
  let done = false;
  const run = () => { if (!done) { done = true; fn(); } };
  requestAnimationFrame(() => setTimeout(run, 0));
  setTimeout(run, FALLBACK_MS);
}

// Merges what has arrived into the table's model, counts and sample (no DOM work): each frame
// does it first, and pausing does it before freezing, so a paused table holds every listen the
// page had received when the button was pressed.
export function mergeArrivals() {
  // Until the table's snapshot is in place, arrivals wait (they are merged into it, de-duplicated).
  if (state.loaded && state.inbox.length) {
    const batch = state.inbox;
    state.inbox = [];
    const fresh = acceptLive(batch);
    if (fresh.length) {
      countArrivals(fresh.length);
      // The window's own size comes from the server (facets, every second or so): counting
      // arrivals here would run past its capacity once it is full.
      if (state.totals.matching != null) state.totals.matching += fresh.length;
      // Over the history the first figure is the range's listens, which new ones join (when the
      // range is the only filter, every arrival is one of them); the store is asked seldom.
      if (state.sources.facets === "history" && state.totals.window != null && activeFilterCount(state.filters) === 1) {
        state.totals.window += fresh.length;
      }
      addToSample(fresh);
      scheduleFacets();
    }
  }
}

// Whichever of the two comes first runs and cancels the other.
function renderFrame() {
  cancelAnimationFrame(frameId);
  clearTimeout(timerId);
  frameId = 0;
  timerId = 0;
  mergeArrivals();
  // The table may ask to be drawn a little later (at high rates it is redrawn a few times a
  // second: more would be unreadable and cost frames). The counts are text whose every change
  // re-lays out the page: they follow a few times a second too.
  // While a new snapshot is on its way the table keeps what it shows: a redraw put off from
  // before the filter change would only re-lay out rows about to be replaced (at high rates it
  // was a 60 ms frame between the filter change and its answer).
  let later = state.loaded ? !renderTable() : false;
  const now = performance.now();
  if (now - textsAt >= TEXT_EVERY_MS) {
    textsAt = now;
    renderTotals();
    updatePauseButton();
  } else {
    later = true;
  }
  if (later) requestRender();
}
