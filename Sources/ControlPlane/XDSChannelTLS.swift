import Foundation
import Identity
import NIOCore
import NIOSSL

/// TLS on the xDS channel (`--xds-tls`; docs/security.md, "The xDS channel"): the control
/// plane presents a certificate from the mesh CA for the names proxies dial it by, and
/// offers HTTP/2 only (ALPN `h2`). Proxies verify it against the trust bundle.
enum XDSChannelTLS {
    /// Server certificates are re-issued at each start; a year is ample for one run.
    static let lifetime: Double = 365 * 86_400

    static func serverContext(authority: CertificateAuthority, trustDomain: String, host: String) throws -> NIOSSLContext {
        // A wildcard bind address is no name to dial: the machine's host name stands in.
        let names = ["0.0.0.0", "::", ""].contains(host) ? [ProcessInfo.processInfo.hostName] : [host]
        let issued = try authority.issueServer(trustDomain: trustDomain, hosts: names, lifetime: lifetime)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(issued.certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem)))
        configuration.applicationProtocols = ["h2"]
        configuration.minimumTLSVersion = TLSVersion.tlsv12
        return try NIOSSLContext(configuration: configuration)
    }

    /// Puts TLS in front of HTTP/2 on an accepted connection.
    static func hook(_ context: NIOSSLContext) -> @Sendable (any Channel) throws -> Void {
        { channel in try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context)) }
    }
}
