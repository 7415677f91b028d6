import RE2Syntax
import Testing

/// Expected texts are RE2's own (`RE2::error()`), as Envoy prints them in a NACK;
/// most refusals below are taken from google/re2's parse_test.cc and re2_test.cc.
@Suite struct RE2SyntaxTests {
    func reason(_ pattern: String) -> String? { RE2Syntax.check(pattern)?.reason }

    // MARK: Refusals

    @Test func lookAheadIsRefusedAsEnvoyDoes() {
        #expect(reason("^/(?=nack).*$") == "invalid perl operator: (?=")
        #expect(reason("(?!foo).*") == "invalid perl operator: (?!")
        #expect(RE2Syntax.check("^/(?=nack).*$")?.offset == 2)
    }

    @Test func lookBehindIsRefused() {
        #expect(reason("(?<=foo).*") == "invalid perl operator: (?<=")
        #expect(reason("(?<!foo).*") == "invalid perl operator: (?<!")
    }

    @Test func backreferencesAreRefused() {
        #expect(reason("(a)\\1") == "invalid escape sequence: \\1")
        #expect(reason("(a)\\9") == "invalid escape sequence: \\9")
        #expect(reason("\\8") == "invalid escape sequence: \\8")
        #expect(reason("(a)\\18") == "invalid escape sequence: \\1")
    }

    @Test func possessiveAndStackedRepetitionAreRefused() {
        #expect(reason("a*+") == "bad repetition operator: *+")
        #expect(reason("a**") == "bad repetition operator: **")
        #expect(reason("a++") == "bad repetition operator: ++")
        #expect(reason("a?+") == "bad repetition operator: ?+")
        #expect(reason("a*??") == "bad repetition operator: *??")
        #expect(reason("a{2}+") == "bad repetition operator: {2}+")
        #expect(reason("a{2}{3}") == "bad repetition operator: {2}{3}")
        #expect(reason("a+{2}") == "bad repetition operator: +{2}")
    }

    @Test func atomicGroupsConditionalsCommentsAndOtherPerlGroupsAreRefused() {
        #expect(reason("(?>a)") == "invalid perl operator: (?>")
        #expect(reason("(?(1)a|b)") == "invalid perl operator: (?(")
        #expect(reason("(?#note)a") == "invalid perl operator: (?#")
        #expect(reason("(?|a|b)") == "invalid perl operator: (?|")
        #expect(reason("(?P=name)") == "invalid perl operator: (?P")
        #expect(reason("(?'name'a)") == "invalid perl operator: (?'")
        #expect(reason("a(?") == "invalid perl operator: (?")
    }

    @Test func unknownOrMalformedFlagsAreRefused() {
        #expect(reason("(?x)a") == "invalid perl operator: (?x")
        #expect(reason("yz(?smiUX:abc)") == "invalid perl operator: (?smiUX")
        #expect(reason("(?i") == "invalid perl operator: (?i")
        #expect(reason("(?-)a") == "invalid perl operator: (?-)")
        #expect(reason("(?i-)a") == "invalid perl operator: (?i-)")
        #expect(reason("(?--i)a") == "invalid perl operator: (?--")
    }

    @Test func perlAnchorsRE2LacksAreRefused() {
        #expect(reason("a\\Z") == "invalid escape sequence: \\Z")
        #expect(reason("\\Ga") == "invalid escape sequence: \\G")
        #expect(reason("\\E") == "invalid escape sequence: \\E")
    }

    @Test func unbalancedParenthesesAreRefusedWithTheWholePattern() {
        #expect(reason("abc(def") == "missing ): abc(def")
        #expect(reason("(a|b") == "missing ): (a|b")
        #expect(reason("((a)") == "missing ): ((a)")
        #expect(reason("abc)def") == "unexpected ): abc)def")
        #expect(reason(")") == "unexpected ): )")
        #expect(RE2Syntax.check("a(b(c)")?.offset == 1)  // the parenthesis left open
        #expect(RE2Syntax.check("a(b(c")?.offset == 3)  // the innermost one left open
        #expect(RE2Syntax.check("abc)def")?.offset == 3)
    }

