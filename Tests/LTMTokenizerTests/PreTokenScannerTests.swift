import Foundation
import XCTest

@testable import LTMTokenizer

/// The hand-written scanner against the GPT-2 pattern: worked examples, tiktoken's goldens, and a differential
/// test against NSRegularExpression running the pattern itself.
final class PreTokenScannerTests: XCTestCase {
  static let pattern = #"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

  private func assertPieces(_ text: String, _ expected: [String], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(
      PreTokenScanner.pieces(of: text).map { Array($0.utf8) }, expected.map { Array($0.utf8) },
      "pieces of \(String(reflecting: text))", file: file, line: line)
  }

  func testWordsPunctuationAndLeadingSpace() {
    assertPieces("", [])
    assertPieces("Hello world, the cat", ["Hello", " world", ",", " the", " cat"])
    assertPieces("$100.00 C++", ["$", "100", ".", "00", " C", "++"])
  }

  func testContractionsAreAsciiLowerCaseAndOnlyStartAPiece() {
    assertPieces(
      "don't we'll they've you're I'm he'd",
      ["don", "'t", " we", "'ll", " they", "'ve", " you", "'re", " I", "'m", " he", "'d"])
    assertPieces("DON'T", ["DON", "'", "T"])
    assertPieces("it\u{2019}s", ["it", "\u{2019}", "s"])
    assertPieces("?'s", ["?'", "s"])  // inside an "other" run the apostrophe is punctuation
    assertPieces(" 's", [" '", "s"])
    assertPieces("'sup 'l 'll'", ["'s", "up", " '", "l", " '", "ll", "'"])
  }

  func testWhitespaceRunsGiveUpTheirLastCharacter() {
    assertPieces("a   b", ["a", "  ", " b"])
    assertPieces("a\t\tb", ["a", "\t", "\t", "b"])
    assertPieces("a \n b", ["a", " \n", " b"])
    assertPieces("a\u{A0}b", ["a", "\u{A0}", "b"])  // NBSP is white space but not the optional U+0020
    assertPieces("a\u{A0} b", ["a", "\u{A0}", " b"])
    assertPieces("x  ", ["x", "  "])  // a run at the end stays whole
    assertPieces("\r\n\r\nz", ["\r\n\r", "\n", "z"])
    assertPieces("a\u{2028}\u{3000}\u{85}b", ["a", "\u{2028}\u{3000}", "\u{85}", "b"])
  }

  func testUnicodeClasses() {
    assertPieces("x²³ Ⅻ ½", ["x", "²³", " Ⅻ", " ½"])  // non-decimal numbers are \p{N}
    assertPieces("e\u{301} \u{301}", ["e", "\u{301}", " \u{301}"])  // combining marks are neither L nor N
    assertPieces("中文 and 日本", ["中文", " and", " 日本"])
    assertPieces("👩‍💻!", ["👩‍💻!"])
    assertPieces("\u{1D400}\u{1D7D9}", ["\u{1D400}", "\u{1D7D9}"])
    assertPieces("a\u{200B}b", ["a", "\u{200B}", "b"])  // zero-width space is not White_Space
  }

  func testPiecesMatchTiktokenGoldens() throws {
    let cases = try TokenizerFixtures.goldens()
    var checked = 0
    for c in cases {
      guard let pieces = c.pieces else { continue }
      assertPieces(c.text, pieces)
      checked += 1
    }
    XCTAssertGreaterThan(checked, 300)
  }

  /// NSRegularExpression (ICU) runs the pattern verbatim. ICU's `\s` is the White_Space property, as in the Rust
  /// regex crate tiktoken uses (checked for VT, NEL, NBSP, U+2028, U+3000, U+001C–U+001F, U+200B); where ICU and
  /// tiktoken could still differ, the committed tiktoken goldens are the reference.
  func testScannerAgreesWithRegexOracle() throws {
    let regex = try NSRegularExpression(pattern: Self.pattern)
    var rng = TestRNG(seed: 0x5EED_0001)
    let texts = (0..<4000).map { _ in NastyAlphabet.string(&rng, maxPieces: 30) }
    var mismatches = 0
    for text in texts {
      let ns = NSString(string: text)
      let expected = regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map {
        Array(ns.substring(with: $0.range).utf8)
      }
      XCTAssertEqual(Array(expected.joined()), Array(text.utf8), "oracle does not cover \(String(reflecting: text))")
      let got = PreTokenScanner.pieces(of: text).map { Array($0.utf8) }
      if got != expected {
        mismatches += 1
        if mismatches <= 5 { XCTFail("scanner ≠ regex for \(String(reflecting: text)): \(got) vs \(expected)") }
      }
    }
    XCTAssertEqual(mismatches, 0)
  }

  func testLongRunsAreLinearAndCoverTheText() {
    let text = String(repeating: " ", count: 20_000) + "a" + String(repeating: "\n", count: 20_000)
    assertPieces(text, [String(repeating: " ", count: 19_999), " a", String(repeating: "\n", count: 20_000)])
  }

  func testStrayBytesAreOneByteOtherCharacters() {
    // Not reachable from a Swift String, but the scanner must not trap or loop on them.
    let bytes: [UInt8] = [0x61, 0xFF, 0x80, 0xE2, 0x82, 0x20, 0x62, 0xF0, 0x9F]
    var ends: [Int] = []
    bytes.withUnsafeBufferPointer { buffer in
      var scanner = PreTokenScanner(buffer)
      while let (_, end) = scanner.next() { ends.append(end) }
    }
    XCTAssertEqual(ends, [1, 5, 7, 9])
  }
}
