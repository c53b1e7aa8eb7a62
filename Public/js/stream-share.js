// One /stream connection for all the dashboard's tabs. A browser opens about six HTTP/1.1
// connections per origin and an EventSource keeps one for good, so the seventh tab's stream (and
// every request of every tab after it) would wait forever. Instead one tab, the leader, holds one
// unfiltered EventSource and passes what it says to every tab on a BroadcastChannel; each tab
// (the leader too) applies its own filters (matching.js: the server's rules) and sees a
// SharedSource, which behaves like the EventSource stream.js used to open.
//
// The leader is whoever holds the Web Lock LOCK: every tab asks for it, the browser grants it to
// one and, when that tab closes (or is frozen: it lets go), to the tab that has waited longest.
// Every tab remembers the last stream id the leader passed on; a new leader opens its stream
// with it as `last_event_id`, and the server replays what came after it, so a handover loses
// nothing; ids are opaque, and not every event carries one, so the replay may repeat a few
// listens: repeats are dropped here by event_id, as the table does. A leader with no other tab
// waiting for the lock (one dashboard tab, the usual case) posts nothing.
//
// Browsers without BroadcastChannel or Web Locks (the latter needs a secure context: https or
// loopback), or without what matching.js needs, get a filtered EventSource of their own, as before.
import { apiQuery, timeRange } from "./filters.js";
import { eventMatcher } from "./matching.js";

const CHANNEL = "musicstream-stream";
const LOCK = "musicstream-stream-leader";
const RETRY_MS = 2000;            // the server's `retry:`, also the first wait after a refusal
const RETRY_MAX_MS = 30000;
const KEEPALIVE_MS = 1000;        // a leader with nothing to pass on says so this often
// A leader not heard from for this long (a hung tab; a frozen one lets go by itself) is replaced.
const LEADER_SILENT_MS = 45000;
const LEADER_QUIET_MS = 10000;    // no keepalive for this long: the leader is not listening either
const RESTART_MIN_MS = 10000;     // a follower's "your stream is silent" is heeded this seldom
const HELLO_GRACE_MS = 3000;      // a follower's hello counts for this long (countFollowers)
const MAX_BATCH = 250;            // items in one message to the other tabs
const SEEN_LIMIT = 10000;         // event_ids remembered (at least), to drop what a replay repeats

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

// For the browser tests only (Tests/EndToEnd/test_browser_tabs.py): this tab's part ("leader",
// "follower", or "direct" with a stream of its own) and, once a test sets `received` to an
// array, the event_id of each listen the stream hands the page (stream.js appends them).
export const streamDebug = { role: "", received: null };
window.musicstreamStream = streamDebug;

let sharing = typeof BroadcastChannel === "function" && typeof MessageChannel === "function" &&
  !!(navigator.locks && typeof navigator.locks.request === "function");

let hub = null;

// The page's stream for `filters`: a SharedSource, or its own EventSource where sharing cannot be
// exact. Both dispatch `listen`, `stats`, `reset`, `open` and `error` and have readyState/close().
export function connect(filters) {
  const range = timeRange(filters);
  const match = sharing ? eventMatcher(filters, range) : null;
  if (match && !hub) {
    try {
      hub = new Hub();
    } catch (_) {
      sharing = false;   // e.g. a sandboxed page without a channel: streams of its own
    }
  }
  if (!match || !hub) {
    if (!hub) streamDebug.role = "direct";
    return new EventSource("/stream" + apiQuery(filters, { stats: "true" }));
  }
  const filtered = Object.keys(filters).length > 0;
  return new SharedSource(hub, filtered ? match : null);
}

// What one tab sees of the shared stream, with its filters applied.
class SharedSource extends EventTarget {
  constructor(owner, match) {
    super();
    this.hub = owner;
    this.match = match;
    this.readyState = CONNECTING;
    this.onListen = [];
    owner.sources.add(this);
    // Already open: said once the caller has added its listeners.
    if (owner.status === "open") queueMicrotask(() => this.setStatus("open"));
  }

  // Listens, thousands a second at times, go to their handlers without an Event each.
  addEventListener(type, handler, options) {
    if (type === "listen" && typeof handler === "function") this.onListen.push(handler);
    else super.addEventListener(type, handler, options);
  }

