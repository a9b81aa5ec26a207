import Foundation

extension GPT2Model {
  /// Samples `newTokens` continuations of each prompt with the KV cache, all prompts as one batch (their lengths
  /// may differ). Row r draws from the stream seeded `seeds[r]`. A row that emits `stopToken` stops there (the
  /// token is kept); the others go on. Returns the generated tokens only, without the prompts.
  public func generate(
    prompts: [[Int32]], newTokens: Int, sampling: SamplingSettings, seeds: [UInt64], stopToken: Int32? = nil
  ) throws -> [[Int32]] {
    guard !prompts.isEmpty else { return [] }
    guard prompts.allSatisfy({ !$0.isEmpty }) else { throw ModelError.badInput("every prompt needs at least one token (e.g. BOS)") }
    guard seeds.count == prompts.count else { throw ModelError.badInput("\(seeds.count) seeds for \(prompts.count) prompts") }
    guard newTokens >= 0 else { throw ModelError.badInput("newTokens must be non-negative") }
    let longest = prompts.map(\.count).max()!
    guard longest + newTokens <= config.nPositions else {
      throw ModelError.badInput("prompt (\(longest)) + new tokens (\(newTokens)) exceed the context of \(config.nPositions)")
    }
    var sampler = try TokenSampler(settings: sampling, seeds: seeds)
    let cache = try makeCache(batch: prompts.count, capacity: Swift.max(1, longest + newTokens))
    let vocab = config.vocabSize
    return try sampler.decode(
      rows: prompts.count, vocab: vocab, newTokens: newTokens, stopToken: stopToken,
      firstLogits: extend(cache, tokens: prompts)) { try extend(cache, tokens: $0) }
  }
}
