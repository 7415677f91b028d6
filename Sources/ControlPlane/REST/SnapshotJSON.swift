import EnvoyAPI
import Foundation
import Registry
import XDS

/// Snapshots as the API shows them: resources in Envoy's canonical proto3 JSON (through
/// the transcoder, snake_case as in Envoy's config_dump), and diffs by type and name.
enum SnapshotJSON {
    static func summary(_ record: RegistryStore.SnapshotRecord) -> JSON {
        [
            "version": .string("v\(record.version)"),
            "created_at": .string(RegistryJSON.timestamp(record.createdAt)),
            "cause": .string(record.cause),
            "content_hash": .string(record.contentHash),
            "kind": .string(record.kind == DeclaredPayload.kind ? DeclaredPayload.kind : "registry"),
            "resources": .object(record.counts.mapValues { .number(Double($0)) }),
        ]
    }

    static func full(_ published: Publisher.Published) throws -> JSON {
        let resources = try published.catalog.allResources.map(render)
        return [
            "version": .string(published.versionString),
            "created_at": .string(RegistryJSON.timestamp(published.createdAt)),
            "cause": .string(published.cause),
            "content_hash": .string(published.content.contentHash),
            "kind": .string(published.content.kind),
            "counts": .object(Publisher.counts(of: published.catalog).mapValues { .number(Double($0)) }),
            "resources": .array(resources),
        ]
    }

    /// One resource as `{"@type": ..., fields...}`, the shape of a snapshot file item.
    static func render(_ resource: Resource) throws -> JSON {
        guard let message = MessageType.forTypeURL(resource.type.typeURL) else { return .null }
        return try ProtoJSON.decode(resource.body, as: message).merging(["@type": .string(resource.type.typeURL)])
    }

    static func diff(_ from: Publisher.Published, _ to: Publisher.Published) -> JSON {
        var added: [JSON] = [], removed: [JSON] = [], changed: [JSON] = []
        for type in ResourceType.allCases {
            let before = from.catalog.resources(type).dictionary, after = to.catalog.resources(type).dictionary
            func entry(_ name: String) -> JSON {
                ["type": .string(type.collectionName), "type_url": .string(type.typeURL), "name": .string(name)]
            }
            for name in after.keys.sorted() {
                if let old = before[name] {
                    if old.version != after[name]!.version { changed.append(entry(name)) }
                } else {
                    added.append(entry(name))
                }
            }
            for name in before.keys.sorted() where after[name] == nil { removed.append(entry(name)) }
        }
        return [
            "from": .string(from.versionString), "to": .string(to.versionString),
            "added": .array(added), "removed": .array(removed), "changed": .array(changed),
            "identical": .bool(from.content == to.content),
        ]
    }
}
