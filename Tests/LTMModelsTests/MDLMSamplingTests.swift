import Foundation
import LTMCheckpoint
import LTMTensor
import LTMTestSupport
import XCTest
@testable import LTMModels

/// The MDLM ancestral sampler against the authors' `_sample` / `_ddpm_caching_update` / `_sample_categorical`
/// (tools/make_mdlm_sampler_fixture.py, fed the same uniforms), and its invariants: the cache, a fixed prefix,
/// no MASK at the end, float64 draws, and samples that do not depend on batching.
final class MDLMSamplingTests: XCTestCase {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/mdlm")
  var model: MDLMModel!

  override func setUpWithError() throws {
    BLAS.threads = 2
    Parallel.threads = 2
    model = try XCTUnwrap(try ModelRegistry.load(path: try SharedData.file("fixtures/mdlm-micro")).model as? MDLMModel)
  }

  func ids(_ t: RawTensor) throws -> [Int32] { try t.int64s().map { Int32($0) } }

  /// The reference run: 2 samples × 16 tokens, T = 8, sample 1 with a 5-token prefix, uniforms injected.
  func testTrajectoryMatchesReferenceTokenForToken() throws {
    let f = try Safetensors.load(Self.fixtures.appendingPathComponent("sampler.safetensors"))
    let index = try f.tensors["uniform_index"]!.int64s(), rows = try f.tensors["uniform_rows"]!.floats()
    let v = model.config.vocabSize
    XCTAssertEqual(rows.count, index.count / 3 * v)
    var rowOf: [[Int]: Int] = [:]
    for r in 0..<(index.count / 3) { rowOf[[Int(index[3 * r]), Int(index[3 * r + 1]), Int(index[3 * r + 2])]] = r }
    let table = rowOf, values = rows
    let missing = LockedCounter()
    let prefix = try ids(f.tensors["prefix"]!)
    let steps = 8, length = 16
    let result = try model.sample(
      prefixes: [[], prefix], length: length, settings: DiffusionSamplingOptions(steps: steps), recordTrajectory: true
    ) { n, step, position, out, count in
      guard let r = table[[step, n, position]] else {
        missing.increment()
        return
      }
      for c in 0..<count { out[c] = Double(values[r * count + c]) }
    }
    XCTAssertEqual(missing.value, 0, "the sampler asked for uniforms at a position the reference left unmasked")
    let expected = try ids(f.tensors["trajectory"]!)
    XCTAssertEqual(result.trajectory.count, steps + 1)
    for (i, x) in result.trajectory.enumerated() {
      XCTAssertEqual(Array(x.joined()), Array(expected[(i * 2 * length)..<((i + 1) * 2 * length)]), "x after step \(i)")
    }
    XCTAssertEqual(Array(result.tokens.joined()), try ids(f.tensors["final"]!), "after noise removal")
    // The reference calls the network whenever its cache is empty; here a sample with nothing left masked is not
    // evaluated at all, and the noise-removal forward only runs when something is still masked.
    let referenceCalls = try f.tensors["network_calls"]!.int64s().map(Int.init)
    XCTAssertEqual(result.networkCalls, (0..<2).map { expectedCalls(result.trajectory, sample: $0) })
    for n in 0..<2 { XCTAssertLessThanOrEqual(result.networkCalls[n], referenceCalls[n]) }
  }

  /// One DiT call per step in which a sample still holding MASK has a new input (the first step, and each step after
  /// a token changed), plus the noise-removal forward if the last step left MASK and changed something.
  func expectedCalls(_ trajectory: [[[Int32]]], sample n: Int) -> Int {
    let mask = model.config.maskIndex, steps = trajectory.count - 1
    var calls = 0
    for step in 0..<steps where trajectory[step][n].contains(mask) {
      if step == 0 || trajectory[step][n] != trajectory[step - 1][n] { calls += 1 }
    }
    if trajectory[steps][n].contains(mask) && trajectory[steps][n] != trajectory[steps - 1][n] { calls += 1 }
    return calls
  }

  func testCacheSkipsTheNetworkWhenNothingChanged() throws {
    let seeds = TokenSampler.rowSeeds(base: 3, count: 3)
    let r = try model.sample(prefixes: [[], [7, 8], [9]], length: 10, settings: DiffusionSamplingOptions(steps: 64), seeds: seeds, recordTrajectory: true)
    for n in 0..<3 {
      XCTAssertEqual(r.networkCalls[n], expectedCalls(r.trajectory, sample: n), "sample \(n)")
      XCTAssertLessThanOrEqual(r.networkCalls[n], 11, "at most one call per unmasking event (+ the final one)")
      XCTAssertLessThan(r.networkCalls[n], 32, "most of the 64 steps change nothing")
    }
  }

