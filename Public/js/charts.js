// The charts: one Chart.js object per canvas, created once when the library has loaded (or never,
// when it did not: the page works without them). Live updates replace the data in place and
// redraw without animation (update("none")), and only when the data changed, so nothing
// flickers. Facet charts follow /api/facets, the sample charts sample.js, the timeline
// /api/timeline (polled here); colours follow the theme. Each chart's numbers are also a table
// in its figure (setChartData fills both), read by screen readers and shown by "Show as tables".
// A donut shows at most eight slices; charts of more categories are bars.
import { state } from "./state.js";
import { $ } from "./dom.js";
import { minuteFmt, numberFmt, timeFmt, text } from "./format.js";
import { noteSource } from "./kpis.js";
import { getJSON } from "./api.js";
import { LAST_LABELS, apiQuery, timeRange } from "./filters.js";

export const TIMELINE_INTERVAL_MS = 1000;   // how often main.js refreshes the timeline
const TIMELINE_DEFAULT_MS = 2 * 60000;
// The finest bucket the API has that keeps a range within this many bars: an hour in minutes, a
// day in minutes (1,440), a week in hours, longer in days (the API has no 10 min bucket). A
// longer range shows its newest bars (a custom range of more than four years).
const TIMELINE_MAX_BARS = 1500;
const HOUR_MS = 3600000;
const BUCKETS = [
  { name: "1s", ms: 1000, label: "Listens per second", upTo: 5 * 60000 + 1000 },
  { name: "10s", ms: 10000, label: "Listens per 10 s", upTo: 30 * 60000 + 1000 },
  { name: "1m", ms: 60000, label: "Listens per minute", upTo: TIMELINE_MAX_BARS * 60000 },
  { name: "1h", ms: HOUR_MS, label: "Listens per hour", upTo: TIMELINE_MAX_BARS * HOUR_MS },
  { name: "1d", ms: 24 * HOUR_MS, label: "Listens per day", upTo: Infinity },
];
// How often the timeline is asked again: fine buckets (ranges up to 30 min) every second
// (main.js), whoever answers them; minutes every few seconds; a long series counted over the
// history store (a query on a worker) seldom.
const TIMELINE_MIN_GAP_MS = 500;
const TIMELINE_MINUTES_GAP_MS = 5000;
const TIMELINE_HISTORY_GAP_MS = 15000;
// Labels of ranges longer than half a day carry the day. Day buckets start at midnight UTC (the
// API's), so west of UTC a day's bar is labelled with the day before.
const dayMinuteFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit",
  minute: "2-digit", hourCycle: "h23" });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const LONG_SPAN_MS = 12 * HOUR_MS;
const PALETTE = ["#6d3df5", "#d63aa8", "#16a34a", "#f59e0b", "#0ea5e9", "#ef4444", "#14b8a6", "#a855f7",
  "#84cc16", "#f97316", "#64748b", "#eab308"];
