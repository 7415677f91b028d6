import Etcd
import Foundation
import GRPC
public import Registry

/// The registry half: load, guarded writes, leases for TTLs, and the watch every
/// replica's view follows (docs/etcd.md, "The registry backend").
extension EtcdRegistryStore: RegistryBackend {
    public var isReplicated: Bool { true }

    /// Services, instances and settings read at one revision, and the tokens.
    public func load() async throws(RegistryError) -> RegistryImage {
        do {
            let (services, revision) = try await client.get(.prefix(keys.services))
            let instances = try await client.get(.prefix(keys.instances), revision: revision).pairs
            let settings = try await client.get(.prefix(keys.settings), revision: revision).pairs
            let tokens = try await client.get(.prefix(keys.tokens), revision: revision).pairs
            // Whole copies: a token revoked or a setting deleted meanwhile is gone.
            cache.withLock { cache in
                cache.settings = [:]
                cache.tokens = [:]
            }
            for pair in settings + tokens {
                if let record = keys.record(pair.key) { noteControl(record, pair: pair, deleted: false) }
            }
            var image = RegistryImage(services: [], instances: [], meshSettings: nil, revision: UInt64(revision))
            for pair in services {
                guard case .service(let name)? = keys.record(pair.key) else { continue }
                image.services.append(try Self.service(named: name, pair))
            }
            for pair in instances where keys.record(pair.key) != nil {
                image.instances.append(try Self.instance(pair))
            }
            image.meshSettings = settings.first { keys.record($0.key) == .setting("mesh") }?.text
            return image
        } catch {
            throw Self.registryError(error)
        }
    }

    static func instance(_ pair: EtcdKeyValue) throws(RegistryError) -> Instance {
        var instance = try RegistryRecordCodec.instance(from: pair.value)
        instance.leaseID = pair.lease == 0 ? nil : pair.lease
        instance.modRevision = pair.modRevision
        return instance
    }

    static func service(named name: String, _ pair: EtcdKeyValue) throws(RegistryError) -> RegistryStore.StoredService {
        var service = try RegistryRecordCodec.service(named: name, from: pair.value)
        service.modRevision = pair.modRevision
        return service
    }

    /// The record is as the view saw it (`modRevision`), or absent when the view had none.
    static func unchanged(_ key: String, since modRevision: Int64?) -> EtcdCompare {
        modRevision.map { .modRevision(key, equals: $0) } ?? .createRevision(key, equals: 0)
    }

    /// A transaction whose outcome is unknown (its member died, or the cluster was
    /// electing a leader) is tried once more: every registry write is safe to repeat, and
    /// a guarded delete that finds its key already gone was the first attempt's.
    public func apply(_ operation: RegistryOperation, revision _: UInt64) async throws(RegistryError) -> UInt64 {
        do {
            do {
                return UInt64(try await write(operation, again: false))
            } catch EtcdError.outcomeUnknown {
                try await Task.sleep(for: .milliseconds(200))
                return UInt64(try await write(operation, again: true))
            }
        } catch {
            throw Self.registryError(error)
        }
    }

    private func write(_ operation: RegistryOperation, again: Bool) async throws -> Int64 {
        switch operation {
        case .putService(let service):
            let key = keys.key(.service(service.name))
            var stored = service
            stored.modRevision = nil
            let result = try await client.txn(if: [Self.unchanged(key, since: service.modRevision)], then: [.put(key, RegistryRecordCodec.encode(stored))])
            if result.succeeded { return result.revision }
            // Repeated after an unknown outcome, the first attempt may be what moved it:
            // its revision is the record's now.
            guard again else { throw RegistryError.stale(at: UInt64(result.revision)) }
            return try await client.get(.key(key)).pairs.first?.modRevision ?? 0
        case .deleteService(let name):
            let result = try await client.txn(
                if: [.exists(keys.key(.service(name)))],
                then: [.delete(.key(keys.key(.service(name)))), .delete(.prefix(keys.instances(of: name)))])
            guard result.succeeded || again else { throw RegistryError.notFound("service \"\(name)\"") }
            // Retried and already gone: the first attempt's write, nothing to wait for.
            return result.succeeded ? result.revision : 0
        case .putInstance(let instance, let renewing):
            return try await putInstance(instance, renewing: renewing, again: again)
        case .deleteInstance(let service, let id):
            let key = keys.key(.instance(service: service, id: id))
            let result = try await client.txn(if: [.exists(key)], then: [.delete(.key(key))])
            guard result.succeeded || again else { throw RegistryError.notFound("instance \"\(id)\" of service \"\(service)\"") }
            return result.succeeded ? result.revision : 0
        case .heartbeat(let instance):
            // The lease is the TTL: renewing it is the whole heartbeat, no write.
            guard let lease = instance.leaseID else { return 0 }
            guard try await client.keepAlive(lease: lease) > 0 else {
                throw RegistryError.notFound("instance \"\(instance.id)\" of service \"\(instance.service)\" (its TTL lapsed: register it again)")
            }
            return 0
        case .putMeshSettings(let text):
            return try await client.put(keys.key(.setting("mesh")), Array(text.utf8))
        case .lapse:
            return 0
        }
    }

