internal import CRdKafka

/// Facts about the librdkafka the process is linked against.
public enum Librdkafka {
    /// e.g. "2.0.2".
    public static var version: String { String(cString: rd_kafka_version_str()) }

    /// `0xMMmmrrxx`, comparable with `minimumForTaggedFields`.
    public static var versionNumber: Int { Int(rd_kafka_version()) }

    /// Versions before 2.2.0 skip KIP-482 tagged fields one byte short and cannot finish the
    /// ApiVersions handshake with brokers that send them (upstream fix #4278).
    public static let minimumForTaggedFields = 0x0202_00ff

    /// A warning to print at start-up, or nil when this librdkafka is new enough.
    public static var outdatedWarning: String? {
        guard versionNumber < minimumForTaggedFields else { return nil }
        return "librdkafka \(version) is older than 2.2.0: brokers whose ApiVersions response carries "
            + "tagged fields (KRaft brokers, Tansu) may fail the handshake; use librdkafka >= 2.2"
    }
}
