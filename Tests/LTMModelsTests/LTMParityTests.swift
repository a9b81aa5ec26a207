import Foundation
import LTMCheckpoint
import LTMTensor
import LTMTestSupport
import XCTest
@testable import LTMModels

/// Parity with the LTM authors' `model.py` / `optimizer.py` (commit 498e39e, fp32, CPU) on the two reference
/// fixtures: logits and token NLL at z0, the NELBO gradient at the start, the whole AdamW trajectory, and the finals.
/// Everything must agree within 1e-5 relative (vectors norm-wise; observed 4e-8 to 2.7e-6, fp32 summation order).
class LTMFixtureParity: XCTestCase {
  var fixture: String { "" }
  var model: LTMModel!
  var expected: TensorArchive!
  var json: [String: Any]!

  override func setUpWithError() throws {
    BLAS.threads = 2
    let dir = "fixtures/\(fixture)"
    model = try LTMModel.load(checkpoint: try SharedData.file("\(dir)/ckpt.pt"))
    expected = try Safetensors.load(try SharedData.file("\(dir)/expected.safetensors"))
    json = try SharedData.json("\(dir)/expected.json")
  }

  func floats(_ key: String) throws -> [Float] { try XCTUnwrap(expected.tensors[key], key).floats() }
  func shape(_ key: String) throws -> [Int] { try XCTUnwrap(expected.tensors[key], key).shape }

  var blocks: [[Int32]] {
    get throws {
      let t = try XCTUnwrap(expected.tensors["tokens"])
      let ids = try t.int64s().map { Int32($0) }
      let n = t.shape[1]
      return (0..<t.shape[0]).map { Array(ids[($0 * n)..<(($0 + 1) * n)]) }
    }
  }

  /// The fixture's μ0, log σ²0 and ε per block.
  var starts: [LTMPosteriorStart] {
    get throws {
      let mu = try floats("mu0"), lv = try floats("logvar0"), eps = try floats("eps")
      let b = try shape("mu0")[0], n = mu.count / b
      return (0..<b).map { i in
        LTMPosteriorStart(mu: Array(mu[(i * n)..<((i + 1) * n)]), logvar: Array(lv[(i * n)..<((i + 1) * n)]), eps: Array(eps[(i * n)..<((i + 1) * n)]))
      }
    }
  }

