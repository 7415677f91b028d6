import GRPC
import HTTP2
import NIOCore
import Testing
import TestSupport

private func nonGRPCRequest(port: Int, path: String) -> [HTTP2HeaderField] {
    [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "127.0.0.1:\(port)"),
     ("content-type", "text/plain")]
}

/// Reads a whole response: headers, concatenated body, trailers.
private func readResponse(_ stream: HTTP2Stream) async throws -> (headers: [HTTP2HeaderField], body: String) {
    var headers: [HTTP2HeaderField] = []
    var body = ByteBuffer()
    for try await part in stream.inbound {
        switch part {
        case .headers(let h): headers = h
        case .data(var chunk): body.writeBuffer(&chunk)
        case .trailers: break
        }
    }
    return (headers, String(buffer: body))
}

@Test func nonGRPCRequestGets415AndConnectionStaysUsable() async throws {
    let (server, port) = try await GRPCTestServer.start(handlers: [GRPCTestServer.echoPath: GRPCTestServer.echo])
    let connection = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: port)

    let first = try await connection.openStream(headers: nonGRPCRequest(port: port, path: GRPCTestServer.echoPath))
    // RFC 9113 §8.1: a server may answer before the request is complete and then reset the
    // stream with NO_ERROR; if that reset arrives first, the body has nowhere to go. The
    // response must still be delivered whole.
    do {
        try await first.sendData(ByteBuffer(string: "hello"), endStream: true)
    } catch HTTP2Error.streamClosed {}
    let response = try await readResponse(first)
    #expect(response.headers.first(where: { $0.name == ":status" })?.value == "415")
    #expect(response.body.contains("application/grpc"))

    let second = try await connection.openStream(headers: nonGRPCRequest(port: port, path: "/other"))
    do { try await second.end() } catch HTTP2Error.streamClosed {}
    let again = try await readResponse(second)
    #expect(again.headers.first(where: { $0.name == ":status" })?.value == "415")
    await connection.close()
    await server.shutdown()
}

@Test func garbageBytesCloseOnlyThatConnection() async throws {
    let (server, port) = try await GRPCTestServer.start(handlers: [GRPCTestServer.echoPath: GRPCTestServer.echo])
    let healthy = try await GRPCClient.connect(host: "127.0.0.1", port: port)
    let call = try await healthy.call(path: GRPCTestServer.echoPath)
    try await call.send([1])
    var responses = call.responses.makeAsyncIterator()
    #expect(try await responses.next() == [1])

    let garbage = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\nthis is not http/2 at all".utf8)
    let received = try await HTTP2RawTCPClient.sendAndCollectUntilClosed(port: port, bytes: garbage)
    // The server spoke HTTP/2 (SETTINGS first) and said goodbye with GOAWAY (type 7).
    #expect(HTTP2RawTCPClient.frameTypes(in: received).first == 4)
    #expect(HTTP2RawTCPClient.frameTypes(in: received).contains(7))

    try await call.send([2])
    #expect(try await responses.next() == [2])
    let fresh = try await GRPCClient.connect(host: "127.0.0.1", port: port)
    let freshCall = try await fresh.call(path: GRPCTestServer.echoPath)
    try await freshCall.send([3])
    try await freshCall.finishSending()
    #expect(await GRPCTestServer.collect(freshCall).messages == [[3]])
    await fresh.close()
    await healthy.close()
    await server.shutdown()
}

@Test func trailersFollowHeadersAndData() async throws {
    let server = HTTP2Server { stream in
        do { for try await _ in stream.inbound {} } catch { return }
        try? await stream.sendHeaders([(":status", "200")])
        try? await stream.sendData(ByteBuffer(string: "body"))
        try? await stream.sendTrailers([("x-trailer", "yes")])
    }
    let port = try await server.start()
    let connection = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: port)
    let stream = try await connection.openStream(headers: nonGRPCRequest(port: port, path: "/t"))
    try await stream.end()
    var parts: [String] = []
    for try await part in stream.inbound {
        switch part {
        case .headers: parts.append("headers")
        case .data(let b): parts.append("data:" + String(buffer: b))
        case .trailers(let t): parts.append("trailers:" + (t.first(where: { $0.name == "x-trailer" })?.value ?? ""))
        }
    }
    #expect(parts == ["headers", "data:body", "trailers:yes"])
    await connection.close()
    await server.shutdown()
}