    @Test func unclosedBracketIsRefused() {
        #expect(reason("bb[abc") == "missing ]: [abc")
        #expect(reason("[a-z") == "missing ]: [a-z")
        #expect(reason("([a-z)") == "missing ]: [a-z)")
        #expect(reason("[]") == "missing ]: []")
        #expect(reason("[[:alpha:]") == "missing ]: [[:alpha:]")
    }

    @Test func reversedCharacterRangeIsRefused() {
        #expect(reason("[z-a]") == "invalid character class range: z-a")
        #expect(reason("[a-Z]") == "invalid character class range: a-Z")
        #expect(reason("(?i)[a-Z]") == "invalid character class range: a-Z")
        #expect(reason("[\\x{10}-\\x01]") == "invalid character class range: \\x{10}-\\x01")
    }

    @Test func repetitionWithNothingBeforeItIsRefused() {
        #expect(reason("*a") == "no argument for repetition operator: *")
        #expect(reason("+") == "no argument for repetition operator: +")
        #expect(reason("??") == "no argument for repetition operator: ??")
        #expect(reason("a|*") == "no argument for repetition operator: *")
        #expect(reason("(*a)") == "no argument for repetition operator: *")
        #expect(reason("(?i)*") == "no argument for repetition operator: *")
        #expect(reason("{2}") == "no argument for repetition operator: {2}")
        #expect(reason("\\Q\\E*") == "no argument for repetition operator: *")
    }

    @Test func repetitionCountsOutOfRangeAreRefused() {
        #expect(reason("a{2,1}") == "invalid repetition size: {2,1}")
        #expect(reason("a{1001}") == "invalid repetition size: {1001}")
        #expect(reason("a{0,1001}") == "invalid repetition size: {0,1001}")
        #expect(reason("a{100000,}") == "invalid repetition size: {100000,}")
        #expect(reason("x{999999999}") == "invalid repetition size: {999999999}")
        #expect(reason("a{2,1}?") == "invalid repetition size: {2,1}?")
    }

    @Test func nestedRepetitionOverAThousandCopiesIsRefused() {
        #expect(reason("(((x{7}){11}){13})") == "invalid repetition size: {13}")
        #expect(reason("((((((((((x{2}){2}){2}){2}){2}){2}){2}){2}){2}){2})") == "invalid repetition size: {2}")
        #expect(reason("(?:a{10}|b{200}){6}") == "invalid repetition size: {6}")
        #expect(reason("(?:a{10}|b{200}){5}") == nil)
        #expect(reason("(?:(?:a{1000})*)?") == nil)
        #expect(reason("((x{10}){10}){10}") == nil)
    }

    @Test func invalidNamedGroupsAreRefused() {
        #expect(reason("(?P<>a)") == "invalid named capture group: (?P<>")
        #expect(reason("(?<>a)") == "invalid named capture group: (?<>")
        #expect(reason("test(?P<space bar>z)") == "invalid named capture group: (?P<space bar>")
        #expect(reason("test(?<space bar>z)") == "invalid named capture group: (?<space bar>")
        #expect(reason("(?P<a-b>x)") == "invalid named capture group: (?P<a-b>")
        #expect(reason("test(?P<name") == "invalid named capture group: (?P<name")
        #expect(reason("(?<name") == "invalid named capture group: (?<name")
    }

    @Test func badEscapesAreRefused() {
        #expect(reason("ab\\αcd") == "invalid escape sequence: \\α")
        #expect(reason("\\q") == "invalid escape sequence: \\q")
        #expect(reason("ef\\x☺01") == "invalid escape sequence: \\x☺0")
        #expect(reason("gh\\x1☺01") == "invalid escape sequence: \\x1☺")
        #expect(reason("ij\\x1") == "invalid escape sequence: \\x1")
        #expect(reason("kl\\x") == "invalid escape sequence: \\x")
        #expect(reason("uv\\x{0000☺}") == "invalid escape sequence: \\x{0000☺")
        #expect(reason("\\x{110000}") == "invalid escape sequence: \\x{110000")
        #expect(reason("\\x{}") == "invalid escape sequence: \\x{}")
        #expect(reason("\\x{41") == "invalid escape sequence: \\x{41")
        #expect(reason("[\\b]") == "invalid escape sequence: \\b")
        #expect(reason("[a-\\d]") == "invalid escape sequence: \\d")
        #expect(reason("a\\") == "trailing \\")
        #expect(reason("[a\\") == "trailing \\")
    }

