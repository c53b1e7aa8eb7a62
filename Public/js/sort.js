// Table order: the sort in the URL (sort_by, sort_order), the column headers that change it, and
// where a live event goes among the rows shown, compared the way the server orders them.
import { state } from "./state.js";
import { $ } from "./dom.js";
import { percentListened } from "./format.js";

const SORT_FIELDS = ["timestamp", "username", "title", "artist", "genre", "platform", "city", "country",
  "mood", "duration", "listen_position", "percent_listened", "rating"];
const NUMERIC_SORTS = new Set(["timestamp", "duration", "listen_position", "percent_listened", "rating"]);
const SORT_LABELS = {
  timestamp: "time", username: "user", title: "track", artist: "artist", genre: "genre", platform: "platform",
  city: "city", country: "country", mood: "mood", duration: "duration", listen_position: "position",
  percent_listened: "% listened", rating: "rating",
};

function isDefaultSort(sort) {
  return sort.by === "timestamp" && sort.order === "desc";
}

export function sortFromURL() {
  const params = new URLSearchParams(window.location.search);
  const by = params.get("sort_by");
  const order = params.get("sort_order");
  return {
    by: SORT_FIELDS.includes(by) ? by : "timestamp",
    order: order === "asc" || order === "desc" ? order : "desc",
  };
}

// The sort as query parameters (none for the default order).
export function sortParams(sort) {
  return isDefaultSort(sort) ? {} : { sort_by: sort.by, sort_order: sort.order };
}

function sortKey(ev, by) {
  if (by === "percent_listened") {
    const p = percentListened(ev);
    return p === null ? 0 : p;
  }
  const v = ev[by];
  if (NUMERIC_SORTS.has(by)) return Number(v) || 0;
  return v == null ? "" : String(v);
}

// The server orders text case-insensitively, then by the exact bytes.
function compareKeys(a, b) {
  if (typeof a === "number") return a < b ? -1 : (a > b ? 1 : 0);
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : (a > b ? 1 : 0);
}

// Where a newly arrived event goes among `rows` (the table's model, in display order): its index,
// or -1 past the end of a table that already holds `cap` rows. The server breaks ties by arrival
// (the newest comes first when descending, last when ascending). Also in the default order (time,
// newest first) an event can belong lower down: events replayed after a reconnect can be older
// than the rows shown.
export function insertionIndex(ev, rows, cap) {
  const by = state.sort.by;
  const desc = state.sort.order === "desc";
  const key = sortKey(ev, by);
  // The usual case, a new listen in the default order: it goes on top.
  if (desc && (!rows.length || compareKeys(key, sortKey(rows[0], by)) >= 0)) return 0;
  for (let i = 0; i < rows.length; i += 1) {
    const c = compareKeys(key, sortKey(rows[i], by));
    if (desc ? c >= 0 : c < 0) return i;
  }
  return rows.length < cap ? rows.length : -1;
}

// The headers' aria-sort and highlight, and the note saying what the table is sorted by.
export function renderSortHeaders() {
  document.querySelectorAll("th[data-sort]").forEach((th) => {
    const active = th.dataset.sort === state.sort.by;
    th.setAttribute("aria-sort", active ? (state.sort.order === "asc" ? "ascending" : "descending") : "none");
    th.classList.toggle("is-sorted", active);
  });
  // The store pages by time only (another sort_by is a 400 there): over the history the other
  // headers stay focusable but say why they do nothing (#sort-history-note) instead of sorting.
  const history = state.tableSource === "history";
  document.querySelectorAll("th[data-sort] > .app-sort").forEach((btn) => {
    const off = history && btn.parentElement.dataset.sort !== "timestamp";
    if (off) {
      btn.setAttribute("aria-disabled", "true");
      btn.setAttribute("aria-describedby", "sort-history-note");
    } else if (btn.hasAttribute("aria-disabled")) {
      btn.removeAttribute("aria-disabled");
      btn.removeAttribute("aria-describedby");
    }
  });
  $("sort-history-note").hidden = !history;
  const note = $("sort-note");
  if (isDefaultSort(state.sort)) {
    note.hidden = true;
    note.textContent = "";
  } else {
    note.hidden = false;
    note.textContent = "Sorted by " + SORT_LABELS[state.sort.by] + " (" +
      (state.sort.order === "asc" ? "ascending" : "descending") + "); new listens are placed in order.";
  }
}

// A click on a column header: that column, or the other direction when it is already the one.
// Returns false for a column the table cannot be sorted by; the caller reloads otherwise.
export function sortBy(field) {
  if (!SORT_FIELDS.includes(field)) return false;
  if (state.tableSource === "history" && field !== "timestamp") return false;
  if (state.sort.by === field) {
    state.sort = { by: field, order: state.sort.order === "desc" ? "asc" : "desc" };
  } else {
    // Text columns start A→Z, numbers (and time) start with the largest.
    state.sort = { by: field, order: NUMERIC_SORTS.has(field) ? "desc" : "asc" };
  }
  renderSortHeaders();
  return true;
}

// The server refused this sort for a range answered from the history: back to time order,
// newest first, so the table can load; the headers then explain. False when it was time already.
export function fallBackToTimeSort() {
  if (state.sort.by === "timestamp") return false;
  state.sort = { by: "timestamp", order: "desc" };
  renderSortHeaders();
  return true;
}
