// swift-tools-version:6.2
// Builds swift-openapi-generator's command-line tool for scripts/generate-client. A package of its
// own, so the generator (OpenAPIKit, Yams, ...) is never part of the project's build: the
// generated client is committed (Sources/MusicStreamClient/Generated) and rebuilt only by hand.
// The version is exact: the generated files' header names it, and a change is a regeneration.
import PackageDescription

let package = Package(
    name: "client-generator",
    dependencies: [
        .package(url: "https://github.com/apple/swift-openapi-generator", exact: "1.14.3"),
    ],
    targets: []
)
