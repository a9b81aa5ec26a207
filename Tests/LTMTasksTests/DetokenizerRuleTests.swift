import XCTest
@testable import LTMTasks

/// Rule-by-rule checks of the detokenizers. Every expected string was produced by running the reference Python
/// functions (mdlm `dataloader.py`) on the input, so each case pins one rule's exact behaviour, including
/// the reference's quirks.
final class DetokenizerRuleTests: XCTestCase {
  static let cases: [(Detokenizer, String, String, String)] = [
  // wikitext
    (.wikitext, "the dogs ' bone", "the dogs' bone", "rule 1: plural possessive"),
    (.wikitext, "a /' 5/ b ' 5 c", "a /'[0-9]/ b' 5 c", "rule 2: the literal-slash quirk"),
    (.wikitext, "1 @-@ 2 @,@ 000 @.@ 5", "1-2,000.5", "rules 3-5: number separators"),
    (.wikitext, "a : b ; c . d ! e ? f , g", "a: b; c. d! e? f, g", "rules 6-11: punctuation"),
    (.wikitext, "f ( x ( y ) z ) w ( open", "f (x ( y) z ) w ( open", "rule 12: first closer wins, unmatched opener kept"),
    (.wikitext, "[ \t x  ] { y } {z", "[x] {y} {z", "rules 13-14: square and curly brackets"),
    (.wikitext, "he said \" hi there \" and \" bye", "he said \"hi there\" and \" bye", "rule 15: double quotes"),
    (.wikitext, "the ' old ' one 's", "the 'old' one's", "rule 16 then 24"),
    (.wikitext, "(\u{A0}x\u{A0}) (\u{1C}y\u{1F}) (\u{200B}z)", "(x) (y) (\u{200B}z)", "rule 12: Python \\s includes NBSP and U+001C-U+001F, not U+200B"),
    (.wikitext, " = = = = Deep = = = = \n", " ==== Deep ====\n", "rules 17-19 and 21"),
    (.wikitext, " = = Heading = = \n", " == Heading ==\n", "rule 19: section heading"),
    (.wikitext, "x = = = y = = z", "x === y == z", "rules 18-19"),
    (.wikitext, "12 \u{B0} C and 5 \u{B0}", "12\u{B0}C and 5 \u{B0}", "rule 20: degree sign"),
    (.wikitext, "end . \n start", "end.\nstart", "rules 8, 21, 22"),
    (.wikitext, "in N N years N", "in 1 N years N", "rule 23: a single pass"),
    (.wikitext, "John 's car", "John's car", "rule 24"),
    (.wikitext, "dogs '\u{301} x", "dogs'\u{301} x", "code points, not graphemes: a combining mark after the quote"),
    (.wikitext, "caf\u{E9} (  e\u{301}  )", "caf\u{E9} (e\u{301})", "no normalisation"),
    (.wikitext, "", "", "empty line"),
    (.wikitext, "\n", "\n", "lone newline"),
  // ptb
    (.ptb, "abc 's car", "abc's car", "rule 1"),
    (.ptb, "the dogs ' bone", "the dogs' bone", "rule 2"),
    (.ptb, "do n't", "don't", "rule 3"),
    (.ptb, "a \n b", "a\nb", "rule 4"),
    (.ptb, "1\\/2 and a\\/b", "1/2 and a/b", "rule 5"),
    (.ptb, "in N N N N years", "in 1 1 1 1 years", "rule 6"),
    (.ptb, "x N N N N N N N N N N N N N N N N N N N N N N N N N y", "x 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 y", "rule 6: repeated passes reach every N of a run"),
    (.ptb, "costs $ N million", "costs $1 million", "rule 7"),
    (.ptb, "item # N .", "item #1 .", "rule 8 (after rule 6)"),
    (.ptb, "<unk> <unk> watching <unk>", "? ? watching ?", "rule 9"),
    (.ptb, "s ' s", "s' s", "rule 2 needs the trailing space"),
  // lm1b
    (.lm1b, "see http : / / www.x.com and https : / / y.org", "see http://www.x.com and https://y.org", "rules 1-2"),
    (.lm1b, "he said 'hello and ' bye", "he said'hello and ' bye", "rule 3"),
    (.lm1b, "a b . c . d", "a b. c . d", "rule 4: the match consumes its trailing space"),
    (.lm1b, "It ends .", "It ends.", "rule 5"),
    (.lm1b, "It ends .\n", "It ends.\n", "rule 5: $ before a final newline"),
    (.lm1b, "It ends . \n", "It ends. \n", "rule 5: no match"),
    (.lm1b, "x . y .", "x . y.", "rules 4-5: no word-space before"),
    (.lm1b, "Why ? What ? No", "Why? What? No", "rules 6-7"),
    (.lm1b, "Wow ! Yes !", "Wow! Yes!", "rules 8-9"),
    (.lm1b, "a , b : c ; d / e", "a, b: c; d/e", "rules 10-13"),
    (.lm1b, "\" quoted words \" and \" \" x", "\"quoted words\" and \" \" x", "rule 14"),
    (.lm1b, "' single ' and '  '", "'single' and '  '", "rule 15"),
    (.lm1b, "( paren ) ( a ( b ) c )", "(paren) ( a (b) c )", "rule 16"),
    (.lm1b, "[ one ] [ a [ b ] ]", "[one] [ a [b] ]", "rule 17"),
    (.lm1b, "$ 5 and \u{A3} 7", "$5 and \u{A3}7", "rules 18-19"),
    (.lm1b, " '\u{E9}t\u{E9} '\u{BD} '\u{301}a '\u{663} '_x '\u{2167}", "'\u{E9}t\u{E9}'\u{BD} '\u{301}a'\u{663}'_x'\u{2167}", "rule 3: Python \\w (letters, No, Nd, Nl, underscore; not Mn)"),
    (.lm1b, " caf\u{E9} . and \u{663}\u{664} .", " caf\u{E9}. and \u{663}\u{664}.", "rules 4-5 with Unicode words"),
  // lambada
    (.lambada, "\u{201C}Hi,\u{201D} she said.  \n", "\n\"Hi,\" she said.", "curly quotes, strip, leading newline"),
    (.lambada, "\u{A0}x\u{2028}", "\nx", "Unicode strip"),
  // scientific_papers
    (.scientificPapers, "the ( set ) of @xmath0 , is \" hi \" .", "the (set) of @xmath0, is \"hi\" .", "wt then lm1b"),
    (.scientificPapers, "values 1 @.@ 5 and ' q ' end .", "values 1.5 and'q' end.", "wt then lm1b"),
  ]

