import EnvoyAPI
import Testing

@Suite struct ProtoJSONRoundTripTests {
    private func roundTrip(_ text: String, _ type: MessageType) throws -> (JSON, JSON) {
        let original = ResourceFixtures.json(text)
        let bytes = try ProtoJSON.encode(original, as: type)
        #expect(!bytes.isEmpty)
        return (original, try ProtoJSON.decode(bytes, as: type))
    }

    @Test func listenerWithHttpConnectionManagerOverRDSRoundTrips() throws {
        let (original, decoded) = try roundTrip(ResourceFixtures.listener, ResourceFixtures.listenerType)
        #expect(decoded == original)
    }

    @Test func edsClusterWithDurationWrappersAndEnumRoundTrips() throws {
        let (original, decoded) = try roundTrip(ResourceFixtures.cluster, ResourceFixtures.clusterType)
        #expect(decoded == original)
        #expect(decoded["connect_timeout"] == "1.500s")
        #expect(decoded["circuit_breakers"]?["thresholds"]?[0]?["max_retries"] == 3)
    }

    @Test func routeWithWeightedClustersRetryPolicyAndHeaderMatchRoundTrips() throws {
        let (original, decoded) = try roundTrip(ResourceFixtures.route, ResourceFixtures.routeType)
        #expect(decoded == original)
    }

    @Test func clusterLoadAssignmentWithLocalityDrainingAndWeightRoundTrips() throws {
        let (original, decoded) = try roundTrip(ResourceFixtures.endpoints, ResourceFixtures.endpointType)
        #expect(decoded == original)
    }

    @Test func structValueAndListValueRoundTripArbitraryJSON() throws {
        let type = try #require(MessageType.named("google.protobuf.Struct"))
        let original: JSON = ["a": 1.5, "b": ["x", true, nil, ["nested": "y"]], "c": [:], "d": "text"]
        #expect(try ProtoJSON.decode(ProtoJSON.encode(original, as: type), as: type) == original)
    }

    @Test func lowerCamelCaseNamesAreAcceptedAndCanBeProduced() throws {
        let json: JSON = ["clusterName": "a", "endpoints": [["lbEndpoints": [["loadBalancingWeight": 2]]]]]
        let bytes = try ProtoJSON.encode(json, as: ResourceFixtures.endpointType)
        let camel = try ProtoJSON.decode(bytes, as: ResourceFixtures.endpointType, fieldNames: .json)
        #expect(camel == json)
        let snake = try ProtoJSON.decode(bytes, as: ResourceFixtures.endpointType)
        #expect(snake["cluster_name"] == "a")
    }

    @Test func defaultsAreOmittedAndNullMeansUnset() throws {
        let json: JSON = ["name": "", "lb_policy": "ROUND_ROBIN", "connect_timeout": nil, "respect_dns_ttl": false]
        let bytes = try ProtoJSON.encode(json, as: ResourceFixtures.clusterType)
        #expect(bytes.isEmpty)
        #expect(try ProtoJSON.decode(bytes, as: ResourceFixtures.clusterType) == [:])
    }

    @Test func setOneofMembersAndWrappersKeepTheirDefaultValues() throws {
        // `type` is in a oneof and the limit is a UInt32Value: both have presence.
        let json: JSON = ["type": "STATIC", "per_connection_buffer_limit_bytes": 0]
        let decoded = try ProtoJSON.decode(ProtoJSON.encode(json, as: ResourceFixtures.clusterType), as: ResourceFixtures.clusterType)
        #expect(decoded == json)
    }

    @Test func numbersAndStringsAreAcceptedInEitherSpelling() throws {
        // YAML gives numbers for `1.0`; proto3 JSON allows integers as strings.
        let json: JSON = ["name": 1.0, "per_connection_buffer_limit_bytes": "4096", "lb_policy": 1]
        let decoded = try ProtoJSON.decode(ProtoJSON.encode(json, as: ResourceFixtures.clusterType), as: ResourceFixtures.clusterType)
        #expect(decoded == ["name": "1", "per_connection_buffer_limit_bytes": 4096, "lb_policy": "LEAST_REQUEST"])
    }

    @Test func int64IsPrintedAsStringAndDurationsAreCanonical() throws {
        let type = try #require(MessageType.named("google.protobuf.Duration"))
        for (input, output) in [("1.5s", "1.500s"), ("-0.000001s", "-0.000001s"), ("0s", "0s"), ("3600s", "3600s")] {
            #expect(try ProtoJSON.decode(ProtoJSON.encode(.string(input), as: type), as: type) == .string(output))
        }
        let int64 = try #require(MessageType.named("google.protobuf.Int64Value"))
        #expect(try ProtoJSON.decode(ProtoJSON.encode(42 as JSON, as: int64), as: int64) == "42")
        #expect(try ProtoJSON.decode(ProtoJSON.encode("9223372036854775807", as: int64), as: int64) == "9223372036854775807")
    }

    @Test func timestampsUseRFC3339() throws {
        let type = try #require(MessageType.named("google.protobuf.Timestamp"))
        let decoded = try ProtoJSON.decode(ProtoJSON.encode("2024-02-29T23:59:58.250+01:00", as: type), as: type)
        #expect(decoded == "2024-02-29T22:59:58.250Z")
        #expect(try ProtoJSON.decode(ProtoJSON.encode("1969-12-31T23:59:59Z", as: type), as: type) == "1969-12-31T23:59:59Z")
    }

    @Test func anyHoldingAWellKnownTypeUsesValue() throws {
        let type = try #require(MessageType.named("google.protobuf.Any"))
        let json: JSON = ["@type": "type.googleapis.com/google.protobuf.Duration", "value": "2s"]
        #expect(try ProtoJSON.decode(ProtoJSON.encode(json, as: type), as: type) == json)
    }

    @Test func repeatedEncodeDecodeDoesNotGrowMemory() throws {
        // Sanity check that the arena and free_unpacked paths run; not a timed test.
        let json = ResourceFixtures.json(ResourceFixtures.listener)
        for _ in 0..<2_000 {
            let bytes = try ProtoJSON.encode(json, as: ResourceFixtures.listenerType)
            _ = try ProtoJSON.decode(bytes, as: ResourceFixtures.listenerType)
        }
    }
}
