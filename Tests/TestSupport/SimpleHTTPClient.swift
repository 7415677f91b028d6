import Foundation
import NIOCore
import NIOPosix

/// A minimal HTTP/1.1 client for requests through Envoy's listeners and to admin APIs:
/// one request per connection (`Connection: close`), whole response read.
public enum SimpleHTTPClient {
    public struct Response: Sendable {
        public let status: Int
        public let headers: [String: String]
        public let body: String
    }

    public static func get(port: Int, path: String = "/", host: String = "127.0.0.1", headers: [String: String] = [:]) async throws -> Response {
        var request = "GET \(path) HTTP/1.1\r\nHost: \(headers["Host"] ?? host)\r\nConnection: close\r\n"
        for (name, value) in headers where name != "Host" { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        let raw = try await exchange(port: port, bytes: Array(request.utf8))
        return try parse(raw)
    }

    /// Any method, with an optional body (REST calls in tests).
    public static func request(
        _ method: String, port: Int, path: String, body: String? = nil, headers: [String: String] = [:], timeout: Duration = .seconds(10)
    ) async throws -> Response {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(headers["Host"] ?? "127.0.0.1")\r\nConnection: close\r\n"
        for (name, value) in headers where name != "Host" { request += "\(name): \(value)\r\n" }
        let bytes = Array((body ?? "").utf8)
        if body != nil || method == "POST" || method == "PUT" {
            request += "Content-Length: \(bytes.count)\r\n"
            if body != nil, headers["Content-Type"] == nil { request += "Content-Type: application/json\r\n" }
        }
        request += "\r\n"
        return try parse(try await exchange(port: port, bytes: Array(request.utf8) + bytes, timeout: timeout))
    }

    /// Writes `bytes` to 127.0.0.1:`port` and returns everything read until the peer closes.
    public static func exchange(port: Int, bytes: [UInt8], timeout: Duration = .seconds(10)) async throws -> [UInt8] {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelInitializer { $0.pipeline.addHandler(collector) }
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
        let closed = channel.closeFuture
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await closed.get() }
            group.addTask {
                try await Task.sleep(for: timeout)
                // Closed here, or the group would wait for `closed` for ever: a NIO
                // future's `get()` does not end when its task is cancelled.
                channel.close(promise: nil)
                throw TestSupportError("no response from 127.0.0.1:\(port) within \(timeout)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
        return collector.bytes
    }

    static func parse(_ raw: [UInt8]) throws -> Response {
        let text = String(decoding: raw, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw TestSupportError("malformed HTTP response: \(text.prefix(200))") }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        guard let statusLine = lines.first, statusLine.split(separator: " ").count >= 2,
              let status = Int(statusLine.split(separator: " ")[1]) else {
            throw TestSupportError("malformed status line: \(lines.first ?? "")")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = String(text[split.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
        return Response(status: status, headers: headers, body: body)
    }

    private static func dechunk(_ body: String) -> String {
        var rest = Substring(body)
        var out = ""
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound], radix: 16), size > 0 {
            let start = lineEnd.upperBound
            let end = rest.utf8.index(start, offsetBy: size)
            out += rest[start..<end]
            rest = rest[end...].dropFirst(2)
        }
        return out
    }

}

/// Everything a connection reads, kept for the test to look at once it closed.
final class Collector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private(set) var bytes: [UInt8] = []
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}
