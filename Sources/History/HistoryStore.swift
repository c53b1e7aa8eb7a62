import MusicModel

/// The history store: every listen the sink has read from Kafka, kept beyond the in-memory
/// window (a materialised view of the topic). A store hands out connections; each is used by
/// one thread at a time (the sink's thread writes, each query worker reads with its own), so
/// neither side ever waits on the HTTP loop and the loop never waits on the store.
public protocol HistoryStore: Sendable {
    /// What the store is, for logs and /api/status ("sqlite:/data/history.sqlite3",
    /// "postgres://host:port/db" without the password).
    var description: String { get }
    /// A connection for the sink: writes batches with their partition offsets.
    func openWriter() throws(HistoryError) -> any HistoryWriter
    /// A connection for one query worker.
    func openReader() throws(HistoryError) -> any HistoryReader
}

/// The sink's connection. Not shared between threads.
public protocol HistoryWriter: AnyObject {
    /// Per partition of `topic`, the offset of the next record to read: where the sink resumes.
    /// Empty for a topic never stored.
    func nextOffsets(topic: String) throws(HistoryError) -> [Int32: Int64]
    /// Stores `records` and moves the partitions' next offsets to `nextOffsets` in ONE
    /// transaction, so a crash leaves either both or neither. A record whose
    /// (timestamp, event_id) is already stored is skipped (the second guard against duplicates:
    /// a record read twice carries the same listen, timestamp included). Returns the rows added.
    func write(_ records: [HistoryRecord], topic: String, nextOffsets: [Int32: Int64]) throws(HistoryError) -> Int
    /// Deletes up to `limit` listens older than `timestamp` (ms) in one short transaction, so
    /// readers are never blocked for long; returns how many went. Retention calls it repeatedly.
    func deleteListens(before timestamp: Int64, limit: Int) throws(HistoryError) -> Int
    /// The store's work on a batch that needs no connection, for the sink to run on its reading
    /// thread while this writer stores the batch before: catching up then spreads over two
    /// cores. nil when the store has none (the default).
    func makePreparer() -> (any HistoryBatchPreparer)?
    /// `write(_:topic:nextOffsets:)` for a batch made by this writer's preparer.
    func write(_ batch: PreparedHistoryBatch, topic: String, nextOffsets: [Int32: Int64]) throws(HistoryError) -> Int
}

extension HistoryWriter {
    public func makePreparer() -> (any HistoryBatchPreparer)? { nil }

    public func write(_ batch: PreparedHistoryBatch, topic: String, nextOffsets: [Int32: Int64]) throws(HistoryError) -> Int {
        try write(batch.records, topic: topic, nextOffsets: nextOffsets)
    }
}

/// Prepares batches for one writer (`HistoryWriter.makePreparer`), on another thread than it.
public protocol HistoryBatchPreparer: AnyObject, Sendable {
    func prepare(_ records: [HistoryRecord]) -> PreparedHistoryBatch
}

/// Records and what a store's preparer worked out for them, opaque to the sink.
public struct PreparedHistoryBatch: Sendable {
    public var records: [HistoryRecord]
    /// The store's own, read back by its writer.
    var work: (any Sendable)?

    public init(records: [HistoryRecord]) {
        self.records = records
        work = nil
    }

    init(records: [HistoryRecord], work: any Sendable) {
        self.records = records
        self.work = work
    }
}

/// A query worker's connection. Not shared between threads.
public protocol HistoryReader: AnyObject {
    /// Listens matching `filter` (its since/until included), in `order`, strictly after
    /// `cursor` when given, at most `limit`. Rows whose order keys tie are ordered by event_id,
    /// so paging never skips or repeats. `next` is set when more may follow. At most
    /// `scanLimit` rows are examined per call: a sparse filter returns fewer (even none) with a
    /// `next` to continue from, so no call runs unboundedly long.
    func listens(
        matching filter: EventFilter, order: HistoryOrder, after cursor: HistoryCursor?, limit: Int, scanLimit: Int
    ) throws(HistoryError) -> HistoryPage
    /// A listener's figures over `since..<until` (nil: unbounded); nil when the store holds no
    /// listen of `userID` in that range.
    func userSummary(userID: String, since: Int64?, until: Int64?, top: Int) throws(HistoryError) -> UserSummary?
    /// Listens stored, and the oldest and newest timestamps (nil when empty).
    func extent() throws(HistoryError) -> HistoryExtent

    // The aggregates behind /api/events, /api/facets and /api/timeline over ranges older than
    // the window. Each has a default (`HistoryReader+Scanning`): correct, built on `listens`,
    // bounded, slow; a store overrides them with its own SQL when it can say exactly what
    // `EventFilter.matches` says.

