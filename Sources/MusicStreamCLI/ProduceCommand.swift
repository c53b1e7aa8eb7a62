import ArgumentParser
import Foundation
import KafkaClient
import Logging
import MusicModel
import MusicStream

/// The original producer.py: simulated listens to Kafka, each printed as it is sent.
struct ProduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce", abstract: "Produce simulated listen events to Kafka, printing each one.")

    @Option(help: "Kafka bootstrap servers host:port,... (env MUSICSTREAM_BROKERS).") var brokers: String?
    @Option(help: "Topic (env MUSICSTREAM_TOPIC).") var topic: String?
    @Option(help: "Events per second (default 0.5, one every 2 s).") var rate: Double = 0.5
    @Option(help: "Stop after this many events (default: until Ctrl-C).") var count: Int?
    @Option(help: "Seed for a reproducible sequence.") var seed: UInt64?
    @Flag(help: "Do not print each event (for high rates).") var quiet = false
    @Option(help: ArgumentHelp(
        "Stamp the --count events evenly over this span ending now (24h, 90m, 3600s: as --history-retention), "
            + "oldest first, instead of with the time each is sent: a day of history in one go.")) var spread: String?
    @Option(name: .customLong("kafka-config"), help: "librdkafka property key=value, repeatable.") var kafkaConfig: [String] = []
    @Option(help: .init(ServeOptions.logLevel.help)) var logLevel: String?

    func validate() throws {
        guard rate > 0 && rate <= 1_000_000 else { throw ValidationError("--rate must be > 0 and <= 1000000") }
        if let count, count < 0 { throw ValidationError("--count must be >= 0") }
        if spread != nil {
            _ = try spreadSpan()
            guard let count, count > 0 else { throw ValidationError("--spread needs a --count above 0") }
        }
    }

    /// --spread in milliseconds; "forever" spans nothing, so only a number with a unit is taken.
    private func spreadSpan() throws -> Int64 {
        guard let spread, let seconds = RetentionPeriod(spread)?.seconds else {
            throw ValidationError("--spread must be a number with a unit: 24h, 90m, 3600s or 7d")
        }
        return seconds * 1000
    }

    func run() throws {
        let logger = try ProcessLog.start(flag: logLevel)
        guard let brokers = brokers ?? Environment.string("MUSICSTREAM_BROKERS") else {
            throw ValidationError("produce needs --brokers (or MUSICSTREAM_BROKERS); `serve` prints its embedded broker's address")
        }
        let topic = topic ?? Environment.string("MUSICSTREAM_TOPIC") ?? "music-streams"
        StopSignal.install()
        let producer = try KafkaProducer(
            config: KafkaConfig(bootstrapServers: brokers, properties: try Environment.kafkaProperties(flags: kafkaConfig)),
            logger: logger)
        var simulator = Simulator(seed: seed ?? UInt64.random(in: 0...UInt64.max))
        let start = Date()
        // validate() has checked that --spread comes with a --count.
        var spreadClock: SpreadTimestamps?
        if spread != nil, let count {
            spreadClock = SpreadTimestamps(
                count: count, span: try spreadSpan(), end: Int64((start.timeIntervalSince1970 * 1000).rounded()))
        }
        var sent = 0
        var failedToQueue = 0
        while !StopSignal.isRequested && (count == nil || sent < count!) {
            let event = simulator.next(
                timestamp: spreadClock?.timestamp(at: sent) ?? Int64(Date().timeIntervalSince1970 * 1000))
            let value = event.canonicalJSON()
            do {
                try producer.send(topic: topic, key: Array(event.userID.utf8), value: value)
                if !quiet { StandardOutput.line(String(decoding: value, as: UTF8.self)) }
            } catch {
                failedToQueue += 1
                logger.error("\(error)")
            }
            sent += 1
            let due = start.addingTimeInterval(Double(sent) / rate)
            while !StopSignal.isRequested && Date() < due {
                Thread.sleep(forTimeInterval: min(0.1, due.timeIntervalSinceNow))
            }
        }
        let undelivered = producer.close(timeout: .seconds(10))
        let failed = producer.failedCount + undelivered
        logger.info("produced \(producer.deliveredCount) of \(sent) events to \(topic)")
        if failed > 0 || failedToQueue > 0 {
            logger.error("\(failed) events were not delivered")
            throw ExitCode(1)
        }
    }
}
