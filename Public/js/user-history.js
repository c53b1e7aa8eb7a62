// A listener's history: a modal drawer (a native <dialog>, like the listen's detail) with the
// user's figures (GET /api/users/{id}) and their stored listens newest first
// (GET /api/users/{id}/listens), 50 at a time, "Load more" following the answer's `next`. It is
// opened from a username in the table (a button per row, found by delegation on #rows) or from the
// detail drawer. The history store keeps listens long after the window dropped them, so this is
// read once when opened and never follows the stream. Data reaches the DOM only as text.
import { $, rowsEl } from "./dom.js";
import { numberFmt, stampFullFmt, dayStamp, zoneName, text } from "./format.js";
import { getJSON } from "./api.js";
import { ratingCell, yesNo } from "./rows.js";

const PAGE = 50;
const TOP = 5;

let dialog = null;
// The listener shown, the page cursor, how many rows are listed, and where focus goes back.
let current = null;
// Bumped on every opening and closing, so an answer for an earlier opening is dropped.
let openCount = 0;
let aborter = null;

function el(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content != null) node.textContent = content;
  return node;
}

function problemText(err) {
  const p = err && err.problem;
  const detail = p && typeof p === "object" && p.detail ? String(p.detail) : "";
  return detail || (err && err.status ? "The server answered " + err.status + "." : "The server could not be reached.");
}

// ---------- opening and closing ----------

// Opens the drawer for this listener. `opener` gets focus back on closing; `eventId` names the
// row it sat in, for when the table has replaced that row meanwhile.
export function openUserHistory(userId, username, opener, eventId) {
  if (!dialog || userId == null || String(userId) === "") return;
  if (aborter) aborter.abort();
  aborter = new AbortController();
  const token = ++openCount;
  current = {
    userId: String(userId), username: username == null ? "" : String(username),
    next: null, listed: 0, total: null, opener: opener || null, eventId: eventId || null,
  };
  $("history-subtitle").textContent = (current.username ? current.username + " · " : "") + "user " + current.userId;
  $("history-figures").textContent = "";
  $("history-rows").textContent = "";
  $("history-summary").hidden = true;
  $("history-listens").hidden = true;
  $("history-more").hidden = true;
  setProblem(null);
  setStatus("Loading this listener's stored listens…");
  if (!dialog.open) dialog.showModal();
  $("history-close").focus();
  load(token, aborter.signal);
}

// Focus goes back to what opened the drawer; when that was a row the table has since replaced,
// to the same listen's username; when the listen left the table, to the table's heading. (Opened
// from the detail drawer, that drawer is still open underneath and its button is still there.)
function restoreFocus(from) {
  if (!from) return;
  if (from.opener && from.opener.isConnected) {
    from.opener.focus();
    return;
  }
  const row = from.eventId ? Array.from(rowsEl.rows).find((tr) => tr.dataset.eventId === from.eventId) : null;
  const button = row ? row.querySelector(".app-user-link") : null;
  if (button) button.focus();
  else $("events-heading").focus();
}

// ---------- loading ----------

function setStatus(message) {
  const status = $("history-status");
  if (status.textContent !== message) status.textContent = message;
}

// A failure: the main message, and the server's own words (problem+json `detail`) under it.
function setProblem(message, detail, retry) {
  const problem = $("history-problem");
  problem.textContent = "";
  problem.hidden = !message;
  if (message) {
    problem.appendChild(el("strong", null, message));
    if (detail) problem.append(" ", el("span", "app-history-detail", detail));
  }
  $("history-retry").hidden = !retry;
}

function listensURL(userId, cursor) {
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (cursor) params.set("cursor", cursor);
  return "/api/users/" + encodeURIComponent(userId) + "/listens?" + params.toString();
}

