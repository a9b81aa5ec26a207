import Foundation
import LTMTensor

/// How the SEDD bound is estimated (`--time-samples`, `--seed`, the protocol's `ignore_bos`).
public struct SEDDBoundOptions: Sendable, Equatable {
  /// K (t, x_t) draws per block.
  public var timeSamples: Int
  public var seed: UInt64
  /// Position 0 is a BOS the model is not charged for: never noised, not counted.
  public var ignoreBOS: Bool

  public init(timeSamples: Int = 1, seed: UInt64 = 0, ignoreBOS: Bool = false) {
    self.timeSamples = timeSamples
    self.seed = seed
    self.ignoreBOS = ignoreBOS
  }

  /// `losses.get_loss_fn(sampling_eps=1e-3)`: t = (1 − ε)u + ε.
  public static let samplingEps = 1e-3
}

/// One block's bound: the mean over K draws of Σ_i ℓ_i, and the variance of that mean.
public struct SEDDBlockEstimate: Sendable, Equatable {
  public var nll: Double
  /// Sample variance of the per-draw sums / K (nats²); nil for K = 1.
  public var variance: Double?
  public var samples: Int
  /// Positions counted in the denominator: the block length, less BOS under `ignoreBOS`.
  public var scoredTokens: Int
  /// Per-position loss averaged over the draws (0 where never noised).
  public var tokenLoss: [Float]
  /// The t of each draw.
  public var times: [Double]
}

extension SEDDModel {
  /// The diffusion-weighted denoising score entropy of each position (`losses.get_loss_fn` with `perturbed_batch`,
  /// `graph_lib.Absorbing.score_entropy`): for a position whose x_t is the absorbing state, with s = exp(log s_θ(x_t, σ̄))
  /// and r = 1/(e^σ̄ − 1),
  ///
  ///   ℓ_i = dσ̄/dt · ( Σ_{y ≠ MASK} s_y − r·log s_{x0_i} + r(log r − 1) ),
  ///
  /// and 0 elsewhere; σ̄ = σ̄(t_b), dσ̄/dt at t_b for block b. Σ_y s_y is exp(logsumexp − shift), in Double.
  public func loss(x0: [[Int32]], xt: [[Int32]], t: [Double]) throws -> [[Double]] {
    guard x0.count == xt.count, xt.count == t.count else { throw ModelError.badInput("x0, x_t and t need one entry per block") }
    guard let length = xt.first?.count else { return [] }
    let mask = config.maskIndex, v = config.vocabSize
    var rows: [(block: Int, position: Int)] = []
    for b in xt.indices {
      guard x0[b].count == length, xt[b].count == length else { throw ModelError.badInput("x0 and x_t must have the same length") }
      for p in 0..<length where xt[b][p] == mask {
        guard x0[b][p] >= 0, x0[b][p] < mask else {
          throw ModelError.badInput("clean token \(x0[b][p]) at position \(p) is the absorbing state or outside the vocabulary")
        }
        rows.append((b, p))
      }
    }
    let sigmas = t.map(noise.total), rates = t.map(noise.rate)
    let (hidden, _) = try network.hiddenStates(xt, sigmas: sigmas)
    var values = [Double](repeating: 0, count: rows.count)
    values.withUnsafeMutableBufferPointer { out in
      let o = out.baseAddress!
      forEachHeadRow(hidden: hidden, length: length, rows: rows, columns: v - 1) { i, logits in
        let b = rows[i].block, sigma = sigmas[b]
        let shift = scoreShift(sigma: sigma), r = 1 / SEDDNoise.expm1Sigma(sigma)
        let positive = exp(TiedOutputHead.logSumExp(row: logits, count: v - 1) - shift)
        let negative = r * (Double(logits[Int(x0[b][rows[i].position])]) - shift)
        o[i] = rates[b] * (positive - negative + r * (log(r) - 1))
      }
    }
    var result = xt.map { [Double](repeating: 0, count: $0.count) }
    for (i, row) in rows.enumerated() { result[row.block][row.position] = values[i] }
    return result
  }

