import ArgumentParser
import Foundation
import Logging
import MusicStream

/// The process's logging: `LineLogHandler` (the log's line format) on standard error, at the level
/// `--log-level` or `MUSICSTREAM_LOG_LEVEL` asks for. Each command starts it once, first thing.
enum ProcessLog {
    static func start(level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { _ in LineLogHandler(level: level) }
        return Logger(label: "musicstream")
    }

    /// For the Kafka tools: the level from their `--log-level` flag or the variable.
    static func start(flag: String?) throws -> Logger {
        var config = ServiceConfig()
        do {
            try ServeOptions.logLevel.apply(
                flag: ServeOptions.logLevel.value(flag), environment: ProcessInfo.processInfo.environment, to: &config)
        } catch {
            throw ValidationError(error.description)
        }
        return start(level: config.logLevel)
    }
}
