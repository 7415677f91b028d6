import Dispatch

/// Runs blocking work (a process wait, a synchronous store call that itself waits on
/// async work) on a dispatch thread and awaits it: a blocked thread of Swift's small
/// cooperative pool can be the very one the awaited work needs.
public func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try work() })
        }
    }
}
