import Foundation
import LTMTensor
import LTMTestSupport
import XCTest
@testable import LTMModels

/// MAUVE featurizer parity: `GPT2Model.features` against transformers' `GPT2Model` `hidden_states[-1]` at the last
/// token, what mauve-text's featurizer returns (tools/make_gpt2_metric_goldens.py), on gpt2-tiny, with WikiText token
/// ids (empty texts, a 1-token text and a 1183-token text that must be truncated to 1024).
final class GPT2FeaturesTests: XCTestCase {
  private var model: GPT2Model!
  private var golden: [String: Any]!

  override func setUpWithError() throws {
    BLAS.threads = 1
    let loaded = try ModelRegistry.load(path: try SharedData.file("fixtures/gpt2-tiny"))
    model = try XCTUnwrap(loaded.model as? GPT2Model)
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/featurizer/expected.json")
    golden = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
  }

  private func texts() throws -> [[Int32]] {
    try XCTUnwrap(golden["texts"] as? [[Int]]).map { $0.map(Int32.init) }
  }

  func testFeaturesMatchTransformers() throws {
    let out = try model.features(texts: try texts())
    let expected = try XCTUnwrap(golden["features"] as? [[Double]])
    XCTAssertEqual(out.keptIndices, try XCTUnwrap(golden["kept_indices"] as? [Int]))
    XCTAssertEqual(out.droppedEmpty, golden["dropped_empty"] as? Int)
    XCTAssertEqual(out.truncated, golden["truncated"] as? Int)
    XCTAssertEqual(out.rows, expected.count)
    XCTAssertEqual(out.dims, 64)
    var worst = 0.0
    for (r, row) in expected.enumerated() {
      for (c, want) in row.enumerated() {
        let got = Double(out.values[r * out.dims + c])
        worst = max(worst, abs(got - want))
        XCTAssertTrue(isClose(got, want, rtol: 1e-5, atol: 1e-5), "row \(r) col \(c): \(got) vs \(want)")
      }
    }
    XCTAssertLessThan(worst, 1e-5)
    print("featurizer vs transformers: largest absolute difference \(worst)")
  }

  func testBatchingAndOrderDoNotChangeFeatures() throws {
    let t = try texts()
    let together = try model.features(texts: t, batch: 8)
    let single = try model.features(texts: t, batch: 1)
    for (a, b) in zip(together.values, single.values) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    // A text's feature depends on that text only: featurize one kept text alone.
    let alone = try model.features(texts: [t[2]])
    for c in 0..<alone.dims { XCTAssertEqual(alone.values[c], together.values[1 * together.dims + c], accuracy: 1e-5) }
  }

  func testAllEmptyTextsGiveNoRows() throws {
    let out = try model.features(texts: [[], []])
    XCTAssertEqual(out.rows, 0)
    XCTAssertEqual(out.droppedEmpty, 2)
  }
}
