import EnvoyAPI
import Foundation
import Hummingbird

/// `GET /v1/cluster`: the replicas serving this mesh, the store's members and their
/// health, the elected replica, and each replica's served version (docs/etcd.md,
/// "Replicas and the elected one"). On the embedded store: this one replica.
extension RESTServer {
    func addClusterRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/cluster") { [self] _, _ in Self.json(await cluster()) }
    }
}
