import Foundation

/// Where a replicated registry keeps each record in a key-value store (etcd), and what a
/// change of a key means to the registry (docs/etcd.md, "Key layout"). Pure: no store.
///
/// Service names are DNS labels and instance ids have no `/` (both validated), so each
/// key parses back unambiguously.
public struct RegistryKeys: Sendable, Equatable {
    /// Without a trailing slash, e.g. `/sextant`.
    public let prefix: String

    public init(prefix: String = "/sextant") {
        var trimmed = prefix
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.prefix = trimmed
    }

    /// What a key holds.
    public enum Record: Sendable, Equatable {
        case service(String)
        case instance(service: String, id: String)
        case setting(String)
        case snapshot(version: Int)
        case token(id: String)
    }

    public func key(_ record: Record) -> String {
        switch record {
        case .service(let name): "\(prefix)/services/\(name)"
        case .instance(let service, let id): "\(prefix)/instances/\(service)/\(id)"
        case .setting(let name): "\(prefix)/settings/\(name)"
        // Zero-padded, so key order is version order (a range read lists history in order).
        case .snapshot(let version): "\(prefix)/snapshots/\(String(repeating: "0", count: max(0, 12 - String(version).count)))\(version)"
        case .token(let id): "\(prefix)/tokens/\(id)"
        }
    }

    public var services: String { "\(prefix)/services/" }
    public var instances: String { "\(prefix)/instances/" }
    public func instances(of service: String) -> String { "\(prefix)/instances/\(service)/" }
    public var settings: String { "\(prefix)/settings/" }
    public var snapshots: String { "\(prefix)/snapshots/" }
    public var tokens: String { "\(prefix)/tokens/" }
    /// Snapshot payloads, in chunks of at most 1 MiB (etcd refuses larger requests).
    public func payload(_ id: String, chunk: Int) -> String { "\(prefix)/payloads/\(id)/\(chunk)" }
    public func payloads(_ id: String) -> String { "\(prefix)/payloads/\(id)/" }
    /// Live replicas, one lease-bound key each, and the elected one.
    public var replicas: String { "\(prefix)/replicas/" }
    public func replica(_ id: String) -> String { "\(prefix)/replicas/\(id)" }
    public var leader: String { "\(prefix)/leader" }

    /// The record a key holds; nil for keys outside the layout.
    public func record(_ key: String) -> Record? {
        guard key.hasPrefix(prefix + "/") else { return nil }
        let parts = key.dropFirst(prefix.count + 1).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch (parts.first, parts.count) {
        case ("services", 2) where !parts[1].isEmpty: return .service(parts[1])
        case ("instances", 3) where !parts[1].isEmpty && !parts[2].isEmpty: return .instance(service: parts[1], id: parts[2])
        case ("settings", 2) where !parts[1].isEmpty: return .setting(parts[1])
        case ("snapshots", 2): return Int(parts[1]).map { .snapshot(version: $0) }
        case ("tokens", 2) where !parts[1].isEmpty: return .token(id: parts[1])
        default: return nil
        }
    }

    /// The registry change a put (or delete) of `key` is, for the replicas that watch the
    /// store: what their publishers retranslate. Keys that proxies never see (history,
    /// tokens, the publishing settings) are no registry change.
    public func change(_ key: String, deleted: Bool) -> RegistryChange? {
        switch record(key) {
        case .service(let name)?: deleted ? .serviceDeleted(name) : .serviceUpserted(name)
        case .instance(let service, _)?: .instancesChanged(service)
        case .setting(let name)? where name == Registry.meshSettingsKey: .meshSettingsChanged
        default: nil
        }
    }
}

/// The values under `RegistryKeys`: JSON, the same text whichever replica wrote it.
public enum RegistryRecordCodec {
    struct ServiceRecord: Codable {
        var policy: ServicePolicy
        var createdAt: Double
        var updatedAt: Double
    }

    public static func encode(_ service: RegistryStore.StoredService) -> [UInt8] {
        Array(try! RegistryStore.encoder.encode(ServiceRecord(
            policy: service.policy, createdAt: service.createdAt.timeIntervalSince1970, updatedAt: service.updatedAt.timeIntervalSince1970)))
    }

    public static func service(named name: String, from bytes: [UInt8]) throws(RegistryError) -> RegistryStore.StoredService {
        do {
            let record = try JSONDecoder().decode(ServiceRecord.self, from: Data(bytes))
            return RegistryStore.StoredService(
                name: name, policy: record.policy, createdAt: Date(timeIntervalSince1970: record.createdAt),
                updatedAt: Date(timeIntervalSince1970: record.updatedAt))
        } catch {
            throw RegistryError(.storage, "service \"\(name)\" in the store does not decode: \(error)")
        }
    }

    public static func encode(_ instance: Instance) -> [UInt8] {
        Array(try! RegistryStore.encoder.encode(instance))
    }

    public static func instance(from bytes: [UInt8]) throws(RegistryError) -> Instance {
        do {
            return try JSONDecoder().decode(Instance.self, from: Data(bytes))
        } catch {
            throw RegistryError(.storage, "an instance in the store does not decode: \(error)")
        }
    }
}
