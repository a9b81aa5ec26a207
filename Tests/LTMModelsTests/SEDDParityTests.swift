import Foundation
import LTMTensor
import LTMTestSupport
import XCTest
@testable import LTMModels

/// Parity with the SEDD authors' code (`tools/make_sedd_goldens.py`: their `SEDD.forward`, `losses.get_loss_fn`,
/// `graph_lib.Absorbing`, `noise_lib`, `sampling.get_pc_sampler`, fp32 on CPU, flash-attn replaced by plain torch ops)
/// on two tiny random checkpoints, one per layout they write: `hf/` (`save_pretrained`, log-linear noise) and `run/`
/// (`.hydra/config.yaml` + `checkpoints-meta/checkpoint.pth` loaded by `load_model_local` with the EMA weights,
/// geometric noise). Scores and losses within 1e-6 relative (vectors norm-wise, as MDLM's parity), sampler tokens
/// equal at every step given the same uniforms.
class SEDDFixtureParity: XCTestCase {
  var layout: String { "" }
  var model: SEDDModel!
  var expected: [String: Any]!

  var folder: URL { SharedData.packageRoot.appendingPathComponent("Tests/LTMModelsTests/Fixtures/sedd/\(layout)") }

  override func setUpWithError() throws {
    try XCTSkipIf(layout.isEmpty)
    BLAS.threads = 2
    let loaded = try ModelRegistry.load(path: folder)
    XCTAssertEqual(loaded.family, "sedd")
    model = try XCTUnwrap(loaded.model as? SEDDModel)
    expected = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("expected.json"))) as? [String: Any])
  }

  func rows(_ value: Any?) throws -> [[Int32]] { try XCTUnwrap(value as? [[Int]]).map { $0.map(Int32.init) } }
  func doubles(_ value: Any?) throws -> [Double] { try XCTUnwrap(value as? [Double]) }

  /// ‖a − b‖ / ‖b‖.
  func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "\(a.count) vs \(b.count)")
    let num = zip(a, b).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }, den = b.reduce(0.0) { $0 + $1 * $1 }
    return (num / den).squareRoot()
  }

  func checkScore() throws {
    let score = try XCTUnwrap(expected["score"] as? [String: Any])
    let xt = try rows(score["xt"]), sigma = try doubles(score["sigma"])
    let want = try XCTUnwrap(score["log_score"] as? [[[Double]]])
    for b in xt.indices {
      let mine = try model.logScore(xt: xt[b], sigma: sigma[b]).map(Double.init)
      let error = relativeError(mine, Array(want[b].joined()))
      XCTAssertLessThan(error, 1e-6, "\(layout) sequence \(b) at σ \(sigma[b])")
    }
  }

  /// The per-position DWDSE and its sum at each of the three fixed (t, x_t) draws, and the bound at those draws
  /// (their mean).
  func checkLoss() throws {
    let x0 = try rows(expected["x0"])
    let draws = try XCTUnwrap(expected["loss"] as? [[String: Any]])
    var mine = [Double](repeating: 0, count: x0.count), want = mine
    for draw in draws {
      let t = try doubles(draw["t"]), xt = try rows(draw["xt"])
      for (b, sigma) in try doubles(draw["sigma"]).enumerated() {
        XCTAssertTrue(isClose(model.noise.total(t[b]), sigma, rtol: 1e-6), "σ̄(\(t[b]))")
      }
      for (b, rate) in try doubles(draw["dsigma"]).enumerated() {
        XCTAssertTrue(isClose(model.noise.rate(t[b]), rate, rtol: 1e-6), "dσ̄/dt(\(t[b]))")
      }
      let loss = try model.loss(x0: x0, xt: xt, t: t)
      let expectedLoss = try XCTUnwrap(draw["loss"] as? [[Double]])
      if expectedLoss.joined().contains(where: { $0 != 0 }) {
        XCTAssertLessThan(relativeError(Array(loss.joined()), Array(expectedLoss.joined())), 1e-6, "\(layout) t \(t)")
      }
      for (b, sum) in try doubles(draw["sum"]).enumerated() {
        XCTAssertTrue(isClose(loss[b].reduce(0, +), sum, rtol: 1e-6, atol: 1e-9), "\(layout) t \(t) block \(b)")
        mine[b] += loss[b].reduce(0, +) / Double(draws.count)
        want[b] += sum / Double(draws.count)
      }
    }
    for b in x0.indices { XCTAssertTrue(isClose(mine[b], want[b], rtol: 1e-6), "bound of block \(b) at the fixed draws") }
  }

  /// The uniforms of the golden's fixed race: SplitMix64 seeded by (call, sample, position).
  static func goldenUniforms(_ call: Int, _ sample: Int, _ position: Int, _ out: UnsafeMutablePointer<Double>, _ count: Int) {
    var g = SplitMix64(seed: UInt64(call) << 40 ^ UInt64(sample) << 20 ^ UInt64(position))
    for y in 0..<count { out[y] = g.nextUnit() }
  }

  func checkSamplers() throws {
    let samplers = try XCTUnwrap(expected["samplers"] as? [String: Any])
    let steps = try XCTUnwrap(samplers["steps"] as? Int), prefixLength = try XCTUnwrap(samplers["prefix_length"] as? Int)
    let prefixes = try rows(expected["x0"]).map { Array($0.prefix(prefixLength)) }
    for predictor in SEDDPredictor.allCases {
      let golden = try XCTUnwrap(samplers[predictor.rawValue] as? [String: Any])
      let trajectory = try XCTUnwrap(golden["trajectory"] as? [[[Int]]]).map { $0.map { $0.map(Int32.init) } }
      let result = try model.sample(
        prefixes: prefixes, length: model.config.model.length, steps: steps, predictor: predictor, denoise: true,
        recordTrajectory: true, uniforms: Self.goldenUniforms)
      XCTAssertEqual(result.trajectory.count, steps)
      for (i, (mine, theirs)) in zip(result.trajectory, trajectory).enumerated() {
        XCTAssertEqual(mine, theirs, "\(layout) \(predictor) after step \(i)")
      }
      XCTAssertEqual(result.tokens, try rows(golden["final"]), "\(layout) \(predictor) after the denoiser")
      XCTAssertTrue(trajectory[0].joined().contains(model.config.maskIndex), "the golden unmasks over several steps")
    }
  }
}

