import EnvoyAPI
import EtcdStore
import Foundation
import Registry

/// `GET /v1/cluster` (docs/rest-api.md, "Cluster"): on etcd, the live replicas from the
/// store with the elected one and the members' health; on the embedded store, this
/// replica alone.
struct ClusterDescription: Sendable {
    let configuration: ControlPlaneServer.Configuration
    let replication: ReplicaCoordinator?
    let replicaID: String
    let publisher: Publisher
    /// The bound ports, once the server started.
    let ports: @Sendable () -> ControlPlaneServer.Ports?

    func json() async -> JSON {
        guard let replication, case .etcd(_, let prefix) = configuration.store else {
            let bound = ports()
            let this = ReplicaCoordinator.Replica(
                id: replicaID, apiAddress: "\(configuration.apiHost):\(bound?.api ?? configuration.apiPort)",
                xdsAddress: "\(configuration.xdsHost):\(bound?.xds ?? configuration.xdsPort)",
                version: publisher.current?.versionString, startedAt: 0)
            return ["store": "sqlite", "replica": .string(replicaID), "leader": .string(replicaID),
                    "replicas": [Self.replica(this, leader: replicaID, selfID: replicaID)], "members": []]
        }
        let (replicas, leader, members) = await replication.view()
        return [
            "store": "etcd", "prefix": .string(prefix), "replica": .string(replicaID), "leader": leader.map { .string($0) } ?? .null,
            "replicas": .array(replicas.map { Self.replica($0, leader: leader, selfID: replicaID) }),
            "members": .array(members.map { member in
                var fields: [String: JSON] = ["endpoint": .string(member.endpoint), "healthy": .bool(member.healthy), "leader": .bool(member.leader)]
                if let revision = member.revision { fields["revision"] = .number(Double(revision)) }
                if let version = member.version { fields["version"] = .string(version) }
                if let error = member.error { fields["error"] = .string(error) }
                return .object(fields)
            }),
        ]
    }

    static func replica(_ replica: ReplicaCoordinator.Replica, leader: String?, selfID: String) -> JSON {
        var fields: [String: JSON] = [
            "id": .string(replica.id), "api_address": .string(replica.apiAddress), "xds_address": .string(replica.xdsAddress),
            "version": replica.version.map { .string($0) } ?? .null, "leader": .bool(replica.id == leader), "self": .bool(replica.id == selfID),
        ]
        if replica.startedAt > 0 { fields["started_at"] = .string(RegistryJSON.timestamp(Date(timeIntervalSince1970: replica.startedAt))) }
        return .object(fields)
    }
}
