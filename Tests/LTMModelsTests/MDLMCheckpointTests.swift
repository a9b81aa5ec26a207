import Foundation
import LTMCheckpoint
import LTMTensor
import LTMTestSupport
import XCTest
@testable import LTMModels

/// MDLM checkpoints beyond the HF layout (tools/make_mdlm_sampler_fixture.py): a Lightning `.ckpt` whose EMA
/// weights differ from its state_dict (loading must give the EMA logits), and a time-conditioned DiT at two σ.
final class MDLMCheckpointTests: XCTestCase {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/mdlm")

  override func setUp() {
    BLAS.threads = 1
    Parallel.threads = 1
  }

  /// ‖a − b‖ / ‖b‖ (norm-wise, as the other parity tests).
  func relativeError(_ a: [Float], _ b: [Float]) -> Double {
    XCTAssertEqual(a.count, b.count)
    var num = 0.0, den = 0.0
    for (x, y) in zip(a, b) {
      num += (Double(x) - Double(y)) * (Double(x) - Double(y))
      den += Double(y) * Double(y)
    }
    return (num / den).squareRoot()
  }

  /// The logits of the EMA weights as the authors evaluate them (their `ExponentialMovingAverage.copy_to` onto their
  /// DIT, `tools/make_mdlm_dit_goldens.py`), not those of the state_dict weights.
  func testLightningCheckpointLoadsTheEMAWeights() throws {
    let url = Self.fixtures.appendingPathComponent("lightning.ckpt")
    let loaded = try ModelRegistry.load(path: url)
    XCTAssertEqual(loaded.family, "mdlm")
    let model = try XCTUnwrap(loaded.model as? MDLMModel)
    XCTAssertEqual(model.checkpointWeights, .ema(count: 30))
    // The config came from the OmegaConf hyper_parameters (no config.json beside the file).
    XCTAssertEqual(model.config, MDLMConfig(hiddenDim: 32, condDim: 16, nBlocks: 2, nHeads: 4, vocabSize: 513, modelLength: 64))
    let expected = try Safetensors.load(Self.fixtures.appendingPathComponent("lightning-expected.safetensors"))
    let xt = try expected.tensors["xt"]!.int64s().map { Int32($0) }
    let logits = try model.logits(tokens: xt)
    let ema = try expected.tensors["ema_logits"]!.floats(), raw = try expected.tensors["raw_logits"]!.floats()
    XCTAssertLessThan(relativeError(logits, ema), 1e-5, "EMA logits")
    XCTAssertGreaterThan(relativeError(logits, raw), 1e-2, "the raw state_dict weights would give other logits")
  }

  /// The decoded checkpoint, with `edit` applied to its `ema` entry.
  func lightningRoot(editingEMA edit: (PickleValue) -> PickleValue?) throws -> PickleValue {
    let root = try TorchCheckpoint.load(Self.fixtures.appendingPathComponent("lightning.ckpt"), verifyChecksums: true, opaqueGlobals: true)
    let entries = try XCTUnwrap(root.dictEntries, "lightning.ckpt's root is a dict")
    return .dict(entries.compactMap { e in
      guard e.key.stringValue == "ema" else { return e }
      return edit(e.value).map { (key: e.key, value: $0) }
    })
  }

  func testEMAListMismatchesFail() throws {
    func replacingShadow(_ f: @escaping ([PickleValue]) -> [PickleValue]) -> (PickleValue) -> PickleValue? {
      { ema in
        guard case .dict(let entries) = ema else { return ema }
        return .dict(entries.map { e in e.key.stringValue == "shadow_params" ? (key: e.key, value: .list(f(e.value.arrayValue!))) : e })
      }
    }
    let url = URL(fileURLWithPath: "/x/lightning.ckpt")
    let short = try lightningRoot(editingEMA: replacingShadow { Array($0.dropLast()) })
    XCTAssertThrowsError(try MDLMModel.lightningWeights(short, file: url)) {
      XCTAssertTrue("\($0)".contains("holds 29 tensors but the state_dict has 30 parameters"), "\($0)")
    }
    let swapped = try lightningRoot(editingEMA: replacingShadow { var l = $0; l.swapAt(0, 1); return l })
    XCTAssertThrowsError(try MDLMModel.lightningWeights(swapped, file: url)) {
      XCTAssertTrue("\($0)".contains("has shape"), "\($0)")
    }
    // Without an EMA entry the state_dict is used, and says so.
    let plain = try lightningRoot { _ in nil }
    let (archive, weights) = try MDLMModel.lightningWeights(plain, file: url)
    XCTAssertEqual(weights, .stateDict)
    XCTAssertEqual(archive.tensors.count, 31)
  }