const CHART_IDS = ["timeline", "genre", "platform", "mood", "country", "artist", "track", "skip", "rating"];
// What each chart's labels are, as its table's first column header.
const TABLE_LABELS = {
  timeline: "Time", genre: "Genre", platform: "Platform", mood: "Mood", country: "Country", artist: "Artist",
  track: "Track", skip: "Platform", rating: "Platform",
};
const TABLE_SUFFIX = { skip: "%" };
const DONUT_SLICES = 8;
// Phones start with the charts folded away (app.css does the same before this module runs).
const PHONE = window.matchMedia("(max-width: 576px)");
const charts = { ok: false, timelineBusy: false, timelineAgain: false, timelineLastRun: 0, timelineSource: "window" };

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function shorten(label, n) {
  const s = String(label);
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

// Bar charts: vertical for time, horizontal for rankings (long labels fit on the left).
function barOptions(horizontal, opts) {
  const o = opts || {};
  const valueAxis = {
    stacked: !!o.stacked, beginAtZero: true,
    ticks: { precision: o.decimals ? undefined : 0, maxTicksLimit: horizontal ? 6 : 8 },
  };
  if (o.max != null) valueAxis.max = o.max;
  if (o.suffix) valueAxis.ticks.callback = (v) => v + o.suffix;
  const labelAxis = {
    stacked: !!o.stacked,
    ticks: horizontal
      // Long names are cut to what fits beside the bars; the tooltip has them whole.
      ? { autoSkip: false, font: { size: 11 }, callback(value) { return shorten(this.getLabelForValue(value), Math.max(8, Math.floor(this.chart.width / 17))); } }
      // Time labels: as many as fit the width, evenly spaced (null hides a tick).
      // Measuring a sample of them is enough (they are all HH:MM:SS): measuring all 120 on every
      // update was most of the timeline's redraw.
      : { maxRotation: 0, autoSkip: false, sampleSize: 8, callback(value, index, ticks) {
        const step = Math.ceil(ticks.length / Math.max(2, Math.floor(this.chart.width / 90)));
        return index % step === 0 ? this.getLabelForValue(value) : null;
      } },
  };
  const tooltip = { intersect: false };
  if (o.suffix || o.decimals) {
    tooltip.callbacks = {
      label: (ctx) => {
        const v = horizontal ? ctx.parsed.x : ctx.parsed.y;
        return " " + (o.decimals ? v.toFixed(o.decimals) : v) + (o.suffix || "") + (o.what ? " " + o.what : "");
      },
    };
  }
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    indexAxis: horizontal ? "y" : "x",
    interaction: { mode: "index", intersect: false },
    plugins: { legend: { display: !!o.legend, position: "bottom", labels: { boxWidth: 12 } }, tooltip },
    scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
  };
}

function barChart(colors, opts) {
  return {
    type: "bar",
    data: { labels: [], datasets: [{ label: (opts && opts.dataset) || "Listens", data: [], backgroundColor: colors,
      borderWidth: 0, borderRadius: 3, maxBarThickness: 18 }] },
    options: barOptions(true, opts),
  };
}

function doughnutChart() {
  return {
    type: "doughnut",
    data: { labels: [], datasets: [{ label: "Listens", data: [], backgroundColor: PALETTE, borderWidth: 2 }] },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false, cutout: "58%",
      plugins: { legend: { position: "right", labels: { boxWidth: 10, padding: 8, font: { size: 11 } } } },
    },
  };
}

// The table beside a chart: a header row now, its rows with every setChartData.
function addDataTable(id) {
  const figure = charts[id].canvas.closest("figure");
  const caption = figure.querySelector("figcaption");
  const wrap = document.createElement("div");
  wrap.className = "app-chart-data";
  const table = document.createElement("table");
  table.className = "app-chart-table";
  if (caption && caption.id) table.setAttribute("aria-labelledby", caption.id);
  const head = table.createTHead().insertRow();
  [TABLE_LABELS[id]].concat(charts[id].data.datasets.map((d) => d.label)).forEach((name) => {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = name;
    head.appendChild(th);
  });
  table.appendChild(document.createElement("tbody"));
  wrap.appendChild(table);
  figure.appendChild(wrap);
  fillDataTable(charts[id]);
}

function fillDataTable(chart) {
  const figure = chart.canvas.closest("figure");
  const table = figure && figure.querySelector(".app-chart-table");
  if (!table) return;
  const suffix = TABLE_SUFFIX[chart.canvas.id.replace(/^chart-/, "")] || "";
  const body = document.createElement("tbody");
  const labels = chart.data.labels;
  labels.forEach((label, i) => {
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = String(label);
    tr.appendChild(th);
    chart.data.datasets.forEach((dataset) => {
      const value = Number(dataset.data[i]);
      tr.insertCell().textContent = Number.isFinite(value) ? numberFmt.format(value) + suffix : "—";
    });
  });
  if (!labels.length) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = chart.data.datasets.length + 1;
    cell.textContent = "No matching listens";
  }
  table.replaceChild(body, table.tBodies[0]);
}

const CHARTS_KEY = "musicstream-charts";

function savedChoice() {
  try {
    const saved = window.localStorage.getItem(CHARTS_KEY);
    return saved === "open" ? true : (saved === "closed" ? false : null);
  } catch (_) {
    return null;  // storage may be off
  }
}

