import EnvoyAPI
import Testing

@Suite struct SourceDocumentTests {
    @Test func plainScalarsFollowTheYAML12CoreSchema() throws {
        let document = try SourceDocument.parseYAML(
            """
            port: 8080
            ratio: 1.0
            name: web
            quoted: "8080"
            single: 'true'
            flag: true
            legacy: yes
            nothing: null
            tilde: ~
            hex: 0x10
            """)
        #expect(document.root["port"] == 8080)
        #expect(document.root["ratio"] == 1.0)
        #expect(document.root["name"] == "web")
        #expect(document.root["quoted"] == "8080")
        #expect(document.root["single"] == "true")
        #expect(document.root["flag"] == true)
        #expect(document.root["legacy"] == "yes")  // YAML 1.1 boolean, a string in 1.2
        #expect(document.root["nothing"] == .null)
        #expect(document.root["tilde"] == .null)
        #expect(document.root["hex"] == 16)
    }

    @Test func everyNodeRemembersItsLine() throws {
        let document = try SourceDocument.parseYAML(
            """
            resources:
            - name: a
              filter_chains:
              - filters:
                - name: hcm
            """)
        let path = FieldPath([.key("resources"), .index(0), .key("filter_chains"), .index(0), .key("filters"), .index(0), .key("name")])
        #expect(document.line(at: path) == 5)
        #expect(document.line(at: FieldPath([.key("resources"), .index(0), .key("name")])) == 2)
        // Deeper than the file (inside a decoded Any): falls back to the nearest ancestor.
        #expect(document.line(at: path.appending("deeper")) == 5)
    }

    @Test func transcoderErrorsCanBeLocatedInTheFile() throws {
        let document = try SourceDocument.parseYAML(
            """
            name: payments
            type: EDS
            lb_policy: FASTEST
            """)
        do {
            _ = try ProtoJSON.encode(document.root, as: ResourceFixtures.clusterType)
            Issue.record("expected an error")
        } catch {
            let located = document.locate(error)
            #expect(located.line == 3)
            #expect(located.description.hasPrefix("line 3: lb_policy: "))
        }
    }

    @Test func malformedYAMLReportsItsLine() {
        do {
            _ = try SourceDocument.parseYAML("a: 1\nb: [1, 2\nc: 3\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.line != nil)
            #expect(error.reason.contains("invalid YAML"))
        }
    }

    @Test func duplicateKeysAreRejectedWithTheirLine() {
        do {
            _ = try SourceDocument.parseYAML("a: 1\nb: 2\na: 3\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.line != nil)
            #expect(error.reason.contains("duplicate"))
        }
    }

    @Test func yamlNumbersKeepTheirSpellingInStringFields() throws {
        let document = try SourceDocument.parseYAML("name: 1.0\nper_connection_buffer_limit_bytes: 4096\n")
        let bytes = try ProtoJSON.encode(document, as: ResourceFixtures.clusterType)
        let decoded = try ProtoJSON.decode(bytes, as: ResourceFixtures.clusterType)
        #expect(decoded == ["name": "1.0", "per_connection_buffer_limit_bytes": 4096])
    }

    @Test func encodingANodeOfADocumentReportsFilePathAndLine() throws {
        let document = try SourceDocument.parseYAML(
            """
            resources:
            - "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
              name: a
              connect_timeout: 5
            """)
        let path = FieldPath([.key("resources"), .index(0)])
        let anyType = try #require(MessageType.named("google.protobuf.Any"))
        do {
            _ = try ProtoJSON.encode(document, at: path, as: anyType)
            Issue.record("expected an error")
        } catch {
            #expect(error.path.description == "resources[0].connect_timeout")
            #expect(error.line == 4)
            #expect(error.description.hasPrefix("line 4: resources[0].connect_timeout: invalid Duration"))
        }
    }
}
