#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A port nothing listens on right now on 127.0.0.1, for a child process that needs a
/// number up front (Envoy's listeners, `sextant serve` in a benchmark); servers of our own
/// bind port 0 instead. It is taken below the kernel's ephemeral range, so no port-0 bind
/// or outgoing connection can be given it before the child binds it, and it is handed out
/// once per process, so two callers (tests running in parallel) never plan the same one.
public enum LoopbackPort {
    private static let handedOut = Mutex<Set<Int>>([])

    public struct Unavailable: Error, CustomStringConvertible {
        public let description = "cannot bind a socket to 127.0.0.1:0"
    }

    public static func free() throws(Unavailable) -> Int {
        // Below the kernel's ephemeral range: a port handed out here is never the one a
        // server binding port 0 (or an outgoing connection) is given meanwhile, before the
        // child process that asked for it has bound it.
        let below = ephemeralRangeStart()
        if below > 11_000 {
            for _ in 0..<256 {
                let port = Int.random(in: 10_000..<below)
                guard isFree(port) else { continue }
                if handedOut.withLock({ $0.insert(port).inserted }) { return port }
            }
        }
        for _ in 0..<64 {
            let port = try candidate()
            if handedOut.withLock({ $0.insert(port).inserted }) { return port }
        }
        throw Unavailable()
    }

    /// The first port of `ip_local_port_range` (Linux), or 0 when unknown.
    private static func ephemeralRangeStart() -> Int {
        guard let file = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r") else { return 0 }
        defer { fclose(file) }
        var low: Int32 = 0, high: Int32 = 0
        return withUnsafeMutablePointer(to: &low) { lowPointer in
            withUnsafeMutablePointer(to: &high) { highPointer in
                withVaList([lowPointer, highPointer]) { vfscanf(file, "%d %d", $0) } == 2 ? Int(lowPointer.pointee) : 0
            }
        }
    }

    private static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    private static func candidate() throws(Unavailable) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Unavailable() }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw Unavailable() }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