    @Test func unknownClassNamesAreRefused() {
        #expect(reason("wx\\p{ABC") == "invalid character class range: \\p{ABC")
        #expect(reason("\\p{Foo}") == "invalid character class range: \\p{Foo}")
        #expect(reason("\\pX") == "invalid character class range: \\pX")
        #expect(reason("\\p{greek}") == "invalid character class range: \\p{greek}")
        #expect(reason("[[:foo:]]") == "invalid character class range: [:foo:]")
        #expect(reason("[\\p{Foo}]") == "invalid character class range: \\p{Foo}")
    }

    @Test func errorsDescribeThemselvesWithTheirOffset() {
        let error = RE2Syntax.check("ab(?=c)")
        #expect(error == RE2SyntaxError(reason: "invalid perl operator: (?=", offset: 2))
        #expect(error?.description == "invalid perl operator: (?= (at offset 2)")
    }

    // MARK: Acceptances

    @Test(arguments: [
        "", "^/api/v[0-9]+/users/[^/]+$", "(?:a|b)+", "a||b", "()", "(|)", "(?)", "^*", "\\b+", "a(?i)*",
    ])
    func ordinaryPatternsAreAccepted(_ pattern: String) {
        #expect(RE2Syntax.check(pattern) == nil)
    }

    @Test(arguments: ["(?P<name>a)", "(?<name>a)", "(?P<first_name2>a)(?P<last>b)", "(?P<nämé>x)", "(?P<n>a)(?P<n>b)"])
    func namedGroupsAreAccepted(_ pattern: String) {
        #expect(RE2Syntax.check(pattern) == nil)
    }

    @Test(arguments: ["(?i)abc", "(?i:abc)", "(?imsU)a", "(?i-s:a.)", "(?-i)a", "(?ii)a", "(?U)a+b"])
    func flagsAreAccepted(_ pattern: String) {
        #expect(RE2Syntax.check(pattern) == nil)
    }

    @Test(arguments: [
        "\\d\\w\\s\\D\\W\\S", "\\bword\\B", "\\Aabc\\z", "\\C", "[\\d\\s-]", "[\\w.]+",
        "\\pL", "\\PL", "\\p{Greek}", "\\p{^Greek}", "\\P{^Greek}", "\\p{Any}", "\\p{Lu}", "[\\p{Han}a-z]",
        "[[:alpha:]]", "[[:^digit:][:word:]]", "[[:]", "[]a]", "[^]a]", "[a-]", "[-a]", "[a-b-c]",
    ])
    func characterClassesAreAccepted(_ pattern: String) {
        #expect(RE2Syntax.check(pattern) == nil)
    }

    @Test(arguments: [
        "\\x41", "\\x{10FFFF}", "\\x{41}", "\\n\\t\\f\\r\\v\\a", "\\.\\\\", "\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$",
        "\\_", "\\-\\/\\ \\#\\<\\>", "\\0", "\\08", "\\12", "\\777", "[\\x00-\\x{10FFFF}]",
    ])
    func escapesAreAccepted(_ pattern: String) {
        #expect(RE2Syntax.check(pattern) == nil)
    }

    @Test(arguments: ["\\Qa.b*\\E+", "\\Q*+?{[\\E", "\\Q(?=x)", "\\Q\\\\E", "a\\Q\\E*"])
    func quotedTextIsAccepted(_ pattern: String) {
        #expect(RE2Syntax.check(pattern) == nil)
    }

    @Test(arguments: [
        "a{2}", "a{2,}", "a{2,5}", "a{0}", "a{1000}", "a{0,1000}", "a*?", "a+?", "a??", "a{2,5}?", "(?:a*)*",
    ])
    func countedAndNonGreedyRepetitionAreAccepted(_ pattern: String) {
        #expect(RE2Syntax.check(pattern) == nil)
    }

    @Test(arguments: ["a{", "a{,3}", "a{2", "a{2,", "a{x}", "{", "x{01}", "x{1,02}", "x{9999999999}", "a{2}{", "a{*"])
    func braceThatIsNotARepetitionIsALiteral(_ pattern: String) {
        #expect(RE2Syntax.check(pattern) == nil)
    }
}
