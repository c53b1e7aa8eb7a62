import Foundation
import Testing
@testable import MusicStream

/// The page and the OpenAPI description are found from where the executable is, whatever the
/// working directory, in each layout the project ships: a build tree, an install prefix, the
/// container image; flags win, and a miss reports every place it looked.
@Suite struct SiteLocationTests {
    /// A scratch directory with `files` (relative paths) created empty, removed by the caller.
    func tree(_ files: [String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("musicstream-site-\(UUID().uuidString)").path
        for file in files {
            let path = root + "/" + file
            try FileManager.default.createDirectory(
                atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        }
        return root
    }

    @Test func buildTreeIsFoundFromTheExecutableNotTheWorkingDirectory() throws {
        let root = try tree(["pkg/Package.swift", "pkg/Public/index.html", "pkg/openapi.yaml",
                             "pkg/.build/x86_64-unknown-linux-gnu/release/musicstream", "elsewhere/Public/app.css"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let location = SiteLocation.find(
            publicDirectory: nil, openAPIPath: nil,
            executable: root + "/pkg/.build/x86_64-unknown-linux-gnu/release/musicstream", workingDirectory: root + "/elsewhere")
        #expect(location.publicDirectory == root + "/pkg/Public")
        #expect(location.openAPIPath == root + "/pkg/openapi.yaml")
    }

    @Test func installPrefixAndImageLayouts() throws {
        let root = try tree(["usr/bin/musicstream", "usr/share/musicstream/Public/index.html", "usr/share/musicstream/openapi.yaml",
                             "app/musicstream", "app/Public/index.html", "app/openapi.yaml"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let prefix = SiteLocation.find(publicDirectory: nil, openAPIPath: nil, executable: root + "/usr/bin/musicstream", workingDirectory: "/")
        #expect(prefix.publicDirectory == root + "/usr/share/musicstream/Public")
        #expect(prefix.openAPIPath == root + "/usr/share/musicstream/openapi.yaml")
        let image = SiteLocation.find(publicDirectory: nil, openAPIPath: nil, executable: root + "/app/musicstream", workingDirectory: "/")
        #expect(image.publicDirectory == root + "/app/Public")
        #expect(image.openAPIPath == root + "/app/openapi.yaml")
    }

    @Test func flagsWinAndRelativeOnesAreFromTheWorkingDirectory() throws {
        let root = try tree(["app/musicstream", "app/Public/index.html", "app/openapi.yaml",
                             "mine/page/index.html", "mine/spec.yaml"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let location = SiteLocation.find(publicDirectory: "page", openAPIPath: "spec.yaml",
                                         executable: root + "/app/musicstream", workingDirectory: root + "/mine")
        #expect(location.publicDirectory == root + "/mine/page")
        #expect(location.openAPIPath == root + "/mine/spec.yaml")
        // A page named by flag without a spec beside it: the spec is still searched for.
        let pageOnly = SiteLocation.find(publicDirectory: root + "/mine/page", openAPIPath: nil,
                                         executable: root + "/app/musicstream", workingDirectory: "/")
        #expect(pageOnly.openAPIPath == root + "/app/openapi.yaml")
        // A flag naming nothing is not replaced by a search: the operator asked for that place.
        let wrong = SiteLocation.find(publicDirectory: root + "/nowhere", openAPIPath: nil,
                                      executable: root + "/app/musicstream", workingDirectory: "/")
        #expect(wrong.publicDirectory == nil)
        #expect(wrong.searchedPublic == [root + "/nowhere"])
    }

    @Test func theWorkingDirectoryIsTheLastResortAndAMissListsEveryPlace() throws {
        let root = try tree(["opt/bin/musicstream", "cwd/Public/index.html", "cwd/openapi.yaml", "bare/x"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fallback = SiteLocation.find(publicDirectory: nil, openAPIPath: nil, executable: root + "/opt/bin/musicstream",
                                         workingDirectory: root + "/cwd")
        #expect(fallback.publicDirectory == root + "/cwd/Public")
        #expect(fallback.openAPIPath == root + "/cwd/openapi.yaml")
        let missing = SiteLocation.find(publicDirectory: nil, openAPIPath: nil, executable: root + "/opt/bin/musicstream",
                                        workingDirectory: root + "/bare")
        #expect(missing.publicDirectory == nil && missing.openAPIPath == nil)
        #expect(missing.searchedPublic == [root + "/opt/bin/Public", root + "/opt/share/musicstream/Public", root + "/bare/Public"])
        #expect(missing.searchedOpenAPI.count == 3)
    }

    @Test func theRunningExecutableIsKnown() {
        let executable = SiteLocation.currentExecutable()
        #expect(executable.map { FileManager.default.isExecutableFile(atPath: $0) } == true)
    }
}
