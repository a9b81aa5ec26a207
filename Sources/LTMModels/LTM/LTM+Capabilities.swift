import Foundation
import LTMMetrics

extension LTMModel: ZeroShotScoring, FewShotCapable, ContinuationGenerating {
  /// One variant per inference-step count (`--inference-steps 0,4,16`), each its own fit from the same start; the
  /// record is the paper's bound (Σ CE at z = μ + σ·ε with the fitted ε, plus KL(q‖N(0, I))) and the fresh-ε bound.
  public func scoringVariants(_ context: ZeroShotContext) throws -> [ScoringVariant] {
    let latent = context.options.latent
    let steps: [Int?] = latent.steps ?? [nil]
    return try steps.map { t in
      let o = try options(
        steps: t, learningRate: latent.fastLearningRate, initialization: latent.initialization, seed: context.seed,
        freshSamples: latent.resolvedFreshSamples)
      let settings = ScorerSettings(inferenceSteps: o.steps, values: [
        "fast_lr": String(o.learningRate), "posterior_init": o.initialization.rawValue,
        "elbo_samples": String(o.freshSamples), "kl_weight": "1",
      ])
      return ScoringVariant(settings: settings) { [self] blocks, indices in
        try zip(indices, evaluate(blocks: blocks, blockIndices: indices, options: o)).map { i, p in
          let fresh = p.fresh.map { f in
            FreshBlockEstimate(nll: f.nllMean, kl: f.kl, samples: f.samples, variance: pow(f.nllStandardError ?? 0, 2))
          }
          return BlockRecord(index: i, nll: p.nelbo, tokens: p.scoredTokens, kl: p.kl, fresh: fresh)
        }
      }
    }
  }

  public func fewShotModel(options: ModelRunOptions) throws -> FewShotLanguageModel {
    try LTMFewShot(model: self, latent: options.latent)
  }

  public var promptBOS: Int32? { Self.beginOfTextID }

  /// q(z | BOS + prefix) fitted with the fast loop (checkpoint num_steps / fast_lr unless given), then
  /// z = μ + σ·ε and ancestral sampling of the continuation.
  public func generateContinuations(prefixes: [[Int32]], request: ContinuationRequest) throws -> [[[Int32]]] {
    let latent = request.options.latent
    let fit = try options(
      steps: latent.singleSteps(command: "mauve"), learningRate: latent.fastLearningRate,
      initialization: latent.initialization, seed: request.seed, freshSamples: 0)
    return try generateConditional(
      prefixes: prefixes, samplesPerPrefix: request.samplesPerPrompt, newTokens: request.newTokens,
      sampling: request.sampling, fit: fit, seed: request.seed)
  }
}
