public import Foundation

/// The registry frozen at one moment, as the translator sees it: services with their
/// policy and instances with their *effective* health (TTL applied). Deterministic
/// (sorted) and Codable, so a snapshot's input can be stored and rebuilt exactly after a
/// restart or a rollback.
public struct MeshState: Sendable, Hashable, Codable {
    public var services: [ServiceState]

    public init(services: [ServiceState] = []) {
        self.services = services.sorted { $0.name < $1.name }
    }

    public func service(_ name: String) -> ServiceState? { services.first { $0.name == name } }

    public struct ServiceState: Sendable, Hashable, Codable {
        public var name: String
        public var policy: ServicePolicy
        /// Sorted by id.
        public var instances: [InstanceState]
        /// The mesh settings this service's translation depends on; nil means the
        /// defaults (and is what versions stored before mesh settings existed decode to).
        public var mesh: MeshSecurity?

        public init(name: String, policy: ServicePolicy, mesh: MeshSecurity? = nil, instances: [InstanceState] = []) {
            self.mesh = mesh
            self.name = name
            self.policy = policy
            self.instances = instances.sorted { $0.id < $1.id }
        }
    }

    /// The mesh settings a service's resources depend on.
    public struct MeshSecurity: Sendable, Hashable, Codable {
        public var trustDomain: String
        public var mtls: MeshSettings.MTLSMode
        /// Part of the state so that changing it alone publishes a version, whose renders
        /// re-issue certificates with the new lifetime.
        public var certTTLSeconds: Int?

        public init(trustDomain: String, mtls: MeshSettings.MTLSMode, certTTLSeconds: Int? = nil) {
            self.trustDomain = trustDomain
            self.mtls = mtls
            self.certTTLSeconds = certTTLSeconds
        }
    }

    public struct InstanceState: Sendable, Hashable, Codable {
        public var id: String
        public var address: String
        public var port: Int
        public var weight: Int
        public var zone: String?
        public var labels: [String: String]
        public var health: Health
        /// The port of the instance's sidecar (mTLS), when it has one.
        public var sidecarPort: Int?

        public init(id: String, address: String, port: Int, weight: Int = 1, zone: String? = nil, labels: [String: String] = [:], health: Health = .healthy,
                    sidecarPort: Int? = nil) {
            self.sidecarPort = sidecarPort
            self.id = id
            self.address = address
            self.port = port
            self.weight = weight
            self.zone = zone
            self.labels = labels
            self.health = health
        }
    }

    /// Canonical JSON (sorted keys): stored with each snapshot, and hashed to tell
    /// whether a rebuild would change anything.
    public func canonicalJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain structs of strings and integers cannot fail.
        return try! encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> MeshState {
        try JSONDecoder().decode(MeshState.self, from: data)
    }
}
