import EnvoyAPI
import Foundation
import Registry
import Translator
import XDS

/// One service translated and encoded: its clusters and assignments, its virtual host,
/// and its canonical form. Built once per content of the service and reused, by every
/// node group and every later version, until the service changes
/// (docs/architecture.md, "Incremental engine").
final class ServiceEntry: Sendable {
    let state: MeshState.ServiceState
    /// The service's canonical JSON (sorted keys): what history stores for it.
    let canonical: Data
    /// FNV-1a of `canonical`: equal content, equal hash, across runs.
    let hash: UInt64
    /// Clusters and ClusterLoadAssignments, the same for every group that sees the service.
    let shared: [Resource]
    /// The encoded `VirtualHost` of an http or grpc service, spliced into route configurations.
    let virtualHost: [UInt8]?
    /// Some route injects faults, so outbound chains that see it need the fault filter.
    let needsFault: Bool

    var name: String { state.name }
    var isTCP: Bool { state.policy.protocol == .tcp }

    init(_ state: MeshState.ServiceState) throws {
        self.state = state
        canonical = Self.encoder.encodedOrEmpty(state)
        hash = Self.fnv(canonical)
        shared = try MeshTranslation.clusterResources(for: state).map(ResourceEncoding.encode)
        if state.policy.protocol == .tcp {
            virtualHost = nil
            needsFault = false
        } else {
            virtualHost = try ProtoJSON.encode(MeshTranslation.virtualHost(state), as: Self.virtualHostType)
            needsFault = MeshTranslation.needsFaultFilter([state])
        }
    }

    /// Same content as `other`: its translation can be reused as is.
    func sameContent(as state: MeshState.ServiceState) -> Bool { self.state == state }

    static let virtualHostType = MessageType.named("envoy.config.route.v3.VirtualHost")!

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static func fnv(_ bytes: Data) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}

extension JSONEncoder {
    /// Plain structs of strings, numbers and maps always encode.
    func encodedOrEmpty<T: Encodable>(_ value: T) -> Data {
        (try? encode(value)) ?? Data()
    }
}

/// Translator output (proto3 JSON) → encoded `Resource`.
enum ResourceEncoding {
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
