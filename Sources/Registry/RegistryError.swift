/// Every failure the registry reports. The REST layer maps `code` to an HTTP status
/// (docs/rest-api.md, "Errors": 400 invalid, 404 missing, 409 conflict); `field` names the offending JSON
/// field as a path such as `routes[1].split`.
public struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case badJSON = "bad_json"
        case unknownField = "unknown_field"
        case invalidValue = "invalid_value"
        case notFound = "not_found"
        case conflict
        case storage
        /// The store cannot be reached or has no quorum (etcd): nothing was applied, or the
        /// outcome is unknown and the message says so.
        case unavailable
    }

    public let code: Code
    public let message: String
    public let field: String?
    /// A replicated store refused a write planned on a view older than the store: plan
    /// again once the view has reached this revision.
    public private(set) var staleAt: UInt64?

    /// The record changed on another replica since this one's view read it.
    public static func stale(at revision: UInt64) -> RegistryError {
        var error = RegistryError(.conflict, "the record was changed meanwhile through another replica; try again")
        error.staleAt = revision
        return error
    }

    public init(_ code: Code, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    public static func invalid(_ field: String, _ reason: String) -> RegistryError {
        RegistryError(.invalidValue, "\(field): \(reason)", field: field)
    }

    public static func notFound(_ what: String) -> RegistryError {
        RegistryError(.notFound, "\(what) not found")
    }

    public var description: String { message }
}
