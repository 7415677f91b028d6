/// A pure-Swift check of Google RE2 regular-expression syntax, as Envoy compiles it
/// (`RE2::Options` defaults: Perl-like syntax, UTF-8). It follows the RE2 parser
/// (re2/parse.cc) token by token and reports RE2's own error text, e.g.
/// "invalid perl operator: (?=", so a pattern is refused here exactly when Envoy
/// would NACK it for its syntax. It does not build a program, so RE2's memory budget
/// and Envoy's program-size limit are out of its scope.
public enum RE2Syntax {
    /// nil when RE2 accepts `pattern`; else RE2's reason, e.g. "invalid perl operator: (?=".
    public static func check(_ pattern: String) -> RE2SyntaxError? {
        var parser = Parser(pattern)
        do {
            try parser.parse()
            return nil
        } catch {
            return error
        }
    }
}

/// Why RE2 refuses a pattern. `reason` is RE2's `RE2::error()` text ("<what>: <where>");
/// `offset` counts Unicode scalars from the start of the pattern to the construct at fault
/// (for "missing )", the unclosed parenthesis; for "unexpected )", that parenthesis).
public struct RE2SyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public let offset: Int

    public init(reason: String, offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "\(reason) (at offset \(offset))" }
}

extension RE2Syntax {
    /// RE2's `RegexpStatusCode` texts (re2/regexp.cc, kErrorStrings).
    enum Code: String {
        case badEscape = "invalid escape sequence"
        case badCharRange = "invalid character class range"
        case missingBracket = "missing ]"
        case missingParen = "missing )"
        case unexpectedParen = "unexpected )"
        case trailingBackslash = "trailing \\"
        case repeatArgument = "no argument for repetition operator"
        case repeatSize = "invalid repetition size"
        case repeatOp = "bad repetition operator"
        case badPerlOp = "invalid perl operator"
        case badUTF8 = "invalid UTF-8"
        case badNamedCapture = "invalid named capture group"
    }

    /// RE2's `maximum_repeat_count`: the cap on `{n,m}` and on nested counted repetition.
    static let maxRepeat = 1000
    static let maxRune: UInt32 = 0x10FFFF

    /// A mirror of `Regexp::ParseState` that keeps only what decides acceptance: per open
    /// group, whether an operand tops the stack (repetition needs one) and the largest
    /// product of nested repeat counts (RE2's RepetitionWalker refuses products over 1000).
    struct Parser {
        struct Group {
            var open: Int
            var hasOperand = false
            var topFactor = 1
            var maxFactor = 1
        }

        let s: [Unicode.Scalar]
        var i = 0
        var groups = [Group(open: 0)]

        init(_ pattern: String) { s = Array(pattern.unicodeScalars) }

        var n: Int { s.count }

        func has(_ k: Int, _ c: Unicode.Scalar) -> Bool { k < n && s[k] == c }
        func text(_ from: Int, _ to: Int) -> String {
            var out = String.UnicodeScalarView()
            out.append(contentsOf: s[from..<min(to, n)])
            return String(out)
        }
        func fail(_ code: Code, _ arg: String, at offset: Int) -> RE2SyntaxError {
            RE2SyntaxError(reason: arg.isEmpty ? code.rawValue : "\(code.rawValue): \(arg)", offset: offset)
        }

        mutating func pushOperand(factor: Int = 1) {
            groups[groups.count - 1].hasOperand = true
            groups[groups.count - 1].topFactor = factor
            groups[groups.count - 1].maxFactor = max(groups[groups.count - 1].maxFactor, factor)
        }

        mutating func parse() throws(RE2SyntaxError) {
            var lastUnary: Int? = nil  // where the previous token began, if it was a repetition
            while i < n {
                var isUnary: Int? = nil
                switch s[i] {
                case "(":
                    if has(i + 1, "?") {
                        try parsePerlFlags()
                    } else {
                        groups.append(Group(open: i))
                        i += 1
                    }
                case "|":
                    groups[groups.count - 1].hasOperand = false
                    i += 1
                case ")":
                    guard groups.count > 1 else { throw fail(.unexpectedParen, text(0, n), at: i) }
                    let closed = groups.removeLast()
                    pushOperand(factor: closed.maxFactor)
                    i += 1
                case "[":
                    try parseCharClass()
                    pushOperand()
                case "*", "+", "?":
                    let start = i
                    i += 1
                    if has(i, "?") { i += 1 }  // non-greedy
                    if let last = lastUnary { throw fail(.repeatOp, text(last, i), at: last) }
                    guard groups[groups.count - 1].hasOperand else { throw fail(.repeatArgument, text(start, i), at: start) }
                    isUnary = start
                case "{":
                    guard let (lo, hi, end) = repetition(at: i) else {
                        pushOperand()  // not a valid {n,m}: a literal '{'
                        i += 1
                        break
                    }
                    let start = i
                    i = end
                    if has(i, "?") { i += 1 }
                    if let last = lastUnary { throw fail(.repeatOp, text(last, i), at: last) }
                    try pushRepetition(lo, hi, op: start)
                    isUnary = start
                case "\\":
                    try parseBackslash()
                default:  // literals, and ^ $ . which are operands too
                    pushOperand()
                    i += 1
                }
                lastUnary = isUnary
            }
            if groups.count > 1 { throw fail(.missingParen, text(0, n), at: groups[groups.count - 1].open) }
        }

        mutating func pushRepetition(_ lo: Int, _ hi: Int, op start: Int) throws(RE2SyntaxError) {
            if (hi != -1 && hi < lo) || lo > maxRepeat || hi > maxRepeat {
                throw fail(.repeatSize, text(start, i), at: start)
            }
            let group = groups[groups.count - 1]
            guard group.hasOperand else { throw fail(.repeatArgument, text(start, i), at: start) }
            let count = hi == -1 ? lo : hi
            let factor = min(group.topFactor * max(count, 1), maxRepeat + 1)
            pushOperand(factor: factor)
            if (lo >= 2 || hi >= 2) && factor > maxRepeat { throw fail(.repeatSize, text(start, i), at: start) }
        }

        /// `{n}`, `{n,}` or `{n,m}` at `k` (RE2's MaybeParseRepetition), else nil and '{' is literal.
        func repetition(at k: Int) -> (Int, Int, Int)? {
            var j = k + 1
            guard let lo = integer(&j), j < n else { return nil }
            var hi = lo
            if s[j] == "," {
                j += 1
                guard j < n else { return nil }
                if s[j] == "}" {
                    hi = -1
                } else {
                    guard let value = integer(&j) else { return nil }
                    hi = value
                }
            }
            guard has(j, "}") else { return nil }
            return (lo, hi, j + 1)
        }

        /// RE2's ParseInteger: decimal, no leading zeros, refusing values from 10^8 on.
        func integer(_ j: inout Int) -> Int? {
            guard j < n, s[j].isDigit else { return nil }
            if s[j] == "0", j + 1 < n, s[j + 1].isDigit { return nil }
            var value = 0
            while j < n, s[j].isDigit {
                if value >= 100_000_000 { return nil }
                value = value * 10 + Int(s[j].value - 48)
                j += 1
            }
            return value
        }
    }
}
