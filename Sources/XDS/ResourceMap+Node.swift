/// The trie's nodes (CHAMP layout: a bitmap of slots holding entries, a bitmap of slots
/// holding sub-nodes, both arrays in slot order). Five hash bits per level; below the
/// last full level (shift 60) a node is a plain list of entries whose hashes collide.
/// Nodes are immutable and shared between maps; every update returns new nodes along one
/// path. Removal keeps the canonical form (a sub-node left with one entry is inlined), so
/// equal maps built in different orders have the same shape.
extension ResourceMap {
    final class Node: Sendable {
        let dataMap: UInt32
        let nodeMap: UInt32
        let entries: [Entry]
        let children: [Node]

        static let empty = Node(dataMap: 0, nodeMap: 0, entries: [], children: [])
        static let collisionShift = 60

        init(dataMap: UInt32, nodeMap: UInt32, entries: [Entry], children: [Node]) {
            self.dataMap = dataMap
            self.nodeMap = nodeMap
            self.entries = entries
            self.children = children
        }

        private static func bit(_ hash: UInt64, _ shift: Int) -> UInt32 {
            1 << UInt32((hash >> UInt64(shift)) & 31)
        }

        private func dataIndex(_ bit: UInt32) -> Int { (dataMap & (bit &- 1)).nonzeroBitCount }
        private func nodeIndex(_ bit: UInt32) -> Int { (nodeMap & (bit &- 1)).nonzeroBitCount }

        var isSingleEntry: Bool { children.isEmpty && entries.count == 1 }

        func find(_ name: String, hash: UInt64, shift: Int) -> Resource? {
            if shift >= Self.collisionShift { return entries.first { $0.resource.name == name }?.resource }
            let bit = Self.bit(hash, shift)
            if dataMap & bit != 0 {
                let entry = entries[dataIndex(bit)]
                return entry.resource.name == name ? entry.resource : nil
            }
            if nodeMap & bit != 0 { return children[nodeIndex(bit)].find(name, hash: hash, shift: shift + 5) }
            return nil
        }

        func inserting(_ entry: Entry, shift: Int, replaced: inout Resource?) -> Node {
            if shift >= Self.collisionShift {
                var list = entries
                if let index = list.firstIndex(where: { $0.resource.name == entry.resource.name }) {
                    replaced = list[index].resource
                    list[index] = entry
                } else {
                    list.append(entry)
                }
                return Node(dataMap: 0, nodeMap: 0, entries: list, children: [])
            }
            let bit = Self.bit(entry.hash, shift)
            if dataMap & bit != 0 {
                let index = dataIndex(bit)
                let existing = entries[index]
                var list = entries
                if existing.resource.name == entry.resource.name {
                    replaced = existing.resource
                    list[index] = entry
                    return Node(dataMap: dataMap, nodeMap: nodeMap, entries: list, children: children)
                }
                // Two names share this slot: both move one level down.
                list.remove(at: index)
                let nodeMap = self.nodeMap | bit
                var children = self.children
                children.insert(Self.pair(existing, entry, shift: shift + 5), at: (nodeMap & (bit &- 1)).nonzeroBitCount)
                return Node(dataMap: dataMap ^ bit, nodeMap: nodeMap, entries: list, children: children)
            }
            if nodeMap & bit != 0 {
                let index = nodeIndex(bit)
                var children = self.children
                children[index] = children[index].inserting(entry, shift: shift + 5, replaced: &replaced)
                return Node(dataMap: dataMap, nodeMap: nodeMap, entries: entries, children: children)
            }
            var list = entries
            list.insert(entry, at: dataIndex(bit))
            return Node(dataMap: dataMap | bit, nodeMap: nodeMap, entries: list, children: children)
        }

        /// The canonical node for `entries` (their slots at `shift` and below), as inserting
        /// them one by one would give. Sets `duplicate` to a name held twice.
        static func build(_ entries: [Entry], shift: Int, duplicate: inout String?) -> Node {
            if shift >= collisionShift {
                var seen = Set<String>()
                for entry in entries where !seen.insert(entry.resource.name).inserted { duplicate = entry.resource.name }
                return Node(dataMap: 0, nodeMap: 0, entries: entries, children: [])
            }
            var buckets = [[Entry]](repeating: [], count: 32)
            for entry in entries { buckets[Int((entry.hash >> UInt64(shift)) & 31)].append(entry) }
            var dataMap: UInt32 = 0, nodeMap: UInt32 = 0
            var data: [Entry] = [], children: [Node] = []
            for (index, bucket) in buckets.enumerated() where !bucket.isEmpty {
                if bucket.count == 1 {
                    dataMap |= 1 << UInt32(index)
                    data.append(bucket[0])
                } else {
                    nodeMap |= 1 << UInt32(index)
                    children.append(build(bucket, shift: shift + 5, duplicate: &duplicate))
                }
            }
            return Node(dataMap: dataMap, nodeMap: nodeMap, entries: data, children: children)
        }

        private static func pair(_ a: Entry, _ b: Entry, shift: Int) -> Node {
            if shift >= collisionShift { return Node(dataMap: 0, nodeMap: 0, entries: [a, b], children: []) }
            let bitA = bit(a.hash, shift), bitB = bit(b.hash, shift)
            if bitA == bitB {
                return Node(dataMap: 0, nodeMap: bitA, entries: [], children: [pair(a, b, shift: shift + 5)])
            }
            return Node(dataMap: bitA | bitB, nodeMap: 0, entries: bitA < bitB ? [a, b] : [b, a], children: [])
        }

