import EnvoyAPI
import Foundation
public import Registry
public import XDS

/// What a published version is made of, kept in the store so the exact content can be
/// served again after a restart or a rollback (docs/snapshots.md, "History"):
/// - `registry`: the registry frozen at publish time; the translator (pure and
///   deterministic) rebuilds every node group's resources from it;
/// - `declared`: the encoded resources of a snapshot file, served to every proxy.
public enum SnapshotContent: Sendable, Equatable {
    case registry(MeshState)
    case declared(Snapshot)

    var kind: String {
        switch self {
        case .registry: "registry"
        case .declared: "declared"
        }
    }

    /// Equal content, equal hash; a rollback republishes an old hash under a new version.
    public var contentHash: String {
        switch self {
        case .registry(let mesh): ContentHash.hex(of: mesh.canonicalJSON())
        case .declared(let snapshot): snapshot.contentHash
        }
    }

    public static func == (a: SnapshotContent, b: SnapshotContent) -> Bool {
        switch (a, b) {
        case (.registry(let x), .registry(let y)): x == y
        case (.declared(let x), .declared(let y)): x.contentHash == y.contentHash
        default: false
        }
    }

    private struct StoredResource: Codable {
        var typeURL: String
        var name: String
        var body: Data
        var dependencies: [[String]]
    }

    func payload() -> Data {
        switch self {
        case .registry(let mesh):
            return mesh.canonicalJSON()
        case .declared(let snapshot):
            let stored = snapshot.allResources.map { resource in
                StoredResource(typeURL: resource.type.typeURL, name: resource.name, body: Data(resource.body),
                               dependencies: resource.dependencies.map { [$0.type.typeURL, $0.name] })
            }
            return try! JSONEncoder().encode(stored)
        }
    }

    static func decode(kind: String, payload: Data) throws -> SnapshotContent {
        switch kind {
        case "registry":
            return .registry(try MeshState.decode(payload))
        case "declared":
            let stored = try JSONDecoder().decode([StoredResource].self, from: payload)
            let resources = try stored.map { item -> Resource in
                guard let type = ResourceType(typeURL: item.typeURL) else { throw ContentError("unknown type \(item.typeURL)") }
                let dependencies = try item.dependencies.map { pair -> Resource.Reference in
                    guard pair.count == 2, let type = ResourceType(typeURL: pair[0]) else { throw ContentError("bad reference \(pair)") }
                    return Resource.Reference(type, pair[1])
                }
                return Resource(type: type, name: item.name, body: Array(item.body), dependencies: dependencies)
            }
            return .declared(try Snapshot(version: "stored", resources: resources))
        default:
            throw ContentError("unknown snapshot kind \(kind)")
        }
    }

    struct ContentError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
