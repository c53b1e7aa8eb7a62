// /api/facets: the value counts behind the pickers' options, the artist suggestions, the facet
// charts and the skip-rate and rating figures. Refreshed every few seconds, and soon after
// events arrive (throttled).
import { MULTI_KEYS, state } from "./state.js";
import { $, fillDatalist } from "./dom.js";
import { getJSON } from "./api.js";
import { apiQuery } from "./filters.js";
import { fillMulti } from "./pickers.js";
import { noteSource, renderFacetKpis, renderTotals } from "./kpis.js";
import { dismissAlert, reportError } from "./alerts.js";
import { updateFacetCharts } from "./charts.js";
import { fillAddDatalists } from "./add-form.js";

export const FACETS_INTERVAL_MS = 5000;   // periodic facet refresh (main.js)
const FACETS_THROTTLE_MS = 1000;          // at most this often when events arrive
// Counted over the history store, a range is a query on a worker thread, not a look at the
// window's counts: then at most this often, however fast listens arrive (they still count into
// the figures in between: frame.js).
const HISTORY_EVERY_MS = 15000;

function historyAnswered() {
  return state.sources.facets === "history";
}

// The periodic refresh (main.js): the window's figures every few seconds, the history's less often.
export function pollFacets() {
  if (historyAnswered() && Date.now() - state.facetsLastRun < HISTORY_EVERY_MS) return;
  loadFacets();
}

export async function loadFacets() {
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
    noteSource("facets", data.source === "history" ? "history" : "window");
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
export function scheduleFacets() {
  if (state.facetsTimer) return;
  const every = historyAnswered() ? HISTORY_EVERY_MS : FACETS_THROTTLE_MS;
  const wait = Math.max(0, every - (Date.now() - state.facetsLastRun));
  state.facetsTimer = setTimeout(() => {
    state.facetsTimer = null;
    loadFacets();
  }, wait);
}
