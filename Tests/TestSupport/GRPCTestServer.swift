public import GRPC

/// Port-0 gRPC servers with ready-made handlers for tests.
public enum GRPCTestServer {
    public static let echoPath = "/test.Echo/Bidi"

    /// Echoes every message back on the same call, in order.
    public static let echo: GRPCHandler = { messages, writer, _ in
        for try await message in messages {
            try await writer.write(message)
        }
    }

    /// Starts a server on 127.0.0.1, port 0; returns it and the bound port.
    public static func start(
        handlers: [String: GRPCHandler], maxReceiveMessageSize: Int = 4 << 20
    ) async throws -> (GRPCServer, Int) {
        let server = GRPCServer(
            configuration: .init(host: "127.0.0.1", port: 0, maxReceiveMessageSize: maxReceiveMessageSize),
            handlers: handlers)
        let port = try await server.start()
        return (server, port)
    }

    /// Collects all responses of a call, or the status it failed with.
    public static func collect(_ call: GRPCCall) async -> (messages: [[UInt8]], status: GRPCStatus) {
        var messages: [[UInt8]] = []
        do {
            for try await message in call.responses { messages.append(message) }
            return (messages, .ok)
        } catch let status as GRPCStatus {
            return (messages, status)
        } catch {
            return (messages, GRPCStatus(.unknown, "\(error)"))
        }
    }
}
