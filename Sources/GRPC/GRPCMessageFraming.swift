public import NIOCore

/// gRPC's length-prefixed message framing (PROTOCOL-HTTP2.md, "Length-Prefixed-Message"):
/// a 1-byte compressed flag, a 4-byte big-endian length, then the message bytes.
public enum GRPCMessageFramer {
    public static let prefixLength = 5

    public static func frame(_ message: [UInt8], allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: prefixLength + message.count)
        buffer.writeInteger(UInt8(0))  // never compressed: we negotiate no grpc-encoding
        buffer.writeInteger(UInt32(message.count))
        buffer.writeBytes(message)
        return buffer
    }
}

/// Reassembles messages from DATA chunks, which may split a message or hold several.
/// A value type that only takes bytes and answers messages or a status, so it is tested
/// without sockets.
public struct GRPCMessageDeframer: Sendable {
    public let maxMessageSize: Int
    private var buffer = ByteBuffer()

    public init(maxMessageSize: Int) {
        self.maxMessageSize = maxMessageSize
    }

    /// True when some bytes of an unfinished message are held.
    public var hasPartialMessage: Bool { buffer.readableBytes > 0 }

    public mutating func append(_ bytes: ByteBuffer) {
        if buffer.readableBytes == 0 {
            buffer.clear()  // cheap moment to drop consumed bytes
        } else if buffer.readerIndex > 1 << 20 {
            buffer.discardReadBytes()
        }
        var bytes = bytes
        buffer.writeBuffer(&bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        append(ByteBuffer(bytes: bytes))
    }

    /// The next complete message, nil if more bytes are needed. The size limit is checked
    /// from the prefix alone, so an oversize message is refused before it is buffered.
    public mutating func next() throws(GRPCStatus) -> [UInt8]? {
        guard let flag = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let length = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self)
        else { return nil }
        switch flag {
        case 0: break
        case 1: throw GRPCStatus(.internal, "compressed message received but no grpc-encoding was negotiated")
        default: throw GRPCStatus(.internal, "invalid compressed flag \(flag) in message prefix")
        }
        guard Int(length) <= maxMessageSize else {
            throw GRPCStatus(.resourceExhausted, "message of \(length) bytes exceeds the limit of \(maxMessageSize)")
        }
        guard buffer.readableBytes >= GRPCMessageFramer.prefixLength + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: GRPCMessageFramer.prefixLength)
        return buffer.readBytes(length: Int(length))
    }
}