    /// Listens matching `filter` (every criterion, since/until included).
    func count(matching filter: EventFilter) throws(HistoryError) -> Int
    /// What /api/facets reports for these listens: each facet counted under every criterion
    /// of `filter` except its own (`FacetSummary.compute`'s verdicts), `matching` under all.
    func facets(matching filter: EventFilter) throws(HistoryError) -> FacetSummary
    /// Matching listens per bucket of `bucketMilliseconds` (keyed by the bucket's start,
    /// `Timeline.bucketStart`), and how many of them were skipped; only non-empty buckets.
    func timeline(matching filter: EventFilter, bucketMilliseconds: Int64) throws(HistoryError) -> [Int64: (count: Int, skipped: Int)]

    /// The listens read from each partition in `ranges` (Kafka offsets, inclusive), of the log
    /// the sink stores under `log`, ordered by partition then offset: what a `/stream`
    /// subscriber missed that the window no longer holds. nil when the store has not stored
    /// that far in some partition yet (its offsets for `log` say where it is), so a replay
    /// from it would have a gap. At most `limit` listens (more: nil as well).
    func listens(of log: String, in ranges: [Int32: ClosedRange<Int64>], limit: Int) throws(HistoryError) -> [HistoryRecord]?

    /// Past `deadline` (nil: none) the reader's running query is abandoned with an error, so a
    /// query the client was already answered 503 for does not hold its worker any longer.
    /// The default does nothing: the query then runs to its end (or its own bounds).
    func limitQueries(until deadline: ContinuousClock.Instant?)
}

extension HistoryReader {
    public func limitQueries(until deadline: ContinuousClock.Instant?) {}
}

/// A listen with where it was read from Kafka.
public struct HistoryRecord: Sendable, Equatable {
    public var event: ListenEvent
    public var partition: Int32
    public var offset: Int64

    public init(event: ListenEvent, partition: Int32, offset: Int64) {
        self.event = event
        self.partition = partition
        self.offset = offset
    }
}

public enum HistoryOrder: Sendable, Equatable {
    /// By timestamp descending, then event_id descending.
    case newestFirst
    /// By timestamp ascending, then event_id ascending (exports).
    case oldestFirst
}

/// Where a walk through the history stopped: the last row's (timestamp, event_id). Opaque to
/// clients (`encoded`), strictly validated when read back.
public struct HistoryCursor: Sendable, Equatable {
    public var timestamp: Int64
    public var eventID: String

    public init(timestamp: Int64, eventID: String) {
        self.timestamp = timestamp
        self.eventID = eventID
    }
}

public struct HistoryPage: Sendable, Equatable {
    public var listens: [ListenEvent]
    /// Set when more rows may follow: pass it back as `after`.
    public var next: HistoryCursor?

    public init(listens: [ListenEvent], next: HistoryCursor?) {
        self.listens = listens
        self.next = next
    }
}

public struct HistoryExtent: Sendable, Equatable {
    public var listens: Int
    public var oldest: Int64?
    public var newest: Int64?

    public init(listens: Int, oldest: Int64?, newest: Int64?) {
        self.listens = listens
        self.oldest = oldest
        self.newest = newest
    }
}

/// One listener's figures (`GET /api/users/{user_id}`).
public struct UserSummary: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var value: String
        public var count: Int
        public init(value: String, count: Int) {
            self.value = value
            self.count = count
        }
    }

    public var userID: String
    /// The name on the newest listen in the range.
    public var username: String
    public var listens: Int
    public var firstSeen: Int64
    public var lastSeen: Int64
    /// Skipped listens / listens, 0...1.
    public var skipRate: Double
    public var averageRating: Double
    /// The most frequent values, most first (ties by value ascending), at most `top` each.
    public var topArtists: [Entry]
    public var topGenres: [Entry]
    public var topPlatforms: [Entry]

    public init(
        userID: String, username: String, listens: Int, firstSeen: Int64, lastSeen: Int64, skipRate: Double,
        averageRating: Double, topArtists: [Entry], topGenres: [Entry], topPlatforms: [Entry]
    ) {
        self.userID = userID
        self.username = username
        self.listens = listens
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.skipRate = skipRate
        self.averageRating = averageRating
        self.topArtists = topArtists
        self.topGenres = topGenres
        self.topPlatforms = topPlatforms
    }
}

/// A store failure, with what was being done. `isUnavailable`: the store cannot be reached
/// (a PostgreSQL server down, a disk gone) rather than refusing this request.
public struct HistoryError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var isUnavailable: Bool

    public init(_ message: String, isUnavailable: Bool = false) {
        self.message = message
        self.isUnavailable = isUnavailable
    }

    public var description: String { message }
}