  close() {
    this.readyState = CLOSED;
    this.hub.sources.delete(this);
  }

  // The stream has been silent far too long (stream.js's watchdog): get a new connection.
  recover() {
    this.hub.recover();
  }

  setStatus(status) {
    if (this.readyState === CLOSED) return;
    if (status === "open" && this.readyState !== OPEN) {
      this.readyState = OPEN;
      this.dispatchEvent(new Event("open"));
    } else if (status === "dropped" && this.readyState === OPEN) {
      this.readyState = CONNECTING;          // as an EventSource that reconnects by itself
      this.dispatchEvent(new Event("error"));
    } else if (status === "failed") {
      this.readyState = CLOSED;              // as an EventSource that gave up (an HTTP error)
      this.hub.sources.delete(this);
      this.dispatchEvent(new Event("error"));
    }
  }

  listen(ev, item) {
    if (this.readyState === CLOSED || (this.match && !this.match(ev))) return;
    const msg = { type: "listen", data: item.d, lastEventId: item.id || "", parsed: ev };
    for (const handler of this.onListen) {
      // As dispatchEvent would: a handler's error is reported, and the stream goes on.
      try { handler(msg); } catch (err) { queueMicrotask(() => { throw err; }); }
    }
  }

  stats(item) {
    if (this.readyState === CLOSED) return;
    let data = item.d;
    if (this.match) {
      // `matching` counts the unfiltered stream's matches: not this tab's (the facets say those).
      try {
        const stats = JSON.parse(data);
        delete stats.matching;
        data = JSON.stringify(stats);
      } catch (_) { /* passed on as it is */ }
    }
    this.dispatchEvent(new MessageEvent("stats", { data, lastEventId: item.id || "" }));
  }

  reset(item) {
    if (this.readyState !== CLOSED) this.dispatchEvent(new MessageEvent("reset", { data: item.d, lastEventId: item.id || "" }));
  }
}

// This tab's end of the sharing: the lock, the channel, and the EventSource while leading.
// What the leader passes on is a list of items {k: "listen" | "stats" | "reset" | "status",
// d: the frame's data or the status, id: the stream's last id}, in batches.
class Hub {
  constructor() {
    this.sources = new Set();
    this.status = "connecting";    // the shared stream: connecting, open, dropped, failed
    this.lastId = "";              // the last stream id any leader passed on
    this.seen = new Set();
    this.seenBefore = new Set();
    this.heardAt = Date.now();     // when a leader (maybe this tab) last passed anything on
    this.request = null;           // this tab's lock request (its AbortController), queued or granted
    this.leading = null;           // the granted request, while this tab leads
    this.closed = false;
    this.frozen = false;
    this.es = null;
    this.retryTimer = 0;
    this.retryDelay = RETRY_MS;
    this.connectedAt = 0;
    this.outbox = [];
    this.emittedAt = 0;
    this.alone = false;            // leading, with no other tab to pass things on to
    this.helloAt = 0;
    // Batches go out in a task of their own, after what the network delivered meanwhile: a
    // MessageChannel's tasks, unlike timers, are not throttled in a background tab, and the
    // leader's tab may well be one.
    this.flusher = new MessageChannel();
    this.flusher.port1.onmessage = () => this.flush();
    this.channel = new BroadcastChannel(CHANNEL);
    this.channel.onmessage = (e) => this.receive(e.data);
    this.timer = setInterval(() => this.tick(), KEEPALIVE_MS);
    this.onPageHide = () => this.shutdown();
    // A tab about to be frozen must not keep the lock (its stream would stop for everyone).
    this.onFreeze = () => { this.frozen = true; this.letGo(); };
    this.onResume = () => { this.frozen = false; this.heardAt = Date.now(); this.join(false); };
    window.addEventListener("pagehide", this.onPageHide);
    document.addEventListener("freeze", this.onFreeze);
    document.addEventListener("resume", this.onResume);
    streamDebug.role = "follower";
    this.join(false);
  }

