import Foundation

/// MDLM for few-shot evaluation.
///
/// Loglikelihoods: log p(cont | ctx) ≈ −[NELBO(ctx + cont) − NELBO(ctx)], each NELBO the continuous-time bound of
/// `evaluate` (MDLM+Bound.swift) with K time samples. Each of the K draws is its own single-draw estimate keyed by
/// (seed, document, context, draw), and the same key serves both sequences, so the two NELBOs share t and the mask
/// uniforms of the context positions (common random numbers: the difference has far less variance than either
/// term). Both are upper bounds on −log p, but their difference is not a bound on anything: it is an estimate,
/// labelled `mdlm-nelbo-difference`, and there is no greedy decoder, so `isGreedy` is nil.
///
/// A one-token context (an empty one, or a rolling window: `rollingContextTokens` is 1) is scored by the bound itself:
/// −NELBO(ctx + cont) ≤ log p(ctx) + log p(cont | ctx) ≤ log p(cont | ctx), a lower bound (in expectation over the K
/// draws), labelled `mdlm-window-elbo`, so a rolling perplexity is an upper bound.
///
/// Lengths: the DiT takes any length up to `model_length` (rotary positions, no padding or fixed shape), so each
/// sequence runs at its own length; longer ones are an error, as the harness truncates prompts.
final class MDLMFewShot: FewShotLanguageModel {
  static let estimator = "mdlm-nelbo-difference"
  static let windowEstimator = "mdlm-window-elbo"
  var rollingContextTokens: Int? { 1 }
  let model: MDLMModel
  let timeSamples: Int
  let sampling: DiffusionSamplingOptions

  init(model: MDLMModel, timeSamples: Int = 1, sampling: DiffusionSamplingOptions = .init()) throws {
    guard timeSamples >= 1 else { throw ModelError.badInput("time samples must be at least 1, got \(timeSamples)") }
    self.model = model
    self.timeSamples = timeSamples
    self.sampling = sampling
  }

  var descriptor: ModelDescriptor { model.descriptor }
  /// MDLM's BOS is `<|endoftext|>` (50256); its id 50257 is the mask token, never a context.
  var emptyContextToken: Int32? { 50256 }
  /// The NELBO reads context and continuation as one sequence of at most `model_length` tokens.
  var requestTokenLimit: Int { model.descriptor.contextLength }
  var settingsSummary: [String: String] {
    ["time_samples": String(timeSamples), "loglikelihood": Self.estimator, "common_random_numbers": "true",
     "sampling_eps": String(MDLMBoundOptions.samplingEps)]
  }

  /// The stream key of draw k for a context of a document (shared by NELBO(ctx) and NELBO(ctx + cont)).
  static func drawKey(document: Int, context: [Int32], draw: Int) -> Int {
    let h = LTMGaussian.mix(LTMGaussian.mix(UInt64(bitPattern: Int64(document))) ^ UInt64(bitPattern: Int64(LTMModel.contentKey(context))))
    return Int(LTMGaussian.mix(h ^ UInt64(draw)) >> 1)  // non-negative: `evaluate` takes block indices ≥ 0
  }

  /// The NELBO of `tokens` averaged over the K draws of `context`'s keys.
  func nelbo(_ tokens: [Int32], seed: UInt64, document: Int, context: [Int32]) throws -> Double {
    guard tokens.count <= model.config.modelLength else {
      throw ModelError.badInput("\(tokens.count) tokens exceed the MDLM's model_length \(model.config.modelLength)")
    }
    // One plain uniform t per draw (no strata: the draw keys are hashes, not consecutive block indices).
    let options = MDLMBoundOptions(timeSamples: 1, seed: seed, ignoreBOS: false, timeStrata: 1)
    var sum = 0.0
    for k in 0..<timeSamples {
      sum += try model.evaluate(blocks: [tokens], blockIndices: [Self.drawKey(document: document, context: context, draw: k)], options: options)[0].nll
    }
    return sum / Double(timeSamples)
  }

  func loglikelihoods(_ requests: [LoglikelihoodRequest], seed: UInt64, document: Int) throws -> [ContinuationScore] {
    try DiffusionFewShot.loglikelihoods(requests, estimator: Self.estimator, windowEstimator: Self.windowEstimator) { tokens, context in
      try nelbo(tokens, seed: seed, document: document, context: context)
    }
  }

  func generate(
    _ request: GenerationRequest, settings: FewShotGenerationSettings, seed: UInt64, document: Int
  ) throws -> [[Int32]] {
    try FewShotChecks.validate(request, settings)
    return try prefixConditionedSamples(request.prompt, settings: settings, seed: seed, document: document)
  }

  /// `settings.candidates` prefix-conditioned ancestral samples (`MDLMSampling.swift`) of `settings.maxNewTokens`
  /// tokens after `prompt` (the prompt positions fixed, the rest starting as MASK), `sampling.steps` reverse steps with
  /// the final noise-removal argmax. Candidate k draws from the stream keyed by (seed, document, k), so it does not
  /// depend on K or on other documents. A candidate ends after its first stop token (kept), as the autoregressive
  /// families' do; the positions after it were sampled jointly but are not part of the answer.
  private func prefixConditionedSamples(
    _ prompt: [Int32], settings: FewShotGenerationSettings, seed: UInt64, document: Int
  ) throws -> [[Int32]] {
    guard settings.strategy == .sample else {
      throw ModelError.badInput("MDLM generates by ancestral sampling only (strategy `sample`), not `\(settings.strategy.rawValue)`")
    }
    let length = prompt.count + settings.maxNewTokens
    guard length <= model.config.modelLength else {
      throw ModelError.badInput("prompt (\(prompt.count)) + new tokens (\(settings.maxNewTokens)) exceed the MDLM's model_length \(model.config.modelLength)")
    }
    let documentSeed = DiffusionFewShot.documentSeed(seed, document: document)
    let samples = try model.sample(
      prefixes: Array(repeating: prompt, count: settings.candidates), length: length,
      settings: sampling,
      seeds: TokenSampler.rowSeeds(base: documentSeed, count: settings.candidates))
    return samples.tokens.map { settings.candidate($0[prompt.count...]) }
  }
}
