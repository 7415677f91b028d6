import NIOCore
import Testing

@testable import GRPC

@Test func framedMessageHasFiveBytePrefix() {
    let framed = GRPCMessageFramer.frame([1, 2, 3])
    #expect(Array(framed.readableBytesView) == [0, 0, 0, 0, 3, 1, 2, 3])
}

@Test func deframerJoinsMessageSplitAcrossChunks() throws {
    var deframer = GRPCMessageDeframer(maxMessageSize: 100)
    let framed = Array(GRPCMessageFramer.frame(Array(0..<10)).readableBytesView)
    deframer.append(Array(framed[..<3]))
    #expect(try deframer.next() == nil)
    deframer.append(Array(framed[3...]))
    #expect(try deframer.next() == Array(0..<10))
    #expect(!deframer.hasPartialMessage)
}

@Test func deframerSplitsSeveralMessagesInOneChunk() throws {
    var deframer = GRPCMessageDeframer(maxMessageSize: 100)
    var chunk = GRPCMessageFramer.frame([7])
    var second = GRPCMessageFramer.frame([])
    var third = GRPCMessageFramer.frame([8, 9])
    chunk.writeBuffer(&second)
    chunk.writeBuffer(&third)
    deframer.append(chunk)
    #expect(try deframer.next() == [7])
    #expect(try deframer.next() == [])
    #expect(try deframer.next() == [8, 9])
    #expect(try deframer.next() == nil)
}

@Test func deframerRejectsOversizeMessageFromPrefixAlone() {
    var deframer = GRPCMessageDeframer(maxMessageSize: 16)
    deframer.append([0, 0, 0, 0, 17])
    #expect(throws: GRPCStatus(.resourceExhausted, "message of 17 bytes exceeds the limit of 16")) {
        try deframer.next()
    }
}

@Test func deframerRejectsCompressedFlagWithoutEncoding() {
    var deframer = GRPCMessageDeframer(maxMessageSize: 16)
    deframer.append([1, 0, 0, 0, 1, 42])
    #expect(throws: GRPCStatus.self) { try deframer.next() }
    #expect((try? deframer.next()) == nil)
}

@Test func percentEncodingKeepsPrintableASCIIAndEscapesTheRest() {
    #expect(GRPCPercentEncoding.encode("bad input") == "bad input")
    #expect(GRPCPercentEncoding.encode("100%") == "100%25")
    #expect(GRPCPercentEncoding.encode("é\n") == "%C3%A9%0A")
}

@Test func percentDecodingRoundTripsAndToleratesMalformedEscapes() {
    let text = "naïve 100% ✓\tdone"
    #expect(GRPCPercentEncoding.decode(GRPCPercentEncoding.encode(text)) == text)
    #expect(GRPCPercentEncoding.decode("50%zz%4") == "50%zz%4")
}

@Test func statusIsReadFromTrailers() {
    let status = GRPCStatus(trailers: [("grpc-status", "3"), ("grpc-message", "bad%20%25")])
    #expect(status == GRPCStatus(.invalidArgument, "bad %"))
    #expect(GRPCStatus(trailers: [("grpc-status", "99")])?.code == .unknown)
    #expect(GRPCStatus(trailers: [("content-type", "application/grpc")]) == nil)
}

@Test func httpStatusMapsToGRPCCode() {
    #expect(GRPCStatus(httpStatus: "404").code == .unimplemented)
    #expect(GRPCStatus(httpStatus: "503").code == .unavailable)
    #expect(GRPCStatus(httpStatus: "415").code == .unknown)
}

@Test func grpcContentTypesAreRecognised() {
    #expect(GRPCRouter.isGRPC(contentType: "application/grpc"))
    #expect(GRPCRouter.isGRPC(contentType: "application/grpc+proto"))
    #expect(!GRPCRouter.isGRPC(contentType: "application/grpcx"))
    #expect(!GRPCRouter.isGRPC(contentType: "text/plain"))
    #expect(!GRPCRouter.isGRPC(contentType: nil))
}
