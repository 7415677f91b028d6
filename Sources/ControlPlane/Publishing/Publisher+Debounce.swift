import Foundation
import Registry

extension Publisher {
    /// Follows registry changes until cancelled: waits for `debounce` of quiet (but never
    /// more than `maxDebounce` after the first change), then publishes in auto mode. A burst
    /// of registrations becomes one version.
    public func followRegistry(debounce: Duration, maxDebounce: Duration) async {
        for await _ in registry.changes {
            let first = ContinuousClock.now
            let latest = first + maxDebounce
            var seen = registry.revision
            while !Task.isCancelled {
                try? await Task.sleep(until: min(latest, .now + debounce))
                let count = registry.revision
                if count == seen || ContinuousClock.now >= latest { break }
                seen = count
            }
            do {
                try await changed(cause: "registry", since: first)
            } catch {
                logger.error("could not publish registry change; still serving \(current?.versionString ?? "nothing")", metadata: ["error": "\(error)"])
            }
        }
    }
}
