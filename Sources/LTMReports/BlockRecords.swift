import Foundation
import LTMMetrics

public enum AggregationError: Error, CustomStringConvertible, Equatable {
  case mixedFreshSamples([Int])
  case perplexity(String)

  public var description: String {
    switch self {
    case .mixedFreshSamples(let counts):
      return "blocks were re-estimated with different numbers of fresh samples (\(counts.map(String.init).joined(separator: ", ")))"
    case .perplexity(let message): return message
    }
  }
}

extension ResultEntry {
  /// A result computed from its blocks' records (see `setScores`); `keepBlocks` lists them in `per_block`.
  public init(
    model: String, task: String, split: String, protocolName: String, bound: String, headline: String, examples: Int,
    partialReasons: [String], wallSeconds: Double, inferenceSteps: Int?, scorerSettings: [String: String],
    records: [BlockRecord], keepBlocks: Bool
  ) throws {
    self.init(
      model: model, task: task, split: split, protocolName: protocolName, bound: bound, headline: headline, ppl: .nan,
      pplTokenWeighted: .nan, pplBlockMean: .nan, nllSum: .nan, scoredTokens: 0, blocks: 0, examples: examples,
      partialReasons: partialReasons, wallSeconds: wallSeconds, inferenceSteps: inferenceSteps,
      scorerSettings: scorerSettings, perBlock: keepBlocks ? records.sorted { $0.index < $1.index } : nil)
    try setScores(from: records)
  }

  /// Sets every number of the result from its blocks' records, accumulated in ascending block index:
  /// the perplexities, the sums and counts, the bound's parts and the fresh re-estimate.
  public mutating func setScores(from records: [BlockRecord]) throws {
    let ordered = records.sorted { $0.index < $1.index }
    var acc = PerplexityAccumulator()
    do {
      for r in ordered { try acc.add(blockNLL: r.nll, scoredTokens: r.tokens) }
      let summary = try acc.summary()
      let aggregation = PerplexityAggregation(rawValue: headline) ?? .tokenWeighted
      ppl = summary.ppl(aggregation)
      pplTokenWeighted = summary.pplTokenWeighted
      pplBlockMean = summary.pplBlockMean
      nllSum = summary.nllSum
      scoredTokens = summary.scoredTokens
      blocks = summary.blocks
      boundParts = Self.boundParts(ordered)
      freshBound = try Self.freshBound(ordered, aggregation: aggregation)
      let sources = Set(ordered.compactMap(\.computedWith))
      computedWith = sources.isEmpty ? nil : sources.sorted()
    } catch let error as PerplexityError {
      throw AggregationError.perplexity(error.description)
    }
  }

  /// Σ (NLL − KL) and Σ KL, when every block has a KL part.
  private static func boundParts(_ records: [BlockRecord]) -> BoundParts? {
    guard !records.isEmpty, records.allSatisfy({ $0.kl != nil }) else { return nil }
    var nll = 0.0, kl = 0.0
    for r in records {
      nll += r.nll - r.kl!
      kl += r.kl!
    }
    return BoundParts(nllSum: nll, klSum: kl)
  }

  /// Both aggregations of the fresh NELBO, and the standard error of its per-token NLL
  /// (√Σ variance / Σ tokens: blocks are independent), when every block has a fresh estimate.
  private static func freshBound(_ records: [BlockRecord], aggregation: PerplexityAggregation) throws -> FreshBound? {
    let fresh = records.compactMap(\.fresh)
    guard !records.isEmpty, fresh.count == records.count else { return nil }
    let samples = Set(fresh.map(\.samples))
    guard samples.count == 1 else { throw AggregationError.mixedFreshSamples(samples.sorted()) }
    var acc = PerplexityAccumulator()
    var nll = 0.0, kl = 0.0, variance = 0.0
    for (r, f) in zip(records, fresh) {
      try acc.add(blockNLL: f.nll + f.kl, scoredTokens: r.tokens)
      nll += f.nll
      kl += f.kl
      variance += f.variance
    }
    let s = try acc.summary()
    return FreshBound(
      ppl: s.ppl(aggregation), pplTokenWeighted: s.pplTokenWeighted, pplBlockMean: s.pplBlockMean, nllSum: nll,
      klSum: kl, samples: fresh[0].samples, stderrNLLPerToken: variance.squareRoot() / Double(s.scoredTokens))
  }
}

/// One shard of a run split over machines: blocks `index`, `index + count`, `index + 2·count`, … (0-based).
public struct ShardInfo: Codable, Sendable, Equatable {
  public var index: Int
  public var count: Int

  public init(index: Int, count: Int) {
    self.index = index
    self.count = count
  }

  /// Parses `i/n` with 0 ≤ i < n (0-based, as Slurm array and Kubernetes indexed-job indices usually are).
  public init(parsing text: String) throws {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1 else {
      throw ReportError.invalid("--shard expects i/n (e.g. 0/4), got '\(text)'")
    }
    guard (0..<n).contains(i) else {
      throw ReportError.invalid("--shard \(text): i is 0-based and must be in 0...\(n - 1)")
    }
    self.init(index: i, count: n)
  }

  public func contains(block: Int) -> Bool { block % count == index }

  /// "shard 1/4 (blocks 1, 5, 9, …)": why a shard's number is not the run's.
  public var partialReason: String {
    "shard \(index)/\(count) (0-based; blocks \(index), \(index + count), \(index + 2 * count), …)"
  }
}
