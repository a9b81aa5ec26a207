import Foundation
import LTMTestSupport
import XCTest
@testable import LTMModels

/// One tiny GPT-2 saved as `pytorch_model.bin` (prefixed keys, tied `lm_head` sharing wte's storage, mask buffers)
/// and as sharded safetensors (bare keys): both load through the registry and give the logits of an independent
/// float64 numpy forward (`tools/make_gpt2_format_fixtures.py`).
final class GPT2CheckpointFormatTests: XCTestCase {
  private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/gpt2-formats")

  func testTorchBinAndShardedSafetensorsMatchTheReference() throws {
    let expected = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("expected.json"))) as? [String: Any])
    let ids = try XCTUnwrap(expected["ids"] as? [Int]).map(Int32.init)
    let reference = try XCTUnwrap(expected["logits"] as? [[Double]])
    for layout in ["bin", "sharded"] {
      let loaded = try ModelRegistry.load(path: fixtures.appendingPathComponent(layout))
      let model = try XCTUnwrap(loaded.model as? GPT2Model)
      XCTAssertEqual(loaded.checkpointFiles.count, layout == "bin" ? 2 : 3, "\(layout): config + weight files")
      let logits = try model.logits(tokens: ids)
      var worst = 0.0
      for (r, row) in reference.enumerated() {
        for (c, value) in row.enumerated() {
          worst = max(worst, abs(Double(logits[r * 300 + c]) - value) / max(1, abs(value)))
        }
      }
      XCTAssertLessThan(worst, 1e-5, "\(layout): worst relative logit error \(worst)")
    }
  }
}
