import Testing
@testable import XDS

@Suite struct SnapshotTests {
    @Test func theSameContentHasTheSameHashWhateverItsVersion() {
        #expect(mesh("v1").contentHash == mesh("v7").contentHash)
        #expect(mesh("v1").contentHash != mesh("v1", endpoints: "10.0.0.9").contentHash)
        #expect(mesh("v1").relabeled("v9").contentHash == mesh("v1").contentHash)
    }

    @Test func aTypesHashIsTheHashOfItsResources() {
        let snapshot = mesh("v1", clusters: ["a", "b"])
        for type in ResourceType.allCases {
            #expect(snapshot.typeHash(type) == Snapshot.hash(of: snapshot.resources(type)))
        }
        #expect(snapshot.typeHash(.cluster) != mesh("v1", clusters: ["a"]).typeHash(.cluster))
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
