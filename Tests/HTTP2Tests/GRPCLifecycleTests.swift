import GRPC
import Testing
import TestSupport

/// What a server handler observed when its call ended.
private struct Observed: Sendable {
    var status: GRPCStatus?
    var taskCancelled: Bool
    var writeFailed: Bool
}

/// An echo handler that reports how its call ended, and a call to it that is running.
private func startObservedCall() async throws -> (AsyncStream<Observed>, GRPCServer, GRPCClient, GRPCCall) {
    let (observations, observed) = AsyncStream.makeStream(of: Observed.self)
    let handler: GRPCHandler = { messages, writer, _ in
        var status: GRPCStatus?
        do {
            for try await message in messages { try await writer.write(message) }
        } catch let error as GRPCStatus {
            status = error
        }
        let writeFailed = (try? await writer.write([0])) == nil
        observed.yield(Observed(status: status, taskCancelled: Task.isCancelled, writeFailed: writeFailed))
    }
    let (server, port) = try await GRPCTestServer.start(handlers: ["/test.Watch/Stream": handler])
    let client = try await GRPCClient.connect(host: "127.0.0.1", port: port)
    let call = try await client.call(path: "/test.Watch/Stream")
    try await call.send([1])
    var responses = call.responses.makeAsyncIterator()
    #expect(try await responses.next() == [1])  // the handler is running
    return (observations, server, client, call)
}

@Test func clientCancelIsSeenByServerHandler() async throws {
    let (observations, server, client, call) = try await startObservedCall()
    call.cancel()

    var iterator = observations.makeAsyncIterator()
    let seen = await iterator.next()
    #expect(seen?.status?.code == .cancelled)
    #expect(seen?.taskCancelled == true)
    #expect(seen?.writeFailed == true)
    await client.close()
    await server.shutdown()
}

@Test func clientDisconnectCancelsServerHandler() async throws {
    let (observations, server, client, _) = try await startObservedCall()
    await client.close()

    var iterator = observations.makeAsyncIterator()
    let seen = await iterator.next()
    #expect(seen?.status?.code == .cancelled)
    #expect(seen?.taskCancelled == true)
    #expect(seen?.writeFailed == true)
    await server.shutdown()
}

@Test func gracefulShutdownSendsGoAwayAndLetsInFlightCallFinish() async throws {
    let (server, port) = try await GRPCTestServer.start(handlers: [GRPCTestServer.echoPath: GRPCTestServer.echo])
    let client = try await GRPCClient.connect(host: "127.0.0.1", port: port)
    let call = try await client.call(path: GRPCTestServer.echoPath)
    try await call.send([1])
    var responses = call.responses.makeAsyncIterator()
    #expect(try await responses.next() == [1])

    let clock = ContinuousClock()
    let started = clock.now
    let shutdown = Task { await server.shutdown(gracePeriod: .seconds(60)) }
    try await client.goAwayReceived()

    try await call.send([2])
    #expect(try await responses.next() == [2])
    try await call.finishSending()
    #expect(try await responses.next() == nil)
    await shutdown.value
    // Shutdown finished because the call ended, not because the grace period ran out.
    #expect(clock.now - started < .seconds(30))
    await client.close()
}