  func testEveryRuleMatchesThePythonReference() {
    for (detokenizer, input, expected, why) in Self.cases {
      assertSameBytes(detokenizer.apply(input), expected, "\(detokenizer.rawValue), \(why)")
    }
  }

  func testNoneLeavesTextUntouched() {
    assertSameBytes(Detokenizer.none.apply(" a  N 's \n"), " a  N 's \n")
  }

  func testWikitextSinglePassVersusPTBTenPasses() {
    // The same input: WikiText replaces " N " once (every other N of a run survives), PTB repeats until all go.
    assertSameBytes(Detokenizer.wikitext.apply("x N N N N y"), "x 1 N 1 N y")
    assertSameBytes(Detokenizer.ptb.apply("x N N N N y"), "x 1 1 1 1 y")
  }

  func testRawValuesAreTheYAMLNames() {
    XCTAssertEqual(Detokenizer.allCases.map(\.rawValue), ["none", "ptb", "wikitext", "lm1b", "lambada", "scientific_papers"])
  }
}

/// The Python `str` primitives the detokenizers rest on.
final class PythonTextTests: XCTestCase {
  func testReplaceIsLeftToRightNonOverlapping() {
    func replace(_ s: String, _ old: String, _ new: String) -> String {
      PythonText.string(PythonText.replace(PythonText.scalars(s), PythonText.scalars(old), PythonText.scalars(new)))
    }
    assertSameBytes(replace("aaaa", "aa", "b"), "bb")
    assertSameBytes(replace("aaa", "aa", "b"), "ba")
    assertSameBytes(replace(" N N ", " N ", " 1 "), " 1 N ")
    assertSameBytes(replace("abc", "x", "y"), "abc")
    // Code points, not canonical equivalence: precomposed and decomposed forms are different text.
    assertSameBytes(replace("caf\u{E9} cafe\u{301}", "\u{E9}", "E"), "cafE cafe\u{301}")
    assertSameBytes(replace("cafe\u{301}", "e", "E"), "cafE\u{301}")
  }

  func testSpaceIsPythonIsspace() {
    let spaces: [UInt32] = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x200A,
                            0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
    for v in spaces { XCTAssertTrue(PythonText.isSpace(Unicode.Scalar(v)!), String(v, radix: 16)) }
    for v: UInt32 in [0x00, 0x08, 0x0E, 0x21, 0x180E, 0x200B, 0xFEFF, 0x61] {
      XCTAssertFalse(PythonText.isSpace(Unicode.Scalar(v)!), String(v, radix: 16))
    }
  }

  func testWordIsPythonBackslashW() {
    for c: Unicode.Scalar in ["a", "Z", "0", "_", "\u{E9}", "\u{BD}", "\u{B2}", "\u{663}", "\u{2167}", "\u{4E00}", "\u{2B0}"] {
      XCTAssertTrue(PythonText.isWord(c), "U+\(String(c.value, radix: 16))")
    }
    for c: Unicode.Scalar in [" ", "-", "'", ".", "\u{301}", "\u{903}", "\u{A0}", "\u{2019}", "$"] {
      XCTAssertFalse(PythonText.isWord(c), "U+\(String(c.value, radix: 16))")
    }
  }

  func testStripRemovesUnicodeWhitespaceOnly() {
    assertSameBytes(PythonText.strip("\u{A0}\u{1C} a b \u{3000}\n"), "a b")
    assertSameBytes(PythonText.strip("\u{200B}x\u{200B}"), "\u{200B}x\u{200B}")
    assertSameBytes(PythonText.strip(" \t\n"), "")
  }
}
