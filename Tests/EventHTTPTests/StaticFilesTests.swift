import EventHTTP
import EventHTTPTesting
import Foundation
import Testing

/// A throwaway tree: <base>/root (served), <base>/secret.txt (outside), <base>/vendor (mount).
private final class FileTree {
    let base: String
    var root: String { base + "/root" }
    var vendor: String { base + "/vendor" }

    init() throws {
        base = NSTemporaryDirectory() + "eventhttp-static-\(UUID().uuidString)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/.git", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: vendor + "/css", withIntermediateDirectories: true)
        let files: [String: String] = [
            "root/index.html": "<h1>home</h1>", "root/app.js": "console.log(1)", "root/style.css": "body{}",
            "root/data.json": "{}", "root/logo.svg": "<svg/>", "root/img.png": "PNG", "root/favicon.ico": "ICO",
            "root/app.js.map": "{}", "root/notes.txt": "notes", "root/font.woff2": "WOFF", "root/openapi.yaml": "a: 1",
            "root/blob.bin": "bin", "root/sub/index.html": "<p>sub</p>", "root/sub/page.html": "page",
            "root/.git/config": "secret-config", "root/.env": "SECRET=1",
            "secret.txt": "TOP SECRET", "vendor/css/lib.css": "vendor{}", "vendor-real.css": "linked{}",
        ]
        for (path, text) in files { try text.write(toFile: base + "/" + path, atomically: false, encoding: .utf8) }
        try fm.createSymbolicLink(atPath: root + "/escape.txt", withDestinationPath: base + "/secret.txt")
        try fm.createSymbolicLink(atPath: root + "/escape-dir", withDestinationPath: base)
        try fm.createSymbolicLink(atPath: root + "/inside.html", withDestinationPath: root + "/sub/page.html")
        // Like Debian's bootstrap5: a packaged symlink leaving the mount directory.
        try fm.createSymbolicLink(atPath: vendor + "/css/linked.css", withDestinationPath: base + "/vendor-real.css")
    }

    deinit { try? FileManager.default.removeItem(atPath: base) }
}

@Suite struct StaticFilesTests {
    private func get(_ files: StaticFiles, _ path: String, method: HTTPMethod = .GET) -> HTTPResponse {
        guard case .respond(let response) = files.handle(HTTPRequest(method: method, path: path)) else {
            Issue.record("static files should never stream")
            return HTTPResponse(status: 0)
        }
        return response
    }

