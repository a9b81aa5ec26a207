import Foundation
import LTMCheckpoint
import LTMTensor
import LTMTestSupport
import XCTest
@testable import LTMModels

/// Checkpoint loading: the authors' torch.save file, the safetensors + JSON layout, both key namings, and every
/// missing, renamed, unused or mismatched tensor and unsupported setting as an error that names it.
final class LTMLoadingTests: XCTestCase {
  private var root: PickleValue!
  private var config: LTMConfig!
  private var archive: TensorArchive!
  private var url: URL!

  override func setUpWithError() throws {
    BLAS.threads = 1
    url = try SharedData.file("fixtures/ltm-micro/ckpt.pt")
    root = try TorchCheckpoint.load(url)
    config = try LTMConfig.fromCheckpoint(root, source: "micro")
    archive = try XCTUnwrap(root["model"]).tensorArchive(file: url)
  }

  private func message(_ body: () throws -> Void) -> String {
    do { try body(); return "" } catch { return String(describing: error) }
  }

  private func renamed(_ rename: (String) -> String?) -> TensorArchive {
    var out = archive!
    out.tensors = [:]
    for (k, v) in archive.tensors { if let n = rename(k) { out.tensors[n] = v } }
    return out
  }

  private func probe(_ model: LTMModel) throws -> [Float] {
    let z = (0..<(8 * 32)).map { Float($0 % 7) * 0.1 - 0.3 }
    return try model.logits(inputs: [1, 5, 9, 200, 511, 0, 3], z: z)
  }

  func testRegistryLoadsTheAuthorsCheckpoint() throws {
    let loaded = try ModelRegistry.load(path: url)
    XCTAssertEqual(loaded.family, "ltm")
    XCTAssertEqual(loaded.checkpointFiles, [url])
    XCTAssertEqual(loaded.tokenizerDirectory.standardizedFileURL, url.deletingLastPathComponent().standardizedFileURL)
    let model = try XCTUnwrap(loaded.model as? LTMModel)
    XCTAssertEqual(model.descriptor.parameterCount, 512 * 32 + 2 * (8 * 32 * 32 + 3 * 32 * 96 + 3 * 32) + 32)
    XCTAssertEqual(model.descriptor.contextLength, 129)
    XCTAssertEqual(model.config.config.inferenceMethod, "adamVI")
  }

  func testPaperShapesHaveThePaperParameterCounts() {
    XCTAssertEqual(LTMModel.paperShape(layers: 3).modelArgs.parameterCount, 38_369_280)
    XCTAssertEqual(LTMModel.paperShape(layers: 6).modelArgs.parameterCount, 51_005_952)
    XCTAssertEqual(LTMModel.paperShape(layers: 12).modelArgs.parameterCount, 76_279_296)
    XCTAssertEqual(LTMModel.paperShape(layers: 3).modelArgs.ffnHiddenDim, 1376)
    XCTAssertEqual(LTMModel.paperShape(layers: 3).modelArgs.latentPositionInterval, 42)
  }

  /// The plain (use_liger=False) naming: no `_orig_mod.` segment and w1/w3/w2, and a whole-model `_orig_mod.`
  /// prefix, load the same weights.
  func testBothNamingsAndTheCompiledPrefixGiveTheSameModel() throws {
    let reference = try probe(try LTMModel(config: config, weights: archive, source: "micro"))
    let plain = renamed { k in
      k.replacingOccurrences(of: "._orig_mod.", with: ".")
        .replacingOccurrences(of: "feed_forward.gate_proj", with: "feed_forward.w1")
        .replacingOccurrences(of: "feed_forward.up_proj", with: "feed_forward.w3")
        .replacingOccurrences(of: "feed_forward.down_proj", with: "feed_forward.w2")
    }
    XCTAssertEqual(try probe(try LTMModel(config: config, weights: plain, source: "plain")), reference)
    let compiled = renamed { "_orig_mod." + $0 }
    XCTAssertEqual(try probe(try LTMModel(config: config, weights: compiled, source: "compiled")), reference)
    let untiedCopyAbsent = renamed { $0 == "output.weight" ? nil : $0 }
    XCTAssertEqual(try probe(try LTMModel(config: config, weights: untiedCopyAbsent, source: "no output")), reference)
    // Swapping w1 and w3 must change the model (gate ↔ w1, up ↔ w3).
    let swapped = renamed { k in
      k.replacingOccurrences(of: "feed_forward.gate_proj", with: "feed_forward.w3")
        .replacingOccurrences(of: "feed_forward.up_proj", with: "feed_forward.w1")
        .replacingOccurrences(of: "feed_forward.down_proj", with: "feed_forward.w2")
    }
    XCTAssertNotEqual(try probe(try LTMModel(config: config, weights: swapped, source: "swapped")), reference)
  }

