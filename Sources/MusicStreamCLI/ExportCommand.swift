import ArgumentParser
import Foundation
import MusicStream

/// `musicstream export`: every stored listen the filters select, as CSV or NDJSON, to standard
/// output or a file — what GET /api/export serves, read straight from the history store.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the history's listens (all, or those the filters select) as CSV or NDJSON.")

    @Option(help: .init(ServeOptions.history.help)) var history: String?
    @Option(help: .init(ServeOptions.dataDir.help)) var dataDir: String?
    @Option(help: "The API's filter parameters as a query string, e.g. 'genre=Pop&since=1764800000000'.")
    var filter = ""
    @Option(help: "csv or ndjson.") var format = "csv"
    @Option(name: .shortAndLong, help: "File to write (replaced); standard output when absent.") var output: String?

    func run() throws {
        var config = ServiceConfig()
        let environment = ProcessInfo.processInfo.environment
        do {
            try ServeOptions.history.apply(flag: ServeOptions.history.value(history), environment: environment, to: &config)
            try ServeOptions.dataDir.apply(flag: dataDir, environment: environment, to: &config)
        } catch {
            throw ValidationError("\(error)")
        }
        let handle: FileHandle
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: nil) , let file = FileHandle(forWritingAtPath: output) else {
                throw ValidationError("cannot write \(output)")
            }
            handle = file
        } else {
            handle = FileHandle.standardOutput
        }
        do {
            let count = try HistoryFileExport.run(
                location: config.history, dataDirectory: config.dataDirectory, query: filter, format: format
            ) { bytes in
                do {
                    try handle.write(contentsOf: bytes)
                    return true
                } catch {
                    return false
                }
            }
            try? handle.close()
            FileHandle.standardError.write(Data("musicstream export: \(count) listens\n".utf8))
        } catch {
            FileHandle.standardError.write(Data("musicstream export: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
