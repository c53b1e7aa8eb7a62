import ArgumentParser
import Foundation

/// `MUSICSTREAM_*` environment variables: every flag has one, so containers need no command line.
enum Environment {
    static func string(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// Kafka client properties from `--kafka-config key=value` flags and `MUSICSTREAM_KAFKA_*`
    /// variables (`MUSICSTREAM_KAFKA_SASL_MECHANISM=PLAIN` → `sasl.mechanism=PLAIN`). Flags win.
    static func kafkaProperties(flags: [String]) throws -> [String: String] {
        var properties: [String: String] = [:]
        for (name, value) in ProcessInfo.processInfo.environment where name.hasPrefix("MUSICSTREAM_KAFKA_") {
            let key = name.dropFirst("MUSICSTREAM_KAFKA_".count).lowercased().replacingOccurrences(of: "_", with: ".")
            properties[key] = value
        }
        for flag in flags {
            guard let equals = flag.firstIndex(of: "="), equals != flag.startIndex else {
                throw ValidationError("--kafka-config takes key=value, got '\(flag)'")
            }
            properties[String(flag[..<equals])] = String(flag[flag.index(after: equals)...])
        }
        return properties
    }
}
