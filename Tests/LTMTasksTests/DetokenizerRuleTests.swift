import XCTest
@testable import LTMTasks

/// Rule-by-rule checks of the detokenizers against the MDLM authors' own functions: the expected strings were made
/// by running `dataloader.py`'s detokenizers on each input (`tools/make_reference_text_goldens.py`), so each case
/// pins one rule's exact behaviour, including the reference's quirks.
final class DetokenizerRuleTests: XCTestCase {
  func testEveryRuleMatchesThePythonReference() throws {
    let golden = try XCTUnwrap(ReferenceTextGoldens.load()["detokenizers"] as? [String: Any])
    let cases = try XCTUnwrap(golden["cases"] as? [[String: String]])
    XCTAssertGreaterThanOrEqual(cases.count, 50)
    var covered = Set<Detokenizer>()
    for c in cases {
      let detokenizer = try XCTUnwrap(c["detokenizer"].flatMap(Detokenizer.init(rawValue:)), "\(c)")
      let input = try XCTUnwrap(c["input"]), expected = try XCTUnwrap(c["expected"])
      assertSameBytes(detokenizer.apply(input), expected, "\(detokenizer.rawValue), \(c["why"] ?? "")")
      covered.insert(detokenizer)
    }
    XCTAssertEqual(covered, Set(Detokenizer.allCases).subtracting([.none]), "every reference detokenizer has cases")
  }

  func testNoneLeavesTextUntouched() {
    assertSameBytes(Detokenizer.none.apply(" a  N 's \n"), " a  N 's \n")
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
