internal import Yams

/// YAML (a superset of JSON) → JSON, remembering the source line of every node so errors
/// about a snapshot file can cite the line (docs/snapshots.md, "Invalid files").
public struct SourceDocument: Sendable {
    public let root: JSON
    private let lines: [FieldPath: Int]
    /// Source text of plain scalars read as numbers (see `numberText(at:)`).
    private let numberTexts: [FieldPath: String]

    init(root: JSON, lines: [FieldPath: Int], numberTexts: [FieldPath: String] = [:]) {
        self.root = root
        self.lines = lines
        self.numberTexts = numberTexts
    }

    /// How a number was written in the file (`1.0`, `0x10`), for string fields.
    public func numberText(at path: FieldPath) -> String? {
        numberTexts[path]
    }

    /// The node at `path`, if there is one.
    public func value(at path: FieldPath) -> JSON? {
        var node = root
        for component in path.components {
            switch component {
            case .key(let key): guard let next = node[key] else { return nil }; node = next
            case .index(let index): guard let next = node[index] else { return nil }; node = next
            }
        }
        return node
    }

    /// The line of the node at `path`, or of its nearest ancestor that has one (a field
    /// the transcoder reports may be deeper than the file, e.g. inside a decoded Any).
    public func line(at path: FieldPath) -> Int? {
        var components = path.components
        while true {
            if let line = lines[FieldPath(components)] { return line }
            if components.isEmpty { return nil }
            components.removeLast()
        }
    }

    /// Fills in `error.line` from this document when the error has none.
    public func locate(_ error: TranscodeError) -> TranscodeError {
        var copy = error
        if copy.line == nil { copy.line = line(at: error.path) }
        return copy
    }

    public static func parseYAML(_ text: String) throws(TranscodeError) -> SourceDocument {
        let node: Yams.Node?
        do {
            // The basic resolver leaves scalar typing to us: YAML 1.2 core schema below,
            // not Yams' YAML 1.1 rules (where `on`/`yes` would be booleans).
            node = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw TranscodeError(path: .root, line: YAMLLines.line(of: error), reason: "invalid YAML: \(error)")
        } catch {
            throw TranscodeError(path: .root, reason: "invalid YAML: \(error)")
        }
        guard let node else { return SourceDocument(root: .null, lines: [FieldPath.root: 1]) }
        var lines: [FieldPath: Int] = [:]
        var numberTexts: [FieldPath: String] = [:]
        let root = try convert(node, path: .root, lines: &lines, numbers: &numberTexts)
        return SourceDocument(root: root, lines: lines, numberTexts: numberTexts)
    }

    private static func convert(
        _ node: Yams.Node, path: FieldPath, lines: inout [FieldPath: Int], numbers: inout [FieldPath: String]
    ) throws(TranscodeError) -> JSON {
        if let mark = node.mark { lines[path] = mark.line }
        switch node {
        case .scalar(let scalar):
            // Quoted, literal and folded scalars are strings whatever they look like.
            if scalar.style != .plain {
                return .string(scalar.string)
            }
            let value = YAMLLines.coreSchemaValue(scalar.string)
            if case .number = value { numbers[path] = scalar.string }
            return value
        case .sequence(let sequence):
            var items: [JSON] = []
            for (index, item) in sequence.enumerated() {
                items.append(try convert(item, path: path.appending(index: index), lines: &lines, numbers: &numbers))
            }
            return .array(items)
        case .mapping(let mapping):
            var members: [String: JSON] = [:]
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw TranscodeError(path: path, line: key.mark?.line, reason: "mapping keys must be scalars")
                }
                let name = keyScalar.string
                if members[name] != nil {
                    throw TranscodeError(path: path, line: key.mark?.line, reason: "duplicate key \"\(name)\"")
                }
                members[name] = try convert(value, path: path.appending(name), lines: &lines, numbers: &numbers)
            }
            return .object(members)
        case .alias:
            throw TranscodeError(path: path, line: node.mark?.line, reason: "YAML aliases are not supported")
        }
    }
}