  /// The DWDSE upper bound on −log p of each block, Σ_i ℓ_i averaged over K draws of (t, x_t): t = (1 − ε)u + ε and
  /// every position absorbed with probability 1 − e^{−σ̄(t)} (`Absorbing.sample_transition`). As in the authors'
  /// `loss_fn`, the prior term KL(p_1|0 ‖ p_base) is not charged (e^{−σ̄(1)} = ε under log-linear noise).
  ///
  /// Every block draws from its own stream, seeded by (seed, block index), so its number does not depend on batching,
  /// sharding or `--limit-blocks`. K = 1: u uniform, as the authors' `torch.rand`; K > 1: the K draws of a block are
  /// stratified, u_k = (k + U_k)/K, each still uniform, so only the variance changes.
  public func evaluate(blocks: [[Int32]], blockIndices: [Int], options: SEDDBoundOptions) throws -> [SEDDBlockEstimate] {
    guard options.timeSamples >= 1 else { throw ModelError.badInput("time samples must be at least 1, got \(options.timeSamples)") }
    guard blocks.count == blockIndices.count else { throw ModelError.badInput("one block index per block is needed") }
    guard let length = blocks.first?.count else { return [] }
    guard blocks.allSatisfy({ $0.count == length }) else { throw ModelError.badInput("blocks of one call must have the same length") }
    let k = options.timeSamples, eps = SEDDBoundOptions.samplingEps, mask = config.maskIndex
    var streams = blockIndices.map { Self.stream(seed: options.seed, block: $0) }
    var sums = [[Double]](repeating: [], count: blocks.count)
    var tokenLoss = blocks.map { [Double](repeating: 0, count: $0.count) }
    var times = [[Double]](repeating: [], count: blocks.count)
    for draw in 0..<k {
      var xt = blocks
      var t = [Double](repeating: 0, count: blocks.count)
      for b in blocks.indices {
        let u = k == 1 ? streams[b].nextUnit() : (Double(draw) + streams[b].nextUnit()) / Double(k)
        t[b] = (1 - eps) * u + eps
        times[b].append(t[b])
        let moveChance = -expm1(-noise.total(t[b]))
        for p in 0..<length where streams[b].nextUnit() < moveChance && !(options.ignoreBOS && p == 0) { xt[b][p] = mask }
      }
      let losses = try loss(x0: blocks, xt: xt, t: t)
      for b in blocks.indices {
        sums[b].append(losses[b].reduce(0, +))
        for p in 0..<length { tokenLoss[b][p] += losses[b][p] }
      }
    }
    return blocks.indices.map { b in
      let mean = sums[b].reduce(0, +) / Double(k)
      let variance = k > 1 ? sums[b].reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(k - 1) / Double(k) : nil
      return SEDDBlockEstimate(
        nll: mean, variance: variance, samples: k, scoredTokens: length - (options.ignoreBOS ? 1 : 0),
        tokenLoss: tokenLoss[b].map { Float($0 / Double(k)) }, times: times[b])
    }
  }

  /// The random stream of one block, keyed by (seed, block index) apart from every other family's.
  static func stream(seed: UInt64, block: Int) -> SplitMix64 {
    var keyed = SplitMix64(seed: seed ^ 0x5345_4444_0000_0000)  // "SEDD"
    return SplitMix64(seed: keyed.next() &+ UInt64(bitPattern: Int64(block)) &* 0x9E37_79B9_7F4A_7C15)
  }

  /// The `BlockScoringModel` view: one draw per block (seed 0, block i of the call seeded by i), every position scored.
  public func score(blocks: [[Int32]]) throws -> [BlockScore] {
    try evaluate(blocks: blocks, blockIndices: Array(blocks.indices), options: SEDDBoundOptions()).map { BlockScore(tokenNLL: $0.tokenLoss) }
  }
}
