import EnvoyAPI
import Foundation
public import XDS

/// A snapshot declared in a file (docs/snapshots.md, "Declared snapshot files"): Envoy's file-based xDS shape, a top-level
/// `resources:` list whose items are resources in proto3 JSON/YAML with `@type`.
public enum DeclaredSnapshot {
    /// Reads, transcodes and checks the whole file; any problem refuses all of it.
    public static func load(path: String, version: String) throws(DeclaredSnapshotError) -> Snapshot {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw DeclaredSnapshotError(file: path, line: nil, field: nil, reason: "cannot read: \(error.localizedDescription)")
        }
        return try parse(text, file: path, version: version)
    }

    public static func parse(_ text: String, file: String, version: String) throws(DeclaredSnapshotError) -> Snapshot {
        let document: SourceDocument
        do {
            document = try SourceDocument.parseYAML(text)
        } catch {
            throw DeclaredSnapshotError(file: file, line: error.line, field: nil, reason: error.reason)
        }
        func fail(_ path: FieldPath, _ reason: String) -> DeclaredSnapshotError {
            DeclaredSnapshotError(file: file, line: document.line(at: path), field: path.description, reason: reason)
        }
        guard let top = document.root.objectValue else { throw fail(FieldPath([]), "expected a mapping with a `resources` list") }
        for key in top.keys where key != "resources" && key != "version_info" && key != "versionInfo" {
            throw fail(FieldPath([.key(key)]), "unknown top-level field (expected `resources`)")
        }
        guard let items = top["resources"]?.arrayValue else {
            throw fail(FieldPath([.key("resources")]), "a `resources` list is required")
        }
        var resources: [Resource] = []
        for (index, item) in items.enumerated() {
            let at = FieldPath([.key("resources"), .index(index)])
            do {
                resources.append(try DeclaredResource.make(item, at: at, in: document))
            } catch let error as TranscodeError {
                throw DeclaredSnapshotError(file: file, line: error.line ?? document.line(at: error.path), field: error.path.description, reason: error.reason)
            } catch let error as DeclaredResource.Problem {
                throw fail(FieldPath(at.components + error.path), error.reason)
            } catch {
                throw fail(at, "\(error)")
            }
        }
        do {
            return try Snapshot(version: version, resources: resources)
        } catch {
            throw DeclaredSnapshotError(file: file, line: nil, field: nil, reason: error.description)
        }
    }
}

public struct DeclaredSnapshotError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let field: String?
    public let reason: String

    /// `file:line: field: reason`, the shape compilers use, so editors can jump to it.
    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        if let field, !field.isEmpty { text += ": \(field)" }
        return text + ": " + reason
    }
}
