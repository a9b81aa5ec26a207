import Foundation
import LTMTensor

/// How the MDLM continuous-time NELBO is estimated (`--time-samples`, `--seed`, the protocol's `ignore_bos`).
public struct MDLMBoundOptions: Sendable, Equatable {
  /// K (t, mask) draws per block. K = 1 is the papers' protocol (one draw per block per evaluation pass).
  public var timeSamples: Int
  public var seed: UInt64
  /// bd3lm's `algo.ignore_bos`: position 0 is never masked and is left out of the token count.
  public var ignoreBOS: Bool
  /// n, the number of consecutive blocks whose t are stratified together when K = 1 (the reference's per-device
  /// eval batch).
  public var timeStrata: Int

  public init(timeSamples: Int = 1, seed: UInt64 = 0, ignoreBOS: Bool = false, timeStrata: Int = MDLMBoundOptions.referenceEvalBatchSize) {
    self.timeSamples = timeSamples
    self.seed = seed
    self.ignoreBOS = ignoreBOS
    self.timeStrata = timeStrata
  }

  /// The MDLM README's `mode=ppl_eval … loader.eval_batch_size=16`: the n of the reference's `_sample_t`.
  public static let referenceEvalBatchSize = 16

  /// `training.sampling_eps` = `LogLinearNoise.eps` = 1e-3.
  public static let samplingEps = 1e-3
}

/// One block's NELBO estimate: the mean over K draws of Σ_i loss_i, and the variance of that mean.
public struct MDLMBlockEstimate: Sendable, Equatable {
  /// Mean over draws of the block's summed loss (nats).
  public var nll: Double
  /// Sample variance of the per-draw sums / K (nats²); nil for K = 1 (no standard error from one draw).
  public var variance: Double?
  public var samples: Int
  /// Positions counted in the denominator: the block length, less BOS under `ignoreBOS`.
  public var scoredTokens: Int
  /// Per-position loss averaged over the draws (0 where never masked).
  public var tokenLoss: [Float]
  /// The t of each draw.
  public var times: [Double] = []
}

extension MDLMModel {
  /// The continuous-time NELBO of MDLM (Sahoo et al. 2024, eq. 10; `diffusion.py::_forward_pass_diffusion`):
  ///
  ///   L = E_{t~U[ε,1]} E_{x_t~q(·|x0)} Σ_i 1[x_t,i = MASK] · (−log p_θ(x0_i | x_t)) / t,
  ///
  /// with the log-linear schedule, so each position is masked with probability 1 − α_t = (1 − ε)·t and
  /// dσ/expm1(σ) = 1/t exactly. Every block gets its own random stream, seeded by (seed, block index), so its number
  /// does not depend on batching, sharding or `--limit-blocks`.
  ///
  /// Time draws, t = (1 − ε)u + ε. K = 1 (the papers' protocol): as the reference's `_sample_t`, which stratifies
  /// u across the n blocks of a batch, u_i ← (u_i/n + i/n) mod 1, here over fixed groups of n = `timeStrata`
  /// consecutive block indices (block j is member j mod n of group ⌊j/n⌋), each group's u_i drawn from a stream
  /// seeded by (seed, group): a block's t depends on neither `--batch-blocks`, `--limit-blocks` nor sharding.
  /// K > 1: the K draws *of one block* are stratified the same way, u_k ← (u_k + k)/K; each draw's t is still
  /// uniform on [ε, 1], so the estimator has the reference's expectation, and K > 1 only reduces its variance.
  public func evaluate(blocks: [[Int32]], blockIndices: [Int], options: MDLMBoundOptions) throws -> [MDLMBlockEstimate] {
    guard options.timeSamples >= 1 else { throw ModelError.badInput("time samples must be at least 1, got \(options.timeSamples)") }
    guard options.timeStrata >= 1 else { throw ModelError.badInput("time strata must be at least 1, got \(options.timeStrata)") }
    guard blocks.count == blockIndices.count else { throw ModelError.badInput("one block index per block is needed") }
    guard let t = blocks.first?.count else { return [] }
    let k = options.timeSamples, eps = MDLMBoundOptions.samplingEps
    let mask = config.maskIndex
    var rngs = blockIndices.map { Self.stream(seed: options.seed, block: $0) }
    var sums = [[Double]](repeating: [], count: blocks.count)
    var tokenLoss = blocks.map { [Double](repeating: 0, count: $0.count) }
    var drawTimes = [[Double]](repeating: [], count: blocks.count)
    for draw in 0..<k {
      var xt = blocks
      var times = [Double](repeating: 0, count: blocks.count)
      for b in blocks.indices {
        let u = k == 1
          ? Self.stratifiedUnit(seed: options.seed, block: blockIndices[b], strata: options.timeStrata)
          : (Double(draw) + rngs[b].nextUnit()) / Double(k)
        let time = (1 - eps) * u + eps
        times[b] = time
        drawTimes[b].append(time)
        let moveChance = (1 - eps) * time  // 1 − exp(−σ(t))
        for p in 0..<t {
          let r = rngs[b].nextUnit()
          if r < moveChance, !(options.ignoreBOS && p == 0) { xt[b][p] = mask }
        }
      }
      // σ(t) = −log1p(−(1 − ε)t), only read by time-conditioned checkpoints.
      let sigmas = times.map { -log1p(-(1 - eps) * $0) }
      let logp = try logProbabilities(x0: blocks, xt: xt, sigmas: sigmas)
      for b in blocks.indices {
        var sum = 0.0
        for p in 0..<t where xt[b][p] == mask {
          let loss = -Double(logp[b][p]) / times[b]
          sum += loss
          tokenLoss[b][p] += loss
        }
        sums[b].append(sum)
      }
    }
    return blocks.indices.map { b in
      let mean = sums[b].reduce(0, +) / Double(k)
      let variance = k > 1 ? sums[b].reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(k - 1) / Double(k) : nil
      return MDLMBlockEstimate(
        nll: mean, variance: variance, samples: k, scoredTokens: t - (options.ignoreBOS ? 1 : 0),
        tokenLoss: tokenLoss[b].map { Float($0 / Double(k)) }, times: drawTimes[b])
    }
  }

