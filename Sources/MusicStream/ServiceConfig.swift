import Foundation

/// Everything `serve` can be told, with the product's defaults. Built by the executable from flags
/// and environment variables; the service never reads either itself.
public struct ServiceConfig: Sendable {
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
    public var simulate = true
    /// Simulated events per second (0.5 = one every 2 s, as the original producer did).
    public var rate = 0.5
    public var seed: UInt64?
    /// Events the simulator produces at once on start, stamped over the recent past, so a new
    /// dashboard has something to show. 0 turns it off.
    public var backfill = 0
    /// Extra librdkafka properties for every client (SASL, TLS, ...).
    public var kafkaProperties: [String: String] = [:]
    /// Directory of the page; nil: found next to the working directory or the executable.
    public var publicDirectory: String?
    /// Where Debian's `libjs-bootstrap5` and `libjs-chart.js` put their files (`bootstrap5/`,
    /// `chart.js/`); mapped under /vendor/ when present. The page falls back to a CDN otherwise.
    public var vendorDirectory = "/usr/share/javascript"
    /// How often idle SSE connections get a comment, so proxies and clients see they are alive.
    public var pingInterval = 15.0
    /// A subscriber whose unsent output passes this is disconnected.
    public var maxPendingStreamBytes = 1 << 20

    /// When set, POST /api/events needs `Authorization: Bearer <token>`; reads stay open.
    public var writeToken: String?
    /// When set, responses carry CORS headers for this origin ("*" for any).
    public var corsOrigin: String?
    /// The OpenAPI description served at /openapi.yaml; nil: next to the page's directory.
    public var openAPIPath: String?

    public init() {}

    public var usesEmbeddedBroker: Bool { brokers == nil }
}