// The figures and the first page, asked for together; either may fail on its own.
async function load(token, signal) {
  const userId = current.userId;
  const summary = getJSON("/api/users/" + encodeURIComponent(userId) + "?top=" + TOP, signal);
  const page = getJSON(listensURL(userId, null), signal);
  const [s, p] = await Promise.allSettled([summary, page]);
  if (token !== openCount) return;
  setStatus("");
  const failed = [s, p].filter((r) => r.status === "rejected").map((r) => r.reason);
  if (failed.some((err) => err && err.name === "AbortError")) return;
  if (failed.length && failed.every((err) => err && err.status === 404)) {
    // The store has no listen of this user (yet: the sink writes a moment after Kafka), or the
    // server keeps no history at all; the server's detail says which.
    setProblem("No stored listens for this listener yet.", problemText(failed[0]), false);
    return;
  }
  if (s.status === "fulfilled") renderSummary(s.value);
  if (p.status === "fulfilled") renderPage(p.value, false);
  if (failed.length) {
    setProblem(p.status === "rejected" ? "Could not load this listener's listens." : "Could not load this listener's figures.",
      problemText(failed[0]), true);
  }
}

// Not `disabled` while loading: a disabled button drops the keyboard's focus to the page.
let loadingMore = false;

async function loadMore() {
  if (!current || !current.next || loadingMore) return;
  loadingMore = true;
  const token = openCount;
  const button = $("history-more");
  button.setAttribute("aria-disabled", "true");
  setStatus("Loading more listens…");
  setProblem(null);
  try {
    const page = await getJSON(listensURL(current.userId, current.next), aborter.signal);
    if (token !== openCount) return;
    setStatus("");
    const hadFocus = document.activeElement === button;
    renderPage(page, true);
    // The button goes away after the last page: focus moves to the count that says so.
    if (hadFocus && button.hidden) $("history-count").focus();
  } catch (err) {
    if (token !== openCount || (err && err.name === "AbortError")) return;
    setStatus("");
    setProblem("Could not load more listens.", problemText(err), false);
  } finally {
    loadingMore = false;
    button.removeAttribute("aria-disabled");
  }
}

// ---------- the figures ----------

function timeValue(ms) {
  const n = Number(ms);
  if (ms == null || !Number.isFinite(n)) return el("span", "app-muted", "—");
  const d = new Date(n);
  const node = el("time", null, stampFullFmt.format(d));
  node.dateTime = d.toISOString();
  return node;
}

function topList(entries) {
  const list = Array.isArray(entries) ? entries.filter((e) => e && e.value != null) : [];
  if (!list.length) return el("span", "app-muted", "—");
  const ol = el("ol", "app-history-top");
  list.forEach((e) => {
    const li = el("li");
    li.append(el("span", "app-history-top-value", String(e.value)), " ",
      el("span", "app-history-top-count", "(" + numberFmt.format(Number(e.count) || 0) + ")"));
    ol.appendChild(li);
  });
  return ol;
}

function renderSummary(s) {
  if (!s || typeof s !== "object") return;
  const listens = Number(s.listens);
  const skip = s.skip_rate == null ? null : Number(s.skip_rate);
  const rating = s.average_rating == null ? null : Number(s.average_rating);
  const figures = [
    ["Listens", Number.isFinite(listens) ? numberFmt.format(listens) : "—"],
    ["First seen", timeValue(s.first_seen)],
    ["Last seen", timeValue(s.last_seen)],
    ["Skip rate", skip != null && Number.isFinite(skip) ? (skip * 100).toFixed(1) + "%" : "—"],
    ["Average rating", rating != null && Number.isFinite(rating) ? rating.toFixed(2) + " of 5" : "—"],
    ["Top artists", topList(s.top_artists)],
    ["Top genres", topList(s.top_genres)],
    ["Top platforms", topList(s.top_platforms)],
  ];
  const list = $("history-figures");
  list.textContent = "";
  figures.forEach(([label, value]) => {
    const dd = el("dd");
    dd.dataset.figure = label;
    if (value instanceof Node) dd.appendChild(value);
    else dd.textContent = value;
    list.append(el("dt", null, label), dd);
  });
  $("history-summary").hidden = false;
  if (current && Number.isFinite(listens)) {
    current.total = listens;
    renderCount();
  }
  if (current && !current.username && s.username) {
    current.username = String(s.username);
    $("history-subtitle").textContent = current.username + " · user " + current.userId;
  }
}

