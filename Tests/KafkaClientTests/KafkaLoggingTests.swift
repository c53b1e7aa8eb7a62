import Logging
import Synchronization
import Testing
@testable import KafkaClient

/// librdkafka's own log lines reach the logger a client is given, at the matching level.
@Suite struct KafkaLoggingTests {
    @Test func librdkafkaLinesGoThroughTheClientsLogger() throws {
        let captured = CapturedLog()
        var logger = Logger(label: "test") { _ in captured }
        logger.logLevel = .debug
        // Nothing listens on port 1: librdkafka reports the refused connection as it retries.
        let consumer = try PartitionConsumer(
            config: KafkaConfig(bootstrapServers: "127.0.0.1:1"), topic: "t", name: "probe", logger: logger)
        defer { consumer.close() }
        _ = try? consumer.partitionCount(timeout: .milliseconds(1_500))
        let lines = captured.entries
        #expect(lines.contains { $0.level == .error && $0.message.hasPrefix("kafka[probe] FAIL:") && $0.message.contains("127.0.0.1:1") },
                "\(lines)")
    }

    @Test func syslogSeveritiesMapToLoggerLevels() {
        #expect(ClientState.logLevel(syslogLevel: 0) == .critical)
        #expect(ClientState.logLevel(syslogLevel: 3) == .error)
        #expect(ClientState.logLevel(syslogLevel: 4) == .warning)
        #expect(ClientState.logLevel(syslogLevel: 5) == .debug)
        #expect(ClientState.logLevel(syslogLevel: 6) == .debug)
        #expect(ClientState.logLevel(syslogLevel: 7) == .trace)
    }
}

/// A log handler that keeps what it is given, from any thread.
final class CapturedLog: LogHandler, Sendable {
    struct Entry: Sendable { var level: Logger.Level; var message: String }
    private let storage = Mutex<[Entry]>([])
    var entries: [Entry] { storage.withLock { $0 } }

    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        storage.withLock { $0.append(Entry(level: event.level, message: "\(event.message)")) }
    }
}
