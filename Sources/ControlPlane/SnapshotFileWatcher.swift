import Foundation
public import Logging
import Synchronization
public import XDS

/// Serves a declared snapshot file and follows its edits (SPEC §5).
///
/// The file is polled (content, not mtime, so editors that write in place or rename a
/// temporary file over it both count, and touching it without change publishes nothing).
/// Each valid change publishes `v<N+1>`; an invalid one is refused with the reason and
/// the last good version keeps serving.
public final class SnapshotFileWatcher: Sendable {
    public let path: String
    private let cache: SnapshotCache
    private let logger: Logger
    private let interval: Duration

    private struct State {
        var version = 0
        var lastContent: Data?
        var lastError: DeclaredSnapshotError?
        var current: Snapshot?
    }
    private let state = Mutex(State())

    public init(path: String, cache: SnapshotCache, interval: Duration = .milliseconds(100), logger: Logger = Logger(label: "sextant.snapshot-file")) {
        self.path = path
        self.cache = cache
        self.interval = interval
        self.logger = logger
    }

    /// The version last published from the file, e.g. "v3"; nil before the first good load.
    public var publishedVersion: String? {
        state.withLock { $0.version == 0 ? nil : "v\($0.version)" }
    }

    /// Why the latest content was refused; nil once a good version is published again.
    public var lastError: DeclaredSnapshotError? { state.withLock { $0.lastError } }

    /// Loads the file now. Throws when it is invalid (and keeps serving what it served).
    @discardableResult
    public func reload() throws(DeclaredSnapshotError) -> Snapshot? {
        let content = FileManager.default.contents(atPath: path)
        let unchanged = state.withLock { $0.lastContent == content && content != nil }
        if unchanged { return nil }
        guard let content else {
            let error = DeclaredSnapshotError(file: path, line: nil, field: nil, reason: "file not found")
            state.withLock { $0.lastError = error }
            throw error
        }
        let parsed: Snapshot
        do {
            parsed = try DeclaredSnapshot.parse(String(decoding: content, as: UTF8.self), file: path, version: "pending")
        } catch {
            state.withLock {
                $0.lastContent = content
                $0.lastError = error
            }
            logger.error("snapshot file refused, still serving \(publishedVersion ?? "nothing")", metadata: ["error": "\(error)"])
            throw error
        }
        // Numbering and publishing under one lock, so concurrent reloads cannot reuse a
        // version; content equal to what is served (a refused edit reverted) is not a new one.
        let published = state.withLock { state -> Snapshot? in
            state.lastContent = content
            state.lastError = nil
            if let current = state.current, current.contentHash == parsed.contentHash { return nil }
            state.version += 1
            let snapshot = parsed.relabeled("v\(state.version)")
            state.current = snapshot
            cache.set(snapshot)
            return snapshot
        }
        if let published {
            logger.info("published snapshot from file", metadata: ["version": "\(published.version)", "file": "\(path)"])
        }
        return published
    }

    /// Polls until the task is cancelled.
    public func watch() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            _ = try? reload()
        }
    }
}
