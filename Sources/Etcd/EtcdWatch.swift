import EnvoyAPI
import GRPC

/// What changed at one revision of a watched range.
public struct EtcdEvent: Sendable, Equatable {
    public enum Kind: Sendable { case put, delete }

    public var kind: Kind
    /// After a put, the new pair; after a delete, the key with the deleting revision.
    public var pair: EtcdKeyValue
}

/// The events of one watch response: all at revisions up to `revision`.
public struct EtcdWatchBatch: Sendable {
    public var revision: Int64
    public var events: [EtcdEvent]
}

extension EtcdClient {
    /// Every change of `keys` from `revision` on, in revision order, across member
    /// failures: when the stream breaks, the watch is made again on the next member from
    /// the revision after the last one delivered, so nothing is skipped or repeated. Ends
    /// with `EtcdError.compacted` when etcd no longer has that history (read the state
    /// again, then watch from its revision).
    public func watch(_ keys: EtcdKeys, from revision: Int64) -> AsyncThrowingStream<EtcdWatchBatch, any Error> {
        let (stream, continuation) = AsyncThrowingStream<EtcdWatchBatch, any Error>.makeStream()
        let task = Task { [self] in
            var next = revision
            var failures = 0
            while !Task.isCancelled {
                do {
                    try await watchOnce(keys, from: &next, continuation)
                    failures = 0
                } catch let error as EtcdError {
                    if case .compacted = error { return continuation.finish(throwing: error) }
                    if case .closed = error { return continuation.finish(throwing: error) }
                    failures += 1
                } catch {
                    failures += 1
                }
                if Task.isCancelled { break }
                // Back off a little, more while every member fails.
                try? await Task.sleep(for: .milliseconds(min(50 << min(failures, 5), 1000)))
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// One Watch stream on one member, until it breaks.
    private func watchOnce(_ keys: EtcdKeys, from next: inout Int64, _ continuation: AsyncThrowingStream<EtcdWatchBatch, any Error>.Continuation) async throws {
        // `hasleader`: a member cut off from the leader ends the watch instead of
        // going quiet, so the watch moves to a member that still sees changes.
        let call = try await stream("etcdserverpb.Watch", "Watch", metadata: [("hasleader", "true")])
        defer { call.cancel() }
        var create = keys.fields
        create["start_revision"] = .string("\(next)")
        try await call.send(try ProtoJSON.encode(["create_request": .object(create)], as: try Self.type("etcdserverpb.WatchRequest")))
        let responseType = try Self.type("etcdserverpb.WatchResponse")
        for try await message in call.responses {
            let response = try ProtoJSON.decode(message, as: responseType)
            let compacted = EtcdCodec.int(response["compact_revision"])
            if compacted > 0 { throw EtcdError.compacted(revision: compacted) }
            if response["canceled"]?.boolValue == true {
                throw EtcdError.unavailable("watch canceled: \(response["cancel_reason"]?.stringValue ?? "")")
            }
            let events = (response["events"]?.arrayValue ?? []).map { event in
                EtcdEvent(kind: event["type"]?.stringValue == "DELETE" ? .delete : .put, pair: EtcdKeyValue(event["kv"] ?? [:]))
            }
            guard let last = events.last?.pair.modRevision else { continue }
            next = last + 1
            continuation.yield(EtcdWatchBatch(revision: last, events: events))
        }
        throw EtcdError.unavailable("watch stream ended")
    }
}