    private func text(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test func contentTypes() throws {
        let tree = try FileTree()
        let files = StaticFiles(root: tree.root)
        let expected: [String: String] = [
            "/index.html": "text/html; charset=utf-8", "/app.js": "text/javascript; charset=utf-8",
            "/style.css": "text/css; charset=utf-8", "/data.json": "application/json",
            "/logo.svg": "image/svg+xml", "/img.png": "image/png", "/favicon.ico": "image/x-icon",
            "/app.js.map": "application/json", "/notes.txt": "text/plain; charset=utf-8",
            "/font.woff2": "font/woff2", "/openapi.yaml": "application/yaml",
            "/blob.bin": "application/octet-stream",
        ]
        for (path, type) in expected {
            let response = get(files, path)
            #expect(response.status == 200, "\(path)")
            #expect(response.header("Content-Type") == type, "\(path)")
        }
        #expect(text(get(files, "/notes.txt")) == "notes")
    }

    @Test func directoriesMapToIndexHTML() throws {
        let tree = try FileTree()
        let files = StaticFiles(root: tree.root)
        #expect(text(get(files, "/")) == "<h1>home</h1>")
        #expect(text(get(files, "/sub/")) == "<p>sub</p>")
        #expect(get(files, "/sub").status == 404)   // a directory itself is not a file
        #expect(get(files, "/missing.js").status == 404)
        #expect(get(files, "/missing.js").header("Content-Type") == "application/problem+json")
    }

    @Test func traversalAndHiddenFilesAre404() throws {
        let tree = try FileTree()
        let files = StaticFiles(root: tree.root)
        // Paths as the server hands them over: already percent-decoded.
        for path in [
            "/../secret.txt", "/sub/../../secret.txt", "/./index.html", "/..", "/sub/..",
            "/..\\secret.txt", "/.git/config", "/.env", "/index.html\u{0}.txt",
            "/escape.txt", "/escape-dir/secret.txt",
        ] {
            let response = get(files, path)
            #expect(response.status == 404, "\(path)")
            #expect(!text(response).contains("SECRET"), "\(path)")
        }
        // Links whose target stays inside the root are fine, even via a detour outside.
        #expect(text(get(files, "/inside.html")) == "page")
        #expect(text(get(files, "/escape-dir/root/index.html")) == "<h1>home</h1>")
    }

    @Test func extraMountServesPackagedFiles() throws {
        let tree = try FileTree()
        let files = StaticFiles(root: tree.root, extraMounts: [("/vendor/lib/", tree.vendor)])
        let css = get(files, "/vendor/lib/css/lib.css")
        #expect(css.status == 200)
        #expect(css.header("Content-Type") == "text/css; charset=utf-8")
        #expect(text(get(files, "/vendor/lib/css/linked.css")) == "linked{}")
        #expect(get(files, "/vendor/lib/../../secret.txt").status == 404)
        #expect(get(files, "/vendor/lib/css/../../secret.txt").status == 404)
        #expect(text(get(files, "/")) == "<h1>home</h1>")
    }

    @Test func onlyGetAndHead() throws {
        let tree = try FileTree()
        let files = StaticFiles(root: tree.root)
        #expect(get(files, "/index.html", method: .HEAD).status == 200)
        let post = get(files, "/index.html", method: .POST)
        #expect(post.status == 405)
        #expect(post.header("Allow") == "GET, HEAD, OPTIONS")
        let options = get(files, "/", method: .OPTIONS)
        #expect(options.status == 204)
        #expect(options.header("Allow") == "GET, HEAD, OPTIONS")
    }

    @Test func missingRootServesNothing() {
        let files = StaticFiles(root: "/nonexistent/eventhttp/root")
        #expect(get(files, "/").status == 404)
    }

    @Test func encodedTraversalOverTheWire() throws {
        let tree = try FileTree()
        let root = tree.root
        let vendor = tree.vendor
        let server = try TestServer { context in
            context.router.fallback = StaticFiles(root: root, extraMounts: [("/vendor/lib/", vendor)]).handle
        }
        defer { #expect(server.stop()) }
        let index = try TestClient.request(port: server.port, "GET", "/")
        #expect(index.status == 200)
        #expect(index.header("Content-Type") == "text/html; charset=utf-8")
        #expect(index.bodyText == "<h1>home</h1>")
        let head = try TestClient.request(port: server.port, "HEAD", "/app.js")
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "14")
        for target in [
            "/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt",
            "/sub/..%2f..%2fsecret.txt", "/%2E%2E/secret.txt", "/escape.txt", "/index.html%00.txt",
            "/vendor/lib/..%2f..%2fsecret.txt", "//../secret.txt",
        ] {
            let response = try TestClient.request(port: server.port, "GET", target)
            #expect(response.status == 404 || response.status == 400, "\(target) -> \(response.status)")
            #expect(!response.bodyText.contains("TOP SECRET"), "\(target)")
        }
        let vendorCSS = try TestClient.request(port: server.port, "GET", "/vendor/lib/css/lib.css")
        #expect(vendorCSS.bodyText == "vendor{}")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/javascript/bootstrap5/css/bootstrap.min.css")))
    func debianBootstrapMount() throws {
        let files = StaticFiles(root: "/nonexistent", extraMounts: [("/vendor/bootstrap/", "/usr/share/javascript/bootstrap5/")])
        let css = get(files, "/vendor/bootstrap/css/bootstrap.min.css")
        #expect(css.status == 200)
        #expect(css.header("Content-Type") == "text/css; charset=utf-8")
        #expect(css.body.count > 10_000)
    }

    @Test func validatorsAndCacheControl() throws {
        let tree = try FileTree()
        var files = StaticFiles(root: tree.root, extraMounts: [("/vendor/lib/", tree.vendor)])
        let page = get(files, "/index.html")
        let etag = try #require(page.header("ETag"))
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && !etag.hasPrefix("W/"))
        #expect(etag.split(separator: "-").count == 3)
        #expect(page.header("Last-Modified")?.hasSuffix(" GMT") == true)
        #expect(page.header("Cache-Control") == "no-cache")
        #expect(get(files, "/vendor/lib/css/lib.css").header("Cache-Control") == "public, max-age=86400")
        #expect(get(files, "/vendor/lib/css/lib.css").header("ETag") != etag)
        #expect(get(files, "/missing").header("ETag") == nil)
        files.cacheControl = "no-store"
        #expect(get(files, "/index.html").header("Cache-Control") == "no-store")
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSince1970: 784_111_777)], ofItemAtPath: tree.root + "/notes.txt")
        #expect(get(files, "/notes.txt").header("Last-Modified") == "Sun, 06 Nov 1994 08:49:37 GMT")
        let since: [(name: String, value: String)] = [("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")]
        guard case .respond(let notModified) = files.handle(HTTPRequest(method: .GET, path: "/notes.txt", headers: since)) else {
            Issue.record("expected a response")
            return
        }
        #expect(notModified.status == 304)
        // Rewriting the file changes the tag.
        try "<h1>new home</h1>".write(toFile: tree.root + "/index.html", atomically: true, encoding: .utf8)
        #expect(get(files, "/index.html").header("ETag") != etag)
    }

    @Test func conditionalRequests() throws {
        let tree = try FileTree()
        let files = StaticFiles(root: tree.root)
        let page = get(files, "/app.js")
        let etag = try #require(page.header("ETag"))
        let modified = try #require(page.header("Last-Modified"))
        func conditional(_ headers: [(name: String, value: String)], method: HTTPMethod = .GET) -> HTTPResponse {
            guard case .respond(let response) = files.handle(HTTPRequest(method: method, path: "/app.js", headers: headers)) else {
                return HTTPResponse(status: 0)
            }
            return response
        }
        for value in [etag, "W/\(etag)", "\"other\", \(etag)", "\"a\",W/\(etag) ", "*"] {
            let response = conditional([("If-None-Match", value)])
            #expect(response.status == 304, "\(value)")
            #expect(response.body.isEmpty)
            #expect(response.header("ETag") == etag)
            #expect(response.header("Cache-Control") == "no-cache")
        }
        #expect(conditional([("If-None-Match", "\"other\"")]).status == 200)
        #expect(conditional([("If-Modified-Since", modified)]).status == 304)
        #expect(conditional([("If-Modified-Since", "Sun, 06 Nov 2094 08:49:37 GMT")]).status == 304)
        #expect(conditional([("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")]).status == 200)
        #expect(conditional([("If-Modified-Since", "yesterday")]).status == 200)
        // If-None-Match wins over If-Modified-Since.
        #expect(conditional([("If-None-Match", "\"other\""), ("If-Modified-Since", modified)]).status == 200)
        #expect(conditional([("If-None-Match", etag)], method: .HEAD).status == 304)
    }

    @Test func conditionalGetOverTheWire() throws {
        let tree = try FileTree()
        let root = tree.root
        let vendor = tree.vendor
        let server = try TestServer { context in
            context.router.fallback = StaticFiles(root: root, extraMounts: [("/vendor/lib/", vendor)]).handle
        }
        defer { #expect(server.stop()) }
        let first = try TestClient.request(port: server.port, "GET", "/app.js")
        let etag = try #require(first.header("ETag"))
        let modified = try #require(first.header("Last-Modified"))
        #expect(first.header("Cache-Control") == "no-cache")

        // Both revalidations on one keep-alive connection: a 304 must carry no body.
        let client = try TestClient(port: server.port)
        try client.send("GET /app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: \(etag)\r\n\r\n")
        let byTag = try client.readResponse()
        #expect(byTag.status == 304)
        #expect(byTag.header("ETag") == etag)
        #expect(byTag.header("X-Content-Type-Options") == "nosniff")
        try client.send("HEAD /app.js HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: \(modified)\r\n\r\n")
        let byDate = try client.readResponse(head: true)
        #expect(byDate.status == 304)
        #expect(byDate.header("Content-Length") == nil)
        try client.send("HEAD /app.js HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = try client.readResponse(head: true)
        #expect(head.status == 200)
        #expect(head.header("ETag") == etag)
        #expect(head.header("Content-Length") == "14")
        try client.send("GET /vendor/lib/css/lib.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let mounted = try client.readResponse()
        #expect(mounted.bodyText == "vendor{}")
        #expect(mounted.header("Cache-Control") == "public, max-age=86400")
    }
}
