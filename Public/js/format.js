// Formatting of event values for display (numbers, times, durations, "x s ago"), and the
// checks on event objects that several modules share. No DOM, no state.

export const numberFmt = new Intl.NumberFormat();
export const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
export const minuteFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
export const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

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
