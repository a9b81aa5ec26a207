import Foundation
import LTMTensor

/// Family-specific settings of few-shot evaluation (`ltm-bench fewshot`). Threads are set by the caller
/// (`BLAS.threads`, `Parallel.threads`); GPT-2 has nothing to set yet.
public struct FewShotModelOptions: Sendable, Equatable {
  /// LTM: fast-loop steps T; nil = the checkpoint's `num_steps` (the paper's protocol, §8).
  public var ltmSteps: Int?
  /// LTM: fast lr (cosine to lr/10 over T); nil = the checkpoint's `fast_lr`.
  public var ltmFastLearningRate: Double?
  /// LTM: where each fit starts (`official`: μ0 = 0.01·N(0,1), log σ²0 = −5 + 0.1·N(0,1), one ε per fit).
  public var ltmInitialization: LTMPosteriorInit
  /// LTM: how many independent fits the harness asks for per generation request (`--fits`, the paper's pass@5).
  /// The adapter itself decodes `FewShotGenerationSettings.candidates` fits; this is the default the harness puts there.
  public var ltmFits: Int
  /// MDLM: K (t, mask) draws per NELBO (`--time-samples`); both NELBOs of a request use the same K draws' uniforms.
  public var mdlmTimeSamples: Int
  /// MDLM: reverse-process steps T of the prefix-conditioned sampler (the authors' `sampling.steps` default, 128).
  public var mdlmSamplerSteps: Int

  public init(
    ltmSteps: Int? = nil, ltmFastLearningRate: Double? = nil, ltmInitialization: LTMPosteriorInit = .official,
    ltmFits: Int = 5, mdlmTimeSamples: Int = 1, mdlmSamplerSteps: Int = 128
  ) {
    self.ltmSteps = ltmSteps
    self.ltmFastLearningRate = ltmFastLearningRate
    self.ltmInitialization = ltmInitialization
    self.ltmFits = ltmFits
    self.mdlmTimeSamples = mdlmTimeSamples
    self.mdlmSamplerSteps = mdlmSamplerSteps
  }
}

/// The few-shot view of a loaded model: GPT-2, LTM or MDLM, chosen by the model's class (the registry already
/// decided the family). Other `BlockScoringModel`s have no few-shot adapter and are an error.
public func fewShotModel(_ loaded: LoadedModel, options: FewShotModelOptions) throws -> FewShotLanguageModel {
  try fewShotModel(loaded.model, options: options)
}

/// `fewShotModel(_:options:)` for a model already in hand (tests, tools).
public func fewShotModel(_ model: BlockScoringModel, options: FewShotModelOptions) throws -> FewShotLanguageModel {
  guard options.ltmFits >= 1 else { throw ModelError.badInput("--fits must be at least 1, got \(options.ltmFits)") }
  switch model {
  case let gpt2 as GPT2Model: return GPT2FewShot(model: gpt2)
  case let ltm as LTMModel: return try LTMFewShot(model: ltm, options: options)
  case let mdlm as MDLMModel: return try MDLMFewShot(model: mdlm, options: options)
  default:
    throw ModelError.badInput("few-shot evaluation has no adapter for the \(model.descriptor.family) family")
  }
}

// MARK: - Shared checks and helpers

enum FewShotChecks {
  /// Every request has a non-empty context and continuation (the harness guarantees both; lm-eval asserts them).
  static func validate(_ requests: [LoglikelihoodRequest]) throws {
    for (i, r) in requests.enumerated() {
      guard !r.context.isEmpty else { throw ModelError.badInput("loglikelihood request \(i) has an empty context (the harness supplies a prefix token)") }
      guard !r.continuation.isEmpty else { throw ModelError.badInput("loglikelihood request \(i) has an empty continuation") }
    }
  }

  static func validate(_ request: GenerationRequest, _ settings: FewShotGenerationSettings) throws {
    guard !request.prompt.isEmpty else { throw ModelError.badInput("a generation prompt needs at least one token") }
    guard settings.maxNewTokens >= 1 else { throw ModelError.badInput("max_new_tokens must be at least 1, got \(settings.maxNewTokens)") }
    guard settings.candidates >= 1 else { throw ModelError.badInput("candidates must be at least 1, got \(settings.candidates)") }
  }
}
