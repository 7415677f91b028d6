public import Foundation

/// What the control plane keeps besides the registry (docs/etcd.md): snapshot history,
/// publishing settings (mode, last version) and node tokens. Synchronous: the publisher
/// calls it from its own queue, and the REST server off Swift's cooperative pool.
public protocol ControlStore: Sendable {
    /// Records `record` as version `last + 1` unless another writer (a replica) already
    /// published a version after `last`: then nothing is written and the answer is false.
    /// Keeps the newest `keep` versions where pruning is this call's job (local store).
    func appendSnapshot(_ record: RegistryStore.SnapshotRecord, keep: Int, after last: Int) throws(RegistryError) -> Bool
    /// History, newest first, at most `limit` versions; payloads left out unless asked for.
    func snapshots(limit: Int, withPayload: Bool) throws(RegistryError) -> [RegistryStore.SnapshotRecord]
    func snapshot(version: Int) throws(RegistryError) -> RegistryStore.SnapshotRecord?
    func latestSnapshot() throws(RegistryError) -> RegistryStore.SnapshotRecord?
    /// A persisted setting (e.g. the publishing mode); nil when never set.
    func setting(_ key: String) throws(RegistryError) -> String?
    func setSetting(_ key: String, _ value: String) throws(RegistryError)

    func createToken(service: String, now: Date) throws(RegistryError) -> (token: NodeToken, secret: String)
    func tokens() throws(RegistryError) -> [NodeToken]
    /// The token `secret` is, if it exists (not revoked).
    func token(bearing secret: String) throws(RegistryError) -> NodeToken?
    /// Deletes the token; false when there was none with that id.
    func revokeToken(id: String) throws(RegistryError) -> Bool

    /// Settings another replica changed (`mode`, `last_version`): the publisher follows
    /// them. A local store has no other writer and never yields.
    func settingChanges() -> AsyncStream<String>

    /// Ids of tokens revoked through another replica: their streams here end too. A
    /// local store never yields.
    func tokenRevocations() -> AsyncStream<String>
}

extension ControlStore {
    public func snapshots(limit: Int = Int.max) throws(RegistryError) -> [RegistryStore.SnapshotRecord] {
        try snapshots(limit: limit, withPayload: false)
    }

    public func createToken(service: String) throws(RegistryError) -> (token: NodeToken, secret: String) {
        try createToken(service: service, now: Date())
    }
}

/// Both halves of a store.
public typealias RegistryStorage = RegistryBackend & ControlStore