// "Hide charts" / "Show charts", and the charts as tables. A choice is kept (a wall screen that
// wants more rows keeps them folded across reloads); until one is made the charts follow the
// screen (folded on phones).
function initChartTools() {
  const card = $("charts-card");
  const toggle = $("charts-toggle");
  const asTables = $("charts-as-tables");
  let chosen = savedChoice();
  const show = () => {
    const open = chosen !== null ? chosen : !PHONE.matches;
    card.dataset.open = String(open);
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Hide charts" : "Show charts";
  };
  toggle.addEventListener("click", () => {
    chosen = card.dataset.open !== "true";
    try { window.localStorage.setItem(CHARTS_KEY, chosen ? "open" : "closed"); } catch (_) { /* not kept */ }
    show();
  });
  PHONE.addEventListener("change", show);
  asTables.addEventListener("click", () => {
    const tables = $("charts").classList.toggle("is-tables");
    asTables.textContent = tables ? "Show as charts" : "Show as tables";
    // Shown, a table that scrolls is reachable by keyboard; hidden, it is no stop at all.
    document.querySelectorAll("#charts .app-chart-data").forEach((wrap) => {
      if (tables) wrap.tabIndex = 0;
      else wrap.removeAttribute("tabindex");
    });
  });
  show();
  card.querySelector(".app-chart-tools").hidden = false;
}

export function initCharts(Chart) {
  if (typeof Chart !== "function") {
    $("charts-note").hidden = false;
    $("charts").hidden = true;
    return;
  }
  const make = (id, config) => new Chart($("chart-" + id).getContext("2d"), config);
  try {
    charts.timeline = make("timeline", {
      type: "bar",
      data: { labels: [], datasets: [
        { label: "Played", data: [], backgroundColor: PALETTE[0], borderWidth: 0 },
        { label: "Skipped", data: [], backgroundColor: PALETTE[3], borderWidth: 0 },
      ] },
      options: Object.assign(barOptions(false, { stacked: true, legend: true }), {
        datasets: { bar: { barPercentage: 1, categoryPercentage: 0.8 } },
      }),
    });
    charts.genre = make("genre", barChart(PALETTE));
    charts.platform = make("platform", doughnutChart());
    charts.mood = make("mood", barChart(PALETTE[6]));
    charts.country = make("country", barChart(PALETTE[4]));
    charts.artist = make("artist", barChart(PALETTE[1]));
    charts.track = make("track", barChart(PALETTE[0]));
    charts.skip = make("skip", barChart(PALETTE[3], { max: 100, suffix: "%", what: "skipped", dataset: "Skip rate" }));
    charts.rating = make("rating", barChart(PALETTE[2], { max: 5, decimals: 1, what: "of 5", dataset: "Average rating" }));
    charts.ok = true;
    CHART_IDS.forEach(addDataTable);
    initChartTools();
    themeCharts();
  } catch (err) {
    charts.ok = false;
    $("charts-note").hidden = false;
    $("charts").hidden = true;
    return;
  }
  // Whatever arrived before the library did.
  if (state.facets) updateFacetCharts(state.facets);
  updateSampleCharts(state.sample);
  loadTimeline(true);
}

export function themeCharts() {
  if (!charts.ok) return;
  const textColor = cssVar("--app-muted") || "#5f5e74";
  const grid = cssVar("--app-grid") || "rgba(0,0,0,0.08)";
  const surface = cssVar("--app-surface") || "#fff";
  CHART_IDS.forEach((id) => {
    const chart = charts[id];
    const o = chart.options;
    if (o.plugins && o.plugins.legend) o.plugins.legend.labels.color = textColor;
    if (chart.config.type === "doughnut") {
      chart.data.datasets[0].borderColor = surface;
    } else {
      ["x", "y"].forEach((axis) => {
        o.scales[axis].ticks.color = textColor;
        o.scales[axis].grid = { color: grid, borderColor: grid };
      });
    }
    chart.update("none");
  });
}

