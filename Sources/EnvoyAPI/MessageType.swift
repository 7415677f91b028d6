internal import CEnvoyAPI
internal import CProtobufC

/// A protobuf message type of the generated Envoy API, named by its full proto name.
/// Callers never see the protobuf-c descriptor; the transcoder looks it up here.
public struct MessageType: Sendable, Hashable {
    public let fullName: String
    let descriptor: MessageDescriptor

    init(_ descriptor: MessageDescriptor) {
        self.fullName = descriptor.fullName
        self.descriptor = descriptor
    }

    public var typeURL: String { TypeURL.prefix + fullName }

    /// The type named `fullName` ("envoy.config.cluster.v3.Cluster"), if it was generated.
    public static func named(_ fullName: String) -> MessageType? {
        MessageRegistry.shared.byName[fullName].map(MessageType.init)
    }

    /// The type a `type.googleapis.com/…` URL refers to. Like protobuf's own resolvers we
    /// only look at the part after the last "/", so any host prefix is accepted.
    public static func forTypeURL(_ url: String) -> MessageType? {
        guard let slash = url.lastIndex(of: "/") else { return nil }
        return named(String(url[url.index(after: slash)...]))
    }

    /// Every message type the generated API knows, sorted by name.
    public static var all: [MessageType] {
        MessageRegistry.shared.byName.values.map(MessageType.init).sorted { $0.fullName < $1.fullName }
    }

    public static func == (lhs: MessageType, rhs: MessageType) -> Bool { lhs.fullName == rhs.fullName }
    public func hash(into hasher: inout Hasher) { hasher.combine(fullName) }
}

/// Type URLs of the resources xDS serves.
public enum TypeURL {
    public static let prefix = "type.googleapis.com/"
    public static let listener = "type.googleapis.com/envoy.config.listener.v3.Listener"
    public static let route = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
    public static let cluster = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
    public static let endpoint = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
    public static let secret = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
}

/// A protobuf-c message descriptor. The descriptors are immutable static C data, so
/// sharing the pointer across threads is safe; that is why this is `@unchecked Sendable`.
struct MessageDescriptor: @unchecked Sendable, Hashable {
    let pointer: UnsafePointer<ProtobufCMessageDescriptor>

    init(_ pointer: UnsafePointer<ProtobufCMessageDescriptor>) {
        self.pointer = pointer
    }

    var fullName: String { String(cString: pointer.pointee.name) }
    var shortName: String { String(cString: pointer.pointee.short_name) }
    var sizeofMessage: Int { pointer.pointee.sizeof_message }
    var fields: UnsafeBufferPointer<ProtobufCFieldDescriptor> {
        UnsafeBufferPointer(start: pointer.pointee.fields, count: Int(pointer.pointee.n_fields))
    }
    var raw: UnsafeRawPointer { UnsafeRawPointer(pointer) }
}

/// Full name → descriptor, built once from the table that Protos/generate.py emits.
final class MessageRegistry: Sendable {
    static let shared = MessageRegistry()

    let byName: [String: MessageDescriptor]

    private init() {
        var count = 0
        var table: [String: MessageDescriptor] = [:]
        if let list = sextant_message_descriptors(&count) {
            for index in 0..<count {
                guard let pointer = list[index] else { continue }
                let descriptor = MessageDescriptor(pointer)
                table[descriptor.fullName] = descriptor
            }
        }
        byName = table
    }
}
