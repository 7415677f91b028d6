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
        for name in wanted.keys.sorted() {
            let config = wanted[name]!
            if let existing = current[name], existing.config.host == config.host, existing.config.port == config.port,
                Self.sameKind(existing.config.chain, config.chain)
            {
                kept[name] = existing
                continue
            }
            // Another listener giving up this address must let go of it first.
            for (other, handle) in current where handle.address == "\(config.host):\(config.port)" && wanted[other].map({ "\($0.host):\($0.port)" }) != handle.address {
                handle.drain()
            }
            let handle = ListenerHandle(config: config)
            do {
                try await handle.start(runtime: runtime)
                started[name] = handle
            } catch {
                for (_, handle) in started { handle.drain() }
                throw ConfigError(resource: "listener '\(name)'", path: "address", reason: "cannot bind \(config.host):\(config.port): \(error)")
            }
        }
        for (name, handle) in kept { handle.replace(wanted[name]!) }
        active.withLock { $0 = kept.merging(started) { $1 } }
        for (name, handle) in current where kept[name] == nil {
            logger.info("draining listener", metadata: ["listener": "\(name)", "address": "\(handle.address)"])
            handle.drain()
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

    func stopAll() {
        let all = active.withLock { active -> [ListenerHandle] in
            defer { active = [:] }
            return Array(active.values)
        }
        for handle in all { handle.drain() }
    }
}
