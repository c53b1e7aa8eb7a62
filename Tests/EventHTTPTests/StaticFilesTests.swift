import EventHTTP
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
        #expect(post.header("Allow") == "GET, HEAD")
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
}