final class SEDDPretrainedParityTests: SEDDFixtureParity {
  override var layout: String { "hf" }
  func testScoreMatchesTheAuthorsForward() throws { try checkScore() }
  func testLossMatchesTheAuthorsLossFunction() throws { try checkLoss() }
  func testSamplersMatchTheAuthorsAtEveryStep() throws { try checkSamplers() }

  func testConfigNoiseAndDescriptor() {
    XCTAssertEqual(model.config.vocabSize, 33)
    XCTAssertEqual(model.noise, .logLinear(eps: 1e-3))
    XCTAssertEqual(model.descriptor.family, "sedd")
    XCTAssertEqual(model.descriptor.bound, .upper)
    XCTAssertEqual(model.descriptor.contextLength, 16)
    XCTAssertEqual(model.checkpointWeights, .huggingFace)
  }
}

final class SEDDTrainingRunParityTests: SEDDFixtureParity {
  override var layout: String { "run" }
  func testScoreMatchesTheAuthorsForward() throws { try checkScore() }
  func testLossMatchesTheAuthorsLossFunction() throws { try checkLoss() }
  func testSamplersMatchTheAuthorsAtEveryStep() throws { try checkSamplers() }

  /// The run is read with its EMA weights (as `load_model_local`), from the folder or from its `checkpoint.pth`; an
  /// LTM `.pth` elsewhere is still an LTM checkpoint.
  func testTheRunLoadsWithItsEMAWeightsFromEitherPath() throws {
    XCTAssertEqual(model.noise, .geometric(sigmaMin: 1e-4, sigmaMax: 20))
    guard case .ema(let count) = model.checkpointWeights else { return XCTFail("\(model.checkpointWeights)") }
    XCTAssertEqual(count, 1 + 4 + 2 * 10 + 5)
    let viaFile = try ModelRegistry.load(path: folder.appendingPathComponent("checkpoints-meta/checkpoint.pth"))
    XCTAssertEqual(viaFile.family, "sedd")
    XCTAssertEqual(try ModelRegistry.familyName(of: SharedData.file("fixtures/ltm-gpt2vocab/ckpt.pt")), "ltm")
  }
}
