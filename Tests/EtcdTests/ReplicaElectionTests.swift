import Etcd
import EtcdStore
import Foundation
import Logging
import Testing
import TestSupport

/// The elected replica (docs/etcd.md, "Replicas and the elected one"): one at a time,
/// and another takes over when it stops or its lease lapses.
@Suite(.serialized) struct ReplicaElectionTests {
    @Test func oneReplicaIsElectedAndAnotherTakesOverWhenItGoes() async throws {
        let cluster = try await EtcdTestCluster.start()
        let endpoints = cluster.clientAddresses.map { EtcdClient.Endpoint(host: $0.host, port: $0.port) }
        let clients = [EtcdClient(endpoints: endpoints), EtcdClient(endpoints: endpoints)]
        var logger = Logger(label: "test.election")
        logger.logLevel = .critical
        let coordinators = clients.enumerated().map { index, client in
            ReplicaCoordinator(store: EtcdRegistryStore(client: client, prefix: "/election"), id: "r\(index)", ttl: 2, logger: logger)
        }
        var tasks = coordinators.map { coordinator in
            Task {
                await coordinator.run(replica: {
                    ReplicaCoordinator.Replica(id: coordinator.id, apiAddress: "127.0.0.1:1", xdsAddress: "127.0.0.1:2", version: "v1", startedAt: 0)
                }, keep: 10)
            }
        }
        do {
            try await eventually("one replica is elected, and both agree") {
                guard let leader = coordinators[0].leader else { return false }
                return coordinators[1].leader == leader
            }
            let (replicas, leader, members) = await coordinators[0].view()
            #expect(replicas.map(\.id) == ["r0", "r1"])
            #expect(members.filter(\.healthy).count == 3)
            let elected = try #require(leader)
            // The elected one stops (and resigns): the other is elected.
            let index = elected == "r0" ? 0 : 1
            tasks[index].cancel()
            await tasks[index].value
            try await eventually("the other replica takes over") { coordinators[1 - index].leader == coordinators[1 - index].id }
            #expect(await coordinators[1 - index].view().replicas.map(\.id) == [coordinators[1 - index].id])
        } catch {
            for task in tasks { task.cancel() }
            for client in clients { await client.close() }
            await cluster.stopAll()
            throw error
        }
        for task in tasks { task.cancel() }
        tasks = []
        for client in clients { await client.close() }
        await cluster.stopAll()
    }
}
