// How fast live listens arrive, kept cheaply enough to be told about thousands a second: a
// running count sampled once a second for the events/s figure, and the times of the last few
// arrivals, which say whether the table is calm enough for the "new" highlight to mean anything.
const RATE_WINDOW_MS = 10000;       // events/s is averaged over this window
const CALM_COUNT = 8;               // arrivals the highlight's decision looks at
const CALM_RATE = 4;                // listens a second above which the "new" highlight is off

let total = 0;
let marks = [];                     // { t, n }: `total` as it was at time t, oldest first
let recent = [];                    // times of the last CALM_COUNT arrivals (a ring)
let next = 0;

// Starts counting afresh (a new view of the data).
export function resetArrivals(now = Date.now()) {
  total = 0;
  marks = [{ t: now, n: 0 }];
  recent = [];
  next = 0;
}

export function countArrivals(n, now = Date.now()) {
  total += n;
  for (let i = 0; i < Math.min(n, CALM_COUNT); i += 1) {
    recent[next] = now;
    next = (next + 1) % CALM_COUNT;
  }
}

// Listens per second over the last 10 s, or since counting started when that is shorter.
// Called once a second (stream.js tick), which is also when the running count is sampled.
export function arrivalRate(now = Date.now()) {
  marks.push({ t: now, n: total });
  while (marks.length > 1 && now - marks[1].t >= RATE_WINDOW_MS) marks.shift();
  const first = marks[0];
  return (total - first.n) / (Math.max(1000, now - first.t) / 1000);
}

// True while listens arrive slowly enough for each to be noticed on its own: fewer than
// CALM_RATE a second over the last few arrivals (until now, so a pause after a burst is calm).
export function isCalm(now = Date.now()) {
  const n = recent.length;
  if (n < 3) return true;
  const oldest = n < CALM_COUNT ? recent[0] : recent[next];
  return ((n - 1) * 1000) / Math.max(1, now - oldest) < CALM_RATE;
}

resetArrivals();
