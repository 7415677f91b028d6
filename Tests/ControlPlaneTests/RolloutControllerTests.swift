import ControlPlane
import Foundation
import Testing

/// The rollout state machine, one decision at a time (docs/rollouts.md).
@Suite struct RolloutControllerTests {
    let t0 = Date(timeIntervalSince1970: 1_000_000)
    let nodes = ["envoy-a", "envoy-b", "envoy-c", "envoy-d"]

    func started(steps: [Int] = [10, 50, 100], seconds: Double = 30, maxRatio: Double = 0.05) -> Rollout {
        let rollout = Rollout(id: 1, version: "v8", previousVersion: "v7", steps: steps, stepSeconds: seconds, maxErrorRatio: maxRatio,
                              at: t0, priorMode: "auto")
        return RolloutController.start(rollout, nodes: nodes).0
    }

    func seen(_ rollout: Rollout, after seconds: Double, synced: Bool = true, requests: Int = 0, errors: Int = 0) -> RolloutObservation {
        RolloutObservation(
            now: t0.addingTimeInterval(seconds),
            proxies: nodes.map { .init(node: $0, synced: rollout.moved.contains($0) ? synced : false) },
            requests: requests, errors: errors)
    }

    @Test func theFirstStepMovesOneProxyInTenPercentOfFourAndPinsIt() {
        let rollout = Rollout(id: 1, version: "v8", previousVersion: "v7", steps: [10, 50, 100], stepSeconds: 30, maxErrorRatio: 0.05,
                              at: t0, priorMode: "auto")
        let (first, effects) = RolloutController.start(rollout, nodes: nodes)
        #expect(first.moved.count == 1)
        #expect(effects == [.pin(first.moved)])
        #expect(first.state == .running && first.step == 0)
    }

    @Test func chosenProxiesDependOnlyOnNodeIdsAndGrowWithThePercentage() {
        let ten = Rollout.chosen(from: nodes, percent: 10)
        #expect(Rollout.chosen(from: nodes.reversed(), percent: 10) == ten)
        let half = Rollout.chosen(from: nodes, percent: 50)
        #expect(half.count == 2 && half.isSuperset(of: ten))
        #expect(Rollout.chosen(from: nodes, percent: 100) == Set(nodes))
        #expect(Rollout.chosen(from: nodes, percent: 0).isEmpty)
        #expect(Rollout.chosen(from: [String](), percent: 50).isEmpty)
    }

    @Test func aStepHoldsUntilItsTimePassedAndItsProxiesAreSynced() {
        let rollout = started()
        #expect(RolloutController.observe(rollout, seen(rollout, after: 10)).1.isEmpty)
        #expect(RolloutController.observe(rollout, seen(rollout, after: 40, synced: false)).1.isEmpty)
        let (next, effects) = RolloutController.observe(rollout, seen(rollout, after: 40))
        #expect(next.step == 1)
        #expect(next.moved.count == 2 && next.moved.isSuperset(of: rollout.moved))
        #expect(effects == [.pin(next.moved)])
        #expect(next.stepStartedAt == t0.addingTimeInterval(40))
    }

    @Test func theLastStepCompletesAndServesEveryone() {
        var rollout = started()
        rollout = RolloutController.observe(rollout, seen(rollout, after: 30)).0
        rollout = RolloutController.observe(rollout, seen(rollout, after: 60)).0
        #expect(rollout.step == 2 && rollout.moved == Set(nodes))
        #expect(RolloutController.observe(rollout, seen(rollout, after: 70)).1.isEmpty)
        let (done, effects) = RolloutController.observe(rollout, seen(rollout, after: 90))
        #expect(done.state == .completed && done.endedAt != nil)
        #expect(effects == [.serveToAll])
        // Nothing happens to a finished rollout.
        #expect(RolloutController.observe(done, seen(done, after: 200)).1.isEmpty)
    }

    @Test func aNackOfTheNewVersionAbortsWithTheProxysMessage() {
        let rollout = started()
        let moved = rollout.moved.first!
        var observation = seen(rollout, after: 1, synced: false)
        observation.proxies = nodes.map { .init(node: $0, synced: false, nack: $0 == moved ? ("clusters", "Expected positive duration") : nil) }
        let (aborted, effects) = RolloutController.observe(rollout, observation)
        #expect(aborted.state == .aborted)
        #expect(aborted.reason == .nack(node: moved, type: "clusters", message: "Expected positive duration"))
        #expect(effects == [.revert])
    }

    @Test func aNackFromAProxyNotOnTheNewVersionIsNotTheRolloutsConcern() {
        let rollout = started()
        var observation = seen(rollout, after: 1)
        observation.proxies = nodes.map { .init(node: $0, synced: true, nack: rollout.moved.contains($0) ? nil : ("routes", "old trouble")) }
        #expect(RolloutController.observe(rollout, observation).0.state == .running)
    }

    @Test func anErrorRatioOverTheBoundAbortsAndOneUnderItHolds() {
        let rollout = started(maxRatio: 0.05)
        let (fine, none) = RolloutController.observe(rollout, seen(rollout, after: 5, requests: 100, errors: 5))
        #expect(none.isEmpty && fine.state == .running && fine.errorRatio == 0.05)
        let (aborted, effects) = RolloutController.observe(rollout, seen(rollout, after: 5, requests: 100, errors: 6))
        #expect(aborted.state == .aborted && effects == [.revert])
        #expect(aborted.reason == .errorRatio(ratio: 0.06, max: 0.05))
    }

    @Test func noReportedTrafficLeavesTheRatioUnknownAndDoesNotAbort() {
        let rollout = started()
        let (next, _) = RolloutController.observe(rollout, seen(rollout, after: 31))
        #expect(next.errorRatio == nil && next.state == .running)
    }

    @Test func promoteServesEveryoneAndAbortRevertsOnlyARunningRollout() {
        let rollout = started()
        let (promoted, effects) = RolloutController.promote(rollout, at: t0)
        #expect(promoted.state == .promoted && effects == [.serveToAll])
        #expect(RolloutController.abort(promoted, .operator, at: t0).1.isEmpty)
        let (aborted, revert) = RolloutController.abort(rollout, .operator, at: t0)
        #expect(aborted.state == .aborted && aborted.reason == .operator && revert == [.revert])
    }

    @Test func aRestoredRolloutResumesFromItsPersistedStep() throws {
        var rollout = started()
        rollout = RolloutController.observe(rollout, seen(rollout, after: 30)).0
        let restored = try JSONDecoder().decode(Rollout.self, from: JSONEncoder().encode(rollout))
        #expect(restored == rollout)
        // The step's time counts from when it began, not from the restart.
        let (next, effects) = RolloutController.observe(restored, seen(restored, after: 61))
        #expect(next.step == 2 && effects == [.pin(Set(nodes))])
    }
}
