import Logging
import Synchronization

/// Makes the bound listeners match the configuration, make-before-break: new and moved
/// listeners are bound first; only when all of them bound are replaced and removed ones
/// drained. A listener that cannot bind refuses the whole LDS update (Envoy NACKs it the
/// same way), and everything bound for it is closed again.
final class ListenerManager: Sendable {
    private let runtime: ProxyRuntime
    private let logger: Logger
    private let active = Mutex<[String: ListenerHandle]>([:])

    init(runtime: ProxyRuntime, logger: Logger) {
        self.runtime = runtime
        self.logger = logger
    }

    /// Called by one task at a time (the xDS client); the lock only guards readers.
    func apply(_ wanted: [String: ListenerConfig]) async throws(ConfigError) {
        let current = active.withLock { $0 }
        var started: [String: ListenerHandle] = [:]
        var kept: [String: ListenerHandle] = [:]
        var released: Set<String> = []
        for name in wanted.keys.sorted() {
            let config = wanted[name]!
            if let existing = current[name], existing.config.host == config.host, existing.config.port == config.port,
                Self.sameKind(existing.config.chain, config.chain)
            {
                kept[name] = existing
                continue
            }
            // Whatever holds this address now and is not kept (another name, or this name
            // with another kind of chain) lets go of it first: break-before-make here is
            // the only way to bind.
            let address = "\(config.host):\(config.port)"
            for (other, handle) in current where handle.address == address && kept[other] == nil && !released.contains(other) {
                await handle.drain()
                released.insert(other)
            }
            let handle = ListenerHandle(config: config)
            do {
                try await handle.start(runtime: runtime)
                started[name] = handle
            } catch {
                for (_, handle) in started { await handle.drain() }
                // Released listeners no longer accept: forget them, so the next update
                // binds them again instead of keeping a dead handle.
                active.withLock { active in
                    for name in released { active[name] = nil }
                }
                throw ConfigError(resource: "listener '\(name)'", path: "address", reason: "cannot bind \(config.host):\(config.port): \(error)")
            }
        }
        for (name, handle) in kept { handle.replace(wanted[name]!) }
        active.withLock { $0 = kept.merging(started) { $1 } }
        for (name, handle) in current where kept[name] == nil && !released.contains(name) {
            logger.info("draining listener", metadata: ["listener": "\(name)", "address": "\(handle.address)"])
            await handle.drain()
        }
        for name in started.keys.sorted() {
            logger.info("listener started", metadata: ["listener": "\(name)", "address": "\(wanted[name]!.host):\(wanted[name]!.port)"])
        }
    }

    /// An HTTP listener can take new routes in place; HTTP ⇄ TCP needs a new socket.
    private static func sameKind(_ a: ListenerConfig.Chain, _ b: ListenerConfig.Chain) -> Bool {
        switch (a, b) {
        case (.http, .http), (.tcp, .tcp): true
        default: false
        }
    }

    var names: [String] { active.withLock { $0.keys.sorted() } }

    /// Drains every listener and waits (up to `grace`) for their connections to finish.
    func stopAll(grace: Duration = .seconds(5)) async {
        let all = active.withLock { active -> [ListenerHandle] in
            defer { active = [:] }
            return Array(active.values)
        }
        for handle in all { await handle.drain() }
        let deadline = ContinuousClock.now + grace
        while all.contains(where: { $0.connections.count > 0 }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
