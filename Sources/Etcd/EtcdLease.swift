import EnvoyAPI
import GRPC

/// Leases (keys that vanish when their lease is not kept alive) and the cluster's view
/// of itself.
extension EtcdClient {
    /// Grants a lease of `ttl` seconds; returns its id.
    public func grantLease(ttl: Int) async throws -> Int64 {
        let response = try await unary("etcdserverpb.Lease", "LeaseGrant", ["TTL": .string("\(ttl)")])
        if let error = response["error"]?.stringValue, !error.isEmpty { throw EtcdError.protocolError(error) }
        return EtcdCodec.int(response["ID"])
    }

    /// Renews a lease once; returns the TTL it has again, 0 when it is gone (expired or
    /// revoked).
    @discardableResult
    public func keepAlive(lease: Int64) async throws -> Int64 {
        let requestType = try Self.type("etcdserverpb.LeaseKeepAliveRequest")
        let responseType = try Self.type("etcdserverpb.LeaseKeepAliveResponse")
        return try await withFailover { client in
            let call = try await client.call(path: "/etcdserverpb.Lease/LeaseKeepAlive", metadata: [("grpc-timeout", Self.timeout(.seconds(5)))])
            try await call.send(try ProtoJSON.encode(["ID": .string("\(lease)")], as: requestType))
            var ttl: Int64 = 0
            for try await message in call.responses {
                ttl = EtcdCodec.int(try ProtoJSON.decode(message, as: responseType)["TTL"])
                break
            }
            call.cancel()
            return ttl
        }
    }

    public func revokeLease(_ lease: Int64) async throws {
        _ = try await unary("etcdserverpb.Lease", "LeaseRevoke", ["ID": .string("\(lease)")])
    }

    /// A member of the cluster as etcd lists it.
    public struct Member: Sendable, Equatable {
        public var id: UInt64
        public var name: String
        public var clientURLs: [String]
    }

    public func members() async throws -> [Member] {
        let response = try await unary("etcdserverpb.Cluster", "MemberList", [:])
        return (response["members"]?.arrayValue ?? []).map { member in
            Member(
                id: UInt64(member["ID"]?.stringValue ?? "") ?? 0, name: member["name"]?.stringValue ?? "",
                clientURLs: member["clientURLs"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
    }

    /// One member's own status, asked of that member (not failed over).
    public struct MemberStatus: Sendable, Equatable {
        public var endpoint: Endpoint
        public var memberID: UInt64
        public var leaderID: UInt64
        public var version: String
        public var revision: Int64
        public var isLeader: Bool { memberID != 0 && memberID == leaderID }
    }

    public func status(of endpoint: Endpoint, timeout: Duration = .seconds(2)) async throws -> MemberStatus {
        let client = try await GRPCClient.connect(host: endpoint.host, port: endpoint.port)
        do {
            let call = try await client.call(path: "/etcdserverpb.Maintenance/Status", metadata: [("grpc-timeout", Self.timeout(timeout))])
            try await call.send(try ProtoJSON.encode([:], as: try Self.type("etcdserverpb.StatusRequest")))
            // The answer may come (and the stream close) before the half-close leaves.
            try? await call.finishSending()
            var status: JSON = [:]
            for try await message in call.responses { status = try ProtoJSON.decode(message, as: try Self.type("etcdserverpb.StatusResponse")) }
            await client.close()
            return MemberStatus(
                endpoint: endpoint, memberID: UInt64(status["header"]?["member_id"]?.stringValue ?? "") ?? 0,
                leaderID: UInt64(status["leader"]?.stringValue ?? "") ?? 0, version: status["version"]?.stringValue ?? "",
                revision: EtcdCodec.revision(status))
        } catch {
            await client.close()
            throw error
        }
    }
}
