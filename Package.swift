// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]

let package = Package(
    name: "Sextant",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sextant", targets: ["sextant"]),
        .executable(name: "sextant-proxy", targets: ["sextant-proxy"]),
        .executable(name: "sextant-bench", targets: ["sextant-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // C layers: system libraries from Debian, and the protoc-c output (DO NOT EDIT).
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(name: "CProtobufC", pkgConfig: "libprotobuf-c", providers: [.apt(["libprotobuf-c-dev"])]),
        .target(name: "CEnvoyAPI", dependencies: ["CProtobufC"]),

        .target(name: "HTTP2", dependencies: ["CNGHTTP2"] + nio, swiftSettings: strict),
        .target(name: "GRPC", dependencies: ["HTTP2"] + nio, swiftSettings: strict),
        .target(name: "EnvoyAPI", dependencies: ["CEnvoyAPI", "CProtobufC", "Yams"], swiftSettings: strict),
        .target(
            name: "XDS",
            dependencies: ["EnvoyAPI", "GRPC", .product(name: "Logging", package: "swift-log")] + nio,
            swiftSettings: strict),
        // An etcd v3 client on our own gRPC stack: the store of replicated control planes.
        .target(
            name: "Etcd",
            dependencies: ["EnvoyAPI", "GRPC", .product(name: "Logging", package: "swift-log")] + nio,
            swiftSettings: strict),
        // Route regexes are checked against RE2's syntax, Envoy's engine: refused at the REST
        // API, and by sextant-proxy, rather than NACKed by every Envoy.
        .target(name: "RE2Syntax", swiftSettings: strict),
        .target(name: "EtcdStore", dependencies: ["Etcd", "Registry", "GRPC"], swiftSettings: strict),
        .target(
            name: "Registry",
            dependencies: ["RE2Syntax", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        .target(name: "Translator", dependencies: ["Registry", "EnvoyAPI"], swiftSettings: strict),
        // The mesh's certificate authority: workload identities (SPIFFE) and their certificates.
        .target(
            name: "Identity",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        .target(
            name: "ControlPlane",
            dependencies: [
                "EtcdStore", "Etcd",
                "XDS", "EnvoyAPI", "GRPC", "HTTP2", "Registry", "Translator", "ProcessSupport", "Identity",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ] + nio,
            swiftSettings: strict),
        .target(name: "ProcessSupport", dependencies: [.product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        .executableTarget(
            name: "sextant",
            dependencies: ["ControlPlane", "EtcdStore", "Registry", "EnvoyAPI", "ProcessSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        .target(
            name: "Proxy",
            dependencies: [
                "XDS", "GRPC", "EnvoyAPI", "RE2Syntax", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ] + nio,
            swiftSettings: strict),
        .executableTarget(
            name: "sextant-proxy",
            dependencies: ["Proxy", "EnvoyAPI", "ProcessSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        .executableTarget(
            name: "sextant-bench",
            dependencies: [
                "ControlPlane", "Registry", "Translator", "ProcessSupport", "GRPC", "EnvoyAPI", "XDS", "Identity",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ] + nio,
            swiftSettings: strict),

        .target(
            name: "TestSupport",
            dependencies: ["GRPC", "HTTP2", "EnvoyAPI", "ProcessSupport", .product(name: "NIOHTTP1", package: "swift-nio")] + nio,
            path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "EnvoyAPITests", dependencies: ["ProcessSupport", "EnvoyAPI", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "HTTP2Tests", dependencies: ["HTTP2", "GRPC", "TestSupport"] + nio, swiftSettings: strict),
        .testTarget(name: "XDSTests", dependencies: ["ProcessSupport", "XDS", "EnvoyAPI", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "RE2SyntaxTests", dependencies: ["RE2Syntax"], swiftSettings: strict),
        .testTarget(
            name: "EtcdTests",
            dependencies: ["Etcd", "EtcdStore", "Registry", "ControlPlane", "XDS", "EnvoyAPI", "ProcessSupport", "TestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .testTarget(name: "IdentityTests", dependencies: ["ProcessSupport", "Identity", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "TranslatorTests", dependencies: ["Translator", "Registry", "EnvoyAPI", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "ControlPlaneTests", dependencies: ["ProcessSupport", "ControlPlane", "XDS", "EnvoyAPI", "Registry", "Translator", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "ProxyTests", dependencies: ["Proxy", "XDS", "EnvoyAPI", "Translator", "Registry", "Identity", "TestSupport"] + nio, swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["ControlPlane", "ProcessSupport", "XDS", "GRPC", "EnvoyAPI", "TestSupport"] + nio,
            swiftSettings: strict),
    ]
)