function setChartData(chart, labels, series) {
  const figure = chart.canvas.closest("figure");
  const empty = labels.length === 0 ? "true" : "false";
  if (figure && figure.dataset.empty !== empty) figure.dataset.empty = empty;
  const same = chart.data.labels.length === labels.length && chart.data.labels.every((l, i) => l === labels[i]) &&
    series.every((data, i) => {
      const old = chart.data.datasets[i].data;
      return old.length === data.length && old.every((v, j) => v === data[j]);
    });
  if (same) return;
  chart.data.labels = labels;
  series.forEach((data, i) => { chart.data.datasets[i].data = data; });
  redrawSoon(chart);
}

// Charts are redrawn one per animation frame: a facets answer changes five at once, and drawing
// them (and their tables) in one go was a long task that made frames late at high rates. A chart
// waiting for its turn is drawn once, with its newest data.
const redrawQueue = new Set();

function redrawSoon(chart) {
  redrawQueue.add(chart);
  if (redrawQueue.size === 1) requestAnimationFrame(redrawNext);
}

function redrawNext() {
  const chart = redrawQueue.values().next().value;
  if (!chart) return;
  redrawQueue.delete(chart);
  chart.update("none");
  fillDataTable(chart);
  if (redrawQueue.size) requestAnimationFrame(redrawNext);
}

function topEntries(entries, n) {
  return (Array.isArray(entries) ? entries : [])
    .filter((e) => e && e.value != null && e.value !== "")
    .map((e) => [String(e.value), Number(e.count) || 0])
    .filter((e) => e[1] > 0)
    .sort((a, b) => (b[1] - a[1]) || a[0].localeCompare(b[0]))
    .slice(0, n);
}

// Facets are counted without their own filter (so the picker can offer the other values); a
// chart follows the filters, so it keeps only the chosen values.
function onlyChosen(key, entries) {
  const list = Array.isArray(entries) ? entries : [];
  const filters = state.filters;
  const chosen = key === "artist" ? (filters.artist ? [filters.artist] : []) : (filters[key] || []);
  if (!chosen.length) return list;
  const needles = chosen.map((v) => v.toLowerCase());
  const substring = key === "country" || key === "artist";
  return list.filter((e) => {
    const v = String(e && e.value).toLowerCase();
    return needles.some((n) => (substring ? v.includes(n) : v === n));
  });
}

// A donut's slices: the largest ones, and the rest as one when there are more than it shows.
function slices(entries, n) {
  if (entries.length <= n) return entries;
  const rest = entries.slice(n - 1);
  return entries.slice(0, n - 1).concat([["Others (" + rest.length + ")", rest.reduce((sum, e) => sum + e[1], 0)]]);
}

export function updateFacetCharts(facets) {
  if (!charts.ok) return;
  [["genre", 10], ["platform", Infinity], ["mood", 10], ["country", 10], ["artist", 10]].forEach(([key, n]) => {
    let top = topEntries(onlyChosen(key, facets[key]), n);
    if (charts[key].config.type === "doughnut") top = slices(top, DONUT_SLICES);
    setChartData(charts[key], top.map((e) => e[0]), [top.map((e) => e[1])]);
  });
}

// Top tracks and the per-platform figures, from the sample of the latest matching listens.
export function updateSampleCharts(sample) {
  if (!charts.ok) return;
  const tracks = new Map();
  const platforms = new Map();
  sample.forEach((ev) => {
    const track = text(ev.title) + " — " + text(ev.artist);
    tracks.set(track, (tracks.get(track) || 0) + 1);
    const p = text(ev.platform);
    const s = platforms.get(p) || { n: 0, skipped: 0, rating: 0 };
    s.n += 1;
    if (ev.skipped === true) s.skipped += 1;
    s.rating += Number(ev.rating) || 0;
    platforms.set(p, s);
  });
  const top = Array.from(tracks.entries()).sort((a, b) => (b[1] - a[1]) || a[0].localeCompare(b[0])).slice(0, 10);
  setChartData(charts.track, top.map((e) => e[0]), [top.map((e) => e[1])]);
  const byPlatform = Array.from(platforms.entries()).sort((a, b) => (b[1].n - a[1].n) || a[0].localeCompare(b[0]));
  const labels = byPlatform.map((e) => e[0]);
  setChartData(charts.skip, labels, [byPlatform.map(([, s]) => Math.round((1000 * s.skipped) / s.n) / 10)]);
  setChartData(charts.rating, labels, [byPlatform.map(([, s]) => Math.round((100 * s.rating) / s.n) / 100)]);
}