  /// A config.json beside the checkpoint wins over hyper_parameters; with neither, the error says what to provide.
  func testConfigBesideTheCheckpointOrAClearError() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mdlm-ckpt-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let ckpt = dir.appendingPathComponent("mdlm.ckpt")
    try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("lightning.ckpt"), to: ckpt)
    var config = try JSONSerialization.jsonObject(with: Data(contentsOf: try SharedData.file("fixtures/mdlm-micro/config.json"))) as! [String: Any]
    config["model_length"] = 32  // differs from hyper_parameters' 64: shows which one was read
    try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
    let model = try XCTUnwrap(try ModelRegistry.load(path: ckpt).model as? MDLMModel)
    XCTAssertEqual(model.config.modelLength, 32)
    XCTAssertEqual(model.checkpointWeights, .ema(count: 30))

    let root = try TorchCheckpoint.load(Self.fixtures.appendingPathComponent("lightning.ckpt"), verifyChecksums: true, opaqueGlobals: true)
    guard case .dict(let entries) = root else { return XCTFail("not a dict") }
    let bare = PickleValue.dict(entries.filter { $0.key.stringValue != "hyper_parameters" })
    let (archive, _) = try MDLMModel.lightningWeights(bare, file: ckpt)
    XCTAssertThrowsError(try MDLMModel.lightningConfig(bare, archive: archive, path: ckpt.path)) {
      XCTAssertTrue("\($0)".contains("put the Hugging Face MDLM config.json"), "\($0)")
    }
  }

  func testHyperParametersAreReadWithoutExecutingOmegaConf() throws {
    let url = Self.fixtures.appendingPathComponent("lightning.ckpt")
    // The strict decoder refuses the OmegaConf globals outright.
    XCTAssertThrowsError(try TorchCheckpoint.load(url)) {
      XCTAssertTrue("\($0)".contains("omegaconf"), "\($0)")
    }
    let root = try TorchCheckpoint.load(url, verifyChecksums: true, opaqueGlobals: true)
    guard case .object(let type, _)? = root["hyper_parameters"]?["config"] else { return XCTFail("DictConfig record expected") }
    XCTAssertEqual(type, "omegaconf.dictconfig.DictConfig")
    let config = try XCTUnwrap(MDLMModel.omegaConf(root["hyper_parameters"]!)?["config"])
    XCTAssertEqual(config["parameterization"]?.stringValue, "subs")
    XCTAssertEqual(config["noise"]?["type"]?.stringValue, "loglinear")
    XCTAssertEqual(config["training"]?["sampling_eps"]?.doubleValue, 1e-3)
    XCTAssertEqual(config["model"]?["hidden_size"]?.intValue, 32)
  }

  /// A time-conditioned DiT (σ-embedding and adaLN on) against the MDLM authors' own `models/dit.py` at two σ values,
  /// one σ for both blocks and one σ per block (the bound's path).
  func testTimeConditionedForwardMatchesTheReferenceAtTwoSigmas() throws {
    let dir = Self.fixtures.appendingPathComponent("timecond")
    let model = try XCTUnwrap(try ModelRegistry.load(path: dir).model as? MDLMModel)
    XCTAssertTrue(model.config.timeConditioning)
    let expected = try Safetensors.load(dir.appendingPathComponent("expected.safetensors"))
    let ids = try expected.tensors["xt"]!.int64s().map { Int32($0) }
    let t = model.config.modelLength
    let blocks = [Array(ids[0..<t]), Array(ids[t...])]
    let sigmas = try expected.tensors["sigmas"]!.floats().map(Double.init)
    let v = model.config.vocabSize
    for (i, sigma) in sigmas.enumerated() {
      let want = try expected.tensors["logits_\(i)"]!.floats()
      for (b, block) in blocks.enumerated() {
        let got = try model.logits(tokens: block, sigma: sigma)
        // The authors' DIT (tools/make_mdlm_dit_goldens.py). Observed 1e-6 to 1.3e-5: this 16-wide fixture's weights
        // are scaled far from uniform, which amplifies fp32 rounding; a wrong σ path moves the logits by > 1e-2.
        XCTAssertLessThan(relativeError(got, Array(want[(b * t * v)..<((b + 1) * t * v)])), 5e-5, "σ = \(sigma), block \(b)")
        print("time-conditioned σ = \(sigma), block \(b): rel. error \(relativeError(got, Array(want[(b * t * v)..<((b + 1) * t * v)])))")
      }
    }
    // Per-block σ in one batch (the bound's path, block b at sigmas[b]): log p(x0 | x_t) on masked positions from
    // the reference logits, log-softmax over the real tokens (SUBS).
    let perBlock = try expected.tensors["logits_per_block"]!.floats()
    let x0 = blocks.map { $0.enumerated().map { $0.element == model.config.maskIndex ? Int32(($0.offset * 5) % (v - 1)) : $0.element } }
    let logp = try model.logProbabilities(x0: x0, xt: blocks, sigmas: sigmas)
    var checked = 0
    for b in 0..<2 {
      for p in 0..<t where blocks[b][p] == model.config.maskIndex {
        let row = perBlock[((b * t + p) * v)..<((b * t + p) * v + v - 1)].map(Double.init)
        let m = row.max()!
        let lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
        let want = row[Int(x0[b][p])] - lse
        XCTAssertEqual(Double(logp[b][p]), want, accuracy: 1e-4 * max(1, abs(want)), "block \(b) position \(p)")
        checked += 1
      }
    }
    XCTAssertGreaterThan(checked, 4)
    // σ matters: the two reference outputs differ, and so do ours.
    let a = try model.logits(tokens: blocks[0], sigma: sigmas[0]), c = try model.logits(tokens: blocks[0], sigma: sigmas[1])
    XCTAssertGreaterThan(relativeError(a, c), 1e-2)
  }

  /// A time-conditioned model is called at every step (its input σ(t) changes), so the cache never skips.
  func testTimeConditionedSamplerCallsTheNetworkEveryLiveStep() throws {
    let model = try XCTUnwrap(try ModelRegistry.load(path: Self.fixtures.appendingPathComponent("timecond")).model as? MDLMModel)
    let r = try model.sample(prefixes: [[], [3]], length: 8, settings: DiffusionSamplingOptions(steps: 20), seeds: [1, 2], recordTrajectory: true)
    let mask = model.config.maskIndex
    for n in 0..<2 {
      let live = (0..<20).filter { r.trajectory[$0][n].contains(mask) }.count
      XCTAssertEqual(r.networkCalls[n], live + (r.trajectory[20][n].contains(mask) ? 1 : 0))
      XCTAssertFalse(r.tokens[n].contains(mask))
    }
  }
}
