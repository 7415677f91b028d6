import Foundation

/// Following a rollout another replica runs (docs/rollouts.md, "Limits").
extension RolloutManager {
    /// A rollout another replica runs reaches this replica's proxies too: each step pins
    /// the same share of them (chosen by the same hash), and a NACK or an error ratio seen
    /// here aborts it for every replica. Steps advance on the running replica's proxies.
    func followElsewhere() async {
        guard loop == nil, !starting else { return }
        guard let rollout = rollouts.last, rollout.isRunning else {
            if watch != nil || !followerMoved.isEmpty { await endFollowing(rollouts.last) }
            return
        }
        do {
            try await takeOver(rollout)
            followerMoved.formUnion(Rollout.chosen(from: Set(proxies.all.map(\.node.id)), percent: rollout.stepPercent))
            try await apply([.pin(followerMoved)], for: rollout)
        } catch {
            logger.error("could not follow a rollout another replica runs", metadata: ["id": "\(rollout.id)", "error": "\(error)"])
            return
        }
        guard watch == nil else { return }
        watch = ticking { await $0.watchForAbort() }
    }

    /// One look at this replica's pinned proxies: only an abort is decided here.
    func watchForAbort() async {
        guard loop == nil, !starting, var rollout = rollouts.last, rollout.isRunning else { return }
        rollout.moved = followerMoved
        let decision = RolloutController.observe(rollout, observation(of: rollout))
        guard decision.0.state == .aborted else { return }
        var aborted = decision.0
        aborted.moved = rollouts.last?.moved ?? []
        do {
            _ = try await settle((aborted, decision.1))
            await endFollowing(aborted)
        } catch {
            logger.error("could not abort a rollout another replica runs", metadata: ["id": "\(rollout.id)", "error": "\(error)"])
        }
    }

    /// The followed rollout ended: a completed one's version is everyone's here too.
    func endFollowing(_ ended: Rollout?) async {
        watch?.cancel()
        watch = nil
        if let ended, ended.state == .completed || ended.state == .promoted, let staged {
            try? await publisher.adopt(staged)
        }
        cache.setPins([:])
        followerMoved = []
        staged = nil
    }
}
