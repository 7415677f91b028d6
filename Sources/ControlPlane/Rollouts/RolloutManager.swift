import Foundation
public import Logging
import ProcessSupport
public import Registry
public import XDS

/// Runs rollouts (docs/rollouts.md): stages the new version, pins the proxies of each
/// step to it, observes them every `tick` and applies what the controller decides. The
/// rollouts are persisted in the store, so a restart resumes the running one where it was.
/// One rollout at a time; an actor, so starts, ticks, promotes and aborts never interleave
/// (a flag covers the awaits inside a start).
public actor RolloutManager {
    public struct Request: Sendable, Equatable {
        public var target: Publisher.RolloutTarget
        public var steps: [Int]
        public var stepSeconds: Double
        public var maxErrorRatio: Double
        public init(target: Publisher.RolloutTarget, steps: [Int], stepSeconds: Double, maxErrorRatio: Double) {
            self.target = target
            self.steps = steps
            self.stepSeconds = stepSeconds
            self.maxErrorRatio = maxErrorRatio
        }
    }

    /// How many finished rollouts the history keeps.
    static let kept = 20
    static let settingKey = "rollouts"

    let publisher: Publisher
    let cache: SnapshotCache
    let proxies: ProxyRegistry
    let loads: LoadReports
    let store: any ControlStore
    let logger: Logger
    let tick: Duration
    /// This replica's id on a shared store; nil on the embedded one.
    let replica: String?

    /// Oldest first.
    var rollouts: [Rollout]
    /// The running rollout's version, built.
    var staged: Publisher.Published?
    var starting = false
    var loop: Task<Void, Never>?
    /// On a replica following a rollout another one runs: its own proxies pinned so far,
    /// and the task that watches them for a reason to abort.
    var followerMoved: Set<String> = []
    var watch: Task<Void, Never>?

    public init(publisher: Publisher, proxies: ProxyRegistry, loads: LoadReports, logger: Logger, tick: Duration = .milliseconds(200),
                replica: String? = nil, persisted: [Rollout]) {
        self.replica = replica
        self.publisher = publisher
        cache = publisher.cache
        self.proxies = proxies
        self.loads = loads
        store = publisher.store
        self.logger = logger
        self.tick = tick
        rollouts = persisted
    }

    /// The rollouts kept in `store`, oldest first.
    public static func persisted(in store: any ControlStore) throws -> [Rollout] {
        guard let text = try store.setting(settingKey), !text.isEmpty else { return [] }
        do {
            return try JSONDecoder().decode([Rollout].self, from: Data(text.utf8))
        } catch {
            throw RegistryError(.storage, "the stored rollouts cannot be read: \(error)")
        }
    }

    public var current: Rollout? { rollouts.last }
    public var history: [Rollout] { rollouts.reversed() }
    public var isRunning: Bool { starting || rollouts.last?.isRunning == true }

    /// After a restart: a running rollout's version is rebuilt and its proxies pinned again.
    public func resume() async {
        guard let rollout = rollouts.last, rollout.isRunning else { return }
        // Another replica's rollout stays with it (two controllers would step it apart);
        // this one follows it.
        guard rollout.owner == replica else { return await followElsewhere() }
        do {
            try await takeOver(rollout)
            try await apply([.pin(rollout.moved)], for: rollout)
            logger.info("rollout resumed", metadata: ["id": "\(rollout.id)", "version": "\(rollout.version)", "step": "\(rollout.step)"])
            startLoop()
        } catch {
            logger.error("rollout cannot resume; aborting it", metadata: ["id": "\(rollout.id)", "error": "\(error)"])
            _ = try? await settle(RolloutController.abort(rollout, .operator, at: Date()))
        }
    }

    public func start(_ request: Request) async throws -> Rollout {
        guard !isRunning else { throw RegistryError(.conflict, "rollout \(rollouts.last?.id ?? 0) is still running: promote or abort it first") }
        starting = true
        defer { starting = false }
        let priorMode = publisher.mode
        // Manual first, so that no registry change publishes to everyone meanwhile.
        try await publisher.setMode(.manual, publishPending: false)
        let built: Publisher.Published
        do {
            built = try await publisher.stage(request.target)
        } catch {
            if priorMode == .auto { _ = try? await publisher.setMode(.auto) }
            throw error
        }
        guard let previous = publisher.current else { throw RegistryError(.conflict, "nothing is published yet") }
        staged = built
        let rollout = Rollout(
            id: (rollouts.last?.id ?? 0) + 1, version: built.versionString, previousVersion: previous.versionString, steps: request.steps,
            stepSeconds: request.stepSeconds, maxErrorRatio: request.maxErrorRatio, at: Date(), priorMode: priorMode.rawValue)
        var (first, effects) = RolloutController.start(rollout, nodes: Set(proxies.all.map(\.node.id)).sorted())
        first.owner = replica
        rollouts.append(first)
        try await apply(effects, for: first)
        try await persist()
        logger.info("rollout started", metadata: ["id": "\(first.id)", "version": "\(first.version)", "from": "\(first.previousVersion)",
                                                  "moved": "\(first.moved.sorted())"])
        startLoop()
        return first
    }

    public func promote() async throws -> Rollout {
        guard let rollout = rollouts.last, rollout.isRunning else { throw RegistryError(.conflict, "no rollout is running") }
        try await takeOver(rollout)
        return try await settle(RolloutController.promote(rollout, at: Date()))
    }

    public func abort() async throws -> Rollout {
        guard let rollout = rollouts.last, rollout.isRunning else { throw RegistryError(.conflict, "no rollout is running") }
        try await takeOver(rollout)
        return try await settle(RolloutController.abort(rollout, .operator, at: Date()))
    }

    /// Builds a running rollout's version here: to resume it after a restart, to follow it
    /// from another replica, or to end it through a replica that does not run it.
    func takeOver(_ rollout: Rollout) async throws {
        guard staged == nil else { return }
        guard let number = Int(rollout.version.dropFirst()), let built = try await publisher.historical(number) else {
            throw RegistryError.notFound("\(rollout.version) (no longer in history)")
        }
        staged = built
    }

    /// One observation of the running rollout.
    func observe() async {
        guard !starting, let rollout = rollouts.last, rollout.isRunning else { return }
        do {
            _ = try await settle(RolloutController.observe(rollout, observation(of: rollout)))
        } catch {
            logger.error("rollout step failed", metadata: ["id": "\(rollout.id)", "error": "\(error)"])
        }
    }

    /// Follows rollouts another replica runs (docs/rollouts.md, "Limits"): this replica's
    /// view of them is the store's, unless it runs one itself. Until cancelled.
    public func followStore() async {
        for await key in store.settingChanges() where key == Self.settingKey {
            let store = self.store
            guard !starting, let stored = try? await offCooperativePool({ try Self.persisted(in: store) }) else { continue }
            if let mine = rollouts.last, mine.isRunning, loop != nil {
                // Ended through another replica: carry out its end here too.
                guard let theirs = stored.last(where: { $0.id == mine.id }), !theirs.isRunning else { continue }
                rollouts = stored
                do {
                    try await apply(theirs.state == .aborted ? [.revert] : [.serveToAll], for: theirs)
                } catch {
                    logger.error("could not carry out a rollout's end decided elsewhere", metadata: ["id": "\(theirs.id)", "error": "\(error)"])
                }
                staged = nil
                stop()
                continue
            }
            rollouts = stored
            await followElsewhere()
        }
    }

    public func stop() {
        loop?.cancel()
        loop = nil
        watch?.cancel()
        watch = nil
    }

    func observation(of rollout: Rollout) -> RolloutObservation {
        let byNode = Dictionary(grouping: proxies.all, by: \.node.id)
        let seen = byNode.map { node, streams -> RolloutObservation.Proxy in
            var nack: (type: String, message: String)?
            for stream in streams {
                for (type, status) in stream.types where status.state == .nacked && status.sentVersion == rollout.version {
                    nack = (type.collectionName, status.nackMessage ?? "")
                }
            }
            return .init(node: node, synced: streams.allSatisfy { $0.isSynced(on: rollout.version) }, nack: nack)
        }
        let load = loads.load(ofVersion: rollout.version)
        return RolloutObservation(now: Date(), proxies: seen, requests: load.requests, errors: load.errors)
    }

    /// Records the controller's decision and carries out its effects.
    @discardableResult
    func settle(_ decision: (Rollout, [RolloutEffect])) async throws -> Rollout {
        let (next, effects) = decision
        guard let index = rollouts.indices.last else { return next }
        // The error ratio moves with every report; only a decision is worth a write.
        var before = rollouts[index]
        before.errorRatio = next.errorRatio
        let decided = before != next
        rollouts[index] = next
        try await apply(effects, for: next)
        if decided { try await persist() }
        if !next.isRunning {
            staged = nil
            stop()
            logger.info("rollout ended", metadata: ["id": "\(next.id)", "state": "\(next.state.rawValue)", "reason": "\(next.reason.map { "\($0)" } ?? "-")"])
        }
        return next
    }

    func apply(_ effects: [RolloutEffect], for rollout: Rollout) async throws {
        for effect in effects {
            switch effect {
            case .pin(let nodes):
                guard let staged else { continue }
                cache.setPins(Dictionary(uniqueKeysWithValues: nodes.map { ($0, staged.generation) }))
            case .serveToAll:
                if let staged { try await publisher.adopt(staged) }
                cache.setPins([:])
                if rollout.priorMode == Publisher.Mode.auto.rawValue { try await publisher.setMode(.auto) }
            case .revert:
                cache.setPins([:])
                try await publisher.setMode(.manual, publishPending: false)
            }
        }
    }

    private func persist() async throws {
        let kept = Array(rollouts.suffix(Self.kept))
        rollouts = kept
        let text = String(decoding: try JSONEncoder().encode(kept), as: UTF8.self)
        let store = self.store
        try await offCooperativePool { try store.setSetting(Self.settingKey, text) }
    }

    private func startLoop() {
        guard loop == nil else { return }
        loop = ticking { await $0.observe() }
    }

    /// `body` every tick until cancelled (or this manager is gone).
    func ticking(_ body: @escaping @Sendable (RolloutManager) async -> Void) -> Task<Void, Never> {
        let tick = self.tick
        return Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                guard let self else { return }
                await body(self)
            }
        }
    }
}
