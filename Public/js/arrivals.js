// How fast live listens arrive, kept cheaply enough to be told about thousands a second: a
// running count sampled once a second for the events/s figure, and the times of the last few
// arrivals, which say whether the table is calm enough for the "new" highlight to mean anything.
const RATE_WINDOW_MS = 10000;       // events/s is averaged over this window
const CALM_SPAN_MS = 2000;          // the highlight is on while fewer than CALM_COUNT arrived in this span
const CALM_COUNT = 8;               // i.e. below 4 listens a second

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

// True while listens arrive slowly enough for each to be noticed on its own.
export function isCalm(now = Date.now()) {
  if (recent.length < CALM_COUNT) return true;
  return now - recent[next] > CALM_SPAN_MS;   // recent[next] is the oldest of the ring
}

resetArrivals();
