import GRPC

/// One gRPC stream to an xDS server, read by a task into a queue of decoded responses:
/// what `RawXDSClient` (State-of-the-World) and `RawDeltaClient` (Delta) share.
final class XDSTestStream<Response: Sendable>: @unchecked Sendable {
    private let client: GRPCClient
    let call: GRPCCall
    private var iterator: AsyncThrowingStream<Response, any Error>.AsyncIterator
    private let reader: Task<Void, Never>

    init(port: Int, path: String, metadata: [(String, String)] = [], decode: @escaping @Sendable ([UInt8]) throws -> Response) async throws {
        client = try await GRPCClient.connect(host: "127.0.0.1", port: port)
        let call = try await client.call(path: path, metadata: metadata)
        self.call = call
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Response.self)
        iterator = stream.makeAsyncIterator()
        reader = Task {
            do {
                for try await bytes in call.responses {
                    continuation.yield(try decode(bytes))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }

    /// The next response; throws the call's final GRPCStatus if the server ended it, and
    /// fails (rather than hangs) if nothing arrives within `timeout`.
    func next(timeout: Duration) async throws -> Response {
        let timer = Task { [call] in
            try await Task.sleep(for: timeout)
            call.cancel()
        }
        defer { timer.cancel() }
        do {
            guard let response = try await iterator.next() else {
                throw TestSupportError("the server ended the stream with OK")
            }
            return response
        } catch let status as GRPCStatus where timer.isCancelled == false && status.code == .cancelled {
            throw TestSupportError("no response within \(timeout) (\(status))")
        }
    }

    func close() async {
        call.cancel()
        reader.cancel()
        await client.close()
    }
}
