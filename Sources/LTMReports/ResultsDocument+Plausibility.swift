import Foundation
import LTMMetrics

extension ResultsDocument {
  /// The first number in this document that cannot be true, as one phrase naming where it is, or nil. Every results
  /// file that `compare`, `merge`, `report`, `baseline` and `status` read goes through this (`load`), so a perplexity
  /// of −5 is never reported as "improved" and a shard whose block NLL is −10⁹ never merges into a perplexity of 0.
  ///
  /// What holds for every result ltm-bench writes: a perplexity is finite and ≥ 1 (exp of a mean NLL ≥ 0); an NLL sum,
  /// a KL and every block's NLL are finite and ≥ 0; token and block counts are positive; the token-weighted perplexity
  /// is exp(nll_sum / scored_tokens); per-block scores, when present, add up to the result's NLL sum and tokens.
  public func implausibility() -> String? {
    for (i, r) in results.enumerated() {
      if let problem = r.implausibility() { return "results[\(i)] (\(r.model) on \(r.task)): \(problem)" }
    }
    return nil
  }
}

extension ResultEntry {
  func implausibility() -> String? {
    for (name, value) in [("ppl", ppl), ("ppl_token_weighted", pplTokenWeighted), ("ppl_block_mean", pplBlockMean)]
    where !(value.isFinite && value >= 1) {
      return "\(name) \(value) is impossible (a perplexity is finite and at least 1)"
    }
    guard scoredTokens > 0, blocks > 0 else { return "\(scoredTokens) scored tokens in \(blocks) blocks (both must be positive)" }
    if let problem = Self.nonNegative(["nll_sum": nllSum, "bound_parts.nll_sum": boundParts?.nllSum, "bound_parts.kl_sum": boundParts?.klSum]) {
      return problem
    }
    if let t = tolerance, !(t.isFinite && t >= 0) { return "tolerance \(t) is impossible (a relative tolerance is at least 0)" }
    // exp(nll_sum / tokens), compared in log space: an edited perplexity (or NLL) no longer agrees with the other.
    let logTokenWeighted = nllSum / Double(scoredTokens)
    guard abs(Foundation.log(pplTokenWeighted) - logTokenWeighted) <= 1e-9 * max(1, logTokenWeighted) else {
      return "ppl_token_weighted \(pplTokenWeighted) is not exp(nll_sum / scored_tokens) = \(Foundation.exp(logTokenWeighted))"
    }
    return perBlock.flatMap(perBlockImplausibility)
  }

  private func perBlockImplausibility(_ records: [BlockRecord]) -> String? {
    var nll = 0.0, tokens = 0
    for b in records {
      if let problem = Self.nonNegative(["per_block[\(b.index)].nll": b.nll, "per_block[\(b.index)].kl": b.kl]) { return problem }
      guard b.tokens > 0 else { return "per_block[\(b.index)].tokens \(b.tokens) must be positive" }
      nll += b.nll
      tokens += b.tokens
    }
    guard tokens == scoredTokens, abs(nll - nllSum) <= 1e-9 * max(1, nllSum) else {
      return "per-block scores add up to \(nll) nats over \(tokens) tokens, but the result says \(nllSum) over \(scoredTokens)"
    }
    return nil
  }

  private static func nonNegative(_ values: KeyValuePairs<String, Double?>) -> String? {
    for case let (name, value?) in values where !(value.isFinite && value >= 0) {
      return "\(name) \(value) is impossible (it is finite and at least 0)"
    }
    return nil
  }
}
