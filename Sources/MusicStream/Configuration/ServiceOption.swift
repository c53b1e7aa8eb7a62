/// One setting of `serve`: its flag, its environment variable, the range it accepts and where it
/// goes in `ServiceConfig`, declared once. The command line builds its help text, its checks and
/// its environment lookup from this, and the default shown is read from `ServiceConfig` itself,
/// so no default or range is written twice.
public struct ServiceOption<Value: Comparable & Sendable> {
    /// The long flag without dashes, e.g. "max-connections".
    public let flag: String
    /// The variable read when the flag is absent, e.g. "MUSICSTREAM_MAX_CONNECTIONS".
    public let environment: String
    /// What it does, one sentence, no trailing period.
    public let summary: String
    /// Accepted values; nil accepts anything the type can spell.
    public let range: ClosedRange<Value>?
    /// The only values accepted, in the order the help lists them; nil accepts any.
    public let choices: [Value]?
    /// The default as the help text shows it; nil when there is none (the setting is off).
    public let defaultText: String?
    private let store: (inout ServiceConfig, Value) -> Void
    private let parse: (String) -> Value?
    private let spell: (Value) -> String

    /// A setting whose values are spelled as `parse` reads and `spell` writes them, with the
    /// default `ServiceConfig()` has.
    init(_ flag: String, _ keyPath: WritableKeyPath<ServiceConfig, Value>, choices: [Value],
         parse: @escaping (String) -> Value?, spell: @escaping (Value) -> String, summary: String) {
        self.flag = flag
        self.environment = Self.environmentName(flag)
        self.summary = summary
        self.range = nil
        self.choices = choices
        self.defaultText = spell(ServiceConfig()[keyPath: keyPath])
        self.store = { $0[keyPath: keyPath] = $1 }
        self.parse = parse
        self.spell = spell
    }

    /// "--max-connections" → "MUSICSTREAM_MAX_CONNECTIONS".
    static func environmentName(_ flag: String) -> String {
        "MUSICSTREAM_" + flag.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// The `--help` text: summary, variable, default and range.
    public var help: String {
        var notes = ["env \(environment)"]
        if let choices { notes.append("one of " + choices.map(spell).joined(separator: ", ")) }
        if let defaultText { notes.append("default \(defaultText)") }
        if let range { notes.append("range \(spell(range.lowerBound))...\(spell(range.upperBound))") }
        return "\(summary) (\(notes.joined(separator: "; ")))."
    }

    /// Checks a value given on the command line.
    public func check(_ value: Value?) throws(ServiceOptionError) {
        if let value { try check(value, source: "--\(flag)") }
    }

    /// Reads a value spelled on the command line (for options whose type the parser cannot read).
    public func value(_ text: String?) throws(ServiceOptionError) -> Value? {
        guard let text else { return nil }
        guard let value = parse(text) else { throw ServiceOptionError("--\(flag) must be \(kindDescription), got '\(text.prefix(64))'") }
        return value
    }

    /// The flag's value, else the environment variable's, checked, into `config`; neither leaves
    /// the default. `environment` is the process's variables (passed in so tests can set them).
    public func apply(flag value: Value?, environment variables: [String: String],
                      to config: inout ServiceConfig) throws(ServiceOptionError) {
        if let value {
            try check(value, source: "--\(flag)")
            store(&config, value)
            return
        }
        guard let text = variables[environment], !text.isEmpty else { return }
        guard let parsed = parse(text) else {
            throw ServiceOptionError("\(environment) must be \(kindDescription), got '\(text.prefix(64))'")
        }
        try check(parsed, source: environment)
        store(&config, parsed)
    }

    private func check(_ value: Value, source: String) throws(ServiceOptionError) {
        if let choices, !choices.contains(value) {
            throw ServiceOptionError("\(source) must be \(kindDescription), got \(spell(value))")
        }
        guard let range, !range.contains(value) else { return }
        throw ServiceOptionError("\(source) must be \(spell(range.lowerBound))...\(spell(range.upperBound)), got \(spell(value))")
    }

    private var kindDescription: String {
        if let choices { return "one of " + choices.map(spell).joined(separator: ", ") }
        switch Value.self {
        case is Int.Type, is UInt64.Type: return "a whole number"
        case is Double.Type: return "a number"
        default: return "text"
        }
    }
}

extension ServiceOption where Value: LosslessStringConvertible {
    /// A setting with a plain default: the one `ServiceConfig()` has.
    init(_ flag: String, _ keyPath: WritableKeyPath<ServiceConfig, Value>, range: ClosedRange<Value>? = nil,
         summary: String, defaultText: String? = nil) {
        self.flag = flag
        self.environment = Self.environmentName(flag)
        self.summary = summary
        self.range = range
        self.choices = nil
        self.defaultText = defaultText ?? ServiceConfig()[keyPath: keyPath].description
        self.store = { $0[keyPath: keyPath] = $1 }
        self.parse = { Value($0) }
        self.spell = { $0.description }
    }

    /// A setting that is unset unless given (nil in `ServiceConfig`).
    init(_ flag: String, _ keyPath: WritableKeyPath<ServiceConfig, Value?>, range: ClosedRange<Value>? = nil,
         summary: String, defaultText: String? = nil) {
        self.flag = flag
        self.environment = Self.environmentName(flag)
        self.summary = summary
        self.range = range
        self.choices = nil
        self.defaultText = defaultText
        self.store = { $0[keyPath: keyPath] = $1 }
        self.parse = { Value($0) }
        self.spell = { $0.description }
    }
}

/// A setting given out of range or unparsable; the message names the flag or variable.
public struct ServiceOptionError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
