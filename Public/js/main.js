// musicstream live dashboard: the entry module (index.html loads it as a deferred module script,
// after vendor.js). It reads the view from the URL, starts the first load and wires the controls.
//
// Data flow: GET /api/events (the table, and a sample of up to 1,000 listens for the charts the
// server has no aggregate for) + EventSource /stream (live rows; one unfiltered stream shared by
// all the tabs, each filtering its own: stream-share.js) + GET /api/facets (filter options,
// counts, most charts and KPIs) + GET /api/timeline (listens over time). The requests take the
// same filter parameters, which are also mirrored in the page URL.
//
// Safety: event data is only ever put into the DOM with textContent / createTextNode /
// setAttribute — never innerHTML.
import { DEFAULT_ROWS, ROW_CAPS, TEXT_KEYS, CHOICE_KEYS, state } from "./state.js";
import { $, form, fields, rowsEl } from "./dom.js";
import { filtersFromURL, rowsFromURL, setForm, showCustomRange, showRangeProblem, timeRange, toLocalInput,
  updateMoreFilters } from "./filters.js";
import { initMultis } from "./pickers.js";
import { renderSortHeaders, sortBy, sortFromURL } from "./sort.js";
import { togglePause } from "./table.js";
import { mergeArrivals } from "./frame.js";
import { pollFacets, FACETS_INTERVAL_MS } from "./facets.js";
import { initCharts, loadTimeline, TIMELINE_INTERVAL_MS } from "./charts.js";
import { closeStream, tick, watchStream } from "./stream.js";
import { initTheme } from "./theme-toggle.js";
import { initAddForm } from "./add-form.js";
import { initDetail } from "./detail.js";
import { initExport } from "./export.js";
import { initUserHistory } from "./user-history.js";
import { apply, applyAgain, applyDebounced, applyNow, markApplied, refresh } from "./refresh.js";

function init() {
  const initial = filtersFromURL();
  state.sort = sortFromURL();
  state.maxRows = rowsFromURL();
  $("rows-cap").value = String(state.maxRows);
  renderSortHeaders();
  setForm(initial);
  markApplied();
  // Normalise the URL (drops empty or invalid parameters).
  refresh(true);

  TEXT_KEYS.forEach((k) => fields[k].addEventListener("input", applyDebounced));
  CHOICE_KEYS.forEach((k) => {
    fields[k].addEventListener("change", applyNow);
  });
  fields.range.addEventListener("change", () => {
    const custom = fields.range.value === "custom";
    if (custom && !fields.since.value && !fields.until.value) {
      // Starts as the range shown so far (an hour back from Live), so moving one end is enough.
      const shown = timeRange(state.filters);
      fields.since.value = toLocalInput(shown.since !== null ? shown.since : Date.now() - 60 * 60000);
    }
    showCustomRange(custom);
    applyNow();
  });
  // A range with a problem is said at once and not applied (filters.js keeps the previous one).
  [fields.since, fields.until].forEach((el) => el.addEventListener("change", () => {
    showRangeProblem();
    applyNow();
  }));
  initMultis(applyNow);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    applyNow();
  });
  $("clear").addEventListener("click", () => {
    applyDebounced.cancel();
    setForm({});
    apply();
    fields.q.focus();
  });
  $("pause").addEventListener("click", () => {
    mergeArrivals();
    togglePause();
  });
  $("filters-more").addEventListener("click", () => {
    form.classList.toggle("is-expanded");
    updateMoreFilters(state.filters);
  });
  $("rows-cap").addEventListener("change", () => {
    const n = Number($("rows-cap").value);
    state.maxRows = ROW_CAPS.includes(n) ? n : DEFAULT_ROWS;
    applyAgain();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && TEXT_KEYS.some((k) => e.target === fields[k]) && e.target.value) {
      // type=search clears on Escape in some browsers; make it consistent.
      e.target.value = "";
      applyDebounced.flush();
    }
  });
  rowsEl.addEventListener("animationend", (e) => {
    if (e.animationName !== "app-flash") return;
    const tr = e.target.parentElement;
    if (tr && tr.classList.contains("app-row-new") && e.target === tr.firstElementChild) {
      tr.classList.remove("app-row-new");
    }
  });

  initTheme();
  initAddForm();
  initDetail();
  initUserHistory();
  initExport();
  document.querySelectorAll("th[data-sort] > .app-sort").forEach((btn) => {
    btn.addEventListener("click", () => {
      if (btn.getAttribute("aria-disabled") === "true") return; // a history range: see #sort-history-note
      if (sortBy(btn.parentElement.dataset.sort)) applyAgain();
    });
  });
  // vendor.js (a deferred script before this module) promises the Chart constructor, from
  // /vendor/ or its CDN fallback, or null when neither loaded.
  const chartLibrary = window.musicstreamAssets ? window.musicstreamAssets.chart : Promise.resolve(window.Chart);
  chartLibrary.then((Chart) => initCharts(Chart), () => initCharts(null));
  setInterval(tick, 1000);
  setInterval(watchStream, 500);
  setInterval(() => {
    if (document.visibilityState === "visible") loadTimeline(false);
  }, TIMELINE_INTERVAL_MS);
  setInterval(() => {
    if (document.visibilityState === "visible") pollFacets();
  }, FACETS_INTERVAL_MS);
  window.addEventListener("pagehide", closeStream);
  window.addEventListener("pageshow", (e) => { if (e.persisted) refresh(false); });
}

init();
