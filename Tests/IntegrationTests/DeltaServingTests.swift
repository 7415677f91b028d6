import ControlPlane
import EnvoyAPI
import Foundation
import Registry
import Testing
import TestSupport
import XDS

/// Delta xDS served by the real `sextant serve` wiring from the registry: what one change
/// costs on the wire, and what a reconnecting client is spared.
@Suite struct DeltaServingTests {
    /// A server whose registry holds `count` HTTP services of one instance each.
    func withRegistry(services count: Int, _ body: (ControlPlaneServer, Int) async throws -> Void) async throws {
        let server = try ControlPlaneServer(configuration: .loopback(dataDirectory: try TestEnvironment.temporaryDirectory().path))
        let port = try await server.start().xds
        do {
            for index in 0..<count {
                let name = "svc-\(index)"
                _ = try await server.registry.putService(name, ServicePolicy(protocol: .http, port: 8080))
                _ = try await server.registry.putInstance(service: name, id: "i0", InstanceRegistration(address: "10.0.\(index / 250).\(index % 250 + 1)", port: 8080))
            }
            try await eventually(timeout: .seconds(60), "the registry is published") {
                server.xds.cache.snapshot()?.count(.cluster) == count
            }
            try await body(server, port)
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    /// Subscribes CDS (wildcard) and every assignment, ACKing each answer.
    func subscribeAll(_ client: RawDeltaClient) async throws -> (clusters: DeltaDiscoveryResponse, endpoints: DeltaDiscoveryResponse) {
        try await client.send(TypeURL.cluster)
        let clusters = try await client.next()
        try await client.ack(clusters)
        try await client.send(TypeURL.endpoint, subscribe: clusters.resources.map(\.name))
        let endpoints = try await client.next()
        try await client.ack(endpoints)
        return (clusters, endpoints)
    }

    @Test func oneInstanceChangeAmongAThousandServicesSendsOneAssignment() async throws {
        try await withRegistry(services: 1_000) { server, port in
            let client = try await RawDeltaClient.connect(port: port, nodeID: "delta-scale")
            let (clusters, endpoints) = try await subscribeAll(client)
            #expect(clusters.resources.count == 1_000 && endpoints.resources.count == 1_000)
            try await eventually("both ACKs recorded") {
                let types = server.xds.proxies.streams(ofNode: "delta-scale").first?.types
                return types?[.cluster]?.state == .synced && types?[.endpoint]?.state == .synced
            }
            let before = server.xds.proxies.counters(ofNode: "delta-scale")

            _ = try await server.registry.putInstance(service: "svc-7", id: "i0", InstanceRegistration(address: "10.9.9.9", port: 8080))
            let pushed = try await client.next()
            #expect(pushed.typeURL == TypeURL.endpoint)
            #expect(pushed.resources.map(\.name) == ["svc-7"] && pushed.removedResources.isEmpty)
            try await client.ack(pushed)

            let after = server.xds.proxies.counters(ofNode: "delta-scale")
            let sent = after.bytes[.endpoint] - before.bytes[.endpoint]
            #expect(after.pushes[.endpoint] == before.pushes[.endpoint] + 1)
            #expect(after.pushes[.cluster] == before.pushes[.cluster], "no cluster changed")
            #expect(sent == pushed.encoded().count, "the stream's counter is the message it sent")
            #expect(sent < 512, "one assignment, not the mesh: \(sent) bytes")
            await client.close()
        }
    }

    @Test func aReconnectingClientHoldingTheCurrentVersionsReceivesNoResources() async throws {
        try await withRegistry(services: 20) { _, port in
            let first = try await RawDeltaClient.connect(port: port, nodeID: "delta-resume")
            let (clusters, endpoints) = try await subscribeAll(first)
            await first.close()

            let again = try await RawDeltaClient.connect(port: port, nodeID: "delta-resume")
            func held(_ response: DeltaDiscoveryResponse) -> [String: String] {
                Dictionary(uniqueKeysWithValues: response.resources.map { ($0.name, $0.version) })
            }
            try await again.send(TypeURL.cluster, initial: held(clusters))
            try await again.send(TypeURL.endpoint, subscribe: endpoints.resources.map(\.name), initial: held(endpoints))
            // Responses come in order: asking for a name that does not exist is answered,
            // so if CDS or EDS had anything to send, it would arrive first.
            try await again.send(TypeURL.route, subscribe: ["no-such-route"])
            let answer = try await again.next()
            #expect(answer.typeURL == TypeURL.route && answer.removedResources == ["no-such-route"])
            await again.close()
        }
    }
}