  func testPrefixStaysFixedAndNoMaskIsLeft() throws {
    let prefixes: [[Int32]] = [[], [1, 2, 3], Array(0..<20).map { Int32($0 * 7) }]
    let r = try model.sample(
      prefixes: prefixes, length: 24, settings: DiffusionSamplingOptions(steps: 5), seeds: TokenSampler.rowSeeds(base: 11, count: 3),
      recordTrajectory: true)
    for (n, p) in prefixes.enumerated() {
      for x in r.trajectory { XCTAssertEqual(Array(x[n].prefix(p.count)), p, "prefix of sample \(n) at every step") }
      XCTAssertEqual(Array(r.tokens[n].prefix(p.count)), p)
      XCTAssertEqual(r.tokens[n].count, 24)
      XCTAssertFalse(r.tokens[n].contains(model.config.maskIndex), "sample \(n) still holds MASK")
    }
  }

  /// Noise removal: uniforms under which MASK always wins the race leave every position masked through all T
  /// steps; the final forward then puts argmax_c p_θ(c | x) (SUBS) at every masked position. Without it they stay MASK.
  func testNoiseRemovalFillsWhatTheStepsLeftMasked() throws {
    let mask = model.config.maskIndex
    let maskAlwaysWins: MDLMUniformSource = { _, _, _, out, count in
      for c in 0..<count { out[c] = 0.5 }
      out[count - 1] = 1 - 1e-12  // E_MASK ≈ 1e-12: its clock rings first
    }
    let prefix: [Int32] = [4, 5, 6]
    let r = try model.sample(prefixes: [prefix], length: 12, settings: DiffusionSamplingOptions(steps: 4), recordTrajectory: true, uniforms: maskAlwaysWins)
    XCTAssertEqual(r.trajectory[4][0], prefix + [Int32](repeating: mask, count: 9))
    let logp = try model.subsLogProbs(xt: r.trajectory[4][0])
    let v = model.config.vocabSize
    for p in 0..<12 {
      let row = logp[(p * v)..<((p + 1) * v)]
      XCTAssertEqual(r.tokens[0][p], Int32(row.indices.max { row[$0] < row[$1] }! - p * v), "position \(p)")
    }
    XCTAssertEqual(r.networkCalls, [1], "the first step only: the unchanged steps and the noise removal reuse its p_θ")
    let raw = try model.sample(prefixes: [prefix], length: 12, settings: DiffusionSamplingOptions(steps: 4, noiseRemoval: false), recordTrajectory: false, uniforms: maskAlwaysWins)
    XCTAssertEqual(raw.tokens[0], r.trajectory[4][0])
  }

  func testSamplesDoNotDependOnBatching() throws {
    let prefixes: [[Int32]] = [[], [5], [6, 7], [], [8]]
    let settings = DiffusionSamplingOptions(steps: 12)
    let all = try model.sample(prefixes: prefixes, length: 12, settings: settings, seeds: TokenSampler.rowSeeds(base: 99, count: 5))
    for n in prefixes.indices {
      let one = try model.sample(
        prefixes: [prefixes[n]], length: 12, settings: settings, seeds: TokenSampler.rowSeeds(base: 99, first: n, count: 1))
      XCTAssertEqual(one.tokens[0], all.tokens[n], "sample \(n) alone vs in the batch")
      XCTAssertEqual(one.networkCalls[0], all.networkCalls[n])
    }
    let other = try model.sample(prefixes: prefixes, length: 12, settings: settings, seeds: TokenSampler.rowSeeds(base: 100, count: 5))
    XCTAssertNotEqual(other.tokens, all.tokens, "another seed gives other samples")
  }

  /// The race is decided in float64: two equal-weight tokens whose exponential clocks differ by 1e-12 relative (far
  /// below fp32 resolution) are told apart both ways round, and MASK wins when its weight s dominates.
  func testExponentialRaceIsFloat64() {
    let real = 4
    let logits = [Float](repeating: 0, count: real + 1)
    let lse = log(Double(real))  // every real token has p = 1/4
    func race(_ u: [Double], t: Double = 0.5, s: Double = 0.4) -> Int32 {
      logits.withUnsafeBufferPointer { l in u.withUnsafeBufferPointer { MDLMModel.exponentialRace(logits: l.baseAddress!, lse: lse, real: real, t: t, s: s, uniforms: $0.baseAddress!) } }
    }
    /// U with −log(U + 1e-10) + 1e-10 = e.
    func uniform(clock e: Double) -> Double { exp(-(e - 1e-10)) - 1e-10 }
    let slow = uniform(clock: 50)  // tokens 0 and 3 practically never win
    XCTAssertEqual(race([slow, uniform(clock: 0.2), uniform(clock: 0.2 * (1 + 1e-12)), slow, slow]), 1)
    XCTAssertEqual(race([slow, uniform(clock: 0.2 * (1 + 1e-12)), uniform(clock: 0.2), slow, slow]), 2)
    XCTAssertEqual(Float(uniform(clock: 0.2)), Float(uniform(clock: 0.2 * (1 + 1e-12))), "fp32 cannot tell these clocks apart")
    // Ties go to the lower id, as torch.argmax.
    XCTAssertEqual(race([slow, uniform(clock: 0.2), uniform(clock: 0.2), slow, slow]), 1)
    // MASK (weight s = 0.4 against 0.25·0.1 per token) wins at equal clocks.
    XCTAssertEqual(race([Double](repeating: 0.3, count: real + 1)), Int32(real))
  }

