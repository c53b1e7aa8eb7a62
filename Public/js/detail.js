// A listen's detail: a click on a table row, or Enter / Space on a focused one, opens a modal
// drawer (a native <dialog>) with every field of the event, where the server read it in Kafka
// (GET /api/events/{id}), "Copy as JSON", links that narrow the page to this user, artist or
// track, and "History of this listener" (js/user-history.js, opened over this drawer). Rows are
// replaced many times a second at high rates, so the drawer holds its own copy of the event,
// never a reference to a row; rows are found by event id through delegation on #rows.
// Event data reaches the DOM only through textContent and setAttribute.
import { state } from "./state.js";
import { $, rowsEl } from "./dom.js";
import { fmtDuration } from "./format.js";
import { getJSON } from "./api.js";
import { filtersFromForm, pageQuery, setForm } from "./filters.js";
import { applyNow } from "./refresh.js";
import { isUserButton, openUserHistory } from "./user-history.js";

// The drawer's filter links: the page filter each sets and the event field it takes.
const FILTER_LINKS = [
  { id: "detail-only-user", filter: "user_id", field: "user_id" },
  { id: "detail-only-artist", filter: "artist", field: "artist" },
  { id: "detail-only-track", filter: "track_id", field: "track_id" },
];

const localFmt = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", weekday: "short",
  hour: "2-digit", minute: "2-digit", second: "2-digit", fractionalSecondDigits: 3,
  hourCycle: "h23", timeZoneName: "short",
});

let dialog = null;
// What the drawer shows: its own copy of the event, and the row's id to give focus back to.
let current = null;
// Bumped on every opening, so a late answer for an earlier listen is ignored.
let openCount = 0;

function el(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content != null) node.textContent = content;
  return node;
}

function copyOf(ev) {
  return JSON.parse(JSON.stringify(ev));
}

function rowOf(target) {
  const tr = target instanceof Element ? target.closest("tr") : null;
  return tr && tr.parentElement === rowsEl && tr.dataset.eventId ? tr : null;
}

// ---------- opening and closing ----------

function open(tr) {
  const id = tr.dataset.eventId;
  const ev = state.events && typeof state.events.get === "function" ? state.events.get(id) : null;
  current = { id, event: ev ? copyOf(ev) : null };
  const token = ++openCount;
  renderEvent(current.event, id);
  $("detail-copy-status").textContent = "";
  $("detail-json").hidden = true;
  $("detail-json").value = "";
  renderOrigin(null, "Looking up where the server read it…");
  if (!dialog.open) dialog.showModal();
  $("detail-close").focus();
  loadOrigin(id, token);
}

// Focus goes back to the row that was opened, or to its replacement with the same event (rows
// are rebuilt as listens arrive); when the listen has left the table, to the table's heading.
function restoreFocus() {
  if (!current) return;
  const row = Array.from(rowsEl.rows).find((tr) => tr.dataset.eventId === current.id);
  if (row) row.focus();
  else $("events-heading").focus();
}

// ---------- the fields ----------

