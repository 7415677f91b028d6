import Foundation
import Hummingbird
import NIOCore
import Registry

/// Checks that run before a handler: bearer token on mutations, JSON content type,
/// the 1 MiB body limit (docs/rest-api.md, "Conventions").
struct RequestGuards<Context: RequestContext>: RouterMiddleware {
    let token: String?
    let routes: RouteMethods

    static var maxBody: Int { 1 << 20 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            switch routes.verdict(method: request.method.rawValue, path: request.uri.path) {
            case .routed:
                break
            case .unknownPath:
                throw APIError(.notFound, code: "not_found", "no such path: \(request.uri.path)")
            case .methodNotAllowed(let allow):
                var response = try APIError(
                    .methodNotAllowed, code: "method_not_allowed",
                    "\(request.method.rawValue) is not allowed on \(request.uri.path) (allowed: \(allow.joined(separator: ", ")))"
                ).response(from: request, context: context)
                response.headers[.allow] = allow.joined(separator: ", ")
                return response
            }
            // Reads need no token and take no body: what a GET says about a body it does
            // not read (its type or length) is no reason to refuse it.
            if request.method != .get, request.method != .head {
                if let token { try Self.authorize(request, token: token) }
                if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > Self.maxBody { throw APIError.tooLarge }
                if let type = request.headers[.contentType], !Self.acceptable(type) {
                    throw APIError(.unsupportedMediaType, code: "unsupported_media_type", "Content-Type \(type) is not supported: send application/json")
                }
            }
            return try await next(request, context)
        } catch {
            return try APIError.from(error).response(from: request, context: context)
        }
    }

    private static func authorize(_ request: Request, token: String) throws {
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer ") else {
            throw APIError(.unauthorized, code: "unauthorized", "this call needs Authorization: Bearer <token>")
        }
        // Compare every byte whatever the first difference, so timing tells nothing.
        let given = Array(header.dropFirst("Bearer ".count).utf8), expected = Array(token.utf8)
        var difference = given.count ^ expected.count
        for index in 0..<given.count { difference |= Int(given[index] ^ expected[index % max(expected.count, 1)]) }
        guard difference == 0 else { throw APIError(.unauthorized, code: "unauthorized", "invalid bearer token") }
    }

    /// JSON, or no particular type: curl's `-d` says form-urlencoded for any data.
    private static func acceptable(_ type: String) -> Bool {
        let media = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return media == "application/json" || media.hasSuffix("+json") || media == "application/x-www-form-urlencoded" || media.isEmpty
    }
}

extension Request {
    /// The whole body, refusing more than 1 MiB (413) however it is framed.
    func jsonBody() async throws -> Data {
        do {
            let buffer = try await body.collect(upTo: RequestGuards<BasicRequestContext>.maxBody)
            return Data(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge
        }
    }

    /// Decodes a strict JSON body (unknown fields refused, errors name the field).
    func decode<T: Codable>(_ type: T.Type) async throws -> T {
        try StrictJSON.decode(T.self, from: try await jsonBody())
    }
}
