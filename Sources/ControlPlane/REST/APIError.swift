import EnvoyAPI
public import Hummingbird
import NIOCore
import Registry

/// An error as the REST API answers it (docs/rest-api.md, "Errors"):
/// `{"error": {"code": "...", "message": "...", "field": "..."}}` with its HTTP status.
public struct APIError: HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public let field: String?

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    init(_ error: RegistryError) {
        let status: HTTPResponse.Status = switch error.code {
        case .badJSON, .unknownField, .invalidValue: .badRequest
        case .notFound: .notFound
        case .conflict: .conflict
        case .storage: .internalServerError
        case .unavailable: .serviceUnavailable
        }
        self.init(status, code: error.code.rawValue, error.message, field: error.field)
    }

    /// Any error a handler let through, in the API's shape.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: error
        case let error as RegistryError: APIError(error)
        case is NIOTooManyBytesError: tooLarge
        case let error as HTTPError:
            APIError(error.status, code: error.status.code == 404 ? "not_found" : "http_\(error.status.code)", error.body ?? error.status.reasonPhrase)
        default: APIError(.internalServerError, code: "internal", "\(error)")
        }
    }

    static let tooLarge = APIError(.contentTooLarge, code: "too_large", "request body exceeds 1 MiB")

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body: [String: JSON] = ["code": .string(code), "message": .string(message)]
        if let field { body["field"] = .string(field) }
        var response = RESTServer.json(["error": .object(body)], status: status)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"sextant\"" }
        return response
    }
}
