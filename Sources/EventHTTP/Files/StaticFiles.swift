#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves the dashboard's files from one root directory (plus read-only mounts such as
/// Debian's packaged Bootstrap) and never anything outside them.
///
/// Rules: the decoded path may not contain "." or ".." segments, dot-files, backslashes
/// or NUL; "/" and any ".../" map to index.html; only regular files are served. Below
/// `root` symlinks are followed only when their realpath stays inside the root. Extra
/// mounts are trusted system directories whose packaged symlinks point elsewhere
/// (/usr/share/javascript/bootstrap5/css/* -> /usr/share/bootstrap-html/...), so there
/// only the request path itself is confined, not the link targets.
///
/// Caching: every file carries a strong ETag (inode, size and mtime, so any rewrite or
/// replacement changes it) and Last-Modified; If-None-Match, or else If-Modified-Since,
/// turns an unchanged file into a bodiless 304. Cache-Control differs: the dashboard's own
/// files default to "no-cache" (reuse only after revalidation, so a deploy shows at once),
/// mounted vendor libraries to a day of freshness (they change only with a package upgrade).
public struct StaticFiles {
    private struct Mount {
        var prefix: String
        /// realpath of the directory; nil when it does not exist (everything 404s).
        var directory: String?
        var confineSymlinks: Bool
    }

    private let root: Mount
    private let mounts: [Mount]

    /// Cache-Control for files below `root`. Set before handing `handle` to the router:
    /// the router keeps a copy of this struct.
    public var cacheControl: String = "no-cache"
    /// Cache-Control for files from `extraMounts`.
    public var mountCacheControl: String = "public, max-age=86400"

    public init(root: String, extraMounts: [(prefix: String, directory: String)] = []) {
        self.root = Mount(prefix: "/", directory: StaticFiles.resolve(root), confineSymlinks: true)
        self.mounts = extraMounts.map { mount in
            var prefix = mount.prefix.hasPrefix("/") ? mount.prefix : "/" + mount.prefix
            if !prefix.hasSuffix("/") { prefix += "/" }
            return Mount(prefix: prefix, directory: StaticFiles.resolve(mount.directory), confineSymlinks: false)
        }
        .sorted { $0.prefix.count > $1.prefix.count }
    }

    /// A RouteHandler: use it as `router.fallback = files.handle`.
    public func handle(_ request: HTTPRequest) -> RouteResult {
        if request.method == .OPTIONS {
            return .respond(HTTPResponse(status: 204, headers: [("Allow", "GET, HEAD, OPTIONS")]))
        }
        guard request.method == .GET || request.method == .HEAD else {
            var response = ProblemDetails(
                status: 405, title: "Method Not Allowed", detail: "static files are read-only").response
            response.headers.append(("Allow", "GET, HEAD, OPTIONS"))
            return .respond(response)
        }
        let notFound = RouteResult.respond(ProblemDetails(status: 404, title: "Not Found", detail: "no file at \(request.path)").response)
        guard let file = locate(request.path) else { return notFound }
        let fd = open(file.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return notFound }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return notFound }
        let validators: [(name: String, value: String)] = [
            ("ETag", StaticFiles.entityTag(info)),
            ("Last-Modified", HTTPDate.format(Int(info.st_mtim.tv_sec))),
            ("Cache-Control", file.mounted ? mountCacheControl : cacheControl),
        ]
        if StaticFiles.isNotModified(request, info: info) {
            return .respond(HTTPResponse(status: 304, headers: validators))
        }
        // HEAD still reads the file: the server reports its length as Content-Length.
        guard let body = StaticFiles.readAll(fd, sizeHint: Int(info.st_size)) else { return notFound }
        return .respond(HTTPResponse(
            status: 200, headers: [("Content-Type", MediaType.forPath(file.name))] + validators, body: body))
    }

    /// Strong validator: `"<inode>-<size>-<mtime ns>"` in hex. An in-place edit changes
    /// size or mtime, an atomic replace (rename) also changes the inode.
    static func entityTag(_ info: stat) -> String {
        let nanoseconds = Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec)
        return "\"\(String(UInt64(info.st_ino), radix: 16))-\(String(UInt64(info.st_size), radix: 16))-"
            + "\(String(UInt64(bitPattern: nanoseconds), radix: 16))\""
    }

    /// RFC 9110 §13.2.2 order: If-None-Match decides when present (weak comparison,
    /// lists and "*"); only without it does If-Modified-Since count (second precision).
    static func isNotModified(_ request: HTTPRequest, info: stat) -> Bool {
        if let ifNoneMatch = request.header("If-None-Match") {
            let current = entityTag(info)
            for candidate in ifNoneMatch.split(separator: ",") {
                var tag = candidate.trimmingWhitespace()
                if tag == "*" { return true }
                if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
                if tag == current { return true }
            }
            return false
        }
        if let ifModifiedSince = request.header("If-Modified-Since"), let since = HTTPDate.parse(ifModifiedSince) {
            return Int(info.st_mtim.tv_sec) <= since
        }
        return false
    }

    /// The resolved file for a decoded request path, or nil when it must not be served.
    private func locate(_ path: String) -> (path: String, name: String, mounted: Bool)? {
        guard path.hasPrefix("/"), !path.utf8.contains(0), !path.contains("\\") else { return nil }
        let mounted = mounts.first { path.hasPrefix($0.prefix) }
        let mount = mounted ?? root
        guard let directory = mount.directory else { return nil }
        var relative = String(path.dropFirst(mount.prefix.count))
        for segment in relative.split(separator: "/", omittingEmptySubsequences: true) {
            if segment.hasPrefix(".") { return nil }   // "..", ".", and dot-files such as .git
        }
        if relative.isEmpty || relative.hasSuffix("/") { relative += "index.html" }
        guard let resolved = StaticFiles.resolve(directory + "/" + relative) else { return nil }
        if mount.confineSymlinks {
            guard resolved == directory || resolved.hasPrefix(directory == "/" ? "/" : directory + "/") else {
                return nil
            }
        }
        return (resolved, relative, mounted != nil)
    }

    static func resolve(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(validatingCString: resolved)
    }

    /// The rest of an open file, or nil on a read error. Files are small dashboard assets,
    /// read on the loop thread.
    static func readAll(_ fd: Int32, sizeHint: Int) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(max(0, sizeHint))
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return bytes
    }
}
