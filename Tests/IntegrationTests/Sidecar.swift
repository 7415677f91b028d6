import ControlPlane
import Foundation
import TestSupport
import XDS

/// What a sidecar under test is told: who it is and where its listeners go (docs/mesh-model.md,
/// "Proxies and node metadata"). The same spec starts an Envoy (through `sextant bootstrap`'s
/// generator) or a sextant-proxy (through its flags).
struct SidecarSpec {
    var nodeID: String
    var service: String
    var xdsPort: Int
    var outboundPort: Int
    var inboundPort: Int
    var appPort: Int?
    /// Further control-plane replicas, after `xdsPort` (the preferred one).
    var moreXDSPorts: [Int] = []
}

extension DataPlaneKind {
    func start(_ spec: SidecarSpec, in directory: URL) throws -> any ProxyProcess {
        let adminPort = try TestEnvironment.freePort()
        switch self {
        case .envoy, .envoyDelta:
            var bootstrap = EnvoyBootstrap(nodeID: spec.nodeID, service: spec.service)
            bootstrap.xdsPort = spec.xdsPort
            bootstrap.moreXDSAddresses = spec.moreXDSPorts.map { ("127.0.0.1", $0) }
            bootstrap.adminPort = adminPort
            bootstrap.outboundPort = spec.outboundPort
            bootstrap.inboundPort = spec.inboundPort
            // Tests bind loopback only (the inbound listener's default is 0.0.0.0).
            bootstrap.inboundAddress = "127.0.0.1"
            bootstrap.appPort = spec.appPort
            bootstrap.delta = isDelta
            return try EnvoyProcess.start(bootstrapYAML: bootstrap.yaml, adminPort: adminPort, in: directory, delta: isDelta)
        case .sextantProxy, .sextantProxySotw:
            var arguments = [
                "--node-id", spec.nodeID, "--service", spec.service, "--xds-address", ([spec.xdsPort] + spec.moreXDSPorts).map { "127.0.0.1:\($0)" }.joined(separator: ","),
                "--outbound-port", "\(spec.outboundPort)", "--inbound-port", "\(spec.inboundPort)",
                "--metadata", "sextant.inbound_address=127.0.0.1",
            ]
            if let appPort = spec.appPort { arguments += ["--app-port", "\(appPort)"] }
            return try SextantProxyProcess.start(adminPort: adminPort, arguments: arguments, in: directory, delta: isDelta)
        }
    }
}

extension ControlPlaneServer {
    /// Labels a Delta proxy's resource versions with the snapshot version now served to
    /// `nodeID`, for resources whose version is the one in that snapshot.
    func labelVersions(of proxy: any ProxyProcess, nodeID: String) {
        guard proxy.kind.isDelta else { return }
        proxy.versionLabels.set { [xds] version in
            guard let node = xds.proxies.streams(ofNode: nodeID).first?.node,
                  let snapshot = xds.cache.snapshot(group: xds.cache.group(for: node)) else { return nil }
            let held = ResourceType.allCases.contains { type in snapshot.resources(type).values.contains { $0.version == version } }
            return held ? snapshot.version : nil
        }
    }
}
