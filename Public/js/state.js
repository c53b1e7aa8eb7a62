// Shared state of the dashboard: the one mutable object every part of the page reads and writes
// (the current filters, sort and row cap, the stream, the table's rows, the chart sample), and
// the constants several modules need. Nothing here touches the DOM.

export const DEFAULT_ROWS = 50;
export const ROW_CAPS = [25, 50, 100, 200];

// The API's filters: free text, repeatable values, single choices (plus a time range).
export const TEXT_KEYS = ["q", "artist", "user_id", "track_id"];
export const MULTI_KEYS = ["genre", "platform", "mood", "country"];
export const CHOICE_KEYS = ["rating", "skipped", "completed"];

export const state = {
  generation: 0,          // bumped on every filter change; stale responses are ignored
  source: null,           // current EventSource
  retryTimer: null,
  retryDelay: 2000,
  loaded: false,          // the table snapshot for this generation has arrived
  inbox: [],              // stream events not yet taken by a frame (frame.js); they wait there
                          // while the table's snapshot loads
  rows: [],               // the events the table shows, in display order (table.js)
  shown: new Set(),       // event_ids currently in the table
  seen: new Set(),        // recently displayed event_ids (insertion ordered)
  events: new Map(),      // event_id -> event, for the rows in the table
  paused: false,
  pending: [],            // events received while paused (newest last, at most maxRows)
  pausedCount: 0,         // how many arrived while paused
  heardAt: 0,             // when the stream last delivered anything (listen or stats)
  lastEventAt: 0,
  totals: { window: null, matching: null },
  facetsAbort: null,
  eventsAbort: null,
  sampleAbort: null,
  facetsLastRun: 0,
  facetsTimer: null,
  filters: {},            // filters currently applied
  tableSource: "window",  // which part of the server answered the table: "window" or "history"
  sources: {},            // this generation's answers by part (events, facets, timeline) -> source
  facets: null,           // the last /api/facets answer for them
  knownFacetValues: {},   // facet -> Map(value -> count), remembered across refreshes
  sort: { by: "timestamp", order: "desc" },
  maxRows: DEFAULT_ROWS,
  statsAt: 0,             // when the last `stats` frame of this generation arrived
  invalid: false,         // the server refused the filters: nothing is polled until they change
  sample: [],             // the latest matching listens (oldest first), at most SAMPLE_MAX (sample.js)
  sampleIds: new Set(),
  sampleLoading: false,
  sampleBuffer: [],       // live events that arrived while the sample loaded
  sampleTruncated: false, // more listens match than the sample holds
  sampleTimer: null,
  sampleLastRun: 0,
};
