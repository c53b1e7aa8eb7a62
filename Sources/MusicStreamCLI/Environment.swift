import ArgumentParser
import Foundation

/// `MUSICSTREAM_*` environment variables: every flag has one, so containers need no command line.
enum Environment {
    static func string(_ name: String, in environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard let value = environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// A yes/no variable: true/yes/1 or false/no/0 (any case); unset or empty is false.
    static func flag(_ name: String, in environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Bool {
        guard let value = string(name, in: environment) else { return false }
        switch value.lowercased() {
        case "true", "yes", "1": return true
        case "false", "no", "0": return false
        default: throw ValidationError("\(name) must be true or false, got '\(value)'")
        }
    }

    /// Kafka client properties from `--kafka-config key=value` flags and `MUSICSTREAM_KAFKA_*`
    /// variables (`MUSICSTREAM_KAFKA_SASL_MECHANISM=PLAIN` → `sasl.mechanism=PLAIN`). Flags win.
    static func kafkaProperties(
        flags: [String], environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> [String: String] {
        var properties: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix("MUSICSTREAM_KAFKA_") {
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
