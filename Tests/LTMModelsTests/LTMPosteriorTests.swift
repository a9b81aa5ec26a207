import Foundation
import LTMTensor
import LTMTestSupport
import XCTest
@testable import LTMModels

/// The fast loop around the parity-tested pieces: the optimizer, init modes, seeding, batching, the fresh-ε bound,
/// the step sweep and the BlockScoringModel conformance.
final class LTMPosteriorTests: XCTestCase {
  private var model: LTMModel!
  private var blocks: [[Int32]]!

  override func setUpWithError() throws {
    BLAS.threads = 2
    model = try LTMModel.load(checkpoint: try SharedData.file("fixtures/ltm-micro/ckpt.pt"))
    var rng = SplitMix64(seed: 21)
    blocks = (0..<3).map { _ in (0..<65).map { _ in Int32(rng.next() % 512) } }
  }

  func testCosineScheduleAndAdamWMatchTheFormulas() {
    XCTAssertEqual(ltmFastLearningRate(step: 0, steps: 16, learningRate: 0.34), 0.34, accuracy: 1e-15)
    XCTAssertEqual(ltmFastLearningRate(step: 8, steps: 16, learningRate: 0.34), 0.187, accuracy: 1e-15)
    XCTAssertEqual(ltmFastLearningRate(step: 16, steps: 16, learningRate: 0.34), 0.034, accuracy: 1e-15)
    // Two AdamW steps against torch's formula evaluated in Double.
    var p: [Float] = [0.5, -1, 2, 0.01], m = [Double](repeating: 0, count: 4), v = m
    var adam = AdamW(count: 4)
    var want = p.map(Double.init)
    for (step, (g, lr)) in [([Float](arrayLiteral: 0.3, -2, 1e-3, 0), 0.34), ([0.1, 1, -5e-3, 2], 0.2)].enumerated() {
      adam.update(&p, grad: g, count: 4, lr: lr)
      for i in 0..<4 {
        want[i] *= 1 - lr * 0.01
        m[i] = 0.9 * m[i] + 0.1 * Double(g[i])
        v[i] = 0.999 * v[i] + 0.001 * Double(g[i]) * Double(g[i])
        let denom = (v[i] / (1 - pow(0.999, Double(step + 1)))).squareRoot() + 1e-8
        want[i] -= lr / (1 - pow(0.9, Double(step + 1))) * m[i] / denom
        XCTAssertEqual(Double(p[i]), want[i], accuracy: 1e-6 * max(1, abs(want[i])), "step \(step) [\(i)]")
      }
    }
  }

  func testGaussianStreamIsSeededAndStandard() {
    var a = LTMGaussian(seed: 1, block: 7, stream: 0), b = LTMGaussian(seed: 1, block: 7, stream: 0)
    var c = LTMGaussian(seed: 1, block: 8, stream: 0), d = LTMGaussian(seed: 2, block: 7, stream: 0)
    var e = LTMGaussian(seed: 1, block: 7, stream: 1)
    var sum = 0.0, sq = 0.0, same = 0
    let n = 200_000
    for _ in 0..<n {
      let x = a.next()
      XCTAssertEqual(x, b.next())
      if x == c.next() || x == d.next() || x == e.next() { same += 1 }
      sum += Double(x)
      sq += Double(x) * Double(x)
    }
    XCTAssertEqual(same, 0)
    XCTAssertEqual(sum / Double(n), 0, accuracy: 0.01)
    XCTAssertEqual(sq / Double(n), 1, accuracy: 0.01)
    let start = LTMPosteriorStart.official(count: 1000, seed: 3, block: 4)
    XCTAssertEqual(start.mu.map { Double($0 * $0) }.reduce(0, +) / 1000, 1e-4, accuracy: 2e-5)
    XCTAssertEqual(start.logvar.map(Double.init).reduce(0, +) / 1000, -5, accuracy: 0.02)
    XCTAssertEqual(start, LTMPosteriorStart.official(count: 1000, seed: 3, block: 4))
  }

  /// A block's result depends on (seed, block index) only: not on the batch it runs in or its position.
  func testOfficialInitIsIndependentOfBatchingAndOrder() throws {
    let options = LTMScoringOptions(steps: 3, learningRate: 0.34, initialization: .official, seed: 5, freshSamples: 2)
    let together = try model.evaluate(blocks: blocks, blockIndices: [10, 11, 12], options: options)
    let alone = try model.evaluate(blocks: [blocks[2]], blockIndices: [12], options: options)[0]
    let reversed = try model.evaluate(blocks: blocks.reversed(), blockIndices: [12, 11, 10], options: options)
    for other in [alone, reversed[0]] {
      XCTAssertTrue(isClose(other.nelbo, together[2].nelbo, rtol: 1e-5), "\(other.nelbo) vs \(together[2].nelbo)")
      XCTAssertTrue(isClose(other.fresh!.nllMean, together[2].fresh!.nllMean, rtol: 1e-5))
      for s in 0..<3 { XCTAssertTrue(isClose(other.nelboTrajectory[s], together[2].nelboTrajectory[s], rtol: 1e-5)) }
    }
    let otherSeed = try model.evaluate(blocks: [blocks[2]], blockIndices: [12], options: { var o = options; o.seed = 6; return o }())[0]
    XCTAssertNotEqual(otherSeed.nelbo, alone.nelbo)
    XCTAssertEqual(together[0].nelboTrajectory.count, 3)
    XCTAssertLessThan(together[0].nelbo, together[0].nelboTrajectory[0], "the fit lowers the NELBO")
  }

