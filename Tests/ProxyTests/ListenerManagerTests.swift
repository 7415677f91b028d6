import Logging
import NIOPosix
@testable import Proxy
import Testing
import TestSupport

/// Listeners come and go without cutting requests: a removed HTTP listener stops
/// accepting while the request it is serving completes.
@Suite struct ListenerManagerTests {
    func config(upstream: Int, listener port: Int) -> ProxyConfig {
        var config = ProxyConfig()
        let endpoint = Endpoint(host: "127.0.0.1", port: upstream, weight: 1, health: .healthy, zone: "")
        config.clusters["slow"] = ClusterConfig(
            name: "slow", discovery: .inline(LoadAssignment(clusterName: "slow", endpoints: [endpoint])), balancing: .roundRobin,
            connectTimeout: .seconds(1), limits: CircuitBreakerLimits(), outlier: nil)
        let route = Route(match: RouteMatch(path: .prefix("/"), headers: []), action: .cluster("slow"), timeout: .seconds(5))
        let table = RouteTable(name: "r", virtualHosts: [VirtualHost(name: "all", domains: ["*"], routes: [route])])
        config.listeners["http"] = ListenerConfig(
            name: "http", host: "127.0.0.1", port: port, chain: .http(HTTPManagerConfig(routes: .inline(table), faultFilter: false, rateLimit: nil)))
        return config
    }

    /// A runtime and listener manager serving `config` on a free port.
    func serving(upstream: Int) async throws -> (manager: ListenerManager, port: Int, config: ProxyConfig) {
        let runtime = ProxyRuntime(group: MultiThreadedEventLoopGroup.singleton)
        let manager = ListenerManager(runtime: runtime, logger: Logger(label: "test"))
        let port = try TestEnvironment.freePort()
        let config = config(upstream: upstream, listener: port)
        runtime.install(config)
        try await manager.apply(config.listeners)
        return (manager, port, config)
    }

    @Test func aRemovedListenerFinishesItsInFlightRequestAndAcceptsNoMore() async throws {
        let slow = try await HTTPUpstream.start(name: "slow", behavior: .delay(.milliseconds(600)))
        let (manager, port, _) = try await serving(upstream: slow.port)

        let inFlight = Task { try await SimpleHTTPClient.get(port: port, path: "/") }
        try await eventually("the request is at the upstream") { slow.requestCount == 1 }
        try await manager.apply([:])
        await #expect(throws: (any Error).self, "no new connections") { try await SimpleHTTPClient.get(port: port, path: "/") }
        let response = try await inFlight.value
        #expect(response.status == 200 && response.body == "slow\n", "the in-flight request completed")
        #expect(manager.names.isEmpty)
        await slow.stop()
    }

    @Test func anIdleKeepAliveConnectionIsClosedWhenItsListenerDrains() async throws {
        let upstream = try await HTTPUpstream.start(name: "up")
        let (manager, port, _) = try await serving(upstream: upstream.port)
        let client = try await TCPSession.open(port: port)
        try await client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await client.read(until: "up\n").hasPrefix("HTTP/1.1 200"))
        // Keep-alive: the connection stays open and idle until the listener goes.
        try await manager.apply([:])
        try await client.waitClosed()
        await upstream.stop()
    }

    @Test func aListenerThatCannotBindRefusesTheUpdateAndKeepsTheRunningOnes() async throws {
        let upstream = try await HTTPUpstream.start(name: "up")
        var (manager, port, config) = try await serving(upstream: upstream.port)
        // A second listener on the admin-style port of a running server cannot bind.
        var taken = config.listeners["http"]!
        taken.name = "taken"
        taken.port = upstream.port
        config.listeners["taken"] = taken
        let error = await #expect(throws: ConfigError.self) { try await manager.apply(config.listeners) }
        #expect(error?.description.hasPrefix("listener 'taken': address: cannot bind 127.0.0.1:\(upstream.port)") == true, "\(String(describing: error))")
        #expect(manager.names == ["http"])
        #expect(try await SimpleHTTPClient.get(port: port, path: "/").status == 200)
        await manager.stopAll()
        await upstream.stop()
    }
}