  /// With the default streams the race draws MASK with probability s/t and token c with (t − s)/t · p_c: 20 000
  /// draws at t = 1, s = 0.5, p = (0.1, 0.2, 0.3, 0.4) land within 4 standard errors of (0.5, 0.05, 0.1, 0.15, 0.2).
  func testExponentialRaceDrawsTheDdpmCacheDistribution() {
    let p = [0.1, 0.2, 0.3, 0.4]
    let logits = p.map { Float(log($0)) } + [0]
    var counts = [Int](repeating: 0, count: 5)
    let n = 20_000
    var u = [Double](repeating: 0, count: 5)
    for i in 0..<n {
      var g = MDLMModel.drawStream(seed: 42, step: i / 100, position: i % 100)
      for c in 0..<5 { u[c] = g.nextUnit() }
      let token = logits.withUnsafeBufferPointer { l in
        u.withUnsafeBufferPointer { MDLMModel.exponentialRace(logits: l.baseAddress!, lse: 0, real: 4, t: 1, s: 0.5, uniforms: $0.baseAddress!) }
      }
      counts[Int(token)] += 1
    }
    let expected = p.map { 0.5 * $0 } + [0.5]
    for c in 0..<5 {
      let f = Double(counts[c]) / Double(n), se = (expected[c] * (1 - expected[c]) / Double(n)).squareRoot()
      XCTAssertLessThan(abs(f - expected[c]), 4 * se, "token \(c): \(f) vs \(expected[c])")
    }
  }

  /// The default stream: U in [0, 1), different per (seed, step, position).
  func testDrawStreamsAreKeyedBySeedStepAndPosition() {
    var a = MDLMModel.drawStream(seed: 1, step: 0, position: 0), b = MDLMModel.drawStream(seed: 1, step: 0, position: 1)
    var c = MDLMModel.drawStream(seed: 1, step: 1, position: 0), d = MDLMModel.drawStream(seed: 2, step: 0, position: 0)
    let first = [a.next(), b.next(), c.next(), d.next()]
    XCTAssertEqual(Set(first).count, 4)
    var e = MDLMModel.drawStream(seed: 1, step: 0, position: 0)
    XCTAssertEqual(e.next(), first[0])
  }

  func testTimestepsAreTorchLinspace() {
    let t = DiffusionSamplingOptions(steps: 8).timesteps()
    XCTAssertEqual(t.count, 9)
    XCTAssertEqual(t.first, 1)
    XCTAssertEqual(t.last, 1e-5)
    for i in 0..<8 { XCTAssertEqual(t[i] - t[i + 1], (1 - 1e-5) / 8, accuracy: 1e-15) }
  }

  func testBadInputsFail() {
    let seeds = TokenSampler.rowSeeds(base: 0, count: 1)
    XCTAssertThrowsError(try model.sample(prefixes: [[600]], length: 8, settings: .init(steps: 2), seeds: seeds)) {
      XCTAssertTrue("\($0)".contains("outside this MDLM's real tokens"), "\($0)")
    }
    XCTAssertThrowsError(try model.sample(prefixes: [[512]], length: 8, settings: .init(steps: 2), seeds: seeds))
    XCTAssertThrowsError(try model.sample(prefixes: [[]], length: 65, settings: .init(steps: 2), seeds: seeds))
    XCTAssertThrowsError(try model.sample(prefixes: [[]], length: 8, settings: .init(steps: 0), seeds: seeds))
    XCTAssertThrowsError(try model.sample(prefixes: [[1, 2, 3]], length: 2, settings: .init(steps: 2), seeds: seeds))
  }
}

/// A counter the @Sendable uniform source can bump.
final class LockedCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0
  var value: Int { lock.withLock { count } }
  func increment() { lock.withLock { count += 1 } }
}
