// The key figures above the filters (events in the window, or listens in a range answered from
// the history, how many match, skip rate, average rating), the table's "Showing x of y" line,
// and the note saying whether they come from the live window or the history store. Events/s
// and "last event" are kept by stream.js, unique listeners by sample.js; all write through setKpi.
import { state } from "./state.js";
import { $ } from "./dom.js";
import { numberFmt } from "./format.js";
import { activeFilterCount } from "./filters.js";

export function setKpi(id, value) {
  const el = $(id);
  const s = value == null ? "—" : (typeof value === "number" ? numberFmt.format(value) : value);
  if (el.textContent !== s) el.textContent = s;
}

export function renderTotals() {
  // Without filters everything matches; with them, never more than the window holds (the
  // figures come from different answers, a moment apart).
  const t = state.totals;
  if (t.window != null && t.matching != null && (activeFilterCount(state.filters) === 0 || t.matching > t.window)) {
    t.matching = t.window;
  }
  setKpi("kpi-window", state.totals.window);
  setKpi("kpi-matching", state.totals.matching);
  const shown = state.rows.length;
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

export function renderFacetKpis(facets) {
  const k = facetKpis(facets, state.filters);
  setKpi("kpi-skip", k.skipRate == null ? null : Math.round(k.skipRate * 100) + "%");
  setKpi("kpi-rating", k.rating == null ? null : k.rating.toFixed(1));
}

// An answer's `source` for one part of the page (events, facets, timeline). The note says
// "history" as soon as the table or the figures of the current view came from the store: then
// they are not the window's, and the first figure is the listens stored in the range (facets'
// `total`). The timeline, asked for its own range (Live's last 2 minutes may be older than a
// small window at a high rate), is named apart when it came from elsewhere.
export function noteSource(part, source) {
  if (source !== "window" && source !== "history") return;
  state.sources[part] = source;
  if (part === "events") state.tableSource = source;
  const history = state.sources.events === "history" || state.sources.facets === "history";
  const kind = history ? "history" : "window";
  const timeline = state.sources.timeline;
  let label = history ? "From the history store" : "From the live window";
  if (timeline && timeline !== kind) {
    label += timeline === "history" ? " (timeline: history store)" : " (timeline: live window)";
  }
  const el = $("data-source");
  if (el.dataset.source !== kind) el.dataset.source = kind;
  if (el.textContent !== label) el.textContent = label;
  const kpiLabel = history ? "Listens in range" : "Events in window";
  const kpiEl = $("kpi-window-label");
  if (kpiEl.textContent !== kpiLabel) kpiEl.textContent = kpiLabel;
}
