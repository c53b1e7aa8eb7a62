import Foundation
import Logging
import MusicModel

/// Everything `serve` can be told, with the product's defaults. Built by the executable from flags
/// and environment variables; the service never reads either itself.
public struct ServiceConfig: Sendable {
    /// Least severe log lines written (librdkafka's and libevent's own included).
    public var logLevel: Logger.Level = .info
    public var host = "127.0.0.1"
    public var port = 5000
    /// nil: start the embedded broker and use it.
    public var brokers: String?
    public var topic = "music-streams"
    /// Partitions of the topic when the server creates it (always with the embedded broker; with
    /// `--brokers` when the topic is missing).
    public var partitions = 3
    /// Replication factor of a topic the server creates on an external cluster.
    public var replicationFactor = 1
    public var windowCapacity = 10_000
    /// Start every partition at its oldest kept record instead of rewinding just far enough to
    /// refill the window: the whole topic goes through decode, validation and the window (the
    /// ingest benchmark uses it to time a million records through the real path).
    public var fromBeginning = false
    public var simulate = true
    /// Simulated events per second (0.5 = one every 2 s, as the original producer did).
    public var rate = 0.5
    /// How the simulated pace changes over time around `rate`.
    public var traffic: TrafficPlan.Shape = .steady
    /// Mean seconds of quiet between bursts with `traffic == .spikes`.
    public var spikeGap: Double = TrafficPlan.defaultBurstGap
    public var seed: UInt64?
    /// Events the simulator produces at once on start, stamped over the recent past, so a new
    /// dashboard has something to show. 0 turns it off.
    public var backfill = 0
    /// Extra librdkafka properties for every client (SASL, TLS, ...).
    public var kafkaProperties: [String: String] = [:]
    /// Directory of the page; nil: found relative to the executable, else the working directory (`SiteLocation`).
    public var publicDirectory: String?
    /// Where Debian's `libjs-bootstrap5` and `libjs-chart.js` put their files (`bootstrap5/`,
    /// `chart.js/`); mapped under /vendor/ when present. The page falls back to a CDN otherwise.
    public var vendorDirectory = "/usr/share/javascript"
    /// How often idle SSE connections get a comment, so proxies and clients see they are alive.
    public var pingInterval = 15.0
    /// A `/stream` client resuming from further back than the window holds gets at most this
    /// many missed events from the history store; past it, `event: reset`.
    public var maxReplay = 10_000
    /// A subscriber whose unsent output stays over this for 2 s (or passes twice this) is disconnected.
    public var maxPendingStreamBytes = 1 << 20
    public var maxStreamDelayMilliseconds = 100
    /// Seconds a listen may be dated ahead of its Kafka record (producers' clocks drift);
    /// later ones are rejected as `in_future`.
    public var maxClockSkew = 300

    /// Most client connections served at once; more get 503. Lowered at start when the
    /// open-file limit cannot hold this many.
    public var maxConnections = 16_000
    /// Seconds a client has to send a request's head, and then its body (408 after).
    public var headerTimeout = 10.0
    /// Seconds an idle keep-alive connection stays open.
    public var idleTimeout = 30

    /// Where every listen is kept beyond the window: SQLite in `dataDirectory` by default.
    public var history: HistoryLocation = .sqlite
    /// The embedded store's directory, created on start.
    public var dataDirectory = "./data"
    /// With a shared (PostgreSQL) history and an external cluster, the consumer group in which
    /// the replicas' sinks split the partitions; nil: this server stores every partition itself.
    public var historyGroup: String? = "musicstream-history"
    /// Listens older than this are removed from the history.
    public var historyRetention: RetentionPeriod = .days(30)
    /// GET /api/export streams whole ranges of listens (with their e-mail addresses); off refuses it.
    public var exportEnabled = true

    /// When set, POST /api/events needs `Authorization: Bearer <token>`; reads stay open.
    public var writeToken: String?
    /// When set, responses carry CORS headers for this origin ("*" for any).
    public var corsOrigin: String?
    /// The OpenAPI description served at /openapi.yaml; nil: beside the page's directory, else
    /// where the page is looked for (`SiteLocation`).
    public var openAPIPath: String?

    public init() {}

    public var usesEmbeddedBroker: Bool { brokers == nil }

    /// Backfill while simulating on the embedded broker, so a new dashboard is never empty.
    public static let embeddedBackfill = 20

    /// The defaults that depend on where Kafka is, settled once `brokers` is known: without
    /// brokers the simulator runs and backfills unless told not to; with them it stays off.
    public mutating func settleSimulation(simulate requested: Bool?) {
        simulate = requested ?? usesEmbeddedBroker
        backfill = usesEmbeddedBroker && simulate ? Self.embeddedBackfill : 0
    }

    /// The start-up warning for a server others can reach that lets anyone publish: bound to
    /// a non-loopback address without a write token. Nil when there is nothing to warn about.
    public var exposureWarning: String? {
        guard writeToken == nil, !Self.isLoopback(host) else { return nil }
        return "listening on \(host), which is not a loopback address, without a write token: "
            + "anyone who can reach it can publish events (set --write-token or MUSICSTREAM_WRITE_TOKEN)"
    }

    /// 127.0.0.0/8, ::1 and localhost; anything else (0.0.0.0, ::, names) may be reachable.
    static func isLoopback(_ host: String) -> Bool {
        let lowered = host.lowercased()
        if lowered == "localhost" || lowered == "::1" || lowered == "[::1]" { return true }
        let octets = lowered.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
