import EventHTTP
import Logging

/// How the HTTP server is set up from the service's configuration: its limits and the
/// middleware every response passes through.
enum HTTPSettings {
    static func options(_ config: ServiceConfig, logger: Logger) -> HTTPServerOptions {
        var options = HTTPServerOptions()
        // The publisher checks the exact 64 KiB limit and answers with problem details; the
        // server cuts off anything past 1 MiB (413) before buffering more.
        options.maxBodySize = 1 << 20
        // The longest valid query (4 repeatable filters x 50 values x 256 bytes, percent-encoded)
        // is about 155 KB; a longer request line gets 414.
        options.maxRequestLineSize = 192 * 1024
        options.headerTimeoutSeconds = config.headerTimeout
        options.timeoutSeconds = config.idleTimeout
        options.maxConnections = connectionLimit(config.maxConnections, logger: logger)
        return options
    }

    /// Security headers on every response; CORS only when an origin is configured.
    static func middleware(_ config: ServiceConfig) -> [any HTTPMiddleware] {
        var middleware: [any HTTPMiddleware] = [DefaultHeaders(StaticSite.securityHeaders)]
        if let origin = config.corsOrigin { middleware.append(CORS(origin: origin)) }
        return middleware
    }

    /// `requested`, or less when the open-file limit (raised to its hard limit first) cannot
    /// hold that many connections next to everything else the process opens.
    static func connectionLimit(_ requested: Int, logger: Logger) -> Int {
        let fileLimit = OpenFileLimit.raiseToHardLimit()
        let ceiling = OpenFileLimit.connectionCeiling(limit: fileLimit)
        guard requested > ceiling else { return requested }
        logger.warning("""
            at most \(ceiling) connections fit under the open-file limit of \(fileLimit); \
            serving \(ceiling) rather than \(requested)
            """)
        return ceiling
    }
}
