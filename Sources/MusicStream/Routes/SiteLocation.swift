import Foundation

/// Where the page (`Public/`) and `openapi.yaml` are. They ship with the executable, not with
/// whatever directory the server is started from, so unless flags name them they are looked
/// for relative to the executable first (its own directory, an install prefix's
/// `share/musicstream/`, the package checkout it was built in) and only then in the working
/// directory. What was searched is kept, so a miss can be reported with the places it looked.
struct SiteLocation: Equatable {
    /// The page's directory (it holds `index.html`); nil when none was found.
    var publicDirectory: String?
    /// The OpenAPI description; nil when none was found.
    var openAPIPath: String?
    /// The page directories tried, in order.
    var searchedPublic: [String]
    /// The OpenAPI files tried, in order.
    var searchedOpenAPI: [String]

    /// `publicDirectory` and `openAPIPath` are what flags or variables gave (nil: search);
    /// `executable` is the running binary's real path (nil when unknown).
    static func find(publicDirectory: String?, openAPIPath: String?, executable: String?,
                     workingDirectory: String) -> SiteLocation {
        let fileManager = FileManager.default
        let roots = installRoots(executable: executable, workingDirectory: workingDirectory)

        let pageCandidates = publicDirectory.map { [absolute($0, in: workingDirectory)] }
            ?? roots.map { $0 + "/Public" }
        let page = pageCandidates.first { fileManager.fileExists(atPath: $0 + "/index.html") }

        var specCandidates: [String]
        if let openAPIPath {
            specCandidates = [absolute(openAPIPath, in: workingDirectory)]
        } else {
            // Beside the page first, as the image and an install prefix lay them out.
            specCandidates = page.map { [parent($0) + "/openapi.yaml"] } ?? []
            for root in roots where !specCandidates.contains(root + "/openapi.yaml") {
                specCandidates.append(root + "/openapi.yaml")
            }
        }
        let spec = specCandidates.first { isRegularFile($0) }
        return SiteLocation(publicDirectory: page, openAPIPath: spec,
                            searchedPublic: pageCandidates, searchedOpenAPI: specCandidates)
    }

    /// Directories that may hold `Public/` and `openapi.yaml`, most specific first: the
    /// executable's own directory (the container image's `/app`), `PREFIX/share/musicstream`
    /// for `PREFIX/bin/musicstream`, the SwiftPM package the executable was built in
    /// (`.build/<triple>/release/musicstream` is three levels below it), then the working directory.
    static func installRoots(executable: String?, workingDirectory: String) -> [String] {
        var roots: [String] = []
        func add(_ path: String) {
            let standard = URL(fileURLWithPath: path).standardizedFileURL.path
            if !roots.contains(standard) { roots.append(standard) }
        }
        if let executable {
            let directory = parent(executable)
            add(directory)
            add(parent(directory) + "/share/musicstream")
            var ancestor = directory
            for _ in 0..<4 {
                if FileManager.default.fileExists(atPath: ancestor + "/Package.swift") {
                    add(ancestor)
                    break
                }
                let up = parent(ancestor)
                if up == ancestor { break }
                ancestor = up
            }
        }
        add(workingDirectory)
        return roots
    }

    /// The running executable's real path: Linux's `/proc/self/exe` (symlinks resolved, and
    /// right however the binary was invoked: through PATH, a relative path or a link), else
    /// `argv[0]` when it names a path.
    static func currentExecutable() -> String? {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        let argument = CommandLine.arguments.first ?? ""
        guard argument.contains("/") else { return nil }
        return URL(fileURLWithPath: argument).resolvingSymlinksInPath().path
    }

    private static func absolute(_ path: String, in workingDirectory: String) -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : URL(fileURLWithPath: workingDirectory).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }

    private static func parent(_ path: String) -> String {
        URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path
    }

    private static func isRegularFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }
}
