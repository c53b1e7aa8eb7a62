import EventHTTP
import Foundation
import Logging
import MusicAPI

/// The page and what it loads: `Public/`, Debian's Bootstrap and Chart.js under `/vendor/`, the
/// OpenAPI description at `/openapi.yaml`, and the headers every response carries.
struct StaticSite {
    let files: StaticFiles
    /// False when no `Public/index.html` was found: the page's paths then answer a problem
    /// saying the page is not installed, instead of a bare 404.
    let hasPage: Bool
    /// `openapi.yaml`'s bytes; nil when it was not found (the route then answers 404).
    let openAPI: [UInt8]?

    init(config: ServiceConfig, logger: Logger) {
        let location = SiteLocation.find(
            publicDirectory: config.publicDirectory, openAPIPath: config.openAPIPath,
            executable: SiteLocation.currentExecutable(), workingDirectory: FileManager.default.currentDirectoryPath)
        let vendor = Self.vendorMounts(in: config.vendorDirectory)
        // With no page, an empty root: StaticFiles serves nothing from it, /vendor/ still works.
        files = StaticFiles(root: location.publicDirectory ?? "", extraMounts: vendor)
        hasPage = location.publicDirectory != nil
        openAPI = location.openAPIPath.flatMap { FileManager.default.contents(atPath: $0) }.map(Array.init)

        if let page = location.publicDirectory {
            logger.info("page: \(page)")
        } else if config.publicDirectory != nil {
            logger.warning("no page: \(location.searchedPublic[0]) (--public-dir or MUSICSTREAM_PUBLIC_DIR) has no index.html; / answers 404 until it does")
        } else {
            logger.warning("no page: looked for Public/index.html in \(location.searchedPublic.joined(separator: ", ")); / answers 404. Name the directory with --public-dir DIR (or MUSICSTREAM_PUBLIC_DIR)")
        }
        if let spec = location.openAPIPath, openAPI != nil {
            logger.info("OpenAPI description: \(spec)")
        } else if config.openAPIPath != nil {
            logger.warning("no OpenAPI description at \(location.searchedOpenAPI[0]) (--openapi-file or MUSICSTREAM_OPENAPI_FILE); /openapi.yaml answers 404")
        } else {
            logger.warning("no OpenAPI description: looked for \(location.searchedOpenAPI.joined(separator: ", ")); /openapi.yaml answers 404. Name the file with --openapi-file FILE (or MUSICSTREAM_OPENAPI_FILE)")
        }
        if vendor.count < 2 {
            logger.notice("Debian's bootstrap5/ and chart.js/ (libjs-bootstrap5, libjs-chart.js) are not both in \(config.vendorDirectory); the page loads them from \(Self.assetCDN)")
        }
    }

    func openAPIDescription(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        try EventQuery.requireNone(request)
        guard let openAPI else {
            throw ProblemDetails(status: 404, title: "Not Found",
                                 detail: "this server was started without its OpenAPI description (its log says where it looked; --openapi-file names it)")
        }
        return .respond(HTTPResponse(status: 200, headers: [(name: "Content-Type", value: "application/yaml")], body: openAPI))
    }

    /// Everything no route matched: under /api/ a miss is an API error, elsewhere a file.
    func file(_ request: HTTPRequest) -> RouteResult {
        if request.path.hasPrefix("/api/") || request.path == "/api" {
            return .respond(ProblemDetails(status: 404, title: "Not found", detail: "no API endpoint at \(request.path.prefix(200))").response)
        }
        let result = files.handle(request)
        if !hasPage, !request.path.hasPrefix("/vendor/"), case .respond(let response) = result, response.status == 404 {
            return .respond(ProblemDetails(
                status: 404, title: "Dashboard not installed",
                detail: "this server was started without the dashboard's files (its log says where it looked; --public-dir names them); the API works without them").response)
        }
        return result
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
}
