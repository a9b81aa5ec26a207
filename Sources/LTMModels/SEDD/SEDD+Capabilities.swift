import Foundation
import LTMMetrics

extension SEDDModel: ZeroShotScoring, FewShotCapable, ContinuationGenerating {
  /// The DWDSE bound with K (t, x_t) draws per block, seeded by (seed, block index): the record's `nll` is the K-draw
  /// mean; with K ≥ 2 its Monte Carlo variance goes into `fresh` (kl 0) for the standard error.
  public func scoringVariants(_ context: ZeroShotContext) throws -> [ScoringVariant] {
    let k = context.options.diffusionBound.timeSamples ?? 1
    if context.options.diffusionBound.timeStrata != nil {
      throw ModelError.badInput("--time-strata is MDLM's antithetic draw across blocks; SEDD draws t per block as its authors do")
    }
    let options = SEDDBoundOptions(timeSamples: k, seed: context.seed, ignoreBOS: context.ignoreBOS)
    let settings = ScorerSettings(values: [
      "time_samples": String(k), "time_sampling": k == 1 ? "uniform_per_block" : "stratified_per_block",
      "ignore_bos": String(options.ignoreBOS), "sampling_eps": String(SEDDBoundOptions.samplingEps),
      "noise": noise.name, "bound": "dwdse", "weights": checkpointWeights.description,
    ])
    return [ScoringVariant(settings: settings) { [self] blocks, indices in
      try zip(indices, evaluate(blocks: blocks, blockIndices: indices, options: options)).map { i, e in
        let fresh = e.variance.map { FreshBlockEstimate(nll: e.nll, kl: 0, samples: e.samples, variance: $0) }
        return BlockRecord(index: i, nll: e.nll, tokens: e.scoredTokens, fresh: fresh)
      }
    }]
  }

  public func fewShotModel(options: ModelRunOptions) throws -> FewShotLanguageModel {
    try SEDDFewShot(model: self, timeSamples: options.diffusionBound.timeSamples ?? 1, sampling: options.diffusionSampling)
  }

  /// SEDD data has no BOS: a prompt is its tokens.
  public var promptBOS: Int32? { nil }

  /// The checkpoint's `sampling.predictor` unless `--predictor` names one (the authors' config default: euler).
  func predictor(_ options: DiffusionSamplingOptions) throws -> SEDDPredictor {
    try options.checkPredictor(SEDDPredictor.allCases.map(\.rawValue), family: "SEDD")
    let name = options.predictor ?? config.sampling?.predictor ?? SEDDPredictor.euler.rawValue
    guard let predictor = SEDDPredictor(rawValue: name) else {
      throw ModelError.badInput("the checkpoint's sampling.predictor '\(name)' is not implemented (analytic or euler); pass --predictor")
    }
    return predictor
  }

  public func samplerSummary(_ request: ContinuationRequest) throws -> String? {
    let s = request.options.diffusionSampling
    return "SEDD \(try predictor(s).rawValue) sampler, \(s.steps) steps, \(s.noiseRemoval ? "denoiser" : "no denoiser")"
  }

  /// Prefix-conditioned sampling over prefix + new-tokens positions with T = `--steps`; it draws from the model
  /// itself, so the token sampling settings must be left at their defaults.
  public func generateContinuations(prefixes: [[Int32]], request: ContinuationRequest) throws -> [[[Int32]]] {
    guard request.sampling == SamplingSettings() else {
      throw ModelError.badInput(
        "SEDD samples from its reverse process; --sampling/--temperature/--top-k/--top-p apply to GPT-2 and LTM only "
          + "(leave them at their defaults, or score SEDD in a separate run)")
    }
    let settings = request.options.diffusionSampling
    let rule = try predictor(settings)
    let start = prefixes.first?.count ?? 0, length = start + request.newTokens
    guard length <= config.model.length else {
      throw ModelError.badInput("--prefix-tokens + --new-tokens = \(length) exceeds the SEDD length of \(config.model.length)")
    }
    return try request.inBatches(prefixes: prefixes, rowsPerBatch: 16) { rows, seeds in
      let result = try sample(prefixes: rows, length: length, settings: settings, predictor: rule, seeds: seeds)
      // Without noise removal a position can stay absorbed: it is no text, so it is dropped.
      return result.tokens.map { Array($0[start...]).filter { $0 != config.maskIndex } }
    }
  }
}
