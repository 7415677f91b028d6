// The lexing half of the RE2 parser mirror: escapes, classes, Unicode groups, `(?` forms,
// and the name tables RE2 looks up, copied from google/re2 at
// 972a15cedd008d846f1a39b2e88ce48d7f166cbd (re2/unicode_groups.cc, re2/perl_groups.cc;
// Unicode 15.1 scripts). An Envoy built against an older RE2 may lack the newest scripts.

extension RE2Syntax.Parser {
    mutating func parseBackslash() throws(RE2SyntaxError) {
        let next: Unicode.Scalar? = i + 1 < n ? s[i + 1] : nil
        switch next {
        case "b", "B", "A", "z", "C":  // \b \B \A \z and \C (any byte); \Z and \G are not among them
            pushOperand()
            i += 2
        case "Q":  // \Q...\E: literal text, up to \E or the end
            i += 2
            while i < n {
                if s[i] == "\\" && has(i + 1, "E") {
                    i += 2
                    break
                }
                pushOperand()
                i += 1
            }
        case "p", "P":
            try parseUnicodeGroup()
            pushOperand()
        case "d", "D", "s", "S", "w", "W":
            pushOperand()
            i += 2
        default:
            _ = try parseEscape()
            pushOperand()
        }
    }

    /// RE2's ParseEscape: one escaped character at `i` (a backslash); returns its value.
    mutating func parseEscape() throws(RE2SyntaxError) -> UInt32 {
        let begin = i
        guard i + 1 < n else { throw fail(.trailingBackslash, "", at: begin) }
        i += 1
        let c = s[i]
        i += 1
        var bad: RE2SyntaxError { fail(.badEscape, text(begin, i), at: begin) }
        switch c {
        case "1"..."7", "0":
            // A lone \1-\7 is a backreference, which RE2 does not support; \0 and
            // two- or three-digit forms are octal.
            if c != "0" && !(i < n && s[i].isOctal) { throw bad }
            var code = c.value - 48
            for _ in 0..<2 where i < n && s[i].isOctal {
                code = code * 8 + s[i].value - 48
                i += 1
            }
            return code
        case "x":
            guard i < n else { throw bad }
            var h = s[i]
            i += 1
            if h == "{" {
                guard i < n else { throw fail(.badUTF8, "", at: begin) }  // RE2 reads past the end here
                h = s[i]
                i += 1
                var digits = 0
                var code: UInt32 = 0
                while let d = h.hexValue {
                    digits += 1
                    code = code * 16 + d
                    if code > RE2Syntax.maxRune { throw bad }
                    guard i < n else { throw bad }
                    h = s[i]
                    i += 1
                }
                if h != "}" || digits == 0 { throw bad }
                return code
            }
            guard i < n else { throw bad }
            let l = s[i]
            i += 1
            guard let hv = h.hexValue, let lv = l.hexValue else { throw bad }
            return hv * 16 + lv
        case "n": return 0x0A
        case "r": return 0x0D
        case "t": return 0x09
        case "a": return 0x07
        case "f": return 0x0C
        case "v": return 0x0B
        default:
            // Escaped ASCII punctuation (and \_) is itself; any other letter, digit or non-ASCII is an error.
            if c.isASCII && !c.isASCIIAlnum { return c.value }
            throw bad
        }
    }

    /// `\pL`, `\p{Greek}`, `\P{^Greek}`… at `i` (RE2's ParseUnicodeGroup).
    mutating func parseUnicodeGroup() throws(RE2SyntaxError) {
        let start = i
        i += 2
        var name = ""
        if i < n {  // at the very end RE2 looks up an empty name
            if s[i] != "{" {
                name = text(i, i + 1)
                i += 1
            } else {
                guard let close = s[(i + 1)...].firstIndex(of: "}") else {
                    throw fail(.badCharRange, text(start, n), at: start)
                }
                name = text(i + 1, close)
                i = close + 1
            }
        }
        if name.hasPrefix("^") { name.removeFirst() }
        if !RE2Syntax.unicodeGroupNames.contains(name) { throw fail(.badCharRange, text(start, i), at: start) }
    }

