/// A gRPC status: the outcome of a call, carried in the `grpc-status` / `grpc-message`
/// trailers. Thrown by handlers to end a call with that status, and by clients' response
/// sequences when a call ends with anything but OK.
public struct GRPCStatus: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Int, Sendable, CustomStringConvertible {
        case ok = 0, cancelled, unknown, invalidArgument, deadlineExceeded, notFound, alreadyExists,
            permissionDenied, resourceExhausted, failedPrecondition, aborted, outOfRange, unimplemented,
            `internal`, unavailable, dataLoss, unauthenticated

        public var description: String {
            switch self {
            case .ok: "OK"
            case .cancelled: "CANCELLED"
            case .unknown: "UNKNOWN"
            case .invalidArgument: "INVALID_ARGUMENT"
            case .deadlineExceeded: "DEADLINE_EXCEEDED"
            case .notFound: "NOT_FOUND"
            case .alreadyExists: "ALREADY_EXISTS"
            case .permissionDenied: "PERMISSION_DENIED"
            case .resourceExhausted: "RESOURCE_EXHAUSTED"
            case .failedPrecondition: "FAILED_PRECONDITION"
            case .aborted: "ABORTED"
            case .outOfRange: "OUT_OF_RANGE"
            case .unimplemented: "UNIMPLEMENTED"
            case .internal: "INTERNAL"
            case .unavailable: "UNAVAILABLE"
            case .dataLoss: "DATA_LOSS"
            case .unauthenticated: "UNAUTHENTICATED"
            }
        }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String = "") {
        self.code = code
        self.message = message
    }

    public static let ok = GRPCStatus(.ok)

    public var description: String {
        message.isEmpty ? "\(code) (\(code.rawValue))" : "\(code) (\(code.rawValue)): \(message)"
    }

    /// The trailers that carry this status on the wire.
    var trailers: [(name: String, value: String)] {
        var fields = [(name: "grpc-status", value: String(code.rawValue))]
        if !message.isEmpty {
            fields.append((name: "grpc-message", value: GRPCPercentEncoding.encode(message)))
        }
        return fields
    }

    /// Reads `grpc-status` / `grpc-message` from trailers (or a trailers-only response).
    /// Nil when there is no `grpc-status`; an unparsable code maps to UNKNOWN, as the spec says.
    init?(trailers: [(name: String, value: String)]) {
        guard let raw = trailers.first(where: { $0.name == "grpc-status" })?.value else { return nil }
        let message = trailers.first(where: { $0.name == "grpc-message" }).map { GRPCPercentEncoding.decode($0.value) }
        if let code = Int(raw).flatMap(Code.init(rawValue:)) {
            self.init(code, message ?? "")
        } else {
            self.init(.unknown, message ?? "invalid grpc-status \(raw)")
        }
    }

    /// A response whose HTTP status is not 200 maps to a gRPC code — "HTTP to gRPC Status
    /// Code Mapping" in grpc/doc/http-grpc-status-mapping.md.
    init(httpStatus: String) {
        let code: Code =
            switch httpStatus {
            case "400": .internal
            case "401": .unauthenticated
            case "403": .permissionDenied
            case "404": .unimplemented
            case "429", "502", "503", "504": .unavailable
            default: .unknown
            }
        self.init(code, "HTTP status \(httpStatus)")
    }
}

/// `grpc-message` is percent-encoded: bytes outside printable ASCII, and '%' itself, are
/// sent as %XX of their UTF-8 encoding (gRPC PROTOCOL-HTTP2.md, "Responses").
enum GRPCPercentEncoding {
    static func encode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if byte >= 0x20, byte <= 0x7E, byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + hex(byte >> 4) + hex(byte & 0xF)
            }
        }
        return out
    }

    /// Decodes %XX sequences; malformed ones are kept verbatim, as the spec asks decoders to
    /// be lenient. Invalid UTF-8 becomes U+FFFD.
    static func decode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let high = nibble(bytes[i + 1]),
                let low = nibble(bytes[i + 2])
            {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex(_ nibble: UInt8) -> String {
        String(nibble, radix: 16, uppercase: true)
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
