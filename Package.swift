// swift-tools-version:6.0
// musicstream: Kafka listen events -> Swift server (REST + SSE) -> live dashboard.
// Module boundaries follow the data flow (docs/ARCHITECTURE.md): C wrappers, a pure model,
// the service, and a thin executable.
import PackageDescription

let package = Package(
    name: "musicstream",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "musicstream", targets: ["MusicStreamCLI"]),
        // The Swift client generated from openapi.yaml, for programs that call the service.
        .library(name: "MusicStreamClient", targets: ["MusicStreamClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        // What the generated client (MusicStreamClient) runs on, and URLSession under its tests.
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/apple/swift-openapi-urlsession", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages, found with pkg-config.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .systemLibrary(
            name: "CLibEvent",
            pkgConfig: "libevent_pthreads",
            providers: [.apt(["libevent-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CPostgres",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // glibc's malloc.h (malloc_trim), part of libc itself.
        .systemLibrary(name: "CMalloc"),
        // Strict JSON: the tokenizer both decoders share, the writer, one escaper. No dependencies.
        // Its scanner and raw writer sit on the ingest and response hot paths of other modules:
        // full cross-module optimisation lets those calls inline as they did inside one module.
        .target(
            name: "JSON",
            swiftSettings: [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]
        ),
        // Pure model: event, decoding, filters, facets, window, catalogue, simulator. No I/O.
        .target(name: "MusicModel", dependencies: ["JSON"]),
        // The history store: every listen kept beyond the window. SQLite (every raw call in its
        // SQLite/ folder) by default; PostgreSQL for shared deployments (every libpq call in its
        // Postgres/ folder).
        .target(name: "History", dependencies: ["CSQLite", "CPostgres", "MusicModel", "JSON"]),
        // librdkafka behind a Swift API; every raw call lives in its RDKafka/ folder.
        .target(name: "KafkaClient", dependencies: ["CRdKafka", .product(name: "Logging", package: "swift-log")]),
        // HTTP over evhttp, policy-free (middleware decides headers); every raw libevent call lives in LibEvent/.
        .target(name: "EventHTTP", dependencies: ["CLibEvent", "JSON", .product(name: "Logging", package: "swift-log")]),
        // The HTTP API's vocabulary over the model: requests validated into model queries and
        // answers written as JSON. No I/O, so the query fuzz target drives it as the routes do.
        .target(name: "MusicAPI", dependencies: ["JSON", "MusicModel", "EventHTTP"]),
        // The service: composition, routes, ingest, live window and SSE hub, configuration, logs and metrics.
        .target(name: "MusicStream", dependencies: [
            "JSON", "MusicModel", "MusicAPI", "KafkaClient", "EventHTTP", "History", "CMalloc", .product(name: "Logging", package: "swift-log"),
        ]),
        // Thin executable: serve / produce / consume.
        .executableTarget(
            name: "MusicStreamCLI",
            dependencies: [
                "MusicStream", "MusicModel", "KafkaClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The client swift-openapi-generator makes from openapi.yaml. Generated once by
        // scripts/generate-client and committed (Generated/), so the build never runs the
        // generator; depends on nothing of the server's.
        .target(
            name: "MusicStreamClient",
            dependencies: [
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            exclude: ["openapi-generator-config.yaml"]
        ),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "MusicModelTests", dependencies: ["MusicModel", "JSON"]),
        // Against real SQLite files, one fresh directory per test.
        .testTarget(name: "HistoryTests", dependencies: ["History", "MusicModel", "HistoryTesting"]),
        // Starts a real PostgreSQL 15 server (scripts/setup --test installs it) for the store's tests.
        .testTarget(name: "PostgresHistoryTests", dependencies: ["History", "MusicModel", "HistoryTesting"]),
        // The oracle both stores' aggregate tests compare against, and their seeded dice.
        .target(name: "HistoryTesting", dependencies: ["History", "MusicModel"], path: "Tests/HistoryTesting"),
        .testTarget(name: "KafkaClientTests", dependencies: ["KafkaClient", .product(name: "Logging", package: "swift-log")]),
        // A blocking HTTP/1.1 client over loopback sockets, for the tests that drive a real server.
        .target(name: "EventHTTPTesting", path: "Tests/EventHTTPTesting"),
        .testTarget(
            name: "EventHTTPTests",
            dependencies: ["EventHTTP", "EventHTTPTesting", "CLibEvent", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "MusicStreamTests",
            dependencies: [
                "JSON", "MusicStream", "MusicModel", "MusicAPI", "KafkaClient", "EventHTTP", "EventHTTPTesting",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What a client program needs to follow /stream through the generated client on Linux,
        // where the URLSession transport buffers whole bodies: a transport that streams them,
        // and a subscriber that decodes the events and resumes with its last id.
        .target(
            name: "MusicStreamClientTesting",
            dependencies: [
                "MusicStreamClient",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tests/MusicStreamClientTesting"
        ),
        // The generated client against a whole server in this process, over loopback HTTP.
        .testTarget(
            name: "MusicStreamClientTests",
            dependencies: [
                "MusicStreamClient", "MusicStreamClientTesting", "MusicStream",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIURLSession", package: "swift-openapi-urlsession"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (scripts/fuzz): each defines LLVMFuzzerTestOneInput and gets its main from
// libFuzzer, so they link only in a fuzzer build and are declared only for one.
if Context.environment["MUSICSTREAM_FUZZ"] == "1" {
    let fuzzer: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]
    package.targets += [
        .executableTarget(name: "DecoderFuzz", dependencies: ["JSON", "MusicModel"], path: "Fuzz/Decoder", swiftSettings: fuzzer),
        .executableTarget(name: "CursorFuzz", dependencies: ["MusicModel"], path: "Fuzz/Cursor", swiftSettings: fuzzer),
        .executableTarget(name: "QueryFuzz", dependencies: ["JSON", "MusicModel", "EventHTTP", "MusicAPI"], path: "Fuzz/Query", swiftSettings: fuzzer),
        .executableTarget(name: "FramingFuzz", dependencies: ["EventHTTP"], path: "Fuzz/Framing", swiftSettings: fuzzer),
    ]
}
