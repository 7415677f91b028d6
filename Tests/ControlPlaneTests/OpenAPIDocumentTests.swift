@testable import ControlPlane
import EnvoyAPI
import Foundation
import Testing
import TestSupport

@Suite struct OpenAPIDocumentTests {
    /// `/v1/snapshots/{from}/diff/{to}` and `/v1/snapshots/:version/diff/:to` are the same route.
    static func shape(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix(":") || part.hasPrefix("{") ? "{}" : String(part)
        }.joined(separator: "/")
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() throws {
        let server = try ControlPlaneServer(configuration: .loopback(dataDirectory: try TestEnvironment.temporaryDirectory().path))
        let routed = Set(server.rest.makeRouter().routes.map { "\($0.method.rawValue.lowercased()) \(Self.shape($0.path.description))" })
        var documented = Set<String>()
        for (path, item) in OpenAPIDocument.document["paths"]?.objectValue ?? [:] {
            for method in item.objectValue?.keys ?? [:].keys { documented.insert("\(method) \(Self.shape(path))") }
        }
        #expect(routed == documented, "only routed: \(routed.subtracting(documented).sorted()); only documented: \(documented.subtracting(routed).sorted())")
        #expect(routed.count == 33)
    }

    @Test func theDocumentIsOpenAPI3WithItsSchemas() {
        let document = OpenAPIDocument.document
        #expect(document["openapi"]?.stringValue == "3.0.3")
        let schemas = document["components"]?["schemas"]?.objectValue ?? [:]
        // Every $ref points at a schema that exists.
        let text = document.serialized()
        var rest = Substring(text)
        while let range = rest.range(of: "#/components/schemas/") {
            let name = rest[range.upperBound...].prefix { $0 != "\"" }
            #expect(schemas[String(name)] != nil, "missing schema \(name)")
            rest = rest[range.upperBound...]
        }
    }
}
