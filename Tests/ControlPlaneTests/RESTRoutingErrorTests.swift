import ControlPlane
import Foundation
import Testing
import TestSupport

/// Misses answer in the API's error shape: an unknown path 404, a method a path does not
/// have 405 with `Allow` (docs/rest-api.md, "Errors") — never a 500.
@Suite struct RESTRoutingErrorTests {
    func withServer(_ body: (Int) async throws -> Void) async throws {
        let server = try ControlPlaneServer(configuration: .loopback(dataDirectory: try TestEnvironment.temporaryDirectory().path))
        let port = try await server.start().api
        do {
            try await body(port)
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    func errorCode(_ response: SimpleHTTPClient.Response) -> String? {
        let json = try? JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
        return (json?["error"] as? [String: Any])?["code"] as? String
    }

    @Test func anUnknownPathAnswers404InTheErrorShape() async throws {
        try await withServer { port in
            let response = try await SimpleHTTPClient.get(port: port, path: "/v1/nope")
            #expect(response.status == 404)
            #expect(errorCode(response) == "not_found")
            #expect(response.body.contains("/v1/nope"))
        }
    }

    @Test func anUnknownMethodAnswers405WithAllow() async throws {
        try await withServer { port in
            let response = try await SimpleHTTPClient.request("TRACE", port: port, path: "/healthz")
            #expect(response.status == 405)
            #expect(errorCode(response) == "method_not_allowed")
            #expect(response.headers["allow"] == "GET, HEAD")
        }
    }

    @Test func aPathWithParametersKnowsItsMethods() async throws {
        try await withServer { port in
            let post = try await SimpleHTTPClient.request("POST", port: port, path: "/v1/services/web", body: "{}")
            #expect(post.status == 405)
            #expect(post.headers["allow"].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
                    == ["DELETE", "GET", "HEAD", "PUT"])
            // A routed path still reaches its handler, whose own 404 is about the service.
            let missing = try await SimpleHTTPClient.get(port: port, path: "/v1/services/web")
            #expect(missing.status == 404)
            #expect(missing.body.contains("web"))
        }
    }
}
