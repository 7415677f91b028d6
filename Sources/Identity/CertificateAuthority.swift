public import Foundation
import Crypto
import SwiftASN1
import X509

/// The mesh's certificate authority: one root (ECDSA P-256) that signs every workload's
/// certificate, with no certificate signing request — the control plane generates each
/// workload key itself and hands it out only over SDS to the nodes entitled to it
/// (docs/security.md, "Certificate authority").
///
/// The root is loaded from the operator's files (`--ca-cert`, `--ca-key`) or from
/// `<data dir>/ca/`, where it is generated on first start, the key written with mode 0600.
public final class CertificateAuthority: Sendable {
    public enum CAError: Error, CustomStringConvertible {
        case unreadable(String, String)
        case notACA(String)
        case mismatchedKey
        case unusable(String)
        var messageText: String {
            switch self {
            case .unreadable(let path, let why): "cannot read \(path): \(why)"
            case .notACA(let path): "\(path) is not a CA certificate (basicConstraints CA:TRUE required)"
            case .mismatchedKey: "the CA key does not match the CA certificate"
            case .unusable(let why): why
            }
        }
        public var description: String { messageText }
    }

    private let certificate: Certificate
    private let key: Certificate.PrivateKey
    /// The trust bundle proxies verify peers against: the root, PEM.
    public let rootPEM: String

    init(certificate: Certificate, key: Certificate.PrivateKey) throws {
        guard certificate.publicKey == key.publicKey else { throw CAError.mismatchedKey }
        self.certificate = certificate
        self.key = key
        rootPEM = try certificate.serializeAsPEM().pemString + "\n"
    }

    /// The operator's CA.
    public static func load(certificatePath: String, keyPath: String) throws -> CertificateAuthority {
        let certificate: Certificate
        let key: Certificate.PrivateKey
        do {
            certificate = try Certificate(pemEncoded: try String(contentsOfFile: certificatePath, encoding: .utf8))
        } catch {
            throw CAError.unreadable(certificatePath, "\(error)")
        }
        do {
            key = try Certificate.PrivateKey(pemEncoded: try String(contentsOfFile: keyPath, encoding: .utf8))
        } catch {
            throw CAError.unreadable(keyPath, "\(error)")
        }
        guard case .isCertificateAuthority = try certificate.extensions.basicConstraints else {
            throw CAError.notACA(certificatePath)
        }
        return try CertificateAuthority(certificate: certificate, key: key)
    }

    /// A CA from PEM text (a replicated store keeps the one CA all replicas share).
    public static func fromPEM(certificate: String, key: String) throws -> CertificateAuthority {
        let parsed = try Certificate(pemEncoded: certificate)
        guard case .isCertificateAuthority = try parsed.extensions.basicConstraints else { throw CAError.notACA("the stored CA") }
        return try CertificateAuthority(certificate: parsed, key: try Certificate.PrivateKey(pemEncoded: key))
    }

    /// A new root and its key as PEM, to be stored by the caller.
    public static func generatePEM(trustDomain: String, now: Date = Date()) throws -> (certificate: String, key: String) {
        let authority = try generate(trustDomain: trustDomain, now: now)
        return (authority.rootPEM, try authority.keyPEM)
    }

    /// The CA kept in `directory` (`ca.pem`, `ca-key.pem`), generated there on first use.
    public static func loadOrCreate(in directory: String, trustDomain: String, now: Date = Date()) throws -> CertificateAuthority {
        let certificatePath = directory + "/ca.pem", keyPath = directory + "/ca-key.pem"
        let files = FileManager.default
        if files.fileExists(atPath: certificatePath), files.fileExists(atPath: keyPath) {
            return try load(certificatePath: certificatePath, keyPath: keyPath)
        }
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let authority = try generate(trustDomain: trustDomain, now: now)
        // The key first, created 0600 before any byte is written; then the certificate.
        try SecretFile.write(authority.keyPEM, to: keyPath)
        try authority.rootPEM.write(toFile: certificatePath, atomically: true, encoding: .utf8)
        return authority
    }

