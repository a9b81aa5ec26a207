import Foundation
import XCTest

@testable import LTMTokenizer

/// The merge loop itself: rank order and tie-breaking on a tiny vocabulary, and the heap path against the scan.
final class BytePairMergeTests: XCTestCase {
  /// A tiktoken-format file: the 256 single bytes (rank = byte value) and then `extra` in rank order.
  private func tinyTiktoken(_ extra: [String]) -> Data {
    var lines = (0..<256).map { "\(Data([UInt8($0)]).base64EncodedString()) \($0)" }
    for (i, token) in extra.enumerated() { lines.append("\(Data(token.utf8).base64EncodedString()) \(256 + i)") }
    return Data((lines.joined(separator: "\n") + "\n").utf8)
  }

  /// The same vocabulary as vocab.json + merges.txt: `merges` are pairs in rank order; ids follow tiktoken's.
  private func tinyVocabJSON(_ merges: [(String, String)]) throws -> (Data, Data) {
    var vocab: [String: Int] = [:]
    for byte in 0..<256 { vocab[ByteUnicodeTable.text(of: [UInt8(byte)])] = byte }
    var lines = ["#version: 0.2"]
    for (i, (a, b)) in merges.enumerated() {
      vocab[ByteUnicodeTable.text(of: Array((a + b).utf8))] = 256 + i
      lines.append("\(ByteUnicodeTable.text(of: Array(a.utf8))) \(ByteUnicodeTable.text(of: Array(b.utf8)))")
    }
    return (try JSONSerialization.data(withJSONObject: vocab), Data(lines.joined(separator: "\n").utf8))
  }

  private func tinyTokenizers(_ merges: [(String, String)]) throws -> [GPT2Tokenizer] {
    let (vocab, mergeText) = try tinyVocabJSON(merges)
    return [
      try GPT2Tokenizer(tiktoken: tinyTiktoken(merges.map { $0.0 + $0.1 })),
      try GPT2Tokenizer(vocabJSON: vocab, merges: mergeText),
    ]
  }

  func testLowestRankMergesFirstNotLeftmost() throws {
    for tokenizer in try tinyTokenizers([("b", "c"), ("a", "b")]) {
      XCTAssertEqual(tokenizer.encode("abc"), [97, 256])  // (b,c) ranks before (a,b)
      XCTAssertEqual(tokenizer.encode("abd"), [257, 100])
    }
  }

  func testLeftmostWinsATie() throws {
    for tokenizer in try tinyTokenizers([("a", "a"), ("aa", "a")]) {
      XCTAssertEqual(tokenizer.encode("aaa"), [257])
      XCTAssertEqual(tokenizer.encode("aaaa"), [256, 256])  // aa|aa, not a|aaa: the left pair merges first
      XCTAssertEqual(tokenizer.encode("aaaaa"), [256, 257])
    }
  }

  func testHeapMergeMatchesScanningMerge() throws {
    for (name, tokenizer) in try TokenizerFixtures.allFormats().prefix(3) {
      let model = tokenizer.model
      var rng = TestRNG(seed: 0x4EA9)
      var samples: [[UInt8]] = [
        Array(String(repeating: " ", count: 3000).utf8), Array(String(repeating: "\n", count: 777).utf8),
        Array(String(repeating: "ab", count: 400).utf8), Array(String(repeating: "😀", count: 90).utf8),
      ]
      for _ in 0..<400 {
        let text = (0..<Int.random(in: 1...40, using: &rng)).map { _ in
          ["the", "ing", "a", "aa", " ", "  ", "\n", "中文", "é", "zz", "q", "'s", "1", "00"].randomElement(using: &rng)!
        }.joined()
        samples.append(Array(text.utf8))
      }
      for bytes in samples {
        var scanned: [Int32] = []
        var heaped: [Int32] = []
        bytes.withUnsafeBufferPointer { p in
          model.mergeByScanning(p.baseAddress!, p.count, into: &scanned)
          model.mergeWithHeap(p.baseAddress!, p.count, into: &heaped)
        }
        XCTAssertEqual(heaped, scanned, "[\(name)] \(bytes.count) bytes")
        XCTAssertEqual(tokenizer.decodeBytes(heaped), bytes)
      }
    }
  }

  func testByteUnicodeTable() {
    let scalars = ByteUnicodeTable.scalarForByte
    XCTAssertEqual(Set(scalars).count, 256)
    XCTAssertEqual(scalars[Int(UInt8(ascii: "A"))], 0x41)
    XCTAssertEqual(scalars[0x20], 0x120)  // space is Ġ
    XCTAssertEqual(scalars[0x0A], 0x10A)  // newline is Ċ
    XCTAssertEqual(scalars[0xAD], 0x143)  // soft hyphen is the last of the 68 remapped bytes
    XCTAssertEqual(scalars.filter { $0 >= 0x100 }.count, 68)
    for byte in 0..<256 {
      XCTAssertEqual(ByteUnicodeTable.byte(for: Unicode.Scalar(scalars[byte])!), UInt8(byte))
    }
    XCTAssertNil(ByteUnicodeTable.byte(for: " "))  // a raw space never appears in a vocabulary key
  }
}