    /// A bracket expression at `i` (RE2's ParseCharClass).
    mutating func parseCharClass() throws(RE2SyntaxError) {
        let start = i
        i += 1
        if has(i, "^") { i += 1 }
        var first = true  // ']' first in the class is a literal
        while i < n && (s[i] != "]" || first) {
            first = false
            if n - i > 2 && s[i] == "[" && s[i + 1] == ":" {  // [:alpha:], ends at the next ":]" anywhere
                var q = i + 2
                while q <= n - 2 && !(s[q] == ":" && s[q + 1] == "]") { q += 1 }
                if q <= n - 2 {
                    let name = text(i, q + 2)
                    guard RE2Syntax.posixClassNames.contains(name) else { throw fail(.badCharRange, name, at: i) }
                    i = q + 2
                    continue
                }
            }
            if n - i > 2 && s[i] == "\\" && (s[i + 1] == "p" || s[i + 1] == "P") {
                try parseUnicodeGroup()
                continue
            }
            if n - i >= 2 && s[i] == "\\" && "dDsSwW".unicodeScalars.contains(s[i + 1]) {
                i += 2
                continue
            }
            let rangeStart = i
            let lo = try classCharacter(start)
            if n - i >= 2 && s[i] == "-" && s[i + 1] != "]" {
                i += 1
                let hi = try classCharacter(start)
                if hi < lo { throw fail(.badCharRange, text(rangeStart, i), at: rangeStart) }
            }
        }
        guard i < n else { throw fail(.missingBracket, text(start, n), at: start) }
        i += 1
    }

    mutating func classCharacter(_ classStart: Int) throws(RE2SyntaxError) -> UInt32 {
        guard i < n else { throw fail(.missingBracket, text(classStart, n), at: classStart) }
        if s[i] == "\\" { return try parseEscape() }
        i += 1
        return s[i - 1].value
    }

    /// `(?` at `i`: look-around (refused), named groups, flags, `(?flags:`.
    mutating func parsePerlFlags() throws(RE2SyntaxError) {
        let rest = n - i
        if (rest > 3 && (s[i + 2] == "=" || s[i + 2] == "!"))
            || (rest > 4 && s[i + 2] == "<" && (s[i + 3] == "=" || s[i + 3] == "!")) {
            throw fail(.badPerlOp, text(i, i + (s[i + 2] == "<" ? 4 : 3)), at: i)
        }
        if (rest > 4 && s[i + 2] == "P" && s[i + 3] == "<") || (rest > 3 && s[i + 2] == "<") {
            let begin = i + (s[i + 2] == "P" ? 4 : 3)
            guard let end = s[begin...].firstIndex(of: ">") else { throw fail(.badNamedCapture, text(i, n), at: i) }
            guard end > begin, s[begin..<end].allSatisfy(\.isCaptureNameCharacter) else {
                throw fail(.badNamedCapture, text(i, end + 1), at: i)
            }
            groups.append(Group(open: i))
            i = end + 1
            return
        }
        var j = i + 2
        var negated = false
        var sawFlags = false
        var bad: RE2SyntaxError { fail(.badPerlOp, text(i, j), at: i) }
        loop: while true {
            guard j < n else { throw bad }
            let c = s[j]
            j += 1
            switch c {
            case "i", "m", "s", "U":
                sawFlags = true
            case "-":
                if negated { throw bad }
                negated = true
                sawFlags = false
            case ":":
                groups.append(Group(open: i))
                break loop
            case ")":
                break loop
            default:
                throw bad
            }
        }
        if negated && !sawFlags { throw bad }
        i = j
    }
}

