import ControlPlane
import EnvoyAPI
import Foundation
import Testing
import TestSupport
import XDS

@Suite struct DeclaredSnapshotTests {
    static let cluster = """
        - "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
          name: echo
          type: EDS
          connectTimeout: 1s
          edsClusterConfig: { edsConfig: { ads: {} } }
        """
    static let assignment = """
        - "@type": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment
          cluster_name: echo
          endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 8080 } } } }] }]
        """

    func parse(_ resources: String...) throws(DeclaredSnapshotError) -> Snapshot {
        try DeclaredSnapshot.parse("resources:\n" + resources.joined(separator: "\n"), file: "test.yaml", version: "v1")
    }

    @Test func theDemoSnapshotLoadsWithAllFourTypes() throws {
        let snapshot = try DeclaredSnapshot.load(path: TestEnvironment.path("Snapshots/demo.yaml"), version: "v1")
        #expect(snapshot.version == "v1")
        #expect(ResourceType.allCases.map { snapshot.count($0) } == [0, 1, 1, 1, 1])
        #expect(snapshot.resource(.route, named: "outbound_http") != nil)
    }

    @Test func resourcesAreNamedByNameOrClusterNameAndEncodedAsTheirType() throws {
        let snapshot = try parse(Self.cluster, Self.assignment)
        let cluster = try #require(snapshot.resource(.cluster, named: "echo"))
        let decoded = try ProtoJSON.decode(cluster.body, as: MessageType.named("envoy.config.cluster.v3.Cluster")!)
        #expect(decoded["connect_timeout"] == .string("1s"))
        #expect(snapshot.resource(.endpoint, named: "echo") != nil)
        #expect(cluster.dependencies == [Resource.Reference(.endpoint, "echo")])
    }

    @Test func anEDSClusterWithoutItsAssignmentIsRefused() {
        #expect { try parse(Self.cluster) } throws: { error in
            "\(error)".contains("CDS \"echo\" needs EDS \"echo\"")
        }
    }

    @Test func aListenerNamingAMissingRouteConfigurationIsRefused() {
        let listener = """
            - "@type": type.googleapis.com/envoy.config.listener.v3.Listener
              name: l
              address: { socket_address: { address: 127.0.0.1, port_value: 1 } }
              filter_chains:
              - filters:
                - name: hcm
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                    stat_prefix: x
                    rds: { route_config_name: missing, config_source: { ads: {} } }
            """
        #expect { try parse(listener) } throws: { "\($0)".contains("LDS \"l\" needs RDS \"missing\"") }
    }

    @Test func anUnknownFieldIsRefusedWithItsLineAndPath() {
        do {
            _ = try DeclaredSnapshot.load(path: TestEnvironment.path("Snapshots/fixtures/invalid-unknown-field.yaml"), version: "v1")
            Issue.record("expected the file to be refused")
        } catch {
            #expect(error.line == 7)
            #expect(error.field == "resources[0].virtual_hosts[0].virtual_host")
            #expect(error.description.hasPrefix(TestEnvironment.path("Snapshots/fixtures/invalid-unknown-field.yaml") + ":7: "))
        }
    }

    @Test func anUnsupportedTypeOrAMissingTypeIsRefused() {
        #expect { try parse("- \"@type\": type.googleapis.com/google.protobuf.Duration\n  value: 1s") } throws: {
            "\($0)".contains("unsupported resource type type.googleapis.com/google.protobuf.Duration")
        }
        #expect { try parse("- name: x") } throws: { "\($0)".contains("resources[0].@type: `@type` is required") }
    }

    @Test func aResourceWithoutANameIsRefused() {
        #expect { try parse("- \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n  type: STATIC") } throws: {
            "\($0)".contains("`name` is required")
        }
    }

    @Test func duplicateNamesAreRefused() {
        #expect { try parse(Self.assignment, Self.assignment) } throws: { "\($0)".contains("duplicate resource EDS \"echo\"") }
    }

    @Test func brokenYAMLIsRefusedWithItsLine() {
        do {
            _ = try DeclaredSnapshot.parse("resources:\n- name: [unclosed\n", file: "bad.yaml", version: "v1")
            Issue.record("expected a YAML error")
        } catch {
            #expect(error.line != nil)
            #expect(error.description.hasPrefix("bad.yaml:"))
        }
    }

    @Test func unknownTopLevelKeysAreRefused() {
        #expect { try DeclaredSnapshot.parse("resource: []", file: "f", version: "v1") } throws: {
            "\($0)".contains("resource: unknown top-level field")
        }
    }
}