        /// Nil when the node is left empty.
        func removing(_ name: String, hash: UInt64, shift: Int, removed: inout Resource?) -> Node? {
            if shift >= Self.collisionShift {
                guard let index = entries.firstIndex(where: { $0.resource.name == name }) else { return self }
                removed = entries[index].resource
                var list = entries
                list.remove(at: index)
                return list.isEmpty ? nil : Node(dataMap: 0, nodeMap: 0, entries: list, children: [])
            }
            let bit = Self.bit(hash, shift)
            if dataMap & bit != 0 {
                let index = dataIndex(bit)
                guard entries[index].resource.name == name else { return self }
                removed = entries[index].resource
                var list = entries
                list.remove(at: index)
                if list.isEmpty, children.isEmpty { return nil }
                return Node(dataMap: dataMap ^ bit, nodeMap: nodeMap, entries: list, children: children)
            }
            guard nodeMap & bit != 0 else { return self }
            let index = nodeIndex(bit)
            let child = children[index].removing(name, hash: hash, shift: shift + 5, removed: &removed)
            guard removed != nil else { return self }
            var children = self.children
            if let child, !child.isSingleEntry {
                children[index] = child
                return Node(dataMap: dataMap, nodeMap: nodeMap, entries: entries, children: children)
            }
            children.remove(at: index)
            guard let child else {
                if entries.isEmpty, children.isEmpty { return nil }
                return Node(dataMap: dataMap, nodeMap: nodeMap ^ bit, entries: entries, children: children)
            }
            // A sub-node left with one entry moves back up into this node's slot.
            var list = entries
            list.insert(child.entries[0], at: dataIndex(bit))
            return Node(dataMap: dataMap | bit, nodeMap: nodeMap ^ bit, entries: list, children: children)
        }

        func forEach(_ body: (Resource) throws -> Void) rethrows {
            for entry in entries { try body(entry.resource) }
            for child in children { try child.forEach(body) }
        }

        /// Appends to `changed` what `new` has that `old` lacks or holds at another
        /// version, and to `removed` what only `old` has; shared sub-nodes are skipped.
        static func diff(_ old: Node?, _ new: Node?, shift: Int, changed: inout [Resource], removed: inout [String]) {
            if old === new { return }
            guard let old else {
                new?.forEach { changed.append($0) }
                return
            }
            guard let new else {
                old.forEach { removed.append($0.name) }
                return
            }
            guard shift < collisionShift else {
                compare(old, new, changed: &changed, removed: &removed)
                return
            }
            var slots = old.dataMap | old.nodeMap | new.dataMap | new.nodeMap
            while slots != 0 {
                let bit = slots & (~slots &+ 1)
                slots &= slots &- 1
                let oldChild = old.nodeMap & bit != 0 ? old.children[old.nodeIndex(bit)] : nil
                let newChild = new.nodeMap & bit != 0 ? new.children[new.nodeIndex(bit)] : nil
                if let oldChild, let newChild {
                    diff(oldChild, newChild, shift: shift + 5, changed: &changed, removed: &removed)
                    continue
                }
                if oldChild == nil, newChild == nil {
                    // An entry (or nothing) on each side: the common case, compared in place,
                    // by hashes first (same name and version: nothing to look at).
                    if old.dataMap & bit != 0, new.dataMap & bit != 0 {
                        let oldIndex = old.dataIndex(bit), newIndex = new.dataIndex(bit)
                        if old.entries[oldIndex].hash == new.entries[newIndex].hash,
                           old.entries[oldIndex].contentHash == new.entries[newIndex].contentHash,
                           old.entries[oldIndex].resource.name == new.entries[newIndex].resource.name {
                            continue
                        }
                    }
                    let before = old.dataMap & bit != 0 ? old.entries[old.dataIndex(bit)].resource : nil
                    let after = new.dataMap & bit != 0 ? new.entries[new.dataIndex(bit)].resource : nil
                    if let after {
                        if before?.name != after.name {
                            if let before { removed.append(before.name) }
                            changed.append(after)
                        } else if before?.version != after.version {
                            changed.append(after)
                        }
                    } else if let before {
                        removed.append(before.name)
                    }
                    continue
                }
                // An entry on one side, a sub-node (or another entry, or nothing) on the
                // other: compare what each side holds in this slot.
                let before = oldChild ?? (old.dataMap & bit != 0 ? Node(dataMap: 0, nodeMap: 0, entries: [old.entries[old.dataIndex(bit)]], children: []) : nil)
                let after = newChild ?? (new.dataMap & bit != 0 ? Node(dataMap: 0, nodeMap: 0, entries: [new.entries[new.dataIndex(bit)]], children: []) : nil)
                if let before, let after {
                    compare(before, after, changed: &changed, removed: &removed)
                } else {
                    diff(before, after, shift: collisionShift, changed: &changed, removed: &removed)
                }
            }
        }

        private static func compare(_ old: Node, _ new: Node, changed: inout [Resource], removed: inout [String]) {
            var before: [String: String] = [:]
            old.forEach { before[$0.name] = $0.version }
            new.forEach { resource in
                if before.removeValue(forKey: resource.name) != resource.version { changed.append(resource) }
            }
            removed += before.keys
        }
    }
}
