import Dispatch
import Foundation

/// Waits for the first of some signals (SIGINT, SIGTERM) so the server can shut down
/// gracefully (`sextant serve`: GOAWAY to every proxy; `sextant-proxy`: listeners drain).
public struct SignalWaiter: Sendable {
    public let signals: [Int32]

    public init(signals: [Int32]) {
        self.signals = signals
    }

    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = Once(continuation)
            for number in signals {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { once.fire() }
                source.resume()
                once.retain(source)
            }
        }
    }
}

/// Resumes the continuation on the first signal only; keeps the sources alive.
private final class Once: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Void, Never>?
    private var sources: [any DispatchSourceSignal] = []

    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }

    func retain(_ source: any DispatchSourceSignal) {
        lock.withLock { sources.append(source) }
    }

    func fire() {
        let pending = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            defer { continuation = nil }
            return continuation
        }
        pending?.resume()
    }
}
