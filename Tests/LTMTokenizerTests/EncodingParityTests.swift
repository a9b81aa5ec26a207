import Foundation
import LTMTestSupport
import XCTest

@testable import LTMTokenizer

/// Token ids against tiktoken: the zero-shot pipeline fixtures (every example), the committed edge-case goldens,
/// and agreement of the three file formats.
final class EncodingParityTests: XCTestCase {
  func testHelloWorldInEveryFormat() throws {
    for (name, tokenizer) in try TokenizerFixtures.allFormats() {
      XCTAssertEqual(tokenizer.encode("Hello world, the cat"), [15496, 995, 11, 262, 3797], name)
      XCTAssertEqual(tokenizer.vocabularySize, 50257, name)
      XCTAssertEqual(tokenizer.decode([GPT2Tokenizer.endOfText]), "<|endoftext|>", name)
      XCTAssertFalse(tokenizer.encode("a<|endoftext|>b").contains(GPT2Tokenizer.endOfText), name)
    }
  }

  /// Every example of the four pipeline fixtures, in every format; the counts are checked against summary.json so
  /// a truncated fixture cannot pass.
  func testEveryPipelineExampleMatchesTiktoken() throws {
    let formats = try TokenizerFixtures.allFormats()
    let summary = try SharedData.json("fixtures/zero-shot-pipeline/summary.json")
    var total = 0
    for file in TokenizerFixtures.pipelineFiles {
      let examples = try TokenizerFixtures.pipelineExamples(file)
      let expectedCount = (summary[file] as? [String: Any])?["examples"] as? Int
      XCTAssertEqual(examples.count, expectedCount, "\(file): example count vs summary.json")
      var mismatches = 0
      for (index, example) in examples.enumerated() {
        for (name, tokenizer) in formats {
          let ids = tokenizer.encode(example.text)
          if ids != example.ids {
            mismatches += 1
            if mismatches <= 3 {
              XCTFail(
                "\(file) line \(index + 1) [\(name)]: \(String(reflecting: example.text)) → \(ids), expected \(example.ids)")
            }
          }
        }
      }
      XCTAssertEqual(mismatches, 0, file)
      total += examples.count
    }
    XCTAssertGreaterThan(total, 17_000)
  }

  func testEdgeCaseGoldensInEveryFormat() throws {
    let cases = try TokenizerFixtures.goldens()
    XCTAssertGreaterThan(cases.count, 400)
    for (name, tokenizer) in try TokenizerFixtures.allFormats() {
      for c in cases {
        XCTAssertEqual(tokenizer.encode(c.text), c.ids, "[\(name)] \(String(reflecting: c.text).prefix(80))")
      }
    }
  }

  /// The whole WikiText-2 test file in one call, against tiktoken's total count and ids of a known prefix.
  func testWholeFileMatchesSpotChecks() throws {
    let text = try String(contentsOf: SharedData.file("data/wikitext/wiki.test.raw"), encoding: .utf8)
    let ids = try TokenizerFixtures.standard().encode(text)
    XCTAssertEqual(ids.count, 286_221)  // tiktoken 0.14 encode_ordinary on the same file
    XCTAssertEqual(Array(ids.prefix(8)), [220, 198, 796, 5199, 347, 2852, 353, 796])
  }

  /// The formats must agree on random nasty text too, where the merges.txt ranks and tiktoken's "rank of the
  /// merged token" rule could in principle part ways.
  func testFormatsAgreeOnRandomText() throws {
    let formats = try TokenizerFixtures.allFormats()
    var rng = TestRNG(seed: 0xF0_4A75)
    for _ in 0..<2000 {
      let text = NastyAlphabet.string(&rng, maxPieces: 40)
      let reference = formats[0].tokenizer.encode(text)
      for (name, tokenizer) in formats.dropFirst() {
        XCTAssertEqual(tokenizer.encode(text), reference, "[\(name)] \(String(reflecting: text))")
      }
    }
  }

  func testWarmCacheGivesTheSameIds() throws {
    let model = try TokenizerFixtures.standard().model
    // A two-entry shard limit clears shards constantly: eviction must not change any result.
    let tiny = GPT2Tokenizer(model: model, cache: BPECache(entriesPerShard: 2))
    let fresh = GPT2Tokenizer(model: model)
    let examples = try TokenizerFixtures.pipelineExamples("wikitext-test").prefix(300)
    for pass in 0..<2 {
      for example in examples {
        XCTAssertEqual(fresh.encode(example.text), example.ids, "pass \(pass)")
        XCTAssertEqual(tiny.encode(example.text), example.ids, "pass \(pass), tiny cache")
      }
    }
    XCTAssertGreaterThan(fresh.cache.count, 100)
    XCTAssertLessThanOrEqual(tiny.cache.count, 2 * BPECache.shardCount)
  }
}
