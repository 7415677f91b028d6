public import Foundation

/// Strict JSON decoding for REST bodies (docs/rest-api.md, "Errors"): unknown fields are refused, and every
/// error names the field it is about as a path (`retries.per_try_timeout_ms`,
/// `routes[0].split`), so a client can fix its request without guessing.
public enum StrictJSON {
    public static func decode<T: Codable>(_ type: T.Type, from data: Data) throws(RegistryError) -> T {
        let input: Any
        do {
            input = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw RegistryError(.badJSON, "request body is not valid JSON: \(Self.reason(of: error))")
        }
        guard input is [String: Any] else { throw RegistryError(.badJSON, "request body must be a JSON object") }
        do {
            let value = try JSONDecoder().decode(T.self, from: data)
            // Unknown fields: whatever the input has that the decoded value, encoded
            // again, does not. Maps (labels, subsets, split) come back key for key.
            let echoed = try JSONSerialization.jsonObject(with: JSONEncoder().encode(value), options: [.fragmentsAllowed])
            if let field = firstUnknownKey(input, echoed, path: "") {
                throw RegistryError(.unknownField, "\(field): unknown field", field: field)
            }
            return value
        } catch let error as RegistryError {
            throw error
        } catch let error as DecodingError {
            throw Self.map(error)
        } catch {
            throw RegistryError(.badJSON, "request body: \(error)")
        }
    }

    static func map(_ error: DecodingError) -> RegistryError {
        switch error {
        case .typeMismatch(let expected, let context):
            let field = path(context.codingPath)
            return RegistryError(.invalidValue, "\(field.isEmpty ? "body" : field): expected \(describe(expected))", field: field.isEmpty ? nil : field)
        case .valueNotFound(let expected, let context):
            let field = path(context.codingPath)
            return RegistryError(.invalidValue, "\(field): expected \(describe(expected)), got null", field: field)
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return RegistryError(.invalidValue, "\(field): required", field: field)
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if let name = context.codingPath.last?.stringValue, let allowed = enumValues[name] {
                return RegistryError(.invalidValue, "\(field): must be one of \(allowed)", field: field)
            }
            return RegistryError(.invalidValue, "\(field.isEmpty ? "body" : field): \(context.debugDescription)", field: field.isEmpty ? nil : field)
        @unknown default:
            return RegistryError(.badJSON, "\(error)")
        }
    }

    /// The first key of `input` (depth-first, sorted) missing from `echoed`. A key whose
    /// value is null counts as absent: null and omitted mean the same for optional fields.
    static func firstUnknownKey(_ input: Any, _ echoed: Any, path: String) -> String? {
        if let object = input as? [String: Any] {
            let known = echoed as? [String: Any] ?? [:]
            for key in object.keys.sorted() {
                let field = path.isEmpty ? key : "\(path).\(key)"
                guard let value = object[key], !(value is NSNull) else { continue }
                guard let echo = known[key] else { return field }
                if let found = firstUnknownKey(value, echo, path: field) { return found }
            }
        } else if let array = input as? [Any], let echoes = echoed as? [Any] {
            for (index, value) in array.enumerated() where index < echoes.count {
                if let found = firstUnknownKey(value, echoes[index], path: "\(path)[\(index)]") { return found }
            }
        }
        return nil
    }

    /// Fields whose values come from a fixed set, for error messages.
    static let enumValues = [
        "protocol": ServicePolicy.ServiceProtocol.allCases.map(\.rawValue).joined(separator: ", "),
        "lb_policy": ServicePolicy.LBPolicy.allCases.map(\.rawValue).joined(separator: ", "),
        "status": Health.allCases.map(\.rawValue).joined(separator: ", "),
    ]

    /// `a.b[2].c` from a coding path.
    public static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: "an integer"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Double.Type: "a number"
        default:
            String(describing: type).hasPrefix("Dictionary") ? "an object" : String(describing: type).hasPrefix("Array") ? "an array" : "\(type)"
        }
    }

    private static func reason(of error: any Error) -> String {
        (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
    }
}
