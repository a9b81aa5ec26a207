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

/// Sizes from a config that disagrees with the checkpoint (#13): a `config.json` claiming 10¹² layers (GPT-2
/// `n_layer`, MDLM `n_blocks`) or a 2⁴⁰-wide embedding must be refused in well under a second, naming missing
/// tensors, before the loader allocates or loops on the config's word.
final class HostileConfigTests: XCTestCase {
  private func copy(_ fixture: String, editing key: String, to value: Any) throws -> URL {
    let source = try SharedData.file("fixtures/\(fixture)")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-bomb-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
      try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent(name), withDestinationURL: source.appendingPathComponent(name))
    }
    let configURL = dir.appendingPathComponent("config.json")
    var config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
    config[key] = value
    try FileManager.default.removeItem(at: configURL)
    try JSONSerialization.data(withJSONObject: config).write(to: configURL)
    return dir
  }

  func testConfigsThatSizeBeyondTheCheckpointAreRefusedFast() throws {
    for (fixture, key, value, needle) in [
      ("gpt2-tiny", "n_layer", 1_000_000_000_000, "lacks"), ("mdlm-gpt2vocab", "n_blocks", 1_000_000_000_000, "lacks"),
      ("gpt2-tiny", "n_embd", 1 << 40, "has shape"),
    ] as [(String, String, Int, String)] {
      let dir = try copy(fixture, editing: key, to: value)
      let started = Date()
      XCTAssertThrowsError(try ModelRegistry.load(path: dir), "\(fixture) \(key)") { error in
        let text = String(describing: error)
        XCTAssertTrue(text.contains(needle) && !text.contains("\n"), "\(fixture) \(key): \(text.prefix(300))")
      }
      XCTAssertLessThan(Date().timeIntervalSince(started), 5, "\(fixture) \(key)")
    }
  }

  /// A value of the wrong kind is named with its key, not reported as "not valid JSON".
  func testAWrongKindOfValueNamesItsKey() throws {
    let dir = try copy("gpt2-tiny", editing: "n_layer", to: 2.5)
    XCTAssertThrowsError(try ModelRegistry.load(path: dir)) { error in
      let text = String(describing: error)
      XCTAssertTrue(text.contains("key n_layer") && !text.contains("not valid JSON"), text)
    }
  }
}