  /// ‖a − b‖ / ‖b‖ in Double.
  func relativeError(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "\(a.count) vs \(b.count)")
    var num = 0.0, den = 0.0
    for i in a.indices {
      num += (Double(a[i]) - Double(b[i])) * (Double(a[i]) - Double(b[i]))
      den += Double(b[i]) * Double(b[i])
    }
    return (num / den).squareRoot()
  }

  func checkConfig(dim: Int, layers: Int, heads: Int, latents: Int, vocab: Int, window: Int, steps: Int) {
    let a = model.config.modelArgs
    XCTAssertEqual([a.dim, a.nLayers, a.nHeads, a.maxZLen, a.vocabSize, a.windowSize], [dim, layers, heads, latents, vocab, window])
    XCTAssertEqual(model.config.config.numSteps, steps)
    XCTAssertEqual(model.config.config.fastLR, 0.34)
    XCTAssertEqual(model.scoringOptions?.steps, steps)
    XCTAssertEqual(model.scoringOptions?.learningRate, 0.34)
    XCTAssertEqual(model.descriptor.family, "ltm")
    XCTAssertEqual(model.descriptor.bound, .upper)
  }

  func checkNLLAtZ0() throws {
    let blocks = try blocks, starts = try starts
    let z = starts.map { s in s.mu.indices.map { s.mu[$0] + s.eps[$0] * Float(Foundation.exp(0.5 * Double(s.logvar[$0]))) } }
    let nll = try model.tokenNLL(blocks: blocks, z: z).flatMap { $0 }
    let want = try floats("nll_tokens_at_z0")
    let err = relativeError(nll, want)
    var worst = 0.0
    for i in nll.indices { worst = max(worst, abs(Double(nll[i]) - Double(want[i])) / abs(Double(want[i]))) }
    print("[\(fixture)] NLL at z0: norm-wise rel error \(err), worst element \(worst)")
    XCTAssertLessThan(worst, 1e-5)
    if expected.tensors["logits_at_z0"] != nil {
      let logitsWant = try floats("logits_at_z0")
      var got: [Float] = []
      for (b, block) in blocks.enumerated() { got += try model.logits(inputs: Array(block.dropLast()), z: z[b]) }
      let e = relativeError(got, logitsWant)
      // Element-wise: relative to max(|logit|, the logits' RMS), as logits near 0 have no relative precision.
      let rms = (logitsWant.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(logitsWant.count)).squareRoot()
      var w = 0.0
      for i in got.indices { w = max(w, abs(Double(got[i]) - Double(logitsWant[i])) / max(abs(Double(logitsWant[i])), rms)) }
      print("[\(fixture)] logits at z0: norm-wise rel error \(e), worst element \(w)")
      XCTAssertLessThan(e, 1e-5)
      XCTAssertLessThan(w, 1e-5)
    }
  }

  func checkGradientAtStart() throws {
    let g = try model.nelboGradient(blocks: try blocks, at: try starts)
    let em = relativeError(g.gradMu.flatMap { $0 }, try floats("grad_mu_at_start"))
    let el = relativeError(g.gradLogvar.flatMap { $0 }, try floats("grad_logvar_at_start"))
    print("[\(fixture)] gradient at start: μ rel error \(em), log σ² rel error \(el)")
    XCTAssertLessThan(em, 1e-5)
    XCTAssertLessThan(el, 1e-5)
    let traj = try XCTUnwrap(json["nelbo_sum_trajectory"] as? [Double])
    let start = zip(g.nll, g.kl).map { $0 + $1 }.reduce(0, +)
    XCTAssertTrue(isClose(start, traj[0], rtol: 1e-5), "NELBO at start \(start) vs \(traj[0])")
  }

  func checkTrajectoryAndFinals() throws {
    let steps = try XCTUnwrap(json["steps"] as? Int)
    let schedule = try XCTUnwrap(json["lr_schedule"] as? [Double])
    for (s, lr) in schedule.enumerated() {
      XCTAssertEqual(ltmFastLearningRate(step: s, steps: steps, learningRate: 0.34), lr, accuracy: 1e-15, "lr[\(s)]")
    }
    let results = try model.fitPosterior(blocks: try blocks, starts: try starts, steps: steps, learningRate: 0.34)
    let traj = try XCTUnwrap(json["nelbo_sum_trajectory"] as? [Double])
    var worstTrajectory = 0.0
    for s in 0..<steps {
      let got = results.reduce(0.0) { $0 + $1.nelboTrajectory[s] }
      worstTrajectory = max(worstTrajectory, abs(got - traj[s]) / abs(traj[s]))
      XCTAssertTrue(isClose(got, traj[s], rtol: 1e-5), "NELBO sum before step \(s): \(got) vs \(traj[s])")
    }
    let em = relativeError(results.flatMap(\.mu), try floats("mu_final"))
    let el = relativeError(results.flatMap(\.logvar), try floats("logvar_final"))
    XCTAssertLessThan(em, 1e-5)
    XCTAssertLessThan(el, 1e-5)
    let nll = try floats("nll_final_per_block"), kl = try floats("kl_final_per_block"), ppl = try floats("block_ppl_final")
    var worstFinal = 0.0
    for (b, r) in results.enumerated() {
      for (got, want, what) in [(r.nll, nll[b], "NLL"), (r.kl, kl[b], "KL"), (r.ppl, ppl[b], "PPL")] {
        worstFinal = max(worstFinal, abs(got - Double(want)) / abs(Double(want)))
        XCTAssertTrue(isClose(got, Double(want), rtol: 1e-5), "block \(b) final \(what): \(got) vs \(want)")
      }
    }
    let finalSum = results.reduce(0.0) { $0 + $1.nelbo }
    XCTAssertTrue(isClose(finalSum, try XCTUnwrap(json["final_nelbo_sum"] as? Double), rtol: 1e-5))
    let pplMean = results.reduce(0.0) { $0 + $1.ppl } / Double(results.count)
    XCTAssertTrue(isClose(pplMean, try XCTUnwrap(json["final_ppl_mean_over_blocks"] as? Double), rtol: 1e-5))
    print("[\(fixture)] trajectory worst rel error \(worstTrajectory); μ_T \(em), log σ²_T \(el); finals worst \(worstFinal)")
  }
}

final class LTMMicroParityTests: LTMFixtureParity {
  override var fixture: String { "ltm-micro" }
  func testConfig() { checkConfig(dim: 32, layers: 2, heads: 4, latents: 8, vocab: 512, window: 16, steps: 8) }
  func testLogitsAndNLLAtZ0() throws { try checkNLLAtZ0() }
  func testGradientAtStart() throws { try checkGradientAtStart() }
  func testTrajectoryAndFinals() throws { try checkTrajectoryAndFinals() }
}

final class LTMGPT2VocabParityTests: LTMFixtureParity {
  override var fixture: String { "ltm-gpt2vocab" }
  func testConfig() { checkConfig(dim: 64, layers: 3, heads: 4, latents: 24, vocab: 50258, window: 256, steps: 6) }
  func testNLLAtZ0() throws { try checkNLLAtZ0() }
  func testGradientAtStart() throws { try checkGradientAtStart() }
  func testTrajectoryAndFinals() throws { try checkTrajectoryAndFinals() }
}
