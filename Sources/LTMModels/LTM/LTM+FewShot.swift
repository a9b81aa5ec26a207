import Foundation
import LTMTensor

/// LTM for few-shot evaluation, following the paper's GSM8K protocol (protocols doc §8) and the fast loop of §4.
///
/// Generation: for each of K = `settings.candidates` fits, z starts from `LTMPosteriorStart.official` keyed by
/// (seed, document, k), runs T AdamW steps (cosine lr from fast_lr to fast_lr/10) on `request.fitContext ?? prompt`
/// (the question text without "Answer: "), then the prompt is decoded greedily for `maxNewTokens` tokens with that z.
/// z is what the authors' fast loop returns and their script decodes with: z = μ_T + σ_T·ε with the *same* ε the fit
/// reused at every step (§4 step 6: `z_out = mu + eps·sigma`), not the mean μ_T. Under `deterministic` ε = 0, so z = μ.
///
/// Loglikelihoods: z is fitted on the context (once per distinct context of the call, so a document's choices share
/// it), then Σ log p(cont_i | ctx, cont_<i, z) comes from one forward of context + continuation at that z, with
/// `isGreedy` from the same forward. This is *not* log p(cont | ctx): the exact value integrates over the posterior
/// of z given ctx, and fixing z at one fitted sample is neither exact nor a bound in either direction (the KL is not
/// charged, and z was not fitted on the continuation). It is the conditional score the authors' few-shot QA code uses
/// (`evaluate_conditional`), labelled `ltm-conditional-at-fitted-z`; the descriptor keeps `bound == .upper` for the
/// family.
///
/// A request whose context is one token (an empty context, or a rolling window) has nothing to fit z on; it is scored
/// whole by the LTM's own bound instead: z fitted on context + continuation as the zero-shot protocol fits a block,
/// logprob = −NELBO = −(Σ CE over the continuation + KL), a lower bound on log p(continuation | context), labelled
/// `ltm-window-elbo`. Rolling windows are made with a one-token context each (`rollingContextTokens`) so a whole
/// document is scored this way.
final class LTMFewShot: FewShotLanguageModel {
  static let estimator = "ltm-conditional-at-fitted-z"
  static let windowEstimator = "ltm-window-elbo"
  var rollingContextTokens: Int? { 1 }
  /// The descriptor's context length already counts the last token (maxSeqLen inputs + 1): a request spans at most that.
  var requestTokenLimit: Int { model.args.maxSeqLen + 1 }
  let model: LTMModel
  /// Steps, lr and init of every fit (its seed is unused: each call's seed keys the fits).
  let fit: LTMScoringOptions

  init(model: LTMModel, latent: LatentInferenceOptions = .init()) throws {
    self.model = model
    fit = try model.options(
      steps: latent.singleSteps(command: "fewshot"), learningRate: latent.fastLearningRate,
      initialization: latent.initialization, freshSamples: 0)
  }

  var descriptor: ModelDescriptor { model.descriptor }
  var settingsSummary: [String: String] {
    ["inference_steps": String(fit.steps), "fast_lr": String(fit.learningRate), "posterior_init": fit.initialization.rawValue,
     "z": "mu_T + sigma_T * eps (the fit's eps, as the authors decode)", "decoding": "greedy per fit",
     "loglikelihood": Self.estimator]
  }

  var latentCount: Int { model.args.maxZLen * model.args.dim }

  /// The key of fit `salt` of a document: generation fit k uses salt k, a loglikelihood context 2⁶³ ⊕ its content key.
  static func fitKey(document: Int, salt: UInt64) -> UInt64 {
    LTMGaussian.mix(UInt64(bitPattern: Int64(document)) ^ LTMGaussian.mix(salt))
  }

  func start(seed: UInt64, document: Int, salt: UInt64) -> LTMPosteriorStart {
    switch fit.initialization {
    case .official: return .official(count: latentCount, seed: seed, block: Self.fitKey(document: document, salt: salt))
    case .deterministic: return .deterministic(count: latentCount)
    }
  }

  static func contextSalt(_ context: [Int32]) -> UInt64 { (1 << 63) ^ UInt64(bitPattern: Int64(LTMModel.contentKey(context))) }

  /// The fast loop on `blocks` (equal lengths) from `starts`; returns z = μ_T + ε·σ_T per block, computed as the fast
  /// loop computes it, so it is bitwise the z of the fit's final forward.
  func fitLatents(blocks: [[Int32]], starts: [LTMPosteriorStart]) throws -> [[Float]] {
    guard let n = blocks.first?.count, n >= 2 else {
      throw ModelError.badInput(
        "the LTM fits z on the context, which needs at least 2 tokens (got \(blocks.first?.count ?? 0)): an empty context (a rolling task's first window) leaves nothing to fit; score LTM documents with zero-shot, its NELBO bound")
    }
    guard n - 1 <= model.args.maxSeqLen else {
      throw ModelError.badInput("the fit context has \(n) tokens; the LTM takes at most \(model.args.maxSeqLen + 1)")
    }
    let posteriors = try model.fitPosterior(blocks: blocks, starts: starts, steps: fit.steps, learningRate: fit.learningRate)
    return zip(posteriors, starts).map { p, s in
      (0..<latentCount).map { i in p.mu[i] + s.eps[i] * Foundation.exp(0.5 * p.logvar[i]) }
    }
  }

