import Foundation
import LTMModels
import LTMReports
import LTMTasks

/// The settings an LTM run is scored under (`--inference-steps`, `--fast-lr`, `--posterior-init`,
/// `--elbo-samples`); ignored by models without posterior inference (GPT-2).
public struct LatentInferenceOptions: Sendable, Equatable {
  /// T values to score; several make a sweep (one result row per T). nil: the checkpoint's `num_steps`.
  public var steps: [Int]?
  /// nil: the checkpoint's `fast_lr`.
  public var fastLearningRate: Double?
  public var initialization: LTMPosteriorInit
  /// K fresh ε samples for the bound that does not reuse the fitted ε (0 skips it; 1 gives no standard error).
  public var freshSamples: Int

  public init(steps: [Int]? = nil, fastLearningRate: Double? = nil, initialization: LTMPosteriorInit = .official, freshSamples: Int = 8) {
    self.steps = steps
    self.fastLearningRate = fastLearningRate
    self.initialization = initialization
    self.freshSamples = freshSamples
  }

  /// Whether any LTM option was given (they are an error when no model has posterior inference: silently
  /// ignoring `--inference-steps 64` on a GPT-2-only run would mislabel what was measured).
  public var isDefault: Bool { self == LatentInferenceOptions() }

  /// `official` or `deterministic` (`--posterior-init`).
  public static func initialization(named name: String) throws -> LTMPosteriorInit {
    guard let value = LTMPosteriorInit(rawValue: name) else {
      throw HarnessError.invalidArgument(
        "--posterior-init must be \(LTMPosteriorInit.allCases.map(\.rawValue).joined(separator: " or ")), got '\(name)'")
    }
    return value
  }

  func validate() throws {
    if let steps {
      guard !steps.isEmpty else { throw HarnessError.invalidArgument("--inference-steps needs at least one value") }
      if let bad = steps.first(where: { $0 < 0 }) { throw HarnessError.invalidArgument("--inference-steps must be ≥ 0, got \(bad)") }
      // Large is allowed (the steps are printed with every result); past this a typo would run for months.
      if let bad = steps.first(where: { $0 > OptionBounds.steps }) {
        throw HarnessError.invalidArgument("--inference-steps \(bad) is more than \(OptionBounds.steps) fast-loop steps per block")
      }
      guard Set(steps).count == steps.count else { throw HarnessError.invalidArgument("--inference-steps lists a value twice: \(steps)") }
    }
    if let lr = fastLearningRate, !(lr > 0 && lr.isFinite) {
      throw HarnessError.invalidArgument("--fast-lr must be a positive number, got \(lr)")
    }
    guard freshSamples <= OptionBounds.samples else {
      throw HarnessError.invalidArgument("--elbo-samples \(freshSamples) is more than \(OptionBounds.samples)")
    }
    guard freshSamples == 0 || freshSamples >= 2 else {
      throw HarnessError.invalidArgument("--elbo-samples must be 0 (skip) or at least 2 (one sample has no standard error), got \(freshSamples)")
    }
  }
}

/// The settings a diffusion model (MDLM) is scored under (`--time-samples`); ignored by other families.
public struct DiffusionOptions: Sendable, Equatable {
  /// K (t, mask) draws per block; nil: 1, the papers' protocol (one draw per block), which has no standard error.
  public var timeSamples: Int?
  /// n of the K = 1 antithetic time draw (groups of n consecutive blocks); nil: the reference's eval batch, 16.
  public var timeStrata: Int?

  public init(timeSamples: Int? = nil, timeStrata: Int? = nil) {
    self.timeSamples = timeSamples
    self.timeStrata = timeStrata
  }

  /// Whether `--time-samples`/`--time-strata` was given (an error when no model is a diffusion model).
  public var isDefault: Bool { timeSamples == nil && timeStrata == nil }

  func validate() throws {
    if let k = timeSamples, !(1...OptionBounds.samples).contains(k) {
      throw HarnessError.invalidArgument("--time-samples must be in 1...\(OptionBounds.samples), got \(k)")
    }
    if let n = timeStrata, n < 1 { throw HarnessError.invalidArgument("--time-strata must be at least 1, got \(n)") }
    if timeStrata != nil, let k = timeSamples, k > 1 {
      throw HarnessError.invalidArgument("--time-strata applies to one draw per block; with --time-samples \(k) the draws of each block are stratified")
    }
  }
}

