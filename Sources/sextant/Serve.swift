public import ArgumentParser
import ControlPlane
import EtcdStore
public import ProcessSupport
import Foundation
public import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the control plane: xDS over gRPC, the REST API, the registry on its embedded store or on etcd.")

    @Option(help: "xDS gRPC listen address (h2c).")
    var xdsAddress = "127.0.0.1:18000"

    @Option(help: "REST API listen address.")
    var apiAddress = "127.0.0.1:18001"

    @Option(help: "sqlite (the embedded store in --data-dir), or etcd://HOST:PORT[,HOST:PORT…][/prefix] to share the registry with other replicas.")
    var store = "sqlite"

    @Option(help: "This replica's name in /v1/cluster (default: random).")
    var replicaID: String?

    @Option(help: "Directory of the embedded store (sextant.sqlite).")
    var dataDir = "./.sextant"

    @Option(help: "Serve the resources declared in this YAML/JSON file instead of the registry; edits publish new versions.")
    var snapshot: String?

    @Option(help: "Quiet time after a registry change before a rebuild, in milliseconds.")
    var debounceMs = 10

    @Option(help: "Longest a rebuild waits for quiet after the first change, in milliseconds.")
    var maxDebounceMs = 250

    @Option(help: "Snapshots kept in the store's history.")
    var history = 100

    @Option(name: .customLong("load-report-interval"), help: "Seconds between proxies' load reports (LRS), which rollouts watch.")
    var loadReportInterval: Double = 2

    @Option(help: "When set, mutating REST calls need `Authorization: Bearer <token>` (default: $SEXTANT_API_TOKEN).")
    var apiToken: String?

    @Option(help: "The mesh CA's certificate (PEM), with --ca-key; default: generated in <data-dir>/ca on first start.")
    var caCert: String?

    @Option(help: "The mesh CA's private key (PEM), with --ca-cert.")
    var caKey: String?

    enum XDSAuth: String, ExpressibleByArgument, CaseIterable { case required, off }

    @Option(help: "required: every xDS stream presents a node token (POST /v1/tokens) for the service it claims; off: none needed.")
    var xdsAuth: XDSAuth = .off

    @Flag(help: "Serve xDS over TLS with a certificate from the mesh CA (proxies verify it with `sextant ca root`).")
    var xdsTLS = false

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "text or json.")
    var logFormat: LogFormat = .text

    func validate() throws {
        for (flag, address) in [("--xds-address", xdsAddress), ("--api-address", apiAddress)] where EnvoyBootstrap.splitAddress(address) == nil {
            throw ValidationError("\(flag) must be HOST:PORT, got \(address)")
        }
        guard debounceMs >= 0, maxDebounceMs >= debounceMs else {
            throw ValidationError("--debounce-ms must be ≥ 0 and --max-debounce-ms ≥ --debounce-ms")
        }
        do {
            _ = try StoreLocation(parsing: store)
        } catch {
            throw ValidationError(error.description)
        }
        guard history >= 1 else { throw ValidationError("--history must be at least 1") }
        guard (caCert == nil) == (caKey == nil) else { throw ValidationError("--ca-cert and --ca-key go together") }
    }

    func run() async throws {
        LogSetup.bootstrap(level: logLevel, format: logFormat)
        // One socket per proxy connection: take the whole hard limit.
        FileLimit.raiseToHard()
        let xds = EnvoyBootstrap.splitAddress(xdsAddress)!, api = EnvoyBootstrap.splitAddress(apiAddress)!
        var configuration = ControlPlaneServer.Configuration(xdsHost: xds.host, xdsPort: xds.port, snapshotPath: snapshot)
        configuration.apiHost = api.host
        configuration.apiPort = api.port
        configuration.dataDirectory = dataDir
        configuration.debounce = .milliseconds(debounceMs)
        configuration.maxDebounce = .milliseconds(maxDebounceMs)
        configuration.history = history
        guard loadReportInterval >= 0.1, loadReportInterval <= 3600 else { throw ValidationError("--load-report-interval: from 0.1 to 3600 seconds") }
        configuration.loadReportInterval = .milliseconds(Int(loadReportInterval * 1000))
        configuration.caCertificatePath = caCert
        configuration.caKeyPath = caKey
        configuration.xdsAuth = xdsAuth == .required
        configuration.xdsTLS = xdsTLS
        configuration.apiToken = apiToken ?? ProcessInfo.processInfo.environment["SEXTANT_API_TOKEN"]
        configuration.store = try StoreLocation(parsing: store)
        configuration.replicaID = replicaID
        let server: ControlPlaneServer
        do {
            server = try await ControlPlaneServer.open(configuration: configuration)
            _ = try await server.start()
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        await SignalWaiter(signals: [SIGINT, SIGTERM]).wait()
        await server.shutdown()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}