  func loglikelihoods(_ requests: [LoglikelihoodRequest], seed: UInt64, document: Int) throws -> [ContinuationScore] {
    try FewShotChecks.validate(requests)
    var latents: [[Int32]: [Float]] = [:]
    return try requests.map { request in
      if request.context.count == 1 { return try windowBound(request, seed: seed) }
      let z: [Float]
      if let known = latents[request.context] {
        z = known
      } else {
        z = try fitLatents(
          blocks: [request.context], starts: [start(seed: seed, document: document, salt: Self.contextSalt(request.context))])[0]
        latents[request.context] = z
      }
      let (logprob, greedy) = try continuationScore(context: request.context, continuation: request.continuation, z: z)
      return ContinuationScore(logprob: logprob, isGreedy: greedy, tokenCount: request.continuation.count, estimator: Self.estimator)
    }
  }

  /// −NELBO of context + continuation with z fitted on it (the zero-shot fit, keyed by the window's content): every
  /// continuation token is predicted, the one context token is not.
  func windowBound(_ request: LoglikelihoodRequest, seed: UInt64) throws -> ContinuationScore {
    let block = request.context + request.continuation
    guard block.count - 1 <= model.args.maxSeqLen else {
      throw ModelError.badInput("a window of \(block.count) tokens; the LTM takes at most \(model.args.maxSeqLen + 1)")
    }
    var options = fit
    options.seed = seed
    let posterior = try model.evaluate(blocks: [block], blockIndices: [LTMModel.contentKey(block)], options: options)[0]
    return ContinuationScore(
      logprob: -posterior.nelbo, isGreedy: nil, tokenCount: request.continuation.count, estimator: Self.windowEstimator,
      isLowerBound: true)
  }

  /// Σ log p(cont_i | ctx, cont_<i, z) and whether every continuation token is the argmax, from one forward of
  /// ctx + cont at z.
  func continuationScore(context: [Int32], continuation: [Int32], z: [Float]) throws -> (Double, Bool) {
    let block = context + continuation
    let s = try model.inputLength([block])
    try model.checkLatents(z, blocks: 1)
    let ws = LTMWorkspace(model: model, blocks: [block], length: s, saving: false)
    model.prepare(ws)
    z.withUnsafeBufferPointer { model.forward(ws, z: $0.baseAddress!, dz: nil) }
    let rows = continuation.enumerated().map { (hidden: context.count - 1 + $0, target: $1) }
    let scores = TiedOutputHead.scoreRows(
      hidden: ws.normed.pointer, rows: rows, width: model.args.dim, embedding: model.embedding.pointer,
      vocabSize: model.args.vocabSize)
    return (scores.reduce(0) { $0 + $1.logprob }, scores.allSatisfy(\.isArgmax))
  }

  func generate(
    _ request: GenerationRequest, settings: FewShotGenerationSettings, seed: UInt64, document: Int
  ) throws -> [[Int32]] {
    try FewShotChecks.validate(request, settings)
    guard settings.strategy == .greedy else {
      throw ModelError.badInput(
        "the LTM protocol decodes greedily once per posterior fit (pass@K over K fits); strategy \(settings.strategy.rawValue) is not offered")
    }
    let latents = try generationLatents(
      context: request.fitContext ?? request.prompt, fits: settings.candidates, seed: seed, document: document)
    return try decodeGreedy(prompt: request.prompt, latents: latents, newTokens: settings.maxNewTokens, stopTokens: Set(settings.stopTokens))
  }

  /// The K independent fits of a generation request, fit k started from the key (seed, document, k). Each fit runs
  /// as its own batch: batching changes GEMM shapes and so the last bits, and fit k must not depend on K (a
  /// `--fits 1` run decodes the same first candidate as `--fits 5`).
  func generationLatents(context: [Int32], fits k: Int, seed: UInt64, document: Int) throws -> [[Float]] {
    try (0..<k).map { try fitLatents(blocks: [context], starts: [start(seed: seed, document: document, salt: UInt64($0))])[0] }
  }

  /// Greedy decoding of `prompt` once per latent. With the KV cache while prompt + new tokens fit the context;
  /// beyond it, as the authors' `generate` does: each step runs the full forward on the last max_seq_len tokens
  /// (positions restart at 0 in the cropped window), which a cache cannot reproduce.
  func decodeGreedy(prompt: [Int32], latents: [[Float]], newTokens: Int, stopTokens: Set<Int32>) throws -> [[Int32]] {
    let v = model.args.vocabSize, limit = model.args.maxSeqLen
    if prompt.count + newTokens - 1 <= limit {
      var sampler = try TokenSampler(settings: .greedy, seeds: [UInt64](repeating: 0, count: latents.count))
      let cache = try model.makeCache(latents: latents)
      return try sampler.decode(
        rows: latents.count, vocab: v, newTokens: newTokens, stopTokens: stopTokens,
        firstLogits: model.extend(cache, tokens: [[Int32]](repeating: prompt, count: latents.count))
      ) { try model.extend(cache, tokens: $0) }
    }
    return try latents.map { z in
      var sequence = prompt, out: [Int32] = []
      for _ in 0..<newTokens {
        let inputs = Array(sequence.suffix(limit))
        let logits = try model.logits(inputs: inputs, z: z)
        let next = logits.withUnsafeBufferPointer {
          Int32(TiedOutputHead.argmax($0.baseAddress! + (inputs.count - 1) * v, count: v))
        }
        out.append(next)
        sequence.append(next)
        if stopTokens.contains(next) { break }
      }
      return out
    }
  }
}
