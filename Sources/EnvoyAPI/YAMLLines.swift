internal import Yams

/// YAML helpers: the YAML 1.2 core schema for plain scalars and line numbers from Yams errors.
enum YAMLLines {
    /// YAML 1.2 core schema: null, booleans, integers (decimal, 0o, 0x), floats, .inf, .nan;
    /// anything else is a string. So `port_value: 8080` is a number and `name: web` a string.
    static func coreSchemaValue(_ text: String) -> JSON {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .number(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .number(-.infinity)
        case ".nan", ".NaN", ".NAN": return .number(.nan)
        default: break
        }
        if text.hasPrefix("0x"), let value = UInt64(text.dropFirst(2), radix: 16) { return .number(Double(value)) }
        if text.hasPrefix("0o"), let value = UInt64(text.dropFirst(2), radix: 8) { return .number(Double(value)) }
        if isDecimalNumber(text), let value = Double(text) { return .number(value) }
        return .string(text)
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` without a regex engine.
    private static func isDecimalNumber(_ text: String) -> Bool {
        var chars = Substring(text)
        if chars.first == "-" || chars.first == "+" { chars = chars.dropFirst() }
        var mantissaDigits = 0
        while let c = chars.first, c.isASCII, c.isNumber { mantissaDigits += 1; chars = chars.dropFirst() }
        if chars.first == "." {
            chars = chars.dropFirst()
            while let c = chars.first, c.isASCII, c.isNumber { mantissaDigits += 1; chars = chars.dropFirst() }
        }
        guard mantissaDigits > 0 else { return false }
        if chars.first == "e" || chars.first == "E" {
            chars = chars.dropFirst()
            if chars.first == "-" || chars.first == "+" { chars = chars.dropFirst() }
            var exponentDigits = 0
            while let c = chars.first, c.isASCII, c.isNumber { exponentDigits += 1; chars = chars.dropFirst() }
            guard exponentDigits > 0 else { return false }
        }
        return chars.isEmpty
    }

    static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        case .duplicatedKeysInMapping(_, let context):
            return context.mark.line
        default:
            return nil
        }
    }
}
