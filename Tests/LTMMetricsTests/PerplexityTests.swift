import XCTest
@testable import LTMMetrics

final class PerplexityTests: XCTestCase {
  func testBothAggregations() throws {
    var acc = PerplexityAccumulator()
    try acc.add(blockNLL: 2 * 10, scoredTokens: 10)  // block ppl e^2
    try acc.add(blockNLL: 4 * 30, scoredTokens: 30)  // block ppl e^4
    let s = try acc.summary()
    XCTAssertEqual(s.blocks, 2)
    XCTAssertEqual(s.scoredTokens, 40)
    XCTAssertEqual(s.pplTokenWeighted, exp(140.0 / 40.0), accuracy: 1e-9)
    XCTAssertEqual(s.pplBlockMean, (exp(2.0) + exp(4.0)) / 2, accuracy: 1e-9)
    XCTAssertEqual(s.ppl(.blockMean), s.pplBlockMean)
  }

  func testRefusesEmptyAndNonFinite() {
    XCTAssertThrowsError(try PerplexityAccumulator().summary()) { XCTAssertEqual($0 as? PerplexityError, .noBlocks) }
    var acc = PerplexityAccumulator()
    XCTAssertThrowsError(try acc.add(blockNLL: .nan, scoredTokens: 3))
    XCTAssertThrowsError(try acc.add(blockNLL: 1, scoredTokens: 0))
  }

  /// The gpt2-tiny golden aggregations follow from its per-block sums (4 blocks × 1023 tokens).
  func testMatchesGoldenAggregation() throws {
    let expected = try SharedDataJSON.gpt2TinyZeroShot()
    for (proto, entry) in expected {
      var acc = PerplexityAccumulator()
      for nll in entry.sums { try acc.add(blockNLL: nll, scoredTokens: entry.scored / entry.sums.count) }
      let s = try acc.summary()
      XCTAssertEqual(s.pplTokenWeighted, entry.tokenWeighted, accuracy: entry.tokenWeighted * 1e-9, proto)
      XCTAssertEqual(s.pplBlockMean, entry.blockMean, accuracy: entry.blockMean * 1e-9, proto)
    }
  }
}

import LTMTestSupport
enum SharedDataJSON {
  static func gpt2TinyZeroShot() throws -> [String: (sums: [Double], scored: Int, tokenWeighted: Double, blockMean: Double)] {
    let root = try SharedData.json("fixtures/gpt2-tiny/expected.json")
    let blocks = try XCTUnwrap(root["zero_shot_first_blocks"] as? [String: Any])
    var out: [String: (sums: [Double], scored: Int, tokenWeighted: Double, blockMean: Double)] = [:]
    for (k, v) in blocks {
      let d = try XCTUnwrap(v as? [String: Any])
      out[k] = (
        try XCTUnwrap(d["nll_sum_per_block"] as? [Double]), try XCTUnwrap(d["scored_tokens"] as? Int),
        try XCTUnwrap(d["ppl_token_weighted"] as? Double), try XCTUnwrap(d["ppl_block_mean"] as? Double)
      )
    }
    XCTAssertEqual(out.count, 2)
    return out
  }
}
