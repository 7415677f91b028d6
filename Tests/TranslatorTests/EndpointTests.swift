import EnvoyAPI
import Registry
import Testing
import Translator

@Suite struct EndpointTests {
    @Test func subsetAssignmentHoldsOnlyInstancesCarryingEverySelectorLabel() throws {
        let echo = Fixtures.service("echo", Fixtures.policy {
            $0.subsets = ["v2": ["version": "v2", "tier": "canary"]]
            $0.routes = [.init(match: .init(), split: ["v2": 100])]
        }, [
            Fixtures.instance("a", "10.0.0.1", labels: ["version": "v2", "tier": "canary", "extra": "x"]),
            Fixtures.instance("b", "10.0.0.2", labels: ["version": "v2"]),
            Fixtures.instance("c", "10.0.0.3", labels: ["version": "v1", "tier": "canary"]),
        ])
        let received = Received(MeshState(services: [echo]))
        #expect(received.assignment("echo|v2")?.endpointAddresses == ["10.0.0.1:8080"])
        #expect(received.assignment("echo")?.endpointAddresses == ["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"])
    }

    @Test func canarySubsetsSplitTheInstancesByVersionLabel() {
        let received = Received(MeshState(services: [Fixtures.canaryEcho()]))
        #expect(received.assignment("echo|v1")?.endpointAddresses == ["10.0.0.1:8080"])
        #expect(received.assignment("echo|v2")?.endpointAddresses == ["10.0.0.2:8080"])
    }

    @Test func drainingIsSentAsDrainingAndUnhealthyIsLeftOut() throws {
        let echo = Fixtures.service("echo", ServicePolicy(), [
            Fixtures.instance("a", "10.0.0.1", health: .healthy),
            Fixtures.instance("b", "10.0.0.2", health: .draining),
            Fixtures.instance("c", "10.0.0.3", health: .unhealthy),
        ])
        let assignment = try #require(Received(MeshState(services: [echo])).assignment("echo"))
        #expect(assignment.endpointAddresses == ["10.0.0.1:8080", "10.0.0.2:8080"])
        let statuses = assignment["endpoints"]?[0]?["lb_endpoints"]?.arrayValue?.compactMap { $0["health_status"]?.stringValue }
        #expect(statuses == ["HEALTHY", "DRAINING"])
    }

    @Test func lbEndpointCarriesAddressPortAndWeight() throws {
        let echo = Fixtures.service("echo", ServicePolicy(), [Fixtures.instance("a", "10.0.0.1", port: 9001, weight: 7)])
        let endpoint = try #require(Received(MeshState(services: [echo])).assignment("echo")?["endpoints"]?[0]?["lb_endpoints"]?[0])
        #expect(endpoint == [
            "endpoint": ["address": ["socket_address": ["address": "10.0.0.1", "port_value": 9001]]],
            "load_balancing_weight": 7,
            "health_status": "HEALTHY",
        ])
    }

    @Test func zonesBecomeLocalitiesAfterTheZonelessGroup() throws {
        let echo = Fixtures.service("echo", ServicePolicy(), [
            Fixtures.instance("a", "10.0.0.1", zone: "z2"),
            Fixtures.instance("b", "10.0.0.2"),
            Fixtures.instance("c", "10.0.0.3", zone: "z1"),
            Fixtures.instance("d", "10.0.0.4", zone: "z2"),
        ])
        let groups = try #require(Received(MeshState(services: [echo])).assignment("echo")?["endpoints"]?.arrayValue)
        #expect(groups.count == 3)
        // Every group has a Locality (empty without a zone) and a weight: gRPC needs both.
        #expect(groups.map { $0["locality"] } == [[:], ["zone": "z1"], ["zone": "z2"]])
        #expect(groups.map { $0["load_balancing_weight"] } == [1, 1, 2])
        #expect(groups.map { JSON.object(["endpoints": .array([$0])]).endpointAddresses } == [
            ["10.0.0.2:8080"], ["10.0.0.3:8080"], ["10.0.0.1:8080", "10.0.0.4:8080"],
        ])
    }

    @Test func serviceWithoutInstancesGetsAnEmptyAssignment() throws {
        let received = Received(MeshState(services: [Fixtures.service("empty")]))
        #expect(received.assignment("empty") == ["cluster_name": "empty"])
        #expect(received.resource(TypeURL.cluster, "empty")?.dependencies == [ResourceKey(typeURL: TypeURL.endpoint, name: "empty")])
    }

    @Test func serviceWithOnlyUnhealthyInstancesGetsAnEmptyAssignment() {
        let echo = Fixtures.service("echo", ServicePolicy(), [Fixtures.instance("a", health: .unhealthy)])
        #expect(Received(MeshState(services: [echo])).assignment("echo") == ["cluster_name": "echo"])
    }

    @Test func subsetMatchingNoInstanceStillGetsItsAssignment() {
        let echo = Fixtures.service("echo", Fixtures.policy {
            $0.subsets = ["v9": ["version": "v9"]]
            $0.routes = [.init(match: .init(), split: ["v9": 100])]
        }, [Fixtures.instance("a", labels: ["version": "v1"])])
        #expect(Received(MeshState(services: [echo])).assignment("echo|v9") == ["cluster_name": "echo|v9"])
    }
}
