#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A port nothing listens on right now on 127.0.0.1, for a child process that needs a
/// number up front (Envoy's listeners, `sextant serve` in a benchmark); servers of our own
/// bind port 0 instead. The kernel hands it out, and it is closed again at once. A port
/// is handed out once per process: the kernel may offer a just-closed port again, and two
/// callers (tests running in parallel) would then both plan to bind it.
public enum LoopbackPort {
    private static let handedOut = Mutex<Set<Int>>([])

    public struct Unavailable: Error, CustomStringConvertible {
        public let description = "cannot bind a socket to 127.0.0.1:0"
    }

    public static func free() throws(Unavailable) -> Int {
        for _ in 0..<64 {
            let port = try candidate()
            if handedOut.withLock({ $0.insert(port).inserted }) { return port }
        }
        throw Unavailable()
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
