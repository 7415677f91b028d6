import Registry
import Testing

@Suite struct ValidationTests {
    @Test(arguments: ["echo", "a", "my-service-2", String(repeating: "a", count: 63)])
    func dnsLabelsAreServiceNames(_ name: String) { #expect(Validation.isServiceName(name)) }

    @Test(arguments: ["", "-echo", "echo-", "Echo", "my_service", "a.b", String(repeating: "a", count: 64)])
    func otherNamesAreNot(_ name: String) { #expect(!Validation.isServiceName(name)) }

    @Test(arguments: ["127.0.0.1", "::1", "fe80::1", "echo.default.svc", "localhost"])
    func addressesMayBeIPsOrHostnames(_ address: String) { #expect(Validation.isAddress(address)) }

    @Test(arguments: ["999.1.1.1", "", "bad host", "-x.example"])
    func malformedAddressesAreRefused(_ address: String) { #expect(!Validation.isAddress(address)) }

    @Test(arguments: [0, 70000, -1])
    func portsOutsideTheTCPRangeAreRefused(_ port: Int) {
        let error = #expect(throws: RegistryError.self) { try Validation.registration(InstanceRegistration(address: "127.0.0.1", port: port)) }
        #expect(error?.field == "port")
    }

    @Test func aDurationLongerThanAProtobufDurationIsRefusedAsEnvoyWouldNackIt() throws {
        var policy = ServicePolicy(protocol: .http, port: 8080)
        policy.timeoutMs = Validation.maxDurationMs
        try policy.validate()
        policy.timeoutMs = Validation.maxDurationMs + 1
        let error = #expect(throws: RegistryError.self) { try policy.validate() }
        #expect(error?.field == "timeout_ms")
    }

    @Test func weightsAreOneTo128() {
        let error = #expect(throws: RegistryError.self) { try Validation.registration(InstanceRegistration(address: "127.0.0.1", port: 80, weight: 129)) }
        #expect(error?.field == "weight")
    }

    func canary(_ split: [String: Int]) -> ServicePolicy {
        var policy = ServicePolicy(protocol: .http, port: 8080)
        policy.subsets = ["v1": ["version": "v1"], "v2": ["version": "v2"]]
        policy.routes = [.init(match: .init(prefix: "/"), split: split)]
        return policy
    }

    @Test func aLookAheadRouteRegexIsRefusedAsEnvoyWouldNackIt() {
        var policy = ServicePolicy(protocol: .http, port: 8080)
        policy.routes = [.init(match: .init(regex: "^/(?=nack).*$"))]
        let error = #expect(throws: RegistryError.self) { try policy.validate() }
        #expect(error?.field == "routes[0].match.regex")
        #expect(error?.message.contains("invalid perl operator: (?=") == true, "\(error?.message ?? "")")
    }

    @Test func anRE2RouteRegexIsAccepted() throws {
        var policy = ServicePolicy(protocol: .http, port: 8080)
        policy.routes = [.init(match: .init(regex: "^/api/v[0-9]+/(?P<rest>.*)$"))]
        try policy.validate()
    }

    @Test func splitWeightsMustSumTo100() throws {
        try canary(["v1": 90, "v2": 10]).validate()
        let error = #expect(throws: RegistryError.self) { try canary(["v1": 90, "v2": 20]).validate() }
        #expect(error?.field == "routes[0].split")
        #expect(error?.message.contains("sum to 100") == true)
    }

    @Test func splitsNameDefinedSubsetsOrTheWholeService() throws {
        try canary(["*": 50, "v2": 50]).validate()
        let error = #expect(throws: RegistryError.self) { try canary(["v3": 100]).validate() }
        #expect(error?.field == "routes[0].split.v3")
    }

    @Test func aTCPServiceNeedsAPortAndHasNoRoutes() {
        #expect(throws: RegistryError.self) { try ServicePolicy(protocol: .tcp).validate() }
        var policy = ServicePolicy(protocol: .tcp, port: 5432)
        policy.routes = [.init(match: .init(prefix: "/"))]
        let error = #expect(throws: RegistryError.self) { try policy.validate() }
        #expect(error?.field == "routes")
    }

    @Test func percentagesAndStatusesStayInRange() {
        var policy = ServicePolicy(protocol: .http)
        policy.routes = [.init(match: .init(prefix: "/"), fault: .init(abortStatus: 700, abortPercent: 10))]
        let error = #expect(throws: RegistryError.self) { try policy.validate() }
        #expect(error?.field == "routes[0].fault.abort_status")
    }
}

/// Authorization rules are checked field by field; callers not registered are warnings.
@Suite struct AuthorizationValidationTests {
    func field(of policy: ServicePolicy) -> String? {
        do {
            try policy.validate()
            return nil
        } catch {
            return error.field
        }
    }

    func http(_ rules: [Authorization.Rule]) -> ServicePolicy {
        var policy = ServicePolicy(protocol: .http)
        policy.authorization = Authorization(default: .deny, rules: rules)
        return policy
    }

    @Test func badRulesNameTheirField() {
        #expect(field(of: http([.init(action: .allow, from: ["Web"])])) == "authorization.rules[0].from[0]")
        #expect(field(of: http([.init(action: .allow, methods: ["get"])])) == "authorization.rules[0].methods[0]")
        #expect(field(of: http([.init(action: .deny, paths: ["admin"])])) == "authorization.rules[0].paths[0]")
        #expect(field(of: http([.init(action: .deny, paths: ["/a*b"])])) == "authorization.rules[0].paths[0]")
        var tcp = ServicePolicy(protocol: .tcp, port: 5432)
        tcp.authorization = Authorization(rules: [.init(action: .allow, from: ["web"], methods: ["GET"])])
        #expect(field(of: tcp) == "authorization.rules[0].methods")
        #expect(field(of: http([.init(action: .allow, from: ["web"], methods: ["GET"], paths: ["/public*"])])) == nil)
    }

    @Test func callersNotRegisteredAreWarningsNotErrors() {
        let authorization = Authorization(default: .deny, rules: [.init(action: .allow, from: ["web", "ghost"])])
        #expect(authorization.unknownCallers(known: ["web", "api"]) == [#"authorization.rules[0].from[1]: service "ghost" is not registered"#])
    }
}

extension AuthorizationValidationTests {
    @Test func emptyListsAreRefusedRatherThanMeaningNothing() {
        #expect(field(of: http([.init(action: .allow, from: [])])) == "authorization.rules[0].from")
        #expect(field(of: http([.init(action: .deny, methods: [])])) == "authorization.rules[0].methods")
        #expect(field(of: http([.init(action: .deny, paths: [])])) == "authorization.rules[0].paths")
    }
}