// What the timeline shows for these filters: the chosen time range (the last 2 minutes
// without one), in buckets that keep the bar count readable.
function timelineSpec(filters, now) {
  const range = timeRange(filters, now);
  const end = range.until !== null ? Math.min(range.until, now) : now;
  let since = range.since !== null ? range.since : end - TIMELINE_DEFAULT_MS;
  const bucket = BUCKETS.find((b) => end - since <= b.upTo);
  since = Math.max(since, end - TIMELINE_MAX_BARS * bucket.ms);
  const long = end - since > LONG_SPAN_MS;
  let spanLabel = "(last 2 min)";
  if (filters.last) spanLabel = "(" + LAST_LABELS[filters.last] + ")";
  else if (range.since !== null || range.until !== null) {
    const fmt = long ? dayMinuteFmt : timeFmt;
    spanLabel = "(" + fmt.format(new Date(since)) + " – " + (range.until !== null && range.until < now ? fmt.format(new Date(end)) : "now") + ")";
  }
  let labelFmt = timeFmt;
  if (bucket.ms >= 24 * HOUR_MS) labelFmt = dayFmt;
  else if (bucket.ms >= HOUR_MS || (bucket.ms >= 60000 && long)) labelFmt = dayMinuteFmt;
  else if (bucket.ms >= 60000) labelFmt = minuteFmt;
  return { since, end, bucket, spanLabel, labelFmt, empty: end <= since };
}

function timelineGap(spec) {
  if (spec.bucket.ms < 60000) return TIMELINE_MIN_GAP_MS;
  return charts.timelineSource === "history" ? TIMELINE_HISTORY_GAP_MS : TIMELINE_MINUTES_GAP_MS;
}

export async function loadTimeline(force) {
  if (!charts.ok || state.invalid) return;
  if (charts.timelineBusy) {
    if (force) charts.timelineAgain = true;
    return;
  }
  const gen = state.generation;
  const filters = state.filters;
  const spec = timelineSpec(filters, Date.now());
  // Throttle: the interval and filter changes can both ask.
  if (!force && Date.now() - charts.timelineLastRun < timelineGap(spec)) return;
  charts.timelineBusy = true;
  charts.timelineLastRun = Date.now();
  try {
    const ms = spec.bucket.ms;
    const first = spec.since - (spec.since % ms);
    let points = [];
    if (!spec.empty) {
      // The range's own start, not the first bar's: the bars count exactly the listens the table
      // and the figures do (the server puts each in the bucket it starts in).
      const data = await getJSON("/api/timeline" + apiQuery(filters, { bucket: spec.bucket.name, since: String(spec.since) }));
      if (gen !== state.generation || !data || !Array.isArray(data.points)) return;
      points = data.points;
      charts.timelineSource = data.source === "history" ? "history" : "window";
      noteSource("timeline", charts.timelineSource);
    }
    // The API lists buckets from the first to the last matching event; the chart shows the
    // whole range, so quiet stretches at either end read as zero.
    const byStart = new Map(points.map((p) => [Number(p.t), p]));
    const labels = [];
    const played = [];
    const skipped = [];
    const fmt = spec.labelFmt;
    for (let t = first; t < spec.end && !spec.empty; t += ms) {
      const p = byStart.get(t);
      const count = p ? Number(p.count) || 0 : 0;
      const skip = p ? Number(p.skipped) || 0 : 0;
      labels.push(fmt.format(new Date(t)));
      played.push(Math.max(0, count - skip));
      skipped.push(skip);
    }
    $("chart-timeline-label").textContent = spec.bucket.label;
    $("chart-timeline-span").textContent = spec.spanLabel;
    setChartData(charts.timeline, labels, [played, skipped]);
  } catch (_) {
    // Connection problems are shown by the badge; the chart just keeps its last data.
  } finally {
    charts.timelineBusy = false;
    if (charts.timelineAgain) {
      charts.timelineAgain = false;
      loadTimeline(true);
    }
  }
}
