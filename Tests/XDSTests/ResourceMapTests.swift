import ProcessSupport
import Testing
import TestSupport
@testable import XDS

/// The persistent map behind snapshots: a dictionary's behaviour, structure sharing, and
/// a difference that skips what two maps share.
@Suite struct ResourceMapTests {
    @Test func randomUpdatesBehaveLikeADictionaryAndDiffsFindExactlyTheChanges() async throws {
        // Thousands of steps: off the cooperative pool, so the other tests' servers keep running.
        let failure = try await offCooperativePool { Self.firstMismatch() }
        #expect(failure == nil, "\(failure ?? "")")
    }

    /// Where the map first differs from a dictionary driven alike, or nil.
    static func firstMismatch() -> String? {
        var random = SeededGenerator(state: 42)
        var map = ResourceMap()
        var reference: [String: Resource] = [:]
        for step in 0..<3_000 {
            let before = map, beforeReference = reference
            // A few updates per step, as a registry change makes.
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let name = "r\(Int.random(in: 0..<600, using: &random))"
                if Bool.random(using: &random) || reference[name] == nil {
                    let value = resource(.endpoint, name, "\(step)")
                    map.insert(value)
                    reference[name] = value
                } else {
                    guard map.remove(name)?.name == name else { return "step \(step): \(name) not removed" }
                    reference[name] = nil
                }
            }
            guard map.count == reference.count else { return "step \(step): count \(map.count), expected \(reference.count)" }
            let (changed, removed) = map.changes(from: before)
            let expectedChanged = Set(reference.filter { beforeReference[$0.key]?.version != $0.value.version }.keys)
            let expectedRemoved = Set(beforeReference.keys).subtracting(reference.keys)
            guard Set(changed.map(\.name)) == expectedChanged else { return "step \(step): changed \(changed.map(\.name).sorted()), expected \(expectedChanged.sorted())" }
            guard Set(removed) == expectedRemoved else { return "step \(step): removed \(removed.sorted()), expected \(expectedRemoved.sorted())" }
        }
        guard map.dictionary.mapValues(\.version) == reference.mapValues(\.version) else { return "final content differs" }
        for (name, value) in reference where map[name]?.version != value.version { return "lookup of \(name) differs" }
        return map["absent"] == nil ? nil : "an absent name was found"
    }

    @Test func theSameContentBuiltInAnotherOrderIsEqual() {
        let names = (0..<500).map { "n\($0)" }
        let forward = ResourceMap(names.map { resource(.cluster, $0) })
        var backward = ResourceMap(names.reversed().map { resource(.cluster, $0) })
        #expect(forward == backward)
        #expect(forward.contentHash == backward.contentHash && forward.namesHash == backward.namesHash)
        backward.insert(resource(.cluster, "n7", "changed"))
        #expect(forward != backward)
        #expect(forward.namesHash == backward.namesHash)
    }

    @Test func anUpdateSharesEverythingElseSoTheDiffIsTheUpdate() {
        let big = ResourceMap((0..<10_000).map { resource(.endpoint, "e\($0)") })
        var next = big
        next.insert(resource(.endpoint, "e5000", "moved"))
        let (changed, removed) = next.changes(from: big)
        #expect(changed.map(\.name) == ["e5000"])
        #expect(removed.isEmpty)
        #expect(big.changes(from: big).changed.isEmpty)
        #expect(big["e5000"]?.version == resource(.endpoint, "e5000").version, "the original is untouched")
    }

    @Test func removingEveryEntryLeavesAnEmptyMap() {
        var map = ResourceMap((0..<200).map { resource(.route, "x\($0)") })
        for index in 0..<200 { map.remove("x\(index)") }
        #expect(map.isEmpty && map.namesHash == 0 && map.contentHash == 0)
        #expect(map == ResourceMap())
    }
}

extension ResourceMapTests {
    @Test func aMapBuiltWholeEqualsOneBuiltByInserts() {
        let resources = (0..<3_000).map { resource(.cluster, "c\($0)", "\($0 % 7)") }
        let (bulk, duplicate) = ResourceMap.bulk(resources)
        #expect(duplicate == nil)
        let inserted = ResourceMap(resources.reversed())
        #expect(bulk == inserted)
        #expect(bulk?.changes(from: inserted).changed.isEmpty == true)
        #expect(ResourceMap.bulk(resources + [resource(.cluster, "c42", "again")]).duplicate == "c42")
    }
}
