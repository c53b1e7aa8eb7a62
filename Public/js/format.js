// Formatting of event values for display (numbers, times, durations, "x s ago"), and the
// checks on event objects that several modules share. No DOM, no state.

export const numberFmt = new Intl.NumberFormat();
export const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
export const minuteFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
export const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
// A listen's time in the table: always with milliseconds (several listens often share a second),
// and in full, with the zone's name, for its tooltip.
export const stampFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
export const stampFullFmt = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
  fractionalSecondDigits: 3, hourCycle: "h23", timeZoneName: "long",
});
const zoneFmt = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" });
// A stored listen may be days old: the history's table puts the day before the table's time.
const dayFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const dayYearFmt = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });

// "Dec 4 21:25:27.142" (the year too when it is not this one), in the page's zone.
export function dayStamp(date) {
  const day = date.getFullYear() === new Date().getFullYear() ? dayFmt : dayYearFmt;
  return day.format(date) + " " + stampFmt.format(date) + millis(date);
}

// The time zone's short name at that moment ("UTC", "CET", "GMT+1", "PST"), as the browser shows times.
export function zoneName(date) {
  const part = zoneFmt.formatToParts(date).find((p) => p.type === "timeZoneName");
  return part ? part.value : "";
}

// The milliseconds of a time, as ".mmm".
export function millis(date) {
  return "." + String(date.getMilliseconds()).padStart(3, "0");
}

export function fmtDuration(sec) {
  const s = Number(sec);
  if (!Number.isFinite(s) || s < 0) return "—";
  const total = Math.round(s);
  const m = Math.floor(total / 60);
  const r = total % 60;
  return m + ":" + String(r).padStart(2, "0");
}

export function percentListened(ev) {
  const d = Number(ev.duration);
  const p = Number(ev.listen_position);
  if (!Number.isFinite(d) || !Number.isFinite(p) || d <= 0) return null;
  return Math.max(0, Math.min(100, (p / d) * 100));
}

export function text(v) {
  return v == null || v === "" ? "—" : String(v);
}

export function slug(v) {
  return String(v || "").toLowerCase().replace(/[^a-z0-9]+/g, "");
}

export function relTime(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 2) return "just now";
  if (s < 60) return s + " s ago";
  const m = Math.floor(s / 60);
  if (m < 60) return m + " min ago";
  return Math.floor(m / 60) + " h ago";
}

export function isValidEvent(ev) {
  return ev && typeof ev === "object" && ev.event_id != null && String(ev.event_id) !== "";
}