  /// Per-position loss of the reference's `_forward_pass_diffusion` for a given x_t and t: −log p(x0_i | x_t)/t on
  /// masked positions, 0 elsewhere (parity tests).
  public func lossPerPosition(x0: [[Int32]], xt: [[Int32]], t: [Double]) throws -> (logp: [[Float]], loss: [[Float]]) {
    let eps = MDLMBoundOptions.samplingEps
    let logp = try logProbabilities(x0: x0, xt: xt, sigmas: t.map { -log1p(-(1 - eps) * $0) })
    let loss = logp.indices.map { b in
      logp[b].indices.map { p in xt[b][p] == config.maskIndex ? Float(-Double(logp[b][p]) / t[b]) : 0 }
    }
    return (logp, loss)
  }

  /// u of block j under K = 1: member i = j mod n of group g = ⌊j/n⌋ takes (U_{g,i}/n + i/n) mod 1, U_{g,·} the
  /// uniforms of the group's own stream (keyed apart from the blocks' mask streams).
  static func stratifiedUnit(seed: UInt64, block: Int, strata n: Int) -> Double {
    let group = block / n, member = block % n
    var g = stream(seed: seed &+ 0x5851_F42D_4C95_7F2D, block: group)
    var u = 0.0
    for _ in 0...member { u = g.nextUnit() }
    return (u / Double(n) + Double(member) / Double(n)).truncatingRemainder(dividingBy: 1)
  }

  /// The random stream of one block: SplitMix64 keyed by (seed, block index).
  static func stream(seed: UInt64, block: Int) -> SplitMix64 {
    var mixer = SplitMix64(seed: seed)
    return SplitMix64(seed: mixer.next() ^ (UInt64(block) &+ 1) &* 0xD1B5_4A32_D192_ED03)
  }

  /// The `BlockScoringModel` view: the papers' protocol (K = 1, seed 0, block i of the call seeded by i), every
  /// position scored. The harness calls `evaluate` with run-wide indices and the run's settings instead.
  public func score(blocks: [[Int32]]) throws -> [BlockScore] {
    try evaluate(blocks: blocks, blockIndices: Array(blocks.indices), options: MDLMBoundOptions()).map { BlockScore(tokenNLL: $0.tokenLoss) }
  }

  /// Multiply-adds ×2 of one DiT forward over `t` tokens (projections, attention, all head rows).
  public func flops(blockLength t: Int) -> Double {
    let d = Double(config.hiddenDim), inner = Double(config.innerSize), T = Double(t)
    let projections = 2 * T * d * (3 * d + d + 2 * inner)
    let attention = 2 * 2 * T * T * d
    return Double(config.nBlocks) * (projections + attention) + 2 * T * d * Double(config.vocabSize)
  }
}

extension SplitMix64 {
  /// Uniform in [0, 1) with 53 bits.
  mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }
}
