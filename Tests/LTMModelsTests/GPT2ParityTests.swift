import Foundation
import LTMCheckpoint
import LTMTensor
import LTMTestSupport
import XCTest
@testable import LTMModels

/// GPT-2 forward parity with transformers' `GPT2LMHeadModel` on the `gpt2-tiny` fixture (random weights,
/// n_embd 64, 2 layers, 4 heads, vocab 50257), fp32, single-threaded.
final class GPT2ParityTests: XCTestCase {
  private var expected: [String: Any]!
  private var model: GPT2Model!

  override func setUpWithError() throws {
    BLAS.threads = 1
    expected = try SharedData.json("fixtures/gpt2-tiny/expected.json")
    let loaded = try ModelRegistry.load(path: try SharedData.file("fixtures/gpt2-tiny"))
    model = try XCTUnwrap(loaded.model as? GPT2Model)
  }

  private func doubles(_ key: String) throws -> [Double] { try XCTUnwrap(expected[key] as? [Double], key) }

  func testLogitsOfASentenceMatchTransformers() throws {
    let ids = try XCTUnwrap(expected["ids"] as? [Int]).map(Int32.init)
    let v = model.config.vocabSize
    let logits = try model.logits(tokens: ids)
    XCTAssertEqual(logits.count, ids.count * v)
    let first = try doubles("logits_first_token_first8"), last = try doubles("logits_last_token_first8")
    for i in 0..<8 {
      XCTAssertTrue(isClose(Double(logits[i]), first[i], rtol: 1e-4, atol: 1e-5), "first row [\(i)]: \(logits[i]) vs \(first[i])")
      let l = Double(logits[(ids.count - 1) * v + i])
      XCTAssertTrue(isClose(l, last[i], rtol: 1e-4, atol: 1e-5), "last row [\(i)]: \(l) vs \(last[i])")
    }
    let sums = try doubles("logits_row_sum")
    let argmax = try XCTUnwrap(expected["argmax"] as? [Int])
    for r in 0..<ids.count {
      let row = logits[(r * v)..<((r + 1) * v)]
      let sum = row.reduce(0.0) { $0 + Double($1) }
      // Row sums cancel heavily (|sum| ≪ Σ|x|), so compare against the row's scale, not the sum's.
      let scale = row.reduce(0.0) { $0 + abs(Double($1)) }
      XCTAssertEqual(sum, sums[r], accuracy: 1e-5 * scale, "row \(r) sum")
      XCTAssertEqual(row.indices.max { row[$0] < row[$1] }! - r * v, argmax[r], "row \(r) argmax")
    }
  }

  /// Per-block NLL sums of the first 4 PTB-validation blocks under both block layouts. The blocks are built here
  /// from the pipeline fixture's token ids, so this isolates the model from the tokenizer and task code.
  func testBlockNLLMatchesTransformersUnderBothLayouts() throws {
    let examples = try SharedData.jsonLines("fixtures/zero-shot-pipeline/ptb-valid.jsonl")
    var stream: [Int32] = []
    for e in examples.prefix(400) { stream += try XCTUnwrap(e["ids"] as? [Int]).map(Int32.init) + [50256] }
    let golden = try XCTUnwrap(expected["zero_shot_first_blocks"] as? [String: [String: Any]])
    let layouts: [String: [[Int32]]] = [
      "ltm": (0..<4).map { Array(stream[($0 * 1024)..<(($0 + 1) * 1024)]) },
      "mdlm": (0..<4).map { [50256] + Array(stream[($0 * 1022)..<(($0 + 1) * 1022)]) + [50256] },
    ]
    for (name, blocks) in layouts {
      let sums = try XCTUnwrap(golden[name]?["nll_sum_per_block"] as? [Double])
      let scores = try model.score(blocks: Array(blocks.prefix(2))) + model.score(blocks: Array(blocks.suffix(2)))
      for (i, s) in scores.enumerated() {
        XCTAssertEqual(s.scoredTokens, 1023)
        XCTAssertTrue(isClose(s.nllSum, sums[i], rtol: 1e-5), "\(name) block \(i): \(s.nllSum) vs \(sums[i])")
      }
    }
  }

  func testBatchingDoesNotChangeScores() throws {
    var rng = SplitMix64(seed: 5)
    let blocks = (0..<3).map { _ in (0..<300).map { _ in Int32(rng.next() % 50257) } }
    let together = try model.score(blocks: blocks)
    for (i, b) in blocks.enumerated() {
      XCTAssertEqual(try model.score(blocks: [b])[0].tokenNLL, together[i].tokenNLL, "block \(i)")
    }
  }

  func testDescriptorAndParameterCount() {
    XCTAssertEqual(model.descriptor.family, "gpt2")
    XCTAssertEqual(model.descriptor.bound, .exact)
    XCTAssertEqual(model.descriptor.contextLength, 1024)
    // wte 50257·64 + wpe 1024·64 + 2 layers · (4·64 LN + 64·192+192 + 64·64+64 + 64·256+256 + 256·64+64) + ln_f 128
    let perLayer = 4 * 64 + (64 * 192 + 192) + (64 * 64 + 64) + (64 * 256 + 256) + (256 * 64 + 64)
    XCTAssertEqual(model.descriptor.parameterCount, 50257 * 64 + 1024 * 64 + 2 * perLayer + 128)
  }

  func testOutOfVocabularyTokenIsAnError() {
    XCTAssertThrowsError(try model.score(blocks: [[1, 2, 50257]])) { error in
      XCTAssertTrue(String(describing: error).contains("50257"), "\(error)")
    }
  }
}
