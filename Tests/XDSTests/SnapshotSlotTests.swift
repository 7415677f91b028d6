import Testing
@testable import XDS

@Test func aSlowStreamGetsOnlyTheNewestOfTheSnapshotsPublishedMeanwhile() {
    let slot = SnapshotSlot<Snapshot>()
    #expect(slot.put(mesh("v1")))           // empty: the stream needs a wake-up
    #expect(!slot.put(mesh("v2")))          // already pending: overwritten, no second wake-up
    #expect(!slot.put(mesh("v3")))
    #expect(slot.take()?.version == "v3")
    #expect(slot.take() == nil)
    #expect(slot.put(mesh("v4")))
}

@Test func anOlderDeliveryNeverReplacesANewerOne() {
    let slot = SnapshotSlot<Snapshot>()
    #expect(slot.put(mesh("v2"), order: 2))
    #expect(!slot.put(mesh("v1"), order: 1))   // raced behind v2: dropped
    #expect(slot.take()?.version == "v2")
    #expect(!slot.put(mesh("v1"), order: 1), "still older than what was taken")
    #expect(slot.take() == nil)
}
