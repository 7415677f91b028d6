import EnvoyAPI
import Foundation
import ProcessSupport

/// `sextant serve` in a child process on free loopback ports, with a temporary store, and
/// what the benchmarks read from it: REST calls, its RSS and CPU time (from /proc).
final class BenchServer: Sendable {
    let process: ChildProcess
    let xdsPort: Int
    let apiPort: Int
    let directory: String

    private init(process: ChildProcess, xdsPort: Int, apiPort: Int, directory: String) {
        self.process = process
        self.xdsPort = xdsPort
        self.apiPort = apiPort
        self.directory = directory
    }

    static func start(_ binary: String, arguments: [String] = []) async throws -> BenchServer {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchError("\(binary) not found: build it first (swift build -c release --product sextant)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sextant-fanout-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let xds = try LoopbackPort.free(), api = try LoopbackPort.free()
        let process = try ChildProcess.spawn(binary, [
            "serve", "--xds-address", "127.0.0.1:\(xds)", "--api-address", "127.0.0.1:\(api)",
            "--data-dir", directory + "/data", "--log-level", "warning",
        ] + arguments, logPath: directory + "/sextant.log")
        let server = BenchServer(process: process, xdsPort: xds, apiPort: api, directory: directory)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? server.request("GET", "/readyz").status) == 200 { return server }
            guard process.isRunning else { throw BenchError("sextant serve exited; see \(directory)/sextant.log") }
            try await Task.sleep(for: .milliseconds(50))
        }
        server.stop()
        throw BenchError("sextant serve did not become ready; see \(directory)/sextant.log")
    }

    func stop() {
        process.signal(SIGTERM)
    }

    /// A mutating REST call that must succeed.
    func api(_ method: String, _ path: String, _ body: String) throws {
        let response = try request(method, path, body: body)
        guard (200..<300).contains(response.status) else { throw BenchError("\(method) \(path): \(response.status) \(response.body)") }
    }

    func currentVersion() throws -> String {
        let json = try JSON.parse(try request("GET", "/readyz").body)
        guard let version = json["version"]?.stringValue else { throw BenchError("no version in /readyz") }
        return version
    }

    /// Waits until the registry's changes are published, then returns the version.
    func waitForVersion(_ current: () throws -> String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let json = try JSON.parse(try request("GET", "/v1/snapshots").body)
            if json["pending"]?.boolValue == false { return try current() }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchError("changes not published within 30 s")
    }

    func rssMiB() -> Double {
        let status = (try? String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        let kib = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        return kib / 1024
    }

    /// User + system CPU seconds the server has used so far.
    func cpuSeconds() -> Double {
        let stat = (try? String(contentsOfFile: "/proc/\(process.pid)/stat", encoding: .utf8)) ?? ""
        // Fields after the command name (which may hold spaces) start after the last ')'.
        guard let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    struct Response {
        let status: Int
        let body: String
    }

    /// One HTTP/1.1 exchange on a fresh connection (blocking; the bench's REST calls are few).
    func request(_ method: String, _ path: String, body: String? = nil) throws -> Response {
        try Self.request(port: apiPort, method, path, body: body)
    }

    /// One HTTP/1.1 exchange with any loopback port (`host` as the Host header).
    /// `statusOnly` returns at the status line: Envoy holds a closing connection open for
    /// its `delayed_close_timeout` (1 s) waiting for the client to close first.
    static func request(port: Int, _ method: String, _ path: String, body: String? = nil, host: String = "127.0.0.1", statusOnly: Bool = false) throws -> Response {
        let socket = try Self.connect(port)
        defer { close(socket) }
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n"
        let bytes = Array((body ?? "").utf8)
        if body != nil { text += "Content-Type: application/json\r\nContent-Length: \(bytes.count)\r\n" }
        let request = Array((text + "\r\n").utf8) + bytes
        var written = 0
        while written < request.count {
            let n = request[written...].withUnsafeBytes { write(socket, $0.baseAddress, $0.count) }
            guard n > 0 else { throw BenchError("write to the REST API failed") }
            written += n
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            received += buffer[0..<n]
            if statusOnly, received.contains(0x0a) { break }
        }
        let textReceived = String(decoding: received, as: UTF8.self)
        let status = Int(textReceived.split(separator: " ").dropFirst().first ?? "") ?? 0
        let bodyStart = textReceived.range(of: "\r\n\r\n").map { String(textReceived[$0.upperBound...]) } ?? ""
        return Response(status: status, body: bodyStart)
    }

    private static func connect(_ port: Int) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw BenchError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(socket)
            throw BenchError("cannot connect to 127.0.0.1:\(port)")
        }
        return socket
    }
}
