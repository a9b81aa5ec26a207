import Foundation

/// How per-block NLLs become one perplexity.
public enum PerplexityAggregation: String, Sendable, Codable {
  /// exp(Σ_blocks NLL / Σ_blocks scored tokens): the MDLM paper's headline (torchmetrics MeanMetric).
  case tokenWeighted = "token_weighted"
  /// mean over blocks of exp(block NLL / block scored tokens): the LTM paper's headline (`np.mean(ppl_list)`).
  case blockMean = "block_mean"
}

/// Both aggregations of one model on one task, with the counts they were computed from.
public struct PerplexitySummary: Sendable, Codable, Equatable {
  public var nllSum: Double
  public var scoredTokens: Int
  public var blocks: Int
  public var pplTokenWeighted: Double
  public var pplBlockMean: Double

  public func ppl(_ aggregation: PerplexityAggregation) -> Double {
    aggregation == .tokenWeighted ? pplTokenWeighted : pplBlockMean
  }
}

public enum PerplexityError: Error, CustomStringConvertible, Equatable {
  case noBlocks
  case noScoredTokens(block: Int)
  case nonFinite(block: Int, nll: Double)

  public var description: String {
    switch self {
    case .noBlocks: return "no blocks were scored: perplexity over nothing is undefined"
    case .noScoredTokens(let b): return "block \(b) has no scored tokens"
    case .nonFinite(let b, let nll): return "block \(b) has a non-finite NLL sum (\(nll))"
    }
  }
}

/// Accumulates per-block (NLL sum, scored tokens) pairs in Double and produces both aggregations.
/// Refuses to summarise zero blocks or non-finite values rather than returning NaN.
public struct PerplexityAccumulator: Sendable {
  public private(set) var nllSum: Double = 0
  public private(set) var scoredTokens: Int = 0
  public private(set) var blocks: Int = 0
  private var blockPPLSum: Double = 0

  public init() {}

  public mutating func add(blockNLL: Double, scoredTokens count: Int) throws {
    guard count > 0 else { throw PerplexityError.noScoredTokens(block: blocks) }
    guard blockNLL.isFinite else { throw PerplexityError.nonFinite(block: blocks, nll: blockNLL) }
    nllSum += blockNLL
    scoredTokens += count
    blockPPLSum += exp(blockNLL / Double(count))
    blocks += 1
  }

  public func summary() throws -> PerplexitySummary {
    guard blocks > 0 else { throw PerplexityError.noBlocks }
    return PerplexitySummary(
      nllSum: nllSum, scoredTokens: scoredTokens, blocks: blocks,
      pplTokenWeighted: exp(nllSum / Double(scoredTokens)),
      pplBlockMean: blockPPLSum / Double(blocks))
  }
}
