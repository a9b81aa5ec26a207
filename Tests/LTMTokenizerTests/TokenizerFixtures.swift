import Foundation
import LTMTestSupport
import XCTest

@testable import LTMTokenizer

/// Tokenizers and reference data shared by the test classes. Loading is cheap (well under a second for all three
/// formats) but done once; a missing shared file throws, so the test that asked fails rather than skips.
enum TokenizerFixtures {
  static func gpt2Directory() throws -> URL { try SharedData.file("data/gpt2") }

  /// The tokenizer `load(directory:)` picks for the shared folder (vocab.json + merges.txt).
  static func standard() throws -> GPT2Tokenizer { try cached.standard.get() }

  /// One tokenizer per file format, in the order vocab.json+merges.txt, encoder.json+vocab.bpe, gpt2.tiktoken.
  static func allFormats() throws -> [(name: String, tokenizer: GPT2Tokenizer)] { try cached.formats.get() }

  private static let cached:
    (standard: Result<GPT2Tokenizer, Error>, formats: Result<[(name: String, tokenizer: GPT2Tokenizer)], Error>) =
  {
    let standard = Result { try GPT2Tokenizer.load(directory: gpt2Directory()) }
    let formats = Result { () throws -> [(name: String, tokenizer: GPT2Tokenizer)] in
      let dir = try gpt2Directory()
      func data(_ name: String) throws -> Data { try Data(contentsOf: SharedData.file("data/gpt2/\(name)")) }
      return [
        ("vocab.json+merges.txt", try GPT2Tokenizer(vocabJSON: data("vocab.json"), merges: data("merges.txt"))),
        ("encoder.json+vocab.bpe", try GPT2Tokenizer(encoderJSON: data("encoder.json"), vocabBPE: data("vocab.bpe"))),
        ("gpt2.tiktoken", try GPT2Tokenizer(tiktoken: data("gpt2.tiktoken"))),
        ("load(directory:)", try GPT2Tokenizer.load(directory: dir)),
      ]
    }
    return (standard, formats)
  }()

  /// One edge case written by `tools/make_tokenizer_goldens.py` from real tiktoken.
  struct GoldenCase {
    var text: String
    var ids: [Int32]
    /// The pre-tokenizer pieces (from Python's `regex`, checked against tiktoken's ids), when the script kept them.
    var pieces: [String]?
  }

  /// The committed goldens, read next to this file (no SwiftPM resources).
  static func goldens() throws -> [GoldenCase] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/gpt2-edge-cases.json")
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
    guard let cases = object?["cases"] as? [[String: Any]] else { throw FixtureError(message: url.path + " (no cases)") }
    return try cases.map { c in
      guard let text = c["text"] as? String, let ids = c["ids"] as? [Int] else {
        throw FixtureError(message: url.path + " (a case lacks text or ids)")
      }
      return GoldenCase(text: text, ids: ids.map(Int32.init), pieces: c["pieces"] as? [String])
    }
  }

  /// Reference examples of one zero-shot fixture file: `detok` text and tiktoken's ids for it.
  static func pipelineExamples(_ name: String) throws -> [(text: String, ids: [Int32])] {
    try SharedData.jsonLines("fixtures/zero-shot-pipeline/\(name).jsonl").enumerated().map { (line, obj) in
      guard let text = obj["detok"] as? String, let ids = obj["ids"] as? [Int] else {
        throw FixtureError(message: "\(name).jsonl line \(line + 1) (no detok or ids)")
      }
      return (text, ids.map(Int32.init))
    }
  }

  static let pipelineFiles = ["ptb-valid", "ptb-test", "wikitext-test", "lm1b-heldout-00010"]
}

/// Deterministic generator for the randomized tests (SplitMix64), so a failure reproduces.
struct TestRNG: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Building blocks for random strings that hit the pre-tokenizer's corners: every kind of space (including
/// NBSP, U+3000, U+2028, NEL, VT), apostrophes and contractions (also upper case and U+2019), digits and
/// non-decimal numbers, letters from several scripts and planes, combining marks, emoji sequences, U+FFFD.
enum NastyAlphabet {
  static let pieces: [String] =
    Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789").map(String.init)
    + Array("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~").map(String.init)
    + Array(repeating: " ", count: 12)
    + ["\t", "\n", "\n\n", "\r\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{3000}", "\u{2028}", "\u{2029}",
      "\u{2003}", "\u{202F}", "\u{1680}", "\u{1C}", "\u{1F}", "   ", "\t \n"]
    + ["'", "'", "'", "'", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "\u{2019}s", "'l", "'v"]
    + ["\u{301}", "\u{308}", "\u{20DD}", "\u{93F}"]
    + ["é", "ß", "ǅ", "ʰ", "中", "文", "あ", "한", "ж", "Ω", "א", "ع", "\u{1D400}", "\u{10348}"]
    + ["²", "½", "Ⅻ", "٣", "\u{1D7D9}", "①"]
    + ["😀", "👩‍💻", "🇺🇸", "❤️", "\u{200D}", "\u{FE0F}"]
    + ["\u{FFFD}", "\u{AD}", "\u{200B}", "\u{FEFF}", "<|endoftext|>"]
    + ["the", " the", "ing", " of"]

  static func string(_ rng: inout TestRNG, maxPieces: Int) -> String {
    let n = Int.random(in: 1...maxPieces, using: &rng)
    return (0..<n).map { _ in pieces.randomElement(using: &rng)! }.joined()
  }
}

/// Compares UTF-8 bytes, not `String` equality (which treats canonically equivalent text as equal).
func XCTAssertSameBytes(
  _ a: String, _ b: String, _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual(Array(a.utf8), Array(b.utf8), message(), file: file, line: line)
}

/// A fixture file that exists but does not have the expected shape.
struct FixtureError: Error, CustomStringConvertible {
  let message: String
  var description: String { message }
}
