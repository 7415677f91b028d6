import Foundation

/// The embedded store as a registry backend: one writer (this process), so revisions are
/// the registry's own and nobody else's changes need watching.
extension RegistryStore: RegistryBackend {
    public var isReplicated: Bool { false }

    public func load() async throws(RegistryError) -> RegistryImage {
        try loadImage()
    }

    /// Synchronous load, for `Registry(store:)`.
    func loadImage() throws(RegistryError) -> RegistryImage {
        RegistryImage(services: try loadServices(), instances: try loadInstances(), meshSettings: try setting(Registry.meshSettingsKey),
                      revision: try loadRevision())
    }

    /// Runs the write on the store's own queue: a commit waits for an fsync, which must
    /// not hold one of the cooperative pool's few threads. (The registry itself plans,
    /// writes and applies in one hop on that queue: `Registry.perform`.)
    public func apply(_ operation: RegistryOperation, revision: UInt64) async throws(RegistryError) -> UInt64 {
        let result: Result<UInt64, RegistryError> = await withCheckedContinuation { continuation in
            writes.async {
                do throws(RegistryError) {
                    try self.applyNow(operation, revision: revision)
                    continuation.resume(returning: .success(revision))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    public func watch(after revision: UInt64) -> AsyncThrowingStream<RegistryBatch, any Error> {
        AsyncThrowingStream { $0.finish() }
    }
}

extension RegistryStore: ControlStore {
    public func settingChanges() -> AsyncStream<String> {
        // No other writer: a stream that stays open and never yields.
        AsyncStream { _ in }
    }

    public func tokenRevocations() -> AsyncStream<String> {
        AsyncStream { _ in }
    }
}
