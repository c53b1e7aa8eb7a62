import ArgumentParser

/// `musicstream`: the server and the two Kafka tools of the original project.
@main
struct MusicStreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "musicstream",
        abstract: "Real-time music-listening analytics over Kafka: live dashboard, REST API and SSE stream.",
        subcommands: [ServeCommand.self, BrokerCommand.self, ProduceCommand.self, ConsumeCommand.self, ExportCommand.self],
        defaultSubcommand: ServeCommand.self)
}