function valueText(value) {
  if (value === null || value === undefined) return "null";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// One <dd> per field: the value as the JSON has it, plus a reading aid for times and durations.
function fieldValue(key, value) {
  const dd = el("dd");
  dd.appendChild(el("span", "app-detail-value", valueText(value)));
  const n = Number(value);
  if (key === "timestamp" && typeof value === "number" && Number.isFinite(n)) {
    const d = new Date(n);
    if (!Number.isNaN(d.getTime())) {
      const local = el("time", "app-detail-note", localFmt.format(d));
      local.dateTime = d.toISOString();
      const utc = el("span", "app-detail-note app-detail-utc", d.toISOString());
      dd.append(local, utc);
    }
  } else if ((key === "duration" || key === "listen_position") && typeof value === "number") {
    dd.appendChild(el("span", "app-detail-note", fmtDuration(n) + " (m:ss)"));
  }
  return dd;
}

function renderEvent(ev, id) {
  const list = $("detail-fields");
  list.textContent = "";
  $("detail-subtitle").textContent = ev ? String(ev.title) + " — " + String(ev.artist) : "Listen " + id;
  if (!ev) {
    list.appendChild(el("dd", "app-muted", "This listen is no longer in the table; its fields come from the server."));
  } else {
    Object.keys(ev).forEach((key) => {
      const dt = el("dt", null, key);
      list.append(dt, fieldValue(key, ev[key]));
    });
  }
  updateFilterLinks(ev);
  $("detail-copy").disabled = !ev;
  $("detail-history").disabled = !ev || ev.user_id == null || String(ev.user_id) === "";
}

// ---------- where it came from ----------

function renderOrigin(detail, message) {
  const list = $("detail-kafka");
  list.textContent = "";
  $("detail-kafka-status").textContent = message || "";
  if (!detail) return;
  const rows = detail.kafka
    ? [["topic", detail.kafka.topic], ["partition", detail.kafka.partition], ["offset", detail.kafka.offset]]
    : [];
  rows.push(["stream id (window sequence)", detail.sequence]);
  rows.forEach(([label, value]) => {
    const dd = el("dd");
    dd.appendChild(el("span", "app-detail-value", valueText(value)));
    list.append(el("dt", null, label), dd);
  });
}

async function loadOrigin(id, token) {
  try {
    const detail = await getJSON("/api/events/" + encodeURIComponent(id));
    if (token !== openCount) return;
    if (!current.event && detail && detail.event) {
      current.event = copyOf(detail.event);
      renderEvent(current.event, id);
    }
    renderOrigin(detail, detail && detail.kafka ? "" : "The server does not know where this listen was read.");
  } catch (err) {
    if (token !== openCount) return;
    if (err && err.status === 404) {
      renderOrigin(null, "No longer in the server's window: newer listens have replaced it, so its Kafka " +
        "partition and offset are not known here.");
    } else {
      renderOrigin(null, "Could not ask the server where this listen was read" +
        (err && err.status ? " (HTTP " + err.status + ")." : "."));
    }
  }
}

// ---------- copy as JSON ----------

async function copyJSON() {
  if (!current || !current.event) return;
  const text = JSON.stringify(current.event, null, 2);
  const status = $("detail-copy-status");
  try {
    if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard here");
    await navigator.clipboard.writeText(text);
    status.textContent = "Copied";
  } catch (_) {
    // No clipboard access (permission, insecure origin): show the JSON selected, ready to copy.
    const area = $("detail-json");
    area.value = text;
    area.hidden = false;
    area.focus();
    area.select();
    let copied = false;
    try { copied = document.execCommand("copy"); } catch (_) { copied = false; }
    status.textContent = copied ? "Copied" : "Press Ctrl+C (⌘C on a Mac) to copy the selected JSON";
  }
}

// ---------- "Only this ..." ----------

function filtersWith(filter, value) {
  const filters = filtersFromForm();
  filters[filter] = value;
  return filters;
}

function updateFilterLinks(ev) {
  FILTER_LINKS.forEach(({ id, filter, field }) => {
    const link = $(id);
    const value = ev && ev[field] != null ? String(ev[field]) : "";
    if (value) {
      link.setAttribute("href", window.location.pathname + pageQuery(filtersWith(filter, value)));
      link.removeAttribute("aria-disabled");
      link.title = field + " = " + value;
    } else {
      link.removeAttribute("href");
      link.setAttribute("aria-disabled", "true");
      link.removeAttribute("title");
    }
  });
}

function onFilterLink(e) {
  const link = e.currentTarget;
  // A modified click opens the link elsewhere, as links do.
  if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  if (!current || !current.event || !link.hasAttribute("href")) return;
  const spec = FILTER_LINKS.find((l) => l.id === link.id);
  const value = String(current.event[spec.field]);
  setForm(filtersWith(spec.filter, value));
  current = null;   // its row is about to be replaced: focus goes to the table's heading
  dialog.close();
  applyNow();
  $("events-heading").focus();
}

// ---------- wiring ----------

function onRowsKey(e) {
  const tr = rowOf(e.target);
  if (!tr || e.target !== tr) return;
  if (e.key === "Enter" || e.key === " ") {
    e.preventDefault();
    open(tr);
  } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    const next = e.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling;
    if (next) {
      e.preventDefault();
      next.focus();
    }
  }
}

function onRowsClick(e) {
  const tr = rowOf(e.target);
  if (!tr || isUserButton(e.target)) return;   // a username opens the listener's history instead
  // Selecting text in a row (to copy a value) is not a request to open it.
  const selection = window.getSelection();
  if (selection && !selection.isCollapsed && tr.contains(selection.anchorNode)) return;
  open(tr);
}

export function initDetail() {
  dialog = $("detail");
  rowsEl.addEventListener("click", onRowsClick);
  rowsEl.addEventListener("keydown", onRowsKey);
  $("detail-close").addEventListener("click", () => dialog.close());
  // A click on the backdrop lands on the dialog element itself.
  dialog.addEventListener("click", (e) => { if (e.target === dialog) dialog.close(); });
  dialog.addEventListener("close", () => {
    if (dialog.open) return;   // reopened before this (queued) event ran
    openCount += 1;   // drop the lookup still under way
    restoreFocus();
    current = null;
  });
  $("detail-copy").addEventListener("click", copyJSON);
  // The history opens over this drawer; closing it comes back here, to this button.
  $("detail-history").addEventListener("click", (e) => {
    if (current && current.event) openUserHistory(current.event.user_id, current.event.username, e.currentTarget, null);
  });
  FILTER_LINKS.forEach(({ id }) => $(id).addEventListener("click", onFilterLink));
}