  func testRenamedMissingUnusedAndMisshapenTensorsAreNamed() throws {
    let key = "layers.1.cross_attention._orig_mod.wk.weight"
    let renamedKey = renamed { $0 == key ? "layers.1.cross_attention._orig_mod.w_k.weight" : $0 }
    var m = message { _ = try LTMModel(config: config, weights: renamedKey, source: "micro") }
    XCTAssertTrue(m.contains("lacks 1 tensor") && m.contains(key), m)

    m = message { _ = try LTMModel(config: config, weights: renamed { $0 == "norm.weight" ? nil : $0 }, source: "micro") }
    XCTAssertTrue(m.contains("lacks 1 tensor") && m.contains("norm.weight"), m)

    var extra = archive!
    extra.tensors["layers.0.attention._orig_mod.wq.bias"] = archive.tensors["norm.weight"]
    m = message { _ = try LTMModel(config: config, weights: extra, source: "micro") }
    XCTAssertTrue(m.contains("nothing uses") && m.contains("layers.0.attention._orig_mod.wq.bias"), m)

    // A half-renamed MLP: w1 present alongside up_proj/down_proj.
    let mixed = renamed { $0 == "layers.0.feed_forward.gate_proj.weight" ? "layers.0.feed_forward.w1.weight" : $0 }
    m = message { _ = try LTMModel(config: config, weights: mixed, source: "micro") }
    XCTAssertTrue(m.contains("layers.0.feed_forward.w3.weight") || m.contains("layers.0.feed_forward.up_proj.weight"), m)

    var untied = archive!
    untied.tensors["output.weight"] = RawTensor(dtype: .f32, shape: [512, 32], bytes: Data(count: 512 * 32 * 4))
    m = message { _ = try LTMModel(config: config, weights: untied, source: "micro") }
    XCTAssertTrue(m.contains("output.weight"), m)

    var misshapen = archive!
    misshapen.tensors["layers.0.ffn_norm.weight"] = RawTensor(dtype: .f32, shape: [16], bytes: Data(count: 64))
    m = message { _ = try LTMModel(config: config, weights: misshapen, source: "micro") }
    XCTAssertTrue(m.contains("layers.0.ffn_norm.weight") && m.contains("[16]"), m)
  }

  func testUnsupportedSettingsAreErrors() throws {
    func failure(_ edit: (inout LTMConfig) -> Void) -> String {
      var c = config!
      edit(&c)
      return message { _ = try LTMModel(config: c, weights: archive, source: "micro") }
    }
    XCTAssertTrue(failure { $0.modelArgs.nKVHeads = 2 }.contains("n_kv_heads"))
    XCTAssertTrue(failure { $0.modelArgs.maxZLen = 9 }.contains("max_z_len"))
    XCTAssertTrue(failure { $0.modelArgs.nHeads = 3 }.contains("n_heads"))
    XCTAssertTrue(failure { $0.config.inferenceMethod = "langevin" }.contains("langevin"))
    XCTAssertTrue(failure { $0.config.zDim = 16 }.contains("z_dim"))
    XCTAssertTrue(failure { $0.config.maxZLen = 16 }.contains("max_z_len"))
    // A corrupt default must not run for years (#13): the checkpoint's num_steps is bounded, --inference-steps is not.
    XCTAssertTrue(failure { $0.modelArgs.maxSeqLen = 1 << 50 }.contains("max_seq_len 1125899906842624 is implausible"))
    let hang = failure { $0.config.numSteps = 1_000_000_000 }
    XCTAssertTrue(hang.contains("num_steps 1000000000 is implausible"), hang)
    XCTAssertEqual(failure { $0.config.numSteps = LTMPosteriorConfig.maxPlausibleSteps }, "")

    func decoding(_ json: String) -> String { message { _ = try LTMConfig.decode(Data(json.utf8), path: "c.json") } }
    let args = #""dim": 32, "n_layers": 2, "n_heads": 4, "vocab_size": 512, "multiple_of": 32, "max_seq_len": 128, "window_size": 16, "max_z_len": 8"#
    XCTAssertEqual(decoding(#"{"model_args": {\#(args)}}"#), "")
    let unknown = decoding(#"{"model_args": {\#(args), "use_flash_z": true}}"#)
    XCTAssertTrue(unknown.contains("use_flash_z"), unknown)
    let missing = decoding(#"{"model_args": {"dim": 32}}"#)
    XCTAssertTrue(missing.contains("missing key") && missing.contains("model_args"), missing)
    XCTAssertTrue(decoding(#"{"model_args": {\#(args.replacingOccurrences(of: "\"dim\": 32", with: "\"dim\": \"32\""))}}"#).contains("wrong type"))
  }

  /// The safetensors + JSON layout (`config.json` with model_type "ltm", authors' key names) loads through the
  /// registry and gives the same model as the .pt file.
  func testSafetensorsDirectoryLayout() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-st-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as! [String: Any]
    json["model_type"] = "ltm"
    try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("config.json"))
    try writeSafetensors(archive, to: dir.appendingPathComponent("model.safetensors"))
    let loaded = try ModelRegistry.load(path: dir)
    XCTAssertEqual(loaded.family, "ltm")
    let model = try XCTUnwrap(loaded.model as? LTMModel)
    XCTAssertEqual(model.config, config)
    XCTAssertEqual(try probe(model), try probe(try LTMModel(config: config, weights: archive, source: "micro")))
  }

  private func writeSafetensors(_ archive: TensorArchive, to url: URL) throws {
    var header: [String: Any] = [:]
    var body = Data()
    for key in archive.tensors.keys.sorted() {
      let t = archive.tensors[key]!
      let bytes = try t.floats().withUnsafeBufferPointer { Data(buffer: $0) }
      header[key] = ["dtype": "F32", "shape": t.shape, "data_offsets": [body.count, body.count + bytes.count]]
      body += bytes
    }
    var h = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    while h.count % 8 != 0 { h.append(0x20) }
    var out = Data()
    withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
    try (out + h + body).write(to: url)
  }
}
