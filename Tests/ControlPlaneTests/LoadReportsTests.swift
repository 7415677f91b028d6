@testable import ControlPlane
import EnvoyAPI
import Testing

/// Load reports add up per service and per version (docs/rollouts.md, "Load reports").
@Suite struct LoadReportsTests {
    @Test func reportsAddUpPerServiceAndVersionAndSubsetsCountForTheirService() {
        let reports = LoadReports()
        reports.record(node: "a", version: "v7", [
            .init(cluster: "echo", succeeded: 8, errors: 2, inFlight: 1),
            .init(cluster: "echo|v2", succeeded: 0, errors: 5, inFlight: 0),
            .init(cluster: "inbound|8080", succeeded: 100, errors: 0, inFlight: 0),
        ])
        reports.record(node: "b", version: "v6", [.init(cluster: "echo", succeeded: 10, errors: 0, inFlight: 3)])
        reports.record(node: "a", version: "v7", [.init(cluster: "echo", succeeded: 5, errors: 0, inFlight: 0)])
        let echo = reports.load(ofService: "echo")
        #expect(echo["v7"]?.requests == 20 && echo["v7"]?.errors == 7)
        // In flight is the latest report per node, not a sum over reports.
        #expect(echo["v7"]?.inFlight == 0 && echo["v7"]?.proxies == 1)
        #expect(echo["v6"]?.requests == 10 && echo["v6"]?.inFlight == 3)
        #expect(reports.load(ofService: "inbound").isEmpty)
        let v7 = reports.load(ofVersion: "v7")
        #expect(v7.requests == 20 && v7.errors == 7 && abs(v7.errorRatio - 0.35) < 1e-9)
        let json = reports.json(ofService: "echo")
        #expect(json["total"]?["requests"]?.numberValue == 30)
        #expect(reports.prometheus().contains(#"sextant_load_errors_total{service="echo",version="v7"} 7"#))
    }

    @Test func envoysLoadStatsRequestIsReadPerClusterOverItsLocalities() throws {
        let request: JSON = ["cluster_stats": [
            ["cluster_name": "echo", "upstream_locality_stats": [
                ["total_successful_requests": "4", "total_error_requests": "1", "total_requests_in_progress": "2"],
                ["total_successful_requests": "6", "total_error_requests": "0"],
            ]],
            ["cluster_name": "idle"],
        ]]
        let samples = LoadReportingService.samples(of: request)
        #expect(samples == [
            .init(cluster: "echo", succeeded: 10, errors: 1, inFlight: 2),
            .init(cluster: "idle", succeeded: 0, errors: 0, inFlight: 0),
        ])
    }

    @Test func aLoadStatsRequestRoundTripsThroughTheGeneratedMessage() throws {
        let type = try #require(MessageType.named("envoy.service.load_stats.v3.LoadStatsRequest"))
        let json: JSON = ["node": ["id": "web-1"], "cluster_stats": [["cluster_name": "echo", "upstream_locality_stats": [
            ["total_successful_requests": "3", "total_error_requests": "2"]]]]]
        let decoded = try ProtoJSON.decode(try ProtoJSON.encode(json, as: type), as: type)
        #expect(decoded["node"]?["id"]?.stringValue == "web-1")
        #expect(LoadReportingService.samples(of: decoded) == [.init(cluster: "echo", succeeded: 3, errors: 2, inFlight: 0)])
    }
}
