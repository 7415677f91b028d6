import ArgumentParser

@main
struct Sextant: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant",
        abstract: "An xDS control plane for Envoy.",
        subcommands: [Serve.self, Bootstrap.self, ServiceCommand.self, InstanceCommand.self, SnapshotCommand.self, ProxiesCommand.self, MeshCommand.self, CACommand.self, TokenCommand.self, ClusterCommand.self, RolloutCommand.self])
}
