import Foundation
import LTMTensor

/// The LTM generation protocols (protocols doc §9.3): conditional generation fits q(z | prefix) with the fast loop on
/// the prefix only and decodes the continuation with z = μ + σ·ε; unconditional generation decodes from BOS with
/// z ~ N(0, I).
extension LTMModel {
  /// Stream of `LTMGaussian` for the ε of sample k of a prefix: far above the fast loop's streams (0 for the start,
  /// 1…K for fresh bounds), so generation noise never reuses scoring noise.
  static let generationStream: UInt64 = 1 << 32

  /// For each prefix, `samplesPerPrefix` continuations of `newTokens` tokens.
  ///
  /// `bos` is 50257 for the authors' vocabulary (small test models pass another id).
  /// The fit runs on the block [BOS] + prefix (so every prefix token is a target), with `fit.steps`, `fit.learningRate`
  /// and the starting point `fit.initialization` keyed by (fit.seed, prefixIndices[i]); sample k then decodes
  /// [BOS] + prefix → continuation with z = μ + σ·ε, ε from `LTMGaussian(seed: fit.seed, block: prefixIndices[i],
  /// stream: 2³² + k)`, and draws tokens from the row stream `TokenSampler.rowSeeds(base: seed, first: i·samples + k)`.
  /// Every sample's numbers depend only on its (prefix index, k), not on batching. Result: [prefix][sample] tokens.
  public func generateConditional(
    prefixes: [[Int32]], prefixIndices: [Int]? = nil, samplesPerPrefix: Int, newTokens: Int, sampling: SamplingSettings,
    fit: LTMScoringOptions, seed: UInt64, bos: Int32 = beginOfTextID, stopToken: Int32? = nil
  ) throws -> [[[Int32]]] {
    guard !prefixes.isEmpty else { return [] }
    guard samplesPerPrefix >= 1 else { throw ModelError.badInput("samples per prefix must be at least 1") }
    guard prefixes.allSatisfy({ !$0.isEmpty }) else { throw ModelError.badInput("every prefix needs at least one token") }
    let indices = prefixIndices ?? Array(prefixes.indices)
    guard indices.count == prefixes.count else { throw ModelError.badInput("\(indices.count) prefix indices for \(prefixes.count) prefixes") }
    var options = fit
    options.freshSamples = 0
    let blocks = prefixes.map { [bos] + $0 }
    let posteriors = try evaluate(blocks: blocks, blockIndices: indices, options: options)
    let n = args.maxZLen * args.dim
    var prompts: [[Int32]] = [], latents: [[Float]] = [], seeds: [UInt64] = []
    for (i, post) in posteriors.enumerated() {
      let block = UInt64(bitPattern: Int64(indices[i]))
      for k in 0..<samplesPerPrefix {
        var g = LTMGaussian(seed: fit.seed, block: block, stream: Self.generationStream + UInt64(k))
        var z = [Float](repeating: 0, count: n)
        for j in 0..<n { z[j] = post.mu[j] + Foundation.exp(0.5 * post.logvar[j]) * g.next() }
        prompts.append(blocks[i])
        latents.append(z)
        seeds += TokenSampler.rowSeeds(base: seed, first: indices[i] * samplesPerPrefix + k, count: 1)
      }
    }
    let flat = try generateBatched(prompts: prompts, latents: latents, newTokens: newTokens, sampling: sampling, seeds: seeds, stopToken: stopToken)
    return prefixes.indices.map { i in Array(flat[(i * samplesPerPrefix)..<((i + 1) * samplesPerPrefix)]) }
  }

  /// `count` unconditional samples from BOS, z ~ N(0, I)·`zScale` (the authors' z_mult), sample i's z from
  /// `LTMGaussian(seed:, block: i, stream: 2³²)` and its tokens from row stream i of `seed`.
  public func generateUnconditional(
    count: Int, newTokens: Int, sampling: SamplingSettings, seed: UInt64, zScale: Float = 1, bos: Int32 = beginOfTextID,
    stopToken: Int32? = nil
  ) throws -> [[Int32]] {
    guard count >= 0 else { throw ModelError.badInput("sample count must be non-negative") }
    let n = args.maxZLen * args.dim
    let latents = (0..<count).map { i -> [Float] in
      var g = LTMGaussian(seed: seed, block: UInt64(i), stream: Self.generationStream)
      return (0..<n).map { _ in g.next() * zScale }
    }
    return try generateBatched(
      prompts: Array(repeating: [bos], count: count), latents: latents, newTokens: newTokens,
      sampling: sampling, seeds: TokenSampler.rowSeeds(base: seed, count: count), stopToken: stopToken)
  }

  /// `generate` in batches of at most `decodingBatch` rows (bounds the cache and activations; results do not depend
  /// on it, as each row has its own latents and stream).
  func generateBatched(
    prompts: [[Int32]], latents: [[Float]], newTokens: Int, sampling: SamplingSettings, seeds: [UInt64], stopToken: Int32?,
    decodingBatch: Int = 32
  ) throws -> [[Int32]] {
    var out: [[Int32]] = []
    for start in stride(from: 0, to: prompts.count, by: decodingBatch) {
      let end = Swift.min(prompts.count, start + decodingBatch)
      out += try generate(
        prompts: Array(prompts[start..<end]), latents: Array(latents[start..<end]), newTokens: newTokens,
        sampling: sampling, seeds: Array(seeds[start..<end]), stopToken: stopToken)
    }
    return out
  }
}
