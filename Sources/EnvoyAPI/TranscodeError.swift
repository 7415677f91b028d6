/// The one error type of EnvoyAPI: what went wrong, where (field path) and, when the
/// input came from a file, on which line — so an operator can fix a snapshot file.
public struct TranscodeError: Error, Sendable, CustomStringConvertible {
    public var path: FieldPath
    public var line: Int?
    public var reason: String

    public init(path: FieldPath = .root, line: Int? = nil, reason: String) {
        self.path = path
        self.line = line
        self.reason = reason
    }

    /// The same error seen from an enclosing document: `prefix` is prepended to the path.
    public func prefixed(by prefix: FieldPath) -> TranscodeError {
        var copy = self
        copy.path = prefix.appending(path)
        return copy
    }

    public var description: String {
        var text = path.components.isEmpty ? reason : "\(path): \(reason)"
        if let line { text = "line \(line): " + text }
        return text
    }
}