  func testDeterministicInitStartsAtTheMeanWithNoNoise() throws {
    let options = LTMScoringOptions(steps: 0, learningRate: 0.34, initialization: .deterministic, freshSamples: 0)
    let r = try model.evaluate(blocks: [blocks[0]], blockIndices: [0], options: options)[0]
    let n = 8 * 32
    XCTAssertEqual(r.kl, Double(n) * (2 + 0.5 * Foundation.exp(-5.0)), accuracy: 1e-6 * r.kl)
    let atZero = try model.tokenNLL(blocks: [blocks[0]], z: [[Float](repeating: 0, count: n)])[0]
    XCTAssertEqual(r.tokenNLL, atZero)
    XCTAssertNil(r.fresh)
    // Deterministic fits are reproducible exactly and do not depend on the seed.
    var o = options
    o.steps = 2
    let a = try model.evaluate(blocks: [blocks[0]], blockIndices: [0], options: o)[0]
    o.seed = 99
    let b = try model.evaluate(blocks: [blocks[0]], blockIndices: [4], options: o)[0]
    XCTAssertEqual(a.tokenNLL, b.tokenNLL)
    XCTAssertEqual(a.mu, b.mu)
  }

  /// A sweep (one call per T, as the harness's scoring variants make it) fits every T from the same start: T = 0 is
  /// the start's NELBO, and a block batched with another equals its own run.
  func testStepSweepMatchesSeparateRuns() throws {
    let options = LTMScoringOptions(steps: 16, learningRate: 0.34, seed: 1, freshSamples: 0)
    let sweep = try [0, 2, 4].map { t in
      var o = options
      o.steps = t
      return try model.evaluate(blocks: Array(blocks.prefix(2)), blockIndices: [0, 1], options: o)
    }
    XCTAssertEqual(sweep.count, 3)
    for b in 0..<2 {
      XCTAssertEqual(sweep[0][b].steps, 0)
      XCTAssertTrue(sweep[0][b].nelboTrajectory.isEmpty)
      XCTAssertTrue(isClose(sweep[0][b].nelbo, sweep[2][b].nelboTrajectory[0], rtol: 1e-6))
      XCTAssertTrue(isClose(sweep[0][b].nelbo, sweep[1][b].nelboTrajectory[0], rtol: 1e-6))
      var single = options
      single.steps = 2
      let alone = try model.evaluate(blocks: [blocks[b]], blockIndices: [b], options: single)[0]
      XCTAssertTrue(isClose(alone.nelbo, sweep[1][b].nelbo, rtol: 1e-5))
      // T = 2 is not a point on the T = 4 trajectory: the cosine depends on T.
      XCTAssertFalse(isClose(sweep[1][b].nelbo, sweep[2][b].nelboTrajectory[2], rtol: 1e-7))
    }
  }

  func testFreshBoundStatistics() throws {
    let options = LTMScoringOptions(steps: 2, learningRate: 0.34, seed: 2, freshSamples: 5)
    let r = try model.evaluate(blocks: [blocks[1]], blockIndices: [1], options: options)[0]
    let f = try XCTUnwrap(r.fresh)
    XCTAssertEqual(f.samples, 5)
    XCTAssertEqual(f.nllPerSample.count, 5)
    XCTAssertEqual(f.kl, r.kl)
    let mean = f.nllPerSample.reduce(0, +) / 5
    XCTAssertEqual(f.nllMean, mean, accuracy: 1e-9 * mean)
    let sd = (f.nllPerSample.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 4).squareRoot()
    XCTAssertEqual(try XCTUnwrap(f.nllStandardError), sd / 5.0.squareRoot(), accuracy: 1e-9 * mean)
    XCTAssertGreaterThan(sd, 0)
    XCTAssertEqual(f.score.nllSum, f.nelboMean, accuracy: 1e-3)
    XCTAssertEqual(f.tokenNLLMean.count, 64)
    XCTAssertFalse(f.nllPerSample.contains(r.nll), "fresh samples do not reuse the fitted ε")
    var one = options
    one.freshSamples = 1
    XCTAssertNil(try model.evaluate(blocks: [blocks[1]], blockIndices: [1], options: one)[0].fresh?.nllStandardError)
  }

