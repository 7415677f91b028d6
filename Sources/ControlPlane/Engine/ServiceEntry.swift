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
    /// A stable hash of the service's content: equal content, equal hash, across runs.
    let hash: UInt64
    private let canonicalForm = OnceCell<Data>()
    private let grpcForm = OnceCell<[Resource]>()
    /// Clusters and ClusterLoadAssignments, the same for every group that sees the service.
    let shared: [Resource]
    /// The encoded `VirtualHost` of an http or grpc service, spliced into route configurations.
    let virtualHost: [UInt8]?
    /// Some route injects faults, so outbound chains that see it need the fault filter.
    let needsFault: Bool

    var name: String { state.name }
    var isTCP: Bool { state.policy.protocol == .tcp }

    init(_ state: MeshState.ServiceState) {
        self.state = state
        hash = state.stableHash
        // Typed encoders on protobuf-c: the hot path never goes through JSON. A service with
        // mesh (mTLS) endpoints needs TLS and endpoint metadata the typed encoders do not
        // write: it takes the JSON path.
        var shared: [Resource] = []
        if MeshTranslation.hasMeshEndpoints(state) {
            shared = MeshTranslation.clusterResources(for: state).compactMap { try? ResourceEncoding.encode($0) }
        } else {
            for (cluster, assignment) in MeshTranslation.clusterSpecs(for: state) {
                guard let assignment else {
                    shared.append(Resource(type: .cluster, name: cluster.name, body: TypedEncoder.cluster(cluster)))
                    continue
                }
                // A cluster warms until its assignment arrives, so the two travel together.
                shared.append(Resource(type: .cluster, name: cluster.name, body: TypedEncoder.cluster(cluster),
                                       dependencies: [Resource.Reference(.endpoint, cluster.name)]))
                shared.append(Resource(type: .endpoint, name: cluster.name, body: TypedEncoder.loadAssignment(assignment)))
            }
        }
        self.shared = shared
        if state.policy.protocol == .tcp {
            virtualHost = nil
            needsFault = false
        } else {
            virtualHost = TypedEncoder.virtualHost(MeshTranslation.virtualHostSpec(state))
            needsFault = MeshTranslation.needsFaultFilter([state])
        }
    }

    /// The service's canonical JSON (sorted keys): what history stores for it. Built the
    /// first time history needs it (a delta naming it, a checkpoint) and kept.
    var canonical: Data { canonicalForm.value { Self.encoder.encodedOrEmpty(state) } }

    /// What a proxyless gRPC client receives for this service: its `api_listener`s,
    /// route configuration and clusters, plus the shared assignments. Built the first time
    /// a gRPC client's group needs it (most meshes have none) and kept.
    var grpcResources: [Resource] {
        grpcForm.value {
            let own = MeshTranslation.grpcClientResources(for: state).compactMap { try? ResourceEncoding.encode($0) }
            let clusters = Set(own.filter { $0.type == .cluster }.map(\.name))
            return own + shared.filter { $0.type == .endpoint && clusters.contains($0.name) }
        }
    }

    /// Same content as `other`: its translation can be reused as is.
    func sameContent(as state: MeshState.ServiceState) -> Bool { self.state == state }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
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
