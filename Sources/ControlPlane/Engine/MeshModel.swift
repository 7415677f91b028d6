import Foundation
import Registry

/// The registry translated and encoded, service by service, with the revision it
/// reflects and the indexes that group rendering needs; updated per change, never rebuilt
/// whole (docs/architecture.md, "Incremental engine").
///
/// A value type holding immutable `ServiceEntry` references: a new model shares every
/// unchanged entry with the one it came from.
public struct MeshModel: Sendable {
    private(set) var entries: [String: ServiceEntry] = [:]
    /// The registry revision this model reflects.
    private(set) var revision: UInt64 = 0
    /// Every service name, sorted: the order of virtual hosts and listeners.
    private(set) var sortedNames: [String] = []
    /// tcp services (they get listeners, not virtual hosts); few in practice.
    private(set) var tcpNames: Set<String> = []
    /// How many services have a route that injects faults.
    private(set) var faultCount = 0
    /// Sum (wrapping) of every entry's hash: equal registries, equal sum, whatever order
    /// the changes came in.
    private(set) var contentSum: UInt64 = 0

    init() {}

    /// Services whose translation differs between `other` and this model.
    func changedServices(since other: MeshModel) -> Set<String> {
        var names = Set<String>()
        for (name, entry) in entries where other.entries[name]?.hash != entry.hash { names.insert(name) }
        for name in other.entries.keys where entries[name] == nil { names.insert(name) }
        return names
    }

    /// A whole registry, translating only what `reusable` does not already hold.
    init(mesh: MeshState, revision: UInt64, reusable: MeshModel? = nil) {
        var changes: [String: MeshState.ServiceState?] = [:]
        for service in mesh.services { changes[service.name] = .some(service) }
        _ = apply(changes, revision: revision, reusable: reusable)
    }

    /// Hex of the content sum and size: equal content, equal hash (history lists it).
    var contentHash: String {
        let digits = String(contentSum &+ UInt64(entries.count), radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    var count: Int { entries.count }

    /// Applies service states (nil: the service is gone) and moves to `revision`. Returns
    /// the names whose content actually changed; unchanged ones keep their entry.
    mutating func apply(_ changes: [String: MeshState.ServiceState?], revision: UInt64, reusable: MeshModel? = nil) -> Set<String> {
        var changed = Set<String>()
        for (name, state) in changes {
            let old = entries[name]
            guard let state else {
                if let old {
                    remove(old)
                    changed.insert(name)
                }
                continue
            }
            if let old, old.sameContent(as: state) { continue }
            let entry: ServiceEntry
            if let candidate = reusable?.entries[name], candidate.sameContent(as: state) {
                entry = candidate
            } else {
                entry = ServiceEntry(state)
            }
            if let old { remove(old) }
            add(entry)
            changed.insert(name)
        }
        self.revision = revision
        return changed
    }

    private mutating func add(_ entry: ServiceEntry) {
        entries[entry.name] = entry
        let index = insertionIndex(entry.name)
        if index == sortedNames.count || sortedNames[index] != entry.name { sortedNames.insert(entry.name, at: index) }
        if entry.isTCP { tcpNames.insert(entry.name) }
        if entry.needsFault { faultCount += 1 }
        contentSum &+= entry.hash
    }

    private mutating func remove(_ entry: ServiceEntry) {
        entries[entry.name] = nil
        let index = insertionIndex(entry.name)
        if index < sortedNames.count, sortedNames[index] == entry.name { sortedNames.remove(at: index) }
        tcpNames.remove(entry.name)
        if entry.needsFault { faultCount -= 1 }
        contentSum &-= entry.hash
    }

    /// Binary search: the first index whose name is not below `name`.
    private func insertionIndex(_ name: String) -> Int {
        var low = 0, high = sortedNames.count
        while low < high {
            let middle = (low + high) / 2
            if sortedNames[middle] < name { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
