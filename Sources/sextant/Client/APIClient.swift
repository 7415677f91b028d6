import ArgumentParser
import EnvoyAPI
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Options every client verb shares: where the REST API is, the token, output format.
struct ClientOptions: ParsableArguments {
    @Option(help: "Sextant's REST API (default: $SEXTANT_API, else http://127.0.0.1:18001).")
    var api: String?

    @Option(help: "Bearer token for mutating calls (default: $SEXTANT_API_TOKEN).")
    var token: String?

    @Flag(help: "Print the server's JSON instead of a table.")
    var json = false

    var client: APIClient {
        let environment = ProcessInfo.processInfo.environment
        return APIClient(
            base: api ?? environment["SEXTANT_API"] ?? "http://127.0.0.1:18001",
            token: token ?? environment["SEXTANT_API_TOKEN"])
    }
}

/// The REST API over HTTP/1.1. A non-2xx answer becomes an `APIClient.Failure` carrying
/// the server's message, which the command prints before exiting non-zero.
struct APIClient {
    let base: String
    let token: String?

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    @discardableResult
    func call(_ method: String, _ path: String, body: Data? = nil) async throws -> JSON {
        guard let url = URL(string: base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path) else {
            throw Failure(description: "bad API address \(base)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let token, !token.isEmpty { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw Failure(description: "cannot reach Sextant at \(base): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let text = String(decoding: data, as: UTF8.self)
        let json = text.isEmpty ? JSON.null : ((try? JSON.parse(text)) ?? .string(text))
        guard (200..<300).contains(status) else {
            let error = json["error"]
            var message = error?["message"]?.stringValue ?? text
            if let field = error?["field"]?.stringValue, !message.contains(field) { message += " (field \(field))" }
            throw Failure(description: "\(status): \(message)")
        }
        return json
    }

    /// `path` segment escaped for a URL.
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? text
    }
}

/// Runs a client verb: prints the server's message and exits 1 on failure.
protocol ClientCommand: AsyncParsableCommand {
    var options: ClientOptions { get }
    func perform(_ client: APIClient) async throws -> JSON
    func table(_ json: JSON) -> String
}

extension ClientCommand {
    func run() async throws {
        do {
            let json = try await perform(options.client)
            print(options.json ? json.serialized(pretty: true) : table(json))
        } catch let failure as APIClient.Failure {
            FileHandle.standardError.write(Data("error: \(failure.description)\n".utf8))
            throw ExitCode.failure
        }
    }
}
