import Foundation
import Registry
import Testing

@Suite struct StrictJSONTests {
    func decodePolicy(_ text: String) throws(RegistryError) -> ServicePolicy {
        try StrictJSON.decode(ServicePolicy.self, from: Data(text.utf8))
    }

    @Test func anUnknownFieldIsRefusedWithItsPath() {
        #expect(throws: RegistryError(.unknownField, "retries.attempt: unknown field", field: "retries.attempt")) {
            try decodePolicy(#"{"protocol": "http", "retries": {"attempts": 2, "attempt": 3}}"#)
        }
        #expect(throws: RegistryError(.unknownField, "colour: unknown field", field: "colour")) {
            try decodePolicy(#"{"protocol": "http", "colour": "blue"}"#)
        }
    }

    @Test func unknownFieldsInsideListsNameTheirIndex() throws {
        let error = #expect(throws: RegistryError.self) {
            try decodePolicy(#"{"protocol": "http", "routes": [{"match": {"prefix": "/"}}, {"match": {"prefx": "/a"}}]}"#)
        }
        #expect(error?.field == "routes[1].match.prefx")
    }

    @Test func mapsOfLabelsAndSplitsAreDataNotFields() throws {
        let policy = try decodePolicy(#"{"protocol": "http", "subsets": {"v1": {"version": "v1"}}, "routes": [{"match": {}, "split": {"v1": 100}}]}"#)
        #expect(policy.subsets?["v1"] == ["version": "v1"])
    }

    @Test func badJSONIsRefusedAsSuch() {
        let error = #expect(throws: RegistryError.self) { try decodePolicy(#"{"protocol": "http","#) }
        #expect(error?.code == .badJSON)
    }

    @Test func aWrongKindOfValueNamesTheFieldAndTheExpectedKind() {
        let error = #expect(throws: RegistryError.self) { try decodePolicy(#"{"protocol": "http", "port": "8080"}"#) }
        #expect(error?.code == .invalidValue)
        #expect(error?.field == "port")
        #expect(error?.message.contains("integer") == true)
    }

    @Test func anEnumValueOutsideItsSetListsTheAllowedOnes() {
        let error = #expect(throws: RegistryError.self) { try decodePolicy(#"{"protocol": "udp"}"#) }
        #expect(error?.field == "protocol")
        #expect(error?.message.contains("http, grpc, tcp") == true)
    }

    @Test func aMissingRequiredFieldIsNamed() {
        let error = #expect(throws: RegistryError.self) { try StrictJSON.decode(InstanceRegistration.self, from: Data(#"{"address": "127.0.0.1"}"#.utf8)) }
        #expect(error?.field == "port")
    }
}
