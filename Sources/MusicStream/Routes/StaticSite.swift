import EventHTTP
import Foundation
import Logging
import MusicAPI

/// The page and what it loads: `Public/`, Debian's Bootstrap and Chart.js under `/vendor/`, the
/// OpenAPI description at `/openapi.yaml`, and the headers every response carries.
struct StaticSite {
    let files: StaticFiles
    /// `openapi.yaml`'s bytes; nil when it was not found (the route then answers 404).
    let openAPI: [UInt8]?

    init(config: ServiceConfig, logger: Logger) {
        let publicDirectory = config.publicDirectory ?? Self.locatePublicDirectory()
        files = StaticFiles(root: publicDirectory, extraMounts: Self.vendorMounts(in: config.vendorDirectory))
        let specPath = config.openAPIPath
            ?? URL(fileURLWithPath: publicDirectory).deletingLastPathComponent().appendingPathComponent("openapi.yaml").path
        openAPI = FileManager.default.contents(atPath: specPath).map(Array.init)
        if openAPI == nil { logger.warning("no OpenAPI description at \(specPath); /openapi.yaml will answer 404") }
    }

    func openAPIDescription(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        try EventQuery.requireNone(request)
        guard let openAPI else { throw ProblemDetails(status: 404, title: "Not Found", detail: "no OpenAPI description on this server") }
        return .respond(HTTPResponse(status: 200, headers: [(name: "Content-Type", value: "application/yaml")], body: openAPI))
    }

    /// Everything no route matched: under /api/ a miss is an API error, elsewhere a file.
    func file(_ request: HTTPRequest) -> RouteResult {
        if request.path.hasPrefix("/api/") || request.path == "/api" {
            return .respond(ProblemDetails(status: 404, title: "Not found", detail: "no API endpoint at \(request.path.prefix(200))").response)
        }
        return files.handle(request)
    }

    /// The one other origin the page may load code from: its CDN fallback for Bootstrap and
    /// Chart.js when Debian's copies are not installed (pinned versions, SRI-checked; see Public/vendor.js).
    static let assetCDN = "https://cdnjs.cloudflare.com"

    /// Headers on every response: no MIME sniffing, no referrer leaks, and a CSP that allows only
    /// the page's own scripts and styles plus the asset CDN (no inline script).
    static let securityHeaders: [(name: String, value: String)] = [
        (name: "X-Content-Type-Options", value: "nosniff"),
        (name: "Referrer-Policy", value: "no-referrer"),
        (name: "Content-Security-Policy", value:
            "default-src 'self'; script-src 'self' \(assetCDN); style-src 'self' \(assetCDN); img-src 'self' data:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"),
    ]

    /// Debian's packaged Bootstrap and Chart.js under `directory`, served under /vendor/ when installed.
    static func vendorMounts(in directory: String) -> [(prefix: String, directory: String)] {
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        let candidates = [
            (prefix: "/vendor/bootstrap/", directory: base + "bootstrap5/"),
            (prefix: "/vendor/chart.js/", directory: base + "chart.js/"),
        ]
        return candidates.filter { FileManager.default.fileExists(atPath: $0.directory) }
    }

    /// `Public/` in the working directory, else next to the checkout the executable was built in.
    static func locatePublicDirectory() -> String {
        let fileManager = FileManager.default
        let local = fileManager.currentDirectoryPath + "/Public"
        if fileManager.fileExists(atPath: local + "/index.html") { return local }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = directory.appendingPathComponent("Public").path
            if fileManager.fileExists(atPath: candidate + "/index.html") { return candidate }
            directory.deleteLastPathComponent()
        }
        return local
    }
}
