// The server's filter rules (EventFilter.matches in Sources/MusicModel/Filtering/), in the page:
// a tab that shares another tab's unfiltered stream (stream-share.js) must show exactly the
// listens a /stream with its own filters would have sent. No DOM, no state.
//
// How the server compares text, and so how this does:
// - values are trimmed of whitespace Characters (`trimmed()`: a grapheme cluster whose first
//   scalar is White_Space); an empty value is no constraint;
// - case is folded with Swift's `lowercased()`: each scalar's own lowercase mapping (JS's
//   toLowerCase() of a whole string would also apply the final-sigma rule, so scalars one by one);
// - when the folded needle and the field are both ASCII, bytes are compared (FoldedNeedle's fast
//   path); otherwise Swift Strings, which compare Characters by canonical equivalence: grapheme
//   clusters (Intl.Segmenter) in NFC;
// - ids (user_id, track_id) are exact, but Swift's == is canonical equivalence too.

const NON_ASCII = /[^\x00-\x7f]/;
const WHITE_SPACE = /^\p{White_Space}/u;
const segmenter = typeof Intl === "object" && typeof Intl.Segmenter === "function"
  ? new Intl.Segmenter("en", { granularity: "grapheme" }) : null;

function lowercased(s) {
  if (!NON_ASCII.test(s)) return s.toLowerCase();
  let out = "";
  for (const scalar of s) out += scalar.toLowerCase();
  return out;
}

function graphemes(s) {
  return Array.from(segmenter.segment(s), (g) => g.segment);
}

// Swift Characters, each in one canonical form so that === is Character's ==.
function characters(s) {
  return graphemes(s).map((c) => c.normalize("NFC"));
}

function trimmed(s) {
  const chars = graphemes(s);
  let start = 0;
  let end = chars.length;
  while (start < end && WHITE_SPACE.test(chars[start])) start += 1;
  while (end > start && WHITE_SPACE.test(chars[end - 1])) end -= 1;
  return chars.slice(start, end).join("");
}

function text(v) {
  return typeof v === "string" ? v : v == null ? "" : String(v);
}

// A filter value folded once (FoldedNeedle).
function fold(value) {
  const lowered = lowercased(value);
  return { lowered, ascii: !NON_ASCII.test(lowered), nfc: lowered.normalize("NFC"), chars: characters(lowered) };
}

// Case-insensitive equality (genre, platform, mood).
function isEqual(needle, value) {
  if (needle.ascii && !NON_ASCII.test(value)) return value.length === needle.lowered.length && value.toLowerCase() === needle.lowered;
  return lowercased(value).normalize("NFC") === needle.nfc;
}

// Case-insensitive substring (artist, country, q), by Characters when either side is not ASCII.
function isContained(needle, haystack) {
  if (needle.ascii && !NON_ASCII.test(haystack)) return haystack.toLowerCase().includes(needle.lowered);
  const h = characters(lowercased(haystack));
  const n = needle.chars;
  for (let i = 0; i + n.length <= h.length; i += 1) {
    let j = 0;
    while (j < n.length && h[i + j] === n[j]) j += 1;
    if (j === n.length) return true;
  }
  return false;
}

function sameID(id, value) {
  if (id === value) return true;
  if (!NON_ASCII.test(id) && !NON_ASCII.test(value)) return false;
  return id.normalize("NFC") === value.normalize("NFC");
}

// ListenEvent.isCompleted: at 80 % of the track, on integers (exact within the API's bounds).
function isCompleted(ev) {
  const duration = Number(ev.duration);
  const position = Number(ev.listen_position);
  if (!(duration > 0)) return false;
  return position * 5 >= duration * 4;
}

// The test for `filters` (filters.js's normalised shape) with `range` (its absolute time range,
// as sent to the server), or null when this browser cannot decide its text filters exactly
// (no Intl.Segmenter): the tab then asks the server for a stream of its own.
export function eventMatcher(filters, range) {
  const tests = [];
  const needles = (k) => (Array.isArray(filters[k]) ? filters[k] : filters[k] ? [filters[k]] : [])
    .map((v) => trimmed(text(v))).filter((v) => v !== "");
  const hasText = ["q", "artist", "user_id", "track_id", "genre", "platform", "mood", "country"]
    .some((k) => filters[k] && filters[k].length);
  if (hasText && !segmenter) return null;

  if (range.since != null) tests.push((ev) => !(Number(ev.timestamp) < range.since));
  if (range.until != null) tests.push((ev) => !(Number(ev.timestamp) >= range.until));
  if (filters.rating) {
    const minimum = Number(filters.rating);
    tests.push((ev) => !(Number(ev.rating) < minimum));
  }
  if (filters.skipped) {
    const skipped = filters.skipped === "true";
    tests.push((ev) => skipped !== isCompleted(ev));
  }
  if (filters.completed) {
    const completed = filters.completed === "true";
    tests.push((ev) => completed === isCompleted(ev));
  }
  if (!hasText) return tests.length ? (ev) => tests.every((t) => t(ev)) : () => true;

  ["user_id", "track_id"].forEach((k) => {
    const [id] = needles(k);
    if (id !== undefined) tests.push((ev) => sameID(id, text(ev[k])));
  });
  ["genre", "platform", "mood"].forEach((k) => {
    const any = needles(k).map(fold);
    if (any.length) tests.push((ev) => { const v = text(ev[k]); return any.some((n) => isEqual(n, v)); });
  });
  const countries = needles("country").map(fold);
  if (countries.length) tests.push((ev) => { const v = text(ev.country); return countries.some((n) => isContained(n, v)); });
  const [artist] = needles("artist").map(fold);
  if (artist) tests.push((ev) => isContained(artist, text(ev.artist)));
  const [q] = needles("q").map(fold);
  if (q) {
    tests.push((ev) => isContained(q, text(ev.title)) || isContained(q, text(ev.artist)) || isContained(q, text(ev.username)));
  }
  return (ev) => tests.every((t) => t(ev));
}
