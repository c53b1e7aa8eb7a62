// How one listen event becomes a table row: its cells (time, chips, stars, the listened bar),
// built with textContent only, so event data is never parsed as HTML.
import { span } from "./dom.js";
import { stampFmt, stampFullFmt, millis, zoneName, fmtDuration, percentListened, text, slug } from "./format.js";

const PLATFORM_CLASSES = {
  spotify: "spotify", applemusic: "apple", youtubemusic: "youtube", youtube: "youtube",
  deezer: "deezer", soundcloud: "soundcloud", tidal: "tidal", amazonmusic: "amazon", pandora: "pandora",
};

function td(child, className) {
  const cell = document.createElement("td");
  if (className) cell.className = className;
  if (child instanceof Node) cell.appendChild(child);
  else {
    cell.appendChild(document.createTextNode(text(child)));
    cell.title = text(child); // the whole text when the cell cuts it off
  }
  return cell;
}

export function yesNo(value, yesClass) {
  if (value === true) return span("app-flag app-flag-yes " + (yesClass || ""), "Yes");
  if (value === false) return span("app-flag app-flag-no", "No");
  return span("app-muted", "—");
}

export function ratingCell(rating) {
  const r = Number(rating);
  if (!Number.isFinite(r)) return span("app-muted", "—");
  const n = Math.max(0, Math.min(5, Math.round(r)));
  const wrap = span("app-stars");
  wrap.setAttribute("role", "img");
  wrap.setAttribute("aria-label", n + " of 5 stars");
  wrap.title = n + " of 5";
  const on = span("app-stars-on", "★".repeat(n));
  const off = span("app-stars-off", "☆".repeat(5 - n));
  on.setAttribute("aria-hidden", "true");
  off.setAttribute("aria-hidden", "true");
  wrap.append(on, off);
  return wrap;
}

function listenedCell(ev) {
  const pct = percentListened(ev);
  if (pct === null) return span("app-muted", "—");
  const wrap = span("app-pct");
  const label = span("app-pct-num", Math.round(pct) + "%");
  const bar = span("app-bar");
  bar.setAttribute("aria-hidden", "true");
  const fill = span("app-bar-fill " + (pct >= 80 ? "is-high" : pct >= 40 ? "is-mid" : "is-low"));
  fill.style.width = pct.toFixed(1) + "%";
  bar.appendChild(fill);
  wrap.append(label, bar);
  return wrap;
}

// The Time column's header names the zone the times are in. It is looked at again only when a
// listen falls in another quarter hour than the last one did (zones change offset at such times).
let zoneQuarter = NaN;
function showZone(d) {
  const quarter = Math.floor(d.getTime() / 900000);
  if (quarter === zoneQuarter) return;
  zoneQuarter = quarter;
  const el = document.getElementById("time-zone");
  const label = "(" + zoneName(d) + ")";
  if (el && el.textContent !== label) el.textContent = label;
}

// HH:MM:SS.mmm: several listens often share a second, and the milliseconds tell them apart.
function timeCell(ms) {
  const t = Number(ms);
  if (!Number.isFinite(t) || t <= 0) return span("app-muted", "—");
  const d = new Date(t);
  showZone(d);
  const el = document.createElement("time");
  el.dateTime = d.toISOString();
  el.title = stampFullFmt.format(d);
  el.append(stampFmt.format(d), span("app-ms", millis(d)));
  return el;
}

// The username opens that listener's history (js/user-history.js, by delegation on #rows): a real
// button, so it is reached by Tab and pressed with Enter or Space like any other.
function userButton(ev) {
  const name = text(ev.username);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "app-user app-user-link";
  button.textContent = name;
  button.title = name + ": history of this listener";
  button.setAttribute("aria-label", "History of " + name);
  if (ev.user_id != null) button.dataset.userId = String(ev.user_id);
  return button;
}

export function buildRow(ev) {
  const tr = document.createElement("tr");
  tr.dataset.eventId = String(ev.event_id);
  // Focusable, and said to open something: js/detail.js opens the listen's detail from here.
  tr.tabIndex = 0;
  tr.className = "app-row-open";
  tr.setAttribute("aria-describedby", "rows-open-hint");

  const platform = span("app-chip app-platform");
  platform.textContent = text(ev.platform);
  const pcls = PLATFORM_CLASSES[slug(ev.platform)];
  if (pcls) platform.classList.add("app-platform-" + pcls);

  const title = span("app-title", text(ev.title));
  title.title = text(ev.title); // full text when the cell is truncated
  const genre = span("app-chip", text(ev.genre));
  const user = userButton(ev);
  const artist = span("app-artist", text(ev.artist));
  artist.title = text(ev.artist);

  // City and position have their own columns on wide screens; their neighbours' tooltips
  // carry them too, for when those columns are hidden.
  const country = td(ev.country);
  country.title = text(ev.city) + ", " + text(ev.country);
  const listened = td(listenedCell(ev));
  listened.title = "Listened to " + fmtDuration(ev.listen_position) + " of " + fmtDuration(ev.duration);

  tr.append(
    td(timeCell(ev.timestamp), "app-time"),
    td(user),
    td(title),
    td(artist),
    td(genre),
    td(platform),
    td(ev.city, "app-col-optional"),
    country,
    td(ev.mood),
    td(fmtDuration(ev.duration), "app-num"),
    td(fmtDuration(ev.listen_position), "app-num app-col-optional"),
    listened,
    td(yesNo(ev.completed, "app-flag-good")),
    td(ratingCell(ev.rating)),
    td(yesNo(ev.skipped, "app-flag-warn")),
  );
  return tr;
}
