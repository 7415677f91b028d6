import EnvoyAPI
import Foundation
import GRPC
import Synchronization

/// Many ADS streams, each on its own HTTP/2 connection, each behaving as Envoy does for
/// clusters and endpoints: CDS wildcard, EDS by the clusters' names, ACK every response;
/// State-of-the-World or Delta. Records when each stream received each version of the
/// watched type (endpoints by default),
/// and the bytes of every message received.
final class Fleet: Sendable {
    let delta: Bool
    /// The type whose versions are recorded (arrival of a change).
    let watched: String

    init(delta: Bool = false, watching watched: String = TypeURL.endpoint) {
        self.delta = delta
        self.watched = watched
    }

    private struct State {
        var clients: [GRPCClient] = []
        var tasks: [Task<Void, Never>] = []
        /// Per stream: the latest version of the watched type and when it arrived.
        var latest: [Int: (version: String, at: ContinuousClock.Instant)] = [:]
        var failures: [String] = []
        /// gRPC message payload bytes received, all streams together.
        var bytes = 0
    }

    var bytesReceived: Int { state.withLock { $0.bytes } }
    private let state = Mutex(State())

    static let ads = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
    static let deltaADS = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"

    /// Opens `count` streams (at most 100 connecting at once) and waits until every one
    /// holds the endpoints of version `version`.
    func open(_ count: Int, port: Int, names: [String], until version: String) async throws {
        var next = 0
        while next < count {
            let batch = next..<min(next + 100, count)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in batch {
                    group.addTask { try await self.start(index, port: port, names: names) }
                }
                try await group.waitForAll()
            }
            next = batch.upperBound
        }
        _ = try await waitForAll(newerThan: nil, version: version, count: count)
    }

    private func start(_ index: Int, port: Int, names: [String]) async throws {
        let client = try await GRPCClient.connect(host: "127.0.0.1", port: port)
        let call = try await client.call(path: delta ? Self.deltaADS : Self.ads)
        let node = Node(id: "bench-\(index)", cluster: "bench")
        let task = delta ? try await runDelta(index, call: call, node: node, names: names) : try await runSotw(index, call: call, node: node, names: names)
        state.withLock { state in
            state.clients.append(client)
            state.tasks.append(task)
        }
    }

    private func runSotw(_ index: Int, call: GRPCCall, node: Node, names: [String]) async throws -> Task<Void, Never> {
        try await call.send(DiscoveryRequest(versionInfo: "", node: node, resourceNames: [], typeURL: TypeURL.cluster, responseNonce: "").encoded())
        return Task {
            do {
                var subscribed = false
                for try await bytes in call.responses {
                    let response = try DiscoveryResponse.decode(bytes)
                    self.received(index, bytes.count, version: response.typeURL == self.watched ? response.versionInfo : nil)
                    // ACK, with the same names (Envoy repeats its subscription on each request).
                    let ackNames = response.typeURL == TypeURL.endpoint ? names : []
                    try await call.send(DiscoveryRequest(
                        versionInfo: response.versionInfo, node: nil, resourceNames: ackNames, typeURL: response.typeURL,
                        responseNonce: response.nonce).encoded())
                    if response.typeURL == TypeURL.cluster, !subscribed {
                        subscribed = true
                        try await call.send(DiscoveryRequest(versionInfo: "", node: nil, resourceNames: names, typeURL: TypeURL.endpoint, responseNonce: "").encoded())
                    }
                }
            } catch {
                if !Task.isCancelled { self.state.withLock { $0.failures.append("stream \(index): \(error)") } }
            }
        }
    }

    /// Delta: the ACK is the nonce alone, and names are subscribed once.
    private func runDelta(_ index: Int, call: GRPCCall, node: Node, names: [String]) async throws -> Task<Void, Never> {
        try await call.send(DeltaDiscoveryRequest(node: node, typeURL: TypeURL.cluster).encoded())
        return Task {
            do {
                var subscribed = false
                for try await bytes in call.responses {
                    let response = try DeltaDiscoveryResponse.decode(bytes)
                    self.received(index, bytes.count, version: response.typeURL == self.watched ? response.systemVersionInfo : nil)
                    try await call.send(DeltaDiscoveryRequest(typeURL: response.typeURL, responseNonce: response.nonce).encoded())
                    if response.typeURL == TypeURL.cluster, !subscribed {
                        subscribed = true
                        try await call.send(DeltaDiscoveryRequest(typeURL: TypeURL.endpoint, subscribe: names).encoded())
                    }
                }
            } catch {
                if !Task.isCancelled { self.state.withLock { $0.failures.append("stream \(index): \(error)") } }
            }
        }
    }

    private func received(_ index: Int, _ count: Int, version: String?) {
        state.withLock { state in
            state.bytes += count
            if let version { state.latest[index] = (version, .now) }
        }
    }

    /// Waits until every stream holds an EDS version other than `previous` (or equal to
    /// `version`); returns when each received it.
    @discardableResult
    func waitForAll(newerThan previous: String?, version: String? = nil, count: Int? = nil) async throws -> [ContinuousClock.Instant] {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let (arrivals, total, failures) = state.withLock { state in
                (state.latest.values.filter { entry in
                    if let version { return entry.version == version }
                    return entry.version != previous
                }.map(\.at), count ?? state.tasks.count, state.failures)
            }
            if let failure = failures.first { throw BenchError("\(failures.count) streams failed, first: \(failure)") }
            if arrivals.count >= total { return arrivals }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw BenchError("not every stream got the new endpoints within 120 s")
    }

    func close() async {
        let (clients, tasks) = state.withLock { ($0.clients, $0.tasks) }
        for task in tasks { task.cancel() }
        for client in clients { await client.close() }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
