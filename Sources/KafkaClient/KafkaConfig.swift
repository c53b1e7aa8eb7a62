import Logging

/// Settings for one librdkafka client. `properties` pass straight through to librdkafka
/// (e.g. `security.protocol`, `sasl.mechanism`), so any setting it documents is reachable.
public struct KafkaConfig: Sendable {
    /// The logger a client uses when it is given none: the process's logging system, label "kafka".
    public static var defaultLogger: Logger { Logger(label: "kafka") }

    /// Comma-separated `host:port` list.
    public var bootstrapServers: String
    /// Extra librdkafka properties, applied after the wrapper's defaults so they can override them.
    public var properties: [String: String]

    public init(bootstrapServers: String, properties: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.properties = properties
    }
}
