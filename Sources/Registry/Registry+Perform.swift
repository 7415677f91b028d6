import Foundation
import Synchronization

/// A write as the view decided it: what to store, the change proxies will see (nil: none),
/// and what the caller gets back. No operation: nothing to write.
struct WritePlan<Result: Sendable>: Sendable {
    var operation: RegistryOperation?
    var change: RegistryChange?
    var result: Result

    init(_ operation: RegistryOperation? = nil, change: RegistryChange? = nil, result: Result) {
        self.operation = operation
        self.change = change
        self.result = result
    }
}

extension Registry {
    /// Plans a write against the view and commits it (docs/etcd.md, "The registry
    /// backend"). Embedded store: one at a time, numbered by the registry, in the view
    /// when it commits. Replicated store: committed concurrently (the store's compares
    /// refuse what the view no longer allows), in the view once the watch brings it.
    func perform<R: Sendable>(_ plan: @escaping @Sendable (inout State) throws(RegistryError) -> WritePlan<R>) async throws(RegistryError) -> R {
        guard backend.isReplicated else { return try await performLocally(plan) }
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await performReplicated(plan)
            } catch let error where error.staleAt != nil && attempt < 4 {
                // Another replica changed the record since this view read it: plan again
                // on the view that includes that change.
                await applied(error.staleAt!, timeout: .seconds(1))
            }
        }
    }

    private func performReplicated<R: Sendable>(_ plan: @escaping @Sendable (inout State) throws(RegistryError) -> WritePlan<R>) async throws(RegistryError) -> R {
        let planned = try state.withLock { (state: inout State) throws(RegistryError) -> WritePlan<R> in try plan(&state) }
        guard let operation = planned.operation else { return planned.result }
        let revision = try await backend.apply(operation, revision: 0)
        if case .heartbeat(let instance) = operation {
            // Nothing the store records: only this replica's view shows the time.
            state.withLock { $0.instances[instance.service]?[instance.id]?.lastHeartbeat = instance.lastHeartbeat }
        } else if revision > 0 {
            await applied(revision)
        }
        return planned.result
    }

    private func performLocally<R: Sendable>(_ plan: @escaping @Sendable (inout State) throws(RegistryError) -> WritePlan<R>) async throws(RegistryError) -> R {
        guard let store = backend as? RegistryStore else { preconditionFailure("the one local backend is the embedded store") }
        return try await performOnStoreQueue(store, plan)
    }

    /// The embedded store's path: plan, commit and apply in one hop onto the store's
    /// serial queue (which also orders the writes), keeping fsyncs off the cooperative
    /// pool without a second hop.
    private func performOnStoreQueue<R: Sendable>(
        _ store: RegistryStore, _ plan: @escaping @Sendable (inout State) throws(RegistryError) -> WritePlan<R>
    ) async throws(RegistryError) -> R {
        let result: Result<R, RegistryError> = await withCheckedContinuation { continuation in
            store.writes.async { [self] in
                do throws(RegistryError) {
                    let planned = try state.withLock { (state: inout State) throws(RegistryError) -> WritePlan<R> in try plan(&state) }
                    if let operation = planned.operation {
                        // A write proxies cannot see (a heartbeat) gets no revision of its own.
                        let revision = self.revision + (planned.change == nil ? 0 : 1)
                        try store.applyNow(operation, revision: revision)
                        commit(operation.records, revision: revision, changes: planned.change.map { [$0] } ?? [])
                    }
                    continuation.resume(returning: .success(planned.result))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Returns once the view has reached `revision`, or after `timeout` (a write is
    /// durable either way; the view is late only while the store's watch is reconnecting).
    func applied(_ revision: UInt64, timeout: Duration = .seconds(10)) async {
        let id = UInt64.random(in: 0...UInt64.max)
        let timeout = Task { [self] in
            try? await Task.sleep(for: timeout)
            let late = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            late?.resume()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let reached = state.withLock { state -> Bool in
                if state.revision >= revision { return true }
                state.waiters.append((id, revision, continuation))
                return false
            }
            if reached { continuation.resume() }
        }
        timeout.cancel()
    }

    static func takeWaiters(upTo revision: UInt64, from state: inout State) -> [CheckedContinuation<Void, Never>] {
        let ready = state.waiters.filter { $0.revision <= revision }.map(\.continuation)
        state.waiters.removeAll { $0.revision <= revision }
        return ready
    }

    /// Follows the store's changes into the view until cancelled (replicated store):
    /// every replica, the writer included, applies the same records in the same order.
    /// A broken watch is made again from the view's revision.
    public func followStore(onError: @escaping @Sendable (any Error) -> Void = { _ in }) async {
        guard backend.isReplicated else { return }
        while !Task.isCancelled {
            do {
                for try await batch in backend.watch(after: revision) {
                    switch batch {
                    case .changes(let revision, let records):
                        commit(records, revision: revision, changes: records.map(\.change))
                    case .reset(let image):
                        reset(to: image)
                    }
                }
            } catch {
                onError(error)
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}
