import Foundation
import Registry

/// How registry-built versions are kept in the store, at a cost per version that follows
/// the change, not the mesh (docs/snapshots.md, "History"):
/// - a *checkpoint* holds every service (canonical JSON, as translated);
/// - a *delta* holds the services that changed since the version before it, and the
///   names of those removed; rebuilding it replays the deltas after its checkpoint;
/// - a checkpoint is written every `interval` versions, and whenever there is no
///   previous registry version to build on (first version, after a restore, a rollback),
///   so a rebuild reads at most `interval` records and pruning keeps whole chains.
enum MeshHistory {
    static let checkpointKind = "registry-checkpoint"
    static let deltaKind = "registry-delta"
    /// Versions written before the incremental engine: the whole registry as one MeshState.
    static let wholeKind = "registry"
    static let interval = 32

    /// What a version builds on: the version before it and how many deltas lead to it.
    struct Base {
        let version: Int
        let depth: Int
    }

    /// The record payload for `model` (kind, bytes, chain depth). A delta when `base`
    /// allows one and `changed` names what differs from it.
    static func payload(for model: MeshModel, changed: Set<String>?, base: Base?) -> (kind: String, payload: Data, depth: Int) {
        if let base, let changed, base.depth + 1 < interval {
            var upserts: [Data] = []
            var deletes: [String] = []
            for name in changed.sorted() {
                if let entry = model.entries[name] { upserts.append(entry.canonical) } else { deletes.append(name) }
            }
            let head = "{\"base\":\(base.version),\"deletes\":\(json(deletes)),\"revision\":\(model.revision),\"upserts\":["
            return (deltaKind, assemble(head, upserts), base.depth + 1)
        }
        let head = "{\"revision\":\(model.revision),\"services\":["
        return (checkpointKind, assemble(head, model.sortedNames.compactMap { model.entries[$0]?.canonical }), 0)
    }

    /// Writes the JSON around services already in canonical form, without re-encoding them.
    private static func assemble(_ head: String, _ items: [Data]) -> Data {
        var data = Data(head.utf8)
        data.reserveCapacity(head.utf8.count + items.reduce(2) { $0 + $1.count + 1 })
        for (index, item) in items.enumerated() {
            if index > 0 { data.append(UInt8(ascii: ",")) }
            data.append(item)
        }
        data.append(contentsOf: Array("]}".utf8))
        return data
    }

    private static func json(_ names: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(names)) ?? Data("[]".utf8), as: UTF8.self)
    }

    private struct Checkpoint: Decodable {
        var revision: UInt64
        var services: [MeshState.ServiceState]
    }

    private struct Delta: Decodable {
        var base: Int
        var revision: UInt64
        var upserts: [MeshState.ServiceState]
        var deletes: [String]
    }

    /// The registry as version `record` saw it, and its revision.
    static func mesh(at record: RegistryStore.SnapshotRecord, store: any ControlStore) throws -> (MeshState, UInt64) {
        var chain: [Delta] = []
        var current = record
        while current.kind == deltaKind {
            let delta = try JSONDecoder().decode(Delta.self, from: current.payload)
            chain.append(delta)
            guard chain.count <= interval, let base = try store.snapshot(version: delta.base) else {
                throw SnapshotContent.ContentError("history of v\(record.version) is incomplete: v\(delta.base) is missing")
            }
            current = base
        }
        var services: [String: MeshState.ServiceState] = [:]
        var revision: UInt64 = 0
        switch current.kind {
        case checkpointKind:
            let checkpoint = try JSONDecoder().decode(Checkpoint.self, from: current.payload)
            for service in checkpoint.services { services[service.name] = service }
            revision = checkpoint.revision
        case wholeKind:
            for service in try MeshState.decode(current.payload).services { services[service.name] = service }
        default:
            throw SnapshotContent.ContentError("v\(current.version) is not a registry version (\(current.kind))")
        }
        for delta in chain.reversed() {
            for name in delta.deletes { services[name] = nil }
            for service in delta.upserts { services[service.name] = service }
            revision = delta.revision
        }
        return (MeshState(services: Array(services.values)), revision)
    }
}
