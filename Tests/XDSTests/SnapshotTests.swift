import Testing
@testable import XDS

@Suite struct SnapshotTests {
    @Test func theSameContentHasTheSameHashWhateverItsVersion() {
        #expect(mesh("v1").contentHash == mesh("v7").contentHash)
        #expect(mesh("v1").contentHash != mesh("v1", endpoints: "10.0.0.9").contentHash)
        #expect(mesh("v1").relabeled("v9").contentHash == mesh("v1").contentHash)
    }

    @Test func aTypesHashDependsOnItsResourcesOnly() {
        let snapshot = mesh("v1", clusters: ["a", "b"])
        let reordered = try! Snapshot(version: "v2", resources: snapshot.allResources.reversed())
        for type in ResourceType.allCases {
            #expect(snapshot.typeHash(type) == reordered.typeHash(type))
        }
        #expect(snapshot.typeHash(.cluster) != mesh("v1", clusters: ["a"]).typeHash(.cluster))
        #expect(snapshot.typeHash(.endpoint) != mesh("v1", endpoints: "10.0.0.9", clusters: ["a", "b"]).typeHash(.endpoint))
    }

    @Test func anUpdatedSnapshotEqualsOneBuiltWhole() throws {
        let before = mesh("v1", clusters: ["a", "b"])
        let after = try before.updating(
            version: "v2", upserting: [resource(.cluster, "c"), resource(.endpoint, "c", "10.0.0.1"), resource(.endpoint, "a", "10.0.0.9")],
            removing: [Resource.Reference(.cluster, "b"), Resource.Reference(.endpoint, "b")])
        var whole = mesh("v2", clusters: ["a", "c"]).allResources.filter { !($0.type == .endpoint && $0.name == "a") }
        whole.append(resource(.endpoint, "a", "10.0.0.9"))
        #expect(after == (try Snapshot(version: "v2", resources: whole)))
        #expect(after.contentHash == (try Snapshot(version: "v9", resources: whole)).contentHash)
        // The previous snapshot is untouched.
        #expect(before.resource(.cluster, named: "b") != nil)
    }

    @Test func anUpdateRefusesADanglingReference() {
        let cluster = Resource(type: .cluster, name: "x", body: [], dependencies: [Resource.Reference(.endpoint, "x")])
        #expect(throws: SnapshotError.dangling(["CDS \"x\" needs EDS \"x\""])) {
            try mesh("v1").updating(version: "v2", upserting: [cluster], removing: [])
        }
    }

    @Test func eachResourceVersionIsAHashOfItsBytes() {
        #expect(Resource(type: .cluster, name: "a", body: [1, 2]).version == Resource(type: .route, name: "z", body: [1, 2]).version)
        #expect(Resource(type: .cluster, name: "a", body: [1, 2]).version != Resource(type: .cluster, name: "a", body: [2, 1]).version)
    }

    @Test func duplicateNamesAndDanglingReferencesAreRefused() {
        #expect(throws: SnapshotError.duplicate(Resource.Reference(.cluster, "a"))) {
            try Snapshot(version: "v1", resources: [resource(.cluster, "a"), resource(.cluster, "a")])
        }
        let cluster = Resource(type: .cluster, name: "a", body: [], dependencies: [Resource.Reference(.endpoint, "a")])
        #expect(throws: SnapshotError.dangling(["CDS \"a\" needs EDS \"a\""])) {
            try Snapshot(version: "v1", resources: [cluster])
        }
    }
}
