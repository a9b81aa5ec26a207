import ArgumentParser
import Foundation
import LTMHarness

// The family option groups, each declared once and shared by the commands that compute (zero-shot, fewshot,
// mauve). The values go to the harness as one `ModelRunOptions`; a group no loaded model reads is an error there.

extension LTMPosteriorInit: ExpressibleByArgument {}
extension SamplingSettings.Method: ExpressibleByArgument {}
extension ShotPool: ExpressibleByArgument {}

/// Posterior inference over latent thoughts (LTM).
struct LatentInferenceArguments: ParsableArguments {
  @Option(help: ArgumentHelp(
    "LTM: posterior-inference steps T; zero-shot also takes a comma-separated sweep (0,4,16,64: one result row per T, plotted in the report); default: the checkpoint's num_steps.",
    valueName: "T[,T…]"))
  var inferenceSteps: String?

  @Option(help: "LTM: fast-loop learning rate (cosine from it to a tenth over T steps); default: the checkpoint's fast_lr.")
  var fastLr: Double?

  @Option(help: "LTM: posterior start: official (μ0 = 0.01·N(0,1), log σ²0 = −5 + 0.1·N(0,1), one ε, seeded by --seed and the block or document) or deterministic (μ0 = 0, log σ²0 = −5, ε = 0).")
  var posteriorInit: LTMPosteriorInit = .official

  @Option(help: "LTM, zero-shot: fresh ε samples for the bound that does not reuse the fitted ε, with its Monte Carlo standard error (0 skips it); default 8.")
  var elboSamples: Int?

  /// The options, `fits` (few-shot's `--fits`) included.
  func options(fits: Int? = nil) throws -> LatentInferenceOptions {
    let steps = try inferenceSteps.map { text in
      try text.split(separator: ",", omittingEmptySubsequences: false).map { part -> Int in
        guard let t = Int(part.trimmingCharacters(in: .whitespaces)) else {
          throw HarnessError.invalidArgument("--inference-steps expects integers like 16 or 0,4,16,64, got '\(text)'")
        }
        return t
      }
    }
    return LatentInferenceOptions(
      steps: steps, fastLearningRate: fastLr, initialization: posteriorInit, freshSamples: elboSamples, fits: fits)
  }
}

/// The Monte Carlo draws of a diffusion NELBO.
struct DiffusionBoundArguments: ParsableArguments {
  @Option(help: "Diffusion models: (t, mask) draws per NELBO (per block in zero-shot, per sequence in a few-shot loglikelihood), with its Monte Carlo standard error; default 1, the papers' protocol (no standard error).")
  var timeSamples: Int?
}

/// Reverse-process sampling of a diffusion model.
struct DiffusionSamplingArguments: ParsableArguments {
  @Option(help: "Diffusion models: reverse steps T of the prefix-conditioned ancestral sampler (the authors' sampling.steps default).")
  var steps: Int = 128

  @Flag(help: "Diffusion models: skip the final noise-removal argmax (positions still masked after T steps stay MASK and are dropped from the text).")
  var noNoiseRemoval = false

  @Option(help: "Diffusion models: the reverse-step rule: ddpm_cache (MDLM), analytic (Tweedie τ-leaping) or euler (SEDD); default: the family's (MDLM ddpm_cache; SEDD the checkpoint's sampling.predictor).")
  var predictor: String?

  var options: DiffusionSamplingOptions {
    DiffusionSamplingOptions(steps: steps, noiseRemoval: !noNoiseRemoval, predictor: predictor)
  }
}

extension BlockProtocol: ExpressibleByArgument {
  public init?(argument: String) {
    guard let preset = Self.presets.first(where: { $0.name == argument }) else { return nil }
    self = preset
  }

  public static var allValueStrings: [String] { names }
  public var defaultValueDescription: String { name }
}