    /// A new self-signed root, valid ten years.
    static func generate(trustDomain: String, now: Date) throws -> CertificateAuthority {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let name = try DistinguishedName {
            OrganizationName("Sextant")
            CommonName("Sextant mesh CA \(trustDomain)")
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            },
            issuerPrivateKey: key)
        return try CertificateAuthority(certificate: certificate, key: key)
    }

    private var keyPEM: String { get throws { try key.serializeAsPEM().pemString + "\n" } }

    /// A certificate for `identity`, valid `lifetime` seconds from `now` (back-dated a
    /// minute for clock skew), with its own new key. The identity is the certificate's only
    /// subject alternative name, a URI, as SPIFFE X.509-SVIDs require.
    public func issue(for identity: SpiffeID, lifetime: TimeInterval, now: Date = Date()) throws -> IssuedCertificate {
        let serial = Certificate.SerialNumber()
        let (certificatePEM, keyPEM) = try issue(
            subjectName: identity.service, names: [.uniformResourceIdentifier(identity.description)], usages: [.serverAuth, .clientAuth],
            lifetime: lifetime, now: now, serial: serial)
        return IssuedCertificate(
            identity: identity, certificatePEM: certificatePEM, privateKeyPEM: keyPEM,
            serial: serial.description, notBefore: now, notAfter: now.addingTimeInterval(lifetime))
    }

    /// A leaf signed by this CA with a new key: `names` as its subject alternative names.
    func issue(
        subjectName: String, names: [GeneralName], usages: [ExtendedKeyUsage.Usage], lifetime: TimeInterval, now: Date,
        serial: Certificate.SerialNumber = Certificate.SerialNumber()
    ) throws -> (certificatePEM: String, privateKeyPEM: String) {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let certificate = try Certificate(
            version: .v3, serialNumber: serial, publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(lifetime),
            issuer: self.certificate.subject,
            subject: try DistinguishedName { OrganizationName("Sextant"); CommonName(subjectName) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage(usages)
                Critical(SubjectAlternativeNames(names))
                AuthorityKeyIdentifier(keyIdentifier: try self.certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: self.key)
        return (try certificate.serializeAsPEM().pemString + "\n", try key.serializeAsPEM().pemString + "\n")
    }
}

extension CertificateAuthority {
    /// A server certificate for the control plane itself (TLS on the xDS channel): its
    /// identity `spiffe://<domain>/sextant` and the names clients dial it by, as DNS
    /// names or IP addresses.
    public func issueServer(trustDomain: String, hosts: [String], lifetime: TimeInterval, now: Date = Date()) throws -> (certificatePEM: String, privateKeyPEM: String) {
        var names: [GeneralName] = [.uniformResourceIdentifier("spiffe://\(trustDomain)/sextant")]
        for host in Set(hosts + ["localhost", "127.0.0.1"]).sorted() {
            if let octets = Self.ipv4(host) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(octets))))
            } else {
                names.append(.dnsName(host))
            }
        }
        return try issue(subjectName: "sextant", names: names, usages: [.serverAuth], lifetime: lifetime, now: now)
    }

    static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let octets = parts.compactMap { UInt8($0) }
        return octets.count == 4 ? octets : nil
    }
}

/// A workload certificate and its key. The key leaves the control plane only inside an
/// SDS response to a node of that identity; nothing prints or stores it.
public struct IssuedCertificate: Sendable, Equatable, CustomStringConvertible {
    public let identity: SpiffeID
    public let certificatePEM: String
    public let privateKeyPEM: String
    public let serial: String
    public let notBefore: Date
    public let notAfter: Date

    /// Half of the lifetime: when a new certificate is issued.
    public var renewAt: Date { notBefore.addingTimeInterval(notAfter.timeIntervalSince(notBefore) / 2) }

    /// Never the key, so a log line or string interpolation cannot leak it (`dump()`
    /// walks stored properties and would: do not dump one).
    public var description: String { "certificate \(identity) serial \(serial) until \(notAfter)" }
}

/// Writing a private key: created with mode 0600, so no other user can read it even for
/// an instant.
enum SecretFile {
    static func write(_ text: String, to path: String) throws {
        let temporary = path + ".tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw CertificateAuthority.CAError.unreadable(temporary, String(cString: strerror(errno))) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            throw CertificateAuthority.CAError.unreadable(path, "short write or rename failed")
        }
    }
}
