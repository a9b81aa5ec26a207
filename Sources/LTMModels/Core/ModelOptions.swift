import Foundation

/// Upper bounds of the options that multiply the work (the thread count has its own, `ThreadCount`): generous for
/// real use, and an error rather than a run that would not end.
public enum OptionBounds {
  /// Fast-loop steps per block (`--inference-steps`); the papers use at most 64.
  public static let steps = 100_000
  /// Monte Carlo draws per block or document (`--elbo-samples`, `--time-samples`).
  public static let samples = 4096
  /// Generations per prompt and k-means seeds (`--samples-per-prompt`, `--seeds`).
  public static let repeats = 1000
}

/// Posterior inference over latent thoughts (`--inference-steps`, `--fast-lr`, `--posterior-init`, `--elbo-samples`,
/// `--fits`): one type for zero-shot, few-shot and mauve, validated once (`validate`). Read by the families that
/// accept `.latentInference` (LTM); given to a run with no such model, it is an error.
public struct LatentInferenceOptions: Sendable, Equatable {
  /// T values; several make a zero-shot sweep (one result row per T). nil: the checkpoint's `num_steps`.
  public var steps: [Int]?
  /// nil: the checkpoint's `fast_lr`.
  public var fastLearningRate: Double?
  public var initialization: LTMPosteriorInit
  /// K fresh ε samples for the zero-shot bound that does not reuse the fitted ε (0 skips it; 1 gives no standard
  /// error). nil: `defaultFreshSamples`.
  public var freshSamples: Int?
  /// Few-shot generation: independent posterior fits per document, each decoded greedily (pass@K); nil: the task's
  /// candidates.
  public var fits: Int?

  public static let defaultFreshSamples = 8

  public init(
    steps: [Int]? = nil, fastLearningRate: Double? = nil, initialization: LTMPosteriorInit = .official,
    freshSamples: Int? = nil, fits: Int? = nil
  ) {
    self.steps = steps
    self.fastLearningRate = fastLearningRate
    self.initialization = initialization
    self.freshSamples = freshSamples
    self.fits = fits
  }

  /// The flags this value was given (empty: every option at its default).
  public var givenFlags: [String] {
    let d = LatentInferenceOptions()
    return [("--inference-steps", steps != d.steps), ("--fast-lr", fastLearningRate != d.fastLearningRate),
            ("--posterior-init", initialization != d.initialization), ("--elbo-samples", freshSamples != d.freshSamples),
            ("--fits", fits != d.fits)].filter(\.1).map(\.0)
  }

  /// The fresh-ε sample count a zero-shot fit uses.
  public var resolvedFreshSamples: Int { freshSamples ?? Self.defaultFreshSamples }

  /// The one T of a command that fits once per request (few-shot, mauve); a list is a zero-shot sweep.
  public func singleSteps(command: String) throws -> Int? {
    guard let steps else { return nil }
    guard steps.count == 1 else {
      throw ModelError.badInput("--inference-steps takes one value in \(command) (a sweep is a zero-shot feature), got \(steps)")
    }
    return steps[0]
  }

  public func validate() throws {
    if let steps {
      guard !steps.isEmpty else { throw ModelError.badInput("--inference-steps needs at least one value") }
      if let bad = steps.first(where: { $0 < 0 }) { throw ModelError.badInput("--inference-steps must be ≥ 0, got \(bad)") }
      // Large is allowed (the steps are printed with every result); past this a typo would run for months.
      if let bad = steps.first(where: { $0 > OptionBounds.steps }) {
        throw ModelError.badInput("--inference-steps \(bad) is more than \(OptionBounds.steps) fast-loop steps per block")
      }
      guard Set(steps).count == steps.count else { throw ModelError.badInput("--inference-steps lists a value twice: \(steps)") }
    }
    if let lr = fastLearningRate, !(lr > 0 && lr.isFinite) {
      throw ModelError.badInput("--fast-lr must be a positive number, got \(lr)")
    }
    if let k = freshSamples {
      guard k <= OptionBounds.samples else { throw ModelError.badInput("--elbo-samples \(k) is more than \(OptionBounds.samples)") }
      guard k == 0 || k >= 2 else {
        throw ModelError.badInput("--elbo-samples must be 0 (skip) or at least 2 (one sample has no standard error), got \(k)")
      }
    }
    if let fits, !(1...OptionBounds.repeats).contains(fits) {
      throw ModelError.badInput("--fits must be in 1...\(OptionBounds.repeats), got \(fits)")
    }
  }
}

/// The Monte Carlo draws of a diffusion NELBO (`--time-samples`, `--time-strata`); read by families that accept
/// `.diffusionBound` (MDLM).
public struct DiffusionBoundOptions: Sendable, Equatable {
  /// K (t, mask) draws per block or NELBO; nil: 1, the papers' protocol (one draw per block), which has no standard
  /// error.
  public var timeSamples: Int?
  /// n of the K = 1 antithetic time draw (groups of n consecutive blocks); nil: the reference's eval batch, 16.
  public var timeStrata: Int?

