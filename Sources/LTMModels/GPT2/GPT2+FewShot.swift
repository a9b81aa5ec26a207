import Foundation
import LTMTensor

/// GPT-2 for few-shot evaluation: exact loglikelihoods (descriptor.bound `.exact`), greedy decoding and Hugging Face
/// beam search, all on the harness's token ids.
final class GPT2FewShot: FewShotLanguageModel {
  let model: GPT2Model
  init(model: GPT2Model) { self.model = model }

  var descriptor: ModelDescriptor { model.descriptor }
  var settingsSummary: [String: String] { ["loglikelihood": "exact"] }

  /// log p(cont | ctx) = Σ_i log softmax(h_{i−1} Eᵀ)[cont_i] over the continuation positions, with `isGreedy` = every
  /// continuation token is the argmax at its position (lm-eval's `is_greedy`).
  ///
  /// All requests of the call run as one batch: each row is ctx + cont without its last token, right-padded with
  /// token 0 to the longest row. Attention is causal, so padding after a row's last position cannot change it.
  func loglikelihoods(_ requests: [LoglikelihoodRequest], seed: UInt64, document: Int) throws -> [ContinuationScore] {
    try FewShotChecks.validate(requests)
    guard !requests.isEmpty else { return [] }
    let inputs = requests.map { Array(($0.context + $0.continuation).dropLast()) }
    let width = inputs.map(\.count).max()!
    guard width <= model.config.nPositions else {
      throw ModelError.badInput("context + continuation (\(width + 1) tokens) exceed GPT-2's context of \(model.config.nPositions) + 1")
    }
    let (h, _) = try model.hiddenStates(inputs.map { $0 + [Int32](repeating: 0, count: width - $0.count) })
    // The hidden rows that predict continuation tokens, gathered so the head runs once over all of them.
    var rows: [(hidden: Int, target: Int32)] = []
    for (r, request) in requests.enumerated() {
      for (i, t) in request.continuation.enumerated() { rows.append((r * width + request.context.count - 1 + i, t)) }
    }
    let scores = TiedOutputHead.scoreRows(
      hidden: h.pointer, rows: rows, width: model.config.nEmbd, embedding: model.tokenEmbedding.pointer,
      vocabSize: model.config.vocabSize)
    var out: [ContinuationScore] = []
    var next = 0
    for request in requests {
      let mine = scores[next..<(next + request.continuation.count)]
      next += request.continuation.count
      out.append(ContinuationScore(
        logprob: mine.reduce(0) { $0 + $1.logprob }, isGreedy: mine.allSatisfy(\.isArgmax),
        tokenCount: request.continuation.count, estimator: "exact"))
    }
    return out
  }

  /// Greedy (one candidate) or beam search (`settings.candidates` of `settings.beams`, best first), with the KV cache.
  func generate(
    _ request: GenerationRequest, settings: FewShotGenerationSettings, seed: UInt64, document: Int
  ) throws -> [[Int32]] {
    try FewShotChecks.validate(request, settings)
    guard request.prompt.count + settings.maxNewTokens <= model.config.nPositions else {
      throw ModelError.badInput(
        "prompt (\(request.prompt.count)) + max_new_tokens (\(settings.maxNewTokens)) exceed GPT-2's context of \(model.config.nPositions)")
    }
    switch settings.strategy {
    case .greedy:
      guard settings.candidates == 1 else {
        throw ModelError.badInput("greedy decoding yields one candidate, \(settings.candidates) were asked (use beam search)")
      }
      return [try greedy(prompt: request.prompt, newTokens: settings.maxNewTokens, stopTokens: Set(settings.stopTokens))]
    case .beam:
      return try model.beamSearch(
        prompt: request.prompt, beams: settings.beams, returned: settings.candidates, maxNewTokens: settings.maxNewTokens,
        stopTokens: settings.stopTokens
      ).map(\.tokens)
    case .sample:
      throw ModelError.badInput("GPT-2 few-shot generation is greedy or beam search; sampling is not offered")
    }
  }

  func greedy(prompt: [Int32], newTokens: Int, stopTokens: Set<Int32>) throws -> [Int32] {
    var sampler = try TokenSampler(settings: .greedy, seeds: [0])
    let cache = try model.makeCache(batch: 1, capacity: prompt.count + newTokens)
    return try sampler.decode(
      rows: 1, vocab: model.config.vocabSize, newTokens: newTokens, stopTokens: stopTokens,
      firstLogits: model.extend(cache, tokens: [prompt])) { try model.extend(cache, tokens: $0) }[0]
  }
}