/// One way of scoring a model: its settings (which label the result row and key the block cache) and the function
/// that scores a batch of blocks. GPT-2 has one variant; an LTM has one per inference-step count of a sweep,
/// because the cosine learning-rate schedule depends on T, so every T is its own fit (from the same μ0, σ0, ε).
struct ScoringVariant {
  var settings: ScorerSettings
  /// Scores `blocks` (with their run-wide block indices, which seed stochastic scorers so a block's number does
  /// not depend on batching, sharding or `--limit-blocks`) into cacheable records.
  var score: (_ blocks: [[Int32]], _ indices: [Int]) throws -> [BlockRecord]

  static func variants(
    for model: BlockScoringModel, options: LatentInferenceOptions, diffusion: DiffusionOptions = DiffusionOptions(),
    protocol blockProtocol: BlockProtocol = .mdlm, seed: UInt64
  ) throws -> [ScoringVariant] {
    if let mdlm = model as? MDLMModel {
      return [mdlmVariant(mdlm, diffusion: diffusion, protocol: blockProtocol, seed: seed)]
    }
    guard let ltm = model as? LTMModel else {
      return [ScoringVariant(settings: model.reportedSettings) { blocks, indices in
        try zip(indices, model.score(blocks: blocks)).map { i, s in
          BlockRecord(index: i, nll: s.nllSum, tokens: s.scoredTokens, kl: s.extraNats != 0 ? s.extraNats : nil)
        }
      }]
    }
    let steps: [Int?] = options.steps ?? [nil]
    return try steps.map { t in
      let o = try ltm.options(
        steps: t, learningRate: options.fastLearningRate, initialization: options.initialization, seed: seed,
        freshSamples: options.freshSamples)
      let settings = ScorerSettings(inferenceSteps: o.steps, values: [
        "fast_lr": String(o.learningRate), "posterior_init": o.initialization.rawValue,
        "elbo_samples": String(o.freshSamples), "kl_weight": "1",
      ])
      return ScoringVariant(settings: settings) { blocks, indices in
        try zip(indices, ltm.evaluate(blocks: blocks, blockIndices: indices, options: o)).map { i, p in
          // The paper's bound: Σ CE at z = μ + σ·ε with the fitted ε, plus KL(q‖N(0, I)).
          let fresh = p.fresh.map { f in
            FreshBlockEstimate(nll: f.nllMean, kl: f.kl, samples: f.samples, variance: pow(f.nllStandardError ?? 0, 2))
          }
          return BlockRecord(index: i, nll: p.nelbo, tokens: p.scoredTokens, kl: p.kl, fresh: fresh)
        }
      }
    }
  }

  /// MDLM: the continuous-time NELBO with K (t, mask) draws per block, seeded by (seed, block index). The record's
  /// `nll` is the K-draw mean (K = 1: the papers' estimator); with K ≥ 2 the same mean and its Monte Carlo variance
  /// also go into `fresh` (kl 0), so the report carries the standard error of the bound. `time_samples` and
  /// `ignore_bos` label the row and key the block cache.
  static func mdlmVariant(_ mdlm: MDLMModel, diffusion: DiffusionOptions, protocol blockProtocol: BlockProtocol, seed: UInt64) -> ScoringVariant {
    let k = diffusion.timeSamples ?? 1
    let options = MDLMBoundOptions(
      timeSamples: k, seed: seed, ignoreBOS: blockProtocol.ignoreBOS,
      timeStrata: diffusion.timeStrata ?? MDLMBoundOptions.referenceEvalBatchSize)
    var values = [
      "time_samples": String(k), "time_sampling": k == 1 ? "papers_protocol_one_draw" : "stratified_per_block",
      "ignore_bos": String(options.ignoreBOS), "sampling_eps": String(MDLMBoundOptions.samplingEps),
    ]
    // K = 1: t antithetic across groups of n consecutive blocks (the reference's `_sample_t` over a batch of n).
    if k == 1 { values["time_strata"] = String(options.timeStrata) }
    let settings = ScorerSettings(values: values)
    return ScoringVariant(settings: settings) { blocks, indices in
      try zip(indices, mdlm.evaluate(blocks: blocks, blockIndices: indices, options: options)).map { i, e in
        let fresh = e.variance.map { FreshBlockEstimate(nll: e.nll, kl: 0, samples: e.samples, variance: $0) }
        return BlockRecord(index: i, nll: e.nll, tokens: e.scoredTokens, fresh: fresh)
      }
    }
  }
}

/// Upper bounds of the options that multiply the work (the thread count has its own, `ThreadCount`): generous for
/// real use, and an error rather than a run that would not end.
enum OptionBounds {
  /// Fast-loop steps per block (`--inference-steps`); the papers use at most 64.
  static let steps = 100_000
  /// Monte Carlo draws per block or document (`--elbo-samples`, `--time-samples`).
  static let samples = 4096
  /// Generations per prompt and k-means seeds (`--samples-per-prompt`, `--seeds`).
  static let repeats = 1000
}
