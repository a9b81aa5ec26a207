import Foundation

/// SEDD for few-shot evaluation, as MDLM's adapter (`MDLM+FewShot.swift`) with SEDD's bound and sampler.
///
/// Loglikelihoods: log p(cont | ctx) ≈ −[B(ctx + cont) − B(ctx)], each B the DWDSE bound (`SEDD+Bound.swift`) averaged
/// over K draws; draw k of both sequences uses the stream keyed by (seed, document, context, k), so the context
/// positions share t and their absorbing uniforms (common random numbers). The difference is an estimate, not a bound
/// (`sedd-dwdse-difference`); a one-token context (an empty one, or a rolling window) is scored by the bound itself,
/// −B(ctx + cont) ≤ log p(cont | ctx) in expectation (`sedd-window-elbo`, so a rolling perplexity is an upper bound).
/// There is no greedy decoder: `isGreedy` is nil.
///
/// Generation: `settings.candidates` prefix-conditioned samples (`SEDDSampling.swift`) of `maxNewTokens` after the
/// prompt; a task must ask for strategy `sample` (its `families.sedd` format). Candidate k draws from the stream
/// keyed by (seed, document, k); a candidate ends after its first stop token.
final class SEDDFewShot: FewShotLanguageModel {
  static let estimator = "sedd-dwdse-difference"
  static let windowEstimator = "sedd-window-elbo"
  var rollingContextTokens: Int? { 1 }
  let model: SEDDModel
  let timeSamples: Int
  let sampling: DiffusionSamplingOptions
  let predictor: SEDDPredictor

  init(model: SEDDModel, timeSamples: Int, sampling: DiffusionSamplingOptions) throws {
    guard timeSamples >= 1 else { throw ModelError.badInput("time samples must be at least 1, got \(timeSamples)") }
    self.model = model
    self.timeSamples = timeSamples
    self.sampling = sampling
    predictor = try model.predictor(sampling)
  }

  var descriptor: ModelDescriptor { model.descriptor }
  /// SEDD's data has no BOS; an empty context becomes `<|endoftext|>` (50256), never the absorbing state.
  var emptyContextToken: Int32? { model.config.tokens == 50257 ? 50256 : 0 }
  /// The bound reads context and continuation as one sequence of at most the model's length.
  var requestTokenLimit: Int { model.descriptor.contextLength }
  var settingsSummary: [String: String] {
    ["time_samples": String(timeSamples), "loglikelihood": Self.estimator, "common_random_numbers": "true",
     "sampling_eps": String(SEDDBoundOptions.samplingEps), "noise": model.noise.name,
     "sampler": "\(predictor.rawValue), \(sampling.steps) steps, \(sampling.noiseRemoval ? "denoiser" : "no denoiser")"]
  }

  /// The bound of `tokens` averaged over the K draws keyed by `context` (MDLM's adapter keys its draws the same way).
  func bound(_ tokens: [Int32], seed: UInt64, document: Int, context: [Int32]) throws -> Double {
    guard tokens.count <= model.config.model.length else {
      throw ModelError.badInput("\(tokens.count) tokens exceed the SEDD length \(model.config.model.length)")
    }
    let options = SEDDBoundOptions(timeSamples: 1, seed: seed)
    var sum = 0.0
    for k in 0..<timeSamples {
      let key = MDLMFewShot.drawKey(document: document, context: context, draw: k)
      sum += try model.evaluate(blocks: [tokens], blockIndices: [key], options: options)[0].nll
    }
    return sum / Double(timeSamples)
  }

  func loglikelihoods(_ requests: [LoglikelihoodRequest], seed: UInt64, document: Int) throws -> [ContinuationScore] {
    try DiffusionFewShot.loglikelihoods(requests, estimator: Self.estimator, windowEstimator: Self.windowEstimator) { tokens, context in
      try bound(tokens, seed: seed, document: document, context: context)
    }
  }

  func generate(_ request: GenerationRequest, settings: FewShotGenerationSettings, seed: UInt64, document: Int) throws -> [[Int32]] {
    try FewShotChecks.validate(request, settings)
    guard settings.strategy == .sample else {
      throw ModelError.badInput("SEDD generates by sampling its reverse process only (strategy `sample`), not `\(settings.strategy.rawValue)`")
    }
    let prompt = request.prompt, length = prompt.count + settings.maxNewTokens
    guard length <= model.config.model.length else {
      throw ModelError.badInput("prompt (\(prompt.count)) + new tokens (\(settings.maxNewTokens)) exceed the SEDD length \(model.config.model.length)")
    }
    let documentSeed = DiffusionFewShot.documentSeed(seed, document: document)
    let samples = try model.sample(
      prefixes: Array(repeating: prompt, count: settings.candidates), length: length, settings: sampling, predictor: predictor,
      seeds: TokenSampler.rowSeeds(base: documentSeed, count: settings.candidates))
    return samples.tokens.map { settings.candidate($0[prompt.count...]) }
  }
}
