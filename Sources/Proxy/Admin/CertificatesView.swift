import EnvoyAPI
import Glibc
import NIOSSL

/// `/certs`, in the shape of Envoy's admin endpoint: per certificate secret its chain
/// and the CA certificates it is verified with, each with serial number, URI SANs and
/// validity. No key material.
enum CertificatesView {
    static func render(_ secrets: [String: SecretConfig]) -> JSON {
        let bundles = secrets.values.compactMap(\.trustedCAPEM).flatMap(details)
        let entries: [JSON] = secrets.keys.sorted().compactMap { name in
            guard let chain = secrets[name]?.certificateChainPEM else { return nil }
            return ["ca_cert": .array(bundles), "cert_chain": .array(details(chain))]
        }
        return ["certificates": .array(entries)]
    }

    private static func details(_ pem: String) -> [JSON] {
        let certificates = (try? NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))) ?? []
        return certificates.map { certificate in
            let expiry = Double(certificate.notValidAfter)
            let now = Double(time(nil))
            return [
                "serial_number": .string(certificate.serialNumber.map { String($0, radix: 16).leftPadded(2) }.joined()),
                "subject_alt_names": .array(PeerIdentity.uris(certificate).map { ["uri": .string($0)] }),
                "valid_from": .string(ProtoTime.formatTimestamp(seconds: Int64(certificate.notValidBefore), nanos: 0)),
                "expiration_time": .string(ProtoTime.formatTimestamp(seconds: Int64(expiry), nanos: 0)),
                "seconds_until_expiration": .string("\(max(Int(expiry - now), 0))"),
            ]
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
