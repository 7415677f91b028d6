import EnvoyAPI
import Foundation
import Registry
public import XDS

/// What a published version is made of (docs/snapshots.md):
/// - `registry`: the registry translated and encoded service by service (`MeshModel`);
///   history stores it as the services that changed (`MeshHistory`), so the exact
///   content can be rebuilt after a restart or for a rollback;
/// - `declared`: the encoded resources of a snapshot file, served to every proxy.
public enum SnapshotContent: Sendable, Equatable {
    case registry(MeshModel)
    case declared(Snapshot)

    /// What the API calls the kind of a version.
    var kind: String {
        switch self {
        case .registry: "registry"
        case .declared: "declared"
        }
    }

    /// Equal content, equal hash; a rollback republishes an old hash under a new version.
    public var contentHash: String {
        switch self {
        case .registry(let model): model.contentHash
        case .declared(let snapshot): snapshot.contentHash
        }
    }

    public static func == (a: SnapshotContent, b: SnapshotContent) -> Bool {
        switch (a, b) {
        case (.registry(let x), .registry(let y)): x.count == y.count && x.contentSum == y.contentSum
        case (.declared(let x), .declared(let y)): x.contentHash == y.contentHash
        default: false
        }
    }

    /// Reads version `version` from the store. Registry versions are rebuilt from their
    /// history chain, translating only services `reusable` does not already hold.
    static func load(_ record: RegistryStore.SnapshotRecord, store: any ControlStore, reusable: MeshModel?) throws -> SnapshotContent {
        if record.kind == DeclaredPayload.kind { return .declared(try DeclaredPayload.decode(record.payload)) }
        let (mesh, revision) = try MeshHistory.mesh(at: record, store: store)
        return .registry(MeshModel(mesh: mesh, revision: revision, reusable: reusable))
    }

    /// The generation serving this content as `version`, from nothing to derive from.
    func generation(version: String, secrets: WorkloadSecrets? = nil) throws -> (any SnapshotGeneration, catalog: Snapshot) {
        switch self {
        case .registry(let model):
            let generation = try MeshGeneration(version: version, model: model, secrets: secrets)
            return (generation, generation.catalog)
        case .declared(let snapshot):
            let relabeled = snapshot.relabeled(version)
            return (UniformGeneration(relabeled), relabeled)
        }
    }

    struct ContentError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// A declared snapshot as stored: its encoded resources, whole (files are small).
enum DeclaredPayload {
    static let kind = "declared"

    private struct StoredResource: Codable {
        var typeURL: String
        var name: String
        var body: Data
        var dependencies: [[String]]
    }

    static func encode(_ snapshot: Snapshot) -> Data {
        let stored = snapshot.allResources.map { resource in
            StoredResource(typeURL: resource.type.typeURL, name: resource.name, body: Data(resource.body),
                           dependencies: resource.dependencies.map { [$0.type.typeURL, $0.name] })
        }
        return (try? JSONEncoder().encode(stored)) ?? Data("[]".utf8)
    }

    static func decode(_ payload: Data) throws -> Snapshot {
        let stored = try JSONDecoder().decode([StoredResource].self, from: payload)
        let resources = try stored.map { item -> Resource in
            guard let type = ResourceType(typeURL: item.typeURL) else { throw SnapshotContent.ContentError("unknown type \(item.typeURL)") }
            let dependencies = try item.dependencies.map { pair -> Resource.Reference in
                guard pair.count == 2, let type = ResourceType(typeURL: pair[0]) else { throw SnapshotContent.ContentError("bad reference \(pair)") }
                return Resource.Reference(type, pair[1])
            }
            return Resource(type: type, name: item.name, body: Array(item.body), dependencies: dependencies)
        }
        return try Snapshot(version: "stored", resources: resources)
    }
}
