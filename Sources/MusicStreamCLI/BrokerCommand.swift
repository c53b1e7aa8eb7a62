import ArgumentParser
import Foundation
import KafkaClient
import MusicStream

/// The embedded broker on its own: several servers (and kcat, Python clients) share it the way
/// they would share a Kafka cluster, with no Kafka installed. Its log lives in memory and ends
/// with the process.
struct BrokerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run only the embedded Kafka broker (in memory, loopback) for several servers to share.")

    @Option(help: "Bootstrap port on 127.0.0.1 (0: any free port).") var port = 9092
    @Option(help: "Partitions of the topic.") var partitions = 3
    @Option(help: "Topic to create (env MUSICSTREAM_TOPIC).") var topic: String?
    @Option(help: .init(ServeOptions.logLevel.help)) var logLevel: String?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0-65535, got \(port)") }
        guard (1...1_000).contains(partitions) else { throw ValidationError("--partitions must be 1-1000, got \(partitions)") }
    }

    func run() throws {
        let logger = try ProcessLog.start(flag: logLevel)
        let topic = topic ?? Environment.string("MUSICSTREAM_TOPIC") ?? "music-streams"
        StopSignal.install()
        let cluster = try EmbeddedCluster(topics: [(topic, partitions)], logger: logger)
        let forwarder = try BootstrapForwarder(port: port, to: cluster.bootstrapServers)
        forwarder.start()
        logger.info("embedded broker: topic \(topic) with \(partitions) partitions; broker at \(cluster.bootstrapServers)")
        // The one line scripts read: where clients bootstrap.
        StandardOutput.line("bootstrap: \(forwarder.address)")
        while !StopSignal.isRequested { usleep(100_000) }
        forwarder.stop()
        logger.info("embedded broker stopped")
        withExtendedLifetime(cluster) {}
    }
}
