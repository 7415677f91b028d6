public import Foundation

/// One progressive rollout: which version goes out, in which steps, and how far it got
/// (docs/rollouts.md). A value: the controller computes the next one, the manager
/// persists it, so a restart resumes exactly where it was.
public struct Rollout: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable { case running, completed, aborted, promoted }

    /// Why a rollout stopped short.
    public enum Reason: Sendable, Equatable, Codable {
        /// A proxy on the new version refused it.
        case nack(node: String, type: String, message: String)
        /// Proxies on the new version failed too many requests.
        case errorRatio(ratio: Double, max: Double)
        /// `POST /v1/rollouts/current/abort`.
        case `operator`
    }

    public var id: Int
    /// The version going out, and the one every other proxy keeps.
    public var version: String
    public var previousVersion: String
    /// Percentages of proxies, increasing, the last one 100.
    public var steps: [Int]
    public var stepSeconds: Double
    public var maxErrorRatio: Double
    public var state = State.running
    /// Index into `steps` of the step in progress (or the last reached).
    public var step = 0
    public var startedAt: Date
    public var stepStartedAt: Date
    public var endedAt: Date?
    /// Node ids moved to `version` so far; never shrinks while running.
    public var moved: Set<String> = []
    public var reason: Reason?
    /// The error ratio last seen on the new version (nil: no request reported yet).
    public var errorRatio: Double?
    /// The publishing mode before the rollout, given back when it completes.
    public var priorMode: String
    /// The replica running it, on a shared store (nil on the embedded one): only that
    /// replica resumes it after a restart (docs/rollouts.md, "Limits").
    public var owner: String?

    public init(id: Int, version: String, previousVersion: String, steps: [Int], stepSeconds: Double, maxErrorRatio: Double,
                at now: Date, priorMode: String) {
        self.id = id
        self.version = version
        self.previousVersion = previousVersion
        self.steps = steps
        self.stepSeconds = stepSeconds
        self.maxErrorRatio = maxErrorRatio
        startedAt = now
        stepStartedAt = now
        self.priorMode = priorMode
    }

    public var isRunning: Bool { state == .running }
    public var stepPercent: Int { steps[min(step, steps.count - 1)] }
}

extension Rollout {
    /// The proxies a step of `percent` moves, out of `nodes`: ordered by a stable hash of
    /// the node id (FNV-1a, the same on every replica and after restarts), the first
    /// ⌈percent × n / 100⌉, at least one once the percentage is above zero. A larger
    /// percentage takes a superset, so a proxy never moves back between steps.
    public static func chosen(from nodes: some Sequence<String>, percent: Int) -> Set<String> {
        let ordered = Set(nodes).sorted { (stableHash($0), $0) < (stableHash($1), $1) }
        guard percent > 0, !ordered.isEmpty else { return [] }
        let count = min(ordered.count, max(1, (percent * ordered.count + 99) / 100))
        return Set(ordered.prefix(count))
    }

    static func stableHash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}
