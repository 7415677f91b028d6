public import ArgumentParser
public import ControlPlane
import Foundation
public import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the control plane (xDS over gRPC).")

    @Option(help: "xDS gRPC listen address (h2c).")
    var xdsAddress = "127.0.0.1:18000"

    @Option(help: "Serve the resources declared in this YAML/JSON file; edits publish new versions.")
    var snapshot: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "text or json.")
    var logFormat: LogFormat = .text

    func run() async throws {
        guard let xds = EnvoyBootstrap.splitAddress(xdsAddress) else {
            throw ValidationError("--xds-address must be HOST:PORT, got \(xdsAddress)")
        }
        LogSetup.bootstrap(level: logLevel, format: logFormat)
        let server = ControlPlaneServer(configuration: .init(xdsHost: xds.host, xdsPort: xds.port, snapshotPath: snapshot))
        do {
            _ = try await server.start()
        } catch let error as DeclaredSnapshotError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        let signals = SignalWaiter(signals: [SIGINT, SIGTERM])
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await server.watchSnapshotFile() }
            await signals.wait()
            group.cancelAll()
        }
        await server.shutdown()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}
