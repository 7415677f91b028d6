import Synchronization

/// A value computed once and then shared. The first caller computes it while holding the
/// cell; callers arriving meanwhile wait for that result instead of computing it again
/// (a group render, a route splice, a service's canonical JSON). Callers never hold
/// another lock that a computation needs.
final class OnceCell<Value: Sendable>: Sendable {
    private let stored = Mutex<Value?>(nil)

    func value(_ build: () throws -> Value) rethrows -> Value {
        try stored.withLock { stored in
            if let done = stored { return done }
            let built = try build()
            stored = built
            return built
        }
    }
}
