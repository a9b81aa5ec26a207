import Foundation
import LTMMetrics

// What a family can do beyond `BlockScoringModel`, as small protocols its model type adopts in the family's own
// folder. The harness works only through these (and `ModelFamily`): it never asks for a concrete model type.

/// One way of scoring a model in zero-shot: its settings (which label the result row and key the block cache) and the
/// function that scores a batch of blocks. GPT-2 has one variant; an LTM has one per inference-step count of a sweep,
/// because the cosine learning-rate schedule depends on T, so every T is its own fit (from the same μ0, σ0, ε).
public struct ScoringVariant {
  public var settings: ScorerSettings
  /// Scores `blocks` (with their run-wide block indices, which seed stochastic scorers so a block's number does not
  /// depend on batching, sharding or `--limit-blocks`) into cacheable records.
  public var score: (_ blocks: [[Int32]], _ indices: [Int]) throws -> [BlockRecord]

  public init(settings: ScorerSettings, score: @escaping (_ blocks: [[Int32]], _ indices: [Int]) throws -> [BlockRecord]) {
    self.settings = settings
    self.score = score
  }

  /// A family without scoring settings: `score(blocks:)` as it is, the KL part (if any) recorded.
  public static func plain(_ model: BlockScoringModel) -> ScoringVariant {
    ScoringVariant(settings: .none) { blocks, indices in
      try zip(indices, model.score(blocks: blocks)).map { i, s in
        BlockRecord(index: i, nll: s.nllSum, tokens: s.scoredTokens, kl: s.extraNats != 0 ? s.extraNats : nil)
      }
    }
  }
}

/// What a zero-shot run tells every model beyond the blocks.
public struct ZeroShotContext: Sendable {
  public var options: ModelRunOptions
  /// Seed of stochastic scorers (`--seed`); each block's draws are keyed by (seed, block index).
  public var seed: UInt64
  /// The block protocol starts blocks with a BOS the model must not be charged for (diffusion models skip it).
  public var ignoreBOS: Bool

  public init(options: ModelRunOptions, seed: UInt64, ignoreBOS: Bool) {
    self.options = options
    self.seed = seed
    self.ignoreBOS = ignoreBOS
  }
}

/// Zero-shot scoring with the family's own variants and settings (LTM's step sweep, MDLM's time draws). A model that
/// does not adopt it is scored by `ScoringVariant.plain`.
public protocol ZeroShotScoring: BlockScoringModel {
  func scoringVariants(_ context: ZeroShotContext) throws -> [ScoringVariant]
}

extension BlockScoringModel {
  /// The family's zero-shot variants, or the plain one.
  public func zeroShotVariants(_ context: ZeroShotContext) throws -> [ScoringVariant] {
    try (self as? ZeroShotScoring)?.scoringVariants(context) ?? [.plain(self)]
  }
}

/// Few-shot evaluation: the family's adapter (`FewShotLanguageModel`), with the run's options mapped onto it.
public protocol FewShotCapable: BlockScoringModel {
  func fewShotModel(options: ModelRunOptions) throws -> FewShotLanguageModel
}

/// What `ltm-bench mauve` asks of a generating model.
public struct ContinuationRequest: Sendable {
  public var samplesPerPrompt: Int
  public var newTokens: Int
  /// Token sampling of autoregressive decoders (temperature, top-k, top-p, greedy).
  public var sampling: SamplingSettings
  /// Generation seed (token draws, fit starts and ε).
  public var seed: UInt64
  public var options: ModelRunOptions

  public init(samplesPerPrompt: Int, newTokens: Int, sampling: SamplingSettings, seed: UInt64, options: ModelRunOptions) {
    self.samplesPerPrompt = samplesPerPrompt
    self.newTokens = newTokens
    self.sampling = sampling
    self.seed = seed
    self.options = options
  }

  /// [prompt][sample] generations, `samplesPerPrompt` rows per prompt and about `rowsPerBatch` rows per call of
  /// `generate(rows, seeds)`; row k of prompt i draws from stream i·samples + k of `seed`, whatever the batching.
  public func inBatches(
    prefixes: [[Int32]], rowsPerBatch: Int, generate: (_ rows: [[Int32]], _ seeds: [UInt64]) throws -> [[Int32]]
  ) rethrows -> [[[Int32]]] {
    let k = samplesPerPrompt
    var out: [[[Int32]]] = []
    let batch = Swift.max(1, rowsPerBatch / k)
    for start in stride(from: 0, to: prefixes.count, by: batch) {
      let end = Swift.min(prefixes.count, start + batch)
      let rows = (start..<end).flatMap { p in Array(repeating: prefixes[p], count: k) }
      let generated = try generate(rows, TokenSampler.rowSeeds(base: seed, first: start * k, count: rows.count))
      for p in 0..<(end - start) { out.append(Array(generated[(p * k)..<((p + 1) * k)])) }
    }
    return out
  }
}

/// Prefix-conditioned generation for `mauve`: `samplesPerPrompt` continuations of `newTokens` tokens per prefix.
public protocol ContinuationGenerating: BlockScoringModel {
  /// The token the model puts before each prompt (recorded in mauve.json); nil: none.
  var promptBOS: Int32? { get }
  /// [prompt][sample] continuations, generated tokens only; ids the tokenizer cannot write (a BOS) may appear.
  func generateContinuations(prefixes: [[Int32]], request: ContinuationRequest) throws -> [[[Int32]]]
  /// How `request` is sampled, in the family's words, for the report (a diffusion sampler's rule and steps); nil
  /// when the token sampling settings say it all.
  func samplerSummary(_ request: ContinuationRequest) throws -> String?
}

extension ContinuationGenerating {
  public func samplerSummary(_ request: ContinuationRequest) throws -> String? { nil }
}

/// Text embeddings for MAUVE (`--featurizer`).
public protocol TextFeaturizing: BlockScoringModel {
  func features(texts: [[Int32]], maxLength: Int, batch: Int) throws -> TextFeatures
}
