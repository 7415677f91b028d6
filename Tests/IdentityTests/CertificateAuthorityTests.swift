import Foundation
@testable import Identity
import ProcessSupport
import Testing
import TestSupport

/// The CA's certificates, checked by an independent verifier: the openssl command line.
@Suite struct CertificateAuthorityTests {
    /// Runs openssl with `arguments`; its exit status and output. Waited for off the
    /// cooperative pool: it has one thread per core, and a process spawned on a loaded
    /// machine can take long enough to stall every other test's async work.
    func openssl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await offCooperativePool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, output)
        }
    }

    @Test func aWorkloadCertificateChainsToTheRootAndNamesItsSpiffeID() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        let authority = try CertificateAuthority.loadOrCreate(in: directory.path + "/ca", trustDomain: "sextant.local")
        let identity = SpiffeID(trustDomain: "sextant.local", service: "api")
        let issued = try authority.issue(for: identity, lifetime: 3600)
        let leaf = directory.appendingPathComponent("leaf.pem").path
        try issued.certificatePEM.write(toFile: leaf, atomically: true, encoding: .utf8)

        let verified = try await openssl(["verify", "-CAfile", directory.path + "/ca/ca.pem", "-purpose", "sslclient", leaf])
        #expect(verified.status == 0, "\(verified.output)")
        let server = try await openssl(["verify", "-CAfile", directory.path + "/ca/ca.pem", "-purpose", "sslserver", leaf])
        #expect(server.status == 0, "\(server.output)")
        let text = try await openssl(["x509", "-in", leaf, "-noout", "-text"]).output
        #expect(text.contains("URI:spiffe://sextant.local/service/api"), "\(text)")
        #expect(text.contains("CA:FALSE"))
        #expect(issued.notAfter.timeIntervalSince(issued.notBefore) == 3600)
        #expect(issued.renewAt == issued.notBefore.addingTimeInterval(1800))
        // The key is the certificate's.
        let keyFile = directory.appendingPathComponent("leaf-key.pem").path
        try issued.privateKeyPEM.write(toFile: keyFile, atomically: true, encoding: .utf8)
        let certKey = try await openssl(["x509", "-in", leaf, "-noout", "-pubkey"]).output
        let keyPub = try await openssl(["pkey", "-in", keyFile, "-pubout"]).output
        #expect(certKey == keyPub)
    }

    @Test func theRootIsGeneratedOnceWithAPrivateKeyOnlyItsOwnerCanRead() async throws {
        let directory = try TestEnvironment.temporaryDirectory().path + "/ca"
        let first = try CertificateAuthority.loadOrCreate(in: directory, trustDomain: "sextant.local")
        let again = try CertificateAuthority.loadOrCreate(in: directory, trustDomain: "sextant.local")
        #expect(first.rootPEM == again.rootPEM)
        let mode = try FileManager.default.attributesOfItem(atPath: directory + "/ca-key.pem")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(!first.rootPEM.contains("PRIVATE KEY"))
        #expect(try await openssl(["x509", "-in", directory + "/ca.pem", "-noout", "-text"]).output.contains("CA:TRUE"))
    }

    @Test func eachCertificateHasItsOwnKeyAndSerialAndNeverPrintsTheKey() async throws {
        let authority = try CertificateAuthority.generate(trustDomain: "sextant.local", now: Date())
        let identity = SpiffeID(trustDomain: "sextant.local", service: "web")
        let a = try authority.issue(for: identity, lifetime: 60), b = try authority.issue(for: identity, lifetime: 60)
        #expect(a.serial != b.serial && a.privateKeyPEM != b.privateKeyPEM)
        #expect(!"\(a)".contains("PRIVATE KEY") && !String(reflecting: a).contains("PRIVATE KEY"))
    }

    @Test func anOperatorCAIsUsedAndACertificateThatIsNotACAIsRefused() async throws {
        let directory = try TestEnvironment.temporaryDirectory().path
        _ = try await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                         "-subj", "/CN=operator CA", "-addext", "basicConstraints=critical,CA:TRUE",
                         "-keyout", directory + "/op-key.pem", "-out", directory + "/op.pem"])
        let authority = try CertificateAuthority.load(certificatePath: directory + "/op.pem", keyPath: directory + "/op-key.pem")
        let issued = try authority.issue(for: SpiffeID(trustDomain: "corp.example", service: "api"), lifetime: 600)
        try issued.certificatePEM.write(toFile: directory + "/leaf.pem", atomically: true, encoding: .utf8)
        #expect(try await openssl(["verify", "-CAfile", directory + "/op.pem", directory + "/leaf.pem"]).status == 0)

        _ = try await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                         "-subj", "/CN=not a CA", "-addext", "basicConstraints=critical,CA:FALSE",
                         "-keyout", directory + "/leaf-key.pem", "-out", directory + "/plain.pem"])
        #expect(throws: CertificateAuthority.CAError.self) {
            try CertificateAuthority.load(certificatePath: directory + "/plain.pem", keyPath: directory + "/leaf-key.pem")
        }
    }

    @Test func spiffeIDsParseOnlyTheServiceForm() {
        #expect(SpiffeID("spiffe://sextant.local/service/api") == SpiffeID(trustDomain: "sextant.local", service: "api"))
        #expect(SpiffeID("spiffe://sextant.local/ns/x/sa/y") == nil)
        #expect(SpiffeID("https://sextant.local/service/api") == nil)
        #expect(SpiffeID.isValidTrustDomain("sextant.local") && !SpiffeID.isValidTrustDomain("Bad Domain"))
    }
}