  public init(timeSamples: Int? = nil, timeStrata: Int? = nil) {
    self.timeSamples = timeSamples
    self.timeStrata = timeStrata
  }

  public var givenFlags: [String] {
    [("--time-samples", timeSamples != nil), ("--time-strata", timeStrata != nil)].filter(\.1).map(\.0)
  }

  public func validate() throws {
    if let k = timeSamples, !(1...OptionBounds.samples).contains(k) {
      throw ModelError.badInput("--time-samples must be in 1...\(OptionBounds.samples), got \(k)")
    }
    if let n = timeStrata, n < 1 { throw ModelError.badInput("--time-strata must be at least 1, got \(n)") }
    if timeStrata != nil, let k = timeSamples, k > 1 {
      throw ModelError.badInput("--time-strata applies to one draw per block; with --time-samples \(k) the draws of each block are stratified")
    }
  }
}

/// Reverse-process sampling of a diffusion model (`--steps`, `--no-noise-removal`, `--predictor`); read by families
/// that accept `.diffusionSampling` (MDLM, SEDD), in mauve and few-shot generation alike.
public struct DiffusionSamplingOptions: Sendable, Equatable, Codable {
  /// T, the number of reverse steps (`sampling.steps`; the authors' config default is 128).
  public var steps: Int
  /// `sampling.noise_removal`: a final denoising forward at t_min fills any position still masked.
  public var noiseRemoval: Bool
  /// The reverse-step rule (`sampling.predictor`: MDLM `ddpm_cache`, SEDD `analytic` or `euler`); nil: the family's
  /// default. A family rejects a rule it does not implement.
  public var predictor: String?

  enum CodingKeys: String, CodingKey { case steps, noiseRemoval = "noise_removal", predictor }

  public init(steps: Int = 128, noiseRemoval: Bool = true, predictor: String? = nil) {
    self.steps = steps
    self.noiseRemoval = noiseRemoval
    self.predictor = predictor
  }

  public var givenFlags: [String] {
    let d = DiffusionSamplingOptions()
    return [("--steps", steps != d.steps), ("--no-noise-removal", noiseRemoval != d.noiseRemoval), ("--predictor", predictor != d.predictor)]
      .filter(\.1).map(\.0)
  }

  /// Throws unless `predictor` is nil or one of `implemented` (the family's rules, named in `family`'s message).
  public func checkPredictor(_ implemented: [String], family: String) throws {
    guard let predictor, !implemented.contains(predictor) else { return }
    throw ModelError.badInput("--predictor \(predictor): \(family) samples with \(implemented.joined(separator: " or "))")
  }

  public func validate() throws {
    guard steps >= 1 else { throw ModelError.badInput("--steps must be at least 1, got \(steps)") }
  }
}

/// Every family-specific setting a command passes to its models, one field per option group. Each family reads the
/// groups it accepts (`ModelFamily.acceptedOptions`); `rejectUnused` turns a group that no loaded model reads into
/// one error line.
public struct ModelRunOptions: Sendable, Equatable {
  public var latent: LatentInferenceOptions
  public var diffusionBound: DiffusionBoundOptions
  public var diffusionSampling: DiffusionSamplingOptions

  public init(
    latent: LatentInferenceOptions = .init(), diffusionBound: DiffusionBoundOptions = .init(),
    diffusionSampling: DiffusionSamplingOptions = .init()
  ) {
    self.latent = latent
    self.diffusionBound = diffusionBound
    self.diffusionSampling = diffusionSampling
  }

  public func validate() throws {
    try latent.validate()
    try diffusionBound.validate()
    try diffusionSampling.validate()
  }

  /// The flags given for `group`.
  public func givenFlags(_ group: ModelOptionGroup) -> [String] {
    switch group {
    case .latentInference: return latent.givenFlags
    case .diffusionBound: return diffusionBound.givenFlags
    case .diffusionSampling: return diffusionSampling.givenFlags
    }
  }

  /// Throws when a group was given and none of `families` (the loaded models' `LoadedModel.family`) reads it.
  public func rejectUnused(byFamilies families: [String]) throws {
    for group in ModelOptionGroup.allCases {
      let flags = givenFlags(group)
      guard !flags.isEmpty, !families.contains(where: { ModelRegistry.family(named: $0, accepts: group) }) else { continue }
      let list = flags.count == 1 ? flags[0] + " applies" : flags.dropLast().joined(separator: ", ") + " and " + flags.last! + " apply"
      throw ModelError.badInput("\(list) to \(ModelRegistry.familyNames(accepting: group)) checkpoints, and no --model is one")
    }
  }
}
