internal import CLibEvent

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
public struct StaticFiles {
    private struct Mount {
        var prefix: String
        /// realpath of the directory; nil when it does not exist (everything 404s).
        var directory: String?
        var confineSymlinks: Bool
    }

    private let root: Mount
    private let mounts: [Mount]

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
        guard request.method == .GET || request.method == .HEAD else {
            var response = HTTPResponse.problem(
                status: 405, title: "Method Not Allowed", detail: "static files are read-only")
            response.headers.append(("Allow", "GET, HEAD"))
            return .respond(response)
        }
        guard let file = locate(request.path), let body = StaticFiles.readRegularFile(file.path) else {
            return .respond(.problem(status: 404, title: "Not Found", detail: "no file at \(request.path)"))
        }
        return .respond(HTTPResponse(status: 200, headers: [("Content-Type", MediaType.forPath(file.name))], body: body))
    }

    /// The resolved file for a decoded request path, or nil when it must not be served.
    private func locate(_ path: String) -> (path: String, name: String)? {
        guard path.hasPrefix("/"), !path.utf8.contains(0), !path.contains("\\") else { return nil }
        let mount = mounts.first { path.hasPrefix($0.prefix) } ?? root
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
        return (resolved, relative)
    }

    static func resolve(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(validatingCString: resolved)
    }

    /// Whole regular file, or nil (missing, directory, unreadable). Files are small
    /// dashboard assets, read on the loop thread.
    static func readRegularFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
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
