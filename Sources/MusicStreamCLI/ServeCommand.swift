import ArgumentParser
import Foundation
import MusicStream

/// Runs the server: Kafka consumer, live window, REST API, SSE stream and the dashboard. Each
/// valued flag is declared in `ServeOptions`, which gives its help, range and variable.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the dashboard, REST API and SSE stream (default).",
        discussion: "With no --brokers, an embedded Kafka broker starts inside the process and the simulator feeds it.")

    @Option(help: .init(ServeOptions.logLevel.help)) var logLevel: String?
    @Option(help: .init(ServeOptions.host.help)) var host: String?
    @Option(help: .init(ServeOptions.port.help)) var port: Int?
    @Option(help: .init(ServeOptions.brokers.help)) var brokers: String?
    @Option(help: .init(ServeOptions.topic.help)) var topic: String?
    @Option(help: .init(ServeOptions.window.help)) var window: Int?
    @Option(help: .init(ServeOptions.partitions.help)) var partitions: Int?
    @Option(help: .init(ServeOptions.replicationFactor.help)) var replicationFactor: Int?
    @Flag(inversion: .prefixedNo, help: "Produce simulated listens (default: on with the embedded broker, off with --brokers).")
    var simulate: Bool?
    @Option(help: .init(ServeOptions.rate.help)) var rate: Double?
    @Option(help: .init(ServeOptions.traffic.help)) var traffic: String?
    @Option(help: .init(ServeOptions.spikeGap.help)) var spikeGap: Double?
    @Option(help: .init(ServeOptions.seed.help)) var seed: UInt64?
    @Option(help: .init(ServeOptions.backfill.help)) var backfill: Int?
    @Flag(help: "Read every partition from its oldest kept event, not just enough to refill the window (env MUSICSTREAM_FROM_BEGINNING).")
    var fromBeginning = false
    @Option(help: .init(ServeOptions.history.help)) var history: String?
    @Option(help: .init(ServeOptions.dataDir.help)) var dataDir: String?
    @Option(help: .init(ServeOptions.historyGroup.help)) var historyGroup: String?
    @Option(help: .init(ServeOptions.historyRetention.help)) var historyRetention: String?
    @Flag(help: "Refuse GET /api/export: listens carry e-mail addresses (env MUSICSTREAM_NO_EXPORT).")
    var noExport = false
    @Option(help: .init(ServeOptions.publicDir.help)) var publicDir: String?
    @Option(help: .init(ServeOptions.vendorDir.help)) var vendorDir: String?
    @Option(help: .init(ServeOptions.openAPIFile.help)) var openapiFile: String?
    @Option(help: .init(ServeOptions.writeToken.help)) var writeToken: String?
    @Option(help: .init(ServeOptions.corsOrigin.help)) var corsOrigin: String?
    @Option(name: .customLong("kafka-config"), help: "librdkafka property key=value, repeatable (env MUSICSTREAM_KAFKA_*).")
    var kafkaConfig: [String] = []
    @Option(help: .init(ServeOptions.maxConnections.help)) var maxConnections: Int?
    @Option(help: .init(ServeOptions.headerTimeout.help)) var headerTimeout: Double?
    @Option(help: .init(ServeOptions.idleTimeout.help)) var idleTimeout: Int?
    @Option(help: .init(ServeOptions.maxStreamBuffer.help)) var maxStreamBuffer: Int?
    @Option(help: .init(ServeOptions.maxStreamDelay.help)) var maxStreamDelay: Int?
    @Option(help: .init(ServeOptions.maxReplay.help)) var maxReplay: Int?
    @Option(help: .init(ServeOptions.maxClockSkew.help)) var maxClockSkew: Int?

    /// Flags are checked before anything runs (and refused with the usage line); the
    /// environment's values are checked when `run` reads them.
    func validate() throws {
        do {
            _ = try makeConfig(environment: [:])
        } catch let error as ServiceOptionError {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        let config: ServiceConfig
        do {
            config = try makeConfig(environment: ProcessInfo.processInfo.environment)
        } catch let error as ServiceOptionError {
            throw ValidationError(error.description)
        }
        let logger = ProcessLog.start(level: config.logLevel)
        do {
            try MusicStreamServer(config: config, logger: logger).run()
        } catch {
            logger.error("\(error)")
            throw ExitCode(1)
        }
    }

    /// Flags first, then `MUSICSTREAM_*` variables, then `ServiceConfig`'s defaults.
    func makeConfig(environment: [String: String]) throws -> ServiceConfig {
        var config = ServiceConfig()
        try ServeOptions.logLevel.apply(flag: ServeOptions.logLevel.value(logLevel), environment: environment, to: &config)
        try ServeOptions.host.apply(flag: host, environment: environment, to: &config)
        try ServeOptions.port.apply(flag: port, environment: environment, to: &config)
        try ServeOptions.brokers.apply(flag: brokers, environment: environment, to: &config)
        try ServeOptions.topic.apply(flag: topic, environment: environment, to: &config)
        try ServeOptions.window.apply(flag: window, environment: environment, to: &config)
        try ServeOptions.partitions.apply(flag: partitions, environment: environment, to: &config)
        try ServeOptions.replicationFactor.apply(flag: replicationFactor, environment: environment, to: &config)
        config.settleSimulation(simulate: simulate)
        try ServeOptions.rate.apply(flag: rate, environment: environment, to: &config)
        try ServeOptions.traffic.apply(flag: ServeOptions.traffic.value(traffic), environment: environment, to: &config)
        try ServeOptions.spikeGap.apply(flag: spikeGap, environment: environment, to: &config)
        try ServeOptions.seed.apply(flag: seed, environment: environment, to: &config)
        try ServeOptions.backfill.apply(flag: backfill, environment: environment, to: &config)
        config.fromBeginning = try fromBeginning || Environment.flag("MUSICSTREAM_FROM_BEGINNING", in: environment)
        try ServeOptions.history.apply(flag: ServeOptions.history.value(history), environment: environment, to: &config)
        try ServeOptions.dataDir.apply(flag: dataDir, environment: environment, to: &config)
        try ServeOptions.historyGroup.apply(flag: historyGroup, environment: environment, to: &config)
        if config.historyGroup == "none" { config.historyGroup = nil }   // every partition, no group
        try ServeOptions.historyRetention.apply(
            flag: ServeOptions.historyRetention.value(historyRetention), environment: environment, to: &config)
        config.exportEnabled = try !(noExport || Environment.flag("MUSICSTREAM_NO_EXPORT", in: environment))
        try ServeOptions.publicDir.apply(flag: publicDir, environment: environment, to: &config)
        try ServeOptions.vendorDir.apply(flag: vendorDir, environment: environment, to: &config)
        try ServeOptions.openAPIFile.apply(flag: openapiFile, environment: environment, to: &config)
        config.kafkaProperties = try Environment.kafkaProperties(flags: kafkaConfig, environment: environment)
        try ServeOptions.writeToken.apply(flag: writeToken, environment: environment, to: &config)
        try ServeOptions.corsOrigin.apply(flag: corsOrigin, environment: environment, to: &config)
        try ServeOptions.maxConnections.apply(flag: maxConnections, environment: environment, to: &config)
        try ServeOptions.headerTimeout.apply(flag: headerTimeout, environment: environment, to: &config)
        try ServeOptions.idleTimeout.apply(flag: idleTimeout, environment: environment, to: &config)
        try ServeOptions.maxStreamBuffer.apply(flag: maxStreamBuffer, environment: environment, to: &config)
        try ServeOptions.maxStreamDelay.apply(flag: maxStreamDelay, environment: environment, to: &config)
        try ServeOptions.maxReplay.apply(flag: maxReplay, environment: environment, to: &config)
        try ServeOptions.maxClockSkew.apply(flag: maxClockSkew, environment: environment, to: &config)
        return config
    }
}
