import Foundation
import LTMTensor

/// The few-shot view of a loaded model: its family's adapter (`FewShotCapable`, in the family's folder), with the
/// run's options mapped onto it. A model without one is an error that names its family.
public func fewShotModel(_ loaded: LoadedModel, options: ModelRunOptions = .init()) throws -> FewShotLanguageModel {
  try fewShotModel(loaded.model, options: options)
}

/// `fewShotModel(_:options:)` for a model already in hand (tests, tools).
public func fewShotModel(_ model: BlockScoringModel, options: ModelRunOptions = .init()) throws -> FewShotLanguageModel {
  try options.validate()
  guard let capable = model as? FewShotCapable else {
    throw ModelError.badInput("few-shot evaluation has no adapter for the \(model.descriptor.family) family")
  }
  return try capable.fewShotModel(options: options)
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
