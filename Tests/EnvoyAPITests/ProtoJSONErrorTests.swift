import EnvoyAPI
import Testing

@Suite struct ProtoJSONErrorTests {
    private func error(_ json: JSON, _ type: MessageType) -> TranscodeError? {
        do {
            _ = try ProtoJSON.encode(json, as: type)
            return nil
        } catch {
            return error
        }
    }

    private func listenerWithRouteConfig(_ routeConfig: JSON) -> JSON {
        let manager: JSON = [
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "route_config": routeConfig,
        ]
        return ["filter_chains": [["filters": [["name": "hcm", "typed_config": manager]]]]]
    }

    @Test func unknownFieldInsideAnyNamesFullPathAndType() throws {
        let failure = try #require(error(listenerWithRouteConfig(["virtual_host": []]), ResourceFixtures.listenerType))
        #expect(failure.path.description == "filter_chains[0].filters[0].typed_config.route_config.virtual_host")
        #expect(failure.reason == "unknown field \"virtual_host\" in envoy.config.route.v3.RouteConfiguration")
        #expect(failure.description.contains("filter_chains[0].filters[0].typed_config.route_config.virtual_host: unknown field"))
    }

    @Test func wrongJSONKindNamesThePath() throws {
        let failure = try #require(error(["endpoints": [["lb_endpoints": "oops"]]], ResourceFixtures.endpointType))
        #expect(failure.path.description == "endpoints[0].lb_endpoints")
        #expect(failure.reason.contains("expected an array"))
        let port = try #require(error(["address": ["socket_address": ["port_value": true]]], ResourceFixtures.listenerType))
        #expect(port.path.description == "address.socket_address.port_value")
    }

    @Test func badEnumNameIsRejected() throws {
        let failure = try #require(error(["lb_policy": "FASTEST"], ResourceFixtures.clusterType))
        #expect(failure.path.description == "lb_policy")
        #expect(failure.reason.contains("\"FASTEST\""))
        #expect(failure.reason.contains("envoy.config.cluster.v3.Cluster.LbPolicy"))
    }

    @Test func badDurationIsRejected() throws {
        for bad: JSON in ["1.5", "5m", "1.0000000001s", 5] {
            let failure = try #require(error(["connect_timeout": bad], ResourceFixtures.clusterType))
            #expect(failure.path.description == "connect_timeout")
            #expect(failure.reason.contains("Duration"))
        }
    }

    @Test func outOfRangeIntegerIsRejected() throws {
        let failure = try #require(error(["per_connection_buffer_limit_bytes": -1], ResourceFixtures.clusterType))
        #expect(failure.path.description == "per_connection_buffer_limit_bytes")
        #expect(error(["per_connection_buffer_limit_bytes": 1.5], ResourceFixtures.clusterType) != nil)
    }

    @Test func unknownAnyTypeURLIsNamed() throws {
        let json: JSON = ["filter_chains": [["filters": [["typed_config": ["@type": "type.googleapis.com/acme.Nope"]]]]]]
        let failure = try #require(error(json, ResourceFixtures.listenerType))
        #expect(failure.path.description == "filter_chains[0].filters[0].typed_config.@type")
        #expect(failure.reason.contains("acme.Nope"))
    }

    @Test func decodingAnUnknownAnyTypeIsAnError() throws {
        let anyType = try #require(MessageType.named("google.protobuf.Any"))
        // Any{type_url: "x/unknown.T"} written by hand: field 1, length 11.
        let bytes: [UInt8] = [0x0A, 11] + Array("x/unknown.T".utf8)
        #expect(throws: TranscodeError.self) { try ProtoJSON.decode(bytes, as: anyType) }
    }

    @Test func garbageBytesAreATypedError() {
        #expect(throws: TranscodeError.self) { try ProtoJSON.decode([0xFF, 0xFF, 0xFF], as: ResourceFixtures.clusterType) }
    }

    @Test func unknownTypesAreNotFound() {
        #expect(MessageType.named("acme.Nope") == nil)
        #expect(MessageType.forTypeURL(TypeURL.secret)?.fullName == "envoy.extensions.transport_sockets.tls.v3.Secret")
        #expect(MessageType.forTypeURL(TypeURL.cluster)?.typeURL == TypeURL.cluster)
    }
}