// ---------- the listens ----------

function cell(content, className) {
  const td = el("td", className);
  if (content instanceof Node) td.appendChild(content);
  else {
    td.textContent = text(content);
    td.title = text(content);
  }
  return td;
}

function listenRow(ev) {
  const tr = el("tr");
  if (ev.event_id != null) tr.dataset.eventId = String(ev.event_id);
  const t = Number(ev.timestamp);
  let time = el("span", "app-muted", "—");
  if (Number.isFinite(t) && t > 0) {
    const d = new Date(t);
    time = el("time", null, dayStamp(d));
    time.dateTime = d.toISOString();
    time.title = stampFullFmt.format(d);
  }
  tr.append(
    cell(time, "app-time"),
    cell(ev.title, "app-title"),
    cell(ev.artist),
    cell(ev.platform),
    cell(yesNo(ev.skipped, "app-flag-warn")),
    cell(ratingCell(ev.rating)),
  );
  return tr;
}

function renderCount() {
  if (!current) return;
  const n = current.listed;
  let message;
  if (n === 0) message = "No stored listens.";
  else if (!current.next) message = "All " + numberFmt.format(n) + (n === 1 ? " listen" : " listens") + " shown.";
  else if (current.total != null) message = "Showing " + numberFmt.format(n) + " of " + numberFmt.format(current.total) + " listens.";
  else message = "Showing the latest " + numberFmt.format(n) + " listens.";
  $("history-count").textContent = message;
}

function renderPage(page, append) {
  if (!current) return;
  const listens = page && Array.isArray(page.listens) ? page.listens : [];
  const rows = $("history-rows");
  if (!append) rows.textContent = "";
  const frag = document.createDocumentFragment();
  listens.forEach((ev) => { if (ev && typeof ev === "object") frag.appendChild(listenRow(ev)); });
  rows.appendChild(frag);
  current.listed = rows.rows.length;
  current.next = page && typeof page.next === "string" && page.next ? page.next : null;
  const first = listens.find((ev) => ev && Number.isFinite(Number(ev.timestamp)));
  if (first) $("history-zone").textContent = "(" + zoneName(new Date(Number(first.timestamp))) + ")";
  $("history-more").hidden = !current.next;
  $("history-listens").hidden = false;
  renderCount();
}

// ---------- wiring ----------

// Whether a click on the table landed on a username (detail.js leaves those to this module).
export function isUserButton(target) {
  return target instanceof Element && !!target.closest("#rows .app-user-link");
}

function onRowsClick(e) {
  if (!isUserButton(e.target)) return;
  const button = e.target.closest(".app-user-link");
  const tr = button.closest("tr");
  openUserHistory(button.dataset.userId, button.textContent, button, tr ? tr.dataset.eventId : null);
}

export function initUserHistory() {
  dialog = $("history");
  rowsEl.addEventListener("click", onRowsClick);
  $("history-close").addEventListener("click", () => dialog.close());
  $("history-more").addEventListener("click", loadMore);
  $("history-retry").addEventListener("click", () => {
    if (current) openUserHistory(current.userId, current.username, current.opener, current.eventId);
  });
  // A click on the backdrop lands on the dialog element itself.
  dialog.addEventListener("click", (e) => { if (e.target === dialog) dialog.close(); });
  dialog.addEventListener("close", () => {
    if (dialog.open) return;   // reopened before this (queued) event ran
    openCount += 1;            // drop what is still loading
    if (aborter) aborter.abort();
    const from = current;
    current = null;
    restoreFocus(from);
  });
}
