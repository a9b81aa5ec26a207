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

/// What the diffusion families' adapters (MDLM, SEDD) share: log-likelihoods from a bound B on −log p, and the key of
/// a document's sampled candidates.
enum DiffusionFewShot {
  /// log p(cont | ctx) ≈ B(ctx) − B(ctx + cont) (`estimator`; B(ctx) computed once per distinct context of the call),
  /// and for a one-token context the bound itself, −B(ctx + cont) ≤ log p(cont | ctx) (`windowEstimator`, a lower
  /// bound). `bound(tokens, context)` keys its draws by `context`, so both terms share them (common random numbers).
  static func loglikelihoods(
    _ requests: [LoglikelihoodRequest], estimator: String, windowEstimator: String,
    bound: (_ tokens: [Int32], _ context: [Int32]) throws -> Double
  ) throws -> [ContinuationScore] {
    try FewShotChecks.validate(requests)
    var contextBound: [[Int32]: Double] = [:]
    return try requests.map { r in
      if r.context.count == 1 {
        let whole = try bound(r.context + r.continuation, r.context)
        return ContinuationScore(
          logprob: -whole, isGreedy: nil, tokenCount: r.continuation.count, estimator: windowEstimator, isLowerBound: true)
      }
      let base = try contextBound[r.context] ?? bound(r.context, r.context)
      contextBound[r.context] = base
      let whole = try bound(r.context + r.continuation, r.context)
      return ContinuationScore(logprob: base - whole, isGreedy: nil, tokenCount: r.continuation.count, estimator: estimator)
    }
  }

  /// The seed of a document's candidates: candidate k draws from row stream k of it, whatever K or the other documents.
  static func documentSeed(_ seed: UInt64, document: Int) -> UInt64 {
    LTMGaussian.mix(seed ^ LTMGaussian.mix(UInt64(bitPattern: Int64(document))))
  }
}
