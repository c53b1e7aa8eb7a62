// The sample: the latest (up to) 1,000 matching listens, loaded from /api/events and kept up to
// date from the stream. Top tracks, per-platform skip rate and rating, and unique listeners come
// from it (the server has no aggregate for those); they are recomputed at most once a second.
import { state } from "./state.js";
import { $ } from "./dom.js";
import { numberFmt, isValidEvent } from "./format.js";
import { getJSON } from "./api.js";
import { apiQuery } from "./filters.js";
import { setKpi } from "./kpis.js";
import { updateSampleCharts } from "./charts.js";

const SAMPLE_MAX = 1000;           // the API's largest page: listens behind the sample charts
const SAMPLE_THROTTLE_MS = 1000;   // sample charts are recomputed at most this often

// A new view: the old sample no longer applies, and live listens wait for the new one.
export function holdSample() {
  if (state.sampleAbort) state.sampleAbort.abort();
  state.sampleAbort = null;
  state.sampleLoading = true;
  state.sampleBuffer = [];
}

export async function loadSample(filters, gen) {
  holdSample();
  const ctrl = new AbortController();
  state.sampleAbort = ctrl;
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
    addToSample(buffered);
    scheduleSampleCharts(true);
  } catch (err) {
    if (gen === state.generation && err.name !== "AbortError") {
      state.sampleLoading = false;
      state.sampleBuffer = [];
    }
  }
}

// A batch of new live listens (oldest first), from the render loop.
export function addToSample(events) {
  if (state.sampleLoading) {
    for (const ev of events) state.sampleBuffer.push(ev);
    return;
  }
  let added = 0;
  for (const ev of events) {
    const id = String(ev.event_id);
    if (state.sampleIds.has(id)) continue;
    state.sample.push(ev);
    state.sampleIds.add(id);
    added += 1;
  }
  const excess = state.sample.length - SAMPLE_MAX;
  if (excess > 0) {
    state.sample.splice(0, excess).forEach((ev) => state.sampleIds.delete(String(ev.event_id)));
    state.sampleTruncated = true;
  }
  if (added) scheduleSampleCharts();
}

// A rolling range ("last 5 min") drops sample listens as they age out of it.
export function dropSampleBefore(cutoff) {
  const before = state.sample.length;
  state.sample = state.sample.filter((ev) => {
    const keep = Number(ev.timestamp) >= cutoff;
    if (!keep) state.sampleIds.delete(String(ev.event_id));
    return keep;
  });
  if (state.sample.length !== before) scheduleSampleCharts();
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
