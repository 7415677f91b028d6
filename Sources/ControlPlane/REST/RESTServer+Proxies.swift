import EnvoyAPI
import Foundation
import Translator
import XDS

/// `GET /v1/proxies`: every connected proxy and, per resource type, what it was sent and
/// what it ACKed (docs/rest-api.md, "Proxies"). A proxy with several streams (one per type) shows as one.
extension RESTServer {
    func proxiesJSON() -> JSON {
        let byNode = Dictionary(grouping: proxies.all, by: { $0.node.id })
        let entries = byNode.keys.sorted().map { id -> JSON in
            let streams = byNode[id]!
            var types: [String: JSON] = [:]
            for stream in streams {
                for (type, status) in stream.types {
                    var fields: [String: JSON] = ["status": .string(status.state.rawValue)]
                    fields["version_sent"] = status.sentVersion.map { .string($0) } ?? .null
                    fields["version_acked"] = status.ackedVersion.map { .string($0) } ?? .null
                    fields["nonce"] = status.nonce.map { .string($0) } ?? .null
                    fields["error"] = status.nackMessage.map { .string($0) } ?? .null
                    if stream.wire == .delta {
                        // Delta ACKs cover what each response carried: per resource.
                        var resources: [String: JSON] = [:]
                        for resource in status.resources {
                            resources[resource.name] = ["version": .string(resource.version), "status": .string(resource.state.rawValue)]
                        }
                        fields["resources"] = .object(resources)
                    }
                    types[type.collectionName] = .object(fields)
                }
            }
            let first = streams[0]
            let pinned = publisher.cache.pinnedVersion(ofNode: id)
            return [
                "node_id": .string(id),
                "service": .string(first.node.cluster),
                "address": .string(first.peer),
                "connected_at": .string(RegistryJSON.timestamp(streams.map(\.connectedAt).min()!)),
                "streams": .number(Double(streams.count)),
                "protocol": .string(first.wire.rawValue),
                "snapshot_version": first.snapshotVersion.map { .string($0) } ?? .null,
                "pinned_version": pinned.map { .string($0) } ?? .null,
                "acked_version": Self.ackedVersion(of: streams).map { .string($0) } ?? .null,
                // In sync with what it should hold: its pinned version during a rollout.
                "synced": .bool((pinned ?? publisher.current?.versionString).map { target in streams.allSatisfy { $0.isSynced(on: target) } } ?? false),
                "types": .object(types),
                // Proxyless gRPC clients get no certificate.
                "certificate": ProxyProfile(node: first.node).isGRPCClient ? .null : certificateJSON(of: first.node.cluster),
            ]
        }
        return ["proxies": .array(entries)]
    }

    /// The version a proxy holds: the snapshot its streams took in once every type they
    /// were sent is ACKed (a type unchanged by that version is not sent again), else the
    /// oldest version it ACKed (a proxy part-way through an update).
    static func ackedVersion(of streams: [ProxyStatus]) -> String? {
        if let version = streams.first?.snapshotVersion, streams.allSatisfy({ $0.isSynced(on: version) }) { return version }
        let acked = streams.flatMap { $0.types.values.compactMap(\.ackedVersion) }
        return acked.min { (Int($0.dropFirst()) ?? 0) < (Int($1.dropFirst()) ?? 0) }
    }

    /// The workload certificate a sidecar of `service` was last sent (no key), or null.
    private func certificateJSON(of service: String) -> JSON {
        guard !service.isEmpty, let certificate = secrets?.certificate(ofService: service) else { return .null }
        return [
            "identity": .string(certificate.identity.description),
            "serial": .string(certificate.serial),
            "expires_at": .string(RegistryJSON.timestamp(certificate.notAfter)),
        ]
    }
}
