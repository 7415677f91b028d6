import GRPC
import Testing
import TestSupport

@Test func echoRoundTripsOneMessage() async throws {
    let (server, port) = try await GRPCTestServer.start(handlers: [GRPCTestServer.echoPath: GRPCTestServer.echo])
    let client = try await GRPCClient.connect(host: "127.0.0.1", port: port)
    let call = try await client.call(path: GRPCTestServer.echoPath, metadata: [("x-test", "1")])
    try await call.send(Array("hello".utf8))
    try await call.finishSending()
    let result = await GRPCTestServer.collect(call)
    #expect(result.messages == [Array("hello".utf8)])
    #expect(result.status == .ok)
    await client.close()
    await server.shutdown()
}

@Test func manyMessagesArriveInOrderWhileStreaming() async throws {
    let (server, port) = try await GRPCTestServer.start(handlers: [GRPCTestServer.echoPath: GRPCTestServer.echo])
    let client = try await GRPCClient.connect(host: "127.0.0.1", port: port)
    let call = try await client.call(path: GRPCTestServer.echoPath)
    let count = 2_000
    async let received = GRPCTestServer.collect(call)
    for i in 0..<count {
        try await call.send(withUnsafeBytes(of: UInt32(i).bigEndian, Array.init))
    }
    try await call.finishSending()
    let result = await received
    #expect(result.status == .ok)
    #expect(result.messages.count == count)
    #expect(result.messages.enumerated().allSatisfy { i, m in m == withUnsafeBytes(of: UInt32(i).bigEndian, Array.init) })
    await client.close()
    await server.shutdown()
}

@Test func tenMebibyteResponseCrossesDefaultClientWindowIntact() async throws {
    let big = (0..<(10 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 12) }
    let handler: GRPCHandler = { messages, writer, _ in
        for try await _ in messages {
            try await writer.write(big)
        }
    }
    let (server, port) = try await GRPCTestServer.start(handlers: ["/test.Big/Get": handler])
    let client = try await GRPCClient.connect(host: "127.0.0.1", port: port)
    let call = try await client.call(path: "/test.Big/Get")
    try await call.send([1])
    try await call.finishSending()
    let result = await GRPCTestServer.collect(call)
    #expect(result.status == .ok)
    #expect(result.messages.count == 1)
    #expect(result.messages.first == big)
    await client.close()
    await server.shutdown()
}

@Test func unknownMethodEndsWithUnimplemented() async throws {
    let (server, port) = try await GRPCTestServer.start(handlers: [:])
    let client = try await GRPCClient.connect(host: "127.0.0.1", port: port)
    let call = try await client.call(path: "/x/y")
    // The server answers the HEADERS alone (trailers-only) and may have closed the
    // stream before our END_STREAM goes out, so a failed half-close is not the result.
    try? await call.finishSending()
    let result = await GRPCTestServer.collect(call)
    #expect(result.status == GRPCStatus(.unimplemented, "unknown method /x/y"))
    await client.close()
    await server.shutdown()
}

@Test func oversizeMessageEndsOnlyItsOwnCall() async throws {
    let (server, port) = try await GRPCTestServer.start(
        handlers: [GRPCTestServer.echoPath: GRPCTestServer.echo], maxReceiveMessageSize: 1024)
    let client = try await GRPCClient.connect(host: "127.0.0.1", port: port)
    let healthy = try await client.call(path: GRPCTestServer.echoPath)
    try await healthy.send([1])
    var healthyResponses = healthy.responses.makeAsyncIterator()
    #expect(try await healthyResponses.next() == [1])

    let oversize = try await client.call(path: GRPCTestServer.echoPath)
    try await oversize.send([UInt8](repeating: 7, count: 2048))
    let result = await GRPCTestServer.collect(oversize)
    #expect(result.status == GRPCStatus(.resourceExhausted, "message of 2048 bytes exceeds the limit of 1024"))

    try await healthy.send([2])
    #expect(try await healthyResponses.next() == [2])
    try await healthy.finishSending()
    #expect(try await healthyResponses.next() == nil)
    await client.close()
    await server.shutdown()
}

@Test func handlerStatusAndEncodedMessageReachClient() async throws {
    let message = "bad: naïve 100% ✓\nnext"
    let handler: GRPCHandler = { _, _, _ in throw GRPCStatus(.invalidArgument, message) }
    let (server, port) = try await GRPCTestServer.start(handlers: ["/test.Fail/Now": handler])
    let client = try await GRPCClient.connect(host: "127.0.0.1", port: port)
    let call = try await client.call(path: "/test.Fail/Now")
    let result = await GRPCTestServer.collect(call)
    #expect(result.status == GRPCStatus(.invalidArgument, message))
    await client.close()
    await server.shutdown()
}

@Test func handlerThrowingOtherErrorEndsWithUnknown() async throws {
    struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }
    let handler: GRPCHandler = { _, _, _ in throw Boom() }
    let (server, port) = try await GRPCTestServer.start(handlers: ["/test.Fail/Boom": handler])
    let client = try await GRPCClient.connect(host: "127.0.0.1", port: port)
    let result = await GRPCTestServer.collect(try await client.call(path: "/test.Fail/Boom"))
    #expect(result.status == GRPCStatus(.unknown, "boom"))
    await client.close()
    await server.shutdown()
}

@Test func thousandConcurrentLongLivedCallsShareOneConnection() async throws {
    let (server, port) = try await GRPCTestServer.start(handlers: [GRPCTestServer.echoPath: GRPCTestServer.echo])
    let client = try await GRPCClient.connect(host: "127.0.0.1", port: port)
    let count = 1_000
    var calls: [GRPCCall] = []
    for _ in 0..<count { calls.append(try await client.call(path: GRPCTestServer.echoPath)) }
    // Every call is open at once: each gets its first echo before any of them ends.
    let firstEchoes = try await withThrowingTaskGroup(of: Bool.self) { group in
        for (i, call) in calls.enumerated() {
            group.addTask {
                let message = withUnsafeBytes(of: UInt16(i).bigEndian, Array.init)
                try await call.send(message)
                var responses = call.responses.makeAsyncIterator()
                guard try await responses.next() == message else { return false }
                return true
            }
        }
        return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
    }
    #expect(firstEchoes == count)
    for call in calls { try await call.finishSending() }
    await client.close()
    await server.shutdown()
}

@Test func uploadLargerThanAllWindowsReachesAReaderThatStartsLate() async throws {
    // 24 MiB exceeds the 1 MiB stream and 16 MiB connection windows: it only gets through
    // if taking messages reopens the windows.
    let (gate, open) = AsyncStream.makeStream(of: Void.self)
    let handler: GRPCHandler = { messages, writer, _ in
        for await _ in gate { break }
        var total = 0
        for try await message in messages { total += message.count }
        try await writer.write(withUnsafeBytes(of: UInt32(total).bigEndian, Array.init))
    }
    let (server, port) = try await GRPCTestServer.start(handlers: ["/test.Upload/Put": handler])
    let client = try await GRPCClient.connect(host: "127.0.0.1", port: port)
    let call = try await client.call(path: "/test.Upload/Put")
    let chunk = [UInt8](repeating: 9, count: 1 << 20)
    let upload = Task {
        for _ in 0..<24 { try await call.send(chunk) }
        try await call.finishSending()
    }
    open.yield()
    try await upload.value
    let result = await GRPCTestServer.collect(call)
    #expect(result.status == .ok)
    #expect(result.messages == [withUnsafeBytes(of: UInt32(24 << 20).bigEndian, Array.init)])
    await client.close()
    await server.shutdown()
}
