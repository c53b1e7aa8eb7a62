// "Export what is shown": the table's rows, in table order, as a CSV or JSON download. Built
// from the events behind the rows (state.events by each row's event id), so the file holds the
// full events, not the cells' display text. The download is a Blob behind an object URL clicked
// through an <a download>: a navigation, which the page's CSP (default-src 'self') does not limit.
//
// "Download all matching": every listen the history store holds that matches the applied
// filters, GET /api/export as a plain <a download href>, so the browser streams it to disk and
// the page never holds it. Before it goes, a HEAD of the same URL checks that the server will
// serve it (403 with --no-export, 404 without a history, 400 for a filter it refuses): an error
// would otherwise be saved as the "export".
import { state } from "./state.js";
import { $, rowsEl } from "./dom.js";
import { numberFmt } from "./format.js";
import { failure } from "./api.js";
import { apiQuery } from "./filters.js";

const DOWNLOADS = [
  { id: "download-csv", format: "csv", label: "CSV" },
  { id: "download-ndjson", format: "ndjson", label: "NDJSON" },
];

// The event's fields in the API's order; keys an event has beyond these follow, then a
// readable copy of the timestamp for spreadsheets.
const EVENT_FIELDS = [
  "event_id", "user_id", "username", "email", "track_id", "title", "artist", "genre", "platform",
  "mood", "city", "country", "duration", "listen_position", "completed", "skipped", "rating", "timestamp",
];
const UTC_COLUMN = "timestamp_utc";

// The events behind the rows on screen, top to bottom.
export function shownEvents() {
  const events = state.events && typeof state.events.get === "function" ? state.events : new Map();
  return Array.from(rowsEl.rows, (tr) => events.get(tr.dataset.eventId)).filter((ev) => ev && typeof ev === "object");
}

// A cell a spreadsheet would read as a formula (= + - @, or a tab or carriage return that some
// strip before looking) gets a leading apostrophe, so it stays text (OWASP's CSV injection advice).
function neutralised(text) {
  return /^[=+\-@\t\r]/.test(text) ? "'" + text : text;
}

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
function csvField(value) {
  let text;
  if (value === null || value === undefined) text = "";
  else if (typeof value === "object") text = neutralised(JSON.stringify(value));
  else if (typeof value === "string") text = neutralised(value);
  else text = String(value);
  return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

function utcText(ms) {
  const d = new Date(Number(ms));
  return Number.isFinite(Number(ms)) && !Number.isNaN(d.getTime()) ? d.toISOString() : "";
}

export function toCSV(events) {
  const columns = EVENT_FIELDS.slice();
  events.forEach((ev) => Object.keys(ev).forEach((k) => { if (!columns.includes(k)) columns.push(k); }));
  const lines = [columns.concat([UTC_COLUMN]).map(csvField).join(",")];
  events.forEach((ev) => {
    lines.push(columns.map((k) => csvField(ev[k])).concat([csvField(utcText(ev.timestamp))]).join(","));
  });
  return lines.join("\r\n") + "\r\n";
}

export function toJSON(events) {
  return JSON.stringify(events, null, 2) + "\n";
}

function pad2(n) {
  return String(n).padStart(2, "0");
}

// musicstream-listens-20261204-180705Z.csv: sortable, no characters a file system refuses.
function fileName(extension) {
  const d = new Date();
  return "musicstream-listens-" + d.getUTCFullYear() + pad2(d.getUTCMonth() + 1) + pad2(d.getUTCDate()) + "-" +
    pad2(d.getUTCHours()) + pad2(d.getUTCMinutes()) + pad2(d.getUTCSeconds()) + "Z." + extension;
}

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // The download has its own reference by then; a minute is ample for a slow disk.
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function exportAs(format) {
  const events = shownEvents();
  if (!events.length) {
    setStatus("No rows to export.", false);
    return;
  }
  if (format === "csv") download(fileName("csv"), "text/csv;charset=utf-8", toCSV(events));
  else download(fileName("json"), "application/json", toJSON(events));
  const n = events.length;
  setStatus("Exported " + numberFmt.format(n) + (n === 1 ? " row" : " rows") + " as " + format.toUpperCase() + ".", false);
}

// ---------- "Download all matching" ----------

// The export's URL for the filters the table shows now (a rolling range is taken from now).
function exportURL(format) {
  return "/api/export" + apiQuery(state.filters, { format });
}

// Kept in line with the filters on every applied change (refresh.js), so the links can be
// copied or opened elsewhere too; a click takes a fresh URL anyway.
export function updateDownloadLinks() {
  DOWNLOADS.forEach(({ id, format }) => {
    const link = $(id);
    const url = exportURL(format);
    if (link.getAttribute("href") !== url) link.setAttribute("href", url);
  });
}

function setStatus(message, failed) {
  const status = $("export-status");
  status.textContent = message;
  if (failed) status.dataset.state = "error";
  else delete status.dataset.state;
}

// HEAD has no body to say why: the refusal is asked for again with GET (a problem+json a few
// hundred bytes long). Should that one be a 200 after all, it is cut off at the headers.
async function refusal(url, res) {
  const ctrl = new AbortController();
  try {
    const again = await fetch(url, { headers: { Accept: "application/problem+json, application/json" }, cache: "no-store", signal: ctrl.signal });
    if (again.ok) {
      ctrl.abort();
      return "HTTP " + res.status;
    }
    const err = await failure(again);
    return err.message + " (HTTP " + again.status + ")";
  } catch (_) {
    return "HTTP " + res.status;
  }
}

// The one click a check has approved: it is let through to the browser's own download.
let approved = null;
let checking = false;

async function onDownload(e) {
  const link = e.currentTarget;
  const spec = DOWNLOADS.find((d) => d.id === link.id);
  const url = exportURL(spec.format);
  link.setAttribute("href", url);
  if (approved === link) {
    approved = null;
    return;
  }
  e.preventDefault();
  if (checking) return;
  checking = true;
  link.setAttribute("aria-busy", "true");
  setStatus("Checking that the server can export…", false);
  try {
    let res;
    try {
      res = await fetch(url, { method: "HEAD", cache: "no-store" });
    } catch (_) {
      setStatus("Download not started: the server could not be reached.", true);
      return;
    }
    if (res.status === 200) {
      setStatus("Downloading every stored listen that matches the filters as " + spec.label +
        "; your browser shows its progress.", false);
      approved = link;
      link.click();
      approved = null;
      return;
    }
    setStatus("Download refused: " + await refusal(url, res), true);
  } finally {
    checking = false;
    link.removeAttribute("aria-busy");
  }
}

export function initExport() {
  $("export-csv").addEventListener("click", () => exportAs("csv"));
  $("export-json").addEventListener("click", () => exportAs("json"));
  DOWNLOADS.forEach(({ id }) => $(id).addEventListener("click", onDownload));
}
