import Foundation
public import Logging
import Synchronization
import XDS

/// Serves a declared snapshot file and follows its edits (docs/snapshots.md, "Declared snapshot files").
///
/// The file is polled (content, not mtime, so editors that write in place or rename a
/// temporary file over it both count, and touching it without change publishes nothing).
/// Each valid change goes to the publisher, which numbers it `v<N+1>` (or holds it in
/// manual mode); an invalid one is refused with the reason and the last good version
/// keeps serving.
public final class SnapshotFileWatcher: Sendable {
    public let path: String
    private let publisher: Publisher
    private let logger: Logger
    private let interval: Duration

    private struct State {
        var lastContent: Data?
        var lastError: DeclaredSnapshotError?
        var published: String?
    }
    private let state = Mutex(State())

    public init(path: String, publisher: Publisher, interval: Duration = .milliseconds(100), logger: Logger = Logger(label: "sextant.snapshot-file")) {
        self.path = path
        self.publisher = publisher
        self.interval = interval
        self.logger = logger
    }

    /// The version last published from the file, e.g. "v3"; nil before the first good load.
    public var publishedVersion: String? { state.withLock { $0.published } }

    /// Why the latest content was refused; nil once a good version is published again.
    public var lastError: DeclaredSnapshotError? { state.withLock { $0.lastError } }

    /// Loads the file now. Throws when it is invalid (and keeps serving what it served).
    /// Reading, parsing and publishing run on the publisher's queue, in order with every
    /// other publication, and never block the cooperative pool.
    @discardableResult
    public func reload() async throws(DeclaredSnapshotError) -> Publisher.Outcome? {
        let result: Result<Publisher.Outcome?, DeclaredSnapshotError>
        do {
            result = try await publisher.onQueue { self.reloadOnQueue() }
        } catch {
            throw DeclaredSnapshotError(file: path, line: nil, field: nil, reason: "not published: \(error)")
        }
        return try result.get()
    }

    private func reloadOnQueue() -> Result<Publisher.Outcome?, DeclaredSnapshotError> {
        Result { () throws(DeclaredSnapshotError) in try reloadNow() }
    }

    private func reloadNow() throws(DeclaredSnapshotError) -> Publisher.Outcome? {
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
            logger.error("snapshot file refused, still serving \(publisher.current?.versionString ?? "nothing")", metadata: ["error": "\(error)"])
            throw error
        }
        state.withLock {
            $0.lastContent = content
            $0.lastError = nil
        }
        // The publisher numbers versions and skips content equal to what is served (a
        // refused edit reverted); it throws only when the store cannot record it.
        let outcome: Publisher.Outcome?
        do {
            outcome = try publisher.fileChangedOnQueue(parsed)
        } catch {
            let refused = DeclaredSnapshotError(file: path, line: nil, field: nil, reason: "not published: \(error)")
            state.withLock { $0.lastError = refused }
            throw refused
        }
        guard let outcome, outcome.published else { return nil }
        state.withLock { $0.published = outcome.version }
        logger.info("published snapshot from file", metadata: ["version": "\(outcome.version)", "file": "\(path)"])
        return outcome
    }

    /// Polls until the task is cancelled.
    public func watch() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            _ = try? await reload()
        }
    }
}
