import Foundation
import LTMMetrics

extension MDLMModel: ZeroShotScoring, FewShotCapable, ContinuationGenerating {
  /// The continuous-time NELBO with K (t, mask) draws per block, seeded by (seed, block index). The record's `nll` is
  /// the K-draw mean (K = 1: the papers' estimator); with K ≥ 2 the same mean and its Monte Carlo variance also go
  /// into `fresh` (kl 0), so the report carries the standard error of the bound. `time_samples` and `ignore_bos`
  /// label the row and key the block cache.
  public func scoringVariants(_ context: ZeroShotContext) throws -> [ScoringVariant] {
    let bound = context.options.diffusionBound
    let k = bound.timeSamples ?? 1
    let options = MDLMBoundOptions(
      timeSamples: k, seed: context.seed, ignoreBOS: context.ignoreBOS,
      timeStrata: bound.timeStrata ?? MDLMBoundOptions.referenceEvalBatchSize)
    var values = [
      "time_samples": String(k), "time_sampling": k == 1 ? "papers_protocol_one_draw" : "stratified_per_block",
      "ignore_bos": String(options.ignoreBOS), "sampling_eps": String(MDLMBoundOptions.samplingEps),
    ]
    // K = 1: t antithetic across groups of n consecutive blocks (the reference's `_sample_t` over a batch of n).
    if k == 1 { values["time_strata"] = String(options.timeStrata) }
    return [ScoringVariant(settings: ScorerSettings(values: values)) { [self] blocks, indices in
      try zip(indices, evaluate(blocks: blocks, blockIndices: indices, options: options)).map { i, e in
        let fresh = e.variance.map { FreshBlockEstimate(nll: e.nll, kl: 0, samples: e.samples, variance: $0) }
        return BlockRecord(index: i, nll: e.nll, tokens: e.scoredTokens, fresh: fresh)
      }
    }]
  }

  /// The one reverse-step rule implemented: the authors' `ddpm_cache` ancestral sampler.
  static let predictors = ["ddpm_cache"]

  public func fewShotModel(options: ModelRunOptions) throws -> FewShotLanguageModel {
    try options.diffusionSampling.checkPredictor(Self.predictors, family: "MDLM")
    return try MDLMFewShot(model: self, timeSamples: options.diffusionBound.timeSamples ?? 1, sampling: options.diffusionSampling)
  }

  public func samplerSummary(_ request: ContinuationRequest) throws -> String? {
    let s = request.options.diffusionSampling
    return "MDLM ancestral sampling (ddpm_cache), \(s.steps) steps, \(s.noiseRemoval ? "noise removal" : "no noise removal")"
  }

  /// A prompt starts a document, as in training: [BOS] + prompt when the vocabulary names a BOS (recorded in
  /// mauve.json as the result's prompt_bos).
  public var promptBOS: Int32? { config.documentBOS }

  /// Prefix-conditioned ancestral sampling over prefix + new-tokens positions (the prefix fixed, the rest starting as
  /// MASK), T = `options.diffusionSampling.steps`; the continuation is the generated positions. It draws from p_θ
  /// itself, so the token sampling settings (temperature, top-k, top-p, greedy) must be left at their defaults.
  public func generateContinuations(prefixes: [[Int32]], request: ContinuationRequest) throws -> [[[Int32]]] {
    try request.options.diffusionSampling.checkPredictor(Self.predictors, family: "MDLM")
    guard request.sampling == SamplingSettings() else {
      throw ModelError.badInput(
        "MDLM samples from p_θ as the reference sampler does; --sampling/--temperature/--top-k/--top-p apply to GPT-2 "
          + "and LTM only (leave them at their defaults, or score MDLM in a separate run)")
    }
    let bos = promptBOS.map { [$0] } ?? []
    let start = bos.count + (prefixes.first?.count ?? 0)
    let length = start + request.newTokens
    guard length <= config.modelLength else {
      throw ModelError.badInput(
        "\(bos.isEmpty ? "" : "BOS + ")--prefix-tokens + --new-tokens = \(length) exceeds the MDLM length of \(config.modelLength)")
    }
    return try request.inBatches(prefixes: prefixes.map { bos + $0 }, rowsPerBatch: 16) { rows, seeds in
      let result: MDLMSamples
      do {
        result = try sample(prefixes: rows, length: length, settings: request.options.diffusionSampling, seeds: seeds)
      } catch let ModelError.badInput(reason) {
        throw ModelError.badInput("MDLM sampling: \(reason) (the prompts are tokenized by the featurizer's tokenizer)")
      }
      // Without noise removal a position can end as MASK: it is no text, so it is dropped.
      return result.tokens.map { Array($0[start...]).filter { $0 != config.maskIndex } }
    }
  }
}
