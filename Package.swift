// swift-tools-version:6.0
import PackageDescription

// One module per concern; the pipeline reads top to bottom:
// accounting <- method (core) <- data files, LLM backends <- store <- server / eval <- CLI.
// The core (DPAccounting + FewShotCore) depends on nothing outside the standard library and Foundation.
let package = Package(
    name: "fewshot",
    platforms: [.macOS(.v15)],  // macOS 15 for Synchronization.Mutex
    products: [
        .executable(name: "fewshot", targets: ["FewShotCLI"]),
        .executable(name: "fewshot-bench", targets: ["FewShotBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        // Already in the graph through Hummingbird; named here for the response part types of a channel handler.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV", from: "0.10.0"),
    ],
    targets: [
        // Privacy events and accountants (PLD, RDP), sigma calibration. Depends only on its C kernels.
        .target(name: "DPAccounting", dependencies: ["CPrivacyLossKernels"]),
        // DPAccounting's numeric inner loops (FFT butterflies, pointwise powers, the subsampled
        // Gaussian's discretisation) in C. The tests and the quickstart use debug builds, which
        // SwiftPM compiles unoptimised: unoptimised C stays within ~2-3x of optimised, where
        // unoptimised Swift is 5-10x slower. So no target needs an optimisation flag (unsafeFlags
        // would keep the package from being used as a dependency); see README, Layout.
        .target(name: "CPrivacyLossKernels"),
        // The DP few-shot method: tasks, samplers, candidate vocabulary, aggregation, noisy argmax, generator.
        .target(name: "FewShotCore", dependencies: ["DPAccounting"]),
        // Reading task templates (YAML/JSON) and private data sets (JSONL/CSV) into core values.
        .target(name: "FewShotData", dependencies: [
            "DPAccounting", "FewShotCore",
            .product(name: "Yams", package: "Yams"),
            .product(name: "SwiftCSV", package: "SwiftCSV"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // LLM backends behind FewShotCore.LanguageModel: llama.cpp native, OpenAI completions.
        .target(name: "LLMBackends", dependencies: [
            "FewShotCore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // Installing (llama-server and the models of the model table), starting and stopping the local llama-server.
        .target(name: "LocalLLM", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // The store's operations (LedgerStore) and the SQLite store: demonstration sets and the privacy-budget ledger.
        .target(name: "FewShotStore", dependencies: [
            "DPAccounting", "FewShotCore", "FewShotData",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The PostgreSQL store: the same ledger operations as FewShotStore, shared by several processes and
        // hosts (row locks serialise a data set's reservations). Only the CLI and its tests link it, so the
        // SQLite-only graph stays lean.
        .target(name: "FewShotStorePostgres", dependencies: [
            "DPAccounting", "FewShotCore", "FewShotStore",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // One generation end to end: request -> settings and calibration -> ledger reservation ->
        // generator with per-token checkpoints -> stored set. Shared by `fewshot gen` and the server's jobs.
        .target(name: "FewShotGeneration", dependencies: [
            "DPAccounting", "FewShotCore", "FewShotData", "FewShotStore",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Choosing demonstrations per request from a public pool (BM25 over the pool's texts). Reads
        // only public values: the pool (DP output) and the request; used by the proxy (and eval).
        .target(name: "FewShotSelection", dependencies: ["FewShotCore"]),
        // The OpenAI-compatible proxy, admin API and generation jobs.
        .target(name: "FewShotServer", dependencies: [
            "FewShotGeneration", "FewShotCore", "FewShotSelection", "FewShotData", "FewShotStore", "LLMBackends", "DPAccounting",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
        ]),
        // The evaluation harness (paper's Table 3 conditions).
        .target(name: "FewShotEval", dependencies: ["DPAccounting", "FewShotCore", "FewShotSelection"]),
        // In-process deterministic fake model, for unit tests only.
        .target(name: "FewShotTestSupport", dependencies: [
            "DPAccounting", "FewShotCore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .executableTarget(name: "FewShotCLI", dependencies: [
            "DPAccounting", "FewShotCore", "FewShotData", "LLMBackends", "LocalLLM",
            "FewShotStore", "FewShotStorePostgres", "FewShotServer", "FewShotEval", "FewShotGeneration",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "FewShotBench", dependencies: [
            "DPAccounting", "FewShotCore", "FewShotData", "LLMBackends", "FewShotServer", "FewShotStore", "FewShotStorePostgres", "FewShotSelection",
            // BasicCompositionAccountant: ledger-throughput measures the store, not an accountant.
            "FewShotTestSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "DPAccountingTests", dependencies: ["DPAccounting"], exclude: ["Reference"]),
        .testTarget(name: "FewShotCoreTests", dependencies: ["FewShotCore", "FewShotTestSupport", "DPAccounting"]),
        .testTarget(name: "FewShotDataTests", dependencies: ["FewShotData", "FewShotCore"]),
        .testTarget(name: "LLMBackendsTests", dependencies: [
            "LLMBackends", "FewShotCore", "FewShotTestSupport",
            .product(name: "Logging", package: "swift-log"),
        ], resources: [.copy("Fixtures")]),
        .testTarget(name: "LocalLLMTests", dependencies: ["LocalLLM"]),
        // Child process for the store's crash and two-process tests (killed with SIGKILL mid-generation).
        .executableTarget(name: "FewShotStoreProbe", dependencies: ["FewShotStore", "FewShotStorePostgres", "DPAccounting", "FewShotCore", "FewShotTestSupport"]),
        // The store suite runs on SQLite and on PostgreSQL (FEWSHOT_TEST_POSTGRES_URL; see scripts/postgres-for-tests).
        .testTarget(name: "FewShotStoreTests", dependencies: [
            "FewShotStore", "FewShotStorePostgres", "DPAccounting", "FewShotCore", "FewShotTestSupport",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "FewShotSelectionTests", dependencies: ["FewShotSelection", "FewShotCore"]),
        .testTarget(name: "FewShotServerTests", dependencies: [
            "FewShotServer", "FewShotSelection", "FewShotStore", "FewShotStorePostgres", "FewShotCore", "FewShotData", "FewShotTestSupport", "FewShotGeneration", "DPAccounting",
            "LLMBackends",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "FewShotGenerationTests", dependencies: [
            "FewShotGeneration", "FewShotCore", "FewShotStore", "FewShotTestSupport", "DPAccounting",
        ]),
        .testTarget(name: "FewShotEvalTests", dependencies: ["FewShotEval", "FewShotCore", "FewShotSelection", "FewShotTestSupport", "DPAccounting"]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "LLMBackends", "FewShotCore", "FewShotData", "DPAccounting", "FewShotEval",
            "FewShotGeneration", "FewShotStore", "FewShotServer", "FewShotTestSupport", "LocalLLM",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
    ]
)
