public import Foundation

/// What the rollout controller sees at one moment: the connected proxies and the load
/// reported by those on the new version. Gathered by the manager; the controller does no
/// I/O, so every decision is unit-tested step by step.
public struct RolloutObservation: Sendable {
    public struct Proxy: Sendable {
        public var node: String
        /// Holds the rollout's version: every type it was sent is ACKed at it.
        public var synced: Bool
        /// A refusal of the rollout's version: the type and Envoy's message.
        public var nack: (type: String, message: String)?

        public init(node: String, synced: Bool, nack: (type: String, message: String)? = nil) {
            self.node = node
            self.synced = synced
            self.nack = nack
        }
    }

    public var now: Date
    public var proxies: [Proxy]
    /// Requests and errors (5xx, failed connections) that proxies reported while on the
    /// rollout's version.
    public var requests: Int
    public var errors: Int

    public init(now: Date, proxies: [Proxy], requests: Int = 0, errors: Int = 0) {
        self.now = now
        self.proxies = proxies
        self.requests = requests
        self.errors = errors
    }
}

/// What the manager must do after a decision.
public enum RolloutEffect: Sendable, Equatable {
    /// Hold these proxies on the rollout's version; every other one on the previous.
    case pin(Set<String>)
    /// Serve the rollout's version to everyone (completed or promoted).
    case serveToAll
    /// Every proxy back on the previous version; publishing switches to manual.
    case revert
}

/// The rollout state machine (docs/rollouts.md): start, then on every observation hold,
/// advance a step, complete or abort; promote and abort on the operator's word.
public enum RolloutController {
    /// The first step's proxies move.
    public static func start(_ rollout: Rollout, nodes: [String]) -> (Rollout, [RolloutEffect]) {
        var next = rollout
        next.moved = Rollout.chosen(from: nodes, percent: rollout.steps[0])
        return (next, [.pin(next.moved)])
    }

    public static func observe(_ rollout: Rollout, _ seen: RolloutObservation) -> (Rollout, [RolloutEffect]) {
        guard rollout.isRunning else { return (rollout, []) }
        var next = rollout
        // A refusal by any proxy on the new version ends it at once: the version is bad
        // for that proxy, and it keeps serving its previous version meanwhile.
        if let refusing = seen.proxies.first(where: { rollout.moved.contains($0.node) && $0.nack != nil }), let nack = refusing.nack {
            return abort(next, .nack(node: refusing.node, type: nack.type, message: nack.message), at: seen.now)
        }
        if seen.requests > 0 {
            let ratio = Double(seen.errors) / Double(seen.requests)
            next.errorRatio = ratio
            if ratio > rollout.maxErrorRatio {
                return abort(next, .errorRatio(ratio: ratio, max: rollout.maxErrorRatio), at: seen.now)
            }
        }
        // Advance only when every connected proxy of the step holds the version (an
        // unconnected one gets it on connecting), and the step has lasted its time.
        let stepProxies = seen.proxies.filter { rollout.moved.contains($0.node) }
        guard stepProxies.allSatisfy(\.synced), seen.now.timeIntervalSince(rollout.stepStartedAt) >= rollout.stepSeconds else {
            return (next, [])
        }
        guard rollout.step + 1 < rollout.steps.count else {
            next.state = .completed
            next.endedAt = seen.now
            return (next, [.serveToAll])
        }
        next.step += 1
        next.stepStartedAt = seen.now
        next.moved.formUnion(Rollout.chosen(from: seen.proxies.map(\.node), percent: rollout.steps[next.step]))
        return (next, [.pin(next.moved)])
    }

    /// Everyone at once.
    public static func promote(_ rollout: Rollout, at now: Date) -> (Rollout, [RolloutEffect]) {
        guard rollout.isRunning else { return (rollout, []) }
        var next = rollout
        next.state = .promoted
        next.endedAt = now
        return (next, [.serveToAll])
    }

    public static func abort(_ rollout: Rollout, _ reason: Rollout.Reason, at now: Date) -> (Rollout, [RolloutEffect]) {
        guard rollout.isRunning else { return (rollout, []) }
        var next = rollout
        next.state = .aborted
        next.reason = reason
        next.endedAt = now
        return (next, [.revert])
    }
}