extension RE2Syntax {
    /// Names accepted by `\p{…}`, `\pX`, `\P…` (also with a leading `^`). "Any" is special-cased by RE2.
    static let unicodeGroupNames: Set<String> = [
        "Any",
        "Adlam", "Ahom", "Anatolian_Hieroglyphs", "Arabic", "Armenian", "Avestan", "Balinese", "Bamum",
        "Bassa_Vah", "Batak", "Bengali", "Bhaiksuki", "Bopomofo", "Brahmi", "Braille", "Buginese", "Buhid",
        "C", "Canadian_Aboriginal", "Carian", "Caucasian_Albanian", "Cc", "Cf", "Chakma", "Cham",
        "Cherokee", "Chorasmian", "Co", "Common", "Coptic", "Cs", "Cuneiform", "Cypriot", "Cypro_Minoan",
        "Cyrillic", "Deseret", "Devanagari", "Dives_Akuru", "Dogra", "Duployan", "Egyptian_Hieroglyphs",
        "Elbasan", "Elymaic", "Ethiopic", "Georgian", "Glagolitic", "Gothic", "Grantha", "Greek",
        "Gujarati", "Gunjala_Gondi", "Gurmukhi", "Han", "Hangul", "Hanifi_Rohingya", "Hanunoo", "Hatran",
        "Hebrew", "Hiragana", "Imperial_Aramaic", "Inherited", "Inscriptional_Pahlavi",
        "Inscriptional_Parthian", "Javanese", "Kaithi", "Kannada", "Katakana", "Kawi", "Kayah_Li",
        "Kharoshthi", "Khitan_Small_Script", "Khmer", "Khojki", "Khudawadi", "L", "Lao", "Latin", "Lepcha",
        "Limbu", "Linear_A", "Linear_B", "Lisu", "Ll", "Lm", "Lo", "Lt", "Lu", "Lycian", "Lydian", "M",
        "Mahajani", "Makasar", "Malayalam", "Mandaic", "Manichaean", "Marchen", "Masaram_Gondi", "Mc",
        "Me", "Medefaidrin", "Meetei_Mayek", "Mende_Kikakui", "Meroitic_Cursive", "Meroitic_Hieroglyphs",
        "Miao", "Mn", "Modi", "Mongolian", "Mro", "Multani", "Myanmar", "N", "Nabataean", "Nag_Mundari",
        "Nandinagari", "Nd", "New_Tai_Lue", "Newa", "Nko", "Nl", "No", "Nushu", "Nyiakeng_Puachue_Hmong",
        "Ogham", "Ol_Chiki", "Old_Hungarian", "Old_Italic", "Old_North_Arabian", "Old_Permic",
        "Old_Persian", "Old_Sogdian", "Old_South_Arabian", "Old_Turkic", "Old_Uyghur", "Oriya", "Osage",
        "Osmanya", "P", "Pahawh_Hmong", "Palmyrene", "Pau_Cin_Hau", "Pc", "Pd", "Pe", "Pf", "Phags_Pa",
        "Phoenician", "Pi", "Po", "Ps", "Psalter_Pahlavi", "Rejang", "Runic", "S", "Samaritan",
        "Saurashtra", "Sc", "Sharada", "Shavian", "Siddham", "SignWriting", "Sinhala", "Sk", "Sm", "So",
        "Sogdian", "Sora_Sompeng", "Soyombo", "Sundanese", "Syloti_Nagri", "Syriac", "Tagalog", "Tagbanwa",
        "Tai_Le", "Tai_Tham", "Tai_Viet", "Takri", "Tamil", "Tangsa", "Tangut", "Telugu", "Thaana", "Thai",
        "Tibetan", "Tifinagh", "Tirhuta", "Toto", "Ugaritic", "Vai", "Vithkuqi", "Wancho", "Warang_Citi",
        "Yezidi", "Yi", "Z", "Zanabazar_Square", "Zl", "Zp", "Zs",
    ]

    /// POSIX classes accepted inside a bracket expression, written as they appear there.
    static let posixClassNames: Set<String> = [
        "[:alnum:]", "[:alpha:]", "[:ascii:]", "[:blank:]", "[:cntrl:]", "[:digit:]", "[:graph:]",
        "[:lower:]", "[:print:]", "[:punct:]", "[:space:]", "[:upper:]", "[:word:]", "[:xdigit:]",
        "[:^alnum:]", "[:^alpha:]", "[:^ascii:]", "[:^blank:]", "[:^cntrl:]", "[:^digit:]", "[:^graph:]",
        "[:^lower:]", "[:^print:]", "[:^punct:]", "[:^space:]", "[:^upper:]", "[:^word:]", "[:^xdigit:]",
    ]
}

extension Unicode.Scalar {
    var isDigit: Bool { ("0"..."9").contains(self) }
    var isOctal: Bool { ("0"..."7").contains(self) }
    var isASCIIAlnum: Bool { isDigit || ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    var hexValue: UInt32? {
        switch self {
        case "0"..."9": value - 48
        case "a"..."f": value - 87
        case "A"..."F": value - 55
        default: nil
        }
    }

    /// RE2 capture names: letters, marks, decimal and letter numbers, connector punctuation.
    var isCaptureNameCharacter: Bool {
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .letterNumber, .nonspacingMark, .spacingMark, .decimalNumber, .connectorPunctuation:
            true
        default:
            false
        }
    }
}