  // Queues for the lock (or, with `steal`, takes it from a leader that stopped answering).
  join(steal) {
    if (this.closed || this.frozen) return;
    if (this.request) this.request.abort();   // a queued request; a granted one is let go by letGo()
    const ticket = new AbortController();
    this.request = ticket;
    const options = steal ? { steal: true } : { signal: ticket.signal };
    // Waiting for the lock, this tab is a follower: the leader hears so (and answers with the
    // stream's status), and passes things on from now on.
    if (!steal) this.channel.postMessage({ t: "hello" });
    navigator.locks.request(LOCK, options, () => new Promise((release) => {
      ticket.release = release;
      if (this.request !== ticket || this.closed || this.frozen) release();
      else this.lead(ticket);
    })).catch((err) => {
      // Aborted, or stolen, and then it is asked for again; any other refusal (an opaque origin)
      // will not change: this page's tabs then open streams of their own.
      if (err && err.name !== "AbortError") this.unusable();
    }).then(() => {
      if (this.leading === ticket) this.follow();
      // Stolen: wait for the lock again (a request that was replaced or let go is not renewed).
      if (this.request === ticket) {
        this.request = null;
        this.join(false);
      }
    });
  }

  letGo() {
    const ticket = this.request;
    this.request = null;
    if (ticket) {
      ticket.abort();
      if (ticket.release) ticket.release();
    }
    if (this.leading) this.follow();
  }

  lead(ticket) {
    this.leading = ticket;
    this.alone = false;
    this.helloAt = Date.now();
    streamDebug.role = "leader";
    this.connect();
    this.emit({ k: "status", d: this.status });  // so no other tab thinks the lock's holder hung
  }

  follow() {
    this.flush();
    this.leading = null;
    streamDebug.role = this.closed ? "" : "follower";
    clearTimeout(this.retryTimer);
    this.retryTimer = 0;
    if (this.es) {
      this.es.close();
      this.es = null;
    }
  }

