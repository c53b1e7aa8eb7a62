import Logging
import MusicModel

/// Every valued setting of `serve`, in the order `--help` lists them. Add a setting here (and its
/// field, with its default, in `ServiceConfig`); the command line picks it up from both.
public enum ServeOptions {
    public static var logLevel: ServiceOption<Logger.Level> {
        .init("log-level", \.logLevel, choices: Logger.Level.allCases,
              parse: { Logger.Level(rawValue: $0.lowercased()) ?? ($0.lowercased() == "warn" ? .warning : nil) },
              spell: \.rawValue, summary: "Least severe log lines written to standard error")
    }
    public static var host: ServiceOption<String> { .init("host", \.host, summary: "Address to listen on") }
    public static var port: ServiceOption<Int> {
        .init("port", \.port, range: 0...65_535, summary: "Port to listen on; 0 picks a free one")
    }
    public static var brokers: ServiceOption<String> {
        .init("brokers", \.brokers, summary: "Kafka bootstrap servers host:port,...",
              defaultText: "none: an embedded broker starts in the process")
    }
    public static var topic: ServiceOption<String> { .init("topic", \.topic, summary: "Topic to consume") }
    public static var partitions: ServiceOption<Int> {
        .init("partitions", \.partitions, range: 1...10_000, summary: "Partitions of the topic when the server creates it")
    }
    public static var replicationFactor: ServiceOption<Int> {
        .init("replication-factor", \.replicationFactor, range: 1...100,
              summary: "Replication factor of the topic when the server creates it on a cluster")
    }
    public static var window: ServiceOption<Int> {
        .init("window", \.windowCapacity, range: 1...10_000_000, summary: "Events kept in memory and served")
    }
    public static var rate: ServiceOption<Double> {
        .init("rate", \.rate, range: 0...1_000_000, summary: "Simulated events per second (0.5 is one every 2 s)")
    }
    public static var traffic: ServiceOption<TrafficPlan.Shape> {
        .init("traffic", \.traffic, choices: TrafficPlan.Shape.allCases,
              parse: { TrafficPlan.Shape(rawValue: $0.lowercased()) }, spell: \.rawValue,
              summary: "Shape of the simulated pace: steady; spikes (bursts of 10x the rate for 30 s every 1-4 minutes); diurnal (a day in 10 minutes, 0.2x to 1.8x)")
    }
    public static var spikeGap: ServiceOption<Double> {
        .init("spike-gap", \.spikeGap, range: 1...86_400,
              summary: "With --traffic spikes: mean seconds of quiet between bursts (each drawn from 0.4x to 1.6x of it)")
    }
    public static var seed: ServiceOption<UInt64> {
        .init("seed", \.seed, summary: "Seed for a reproducible simulation", defaultText: "random")
    }
    public static var backfill: ServiceOption<Int> {
        .init("backfill", \.backfill, range: 0...100_000,
              summary: "Simulated events produced at start, stamped over the recent past",
              defaultText: "\(ServiceConfig.embeddedBackfill) while simulating on the embedded broker, else 0")
    }
    public static var history: ServiceOption<HistoryLocation> {
        .init("history", \.history,
              summary: "Where every listen is kept beyond the window: sqlite (a file in --data-dir), postgres://user@host:port/db (shared by replicas), or none")
    }
    public static var dataDir: ServiceOption<String> {
        .init("data-dir", \.dataDirectory, summary: "Directory of the SQLite history (created on start)")
    }
    public static var historyGroup: ServiceOption<String> {
        .init("history-group", \.historyGroup,
              summary: "With --history postgres://... and --brokers: the Kafka consumer group in which replicas' history sinks split the partitions (each partition's offset is stored with its rows); none: this server stores every partition itself (for brokers without consumer groups)",
              defaultText: "musicstream-history")
    }
    public static var historyRetention: ServiceOption<RetentionPeriod> {
        .init("history-retention", \.historyRetention,
              summary: "How long the history keeps a listen: a number with a unit (30d, 12h, 90m, 3600s) or forever")
    }
    public static var publicDir: ServiceOption<String> {
        .init("public-dir", \.publicDirectory, summary: "Directory of the page (index.html and what it loads)",
              defaultText: "Public/ beside the executable, in PREFIX/share/musicstream/, in the package it was built in, else in the working directory")
    }
    public static var openAPIFile: ServiceOption<String> {
        .init("openapi-file", \.openAPIPath, summary: "The OpenAPI description served at /openapi.yaml",
              defaultText: "openapi.yaml beside the page's directory, else where the page is looked for")
    }
    public static var vendorDir: ServiceOption<String> {
        .init("vendor-dir", \.vendorDirectory,
              summary: "Directory holding Debian's bootstrap5/ and chart.js/, served under /vendor/")
    }
    public static var writeToken: ServiceOption<String> {
        .init("write-token", \.writeToken, summary: "Require Authorization: Bearer <token> to publish events",
              defaultText: "none: anyone may publish")
    }
    public static var corsOrigin: ServiceOption<String> {
        .init("cors-origin", \.corsOrigin, summary: "Allow cross-origin browser requests from this origin, or *",
              defaultText: "off")
    }
    public static var maxConnections: ServiceOption<Int> {
        .init("max-connections", \.maxConnections, range: 1...1_000_000,
              summary: "Most client connections served at once; more get 503 (lowered to fit the open-file limit)")
    }
    public static var headerTimeout: ServiceOption<Double> {
        .init("header-timeout", \.headerTimeout, range: 0.1...3_600,
              summary: "Seconds a client has to send a request's headers, and then its body; slower ones get 408")
    }
    public static var idleTimeout: ServiceOption<Int> {
        .init("idle-timeout", \.idleTimeout, range: 1...86_400, summary: "Seconds an idle keep-alive connection stays open")
    }
    /// Below a few KiB a single burst of events would cut off healthy readers; above 1 GiB one
    /// stalled subscriber could hold more memory than the whole window.
    public static var maxReplay: ServiceOption<Int> {
        .init("max-replay", \.maxReplay, range: 0...1_000_000,
              summary: "Most missed events a resuming /stream client is sent from the history store when the window no longer holds its position (past it: event: reset)")
    }
    /// A few minutes covers producers whose clocks drift; a listen dated further ahead would
    /// lead every newest-first answer and stretch the timeline until the window lets it go.
    public static var maxClockSkew: ServiceOption<Int> {
        .init("max-clock-skew", \.maxClockSkew, range: 0...86_400,
              summary: "Seconds a listen may be dated ahead of its Kafka record's time; later ones are rejected (reason in_future)")
    }
    public static var maxStreamBuffer: ServiceOption<Int> {
        .init("max-stream-buffer", \.maxPendingStreamBytes, range: 4_096...1_073_741_824,
              summary: "Unsent bytes a /stream subscriber may hold; one over it for 2 s, or past twice it, is disconnected")
    }
    /// A socket write costs about the same for one event as for several, and with thousands of
    /// subscribers the writes are the server's whole cost; a tenth of a second is not seen on a
    /// dashboard. Up to a second, so a stream never looks stalled.
    public static var maxStreamDelay: ServiceOption<Int> {
        .init("max-stream-delay", \.maxStreamDelayMilliseconds, range: 0...1_000,
              summary: "Least milliseconds between two rounds of /stream writes, so the longest an event waits to share a write with the next ones; reached at 10,000 subscribers (proportionally less below, none under 500; 0: every batch at once)")
    }
}
