// The filters: one normalised shape read from the URL or the form, written back to the form,
// and turned into query strings for the API and for the page's own URL (so a reload or a shared
// link shows the same view). Also the filter card's summary and its "More filters" fold.
import { DEFAULT_ROWS, ROW_CAPS, TEXT_KEYS, MULTI_KEYS, CHOICE_KEYS, state } from "./state.js";
import { $, form, fields } from "./dom.js";
import { multiValues, setMulti, byText } from "./pickers.js";
import { sortParams } from "./sort.js";

// Rolling presets (page-only `last=` in the URL; sent to the API as `since`). The longer ones
// reach before the live window: the server then answers from the history store (`source`).
const HOUR = 60 * 60000;
const LAST_RANGES = { "5m": 5 * 60000, "15m": 15 * 60000, "1h": HOUR, "24h": 24 * HOUR, "7d": 7 * 24 * HOUR };
export const LAST_LABELS = {
  "5m": "last 5 min", "15m": "last 15 min", "1h": "last hour", "24h": "last 24 hours", "7d": "last 7 days",
};
// "Last 60 min" became "Last hour" (`1h`): links made before still open that view.
const LAST_ALIASES = { "60m": "1h" };
const MAX_MS = 9999999999999;
// A custom range starting before this is a typo, not a question anyone asks the history.
const EARLIEST_MS = Date.UTC(2000, 0, 1);

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
  const last = Object.prototype.hasOwnProperty.call(LAST_ALIASES, raw.last) ? LAST_ALIASES[raw.last] : raw.last;
  if (Object.prototype.hasOwnProperty.call(LAST_RANGES, last)) {
    f.last = last;
  } else {
    const since = parseMillis(raw.since);
    const until = parseMillis(raw.until);
    if (since !== null) f.since = since;
    if (until !== null) f.until = until;
  }
  return f;
}

export function filtersFromURL() {
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

export function filtersFromForm() {
  const raw = {};
  TEXT_KEYS.concat(CHOICE_KEYS).forEach((k) => { raw[k] = fields[k].value; });
  // In a stable order, so the URL does not change when the options are re-sorted by count.
  MULTI_KEYS.forEach((k) => { raw[k] = multiValues(k).sort(byText); });
  const range = fields.range.value;
  if (LAST_RANGES[range]) raw.last = range;
  else if (range === "custom") {
    if (customRangeProblem()) {
      // Not applied until it is fixed: the view keeps the range it had (the message says so).
      raw.last = state.filters.last;
      raw.since = state.filters.since;
      raw.until = state.filters.until;
    } else {
      raw.since = parseLocalInput(fields.since.value);
      raw.until = parseLocalInput(fields.until.value);
    }
  }
  return normaliseFilters(raw);
}

// What is wrong with the custom From / Until, as { field, message }, or null. Either may be empty
// (from a time on, or up to one); both set, From must come first.
export function customRangeProblem(now) {
  if (fields.range.value !== "custom") return null;
  const since = fields.since.value ? parseLocalInput(fields.since.value) : "";
  const until = fields.until.value ? parseLocalInput(fields.until.value) : "";
  if (since === null) return { field: "since", message: "From is not a date and time." };
  if (until === null) return { field: "until", message: "Until is not a date and time." };
  if (since !== "" && Number(since) < EARLIEST_MS) return { field: "since", message: "From is before the year 2000." };
  if (until !== "" && Number(until) < EARLIEST_MS) return { field: "until", message: "Until is before the year 2000." };
  if (since !== "" && Number(since) > (now || Date.now())) return { field: "since", message: "From is in the future." };
  if (since !== "" && until !== "" && Number(since) >= Number(until)) {
    return { field: "until", message: "Until must be after From." };
  }
  return null;
}

// Marks the custom range's problem on its input and says it under the inputs (or clears both).
// Its own attribute keeps it apart from the marks a server's 400 puts (alerts.js clears those).
export function showRangeProblem() {
  const problem = customRangeProblem();
  ["since", "until"].forEach((k) => {
    const bad = !!problem && problem.field === k;
    fields[k].classList.toggle("is-invalid", bad);
    fields[k].toggleAttribute("data-range-invalid", bad);
    if (bad) fields[k].setAttribute("aria-invalid", "true");
    else fields[k].removeAttribute("aria-invalid");
  });
  const el = $("f-range-error");
  const message = problem ? problem.message + " The view keeps its previous range until this is fixed." : "";
  if (el.textContent !== message) el.textContent = message;
  return problem;
}

// The absolute range a filter set means now (a rolling preset moves with the clock).
export function timeRange(filters, now) {
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
export function apiQuery(filters, extra) {
  const params = new URLSearchParams();
  appendFilters(params, filters, false);
  if (extra) Object.keys(extra).forEach((k) => params.set(k, extra[k]));
  const s = params.toString();
  return s ? "?" + s : "";
}

// Query string for the page URL: the API's filters (a rolling range as `last=`), the sort and
// the row cap, so a reload or a shared link shows the same view.
export function pageQuery(filters) {
  const params = new URLSearchParams();
  appendFilters(params, filters, true);
  const sort = sortParams(state.sort);
  Object.keys(sort).forEach((k) => params.set(k, sort[k]));
  if (state.maxRows !== DEFAULT_ROWS) params.set("rows", String(state.maxRows));
  const s = params.toString();
  return s ? "?" + s : "";
}

export function rowsFromURL() {
  const n = Number(new URLSearchParams(window.location.search).get("rows"));
  return ROW_CAPS.includes(n) ? n : DEFAULT_ROWS;
}

function pad2(n) {
  return String(n).padStart(2, "0");
}

export function toLocalInput(ms) {
  const d = new Date(ms);
  return d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-" + pad2(d.getDate()) + "T" +
    pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds());
}

export function showCustomRange(show) {
  $("f-since-field").hidden = !show;
  $("f-until-field").hidden = !show;
  showRangeProblem();
}

export function setForm(filters) {
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

export function activeFilterCount(filters) {
  let n = 0;
  TEXT_KEYS.concat(MULTI_KEYS, CHOICE_KEYS).forEach((k) => { if (filters[k]) n += 1; });
  if (filters.last || filters.since != null || filters.until != null) n += 1;
  return n;
}

export function updateFilterSummary(filters) {
  const n = activeFilterCount(filters);
  $("filter-summary").textContent = n === 0 ? "Showing all listens" : n + (n === 1 ? " filter active" : " filters active");
  $("clear").disabled = n === 0;
  updateMoreFilters(filters);
}

// Phones show the search and fold the other filters away; the button says how many of those are set.
export function updateMoreFilters(filters) {
  const btn = $("filters-more");
  const open = form.classList.contains("is-expanded");
  const folded = activeFilterCount(filters) - (filters.q ? 1 : 0);
  const label = open ? "Fewer filters" : "More filters" + (folded ? " (" + folded + " active)" : "");
  if (btn.textContent !== label) btn.textContent = label;
  btn.setAttribute("aria-expanded", open ? "true" : "false");
}
