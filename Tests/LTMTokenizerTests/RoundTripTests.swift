import Foundation
import LTMTestSupport
import XCTest

@testable import LTMTokenizer

/// `decode(encode(s))` gives back the exact bytes of `s`; bytes that are not UTF-8 decode to U+FFFD.
final class RoundTripTests: XCTestCase {
  static let tricky: [String] = [
    "", " ", "\u{FFFD}", "a\u{FFFD}\u{FFFD}b", " \u{301}", "  \u{301}\u{308}x", "👩‍👩‍👧‍👦 👨🏽‍🚀", "🇺🇸🇬🇧",
    "line\r\nline\r\n", "\t\t\tx\t", String(repeating: " ", count: 5000), String(repeating: "\n", count: 4000),
    String(repeating: " \n\t", count: 1500) + "end", "a\u{A0}\u{A0}b\u{3000}c\u{2028}d\u{85}e",
    "naïve café Ελληνικά русский 中文 العربية हिन्दी",
    "e\u{301} vs é", "\u{FEFF}\u{200B}\u{AD}", "<|endoftext|>", String(repeating: "x", count: 3000),
    String(repeating: "😀", count: 500), "'s'S'll'LL'", "\u{1D400}\u{1D7D9}\u{10348}",
  ]

  func testTrickyStrings() throws {
    for (name, tokenizer) in try TokenizerFixtures.allFormats() {
      for text in Self.tricky {
        XCTAssertSameBytes(
          tokenizer.decode(tokenizer.encode(text)), text, "[\(name)] \(String(reflecting: text).prefix(60))")
      }
    }
  }

  func testRandomNastyStrings() throws {
    let tokenizer = try TokenizerFixtures.standard()
    var rng = TestRNG(seed: 0xDEC0DE)
    for _ in 0..<3000 {
      let text = NastyAlphabet.string(&rng, maxPieces: 60)
      XCTAssertSameBytes(tokenizer.decode(tokenizer.encode(text)), text, String(reflecting: text))
    }
  }

  func testWholeWikiTextFile() throws {
    let text = try String(contentsOf: SharedData.file("data/wikitext/wiki.test.raw"), encoding: .utf8)
    let tokenizer = try TokenizerFixtures.standard()
    XCTAssertSameBytes(tokenizer.decode(tokenizer.encode(text)), text)
  }

  func testBytesThatAreNotUTF8DecodeToReplacementCharacters() throws {
    let tokenizer = try TokenizerFixtures.standard()
    let b = tokenizer.model.byteTokens
    XCTAssertEqual(tokenizer.decode([b[0xFF]]), "\u{FFFD}")
    XCTAssertEqual(tokenizer.decode([b[0x61], b[0xE2], b[0x82]]), "a\u{FFFD}")  // a truncated "€"
    XCTAssertEqual(tokenizer.decode([b[0xE2], b[0x82], b[0xAC]]), "€")
    XCTAssertEqual(tokenizer.decode([b[0x80], b[0x61]]), "\u{FFFD}a")
    // A multi-byte character split across tokens: each half alone is invalid, together they are fine.
    let ids = tokenizer.encode("\u{1D7D9}")
    XCTAssertGreaterThan(ids.count, 1)
    XCTAssertEqual(tokenizer.decode(ids), "\u{1D7D9}")
    XCTAssertTrue(tokenizer.decode(Array(ids.prefix(1))).unicodeScalars.allSatisfy { $0 == "\u{FFFD}" })
  }

  func testIdsOutsideTheVocabularyDecodeToReplacementCharacters() throws {
    let tokenizer = try TokenizerFixtures.standard()
    XCTAssertEqual(tokenizer.decode([-1, 50257, Int32.max, 262]), "\u{FFFD}\u{FFFD}\u{FFFD} the")
    XCTAssertEqual(tokenizer.decodeBytes([262, GPT2Tokenizer.endOfText]), Array(" the<|endoftext|>".utf8))
    XCTAssertEqual(tokenizer.decode([]), "")
  }
}
