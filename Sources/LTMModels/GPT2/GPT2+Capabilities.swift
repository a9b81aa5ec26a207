import Foundation

extension GPT2Model: FewShotCapable, ContinuationGenerating, TextFeaturizing {
  public func fewShotModel(options: ModelRunOptions) throws -> FewShotLanguageModel { GPT2FewShot(model: self) }

  public var promptBOS: Int32? { nil }

  /// KV-cached ancestral sampling, 32 rows per batch.
  public func generateContinuations(prefixes: [[Int32]], request: ContinuationRequest) throws -> [[[Int32]]] {
    try request.inBatches(prefixes: prefixes, rowsPerBatch: 32) { prompts, seeds in
      try generate(prompts: prompts, newTokens: request.newTokens, sampling: request.sampling, seeds: seeds)
    }
  }
}
