import Logging
import Synchronization
import Testing
@testable import MusicStream

/// The default log line: `<UTC time> <level> <message>[ key=value...]`, filtered by level.
@Suite struct LineLogHandlerTests {
    @Test func linesKeepTheLogsFormat() throws {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "t") { _ in LineLogHandler(level: .info) { line in lines.withLock { $0.append(line) } } }
        logger.debug("not shown at info")
        logger.warning("kafka: cluster unreachable")
        logger[metadataKey: "topic"] = "music-streams"
        logger.info("consuming")
        let written = lines.withLock { $0 }
        #expect(written.count == 2)
        let pattern = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warn kafka: cluster unreachable\n$/
        #expect(try pattern.wholeMatch(in: written[0]) != nil, "\(written[0])")
        #expect(written[1].hasSuffix(" info consuming topic=music-streams\n"))
    }

    @Test func levelOptionAcceptsEveryLevelAndWarn() throws {
        for level in Logger.Level.allCases {
            #expect(try ServeOptions.logLevel.value(level.rawValue.uppercased()) == level)
        }
        #expect(try ServeOptions.logLevel.value("warn") == .warning)
        #expect(throws: ServiceOptionError.self) { try ServeOptions.logLevel.value("verbose") }
    }
}