  // The leader's EventSource, unfiltered, resuming after the last id passed on. After an error it
  // is closed and opened again by this code, not the browser: the browser's reconnect would ask
  // again for the `last_event_id` in its URL, which wins over its newer Last-Event-ID header.
  connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = 0;
    if (this.es) this.es.close();
    const es = new EventSource("/stream" + apiQuery({}, Object.assign({ stats: "true" },
      this.lastId ? { last_event_id: this.lastId } : {})));
    this.es = es;
    this.connectedAt = Date.now();
    const pass = (k) => (msg) => { if (this.es === es) this.emit({ k, d: msg.data, id: msg.lastEventId }); };
    es.addEventListener("listen", pass("listen"));
    es.addEventListener("stats", pass("stats"));
    es.addEventListener("reset", pass("reset"));
    es.addEventListener("open", () => {
      if (this.es !== es) return;
      this.retryDelay = RETRY_MS;
      this.emit({ k: "status", d: "open" });
    });
    es.addEventListener("error", () => {
      if (this.es !== es) return;
      const refused = es.readyState === CLOSED;   // an HTTP error: back off
      es.close();
      this.es = null;
      this.emit({ k: "status", d: refused ? "failed" : "dropped" });
      const delay = refused ? this.retryDelay : RETRY_MS;
      if (refused) this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
      this.retryTimer = setTimeout(() => {
        if (!this.leading) return;
        // Through "connecting", so that a tab that attached meanwhile hears of the next refusal.
        this.emit({ k: "status", d: "connecting" });
        this.connect();
      }, delay);
    });
  }

  // A tab's watchdog found the stream silent for long: the leader opens a new connection; a
  // follower asks it to, or takes its place when it has not even sent its keepalives.
  recover() {
    if (this.closed) return;
    if (this.leading) this.connect();
    else if (Date.now() - this.heardAt > LEADER_QUIET_MS) this.join(true);
    else this.channel.postMessage({ t: "restart" });
  }

  // The leader's tab takes each item at once, as from its own EventSource (a channel does not
  // hand a tab its own messages); the other tabs get them in batches of at most MAX_BATCH, each a
  // short task of theirs even in a burst of thousands of listens a second.
  emit(item) {
    this.emittedAt = Date.now();
    this.heardAt = this.emittedAt;
    this.outbox.push(item);
    if (this.outbox.length >= MAX_BATCH) this.flush();
    else if (this.outbox.length === 1) this.flusher.port2.postMessage(null);
    this.apply(item);
  }

  flush() {
    if (!this.outbox.length) return;
    const items = this.outbox;
    this.outbox = [];
    if (!this.closed && !this.alone) this.channel.postMessage({ t: "batch", items });
  }

  receive(message) {
    if (!message || typeof message !== "object") return;
    if (message.t === "hello") {
      this.alone = false;
      this.helloAt = Date.now();
      if (this.leading) this.emit({ k: "status", d: this.status });
      return;
    }
    if (message.t === "restart") {
      if (this.leading && Date.now() - this.connectedAt > RESTART_MIN_MS) this.connect();
      return;
    }
    if (message.t !== "batch" || !Array.isArray(message.items)) return;
    this.heardAt = Date.now();
    for (const item of message.items) this.apply(item);
  }

  // One item from the leader (maybe this tab) to this tab's stream.
  apply(item) {
    if (!item || typeof item !== "object") return;
    if (item.id) this.lastId = item.id;
    if (item.k === "status") {
      this.setStatus(item.d);
    } else if (item.k === "listen") {
      this.setStatus("open");
      let ev;
      try { ev = JSON.parse(item.d); } catch (_) { return; }
      if (!ev || typeof ev !== "object" || ev.event_id == null) return;
      const id = String(ev.event_id);
      if (this.seen.has(id) || this.seenBefore.has(id)) return;
      // The last SEEN_LIMIT to 2 x SEEN_LIMIT ids, in two sets: forgetting is dropping the older.
      if (this.seen.size >= SEEN_LIMIT) {
        this.seenBefore = this.seen;
        this.seen = new Set();
    this.seenBefore = new Set();
      }
      this.seen.add(id);
      for (const source of this.sources) source.listen(ev, item);
    } else if (item.k === "stats") {
      this.setStatus("open");
      for (const source of Array.from(this.sources)) source.stats(item);
    } else if (item.k === "reset") {
      for (const source of Array.from(this.sources)) source.reset(item);
    }
  }

  setStatus(status) {
    if (status === this.status || !["connecting", "open", "dropped", "failed"].includes(status)) return;
    this.status = status;
    for (const source of Array.from(this.sources)) source.setStatus(status);
  }

  // Once a second: a leader with nothing to pass on says it is there; a follower that has not
  // heard from any leader for long takes the lock (after a random extra wait, so that not every
  // tab does at once).
  tick() {
    const now = Date.now();
    if (this.leading) {
      if (now - this.emittedAt >= KEEPALIVE_MS) this.emit({ k: "status", d: this.status });
      this.countFollowers();
    } else if (!this.frozen && now - this.heardAt > LEADER_SILENT_MS + Math.random() * 5000) {
      this.heardAt = now;
      this.join(true);
    }
  }

  // Whether any other tab waits for the lock: a leader on its own (a single dashboard tab, the
  // usual case) need not copy thousands of listens a second to a channel nobody reads. Every
  // follower waits for the lock and says hello when it starts to; a hello outweighs the lock
  // manager's answers for a while (its request may not be registered yet when they are given).
  countFollowers() {
    const asked = Date.now();
    navigator.locks.query().then((snapshot) => {
      const waiting = (snapshot.pending || []).some((request) => request.name === LOCK);
      if (waiting) this.alone = false;
      else if (this.leading && asked - this.helloAt > HELLO_GRACE_MS) this.alone = true;
    }, () => { this.alone = false; });
  }

  // The lock cannot be had: the page's streams fail, and open again (stream.js) on their own.
  unusable() {
    sharing = false;
    for (const source of Array.from(this.sources)) source.setStatus("failed");
    this.shutdown();
  }

  // The page goes away (closed, or into the back/forward cache): the lock passes on at once.
  shutdown() {
    this.letGo();
    this.closed = true;
    streamDebug.role = "";
    clearInterval(this.timer);
    this.channel.close();
    this.flusher.port1.close();
    window.removeEventListener("pagehide", this.onPageHide);
    document.removeEventListener("freeze", this.onFreeze);
    document.removeEventListener("resume", this.onResume);
    for (const source of Array.from(this.sources)) source.close();
    if (hub === this) hub = null;
  }
}
