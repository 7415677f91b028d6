import ControlPlane
import EnvoyAPI
import Foundation
import ProcessSupport
import Testing
import TestSupport

/// `sextant bootstrap` output is a bootstrap Envoy 1.40 itself accepts.
@Suite struct BootstrapTests {
    func validate(_ yaml: String) async throws -> (status: Int32, output: String) {
        let dir = try TestEnvironment.temporaryDirectory()
        let path = dir.appendingPathComponent("bootstrap.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try TestEnvironment.envoyBinary())
        process.arguments = ["--mode", "validate", "-c", path, "--disable-hot-restart", "--log-level", "error"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let handle = pipe.fileHandleForReading
        let output = try await offCooperativePool { String(decoding: handle.readDataToEndOfFile(), as: UTF8.self) }
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        return (process.terminationStatus, output)
    }

    @Test func envoyValidatesTheGeneratedBootstrapWithEveryOption() async throws {
        var bootstrap = EnvoyBootstrap(nodeID: "web-1", service: "web")
        bootstrap.xdsHost = "127.0.0.1"
        bootstrap.xdsPort = 18123
        bootstrap.adminPort = 19901
        bootstrap.outboundPort = 15101
        bootstrap.inboundPort = 15106
        bootstrap.appPort = 8080
        bootstrap.inboundAddress = "127.0.0.1"
        let result = try await validate(bootstrap.yaml)
        #expect(result.status == 0, "envoy --mode validate: \(result.output)")
        #expect(bootstrap.yaml.contains("sextant.app_port: 8080"))
        #expect(bootstrap.yaml.contains("sextant.inbound_address: \"127.0.0.1\""))
        #expect(bootstrap.yaml.contains("port_value: 18123"))
    }

    @Test func aHostnameXDSAddressUsesDNSAndStillValidates() async throws {
        var bootstrap = EnvoyBootstrap(nodeID: "web-1", service: "web")
        bootstrap.xdsHost = "localhost"
        #expect(bootstrap.yaml.contains("type: LOGICAL_DNS"))
        #expect(!bootstrap.yaml.contains("sextant.app_port"))
        let result = try await validate(bootstrap.yaml)
        #expect(result.status == 0, "envoy --mode validate: \(result.output)")
    }

    @Test func aDeltaBootstrapAsksForDeltaGRPCAndValidates() async throws {
        var bootstrap = EnvoyBootstrap(nodeID: "web-1", service: "web")
        bootstrap.delta = true
        #expect(bootstrap.yaml.contains("api_type: DELTA_GRPC"))
        #expect(!EnvoyBootstrap(nodeID: "web-1", service: "web").yaml.contains("DELTA"))
        let result = try await validate(bootstrap.yaml)
        #expect(result.status == 0, "envoy --mode validate: \(result.output)")
    }

    @Test func severalReplicasBecomePrioritiesWithHealthChecksAndValidate() async throws {
        var bootstrap = EnvoyBootstrap(nodeID: "web-1", service: "web")
        bootstrap.xdsPort = 18100
        bootstrap.moreXDSAddresses = [("127.0.0.1", 18000), ("127.0.0.1", 18200)]
        let yaml = bootstrap.yaml
        #expect(yaml.contains("priority: 1") && yaml.contains("priority: 2"))
        #expect(yaml.contains("tcp_health_check"))
        #expect(yaml.firstRange(of: "port_value: 18100")!.lowerBound < yaml.firstRange(of: "port_value: 18000")!.lowerBound)
        #expect(!EnvoyBootstrap(nodeID: "web-1", service: "web").yaml.contains("health_checks"))
        let result = try await validate(yaml)
        #expect(result.status == 0, "envoy --mode validate: \(result.output)")
        // gRPC lists every replica, in order.
        var grpc = GRPCBootstrap(nodeID: "orders-1", service: "orders")
        grpc.moreXDSAddresses = [("127.0.0.1", 18100)]
        let servers = try JSON.parse(grpc.json)["xds_servers"]?.arrayValue?.compactMap { $0["server_uri"]?.stringValue }
        #expect(servers == ["127.0.0.1:18000", "127.0.0.1:18100"])
    }

    @Test func aGRPCBootstrapHasWhatGRPCsXDSClientReads() throws {
        var bootstrap = GRPCBootstrap(nodeID: "orders-1", service: "orders")
        bootstrap.xdsPort = 18123
        let json = try JSON.parse(bootstrap.json)
        let server = try #require(json["xds_servers"]?.arrayValue?.first)
        #expect(server["server_uri"]?.stringValue == "127.0.0.1:18123")
        #expect(server["channel_creds"]?.arrayValue?.first?["type"]?.stringValue == "insecure")
        #expect(server["server_features"]?.arrayValue?.contains("xds_v3") == true)
        #expect(json["node"]?["id"]?.stringValue == "orders-1")
        #expect(json["node"]?["cluster"]?.stringValue == "orders")
        #expect(json["node"]?["metadata"]?["sextant.role"]?.stringValue == "grpc")
    }

    @Test func addressesSplitIntoHostAndPort() {
        #expect(EnvoyBootstrap.splitAddress("127.0.0.1:18000")! == ("127.0.0.1", 18000))
        #expect(EnvoyBootstrap.splitAddress("[::1]:18000")! == ("::1", 18000))
        #expect(EnvoyBootstrap.splitAddress("127.0.0.1") == nil)
        #expect(EnvoyBootstrap.splitAddress("127.0.0.1:0") == nil)
        #expect(EnvoyBootstrap.splitAddress(":80") == nil)
    }
}
