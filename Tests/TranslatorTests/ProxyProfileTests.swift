import EnvoyAPI
import Registry
import Testing
import Translator

@Suite struct ProxyProfileTests {
    @Test func nodeMetadataNumbersSetTheProfile() {
        let node = Node(id: "echo-1", cluster: "echo", metadata: [
            "sextant.role": "sidecar", "sextant.outbound_port": 16001, "sextant.inbound_port": 16006, "sextant.app_port": 8080,
        ])
        #expect(ProxyProfile(node: node) == ProxyProfile(service: "echo", outboundPort: 16001, inboundPort: 16006, appPort: 8080))
    }

    @Test func nodeMetadataStringsHoldingNumbersCount() {
        let node = Node(id: "n", cluster: "echo", metadata: ["sextant.outbound_port": "16001", "sextant.app_port": "8080", "sextant.role": "gateway"])
        let profile = ProxyProfile(node: node)
        #expect(profile.outboundPort == 16001)
        #expect(profile.appPort == 8080)
        #expect(profile.inboundPort == 15006)
        #expect(profile.role == "gateway")
    }

    @Test func badOrMissingMetadataFallsBackToDefaults() {
        let node = Node(id: "n", cluster: "", metadata: [
            "sextant.outbound_port": "port", "sextant.inbound_port": 15006.5, "sextant.app_port": 70000, "sextant.role": 7,
        ])
        #expect(ProxyProfile(node: node) == ProxyProfile())
        #expect(ProxyProfile(node: Node(id: "n", metadata: ["sextant.app_port": 1e300])).appPort == nil)
        #expect(ProxyProfile(node: Node(id: "n", metadata: .null)) == ProxyProfile())
    }

    @Test func theInboundListenerBindsTheInboundAddressWhenItIsAnIPLiteral() throws {
        func profile(_ address: JSON) -> ProxyProfile {
            ProxyProfile(node: Node(id: "n", cluster: "echo", metadata: ["sextant.app_port": 8080, "sextant.inbound_address": address]))
        }
        #expect(profile("127.0.0.1").inboundAddress == "127.0.0.1")
        #expect(profile("::1").inboundAddress == "::1")
        #expect(profile("localhost").inboundAddress == "0.0.0.0", "a name is not an address to bind")
        #expect(profile("300.1.1.1").inboundAddress == "0.0.0.0")
        #expect(ProxyProfile(node: Node(id: "n", cluster: "echo")).inboundAddress == "0.0.0.0")
        let inbound = MeshTranslation(MeshState()).resources(for: profile("127.0.0.1")).own.first { $0.name == "inbound" }
        #expect(inbound?.json["address"]?["socket_address"]?["address"] == "127.0.0.1")
        #expect("\(profile("127.0.0.1"))" == "sidecar|echo|15001|15006|8080|127.0.0.1")
    }

    @Test func emptyClusterMeansUnscoped() {
        #expect(ProxyProfile(node: Node(id: "n", cluster: "")).service == nil)
        #expect(ProxyProfile(service: "") == ProxyProfile(service: nil))
    }

    @Test func aProfileDescribesItsGroup() {
        #expect("\(ProxyProfile(service: "echo", appPort: 8080))" == "sidecar|echo|15001|15006|8080")
        #expect("\(ProxyProfile())" == "sidecar||15001|15006|")
    }

    @Test func equalProfilesAreOneGroupAndPortsSeparateThem() {
        let a = ProxyProfile(node: Node(id: "echo-1", cluster: "echo", metadata: ["sextant.app_port": 8080]))
        let b = ProxyProfile(node: Node(id: "echo-2", cluster: "echo", metadata: ["sextant.app_port": "8080"]))
        let c = ProxyProfile(node: Node(id: "echo-3", cluster: "echo", metadata: ["sextant.app_port": 8081]))
        #expect(a == b && a.hashValue == b.hashValue)
        #expect(a != c)
        // Text in a service name that once needed escaping in a string key is just data.
        #expect(ProxyProfile(service: "a|b", role: "x") != ProxyProfile(service: "a", role: "x|b"))
    }
}