    /// Puts an instance, with its TTL as a lease: the registration's lease is renewed
    /// when it is still alive, else a new one granted. Refused when the service is gone.
    private func putInstance(_ instance: Instance, renewing: Bool, again: Bool) async throws -> Int64 {
        var instance = instance
        if let ttl = instance.ttlSeconds {
            if renewing, let lease = instance.leaseID, try await client.keepAlive(lease: lease) == 0 { instance.leaseID = nil }
            if instance.leaseID == nil {
                guard renewing else { throw RegistryError.notFound("instance \"\(instance.id)\" of service \"\(instance.service)\" (its TTL lapsed)") }
                instance.leaseID = try await client.grantLease(ttl: ttl)
            }
        } else {
            instance.leaseID = nil
        }
        var stored = instance
        (stored.leaseID, stored.modRevision) = (nil, nil)
        let key = keys.key(.instance(service: instance.service, id: instance.id)), serviceKey = keys.key(.service(instance.service))
        do {
            let result = try await client.txn(
                if: [.exists(serviceKey), Self.unchanged(key, since: instance.modRevision)],
                then: [.put(key, RegistryRecordCodec.encode(stored), lease: instance.leaseID ?? 0)],
                else: [.get(.key(serviceKey))])
            if result.succeeded { return result.revision }
            guard result.reads.first?.isEmpty == false else { throw RegistryError.notFound("service \"\(instance.service)\"") }
            // The instance changed meanwhile; repeated after an unknown outcome, the first
            // attempt may be what changed it: its revision is the record's now.
            guard again else { throw RegistryError.stale(at: UInt64(result.revision)) }
            return try await client.get(.key(key)).pairs.first?.modRevision ?? 0
        } catch let status as GRPCStatus where status.code == .notFound {
            // The lease lapsed between the check and the put.
            throw RegistryError.notFound("instance \"\(instance.id)\" of service \"\(instance.service)\" (its TTL lapsed: register it again)")
        }
    }

    /// One batch per store revision that touched the registry; settings and tokens go to
    /// this store's copies on the way. History etcd compacted away: the whole state again.
    public func watch(after revision: UInt64) -> AsyncThrowingStream<RegistryBatch, any Error> {
        let (stream, continuation) = AsyncThrowingStream<RegistryBatch, any Error>.makeStream()
        let task = Task { [self] in
            var from = Int64(revision) + 1
            while !Task.isCancelled {
                do {
                    for try await batch in client.watch(.prefix(keys.prefix + "/"), from: from) {
                        for batch in translate(batch.events) { continuation.yield(batch) }
                        from = batch.revision + 1
                    }
                    return continuation.finish()
                } catch EtcdError.compacted {
                    do {
                        let image = try await load()
                        continuation.yield(.reset(image))
                        from = Int64(image.revision) + 1
                    } catch {
                        return continuation.finish(throwing: error)
                    }
                } catch {
                    return continuation.finish(throwing: error)
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Events grouped by revision into registry records.
    func translate(_ events: [EtcdEvent]) -> [RegistryBatch] {
        var batches: [RegistryBatch] = []
        var current: (revision: Int64, records: [RegistryRecordChange])?
        for event in events {
            let revision = event.pair.modRevision
            if let open = current, open.revision != revision {
                if !open.records.isEmpty { batches.append(.changes(revision: UInt64(open.revision), open.records)) }
                current = nil
            }
            if current == nil { current = (revision, []) }
            guard let record = keys.record(event.pair.key) else { continue }
            let deleted = event.kind == .delete
            switch record {
            // A record this replica cannot read (written by a newer one) is skipped, not
            // taken for a deletion: the view keeps what it had.
            case .service(let name):
                if deleted {
                    current!.records.append(.service(name, nil))
                } else if let service = try? Self.service(named: name, event.pair) {
                    current!.records.append(.service(name, service))
                }
            case .instance(let service, let id):
                if deleted {
                    current!.records.append(.instance(service: service, id: id, nil))
                } else if let instance = try? Self.instance(event.pair) {
                    current!.records.append(.instance(service: service, id: id, instance))
                }
            case .setting("mesh"):
                current!.records.append(.meshSettings(deleted ? nil : event.pair.text))
                noteControl(record, pair: event.pair, deleted: deleted)
            case .setting, .token:
                noteControl(record, pair: event.pair, deleted: deleted)
            case .snapshot:
                break
            }
        }
        if let open = current, !open.records.isEmpty { batches.append(.changes(revision: UInt64(open.revision), open.records)) }
        return batches
    }
}