  func testBlockScoringConformanceReportsTheBoundWithKLAsExtraNats() throws {
    model.scoringOptions = LTMScoringOptions(steps: 2, learningRate: 0.34, seed: 4)
    let scores = try model.score(blocks: Array(blocks.prefix(2)))
    let direct = try model.evaluate(
      blocks: Array(blocks.prefix(2)), blockIndices: blocks.prefix(2).map { LTMModel.contentKey($0) },
      options: { var o = model.scoringOptions!; o.freshSamples = 0; return o }())
    for b in 0..<2 {
      XCTAssertEqual(scores[b].scoredTokens, 64)
      XCTAssertEqual(scores[b].extraNats, direct[b].kl)
      XCTAssertEqual(scores[b].tokenNLL, direct[b].tokenNLL)
      XCTAssertEqual(Foundation.exp(scores[b].nllSum / 64), direct[b].ppl, accuracy: 1e-9 * direct[b].ppl)
    }
    // Mixed lengths are grouped, not refused.
    let mixed = try model.score(blocks: [blocks[0], Array(blocks[1].prefix(20))])
    XCTAssertEqual(mixed.map(\.scoredTokens), [64, 19])
  }

  func testBadInputsAreErrors() {
    XCTAssertThrowsError(try model.score(blocks: [[1, 2, 512]])) { XCTAssertTrue("\($0)".contains("512")) }
    XCTAssertThrowsError(try model.score(blocks: [[Int32](repeating: 1, count: 130)])) { XCTAssertTrue("\($0)".contains("130")) }
    XCTAssertThrowsError(try model.evaluate(blocks: [blocks[0]], blockIndices: [], options: model.scoringOptions!))
    XCTAssertThrowsError(try model.fitPosterior(blocks: [blocks[0]], starts: [.deterministic(count: 3)], steps: 1, learningRate: 0.3))
  }

  func testOptionsFollowTheCheckpointUnlessOverridden() throws {
    XCTAssertEqual(try model.options(), LTMScoringOptions(steps: 8, learningRate: 0.34))
    let o = try model.options(steps: 3, learningRate: 0.1, initialization: .deterministic, seed: 9, freshSamples: 0)
    XCTAssertEqual(o, LTMScoringOptions(steps: 3, learningRate: 0.1, initialization: .deterministic, seed: 9, freshSamples: 0))
    XCTAssertThrowsError(try model.options(steps: -1))
    let bare = LTMModel.random(config: LTMGradientTests.tinyConfig(), seed: 1)
    XCTAssertNil(bare.scoringOptions)
    XCTAssertThrowsError(try bare.options()) { XCTAssertTrue("\($0)".contains("num_steps")) }
    XCTAssertThrowsError(try bare.score(blocks: [[1, 2, 3]])) { XCTAssertTrue("\($0)".contains("num_steps")) }
    XCTAssertNoThrow(try bare.options(steps: 4, learningRate: 0.34))
    let s = LTMModel.random(config: LTMModel.paperShape(layers: 3), seed: 1)
    XCTAssertEqual(Double(s.fastLoopBytesPerBlock(blockLength: 1024)) / 1e6, 150, accuracy: 10)
  }

  func testSummaryCarriesBothBoundsAndEncodes() throws {
    let r = try model.evaluate(blocks: [blocks[0]], blockIndices: [0], options: LTMScoringOptions(steps: 2, learningRate: 0.34, freshSamples: 3))[0]
    let s = r.summary
    XCTAssertEqual(s.scoredTokens, 64)
    XCTAssertEqual(s.paper.ppl, r.ppl)
    XCTAssertEqual(s.paper.nelbo, r.nll + r.kl)
    let f = try XCTUnwrap(s.fresh)
    XCTAssertEqual(f.samples, 3)
    XCTAssertEqual(f.ppl, Foundation.exp((r.fresh!.nllMean + r.kl) / 64), accuracy: 1e-9 * f.ppl)
    let decoded = try JSONDecoder().decode(LTMBlockSummary.self, from: JSONEncoder().encode(s))
    XCTAssertEqual(decoded, s)
  }

  func testBenchmarkEntryPointRunsOnATinyShape() throws {
    let config = LTMGradientTests.tinyConfig()
    let b = try LTMModel.benchmarkFastLoop(config: config, name: "tiny", blockLength: 41, blocksPerCall: 2, repeats: 1)
    XCTAssertGreaterThan(b.secondsPerForward, 0)
    XCTAssertGreaterThan(b.secondsPerStep, 0)
    XCTAssertEqual(b.stepToForwardRatio, b.secondsPerStep / b.secondsPerForward)
    XCTAssertEqual(b.layers, 2)
  }
}
