import EnvoyAPI
import Registry
import Translator
public import XDS

/// A registry-built version: the translation of one frozen `MeshState`, rendered per
/// node group on demand. Clusters and assignments are the same for every group, so they
/// are encoded once here and shared (docs/architecture.md, "Encode once"); only listeners and routes are per group.
struct MeshGeneration: SnapshotGeneration {
    let version: String
    private let translation: MeshTranslation
    private let shared: [ResourceKey: Resource]
    /// What an unscoped sidecar with default ports receives: the view the REST API shows
    /// and diffs. Rendering it up front also proves the translation encodes.
    let catalog: Snapshot

    static let catalogProfile = ProxyProfile()

    init(version: String, mesh: MeshState) throws {
        self.version = version
        translation = MeshTranslation(mesh)
        var shared: [ResourceKey: Resource] = [:]
        for resource in translation.shared { shared[resource.key] = try Self.encode(resource) }
        self.shared = shared
        catalog = try Self.render(Self.catalogProfile, version: version, translation: translation, shared: shared)
    }

    func snapshot(forGroup group: String) -> Snapshot {
        guard let profile = ProxyProfile(groupKey: group), profile != Self.catalogProfile else { return catalog }
        // The catalog rendered with the same code, so a failure here would be a
        // translator bug for this profile only; serve the catalog rather than nothing.
        return (try? Self.render(profile, version: version, translation: translation, shared: shared)) ?? catalog
    }

    private static func render(_ profile: ProxyProfile, version: String, translation: MeshTranslation, shared: [ResourceKey: Resource]) throws -> Snapshot {
        let picked = translation.resources(for: profile)
        var resources = picked.shared.compactMap { shared[$0] }
        for resource in picked.own { resources.append(try encode(resource)) }
        return try Snapshot(version: version, resources: resources)
    }

    static func encode(_ resource: TranslatedResource) throws -> Resource {
        guard let type = ResourceType(typeURL: resource.typeURL), let message = MessageType.forTypeURL(resource.typeURL) else {
            throw SnapshotContent.ContentError("translator produced unknown type \(resource.typeURL)")
        }
        let dependencies = try resource.dependencies.map { key -> Resource.Reference in
            guard let type = ResourceType(typeURL: key.typeURL) else { throw SnapshotContent.ContentError("unknown type \(key.typeURL)") }
            return Resource.Reference(type, key.name)
        }
        return Resource(type: type, name: resource.name, body: try ProtoJSON.encode(resource.json, as: message), dependencies: dependencies)
    }
}

extension SnapshotContent {
    /// The generation that serves this content as `version`, and the snapshot shown for it.
    public func generation(version: String) throws -> (any SnapshotGeneration, catalog: Snapshot) {
        switch self {
        case .registry(let mesh):
            let generation = try MeshGeneration(version: version, mesh: mesh)
            return (generation, generation.catalog)
        case .declared(let snapshot):
            let relabeled = snapshot.relabeled(version)
            return (UniformGeneration(relabeled), relabeled)
        }
    }
}
