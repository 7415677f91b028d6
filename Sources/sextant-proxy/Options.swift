import ArgumentParser
import EnvoyAPI
import Foundation
import ProcessSupport
import Proxy

extension SextantProxy {
    /// Bootstrap file first, flags over it; then the checks a proxy cannot start without.
    func resolve() throws -> DataPlane.Options {
        var file = JSON.object([:])
        if let bootstrap {
            let text: String
            do {
                text = try String(contentsOfFile: bootstrap, encoding: .utf8)
            } catch {
                throw ValidationError("cannot read --bootstrap \(bootstrap): \(error.localizedDescription)")
            }
            do {
                file = try SourceDocument.parseYAML(text).root
            } catch {
                throw ValidationError("--bootstrap \(bootstrap): \(error)")
            }
        }
        let fileNode = file["node"] ?? .object([:])
        var meta = fileNode["metadata"]?.objectValue ?? [:]
        for (key, port) in [("sextant.outbound_port", outboundPort), ("sextant.inbound_port", inboundPort), ("sextant.app_port", appPort)] {
            guard let port else { continue }
            guard (1...65535).contains(port) else { throw ValidationError("\(key) must be 1–65535, got \(port)") }
            meta[key] = .number(Double(port))
        }
        for entry in metadata {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw ValidationError("--metadata must be KEY=VALUE, got \(entry)")
            }
            let value = String(entry[entry.index(after: equals)...])
            // Ports are numbers in Envoy's metadata; keep numeric values numeric.
            meta[String(entry[..<equals])] = Int(value).map { .number(Double($0)) } ?? .string(value)
        }
        let id = nodeID ?? fileNode["id"]?.stringValue ?? ""
        let cluster = service ?? fileNode["cluster"]?.stringValue ?? ""
        guard !id.isEmpty else { throw ValidationError("a node id is required: --node-id or node.id in --bootstrap") }
        guard !cluster.isEmpty else { throw ValidationError("a service is required: --service or node.cluster in --bootstrap") }
        let node = Node(
            id: id, cluster: cluster, metadata: .object(meta),
            zone: zone ?? fileNode["locality"]?["zone"]?.stringValue ?? "",
            userAgentName: "sextant-proxy", userAgentVersion: "0.4.0")
        var options = DataPlane.Options(node: node)
        options.xdsProtocol = xdsProtocol == .sotw ? .sotw : .delta
        options.xdsToken = xdsToken ?? file["xds_token"]?.stringValue
        if let path = xdsCA ?? file["xds_ca"]?.stringValue {
            let bundle: String
            do {
                bundle = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ValidationError("cannot read --xds-ca \(path): \(error.localizedDescription)")
            }
            do {
                _ = try DataPlane.Options.tlsContext(trusting: bundle)
            } catch {
                throw ValidationError("--xds-ca \(path): not a PEM certificate bundle (\(error))")
            }
            options.xdsTrustBundle = bundle
        }
        // Several replicas: A,B,C, the first preferred.
        let xds = try (xdsAddress ?? file["xds_address"]?.stringValue ?? "127.0.0.1:18000").split(separator: ",", omittingEmptySubsequences: false)
            .map { try Self.split(String($0), flag: "--xds-address") }
        (options.xdsHost, options.xdsPort) = (xds[0].host, xds[0].port)
        options.moreXDSAddresses = xds.dropFirst().map { ($0.host, $0.port) }
        let admin = try Self.split(adminAddress ?? file["admin_address"]?.stringValue ?? "127.0.0.1:19100", flag: "--admin-address", allowZero: true)
        (options.adminHost, options.adminPort) = (admin.host, admin.port)
        return options
    }

    static func split(_ address: String, flag: String, allowZero: Bool = false) throws -> (host: String, port: Int) {
        guard let split = HostPort.split(address, ports: (allowZero ? 0 : 1)...65535) else {
            throw ValidationError("\(flag) must be HOST:PORT, got \(address)")
        }
        return split
    }
}
