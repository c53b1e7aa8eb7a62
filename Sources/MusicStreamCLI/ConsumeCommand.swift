import ArgumentParser
import Foundation
import KafkaClient
import Logging
import MusicModel
import MusicStream

/// The original consumer.py: a consumer-group member that prints each listen it receives.
struct ConsumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume", abstract: "Consume listen events as a consumer-group member, printing each one.")

    @Option(help: "Kafka bootstrap servers host:port,... (env MUSICSTREAM_BROKERS).") var brokers: String?
    @Option(help: "Topic (env MUSICSTREAM_TOPIC).") var topic: String?
    @Option(help: "Consumer group.") var group = "music-group"
    @Flag(help: "Start from the oldest retained event when the group has no committed offset.") var fromBeginning = false
    @Option(help: "Stop after this many events.") var count: Int?
    @Option(name: .customLong("kafka-config"), help: "librdkafka property key=value, repeatable.") var kafkaConfig: [String] = []
    @Option(help: .init(ServeOptions.logLevel.help)) var logLevel: String?

    func run() throws {
        let logger = try ProcessLog.start(flag: logLevel)
        guard let brokers = brokers ?? Environment.string("MUSICSTREAM_BROKERS") else {
            throw ValidationError("consume needs --brokers (or MUSICSTREAM_BROKERS); `serve` prints its embedded broker's address")
        }
        let topic = topic ?? Environment.string("MUSICSTREAM_TOPIC") ?? "music-streams"
        StopSignal.install()
        let consumer = try GroupConsumer(
            config: KafkaConfig(bootstrapServers: brokers, properties: try Environment.kafkaProperties(flags: kafkaConfig)),
            group: group, topics: [topic], fromBeginning: fromBeginning, logger: logger)
        var received = 0
        while !StopSignal.isRequested && (count == nil || received < count!) {
            guard let message = consumer.next(timeout: .milliseconds(200), onError: { logger.warning("\($0)") }) else { continue }
            let origin = EventOrigin(topic: message.topic, partition: message.partition, offset: message.offset)
            do {
                let event = try EventDecoder.decode(message.value, origin: origin)
                StandardOutput.line(String(decoding: event.canonicalJSON(), as: UTF8.self))
                received += 1
            } catch {
                logger.warning("rejected \(message.topic)[\(message.partition)]@\(message.offset): \(error.reason.rawValue): \(error.detail)")
            }
        }
        consumer.close()
    }
}
